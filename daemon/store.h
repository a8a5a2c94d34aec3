/*
 * store — the SQLite database: open it (WAL, foreign keys, busy timeout),
 * bring the schema up to date from the compiled-in migrations (PRAGMA
 * user_version), and the statements the pipeline needs.
 *
 * Every statement is prepared once at open time. Strings from mail are only
 * ever bound as parameters.
 */
#ifndef MERCOMAIL_STORE_H
#define MERCOMAIL_STORE_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <sqlite3.h>

#include "err.h"

struct store;

/* Open (creating the file if needed) and migrate. NULL on error. */
struct store *store_open(const char *path, struct err *e);
void store_close(struct store *st);		/* accepts NULL */

/* The schema version after migration (= the highest migration number). */
int store_schema_version(struct store *st);

/* The raw handle, for modules that run their own bound queries (roster, CLI). */
sqlite3 *store_db(struct store *st);

/* Transactions: BEGIN IMMEDIATE / COMMIT / ROLLBACK. */
int store_begin(struct store *st, struct err *e);
int store_commit(struct store *st, struct err *e);
void store_rollback(struct store *st);

enum msg_state { MSG_NEW, MSG_RECORDED, MSG_REJECTED, MSG_HELD, MSG_IGNORED };
const char *store_state_name(enum msg_state s);	/* "new", "recorded", ... */
int store_state_parse(const char *s);		/* -1 if unknown */

struct store_msg {
	const char *message_id;		/* Message-ID, or "sha256:<hex>" when the mail has none */
	const char *sha256;		/* hex SHA-256 of the raw bytes (or of the headers when truncated) */
	const unsigned char *raw;	/* the raw message, or only its header when truncated */
	size_t raw_len;
	size_t size;			/* the size of the whole message on the server */
	int truncated;			/* 1: raw holds only the header (over the size limit) */
	const char *folder;		/* where it was fetched from */
	uint32_t uidvalidity, uid;
	time_t received;		/* UTC seconds, when fetched */
	const char *from_addr;		/* header text as found, may be NULL */
	const char *subject;		/* header text as found, may be NULL */
	enum msg_state state;
	const char *reason;		/* may be NULL */
};

/*
 * Record a fetched message. Returns 1 when stored, 0 when a message with the
 * same message_id is already there (the mail was fetched before: a no-op),
 * -1 on error. *id (if not NULL) gets the row id of the new or existing row.
 */
int store_message_add(struct store *st, const struct store_msg *m, int64_t *id, struct err *e);

/* 1 if a message fetched from folder/uidvalidity/uid is recorded, 0 if not, -1 on error. */
int store_message_has_uid(struct store *st, const char *folder, uint32_t uidvalidity,
    uint32_t uid, struct err *e);

/* The state (enum msg_state) of the message fetched from folder/uidvalidity/uid;
 * -1 if there is none, -2 on error. */
int store_message_state_by_uid(struct store *st, const char *folder, uint32_t uidvalidity,
    uint32_t uid, struct err *e);

/* Count of messages (state < 0: all states). -1 on error. */
int64_t store_message_count(struct store *st, int state, struct err *e);

/* IMAP sync state of a folder. store_folder_get returns 1 if known, 0 if not. */
int store_folder_get(struct store *st, const char *folder, uint32_t *uidvalidity,
    uint32_t *last_uid, struct err *e);
int store_folder_set(struct store *st, const char *folder, uint32_t uidvalidity,
    uint32_t last_uid, time_t now, struct err *e);

/* Append to the audit log: who did what, on which object, with a detail line. */
int store_audit(struct store *st, time_t now, const char *actor, const char *action,
    const char *object, const char *detail, struct err *e);

#endif
