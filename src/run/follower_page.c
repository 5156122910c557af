/* What the follower does with one page (see follower.h): journal what is new,
 * then move the cursor, or end the cycle when the server stalls it. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chatkeeper/fresh.h"
#include "chatkeeper/log.h"
#include "chatkeeper/state.h"
#include "chatkeeper/timeutil.h"
#include "follower_int.h"

/* The oldest and newest ids in a page, and the oldest created_at. */
static void page_bounds(struct ck_follower *f, json_t *items, size_t n_own, const char **lo,
                        const char **hi, int64_t *oldest_ms)
{
    *lo = *hi = NULL;
    *oldest_ms = INT64_MAX;
    size_t i;
    json_t *it;
    json_array_foreach(items, i, it)
    {
        if (n_own > 0 && i >= n_own)
            break; /* context the answer carried (X's originals): not the page's bounds */
        const char *id = f->conf.ops->item_id(it);
        if (*lo == NULL || ck_fl_idcmp(f, id, *lo) < 0)
            *lo = id;
        if (*hi == NULL || ck_fl_idcmp(f, id, *hi) > 0)
            *hi = id;
        int64_t ms = f->conf.ops->item_time(it);
        if (ms != INT64_MIN && ms < *oldest_ms)
            *oldest_ms = ms;
    }
}

/* Append the kept items whose repaired flag is want, under the source (with
 * "+repaired" for repaired ones: the journal holds what the API showed, and
 * says where a byte of it had to be replaced). */
static int append_some(struct ck_follower *f, json_t *items, const unsigned char *repaired,
                       const struct ck_fresh *fr, int want, size_t *done)
{
    json_t **objs = malloc((fr->n ? fr->n : 1) * sizeof *objs);
    const char **authors = malloc((fr->n ? fr->n : 1) * sizeof *authors);
    if (objs == NULL || authors == NULL) {
        free(objs);
        free(authors);
        return CK_ENOMEM;
    }
    size_t k = 0;
    for (size_t j = 0; j < fr->n; j++) {
        int rep = repaired != NULL && repaired[fr->idx[j]];
        if (rep == want) {
            objs[k] = json_array_get(items, fr->idx[j]);
            authors[k++] = fr->authors[j];
        }
    }
    int rc = 0;
    if (k > 0) {
        char source[48];
        snprintf(source, sizeof source, "%s%s", f->source, want ? "+repaired" : "");
        struct ck_error err = {0};
        rc = ck_journal_append_from(f->journal, f->conf.ops->name, f->conf.source_name, source,
                                    ck_time_now_ms(), objs, k, &err);
        if (rc < 0) {
            ck_err("follower: journal: %s", err.msg);
        } else {
            for (size_t j = 0; j < k; j++)
                ck_fl_remember(f, objs[j], authors[j]);
            /* The live view's hook: the messages as normalised for dedupe,
             * so the console never reads and parses the journal again. */
            for (size_t j = 0; f->on_msg != NULL && j < fr->n; j++)
                if ((repaired != NULL && repaired[fr->idx[j]]) == want)
                    f->on_msg(f->on_msg_arg, f, source, &fr->msgs[j]);
            f->stats.journaled += k;
            *done += k;
        }
    }
    free(objs);
    free(authors);
    return rc;
}

void ck_follower_on_message(struct ck_follower *f, ck_follower_msg_cb cb, void *arg)
{
    f->on_msg = cb;
    f->on_msg_arg = arg;
}

void ck_follower_get_ratelimit(const struct ck_follower *f, struct ck_ratelimit *out)
{
    *out = f->rl;
}

/* Journal what is new in the page and normalises; 0 when it is all on disk.
 * repaired (may be NULL) flags the items whose bytes were repaired. */
int ck_fl_journal_page(struct ck_follower *f, json_t *items, const unsigned char *repaired,
                       size_t *fresh_out)
{
    struct ck_fresh fr;
    if (fresh_out != NULL)
        *fresh_out = 0;
    int rc = ck_fresh_select(f->conf.ops, items, &f->seen, &fr);
    if (rc < 0)
        return rc;
    if (fr.bad > 0)
        ck_fl_noisy(f, N_BAD_ITEMS,
                    "%zu status(es) in a %s page do not read as statuses; skipped (%s)", fr.bad,
                    f->source, fr.bad_why);
    size_t done = 0;
    rc = append_some(f, items, repaired, &fr, 0, &done);
    if (rc == 0)
        rc = append_some(f, items, repaired, &fr, 1, &done);
    if (done > 0)
        ck_info("follower: %zu new (%s), %zu messages from %zu people", done, f->source,
                f->stats.messages, f->stats.people);
    if (fresh_out != NULL)
        *fresh_out = fr.n + fr.bad;
    ck_fresh_finish(&fr);
    return rc;
}

/* Keep at most cap items of the page: the oldest when paging forward, the
 * newest when paging backward, so that the next page (from the kept ones'
 * newest or oldest id) brings the rest if the server honours the cursor. */
static void cap_page(struct ck_follower *f, struct ck_page *page, size_t cap)
{
    size_t n = json_array_size(page->items);
    if (n <= cap)
        return;
    size_t lo = n - cap, hi = n; /* items in API order: newest first */
    if (f->mode == M_BACKWARD) {
        lo = 0;
        hi = cap;
    }
    json_t *kept = json_array();
    if (kept == NULL)
        return;
    for (size_t i = lo; i < hi; i++) {
        json_array_append(kept, json_array_get(page->items, i));
        if (page->repaired != NULL)
            page->repaired[i - lo] = page->repaired[i];
    }
    json_decref(page->items);
    page->items = kept;
    ck_fl_noisy(f, N_OVERSIZE, "the server sent %zu statuses for a page of %d; kept %zu", n,
                f->conf.page_limit, cap);
}

/* The server stalled a cycle of kind with a full page that moves nothing:
 * end the cycle (the sweep) rather than ask the same again at full speed. */
static void stalled(struct ck_follower *f, enum noise kind, int repeats, const char *param,
                    const char *value)
{
    const char *then = kind == N_STUCK_SWEEP ? "the sweep ends here" : "waiting for the next poll";
    if (repeats)
        ck_fl_noisy(f, kind, "the server repeated statuses to fill a page (%s=%s); %s", param,
                    value != NULL ? value : "(none)", then);
    else
        ck_fl_noisy(f, kind, "the server ignored %s=%s (a full page that moves nothing); %s", param,
                    value != NULL ? value : "(none)", then);
}

void ck_fl_handle_page(struct ck_follower *f, struct ck_page *page)
{
    cap_page(f, page, (size_t)f->conf.page_limit * PAGE_CAP_FACTOR);
    size_t n = json_array_size(page->items);
    const char *lo, *hi;
    int64_t oldest_ms;
    page_bounds(f, page->items, page->n_own, &lo, &hi, &oldest_ms);
    if (page->repairs > 0)
        ck_fl_noisy(f, N_REPAIRED,
                    "%zu byte(s) or escape(s) no JSON parser accepts replaced by U+FFFD "
                    "in a %s page (journaled with source \"%s+repaired\")",
                    page->repairs, f->source, f->source);
    if (page->skipped > 0)
        ck_fl_noisy(f, N_BAD_ITEMS, "%zu item(s) of a %s page skipped: %s", page->skipped,
                    f->source, page->skip_why);
    /* Posts of this page that earlier polls had read: a poll that has
     * re-read its overlap of them has reached what was read before. Counted
     * before the page is journaled, by id (a new version of a known post is
     * known), and only at or below covered_top: a post this poll journaled
     * on an earlier page, shown again because new posts pushed the offset
     * cursor down, is no sign of the overlap, nor is one that a poll cut
     * short journaled above a gap it left. */
    for (size_t i = 0; i < n && f->covered_top != NULL; i++) {
        const char *id = f->conf.ops->item_id(json_array_get(page->items, i));
        if (id != NULL && ck_hset_has(&f->ids, id) && ck_fl_idcmp(f, id, f->covered_top) <= 0)
            f->poll_known++;
    }
    size_t fresh = 0;
    if (ck_fl_journal_page(f, page->items, page->repaired, &fresh) < 0) {
        ck_fl_retry_later(f, "could not write the journal");
        return;
    }
    f->stats.pages++;
    ck_backoff_reset(&f->backoff);
    /* Full counts distinct ids: a page of one status forty times is not full. */
    struct ck_strset distinct;
    ck_strset_init(&distinct);
    for (size_t i = 0; i < n; i++)
        ck_strset_add(&distinct, f->conf.ops->item_id(json_array_get(page->items, i)));
    int full = distinct.n >= (size_t)f->conf.page_limit;
    int repeats = n >= (size_t)f->conf.page_limit && !full;
    ck_strset_finish(&distinct);

    if (f->mode == M_FORWARD) {
        /* The journal is on disk: now the cursor may move. */
        if (n > 0)
            ck_fl_save_state(f);
        /* A server that ignores min_id hands back the same page for ever. */
        /* (A check re-reading what the stream brought, or racing it, may
         * see full pages of known statuses; the cursor still has to move.) */
        /* Nor may a page still inside the overlap (its newest at or below the
         * cursor): an overlap longer than a page is pages of known statuses
         * before the new ones. A server ignoring min_id still ends the cycle
         * on its second page (hi no higher than the min_id asked). */
        const char *cur = ck_fl_cursor(f);
        int known_ok = f->rereading || f->stream_up ||
                       (cur != NULL && hi != NULL && ck_fl_idcmp(f, hi, cur) <= 0);
        if (repeats || (full && ((fresh == 0 && !known_ok) || f->page_min_id == NULL ||
                                 ck_fl_idcmp(f, hi, f->page_min_id) <= 0))) {
            stalled(f, N_STUCK_POLL, repeats, "min_id", f->page_min_id);
            ck_fl_cycle_done(f);
        } else if (full) {
            free(f->page_min_id);
            f->page_min_id = strdup(hi);
            ck_fl_schedule_at(f, ck_time_now_ms());
        } else {
            ck_fl_cycle_done(f);
        }
        return;
    }

    /* Backward: catch-up, a poll without an anchor, or the sweep. */
    int reached = oldest_ms >= f->conf.window_start_ms;
    int more = full && reached;
    int cursor_paging = f->conf.ops->paging == CK_PAGING_CURSOR;
    if (cursor_paging) {
        /* The server bounds the pages (since); the page's cursor says if
         * there is more. A cursor handed back unchanged, or a page that
         * reaches no further back than the one before, goes round in circles. */
        reached = oldest_ms >= (f->since_ms > 0 ? f->since_ms : f->conf.window_start_ms);
        more = page->older != NULL && n > 0 && reached;
        /* A poll stops once it has re-read `overlap` posts it already had,
         * as a Mastodon poll re-reads `overlap` statuses behind its cursor:
         * reading all of since's window each poll cost about four searches
         * a poll and, rate-limited, a minute of delay. Posts indexed later
         * than that are the sweep's (the whole window, at the end). */
        if (f->st == F_POLL && f->poll_known >= (size_t)f->conf.overlap)
            more = 0;
        repeats = more && ((f->page_max_id != NULL && strcmp(page->older, f->page_max_id) == 0) ||
                           oldest_ms >= f->page_oldest_ms);
        f->page_oldest_ms = oldest_ms;
    }
    /* A server that ignores max_id hands back the same page for ever. */
    int stuck = reached &&
                (repeats || (!cursor_paging && full &&
                             ((f->page_max_id != NULL && ck_fl_idcmp(f, lo, f->page_max_id) >= 0) ||
                              (f->st == F_CATCHUP && fresh == 0))));
    if (f->st == F_SWEEP) {
        /* A status journaled early carries the reply count of that moment; the
         * sweep sees the final counts, which decide whose threads to fetch. */
        size_t i;
        json_t *it;
        json_array_foreach(page->items, i, it)
        {
            struct ck_message m = {0};
            /* Out of memory loses a hint: the journal's count is used. */
            if (f->conf.ops->normalise(it, &m, NULL) == 0 && m.replies > 0 && m.id != NULL)
                ck_hset_put(&f->reply_hints, m.id,
                            m.replies > UINT32_MAX ? UINT32_MAX : (uint32_t)m.replies);
            ck_message_finish(&m);
        }
        if (stuck) {
            stalled(f, N_STUCK_SWEEP, repeats, "max_id", f->page_max_id);
            more = 0;
        }
        json_t *o = ck_fl_fstate_json(f);
        if (more)
            json_object_set_new(o, "sweep_max_id", json_string(cursor_paging ? page->older : lo));
        else
            json_object_set_new(o, "sweep_done", json_true());
        ck_fl_save_state(f);
        if (!more) {
            ck_info("follower: sweep complete");
            ck_fl_start_threads(f);
            return;
        }
    } else {
        if (n > 0)
            ck_fl_save_state(f);
        if (stuck) {
            stalled(f, f->st == F_CATCHUP ? N_STUCK_CATCHUP : N_STUCK_POLL, repeats, "max_id",
                    f->page_max_id);
            more = 0;
        }
        /* Catch-up ends when it reaches what we already have or the window's start. */
        if (more && !cursor_paging) {
            int overlap = 0;
            size_t i;
            json_t *it;
            json_array_foreach(page->items, i, it)
            {
                if (ck_hset_has(&f->ids, f->conf.ops->item_id(it)) && f->st == F_POLL)
                    overlap = 1;
            }
            more = !overlap;
        }
        if (!more) {
            /* A poll that read down to its overlap (or its since bound)
             * covers everything up to the newest post it saw. */
            if (f->st == F_POLL && cursor_paging && !stuck && ck_fl_cursor(f) != NULL) {
                free(f->covered_top);
                f->covered_top = strdup(ck_fl_cursor(f));
            }
            ck_fl_cycle_done(f);
            return;
        }
    }
    free(f->page_max_id);
    f->page_max_id = strdup(cursor_paging ? page->older : lo);
    ck_fl_schedule_at(f, ck_time_now_ms());
}
