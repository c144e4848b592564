/*
 * creds.c: the credential chain (environment, shared file, IMDSv2) and
 * the background refresh of instance-profile keys.  Logs which source is
 * used and refresh failures, never key material.  Relies on aws/imds for
 * transport and jansson for the IMDS document.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "aws/creds.h"
#include "aws/imds.h"
#include "core/log.h"
#include "core/mem.h"
#include "core/retry.h"

#define CRED_PATH "/latest/meta-data/iam/security-credentials/"
#define ROLE_MAX 128
#define FIELD_MAX 4096

static const char *
env_get(endpoint_getenv_fn env, const char *name)
{
    const char *v = env != NULL ? env(name) : getenv(name);

    return v != NULL && *v != '\0' ? v : NULL;
}

void
creds_keys_cleanup(struct creds_keys *k)
{
    if (k == NULL)
        return;
    mem_free_secret_str(k->access_key_id);
    mem_free_secret_str(k->secret_access_key);
    mem_free_secret_str(k->session_token);
    memset(k, 0, sizeof(*k));
}

int
creds_from_env(endpoint_getenv_fn env, struct creds_keys *out,
               char err[ERR_LEN])
{
    const char *id = env_get(env, "AWS_ACCESS_KEY_ID");
    const char *secret = env_get(env, "AWS_SECRET_ACCESS_KEY");
    const char *token = env_get(env, "AWS_SESSION_TOKEN");

    memset(out, 0, sizeof(*out));
    if (id == NULL && secret == NULL)
        return 1;
    if (id == NULL || secret == NULL) {
        snprintf(err, ERR_LEN, "%s is set but %s is not",
                 id ? "AWS_ACCESS_KEY_ID" : "AWS_SECRET_ACCESS_KEY",
                 id ? "AWS_SECRET_ACCESS_KEY" : "AWS_ACCESS_KEY_ID");
        return ERR_FAIL;
    }
    out->access_key_id = mem_strdup(id);
    out->secret_access_key = mem_strdup(secret);
    out->session_token = mem_strdup(token);
    return 0;
}

/* --- Shared credentials file --- */

static char *
trim(char *s)
{
    char *end;

    while (isspace((unsigned char)*s))
        s++;
    end = s + strlen(s);
    while (end > s && isspace((unsigned char)end[-1]))
        *--end = '\0';
    return s;
}

/* What parsing the lines found for the wanted profile. */
struct file_scan {
    const char *profile;
    int in_profile;
    int found;
    char *id, *secret, *token; /* point into the text copy */
};

/* One line of the file; 0 or ERR_FAIL with err. */
static int
scan_line(struct file_scan *fs, char *line, int lineno, char err[ERR_LEN])
{
    char *eq, *key, *value;

    line = trim(line);
    if (*line == '\0' || *line == '#' || *line == ';')
        return 0;
    if (*line == '[') {
        char *close = strchr(line, ']');

        if (close == NULL || trim(close + 1)[0] != '\0') {
            snprintf(err, ERR_LEN, "line %d: malformed [section]", lineno);
            return ERR_FAIL;
        }
        *close = '\0';
        fs->in_profile = strcmp(trim(line + 1), fs->profile) == 0;
        fs->found |= fs->in_profile;
        return 0;
    }
    eq = strchr(line, '=');
    if (eq == NULL) {
        snprintf(err, ERR_LEN, "line %d: expected 'name = value'", lineno);
        return ERR_FAIL;
    }
    *eq = '\0';
    key = trim(line);
    value = trim(eq + 1);
    if (!fs->in_profile)
        return 0;
    if (strcasecmp(key, "aws_access_key_id") == 0)
        fs->id = value;
    else if (strcasecmp(key, "aws_secret_access_key") == 0)
        fs->secret = value;
    else if (strcasecmp(key, "aws_session_token") == 0)
        fs->token = value;
    return 0;
}

static int
scan_text(struct file_scan *fs, char *text, char err[ERR_LEN])
{
    char *line = text, *nl;
    int lineno = 1;

    for (; line != NULL; line = nl, lineno++) {
        nl = strchr(line, '\n');
        if (nl != NULL)
            *nl++ = '\0';
        if (scan_line(fs, line, lineno, err) != 0)
            return ERR_FAIL;
    }
    return 0;
}

int
creds_parse_file(const char *text, const char *profile, struct creds_keys *out,
                 char err[ERR_LEN])
{
    struct file_scan fs = {.profile = profile};
    char *copy = mem_strdup(text);
    size_t len = strlen(copy);
    int rc = 1;

    memset(out, 0, sizeof(*out));
    if (scan_text(&fs, copy, err) != 0) {
        rc = ERR_FAIL;
    } else if (fs.found && (fs.id == NULL || *fs.id == '\0' ||
                            fs.secret == NULL || *fs.secret == '\0')) {
        snprintf(err, ERR_LEN, "profile [%.64s] lacks %s", profile,
                 fs.id == NULL || *fs.id == '\0' ? "aws_access_key_id"
                                                 : "aws_secret_access_key");
        rc = ERR_FAIL;
    } else if (fs.found) {
        out->access_key_id = mem_strdup(fs.id);
        out->secret_access_key = mem_strdup(fs.secret);
        if (fs.token != NULL && *fs.token != '\0')
            out->session_token = mem_strdup(fs.token);
        rc = 0;
    }
    mem_free_secret(copy, len + 1);
    return rc;
}

char *
creds_file_path(endpoint_getenv_fn env, int *systemd)
{
    const char *v = env_get(env, "AWS_SHARED_CREDENTIALS_FILE");
    const char *home = env_get(env, "HOME");
    char *path;

    *systemd = 0;
    if (v != NULL) {
        if (strncmp(v, "~/", 2) == 0 && home != NULL)
            return mem_printf("%s%s", home, v + 1);
        return mem_strdup(v);
    }
    v = env_get(env, "CREDENTIALS_DIRECTORY");
    if (v != NULL) {
        path = mem_printf("%s/aws-credentials", v);
        if (access(path, F_OK) == 0) {
            *systemd = 1;
            return path;
        }
        free(path);
    }
    if (home == NULL)
        return NULL;
    return mem_printf("%s/.aws/credentials", home);
}

/* The whole file, refusing what others may read (ssh's rule). */
static int
slurp(const char *path, char **text, size_t *len, char err[ERR_LEN])
{
    struct stat st;
    ssize_t n;
    int fd;

    fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
    if (fd == -1 && errno == ENOENT)
        return 1;
    if (fd == -1) {
        snprintf(err, ERR_LEN, "%.160s: %s", path, strerror(errno));
        return ERR_FAIL;
    }
    if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode) ||
        st.st_size > CREDS_FILE_MAX) {
        snprintf(err, ERR_LEN,
                 "%.160s: not a regular file of at most %d "
                 "bytes",
                 path, CREDS_FILE_MAX);
        close(fd);
        return ERR_FAIL;
    }
    if (st.st_mode & S_IRWXO) {
        snprintf(err, ERR_LEN,
                 "%.140s: permissions %04o are too open; "
                 "others must not read it (chmod o-rwx)",
                 path, (unsigned)(st.st_mode & 07777));
        close(fd);
        return ERR_FAIL;
    }
    *text = mem_alloc((size_t)st.st_size + 1);
    n = read(fd, *text, (size_t)st.st_size);
    close(fd);
    if (n < 0) {
        snprintf(err, ERR_LEN, "%.160s: %s", path, strerror(errno));
        mem_free_secret(*text, (size_t)st.st_size + 1);
        *text = NULL;
        return ERR_FAIL;
    }
    (*text)[n] = '\0';
    *len = (size_t)n;
    return 0;
}

int
creds_read_file(const char *path, const char *profile, struct creds_keys *out,
                char err[ERR_LEN])
{
    char *text = NULL, why[ERR_LEN];
    size_t len = 0;
    int rc;

    memset(out, 0, sizeof(*out));
    rc = slurp(path, &text, &len, err);
    if (rc != 0)
        return rc;
    if (strlen(text) != len) {
        snprintf(err, ERR_LEN, "%.160s: holds a NUL byte", path);
        rc = ERR_FAIL;
    } else {
        rc = creds_parse_file(text, profile, out, why);
        if (rc == ERR_FAIL)
            snprintf(err, ERR_LEN, "%.100s: %.140s", path, why);
    }
    mem_free_secret(text, len + 1);
    return rc;
}

/* --- IMDS document --- */

/* "2026-12-03T18:00:00Z" to epoch seconds; 0 or ERR_FAIL. */
static int
parse_iso8601(const char *s, time_t *out)
{
    struct tm tm;
    char *end;

    memset(&tm, 0, sizeof(tm));
    end = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
    if (end == NULL)
        return ERR_FAIL;
    /* Fractions of a second may follow; the zone must be UTC. */
    if (*end == '.')
        end += 1 + strspn(end + 1, "0123456789");
    if (strcmp(end, "Z") != 0 && strcmp(end, "+00:00") != 0)
        return ERR_FAIL;
    *out = timegm(&tm);
    return *out == (time_t)-1 ? ERR_FAIL : 0;
}

static const char *
json_field(json_t *doc, const char *name)
{
    const char *v = json_string_value(json_object_get(doc, name));

    if (v == NULL || *v == '\0' || strlen(v) > FIELD_MAX ||
        strpbrk(v, "\r\n") != NULL)
        return NULL;
    return v;
}

/* Overwrite the decoded strings before jansson frees them. */
static void
wipe_json_strings(json_t *doc)
{
    const char *k;
    json_t *v;

    json_object_foreach(doc, k, v)
    {
        if (json_is_string(v))
            memset((char *)json_string_value(v), 0, json_string_length(v));
    }
}

int
creds_parse_imds(const char *text, size_t len, struct creds_keys *out,
                 char err[ERR_LEN])
{
    json_t *doc = json_loadb(text, len, 0, NULL);
    const char *code, *id, *secret, *token, *exp;
    int rc = ERR_FAIL;

    memset(out, 0, sizeof(*out));
    if (!json_is_object(doc)) {
        snprintf(err, ERR_LEN, "IMDS credentials: not a JSON object");
        goto out;
    }
    code = json_string_value(json_object_get(doc, "Code"));
    if (code == NULL || strcmp(code, "Success") != 0) {
        snprintf(err, ERR_LEN, "IMDS credentials: Code is not Success");
        goto out;
    }
    id = json_field(doc, "AccessKeyId");
    secret = json_field(doc, "SecretAccessKey");
    token = json_field(doc, "Token");
    exp = json_field(doc, "Expiration");
    if (id == NULL || secret == NULL || token == NULL || exp == NULL ||
        parse_iso8601(exp, &out->expiration) != 0) {
        snprintf(err, ERR_LEN,
                 "IMDS credentials: AccessKeyId, "
                 "SecretAccessKey, Token or Expiration missing "
                 "or malformed");
        goto out;
    }
    out->access_key_id = mem_strdup(id);
    out->secret_access_key = mem_strdup(secret);
    out->session_token = mem_strdup(token);
    rc = 0;
out:
    if (doc != NULL) {
        if (json_is_object(doc))
            wipe_json_strings(doc);
        json_decref(doc);
    }
    return rc;
}

uint64_t
creds_refresh_delay_ms(time_t expiration, time_t now, double rnd)
{
    double jitter, target, left;

    if (!(rnd >= 0.0))
        rnd = 0.0;
    if (rnd > 1.0)
        rnd = 1.0;
    jitter = (rnd * 2.0 - 1.0) * 60.0;
    target = (double)expiration - CREDS_REFRESH_BEFORE_S + jitter;
    if (target > (double)now)
        return (uint64_t)((target - (double)now) * 1000.0);
    /* Inside the window: EC2 has a new set at least 5 min before the old
     * one expires, so asking once a minute finds it in time. */
    left = (double)expiration - CREDS_MIN_LIFE_S - (double)now;
    if (left > CREDS_RETRY_S)
        left = CREDS_RETRY_S;
    if (left < 1.0)
        left = 1.0;
    return (uint64_t)(left * 1000.0);
}

int
creds_keys_usable(const struct creds_keys *k, time_t now)
{
    if (k == NULL || k->access_key_id == NULL || k->secret_access_key == NULL)
        return 0;
    return k->expiration == 0 || k->expiration - now > CREDS_MIN_LIFE_S;
}

/* --- The chain on the loop --- */

struct creds {
    uv_loop_t *loop;
    struct imds *imds; /* borrowed; NULL: IMDS disabled */
    enum creds_source source;
    struct creds_keys keys;       /* current set; empty when none */
    long offset_s;                /* AWS time - local time */
    struct creds_waiter *waiters; /* waiting for the next fetch */
    struct creds_waiter *notify;  /* being told the outcome */
    uv_timer_t *timer;            /* next background refresh */
    struct imds_get *get;         /* IMDS GET in flight */
    int refreshing;               /* keys were had: keep retrying */
};

static time_t
creds_now(const struct creds *c)
{
    return time(NULL) + c->offset_s;
}

static void
timer_closed(uv_handle_t *h)
{
    free(h);
}

/* Tell every current waiter rc; waiters added meanwhile wait on. */
static void
notify_all(struct creds *c, int rc, const char *err)
{
    struct creds_waiter *w;

    c->notify = c->waiters;
    c->waiters = NULL;
    while ((w = c->notify) != NULL) {
        c->notify = w->next;
        w->next = NULL;
        w->cb(rc, err, w->arg);
    }
}

static void fetch(struct creds *c);

static void
timer_fire(uv_timer_t *t)
{
    fetch(t->data);
}

static void
schedule(struct creds *c, uint64_t delay_ms)
{
    uv_timer_start(c->timer, timer_fire, delay_ms, 0);
}

static void
fetch_failed(struct creds *c, int rc, const char *err)
{
    struct log_ctx ctx = {.url = CRED_PATH};

    c->get = NULL;
    if (creds_current(c) != NULL || c->refreshing)
        log_warn(&ctx,
                 "AWS credentials refresh failed, retrying in %d s: "
                 "%s",
                 CREDS_RETRY_S, err);
    if (c->refreshing)
        schedule(c, CREDS_RETRY_S * 1000ull);
    notify_all(c, rc, err);
}

static void
keys_done(int rc, const char *body, size_t len, const char *err, void *arg)
{
    struct creds *c = arg;
    struct creds_keys k;
    char why[ERR_LEN];
    time_t now = creds_now(c);

    c->get = NULL;
    if (rc != 0) {
        fetch_failed(c, rc, err);
        return;
    }
    if (creds_parse_imds(body, len, &k, why) != 0) {
        fetch_failed(c, ERR_RETRY, why);
        return;
    }
    if (!creds_keys_usable(&k, now)) {
        creds_keys_cleanup(&k);
        fetch_failed(c, ERR_RETRY,
                     "IMDS credentials expire within a "
                     "minute");
        return;
    }
    creds_keys_cleanup(&c->keys);
    c->keys = k;
    c->refreshing = 1;
    log_info(NULL, "AWS credentials from IMDS, valid for %ld min",
             (long)(k.expiration - now) / 60);
    schedule(c, creds_refresh_delay_ms(k.expiration, now, retry_random()));
    notify_all(c, 0, "");
}

/* IAM role names: letters, digits and +=,.@_- */
static int
role_valid(const char *s, size_t n)
{
    return n > 0 && n <= ROLE_MAX &&
           strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                     "0123456789+=,.@_-") == n;
}

static void
role_done(int rc, const char *body, size_t len, const char *err, void *arg)
{
    struct creds *c = arg;
    char why[ERR_LEN], *path;
    size_t n;

    c->get = NULL;
    if (rc != 0) {
        fetch_failed(c, rc, err);
        return;
    }
    /* One role per instance profile; take the first line. */
    n = strcspn(body, "\r\n");
    if (n > len || !role_valid(body, n)) {
        fetch_failed(c, ERR_RETRY, "IMDS: malformed role name");
        return;
    }
    path = mem_printf("%s%.*s", CRED_PATH, (int)n, body);
    c->get = imds_get(c->imds, path, keys_done, c, why);
    free(path);
    if (c->get == NULL)
        fetch_failed(c, ERR_RETRY, why);
}

static void
fetch(struct creds *c)
{
    char why[ERR_LEN];

    if (c->get != NULL || c->imds == NULL)
        return;
    uv_timer_stop(c->timer);
    c->get = imds_get(c->imds, CRED_PATH, role_done, c, why);
    if (c->get == NULL)
        fetch_failed(c, ERR_RETRY, why);
}

/* Static keys from the environment or the file; 0, 1 or ERR_FAIL. */
static int
load_static(struct creds *c, endpoint_getenv_fn env, char err[ERR_LEN])
{
    const char *profile = env_get(env, "AWS_PROFILE");
    char *path;
    int rc, systemd;

    rc = creds_from_env(env, &c->keys, err);
    if (rc != 1) {
        c->source = rc == 0 ? CREDS_ENV : CREDS_NONE;
        return rc;
    }
    path = creds_file_path(env, &systemd);
    rc = path != NULL ? creds_read_file(path, profile ? profile : "default",
                                        &c->keys, err)
                      : 1;
    if (rc == 1 && profile != NULL) {
        snprintf(err, ERR_LEN, "AWS_PROFILE: no profile [%.64s] in %.120s",
                 profile, path ? path : "(no credentials file)");
        rc = ERR_FAIL;
    }
    if (rc == 0) {
        c->source = CREDS_FILE;
        log_info(NULL, "AWS credentials from %s%s", path,
                 systemd ? " (systemd credential)" : "");
    }
    free(path);
    return rc;
}

struct creds *
creds_new(uv_loop_t *loop, struct imds *imds, endpoint_getenv_fn env,
          char err[ERR_LEN])
{
    struct creds *c = mem_calloc(1, sizeof(*c));
    int rc;

    c->loop = loop;
    rc = load_static(c, env, err);
    if (rc == ERR_FAIL) {
        creds_keys_cleanup(&c->keys);
        free(c);
        return NULL;
    }
    if (rc == 0 && c->source == CREDS_ENV)
        log_info(NULL, "AWS credentials from the environment");
    if (rc == 1 && imds != NULL) {
        c->source = CREDS_IMDS;
        c->imds = imds;
    }
    c->timer = mem_calloc(1, sizeof(*c->timer));
    uv_timer_init(loop, c->timer);
    c->timer->data = c;
    return c;
}

void
creds_free(struct creds *c)
{
    if (c == NULL)
        return;
    imds_get_cancel(c->get);
    c->get = NULL;
    notify_all(c, ERR_RETRY, "AWS client shut down");
    uv_close((uv_handle_t *)c->timer, timer_closed);
    creds_keys_cleanup(&c->keys);
    free(c);
}

enum creds_source
creds_source(const struct creds *c)
{
    return c->source;
}

const struct creds_keys *
creds_current(const struct creds *c)
{
    return creds_keys_usable(&c->keys, creds_now(c)) ? &c->keys : NULL;
}

void
creds_wait(struct creds *c, struct creds_waiter *w, creds_ready_cb cb,
           void *arg)
{
    if (creds_current(c) != NULL) {
        cb(0, "", arg);
        return;
    }
    if (c->source != CREDS_IMDS) {
        cb(ERR_FAIL,
           c->source == CREDS_NONE
               ? "no AWS credentials: set AWS_ACCESS_KEY_ID and "
                 "AWS_SECRET_ACCESS_KEY, provide a credentials "
                 "file, or run on EC2 with an instance profile"
               : "the configured AWS credentials were rejected "
                 "as expired",
           arg);
        return;
    }
    w->cb = cb;
    w->arg = arg;
    w->next = c->waiters;
    c->waiters = w;
    fetch(c);
}

void
creds_wait_cancel(struct creds *c, struct creds_waiter *w)
{
    struct creds_waiter **lists[2] = {&c->waiters, &c->notify};

    for (int i = 0; i < 2; i++) {
        for (struct creds_waiter **pp = lists[i]; *pp != NULL;
             pp = &(*pp)->next) {
            if (*pp == w) {
                *pp = w->next;
                w->next = NULL;
                return;
            }
        }
    }
}

int
creds_expired(struct creds *c, const char *access_key_id)
{
    if (c->source == CREDS_ENV || c->source == CREDS_FILE) {
        /* Static keys cannot change: later waits fail at once. */
        creds_keys_cleanup(&c->keys);
        return ERR_FAIL;
    }
    if (c->source != CREDS_IMDS)
        return ERR_FAIL;
    /* Several calls may report the same set; drop it only once. */
    if (c->keys.access_key_id != NULL && access_key_id != NULL &&
        strcmp(c->keys.access_key_id, access_key_id) == 0)
        creds_keys_cleanup(&c->keys);
    return 0;
}

void
creds_set_clock_offset(struct creds *c, long offset_s)
{
    c->offset_s = offset_s;
}
