/* Unit tests for core/template.c: checking, expansion and slugs. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/template.h"

static void
expect_expand(const char *tmpl, const char *day, const char *date,
              const char *want)
{
    struct template_vars v = {.day = day, .date = date};
    char err[ERR_LEN] = "";
    char *got;

    assert_int_equal(template_check(tmpl, err), 0);
    got = template_expand(tmpl, &v);
    assert_string_equal(got, want);
    free(got);
}

static void
expect_check_error(const char *tmpl, const char *want)
{
    char err[ERR_LEN] = "";

    assert_int_equal(template_check(tmpl, err), ERR_FAIL);
    assert_string_equal(err, want);
}

static void
expect_slug(const char *day, const char *want)
{
    char *got = template_slug(day);

    assert_string_equal(got, want);
    free(got);
}

static void
test_expand_placeholders(void **state)
{
    (void)state;
    expect_expand("{day}", "Hat", "2026-01-15", "Hat");
    expect_expand("{hashtag}", "Hat", "2026-01-15", "#NationalHatDay");
    expect_expand("{date}", "Hat", "2026-01-15", "2026-01-15");
    expect_expand("Happy National {day} Day! {hashtag} ({date})",
                  "Don't Cry Over Spilled Milk", "2026-02-11",
                  "Happy National Don't Cry Over Spilled Milk Day! "
                  "#NationalDontCryOverSpilledMilkDay (2026-02-11)");
    expect_expand("{day}{day}{date}", "A", "D", "AAD");
    expect_expand("", "Hat", "2026-01-15", "");
    expect_expand("no placeholders", "Hat", "2026-01-15", "no placeholders");
}

static void
test_expand_utf8(void **state)
{
    (void)state;
    expect_expand("¡{day}! {hashtag} 🎃", "Piña Colada", "2026-07-10",
                  "¡Piña Colada! #NationalPiñaColadaDay 🎃");
    expect_expand("{hashtag}", "Crème Brûlée", "", "#NationalCrèmeBrûléeDay");
}

static void
test_expand_escaped_braces(void **state)
{
    (void)state;
    expect_expand("{{day}} is {day}", "Hat", "", "{day} is Hat");
    expect_expand("{{{day}}}", "Hat", "", "{Hat}");
    expect_expand("}}{{", "Hat", "", "}{");
    expect_expand("{{{{", "Hat", "", "{{");
}

static void
test_expand_null_and_unchecked(void **state)
{
    struct template_vars v = {.day = NULL, .date = NULL};
    char *got;

    (void)state;
    got = template_expand("[{day}|{date}|{hashtag}]", &v);
    assert_string_equal(got, "[||#NationalDay]");
    free(got);
    /* Text template_check() refuses is copied, not crashed on. */
    v.day = "Hat";
    got = template_expand("a}b{c {dya} {day", &v);
    assert_string_equal(got, "a}b{c {dya} {day");
    free(got);
}

static void
test_check_errors(void **state)
{
    (void)state;
    expect_check_error("Happy {dya}!", "column 7: unknown placeholder {dya}");
    expect_check_error("{Day}", "column 1: unknown placeholder {Day}");
    expect_check_error("x{}", "column 2: unknown placeholder {}");
    expect_check_error("{ day }", "column 1: unknown placeholder { day }");
    expect_check_error("abc {day",
                       "column 5: unclosed { (write {{ for a literal brace)");
    expect_check_error("{da{y}",
                       "column 1: unclosed { (write {{ for a literal brace)");
    expect_check_error("a}b",
                       "column 2: stray } (write }} for a literal brace)");
    expect_check_error("{{day}",
                       "column 6: stray } (write }} for a literal brace)");
    expect_check_error("{day}}",
                       "column 6: stray } (write }} for a literal brace)");
    expect_check_error("{day}{", "column 6: unclosed { (write {{ for a "
                       "literal brace)");
    expect_check_error(NULL, "no template");
}

static void
test_check_columns_count_characters(void **state)
{
    (void)state;
    /* ñ is two bytes but one column; 🎃 is four bytes. */
    expect_check_error("Piña {x}", "column 6: unknown placeholder {x}");
    expect_check_error("🎃🎃 }",
                       "column 4: stray } (write }} for a literal brace)");
    expect_check_error("ab\xff", "column 3: invalid UTF-8");
    expect_check_error("é\xc3", "column 2: invalid UTF-8");
    /* Overlong '/', a UTF-16 surrogate, a code point past U+10FFFF. */
    expect_check_error("\xc0\xaf", "column 1: invalid UTF-8");
    expect_check_error("\xed\xa0\x80", "column 1: invalid UTF-8");
    expect_check_error("\xf4\x90\x80\x80", "column 1: invalid UTF-8");
}

static void
test_check_long_placeholder_is_cut(void **state)
{
    char tmpl[128], want[128], err[ERR_LEN];

    (void)state;
    /* 31 letters then ü: a cut at 32 bytes would split ü, so the message
     * keeps the 31 letters only. */
    strcpy(tmpl, "x{");
    strcpy(want, "column 2: unknown placeholder {");
    for (int i = 0; i < 31; i++) {
        strcat(tmpl, "a");
        strcat(want, "a");
    }
    strcat(tmpl, "üzzzzzzzzzz}");
    strcat(want, "...}");
    assert_int_equal(template_check(tmpl, err), ERR_FAIL);
    assert_string_equal(err, want);
}

static void
test_check_accepts(void **state)
{
    char err[ERR_LEN];

    (void)state;
    assert_int_equal(template_check("", err), 0);
    assert_int_equal(template_check("{day} {hashtag} {date}", err), 0);
    assert_int_equal(template_check("{{ }} {{day}} ñ 🎃", err), 0);
}

static void
test_slug_cases(void **state)
{
    (void)state;
    expect_slug("Hat", "Hat");
    expect_slug("Don't Cry Over Spilled Milk", "DontCryOverSpilledMilk");
    expect_slug("Piña Colada", "PiñaColada");
    expect_slug("Mac & Cheese", "MacCheese");
    expect_slug("7-Up_Float!", "7UpFloat");
    expect_slug("More Herbs, Less Salt", "MoreHerbsLessSalt");
    expect_slug("M&M", "MM");
    expect_slug("Pie 🥧 Time", "Pie🥧Time");
    expect_slug("Pfeffernüsse", "Pfeffernüsse");
    expect_slug("\tTab\nNewline\x7f", "TabNewline");
}

static void
test_slug_empty_and_invalid(void **state)
{
    (void)state;
    expect_slug("!!!", "");
    expect_slug(" - ' ", "");
    expect_slug("", "");
    expect_slug(NULL, "");
    expect_slug("A\xffZ", "AZ");       /* stray byte */
    expect_slug("A\xc3", "A");         /* truncated sequence */
    expect_slug("\xe2\x82 B", "B");    /* truncated before ASCII */
    expect_slug("\xc0\xafx", "x");     /* overlong '/' */
}

/* Whatever bytes come in, the slug is valid UTF-8 without ASCII
 * punctuation or spaces. */
static void
test_slug_always_valid(void **state)
{
    char in[8], err[ERR_LEN], *s;

    (void)state;
    for (int a = 1; a < 256; a++) {
        for (int b = 1; b < 256; b += 7) {
            in[0] = 'x';
            in[1] = (char)a;
            in[2] = (char)b;
            in[3] = (char)0xA9;
            in[4] = '\0';
            s = template_slug(in);
            assert_int_equal(template_check(s, err), 0);
            for (const char *p = s; *p != '\0'; p++)
                assert_true((unsigned char)*p >= 0x80 ||
                            strchr(" {}!'-&", *p) == NULL);
            free(s);
        }
    }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_expand_placeholders),
        cmocka_unit_test(test_expand_utf8),
        cmocka_unit_test(test_expand_escaped_braces),
        cmocka_unit_test(test_expand_null_and_unchecked),
        cmocka_unit_test(test_check_errors),
        cmocka_unit_test(test_check_columns_count_characters),
        cmocka_unit_test(test_check_long_placeholder_is_cut),
        cmocka_unit_test(test_check_accepts),
        cmocka_unit_test(test_slug_cases),
        cmocka_unit_test(test_slug_empty_and_invalid),
        cmocka_unit_test(test_slug_always_valid),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
