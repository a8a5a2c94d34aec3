#include "buildconf.h"

#define _POSIX_C_SOURCE 200809L	/* mkdtemp */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "schema.h"
#include "store.h"

struct fixture {
	char dir[64];
	char path[128];
};

static int
setup(void **state)
{
	struct fixture *fx = calloc(1, sizeof *fx);
	const char *tmp = getenv("TMPDIR");

	if (fx == NULL)
		return -1;
	snprintf(fx->dir, sizeof fx->dir, "%s/test_store.XXXXXX",
	    tmp && *tmp && strlen(tmp) < 40 ? tmp : "/tmp");
	if (mkdtemp(fx->dir) == NULL) {
		free(fx);
		return -1;
	}
	snprintf(fx->path, sizeof fx->path, "%s/m.db", fx->dir);
	*state = fx;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *fx = *state;
	char p[160];

	unlink(fx->path);
	snprintf(p, sizeof p, "%s-wal", fx->path);
	unlink(p);
	snprintf(p, sizeof p, "%s-shm", fx->path);
	unlink(p);
	rmdir(fx->dir);
	free(fx);
	return 0;
}

static int
latest_version(void)
{
	return schema_migrations[schema_migration_count - 1].version;
}

static int64_t
query_int(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *s = NULL;
	int64_t v;

	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &s, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(s), SQLITE_ROW);
	v = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	return v;
}

static struct store *
open_ok(const char *path)
{
	struct err e = { "" };
	struct store *st = store_open(path, &e);

	if (st == NULL)
		fail_msg("store_open: %s", e.msg);
	return st;
}

static struct store_msg
sample_msg(const char *mid, uint32_t uid)
{
	static const unsigned char raw[] = "From: a@b.example\r\nSubject: hola\r\n\r\nbody\r\n";
	struct store_msg m = {
		.message_id = mid,
		.sha256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
		.raw = raw, .raw_len = sizeof raw - 1, .size = sizeof raw - 1,
		.folder = "INBOX", .uidvalidity = 1700000000u, .uid = uid,
		.received = 1714560000, .from_addr = "a@b.example", .subject = "hola",
		.state = MSG_NEW,
	};
	return m;
}

static void
test_migrate_from_zero(void **state)
{
	struct fixture *fx = *state;
	struct store *st = open_ok(fx->path);
	sqlite3 *db = store_db(st);

	assert_true(schema_migration_count >= 1);
	assert_int_equal(store_schema_version(st), latest_version());
	assert_int_equal(query_int(db, "PRAGMA user_version"), latest_version());
	assert_int_equal(query_int(db, "SELECT count(*) FROM sqlite_master WHERE type = 'table'"
	    " AND name IN ('countries', 'cities', 'contacts', 'units', 'unit_members',"
	    " 'messages', 'imap_folders', 'audit_log')"), 8);
	/* The bodies of the network come with the schema. */
	assert_int_equal(query_int(db, "SELECT count(*) FROM units WHERE kind != 'unit'"), 4);
	store_close(st);
}

static void
test_reopen_does_not_reapply(void **state)
{
	struct fixture *fx = *state;
	struct err e = { "" };
	struct store *st = open_ok(fx->path);

	assert_int_equal(store_audit(st, 1, "test", "first.open", NULL, NULL, &e), 0);
	store_close(st);

	st = open_ok(fx->path);		/* a second CREATE TABLE would fail */
	assert_int_equal(store_schema_version(st), latest_version());
	assert_int_equal(query_int(store_db(st), "SELECT count(*) FROM audit_log"), 1);
	assert_int_equal(query_int(store_db(st), "SELECT count(*) FROM units"), 4);
	store_close(st);
}

static void
test_future_database_refused(void **state)
{
	struct fixture *fx = *state;
	struct err e = { "" };
	sqlite3 *db = NULL;
	char sql[64];

	assert_int_equal(sqlite3_open(fx->path, &db), SQLITE_OK);
	snprintf(sql, sizeof sql, "PRAGMA user_version = %d", latest_version() + 1);
	assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);

	assert_null(store_open(fx->path, &e));
	assert_non_null(strstr(e.msg, "newer"));
	assert_non_null(strstr(e.msg, fx->path));

	/* Left alone: no tables added, version unchanged. */
	assert_int_equal(sqlite3_open(fx->path, &db), SQLITE_OK);
	assert_int_equal(query_int(db, "PRAGMA user_version"), latest_version() + 1);
	assert_int_equal(query_int(db, "SELECT count(*) FROM sqlite_master"), 0);
	sqlite3_close(db);
}

static void
test_not_a_database(void **state)
{
	struct fixture *fx = *state;
	struct err e = { "" };
	FILE *fp = fopen(fx->path, "w");

	assert_non_null(fp);
	for (int i = 0; i < 200; i++)
		fputs("this is not an SQLite database\n", fp);
	fclose(fp);
	assert_null(store_open(fx->path, &e));
	assert_non_null(strstr(e.msg, fx->path));
	assert_null(store_open("/nonexistent-dir/x/y.db", &e));
	assert_non_null(strstr(e.msg, "/nonexistent-dir/x/y.db"));
}

static void
test_pragmas(void **state)
{
	struct fixture *fx = *state;
	struct store *st = open_ok(fx->path);
	sqlite3 *db = store_db(st);
	sqlite3_stmt *s = NULL;

	assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &s, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(s), SQLITE_ROW);
	assert_string_equal((const char *)sqlite3_column_text(s, 0), "wal");
	sqlite3_finalize(s);
	assert_int_equal(query_int(db, "PRAGMA foreign_keys"), 1);
	assert_int_equal(query_int(db, "PRAGMA synchronous"), 2);	/* FULL */
	assert_int_equal(query_int(db, "PRAGMA busy_timeout"), 5000);
	/* Foreign keys are enforced. */
	assert_int_not_equal(sqlite3_exec(db, "INSERT INTO unit_members (unit_id, city_id, role)"
	    " VALUES (999, 999, 'member')", NULL, NULL, NULL), SQLITE_OK);
	store_close(st);
}

static void
test_message_add_duplicate(void **state)
{
	struct fixture *fx = *state;
	struct err e = { "" };
	struct store *st = open_ok(fx->path);
	struct store_msg m = sample_msg("<abc@mail.example>", 10);
	int64_t id1 = 0, id2 = 0;

	assert_int_equal(store_message_add(st, &m, &id1, &e), 1);
	assert_true(id1 > 0);
	m.uid = 11;			/* fetched again, e.g. after a crash */
	m.state = MSG_RECORDED;
	assert_int_equal(store_message_add(st, &m, &id2, &e), 0);
	assert_int_equal(id2, id1);
	assert_int_equal(store_message_add(st, &m, NULL, &e), 0);
	assert_int_equal(store_message_count(st, -1, &e), 1);
	assert_int_equal(store_message_count(st, MSG_NEW, &e), 1);	/* first one kept */
	assert_int_equal(store_message_count(st, MSG_RECORDED, &e), 0);

	struct store_msg m2 = sample_msg("sha256:0123abcd", 12);
	m2.state = MSG_IGNORED;
	assert_int_equal(store_message_add(st, &m2, &id2, &e), 1);
	assert_true(id2 > id1);
	assert_int_equal(store_message_count(st, -1, &e), 2);
	assert_int_equal(store_message_count(st, MSG_IGNORED, &e), 1);
	store_close(st);
}

static void
test_message_bad_input(void **state)
{
	struct fixture *fx = *state;
	struct err e = { "" };
	struct store *st = open_ok(fx->path);
	struct store_msg m = sample_msg(NULL, 1);

	assert_int_equal(store_message_add(st, &m, NULL, &e), -1);
	m = sample_msg("", 1);
	assert_int_equal(store_message_add(st, &m, NULL, &e), -1);
	m = sample_msg("<x@y>", 1);
	m.state = (enum msg_state)42;
	assert_int_equal(store_message_add(st, &m, NULL, &e), -1);
	assert_int_equal(store_message_count(st, -1, &e), 0);
	store_close(st);
}

static void
test_has_uid(void **state)
{
	struct fixture *fx = *state;
	struct err e = { "" };
	struct store *st = open_ok(fx->path);
	struct store_msg m = sample_msg("<uid@mail.example>", 42);

	assert_int_equal(store_message_has_uid(st, "INBOX", 1700000000u, 42, &e), 0);
	assert_int_equal(store_message_add(st, &m, NULL, &e), 1);
	assert_int_equal(store_message_has_uid(st, "INBOX", 1700000000u, 42, &e), 1);
	assert_int_equal(store_message_has_uid(st, "INBOX", 1700000000u, 43, &e), 0);
	assert_int_equal(store_message_has_uid(st, "INBOX", 1700000001u, 42, &e), 0);
	assert_int_equal(store_message_has_uid(st, "Processed", 1700000000u, 42, &e), 0);

	assert_int_equal(store_message_state_by_uid(st, "INBOX", 1700000000u, 42, &e), MSG_NEW);
	assert_int_equal(store_message_state_by_uid(st, "INBOX", 1700000000u, 43, &e), -1);
	assert_int_equal(store_message_state_by_uid(st, "INBOX", 1, 42, &e), -1);
	m = sample_msg("<held@mail.example>", 44);
	m.state = MSG_HELD;
	assert_int_equal(store_message_add(st, &m, NULL, &e), 1);
	assert_int_equal(store_message_state_by_uid(st, "INBOX", 1700000000u, 44, &e), MSG_HELD);

	/* The whole uint32 range survives. */
	m = sample_msg("<max@mail.example>", UINT32_MAX);
	m.uidvalidity = UINT32_MAX;
	assert_int_equal(store_message_add(st, &m, NULL, &e), 1);
	assert_int_equal(store_message_has_uid(st, "INBOX", UINT32_MAX, UINT32_MAX, &e), 1);
	assert_int_equal(store_message_state_by_uid(st, "INBOX", UINT32_MAX, UINT32_MAX, &e),
	    MSG_NEW);
	store_close(st);
}

static void
test_folder_state(void **state)
{
	struct fixture *fx = *state;
	struct err e = { "" };
	struct store *st = open_ok(fx->path);
	uint32_t v = 7, last = 7;

	assert_int_equal(store_folder_get(st, "INBOX", &v, &last, &e), 0);
	assert_int_equal(store_folder_set(st, "INBOX", 1234, 10, 1714560000, &e), 0);
	assert_int_equal(store_folder_get(st, "INBOX", &v, &last, &e), 1);
	assert_int_equal(v, 1234);
	assert_int_equal(last, 10);
	assert_int_equal(store_folder_set(st, "INBOX", 1234, 25, 1714560100, &e), 0);
	assert_int_equal(store_folder_set(st, "Archivo/2024", UINT32_MAX, UINT32_MAX, 1, &e), 0);
	assert_int_equal(store_folder_get(st, "INBOX", &v, &last, &e), 1);
	assert_int_equal(last, 25);
	assert_int_equal(store_folder_get(st, "Archivo/2024", &v, &last, &e), 1);
	assert_int_equal(v, UINT32_MAX);
	assert_int_equal(last, UINT32_MAX);
	assert_int_equal(query_int(store_db(st), "SELECT count(*) FROM imap_folders"), 2);
	assert_int_equal(query_int(store_db(st),
	    "SELECT synced_at FROM imap_folders WHERE folder = 'INBOX'"), 1714560100);
	store_close(st);
}

static void
test_audit(void **state)
{
	struct fixture *fx = *state;
	struct err e = { "" };
	struct store *st = open_ok(fx->path);
	sqlite3_stmt *s = NULL;

	assert_int_equal(store_audit(st, 1714560000, "cli:root", "roster.import",
	    "cities.csv", "28 rows", &e), 0);
	assert_int_equal(store_audit(st, 1714560001, "daemon", "message.store", NULL, NULL, &e), 0);
	assert_int_equal(store_audit(st, 1, NULL, "x", NULL, NULL, &e), -1);
	assert_int_equal(sqlite3_prepare_v2(store_db(st), "SELECT at, actor, action, object,"
	    " detail FROM audit_log ORDER BY id", -1, &s, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(s), SQLITE_ROW);
	assert_int_equal(sqlite3_column_int64(s, 0), 1714560000);
	assert_string_equal((const char *)sqlite3_column_text(s, 1), "cli:root");
	assert_string_equal((const char *)sqlite3_column_text(s, 2), "roster.import");
	assert_string_equal((const char *)sqlite3_column_text(s, 3), "cities.csv");
	assert_string_equal((const char *)sqlite3_column_text(s, 4), "28 rows");
	assert_int_equal(sqlite3_step(s), SQLITE_ROW);
	assert_int_equal(sqlite3_column_type(s, 3), SQLITE_NULL);
	assert_int_equal(sqlite3_step(s), SQLITE_DONE);
	sqlite3_finalize(s);
	store_close(st);
}

static void
test_hostile_strings_round_trip(void **state)
{
	struct fixture *fx = *state;
	struct err e = { "" };
	struct store *st = open_ok(fx->path);
	static const char subject[] = "Re: \"hola\" 'chau'\r\nBcc: x@evil.example\r\n"
	    "'); DROP TABLE messages; --";
	static const char from[] = "\"O'Brien, \\\"Pat\\\"\" <pat@x.example>\n\t";
	static const char mid[] = "<'\";--\r\n@evil.example>";
	static const unsigned char raw[] = "a\0b\r\n\0\xff\xfe" "end";
	struct store_msg m = sample_msg(mid, 5);
	sqlite3_stmt *s = NULL;
	int64_t id = 0;

	m.subject = subject;
	m.from_addr = from;
	m.reason = "line1\nline2 'q' \"qq\"";
	m.raw = raw;
	m.raw_len = sizeof raw - 1;
	assert_int_equal(store_message_add(st, &m, &id, &e), 1);
	assert_int_equal(store_audit(st, 1, subject, from, mid, subject, &e), 0);

	assert_int_equal(sqlite3_prepare_v2(store_db(st), "SELECT message_id, from_addr,"
	    " subject, reason, raw FROM messages WHERE id = ?1", -1, &s, NULL), SQLITE_OK);
	sqlite3_bind_int64(s, 1, id);
	assert_int_equal(sqlite3_step(s), SQLITE_ROW);
	assert_string_equal((const char *)sqlite3_column_text(s, 0), mid);
	assert_string_equal((const char *)sqlite3_column_text(s, 1), from);
	assert_string_equal((const char *)sqlite3_column_text(s, 2), subject);
	assert_string_equal((const char *)sqlite3_column_text(s, 3), "line1\nline2 'q' \"qq\"");
	assert_int_equal(sqlite3_column_bytes(s, 4), sizeof raw - 1);
	assert_memory_equal(sqlite3_column_blob(s, 4), raw, sizeof raw - 1);
	sqlite3_finalize(s);
	assert_int_equal(store_message_count(st, -1, &e), 1);
	assert_int_equal(query_int(store_db(st),
	    "SELECT count(*) FROM audit_log WHERE actor = object OR actor = detail"), 1);

	/* The same hostile Message-ID is a duplicate, found by the bound value. */
	assert_int_equal(store_message_add(st, &m, NULL, &e), 0);
	store_close(st);
}

static void
test_empty_raw_is_a_blob(void **state)
{
	struct fixture *fx = *state;
	struct err e = { "" };
	struct store *st = open_ok(fx->path);
	struct store_msg m = sample_msg("<empty@x>", 1);

	m.raw = NULL;
	m.raw_len = 0;
	m.truncated = 1;
	assert_int_equal(store_message_add(st, &m, NULL, &e), 1);
	assert_int_equal(query_int(store_db(st),
	    "SELECT count(*) FROM messages WHERE raw IS NOT NULL AND length(raw) = 0"
	    " AND truncated = 1"), 1);
	store_close(st);
}

static void
test_transactions(void **state)
{
	struct fixture *fx = *state;
	struct err e = { "" };
	struct store *st = open_ok(fx->path);
	struct store_msg m = sample_msg("<tx@x>", 1);

	assert_int_equal(store_begin(st, &e), 0);
	assert_int_equal(store_message_add(st, &m, NULL, &e), 1);
	assert_int_equal(store_folder_set(st, "INBOX", 1, 1, 1, &e), 0);
	store_rollback(st);
	assert_int_equal(store_message_count(st, -1, &e), 0);
	assert_int_equal(store_folder_get(st, "INBOX", NULL, NULL, &e), 0);
	store_rollback(st);		/* harmless without a transaction */

	assert_int_equal(store_begin(st, &e), 0);
	assert_int_equal(store_begin(st, &e), -1);	/* no nesting */
	assert_true(strlen(e.msg) > 0);
	assert_int_equal(store_message_add(st, &m, NULL, &e), 1);
	assert_int_equal(store_commit(st, &e), 0);
	assert_int_equal(store_commit(st, &e), -1);	/* nothing to commit */
	store_close(st);

	st = open_ok(fx->path);
	assert_int_equal(store_message_count(st, -1, &e), 1);
	store_close(st);
}

static void
test_state_names(void **state)
{
	assert_string_equal(store_state_name(MSG_NEW), "new");
	assert_string_equal(store_state_name(MSG_RECORDED), "recorded");
	assert_string_equal(store_state_name(MSG_REJECTED), "rejected");
	assert_string_equal(store_state_name(MSG_HELD), "held");
	assert_string_equal(store_state_name(MSG_IGNORED), "ignored");
	assert_int_equal(store_state_parse("held"), MSG_HELD);
	assert_int_equal(store_state_parse("ignored"), MSG_IGNORED);
	assert_int_equal(store_state_parse("Held"), -1);
	assert_int_equal(store_state_parse(""), -1);
	assert_int_equal(store_state_parse(NULL), -1);
	store_close(NULL);
}

int
main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_migrate_from_zero),
		T(test_reopen_does_not_reapply),
		T(test_future_database_refused),
		T(test_not_a_database),
		T(test_pragmas),
		T(test_message_add_duplicate),
		T(test_message_bad_input),
		T(test_has_uid),
		T(test_folder_state),
		T(test_audit),
		T(test_hostile_strings_round_trip),
		T(test_empty_raw_is_a_blob),
		T(test_transactions),
		cmocka_unit_test(test_state_names),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
