/*
 * clock — "now" for the jobs that run by the calendar (the monthly activity
 * report), injectable for tests.
 *
 * clock_now() is time(NULL), unless the environment variable MERCOMAIL_NOW
 * holds a time: UTC seconds since the epoch ("1785542400") or a UTC date and
 * time ("2026-08-01T09:00:00Z", "2026-08-01" for its midnight). Tests use it
 * to run mercomaild and mercomail on a chosen day; a malformed value is
 * ignored with a warning on stderr, once. Documented in mercomaild(8).
 */
#ifndef MERCOMAIL_CLOCK_H
#define MERCOMAIL_CLOCK_H

#include <stdint.h>
#include <time.h>

time_t clock_now(void);

/* "YYYY-MM-DD" or "YYYY-MM-DDTHH:MM:SSZ" (UTC) or decimal seconds -> UTC
 * seconds; -1 if s is none of them or not a real date. Pure. */
int64_t clock_parse(const char *s);

#endif
