/* render.h: every output of a session directory from a hand-built fixture
 * (replies, chatter, boosts, a message in two questions, hostile fields, a
 * corrupt line, invalid UTF-8, a 5,000-character post, a long reply chain),
 * with an earlier and a later session beside it in the same archive folder.
 * The numbers asserted below were worked out by hand from the fixture. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>
#include <libxml/HTMLparser.h>
#include <libxml/parser.h>
#include <libxml/xpath.h>

#include "chatkeeper/render.h"
#include "chatkeeper/terminal.h"
#include "chatkeeper/text.h"
#include "chatkeeper/writeup.h"

static char root[64];
static char cur[128], old[128], later[128];

#define HOST "@host@x.org"
#define EVIL_NAME "<img src=x onerror=alert(1)>"

static void write_file(const char *dir, const char *name, const char *data, size_t len)
{
    char path[256];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, len, f), len);
    fclose(f);
}

static char *read_file(const char *dir, const char *name, size_t *len_out)
{
    char path[256];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)n + 1);
    assert_non_null(buf);
    assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
    buf[n] = '\0';
    fclose(f);
    if (len_out)
        *len_out = (size_t)n;
    return buf;
}

static void session(const char *dir, const char *title, const char *start)
{
    char buf[2048];
    int n = snprintf(buf, sizeof buf,
                     "{\"title\":\"%s\",\"hashtag\":\"uklibchat\",\"timezone\":\"Europe/London\","
                     "\"start\":\"%s\",\"duration\":\"1h\",\"lead\":\"10m\",\"grace\":\"20m\","
                     "\"platform\":{\"type\":\"mastodon\",\"base_url\":\"https://x.org\"},"
                     "\"facilitators\":[\"" HOST "\"],\"post\":false,"
                     "\"questions\":[{\"at\":\"5m\",\"text\":\"How do you use networks?\"},"
                     "{\"at\":\"20m\",\"text\":\"What helped you <most>?\"},"
                     "{\"at\":\"35m\",\"text\":\"Tips?\"}]}",
                     title, start);
    write_file(dir, "session.json", buf, (size_t)n);
}

/* Append one message line. who: handle (name and url derived unless given). */
struct msg {
    const char *id, *at, *who, *name, *profile, *url, *text, *reply_to, *boost_of, *by;
    int q[2];
    int likes, boosts;
};

static void add(FILE *f, const struct msg *m)
{
    char created[40];
    snprintf(created, sizeof created, "2026-12-03T%s.000Z", m->at);
    char profile[128], url[128];
    snprintf(profile, sizeof profile, "https://x.org/%s", m->who);
    snprintf(url, sizeof url, "https://x.org/s/%s", m->id);
    json_t *qs = json_array();
    for (int i = 0; i < 2; i++)
        if (m->q[i])
            json_array_append_new(qs, json_integer(m->q[i]));
    json_t *j = json_pack("{s:s, s:s, s:s, s:s, s:{s:s, s:s, s:s, s:s}, s:s, s:s?, s:s?, s:n, "
                          "s:{s:i, s:i, s:i}, s:o, s:s?}",
                          "id", m->id, "platform", "mastodon", "url", m->url ? m->url : url,
                          "created_at", created, "author", "id", m->who, "handle", m->who, "name",
                          m->name ? m->name : m->who + 1, "url", m->profile ? m->profile : profile,
                          "text", m->text ? m->text : "", "reply_to", m->reply_to, "boost_of",
                          m->boost_of, "edited_at", "counts", "replies", 0, "boosts", m->boosts,
                          "likes", m->likes, "questions", qs, "assigned_by", m->by);
    assert_non_null(j);
    char *line = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER);
    fprintf(f, "%s\n", line);
    free(line);
    json_decref(j);
}

static void fixture(void)
{
    char path[256];
    snprintf(path, sizeof path, "%s/messages.jsonl", cur);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    char *longtext = malloc(5001);
    memset(longtext, 'y', 5000);
    longtext[0] = 'A';
    longtext[5000] = '\0';
    const struct msg ms[] = {
        {"m01", "19:55:00", HOST, "Host", .text = "Welcome to #uklibchat! Say hi.", .likes = 2},
        {"m02", "19:57:00", "@alice@x.org", "Alice", .text = "Hi all, Alice from Leeds #libraries"},
        {"m03", "20:05:00", HOST, "Host", .text = "Q1 How do you use networks? #uklibchat",
         .q = {1}, .by = "question"},
        {"m04", "20:06:00", "@alice@x.org", "Alice", .reply_to = "m03",
         .text = "A1 I use Mastodon daily, see https://example.org/a.", .q = {1}, .by = "tag",
         .likes = 5, .boosts = 1},
        {"m05", "20:07:00", "@bob@y.net", "Bob", .reply_to = "m04",
         .text = "@alice same here, \"quoted\", with comma\nsecond line", .q = {1}, .by = "reply",
         .likes = 1},
        {"m06", "20:08:00", "@carol@x.org", "Carol", .reply_to = "m05", .text = "agree", .q = {1},
         .by = "reply"},
        {"m07", "20:08:30", "@dave@x.org", "Dave", .boost_of = "m04", .text = "BOOSTED TEXT"},
        {"m08", "20:10:00", "@evil@x.org", EVIL_NAME, .profile = "javascript:alert(1)",
         .url = "javascript:alert(3)",
         .text = "<script>alert(1)</script> javascript:alert(2) data:text/html,x \" ' "
                 "<a href=\"javascript:x\" onclick=\"y\">",
         .q = {1}, .by = "time", .likes = 7},
        {"m09", "20:12:00", "@frank@x.org", "=cmd|' /C calc'!A0",
         .text = "=HYPERLINK(\"http://evil\",\"x\")", .q = {1}, .by = "time"},
        {"m10", "20:20:00", HOST, "Host", .text = "Q2 What helped you most?", .q = {2},
         .by = "question"},
        {"m11", "20:21:00", "@alice@x.org", "Alice",
         .text = "A1 A2 both: https://example.org/a and #CPD", .q = {1, 2}, .by = "tag",
         .likes = 3},
        {"m12", "20:22:00", "@bob@y.net",
         "Bob \xE2\x80\xAE"
         "evil",
         .text = "A2 Twitter \xE2\x80\xAEgnp.exe", .q = {2}, .by = "tag", .boosts = 2},
        {"m13", "20:23:00", "@carol@x.org", "Carol", .reply_to = "m05", .text = "A2 still thinking",
         .q = {2}, .by = "tag"},
        {"m14", "20:24:00", "@grace@x.org", "Grace", .text = longtext, .q = {2}, .by = "time"},
        {"m16", "20:36:00", HOST, "Host", .text = "Q3 Tips?", .q = {3}, .by = "question"},
        {"m17", "20:37:00", "@ivan@x.org", "Ivan", .reply_to = "zzz-missing", .text = "Late answer",
         .q = {3}, .by = "reply"},
        {"m18", "20:38:00", "@erin@x.org", "Erin", .boost_of = "m16"},
        {"m19", "20:40:00", "@alice@x.org", "Alice",
         .text = "#CPD is #Great, #uklibchat https://example.org/b#frag", .q = {3}, .by = "time"},
        {"m20", "21:05:00", HOST, "Host", .text = "Thanks all!"},
    };
    for (size_t i = 0; i < sizeof ms / sizeof ms[0]; i++) {
        add(f, &ms[i]);
        if (strcmp(ms[i].id, "m14") == 0) {
            /* Invalid UTF-8 inside a line (jansson refuses it as is). */
            fputs("{\"id\":\"m15\",\"platform\":\"mastodon\",\"url\":\"https://x.org/s/m15\","
                  "\"created_at\":\"2026-12-03T20:25:00.000Z\",\"author\":{\"id\":\"h\","
                  "\"handle\":\"@heidi@x.org\",\"name\":\"Heidi\",\"url\":\"https://x.org/h\"},"
                  "\"text\":\"A2 bad \xff\xfe bytes\",\"reply_to\":null,\"boost_of\":null,"
                  "\"edited_at\":null,\"counts\":{\"replies\":0,\"boosts\":0,\"likes\":0},"
                  "\"questions\":[2],\"assigned_by\":\"tag\"}\n",
                  f);
            fputs("{not json at all\n", f);
        }
    }
    /* A reply chain of eight under m17: deeper than CK_RENDER_MAX_DEPTH. */
    for (int i = 0; i < 8; i++) {
        char id[8], prev[8], at[16], text[32];
        snprintf(id, sizeof id, "m2%d", i + 1);
        snprintf(prev, sizeof prev, i == 0 ? "m17" : "m2%d", i);
        snprintf(at, sizeof at, "20:4%d:30", i + 1);
        snprintf(text, sizeof text, "chain %d", i + 1);
        struct msg c = {id,           at,       "@ivan@x.org", "Ivan", .reply_to = prev,
                        .text = text, .q = {3}, .by = "reply"};
        add(f, &c);
    }
    fclose(f);
    free(longtext);
}

static int setup(void **state)
{
    (void)state;
    snprintf(root, sizeof root, "/tmp/ck-render-XXXXXX");
    assert_non_null(mkdtemp(root));
    snprintf(cur, sizeof cur, "%s/2026-12-03-networks", root);
    snprintf(old, sizeof old, "%s/2026-11-19-old", root);
    snprintf(later, sizeof later, "%s/2026-12-17-later", root);
    mkdir(cur, 0755);
    mkdir(old, 0755);
    mkdir(later, 0755);
    session(cur, "Online <networks> & \\\"you\\\"", "2026-12-03T20:00");
    session(old, "Old chat", "2026-11-19T20:00");
    session(later, "Later chat", "2026-12-17T20:00");
    fixture();
    /* Earlier: alice and bob wrote (returning); carol only boosted (still new). */
    FILE *f = fopen("/dev/null", "r");
    fclose(f);
    const char *olds =
        "{\"id\":\"o1\",\"created_at\":\"2026-11-19T20:06:00.000Z\",\"author\":{\"handle\":"
        "\"@Alice@x.org\"},\"text\":\"hi\",\"boost_of\":null,\"questions\":[]}\n"
        "{\"id\":\"o2\",\"created_at\":\"2026-11-19T20:07:00.000Z\",\"author\":{\"handle\":"
        "\"@bob@y.net\"},\"text\":\"hi\",\"boost_of\":null,\"questions\":[]}\n"
        "{\"id\":\"o3\",\"created_at\":\"2026-11-19T20:08:00.000Z\",\"author\":{\"handle\":"
        "\"@carol@x.org\"},\"text\":\"\",\"boost_of\":\"o1\",\"questions\":[]}\n";
    write_file(old, "messages.jsonl", olds, strlen(olds));
    /* Later: grace wrote, but after this session, so she is new here. */
    const char *laters =
        "{\"id\":\"l1\",\"created_at\":\"2026-12-17T20:06:00.000Z\",\"author\":{\"handle\":"
        "\"@grace@x.org\"},\"text\":\"hi\",\"boost_of\":null,\"questions\":[]}\n";
    write_file(later, "messages.jsonl", laters, strlen(laters));
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[128];
    if (getenv("CK_KEEP_FIXTURE") != NULL) { /* to look at the outputs by hand */
        fprintf(stderr, "fixture kept in %s\n", root);
        return 0;
    }
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", root);
    return system(cmd) == 0 ? 0 : -1;
}

static const char *outputs[] = {"transcript.html", "transcript.md", "messages.csv", "summary.json",
                                "activity.svg"};

static void test_render_deterministic(void **state)
{
    (void)state;
    struct ck_render_stats st;
    struct ck_error err = {0};
    assert_int_equal(ck_render_session(cur, &st, &err), 0);
    assert_int_equal(st.lines, 29);
    assert_int_equal(st.corrupt_lines, 1);
    assert_int_equal(st.messages, 26);
    assert_int_equal(st.boosts, 2);
    assert_int_equal(st.people, 9);
    assert_int_equal(st.questions, 3);
    char *first[5];
    size_t len[5];
    for (int i = 0; i < 5; i++) {
        first[i] = read_file(cur, outputs[i], &len[i]);
        /* Every output is valid UTF-8 (the invalid bytes became U+FFFD). */
        char *clean = ck_utf8_sanitize(first[i], len[i]);
        assert_string_equal(clean, first[i]);
        free(clean);
    }
    assert_int_equal(ck_render_session(cur, NULL, &err), 0);
    for (int i = 0; i < 5; i++) {
        size_t n;
        char *again = read_file(cur, outputs[i], &n);
        assert_int_equal(n, len[i]);
        assert_memory_equal(again, first[i], n);
        free(again);
        free(first[i]);
    }
    /* No temp files left behind. */
    char cmd[256];
    snprintf(cmd, sizeof cmd, "ls '%s' | grep -q tmp", cur);
    assert_int_not_equal(system(cmd), 0);
}

/* ---- HTML ---- */

static xmlXPathObjectPtr xp(xmlDocPtr doc, const char *expr)
{
    xmlXPathContextPtr ctx = xmlXPathNewContext(doc);
    xmlXPathObjectPtr r = xmlXPathEvalExpression((const xmlChar *)expr, ctx);
    xmlXPathFreeContext(ctx);
    assert_non_null(r);
    return r;
}

static int count(xmlDocPtr doc, const char *expr)
{
    xmlXPathObjectPtr r = xp(doc, expr);
    int n = r->nodesetval ? r->nodesetval->nodeNr : 0;
    xmlXPathFreeObject(r);
    return n;
}

static double number(xmlDocPtr doc, const char *expr)
{
    xmlXPathObjectPtr r = xp(doc, expr);
    double v = r->floatval;
    xmlXPathFreeObject(r);
    return v;
}

/* No script, no event handler, and links only to http(s), a fragment or
 * (with relative) a path without a scheme. An image only as a thumbnail:
 * an http(s) src, alt text, loading lazily, sending no referrer. */
static void check_safe_in(xmlNodePtr n, bool relative)
{
    for (; n != NULL; n = n->next) {
        if (n->type != XML_ELEMENT_NODE)
            continue;
        const char *name = (const char *)n->name;
        assert_string_not_equal(name, "script");
        if (strcmp(name, "img") == 0) {
            xmlChar *alt = xmlGetProp(n, (const xmlChar *)"alt");
            xmlChar *lazy = xmlGetProp(n, (const xmlChar *)"loading");
            xmlChar *ref = xmlGetProp(n, (const xmlChar *)"referrerpolicy");
            assert_non_null(alt);
            assert_true(alt[0] != '\0');
            assert_string_equal((char *)lazy, "lazy");
            assert_string_equal((char *)ref, "no-referrer");
            assert_non_null(xmlHasProp(n, (const xmlChar *)"src"));
            xmlFree(alt);
            xmlFree(lazy);
            xmlFree(ref);
        }
        assert_string_not_equal(name, "iframe");
        assert_string_not_equal(name, "object");
        assert_string_not_equal(name, "link");
        for (xmlAttrPtr a = n->properties; a != NULL; a = a->next) {
            const char *an = (const char *)a->name;
            assert_false((an[0] == 'o' || an[0] == 'O') && (an[1] == 'n' || an[1] == 'N'));
            if (strcmp(an, "href") == 0 || strcmp(an, "src") == 0) {
                xmlChar *v = xmlNodeGetContent((xmlNodePtr)a);
                const char *s = (const char *)v;
                bool rel = relative && strcmp(an, "href") == 0 &&
                           (strchr(s, ':') == NULL || strcspn(s, ":") > strcspn(s, "/")) &&
                           s[0] != '/';
                assert_true(strncmp(s, "https://", 8) == 0 || strncmp(s, "http://", 7) == 0 ||
                            s[0] == '#' || rel);
                xmlFree(v);
            }
        }
        check_safe_in(n->children, relative);
    }
}

static void test_html(void **state)
{
    (void)state;
    size_t len;
    char *html = read_file(cur, "transcript.html", &len);
    htmlDocPtr doc = htmlReadMemory(html, (int)len, "t.html", "UTF-8",
                                    HTML_PARSE_NOERROR | HTML_PARSE_NOWARNING | HTML_PARSE_NONET);
    assert_non_null(doc);
    /* Relative: the link to activity.svg beside it. */
    check_safe_in(xmlDocGetRootElement(doc), true);

    /* Self-contained, phone-ready, accessible. */
    assert_null(strstr(html, "<script"));
    assert_null(strstr(html, "<img"));
    assert_null(strstr(html, "\xE2\x80\xAE")); /* RLO stripped */
    assert_int_equal(count(doc, "/html[@lang='en']"), 1);
    assert_int_equal(count(doc, "//meta[@name='viewport']"), 1);
    assert_int_equal(count(doc, "//link|//*[@src]|//style[contains(.,'url(')]"), 0);
    assert_int_equal(count(doc, "//h1"), 1);
    assert_true(number(doc, "count(//h1/following::h3)") == 0);
    assert_true(strstr(html, "<h1>Online &lt;networks&gt; &amp; &quot;you&quot;</h1>") != NULL);
    assert_int_equal(count(doc, "//header/p/time[@datetime='2026-12-03T20:00:00+00:00']"), 1);

    /* Contents, then sections in order. */
    assert_int_equal(count(doc, "//nav//a[@href='#q1']"), 1);
    assert_int_equal(count(doc, "//nav//a[@href='#q3']"), 1);
    xmlXPathObjectPtr secs = xp(doc, "//section");
    assert_int_equal(secs->nodesetval->nodeNr, 4);
    const char *ids[] = {"q1", "q2", "q3", "chatter"};
    for (int i = 0; i < 4; i++) {
        xmlChar *id = xmlGetProp(secs->nodesetval->nodeTab[i], (const xmlChar *)"id");
        assert_string_equal((char *)id, ids[i]);
        xmlFree(id);
    }
    xmlXPathFreeObject(secs);
    assert_int_equal(count(doc, "//section[@id='q2']/h2[.='Q2. What helped you <most>?']"), 1);
    /* The question post is in the header, with its author and link. */
    assert_int_equal(
        count(doc, "//section[@id='q1']/p[@class='asked']/a[@href='https://x.org/s/m03']"), 1);
    assert_int_equal(count(doc, "//section[@id='q1']//li[contains(.,'Q1 How do you')]"), 0);

    /* Replies nested: bob's reply sits inside alice's item, carol's inside bob's. */
    assert_int_equal(
        count(doc, "//section[@id='q1']/ul/li[p[@class='text' and contains(.,'Mastodon daily')]]"
                   "/ul/li[p[@class='text' and contains(.,'same here')]]"
                   "/ul/li[p[@class='text' and .='agree']]"),
        1);
    /* A reply whose parent is in another question: top level, with a note. */
    assert_int_equal(
        count(doc, "//section[@id='q2']/ul/li[p[@class='text' and contains(.,'still thinking')]]"
                   "/p[@class='meta']/span[@class='re' and contains(.,'@bob@y.net')]"),
        1);
    /* Parent not in the archive. */
    assert_int_equal(count(doc, "//section[@id='q3']/ul/li[p[@class='text' and .='Late answer']]"
                                "/p/span[@class='re' and contains(.,'not in this archive')]"),
                     1);
    /* The chain is capped at CK_RENDER_MAX_DEPTH nested lists. */
    assert_true(number(doc, "count(//section[@id='q3']//li[p[.='chain 4']]/ancestor::ul)") == 5);
    assert_true(number(doc, "count(//section[@id='q3']//li[p[.='chain 5']]/ancestor::ul)") ==
                CK_RENDER_MAX_DEPTH);
    assert_true(number(doc, "count(//section[@id='q3']//li[p[.='chain 6']]/ancestor::ul)") ==
                CK_RENDER_MAX_DEPTH);
    assert_int_equal(count(doc, "//section[@id='q3']//li[p[.='chain 6']]/p/span[@class='re']"), 1);
    assert_int_equal(count(doc, "//li/ul/li/ul/li/ul/li/ul/li/ul/li/ul"), 0);

    /* A message in two questions appears under both; boosts never. */
    assert_int_equal(count(doc, "//section[@id='q1']//p[contains(.,'A1 A2 both')]"), 1);
    assert_int_equal(count(doc, "//section[@id='q2']//p[contains(.,'A1 A2 both')]"), 1);
    assert_null(strstr(html, "BOOSTED TEXT"));
    assert_int_equal(count(doc, "//section[@id='chatter']/ul/li"), 3);

    /* Hostile author: the name is text, the javascript: links are gone. */
    assert_int_equal(count(doc, "//bdi[.='" EVIL_NAME "']"), 1);
    assert_int_equal(count(doc, "//span[@class='who']/bdi[.='" EVIL_NAME "']"), 1);
    assert_int_equal(count(doc, "//p[@class='text' and contains(.,'<script>alert(1)</script>')]"),
                     1);
    assert_null(strstr(html, "href=\"javascript"));
    assert_null(strstr(html, "href=\"data"));
    /* Links in text are clickable, with rel; profile links too. */
    assert_int_equal(count(doc, "//p[@class='text']/a[@href='https://example.org/a' and "
                                "@rel='nofollow ugc noopener']"),
                     3);
    assert_int_equal(count(doc, "//a[@class='who' and @href='https://x.org/@alice@x.org']"), 5);
    /* Counts and times. */
    assert_int_equal(count(doc, "//li[p[contains(.,'Mastodon daily')]]/p[@class='foot' and "
                                "starts-with(.,'5 likes · 1 boost')]"),
                     1);
    assert_int_equal(count(doc, "//li[p[contains(.,'Mastodon daily')]]/p[@class='meta']/"
                                "a[@class='permalink']/"
                                "time[@datetime='2026-12-03T20:06:00+00:00' and .='20:06']"),
                     1);
    /* The 5,000-character post is whole; newlines are <br>. */
    char *y = malloc(5001);
    memset(y, 'y', 4999);
    y[4999] = '\0';
    assert_non_null(strstr(html, y));
    free(y);
    assert_non_null(strstr(html, "with comma<br>\nsecond line"));
    assert_non_null(strstr(html, "A2 bad \xEF\xBF\xBD\xEF\xBF\xBD bytes"));
    assert_int_equal(count(doc, "//footer[contains(.,'26 messages from 9 people, and 2 boosts')]"),
                     1);
    xmlFreeDoc(doc);
    free(html);
}

/* ---- issue 10, item 16: reading the transcript ---- */

static htmlDocPtr parse_html(const char *html, size_t len)
{
    htmlDocPtr doc = htmlReadMemory(html, (int)len, "t.html", "UTF-8",
                                    HTML_PARSE_NOERROR | HTML_PARSE_NOWARNING | HTML_PARSE_NONET);
    assert_non_null(doc);
    return doc;
}

static char *prop(xmlNodePtr n, const char *name)
{
    xmlChar *v = xmlGetProp(n, (const xmlChar *)name);
    char *s = v != NULL ? strdup((const char *)v) : NULL;
    xmlFree(v);
    return s;
}

/* The text of the one <style> of html (new string). */
static char *style_of(const char *dir, const char *name)
{
    size_t len;
    char *html = read_file(dir, name, &len);
    htmlDocPtr doc = parse_html(html, len);
    xmlXPathObjectPtr r = xp(doc, "//head/style");
    assert_int_equal(r->nodesetval ? r->nodesetval->nodeNr : 0, 1);
    xmlChar *css = xmlNodeGetContent(r->nodesetval->nodeTab[0]);
    char *out = strdup((const char *)css);
    xmlFree(css);
    xmlXPathFreeObject(r);
    xmlFreeDoc(doc);
    free(html);
    return out;
}

/* Every message has an anchor, unique in the page and made only of
 * [A-Za-z0-9_-], and its time links to it. Returns how many. */
static int check_anchors(xmlDocPtr doc)
{
    xmlXPathObjectPtr lis = xp(doc, "//ul[@class='thread']/li");
    int n = lis->nodesetval ? lis->nodesetval->nodeNr : 0;
    char **ids = calloc((size_t)n + 1, sizeof *ids);
    for (int i = 0; i < n; i++) {
        xmlNodePtr li = lis->nodesetval->nodeTab[i];
        ids[i] = prop(li, "id");
        assert_non_null(ids[i]);
        assert_true(ids[i][0] != '\0');
        assert_int_equal(strspn(ids[i], "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                        "0123456789_-"),
                         strlen(ids[i]));
        for (int k = 0; k < i; k++)
            assert_string_not_equal(ids[k], ids[i]);
        char expr[512];
        snprintf(expr, sizeof expr,
                 "//li[@id='%s']/p[@class='meta']/a[@class='permalink' and @href='#%s']/time",
                 ids[i], ids[i]);
        assert_int_equal(count(doc, expr), 1);
    }
    for (int i = 0; i < n; i++)
        free(ids[i]);
    free(ids);
    xmlXPathFreeObject(lis);
    return n;
}

static void test_html_reading(void **state)
{
    (void)state;
    size_t len;
    char *html = read_file(cur, "transcript.html", &len);
    htmlDocPtr doc = parse_html(html, len);
    /* Dark mode: the scheme's media query, and colours through it. */
    assert_int_equal(count(doc, "//head/style[contains(.,'@media (prefers-color-scheme: dark)')"
                                " and contains(.,'color-scheme:light dark')]"),
                     1);
    /* The contents list is not numbered twice: its items carry "Q1." and the
     * list is an unnumbered one without bullets. */
    assert_int_equal(count(doc, "//ol"), 0);
    assert_int_equal(count(doc, "//nav/ul[@class='toc']/li"), 4);
    assert_int_equal(count(doc, "//nav/ul/li[1]/a[@href='#q1' and starts-with(.,'Q1. How')]"), 1);
    assert_int_equal(count(doc, "//head/style[contains(.,'ul.toc{list-style:none')]"), 1);
    /* After each section, a way back to the list. */
    assert_int_equal(count(doc, "//nav/h2[@id='contents']"), 1);
    assert_int_equal(count(doc, "//section"), 4);
    assert_int_equal(count(doc, "//section/*[last()][self::p[@class='back']/a[@href='#contents']]"),
                     4);
    /* The chart, linked from the header. */
    assert_int_equal(count(doc, "//header//a[@href='activity.svg']"), 1);
    /* Every message has its own anchor and permalink: 26 messages (the
     * question posts are headers), m11 twice, once per question. */
    assert_int_equal(check_anchors(doc), 26 - 3 + 1);
    assert_int_equal(count(doc, "//section[@id='q1']/ul/li[@id='m-m04']"), 1);
    assert_int_equal(count(doc, "//section[@id='q1']//li[@id='m-m11']"), 1);
    assert_int_equal(count(doc, "//section[@id='q2']//li[@id='q2-m-m11']"), 1);
    assert_int_equal(count(doc, "//section[@id='chatter']//li[@id='m-m01']"), 1);
    xmlFreeDoc(doc);
    free(html);
}

/* Images as thumbnails, hostile ids, alt texts and URLs: a session of its own. */
static void test_html_media(void **state)
{
    (void)state;
    char dir[128];
    snprintf(dir, sizeof dir, "%s/media", root);
    mkdir(dir, 0755);
    session(dir, "Media", "2026-12-03T20:00");
    char path[256];
    snprintf(path, sizeof path, "%s/messages.jsonl", dir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    const struct msg ms[] = {
        {"x1", "20:06:00", "@alice@x.org", "Alice", .q = {1}, .by = "tag",
         .text = "A1 look:\n[image: A <b>cat</b> \"q\" & 'single' \xE2\x80\xAE"
                 "x] "
                 "https://img.example/cat.png?a=1&b=2\nnice"},
        {"x2", "20:07:00", "@bob@y.net", "Bob", .q = {1}, .by = "tag",
         .text = "[image] https://img.example/plain.png"},
        {"x3", "20:08:00", "@evil@x.org", "Evil", .q = {1}, .by = "tag",
         .text = "[image: js] javascript:alert(1)\n[image: d] data:image/png;base64,AAAA\n"
                 "[image: x\" onerror=\"alert(1)] https://img.example/e.png\n"
                 "inline [image: y] https://img.example/inline.png\n"
                 "[image: two] https://img.example/a b.png\n"
                 "[video: clip] https://img.example/v.mp4"},
        {"\"><script>alert(1)</script> x_y", "20:09:00", "@evil@x.org", "Evil", .q = {1},
         .by = "tag", .text = "hostile id"},
        {"Aa-9", "20:10:00", "@bob@y.net", "Bob", .q = {1}, .by = "tag",
         .reply_to = "\"><script>alert(1)</script> x_y", .text = "reply"},
    };
    for (size_t i = 0; i < sizeof ms / sizeof ms[0]; i++)
        add(f, &ms[i]);
    fclose(f);
    struct ck_error err = {0};
    assert_int_equal(ck_render_session(dir, NULL, &err), 0);
    size_t len;
    char *html = read_file(dir, "transcript.html", &len);
    htmlDocPtr doc = parse_html(html, len);
    check_safe_in(xmlDocGetRootElement(doc), true);
    assert_null(strstr(html, "<script"));
    assert_null(strstr(html, "\xE2\x80\xAE"));
    /* Three thumbnails: each a lazy <img> with its alt text, inside a link to the image. */
    assert_int_equal(count(doc, "//img"), 3);
    assert_int_equal(count(doc, "//li[@id='m-x1']/p[@class='text']/a[@class='media' and "
                                "@href='https://img.example/cat.png?a=1&b=2']/img[@src="
                                "'https://img.example/cat.png?a=1&b=2' and @alt=concat("
                                "'A <b>cat</b> \"q\" & ', \"'single' x\")]"),
                     1);
    assert_int_equal(count(doc, "//li[@id='m-x1']/p[@class='text' and starts-with(.,'A1 look:')"
                                " and contains(.,'nice')]"),
                     1);
    assert_int_equal(count(doc, "//li[@id='m-x2']//img[@alt='Image (no description)']"), 1);
    /* The alt's quote did not end the attribute: it is all alt text. */
    assert_int_equal(count(doc, "//img[@alt='x\" onerror=\"alert(1)' and "
                                "@src='https://img.example/e.png']"),
                     1);
    assert_int_equal(count(doc, "//img[@onerror]"), 0);
    /* Not thumbnails: other schemes, mid-line, a URL with a space, a video. */
    assert_int_equal(count(doc, "//img[contains(@src,'inline') or contains(@src,'a b') or "
                                "contains(@src,'v.mp4')]"),
                     0);
    assert_int_equal(count(doc, "//li[@id='m-x3']/p[@class='text' and contains(.,'[image: js] "
                                "javascript:alert(1)') and contains(.,'[video: clip]')]"),
                     1);
    assert_int_equal(count(doc, "//p[@class='text']/a[@href='https://img.example/inline.png']"), 1);
    /* A hostile id becomes a plain token; the reply nests under it. */
    assert_int_equal(check_anchors(doc), 5);
    assert_int_equal(count(doc,
                           "//li[@id='m-_22_3e_3cscript_3ealert_281_29_3c_2fscript_3e_20x_5fy']"
                           "/ul/li[@id='m-Aa-9']"),
                     1);
    xmlFreeDoc(doc);
    /* The same bytes twice. */
    assert_int_equal(ck_render_session(dir, NULL, &err), 0);
    size_t len2;
    char *again = read_file(dir, "transcript.html", &len2);
    assert_int_equal(len, len2);
    assert_memory_equal(html, again, len);
    free(again);
    free(html);
    /* The Markdown keeps them as escaped text. */
    char *md = read_file(dir, "transcript.md", NULL);
    for (const char *p = strchr(md, '<'); p != NULL; p = strchr(p + 1, '<'))
        assert_true(p > md && p[-1] == '\\');
    free(md);
    char cmd[256];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
}

/* writeup.html opened on its own reads like the transcript: the same base
 * style, shared rather than copied (the transcript's style starts with the
 * write-up's). */
static void test_writeup_page(void **state)
{
    (void)state;
    char dir[64];
    snprintf(dir, sizeof dir, "/tmp/ck-writeup-XXXXXX");
    assert_non_null(mkdtemp(dir));
    session(dir, "Write-up <page>", "2026-12-03T20:00");
    char path[256];
    snprintf(path, sizeof path, "%s/messages.jsonl", dir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    const struct msg ms[] = {
        {"w1", "20:05:00", HOST, "Host", .text = "Q1 How?", .q = {1}, .by = "question"},
        {"w2", "20:06:00", "@alice@x.org", EVIL_NAME, .text = "A1 <script>x</script>", .q = {1},
         .by = "tag", .likes = 3},
    };
    for (size_t i = 0; i < sizeof ms / sizeof ms[0]; i++)
        add(f, &ms[i]);
    fclose(f);
    struct ck_error err = {0};
    assert_int_equal(ck_render_session(dir, NULL, &err), 0);
    assert_int_equal(ck_writeup_render(dir, &err), 0);
    char *w = style_of(dir, "writeup.html"), *t = style_of(dir, "transcript.html");
    assert_non_null(strstr(w, "max-width:44rem"));
    assert_non_null(strstr(w, "font-family:system-ui"));
    assert_non_null(strstr(w, "@media (prefers-color-scheme: dark)"));
    assert_memory_equal(t, w, strlen(w));
    free(w);
    free(t);
    size_t len;
    char *html = read_file(dir, "writeup.html", &len);
    htmlDocPtr doc = parse_html(html, len);
    check_safe_in(xmlDocGetRootElement(doc), false);
    assert_null(strstr(html, "<script"));
    assert_int_equal(count(doc, "//meta[@name='viewport']"), 1);
    assert_int_equal(count(doc, "//article/h1[.='Write-up <page>']"), 1);
    xmlFreeDoc(doc);
    free(html);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
}

/* catchup shows the transcript's sections, under the same names, with the
 * same counts, on the same archive. */
static void test_catchup_matches_transcript(void **state)
{
    (void)state;
    size_t len;
    char *html = read_file(cur, "transcript.html", &len);
    htmlDocPtr doc = parse_html(html, len);
    char *out = NULL;
    size_t out_len = 0;
    FILE *f = open_memstream(&out, &out_len);
    assert_non_null(f);
    struct ck_catchup_opts o = {.question = 0, .width = 400};
    struct ck_error err = {0};
    assert_int_equal(ck_catchup_render(f, cur, &o, &err), 0);
    fclose(f);
    /* A heading is the line above a line of '='; the line below it reads
     * "N messages from M people". */
    xmlXPathObjectPtr secs = xp(doc, "//section");
    int n = secs->nodesetval->nodeNr, seen = 0;
    char *save = NULL, *prev = NULL;
    for (char *line = strtok_r(out, "\n", &save); line != NULL;
         line = strtok_r(NULL, "\n", &save)) {
        if (line[0] != '=' || prev == NULL) {
            prev = line;
            continue;
        }
        char *stats = strtok_r(NULL, "\n", &save);
        assert_non_null(stats);
        assert_true(seen < n);
        xmlNodePtr sec = secs->nodesetval->nodeTab[seen++];
        char expr[256];
        char *id = prop(sec, "id");
        snprintf(expr, sizeof expr, "//section[@id='%s']/h2", id);
        xmlXPathObjectPtr h = xp(doc, expr);
        xmlChar *heading = xmlNodeGetContent(h->nodesetval->nodeTab[0]);
        assert_string_equal(prev, (char *)heading);
        xmlFree(heading);
        xmlXPathFreeObject(h);
        /* The messages the transcript shows in the section, and its own count. */
        snprintf(expr, sizeof expr, "count(//section[@id='%s']//li)", id);
        long shown = (long)number(doc, expr);
        snprintf(expr, sizeof expr,
                 "//section[@id='%s']/p[@class='stats' and contains(.,' %ld "
                 "message')]",
                 id, shown);
        if (strcmp(id, "chatter") != 0)
            snprintf(expr, sizeof expr,
                     "//section[@id='%s']/p[@class='stats' and "
                     "starts-with(.,'%ld message')]",
                     id, shown);
        assert_int_equal(count(doc, expr), 1);
        long c = -1, people = -1;
        assert_int_equal(sscanf(stats, "%ld message", &c), 1);
        assert_int_equal(c, shown);
        /* People as the transcript's section counts them (questions say it). */
        const char *from = strstr(stats, " from ");
        assert_non_null(from);
        people = strtol(from + 6, NULL, 10);
        if (strcmp(id, "chatter") != 0) {
            snprintf(expr, sizeof expr,
                     "//section[@id='%s']/p[@class='stats' and "
                     "contains(.,'from %ld pe')]",
                     id, people);
            assert_int_equal(count(doc, expr), 1);
        }
        free(id);
        prev = NULL;
    }
    assert_int_equal(seen, n);
    xmlXPathFreeObject(secs);
    free(out);
    /* One question alone gives the same count. */
    f = open_memstream(&out, &out_len);
    o.question = 2;
    assert_int_equal(ck_catchup_render(f, cur, &o, &err), 0);
    fclose(f);
    char expect[64];
    snprintf(expect, sizeof expect, "\n%ld messages from ",
             (long)number(doc, "count(//section[@id='q2']//li)"));
    assert_non_null(strstr(out, expect));
    free(out);
    xmlFreeDoc(doc);
    free(html);
}

static void test_markdown(void **state)
{
    (void)state;
    char *md = read_file(cur, "transcript.md", NULL);
    const char *title = "# Online \\<networks> & \"you\"\n";
    assert_memory_equal(md, title, strlen(title));
    char *q1 = strstr(md, "\n## Q1\\. How do you use networks?\n");
    char *q2 = strstr(md, "\n## Q2\\. What helped you \\<most>?\n");
    char *q3 = strstr(md, "\n## Q3\\. Tips?\n");
    char *ch = strstr(md, "\n## Before and between the questions\n");
    assert_true(q1 && q2 && q3 && ch && q1 < q2 && q2 < q3 && q3 < ch);
    /* Every '<' in the file is escaped: no raw HTML can reach a renderer. */
    for (const char *p = strchr(md, '<'); p != NULL; p = strchr(p + 1, '<'))
        assert_true(p > md && p[-1] == '\\');
    assert_null(strstr(md, "](javascript"));
    assert_null(strstr(md, "BOOSTED TEXT"));
    assert_non_null(strstr(md, "\\<script>alert(1)\\</script>"));
    assert_non_null(strstr(md, "**\\<img src=x onerror=alert(1)>** @evil@x.org"));
    /* Nesting by indentation; the message's newline is a hard break inside its item. */
    assert_non_null(
        strstr(md, "\n- **[Alice](https://x.org/@alice@x.org)** @alice@x.org · 20:06 · x.org · "
                   "5 likes · 1 boost · boosted by @dave@x.org · [original "
                   "post](https://x.org/s/m04)  \n  A1 I use"));
    assert_non_null(
        strstr(md, "\n  - **[Bob](https://x.org/@bob@y.net)** @bob@y.net · 20:07 · x.org"));
    assert_non_null(strstr(md, "same here, \"quoted\", with comma  \n    second line\n"));
    assert_non_null(strstr(md, "\n    - **[Carol]"));
    assert_non_null(strstr(md, "[https://example.org/a](https://example.org/a)."));
    assert_non_null(strstr(md, "_replying to a post not in this archive_"));
    free(md);
}

/* ---- CSV ---- */

/* A tiny RFC 4180 reader: returns the records' fields, for checks. */
static int csv_records(const char *s, char ***cells, int *ncols)
{
    int rec = 0, col = 0, cols = -1;
    size_t cap = 1024, n = 0;
    *cells = calloc(cap, sizeof **cells);
    while (*s != '\0') {
        char *field = malloc(strlen(s) + 1);
        size_t k = 0;
        if (*s == '"') {
            s++;
            for (;;) {
                assert_true(*s != '\0');
                if (*s == '"' && s[1] == '"') {
                    field[k++] = '"';
                    s += 2;
                } else if (*s == '"') {
                    s++;
                    break;
                } else {
                    field[k++] = *s++;
                }
            }
        } else {
            while (*s != ',' && *s != '\r' && *s != '\0') {
                assert_true(*s != '\n' && *s != '"'); /* unquoted LF or quote: not RFC 4180 */
                field[k++] = *s++;
            }
        }
        field[k] = '\0';
        if (n == cap) {
            cap *= 2;
            *cells = realloc(*cells, cap * sizeof **cells);
        }
        (*cells)[n++] = field;
        col++;
        if (*s == ',') {
            s++;
        } else {
            assert_true(s[0] == '\r' && s[1] == '\n'); /* CRLF ends every record */
            s += 2;
            if (cols < 0)
                cols = col;
            assert_int_equal(col, cols);
            col = 0;
            rec++;
        }
    }
    *ncols = cols;
    return rec;
}

static const char *cell(char **cells, int cols, int rec, int col)
{
    return cells[rec * cols + col];
}

static int find_row(char **cells, int cols, int recs, const char *id)
{
    for (int r = 1; r < recs; r++)
        if (strcmp(cell(cells, cols, r, 0), id) == 0)
            return r;
    fail_msg("no row %s", id);
    return -1;
}

static void test_csv(void **state)
{
    (void)state;
    char *csv = read_file(cur, "messages.csv", NULL);
    char **cells;
    int cols;
    int recs = csv_records(csv, &cells, &cols);
    assert_int_equal(cols, 14);
    assert_int_equal(recs, 1 + 28); /* header + 26 messages + 2 boosts */
    assert_string_equal(cell(cells, cols, 0, 13), "text");
    assert_string_equal(cell(cells, cols, 0, 5), "questions");
    int r = find_row(cells, cols, recs, "m05");
    assert_string_equal(cell(cells, cols, r, 13),
                        "'@alice same here, \"quoted\", with comma\nsecond line");
    assert_string_equal(cell(cells, cols, r, 3), "'@bob@y.net");
    assert_string_equal(cell(cells, cols, r, 2), "2026-12-03 20:07:00");
    assert_string_equal(cell(cells, cols, r, 7), "m04");
    r = find_row(cells, cols, recs, "m09");
    assert_string_equal(cell(cells, cols, r, 13), "'=HYPERLINK(\"http://evil\",\"x\")");
    assert_string_equal(cell(cells, cols, r, 4), "'=cmd|' /C calc'!A0");
    r = find_row(cells, cols, recs, "m11");
    assert_string_equal(cell(cells, cols, r, 5), "1;2");
    assert_string_equal(cell(cells, cols, r, 6), "tag");
    assert_string_equal(cell(cells, cols, r, 9), "3");
    r = find_row(cells, cols, recs, "m07");
    assert_string_equal(cell(cells, cols, r, 8), "m04");
    /* No cell anywhere starts with a formula character. */
    for (int i = 0; i < recs * cols; i++)
        assert_null(strchr("=+-@\t\r", cells[i][0] ? cells[i][0] : 'x'));
    for (int i = 0; i < recs * cols; i++)
        free(cells[i]);
    free(cells);
    free(csv);
}

/* ---- summary.json ---- */

static json_t *jget(json_t *o, const char *path)
{
    char key[64];
    const char *p = path;
    while (o != NULL && *p != '\0') {
        size_t n = strcspn(p, ".");
        snprintf(key, sizeof key, "%.*s", (int)n, p);
        if (key[0] >= '0' && key[0] <= '9')
            o = json_array_get(o, strtoul(key, NULL, 10));
        else
            o = json_object_get(o, key);
        p += n + (p[n] == '.');
    }
    assert_non_null(o);
    return o;
}

static void test_summary(void **state)
{
    (void)state;
    char path[256];
    snprintf(path, sizeof path, "%s/summary.json", cur);
    json_t *s = json_load_file(path, 0, NULL);
    assert_non_null(s);
    /* Keys in a fixed order. */
    const char *order[] = {"title", "hashtag", "timezone", "start", "questions", "overall"};
    size_t i = 0;
    const char *k;
    json_t *v;
    json_object_foreach(s, k, v) assert_string_equal(k, order[i++]);
    assert_int_equal(json_array_size(jget(s, "questions")), 3);

    assert_int_equal(json_integer_value(jget(s, "questions.0.number")), 1);
    assert_string_equal(json_string_value(jget(s, "questions.0.asked_at")),
                        "2026-12-03T20:05:00.000Z");
    assert_int_equal(json_integer_value(jget(s, "questions.0.messages")), 6);
    assert_int_equal(json_integer_value(jget(s, "questions.0.people")), 5);
    assert_int_equal(json_integer_value(jget(s, "questions.0.time_to_first_answer_s")), 60);
    assert_int_equal(json_array_size(jget(s, "questions.0.top_liked")), 3);
    assert_string_equal(json_string_value(jget(s, "questions.0.top_liked.0.id")), "m08");
    assert_string_equal(json_string_value(jget(s, "questions.0.top_liked.1.id")), "m04");
    assert_string_equal(json_string_value(jget(s, "questions.0.top_liked.2.id")), "m11");
    assert_int_equal(json_integer_value(jget(s, "questions.0.top_liked.1.likes")), 5);
    assert_string_equal(json_string_value(jget(s, "questions.0.top_liked.1.author")),
                        "@alice@x.org");
    assert_int_equal(json_array_size(jget(s, "questions.0.top_boosted")), 1);

    assert_int_equal(json_integer_value(jget(s, "questions.1.messages")), 5);
    assert_int_equal(json_integer_value(jget(s, "questions.1.people")), 5);
    assert_string_equal(json_string_value(jget(s, "questions.1.top_boosted.0.id")), "m12");
    assert_int_equal(json_integer_value(jget(s, "questions.1.top_boosted.0.boosts")), 2);

    /* Q3's post came at 20:36, a minute after the run sheet's 20:35. */
    assert_string_equal(json_string_value(jget(s, "questions.2.asked_at")),
                        "2026-12-03T20:36:00.000Z");
    assert_int_equal(json_integer_value(jget(s, "questions.2.messages")), 10);
    assert_int_equal(json_integer_value(jget(s, "questions.2.people")), 2);

    assert_int_equal(json_integer_value(jget(s, "overall.messages")), 26);
    assert_int_equal(json_integer_value(jget(s, "overall.boosts")), 2);
    assert_int_equal(json_integer_value(jget(s, "overall.participants")), 9);
    assert_string_equal(json_string_value(jget(s, "overall.top_contributors.0.handle")),
                        "@ivan@x.org");
    assert_int_equal(json_integer_value(jget(s, "overall.top_contributors.0.messages")), 9);
    assert_string_equal(json_string_value(jget(s, "overall.top_contributors.1.handle")), HOST);
    assert_int_equal(json_integer_value(jget(s, "overall.top_contributors.1.messages")), 5);
    assert_string_equal(json_string_value(jget(s, "overall.top_contributors.2.handle")),
                        "@alice@x.org");
    /* alice (as @Alice) and bob wrote in the earlier session; carol only boosted
     * there, grace wrote only in a later one. */
    assert_int_equal(json_integer_value(jget(s, "overall.returning_participants")), 2);
    assert_int_equal(json_integer_value(jget(s, "overall.new_participants")), 7);
    assert_string_equal(json_string_value(jget(s, "overall.links_shared.0.url")),
                        "https://example.org/a");
    assert_int_equal(json_integer_value(jget(s, "overall.links_shared.0.count")), 2);
    assert_int_equal(json_array_size(jget(s, "overall.links_shared")), 3);
    assert_int_equal(json_array_size(jget(s, "overall.hashtags_used")), 3);
    assert_string_equal(json_string_value(jget(s, "overall.hashtags_used.0.tag")), "cpd");
    assert_int_equal(json_integer_value(jget(s, "overall.hashtags_used.0.count")), 2);
    assert_string_equal(json_string_value(jget(s, "overall.hashtags_used.1.tag")), "great");
    assert_string_equal(json_string_value(jget(s, "overall.hashtags_used.2.tag")), "libraries");
    json_decref(s);
}

/* ---- activity.svg ---- */

static void test_svg(void **state)
{
    (void)state;
    size_t len;
    char *svg = read_file(cur, "activity.svg", &len);
    xmlDocPtr doc = xmlReadMemory(svg, (int)len, "a.svg", NULL, XML_PARSE_NONET);
    assert_non_null(doc); /* well-formed XML */
    xmlNodePtr r = xmlDocGetRootElement(doc);
    assert_string_equal((const char *)r->name, "svg");
    assert_non_null(r->ns);
    assert_string_equal((const char *)r->ns->href, "http://www.w3.org/2000/svg");
    /* It scales to a phone: a viewBox and the full width, no size in pixels. */
    char *vb = prop(r, "viewBox"), *w = prop(r, "width");
    assert_non_null(vb);
    assert_true(strncmp(vb, "0 0 ", 4) == 0);
    assert_string_equal(w, "100%");
    assert_null(xmlHasProp(r, (const xmlChar *)"height"));
    assert_null(xmlHasProp(r, (const xmlChar *)"style"));
    free(vb);
    free(w);
    assert_int_equal(count(doc, "/*/*[local-name()='title']"), 1);
    assert_int_equal(count(doc, "/*/*[local-name()='desc']"), 1);
    assert_int_equal(count(doc, "//*[local-name()='g' and @class='bars']"), 1);
    assert_int_equal(count(doc, "//*[local-name()='g' and @class='question']"), 3);
    assert_int_equal(count(doc, "//*[local-name()='g' and @class='question']/*[local-name()="
                                "'text' and .='Q2']"),
                     1);
    /* 20:08 holds carol's message; dave's boost in the same minute is not counted. */
    assert_int_equal(count(doc, "//*[local-name()='rect']/*[local-name()='title' and "
                                ".='20:08: 1 message']"),
                     1);
    /* One bar per minute with messages: the 26 messages fall in 26 distinct minutes. */
    assert_int_equal(count(doc, "//*[local-name()='g' and @class='bars']/*[local-name()='rect']"),
                     26);
    assert_int_equal(count(doc, "//*[local-name()='text' and .='20:00']"), 1);
    assert_int_equal(count(doc, "//*[local-name()='text' and .='20:10']"), 1);
    assert_null(strstr(svg, "<script"));
    assert_null(strstr(svg, "href"));
    assert_non_null(strstr(svg, "Online &lt;networks&gt; &amp; &quot;you&quot;"));
    xmlFreeDoc(doc);
    free(svg);
}

/* A year-long window (issue 12): a tick per minute made 8,773 ticks and 1 MB.
 * The spacing now grows with the window: monthly here, at most 13 ticks. */
static void test_svg_year(void **state)
{
    (void)state;
    char dir[64];
    snprintf(dir, sizeof dir, "/tmp/ck-render-year-XXXXXX"); /* not in root: test_index counts */
    assert_non_null(mkdtemp(dir));
    const char *sess =
        "{\"title\":\"A year\",\"hashtag\":\"uklibchat\",\"timezone\":\"Asia/Kolkata\","
        "\"start\":\"2026-01-01T00:00\",\"duration\":\"8760h\",\"lead\":\"0s\",\"grace\":\"0s\","
        "\"platform\":{\"type\":\"mastodon\",\"base_url\":\"https://x.org\"},"
        "\"facilitators\":[\"" HOST "\"],\"post\":false,"
        "\"questions\":[{\"at\":\"5m\",\"text\":\"One?\"}]}";
    write_file(dir, "session.json", sess, strlen(sess));
    const char *msgs =
        "{\"id\":\"y1\",\"created_at\":\"2026-03-01T12:00:00.000Z\",\"author\":{\"handle\":"
        "\"@a@x.org\"},\"text\":\"hi\",\"boost_of\":null,\"questions\":[]}\n";
    write_file(dir, "messages.jsonl", msgs, strlen(msgs));
    struct ck_error err = {0};
    assert_int_equal(ck_render_session(dir, NULL, &err), 0);
    size_t len;
    char *svg = read_file(dir, "activity.svg", &len);
    assert_true(len < 16 * 1024);
    xmlDocPtr doc = xmlReadMemory(svg, (int)len, "a.svg", NULL, XML_PARSE_NONET);
    assert_non_null(doc);
    /* The axes group: two axis lines, the y grid lines, then one line per tick. */
    int ticks = count(doc, "//*[local-name()='g' and @class='axes']/*[local-name()='line' and "
                           "not(@stroke)]") -
                2;
    assert_true(ticks >= 11 && ticks <= 13);
    /* On the 1st of each month at local midnight (India is 5:30 ahead of UTC). */
    assert_int_equal(count(doc, "//*[local-name()='text' and .='Jan 2026']"), 1);
    assert_int_equal(count(doc, "//*[local-name()='text' and .='Jul 2026']"), 1);
    assert_int_equal(count(doc, "//*[local-name()='text' and .='Dec 2026']"), 1);
    xmlFreeDoc(doc);
    free(svg);

    /* A 3-day window: daily ticks at local midnight. */
    const char *three =
        "{\"title\":\"Three days\",\"hashtag\":\"uklibchat\",\"timezone\":\"Europe/London\","
        "\"start\":\"2026-03-28T12:00\",\"duration\":\"72h\",\"lead\":\"0s\",\"grace\":\"0s\","
        "\"platform\":{\"type\":\"mastodon\",\"base_url\":\"https://x.org\"},"
        "\"facilitators\":[\"" HOST "\"],\"post\":false,"
        "\"questions\":[{\"at\":\"5m\",\"text\":\"One?\"}]}";
    write_file(dir, "session.json", three, strlen(three));
    assert_int_equal(ck_render_session(dir, NULL, &err), 0);
    svg = read_file(dir, "activity.svg", &len);
    doc = xmlReadMemory(svg, (int)len, "a.svg", NULL, XML_PARSE_NONET);
    assert_non_null(doc);
    /* 72 h / 12 = 6 h steps: 18:00, 00:00, 06:00 (... across the clocks going
     * forward on the 29th), 12 ticks or fewer. */
    ticks = count(doc, "//*[local-name()='g' and @class='axes']/*[local-name()='line' and "
                       "not(@stroke)]") -
            2;
    assert_true(ticks >= 10 && ticks <= 13);
    assert_int_equal(count(doc, "//*[local-name()='text' and .='18:00']"), 3);
    xmlFreeDoc(doc);
    free(svg);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
}

/* ---- index.html ---- */

static void test_index(void **state)
{
    (void)state;
    struct ck_error err = {0};
    /* The session has a write-up (its contents are test_writeup_page's). */
    write_file(cur, "writeup.html", "<!DOCTYPE html>\n", 16);
    assert_int_equal(ck_render_index(root, &err), 0);
    size_t len;
    char *html = read_file(root, "index.html", &len);
    htmlDocPtr doc = htmlReadMemory(html, (int)len, "i.html", "UTF-8",
                                    HTML_PARSE_NOERROR | HTML_PARSE_NOWARNING | HTML_PARSE_NONET);
    assert_non_null(doc);
    check_safe_in(xmlDocGetRootElement(doc), true);
    xmlXPathObjectPtr rows = xp(doc, "//tbody/tr");
    assert_int_equal(rows->nodesetval->nodeNr, 3);
    xmlXPathFreeObject(rows);
    /* Newest first; only the rendered session links to a transcript. */
    assert_int_equal(count(doc, "//tbody/tr[1]/td[2][.='Later chat']"), 1);
    assert_int_equal(count(doc, "//tbody/tr[2]/td[2]/a[@href='2026-12-03-networks/transcript.html'"
                                " and .='Online <networks> & \"you\"']"),
                     1);
    assert_int_equal(count(doc, "//tbody/tr[2]/td[1]/time[.='2026-12-03']"), 1);
    /* The hashtag of each session, and its write-up where there is one. */
    assert_int_equal(count(doc, "//thead/tr/th[3][.='Hashtag']"), 1);
    assert_int_equal(count(doc, "//tbody/tr/td[3][.='#uklibchat']"), 3);
    assert_int_equal(count(doc, "//tbody/tr[2]/td[2]//a[@href='2026-12-03-networks/writeup.html']"),
                     1);
    assert_int_equal(count(doc, "//a[contains(@href,'writeup.html')]"), 1);
    assert_int_equal(count(doc, "//tbody/tr[2]/td[4][.='9']"), 1);
    assert_int_equal(count(doc, "//tbody/tr[2]/td[5][.='26']"), 1);
    /* Counted from messages.jsonl when there is no summary.json (boosts left out). */
    assert_int_equal(count(doc, "//tbody/tr[3]/td[2][.='Old chat']"), 1);
    assert_int_equal(count(doc, "//tbody/tr[3]/td[4][.='2']"), 1);
    assert_int_equal(count(doc, "//tbody/tr[3]/td[5][.='2']"), 1);
    /* Styled like the transcripts, dark mode included. */
    assert_int_equal(count(doc, "//head/style[contains(.,'@media (prefers-color-scheme: dark)')]"),
                     1);
    xmlFreeDoc(doc);
    /* Same folder, same bytes. */
    assert_int_equal(ck_render_index(root, &err), 0);
    size_t len2;
    char *again = read_file(root, "index.html", &len2);
    assert_int_equal(len, len2);
    assert_memory_equal(html, again, len);
    free(again);
    free(html);
}

static void test_missing_and_empty(void **state)
{
    (void)state;
    struct ck_error err = {0};
    char dir[128];
    snprintf(dir, sizeof dir, "%s/empty", root);
    mkdir(dir, 0755);
    assert_int_equal(ck_render_session(dir, NULL, &err), CK_ENOTFOUND);
    session(dir, "Empty", "2026-10-01T20:00");
    err = (struct ck_error){0};
    assert_int_equal(ck_render_session(dir, NULL, &err), CK_ENOTFOUND);
    write_file(dir, "messages.jsonl", "", 0);
    /* The run sheet's posted step gives Q1's time and link when no question
     * post is among the messages. */
    const char *steps = "{\"steps\":{\"Q1\":{\"status\":\"posted\",\"id\":\"p1\","
                        "\"url\":\"https://x.org/s/p1\",\"posted_at\":"
                        "\"2026-10-01T19:06:00.000Z\"},\"Q2\":{\"status\":\"posted\","
                        "\"url\":\"javascript:alert(1)\"}}}";
    write_file(dir, "state.json", steps, strlen(steps));
    err = (struct ck_error){0};
    struct ck_render_stats st;
    assert_int_equal(ck_render_session(dir, &st, &err), 0);
    assert_int_equal(st.messages, 0);
    assert_int_equal(st.questions, 3);
    char *html = read_file(dir, "transcript.html", NULL);
    assert_non_null(strstr(html, "No answers were recorded"));
    assert_non_null(strstr(html, "Asked at <time datetime=\"2026-10-01T20:06:00+01:00\">20:06"
                                 "</time> · <a href=\"https://x.org/s/p1\""));
    assert_null(strstr(html, "javascript"));
    free(html);
    char *sum = read_file(dir, "summary.json", NULL);
    assert_non_null(strstr(sum, "\"asked_at\": \"2026-10-01T19:06:00.000Z\""));
    free(sum);
    /* A corrupt state.json is reported and ignored. */
    write_file(dir, "state.json", "{nope", 5);
    assert_int_equal(ck_render_session(dir, NULL, &err), 0);
    char *csv = read_file(dir, "messages.csv", NULL);
    assert_int_equal(strlen(csv), strlen("id,created_at,local_time,author_handle,author_name,"
                                         "questions,assigned_by,reply_to,boost_of,likes,boosts,"
                                         "replies,url,text\r\n"));
    free(csv);
}

/* Spam (grouping's assigned_by "spam", issue 14) stays in messages.csv and
 * is left out of the transcripts, the counts and the write-up. */
static void test_spam_left_out(void **state)
{
    (void)state;
    char dir[128];
    snprintf(dir, sizeof dir, "%s/spam", root);
    mkdir(dir, 0755);
    session(dir, "Spam", "2026-12-03T20:00");
    char path[256];
    snprintf(path, sizeof path, "%s/messages.jsonl", dir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    const struct msg ms[] = {
        {"s1", "20:05:00", HOST, "Host", .text = "Q1 How do you use networks?", .q = {1},
         .by = "question"},
        {"s2", "20:06:00", "@alice@x.org", "Alice", .text = "A1 daily", .q = {1}, .by = "tag"},
        {"s3", "20:07:00", "@bot1@x.org", "Bot", .text = "SPAMWORD #KCA #Vote", .by = "spam"},
        {"s4", "20:07:01", "@bot2@x.org", "Bot", .text = "SPAMWORD #KCA #Vote", .by = "spam"},
    };
    for (size_t i = 0; i < sizeof ms / sizeof ms[0]; i++)
        add(f, &ms[i]);
    fclose(f);
    struct ck_error err = {0};
    struct ck_render_stats st;
    assert_int_equal(ck_render_session(dir, &st, &err), 0);
    assert_int_equal(st.messages, 2);
    assert_int_equal(st.people, 2);
    assert_int_equal(ck_writeup_render(dir, &err), 0);
    static const char *const hidden[] = {"transcript.html", "transcript.md", "summary.json",
                                         "writeup.md", "writeup.html"};
    for (size_t i = 0; i < sizeof hidden / sizeof hidden[0]; i++) {
        char *out = read_file(dir, hidden[i], NULL);
        assert_non_null(out);
        if (strstr(out, "SPAMWORD") != NULL || strstr(out, "bot1") != NULL)
            fail_msg("%s shows spam", hidden[i]);
        free(out);
    }
    char *csv = read_file(dir, "messages.csv", NULL);
    assert_non_null(strstr(csv, "SPAMWORD"));
    free(csv);
    /* catchup in the terminal, from the same folder */
    char *out = NULL;
    size_t out_len = 0;
    FILE *t = open_memstream(&out, &out_len);
    assert_non_null(t);
    struct ck_catchup_opts o = {.question = 0, .width = 400};
    assert_int_equal(ck_catchup_render(t, dir, &o, &err), 0);
    fclose(t);
    assert_non_null(strstr(out, "A1 daily"));
    assert_null(strstr(out, "SPAMWORD"));
    free(out);
}

/* Who boosted a post is named alike in both transcripts (one list,
 * ck_rboosters_list): "a, b and c" when all are named, else the first five
 * and how many more. */
static void boosted_by(const char *name, int n_boosts, const char *want_html, const char *want_md)
{
    char dir[128];
    snprintf(dir, sizeof dir, "%s/%s", root, name);
    mkdir(dir, 0755);
    session(dir, "Boosts", "2026-12-03T20:00");
    char path[256];
    snprintf(path, sizeof path, "%s/messages.jsonl", dir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    const struct msg q = {
        "b0",     "20:05:00",      HOST, "Host", .text = "Q1 How do you use networks?",
        .q = {1}, .by = "question"};
    const struct msg a = {"b1",     "20:06:00",  "@alice@x.org",    "Alice", .text = "A1 daily",
                          .q = {1}, .by = "tag", .boosts = n_boosts};
    add(f, &q);
    add(f, &a);
    for (int i = 0; i < n_boosts; i++) {
        char id[8], at[16], who[32];
        snprintf(id, sizeof id, "r%d", i);
        snprintf(at, sizeof at, "20:07:%02d", i);
        snprintf(who, sizeof who, "@u%d@x.org", i);
        const struct msg b = {id, at, who, .boost_of = "b1"};
        add(f, &b);
    }
    fclose(f);
    struct ck_error err = {0};
    struct ck_render_stats st;
    assert_int_equal(ck_render_session(dir, &st, &err), 0);
    char *html = read_file(dir, "transcript.html", NULL);
    char *md = read_file(dir, "transcript.md", NULL);
    if (strstr(html, want_html) == NULL)
        fail_msg("transcript.html lacks %s", want_html);
    if (strstr(md, want_md) == NULL)
        fail_msg("transcript.md lacks %s", want_md);
    free(html);
    free(md);
}

static void test_boosters_named(void **state)
{
    (void)state;
    boosted_by("boost3", 3,
               "boosted by <bdi>@u0@x.org</bdi>, <bdi>@u1@x.org</bdi> and <bdi>@u2@x.org</bdi>",
               "boosted by @u0@x.org, @u1@x.org and @u2@x.org");
    boosted_by("boost7", 7, "<bdi>@u3@x.org</bdi>, <bdi>@u4@x.org</bdi> and 2 more",
               "boosted by @u0@x.org, @u1@x.org, @u2@x.org, @u3@x.org, @u4@x.org and 2 more");
}

/* Issue 11: each transcript shows where a message was posted, beside its
 * time: the instance's host for Mastodon, "Bluesky", "X"; a hostile host is
 * escaped in each format, and one with control bytes is no host at all. */
static void test_source_label(void **state)
{
    (void)state;
    char dir[128];
    snprintf(dir, sizeof dir, "%s/sources", root);
    mkdir(dir, 0755);
    session(dir, "Sources", "2026-12-03T20:00");
    const char *lines =
        "{\"id\":\"t1\",\"platform\":\"mastodon\",\"url\":\"https://u@Glammr.US:8443/@a/1\","
        "\"created_at\":\"2026-12-03T20:06:00.000Z\",\"author\":{\"id\":\"1\",\"handle\":"
        "\"@amy@glammr.us\",\"name\":\"Amy\",\"url\":\"https://glammr.us/@amy\"},\"text\":"
        "\"A1 from glammr\",\"questions\":[1],\"assigned_by\":\"tag\"}\n"
        "{\"id\":\"at://did:plc:b/app.bsky.feed.post/3k\",\"platform\":\"bluesky\",\"url\":"
        "\"https://bsky.app/profile/bo.bsky.social/post/3k\",\"created_at\":"
        "\"2026-12-03T20:07:00.000Z\",\"author\":{\"id\":\"did:plc:b\",\"handle\":"
        "\"@bo.bsky.social\",\"name\":\"Bo\",\"url\":\"https://bsky.app/profile/bo.bsky.social\"},"
        "\"text\":\"A1 from bluesky\",\"questions\":[1],\"assigned_by\":\"tag\"}\n"
        "{\"id\":\"17\",\"platform\":\"x\",\"url\":\"https://x.com/cy/status/17\",\"created_at\":"
        "\"2026-12-03T20:08:00.000Z\",\"author\":{\"id\":\"9\",\"handle\":\"@cy\",\"name\":"
        "\"Cy\",\"url\":\"https://x.com/cy\"},\"text\":\"A1 from x\",\"questions\":[1],"
        "\"assigned_by\":\"tag\"}\n"
        "{\"id\":\"t4\",\"platform\":\"mastodon\",\"url\":\"https://ev<b>&\\\"il.example/s/4\","
        "\"created_at\":\"2026-12-03T20:09:00.000Z\",\"author\":{\"id\":\"4\",\"handle\":"
        "\"@dee@evil.example\",\"name\":\"Dee\",\"url\":\"https://evil.example/@dee\"},\"text\":"
        "\"A1 hostile host\",\"questions\":[1],\"assigned_by\":\"tag\"}\n"
        "{\"id\":\"t5\",\"platform\":\"mastodon\",\"url\":\"https://bad\\u001b[31m.example/s/5\","
        "\"created_at\":\"2026-12-03T20:10:00.000Z\",\"author\":{\"id\":\"5\",\"handle\":"
        "\"@eve@safe.example\",\"name\":\"Eve\",\"url\":\"https://safe.example/@eve\"},\"text\":"
        "\"A1 control bytes\",\"questions\":[1],\"assigned_by\":\"tag\"}\n";
    write_file(dir, "messages.jsonl", lines, strlen(lines));
    struct ck_error err = {0};
    assert_int_equal(ck_render_session(dir, NULL, &err), 0);
    size_t len;
    char *html = read_file(dir, "transcript.html", &len);
    htmlDocPtr doc = parse_html(html, len);
    /* In Q1, oldest first: one label beside each message's time. */
    static const char *const want[] = {"glammr.us", "Bluesky", "X", "ev<b>&\"il.example",
                                       "safe.example"};
    xmlXPathObjectPtr o = xp(doc, "//section[@id='q1']//li/p[@class='meta']/a[@class='permalink']"
                                  "/following-sibling::span[@class='src']");
    assert_int_equal(o->nodesetval != NULL ? o->nodesetval->nodeNr : 0, 5);
    for (int i = 0; i < 5; i++) {
        xmlChar *t = xmlNodeGetContent(o->nodesetval->nodeTab[i]);
        assert_string_equal((char *)t, want[i]);
        xmlFree(t);
    }
    xmlXPathFreeObject(o);
    assert_non_null(strstr(html, "<bdi>ev&lt;b&gt;&amp;&quot;il.example</bdi>"));
    assert_null(strstr(html, "\x1b"));
    xmlFreeDoc(doc);
    free(html);
    char *md = read_file(dir, "transcript.md", NULL);
    assert_non_null(strstr(md, "@amy@glammr.us · 20:06 · glammr.us · [original post]"));
    assert_non_null(strstr(md, "@bo.bsky.social · 20:07 · Bluesky · [original post]"));
    assert_non_null(strstr(md, "@cy · 20:08 · X · [original post]"));
    assert_non_null(strstr(md, "· 20:09 · ev\\<b>&\"il.example · [original post]"));
    assert_non_null(strstr(md, "@eve@safe.example · 20:10 · safe.example"));
    assert_null(strstr(md, "\x1b"));
    free(md);
    char *out = NULL;
    size_t out_len = 0;
    FILE *t = open_memstream(&out, &out_len);
    assert_non_null(t);
    struct ck_catchup_opts co = {.question = 0, .width = 400};
    assert_int_equal(ck_catchup_render(t, dir, &co, &err), 0);
    fclose(t);
    assert_non_null(strstr(out, "20:06 Amy @amy@glammr.us · glammr.us\n"));
    assert_non_null(strstr(out, "20:07 Bo @bo.bsky.social · Bluesky\n"));
    assert_non_null(strstr(out, "20:08 Cy @cy · X\n"));
    assert_non_null(strstr(out, "20:10 Eve @eve@safe.example · safe.example\n"));
    assert_null(strstr(out, "\x1b"));
    free(out);
}

int main(void)
{
    /* Order matters: the index test expects the first session rendered and
     * the "empty" folder not yet created. */
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_render_deterministic),
        cmocka_unit_test(test_html),
        cmocka_unit_test(test_html_reading),
        cmocka_unit_test(test_html_media),
        cmocka_unit_test(test_catchup_matches_transcript),
        cmocka_unit_test(test_markdown),
        cmocka_unit_test(test_csv),
        cmocka_unit_test(test_summary),
        cmocka_unit_test(test_svg),
        cmocka_unit_test(test_svg_year),
        cmocka_unit_test(test_writeup_page),
        cmocka_unit_test(test_index),
        cmocka_unit_test(test_missing_and_empty),
        cmocka_unit_test(test_spam_left_out),
        cmocka_unit_test(test_source_label),
        cmocka_unit_test(test_boosters_named),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
