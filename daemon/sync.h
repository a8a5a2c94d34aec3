/*
 * sync — one pass over the IMAP inbox: every message there is fetched by UID,
 * stored raw in SQLite in one transaction, and only after the commit moved to
 * the processed folder (or the rejected folder). A crash between the commit
 * and the move leaves the mail in the inbox; the next pass finds it recorded
 * (by UID, or by Message-ID) and only moves it. At-least-once fetch,
 * exactly-once record.
 */
#ifndef MERCOMAIL_SYNC_H
#define MERCOMAIL_SYNC_H

#include <signal.h>

#include "config.h"
#include "err.h"
#include "imap.h"
#include "ingest.h"
#include "store.h"

struct sync_stats {
	unsigned seen;		/* messages found in the inbox */
	unsigned stored;	/* new rows */
	unsigned duplicates;	/* already recorded: only moved */
	unsigned rejected;	/* over the size limit, or rejected by ingest */
	unsigned recorded, held, ignored;	/* the other final states of new rows */
	unsigned moved;
};

/*
 * Run one pass; each new mail goes through in (when not NULL) in the same
 * transaction. Stops between two messages when *stop becomes non-zero.
 * Returns 0, or -1 with e set (imap_broken(im) tells a lost connection from
 * a refused command; a store error leaves the mail on the server).
 */
int sync_inbox(struct imap *im, struct store *st, struct ingest *in,
    const struct config_imap *cfg, volatile sig_atomic_t *stop, struct sync_stats *stats,
    struct err *e);

#endif
