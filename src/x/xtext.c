/*
 * xtext.c: X's weighted length of post text (twitter-text config v3): code
 * point weights, 23 per URL, 2 per emoji sequence, 280 at most.  It does
 * not normalise Unicode (no ICU here), and it finds URLs and emoji with
 * small hand-written scanners instead of twitter-text's generated regular
 * expressions; the approximations are spelled out where they are made.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/mem.h"
#include "x/xtext.h"

#define URL_MAX_LEN 4096 /* twitter-text does not count longer URLs */
#define LABEL_MAX_LEN 63 /* RFC 1035, after punycode for non-ASCII */

struct text {
    uint32_t *cp;
    size_t n;
};

/* Dot-separated labels found by scan_host(). */
struct host {
    size_t end;
    size_t labels;
    size_t last, last_end; /* the top-level domain */
    size_t prev, prev_end; /* the label before it */
};

/*
 * Country-code TLDs, from twitter-text's conformance/tld_lib.yml ("country",
 * ASCII entries), space-separated.
 */
static const char cc_tlds[] =
    " ac ad ae af ag ai al am an ao aq ar as at au aw ax az ba bb bd be bf"
    " bg bh bi bj bl bm bn bo bq br bs bt bv bw by bz ca cc cd cf cg ch ci"
    " ck cl cm cn co cr cu cv cw cx cy cz de dj dk dm do dz ec ee eg eh er"
    " es et eu fi fj fk fm fo fr ga gb gd ge gf gg gh gi gl gm gn gp gq gr"
    " gs gt gu gw gy hk hm hn hr ht hu id ie il im in io iq ir is it je jm"
    " jo jp ke kg kh ki km kn kp kr kw ky kz la lb lc li lk lr ls lt lu lv"
    " ly ma mc md me mf mg mh mk ml mm mn mo mp mq mr ms mt mu mv mw mx my"
    " mz na nc ne nf ng ni nl no np nr nu nz om pa pe pf pg ph pk pl pm pn"
    " pr ps pt pw py qa re ro rs ru rw sa sb sc sd se sg sh si sj sk sl sm"
    " sn so sr ss st su sv sx sy sz tc td tf tg th tj tk tl tm tn to tp tr"
    " tt tv tw tz ua ug uk um us uy uz va vc ve vg vi vn vu wf ws ye yt za"
    " zm zw ";

/*
 * XXX: twitter-text knows about 1,300 generic TLDs; this is a common
 * subset, so a bare domain such as "spooky.horse" (no http://) counts
 * character by character here while X counts it as a 23-character link.
 * URLs written with http:// or https:// do not depend on this list.
 */
static const char generic_tlds[] =
    " academy aero agency app art asia biz blog cafe cat city click cloud"
    " club com coop design dev edu email events fun games gov guru info int"
    " io jobs life link live media mil mobi museum name net news online org"
    " page photo photos pro shop site social space store studio tech tel"
    " today top travel tv video wiki world xyz zone ";

/* Decode strictly (no overlongs, surrogates or values past U+10FFFF);
 * -1 on bad UTF-8, with *bad_at the offset of the offending byte. */
static int
utf8_decode(const char *s, struct text *t, size_t *bad_at)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t len = strlen(s), i = 0, k;
    uint32_t c, min;

    t->cp = mem_alloc((len + 1) * sizeof(*t->cp));
    t->n = 0;
    while (i < len) {
        c = p[i];
        if (c < 0x80)
            k = 0, min = 0;
        else if ((c & 0xE0) == 0xC0)
            k = 1, c &= 0x1F, min = 0x80;
        else if ((c & 0xF0) == 0xE0)
            k = 2, c &= 0x0F, min = 0x800;
        else if ((c & 0xF8) == 0xF0)
            k = 3, c &= 0x07, min = 0x10000;
        else
            break;
        if (len - i <= k)
            break;
        for (size_t j = 1; j <= k && c != UINT32_MAX; j++)
            c = (p[i + j] & 0xC0) == 0x80 ? c << 6 | (p[i + j] & 0x3F)
                                          : UINT32_MAX;
        if (c < min || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF))
            break;
        t->cp[t->n++] = c;
        i += k + 1;
    }
    *bad_at = i;
    return i == len ? 0 : -1;
}

static unsigned
cp_weight(uint32_t c)
{
    if (c <= 0x10FF || (c >= 0x2000 && c <= 0x200D) ||
        (c >= 0x2010 && c <= 0x201F) || (c >= 0x2032 && c <= 0x2037))
        return 1;
    return 2;
}

/*
 * Emoji are recognised by the blocks they come from, not from Unicode's
 * emoji tables, so some non-emoji symbols count as emoji too.  That only
 * changes a count when such a symbol is followed by U+FE0F, a skin tone or
 * a ZWJ, which then joins it instead of counting on its own.
 */
static int
is_pictographic(uint32_t c)
{
    static const uint32_t r[][2] = {
        {0x203C, 0x203C},   {0x2049, 0x2049}, {0x2122, 0x2122},
        {0x2139, 0x2139},   {0x2194, 0x2199}, {0x21A9, 0x21AA},
        {0x231A, 0x231B},   {0x2328, 0x2328}, {0x23CF, 0x23CF},
        {0x23E9, 0x23F3},   {0x23F8, 0x23FA}, {0x24C2, 0x24C2},
        {0x25AA, 0x25AB},   {0x25B6, 0x25B6}, {0x25C0, 0x25C0},
        {0x25FB, 0x25FE},   {0x2600, 0x27BF}, {0x2934, 0x2935},
        {0x2B05, 0x2B07},   {0x2B1B, 0x2B1C}, {0x2B50, 0x2B50},
        {0x2B55, 0x2B55},   {0x3030, 0x3030}, {0x303D, 0x303D},
        {0x3297, 0x3297},   {0x3299, 0x3299}, {0x1F000, 0x1FAFF},
        {0x1FC00, 0x1FFFD},
    };

    for (size_t i = 0; i < sizeof(r) / sizeof(r[0]); i++)
        if (c >= r[i][0] && c <= r[i][1])
            return 1;
    return 0;
}

/* Code points that attach to the emoji before them. */
static int
is_emoji_modifier(uint32_t c)
{
    return c == 0xFE0F || c == 0x20E3 || (c >= 0x1F3FB && c <= 0x1F3FF) ||
           (c >= 0xE0020 && c <= 0xE007F);
}

static int
is_regional_indicator(uint32_t c)
{
    return c >= 0x1F1E6 && c <= 0x1F1FF;
}

/* End (exclusive) of the emoji sequence at i, or i if none starts there. */
static size_t
emoji_end(const struct text *t, size_t i)
{
    const uint32_t *cp = t->cp;
    uint32_t c = cp[i];
    size_t j = i + 1;

    if (c == '#' || c == '*' || (c >= '0' && c <= '9')) { /* keycaps */
        if (j < t->n && cp[j] == 0xFE0F)
            j++;
        return j < t->n && cp[j] == 0x20E3 ? j + 1 : i;
    }
    if (c == 0xA9 || c == 0xAE) /* text by default, emoji with VS16 */
        return j < t->n && cp[j] == 0xFE0F ? j + 1 : i;
    if (is_regional_indicator(c)) /* a flag is a pair */
        return j < t->n && is_regional_indicator(cp[j]) ? j + 1 : j;
    if (!is_pictographic(c))
        return i;
    for (;;) {
        while (j < t->n && is_emoji_modifier(cp[j]))
            j++;
        if (j + 1 < t->n && cp[j] == 0x200D && is_pictographic(cp[j + 1]))
            j += 2;
        else
            return j;
    }
}

static int
is_ascii_alnum(uint32_t c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
           (c >= 'A' && c <= 'Z');
}

static int
is_ascii_letter(uint32_t c)
{
    return (c | 0x20) >= 'a' && (c | 0x20) <= 'z';
}

/*
 * May c be part of a host name label?  ASCII letters, digits, '-' and '_',
 * and for internationalised names any letter of another script, taken to
 * be any code point from U+00C0 up outside the symbol and punctuation
 * blocks.
 */
static int
is_label_char(uint32_t c, int ascii_only)
{
    if (is_ascii_alnum(c) || c == '-' || c == '_')
        return 1;
    if (ascii_only || c < 0xC0 || c == 0xD7 || c == 0xF7)
        return 0;
    return !((c >= 0x2000 && c <= 0x2BFF) || (c >= 0x2E00 && c <= 0x2E7F) ||
             (c >= 0x3000 && c <= 0x303F) || (c >= 0xFE00 && c <= 0xFE6F) ||
             (c >= 0xFF00 && c <= 0xFF20) || (c >= 0xFF3B && c <= 0xFF40) ||
             (c >= 0xFF5B && c <= 0xFF65) || c >= 0xFFF0 || c == 0xFEFF ||
             (c >= 0x1F000 && c <= 0x1FFFF) || c >= 0xE0000);
}

static uint32_t
punycode_adapt(uint64_t delta, size_t points, int first)
{
    uint32_t k = 0;

    delta = first ? delta / 700 : delta / 2;
    delta += delta / points;
    for (; delta > 455; k += 36) /* ((base - tmin) * tmax) / 2 */
        delta /= 35;
    return k + (uint32_t)(36 * delta / (delta + 38));
}

/* Length of the RFC 3492 punycode form of cp[0..n), without "xn--". */
static size_t
punycode_len(const uint32_t *cp, size_t n)
{
    uint32_t code = 0x80, bias = 72, m, t;
    uint64_t delta = 0, q;
    size_t basic = 0, h, out;

    for (size_t i = 0; i < n; i++)
        basic += cp[i] < 0x80;
    out = basic + (basic > 0); /* basic code points and the '-' after them */
    for (h = basic; h < n; delta++, code++) {
        m = UINT32_MAX;
        for (size_t i = 0; i < n; i++)
            if (cp[i] >= code && cp[i] < m)
                m = cp[i];
        delta += (uint64_t)(m - code) * (h + 1);
        code = m;
        for (size_t i = 0; i < n; i++) {
            if (cp[i] < code)
                delta++;
            if (cp[i] != code)
                continue;
            q = delta;
            for (uint32_t k = 36;; k += 36) {
                t = k <= bias ? 1 : k >= bias + 26 ? 26 : k - bias;
                if (q < t)
                    break;
                out++;
                q = (q - t) / (36 - t);
            }
            out++;
            bias = punycode_adapt(delta, h + 1, h == basic);
            delta = 0;
            h++;
        }
    }
    return out;
}

/* Is [s, e) a DNS label: 1-63 bytes once punycoded, no '-' at an end? */
static int
label_ok(const struct text *t, size_t s, size_t e)
{
    size_t len = e - s;
    int ascii = 1;

    /* Punycode never shortens a label, so a long one fails unencoded. */
    if (len == 0 || len > LABEL_MAX_LEN || t->cp[s] == '-' ||
        t->cp[e - 1] == '-')
        return 0;
    for (size_t i = s; i < e; i++)
        ascii &= t->cp[i] < 0x80;
    if (!ascii)
        len = 4 + punycode_len(t->cp + s, e - s); /* "xn--..." */
    return len <= LABEL_MAX_LEN;
}

/* Read dot-separated labels from i into h; 0 if one of them is invalid. */
static int
scan_host(const struct text *t, size_t i, int ascii_only, struct host *h)
{
    size_t j = i, start;

    h->labels = 0;
    h->last = h->last_end = h->prev = h->prev_end = i;
    for (;;) {
        for (start = j; j < t->n && is_label_char(t->cp[j], ascii_only); j++)
            ;
        if (!label_ok(t, start, j))
            return 0;
        h->prev = h->last;
        h->prev_end = h->last_end;
        h->last = start;
        h->last_end = j;
        h->labels++;
        if (j + 1 >= t->n || t->cp[j] != '.' ||
            !is_label_char(t->cp[j + 1], ascii_only))
            break;
        j++;
    }
    h->end = j;
    /* an ASCII top-level domain ends where another script starts */
    for (j = h->last; j < h->last_end && t->cp[j] < 0x80; j++)
        ;
    if (j > h->last && j < h->last_end)
        h->end = h->last_end = j;
    return 1;
}

/* Is the ASCII word [s, e) in a space-separated list, ignoring case? */
static int
in_list(const char *list, const struct text *t, size_t s, size_t e)
{
    char word[32];

    if (e - s + 3 > sizeof(word))
        return 0;
    word[0] = ' ';
    for (size_t i = s; i < e; i++) {
        if (!is_ascii_letter(t->cp[i]))
            return 0;
        word[1 + i - s] = (char)(t->cp[i] | 0x20);
    }
    word[1 + e - s] = ' ';
    word[2 + e - s] = '\0';
    return strstr(list, word) != NULL;
}

/* A top-level domain after http(s)://: letters of any script or "xn--". */
static int
any_tld_ok(const struct text *t, size_t s, size_t e)
{
    const uint32_t *c = t->cp + s;

    if (e - s < 2)
        return 0;
    if (e - s > 4 && (c[0] | 0x20) == 'x' && (c[1] | 0x20) == 'n' &&
        c[2] == '-' && c[3] == '-')
        return 1;
    for (size_t i = s; i < e; i++)
        if ((t->cp[i] < 0x80) != (t->cp[s] < 0x80) ||
            (t->cp[i] < 0x80 && !is_ascii_letter(t->cp[i])))
            return 0; /* one script, letters only */
    return 1;
}

/* IP addresses are not links for X (nor "localhost": no TLD). */
static int
host_ok(const struct text *t, const struct host *h, int with_scheme)
{
    if (h->labels < 2)
        return 0;
    /* '_' is tolerated in subdomains only ("a_b.example.com") */
    for (size_t i = h->prev; i < h->last_end; i++)
        if (t->cp[i] == '_')
            return 0;
    if (with_scheme)
        return any_tld_ok(t, h->last, h->last_end);
    return in_list(generic_tlds, t, h->last, h->last_end) ||
           in_list(cc_tlds, t, h->last, h->last_end);
}

static int
is_path_char(uint32_t c)
{
    if (c > ' ' && c < 0x7F)
        return strchr("\"<>\\^`{}", (int)c) == NULL;
    return (c >= 0xC0 && c <= 0x24F && c != 0xD7 && c != 0xF7) ||
           (c >= 0x400 && c <= 0x4FF) || c == 0x2013;
}

/* A URL ends in one of these; other punctuation belongs to the sentence. */
static int
is_path_end_char(uint32_t c)
{
    if (c < 0x80)
        return is_ascii_alnum(c) || (c != 0 && strchr("+-=_#/&)", (int)c));
    return c != 0x2013;
}

/*
 * End of the path at i ('/', or '?' after http(s)://): it stops at an
 * unbalanced parenthesis, and punctuation at its end is left to the
 * sentence ("see https://x.com/a_(b))." links "https://x.com/a_(b)").
 */
static size_t
scan_path(const struct text *t, size_t i)
{
    size_t j, depth = 0, outer = 0;

    for (j = i; j < t->n && is_path_char(t->cp[j]); j++) {
        if (t->cp[j] == '(') {
            if (depth++ == 0)
                outer = j;
        } else if (t->cp[j] == ')') {
            if (depth == 0) /* closes a parenthesis opened before the URL */
                break;
            depth--;
        }
    }
    if (depth > 0) /* an unclosed '(' and what follows stay outside */
        j = outer;
    while (j > i && !is_path_end_char(t->cp[j - 1]))
        j--;
    return j;
}

/* Length of "http://" or "https://" (any case) at i, else 0. */
static size_t
scheme_len(const struct text *t, size_t i)
{
    static const char *const schemes[] = {"https://", "http://"};

    for (size_t s = 0; s < 2; s++) {
        size_t len = strlen(schemes[s]), k;

        for (k = 0; k < len && i + k < t->n; k++) {
            uint32_t c = t->cp[i + k];

            if ((is_ascii_letter(c) ? c | 0x20 : c) != (uint32_t)schemes[s][k])
                break;
        }
        if (k == len)
            return len;
    }
    return 0;
}

/* A URL can't follow a letter, a digit or a mention/cashtag/hashtag sign. */
static int
is_bad_url_prefix(uint32_t c)
{
    return is_ascii_alnum(c) || c == '@' || c == 0xFF20 || c == '$' ||
           c == '#' || c == 0xFF03 || c == 0xFFFE || c == 0xFEFF || c == 0xFFFF;
}

/*
 * May a domain without http(s):// start at i?  twitter-text matches the
 * whole domain first, letters of any script and dots included, rejects it
 * if it follows '-', '_', '.' or '/', and only then links its ASCII part:
 * "ftp://example.com" and "://b\u00fccher.de" link nothing, while
 * "\u65e5\u672cexample.com" links "example.com".
 */
static int
bare_domain_may_start(const struct text *t, size_t i)
{
    const uint32_t *cp = t->cp;
    size_t s = i;

    if (!is_ascii_alnum(cp[i]) ||
        (i > 0 && (cp[i - 1] == '-' || cp[i - 1] == '_')))
        return 0;
    while (s > 0 && (cp[s - 1] == '.' || is_label_char(cp[s - 1], 0)))
        s--;
    return s == 0 ||
           !(is_bad_url_prefix(cp[s - 1]) || cp[s - 1] == '-' ||
             cp[s - 1] == '_' || cp[s - 1] == '.' || cp[s - 1] == '/');
}

/*
 * End (exclusive) of the URL at i, or i if none starts there.
 * XXX: this scanner approximates twitter-text's URL expressions (which
 * characters a host, a path and its end may hold); after http(s):// any
 * alphabetic top-level domain is accepted where twitter-text wants one
 * from its list.  On unusual URLs it can count a few characters
 * differently from X, so keep captions a little under 280.
 */
static size_t
url_end(const struct text *t, size_t i)
{
    const uint32_t *cp = t->cp;
    struct host h;
    size_t scheme, end, k;

    if (i > 0 && is_bad_url_prefix(cp[i - 1]))
        return i;
    scheme = scheme_len(t, i);
    if (scheme == 0 && !bare_domain_may_start(t, i))
        return i;
    if (!scan_host(t, i + scheme, scheme == 0, &h) ||
        !host_ok(t, &h, scheme > 0))
        return i;
    end = h.end;
    /* a port; without http(s):// twitter-text takes it only before a path */
    for (k = end + 1;
         k < t->n && cp[end] == ':' && cp[k] >= '0' && cp[k] <= '9'; k++)
        ;
    if (k > end + 1 && (scheme > 0 || (k < t->n && cp[k] == '/')))
        end = k;
    if (end < t->n && (cp[end] == '/' || (scheme > 0 && cp[end] == '?')))
        end = scan_path(t, end);
    /* twitter-text adds the scheme's length (or 8 for "https://" when
     * there is none) to the URL's, which already holds any scheme */
    return end - i + (scheme > 0 ? scheme : 8) > URL_MAX_LEN ? i : end;
}

static size_t
weigh(const struct text *t)
{
    size_t total = 0, i = 0, end;

    while (i < t->n) {
        if ((end = url_end(t, i)) > i) {
            total += XTEXT_URL_WEIGHT;
        } else if ((end = emoji_end(t, i)) > i) {
            total += 2;
        } else {
            total += cp_weight(t->cp[i]);
            end = i + 1;
        }
        i = end;
    }
    return total;
}

/*
 * Decode and weigh; t holds the code points afterwards (caller frees).
 * XXX: the text is not NFC-normalised first, as twitter-text does, since
 * that needs ICU's tables: an accent typed as a separate combining mark
 * ("e" + U+0301) counts 2 where X counts 1, so a caption in NFD form may
 * be refused here although X would take it.  Generated captions are NFC.
 */
static int
measure(const char *utf8, const char *noun, struct text *t, size_t *len,
        char err[ERR_LEN])
{
    size_t bad_at;

    *len = 0;
    t->cp = NULL;
    t->n = 0;
    if (utf8 == NULL) {
        snprintf(err, ERR_LEN, "%s is missing", noun);
        return ERR_FAIL;
    }
    if (utf8_decode(utf8, t, &bad_at) < 0) {
        snprintf(err, ERR_LEN, "%s is not valid UTF-8 (byte %zu)", noun,
                 bad_at);
        free(t->cp);
        t->cp = NULL;
        return ERR_FAIL;
    }
    *len = weigh(t);
    return 0;
}

int
xtext_weighted_length(const char *utf8, size_t *len_out, char err[ERR_LEN])
{
    struct text t;
    int rc = measure(utf8, "text", &t, len_out, err);

    free(t.cp);
    return rc;
}

int
xtext_check(const char *utf8, char err[ERR_LEN])
{
    struct text t;
    size_t len;
    int rc = measure(utf8, "caption", &t, &len, err);

    for (size_t i = 0; rc == 0 && i < t.n; i++)
        if (t.cp[i] == 0xFFFE || t.cp[i] == 0xFEFF || t.cp[i] == 0xFFFF) {
            snprintf(err, ERR_LEN,
                     "caption contains U+%04X (character %zu), which X "
                     "refuses",
                     (unsigned)t.cp[i], i + 1);
            rc = ERR_FAIL;
        }
    if (rc == 0 && t.n == 0) {
        snprintf(err, ERR_LEN, "caption is empty");
        rc = ERR_FAIL;
    } else if (rc == 0 && len > XTEXT_MAX_WEIGHTED) {
        snprintf(err, ERR_LEN,
                 "caption is %zu weighted characters; X allows %d", len,
                 XTEXT_MAX_WEIGHTED);
        rc = ERR_FAIL;
    }
    free(t.cp);
    return rc;
}
