/* The console's server (console.h) without a run: where it may listen, the
 * secret it makes, and what it serves before anything is published. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

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

/* ---- rooms: a plain HTTP/1.1 client on a socket ---- */

/* A request's line and headers (extra: more of them, each ending \r\n); the
 * caller sends any body. */
static int dial_with(const struct ck_console *c, const char *method, const char *path,
                     const char *extra)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(fd >= 0);
    struct timeval tv = {.tv_sec = 10};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    struct sockaddr_in sa = {.sin_family = AF_INET,
                             .sin_port = htons((uint16_t)ck_console_port(c))};
    inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
    assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof sa), 0);
    char req[512];
    int n = snprintf(req, sizeof req,
                     "%s %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nX-Console-Key: %s\r\n%s"
                     "Connection: close\r\n\r\n",
                     method, path, ck_console_port(c), ck_console_secret(c), extra);
    assert_int_equal(send(fd, req, (size_t)n, 0), n);
    return fd;
}

static int dial(const struct ck_console *c, const char *path)
{
    return dial_with(c, "GET", path, "");
}

/* Read until want appears (or the end: then the result has no want). */
static char *read_until(int fd, const char *want, char *buf, size_t cap)
{
    size_t len = 0;
    buf[0] = '\0';
    while (len + 1 < cap && (want == NULL || strstr(buf, want) == NULL)) {
        ssize_t got = recv(fd, buf + len, cap - 1 - len, 0);
        if (got <= 0)
            break;
        len += (size_t)got;
        buf[len] = '\0';
    }
    return buf;
}

static char *get(const struct ck_console *c, const char *path, char *buf, size_t cap)
{
    int fd = dial(c, path);
    read_until(fd, NULL, buf, cap);
    close(fd);
    return buf;
}

/* Rooms: each its own view under ?s=ID; a stopped room ends its streams and
 * is gone at once; a room with a page still reading when the console stops
 * is freed once (ASan watches both). */
static void test_rooms(void **state)
{
    (void)state;
    struct ck_console_opts o = {0};
    struct ck_console *c = NULL;
    struct ck_error err = {0};
    assert_int_equal(ck_console_start(&o, &c, &err), 0);
    struct ck_console *r1 = ck_console_room(c, "1"), *r2 = ck_console_room(c, "2");
    assert_non_null(r1);
    assert_non_null(r2);
    /* A room is a view on its console's server: the same address and key. */
    assert_string_equal(ck_console_url(r1), ck_console_url(c));
    assert_string_equal(ck_console_origin(r1), ck_console_origin(c));
    assert_string_equal(ck_console_secret(r2), ck_console_secret(c));
    assert_int_equal(ck_console_port(r2), ck_console_port(c));
    assert_int_equal(ck_console_pages(r1), 0);
    ck_console_publish(c, json_pack("{s:s}", "mode", "serve"));
    ck_console_publish(r1, json_pack("{s:s, s:i}", "mode", "live", "room", 1));
    ck_console_publish(r2, json_pack("{s:s, s:i}", "mode", "review", "room", 2));
    char buf[8192];
    assert_non_null(strstr(get(c, "/api/state", buf, sizeof buf), "\"mode\":\"serve\""));
    assert_non_null(strstr(get(c, "/api/state?s=1", buf, sizeof buf), "\"room\":1"));
    assert_non_null(strstr(get(c, "/api/state?s=2", buf, sizeof buf), "\"room\":2"));
    assert_non_null(strstr(get(c, "/api/state?s=3", buf, sizeof buf), " 404 "));

    /* A page reading room 1's stream: the room's stop ends it, and the room
     * answers 404 from then on. */
    int s1 = dial(c, "/api/events?s=1");
    assert_non_null(strstr(read_until(s1, "\"room\":1", buf, sizeof buf), "\"room\":1"));
    ck_console_stop(r1);
    read_until(s1, "never sent", buf, sizeof buf); /* returns at the stream's end */
    close(s1);
    assert_non_null(strstr(get(c, "/api/state?s=1", buf, sizeof buf), " 404 "));

    /* Room 2 still has a page reading when the console itself stops. */
    int s2 = dial(c, "/api/events?s=2");
    assert_non_null(strstr(read_until(s2, "\"room\":2", buf, sizeof buf), "\"room\":2"));
    assert_int_equal(ck_console_pages(r2), 1); /* the room's page, not the console's */
    assert_int_equal(ck_console_pages(c), 0);
    ck_console_stop(c);
    close(s2);
}

/* POST a control: the headers, then the body in two sends (libmicrohttpd may
 * hand it over in pieces); the whole answer. */
static char *post(const struct ck_console *c, const char *path, const char *body, char *buf,
                  size_t cap)
{
    char extra[128];
    snprintf(extra, sizeof extra, "Content-Type: application/json\r\nContent-Length: %zu\r\n",
             strlen(body));
    int fd = dial_with(c, "POST", path, extra);
    size_t half = strlen(body) / 2;
    assert_int_equal(send(fd, body, half, 0), (ssize_t)half);
    assert_int_equal(send(fd, body + half, strlen(body) - half, 0), (ssize_t)(strlen(body) - half));
    read_until(fd, NULL, buf, cap);
    close(fd);
    return buf;
}

struct got {
    int calls;
    char body[64];
};

/* Runs on an HTTP thread: no jansson. */
static void record_control(void *arg, const char *body, size_t len, int *status, char **reply)
{
    struct got *g = arg;
    g->calls++;
    snprintf(g->body, sizeof g->body, "%s", body);
    *status = 200;
    *reply = malloc(64);
    snprintf(*reply, 64, "{\"message\":\"%zu bytes\"}", len);
}

/* A control's body reaches the owner's handler whole, the console's or the
 * room's; one past the cap is answered 413 and never reaches it (ASan: each
 * request's body freed once, answered or not). */
static void test_a_control_body_reaches_its_handler(void **state)
{
    (void)state;
    struct ck_console_opts o = {0};
    struct ck_console *c = NULL;
    struct ck_error err = {0};
    assert_int_equal(ck_console_start(&o, &c, &err), 0);
    struct ck_console *r = ck_console_room(c, "7");
    assert_non_null(r);
    struct got gc = {0}, gr = {0};
    ck_console_set_handler(c, record_control, &gc);
    ck_console_set_handler(r, record_control, &gr);
    char buf[8192];
    const char *hold = "{\"action\":\"hold\"}";
    assert_non_null(strstr(post(c, "/api/control", hold, buf, sizeof buf), "17 bytes"));
    assert_string_equal(gc.body, hold);
    const char *dismiss = "{\"action\":\"dismiss\",\"id\":\"1\"}";
    assert_non_null(strstr(post(c, "/api/control?s=7", dismiss, buf, sizeof buf), " 200 "));
    assert_string_equal(gr.body, dismiss);
    assert_int_equal(gc.calls, 1);
    assert_int_equal(gr.calls, 1);
    size_t big = 20 * 1024; /* past the console's 16 KiB */
    char *huge = malloc(big + 1);
    assert_non_null(huge);
    memset(huge, ' ', big);
    huge[big] = '\0';
    assert_non_null(strstr(post(c, "/api/control", huge, buf, sizeof buf), " 413 "));
    free(huge);
    assert_int_equal(gc.calls, 1);
    ck_console_stop(r);
    ck_console_stop(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_listen),
        cmocka_unit_test(test_public_needs_consent),
        cmocka_unit_test(test_secret_fresh_each_time),
        cmocka_unit_test(test_rooms),
        cmocka_unit_test(test_a_control_body_reaches_its_handler),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
