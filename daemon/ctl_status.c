#include "buildconf.h"

/*
 * mercomail status / backup: what mercomaild is doing, read from the status
 * row it writes after each pass (schema/0003_status.sql), and an online copy
 * of the database that is safe while the daemon runs.
 */

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/types.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "ctl.h"
#include "outbox.h"
#include "status.h"
#include "store.h"

#define ERRORS_SHOWN 5
#define BACKUP_RETRY_MS 100	/* between tries while a writer holds the lock */
#define BACKUP_TRIES 100

/* "Label:          " then the rest of the line is the caller's. */
static void
label(const char *name)
{
	printf("%-15s ", name);
}

/* A time from the row (NULL: never) with how long ago, and a newline. */
static void
put_time(sqlite3_stmt *s, int col, time_t now)
{
	char buf[32];
	int64_t t;

	if (sqlite3_column_type(s, col) == SQLITE_NULL) {
		puts("never");
		return;
	}
	t = sqlite3_column_int64(s, col);
	ctl_format_time(buf, sizeof buf, t);
	printf("%s (%" PRId64 " s ago)\n", buf, (int64_t)now - t);
}

/* A text column ("-" when NULL), made safe for a terminal, and a newline. */
static void
put_text(sqlite3_stmt *s, int col)
{
	ctl_put_safe(stdout, (const char *)sqlite3_column_text(s, col));
	putchar('\n');
}

/* kill(pid, 0): the process exists (EPERM: it does, under another user). */
static int
pid_alive(int64_t pid)
{
	return pid > 0 && (kill((pid_t)pid, 0) == 0 || errno == EPERM);
}

static void
show_daemon(sqlite3_stmt *s)
{
	int64_t pid = sqlite3_column_int64(s, 1);
	char since[32];

	ctl_format_time(since, sizeof since, sqlite3_column_int64(s, 2));
	label("Daemon:");
	if (sqlite3_column_type(s, 1) == SQLITE_NULL)
		printf("stopped (the last one started %s and exited cleanly)\n", since);
	else if (pid_alive(pid))
		printf("running (pid %" PRId64 ", since %s)\n", pid, since);
	else
		printf("not running (pid %" PRId64 ", started %s, is gone without a clean "
		    "exit)\n", pid, since);
}

/* The counters of the row (columns 9 ...): those of /metrics. */
static void
show_counters(sqlite3_stmt *s)
{
	int64_t c[8];

	for (int i = 0; i < 8; i++)
		c[i] = sqlite3_column_int64(s, 9 + i);
	printf("Since the daemon started:\n");
	printf("  %-13s %" PRId64 " (recorded %" PRId64 ", rejected %" PRId64 ", held %"
	    PRId64 ", ignored %" PRId64 ")\n", "mails fetched", c[0], c[1], c[2], c[3], c[4]);
	printf("  %-13s %" PRId64 "\n", "answers sent", c[5]);
	printf("  %-13s %" PRId64 "\n", "SMTP errors", c[6]);
	printf("  %-13s %" PRId64 "\n", "IMAP errors", c[7]);
}

static void
show_row(sqlite3_stmt *s, time_t now)
{
	label("Config:");
	put_text(s, 0);
	show_daemon(s);
	label("Poll interval:");
	printf("%d s\n", sqlite3_column_int(s, 3));
	label("HTTP:");
	put_text(s, 4);
	label("Last cycle:");
	put_time(s, 5, now);
	label("Last success:");
	put_time(s, 6, now);
	label("Last error:");
	put_text(s, 7);
	show_counters(s);
}

/* The status row; 0 if there is none (the daemon never ran here), -1 on error. */
static int
show_status_row(sqlite3 *db, time_t now)
{
	sqlite3_stmt *s;
	int rc;

	if (sqlite3_prepare_v2(db, "SELECT config_path, pid, started_at, poll_interval,"
	    " http_listen, last_cycle_at, last_success_at, last_error, updated_at,"
	    " mails_fetched, mails_recorded, mails_rejected, mails_held, mails_ignored,"
	    " answers_sent, smtp_errors, imap_errors FROM daemon_status WHERE id = 1",
	    -1, &s, NULL) != SQLITE_OK)
		return -1;
	if ((rc = sqlite3_step(s)) == SQLITE_ROW)
		show_row(s, now);
	else if (rc == SQLITE_DONE)
		printf("%-15s never ran against this database\n", "Daemon:");
	sqlite3_finalize(s);
	return rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : -1;
}

static int
show_outbox(struct ctx *cx, time_t now)
{
	struct err e;
	int64_t oldest = 0, depth = outbox_depth(cx->st, now, &oldest, &e);

	if (depth < 0) {
		fprintf(stderr, "mercomail: %s\n", e.msg);
		return -1;
	}
	label("Outbox:");
	if (depth == 0)
		printf("empty\n");
	else
		printf("%" PRId64 " queued, the oldest for %" PRId64 " s\n", depth, oldest);
	return 0;
}

/* One integer from a query without parameters; -1 on error. */
static int64_t
query_int(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *s;
	int64_t v = -1;

	if (sqlite3_prepare_v2(db, sql, -1, &s, NULL) == SQLITE_OK &&
	    sqlite3_step(s) == SQLITE_ROW)
		v = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	return v;
}

static int
show_database(struct ctx *cx)
{
	sqlite3 *db = store_db(cx->st);
	int64_t pages = query_int(db, "PRAGMA page_count"), size = query_int(db, "PRAGMA page_size");

	if (pages < 0 || size < 0)
		return -1;
	label("Database:");
	ctl_put_safe(stdout, cx->db_path);
	printf(", %" PRId64 " bytes (%" PRId64 " pages of %" PRId64 ")\n", pages * size,
	    pages, size);
	return 0;
}

static int
show_errors(sqlite3 *db)
{
	sqlite3_stmt *s;
	char when[32];
	int rc, n = 0;

	if (sqlite3_prepare_v2(db, "SELECT at, text FROM daemon_errors ORDER BY id DESC"
	    " LIMIT ?", -1, &s, NULL) != SQLITE_OK)
		return -1;
	sqlite3_bind_int(s, 1, ERRORS_SHOWN);
	printf("Last errors:\n");
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		ctl_format_time(when, sizeof when, sqlite3_column_int64(s, 0));
		printf("  %s  ", when);
		ctl_put_safe(stdout, (const char *)sqlite3_column_text(s, 1));
		putchar('\n');
		n++;
	}
	if (n == 0)
		printf("  none\n");
	sqlite3_finalize(s);
	return rc == SQLITE_DONE ? 0 : -1;
}

int
ctl_status(struct ctx *cx, int argc, char **argv)
{
	time_t now = time(NULL);
	sqlite3 *db;
	int rc;

	if (argc > 0)
		return ctl_usage_error("status: unexpected argument '%s'", argv[0]);
	if ((rc = ctl_open_store(cx, 1)) != 0)
		return rc;
	db = store_db(cx->st);
	if (show_status_row(db, now) < 0)
		return ctl_db_fail(cx, NULL);
	if (show_outbox(cx, now) < 0)
		return EX_SOFTWARE;
	if (show_database(cx) < 0 || show_errors(db) < 0)
		return ctl_db_fail(cx, NULL);
	return ctl_flush_stdout();
}

/* --- backup */

/* Copy src into dst in one step: one read transaction, so the copy is one
 * consistent state even while the daemon writes (WAL lets it go on). */
static int
backup_copy(sqlite3 *src, sqlite3 *dst)
{
	sqlite3_backup *b = sqlite3_backup_init(dst, "main", src, "main");
	int rc = SQLITE_BUSY;

	if (b == NULL)
		return sqlite3_errcode(dst);
	for (int i = 0; i < BACKUP_TRIES && (rc == SQLITE_BUSY || rc == SQLITE_LOCKED); i++) {
		if (i > 0)
			sqlite3_sleep(BACKUP_RETRY_MS);
		rc = sqlite3_backup_step(b, -1);
	}
	sqlite3_backup_finish(b);
	return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

/* The copy is a file of its own: no WAL beside it; then check every page. */
static int
backup_check(sqlite3 *dst, const char *path)
{
	sqlite3_stmt *s;
	const char *r;
	int ok;

	if (sqlite3_exec(dst, "PRAGMA journal_mode = DELETE", NULL, NULL, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(dst, "PRAGMA integrity_check", -1, &s, NULL) != SQLITE_OK) {
		fprintf(stderr, "mercomail: %s: %s\n", path, sqlite3_errmsg(dst));
		return -1;
	}
	ok = sqlite3_step(s) == SQLITE_ROW && (r = (const char *)sqlite3_column_text(s, 0)) &&
	    strcmp(r, "ok") == 0;
	if (!ok)
		fprintf(stderr, "mercomail: %s: the copy fails PRAGMA integrity_check\n", path);
	sqlite3_finalize(s);
	return ok ? 0 : -1;
}

/* Create path, refusing an existing file (O_EXCL: no race with another). */
static int
backup_create(const char *path)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);

	if (fd < 0) {
		fprintf(stderr, "mercomail: %s: %s%s\n", path, strerror(errno),
		    errno == EEXIST ? " (a backup never overwrites a file)" : "");
		return -1;
	}
	close(fd);
	return 0;
}

static int
backup_into(struct ctx *cx, const char *path)
{
	sqlite3 *dst = NULL;
	int rc;

	if (sqlite3_open_v2(path, &dst, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK) {
		fprintf(stderr, "mercomail: %s: %s\n", path,
		    dst ? sqlite3_errmsg(dst) : "out of memory");
		sqlite3_close(dst);
		return EX_CANTCREAT;
	}
	if ((rc = backup_copy(store_db(cx->st), dst)) != SQLITE_OK) {
		fprintf(stderr, "mercomail: backup of %s: %s\n", cx->db_path,
		    sqlite3_errstr(rc));
		sqlite3_close(dst);
		return EX_IOERR;
	}
	rc = backup_check(dst, path) < 0 ? EX_IOERR : 0;
	if (rc == 0)
		printf("%s: %" PRId64 " bytes, %" PRId64 " messages, integrity ok\n", path,
		    query_int(dst, "PRAGMA page_count") * query_int(dst, "PRAGMA page_size"),
		    query_int(dst, "SELECT count(*) FROM messages"));
	sqlite3_close(dst);
	return rc;
}

int
ctl_backup(struct ctx *cx, int argc, char **argv)
{
	int rc;

	if (argc != 1)
		return ctl_usage_error("%s", argc ? "backup: one FILE only" : "backup: which FILE?");
	if ((rc = ctl_open_store(cx, 1)) != 0)
		return rc;
	if (backup_create(argv[0]) < 0)
		return EX_CANTCREAT;
	if ((rc = backup_into(cx, argv[0])) != 0) {
		unlink(argv[0]);	/* a failed copy must not pass for a backup */
		return rc;
	}
	return ctl_flush_stdout();
}
