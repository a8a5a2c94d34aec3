#include "buildconf.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clock.h"

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm). */
static int64_t
days_from_civil(int y, int m, int d)
{
	y -= m <= 2;
	int era = y / 400;		/* y >= 1970 here: no negative eras */
	int yoe = y - era * 400;
	int doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	int doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;

	return (int64_t)era * 146097 + doe - 719468;
}

/* n digits at s as a number; -1 if any is not a digit. */
static int
digits(const char *s, int n)
{
	int v = 0;

	for (int i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v;
}

int64_t
clock_parse(const char *s)
{
	static const int mdays[] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	size_t n = s ? strlen(s) : 0;
	int y, m, d, hh = 0, mm = 0, ss = 0;

	if (n == 0)
		return -1;
	if (strspn(s, "0123456789") == n) {
		char *end;
		long long v = n <= 12 ? strtoll(s, &end, 10) : -1;
		return v >= 0 ? v : -1;
	}
	if ((n != 10 && n != 20) || s[4] != '-' || s[7] != '-')
		return -1;
	y = digits(s, 4);
	m = digits(s + 5, 2);
	d = digits(s + 8, 2);
	if (n == 20) {
		if (s[10] != 'T' || s[13] != ':' || s[16] != ':' || s[19] != 'Z')
			return -1;
		hh = digits(s + 11, 2);
		mm = digits(s + 14, 2);
		ss = digits(s + 17, 2);
		if (hh < 0 || hh > 23 || mm < 0 || mm > 59 || ss < 0 || ss > 59)
			return -1;
	}
	if (y < 1970 || m < 1 || m > 12 || d < 1 || d > mdays[m - 1])
		return -1;
	if (m == 2 && d == 29 && !(y % 4 == 0 && (y % 100 != 0 || y % 400 == 0)))
		return -1;
	return days_from_civil(y, m, d) * 86400 + hh * 3600 + mm * 60 + ss;
}

time_t
clock_now(void)
{
	static int warned;
	const char *v = getenv("MERCOMAIL_NOW");
	int64_t t;

	if (v == NULL || *v == '\0')
		return time(NULL);
	if ((t = clock_parse(v)) >= 0)
		return (time_t)t;
	if (!warned) {
		warned = 1;
		fprintf(stderr, "mercomail: MERCOMAIL_NOW='%.40s' is not a time: ignored\n", v);
	}
	return time(NULL);
}
