/*
 * libFuzzer target: ddbjson_parse_map() on arbitrary bytes, as a DynamoDB
 * reply's Item would arrive, then job_from_item() on what parsed.  Checks:
 * a refusal says why; an accepted map passes ddbjson_check_map(), and its
 * ddbjson_dump() text parses back to an equal map; a job read from it
 * matches the attributes it came from.
 */
#include <string.h>

#include <jansson.h>

#include "aws/ddbjson.h"
#include "fuzz.h"
#include "jobs.h"

static void
check_job(const json_t *map)
{
    char err[ERR_LEN];
    struct job j;

    fuzz_err_poison(err);
    if (job_from_item(map, &j, err) != 0) {
        FUZZ_CHECK(fuzz_err_set(err));
        FUZZ_CHECK(j.job_id == NULL);
        return;
    }
    FUZZ_CHECK(strcmp(j.job_id, ddbjson_get_s(map, "job_id")) == 0);
    FUZZ_CHECK(job_status_parse(ddbjson_get_s(map, "status")) == j.status);
    FUZZ_CHECK(job_status_name(j.status) != NULL);
    job_cleanup(&j);
    FUZZ_CHECK(j.job_id == NULL && j.caption == NULL);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[ERR_LEN];
    json_t *map, *again;
    char *text;

    fuzz_err_poison(err);
    map = ddbjson_parse_map((const char *)data, size, err);
    if (map == NULL) {
        FUZZ_CHECK(fuzz_err_set(err));
        return 0;
    }
    FUZZ_CHECK(json_is_object(map));
    FUZZ_CHECK(ddbjson_check_map(map, err) == 0);
    text = ddbjson_dump(map);
    FUZZ_CHECK(text != NULL);
    fuzz_err_poison(err);
    again = ddbjson_parse_map(text, strlen(text), err);
    FUZZ_CHECK(again != NULL);
    FUZZ_CHECK(json_equal(map, again));
    check_job(map);
    json_decref(again);
    free(text);
    json_decref(map);
    return 0;
}
