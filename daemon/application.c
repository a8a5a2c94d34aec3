#include "buildconf.h"

/*
 * application — membership applications: open, vote, decide, expire
 * (application.h). The SQL is bound throughout; the fields of the form are
 * strings from a mail and only ever reach templates (text escaping) and
 * bound parameters.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "application.h"
#include "auth.h"
#include "autoreply.h"
#include "feed.h"
#include "log.h"
#include "form.h"
#include "mailfmt.h"
#include "outbox.h"
#include "template.h"
#include "text.h"

#define DAY 86400
#define TOKEN_GRACE_DAYS 30	/* a late vote hears "decided", not "address expired" */

/* The texts and the values each gets (mercomaild -n checks them). */
static const struct {
	const char *name;
	const char *vars[8];
} texts[] = {
	{ "application-ballot", { "city", "country", "reference", "fields", "deadline",
	    "approve_address", "reject_address" } },
	{ "application-welcome", { "city", "forms", "lists", "feed_url", "network_address" } },
	{ "application-approved", { "city", "country", "reference", "tally" } },
	{ "application-declined", { "city", "reference", "expired" } },
	{ "vote-recorded", { "name", "city", "reference", "vote", "tally", "subject" } },
	{ "vote-refused", { "name", "subject", "reason" } },
	{ "vote-unclear", { "name", "city", "reference", "subject" } },
};
#define NTEXTS (sizeof texts / sizeof texts[0])

/* The countries of the form, their names and a default time zone. */
static const struct {
	const char code[3];
	const char *es, *pt, *zone;
} countries[] = {
	{ "AR", "Argentina", "Argentina", "America/Argentina/Buenos_Aires" },
	{ "BR", "Brasil", "Brasil", "America/Sao_Paulo" },
	{ "UY", "Uruguay", "Uruguai", "America/Montevideo" },
	{ "PY", "Paraguay", "Paraguai", "America/Asuncion" },
	{ "CL", "Chile", "Chile", "America/Santiago" },
	{ "BO", "Bolivia", "Bolívia", "America/La_Paz" },
	{ "VE", "Venezuela", "Venezuela", "America/Caracas" },
	{ "EC", "Ecuador", "Equador", "America/Guayaquil" },
	{ "PE", "Perú", "Peru", "America/Lima" },
	{ "CO", "Colombia", "Colômbia", "America/Bogota" },
};
#define NCOUNTRIES (sizeof countries / sizeof countries[0])

static size_t
country_index(const char *code)
{
	for (size_t i = 0; i < NCOUNTRIES; i++)
		if (strcasecmp(countries[i].code, code) == 0)
			return i;
	return NCOUNTRIES;
}

static const char *
country_name(const char *code, const char *lang)
{
	size_t i = country_index(code);

	if (i == NCOUNTRIES)
		return code;
	return strcmp(lang, "pt") == 0 ? countries[i].pt : countries[i].es;
}

/* The contacts of the member cities of a body: the electorate. */
#define MEMBERS_CTE \
	"WITH m AS (SELECT DISTINCT k.id AS id FROM units u" \
	" JOIN unit_members um ON um.unit_id = u.id JOIN contacts k ON k.city_id = um.city_id" \
	" WHERE u.slug = ?1) "

const char *
application_body(const struct config *cfg)
{
	return cfg->governance.decision == GOV_MAJORITY_OF_COUNCIL ? "consejo" :
	    "comision-directiva";
}

static int
db_fail(const struct application_env *env, sqlite3_stmt *s, struct err *e)
{
	err_set(e, "applications: %s", sqlite3_errmsg(store_db(env->st)));
	sqlite3_finalize(s);
	return -1;
}

static int
prepare(const struct application_env *env, const char *sql, sqlite3_stmt **s, struct err *e)
{
	if (sqlite3_prepare_v2(store_db(env->st), sql, -1, s, NULL) != SQLITE_OK)
		return db_fail(env, NULL, e);
	return 0;
}

static const char *
col(sqlite3_stmt *s, int i)
{
	const char *v = (const char *)sqlite3_column_text(s, i);
	return v ? v : "";
}

/* ------------------------------------------------------------ mail */

struct outmail {
	const char *purpose, *to, *to_name, *lang, *tmpl, *reply_to;
	const struct tvar *v;
	size_t n;
	int64_t unit_id;
};

/* Render and queue one mail. 0 (also when there is no smtp.from: nothing to
 * send as, and when the text cannot be written: logged, as ingest does with
 * answers, so that a broken template does not hold the inbox), -1 on a
 * store error. */
static int
queue(const struct application_env *env, const struct outmail *o, time_t now, struct err *e)
{
	const struct config *cfg = env->cfg;
	const char *from = cfg->smtp.from, *at = from ? strchr(from, '@') : NULL;
	struct mailfmt *mf = NULL;
	char *subject = NULL, *body = NULL, *wrapped = NULL, *data = NULL, *msgid = NULL;
	struct template *t = NULL;
	struct err te;
	size_t len = 0;
	int rc = -1;

	if (at == NULL)
		return 0;
	if ((t = template_load(cfg->mail.templates, o->lang, o->tmpl, "txt", &te)) == NULL ||
	    (subject = template_render_string(t->subject, o->v, o->n, TEMPLATE_TEXT, &te)) == NULL ||
	    (body = template_render_string(t->body, o->v, o->n, TEMPLATE_TEXT, &te)) == NULL) {
		log_error("event=application.mail status=failed template=%s reason=\"%s\"", o->tmpl,
		    te.msg);
		rc = 0;
		goto done;
	}
	if ((wrapped = mailfmt_wrap(body, 78)) == NULL || (mf = mailfmt_new()) == NULL ||
	    mailfmt_address(mf, "From", cfg->mail.name, from) < 0 ||
	    mailfmt_address(mf, "To", o->to_name && o->to_name[0] ? o->to_name : NULL, o->to) < 0 ||
	    mailfmt_header(mf, "Subject", subject) < 0 ||
	    mailfmt_header(mf, "Auto-Submitted", "auto-generated") < 0 ||
	    mailfmt_header(mf, AUTOREPLY_LOOP_HEADER, from) < 0 ||
	    (o->reply_to && mailfmt_address(mf, "Reply-To", cfg->mail.name, o->reply_to) < 0) ||
	    mailfmt_text(mf, wrapped) < 0) {
		log_error("event=application.mail status=failed template=%s reason=\"cannot"
		    " write the mail\"", o->tmpl);
		rc = 0;
		goto done;
	}
	if ((data = mailfmt_build(mf, at + 1, now, &msgid, &len, e)) == NULL)
		goto done;
	struct outbox_item it = { .purpose = o->purpose, .mail_from = from, .rcpt = o->to,
	    .msgid = msgid, .data = data, .len = len, .unit_id = o->unit_id };
	/* due at once by the wall clock, whatever now was injected (clock.h) */
	rc = outbox_enqueue(env->st, &it, time(NULL), e) < 0 ? -1 : 0;
done:
	template_free(t);
	mailfmt_free(mf);
	free(subject);
	free(body);
	free(wrapped);
	free(data);
	free(msgid);
	return rc;
}

/* A signed address local+TOKEN@domain of smtp.from for purpose. */
static int
signed_address(const struct application_env *env, const char *purpose, int64_t id,
    int64_t contact, time_t expires, char *out, size_t size, struct err *e)
{
	const char *from = env->cfg->smtp.from, *at = from ? strchr(from, '@') : NULL;
	struct auth_claim c = { .object = id, .contact = contact, .expires = expires };
	char token[AUTH_TOKEN_MAX];

	out[0] = '\0';
	if (env->key == NULL || at == NULL)
		return 0;
	str_copy(c.purpose, purpose, sizeof c.purpose);
	if (auth_token_make(env->key, env->keylen, &c, token, e) < 0)
		return -1;
	snprintf(out, size, "%.*s+%s@%s", (int)(at - from), from, token, at + 1);
	return 0;
}

/* ------------------------------------------------------------ the application */

struct app {
	int64_t id;
	char state[16], city[128], country[8], contact[256], head[128], head_title[128];
	char lang[3], body[64], reference[32];
	int64_t msg_id;
	time_t deadline;
};

/* 1 found, 0 not, -1 error. */
static int
app_load(const struct application_env *env, int64_t id, struct app *a, struct err *e)
{
	sqlite3_stmt *s;
	int rc;

	if (prepare(env, "SELECT a.state, a.city, a.country, a.contact, coalesce(a.head, ''),"
	    " coalesce(a.head_title, ''), a.lang, a.body, coalesce(s.reference, ''), s.message_id,"
	    " a.deadline FROM applications a JOIN submissions s ON s.id = a.submission_id"
	    " WHERE a.id = ?1", &s, e) < 0)
		return -1;
	sqlite3_bind_int64(s, 1, id);
	if ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		a->id = id;
		str_copy(a->state, col(s, 0), sizeof a->state);
		str_copy(a->city, col(s, 1), sizeof a->city);
		str_copy(a->country, col(s, 2), sizeof a->country);
		str_copy(a->contact, col(s, 3), sizeof a->contact);
		str_copy(a->head, col(s, 4), sizeof a->head);
		str_copy(a->head_title, col(s, 5), sizeof a->head_title);
		str_copy(a->lang, col(s, 6), sizeof a->lang);
		str_copy(a->body, col(s, 7), sizeof a->body);
		str_copy(a->reference, col(s, 8), sizeof a->reference);
		a->msg_id = sqlite3_column_int64(s, 9);
		a->deadline = (time_t)sqlite3_column_int64(s, 10);
	} else if (rc != SQLITE_DONE)
		return db_fail(env, s, e);
	sqlite3_finalize(s);
	return rc == SQLITE_ROW;
}

static int
audit(const struct application_env *env, time_t now, const char *action, int64_t id,
    const char *detail, struct err *e)
{
	char object[48];

	snprintf(object, sizeof object, "application:%lld", (long long)id);
	return store_audit(env->st, now, env->actor ? env->actor : "daemon", action, object,
	    detail, e);
}

/* "Label: value" lines of the form as recorded from msg_id, in lang. */
static char *
field_lines(const struct application_env *env, const struct form_def *fd, int64_t msg_id,
    const char *lang, struct err *e)
{
	struct textbuf b = { 0 };
	sqlite3_stmt *s;
	int rc;

	if (prepare(env, "SELECT field, value FROM message_fields WHERE message_id = ?1"
	    " ORDER BY line, field", &s, e) < 0)
		return NULL;
	sqlite3_bind_int64(s, 1, msg_id);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		const char *f = col(s, 0);
		textbuf_adds(&b, fd ? form_field_label(fd, f, lang) : f);
		textbuf_adds(&b, ": ");
		textbuf_adds(&b, col(s, 1));
		textbuf_addc(&b, '\n');
	}
	if (rc != SQLITE_DONE) {
		textbuf_free(&b);
		db_fail(env, s, e);
		return NULL;
	}
	sqlite3_finalize(s);
	if (b.p == NULL && textbuf_adds(&b, "") < 0) {
		err_set(e, "out of memory");
		return NULL;
	}
	return textbuf_take(&b);
}

/* The value of field in the fields recorded from msg_id, into out ("" if none). */
static int
field_value(const struct application_env *env, int64_t msg_id, const char *field, char *out,
    size_t size, struct err *e)
{
	sqlite3_stmt *s;
	int rc;

	out[0] = '\0';
	if (prepare(env, "SELECT value FROM message_fields WHERE message_id = ?1 AND field = ?2",
	    &s, e) < 0)
		return -1;
	sqlite3_bind_int64(s, 1, msg_id);
	sqlite3_bind_text(s, 2, field, -1, SQLITE_STATIC);
	if ((rc = sqlite3_step(s)) == SQLITE_ROW)
		str_copy(out, col(s, 0), size);
	else if (rc != SQLITE_DONE)
		return db_fail(env, s, e);
	sqlite3_finalize(s);
	return 0;
}

/* Call fn for each member contact of the body (id, address, name, lang, unit). */
typedef int member_fn(const struct application_env *env, const struct app *a, int64_t contact,
    const char *address, const char *name, const char *lang, int64_t unit_id, void *arg,
    time_t now, struct err *e);

static int
each_member(const struct application_env *env, const struct app *a, member_fn *fn, void *arg,
    time_t now, struct err *e)
{
	sqlite3_stmt *s;
	int rc;

	if (prepare(env, "SELECT DISTINCT k.id, k.address, coalesce(k.name, ''), k.lang, u.id"
	    " FROM units u JOIN unit_members um ON um.unit_id = u.id"
	    " JOIN contacts k ON k.city_id = um.city_id WHERE u.slug = ?1 ORDER BY k.address",
	    &s, e) < 0)
		return -1;
	sqlite3_bind_text(s, 1, a->body, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW)
		if (fn(env, a, sqlite3_column_int64(s, 0), col(s, 1), col(s, 2), col(s, 3),
		    sqlite3_column_int64(s, 4), arg, now, e) < 0) {
			sqlite3_finalize(s);
			return -1;
		}
	if (rc != SQLITE_DONE)
		return db_fail(env, s, e);
	sqlite3_finalize(s);
	return 0;
}

/* ------------------------------------------------------------ opening */

struct ballot_ctx {
	const struct form_def *fd;
};

static int
send_ballot(const struct application_env *env, const struct app *a, int64_t contact,
    const char *address, const char *name, const char *lang, int64_t unit_id, void *arg,
    time_t now, struct err *e)
{
	struct ballot_ctx *bc = arg;
	time_t exp = a->deadline + (time_t)TOKEN_GRACE_DAYS * DAY;
	char yes[512], no[512], any[512], deadline[32];
	char *fields;
	struct tm tm;
	int rc;

	if (signed_address(env, "approve", a->id, contact, exp, yes, sizeof yes, e) < 0 ||
	    signed_address(env, "reject", a->id, contact, exp, no, sizeof no, e) < 0 ||
	    signed_address(env, "vote", a->id, contact, exp, any, sizeof any, e) < 0)
		return -1;
	if ((fields = field_lines(env, bc->fd, a->msg_id, lang, e)) == NULL)
		return -1;
	strftime(deadline, sizeof deadline, "%Y-%m-%d", gmtime_r(&a->deadline, &tm));
	struct tvar v[] = { { "city", a->city }, { "country", country_name(a->country, lang) },
	    { "reference", a->reference }, { "fields", fields }, { "deadline", deadline },
	    { "approve_address", yes[0] ? yes : NULL }, { "reject_address", no[0] ? no : NULL } };
	struct outmail o = { "ballot", address, name, lang, "application-ballot",
	    any[0] ? any : NULL, v, sizeof v / sizeof v[0], unit_id };
	rc = queue(env, &o, now, e);
	free(fields);
	return rc;
}

int64_t
application_open(const struct application_env *env, int64_t msg_id, time_t now, struct err *e)
{
	struct app a = { 0 };
	struct ballot_ctx bc = { NULL };
	struct form_set *fs;
	sqlite3_stmt *s;
	char detail[600], norm[256];
	int64_t sub;
	int rc;

	if (prepare(env, "SELECT id FROM submissions WHERE message_id = ?1", &s, e) < 0)
		return -1;
	sqlite3_bind_int64(s, 1, msg_id);
	if ((rc = sqlite3_step(s)) != SQLITE_ROW) {
		if (rc == SQLITE_DONE)
			err_set(e, "applications: no submission from message %lld", (long long)msg_id);
		else
			db_fail(env, NULL, e);
		sqlite3_finalize(s);
		return -1;
	}
	sub = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	if (field_value(env, msg_id, "city", a.city, sizeof a.city, e) < 0 ||
	    field_value(env, msg_id, "country", a.country, sizeof a.country, e) < 0 ||
	    field_value(env, msg_id, "contact_email", a.contact, sizeof a.contact, e) < 0 ||
	    field_value(env, msg_id, "head_of_government", a.head, sizeof a.head, e) < 0 ||
	    field_value(env, msg_id, "head_title", a.head_title, sizeof a.head_title, e) < 0)
		return -1;
	for (char *p = a.country; *p; p++)
		*p = (char)(*p >= 'a' && *p <= 'z' ? *p - 32 : *p);
	/* the form checked it is an address; normalised as the roster keeps them */
	if (auth_normalize_address(a.contact, norm, sizeof norm) == 0)
		str_copy(a.contact, norm, sizeof a.contact);
	/* the city's language: the one the form names, else pt for Brazil, es otherwise */
	if (field_value(env, msg_id, "language", a.lang, sizeof a.lang, e) < 0)
		return -1;
	if (strcmp(a.lang, "es") != 0 && strcmp(a.lang, "pt") != 0)
		str_copy(a.lang, strcmp(a.country, "BR") == 0 ? "pt" : "es", sizeof a.lang);
	str_copy(a.body, application_body(env->cfg), sizeof a.body);
	a.deadline = now + (time_t)env->cfg->governance.vote_days * DAY;
	if (prepare(env, "INSERT INTO applications (submission_id, city, country, contact, head,"
	    " head_title, lang, body, created_at, deadline) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8,"
	    " ?9, ?10)", &s, e) < 0)
		return -1;
	sqlite3_bind_int64(s, 1, sub);
	sqlite3_bind_text(s, 2, a.city, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 3, a.country, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 4, a.contact, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 5, a.head, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 6, a.head_title, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 7, a.lang, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 8, a.body, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 9, (int64_t)now);
	sqlite3_bind_int64(s, 10, (int64_t)a.deadline);
	if (sqlite3_step(s) != SQLITE_DONE)
		return db_fail(env, s, e);
	sqlite3_finalize(s);
	a.id = sqlite3_last_insert_rowid(store_db(env->st));
	if (app_load(env, a.id, &a, e) <= 0)
		return -1;
	snprintf(detail, sizeof detail, "%s (%s), contact %s, decided by %s", a.city, a.country,
	    a.contact, a.body);
	if (audit(env, now, "application.open", a.id, detail, e) < 0)
		return -1;
	if ((fs = form_set_load(env->cfg->mail.templates, NULL, e)) == NULL)
		return -1;
	bc.fd = form_set_find(fs, "adhesion");
	rc = each_member(env, &a, send_ballot, &bc, now, e);
	form_set_free(fs);
	return rc < 0 ? -1 : a.id;
}

/* ------------------------------------------------------------ votes */

struct tally {
	int members, yes, no;
};

static int
count_votes(const struct application_env *env, const struct app *a, struct tally *t,
    struct err *e)
{
	sqlite3_stmt *s;

	if (prepare(env, MEMBERS_CTE "SELECT (SELECT count(*) FROM m),"
	    " (SELECT count(*) FROM votes WHERE application_id = ?2 AND vote = 'approve'"
	    "  AND contact_id IN (SELECT id FROM m)),"
	    " (SELECT count(*) FROM votes WHERE application_id = ?2 AND vote = 'reject'"
	    "  AND contact_id IN (SELECT id FROM m))", &s, e) < 0)
		return -1;
	sqlite3_bind_text(s, 1, a->body, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, a->id);
	if (sqlite3_step(s) != SQLITE_ROW)
		return db_fail(env, s, e);
	t->members = sqlite3_column_int(s, 0);
	t->yes = sqlite3_column_int(s, 1);
	t->no = sqlite3_column_int(s, 2);
	sqlite3_finalize(s);
	return 0;
}

static void
tally_text(const struct tally *t, const char *lang, char *out, size_t size)
{
	if (strcmp(lang, "pt") == 0)
		snprintf(out, size, "%d a favor, %d contra, de %d membros", t->yes, t->no, t->members);
	else
		snprintf(out, size, "%d a favor, %d en contra, de %d miembros", t->yes, t->no,
		    t->members);
}

/* 1 if contact is a member contact of the body, 0 if not, -1 error. */
static int
is_member(const struct application_env *env, const struct app *a, int64_t contact,
    struct err *e)
{
	sqlite3_stmt *s;
	int rc;

	if (prepare(env, MEMBERS_CTE "SELECT 1 FROM m WHERE id = ?2", &s, e) < 0)
		return -1;
	sqlite3_bind_text(s, 1, a->body, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, contact);
	rc = sqlite3_step(s);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return db_fail(env, s, e);
	sqlite3_finalize(s);
	return rc == SQLITE_ROW;
}

int
application_vote(const struct application_env *env, int64_t id, int64_t contact_id,
    const char *vote, int64_t msg_id, time_t now, char state[16], struct err *e)
{
	struct app a;
	struct tally t;
	sqlite3_stmt *s;
	char detail[200];
	int r;

	if ((r = app_load(env, id, &a, e)) <= 0)
		return r < 0 ? -1 : APPLICATION_VOTE_UNKNOWN;
	if (state)
		str_copy(state, a.state, 16);
	snprintf(detail, sizeof detail, "%s by contact %lld (message %lld)", vote,
	    (long long)contact_id, (long long)msg_id);
	if (strcmp(a.state, "pending") != 0) {
		str_copy(detail + strlen(detail), ": decided already", sizeof detail - strlen(detail));
		return audit(env, now, "application.vote.refused", id, detail, e) < 0 ? -1 :
		    APPLICATION_VOTE_DECIDED;
	}
	if ((r = is_member(env, &a, contact_id, e)) <= 0) {
		str_copy(detail + strlen(detail), ": not a member", sizeof detail - strlen(detail));
		return r < 0 || audit(env, now, "application.vote.refused", id, detail, e) < 0 ?
		    -1 : APPLICATION_VOTE_NOT_MEMBER;
	}
	if (prepare(env, "INSERT INTO votes (application_id, contact_id, vote, at, message_id)"
	    " VALUES (?1, ?2, ?3, ?4, nullif(?5, 0)) ON CONFLICT (application_id, contact_id)"
	    " DO UPDATE SET vote = excluded.vote, at = excluded.at,"
	    " message_id = excluded.message_id", &s, e) < 0)
		return -1;
	sqlite3_bind_int64(s, 1, id);
	sqlite3_bind_int64(s, 2, contact_id);
	sqlite3_bind_text(s, 3, vote, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 4, (int64_t)now);
	sqlite3_bind_int64(s, 5, msg_id);
	if (sqlite3_step(s) != SQLITE_DONE)
		return db_fail(env, s, e);
	sqlite3_finalize(s);
	if (audit(env, now, "application.vote", id, detail, e) < 0 || count_votes(env, &a, &t, e) < 0)
		return -1;
	/* a majority approves; or so many reject that no majority can approve */
	if (t.members > 0 && 2 * t.yes > t.members)
		r = application_decide(env, id, "approved", "votes", now, e);
	else if (t.members > 0 && t.members - t.no < t.members / 2 + 1)
		r = application_decide(env, id, "rejected", "votes", now, e);
	else
		r = 0;
	if (r < 0)
		return -1;
	if (state && r > 0 && app_load(env, id, &a, e) > 0)
		str_copy(state, a.state, 16);
	return APPLICATION_VOTE_COUNTED;
}

const char *
application_vote_words(const char *text)
{
	static const char *const yes[] = { "apruebo", "aprovo", "approve", "aprobado", "aprovado" };
	static const char *const no[] = { "rechazo", "rejeito", "reject", "rechazado", "rejeitado" };
	/* a denied word is no vote either way: "no apruebo" is not "apruebo" */
	static const char *const denied[] = { "no apruebo", "nao aprovo", "not approve",
		"don't approve", "no rechazo", "nao rejeito", "not reject", "don't reject" };
	char head[512], folded[1024];
	int y = 0, n = 0;
	const char *p = text;

	str_copy(head, text ? text : "", sizeof head);
	text_fold(head, folded, sizeof folded);
	for (size_t i = 0; i < sizeof denied / sizeof denied[0]; i++)
		if (strstr(folded, denied[i]) != NULL)
			return "";

	while (p && *p) {
		size_t len = 0;
		while (*p && !((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z')))
			p++;
		while ((p[len] >= 'a' && p[len] <= 'z') || (p[len] >= 'A' && p[len] <= 'Z'))
			len++;
		for (size_t i = 0; i < 5; i++) {
			if (len == strlen(yes[i]) && strncasecmp(p, yes[i], len) == 0)
				y = 1;
			if (len == strlen(no[i]) && strncasecmp(p, no[i], len) == 0)
				n = 1;
		}
		p += len;
		while (*p && (unsigned char)*p >= 0x80)
			p++;	/* a word with accents is none of ours */
	}
	return y && n ? "" : y ? "approve" : n ? "reject" : NULL;
}

/* ------------------------------------------------------------ decisions */

/* The city and its contact enter the roster. 0 or -1. */
static int
enter_roster(const struct application_env *env, struct app *a, int64_t *city_id,
    int64_t *contact_id, struct err *e)
{
	size_t ci = country_index(a->country);
	sqlite3_stmt *s;

	if (prepare(env, "INSERT INTO countries (code, name) VALUES (?1, ?2)"
	    " ON CONFLICT (code) DO NOTHING", &s, e) < 0)
		return -1;
	sqlite3_bind_text(s, 1, a->country, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, ci < NCOUNTRIES ? countries[ci].es : NULL, -1, SQLITE_STATIC);
	if (sqlite3_step(s) != SQLITE_DONE)
		return db_fail(env, s, e);
	sqlite3_finalize(s);
	if (prepare(env, "INSERT INTO cities (name, country, lang, timezone, head_title)"
	    " VALUES (?1, ?2, ?3, ?4, nullif(?5, '')) ON CONFLICT (name, country) DO UPDATE"
	    " SET head_title = coalesce(excluded.head_title, cities.head_title) RETURNING id",
	    &s, e) < 0)
		return -1;
	sqlite3_bind_text(s, 1, a->city, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, a->country, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 3, a->lang, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 4, ci < NCOUNTRIES ? countries[ci].zone : "America/Montevideo", -1,
	    SQLITE_STATIC);
	sqlite3_bind_text(s, 5, a->head_title, -1, SQLITE_STATIC);
	if (sqlite3_step(s) != SQLITE_ROW)
		return db_fail(env, s, e);
	*city_id = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	if (prepare(env, "INSERT INTO contacts (address, name, city_id, lang)"
	    " VALUES (?1, nullif(?2, ''), ?3, ?4) ON CONFLICT (address) DO UPDATE"
	    " SET city_id = coalesce(contacts.city_id, excluded.city_id) RETURNING id", &s, e) < 0)
		return -1;
	sqlite3_bind_text(s, 1, a->contact, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, a->head, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 3, *city_id);
	sqlite3_bind_text(s, 4, a->lang, -1, SQLITE_STATIC);
	if (sqlite3_step(s) != SQLITE_ROW)
		return db_fail(env, s, e);
	*contact_id = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	return 0;
}

/* "- Title: "Formulario: kind"" per form, as ingest's list of kinds. */
static char *
forms_text(const struct application_env *env, const char *lang, struct err *e)
{
	struct form_set *fs = form_set_load(env->cfg->mail.templates, NULL, e);
	struct textbuf b = { 0 };
	char line[512];

	if (fs == NULL)
		return NULL;
	for (size_t i = 0; i < form_set_count(fs); i++) {
		const struct form_def *fd = form_set_at(fs, i);
		snprintf(line, sizeof line, "- %s: \"%s: %s\"\n", form_title(fd, lang),
		    strcmp(lang, "pt") == 0 ? "Formulário" : "Formulario", form_kind(fd));
		textbuf_adds(&b, line);
	}
	form_set_free(fs);
	if (b.p == NULL && textbuf_adds(&b, "") < 0)
		return err_set(e, "out of memory"), NULL;
	return textbuf_take(&b);
}

/* "- Name: suscribir slug" per thematic unit. */
static char *
lists_text(const struct application_env *env, const char *lang, struct err *e)
{
	int pt = strcmp(lang, "pt") == 0;
	struct textbuf b = { 0 };
	sqlite3_stmt *s;
	char line[512];
	int rc;

	if (prepare(env, "SELECT slug, CASE WHEN ?1 THEN name_pt ELSE name_es END FROM units"
	    " WHERE kind = 'unit' ORDER BY slug", &s, e) < 0)
		return NULL;
	sqlite3_bind_int(s, 1, pt);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		snprintf(line, sizeof line, "- %s: %s %s\n", col(s, 1), pt ? "inscrever" : "suscribir",
		    col(s, 0));
		textbuf_adds(&b, line);
	}
	if (rc != SQLITE_DONE) {
		textbuf_free(&b);
		db_fail(env, s, e);
		return NULL;
	}
	sqlite3_finalize(s);
	if (b.p == NULL && textbuf_adds(&b, "") < 0)
		return err_set(e, "out of memory"), NULL;
	return textbuf_take(&b);
}

static int
welcome(const struct application_env *env, const struct app *a, time_t now, struct err *e)
{
	const char *base = env->cfg->http.base_url;
	char slug[128], feed[512] = "";
	char *forms = NULL, *lists = NULL;
	int rc = -1;

	feed_city_fold(a->city, slug, sizeof slug);
	if (base)
		snprintf(feed, sizeof feed, "%s/feeds/city/%s.ics", base, slug);
	if ((forms = forms_text(env, a->lang, e)) != NULL &&
	    (lists = lists_text(env, a->lang, e)) != NULL) {
		struct tvar v[] = { { "city", a->city }, { "forms", forms }, { "lists", lists },
		    { "feed_url", feed[0] ? feed : NULL },
		    { "network_address", env->cfg->smtp.from } };
		struct outmail o = { "welcome", a->contact, a->head, a->lang, "application-welcome",
		    NULL, v, sizeof v / sizeof v[0], 0 };
		rc = queue(env, &o, now, e);
	}
	free(forms);
	free(lists);
	return rc;
}

static int
tell_member(const struct application_env *env, const struct app *a, int64_t contact,
    const char *address, const char *name, const char *lang, int64_t unit_id, void *arg,
    time_t now, struct err *e)
{
	const struct tally *t = arg;
	char tally[128];

	(void)contact;
	tally_text(t, lang, tally, sizeof tally);
	struct tvar v[] = { { "city", a->city }, { "country", country_name(a->country, lang) },
	    { "reference", a->reference }, { "tally", tally } };
	struct outmail o = { "approved", address, name, lang, "application-approved", NULL, v,
	    sizeof v / sizeof v[0], unit_id };
	return queue(env, &o, now, e);
}

int
application_decide(const struct application_env *env, int64_t id, const char *verdict,
    const char *by, time_t now, struct err *e)
{
	int64_t city_id = 0, contact_id = 0;
	struct app a;
	struct tally t;
	sqlite3_stmt *s;
	char detail[400];
	int r;

	if ((r = app_load(env, id, &a, e)) <= 0)
		return r;
	if (strcmp(a.state, "pending") != 0)
		return 0;
	if (count_votes(env, &a, &t, e) < 0)
		return -1;
	if (strcmp(verdict, "approved") == 0 && enter_roster(env, &a, &city_id, &contact_id, e) < 0)
		return -1;
	if (prepare(env, "UPDATE applications SET state = ?2, decided_at = ?3, decided_by = ?4,"
	    " city_id = nullif(?5, 0), contact_id = nullif(?6, 0)"
	    " WHERE id = ?1 AND state = 'pending'", &s, e) < 0)
		return -1;
	sqlite3_bind_int64(s, 1, id);
	sqlite3_bind_text(s, 2, verdict, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 3, (int64_t)now);
	sqlite3_bind_text(s, 4, by, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 5, city_id);
	sqlite3_bind_int64(s, 6, contact_id);
	if (sqlite3_step(s) != SQLITE_DONE)
		return db_fail(env, s, e);
	sqlite3_finalize(s);
	snprintf(detail, sizeof detail, "%s by %s: %s (%s), %d for, %d against, of %d", verdict,
	    by, a.city, a.country, t.yes, t.no, t.members);
	if (audit(env, now, "application.decide", id, detail, e) < 0)
		return -1;
	if (strcmp(verdict, "approved") == 0)
		return welcome(env, &a, now, e) < 0 ||
		    each_member(env, &a, tell_member, &t, now, e) < 0 ? -1 : 1;
	struct tvar v[] = { { "city", a.city }, { "reference", a.reference },
	    { "expired", strcmp(verdict, "expired") == 0 ? "yes" : NULL } };
	struct outmail o = { "declined", a.contact, a.head, a.lang, "application-declined", NULL,
	    v, sizeof v / sizeof v[0], 0 };
	return queue(env, &o, now, e) < 0 ? -1 : 1;
}

int
application_expire_due(const struct application_env *env, time_t now, unsigned *n,
    struct err *e)
{
	sqlite3_stmt *s;
	int64_t id;
	int rc;

	*n = 0;
	for (;;) {
		if (store_begin(env->st, e) < 0)
			return -1;
		if (prepare(env, "SELECT id FROM applications WHERE state = 'pending'"
		    " AND deadline <= ?1 ORDER BY id LIMIT 1", &s, e) < 0)
			goto fail;
		sqlite3_bind_int64(s, 1, (int64_t)now);
		rc = sqlite3_step(s);
		id = rc == SQLITE_ROW ? sqlite3_column_int64(s, 0) : 0;
		if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
			db_fail(env, s, e);
			goto fail;
		}
		sqlite3_finalize(s);
		if (id == 0)
			return store_commit(env->st, e);
		if (application_decide(env, id, "expired", "expiry", now, e) < 0 ||
		    store_commit(env->st, e) < 0)
			goto fail;
		(*n)++;
	}
fail:
	store_rollback(env->st);
	return -1;
}

/* ------------------------------------------------------------ -n */

int
application_check_templates(const char *dir, FILE *diag)
{
	static const char *const langs[] = { "es", "pt" };
	int problems = 0;

	for (size_t l = 0; l < 2; l++)
		for (size_t i = 0; i < NTEXTS; i++) {
			struct tvar v[8];
			size_t n = 0;
			struct err e;
			struct template *t = template_load(dir, langs[l], texts[i].name, "txt", &e);
			char *subject = NULL, *body = NULL;

			while (n < 8 && texts[i].vars[n]) {
				v[n] = (struct tvar){ texts[i].vars[n], "x" };
				n++;
			}
			if (t == NULL || template_check(t, texts[i].vars, n, &e) < 0 ||
			    (subject = template_render_string(t->subject, v, n, TEMPLATE_TEXT,
			    &e)) == NULL ||
			    (body = template_render_string(t->body, v, n, TEMPLATE_TEXT, &e)) == NULL) {
				fprintf(diag, "%s\n", e.msg);
				problems++;
			}
			free(subject);
			free(body);
			template_free(t);
		}
	return problems;
}
