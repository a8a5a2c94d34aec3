/*
 * ingest_job — what the steps of ingest share: the mail on its way through
 * (struct job) and the ways a step settles it (decide, answer). Internal to
 * ingest.c (the pipeline and submissions) and ingest_meeting.c (meeting
 * requests, changes and RSVPs); nothing else includes it.
 */
#ifndef MERCOMAIL_INGEST_JOB_H
#define MERCOMAIL_INGEST_JOB_H

#include <stdint.h>
#include <time.h>

#include "auth.h"
#include "config.h"
#include "form.h"
#include "mime.h"
#include "record.h"
#include "sender.h"
#include "store.h"
#include "template.h"

struct ingest {
	const struct config *cfg;
	struct store *st;
	struct form_set *forms;
	unsigned char *key;		/* signed reply addresses; NULL: none */
	size_t keylen;
	char local[128], domain[128];	/* of smtp.from */
};

/* One mail on its way through. */
struct job {
	struct ingest *in;
	int64_t msg_id;
	time_t now;
	struct mime_msg *m;
	struct sender who;		/* who.contact_id == 0: not in the roster */
	char *text;			/* what the sender wrote, trimmed */
	const struct form_def *form;
	struct form_record *rec;
	struct outcome out;
	int64_t replied_to;		/* the mail whose answer this replies to (signed), or 0 */
	struct auth_claim claim;	/* the signed address it was sent to, if has_claim */
	int has_claim;
	char reason[300];
	char lang[3];
	int answered;
};

#define TV(n, v) { (n), (v) }

/* An answer template and the variables it is rendered with (mercomaild -n
 * checks the files against these). */
struct answer_def {
	const char *name;
	const char *vars[7];
};

/* Settle the outcome: state and reason (and log it). Always returns 1 =
 * "decided", so steps can `return job_decide(...)`. */
int job_decide(struct job *j, enum msg_state state, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Add a remark to the reason. */
void job_note(struct job *j, const char *what);
/* Queue the answer made from template tmpl with vars. 0 (also when no
 * answer may be sent, which is noted in the reason) or -1 on a store error. */
int job_answer(struct job *j, const char *tmpl, const struct tvar *v, size_t n, struct err *e);
/* The language answers to this sender are in, and settle it in j->lang. */
const char *job_answer_lang(struct job *j);
const char *job_lang(struct job *j);
/* Fill j->text with what the sender wrote (quotes and signature cut). */
int job_read_body(struct job *j, struct err *e);
/* With require_dkim: 1 (rejected and answered) unless our border server
 * vouches for the sender's domain; 0 then; -1 on error. */
int job_unauthenticated(struct job *j, struct err *e);
/* Reject as not authorised for j->form, answered with why. Returns 1 or -1. */
int job_not_authorised(struct job *j, const char *why, struct err *e);

/* --- meetings (ingest_meeting.c); each returns 1 decided, 0 not theirs, -1 error */

/* An iTIP REPLY (a calendar app's Accept/Decline). */
int ingest_itip(struct job *j, struct err *e);
/* A plain reply to an invite's signed address (claim purpose "rsvp"). */
int ingest_rsvp(struct job *j, struct err *e);
/* A valid meeting request or cancellation (kinds "reunion", "cancelacion"),
 * including changes to a meeting named by reference or by the invite's
 * signed address. */
int ingest_meeting_form(struct job *j, struct err *e);
/* 1 if the kind of j->form is one of those. */
int ingest_is_meeting_form(const struct job *j);
/* Form errors that do not count for a change of a meeting (fields left out
 * stay as they were): drop them from j->rec. */
void ingest_meeting_relax(struct job *j);
/* Every time zone ical can write (the form look-up of timezone fields). */
int ingest_zone_known(void *ctx, const char *tzid);
/* The answer templates of meetings and their variables, for -n. */
extern const struct answer_def ingest_meeting_answers[];
extern const size_t ingest_meeting_nanswers;

/* --- membership applications (ingest_vote.c) */

/* 1 if the mail came through a ballot's signed address (claim purpose
 * "vote", "approve" or "reject"). */
int ingest_is_vote(const struct job *j);
/* A vote on an application: counted, or answered and not counted. 1 or -1. */
int ingest_vote(struct job *j, struct err *e);
/* After a submission of kind "adhesion" was recorded: open the application
 * and queue the ballots (nothing for other kinds). 0 or -1. */
int ingest_application_open(struct job *j, struct err *e);

#endif
