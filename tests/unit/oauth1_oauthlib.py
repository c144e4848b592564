#!/usr/bin/python3
"""Second opinion for tests/unit/test_oauth1.c: python3-oauthlib plays the
server and verifies the Authorization headers spookyd's oauth1.c produced.

argv[1] holds one request per line, tab-separated, each field hex-encoded
UTF-8 ('-' for none): method, url, form body, Authorization header line,
consumer secret, token secret, spookyd's base string.

For every request oauthlib rebuilds the base string from the request alone
(URL, body and the header it parses) and checks the signature with the
right secrets, with a wrong consumer secret, with a wrong token secret and
after a query parameter is added.  Prints one line of counts; details of the
first disagreements go to stderr.
"""
import sys
from types import SimpleNamespace
from urllib.parse import urlsplit

from oauthlib.oauth1.rfc5849 import signature, utils

PREFIX = 'Authorization: '


def unhex(field):
    return None if field == '-' else bytes.fromhex(field).decode('utf-8')


def server_view(method, url, body, auth):
    """Base string and received signature, as an oauthlib server sees them."""
    params = signature.collect_parameters(
        uri_query=urlsplit(url).query, body=body,
        headers={'Authorization': auth}, exclude_oauth_signature=True)
    base = signature.signature_base_string(
        method, signature.base_string_uri(url),
        signature.normalize_parameters(params))
    sent = dict(utils.parse_authorization_header(auth))['oauth_signature']
    return base, utils.unescape(sent)


def verifies(base, sent, client_secret, token_secret):
    keys = SimpleNamespace(client_secret=client_secret,
                           resource_owner_secret=token_secret)
    expect = signature.sign_hmac_sha1_with_client(base, keys)
    return signature.safe_string_equals(expect, sent)


def with_extra_param(url):
    """url with one more query parameter (before any fragment)."""
    head, hash_, frag = url.partition('#')
    return head + ('&' if '?' in head else '?') + 'tamper=1' + hash_ + frag


def main():
    counts = dict(checked=0, base_equal=0, verified=0,
                  wrong_consumer_secret_rejected=0,
                  wrong_token_secret_rejected=0, tampered_rejected=0)
    shown = 0
    with open(sys.argv[1], encoding='ascii') as f:
        for line in f:
            method, url, body, header, cs, ts, ours = map(
                unhex, line.rstrip('\n').split('\t'))
            ts = ts or ''
            if not header.startswith(PREFIX):
                raise SystemExit('header line lacks "Authorization: "')
            auth = header[len(PREFIX):]
            counts['checked'] += 1
            base, sent = server_view(method, url, body, auth)
            ok = [base == ours, verifies(base, sent, cs, ts),
                  not verifies(base, sent, cs + 'x', ts),
                  not verifies(base, sent, cs, ts + 'x')]
            tbase, tsent = server_view(method, with_extra_param(url), body,
                                       auth)
            ok.append(not verifies(tbase, tsent, cs, ts))
            for key, good in zip(list(counts)[1:], ok):
                counts[key] += good
            if not all(ok) and shown < 3:
                shown += 1
                print(f'disagreement {ok}:\n url  {url!r}\n body {body!r}\n'
                      f' ours   {ours}\n theirs {base}', file=sys.stderr)
    print(' '.join(f'{k}={v}' for k, v in counts.items()))


if __name__ == '__main__':
    main()
