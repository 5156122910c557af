/* Private to render/agenda.c and render/ics.c. */
#ifndef CK_RENDER_AGENDA_INT_H
#define CK_RENDER_AGENDA_INT_H

#include <stddef.h>

/* The hashtag's ASCII letters (lower-cased), digits and '_' into buf, at most
 * 40 and fewer than n (n > 0); returns how many. Not NUL-terminated: the
 * caller appends the date or "series". The start of every agenda file name. */
size_t ck_agenda__tag_slug(const char *hashtag, char *buf, size_t n);

#endif
