/*
 * spookyd --once: build a generation, run one date's generate step (and,
 * once it exists, the tweet step) on a private loop, print one summary
 * line per job, and report whether every job ended done.
 */
#ifndef SPOOKYD_ONCE_H
#define SPOOKYD_ONCE_H

struct calendar;
struct cfg;

/* Run date (YYYY-MM-DD, or NULL for today in the configured zone).  cal
 * is taken over (NULL when the calendar is in S3).  Returns the exit
 * status: 0 when every job of the date is posted (held, in review mode),
 * 1 otherwise. */
int once_run(struct cfg *cfg, struct calendar *cal, const char *date);

#endif
