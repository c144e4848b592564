/*
 * Secret references in the config: env:NAME, file:/path, credential:NAME
 * (systemd LoadCredential=, read from $CREDENTIALS_DIRECTORY) and
 * secretsmanager:ID.  Inline secret values are never accepted, so a
 * config file can be shown to anyone.  This module parses references and
 * resolves the local kinds; secretsmanager: is resolved by aws/secrets.
 */
#ifndef SPOOKYD_CORE_SECRET_H
#define SPOOKYD_CORE_SECRET_H

#include <stddef.h>

#include "core/err.h"

enum secret_kind {
    SECRET_NONE,
    SECRET_ENV,
    SECRET_FILE,
    SECRET_CREDENTIAL,
    SECRET_SECRETSMANAGER,
};

struct secret_ref {
    enum secret_kind kind;
    char *name; /* variable, path, credential name or secret id */
};

/* Parse text into *ref (ref->name is allocated; free with
 * secret_ref_cleanup()).  ERR_FAIL with err on a bad reference; err never
 * quotes text, which may be a pasted secret. */
int secret_ref_parse(const char *text, struct secret_ref *ref,
                     char err[ERR_LEN]);

/* Release ref->name; the ref becomes SECRET_NONE. */
void secret_ref_cleanup(struct secret_ref *ref);

/* "env:NAME" etc. for messages; the reference, never the value.  Returns
 * a pointer into a static buffer overwritten on the next call. */
const char *secret_ref_str(const struct secret_ref *ref);

/* True for the kinds secret_resolve_local() can read. */
int secret_is_local(const struct secret_ref *ref);

/* Read a local secret (env, file, credential): trailing newlines are
 * stripped; files readable by others are refused, as ssh does.  Returns
 * 0 and a new string in *value (free with mem_free_secret_str()), or
 * ERR_FAIL with err naming the reference. */
int secret_resolve_local(const struct secret_ref *ref, char **value,
                         char err[ERR_LEN]);

/* Maximum size of a secret read from a file. */
#define SECRET_MAX_BYTES 65536

#endif
