#include "buildconf.h"

/*
 * ical — iCalendar invites, feeds and replies with libical (see ical.h).
 *
 * What libical does and what this file adds (seen with Debian's 3.0.16):
 *  - TEXT values: libical escapes ; , \ and LF and drops CR, but passes the
 *    other control characters through, and CAL-ADDRESS / URI values are
 *    written as they are (a CRLF in an ORGANIZER value starts a new
 *    property). So every text is cleaned first (clean_text: CRLF -> LF,
 *    CR and control characters removed, bad UTF-8 -> U+FFFD, bounded),
 *    parameter values (CN) are made one line without DQUOTE (clean_param),
 *    and addresses and URLs are checked (no blanks, no controls).
 *  - Folding: libical folds at 75 octets without splitting UTF-8 but at
 *    places of its own choosing; the text is unfolded and folded again here
 *    (refold) so the rule is ours and testable whatever libical does.
 *  - Time zones: Debian builds libical against the system tzdata: a builtin
 *    zone is read from /usr/share/zoneinfo and comes with its whole history
 *    (280 lines for America/Santiago). icaltimezone_truncate_vtimezone() with
 *    ms_compatible = 1 keeps the rules around the event: one STANDARD (and
 *    one DAYLIGHT for a zone with DST then, both with RRULE). libical ignores
 *    an empty TZID prefix (it falls back to "/freeassociation.sourceforge.net/"),
 *    so the TZID of the copy and the TZID parameters are written here with
 *    the plain IANA name. TZUNTIL (RFC 7808, added by the truncation) and
 *    X-LIC-LOCATION are removed. An RDATE left before the window becomes the
 *    DTSTART of its observance. RRULEs that Outlook cannot read (BYDAY with
 *    BYMONTHDAY, as libical writes Chile's) are rewritten (outlook_rrule).
 *  - Replies are parsed with icalparser and only read: never merged,
 *    normalised or written back.
 */

#include <ctype.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <libical/ical.h>

#include "ical.h"
#include "text.h"

#define PRODID		"-//Mercociudades//mercomail//ES"
#define FOLD_OCTETS	75		/* RFC 5545 section 3.1 */
#define TEXT_MAX	(32 * 1024)	/* bytes kept of one text value */
#define PARAM_MAX	200		/* bytes kept of a CN */
#define ADDR_MAX	254
#define URL_MAX		2000
#define TZID_MAX	63
#define ALARM_MAX	(4 * 7 * 24 * 60)	/* four weeks, in minutes */
#define REPLY_MAX	(256 * 1024)	/* a REPLY is a few KiB; Outlook's with zones < 16 KiB */

static pthread_once_t init_once = PTHREAD_ONCE_INIT;

static void
init_once_fn(void)
{
	/* A no-op with libical 3.0.16 (see the top), kept for later versions. */
	icaltimezone_set_tzid_prefix("");
	/* Errors in input are reported through return values, never abort(). */
	icalerror_set_errors_are_fatal(0);
}

void
ical_init(void)
{
	pthread_once(&init_once, init_once_fn);
}

/* ---- checks and cleaning of values ------------------------------------- */

/* An IANA zone name: letters, digits, '_', '-', '+' and '/' between parts;
 * no "..", no leading '/': it becomes a path under /usr/share/zoneinfo. */
static int
tzid_ok(const char *tzid)
{
	size_t n, i;

	if (tzid == NULL || (n = strlen(tzid)) == 0 || n > TZID_MAX)
		return 0;
	if (tzid[0] == '/' || tzid[n - 1] == '/' || strstr(tzid, "..") || strstr(tzid, "//"))
		return 0;
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)tzid[i];
		if (!isalnum(c) && c != '_' && c != '-' && c != '+' && c != '/')
			return 0;
	}
	return 1;
}

static icaltimezone *
zone_get(const char *tzid)
{
	ical_init();
	if (!tzid_ok(tzid))
		return NULL;
	return icaltimezone_get_builtin_timezone(tzid);
}

static int
zone_known(const char *tzid)
{
	return zone_get(tzid) != NULL;
}

/* An addr-spec fit for "mailto:": printable, no blanks, no characters that
 * mean something in a content line or a parameter, one '@'. */
static int
addr_ok(const char *a)
{
	size_t n, i;
	const char *at;

	if (a == NULL || (n = strlen(a)) < 3 || n > ADDR_MAX)
		return 0;
	if ((at = strchr(a, '@')) == NULL || at == a || at[1] == '\0' || strchr(at + 1, '@'))
		return 0;
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)a[i];
		if (c <= 0x20 || c == 0x7f || strchr("\"<>(),;:\\[]", c))
			return 0;
	}
	return text_utf8_valid(a, n);
}

/* A URI for the URL property: scheme ":" then printable ASCII, no blanks. */
static int
url_ok(const char *u)
{
	size_t n, i;

	if (u == NULL || (n = strlen(u)) == 0 || n > URL_MAX || !isalpha((unsigned char)u[0]))
		return 0;
	for (i = 0; i < n && u[i] != ':'; i++)
		if (!isalnum((unsigned char)u[i]) && u[i] != '+' && u[i] != '-' && u[i] != '.')
			return 0;
	if (i == n || i + 1 == n)
		return 0;
	for (; i < n; i++) {
		unsigned char c = (unsigned char)u[i];
		if (c <= 0x20 || c >= 0x7f || c == '"' || c == '<' || c == '>' || c == '\\')
			return 0;
	}
	return 1;
}

static void
add_fffd(struct textbuf *b)
{
	textbuf_add(b, "\xEF\xBF\xBD", 3);
}

/*
 * A TEXT value made safe to hand to libical (which then escapes ; , \ and
 * LF): CRLF becomes LF, other CRs and the control characters (C0 but TAB and
 * LF, DEL, C1) are removed, bytes that are not UTF-8 become U+FFFD, and at
 * most TEXT_MAX bytes are kept (whole characters). With oneline, LF and TAB
 * become spaces too. Returns a new string, or NULL if out of memory.
 */
static char *
clean_text(const char *in, size_t max, int oneline)
{
	struct textbuf b = { 0 };
	const unsigned char *s = (const unsigned char *)(in ? in : "");
	size_t n = strlen((const char *)s), i = 0;

	textbuf_add(&b, "", 0);
	while (i < n && b.len < max) {
		size_t l = text_utf8_len(s + i, n - i);
		unsigned char c = s[i];

		if (l == 0) {
			if (b.len + 3 > max)
				break;
			add_fffd(&b);
			i++;
			continue;
		}
		if (b.len + l > max)
			break;
		if (l == 1) {
			if (c == '\n' || c == '\t')
				textbuf_addc(&b, oneline ? ' ' : (char)c);
			else if (c >= 0x20 && c != 0x7f)
				textbuf_addc(&b, (char)c);
			/* CR (of a CRLF or alone) and other controls: dropped */
		} else if (!(l == 2 && c == 0xC2 && s[i + 1] < 0xA0)) {	/* C1 controls */
			textbuf_add(&b, (const char *)s + i, l);
		}
		i += l;
	}
	return textbuf_take(&b);
}

/* A parameter value (CN): one line, DQUOTE replaced by an apostrophe (a
 * quoted parameter value cannot hold one, and not every client reads RFC
 * 6868's ^'), blanks collapsed, ends trimmed. NULL if out of memory. */
static char *
clean_param(const char *in)
{
	char *t = clean_text(in, PARAM_MAX, 1), *r, *w;
	int space = 0;

	if (t == NULL)
		return NULL;
	for (r = w = t; *r; r++) {
		char c = *r == '"' ? '\'' : *r;
		if (c == ' ') {
			space = w != t;
			continue;
		}
		if (space)
			*w++ = ' ';
		space = 0;
		*w++ = c;
	}
	*w = '\0';
	return t;
}

/* ---- folding ------------------------------------------------------------ */

/*
 * libical's output unfolded and folded again: every line ends with CRLF and
 * holds at most FOLD_OCTETS octets; a fold goes before a UTF-8 lead byte,
 * never inside a sequence, and is CRLF followed by one space, so unfolding
 * (RFC 5545 section 3.1) gives the line back. NULL if out of memory.
 */
static char *
refold(const char *in)
{
	struct textbuf b = { 0 };
	const char *s = in;

	textbuf_add(&b, "", 0);
	while (*s) {
		struct textbuf line = { 0 };
		size_t n, i, room;

		/* one logical line: up to CRLF (or LF) not followed by a blank */
		textbuf_add(&line, "", 0);
		for (;;) {
			size_t k = strcspn(s, "\r\n");

			textbuf_add(&line, s, k);
			s += k;
			if (*s == '\r')
				s++;
			if (*s == '\n')
				s++;
			if (*s == ' ' || *s == '\t') {
				s++;
				continue;
			}
			break;
		}
		if (line.oom) {
			textbuf_free(&line);
			b.oom = 1;
			break;
		}
		n = line.len;
		i = 0;
		room = FOLD_OCTETS;
		if (n == 0) {
			textbuf_free(&line);
			continue;
		}
		while (i < n) {
			size_t take = n - i;

			if (take > room) {
				take = room;
				while (take > 0 && ((unsigned char)line.p[i + take] & 0xC0) == 0x80)
					take--;
			}
			if (i > 0)
				textbuf_add(&b, " ", 1);
			textbuf_add(&b, line.p + i, take);
			textbuf_add(&b, "\r\n", 2);
			i += take;
			room = FOLD_OCTETS - 1;
		}
		textbuf_free(&line);
	}
	return textbuf_take(&b);
}

/* ---- time zones ---------------------------------------------------------- */

static icaltimetype
utc_time(time_t t)
{
	return icaltime_from_timet_with_zone(t, 0, icaltimezone_get_utc_timezone());
}

/* A local time without zone (the TZID parameter is added by the caller). */
static icaltimetype
local_time(time_t t, icaltimezone *z)
{
	icaltimetype lt = icaltime_from_timet_with_zone(t, 0, z);

	(void)icaltime_set_timezone(&lt, NULL);
	return lt;
}

/* The onset of an observance in UTC from a local DTSTART/RDATE. */
static icaltimetype
onset_utc(icaltimetype local, int offset_from)
{
	local.zone = NULL;
	local.is_date = 0;
	icaltime_adjust(&local, 0, 0, 0, -offset_from);
	(void)icaltime_set_timezone(&local, icaltimezone_get_utc_timezone());
	return local;
}

/* RDATEs at or before the window start are history: the latest becomes
 * the DTSTART of its observance and they go. */
static void
drop_old_rdates(icalcomponent *obs, icaltimetype start)
{
	icalproperty *dtp = icalcomponent_get_first_property(obs, ICAL_DTSTART_PROPERTY);
	icalproperty *off = icalcomponent_get_first_property(obs, ICAL_TZOFFSETFROM_PROPERTY);
	icalproperty *p, *next;
	icaltimetype latest = icaltime_null_time();
	int from;

	if (dtp == NULL || off == NULL)
		return;
	from = icalproperty_get_tzoffsetfrom(off);
	for (p = icalcomponent_get_first_property(obs, ICAL_RDATE_PROPERTY); p; p = next) {
		struct icaldatetimeperiodtype d = icalproperty_get_rdate(p);
		icaltimetype t = d.time;

		next = icalcomponent_get_next_property(obs, ICAL_RDATE_PROPERTY);
		if (icaltime_is_null_time(t) || icaltime_is_date(t))
			continue;
		if (icaltime_compare(onset_utc(t, from), start) > 0)
			continue;
		if (icaltime_is_null_time(latest) || icaltime_compare(t, latest) > 0)
			latest = t;
		icalcomponent_remove_property(obs, p);
		icalproperty_free(p);
	}
	if (!icaltime_is_null_time(latest) &&
	    icaltime_compare(latest, icalproperty_get_dtstart(dtp)) > 0)
		icalproperty_set_dtstart(dtp, latest);
}

static int
by_empty(const short *a)
{
	return a[0] == ICAL_RECURRENCE_ARRAY_MAX;
}

/*
 * Outlook reads the RRULE of a VTIMEZONE only as FREQ=YEARLY with BYMONTH
 * and one BYDAY with an ordinal ("1SU", "-1SU"), never BYDAY and BYMONTHDAY
 * together ([MS-OXCICAL] 2.1.3.1.1.19.2.2). libical writes Chile's rule
 * (tzdata: the first Saturday at 24:00) as BYDAY=SU;BYMONTHDAY=2,3,4,5,6,7,8.
 * Rewritten here when it is one of:
 *  - the days 7n+1 .. 7n+7: BYDAY=(n+1)XX, same time;
 *  - the days 7n+2 .. 7n+8 at 00:00: the day before is the (n+1)th of the
 *    weekday before, so BYDAY=(n+1)YY at 23:59:59 of that day, one second
 *    early (what Windows itself says for Chile).
 * Anything else is left as libical wrote it.
 */
static void
outlook_rrule(icalcomponent *obs)
{
	icalproperty *rp = icalcomponent_get_first_property(obs, ICAL_RRULE_PROPERTY);
	icalproperty *dp = icalcomponent_get_first_property(obs, ICAL_DTSTART_PROPERTY);
	struct icalrecurrencetype r, nr;
	icaltimetype start;
	int d, k, pos, month, dow, shift = 0;
	char until[24] = "", rule[128];
	const char *wd;

	if (rp == NULL || dp == NULL)
		return;
	r = icalproperty_get_rrule(rp);
	start = icalproperty_get_dtstart(dp);
	if (r.freq != ICAL_YEARLY_RECURRENCE || r.interval > 1 || r.count != 0 ||
	    by_empty(r.by_day) || !by_empty(r.by_day + 1) ||
	    icalrecurrencetype_day_position(r.by_day[0]) != 0 ||
	    by_empty(r.by_month) || !by_empty(r.by_month + 1) ||
	    !by_empty(r.by_second) || !by_empty(r.by_minute) || !by_empty(r.by_hour) ||
	    !by_empty(r.by_year_day) || !by_empty(r.by_week_no) || !by_empty(r.by_set_pos))
		return;
	month = r.by_month[0];
	d = r.by_month_day[0];
	if (month < 1 || month > 12 || d < 1)
		return;
	for (k = 0; k < 7; k++)
		if (r.by_month_day[k] != d + k)
			return;
	if (!by_empty(r.by_month_day + 7))
		return;
	dow = (int)icalrecurrencetype_day_day_of_week(r.by_day[0]);
	if (dow < 1 || dow > 7)
		return;
	if ((d - 1) % 7 == 0 && d <= 22) {
		pos = (d - 1) / 7 + 1;
	} else if ((d - 2) % 7 == 0 && d <= 23 && start.hour == 0 && start.minute == 0 &&
	    start.second == 0) {
		pos = (d - 2) / 7 + 1;
		dow = dow == 1 ? 7 : dow - 1;
		shift = 1;
	} else {
		return;
	}
	wd = icalrecur_weekday_to_string((icalrecurrencetype_weekday)dow);
	if (wd == NULL)
		return;
	if (!icaltime_is_null_time(r.until))
		snprintf(until, sizeof until, ";UNTIL=%04d%02d%02dT%02d%02d%02d%s", r.until.year,
		    r.until.month, r.until.day, r.until.hour, r.until.minute, r.until.second,
		    icaltime_is_utc(r.until) ? "Z" : "");
	snprintf(rule, sizeof rule, "FREQ=YEARLY%s;BYDAY=%d%s;BYMONTH=%d", until, pos, wd, month);
	nr = icalrecurrencetype_from_string(rule);
	if (nr.freq != ICAL_YEARLY_RECURRENCE)
		return;
	icalproperty_set_rrule(rp, nr);
	if (shift) {
		icaltime_adjust(&start, 0, 0, 0, -1);
		icalproperty_set_dtstart(dp, start);
	}
}

/*
 * The VTIMEZONE of tzid for times in [from, to]: a copy of libical's zone
 * truncated for Outlook, TZID without prefix. NULL with e set.
 */
static icalcomponent *
vtimezone_for(const char *tzid, time_t from, time_t to, struct err *e)
{
	icaltimezone *z = zone_get(tzid);
	icalcomponent *src, *vtz, *c;
	icalproperty *p;
	icaltimetype start, end;

	if (z == NULL || (src = icaltimezone_get_component(z)) == NULL) {
		err_set(e, "unknown time zone");
		return NULL;
	}
	/*
	 * The window is made of whole calendar years (UTC) around the times:
	 * a zone with DST then changes twice inside it, so both rules are
	 * kept with their RRULEs. With a window of just the event, libical
	 * 3.0.16 drops the STANDARD of Europe/Madrid for an event a few days
	 * before its change, or the RRULE of New York's DAYLIGHT the day
	 * before (seen with every 6 hours of 2026-2028, tests/unit/test_ical.c
	 * test_zones_scan).
	 */
	start = utc_time(from);
	start.month = start.day = 1;
	start.hour = start.minute = start.second = 0;
	end = utc_time(to);
	end.year++;
	end.month = end.day = 1;
	end.hour = end.minute = end.second = 0;
	if ((vtz = icalcomponent_new_clone(src)) == NULL) {
		err_set(e, "out of memory");
		return NULL;
	}
	icaltimezone_truncate_vtimezone(vtz, start, end, 1);
	/* Only the TZID is kept of the zone's own properties: the prefixed
	 * TZID, X-LIC-LOCATION (the same name again) and TZUNTIL go. */
	while ((p = icalcomponent_get_first_property(vtz, ICAL_ANY_PROPERTY)) != NULL) {
		icalcomponent_remove_property(vtz, p);
		icalproperty_free(p);
	}
	icalcomponent_add_property(vtz, icalproperty_new_tzid(tzid));
	for (c = icalcomponent_get_first_component(vtz, ICAL_ANY_COMPONENT); c;
	    c = icalcomponent_get_next_component(vtz, ICAL_ANY_COMPONENT)) {
		drop_old_rdates(c, start);
		outlook_rrule(c);
	}
	return vtz;
}

/* ---- building ------------------------------------------------------------ */

enum mode { MODE_REQUEST, MODE_CANCEL, MODE_PUBLISH };

static const char *const roles[] = { "CHAIR", "REQ-PARTICIPANT", "OPT-PARTICIPANT",
	"NON-PARTICIPANT", NULL };
static const char *const partstats[] = { "NEEDS-ACTION", "ACCEPTED", "DECLINED",
	"TENTATIVE", "DELEGATED", NULL };

static int
in_list(const char *const *list, const char *s)
{
	for (; *list; list++)
		if (strcmp(*list, s) == 0)
			return 1;
	return 0;
}

/* Add a property whose value is TEXT, cleaned. -1 if out of memory. */
static int
add_text(icalcomponent *c, icalproperty *(*make)(const char *), const char *v)
{
	char *t = clean_text(v, TEXT_MAX, 0);
	icalproperty *p;

	if (t == NULL)
		return -1;
	p = make(t);
	free(t);
	if (p == NULL)
		return -1;
	icalcomponent_add_property(c, p);
	return 0;
}

/* "mailto:" + addr */
static char *
mailto(const char *addr)
{
	size_t n = strlen(addr) + 8;
	char *m = malloc(n);

	if (m != NULL)
		snprintf(m, n, "mailto:%s", addr);
	return m;
}

/* Add a CN parameter to p if name has anything left once cleaned. */
static int
add_cn(icalproperty *p, const char *name)
{
	char *cn;

	if (name == NULL)
		return 0;
	if ((cn = clean_param(name)) == NULL)
		return -1;
	if (*cn)
		icalproperty_add_parameter(p, icalparameter_new_cn(cn));
	free(cn);
	return 0;
}

static int
check_event(const struct ical_event *ev, enum mode mode, struct err *e)
{
	size_t i;

	if (ev->uid == NULL || ev->uid[0] == '\0' || strlen(ev->uid) > 255)
		return err_set(e, "UID missing or longer than 255 bytes");
	for (i = 0; ev->uid[i]; i++)
		if ((unsigned char)ev->uid[i] < 0x20 || ev->uid[i] == 0x7f)
			return err_set(e, "UID with a control character");
	if (ev->sequence < 0)
		return err_set(e, "negative SEQUENCE");
	if (ev->end < ev->start)
		return err_set(e, "the event ends before it starts");
	if (ev->alarm_minutes < 0 || ev->alarm_minutes > ALARM_MAX)
		return err_set(e, "alarm out of range (0 to %d minutes)", ALARM_MAX);
	if (!zone_known(ev->tzid))
		return err_set(e, "unknown time zone '%.64s'", ev->tzid ? ev->tzid : "");
	if (!addr_ok(ev->organizer))
		return err_set(e, "invalid organizer address");
	if (ev->sent_by && !addr_ok(ev->sent_by))
		return err_set(e, "invalid SENT-BY address");
	if (mode != MODE_PUBLISH && ev->nattendees == 0)
		return err_set(e, "an invite needs at least one ATTENDEE");
	if (ev->nattendees > 0 && ev->attendees == NULL)
		return err_set(e, "attendees missing");
	for (i = 0; mode != MODE_PUBLISH && i < ev->nattendees; i++) {
		const struct ical_attendee *a = &ev->attendees[i];
		if (!addr_ok(a->address))
			return err_set(e, "invalid attendee address (attendee %zu)", i + 1);
		if (a->role && !in_list(roles, a->role))
			return err_set(e, "unknown ROLE '%.32s'", a->role);
		if (a->partstat && !in_list(partstats, a->partstat))
			return err_set(e, "unknown PARTSTAT '%.32s'", a->partstat);
	}
	return 0;
}

static icalproperty *
new_organizer(const struct ical_event *ev)
{
	char *m = mailto(ev->organizer);
	icalproperty *p;

	if (m == NULL)
		return NULL;
	p = icalproperty_new_organizer(m);
	free(m);
	if (p == NULL)
		return NULL;
	if (add_cn(p, ev->organizer_name) < 0) {
		icalproperty_free(p);
		return NULL;
	}
	if (ev->sent_by) {
		if ((m = mailto(ev->sent_by)) == NULL) {
			icalproperty_free(p);
			return NULL;
		}
		icalproperty_add_parameter(p, icalparameter_new_sentby(m));
		free(m);
	}
	return p;
}

static icalproperty *
new_attendee(const struct ical_attendee *a, enum mode mode)
{
	char *m = mailto(a->address);
	icalproperty *p;
	icalparameter *q;

	if (m == NULL)
		return NULL;
	p = icalproperty_new_attendee(m);
	free(m);
	if (p == NULL)
		return NULL;
	icalproperty_add_parameter(p, icalparameter_new_cutype(ICAL_CUTYPE_INDIVIDUAL));
	q = icalparameter_new_from_value_string(ICAL_ROLE_PARAMETER,
	    a->role ? a->role : "REQ-PARTICIPANT");
	if (q)
		icalproperty_add_parameter(p, q);
	q = icalparameter_new_from_value_string(ICAL_PARTSTAT_PARAMETER,
	    a->partstat ? a->partstat : "NEEDS-ACTION");
	if (q)
		icalproperty_add_parameter(p, q);
	if (mode == MODE_REQUEST)
		icalproperty_add_parameter(p, icalparameter_new_rsvp(ICAL_RSVP_TRUE));
	if (add_cn(p, a->name) < 0) {
		icalproperty_free(p);
		return NULL;
	}
	return p;
}

static icalproperty *
new_zoned(icalproperty *(*make)(struct icaltimetype), time_t t, const char *tzid)
{
	icaltimezone *z = zone_get(tzid);
	icalproperty *p = make(local_time(t, z));

	if (p)
		icalproperty_add_parameter(p, icalparameter_new_tzid(tzid));
	return p;
}

static icalcomponent *
new_valarm(const struct ical_event *ev)
{
	icalcomponent *a = icalcomponent_new_valarm();
	struct icaldurationtype d = icaldurationtype_null_duration();
	struct icaltriggertype tr;
	char *t;

	if (a == NULL)
		return NULL;
	icalcomponent_add_property(a, icalproperty_new_action(ICAL_ACTION_DISPLAY));
	d.is_neg = 1;
	d.minutes = (unsigned)ev->alarm_minutes;
	memset(&tr, 0, sizeof tr);
	tr.time = icaltime_null_time();
	tr.duration = d;
	icalcomponent_add_property(a, icalproperty_new_trigger(tr));
	t = clean_text(ev->summary && ev->summary[0] ? ev->summary : "Reminder", TEXT_MAX, 0);
	if (t == NULL) {
		icalcomponent_free(a);
		return NULL;
	}
	icalcomponent_add_property(a, icalproperty_new_description(t));
	free(t);
	return a;
}

/* DESCRIPTION: the text, then the link on a line of its own when the text
 * does not hold it already (not every client shows URL). */
static char *
description_with_url(const struct ical_event *ev)
{
	struct textbuf b = { 0 };

	textbuf_adds(&b, ev->description ? ev->description : "");
	if (ev->url && ev->url[0] && (ev->description == NULL || !strstr(ev->description, ev->url))) {
		if (b.len)
			textbuf_adds(&b, "\n\n");
		textbuf_adds(&b, ev->url);
	}
	return textbuf_take(&b);
}

/* The VEVENT of ev. NULL if out of memory. */
static icalcomponent *
new_vevent(const struct ical_event *ev, enum mode mode)
{
	icalcomponent *v = icalcomponent_new_vevent();
	icalproperty *p;
	char *desc;
	int bad = 0;
	size_t i;

	if (v == NULL)
		return NULL;
	bad |= add_text(v, icalproperty_new_uid, ev->uid);
	icalcomponent_add_property(v, icalproperty_new_dtstamp(utc_time(ev->dtstamp)));
	icalcomponent_add_property(v, icalproperty_new_sequence(ev->sequence));
	if ((p = new_zoned(icalproperty_new_dtstart, ev->start, ev->tzid)) != NULL)
		icalcomponent_add_property(v, p);
	else
		bad = 1;
	if ((p = new_zoned(icalproperty_new_dtend, ev->end, ev->tzid)) != NULL)
		icalcomponent_add_property(v, p);
	else
		bad = 1;
	if (ev->summary)
		bad |= add_text(v, icalproperty_new_summary, ev->summary);
	if (ev->location)
		bad |= add_text(v, icalproperty_new_location, ev->location);
	if ((desc = description_with_url(ev)) == NULL)
		bad = 1;
	else if (desc[0])
		bad |= add_text(v, icalproperty_new_description, desc);
	free(desc);
	if (ev->url && url_ok(ev->url))
		icalcomponent_add_property(v, icalproperty_new_url(ev->url));
	if ((p = new_organizer(ev)) != NULL)
		icalcomponent_add_property(v, p);
	else
		bad = 1;
	/* A feed is public: it names no invitee (and RFC 5546 has no
	 * ATTENDEE in PUBLISH). */
	for (i = 0; mode != MODE_PUBLISH && i < ev->nattendees; i++) {
		if ((p = new_attendee(&ev->attendees[i], mode)) != NULL)
			icalcomponent_add_property(v, p);
		else
			bad = 1;
	}
	icalcomponent_add_property(v, icalproperty_new_status(ev->cancelled ||
	    mode == MODE_CANCEL ? ICAL_STATUS_CANCELLED : ICAL_STATUS_CONFIRMED));
	icalcomponent_add_property(v, icalproperty_new_transp(ICAL_TRANSP_OPAQUE));
	if (ev->alarm_minutes > 0 && mode != MODE_CANCEL) {
		icalcomponent *a = new_valarm(ev);
		if (a)
			icalcomponent_add_component(v, a);
		else
			bad = 1;
	}
	if (bad) {
		icalcomponent_free(v);
		return NULL;
	}
	return v;
}

static icalcomponent *
new_vcalendar(icalproperty_method method)
{
	icalcomponent *c = icalcomponent_new_vcalendar();

	if (c == NULL)
		return NULL;
	icalcomponent_add_property(c, icalproperty_new_prodid(PRODID));
	icalcomponent_add_property(c, icalproperty_new_version("2.0"));
	icalcomponent_add_property(c, icalproperty_new_calscale("GREGORIAN"));
	icalcomponent_add_property(c, icalproperty_new_method(method));
	return c;
}

/* The text of cal, folded; cal is freed. NULL with e set. */
static char *
finish(icalcomponent *cal, struct err *e)
{
	char *raw = icalcomponent_as_ical_string_r(cal), *out;

	icalcomponent_free(cal);
	if (raw == NULL) {
		err_set(e, "libical could not write the calendar");
		return NULL;
	}
	out = refold(raw);
	free(raw);
	if (out == NULL)
		err_set(e, "out of memory");
	return out;
}

static char *
build(const struct ical_event *ev, enum ical_method method, struct err *e)
{
	enum mode mode = method == ICAL_CANCEL ? MODE_CANCEL : MODE_REQUEST;
	icalcomponent *cal, *vtz, *v;

	ical_init();
	if (ev == NULL) {
		err_set(e, "no event");
		return NULL;
	}
	if (check_event(ev, mode, e) < 0)
		return NULL;
	if ((vtz = vtimezone_for(ev->tzid, ev->start, ev->end, e)) == NULL)
		return NULL;
	cal = new_vcalendar(mode == MODE_CANCEL ? ICAL_METHOD_CANCEL : ICAL_METHOD_REQUEST);
	v = new_vevent(ev, mode);
	if (cal == NULL || v == NULL) {
		if (cal)
			icalcomponent_free(cal);
		if (v)
			icalcomponent_free(v);
		icalcomponent_free(vtz);
		err_set(e, "out of memory");
		return NULL;
	}
	icalcomponent_add_component(cal, vtz);
	icalcomponent_add_component(cal, v);
	return finish(cal, e);
}

/* Descending: libical 3.0.16 puts each VTIMEZONE added in front of the
 * others, so adding them from Z to A writes them from A to Z. */
static int
cmp_str_desc(const void *a, const void *b)
{
	return strcmp(*(const char *const *)b, *(const char *const *)a);
}

/* Add one VTIMEZONE per distinct TZID of evs (in the output sorted by name,
 * whatever the order of the events), each covering the times of that
 * zone's events. */
static int
add_feed_zones(icalcomponent *cal, const struct ical_event *evs, size_t n, struct err *e)
{
	const char **ids;
	size_t i, j, k = 0;
	int rc = 0;

	if (n == 0)
		return 0;
	if ((ids = calloc(n, sizeof *ids)) == NULL)
		return err_set(e, "out of memory");
	for (i = 0; i < n; i++)
		ids[k++] = evs[i].tzid;
	qsort(ids, k, sizeof *ids, cmp_str_desc);
	for (i = 0; i < k && rc == 0; i++) {
		time_t from = 0, to = 0;
		int any = 0;
		icalcomponent *vtz;

		if (i > 0 && strcmp(ids[i], ids[i - 1]) == 0)
			continue;
		for (j = 0; j < n; j++) {
			if (strcmp(evs[j].tzid, ids[i]) != 0)
				continue;
			if (!any || evs[j].start < from)
				from = evs[j].start;
			if (!any || evs[j].end > to)
				to = evs[j].end;
			any = 1;
		}
		if ((vtz = vtimezone_for(ids[i], from, to, e)) == NULL)
			rc = -1;
		else
			icalcomponent_add_component(cal, vtz);
	}
	free(ids);
	return rc;
}

static char *
build_feed(const char *calname, const struct ical_event *evs, size_t n, struct err *e)
{
	icalcomponent *cal;
	icalproperty *p;
	struct icaldurationtype hour = icaldurationtype_null_duration();
	char *name;
	size_t i;

	ical_init();
	if (n > 0 && evs == NULL) {
		err_set(e, "no events");
		return NULL;
	}
	for (i = 0; i < n; i++)
		if (check_event(&evs[i], MODE_PUBLISH, e) < 0) {
			err_wrap(e, "event %zu", i + 1);
			return NULL;
		}
	if ((cal = new_vcalendar(ICAL_METHOD_PUBLISH)) == NULL ||
	    (name = clean_param(calname ? calname : "")) == NULL) {
		if (cal)
			icalcomponent_free(cal);
		err_set(e, "out of memory");
		return NULL;
	}
	/* libical escapes only the backslash of an X- value (not , or ;):
	 * enough for the readers, which unescape \\ \, \; \n alike */
	p = icalproperty_new_x(name);
	icalproperty_set_x_name(p, "X-WR-CALNAME");
	icalcomponent_add_property(cal, p);
	icalcomponent_add_property(cal, icalproperty_new_name(name));
	free(name);
	hour.hours = 1;
	p = icalproperty_new_refreshinterval(hour);
	icalproperty_add_parameter(p, icalparameter_new_value(ICAL_VALUE_DURATION));
	icalcomponent_add_property(cal, p);
	p = icalproperty_new_x("PT1H");
	icalproperty_set_x_name(p, "X-PUBLISHED-TTL");
	icalcomponent_add_property(cal, p);
	if (add_feed_zones(cal, evs, n, e) < 0) {
		icalcomponent_free(cal);
		return NULL;
	}
	for (i = 0; i < n; i++) {
		icalcomponent *v = new_vevent(&evs[i], MODE_PUBLISH);
		if (v == NULL) {
			icalcomponent_free(cal);
			err_set(e, "out of memory");
			return NULL;
		}
		icalcomponent_add_component(cal, v);
	}
	return finish(cal, e);
}

/* ---- times --------------------------------------------------------------- */

static int
local_to_utc(const char *tzid, int year, int month, int day, int hour, int minute,
    time_t *out, struct err *e)
{
	icaltimezone *z = zone_get(tzid);
	icaltimetype t = icaltime_null_time();

	if (z == NULL)
		return err_set(e, "unknown time zone '%.64s'", tzid ? tzid : "");
	if (year < 1970 || year > 2199 || month < 1 || month > 12 || day < 1 ||
	    day > icaltime_days_in_month(month, year) || hour < 0 || hour > 23 ||
	    minute < 0 || minute > 59)
		return err_set(e, "impossible date %04d-%02d-%02d %02d:%02d",
		    year, month, day, hour, minute);
	t.year = year;
	t.month = month;
	t.day = day;
	t.hour = hour;
	t.minute = minute;
	*out = icaltime_as_timet_with_zone(t, z);
	return 0;
}

static int
format_local(time_t t, const char *tzid, char *out, size_t size)
{
	icaltimezone *z = zone_get(tzid);
	icaltimetype lt;
	int n;

	if (z == NULL || out == NULL || size == 0)
		return -1;
	lt = icaltime_from_timet_with_zone(t, 0, z);
	n = snprintf(out, size, "%04d-%02d-%02d %02d:%02d", lt.year, lt.month, lt.day,
	    lt.hour, lt.minute);
	return n < 0 || (size_t)n >= size ? -1 : 0;
}

/* ---- replies ------------------------------------------------------------- */

/* Copy a value into a fixed field: controls become '?', cut at a character
 * boundary. 0, or -1 if it does not fit and must not be cut. */
static int
copy_field(char *dst, size_t size, const char *src, int may_cut)
{
	size_t n = strlen(src), i;

	if (n >= size) {
		if (!may_cut)
			return -1;
		n = size - 1;
		while (n > 0 && ((unsigned char)src[n] & 0xC0) == 0x80)
			n--;
	}
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)src[i];
		dst[i] = c < 0x20 || c == 0x7f ? '?' : (char)c;
	}
	dst[n] = '\0';
	return 0;
}

/* An address from a CAL-ADDRESS: "mailto:" removed (any case), lower case,
 * checked like an address we would write. -1 if it is not one. */
static int
reply_addr(char *dst, size_t size, const char *v)
{
	size_t i;

	if (v == NULL)
		return -1;
	while (*v == ' ')
		v++;
	if (strncasecmp(v, "mailto:", 7) == 0)
		v += 7;
	if (!addr_ok(v) || copy_field(dst, size, v, 0) < 0)
		return -1;
	for (i = 0; dst[i]; i++)
		dst[i] = (char)tolower((unsigned char)dst[i]);
	return 0;
}

/* The VCALENDAR of a parse: the root itself, or the only VCALENDAR of an
 * XROOT (what the parser returns for several top-level components). */
static icalcomponent *
the_vcalendar(icalcomponent *root, struct err *e)
{
	icalcomponent *c, *found = NULL;
	int n = 0;

	if (root == NULL) {
		/* libical gives nothing back without the END:VCALENDAR */
		err_set(e, "not a complete iCalendar object");
		return NULL;
	}
	if (icalcomponent_isa(root) == ICAL_VCALENDAR_COMPONENT)
		return root;
	if (icalcomponent_isa(root) != ICAL_XROOT_COMPONENT) {
		err_set(e, "no VCALENDAR");
		return NULL;
	}
	for (c = icalcomponent_get_first_component(root, ICAL_VCALENDAR_COMPONENT); c;
	    c = icalcomponent_get_next_component(root, ICAL_VCALENDAR_COMPONENT)) {
		found = c;
		n++;
	}
	if (n != 1) {
		err_set(e, n == 0 ? "no VCALENDAR" : "several VCALENDARs");
		return NULL;
	}
	return found;
}

static int
read_reply(icalcomponent *cal, struct ical_reply *r, struct err *e)
{
	icalcomponent *ev, *c;
	icalproperty *p, *att = NULL;
	icalparameter *q;
	const char *s;
	int nev = 0, natt = 0;

	p = icalcomponent_get_first_property(cal, ICAL_METHOD_PROPERTY);
	if (p == NULL)
		return err_set(e, "not a REPLY (no METHOD)");
	if (icalproperty_get_method(p) != ICAL_METHOD_REPLY) {
		const char *m = icalproperty_method_to_string(icalproperty_get_method(p));
		return err_set(e, "not a REPLY (METHOD:%.20s)", m ? m : "?");
	}
	if ((p = icalcomponent_get_first_property(cal, ICAL_PRODID_PROPERTY)) != NULL &&
	    (s = icalproperty_get_prodid(p)) != NULL)
		copy_field(r->prodid, sizeof r->prodid, s, 1);

	ev = NULL;
	for (c = icalcomponent_get_first_component(cal, ICAL_VEVENT_COMPONENT); c;
	    c = icalcomponent_get_next_component(cal, ICAL_VEVENT_COMPONENT)) {
		ev = ev ? ev : c;
		nev++;
	}
	if (nev == 0)
		return err_set(e, "no VEVENT");
	if (nev > 1)
		return err_set(e, "several VEVENTs");

	p = icalcomponent_get_first_property(ev, ICAL_UID_PROPERTY);
	s = p ? icalproperty_get_uid(p) : NULL;
	if (s == NULL || s[0] == '\0')
		return err_set(e, "no UID");
	if (copy_field(r->uid, sizeof r->uid, s, 0) < 0)
		return err_set(e, "UID too long");

	for (p = icalcomponent_get_first_property(ev, ICAL_ATTENDEE_PROPERTY); p;
	    p = icalcomponent_get_next_property(ev, ICAL_ATTENDEE_PROPERTY)) {
		att = att ? att : p;
		natt++;
	}
	if (natt == 0)
		return err_set(e, "no ATTENDEE");
	if (natt > 1)
		return err_set(e, "several ATTENDEEs (a REPLY has exactly one)");
	if (reply_addr(r->attendee, sizeof r->attendee, icalproperty_get_attendee(att)) < 0)
		return err_set(e, "the ATTENDEE is not a mail address");

	q = icalproperty_get_first_parameter(att, ICAL_PARTSTAT_PARAMETER);
	switch (q ? icalparameter_get_partstat(q) : ICAL_PARTSTAT_NONE) {
	case ICAL_PARTSTAT_ACCEPTED:
		str_copy(r->partstat, "ACCEPTED", sizeof r->partstat);
		break;
	case ICAL_PARTSTAT_DECLINED:
		str_copy(r->partstat, "DECLINED", sizeof r->partstat);
		break;
	case ICAL_PARTSTAT_TENTATIVE:
		str_copy(r->partstat, "TENTATIVE", sizeof r->partstat);
		break;
	case ICAL_PARTSTAT_DELEGATED:
		str_copy(r->partstat, "DELEGATED", sizeof r->partstat);
		break;
	case ICAL_PARTSTAT_NONE:
		return err_set(e, "no PARTSTAT");
	default:
		return err_set(e, "PARTSTAT is not ACCEPTED, DECLINED, TENTATIVE or DELEGATED");
	}
	q = icalproperty_get_first_parameter(att, ICAL_DELEGATEDTO_PARAMETER);
	if (q && (s = icalparameter_get_delegatedto(q)) != NULL) {
		/* several delegates come as one list: the first is kept */
		char first[ADDR_MAX + 16];
		size_t k = strcspn(s, ",");

		if (k < sizeof first) {
			memcpy(first, s, k);
			first[k] = '\0';
			if (first[0] == '"' && k > 1 && first[k - 1] == '"') {
				first[k - 1] = '\0';
				memmove(first, first + 1, k - 1);
			}
			if (reply_addr(r->delegated_to, sizeof r->delegated_to, first) < 0)
				r->delegated_to[0] = '\0';
		}
	}

	if ((p = icalcomponent_get_first_property(ev, ICAL_SEQUENCE_PROPERTY)) != NULL) {
		int seq = icalproperty_get_sequence(p);
		r->sequence = seq < 0 ? 0 : seq;
	}
	if ((p = icalcomponent_get_first_property(ev, ICAL_DTSTART_PROPERTY)) != NULL &&
	    (q = icalproperty_get_first_parameter(p, ICAL_TZID_PARAMETER)) != NULL &&
	    (s = icalparameter_get_tzid(q)) != NULL)
		copy_field(r->tzid, sizeof r->tzid, s, 1);
	return 0;
}

static int
parse_reply(const char *ics, size_t len, struct ical_reply *r, struct err *e)
{
	icalcomponent *root, *cal;
	char *copy;
	int rc;

	ical_init();
	memset(r, 0, sizeof *r);
	if (ics == NULL || len == 0)
		return err_set(e, "empty calendar");
	if (len > REPLY_MAX)
		return err_set(e, "calendar larger than %d bytes", REPLY_MAX);
	if (memchr(ics, '\0', len) != NULL)
		return err_set(e, "NUL byte in the calendar");
	if ((copy = malloc(len + 1)) == NULL)
		return err_set(e, "out of memory");
	memcpy(copy, ics, len);
	copy[len] = '\0';
	root = icalparser_parse_string(copy);
	free(copy);
	if ((cal = the_vcalendar(root, e)) == NULL)
		rc = -1;
	else
		rc = read_reply(cal, r, e);
	if (root)
		icalcomponent_free(root);
	if (rc < 0)
		memset(r, 0, sizeof *r);
	return rc;
}

/* ---- the public functions, one at a time --------------------------------- */

/*
 * libical 3.0.16 reads its list of builtin zones without its own lock while
 * another thread adds a zone to it (ThreadSanitizer, with invites built in
 * the main loop and feeds in the HTTP thread at once): every call into
 * libical from this file holds this lock.
 */
static pthread_mutex_t ical_lock = PTHREAD_MUTEX_INITIALIZER;

int
ical_zone_known(const char *tzid)
{
	int rc;

	pthread_mutex_lock(&ical_lock);
	rc = zone_known(tzid);
	pthread_mutex_unlock(&ical_lock);
	return rc;
}

int
ical_local_to_utc(const char *tzid, int year, int month, int day, int hour, int minute,
    time_t *out, struct err *e)
{
	int rc;

	pthread_mutex_lock(&ical_lock);
	rc = local_to_utc(tzid, year, month, day, hour, minute, out, e);
	pthread_mutex_unlock(&ical_lock);
	return rc;
}

int
ical_format_local(time_t t, const char *tzid, char *out, size_t size)
{
	int rc;

	pthread_mutex_lock(&ical_lock);
	rc = format_local(t, tzid, out, size);
	pthread_mutex_unlock(&ical_lock);
	return rc;
}

char *
ical_build(const struct ical_event *ev, enum ical_method method, struct err *e)
{
	char *s;

	pthread_mutex_lock(&ical_lock);
	s = build(ev, method, e);
	pthread_mutex_unlock(&ical_lock);
	return s;
}

char *
ical_build_feed(const char *calname, const struct ical_event *evs, size_t n, struct err *e)
{
	char *s;

	pthread_mutex_lock(&ical_lock);
	s = build_feed(calname, evs, n, e);
	pthread_mutex_unlock(&ical_lock);
	return s;
}

int
ical_parse_reply(const char *ics, size_t len, struct ical_reply *r, struct err *e)
{
	int rc;

	pthread_mutex_lock(&ical_lock);
	rc = parse_reply(ics, len, r, e);
	pthread_mutex_unlock(&ical_lock);
	return rc;
}
