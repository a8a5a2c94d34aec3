/*
 * application — membership applications (seed points 4 and 9).
 *
 * A valid membership application form (kind "adhesion", recorded as a
 * submission by ingest) opens an application. The deciding body ([governance]
 * decision: the Board 'comision-directiva' by default, or the Council
 * 'consejo') gets it: one mail to each contact of its member cities, in the
 * contact's language, with the form's fields and signed reply addresses
 * (auth.h purposes "approve", "reject" and, as Reply-To, "vote"; object =
 * the application, contact = that member). A reply through one of them is a
 * vote (ingest_vote.c); the words "apruebo / aprovo / approve" or "rechazo /
 * rejeito / reject" in it decide, else the address does. One vote per
 * member (the last stands), each in the audit log.
 *
 * Decision: more than half of the body's member contacts approve: approved;
 * so many reject that no majority can approve any more: rejected; still
 * pending [governance] vote_days after it opened: expired. On approval the
 * city and its contact enter the roster and the applicant gets a welcome
 * (how to send each form, the list commands, its city feed); the body is
 * told. On rejection or expiry the applicant is told, politely.
 *
 * Everything here runs inside the caller's transaction unless it says
 * otherwise; mails only go to the outbox.
 */
#ifndef MERCOMAIL_APPLICATION_H
#define MERCOMAIL_APPLICATION_H

#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include "config.h"
#include "err.h"
#include "store.h"

struct application_env {
	struct store *st;
	const struct config *cfg;
	const unsigned char *key;	/* signed reply addresses; NULL: ballots without them */
	size_t keylen;
	const char *actor;		/* for the audit log: "daemon", "cli:root", an address */
};

/* The slug of the deciding body under cfg. */
const char *application_body(const struct config *cfg);

/* Open the application of the adhesion submission recorded from message
 * msg_id and queue the ballots. Returns the application id, or -1. */
int64_t application_open(const struct application_env *env, int64_t msg_id, time_t now,
    struct err *e);

enum application_vote_status {
	APPLICATION_VOTE_COUNTED,	/* recorded (maybe replacing an earlier vote) */
	APPLICATION_VOTE_UNKNOWN,	/* no such application */
	APPLICATION_VOTE_DECIDED,	/* decided already: not counted */
	APPLICATION_VOTE_NOT_MEMBER	/* the voter is no member of the deciding body */
};

/* Cast contact_id's vote ("approve" or "reject") on application id, cast by
 * message msg_id (0: none), and decide when the rule is met. Returns an
 * enum application_vote_status, or -1 on error. state (if not NULL) gets the
 * application's state afterwards. */
int application_vote(const struct application_env *env, int64_t id, int64_t contact_id,
    const char *vote, int64_t msg_id, time_t now, char state[16], struct err *e);

/* Decide application id by hand or by expiry: verdict "approved",
 * "rejected" or "expired"; by "cli", "votes" or "expiry". 1 decided, 0 not
 * pending (nothing done), -1 error. */
int application_decide(const struct application_env *env, int64_t id, const char *verdict,
    const char *by, time_t now, struct err *e);

/* Expire every pending application past its deadline at now, each in its
 * own transaction (what mercomaild does each pass). *n gets how many. 0 or -1. */
int application_expire_due(const struct application_env *env, time_t now, unsigned *n,
    struct err *e);

/* The vote the words of a reply say: "approve", "reject", NULL for none,
 * "" when both appear (unclear). Pure. */
const char *application_vote_words(const char *text);

/* mercomaild -n: the texts of applications and votes (es, pt) load and name
 * only the values they are given. Problems to diag; returns how many. */
int application_check_templates(const char *dir, FILE *diag);

#endif
