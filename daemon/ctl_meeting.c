#include "buildconf.h"

/*
 * mercomail meeting create / update / cancel / list / show.
 *
 * create, update and cancel change the database and queue the mails (one
 * per invitee) in the outbox, in one transaction; mercomaild sends them on
 * its next pass. Times on the command line are wall-clock times in the
 * meeting's zone (--tz, default the network's seat, America/Montevideo).
 */

#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <time.h>

#include <sqlite3.h>

#include "ctl.h"
#include "ical.h"
#include "log.h"
#include "meeting.h"
#include "store.h"

#define CLI_ZONE	"America/Montevideo"	/* the network's seat */
#define MAX_INVITE	256			/* --invite options */

static const char *
col_text(sqlite3_stmt *s, int i)
{
	return (const char *)sqlite3_column_text(s, i);
}

/* ---- arguments ------------------------------------------------------------ */

/* "YYYY-MM-DD HH:MM" (or with a T) in tzid -> UTC. 0 or EX_USAGE. */
static int
parse_local(const char *opt, const char *v, const char *tzid, time_t *out)
{
	struct err e = { "" };
	int y, mo, d, h, mi, n = 0;

	if (strlen(v) != 16 || (v[10] != ' ' && v[10] != 'T') ||
	    sscanf(v, "%4d-%2d-%2d%*c%2d:%2d%n", &y, &mo, &d, &h, &mi, &n) != 5 || n != 16)
		return ctl_usage_error("%s '%s': give \"YYYY-MM-DD HH:MM\"", opt, v);
	if (ical_local_to_utc(tzid, y, mo, d, h, mi, out, &e) < 0)
		return ctl_usage_error("%s '%s': %s", opt, v, e.msg);
	return 0;
}

/* "90m", "2h", "1h30m" or "90" (minutes) -> seconds; -1 if not. */
static long
parse_duration(const char *v)
{
	long total = 0, n;
	char *end;

	if (v == NULL || *v < '0' || *v > '9')
		return -1;
	while (*v != '\0') {
		n = strtol(v, &end, 10);
		if (end == v || n < 0 || n > 100000)
			return -1;
		if (*end == 'h')
			total += n * 3600, end++;
		else if (*end == 'm' || *end == '\0')
			total += n * 60, end += *end == 'm';
		else
			return -1;
		v = end;
	}
	return total > 0 ? total : -1;
}

/* What create and update are given. */
struct opts {
	const char *unit, *title, *start, *end, *duration, *tz, *location, *url, *agenda;
	const char *alarm;
	const char *invite[MAX_INVITE];
	size_t ninvite;
	int all;
};

/* The options of create (with_unit), update and list (list). 0 or EX_USAGE;
 * *ref gets the one positional argument when ref is not NULL. */
static int
parse_opts(int argc, char **argv, const char *cmd, struct opts *o, const char **ref)
{
	struct { const char *name; const char **slot; } named[] = {
		{ "--unit", &o->unit }, { "--title", &o->title }, { "--start", &o->start },
		{ "--end", &o->end }, { "--duration", &o->duration }, { "--tz", &o->tz },
		{ "--location", &o->location }, { "--url", &o->url }, { "--agenda", &o->agenda },
		{ "--alarm", &o->alarm },
	};
	const char *v;
	int bad = 0;

	for (int i = 0; i < argc; i++) {
		size_t k;
		for (k = 0; k < sizeof named / sizeof named[0]; k++)
			if ((v = ctl_match_opt(argc, argv, &i, named[k].name, 1, &bad)) != NULL) {
				*named[k].slot = v;
				break;
			}
		if (k < sizeof named / sizeof named[0])
			continue;
		if ((v = ctl_match_opt(argc, argv, &i, "--invite", 1, &bad)) != NULL) {
			if (o->ninvite == MAX_INVITE)
				return ctl_usage_error("at most %d --invite", MAX_INVITE);
			o->invite[o->ninvite++] = v;
		} else if (ctl_match_opt(argc, argv, &i, "--all", 0, &bad) != NULL) {
			o->all = 1;
		} else if (bad) {
			return ctl_usage_error("%s needs a value", argv[i]);
		} else if (ref != NULL && *ref == NULL && argv[i][0] != '-') {
			*ref = argv[i];
		} else {
			return ctl_usage_error("meeting %s: unexpected argument '%s'", cmd, argv[i]);
		}
	}
	return 0;
}

/* ---- the environment of the commands that send ------------------------------ */

struct sendctx {
	struct meeting_env env;
	char *key;
};

static void
sendctx_free(struct sendctx *sc)
{
	if (sc->key != NULL) {
		explicit_bzero(sc->key, strlen(sc->key));
		free(sc->key);
	}
}

/* After ctl_open_store: the config must name smtp.from; the key is read. */
static int
sendctx_init(struct ctx *cx, struct sendctx *sc)
{
	struct err e = { "" };

	memset(sc, 0, sizeof *sc);
	if (cx->cfg == NULL || cx->cfg->smtp.from == NULL) {
		fprintf(stderr, "mercomail: meetings need the config's [smtp] from "
		    "(give -c CONFIG)\n");
		return EX_CONFIG;
	}
	if (cx->cfg->mail.token_key_file != NULL) {
		if ((sc->key = config_read_secret(cx->cfg->mail.token_key_file, &e)) == NULL) {
			fprintf(stderr, "mercomail: mail.token_key_file: %s\n", e.msg);
			return EX_CONFIG;
		}
		sc->env.key = (const unsigned char *)sc->key;
		sc->env.keylen = strlen(sc->key);
	}
	sc->env.cfg = cx->cfg;
	sc->env.actor = "cli";
	log_set_level(LOG_LVL_WARN);	/* the command says itself what it did */
	ical_init();
	return 0;
}

/* Open, check, begin. 0 or an exit code. */
static int
begin(struct ctx *cx, struct sendctx *sc)
{
	struct err e = { "" };
	int rc;

	if ((rc = ctl_open_store(cx, 1)) != 0 || (rc = sendctx_init(cx, sc)) != 0)
		return rc;
	if (store_begin(cx->st, &e) < 0) {
		fprintf(stderr, "mercomail: %s\n", e.msg);
		return EX_SOFTWARE;
	}
	return 0;
}

/* Commit (r == 0) or roll back and report e. An exit code. */
static int
finish(struct ctx *cx, struct sendctx *sc, int r, struct err *e)
{
	if (r == 0 && store_commit(cx->st, e) < 0) {
		fprintf(stderr, "mercomail: %s\n", e->msg);
		sendctx_free(sc);
		return EX_SOFTWARE;
	}
	if (r < 0) {
		store_rollback(cx->st);
		fprintf(stderr, "mercomail: %s\n", e->msg);
	}
	sendctx_free(sc);
	return r < 0 ? EX_DATAERR : 0;
}

static int64_t
count_invitees(struct ctx *cx, int64_t id)
{
	sqlite3_stmt *s = NULL;
	int64_t n = -1;

	if (sqlite3_prepare_v2(store_db(cx->st), "SELECT count(*) FROM meeting_attendees"
	    " WHERE meeting_id = ?1", -1, &s, NULL) == SQLITE_OK) {
		sqlite3_bind_int64(s, 1, id);
		if (sqlite3_step(s) == SQLITE_ROW)
			n = sqlite3_column_int64(s, 0);
	}
	sqlite3_finalize(s);
	return n;
}

static void
say_queued(struct ctx *cx, int64_t id, const char *what)
{
	printf("%" PRId64 " %s queued in the outbox; mercomaild sends them on its next pass\n",
	    count_invitees(cx, id), what);
}

/* ---- create --------------------------------------------------------------- */

/* The end from --end or --duration. 0 or EX_USAGE. */
static int
end_time(const struct opts *o, const char *tzid, time_t start, time_t *end)
{
	long d;

	if (o->end != NULL && o->duration != NULL)
		return ctl_usage_error("%s", "give --end or --duration, not both");
	if (o->end != NULL)
		return parse_local("--end", o->end, tzid, end);
	if ((d = parse_duration(o->duration)) < 0)
		return ctl_usage_error("--duration '%s': give e.g. 90m, 2h or 1h30m", o->duration);
	*end = start + d;
	return 0;
}

static int
create_spec(const struct opts *o, struct meeting_spec *sp)
{
	int64_t alarm = -1;
	int rc;

	if (o->unit == NULL || o->title == NULL || o->start == NULL ||
	    (o->end == NULL && o->duration == NULL))
		return ctl_usage_error("%s", "meeting create needs --unit, --title, --start and "
		    "--end or --duration");
	if (!ical_zone_known(o->tz))
		return ctl_usage_error("--tz '%s': not a time zone known here", o->tz);
	if (o->alarm != NULL && strcmp(o->alarm, "0") != 0 &&
	    (alarm = ctl_parse_positive(o->alarm)) < 0)
		return ctl_usage_error("--alarm '%s': give minutes (0: none)", o->alarm);
	*sp = (struct meeting_spec){ .unit = o->unit, .title = o->title, .tzid = o->tz,
	    .location = o->location, .url = o->url, .agenda = o->agenda, .extra = o->invite,
	    .nextra = o->ninvite, .alarm_minutes = o->alarm ? (int)(alarm < 0 ? 0 :
	    alarm > 100000 ? 100000 : alarm) : -1 };
	if ((rc = parse_local("--start", o->start, o->tz, &sp->start)) != 0)
		return rc;
	return end_time(o, o->tz, sp->start, &sp->end);
}

int
ctl_meeting_create(struct ctx *cx, int argc, char **argv)
{
	struct opts o = { .tz = CLI_ZONE };
	struct meeting_spec sp;
	struct sendctx sc = { 0 };
	struct err e = { "" };
	char ref[32];
	int64_t id;
	int rc;

	ical_init();
	if ((rc = parse_opts(argc, argv, "create", &o, NULL)) != 0 ||
	    (rc = create_spec(&o, &sp)) != 0 || (rc = begin(cx, &sc)) != 0) {
		sendctx_free(&sc);
		return rc;
	}
	rc = finish(cx, &sc, meeting_create(cx->st, &sc.env, &sp, time(NULL), &id, ref, &e), &e);
	if (rc != 0)
		return rc;
	printf("%s\n", ref);
	say_queued(cx, id, "invitations");
	return ctl_flush_stdout();
}

/* ---- update, cancel ------------------------------------------------------- */

/* The meeting named by ref (after ctl_open_store). 0 or an exit code. */
static int
find(struct ctx *cx, const char *ref, int64_t *id)
{
	struct err e = { "" };
	int r;

	if (ref == NULL)
		return ctl_usage_error("%s", "which meeting (reference)?");
	if ((r = meeting_find(cx->st, ref, id, &e)) < 0) {
		fprintf(stderr, "mercomail: %s\n", e.msg);
		return EX_SOFTWARE;
	}
	if (r == 0) {
		fprintf(stderr, "mercomail: no meeting '%s'\n", ref);
		return EX_DATAERR;
	}
	return 0;
}

/* The change asked for, times read in the meeting's (new) zone. A new
 * start without a new end keeps the duration. 0 or an exit code. */
static int
change_of(struct ctx *cx, int64_t id, const struct opts *o, struct meeting_change *c)
{
	struct err e = { "" };
	char tzid[64];
	time_t start, end;
	int rc;

	if (meeting_times(cx->st, id, &start, &end, tzid, &e) <= 0) {
		fprintf(stderr, "mercomail: %s\n", e.msg[0] ? e.msg : "no such meeting");
		return EX_SOFTWARE;
	}
	*c = (struct meeting_change){ .title = o->title, .tzid = o->tz, .location = o->location,
	    .url = o->url, .agenda = o->agenda };
	if (o->tz != NULL && !ical_zone_known(o->tz))
		return ctl_usage_error("--tz '%s': not a time zone known here", o->tz);
	if (o->tz != NULL)
		snprintf(tzid, sizeof tzid, "%s", o->tz);
	if (o->start != NULL && (rc = parse_local("--start", o->start, tzid, &c->start)) != 0)
		return rc;
	if (o->end != NULL || o->duration != NULL)
		return end_time(o, tzid, c->start ? c->start : start, &c->end);
	if (c->start != 0)
		c->end = c->start + (end - start);
	return 0;
}

int
ctl_meeting_update(struct ctx *cx, int argc, char **argv)
{
	struct opts o = { 0 };
	struct meeting_change c;
	struct sendctx sc = { 0 };
	struct err e = { "" };
	const char *ref = NULL;
	int64_t id;
	int rc;

	if ((rc = parse_opts(argc, argv, "update", &o, &ref)) != 0)
		return rc;
	if (o.unit || o.alarm || o.ninvite || o.all)
		return ctl_usage_error("%s", "meeting update changes --title, --start, --end, "
		    "--duration, --tz, --location, --url or --agenda");
	if (!o.title && !o.start && !o.end && !o.duration && !o.tz && !o.location && !o.url &&
	    !o.agenda)
		return ctl_usage_error("%s", "meeting update: what changes?");
	if ((rc = begin(cx, &sc)) != 0 || (rc = find(cx, ref, &id)) != 0 ||
	    (rc = change_of(cx, id, &o, &c)) != 0) {
		if (cx->st != NULL)
			store_rollback(cx->st);
		sendctx_free(&sc);
		return rc;
	}
	if ((rc = finish(cx, &sc, meeting_update(cx->st, &sc.env, id, &c, time(NULL), &e),
	    &e)) != 0)
		return rc;
	say_queued(cx, id, "updates");
	return ctl_flush_stdout();
}

int
ctl_meeting_cancel(struct ctx *cx, int argc, char **argv)
{
	struct opts o = { 0 };
	struct sendctx sc = { 0 };
	struct err e = { "" };
	const char *ref = NULL;
	int64_t id;
	int rc;

	if ((rc = parse_opts(argc, argv, "cancel", &o, &ref)) != 0)
		return rc;
	if (o.unit || o.title || o.start || o.end || o.duration || o.tz || o.location || o.url ||
	    o.agenda || o.alarm || o.ninvite || o.all)
		return ctl_usage_error("%s", "meeting cancel takes only the reference");
	if ((rc = begin(cx, &sc)) != 0 || (rc = find(cx, ref, &id)) != 0) {
		if (cx->st != NULL)
			store_rollback(cx->st);
		sendctx_free(&sc);
		return rc;
	}
	if ((rc = finish(cx, &sc, meeting_cancel(cx->st, &sc.env, id, time(NULL), &e), &e)) != 0)
		return rc;
	say_queued(cx, id, "cancellations");
	return ctl_flush_stdout();
}

/* ---- list, show ----------------------------------------------------------- */

/* "2026-12-03 10:00 America/Montevideo" */
static void
put_local(int64_t t, const char *tzid)
{
	char buf[32];

	if (tzid != NULL && ical_format_local((time_t)t, tzid, buf, sizeof buf) == 0)
		printf("%s %s", buf, tzid);
	else {
		ctl_format_time(buf, sizeof buf, t);
		fputs(buf, stdout);
	}
}

int
ctl_meeting_list(struct ctx *cx, int argc, char **argv)
{
	struct opts o = { 0 };
	sqlite3_stmt *s = NULL;
	int rc;

	if ((rc = parse_opts(argc, argv, "list", &o, NULL)) != 0)
		return rc;
	if (o.title || o.start || o.end || o.duration || o.tz || o.location || o.url || o.agenda ||
	    o.alarm || o.ninvite)
		return ctl_usage_error("%s", "meeting list takes --unit and --all");
	if ((rc = ctl_open_store(cx, 1)) != 0)
		return rc;
	ical_init();
	if (sqlite3_prepare_v2(store_db(cx->st),
	    "SELECT m.reference, m.start_at, m.tzid, m.status, u.slug,"
	    " (SELECT count(*) FROM meeting_attendees a WHERE a.meeting_id = m.id),"
	    " (SELECT count(*) FROM meeting_attendees a WHERE a.meeting_id = m.id"
	    " AND a.partstat = 'ACCEPTED'), m.title FROM meetings m JOIN units u"
	    " ON u.id = m.unit_id WHERE (?1 IS NULL OR u.slug = ?1) AND (?2 OR m.end_at >= ?3)"
	    " ORDER BY m.start_at, m.id", -1, &s, NULL) != SQLITE_OK)
		return ctl_db_fail(cx, s);
	if (o.unit != NULL)
		sqlite3_bind_text(s, 1, o.unit, -1, SQLITE_STATIC);
	sqlite3_bind_int(s, 2, o.all);
	sqlite3_bind_int64(s, 3, (int64_t)time(NULL));
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		ctl_put_safe(stdout, col_text(s, 0));
		putchar('\t');
		put_local(sqlite3_column_int64(s, 1), col_text(s, 2));
		printf("\t%s\t%s\t%lld/%lld accepted\t", col_text(s, 3), col_text(s, 4),
		    (long long)sqlite3_column_int64(s, 6), (long long)sqlite3_column_int64(s, 5));
		ctl_put_safe(stdout, col_text(s, 7));
		putchar('\n');
	}
	if (rc != SQLITE_DONE)
		return ctl_db_fail(cx, s);
	sqlite3_finalize(s);
	return ctl_flush_stdout();
}

static void
show_meeting(sqlite3_stmt *s)
{
	char when[32];
	const char *tz = col_text(s, 5);

	ctl_show_field("Reference:", col_text(s, 0));
	printf("%-12s %" PRId64 "\n", "Id:", (int64_t)sqlite3_column_int64(s, 1));
	ctl_show_field("UID:", col_text(s, 2));
	ctl_show_field("Unit:", col_text(s, 3));
	ctl_show_field("Title:", col_text(s, 4));
	printf("%-12s ", "Start:");
	put_local(sqlite3_column_int64(s, 6), tz);
	printf("\n%-12s ", "End:");
	put_local(sqlite3_column_int64(s, 7), tz);
	putchar('\n');
	ctl_show_field("Location:", col_text(s, 8));
	ctl_show_field("URL:", col_text(s, 9));
	ctl_show_field("Status:", col_text(s, 10));
	printf("%-12s %d\n", "Sequence:", sqlite3_column_int(s, 11));
	printf("%-12s %d minutes before\n", "Alarm:", sqlite3_column_int(s, 12));
	ctl_show_field("Organizer:", col_text(s, 13));
	ctl_format_time(when, sizeof when, sqlite3_column_int64(s, 14));
	printf("%-12s %s\n", "Created:", when);
	ctl_format_time(when, sizeof when, sqlite3_column_int64(s, 15));
	printf("%-12s %s\n", "Changed:", when);
	if (sqlite3_column_type(s, 16) == SQLITE_NULL) {
		ctl_show_field("Agenda:", NULL);
	} else {
		puts("Agenda:");
		ctl_put_lines(stdout, "  ", col_text(s, 16));
	}
}

/* The invitees, one per line, then the tally. 0 or -1. */
static int
show_invitees(sqlite3 *db, int64_t id)
{
	static const char *const states[] = { "ACCEPTED", "DECLINED", "TENTATIVE", "DELEGATED",
	    "NEEDS-ACTION" };
	long long tally[5] = { 0 };
	sqlite3_stmt *s = NULL;
	char when[32];
	int rc;

	if (sqlite3_prepare_v2(db, "SELECT a.address, c.name, a.role, a.partstat, a.answered_at,"
	    " a.answer_via FROM meeting_attendees a LEFT JOIN cities c ON c.id = a.city_id"
	    " WHERE a.meeting_id = ?1 ORDER BY a.rowid", -1, &s, NULL) != SQLITE_OK)
		return -1;
	sqlite3_bind_int64(s, 1, id);
	puts("Invitees:");
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		const char *ps = col_text(s, 3);
		fputs("  ", stdout);
		ctl_put_safe(stdout, col_text(s, 0));
		putchar('\t');
		ctl_put_safe(stdout, col_text(s, 1));
		printf("\t%s\t%s", col_text(s, 2), ps);
		if (sqlite3_column_type(s, 4) != SQLITE_NULL) {
			ctl_format_time(when, sizeof when, sqlite3_column_int64(s, 4));
			printf("\t%s (%s)", when, col_text(s, 5) ? col_text(s, 5) : "-");
		}
		putchar('\n');
		for (int i = 0; i < 5; i++)
			tally[i] += strcmp(ps, states[i]) == 0;
	}
	sqlite3_finalize(s);
	printf("Tally:       %lld accepted, %lld declined, %lld tentative, %lld delegated, "
	    "%lld no answer\n", tally[0], tally[1], tally[2], tally[3], tally[4]);
	return rc == SQLITE_DONE ? 0 : -1;
}

int
ctl_meeting_show(struct ctx *cx, int argc, char **argv)
{
	sqlite3_stmt *s = NULL;
	int64_t id;
	int rc;

	if (argc == 0)
		return ctl_usage_error("%s", "meeting show: which reference?");
	if (argc > 1)
		return ctl_usage_error("meeting show: unexpected argument '%s'", argv[1]);
	if ((rc = ctl_open_store(cx, 1)) != 0 || (rc = find(cx, argv[0], &id)) != 0)
		return rc;
	ical_init();
	if (sqlite3_prepare_v2(store_db(cx->st),
	    "SELECT m.reference, m.id, m.uid, u.slug, m.title, m.tzid, m.start_at, m.end_at,"
	    " m.location, m.url, m.status, m.sequence, m.alarm_minutes, k.address,"
	    " m.created_at, m.changed_at, m.agenda FROM meetings m JOIN units u"
	    " ON u.id = m.unit_id LEFT JOIN contacts k ON k.id = m.organizer_id"
	    " WHERE m.id = ?1", -1, &s, NULL) != SQLITE_OK)
		return ctl_db_fail(cx, s);
	sqlite3_bind_int64(s, 1, id);
	if (sqlite3_step(s) != SQLITE_ROW)
		return ctl_db_fail(cx, s);
	show_meeting(s);
	sqlite3_finalize(s);
	if (show_invitees(store_db(cx->st), id) < 0)
		return ctl_db_fail(cx, NULL);
	return ctl_flush_stdout();
}
