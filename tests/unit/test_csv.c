#include "buildconf.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "csv.h"

/* Read the next record and check its line and fields (NULL-terminated list). */
static void
expect_record(struct csv *c, int want_line, ...)
{
	struct err e = { "" };
	char **f = NULL;
	size_t nf = 0, i = 0;
	int line = 0;
	va_list ap;
	const char *want;

	assert_int_equal(csv_next(c, &f, &nf, &line, &e), 1);
	assert_int_equal(line, want_line);
	va_start(ap, want_line);
	while ((want = va_arg(ap, const char *)) != NULL) {
		assert_true(i < nf);
		assert_string_equal(f[i], want);
		i++;
	}
	va_end(ap);
	assert_int_equal(nf, i);
}

static void
expect_end(struct csv *c)
{
	struct err e = { "" };
	char **f;
	size_t nf;
	int line;

	assert_int_equal(csv_next(c, &f, &nf, &line, &e), 0);
	assert_int_equal(csv_next(c, &f, &nf, &line, &e), 0);	/* and stays there */
}

static struct csv *
open_str(const char *s)
{
	struct csv *c = csv_open_buf(s, strlen(s));
	assert_non_null(c);
	return c;
}

static void
test_simple(void **state)
{
	struct csv *c = open_str("a,b,c\n1,2,3\n");

	expect_record(c, 1, "a", "b", "c", NULL);
	expect_record(c, 2, "1", "2", "3", NULL);
	expect_end(c);
	csv_free(c);
}

static void
test_no_final_newline_and_empty_fields(void **state)
{
	struct csv *c = open_str("a,,c\n,\nx,y,");

	expect_record(c, 1, "a", "", "c", NULL);
	expect_record(c, 2, "", "", NULL);
	expect_record(c, 3, "x", "y", "", NULL);
	expect_end(c);
	csv_free(c);
}

static void
test_quoted_commas(void **state)
{
	struct csv *c = open_str("slug,name\n"
	    "autonomia,\"Autonomía, Gestión y Participación\"\n"
	    "\"\",\"a,b,,c\"\n");

	expect_record(c, 1, "slug", "name", NULL);
	expect_record(c, 2, "autonomia", "Autonomía, Gestión y Participación", NULL);
	expect_record(c, 3, "", "a,b,,c", NULL);
	expect_end(c);
	csv_free(c);
}

static void
test_doubled_quotes(void **state)
{
	struct csv *c = open_str("\"say \"\"hola\"\"\",\"\"\"\",x\"y\n");

	expect_record(c, 1, "say \"hola\"", "\"", "x\"y", NULL);
	expect_end(c);
	csv_free(c);
}

static void
test_embedded_newline(void **state)
{
	struct csv *c = open_str("a,b\n"
	    "1,\"two\nlines\"\n"
	    "2,\"three\n\nlines\"\n"
	    "3,x\n");

	expect_record(c, 1, "a", "b", NULL);
	expect_record(c, 2, "1", "two\nlines", NULL);
	expect_record(c, 4, "2", "three\n\nlines", NULL);
	expect_record(c, 7, "3", "x", NULL);
	expect_end(c);
	csv_free(c);
}

static void
test_crlf(void **state)
{
	struct csv *c = open_str("a,b\r\n1,\"x\r\ny\"\r\n\r\n2,z\r\n");

	expect_record(c, 1, "a", "b", NULL);
	expect_record(c, 2, "1", "x\r\ny", NULL);
	expect_record(c, 5, "2", "z", NULL);
	expect_end(c);
	csv_free(c);
}

static void
test_bom(void **state)
{
	struct csv *c = open_str("\xEF\xBB\xBF" "city,country\nMorón,AR\n");

	expect_record(c, 1, "city", "country", NULL);
	expect_record(c, 2, "Morón", "AR", NULL);
	expect_end(c);
	csv_free(c);

	/* Only at the very start: elsewhere it is data. */
	c = open_str("a\n\xEF\xBB\xBF" "b\n");
	expect_record(c, 1, "a", NULL);
	expect_record(c, 2, "\xEF\xBB\xBF" "b", NULL);
	expect_end(c);
	csv_free(c);
}

static void
test_blank_lines(void **state)
{
	struct csv *c = open_str("\n\na,b\n\n   \n\t\n1,2\n\n");

	expect_record(c, 3, "a", "b", NULL);
	expect_record(c, 7, "1", "2", NULL);
	expect_end(c);
	csv_free(c);
}

static void
test_empty_input(void **state)
{
	struct csv *c = csv_open_buf("", 0);

	assert_non_null(c);
	expect_end(c);
	csv_free(c);
	c = open_str("\xEF\xBB\xBF");
	expect_end(c);
	csv_free(c);
	csv_free(NULL);
}

static void
test_unterminated_quote(void **state)
{
	struct csv *c = open_str("a,b\n1,2\n3,\"never closed\n4,5\n");
	struct err e = { "" };
	char **f;
	size_t nf;
	int line;

	expect_record(c, 1, "a", "b", NULL);
	expect_record(c, 2, "1", "2", NULL);
	assert_int_equal(csv_next(c, &f, &nf, &line, &e), -1);
	assert_non_null(strstr(e.msg, "line 3"));
	assert_non_null(strstr(e.msg, "unterminated"));
	expect_end(c);
	csv_free(c);
}

static void
test_text_after_quote_recovers(void **state)
{
	struct csv *c = open_str("\"a\"b,c\nd,e\n");
	struct err e = { "" };
	char **f;
	size_t nf;
	int line;

	assert_int_equal(csv_next(c, &f, &nf, &line, &e), -1);
	assert_non_null(strstr(e.msg, "line 1"));
	expect_record(c, 2, "d", "e", NULL);
	expect_end(c);
	csv_free(c);
}

static void
test_nul_byte(void **state)
{
	static const char buf[] = "a,b\nc\0d,e\nf,g\n";
	struct csv *c = csv_open_buf(buf, sizeof buf - 1);
	struct err e = { "" };
	char **f;
	size_t nf;
	int line;

	assert_non_null(c);
	expect_record(c, 1, "a", "b", NULL);
	assert_int_equal(csv_next(c, &f, &nf, &line, &e), -1);
	assert_non_null(strstr(e.msg, "line 2"));
	expect_record(c, 3, "f", "g", NULL);
	expect_end(c);
	csv_free(c);
}

static void
test_many_fields(void **state)
{
	char buf[4096];
	size_t n = 0;

	for (int i = 0; i < 100; i++)
		n += (size_t)snprintf(buf + n, sizeof buf - n, "%sfield%d", i ? "," : "", i);
	struct csv *c = csv_open_buf(buf, n);
	struct err e = { "" };
	char **f;
	size_t nf;
	int line;
	assert_int_equal(csv_next(c, &f, &nf, &line, &e), 1);
	assert_int_equal(nf, 100);
	assert_string_equal(f[0], "field0");
	assert_string_equal(f[99], "field99");
	csv_free(c);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_simple),
		cmocka_unit_test(test_no_final_newline_and_empty_fields),
		cmocka_unit_test(test_quoted_commas),
		cmocka_unit_test(test_doubled_quotes),
		cmocka_unit_test(test_embedded_newline),
		cmocka_unit_test(test_crlf),
		cmocka_unit_test(test_bom),
		cmocka_unit_test(test_blank_lines),
		cmocka_unit_test(test_empty_input),
		cmocka_unit_test(test_unterminated_quote),
		cmocka_unit_test(test_text_after_quote_recovers),
		cmocka_unit_test(test_nul_byte),
		cmocka_unit_test(test_many_fields),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
