/*
 * INI tokenizer for spookyd.conf: [section], key = value, # and ; comments
 * (whole-line, or after whitespace), "double quoted" values to keep # ;
 * and edge spaces.  It only splits lines; meaning is cfg.c's business.
 * Written instead of using libinih because the Debian build gives
 * handlers no line numbers and treats indented lines as continuations.
 */
#ifndef SPOOKYD_CORE_INI_H
#define SPOOKYD_CORE_INI_H

#include <stddef.h>

#include "core/err.h"

/* Called once per section header (key == NULL, value == NULL) and once
 * per key.  Strings live only during the call.  Return 0 to go on. */
typedef int (*ini_cb)(void *arg, int line, const char *section,
                      const char *key, const char *value);

/* Called for each line that is not valid INI syntax; parsing goes on. */
typedef void (*ini_error_cb)(void *arg, int line, const char *msg);

/* Tokenize text (len bytes, need not be NUL-terminated).  Returns the
 * number of syntax errors reported through on_error, or the first
 * non-zero value returned by on_entry. */
int ini_parse(const char *text, size_t len, ini_cb on_entry,
              ini_error_cb on_error, void *arg);

#endif
