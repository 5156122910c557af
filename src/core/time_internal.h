/* Private to src/core: what timeutil.c shares with tz.c and series.c. */
#ifndef CHATKEEPER_CORE_TIME_INTERNAL_H
#define CHATKEEPER_CORE_TIME_INTERNAL_H

#include <stdint.h>

/* Civil calendar arithmetic, no time zone involved: days since 1970-01-01
 * of a date (month 1..12), and back. */
int64_t ck_days_from_civil(int64_t y, unsigned m, unsigned d);
void ck_civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d);

/* Read exactly n decimal digits at *p into *out, moving *p past them.
 * Returns 0, or -1 (and *out untouched) at the first non-digit. */
int ck_time__digits(const char **p, int n, int *out);

#endif
