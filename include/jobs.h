/*
 * The job table, as the serverless app laid it out: one item per national
 * day per date, hash key job_id (S), range key timestamp (N, the date's
 * local midnight), status indexed by status-timestamp-index.  This module
 * names the attributes and states, builds keys and leases, and reads an
 * item back into a struct job.  Pure apart from the lease owner id.
 */
#ifndef SPOOKYD_JOBS_H
#define SPOOKYD_JOBS_H

#include <stdint.h>

#include <jansson.h>

#include "core/err.h"

#define JOBS_STATUS_INDEX "status-timestamp-index"

/* Runs of the generate step one job may take before it is failed. */
#define JOBS_MAX_GENERATE_ATTEMPTS 5

enum job_status {
    JOB_UNKNOWN,
    JOB_GENERATING, /* claimed; image being made (leased) */
    JOB_UPLOADED,   /* image in S3, waiting for the tweet step */
    JOB_HELD,       /* image in S3, waiting for --approve (review mode) */
    JOB_POSTING,    /* claimed by the tweet step (leased) */
    JOB_POSTED,     /* on X */
    JOB_FAILED,     /* gave up; last_error says why; --retry requeues */
};

struct job {
    char *job_id;
    int64_t timestamp;
    enum job_status status;
    char *date;         /* YYYY-MM-DD */
    char *national_day;
    int64_t day_index;  /* position in the calendar's list for the date */
    char *prompt;
    char *model;
    char *s3_key;
    char *content_type;
    int64_t bytes;
    char *sha256;
    char *lease_owner;
    int64_t lease_expires; /* Unix seconds; 0: no lease */
    int64_t attempts;
    char *last_error;
    char *tweet_id;
    char *media_id;
    char *caption;
    int64_t posted_at;
    int64_t updated_at;
};

/* "generating", "uploaded", ...; "unknown" for JOB_UNKNOWN. */
const char *job_status_name(enum job_status s);

/* The status named s, or JOB_UNKNOWN. */
enum job_status job_status_parse(const char *s);

/* "<date>_<index>_<Slug>" ("2026-07-10_0_PiñaColada"), or NULL when the
 * day's slug is empty.  The caller frees it. */
char *job_id_make(const char *date, int index, const char *day);

/* New {"job_id":{"S":..},"timestamp":{"N":..}}; the caller releases it. */
json_t *job_key(const char *job_id, int64_t timestamp);

/* ExpressionAttributeNames for expressions that write every attribute
 * as #name ("#status = :gen"): {"#status": "status", ...}.  expr2 may be
 * NULL.  The caller releases it; NULL when no name is used. */
json_t *job_names(const char *expr, const char *expr2);

/* Read a table item into *j (which the caller zeroed or cleaned).  0, or
 * ERR_FAIL with err when job_id, timestamp or status is missing. */
int job_from_item(const json_t *item, struct job *j, char err[ERR_LEN]);

/* Free what job_from_item() put in j and zero it. */
void job_cleanup(struct job *j);

/* This process's lease owner id, "host/pid/random" (computed once). */
const char *job_lease_owner(void);

/* True when the lease on j has run out by `now`, or was taken by a
 * process of this host that no longer exists (a crash or restart:
 * nobody needs to wait the lease out). */
int job_lease_stale(const struct job *j, int64_t now);

#endif
