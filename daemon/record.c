#include "buildconf.h"

#include <stdio.h>

#include "record.h"

/* Prepare sql, bind texts and integers by the types string ('t' text,
 * 'i' int64 where 0 binds NULL, 'I' int64 always), step once. */
static int
exec(struct store *st, const char *sql, const char *types, const void *const *vals,
    struct err *e)
{
	sqlite3 *db = store_db(st);
	sqlite3_stmt *s;
	int r;

	if (sqlite3_prepare_v2(db, sql, -1, &s, NULL) != SQLITE_OK)
		return err_set(e, "record: %s", sqlite3_errmsg(db));
	for (int i = 0; types[i]; i++) {
		if (types[i] == 't')
			sqlite3_bind_text(s, i + 1, vals[i], -1, SQLITE_STATIC);
		else if (types[i] == 'I' || *(const int64_t *)vals[i] != 0)
			sqlite3_bind_int64(s, i + 1, *(const int64_t *)vals[i]);
	}
	r = sqlite3_step(s);
	r = r == SQLITE_DONE || r == SQLITE_ROW ? 0 : err_set(e, "record: %s", sqlite3_errmsg(db));
	sqlite3_finalize(s);
	return r;
}

int
record_outcome(struct store *st, int64_t msg_id, const struct outcome *o, time_t now,
    struct err *e)
{
	int64_t t = now;
	const void *v[] = { store_state_name(o->state), o->reason, o->kind, &o->contact_id,
	    o->sender, o->lang, o->body, &t, &msg_id };

	return exec(st, "UPDATE messages SET state = ?, reason = ?, kind = ?, contact_id = ?,"
	    " sender = ?, lang = ?, body = ?, processed_at = ? WHERE id = ?",
	    "tttitttII", v, e);
}

int
record_field(struct store *st, int64_t msg_id, const char *field, const char *value,
    int line, struct err *e)
{
	int64_t l = line;
	const void *v[] = { &msg_id, field, value, &l };

	return exec(st, "INSERT OR REPLACE INTO message_fields (message_id, field, value, line)"
	    " VALUES (?, ?, ?, ?)", "IttI", v, e);
}

int
record_problem(struct store *st, int64_t msg_id, int seq, const char *text, struct err *e)
{
	int64_t n = seq;
	const void *v[] = { &msg_id, &n, text };

	return exec(st, "INSERT OR REPLACE INTO message_problems (message_id, seq, text)"
	    " VALUES (?, ?, ?)", "IIt", v, e);
}

int
record_submission(struct store *st, int64_t msg_id, const char *kind, int64_t contact_id,
    int64_t city_id, const char *unit_slug, const char *title, time_t now, char ref[32],
    struct err *e)
{
	int64_t t = now, id;
	const void *v[] = { &msg_id, kind, &contact_id, &city_id, unit_slug, title, &t };
	struct tm tm;

	if (exec(st, "INSERT INTO submissions (message_id, kind, contact_id, city_id, unit_id,"
	    " title, created_at) VALUES (?, ?, ?, ?, (SELECT id FROM units WHERE slug = ?), ?, ?)",
	    "ItiittI", v, e) < 0)
		return -1;
	id = sqlite3_last_insert_rowid(store_db(st));
	gmtime_r(&now, &tm);
	/* the year and the row id: unique, short enough to quote on the phone */
	snprintf(ref, 32, "MC-%04d-%06lld", tm.tm_year + 1900, (long long)id);
	const void *u[] = { ref, &id };
	return exec(st, "UPDATE submissions SET reference = ? WHERE id = ?", "tI", u, e);
}

int
record_kind_of(struct store *st, int64_t msg_id, char *kind, size_t size, struct err *e)
{
	sqlite3 *db = store_db(st);
	sqlite3_stmt *s;
	int r;

	if (sqlite3_prepare_v2(db, "SELECT kind FROM messages WHERE id = ? AND kind IS NOT NULL",
	    -1, &s, NULL) != SQLITE_OK)
		return err_set(e, "record: %s", sqlite3_errmsg(db));
	sqlite3_bind_int64(s, 1, msg_id);
	r = sqlite3_step(s);
	if (r == SQLITE_ROW)
		snprintf(kind, size, "%s", (const char *)sqlite3_column_text(s, 0));
	r = r == SQLITE_ROW ? 1 : r == SQLITE_DONE ? 0 : err_set(e, "record: %s", sqlite3_errmsg(db));
	sqlite3_finalize(s);
	return r;
}
