/* Spam: the same text from accounts that post nothing else (issue 14). */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "group_ctx.h"

/* ---- spam ------------------------------------------------------------------ */

/* Spam, in one line: the same text posted by two or more accounts that post
 * nothing else in the chat, riding hashtags other than the chat's ("#KCA
 * #VoteJKT48ID ..." copies of a participant's post). Kept in messages.jsonl,
 * never assigned; an override (move) says otherwise. Costs nothing unless
 * some message carries another hashtag; memory in proportion to those. */
static bool spam_candidate(const struct ctx *x, size_t i)
{
    const struct ck_group_msg *m = &x->m[i];
    return x->st[i] == ST_OPEN && !m->boost && (m->flags & CK_GROUP_F_OTAG) && m->author != NULL;
}

static size_t pow2_for(size_t n)
{
    size_t cap = 16;
    while (cap < n * 2)
        cap *= 2;
    return cap;
}

int ck_group__mark_spam(struct ctx *x)
{
    size_t cand = 0;
    for (size_t i = 0; i < x->n; i++)
        cand += spam_candidate(x, i);
    if (cand < 2)
        return 0;
    /* 1. candidates per text (hash 0 is stored as 1: 0 marks an empty slot) */
    size_t tcap = pow2_for(cand);
    uint32_t *tkey = calloc(tcap, sizeof *tkey), *tcount = calloc(tcap, sizeof *tcount);
    size_t *aslot = NULL, acap = 0, dups = 0;
    uint32_t *acount = NULL;
    int rc = CK_ENOMEM;
    if (tkey == NULL || tcount == NULL)
        goto out;
    for (size_t i = 0; i < x->n; i++) {
        if (!spam_candidate(x, i))
            continue;
        uint32_t key = x->m[i].text_hash ? x->m[i].text_hash : 1;
        size_t t = key & (tcap - 1);
        while (tkey[t] != 0 && tkey[t] != key)
            t = (t + 1) & (tcap - 1);
        tkey[t] = key;
        tcount[t]++;
        if (tcount[t] >= 2)
            dups += tcount[t] == 2 ? 2 : 1; /* messages whose text is repeated */
    }
    rc = 0;
    if (dups == 0)
        goto out;
    /* 2. how many messages the authors of repeated texts wrote in all */
    acap = pow2_for(dups);
    aslot = calloc(acap, sizeof *aslot);
    acount = calloc(acap, sizeof *acount);
    rc = CK_ENOMEM;
    if (aslot == NULL || acount == NULL)
        goto out;
    for (int pass = 0; pass < 2; pass++)
        for (size_t i = 0; i < x->n; i++) {
            const struct ck_group_msg *m = &x->m[i];
            if (m->boost || m->author == NULL)
                continue;
            size_t h = (size_t)ck_group__hash_str(m->author) & (acap - 1);
            while (aslot[h] != 0 && strcmp(x->m[aslot[h] - 1].author, m->author) != 0)
                h = (h + 1) & (acap - 1);
            if (pass == 0 && aslot[h] == 0 && spam_candidate(x, i)) {
                uint32_t key = m->text_hash ? m->text_hash : 1;
                size_t t = key & (tcap - 1);
                while (tkey[t] != key)
                    t = (t + 1) & (tcap - 1);
                if (tcount[t] >= 2)
                    aslot[h] = i + 1; /* an author to count */
            } else if (pass == 1 && aslot[h] != 0) {
                acount[h]++;
            }
        }
    /* 3. repeated text, an author with nothing else, not a facilitator */
    for (size_t i = 0; i < x->n; i++) {
        struct ck_group_msg *m = &x->m[i];
        if (!spam_candidate(x, i) || ck_group__is_facilitator(x->c, m->author))
            continue;
        size_t h = (size_t)ck_group__hash_str(m->author) & (acap - 1);
        while (aslot[h] != 0 && strcmp(x->m[aslot[h] - 1].author, m->author) != 0)
            h = (h + 1) & (acap - 1);
        if (aslot[h] != 0 && acount[h] == 1) {
            m->by = CK_BY_SPAM;
            x->st[i] = ST_DONE;
        }
    }
    rc = 0;
out:
    free(tkey);
    free(tcount);
    free(aslot);
    free(acount);
    return rc;
}
