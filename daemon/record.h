/*
 * record — write down what a mail turned out to be: its final state and
 * reason, the fields parsed from it, the problems found, and the submission
 * with its reference number. Runs inside the caller's transaction.
 */
#ifndef MERCOMAIL_RECORD_H
#define MERCOMAIL_RECORD_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "err.h"
#include "store.h"

struct outcome {
	enum msg_state state;
	const char *reason;	/* may be NULL */
	const char *kind;	/* form kind, may be NULL */
	int64_t contact_id;	/* 0: none */
	const char *sender;	/* normalised From, may be NULL */
	const char *lang;	/* language of the answer, may be NULL */
	const char *body;	/* the trimmed text, may be NULL */
};

int record_outcome(struct store *st, int64_t msg_id, const struct outcome *o, time_t now,
    struct err *e);
int record_field(struct store *st, int64_t msg_id, const char *field, const char *value,
    int line, struct err *e);
int record_problem(struct store *st, int64_t msg_id, int seq, const char *text, struct err *e);

/* The form kind recorded for message msg_id into kind (size bytes): 1 if it
 * has one, 0 if not, -1 on error. */
int record_kind_of(struct store *st, int64_t msg_id, char *kind, size_t size, struct err *e);

/* A valid submission; ref gets its reference, "MC-YYYY-NNNNNN". */
int record_submission(struct store *st, int64_t msg_id, const char *kind, int64_t contact_id,
    int64_t city_id, const char *unit_slug, const char *title, time_t now, char ref[32],
    struct err *e);

#endif
