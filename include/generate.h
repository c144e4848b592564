/*
 * The generate step: for one date, one image per national day, made by
 * OpenAI, stored in S3 and recorded in the job table, exactly once however
 * often the date is run, by however many processes.  Each job is claimed
 * with a conditional write and a lease; a crashed run's job is taken over
 * once its lease is stale.
 */
#ifndef SPOOKYD_GENERATE_H
#define SPOOKYD_GENERATE_H

#include <stddef.h>
#include <stdint.h>

#include "jobs.h"

struct context;
struct generate;

/* How one job of the run ended. */
struct generate_outcome {
    const char *job_id;
    const char *national_day;
    enum job_status status; /* what the item says now, as far as we know */
    const char *detail;     /* why it is not done ("" when fine) */
    int retryable;          /* a transient failure: a later run goes on */
};

/* Called once when every job of the run has ended. */
typedef void (*generate_done_cb)(struct generate *g, void *arg);

/* Called when a job's image is stored and its item says `uploaded` (not
 * `held`), so the tweet step can take it at once. */
typedef void (*generate_uploaded_cb)(const char *job_id, int64_t timestamp,
                                     void *arg);

/* Start the run for date (YYYY-MM-DD) on ctx (a reference is held until
 * generate_free()).  done runs on the loop, never inside this call;
 * uploaded may be NULL. */
struct generate *generate_start(struct context *ctx, const char *date,
                                generate_done_cb done,
                                generate_uploaded_cb uploaded, void *arg);

/* Jobs of the run and their outcomes (valid until generate_free()). */
size_t generate_outcomes(const struct generate *g,
                         const struct generate_outcome **out);

/* The run's range key: its date's local midnight (Unix seconds). */
int64_t generate_timestamp(const struct generate *g);

/* Free a finished run, or cancel a running one (its jobs stay retryable:
 * their leases run out).  NULL is a no-op. */
void generate_free(struct generate *g);

#endif
