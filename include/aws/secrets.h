/*
 * Secrets Manager GetSecretValue (AWSCURRENT) over aws_call(): the value
 * of a secret by name or ARN.  No caching, rotation or other operations.
 * Values are wiped once the callback returns and never logged.
 */
#ifndef SPOOKYD_AWS_SECRETS_H
#define SPOOKYD_AWS_SECRETS_H

#include <stddef.h>

#include "aws/aws.h"
#include "core/err.h"

struct secrets_get;

/* Result of secrets_get(): rc 0 with value (len bytes, NUL-terminated;
 * SecretString as is, SecretBinary decoded from base64, so it may hold
 * NULs), else ERR_RETRY or ERR_FAIL with value NULL and err saying why
 * (the AWS code included, never the value).  value is wiped and freed when
 * the callback returns: copy what you keep (and wipe that later). */
typedef void (*secrets_done_cb)(int rc, const char *value, size_t len,
                                const char *err, void *arg);

/* Ask for secret_id's current value.  Returns a handle, or NULL with err
 * when secret_id is empty or over 2048 bytes (cb never runs then). */
struct secrets_get *secrets_get(struct aws *aws, const char *secret_id,
                                secrets_done_cb cb, void *arg,
                                char err[ERR_LEN]);

/* Stop a pending lookup; its callback does not run.  NULL is a no-op. */
void secrets_get_cancel(struct secrets_get *g);

#endif
