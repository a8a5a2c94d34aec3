#include "buildconf.h"

/*
 * meeting — the meetings table and its attendees: who is invited, the
 * reference and UID, SEQUENCE and DTSTAMP, PARTSTATs. The mails are
 * written by invite.c; this file decides what they say.
 *
 * Values from a form or the command line are checked here before they are
 * stored: title, location and url are single lines (control characters,
 * CR and LF included, become spaces), the agenda keeps its line breaks,
 * the url must be http(s) and plain ASCII, and every value is valid UTF-8
 * of bounded length. ical and mailfmt escape again on output.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>

#include "auth.h"
#include "ical.h"
#include "invite.h"
#include "log.h"
#include "meeting.h"
#include "sender.h"
#include "text.h"

#define TITLE_MAX	200
#define LOCATION_MAX	300
#define URL_MAX		500
#define AGENDA_MAX	8000
#define ALARM_MAX	40320		/* four weeks, as [mail] alarm_minutes */
#define SEAT_ZONE	"America/Montevideo"	/* the network's seat: the last default */

/* ---- SQL helpers ---------------------------------------------------------- */

static int
prep(struct store *st, const char *sql, sqlite3_stmt **s, struct err *e)
{
	if (sqlite3_prepare_v2(store_db(st), sql, -1, s, NULL) != SQLITE_OK) {
		*s = NULL;
		return err_set(e, "meeting: %s", sqlite3_errmsg(store_db(st)));
	}
	return 0;
}

/* Finalize s and report the database's error: -1. */
static int
db_fail(struct store *st, sqlite3_stmt *s, struct err *e)
{
	err_set(e, "meeting: %s", sqlite3_errmsg(store_db(st)));
	sqlite3_finalize(s);
	return -1;
}

/* Step a statement that returns no row, then finalize it. 0 or -1. */
static int
step_done(struct store *st, sqlite3_stmt *s, struct err *e)
{
	if (sqlite3_step(s) != SQLITE_DONE)
		return db_fail(st, s, e);
	sqlite3_finalize(s);
	return 0;
}

static void
col_copy(sqlite3_stmt *s, int i, char *dst, size_t size)
{
	const unsigned char *v = sqlite3_column_text(s, i);

	snprintf(dst, size, "%s", v ? (const char *)v : "");
}

/* A copy of a text column, NULL for NULL (or out of memory). */
static char *
col_dup(sqlite3_stmt *s, int i)
{
	const unsigned char *v = sqlite3_column_text(s, i);

	return v ? strdup((const char *)v) : NULL;
}

/* Bind a text that may be NULL. */
static void
bind_opt(sqlite3_stmt *s, int i, const char *v)
{
	if (v != NULL && *v != '\0')
		sqlite3_bind_text(s, i, v, -1, SQLITE_TRANSIENT);
	else
		sqlite3_bind_null(s, i);
}

/* ---- values --------------------------------------------------------------- */

/*
 * A checked copy of v in *out (caller frees; NULL when v is NULL or blank).
 * Control characters become spaces, except LF in multi-line values (a CR
 * there is dropped); in a single line runs of blanks become one; the ends
 * are trimmed.
 */
static int
clean_value(const char *what, const char *v, size_t max, int multiline, char **out,
    struct err *e)
{
	size_t n, a = 0, b;
	char *c;

	*out = NULL;
	if (v == NULL)
		return 0;
	n = strlen(v);
	if (n > max)
		return err_set(e, "%s is too long (at most %zu bytes)", what, max);
	if (!text_utf8_valid(v, n))
		return err_set(e, "%s is not valid UTF-8", what);
	if ((c = malloc(n + 1)) == NULL)
		return err_set(e, "out of memory");
	for (size_t i = 0, j = 0; i <= n; i++) {
		unsigned char ch = (unsigned char)v[i];
		char o = i == n ? '\0' : (ch < 0x20 && !(multiline && ch == '\n')) ||
		    ch == 0x7f ? ' ' : (char)ch;
		if ((multiline && ch == '\r') || (!multiline && o == ' ' && j > 0 && c[j - 1] == ' '))
			continue;	/* one line: "a\r\nb" is "a b" */
		c[j++] = o;
	}
	while (c[a] == ' ' || c[a] == '\n')
		a++;
	b = strlen(c + a);
	while (b > 0 && (c[a + b - 1] == ' ' || c[a + b - 1] == '\n'))
		b--;
	memmove(c, c + a, b);
	c[b] = '\0';
	if (b == 0) {
		free(c);
		return 0;
	}
	*out = c;
	return 0;
}

/* An online link: http(s), printable ASCII without blanks, quotes or <>. */
static int
check_url(const char *u, struct err *e)
{
	if (u == NULL)
		return 0;
	if (strncasecmp(u, "https://", 8) != 0 && strncasecmp(u, "http://", 7) != 0)
		return err_set(e, "the online link must start with https:// or http://");
	for (const char *p = u; *p; p++)
		if ((unsigned char)*p <= 0x20 || (unsigned char)*p >= 0x7f || strchr("\"<>\\`", *p))
			return err_set(e, "the online link has a character links cannot have");
	return 0;
}

/* The text values of a meeting, cleaned. */
struct texts {
	char *title, *location, *url, *agenda;
};

static void
texts_free(struct texts *t)
{
	free(t->title);
	free(t->location);
	free(t->url);
	free(t->agenda);
	memset(t, 0, sizeof *t);
}

static int
texts_set(struct texts *t, const char *title, const char *location, const char *url,
    const char *agenda, struct err *e)
{
	if (clean_value("the title", title, TITLE_MAX, 0, &t->title, e) < 0 ||
	    clean_value("the place", location, LOCATION_MAX, 0, &t->location, e) < 0 ||
	    clean_value("the online link", url, URL_MAX, 0, &t->url, e) < 0 ||
	    clean_value("the agenda", agenda, AGENDA_MAX, 1, &t->agenda, e) < 0 ||
	    check_url(t->url, e) < 0)
		return -1;
	if (t->title == NULL)
		return err_set(e, "the meeting has no title");
	if (t->location == NULL && t->url == NULL)
		return err_set(e, "the meeting needs a place or an online link");
	return 0;
}

static int
check_times(time_t start, time_t end, const char *tzid, struct err *e)
{
	if (end <= start)
		return err_set(e, "the meeting must end after it starts");
	if (end - start > 14 * 86400)
		return err_set(e, "a meeting of more than two weeks is not a meeting");
	if (!ical_zone_known(tzid))
		return err_set(e, "unknown time zone \"%.64s\"", tzid);
	return 0;
}

/* ---- the stored meeting --------------------------------------------------- */

struct row {
	int64_t id, unit_id, organizer_id, message_id;
	char uid[256], ref[32], tzid[64], status[16], slug[64];
	char unit_es[256], unit_pt[256];
	char org_addr[256], org_name[192];
	struct texts t;
	time_t start, end, changed;
	int sequence, alarm;
};

/* "name, city", or whichever of them there is. */
static void
display_name(const char *name, const char *city, char *out, size_t size)
{
	if (name[0] && city[0])
		snprintf(out, size, "%.95s, %.90s", name, city);
	else
		snprintf(out, size, "%s", name[0] ? name : city);
}

/* 1 loaded, 0 no such meeting, -1 error. */
static int
row_load(struct store *st, int64_t id, struct row *r, struct err *e)
{
	sqlite3_stmt *s;
	char kname[128], kcity[128];
	int rc;

	memset(r, 0, sizeof *r);
	if (prep(st, "SELECT m.id, m.uid, COALESCE(m.reference, ''), m.unit_id,"
	    " COALESCE(m.organizer_id, 0), COALESCE(m.message_id, 0), m.title, m.start_at,"
	    " m.end_at, m.tzid, m.location, m.url, m.agenda, m.sequence, m.status,"
	    " m.alarm_minutes, m.changed_at, u.slug, u.name_es, u.name_pt, k.address, k.name,"
	    " ci.name FROM meetings m JOIN units u ON u.id = m.unit_id"
	    " LEFT JOIN contacts k ON k.id = m.organizer_id"
	    " LEFT JOIN cities ci ON ci.id = k.city_id WHERE m.id = ?1", &s, e) < 0)
		return -1;
	sqlite3_bind_int64(s, 1, id);
	if ((rc = sqlite3_step(s)) != SQLITE_ROW) {
		if (rc != SQLITE_DONE)
			return db_fail(st, s, e);
		sqlite3_finalize(s);
		return 0;
	}
	r->id = sqlite3_column_int64(s, 0);
	col_copy(s, 1, r->uid, sizeof r->uid);
	col_copy(s, 2, r->ref, sizeof r->ref);
	r->unit_id = sqlite3_column_int64(s, 3);
	r->organizer_id = sqlite3_column_int64(s, 4);
	r->message_id = sqlite3_column_int64(s, 5);
	r->t.title = col_dup(s, 6);
	r->start = (time_t)sqlite3_column_int64(s, 7);
	r->end = (time_t)sqlite3_column_int64(s, 8);
	col_copy(s, 9, r->tzid, sizeof r->tzid);
	r->t.location = col_dup(s, 10);
	r->t.url = col_dup(s, 11);
	r->t.agenda = col_dup(s, 12);
	r->sequence = sqlite3_column_int(s, 13);
	col_copy(s, 14, r->status, sizeof r->status);
	r->alarm = sqlite3_column_int(s, 15);
	r->changed = (time_t)sqlite3_column_int64(s, 16);
	col_copy(s, 17, r->slug, sizeof r->slug);
	col_copy(s, 18, r->unit_es, sizeof r->unit_es);
	col_copy(s, 19, r->unit_pt, sizeof r->unit_pt);
	col_copy(s, 20, r->org_addr, sizeof r->org_addr);
	col_copy(s, 21, kname, sizeof kname);
	col_copy(s, 22, kcity, sizeof kcity);
	display_name(kname, kcity, r->org_name, sizeof r->org_name);
	sqlite3_finalize(s);
	if (r->t.title == NULL) {
		texts_free(&r->t);
		return err_set(e, "out of memory");
	}
	return 1;
}

/* Like row_load, but "no such meeting" is an error too. */
static int
row_get(struct store *st, int64_t id, struct row *r, struct err *e)
{
	int rc = row_load(st, id, r, e);

	if (rc == 0)
		err_set(e, "no meeting %lld", (long long)id);
	return rc > 0 ? 0 : -1;
}

static void
to_invite(const struct row *r, struct invite_meeting *m)
{
	*m = (struct invite_meeting){ .id = r->id, .message_id = r->message_id,
	    .reference = r->ref, .uid = r->uid, .title = r->t.title, .tzid = r->tzid,
	    .location = r->t.location, .url = r->t.url, .agenda = r->t.agenda,
	    .unit_es = r->unit_es, .unit_pt = r->unit_pt,
	    .organizer = r->org_addr[0] ? r->org_addr : NULL,
	    .organizer_name = r->org_name[0] ? r->org_name : NULL,
	    .start = r->start, .end = r->end, .changed = r->changed,
	    .sequence = r->sequence, .alarm_minutes = r->alarm };
}

static const char *
actor(const struct meeting_env *env)
{
	return env->actor ? env->actor : "daemon";
}

static int
audit(struct store *st, const struct meeting_env *env, const struct row *r,
    const char *action, time_t now, struct err *e)
{
	char detail[320];

	snprintf(detail, sizeof detail, "uid=%s sequence=%d status=%s", r->uid, r->sequence,
	    r->status);
	return store_audit(st, now, actor(env), action, r->ref, detail, e);
}

/* ---- invitees ------------------------------------------------------------- */

struct people {
	struct invite_person *v;
	size_t n, cap;
};

static struct invite_person *
people_find(struct people *pl, const char *address)
{
	for (size_t i = 0; i < pl->n; i++)
		if (strcasecmp(pl->v[i].address, address) == 0)
			return &pl->v[i];
	return NULL;
}

/* Add p unless its address is there already (the first one wins). */
static int
people_add(struct people *pl, const struct invite_person *p, struct err *e)
{
	if (people_find(pl, p->address) != NULL)
		return 0;
	if (pl->n == pl->cap) {
		size_t cap = pl->cap ? pl->cap * 2 : 32;
		struct invite_person *v = realloc(pl->v, cap * sizeof *v);
		if (v == NULL)
			return err_set(e, "out of memory");
		pl->v = v;
		pl->cap = cap;
	}
	pl->v[pl->n++] = *p;
	return 0;
}

/* A person from a contact row: id, address, name, lang, city id, city name. */
static int
person_from_row(sqlite3_stmt *s, const char *role, struct invite_person *p)
{
	char name[128], city[128], addr[256];

	memset(p, 0, sizeof *p);
	col_copy(s, 1, addr, sizeof addr);
	if (auth_normalize_address(addr, p->address, sizeof p->address) < 0)
		return -1;		/* the roster checks addresses: should not happen */
	p->contact_id = sqlite3_column_int64(s, 0);
	col_copy(s, 2, name, sizeof name);
	col_copy(s, 3, p->lang, sizeof p->lang);
	p->city_id = sqlite3_column_int64(s, 4);
	col_copy(s, 5, city, sizeof city);
	display_name(name, city, p->name, sizeof p->name);
	snprintf(p->role, sizeof p->role, "%s", role);
	strcpy(p->partstat, "NEEDS-ACTION");
	if (strcmp(p->lang, "pt") != 0)
		strcpy(p->lang, "es");
	return 0;
}

#define CONTACT_COLS "k.id, k.address, COALESCE(k.name, ''), k.lang, ci.id, ci.name"

/* Every contact of every member city. Without an organiser the coordinator
 * city's contacts chair the meeting. */
static int
add_members(struct store *st, int64_t unit_id, int64_t organizer_id, struct people *pl,
    struct err *e)
{
	sqlite3_stmt *s;
	struct invite_person p;
	int rc;

	if (prep(st, "SELECT " CONTACT_COLS ", m.role FROM unit_members m"
	    " JOIN cities ci ON ci.id = m.city_id JOIN contacts k ON k.city_id = ci.id"
	    " WHERE m.unit_id = ?1 ORDER BY CASE m.role WHEN 'coordinator' THEN 0"
	    " WHEN 'subcoordinator' THEN 1 ELSE 2 END, ci.name, k.address", &s, e) < 0)
		return -1;
	sqlite3_bind_int64(s, 1, unit_id);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		const char *mrole = (const char *)sqlite3_column_text(s, 6);
		int chair = organizer_id ? sqlite3_column_int64(s, 0) == organizer_id :
		    strcmp(mrole, "coordinator") == 0;

		if (person_from_row(s, chair ? "CHAIR" : "REQ-PARTICIPANT", &p) == 0 &&
		    people_add(pl, &p, e) < 0) {
			sqlite3_finalize(s);
			return -1;
		}
	}
	if (rc != SQLITE_DONE)
		return db_fail(st, s, e);
	sqlite3_finalize(s);
	return 0;
}

/* The contacts with this id, or of this city (?1). */
#define CONTACTS_WHERE "SELECT " CONTACT_COLS " FROM contacts k" \
	" LEFT JOIN cities ci ON ci.id = k.city_id WHERE "
#define BY_CONTACT	CONTACTS_WHERE "k.id = ?1"
#define BY_CITY		CONTACTS_WHERE "k.city_id = ?1 ORDER BY k.address"

/* Contacts chosen by sql (BY_CONTACT, BY_CITY) with v bound, with role. */
static int
add_contacts(struct store *st, const char *sql, int64_t v, const char *role,
    struct people *pl, size_t *added, struct err *e)
{
	sqlite3_stmt *s;
	struct invite_person p;
	int rc;

	if (prep(st, sql, &s, e) < 0)
		return -1;
	sqlite3_bind_int64(s, 1, v);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		if (person_from_row(s, role, &p) < 0)
			continue;
		if (people_add(pl, &p, e) < 0) {
			sqlite3_finalize(s);
			return -1;
		}
		(*added)++;
	}
	if (rc != SQLITE_DONE)
		return db_fail(st, s, e);
	sqlite3_finalize(s);
	return 0;
}

/* An extra address: a contact when the roster has it, else a guest in the
 * network's default language (Portuguese for a .br address). */
static int
add_address(struct store *st, const struct meeting_env *env, const char *x,
    struct people *pl, struct err *e)
{
	struct invite_person p = { 0 };
	struct sender who;
	const char *d;
	size_t added = 0;
	int rc;

	if (auth_normalize_address(x, p.address, sizeof p.address) < 0)
		return err_set(e, "\"%.64s\" is not an e-mail address", x);
	if ((rc = sender_lookup(st, p.address, &who, e)) < 0)
		return -1;
	if (rc > 0)
		return add_contacts(st, BY_CONTACT, who.contact_id, "OPT-PARTICIPANT", pl,
		    &added, e);
	d = auth_address_domain(p.address);
	snprintf(p.lang, sizeof p.lang, "%s", d && strlen(d) > 3 &&
	    strcasecmp(d + strlen(d) - 3, ".br") == 0 ? "pt" : env->cfg->mail.default_lang);
	strcpy(p.role, "OPT-PARTICIPANT");
	strcpy(p.partstat, "NEEDS-ACTION");
	return people_add(pl, &p, e);
}

/* An extra city (accents and case do not matter): all of its contacts. */
static int
add_city(struct store *st, const char *x, struct people *pl, struct err *e)
{
	sqlite3_stmt *s;
	size_t added = 0;
	int rc, found = 0;

	if (prep(st, "SELECT id, name FROM cities ORDER BY id", &s, e) < 0)
		return -1;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		if (!text_fold_eq((const char *)sqlite3_column_text(s, 1), x))
			continue;
		found = 1;
		if (add_contacts(st, BY_CITY, sqlite3_column_int64(s, 0),
		    "OPT-PARTICIPANT", pl, &added, e) < 0) {
			sqlite3_finalize(s);
			return -1;
		}
	}
	if (rc != SQLITE_DONE)
		return db_fail(st, s, e);
	sqlite3_finalize(s);
	if (!found)
		return err_set(e, "no city \"%.64s\" in the roster", x);
	if (added == 0)
		return err_set(e, "the roster has no contact for %.64s", x);
	return 0;
}

/* The organiser chairs, invited or not. */
static int
add_organizer(struct store *st, int64_t organizer_id, struct people *pl, struct err *e)
{
	struct sender who;
	struct invite_person *p;
	size_t added = 0;
	int rc;

	if (organizer_id == 0)
		return 0;
	if ((rc = sender_by_contact(st, organizer_id, &who, e)) <= 0)
		return rc < 0 ? -1 : err_set(e, "no contact %lld", (long long)organizer_id);
	if ((p = people_find(pl, who.address)) != NULL) {
		strcpy(p->role, "CHAIR");
		return 0;
	}
	return add_contacts(st, BY_CONTACT, organizer_id, "CHAIR", pl, &added, e);
}

static int
collect(struct store *st, const struct meeting_env *env, const struct meeting_spec *sp,
    int64_t unit_id, struct people *pl, struct err *e)
{
	if (add_members(st, unit_id, sp->organizer_id, pl, e) < 0 ||
	    add_organizer(st, sp->organizer_id, pl, e) < 0)
		return -1;
	for (size_t i = 0; i < sp->nextra; i++) {
		const char *x = sp->extra[i];
		if ((strchr(x, '@') ? add_address(st, env, x, pl, e) : add_city(st, x, pl, e)) < 0)
			return -1;
	}
	if (pl->n == 0)
		return err_set(e, "nobody to invite: the unit has no members with contacts");
	return 0;
}

static int
save_people(struct store *st, int64_t id, const struct people *pl, struct err *e)
{
	sqlite3_stmt *s;

	if (prep(st, "INSERT INTO meeting_attendees (meeting_id, address, contact_id, city_id,"
	    " name, lang, role) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)", &s, e) < 0)
		return -1;
	for (size_t i = 0; i < pl->n; i++) {
		const struct invite_person *p = &pl->v[i];
		sqlite3_bind_int64(s, 1, id);
		sqlite3_bind_text(s, 2, p->address, -1, SQLITE_STATIC);
		if (p->contact_id)
			sqlite3_bind_int64(s, 3, p->contact_id);
		else
			sqlite3_bind_null(s, 3);
		if (p->city_id)
			sqlite3_bind_int64(s, 4, p->city_id);
		else
			sqlite3_bind_null(s, 4);
		bind_opt(s, 5, p->name);
		sqlite3_bind_text(s, 6, p->lang, -1, SQLITE_STATIC);
		sqlite3_bind_text(s, 7, p->role, -1, SQLITE_STATIC);
		if (sqlite3_step(s) != SQLITE_DONE)
			return db_fail(st, s, e);
		sqlite3_reset(s);
	}
	sqlite3_finalize(s);
	return 0;
}

static int
load_people(struct store *st, int64_t id, struct people *pl, struct err *e)
{
	sqlite3_stmt *s;
	struct invite_person p;
	int rc;

	if (prep(st, "SELECT COALESCE(contact_id, 0), address, COALESCE(name, ''), lang,"
	    " COALESCE(city_id, 0), role, partstat FROM meeting_attendees"
	    " WHERE meeting_id = ?1 ORDER BY rowid", &s, e) < 0)
		return -1;
	sqlite3_bind_int64(s, 1, id);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		memset(&p, 0, sizeof p);
		p.contact_id = sqlite3_column_int64(s, 0);
		col_copy(s, 1, p.address, sizeof p.address);
		col_copy(s, 2, p.name, sizeof p.name);
		col_copy(s, 3, p.lang, sizeof p.lang);
		p.city_id = sqlite3_column_int64(s, 4);
		col_copy(s, 5, p.role, sizeof p.role);
		col_copy(s, 6, p.partstat, sizeof p.partstat);
		if (people_add(pl, &p, e) < 0) {
			sqlite3_finalize(s);
			return -1;
		}
	}
	if (rc != SQLITE_DONE)
		return db_fail(st, s, e);
	sqlite3_finalize(s);
	return 0;
}

/* Send kind to everyone invited to r. */
static int
send_all(struct store *st, const struct meeting_env *env, const struct row *r,
    enum invite_kind kind, unsigned changes, time_t now, struct err *e)
{
	struct people pl = { 0 };
	struct invite_meeting m;
	int rc;

	to_invite(r, &m);
	m.changes = changes;
	rc = load_people(st, r->id, &pl, e) < 0 ? -1 :
	    invite_queue(st, env, &m, pl.v, pl.n, kind, now, e);
	free(pl.v);
	return rc;
}

/* ---- create --------------------------------------------------------------- */

/* The unit's id by slug, else by its name in either language. */
static int
find_unit(struct store *st, const char *name, int64_t *id, struct err *e)
{
	sqlite3_stmt *s;
	int rc, found = 0;

	if (name == NULL)
		return err_set(e, "which unit or body?");
	if (prep(st, "SELECT id, slug, name_es, name_pt FROM units ORDER BY slug = ?1 DESC, id",
	    &s, e) < 0)
		return -1;
	sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
	while (!found && (rc = sqlite3_step(s)) == SQLITE_ROW) {
		for (int i = 1; i <= 3 && !found; i++)
			found = text_fold_eq((const char *)sqlite3_column_text(s, i), name);
		if (found)
			*id = sqlite3_column_int64(s, 0);
	}
	if (!found && rc != SQLITE_DONE)
		return db_fail(st, s, e);
	sqlite3_finalize(s);
	return found ? 0 : err_set(e, "no unit or body \"%.64s\"", name);
}

/* The zone: the one given, else the organiser city's, else the seat's. */
static int
pick_zone(struct store *st, const struct meeting_spec *sp, char tzid[64], struct err *e)
{
	sqlite3_stmt *s;

	snprintf(tzid, 64, "%s", sp->tzid ? sp->tzid : SEAT_ZONE);
	if (sp->tzid != NULL || sp->organizer_id == 0)
		return 0;
	if (prep(st, "SELECT ci.timezone FROM contacts k JOIN cities ci ON ci.id = k.city_id"
	    " WHERE k.id = ?1", &s, e) < 0)
		return -1;
	sqlite3_bind_int64(s, 1, sp->organizer_id);
	if (sqlite3_step(s) == SQLITE_ROW)
		col_copy(s, 0, tzid, 64);
	sqlite3_finalize(s);
	return 0;
}

/* RE-YYYY-NNNN: the year of creation and the next number of that year. */
static int
next_reference(struct store *st, time_t now, char ref[32], struct err *e)
{
	sqlite3_stmt *s;
	char like[24];	/* room for any int year: -Wformat-truncation */
	struct tm tm;
	long long n = 1;

	gmtime_r(&now, &tm);
	snprintf(like, sizeof like, "RE-%04d-%%", tm.tm_year + 1900);
	if (prep(st, "SELECT COALESCE(MAX(CAST(substr(reference, 9) AS INTEGER)), 0) + 1"
	    " FROM meetings WHERE reference LIKE ?1", &s, e) < 0)
		return -1;
	sqlite3_bind_text(s, 1, like, -1, SQLITE_STATIC);
	if (sqlite3_step(s) != SQLITE_ROW)
		return db_fail(st, s, e);
	n = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	snprintf(ref, 32, "RE-%04d-%04lld", tm.tm_year + 1900, n);
	return 0;
}

/* "re-2026-0001-<16 random hex>@domain": stable for the meeting's life,
 * unique, and says nothing a stranger could guess. */
static int
make_uid(const char *ref, const char *from, char *uid, size_t size, struct err *e)
{
	const char *at = from ? strrchr(from, '@') : NULL;
	unsigned char r[8];
	char hex[17];
	size_t n;

	if (at == NULL)
		return err_set(e, "invites need [smtp] from");
	if (gnutls_rnd(GNUTLS_RND_NONCE, r, sizeof r) != 0)
		return err_set(e, "no random bytes for the UID");
	for (size_t i = 0; i < sizeof r; i++)
		snprintf(hex + 2 * i, 3, "%02x", r[i]);
	n = (size_t)snprintf(uid, size, "%s-%s%s", ref, hex, at);
	for (size_t i = 0; i < n && uid[i] != '@'; i++)
		uid[i] = (char)(uid[i] >= 'A' && uid[i] <= 'Z' ? uid[i] - 'A' + 'a' : uid[i]);
	return 0;
}

static int
insert_meeting(struct store *st, const struct meeting_spec *sp, const struct texts *t,
    int64_t unit_id, const char *tzid, int alarm, const char *uid, const char *ref,
    time_t now, int64_t *id, struct err *e)
{
	sqlite3_stmt *s;

	if (prep(st, "INSERT INTO meetings (uid, reference, unit_id, organizer_id, message_id,"
	    " title, start_at, end_at, tzid, location, url, agenda, alarm_minutes, created_at,"
	    " changed_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14,"
	    " ?14)", &s, e) < 0)
		return -1;
	sqlite3_bind_text(s, 1, uid, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, ref, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 3, unit_id);
	if (sp->organizer_id)
		sqlite3_bind_int64(s, 4, sp->organizer_id);
	if (sp->message_id)
		sqlite3_bind_int64(s, 5, sp->message_id);
	sqlite3_bind_text(s, 6, t->title, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 7, sp->start);
	sqlite3_bind_int64(s, 8, sp->end);
	sqlite3_bind_text(s, 9, tzid, -1, SQLITE_STATIC);
	bind_opt(s, 10, t->location);
	bind_opt(s, 11, t->url);
	bind_opt(s, 12, t->agenda);
	sqlite3_bind_int(s, 13, alarm);
	sqlite3_bind_int64(s, 14, now);
	if (step_done(st, s, e) < 0)
		return -1;
	*id = sqlite3_last_insert_rowid(store_db(st));
	return 0;
}

static int
alarm_of(const struct meeting_env *env, const struct meeting_spec *sp, struct err *e)
{
	if (sp->alarm_minutes < 0)
		return env->cfg->mail.alarm_minutes;
	if (sp->alarm_minutes > ALARM_MAX)
		return err_set(e, "the reminder may be at most %d minutes before", ALARM_MAX);
	return sp->alarm_minutes;
}

/* What meeting_create checks and gathers before it writes anything. */
struct plan {
	struct texts t;
	struct people pl;
	char tzid[64];
	int64_t unit_id;
	int alarm;
};

static void
plan_free(struct plan *p)
{
	texts_free(&p->t);
	free(p->pl.v);
}

static int
plan_make(struct store *st, const struct meeting_env *env, const struct meeting_spec *sp,
    struct plan *p, struct err *e)
{
	memset(p, 0, sizeof *p);
	ical_init();
	if (texts_set(&p->t, sp->title, sp->location, sp->url, sp->agenda, e) < 0 ||
	    (p->alarm = alarm_of(env, sp, e)) < 0 || find_unit(st, sp->unit, &p->unit_id, e) < 0 ||
	    pick_zone(st, sp, p->tzid, e) < 0 || check_times(sp->start, sp->end, p->tzid, e) < 0)
		return -1;
	return collect(st, env, sp, p->unit_id, &p->pl, e);
}

int
meeting_check(struct store *st, const struct meeting_env *env, const struct meeting_spec *sp,
    struct err *e)
{
	struct plan p;
	int rc = plan_make(st, env, sp, &p, e);

	plan_free(&p);
	return rc;
}

int
meeting_create(struct store *st, const struct meeting_env *env,
    const struct meeting_spec *sp, time_t now, int64_t *id, char ref[32], struct err *e)
{
	struct plan p;
	struct row r;
	char uid[256];
	int rc = -1;

	if (plan_make(st, env, sp, &p, e) < 0 || next_reference(st, now, ref, e) < 0 ||
	    make_uid(ref, env->cfg->smtp.from, uid, sizeof uid, e) < 0 ||
	    insert_meeting(st, sp, &p.t, p.unit_id, p.tzid, p.alarm, uid, ref, now, id, e) < 0 ||
	    save_people(st, *id, &p.pl, e) < 0 || row_get(st, *id, &r, e) < 0)
		goto done;
	if (send_all(st, env, &r, INVITE_NEW, 0, now, e) == 0 &&
	    audit(st, env, &r, "meeting.create", now, e) == 0) {
		log_info("event=meeting action=create ref=%s uid=%s unit=%s invitees=%zu", r.ref,
		    r.uid, r.slug, p.pl.n);
		rc = 0;
	}
	texts_free(&r.t);
done:
	plan_free(&p);
	return rc;
}

/* ---- update and cancel ---------------------------------------------------- */

static int
same(const char *a, const char *b)
{
	return (a == NULL && b == NULL) || (a && b && strcmp(a, b) == 0);
}

/* The new value of a text field: the change when given ("" clears). */
static const char *
pick(const char *change, const char *old)
{
	return change != NULL ? change : old;
}

static int
store_change(struct store *st, const struct row *r, int reset, struct err *e)
{
	sqlite3_stmt *s;

	if (prep(st, "UPDATE meetings SET title = ?2, start_at = ?3, end_at = ?4, tzid = ?5,"
	    " location = ?6, url = ?7, agenda = ?8, sequence = ?9, status = ?10,"
	    " changed_at = ?11 WHERE id = ?1", &s, e) < 0)
		return -1;
	sqlite3_bind_int64(s, 1, r->id);
	sqlite3_bind_text(s, 2, r->t.title, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 3, r->start);
	sqlite3_bind_int64(s, 4, r->end);
	sqlite3_bind_text(s, 5, r->tzid, -1, SQLITE_STATIC);
	bind_opt(s, 6, r->t.location);
	bind_opt(s, 7, r->t.url);
	bind_opt(s, 8, r->t.agenda);
	sqlite3_bind_int(s, 9, r->sequence);
	sqlite3_bind_text(s, 10, r->status, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 11, r->changed);
	if (step_done(st, s, e) < 0)
		return -1;
	if (!reset)
		return 0;
	if (prep(st, "UPDATE meeting_attendees SET partstat = 'NEEDS-ACTION', answered_at = NULL,"
	    " answer_via = NULL WHERE meeting_id = ?1", &s, e) < 0)
		return -1;
	sqlite3_bind_int64(s, 1, r->id);
	return step_done(st, s, e);
}

/* Apply c to r (cleaned and checked); *chg gets the INVITE_CHG_* bits. */
static int
apply(struct row *r, const struct meeting_change *c, unsigned *chg, struct err *e)
{
	struct texts t = { 0 };
	time_t start = c->start ? c->start : r->start, end = c->end ? c->end : r->end;
	const char *tzid = c->tzid ? c->tzid : r->tzid;

	if (texts_set(&t, pick(c->title, r->t.title), pick(c->location, r->t.location),
	    pick(c->url, r->t.url), pick(c->agenda, r->t.agenda), e) < 0 ||
	    check_times(start, end, tzid, e) < 0) {
		texts_free(&t);
		return -1;
	}
	*chg = (start != r->start || end != r->end ? INVITE_CHG_TIME : 0) |
	    (!same(t.location, r->t.location) || !same(t.url, r->t.url) ? INVITE_CHG_PLACE : 0) |
	    (!same(t.title, r->t.title) ? INVITE_CHG_TITLE : 0) |
	    (!same(t.agenda, r->t.agenda) ? INVITE_CHG_AGENDA : 0);
	texts_free(&r->t);
	r->t = t;
	r->start = start;
	r->end = end;
	if (c->tzid != NULL)
		snprintf(r->tzid, sizeof r->tzid, "%s", c->tzid);
	return 0;
}

int
meeting_check_change(struct store *st, int64_t id, const struct meeting_change *c,
    struct err *e)
{
	struct row r;
	unsigned chg;
	int rc = -1;

	ical_init();
	if (row_get(st, id, &r, e) < 0)
		return -1;
	if (strcmp(r.status, "cancelled") == 0)
		err_set(e, "meeting %s was cancelled: it cannot change", r.ref);
	else
		rc = apply(&r, c, &chg, e);
	texts_free(&r.t);
	return rc;
}

int
meeting_update(struct store *st, const struct meeting_env *env, int64_t id,
    const struct meeting_change *c, time_t now, struct err *e)
{
	struct row r;
	unsigned chg = 0;
	int major, rc = -1;

	ical_init();
	if (row_get(st, id, &r, e) < 0)
		return -1;
	if (strcmp(r.status, "cancelled") == 0) {
		err_set(e, "meeting %s was cancelled: it cannot change", r.ref);
		goto done;
	}
	if (apply(&r, c, &chg, e) < 0)
		goto done;
	/* RFC 5546: a new time or place is a new version the attendees must
	 * see again; other edits only refresh DTSTAMP */
	major = (chg & (INVITE_CHG_TIME | INVITE_CHG_PLACE)) != 0;
	r.sequence += major;
	r.changed = now;
	if (store_change(st, &r, major, e) == 0 &&
	    send_all(st, env, &r, INVITE_UPDATE, chg, now, e) == 0 &&
	    audit(st, env, &r, "meeting.update", now, e) == 0)
		rc = 0;
	if (rc == 0)
		log_info("event=meeting action=update ref=%s uid=%s sequence=%d changes=%u",
		    r.ref, r.uid, r.sequence, chg);
done:
	texts_free(&r.t);
	return rc;
}

int
meeting_cancel(struct store *st, const struct meeting_env *env, int64_t id, time_t now,
    struct err *e)
{
	struct row r;
	int rc = -1;

	ical_init();
	if (row_get(st, id, &r, e) < 0)
		return -1;
	if (strcmp(r.status, "cancelled") == 0) {
		err_set(e, "meeting %s is already cancelled", r.ref);
		goto done;
	}
	r.sequence++;
	r.changed = now;
	strcpy(r.status, "cancelled");
	if (store_change(st, &r, 0, e) == 0 &&
	    send_all(st, env, &r, INVITE_CANCEL, 0, now, e) == 0 &&
	    audit(st, env, &r, "meeting.cancel", now, e) == 0)
		rc = 0;
	if (rc == 0)
		log_info("event=meeting action=cancel ref=%s uid=%s sequence=%d", r.ref, r.uid,
		    r.sequence);
done:
	texts_free(&r.t);
	return rc;
}

/* ---- answers and look-ups ------------------------------------------------- */

static int
in_list(const char *v, const char *const *list)
{
	for (; v != NULL && *list != NULL; list++)
		if (strcmp(v, *list) == 0)
			return 1;
	return 0;
}

/* 1 and the status when the meeting exists, 0 if not, -1 error. */
static int
status_of(struct store *st, int64_t id, char status[16], char ref[32], struct err *e)
{
	sqlite3_stmt *s;
	int rc;

	if (prep(st, "SELECT status, COALESCE(reference, '') FROM meetings WHERE id = ?1",
	    &s, e) < 0)
		return -1;
	sqlite3_bind_int64(s, 1, id);
	if ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		col_copy(s, 0, status, 16);
		col_copy(s, 1, ref, 32);
	} else if (rc != SQLITE_DONE) {
		return db_fail(st, s, e);
	}
	sqlite3_finalize(s);
	return rc == SQLITE_ROW;
}

int
meeting_rsvp(struct store *st, int64_t id, const char *address, const char *partstat,
    const char *via, time_t now, struct err *e)
{
	static const char *const partstats[] = { "ACCEPTED", "DECLINED", "TENTATIVE",
	    "DELEGATED", NULL };
	static const char *const vias[] = { "itip", "words", "cli", NULL };
	char addr[256], status[16], ref[32], detail[400];
	sqlite3_stmt *s;
	int rc;

	if (!in_list(partstat, partstats) || !in_list(via, vias))
		return err_set(e, "meeting: bad answer %s via %s", partstat ? partstat : "-",
		    via ? via : "-");
	if (address == NULL || auth_normalize_address(address, addr, sizeof addr) < 0)
		return RSVP_NOT_INVITED;
	if ((rc = status_of(st, id, status, ref, e)) <= 0)
		return rc < 0 ? -1 : RSVP_NOT_INVITED;
	if (strcmp(status, "cancelled") == 0)
		return RSVP_CANCELLED;
	if (prep(st, "UPDATE meeting_attendees SET partstat = ?3, answered_at = ?4,"
	    " answer_via = ?5 WHERE meeting_id = ?1 AND address = ?2", &s, e) < 0)
		return -1;
	sqlite3_bind_int64(s, 1, id);
	sqlite3_bind_text(s, 2, addr, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 3, partstat, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 4, now);
	sqlite3_bind_text(s, 5, via, -1, SQLITE_STATIC);
	if (step_done(st, s, e) < 0)
		return -1;
	if (sqlite3_changes(store_db(st)) == 0)
		return RSVP_NOT_INVITED;
	snprintf(detail, sizeof detail, "address=%s partstat=%s via=%s", addr, partstat, via);
	if (store_audit(st, now, addr, "meeting.rsvp", ref, detail, e) < 0)
		return -1;
	log_info("event=rsvp ref=%s %s", ref, detail);
	return RSVP_RECORDED;
}

int
meeting_find(struct store *st, const char *name, int64_t *id, struct err *e)
{
	sqlite3_stmt *s;
	long long num = 0;
	char *end;
	int rc;

	if (name == NULL || *name == '\0')
		return 0;
	if (name[0] >= '0' && name[0] <= '9') {
		num = strtoll(name, &end, 10);
		if (*end != '\0')
			num = 0;
	}
	if (prep(st, "SELECT id FROM meetings WHERE reference = ?1 COLLATE NOCASE"
	    " OR uid = ?1 OR id = ?2", &s, e) < 0)
		return -1;
	sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, num);
	if ((rc = sqlite3_step(s)) == SQLITE_ROW)
		*id = sqlite3_column_int64(s, 0);
	else if (rc != SQLITE_DONE)
		return db_fail(st, s, e);
	sqlite3_finalize(s);
	return rc == SQLITE_ROW;
}

int
meeting_owner(struct store *st, int64_t id, char unit[64], int64_t *organizer_id,
    struct err *e)
{
	struct row r;
	int rc = row_load(st, id, &r, e);

	if (rc <= 0)
		return rc;
	snprintf(unit, 64, "%s", r.slug);
	*organizer_id = r.organizer_id;
	texts_free(&r.t);
	return 1;
}

int
meeting_times(struct store *st, int64_t id, time_t *start, time_t *end, char tzid[64],
    struct err *e)
{
	struct row r;
	int rc = row_load(st, id, &r, e);

	if (rc <= 0)
		return rc;
	*start = r.start;
	*end = r.end;
	snprintf(tzid, 64, "%s", r.tzid);
	texts_free(&r.t);
	return 1;
}

int
meeting_describe(struct store *st, int64_t id, char *title, size_t tsize,
    char ref[32], char *when, size_t wsize, struct err *e)
{
	struct row r;
	char local[32];
	int rc = row_load(st, id, &r, e);

	if (rc <= 0)
		return rc;
	ical_init();
	snprintf(title, tsize, "%s", r.t.title);
	snprintf(ref, 32, "%s", r.ref);
	if (ical_format_local(r.start, r.tzid, local, sizeof local) < 0)
		snprintf(when, wsize, "@%lld UTC", (long long)r.start);
	else
		snprintf(when, wsize, "%s %s", local, r.tzid);
	texts_free(&r.t);
	return 1;
}
