#include "buildconf.h"

/*
 * mercomail applications list|show|decide — membership applications
 * (application.h) for the secretariat: what is pending, the votes, and a
 * decision by hand with the same effects as one by the votes (roster,
 * welcome or notice, the body told; the mails are only queued).
 */

#include <stdio.h>
#include <string.h>
#include <sysexits.h>
#include <time.h>

#include "application.h"
#include "clock.h"
#include "ctl.h"

int
ctl_applications_list(struct ctx *cx, int argc, char **argv)
{
	sqlite3_stmt *s;
	int rc, n = 0;

	(void)argv;
	if (argc > 0)
		return ctl_usage_error("applications list takes no arguments");
	if ((rc = ctl_open_store(cx, 1)) != 0)
		return rc;
	if (sqlite3_prepare_v2(store_db(cx->st), "SELECT a.id, a.state, a.created_at, a.deadline,"
	    " (SELECT count(*) FROM votes v WHERE v.application_id = a.id AND v.vote = 'approve'),"
	    " (SELECT count(*) FROM votes v WHERE v.application_id = a.id AND v.vote = 'reject'),"
	    " a.country, a.city, a.contact FROM applications a ORDER BY a.id DESC", -1, &s,
	    NULL) != SQLITE_OK)
		return ctl_db_fail(cx, NULL);
	printf("ID\tSTATE\tOPENED\tDEADLINE\tFOR\tAGAINST\tCOUNTRY\tCITY\tCONTACT\n");
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		char opened[32], deadline[32];
		ctl_format_time(opened, sizeof opened, sqlite3_column_int64(s, 2));
		ctl_format_time(deadline, sizeof deadline, sqlite3_column_int64(s, 3));
		printf("%lld\t%s\t%s\t%s\t%d\t%d\t", (long long)sqlite3_column_int64(s, 0),
		    (const char *)sqlite3_column_text(s, 1), opened, deadline,
		    sqlite3_column_int(s, 4), sqlite3_column_int(s, 5));
		for (int i = 6; i < 9; i++) {
			ctl_put_safe(stdout, (const char *)sqlite3_column_text(s, i));
			putchar(i < 8 ? '\t' : '\n');
		}
		n++;
	}
	if (rc != SQLITE_DONE)
		return ctl_db_fail(cx, s);
	sqlite3_finalize(s);
	fprintf(stderr, "%d applications\n", n);
	return ctl_flush_stdout();
}

static int
show_votes(struct ctx *cx, int64_t id)
{
	sqlite3_stmt *s;
	int rc, n = 0;

	if (sqlite3_prepare_v2(store_db(cx->st), "SELECT k.address, v.vote, v.at FROM votes v"
	    " JOIN contacts k ON k.id = v.contact_id WHERE v.application_id = ?1 ORDER BY v.at",
	    -1, &s, NULL) != SQLITE_OK)
		return ctl_db_fail(cx, NULL);
	sqlite3_bind_int64(s, 1, id);
	printf("Votes:\n");
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		char at[32];
		ctl_format_time(at, sizeof at, sqlite3_column_int64(s, 2));
		printf("  %s\t%s\t", (const char *)sqlite3_column_text(s, 1), at);
		ctl_put_safe(stdout, (const char *)sqlite3_column_text(s, 0));
		putchar('\n');
		n++;
	}
	if (rc != SQLITE_DONE)
		return ctl_db_fail(cx, s);
	sqlite3_finalize(s);
	if (n == 0)
		printf("  -\n");
	return 0;
}

int
ctl_applications_show(struct ctx *cx, int argc, char **argv)
{
	sqlite3_stmt *s;
	int64_t id, msg;
	char t[32];
	int rc;

	if (argc != 1 || (id = ctl_parse_positive(argv[0])) < 0)
		return ctl_usage_error("applications show needs an application id");
	if ((rc = ctl_open_store(cx, 1)) != 0)
		return rc;
	if (sqlite3_prepare_v2(store_db(cx->st), "SELECT a.state, a.city, a.country, a.contact,"
	    " a.lang, a.body, a.created_at, a.deadline, coalesce(a.decided_at, 0),"
	    " coalesce(a.decided_by, '-'), coalesce(s.reference, '-'), s.message_id"
	    " FROM applications a JOIN submissions s ON s.id = a.submission_id WHERE a.id = ?1",
	    -1, &s, NULL) != SQLITE_OK)
		return ctl_db_fail(cx, NULL);
	sqlite3_bind_int64(s, 1, id);
	if ((rc = sqlite3_step(s)) != SQLITE_ROW) {
		if (rc != SQLITE_DONE)
			return ctl_db_fail(cx, s);
		sqlite3_finalize(s);
		fprintf(stderr, "mercomail: no application %s\n", argv[0]);
		return EX_DATAERR;
	}
	printf("Application: %lld\n", (long long)id);
	ctl_show_field("State:", (const char *)sqlite3_column_text(s, 0));
	ctl_show_field("City:", (const char *)sqlite3_column_text(s, 1));
	ctl_show_field("Country:", (const char *)sqlite3_column_text(s, 2));
	ctl_show_field("Contact:", (const char *)sqlite3_column_text(s, 3));
	ctl_show_field("Language:", (const char *)sqlite3_column_text(s, 4));
	ctl_show_field("Decided by:", (const char *)sqlite3_column_text(s, 5));
	ctl_show_field("Reference:", (const char *)sqlite3_column_text(s, 10));
	ctl_format_time(t, sizeof t, sqlite3_column_int64(s, 6));
	ctl_show_field("Opened:", t);
	ctl_format_time(t, sizeof t, sqlite3_column_int64(s, 7));
	ctl_show_field("Deadline:", t);
	if (sqlite3_column_int64(s, 8)) {
		ctl_format_time(t, sizeof t, sqlite3_column_int64(s, 8));
		ctl_show_field("Decided:", t);
		ctl_show_field("By:", (const char *)sqlite3_column_text(s, 9));
	}
	msg = sqlite3_column_int64(s, 11);
	sqlite3_finalize(s);
	if (ctl_show_fields(store_db(cx->st), msg) < 0)
		return ctl_db_fail(cx, NULL);
	if ((rc = show_votes(cx, id)) != 0)
		return rc;
	return ctl_flush_stdout();
}

int
ctl_applications_decide(struct ctx *cx, int argc, char **argv)
{
	struct application_env env = { .actor = "cli" };
	const char *verdict;
	struct err e;
	int64_t id;
	int rc, r;

	if (argc != 2 || (id = ctl_parse_positive(argv[0])) < 0)
		return ctl_usage_error("applications decide needs an id and approve or reject");
	if (strcmp(argv[1], "approve") == 0)
		verdict = "approved";
	else if (strcmp(argv[1], "reject") == 0)
		verdict = "rejected";
	else
		return ctl_usage_error("applications decide N approve|reject");
	if ((rc = ctl_open_store(cx, 1)) != 0)
		return rc;
	if (cx->cfg == NULL) {
		fprintf(stderr, "mercomail: applications decide needs the configuration (-c)\n");
		return EX_CONFIG;
	}
	env.st = cx->st;
	env.cfg = cx->cfg;
	if (store_begin(cx->st, &e) < 0 ||
	    (r = application_decide(&env, id, verdict, "cli", clock_now(), &e)) < 0 ||
	    store_commit(cx->st, &e) < 0) {
		store_rollback(cx->st);
		fprintf(stderr, "mercomail: %s\n", e.msg);
		return EX_SOFTWARE;
	}
	if (r == 0) {
		fprintf(stderr, "mercomail: application %s is not pending (or does not exist)\n",
		    argv[0]);
		return EX_DATAERR;
	}
	printf("application %lld %s\n", (long long)id, verdict);
	return ctl_flush_stdout();
}
