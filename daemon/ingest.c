#include "buildconf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "auth.h"
#include "autoreply.h"
#include "ingest.h"
#include "list.h"
#include "ingest_job.h"
#include "log.h"
#include "mailfmt.h"
#include "mime.h"
#include "outbox.h"
#include "record.h"
#include "sender.h"
#include "template.h"
#include "text.h"
#include "trim.h"
#include "verp.h"

/* ------------------------------------------------------------ set-up */

static int
split_address(struct ingest *in, struct err *e)
{
	const char *from = in->cfg->smtp.from, *at = from ? strrchr(from, '@') : NULL;

	if (at == NULL)
		return 0;	/* no answers without smtp.from: nothing to split */
	if ((size_t)(at - from) >= sizeof in->local || strlen(at + 1) >= sizeof in->domain)
		return err_set(e, "smtp.from is too long");
	memcpy(in->local, from, (size_t)(at - from));
	in->local[at - from] = '\0';
	strcpy(in->domain, at + 1);
	return 0;
}

static int
load_key(struct ingest *in, struct err *e)
{
	char *key;

	if (in->cfg->mail.token_key_file == NULL)
		return 0;
	if ((key = config_read_secret(in->cfg->mail.token_key_file, e)) == NULL)
		return err_wrap(e, "mail.token_key_file");
	if (strlen(key) < 16) {
		free(key);
		return err_set(e, "mail.token_key_file: the key must be at least 16 characters");
	}
	in->key = (unsigned char *)key;
	in->keylen = strlen(key);
	return 0;
}

struct ingest *
ingest_new(const struct config *cfg, struct store *st, FILE *diag, struct err *e)
{
	struct ingest *in = calloc(1, sizeof *in);

	if (in == NULL) {
		err_set(e, "out of memory");
		return NULL;
	}
	in->cfg = cfg;
	in->st = st;
	if ((in->forms = form_set_load(cfg->mail.templates, diag, e)) == NULL ||
	    split_address(in, e) < 0 || load_key(in, e) < 0) {
		ingest_free(in);
		return NULL;
	}
	return in;
}

void
ingest_free(struct ingest *in)
{
	if (in == NULL)
		return;
	form_set_free(in->forms);
	if (in->key) {
		explicit_bzero(in->key, in->keylen);
		free(in->key);
	}
	free(in);
}

/* ------------------------------------------------------------ answers */

/* Every answer template and the variables it is rendered with: the calls
 * below pass these names, and mercomaild -n checks the files against them. */
static const struct answer_def answer_defs[] = {
	{ "ack", { "name", "kind_title", "reference", "fields", "subject", "date" } },
	{ "invalid", { "name", "kind_title", "subject", "errors", "example" } },
	{ "unknown-sender", { "address", "subject", "example", "network_address" } },
	{ "not-authorised", { "name", "kind_title", "subject", "reason" } },
	{ "no-form", { "name", "subject", "kinds" } },
	{ "bad-token", { "name", "subject", "reason" } },
	{ "rejected-dkim", { "subject", "address" } },
};
#define NANSWERS (sizeof answer_defs / sizeof answer_defs[0])

static size_t
nvars(const struct answer_def *a)
{
	size_t n = 0;

	while (n < 7 && a->vars[n])
		n++;
	return n;
}

/* Load, check and render one template with sample values. */
static int
check_one(const char *dir, const char *lang, const struct answer_def *a, FILE *diag)
{
	struct tvar v[7];
	struct err e;
	struct template *t = template_load(dir, lang, a->name, "txt", &e);
	char *subject = NULL, *body = NULL;
	size_t n = nvars(a);
	int r = -1;

	for (size_t i = 0; i < n; i++)
		v[i] = (struct tvar){ a->vars[i], "x" };
	if (t != NULL && template_check(t, a->vars, n, &e) == 0 &&
	    (subject = template_render_string(t->subject, v, n, TEMPLATE_TEXT, &e)) != NULL &&
	    (body = template_render_string(t->body, v, n, TEMPLATE_TEXT, &e)) != NULL)
		r = 0;
	if (r < 0)
		fprintf(diag, "%s\n", e.msg);
	free(subject);
	free(body);
	template_free(t);
	return r;
}

int
ingest_check_templates(const char *dir, FILE *diag)
{
	static const char *const langs[] = { "es", "pt" };
	int problems = 0;

	for (size_t l = 0; l < 2; l++) {
		for (size_t i = 0; i < NANSWERS; i++)
			problems += check_one(dir, langs[l], &answer_defs[i], diag) < 0;
		for (size_t i = 0; i < ingest_meeting_nanswers; i++)
			problems += check_one(dir, langs[l], &ingest_meeting_answers[i], diag) < 0;
	}
	return problems;
}


const char *
job_answer_lang(struct job *j)
{
	const char *d = auth_address_domain(j->who.address);

	if (j->who.lang[0])
		return j->who.lang;
	if (j->rec && (strcmp(j->rec->lang, "es") == 0 || strcmp(j->rec->lang, "pt") == 0))
		return j->rec->lang;
	if (d && strlen(d) > 3 && strcasecmp(d + strlen(d) - 3, ".br") == 0)
		return "pt";
	return j->in->cfg->mail.default_lang;
}

/* Settle the language of the answer (the texts chosen from here on use it). */
const char *
job_lang(struct job *j)
{
	snprintf(j->lang, sizeof j->lang, "%s", job_answer_lang(j));
	return j->lang;
}

/* A reply address signed for this sender and this mail. */
static int
reply_to(struct job *j, char *out, size_t size, struct err *e)
{
	struct auth_claim c = { .object = j->msg_id, .contact = j->who.contact_id,
	    .expires = j->now + (time_t)j->in->cfg->mail.token_days * 86400 };
	char token[AUTH_TOKEN_MAX];

	strcpy(c.purpose, "reply");
	if (auth_token_make(j->in->key, j->in->keylen, &c, token, e) < 0)
		return -1;
	snprintf(out, size, "%s+%s@%s", j->in->local, token, j->in->domain);
	return 0;
}

static int
add_headers(struct job *j, struct mailfmt *mf, const char *subject, struct err *e)
{
	const struct config *cfg = j->in->cfg;
	char rt[512];

	if (mailfmt_address(mf, "From", cfg->mail.name, cfg->smtp.from) < 0 ||
	    mailfmt_address(mf, "To", j->who.name[0] ? j->who.name : NULL, j->who.address) < 0 ||
	    mailfmt_header(mf, "Subject", subject) < 0 ||
	    mailfmt_header(mf, "Auto-Submitted", "auto-replied") < 0 ||
	    mailfmt_header(mf, AUTOREPLY_LOOP_HEADER, cfg->smtp.from) < 0)
		return err_set(e, "cannot write the answer's headers");
	if (j->in->key && (reply_to(j, rt, sizeof rt, e) < 0 ||
	    mailfmt_address(mf, "Reply-To", cfg->mail.name, rt) < 0))
		return err_set(e, "cannot sign the reply address");
	if (j->m->message_id && (mailfmt_header(mf, "In-Reply-To", j->m->message_id) < 0 ||
	    mailfmt_header(mf, "References", j->m->message_id) < 0))
		return err_set(e, "cannot write In-Reply-To");
	return 0;
}

/* Render template tmpl into a complete message. */
static char *
compose(struct job *j, const char *tmpl, const struct tvar *v, size_t n, char **msgid,
    size_t *len, struct err *e)
{
	struct template *t = template_load(j->in->cfg->mail.templates, j->lang, tmpl, "txt", e);
	char *subject = NULL, *body = NULL, *wrapped = NULL, *out = NULL;
	struct mailfmt *mf = mailfmt_new();

	if (t == NULL || mf == NULL)
		goto done;
	if ((subject = template_render_string(t->subject, v, n, TEMPLATE_TEXT, e)) == NULL ||
	    (body = template_render_string(t->body, v, n, TEMPLATE_TEXT, e)) == NULL ||
	    (wrapped = mailfmt_wrap(body, 78)) == NULL)
		goto done;
	if (add_headers(j, mf, subject, e) == 0 && mailfmt_text(mf, wrapped) == 0)
		out = mailfmt_build(mf, j->in->domain, j->now, msgid, len, e);
done:
	template_free(t);
	mailfmt_free(mf);
	free(subject);
	free(body);
	free(wrapped);
	return out;
}

/* Too many answers to one address in an hour looks like a loop. */
static int
rate_ok(struct job *j, struct err *e)
{
	int64_t sent = outbox_count_since(j->in->st, j->who.address, j->now - 3600, e);

	if (sent < 0)
		return -1;
	return autoreply_rate_ok((unsigned)sent, (unsigned)j->in->cfg->mail.answers_per_hour);
}

void
job_note(struct job *j, const char *what)
{
	size_t n = strlen(j->reason);

	snprintf(j->reason + n, sizeof j->reason - n, "%s%s", n ? "; " : "", what);
}

/* Queue the answer tmpl with vars. Returns 0 (also when no answer may be
 * sent, which is noted in the reason) or -1 on a store error. */
int
job_answer(struct job *j, const char *tmpl, const struct tvar *v, size_t n, struct err *e)
{
	struct outbox_item it = { .purpose = tmpl, .message_id = j->msg_id,
	    .mail_from = j->in->cfg->smtp.from, .rcpt = j->who.address };
	char *msgid = NULL, *data;
	struct err ce;
	int r;

	if (j->in->cfg->smtp.from == NULL || j->who.address[0] == '\0')
		return job_note(j, "no answer: no smtp.from or no sender"), 0;
	if ((r = rate_ok(j, e)) <= 0)
		return r < 0 ? -1 : (job_note(j, "no answer: too many answers to this sender this hour"), 0);
	job_lang(j);
	if ((data = compose(j, tmpl, v, n, &msgid, &it.len, &ce)) == NULL) {
		log_error("event=answer status=failed template=%s reason=\"%s\"", tmpl, ce.msg);
		return job_note(j, "no answer: the answer could not be written"), 0;
	}
	it.msgid = msgid;
	it.data = data;
	r = outbox_enqueue(j->in->st, &it, j->now, e) < 0 ? -1 : 0;
	j->answered = r == 0;
	free(msgid);
	free(data);
	return r;
}

/* Reasons told to the sender, in their language (the log keeps English). */
enum why { WHY_ROLE, WHY_UNIT, WHY_MALFORMED, WHY_FORGED, WHY_EXPIRED, WHY_FOREIGN };

static const char *
why_text(enum why w, const char *lang)
{
	static const char *const es[] = {
		"su función en la red no permite enviar este formulario",
		"solo puede enviar este formulario para la unidad que coordina",
		"la dirección de respuesta no es válida",
		"la dirección de respuesta no es válida (firma incorrecta)",
		"la dirección de respuesta venció",
		"la dirección de respuesta fue emitida para otra persona",
	};
	static const char *const pt[] = {
		"sua função na rede não permite enviar este formulário",
		"só pode enviar este formulário para a unidade que coordena",
		"o endereço de resposta não é válido",
		"o endereço de resposta não é válido (assinatura incorreta)",
		"o endereço de resposta expirou",
		"o endereço de resposta foi emitido para outra pessoa",
	};

	return strcmp(lang, "pt") == 0 ? pt[w] : es[w];
}

/* ---------------------------------------------------------- decisions */

int
job_decide(struct job *j, enum msg_state state, const char *fmt, ...)
{
	char what[300];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof what, fmt, ap);
	va_end(ap);
	j->out.state = state;
	job_note(j, what);
	return 1;
}


static int
automatic(struct job *j, struct err *e)
{
	char why[160], rcpt[256];
	int b, v;

	if (!autoreply_check(j->m, j->in->cfg->smtp.from, why, sizeof why))
		return 0;
	/* a delivery report about a mail we sent: that recipient failed; list
	 * mail names its member in the address the report came back to */
	if ((v = verp_recipient(j->in->st, j->in->cfg, j->in->key, j->in->keylen, j->m, j->now,
	    rcpt, sizeof rcpt, e)) < 0 ||
	    (b = outbox_bounce_note(j->in->st, j->msg_id, v ? rcpt : NULL,
	    verp_from_mailer(j->m), j->now, e)) < 0)
		return -1;
	return job_decide(j, MSG_IGNORED, "automatic mail, not answered: %s%s%s", why,
	    b ? "; bounce recorded" : "", b && v ? " for a list member" : "");
}

/* With require_dkim, only our border server's verdict counts. */
int
job_unauthenticated(struct job *j, struct err *e)
{
	const struct config_mail *mc = &j->in->cfg->mail;
	const char *vals[32];
	size_t n = 0;
	const char *v;

	if (!mc->require_dkim)
		return 0;
	while (n < 32 && (v = mime_header(j->m, "Authentication-Results", n)) != NULL)
		vals[n++] = v;
	if (auth_results_check(vals, n, mc->authserv_id, auth_address_domain(j->who.address))
	    == AUTH_RESULT_PASS)
		return 0;
	job_decide(j, MSG_REJECTED, "DKIM/SPF did not pass for %s", auth_address_domain(j->who.address));
	struct tvar tv[] = { TV("subject", j->m->subject), TV("address", j->who.address) };
	return job_answer(j, "rejected-dkim", tv, 2, e) < 0 ? -1 : 1;
}

struct token_search {
	const struct ingest *in;
	char *token;		/* AUTH_TOKEN_MAX bytes */
};

static int
our_tagged(const char *word, void *arg)
{
	struct token_search *t = arg;

	return auth_address_token(word, t->in->local, t->in->domain, t->token) == 0;
}

/* The token of the first address of ours with a tag, from the headers the
 * delivery path leaves. 1 found, 0 none. */
static int
find_token(struct job *j, char token[AUTH_TOKEN_MAX])
{
	struct token_search t = { j->in, token };

	return mime_recipient_words(j->m, our_tagged, &t);
}

static int
reject_token(struct job *j, enum why w, struct err *e)
{
	static const char *const log_why[] = { [WHY_MALFORMED] = "malformed",
	    [WHY_FORGED] = "forged", [WHY_EXPIRED] = "expired",
	    [WHY_FOREIGN] = "issued to someone else" };

	job_decide(j, MSG_REJECTED, "reply token %s", log_why[w]);
	job_lang(j);
	struct tvar tv[] = { TV("name", j->who.name), TV("subject", j->m->subject),
	    TV("reason", why_text(w, j->lang)) };
	return job_answer(j, "bad-token", tv, 3, e) < 0 ? -1 : 1;
}

/* Keep what the signed address was for; a "reply" names our answer to a mail. */
static int
claimed(struct job *j, const struct auth_claim *c)
{
	j->claim = *c;
	j->has_claim = 1;
	if (strcmp(c->purpose, "reply") == 0)
		j->replied_to = c->object;
	return 0;
}

/* A reply to one of our signed addresses: the token must be ours, fresh,
 * and issued to this sender. Tags that are no token at all are ignored. */
static int
bad_token(struct job *j, struct err *e)
{
	char token[AUTH_TOKEN_MAX];
	struct auth_claim c;
	struct sender issued;
	enum auth_token_status s;
	int r;

	if (j->in->key == NULL || !find_token(j, token))
		return 0;
	s = auth_token_check(j->in->key, j->in->keylen, token, j->now, &c);
	if (s == AUTH_TOKEN_MALFORMED)
		return 0;
	if (s != AUTH_TOKEN_OK)
		return reject_token(j, s == AUTH_TOKEN_EXPIRED ? WHY_EXPIRED : WHY_FORGED, e);
	if (c.contact == 0)
		return claimed(j, &c);
	if ((r = sender_by_contact(j->in->st, c.contact, &issued, e)) < 0)
		return -1;
	if (r == 0 || strcasecmp(issued.address, j->who.address) != 0)
		return reject_token(j, WHY_FOREIGN, e);
	return claimed(j, &c);
}

/* The text the sender wrote: HTML trimmed at the clients' quote markers
 * first (when the text came from HTML), then the text pass. */
int
job_read_body(struct job *j, struct err *e)
{
	struct trim_result tr = { 0 };
	char *html = NULL, *text = NULL;
	const char *src = j->m->text;
	int r;

	if (j->text != NULL)
		return 0;	/* read already (an RSVP that turned out to be a change) */
	if (j->m->text_from_html && j->m->html &&
	    (html = trim_html(j->m->html)) != NULL &&
	    (text = mime_html_to_text(html, strlen(html))) != NULL)
		src = text;
	r = trim_text(src, &tr, e);
	free(html);
	free(text);
	if (r < 0)
		return -1;
	j->text = tr.text;
	tr.text = NULL;
	trim_result_free(&tr);
	return 0;
}

static int
kinds_list(struct job *j, char *out, size_t size)
{
	size_t n = 0;

	out[0] = '\0';
	for (size_t i = 0; i < form_set_count(j->in->forms) && n < size; i++) {
		const struct form_def *fd = form_set_at(j->in->forms, i);
		n += (size_t)snprintf(out + n, size - n, "- %s: \"Formulario: %s\"\n",
		    form_title(fd, j->lang), form_kind(fd));
	}
	return 0;
}

static int
unknown_sender(struct job *j, struct err *e)
{
	const struct form_def *app = form_set_find(j->in->forms, "adhesion");
	char *example;
	int r;

	job_decide(j, MSG_HELD, "sender %s is not in the roster", j->who.address);
	job_lang(j);
	example = app ? form_example(app, j->lang) : NULL;
	struct tvar tv[] = { TV("address", j->who.address), TV("subject", j->m->subject),
	    TV("example", example), TV("network_address", j->in->cfg->smtp.from) };
	r = job_answer(j, "unknown-sender", tv, 4, e);
	free(example);
	return r < 0 ? -1 : 1;
}

static int
no_form(struct job *j, struct err *e)
{
	char kinds[2048];

	job_decide(j, MSG_REJECTED, "no form recognised");
	job_lang(j);
	kinds_list(j, kinds, sizeof kinds);
	struct tvar tv[] = { TV("name", j->who.name), TV("subject", j->m->subject),
	    TV("kinds", kinds) };
	return job_answer(j, "no-form", tv, 3, e) < 0 ? -1 : 1;
}

int
job_not_authorised(struct job *j, const char *why, struct err *e)
{
	job_decide(j, MSG_REJECTED, "not authorised: %s", why);
	job_lang(j);
	struct tvar tv[] = { TV("name", j->who.name),
	    TV("kind_title", form_title(j->form, j->lang)), TV("subject", j->m->subject),
	    TV("reason", why) };
	return job_answer(j, "not-authorised", tv, 4, e) < 0 ? -1 : 1;
}

/* Which roles of the sender let them submit this form. *unit_bound is set
 * when only a coordinating role allows it: then the form must be for that
 * unit. Returns 1 allowed, 0 not, -1 error. */
static int
allowed(struct job *j, int *unit_bound, struct err *e)
{
	static const char *const coord[] = { "coordinator", "subcoordinator", "member" };
	const struct form_def *f = j->form;
	int r;

	*unit_bound = 0;
	if (form_allows_role(f, "anyone") || (j->who.contact_id && form_allows_role(f, "contact")))
		return 1;
	if (j->who.contact_id == 0)
		return 0;
	if (form_allows_role(f, "secretariat")) {
		if ((r = sender_has_role(j->in->st, &j->who, NULL, NULL, "secretariat", e)) != 0 ||
		    (r = sender_has_role(j->in->st, &j->who, NULL, NULL, "technical-secretariat", e)) != 0)
			return r;
	}
	for (size_t i = 0; i < 3; i++) {
		if (!form_allows_role(f, coord[i]))
			continue;
		if ((r = sender_has_role(j->in->st, &j->who, coord[i], NULL, NULL, e)) != 0) {
			*unit_bound = r > 0;
			return r;
		}
	}
	return 0;
}

/* Coordinators submit for their own unit only. */
static int
for_own_unit(struct job *j, struct err *e)
{
	static const char *const roles[] = { "coordinator", "subcoordinator", "member" };
	const char *field = form_unit_field(j->form);
	const char *unit = field ? form_record_get(j->rec, field) : NULL;
	int r;

	if (unit == NULL)
		return 1;
	for (size_t i = 0; i < 3; i++)
		if (form_allows_role(j->form, roles[i]) &&
		    (r = sender_has_role(j->in->st, &j->who, roles[i], unit, NULL, e)) != 0)
			return r;
	return 0;
}

static int
save_fields(struct job *j, struct err *e)
{
	for (size_t i = 0; i < j->rec->nvalues; i++) {
		const struct form_value *v = &j->rec->values[i];
		if (record_field(j->in->st, j->msg_id, v->field, v->value, v->line, e) < 0)
			return -1;
	}
	return 0;
}

static char *
label_value(struct job *j, const struct form_value *v)
{
	const char *label = form_field_label(j->form, v->field, j->lang);
	size_t n = strlen(label) + strlen(v->value) + 3;
	char *line = malloc(n);

	if (line)
		snprintf(line, n, "%s: %s", label, v->value);
	return line;
}

/* "Label: value" lines (or the error lines) for the answer; caller frees. */
static char *
lines(struct job *j, int errors)
{
	size_t n = errors ? j->rec->nerrors : j->rec->nvalues;
	struct textbuf b = { 0 };

	for (size_t i = 0; i < n; i++) {
		char *line;
		if (errors)
			line = form_error_text(j->in->forms, j->form, &j->rec->errors[i], j->lang);
		else
			line = label_value(j, &j->rec->values[i]);
		if (line == NULL)
			continue;
		if (errors)
			textbuf_adds(&b, "- ");
		textbuf_adds(&b, line);
		textbuf_addc(&b, '\n');
		free(line);
	}
	return textbuf_take(&b);	/* NULL if out of memory */
}

static int
invalid(struct job *j, struct err *e)
{
	char *errors, *example;
	int r = 0;

	job_decide(j, MSG_REJECTED, "the form has errors");
	job_lang(j);
	errors = lines(j, 1);
	example = form_example(j->form, j->lang);
	for (size_t i = 0; i < j->rec->nerrors && r == 0; i++) {
		char *t = form_error_text(j->in->forms, j->form, &j->rec->errors[i], "es");
		r = record_problem(j->in->st, j->msg_id, (int)i + 1, t ? t : "?", e);
		free(t);
	}
	struct tvar tv[] = { TV("name", j->who.name), TV("kind_title", form_title(j->form, j->lang)),
	    TV("subject", j->m->subject), TV("errors", errors), TV("example", example) };
	if (r == 0)
		r = job_answer(j, "invalid", tv, 5, e);
	free(errors);
	free(example);
	return r < 0 ? -1 : 1;
}

static int
accepted(struct job *j, struct err *e)
{
	const char *unit_field = form_unit_field(j->form);
	char ref[32], date[32], *fields;
	struct tm tm;
	int r;

	if (record_submission(j->in->st, j->msg_id, form_kind(j->form), j->who.contact_id,
	    j->who.city_id, unit_field ? form_record_get(j->rec, unit_field) : NULL,
	    form_record_get(j->rec, "title"), j->now, ref, e) < 0)
		return -1;
	job_decide(j, MSG_RECORDED, "recorded as %s", ref);
	if (ingest_application_open(j, e) < 0)
		return -1;
	job_lang(j);
	gmtime_r(&j->now, &tm);
	strftime(date, sizeof date, "%Y-%m-%d %H:%M UTC", &tm);
	fields = lines(j, 0);
	struct tvar tv[] = { TV("name", j->who.name), TV("kind_title", form_title(j->form, j->lang)),
	    TV("reference", ref), TV("fields", fields), TV("subject", j->m->subject),
	    TV("date", date) };
	r = job_answer(j, "ack", tv, 6, e);
	free(fields);
	return r < 0 ? -1 : 1;
}

/* A reply to one of our answers, with no form named, continues the form
 * of the mail we answered ("Re: Recibido ..." with the corrected fields). */
static int
same_form(struct job *j, struct err *e)
{
	char kind[64];
	int r = record_kind_of(j->in->st, j->replied_to, kind, sizeof kind, e);

	if (r > 0)
		j->form = form_set_find(j->in->forms, kind);
	return r < 0 ? -1 : 0;
}

/* From the form on: detect, authorise, validate, record. */
static int
submission(struct job *j, struct err *e)
{
	struct form_lookup lk;
	int unit_bound, r;

	if (job_read_body(j, e) < 0)
		return -1;
	j->out.body = j->text;
	j->form = form_detect(j->in->forms, j->m->subject, j->text);
	if (j->form == NULL && j->replied_to && (r = same_form(j, e)) < 0)
		return -1;
	if (j->form == NULL && j->has_claim && strcmp(j->claim.purpose, "rsvp") == 0)
		j->form = form_set_find(j->in->forms, "reunion");	/* a change, by the organiser */
	if (j->form == NULL)
		return j->who.contact_id ? no_form(j, e) : unknown_sender(j, e);
	j->out.kind = form_kind(j->form);
	if ((r = allowed(j, &unit_bound, e)) <= 0)
		return r < 0 ? -1 : j->who.contact_id ? job_not_authorised(j,
		    why_text(WHY_ROLE, job_answer_lang(j)), e) : unknown_sender(j, e);
	sender_form_lookup(j->in->st, &lk);
	lk.zone = ingest_zone_known;
	if ((j->rec = form_parse(j->form, j->text, &lk, e)) == NULL || save_fields(j, e) < 0)
		return -1;
	if (ingest_is_meeting_form(j))
		ingest_meeting_relax(j);
	if (j->rec->nerrors > 0)
		return invalid(j, e);
	if (unit_bound && (r = for_own_unit(j, e)) <= 0)
		return r < 0 ? -1 : job_not_authorised(j, why_text(WHY_UNIT, job_answer_lang(j)), e);
	if (ingest_is_meeting_form(j))
		return ingest_meeting_form(j, e);
	return accepted(j, e);
}

static int
identify(struct job *j, struct err *e)
{
	if (j->m->from_addr == NULL ||
	    auth_normalize_address(j->m->from_addr, j->who.address, sizeof j->who.address) < 0) {
		j->who.address[0] = '\0';	/* run() decides */
		return 0;
	}
	j->out.sender = j->who.address;
	return sender_lookup(j->in->st, j->who.address, &j->who, e) < 0 ? -1 : 0;
}

static int
run(struct job *j, struct err *e)
{
	int r;

	if ((r = identify(j, e)) != 0)
		return r;
	/* a mail server's report may come "From: MAILER-DAEMON@host" without
	 * a domain: still a bounce to record; anything else has nobody to answer */
	if (j->who.address[0] == '\0')
		return (r = automatic(j, e)) != 0 ? r
		    : job_decide(j, MSG_REJECTED, "no usable From address");
	if ((r = ingest_itip(j, e)) != 0 ||
	    (r = automatic(j, e)) != 0 ||
	    (r = job_unauthenticated(j, e)) != 0 || (r = bad_token(j, e)) != 0)
		return r;
	if (j->has_claim && strcmp(j->claim.purpose, "rsvp") == 0 &&
	    (r = ingest_rsvp(j, e)) != 0)
		return r;
	if (ingest_is_vote(j))		/* a ballot's address: ingest_vote.c */
		return ingest_vote(j, e);
	/* a list command (subscribe, unsubscribe, digest mode), or the reply to
	 * a list confirmation: handled and answered by list.c */
	if ((r = list_ingest(j->in->st, j->in->cfg, j->in->key, j->in->keylen, j->m,
	    j->who.address, j->msg_id, j->now, j->reason, sizeof j->reason, e)) != 0) {
		j->out.state = MSG_RECORDED;
		return r;
	}
	return submission(j, e);
}

int
ingest_message(struct ingest *in, int64_t msg_id, const char *raw, size_t len,
    time_t now, enum msg_state *state, struct err *e)
{
	struct job j = { .in = in, .msg_id = msg_id, .now = now };
	struct err pe;
	int r = 1;

	if ((j.m = mime_parse(raw, len, &pe)) == NULL)
		job_decide(&j, MSG_REJECTED, "not a mail: %s", pe.msg);
	else
		r = run(&j, e);
	if (r >= 0) {
		j.out.reason = j.reason;
		j.out.contact_id = j.who.contact_id;
		j.out.lang = j.lang[0] ? j.lang : NULL;
		r = record_outcome(in->st, msg_id, &j.out, now, e);
		*state = j.out.state;
		log_info("event=ingest id=%lld msgid=%s state=%s kind=%s sender=%s answered=%d reason=\"%s\"",
		    (long long)msg_id, j.m && j.m->message_id ? j.m->message_id : "-",
		    store_state_name(j.out.state), j.out.kind ? j.out.kind : "-",
		    j.who.address[0] ? j.who.address : "-", j.answered, j.reason);
	}
	form_record_free(j.rec);
	mime_msg_free(j.m);
	free(j.text);
	return r < 0 ? -1 : 0;
}
