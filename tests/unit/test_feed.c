#include "buildconf.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "feed.h"

#define NOW 1795000000	/* 2026-11-18 */

static void
test_city_fold(void **state)
{
	static const char *const cases[][2] = {
		{ "São Paulo", "sao-paulo" }, { "Asunción", "asuncion" },
		{ "Paysandú", "paysandu" }, { "Bogotá", "bogota" }, { "Morón", "moron" },
		{ "Villa  María", "villa-maria" }, { " Encarnación ", "encarnacion" },
		{ "Niterói / RJ", "niteroi-rj" }, { "Fóz do Iguaçu", "foz-do-iguacu" },
		{ "Ñemby", "nemby" }, { "Łódź", "lodz" }, { "Sant'Ana", "sant-ana" },
		{ "Straße", "strasse" }, { "日本", "" }, { "a\xff" "b", "a-b" },
	};
	char out[96];

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		feed_city_fold(cases[i][0], out, sizeof out);
		assert_string_equal(out, cases[i][1]);
	}
	feed_city_fold("Rio de Janeiro", out, 6);	/* truncated, still terminated */
	assert_string_equal(out, "rio-d");
}

static void
test_http_dates(void **state)
{
	time_t t;
	char s[30];

	assert_int_equal(feed_parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT", NOW, &t), 0);
	assert_int_equal(t, 784111777);
	assert_int_equal(feed_parse_http_date("Sunday, 06-Nov-94 08:49:37 GMT", NOW, &t), 0);
	assert_int_equal(t, 784111777);
	assert_int_equal(feed_parse_http_date("Sun Nov  6 08:49:37 1994", NOW, &t), 0);
	assert_int_equal(t, 784111777);
	/* two-digit year: not more than 50 years ahead */
	assert_int_equal(feed_parse_http_date("Friday, 01-Jan-27 00:00:00 GMT", NOW, &t), 0);
	assert_int_equal(t, 1798761600);
	feed_format_http_date(784111777, s);
	assert_string_equal(s, "Sun, 06 Nov 1994 08:49:37 GMT");
	feed_format_http_date(NOW, s);
	assert_int_equal(feed_parse_http_date(s, NOW, &t), 0);
	assert_int_equal(t, NOW);
	static const char *const bad[] = {
		"", "garbage", "Sun, 06 Nov 1994 08:49:37 UTC", "Sun, 6 Nov 1994 08:49:37 GMT",
		"Sun, 06 Nov 1994 08:49:37 GMT ", "Sun, 31 Feb 1994 08:49:37 GMT",
		"Sun, 06 Nov 1994 24:00:00 GMT", "Xyz, 06 Nov 1994 08:49:37 GMT",
		"Sun, 06 Foo 1994 08:49:37 GMT", "Sun, 29 Feb 2025 00:00:00 GMT",
		"Sun, 06 Nov 19x4 08:49:37 GMT", "1795000000", "Sun, 06 Nov 1994 08:49:37 GMT, x",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		assert_int_equal(feed_parse_http_date(bad[i], NOW, &t), -1);
	assert_int_equal(feed_parse_http_date("Thu, 29 Feb 2024 00:00:00 GMT", NOW, &t), 0);
}

static void
test_etag_match(void **state)
{
	const char *et = "\"abc\"";

	assert_true(feed_etag_match("\"abc\"", et));
	assert_true(feed_etag_match("W/\"abc\"", et));		/* weak comparison */
	assert_true(feed_etag_match("\"x\", \"abc\"", et));
	assert_true(feed_etag_match("  \"x\" ,W/\"abc\" ", et));
	assert_true(feed_etag_match("*", et));
	assert_true(feed_etag_match(" * ", et));
	assert_false(feed_etag_match("\"abcd\"", et));
	assert_false(feed_etag_match("\"ab\"", et));
	assert_false(feed_etag_match("abc", et));		/* not quoted */
	assert_false(feed_etag_match("\"x\" \"abc\"", et));	/* no comma */
	assert_false(feed_etag_match("\"abc", et));
	assert_false(feed_etag_match("*, \"abc\"", et));
	assert_false(feed_etag_match("", et));
	assert_false(feed_etag_match(NULL, et));
}

static void
test_tokens(void **state)
{
	const char tokens[2][FEED_TOKEN_LEN + 1] = {
		"0123456789abcdef0123456789abcdef", "fedcba9876543210fedcba9876543210",
	};

	assert_true(feed_token_ok("0123456789abcdef0123456789abcdef", tokens, 2));
	assert_true(feed_token_ok("fedcba9876543210fedcba9876543210", tokens, 2));
	assert_false(feed_token_ok("0123456789abcdef0123456789abcdee", tokens, 2));
	assert_false(feed_token_ok("0123456789ABCDEF0123456789ABCDEF", tokens, 2));
	assert_false(feed_token_ok("0123456789abcdef0123456789abcdef0", tokens, 2));
	assert_false(feed_token_ok("0123456789abcdef", tokens, 2));
	assert_false(feed_token_ok("", tokens, 2));
	assert_false(feed_token_ok(NULL, tokens, 2));
	assert_false(feed_token_ok("0123456789abcdef0123456789abcdef", tokens, 0));
}

static void
test_kinds_and_paths(void **state)
{
	struct feed_scope s = { .kind = FEED_UNIT, .slug = "cultura" };
	char p[64];

	assert_int_equal(feed_kind_parse("network"), FEED_NETWORK);
	assert_int_equal(feed_kind_parse("city"), FEED_CITY);
	assert_int_equal(feed_kind_parse("units"), -1);
	assert_int_equal(feed_scope_path(&s, p, sizeof p), (int)strlen("/feeds/unit/cultura.ics"));
	assert_string_equal(p, "/feeds/unit/cultura.ics");
	s.kind = FEED_NETWORK;
	feed_scope_path(&s, p, sizeof p);
	assert_string_equal(p, "/feeds/network.ics");
	s.kind = FEED_CITY;
	assert_int_equal(feed_scope_path(&s, p, 10), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_city_fold),
		cmocka_unit_test(test_http_dates),
		cmocka_unit_test(test_etag_match),
		cmocka_unit_test(test_tokens),
		cmocka_unit_test(test_kinds_and_paths),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
