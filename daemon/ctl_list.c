#include "buildconf.h"

/*
 * mercomail list members|add|remove|show|set — the mailing list of a unit
 * or body (list.h): who is on it, subscriptions by hand, its settings.
 */

#include <stdio.h>
#include <string.h>
#include <sysexits.h>
#include <time.h>

#include "auth.h"
#include "ctl.h"
#include "list.h"

/* The bounce threshold: the config's; with -d and no -c, the built-in
 * defaults (the config is then made here, and freed with the context).
 * NULL when out of memory. */
static const struct config_lists *
lists_cfg(struct ctx *cx)
{
	if (cx->cfg == NULL)
		cx->cfg = config_defaults();
	return cx->cfg ? &cx->cfg->lists : NULL;
}

static int
print_member(const struct list_member *m, void *arg, struct err *e)
{
	(void)e;
	(*(int *)arg)++;
	ctl_put_safe(stdout, m->address);
	printf("\t%s\t%s\t%s\t", m->lang, m->digest, m->source);
	ctl_put_safe(stdout, m->name[0] ? m->name : NULL);
	putchar('\n');
	return 0;
}

/* The unit named on the command line: 0 or an exit code. */
static int
unit_arg(struct ctx *cx, const char *slug, int64_t *id)
{
	struct err e = { "" };
	int r = list_unit(cx->st, slug, "es", id, NULL, 0, NULL, &e);

	if (r < 0)
		return ctl_db_fail(cx, NULL);
	if (r == 0) {
		fprintf(stderr, "mercomail: no unit or body '%s' (see mercomail roster list)\n", slug);
		return EX_DATAERR;
	}
	return 0;
}

int
ctl_list_members(struct ctx *cx, int argc, char **argv)
{
	const struct config_lists *lc;
	struct err e = { "" };
	int64_t unit;
	int rc, n = 0;

	if (argc != 1)
		return ctl_usage_error("list members needs a UNIT");
	if ((rc = ctl_open_store(cx, 1)) != 0 || (rc = unit_arg(cx, argv[0], &unit)) != 0)
		return rc;
	if ((lc = lists_cfg(cx)) == NULL) {
		fprintf(stderr, "mercomail: out of memory\n");
		return EX_OSERR;
	}
	if (list_members(cx->st, unit, lc, time(NULL), print_member, &n, &e) < 0) {
		fprintf(stderr, "mercomail: %s\n", e.msg);
		return EX_SOFTWARE;
	}
	fprintf(stderr, "%d members\n", n);
	return ctl_flush_stdout();
}

/* list add UNIT ADDRESS [--lang es|pt] [--digest daily|weekly|none], list remove UNIT ADDRESS */
static int
change(struct ctx *cx, int argc, char **argv, int remove)
{
	const char *lang = NULL, *digest = NULL, *v;
	char addr[256];
	struct err e = { "" };
	int64_t unit;
	int rc, bad = 0;

	if (argc < 2)
		return ctl_usage_error("list %s needs a UNIT and an ADDRESS", remove ? "remove" : "add");
	for (int i = 2; i < argc; i++) {
		if (!remove && (v = ctl_match_opt(argc, argv, &i, "--lang", 1, &bad)) != NULL)
			lang = v;
		else if (!remove && (v = ctl_match_opt(argc, argv, &i, "--digest", 1, &bad)) != NULL)
			digest = v;
		else
			return ctl_usage_error("unknown option %s", argv[i]);
	}
	if (bad)
		return ctl_usage_error("an option needs a value");
	if (lang && strcmp(lang, "es") != 0 && strcmp(lang, "pt") != 0)
		return ctl_usage_error("--lang is es or pt");
	if (digest && strcmp(digest, "daily") != 0 && strcmp(digest, "weekly") != 0 &&
	    strcmp(digest, "none") != 0)
		return ctl_usage_error("--digest is daily, weekly or none");
	if (auth_normalize_address(argv[1], addr, sizeof addr) < 0) {
		fprintf(stderr, "mercomail: '%s' is not a mail address\n", argv[1]);
		return EX_DATAERR;
	}
	if ((rc = ctl_open_store(cx, 1)) != 0 || (rc = unit_arg(cx, argv[0], &unit)) != 0)
		return rc;
	if (store_begin(cx->st, &e) < 0 ||
	    list_set(cx->st, unit, addr, lang, digest, remove, "cli", time(NULL), &e) < 0 ||
	    store_audit(cx->st, time(NULL), "cli", remove ? "list.remove" : "list.add", argv[0],
	    addr, &e) < 0 || store_commit(cx->st, &e) < 0) {
		store_rollback(cx->st);
		fprintf(stderr, "mercomail: %s\n", e.msg);
		return EX_SOFTWARE;
	}
	printf("%s %s %s\n", addr, remove ? "removed from" : "added to", argv[0]);
	return ctl_flush_stdout();
}

int
ctl_list_add(struct ctx *cx, int argc, char **argv)
{
	return change(cx, argc, argv, 0);
}

int
ctl_list_remove(struct ctx *cx, int argc, char **argv)
{
	return change(cx, argc, argv, 1);
}

/* ------------------------------------------------------ show and set */

static int
count_member(const struct list_member *m, void *arg, struct err *e)
{
	(void)m;
	(void)e;
	(*(int *)arg)++;
	return 0;
}

static void
show_time(const char *label, int day, int hour, int minute, const char *tz)
{
	static const char *const days[] = { "sun", "mon", "tue", "wed", "thu", "fri", "sat" };
	char buf[96];

	if (hour < 0)
		snprintf(buf, sizeof buf, "off");
	else if (day < 0)
		snprintf(buf, sizeof buf, "%02d:%02d %s", hour, minute, tz);
	else
		snprintf(buf, sizeof buf, "%s %02d:%02d %s", days[day % 7], hour, minute, tz);
	ctl_show_field(label, buf);
}

static int
print_bouncer(const char *address, int64_t bounces, time_t last, void *arg)
{
	char when[32];

	(*(int *)arg)++;
	ctl_format_time(when, sizeof when, last);
	printf("  ");
	ctl_put_safe(stdout, address);
	printf("\t%lld hard bounces, last %s\n", (long long)bounces, when);
	return 0;
}

/* list show UNIT: its settings, digest times, members, and its addresses
 * left out for bouncing. */
int
ctl_list_show(struct ctx *cx, int argc, char **argv)
{
	const struct config_lists *lc;
	struct config_digest dc;
	struct err e = { "" };
	int64_t unit;
	int rc, closed, always, n = 0, nb = 0;
	char buf[64];

	if (argc != 1)
		return ctl_usage_error("list show needs a UNIT");
	if ((rc = ctl_open_store(cx, 1)) != 0 || (rc = unit_arg(cx, argv[0], &unit)) != 0)
		return rc;
	if ((lc = lists_cfg(cx)) == NULL) {	/* after ctl_open_store, which reads -c */
		fprintf(stderr, "mercomail: out of memory\n");
		return EX_OSERR;
	}
	config_digest_for(cx->cfg, argv[0], &dc);
	if (list_settings(cx->st, unit, &closed, &always, &e) < 0 ||
	    list_members(cx->st, unit, lc, time(NULL), count_member, &n, &e) < 0)
		return ctl_db_fail(cx, NULL);
	ctl_show_field("List", argv[0]);
	ctl_show_field("Subscribing", closed ? "closed (outside the roster: confirmation first)"
	    : "open");
	ctl_show_field("Empty digest", always ? "sent (always)" : "not sent");
	show_time("Daily digest", -1, dc.daily_hour, dc.daily_minute, dc.timezone);
	show_time("Weekly digest", dc.weekly_day, dc.weekly_hour, dc.weekly_minute, dc.timezone);
	snprintf(buf, sizeof buf, "%d", n);
	ctl_show_field("Members", buf);
	snprintf(buf, sizeof buf, "%d hard bounces in %d days", lc->bounce_limit, lc->bounce_days);
	ctl_show_field("Left out at", buf);
	printf("Bouncing (no list mail):\n");
	if (list_bouncing(cx->st, unit, lc, time(NULL), print_bouncer, &nb, &e) < 0)
		return ctl_db_fail(cx, NULL);
	if (nb == 0)
		printf("  none\n");
	return ctl_flush_stdout();
}

/* "yes"/"no" of an option into *v; -1 if it is neither. */
static int
yes_no(const char *s, int *v)
{
	if (strcmp(s, "yes") == 0)
		*v = 1;
	else if (strcmp(s, "no") == 0)
		*v = 0;
	else
		return -1;
	return 0;
}

/* list set UNIT [--closed yes|no] [--always yes|no] */
int
ctl_list_set(struct ctx *cx, int argc, char **argv)
{
	struct err e = { "" };
	int closed = -1, always = -1, bad = 0, rc;
	int64_t unit;
	const char *v;
	char what[64];

	if (argc < 2)
		return ctl_usage_error("list set needs a UNIT and --closed yes|no or --always yes|no");
	for (int i = 1; i < argc; i++) {
		if ((v = ctl_match_opt(argc, argv, &i, "--closed", 1, &bad)) != NULL) {
			if (yes_no(v, &closed) < 0)
				return ctl_usage_error("--closed is yes or no");
		} else if ((v = ctl_match_opt(argc, argv, &i, "--always", 1, &bad)) != NULL) {
			if (yes_no(v, &always) < 0)
				return ctl_usage_error("--always is yes or no");
		} else if (bad)
			return ctl_usage_error("an option needs a value");
		else
			return ctl_usage_error("unknown option %s", argv[i]);
	}
	if ((rc = ctl_open_store(cx, 1)) != 0 || (rc = unit_arg(cx, argv[0], &unit)) != 0)
		return rc;
	snprintf(what, sizeof what, "closed=%d always=%d", closed, always);
	if (store_begin(cx->st, &e) < 0 || list_configure(cx->st, unit, closed, always, &e) < 0 ||
	    store_audit(cx->st, time(NULL), "cli", "list.set", argv[0], what, &e) < 0 ||
	    store_commit(cx->st, &e) < 0) {
		store_rollback(cx->st);
		fprintf(stderr, "mercomail: %s\n", e.msg);
		return EX_SOFTWARE;
	}
	return ctl_list_show(cx, 1, argv);
}
