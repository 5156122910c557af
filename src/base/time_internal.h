/* Private to src/base: what timeutil.c shares with tz.c. */
#ifndef CHATKEEPER_BASE_TIME_INTERNAL_H
#define CHATKEEPER_BASE_TIME_INTERNAL_H

#include <stdint.h>

/* Read exactly n decimal digits at *p into *out, moving *p past them.
 * Returns 0, or -1 (and *out untouched) at the first non-digit. */
int ck_time__digits(const char **p, int n, int *out);

#endif
