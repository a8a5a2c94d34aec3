#include "buildconf.h"

/*
 * list — see list.h.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "auth.h"
#include "autoreply.h"
#include "list.h"
#include "log.h"
#include "outbox.h"
#include "template.h"
#include "text.h"

/* ------------------------------------------------------------ commands */

struct word {
	const char *words;	/* folded (text_fold), space-separated */
	enum list_action action;
	const char *lang;
};

static const struct word keywords[] = {
	{ "suscribir", LIST_SUBSCRIBE, "es" },
	{ "suscribirse", LIST_SUBSCRIBE, "es" },
	{ "suscripcion", LIST_SUBSCRIBE, "es" },
	{ "inscrever", LIST_SUBSCRIBE, "pt" },
	{ "inscrever-se", LIST_SUBSCRIBE, "pt" },
	{ "subscribe", LIST_SUBSCRIBE, "" },
	{ "dar de baja", LIST_UNSUBSCRIBE, "es" },
	{ "baja", LIST_UNSUBSCRIBE, "es" },
	{ "desuscribir", LIST_UNSUBSCRIBE, "es" },
	{ "cancelar inscricao", LIST_UNSUBSCRIBE, "pt" },
	{ "cancelar a inscricao", LIST_UNSUBSCRIBE, "pt" },
	{ "unsubscribe", LIST_UNSUBSCRIBE, "" },
	{ "resumen", LIST_DIGEST, "es" },
	{ "resumo", LIST_DIGEST, "pt" },
	{ "digest", LIST_DIGEST, "" },
};

static const struct {
	const char *word, *mode;
} modes[] = {
	{ "diario", "daily" }, { "diaria", "daily" }, { "daily", "daily" },
	{ "semanal", "weekly" }, { "weekly", "weekly" },
	{ "no", "none" }, { "nao", "none" }, { "none", "none" }, { "ninguno", "none" },
	{ "nenhum", "none" }, { "off", "none" },
};

static int
slug_ok(const char *s)
{
	size_t n = 0;

	for (; s[n]; n++)
		if (!((s[n] >= 'a' && s[n] <= 'z') || (s[n] >= '0' && s[n] <= '9') || s[n] == '-'))
			return 0;
	return n > 0 && n < 64;
}

static const char *
mode_of(const char *w)
{
	for (size_t i = 0; i < sizeof modes / sizeof modes[0]; i++)
		if (strcmp(w, modes[i].word) == 0)
			return modes[i].mode;
	return NULL;
}

int
list_parse_subject(const char *subject, struct list_cmd *c)
{
	char f[512], *p, *tok[4], *save = NULL;
	size_t n = 0;

	memset(c, 0, sizeof *c);
	if (subject == NULL)
		return 0;
	text_fold(subject, f, sizeof f);
	p = f;
	/* reply and forward prefixes */
	for (int again = 1; again;) {
		static const char *const pre[] = { "re:", "res:", "rv:", "fw:", "fwd:", "enc:" };
		again = 0;
		for (size_t i = 0; i < sizeof pre / sizeof pre[0]; i++)
			if (strncmp(p, pre[i], strlen(pre[i])) == 0) {
				p += strlen(pre[i]);
				while (*p == ' ')
					p++;
				again = 1;
			}
	}
	for (size_t i = 0; i < sizeof keywords / sizeof keywords[0]; i++) {
		size_t kl = strlen(keywords[i].words);
		if (strncmp(p, keywords[i].words, kl) == 0 && (p[kl] == ' ' || p[kl] == ':')) {
			c->action = keywords[i].action;
			str_copy(c->lang, keywords[i].lang, sizeof c->lang);
			p += kl + 1;
			break;
		}
	}
	if (c->action == LIST_NONE)
		return 0;
	for (char *w = strtok_r(p, " :,;", &save); w; w = strtok_r(NULL, " :,;", &save)) {
		if (n == 3)
			return memset(c, 0, sizeof *c), 0;
		tok[n++] = w;
	}
	for (size_t i = 0; i < n; i++) {
		const char *mode = c->action == LIST_DIGEST ? mode_of(tok[i]) : NULL;
		if (mode != NULL && c->digest[0] == '\0')
			str_copy(c->digest, mode, sizeof c->digest);
		else if (strchr(tok[i], '@') && c->action == LIST_SUBSCRIBE && c->address[0] == '\0')
			auth_normalize_address(tok[i], c->address, sizeof c->address);
		else if (slug_ok(tok[i]) && c->slug[0] == '\0')
			str_copy(c->slug, tok[i], sizeof c->slug);
		else
			return memset(c, 0, sizeof *c), 0;
	}
	if (c->slug[0] == '\0' || (c->action == LIST_DIGEST && c->digest[0] == '\0') ||
	    (c->action == LIST_SUBSCRIBE && strchr(tok[n - 1], '@') && c->address[0] == '\0'))
		return memset(c, 0, sizeof *c), 0;
	return 1;
}

int
list_parse_address(const char *address, const char *local, const char *domain,
    struct list_cmd *c)
{
	size_t ll = strlen(local);
	const char *at = strrchr(address, '@'), *tag, *dash;
	char t[128];

	memset(c, 0, sizeof *c);
	if (at == NULL || strcasecmp(at + 1, domain) != 0 || strncasecmp(address, local, ll) != 0 ||
	    address[ll] != '+')
		return 0;
	tag = address + ll + 1;
	if ((size_t)(at - tag) >= sizeof t)
		return 0;
	memcpy(t, tag, (size_t)(at - tag));
	t[at - tag] = '\0';
	for (char *q = t; *q; q++)
		if (*q >= 'A' && *q <= 'Z')
			*q = (char)(*q - 'A' + 'a');
	if ((dash = strrchr(t, '-')) == NULL)
		return 0;
	if (strcmp(dash, "-subscribe") == 0)
		c->action = LIST_SUBSCRIBE;
	else if (strcmp(dash, "-unsubscribe") == 0)
		c->action = LIST_UNSUBSCRIBE;
	else
		return 0;
	t[dash - t] = '\0';
	if (!slug_ok(t))
		return memset(c, 0, sizeof *c), 0;
	str_copy(c->slug, t, sizeof c->slug);
	return 1;
}

/* ------------------------------------------------------------- store */

static int
prep(struct store *st, const char *sql, sqlite3_stmt **s, struct err *e)
{
	if (sqlite3_prepare_v2(store_db(st), sql, -1, s, NULL) != SQLITE_OK)
		return err_set(e, "list: %s", sqlite3_errmsg(store_db(st)));
	return 0;
}

static int
done(struct store *st, sqlite3_stmt *s, struct err *e)
{
	int r = sqlite3_step(s);

	sqlite3_finalize(s);
	if (r != SQLITE_DONE && r != SQLITE_ROW)
		return err_set(e, "list: %s", sqlite3_errmsg(store_db(st)));
	return 0;
}

static const char *
col(sqlite3_stmt *s, int i)
{
	const char *v = (const char *)sqlite3_column_text(s, i);

	return v ? v : "";
}

int
list_unit(struct store *st, const char *slug, const char *lang, int64_t *id, char *name,
    size_t size, int *closed, struct err *e)
{
	sqlite3_stmt *s;
	int r;

	if (prep(st, "SELECT u.id, CASE WHEN ?2 = 'pt' THEN u.name_pt ELSE u.name_es END,"
	    " coalesce(l.closed, 0) FROM units u LEFT JOIN lists l ON l.unit_id = u.id"
	    " WHERE u.slug = ?1", &s, e) < 0)
		return -1;
	sqlite3_bind_text(s, 1, slug, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, lang ? lang : "es", -1, SQLITE_STATIC);
	r = sqlite3_step(s);
	if (r == SQLITE_ROW) {
		*id = sqlite3_column_int64(s, 0);
		if (name)
			str_copy(name, col(s, 1), size);
		if (closed)
			*closed = sqlite3_column_int(s, 2);
		r = 1;
	} else {
		r = r == SQLITE_DONE ? 0 : err_set(e, "list: %s", sqlite3_errmsg(store_db(st)));
	}
	sqlite3_finalize(s);
	return r;
}

int
list_members(struct store *st, int64_t unit_id, const struct config_lists *lc, time_t now,
    list_member_fn *fn, void *arg, struct err *e)
{
	sqlite3_stmt *s;
	int r, stop = 0;

	/* the roster's contacts (unless they left), then the other subscribers;
	 * both without the addresses that keep bouncing. A row of source
	 * 'roster' is only the key of a roster member's signed links: once the
	 * city leaves the unit, that member is off the list */
	if (prep(st, "WITH roster AS (SELECT c.address AS address, c.name AS name,"
	    "   c.lang AS lang, c.id AS contact_id FROM unit_members um"
	    "   JOIN contacts c ON c.city_id = um.city_id WHERE um.unit_id = ?1),"
	    " subs AS (SELECT * FROM list_subscriptions WHERE unit_id = ?1),"
	    " bouncing AS (SELECT address FROM bounces WHERE hard = 1 AND at >= ?2"
	    "   GROUP BY address HAVING count(*) >= ?3)"
	    " SELECT r.address, r.name, coalesce(s.lang, r.lang), coalesce(s.digest, 'daily'),"
	    "   r.contact_id, 'roster' FROM roster r LEFT JOIN subs s ON s.address = r.address"
	    "   WHERE coalesce(s.unsubscribed, 0) = 0 AND r.address NOT IN bouncing"
	    " UNION ALL"
	    " SELECT s.address, NULL, s.lang, s.digest, 0, s.source FROM subs s"
	    "   WHERE s.unsubscribed = 0 AND s.address NOT IN (SELECT address FROM roster)"
	    "   AND s.source != 'roster'"
	    "   AND s.address NOT IN bouncing"
	    " ORDER BY 1", &s, e) < 0)
		return -1;
	sqlite3_bind_int64(s, 1, unit_id);
	sqlite3_bind_int64(s, 2, now - (time_t)lc->bounce_days * 86400);
	sqlite3_bind_int(s, 3, lc->bounce_limit);
	while (!stop && (r = sqlite3_step(s)) == SQLITE_ROW) {
		struct list_member m = { .contact_id = sqlite3_column_int64(s, 4) };
		str_copy(m.address, col(s, 0), sizeof m.address);
		str_copy(m.name, col(s, 1), sizeof m.name);
		str_copy(m.lang, col(s, 2), sizeof m.lang);
		str_copy(m.digest, col(s, 3), sizeof m.digest);
		m.source = col(s, 5);
		stop = fn(&m, arg, e) < 0;
	}
	if (!stop && r != SQLITE_DONE)
		err_set(e, "list: %s", sqlite3_errmsg(store_db(st)));
	sqlite3_finalize(s);
	return stop || r != SQLITE_DONE ? -1 : 0;
}

int
list_bouncing(struct store *st, int64_t unit_id, const struct config_lists *lc, time_t now,
    list_bouncing_fn *fn, void *arg, struct err *e)
{
	sqlite3_stmt *s;
	int r, stop = 0;

	if (prep(st, "SELECT address, count(*), max(at) FROM bounces WHERE hard = 1 AND at >= ?1"
	    " AND (?3 = 0 OR address IN (SELECT c.address FROM unit_members um JOIN contacts c"
	    "  ON c.city_id = um.city_id WHERE um.unit_id = ?3)"
	    "  OR address IN (SELECT address FROM list_subscriptions WHERE unit_id = ?3))"
	    " GROUP BY address HAVING count(*) >= ?2 ORDER BY 1", &s, e) < 0)
		return -1;
	sqlite3_bind_int64(s, 1, now - (time_t)lc->bounce_days * 86400);
	sqlite3_bind_int(s, 2, lc->bounce_limit);
	sqlite3_bind_int64(s, 3, unit_id);
	while (!stop && (r = sqlite3_step(s)) == SQLITE_ROW)
		stop = fn(col(s, 0), sqlite3_column_int64(s, 1), sqlite3_column_int64(s, 2), arg) < 0;
	if (!stop && r != SQLITE_DONE)
		err_set(e, "list: %s", sqlite3_errmsg(store_db(st)));
	sqlite3_finalize(s);
	return stop || r != SQLITE_DONE ? -1 : 0;
}

int
list_settings(struct store *st, int64_t unit_id, int *closed, int *always, struct err *e)
{
	sqlite3_stmt *s;
	int r;

	if (prep(st, "SELECT coalesce(max(closed), 0), coalesce(max(digest_always), 0)"
	    " FROM lists WHERE unit_id = ?", &s, e) < 0)
		return -1;
	sqlite3_bind_int64(s, 1, unit_id);
	if ((r = sqlite3_step(s)) == SQLITE_ROW) {
		*closed = sqlite3_column_int(s, 0);
		*always = sqlite3_column_int(s, 1);
	}
	sqlite3_finalize(s);
	return r == SQLITE_ROW ? 0 : err_set(e, "list: %s", sqlite3_errmsg(store_db(st)));
}

int
list_configure(struct store *st, int64_t unit_id, int closed, int always, struct err *e)
{
	sqlite3_stmt *s;
	int r;

	if (prep(st, "INSERT INTO lists (unit_id, closed, digest_always)"
	    " VALUES (?1, coalesce(?2, 0), coalesce(?3, 0)) ON CONFLICT (unit_id) DO UPDATE SET"
	    " closed = coalesce(?2, closed), digest_always = coalesce(?3, digest_always)", &s, e) < 0)
		return -1;
	sqlite3_bind_int64(s, 1, unit_id);
	if (closed >= 0)
		sqlite3_bind_int(s, 2, closed);
	if (always >= 0)
		sqlite3_bind_int(s, 3, always);
	r = sqlite3_step(s);
	sqlite3_finalize(s);
	return r == SQLITE_DONE ? 0 : err_set(e, "list: %s", sqlite3_errmsg(store_db(st)));
}

int
list_set(struct store *st, int64_t unit_id, const char *address, const char *lang,
    const char *digest, int unsubscribe, const char *source, time_t now, struct err *e)
{
	sqlite3_stmt *s;

	if (prep(st, "INSERT INTO list_subscriptions (unit_id, address, lang, digest,"
	    " unsubscribed, source, created_at, changed_at)"
	    " VALUES (?1, ?2, coalesce(?3, (SELECT lang FROM contacts WHERE address = ?2), 'es'),"
	    "  coalesce(?4, 'daily'), ?5, ?6, ?7, ?7)"
	    " ON CONFLICT (unit_id, address) DO UPDATE SET"
	    "  lang = coalesce(?3, lang), digest = coalesce(?4, digest),"
	    "  unsubscribed = ?5, source = ?6, changed_at = ?7", &s, e) < 0)
		return -1;
	sqlite3_bind_int64(s, 1, unit_id);
	sqlite3_bind_text(s, 2, address, -1, SQLITE_STATIC);
	if (lang && *lang)
		sqlite3_bind_text(s, 3, lang, -1, SQLITE_STATIC);
	if (digest)
		sqlite3_bind_text(s, 4, digest, -1, SQLITE_STATIC);
	sqlite3_bind_int(s, 5, unsubscribe);
	sqlite3_bind_text(s, 6, source, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 7, now);
	return done(st, s, e);
}

int64_t
list_member_key(struct store *st, int64_t unit_id, const char *address, const char *lang,
    time_t now, struct err *e)
{
	sqlite3_stmt *s;
	int64_t id = -1;

	if (prep(st, "INSERT INTO list_subscriptions (unit_id, address, lang, source,"
	    " created_at, changed_at) VALUES (?1, ?2, ?3, 'roster', ?4, ?4)"
	    " ON CONFLICT (unit_id, address) DO NOTHING", &s, e) < 0)
		return -1;
	sqlite3_bind_int64(s, 1, unit_id);
	sqlite3_bind_text(s, 2, address, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 3, lang && *lang ? lang : "es", -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 4, now);
	if (done(st, s, e) < 0 || prep(st, "SELECT rowid FROM list_subscriptions"
	    " WHERE unit_id = ?1 AND address = ?2", &s, e) < 0)
		return -1;
	sqlite3_bind_int64(s, 1, unit_id);
	sqlite3_bind_text(s, 2, address, -1, SQLITE_STATIC);
	if (sqlite3_step(s) == SQLITE_ROW)
		id = sqlite3_column_int64(s, 0);
	else
		err_set(e, "list: %s", sqlite3_errmsg(store_db(st)));
	sqlite3_finalize(s);
	return id;
}

int
list_unsubscribe_token(struct store *st, const unsigned char *key, size_t keylen,
    const char *token, time_t now, struct err *e)
{
	struct auth_claim c;
	sqlite3_stmt *s;
	int r;

	if (key == NULL || auth_token_check(key, keylen, token, now, &c) != AUTH_TOKEN_OK ||
	    strcmp(c.purpose, "unsub") != 0)
		return 0;
	if (prep(st, "UPDATE list_subscriptions SET unsubscribed = 1, source = 'http',"
	    " changed_at = ?2 WHERE rowid = ?1", &s, e) < 0)
		return -1;
	sqlite3_bind_int64(s, 1, c.object);
	sqlite3_bind_int64(s, 2, now);
	r = done(st, s, e);
	return r < 0 ? -1 : sqlite3_changes(store_db(st)) > 0;
}

/* ---------------------------------------------------------- list mail */

/* local and domain of smtp.from; -1 if there is none. */
static int
split_from(const struct config *cfg, char *local, size_t lsize, char *domain, size_t dsize)
{
	const char *from = cfg->smtp.from, *at = from ? strrchr(from, '@') : NULL;

	if (at == NULL || (size_t)(at - from) >= lsize || strlen(at + 1) >= dsize)
		return -1;
	memcpy(local, from, (size_t)(at - from));
	local[at - from] = '\0';
	str_copy(domain, at + 1, dsize);
	return 0;
}

int
list_add_headers(struct mailfmt *mf, const struct config *cfg, const char *base_url,
    const unsigned char *key, size_t keylen, const char *slug, const char *name,
    int64_t member_key, time_t now, struct err *e)
{
	char local[128], domain[128], v[1024], token[AUTH_TOKEN_MAX];
	struct auth_claim c = { .object = member_key,
	    .expires = now + (time_t)LIST_UNSUB_DAYS * 86400 };

	if (split_from(cfg, local, sizeof local, domain, sizeof domain) < 0)
		return err_set(e, "list mail needs smtp.from");
	strcpy(c.purpose, "unsub");
	snprintf(v, sizeof v, "%s <%s.%s>", name, slug, domain);
	if (mailfmt_header(mf, "List-Id", v) < 0)
		return err_set(e, "cannot write List-Id");
	if (base_url && key && member_key > 0) {
		if (auth_token_make(key, keylen, &c, token, e) < 0)
			return -1;
		snprintf(v, sizeof v, "<mailto:%s+%s-unsubscribe@%s>, <%s/lists/unsubscribe?t=%s>",
		    local, slug, domain, base_url, token);
	} else {
		snprintf(v, sizeof v, "<mailto:%s+%s-unsubscribe@%s>", local, slug, domain);
	}
	if (mailfmt_header(mf, "List-Unsubscribe", v) < 0 ||
	    (base_url && key && member_key > 0 &&
	    mailfmt_header(mf, "List-Unsubscribe-Post", "List-Unsubscribe=One-Click") < 0))
		return err_set(e, "cannot write List-Unsubscribe");
	snprintf(v, sizeof v, "<mailto:%s?subject=help%%20%s>", cfg->smtp.from, slug);
	if (mailfmt_header(mf, "List-Help", v) < 0 || mailfmt_header(mf, "Precedence", "list") < 0 ||
	    mailfmt_header(mf, "Auto-Submitted", "auto-generated") < 0 ||
	    mailfmt_header(mf, AUTOREPLY_LOOP_HEADER, cfg->smtp.from) < 0)
		return err_set(e, "cannot write the list headers");
	return 0;
}

/* ------------------------------------------------------------ by mail */

struct req {
	struct store *st;
	const struct config *cfg;
	const unsigned char *key;
	size_t keylen;
	const struct mime_msg *m;
	const char *sender;
	int64_t msg_id;
	time_t now;
	char local[128], domain[128];
	char lang[3];
};

/* Queue an answer from template tmpl (vars v) to rcpt, with a Reply-To when
 * reply_to is not NULL. 0 or -1. */
static int
answer(struct req *q, const char *rcpt, const char *tmpl, const struct tvar *v, size_t n,
    const char *reply_to, struct err *e)
{
	struct template *t = template_load(q->cfg->mail.templates, q->lang, tmpl, "txt", e);
	struct mailfmt *mf = mailfmt_new();
	char *subject = NULL, *body = NULL, *msgid = NULL, *data = NULL;
	struct outbox_item it = { .purpose = tmpl, .message_id = q->msg_id,
	    .mail_from = q->cfg->smtp.from, .rcpt = rcpt };
	int r = -1;

	if (t == NULL || mf == NULL)
		goto out;
	if ((subject = template_render_string(t->subject, v, n, TEMPLATE_TEXT, e)) == NULL ||
	    (body = template_render_string(t->body, v, n, TEMPLATE_TEXT, e)) == NULL)
		goto out;
	if (mailfmt_address(mf, "From", q->cfg->mail.name, q->cfg->smtp.from) < 0 ||
	    mailfmt_address(mf, "To", NULL, rcpt) < 0 || mailfmt_header(mf, "Subject", subject) < 0 ||
	    mailfmt_header(mf, "Auto-Submitted", "auto-replied") < 0 ||
	    mailfmt_header(mf, AUTOREPLY_LOOP_HEADER, q->cfg->smtp.from) < 0 ||
	    (reply_to && mailfmt_address(mf, "Reply-To", q->cfg->mail.name, reply_to) < 0) ||
	    (q->m->message_id && mailfmt_header(mf, "In-Reply-To", q->m->message_id) < 0) ||
	    mailfmt_text(mf, body) < 0) {
		err_set(e, "cannot write the list answer");
		goto out;
	}
	if ((data = mailfmt_build(mf, q->domain, q->now, &msgid, &it.len, e)) == NULL)
		goto out;
	it.msgid = msgid;
	it.data = data;
	r = outbox_enqueue(q->st, &it, q->now, e) < 0 ? -1 : 0;
out:
	template_free(t);
	mailfmt_free(mf);
	free(subject);
	free(body);
	free(msgid);
	free(data);
	return r;
}

/* The generic "done" answer: the same words whether or not the address was
 * on the list. */
static int
answer_done(struct req *q, const char *rcpt, const char *list, const char *slug,
    const char *what, const char *digest, struct err *e)
{
	char help[300];
	struct tvar v[] = { { "list", list }, { "slug", slug }, { "address", rcpt },
	    { what, "1" }, { "digest", digest }, { "help_address", help } };

	snprintf(help, sizeof help, "%s", q->cfg->smtp.from);
	return answer(q, rcpt, "list-done", v, sizeof v / sizeof v[0], NULL, e);
}

/* A pending confirmation for address on unit made in the last day? */
static int
recently_asked(struct req *q, int64_t unit, const char *address, struct err *e)
{
	sqlite3_stmt *s;
	int r;

	if (prep(q->st, "SELECT 1 FROM list_confirmations WHERE unit_id = ? AND address = ?"
	    " AND used_at IS NULL AND created_at > ?", &s, e) < 0)
		return -1;
	sqlite3_bind_int64(s, 1, unit);
	sqlite3_bind_text(s, 2, address, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 3, q->now - 86400);
	r = sqlite3_step(s) == SQLITE_ROW;
	sqlite3_finalize(s);
	return r;
}

/* Ask address to confirm: a list_confirmations row and a signed reply
 * address naming it. At most one a day per address and list, so nobody can
 * use mercomail to flood a third party. */
static int
confirm(struct req *q, int64_t unit, const char *slug, const char *address, char *what,
    size_t size, struct err *e)
{
	char list[256], token[AUTH_TOKEN_MAX], reply[400];
	struct auth_claim c = { .expires = q->now + (time_t)LIST_CONFIRM_DAYS * 86400 };
	sqlite3_stmt *s;
	int r;

	if ((r = recently_asked(q, unit, address, e)) != 0) {
		snprintf(what, size, "list %s: a confirmation is pending already", slug);
		return r < 0 ? -1 : 1;
	}
	if (q->key == NULL) {
		snprintf(what, size, "list %s: no confirmation possible without mail.token_key_file",
		    slug);
		return 1;
	}
	if (prep(q->st, "INSERT INTO list_confirmations (unit_id, address, requested_by, lang,"
	    " created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?)", &s, e) < 0)
		return -1;
	sqlite3_bind_int64(s, 1, unit);
	sqlite3_bind_text(s, 2, address, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 3, q->sender, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 4, q->lang, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 5, q->now);
	sqlite3_bind_int64(s, 6, c.expires);
	if (done(q->st, s, e) < 0)
		return -1;
	c.object = sqlite3_last_insert_rowid(store_db(q->st));
	strcpy(c.purpose, "confirm");
	if (auth_token_make(q->key, q->keylen, &c, token, e) < 0)
		return -1;
	snprintf(reply, sizeof reply, "%s+%s@%s", q->local, token, q->domain);
	if (list_unit(q->st, slug, q->lang, &unit, list, sizeof list, NULL, e) < 0)
		return -1;
	struct tvar v[] = { { "list", list }, { "slug", slug }, { "address", address },
	    { "requested_by", q->sender }, { "confirm_address", reply } };
	if (answer(q, address, "list-confirm", v, sizeof v / sizeof v[0], reply, e) < 0)
		return -1;
	snprintf(what, size, "list %s: confirmation sent to %s", slug, address);
	return 1;
}

/* The reply to a confirmation: subscribe, once. */
static int
confirmed(struct req *q, int64_t id, char *what, size_t size, struct err *e)
{
	sqlite3_stmt *s;
	char address[256] = "", lang[3] = "es", slug[64] = "", list[256];
	int64_t unit = 0, used = 0, expires = 0;

	if (prep(q->st, "SELECT c.unit_id, c.address, c.lang, c.used_at, c.expires_at, u.slug"
	    " FROM list_confirmations c JOIN units u ON u.id = c.unit_id WHERE c.id = ?", &s, e) < 0)
		return -1;
	sqlite3_bind_int64(s, 1, id);
	if (sqlite3_step(s) == SQLITE_ROW) {
		unit = sqlite3_column_int64(s, 0);
		str_copy(address, col(s, 1), sizeof address);
		str_copy(lang, col(s, 2), sizeof lang);
		used = sqlite3_column_int64(s, 3);
		expires = sqlite3_column_int64(s, 4);
		str_copy(slug, col(s, 5), sizeof slug);
	}
	sqlite3_finalize(s);
	if (unit == 0 || strcasecmp(address, q->sender) != 0) {
		snprintf(what, size, "list confirmation %lld not from the address it was sent to",
		    (long long)id);
		return 1;
	}
	if (used || expires < q->now) {
		snprintf(what, size, "list %s: confirmation already used or expired", slug);
		return 1;
	}
	if (prep(q->st, "UPDATE list_confirmations SET used_at = ? WHERE id = ? AND used_at IS NULL",
	    &s, e) < 0)
		return -1;
	sqlite3_bind_int64(s, 1, q->now);
	sqlite3_bind_int64(s, 2, id);
	if (done(q->st, s, e) < 0 ||
	    list_set(q->st, unit, address, lang, NULL, 0, "confirm", q->now, e) < 0)
		return -1;
	str_copy(q->lang, lang, sizeof q->lang);
	if (list_unit(q->st, slug, lang, &unit, list, sizeof list, NULL, e) < 0 ||
	    answer_done(q, address, list, slug, "subscribed", NULL, e) < 0)
		return -1;
	snprintf(what, size, "list %s: %s subscribed (confirmed)", slug, address);
	return 1;
}

/* Is address a contact of the roster? */
static int
in_roster(struct req *q, const char *address, struct err *e)
{
	sqlite3_stmt *s;
	int r;

	if (prep(q->st, "SELECT 1 FROM contacts WHERE address = ?", &s, e) < 0)
		return -1;
	sqlite3_bind_text(s, 1, address, -1, SQLITE_STATIC);
	r = sqlite3_step(s) == SQLITE_ROW;
	sqlite3_finalize(s);
	return r;
}

/* Is address on the list of unit now (roster or subscribed, not left)? */
static int
is_member(struct req *q, int64_t unit, const char *address, struct err *e)
{
	sqlite3_stmt *s;
	int r;

	if (prep(q->st, "SELECT coalesce((SELECT unsubscribed = 0 FROM list_subscriptions"
	    "  WHERE unit_id = ?1 AND address = ?2),"
	    " EXISTS (SELECT 1 FROM unit_members um JOIN contacts c ON c.city_id = um.city_id"
	    "  WHERE um.unit_id = ?1 AND c.address = ?2))", &s, e) < 0)
		return -1;
	sqlite3_bind_int64(s, 1, unit);
	sqlite3_bind_text(s, 2, address, -1, SQLITE_STATIC);
	r = sqlite3_step(s) == SQLITE_ROW ? sqlite3_column_int(s, 0) != 0
	    : err_set(e, "list: %s", sqlite3_errmsg(store_db(q->st)));
	sqlite3_finalize(s);
	return r;
}

static int
command(struct req *q, const struct list_cmd *c, char *what, size_t size, struct err *e)
{
	const char *target = c->address[0] ? c->address : q->sender;
	char list[256];
	int64_t unit;
	int closed, r;

	if ((r = list_unit(q->st, c->slug, q->lang, &unit, list, sizeof list, &closed, e)) < 0)
		return -1;
	if (r == 0) {
		/* no such list: said as plainly as "done", nothing to probe */
		snprintf(what, size, "list command for an unknown list %s", c->slug);
		return answer_done(q, q->sender, c->slug, c->slug, "unknown", NULL, e) < 0 ? -1 : 1;
	}
	switch (c->action) {
	case LIST_SUBSCRIBE:
		if (strcasecmp(target, q->sender) != 0 ||
		    (closed && (r = in_roster(q, target, e)) == 0))
			return confirm(q, unit, c->slug, target, what, size, e);
		if (r < 0 || list_set(q->st, unit, target, q->lang[0] ? q->lang : NULL, NULL, 0,
		    "mail", q->now, e) < 0)
			return -1;
		snprintf(what, size, "list %s: %s subscribed", c->slug, target);
		return answer_done(q, target, list, c->slug, "subscribed", NULL, e) < 0 ? -1 : 1;
	case LIST_UNSUBSCRIBE:
		if (list_set(q->st, unit, q->sender, NULL, NULL, 1, "mail", q->now, e) < 0)
			return -1;
		snprintf(what, size, "list %s: %s unsubscribed", c->slug, q->sender);
		return answer_done(q, q->sender, list, c->slug, "unsubscribed", NULL, e) < 0 ? -1 : 1;
	case LIST_DIGEST:
		/* a digest mode is set for members only; others get the same answer */
		if ((r = is_member(q, unit, q->sender, e)) < 0 ||
		    (r == 1 && list_set(q->st, unit, q->sender, NULL, c->digest, 0, "mail", q->now,
		    e) < 0))
			return -1;
		snprintf(what, size, "list %s: digest %s for %s", c->slug, c->digest, q->sender);
		return answer_done(q, q->sender, list, c->slug, c->digest, c->digest, e) < 0 ? -1 : 1;
	default:
		return 0;
	}
}

/* The token or command address among the addresses the mail came to. */
static int
addressed_to(struct req *q, struct list_cmd *c, int64_t *confirm_id)
{
	static const char *const names[] = { "Delivered-To", "X-Original-To", "To", "Cc" };
	const char *v;

	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
		for (size_t nth = 0; (v = mime_header(q->m, names[i], nth)) != NULL; nth++) {
			char buf[1024], norm[256], token[AUTH_TOKEN_MAX], *save = NULL, *w;
			struct auth_claim cl;
			str_copy(buf, v, sizeof buf);
			for (w = strtok_r(buf, " ,;<>\"\t", &save); w; w = strtok_r(NULL, " ,;<>\"\t", &save)) {
				if (auth_normalize_address(w, norm, sizeof norm) < 0)
					continue;
				if (list_parse_address(norm, q->local, q->domain, c))
					return 1;
				if (q->key && auth_address_token(norm, q->local, q->domain, token) == 0 &&
				    auth_token_check(q->key, q->keylen, token, q->now, &cl) == AUTH_TOKEN_OK &&
				    strcmp(cl.purpose, "confirm") == 0) {
					*confirm_id = cl.object;
					return 2;
				}
			}
		}
	}
	return 0;
}

int
list_ingest(struct store *st, const struct config *cfg, const unsigned char *key,
    size_t keylen, const struct mime_msg *m, const char *sender, int64_t msg_id, time_t now,
    char *what, size_t size, struct err *e)
{
	struct req q = { .st = st, .cfg = cfg, .key = key, .keylen = keylen, .m = m,
	    .sender = sender, .msg_id = msg_id, .now = now };
	struct list_cmd c;
	int64_t confirm_id = 0;
	int r;

	memset(&c, 0, sizeof c);
	if (sender == NULL || sender[0] == '\0' ||
	    split_from(cfg, q.local, sizeof q.local, q.domain, sizeof q.domain) < 0)
		return 0;
	r = addressed_to(&q, &c, &confirm_id);
	if (r == 0 && !list_parse_subject(m->subject, &c))
		return 0;
	/* the sender's language: the roster's, else the command's */
	{
		sqlite3_stmt *s;
		if (prep(st, "SELECT lang FROM contacts WHERE address = ?", &s, e) < 0)
			return -1;
		sqlite3_bind_text(s, 1, sender, -1, SQLITE_STATIC);
		if (sqlite3_step(s) == SQLITE_ROW)
			str_copy(q.lang, col(s, 0), sizeof q.lang);
		sqlite3_finalize(s);
	}
	if (q.lang[0] == '\0')
		str_copy(q.lang, c.lang[0] ? c.lang : cfg->mail.default_lang, sizeof q.lang);
	if (r == 2)
		r = confirmed(&q, confirm_id, what, size, e);
	else
		r = command(&q, &c, what, size, e);
	if (r > 0)
		log_info("event=list msgid=%s %s", m->message_id ? m->message_id : "-", what);
	return r;
}

/* ------------------------------------------------- one-click unsubscribe */

struct list_web {
	char *database;
	unsigned char *key;
	size_t keylen;
};

struct list_web *
list_web_new(const struct config *cfg)
{
	struct list_web *w;
	struct err e;
	char *key;

	if (cfg->database == NULL || cfg->mail.token_key_file == NULL ||
	    (key = config_read_secret(cfg->mail.token_key_file, &e)) == NULL)
		return NULL;
	if ((w = calloc(1, sizeof *w)) == NULL || (w->database = strdup(cfg->database)) == NULL) {
		explicit_bzero(key, strlen(key));
		free(key);
		free(w);
		return NULL;
	}
	w->key = (unsigned char *)key;
	w->keylen = strlen(key);
	return w;
}

void
list_web_free(struct list_web *w)
{
	if (w == NULL)
		return;
	explicit_bzero(w->key, w->keylen);
	free(w->key);
	free(w->database);
	free(w);
}

static char *
page_of(const char *title, const char *text, const char *token)
{
	struct textbuf b = { 0 };

	textbuf_adds(&b, "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\">"
	    "<meta name=\"viewport\" content=\"width=device-width\"><title>");
	textbuf_adds(&b, title);
	textbuf_adds(&b, "</title></head>\n<body style=\"font-family:Arial,Helvetica,sans-serif;"
	    "max-width:36em;margin:2em auto\">\n<h1 style=\"font-size:1.3em\">");
	textbuf_adds(&b, title);
	textbuf_adds(&b, "</h1>\n<p>");
	textbuf_adds(&b, text);
	textbuf_adds(&b, "</p>\n");
	if (token != NULL) {
		/* tokens are [a-z0-9-]: nothing to escape */
		textbuf_adds(&b, "<form method=\"post\" action=\"?t=");
		textbuf_adds(&b, token);
		textbuf_adds(&b, "\"><input type=\"hidden\" name=\"List-Unsubscribe\" "
		    "value=\"One-Click\"><button type=\"submit\">Darme de baja / "
		    "Cancelar inscrição</button></form>\n");
	}
	textbuf_adds(&b, "</body></html>\n");
	return textbuf_take(&b);
}

int
list_web_unsubscribe(struct list_web *w, const char *token, int post, time_t now,
    char **page)
{
	struct auth_claim c;
	struct store *st;
	struct err e;
	int r;

	*page = NULL;
	if (w == NULL || token == NULL || strlen(token) >= AUTH_TOKEN_MAX ||
	    auth_token_check(w->key, w->keylen, token, now, &c) != AUTH_TOKEN_OK ||
	    strcmp(c.purpose, "unsub") != 0) {
		*page = page_of("Enlace no válido / Link inválido",
		    "Este enlace no es válido o venció. / Este link não é válido ou expirou.", NULL);
		return 404;
	}
	if (!post) {
		*page = page_of("Lista de Mercociudades / Lista da Mercocidades",
		    "¿Dejar de recibir los resúmenes de esta lista? / "
		    "Deixar de receber os resumos desta lista?", token);
		return 200;
	}
	if ((st = store_open(w->database, &e)) == NULL) {
		log_error("event=http.unsubscribe status=failed reason=\"%s\"", e.msg);
		*page = page_of("Error", "Inténtelo más tarde. / Tente mais tarde.", NULL);
		return 503;
	}
	r = list_unsubscribe_token(st, w->key, w->keylen, token, now, &e);
	store_close(st);
	if (r < 0) {
		log_error("event=http.unsubscribe status=failed reason=\"%s\"", e.msg);
		*page = page_of("Error", "Inténtelo más tarde. / Tente mais tarde.", NULL);
		return 503;
	}
	log_info("event=http.unsubscribe member=%lld", (long long)c.object);
	*page = page_of("Listo / Pronto", "No recibirá más correo de esta lista. / "
	    "Você não receberá mais mensagens desta lista.", NULL);
	return 200;
}
