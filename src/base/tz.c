/* IANA time zones: wall-clock time in a named zone to UTC and back.
 *
 * We let the C library read the tzdata (it knows every TZif version and the
 * POSIX rule in the footer that covers years past the last transition) by
 * pointing TZ at the zone for the length of one call and restoring the
 * caller's TZ afterwards. That touches process-wide state, which is fine in a
 * program with one thread (DESIGN.md: one loop, one thread); nothing else in
 * chatkeeper reads TZ.
 *
 * We never trust mktime() with tm_isdst = -1: in the hour the clocks skip it
 * invents a time, and in the hour they repeat it picks either. Instead we try
 * each UTC offset in force around the date and keep the candidates that read
 * back as the exact wall-clock time asked for. */
#include "chatkeeper/timeutil.h"

#include <ctype.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "time_internal.h"

/* A zone name is a relative path inside the tzdata folder: no "..", no
 * leading '/', only the characters IANA names use. */
static bool zone_name_ok(const char *tz)
{
    if (tz == NULL || tz[0] == '\0' || tz[0] == '/' || strstr(tz, "..") != NULL || strlen(tz) > 200)
        return false;
    for (const char *p = tz; *p != '\0'; p++) {
        unsigned char c = (unsigned char)*p;
        if (!isalnum(c) && c != '/' && c != '_' && c != '-' && c != '+')
            return false;
    }
    return true;
}

int ck_time_zone_valid(const char *tz)
{
    if (!zone_name_ok(tz))
        return 0;
    /* glibc, like us, looks in $TZDIR first. An unknown TZ would otherwise
     * silently mean UTC, so the file must exist and be a TZif file. */
    const char *dir = getenv("TZDIR");
    if (dir == NULL || dir[0] == '\0')
        dir = "/usr/share/zoneinfo";
    char path[512];
    int len = snprintf(path, sizeof path, "%s/%s", dir, tz);
    if (len < 0 || (size_t)len >= sizeof path)
        return 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return 0;
    struct stat st;
    char magic[4];
    int ok = fstat(fd, &st) == 0 && S_ISREG(st.st_mode) &&
             read(fd, magic, sizeof magic) == (ssize_t)sizeof magic &&
             memcmp(magic, "TZif", 4) == 0;
    close(fd);
    return ok;
}

/* TZ set to one zone for the duration of a call. */
struct zone_scope {
    char *saved; /* the caller's TZ, or NULL if it was unset */
};

static int zone_enter(const char *tz, struct zone_scope *z)
{
    z->saved = NULL;
    if (!ck_time_zone_valid(tz))
        return CK_ETZ;
    /* Copy first: setenv may free the string getenv returned. */
    const char *old = getenv("TZ");
    if (old != NULL) {
        z->saved = strdup(old);
        if (z->saved == NULL)
            return CK_ENOMEM;
    }
    char val[256];
    snprintf(val, sizeof val, ":%s", tz); /* ':' means "a file", never a POSIX rule */
    if (setenv("TZ", val, 1) != 0) {
        free(z->saved);
        z->saved = NULL;
        return CK_ENOMEM;
    }
    tzset(); /* localtime_r need not re-read TZ by itself */
    return 0;
}

static void zone_leave(struct zone_scope *z)
{
    if (z->saved != NULL)
        setenv("TZ", z->saved, 1);
    else
        unsetenv("TZ");
    tzset();
    free(z->saved);
    z->saved = NULL;
}

/* "YYYY-MM-DDTHH:MM[:SS]" to seconds as if the wall clock were UTC. */
static int parse_local(const char *s, int64_t *naive)
{
    const char *p = s;
    int Y, M, D, h, m, sec = 0;
    if (ck_time__digits(&p, 4, &Y) || *p++ != '-' || ck_time__digits(&p, 2, &M) || *p++ != '-' ||
        ck_time__digits(&p, 2, &D) || (*p != 'T' && *p != ' '))
        return -1;
    p++;
    if (ck_time__digits(&p, 2, &h) || *p++ != ':' || ck_time__digits(&p, 2, &m))
        return -1;
    if (*p == ':') {
        p++;
        if (ck_time__digits(&p, 2, &sec))
            return -1;
    }
    if (*p != '\0')
        return -1;
    static const int mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    bool leap = (Y % 4 == 0 && Y % 100 != 0) || Y % 400 == 0;
    if (Y < 1970 || M < 1 || M > 12 || D < 1 || D > mdays[M - 1] || (M == 2 && D == 29 && !leap) ||
        h > 23 || m > 59 || sec > 59)
        return -1;
    *naive = ck_days_from_civil(Y, (unsigned)M, (unsigned)D) * 86400 + h * 3600 + m * 60 + sec;
    return 0;
}

int ck_time_local_to_utc(const char *tz, const char *local, int64_t *ms_out, struct ck_error *err)
{
    int64_t naive;
    if (local == NULL || parse_local(local, &naive) != 0)
        return ck_error_set(err, CK_EINVAL,
                            "expected a local time like 2026-12-03T20:00 or 2026-12-03T20:00:30");
    struct zone_scope z;
    int rc = zone_enter(tz, &z);
    if (rc == CK_ETZ)
        return ck_error_set(err, rc, "unknown time zone '%s'", tz ? tz : "(null)");
    if (rc != 0)
        return ck_error_set(err, rc, "%s", ck_strerror(rc));
    /* Offsets in force a day before, at, and a day after cover any single
     * transition near the date; real zones never have two within a day. */
    bool found = false;
    int64_t best = 0;
    for (int i = -1; i <= 1; i++) {
        time_t probe = (time_t)(naive + i * 86400);
        struct tm tm;
        if (localtime_r(&probe, &tm) == NULL)
            continue;
        time_t cand = (time_t)(naive - tm.tm_gmtoff);
        struct tm back;
        if (localtime_r(&cand, &back) == NULL || (int64_t)cand + back.tm_gmtoff != naive)
            continue;
        /* A repeated wall-clock time has two candidates: keep the earlier. */
        if (!found || (int64_t)cand < best)
            best = (int64_t)cand;
        found = true;
    }
    zone_leave(&z);
    if (!found)
        return ck_error_set(err, CK_EINVAL,
                            "%s does not exist in %s (the clocks skip it for daylight saving)",
                            local, tz);
    *ms_out = best * 1000;
    return 0;
}

int ck_time_format_local(const char *tz, int64_t ms, char *buf, size_t n)
{
    struct zone_scope z;
    int rc = zone_enter(tz, &z);
    if (rc != 0) {
        if (n > 0)
            buf[0] = '\0';
        return rc == CK_ENOMEM ? rc : CK_ETZ;
    }
    time_t t = (time_t)(ms >= 0 ? ms / 1000 : (ms - 999) / 1000);
    struct tm tm;
    if (localtime_r(&t, &tm) == NULL) {
        zone_leave(&z);
        if (n > 0)
            buf[0] = '\0';
        return CK_EINVAL;
    }
    /* tm_zone points into the C library's zone data, which the next tzset()
     * may free: format before leaving the scope. */
    snprintf(buf, n, "%04d-%02d-%02d %02d:%02d:%02d %s", tm.tm_year + 1900, tm.tm_mon + 1,
             tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, tm.tm_zone ? tm.tm_zone : "");
    zone_leave(&z);
    return 0;
}
