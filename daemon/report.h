/*
 * report — the activity report of the network (seed point 10): what each
 * unit and body, and each city, did in a period, and who has been silent.
 *
 * Two halves: report_gather() reads the figures from SQLite (io, bound
 * parameters only, one read transaction); report_format_text/csv/html()
 * turn them into text (pure: no clock, no database), so they are
 * unit-tested with figures made up in the test.
 *
 * What the figures mean (period: since <= t < until; UTC seconds):
 * - reports: submissions of kind 'informe' naming the unit (submissions.unit_id)
 *   in the period; last_report: the newest one before until, whatever the period.
 * - meetings held: of the unit, not cancelled, starting in the period and
 *   before now. invited / answered (partstat other than NEEDS-ACTION) /
 *   accepted: the attendees of those meetings; attendance = accepted / invited.
 * - best practices ('buena-practica') and MDG indicators ('odm') of a unit:
 *   those naming the unit, and those naming no unit sent by a member city
 *   of it (unit_members) — an indicator belongs to every unit of its city.
 * - a city: its submissions in the period by kind, and its RSVPs (attendees
 *   with its city_id) of the meetings held in the period.
 * - silent: a thematic unit (kind 'unit') with no submission naming it, a
 *   city with no submission of its own, for silent_days or more before
 *   until (or never). The bodies do not send forms: never silent.
 */
#ifndef MERCOMAIL_REPORT_H
#define MERCOMAIL_REPORT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include <sqlite3.h>

#include "err.h"

#define REPORT_SILENT_DAYS 180	/* default threshold of silence */

struct report_unit {
	char *slug;
	char *name;		/* in the report's language */
	int body;		/* 1: council, board or a secretariat; 0: a thematic unit */
	int64_t reports;	/* 'informe' in the period */
	int64_t last_report;	/* newest 'informe' before until; 0: none ever */
	int64_t meetings;	/* held in the period */
	int64_t invited, answered, accepted;	/* attendees of those meetings */
	int64_t practices;	/* 'buena-practica' in the period */
	int64_t indicators;	/* 'odm' in the period */
	int64_t last_activity;	/* newest submission naming it before until; 0: none */
};

struct report_city {
	char *name;
	char country[3];
	int64_t *by_kind;	/* report.nkinds counts, in the order of report.kinds */
	int64_t submissions;	/* all kinds, in the period */
	int64_t invited, answered, accepted;	/* its RSVPs of the meetings held */
	int64_t last_submission;	/* newest before until; 0: none ever */
};

/* All strings and arrays are owned by the report (report_free). */
struct report {
	int64_t since, until;	/* the period */
	int64_t generated;	/* "now" when gathered */
	int silent_days;
	char lang[3];		/* "es" or "pt": labels and unit names */
	char **kinds;		/* submission kinds seen in the period, sorted */
	size_t nkinds;
	struct report_unit *units;	/* the bodies first (in roster order), then units by slug */
	size_t nunits;
	struct report_city *cities;	/* by country, then name */
	size_t ncities;
};

struct report_opts {
	int64_t since, until;	/* until <= since: an error */
	int64_t now;		/* meetings held: start before now */
	int silent_days;	/* >= 1 */
	const char *lang;	/* "es" (NULL) or "pt" */
};

/* Read the figures from db (any connection; read-only is enough). Returns a
 * report the caller frees with report_free(), or NULL with e set. */
struct report *report_gather(sqlite3 *db, const struct report_opts *o, struct err *e);
void report_free(struct report *r);		/* accepts NULL */

/* --- pure */

/* 1 if the unit / city counts as silent in r (see above), else 0. */
int report_unit_silent(const struct report *r, const struct report_unit *u);
int report_city_silent(const struct report *r, const struct report_city *c);

/* accepted / invited as a whole percentage, rounded half up; -1 if nobody
 * was invited. */
int report_rate(int64_t accepted, int64_t invited);

/*
 * The report as plain text (aligned columns, labels in r->lang), as CSV
 * (RFC 4180, CRLF, one table: a "scope" column says unit, body or city;
 * spreadsheet formulas defused as in `submissions export`), or as one
 * self-contained HTML page (inline CSS, bar charts in inline SVG, no
 * script, no external resource; every value escaped). Each returns a new
 * string the caller frees, or NULL if out of memory.
 */
char *report_format_text(const struct report *r);
char *report_format_csv(const struct report *r);
char *report_format_html(const struct report *r);

/* --- /reports/activity (answered from mercomaild's HTTP thread, http.c) */

struct report_web;

/* Serve the report of database to whoever holds the secret in token_file
 * (config_read_secret: a file others cannot read; checked now, and read
 * again for each request, so a new token takes effect at once). Returns
 * what report_web_free() frees, or NULL with e set. */
struct report_web *report_web_new(const char *database, const char *token_file,
    struct err *e);
void report_web_free(struct report_web *w);	/* accepts NULL */

/*
 * The page for a request whose query gave token, since and until
 * (YYYY-MM-DD, until included; NULL: the last 365 days up to now), lang
 * ("es", "pt"; NULL: es) and silent_days (NULL: the default). Each request
 * opens its own read-only connection (the report is not hot; the daemon's
 * connection belongs to the main thread). Returns 1 with *html (caller
 * frees), 0 when the token is missing or wrong (answer as for an unknown
 * path), -2 for a bad option, -1 with e set on a database error.
 */
int report_web_page(struct report_web *w, const char *token, const char *since,
    const char *until, const char *lang, const char *silent_days, int64_t now, char **html,
    struct err *e);

/* --- the monthly mail to the Council (report_mail.c) */

struct store;
struct config;

/*
 * Once per calendar month (UTC) of now: queue, for every contact of the
 * cities of the Council (unit_members of 'consejo'; not those who left its
 * list), a mail in their language (templates LANG/report-monthly.txt) with
 * the HTML report of the twelve months before the 1st of this month
 * attached, and record the month in report_mails in the same transaction:
 * a restart never sends it twice. Nothing without smtp.from. *queued gets
 * the number of mails queued (0 when the month was done already). 0, or
 * -1 with e set.
 */
int report_monthly_run(struct store *st, const struct config *cfg, time_t now,
    unsigned *queued, struct err *e);

/* mercomaild -n: report-monthly.txt of each language loads, names only
 * known values and renders; each problem on diag. The number of problems. */
int report_check_templates(const char *dir, FILE *diag);

/* The token of /reports/activity: 1 if given equals want. The time taken
 * depends on the lengths only, never on where they differ. given may be NULL. */
int report_token_ok(const char *given, const char *want);

#endif
