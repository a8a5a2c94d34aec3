#include "buildconf.h"

/*
 * digest — see digest.h.
 *
 * The content of a period is read into "row sets" (the rows of one query as
 * strings, named by their columns) and handed to the template renderer as
 * lists; a digest is rendered once per language and then addressed to each
 * member (the list headers carry the member's own unsubscribe link).
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "digest.h"
#include "form.h"
#include "ical.h"
#include "list.h"
#include "log.h"
#include "mailfmt.h"
#include "outbox.h"
#include "template.h"
#include "verp.h"

/* ------------------------------------------------------------ schedule */

/* Days since 1970-01-01 of a civil date, and back (proleptic Gregorian). */
static int64_t
days_from_civil(int64_t y, int m, int d)
{
	int64_t era, yoe, doy;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	return era * 146097 + yoe * 365 + yoe / 4 - yoe / 100 + doy - 719468;
}

static void
civil_from_days(int64_t z, int *y, int *m, int *d)
{
	int64_t era, doe, yoe, doy, mp;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = (int)(doy - (153 * mp + 2) / 5 + 1);
	*m = (int)(mp < 10 ? mp + 3 : mp - 9);
	*y = (int)(yoe + era * 400 + (*m <= 2));
}

time_t
digest_due(const struct config_digest *dc, const char *cadence, time_t now, struct err *e)
{
	char buf[32];
	int y, mo, d, weekly = strcmp(cadence, "weekly") == 0;
	int hour = weekly ? dc->weekly_hour : dc->daily_hour;
	int minute = weekly ? dc->weekly_minute : dc->daily_minute;
	int64_t day;
	time_t t;

	if (ical_format_local(now, dc->timezone, buf, sizeof buf) < 0 ||
	    sscanf(buf, "%d-%d-%d", &y, &mo, &d) != 3)
		return err_set(e, "digest.timezone: unknown zone %s", dc->timezone);
	day = days_from_civil(y, mo, d);
	/* today's time, or the latest earlier day that is due (at most 8 back) */
	for (int back = 0; back < 9; back++, day--) {
		int dow = (int)(((day % 7) + 11) % 7);	/* 1970-01-01 was a Thursday (4) */
		if (weekly && dow != dc->weekly_day)
			continue;
		civil_from_days(day, &y, &mo, &d);
		if (ical_local_to_utc(dc->timezone, y, mo, d, hour, minute, &t, e) < 0)
			return -1;
		if (t <= now)
			return t;
	}
	return err_set(e, "digest: no due time found");
}

/* ------------------------------------------------------------ row sets */

struct rowset {
	int ncols;
	size_t nrows;
	char **names;		/* ncols column names */
	char **cells;		/* nrows * ncols values */
	struct tvar *vars;	/* the same as template values */
	struct trow *rows;
};

static void
rowset_free(struct rowset *rs)
{
	for (int c = 0; c < rs->ncols; c++)
		free(rs->names ? rs->names[c] : NULL);
	for (size_t i = 0; i < rs->nrows * (size_t)rs->ncols; i++)
		free(rs->cells[i]);
	free(rs->names);
	free(rs->cells);
	free(rs->vars);
	free(rs->rows);
	memset(rs, 0, sizeof *rs);
}

/* Step s (bound already) to the end into rs; finalizes s. 0 or -1. */
static int
rowset_fill(struct store *st, sqlite3_stmt *s, struct rowset *rs, struct err *e)
{
	size_t cap = 0;
	int r;

	memset(rs, 0, sizeof *rs);
	rs->ncols = sqlite3_column_count(s);
	if ((rs->names = calloc((size_t)rs->ncols + 1, sizeof *rs->names)) == NULL)
		goto oom;
	for (int c = 0; c < rs->ncols; c++)
		if ((rs->names[c] = strdup(sqlite3_column_name(s, c))) == NULL)
			goto oom;
	while ((r = sqlite3_step(s)) == SQLITE_ROW) {
		if (rs->nrows == cap) {
			size_t ncap = cap ? cap * 2 : 16;
			char **n = realloc(rs->cells, ncap * (size_t)rs->ncols * sizeof *n + 1);
			if (n == NULL)
				goto oom;
			rs->cells = n;
			cap = ncap;
		}
		for (int c = 0; c < rs->ncols; c++) {
			const char *v = (const char *)sqlite3_column_text(s, c);
			char **cell = &rs->cells[rs->nrows * (size_t)rs->ncols + (size_t)c];
			*cell = v ? strdup(v) : NULL;
			if (v && *cell == NULL)
				goto oom;
		}
		rs->nrows++;
	}
	sqlite3_finalize(s);
	if (r != SQLITE_DONE)
		return err_set(e, "digest: %s", sqlite3_errmsg(store_db(st)));
	return 0;
oom:
	sqlite3_finalize(s);
	return err_set(e, "out of memory");
}

static const char *
cell(const struct rowset *rs, size_t row, int col)
{
	return rs->cells[row * (size_t)rs->ncols + (size_t)col];
}

/* vars and rows for the template, rows [0, nrows) */
static int
rowset_bind(struct rowset *rs, struct err *e)
{
	size_t n = rs->nrows * (size_t)rs->ncols;

	if ((rs->vars = calloc(n + 1, sizeof *rs->vars)) == NULL ||
	    (rs->rows = calloc(rs->nrows + 1, sizeof *rs->rows)) == NULL)
		return err_set(e, "out of memory");
	for (size_t i = 0; i < n; i++)
		rs->vars[i] = (struct tvar){ rs->names[i % (size_t)rs->ncols], rs->cells[i] };
	for (size_t r = 0; r < rs->nrows; r++)
		rs->rows[r] = (struct trow){ .vars = &rs->vars[r * (size_t)rs->ncols],
		    .n = (size_t)rs->ncols };
	return 0;
}

/* ------------------------------------------------------------ content */

struct unit {
	int64_t id;
	char slug[64], kind[32], name_es[256], name_pt[256];
	int always;
	const struct config_lists *lists;	/* the bounce threshold */
};

/* What one digest says, in one language. */
struct content {
	struct rowset subs, meets, apps, silent, bouncing;
	/* the submissions grouped by kind: one row per kind with its items */
	struct tvar *kvars;	/* 2 per group: kind_title, count */
	struct trow *krows;
	struct tlist *klists;	/* "items" of each group */
	char **kcounts;
	size_t ngroups;
	int news;		/* submissions or applications in the period */
};

static void
content_free(struct content *c)
{
	rowset_free(&c->subs);
	rowset_free(&c->meets);
	rowset_free(&c->apps);
	rowset_free(&c->silent);
	rowset_free(&c->bouncing);
	for (size_t i = 0; i < c->ngroups; i++)
		free(c->kcounts[i]);
	free(c->kcounts);
	free(c->kvars);
	free(c->krows);
	free(c->klists);
	memset(c, 0, sizeof *c);
}

static int
prep(struct store *st, const char *sql, sqlite3_stmt **s, struct err *e)
{
	if (sqlite3_prepare_v2(store_db(st), sql, -1, s, NULL) != SQLITE_OK)
		return err_set(e, "digest: %s", sqlite3_errmsg(store_db(st)));
	return 0;
}

/* Group the submissions (ordered by kind) into kinds with their items. */
static int
group_kinds(struct content *c, const struct form_set *forms, const char *lang, struct err *e)
{
	struct rowset *rs = &c->subs;
	size_t g = 0;

	if (rowset_bind(rs, e) < 0)
		return -1;
	c->kvars = calloc(2 * rs->nrows + 1, sizeof *c->kvars);
	c->krows = calloc(rs->nrows + 1, sizeof *c->krows);
	c->klists = calloc(rs->nrows + 1, sizeof *c->klists);
	c->kcounts = calloc(rs->nrows + 1, sizeof *c->kcounts);
	if (!c->kvars || !c->krows || !c->klists || !c->kcounts)
		return err_set(e, "out of memory");
	for (size_t r = 0; r < rs->nrows; g++) {
		const char *kind = cell(rs, r, 0);
		const struct form_def *fd = forms ? form_set_find(forms, kind) : NULL;
		size_t first = r;
		char num[24];

		while (r < rs->nrows && strcmp(cell(rs, r, 0), kind) == 0)
			r++;
		snprintf(num, sizeof num, "%zu", r - first);
		if ((c->kcounts[g] = strdup(num)) == NULL)
			return err_set(e, "out of memory");
		c->kvars[2 * g] = (struct tvar){ "kind_title", fd ? form_title(fd, lang) : kind };
		c->kvars[2 * g + 1] = (struct tvar){ "count", c->kcounts[g] };
		c->klists[g] = (struct tlist){ "items", &rs->rows[first], r - first };
		c->krows[g] = (struct trow){ .vars = &c->kvars[2 * g], .n = 2,
		    .lists = &c->klists[g], .nlists = 1 };
		c->ngroups = g + 1;
	}
	return 0;
}

/* Run sql with ?1 the unit, ?2 a, ?3 b, ?4 lang, ?5 1 for a unit's list (0 for
 * a body's), ?6 and ?7 the bounce window (seconds) and limit. */
static int
query(struct store *st, const char *sql, const struct unit *u, time_t a, time_t b,
    const char *lang, struct rowset *rs, struct err *e)
{
	const struct config_lists *lc = u->lists;
	sqlite3_stmt *s;

	if (prep(st, sql, &s, e) < 0)
		return -1;
	sqlite3_bind_int64(s, 1, u->id);
	sqlite3_bind_int64(s, 2, a);
	sqlite3_bind_int64(s, 3, b);
	sqlite3_bind_text(s, 4, lang, -1, SQLITE_STATIC);
	sqlite3_bind_int(s, 5, strcmp(u->kind, "unit") == 0);
	sqlite3_bind_int64(s, 6, lc ? (int64_t)lc->bounce_days * 86400 : 0);
	sqlite3_bind_int(s, 7, lc ? lc->bounce_limit : 0);
	return rowset_fill(st, s, rs, e);
}

/* A unit's list gets its own submissions; a body's list every one. */
#define SUBS_WHERE " s.created_at >= ?2 AND s.created_at < ?3 AND (?5 = 0 OR s.unit_id = ?1)"

static int
content_load(struct store *st, const struct config *cfg, const struct form_set *forms,
    const struct unit *u, time_t start, time_t end, const char *lang, struct content *c,
    struct err *e)
{
	int body_list = strcmp(u->kind, "council") == 0 || strcmp(u->kind, "board") == 0;

	memset(c, 0, sizeof *c);
	if (query(st, "SELECT s.kind AS kind, coalesce(s.title, '') AS title,"
	    " coalesce(ci.name, '') AS city, s.reference AS reference,"
	    " CASE WHEN length(x.t) > 160 THEN substr(x.t, 1, 157) || '...' ELSE x.t END AS excerpt"
	    " FROM submissions s LEFT JOIN cities ci ON ci.id = s.city_id"
	    " JOIN (SELECT id, trim(replace(replace(coalesce(body, ''), char(13), ' '),"
	    "  char(10), ' ')) AS t FROM messages) x ON x.id = s.message_id"
	    " WHERE s.kind <> 'adhesion' AND" SUBS_WHERE " ORDER BY s.kind, s.created_at, s.id",
	    u, start, end, lang, &c->subs, e) < 0 || group_kinds(c, forms, lang, e) < 0)
		return -1;
	if (query(st, "SELECT m.title AS title, m.start_at AS start, m.tzid AS tzid,"
	    " coalesce(m.reference, '') AS reference, coalesce(m.location, '') AS location,"
	    " count(CASE a.partstat WHEN 'ACCEPTED' THEN 1 END) AS accepted,"
	    " count(CASE a.partstat WHEN 'DECLINED' THEN 1 END) AS declined,"
	    " count(CASE a.partstat WHEN 'TENTATIVE' THEN 1 END) AS tentative,"
	    " count(CASE a.partstat WHEN 'NEEDS-ACTION' THEN 1 END) AS no_answer"
	    " FROM meetings m LEFT JOIN meeting_attendees a ON a.meeting_id = m.id"
	    " WHERE m.unit_id = ?1 AND m.status = 'confirmed' AND m.start_at >= ?3"
	    " AND m.start_at < ?3 + " "30 * 86400 AND ?2 = ?2 AND ?4 = ?4 AND ?5 = ?5"
	    " GROUP BY m.id ORDER BY m.start_at", u, start, end, lang, &c->meets, e) < 0)
		return -1;
	/* the start in the meeting's zone, for people */
	for (size_t r = 0; r < c->meets.nrows; r++) {
		char when[64], *t = c->meets.cells[r * (size_t)c->meets.ncols + 1];
		if (ical_format_local(t ? strtoll(t, NULL, 10) : 0, cell(&c->meets, r, 2),
		    when, sizeof when - 32) == 0) {
			size_t l = strlen(when);
			snprintf(when + l, sizeof when - l, " (%s)", cell(&c->meets, r, 2));
			free(t);
			if ((c->meets.cells[r * (size_t)c->meets.ncols + 1] = strdup(when)) == NULL)
				return err_set(e, "out of memory");
		}
	}
	free(c->meets.names[1]);
	if ((c->meets.names[1] = strdup("when")) == NULL || rowset_bind(&c->meets, e) < 0)
		return -1;
	/* the applications undecided at the end of the period (inclusive: a
	 * preview right after a vote shows it), with the votes so far; "new"
	 * ones (filed in the period) make the digest worth sending */
	if (body_list && (query(st, "SELECT a.city AS title, a.country AS city,"
	    " s.reference AS reference,"
	    " (SELECT count(*) FROM votes v WHERE v.application_id = a.id AND v.vote = 'approve'"
	    "  AND v.at <= ?3) AS approve,"
	    " (SELECT count(*) FROM votes v WHERE v.application_id = a.id AND v.vote = 'reject'"
	    "  AND v.at <= ?3) AS reject, a.created_at >= ?2 AS new"
	    " FROM applications a JOIN submissions s ON s.id = a.submission_id"
	    " WHERE a.created_at <= ?3 AND (a.state = 'pending' OR a.decided_at > ?3)"
	    " AND ?1 = ?1 AND ?4 = ?4 AND ?5 = ?5 ORDER BY a.created_at",
	    u, start, end, lang, &c->apps, e) < 0 || rowset_bind(&c->apps, e) < 0))
		return -1;
	if (query(st, strcmp(u->kind, "unit") == 0 ?
	    "SELECT ci.name AS name FROM unit_members um JOIN cities ci ON ci.id = um.city_id"
	    " WHERE um.unit_id = ?1 AND NOT EXISTS (SELECT 1 FROM submissions s"
	    "  WHERE s.city_id = ci.id AND s.created_at >= ?2) AND ?3 = ?3 AND ?4 = ?4 AND ?5 = ?5"
	    " ORDER BY ci.name" :
	    "SELECT CASE WHEN ?4 = 'pt' THEN u.name_pt ELSE u.name_es END AS name FROM units u"
	    " WHERE u.kind = 'unit' AND NOT EXISTS (SELECT 1 FROM submissions s"
	    "  WHERE s.unit_id = u.id AND s.created_at >= ?2) AND ?1 = ?1 AND ?3 = ?3 AND ?5 = ?5"
	    " ORDER BY 1", u, end - (time_t)cfg->digest.silent_days * 86400, end, lang,
	    &c->silent, e) < 0 || rowset_bind(&c->silent, e) < 0)
		return -1;
	/* members whose address bounced into the threshold during the period:
	 * they get no more list mail, the coordinators should know */
	if (query(st, "SELECT b.address AS address, count(*) AS bounces FROM bounces b"
	    " WHERE b.hard = 1 AND b.at >= ?3 - ?6"
	    " AND (b.address IN (SELECT c.address FROM unit_members um JOIN contacts c"
	    "  ON c.city_id = um.city_id WHERE um.unit_id = ?1)"
	    "  OR b.address IN (SELECT address FROM list_subscriptions WHERE unit_id = ?1))"
	    " AND ?4 = ?4 AND ?5 = ?5 GROUP BY b.address"
	    " HAVING count(*) >= ?7 AND max(b.at) >= ?2 ORDER BY 1",
	    u, start, end, lang, &c->bouncing, e) < 0 || rowset_bind(&c->bouncing, e) < 0)
		return -1;
	c->news = c->subs.nrows > 0;
	for (size_t i = 0; i < c->apps.nrows; i++)	/* column 5: new */
		c->news |= strcmp(c->apps.cells[i * (size_t)c->apps.ncols + 5], "1") == 0;
	return 0;
}

/* ------------------------------------------------------------ rendering */

struct rendered {
	char lang[3];
	char *subject, *text, *html;
	char name[256];
	int news;
};

static void
rendered_free(struct rendered *r)
{
	free(r->subject);
	free(r->text);
	free(r->html);
	memset(r, 0, sizeof *r);
}

static int
render(struct store *st, const struct config *cfg, const struct form_set *forms,
    const struct unit *u, time_t start, time_t end, const char *lang, struct rendered *out,
    struct err *e)
{
	struct content c;
	struct template *tt = NULL, *th = NULL;
	char from[32] = "", to[32] = "", sdays[16];
	char *body = NULL;
	int r = -1;

	memset(out, 0, sizeof *out);
	str_copy(out->lang, lang, sizeof out->lang);
	str_copy(out->name, strcmp(lang, "pt") == 0 ? u->name_pt : u->name_es, sizeof out->name);
	ical_format_local(start, cfg->digest.timezone, from, sizeof from);
	ical_format_local(end, cfg->digest.timezone, to, sizeof to);
	snprintf(sdays, sizeof sdays, "%d", cfg->digest.silent_days);
	if (content_load(st, cfg, forms, u, start, end, lang, &c, e) < 0)
		goto out;
	out->news = c.news;
	{
		char na[24], nm[24], ns[24];
		snprintf(na, sizeof na, "%zu", c.apps.nrows);
		snprintf(nm, sizeof nm, "%zu", c.meets.nrows);
		snprintf(ns, sizeof ns, "%zu", c.silent.nrows);
		const struct tvar v[] = { { "list", out->name }, { "slug", u->slug },
		    { "period_from", from }, { "period_to", to }, { "silent_days", sdays },
		    { "news", c.news ? "1" : NULL }, { "change_address", cfg->smtp.from },
		    { "applications_count", c.apps.nrows ? na : NULL },
		    { "meetings_count", c.meets.nrows ? nm : NULL },
		    { "silent_count", c.silent.nrows ? ns : NULL },
		    { "bouncing_count", c.bouncing.nrows ? "1" : NULL } };
		const struct tlist l[] = { { "kinds", c.krows, c.ngroups },
		    { "meetings", c.meets.rows, c.meets.nrows },
		    { "applications", c.apps.rows, c.apps.nrows },
		    { "silent", c.silent.rows, c.silent.nrows },
		    { "bouncing", c.bouncing.rows, c.bouncing.nrows } };
		size_t nv = sizeof v / sizeof v[0], nl = sizeof l / sizeof l[0];

		if ((tt = template_load(cfg->mail.templates, lang, "digest", "txt", e)) == NULL ||
		    (th = template_load(cfg->mail.templates, lang, "digest", "html", e)) == NULL ||
		    (out->subject = template_render_lists(tt->subject, v, nv, l, nl, TEMPLATE_TEXT, e)) == NULL ||
		    (body = template_render_lists(tt->body, v, nv, l, nl, TEMPLATE_TEXT, e)) == NULL ||
		    (out->html = template_render_lists(th->body, v, nv, l, nl, TEMPLATE_HTML, e)) == NULL)
			goto out;
		if ((out->text = mailfmt_wrap(body, 78)) == NULL) {
			err_set(e, "out of memory");
			goto out;
		}
	}
	r = 0;
out:
	free(body);
	template_free(tt);
	template_free(th);
	content_free(&c);
	if (r < 0)
		rendered_free(out);
	return r;
}

/* ------------------------------------------------------------ sending */

struct run {
	struct store *st;
	const struct config *cfg;
	const struct form_set *forms;
	const struct unit *u;
	const char *cadence;	/* members with this mode; NULL: all but none */
	time_t start, end, now;
	time_t queued_at;	/* the clock: when the mails are queued (now may be simulated) */
	unsigned char *key;
	size_t keylen;
	struct rendered r[2];	/* es, pt: rendered on first use */
	unsigned queued;
	int empty;		/* nothing new and the list does not say always */
};

static struct rendered *
rendered_for(struct run *x, const char *lang, struct err *e)
{
	int i = strcmp(lang, "pt") == 0;

	if (x->r[i].subject == NULL &&
	    render(x->st, x->cfg, x->forms, x->u, x->start, x->end, i ? "pt" : "es", &x->r[i], e) < 0)
		return NULL;
	return &x->r[i];
}

static int
send_member(const struct list_member *m, void *arg, struct err *e)
{
	struct run *x = arg;
	struct rendered *r;
	struct mailfmt *mf;
	struct outbox_item it = { .purpose = "digest", .mail_from = x->cfg->smtp.from,
	    .rcpt = m->address, .unit_id = x->u->id };
	char *msgid = NULL, *data = NULL, domain[128], verp[256];
	const char *at = strrchr(x->cfg->smtp.from, '@');
	int64_t key = 0;
	int rc = -1;

	if (strcmp(m->digest, "none") == 0 || (x->cadence && strcmp(m->digest, x->cadence) != 0))
		return 0;
	if ((r = rendered_for(x, m->lang, e)) == NULL)
		return -1;
	if (x->empty && !r->news)
		return 0;
	str_copy(domain, at ? at + 1 : "localhost", sizeof domain);
	/* the one-click link and the envelope sender (VERP: a report that comes
	 * back names the member) are signed for this member's row */
	if (x->key && (key = list_member_key(x->st, x->u->id, m->address, m->lang, x->now, e)) < 0)
		return -1;
	if ((rc = verp_sender(x->cfg, x->key, x->keylen, key, x->now, verp, sizeof verp, e)) < 0)
		return -1;
	if (rc == 0)
		it.mail_from = verp;
	rc = -1;
	if ((mf = mailfmt_new()) == NULL)
		return err_set(e, "out of memory");
	if (mailfmt_address(mf, "From", x->cfg->mail.name, x->cfg->smtp.from) < 0 ||
	    mailfmt_address(mf, "To", m->name[0] ? m->name : NULL, m->address) < 0 ||
	    mailfmt_header(mf, "Subject", r->subject) < 0 ||
	    list_add_headers(mf, x->cfg, x->cfg->http.base_url, x->key, x->keylen, x->u->slug, r->name, key,
	    x->now, e) < 0 || mailfmt_text(mf, r->text) < 0 || mailfmt_html(mf, r->html) < 0) {
		if (e && e->msg[0] == '\0')
			err_set(e, "cannot write the digest");
		goto out;
	}
	if ((data = mailfmt_build(mf, domain, x->queued_at, &msgid, &it.len, e)) == NULL)
		goto out;
	it.msgid = msgid;
	it.data = data;
	if (outbox_enqueue(x->st, &it, x->queued_at, e) < 0)
		goto out;
	x->queued++;
	rc = 0;
out:
	mailfmt_free(mf);
	free(msgid);
	free(data);
	return rc;
}

/* Previous end of a digest of the unit (cadence or manual), or def. */
static int
previous_end(struct store *st, int64_t unit, const char *cadence, time_t def, time_t *out,
    struct err *e)
{
	sqlite3_stmt *s;

	if (prep(st, "SELECT max(period_end) FROM digests WHERE unit_id = ?1"
	    " AND (?2 IS NULL OR cadence IN (?2, 'manual'))", &s, e) < 0)
		return -1;
	sqlite3_bind_int64(s, 1, unit);
	if (cadence)
		sqlite3_bind_text(s, 2, cadence, -1, SQLITE_STATIC);
	*out = def;
	if (sqlite3_step(s) == SQLITE_ROW && sqlite3_column_type(s, 0) != SQLITE_NULL)
		*out = (time_t)sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	return 0;
}

static int
record(struct run *x, const char *cadence, struct err *e)
{
	sqlite3_stmt *s;
	int r;

	if (prep(x->st, "INSERT INTO digests (unit_id, cadence, period_start, period_end,"
	    " sent_at, recipients) VALUES (?, ?, ?, ?, ?, ?)", &s, e) < 0)
		return -1;
	sqlite3_bind_int64(s, 1, x->u->id);
	sqlite3_bind_text(s, 2, cadence, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 3, x->start);
	sqlite3_bind_int64(s, 4, x->end);
	sqlite3_bind_int64(s, 5, x->queued_at);
	sqlite3_bind_int(s, 6, (int)x->queued);
	r = sqlite3_step(s) == SQLITE_DONE ? 0 : err_set(e, "digest: %s",
	    sqlite3_errmsg(store_db(x->st)));
	sqlite3_finalize(s);
	return r;
}

/* One list, one period: mails and the record in one transaction. Returns
 * 0 (also when that period was done before), or -1. */
static int
run_period(struct run *x, const char *cadence, time_t period_len, struct err *e)
{
	sqlite3_stmt *s;
	int done = 0;

	if (store_begin(x->st, e) < 0)
		return -1;
	if (prep(x->st, "SELECT 1 FROM digests WHERE unit_id = ? AND cadence = ? AND period_end = ?",
	    &s, e) < 0)
		goto fail;
	sqlite3_bind_int64(s, 1, x->u->id);
	sqlite3_bind_text(s, 2, cadence, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 3, x->end);
	done = sqlite3_step(s) == SQLITE_ROW;
	sqlite3_finalize(s);
	if (!done) {
		if (previous_end(x->st, x->u->id, strcmp(cadence, "manual") ? cadence : NULL,
		    x->end - period_len, &x->start, e) < 0)
			goto fail;
		if (x->start > x->end)
			x->start = x->end;
		/* on demand (manual) it goes out even when there is nothing new */
		x->empty = strcmp(cadence, "manual") != 0 && !x->u->always;
		if (list_members(x->st, x->u->id, &x->cfg->lists, x->now, send_member, x, e) < 0 ||
		    record(x, cadence, e) < 0)
			goto fail;
		if (x->queued)
			log_info("event=digest list=%s cadence=%s mails=%u", x->u->slug, cadence,
			    x->queued);
	}
	if (store_commit(x->st, e) < 0)
		goto fail;
	return 0;
fail:
	store_rollback(x->st);
	return -1;
}

static void
run_clear(struct run *x)
{
	rendered_free(&x->r[0]);
	rendered_free(&x->r[1]);
	x->queued = 0;
}

static void
run_key_free(struct run *x)
{
	if (x->key) {
		explicit_bzero(x->key, x->keylen);
		free(x->key);
		x->key = NULL;
	}
}

/* Units (all, or slug) into an array the caller frees. */
static int
units_load(struct store *st, const struct config *cfg, const char *slug, struct unit **out,
    size_t *n, struct err *e)
{
	sqlite3_stmt *s;
	size_t cap = 0;

	*out = NULL;
	*n = 0;
	if (prep(st, "SELECT u.id, u.slug, u.kind, u.name_es, u.name_pt,"
	    " coalesce(l.digest_always, 0) FROM units u LEFT JOIN lists l ON l.unit_id = u.id"
	    " WHERE ?1 IS NULL OR u.slug = ?1 ORDER BY u.id", &s, e) < 0)
		return -1;
	if (slug)
		sqlite3_bind_text(s, 1, slug, -1, SQLITE_STATIC);
	while (sqlite3_step(s) == SQLITE_ROW) {
		if (*n == cap) {
			struct unit *nu = realloc(*out, (cap = cap ? cap * 2 : 16) * sizeof *nu);
			if (nu == NULL) {
				sqlite3_finalize(s);
				return err_set(e, "out of memory");
			}
			*out = nu;
		}
		struct unit *u = &(*out)[(*n)++];
		u->id = sqlite3_column_int64(s, 0);
		str_copy(u->slug, (const char *)sqlite3_column_text(s, 1), sizeof u->slug);
		str_copy(u->kind, (const char *)sqlite3_column_text(s, 2), sizeof u->kind);
		str_copy(u->name_es, (const char *)sqlite3_column_text(s, 3), sizeof u->name_es);
		str_copy(u->name_pt, (const char *)sqlite3_column_text(s, 4), sizeof u->name_pt);
		u->always = sqlite3_column_int(s, 5);
		u->lists = &cfg->lists;
	}
	sqlite3_finalize(s);
	return 0;
}

static int
run_setup(struct run *x, struct store *st, const struct config *cfg, time_t now,
    struct form_set **forms, struct err *e)
{
	memset(x, 0, sizeof *x);
	x->st = st;
	x->cfg = cfg;
	x->now = now;
	x->queued_at = time(NULL);
	if (cfg->smtp.from == NULL)
		return err_set(e, "digests need smtp.from");
	/* the key of the signed unsubscribe links; without one, mailto: only */
	if (cfg->mail.token_key_file) {
		char *k = config_read_secret(cfg->mail.token_key_file, e);
		if (k == NULL)
			return err_wrap(e, "mail.token_key_file");
		x->key = (unsigned char *)k;
		x->keylen = strlen(k);
	}
		/* kind titles only: a forms directory that does not load leaves kinds bare */
	*forms = form_set_load(cfg->mail.templates, NULL, NULL);
	x->forms = *forms;
	return 0;
}

int
digest_run(struct store *st, const struct config *cfg, time_t now, unsigned *queued,
    struct err *e)
{
	static const struct { const char *cadence; time_t len; } cad[] = {
		{ "daily", 86400 }, { "weekly", 7 * 86400 } };
	struct form_set *forms = NULL;
	struct unit *units = NULL;
	struct run x;
	size_t n = 0;
	int r = 0;

	*queued = 0;
	if (run_setup(&x, st, cfg, now, &forms, e) < 0 || units_load(st, cfg, NULL, &units, &n, e) < 0)
		r = -1;
	for (size_t i = 0; i < n && r == 0; i++) {
		struct config_digest dc;
		config_digest_for(cfg, units[i].slug, &dc);	/* its [list SLUG] times */
		for (size_t c = 0; c < 2 && r == 0; c++) {
			time_t due;
			if ((c == 0 ? dc.daily_hour : dc.weekly_hour) < 0)
				continue;	/* not scheduled */
			if ((due = digest_due(&dc, cad[c].cadence, now, e)) < 0) {
				r = -1;
				break;
			}
			x.u = &units[i];
			x.cadence = cad[c].cadence;
			x.end = due;
			r = run_period(&x, cad[c].cadence, cad[c].len, e);
			*queued += x.queued;
			run_clear(&x);
		}
	}
	free(units);
	form_set_free(forms);
	run_key_free(&x);
	return r;
}

int
digest_send(struct store *st, const struct config *cfg, const char *slug, time_t now,
    unsigned *queued, struct err *e)
{
	struct form_set *forms = NULL;
	struct unit *units = NULL;
	struct run x;
	size_t n = 0;
	int r = -1;

	*queued = 0;
	if (run_setup(&x, st, cfg, now, &forms, e) == 0 &&
	    units_load(st, cfg, slug, &units, &n, e) == 0) {
		r = 1;
		if (n == 1) {
			x.u = &units[0];
			x.end = now;
			r = run_period(&x, "manual", 7 * 86400, e);
			*queued = x.queued;
			run_clear(&x);
		}
	}
	free(units);
	form_set_free(forms);
	run_key_free(&x);
	return r;
}

int
digest_preview(struct store *st, const struct config *cfg, const char *slug,
    const char *lang, int html, time_t now, FILE *out, struct err *e)
{
	struct form_set *forms = form_set_load(cfg->mail.templates, NULL, NULL);
	struct unit *units = NULL;
	struct rendered r;
	size_t n = 0;
	time_t start;
	int rc = -1;

	if (units_load(st, cfg, slug, &units, &n, e) == 0) {
		rc = 1;
		if (n == 1 && previous_end(st, units[0].id, NULL, now - 7 * 86400, &start, e) == 0) {
			rc = render(st, cfg, forms, &units[0], start, now, lang, &r, e);
			if (rc == 0) {
				fprintf(out, "Subject: %s\n\n%s", r.subject, html ? r.html : r.text);
				rendered_free(&r);
			}
		}
	}
	free(units);
	form_set_free(forms);
	return rc;
}

/* ------------------------------------------------------------ checking */

void
digest_check_lists(struct store *st, const struct config *cfg)
{
	for (size_t i = 0; i < cfg->digest.nlists; i++) {
		struct unit *u = NULL;
		size_t n = 0;
		struct err e;
		if (units_load(st, cfg, cfg->digest.lists[i].slug, &u, &n, &e) == 0 && n == 0)
			log_warn("event=config section=\"list %s\" msg=\"no unit or body has this"
			    " slug: its digest times are not used\"", cfg->digest.lists[i].slug);
		free(u);
	}
}

int
digest_check_templates(const char *dir, FILE *diag)
{
	static const char *const digest_vars[] = { "list", "slug", "period_from", "period_to",
	    "silent_days", "news", "change_address", "applications_count", "meetings_count",
	    "silent_count", "bouncing_count", "kinds", "approve", "reject", "new", "kind_title", "count", "items", "title",
	    "city", "reference", "excerpt", "meetings", "when", "start", "tzid", "location",
	    "accepted", "declined", "tentative", "no_answer", "applications", "silent", "name",
	    "bouncing", "address", "bounces" };
	static const char *const done_vars[] = { "list", "slug", "address", "subscribed",
	    "unsubscribed", "daily", "weekly", "none", "unknown", "digest", "help_address" };
	static const char *const confirm_vars[] = { "list", "slug", "address", "requested_by",
	    "confirm_address" };
	static const struct {
		const char *name, *ext;
		const char *const *vars;
		size_t n;
	} all[] = {
		{ "digest", "txt", digest_vars, sizeof digest_vars / sizeof digest_vars[0] },
		{ "digest", "html", digest_vars, sizeof digest_vars / sizeof digest_vars[0] },
		{ "list-done", "txt", done_vars, sizeof done_vars / sizeof done_vars[0] },
		{ "list-confirm", "txt", confirm_vars, sizeof confirm_vars / sizeof confirm_vars[0] },
	};
	static const char *const langs[] = { "es", "pt" };
	int problems = 0;

	for (size_t l = 0; l < 2; l++)
		for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) {
			struct err e = { "" };
			struct template *t = template_load(dir, langs[l], all[i].name, all[i].ext, &e);
			if (t == NULL || template_check(t, all[i].vars, all[i].n, &e) < 0) {
				fprintf(diag, "%s\n", e.msg);
				problems++;
			}
			template_free(t);
		}
	return problems;
}
