# Makes real, valid PNG files (8-bit RGB) with the standard library only,
# for the OpenAI stand-in to return and for tests to upload; also reads
# back and fully checks a PNG (chunk CRCs, IHDR, inflated IDAT length).
# Does not do interlacing, palettes, alpha, JPEG or WebP.
import random
import struct
import zlib

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _chunk(kind, data):
    body = kind + data
    return (struct.pack(">I", len(data)) + body
            + struct.pack(">I", zlib.crc32(body) & 0xFFFFFFFF))


def _row_palette(y, height):
    """256-entry translation table for row y.

    Row templates hold a "shade" byte per channel: 0-84 red, 85-169 green,
    170-254 blue.  Translating a template through this table yields the
    pixels of a night sky that darkens from violet at the top to black at
    the bottom, so one bytes.translate() makes a whole row.
    """
    t = y / max(1, height - 1)
    top = (70, 20, 95)
    bottom = (6, 2, 12)
    sky = [int(top[c] + (bottom[c] - top[c]) * t) for c in range(3)]
    table = bytearray(256)
    for i in range(256):
        c = min(2, i // 85)
        shade = min(84, i - c * 85) / 84.0   # 0..1 across the row
        table[i] = max(0, min(255, int(sky[c] * (0.6 + 0.4 * shade))))
    return bytes(table)


def _row_template(width):
    # Brighter towards the middle of the picture: a crude vignette.
    tpl = bytearray(width * 3)
    for x in range(width):
        d = abs(x - width / 2) / (width / 2)
        shade = int(84 * (1 - d * d))
        tpl[3 * x] = shade
        tpl[3 * x + 1] = 85 + shade
        tpl[3 * x + 2] = 170 + shade
    return bytes(tpl)


def _moon_span(y, width, height):
    """Columns [x0, x1) covered by an orange moon in row y, or None."""
    r = min(width, height) / 5
    cx, cy = width * 0.7, height * 0.3
    dy = y + 0.5 - cy
    if abs(dy) >= r:
        return None
    half = (r * r - dy * dy) ** 0.5
    x0 = max(0, int(cx - half))
    x1 = min(width, int(cx + half))
    return (x0, x1) if x1 > x0 else None


def _base_rows(width, height):
    tpl = _row_template(width)
    moon = bytes((235, 120, 20))
    rows = []
    for y in range(height):
        row = bytearray(tpl.translate(_row_palette(y, height)))
        span = _moon_span(y, width, height)
        if span:
            row[3 * span[0]:3 * span[1]] = moon * (span[1] - span[0])
        rows.append(row)
    return rows


def _raw(rows, noisy, rng):
    """Scanlines with filter type 0; the first `noisy` rows (spread evenly
    over the picture) get random low bits, so they barely compress."""
    height = len(rows)
    out = bytearray()
    picked = set()
    # Six random low bits per byte: the picture stays visible under the
    # grain, but deflate can save little more than a quarter of the row.
    low_bits = {len(r): int.from_bytes(b"\x3f" * len(r), "big")
                for r in rows[:1]}
    if noisy > 0:
        step = height / noisy
        picked = {int(i * step) for i in range(noisy)}
    for y, row in enumerate(rows):
        out.append(0)
        if y in picked:
            n = len(row)
            noise = int.from_bytes(rng.randbytes(n), "big") & low_bits[n]
            out += (int.from_bytes(row, "big") ^ noise).to_bytes(n, "big")
        else:
            out += row
    return bytes(out)


_TEXT_TABLE = bytes(b"boo~"[i % 4] for i in range(256))


def _assemble(width, height, idat, pad=0, rng=None):
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    parts = [PNG_SIGNATURE, _chunk(b"IHDR", ihdr)]
    if pad > 0:
        # tEXt "Comment" chunk: 12 bytes of framing + keyword + NUL + text.
        text_len = pad - 12 - len(b"Comment\0")
        text = rng.randbytes(text_len).translate(_TEXT_TABLE)
        parts.append(_chunk(b"tEXt", b"Comment\0" + text))
    parts += [_chunk(b"IDAT", idat), _chunk(b"IEND", b"")]
    return b"".join(parts)


PAD_MIN = 12 + len(b"Comment\0") + 1


def make_png(width, height, target_bytes=None, seed=1):
    """Returns a PNG of width x height.  With target_bytes, the file is
    exactly that long: rows of random noise are added until the size is
    near the target, then a tEXt chunk pads the rest.  Raises ValueError
    for bad dimensions or a target smaller than the plain picture."""
    if not (isinstance(width, int) and isinstance(height, int)):
        raise ValueError("width and height must be integers")
    if not (1 <= width <= 8192 and 1 <= height <= 8192):
        raise ValueError("width and height must be 1..8192")
    rng = random.Random(seed)
    rows = _base_rows(width, height)
    if target_bytes is None:
        return _assemble(width, height, zlib.compress(_raw(rows, 0, rng), 6))
    return _make_sized(width, height, rows, target_bytes, seed)


def _make_sized(width, height, rows, target, seed):
    def build(noisy):
        return zlib.compress(_raw(rows, noisy, random.Random(seed)), 1)

    fixed = len(_assemble(width, height, b""))
    smooth = build(0)
    if fixed + len(smooth) + PAD_MIN > target:
        raise ValueError("target_bytes %d is below the smallest %dx%d PNG"
                         " this makes (%d)" % (target, width, height,
                                               fixed + len(smooth)
                                               + PAD_MIN))
    full = build(height)
    idat = smooth
    if fixed + len(full) + PAD_MIN <= target:
        idat = full
    else:
        # Size grows about linearly with the number of noisy rows.
        per_row = (len(full) - len(smooth)) / height
        noisy = int((target - fixed - PAD_MIN - len(smooth)) / per_row)
        while noisy > 0:
            idat = build(noisy)
            if fixed + len(idat) + PAD_MIN <= target:
                break
            noisy -= max(1, height // 50)
        if noisy <= 0:
            idat = smooth
    pad = target - fixed - len(idat)
    out = _assemble(width, height, idat, pad, random.Random(seed))
    assert len(out) == target
    return out


def png_info(data):
    """Checks a whole PNG: signature, every chunk's CRC, IHDR first, IEND
    last, IDAT inflating to exactly the expected scanline bytes.  Returns
    a dict (width, height, bit_depth, color_type); raises ValueError with
    the reason otherwise.  Handles non-interlaced 8-bit images."""
    if not data.startswith(PNG_SIGNATURE):
        raise ValueError("not a PNG signature")
    pos, chunks = len(PNG_SIGNATURE), []
    while pos < len(data):
        if pos + 12 > len(data):
            raise ValueError("truncated chunk header at %d" % pos)
        (n,) = struct.unpack(">I", data[pos:pos + 4])
        kind = data[pos + 4:pos + 8]
        body = data[pos + 8:pos + 8 + n]
        if len(body) != n or pos + 12 + n > len(data):
            raise ValueError("truncated %r chunk" % kind)
        (crc,) = struct.unpack(">I", data[pos + 8 + n:pos + 12 + n])
        if zlib.crc32(kind + body) & 0xFFFFFFFF != crc:
            raise ValueError("bad CRC in %r chunk" % kind)
        chunks.append((kind, body))
        pos += 12 + n
    if not chunks or chunks[0][0] != b"IHDR" or len(chunks[0][1]) != 13:
        raise ValueError("IHDR is not the first chunk")
    if chunks[-1][0] != b"IEND":
        raise ValueError("IEND is not the last chunk")
    w, h, depth, ctype, _, _, interlace = struct.unpack(">IIBBBBB",
                                                         chunks[0][1])
    channels = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}.get(ctype)
    if channels is None or depth != 8 or interlace != 0:
        raise ValueError("unsupported PNG: depth %d color type %d"
                         " interlace %d" % (depth, ctype, interlace))
    if w == 0 or h == 0:
        raise ValueError("zero width or height")
    idat = b"".join(b for k, b in chunks if k == b"IDAT")
    try:
        raw = zlib.decompress(idat)
    except zlib.error as e:
        raise ValueError("IDAT does not inflate: %s" % e) from None
    if len(raw) != h * (1 + w * channels):
        raise ValueError("IDAT holds %d bytes, %dx%d needs %d"
                         % (len(raw), w, h, h * (1 + w * channels)))
    if any(raw[y * (1 + w * channels)] > 4 for y in range(h)):
        raise ValueError("bad scanline filter type")
    return {"width": w, "height": h, "bit_depth": depth, "color_type": ctype}


def with_comment(png, text):
    """Returns png with a tEXt "Comment" chunk (Latin-1 text) inserted
    right after IHDR; the chunk adds comment_chunk_len(text) bytes."""
    if not png.startswith(PNG_SIGNATURE):
        raise ValueError("not a PNG")
    at = len(PNG_SIGNATURE) + 12 + 13
    chunk = _chunk(b"tEXt", b"Comment\0" + text.encode("latin-1"))
    return png[:at] + chunk + png[at:]


def comment_chunk_len(text):
    return 12 + len(b"Comment\0") + len(text.encode("latin-1"))


if __name__ == "__main__":
    import sys
    w, h = int(sys.argv[1]), int(sys.argv[2])
    size = int(sys.argv[3]) if len(sys.argv) > 3 else None
    sys.stdout.buffer.write(make_png(w, h, size))
