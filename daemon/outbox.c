#include "buildconf.h"

#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "outbox.h"

#define RETRY_FIRST 60			/* seconds before the first retry */
#define RETRY_MAX (6 * 3600)		/* never wait longer than this between tries */
#define GIVE_UP_AFTER (5 * 86400)	/* a mail still unsent after 5 days has failed */

static int
prepare(struct store *st, const char *sql, sqlite3_stmt **stmt, struct err *e)
{
	if (sqlite3_prepare_v2(store_db(st), sql, -1, stmt, NULL) != SQLITE_OK)
		return err_set(e, "outbox: %s", sqlite3_errmsg(store_db(st)));
	return 0;
}

int64_t
outbox_enqueue(struct store *st, const struct outbox_item *it, time_t now, struct err *e)
{
	sqlite3_stmt *s;
	int64_t id = -1;

	if (prepare(st, "INSERT INTO outbox (created_at, purpose, message_id, mail_from,"
	    " rcpt, msgid, data, next_attempt) VALUES (?, ?, ?, ?, ?, ?, ?, ?)", &s, e) < 0)
		return -1;
	sqlite3_bind_int64(s, 1, now);
	sqlite3_bind_text(s, 2, it->purpose, -1, SQLITE_STATIC);
	if (it->message_id > 0)
		sqlite3_bind_int64(s, 3, it->message_id);
	sqlite3_bind_text(s, 4, it->mail_from, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 5, it->rcpt, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 6, it->msgid, -1, SQLITE_STATIC);
	sqlite3_bind_blob(s, 7, it->data, (int)it->len, SQLITE_STATIC);
	sqlite3_bind_int64(s, 8, now);
	if (sqlite3_step(s) == SQLITE_DONE)
		id = sqlite3_last_insert_rowid(store_db(st));
	else
		err_set(e, "outbox: %s", sqlite3_errmsg(store_db(st)));
	sqlite3_finalize(s);
	return id;
}

/* One integer from a query with up to two bound values. */
static int64_t
query_int(struct store *st, const char *sql, const char *text, int64_t num, struct err *e)
{
	sqlite3_stmt *s;
	int64_t v = -1;

	if (prepare(st, sql, &s, e) < 0)
		return -1;
	if (text)
		sqlite3_bind_text(s, 1, text, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, text ? 2 : 1, num);
	if (sqlite3_step(s) == SQLITE_ROW)
		v = sqlite3_column_int64(s, 0);
	else
		err_set(e, "outbox: %s", sqlite3_errmsg(store_db(st)));
	sqlite3_finalize(s);
	return v;
}

int64_t
outbox_count_since(struct store *st, const char *rcpt, time_t since, struct err *e)
{
	return query_int(st, "SELECT count(*) FROM outbox WHERE rcpt = ? AND created_at >= ?",
	    rcpt, since, e);
}

int64_t
outbox_depth(struct store *st, time_t now, int64_t *oldest_age, struct err *e)
{
	int64_t oldest = query_int(st, "SELECT coalesce(? - min(created_at), 0) FROM outbox"
	    " WHERE state = 'queued'", NULL, now, e);

	if (oldest < 0)
		return -1;
	if (oldest_age)
		*oldest_age = oldest;
	return query_int(st, "SELECT count(*) FROM outbox WHERE state = 'queued'",
	    NULL, 0, e);
}

struct queued {
	int64_t id, created, attempts;
	char *from, *rcpt, *msgid, *data;
	size_t len;
};

static void
queued_free(struct queued *q)
{
	free(q->from);
	free(q->rcpt);
	free(q->msgid);
	free(q->data);
}

static char *
column_dup(sqlite3_stmt *s, int i)
{
	const void *p = sqlite3_column_blob(s, i);
	int n = sqlite3_column_bytes(s, i);
	char *out = malloc((size_t)n + 1);

	if (out) {
		if (n > 0)
			memcpy(out, p, (size_t)n);
		out[n] = '\0';
	}
	return out;
}

/* The oldest mail due now: 1 found, 0 none, -1 error. One at a time keeps
 * memory flat whatever the queue holds. */
static int
next_due(struct store *st, time_t now, struct queued *q, struct err *e)
{
	sqlite3_stmt *s;
	int r;

	if (prepare(st, "SELECT id, created_at, attempts, mail_from, rcpt, msgid, data"
	    " FROM outbox WHERE state = 'queued' AND next_attempt <= ? ORDER BY id LIMIT 1",
	    &s, e) < 0)
		return -1;
	sqlite3_bind_int64(s, 1, now);
	r = sqlite3_step(s);
	if (r == SQLITE_ROW) {
		q->id = sqlite3_column_int64(s, 0);
		q->created = sqlite3_column_int64(s, 1);
		q->attempts = sqlite3_column_int64(s, 2);
		q->from = column_dup(s, 3);
		q->rcpt = column_dup(s, 4);
		q->msgid = column_dup(s, 5);
		q->data = column_dup(s, 6);
		q->len = (size_t)sqlite3_column_bytes(s, 6);
		r = q->from && q->rcpt && q->msgid && q->data ? 1 : err_set(e, "out of memory");
	} else if (r == SQLITE_DONE)
		r = 0;
	else
		r = err_set(e, "outbox: %s", sqlite3_errmsg(store_db(st)));
	sqlite3_finalize(s);
	return r;
}

static int
mark(struct store *st, const struct queued *q, const char *state, time_t next,
    const char *error, time_t now, struct err *e)
{
	sqlite3_stmt *s;
	int r;

	if (prepare(st, "UPDATE outbox SET state = ?, attempts = attempts + 1,"
	    " next_attempt = ?, last_error = ?, sent_at = ? WHERE id = ?", &s, e) < 0)
		return -1;
	sqlite3_bind_text(s, 1, state, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, next);
	if (error)
		sqlite3_bind_text(s, 3, error, -1, SQLITE_STATIC);
	if (strcmp(state, "sent") == 0)
		sqlite3_bind_int64(s, 4, now);
	sqlite3_bind_int64(s, 5, q->id);
	r = sqlite3_step(s) == SQLITE_DONE ? 0
	    : err_set(e, "outbox: %s", sqlite3_errmsg(store_db(st)));
	sqlite3_finalize(s);
	return r;
}

static time_t
retry_delay(int64_t attempts)
{
	time_t d = RETRY_FIRST;

	for (int64_t i = 0; i < attempts && d < RETRY_MAX; i++)
		d *= 2;
	return d < RETRY_MAX ? d : RETRY_MAX;
}

/* Send one; returns 1 to go on, 0 to stop this round, -1 on a store error. */
static int
send_one(struct store *st, struct smtp *smtp, struct queued *q, time_t now,
    struct outbox_stats *stats, struct err *e)
{
	struct err se;
	enum smtp_status r = smtp_send(smtp, q->from, q->rcpt, q->data, q->len, &se);

	if (r == SMTP_SENT) {
		stats->sent++;
		log_info("event=sent rcpt=%s msgid=%s", q->rcpt, q->msgid);
		return mark(st, q, "sent", now, NULL, now, e) < 0 ? -1 : 1;
	}
	if (r == SMTP_PERMFAIL || now - q->created > GIVE_UP_AFTER) {
		stats->failed++;
		log_error("event=send status=failed rcpt=%s msgid=%s reason=\"%s\"",
		    q->rcpt, q->msgid, se.msg);
		return mark(st, q, "failed", now, se.msg, now, e) < 0 ? -1 : 1;
	}
	stats->deferred++;
	log_warn("event=send status=deferred rcpt=%s msgid=%s reason=\"%s\"", q->rcpt,
	    q->msgid, se.msg);
	/* the server is in trouble: the rest of the queue waits too */
	return mark(st, q, "queued", now + retry_delay(q->attempts), se.msg, now, e) < 0 ? -1 : 0;
}

int
outbox_flush(struct store *st, struct smtp *smtp, time_t now,
    volatile sig_atomic_t *stop, struct outbox_stats *stats, struct err *e)
{
	int r = 1;

	memset(stats, 0, sizeof *stats);
	while (r == 1 && !*stop) {
		struct queued q = { 0 };
		if ((r = next_due(st, now, &q, e)) == 1)
			r = send_one(st, smtp, &q, now, stats, e);
		queued_free(&q);
	}
	return r < 0 ? -1 : 0;
}
