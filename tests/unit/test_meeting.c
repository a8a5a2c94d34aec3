#include "buildconf.h"

#define _POSIX_C_SOURCE 200809L	/* mkdtemp */

/*
 * meeting.c against a real (temporary) store and the shipped templates:
 * who is invited with which role, references and UIDs, the SEQUENCE and
 * DTSTAMP rules, answers, look-ups, and what is refused.
 */

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "config.h"
#include "ical.h"
#include "log.h"
#include "meeting.h"
#include "store.h"

#define NOW	1795000000	/* 2026-11-18 */
#define T0	1796385600	/* 2026-12-04 12:00 UTC */

struct fx {
	char dir[256], path[300];
	struct store *st;
	struct config *cfg;
	struct meeting_env env;
};

static const char roster[] =
	"INSERT INTO countries VALUES ('UY', 'Uruguay'), ('BR', 'Brasil'), ('AR', 'Argentina');"
	"INSERT INTO cities (id, name, country, lang, timezone) VALUES"
	" (1, 'Montevideo', 'UY', 'es', 'America/Montevideo'),"
	" (2, 'São Paulo', 'BR', 'pt', 'America/Sao_Paulo'),"
	" (3, 'Córdoba', 'AR', 'es', 'America/Argentina/Cordoba'),"
	" (4, 'Recife', 'BR', 'pt', 'America/Recife');"
	"INSERT INTO contacts (id, address, name, city_id, lang) VALUES"
	" (1, 'ri@montevideo.example', 'Intendente', 1, 'es'),"
	" (2, 'coop@montevideo.example', 'Cooperación', 1, 'es'),"
	" (3, 'gabinete@sp.example', 'Prefeito', 2, 'pt'),"
	" (4, 'intendencia@cordoba.example', 'Intendente', 3, 'es'),"
	" (5, 'gabinete@recife.example', 'Prefeito', 4, 'pt');"
	"INSERT INTO units (id, slug, kind, name_es, name_pt) VALUES"
	" (100, 'cultura', 'unit', 'Cultura', 'Cultura');"
	"INSERT INTO unit_members VALUES (100, 1, 'coordinator'), (100, 2, 'member');";

static int
setup(void **state)
{
	struct fx *fx = calloc(1, sizeof *fx);
	const char *tmp = getenv("TMPDIR"), *src = getenv("MERCOMAIL_SRCDIR");
	struct err e;
	char tpl[300];

	if (fx == NULL)
		return -1;
	snprintf(fx->dir, sizeof fx->dir, "%s/test_meeting.XXXXXX", tmp ? tmp : "/tmp");
	if (mkdtemp(fx->dir) == NULL)
		return -1;
	snprintf(fx->path, sizeof fx->path, "%s/m.db", fx->dir);
	if ((fx->st = store_open(fx->path, &e)) == NULL ||
	    sqlite3_exec(store_db(fx->st), roster, NULL, NULL, NULL) != SQLITE_OK)
		return -1;
	fx->cfg = config_defaults();
	snprintf(tpl, sizeof tpl, "%s/templates", src ? src : "..");
	free(fx->cfg->mail.templates);
	fx->cfg->mail.templates = strdup(tpl);
	fx->cfg->smtp.from = strdup("secretaria@red.test");
	fx->cfg->mail.name = strdup("Secretaría Ejecutiva");
	fx->env = (struct meeting_env){ fx->cfg, (const unsigned char *)"0123456789abcdef0123",
	    20, "test" };
	ical_init();
	log_set_level(LOG_LVL_WARN);
	*state = fx;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *fx = *state;

	store_close(fx->st);
	config_free(fx->cfg);
	unlink(fx->path);
	snprintf(fx->path, sizeof fx->path, "%s/m.db-wal", fx->dir);
	unlink(fx->path);
	snprintf(fx->path, sizeof fx->path, "%s/m.db-shm", fx->dir);
	unlink(fx->path);
	rmdir(fx->dir);
	free(fx);
	return 0;
}

/* One integer from a query. */
static long long
q(struct fx *fx, const char *sql)
{
	sqlite3_stmt *s;
	long long v = -1;

	assert_int_equal(sqlite3_prepare_v2(store_db(fx->st), sql, -1, &s, NULL), SQLITE_OK);
	if (sqlite3_step(s) == SQLITE_ROW)
		v = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	return v;
}

/* One text from a query, into a static buffer. */
static const char *
qs(struct fx *fx, const char *sql)
{
	static char buf[512];
	sqlite3_stmt *s;

	buf[0] = '\0';
	assert_int_equal(sqlite3_prepare_v2(store_db(fx->st), sql, -1, &s, NULL), SQLITE_OK);
	if (sqlite3_step(s) == SQLITE_ROW && sqlite3_column_text(s, 0))
		snprintf(buf, sizeof buf, "%s", (const char *)sqlite3_column_text(s, 0));
	sqlite3_finalize(s);
	return buf;
}

static struct meeting_spec
spec(void)
{
	return (struct meeting_spec){ .unit = "cultura", .title = "Reunión", .start = T0,
	    .end = T0 + 5400, .location = "Sala 1", .alarm_minutes = -1 };
}

static int64_t
create(struct fx *fx, const struct meeting_spec *sp, char ref[32])
{
	struct err e = { "" };
	int64_t id = 0;

	if (meeting_create(fx->st, &fx->env, sp, NOW, &id, ref, &e) < 0)
		fail_msg("meeting_create: %s", e.msg);
	return id;
}

static void
test_invitees_and_roles(void **state)
{
	struct fx *fx = *state;
	const char *extra[] = { "São Paulo", "RI@Montevideo.example", "guest@ong.com.br",
	    "cordoba" };
	struct meeting_spec sp = spec();
	char ref[32];
	int64_t id;

	sp.extra = extra;
	sp.nextra = 4;
	id = create(fx, &sp, ref);
	assert_string_equal(ref, "RE-2026-0001");
	/* members once each, the guest, Córdoba found without its accent */
	assert_int_equal(q(fx, "SELECT count(*) FROM meeting_attendees"), 5);
	/* no organiser: the coordinator city chairs, members are required */
	assert_string_equal(qs(fx, "SELECT group_concat(address || '=' || role, ' ') FROM"
	    " (SELECT * FROM meeting_attendees ORDER BY address)"),
	    "coop@montevideo.example=CHAIR gabinete@sp.example=REQ-PARTICIPANT "
	    "guest@ong.com.br=OPT-PARTICIPANT intendencia@cordoba.example=OPT-PARTICIPANT "
	    "ri@montevideo.example=CHAIR");
	assert_string_equal(qs(fx, "SELECT lang FROM meeting_attendees WHERE address ="
	    " 'guest@ong.com.br'"), "pt");
	assert_int_equal(q(fx, "SELECT count(*) FROM meeting_attendees WHERE partstat ="
	    " 'NEEDS-ACTION'"), 5);
	/* one mail per invitee, in the outbox */
	assert_int_equal(q(fx, "SELECT count(*) FROM outbox WHERE purpose = 'invite'"), 5);
	assert_int_equal(q(fx, "SELECT count(DISTINCT rcpt) FROM outbox"), 5);
	/* the stored meeting */
	assert_string_equal(qs(fx, "SELECT tzid FROM meetings"), "America/Montevideo");
	assert_int_equal(q(fx, "SELECT changed_at FROM meetings"), NOW);
	assert_int_equal(q(fx, "SELECT alarm_minutes FROM meetings"), 1440);
	assert_int_equal(q(fx, "SELECT uid LIKE 're-2026-0001-%@red.test' FROM meetings"), 1);
	assert_int_equal(q(fx, "SELECT length(uid) FROM meetings"),
	    (long long)strlen("re-2026-0001-") + 16 + strlen("@red.test"));
	assert_int_equal(q(fx, "SELECT count(*) FROM audit_log WHERE action = 'meeting.create'"
	    " AND actor = 'test' AND object = 'RE-2026-0001'"), 1);
	/* the next one of the year */
	assert_true(create(fx, &sp, ref) > id);
	assert_string_equal(ref, "RE-2026-0002");
}

static void
test_organiser(void **state)
{
	struct fx *fx = *state;
	struct meeting_spec sp = spec();
	char ref[32], unit[64];
	int64_t id, org = 0;
	struct err e;

	sp.organizer_id = 3;	/* São Paulo, a member */
	id = create(fx, &sp, ref);
	assert_string_equal(qs(fx, "SELECT group_concat(role, ' ') FROM (SELECT role FROM"
	    " meeting_attendees ORDER BY address)"), "REQ-PARTICIPANT CHAIR REQ-PARTICIPANT");
	/* no zone given: the organiser city's */
	assert_string_equal(qs(fx, "SELECT tzid FROM meetings"), "America/Sao_Paulo");
	assert_int_equal(meeting_owner(fx->st, id, unit, &org, &e), 1);
	assert_string_equal(unit, "cultura");
	assert_int_equal(org, 3);

	/* an organiser whose city is no member chairs anyway */
	sp.organizer_id = 5;
	id = create(fx, &sp, ref);
	assert_int_equal(q(fx, "SELECT count(*) FROM meeting_attendees WHERE meeting_id = 2"), 4);
	assert_string_equal(qs(fx, "SELECT role FROM meeting_attendees WHERE meeting_id = 2"
	    " AND address = 'gabinete@recife.example'"), "CHAIR");
	assert_string_equal(qs(fx, "SELECT tzid FROM meetings WHERE id = 2"), "America/Recife");
}

static void
test_refused(void **state)
{
	struct fx *fx = *state;
	const char *bad_city[] = { "Atlantis" };
	struct meeting_spec sp;
	struct err e;
	char ref[32];
	int64_t id;

	sp = spec();
	assert_int_equal(meeting_check(fx->st, &fx->env, &sp, &e), 0);
	sp = spec(); sp.unit = "nada";
	assert_int_equal(meeting_check(fx->st, &fx->env, &sp, &e), -1);
	assert_non_null(strstr(e.msg, "nada"));
	assert_int_equal(meeting_create(fx->st, &fx->env, &sp, NOW, &id, ref, &e), -1);
	sp = spec(); sp.tzid = "Mars/Olympus";
	assert_int_equal(meeting_create(fx->st, &fx->env, &sp, NOW, &id, ref, &e), -1);
	assert_non_null(strstr(e.msg, "time zone"));
	sp = spec(); sp.end = sp.start;
	assert_int_equal(meeting_create(fx->st, &fx->env, &sp, NOW, &id, ref, &e), -1);
	sp = spec(); sp.location = NULL;
	assert_int_equal(meeting_create(fx->st, &fx->env, &sp, NOW, &id, ref, &e), -1);
	sp = spec(); sp.url = "javascript:alert(1)";
	assert_int_equal(meeting_create(fx->st, &fx->env, &sp, NOW, &id, ref, &e), -1);
	sp = spec(); sp.title = " \r\n ";
	assert_int_equal(meeting_create(fx->st, &fx->env, &sp, NOW, &id, ref, &e), -1);
	sp = spec(); sp.extra = bad_city; sp.nextra = 1;
	assert_int_equal(meeting_check(fx->st, &fx->env, &sp, &e), -1);
	assert_int_equal(meeting_create(fx->st, &fx->env, &sp, NOW, &id, ref, &e), -1);
	assert_non_null(strstr(e.msg, "Atlantis"));
	sp = spec(); sp.title = "x\xff";
	assert_int_equal(meeting_create(fx->st, &fx->env, &sp, NOW, &id, ref, &e), -1);
	assert_int_equal(q(fx, "SELECT count(*) FROM meetings"), 0);
	assert_int_equal(q(fx, "SELECT count(*) FROM outbox"), 0);
}

static void
test_one_line_values(void **state)
{
	struct fx *fx = *state;
	struct meeting_spec sp = spec();
	char ref[32];

	sp.title = "Frontera\r\nATTENDEE:mailto:evil@x";
	sp.location = "Sala\n1";
	sp.agenda = "1. Uno\r\n2. Dos\r\n";
	create(fx, &sp, ref);
	assert_string_equal(qs(fx, "SELECT title FROM meetings"), "Frontera ATTENDEE:mailto:evil@x");
	assert_string_equal(qs(fx, "SELECT location FROM meetings"), "Sala 1");
	assert_string_equal(qs(fx, "SELECT agenda FROM meetings"), "1. Uno\n2. Dos");
}

static void
test_update_sequence(void **state)
{
	struct fx *fx = *state;
	struct meeting_spec sp = spec();
	struct meeting_change c;
	struct err e;
	char ref[32];
	int64_t id = create(fx, &sp, ref);

	assert_int_equal(meeting_rsvp(fx->st, id, "gabinete@sp.example", "ACCEPTED", "itip",
	    NOW + 5, &e), RSVP_RECORDED);
	/* the agenda: same SEQUENCE, new DTSTAMP, answers kept */
	c = (struct meeting_change){ .agenda = "Nueva agenda" };
	assert_int_equal(meeting_update(fx->st, &fx->env, id, &c, NOW + 10, &e), 0);
	assert_int_equal(q(fx, "SELECT sequence FROM meetings"), 0);
	assert_int_equal(q(fx, "SELECT changed_at FROM meetings"), NOW + 10);
	assert_int_equal(q(fx, "SELECT count(*) FROM meeting_attendees WHERE partstat ="
	    " 'ACCEPTED'"), 1);
	assert_int_equal(q(fx, "SELECT count(*) FROM outbox WHERE purpose = 'invite-update'"), 3);
	/* the title: the same */
	c = (struct meeting_change){ .title = "Otra" };
	assert_int_equal(meeting_update(fx->st, &fx->env, id, &c, NOW + 20, &e), 0);
	assert_int_equal(q(fx, "SELECT sequence FROM meetings"), 0);
	/* the time: SEQUENCE + 1, answers reset */
	c = (struct meeting_change){ .start = T0 + 3600, .end = T0 + 7200 };
	assert_int_equal(meeting_update(fx->st, &fx->env, id, &c, NOW + 30, &e), 0);
	assert_int_equal(q(fx, "SELECT sequence FROM meetings"), 1);
	assert_int_equal(q(fx, "SELECT count(*) FROM meeting_attendees WHERE partstat ="
	    " 'NEEDS-ACTION' AND answered_at IS NULL"), 3);
	/* the place (url added): SEQUENCE + 1 */
	c = (struct meeting_change){ .url = "https://meet.example/x" };
	assert_int_equal(meeting_update(fx->st, &fx->env, id, &c, NOW + 40, &e), 0);
	assert_int_equal(q(fx, "SELECT sequence FROM meetings"), 2);
	/* "" clears the location, the url remains */
	c = (struct meeting_change){ .location = "" };
	assert_int_equal(meeting_update(fx->st, &fx->env, id, &c, NOW + 50, &e), 0);
	assert_int_equal(q(fx, "SELECT location IS NULL FROM meetings"), 1);
	assert_int_equal(q(fx, "SELECT sequence FROM meetings"), 3);
	/* but not both */
	c = (struct meeting_change){ .url = "" };
	assert_int_equal(meeting_check_change(fx->st, id, &c, &e), -1);
	assert_int_equal(meeting_update(fx->st, &fx->env, id, &c, NOW + 60, &e), -1);
	c = (struct meeting_change){ .title = "Bien" };
	assert_int_equal(meeting_check_change(fx->st, id, &c, &e), 0);
	assert_int_equal(meeting_check_change(fx->st, id + 9, &c, &e), -1);
	assert_string_equal(qs(fx, "SELECT title FROM meetings"), "Otra");
	/* an end before the start */
	c = (struct meeting_change){ .end = T0 };
	assert_int_equal(meeting_update(fx->st, &fx->env, id, &c, NOW + 60, &e), -1);
	assert_int_equal(q(fx, "SELECT changed_at FROM meetings"), NOW + 50);
}

static void
test_cancel_and_rsvp(void **state)
{
	struct fx *fx = *state;
	struct meeting_spec sp = spec();
	struct meeting_change c = { .title = "x" };
	struct err e;
	char ref[32];
	int64_t id = create(fx, &sp, ref);

	assert_int_equal(meeting_rsvp(fx->st, id, "<RI@montevideo.example>", "TENTATIVE", "words",
	    NOW + 1, &e), RSVP_RECORDED);
	assert_string_equal(qs(fx, "SELECT partstat || ' ' || answer_via || ' ' || answered_at"
	    " FROM meeting_attendees WHERE address = 'ri@montevideo.example'"),
	    "TENTATIVE words 1795000001");
	assert_int_equal(meeting_rsvp(fx->st, id, "nadie@x.example", "ACCEPTED", "itip", NOW, &e),
	    RSVP_NOT_INVITED);
	assert_int_equal(meeting_rsvp(fx->st, id + 99, "ri@montevideo.example", "ACCEPTED",
	    "itip", NOW, &e), RSVP_NOT_INVITED);
	assert_int_equal(meeting_rsvp(fx->st, id, "ri@montevideo.example", "MAYBE", "itip", NOW,
	    &e), -1);
	assert_int_equal(meeting_rsvp(fx->st, id, "ri@montevideo.example", "ACCEPTED", "fax", NOW,
	    &e), -1);

	assert_int_equal(meeting_cancel(fx->st, &fx->env, id, NOW + 100, &e), 0);
	assert_string_equal(qs(fx, "SELECT status FROM meetings"), "cancelled");
	assert_int_equal(q(fx, "SELECT sequence FROM meetings"), 1);
	assert_int_equal(q(fx, "SELECT changed_at FROM meetings"), NOW + 100);
	assert_int_equal(q(fx, "SELECT count(*) FROM outbox WHERE purpose = 'cancel'"), 3);
	assert_int_equal(meeting_rsvp(fx->st, id, "ri@montevideo.example", "ACCEPTED", "itip",
	    NOW + 200, &e), RSVP_CANCELLED);
	assert_int_equal(meeting_cancel(fx->st, &fx->env, id, NOW + 300, &e), -1);
	assert_int_equal(meeting_update(fx->st, &fx->env, id, &c, NOW + 300, &e), -1);
	assert_int_equal(meeting_check_change(fx->st, id, &c, &e), -1);
	assert_non_null(strstr(e.msg, "cancelled"));
	assert_int_equal(q(fx, "SELECT count(*) FROM audit_log WHERE action LIKE 'meeting.%'"), 3);
}

static void
test_lookups(void **state)
{
	struct fx *fx = *state;
	struct meeting_spec sp = spec();
	struct err e;
	char ref[32], ref2[32], title[64], when[64], uid[256], tzid[64], num[16];
	time_t start, end;
	int64_t id = create(fx, &sp, ref), found = 0;

	assert_int_equal(meeting_find(fx->st, "RE-2026-0001", &found, &e), 1);
	assert_int_equal(found, id);
	found = 0;
	assert_int_equal(meeting_find(fx->st, "re-2026-0001", &found, &e), 1);
	assert_int_equal(found, id);
	snprintf(uid, sizeof uid, "%s", qs(fx, "SELECT uid FROM meetings"));
	found = 0;
	assert_int_equal(meeting_find(fx->st, uid, &found, &e), 1);
	assert_int_equal(found, id);
	snprintf(num, sizeof num, "%lld", (long long)id);
	assert_int_equal(meeting_find(fx->st, num, &found, &e), 1);
	assert_int_equal(meeting_find(fx->st, "RE-2026-0099", &found, &e), 0);
	assert_int_equal(meeting_find(fx->st, "1x", &found, &e), 0);
	assert_int_equal(meeting_describe(fx->st, id, title, sizeof title, ref2, when, sizeof when,
	    &e), 1);
	assert_string_equal(title, "Reunión");
	assert_string_equal(ref2, "RE-2026-0001");
	assert_string_equal(when, "2026-12-04 09:00 America/Montevideo");
	assert_int_equal(meeting_describe(fx->st, id + 1, title, sizeof title, ref2, when,
	    sizeof when, &e), 0);
	assert_int_equal(meeting_times(fx->st, id, &start, &end, tzid, &e), 1);
	assert_int_equal(start, T0);
	assert_int_equal(end, T0 + 5400);
	assert_string_equal(tzid, "America/Montevideo");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_invitees_and_roles, setup, teardown),
		cmocka_unit_test_setup_teardown(test_organiser, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_one_line_values, setup, teardown),
		cmocka_unit_test_setup_teardown(test_update_sequence, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cancel_and_rsvp, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lookups, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
