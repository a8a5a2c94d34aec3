#include "buildconf.h"

/*
 * ingest_meeting — the steps of ingest that concern meetings:
 *
 *  - an iTIP REPLY from a calendar app (Accept/Decline buttons) records the
 *    PARTSTAT of the one ATTENDEE it names. The person is the ATTENDEE, not
 *    From: Google sends replies from its own notification address.
 *  - a plain reply to an invite's signed address ("confirmo", "vou
 *    participar") records the words' answer for the invitee it was signed
 *    for; an unclear one is asked again.
 *  - a valid meeting request schedules the meeting (meeting.c sends the
 *    invites); the same form naming a meeting (its reference, or a reply to
 *    its invite) changes it; a cancellation cancels it. Only the unit's
 *    coordination, the organiser or the secretariat may change a meeting.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ical.h"
#include "ingest_job.h"
#include "meeting.h"
#include "rsvp.h"
#include "text.h"

const struct answer_def ingest_meeting_answers[] = {
	{ "meeting-scheduled", { "name", "title", "reference", "when", "where", "invitees",
	    "subject" } },
	{ "meeting-changed", { "name", "title", "reference", "when", "where", "subject" } },
	{ "meeting-cancelled", { "name", "title", "reference", "when", "subject" } },
	{ "meeting-problem", { "name", "subject", "reason" } },
	{ "rsvp-recorded", { "name", "title", "reference", "when", "answer", "subject" } },
	{ "rsvp-unclear", { "name", "title", "reference", "when", "subject" } },
	{ "rsvp-rejected", { "name", "subject", "reason" } },
};
const size_t ingest_meeting_nanswers =
    sizeof ingest_meeting_answers / sizeof ingest_meeting_answers[0];

#define DEFAULT_DURATION 120	/* minutes, when neither an end nor a duration is given */
#define NETWORK_ZONE "America/Montevideo"	/* the seat of the Executive Secretariat */

int
ingest_zone_known(void *ctx, const char *tzid)
{
	(void)ctx;
	return ical_zone_known(tzid);
}

/* ------------------------------------------------------------ texts */

enum problem { P_UNKNOWN_MEETING, P_NOT_INVITED, P_CANCELLED, P_BAD_REPLY, P_PAST,
	P_END_BEFORE_START, P_BAD_INVITEE, P_NOT_ALLOWED, P_NO_ZONE, P_REFUSED };

/* What went wrong, for the person, in their language (the log keeps English). */
static const char *
problem_text(enum problem p, const char *lang)
{
	static const char *const es[] = {
		"no encontramos esa reunión (revise la referencia RE-AAAA-NNNN)",
		"esa dirección no figura entre las personas invitadas a la reunión",
		"la reunión fue cancelada",
		"la respuesta de calendario no se pudo leer",
		"la fecha de inicio ya pasó",
		"el fin de la reunión es anterior a su inicio",
		"un invitado no es una ciudad de la red ni una dirección de correo",
		"solo la coordinación de la unidad, quien convocó o la Secretaría pueden cambiar esta reunión",
		"la zona horaria no es conocida (ejemplo: America/Montevideo)",
		"el pedido no se puede cumplir tal como está",
	};
	static const char *const pt[] = {
		"não encontramos essa reunião (verifique a referência RE-AAAA-NNNN)",
		"esse endereço não está entre os convidados da reunião",
		"a reunião foi cancelada",
		"a resposta de calendário não pôde ser lida",
		"a data de início já passou",
		"o fim da reunião é anterior ao início",
		"um convidado não é uma cidade da rede nem um endereço de e-mail",
		"somente a coordenação da unidade, quem convocou ou a Secretaria podem alterar esta reunião",
		"o fuso horário não é conhecido (exemplo: America/Sao_Paulo)",
		"o pedido não pode ser atendido como está",
	};
	return strcmp(lang, "pt") == 0 ? pt[p] : es[p];
}

static const char *
partstat_text(const char *partstat, const char *lang)
{
	static const char *const names[] = { "ACCEPTED", "DECLINED", "TENTATIVE", "DELEGATED" };
	static const char *const es[] = { "asistiré", "no podré asistir", "tal vez", "delegada" };
	static const char *const pt[] = { "vou participar", "não poderei participar", "talvez",
		"delegada" };

	for (size_t i = 0; i < 4; i++)
		if (strcmp(partstat, names[i]) == 0)
			return strcmp(lang, "pt") == 0 ? pt[i] : es[i];
	return partstat;
}

/* ------------------------------------------------------------ helpers */

static struct meeting_env
env_of(struct job *j)
{
	return (struct meeting_env){ .cfg = j->in->cfg, .key = j->in->key,
	    .keylen = j->in->keylen, .actor = j->who.address };
}

struct mtg {
	int64_t id;
	char title[256], ref[32], when[96];
};

static int
describe(struct job *j, int64_t id, struct mtg *mt, struct err *e)
{
	mt->id = id;
	return meeting_describe(j->in->st, id, mt->title, sizeof mt->title, mt->ref, mt->when,
	    sizeof mt->when, e);
}

static int
problem(struct job *j, const char *tmpl, enum problem p, struct err *e)
{
	static const char *const log_text[] = { "unknown meeting", "not invited", "cancelled",
		"unreadable calendar reply", "start in the past", "end before start",
		"bad invitee", "not allowed to change this meeting", "unknown time zone",
		"refused by the meeting module" };

	job_decide(j, MSG_REJECTED, "%s", log_text[p]);
	job_lang(j);
	struct tvar tv[] = { TV("name", j->who.name), TV("subject", j->m->subject),
	    TV("reason", problem_text(p, j->lang)) };
	return job_answer(j, tmpl, tv, 3, e) < 0 ? -1 : 1;
}

/* What the meeting module refuses beyond the checks above (a value it will
 * not store, say): answered with its reason, which is in English, after
 * ours. */
static int
refused(struct job *j, const struct err *why, struct err *e)
{
	char reason[400];

	job_decide(j, MSG_REJECTED, "refused: %s", why->msg);
	job_lang(j);
	snprintf(reason, sizeof reason, "%s (%s)", problem_text(P_REFUSED, j->lang), why->msg);
	struct tvar tv[] = { TV("name", j->who.name), TV("subject", j->m->subject),
	    TV("reason", reason) };
	return job_answer(j, "meeting-problem", tv, 3, e) < 0 ? -1 : 1;
}

/* ------------------------------------------------------------ RSVPs */

/* Record partstat of address for meeting id, and settle the mail. */
static int
rsvp_record(struct job *j, int64_t id, const char *address, const char *partstat,
    const char *via, int answer, struct err *e)
{
	struct mtg mt;
	int r = meeting_rsvp(j->in->st, id, address, partstat, via, j->now, e);

	if (r < 0)
		return -1;
	if (r == RSVP_NOT_INVITED)
		return problem(j, "rsvp-rejected", P_NOT_INVITED, e);
	if (r == RSVP_CANCELLED)
		return problem(j, "rsvp-rejected", P_CANCELLED, e);
	if (describe(j, id, &mt, e) < 0)
		return -1;
	job_decide(j, MSG_RECORDED, "RSVP %s for %s by %s (%s)", partstat, mt.ref, address, via);
	if (!answer)
		return job_note(j, "not answered: the calendar app shows the answer"), 1;
	job_lang(j);
	struct tvar tv[] = { TV("name", j->who.name), TV("title", mt.title),
	    TV("reference", mt.ref), TV("when", mt.when),
	    TV("answer", partstat_text(partstat, j->lang)), TV("subject", j->m->subject) };
	return job_answer(j, "rsvp-recorded", tv, 6, e) < 0 ? -1 : 1;
}

int
ingest_itip(struct job *j, struct err *e)
{
	const struct mime_msg *m = j->m;
	struct ical_reply rep;
	struct err pe;
	int64_t id;
	int r;

	if (m->calendar == NULL || m->calendar_method == NULL ||
	    strcmp(m->calendar_method, "REPLY") != 0)
		return 0;
	j->out.kind = "rsvp";
	if ((r = job_unauthenticated(j, e)) != 0)
		return r;
	if (ical_parse_reply(m->calendar, strlen(m->calendar), &rep, &pe) < 0) {
		job_note(j, pe.msg);
		return problem(j, "rsvp-rejected", P_BAD_REPLY, e);
	}
	if ((r = meeting_find(j->in->st, rep.uid, &id, e)) <= 0)
		return r < 0 ? -1 : problem(j, "rsvp-rejected", P_UNKNOWN_MEETING, e);
	if (rep.prodid[0])
		job_note(j, rep.prodid);
	return rsvp_record(j, id, rep.attendee, rep.partstat, "itip", 0, e);
}

/* Does the reply hold fields of the meeting form (a change by the organiser)? */
static int
has_form_fields(struct job *j)
{
	const struct form_def *fd = form_set_find(j->in->forms, "reunion");
	const struct form_def *d = form_detect(j->in->forms, j->m->subject, j->text);
	struct form_lookup lk;
	struct form_record *rec;
	int n;

	if (d && strcmp(form_kind(d), "cancelacion") == 0)
		return 1;
	if (fd == NULL)
		return 0;
	sender_form_lookup(j->in->st, &lk);
	if ((rec = form_parse(fd, j->text, &lk, NULL)) == NULL)
		return 0;
	n = rec->nvalues > 0;
	form_record_free(rec);
	return n;
}

int
ingest_rsvp(struct job *j, struct err *e)
{
	const char *partstat;
	struct mtg mt;
	int r;

	if (job_read_body(j, e) < 0)
		return -1;
	j->out.body = j->text;
	if ((partstat = rsvp_from_words(j->text)) != NULL) {
		j->out.kind = "rsvp";
		return rsvp_record(j, j->claim.object, j->who.address, partstat, "words", 1, e);
	}
	if (has_form_fields(j))
		return 0;	/* the organiser changes the meeting: the form path */
	j->out.kind = "rsvp";
	if ((r = describe(j, j->claim.object, &mt, e)) <= 0)
		return r < 0 ? -1 : problem(j, "rsvp-rejected", P_UNKNOWN_MEETING, e);
	job_decide(j, MSG_REJECTED, "RSVP unclear for %s", mt.ref);
	job_lang(j);
	struct tvar tv[] = { TV("name", j->who.name), TV("title", mt.title),
	    TV("reference", mt.ref), TV("when", mt.when), TV("subject", j->m->subject) };
	return job_answer(j, "rsvp-unclear", tv, 5, e) < 0 ? -1 : 1;
}

/* ------------------------------------------------------------ requests */

/* The meeting a form names: by its "reference" field, by the invite it
 * replies to (rsvp claim), or by the answer to its request it replies to.
 * 1 named and found (*id), 0 none named, 2 named but unknown, -1 error. */
static int
named_meeting(struct job *j, int64_t *id, struct err *e)
{
	const char *ref = j->rec ? form_record_get(j->rec, "reference") : NULL;
	sqlite3_stmt *s = NULL;
	int r;

	if (ref && ref[0])
		return (r = meeting_find(j->in->st, ref, id, e)) < 0 ? -1 : r ? 1 : 2;
	if (j->has_claim && strcmp(j->claim.purpose, "rsvp") == 0) {
		*id = j->claim.object;
		return 1;
	}
	if (j->replied_to == 0)
		return 0;
	if (sqlite3_prepare_v2(store_db(j->in->st), "SELECT id FROM meetings WHERE message_id = ?",
	    -1, &s, NULL) != SQLITE_OK)
		return err_set(e, "meetings: %s", sqlite3_errmsg(store_db(j->in->st)));
	sqlite3_bind_int64(s, 1, j->replied_to);
	r = sqlite3_step(s);
	if (r == SQLITE_ROW)
		*id = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	if (r != SQLITE_ROW && r != SQLITE_DONE)
		return err_set(e, "meetings: %s", sqlite3_errmsg(store_db(j->in->st)));
	return r == SQLITE_ROW;
}

int
ingest_is_meeting_form(const struct job *j)
{
	const char *k = j->form ? form_kind(j->form) : "";

	return strcmp(k, "reunion") == 0 || strcmp(k, "cancelacion") == 0;
}

void
ingest_meeting_relax(struct job *j)
{
	int64_t id;
	size_t n = 0;

	if (named_meeting(j, &id, NULL) == 0)
		return;		/* a new meeting: everything required is required */
	for (size_t i = 0; i < j->rec->nerrors; i++)
		if (j->rec->errors[i].code != FE_MISSING)
			j->rec->errors[n++] = j->rec->errors[i];
	j->rec->nerrors = n;
}

/* The zone of a meeting asked for by mail: the form's, else the sender
 * city's, else the network's. */
static const char *
zone_of(struct job *j, char *buf, size_t size)
{
	const char *tz = form_record_get(j->rec, "timezone");
	sqlite3_stmt *s = NULL;

	if (tz)
		return tz;
	str_copy(buf, NETWORK_ZONE, size);
	if (j->who.city_id && sqlite3_prepare_v2(store_db(j->in->st),
	    "SELECT timezone FROM cities WHERE id = ?", -1, &s, NULL) == SQLITE_OK) {
		sqlite3_bind_int64(s, 1, j->who.city_id);
		if (sqlite3_step(s) == SQLITE_ROW && sqlite3_column_text(s, 0))
			str_copy(buf, (const char *)sqlite3_column_text(s, 0), size);
	}
	sqlite3_finalize(s);
	return ical_zone_known(buf) ? buf : NETWORK_ZONE;
}

/* "YYYY-MM-DD HH:MM" (as the form stores datetimes) in tz -> UTC. */
static int
local_time(const char *v, const char *tz, time_t *out)
{
	int y, mo, d, h, mi;

	if (v == NULL || sscanf(v, "%d-%d-%d %d:%d", &y, &mo, &d, &h, &mi) != 5)
		return -1;
	return ical_local_to_utc(tz, y, mo, d, h, mi, out, NULL);
}

/* Start and end from the form: end, else duration, else keep (when
 * changing) or the default length. start and end are in/out. */
static int
times_of(struct job *j, const char *tz, time_t *start, time_t *end, enum problem *p)
{
	const char *sv = form_record_get(j->rec, "start"), *ev = form_record_get(j->rec, "end");
	const char *dv = form_record_get(j->rec, "duration");
	time_t len = *end > *start ? *end - *start : DEFAULT_DURATION * 60;

	*p = P_NO_ZONE;
	if (sv && local_time(sv, tz, start) < 0)
		return -1;
	if (ev && local_time(ev, tz, end) < 0)
		return -1;
	if (!ev)
		*end = *start + (dv ? atol(dv) * 60 : len);
	*p = P_END_BEFORE_START;
	if (*end <= *start)
		return -1;
	*p = P_PAST;
	return *start < j->now ? -1 : 0;
}

/* The "invitees" items ("Rosario, ana@x.example"): cities by their roster
 * name, addresses normalised. *out holds pointers into buf. */
static int
invitees_of(struct job *j, char *buf, size_t size, const char **out, size_t max, size_t *n)
{
	const char *v = form_record_get(j->rec, "invitees");
	struct form_lookup lk;
	char *save = NULL, canon[256];

	*n = 0;
	if (v == NULL)
		return 0;
	str_copy(buf, v, size);
	sender_form_lookup(j->in->st, &lk);
	for (char *it = strtok_r(buf, ",", &save); it && *n < max; it = strtok_r(NULL, ",", &save)) {
		while (*it == ' ')
			it++;
		if (*it == '\0')
			continue;
		if (strchr(it, '@') ? auth_normalize_address(it, canon, sizeof canon) < 0 :
		    lk.city(lk.ctx, it, canon, sizeof canon) != 1)
			return -1;
		out[(*n)++] = it;
	}
	return 0;
}

static int
scheduled(struct job *j, const char *tmpl, int64_t id, int64_t ninvited, struct err *e)
{
	const char *where = form_record_get(j->rec, "location");
	char count[24];
	struct mtg mt;

	if (describe(j, id, &mt, e) < 0)
		return -1;
	if (where == NULL)
		where = form_record_get(j->rec, "url");
	snprintf(count, sizeof count, "%lld", (long long)ninvited);
	job_lang(j);
	struct tvar tv[] = { TV("name", j->who.name), TV("title", mt.title),
	    TV("reference", mt.ref), TV("when", mt.when), TV("where", where),
	    TV("invitees", count), TV("subject", j->m->subject) };
	return job_answer(j, tmpl, tv, 7, e) < 0 ? -1 : 1;
}

static int64_t
count_invited(struct job *j, int64_t id)
{
	sqlite3_stmt *s = NULL;
	int64_t n = 0;

	if (sqlite3_prepare_v2(store_db(j->in->st),
	    "SELECT count(*) FROM meeting_attendees WHERE meeting_id = ?", -1, &s, NULL) ==
	    SQLITE_OK) {
		sqlite3_bind_int64(s, 1, id);
		if (sqlite3_step(s) == SQLITE_ROW)
			n = sqlite3_column_int64(s, 0);
	}
	sqlite3_finalize(s);
	return n;
}

static int
create(struct job *j, struct err *e)
{
	char zbuf[64], ibuf[2048], ref[32], sref[32];
	const char *extra[64];
	struct meeting_spec sp = { .unit = form_record_get(j->rec, "unit"),
	    .title = form_record_get(j->rec, "title"),
	    .location = form_record_get(j->rec, "location"),
	    .url = form_record_get(j->rec, "url"), .agenda = form_record_get(j->rec, "agenda"),
	    .organizer_id = j->who.contact_id, .message_id = j->msg_id, .extra = extra,
	    .alarm_minutes = -1 };
	struct meeting_env env = env_of(j);
	struct err why;
	enum problem p;
	int64_t id;

	sp.tzid = zone_of(j, zbuf, sizeof zbuf);
	if (times_of(j, sp.tzid, &sp.start, &sp.end, &p) < 0)
		return problem(j, "meeting-problem", p, e);
	if (invitees_of(j, ibuf, sizeof ibuf, extra, 64, &sp.nextra) < 0)
		return problem(j, "meeting-problem", P_BAD_INVITEE, e);
	if (meeting_check(j->in->st, &env, &sp, &why) < 0)
		return refused(j, &why, e);
	if (record_submission(j->in->st, j->msg_id, "reunion", j->who.contact_id, j->who.city_id,
	    sp.unit, sp.title, j->now, sref, e) < 0 ||
	    meeting_create(j->in->st, &env, &sp, j->now, &id, ref, e) < 0)
		return -1;
	job_decide(j, MSG_RECORDED, "meeting %s scheduled (%s)", ref, sref);
	return scheduled(j, "meeting-scheduled", id, count_invited(j, id), e);
}

/* The coordination of the meeting's unit, its organiser or the secretariat. */
static int
may_change(struct job *j, int64_t id, struct err *e)
{
	static const char *const roles[] = { "coordinator", "subcoordinator" };
	char unit[64];
	int64_t organizer;
	int r;

	if ((r = meeting_owner(j->in->st, id, unit, &organizer, e)) <= 0)
		return r;
	if (organizer != 0 && organizer == j->who.contact_id)
		return 1;
	if ((r = sender_has_role(j->in->st, &j->who, NULL, NULL, "secretariat", e)) != 0)
		return r;
	for (size_t i = 0; i < 2; i++)
		if ((r = sender_has_role(j->in->st, &j->who, roles[i], unit, NULL, e)) != 0)
			return r;
	return 0;
}

struct current {
	time_t start, end;
	char tzid[64];
	int cancelled;
};

static int
current_of(struct job *j, int64_t id, struct current *c, struct err *e)
{
	sqlite3_stmt *s = NULL;
	int r;

	if (sqlite3_prepare_v2(store_db(j->in->st), "SELECT start_at, end_at, tzid, "
	    "status = 'cancelled' FROM meetings WHERE id = ?", -1, &s, NULL) != SQLITE_OK)
		return err_set(e, "meetings: %s", sqlite3_errmsg(store_db(j->in->st)));
	sqlite3_bind_int64(s, 1, id);
	if ((r = sqlite3_step(s)) == SQLITE_ROW) {
		c->start = sqlite3_column_int64(s, 0);
		c->end = sqlite3_column_int64(s, 1);
		str_copy(c->tzid, (const char *)sqlite3_column_text(s, 2), sizeof c->tzid);
		c->cancelled = sqlite3_column_int(s, 3);
	}
	sqlite3_finalize(s);
	return r == SQLITE_ROW ? 0 : err_set(e, "meeting %lld vanished", (long long)id);
}

static int
change(struct job *j, int64_t id, struct err *e)
{
	struct meeting_change c = { .title = form_record_get(j->rec, "title"),
	    .location = form_record_get(j->rec, "location"),
	    .url = form_record_get(j->rec, "url"), .agenda = form_record_get(j->rec, "agenda"),
	    .tzid = form_record_get(j->rec, "timezone") };
	struct meeting_env env = env_of(j);
	struct current cur;
	struct err why;
	enum problem p;
	time_t start, end;

	if (current_of(j, id, &cur, e) < 0)
		return -1;
	if (cur.cancelled)
		return problem(j, "meeting-problem", P_CANCELLED, e);
	start = cur.start;
	end = cur.end;
	if (form_record_get(j->rec, "start") || form_record_get(j->rec, "end") ||
	    form_record_get(j->rec, "duration")) {
		if (times_of(j, c.tzid ? c.tzid : cur.tzid, &start, &end, &p) < 0)
			return problem(j, "meeting-problem", p, e);
		c.start = start;
		c.end = end;
	}
	if (meeting_check_change(j->in->st, id, &c, &why) < 0)
		return refused(j, &why, e);
	if (meeting_update(j->in->st, &env, id, &c, j->now, e) < 0)
		return -1;
	job_decide(j, MSG_RECORDED, "meeting %lld changed", (long long)id);
	return scheduled(j, "meeting-changed", id, 0, e);
}

static int
cancel(struct job *j, int64_t id, struct err *e)
{
	struct meeting_env env = env_of(j);
	struct current cur;
	struct mtg mt;

	if (current_of(j, id, &cur, e) < 0)
		return -1;
	if (cur.cancelled)
		return problem(j, "meeting-problem", P_CANCELLED, e);
	if (meeting_cancel(j->in->st, &env, id, j->now, e) < 0 || describe(j, id, &mt, e) < 0)
		return -1;
	job_decide(j, MSG_RECORDED, "meeting %s cancelled", mt.ref);
	job_lang(j);
	struct tvar tv[] = { TV("name", j->who.name), TV("title", mt.title),
	    TV("reference", mt.ref), TV("when", mt.when), TV("subject", j->m->subject) };
	return job_answer(j, "meeting-cancelled", tv, 5, e) < 0 ? -1 : 1;
}

int
ingest_meeting_form(struct job *j, struct err *e)
{
	int cancelling = strcmp(form_kind(j->form), "cancelacion") == 0;
	int64_t id = 0;
	int r;

	if ((r = named_meeting(j, &id, e)) < 0)
		return -1;
	if (r == 2 || (r == 0 && cancelling))
		return problem(j, "meeting-problem", P_UNKNOWN_MEETING, e);
	if (r == 0)
		return create(j, e);
	if ((r = may_change(j, id, e)) <= 0)
		return r < 0 ? -1 : problem(j, "meeting-problem", P_NOT_ALLOWED, e);
	return cancelling ? cancel(j, id, e) : change(j, id, e);
}
