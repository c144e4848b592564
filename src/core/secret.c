/*
 * secret.c: parse secret references and read the local kinds.  Values
 * are wiped before they are freed; messages name references only.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/mem.h"
#include "core/secret.h"

static const struct {
    const char *prefix;
    enum secret_kind kind;
} secret_prefixes[] = {
    {"env:", SECRET_ENV},
    {"file:", SECRET_FILE},
    {"credential:", SECRET_CREDENTIAL},
    {"secretsmanager:", SECRET_SECRETSMANAGER},
};

static int
valid_env_name(const char *s)
{
    if (!isalpha((unsigned char)*s) && *s != '_')
        return 0;
    for (; *s; s++)
        if (!isalnum((unsigned char)*s) && *s != '_')
            return 0;
    return 1;
}

static int
check_name(enum secret_kind kind, const char *name, char err[ERR_LEN])
{
    if (*name == '\0') {
        snprintf(err, ERR_LEN, "secret reference has an empty name");
        return ERR_FAIL;
    }
    if (kind == SECRET_ENV && !valid_env_name(name)) {
        snprintf(err, ERR_LEN, "env: needs a variable name "
                               "(letters, digits, '_')");
        return ERR_FAIL;
    }
    if (kind == SECRET_FILE && name[0] != '/') {
        snprintf(err, ERR_LEN, "file: needs an absolute path");
        return ERR_FAIL;
    }
    if (kind == SECRET_CREDENTIAL &&
        (strchr(name, '/') != NULL || strcmp(name, ".") == 0 ||
         strcmp(name, "..") == 0)) {
        snprintf(err, ERR_LEN, "credential: needs a plain name, "
                               "not a path");
        return ERR_FAIL;
    }
    return 0;
}

int
secret_ref_parse(const char *text, struct secret_ref *ref,
                 char err[ERR_LEN])
{
    size_t n = sizeof(secret_prefixes) / sizeof(secret_prefixes[0]);

    ref->kind = SECRET_NONE;
    ref->name = NULL;
    for (size_t i = 0; i < n; i++) {
        size_t plen = strlen(secret_prefixes[i].prefix);

        if (strncmp(text, secret_prefixes[i].prefix, plen) != 0)
            continue;
        if (check_name(secret_prefixes[i].kind, text + plen, err) != 0)
            return ERR_FAIL;
        ref->kind = secret_prefixes[i].kind;
        ref->name = mem_strdup(text + plen);
        return 0;
    }
    snprintf(err, ERR_LEN,
             "not a secret reference (inline secrets are not accepted; "
             "use env:NAME, file:/path, credential:NAME or "
             "secretsmanager:ID)");
    return ERR_FAIL;
}

void
secret_ref_cleanup(struct secret_ref *ref)
{
    free(ref->name);
    ref->name = NULL;
    ref->kind = SECRET_NONE;
}

const char *
secret_ref_str(const struct secret_ref *ref)
{
    static char out[512];
    const char *prefix = "none:";

    for (size_t i = 0;
         i < sizeof(secret_prefixes) / sizeof(secret_prefixes[0]); i++)
        if (secret_prefixes[i].kind == ref->kind)
            prefix = secret_prefixes[i].prefix;
    snprintf(out, sizeof(out), "%s%s", prefix, ref->name ? ref->name : "");
    return out;
}

int
secret_is_local(const struct secret_ref *ref)
{
    return ref->kind == SECRET_ENV || ref->kind == SECRET_FILE ||
           ref->kind == SECRET_CREDENTIAL;
}

/* Read a whole small file, refusing one that others may read. */
static int
read_secret_file(const char *path, const char *what, char **value,
                 char err[ERR_LEN])
{
    struct stat st;
    char *data;
    ssize_t n;
    int fd;

    fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
    if (fd == -1) {
        snprintf(err, ERR_LEN, "%s: %s", what, strerror(errno));
        return ERR_FAIL;
    }
    if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode) ||
        st.st_size > SECRET_MAX_BYTES) {
        snprintf(err, ERR_LEN, "%s: not a regular file of at most %d "
                               "bytes", what, SECRET_MAX_BYTES);
        close(fd);
        return ERR_FAIL;
    }
    if (st.st_mode & S_IRWXO) {
        snprintf(err, ERR_LEN, "%s: permissions %04o are too open; "
                               "it must not be accessible by others "
                               "(chmod o-rwx)", what,
                 (unsigned)(st.st_mode & 07777));
        close(fd);
        return ERR_FAIL;
    }
    data = mem_alloc((size_t)st.st_size + 1);
    n = read(fd, data, (size_t)st.st_size);
    close(fd);
    if (n < 0) {
        snprintf(err, ERR_LEN, "%s: %s", what, strerror(errno));
        mem_free_secret(data, (size_t)st.st_size + 1);
        return ERR_FAIL;
    }
    data[n] = '\0';
    *value = data;
    return 0;
}

static int
resolve_credential(const struct secret_ref *ref, char **value,
                   char err[ERR_LEN])
{
    const char *dir = getenv("CREDENTIALS_DIRECTORY");
    char path[4096];

    if (dir == NULL || *dir == '\0') {
        snprintf(err, ERR_LEN, "%s: $CREDENTIALS_DIRECTORY is not set "
                               "(use LoadCredential= in the unit)",
                 secret_ref_str(ref));
        return ERR_FAIL;
    }
    snprintf(path, sizeof(path), "%s/%s", dir, ref->name);
    return read_secret_file(path, secret_ref_str(ref), value, err);
}

int
secret_resolve_local(const struct secret_ref *ref, char **value,
                     char err[ERR_LEN])
{
    const char *env;
    int rc;

    *value = NULL;
    switch (ref->kind) {
    case SECRET_ENV:
        env = getenv(ref->name);
        if (env == NULL || *env == '\0') {
            snprintf(err, ERR_LEN, "%s: variable is not set",
                     secret_ref_str(ref));
            return ERR_FAIL;
        }
        *value = mem_strdup(env);
        rc = 0;
        break;
    case SECRET_FILE:
        rc = read_secret_file(ref->name, secret_ref_str(ref), value, err);
        break;
    case SECRET_CREDENTIAL:
        rc = resolve_credential(ref, value, err);
        break;
    default:
        snprintf(err, ERR_LEN, "%s: not a local secret",
                 secret_ref_str(ref));
        return ERR_FAIL;
    }
    if (rc == 0) {
        size_t n = strlen(*value);

        while (n > 0 && ((*value)[n - 1] == '\n' || (*value)[n - 1] == '\r'))
            (*value)[--n] = '\0';
        if (n == 0) {
            snprintf(err, ERR_LEN, "%s: secret is empty",
                     secret_ref_str(ref));
            mem_free_secret_str(*value);
            *value = NULL;
            return ERR_FAIL;
        }
    }
    return rc;
}
