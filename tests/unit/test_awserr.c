/* Unit tests for aws/awserr.c: S3 XML and JSON error replies, the
 * x-amzn-ErrorType fallback, error classes, CRC-32 (vectors in
 * tests/vectors/crc32) and the clock offset rule. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "aws/awserr.h"

static void
parse(const char *body, const char *type, struct awserr *e)
{
    awserr_parse(body, body ? strlen(body) : 0, type, e);
}

static void
test_s3_xml(void **state)
{
    struct awserr e;

    (void)state;
    parse("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
          "<Error><Code>NoSuchKey</Code><Message>The specified key does "
          "not exist &amp; never did &lt;really&gt;.</Message>"
          "<Key>a&apos;b</Key><RequestId>4442587FB7D0A2F9</RequestId>"
          "<HostId>abc=</HostId></Error>",
          NULL, &e);
    assert_string_equal(e.code, "NoSuchKey");
    assert_string_equal(e.message,
                        "The specified key does not exist & never did "
                        "<really>.");
    assert_string_equal(e.request_id, "4442587FB7D0A2F9");
    /* What the verifying proxy sends for a skewed request. */
    parse("  <?xml version=\"1.0\"?>\n<Error><Code>RequestTimeTooSkewed"
          "</Code><Message>The difference between the request time and "
          "the current time is too large.</Message><RequestTime>"
          "20261203T120000Z</RequestTime><MaxAllowedSkewMilliseconds>900000"
          "</MaxAllowedSkewMilliseconds><RequestId>R1</RequestId></Error>",
          NULL, &e);
    assert_string_equal(e.code, "RequestTimeTooSkewed");
    assert_string_equal(e.request_id, "R1");
    assert_true(awserr_is_skew(e.code, e.message));
}

static void
test_s3_xml_broken(void **state)
{
    struct awserr e;

    (void)state;
    parse("<Error><Code>SlowDown", NULL, &e);
    assert_string_equal(e.code, "");
    parse("<html><body>502 Bad Gateway</body></html>", NULL, &e);
    assert_string_equal(e.code, "");
    assert_string_equal(e.message, "");
    /* Controls cannot reach a log line. */
    parse("<Error><Code>A\nB</Code><Message>x\r\ny\tz\x1b</Message>"
          "</Error>",
          NULL, &e);
    assert_string_equal(e.code, "A B");
    assert_string_equal(e.message, "x  y z ");
    /* An unknown entity is kept as text. */
    parse("<Error><Code>X</Code><Message>&nbsp;&amp</Message></Error>", NULL,
          &e);
    assert_string_equal(e.message, "&nbsp;&amp");
}

static void
test_json(void **state)
{
    struct awserr e;

    (void)state;
    parse("{\"__type\":\"com.amazonaws.dynamodb.v20120810#"
          "ConditionalCheckFailedException\",\"message\":\"The conditional "
          "request failed\"}",
          NULL, &e);
    assert_string_equal(e.code, "ConditionalCheckFailedException");
    assert_string_equal(e.message, "The conditional request failed");
    assert_true(awserr_is_condition(e.code));
    parse("{\"__type\":\"com.amazon.coral.validate#ValidationException\","
          "\"Message\":\"1 validation error\"}",
          NULL, &e);
    assert_string_equal(e.code, "ValidationException");
    assert_string_equal(e.message, "1 validation error");
    parse("{\"__type\":\"ResourceNotFoundException\",\"Message\":\"gone\"}",
          NULL, &e);
    assert_string_equal(e.code, "ResourceNotFoundException");
    /* "code" and a ":uri" tail, as some services send. */
    parse("\n{\"code\":\"ThrottlingException:http://internal.amazon.com/"
          "coral/com.amazon.coral.service/\",\"message\":\"Rate exceeded\"}",
          NULL, &e);
    assert_string_equal(e.code, "ThrottlingException");
    /* The body's code wins over the header. */
    parse("{\"__type\":\"a#InternalServerError\"}", "ThrottlingException", &e);
    assert_string_equal(e.code, "InternalServerError");
}

static void
test_error_type_header(void **state)
{
    struct awserr e;

    (void)state;
    parse("",
          "ThrottlingException:http://internal.amazon.com/coral/"
          "com.amazon.coral.service/",
          &e);
    assert_string_equal(e.code, "ThrottlingException");
    parse(NULL, "com.amazon.coral.service#UnrecognizedClientException", &e);
    assert_string_equal(e.code, "UnrecognizedClientException");
    parse("{not json", "InternalFailure", &e);
    assert_string_equal(e.code, "InternalFailure");
    assert_string_equal(e.message, "");
    parse("{\"message\":\"only a message\"}", NULL, &e);
    assert_string_equal(e.code, "");
    assert_string_equal(e.message, "only a message");
    parse("[1,2]", NULL, &e);
    assert_string_equal(e.code, "");
    parse("{\"__type\":5,\"message\":[]}", NULL, &e);
    assert_string_equal(e.code, "");
    assert_string_equal(e.message, "");
}

static void
test_long_fields(void **state)
{
    static char body[4096], msg[2048];
    struct awserr e;

    (void)state;
    memset(msg, 'm', 2047);
    msg[2047] = '\0';
    snprintf(body, 4096, "{\"__type\":\"X\",\"message\":\"%s\"}", msg);
    parse(body, NULL, &e);
    assert_int_equal(strlen(e.message), AWSERR_MESSAGE_LEN - 1);
    snprintf(body, 4096, "<Error><Code>%.1000s</Code></Error>", msg);
    parse(body, NULL, &e);
    assert_int_equal(strlen(e.code), AWSERR_CODE_LEN - 1);
    awserr_set_request_id(&e, msg);
    assert_int_equal(strlen(e.request_id), AWSERR_REQUEST_ID_LEN - 1);
    awserr_set_request_id(&e, NULL);
    assert_int_equal(strlen(e.request_id), AWSERR_REQUEST_ID_LEN - 1);
}

static void
test_classes(void **state)
{
    (void)state;
    assert_true(awserr_is_skew("RequestTimeTooSkewed", NULL));
    assert_true(awserr_is_skew("RequestExpired", ""));
    assert_true(awserr_is_skew("RequestInTheFuture", ""));
    assert_true(awserr_is_skew("InvalidSignatureException",
                               "Signature expired: 20261203T100000Z is now "
                               "earlier than 20261203T114500Z "
                               "(20261203T120000Z - 15 min.)"));
    assert_true(awserr_is_skew("InvalidSignatureException",
                               "Signature not yet current: 20261203T140000Z "
                               "is still later than 20261203T121500Z"));
    assert_false(awserr_is_skew("InvalidSignatureException",
                                "The request signature we calculated does "
                                "not match the signature you provided."));
    assert_false(awserr_is_skew("InvalidSignatureException", NULL));
    assert_false(awserr_is_skew("SignatureDoesNotMatch", NULL));
    assert_false(awserr_is_skew(NULL, NULL));
    assert_true(awserr_is_expired_token("ExpiredToken"));
    assert_true(awserr_is_expired_token("ExpiredTokenException"));
    assert_false(awserr_is_expired_token("InvalidToken"));
    assert_false(awserr_is_expired_token(NULL));
    assert_true(awserr_is_condition("PreconditionFailed"));
    assert_false(awserr_is_condition("ConditionalRequestConflict"));
    assert_false(awserr_is_condition(NULL));
}

static size_t
unhex(const char *hex, unsigned char *out)
{
    size_t n = 0;
    unsigned v;

    if (strcmp(hex, "-") == 0)
        return 0;
    while (sscanf(hex + 2 * n, "%2x", &v) == 1)
        out[n++] = (unsigned char)v;
    return n;
}

static void
test_crc32_vectors(void **state)
{
    FILE *f = fopen("tests/vectors/crc32/vectors.txt", "r");
    char line[1024], hex[1000];
    unsigned char data[500];
    unsigned want;
    int count = 0;

    (void)state;
    assert_non_null(f);
    while (fgets(line, sizeof(line), f) != NULL) {
        size_t n;

        if (line[0] == '#')
            continue;
        assert_int_equal(sscanf(line, "%999s %x", hex, &want), 2);
        n = unhex(hex, data);
        assert_int_equal(awserr_crc32(0, data, n), want);
        /* In two pieces, as a stream would come. */
        assert_int_equal(
            awserr_crc32(awserr_crc32(0, data, n / 3), data + n / 3, n - n / 3),
            want);
        count++;
    }
    fclose(f);
    assert_true(count >= 8);
}

static void
test_crc32_check(void **state)
{
    char err[ERR_LEN];
    const char *body = "{}";

    (void)state;
    /* Decimal as DynamoDB sends it; the value comes from the vectors. */
    assert_int_equal(awserr_crc32_check("2745614147", body, 2, err), 0);
    assert_int_equal(awserr_crc32_check(NULL, body, 2, err), 0);
    assert_int_equal(awserr_crc32_check("2745614146", body, 2, err), ERR_RETRY);
    assert_non_null(strstr(err, "x-amz-crc32"));
    assert_int_equal(awserr_crc32_check("", body, 2, err), ERR_RETRY);
    assert_int_equal(awserr_crc32_check("abc", body, 2, err), ERR_RETRY);
    assert_int_equal(awserr_crc32_check("-1", body, 2, err), ERR_RETRY);
    assert_int_equal(awserr_crc32_check("4294967296", body, 2, err), ERR_RETRY);
    assert_int_equal(awserr_crc32_check("2745614147x", body, 2, err),
                     ERR_RETRY);
    assert_int_equal(
        awserr_crc32_check("99999999999999999999999", body, 2, err), ERR_RETRY);
    assert_int_equal(awserr_crc32_check("0", "", 0, err), 0);
}

static void
test_skew_offset(void **state)
{
    (void)state;
    /* 20 minutes behind AWS: learn +1200 s. */
    assert_int_equal(awserr_skew_offset(101200, 100000, 0), 1200);
    assert_int_equal(awserr_skew_offset(100000, 101200, 0), -1200);
    /* Under 5 minutes is latency, not skew. */
    assert_int_equal(awserr_skew_offset(100299, 100000, 0), 0);
    assert_int_equal(awserr_skew_offset(100300, 100000, 0), 300);
    /* Already corrected: small drift keeps the offset. */
    assert_int_equal(awserr_skew_offset(101250, 100000, 1200), 1200);
    assert_int_equal(awserr_skew_offset(100000, 100000, 1200), 0);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_s3_xml),
        cmocka_unit_test(test_s3_xml_broken),
        cmocka_unit_test(test_json),
        cmocka_unit_test(test_error_type_header),
        cmocka_unit_test(test_long_fields),
        cmocka_unit_test(test_classes),
        cmocka_unit_test(test_crc32_vectors),
        cmocka_unit_test(test_crc32_check),
        cmocka_unit_test(test_skew_offset),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
