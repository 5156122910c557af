/* A small Mustache subset for the write-up template (config/writeup.md.tmpl).
 *
 * The template is Markdown, so values are escaped as Markdown inline text:
 *   {{name}}        value from the data, Markdown-escaped (ck_md_text)
 *   {{{name}}} / {{&name}}   value as is (only for values the program built)
 *   {{#name}}...{{/name}}    a list: once per item, the item on top of the context;
 *                            an object: once with it on top; true, a non-empty
 *                            string or a non-zero number: once; false, null,
 *                            "", 0 and [] skip it
 *   {{^name}}...{{/name}}    once when name is false, null, "", 0 or []
 *   {{! comment }}
 * Names are looked up from the innermost context outwards; "a.b" walks into
 * objects and "." is the current item. A section or comment tag alone on its
 * line takes the whole line with it (as in Mustache), so templates can give
 * each tag its own line without leaving blank lines behind.
 *
 * Unlike Mustache, a name that is found nowhere is an error, not "": a typo
 * in a template must not silently drop a paragraph from a published post.
 * Errors name the template and its line: "writeup.md.tmpl:12: ...". */
#ifndef CHATKEEPER_TEMPLATE_H
#define CHATKEEPER_TEMPLATE_H

#include <stddef.h>

#include <jansson.h>

#include "chatkeeper/error.h"
#include "chatkeeper/escape.h"

/* Render tmpl[0..len) with data (an object; borrowed) into out (borrowed; on
 * error it may hold partial output, which the caller discards). name is used
 * in messages. Returns 0, CK_EPARSE (bad template: unterminated tag, empty
 * name, unclosed or mismatched section), CK_ENOTFOUND (missing name, or a
 * list/object used as a value) or CK_ENOMEM; err says which line. */
int ck_template_render(const char *name, const char *tmpl, size_t len, const json_t *data,
                       struct ck_sink *out, struct ck_error *err);

#endif
