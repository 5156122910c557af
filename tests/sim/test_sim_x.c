/* The simulator's X mode (`chatkeeper simulate --x`) read and written with
 * the X platform's own request builders and parsers (include/chatkeeper/x.h)
 * over real HTTP on loopback: search and its paging, since_id, a thread by
 * conversation_id, posting, a lookup by id, X's refusal of duplicate text,
 * x-rate-limit-* headers and the 429. Every tweet normalises.
 * usage: test_sim_x CHATKEEPER SCRIPT */
#include <setjmp.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "chatkeeper/platform.h"
#include "chatkeeper/timeutil.h"
#include "chatkeeper/http.h"
#include "chatkeeper/x.h"

extern char **environ;

static const char *bin, *script;
static pid_t running; /* a simulator a failed test left: stopped by teardown */

struct sim {
    pid_t pid;
    char base[64];
    char dir[64];
};

/* Start the simulator in X mode; wait (bounded) for its port file. */
static void sim_start(struct sim *s, const char *rate_limit)
{
    snprintf(s->dir, sizeof s->dir, "/tmp/ck-sim-x-XXXXXX");
    assert_non_null(mkdtemp(s->dir));
    char port_file[128], start[32];
    snprintf(port_file, sizeof port_file, "%s/port", s->dir);
    /* The chat began 10 minutes ago at 60x: all of it (90 minutes) is out. */
    ck_time_format_rfc3339(ck_time_now_ms() - 600000, start);
    char *argv[] = {(char *)bin,    "simulate",         (char *)script,
                    "--x",          "--port",           "0",
                    "--port-file",  port_file,          "--speed",
                    "60",           "--start",          start,
                    "--rate-limit", (char *)rate_limit, NULL};
    assert_int_equal(posix_spawn(&s->pid, bin, NULL, NULL, argv, environ), 0);
    running = s->pid;
    for (int i = 0; i < 200; i++) {
        FILE *f = fopen(port_file, "r");
        int port = 0;
        if (f != NULL && fscanf(f, "%d", &port) == 1 && port > 0) {
            fclose(f);
            snprintf(s->base, sizeof s->base, "http://127.0.0.1:%d", port);
            return;
        }
        if (f != NULL)
            fclose(f);
        struct timespec ts = {0, 50 * 1000000L};
        nanosleep(&ts, NULL);
    }
    fail_msg("the simulator did not write its port within 10 s");
}

static void sim_stop(struct sim *s)
{
    kill(s->pid, SIGTERM);
    int st;
    waitpid(s->pid, &st, 0);
    running = 0;
    char path[128];
    snprintf(path, sizeof path, "%s/port", s->dir);
    unlink(path);
    rmdir(s->dir);
}

static void fetch(const struct ck_request *req, struct ck_response *resp)
{
    struct ck_error err = {0};
    struct ck_http_opts o = {.connect_timeout_ms = 5000, .total_timeout_ms = 20000};
    if (ck_http_fetch(req, &o, resp, &err) != 0)
        fail_msg("fetch %s: %s", req->url, err.msg);
}

static struct ck_x_search tag_query(void)
{
    return (struct ck_x_search){.hashtag = "#uklibchat",
                                .start_ms = INT64_MIN,
                                .end_ms = INT64_MIN,
                                .now_ms = INT64_MIN,
                                .max_results = 100};
}

/* One search answer, parsed; every tweet normalises as X's. */
static void search(const struct sim *s, const struct ck_x_search *q, struct ck_x_page *p,
                   struct ck_ratelimit *rl)
{
    struct ck_request req;
    struct ck_response resp = {0};
    struct ck_error err = {0};
    assert_int_equal(ck_x_search_request(s->base, "APPTOKEN", q, &req, &err), 0);
    fetch(&req, &resp);
    if (ck_x_parse_search(&resp, p, &err) != 0)
        fail_msg("%s: %s", req.url, err.msg);
    if (rl != NULL)
        assert_int_equal(ck_x_ratelimit(&resp, ck_time_now_ms(), rl), 0);
    for (size_t i = 0; i < json_array_size(p->items); i++) {
        struct ck_message m;
        struct ck_error e = {0};
        if (ck_platform_x.normalise(json_array_get(p->items, i), &m, &e) != 0)
            fail_msg("item %zu: %s", i, e.msg);
        assert_non_null(strstr(m.uri, "https://x.com/i/web/status/"));
        assert_true(m.author.handle[0] == '@' && strcmp(m.author.handle, "@unknown") != 0);
        ck_message_finish(&m);
    }
    ck_request_finish(&req);
    ck_response_finish(&resp);
}

/* Every id of the search, following next_token pages of size per_page. */
static json_t *all_ids(const struct sim *s, int per_page, size_t *pages)
{
    json_t *ids = json_array();
    struct ck_x_search q = tag_query();
    q.max_results = per_page;
    char token[128] = "";
    *pages = 0;
    do {
        struct ck_x_page p;
        q.next_token = token[0] != '\0' ? token : NULL;
        search(s, &q, &p, NULL);
        for (size_t i = 0; i < json_array_size(p.items); i++)
            json_array_append(ids, json_object_get(json_array_get(p.items, i), "id"));
        assert_int_equal(p.result_count, (long)json_array_size(p.items));
        snprintf(token, sizeof token, "%s", p.next_token != NULL ? p.next_token : "");
        ck_x_page_finish(&p);
        (*pages)++;
    } while (token[0] != '\0' && *pages < 200);
    return ids;
}

static void test_search_paging_since(void **state)
{
    struct sim s;
    sim_start(&s, "1000");
    struct ck_x_page first;
    struct ck_ratelimit rl;
    ck_ratelimit_init(&rl);
    struct ck_x_search q = tag_query();
    search(&s, &q, &first, &rl);
    assert_int_equal(json_array_size(first.items), CK_X_MAX_RESULTS);
    assert_non_null(first.next_token);
    assert_true(rl.known && rl.limit == 1000 && rl.remaining == 999);
    /* Paging by next_token, 100 or 10 at a time: the same tweets, newest first. */
    size_t big_pages, small_pages;
    json_t *big = all_ids(&s, 100, &big_pages);
    json_t *small = all_ids(&s, 10, &small_pages);
    size_t n = json_array_size(big);
    assert_true(n > CK_X_MAX_RESULTS && big_pages == (n + 99) / 100);
    assert_true(small_pages == (n + 9) / 10);
    assert_true(json_equal(big, small));
    for (size_t i = 1; i < n; i++) {
        const char *a = json_string_value(json_array_get(big, i - 1));
        const char *b = json_string_value(json_array_get(big, i));
        assert_true(ck_id_order(a, b) > 0);
    }
    /* since_id = the newest: nothing new, and a page without data. */
    struct ck_x_page p;
    q = tag_query();
    q.since_id = first.newest_id;
    search(&s, &q, &p, NULL);
    assert_int_equal(json_array_size(p.items), 0);
    assert_int_equal(p.result_count, 0);
    ck_x_page_finish(&p);
    /* since_id = the 11th newest: the 10 above it. */
    q.since_id = json_string_value(json_array_get(big, 10));
    search(&s, &q, &p, NULL);
    assert_int_equal(json_array_size(p.items), 10);
    ck_x_page_finish(&p);
    /* A window around the whole chat (the simulator's created_at is the
     * chat's clock, 60x ahead): the same first page. */
    q = tag_query();
    q.start_ms = ck_time_now_ms() - 3 * 3600000LL;
    q.end_ms = ck_time_now_ms() + 3 * 3600000LL;
    search(&s, &q, &p, NULL);
    assert_int_equal(json_array_size(p.items), CK_X_MAX_RESULTS);
    assert_true(
        json_equal(json_object_get(json_array_get(p.items, 0), "id"), json_array_get(big, 0)));
    ck_x_page_finish(&p);
    /* A window that ended before the chat: nothing. */
    q.end_ms = ck_time_now_ms() - 2 * 3600000LL;
    search(&s, &q, &p, NULL);
    assert_int_equal(json_array_size(p.items), 0);
    ck_x_page_finish(&p);
    json_decref(big);
    json_decref(small);
    ck_x_page_finish(&first);
    sim_stop(&s);
}

static void post(const struct sim *s, const char *text, const char *reply_to, char **id,
                 enum ck_x_post_error *kind, int want)
{
    struct ck_x_oauth1 k;
    assert_int_equal(ck_x_oauth1_parse("ck:cs:at:ats", &k, NULL), 0);
    struct ck_x_auth auth = {.oauth1 = &k, .nonce = "nonce12345678", .timestamp = 1800000000};
    struct ck_request req;
    struct ck_response resp = {0};
    struct ck_error err = {0};
    assert_int_equal(ck_x_post_request(s->base, &auth, text, reply_to, &req, &err), 0);
    fetch(&req, &resp);
    int rc = ck_x_parse_post(&resp, id, kind, &err);
    if (rc != want)
        fail_msg("post: %d (%s), wanted %d", rc, err.msg, want);
    ck_request_finish(&req);
    ck_response_finish(&resp);
    ck_x_oauth1_finish(&k);
}

static void test_post_lookup_thread_duplicate(void **state)
{
    struct sim s;
    sim_start(&s, "1000");
    char *id = NULL, *reply = NULL, *again = NULL;
    enum ck_x_post_error kind;
    post(&s, "Q9 What will you read next? #uklibchat", NULL, &id, &kind, 0);
    assert_int_equal(kind, CK_X_POST_OK);
    /* One tweet by id: ours, with its text, normalised. */
    struct ck_request req;
    struct ck_response resp = {0};
    struct ck_x_page p;
    struct ck_error err = {0};
    assert_int_equal(ck_x_tweet_request(s.base, "APPTOKEN", id, &req, &err), 0);
    fetch(&req, &resp);
    assert_int_equal(ck_x_parse_search(&resp, &p, &err), 0);
    assert_int_equal(p.n_own, 1);
    struct ck_message m;
    assert_int_equal(ck_platform_x.normalise(json_array_get(p.items, 0), &m, &err), 0);
    assert_string_equal(m.id, id);
    assert_string_equal(m.text, "Q9 What will you read next? #uklibchat");
    ck_message_finish(&m);
    ck_x_page_finish(&p);
    ck_request_finish(&req);
    ck_response_finish(&resp);
    /* A reply threads under it: the conversation search finds both. */
    post(&s, "A9 more of the same #uklibchat", id, &reply, &kind, 0);
    struct ck_x_search q = tag_query();
    q.hashtag = NULL;
    q.conversation_id = id;
    search(&s, &q, &p, NULL);
    assert_int_equal(json_array_size(p.items), 2);
    struct ck_message r;
    assert_int_equal(ck_platform_x.normalise(json_array_get(p.items, 0), &r, &err), 0);
    assert_string_equal(r.id, reply);
    assert_string_equal(r.reply_to, id);
    ck_message_finish(&r);
    ck_x_page_finish(&p);
    /* The same text again: X refuses it, and says what to do. */
    post(&s, "Q9 What will you read next? #uklibchat", NULL, &again, &kind, CK_EHTTP);
    assert_int_equal(kind, CK_X_POST_DUPLICATE);
    assert_null(again);
    /* A tweet that is not there. */
    assert_int_equal(ck_x_tweet_request(s.base, "APPTOKEN", "12345", &req, &err), 0);
    fetch(&req, &resp);
    assert_int_equal(ck_x_parse_search(&resp, &p, &err), CK_ENOTFOUND);
    ck_request_finish(&req);
    ck_response_finish(&resp);
    free(id);
    free(reply);
    sim_stop(&s);
}

static void test_rate_limited(void **state)
{
    struct sim s;
    sim_start(&s, "2");
    struct ck_x_search q = tag_query();
    struct ck_x_page p;
    search(&s, &q, &p, NULL);
    ck_x_page_finish(&p);
    search(&s, &q, &p, NULL);
    ck_x_page_finish(&p);
    struct ck_request req;
    struct ck_response resp = {0};
    struct ck_error err = {0};
    assert_int_equal(ck_x_search_request(s.base, "APPTOKEN", &q, &req, &err), 0);
    fetch(&req, &resp);
    assert_int_equal(resp.status, 429);
    assert_int_equal(ck_x_parse_search(&resp, &p, &err), CK_ERATELIMIT);
    struct ck_ratelimit rl;
    ck_ratelimit_init(&rl);
    int64_t now = ck_time_now_ms();
    assert_int_equal(ck_x_ratelimit(&resp, now, &rl), 0);
    assert_int_equal(rl.remaining, 0);
    assert_true(rl.blocked_until_ms >= now && rl.blocked_until_ms <= now + 5 * 60000 + 1000);
    ck_request_finish(&req);
    ck_response_finish(&resp);
    sim_stop(&s);
}

static int teardown(void **state)
{
    if (running > 0) {
        kill(running, SIGTERM);
        int st;
        waitpid(running, &st, 0);
        running = 0;
    }
    return 0;
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: test_sim_x CHATKEEPER SCRIPT\n");
        return 2;
    }
    bin = argv[1];
    script = argv[2];
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_search_paging_since, teardown),
        cmocka_unit_test_teardown(test_post_lookup_thread_duplicate, teardown),
        cmocka_unit_test_teardown(test_rate_limited, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
