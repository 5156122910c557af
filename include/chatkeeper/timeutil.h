/* Times and durations. All instants are int64_t milliseconds since the Unix
 * epoch, UTC. Time zones are IANA names resolved through the system's tzdata. */
#ifndef CHATKEEPER_TIMEUTIL_H
#define CHATKEEPER_TIMEUTIL_H

#include <stddef.h>
#include <stdint.h>

#include "chatkeeper/error.h"

/* Parse "90s", "5m", "1h30m", "1h30m15s", "0m", "2d" (units d, h, m, s, ms in
 * that order, each at most once, at least one). Returns 0 or CK_EINVAL. */
int ck_duration_parse(const char *s, int64_t *ms_out);

/* Format as the shortest "1h30m"/"90s"/"0s" form. Can't fail if n >= 32. */
void ck_duration_format(int64_t ms, char *buf, size_t n);

/* Parse an RFC 3339 / ISO 8601 instant with "Z" or a numeric offset and
 * optional fractional seconds ("2026-08-01T14:00:00.070144Z"). Returns 0 or CK_EINVAL. */
int ck_time_parse_rfc3339(const char *s, int64_t *ms_out);

/* "2026-12-03T20:00:00.000Z". buf must hold 32 bytes. Can't fail. */
void ck_time_format_rfc3339(int64_t ms, char buf[32]);

/* width decimal digits of v (0 <= v; higher digits dropped), zero-padded, at
 * p; returns p after them. How times are written by hand, not by snprintf,
 * where one is written for every message. */
char *ck_time_digits_put(char *p, int v, int width);

/* Convert a wall-clock time "YYYY-MM-DDTHH:MM[:SS]" in IANA zone tz to UTC ms.
 * A time that does not exist (skipped by a daylight-saving change) is an error
 * (CK_EINVAL, saying so); a repeated time resolves to the first occurrence.
 * Unknown zone: CK_ETZ. */
int ck_time_local_to_utc(const char *tz, const char *local, int64_t *ms_out, struct ck_error *err);

/* Format ms in zone tz as "2026-12-03 20:00:00 GMT" (abbreviation from tzdata).
 * Returns 0 or CK_ETZ. */
int ck_time_format_local(const char *tz, int64_t ms, char *buf, size_t n);

/* Whether tz names a zone known to the system's tzdata. */
int ck_time_zone_valid(const char *tz);

/* Wall clock now (CLOCK_REALTIME) in ms. The only clock read in core/;
 * live code on the loop prefers uv_now() for intervals. */
int64_t ck_time_now_ms(void);

/* Civil calendar arithmetic, no time zone involved: days since 1970-01-01
 * of a date (month 1..12), and back. */
int64_t ck_days_from_civil(int64_t y, unsigned m, unsigned d);
void ck_civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d);

#endif
