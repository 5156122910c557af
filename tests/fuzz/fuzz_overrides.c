/* overrides.json: any bytes give checked overrides or an error naming
 * ov.json:line:column (valid UTF-8); checked overrides are always accepted by
 * grouping (the parser's promise), put messages only under questions that
 * exist, and warnings about unknown ids carry no control characters. */
#include <string.h>

#include "chatkeeper/group.h"
#include "chatkeeper/overrides.h"
#include "fuzz.h"

#define NQ 6

static void warned(const char *line, void *arg)
{
    (void)arg;
    size_t n = strlen(line);
    FUZZ_CHECK(fuzz_utf8_ok(line, n), "warning is not UTF-8: %s", line);
    for (size_t i = 0; i < n; i++)
        FUZZ_CHECK((unsigned char)line[i] >= 0x20 && line[i] != 0x7f,
                   "control character in a warning: %s", line);
    FUZZ_CHECK(strncmp(line, "ov.json:", 8) == 0, "warning does not name the file: %s", line);
}

static void group(const struct ck_overrides *ov)
{
    static const struct ck_group_question qs[NQ] = {
        {1, "One", 0, "q1", NULL, 0}, {2, "Two", 0, NULL, NULL, 0}, {3, NULL, 0, NULL, NULL, 0},
        {4, NULL, 0, NULL, NULL, 0},  {5, NULL, 0, NULL, NULL, 0},  {6, NULL, 0, NULL, NULL, 0}};
    static const char *const fac[] = {"@host@x.org"};
    struct ck_group_conf c = {qs, NQ, fac, 1, "#chat", 1000, 0};
    struct ck_group_msg m[5] = {
        {.id = "q1", .author = "@host@x.org", .created_ms = 1000, .q_mention = 1},
        {.id = "1", .author = "@carol@x.org", .created_ms = 2000, .reply_to = "q1"},
        {.id = "2", .author = "@dave@y.net", .created_ms = 3000, .tags = {2}, .n_tags = 1},
        {.id = "a", .author = "@carol", .created_ms = 4000},
        {.id = "b", .author = "@erin@x.org", .created_ms = 5000, .reply_to = "a"},
    };
    struct ck_error err = {0};
    int rc = ck_group_assign(&c, m, 5, ov->doc, &err);
    FUZZ_CHECK(rc == 0 || rc == CK_ENOMEM, "checked overrides refused by grouping: %d %s", rc,
               err.msg);
    if (rc != 0)
        return;
    for (size_t i = 0; i < 5; i++) {
        FUZZ_CHECK(m[i].n_questions <= CK_GROUP_MAX_TAGS, "%u questions", m[i].n_questions);
        for (size_t k = 0; k < m[i].n_questions; k++)
            FUZZ_CHECK(m[i].questions[k] >= 1 && m[i].questions[k] <= NQ,
                       "message %s under question %u of %d", m[i].id, m[i].questions[k], NQ);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct ck_overrides ov;
    struct ck_error err = {0};
    int rc = ck_overrides_parse("ov.json", (const char *)data, size, NQ, &ov, &err);
    if (rc != 0) {
        FUZZ_CHECK(rc == CK_ECONFIG || rc == CK_ENOMEM, "unexpected code %d", rc);
        FUZZ_CHECK(err.msg[0] != '\0', "error %d without a message", rc);
        FUZZ_CHECK(fuzz_utf8_ok(err.msg, strlen(err.msg)), "message is not UTF-8: %s", err.msg);
        FUZZ_CHECK(rc == CK_ENOMEM || strncmp(err.msg, "ov.json:", 8) == 0,
                   "message does not name the file: %s", err.msg);
        FUZZ_CHECK(ov.doc == NULL && ov.n_refs == 0, "error left overrides behind");
        return 0;
    }
    FUZZ_CHECK(ov.doc != NULL, "no document");
    for (size_t i = 0; i < ov.n_refs; i++)
        FUZZ_CHECK(ov.refs[i].id != NULL && ov.refs[i].path != NULL && ov.refs[i].line >= 1 &&
                       ov.refs[i].col >= 1,
                   "reference %zu incomplete", i);
    group(&ov);
    size_t n = ck_overrides_unknown(&ov, NULL, 0, warned, NULL);
    FUZZ_CHECK(n <= ov.n_refs, "%zu warnings for %zu references", n, ov.n_refs);
    ck_overrides_finish(&ov);
    return 0;
}
