/*
 * meeting — meetings of the units and bodies: who is invited, the invites
 * and cancels sent through the outbox (iMIP, built by ical), the sequence
 * numbers, and the answers (PARTSTAT) that come back.
 *
 * Every function runs inside the caller's transaction: the meeting change
 * and the mails it causes are committed together or not at all.
 *
 * Invitees: the members of the unit or body (every contact of every member
 * city; for bodies the same through unit_members), plus extra cities or
 * addresses. Each invitee gets one mail in their language with a reply
 * address signed for them (purpose "rsvp", object = the meeting id), so a
 * plain "confirmo" is theirs; calendar apps answer the ORGANIZER instead
 * (the bare smtp.from), with an iTIP REPLY that names the ATTENDEE.
 *
 * Roles (ROLE= of each ATTENDEE): the contact who asked for the meeting is
 * CHAIR (added as an invitee if their city is not a member); without one
 * (a meeting made from the CLI) the contacts of the unit's coordinator
 * city are CHAIR. The other members are REQ-PARTICIPANT. Extra invitees
 * are guests, OPT-PARTICIPANT, unless they are members anyway. The list of
 * invitees is fixed when the meeting is created.
 *
 * The mails themselves are written by invite.c (layout and reasons there).
 */
#ifndef MERCOMAIL_MEETING_H
#define MERCOMAIL_MEETING_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "config.h"
#include "err.h"
#include "store.h"

/* What sending needs: smtp.from, mail.name, templates, token_days, and the
 * token key (NULL: invites go without a signed reply address). */
struct meeting_env {
	const struct config *cfg;
	const unsigned char *key;
	size_t keylen;
	const char *actor;	/* for the audit log ("cli", an address); NULL: "daemon" */
};

struct meeting_spec {
	const char *unit;		/* slug of the unit or body */
	const char *title;
	time_t start, end;		/* UTC seconds, end > start */
	const char *tzid;		/* IANA zone; NULL: the organiser city's zone */
	const char *location;		/* may be NULL (then url is needed) */
	const char *url;		/* online link, may be NULL */
	const char *agenda;		/* may be NULL */
	int64_t organizer_id;		/* the contact who asked; 0: the secretariat (CLI) */
	int64_t message_id;		/* the request mail; 0: from the CLI */
	const char *const *extra;	/* more invitees: city names or addresses */
	size_t nextra;
	int alarm_minutes;		/* VALARM before start; -1: the default (1440) */
};

/* Create a meeting and queue an invite (METHOD:REQUEST) to every invitee.
 * *id and ref ("RE-YYYY-NNNN") are set. -1 with e set on a bad spec (unknown
 * unit, zone, city; end before start) or a store error. */
int meeting_create(struct store *st, const struct meeting_env *env,
    const struct meeting_spec *sp, time_t now, int64_t *id, char ref[32], struct err *e);

/* Check sp as meeting_create would (unit, zone, times, title, place, link,
 * every extra invitee), writing nothing: 0, or -1 with e set to a reason
 * fit for the person who asked (English). A store error also gives -1.
 * Lets a caller tell a bad request (answer it) from a failure (retry). */
int meeting_check(struct store *st, const struct meeting_env *env,
    const struct meeting_spec *sp, struct err *e);

/* A change: fields left 0 / NULL stay as they are; "" clears location,
 * url or agenda (a meeting keeps a location or a url). */
struct meeting_change {
	const char *title;
	time_t start, end;
	const char *tzid;
	const char *location;
	const char *url;
	const char *agenda;
};

/* Apply a change and send the new REQUEST to every invitee: SEQUENCE + 1
 * when the time or the place (location, url) changed, else the same
 * SEQUENCE with a new DTSTAMP. A new time or place also resets every
 * PARTSTAT to NEEDS-ACTION (RFC 5546 3.2.2: the answers were to the old
 * one; calendar apps ask again). 0, or -1 (a cancelled meeting cannot
 * change). */
int meeting_update(struct store *st, const struct meeting_env *env, int64_t id,
    const struct meeting_change *c, time_t now, struct err *e);

/* Check a change as meeting_update would (no such meeting, a cancelled one,
 * an end before the start, neither place nor link, ...), writing nothing:
 * 0, or -1 with e set. */
int meeting_check_change(struct store *st, int64_t id, const struct meeting_change *c,
    struct err *e);

/* Cancel: STATUS:CANCELLED, SEQUENCE + 1, METHOD:CANCEL to every invitee. */
int meeting_cancel(struct store *st, const struct meeting_env *env, int64_t id, time_t now,
    struct err *e);

/* The meeting named by a reference ("RE-2026-0001"), a UID or a numeric id:
 * 1 found (*id set), 0 not, -1 error. */
int meeting_find(struct store *st, const char *name, int64_t *id, struct err *e);

/* The unit slug and the organiser of meeting id (for authorising changes
 * by mail): 1 found, 0 not, -1 error. unit has room for 64 bytes. */
int meeting_owner(struct store *st, int64_t id, char unit[64], int64_t *organizer_id,
    struct err *e);

enum meeting_rsvp {
	RSVP_RECORDED,		/* the answer is recorded */
	RSVP_NOT_INVITED,	/* that address is not an invitee */
	RSVP_CANCELLED		/* the meeting was cancelled */
};

/* Record partstat (ACCEPTED, DECLINED, TENTATIVE, DELEGATED) for address
 * (normalised) on meeting id; via is "itip", "words" or "cli". Returns the
 * outcome, or -1 on a store error. */
int meeting_rsvp(struct store *st, int64_t id, const char *address, const char *partstat,
    const char *via, time_t now, struct err *e);

/* The times and zone of meeting id (for a change given in local time).
 * 1 found, 0 not, -1 error. */
int meeting_times(struct store *st, int64_t id, time_t *start, time_t *end, char tzid[64],
    struct err *e);

/* Title, reference and local start ("YYYY-MM-DD HH:MM Zone") of meeting id,
 * for answers. 1 found, 0 not, -1 error. */
int meeting_describe(struct store *st, int64_t id, char *title, size_t tsize,
    char ref[32], char *when, size_t wsize, struct err *e);

#endif
