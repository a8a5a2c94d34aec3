#include "buildconf.h"

/*
 * reminder — activity-report and meeting-answer reminders (reminder.h).
 *
 * One pass gathers who is due (read only), then queues each reminder in a
 * transaction of its own together with its row in reminders: the UNIQUE
 * key there decides, so another process (mercomaild and `mercomail
 * reminders run` at once) or a pass after a restart finds it done and
 * rolls back instead of sending it again.
 */

#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L	/* gmtime_r */
#endif

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sqlite3.h>

#include "auth.h"
#include "autoreply.h"
#include "ical.h"
#include "log.h"
#include "mailfmt.h"
#include "outbox.h"
#include "reminder.h"
#include "template.h"

#define DAY 86400
#define NLANG 2

static const char *const langs[NLANG] = { "es", "pt" };

enum kind { K_REPORT, K_RSVP, NKINDS };
static const char *const kind_names[NKINDS] = { "report", "rsvp" };
static const char *const tmpl_names[NKINDS] = { "reminder-report", "reminder-rsvp" };

/* What each template may name (fill_vars gives them, in this order). */
static const char *const report_vars[] = { "name", "unit", "slug", "since", "days",
	"address", "sender" };
static const char *const rsvp_vars[] = { "name", "title", "reference", "unit", "when",
	"location", "sender" };
#define NVARS 7
static const char *const *const var_names[NKINDS] = { report_vars, rsvp_vars };

/* One reminder to queue. */
struct target {
	enum kind kind;
	int64_t object;		/* unit or meeting id */
	int64_t unit_id;	/* the list it belongs to (outbox link) */
	int64_t period;
	int round;
	int64_t contact_id;
	int64_t start, end;	/* rsvp: the meeting */
	char address[256], name[192], lang[3];
	char unit[2][192];	/* the unit's name, es and pt */
	char slug[64], title[256], reference[32], tzid[64], location[256];
};

struct run {
	struct store *st;
	const struct config *cfg;
	time_t now;
	const char *domain;		/* of smtp.from */
	unsigned char *key;
	size_t keylen;
	struct template *t[NKINDS][NLANG];
	struct target *tg;
	size_t n, cap;
};

static int
li(const char *lang)
{
	return strcmp(lang, "pt") == 0 ? 1 : 0;
}

static void
col(sqlite3_stmt *s, int i, char *out, size_t size)
{
	const char *v = (const char *)sqlite3_column_text(s, i);

	snprintf(out, size, "%s", v ? v : "");
}

static struct target *
add_target(struct run *r, struct err *e)
{
	if (r->n == r->cap) {
		size_t cap = r->cap ? r->cap * 2 : 16;
		struct target *t = realloc(r->tg, cap * sizeof *t);
		if (t == NULL) {
			err_set(e, "reminder: out of memory");
			return NULL;
		}
		r->tg = t;
		r->cap = cap;
	}
	memset(&r->tg[r->n], 0, sizeof r->tg[0]);
	return &r->tg[r->n++];
}

static int
db_fail(struct run *r, sqlite3_stmt *s, struct err *e)
{
	err_set(e, "reminder: %s", sqlite3_errmsg(store_db(r->st)));
	sqlite3_finalize(s);
	return -1;
}

/* Units seen for the first time start their first window now. */
static int
note_units(struct run *r, struct err *e)
{
	sqlite3_stmt *s = NULL;
	sqlite3 *db = store_db(r->st);

	if (sqlite3_prepare_v2(db, "INSERT OR IGNORE INTO reminder_units (unit_id, first_seen)"
	    " SELECT id, ?1 FROM units WHERE kind = 'unit'", -1, &s, NULL) != SQLITE_OK)
		return db_fail(r, s, e);
	sqlite3_bind_int64(s, 1, (int64_t)r->now);
	if (sqlite3_step(s) != SQLITE_DONE)
		return db_fail(r, s, e);
	sqlite3_finalize(s);
	return 0;
}

/*
 * Report reminders due: per unit its window (the last informe, else when
 * first seen), per coordinator and subcoordinator contact still on the
 * unit's list the round due: 1 once the window is report_period_days old,
 * 2 repeat days after round 1 of the same window.
 */
static const char report_sql[] =
	"WITH w AS (SELECT u.id, u.slug, u.name_es, u.name_pt,"
	"  coalesce((SELECT max(created_at) FROM submissions s"
	"   WHERE s.kind = 'informe' AND s.unit_id = u.id), ru.first_seen) AS period"
	"  FROM units u JOIN reminder_units ru ON ru.unit_id = u.id WHERE u.kind = 'unit')"
	" SELECT w.id, w.slug, w.name_es, w.name_pt, w.period, k.id, k.address,"
	"  coalesce(k.name, ''), k.lang,"
	"  (SELECT max(round) FROM reminders r WHERE r.kind = 'report' AND r.object = w.id"
	"   AND r.recipient = k.address AND r.period = w.period),"
	"  (SELECT sent_at FROM reminders r WHERE r.kind = 'report' AND r.object = w.id"
	"   AND r.recipient = k.address AND r.period = w.period AND r.round = 1)"
	" FROM w JOIN unit_members um ON um.unit_id = w.id"
	"  AND um.role IN ('coordinator', 'subcoordinator')"
	" JOIN contacts k ON k.city_id = um.city_id"
	" WHERE w.period + ?2 * 86400 <= ?1"
	"  AND NOT EXISTS (SELECT 1 FROM list_subscriptions ls WHERE ls.unit_id = w.id"
	"   AND ls.address = k.address AND ls.unsubscribed = 1)"
	" ORDER BY w.slug, k.address";

static int
gather_reports(struct run *r, struct err *e)
{
	const struct config_governance *g = &r->cfg->governance;
	sqlite3_stmt *s = NULL;
	int rc;

	if (sqlite3_prepare_v2(store_db(r->st), report_sql, -1, &s, NULL) != SQLITE_OK)
		return db_fail(r, s, e);
	sqlite3_bind_int64(s, 1, (int64_t)r->now);
	sqlite3_bind_int64(s, 2, g->report_period_days);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		int done = sqlite3_column_type(s, 9) == SQLITE_NULL ? 0 : sqlite3_column_int(s, 9);
		int64_t first = sqlite3_column_int64(s, 10);
		struct target *t;

		if (done >= 2 || (done == 1 &&
		    first + (int64_t)g->reminder_repeat_days * DAY > (int64_t)r->now))
			continue;
		if ((t = add_target(r, e)) == NULL)
			break;
		t->kind = K_REPORT;
		t->object = t->unit_id = sqlite3_column_int64(s, 0);
		col(s, 1, t->slug, sizeof t->slug);
		col(s, 2, t->unit[0], sizeof t->unit[0]);
		col(s, 3, t->unit[1], sizeof t->unit[1]);
		t->period = sqlite3_column_int64(s, 4);
		t->contact_id = sqlite3_column_int64(s, 5);
		col(s, 6, t->address, sizeof t->address);
		col(s, 7, t->name, sizeof t->name);
		col(s, 8, t->lang, sizeof t->lang);
		t->round = done + 1;
	}
	sqlite3_finalize(s);
	return rc == SQLITE_DONE ? 0 : rc == SQLITE_ROW ? -1 :
	    err_set(e, "reminder: %s", sqlite3_errmsg(store_db(r->st)));
}

/* Invitees of confirmed meetings starting within REMINDER_RSVP_DAYS that
 * have not answered, were not reminded for this start, are still on the
 * unit's list, and did not ask for the meeting themselves. */
static const char rsvp_sql[] =
	"SELECT m.id, m.unit_id, m.reference, m.title, m.start_at, m.end_at, m.tzid,"
	"  coalesce(m.location, m.url, ''), u.name_es, u.name_pt, u.slug, a.address,"
	"  coalesce(a.name, ''), a.lang, coalesce(a.contact_id, 0)"
	" FROM meetings m JOIN units u ON u.id = m.unit_id"
	" JOIN meeting_attendees a ON a.meeting_id = m.id"
	" WHERE m.status = 'confirmed' AND a.partstat = 'NEEDS-ACTION'"
	"  AND m.start_at > ?1 AND m.start_at <= ?1 + ?2 * 86400"
	"  AND m.created_at <= ?1 - 86400"
	"  AND (m.organizer_id IS NULL OR a.contact_id IS NOT m.organizer_id)"
	"  AND NOT EXISTS (SELECT 1 FROM reminders r WHERE r.kind = 'rsvp'"
	"   AND r.object = m.id AND r.recipient = a.address AND r.period = m.start_at)"
	"  AND NOT EXISTS (SELECT 1 FROM list_subscriptions ls WHERE ls.unit_id = m.unit_id"
	"   AND ls.address = a.address AND ls.unsubscribed = 1)"
	" ORDER BY m.start_at, m.id, a.address";

static int
gather_rsvps(struct run *r, struct err *e)
{
	sqlite3_stmt *s = NULL;
	int rc;

	if (sqlite3_prepare_v2(store_db(r->st), rsvp_sql, -1, &s, NULL) != SQLITE_OK)
		return db_fail(r, s, e);
	sqlite3_bind_int64(s, 1, (int64_t)r->now);
	sqlite3_bind_int64(s, 2, REMINDER_RSVP_DAYS);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		struct target *t;

		if ((t = add_target(r, e)) == NULL)
			break;
		t->kind = K_RSVP;
		t->object = sqlite3_column_int64(s, 0);
		t->unit_id = sqlite3_column_int64(s, 1);
		col(s, 2, t->reference, sizeof t->reference);
		col(s, 3, t->title, sizeof t->title);
		t->start = t->period = sqlite3_column_int64(s, 4);
		t->end = sqlite3_column_int64(s, 5);
		col(s, 6, t->tzid, sizeof t->tzid);
		col(s, 7, t->location, sizeof t->location);
		col(s, 8, t->unit[0], sizeof t->unit[0]);
		col(s, 9, t->unit[1], sizeof t->unit[1]);
		col(s, 10, t->slug, sizeof t->slug);
		col(s, 11, t->address, sizeof t->address);
		col(s, 12, t->name, sizeof t->name);
		col(s, 13, t->lang, sizeof t->lang);
		t->contact_id = sqlite3_column_int64(s, 14);
		t->round = 1;
	}
	sqlite3_finalize(s);
	return rc == SQLITE_DONE ? 0 : rc == SQLITE_ROW ? -1 :
	    err_set(e, "reminder: %s", sqlite3_errmsg(store_db(r->st)));
}

/* The reply address signed exactly as the invite's (invite.c). */
static int
rsvp_address(struct run *r, const struct target *t, char *out, size_t size, struct err *e)
{
	const char *from = r->cfg->smtp.from, *at = strrchr(from, '@');
	struct auth_claim c = { .object = t->object, .contact = t->contact_id,
	    .expires = (time_t)t->end + (time_t)r->cfg->mail.token_days * DAY };
	char token[AUTH_TOKEN_MAX];

	strcpy(c.purpose, "rsvp");
	if (auth_token_make(r->key, r->keylen, &c, token, e) < 0)
		return -1;
	if (snprintf(out, size, "%.*s+%s%s", (int)(at - from), from, token, at) >= (int)size)
		return err_set(e, "reminder: reply address too long");
	return 0;
}

/* The subject and wrapped body of t (caller frees both). */
static int
render(struct run *r, const struct target *t, char **subject, char **text, struct err *e)
{
	const char *sender = r->cfg->mail.name ? r->cfg->mail.name : r->cfg->smtp.from;
	const struct template *tp = r->t[t->kind][li(t->lang)];
	char since[32], days[16], when[128];
	const char *unit = t->unit[li(t->lang)];
	struct tvar v[NVARS];
	char *body;

	if (t->kind == K_REPORT) {
		time_t p = (time_t)t->period;
		struct tm tm;
		strftime(since, sizeof since, "%Y-%m-%d", gmtime_r(&p, &tm));
		snprintf(days, sizeof days, "%d", r->cfg->governance.report_period_days);
		const char *val[NVARS] = { t->name[0] ? t->name : NULL, unit, t->slug, since, days,
		    r->cfg->smtp.from, sender };
		for (int i = 0; i < NVARS; i++)
			v[i] = (struct tvar){ report_vars[i], val[i] };
	} else {
		char date[32];
		if (ical_format_local((time_t)t->start, t->tzid, date, sizeof date) < 0)
			return err_set(e, "reminder: cannot show times in zone %s", t->tzid);
		snprintf(when, sizeof when, "%s (%s)", date, t->tzid);
		const char *val[NVARS] = { t->name[0] ? t->name : NULL, t->title, t->reference,
		    unit, when, t->location[0] ? t->location : NULL, sender };
		for (int i = 0; i < NVARS; i++)
			v[i] = (struct tvar){ rsvp_vars[i], val[i] };
	}
	if ((*subject = template_render_string(tp->subject, v, NVARS, TEMPLATE_TEXT, e)) == NULL)
		return -1;
	if ((body = template_render_string(tp->body, v, NVARS, TEMPLATE_TEXT, e)) == NULL)
		return -1;
	*text = mailfmt_wrap(body, 78);
	free(body);
	return *text ? 0 : err_set(e, "reminder: out of memory");
}

/* The mail for t (caller frees), or NULL. */
static char *
compose(struct run *r, const struct target *t, char **msgid, size_t *len, struct err *e)
{
	const struct config *cfg = r->cfg;
	char *subject = NULL, *text = NULL, *out = NULL, rt[512];
	struct mailfmt *mf = mailfmt_new();

	if (mf == NULL) {
		err_set(e, "reminder: out of memory");
		return NULL;
	}
	if (render(r, t, &subject, &text, e) < 0)
		goto done;
	if (mailfmt_address(mf, "From", cfg->mail.name, cfg->smtp.from) < 0 ||
	    mailfmt_address(mf, "To", t->name[0] ? t->name : NULL, t->address) < 0 ||
	    mailfmt_header(mf, "Subject", subject) < 0 ||
	    mailfmt_header(mf, "Auto-Submitted", "auto-generated") < 0 ||
	    mailfmt_header(mf, AUTOREPLY_LOOP_HEADER, cfg->smtp.from) < 0) {
		err_set(e, "reminder: cannot write the headers for %.80s", t->address);
		goto done;
	}
	if (t->kind == K_RSVP && r->key != NULL &&
	    (rsvp_address(r, t, rt, sizeof rt, e) < 0 ||
	    mailfmt_address(mf, "Reply-To", cfg->mail.name, rt) < 0)) {
		err_set(e, "reminder: cannot sign the reply address for %.80s", t->address);
		goto done;
	}
	if (mailfmt_text(mf, text) < 0) {
		err_set(e, "reminder: cannot add the text");
		goto done;
	}
	out = mailfmt_build(mf, r->domain, r->now, msgid, len, e);
done:
	mailfmt_free(mf);
	free(subject);
	free(text);
	return out;
}

/* Record t with its outbox row; 1 recorded, 0 done already, -1 error. */
static int
record(struct run *r, const struct target *t, int64_t outbox_id, struct err *e)
{
	sqlite3_stmt *s = NULL;
	sqlite3 *db = store_db(r->st);

	if (sqlite3_prepare_v2(db, "INSERT OR IGNORE INTO reminders (kind, object, recipient,"
	    " period, round, sent_at, outbox_id) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)", -1, &s,
	    NULL) != SQLITE_OK)
		return db_fail(r, s, e);
	sqlite3_bind_text(s, 1, kind_names[t->kind], -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, t->object);
	sqlite3_bind_text(s, 3, t->address, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 4, t->period);
	sqlite3_bind_int(s, 5, t->round);
	sqlite3_bind_int64(s, 6, (int64_t)r->now);
	sqlite3_bind_int64(s, 7, outbox_id);
	if (sqlite3_step(s) != SQLITE_DONE)
		return db_fail(r, s, e);
	sqlite3_finalize(s);
	return sqlite3_changes(db) > 0;
}

/* Queue and record one reminder in one transaction; 1 queued, 0 done by
 * someone else already, -1 error (rolled back). */
static int
queue_one(struct run *r, const struct target *t, struct err *e)
{
	char *msgid = NULL, *data;
	struct outbox_item it = { .purpose = t->kind == K_REPORT ? "reminder-report" :
	    "reminder-rsvp", .mail_from = r->cfg->smtp.from, .rcpt = t->address,
	    .unit_id = t->unit_id };
	int64_t id;
	int rc = -1;

	if ((data = compose(r, t, &msgid, &it.len, e)) == NULL)
		return -1;
	it.msgid = msgid;
	it.data = data;
	if (store_begin(r->st, e) < 0)
		goto out;
	/* due at once by the wall clock, whatever now was injected (clock.h) */
	if ((id = outbox_enqueue(r->st, &it, time(NULL), e)) < 0 ||
	    (rc = record(r, t, id, e)) <= 0) {
		store_rollback(r->st);
		goto out;
	}
	if (store_commit(r->st, e) < 0) {
		rc = -1;
		goto out;
	}
	log_info("event=reminder kind=%s object=%lld round=%d rcpt=%s", kind_names[t->kind],
	    (long long)t->object, t->round, t->address);
out:
	free(msgid);
	free(data);
	return rc;
}

static int
load_templates(struct run *r, struct err *e)
{
	for (int k = 0; k < NKINDS; k++)
		for (int l = 0; l < NLANG; l++)
			if ((r->t[k][l] = template_load(r->cfg->mail.templates, langs[l],
			    tmpl_names[k], "txt", e)) == NULL)
				return -1;
	return 0;
}

static int
load_key(struct run *r, struct err *e)
{
	char *k;

	if (r->cfg->mail.token_key_file == NULL)
		return 0;	/* then no signed reply address, like the invites */
	if ((k = config_read_secret(r->cfg->mail.token_key_file, e)) == NULL)
		return err_wrap(e, "mail.token_key_file");
	r->key = (unsigned char *)k;
	r->keylen = strlen(k);
	return 0;
}

static void
run_free(struct run *r)
{
	for (int k = 0; k < NKINDS; k++)
		for (int l = 0; l < NLANG; l++)
			template_free(r->t[k][l]);
	if (r->key) {
		memset(r->key, 0, r->keylen);
		free(r->key);
	}
	free(r->tg);
}

int
reminder_run(struct store *st, const struct config *cfg, time_t now, unsigned *queued,
    struct err *e)
{
	struct run r = { .st = st, .cfg = cfg, .now = now };
	int rc = -1;

	*queued = 0;
	if (cfg->smtp.from == NULL || strchr(cfg->smtp.from, '@') == NULL)
		return 0;
	r.domain = strchr(cfg->smtp.from, '@') + 1;
	if (note_units(&r, e) < 0 || gather_reports(&r, e) < 0 || gather_rsvps(&r, e) < 0)
		goto out;
	if (r.n > 0 && (load_templates(&r, e) < 0 || load_key(&r, e) < 0))
		goto out;
	for (size_t i = 0; i < r.n; i++) {
		int q = queue_one(&r, &r.tg[i], e);
		if (q < 0)
			goto out;
		*queued += (unsigned)q;
	}
	rc = 0;
out:
	run_free(&r);
	return rc;
}

/* ---- mercomaild -n ---- */

int
reminder_check_templates(const char *dir, FILE *diag)
{
	int problems = 0;

	for (int k = 0; k < NKINDS; k++)
		for (int l = 0; l < NLANG; l++) {
			struct tvar v[NVARS];
			struct err e;
			struct template *t = template_load(dir, langs[l], tmpl_names[k], "txt", &e);
			char *s = NULL, *b = NULL;

			for (int i = 0; i < NVARS; i++)
				v[i] = (struct tvar){ var_names[k][i], "x" };
			if (t == NULL || template_check(t, var_names[k], NVARS, &e) < 0 ||
			    (s = template_render_string(t->subject, v, NVARS, TEMPLATE_TEXT,
			    &e)) == NULL ||
			    (b = template_render_string(t->body, v, NVARS, TEMPLATE_TEXT,
			    &e)) == NULL) {
				fprintf(diag, "%s\n", e.msg);
				problems++;
			}
			free(s);
			free(b);
			template_free(t);
		}
	return problems;
}
