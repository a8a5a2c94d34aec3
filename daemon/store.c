#include "buildconf.h"

#define _POSIX_C_SOURCE 200809L	/* strdup */

#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "schema.h"
#include "store.h"

/* Every statement of the module, prepared once in store_open(). */
enum stmt_id {
	S_BEGIN, S_COMMIT, S_ROLLBACK,
	S_MSG_INSERT, S_MSG_ID_BY_MID, S_MSG_HAS_UID, S_MSG_STATE_BY_UID, S_MSG_COUNT_ALL, S_MSG_COUNT_STATE,
	S_FOLDER_GET, S_FOLDER_SET,
	S_AUDIT,
	S_COUNT
};

static const struct {
	const char *sql;
	int ncols;		/* the columns a step returns: checked at prepare time */
} stmt_defs[S_COUNT] = {
	[S_BEGIN] = { "BEGIN IMMEDIATE", 0 },
	[S_COMMIT] = { "COMMIT", 0 },
	[S_ROLLBACK] = { "ROLLBACK", 0 },
	[S_MSG_INSERT] = {
		"INSERT INTO messages (message_id, sha256, folder, uidvalidity, uid,"
		" received_at, size, truncated, raw, from_addr, subject, state, reason)"
		" VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)"
		" ON CONFLICT (message_id) DO NOTHING RETURNING id", 1 },
	[S_MSG_ID_BY_MID] = { "SELECT id FROM messages WHERE message_id = ?1", 1 },
	[S_MSG_HAS_UID] = {
		"SELECT 1 FROM messages WHERE folder = ?1 AND uidvalidity = ?2 AND uid = ?3"
		" LIMIT 1", 1 },
	[S_MSG_STATE_BY_UID] = {
		"SELECT state FROM messages WHERE folder = ?1 AND uidvalidity = ?2 AND uid = ?3"
		" ORDER BY id LIMIT 1", 1 },
	[S_MSG_COUNT_ALL] = { "SELECT count(*) FROM messages", 1 },
	[S_MSG_COUNT_STATE] = { "SELECT count(*) FROM messages WHERE state = ?1", 1 },
	[S_FOLDER_GET] = {
		"SELECT uidvalidity, last_uid FROM imap_folders WHERE folder = ?1", 2 },
	[S_FOLDER_SET] = {
		"INSERT INTO imap_folders (folder, uidvalidity, last_uid, synced_at)"
		" VALUES (?1, ?2, ?3, ?4) ON CONFLICT (folder) DO UPDATE SET"
		" uidvalidity = excluded.uidvalidity, last_uid = excluded.last_uid,"
		" synced_at = excluded.synced_at", 0 },
	[S_AUDIT] = {
		"INSERT INTO audit_log (at, actor, action, object, detail)"
		" VALUES (?1, ?2, ?3, ?4, ?5)", 0 },
};

struct store {
	sqlite3 *db;
	char *path;
	int version;
	sqlite3_stmt *stmt[S_COUNT];
};

static const char *const state_names[] = {
	[MSG_NEW] = "new",
	[MSG_RECORDED] = "recorded",
	[MSG_REJECTED] = "rejected",
	[MSG_HELD] = "held",
	[MSG_IGNORED] = "ignored",
};
#define NSTATES ((int)(sizeof state_names / sizeof state_names[0]))

const char *
store_state_name(enum msg_state s)
{
	if ((int)s < 0 || (int)s >= NSTATES)
		return "unknown";
	return state_names[s];
}

int
store_state_parse(const char *s)
{
	if (s == NULL)
		return -1;
	for (int i = 0; i < NSTATES; i++)
		if (strcmp(s, state_names[i]) == 0)
			return i;
	return -1;
}

/* Done with a statement: reset it and drop the bindings (they may point
 * into the caller's memory, bound with SQLITE_STATIC). */
static void
stmt_done(sqlite3_stmt *s)
{
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
}

static int
db_fail(struct store *st, struct err *e, const char *what)
{
	return err_set(e, "%s: %s: %s", st->path, what, sqlite3_errmsg(st->db));
}

/* Run SQL without results (pragmas, migrations). */
static int
exec_sql(struct store *st, const char *sql, const char *what, struct err *e)
{
	char *msg = NULL;

	if (sqlite3_exec(st->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		err_set(e, "%s: %s: %s", st->path, what, msg ? msg : sqlite3_errmsg(st->db));
		sqlite3_free(msg);
		return -1;
	}
	return 0;
}

/* A pragma that returns one value: copy it as text (may be empty). */
static int
pragma_text(struct store *st, const char *sql, char *buf, size_t size, struct err *e)
{
	sqlite3_stmt *s = NULL;
	int rc;

	if (sqlite3_prepare_v2(st->db, sql, -1, &s, NULL) != SQLITE_OK)
		return db_fail(st, e, sql);
	buf[0] = '\0';
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		const unsigned char *t = sqlite3_column_text(s, 0);
		str_copy(buf, t ? (const char *)t : "", size);
		rc = sqlite3_step(s);
	}
	if (rc != SQLITE_DONE) {
		db_fail(st, e, sql);
		sqlite3_finalize(s);
		return -1;
	}
	sqlite3_finalize(s);
	return 0;
}

static int
read_user_version(struct store *st, int *version, struct err *e)
{
	char buf[32];

	if (pragma_text(st, "PRAGMA user_version", buf, sizeof buf, e) < 0)
		return -1;
	*version = atoi(buf);
	return 0;
}

/*
 * Apply each migration newer than the database, each in its own transaction
 * together with its PRAGMA user_version. The version is read again inside the
 * transaction (BEGIN IMMEDIATE holds the write lock), so two processes opening
 * a new database at the same time do not both apply the same migration.
 */
static int
migrate(struct store *st, struct err *e)
{
	char what[128];
	int version, latest = 0;

	for (unsigned i = 0; i < schema_migration_count; i++)
		if (schema_migrations[i].version > latest)
			latest = schema_migrations[i].version;

	if (read_user_version(st, &version, e) < 0)
		return -1;
	if (version > latest)
		return err_set(e, "%s: the database has schema version %d, newer than "
		    "this mercomail knows (%d): use a newer mercomail", st->path,
		    version, latest);

	for (unsigned i = 0; i < schema_migration_count; i++) {
		const struct migration *m = &schema_migrations[i];
		char sql[64];

		if (m->version <= version)
			continue;
		snprintf(what, sizeof what, "schema migration %s", m->name);
		if (exec_sql(st, "BEGIN IMMEDIATE", what, e) < 0)
			return -1;
		if (read_user_version(st, &version, e) < 0)
			goto fail;
		if (m->version <= version) {		/* another process was faster */
			if (exec_sql(st, "COMMIT", what, e) < 0)
				goto fail;
			continue;
		}
		if (exec_sql(st, m->sql, what, e) < 0)
			goto fail;
		snprintf(sql, sizeof sql, "PRAGMA user_version = %d", m->version);
		if (exec_sql(st, sql, what, e) < 0)
			goto fail;
		if (exec_sql(st, "COMMIT", what, e) < 0)
			goto fail;
		version = m->version;
	}
	st->version = version;
	return 0;
fail:
	sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
	return -1;
}

struct store *
store_open(const char *path, struct err *e)
{
	struct store *st;
	char buf[32];
	int rc;

	if (path == NULL || *path == '\0') {
		err_set(e, "no database path");
		return NULL;
	}
	st = calloc(1, sizeof *st);
	if (st == NULL || (st->path = strdup(path)) == NULL) {
		free(st);
		err_set(e, "%s: out of memory", path);
		return NULL;
	}

	rc = sqlite3_open_v2(path, &st->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL);
	if (rc != SQLITE_OK) {
		err_set(e, "%s: cannot open the database: %s", path,
		    st->db ? sqlite3_errmsg(st->db) : sqlite3_errstr(rc));
		goto fail;
	}
	sqlite3_extended_result_codes(st->db, 1);
	/* The daemon and the CLI share the file: wait for each other's locks. */
	sqlite3_busy_timeout(st->db, 5000);

	if (pragma_text(st, "PRAGMA journal_mode = WAL", buf, sizeof buf, e) < 0)
		goto fail;
	if (strcmp(buf, "wal") != 0 && strcmp(buf, "memory") != 0) {
		err_set(e, "%s: cannot switch to WAL journal mode (got '%s')", path, buf);
		goto fail;
	}
	/*
	 * synchronous = FULL, not NORMAL: with NORMAL in WAL mode a commit is not
	 * synced until the next checkpoint, so a power cut can undo it. Once a
	 * message is committed we flag it and move it away on IMAP; losing that
	 * commit would lose the mail for good. sync commits a group of mails
	 * per transaction, so this is one fsync per group, not per mail.
	 */
	if (exec_sql(st, "PRAGMA synchronous = FULL", "set synchronous", e) < 0)
		goto fail;
	/* 512 KiB of page cache: the daemon touches a few pages per mail, and a
	 * mail server's neighbour should not pay for a bigger one */
	if (exec_sql(st, "PRAGMA cache_size = -512", "set the cache size", e) < 0)
		goto fail;
	if (exec_sql(st, "PRAGMA foreign_keys = ON", "enable foreign keys", e) < 0)
		goto fail;
	if (pragma_text(st, "PRAGMA foreign_keys", buf, sizeof buf, e) < 0)
		goto fail;
	if (strcmp(buf, "1") != 0) {
		err_set(e, "%s: this SQLite does not enforce foreign keys", path);
		goto fail;
	}

	if (migrate(st, e) < 0)
		goto fail;

	for (int i = 0; i < S_COUNT; i++) {
		if (sqlite3_prepare_v3(st->db, stmt_defs[i].sql, -1, SQLITE_PREPARE_PERSISTENT,
		    &st->stmt[i], NULL) != SQLITE_OK) {
			db_fail(st, e, "prepare statement");
			goto fail;
		}
		if (sqlite3_column_count(st->stmt[i]) != stmt_defs[i].ncols) {
			err_set(e, "%s: statement %d returns %d columns, expected %d", path, i,
			    sqlite3_column_count(st->stmt[i]), stmt_defs[i].ncols);
			goto fail;
		}
	}
	return st;
fail:
	store_close(st);
	return NULL;
}

void
store_close(struct store *st)
{
	if (st == NULL)
		return;
	for (int i = 0; i < S_COUNT; i++)
		sqlite3_finalize(st->stmt[i]);
	sqlite3_close(st->db);		/* rolls back an open transaction */
	free(st->path);
	free(st);
}

int
store_schema_version(struct store *st)
{
	return st->version;
}

sqlite3 *
store_db(struct store *st)
{
	return st->db;
}

/* Step a statement that returns no rows, then reset it. */
static int
step_done(struct store *st, enum stmt_id id, const char *what, struct err *e)
{
	sqlite3_stmt *s = st->stmt[id];
	int rc = sqlite3_step(s);

	if (rc != SQLITE_DONE) {
		db_fail(st, e, what);
		stmt_done(s);
		return -1;
	}
	stmt_done(s);
	return 0;
}

int
store_begin(struct store *st, struct err *e)
{
	return step_done(st, S_BEGIN, "begin transaction", e);
}

int
store_commit(struct store *st, struct err *e)
{
	return step_done(st, S_COMMIT, "commit", e);
}

void
store_rollback(struct store *st)
{
	/* Harmless when no transaction is open (SQLite may have rolled back itself). */
	if (!sqlite3_get_autocommit(st->db))
		step_done(st, S_ROLLBACK, "rollback", NULL);
}

static int
bind_text(sqlite3_stmt *s, int i, const char *v)
{
	return v ? sqlite3_bind_text(s, i, v, -1, SQLITE_STATIC) : sqlite3_bind_null(s, i);
}

int
store_message_add(struct store *st, const struct store_msg *m, int64_t *id, struct err *e)
{
	sqlite3_stmt *s = st->stmt[S_MSG_INSERT];
	int rc, ret;

	if (m->message_id == NULL || *m->message_id == '\0' || m->sha256 == NULL ||
	    m->folder == NULL || (m->raw == NULL && m->raw_len > 0))
		return err_set(e, "store message: missing message id, hash, folder or data");
	if ((int)m->state < 0 || (int)m->state >= NSTATES)
		return err_set(e, "store message: bad state %d", (int)m->state);
	if (m->size > INT64_MAX || m->raw_len > INT64_MAX)
		return err_set(e, "store message: too large");

	if (bind_text(s, 1, m->message_id) != SQLITE_OK ||
	    bind_text(s, 2, m->sha256) != SQLITE_OK ||
	    bind_text(s, 3, m->folder) != SQLITE_OK ||
	    sqlite3_bind_int64(s, 4, m->uidvalidity) != SQLITE_OK ||
	    sqlite3_bind_int64(s, 5, m->uid) != SQLITE_OK ||
	    sqlite3_bind_int64(s, 6, (sqlite3_int64)m->received) != SQLITE_OK ||
	    sqlite3_bind_int64(s, 7, (sqlite3_int64)m->size) != SQLITE_OK ||
	    sqlite3_bind_int(s, 8, m->truncated ? 1 : 0) != SQLITE_OK ||
	    /* A NULL pointer would bind NULL: an empty message is an empty blob. */
	    (m->raw_len == 0 ? sqlite3_bind_zeroblob(s, 9, 0)
		: sqlite3_bind_blob64(s, 9, m->raw, m->raw_len, SQLITE_STATIC)) != SQLITE_OK ||
	    bind_text(s, 10, m->from_addr) != SQLITE_OK ||
	    bind_text(s, 11, m->subject) != SQLITE_OK ||
	    bind_text(s, 12, state_names[m->state]) != SQLITE_OK ||
	    bind_text(s, 13, m->reason) != SQLITE_OK) {
		db_fail(st, e, "store message: bind");
		stmt_done(s);
		return -1;
	}

	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {			/* inserted: RETURNING id */
		if (id != NULL)
			*id = sqlite3_column_int64(s, 0);
		rc = sqlite3_step(s);
		ret = 1;
	} else {
		ret = 0;
	}
	if (rc != SQLITE_DONE) {
		db_fail(st, e, "store message");
		stmt_done(s);
		return -1;
	}
	stmt_done(s);
	if (ret == 1 || id == NULL)
		return ret;

	/* Already there: find the existing row. */
	s = st->stmt[S_MSG_ID_BY_MID];
	if (bind_text(s, 1, m->message_id) != SQLITE_OK) {
		db_fail(st, e, "look up message: bind");
		stmt_done(s);
		return -1;
	}
	rc = sqlite3_step(s);
	if (rc != SQLITE_ROW) {
		if (rc == SQLITE_DONE)
			err_set(e, "%s: look up message: row vanished", st->path);
		else
			db_fail(st, e, "look up message");
		stmt_done(s);
		return -1;
	}
	*id = sqlite3_column_int64(s, 0);
	stmt_done(s);
	return 0;
}

int
store_message_has_uid(struct store *st, const char *folder, uint32_t uidvalidity,
    uint32_t uid, struct err *e)
{
	sqlite3_stmt *s = st->stmt[S_MSG_HAS_UID];
	int rc;

	if (bind_text(s, 1, folder) != SQLITE_OK ||
	    sqlite3_bind_int64(s, 2, uidvalidity) != SQLITE_OK ||
	    sqlite3_bind_int64(s, 3, uid) != SQLITE_OK) {
		db_fail(st, e, "look up uid: bind");
		stmt_done(s);
		return -1;
	}
	rc = sqlite3_step(s);
	stmt_done(s);
	if (rc == SQLITE_ROW)
		return 1;
	if (rc == SQLITE_DONE)
		return 0;
	return db_fail(st, e, "look up uid");
}

int
store_message_state_by_uid(struct store *st, const char *folder, uint32_t uidvalidity,
    uint32_t uid, struct err *e)
{
	sqlite3_stmt *s = st->stmt[S_MSG_STATE_BY_UID];
	int rc, state;

	if (bind_text(s, 1, folder) != SQLITE_OK ||
	    sqlite3_bind_int64(s, 2, uidvalidity) != SQLITE_OK ||
	    sqlite3_bind_int64(s, 3, uid) != SQLITE_OK) {
		db_fail(st, e, "look up uid: bind");
		stmt_done(s);
		return -2;
	}
	rc = sqlite3_step(s);
	if (rc == SQLITE_DONE) {
		stmt_done(s);
		return -1;
	}
	if (rc != SQLITE_ROW) {
		db_fail(st, e, "look up uid");
		stmt_done(s);
		return -2;
	}
	state = store_state_parse((const char *)sqlite3_column_text(s, 0));
	stmt_done(s);
	if (state < 0) {
		err_set(e, "%s: message %s/%u/%u has an unknown state", st->path,
		    folder, uidvalidity, uid);
		return -2;
	}
	return state;
}

int64_t
store_message_count(struct store *st, int state, struct err *e)
{
	sqlite3_stmt *s;
	int64_t n;

	if (state >= NSTATES)
		return err_set(e, "count messages: bad state %d", state);
	if (state < 0) {
		s = st->stmt[S_MSG_COUNT_ALL];
	} else {
		s = st->stmt[S_MSG_COUNT_STATE];
		if (bind_text(s, 1, state_names[state]) != SQLITE_OK) {
			db_fail(st, e, "count messages: bind");
			stmt_done(s);
			return -1;
		}
	}
	if (sqlite3_step(s) != SQLITE_ROW) {
		db_fail(st, e, "count messages");
		stmt_done(s);
		return -1;
	}
	n = sqlite3_column_int64(s, 0);
	stmt_done(s);
	return n;
}

int
store_folder_get(struct store *st, const char *folder, uint32_t *uidvalidity,
    uint32_t *last_uid, struct err *e)
{
	sqlite3_stmt *s = st->stmt[S_FOLDER_GET];
	int rc;

	if (bind_text(s, 1, folder) != SQLITE_OK) {
		db_fail(st, e, "folder state: bind");
		stmt_done(s);
		return -1;
	}
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		if (uidvalidity != NULL)
			*uidvalidity = (uint32_t)sqlite3_column_int64(s, 0);
		if (last_uid != NULL)
			*last_uid = (uint32_t)sqlite3_column_int64(s, 1);
		stmt_done(s);
		return 1;
	}
	if (rc != SQLITE_DONE) {
		db_fail(st, e, "folder state");
		stmt_done(s);
		return -1;
	}
	stmt_done(s);
	return 0;
}

int
store_folder_set(struct store *st, const char *folder, uint32_t uidvalidity,
    uint32_t last_uid, time_t now, struct err *e)
{
	sqlite3_stmt *s = st->stmt[S_FOLDER_SET];

	if (folder == NULL)
		return err_set(e, "folder state: no folder");
	if (bind_text(s, 1, folder) != SQLITE_OK ||
	    sqlite3_bind_int64(s, 2, uidvalidity) != SQLITE_OK ||
	    sqlite3_bind_int64(s, 3, last_uid) != SQLITE_OK ||
	    sqlite3_bind_int64(s, 4, (sqlite3_int64)now) != SQLITE_OK) {
		db_fail(st, e, "folder state: bind");
		stmt_done(s);
		return -1;
	}
	return step_done(st, S_FOLDER_SET, "save folder state", e);
}

int
store_audit(struct store *st, time_t now, const char *actor, const char *action,
    const char *object, const char *detail, struct err *e)
{
	sqlite3_stmt *s = st->stmt[S_AUDIT];

	if (actor == NULL || action == NULL)
		return err_set(e, "audit: no actor or action");
	if (sqlite3_bind_int64(s, 1, (sqlite3_int64)now) != SQLITE_OK ||
	    bind_text(s, 2, actor) != SQLITE_OK ||
	    bind_text(s, 3, action) != SQLITE_OK ||
	    bind_text(s, 4, object) != SQLITE_OK ||
	    bind_text(s, 5, detail) != SQLITE_OK) {
		db_fail(st, e, "audit: bind");
		stmt_done(s);
		return -1;
	}
	return step_done(st, S_AUDIT, "write audit log", e);
}
