#include "buildconf.h"

#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "autoreply.h"

#define OUR "secretaria@red.test"

/* The headers of an ordinary mail from a person, as Thunderbird writes it. */
#define NORMAL_HEADERS \
	{ (char *)"Return-Path", (char *)"<ana@montevideo.gub.uy>" }, \
	{ (char *)"Received", (char *)"from mail.montevideo.gub.uy by mx.red.test" }, \
	{ (char *)"DKIM-Signature", (char *)"v=1; a=rsa-sha256; d=montevideo.gub.uy; s=sel" }, \
	{ (char *)"Message-ID", (char *)"<1234@montevideo.gub.uy>" }, \
	{ (char *)"From", (char *)"Ana Pérez <ana@montevideo.gub.uy>" }, \
	{ (char *)"To", (char *)"secretaria@red.test" }, \
	{ (char *)"Subject", (char *)"Informe de la unidad" }, \
	{ (char *)"MIME-Version", (char *)"1.0" }, \
	{ (char *)"Content-Type", (char *)"text/plain; charset=UTF-8" }, \
	{ (char *)"User-Agent", (char *)"Mozilla Thunderbird" }

#define NNORMAL 10

/* A mail built by hand (mime.c is not used here): the normal headers plus
 * up to four more. */
struct mail {
	struct mime_header h[NNORMAL + 4];
	struct mime_msg m;
};

static void
mail_init(struct mail *x)
{
	const struct mime_header normal[NNORMAL] = { NORMAL_HEADERS };

	memset(x, 0, sizeof *x);
	memcpy(x->h, normal, sizeof normal);
	x->m.headers = x->h;
	x->m.nheaders = NNORMAL;
	x->m.subject = (char *)"Informe de la unidad";
	x->m.from_addr = (char *)"ana@montevideo.gub.uy";
	x->m.from_name = (char *)"Ana Pérez";
	x->m.message_id = (char *)"<1234@montevideo.gub.uy>";
	x->m.text = (char *)"Adjunto el informe.";
	x->m.content_type = (char *)"text/plain";
}

static void
mail_add(struct mail *x, const char *name, const char *value)
{
	assert_true(x->m.nheaders < sizeof x->h / sizeof x->h[0]);
	x->h[x->m.nheaders].name = (char *)name;
	x->h[x->m.nheaders].value = (char *)value;
	x->m.nheaders++;
}

/* Replace the value of an existing header (the first one called name). */
static void
mail_set(struct mail *x, const char *name, const char *value)
{
	for (size_t i = 0; i < x->m.nheaders; i++)
		if (strcmp(x->h[i].name, name) == 0) {
			x->h[i].value = (char *)value;
			return;
		}
	fail_msg("no header %s", name);
}

static void
expect_answer(const struct mail *x)
{
	char reason[AUTOREPLY_REASON_MAX] = "junk";

	if (autoreply_check(&x->m, OUR, reason, sizeof reason) != 0)
		fail_msg("not answered: %s", reason);
	assert_string_equal(reason, "");
}

static void
expect_silence(const struct mail *x, const char *want)
{
	char reason[AUTOREPLY_REASON_MAX] = "";

	assert_int_equal(autoreply_check(&x->m, OUR, reason, sizeof reason), 1);
	assert_string_equal(reason, want);
}

/* The normal mail plus one header. */
static void
expect_header(const char *name, const char *value, const char *want)
{
	struct mail x;

	mail_init(&x);
	mail_add(&x, name, value);
	if (want == NULL)
		expect_answer(&x);
	else
		expect_silence(&x, want);
}

static void
expect_subject(const char *subject, const char *want)
{
	struct mail x;

	mail_init(&x);
	x.m.subject = (char *)subject;
	mail_set(&x, "Subject", subject);
	if (want == NULL)
		expect_answer(&x);
	else
		expect_silence(&x, want);
}

static void
expect_from(const char *from, const char *want)
{
	struct mail x;

	mail_init(&x);
	x.m.from_addr = (char *)from;
	if (want == NULL)
		expect_answer(&x);
	else
		expect_silence(&x, want);
}

/* ------------------------------------------------------------------ tests */

static void
test_normal_mail(void **state)
{
	struct mail x;

	mail_init(&x);
	expect_answer(&x);
	/* Nothing odd about these. */
	expect_header("Precedence", "normal", NULL);
	expect_header("Precedence", "first-class", NULL);
	expect_header("Listing", "x", NULL);
	expect_header("X-Auto-Response-Suppress", "DR, RN, NRN", NULL);
	expect_header("In-Reply-To", "<m1@red.test>", NULL);
	expect_header("Reply-To", "ana.perez@montevideo.gub.uy", NULL);
}

static void
test_auto_submitted(void **state)
{
	/* RFC 3834: "no" is a person, whatever the case or comment. */
	expect_header("Auto-Submitted", "no", NULL);
	expect_header("Auto-Submitted", " No ", NULL);
	expect_header("Auto-Submitted", "no (sent by a person)", NULL);
	expect_header("Auto-Submitted", "auto-replied", "auto-submitted: auto-replied");
	expect_header("Auto-Submitted", "auto-generated", "auto-submitted: auto-generated");
	expect_header("Auto-Submitted", "Auto-Replied; owner-email=\"x@y.org\"",
	    "auto-submitted: auto-replied");
	expect_header("auto-submitted", "auto-notified (vacation)", "auto-submitted: auto-notified");
	expect_header("Auto-Submitted", "", "auto-submitted: unknown");
	expect_header("Auto-Submitted", "\"<>\"", "auto-submitted: unknown");
	expect_header("Auto-Submitted", "nope", "auto-submitted: nope");

	/* Two of them: one "no" does not hide the other. */
	struct mail x;
	mail_init(&x);
	mail_add(&x, "Auto-Submitted", "no");
	mail_add(&x, "Auto-Submitted", "auto-replied");
	expect_silence(&x, "auto-submitted: auto-replied");
}

static void
test_precedence(void **state)
{
	expect_header("Precedence", "bulk", "precedence: bulk");
	expect_header("Precedence", "junk", "precedence: junk");
	expect_header("Precedence", "list", "precedence: list");
	expect_header("Precedence", "auto_reply", "precedence: auto_reply");
	expect_header("PRECEDENCE", " BULK ", "precedence: bulk");
}

static void
test_x_auto(void **state)
{
	expect_header("X-Autoreply", "yes", "x-autoreply");
	expect_header("X-AutoReply", "", "x-autoreply");
	expect_header("X-Autorespond", "Ausente hasta el lunes", "x-autorespond");
	expect_header("X-Auto-Response-Suppress", "OOF", "x-auto-response-suppress");
	expect_header("X-Auto-Response-Suppress", "All", "x-auto-response-suppress");
	expect_header("X-Auto-Response-Suppress", "AutoReply", "x-auto-response-suppress");
	expect_header("X-Auto-Response-Suppress", "DR, RN, NRN, OOF, AutoReply",
	    "x-auto-response-suppress");
	expect_header("X-Auto-Response-Suppress", "dr,oof", "x-auto-response-suppress");
}

static void
test_x_loop(void **state)
{
	expect_header("X-Loop", "secretaria@red.test", "loop: x-loop");
	expect_header("X-Loop", "lista@otra.org", "loop: x-loop");
	expect_header("X-Loop", "", "loop: x-loop");
}

static void
test_lists(void **state)
{
	expect_header("List-Id", "Intendentes <intendentes.lists.example>", "list-id");
	expect_header("List-Unsubscribe", "<mailto:leave@lists.example>", "list-unsubscribe");
	expect_header("List-Post", "<mailto:intendentes@lists.example>", "list-post");
	expect_header("List-Help", "<https://lists.example/help>", "list-help");
	expect_header("list-id", "x", "list-id");
}

static void
test_return_path(void **state)
{
	struct mail x;

	expect_header("Return-Path", "<>", "return-path: <>");	/* a second one */
	mail_init(&x);
	mail_set(&x, "Return-Path", "<>");
	expect_silence(&x, "return-path: <>");
	mail_set(&x, "Return-Path", " < > ");
	expect_silence(&x, "return-path: <>");
	mail_set(&x, "Return-Path", "");
	expect_silence(&x, "return-path: <>");
	mail_set(&x, "Return-Path", NULL);	/* robustness: a header without value */
	expect_silence(&x, "return-path: <>");
	mail_set(&x, "Return-Path", "<a@b.org>");
	expect_answer(&x);
}

static void
test_robot_senders(void **state)
{
	expect_from("MAILER-DAEMON@mx.montevideo.gub.uy", "sender: mailer-daemon");
	expect_from("MAILER-DAEMON", "sender: mailer-daemon");	/* no domain at all */
	expect_from("postmaster@montevideo.gub.uy", "sender: postmaster");
	expect_from("noreply@montevideo.gub.uy", "sender: noreply");
	expect_from("No-Reply@montevideo.gub.uy", "sender: no-reply");
	expect_from("donotreply@montevideo.gub.uy", "sender: donotreply");
	expect_from("do-not-reply@montevideo.gub.uy", "sender: do-not-reply");
	expect_from("noreply+bounce-123@montevideo.gub.uy", "sender: noreply");
	expect_from(NULL, "from: none");
	expect_from("", "from: none");
	/* Look-alikes are people (or at least not these robots). */
	expect_from("noreplyatall@montevideo.gub.uy", NULL);
	expect_from("postmasters@montevideo.gub.uy", NULL);
	expect_from("ana.noreply@montevideo.gub.uy", NULL);
	expect_from("ana@noreply.montevideo.gub.uy", NULL);

	struct mail x;
	mail_init(&x);
	x.m.reply_to_addr = (char *)"no-reply@montevideo.gub.uy";
	expect_silence(&x, "sender: no-reply");
	x.m.reply_to_addr = (char *)"ana.perez@montevideo.gub.uy";
	expect_answer(&x);
}

static void
test_dsn(void **state)
{
	struct mail x;
	struct mime_attachment att[2] = {
		{ (char *)"informe.pdf", (char *)"application/pdf", 1000 },
		{ NULL, (char *)"message/delivery-status", 300 },
	};

	mail_init(&x);
	x.m.content_type = (char *)"multipart/report";
	expect_silence(&x, "dsn");
	x.m.content_type = (char *)"Multipart/Report; report-type=delivery-status";
	expect_silence(&x, "dsn");
	x.m.content_type = (char *)"multipart/mixed";
	x.m.attachments = att;
	x.m.nattachments = 1;
	expect_answer(&x);
	x.m.nattachments = 2;
	expect_silence(&x, "dsn");
	x.m.nattachments = 0;
	x.m.content_type = (char *)"multipart/reporting";	/* not it */
	expect_answer(&x);
	x.m.content_type = NULL;
	expect_answer(&x);
}

static void
test_subjects(void **state)
{
	expect_subject("Respuesta automática: Informe de la unidad",
	    "subject: respuesta automatica");
	expect_subject("RESPUESTA AUTOMÁTICA: Informe", "subject: respuesta automatica");
	expect_subject("Respuesta automatica: Informe", "subject: respuesta automatica");
	/* Decomposed accent (NFD), as macOS may write it. */
	expect_subject("Respuesta automa\xcc\x81tica: Informe", "subject: respuesta automatica");
	expect_subject("Resposta automática: Relatório", "subject: resposta automatica");
	expect_subject("Out of Office: Informe", "subject: out of office");
	expect_subject("  out of office", "subject: out of office");
	expect_subject("Fuera de la oficina: Informe", "subject: fuera de la oficina");
	expect_subject("Fora do escritório", "subject: fora do escritorio");
	expect_subject("Ausente: Informe", "subject: ausente");
	expect_subject("Automatic reply: Informe", "subject: automatic reply");
	expect_subject("Autoreply: Informe", "subject: autoreply");
	expect_subject("Auto-Reply: Informe", "subject: auto-reply");
	expect_subject("Delivery Status Notification (Failure)",
	    "subject: delivery status notification");
	expect_subject("Undelivered Mail Returned to Sender",
	    "subject: undelivered mail returned to sender");
	expect_subject("Mail delivery failed: returning message to sender",
	    "subject: mail delivery failed");
	expect_subject("Undeliverable: Informe", "subject: undeliverable");

	/* People write these. */
	expect_subject("Ausentes en la reunión del lunes", NULL);
	expect_subject("Re: Out of Office", NULL);
	expect_subject("Informe sobre la respuesta automática", NULL);
	expect_subject("Autoreplying is off", NULL);
	expect_subject("Ausenteísmo", NULL);
	expect_subject("", NULL);
	expect_subject("\xff\xfe broken UTF-8", NULL);
	struct mail x;
	mail_init(&x);
	x.m.subject = NULL;
	expect_answer(&x);
}

static void
test_own_mail(void **state)
{
	struct mail x;
	char reason[AUTOREPLY_REASON_MAX];

	assert_string_equal(AUTOREPLY_LOOP_HEADER, "X-Mercomail-Loop");
	expect_header(AUTOREPLY_LOOP_HEADER, "secretaria@red.test", "own mail");
	expect_header("x-mercomail-loop", "", "own mail");
	expect_from("secretaria@red.test", "own mail");
	expect_from("Secretaria@RED.test", "own mail");
	expect_from("secretaria+reply-1-2-3-abc@red.test", "own mail");
	expect_from("secretaria@red.test.evil.org", NULL);
	expect_from("secretariado@red.test", NULL);
	/* Without our address only the header tells. */
	mail_init(&x);
	x.m.from_addr = (char *)OUR;
	assert_int_equal(autoreply_check(&x.m, NULL, reason, sizeof reason), 0);
	mail_add(&x, AUTOREPLY_LOOP_HEADER, "1");
	assert_int_equal(autoreply_check(&x.m, NULL, reason, sizeof reason), 1);
	assert_string_equal(reason, "own mail");
}

static void
test_first_rule_wins(void **state)
{
	struct mail x;

	mail_init(&x);
	x.m.subject = (char *)"Out of Office";
	mail_add(&x, "List-Id", "<x.lists.example>");
	mail_add(&x, "Auto-Submitted", "auto-replied");
	mail_add(&x, AUTOREPLY_LOOP_HEADER, "1");
	expect_silence(&x, "own mail");
}

static void
test_reason_buffer(void **state)
{
	struct mail x;
	char small[5];

	mail_init(&x);
	mail_add(&x, "Precedence", "bulk");
	assert_int_equal(autoreply_check(&x.m, OUR, small, sizeof small), 1);
	assert_string_equal(small, "prec");	/* truncated, terminated */
	assert_int_equal(autoreply_check(&x.m, OUR, NULL, 0), 1);
	assert_int_equal(autoreply_check(NULL, OUR, small, sizeof small), 1);
	/* A long keyword stays within the reason. */
	char big[AUTOREPLY_REASON_MAX];
	mail_init(&x);
	mail_add(&x, "Auto-Submitted",
	    "auto-replied-auto-replied-auto-replied-auto-replied-auto-replied-auto-replied");
	assert_int_equal(autoreply_check(&x.m, OUR, big, sizeof big), 1);
	assert_true(strlen(big) < sizeof big);
	assert_memory_equal(big, "auto-submitted: auto-replied-", 29);
}

static void
test_rate(void **state)
{
	assert_int_equal(autoreply_rate_ok(0, 10), 1);
	assert_int_equal(autoreply_rate_ok(9, 10), 1);
	assert_int_equal(autoreply_rate_ok(10, 10), 0);
	assert_int_equal(autoreply_rate_ok(11, 10), 0);
	assert_int_equal(autoreply_rate_ok(0, 1), 1);
	assert_int_equal(autoreply_rate_ok(1, 1), 0);
	assert_int_equal(autoreply_rate_ok(0, 0), 0);	/* 0: never answer */
	assert_int_equal(autoreply_rate_ok(UINT_MAX, UINT_MAX), 0);
	assert_int_equal(autoreply_rate_ok(UINT_MAX - 1, UINT_MAX), 1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_normal_mail),
		cmocka_unit_test(test_auto_submitted),
		cmocka_unit_test(test_precedence),
		cmocka_unit_test(test_x_auto),
		cmocka_unit_test(test_x_loop),
		cmocka_unit_test(test_lists),
		cmocka_unit_test(test_return_path),
		cmocka_unit_test(test_robot_senders),
		cmocka_unit_test(test_dsn),
		cmocka_unit_test(test_subjects),
		cmocka_unit_test(test_own_mail),
		cmocka_unit_test(test_first_rule_wins),
		cmocka_unit_test(test_reason_buffer),
		cmocka_unit_test(test_rate),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
