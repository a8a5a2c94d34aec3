#include "buildconf.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "auth.h"

static const unsigned char KEY[32] = "0123456789abcdef0123456789abcdef";
static const unsigned char OTHER_KEY[32] = "0123456789abcdef0123456789abcdeF";
#define NOW ((time_t)1700000000)

static struct auth_claim
claim(const char *purpose, int64_t object, int64_t contact, time_t expires)
{
	struct auth_claim c;

	memset(&c, 0, sizeof c);
	snprintf(c.purpose, sizeof c.purpose, "%s", purpose);
	c.object = object;
	c.contact = contact;
	c.expires = expires;
	return c;
}

static void
make(const struct auth_claim *c, char out[AUTH_TOKEN_MAX])
{
	struct err e = { "" };

	assert_int_equal(auth_token_make(KEY, sizeof KEY, c, out, &e), 0);
}

static enum auth_token_status
check(const char *token, struct auth_claim *got)
{
	return auth_token_check(KEY, sizeof KEY, token, NOW, got);
}

static void
assert_claim_equal(const struct auth_claim *a, const struct auth_claim *b)
{
	assert_string_equal(a->purpose, b->purpose);
	assert_true(a->object == b->object);
	assert_true(a->contact == b->contact);
	assert_true(a->expires == b->expires);
}

static void
assert_claim_zero(const struct auth_claim *c)
{
	assert_string_equal(c->purpose, "");
	assert_true(c->object == 0 && c->contact == 0 && c->expires == 0);
}

/* ------------------------------------------------------------------ tokens */

static void
test_token_round_trip(void **state)
{
	struct auth_claim c = claim("rsvp", 1234, 56, NOW + 86400), got;
	char t[AUTH_TOKEN_MAX];
	int dashes = 0;

	make(&c, t);
	assert_true(strlen(t) < AUTH_TOKEN_MAX);
	for (const char *p = t; *p != '\0'; p++) {
		assert_non_null(strchr("abcdefghijklmnopqrstuvwxyz0123456789-", *p));
		dashes += *p == '-';
	}
	assert_int_equal(dashes, 4);
	assert_memory_equal(t, "rsvp-ya-1k-", 11);	/* 1234 and 56 in base36 */
	assert_int_equal(check(t, &got), AUTH_TOKEN_OK);
	assert_claim_equal(&got, &c);
}

static void
test_token_extremes(void **state)
{
	struct auth_claim lo = claim("a", 0, 0, NOW + 1);
	struct auth_claim hi = claim("abcdefghijklmno", INT64_MAX, INT64_MAX, (time_t)INT64_MAX);
	struct auth_claim got;
	char t[AUTH_TOKEN_MAX];

	make(&lo, t);
	assert_int_equal(check(t, &got), AUTH_TOKEN_OK);
	assert_claim_equal(&got, &lo);
	make(&hi, t);
	assert_int_equal(strlen(t), 78);	/* the longest token there is */
	assert_int_equal(check(t, &got), AUTH_TOKEN_OK);
	assert_claim_equal(&got, &hi);
}

static void
test_token_make_rejects(void **state)
{
	const struct auth_claim bad[] = {
		claim("", 1, 1, NOW), claim("Reply", 1, 1, NOW), claim("re-ply", 1, 1, NOW),
		claim("reply2", 1, 1, NOW), claim("r\xc3\xa9ply", 1, 1, NOW),
		claim("reply", -1, 1, NOW), claim("reply", 1, -1, NOW), claim("reply", 1, 1, -1),
	};
	struct auth_claim ok = claim("reply", 1, 1, NOW);
	struct err e = { "" };
	char t[AUTH_TOKEN_MAX];

	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		e.msg[0] = '\0';
		assert_int_equal(auth_token_make(KEY, sizeof KEY, &bad[i], t, &e), -1);
		assert_string_not_equal(e.msg, "");
	}
	/* 16 chars overflow purpose[16]; build it unterminated on purpose. */
	struct auth_claim full = ok;
	memset(full.purpose, 'a', sizeof full.purpose);
	assert_int_equal(auth_token_make(KEY, sizeof KEY, &full, t, NULL), -1);
	/* A short or missing key is a configuration mistake. */
	assert_int_equal(auth_token_make(KEY, 15, &ok, t, &e), -1);
	assert_int_equal(auth_token_make(NULL, 0, &ok, t, &e), -1);
	assert_int_equal(auth_token_make(KEY, 16, &ok, t, &e), 0);
}

/* Every token one edit away from a good one: nothing gets through. */
static void
assert_rejected(const char *t)
{
	struct auth_claim got;
	enum auth_token_status s = check(t, &got);

	if (s != AUTH_TOKEN_FORGED && s != AUTH_TOKEN_MALFORMED)
		fail_msg("accepted \"%s\" (status %d)", t, (int)s);
	assert_claim_zero(&got);
}

static void
test_token_single_changes(void **state)
{
	static const char alphabet[] = "abcdefghijklmnopqrstuvwxyz0123456789-ABZ_+.= ";
	struct auth_claim c = claim("confirm", 987654, 4321, NOW + 3600);
	char t[AUTH_TOKEN_MAX], u[AUTH_TOKEN_MAX + 1];
	size_t n, tried = 0;

	make(&c, t);
	n = strlen(t);
	for (size_t i = 0; i < n; i++) {
		for (const char *a = alphabet; *a != '\0'; a++) {
			if (*a == t[i])
				continue;
			memcpy(u, t, n + 1);
			u[i] = *a;		/* substitution */
			assert_rejected(u);
			memcpy(u, t, i);	/* insertion */
			u[i] = *a;
			memcpy(u + i + 1, t + i, n - i + 1);
			assert_rejected(u);
			tried += 2;
		}
		memcpy(u, t, i);		/* deletion */
		memcpy(u + i, t + i + 1, n - i);
		assert_rejected(u);
		memcpy(u, t, n + 1);		/* truncation */
		u[i] = '\0';
		assert_rejected(u);
	}
	assert_true(tried > 1000);
}

static void
test_token_expired(void **state)
{
	struct auth_claim c = claim("vote", 7, 8, NOW), got;
	char t[AUTH_TOKEN_MAX];

	make(&c, t);
	assert_int_equal(auth_token_check(KEY, sizeof KEY, t, NOW - 1, &got), AUTH_TOKEN_OK);
	assert_int_equal(auth_token_check(KEY, sizeof KEY, t, NOW, &got), AUTH_TOKEN_EXPIRED);
	/* The claim still comes back, so the caller can say what expired. */
	assert_claim_equal(&got, &c);
	assert_int_equal(auth_token_check(KEY, sizeof KEY, t, NOW + 86400 * 365, &got),
	    AUTH_TOKEN_EXPIRED);
}

static void
test_token_forged_beats_expired(void **state)
{
	struct auth_claim c = claim("vote", 7, 8, NOW - 10), got;
	char t[AUTH_TOKEN_MAX];

	make(&c, t);
	assert_int_equal(check(t, &got), AUTH_TOKEN_EXPIRED);
	assert_int_equal(auth_token_check(OTHER_KEY, sizeof OTHER_KEY, t, NOW, &got),
	    AUTH_TOKEN_FORGED);
	assert_claim_zero(&got);
	t[strlen(t) - 1] = t[strlen(t) - 1] == 'a' ? 'b' : 'a';
	assert_int_equal(check(t, &got), AUTH_TOKEN_FORGED);
}

static void
test_token_wrong_key(void **state)
{
	struct auth_claim c = claim("reply", 1, 2, NOW + 60), got;
	char t[AUTH_TOKEN_MAX];

	make(&c, t);
	assert_int_equal(auth_token_check(OTHER_KEY, sizeof OTHER_KEY, t, NOW, &got),
	    AUTH_TOKEN_FORGED);
	assert_claim_zero(&got);
	/* The same bytes, shorter: another key. */
	assert_int_equal(auth_token_check(KEY, sizeof KEY - 1, t, NOW, &got), AUTH_TOKEN_FORGED);
	/* No usable key: nothing is authentic. */
	assert_int_equal(auth_token_check(NULL, 0, t, NOW, &got), AUTH_TOKEN_FORGED);
	assert_int_equal(auth_token_check(KEY, 8, t, NOW, &got), AUTH_TOKEN_FORGED);
}

static void
test_token_other_contact(void **state)
{
	/* Issued to contact 42; mail comes from contact 43. The token is good:
	 * it is the caller who compares, so the claim must come back intact. */
	struct auth_claim c = claim("reply", 1001, 42, NOW + 60), got;
	char t[AUTH_TOKEN_MAX];

	make(&c, t);
	assert_int_equal(check(t, &got), AUTH_TOKEN_OK);
	assert_true(got.contact == 42);
	assert_true(got.contact != 43);
	assert_claim_equal(&got, &c);
	/* And the claims differ only in the contact: different tokens. */
	char t2[AUTH_TOKEN_MAX];
	struct auth_claim c2 = claim("reply", 1001, 43, NOW + 60);
	make(&c2, t2);
	assert_string_not_equal(t, t2);
}

/* Splice the MAC of a good token onto other fields. */
static void
with_mac(const char *fields, const char *good, char *out, size_t size)
{
	snprintf(out, size, "%s-%s", fields, strrchr(good, '-') + 1);
}

static void
test_token_malformed(void **state)
{
	struct auth_claim c = claim("reply", 1, 2, NOW + 60), got;
	char t[AUTH_TOKEN_MAX], u[256], exp36[16];

	make(&c, t);
	/* The expiry field as the good token spells it. */
	sscanf(t, "reply-1-2-%15[0-9a-z]", exp36);
	const char *bad_fields[] = {
		"reply-01-2", "reply-1-02", "reply-00-2", "reply--1-2", "reply-1-2-",
		"reply-1y2p0ij32e8e8-2", "reply-zzzzzzzzzzzzz-2", "reply-10000000000000-2",
		"Reply-1-2", "REPLY-1-2", "reply-1-2-x-y",
	};
	for (size_t i = 0; i < sizeof bad_fields / sizeof bad_fields[0]; i++) {
		char fields[64];
		snprintf(fields, sizeof fields, "%s-%s", bad_fields[i], exp36);
		with_mac(fields, t, u, sizeof u);
		assert_int_equal(check(u, &got), AUTH_TOKEN_MALFORMED);
	}
	snprintf(u, sizeof u, "reply-1-2-0%s-%s", exp36, strrchr(t, '-') + 1);
	assert_int_equal(check(u, &got), AUTH_TOKEN_MALFORMED);	/* same number, two spellings */
	const char *bad[] = {
		"", "-", "----", "reply", "reply-1-2-3", "reply-1-2-3-", "-1-2-3-abcdefghijklmnopqrst",
		"reply-1-2-3-abcdefghijklmnopqrs", "reply-1-2-3-abcdefghijklmnopqrstu",
		"reply-1-2-3-abcdefghijklmnopqr01", "reply-1-2-3-abcdefghijklmnopqr89",
		"reply-1-2-3-ABCDEFGHIJKLMNOPQRST", "reply-1-2-3-abcdefghij klmnopqrs",
		"abcdefghijklmnop-1-2-3-abcdefghijklmnopqrst",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		assert_int_equal(check(bad[i], &got), AUTH_TOKEN_MALFORMED);
	/* Too long for AUTH_TOKEN_MAX, whatever it holds. */
	memset(u, 'a', 200);
	u[200] = '\0';
	assert_int_equal(check(u, &got), AUTH_TOKEN_MALFORMED);
	assert_int_equal(check(NULL, &got), AUTH_TOKEN_MALFORMED);
	assert_claim_zero(&got);
}

static void
test_token_random(void **state)
{
	static const char alphabet[] = "abcdefghijklmnopqrstuvwxyz0123456789-";
	struct auth_claim got;
	char u[AUTH_TOKEN_MAX];
	unsigned x = 12345;

	/* Guessing is hopeless: 10 000 well-formed-looking strings, none passes. */
	for (int i = 0; i < 10000; i++) {
		size_t n = 1 + (x = x * 1103515245u + 12345u) % (AUTH_TOKEN_MAX - 1);
		for (size_t k = 0; k < n; k++)
			u[k] = alphabet[(x = x * 1103515245u + 12345u) >> 16 & 31];
		u[n] = '\0';
		enum auth_token_status s = check(u, &got);
		assert_true(s == AUTH_TOKEN_MALFORMED || s == AUTH_TOKEN_FORGED);
	}
}

/* --------------------------------------------------------------- addresses */

static void
assert_token(const char *addr, const char *want)
{
	char out[AUTH_TOKEN_MAX];

	if (want == NULL) {
		if (auth_address_token(addr, "secretaria", "red.test", out) != -1)
			fail_msg("token found in \"%s\": \"%s\"", addr, out);
		return;
	}
	assert_int_equal(auth_address_token(addr, "secretaria", "red.test", out), 0);
	assert_string_equal(out, want);
}

static void
test_address_token(void **state)
{
	char long_tag[200];
	char out[AUTH_TOKEN_MAX];

	assert_token("secretaria+reply-1-2-3-abcdefghijklmnopqrst@red.test",
	    "reply-1-2-3-abcdefghijklmnopqrst");
	assert_token("Secretaria+Reply-1A@RED.Test", "reply-1a");	/* case folded */
	assert_token("<secretaria+x@red.test>", "x");
	assert_token("  secretaria+x@red.test ", "x");
	assert_token("secretaria+a+b@red.test", "a+b");	/* then malformed for check */
	assert_int_equal(auth_address_token("secretaria+x@red.test", "SECRETARIA", "Red.TEST",
	    out), 0);
	assert_string_equal(out, "x");

	assert_token("secretaria@red.test", NULL);
	assert_token("secretaria+@red.test", NULL);
	assert_token("otra+x@red.test", NULL);
	assert_token("secretari+x@red.test", NULL);
	assert_token("secretariaa+x@red.test", NULL);
	assert_token("xsecretaria+x@red.test", NULL);
	assert_token("secretaria+x@otra.test", NULL);
	assert_token("secretaria+x@sub.red.test", NULL);
	assert_token("secretaria+x@red.test.evil", NULL);
	assert_token("secretaria+x@red.test@evil.test", NULL);
	assert_token("secretaria+x", NULL);
	assert_token("", NULL);
	assert_token("Secretaría <secretaria+x@red.test>", NULL);
	snprintf(long_tag, sizeof long_tag, "secretaria+%0*d@red.test", AUTH_TOKEN_MAX, 0);
	assert_token(long_tag, NULL);
	snprintf(long_tag, sizeof long_tag, "secretaria+%0*d@red.test", AUTH_TOKEN_MAX - 1, 0);
	assert_int_equal(auth_address_token(long_tag, "secretaria", "red.test", out), 0);
	assert_int_equal(strlen(out), AUTH_TOKEN_MAX - 1);
	assert_int_equal(auth_address_token(NULL, "secretaria", "red.test", out), -1);
	assert_int_equal(auth_address_token("secretaria+x@red.test", "", "red.test", out), -1);
}

static void
assert_norm(const char *in, const char *want)
{
	char out[300];

	if (want == NULL) {
		if (auth_normalize_address(in, out, sizeof out) != -1)
			fail_msg("\"%s\" normalised to \"%s\"", in, out);
		return;
	}
	assert_int_equal(auth_normalize_address(in, out, sizeof out), 0);
	assert_string_equal(out, want);
}

static void
test_normalize(void **state)
{
	char small[10], longest[300];

	assert_norm("ana@x.org", "ana@x.org");
	assert_norm("  <Ana.Perez@Montevideo.GUB.UY>\t", "ana.perez@montevideo.gub.uy");
	assert_norm("< ana@x.org >", "ana@x.org");
	assert_norm("Ana+Tag@X.Org", "ana+tag@x.org");
	assert_norm("joão@prefeitura.sp.gov.br", "joão@prefeitura.sp.gov.br");

	const char *bad[] = {
		"", "   ", "<>", "< >", "ana", "@x.org", "ana@", "ana@localhost", "a@b@c.org",
		"ana perez@x.org", "ana@x.org>", "<ana@x.org", "<<ana@x.org>>", "ana\t@x.org",
		"ana\x01@x.org", "ana@x.org\x7f", "ana@.x.org", "ana@x..org", "ana@x.org.",
		"Ana <ana@x.org>", "\"ana\"@x.org", "ana,bob@x.org", "ana@x.org\r\n",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		assert_norm(bad[i], NULL);

	/* Bounded by size: exactly enough, and one short. */
	assert_int_equal(auth_normalize_address("ana@x.org", small, sizeof small), 0);
	assert_int_equal(auth_normalize_address("anab@x.org", small, sizeof small), -1);
	assert_int_equal(auth_normalize_address("ana@x.org", small, 0), -1);
	/* And by the RFC 5321 limit. */
	memset(longest, 'a', 255);
	memcpy(longest + 255 - 6, "@x.org", 7);
	assert_norm(longest, NULL);
	memcpy(longest + 254 - 6, "@x.org", 7);
	assert_norm(longest, longest);
	assert_int_equal(auth_normalize_address(NULL, small, sizeof small), -1);
}

static void
test_address_domain(void **state)
{
	assert_string_equal(auth_address_domain("ana@x.org"), "x.org");
	assert_null(auth_address_domain("ana"));
	assert_null(auth_address_domain("ana@"));
	assert_null(auth_address_domain(NULL));
}

/* ---------------------------------------------------- Authentication-Results */

#define ID "mx.red.test"
#define FROM "montevideo.gub.uy"

static enum auth_result
ar1(const char *value)
{
	const char *v[1] = { value };

	return auth_results_check(v, 1, ID, FROM);
}

static void
test_ar_trusted_pass(void **state)
{
	assert_int_equal(ar1(ID "; dkim=pass header.d=montevideo.gub.uy header.s=sel"),
	    AUTH_RESULT_PASS);
	assert_int_equal(ar1(ID "; spf=pass smtp.mailfrom=ana@montevideo.gub.uy"),
	    AUTH_RESULT_PASS);
	assert_int_equal(ar1(ID "; spf=pass smtp.mailfrom=montevideo.gub.uy"), AUTH_RESULT_PASS);
	/* Relaxed alignment: a parent domain signs. */
	assert_int_equal(ar1(ID "; dkim=pass header.d=gub.uy"), AUTH_RESULT_PASS);
	assert_int_equal(ar1(ID "; spf=pass smtp.mailfrom=bounces@gub.uy"), AUTH_RESULT_PASS);
	/* header.i when there is no header.d. */
	assert_int_equal(ar1(ID "; dkim=pass header.i=@montevideo.gub.uy"), AUTH_RESULT_PASS);
	/* Keywords, ids and domains are case-insensitive; values may be quoted. */
	assert_int_equal(ar1("MX.Red.Test; DKIM=Pass header.d=Montevideo.GUB.uy"),
	    AUTH_RESULT_PASS);
	assert_int_equal(ar1(ID "; dkim=pass header.d=\"montevideo.gub.uy\""), AUTH_RESULT_PASS);
	/* A version after the id, a method version, blanks around '=' and '.'. */
	assert_int_equal(ar1(ID " 1; spf / 1 = pass smtp . mailfrom = ana@montevideo.gub.uy"),
	    AUTH_RESULT_PASS);
	/* One of several results passing is enough. */
	assert_int_equal(ar1(ID "; spf=fail smtp.mailfrom=x@evil.test; dkim=pass "
	    "header.d=montevideo.gub.uy; dmarc=pass header.from=montevideo.gub.uy"),
	    AUTH_RESULT_PASS);
}

static void
test_ar_trusted_fail(void **state)
{
	const char *fail[] = {
		ID "; dkim=fail header.d=montevideo.gub.uy",
		ID "; dkim=pass header.d=evil.test",
		ID "; dkim=pass header.d=sub.montevideo.gub.uy",	/* child, not parent */
		ID "; dkim=pass header.d=vo.gub.uy",		/* a suffix, not a label */
		ID "; dkim=pass header.d=.gub.uy",
		ID "; dkim=pass header.s=sel",		/* no domain at all */
		ID "; dkim=pass header.i=@evil.test",
		ID "; spf=pass smtp.mailfrom=ana@evil.test",
		ID "; spf=softfail smtp.mailfrom=ana@montevideo.gub.uy",
		ID "; spf=pass smtp.helo=montevideo.gub.uy",
		ID "; dmarc=pass header.from=montevideo.gub.uy",	/* not what we judge */
		ID "; none",
		ID,
		ID "; dkim=neutral (no signatures) header.d=montevideo.gub.uy",
		ID "; dkim=fail header.d=montevideo.gub.uy; spf=temperror",
	};
	for (size_t i = 0; i < sizeof fail / sizeof fail[0]; i++)
		if (ar1(fail[i]) != AUTH_RESULT_FAIL)
			fail_msg("not FAIL: %s", fail[i]);
}

static void
test_ar_untrusted(void **state)
{
	const char *v[2];

	/* Added upstream (or by the sender): ignored even when it says pass. */
	assert_int_equal(ar1("evil.test; dkim=pass header.d=montevideo.gub.uy"),
	    AUTH_RESULT_NONE);
	assert_int_equal(ar1("mx.red.test.evil.test; dkim=pass header.d=montevideo.gub.uy"),
	    AUTH_RESULT_NONE);
	assert_int_equal(ar1("x" ID "; dkim=pass header.d=montevideo.gub.uy"), AUTH_RESULT_NONE);
	assert_int_equal(ar1("(" ID ") evil.test; dkim=pass header.d=montevideo.gub.uy"),
	    AUTH_RESULT_NONE);
	assert_int_equal(auth_results_check(NULL, 0, ID, FROM), AUTH_RESULT_NONE);
	/* Without an authserv-id configured nothing is believed. */
	v[0] = ID "; dkim=pass header.d=montevideo.gub.uy";
	assert_int_equal(auth_results_check(v, 1, NULL, FROM), AUTH_RESULT_NONE);
	assert_int_equal(auth_results_check(v, 1, "", FROM), AUTH_RESULT_NONE);
	/* Without a From domain nothing can pass. */
	assert_int_equal(auth_results_check(v, 1, ID, NULL), AUTH_RESULT_FAIL);
	assert_int_equal(auth_results_check(v, 1, ID, ""), AUTH_RESULT_FAIL);
}

static void
test_ar_two_headers(void **state)
{
	const char *forged = "gmail.example; dkim=pass header.d=montevideo.gub.uy";
	const char *ours_fail = ID "; dkim=fail header.d=montevideo.gub.uy";
	const char *ours_pass = ID "; dkim=pass header.d=montevideo.gub.uy";
	const char *v[2];

	v[0] = ours_fail;
	v[1] = forged;
	assert_int_equal(auth_results_check(v, 2, ID, FROM), AUTH_RESULT_FAIL);
	v[0] = forged;
	v[1] = ours_fail;
	assert_int_equal(auth_results_check(v, 2, ID, FROM), AUTH_RESULT_FAIL);
	v[1] = ours_pass;
	assert_int_equal(auth_results_check(v, 2, ID, FROM), AUTH_RESULT_PASS);
	/* Our DKIM milter and our SPF checker may each add one header. */
	v[0] = ID "; spf=none smtp.mailfrom=montevideo.gub.uy";
	assert_int_equal(auth_results_check(v, 2, ID, FROM), AUTH_RESULT_PASS);
	v[0] = NULL;
	v[1] = forged;
	assert_int_equal(auth_results_check(v, 2, ID, FROM), AUTH_RESULT_NONE);
}

static void
test_ar_comments_folding(void **state)
{
	/* As Postfix + OpenDKIM write it, folded (CR LF kept or not by mime). */
	assert_int_equal(ar1(ID " (mx.red.test [10.0.0.1]);\r\n\tdkim=pass (2048-bit key;"
	    " unprotected) header.d=montevideo.gub.uy header.i=@montevideo.gub.uy\r\n"
	    "\theader.s=sel header.b=AbC+/dEf;\r\n\tspf=none (no record) smtp.mailfrom=x"),
	    AUTH_RESULT_PASS);
	assert_int_equal(ar1(ID "; \tdkim=pass (comment (nested) here) header.d=montevideo.gub.uy "
	    "\t reason=\"signature ok; aligned\""), AUTH_RESULT_PASS);
	assert_int_equal(ar1(ID "; dkim=pass header.d=(c)montevideo.gub.uy(c)"),
	    AUTH_RESULT_PASS);
	assert_int_equal(ar1(ID "; dkim=pass header.d=montevideo.gub.uy (has \\) escaped)"),
	    AUTH_RESULT_PASS);
	/* Text in a comment or a quoted reason is not a result of its own. */
	assert_int_equal(ar1(ID "; dkim=fail (; dkim=pass header.d=montevideo.gub.uy) "
	    "header.d=montevideo.gub.uy"), AUTH_RESULT_FAIL);
	assert_int_equal(ar1(ID "; dkim=fail reason=\"x; dkim=pass header.d=montevideo.gub.uy\""),
	    AUTH_RESULT_FAIL);
	assert_int_equal(ar1(ID "; dkim=fail reason=\"\\\"; dkim=pass header.d=montevideo.gub.uy\""),
	    AUTH_RESULT_FAIL);
	/* A broken result is skipped; the next one still counts. */
	assert_int_equal(ar1(ID "; dkim=pass header.d; spf=pass smtp.mailfrom=a@montevideo.gub.uy"),
	    AUTH_RESULT_PASS);
	assert_int_equal(ar1(ID "; dkim=pass header.d montevideo.gub.uy"), AUTH_RESULT_FAIL);
}

static void
test_ar_garbage(void **state)
{
	const char *none[] = {
		"", " ", ";", ";;;", "(((", ")))", "\"", "\"unterminated; dkim=pass",
		"; dkim=pass header.d=montevideo.gub.uy", "=pass", "\x01\x02\xff",
	};
	const char *fail[] = {
		ID "; dkim", ID "; dkim=", ID "; =pass", ID "; dkim=pass header.d",
		ID "; dkim=pass header.=montevideo.gub.uy", ID "; dkim=pass .d=montevideo.gub.uy",
		ID "; dkim=pass header.d=", ID "; dkim=pass header.d=\"montevideo.gub.uy",
		ID " junk dkim=pass header.d=montevideo.gub.uy", ID ";;;;", ID "; (((",
		ID "; dkim=pass header.d=\xff\xfe", ID "; dkim==pass header.d=montevideo.gub.uy",
	};
	char big[10000];

	for (size_t i = 0; i < sizeof none / sizeof none[0]; i++)
		if (ar1(none[i]) != AUTH_RESULT_NONE)
			fail_msg("not NONE: %s", none[i]);
	for (size_t i = 0; i < sizeof fail / sizeof fail[0]; i++)
		if (ar1(fail[i]) != AUTH_RESULT_FAIL)
			fail_msg("not FAIL: %s", fail[i]);
	/* Huge values: bounded buffers, no overflow, no pass. */
	snprintf(big, sizeof big, ID "; dkim=pass header.d=%0*d", 9000, 0);
	assert_int_equal(ar1(big), AUTH_RESULT_FAIL);
	memset(big, '(', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	assert_int_equal(ar1(big), AUTH_RESULT_NONE);
}

static void
test_ar_random(void **state)
{
	static const char bits[] = "; =.()\"\\@adkimpsfhr\t";
	char v[64];
	unsigned x = 777;

	/* Random mixtures of the syntax: only checks that nothing breaks. */
	for (int i = 0; i < 20000; i++) {
		size_t n = strlen(ID);
		memcpy(v, ID, n);
		for (; n < sizeof v - 1 && ((x = x * 1103515245u + 12345u) >> 16) % 40 != 0; n++)
			v[n] = bits[((x = x * 1103515245u + 12345u) >> 16) % (sizeof bits - 1)];
		v[n] = '\0';
		enum auth_result r = ar1(v);
		assert_true(r == AUTH_RESULT_NONE || r == AUTH_RESULT_PASS || r == AUTH_RESULT_FAIL);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_token_round_trip),
		cmocka_unit_test(test_token_extremes),
		cmocka_unit_test(test_token_make_rejects),
		cmocka_unit_test(test_token_single_changes),
		cmocka_unit_test(test_token_expired),
		cmocka_unit_test(test_token_forged_beats_expired),
		cmocka_unit_test(test_token_wrong_key),
		cmocka_unit_test(test_token_other_contact),
		cmocka_unit_test(test_token_malformed),
		cmocka_unit_test(test_token_random),
		cmocka_unit_test(test_address_token),
		cmocka_unit_test(test_normalize),
		cmocka_unit_test(test_address_domain),
		cmocka_unit_test(test_ar_trusted_pass),
		cmocka_unit_test(test_ar_trusted_fail),
		cmocka_unit_test(test_ar_untrusted),
		cmocka_unit_test(test_ar_two_headers),
		cmocka_unit_test(test_ar_comments_folding),
		cmocka_unit_test(test_ar_garbage),
		cmocka_unit_test(test_ar_random),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
