/* X API v2 answers into the objects the journal keeps: each tweet in
 * twarc2's flattened shape, then the included tweets its tweets point at.
 * Shared by the importer (a twarc2 line is an API page) and the live search
 * parser (x_search.c), so both journal the same shape. Pure. See x.h. */
#include <stdbool.h>
#include <string.h>

#include "chatkeeper/x.h"

/* id -> object for an includes array ("users" by "id", "media" by "media_key"). */
static const json_t *find_by(const json_t *arr, const char *key, const char *value)
{
    for (size_t i = 0; value != NULL && i < json_array_size(arr); i++) {
        const char *v = json_string_value(json_object_get(json_array_get(arr, i), key));
        if (v != NULL && strcmp(v, value) == 0)
            return json_array_get(arr, i);
    }
    return NULL;
}

/* A v2 tweet from a response page, in twarc2's flattened shape: "author" from
 * includes.users, attachments.media from includes.media. New reference or NULL. */
static json_t *flatten_one(const json_t *tweet, const json_t *includes)
{
    json_t *t = json_copy((json_t *)tweet); /* shallow: members are shared, not copied */
    if (t == NULL)
        return NULL;
    const json_t *users = json_object_get(includes, "users");
    const json_t *author =
        find_by(users, "id", json_string_value(json_object_get(tweet, "author_id")));
    if (author != NULL && json_object_set(t, "author", (json_t *)author) != 0)
        goto fail;
    const json_t *att = json_object_get(tweet, "attachments");
    const json_t *keys = json_object_get(att, "media_keys");
    const json_t *media = json_object_get(includes, "media");
    if (json_is_array(keys) && json_is_array(media) && json_object_get(att, "media") == NULL) {
        json_t *a = json_copy((json_t *)att);
        json_t *list = json_array();
        if (a == NULL || list == NULL || json_object_set_new(a, "media", list) != 0 ||
            json_object_set_new(t, "attachments", a) != 0) {
            json_decref(a);
            goto fail;
        }
        for (size_t i = 0; i < json_array_size(keys); i++) {
            const json_t *m =
                find_by(media, "media_key", json_string_value(json_array_get(keys, i)));
            if (m != NULL && json_array_append(list, (json_t *)m) != 0)
                goto fail;
        }
    }
    return t;
fail:
    json_decref(t);
    return NULL;
}

json_t *ck_x_flatten(const json_t *tweet, const json_t *includes)
{
    json_t *t = flatten_one(tweet, includes);
    const json_t *refs = json_object_get(tweet, "referenced_tweets");
    const json_t *tweets = json_object_get(includes, "tweets");
    if (t == NULL || !json_is_array(refs) || !json_is_array(tweets))
        return t;
    json_t *list = json_array();
    if (list == NULL || json_object_set_new(t, "referenced_tweets", list) != 0)
        goto fail;
    for (size_t i = 0; i < json_array_size(refs); i++) {
        json_t *r = json_array_get(refs, i);
        const json_t *full = find_by(tweets, "id", json_string_value(json_object_get(r, "id")));
        json_t *e = full != NULL ? flatten_one(full, includes) : json_incref(r);
        json_t *type = json_object_get(r, "type"); /* may be absent: the normaliser says so */
        if (e != NULL && full != NULL && type != NULL && json_object_set(e, "type", type) != 0) {
            json_decref(e);
            e = NULL;
        }
        if (e == NULL || json_array_append_new(list, e) != 0) /* append_new steals e */
            goto fail;
    }
    return t;
fail:
    json_decref(t);
    return NULL;
}

static bool listed(const json_t *items, const char *id)
{
    for (size_t i = 0; i < json_array_size(items); i++) {
        const char *v = json_string_value(json_object_get(json_array_get(items, i), "id"));
        if (v != NULL && strcmp(v, id) == 0)
            return true;
    }
    return false;
}

/* Append the tweets tweet points at from includes.tweets: the original of a
 * retweet and a quoted post (so a retweet is a boost under its original, not
 * a boost of nothing) and the other versions of an edited tweet (so the
 * latest version is the message). Replied-to parents are not: they are
 * context the hashtag's search did not return. */
static int add_included(json_t *items, const json_t *tweet, const json_t *includes)
{
    const json_t *tweets = json_object_get(includes, "tweets");
    const json_t *refs = json_object_get(tweet, "referenced_tweets");
    const json_t *hist = json_object_get(tweet, "edit_history_tweet_ids");
    size_t nrefs = json_array_size(refs);
    for (size_t i = 0; i < nrefs + json_array_size(hist); i++) {
        const char *id;
        if (i < nrefs) {
            const json_t *r = json_array_get(refs, i);
            const char *type = json_string_value(json_object_get(r, "type"));
            if (type == NULL || (strcmp(type, "retweeted") != 0 && strcmp(type, "quoted") != 0))
                continue;
            id = json_string_value(json_object_get(r, "id"));
        } else {
            id = json_string_value(json_array_get(hist, i - nrefs));
        }
        const json_t *full = find_by(tweets, "id", id);
        if (full == NULL || !json_is_string(json_object_get(full, "id")) || listed(items, id))
            continue;
        json_t *t = ck_x_flatten(full, includes);
        if (t == NULL || json_array_append_new(items, t) != 0)
            return CK_ENOMEM;
    }
    return 0;
}

int ck_x_page_items(const json_t *page, json_t **out, size_t *n_own, struct ck_error *err)
{
    *out = NULL;
    *n_own = 0;
    const json_t *data = json_object_get(page, "data");
    const json_t *includes = json_object_get(page, "includes");
    json_t *items = json_array();
    if (items == NULL)
        return ck_error_set(err, CK_ENOMEM, "x: out of memory");
    /* A single-tweet lookup (or a stream line) answers with "data": {...}. */
    size_t n = json_is_object(data) ? 1 : json_array_size(data);
    for (size_t i = 0; i < n; i++) {
        const json_t *t = json_is_object(data) ? data : json_array_get(data, i);
        json_t *flat = json_is_object(t) ? ck_x_flatten(t, includes) : json_incref((json_t *)t);
        if (flat == NULL || json_array_append_new(items, flat) != 0) {
            json_decref(items);
            return ck_error_set(err, CK_ENOMEM, "x: out of memory");
        }
    }
    /* After the page's own tweets, so those keep the order the search gave. */
    for (size_t i = 0; i < n; i++) {
        const json_t *t = json_is_object(data) ? data : json_array_get(data, i);
        if (json_is_object(t) && add_included(items, t, includes) != 0) {
            json_decref(items);
            return ck_error_set(err, CK_ENOMEM, "x: out of memory");
        }
    }
    *out = items;
    *n_own = n;
    return 0;
}

/* A copy of an embedded v2 reference without the "type" flattening added,
 * so it is the tweet as X sent it. */
static json_t *unflag(const json_t *ref)
{
    json_t *t = json_copy((json_t *)ref);
    if (t != NULL)
        json_object_del(t, "type");
    return t;
}

int ck_x_embedded(const json_t *tweet, json_t **out, struct ck_error *err)
{
    json_t *items = json_array();
    *out = NULL;
    if (items == NULL)
        return ck_error_set(err, CK_ENOMEM, "x: out of memory");
    int rc = 0;
    if (json_object_get(tweet, "id_str") != NULL) {
        /* v1.1: the whole original rides along. */
        static const char *const keys[] = {"retweeted_status", "quoted_status"};
        for (size_t i = 0; i < 2 && rc == 0; i++) {
            json_t *o = json_object_get(tweet, keys[i]);
            if (json_is_object(o) && json_is_string(json_object_get(o, "id_str")))
                rc = json_array_append(items, o);
        }
    } else {
        const json_t *refs = json_object_get(tweet, "referenced_tweets");
        for (size_t i = 0; i < json_array_size(refs) && rc == 0; i++) {
            const json_t *r = json_array_get(refs, i);
            const char *type = json_string_value(json_object_get(r, "type"));
            if (type == NULL || (strcmp(type, "retweeted") != 0 && strcmp(type, "quoted") != 0) ||
                !json_is_string(json_object_get(r, "id")) ||
                !json_is_string(json_object_get(r, "text")) ||
                !json_is_string(json_object_get(r, "created_at")))
                continue;
            json_t *t = unflag(r);
            rc = t != NULL ? json_array_append_new(items, t) : -1;
        }
    }
    if (rc != 0) {
        json_decref(items);
        return ck_error_set(err, CK_ENOMEM, "x: out of memory");
    }
    *out = items;
    return 0;
}
