/* Typed field reads shared by the platform normalisers (see fields.h). */
#include "fields.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int ck_fields_bad(struct ck_fields *c, const char *fmt, ...)
{
    char what[160];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    return ck_error_set(c->err, CK_EPARSE, "%s %.60s: %s", c->what,
                        c->id != NULL ? c->id : "(no id)", what);
}

int ck_fields_str(struct ck_fields *c, const json_t *obj, const char *key, bool required,
                  const char **out)
{
    const json_t *v = json_object_get(obj, key);
    *out = NULL;
    if (v == NULL || json_is_null(v))
        return required ? ck_fields_bad(c, "missing %s", key) : 0;
    if (!json_is_string(v))
        return ck_fields_bad(c, "%s is not a string", key);
    *out = json_string_value(v);
    return 0;
}

bool ck_fields_dup(char **dst, const char *s)
{
    *dst = NULL;
    if (s == NULL)
        return true;
    *dst = strdup(s);
    return *dst != NULL;
}
