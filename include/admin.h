/*
 * The operator's job commands: --jobs lists job records, --retry puts a
 * failed job back in the queue, --approve releases a job held for review.
 * Each is one or a few conditional DynamoDB calls on a one-shot loop.
 */
#ifndef SPOOKYD_ADMIN_H
#define SPOOKYD_ADMIN_H

struct calendar;
struct cfg;

/* List the jobs of date (YYYY-MM-DD), or of every date when NULL, one
 * line each: job_id, status, national day, tweet id or last error.
 * Returns the exit status. */
int admin_jobs(struct cfg *cfg, struct calendar *cal, const char *date);

/* failed -> uploaded (its image is in S3) or -> generating (it has none).
 * Returns 0, or 1 when the job is missing or not failed. */
int admin_retry(struct cfg *cfg, struct calendar *cal, const char *job_id);

/* held -> uploaded.  Returns 0, or 1 when the job is missing or not
 * held. */
int admin_approve(struct cfg *cfg, struct calendar *cal, const char *job_id);

#endif
