#include "buildconf.h"

/*
 * mercomail reminders run|list — the reminders of reminder.h by hand: run
 * queues those due (what mercomaild does each pass; mercomaild sends
 * them), list shows those sent, newest first.
 *
 * --now T (UTC: "YYYY-MM-DD", "YYYY-MM-DDTHH:MM:SSZ" or epoch seconds, as
 * MERCOMAIL_NOW) runs as if it were that time; without it, clock_now().
 */

#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sysexits.h>
#include <time.h>

#include "clock.h"
#include "ctl.h"
#include "reminder.h"

int
ctl_reminders_run(struct ctx *cx, int argc, char **argv)
{
	struct err e = { "" };
	unsigned queued = 0;
	time_t now = clock_now();
	const char *v;
	int rc, bad = 0;

	for (int i = 0; i < argc; i++) {
		if ((v = ctl_match_opt(argc, argv, &i, "--now", 1, &bad)) != NULL) {
			int64_t t = clock_parse(v);
			if (t < 0)
				return ctl_usage_error("--now wants YYYY-MM-DD or "
				    "YYYY-MM-DDTHH:MM:SSZ (UTC)");
			now = (time_t)t;
		} else {
			return ctl_usage_error(bad ? "--now needs a value" : "unknown option %s",
			    argv[i]);
		}
	}
	if ((rc = ctl_open_store(cx, 1)) != 0)
		return rc;
	if (cx->cfg == NULL || cx->cfg->smtp.from == NULL) {
		fprintf(stderr, "mercomail: reminders need a config with [smtp] from (-c)\n");
		return EX_CONFIG;
	}
	if (reminder_run(cx->st, cx->cfg, now, &queued, &e) < 0) {
		fprintf(stderr, "mercomail: %s\n", e.msg);
		return EX_SOFTWARE;
	}
	printf("%u reminders queued\n", queued);
	return ctl_flush_stdout();
}

int
ctl_reminders_list(struct ctx *cx, int argc, char **argv)
{
	sqlite3_stmt *s = NULL;
	int rc;

	(void)argv;
	if (argc > 0)
		return ctl_usage_error("reminders list takes no arguments");
	if ((rc = ctl_open_store(cx, 1)) != 0)
		return rc;
	if (sqlite3_prepare_v2(store_db(cx->st),
	    "SELECT r.sent_at, r.kind, r.round, coalesce(CASE r.kind WHEN 'report'"
	    "  THEN (SELECT slug FROM units WHERE id = r.object)"
	    "  ELSE (SELECT reference FROM meetings WHERE id = r.object) END, r.object),"
	    " r.recipient, coalesce(o.state, '-')"
	    " FROM reminders r LEFT JOIN outbox o ON o.id = r.outbox_id"
	    " ORDER BY r.sent_at DESC, r.id DESC", -1, &s, NULL) != SQLITE_OK)
		return ctl_db_fail(cx, s);
	printf("%-20s  %-6s  %-5s  %-22s  %-7s  %s\n", "SENT", "KIND", "ROUND", "ABOUT", "OUTBOX",
	    "RECIPIENT");
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		char when[32];

		ctl_format_time(when, sizeof when, sqlite3_column_int64(s, 0));
		printf("%-20s  %-6s  %-5d  ", when, (const char *)sqlite3_column_text(s, 1),
		    sqlite3_column_int(s, 2));
		printf("%-22s  %-7s  ", (const char *)sqlite3_column_text(s, 3),
		    (const char *)sqlite3_column_text(s, 5));
		ctl_put_safe(stdout, (const char *)sqlite3_column_text(s, 4));
		putchar('\n');
	}
	if (rc != SQLITE_DONE)
		return ctl_db_fail(cx, s);
	sqlite3_finalize(s);
	return ctl_flush_stdout();
}
