/* The write-up template engine: values, escaping, sections over lists,
 * inverted sections, standalone lines, and errors with line numbers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "chatkeeper/template.h"

/* Render tmpl with data given as JSON text; returns the output (free()) or
 * NULL with *rc and err set. */
static char *render(const char *tmpl, const char *data_json, int *rc, struct ck_error *err)
{
    json_t *data = json_loads(data_json, 0, NULL);
    assert_non_null(data);
    struct ck_sink s;
    ck_sink_init_mem(&s);
    *rc = ck_template_render("t.tmpl", tmpl, strlen(tmpl), data, &s, err);
    json_decref(data);
    if (*rc != 0) {
        ck_sink_abort(&s);
        return NULL;
    }
    assert_int_equal(ck_sink_finish(&s), 0);
    return s.buf ? s.buf : strdup("");
}

static void expect(const char *tmpl, const char *data, const char *want)
{
    int rc;
    struct ck_error err = {0};
    char *got = render(tmpl, data, &rc, &err);
    if (got == NULL)
        fail_msg("render failed: %s", err.msg);
    assert_string_equal(got, want);
    free(got);
}

static void expect_error(const char *tmpl, const char *data, int code, const char *msg_part)
{
    int rc;
    struct ck_error err = {0};
    char *got = render(tmpl, data, &rc, &err);
    if (got != NULL)
        fail_msg("expected an error, got \"%s\"", got);
    assert_int_equal(rc, code);
    if (strstr(err.msg, msg_part) == NULL)
        fail_msg("error \"%s\" does not mention \"%s\"", err.msg, msg_part);
}

static void test_variables(void **state)
{
    (void)state;
    expect("Hello {{name}}, {{n}} answers.", "{\"name\": \"Jo\", \"n\": 12}",
           "Hello Jo, 12 answers.");
    expect("{{ a.b }}", "{\"a\": {\"b\": \"deep\"}}", "deep");
    expect("no tags at all\n", "{}", "no tags at all\n");
}

static void test_escaping(void **state)
{
    (void)state;
    int rc;
    struct ck_error err = {0};
    char *got =
        render("> {{t}}", "{\"t\": \"*bold* <script>x</script> [l](javascript:x)\"}", &rc, &err);
    assert_non_null(got);
    /* Markdown markup is escaped, so cmark would show it as text. */
    assert_null(strstr(got, " *bold*"));
    assert_non_null(strstr(got, "\\*bold\\*"));
    /* no link: its '[' is escaped (the rest needs no backslash, issue 14) */
    const char *l = strstr(got, "[l](javascript");
    assert_true(l != NULL && l > got && l[-1] == '\\');
    free(got);
    /* A value never starts a block, even after a line break. */
    got = render("{{t}}", "{\"t\": \"# not a heading\\n- not a list\"}", &rc, &err);
    assert_non_null(got);
    assert_true(got[0] == '\\');
    assert_null(strstr(got, "\n- "));
    free(got);
    /* Triple braces and & pass values as they are. */
    expect("{{{h}}}|{{&h}}", "{\"h\": \"*x*\"}", "*x*|*x*");
}

static void test_sections_over_lists(void **state)
{
    (void)state;
    expect("{{#qs}}Q{{n}}: {{text}};{{/qs}}",
           "{\"qs\": [{\"n\": 1, \"text\": \"one\"}, {\"n\": 2, \"text\": \"two\"}]}",
           "Q1: one;Q2: two;");
    /* Outer names stay visible inside; "." is the item. */
    expect("{{#xs}}{{.}}{{tag}} {{/xs}}", "{\"xs\": [\"a\", \"b\"], \"tag\": \"z\"}", "az bz ");
    expect("{{#xs}}never{{/xs}}", "{\"xs\": []}", "");
    expect("{{#on}}yes{{/on}}{{#off}}no{{/off}}", "{\"on\": true, \"off\": false}", "yes");
    expect("{{#s}}[{{s}}]{{/s}}{{#e}}x{{/e}}", "{\"s\": \"str\", \"e\": \"\"}", "[str]");
}

static void test_inverted(void **state)
{
    (void)state;
    expect("{{^xs}}none{{/xs}}", "{\"xs\": []}", "none");
    expect("{{^xs}}none{{/xs}}", "{\"xs\": [1]}", "");
    expect("{{^z}}zero{{/z}}", "{\"z\": 0}", "zero");
}

static void test_standalone_lines(void **state)
{
    (void)state;
    expect("a\n{{#xs}}\n- {{.}}\n{{/xs}}\nb\n", "{\"xs\": [\"1\", \"2\"]}", "a\n- 1\n- 2\nb\n");
    expect("{{! a comment\n}}x", "{}", "x");
    /* Not alone on its line: the line stays. */
    expect("a {{#on}}b{{/on}}\n", "{\"on\": true}", "a b\n");
}

static void test_errors_with_line_numbers(void **state)
{
    (void)state;
    expect_error("line one\n\nHello {{nmae}}\n", "{\"name\": \"x\"}", CK_ENOTFOUND,
                 "t.tmpl:3: no value named 'nmae'");
    expect_error("a\n{{#qs}}\nb\n", "{\"qs\": []}", CK_EPARSE,
                 "t.tmpl:2: section {{#qs}} is never closed");
    expect_error("{{#a}}\n{{#b}}\n{{/a}}\n", "{}", CK_EPARSE,
                 "t.tmpl:3: {{/a}} does not match {{#b}} opened on line 2");
    expect_error("x\n{{/a}}", "{}", CK_EPARSE, "t.tmpl:2: {{/a}} closes no open section");
    expect_error("x {{name\n}}", "{}", CK_EPARSE, "t.tmpl:1:");
    expect_error("{{}}", "{}", CK_EPARSE, "t.tmpl:1: bad tag");
    expect_error("{{#missing}}x{{/missing}}", "{}", CK_ENOTFOUND, "no value named 'missing'");
    expect_error("{{list}}", "{\"list\": [1]}", CK_ENOTFOUND, "is a list or an object");
    /* Missing inside a section: the line of the use, not of the section. */
    expect_error("{{#qs}}\n\n{{nope}}\n{{/qs}}", "{\"qs\": [{}]}", CK_ENOTFOUND, "t.tmpl:3:");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_variables),           cmocka_unit_test(test_escaping),
        cmocka_unit_test(test_sections_over_lists), cmocka_unit_test(test_inverted),
        cmocka_unit_test(test_standalone_lines),    cmocka_unit_test(test_errors_with_line_numbers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
