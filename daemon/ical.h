/*
 * ical — iCalendar for meetings (pure: libical, no sockets, no SQLite, no
 * clock; every time is passed in as UTC seconds).
 *
 *  - Invites: a VCALENDAR with METHOD:REQUEST or METHOD:CANCEL (RFC 5546),
 *    one VEVENT and the VTIMEZONE of its TZID, written for Outlook too:
 *    one STANDARD (and DAYLIGHT when the zone has one) block, RRULE-based,
 *    no historic RDATEs, TZIDs without libical's prefix.
 *  - Feeds: METHOD:PUBLISH with X-WR-CALNAME, NAME, REFRESH-INTERVAL and
 *    X-PUBLISHED-TTL, one VTIMEZONE per TZID used.
 *  - Replies: the few properties of an iTIP REPLY that mercomail needs,
 *    read without merging or normalising the stranger's component.
 *
 * Text values (SUMMARY, LOCATION, DESCRIPTION, CN) may come from mail: they
 * are escaped and folded as RFC 5545 requires (75 octets, never inside a
 * UTF-8 sequence), so a CR or LF in them can never start a property.
 * Output has CRLF line ends.
 *
 * Any thread may call these: the calls are serialised by one lock inside
 * (libical's list of builtin zones is not safe to share). An invite takes
 * about 0.1 ms, a feed of 500 events about 6 ms (-O2, this machine).
 */
#ifndef MERCOMAIL_ICAL_H
#define MERCOMAIL_ICAL_H

#include <stddef.h>
#include <time.h>

#include "err.h"

struct ical_attendee {
	const char *address;	/* addr-spec, written as mailto: */
	const char *name;	/* CN; may be NULL */
	const char *role;	/* "CHAIR", "REQ-PARTICIPANT" (NULL) or "OPT-PARTICIPANT" */
	const char *partstat;	/* NULL: NEEDS-ACTION */
};

struct ical_event {
	const char *uid;		/* stable, e.g. "RE-2026-0001-...@red.test" */
	int sequence;
	time_t dtstamp;			/* UTC: when this version was made (the meeting's last change) */
	time_t start, end;		/* UTC seconds */
	const char *tzid;		/* IANA zone the times are written in */
	const char *summary;		/* may be NULL */
	const char *location;		/* may be NULL */
	const char *url;		/* online link; may be NULL */
	const char *description;	/* may be NULL */
	const char *organizer;		/* addr-spec (bare mailto:) */
	const char *organizer_name;	/* CN; may be NULL */
	const char *sent_by;		/* addr-spec of the coordinator, SENT-BY; may be NULL */
	int cancelled;			/* STATUS:CANCELLED (else CONFIRMED) */
	int alarm_minutes;		/* VALARM this long before start; 0: none */
	const struct ical_attendee *attendees;
	size_t nattendees;		/* feeds may give 0 */
};

enum ical_method { ICAL_REQUEST, ICAL_CANCEL };

/* Set libical up once: errors in input are not fatal. Every function here
 * calls it, so calling it first is optional. (libical 3.0.16 ignores an
 * empty TZID prefix; the TZIDs are written here, without prefix.) */
void ical_init(void);

/* 1 if tzid is an IANA zone libical can write a VTIMEZONE for (Debian's
 * libical reads /usr/share/zoneinfo; names with "..", a leading '/' or
 * characters other than letters, digits, _ - + / are refused). */
int ical_zone_known(const char *tzid);

/* Wall-clock time in tzid -> UTC seconds. -1 with e set for an unknown zone
 * or an impossible date. */
int ical_local_to_utc(const char *tzid, int year, int month, int day, int hour, int minute,
    time_t *out, struct err *e);

/* UTC seconds -> "YYYY-MM-DD HH:MM" in tzid, for texts. -1 on an unknown zone. */
int ical_format_local(time_t t, const char *tzid, char *out, size_t size);

/*
 * An invite or a cancel. Returns the iCalendar text (caller frees), or NULL
 * with e set: unknown zone, end before start, an organizer, SENT-BY or
 * attendee address that is not a plain addr-spec (blanks, controls, quotes
 * and , ; : < > are refused, not cleaned), an unknown ROLE or PARTSTAT, no
 * attendee, a UID with a control character or over 255 bytes.
 * DESCRIPTION gets the URL on a line of its own unless it holds it already;
 * the URL property is written only when url is a URI without blanks or
 * controls. REQUEST: RSVP=TRUE on each ATTENDEE, a VALARM when
 * alarm_minutes > 0. CANCEL: STATUS:CANCELLED, no RSVP, no VALARM.
 * The VTIMEZONE covers [start, end] (see ical.c for what libical gives).
 */
char *ical_build(const struct ical_event *ev, enum ical_method method, struct err *e);

/*
 * A feed of n events (n may be 0) named calname. Returns the iCalendar
 * text (caller frees), or NULL with e set ("event N: ..."). A feed is
 * public: it has no ATTENDEE (RFC 5546 has none in PUBLISH) and no RSVP;
 * STATUS follows ev->cancelled. One VTIMEZONE per TZID, covering that
 * zone's events, in TZID order. The bytes depend only on the arguments
 * (and the system's tzdata): same input, same output.
 */
char *ical_build_feed(const char *calname, const struct ical_event *evs, size_t n,
    struct err *e);

/* What an iTIP REPLY says. */
struct ical_reply {
	char uid[256];
	char attendee[256];	/* the ATTENDEE's address, mailto: removed, lower case */
	char partstat[16];	/* ACCEPTED, DECLINED, TENTATIVE or DELEGATED */
	char delegated_to[256];	/* DELEGATED-TO address, "" if none */
	int sequence;		/* 0 if absent */
	char prodid[128];	/* who made it, for the log */
	char tzid[64];		/* the DTSTART TZID as given (may be a Windows name), "" if none */
};

/*
 * Read an iTIP REPLY (at most 256 KiB, no NUL). Returns 0, or -1 with e set
 * to a reason fit for the sender: "not a complete iCalendar object",
 * "not a REPLY (METHOD:REQUEST)", "no VEVENT", "several VEVENTs", "no UID",
 * "UID too long", "no ATTENDEE", "several ATTENDEEs (a REPLY has exactly
 * one)", "the ATTENDEE is not a mail address", "no PARTSTAT", "PARTSTAT is
 * not ACCEPTED, DECLINED, TENTATIVE or DELEGATED". On -1, r is all zero.
 * Never crashes or leaks on malformed input (tests/fuzz/fuzz_itip.c).
 * libical prints a line on stderr for some malformed lines (compiled in,
 * cannot be turned off).
 */
int ical_parse_reply(const char *ics, size_t len, struct ical_reply *r, struct err *e);

#endif
