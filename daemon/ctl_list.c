#include "buildconf.h"

/*
 * mercomail list members|add|remove — the mailing list of a unit or body
 * (list.h): who is on it, and subscriptions by hand.
 */

#include <stdio.h>
#include <string.h>
#include <sysexits.h>
#include <time.h>

#include "auth.h"
#include "ctl.h"
#include "list.h"

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
	struct err e = { "" };
	int64_t unit;
	int rc, n = 0;

	if (argc != 1)
		return ctl_usage_error("list members needs a UNIT");
	if ((rc = ctl_open_store(cx, 1)) != 0 || (rc = unit_arg(cx, argv[0], &unit)) != 0)
		return rc;
	if (list_members(cx->st, unit, time(NULL), print_member, &n, &e) < 0) {
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
