/* The escapers, on any (sanitised) text, keep text as text:
 * - HTML: no raw < > " ' from the input (only our own <br>), valid UTF-8;
 * - CSV: the cell read back never starts with = + - @ tab or CR, and holds
 *   no C0 control but newline and tab, no DEL, no bidi control;
 * - Markdown: CommonMark (cmark) reads the output as plain paragraphs of
 *   text and line breaks (no list, heading, code, quote, HTML, link or
 *   emphasis), and every visible character of the input is still there.
 * The first input byte picks the escaper. */
#include <string.h>

#include <cmark.h>

#include "chatkeeper/escape.h"
#include "chatkeeper/text.h"
#include "fuzz.h"

static bool is_bidi(const unsigned char *p, size_t left)
{
    /* The embeddings, overrides and isolates (U+202A-E, U+2066-9) that can
     * reorder what a reader sees; the marks (LRM, RLM) are kept. */
    if (left < 3 || p[0] != 0xE2)
        return false;
    if (p[1] == 0x80 && p[2] >= 0xAA && p[2] <= 0xAE)
        return true;
    return p[1] == 0x81 && p[2] >= 0xA6 && p[2] <= 0xA9;
}

/* The visible characters: no ASCII space or control, no bidi control. */
static size_t visible(const char *s, size_t n, char *out)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t o = 0;
    for (size_t i = 0; i < n;) {
        if (p[i] <= 0x20 || p[i] == 0x7F) {
            i++;
            continue;
        }
        if (is_bidi(p + i, n - i)) {
            i += 3;
            continue;
        }
        if (p[i] == 0xC2 && i + 1 < n && p[i + 1] >= 0x80 && p[i + 1] < 0xA0) {
            i += 2; /* C1 controls */
            continue;
        }
        out[o++] = s[i++];
    }
    return o;
}

static void check_html(const char *text, size_t len, bool br)
{
    struct ck_sink s;
    ck_sink_init_mem(&s);
    ck_html_text(&s, text, len, br);
    FUZZ_CHECK(s.rc == 0, "sink failed");
    const char *o = s.buf != NULL ? s.buf : "";
    for (const char *p = o; *p != '\0'; p++) {
        if (*p == '<') {
            FUZZ_CHECK(br && strncmp(p, "<br>", 4) == 0, "raw < in \"%s\"", o);
            p += 3;
            continue;
        }
        FUZZ_CHECK(*p != '>' && *p != '"' && *p != '\'', "raw markup character in \"%s\"", o);
    }
    FUZZ_CHECK(fuzz_utf8_ok(o, strlen(o)), "HTML not UTF-8");
    ck_sink_abort(&s);
}

static void check_csv(const char *text, size_t len)
{
    struct ck_sink s;
    ck_sink_init_mem(&s);
    ck_csv_field(&s, text, len);
    FUZZ_CHECK(s.rc == 0, "sink failed");
    const char *o = s.buf != NULL ? s.buf : "";
    /* Read the field back as RFC 4180 does. */
    size_t n = strlen(o);
    char *cell = malloc(n + 1);
    FUZZ_CHECK(cell != NULL, "oom");
    size_t c = 0;
    if (n > 0 && o[0] == '"') {
        FUZZ_CHECK(n >= 2 && o[n - 1] == '"', "unterminated quoted field \"%s\"", o);
        for (size_t i = 1; i + 1 < n; i++) {
            if (o[i] == '"') {
                FUZZ_CHECK(o[i + 1] == '"', "lone quote inside \"%s\"", o);
                i++;
            }
            cell[c++] = o[i];
        }
    } else {
        for (size_t i = 0; i < n; i++) {
            FUZZ_CHECK(o[i] != '"' && o[i] != ',' && o[i] != '\n' && o[i] != '\r',
                       "unquoted field needs quotes: \"%s\"", o);
            cell[c++] = o[i];
        }
    }
    cell[c] = '\0';
    if (c > 0)
        FUZZ_CHECK(strchr("=+-@\t\r", cell[0]) == NULL, "cell starts with a formula: \"%s\"", o);
    const unsigned char *u = (const unsigned char *)cell;
    for (size_t i = 0; i < c; i++) {
        FUZZ_CHECK(u[i] >= 0x20 || u[i] == '\n' || u[i] == '\t', "control 0x%02x in cell", u[i]);
        FUZZ_CHECK(u[i] != 0x7F, "DEL in cell");
        FUZZ_CHECK(!is_bidi(u + i, c - i), "bidi control in cell");
        FUZZ_CHECK(!(u[i] == 0xC2 && i + 1 < c && u[i + 1] >= 0x80 && u[i + 1] < 0xA0),
                   "C1 control in cell");
    }
    free(cell);
    ck_sink_abort(&s);
}

static void collect_text(cmark_node *doc, const char *md, char **acc, size_t *acc_len)
{
    cmark_iter *it = cmark_iter_new(doc);
    cmark_event_type ev;
    while ((ev = cmark_iter_next(it)) != CMARK_EVENT_DONE) {
        cmark_node *node = cmark_iter_get_node(it);
        cmark_node_type t = cmark_node_get_type(node);
        if (ev != CMARK_EVENT_ENTER)
            continue;
        FUZZ_CHECK(t == CMARK_NODE_DOCUMENT || t == CMARK_NODE_PARAGRAPH || t == CMARK_NODE_TEXT ||
                       t == CMARK_NODE_SOFTBREAK || t == CMARK_NODE_LINEBREAK,
                   "Markdown made a %s node of \"%s\"", cmark_node_get_type_string(node), md);
        if (t == CMARK_NODE_TEXT) {
            const char *lit = cmark_node_get_literal(node);
            size_t l = strlen(lit);
            char *more = realloc(*acc, *acc_len + l + 1);
            FUZZ_CHECK(more != NULL, "oom");
            *acc = more;
            memcpy(*acc + *acc_len, lit, l);
            *acc_len += l;
        }
    }
    cmark_iter_free(it);
}

static void check_md(const char *text, size_t len, const char *nl)
{
    struct ck_sink s;
    ck_sink_init_mem(&s);
    ck_md_text(&s, text, len, nl);
    FUZZ_CHECK(s.rc == 0, "sink failed");
    const char *o = s.buf != NULL ? s.buf : "";
    cmark_node *doc = cmark_parse_document(o, strlen(o), CMARK_OPT_DEFAULT);
    char *acc = NULL;
    size_t acc_len = 0;
    collect_text(doc, o, &acc, &acc_len);
    cmark_node_free(doc);
    char *want = malloc(len + 1), *got = malloc(acc_len + 1);
    FUZZ_CHECK(want != NULL && got != NULL, "oom");
    size_t wn = visible(text, len, want), gn = visible(acc != NULL ? acc : "", acc_len, got);
    FUZZ_CHECK(wn == gn && memcmp(want, got, wn) == 0, "text changed: \"%.*s\" -> \"%s\"", (int)len,
               text, o);
    free(want);
    free(got);
    free(acc);
    ck_sink_abort(&s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > 4096)
        return 0;
    char *text = ck_utf8_sanitize((const char *)data + 1, size - 1);
    if (text == NULL)
        return 0;
    size_t len = strlen(text);
    switch (data[0] % 5) {
    case 0:
        check_html(text, len, false);
        break;
    case 1:
        check_html(text, len, true);
        break;
    case 2:
        check_csv(text, len);
        break;
    case 3:
        check_md(text, len, " ");
        break;
    default:
        check_md(text, len, "\\\n");
        break;
    }
    free(text);
    return 0;
}
