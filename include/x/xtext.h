/*
 * X's weighted character count for post text (twitter-text, config v3),
 * so a caption that X would refuse is caught before anything is uploaded.
 * Pure: no I/O, no logging.
 */
#ifndef SPOOKYD_X_XTEXT_H
#define SPOOKYD_X_XTEXT_H

#include <stddef.h>

#include "core/err.h"

/* Most weighted characters a post may have (X Premium allows more). */
#define XTEXT_MAX_WEIGHTED 280

/* What every URL counts, whatever its length (X shortens it to t.co). */
#define XTEXT_URL_WEIGHT 23

/*
 * Weighted length of NUL-terminated UTF-8 text as X counts it: code points
 * U+0000-U+10FF, U+2000-U+200D, U+2010-U+201F and U+2032-U+2037 weigh 1,
 * all others 2; each URL weighs XTEXT_URL_WEIGHT; each emoji sequence
 * (ZWJ joins, skin tones, flags, keycaps, variation selectors) weighs 2 in
 * total.  Text is counted as given, not normalised: pass NFC text (what
 * editors and language models produce), or decomposed accents count once
 * per code point where X counts them once per character.  Returns 0 and
 * sets *len_out, or ERR_FAIL with err filled if utf8 is NULL or not valid
 * UTF-8.  Characters X forbids are counted, not refused: see xtext_check().
 */
int xtext_weighted_length(const char *utf8, size_t *len_out, char err[ERR_LEN]);

/*
 * 0 if X accepts utf8 as the text of a post: valid UTF-8, not empty, no
 * U+FFFE, U+FEFF or U+FFFF, and at most XTEXT_MAX_WEIGHTED weighted
 * characters.  Otherwise ERR_FAIL with err saying why, for example
 * "caption is 291 weighted characters; X allows 280".
 */
int xtext_check(const char *utf8, char err[ERR_LEN]);

#endif
