/* The publish targets (src/publish/wordpress.c, micropub.c) against the fake
 * server of tests/run/fake_mastodon.h on 127.0.0.1: a create (201) recorded in
 * state.json, refused credentials (401), a redirect (not followed: the token
 * goes nowhere else), and a 500 that leaves nothing recorded, then a second
 * run that creates the post exactly once. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "fake_mastodon.h"
#include "publish_internal.h"

static char dir[64], state_path[128];
static struct ck_session sess;
static struct ck_publish_opts opts;

static int setup(void **state)
{
    if (fake_start(state) != 0 || fake_tmpdir(dir, sizeof dir, "pubtarget") != 0)
        return -1;
    snprintf(state_path, sizeof state_path, "%s/state.json", dir);
    sess.hashtag = "uklibchat";
    opts.timeout_ms = 10000;
    setenv("CK_TEST_PUB_SECRET", "s3cret pass", 1);
    return 0;
}

static int teardown(void **state)
{
    if (fake_rmdir(dir) != 0)
        return -1;
    return fake_stop(state);
}

/* A publish run's shared state, fresh (nothing published yet). */
static void pub_init(struct ck_pub *p)
{
    *p = (struct ck_pub){.dir = dir,
                         .s = &sess,
                         .opts = &opts,
                         .out = fopen("/dev/null", "w"),
                         .state = json_object(),
                         .state_path = state_path,
                         .title = "Online networks",
                         .slug = "uklibchat-2026-12-03-online-networks",
                         .key = "ck-0123456789abcdef",
                         .html = "<p>What we said.</p>"};
    assert_non_null(p->out);
    remove(state_path);
}

static void pub_finish(struct ck_pub *p)
{
    fclose(p->out);
    json_decref(p->state);
}

/* What state.json on disk says was published to target, or NULL. New. */
static json_t *on_disk(const char *target)
{
    json_t *doc = json_load_file(state_path, 0, NULL);
    json_t *v = json_incref(json_object_get(json_object_get(doc, "published"), target));
    json_decref(doc);
    return v;
}

/* ---- Micropub ---- */

static json_t *mp_conf(void)
{
    char endpoint[128];
    snprintf(endpoint, sizeof endpoint, "%s/micropub", fake.base);
    return json_pack("{s:s s:s}", "endpoint", endpoint, "token_env", "CK_TEST_PUB_SECRET");
}

static void micropub_created_then_updated(void **state)
{
    (void)state;
    static const struct fake_canned script[] = {
        {"POST", "/micropub", 201, "", "Location: /2026/12/online-networks", false},
        {"POST", "/micropub", 204, "", NULL, false},
    };
    fake_script(script, 2);
    struct ck_pub p;
    pub_init(&p);
    json_t *conf = mp_conf();
    struct ck_error err = {0};
    assert_int_equal(ck_pub_micropub(&p, conf, &err), 0);
    json_t *rec = on_disk("micropub");
    char want[128];
    snprintf(want, sizeof want, "%s/2026/12/online-networks", fake.base);
    assert_string_equal(json_string_value(json_object_get(rec, "url")), want);
    json_decref(rec);
    pthread_mutex_lock(&fake.mu);
    assert_int_equal(fake.n_reqs, 1);
    assert_string_equal(fake.reqs[0].auth, "Bearer s3cret pass");
    assert_non_null(strstr(fake.reqs[0].body, "\"h-entry\""));
    assert_non_null(strstr(fake.reqs[0].body, "\"mp-slug\""));
    pthread_mutex_unlock(&fake.mu);
    /* Publishing again updates the recorded post instead of creating one. */
    assert_int_equal(ck_pub_micropub(&p, conf, &err), 0);
    pthread_mutex_lock(&fake.mu);
    assert_int_equal(fake.n_reqs, 2);
    assert_non_null(strstr(fake.reqs[1].body, "\"action\":\"update\""));
    assert_non_null(strstr(fake.reqs[1].body, want));
    pthread_mutex_unlock(&fake.mu);
    json_decref(conf);
    pub_finish(&p);
}

static void micropub_401_redirect_500(void **state)
{
    (void)state;
    static const struct fake_canned script[] = {
        {"POST", "/micropub", 401,
         "{\"error\":\"unauthorized\",\"error_description\":\"bad token\"}", NULL, false},
        {"POST", "/micropub", 307, "", "Location: http://127.0.0.2:9/steal", false},
        {"POST", "/micropub", 500, "<html>boom</html>", NULL, false},
        {"GET", "/micropub", 200, "{\"items\":[]}", NULL, false},
        {"POST", "/micropub", 202, "", "Location: https://blog.example/p/1", false},
    };
    fake_script(script, 5);
    struct ck_pub p;
    pub_init(&p);
    json_t *conf = mp_conf();
    struct ck_error err = {0};
    assert_int_equal(ck_pub_micropub(&p, conf, &err), CK_EAUTH);
    assert_non_null(strstr(err.msg, "HTTP 401 (unauthorized: bad token); check the token"));
    assert_null(strstr(err.msg, "s3cret"));
    /* A redirect is not followed: the token is not sent to another address. */
    err = (struct ck_error){0};
    assert_int_equal(ck_pub_micropub(&p, conf, &err), CK_EHTTP);
    assert_non_null(strstr(err.msg, "HTTP 307"));
    err = (struct ck_error){0};
    assert_int_equal(ck_pub_micropub(&p, conf, &err), CK_EHTTP);
    assert_non_null(strstr(err.msg, "HTTP 500 (boom)"));
    /* A 500 may hide a create: the intent stays, and the next run asks the
     * endpoint for its posts (none carries the key) before it creates once. */
    json_t *intent = on_disk("micropub");
    assert_string_equal(json_string_value(json_object_get(intent, "status")), "creating");
    json_decref(intent);
    err = (struct ck_error){0};
    assert_int_equal(ck_pub_micropub(&p, conf, &err), 0);
    json_t *rec = on_disk("micropub");
    assert_string_equal(json_string_value(json_object_get(rec, "url")), "https://blog.example/p/1");
    json_decref(rec);
    pthread_mutex_lock(&fake.mu);
    assert_int_equal(fake.n_reqs, 5);
    for (size_t i = 0; i < fake.n_reqs; i++)
        assert_string_equal(fake.reqs[i].path, "/micropub");
    assert_string_equal(fake.reqs[3].method, "GET");
    pthread_mutex_unlock(&fake.mu);
    json_decref(conf);
    pub_finish(&p);
}

/* ---- WordPress ---- */

#define WP_INDEX                                                                                   \
    {                                                                                              \
        "GET", "/wp-json/", 200, "{\"routes\":{}}", NULL, false                                    \
    }
#define WP_ME                                                                                      \
    {                                                                                              \
        "GET", "/wp-json/wp/v2/users/me", 200, "{\"capabilities\":{\"edit_posts\":true}}", NULL,   \
            false                                                                                  \
    }
#define WP_NONE                                                                                    \
    {                                                                                              \
        "GET", "/wp-json/wp/v2/posts", 200, "[]", NULL, false                                      \
    }
#define WP_CREATED                                                                                 \
    {                                                                                              \
        "POST", "/wp-json/wp/v2/posts", 201,                                                       \
            "{\"id\":7,\"link\":\"http://127.0.0.1/?p=7\",\"slug\":\"uklibchat-2026-12-03\","      \
            "\"status\":\"draft\"}",                                                               \
            NULL, false                                                                            \
    }

static json_t *wp_conf(void)
{
    return json_pack("{s:s s:s s:s}", "url", fake.base, "user", "editor", "password_env",
                     "CK_TEST_PUB_SECRET");
}

static void wordpress_created(void **state)
{
    (void)state;
    static const struct fake_canned script[] = {WP_INDEX, WP_ME, WP_NONE, WP_CREATED};
    fake_script(script, 4);
    struct ck_pub p;
    pub_init(&p);
    json_t *conf = wp_conf();
    struct ck_error err = {0};
    assert_int_equal(ck_pub_wordpress(&p, conf, &err), 0);
    json_t *rec = on_disk("wordpress");
    assert_int_equal(json_integer_value(json_object_get(rec, "id")), 7);
    assert_string_equal(json_string_value(json_object_get(rec, "key")), "ck-0123456789abcdef");
    json_decref(rec);
    pthread_mutex_lock(&fake.mu);
    assert_int_equal(fake.n_reqs, 4);
    assert_string_equal(fake.reqs[0].auth, ""); /* the public index gets no password */
    assert_string_equal(fake.reqs[1].auth, "Basic ZWRpdG9yOnMzY3JldCBwYXNz");
    assert_non_null(strstr(fake.reqs[2].query, "search=ck-0123456789abcdef"));
    assert_non_null(strstr(fake.reqs[3].body, "chatkeeper:session=ck-0123456789abcdef"));
    assert_non_null(strstr(fake.reqs[3].body, "\"status\":\"draft\""));
    pthread_mutex_unlock(&fake.mu);
    json_decref(conf);
    pub_finish(&p);
}

static void wordpress_401_redirect_500(void **state)
{
    (void)state;
    static const struct fake_canned script[] = {
        /* run 1: the password is refused before anything is created */
        WP_INDEX,
        {"GET", "/wp-json/wp/v2/users/me", 401,
         "{\"code\":\"rest_not_logged_in\",\"message\":\"You are not currently logged in.\"}", NULL,
         false},
        /* run 2: the site moved; the redirect is not followed */
        {"GET", "/wp-json/", 301, "", "Location: http://127.0.0.2:9/wp-json/", false},
        {"GET", "/", 301, "", "Location: http://127.0.0.2:9/", false},
        /* run 3: the create fails with a 500 */
        WP_INDEX,
        WP_ME,
        WP_NONE,
        {"POST", "/wp-json/wp/v2/posts", 500, "<html><body>Internal Server Error</body></html>",
         NULL, false},
        /* run 4: the post did not come to be; it is created once */
        WP_INDEX,
        WP_ME,
        WP_NONE,
        WP_CREATED,
    };
    fake_script(script, sizeof script / sizeof script[0]);
    struct ck_pub p;
    pub_init(&p);
    json_t *conf = wp_conf();
    struct ck_error err = {0};
    assert_int_equal(ck_pub_wordpress(&p, conf, &err), CK_EAUTH);
    assert_non_null(strstr(err.msg, "refused the credentials of user 'editor' (401"));
    assert_null(strstr(err.msg, "s3cret"));
    err = (struct ck_error){0};
    assert_int_equal(ck_pub_wordpress(&p, conf, &err), CK_EHTTP);
    assert_non_null(strstr(err.msg, "no WordPress REST API at"));
    err = (struct ck_error){0};
    assert_int_equal(ck_pub_wordpress(&p, conf, &err), CK_EHTTP);
    assert_non_null(strstr(err.msg, "failed with HTTP 500 (not JSON but an HTML page"));
    assert_null(on_disk("wordpress"));
    err = (struct ck_error){0};
    assert_int_equal(ck_pub_wordpress(&p, conf, &err), 0);
    json_t *rec = on_disk("wordpress");
    assert_int_equal(json_integer_value(json_object_get(rec, "id")), 7);
    json_decref(rec);
    pthread_mutex_lock(&fake.mu);
    assert_int_equal(fake_count("POST", "/wp-json/wp/v2/posts"), 2);
    assert_int_equal(fake.reqs[fake.n_reqs - 1].code, 201);
    /* Every scripted answer was asked for, in order, and nothing else. */
    assert_int_equal(fake.n_reqs, sizeof script / sizeof script[0]);
    for (size_t i = 0; i < fake.n_reqs; i++)
        assert_string_equal(fake.reqs[i].path, script[i].path);
    pthread_mutex_unlock(&fake.mu);
    json_decref(conf);
    pub_finish(&p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(micropub_created_then_updated),
        cmocka_unit_test(micropub_401_redirect_500),
        cmocka_unit_test(wordpress_created),
        cmocka_unit_test(wordpress_401_redirect_500),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
