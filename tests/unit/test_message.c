/* message: Message-ID identity, header unfolding, SHA-256. */
#include "buildconf.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "message.h"

#define MAIL(s) (s), strlen(s)

static void
identity_is_message_id(void **state)
{
	const char *m = "From: a@b.example\r\nMessage-ID: <abc.123@moron.example>\r\n"
	    "Subject: x\r\n\r\nbody\r\n";
	char *id = message_identity(MAIL(m), NULL);

	assert_string_equal(id, "<abc.123@moron.example>");
	free(id);
}

static void
identity_header_name_is_case_insensitive_and_folded(void **state)
{
	const char *m = "message-id:\r\n <folded@rosario.example>\r\n\r\nbody";
	char *id = message_identity(MAIL(m), NULL);

	assert_string_equal(id, "<folded@rosario.example>");
	free(id);
}

static void
identity_without_message_id_is_sha256_of_raw(void **state)
{
	const char *m = "From: a@b.example\r\nSubject: hola\r\n\r\nbody\r\n";
	char *id = message_identity(MAIL(m), NULL), hex[65];

	assert_int_equal(message_sha256_hex(MAIL(m), hex), 0);
	assert_true(strncmp(id, "sha256:", 7) == 0);
	assert_string_equal(id + 7, hex);
	free(id);
}

static void
identity_ignores_message_id_in_body(void **state)
{
	const char *m = "Subject: x\n\nMessage-ID: <in-body@example.org>\n";
	char *id = message_identity(MAIL(m), NULL);

	assert_true(strncmp(id, "sha256:", 7) == 0);
	free(id);
}

static void
identity_rejects_insane_message_id(void **state)
{
	const char *m = "Message-ID: <has space@x.example>\n\nb";
	char *id = message_identity(MAIL(m), NULL);

	assert_true(strncmp(id, "sha256:", 7) == 0);
	free(id);
}

static void
sha256_known_vector(void **state)
{
	char hex[65];

	assert_int_equal(message_sha256_hex("abc", 3, hex), 0);
	assert_string_equal(hex,
	    "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

static void
header_unfolds_and_strips_crlf(void **state)
{
	const char *m = "Subject: Informe\r\n\tsemestral\r\n  de cultura\r\nX: y\r\n\r\n";
	char *s = message_header(MAIL(m), "Subject", 200);

	assert_string_equal(s, "Informe semestral  de cultura");
	assert_null(strchr(s, '\r'));
	assert_null(strchr(s, '\n'));
	free(s);
}

static void
header_is_bounded(void **state)
{
	const char *m = "Subject: 0123456789abcdef\n\n";
	char *s = message_header(MAIL(m), "Subject", 8);

	assert_string_equal(s, "01234567");
	free(s);
}

static void
header_absent_is_null_and_prefix_does_not_match(void **state)
{
	const char *m = "Subjective: no\n\nSubject: in body\n";

	assert_null(message_header(MAIL(m), "Subject", 100));
}

static void
header_len_finds_blank_line(void **state)
{
	assert_int_equal(message_header_len(MAIL("A: b\r\n\r\nbody")), 8);
	assert_int_equal(message_header_len(MAIL("A: b\n\nbody")), 6);
	assert_int_equal(message_header_len(MAIL("A: b\n")), 5);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(identity_is_message_id),
		cmocka_unit_test(identity_header_name_is_case_insensitive_and_folded),
		cmocka_unit_test(identity_without_message_id_is_sha256_of_raw),
		cmocka_unit_test(identity_ignores_message_id_in_body),
		cmocka_unit_test(identity_rejects_insane_message_id),
		cmocka_unit_test(sha256_known_vector),
		cmocka_unit_test(header_unfolds_and_strips_crlf),
		cmocka_unit_test(header_is_bounded),
		cmocka_unit_test(header_absent_is_null_and_prefix_does_not_match),
		cmocka_unit_test(header_len_finds_blank_line),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
