/*
 * ingest — what a newly fetched mail means, and the answer it gets.
 *
 * For each mail stored by sync, inside the same transaction: parse it
 * (mime), leave automatic mail unanswered (autoreply), believe only our own
 * border server's DKIM/SPF verdict (auth), check a signed reply address,
 * find the form (form), the sender and their roles (sender), validate,
 * record the outcome (record) and queue the answer (template, mailfmt,
 * outbox). Every mail ends as recorded, rejected, held or ignored, with a
 * reason; nothing is dropped.
 */
#ifndef MERCOMAIL_INGEST_H
#define MERCOMAIL_INGEST_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include "config.h"
#include "err.h"
#include "store.h"

struct ingest;

/* Load the forms and the token key named by cfg (which must outlive the
 * result). Problems with the forms go to diag as file:line. */
struct ingest *ingest_new(const struct config *cfg, struct store *st, FILE *diag,
    struct err *e);
void ingest_free(struct ingest *in);		/* accepts NULL */

/* Check that every answer template in dir (es and pt) loads, names only the
 * variables it is given, and renders. Problems go to diag as path:line;
 * returns how many there were. */
int ingest_check_templates(const char *dir, FILE *diag);

/*
 * Decide about the stored message msg_id (raw bytes given), record the
 * outcome and queue its answer. Runs inside the caller's transaction.
 * *state gets the final state. Returns 0, or -1 on a store error (the
 * caller rolls back; the mail stays on the server).
 */
int ingest_message(struct ingest *in, int64_t msg_id, const char *raw, size_t len,
    time_t now, enum msg_state *state, struct err *e);

#endif
