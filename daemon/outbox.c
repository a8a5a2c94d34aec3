#include "buildconf.h"

/*
 * outbox — see outbox.h.
 *
 * One row is one message to one recipient, so the row's state is that
 * recipient's state: 2xx sent, 5xx failed (for that recipient only), 4xx
 * queued again with a growing, jittered delay, and given up after
 * [smtp] retry_max_age. A connection that cannot be had (or that the server
 * drops) stops the round: every other row would meet the same fate.
 *
 * The one window for a duplicate: the server has accepted a message (the
 * final 250 after DATA) and the process dies before mark() commits "sent".
 * The row is still 'queued' and the next round sends it again. Each row is
 * marked right after its own transfer, in its own statement (autocommit,
 * synchronous = FULL: on disk before the next transfer starts), so at most
 * that one message is resent, never a batch, whether the process or the
 * whole machine went down; it keeps its Message-ID, so clients show it
 * once. Marking before sending would turn the duplicate into a loss, which
 * is worse. That fdatasync per mail costs about 0.7 ms here, against 3-4
 * ms for the SMTP transfer itself (bench/send): kept.
 */

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "bounce.h"
#include "log.h"
#include "outbox.h"

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
	    " rcpt, msgid, data, next_attempt, unit_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
	    &s, e) < 0)
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
	if (it->unit_id > 0)
		sqlite3_bind_int64(s, 9, it->unit_id);
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
	/* Only answers to mails rcpt sent count: digests, list mail and the
	 * invites of a meeting (invite.c's purposes; the organiser is invited
	 * too, by their own request) are no loop with that sender. */
	return query_int(st, "SELECT count(*) FROM outbox o JOIN messages m ON m.id = o.message_id"
	    " WHERE o.rcpt = ? AND o.created_at >= ? AND m.sender = o.rcpt"
	    " AND o.purpose NOT IN ('invite', 'invite-update', 'cancel')", rcpt, since, e);
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

int64_t
outbox_next_retry(struct store *st, struct err *e)
{
	/* rows never tried are sent by the flush after the next pass anyway */
	return query_int(st, "SELECT coalesce(min(next_attempt), 0) FROM outbox"
	    " WHERE state = 'queued' AND attempts > 0", NULL, 0, e);
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

/*
 * The statements of one flush, prepared once for all its rows. Due rows are
 * picked by id only, a batch at a time: the ORDER BY runs on the covering
 * index outbox_due (state, next_attempt, id), so the sort never carries the
 * mails' bytes (asking for `data` in that query made SQLite copy the whole
 * blob of every due row into its sorter for every mail sent: quadratic in
 * the queue). Each mail's bytes are then read by id, once. Memory stays flat
 * whatever the queue holds.
 */
#define DUE_BATCH 64

struct flush {
	sqlite3_stmt *due, *load, *mark;
	int64_t ids[DUE_BATCH];
	int nids, next;
	int64_t last;		/* highest id taken: each row at most once per round */
};

static const char sql_mark[] = "UPDATE outbox SET state = ?, attempts = attempts + 1,"
    " next_attempt = ?, last_error = ?, sent_at = ?, last_code = ? WHERE id = ?";

static void
flush_end(struct flush *f)
{
	sqlite3_finalize(f->due);
	sqlite3_finalize(f->load);
	sqlite3_finalize(f->mark);
}

static int
flush_begin(struct store *st, struct flush *f, struct err *e)
{
	memset(f, 0, sizeof *f);
	if (prepare(st, "SELECT id FROM outbox WHERE state = 'queued' AND next_attempt <= ?"
	    " AND id > ? ORDER BY id LIMIT ?", &f->due, e) < 0 ||
	    prepare(st, "SELECT created_at, attempts, mail_from, rcpt, msgid, data FROM outbox"
	    " WHERE id = ? AND state = 'queued' AND next_attempt <= ?", &f->load, e) < 0 ||
	    prepare(st, sql_mark, &f->mark, e) < 0) {
		flush_end(f);
		return -1;
	}
	return 0;
}

/* The next batch of due ids after f->last: how many, or -1. */
static int
due_batch(struct store *st, struct flush *f, time_t now, struct err *e)
{
	int r = SQLITE_DONE;

	f->nids = f->next = 0;
	sqlite3_bind_int64(f->due, 1, now);
	sqlite3_bind_int64(f->due, 2, f->last);
	sqlite3_bind_int(f->due, 3, DUE_BATCH);
	while (f->nids < DUE_BATCH && (r = sqlite3_step(f->due)) == SQLITE_ROW)
		f->ids[f->nids++] = sqlite3_column_int64(f->due, 0);
	sqlite3_reset(f->due);
	if (r != SQLITE_ROW && r != SQLITE_DONE)
		return err_set(e, "outbox: %s", sqlite3_errmsg(store_db(st)));
	return f->nids;
}

/* Row id into q if it is still queued and due (the CLI may have changed it
 * since the batch was read): 1 loaded, 0 not any more, -1 error. */
static int
load(struct store *st, struct flush *f, int64_t id, time_t now, struct queued *q,
    struct err *e)
{
	sqlite3_stmt *s = f->load;
	int r;

	sqlite3_bind_int64(s, 1, id);
	sqlite3_bind_int64(s, 2, now);
	r = sqlite3_step(s);
	if (r == SQLITE_ROW) {
		q->id = id;
		q->created = sqlite3_column_int64(s, 0);
		q->attempts = sqlite3_column_int64(s, 1);
		q->from = column_dup(s, 2);
		q->rcpt = column_dup(s, 3);
		q->msgid = column_dup(s, 4);
		q->data = column_dup(s, 5);
		q->len = (size_t)sqlite3_column_bytes(s, 5);
		r = q->from && q->rcpt && q->msgid && q->data ? 1 : err_set(e, "out of memory");
	} else if (r == SQLITE_DONE)
		r = 0;
	else
		r = err_set(e, "outbox: %s", sqlite3_errmsg(store_db(st)));
	sqlite3_reset(s);
	return r;
}

/* The oldest mail due now: 1 found, 0 none, -1 error. Rows are taken in id
 * order once per round, so a row that was just deferred (and might be due
 * again) is not retried in the same round. */
static int
next_due(struct store *st, struct flush *f, time_t now, struct queued *q, struct err *e)
{
	for (;;) {
		int r;

		if (f->next == f->nids && (r = due_batch(st, f, now, e)) <= 0)
			return r;
		f->last = f->ids[f->next++];
		if ((r = load(st, f, f->last, now, q, e)) != 0)
			return r;
	}
}

/* Bind and run a prepared sql_mark; the statement is reset for reuse. */
static int
mark_with(struct store *st, sqlite3_stmt *s, const struct queued *q, const char *state,
    time_t next, const char *error, long code, time_t now, struct err *e)
{
	int r;

	sqlite3_bind_text(s, 1, state, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, next);
	if (error)
		sqlite3_bind_text(s, 3, error, -1, SQLITE_STATIC);
	if (strcmp(state, "sent") == 0)
		sqlite3_bind_int64(s, 4, now);
	sqlite3_bind_int64(s, 5, code);
	sqlite3_bind_int64(s, 6, q->id);
	r = sqlite3_step(s) == SQLITE_DONE ? 0
	    : err_set(e, "outbox: %s", sqlite3_errmsg(store_db(st)));
	/* the bindings point into q and error: none may outlive this call */
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
	return r;
}

time_t
outbox_retry_delay(int64_t attempts, int first, int max, uint32_t rnd)
{
	int64_t d = first > 0 ? first : 1, jitter;

	for (int64_t i = 0; i < attempts && d < max; i++)
		d *= 2;
	if (d > max)
		d = max;
	/* up to a quarter more or less, so that mails deferred together (the
	 * server was down) do not all come back in the same second */
	jitter = d / 4;
	if (jitter > 0)
		d += (int64_t)(rnd % (uint32_t)(2 * jitter + 1)) - jitter;
	return (time_t)(d > 0 ? d : 1);
}

/* Send one; returns 1 to go on, 0 to stop this round, -1 on a store error. */
static int
send_one(struct store *st, struct flush *f, struct smtp *smtp, struct queued *q, time_t now,
    struct outbox_stats *stats, struct err *e)
{
	const struct config_smtp *c = smtp_config(smtp);
	struct err se;
	enum smtp_status r = smtp_send(smtp, q->from, q->rcpt, q->data, q->len, &se);
	long code = smtp_last_code(smtp);

	if (r == SMTP_SENT) {
		stats->sent++;
		log_info("event=sent rcpt=%s msgid=%s", q->rcpt, q->msgid);
		if (mark_with(st, f->mark, q, "sent", now, NULL, code, now, e) < 0) {
			stats->unmarked = q->id;	/* gone out: never send it again */
			return -1;
		}
		return 1;
	}
	if (r == SMTP_PERMFAIL || now - q->created >= c->retry_max_age) {
		stats->failed++;
		log_error("event=send status=failed rcpt=%s msgid=%s code=%ld reason=\"%s\"",
		    q->rcpt, q->msgid, code, se.msg);
		return mark_with(st, f->mark, q, "failed", now, se.msg, code, now, e) < 0 ? -1 : 1;
	}
	stats->deferred++;
	log_warn("event=send status=deferred rcpt=%s msgid=%s code=%ld reason=\"%s\"", q->rcpt,
	    q->msgid, code, se.msg);
	if (mark_with(st, f->mark, q, "queued", now + outbox_retry_delay(q->attempts,
	    c->retry_first, c->retry_max, arc4random()), se.msg, code, now, e) < 0)
		return -1;
	/* a 4xx for this recipient (mailbox full, greylisting) says nothing
	 * about the others; no connection at all does */
	return r == SMTP_UNREACHABLE ? 0 : 1;
}

int
outbox_mark_sent(struct store *st, int64_t id, time_t now, struct err *e)
{
	struct queued q = { .id = id };
	sqlite3_stmt *s;
	int r;

	if (prepare(st, sql_mark, &s, e) < 0)
		return -1;
	r = mark_with(st, s, &q, "sent", now, NULL, 250, now, e);
	sqlite3_finalize(s);
	return r;
}

int
outbox_flush(struct store *st, struct smtp *smtp, time_t now,
    volatile sig_atomic_t *stop, struct outbox_stats *stats, struct err *e)
{
	struct flush f;
	int r = 1;

	memset(stats, 0, sizeof *stats);
	if (flush_begin(st, &f, e) < 0)
		return -1;
	while (r == 1 && !*stop) {
		struct queued q = { 0 };
		if ((r = next_due(st, &f, now, &q, e)) == 1)
			r = send_one(st, &f, smtp, &q, now, stats, e);
		queued_free(&q);
	}
	flush_end(&f);
	return r < 0 ? -1 : 0;
}

/* ------------------------------------------------------------- bounces */

/* The outbox row a report is about: 1 found (id, rcpt copied), 0 not. */
static int
row_by_msgid(struct store *st, const char *msgid, int64_t *id, char *rcpt, size_t size,
    struct err *e)
{
	sqlite3_stmt *s;
	int r;

	if (prepare(st, "SELECT id, rcpt FROM outbox WHERE msgid = ?", &s, e) < 0)
		return -1;
	sqlite3_bind_text(s, 1, msgid, -1, SQLITE_STATIC);
	r = sqlite3_step(s);
	if (r == SQLITE_ROW) {
		*id = sqlite3_column_int64(s, 0);
		str_copy(rcpt, (const char *)sqlite3_column_text(s, 1), size);
		r = 1;
	} else {
		r = r == SQLITE_DONE ? 0 : err_set(e, "outbox: %s", sqlite3_errmsg(store_db(st)));
	}
	sqlite3_finalize(s);
	return r;
}

static int
record_bounce(struct store *st, int64_t report, int64_t row, const char *rcpt,
    const struct bounce_rcpt *br, int hard, time_t now, struct err *e)
{
	sqlite3_stmt *s;
	int r;

	if (prepare(st, "INSERT INTO bounces (at, message_id, outbox_id, address, action,"
	    " status, hard, diagnostic) VALUES (?, ?, ?, ?, ?, ?, ?, ?)", &s, e) < 0)
		return -1;
	sqlite3_bind_int64(s, 1, now);
	if (report > 0)
		sqlite3_bind_int64(s, 2, report);
	if (row > 0)
		sqlite3_bind_int64(s, 3, row);
	sqlite3_bind_text(s, 4, rcpt, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 5, br && br->action[0] ? br->action : hard ? "failed" : "delayed",
	    -1, SQLITE_STATIC);
	if (br && br->status[0])
		sqlite3_bind_text(s, 6, br->status, -1, SQLITE_STATIC);
	sqlite3_bind_int(s, 7, hard);
	if (br && br->diagnostic[0])
		sqlite3_bind_text(s, 8, br->diagnostic, -1, SQLITE_STATIC);
	r = sqlite3_step(s) == SQLITE_DONE ? 0
	    : err_set(e, "outbox: %s", sqlite3_errmsg(store_db(st)));
	sqlite3_finalize(s);
	if (r == 0 && hard && row > 0) {
		if (prepare(st, "UPDATE outbox SET state = 'failed', bounced_at = ?,"
		    " last_error = ? WHERE id = ?", &s, e) < 0)
			return -1;
		sqlite3_bind_int64(s, 1, now);
		sqlite3_bind_text(s, 2, br && br->diagnostic[0] ? br->diagnostic : "bounced",
		    -1, SQLITE_STATIC);
		sqlite3_bind_int64(s, 3, row);
		r = sqlite3_step(s) == SQLITE_DONE ? 0
		    : err_set(e, "outbox: %s", sqlite3_errmsg(store_db(st)));
		sqlite3_finalize(s);
	}
	return r;
}

/* The raw bytes of a stored message (caller frees), or NULL. */
static char *
message_raw(struct store *st, int64_t msg_id, size_t *len, struct err *e)
{
	sqlite3_stmt *s;
	char *raw = NULL;

	if (prepare(st, "SELECT raw FROM messages WHERE id = ?", &s, e) < 0)
		return NULL;
	sqlite3_bind_int64(s, 1, msg_id);
	if (sqlite3_step(s) == SQLITE_ROW) {
		raw = column_dup(s, 0);
		*len = (size_t)sqlite3_column_bytes(s, 0);
	}
	sqlite3_finalize(s);
	return raw;
}

/* A report that came back to the VERP address of rcpt: whatever address the
 * remote server names (a forward, a rewrite), the failure is rcpt's. Hard
 * when any recipient block says so, or a plain bounce that is not a delay
 * warning. The outbox row, when the report quotes its Message-ID. */
static int
note_verp(struct store *st, int64_t msg_id, const struct bounce *b, const char *rcpt,
    time_t now, struct err *e)
{
	const struct bounce_rcpt *br = b->nrcpt ? &b->rcpt[0] : NULL;
	char row_rcpt[256];
	int64_t row = 0;
	int hard = b->nrcpt ? 0 : !b->delayed;

	for (size_t i = 0; i < b->nrcpt; i++)
		if (bounce_rcpt_hard(&b->rcpt[i]) && !hard) {
			hard = 1;
			br = &b->rcpt[i];
		}
	if (b->orig_msgid[0] && row_by_msgid(st, b->orig_msgid, &row, row_rcpt, sizeof row_rcpt,
	    e) < 0)
		return -1;
	if (row > 0 && strcasecmp(row_rcpt, rcpt) != 0)
		row = 0;	/* a quoted mail that was not this member's */
	return record_bounce(st, msg_id, row, rcpt, br, hard, now, e);
}

/* A report about the outbox row whose Message-ID it quotes (one recipient
 * per row): a DSN block names it, or (a plain bounce, or a DSN that only
 * gives a rewritten address) it is implied. 1 recorded, 0 not ours. */
static int
note_msgid(struct store *st, int64_t msg_id, const struct bounce *b, time_t now, struct err *e)
{
	char rcpt[256];
	int64_t row = 0;
	int r, matched = 0;

	if (b->orig_msgid[0] == '\0' ||
	    (r = row_by_msgid(st, b->orig_msgid, &row, rcpt, sizeof rcpt, e)) <= 0)
		return b->orig_msgid[0] ? r : 0;
	r = 0;
	for (size_t i = 0; i < b->nrcpt && r == 0; i++) {
		if (strcasecmp(b->rcpt[i].address, rcpt) != 0)
			continue;
		matched = 1;
		r = record_bounce(st, msg_id, row, rcpt, &b->rcpt[i],
		    bounce_rcpt_hard(&b->rcpt[i]), now, e);
	}
	if (!matched && r == 0)
		r = record_bounce(st, msg_id, row, rcpt, b->nrcpt == 1 ? &b->rcpt[0] : NULL,
		    b->nrcpt == 1 ? bounce_rcpt_hard(&b->rcpt[0]) : !b->delayed, now, e);
	return r < 0 ? -1 : 1;
}

int
outbox_bounce_note(struct store *st, int64_t msg_id, const char *verp_rcpt, int from_mailer,
    time_t now, struct err *e)
{
	struct bounce b;
	size_t len = 0;
	char *raw = message_raw(st, msg_id, &len, e);
	int parsed, r;

	if (raw == NULL)
		return 0;
	parsed = bounce_parse(raw, len, &b);
	free(raw);
	/* to a VERP address, a mail server's own mail is a bounce even when
	 * nothing of it parses; a vacation answer (sent there by RFC 3834)
	 * is not */
	if (verp_rcpt && (parsed || from_mailer))
		r = note_verp(st, msg_id, &b, verp_rcpt, now, e) < 0 ? -1 : 1;
	else
		r = parsed ? note_msgid(st, msg_id, &b, now, e) : 0;
	if (r == 1)
		log_info("event=bounce rcpt=%s msgid=%s dsn=%d verp=%d", verp_rcpt ? verp_rcpt : "-",
		    b.orig_msgid[0] ? b.orig_msgid : "-", b.dsn, verp_rcpt != NULL);
	return r;
}
