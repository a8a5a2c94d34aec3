#include "buildconf.h"

/*
 * mercomail — the admin CLI: create the database, import and show the roster,
 * look at the messages that were fetched (ctl_messages.c) and at the
 * submissions recorded from them, or export those (ctl_submissions.c).
 * This file: main, option parsing, dispatch and the helpers the commands share.
 *
 * Exit codes (sysexits.h): EX_USAGE bad command line (unknown command or
 * option, bad number, date or export format), EX_CONFIG bad config,
 * EX_NOINPUT missing input file or database, EX_DATAERR bad import data or an
 * unknown message id or submission reference, EX_CANTCREAT the database
 * cannot be opened or created, EX_SOFTWARE other database errors, EX_OSERR
 * out of memory, EX_IOERR output errors.
 */

#define _POSIX_C_SOURCE 200809L	/* getopt, open_memstream, gmtime_r */

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include <libical/ical.h>

#include "config.h"
#include "ctl.h"
#include "err.h"
#include "roster.h"
#include "store.h"

static void
usage(FILE *fp)
{
	fprintf(fp,
	    "usage: mercomail [-c CONFIG] [-d DATABASE] COMMAND ...\n"
	    "\n"
	    "commands:\n"
	    "  init                      create or migrate the database\n"
	    "  roster import FILE...     import cities.csv / units.csv (each file all or nothing)\n"
	    "  roster list               show countries, cities, contacts, units and bodies\n"
	    "  messages list [--state STATE | --held] [--limit N]\n"
	    "                            fetched messages, newest first (at most %d unless --limit);\n"
	    "                            --held: the mail of unknown senders, waiting for a person\n"
	    "  messages show ID [--raw]  one message: metadata, parsed fields, problems, answers\n"
	    "                            and its text (--raw: then its bytes as stored)\n"
	    "  submissions list [--kind KIND] [--unit SLUG] [--since DATE] [--limit N]\n"
	    "                            recorded submissions, newest first (at most %d unless --limit)\n"
	    "  submissions show REF|ID   one submission with every field\n"
	    "  submissions export --format csv [--kind KIND] [--unit SLUG] [--since DATE]\n"
	    "                            every matching submission as CSV (RFC 4180) on stdout\n"
	    "  list members UNIT         who is on the mailing list of a unit or body: address,\n"
	    "                            language, digest mode, source (roster, mail, cli, ...)\n"
	    "  list add UNIT ADDRESS [--lang es|pt] [--digest daily|weekly|none]\n"
	    "  list remove UNIT ADDRESS  subscribe or unsubscribe an address by hand\n"
	    "  list show UNIT            its settings, digest times ([list SLUG] of the config),\n"
	    "                            members, and the addresses left out for bouncing\n"
	    "  list set UNIT [--closed yes|no] [--always yes|no]\n"
	    "                            closed: subscribers outside the roster confirm first;\n"
	    "                            always: a digest even for a period with nothing new\n"
	    "  digest preview UNIT [--lang es|pt] [--html] [--now \"YYYY-MM-DD HH:MM\"]\n"
	    "                            print the digest the list would get now\n"
	    "  digest send UNIT [--now T] queue it to every member now (even with nothing new)\n"
	    "  digest run [--now T]      queue the digests due by the schedule (what mercomaild\n"
	    "                            does each pass); T in [digest] timezone\n"
	    "  outbox list [--state queued|sent|failed] [--limit N]\n"
	    "                            outgoing mail per recipient, newest first\n"
	    "  outbox retry ID...        send a failed or deferred mail again at the next pass\n"
	    "  outbox purge [--days N]   forget sent and failed mail older than N days (30)\n"
	    "  meeting create --unit SLUG --title T --start \"YYYY-MM-DD HH:MM\"\n"
	    "         (--end \"YYYY-MM-DD HH:MM\" | --duration 90m|2h) [--tz ZONE] [--location L]\n"
	    "         [--url U] [--agenda A] [--invite CITY|ADDRESS]... [--alarm MINUTES]\n"
	    "                            schedule a meeting and queue an invitation to every\n"
	    "                            member (and each --invite); prints its reference\n"
	    "  meeting update REF [--title T] [--start ...] [--end ... | --duration D] [--tz ZONE]\n"
	    "         [--location L] [--url U] [--agenda A]\n"
	    "                            change it and queue the updated invitation\n"
	    "  meeting cancel REF        cancel it and queue the cancellation\n"
	    "  meeting list [--unit SLUG] [--all]\n"
	    "                            meetings not yet over, cancelled ones too (--all: every one)\n"
	    "  meeting show REF          one meeting, its invitees and their answers\n"
	    "  status                    what mercomaild is doing: config, pid, last passes,\n"
	    "                            counters, outbox, database size, the last errors\n"
	    "  backup FILE               an online copy of the database into a new FILE\n"
	    "                            (safe while mercomaild runs; checked for integrity)\n"
	    "  feed url FEED [--for ADDRESS]\n"
	    "                            the webcal:// and https:// links of a calendar feed\n"
	    "                            (FEED: network, unit SLUG, body SLUG, city SLUG or SLUG);\n"
	    "                            a private one: ADDRESS's own link (a token, made once)\n"
	    "  feed private SLUG on|off  whether a unit's or body's feed needs a token\n"
	    "  feed tokens SLUG          the tokens of a unit's or body's feed\n"
	    "  feed revoke TOKEN | --for ADDRESS SLUG\n"
	    "                            that link stops working (404)\n"
	    "  applications list         membership applications, their state and votes\n"
	    "  applications show N       one application: its fields and every vote\n"
	    "  applications decide N approve|reject\n"
	    "                            decide by hand (roster, welcome or notice, the body told)\n"
	    "  report activity [--since DATE] [--until DATE] [--silent-days N]\n"
	    "         [--format text|csv|html] [--lang es|pt]\n"
	    "                            per unit and body: activity reports, meetings held,\n"
	    "                            invitations answered, attendance, best practices and\n"
	    "                            MDG indicators; per city: submissions and RSVPs; who\n"
	    "                            sent nothing for N days (default 180); default period:\n"
	    "                            the last 365 days (--until: that day included)\n"
	    "  reminders run [--now T]   queue the reminders due (activity reports, meeting\n"
	    "                            answers): what mercomaild does each pass; T in UTC\n"
	    "  reminders list            the reminders sent, newest first\n"
	    "  help                      this text\n"
	    "\n"
	    "  -c CONFIG    config file (default: %s)\n"
	    "  -d DATABASE  database file (default: [store] database of the config)\n"
	    "  STATE        new, recorded, rejected, held or ignored\n"
	    "  DATE         YYYY-MM-DD (UTC): from that day on\n",
	    DEFAULT_LIMIT, DEFAULT_LIMIT, config_default_path());
}

int
ctl_usage_error(const char *fmt, ...)
{
	va_list ap;

	fputs("mercomail: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs(" (see mercomail help)\n", stderr);
	return EX_USAGE;
}

/* Read the config, printing every problem; NULL on error. */
static struct config *
load_config(const char *path)
{
	struct err e = { "" };
	char *diag = NULL;
	size_t diag_len = 0;
	FILE *d = open_memstream(&diag, &diag_len);
	struct config *cfg = config_load(path, d, &e);

	if (d != NULL) {
		fclose(d);
		fwrite(diag, 1, diag_len, stderr);
		free(diag);
	}
	/* The first problem is in e as well: show e only if diag said nothing. */
	if (cfg == NULL && diag_len == 0)
		fprintf(stderr, "mercomail: %s\n", e.msg[0] ? e.msg : "cannot read the config");
	return cfg;
}

/*
 * The database path: -d, else [store] database of the config: -c, else the
 * default file, else (no -c and no default file) the built-in defaults.
 */
static int
resolve_database(struct ctx *cx)
{
	struct stat sb;

	if (cx->db_path != NULL && cx->config_path == NULL)
		return 0;
	if (cx->config_path != NULL) {
		cx->cfg = load_config(cx->config_path);
	} else if (stat(config_default_path(), &sb) < 0 && errno == ENOENT) {
		cx->cfg = config_defaults();
		if (cx->cfg == NULL) {
			fprintf(stderr, "mercomail: out of memory\n");
			return EX_OSERR;
		}
	} else {
		cx->cfg = load_config(config_default_path());
	}
	if (cx->cfg == NULL)
		return EX_CONFIG;
	if (cx->db_path == NULL)
		cx->db_path = cx->cfg->database;
	if (cx->db_path == NULL || cx->db_path[0] == '\0') {
		fprintf(stderr, "mercomail: no database: give -d or set [store] database\n");
		return EX_CONFIG;
	}
	return 0;
}

int
ctl_open_store(struct ctx *cx, int must_exist)
{
	struct err e = { "" };
	struct stat sb;
	int rc;

	if ((rc = resolve_database(cx)) != 0)
		return rc;
	if (must_exist && stat(cx->db_path, &sb) < 0 && errno == ENOENT) {
		fprintf(stderr, "mercomail: %s: no such database (create it with "
		    "'mercomail init')\n", cx->db_path);
		return EX_NOINPUT;
	}
	if ((cx->st = store_open(cx->db_path, &e)) == NULL) {
		fprintf(stderr, "mercomail: %s\n", e.msg);
		return EX_CANTCREAT;
	}
	return 0;
}

int
ctl_db_fail(struct ctx *cx, sqlite3_stmt *s)
{
	fprintf(stderr, "mercomail: %s: %s\n", cx->db_path, sqlite3_errmsg(store_db(cx->st)));
	sqlite3_finalize(s);
	return EX_SOFTWARE;
}

int
ctl_flush_stdout(void)
{
	if (fflush(stdout) != 0 || ferror(stdout)) {
		fprintf(stderr, "mercomail: write error: %s\n", strerror(errno));
		return EX_IOERR;
	}
	return 0;
}

/*
 * Write n bytes of a string from a mail for a terminal: control characters
 * (C0, DEL and C1, which can drive a terminal) become '?', tabs and line
 * breaks a space.
 */
static void
put_safe_n(FILE *out, const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s, *end = p + n;

	for (; p < end; p++) {
		if (*p == '\t' || *p == '\r' || *p == '\n')
			fputc(' ', out);
		else if (*p < 0x20 || *p == 0x7F)
			fputc('?', out);
		else if (*p == 0xC2 && p + 1 < end && p[1] >= 0x80 && p[1] <= 0x9F) {
			fputc('?', out);
			p++;
		} else
			fputc(*p, out);
	}
}

void
ctl_put_safe(FILE *out, const char *s)
{
	if (s == NULL || *s == '\0')
		fputc('-', out);
	else
		put_safe_n(out, s, strlen(s));
}

void
ctl_put_lines(FILE *out, const char *indent, const char *s)
{
	const char *nl;
	size_t n;

	while (s != NULL && *s != '\0') {
		nl = strchr(s, '\n');
		n = nl ? (size_t)(nl - s) : strlen(s);
		if (n > 0 && s[n - 1] == '\r')
			n--;
		fputs(indent, out);
		put_safe_n(out, s, n);
		fputc('\n', out);
		s = nl ? nl + 1 : s + n;
	}
}

void
ctl_show_field(const char *label, const char *value)
{
	printf("%-12s ", label);
	ctl_put_safe(stdout, value);
	putchar('\n');
}

void
ctl_format_time(char *buf, size_t size, int64_t t)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (gmtime_r(&tt, &tm) == NULL || strftime(buf, size, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(buf, size, "@%" PRId64, t);
}

int64_t
ctl_parse_positive(const char *s)
{
	char *end;
	long long v;

	if (s == NULL || *s < '0' || *s > '9')
		return -1;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno != 0 || *end != '\0' || v <= 0)
		return -1;
	return v;
}

const char *
ctl_match_opt(int argc, char **argv, int *i, const char *name, int has_value, int *bad)
{
	const char *a = argv[*i];
	size_t n = strlen(name);

	if (strncmp(a, name, n) != 0)
		return NULL;
	if (a[n] == '=' && has_value)
		return a + n + 1;
	if (a[n] != '\0')
		return NULL;
	if (!has_value)
		return "";
	if (*i + 1 >= argc) {
		*bad = 1;
		return NULL;
	}
	return argv[++*i];
}

/* --- the commands */

static int
cmd_init(struct ctx *cx, int argc, char **argv)
{
	int rc;

	if (argc > 0)
		return ctl_usage_error("init: unexpected argument '%s'", argv[0]);
	if ((rc = ctl_open_store(cx, 0)) != 0)
		return rc;
	printf("%s: schema version %d\n", cx->db_path, store_schema_version(cx->st));
	return ctl_flush_stdout();
}

static int
cmd_roster_import(struct ctx *cx, int argc, char **argv)
{
	int rc, ret = 0;

	if (argc == 0)
		return ctl_usage_error("%s", "roster import: which FILE?");
	for (int i = 0; i < argc; i++) {
		if (access(argv[i], R_OK) < 0) {
			fprintf(stderr, "mercomail: %s: %s\n", argv[i], strerror(errno));
			return EX_NOINPUT;
		}
	}
	if ((rc = ctl_open_store(cx, 0)) != 0)
		return rc;

	for (int i = 0; i < argc; i++) {
		struct err e = { "" };
		char *diag = NULL;
		size_t diag_len = 0;
		FILE *d = open_memstream(&diag, &diag_len);

		if (d == NULL) {
			fprintf(stderr, "mercomail: out of memory\n");
			return EX_OSERR;
		}
		int n = roster_import_file(cx->st, argv[i], d, &e);
		fclose(d);
		fwrite(diag, 1, diag_len, stderr);
		if (n < 0) {
			fprintf(stderr, "mercomail: %s\n", e.msg);
			/* Problems with the data were written to diag; else the database failed. */
			rc = diag_len > 0 ? EX_DATAERR : EX_SOFTWARE;
			if (ret == 0 || rc == EX_SOFTWARE)
				ret = rc;
		} else {
			printf("%s: %d row%s imported\n", argv[i], n, n == 1 ? "" : "s");
		}
		free(diag);
	}
	rc = ctl_flush_stdout();
	return ret ? ret : rc;
}

static int
cmd_roster_list(struct ctx *cx, int argc, char **argv)
{
	struct err e = { "" };
	int rc;

	if (argc > 0)
		return ctl_usage_error("roster list: unexpected argument '%s'", argv[0]);
	if ((rc = ctl_open_store(cx, 1)) != 0)
		return rc;
	if (roster_list(cx->st, stdout, &e) < 0) {
		fprintf(stderr, "mercomail: %s\n", e.msg);
		return EX_SOFTWARE;
	}
	return ctl_flush_stdout();
}

static int
cmd_help(struct ctx *cx, int argc, char **argv)
{
	usage(stdout);
	return ctl_flush_stdout();
}

static const struct command {
	const char *name;
	const char *sub;		/* NULL: a command without subcommands */
	int (*run)(struct ctx *, int argc, char **argv);	/* the arguments after it */
} commands[] = {
	{ "init", NULL, cmd_init },
	{ "roster", "import", cmd_roster_import },
	{ "roster", "list", cmd_roster_list },
	{ "messages", "list", ctl_messages_list },
	{ "messages", "show", ctl_messages_show },
	{ "submissions", "list", ctl_submissions_list },
	{ "submissions", "show", ctl_submissions_show },
	{ "submissions", "export", ctl_submissions_export },
	{ "list", "members", ctl_list_members },
	{ "list", "add", ctl_list_add },
	{ "list", "remove", ctl_list_remove },
	{ "list", "show", ctl_list_show },
	{ "list", "set", ctl_list_set },
	{ "digest", "preview", ctl_digest_preview },
	{ "digest", "send", ctl_digest_send },
	{ "digest", "run", ctl_digest_run },
	{ "outbox", "list", ctl_outbox_list },
	{ "outbox", "retry", ctl_outbox_retry },
	{ "outbox", "purge", ctl_outbox_purge },
	{ "meeting", "create", ctl_meeting_create },
	{ "meeting", "update", ctl_meeting_update },
	{ "meeting", "cancel", ctl_meeting_cancel },
	{ "meeting", "list", ctl_meeting_list },
	{ "meeting", "show", ctl_meeting_show },
	{ "status", NULL, ctl_status },
	{ "backup", NULL, ctl_backup },
	{ "feed", "url", ctl_feed_url },
	{ "feed", "private", ctl_feed_private },
	{ "feed", "tokens", ctl_feed_tokens },
	{ "feed", "revoke", ctl_feed_revoke },
	{ "report", "activity", ctl_report_activity },
	{ "reminders", "run", ctl_reminders_run },
	{ "reminders", "list", ctl_reminders_list },
	{ "applications", "list", ctl_applications_list },
	{ "applications", "show", ctl_applications_show },
	{ "applications", "decide", ctl_applications_decide },
	{ "help", NULL, cmd_help },
};

static int
dispatch(struct ctx *cx, int argc, char **argv)
{
	int known = 0;

	for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++) {
		const struct command *c = &commands[i];
		if (strcmp(argv[0], c->name) != 0)
			continue;
		known = 1;
		if (c->sub == NULL)
			return c->run(cx, argc - 1, argv + 1);
		if (argc > 1 && strcmp(argv[1], c->sub) == 0)
			return c->run(cx, argc - 2, argv + 2);
	}
	if (known && argc > 1)
		return ctl_usage_error("%s %s: unknown subcommand", argv[0], argv[1]);
	if (known)
		return ctl_usage_error("%s: which subcommand?", argv[0]);
	return ctl_usage_error("unknown command '%s'", argv[0]);
}

int
main(int argc, char **argv)
{
	struct ctx cx = { 0 };
	int ch, rc;

	if (argc > 1 && strcmp(argv[1], "--help") == 0) {
		usage(stdout);
		return ctl_flush_stdout();
	}
	while ((ch = getopt(argc, argv, "+c:d:h")) != -1) {
		switch (ch) {
		case 'c':
			cx.config_path = optarg;
			break;
		case 'd':
			cx.db_path = optarg;
			break;
		case 'h':
			usage(stdout);
			return ctl_flush_stdout();
		default:
			usage(stderr);
			return EX_USAGE;
		}
	}
	if (optind >= argc) {
		usage(stderr);
		return EX_USAGE;
	}
	rc = dispatch(&cx, argc - optind, argv + optind);
	store_close(cx.st);
	config_free(cx.cfg);
	icaltimezone_free_builtin_timezones();
	return rc;
}
