/* The write-up template engine (see template.h): a template is first cut into
 * tokens, with every section matched to its closing tag, so that structural
 * mistakes are reported before a single byte is rendered; rendering then walks
 * the token list with a small stack of contexts. */
#include "chatkeeper/template.h"

#include <inttypes.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

enum tok_kind { TOK_TEXT, TOK_VAR, TOK_RAW, TOK_SECTION, TOK_INVERTED, TOK_CLOSE, TOK_COMMENT };

struct tok {
    enum tok_kind kind;
    const char *p; /* text, or the name */
    size_t n;
    int line;
    size_t end; /* sections: index of the matching close */
};

struct tokens {
    struct tok *v;
    size_t n, cap;
};

#define MAX_DEPTH 32

struct render {
    const char *name;
    const struct tokens *t;
    const json_t *stack[MAX_DEPTH];
    size_t depth;
    struct ck_sink *out;
    struct ck_error *err;
};

/* memmem is a GNU extension: this is the small part of it we need. */
static const char *find(const char *h, size_t hl, const char *n, size_t nl)
{
    for (size_t i = 0; i + nl <= hl; i++)
        if (h[i] == n[0] && memcmp(h + i, n, nl) == 0)
            return h + i;
    return NULL;
}

static int push_tok(struct tokens *t, enum tok_kind kind, const char *p, size_t n, int line)
{
    if (kind == TOK_TEXT && n == 0)
        return 0;
    if (t->n == t->cap) {
        size_t cap = t->cap * 2 + 16;
        struct tok *v = realloc(t->v, cap * sizeof *v);
        if (v == NULL)
            return CK_ENOMEM;
        t->v = v;
        t->cap = cap;
    }
    t->v[t->n++] = (struct tok){.kind = kind, .p = p, .n = n, .line = line};
    return 0;
}

static bool is_blank(char c)
{
    return c == ' ' || c == '\t' || c == '\r';
}

static int count_lines(const char *p, size_t from, size_t to)
{
    int n = 0;
    for (size_t i = from; i < to; i++)
        n += p[i] == '\n';
    return n;
}

static bool name_ok(const char *p, size_t n)
{
    if (n == 0)
        return false;
    if (n == 1 && p[0] == '.')
        return true;
    for (size_t i = 0; i < n; i++) {
        char c = p[i];
        bool alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
        if (!alnum && c != '_' && c != '-' && c != '.')
            return false;
    }
    return true;
}

/* Cut tmpl into tokens and match sections. */
static int tokenize(const char *name, const char *s, size_t len, struct tokens *t,
                    struct ck_error *err)
{
    size_t pos = 0, stack[MAX_DEPTH], depth = 0;
    int line = 1; /* line number at pos */
    while (pos < len) {
        const char *o = find(s + pos, len - pos, "{{", 2);
        if (o == NULL) {
            if (push_tok(t, TOK_TEXT, s + pos, len - pos, line) != 0)
                return CK_ENOMEM;
            break;
        }
        size_t at = (size_t)(o - s);
        int tline = line + count_lines(s, pos, at);
        bool triple = at + 2 < len && s[at + 2] == '{';
        const char *closer = triple ? "}}}" : "}}";
        size_t inner = at + (triple ? 3 : 2);
        const char *c = find(s + inner, len - inner, closer, strlen(closer));
        const char *nl = memchr(s + inner, '\n', len - inner);
        bool comment = !triple && inner < len && s[inner] == '!';
        if (c == NULL || (nl != NULL && nl < c && !comment))
            return ck_error_set(err, CK_EPARSE,
                                "%s:%d: '%s' is not closed by '%s' on the same line", name, tline,
                                triple ? "{{{" : "{{", closer);
        size_t after = (size_t)(c - s) + strlen(closer);
        const char *np = s + inner;
        size_t nn = (size_t)(c - np);
        enum tok_kind kind = triple ? TOK_RAW : TOK_VAR;
        if (!triple && nn > 0 && strchr("#^/!&", np[0]) != NULL) {
            kind = np[0] == '#'   ? TOK_SECTION
                   : np[0] == '^' ? TOK_INVERTED
                   : np[0] == '/' ? TOK_CLOSE
                   : np[0] == '!' ? TOK_COMMENT
                                  : TOK_RAW;
            np++;
            nn--;
        }
        while (nn > 0 && is_blank(np[0]))
            np++, nn--;
        while (nn > 0 && is_blank(np[nn - 1]))
            nn--;
        if (kind != TOK_COMMENT && !name_ok(np, nn))
            return ck_error_set(err, CK_EPARSE,
                                "%s:%d: bad tag '%.*s' (expected a name of letters, digits, "
                                "'_', '-' or '.')",
                                name, tline, (int)(after - at), s + at);
        /* A block tag alone on its line takes the line (indent and newline) along. */
        size_t text_end = at, next = after;
        if (kind == TOK_SECTION || kind == TOK_INVERTED || kind == TOK_CLOSE ||
            kind == TOK_COMMENT) {
            size_t ls = at;
            while (ls > pos && is_blank(s[ls - 1]))
                ls--;
            size_t le = after;
            while (le < len && is_blank(s[le]))
                le++;
            if ((ls == 0 || s[ls - 1] == '\n') && (le == len || s[le] == '\n')) {
                text_end = ls;
                next = le < len ? le + 1 : le;
            }
        }
        if (push_tok(t, TOK_TEXT, s + pos, text_end - pos, line) != 0 ||
            push_tok(t, kind, np, nn, tline) != 0)
            return CK_ENOMEM;
        if (kind == TOK_SECTION || kind == TOK_INVERTED) {
            if (depth == MAX_DEPTH)
                return ck_error_set(err, CK_EPARSE, "%s:%d: sections nested too deeply", name,
                                    tline);
            stack[depth++] = t->n - 1;
        } else if (kind == TOK_CLOSE) {
            if (depth == 0)
                return ck_error_set(err, CK_EPARSE, "%s:%d: {{/%.*s}} closes no open section", name,
                                    tline, (int)nn, np);
            struct tok *open = &t->v[stack[depth - 1]];
            if (open->n != nn || memcmp(open->p, np, nn) != 0)
                return ck_error_set(err, CK_EPARSE,
                                    "%s:%d: {{/%.*s}} does not match {{%c%.*s}} opened on line %d",
                                    name, tline, (int)nn, np, open->kind == TOK_SECTION ? '#' : '^',
                                    (int)open->n, open->p, open->line);
            open->end = t->n - 1;
            depth--;
        }
        line = tline + count_lines(s, at, next);
        pos = next;
    }
    if (depth > 0) {
        const struct tok *open = &t->v[stack[depth - 1]];
        return ck_error_set(err, CK_EPARSE, "%s:%d: section {{%c%.*s}} is never closed", name,
                            open->line, open->kind == TOK_SECTION ? '#' : '^', (int)open->n,
                            open->p);
    }
    return 0;
}

/* Walk "a.b.c" from the innermost context that has "a". NULL when absent. */
static const json_t *lookup(const struct render *r, const char *p, size_t n)
{
    if (n == 1 && p[0] == '.')
        return r->depth > 0 ? r->stack[r->depth - 1] : NULL;
    const char *dot = memchr(p, '.', n);
    size_t first = dot ? (size_t)(dot - p) : n;
    const json_t *v = NULL;
    for (size_t i = r->depth; i-- > 0 && v == NULL;)
        if (json_is_object(r->stack[i]))
            v = json_object_getn(r->stack[i], p, first);
    while (v != NULL && dot != NULL) {
        const char *seg = dot + 1;
        dot = memchr(seg, '.', n - (size_t)(seg - p));
        size_t sl = dot ? (size_t)(dot - seg) : n - (size_t)(seg - p);
        v = json_is_object(v) ? json_object_getn(v, seg, sl) : NULL;
    }
    return v;
}

static bool truthy(const json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_OBJECT:
    case JSON_TRUE:
        return true;
    case JSON_ARRAY:
        return json_array_size(v) > 0;
    case JSON_STRING:
        return json_string_length(v) > 0;
    case JSON_INTEGER:
        return json_integer_value(v) != 0;
    case JSON_REAL:
        return json_real_value(v) != 0.0;
    default:
        return false;
    }
}

static int missing(struct render *r, const struct tok *k)
{
    return ck_error_set(r->err, CK_ENOTFOUND, "%s:%d: no value named '%.*s'", r->name, k->line,
                        (int)k->n, k->p);
}

static int put_value(struct render *r, const struct tok *k, const json_t *v)
{
    char num[64];
    const char *text = num;
    size_t len;
    switch (json_typeof(v)) {
    case JSON_STRING:
        text = json_string_value(v);
        len = json_string_length(v);
        break;
    case JSON_INTEGER:
        len = (size_t)snprintf(num, sizeof num, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
        break;
    case JSON_REAL:
        len = (size_t)snprintf(num, sizeof num, "%g", json_real_value(v));
        break;
    case JSON_TRUE:
    case JSON_FALSE:
        len = (size_t)snprintf(num, sizeof num, "%s", json_is_true(v) ? "true" : "false");
        break;
    case JSON_NULL:
        len = 0;
        break;
    default:
        return ck_error_set(r->err, CK_ENOTFOUND,
                            "%s:%d: '%.*s' is a list or an object: use {{#%.*s}}...{{/%.*s}}",
                            r->name, k->line, (int)k->n, k->p, (int)k->n, k->p, (int)k->n, k->p);
    }
    if (k->kind == TOK_RAW)
        ck_sink_put(r->out, text, len);
    else
        /* A value never starts a block and keeps its line breaks as hard breaks,
         * so a multi-line answer stays inside its quote or list item. */
        ck_md_text(r->out, text, len, "\\\n");
    return 0;
}

static int render_range(struct render *r, size_t from, size_t to);

static int render_with(struct render *r, const json_t *top, size_t from, size_t to,
                       const struct tok *k)
{
    if (r->depth == MAX_DEPTH)
        return ck_error_set(r->err, CK_EPARSE, "%s:%d: sections nested too deeply", r->name,
                            k->line);
    r->stack[r->depth++] = top;
    int rc = render_range(r, from, to);
    r->depth--;
    return rc;
}

static int render_range(struct render *r, size_t from, size_t to)
{
    for (size_t i = from; i < to; i++) {
        const struct tok *k = &r->t->v[i];
        const json_t *v;
        int rc = 0;
        switch (k->kind) {
        case TOK_TEXT:
            ck_sink_put(r->out, k->p, k->n);
            break;
        case TOK_COMMENT:
        case TOK_CLOSE:
            break;
        case TOK_VAR:
        case TOK_RAW:
            v = lookup(r, k->p, k->n);
            rc = v ? put_value(r, k, v) : missing(r, k);
            break;
        case TOK_SECTION:
        case TOK_INVERTED:
            v = lookup(r, k->p, k->n);
            if (v == NULL)
                return missing(r, k);
            if (k->kind == TOK_INVERTED) {
                if (!truthy(v))
                    rc = render_range(r, i + 1, k->end);
            } else if (json_is_array(v)) {
                for (size_t j = 0; j < json_array_size(v) && rc == 0; j++)
                    rc = render_with(r, json_array_get(v, j), i + 1, k->end, k);
            } else if (truthy(v)) {
                rc = render_with(r, v, i + 1, k->end, k);
            }
            i = k->end;
            break;
        }
        if (rc != 0)
            return rc;
        if (r->out->rc != 0)
            return r->out->rc;
    }
    return 0;
}

int ck_template_render(const char *name, const char *tmpl, size_t len, const json_t *data,
                       struct ck_sink *out, struct ck_error *err)
{
    struct tokens t = {0};
    int rc = tokenize(name, tmpl, len, &t, err);
    if (rc == CK_ENOMEM)
        ck_error_set(err, rc, "out of memory");
    if (rc == 0) {
        struct render r = {.name = name, .t = &t, .out = out, .err = err};
        r.stack[r.depth++] = data;
        rc = render_range(&r, 0, t.n);
    }
    free(t.v);
    return rc;
}
