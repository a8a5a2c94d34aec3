#include "buildconf.h"

/*
 * mercomail messages list / show: the mail that was fetched and what it
 * turned out to be (kind, sender, parsed fields, problems, the answers queued
 * for it, the text the sender wrote).
 */

#include <errno.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sysexits.h>

#include <sqlite3.h>

#include "ctl.h"
#include "store.h"

static const char *
col_text(sqlite3_stmt *s, int i)
{
	return (const char *)sqlite3_column_text(s, i);
}

/* --- messages list */

/* The options of messages list: state (-1: any) and limit. 0 or EX_USAGE. */
static int
list_options(int argc, char **argv, int *state, int64_t *limit)
{
	const char *v;
	int bad = 0, st;

	for (int i = 0; i < argc; i++) {
		if ((v = ctl_match_opt(argc, argv, &i, "--state", 1, &bad)) != NULL) {
			if ((st = store_state_parse(v)) < 0)
				return ctl_usage_error("unknown state '%s' (new, recorded, "
				    "rejected, held, ignored)", v);
		} else if (ctl_match_opt(argc, argv, &i, "--held", 0, &bad) != NULL) {
			st = MSG_HELD;
		} else if ((v = ctl_match_opt(argc, argv, &i, "--limit", 1, &bad)) != NULL) {
			if ((*limit = ctl_parse_positive(v)) < 0)
				return ctl_usage_error("--limit '%s': give a positive number", v);
			continue;
		} else if (bad) {
			return ctl_usage_error("%s needs a value", argv[i]);
		} else {
			return ctl_usage_error("messages list: unexpected argument '%s'", argv[i]);
		}
		if (*state >= 0 && *state != st)
			return ctl_usage_error("%s", "messages list: give one state (--held is "
			    "--state held)");
		*state = st;
	}
	return 0;
}

/* One line per message: id, received, state, kind, size, from, subject (tabs). */
int
ctl_messages_list(struct ctx *cx, int argc, char **argv)
{
	int state = -1, rc;
	int64_t limit = DEFAULT_LIMIT;
	sqlite3_stmt *s = NULL;
	char when[32];

	if ((rc = list_options(argc, argv, &state, &limit)) != 0)
		return rc;
	if ((rc = ctl_open_store(cx, 1)) != 0)
		return rc;
	if (sqlite3_prepare_v2(store_db(cx->st),
	    "SELECT id, received_at, state, kind, size, from_addr, subject FROM messages"
	    " WHERE ?1 IS NULL OR state = ?1 ORDER BY received_at DESC, id DESC LIMIT ?2",
	    -1, &s, NULL) != SQLITE_OK)
		return ctl_db_fail(cx, s);
	if (state >= 0)
		sqlite3_bind_text(s, 1, store_state_name(state), -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, limit);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		ctl_format_time(when, sizeof when, sqlite3_column_int64(s, 1));
		printf("%" PRId64 "\t%s\t%s\t", (int64_t)sqlite3_column_int64(s, 0), when,
		    col_text(s, 2));
		ctl_put_safe(stdout, col_text(s, 3));
		printf("\t%" PRId64 "\t", (int64_t)sqlite3_column_int64(s, 4));
		ctl_put_safe(stdout, col_text(s, 5));
		putchar('\t');
		ctl_put_safe(stdout, col_text(s, 6));
		putchar('\n');
	}
	if (rc != SQLITE_DONE)
		return ctl_db_fail(cx, s);
	sqlite3_finalize(s);
	return ctl_flush_stdout();
}

/* --- messages show */

/* The header of a message and what it turned out to be. 1 shown, 0 no such id, -1 error. */
static int
show_meta(sqlite3 *db, int64_t id)
{
	sqlite3_stmt *s = NULL;
	char when[32];
	int rc;

	if (sqlite3_prepare_v2(db,
	    "SELECT m.message_id, m.sha256, m.folder, m.uidvalidity, m.uid, m.received_at,"
	    " m.state, m.reason, m.size, m.truncated, m.from_addr, m.subject,"
	    " length(CAST(m.raw AS BLOB)),"
	    " m.kind, m.sender, c.name, c.address, m.lang, m.processed_at"
	    " FROM messages m LEFT JOIN contacts c ON c.id = m.contact_id WHERE m.id = ?1",
	    -1, &s, NULL) != SQLITE_OK)
		return -1;
	sqlite3_bind_int64(s, 1, id);
	if ((rc = sqlite3_step(s)) != SQLITE_ROW) {
		sqlite3_finalize(s);
		return rc == SQLITE_DONE ? 0 : -1;
	}
	ctl_format_time(when, sizeof when, sqlite3_column_int64(s, 5));
	printf("Id:          %" PRId64 "\n", id);
	ctl_show_field("Message-ID:", col_text(s, 0));
	ctl_show_field("SHA-256:", col_text(s, 1));
	ctl_show_field("Folder:", col_text(s, 2));
	printf("UIDVALIDITY: %" PRId64 "\n", (int64_t)sqlite3_column_int64(s, 3));
	printf("UID:         %" PRId64 "\n", (int64_t)sqlite3_column_int64(s, 4));
	printf("Received:    %s\n", when);
	ctl_show_field("State:", col_text(s, 6));
	ctl_show_field("Reason:", col_text(s, 7));
	printf("Size:        %" PRId64 " bytes (%" PRId64 " stored)\n",
	    (int64_t)sqlite3_column_int64(s, 8), (int64_t)sqlite3_column_int64(s, 12));
	printf("Truncated:   %s\n",
	    sqlite3_column_int(s, 9) ? "yes (only the header is stored)" : "no");
	ctl_show_field("From:", col_text(s, 10));
	ctl_show_field("Subject:", col_text(s, 11));
	ctl_show_field("Kind:", col_text(s, 13));
	ctl_show_field("Sender:", col_text(s, 14));
	ctl_show_contact(col_text(s, 15), col_text(s, 16));
	ctl_show_field("Language:", col_text(s, 17));
	if (sqlite3_column_type(s, 18) == SQLITE_NULL)
		strcpy(when, "-");
	else
		ctl_format_time(when, sizeof when, sqlite3_column_int64(s, 18));
	printf("Processed:   %s\n", when);
	sqlite3_finalize(s);
	return 1;
}

void
ctl_show_contact(const char *name, const char *address)
{
	printf("%-12s ", "Contact:");
	if (address == NULL) {
		putchar('-');
	} else {
		if (name != NULL && *name != '\0') {
			ctl_put_safe(stdout, name);
			putchar(' ');
		}
		putchar('<');
		ctl_put_safe(stdout, address);
		putchar('>');
	}
	putchar('\n');
}

/* "Label:" then each row of sql (bound to id) through row(), or "Label:      -". */
static int
show_rows(sqlite3 *db, int64_t id, const char *label, const char *sql,
    void (*row)(sqlite3_stmt *))
{
	sqlite3_stmt *s = NULL;
	int rc, n = 0;

	if (sqlite3_prepare_v2(db, sql, -1, &s, NULL) != SQLITE_OK)
		return -1;
	sqlite3_bind_int64(s, 1, id);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		if (n++ == 0)
			printf("%s\n", label);
		row(s);
	}
	if (n == 0 && rc == SQLITE_DONE)
		printf("%-12s -\n", label);
	sqlite3_finalize(s);
	return rc == SQLITE_DONE ? 0 : -1;
}

/*
 * "  field: value [line]"; a value on several lines starts on the next line,
 * indented further.
 */
static void
field_row(sqlite3_stmt *s)
{
	const char *v = col_text(s, 1);
	int multi = v != NULL && strchr(v, '\n') != NULL;

	fputs("  ", stdout);
	ctl_put_safe(stdout, col_text(s, 0));
	putchar(':');
	if (!multi) {
		putchar(' ');
		ctl_put_safe(stdout, v);
	}
	if (sqlite3_column_type(s, 2) != SQLITE_NULL)
		printf(" [%" PRId64 "]", (int64_t)sqlite3_column_int64(s, 2));
	putchar('\n');
	if (multi)
		ctl_put_lines(stdout, "    ", v);
}

int
ctl_show_fields(sqlite3 *db, int64_t message_id)
{
	return show_rows(db, message_id, "Fields:", "SELECT field, value, line"
	    " FROM message_fields WHERE message_id = ?1 ORDER BY line IS NULL, line, field",
	    field_row);
}

static void
problem_row(sqlite3_stmt *s)
{
	fputs("  ", stdout);
	ctl_put_safe(stdout, col_text(s, 0));
	putchar('\n');
}

/* "  purpose rcpt state attempts=N last_error=..." */
static void
answer_row(sqlite3_stmt *s)
{
	printf("  %s ", col_text(s, 0));
	ctl_put_safe(stdout, col_text(s, 1));
	printf(" %s attempts=%" PRId64 " last_error=", col_text(s, 2),
	    (int64_t)sqlite3_column_int64(s, 3));
	ctl_put_safe(stdout, col_text(s, 4));
	putchar('\n');
}

static void
text_row(sqlite3_stmt *s)
{
	ctl_put_lines(stdout, "  ", col_text(s, 0));
}

/*
 * The parts after the header. No line of the output is blank (empty lines of
 * the text keep their indent), so with --raw the first blank line is where
 * the raw bytes start.
 */
static int
show_details(sqlite3 *db, int64_t id)
{
	if (ctl_show_fields(db, id) < 0 ||
	    show_rows(db, id, "Problems:", "SELECT text FROM message_problems"
	    " WHERE message_id = ?1 ORDER BY seq", problem_row) < 0 ||
	    show_rows(db, id, "Answers:", "SELECT purpose, rcpt, state, attempts, last_error"
	    " FROM outbox WHERE message_id = ?1 ORDER BY created_at, id", answer_row) < 0 ||
	    show_rows(db, id, "Text:", "SELECT body FROM messages"
	    " WHERE id = ?1 AND body IS NOT NULL AND body <> ''", text_row) < 0)
		return -1;
	return 0;
}

/* A blank line, then the raw bytes as stored. 0, -1 database error, EX_IOERR. */
static int
show_raw(sqlite3 *db, int64_t id)
{
	sqlite3_stmt *s = NULL;
	int n, rc = -1;

	if (sqlite3_prepare_v2(db, "SELECT raw FROM messages WHERE id = ?1", -1, &s, NULL)
	    != SQLITE_OK)
		return -1;
	sqlite3_bind_int64(s, 1, id);
	if (sqlite3_step(s) == SQLITE_ROW) {
		const void *p = sqlite3_column_blob(s, 0);
		n = sqlite3_column_bytes(s, 0);
		putchar('\n');
		rc = 0;
		if (n > 0 && fwrite(p, 1, (size_t)n, stdout) != (size_t)n) {
			fprintf(stderr, "mercomail: write error: %s\n", strerror(errno));
			rc = EX_IOERR;
		}
	}
	sqlite3_finalize(s);
	return rc;
}

int
ctl_messages_show(struct ctx *cx, int argc, char **argv)
{
	const char *idarg = NULL;
	int raw = 0, bad = 0, rc;
	int64_t id;
	sqlite3 *db;

	for (int i = 0; i < argc; i++) {
		if (ctl_match_opt(argc, argv, &i, "--raw", 0, &bad) != NULL)
			raw = 1;
		else if (argv[i][0] == '-')
			return ctl_usage_error("messages show: unknown option '%s'", argv[i]);
		else if (idarg == NULL)
			idarg = argv[i];
		else
			return ctl_usage_error("messages show: unexpected argument '%s'", argv[i]);
	}
	if (idarg == NULL)
		return ctl_usage_error("%s", "messages show: which ID?");
	if ((id = ctl_parse_positive(idarg)) < 0)
		return ctl_usage_error("messages show: '%s' is not a message id", idarg);
	if ((rc = ctl_open_store(cx, 1)) != 0)
		return rc;
	db = store_db(cx->st);
	if ((rc = show_meta(db, id)) == 0) {
		fprintf(stderr, "mercomail: no message with id %" PRId64 "\n", id);
		return EX_DATAERR;
	}
	if (rc < 0 || show_details(db, id) < 0 || (raw && (rc = show_raw(db, id)) < 0))
		return ctl_db_fail(cx, NULL);
	if (raw && rc == EX_IOERR)
		return EX_IOERR;
	return ctl_flush_stdout();
}
