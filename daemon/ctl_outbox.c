#include "buildconf.h"

/*
 * mercomail outbox list|retry|purge — the mail mercomail promised to send
 * (outbox.h): what is queued, sent or failed, per recipient; send a failed
 * or deferred one again at the next pass; forget old ones.
 */

#include <stdio.h>
#include <string.h>
#include <sysexits.h>
#include <time.h>

#include "ctl.h"

int
ctl_outbox_list(struct ctx *cx, int argc, char **argv)
{
	const char *state = NULL, *v;
	int64_t limit = DEFAULT_LIMIT;
	sqlite3_stmt *s;
	int rc, bad = 0, n = 0;

	for (int i = 0; i < argc; i++) {
		if ((v = ctl_match_opt(argc, argv, &i, "--state", 1, &bad)) != NULL) {
			if (strcmp(v, "queued") != 0 && strcmp(v, "sent") != 0 && strcmp(v, "failed") != 0)
				return ctl_usage_error("--state is queued, sent or failed");
			state = v;
		} else if ((v = ctl_match_opt(argc, argv, &i, "--limit", 1, &bad)) != NULL) {
			if ((limit = ctl_parse_positive(v)) < 0)
				return ctl_usage_error("--limit wants a number");
		} else {
			return ctl_usage_error(bad ? "an option needs a value" : "unknown option %s",
			    argv[i]);
		}
	}
	if (bad)
		return ctl_usage_error("an option needs a value");
	if ((rc = ctl_open_store(cx, 1)) != 0)
		return rc;
	if (sqlite3_prepare_v2(store_db(cx->st), "SELECT id, state, attempts,"
	    " coalesce(last_code, 0), CASE state WHEN 'sent' THEN sent_at ELSE next_attempt END,"
	    " purpose, rcpt, coalesce(last_error, '') FROM outbox"
	    " WHERE ?1 IS NULL OR state = ?1 ORDER BY id DESC LIMIT ?2", -1, &s, NULL) != SQLITE_OK)
		return ctl_db_fail(cx, NULL);
	if (state)
		sqlite3_bind_text(s, 1, state, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, limit);
	printf("ID\tSTATE\tTRIES\tCODE\tWHEN\tPURPOSE\tRECIPIENT\tLAST ERROR\n");
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		char when[32];
		ctl_format_time(when, sizeof when, sqlite3_column_int64(s, 4));
		printf("%lld\t%s\t%lld\t%lld\t%s\t", (long long)sqlite3_column_int64(s, 0),
		    (const char *)sqlite3_column_text(s, 1), (long long)sqlite3_column_int64(s, 2),
		    (long long)sqlite3_column_int64(s, 3), when);
		ctl_put_safe(stdout, (const char *)sqlite3_column_text(s, 5));
		putchar('\t');
		ctl_put_safe(stdout, (const char *)sqlite3_column_text(s, 6));
		putchar('\t');
		ctl_put_safe(stdout, (const char *)sqlite3_column_text(s, 7));
		putchar('\n');
		n++;
	}
	if (rc != SQLITE_DONE)
		return ctl_db_fail(cx, s);
	sqlite3_finalize(s);
	fprintf(stderr, "%d mails\n", n);
	return ctl_flush_stdout();
}

/* Run one statement with one number bound; the rows it changed, or -1. */
static int64_t
exec1(struct ctx *cx, const char *sql, int64_t a, int64_t b)
{
	sqlite3_stmt *s;

	if (sqlite3_prepare_v2(store_db(cx->st), sql, -1, &s, NULL) != SQLITE_OK)
		return -1;
	sqlite3_bind_int64(s, 1, a);
	sqlite3_bind_int64(s, 2, b);
	if (sqlite3_step(s) != SQLITE_DONE) {
		sqlite3_finalize(s);
		return -1;
	}
	sqlite3_finalize(s);
	return sqlite3_changes(store_db(cx->st));
}

/* outbox retry ID...: queued again, due at once (mercomaild's next pass). */
int
ctl_outbox_retry(struct ctx *cx, int argc, char **argv)
{
	int rc;

	if (argc < 1)
		return ctl_usage_error("outbox retry needs one or more IDs");
	for (int i = 0; i < argc; i++)
		if (ctl_parse_positive(argv[i]) < 0)
			return ctl_usage_error("'%s' is not an outbox id", argv[i]);
	if ((rc = ctl_open_store(cx, 1)) != 0)
		return rc;
	for (int i = 0; i < argc; i++) {
		int64_t n = exec1(cx, "UPDATE outbox SET state = 'queued', next_attempt = ?2,"
		    " created_at = ?2 WHERE id = ?1 AND state <> 'sent'", ctl_parse_positive(argv[i]),
		    (int64_t)time(NULL));
		if (n < 0)
			return ctl_db_fail(cx, NULL);
		if (n == 0) {
			fprintf(stderr, "mercomail: no queued or failed mail %s\n", argv[i]);
			return EX_DATAERR;
		}
		printf("%s queued again\n", argv[i]);
	}
	return ctl_flush_stdout();
}

/* outbox purge [--days N]: forget sent and failed mail older than N days
 * (default 30); the bounces recorded stay (they count for the lists). */
int
ctl_outbox_purge(struct ctx *cx, int argc, char **argv)
{
	int64_t days = 30, n = 0;
	const char *v;
	struct err e = { "" };
	int rc, bad = 0;

	for (int i = 0; i < argc; i++) {
		if ((v = ctl_match_opt(argc, argv, &i, "--days", 1, &bad)) != NULL) {
			if ((days = ctl_parse_positive(v)) < 0)
				return ctl_usage_error("--days wants a number");
		} else {
			return ctl_usage_error(bad ? "an option needs a value" : "unknown option %s",
			    argv[i]);
		}
	}
	if (bad)
		return ctl_usage_error("an option needs a value");
	if ((rc = ctl_open_store(cx, 1)) != 0)
		return rc;
	if (store_begin(cx->st, &e) < 0 ||
	    exec1(cx, "UPDATE bounces SET outbox_id = NULL WHERE outbox_id IN (SELECT id FROM"
	    " outbox WHERE state <> 'queued' AND created_at < ?1) AND ?2 = ?2",
	    (int64_t)time(NULL) - days * 86400, 0) < 0 ||
	    (n = exec1(cx, "DELETE FROM outbox WHERE state <> 'queued' AND created_at < ?1"
	    " AND ?2 = ?2", (int64_t)time(NULL) - days * 86400, 0)) < 0 ||
	    store_commit(cx->st, &e) < 0) {
		store_rollback(cx->st);
		return ctl_db_fail(cx, NULL);
	}
	printf("%lld mails purged\n", (long long)n);
	return ctl_flush_stdout();
}
