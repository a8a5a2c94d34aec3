#include "buildconf.h"

/*
 * mercomail digest preview|send|run — the digests of the lists (digest.h).
 * The mails are only queued; mercomaild sends them.
 *
 * --now "YYYY-MM-DD HH:MM" (in [digest] timezone) runs them as if it were
 * that time: for tests, and to catch up by hand. Without it, clock_now()
 * (the clock, or MERCOMAIL_NOW as mercomaild(8) says).
 */

#include <stdio.h>
#include <string.h>
#include <sysexits.h>
#include <time.h>

#include "clock.h"
#include "ctl.h"
#include "digest.h"
#include "ical.h"

/* Options: --now T, --lang es|pt, --html. 0 or an exit code. */
static int
options(struct ctx *cx, int argc, char **argv, int from, time_t *now, const char **lang,
    int *html)
{
	const char *v;
	int bad = 0;

	*now = clock_now();
	for (int i = from; i < argc; i++) {
		if ((v = ctl_match_opt(argc, argv, &i, "--now", 1, &bad)) != NULL) {
			int y, mo, d, h, mi;
			struct err e = { "" };
			if (sscanf(v, "%d-%d-%d %d:%d", &y, &mo, &d, &h, &mi) != 5 ||
			    ical_local_to_utc(cx->cfg ? cx->cfg->digest.timezone : "UTC", y, mo, d, h, mi,
			    now, &e) < 0)
				return ctl_usage_error("--now wants \"YYYY-MM-DD HH:MM\"");
		} else if (lang && (v = ctl_match_opt(argc, argv, &i, "--lang", 1, &bad)) != NULL) {
			if (strcmp(v, "es") != 0 && strcmp(v, "pt") != 0)
				return ctl_usage_error("--lang is es or pt");
			*lang = v;
		} else if (html && ctl_match_opt(argc, argv, &i, "--html", 0, &bad) != NULL) {
			*html = 1;
		} else {
			return ctl_usage_error(bad ? "an option needs a value" : "unknown option %s",
			    argv[i]);
		}
	}
	return bad ? ctl_usage_error("an option needs a value") : 0;
}

static int
need_config(struct ctx *cx)
{
	if (cx->cfg == NULL || cx->cfg->smtp.from == NULL) {
		fprintf(stderr, "mercomail: digests need a config with [smtp] from (-c)\n");
		return EX_CONFIG;
	}
	return 0;
}

static int
result(int r, const char *slug, const struct err *e)
{
	if (r < 0) {
		fprintf(stderr, "mercomail: %s\n", e->msg);
		return EX_SOFTWARE;
	}
	if (r == 1) {
		fprintf(stderr, "mercomail: no unit or body '%s'\n", slug);
		return EX_DATAERR;
	}
	return ctl_flush_stdout();
}

int
ctl_digest_preview(struct ctx *cx, int argc, char **argv)
{
	const char *lang = "es";
	struct err e = { "" };
	time_t now;
	int html = 0, rc;

	if (argc < 1)
		return ctl_usage_error("digest preview needs a UNIT");
	if ((rc = ctl_open_store(cx, 1)) != 0 || (rc = need_config(cx)) != 0 ||
	    (rc = options(cx, argc, argv, 1, &now, &lang, &html)) != 0)
		return rc;
	return result(digest_preview(cx->st, cx->cfg, argv[0], lang, html, now, stdout, &e),
	    argv[0], &e);
}

int
ctl_digest_send(struct ctx *cx, int argc, char **argv)
{
	struct err e = { "" };
	unsigned queued = 0;
	time_t now;
	int rc;

	if (argc < 1)
		return ctl_usage_error("digest send needs a UNIT");
	if ((rc = ctl_open_store(cx, 1)) != 0 || (rc = need_config(cx)) != 0 ||
	    (rc = options(cx, argc, argv, 1, &now, NULL, NULL)) != 0)
		return rc;
	rc = digest_send(cx->st, cx->cfg, argv[0], now, &queued, &e);
	if (rc == 0)
		printf("%u digests queued for %s\n", queued, argv[0]);
	return result(rc, argv[0], &e);
}

int
ctl_digest_run(struct ctx *cx, int argc, char **argv)
{
	struct err e = { "" };
	unsigned queued = 0;
	time_t now;
	int rc;

	if ((rc = ctl_open_store(cx, 1)) != 0 || (rc = need_config(cx)) != 0 ||
	    (rc = options(cx, argc, argv, 0, &now, NULL, NULL)) != 0)
		return rc;
	rc = digest_run(cx->st, cx->cfg, now, &queued, &e);
	if (rc == 0)
		printf("%u digests queued\n", queued);
	return result(rc, "", &e);
}
