/*
 * ctl — internal header of the admin CLI `mercomail`: the context the
 * commands share, the helpers of ctl.c, and the commands that live in their
 * own files (ctl_messages.c, ctl_submissions.c, ctl_status.c).
 *
 * Every command takes the arguments after its name and returns a sysexits.h
 * code (0 on success); error messages go to stderr. Strings read from the
 * database that came from a mail are written to the terminal with
 * ctl_put_safe() / ctl_put_lines() only.
 */
#ifndef MERCOMAIL_CTL_H
#define MERCOMAIL_CTL_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <sqlite3.h>

#include "config.h"
#include "store.h"

#define DEFAULT_LIMIT 50

struct ctx {
	const char *config_path;	/* -c */
	const char *db_path;		/* -d, else from the config */
	struct config *cfg;
	struct store *st;
};

/* "mercomail: <message> (see mercomail help)" on stderr; returns EX_USAGE. */
int ctl_usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Open the database (must_exist: for the commands that only read). 0 or an exit code. */
int ctl_open_store(struct ctx *cx, int must_exist);

/* Print the database error, finalize s (may be NULL); returns EX_SOFTWARE. */
int ctl_db_fail(struct ctx *cx, sqlite3_stmt *s);

/* Flush stdout: 0, or EX_IOERR with a message. */
int ctl_flush_stdout(void);

/* A string from a mail on one terminal line: control characters become '?',
 * tabs and line breaks a space; NULL or "" prints "-". */
void ctl_put_safe(FILE *out, const char *s);

/* A multi-line string from a mail, each line after indent and made safe as
 * above. Empty lines print the indent, so the output has no blank line. */
void ctl_put_lines(FILE *out, const char *indent, const char *s);

/* "Label:      value" (value through ctl_put_safe), one line. */
void ctl_show_field(const char *label, const char *value);

/* UTC seconds as 2026-03-01T12:00:00Z. */
void ctl_format_time(char *buf, size_t size, int64_t t);

/* A whole positive decimal number; -1 if not. */
int64_t ctl_parse_positive(const char *s);

/*
 * Options after the command: "--name VALUE", "--name=VALUE" or a flag.
 * Returns the value (or "" for a flag) if argv[*i] is that option; NULL if
 * not, with *bad set when the value is missing.
 */
const char *ctl_match_opt(int argc, char **argv, int *i, const char *name, int has_value,
    int *bad);

/* ctl_messages.c */
int ctl_messages_list(struct ctx *cx, int argc, char **argv);
int ctl_messages_show(struct ctx *cx, int argc, char **argv);
/* "Contact:    name <address>", or "-" when address is NULL. */
void ctl_show_contact(const char *name, const char *address);
/* "Fields:" and one "  field: value [line]" per row of message_fields of
 * the message (in the order of the body), or "Fields:      -". 0 or -1. */
int ctl_show_fields(sqlite3 *db, int64_t message_id);

/* ctl_submissions.c */
int ctl_submissions_list(struct ctx *cx, int argc, char **argv);
int ctl_submissions_show(struct ctx *cx, int argc, char **argv);
int ctl_submissions_export(struct ctx *cx, int argc, char **argv);

/* ctl_list.c */
int ctl_list_members(struct ctx *cx, int argc, char **argv);
int ctl_list_add(struct ctx *cx, int argc, char **argv);
int ctl_list_remove(struct ctx *cx, int argc, char **argv);
int ctl_list_show(struct ctx *cx, int argc, char **argv);
int ctl_list_set(struct ctx *cx, int argc, char **argv);

/* ctl_digest.c */
int ctl_digest_preview(struct ctx *cx, int argc, char **argv);
int ctl_digest_send(struct ctx *cx, int argc, char **argv);
int ctl_digest_run(struct ctx *cx, int argc, char **argv);

/* ctl_outbox.c */
int ctl_outbox_list(struct ctx *cx, int argc, char **argv);
int ctl_outbox_retry(struct ctx *cx, int argc, char **argv);
int ctl_outbox_purge(struct ctx *cx, int argc, char **argv);

/* ctl_meeting.c: the mails are only queued; mercomaild sends them */
int ctl_meeting_create(struct ctx *cx, int argc, char **argv);
int ctl_meeting_update(struct ctx *cx, int argc, char **argv);
int ctl_meeting_cancel(struct ctx *cx, int argc, char **argv);
int ctl_meeting_list(struct ctx *cx, int argc, char **argv);
int ctl_meeting_show(struct ctx *cx, int argc, char **argv);

/* ctl_status.c */
int ctl_status(struct ctx *cx, int argc, char **argv);
int ctl_backup(struct ctx *cx, int argc, char **argv);

/* ctl_feed.c: calendar feed links and the tokens of private feeds */
int ctl_feed_url(struct ctx *cx, int argc, char **argv);
int ctl_feed_private(struct ctx *cx, int argc, char **argv);
int ctl_feed_tokens(struct ctx *cx, int argc, char **argv);
int ctl_feed_revoke(struct ctx *cx, int argc, char **argv);

/* ctl_applications.c: membership applications (application.h) */
int ctl_applications_list(struct ctx *cx, int argc, char **argv);
int ctl_applications_show(struct ctx *cx, int argc, char **argv);
int ctl_applications_decide(struct ctx *cx, int argc, char **argv);

/* ctl_report.c: the activity report of the network (report.h) */
int ctl_report_activity(struct ctx *cx, int argc, char **argv);

/* ctl_reminders.c: the reminders of reminder.h */
int ctl_reminders_run(struct ctx *cx, int argc, char **argv);
int ctl_reminders_list(struct ctx *cx, int argc, char **argv);

#endif
