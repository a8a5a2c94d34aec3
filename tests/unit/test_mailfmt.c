#include "buildconf.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cmocka.h>

#include "mailfmt.h"

/* ---- small decoders of our own, to check what mailfmt writes --------------- */

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* 1 if s[0..n) is complete, valid UTF-8 (no cut sequences). */
static int
utf8_ok(const unsigned char *s, size_t n)
{
	size_t i = 0;

	while (i < n) {
		size_t l = s[i] < 0x80 ? 1 : (s[i] & 0xe0) == 0xc0 ? 2 :
		    (s[i] & 0xf0) == 0xe0 ? 3 : (s[i] & 0xf8) == 0xf0 ? 4 : 0;
		if (l == 0 || i + l > n)
			return 0;
		for (size_t k = 1; k < l; k++)
			if ((s[i + k] & 0xc0) != 0x80)
				return 0;
		i += l;
	}
	return 1;
}

/*
 * Decode an unfolded header value with RFC 2047 encoded-words
 * (=?UTF-8?Q?...?= only), dropping the blanks between adjacent encoded-words.
 * Checks each encoded-word is <= 75 characters and holds whole UTF-8
 * characters. Caller frees.
 */
static char *
decode_2047(const char *v)
{
	size_t n = strlen(v);
	char *out = calloc(1, n + 1);
	size_t o = 0, pending_ws_at = 0;
	const char *p = v;
	int prev_ew = 0;

	assert_non_null(out);
	while (*p != '\0') {
		if (strncmp(p, "=?UTF-8?Q?", 10) == 0) {
			const char *end = strstr(p + 10, "?=");
			unsigned char word[128];
			size_t wl = 0;

			assert_non_null(end);
			assert_true(end + 2 - p <= 75);
			if (prev_ew)
				o = pending_ws_at;	/* drop blanks between encoded-words */
			for (const char *q = p + 10; q < end; q++) {
				if (*q == '_') {
					word[wl++] = ' ';
				} else if (*q == '=') {
					assert_true(hexval(q[1]) >= 0 && hexval(q[2]) >= 0);
					word[wl++] = (unsigned char)(hexval(q[1]) * 16 + hexval(q[2]));
					q += 2;
				} else {
					/* only the RFC 2047 phrase-safe characters */
					assert_non_null(strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZ"
					    "abcdefghijklmnopqrstuvwxyz0123456789!*+-/", *q));
					word[wl++] = (unsigned char)*q;
				}
			}
			assert_true(utf8_ok(word, wl));
			memcpy(out + o, word, wl);
			o += wl;
			p = end + 2;
			prev_ew = 1;
			pending_ws_at = o;
			continue;
		}
		if (*p == ' ' || *p == '\t') {
			out[o++] = *p++;
			continue;
		}
		prev_ew = 0;
		out[o++] = *p++;
	}
	out[o] = '\0';
	return out;
}

/* Quoted-printable to text with "\n" line ends. Checks line lengths. */
static char *
decode_qp(const char *s, size_t n)
{
	char *out = calloc(1, n + 1);
	size_t o = 0, col = 0;

	assert_non_null(out);
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '\r') {
			assert_true(i + 1 < n && s[i + 1] == '\n');
			assert_true(col <= 76);
			out[o++] = '\n';
			i++;
			col = 0;
			continue;
		}
		assert_true(s[i] != '\n');	/* no bare LF */
		if (s[i] == '=') {
			if (i + 2 < n && s[i + 1] == '\r' && s[i + 2] == '\n') {
				assert_true(col + 1 <= 76);
				i += 2;
				col = 0;
				continue;
			}
			assert_true(i + 2 < n);
			assert_true(hexval(s[i + 1]) >= 0 && hexval(s[i + 2]) >= 0);
			/* encoders must use upper-case hex */
			assert_false(s[i + 1] >= 'a' && s[i + 1] <= 'f');
			out[o++] = (char)(hexval(s[i + 1]) * 16 + hexval(s[i + 2]));
			i += 2;
			col += 3;
			continue;
		}
		assert_true((unsigned char)s[i] >= 32 && (unsigned char)s[i] < 127 ? 1 :
		    s[i] == '\t');
		out[o++] = s[i];
		col++;
	}
	assert_true(col <= 76);
	out[o] = '\0';
	return out;
}

static char *
decode_b64(const char *s, size_t n, size_t *outlen)
{
	static const char al[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	char *out = calloc(1, n + 1);
	unsigned acc = 0;
	int bits = 0;
	size_t o = 0;

	assert_non_null(out);
	for (size_t i = 0; i < n; i++) {
		const char *c;
		if (s[i] == '\r' || s[i] == '\n' || s[i] == '=')
			continue;
		c = strchr(al, s[i]);
		assert_non_null(c);
		acc = (acc << 6) | (unsigned)(c - al);
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[o++] = (char)((acc >> bits) & 0xff);
		}
	}
	*outlen = o;
	return out;
}

/* Text with every line end made "\n" (what the QP decoder gives back). */
static char *
lf_only(const char *s)
{
	char *out = calloc(1, strlen(s) + 1);
	size_t o = 0;

	assert_non_null(out);
	for (; *s != '\0'; s++) {
		if (*s == '\r') {
			out[o++] = '\n';
			if (s[1] == '\n')
				s++;
		} else {
			out[o++] = *s;
		}
	}
	return out;
}

/* ---- a message parsed back ------------------------------------------------ */

#define MAXH 64
struct parsed {
	char *name[MAXH];
	char *value[MAXH];	/* unfolded: CRLF removed, the blank after it kept */
	size_t n;
	const char *body;
	size_t body_len;
};

static void
no_bare_line_ends(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '\r')
			assert_true(i + 1 < n && s[i + 1] == '\n');
		if (s[i] == '\n')
			assert_true(i > 0 && s[i - 1] == '\r');
		assert_true(s[i] != '\0');
	}
}

/* Parse a header block ending in an empty line; every line <= 78. */
static void
parse_headers(const char *msg, size_t len, struct parsed *ps)
{
	const char *p = msg, *end = msg + len;

	memset(ps, 0, sizeof *ps);
	no_bare_line_ends(msg, len);
	while (p < end) {
		const char *eol = strstr(p, "\r\n");
		size_t l;

		assert_non_null(eol);
		l = (size_t)(eol - p);
		assert_true(l <= 78);
		if (l == 0) {
			ps->body = eol + 2;
			ps->body_len = (size_t)(end - ps->body);
			return;
		}
		if (*p == ' ' || *p == '\t') {
			char *v;
			assert_true(ps->n > 0);
			/* a continuation line is never only blanks */
			assert_true(strspn(p, " \t") < l);
			v = ps->value[ps->n - 1];
			v = realloc(v, strlen(v) + l + 1);
			assert_non_null(v);
			strncat(v, p, l);
			ps->value[ps->n - 1] = v;
		} else {
			const char *colon = memchr(p, ':', l);
			assert_non_null(colon);
			assert_true(ps->n < MAXH);
			for (const char *q = p; q < colon; q++)
				assert_non_null(strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZ"
				    "abcdefghijklmnopqrstuvwxyz0123456789-", *q));
			ps->name[ps->n] = strndup(p, (size_t)(colon - p));
			ps->value[ps->n] = strndup(colon + 1, (size_t)(eol - colon - 1));
			ps->n++;
		}
		p = eol + 2;
	}
	fail_msg("no end of header block");
}

static void
parsed_free(struct parsed *ps)
{
	for (size_t i = 0; i < ps->n; i++) {
		free(ps->name[i]);
		free(ps->value[i]);
	}
	memset(ps, 0, sizeof *ps);
}

static int
count_header(const struct parsed *ps, const char *name)
{
	int c = 0;

	for (size_t i = 0; i < ps->n; i++)
		if (strcasecmp(ps->name[i], name) == 0)
			c++;
	return c;
}

/* The unfolded value without its leading blank; NULL if absent. */
static const char *
header(const struct parsed *ps, const char *name)
{
	for (size_t i = 0; i < ps->n; i++)
		if (strcasecmp(ps->name[i], name) == 0)
			return ps->value[i] + strspn(ps->value[i], " ");
	return NULL;
}

static struct mailfmt *
basic(void)
{
	struct mailfmt *m = mailfmt_new();

	assert_non_null(m);
	assert_int_equal(mailfmt_address(m, "From", "Secretaría Ejecutiva",
	    "secretaria@red.test"), 0);
	assert_int_equal(mailfmt_address(m, "To", NULL, "intendencia@moron.example"), 0);
	return m;
}

static char *
build(struct mailfmt *m, time_t now, char **msgid, size_t *len)
{
	struct err e = { "" };
	char *msg = mailfmt_build(m, "red.test", now, msgid, len, &e);

	if (msg == NULL)
		fail_msg("mailfmt_build: %s", e.msg);
	assert_int_equal(strlen(msg), *len);
	no_bare_line_ends(msg, *len);
	return msg;
}

/* Build a message whose Subject is subject and return the decoded Subject. */
static char *
subject_roundtrip(const char *subject)
{
	struct mailfmt *m = basic();
	struct parsed ps;
	size_t len;
	char *msg, *dec;

	assert_int_equal(mailfmt_header(m, "Subject", subject), 0);
	assert_int_equal(mailfmt_text(m, "x"), 0);
	msg = build(m, 0, NULL, &len);
	parse_headers(msg, len, &ps);
	assert_int_equal(count_header(&ps, "Subject"), 1);
	dec = decode_2047(header(&ps, "Subject"));
	parsed_free(&ps);
	free(msg);
	mailfmt_free(m);
	return dec;
}

/* ---- encoded-words -------------------------------------------------------- */

static void
test_encode_word_ascii_is_copy(void **state)
{
	char *s = mailfmt_encode_word("Informe semestral [ambiente]");

	(void)state;
	assert_string_equal(s, "Informe semestral [ambiente]");
	free(s);
}

static void
test_encode_word_exact(void **state)
{
	char *s = mailfmt_encode_word("Reunión");

	(void)state;
	assert_string_equal(s, "=?UTF-8?Q?Reuni=C3=B3n?=");
	free(s);
	/* the whole run, blanks as '_', specials encoded */
	s = mailfmt_encode_word("Reunión de coordinación");
	assert_string_equal(s, "=?UTF-8?Q?Reuni=C3=B3n_de_coordinaci=C3=B3n?=");
	free(s);
	s = mailfmt_encode_word("São Paulo: ação_=?");
	assert_string_equal(s, "=?UTF-8?Q?S=C3=A3o_Paulo=3A_a=C3=A7=C3=A3o=5F=3D=3F?=");
	free(s);
}

static void
test_encode_word_roundtrip(void **state)
{
	static const char *const in[] = {
		"Reunión", "Relatório de atividades — 2º semestre",
		"Intendencia de Morón", "€ 100, \"quoted\" (paren) <angle>",
		"日本語のテキスト", "emoji 🎉 fiesta", "=?UTF-8?Q?fake?=",
	};

	(void)state;
	for (size_t i = 0; i < sizeof in / sizeof *in; i++) {
		char *enc = mailfmt_encode_word(in[i]), *dec;
		assert_non_null(enc);
		/* anything non-ASCII or looking encoded got encoded */
		assert_memory_equal(enc, "=?UTF-8?Q?", 10);
		dec = decode_2047(enc);
		assert_string_equal(dec, in[i]);
		free(dec);
		free(enc);
	}
}

static void
test_encode_word_long_splits_on_characters(void **state)
{
	char in[2048] = "";
	char *enc, *dec;
	int words = 0;

	(void)state;
	/* 2-, 3- and 4-byte characters so the cuts fall everywhere */
	for (int i = 0; i < 30; i++)
		strcat(in, i % 3 == 0 ? "ção€ " : i % 3 == 1 ? "🎉ñ " : "Ñandú ");
	strcat(in, "fin");
	enc = mailfmt_encode_word(in);
	for (const char *p = enc; (p = strstr(p, "=?UTF-8?Q?")) != NULL; p++)
		words++;
	assert_true(words > 3);
	dec = decode_2047(enc);		/* checks <= 75 and whole characters */
	assert_string_equal(dec, in);
	free(dec);
	free(enc);
}

static void
test_encode_word_strips_controls(void **state)
{
	char *s = mailfmt_encode_word("a\r\nb\tc\x01" "d\x7f" "e");

	(void)state;
	assert_string_equal(s, "ab cde");
	free(s);
	assert_null(mailfmt_encode_word(NULL));
}

/* ---- headers -------------------------------------------------------------- */

static void
test_subject_injection(void **state)
{
	static const char *const attempts[] = {
		"Hola\r\nBcc: victim@evil.test",
		"Hola\nBcc: victim@evil.test\n\nbody text",
		"Hola\rBcc: victim@evil.test",
		"Hola\r\n Bcc: folded@evil.test",
		"Hola\x0b\x0c\x1b[0mBcc: x@evil.test",
		"Reunión\r\nBcc: victim@evil.test",
	};

	(void)state;
	for (size_t i = 0; i < sizeof attempts / sizeof *attempts; i++) {
		struct mailfmt *m = basic();
		struct parsed ps;
		size_t len;
		char *msg, *dec;

		assert_int_equal(mailfmt_header(m, "Subject", attempts[i]), 0);
		assert_int_equal(mailfmt_header(m, "X-Mercomail-Ref", attempts[i]), 0);
		assert_int_equal(mailfmt_address(m, "Cc", attempts[i], "cc@red.test"), 0);
		assert_int_equal(mailfmt_text(m, "cuerpo"), 0);
		msg = build(m, 0, NULL, &len);
		parse_headers(msg, len, &ps);
		assert_int_equal(count_header(&ps, "Bcc"), 0);
		assert_int_equal(count_header(&ps, "Subject"), 1);
		assert_int_equal(count_header(&ps, "X-Mercomail-Ref"), 1);
		assert_int_equal(count_header(&ps, "Cc"), 1);
		/* the body is what we set, nothing from the subject */
		dec = decode_qp(ps.body, ps.body_len);
		assert_string_equal(dec, "cuerpo\n");
		free(dec);
		dec = decode_2047(header(&ps, "Subject"));
		assert_null(strpbrk(dec, "\r\n\x0b\x0c\x1b"));
		assert_non_null(strstr(dec, "Bcc:"));	/* kept, harmless, as text */
		free(dec);
		parsed_free(&ps);
		free(msg);
		mailfmt_free(m);
	}
}

static void
test_header_names(void **state)
{
	struct mailfmt *m = mailfmt_new();

	(void)state;
	assert_int_equal(mailfmt_header(m, "X-Loop", "secretaria@red.test"), 0);
	assert_int_equal(mailfmt_header(m, "Auto-Submitted", "auto-replied"), 0);
	assert_int_equal(mailfmt_header(m, "Sub ject", "x"), -1);
	assert_int_equal(mailfmt_header(m, "Subject:", "x"), -1);
	assert_int_equal(mailfmt_header(m, "", "x"), -1);
	assert_int_equal(mailfmt_header(m, NULL, "x"), -1);
	assert_int_equal(mailfmt_header(m, "X\r\nBcc", "x"), -1);
	assert_int_equal(mailfmt_header(m, "Subj\xc3\xa9", "x"), -1);
	assert_int_equal(mailfmt_header(m, "Subject", NULL), -1);
	/* written by build, or only through mailfmt_address */
	assert_int_equal(mailfmt_header(m, "Message-ID", "<x@y>"), -1);
	assert_int_equal(mailfmt_header(m, "content-type", "text/html"), -1);
	assert_int_equal(mailfmt_header(m, "To", "a@b.test"), -1);
	assert_int_equal(mailfmt_header(m, "bcc", "a@b.test"), -1);
	mailfmt_free(m);
	mailfmt_free(NULL);
}

static void
test_header_set_twice_replaces(void **state)
{
	struct mailfmt *m = basic();
	struct parsed ps;
	size_t len;
	char *msg;

	(void)state;
	assert_int_equal(mailfmt_header(m, "Subject", "uno"), 0);
	assert_int_equal(mailfmt_header(m, "subject", "dos"), 0);
	assert_int_equal(mailfmt_text(m, "x"), 0);
	msg = build(m, 0, NULL, &len);
	parse_headers(msg, len, &ps);
	assert_int_equal(count_header(&ps, "Subject"), 1);
	assert_string_equal(header(&ps, "Subject"), "dos");
	parsed_free(&ps);
	free(msg);
	mailfmt_free(m);
}

static void
test_fold_ascii(void **state)
{
	char subject[1200] = "";
	char *dec;

	(void)state;
	for (int i = 0; i < 40; i++)
		strcat(subject, i % 2 ? "Informe de la Unidad (Tematica) " : "semestral, ");
	subject[strlen(subject) - 1] = '\0';
	dec = subject_roundtrip(subject);	/* lines <= 78 checked there */
	assert_string_equal(dec, subject);
	free(dec);
	/* plain ASCII stays plain: nothing encoded */
	dec = subject_roundtrip("Informe de actividades del segundo semestre de la "
	    "Unidad Tematica de Cultura y de Turismo");
	assert_string_equal(dec, "Informe de actividades del segundo semestre de la "
	    "Unidad Tematica de Cultura y de Turismo");
	free(dec);
}

static void
test_fold_exact(void **state)
{
	struct mailfmt *m = basic();
	struct err e = { "" };
	size_t len;
	char *msg;
	const char *s;

	(void)state;
	/* "Subject:" + 7 x " aaaaaaaaa" is exactly 78: the 8th word folds */
	assert_int_equal(mailfmt_header(m, "Subject",
	    "aaaaaaaaa aaaaaaaaa aaaaaaaaa aaaaaaaaa aaaaaaaaa aaaaaaaaa aaaaaaaaa bbbbbbbbb"), 0);
	assert_int_equal(mailfmt_text(m, "x"), 0);
	msg = mailfmt_build(m, "red.test", 0, NULL, &len, &e);
	assert_non_null(msg);
	s = strstr(msg, "\r\nSubject:");
	assert_non_null(s);
	assert_memory_equal(s, "\r\nSubject: aaaaaaaaa aaaaaaaaa aaaaaaaaa aaaaaaaaa aaaaaaaaa"
	    " aaaaaaaaa aaaaaaaaa\r\n bbbbbbbbb\r\n", 2 + 78 + 2 + 10 + 2);
	free(msg);
	mailfmt_free(m);
}

static void
test_fold_long_word(void **state)
{
	char word[300], subject[400];
	char *dec;

	(void)state;
	/* a 200-character URL cannot be folded: it is encoded and split */
	memset(word, 'x', 200);
	word[200] = '\0';
	memcpy(word, "https://", 8);
	snprintf(subject, sizeof subject, "Ver %s ahora", word);
	dec = subject_roundtrip(subject);
	assert_string_equal(dec, subject);
	free(dec);
}

static void
test_msgid_headers_not_encoded(void **state)
{
	struct mailfmt *m = basic();
	struct err e = { "" };
	size_t len;
	char *msg;
	const char *id1 = "<CAGk6mPx0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOP"
	    "QRSTUV@mail.gmail.com>";
	const char *id2 = "<demo-informe-ambiente-2026@montevideo.example>";
	char refs[300], want[400];

	(void)state;
	snprintf(refs, sizeof refs, "%s %s", id2, id1);
	assert_int_equal(mailfmt_header(m, "In-Reply-To", id1), 0);
	assert_int_equal(mailfmt_header(m, "References", refs), 0);
	assert_int_equal(mailfmt_text(m, "x"), 0);
	msg = mailfmt_build(m, "red.test", 0, NULL, &len, &e);
	assert_non_null(msg);
	no_bare_line_ends(msg, len);
	/* a msg-id longer than a line stays whole: no encoded-word */
	snprintf(want, sizeof want, "\r\nIn-Reply-To: %s\r\n", id1);
	assert_non_null(strstr(msg, want));
	snprintf(want, sizeof want, "\r\nReferences: %s\r\n %s\r\n", id2, id1);
	assert_non_null(strstr(msg, want));
	free(msg);
	mailfmt_free(m);
}

static void
test_fold_long_non_ascii(void **state)
{
	char subject[2048] = "";
	char *dec;

	(void)state;
	for (int i = 0; i < 12; i++)
		strcat(subject, "Reunião de coordenação da Unidade Temática de Ciência 🎉 ");
	strcat(subject, "ÑANDÚ");
	dec = subject_roundtrip(subject);	/* lines <= 78, words <= 75, whole chars */
	assert_string_equal(dec, subject);
	free(dec);
	/* mixed runs: plain words stay plain */
	dec = subject_roundtrip("Recibido: Reunión de la red [informe] São Paulo");
	assert_string_equal(dec, "Recibido: Reunión de la red [informe] São Paulo");
	free(dec);
}

static void
test_header_blanks_collapsed(void **state)
{
	char *dec = subject_roundtrip("  Hola \t  mundo  ");

	(void)state;
	assert_string_equal(dec, "Hola mundo");
	free(dec);
}

/* ---- addresses ------------------------------------------------------------ */

static void
test_addresses(void **state)
{
	struct mailfmt *m = mailfmt_new();
	struct parsed ps;
	size_t len;
	char *msg, *dec;

	(void)state;
	assert_int_equal(mailfmt_address(m, "From", "Mercociudades", "secretaria@red.test"), 0);
	assert_int_equal(mailfmt_address(m, "To", "Smith, John", "john@a.test"), 0);
	assert_int_equal(mailfmt_address(m, "To", "Juan Perez", "juan@b.test"), 0);
	assert_int_equal(mailfmt_address(m, "to", "Say \"hi\" \\o/", "hi@c.test"), 0);
	assert_int_equal(mailfmt_address(m, "To", NULL, "bare@d.test"), 0);
	assert_int_equal(mailfmt_address(m, "To", "", "empty@d.test"), 0);
	assert_int_equal(mailfmt_address(m, "Cc", "Pérez, Juan", "perez@e.test"), 0);
	assert_int_equal(mailfmt_address(m, "Reply-To", "Intendencia de Morón",
	    "intendencia+a1b2@moron.example"), 0);
	assert_int_equal(mailfmt_text(m, "x"), 0);
	msg = build(m, 0, NULL, &len);
	parse_headers(msg, len, &ps);
	assert_int_equal(count_header(&ps, "To"), 1);
	assert_string_equal(header(&ps, "From"), "Mercociudades <secretaria@red.test>");
	/* unfolding gives the list back, joined with ", " */
	assert_string_equal(header(&ps, "To"),
	    "\"Smith, John\" <john@a.test>, Juan Perez <juan@b.test>, "
	    "\"Say \\\"hi\\\" \\\\o/\" <hi@c.test>, bare@d.test, empty@d.test");
	/* non-ASCII names are encoded whole, so the comma is inside the word */
	assert_string_equal(header(&ps, "Cc"), "=?UTF-8?Q?P=C3=A9rez=2C_Juan?= <perez@e.test>");
	dec = decode_2047(header(&ps, "Reply-To"));
	assert_string_equal(dec, "Intendencia de Morón <intendencia+a1b2@moron.example>");
	free(dec);
	parsed_free(&ps);
	free(msg);
	mailfmt_free(m);
}

static void
test_many_addresses_fold(void **state)
{
	struct mailfmt *m = basic();
	struct parsed ps;
	char addr[64], name[64];
	size_t len;
	char *msg, *dec;
	int commas = 0;

	(void)state;
	for (int i = 0; i < 30; i++) {
		snprintf(addr, sizeof addr, "contacto%d@ciudad%d.example", i, i);
		snprintf(name, sizeof name, i % 2 ? "Ciudad Número %d" : "Ciudad %d", i);
		assert_int_equal(mailfmt_address(m, "Cc", name, addr), 0);
	}
	assert_int_equal(mailfmt_text(m, "x"), 0);
	msg = build(m, 0, NULL, &len);
	parse_headers(msg, len, &ps);	/* every line <= 78 */
	dec = decode_2047(header(&ps, "Cc"));
	for (const char *p = dec; (p = strstr(p, ", ")) != NULL; p++)
		commas++;
	assert_int_equal(commas, 29);
	assert_non_null(strstr(dec, ", Ciudad Número 29 <contacto29@ciudad29.example>"));
	assert_memory_equal(dec, "Ciudad 0 <contacto0@ciudad0.example>, ", 38);
	free(dec);
	parsed_free(&ps);
	free(msg);
	mailfmt_free(m);
}

static void
test_invalid_addresses(void **state)
{
	static const char *const bad[] = {
		"", "no-at", "a@b@c.test", "a b@c.test", "<a@b.test>", "a@b.test>",
		"a,b@c.test", "a;b@c.test", "a\"b@c.test", "a\r\n@c.test", "a@c.test\r\nBcc: x",
		"@c.test", "a@", "a@.test", "a@c..test", "a..b@c.test", ".a@c.test",
		"a.@c.test", "josé@c.test", "a@c_d.test", "a@-c.test", "a@c-.test",
		"a(b)@c.test", "a@[127.0.0.1]", "a\\b@c.test", "a:b@c.test", "a@c.test.",
	};
	struct mailfmt *m = mailfmt_new();

	(void)state;
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		if (mailfmt_address(m, "To", "X", bad[i]) != -1)
			fail_msg("accepted \"%s\"", bad[i]);
	}
	assert_int_equal(mailfmt_address(m, "To", "X", NULL), -1);
	/* valid ones */
	assert_int_equal(mailfmt_address(m, "To", NULL, "a.b+tag-1@sub.example.org"), 0);
	assert_int_equal(mailfmt_address(m, "To", NULL, "o'brien@x.test"), 0);
	/* not an address header, Bcc refused, one From */
	assert_int_equal(mailfmt_address(m, "Subject", NULL, "a@b.test"), -1);
	assert_int_equal(mailfmt_address(m, "Bcc", NULL, "a@b.test"), -1);
	assert_int_equal(mailfmt_address(m, "From", NULL, "a@b.test"), 0);
	assert_int_equal(mailfmt_address(m, "From", NULL, "c@d.test"), -1);
	mailfmt_free(m);
}

/* ---- quoted-printable ------------------------------------------------------- */

static void
qp_roundtrip(const char *in)
{
	char *q = mailfmt_qp(in), *dec, *want;

	assert_non_null(q);
	dec = decode_qp(q, strlen(q));		/* lines <= 76, CRLF only */
	want = lf_only(in);
	assert_string_equal(dec, want);
	/* physical lines never start with '.' or "From " */
	for (const char *p = q; p != NULL; p = strstr(p, "\r\n") ? strstr(p, "\r\n") + 2 : NULL) {
		assert_true(*p != '.');
		assert_true(strncmp(p, "From ", 5) != 0);
	}
	/* no physical line cuts a UTF-8 character */
	for (const char *p = q; *p != '\0';) {
		const char *e = strstr(p, "\r\n");
		size_t l = e ? (size_t)(e - p) : strlen(p);
		char *line = strndup(p, l), *d;
		if (l > 0 && line[l - 1] == '=')
			line[l - 1] = '\0';
		d = decode_qp(line, strlen(line));
		assert_true(utf8_ok((unsigned char *)d, strlen(d)));
		free(d);
		free(line);
		p += l + (e ? 2 : 0);
	}
	free(want);
	free(dec);
	free(q);
}

static void
test_qp_exact(void **state)
{
	char *q;

	(void)state;
	q = mailfmt_qp("a=b ação\n");
	assert_string_equal(q, "a=3Db a=C3=A7=C3=A3o\r\n");
	free(q);
	q = mailfmt_qp("fin   \nx\t\n");
	assert_string_equal(q, "fin  =20\r\nx=09\r\n");
	free(q);
	q = mailfmt_qp(".\n.hidden\nFrom here\nFromage\n");
	assert_string_equal(q, "=2E\r\n=2Ehidden\r\n=46rom here\r\nFromage\r\n");
	free(q);
	q = mailfmt_qp("a\rb\r\nc\nd");
	assert_string_equal(q, "a\r\nb\r\nc\r\nd");
	free(q);
	q = mailfmt_qp("");
	assert_string_equal(q, "");
	free(q);
	assert_null(mailfmt_qp(NULL));
}

static void
test_qp_soft_breaks(void **state)
{
	char line[400], *q;

	(void)state;
	/* exactly 76 fits, 77 needs a soft break */
	memset(line, 'a', 76);
	line[76] = '\0';
	q = mailfmt_qp(line);
	assert_string_equal(q, line);
	free(q);
	memset(line, 'a', 77);
	line[77] = '\0';
	q = mailfmt_qp(line);
	assert_int_equal(strlen(q), 80);
	assert_memory_equal(q + 75, "=\r\naa", 5);
	free(q);
	/* '.' after a soft break is encoded too */
	memset(line, 'a', 75);
	strcpy(line + 75, ".b");
	q = mailfmt_qp(line);
	assert_non_null(strstr(q, "=\r\n=2Eb"));
	free(q);
	qp_roundtrip(line);
}

static void
test_qp_roundtrips(void **state)
{
	char big[4096] = "";

	(void)state;
	qp_roundtrip("Hola,\n\nSu informe fue registrado.\n");
	qp_roundtrip("trailing blanks   \nand tabs\t\t\n  \n\t");
	qp_roundtrip("= at the end =\n==\n=");
	qp_roundtrip("CRLF\r\nlone CR\rlone LF\nend");
	qp_roundtrip("\x01\x02 controls \x7f and \x1b[0m");
	for (int i = 0; i < 60; i++)
		strcat(big, i % 5 == 4 ? "\n" : "Reunião ção € 🎉 ñandú ==== ");
	qp_roundtrip(big);
	memset(big, 0, sizeof big);
	for (int i = 0; i < 200; i++)
		strcat(big, "ñ");
	qp_roundtrip(big);
	memset(big, 0, sizeof big);
	for (int i = 0; i < 300; i++)
		strcat(big, i % 7 ? "a" : " ");
	strcat(big, "     ");
	qp_roundtrip(big);
}

/* ---- whole messages --------------------------------------------------------- */

static void
check_msgid(const char *id, time_t now)
{
	char want[64];
	size_t l = strlen(id);

	assert_true(l > 40);
	assert_int_equal(id[0], '<');
	assert_int_equal(id[l - 1], '>');
	for (int i = 1; i <= 32; i++)
		assert_non_null(strchr("0123456789abcdef", id[i]));
	snprintf(want, sizeof want, ".%lld@red.test>", (long long)now);
	assert_string_equal(id + 33, want);
}

static void
test_build_plain(void **state)
{
	struct mailfmt *m = basic();
	struct parsed ps;
	char *msg, *msgid, *dec;
	size_t len;

	(void)state;
	setenv("TZ", "America/Montevideo", 1);	/* must not matter */
	tzset();
	assert_int_equal(mailfmt_header(m, "Subject", "Recibido: [informe] Ambiente"), 0);
	assert_int_equal(mailfmt_header(m, "Auto-Submitted", "auto-replied"), 0);
	assert_int_equal(mailfmt_text(m, "Estimado/a:\n\nSu informe fue registrado.\n"
	    ".\nFrom the network\n-- \nSecretaría Ejecutiva de Mercociudades"), 0);
	msg = build(m, 1795441500, &msgid, &len);
	parse_headers(msg, len, &ps);
	assert_string_equal(ps.name[0], "Date");
	assert_string_equal(header(&ps, "Date"), "Mon, 23 Nov 2026 13:45:00 +0000");
	assert_string_equal(header(&ps, "Message-ID"), msgid);
	check_msgid(msgid, 1795441500);
	assert_string_equal(header(&ps, "MIME-Version"), "1.0");
	assert_string_equal(header(&ps, "Content-Type"), "text/plain; charset=UTF-8");
	assert_string_equal(header(&ps, "Content-Transfer-Encoding"), "quoted-printable");
	assert_string_equal(header(&ps, "Auto-Submitted"), "auto-replied");
	dec = decode_2047(header(&ps, "From"));
	assert_string_equal(dec, "Secretaría Ejecutiva <secretaria@red.test>");
	free(dec);
	assert_int_equal(count_header(&ps, "Date"), 1);
	assert_int_equal(count_header(&ps, "Message-ID"), 1);
	dec = decode_qp(ps.body, ps.body_len);
	assert_string_equal(dec, "Estimado/a:\n\nSu informe fue registrado.\n"
	    ".\nFrom the network\n-- \nSecretaría Ejecutiva de Mercociudades\n");
	free(dec);
	/* the message ends with CRLF */
	assert_memory_equal(msg + len - 2, "\r\n", 2);
	parsed_free(&ps);
	free(msgid);
	free(msg);
	mailfmt_free(m);
	unsetenv("TZ");
	tzset();
}

static void
test_date_format(void **state)
{
	static const struct {
		time_t t;
		const char *want;
	} cases[] = {
		{ 0, "Thu, 01 Jan 1970 00:00:00 +0000" },
		{ 951868799, "Tue, 29 Feb 2000 23:59:59 +0000" },
		{ 1795441500, "Mon, 23 Nov 2026 13:45:00 +0000" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
		struct mailfmt *m = basic();
		struct parsed ps;
		size_t len;
		char *msg;

		assert_int_equal(mailfmt_text(m, "x"), 0);
		msg = build(m, cases[i].t, NULL, &len);
		parse_headers(msg, len, &ps);
		assert_string_equal(header(&ps, "Date"), cases[i].want);
		parsed_free(&ps);
		free(msg);
		mailfmt_free(m);
	}
}

static void
test_msgid_unique(void **state)
{
	struct mailfmt *m = basic();
	char *ids[16];
	size_t len;

	(void)state;
	assert_int_equal(mailfmt_text(m, "x"), 0);
	for (int i = 0; i < 16; i++) {
		char *msg = build(m, 1795441500, &ids[i], &len);
		check_msgid(ids[i], 1795441500);
		for (int j = 0; j < i; j++)
			assert_string_not_equal(ids[i], ids[j]);
		free(msg);
	}
	for (int i = 0; i < 16; i++)
		free(ids[i]);
	mailfmt_free(m);
}

static int
contains(const char *s, size_t n, const char *needle)
{
	size_t l = strlen(needle);

	for (size_t i = 0; i + l <= n; i++)
		if (memcmp(s + i, needle, l) == 0)
			return 1;
	return 0;
}

/* Split a multipart body by boundary into parts (header+content each). */
static size_t
split_parts(const char *body, size_t len, const char *boundary,
    const char **start, size_t *plen, size_t max)
{
	char delim[128], close[128];
	const char *p, *end = body + len;
	size_t n = 0;

	snprintf(delim, sizeof delim, "--%s\r\n", boundary);
	snprintf(close, sizeof close, "\r\n--%s--\r\n", boundary);
	p = strstr(body, delim);
	assert_non_null(p);
	p += strlen(delim);
	for (;;) {
		char next[128];
		const char *q;

		snprintf(next, sizeof next, "\r\n--%s", boundary);
		q = strstr(p, next);
		assert_non_null(q);
		assert_true(n < max);
		start[n] = p;
		plen[n] = (size_t)(q - p);
		n++;
		if (strncmp(q, close, strlen(close)) == 0) {
			assert_ptr_equal(q + strlen(close), end);	/* nothing after */
			return n;
		}
		p = q + strlen(next) + 2;
	}
}

static void
test_multipart_calendar_last(void **state)
{
	static const char ics[] =
	    "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//mercomail//ES\r\n"
	    "METHOD:REQUEST\r\nBEGIN:VEVENT\r\nUID:reunion-1@red.test\r\n"
	    "SUMMARY:Reunión de la Unidad Temática de Ambiente y Desarrollo Sostenible\r\n"
	    "END:VEVENT\r\nEND:VCALENDAR\r\n";
	struct mailfmt *m = basic();
	struct parsed ps, part;
	const char *ct, *pstart[8];
	size_t len, plen[8], np, clen;
	char boundary[100], *msg, *dec;

	(void)state;
	assert_int_equal(mailfmt_header(m, "Subject", "Convocatoria: Reunión"), 0);
	assert_int_equal(mailfmt_text(m, "Le invitamos a la reunión.\n"), 0);
	assert_int_equal(mailfmt_html(m, "<p>Le invitamos a la <b>reunión</b>.</p>\n"), 0);
	assert_int_equal(mailfmt_calendar(m, ics, "request"), 0);
	assert_int_equal(mailfmt_calendar(m, ics, "REQ UEST"), -1);
	assert_int_equal(mailfmt_calendar(m, ics, "REQUEST\r\nX"), -1);
	msg = build(m, 0, NULL, &len);
	parse_headers(msg, len, &ps);
	ct = header(&ps, "Content-Type");
	assert_memory_equal(ct, "multipart/alternative; boundary=\"", 33);
	assert_int_equal(sscanf(ct + 33, "%99[^\"]", boundary), 1);
	assert_true(strlen(boundary) >= 16);
	np = split_parts(ps.body, ps.body_len, boundary, pstart, plen, 8);
	assert_int_equal(np, 3);

	/* 1: text/plain */
	parse_headers(pstart[0], plen[0] + 2, &part);
	assert_string_equal(header(&part, "Content-Type"), "text/plain; charset=UTF-8");
	assert_string_equal(header(&part, "Content-Transfer-Encoding"), "quoted-printable");
	dec = decode_qp(part.body, part.body_len - 2);
	assert_string_equal(dec, "Le invitamos a la reunión.");
	free(dec);
	assert_false(contains(pstart[0], plen[0], boundary));
	assert_false(contains(pstart[1], plen[1], boundary));
	assert_false(contains(pstart[2], plen[2], boundary));
	parsed_free(&part);
	/* 2: text/html */
	parse_headers(pstart[1], plen[1] + 2, &part);
	assert_string_equal(header(&part, "Content-Type"), "text/html; charset=UTF-8");
	dec = decode_qp(part.body, part.body_len - 2);
	assert_string_equal(dec, "<p>Le invitamos a la <b>reunión</b>.</p>");
	free(dec);
	parsed_free(&part);
	/* 3, last: text/calendar with the method */
	parse_headers(pstart[2], plen[2] + 2, &part);
	assert_string_equal(header(&part, "Content-Type"),
	    "text/calendar; charset=UTF-8; method=REQUEST");
	assert_string_equal(header(&part, "Content-Transfer-Encoding"), "base64");
	dec = decode_b64(part.body, part.body_len, &clen);
	assert_int_equal(clen, strlen(ics));
	assert_memory_equal(dec, ics, clen);
	free(dec);
	parsed_free(&part);

	parsed_free(&ps);
	free(msg);
	mailfmt_free(m);
}

/* An attachment: multipart/mixed, the alternative first, then the bytes
 * (all 256 values) base64 with their name; bad names and types refused. */
static void
test_attachment(void **state)
{
	struct mailfmt *m = basic();
	struct parsed ps, part, inner;
	const char *ct, *pstart[8], *istart[8];
	size_t len, plen[8], ilen[8], clen;
	char boundary[100], iboundary[100], *msg, *dec;
	unsigned char bytes[300];

	(void)state;
	for (size_t i = 0; i < sizeof bytes; i++)
		bytes[i] = (unsigned char)(i * 7);
	assert_int_equal(mailfmt_text(m, "Adjuntamos el informe.\n"), 0);
	assert_int_equal(mailfmt_html(m, "<p>Adjuntamos el informe.</p>\n"), 0);
	assert_int_equal(mailfmt_attach(m, "informe-2026-06.html", "text/html; charset=utf-8",
	    bytes, sizeof bytes), 0);
	assert_int_equal(mailfmt_attach(m, "../etc/passwd", "text/plain", "x", 1), -1);
	assert_int_equal(mailfmt_attach(m, "a\"b.html", "text/plain", "x", 1), -1);
	assert_int_equal(mailfmt_attach(m, "", "text/plain", "x", 1), -1);
	assert_int_equal(mailfmt_attach(m, "a.txt", "text/plain\r\nBcc: x@y", "x", 1), -1);
	assert_int_equal(mailfmt_attach(m, "a.txt", "plain", "x", 1), -1);
	assert_int_equal(mailfmt_attach(m, "a.txt", "text/plain; name=\"a\"", "x", 1), -1);
	assert_int_equal(mailfmt_attach(m, "empty.txt", "text/plain", NULL, 0), 0);
	msg = build(m, 0, NULL, &len);
	parse_headers(msg, len, &ps);
	ct = header(&ps, "Content-Type");
	assert_memory_equal(ct, "multipart/mixed; boundary=\"", 27);
	assert_int_equal(sscanf(ct + 27, "%99[^\"]", boundary), 1);
	assert_int_equal(split_parts(ps.body, ps.body_len, boundary, pstart, plen, 8), 3);
	/* 1: the alternative, whole */
	parse_headers(pstart[0], plen[0] + 2, &part);
	ct = header(&part, "Content-Type");
	assert_memory_equal(ct, "multipart/alternative; boundary=\"", 33);
	assert_int_equal(sscanf(ct + 33, "%99[^\"]", iboundary), 1);
	assert_int_equal(split_parts(part.body, part.body_len, iboundary, istart, ilen, 8), 2);
	parse_headers(istart[0], ilen[0] + 2, &inner);
	dec = decode_qp(inner.body, inner.body_len - 2);
	assert_string_equal(dec, "Adjuntamos el informe.");
	free(dec);
	parsed_free(&inner);
	parsed_free(&part);
	/* 2: the attachment */
	parse_headers(pstart[1], plen[1] + 2, &part);
	assert_string_equal(header(&part, "Content-Type"), "text/html; charset=utf-8");
	assert_string_equal(header(&part, "Content-Disposition"),
	    "attachment; filename=\"informe-2026-06.html\"");
	assert_string_equal(header(&part, "Content-Transfer-Encoding"), "base64");
	dec = decode_b64(part.body, part.body_len, &clen);
	assert_int_equal(clen, sizeof bytes);
	assert_memory_equal(dec, bytes, clen);
	free(dec);
	assert_false(contains(pstart[1], plen[1], boundary));
	parsed_free(&part);
	/* 3: the empty one */
	parse_headers(pstart[2], plen[2] + 2, &part);
	assert_string_equal(header(&part, "Content-Disposition"),
	    "attachment; filename=\"empty.txt\"");
	parsed_free(&part);
	parsed_free(&ps);
	free(msg);
	mailfmt_free(m);
}

static void
test_multipart_text_and_calendar(void **state)
{
	struct mailfmt *m = basic();
	struct parsed ps, part;
	const char *pstart[8];
	size_t len, plen[8], clen;
	char boundary[100], *msg, *dec;

	(void)state;
	assert_int_equal(mailfmt_text(m, "Cancelada."), 0);
	/* LF-only iCalendar gets CRLF */
	assert_int_equal(mailfmt_calendar(m, "BEGIN:VCALENDAR\nMETHOD:CANCEL\nEND:VCALENDAR\n",
	    "CANCEL"), 0);
	msg = build(m, 0, NULL, &len);
	parse_headers(msg, len, &ps);
	assert_int_equal(sscanf(header(&ps, "Content-Type"),
	    "multipart/alternative; boundary=\"%99[^\"]", boundary), 1);
	assert_int_equal(split_parts(ps.body, ps.body_len, boundary, pstart, plen, 8), 2);
	parse_headers(pstart[1], plen[1] + 2, &part);
	assert_string_equal(header(&part, "Content-Type"),
	    "text/calendar; charset=UTF-8; method=CANCEL");
	dec = decode_b64(part.body, part.body_len, &clen);
	assert_int_equal(clen, strlen("BEGIN:VCALENDAR\r\nMETHOD:CANCEL\r\nEND:VCALENDAR\r\n"));
	assert_memory_equal(dec, "BEGIN:VCALENDAR\r\nMETHOD:CANCEL\r\nEND:VCALENDAR\r\n", clen);
	free(dec);
	parsed_free(&part);
	parsed_free(&ps);
	free(msg);
	mailfmt_free(m);
}

static void
test_no_bare_lf(void **state)
{
	struct mailfmt *m = basic();
	size_t len;
	char *msg;

	(void)state;
	assert_int_equal(mailfmt_header(m, "Subject", "a\nb\rc"), 0);
	assert_int_equal(mailfmt_text(m, "uno\ndos\rtres\r\n\n\r\r\n"), 0);
	assert_int_equal(mailfmt_html(m, "<p>\nx\r</p>"), 0);
	msg = build(m, 0, NULL, &len);		/* checks CRLF only */
	assert_null(strstr(msg, "\r\r"));
	free(msg);
	mailfmt_free(m);
}

static void
test_build_errors(void **state)
{
	struct err e = { "" };
	struct mailfmt *m = mailfmt_new();
	size_t len = 7;
	char *id = (char *)"x";

	(void)state;
	assert_null(mailfmt_build(m, "red.test", 0, &id, &len, &e));	/* no text */
	assert_null(id);
	assert_int_equal(len, 0);
	assert_non_null(strstr(e.msg, "text"));
	assert_int_equal(mailfmt_text(m, "x"), 0);
	assert_null(mailfmt_build(m, "red.test", 0, NULL, &len, &e));	/* no From */
	assert_non_null(strstr(e.msg, "From"));
	assert_int_equal(mailfmt_address(m, "From", NULL, "a@red.test"), 0);
	assert_null(mailfmt_build(m, "red test", 0, NULL, &len, &e));
	assert_null(mailfmt_build(m, "", 0, NULL, &len, &e));
	assert_null(mailfmt_build(m, NULL, 0, NULL, &len, &e));
	assert_null(mailfmt_build(NULL, "red.test", 0, NULL, &len, NULL));
	assert_int_equal(mailfmt_text(m, NULL), -1);
	assert_int_equal(mailfmt_html(NULL, "x"), -1);
	mailfmt_free(m);
}

/* ---- wrap ----------------------------------------------------------------- */

static size_t
cols(const char *s, size_t n)
{
	size_t c = 0;

	for (size_t i = 0; i < n; i++)
		if (((unsigned char)s[i] & 0xc0) != 0x80)
			c++;
	return c;
}

/* Every line <= width unless it is one word (after its indentation). */
static void
check_width(const char *s, size_t width)
{
	while (*s != '\0') {
		size_t l = strcspn(s, "\n");
		if (cols(s, l) > width) {
			size_t ind = strspn(s, " ");
			assert_null(memchr(s + ind, ' ', l - ind));
		}
		s += l + (s[l] == '\n');
	}
}

/* The words of a text, in order, joined by single spaces. */
static char *
words(const char *s)
{
	char *out = calloc(1, strlen(s) + 2);
	size_t o = 0;

	assert_non_null(out);
	while (*s != '\0') {
		size_t b = strspn(s, " \t\n");
		s += b;
		if (*s == '\0')
			break;
		if (o > 0)
			out[o++] = ' ';
		while (*s != '\0' && !strchr(" \t\n", *s))
			out[o++] = *s++;
	}
	return out;
}

static void
test_wrap(void **state)
{
	const char *in =
	    "Formulario: informe\n"
	    "Unidad: ambiente\n"
	    "Actividades: Taller regional sobre gestión de residuos en Canelones, con catorce ciudades participantes y tres organismos.\n"
	    "\n"
	    "Un párrafo largo que habla de la reunión de coordinación de la Unidad Temática de Ambiente y Desarrollo Sostenible de la red Mercociudades.\n"
	    "    Sangría conservada en un párrafo largo que sigue siendo demasiado largo para una sola línea de setenta y ocho.\n"
	    "Enlace: https://example.org/una/direccion/muy/larga/que/no/se/puede/cortar/de/ninguna/manera/posible\n"
	    "fin";
	char *out = mailfmt_wrap(in, 78), *a, *b;

	(void)state;
	assert_non_null(out);
	check_width(out, 78);
	a = words(in);
	b = words(out);
	assert_string_equal(a, b);	/* nothing lost, no word broken */
	free(a);
	free(b);
	/* short "Name: value" lines kept as they are, one per line */
	assert_memory_equal(out, "Formulario: informe\nUnidad: ambiente\nActividades: ", 50);
	/* the continuation of a "Name: value" line hangs by two */
	assert_non_null(strstr(out, "Actividades: Taller regional sobre gestión de residuos en "
	    "Canelones, con\n  catorce ciudades"));
	/* an indented paragraph keeps its indentation on every line */
	assert_non_null(strstr(out, "\n    Sangría conservada"));
	{
		const char *p = strstr(out, "\n    Sangría");
		const char *q = strchr(p + 1, '\n');
		assert_memory_equal(q, "\n    ", 5);
	}
	/* a word longer than the width stays whole */
	assert_non_null(strstr(out, "\n  https://example.org/una/direccion/muy/larga/que/no/se/puede/cortar/de/ninguna/manera/posible\n"));
	assert_memory_equal(out + strlen(out) - 4, "\nfin", 4);
	free(out);

	/* the rest of a broken line runs on into the paragraph's next line */
	out = mailfmt_wrap("uno dos tres cuatro cinco seis\nsiete ocho\n\nFin", 20);
	assert_string_equal(out, "uno dos tres cuatro\ncinco seis siete\nocho\n\nFin");
	free(out);
	out = mailfmt_wrap("Puede copiar este ejemplo a secretaria@mercociudades.example y\n"
	    "completarlo con los\ndatos de su ciudad:\n\nFormulario: adhesion\n", 40);
	assert_string_equal(out, "Puede copiar este ejemplo a\n"
	    "secretaria@mercociudades.example y\ncompletarlo con los datos de su ciudad:\n"
	    "\nFormulario: adhesion\n");
	free(out);
	/* but never into a "Name: value" line, a list item or other indentation */
	out = mailfmt_wrap("Nombre: aaa bbb ccc ddd\nOtra: x\n- eee fff ggg hhh\n"
	    "- iii\n  jjj kkk lll mmm\nnnn", 15);
	assert_string_equal(out, "Nombre: aaa bbb\n  ccc ddd\nOtra: x\n- eee fff ggg\n"
	    "  hhh\n- iii\n  jjj kkk lll\n  mmm\nnnn");
	free(out);
	/* a line that cannot be broken carries its next words along */
	out = mailfmt_wrap("xxxxxxxxxxxxxxxxxxxxxxxx a b\nc d\n", 10);
	assert_string_equal(out, "xxxxxxxxxxxxxxxxxxxxxxxx\na b c d\n");
	free(out);
	out = mailfmt_wrap("  xxxxxxxxxxxxxxxxxxxxxxxx\n  a b", 10);
	assert_string_equal(out, "  xxxxxxxxxxxxxxxxxxxxxxxx\n  a b");
	free(out);
	/* short lines, a signature: untouched, byte for byte */
	out = mailfmt_wrap("Atentamente,\nSecretaría Ejecutiva de Mercociudades\n  x  \n", 78);
	assert_string_equal(out, "Atentamente,\nSecretaría Ejecutiva de Mercociudades\n  x  \n");
	free(out);
	/* already short: unchanged; CRLF becomes LF; a final newline stays */
	out = mailfmt_wrap("a\r\nb\n\nc\n", 78);
	assert_string_equal(out, "a\nb\n\nc\n");
	free(out);
	/* width in characters, not bytes */
	out = mailfmt_wrap("ção ção ção", 11);
	assert_string_equal(out, "ção ção ção");
	free(out);
	out = mailfmt_wrap("ção ção ção", 10);
	assert_string_equal(out, "ção ção\nção");
	free(out);
	out = mailfmt_wrap("", 78);
	assert_string_equal(out, "");
	free(out);
	assert_null(mailfmt_wrap(NULL, 78));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_encode_word_ascii_is_copy),
		cmocka_unit_test(test_encode_word_exact),
		cmocka_unit_test(test_encode_word_roundtrip),
		cmocka_unit_test(test_encode_word_long_splits_on_characters),
		cmocka_unit_test(test_encode_word_strips_controls),
		cmocka_unit_test(test_subject_injection),
		cmocka_unit_test(test_header_names),
		cmocka_unit_test(test_header_set_twice_replaces),
		cmocka_unit_test(test_fold_ascii),
		cmocka_unit_test(test_fold_exact),
		cmocka_unit_test(test_fold_long_word),
		cmocka_unit_test(test_msgid_headers_not_encoded),
		cmocka_unit_test(test_fold_long_non_ascii),
		cmocka_unit_test(test_header_blanks_collapsed),
		cmocka_unit_test(test_addresses),
		cmocka_unit_test(test_many_addresses_fold),
		cmocka_unit_test(test_invalid_addresses),
		cmocka_unit_test(test_qp_exact),
		cmocka_unit_test(test_qp_soft_breaks),
		cmocka_unit_test(test_qp_roundtrips),
		cmocka_unit_test(test_build_plain),
		cmocka_unit_test(test_date_format),
		cmocka_unit_test(test_msgid_unique),
		cmocka_unit_test(test_multipart_calendar_last),
		cmocka_unit_test(test_multipart_text_and_calendar),
		cmocka_unit_test(test_attachment),
		cmocka_unit_test(test_no_bare_lf),
		cmocka_unit_test(test_build_errors),
		cmocka_unit_test(test_wrap),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
