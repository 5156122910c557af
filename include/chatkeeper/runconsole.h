/* The runner's side of the console (console.h): a narrow hook the runner
 * calls at three points (attach after start-up, tick once a second, detach at
 * shutdown). It reads the runner's own structures through the view below
 * (borrowed: the console keeps no second copy of the truth), builds the page's
 * snapshot from them and the messages the followers journal (filed by the
 * archive's own grouping), and carries out the page's controls on the loop's
 * thread:
 *
 *   {"action": "post_now", "step": "Q3"}   post the next step now
 *   {"action": "skip", "step": "Q4"}       never post an upcoming step
 *   {"action": "edit", "step": "Q4", "text": "..."}   within the post length limit
 *   {"action": "hold"} / {"action": "resume", "shift": true|false}
 *   {"action": "dismiss", "handle": "@a@b"}   take a newcomer off "say hello to"
 *   {"action": "dismiss", "id": "..."}        take a post off "unanswered mentions"
 *
 * The panels: a newcomer is someone whose first message ever (in this series'
 * earlier sessions: sibling folders of the same hashtag) is in this chat,
 * shown once until a facilitator replies to or mentions them, or a page
 * dismisses them. An unanswered mention is a post that mentions a host
 * account (the facilitators, and the account the run sheet goes out from), or
 * asks something (a question mark) in reply to a host's post; answers (a
 * reply to a question, or tagged "A3") are not. It shows until a facilitator
 * replies to it or a page dismisses it. Dismissals work on an observing run
 * too. The page gets the whole snapshot once, then only what changed
 * (console.h).
 *
 * Each control is recorded before it takes effect: an event in the journal
 * (platform "chatkeeper", source "console"; the archive skips those lines) and
 * its lasting effect in state.json's "console" member, which attach applies
 * again after a restart. Posting itself goes through the step handler, so the
 * poster's exactly-once machinery (intent saved, idempotency key) applies. A
 * control naming a step that is no longer upcoming is answered 409 with what
 * happened to it: two pages pressing "post next now" post one step once. */
#ifndef CHATKEEPER_RUNCONSOLE_H
#define CHATKEEPER_RUNCONSOLE_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>
#include <uv.h>

#include "chatkeeper/config.h"
#include "chatkeeper/console.h"
#include "chatkeeper/follower.h"
#include "chatkeeper/journal.h"
#include "chatkeeper/runner.h"
#include "chatkeeper/schedule.h"

/* Everything borrowed from the runner; valid until detach. */
struct ck_runconsole_view {
    uv_loop_t *loop;
    const char *dir;
    const char *journal_path, *state_path;
    struct ck_session *session;  /* step texts are edited in place */
    struct ck_schedule *sch;     /* upcoming steps' times are moved in place */
    size_t *next_step;           /* the runner's index of the next schedule entry */
    uv_timer_t *step_timer;      /* stopped while the run sheet is held */
    void (*rearm)(void *runner); /* arm the step timer for *next_step again */
    void *runner;
    const struct ck_step_handler *handler;
    json_t *state;
    struct ck_journal *journal;
    struct ck_follower *const *follower; /* *follower may be NULL */
    bool posting;                        /* a poster takes the steps */
    /* Several sources: source i's follower (may be NULL), its name and
     * platform type (borrowed); returns 0 past the last one. NULL: the one
     * *follower above. Each follower hands the hook every message it journals
     * (ck_follower_on_message), so the journal is read only once, at attach. */
    int (*source_at)(void *runner, size_t i, struct ck_follower **f, const char **name,
                     const char **type);
    /* Messages only once a page opens (serve: a hundred sessions, few watched):
     * until then no journal read, no hook, no grouping, only the run sheet,
     * its controls and the sources' health. */
    bool lazy;
};

struct ck_runconsole;

/* Start showing the run on con (borrowed, must outlive the hook) and taking
 * its controls. Returns NULL on out of memory (the run goes on without). */
struct ck_runconsole *ck_runconsole_attach(struct ck_console *con,
                                           const struct ck_runconsole_view *v);
/* Once a second on the loop: grouping of the messages the followers handed
 * over, the people panels, a new snapshot (the pages get what changed). */
void ck_runconsole_tick(struct ck_runconsole *rc);
/* Stop taking controls (a page waiting gets 503); frees rc once the loop
 * closes its handle. NULL is a no-op. */
void ck_runconsole_detach(struct ck_runconsole *rc);

#endif
