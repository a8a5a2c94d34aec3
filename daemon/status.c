#include "buildconf.h"

#include "status.h"

/* Prepare, let bind() fill the parameters, step once; 0 or -1. */
static int
run1(struct store *st, const char *sql, void (*bind)(sqlite3_stmt *, const void *),
    const void *arg, struct err *e)
{
	sqlite3 *db = store_db(st);
	sqlite3_stmt *s;
	int rc;

	if (sqlite3_prepare_v2(db, sql, -1, &s, NULL) != SQLITE_OK)
		return err_set(e, "status: %s", sqlite3_errmsg(db));
	if (bind)
		bind(s, arg);
	rc = sqlite3_step(s);
	sqlite3_finalize(s);
	if (rc != SQLITE_DONE)
		return err_set(e, "status: %s", sqlite3_errmsg(db));
	return 0;
}

struct row {
	const struct status_info *si;
	const struct metrics *m;
	time_t now;
};

static void
bind_time_or_null(sqlite3_stmt *s, int i, time_t t)
{
	if (t != 0)
		sqlite3_bind_int64(s, i, (sqlite3_int64)t);
}

static void
bind_row(sqlite3_stmt *s, const void *arg)
{
	const struct row *r = arg;
	const struct metrics *m = r->m;
	const sqlite3_int64 counters[] = {
		(sqlite3_int64)m->fetched, (sqlite3_int64)m->recorded,
		(sqlite3_int64)m->rejected, (sqlite3_int64)m->held,
		(sqlite3_int64)m->ignored, (sqlite3_int64)m->answers_sent,
		(sqlite3_int64)m->smtp_errors, (sqlite3_int64)m->imap_errors,
	};

	sqlite3_bind_int64(s, 1, (sqlite3_int64)r->si->pid);
	sqlite3_bind_int64(s, 2, (sqlite3_int64)r->si->started_at);
	sqlite3_bind_int64(s, 3, (sqlite3_int64)r->now);
	sqlite3_bind_text(s, 4, r->si->config_path, -1, SQLITE_STATIC);
	sqlite3_bind_int(s, 5, m->poll_interval);
	if (r->si->http_listen)
		sqlite3_bind_text(s, 6, r->si->http_listen, -1, SQLITE_STATIC);
	bind_time_or_null(s, 7, m->last_cycle);
	bind_time_or_null(s, 8, m->last_success);
	if (m->last_error[0])
		sqlite3_bind_text(s, 9, m->last_error, -1, SQLITE_STATIC);
	for (int i = 0; i < (int)(sizeof counters / sizeof counters[0]); i++)
		sqlite3_bind_int64(s, 10 + i, counters[i]);
}

int
status_write(struct store *st, const struct status_info *si, const struct metrics *m,
    time_t now, struct err *e)
{
	struct row r = { si, m, now };

	return run1(st, "INSERT OR REPLACE INTO daemon_status (id, pid, started_at,"
	    " updated_at, config_path, poll_interval, http_listen, last_cycle_at,"
	    " last_success_at, last_error, mails_fetched, mails_recorded, mails_rejected,"
	    " mails_held, mails_ignored, answers_sent, smtp_errors, imap_errors)"
	    " VALUES (1, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
	    bind_row, &r, e);
}

struct error_line {
	time_t at;
	const char *text;
};

static void
bind_error(sqlite3_stmt *s, const void *arg)
{
	const struct error_line *l = arg;

	sqlite3_bind_int64(s, 1, (sqlite3_int64)l->at);
	sqlite3_bind_text(s, 2, l->text, -1, SQLITE_STATIC);
}

static void
bind_kept(sqlite3_stmt *s, const void *arg)
{
	(void)arg;
	sqlite3_bind_int(s, 1, STATUS_ERRORS_KEPT);
}

int
status_add_error(struct store *st, time_t at, const char *text, struct err *e)
{
	struct error_line l = { at, text };

	if (run1(st, "INSERT INTO daemon_errors (at, text) VALUES (?, ?)", bind_error, &l,
	    e) < 0)
		return -1;
	return run1(st, "DELETE FROM daemon_errors WHERE id <= (SELECT max(id) FROM"
	    " daemon_errors) - ?", bind_kept, NULL, e);
}

struct stop {
	pid_t pid;
	time_t now;
};

static void
bind_stop(sqlite3_stmt *s, const void *arg)
{
	const struct stop *st = arg;

	sqlite3_bind_int64(s, 1, (sqlite3_int64)st->now);
	sqlite3_bind_int64(s, 2, (sqlite3_int64)st->pid);
}

int
status_stopped(struct store *st, pid_t pid, time_t now, struct err *e)
{
	struct stop stop = { pid, now };

	/* only our own row: a later daemon (or --once) may have taken it over */
	return run1(st, "UPDATE daemon_status SET pid = NULL, updated_at = ?"
	    " WHERE id = 1 AND pid = ?", bind_stop, &stop, e);
}
