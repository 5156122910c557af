/* Loading a simulator chat script.
 *
 * A script is one JSON object (unknown keys are errors, so typos show):
 *
 *   {
 *     "_doc": "free text or an array of lines, ignored",
 *     "title": "Online networks",                 (optional)
 *     "hashtag": "uklibchat",                     (without '#')
 *     "self": "uklibchat",                        (account key the API token acts as; local)
 *     "accounts": {                               (key -> account, in order)
 *       "uklibchat": {"username": "uklibchat", "display_name": "UK Lib Chat",
 *                     "domain": null, "note": "...", "bot": false},
 *       "jo": {"username": "jo", "domain": "glammr.us"}     (remote: has a domain)
 *     },
 *     "questions": ["How do you use online networks for CPD?", ...],   (the run sheet)
 *     "statuses": [
 *       {"key": "q1", "at": "5m", "account": "uklibchat", "text": "Q1 ... #uklibchat"},
 *       {"at": "-10m", "account": "jo", "text": "@uklibchat hello! #uklibchat",
 *        "reply_to": "q1", "boosts": 2, "likes": 5, "media": ["alt text", ""],
 *        "visible_delay": "40s", "language": "en"},
 *       {"at": "7m", "account": "jo", "html": "<p>raw HTML, used as is</p>"}
 *     ]
 *   }
 *
 * "at" is an offset from the chat start ("-10m", "5m12s", "1h2m"); "visible_delay" is
 * script time after "at" before the status shows in the API (it keeps the id of its
 * creation time). Each status has exactly one of "text" (plain text the simulator renders
 * as Mastodon does) or "html". "reply_to" names another status's "key". */
#include "chatkeeper/sim.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "chatkeeper/timeutil.h"

static char *dup_or_null(const char *s)
{
    return s != NULL ? strdup(s) : NULL;
}

static int parse_offset(const char *s, int64_t *ms)
{
    int neg = s[0] == '-';
    int64_t v;
    if (ck_duration_parse(s + neg, &v) != 0)
        return -1;
    *ms = neg ? -v : v;
    return 0;
}

int ck_sim_text_has_tag(const char *text, const char *tag)
{
    size_t tl = strlen(tag);
    for (const char *p = strchr(text, '#'); p != NULL; p = strchr(p + 1, '#')) {
        if (p > text && (isalnum((unsigned char)p[-1]) || p[-1] == '_' || p[-1] == '&'))
            continue;
        if (strncasecmp(p + 1, tag, tl) != 0)
            continue;
        unsigned char after = (unsigned char)p[1 + tl];
        if (!isalnum(after) && after != '_' && after < 0x80)
            return 1;
    }
    return 0;
}

long ck_sim_script_find_account(const struct ck_sim_script *s, const char *key)
{
    for (size_t i = 0; i < s->n_accounts; i++)
        if (strcmp(s->accounts[i].key, key) == 0)
            return (long)i;
    return -1;
}

static int load_accounts(struct ck_sim_script *s, json_t *accounts, const char *name,
                         struct ck_error *err)
{
    s->accounts = calloc(json_object_size(accounts) + 1, sizeof *s->accounts);
    if (s->accounts == NULL)
        return ck_error_set(err, CK_ENOMEM, "out of memory");
    const char *key;
    json_t *a;
    json_object_foreach(accounts, key, a)
    {
        const char *username = NULL, *display = NULL, *note = NULL;
        json_t *domain = NULL;
        int bot = 0;
        json_error_t je;
        if (json_unpack_ex(a, &je, JSON_STRICT, "{s:s s?o s?s s?s s?b}", "username", &username,
                           "domain", &domain, "display_name", &display, "note", &note, "bot",
                           &bot) != 0)
            return ck_error_set(err, CK_ECONFIG, "%s: accounts.%s: %s", name, key, je.text);
        if (domain != NULL && !json_is_null(domain) && !json_is_string(domain))
            return ck_error_set(err, CK_ECONFIG, "%s: accounts.%s.domain: expected string or null",
                                name, key);
        if (username[0] == '\0' || strchr(username, '@') != NULL)
            return ck_error_set(err, CK_ECONFIG, "%s: accounts.%s.username: expected a bare name",
                                name, key);
        struct ck_sim_account *acc = &s->accounts[s->n_accounts++];
        acc->key = strdup(key);
        acc->username = strdup(username);
        acc->domain = json_is_string(domain) ? strdup(json_string_value(domain)) : NULL;
        acc->display_name = strdup(display != NULL ? display : username);
        acc->note = strdup(note != NULL ? note : "");
        acc->bot = bot;
        /* Stable, distinct, snowflake-sized ids. */
        snprintf(acc->id, sizeof acc->id, "%llu",
                 109300000000000000ULL + (unsigned long long)s->n_accounts * 7919ULL);
        if (acc->key == NULL || acc->username == NULL || acc->display_name == NULL ||
            acc->note == NULL || (json_is_string(domain) && acc->domain == NULL))
            return ck_error_set(err, CK_ENOMEM, "out of memory");
    }
    return 0;
}

static int load_status(struct ck_sim_script *s, json_t *j, size_t i, json_t *keys, const char *name,
                       struct ck_error *err)
{
    const char *key = NULL, *at = NULL, *account = NULL, *text = NULL, *html = NULL;
    const char *reply_to = NULL, *language = NULL, *delay = NULL;
    json_int_t boosts = 0, likes = 0;
    json_t *media = NULL;
    json_error_t je;
    struct ck_sim_status *st = &s->statuses[i];
    st->reply_to = -1;
    if (json_unpack_ex(j, &je, JSON_STRICT, "{s?s s:s s:s s?s s?s s?s s?s s?I s?I s?o s?s}", "key",
                       &key, "at", &at, "account", &account, "text", &text, "html", &html,
                       "reply_to", &reply_to, "language", &language, "boosts", &boosts, "likes",
                       &likes, "media", &media, "visible_delay", &delay) != 0)
        return ck_error_set(err, CK_ECONFIG, "%s: statuses[%zu]: %s", name, i, je.text);
    if ((text == NULL) == (html == NULL))
        return ck_error_set(err, CK_ECONFIG, "%s: statuses[%zu]: needs exactly one of text, html",
                            name, i);
    if (parse_offset(at, &st->at_ms) != 0)
        return ck_error_set(err, CK_ECONFIG,
                            "%s: statuses[%zu].at: expected an offset like \"5m\" or \"-1h2m\", "
                            "got \"%s\"",
                            name, i, at);
    if (delay != NULL && ck_duration_parse(delay, &st->delay_ms) != 0)
        return ck_error_set(err, CK_ECONFIG,
                            "%s: statuses[%zu].visible_delay: expected a duration, got \"%s\"",
                            name, i, delay);
    long acc = ck_sim_script_find_account(s, account);
    if (acc < 0)
        return ck_error_set(err, CK_ECONFIG, "%s: statuses[%zu].account: unknown account \"%s\"",
                            name, i, account);
    st->account = (size_t)acc;
    if (boosts < 0 || likes < 0)
        return ck_error_set(err, CK_ECONFIG, "%s: statuses[%zu]: negative count", name, i);
    st->boosts = (long)boosts;
    st->likes = (long)likes;
    if (reply_to != NULL) {
        json_t *idx = json_object_get(keys, reply_to);
        if (idx == NULL)
            return ck_error_set(err, CK_ECONFIG,
                                "%s: statuses[%zu].reply_to: no earlier status has key \"%s\"",
                                name, i, reply_to);
        st->reply_to = (long)json_integer_value(idx);
    }
    if (key != NULL) {
        if (json_object_get(keys, key) != NULL)
            return ck_error_set(err, CK_ECONFIG, "%s: statuses[%zu].key: duplicate key \"%s\"",
                                name, i, key);
        if (json_object_set_new(keys, key, json_integer((json_int_t)i)) != 0)
            return ck_error_set(err, CK_ENOMEM, "out of memory");
    }
    if (media != NULL) {
        if (!json_is_array(media))
            return ck_error_set(err, CK_ECONFIG, "%s: statuses[%zu].media: expected an array", name,
                                i);
        st->media = calloc(json_array_size(media) + 1, sizeof *st->media);
        if (st->media == NULL)
            return ck_error_set(err, CK_ENOMEM, "out of memory");
        size_t k;
        json_t *alt;
        json_array_foreach(media, k, alt)
        {
            if (!json_is_string(alt))
                return ck_error_set(err, CK_ECONFIG,
                                    "%s: statuses[%zu].media[%zu]: expected alt text (string)",
                                    name, i, k);
            st->media[st->n_media] = strdup(json_string_value(alt));
            if (st->media[st->n_media++] == NULL)
                return ck_error_set(err, CK_ENOMEM, "out of memory");
        }
    }
    st->key = dup_or_null(key);
    st->text = dup_or_null(text);
    st->html = dup_or_null(html);
    st->language = strdup(language != NULL ? language : "en");
    if ((key != NULL && st->key == NULL) || (text != NULL && st->text == NULL) ||
        (html != NULL && st->html == NULL) || st->language == NULL)
        return ck_error_set(err, CK_ENOMEM, "out of memory");
    if (st->text != NULL) {
        st->has_hashtag = ck_sim_text_has_tag(st->text, s->hashtag);
    } else {
        /* Raw HTML: a hashtag link to /tags/<hashtag> counts, as Mastodon's tag index would. */
        char needle[160];
        snprintf(needle, sizeof needle, "/tags/%s\"", s->hashtag);
        size_t nl = strlen(needle);
        for (const char *p = st->html; *p != '\0' && !st->has_hashtag; p++)
            st->has_hashtag = strncasecmp(p, needle, nl) == 0;
    }
    return 0;
}

static int load_root(struct ck_sim_script *s, json_t *root, const char *name, struct ck_error *err)
{
    const char *title = NULL, *hashtag = NULL, *self = NULL;
    json_t *doc = NULL, *accounts = NULL, *questions = NULL, *statuses = NULL;
    json_error_t je;
    if (json_unpack_ex(root, &je, JSON_STRICT, "{s?o s?s s:s s:s s:o s?o s:o}", "_doc", &doc,
                       "title", &title, "hashtag", &hashtag, "self", &self, "accounts", &accounts,
                       "questions", &questions, "statuses", &statuses) != 0)
        return ck_error_set(err, CK_ECONFIG, "%s: %s", name, je.text);
    if (!json_is_object(accounts) || json_object_size(accounts) == 0)
        return ck_error_set(err, CK_ECONFIG, "%s: accounts: expected a non-empty object", name);
    if (!json_is_array(statuses))
        return ck_error_set(err, CK_ECONFIG, "%s: statuses: expected an array", name);
    if (questions != NULL && !json_is_array(questions))
        return ck_error_set(err, CK_ECONFIG, "%s: questions: expected an array of strings", name);
    if (hashtag[0] == '\0' || hashtag[0] == '#' || strlen(hashtag) > 100)
        return ck_error_set(err, CK_ECONFIG, "%s: hashtag: expected a tag without '#'", name);
    s->title = strdup(title != NULL ? title : hashtag);
    s->hashtag = strdup(hashtag);
    if (s->title == NULL || s->hashtag == NULL)
        return ck_error_set(err, CK_ENOMEM, "out of memory");
    int rc = load_accounts(s, accounts, name, err);
    if (rc != 0)
        return rc;
    long self_idx = ck_sim_script_find_account(s, self);
    if (self_idx < 0)
        return ck_error_set(err, CK_ECONFIG, "%s: self: unknown account \"%s\"", name, self);
    if (s->accounts[self_idx].domain != NULL)
        return ck_error_set(err, CK_ECONFIG, "%s: self: account \"%s\" must be local (no domain)",
                            name, self);
    s->self = (size_t)self_idx;
    size_t nq = questions != NULL ? json_array_size(questions) : 0;
    s->questions = calloc(nq + 1, sizeof *s->questions);
    if (s->questions == NULL)
        return ck_error_set(err, CK_ENOMEM, "out of memory");
    for (size_t i = 0; i < nq; i++) {
        const char *q = json_string_value(json_array_get(questions, i));
        if (q == NULL)
            return ck_error_set(err, CK_ECONFIG, "%s: questions[%zu]: expected a string", name, i);
        s->questions[s->n_questions] = strdup(q);
        if (s->questions[s->n_questions++] == NULL)
            return ck_error_set(err, CK_ENOMEM, "out of memory");
    }
    s->statuses = calloc(json_array_size(statuses) + 1, sizeof *s->statuses);
    json_t *keys = json_object();
    if (s->statuses == NULL || keys == NULL) {
        json_decref(keys);
        return ck_error_set(err, CK_ENOMEM, "out of memory");
    }
    rc = 0;
    for (size_t i = 0; i < json_array_size(statuses) && rc == 0; i++) {
        s->n_statuses = i + 1; /* so finish() frees a half-loaded entry */
        rc = load_status(s, json_array_get(statuses, i), i, keys, name, err);
    }
    json_decref(keys);
    return rc;
}

int ck_sim_script_load_string(const char *json, const char *name, struct ck_sim_script *s,
                              struct ck_error *err)
{
    memset(s, 0, sizeof *s);
    json_error_t je;
    json_t *root = json_loads(json, JSON_REJECT_DUPLICATES, &je);
    if (root == NULL)
        return ck_error_set(err, CK_ECONFIG, "%s:%d:%d: %s", name, je.line, je.column, je.text);
    int rc = load_root(s, root, name, err);
    json_decref(root);
    if (rc != 0)
        ck_sim_script_finish(s);
    return rc;
}

int ck_sim_script_load(const char *path, struct ck_sim_script *s, struct ck_error *err)
{
    memset(s, 0, sizeof *s);
    json_error_t je;
    json_t *root = json_load_file(path, JSON_REJECT_DUPLICATES, &je);
    if (root == NULL) {
        if (je.line <= 0)
            return ck_error_set(err, CK_EIO, "%s: %s", path, je.text);
        return ck_error_set(err, CK_ECONFIG, "%s:%d:%d: %s", path, je.line, je.column, je.text);
    }
    int rc = load_root(s, root, path, err);
    json_decref(root);
    if (rc != 0)
        ck_sim_script_finish(s);
    return rc;
}

static void status_free(struct ck_sim_status *st)
{
    free(st->key);
    free(st->text);
    free(st->html);
    free(st->language);
    for (size_t k = 0; k < st->n_media; k++)
        free(st->media[k]);
    free(st->media);
}

void ck_sim_script_drop_host(struct ck_sim_script *s)
{
    /* In a posting rehearsal chatkeeper plays the host: the script's host posts
     * go, and replies to them become top-level answers. */
    long *map = malloc((s->n_statuses ? s->n_statuses : 1) * sizeof *map);
    if (map == NULL)
        return;
    size_t w = 0;
    for (size_t i = 0; i < s->n_statuses; i++) {
        if (s->statuses[i].account == s->self) {
            map[i] = -1;
            status_free(&s->statuses[i]);
            continue;
        }
        map[i] = (long)w;
        s->statuses[w] = s->statuses[i];
        if (s->statuses[w].reply_to >= 0)
            s->statuses[w].reply_to = map[s->statuses[w].reply_to];
        w++;
    }
    s->n_statuses = w;
    free(map);
}

void ck_sim_script_finish(struct ck_sim_script *s)
{
    if (s == NULL)
        return;
    for (size_t i = 0; i < s->n_accounts; i++) {
        struct ck_sim_account *a = &s->accounts[i];
        free(a->key);
        free(a->username);
        free(a->domain);
        free(a->display_name);
        free(a->note);
    }
    free(s->accounts);
    for (size_t i = 0; i < s->n_questions; i++)
        free(s->questions[i]);
    free(s->questions);
    for (size_t i = 0; i < s->n_statuses; i++)
        status_free(&s->statuses[i]);
    free(s->statuses);
    free(s->title);
    free(s->hashtag);
    memset(s, 0, sizeof *s);
}
