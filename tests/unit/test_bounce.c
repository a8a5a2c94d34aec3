#include "buildconf.h"

/* The delivery-report parser (bounce.c) on reports in the shapes OpenSMTPD,
 * Postfix, Exim, Exchange and qmail send (tests/data/bounce/, written for
 * this project), and the pure parts of the outbox: retry delays, CRLF. */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "bounce.h"
#include "outbox.h"
#include "smtp.h"

static char *
load(const char *name, size_t *len)
{
	const char *dir = getenv("MERCOMAIL_TESTDATA");
	char path[1024];
	FILE *f;
	long n;
	char *b;

	if (dir != NULL && dir[0] != '\0') {
		snprintf(path, sizeof path, "%s/bounce/%s", dir, name);
	} else {
		const char *slash = strrchr(__FILE__, '/');
		int k = slash ? (int)(slash - __FILE__) : 0;
		snprintf(path, sizeof path, "%.*s%s../data/bounce/%s", k, __FILE__,
		    slash ? "/" : "", name);
	}
	if ((f = fopen(path, "rb")) == NULL)
		fail_msg("cannot open fixture %s", path);
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	n = ftell(f);
	assert_true(n > 0);
	rewind(f);
	b = malloc((size_t)n + 1);
	assert_non_null(b);
	assert_int_equal(fread(b, 1, (size_t)n, f), (size_t)n);
	b[n] = '\0';
	fclose(f);
	*len = (size_t)n;
	return b;
}

/* The same bytes with every LF made CRLF (as fetched over IMAP). */
static char *
to_crlf(const char *s, size_t len, size_t *out)
{
	char *r = malloc(2 * len + 1);
	size_t o = 0;

	assert_non_null(r);
	for (size_t i = 0; i < len; i++) {
		if (s[i] == '\n')
			r[o++] = '\r';
		r[o++] = s[i];
	}
	r[o] = '\0';
	*out = o;
	return r;
}

static void
parse_both(const char *name, struct bounce *lf, struct bounce *crlf)
{
	size_t len, clen;
	char *raw = load(name, &len), *c = to_crlf(raw, len, &clen);

	assert_int_equal(bounce_parse(raw, len, lf), 1);
	assert_int_equal(bounce_parse(c, clen, crlf), 1);
	free(raw);
	free(c);
}

static void
check_one(const struct bounce *b, const char *msgid, const char *addr, const char *status)
{
	assert_int_equal(b->dsn, 1);
	assert_string_equal(b->orig_msgid, msgid);
	assert_int_equal(b->nrcpt, 1);
	assert_string_equal(b->rcpt[0].address, addr);
	assert_string_equal(b->rcpt[0].action, "failed");
	assert_string_equal(b->rcpt[0].status, status);
	assert_int_equal(bounce_rcpt_hard(&b->rcpt[0]), 1);
}

static void
opensmtpd(void **state)
{
	struct bounce a, b;

	(void)state;
	parse_both("opensmtpd.eml", &a, &b);
	check_one(&a, "<mc.1783332900.77@red.test>", "nadie@rosario.gob.ar", "5.0.0");
	check_one(&b, "<mc.1783332900.77@red.test>", "nadie@rosario.gob.ar", "5.0.0");
	assert_string_equal(a.rcpt[0].diagnostic, "550 Invalid recipient <nadie@rosario.gob.ar>");
	assert_string_equal(b.rcpt[0].diagnostic, a.rcpt[0].diagnostic);
}

static void
postfix(void **state)
{
	struct bounce a, b;

	(void)state;
	parse_both("postfix.eml", &a, &b);
	check_one(&a, "<mc.1783422100.12@red.test>", "joao.silva@recife.pe.gov.br", "5.1.1");
	check_one(&b, "<mc.1783422100.12@red.test>", "joao.silva@recife.pe.gov.br", "5.1.1");
	/* the folded Diagnostic-Code comes out on one line */
	assert_string_equal(a.rcpt[0].diagnostic, "550 5.1.1 <joao.silva@recife.pe.gov.br>: "
	    "Recipient address rejected: User unknown in local recipient table");
}

static void
exim(void **state)
{
	struct bounce a, b;

	(void)state;
	/* unquoted boundary, Action before Final-Recipient, folded Message-ID */
	parse_both("exim.eml", &a, &b);
	check_one(&a, "<mc.1783517400.5@red.test>", "info@asuncion.gov.py", "5.0.0");
	check_one(&b, "<mc.1783517400.5@red.test>", "info@asuncion.gov.py", "5.0.0");
	assert_string_equal(a.rcpt[0].diagnostic, "");
}

static void
exchange(void **state)
{
	struct bounce a, b;

	(void)state;
	/* the human part is itself multipart/alternative; mixed-case address */
	parse_both("exchange.eml", &a, &b);
	check_one(&a, "<mc.1783598400.9@red.test>", "cultura@montevideo.gub.uy", "5.1.10");
	check_one(&b, "<mc.1783598400.9@red.test>", "cultura@montevideo.gub.uy", "5.1.10");
	assert_non_null(strstr(a.rcpt[0].diagnostic, "RecipientNotFound; Recipient cultura@"));
}

static void
plain_qmail(void **state)
{
	struct bounce a, b;

	(void)state;
	parse_both("plain.eml", &a, &b);
	assert_int_equal(a.dsn, 0);
	assert_int_equal(a.nrcpt, 0);
	assert_int_equal(a.delayed, 0);
	/* the quoted header's Message-ID, not the bounce's own */
	assert_string_equal(a.orig_msgid, "<mc.1783692100.3@red.test>");
	assert_string_equal(b.orig_msgid, "<mc.1783692100.3@red.test>");
}

static void
plain_delay_warning(void **state)
{
	struct bounce a, b;

	(void)state;
	parse_both("delayed.eml", &a, &b);
	assert_int_equal(a.dsn, 0);
	assert_int_equal(a.delayed, 1);
	assert_string_equal(a.orig_msgid, "<mc.1783517400.6@red.test>");
}

static void
not_a_report(void **state)
{
	struct bounce b;
	size_t len;
	char *raw = load("not_a_bounce.eml", &len);

	(void)state;
	assert_int_equal(bounce_parse(raw, len, &b), 0);
	assert_string_equal(b.orig_msgid, "");
	free(raw);
	assert_int_equal(bounce_parse("", 0, &b), 0);
	assert_int_equal(bounce_parse(NULL, 0, &b), 0);
}

static void
soft_and_hard(void **state)
{
	struct bounce_rcpt r = { .action = "delayed", .status = "4.2.2" };

	(void)state;
	assert_int_equal(bounce_rcpt_hard(&r), 0);
	strcpy(r.status, "5.2.2");
	assert_int_equal(bounce_rcpt_hard(&r), 1);
	strcpy(r.status, "");
	strcpy(r.action, "failed");
	assert_int_equal(bounce_rcpt_hard(&r), 1);
}

/* Every prefix and a few mutations of every fixture: no crash, no read
 * past the end (ASan watches), and a cap on recipients. */
static void
truncated_and_mutated(void **state)
{
	static const char *const names[] = { "opensmtpd.eml", "postfix.eml", "exim.eml",
	    "exchange.eml", "plain.eml", "delayed.eml" };
	struct bounce b;

	(void)state;
	for (size_t f = 0; f < sizeof names / sizeof names[0]; f++) {
		size_t len;
		char *raw = load(names[f], &len);
		for (size_t n = 0; n <= len; n++) {
			char *copy = malloc(n ? n : 1);
			assert_non_null(copy);
			memcpy(copy, raw, n);
			bounce_parse(copy, n, &b);
			assert_true(b.nrcpt <= BOUNCE_MAX_RCPT);
			free(copy);
		}
		for (size_t i = 0; i < len; i += 7) {
			char saved = raw[i];
			raw[i] = (char)(i % 3 == 0 ? '\0' : i % 3 == 1 ? '\n' : '-');
			bounce_parse(raw, len, &b);
			raw[i] = saved;
		}
		free(raw);
	}
}

static void
many_recipients_capped(void **state)
{
	char buf[16384];
	size_t n = 0;
	struct bounce b;

	(void)state;
	n += (size_t)snprintf(buf + n, sizeof buf - n, "Content-Type: multipart/report; "
	    "boundary=XX\n\n--XX\nContent-Type: message/delivery-status\n\nReporting-MTA: dns; x\n");
	for (int i = 0; i < 40; i++)
		n += (size_t)snprintf(buf + n, sizeof buf - n,
		    "\nFinal-Recipient: rfc822; u%d@x.test\nAction: failed\nStatus: 5.1.1\n", i);
	n += (size_t)snprintf(buf + n, sizeof buf - n, "\n--XX--\n");
	assert_int_equal(bounce_parse(buf, n, &b), 1);
	assert_int_equal(b.nrcpt, BOUNCE_MAX_RCPT);
	assert_string_equal(b.rcpt[15].address, "u15@x.test");
}

static void
retry_delays(void **state)
{
	(void)state;
	/* rnd in the middle of the range (a quarter of the delay): no jitter */
	assert_int_equal(outbox_retry_delay(0, 60, 21600, 15), 60);
	assert_int_equal(outbox_retry_delay(1, 60, 21600, 30), 120);
	assert_int_equal(outbox_retry_delay(1, 60, 21600, 0), 90);	/* a quarter less */
	assert_int_equal(outbox_retry_delay(1, 60, 21600, 60), 150);	/* a quarter more */
	assert_int_equal(outbox_retry_delay(5, 60, 21600, 480), 1920);
	assert_int_equal(outbox_retry_delay(9, 60, 21600, 5400), 21600);	/* capped */
	assert_int_equal(outbox_retry_delay(500, 60, 21600, 5400), 21600);
	/* jitter stays within a quarter either way, and does move */
	time_t lo = 1 << 30, hi = 0;
	for (uint32_t r = 0; r < 1000; r++) {
		time_t d = outbox_retry_delay(3, 60, 21600, r * 2654435761u);
		assert_true(d >= 480 - 120 && d <= 480 + 120);
		lo = d < lo ? d : lo;
		hi = d > hi ? d : hi;
	}
	assert_true(hi - lo > 100);
	assert_true(outbox_retry_delay(0, 1, 1, 0) >= 1);
}

static void
crlf_on_the_wire(void **state)
{
	size_t n;
	int oom;
	char *s;

	(void)state;
	assert_null(smtp_crlf("a\r\nb\r\n", 6, &n, &oom));
	assert_int_equal(oom, 0);
	s = smtp_crlf("a\nb\r\nc\n", 7, &n, &oom);
	assert_non_null(s);
	assert_int_equal(n, 9);
	assert_memory_equal(s, "a\r\nb\r\nc\r\n", 10);
	free(s);
	s = smtp_crlf("\n", 1, &n, &oom);
	assert_non_null(s);
	assert_string_equal(s, "\r\n");
	free(s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(opensmtpd),
		cmocka_unit_test(postfix),
		cmocka_unit_test(exim),
		cmocka_unit_test(exchange),
		cmocka_unit_test(plain_qmail),
		cmocka_unit_test(plain_delay_warning),
		cmocka_unit_test(not_a_report),
		cmocka_unit_test(soft_and_hard),
		cmocka_unit_test(truncated_and_mutated),
		cmocka_unit_test(many_recipients_capped),
		cmocka_unit_test(retry_delays),
		cmocka_unit_test(crlf_on_the_wire),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
