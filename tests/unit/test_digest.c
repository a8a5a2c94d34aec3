#include "buildconf.h"

/* The digest schedule (digest_due): the latest daily or weekly time that is
 * due, in the network's time zone, across days, weeks and a DST change. */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "digest.h"
#include "ical.h"

static time_t
local(const char *tz, int y, int mo, int d, int h, int mi)
{
	time_t t;

	assert_int_equal(ical_local_to_utc(tz, y, mo, d, h, mi, &t, NULL), 0);
	return t;
}

static void
daily(void **state)
{
	struct config_digest dc = { .daily_hour = 8, .daily_minute = 30,
	    .timezone = (char *)"America/Montevideo" };
	const char *tz = dc.timezone;

	(void)state;
	/* 2026-07-15 is a Wednesday; Montevideo is UTC-3 */
	assert_int_equal(digest_due(&dc, "daily", local(tz, 2026, 7, 15, 8, 30), NULL),
	    local(tz, 2026, 7, 15, 8, 30));
	assert_int_equal(digest_due(&dc, "daily", local(tz, 2026, 7, 15, 8, 29), NULL),
	    local(tz, 2026, 7, 14, 8, 30));
	assert_int_equal(digest_due(&dc, "daily", local(tz, 2026, 7, 15, 23, 59), NULL),
	    local(tz, 2026, 7, 15, 8, 30));
	/* across a month and a year */
	assert_int_equal(digest_due(&dc, "daily", local(tz, 2027, 1, 1, 0, 5), NULL),
	    local(tz, 2026, 12, 31, 8, 30));
	assert_int_equal(local(tz, 2026, 7, 15, 8, 30), 1784115000);	/* 11:30 UTC */
}

static void
weekly(void **state)
{
	struct config_digest dc = { .weekly_day = 1, .weekly_hour = 9,
	    .timezone = (char *)"America/Montevideo" };
	const char *tz = dc.timezone;

	(void)state;
	/* Monday 2026-07-13 09:00 */
	assert_int_equal(digest_due(&dc, "weekly", local(tz, 2026, 7, 15, 12, 0), NULL),
	    local(tz, 2026, 7, 13, 9, 0));
	assert_int_equal(digest_due(&dc, "weekly", local(tz, 2026, 7, 13, 9, 0), NULL),
	    local(tz, 2026, 7, 13, 9, 0));
	assert_int_equal(digest_due(&dc, "weekly", local(tz, 2026, 7, 13, 8, 59), NULL),
	    local(tz, 2026, 7, 6, 9, 0));
	assert_int_equal(digest_due(&dc, "weekly", local(tz, 2026, 7, 19, 23, 0), NULL),
	    local(tz, 2026, 7, 13, 9, 0));
	dc.weekly_day = 0;	/* Sunday */
	assert_int_equal(digest_due(&dc, "weekly", local(tz, 2026, 7, 15, 12, 0), NULL),
	    local(tz, 2026, 7, 12, 9, 0));
}

/* Santiago de Chile moves its clocks: the digest stays at 08:00 local. */
static void
dst(void **state)
{
	struct config_digest dc = { .daily_hour = 8, .timezone = (char *)"America/Santiago" };
	const char *tz = dc.timezone;
	time_t before = local(tz, 2026, 4, 4, 8, 0), after = local(tz, 2026, 4, 6, 8, 0);

	(void)state;
	assert_int_equal(digest_due(&dc, "daily", before + 60, NULL), before);
	assert_int_equal(digest_due(&dc, "daily", after + 60, NULL), after);
	/* two days apart, one hour more: the clocks went back */
	assert_int_equal(after - before, 2 * 86400 + 3600);
}

static void
unknown_zone(void **state)
{
	struct config_digest dc = { .daily_hour = 8, .timezone = (char *)"Mars/Olympus" };
	struct err e = { "" };

	(void)state;
	assert_int_equal(digest_due(&dc, "daily", 1784115000, &e), -1);
	assert_non_null(strstr(e.msg, "Mars/Olympus"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(daily),
		cmocka_unit_test(weekly),
		cmocka_unit_test(dst),
		cmocka_unit_test(unknown_zone),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
