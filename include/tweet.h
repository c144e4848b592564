/*
 * The tweet step: every `uploaded` job ends as exactly one post on X with
 * its image, caption and alt text.  A job is claimed with a conditional
 * write (uploaded -> posting, or a posting job whose lease ran out), its
 * image read back from S3, uploaded to X, described, posted, and recorded
 * `posted`.  X's duplicate-content answer after a crash means the post
 * exists: the job is recorded posted, never posted twice.
 */
#ifndef SPOOKYD_TWEET_H
#define SPOOKYD_TWEET_H

#include <stdint.h>

#include <uv.h>

#include "jobs.h"

struct context;
struct tweet;

/* Called when a job this step took on has ended (posted, failed, or left
 * for a later try). */
typedef void (*tweet_job_cb)(const char *job_id, enum job_status status,
                             const char *detail, void *arg);

/* Called by the poller for a date that has a `generating` job whose lease
 * ran out: the generate step should run that date again. */
typedef void (*tweet_stale_cb)(const char *date, void *arg);

/* A tweet step on loop.  Nothing happens until tweet_set_context(). */
struct tweet *tweet_new(uv_loop_t *loop, tweet_job_cb on_job,
                        tweet_stale_cb on_stale, void *arg);

/* Use ctx (a reference is taken; the previous one is dropped) for jobs
 * started from now on.  With poll set, (re)arm the poll timer at ctx's
 * [x] poll_interval (with 10% jitter) and poll once now. */
void tweet_set_context(struct tweet *t, struct context *ctx, int poll);

/* Post one job now (after the generate step stored its image).  Returns
 * 0 when the job was taken on (the job callback will run for it), or -1
 * when there is no context yet or this process is posting it already. */
int tweet_job(struct tweet *t, const char *job_id, int64_t timestamp);

/* Jobs being posted now. */
unsigned tweet_busy(const struct tweet *t);

/* Stop polling; jobs in flight go on.  tweet_busy() tells when they are
 * over. */
void tweet_stop(struct tweet *t);

/* Cancel everything (leases run out; the jobs stay retryable) and free
 * after libuv has closed the timers.  NULL is a no-op. */
void tweet_free(struct tweet *t);

#endif
