#include "buildconf.h"

/*
 * mercomail report activity: the activity report of the network (report.h)
 * on stdout, as text, CSV or one HTML page.
 */

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include "clock.h"
#include "ctl.h"
#include "report.h"
#include "store.h"

#define DAY 86400

/* YYYY-MM-DD as the UTC seconds of its midnight; -1 if not a date. */
static int64_t
parse_day(const char *s)
{
	return s != NULL && strlen(s) == 10 ? clock_parse(s) : -1;
}

int
ctl_report_activity(struct ctx *cx, int argc, char **argv)
{
	struct report_opts o = { -1, -1, clock_now(), REPORT_SILENT_DAYS, "es" };
	const char *format = "text", *v;
	struct report *r;
	struct err e = { "" };
	char *out = NULL;
	int64_t n;
	int bad = 0, rc;

	for (int i = 0; i < argc; i++) {
		if ((v = ctl_match_opt(argc, argv, &i, "--since", 1, &bad)) != NULL) {
			if ((o.since = parse_day(v)) < 0)
				return ctl_usage_error("--since '%s': not a date (YYYY-MM-DD)", v);
		} else if ((v = ctl_match_opt(argc, argv, &i, "--until", 1, &bad)) != NULL) {
			/* up to and including that day */
			if ((o.until = parse_day(v)) < 0)
				return ctl_usage_error("--until '%s': not a date (YYYY-MM-DD)", v);
			o.until += DAY;
		} else if ((v = ctl_match_opt(argc, argv, &i, "--silent-days", 1, &bad)) != NULL) {
			if ((n = ctl_parse_positive(v)) < 0 || n > 36500)
				return ctl_usage_error("--silent-days '%s': give a number of days", v);
			o.silent_days = (int)n;
		} else if ((v = ctl_match_opt(argc, argv, &i, "--format", 1, &bad)) != NULL) {
			format = v;
		} else if ((v = ctl_match_opt(argc, argv, &i, "--lang", 1, &bad)) != NULL) {
			o.lang = v;
		} else if (bad) {
			return ctl_usage_error("%s needs a value", argv[i]);
		} else {
			return ctl_usage_error("report activity: unexpected argument '%s'", argv[i]);
		}
	}
	if (strcmp(format, "text") != 0 && strcmp(format, "csv") != 0 &&
	    strcmp(format, "html") != 0)
		return ctl_usage_error("report activity: unknown format '%s' (text, csv, html)",
		    format);
	if (strcmp(o.lang, "es") != 0 && strcmp(o.lang, "pt") != 0)
		return ctl_usage_error("--lang '%s': es or pt", o.lang);
	if (o.until < 0)
		o.until = o.now;
	if (o.since < 0)
		o.since = o.until - 365 * DAY;	/* the last twelve months */
	if (o.until <= o.since)
		return ctl_usage_error("%s", "report activity: --until is before --since");
	if ((rc = ctl_open_store(cx, 1)) != 0)
		return rc;
	if ((r = report_gather(store_db(cx->st), &o, &e)) == NULL) {
		fprintf(stderr, "mercomail: %s\n", e.msg);
		return EX_SOFTWARE;
	}
	out = strcmp(format, "csv") == 0 ? report_format_csv(r) :
	    strcmp(format, "html") == 0 ? report_format_html(r) : report_format_text(r);
	report_free(r);
	if (out == NULL) {
		fprintf(stderr, "mercomail: out of memory\n");
		return EX_OSERR;
	}
	fputs(out, stdout);
	free(out);
	return ctl_flush_stdout();
}
