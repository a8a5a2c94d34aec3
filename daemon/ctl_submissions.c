#include "buildconf.h"

/*
 * mercomail submissions list / show / export: the valid submissions recorded
 * from the mail, with the fields parsed from each (message_fields of its
 * message).
 */

#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include <sqlite3.h>

#include "ctl.h"
#include "store.h"

/* What list and export select. Unknown kinds or units simply match nothing. */
struct filter {
	const char *kind;	/* NULL: any */
	const char *unit;	/* unit slug, NULL: any */
	int64_t since;		/* UTC seconds, -1: any */
	int64_t limit;		/* list only */
};

/* The joins and the filter (?1 kind, ?2 unit slug, ?3 since) every query shares. */
#define SUB_FROM \
	" FROM submissions s JOIN messages m ON m.id = s.message_id" \
	" LEFT JOIN units u ON u.id = s.unit_id LEFT JOIN cities c ON c.id = s.city_id" \
	" LEFT JOIN contacts k ON k.id = s.contact_id" \
	" WHERE (?1 IS NULL OR s.kind = ?1) AND (?2 IS NULL OR u.slug = ?2)" \
	" AND (?3 IS NULL OR s.created_at >= ?3)"

static const char *
col_text(sqlite3_stmt *s, int i)
{
	return (const char *)sqlite3_column_text(s, i);
}

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm). */
static int64_t
days_from_civil(int y, int m, int d)
{
	y -= m <= 2;
	int era = y / 400;		/* y >= 1969 here: no negative eras */
	int yoe = y - era * 400;
	int doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	int doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;

	return (int64_t)era * 146097 + doe - 719468;
}

/* YYYY-MM-DD as the UTC seconds of its midnight; -1 if not a valid date. */
static int64_t
parse_date(const char *s)
{
	static const int mdays[] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	int y, m, d;

	if (s == NULL || strlen(s) != 10 || s[4] != '-' || s[7] != '-')
		return -1;
	for (int i = 0; i < 10; i++)
		if (i != 4 && i != 7 && (s[i] < '0' || s[i] > '9'))
			return -1;
	y = atoi(s);
	m = atoi(s + 5);
	d = atoi(s + 8);
	if (y < 1970 || m < 1 || m > 12 || d < 1 || d > mdays[m - 1])
		return -1;
	if (m == 2 && d == 29 && !(y % 4 == 0 && (y % 100 != 0 || y % 400 == 0)))
		return -1;
	return days_from_civil(y, m, d) * 86400;
}

static void
bind_filter(sqlite3_stmt *s, const struct filter *f)
{
	if (f->kind != NULL)
		sqlite3_bind_text(s, 1, f->kind, -1, SQLITE_STATIC);
	if (f->unit != NULL)
		sqlite3_bind_text(s, 2, f->unit, -1, SQLITE_STATIC);
	if (f->since >= 0)
		sqlite3_bind_int64(s, 3, f->since);
}

/*
 * The options of list (with_limit) and export (format not NULL: --format).
 * 0 or EX_USAGE.
 */
static int
parse_filter(int argc, char **argv, const char *cmd, struct filter *f, int with_limit,
    const char **format)
{
	const char *v;
	int bad = 0;

	for (int i = 0; i < argc; i++) {
		if ((v = ctl_match_opt(argc, argv, &i, "--kind", 1, &bad)) != NULL) {
			f->kind = v;
		} else if ((v = ctl_match_opt(argc, argv, &i, "--unit", 1, &bad)) != NULL) {
			f->unit = v;
		} else if ((v = ctl_match_opt(argc, argv, &i, "--since", 1, &bad)) != NULL) {
			if ((f->since = parse_date(v)) < 0)
				return ctl_usage_error("--since '%s': not a date (YYYY-MM-DD)", v);
		} else if (with_limit &&
		    (v = ctl_match_opt(argc, argv, &i, "--limit", 1, &bad)) != NULL) {
			if ((f->limit = ctl_parse_positive(v)) < 0)
				return ctl_usage_error("--limit '%s': give a positive number", v);
		} else if (format != NULL &&
		    (v = ctl_match_opt(argc, argv, &i, "--format", 1, &bad)) != NULL) {
			*format = v;
		} else if (bad) {
			return ctl_usage_error("%s needs a value", argv[i]);
		} else {
			return ctl_usage_error("submissions %s: unexpected argument '%s'", cmd,
			    argv[i]);
		}
	}
	return 0;
}

/* --- submissions list */

/* reference, created (UTC date), kind, unit, city, sender, title (tabs). */
static void
list_row(sqlite3_stmt *s)
{
	char when[32];

	ctl_format_time(when, sizeof when, sqlite3_column_int64(s, 1));
	when[10] = '\0';			/* the date of 2026-03-01T12:00:00Z */
	ctl_put_safe(stdout, col_text(s, 0));
	printf("\t%s", when);
	for (int i = 2; i <= 6; i++) {
		putchar('\t');
		ctl_put_safe(stdout, col_text(s, i));
	}
	putchar('\n');
}

int
ctl_submissions_list(struct ctx *cx, int argc, char **argv)
{
	struct filter f = { NULL, NULL, -1, DEFAULT_LIMIT };
	sqlite3_stmt *s = NULL;
	int rc;

	if ((rc = parse_filter(argc, argv, "list", &f, 1, NULL)) != 0 ||
	    (rc = ctl_open_store(cx, 1)) != 0)
		return rc;
	/* the title, else the first field of the body */
	if (sqlite3_prepare_v2(store_db(cx->st),
	    "SELECT COALESCE(s.reference, '#' || s.id), s.created_at, s.kind, u.slug, c.name,"
	    " COALESCE(m.sender, k.address), COALESCE(NULLIF(s.title, ''),"
	    " (SELECT f.value FROM message_fields f WHERE f.message_id = s.message_id"
	    " ORDER BY f.line IS NULL, f.line, f.field LIMIT 1))"
	    SUB_FROM " ORDER BY s.created_at DESC, s.id DESC LIMIT ?4", -1, &s, NULL) != SQLITE_OK)
		return ctl_db_fail(cx, s);
	bind_filter(s, &f);
	sqlite3_bind_int64(s, 4, f.limit);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW)
		list_row(s);
	if (rc != SQLITE_DONE)
		return ctl_db_fail(cx, s);
	sqlite3_finalize(s);
	return ctl_flush_stdout();
}

/* --- submissions show */

/* The submission's header; *msg_id gets its message. 1 shown, 0 none, -1 error. */
static int
show_header(sqlite3 *db, const char *ref, int64_t id, int64_t *msg_id)
{
	sqlite3_stmt *s = NULL;
	char when[32];
	int rc;

	if (sqlite3_prepare_v2(db,
	    "SELECT s.id, s.reference, s.kind, s.created_at, s.message_id,"
	    " COALESCE(m.sender, k.address), k.name, k.address, c.name, c.country, u.slug,"
	    " CASE c.lang WHEN 'pt' THEN u.name_pt ELSE u.name_es END, s.title"
	    " FROM submissions s JOIN messages m ON m.id = s.message_id"
	    " LEFT JOIN units u ON u.id = s.unit_id LEFT JOIN cities c ON c.id = s.city_id"
	    " LEFT JOIN contacts k ON k.id = s.contact_id"
	    " WHERE s.reference = ?1 COLLATE NOCASE OR s.id = ?2", -1, &s, NULL) != SQLITE_OK)
		return -1;
	sqlite3_bind_text(s, 1, ref, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, id);
	if ((rc = sqlite3_step(s)) != SQLITE_ROW) {
		sqlite3_finalize(s);
		return rc == SQLITE_DONE ? 0 : -1;
	}
	*msg_id = sqlite3_column_int64(s, 4);
	ctl_format_time(when, sizeof when, sqlite3_column_int64(s, 3));
	ctl_show_field("Reference:", col_text(s, 1));
	printf("Id:          %" PRId64 "\n", (int64_t)sqlite3_column_int64(s, 0));
	ctl_show_field("Kind:", col_text(s, 2));
	printf("Created:     %s\n", when);
	printf("Message:     %" PRId64 "\n", *msg_id);
	ctl_show_field("Sender:", col_text(s, 5));
	ctl_show_contact(col_text(s, 6), col_text(s, 7));
	printf("%-12s ", "City:");
	ctl_put_safe(stdout, col_text(s, 8));
	if (sqlite3_column_type(s, 9) != SQLITE_NULL)
		printf(" (%s)", col_text(s, 9));
	printf("\n%-12s ", "Unit:");
	ctl_put_safe(stdout, col_text(s, 10));
	if (sqlite3_column_type(s, 11) != SQLITE_NULL) {
		fputs(" (", stdout);
		ctl_put_safe(stdout, col_text(s, 11));
		putchar(')');
	}
	putchar('\n');
	ctl_show_field("Title:", col_text(s, 12));
	sqlite3_finalize(s);
	return 1;
}

int
ctl_submissions_show(struct ctx *cx, int argc, char **argv)
{
	int64_t id, msg_id = 0;
	int rc;

	if (argc == 0)
		return ctl_usage_error("%s", "submissions show: which reference or id?");
	if (argc > 1)
		return ctl_usage_error("submissions show: unexpected argument '%s'", argv[1]);
	/* an id is a number, or "#12" as list shows a submission without a reference */
	id = ctl_parse_positive(argv[0][0] == '#' ? argv[0] + 1 : argv[0]);
	if ((rc = ctl_open_store(cx, 1)) != 0)
		return rc;
	rc = show_header(store_db(cx->st), argv[0], id, &msg_id);
	if (rc == 0) {
		fprintf(stderr, "mercomail: no submission '%s'\n", argv[0]);
		return EX_DATAERR;
	}
	if (rc < 0 || ctl_show_fields(store_db(cx->st), msg_id) < 0)
		return ctl_db_fail(cx, NULL);
	return ctl_flush_stdout();
}

/* --- submissions export */

/*
 * One CSV cell (RFC 4180): quoted, with quotes doubled, when it holds a
 * comma, a quote, CR or LF. The values come from mail, and a spreadsheet
 * (Excel, LibreOffice, Google Sheets) opening the file runs a cell that
 * starts with = + - or @ as a formula: "=HYPERLINK(...)" can send the sheet's
 * data away, "=cmd|..." (DDE) can run a program. A leading apostrophe makes
 * the spreadsheet show it as text (OWASP, "CSV injection"); tab and CR are
 * guarded too, as OWASP advises. The price: such values carry the apostrophe
 * for other readers of the file too.
 */
static void
csv_cell(FILE *out, const char *v, int first)
{
	int guard, quote;

	if (!first)
		fputc(',', out);
	if (v == NULL)
		return;
	guard = v[0] != '\0' && strchr("=+-@\t\r", v[0]) != NULL;
	quote = strpbrk(v, ",\"\r\n") != NULL;
	if (quote)
		fputc('"', out);
	if (guard)
		fputc('\'', out);
	for (; *v; v++) {
		if (*v == '"')
			fputc('"', out);
		fputc(*v, out);
	}
	if (quote)
		fputc('"', out);
}

struct names {
	char **v;
	size_t n;
};

static void
names_free(struct names *nm)
{
	for (size_t i = 0; i < nm->n; i++)
		free(nm->v[i]);
	free(nm->v);
}

/* The field names of the exported submissions, sorted (byte order). 0 or -1. */
static int
load_names(sqlite3 *db, const struct filter *f, struct names *nm)
{
	sqlite3_stmt *s = NULL;
	char **v;
	int rc;

	if (sqlite3_prepare_v2(db, "SELECT DISTINCT field FROM message_fields WHERE message_id"
	    " IN (SELECT s.message_id" SUB_FROM ") ORDER BY field", -1, &s, NULL) != SQLITE_OK)
		return -1;
	bind_filter(s, f);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		const char *name = col_text(s, 0);
		if (name == NULL || (v = realloc(nm->v, (nm->n + 1) * sizeof *v)) == NULL)
			break;
		nm->v = v;
		if ((v[nm->n] = strdup(name)) == NULL)
			break;
		nm->n++;
	}
	sqlite3_finalize(s);
	if (rc == SQLITE_ROW)
		fprintf(stderr, "mercomail: out of memory\n");
	return rc == SQLITE_DONE ? 0 : -1;
}

/* The field cells of one message, in the order of the names (both sorted). */
static int
field_cells(sqlite3_stmt *fs, int64_t msg_id, const struct names *nm)
{
	size_t j = 0;
	int rc;

	sqlite3_bind_int64(fs, 1, msg_id);
	while ((rc = sqlite3_step(fs)) == SQLITE_ROW) {
		const char *field = col_text(fs, 0);
		for (; j < nm->n && strcmp(nm->v[j], field) < 0; j++)
			csv_cell(stdout, NULL, 0);
		if (j < nm->n && strcmp(nm->v[j], field) == 0) {
			csv_cell(stdout, col_text(fs, 1), 0);
			j++;
		}
	}
	for (; j < nm->n; j++)
		csv_cell(stdout, NULL, 0);
	sqlite3_reset(fs);
	return rc == SQLITE_DONE ? 0 : -1;
}

static int
export_rows(sqlite3 *db, const struct filter *f, const struct names *nm)
{
	sqlite3_stmt *s = NULL, *fs = NULL;
	char when[32];
	int rc = SQLITE_ERROR;

	if (sqlite3_prepare_v2(db, "SELECT s.reference, s.created_at, s.kind, u.slug, c.name,"
	    " COALESCE(m.sender, k.address), s.message_id" SUB_FROM
	    " ORDER BY s.created_at, s.id", -1, &s, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(db, "SELECT field, value FROM message_fields"
	    " WHERE message_id = ?1 ORDER BY field", -1, &fs, NULL) != SQLITE_OK)
		goto done;
	bind_filter(s, f);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		ctl_format_time(when, sizeof when, sqlite3_column_int64(s, 1));
		csv_cell(stdout, col_text(s, 0), 1);
		csv_cell(stdout, when, 0);
		for (int i = 2; i <= 5; i++)
			csv_cell(stdout, col_text(s, i), 0);
		if (field_cells(fs, sqlite3_column_int64(s, 6), nm) < 0)
			break;
		fputs("\r\n", stdout);
	}
done:
	sqlite3_finalize(s);
	sqlite3_finalize(fs);
	return rc == SQLITE_DONE ? 0 : -1;
}

int
ctl_submissions_export(struct ctx *cx, int argc, char **argv)
{
	static const char *const fixed[] = { "reference", "created_at", "kind", "unit", "city",
	    "sender" };
	struct filter f = { NULL, NULL, -1, 0 };
	struct names nm = { NULL, 0 };
	const char *format = "csv";
	sqlite3 *db;
	int rc;

	if ((rc = parse_filter(argc, argv, "export", &f, 0, &format)) != 0)
		return rc;
	if (strcmp(format, "csv") != 0)
		return ctl_usage_error("submissions export: unknown format '%s' (csv)", format);
	if ((rc = ctl_open_store(cx, 1)) != 0)
		return rc;
	db = store_db(cx->st);
	/* one read transaction: the header and the rows see the same data */
	if (sqlite3_exec(db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK ||
	    load_names(db, &f, &nm) < 0)
		goto fail;
	for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++)
		csv_cell(stdout, fixed[i], i == 0);
	for (size_t i = 0; i < nm.n; i++)
		csv_cell(stdout, nm.v[i], 0);
	fputs("\r\n", stdout);
	if (export_rows(db, &f, &nm) < 0)
		goto fail;
	sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
	names_free(&nm);
	return ctl_flush_stdout();
fail:
	rc = ctl_db_fail(cx, NULL);
	sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
	names_free(&nm);
	return rc;
}
