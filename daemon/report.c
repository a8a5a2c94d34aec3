#include "buildconf.h"

/*
 * report — the activity report (see report.h): gathering from SQLite, then
 * text, CSV and HTML from the gathered figures.
 */

#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L	/* strdup, gmtime_r */
#endif

#include <inttypes.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sqlite3.h>

#include "clock.h"
#include "config.h"
#include "report.h"
#include "template.h"
#include "text.h"

#define DAY 86400

/* ------------------------------------------------------------ gathering */

/* The meetings a figure counts: held in the period (?1 since, ?2 until,
 * ?3 now), not cancelled. */
#define HELD " m.status != 'cancelled' AND m.start_at >= ?1 AND m.start_at < ?2" \
	" AND m.start_at < ?3"
#define IN_PERIOD(a) " " a ".created_at >= ?1 AND " a ".created_at < ?2"
/* A unit's best practices or indicators (?5 the kind): naming it, or naming
 * no unit and sent by one of its member cities. */
#define OF_UNIT_KIND(kind) \
	" (SELECT count(*) FROM submissions s WHERE s.kind = '" kind "' AND" IN_PERIOD("s") \
	" AND (s.unit_id = u.id OR (s.unit_id IS NULL AND s.city_id IN" \
	" (SELECT um.city_id FROM unit_members um WHERE um.unit_id = u.id))))"
#define ATTENDEES(cond, extra) \
	" (SELECT count(*) FROM meeting_attendees a JOIN meetings m ON m.id = a.meeting_id" \
	" WHERE " cond " AND" HELD extra ")"

static const char units_sql[] =
	"SELECT u.slug, CASE WHEN ?4 = 'pt' THEN u.name_pt ELSE u.name_es END,"
	" u.kind != 'unit',"
	" (SELECT count(*) FROM submissions s WHERE s.unit_id = u.id AND s.kind = 'informe'"
	"  AND" IN_PERIOD("s") "),"
	" (SELECT max(s.created_at) FROM submissions s WHERE s.unit_id = u.id"
	"  AND s.kind = 'informe' AND s.created_at < ?2),"
	" (SELECT count(*) FROM meetings m WHERE m.unit_id = u.id AND" HELD "),"
	ATTENDEES("m.unit_id = u.id", "") ","
	ATTENDEES("m.unit_id = u.id", " AND a.partstat != 'NEEDS-ACTION'") ","
	ATTENDEES("m.unit_id = u.id", " AND a.partstat = 'ACCEPTED'") ","
	OF_UNIT_KIND("buena-practica") ","
	OF_UNIT_KIND("odm") ","
	" (SELECT max(s.created_at) FROM submissions s WHERE s.unit_id = u.id"
	"  AND s.created_at < ?2)"
	" FROM units u ORDER BY u.kind = 'unit', CASE WHEN u.kind = 'unit' THEN u.slug END, u.id";

static const char cities_sql[] =
	"SELECT c.id, c.name, c.country,"
	" (SELECT count(*) FROM submissions s WHERE s.city_id = c.id AND" IN_PERIOD("s") "),"
	ATTENDEES("a.city_id = c.id", "") ","
	ATTENDEES("a.city_id = c.id", " AND a.partstat != 'NEEDS-ACTION'") ","
	ATTENDEES("a.city_id = c.id", " AND a.partstat = 'ACCEPTED'") ","
	" (SELECT max(s.created_at) FROM submissions s WHERE s.city_id = c.id"
	"  AND s.created_at < ?2)"
	" FROM cities c ORDER BY c.country, c.name, c.id";

static const char kinds_sql[] =
	"SELECT DISTINCT s.kind FROM submissions s WHERE" IN_PERIOD("s") " ORDER BY s.kind";

static const char by_kind_sql[] =
	"SELECT s.city_id, s.kind, count(*) FROM submissions s"
	" WHERE s.city_id IS NOT NULL AND" IN_PERIOD("s") " GROUP BY s.city_id, s.kind";

struct gather {
	sqlite3 *db;
	const struct report_opts *o;
	struct report *r;
	int64_t *city_ids;	/* cities.id of r->cities[i] */
	struct err *e;
};

static int
db_fail(struct gather *g, sqlite3_stmt *s, const char *what)
{
	err_set(g->e, "report: %s: %s", what, sqlite3_errmsg(g->db));
	sqlite3_finalize(s);
	return -1;
}

static int
oom(struct gather *g, sqlite3_stmt *s)
{
	err_set(g->e, "report: out of memory");
	sqlite3_finalize(s);
	return -1;
}

/* Prepare sql and bind the period, now and the language (unused ones are
 * simply not in the statement). */
static sqlite3_stmt *
prepare(struct gather *g, const char *sql)
{
	sqlite3_stmt *s = NULL;

	if (sqlite3_prepare_v2(g->db, sql, -1, &s, NULL) != SQLITE_OK) {
		db_fail(g, s, "prepare");
		return NULL;
	}
	for (int i = 1; i <= sqlite3_bind_parameter_count(s); i++) {
		const char *name = sqlite3_bind_parameter_name(s, i);
		if (name == NULL)
			continue;
		if (strcmp(name, "?1") == 0)
			sqlite3_bind_int64(s, i, g->o->since);
		else if (strcmp(name, "?2") == 0)
			sqlite3_bind_int64(s, i, g->o->until);
		else if (strcmp(name, "?3") == 0)
			sqlite3_bind_int64(s, i, g->o->now);
		else if (strcmp(name, "?4") == 0)
			sqlite3_bind_text(s, i, g->r->lang, -1, SQLITE_STATIC);
	}
	return s;
}

static char *
col_dup(sqlite3_stmt *s, int i)
{
	const char *v = (const char *)sqlite3_column_text(s, i);

	return strdup(v ? v : "");
}

static int
gather_units(struct gather *g)
{
	struct report *r = g->r;
	sqlite3_stmt *s = prepare(g, units_sql);
	size_t cap = 0;
	int rc;

	if (s == NULL)
		return -1;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		struct report_unit *u;

		if (r->nunits == cap) {
			void *n = realloc(r->units, (cap = cap ? cap * 2 : 32) * sizeof *r->units);
			if (n == NULL)
				return oom(g, s);
			r->units = n;
		}
		u = &r->units[r->nunits];
		memset(u, 0, sizeof *u);
		r->nunits++;
		if ((u->slug = col_dup(s, 0)) == NULL || (u->name = col_dup(s, 1)) == NULL)
			return oom(g, s);
		u->body = sqlite3_column_int(s, 2);
		u->reports = sqlite3_column_int64(s, 3);
		u->last_report = sqlite3_column_int64(s, 4);
		u->meetings = sqlite3_column_int64(s, 5);
		u->invited = sqlite3_column_int64(s, 6);
		u->answered = sqlite3_column_int64(s, 7);
		u->accepted = sqlite3_column_int64(s, 8);
		u->practices = sqlite3_column_int64(s, 9);
		u->indicators = sqlite3_column_int64(s, 10);
		u->last_activity = sqlite3_column_int64(s, 11);
	}
	if (rc != SQLITE_DONE)
		return db_fail(g, s, "units");
	sqlite3_finalize(s);
	return 0;
}

static int
gather_kinds(struct gather *g)
{
	struct report *r = g->r;
	sqlite3_stmt *s = prepare(g, kinds_sql);
	int rc;

	if (s == NULL)
		return -1;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		char **n = realloc(r->kinds, (r->nkinds + 1) * sizeof *r->kinds);
		if (n == NULL)
			return oom(g, s);
		r->kinds = n;
		if ((r->kinds[r->nkinds] = col_dup(s, 0)) == NULL)
			return oom(g, s);
		r->nkinds++;
	}
	if (rc != SQLITE_DONE)
		return db_fail(g, s, "kinds");
	sqlite3_finalize(s);
	return 0;
}

static int
gather_cities(struct gather *g)
{
	struct report *r = g->r;
	sqlite3_stmt *s = prepare(g, cities_sql);
	size_t cap = 0;
	int rc;

	if (s == NULL)
		return -1;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		struct report_city *c;
		const char *cc = (const char *)sqlite3_column_text(s, 2);

		if (r->ncities == cap) {
			void *n = realloc(r->cities, (cap = cap ? cap * 2 : 64) * sizeof *r->cities);
			void *ids = realloc(g->city_ids, cap * sizeof *g->city_ids);
			if (n != NULL)
				r->cities = n;
			if (ids != NULL)
				g->city_ids = ids;
			if (n == NULL || ids == NULL)
				return oom(g, s);
		}
		c = &r->cities[r->ncities];
		memset(c, 0, sizeof *c);
		r->ncities++;
		g->city_ids[r->ncities - 1] = sqlite3_column_int64(s, 0);
		if ((c->name = col_dup(s, 1)) == NULL ||
		    (c->by_kind = calloc(r->nkinds + 1, sizeof *c->by_kind)) == NULL)
			return oom(g, s);
		snprintf(c->country, sizeof c->country, "%s", cc ? cc : "");
		c->submissions = sqlite3_column_int64(s, 3);
		c->invited = sqlite3_column_int64(s, 4);
		c->answered = sqlite3_column_int64(s, 5);
		c->accepted = sqlite3_column_int64(s, 6);
		c->last_submission = sqlite3_column_int64(s, 7);
	}
	if (rc != SQLITE_DONE)
		return db_fail(g, s, "cities");
	sqlite3_finalize(s);
	return 0;
}

static int
gather_by_kind(struct gather *g)
{
	struct report *r = g->r;
	sqlite3_stmt *s = prepare(g, by_kind_sql);
	int rc;

	if (s == NULL)
		return -1;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		int64_t id = sqlite3_column_int64(s, 0);
		const char *kind = (const char *)sqlite3_column_text(s, 1);
		size_t ci, k;

		for (ci = 0; ci < r->ncities && g->city_ids[ci] != id; ci++)
			;
		for (k = 0; kind != NULL && k < r->nkinds && strcmp(r->kinds[k], kind) != 0; k++)
			;
		if (ci < r->ncities && kind != NULL && k < r->nkinds)
			r->cities[ci].by_kind[k] = sqlite3_column_int64(s, 2);
	}
	if (rc != SQLITE_DONE)
		return db_fail(g, s, "submissions by kind");
	sqlite3_finalize(s);
	return 0;
}

struct report *
report_gather(sqlite3 *db, const struct report_opts *o, struct err *e)
{
	struct gather g = { db, o, NULL, NULL, e };
	struct report *r;
	int ok;

	if (o->until <= o->since) {
		err_set(e, "report: the period ends before it starts");
		return NULL;
	}
	if (o->silent_days < 1) {
		err_set(e, "report: the silence threshold must be at least one day");
		return NULL;
	}
	if ((r = calloc(1, sizeof *r)) == NULL) {
		err_set(e, "report: out of memory");
		return NULL;
	}
	g.r = r;
	r->since = o->since;
	r->until = o->until;
	r->generated = o->now;
	r->silent_days = o->silent_days;
	snprintf(r->lang, sizeof r->lang, "%s", o->lang && strcmp(o->lang, "pt") == 0 ? "pt" : "es");
	/* one read transaction: every figure sees the same database */
	if (sqlite3_exec(db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK) {
		err_set(e, "report: begin: %s", sqlite3_errmsg(db));
		report_free(r);
		return NULL;
	}
	ok = gather_units(&g) == 0 && gather_kinds(&g) == 0 && gather_cities(&g) == 0 &&
	    gather_by_kind(&g) == 0;
	sqlite3_exec(db, ok ? "COMMIT" : "ROLLBACK", NULL, NULL, NULL);
	free(g.city_ids);
	if (!ok) {
		report_free(r);
		return NULL;
	}
	return r;
}

void
report_free(struct report *r)
{
	if (r == NULL)
		return;
	for (size_t i = 0; i < r->nkinds; i++)
		free(r->kinds[i]);
	free(r->kinds);
	for (size_t i = 0; i < r->nunits; i++) {
		free(r->units[i].slug);
		free(r->units[i].name);
	}
	free(r->units);
	for (size_t i = 0; i < r->ncities; i++) {
		free(r->cities[i].name);
		free(r->cities[i].by_kind);
	}
	free(r->cities);
	free(r);
}

/* ------------------------------------------------------------ pure parts */

static int
silent_since(const struct report *r, int64_t last)
{
	return last <= 0 || last <= r->until - (int64_t)r->silent_days * DAY;
}

int
report_unit_silent(const struct report *r, const struct report_unit *u)
{
	return !u->body && silent_since(r, u->last_activity);
}

int
report_city_silent(const struct report *r, const struct report_city *c)
{
	return silent_since(r, c->last_submission);
}

int
report_rate(int64_t accepted, int64_t invited)
{
	if (invited <= 0)
		return -1;
	return (int)((accepted * 100 + invited / 2) / invited);
}

int
report_token_ok(const char *given, const char *want)
{
	size_t gl, wl;
	unsigned diff;

	if (given == NULL || want == NULL)
		return 0;
	gl = strlen(given);
	wl = strlen(want);
	diff = gl != wl;
	/* every byte of want is looked at, whatever matched before */
	for (size_t i = 0; i < wl; i++)
		diff |= (unsigned char)want[i] ^ (unsigned char)(i < gl ? given[i] : 0);
	return diff == 0 && wl > 0;
}

/* The labels, in the secretariat's languages. */
struct labels {
	const char *title, *period, *to, *generated, *units, *unit, *reports, *last_report,
	    *meetings, *invited, *answered, *attendance, *practices, *indicators, *cities,
	    *city, *country, *submissions, *silent_pre, *silent_post, *silent_units, *silent_cities, *last,
	    *never, *none, *chart_reports, *chart_attendance, *chart_cities, *no_data, *kind,
	    *body;
};

static const struct labels es = {
	"Informe de actividad de Mercociudades", "Período", "a", "Generado",
	"Unidades temáticas y órganos", "Unidad", "Informes", "Último informe", "Reuniones",
	"Invitaciones", "Respondidas", "Asistencia", "Buenas prácticas", "Indicadores ODM",
	"Ciudades", "Ciudad", "País", "Envíos", "Sin envíos en ", " días o más",
	"Unidades", "Ciudades", "último", "nunca", "ninguna",
	"Informes de actividad por unidad", "Asistencia a las reuniones por unidad (%)",
	"Envíos por ciudad", "Sin datos en el período", "Tipo", "órgano",
};

static const struct labels pt = {
	"Relatório de atividade da Mercocidades", "Período", "a", "Gerado em",
	"Unidades temáticas e órgãos", "Unidade", "Relatórios", "Último relatório", "Reuniões",
	"Convites", "Respondidos", "Presença", "Boas práticas", "Indicadores ODM",
	"Cidades", "Cidade", "País", "Envios", "Sem envios há ", " dias ou mais",
	"Unidades", "Cidades", "último", "nunca", "nenhuma",
	"Relatórios de atividade por unidade", "Presença nas reuniões por unidade (%)",
	"Envios por cidade", "Sem dados no período", "Tipo", "órgão",
};

static const struct labels *
labels_of(const struct report *r)
{
	return strcmp(r->lang, "pt") == 0 ? &pt : &es;
}

/* YYYY-MM-DD of UTC seconds t; "-" for 0 (none). */
static void
ymd(int64_t t, char out[16])
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (t <= 0 || gmtime_r(&tt, &tm) == NULL || strftime(out, 16, "%Y-%m-%d", &tm) == 0)
		snprintf(out, 16, "-");
}

/* The last day of the period (until is exclusive). */
static void
last_day(const struct report *r, char out[16])
{
	ymd(r->until - 1, out);
}

static void
addf(struct textbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
addf(struct textbuf *b, const char *fmt, ...)
{
	char buf[512];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	if (n <= 0)
		return;
	if ((size_t)n < sizeof buf) {
		textbuf_add(b, buf, (size_t)n);
		return;
	}
	/* longer: format again into the buffer itself */
	if (textbuf_reserve(b, (size_t)n) < 0)
		return;
	va_start(ap, fmt);
	vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
}

/* "40%", or "-" when nobody was invited. */
static void
rate_str(int64_t accepted, int64_t invited, char out[16])
{
	int pct = report_rate(accepted, invited);

	if (pct < 0)
		snprintf(out, 16, "-");
	else
		snprintf(out, 16, "%d%%", pct);
}

/* ---- text */

/* Display width: code points (the labels and names are Latin script). */
static size_t
width(const char *s)
{
	size_t w = 0;

	for (; *s; s++)
		if (((unsigned char)*s & 0xC0) != 0x80)
			w++;
	return w;
}

/* s in a column of w, left or right aligned, then a separator. Control
 * characters from the database become '?': names come from the roster. */
static void
cell(struct textbuf *b, const char *s, size_t w, int right, int last)
{
	size_t n = width(s);

	if (right)
		for (; n < w; n++)
			textbuf_addc(b, ' ');
	for (const char *p = s; *p; p++)
		textbuf_addc(b, (unsigned char)*p < 0x20 || *p == 0x7F ? '?' : *p);
	if (!right && !last)
		for (; n < w; n++)
			textbuf_addc(b, ' ');
	if (!last)
		textbuf_adds(b, "  ");
}

#define MAXCOLS 64	/* 11 fixed columns and the kinds */

/* A table: ncols columns, the header then nrows rows of strings (row-major
 * in v), column 0 left-aligned, the others right-aligned. */
static void
table(struct textbuf *b, const char *const *head, char **v, size_t nrows, size_t ncols)
{
	size_t w[MAXCOLS];

	for (size_t c = 0; c < ncols; c++) {
		w[c] = width(head[c]);
		for (size_t i = 0; i < nrows; i++)
			if (width(v[i * ncols + c]) > w[c])
				w[c] = width(v[i * ncols + c]);
	}
	for (size_t c = 0; c < ncols; c++)
		cell(b, head[c], w[c], c > 0, c + 1 == ncols);
	textbuf_addc(b, '\n');
	for (size_t i = 0; i < nrows; i++) {
		for (size_t c = 0; c < ncols; c++)
			cell(b, v[i * ncols + c], w[c], c > 0, c + 1 == ncols);
		textbuf_addc(b, '\n');
	}
}

static char *
num_str(int64_t v)
{
	char buf[24];

	snprintf(buf, sizeof buf, "%" PRId64, v);
	return strdup(buf);
}

static void
free_cells(char **v, size_t n)
{
	if (v == NULL)
		return;
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

static int
text_units(struct textbuf *b, const struct report *r, const struct labels *L)
{
	const char *head[] = { L->unit, L->reports, L->last_report, L->meetings, L->invited,
	    L->answered, L->attendance, L->practices, L->indicators };
	enum { NC = sizeof head / sizeof head[0] };
	char **v = calloc(r->nunits * NC + 1, sizeof *v), d[16];
	int bad = v == NULL;

	for (size_t i = 0; !bad && i < r->nunits; i++) {
		const struct report_unit *u = &r->units[i];
		char **row = v + i * NC;

		row[0] = strdup(u->slug);
		row[1] = num_str(u->reports);
		ymd(u->last_report, d);
		row[2] = strdup(d);
		row[3] = num_str(u->meetings);
		row[4] = num_str(u->invited);
		row[5] = num_str(u->answered);
		rate_str(u->accepted, u->invited, d);
		row[6] = strdup(d);
		row[7] = num_str(u->practices);
		row[8] = num_str(u->indicators);
		for (size_t c = 0; c < NC; c++)
			bad |= row[c] == NULL;
	}
	if (!bad)
		table(b, head, v, r->nunits, NC);
	free_cells(v, r->nunits * NC);
	return bad ? -1 : 0;
}

static int
text_cities(struct textbuf *b, const struct report *r, const struct labels *L)
{
	size_t nc = 5 + r->nkinds;
	const char **head;
	char **v;
	int bad;

	if (nc > MAXCOLS)
		nc = MAXCOLS;
	head = calloc(nc, sizeof *head);
	v = calloc(r->ncities * nc + 1, sizeof *v);
	bad = head == NULL || v == NULL;
	if (!bad) {
		head[0] = L->city;
		head[1] = L->country;
		head[2] = L->submissions;
		for (size_t k = 0; k + 5 < nc; k++)
			head[3 + k] = r->kinds[k];
		head[nc - 2] = L->invited;
		head[nc - 1] = L->answered;
	}
	for (size_t i = 0; !bad && i < r->ncities; i++) {
		const struct report_city *c = &r->cities[i];
		char **row = v + i * nc;

		row[0] = strdup(c->name);
		row[1] = strdup(c->country);
		row[2] = num_str(c->submissions);
		for (size_t k = 0; k + 5 < nc; k++)
			row[3 + k] = num_str(c->by_kind[k]);
		row[nc - 2] = num_str(c->invited);
		row[nc - 1] = num_str(c->answered);
		for (size_t j = 0; j < nc; j++)
			bad |= row[j] == NULL;
	}
	if (!bad)
		table(b, head, v, r->ncities, nc);
	free(head);
	free_cells(v, r->ncities * nc);
	return bad ? -1 : 0;
}

/* "  name<pad>  último: 2026-01-02" lines; "  (ninguna)" when none. */
static void
text_silent(struct textbuf *b, const struct report *r, const struct labels *L)
{
	size_t w = 0, n = 0;
	char d[16], name[320];

	addf(b, "%s%d%s\n", L->silent_pre, r->silent_days, L->silent_post);
	addf(b, "%s:\n", L->silent_units);
	for (size_t i = 0; i < r->nunits; i++)
		if (report_unit_silent(r, &r->units[i]) && width(r->units[i].slug) > w)
			w = width(r->units[i].slug);
	for (size_t i = 0; i < r->ncities; i++)
		if (report_city_silent(r, &r->cities[i])) {
			snprintf(name, sizeof name, "%s (%s)", r->cities[i].name, r->cities[i].country);
			if (width(name) > w)
				w = width(name);
		}
	for (size_t i = 0; i < r->nunits; i++) {
		const struct report_unit *u = &r->units[i];
		if (!report_unit_silent(r, u))
			continue;
		textbuf_adds(b, "  ");
		cell(b, u->slug, w, 0, 0);
		ymd(u->last_activity, d);
		addf(b, "%s: %s\n", L->last, u->last_activity > 0 ? d : L->never);
		n++;
	}
	if (n == 0)
		addf(b, "  (%s)\n", L->none);
	addf(b, "%s:\n", L->silent_cities);
	n = 0;
	for (size_t i = 0; i < r->ncities; i++) {
		const struct report_city *c = &r->cities[i];
		if (!report_city_silent(r, c))
			continue;
		snprintf(name, sizeof name, "%s (%s)", c->name, c->country);
		textbuf_adds(b, "  ");
		cell(b, name, w, 0, 0);
		ymd(c->last_submission, d);
		addf(b, "%s: %s\n", L->last, c->last_submission > 0 ? d : L->never);
		n++;
	}
	if (n == 0)
		addf(b, "  (%s)\n", L->none);
}

char *
report_format_text(const struct report *r)
{
	const struct labels *L = labels_of(r);
	struct textbuf b = { 0 };
	char from[16], to[16], gen[16];

	ymd(r->since, from);
	last_day(r, to);
	ymd(r->generated, gen);
	addf(&b, "%s\n%s: %s %s %s (UTC)\n%s: %s\n\n", L->title, L->period, from, L->to, to,
	    L->generated, gen);
	addf(&b, "%s\n", L->units);
	if (text_units(&b, r, L) < 0)
		goto oom;
	addf(&b, "\n%s\n", L->cities);
	if (text_cities(&b, r, L) < 0)
		goto oom;
	textbuf_addc(&b, '\n');
	text_silent(&b, r, L);
	return textbuf_take(&b);
oom:
	textbuf_free(&b);
	return NULL;
}

/* ---- CSV */

/*
 * One cell (RFC 4180): quoted when it holds a comma, a quote, CR or LF; a
 * leading = + - @ TAB or CR gets an apostrophe so that a spreadsheet shows
 * it instead of running it as a formula (names come from the roster and the
 * kinds from the forms, but the file goes to people's spreadsheets).
 */
static void
csv_cell(struct textbuf *b, const char *v, int first)
{
	int quote;

	if (!first)
		textbuf_addc(b, ',');
	if (v == NULL)
		return;
	quote = strpbrk(v, ",\"\r\n") != NULL;
	if (quote)
		textbuf_addc(b, '"');
	if (v[0] != '\0' && strchr("=+-@\t\r", v[0]) != NULL)
		textbuf_addc(b, '\'');
	for (; *v; v++) {
		if (*v == '"')
			textbuf_addc(b, '"');
		textbuf_addc(b, *v);
	}
	if (quote)
		textbuf_addc(b, '"');
}

static void
csv_num(struct textbuf *b, int64_t v)
{
	char buf[24];

	snprintf(buf, sizeof buf, "%" PRId64, v);
	csv_cell(b, buf, 0);
}

static void
csv_date(struct textbuf *b, int64_t t)
{
	char d[16];

	ymd(t, d);
	csv_cell(b, t > 0 ? d : "", 0);
}

static void
csv_rate(struct textbuf *b, int64_t accepted, int64_t invited)
{
	int pct = report_rate(accepted, invited);

	if (pct < 0)
		csv_cell(b, "", 0);
	else
		csv_num(b, pct);
}

char *
report_format_csv(const struct report *r)
{
	static const char *const head[] = { "scope", "slug", "name", "country", "reports",
	    "last_report", "meetings", "invited", "answered", "accepted", "attendance_pct",
	    "best_practices", "mdg_indicators", "submissions" };
	struct textbuf b = { 0 };
	char name[96];

	for (size_t i = 0; i < sizeof head / sizeof head[0]; i++)
		csv_cell(&b, head[i], i == 0);
	for (size_t k = 0; k < r->nkinds; k++) {
		snprintf(name, sizeof name, "kind:%s", r->kinds[k]);
		csv_cell(&b, name, 0);
	}
	csv_cell(&b, "last_submission", 0);
	csv_cell(&b, "silent", 0);
	textbuf_adds(&b, "\r\n");
	for (size_t i = 0; i < r->nunits; i++) {
		const struct report_unit *u = &r->units[i];

		csv_cell(&b, u->body ? "body" : "unit", 1);
		csv_cell(&b, u->slug, 0);
		csv_cell(&b, u->name, 0);
		csv_cell(&b, "", 0);
		csv_num(&b, u->reports);
		csv_date(&b, u->last_report);
		csv_num(&b, u->meetings);
		csv_num(&b, u->invited);
		csv_num(&b, u->answered);
		csv_num(&b, u->accepted);
		csv_rate(&b, u->accepted, u->invited);
		csv_num(&b, u->practices);
		csv_num(&b, u->indicators);
		csv_cell(&b, "", 0);		/* submissions: a city's figure */
		for (size_t k = 0; k < r->nkinds; k++)
			csv_cell(&b, "", 0);
		csv_date(&b, u->last_activity);
		csv_num(&b, report_unit_silent(r, u));
		textbuf_adds(&b, "\r\n");
	}
	for (size_t i = 0; i < r->ncities; i++) {
		const struct report_city *c = &r->cities[i];

		csv_cell(&b, "city", 1);
		csv_cell(&b, "", 0);
		csv_cell(&b, c->name, 0);
		csv_cell(&b, c->country, 0);
		for (int k = 0; k < 3; k++)	/* reports, last_report, meetings: a unit's */
			csv_cell(&b, "", 0);
		csv_num(&b, c->invited);
		csv_num(&b, c->answered);
		csv_num(&b, c->accepted);
		csv_rate(&b, c->accepted, c->invited);
		csv_cell(&b, "", 0);
		csv_cell(&b, "", 0);
		csv_num(&b, c->submissions);
		for (size_t k = 0; k < r->nkinds; k++)
			csv_num(&b, c->by_kind[k]);
		csv_date(&b, c->last_submission);
		csv_num(&b, report_city_silent(r, c));
		textbuf_adds(&b, "\r\n");
	}
	return textbuf_take(&b);
}

/* ---- HTML */

/* s HTML-escaped (template_html_escape); returns -1 if out of memory. */
static int
add_esc(struct textbuf *b, const char *s)
{
	char *x = template_html_escape(s ? s : "");

	if (x == NULL) {
		b->oom = 1;
		return -1;
	}
	textbuf_adds(b, x);
	free(x);
	return 0;
}

/* At most max code points of s, with "…" when cut. */
static void
add_esc_short(struct textbuf *b, const char *s, size_t max)
{
	size_t n = 0, i = 0;
	char *cut;

	for (; s[i]; i++)
		if (((unsigned char)s[i] & 0xC0) != 0x80 && n++ == max)
			break;
	if (s[i] == '\0') {
		add_esc(b, s);
		return;
	}
	if ((cut = strndup(s, i)) == NULL) {
		b->oom = 1;
		return;
	}
	add_esc(b, cut);
	textbuf_adds(b, "…");
	free(cut);
}

static const char style[] =
	"body{font-family:\"DejaVu Sans\",\"Liberation Sans\",Arial,Helvetica,sans-serif;"
	"color:#1a202c;background:#fff;margin:1.5em auto;max-width:1100px;padding:0 1em;"
	"line-height:1.4}\n"
	"h1{font-size:1.6em;color:#1f4e79;margin-bottom:.2em}\n"
	"h2{font-size:1.25em;color:#1f4e79;border-bottom:2px solid #1f4e79;"
	"padding-bottom:.1em;margin-top:1.6em}\n"
	"h3{font-size:1.05em;margin:1em 0 .3em}\n"
	".meta{color:#4a5568;margin-top:0}\n"
	"table{border-collapse:collapse;width:100%;margin:.6em 0 1.2em;font-size:.85em}\n"
	"th,td{border:1px solid #cbd5e0;padding:.2em .45em;vertical-align:top}\n"
	"th{background:#edf2f7;text-align:left}\n"
	"td.n{text-align:right;font-variant-numeric:tabular-nums}\n"
	"tr.silent td{background:#fff5f5}\n"
	"figure{margin:.8em 0}\n"
	"figcaption{font-weight:bold;margin-bottom:.3em}\n"
	"svg{max-width:100%;height:auto}\n"
	"ul.silent{columns:2;margin:.3em 0}\n"
	"@media print{body{margin:0;max-width:none;font-size:10pt}"
	"section,figure,tr{break-inside:avoid}h2{break-after:avoid}"
	"th,tr.silent td{-webkit-print-color-adjust:exact;print-color-adjust:exact}}\n";

#define CHART_W		750
#define CHART_LABEL	260	/* width of the label column */
#define CHART_BAR	420	/* longest bar */
#define CHART_ROW	20

struct bar {
	const char *label;
	int64_t value;
};

/* One horizontal bar chart as inline SVG: a label, a bar, the value (and
 * suffix) per row; values scaled to the largest (or to max when > 0). */
static void
chart(struct textbuf *b, const char *title, const char *no_data, const struct bar *bars,
    size_t n, int64_t max, const char *suffix)
{
	size_t h = 16 + (n ? n : 1) * CHART_ROW;

	if (max <= 0)
		for (size_t i = 0; i < n; i++)
			if (bars[i].value > max)
				max = bars[i].value;
	textbuf_adds(b, "<figure>\n<figcaption>");
	add_esc(b, title);
	addf(b, "</figcaption>\n<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\""
	    " height=\"%zu\" viewBox=\"0 0 %d %zu\" role=\"img\" font-family=\"DejaVu Sans,"
	    "Arial,sans-serif\" font-size=\"12\">\n<title>", CHART_W, h, CHART_W, h);
	add_esc(b, title);
	textbuf_adds(b, "</title>\n");
	if (n == 0) {
		addf(b, "<text x=\"%d\" y=\"20\" fill=\"#4a5568\">", CHART_LABEL);
		add_esc(b, no_data);
		textbuf_adds(b, "</text>\n");
	}
	for (size_t i = 0; i < n; i++) {
		int64_t v = bars[i].value > 0 ? bars[i].value : 0;
		int64_t w = max > 0 ? v * CHART_BAR / max : 0;
		size_t y = 8 + i * CHART_ROW;

		if (v > 0 && w < 2)
			w = 2;		/* a small value stays visible */
		addf(b, "<text x=\"%d\" y=\"%zu\" text-anchor=\"end\" fill=\"#1a202c\">",
		    CHART_LABEL - 8, y + 12);
		add_esc_short(b, bars[i].label, 30);
		addf(b, "</text><rect x=\"%d\" y=\"%zu\" width=\"%" PRId64 "\" height=\"14\""
		    " fill=\"#2b6cb0\"/><text x=\"%" PRId64 "\" y=\"%zu\" fill=\"#1a202c\">%"
		    PRId64 "%s</text>\n", CHART_LABEL, y + 1, w, CHART_LABEL + w + 6, y + 12,
		    bars[i].value, suffix);
	}
	textbuf_adds(b, "</svg>\n</figure>\n");
}

static void
th_row(struct textbuf *b, const char *const *head, size_t n)
{
	textbuf_adds(b, "<tr>");
	for (size_t i = 0; i < n; i++) {
		textbuf_adds(b, "<th>");
		add_esc(b, head[i]);
		textbuf_adds(b, "</th>");
	}
	textbuf_adds(b, "</tr>\n");
}

/* <td class="n" data-col="col">v</td> */
static void
td_num(struct textbuf *b, const char *col, int64_t v)
{
	addf(b, "<td class=\"n\" data-col=\"%s\">%" PRId64 "</td>", col, v);
}

static void
td_text(struct textbuf *b, const char *col, const char *v, int num)
{
	addf(b, "<td%s data-col=\"%s\">", num ? " class=\"n\"" : "", col);
	add_esc(b, v);
	textbuf_adds(b, "</td>");
}

static void
html_units(struct textbuf *b, const struct report *r, const struct labels *L)
{
	const char *head[] = { L->unit, L->reports, L->last_report, L->meetings, L->invited,
	    L->answered, L->attendance, L->practices, L->indicators };
	struct bar *bars = calloc(r->nunits + 1, sizeof *bars);
	size_t nb = 0;
	char d[16];

	addf(b, "<section id=\"units\">\n<h2>");
	add_esc(b, L->units);
	textbuf_adds(b, "</h2>\n");
	if (bars == NULL) {
		b->oom = 1;
		return;
	}
	for (size_t i = 0; i < r->nunits; i++)
		bars[i] = (struct bar){ r->units[i].name, r->units[i].reports };
	chart(b, L->chart_reports, L->no_data, bars, r->nunits, 0, "");
	for (size_t i = 0; i < r->nunits; i++)
		if (r->units[i].invited > 0)
			bars[nb++] = (struct bar){ r->units[i].name,
			    report_rate(r->units[i].accepted, r->units[i].invited) };
	chart(b, L->chart_attendance, L->no_data, bars, nb, 100, "%");
	free(bars);
	textbuf_adds(b, "<table>\n");
	th_row(b, head, sizeof head / sizeof head[0]);
	for (size_t i = 0; i < r->nunits; i++) {
		const struct report_unit *u = &r->units[i];

		addf(b, "<tr data-scope=\"%s\" data-key=\"", u->body ? "body" : "unit");
		add_esc(b, u->slug);
		addf(b, "\"%s><td data-col=\"name\">", report_unit_silent(r, u) ?
		    " class=\"silent\"" : "");
		add_esc(b, u->name);
		if (u->body) {
			textbuf_adds(b, " <small>(");
			add_esc(b, L->body);
			textbuf_adds(b, ")</small>");
		}
		textbuf_adds(b, "</td>");
		td_num(b, "reports", u->reports);
		ymd(u->last_report, d);
		td_text(b, "last_report", d, 0);
		td_num(b, "meetings", u->meetings);
		td_num(b, "invited", u->invited);
		td_num(b, "answered", u->answered);
		rate_str(u->accepted, u->invited, d);
		td_text(b, "attendance", d, 1);
		td_num(b, "best_practices", u->practices);
		td_num(b, "mdg_indicators", u->indicators);
		textbuf_adds(b, "</tr>\n");
	}
	textbuf_adds(b, "</table>\n</section>\n");
}

static void
html_cities(struct textbuf *b, const struct report *r, const struct labels *L)
{
	struct bar *bars = calloc(r->ncities + 1, sizeof *bars);
	size_t nb = 0;

	textbuf_adds(b, "<section id=\"cities\">\n<h2>");
	add_esc(b, L->cities);
	textbuf_adds(b, "</h2>\n");
	if (bars == NULL) {
		b->oom = 1;
		return;
	}
	/* only the cities that sent something: 375 empty rows say nothing */
	for (size_t i = 0; i < r->ncities; i++)
		if (r->cities[i].submissions > 0)
			bars[nb++] = (struct bar){ r->cities[i].name, r->cities[i].submissions };
	chart(b, L->chart_cities, L->no_data, bars, nb, 0, "");
	free(bars);
	textbuf_adds(b, "<table>\n<tr><th>");
	add_esc(b, L->city);
	textbuf_adds(b, "</th><th>");
	add_esc(b, L->country);
	textbuf_adds(b, "</th><th>");
	add_esc(b, L->submissions);
	textbuf_adds(b, "</th>");
	for (size_t k = 0; k < r->nkinds; k++) {
		textbuf_adds(b, "<th>");
		add_esc(b, r->kinds[k]);
		textbuf_adds(b, "</th>");
	}
	textbuf_adds(b, "<th>");
	add_esc(b, L->invited);
	textbuf_adds(b, "</th><th>");
	add_esc(b, L->answered);
	textbuf_adds(b, "</th></tr>\n");
	for (size_t i = 0; i < r->ncities; i++) {
		const struct report_city *c = &r->cities[i];

		textbuf_adds(b, "<tr data-scope=\"city\" data-key=\"");
		add_esc(b, c->name);
		textbuf_addc(b, '/');
		add_esc(b, c->country);
		addf(b, "\"%s>", report_city_silent(r, c) ? " class=\"silent\"" : "");
		td_text(b, "name", c->name, 0);
		td_text(b, "country", c->country, 0);
		td_num(b, "submissions", c->submissions);
		for (size_t k = 0; k < r->nkinds; k++) {
			textbuf_adds(b, "<td class=\"n\" data-col=\"kind:");
			add_esc(b, r->kinds[k]);
			addf(b, "\">%" PRId64 "</td>", c->by_kind[k]);
		}
		td_num(b, "invited", c->invited);
		td_num(b, "answered", c->answered);
		textbuf_adds(b, "</tr>\n");
	}
	textbuf_adds(b, "</table>\n</section>\n");
}

/* One <li> of the silence lists. */
static void
silent_item(struct textbuf *b, const char *scope, const char *name, const char *country,
    int64_t last, const struct labels *L)
{
	char d[16];

	addf(b, "<li data-scope=\"%s\">", scope);
	add_esc(b, name);
	if (country != NULL) {
		textbuf_adds(b, " (");
		add_esc(b, country);
		textbuf_addc(b, ')');
	}
	ymd(last, d);
	textbuf_adds(b, " — ");
	add_esc(b, L->last);
	textbuf_adds(b, ": ");
	add_esc(b, last > 0 ? d : L->never);
	textbuf_adds(b, "</li>\n");
}

static void
html_silent(struct textbuf *b, const struct report *r, const struct labels *L)
{
	char title[128];
	size_t n = 0;

	snprintf(title, sizeof title, "%s%d%s", L->silent_pre, r->silent_days, L->silent_post);
	textbuf_adds(b, "<section id=\"silent\">\n<h2>");
	add_esc(b, title);
	textbuf_adds(b, "</h2>\n<h3>");
	add_esc(b, L->silent_units);
	textbuf_adds(b, "</h3>\n<ul class=\"silent\">\n");
	for (size_t i = 0; i < r->nunits; i++)
		if (report_unit_silent(r, &r->units[i])) {
			silent_item(b, "unit", r->units[i].name, NULL, r->units[i].last_activity, L);
			n++;
		}
	if (n == 0)
		addf(b, "<li>(%s)</li>\n", L->none);
	textbuf_adds(b, "</ul>\n<h3>");
	add_esc(b, L->silent_cities);
	textbuf_adds(b, "</h3>\n<ul class=\"silent\">\n");
	n = 0;
	for (size_t i = 0; i < r->ncities; i++)
		if (report_city_silent(r, &r->cities[i])) {
			silent_item(b, "city", r->cities[i].name, r->cities[i].country,
			    r->cities[i].last_submission, L);
			n++;
		}
	if (n == 0)
		addf(b, "<li>(%s)</li>\n", L->none);
	textbuf_adds(b, "</ul>\n</section>\n");
}

char *
report_format_html(const struct report *r)
{
	const struct labels *L = labels_of(r);
	struct textbuf b = { 0 };
	char from[16], to[16], gen[16];

	ymd(r->since, from);
	last_day(r, to);
	ymd(r->generated, gen);
	addf(&b, "<!DOCTYPE html>\n<html lang=\"%s\">\n<head>\n<meta charset=\"utf-8\">\n"
	    "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
	    "<title>", r->lang);
	add_esc(&b, L->title);
	addf(&b, " — %s %s %s</title>\n<style>\n", from, L->to, to);
	textbuf_adds(&b, style);
	textbuf_adds(&b, "</style>\n</head>\n<body>\n<h1>");
	add_esc(&b, L->title);
	textbuf_adds(&b, "</h1>\n<p class=\"meta\">");
	add_esc(&b, L->period);
	addf(&b, ": <span id=\"since\">%s</span> %s <span id=\"until\">%s</span> (UTC)"
	    " · ", from, L->to, to);
	add_esc(&b, L->generated);
	addf(&b, ": %s</p>\n", gen);
	html_units(&b, r, L);
	html_cities(&b, r, L);
	html_silent(&b, r, L);
	textbuf_adds(&b, "</body>\n</html>\n");
	return textbuf_take(&b);
}

/* ------------------------------------------------------------ the web page */

#define BUSY_MS 2000

struct report_web {
	char *database;
	char *token_file;	/* read for each request: a new token needs no reload */
};

struct report_web *
report_web_new(const char *database, const char *token_file, struct err *e)
{
	struct report_web *w = calloc(1, sizeof *w);

	char *token;

	if (w == NULL || (w->database = strdup(database)) == NULL ||
	    (w->token_file = strdup(token_file)) == NULL) {
		report_web_free(w);
		err_set(e, "report: out of memory");
		return NULL;
	}
	/* a file that cannot serve (missing, readable by others) stops the start */
	if ((token = config_read_secret(token_file, e)) == NULL) {
		err_wrap(e, "http.report_token_file");
		report_web_free(w);
		return NULL;
	}
	explicit_bzero(token, strlen(token));
	free(token);
	return w;
}

void
report_web_free(struct report_web *w)
{
	if (w == NULL)
		return;
	free(w->token_file);
	free(w->database);
	free(w);
}

int
report_web_page(struct report_web *w, const char *token, const char *since,
    const char *until, const char *lang, const char *silent_days, int64_t now, char **html,
    struct err *e)
{
	struct report_opts o = { -1, now, now, REPORT_SILENT_DAYS, "es" };
	struct report *r;
	sqlite3 *db = NULL;
	char *want;
	int64_t n;
	int ok;

	*html = NULL;
	if ((want = config_read_secret(w->token_file, e)) == NULL) {
		err_wrap(e, "http.report_token_file");
		return -1;
	}
	ok = report_token_ok(token, want);
	explicit_bzero(want, strlen(want));
	free(want);
	if (!ok)
		return 0;
	/* the options as the CLI takes them (its days are whole UTC dates) */
	if (until != NULL && (strlen(until) != 10 || (o.until = clock_parse(until)) < 0))
		return -2;
	if (until != NULL)
		o.until += DAY;
	if (since != NULL && (strlen(since) != 10 || (o.since = clock_parse(since)) < 0))
		return -2;
	if (since == NULL)
		o.since = o.until - 365 * DAY;
	if (lang != NULL && strcmp(lang, "es") != 0 && strcmp(lang, "pt") != 0)
		return -2;
	o.lang = lang ? lang : "es";
	if (silent_days != NULL) {
		char *end;
		n = strtoll(silent_days, &end, 10);
		if (*silent_days < '0' || *silent_days > '9' || *end != '\0' || n < 1 || n > 36500)
			return -2;
		o.silent_days = (int)n;
	}
	if (o.until <= o.since)
		return -2;
	if (sqlite3_open_v2(w->database, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
		err_set(e, "report: %s: %s", w->database, db ? sqlite3_errmsg(db) : "out of memory");
		sqlite3_close(db);
		return -1;
	}
	sqlite3_busy_timeout(db, BUSY_MS);
	r = report_gather(db, &o, e);
	sqlite3_close(db);
	if (r == NULL)
		return -1;
	*html = report_format_html(r);
	report_free(r);
	if (*html == NULL)
		return err_set(e, "report: out of memory");
	return 1;
}
