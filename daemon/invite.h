/*
 * invite — the mails of a meeting (iMIP, RFC 6047): one per invitee, in the
 * invitee's language, each queued in the outbox inside the caller's
 * transaction. The meeting module decides who is invited and with which
 * SEQUENCE; this module only writes the mails (templates/LANG/invite.*,
 * invite-update.*, cancel.*, and the iCalendar part built by ical).
 */
#ifndef MERCOMAIL_INVITE_H
#define MERCOMAIL_INVITE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include "err.h"
#include "meeting.h"
#include "store.h"

/* A meeting as the mails show it. Every string is borrowed. */
struct invite_meeting {
	int64_t id;
	int64_t message_id;		/* the mail that caused this change (outbox link), 0 */
	const char *reference;		/* RE-YYYY-NNNN */
	const char *uid;
	const char *title;
	const char *tzid;
	const char *location, *url, *agenda;	/* may be NULL */
	const char *unit_es, *unit_pt;	/* the unit's or body's name in each language */
	const char *organizer;		/* the contact who asked (SENT-BY), NULL: none */
	const char *organizer_name;	/* their name and city, may be NULL */
	time_t start, end;		/* UTC seconds */
	time_t changed;			/* the last change: DTSTAMP */
	int sequence;
	int alarm_minutes;		/* 0: no VALARM */
	unsigned changes;		/* INVITE_CHG_* bits, for an update's text */
};

#define INVITE_CHG_TIME		1u
#define INVITE_CHG_PLACE	2u	/* location or url */
#define INVITE_CHG_TITLE	4u
#define INVITE_CHG_AGENDA	8u

/* One invitee. */
struct invite_person {
	int64_t contact_id;		/* 0: not in the roster */
	int64_t city_id;		/* 0: none */
	char address[256];		/* normalised addr-spec */
	char name[192];			/* CN and To display name; "" if none */
	char lang[3];			/* "es" or "pt" */
	char role[16];			/* CHAIR, REQ-PARTICIPANT or OPT-PARTICIPANT */
	char partstat[16];		/* NEEDS-ACTION, ACCEPTED, ... */
};

enum invite_kind {
	INVITE_NEW,		/* METHOD:REQUEST, purpose "invite" */
	INVITE_UPDATE,		/* METHOD:REQUEST, purpose "invite-update" */
	INVITE_CANCEL		/* METHOD:CANCEL, STATUS:CANCELLED, purpose "cancel" */
};

/* Queue one mail of kind to each of the n people (every one of them is an
 * ATTENDEE of the calendar part). 0, or -1 with e set (a template that
 * does not load, a value ical or mailfmt refuse, a store error). */
int invite_queue(struct store *st, const struct meeting_env *env,
    const struct invite_meeting *m, const struct invite_person *p, size_t n,
    enum invite_kind kind, time_t now, struct err *e);

/* Load, check and render every invite template of dir (es and pt) with
 * sample values, writing each problem to diag. Returns the number of
 * problems (0: all good). For mercomaild -n. */
int invite_check_templates(const char *dir, FILE *diag);

#endif
