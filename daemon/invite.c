#include "buildconf.h"

/*
 * invite — one mail per invitee for a new, changed or cancelled meeting.
 *
 * The layout of each mail, and why:
 *
 *   multipart/alternative
 *     text/plain; charset=UTF-8          the summary, in the invitee's language
 *     text/html; charset=UTF-8           the same summary
 *     text/calendar; charset=UTF-8; method=REQUEST (or CANCEL)   LAST
 *
 * In multipart/alternative the last part is the richest rendering
 * (RFC 2046 5.1.4). Text, HTML, then the calendar with method= in its
 * Content-Type is the layout Gmail, Outlook, Apple Mail and Thunderbird
 * are publicly reported to show as an invitation with Accept/Decline
 * buttons, while a mail client without calendar support shows the summary.
 * The method is written twice, as RFC 6047 asks: in the Content-Type
 * parameter and as METHOD in the VCALENDAR; the calendar is not also sent
 * as an attachment (some clients would then show two invitations).
 *
 * ORGANIZER is the bare mercomail address (smtp.from, CN mail.name) with
 * the coordinator who asked as SENT-BY: calendar apps send their iTIP
 * REPLY there, where mercomaild reads it. Reply-To is a signed address
 * (purpose "rsvp", the meeting, the invitee) so that a plain "confirmo"
 * answered from a mail client is known to be that invitee's.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth.h"
#include "autoreply.h"
#include "ical.h"
#include "invite.h"
#include "log.h"
#include "mailfmt.h"
#include "outbox.h"
#include "template.h"
#include "text.h"

#define NLANG 2
static const char *const langs[NLANG] = { "es", "pt" };

/* The template variables, in the order vars() fills them. */
static const char *const var_names[] = {
	"name", "title", "reference", "unit", "date", "when", "zone",
	"location", "url", "agenda", "organizer", "changes"
};
#define NVARS (sizeof var_names / sizeof var_names[0])

static const char *const kind_names[] = { "invite", "invite-update", "cancel" };

/* The templates of one kind in both languages, loaded once per call. */
struct tset {
	struct template *txt[NLANG], *html[NLANG];
};

static int
lang_index(const char *lang)
{
	return strcmp(lang, "pt") == 0 ? 1 : 0;
}

static void
tset_free(struct tset *t)
{
	for (int i = 0; i < NLANG; i++) {
		template_free(t->txt[i]);
		template_free(t->html[i]);
	}
}

static int
tset_load(struct tset *t, const char *dir, enum invite_kind kind, struct err *e)
{
	for (int i = 0; i < NLANG; i++)
		if ((t->txt[i] = template_load(dir, langs[i], kind_names[kind], "txt", e)) == NULL ||
		    (t->html[i] = template_load(dir, langs[i], kind_names[kind], "html", e)) == NULL)
			return -1;
	return 0;
}

/* What changed, in words, for an update's text. */
static void
changes_text(unsigned chg, const char *lang, char *out, size_t size)
{
	static const char *const es[] = { "horario", "lugar", "título", "agenda" };
	static const char *const pt[] = { "horário", "local", "título", "pauta" };
	const char *const *w = lang_index(lang) ? pt : es;
	size_t n = 0;

	out[0] = '\0';
	for (int i = 0; i < 4; i++)
		if (chg & (1u << i))
			n += (size_t)snprintf(out + n, n < size ? size - n : 0, "%s%s",
			    n ? ", " : "", w[i]);
}

/* "2026-12-03 10:00" (date) and "2026-12-03 10:00–11:30 (Zone)" (when);
 * the end's date only when it is another day. */
static int
format_when(const struct invite_meeting *m, char *date, size_t dsize, char *when,
    size_t wsize, struct err *e)
{
	char end[32];

	if (ical_format_local(m->start, m->tzid, date, dsize) < 0 ||
	    ical_format_local(m->end, m->tzid, end, sizeof end) < 0)
		return err_set(e, "invite: cannot show times in zone %s", m->tzid);
	snprintf(when, wsize, "%s–%s (%s)", date,
	    strncmp(date, end, 10) == 0 ? end + 11 : end, m->tzid);
	return 0;
}

/* The values for person p, in the order of var_names. */
static void
vars(const struct invite_meeting *m, const struct invite_person *p, const char *date,
    const char *when, const char *changes, struct tvar v[NVARS])
{
	const char *val[NVARS] = {
		p->name[0] ? p->name : NULL, m->title, m->reference,
		lang_index(p->lang) ? m->unit_pt : m->unit_es, date, when, m->tzid,
		m->location, m->url, m->agenda, m->organizer_name, changes
	};

	for (size_t i = 0; i < NVARS; i++)
		v[i] = (struct tvar){ var_names[i], val[i] };
}

/* A reply address signed for p and this meeting, valid until token_days
 * after the meeting ends. */
static int
rsvp_address(const struct meeting_env *env, const struct invite_meeting *m,
    const struct invite_person *p, char *out, size_t size, struct err *e)
{
	const char *from = env->cfg->smtp.from, *at = strrchr(from, '@');
	struct auth_claim c = { .object = m->id, .contact = p->contact_id,
	    .expires = m->end + (time_t)env->cfg->mail.token_days * 86400 };
	char token[AUTH_TOKEN_MAX];

	strcpy(c.purpose, "rsvp");
	if (auth_token_make(env->key, env->keylen, &c, token, e) < 0)
		return -1;
	if (snprintf(out, size, "%.*s+%s%s", (int)(at - from), from, token, at) >= (int)size)
		return err_set(e, "invite: reply address too long");
	return 0;
}

static int
headers(struct mailfmt *mf, const struct meeting_env *env, const struct invite_meeting *m,
    const struct invite_person *p, const char *subject, struct err *e)
{
	const struct config *cfg = env->cfg;
	char rt[512];

	if (mailfmt_address(mf, "From", cfg->mail.name, cfg->smtp.from) < 0 ||
	    mailfmt_address(mf, "To", p->name[0] ? p->name : NULL, p->address) < 0 ||
	    mailfmt_header(mf, "Subject", subject) < 0 ||
	    mailfmt_header(mf, "Auto-Submitted", "auto-generated") < 0 ||
	    mailfmt_header(mf, AUTOREPLY_LOOP_HEADER, cfg->smtp.from) < 0)
		return err_set(e, "invite: cannot write the headers for %s", p->address);
	if (env->key != NULL && (rsvp_address(env, m, p, rt, sizeof rt, e) < 0 ||
	    mailfmt_address(mf, "Reply-To", cfg->mail.name, rt) < 0))
		return err_set(e, "invite: cannot sign the reply address for %s", p->address);
	return 0;
}

/* Everything one mail needs besides the person. */
struct job {
	struct store *st;
	const struct meeting_env *env;
	const struct invite_meeting *m;
	enum invite_kind kind;
	struct tset t;
	const char *ics;
	const char *domain;		/* of smtp.from: Message-IDs */
	char date[32], when[96];
	time_t now;
};

/* Render the three texts of p's language. */
static int
render(struct job *j, const struct invite_person *p, char **subject, char **text,
    char **html, struct err *e)
{
	int li = lang_index(p->lang);
	char changes[96];
	struct tvar v[NVARS];
	char *body;

	changes_text(j->m->changes, p->lang, changes, sizeof changes);
	vars(j->m, p, j->date, j->when, changes[0] ? changes : NULL, v);
	if ((*subject = template_render_string(j->t.txt[li]->subject, v, NVARS,
	    TEMPLATE_TEXT, e)) == NULL ||
	    (body = template_render_string(j->t.txt[li]->body, v, NVARS, TEMPLATE_TEXT, e)) == NULL)
		return -1;
	*text = mailfmt_wrap(body, 78);
	free(body);
	if (*text == NULL)
		return err_set(e, "invite: out of memory");
	*html = template_render_string(j->t.html[li]->body, v, NVARS, TEMPLATE_HTML, e);
	return *html == NULL ? -1 : 0;
}

/* The complete mail for p (caller frees), or NULL. */
static char *
compose(struct job *j, const struct invite_person *p, char **msgid, size_t *len,
    struct err *e)
{
	char *subject = NULL, *text = NULL, *html = NULL, *out = NULL;
	struct mailfmt *mf = mailfmt_new();

	if (mf == NULL) {
		err_set(e, "invite: out of memory");
		return NULL;
	}
	if (render(j, p, &subject, &text, &html, e) == 0 &&
	    headers(mf, j->env, j->m, p, subject, e) == 0) {
		if (mailfmt_text(mf, text) < 0 || mailfmt_html(mf, html) < 0 ||
		    mailfmt_calendar(mf, j->ics, j->kind == INVITE_CANCEL ? "CANCEL" : "REQUEST") < 0)
			err_set(e, "invite: cannot add the parts");
		else
			out = mailfmt_build(mf, j->domain, j->now, msgid, len, e);
	}
	mailfmt_free(mf);
	free(subject);
	free(text);
	free(html);
	return out;
}

static int
queue_one(struct job *j, const struct invite_person *p, struct err *e)
{
	struct outbox_item it = { .purpose = kind_names[j->kind], .message_id = j->m->message_id,
	    .mail_from = j->env->cfg->smtp.from, .rcpt = p->address };
	char *msgid = NULL, *data;
	int r;

	if ((data = compose(j, p, &msgid, &it.len, e)) == NULL)
		return -1;
	it.msgid = msgid;
	it.data = data;
	r = outbox_enqueue(j->st, &it, j->now, e) < 0 ? -1 : 0;
	free(msgid);
	free(data);
	return r;
}

/* The iCalendar text, the same for every invitee (caller frees). */
static char *
calendar(const struct meeting_env *env, const struct invite_meeting *m,
    const struct invite_person *p, size_t n, enum invite_kind kind, struct err *e)
{
	struct ical_attendee *att = calloc(n ? n : 1, sizeof *att);
	struct ical_event ev = { .uid = m->uid, .sequence = m->sequence, .dtstamp = m->changed,
	    .start = m->start, .end = m->end, .tzid = m->tzid, .summary = m->title,
	    .location = m->location, .url = m->url, .description = m->agenda,
	    .organizer = env->cfg->smtp.from, .organizer_name = env->cfg->mail.name,
	    .sent_by = m->organizer, .cancelled = kind == INVITE_CANCEL,
	    .alarm_minutes = m->alarm_minutes, .attendees = att, .nattendees = n };
	char *ics;

	if (att == NULL) {
		err_set(e, "invite: out of memory");
		return NULL;
	}
	for (size_t i = 0; i < n; i++)
		att[i] = (struct ical_attendee){ p[i].address, p[i].name[0] ? p[i].name : NULL,
		    p[i].role, p[i].partstat };
	ics = ical_build(&ev, kind == INVITE_CANCEL ? ICAL_CANCEL : ICAL_REQUEST, e);
	free(att);
	return ics;
}

int
invite_queue(struct store *st, const struct meeting_env *env, const struct invite_meeting *m,
    const struct invite_person *p, size_t n, enum invite_kind kind, time_t now, struct err *e)
{
	struct job j = { .st = st, .env = env, .m = m, .kind = kind, .now = now };
	const char *from = env->cfg->smtp.from;
	char *ics = NULL;
	int r = -1;

	if (from == NULL || strchr(from, '@') == NULL)
		return err_set(e, "invites need [smtp] from");
	j.domain = strchr(from, '@') + 1;
	if (format_when(m, j.date, sizeof j.date, j.when, sizeof j.when, e) < 0 ||
	    tset_load(&j.t, env->cfg->mail.templates, kind, e) < 0 ||
	    (ics = calendar(env, m, p, n, kind, e)) == NULL)
		goto done;
	j.ics = ics;
	for (size_t i = 0; i < n; i++)
		if (queue_one(&j, &p[i], e) < 0)
			goto done;
	log_info("event=invite kind=%s uid=%s sequence=%d queued=%zu", kind_names[kind], m->uid,
	    m->sequence, n);
	r = 0;
done:
	free(ics);
	tset_free(&j.t);
	return r;
}

/* ---- mercomaild -n ---- */

static int
check_one(const struct template *t, FILE *diag)
{
	struct tvar v[NVARS];
	struct err e;
	char *s = NULL, *b = NULL;
	int r = -1;

	for (size_t i = 0; i < NVARS; i++)
		v[i] = (struct tvar){ var_names[i], "x" };
	if (template_check(t, var_names, NVARS, &e) == 0 &&
	    (s = template_render_string(t->subject, v, NVARS, TEMPLATE_TEXT, &e)) != NULL &&
	    (b = template_render_string(t->body, v, NVARS, TEMPLATE_HTML, &e)) != NULL)
		r = 0;
	if (r < 0)
		fprintf(diag, "%s\n", e.msg);
	free(s);
	free(b);
	return r;
}

int
invite_check_templates(const char *dir, FILE *diag)
{
	static const char *const exts[] = { "txt", "html" };
	int problems = 0;

	for (int l = 0; l < NLANG; l++)
		for (size_t k = 0; k < 3; k++)
			for (int x = 0; x < 2; x++) {
				struct err e;
				struct template *t = template_load(dir, langs[l], kind_names[k],
				    exts[x], &e);

				if (t == NULL) {
					fprintf(diag, "%s\n", e.msg);
					problems++;
					continue;
				}
				problems += check_one(t, diag) < 0;
				template_free(t);
			}
	return problems;
}
