/* Durations and RFC 3339 instants. Civil-date arithmetic is done by hand
 * (days_from_civil, after Howard Hinnant) so no process-wide TZ state is touched;
 * zone conversions live in tz.c. */
#include "chatkeeper/timeutil.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "time_internal.h"

int64_t ck_days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    const int64_t era = (y >= 0 ? y : y - 399) / 400;
    const unsigned yoe = (unsigned)(y - era * 400);
    const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

void ck_civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
    z += 719468;
    const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    const unsigned doe = (unsigned)(z - era * 146097);
    const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    const unsigned mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = (int64_t)yoe + era * 400 + (*m <= 2);
}

int ck_duration_parse(const char *s, int64_t *ms_out)
{
    static const struct {
        const char *unit;
        int64_t ms;
    } units[] = {{"d", 86400000}, {"h", 3600000}, {"ms", 1}, {"m", 60000}, {"s", 1000}};
    /* Units must appear in decreasing size; "ms" is tried before "m". */
    static const int rank[] = {0, 1, 4, 2, 3};
    if (s == NULL || *s == '\0')
        return CK_EINVAL;
    int64_t total = 0;
    int last_rank = -1;
    const char *p = s;
    while (*p != '\0') {
        if (!isdigit((unsigned char)*p))
            return CK_EINVAL;
        int64_t v = 0;
        while (isdigit((unsigned char)*p)) {
            v = v * 10 + (*p - '0');
            if (v > 100000000)
                return CK_EINVAL;
            p++;
        }
        size_t i;
        for (i = 0; i < sizeof units / sizeof units[0]; i++) {
            size_t ul = strlen(units[i].unit);
            if (strncmp(p, units[i].unit, ul) == 0 && !isalpha((unsigned char)p[ul]))
                break;
        }
        if (i == sizeof units / sizeof units[0] || rank[i] <= last_rank)
            return CK_EINVAL;
        last_rank = rank[i];
        total += v * units[i].ms;
        p += strlen(units[i].unit);
    }
    *ms_out = total;
    return 0;
}

void ck_duration_format(int64_t ms, char *buf, size_t n)
{
    size_t off = 0;
    if (ms < 0) {
        off += (size_t)snprintf(buf, n, "-");
        ms = -ms;
    }
    if (ms == 0) {
        snprintf(buf + off, n - off, "0s");
        return;
    }
    int64_t h = ms / 3600000, m = ms / 60000 % 60, s = ms / 1000 % 60, rest = ms % 1000;
    if (h && off < n)
        off += (size_t)snprintf(buf + off, n - off, "%lldh", (long long)h);
    if (m && off < n)
        off += (size_t)snprintf(buf + off, n - off, "%lldm", (long long)m);
    if (s && off < n)
        off += (size_t)snprintf(buf + off, n - off, "%llds", (long long)s);
    if (rest && off < n)
        snprintf(buf + off, n - off, "%lldms", (long long)rest);
}

int ck_time__digits(const char **p, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (!isdigit((unsigned char)**p))
            return -1;
        v = v * 10 + (**p - '0');
        (*p)++;
    }
    *out = v;
    return 0;
}

int ck_time_parse_rfc3339(const char *s, int64_t *ms_out)
{
    if (s == NULL)
        return CK_EINVAL;
    const char *p = s;
    int Y, M, D, h, m, sec = 0, ms = 0;
    if (ck_time__digits(&p, 4, &Y) || *p++ != '-' || ck_time__digits(&p, 2, &M) || *p++ != '-' ||
        ck_time__digits(&p, 2, &D))
        return CK_EINVAL;
    if (*p != 'T' && *p != 't' && *p != ' ')
        return CK_EINVAL;
    p++;
    if (ck_time__digits(&p, 2, &h) || *p++ != ':' || ck_time__digits(&p, 2, &m))
        return CK_EINVAL;
    if (*p == ':') {
        p++;
        if (ck_time__digits(&p, 2, &sec))
            return CK_EINVAL;
        if (*p == '.' || *p == ',') {
            p++;
            int scale = 100, nd = 0;
            while (isdigit((unsigned char)*p)) {
                ms += (*p - '0') * scale;
                scale /= 10;
                p++;
                nd++;
            }
            if (nd == 0)
                return CK_EINVAL;
        }
    }
    int off_min = 0;
    if (*p == 'Z' || *p == 'z') {
        p++;
    } else if (*p == '+' || *p == '-') {
        int sign = *p == '-' ? -1 : 1, oh, om = 0;
        p++;
        if (ck_time__digits(&p, 2, &oh))
            return CK_EINVAL;
        if (*p == ':')
            p++;
        if (ck_time__digits(&p, 2, &om))
            return CK_EINVAL;
        if (oh > 23 || om > 59)
            return CK_EINVAL;
        off_min = sign * (oh * 60 + om);
    } else {
        return CK_EINVAL;
    }
    if (*p != '\0')
        return CK_EINVAL;
    if (M < 1 || M > 12 || D < 1 || D > 31 || h > 23 || m > 59 || sec > 60)
        return CK_EINVAL;
    static const int mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int leap = (Y % 4 == 0 && Y % 100 != 0) || Y % 400 == 0;
    if (D > mdays[M - 1] || (M == 2 && D == 29 && !leap))
        return CK_EINVAL;
    if (sec == 60)
        sec = 59; /* a leap second is read as the second before it */
    int64_t days = ck_days_from_civil(Y, (unsigned)M, (unsigned)D);
    *ms_out = ((days * 86400 + h * 3600 + m * 60 + sec) - (int64_t)off_min * 60) * 1000 + ms;
    return 0;
}

void ck_time_format_rfc3339(int64_t ms, char buf[32])
{
    int64_t secs = ms >= 0 ? ms / 1000 : (ms - 999) / 1000;
    int frac = (int)(ms - secs * 1000);
    int64_t days = secs >= 0 ? secs / 86400 : (secs - 86399) / 86400;
    int64_t rem = secs - days * 86400;
    int64_t y;
    unsigned m, d;
    ck_civil_from_days(days, &y, &m, &d);
    if (y < 0 || y > 9999) {
        snprintf(buf, 32, "%04lld-%02u-%02uT%02d:%02d:%02d.%03dZ", (long long)y, m, d,
                 (int)(rem / 3600), (int)(rem / 60 % 60), (int)(rem % 60), frac);
        return;
    }
    /* The same by hand: the archive formats a time for every message, and
     * snprintf took longer than all the rest of a record. */
    char *p = ck_time_digits_put(buf, (int)y, 4);
    *p++ = '-';
    p = ck_time_digits_put(p, (int)m, 2);
    *p++ = '-';
    p = ck_time_digits_put(p, (int)d, 2);
    *p++ = 'T';
    p = ck_time_digits_put(p, (int)(rem / 3600), 2);
    *p++ = ':';
    p = ck_time_digits_put(p, (int)(rem / 60 % 60), 2);
    *p++ = ':';
    p = ck_time_digits_put(p, (int)(rem % 60), 2);
    *p++ = '.';
    p = ck_time_digits_put(p, frac, 3);
    *p++ = 'Z';
    *p = '\0';
}

char *ck_time_digits_put(char *p, int v, int width)
{
    for (int i = width - 1; i >= 0; i--) {
        p[i] = (char)('0' + v % 10);
        v /= 10;
    }
    return p + width;
}

int64_t ck_time_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}
