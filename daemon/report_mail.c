#include "buildconf.h"

/*
 * report_mail — the activity report mailed to the Council once a month
 * (report.h: report_monthly_run). The figures and the pages are gathered
 * first (their own read transaction); then one write transaction checks
 * the month again, queues one outbox row per recipient and records the
 * month: two passes, or a restart between them, cannot both send it.
 */

#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L	/* strdup, gmtime_r */
#endif

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sqlite3.h>

#include "clock.h"
#include "config.h"
#include "mailfmt.h"
#include "outbox.h"
#include "report.h"
#include "store.h"
#include "template.h"

#define DAY 86400
#define NLANG 2

static const char *const langs[NLANG] = { "es", "pt" };

/* What the texts of report-monthly.txt may name (queue_one gives them). */
static const char *const var_names[] = { "period_start", "period_end", "silent_days",
	"filename", "sender" };
#define NVARS (sizeof var_names / sizeof var_names[0])

struct job {
	struct store *st;
	const struct config *cfg;
	time_t now;
	struct err *e;
	char month[16];			/* "2026-07": the month it is sent in */
	char last[16];			/* "2026-06": the last month it covers */
	int64_t since, until;
	int64_t council;		/* units.id of 'consejo' */
	char *html[NLANG];		/* the page per language */
	struct template *t[NLANG];
};

/* 1 if the month was recorded already, 0 if not, -1 on error. */
static int
month_done(struct job *j)
{
	sqlite3 *db = store_db(j->st);
	sqlite3_stmt *s = NULL;
	int rc;

	if (sqlite3_prepare_v2(db, "SELECT 1 FROM report_mails WHERE month = ?1", -1, &s,
	    NULL) != SQLITE_OK)
		return err_set(j->e, "report: %s", sqlite3_errmsg(db));
	sqlite3_bind_text(s, 1, j->month, -1, SQLITE_STATIC);
	rc = sqlite3_step(s);
	sqlite3_finalize(s);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return err_set(j->e, "report: %s", sqlite3_errmsg(db));
	return rc == SQLITE_ROW;
}

/* The months: the current one, the last one covered, and the period. */
static void
set_period(struct job *j)
{
	time_t now = j->now;
	struct tm tm;
	char day[16];
	unsigned y, m;

	gmtime_r(&now, &tm);
	/* unsigned and bounded, so that -Wformat-truncation can see they fit */
	y = (unsigned)(tm.tm_year + 1900) % 10000u;
	m = (unsigned)(tm.tm_mon + 1) % 100u;
	snprintf(j->month, sizeof j->month, "%04u-%02u", y, m);
	snprintf(j->last, sizeof j->last, "%04u-%02u", m == 1 ? y - 1 : y, m == 1 ? 12 : m - 1);
	snprintf(day, sizeof day, "%04u-%02u-01", y, m);
	j->until = clock_parse(day);
	snprintf(day, sizeof day, "%04u-%02u-01", y - 1, m);
	j->since = clock_parse(day);
}

/* The pages in both languages and the texts. 0 or -1. */
static int
prepare(struct job *j)
{
	struct report_opts o = { j->since, j->until, j->now, REPORT_SILENT_DAYS, NULL };

	for (int i = 0; i < NLANG; i++) {
		struct report *r;

		o.lang = langs[i];
		if ((r = report_gather(store_db(j->st), &o, j->e)) == NULL)
			return -1;
		j->html[i] = report_format_html(r);
		report_free(r);
		if (j->html[i] == NULL)
			return err_set(j->e, "report: out of memory");
		if ((j->t[i] = template_load(j->cfg->mail.templates, langs[i], "report-monthly",
		    "txt", j->e)) == NULL)
			return -1;
	}
	return 0;
}

/* One mail to address in lang; queued inside the caller's transaction. */
static int
queue_one(struct job *j, const char *address, const char *lang)
{
	int li = strcmp(lang, "pt") == 0 ? 1 : 0;
	const char *from = j->cfg->smtp.from, *domain = strchr(from, '@') + 1;
	char ps[16], pe[16], days[16], file[64], *subject = NULL, *body = NULL, *data = NULL;
	char *msgid = NULL;
	struct mailfmt *mf = NULL;
	size_t len = 0;
	struct tm tm;
	time_t t;
	int rc = -1;

	t = (time_t)j->since;
	strftime(ps, sizeof ps, "%Y-%m-%d", gmtime_r(&t, &tm));
	t = (time_t)(j->until - 1);
	strftime(pe, sizeof pe, "%Y-%m-%d", gmtime_r(&t, &tm));
	snprintf(days, sizeof days, "%d", REPORT_SILENT_DAYS);
	snprintf(file, sizeof file, "%s-%s.html", li ? "relatorio-atividade" : "informe-actividad",
	    j->last);
	const struct tvar v[] = { { "period_start", ps }, { "period_end", pe },
	    { "silent_days", days }, { "filename", file },
	    { "sender", j->cfg->mail.name ? j->cfg->mail.name : from } };
	size_t nv = sizeof v / sizeof v[0];

	if ((subject = template_render_string(j->t[li]->subject, v, nv, TEMPLATE_TEXT,
	    j->e)) == NULL ||
	    (body = template_render_string(j->t[li]->body, v, nv, TEMPLATE_TEXT, j->e)) == NULL)
		goto done;
	if ((mf = mailfmt_new()) == NULL ||
	    mailfmt_address(mf, "From", j->cfg->mail.name, from) < 0 ||
	    mailfmt_address(mf, "To", NULL, address) < 0 ||
	    mailfmt_header(mf, "Subject", subject) < 0 ||
	    mailfmt_header(mf, "Auto-Submitted", "auto-generated") < 0 ||
	    mailfmt_text(mf, body) < 0 ||
	    mailfmt_attach(mf, file, "text/html; charset=utf-8", j->html[li],
	    strlen(j->html[li])) < 0) {
		err_set(j->e, "report: cannot build the mail to %.80s", address);
		goto done;
	}
	if ((data = mailfmt_build(mf, domain, j->now, &msgid, &len, j->e)) == NULL)
		goto done;
	struct outbox_item it = { .purpose = "report", .mail_from = from, .rcpt = address,
	    .msgid = msgid, .data = data, .len = len, .unit_id = j->council };
	/* due at once by the wall clock, whatever now was injected (clock.h) */
	rc = outbox_enqueue(j->st, &it, time(NULL), j->e) < 0 ? -1 : 0;
done:
	mailfmt_free(mf);
	free(subject);
	free(body);
	free(data);
	free(msgid);
	return rc;
}

/* Every recipient, inside the transaction; the count in *n. */
static int
queue_all(struct job *j, unsigned *n)
{
	sqlite3 *db = store_db(j->st);
	sqlite3_stmt *s = NULL;
	int rc;

	if (sqlite3_prepare_v2(db,
	    "SELECT DISTINCT k.address, k.lang, u.id FROM units u"
	    " JOIN unit_members um ON um.unit_id = u.id JOIN contacts k ON k.city_id = um.city_id"
	    " WHERE u.slug = 'consejo' AND NOT EXISTS (SELECT 1 FROM list_subscriptions ls"
	    "  WHERE ls.unit_id = u.id AND ls.address = k.address AND ls.unsubscribed = 1)"
	    " ORDER BY k.address", -1, &s, NULL) != SQLITE_OK)
		return err_set(j->e, "report: %s", sqlite3_errmsg(db));
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		const char *addr = (const char *)sqlite3_column_text(s, 0);
		const char *lang = (const char *)sqlite3_column_text(s, 1);

		j->council = sqlite3_column_int64(s, 2);
		if (queue_one(j, addr, lang ? lang : "es") < 0) {
			sqlite3_finalize(s);
			return -1;
		}
		(*n)++;
	}
	sqlite3_finalize(s);
	if (rc != SQLITE_DONE)
		return err_set(j->e, "report: %s", sqlite3_errmsg(db));
	return 0;
}

static int
record_month(struct job *j, unsigned n)
{
	sqlite3 *db = store_db(j->st);
	sqlite3_stmt *s = NULL;
	char detail[64];
	int rc;

	if (sqlite3_prepare_v2(db, "INSERT INTO report_mails (month, period_start, period_end,"
	    " sent_at, recipients) VALUES (?1, ?2, ?3, ?4, ?5)", -1, &s, NULL) != SQLITE_OK)
		return err_set(j->e, "report: %s", sqlite3_errmsg(db));
	sqlite3_bind_text(s, 1, j->month, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, j->since);
	sqlite3_bind_int64(s, 3, j->until);
	sqlite3_bind_int64(s, 4, (int64_t)j->now);
	sqlite3_bind_int64(s, 5, (int64_t)n);
	rc = sqlite3_step(s);
	sqlite3_finalize(s);
	if (rc != SQLITE_DONE)
		return err_set(j->e, "report: %s", sqlite3_errmsg(db));
	snprintf(detail, sizeof detail, "recipients=%u", n);
	return store_audit(j->st, j->now, "daemon", "report.monthly", j->month, detail, j->e);
}

int
report_check_templates(const char *dir, FILE *diag)
{
	int problems = 0;

	for (int l = 0; l < NLANG; l++) {
		struct tvar v[NVARS];
		struct err e;
		struct template *t = template_load(dir, langs[l], "report-monthly", "txt", &e);
		char *s = NULL, *b = NULL;

		for (size_t i = 0; i < NVARS; i++)
			v[i] = (struct tvar){ var_names[i], "x" };
		if (t == NULL || template_check(t, var_names, NVARS, &e) < 0 ||
		    (s = template_render_string(t->subject, v, NVARS, TEMPLATE_TEXT, &e)) == NULL ||
		    (b = template_render_string(t->body, v, NVARS, TEMPLATE_TEXT, &e)) == NULL) {
			fprintf(diag, "%s\n", e.msg);
			problems++;
		}
		free(s);
		free(b);
		template_free(t);
	}
	return problems;
}

int
report_monthly_run(struct store *st, const struct config *cfg, time_t now, unsigned *queued,
    struct err *e)
{
	struct job j = { .st = st, .cfg = cfg, .now = now, .e = e };
	unsigned n = 0;
	int rc = -1, done;

	*queued = 0;
	if (cfg->smtp.from == NULL || strchr(cfg->smtp.from, '@') == NULL)
		return 0;
	set_period(&j);
	if ((done = month_done(&j)) != 0)
		return done < 0 ? -1 : 0;
	if (prepare(&j) < 0)
		goto out;
	if (store_begin(st, e) < 0)
		goto out;
	/* again inside the write lock: another process may have just done it */
	if ((done = month_done(&j)) != 0 || queue_all(&j, &n) < 0 || record_month(&j, n) < 0) {
		store_rollback(st);
		rc = done > 0 ? 0 : -1;
		goto out;
	}
	if (store_commit(st, e) < 0)
		goto out;
	*queued = n;
	rc = 0;
out:
	for (int i = 0; i < NLANG; i++) {
		free(j.html[i]);
		template_free(j.t[i]);
	}
	return rc;
}
