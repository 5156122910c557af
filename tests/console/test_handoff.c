/* A console's control carried out on the loop's thread (handoff.h): the
 * page's answer made there; a page that gave up before the loop was done
 * (its body freed at once, as libmicrohttpd does: the loop reads its own
 * copy, and the answer it made too late is freed: ASan watches both); a page
 * whose wait ran out before the loop woke; a stopped hand-off. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <pthread.h>
#include <uv.h>

#include "chatkeeper/handoff.h"

struct fixture {
    uv_loop_t loop;
    uv_async_t returned_async; /* the page's handler returned: wind up */
    struct ck_handoff h;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int returned; /* under mu */
    int took, closed, give_up;
    /* The page: an HTTP thread's request. */
    char *body;
    int status;
    char *reply;
};

/* On the loop: answers with the body it got; a page giving up is stopped
 * from here and waited for, so its body is surely gone before take reads. */
static void take(void *arg, const char *body, size_t len, int *status, char **reply)
{
    struct fixture *fx = arg;
    fx->took++;
    if (fx->give_up) {
        ck_handoff_stop(&fx->h);
        pthread_mutex_lock(&fx->mu);
        while (!fx->returned)
            pthread_cond_wait(&fx->cv, &fx->mu);
        pthread_mutex_unlock(&fx->mu);
    }
    *status = 200;
    *reply = malloc(len + 32);
    snprintf(*reply, len + 32, "{\"message\":\"took %s\"}", body);
}

static void *page(void *arg)
{
    struct fixture *fx = arg;
    ck_handoff_handler(&fx->h, fx->body, strlen(fx->body), &fx->status, &fx->reply);
    free(fx->body);
    fx->body = NULL;
    pthread_mutex_lock(&fx->mu);
    fx->returned = 1;
    pthread_cond_broadcast(&fx->cv);
    pthread_mutex_unlock(&fx->mu);
    uv_async_send(&fx->returned_async);
    return NULL;
}

static void on_closed(void *arg)
{
    ((struct fixture *)arg)->closed++;
}

static void wind_up(uv_async_t *a)
{
    struct fixture *fx = a->data;
    ck_handoff_stop(&fx->h);
    ck_handoff_close(&fx->h, on_closed);
    uv_close((uv_handle_t *)a, NULL);
}

static void setup(struct fixture *fx, int wait_ms, const char *body)
{
    memset(fx, 0, sizeof *fx);
    assert_int_equal(uv_loop_init(&fx->loop), 0);
    assert_int_equal(uv_async_init(&fx->loop, &fx->returned_async, wind_up), 0);
    fx->returned_async.data = fx;
    assert_int_equal(ck_handoff_init(&fx->h, &fx->loop, wait_ms, take, fx), 0);
    pthread_mutex_init(&fx->mu, NULL);
    pthread_cond_init(&fx->cv, NULL);
    fx->body = strdup(body);
    assert_non_null(fx->body);
}

/* The loop run until the hand-off is closed, and nothing left on it. */
static void finish(struct fixture *fx)
{
    assert_int_equal(uv_run(&fx->loop, UV_RUN_DEFAULT), 0);
    assert_int_equal(fx->closed, 1);
    assert_int_equal(uv_loop_close(&fx->loop), 0);
    pthread_cond_destroy(&fx->cv);
    pthread_mutex_destroy(&fx->mu);
}

/* The page on its own thread, the loop on this one, until both are done. */
static void run(struct fixture *fx)
{
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, page, fx), 0);
    finish(fx);
    pthread_join(t, NULL);
}

static void test_answered_on_the_loop(void **state)
{
    (void)state;
    struct fixture fx;
    setup(&fx, 60000, "{\"action\":\"hold\"}");
    run(&fx);
    assert_int_equal(fx.took, 1);
    assert_int_equal(fx.status, 200);
    assert_string_equal(fx.reply, "{\"message\":\"took {\"action\":\"hold\"}\"}");
    free(fx.reply);
}

static void test_a_page_that_gave_up(void **state)
{
    (void)state;
    struct fixture fx;
    setup(&fx, 60000, "{\"action\":\"skip\",\"step\":\"Q2\"}");
    fx.give_up = 1;
    run(&fx);
    assert_int_equal(fx.took, 1);
    assert_int_equal(fx.status, 503);
    assert_null(fx.reply); /* the console's own words */
}

/* The loop not running while the page waits: its wait runs out (503), and
 * the late wake-up finds nothing to take. */
static void test_the_wait_runs_out(void **state)
{
    (void)state;
    struct fixture fx;
    setup(&fx, 1, "{\"action\":\"hold\"}");
    page(&fx);
    assert_int_equal(fx.status, 503);
    assert_null(fx.reply);
    finish(&fx);
    assert_int_equal(fx.took, 0);
}

static void test_stopped(void **state)
{
    (void)state;
    struct fixture fx;
    setup(&fx, 60000, "{\"action\":\"hold\"}");
    ck_handoff_stop(&fx.h);
    run(&fx);
    assert_int_equal(fx.took, 0);
    assert_int_equal(fx.status, 503);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_answered_on_the_loop),
        cmocka_unit_test(test_a_page_that_gave_up),
        cmocka_unit_test(test_the_wait_runs_out),
        cmocka_unit_test(test_stopped),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
