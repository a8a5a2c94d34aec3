#include "buildconf.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include <cmocka.h>

#include <libical/ical.h>

#include "ical.h"

/*
 * Checks of daemon/ical.c. The output is read back with small helpers of
 * our own (unfold, find a line), not with libical, so a bug shared by the
 * writer and libical's parser cannot hide. With ICAL_SAMPLES=DIR set, the
 * invites and the feed built here are also written to DIR (request.ics,
 * cancel.ics, feed.ics) for tests/integration/ical.sh, which reads them
 * with python3-icalendar.
 */

static const char *const zones[] = {
	"America/Montevideo", "America/Argentina/Buenos_Aires", "America/Argentina/Cordoba",
	"America/Sao_Paulo", "America/Recife", "America/Asuncion", "America/Santiago",
	"America/La_Paz", "America/Caracas", "America/Lima", "America/Bogota",
	"America/Guayaquil",
};
#define NZONES (sizeof zones / sizeof zones[0])

/* ---- reading the output back --------------------------------------------- */

/* 1 if s[0..n) is complete, valid UTF-8. */
static int
utf8_ok(const unsigned char *s, size_t n)
{
	size_t i = 0;

	while (i < n) {
		size_t l = s[i] < 0x80 ? 1 : (s[i] & 0xe0) == 0xc0 ? 2 :
		    (s[i] & 0xf0) == 0xe0 ? 3 : (s[i] & 0xf8) == 0xf0 ? 4 : 0;
		if (l == 0 || i + l > n)
			return 0;
		for (size_t k = 1; k < l; k++)
			if ((s[i + k] & 0xc0) != 0x80)
				return 0;
		i += l;
	}
	return 1;
}

/*
 * Check the physical form: every line ends with CRLF (no bare CR or LF),
 * holds at most 75 octets and is whole UTF-8 on its own (so no fold split a
 * character); the text ends with CRLF.
 */
static void
check_physical(const char *ics)
{
	const char *s = ics;

	assert_true(strlen(ics) >= 2);
	assert_memory_equal(ics + strlen(ics) - 2, "\r\n", 2);
	while (*s) {
		const char *eol = strstr(s, "\r\n");
		size_t n;

		assert_non_null(eol);
		n = (size_t)(eol - s);
		assert_null(memchr(s, '\n', n));
		assert_null(memchr(s, '\r', n));
		if (n > 75)
			fail_msg("line of %zu octets: %.*s", n, (int)n, s);
		if (!utf8_ok((const unsigned char *)s, n))
			fail_msg("line not whole UTF-8: %.*s", (int)n, s);
		s = eol + 2;
	}
}

struct lines {
	char **v;
	size_t n;
};

/* The logical lines (RFC 5545 unfolding: CRLF + one blank removed). */
static struct lines
unfold(const char *ics)
{
	struct lines L = { NULL, 0 };
	const char *s = ics;

	while (*s) {
		size_t cap = strlen(s) + 1, len = 0;
		char *line = malloc(cap);

		assert_non_null(line);
		for (;;) {
			const char *eol = strstr(s, "\r\n");
			size_t k = eol ? (size_t)(eol - s) : strlen(s);

			memcpy(line + len, s, k);
			len += k;
			s += k;
			if (eol)
				s += 2;
			if (*s == ' ' || *s == '\t') {
				s++;
				continue;
			}
			break;
		}
		line[len] = '\0';
		L.v = realloc(L.v, (L.n + 1) * sizeof *L.v);
		assert_non_null(L.v);
		L.v[L.n++] = line;
	}
	return L;
}

static void
lines_free(struct lines *L)
{
	for (size_t i = 0; i < L->n; i++)
		free(L->v[i]);
	free(L->v);
}

/* Index of the first logical line equal to want (or starting with it when
 * prefix), from index from; -1 if none. */
static int
find_line(const struct lines *L, size_t from, const char *want, int prefix)
{
	for (size_t i = from; i < L->n; i++) {
		if (prefix ? strncmp(L->v[i], want, strlen(want)) == 0 : strcmp(L->v[i], want) == 0)
			return (int)i;
	}
	return -1;
}

static int
count_lines(const struct lines *L, const char *want, int prefix)
{
	int n = 0;

	for (size_t i = 0; i < L->n; i++)
		if (prefix ? strncmp(L->v[i], want, strlen(want)) == 0 : strcmp(L->v[i], want) == 0)
			n++;
	return n;
}

static void
assert_line(const struct lines *L, const char *want)
{
	if (find_line(L, 0, want, 0) < 0)
		fail_msg("no line '%s'", want);
}

/* Every logical line starts with a property this writer uses, or
 * BEGIN/END: a CR or LF in a value cannot have started a line of its own. */
static void
check_known_names(const struct lines *L)
{
	static const char *const known[] = {
		"BEGIN", "END", "PRODID", "VERSION", "CALSCALE", "METHOD", "X-WR-CALNAME",
		"NAME", "REFRESH-INTERVAL", "X-PUBLISHED-TTL", "TZID", "TZNAME",
		"TZOFFSETFROM", "TZOFFSETTO", "DTSTART", "RRULE", "UID", "DTSTAMP",
		"SEQUENCE", "DTEND", "SUMMARY", "LOCATION", "DESCRIPTION", "URL",
		"ORGANIZER", "ATTENDEE", "STATUS", "TRANSP", "ACTION", "TRIGGER", NULL,
	};

	for (size_t i = 0; i < L->n; i++) {
		size_t k = strcspn(L->v[i], ":;");
		int ok = 0;

		for (const char *const *p = known; *p; p++)
			if (strlen(*p) == k && strncmp(L->v[i], *p, k) == 0)
				ok = 1;
		if (!ok)
			fail_msg("unexpected line '%s'", L->v[i]);
	}
}

/* The value of the first line starting with name ("SUMMARY:"), or NULL. */
static const char *
value_of(const struct lines *L, const char *name)
{
	int i = find_line(L, 0, name, 1);

	return i < 0 ? NULL : L->v[i] + strlen(name);
}

/* The value of a logical line: what follows the first ':' outside a
 * quoted parameter value. */
static const char *
prop_value(const char *line)
{
	int inq = 0;

	for (const char *p = line; *p; p++) {
		if (*p == '"')
			inq = !inq;
		else if (*p == ':' && !inq)
			return p + 1;
	}
	fail_msg("no value in '%s'", line);
	return NULL;
}

/* Write a sample for tests/integration/ical.sh when ICAL_SAMPLES is set. */
static void
save_sample(const char *name, const char *ics)
{
	const char *dir = getenv("ICAL_SAMPLES");
	char path[600];
	FILE *fp;

	if (dir == NULL || *dir == '\0')
		return;
	snprintf(path, sizeof path, "%s/%s", dir, name);
	fp = fopen(path, "wb");
	assert_non_null(fp);
	assert_int_equal(fwrite(ics, 1, strlen(ics), fp), strlen(ics));
	assert_int_equal(fclose(fp), 0);
}

/* Every RRULE of a VTIMEZONE in the form Outlook reads ([MS-OXCICAL]
 * 2.1.3.1.1.19.2.2): YEARLY, BYMONTH, one BYDAY with an ordinal, no
 * BYMONTHDAY next to it. */
static void
outlook_rrules(const char *ics, const char *tzid)
{
	struct lines L = unfold(ics);
	int end = find_line(&L, 0, "END:VTIMEZONE", 0);

	for (int i = 0; i < end; i++) {
		const char *v = L.v[i], *by = strstr(v, "BYDAY=");

		if (strncmp(v, "RRULE:", 6) != 0)
			continue;
		if (strstr(v, "FREQ=YEARLY") == NULL || strstr(v, "BYMONTH=") == NULL ||
		    strstr(v, "BYMONTHDAY") != NULL || by == NULL) {
			fail_msg("%s: '%s' is not in Outlook's form", tzid, v);
			continue;
		}
		by += 6;
		if (*by == '-')
			by++;
		if (!(*by >= '1' && *by <= '5') || strlen(by) < 3 || (by[3] != ';' && by[3] != '\0'))
			fail_msg("%s: BYDAY of '%s' is not one ordinal weekday", tzid, v);
	}
	lines_free(&L);
}

/* ---- a sample event -------------------------------------------------------- */

static const struct ical_attendee sample_attendees[] = {
	{ "ana.perez@montevideo.test", "Ana Pérez", NULL, NULL },
	{ "joao.silva@recife.test", "João Silva", "OPT-PARTICIPANT", NULL },
	{ "coord@red.test", "Coordinación", "CHAIR", "ACCEPTED" },
};

static struct ical_event
sample_event(const char *tzid, int y, int mo, int d, int h)
{
	struct ical_event ev;
	struct err e = { { 0 } };

	memset(&ev, 0, sizeof ev);
	ev.uid = "RE-2026-0001-7f3a9c@red.test";
	ev.sequence = 0;
	ev.dtstamp = 1790000000;	/* 2026-09-21T14:13:20Z */
	ev.tzid = tzid;
	if (ical_local_to_utc(tzid, y, mo, d, h, 0, &ev.start, &e) != 0)
		fail_msg("%s: %s", tzid, e.msg);
	ev.end = ev.start + 2 * 3600;
	ev.summary = "Reunión del Consejo";
	ev.location = "Sala del Consejo, Montevideo";
	ev.url = "https://meet.example.test/abc-defg-hij";
	ev.description = "Orden del día:\n1. Apertura\n2. Informe";
	ev.organizer = "secretaria@red.test";
	ev.organizer_name = "Secretaría Ejecutiva";
	ev.sent_by = "coord@red.test";
	ev.alarm_minutes = 1440;
	ev.attendees = sample_attendees;
	ev.nattendees = 3;
	return ev;
}

static char *
build_ok(const struct ical_event *ev, enum ical_method m)
{
	struct err e = { { 0 } };
	char *s = ical_build(ev, m, &e);

	if (s == NULL)
		fail_msg("ical_build: %s", e.msg);
	check_physical(s);
	return s;
}

/* ---- invites ---------------------------------------------------------------- */

static void
test_request(void **state)
{
	struct ical_event ev = sample_event("America/Montevideo", 2026, 12, 1, 10);
	char *s = build_ok(&ev, ICAL_REQUEST);
	struct lines L = unfold(s);
	int vevent = find_line(&L, 0, "BEGIN:VEVENT", 0);

	(void)state;
	save_sample("request.ics", s);
	check_known_names(&L);
	assert_string_equal(L.v[0], "BEGIN:VCALENDAR");
	assert_string_equal(L.v[L.n - 1], "END:VCALENDAR");
	assert_line(&L, "VERSION:2.0");
	assert_non_null(value_of(&L, "PRODID:"));
	/* METHOD at the calendar level: before any component */
	assert_true(find_line(&L, 0, "METHOD:REQUEST", 0) > 0);
	assert_true(find_line(&L, 0, "METHOD:REQUEST", 0) < find_line(&L, 1, "BEGIN:", 1));
	assert_int_equal(count_lines(&L, "METHOD:", 1), 1);
	assert_true(vevent > 0);
	assert_int_equal(count_lines(&L, "BEGIN:VEVENT", 0), 1);
	assert_line(&L, "UID:RE-2026-0001-7f3a9c@red.test");
	assert_line(&L, "DTSTAMP:20260921T141320Z");
	assert_line(&L, "SEQUENCE:0");
	assert_line(&L, "DTSTART;TZID=America/Montevideo:20261201T100000");
	assert_line(&L, "DTEND;TZID=America/Montevideo:20261201T120000");
	assert_line(&L, "SUMMARY:Reunión del Consejo");
	assert_line(&L, "LOCATION:Sala del Consejo\\, Montevideo");
	assert_line(&L, "DESCRIPTION:Orden del día:\\n1. Apertura\\n2. Informe\\n\\n"
	    "https://meet.example.test/abc-defg-hij");
	assert_line(&L, "URL:https://meet.example.test/abc-defg-hij");
	assert_line(&L, "ORGANIZER;CN=Secretaría Ejecutiva;SENT-BY=\"mailto:coord@red.test\":"
	    "mailto:secretaria@red.test");
	assert_line(&L, "ATTENDEE;CUTYPE=INDIVIDUAL;ROLE=REQ-PARTICIPANT;PARTSTAT=NEEDS-ACTION;"
	    "RSVP=TRUE;CN=Ana Pérez:mailto:ana.perez@montevideo.test");
	assert_line(&L, "ATTENDEE;CUTYPE=INDIVIDUAL;ROLE=OPT-PARTICIPANT;PARTSTAT=NEEDS-ACTION;"
	    "RSVP=TRUE;CN=João Silva:mailto:joao.silva@recife.test");
	assert_line(&L, "ATTENDEE;CUTYPE=INDIVIDUAL;ROLE=CHAIR;PARTSTAT=ACCEPTED;"
	    "RSVP=TRUE;CN=Coordinación:mailto:coord@red.test");
	assert_int_equal(count_lines(&L, "ATTENDEE", 1), 3);
	assert_line(&L, "STATUS:CONFIRMED");
	assert_line(&L, "TRANSP:OPAQUE");
	/* the zone: one VTIMEZONE, before the VEVENT, TZID without prefix */
	assert_int_equal(count_lines(&L, "BEGIN:VTIMEZONE", 0), 1);
	assert_true(find_line(&L, 0, "BEGIN:VTIMEZONE", 0) < vevent);
	assert_line(&L, "TZID:America/Montevideo");
	assert_null(strstr(s, "freeassociation"));
	assert_null(strstr(s, "TZUNTIL"));
	lines_free(&L);
	free(s);
}

/* Per zone, for dates in 2026 and 2027 (both seasons): one VTIMEZONE with
 * the TZID, one STANDARD, at most one DAYLIGHT, RRULEs when there is a
 * DAYLIGHT, no RDATE; the wall-clock time written is the one asked for and
 * the zone's offset then is the one in the VTIMEZONE. */
static void
test_zones(void **state)
{
	static const int dates[][2] = { { 2026, 1 }, { 2026, 7 }, { 2026, 12 }, { 2027, 4 },
		{ 2027, 10 } };
	int santiago_dst = 0;

	(void)state;
	for (size_t z = 0; z < NZONES; z++) {
		for (size_t d = 0; d < sizeof dates / sizeof dates[0]; d++) {
			struct ical_event ev = sample_event(zones[z], dates[d][0], dates[d][1], 15, 10);
			char *s = build_ok(&ev, ICAL_REQUEST);
			struct lines L = unfold(s);
			char want[128], tzid[128], local[32];
			int std = find_line(&L, 0, "BEGIN:STANDARD", 0);
			int day = find_line(&L, 0, "BEGIN:DAYLIGHT", 0);

			check_known_names(&L);
			snprintf(tzid, sizeof tzid, "TZID:%s", zones[z]);
			assert_line(&L, tzid);
			assert_int_equal(count_lines(&L, "BEGIN:VTIMEZONE", 0), 1);
			if (count_lines(&L, "BEGIN:STANDARD", 0) != 1)
				fail_msg("%s %d-%d: %d STANDARD blocks", zones[z], dates[d][0],
				    dates[d][1], count_lines(&L, "BEGIN:STANDARD", 0));
			assert_true(count_lines(&L, "BEGIN:DAYLIGHT", 0) <= 1);
			assert_int_equal(count_lines(&L, "RDATE", 1), 0);
			assert_true(std > 0);
			if (day > 0) {
				int e1 = find_line(&L, (size_t)std, "END:STANDARD", 0);
				int e2 = find_line(&L, (size_t)day, "END:DAYLIGHT", 0);
				int r1 = find_line(&L, (size_t)std, "RRULE:", 1);
				int r2 = find_line(&L, (size_t)day, "RRULE:", 1);
				if (!(r1 > std && r1 < e1 && r2 > day && r2 < e2))
					fail_msg("%s: STANDARD/DAYLIGHT without RRULE", zones[z]);
				if (strcmp(zones[z], "America/Santiago") == 0)
					santiago_dst++;
			}
			outlook_rrules(s, zones[z]);
			if (strcmp(zones[z], "America/Santiago") == 0) {
				/* tzdata: the first Saturday at 24:00, for Outlook 23:59:59 */
				assert_line(&L, "DTSTART:20190406T235959");
				assert_line(&L, "DTSTART:20230902T235959");
				assert_int_equal(count_lines(&L, "RRULE:FREQ=YEARLY;UNTIL=", 1), 2);
				assert_true(strstr(s, ";BYDAY=1SA;BYMONTH=4\r\n") != NULL);
				assert_true(strstr(s, ";BYDAY=1SA;BYMONTH=9\r\n") != NULL);
			}
			snprintf(want, sizeof want, "DTSTART;TZID=%s:%04d%02d15T100000", zones[z],
			    dates[d][0], dates[d][1]);
			assert_line(&L, want);
			assert_int_equal(ical_format_local(ev.start, zones[z], local, sizeof local), 0);
			snprintf(want, sizeof want, "%04d-%02d-15 10:00", dates[d][0], dates[d][1]);
			assert_string_equal(local, want);
			lines_free(&L);
			free(s);
		}
	}
	/* Chile keeps DST: its zone must say so */
	assert_int_equal(santiago_dst, 5);
}

/* The UTC offset at t by the VTIMEZONE of ics (read back with libical). */
static int
offset_in_output(const char *ics, time_t t)
{
	icalcomponent *root = icalparser_parse_string(ics), *vtz, *copy;
	icaltimezone *z;
	icaltimetype u = icaltime_from_timet_with_zone(t, 0, icaltimezone_get_utc_timezone());
	int off, dst;

	assert_non_null(root);
	vtz = icalcomponent_get_first_component(root, ICAL_VTIMEZONE_COMPONENT);
	assert_non_null(vtz);
	copy = icalcomponent_new_clone(vtz);
	z = icaltimezone_new();
	assert_int_equal(icaltimezone_set_component(z, copy), 1);
	off = icaltimezone_get_utc_offset_of_utc_time(z, &u, &dst);
	icaltimezone_free(z, 1);
	icalcomponent_free(root);
	return off;
}

static int
offset_builtin(const char *tzid, time_t t)
{
	icaltimetype u = icaltime_from_timet_with_zone(t, 0, icaltimezone_get_utc_timezone());
	int dst;

	return icaltimezone_get_utc_offset_of_utc_time(
	    icaltimezone_get_builtin_timezone(tzid), &u, &dst);
}

static int
count_str(const char *s, const char *w)
{
	int n = 0;

	for (const char *p = s; (p = strstr(p, w)) != NULL; p++)
		n++;
	return n;
}

/*
 * Meetings at many times of 2026-2028 (every 71 hours, so every hour of the
 * day and every season comes up), in the network's zones and a few with DST
 * in the north: the truncated VTIMEZONE keeps one STANDARD (and one DAYLIGHT
 * with DST, both with RRULE), no RDATE, and gives the offsets of the zone
 * database at the start and the end.
 */
static void
test_zones_scan(void **state)
{
	static const char *const extra[] = { "Europe/Madrid", "America/New_York",
		"Pacific/Easter", "Europe/Lisbon" };
	struct ical_attendee at = { "a@b.test", NULL, NULL, NULL };

	(void)state;
	for (size_t z = 0; z < NZONES + 4; z++) {
		const char *tzid = z < NZONES ? zones[z] : extra[z - NZONES];

		for (time_t t = 1767225600; t < 1861920000; t += 71 * 3600) {
			struct ical_event ev;
			struct err e = { { 0 } };
			char *s;
			int std, day;

			memset(&ev, 0, sizeof ev);
			ev.uid = "u@x.test";
			ev.dtstamp = t;
			ev.start = t;
			ev.end = t + 3 * 3600;
			ev.tzid = tzid;
			ev.organizer = "o@x.test";
			ev.attendees = &at;
			ev.nattendees = 1;
			s = ical_build(&ev, ICAL_REQUEST, &e);
			if (s == NULL)
				fail_msg("%s: %s", tzid, e.msg);
			std = count_str(s, "BEGIN:STANDARD");
			day = count_str(s, "BEGIN:DAYLIGHT");
			if (std != 1 || day > 1 || count_str(s, "RDATE") != 0 ||
			    (day == 1 && count_str(s, "RRULE:") != 2))
				fail_msg("%s at %lld: %d STANDARD, %d DAYLIGHT, %d RRULE, %d RDATE",
				    tzid, (long long)t, std, day, count_str(s, "RRULE:"),
				    count_str(s, "RDATE"));
			outlook_rrules(s, tzid);
			if (offset_in_output(s, ev.start) != offset_builtin(tzid, ev.start) ||
			    offset_in_output(s, ev.end) != offset_builtin(tzid, ev.end))
				fail_msg("%s at %lld: the VTIMEZONE gives another offset", tzid,
				    (long long)t);
			free(s);
		}
	}
}

/* The offsets: known UTC times for a few zones and seasons. */
static void
test_local_to_utc(void **state)
{
	struct err e = { { 0 } };
	time_t t;
	char buf[32];

	(void)state;
	/* Santiago: -03 in (southern) summer, -04 in winter */
	assert_int_equal(ical_local_to_utc("America/Santiago", 2026, 12, 1, 10, 0, &t, &e), 0);
	assert_int_equal(t, 1796130000);	/* 2026-12-01T13:00:00Z */
	assert_int_equal(ical_local_to_utc("America/Santiago", 2026, 7, 1, 10, 0, &t, &e), 0);
	assert_int_equal(t, 1782914400);	/* 2026-07-01T14:00:00Z */
	/* Montevideo -03 all year; Caracas -04; Bogota -05 */
	assert_int_equal(ical_local_to_utc("America/Montevideo", 2026, 7, 1, 10, 0, &t, &e), 0);
	assert_int_equal(t, 1782910800);
	assert_int_equal(ical_local_to_utc("America/Caracas", 2026, 7, 1, 10, 0, &t, &e), 0);
	assert_int_equal(t, 1782914400);
	assert_int_equal(ical_local_to_utc("America/Bogota", 2026, 7, 1, 10, 0, &t, &e), 0);
	assert_int_equal(t, 1782918000);
	assert_int_equal(ical_format_local(1796130000, "America/Sao_Paulo", buf, sizeof buf), 0);
	assert_string_equal(buf, "2026-12-01 10:00");
	assert_int_equal(ical_format_local(1796130000, "America/Lima", buf, sizeof buf), 0);
	assert_string_equal(buf, "2026-12-01 08:00");

	/* impossible dates and unknown zones */
	assert_int_equal(ical_local_to_utc("America/Lima", 2026, 2, 29, 10, 0, &t, &e), -1);
	assert_non_null(strstr(e.msg, "impossible"));
	assert_int_equal(ical_local_to_utc("America/Lima", 2026, 13, 1, 10, 0, &t, &e), -1);
	assert_int_equal(ical_local_to_utc("America/Lima", 2026, 1, 1, 24, 0, &t, &e), -1);
	assert_int_equal(ical_local_to_utc("America/Lima", 2026, 1, 1, 10, 60, &t, &e), -1);
	assert_int_equal(ical_local_to_utc("Mars/Olympus_Mons", 2026, 1, 1, 10, 0, &t, &e), -1);
	assert_non_null(strstr(e.msg, "unknown time zone"));
	assert_int_equal(ical_local_to_utc("../../../etc/passwd", 2026, 1, 1, 10, 0, &t, &e), -1);
	assert_int_equal(ical_local_to_utc(NULL, 2026, 1, 1, 10, 0, &t, &e), -1);
	assert_int_equal(ical_format_local(0, "Nowhere/Else", buf, sizeof buf), -1);
	assert_int_equal(ical_format_local(0, "America/Lima", buf, 5), -1);
	assert_true(ical_zone_known("America/Argentina/Cordoba"));
	assert_false(ical_zone_known("SA Eastern Standard Time"));
	assert_false(ical_zone_known("/etc/passwd"));
	assert_false(ical_zone_known(""));
}

static void
test_valarm(void **state)
{
	struct ical_event ev = sample_event("America/Lima", 2026, 12, 1, 10);
	char *s = build_ok(&ev, ICAL_REQUEST);
	struct lines L = unfold(s);
	int a = find_line(&L, 0, "BEGIN:VALARM", 0), end = find_line(&L, 0, "END:VALARM", 0);

	(void)state;
	assert_true(a > find_line(&L, 0, "BEGIN:VEVENT", 0));
	assert_true(end > a && end < find_line(&L, 0, "END:VEVENT", 0));
	assert_int_equal(find_line(&L, (size_t)a, "ACTION:DISPLAY", 0), a + 1);
	assert_true(find_line(&L, (size_t)a, "TRIGGER:-PT1440M", 0) < end);
	assert_true(find_line(&L, (size_t)a, "DESCRIPTION:Reunión del Consejo", 0) < end);
	lines_free(&L);
	free(s);

	ev.alarm_minutes = 30;
	s = build_ok(&ev, ICAL_REQUEST);
	L = unfold(s);
	assert_line(&L, "TRIGGER:-PT30M");
	lines_free(&L);
	free(s);

	ev.alarm_minutes = 0;
	s = build_ok(&ev, ICAL_REQUEST);
	assert_null(strstr(s, "VALARM"));
	free(s);
}

static void
test_cancel(void **state)
{
	struct ical_event ev = sample_event("America/Asuncion", 2026, 12, 1, 10);
	char *s;
	struct lines L;

	(void)state;
	ev.sequence = 3;
	s = build_ok(&ev, ICAL_CANCEL);
	save_sample("cancel.ics", s);
	L = unfold(s);
	check_known_names(&L);
	assert_line(&L, "METHOD:CANCEL");
	assert_int_equal(count_lines(&L, "METHOD:", 1), 1);
	assert_line(&L, "STATUS:CANCELLED");
	assert_int_equal(count_lines(&L, "STATUS:", 1), 1);
	assert_line(&L, "SEQUENCE:3");
	assert_line(&L, "UID:RE-2026-0001-7f3a9c@red.test");
	assert_int_equal(count_lines(&L, "ATTENDEE", 1), 3);
	assert_null(strstr(s, "RSVP"));
	assert_null(strstr(s, "VALARM"));
	lines_free(&L);
	free(s);

	/* a cancelled REQUEST (as for the feed) says CANCELLED too */
	ev.cancelled = 1;
	s = build_ok(&ev, ICAL_REQUEST);
	L = unfold(s);
	assert_line(&L, "STATUS:CANCELLED");
	assert_line(&L, "SEQUENCE:3");
	lines_free(&L);
	free(s);
}

/* ; , \ and newlines escaped; CR removed, CRLF a \n. */
static void
test_escaping(void **state)
{
	struct ical_event ev = sample_event("America/Bogota", 2026, 12, 1, 10);
	char *s;
	struct lines L;

	(void)state;
	ev.summary = "a;b,c\\d\ne\r\nf\rg";
	ev.location = "Tab\there\x01\x7f\xc2\x85!";
	ev.description = "x\\ny";	/* a backslash and an n: not a newline */
	ev.url = NULL;
	s = build_ok(&ev, ICAL_REQUEST);
	L = unfold(s);
	assert_line(&L, "SUMMARY:a\\;b\\,c\\\\d\\ne\\nfg");
	assert_line(&L, "LOCATION:Tab\there!");
	assert_line(&L, "DESCRIPTION:x\\\\ny");
	assert_null(strstr(s, "URL:"));
	lines_free(&L);
	free(s);

	/* bytes that are not UTF-8 become U+FFFD */
	ev.summary = "caf\xe9 \xff";
	s = build_ok(&ev, ICAL_REQUEST);
	L = unfold(s);
	assert_line(&L, "SUMMARY:caf\xef\xbf\xbd \xef\xbf\xbd");
	lines_free(&L);
	free(s);
}

/* CR/LF in every text a form can give cannot start a property. */
static void
test_injection(void **state)
{
	static const char *const evil[] = {
		"x\r\nATTENDEE:mailto:evil@x.test",
		"x\nATTENDEE:mailto:evil@x.test",
		"x\rATTENDEE:mailto:evil@x.test",
		"x\r\n ATTENDEE:mailto:evil@x.test",
		"x\r\nEND:VEVENT\r\nBEGIN:VEVENT\r\nUID:evil",
		"\"quoted\";CN=evil:mailto:evil@x.test\r\nX-EVIL:1",
	};
	struct ical_attendee at[1] = { { "ana@montevideo.test", NULL, NULL, NULL } };

	(void)state;
	for (size_t i = 0; i < sizeof evil / sizeof evil[0]; i++) {
		struct ical_event ev = sample_event("America/La_Paz", 2026, 12, 1, 10);
		char *s;
		struct lines L;

		ev.summary = ev.location = ev.description = ev.organizer_name = evil[i];
		at[0].name = evil[i];
		ev.attendees = at;
		ev.nattendees = 1;
		s = build_ok(&ev, ICAL_REQUEST);
		L = unfold(s);
		check_known_names(&L);
		assert_int_equal(count_lines(&L, "ATTENDEE", 1), 1);
		assert_int_equal(count_lines(&L, "BEGIN:VEVENT", 0), 1);
		assert_int_equal(count_lines(&L, "UID:", 1), 1);
		assert_int_equal(find_line(&L, 0, "ATTENDEE:mailto:evil", 1), -1);
		/* the names stayed inside their parameters */
		assert_string_equal(prop_value(L.v[find_line(&L, 0, "ATTENDEE", 1)]),
		    "mailto:ana@montevideo.test");
		assert_string_equal(prop_value(L.v[find_line(&L, 0, "ORGANIZER", 1)]),
		    "mailto:secretaria@red.test");
		lines_free(&L);
		free(s);

		/* the same in feeds and cancels */
		s = ical_build_feed(evil[i], &ev, 1, NULL);
		assert_non_null(s);
		check_physical(s);
		L = unfold(s);
		check_known_names(&L);
		lines_free(&L);
		free(s);
	}
}

/* Addresses, UIDs and zones that could break a line are refused. */
static void
test_build_errors(void **state)
{
	struct ical_event ev = sample_event("America/Lima", 2026, 12, 1, 10);
	struct ical_event bad;
	struct ical_attendee at[1] = { { "ana@montevideo.test", NULL, NULL, NULL } };
	struct err e = { { 0 } };

	(void)state;
#define REFUSED(field_set, what) do { \
		bad = ev; at[0].address = "ana@montevideo.test"; at[0].role = NULL; \
		at[0].partstat = NULL; bad.attendees = at; bad.nattendees = 1; \
		field_set; \
		e.msg[0] = '\0'; \
		assert_null(ical_build(&bad, ICAL_REQUEST, &e)); \
		if (strstr(e.msg, what) == NULL) fail_msg("'%s' lacks '%s'", e.msg, what); \
	} while (0)
	REFUSED(bad.organizer = "secretaria@red.test\r\nATTENDEE:mailto:x@y.z", "organizer");
	REFUSED(bad.organizer = "no-at-sign", "organizer");
	REFUSED(bad.sent_by = "a b@c.d", "SENT-BY");
	REFUSED(at[0].address = "x@y.z\nX-A:1", "attendee");
	REFUSED(at[0].address = "x@y.z:mailto:q@r.s", "attendee");
	REFUSED(at[0].role = "BOSS", "ROLE");
	REFUSED(at[0].partstat = "MAYBE", "PARTSTAT");
	REFUSED(bad.nattendees = 0, "ATTENDEE");
	REFUSED(bad.tzid = "Mars/Base", "time zone");
	REFUSED(bad.tzid = "SA Eastern Standard Time", "time zone");
	REFUSED(bad.end = bad.start - 1, "ends before");
	REFUSED(bad.uid = "", "UID");
	REFUSED(bad.uid = "a\r\nb", "UID");
	REFUSED(bad.alarm_minutes = -5, "alarm");
	REFUSED(bad.sequence = -1, "SEQUENCE");
#undef REFUSED
	assert_null(ical_build(NULL, ICAL_REQUEST, &e));
	/* a URL with blanks stays in DESCRIPTION but is no URL property */
	bad = ev;
	bad.url = "https://x.test/a b";
	{
		char *s = build_ok(&bad, ICAL_REQUEST);
		assert_null(strstr(s, "\r\nURL:"));
		assert_non_null(strstr(s, "https://x.test/a b"));
		free(s);
	}
}

/* Long values fold at 75 octets, never inside a UTF-8 sequence, and unfold
 * to the value. Every alignment of 2-, 3- and 4-byte characters is tried. */
static void
test_folding(void **state)
{
	static const char *const chars[] = { "ñ", "€", "😀", "a", "é " };

	(void)state;
	for (size_t c = 0; c < sizeof chars / sizeof chars[0]; c++) {
		for (int pad = 0; pad < 5; pad++) {
			struct ical_event ev = sample_event("America/Recife", 2026, 12, 1, 10);
			char value[2048] = "", want[2100];
			char *s;
			struct lines L;

			for (int k = 0; k < pad; k++)
				strcat(value, "x");
			for (int k = 0; k < 90; k++)
				strcat(value, chars[c]);
			ev.summary = value;
			ev.alarm_minutes = 0;
			s = build_ok(&ev, ICAL_REQUEST);	/* checks 75 octets and UTF-8 per line */
			L = unfold(s);
			snprintf(want, sizeof want, "SUMMARY:%s", value);
			assert_line(&L, want);
			/* a fold is CRLF + exactly one space */
			assert_non_null(strstr(s, "\r\n "));
			lines_free(&L);
			free(s);
		}
	}
}

/* ---- feeds -------------------------------------------------------------- */

static void
test_feed(void **state)
{
	struct ical_event evs[4];
	struct err e = { { 0 } };
	char *a, *b;
	struct lines L;

	(void)state;
	evs[0] = sample_event("America/Santiago", 2026, 12, 1, 10);
	evs[1] = sample_event("America/Sao_Paulo", 2027, 3, 2, 9);
	evs[1].uid = "RE-2026-0002-aa@red.test";
	evs[2] = sample_event("America/Santiago", 2027, 6, 20, 15);
	evs[2].uid = "RE-2026-0003-bb@red.test";
	evs[2].cancelled = 1;
	evs[2].sequence = 2;
	evs[3] = sample_event("America/Sao_Paulo", 2027, 5, 2, 9);
	evs[3].uid = "RE-2026-0004-cc@red.test";
	evs[3].nattendees = 0;
	evs[3].attendees = NULL;

	a = ical_build_feed("Unidad Temática de Cultura", evs, 4, &e);
	if (a == NULL)
		fail_msg("%s", e.msg);
	b = ical_build_feed("Unidad Temática de Cultura", evs, 4, &e);
	assert_non_null(b);
	assert_string_equal(a, b);	/* same input, same bytes */
	check_physical(a);
	save_sample("feed.ics", a);
	L = unfold(a);
	check_known_names(&L);
	assert_line(&L, "METHOD:PUBLISH");
	assert_line(&L, "X-WR-CALNAME:Unidad Temática de Cultura");
	assert_line(&L, "NAME:Unidad Temática de Cultura");
	assert_line(&L, "REFRESH-INTERVAL;VALUE=DURATION:PT1H");
	assert_line(&L, "X-PUBLISHED-TTL:PT1H");
	assert_int_equal(count_lines(&L, "BEGIN:VTIMEZONE", 0), 2);
	assert_line(&L, "TZID:America/Santiago");
	assert_line(&L, "TZID:America/Sao_Paulo");
	assert_int_equal(count_lines(&L, "BEGIN:VEVENT", 0), 4);
	assert_int_equal(count_lines(&L, "STATUS:CANCELLED", 0), 1);
	assert_int_equal(count_lines(&L, "STATUS:CONFIRMED", 0), 3);
	assert_int_equal(count_lines(&L, "ATTENDEE", 1), 0);	/* a feed names no invitee */
	assert_int_equal(count_lines(&L, "ORGANIZER", 1), 4);
	assert_int_equal(count_lines(&L, "DTSTAMP:20260921T141320Z", 0), 4);
	assert_null(strstr(a, "RSVP"));
	lines_free(&L);
	free(a);
	free(b);

	/* the order of the zones does not depend on the order of the events */
	{
		struct ical_event rev[4] = { evs[3], evs[2], evs[1], evs[0] };
		char *c = ical_build_feed("x", rev, 4, &e);
		assert_non_null(c);
		assert_true(strstr(c, "TZID:America/Santiago") < strstr(c, "TZID:America/Sao_Paulo"));
		free(c);
	}

	/* an empty feed is a calendar without components */
	a = ical_build_feed("Vacío", NULL, 0, &e);
	assert_non_null(a);
	check_physical(a);
	assert_null(strstr(a, "BEGIN:VEVENT"));
	assert_null(strstr(a, "BEGIN:VTIMEZONE"));
	assert_non_null(strstr(a, "\r\nMETHOD:PUBLISH\r\n"));
	free(a);

	/* a bad event is refused with its number */
	evs[1].tzid = "Nowhere/Else";
	assert_null(ical_build_feed("x", evs, 4, &e));
	assert_non_null(strstr(e.msg, "event 2"));
}

/* ---- replies ------------------------------------------------------------ */

static char datadir[512];

static void
find_testdata(void)
{
	const char *td = getenv("MERCOMAIL_TESTDATA");

	if (td != NULL && *td != '\0') {
		snprintf(datadir, sizeof datadir, "%s/itip", td);
	} else {
		const char *slash = strrchr(__FILE__, '/');
		int n = slash ? (int)(slash - __FILE__) : 0;
		snprintf(datadir, sizeof datadir, "%.*s%s../data/itip", n, __FILE__,
		    n ? "/" : "");
	}
}

static char *
slurp(const char *name, size_t *len)
{
	char path[700];
	FILE *fp;
	char *buf;
	long size;

	snprintf(path, sizeof path, "%s/%s", datadir, name);
	fp = fopen(path, "rb");
	if (fp == NULL)
		fail_msg("cannot open %s", path);
	assert_int_equal(fseek(fp, 0, SEEK_END), 0);
	size = ftell(fp);
	assert_true(size >= 0);
	rewind(fp);
	buf = malloc((size_t)size + 1);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)size, fp), (size_t)size);
	buf[size] = '\0';
	fclose(fp);
	*len = (size_t)size;
	return buf;
}

static void
parse_fixture(const char *name, struct ical_reply *r)
{
	size_t len;
	char *s = slurp(name, &len);
	struct err e = { { 0 } };

	if (ical_parse_reply(s, len, r, &e) != 0)
		fail_msg("%s: %s", name, e.msg);
	free(s);
}

static void
test_reply_fixtures(void **state)
{
	struct ical_reply r;

	(void)state;
	parse_fixture("google-accepted.ics", &r);
	assert_string_equal(r.uid, "RE-2026-0001-7f3a9c@red.test");
	assert_string_equal(r.attendee, "ana.perez@montevideo.test");
	assert_string_equal(r.partstat, "ACCEPTED");
	assert_string_equal(r.delegated_to, "");
	assert_int_equal(r.sequence, 0);
	assert_string_equal(r.prodid, "-//Google Inc//Google Calendar 70.9054//EN");
	assert_string_equal(r.tzid, "");

	parse_fixture("outlook-declined.ics", &r);
	assert_string_equal(r.uid, "RE-2026-0002-c41d2e@red.test");
	assert_string_equal(r.attendee, "joao.silva@recife.test");	/* MAILTO: and case */
	assert_string_equal(r.partstat, "DECLINED");
	assert_int_equal(r.sequence, 1);
	assert_string_equal(r.prodid, "Microsoft Exchange Server 2010");
	assert_string_equal(r.tzid, "SA Eastern Standard Time");

	parse_fixture("apple-tentative.ics", &r);
	assert_string_equal(r.uid, "RE-2026-0003-09be11@red.test");
	assert_string_equal(r.attendee, "marta.rodriguez@montevideo.test");
	assert_string_equal(r.partstat, "TENTATIVE");
	assert_int_equal(r.sequence, 2);
	assert_string_equal(r.prodid, "-//Apple Inc.//macOS 14.0//EN");
	assert_string_equal(r.tzid, "America/Montevideo");

	parse_fixture("thunderbird-accepted.ics", &r);
	assert_string_equal(r.uid, "RE-2026-0004-5d8e70@red.test");
	assert_string_equal(r.attendee, "lucia.gomez@rosario.test");
	assert_string_equal(r.partstat, "ACCEPTED");
	assert_int_equal(r.sequence, 0);
	assert_string_equal(r.prodid, "-//Mozilla.org/NONSGML Mozilla Calendar V1.1//EN");
	assert_string_equal(r.tzid, "America/Argentina/Buenos_Aires");

	parse_fixture("delegated.ics", &r);
	assert_string_equal(r.attendee, "carolina.diaz@santiago.test");
	assert_string_equal(r.partstat, "DELEGATED");
	assert_string_equal(r.delegated_to, "pablo.soto@santiago.test");
	assert_string_equal(r.tzid, "Pacific SA Standard Time");
}

static void
test_reply_malformed(void **state)
{
	static const struct {
		const char *file, *reason;
	} cases[] = {
		{ "no-attendee.ics", "no ATTENDEE" },
		{ "two-attendees.ics", "several ATTENDEEs" },
		{ "not-reply.ics", "not a REPLY (METHOD:REQUEST)" },
		{ "needs-action.ics", "PARTSTAT is not" },
		{ "no-uid.ics", "no UID" },
		{ "garbage.ics", "not a complete iCalendar" },
		{ "truncated.ics", "not a complete iCalendar" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		size_t len;
		char *s = slurp(cases[i].file, &len);
		struct ical_reply r;
		struct err e = { { 0 } };

		memset(&r, 'x', sizeof r);
		assert_int_equal(ical_parse_reply(s, len, &r, &e), -1);
		if (strstr(e.msg, cases[i].reason) == NULL)
			fail_msg("%s: '%s' lacks '%s'", cases[i].file, e.msg, cases[i].reason);
		assert_string_equal(r.uid, "");	/* nothing half-filled */
		assert_string_equal(r.attendee, "");
		free(s);
	}
}

/* Variations made from a good reply by replacing one line. */
static char *
replace(const char *s, const char *from, const char *to)
{
	const char *at = strstr(s, from);
	size_t n;
	char *out;

	assert_non_null(at);
	n = strlen(s) - strlen(from) + strlen(to);
	out = malloc(n + 1);
	assert_non_null(out);
	memcpy(out, s, (size_t)(at - s));
	strcpy(out + (at - s), to);
	strcat(out, at + strlen(from));
	return out;
}

static int
parse_str(const char *s, struct ical_reply *r, struct err *e)
{
	return ical_parse_reply(s, strlen(s), r, e);
}

static void
test_reply_variations(void **state)
{
	size_t len;
	char *good = slurp("outlook-declined.ics", &len), *v;
	struct ical_reply r;
	struct err e = { { 0 } };
	char big[600];

	(void)state;
	/* another Windows zone name, as given */
	v = replace(good, "DTSTART;TZID=SA Eastern Standard Time",
	    "DTSTART;TZID=\"E. South America Standard Time\"");
	assert_int_equal(parse_str(v, &r, &e), 0);
	assert_string_equal(r.tzid, "E. South America Standard Time");
	free(v);

	v = replace(good, "PARTSTAT=DECLINED", "PARTSTAT=X-MAYBE");
	assert_int_equal(parse_str(v, &r, &e), -1);
	assert_non_null(strstr(e.msg, "PARTSTAT"));
	free(v);

	v = replace(good, "ATTENDEE;PARTSTAT=DECLINED;", "ATTENDEE;");
	assert_int_equal(parse_str(v, &r, &e), -1);
	assert_non_null(strstr(e.msg, "no PARTSTAT"));
	free(v);

	v = replace(good, "MAILTO:Joao.Silva@Recife.test", "urn:uuid:1234");
	assert_int_equal(parse_str(v, &r, &e), -1);
	assert_non_null(strstr(e.msg, "not a mail address"));
	free(v);

	v = replace(good, "METHOD:REPLY\r\n", "");
	assert_int_equal(parse_str(v, &r, &e), -1);
	assert_non_null(strstr(e.msg, "no METHOD"));
	free(v);

	v = replace(good, "SEQUENCE:1", "SEQUENCE:-7");
	assert_int_equal(parse_str(v, &r, &e), 0);
	assert_int_equal(r.sequence, 0);
	free(v);

	/* a UID that does not fit is refused, not cut */
	memset(big, 'u', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	{
		char line[700];
		snprintf(line, sizeof line, "UID:%s", big);
		v = replace(good, "UID:RE-2026-0002-c41d2e@red.test", line);
		assert_int_equal(parse_str(v, &r, &e), -1);
		assert_non_null(strstr(e.msg, "UID"));
		free(v);
	}

	/* two VEVENTs */
	v = replace(good, "END:VCALENDAR", "BEGIN:VEVENT\r\nUID:b\r\nEND:VEVENT\r\nEND:VCALENDAR");
	assert_int_equal(parse_str(v, &r, &e), -1);
	assert_non_null(strstr(e.msg, "several VEVENTs"));
	free(v);

	/* NUL bytes, empty input, huge input */
	assert_int_equal(ical_parse_reply(good, len + 1, &r, &e), -1);
	assert_non_null(strstr(e.msg, "NUL"));
	{
		size_t n = 300 * 1024;
		char *huge = malloc(n);
		assert_non_null(huge);
		memset(huge, ' ', n);
		memcpy(huge, good, len);	/* a good reply followed by blanks */
		assert_int_equal(ical_parse_reply(huge, n, &r, &e), -1);
		assert_non_null(strstr(e.msg, "larger than"));
		free(huge);
	}
	assert_int_equal(ical_parse_reply("", 0, &r, &e), -1);
	assert_int_equal(ical_parse_reply(NULL, 0, &r, &e), -1);
	free(good);
}

/* Our own invite, turned into a reply the way a client would, reads back. */
static void
test_reply_roundtrip(void **state)
{
	struct ical_event ev = sample_event("America/Guayaquil", 2026, 12, 1, 10);
	struct ical_attendee at[1] = { { "Ana.Perez@Montevideo.test", "Ana", NULL, "ACCEPTED" } };
	struct ical_reply r;
	struct err e = { { 0 } };
	char *s, *v;

	(void)state;
	ev.attendees = at;
	ev.nattendees = 1;
	ev.sequence = 4;
	s = build_ok(&ev, ICAL_REQUEST);
	v = replace(s, "METHOD:REQUEST", "METHOD:REPLY");
	assert_int_equal(parse_str(v, &r, &e), 0);
	assert_string_equal(r.uid, ev.uid);
	assert_string_equal(r.attendee, "ana.perez@montevideo.test");
	assert_string_equal(r.partstat, "ACCEPTED");
	assert_int_equal(r.sequence, 4);
	assert_string_equal(r.tzid, "America/Guayaquil");
	free(v);
	free(s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_request),
		cmocka_unit_test(test_zones),
		cmocka_unit_test(test_zones_scan),
		cmocka_unit_test(test_local_to_utc),
		cmocka_unit_test(test_valarm),
		cmocka_unit_test(test_cancel),
		cmocka_unit_test(test_escaping),
		cmocka_unit_test(test_injection),
		cmocka_unit_test(test_build_errors),
		cmocka_unit_test(test_folding),
		cmocka_unit_test(test_feed),
		cmocka_unit_test(test_reply_fixtures),
		cmocka_unit_test(test_reply_malformed),
		cmocka_unit_test(test_reply_variations),
		cmocka_unit_test(test_reply_roundtrip),
	};

	find_testdata();
	ical_init();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
