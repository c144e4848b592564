/*
 * The loop the one-shot commands (--once, --jobs, --retry, --approve)
 * run on: a private loop and HTTP engine, one generation built as the
 * daemon builds it, the command's work, then everything torn down.
 */
#ifndef SPOOKYD_ONESHOT_H
#define SPOOKYD_ONESHOT_H

struct calendar;
struct cfg;
struct context;

/* Called once the generation is built; the command keeps a reference if
 * it needs one past this call.  Its return value is unused; the command
 * sets *rc. */
typedef void (*oneshot_fn)(struct context *ctx, void *arg);

/* Build a generation from cfg and cal (cal is taken over; NULL when the
 * calendar is in S3), call fn(ctx, arg), run the loop until all work has
 * ended.  Returns 0 when fn was called, 1 when the generation could not
 * be built (the problems are logged). */
int oneshot_run(struct cfg *cfg, struct calendar *cal, oneshot_fn fn,
                void *arg);

#endif
