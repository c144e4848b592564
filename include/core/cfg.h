/*
 * The configuration contract (spookyd.conf(5)): parsing, validation and
 * the in-memory struct.  A loaded config is immutable and reference
 * counted, so a reload can swap in a new one while jobs in flight finish
 * with the one they started with.
 */
#ifndef SPOOKYD_CORE_CFG_H
#define SPOOKYD_CORE_CFG_H

#include <stdbool.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/err.h"
#include "core/secret.h"

struct cron;

struct cfg {
    int refs;
    char *path; /* the file it came from */

    struct {
        int log_level; /* syslog priority */
        int max_parallel;
    } daemon;

    struct {
        char *cron_expr;
        struct cron *cron;
        char *timezone;
        int64_t catch_up_ms; /* 0: never catch up */
    } schedule;

    struct {
        char *source;   /* absolute path, or s3://bucket/key */
        char *prompt;   /* NULL: the calendar's "Prompt" + day + " Day." */
        char *caption;
        char *alt_text;
    } calendar;

    struct {
        struct secret_ref api_key;
        char *base_url; /* no trailing slash */
        char *model;
        char *size;
        char *quality;
        char *output_format;
        int output_compression; /* -1: not sent */
        int64_t timeout_ms;
    } openai;

    struct {
        char *region; /* NULL: $AWS_REGION, $AWS_DEFAULT_REGION, IMDS */
        char *bucket;
        char *prefix;
        char *kms_key_id;
        char *cache_control;
        char *table;
        int retention_days;
        char *s3_endpoint; /* NULL: environment, then AWS */
        char *dynamodb_endpoint;
        char *secretsmanager_endpoint;
        bool s3_path_style;
    } aws;

    struct {
        struct secret_ref credentials;
        char *api_base_url; /* no trailing slash */
        int64_t poll_interval_ms;
        int64_t post_spacing_ms;
        int max_attempts;
        bool review;
    } x;
};

/* Read and validate the file at path.  Returns a config with one
 * reference, or NULL after appending one "path:line: message\n" per
 * problem to errors (every problem in the file, not just the first). */
struct cfg *cfg_load(const char *path, struct buf *errors);

/* cfg_load() on text already in memory; path is used in messages and to
 * resolve relative paths. */
struct cfg *cfg_parse(const char *path, const char *text, size_t len,
                      struct buf *errors);

/* Take one more reference; returns c. */
struct cfg *cfg_ref(struct cfg *c);

/* Drop a reference; the last one frees.  NULL is a no-op. */
void cfg_unref(struct cfg *c);

#endif
