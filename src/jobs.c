/*
 * jobs.c: the job item's attribute names and states, in one place.  The
 * names are a contract with the serverless app's table and the tweet
 * step: change none.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/rand.h>

#include "aws/ddbjson.h"
#include "core/mem.h"
#include "core/template.h"
#include "jobs.h"

static const char *const status_names[] = {
    [JOB_UNKNOWN] = "unknown",   [JOB_GENERATING] = "generating",
    [JOB_UPLOADED] = "uploaded", [JOB_HELD] = "held",
    [JOB_POSTING] = "posting",   [JOB_POSTED] = "posted",
    [JOB_FAILED] = "failed",
};

#define NSTATUS (sizeof(status_names) / sizeof(status_names[0]))

const char *
job_status_name(enum job_status s)
{
    return (size_t)s < NSTATUS ? status_names[s] : "unknown";
}

enum job_status
job_status_parse(const char *s)
{
    for (size_t i = 1; s != NULL && i < NSTATUS; i++)
        if (strcmp(s, status_names[i]) == 0)
            return (enum job_status)i;
    return JOB_UNKNOWN;
}

char *
job_id_make(const char *date, int index, const char *day)
{
    char *slug = template_slug(day), *id;

    if (slug == NULL || *slug == '\0') {
        free(slug);
        return NULL;
    }
    id = mem_printf("%s_%d_%s", date, index, slug);
    free(slug);
    return id;
}

json_t *
job_key(const char *job_id, int64_t timestamp)
{
    json_t *key = json_object();

    ddbjson_set_s(key, "job_id", job_id);
    ddbjson_set_i64(key, "timestamp", timestamp);
    return key;
}

static void
add_names(json_t *names, const char *expr)
{
    static const char word[] = "abcdefghijklmnopqrstuvwxyz"
                               "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_";
    char key[64];

    for (const char *p = expr; p != NULL && (p = strchr(p, '#')) != NULL;) {
        size_t n = strspn(p + 1, word);

        if (n > 0 && n + 1 < sizeof(key)) {
            memcpy(key, p, n + 1);
            key[n + 1] = '\0';
            json_object_set_new(names, key, json_string(key + 1));
        }
        p += n + 1;
    }
}

json_t *
job_names(const char *expr, const char *expr2)
{
    json_t *names = json_object();

    add_names(names, expr);
    add_names(names, expr2);
    if (json_object_size(names) == 0) {
        json_decref(names);
        return NULL;
    }
    return names;
}

static char *
dup_s(const json_t *item, const char *name)
{
    return mem_strdup(ddbjson_get_s(item, name));
}

/* Optional numbers read as 0 when absent. */
static int64_t
get_i64(const json_t *item, const char *name)
{
    char err[ERR_LEN];
    int64_t v = 0;

    if (ddbjson_get_i64(item, name, &v, err) != 0)
        return 0;
    return v;
}

int
job_from_item(const json_t *item, struct job *j, char err[ERR_LEN])
{
    const char *id = ddbjson_get_s(item, "job_id");
    const char *status = ddbjson_get_s(item, "status");

    memset(j, 0, sizeof(*j));
    if (id == NULL || status == NULL ||
        ddbjson_get_i64(item, "timestamp", &j->timestamp, err) != 0) {
        snprintf(err, ERR_LEN, "job item without job_id, timestamp or "
                               "status");
        return ERR_FAIL;
    }
    j->job_id = mem_strdup(id);
    j->status = job_status_parse(status);
    j->date = dup_s(item, "date");
    j->national_day = dup_s(item, "national_day");
    j->day_index = get_i64(item, "day_index");
    j->prompt = dup_s(item, "prompt");
    j->model = dup_s(item, "model");
    j->s3_key = dup_s(item, "s3_key");
    j->content_type = dup_s(item, "content_type");
    j->bytes = get_i64(item, "bytes");
    j->sha256 = dup_s(item, "sha256");
    j->lease_owner = dup_s(item, "lease_owner");
    j->lease_expires = get_i64(item, "lease_expires");
    j->attempts = get_i64(item, "attempts");
    j->last_error = dup_s(item, "last_error");
    j->tweet_id = dup_s(item, "tweet_id");
    j->media_id = dup_s(item, "media_id");
    j->caption = dup_s(item, "caption");
    j->posted_at = get_i64(item, "posted_at");
    j->updated_at = get_i64(item, "updated_at");
    return 0;
}

void
job_cleanup(struct job *j)
{
    char **strs[] = {&j->job_id,      &j->date,         &j->national_day,
                     &j->prompt,      &j->model,        &j->s3_key,
                     &j->content_type, &j->sha256,      &j->lease_owner,
                     &j->last_error,  &j->tweet_id,     &j->media_id,
                     &j->caption};

    for (size_t i = 0; i < sizeof(strs) / sizeof(strs[0]); i++)
        free(*strs[i]);
    memset(j, 0, sizeof(*j));
}

const char *
job_lease_owner(void)
{
    static char owner[300];
    unsigned char rnd[6];
    char host[256] = "localhost";

    if (owner[0] != '\0')
        return owner;
    gethostname(host, sizeof(host) - 1);
    if (RAND_bytes(rnd, sizeof(rnd)) != 1)
        memset(rnd, 0, sizeof(rnd));
    snprintf(owner, sizeof(owner), "%s/%ld/%02x%02x%02x%02x%02x%02x", host,
             (long)getpid(), rnd[0], rnd[1], rnd[2], rnd[3], rnd[4],
             rnd[5]);
    return owner;
}

/* The owner ran on this host and its process is gone. */
static int
owner_dead_here(const char *owner)
{
    char host[256] = "localhost";
    size_t hlen;
    long pid;

    if (owner == NULL || strcmp(owner, job_lease_owner()) == 0)
        return 0;
    gethostname(host, sizeof(host) - 1);
    hlen = strlen(host);
    if (strncmp(owner, host, hlen) != 0 || owner[hlen] != '/')
        return 0;
    pid = strtol(owner + hlen + 1, NULL, 10);
    return pid > 0 && kill((pid_t)pid, 0) == -1 && errno == ESRCH;
}

int
job_lease_stale(const struct job *j, int64_t now)
{
    return j->lease_expires <= now || owner_dead_here(j->lease_owner);
}
