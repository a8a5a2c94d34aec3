#include "buildconf.h"

#define _POSIX_C_SOURCE 200809L	/* mkdtemp */

/*
 * The VERP envelope sender of list mail (verp.h): its shape and length, and
 * that a report is traced back to the member only through a genuine, fresh
 * token of purpose "bounce" in the headers the delivery path leaves.
 */

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "auth.h"
#include "config.h"
#include "mime.h"
#include "store.h"
#include "verp.h"

#define NOW	1795000000	/* 2026-11-18 */
#define KEY	((const unsigned char *)"0123456789abcdef0123456789abcdef")
#define KEYLEN	32

struct fx {
	char dir[256], path[300];
	struct store *st;
	struct config *cfg;
	int64_t member;		/* list_subscriptions rowid of ausente@rosario.example */
};

static int
setup(void **state)
{
	struct fx *fx = calloc(1, sizeof *fx);
	const char *tmp = getenv("TMPDIR");
	sqlite3_stmt *s;
	struct err e;

	if (fx == NULL)
		return -1;
	snprintf(fx->dir, sizeof fx->dir, "%s/test_verp.XXXXXX", tmp ? tmp : "/tmp");
	if (mkdtemp(fx->dir) == NULL)
		return -1;
	snprintf(fx->path, sizeof fx->path, "%s/v.db", fx->dir);
	if ((fx->st = store_open(fx->path, &e)) == NULL || sqlite3_exec(store_db(fx->st),
	    "INSERT INTO units (id, slug, kind, name_es, name_pt) VALUES"
	    " (100, 'cultura', 'unit', 'Cultura', 'Cultura');"
	    "INSERT INTO list_subscriptions (unit_id, address, source, created_at, changed_at)"
	    " VALUES (100, 'otra@montevideo.example', 'mail', 1, 1),"
	    " (100, 'ausente@rosario.example', 'mail', 1, 1);", NULL, NULL, NULL) != SQLITE_OK)
		return -1;
	if (sqlite3_prepare_v2(store_db(fx->st), "SELECT rowid FROM list_subscriptions"
	    " WHERE address = 'ausente@rosario.example'", -1, &s, NULL) != SQLITE_OK ||
	    sqlite3_step(s) != SQLITE_ROW)
		return -1;
	fx->member = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	fx->cfg = config_defaults();
	fx->cfg->smtp.from = strdup("secretaria@red.example");
	*state = fx;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *fx = *state;
	char cmd[320];

	store_close(fx->st);
	config_free(fx->cfg);
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", fx->dir);
	assert_int_equal(system(cmd), 0);
	free(fx);
	return 0;
}

/* A report whose header names addr (in header name), parsed. */
static struct mime_msg *
report_to(const char *name, const char *addr)
{
	char raw[1024];
	struct err e;

	snprintf(raw, sizeof raw, "From: MAILER-DAEMON@mx.rosario.example\r\n"
	    "%s: %s\r\nSubject: Undelivered Mail Returned to Sender\r\n\r\n"
	    "The mail could not be delivered.\r\n", name, addr);
	return mime_parse(raw, strlen(raw), &e);
}

/* The member found for a report to addr at now: 1 and its address, or 0. */
static int
traced(struct fx *fx, const char *name, const char *addr, time_t now, char *out)
{
	struct mime_msg *m = report_to(name, addr);
	struct err e;
	int r;

	assert_non_null(m);
	out[0] = '\0';
	r = verp_recipient(fx->st, fx->cfg, KEY, KEYLEN, m, now, out, 256, &e);
	mime_msg_free(m);
	return r;
}

static void
test_sender_shape(void **state)
{
	struct fx *fx = *state;
	char out[256];
	struct err e;
	const char *at;

	assert_int_equal(verp_sender(fx->cfg, KEY, KEYLEN, fx->member, NOW, out, sizeof out, &e), 0);
	assert_int_equal(strncmp(out, "bounces+bounce-", 15), 0);
	at = strchr(out, '@');
	assert_non_null(at);
	assert_string_equal(at, "@red.example");
	/* RFC 5321: a local part has at most 64 octets */
	assert_true(at - out <= 64);
	/* lower case letters, digits, '-', '+' only: MTAs that fold case lose nothing */
	assert_int_equal(strspn(out, "abcdefghijklmnopqrstuvwxyz0123456789-+"), (size_t)(at - out));
	/* [lists] bounce_address replaces bounces@ the domain of smtp.from */
	fx->cfg->lists.bounce_address = strdup("rebotes@listas.example");
	assert_int_equal(verp_sender(fx->cfg, KEY, KEYLEN, fx->member, NOW, out, sizeof out, &e), 0);
	assert_int_equal(strncmp(out, "rebotes+bounce-", 15), 0);
	assert_non_null(strstr(out, "@listas.example"));
}

static void
test_sender_without_key_or_address(void **state)
{
	struct fx *fx = *state;
	char out[256];
	struct err e;

	assert_int_equal(verp_sender(fx->cfg, NULL, 0, fx->member, NOW, out, sizeof out, &e), 1);
	assert_int_equal(verp_sender(fx->cfg, KEY, KEYLEN, 0, NOW, out, sizeof out, &e), 1);
	free(fx->cfg->smtp.from);
	fx->cfg->smtp.from = NULL;
	assert_int_equal(verp_sender(fx->cfg, KEY, KEYLEN, fx->member, NOW, out, sizeof out, &e), 1);
	/* too small a buffer is an error, never a cut address */
	fx->cfg->smtp.from = strdup("secretaria@red.example");
	assert_int_equal(verp_sender(fx->cfg, KEY, KEYLEN, fx->member, NOW, out, 20, &e), -1);
}

static void
test_recipient_traced_by_token(void **state)
{
	struct fx *fx = *state;
	char verp[256], out[256];
	struct err e;

	assert_int_equal(verp_sender(fx->cfg, KEY, KEYLEN, fx->member, NOW, verp, sizeof verp, &e), 0);
	assert_int_equal(traced(fx, "To", verp, NOW + 3600, out), 1);
	assert_string_equal(out, "ausente@rosario.example");
	/* where the delivery path left it, in brackets, upper-cased by an MTA */
	char upper[300];
	snprintf(upper, sizeof upper, "<%s>", verp);
	for (char *p = upper; *p; p++)
		if (*p >= 'a' && *p <= 'z' && p < strchr(upper, '+'))
			*p = (char)(*p - 'a' + 'A');
	assert_int_equal(traced(fx, "Delivered-To", upper, NOW + 3600, out), 1);
	assert_string_equal(out, "ausente@rosario.example");
	assert_int_equal(traced(fx, "X-Original-To", verp, NOW, out), 1);
	/* a report still valid late, not after VERP_DAYS */
	assert_int_equal(traced(fx, "To", verp, NOW + (VERP_DAYS - 1) * 86400, out), 1);
	assert_int_equal(traced(fx, "To", verp, NOW + (VERP_DAYS + 1) * 86400, out), 0);
}

static void
test_recipient_refuses_forgeries(void **state)
{
	struct fx *fx = *state;
	struct auth_claim c = { .purpose = "unsub", .object = 1, .expires = NOW + 86400 };
	char verp[256], forged[256], token[AUTH_TOKEN_MAX], out[256];
	struct err e;
	char *p;

	assert_int_equal(verp_sender(fx->cfg, KEY, KEYLEN, fx->member, NOW, verp, sizeof verp, &e), 0);
	/* the other member's key in a token whose MAC was made for this one */
	snprintf(forged, sizeof forged, "%s", verp);
	p = strstr(forged, "bounce-") + 7;
	*p = *p == '1' ? '2' : '1';
	assert_int_equal(traced(fx, "To", forged, NOW, out), 0);
	/* a token of another purpose (an unsubscribe link's) is no bounce token */
	assert_int_equal(auth_token_make(KEY, KEYLEN, &c, token, &e), 0);
	snprintf(forged, sizeof forged, "bounces+%s@red.example", token);
	assert_int_equal(traced(fx, "To", forged, NOW, out), 0);
	/* the right token at another local part or domain */
	snprintf(forged, sizeof forged, "postmaster%s", strchr(verp, '+'));
	assert_int_equal(traced(fx, "To", forged, NOW, out), 0);
	snprintf(forged, sizeof forged, "%.*s@otra.example", (int)(strchr(verp, '@') - verp), verp);
	assert_int_equal(traced(fx, "To", forged, NOW, out), 0);
	/* another key */
	struct mime_msg *m = report_to("To", verp);
	assert_int_equal(verp_recipient(fx->st, fx->cfg,
	    (const unsigned char *)"another key of 32 bytes, really", 32, m, NOW, out, 256, &e), 0);
	mime_msg_free(m);
	/* a member key whose row is gone */
	assert_int_equal(sqlite3_exec(store_db(fx->st), "DELETE FROM list_subscriptions"
	    " WHERE address = 'ausente@rosario.example'", NULL, NULL, NULL), SQLITE_OK);
	assert_int_equal(traced(fx, "To", verp, NOW, out), 0);
}

static void
test_from_mailer(void **state)
{
	static const struct { const char *from; int want; } cases[] = {
		{ "MAILER-DAEMON@mx.example", 1 }, { "postmaster@mx.example", 1 },
		{ "mailer-daemon", 1 }, { "Postmaster+x@mx.example", 1 },
		{ "intendente@rosario.example", 0 }, { "postmasters@mx.example", 0 },
		{ "noreply@mx.example", 0 },
	};
	(void)state;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char raw[256];
		struct err e;
		snprintf(raw, sizeof raw, "From: %s\r\nSubject: x\r\n\r\nx\r\n", cases[i].from);
		struct mime_msg *m = mime_parse(raw, strlen(raw), &e);
		assert_non_null(m);
		assert_int_equal(verp_from_mailer(m), cases[i].want);
		mime_msg_free(m);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_sender_shape, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sender_without_key_or_address, setup, teardown),
		cmocka_unit_test_setup_teardown(test_recipient_traced_by_token, setup, teardown),
		cmocka_unit_test_setup_teardown(test_recipient_refuses_forgeries, setup, teardown),
		cmocka_unit_test(test_from_mailer),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
