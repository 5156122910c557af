/* The console's server (console.h) without a run: where it may listen, the
 * secret it makes, and what it serves before anything is published. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "chatkeeper/console.h"

static void test_parse_listen(void **state)
{
    (void)state;
    char buf[64];
    struct ck_console_opts o = {0};
    assert_int_equal(ck_console_parse_listen("8080", buf, sizeof buf, &o), 0);
    assert_null(o.addr);
    assert_int_equal(o.port, 8080);
    assert_int_equal(ck_console_parse_listen("127.0.0.2:0", buf, sizeof buf, &o), 0);
    assert_string_equal(o.addr, "127.0.0.2");
    assert_int_equal(o.port, 0);
    assert_int_equal(ck_console_parse_listen("x", buf, sizeof buf, &o), CK_EINVAL);
    assert_int_equal(ck_console_parse_listen("1.2.3.4:", buf, sizeof buf, &o), CK_EINVAL);
    assert_int_equal(ck_console_parse_listen("70000", buf, sizeof buf, &o), CK_EINVAL);
}

/* Only loopback unless the person asks for more, and says so. */
static void test_public_needs_consent(void **state)
{
    (void)state;
    struct ck_console *c = NULL;
    struct ck_error err = {0};
    struct ck_console_opts o = {.addr = "0.0.0.0"};
    assert_int_equal(ck_console_start(&o, &c, &err), CK_EINVAL);
    assert_null(c);
    assert_non_null(strstr(err.msg, "--console-public"));
    struct ck_error err2 = {0};
    o.addr = "localhost"; /* a name, not an address */
    assert_int_equal(ck_console_start(&o, &c, &err2), CK_EINVAL);
}

/* A fresh secret of 24 URL-safe characters per console, only in its URL. */
static void test_secret_fresh_each_time(void **state)
{
    (void)state;
    struct ck_console_opts o = {0};
    struct ck_console *a = NULL, *b = NULL;
    struct ck_error err = {0};
    assert_int_equal(ck_console_start(&o, &a, &err), 0);
    assert_int_equal(ck_console_start(&o, &b, &err), 0);
    char sa[32];
    snprintf(sa, sizeof sa, "%s", ck_console_secret(a));
    assert_int_equal(strlen(sa), 24);
    assert_int_equal(strspn(sa, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"),
                     24);
    assert_string_not_equal(sa, ck_console_secret(b));
    char want[160];
    snprintf(want, sizeof want, "http://127.0.0.1:%d/#k=%s", ck_console_port(a), sa);
    assert_string_equal(ck_console_url(a), want);
    assert_null(strstr(ck_console_origin(a), sa));
    assert_true(ck_console_port(a) > 0 && ck_console_port(a) != ck_console_port(b));
    assert_int_equal(ck_console_pages(a), 0);
    ck_console_publish(a, json_pack("{s:s}", "mode", "live"));
    ck_console_publish(a, NULL);
    ck_console_stop(a);
    ck_console_stop(b);
    ck_console_stop(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_listen),
        cmocka_unit_test(test_public_needs_consent),
        cmocka_unit_test(test_secret_fresh_each_time),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
