/*
 * main.c: command line, then one of: check the config, run one date, act
 * on a job, or run the daemon.  No self-daemonizing: systemd supervises
 * (Type=notify), and the shell gets the same foreground process.
 */
#include <getopt.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "admin.h"
#include "calendar.h"
#include "core/buf.h"
#include "core/cfg.h"
#include "core/log.h"
#include "daemon.h"
#include "once.h"

#define DEFAULT_CONFIG SPOOKYD_SYSCONFDIR "/spookyd/spookyd.conf"

enum action {
    ACT_RUN,
    ACT_CHECK,
    ACT_ONCE,
    ACT_JOBS,
    ACT_RETRY,
    ACT_APPROVE,
    ACT_VERSION,
    ACT_HELP,
};

struct options {
    enum action action;
    int nactions;
    const char *config;
    const char *date;   /* --date */
    const char *job_id; /* --retry, --approve */
    enum log_target log_target;
};

static void
usage(FILE *f)
{
    fprintf(f,
            "usage: spookyd [-c FILE] [--log=auto|journal|stderr]\n"
            "       spookyd -c FILE --check\n"
            "       spookyd -c FILE --once [--date YYYY-MM-DD]\n"
            "       spookyd -c FILE --jobs [--date YYYY-MM-DD]\n"
            "       spookyd -c FILE --retry JOB_ID\n"
            "       spookyd -c FILE --approve JOB_ID\n"
            "       spookyd --version | --help\n"
            "default FILE: %s\n",
            DEFAULT_CONFIG);
}

/* A real calendar date in YYYY-MM-DD form (2026-02-29 is refused). */
static int
valid_date(const char *s)
{
    struct tm tm = {0};
    char back[11];
    char *end = strptime(s, "%Y-%m-%d", &tm);
    time_t t;

    if (end == NULL || *end != '\0' || strlen(s) != 10)
        return 0;
    tm.tm_hour = 12;
    t = timegm(&tm);
    gmtime_r(&t, &tm);
    strftime(back, sizeof(back), "%Y-%m-%d", &tm);
    return strcmp(back, s) == 0;
}

static void
set_action(struct options *o, enum action a)
{
    o->action = a;
    o->nactions++;
}

static int
parse_log_target(const char *s, enum log_target *t)
{
    if (strcmp(s, "auto") == 0)
        *t = LOG_TARGET_AUTO;
    else if (strcmp(s, "journal") == 0)
        *t = LOG_TARGET_JOURNAL;
    else if (strcmp(s, "stderr") == 0)
        *t = LOG_TARGET_STDERR;
    else
        return -1;
    return 0;
}

/* 0 on success, else the exit status for a usage error. */
static int
parse_options(int argc, char **argv, struct options *o)
{
    enum { O_CHECK = 256, O_ONCE, O_JOBS, O_RETRY, O_APPROVE, O_DATE,
           O_LOG };
    static const struct option longopts[] = {
        {"config", required_argument, NULL, 'c'},
        {"check", no_argument, NULL, O_CHECK},
        {"once", no_argument, NULL, O_ONCE},
        {"jobs", no_argument, NULL, O_JOBS},
        {"retry", required_argument, NULL, O_RETRY},
        {"approve", required_argument, NULL, O_APPROVE},
        {"date", required_argument, NULL, O_DATE},
        {"log", required_argument, NULL, O_LOG},
        {"version", no_argument, NULL, 'V'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int ch;

    *o = (struct options){ACT_RUN, 0, DEFAULT_CONFIG, NULL, NULL,
                          LOG_TARGET_AUTO};
    while ((ch = getopt_long(argc, argv, "c:Vh", longopts, NULL)) != -1) {
        switch (ch) {
        case 'c':
            o->config = optarg;
            break;
        case O_CHECK:
            set_action(o, ACT_CHECK);
            break;
        case O_ONCE:
            set_action(o, ACT_ONCE);
            break;
        case O_JOBS:
            set_action(o, ACT_JOBS);
            break;
        case O_RETRY:
        case O_APPROVE:
            set_action(o, ch == O_RETRY ? ACT_RETRY : ACT_APPROVE);
            o->job_id = optarg;
            break;
        case O_DATE:
            o->date = optarg;
            break;
        case O_LOG:
            if (parse_log_target(optarg, &o->log_target) != 0) {
                fprintf(stderr, "spookyd: --log takes auto, journal or "
                                "stderr\n");
                return 2;
            }
            break;
        case 'V':
            set_action(o, ACT_VERSION);
            break;
        case 'h':
            set_action(o, ACT_HELP);
            break;
        default:
            usage(stderr);
            return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "spookyd: unexpected argument '%s'\n", argv[optind]);
        return 2;
    }
    if (o->nactions > 1) {
        fprintf(stderr, "spookyd: choose one of --check, --once, --jobs, "
                        "--retry, --approve, --version, --help\n");
        return 2;
    }
    if (o->date != NULL &&
        (o->action != ACT_ONCE && o->action != ACT_JOBS)) {
        fprintf(stderr, "spookyd: --date goes with --once or --jobs\n");
        return 2;
    }
    if (o->date != NULL && !valid_date(o->date)) {
        fprintf(stderr, "spookyd: --date '%s' is not a YYYY-MM-DD date\n",
                o->date);
        return 2;
    }
    return 0;
}

/* Load config and (local) calendar, printing every problem to stderr. */
static int
load(const struct options *o, struct cfg **cfg, struct calendar **cal)
{
    struct buf errors;
    int deferred = 0;

    buf_init(&errors);
    *cal = NULL;
    *cfg = cfg_load(o->config, &errors);
    if (*cfg != NULL)
        *cal = daemon_load_calendar(*cfg, &errors, &deferred);
    if (*cfg == NULL || (*cal == NULL && !deferred)) {
        fputs(buf_str(&errors), stderr);
        buf_cleanup(&errors);
        cfg_unref(*cfg);
        *cfg = NULL;
        return -1;
    }
    buf_cleanup(&errors);
    return 0;
}

static int
check(struct cfg *cfg, struct calendar *cal)
{
    if (cal != NULL)
        printf("%s: configuration OK; calendar %s: %zu dates\n", cfg->path,
               cfg->calendar.source, calendar_date_count(cal));
    else
        printf("%s: configuration OK; calendar %s is read at run time\n",
               cfg->path, cfg->calendar.source);
    return 0;
}

int
main(int argc, char **argv)
{
    struct options o;
    struct cfg *cfg;
    struct calendar *cal;
    int rc;

    /* glibc raises its mmap threshold to the largest block freed (up to
     * 32 MiB); image-sized buffers then come from the heap, where a freed
     * one stays resident beside a live one and a cycle's peak grows by
     * several MiB.  A fixed threshold gives each one its own mapping,
     * returned to the kernel when freed. */
    mallopt(M_MMAP_THRESHOLD, 128 * 1024);
    if ((rc = parse_options(argc, argv, &o)) != 0)
        return rc;
    if (o.action == ACT_HELP) {
        usage(stdout);
        return 0;
    }
    if (o.action == ACT_VERSION) {
        printf("spookyd %s\n", SPOOKYD_VERSION);
        return 0;
    }
    log_init(o.log_target);
    if (load(&o, &cfg, &cal) != 0)
        return 1;
    log_set_level(cfg->daemon.log_level);
    /* Every command but the daemon borrows cfg and takes cal over. */
    switch (o.action) {
    case ACT_CHECK:
        rc = check(cfg, cal);
        calendar_free(cal);
        break;
    case ACT_RUN:
        return daemon_run(cfg, cal);
    case ACT_ONCE:
        rc = once_run(cfg, cal, o.date);
        break;
    case ACT_JOBS:
        rc = admin_jobs(cfg, cal, o.date);
        break;
    case ACT_RETRY:
        rc = admin_retry(cfg, cal, o.job_id);
        break;
    default:
        rc = admin_approve(cfg, cal, o.job_id);
        break;
    }
    cfg_unref(cfg);
    return rc;
}
