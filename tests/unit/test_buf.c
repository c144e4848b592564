/* Unit tests for core/buf.c and core/mem.c. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/buf.h"
#include "core/mem.h"

static void
test_append_grows_and_terminates(void **state)
{
    struct buf b;

    (void)state;
    buf_init(&b);
    assert_string_equal(buf_str(&b), "");
    for (int i = 0; i < 1000; i++)
        buf_appendc(&b, (char)('a' + i % 26));
    assert_int_equal(b.len, 1000);
    assert_int_equal(b.data[1000], '\0');
    assert_int_equal(b.data[27], 'b');
    buf_printf(&b, "%d-%s", 42, "x");
    assert_string_equal(b.data + 1000, "42-x");
    buf_cleanup(&b);
    assert_null(b.data);
}

static void
test_steal_and_binary(void **state)
{
    struct buf b;
    char *s;

    (void)state;
    buf_init(&b);
    buf_append(&b, "a\0b", 3);
    assert_int_equal(b.len, 3);
    assert_memory_equal(b.data, "a\0b", 3);
    s = buf_steal(&b);
    assert_null(b.data);
    assert_int_equal(b.len, 0);
    free(s);
    s = buf_steal(&b); /* empty buffer still hands out a string */
    assert_string_equal(s, "");
    free(s);
}

static void
test_reserve_keeps_a_c_string(void **state)
{
    struct buf b;

    (void)state;
    buf_init(&b);
    buf_reserve(&b, 100);
    assert_true(b.cap > 100);
    assert_string_equal(buf_str(&b), "");
    buf_cleanup(&b);
}

/* A large reservation is exact; byte-wise appends still double. */
static void
test_reserve_exact_appends_double(void **state)
{
    struct buf b;
    size_t changes = 0, last = 0;

    (void)state;
    buf_init(&b);
    buf_reserve(&b, 3000000);
    assert_int_equal(b.cap, 3000001);
    buf_append(&b, "x", 1);
    assert_int_equal(b.cap, 3000001);
    buf_cleanup(&b);
    for (int i = 0; i < 100000; i++) {
        buf_appendc(&b, 'x');
        if (b.cap != last) {
            changes++;
            last = b.cap;
        }
    }
    assert_int_equal(b.len, 100000);
    assert_true(changes <= 12); /* 64, 128, ... 131072 */
    buf_cleanup(&b);
}

static void
test_mem_printf(void **state)
{
    char *s;

    (void)state;
    s = mem_printf("%s:%d", "file", 12);
    assert_string_equal(s, "file:12");
    free(s);
    s = mem_strndup("abcdef", 3);
    assert_string_equal(s, "abc");
    mem_free_secret_str(s);
    mem_free_secret_str(NULL);
    assert_null(mem_strdup(NULL));
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_append_grows_and_terminates),
        cmocka_unit_test(test_steal_and_binary),
        cmocka_unit_test(test_reserve_keeps_a_c_string),
        cmocka_unit_test(test_reserve_exact_appends_double),
        cmocka_unit_test(test_mem_printf),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
