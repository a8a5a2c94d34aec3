#include "buildconf.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "trim.h"

/* ------------------------------------------------------------------ */
/* fixtures: tests/data/trim/NAME.txt|html + NAME.expected */

static char datadir[512];

static void
find_testdata(void)
{
	const char *td = getenv("MERCOMAIL_TESTDATA");

	if (td != NULL && *td != '\0') {
		snprintf(datadir, sizeof datadir, "%s/trim", td);
	} else {
		/* tests/unit/test_trim.c -> tests/data/trim */
		const char *slash = strrchr(__FILE__, '/');
		int n = slash ? (int)(slash - __FILE__) : 0;
		snprintf(datadir, sizeof datadir, "%.*s%s../data/trim", n,
		    __FILE__, n ? "/" : "");
	}
}

/* The whole file as a string; the test fails if it cannot be read. */
static char *
slurp(const char *name, const char *ext)
{
	char path[700];
	FILE *fp;
	char *buf;
	long size;

	snprintf(path, sizeof path, "%s/%s.%s", datadir, name, ext);
	fp = fopen(path, "rb");
	if (fp == NULL)
		fail_msg("cannot open %s", path);
	assert_int_equal(fseek(fp, 0, SEEK_END), 0);
	size = ftell(fp);
	assert_true(size >= 0);
	rewind(fp);
	buf = malloc((size_t)size + 1);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)size, fp), (size_t)size);
	buf[size] = '\0';
	fclose(fp);
	return buf;
}

/* Run the text pass on a fixture; the caller frees r. */
static void
trim_fixture(const char *name, struct trim_result *r)
{
	struct err e = { "" };
	char *in = slurp(name, "txt");

	assert_int_equal(trim_text(in, r, &e), 0);
	assert_non_null(r->text);
	assert_non_null(r->cut);
	free(in);
}

static void
test_text_fixture(void **state)
{
	const char *name = *state;
	struct trim_result r;
	char *want = slurp(name, "expected");

	trim_fixture(name, &r);
	assert_string_equal(r.text, want);
	free(want);
	trim_result_free(&r);
}

static void
rtrim(char *s)
{
	size_t n = strlen(s);
	while (n > 0 && (s[n - 1] == '\n' || s[n - 1] == ' ' ||
	    s[n - 1] == '\t' || s[n - 1] == '\r'))
		s[--n] = '\0';
}

/* Markup that must never survive the HTML pass. */
static const char *const html_markers[] = {
	"gmail_quote", "gmail_attr", "gmail_signature", "divRplyFwdMsg",
	"appendonsend", "border-top:solid", "AppleMailSignature",
	"type=\"cite\"", "moz-cite-prefix", "moz-signature",
	"Enviado desde mi iPhone", "escribi\xC3\xB3:", "escreveu:", "wrote:",
	NULL
};

static void
test_html_fixture(void **state)
{
	const char *name = *state;
	char *in = slurp(name, "html");
	char *want = slurp(name, "expected");
	char *got = trim_html(in);

	assert_non_null(got);
	rtrim(got);
	rtrim(want);
	assert_string_equal(got, want);
	/* outside <style>: Outlook's CSS comment may name anything */
	const char *body = strstr(got, "</style>");
	body = body ? body : got;
	for (size_t i = 0; html_markers[i] != NULL; i++)
		if (strstr(body, html_markers[i]) != NULL)
			fail_msg("%s: \"%s\" left in the output", name,
			    html_markers[i]);
	/* the sender's part stays */
	assert_true(strstr(got, "Unidad: ") != NULL ||
	    strstr(got, "Unidade: ") != NULL);
	assert_non_null(strstr(got, "2026-07-01 a 2026-12-31"));
	free(in);
	free(want);
	free(got);
}

/* ------------------------------------------------------------------ */
/* what was cut */

static void
assert_prefix(const char *s, const char *prefix)
{
	if (strncmp(s, prefix, strlen(prefix)) != 0)
		fail_msg("\"%.60s\" does not start with \"%s\"", s, prefix);
}

static void
test_cut_gmail_es(void **state)
{
	struct trim_result r;

	trim_fixture("gmail_es_top", &r);
	/* the signature, the two-line attribution and the quote, in order */
	const char *sig = strstr(r.cut, "-- \nAna Pereira\nIntendencia de Montevideo\n");
	const char *attr = strstr(r.cut, "Mercociudades (<\nsecretaria@mercociudades.org>) escribi\xC3\xB3:\n");
	const char *quote = strstr(r.cut, "> Le recordamos que el plazo");
	assert_non_null(sig);
	assert_non_null(attr);
	assert_non_null(quote);
	assert_true(sig < attr && attr < quote);
	assert_null(strstr(r.cut, "Unidad: cultura"));
	assert_null(strstr(r.text, "> "));
	/* no leading or trailing blank lines in the cut either */
	assert_true(r.cut[0] != '\n');
	assert_true(r.cut[strlen(r.cut) - 1] == '\n');
	assert_true(r.cut[strlen(r.cut) - 2] != '\n');
	trim_result_free(&r);
}

static void
test_cut_inline(void **state)
{
	struct trim_result r;

	trim_fixture("inline_es", &r);
	assert_non_null(strstr(r.cut, "> Estimado Carlos:"));
	assert_non_null(strstr(r.cut, "> \xC2\xBF" "Desea agregar"));
	assert_non_null(strstr(r.cut, "09:05, Secretar\xC3\xAD" "a Ejecutiva"));
	assert_non_null(strstr(r.cut, "Carlos G\xC3\xB3mez"));
	assert_null(strstr(r.cut, "Unidad:"));
	assert_null(strstr(r.cut, "S\xC3\xAD, en la semana"));
	trim_result_free(&r);
}

static void
test_cut_outlook(void **state)
{
	struct trim_result r;

	trim_fixture("outlook_es_original", &r);
	assert_prefix(r.cut, "-----Mensaje original-----\nDe: ");
	assert_non_null(strstr(r.cut, "Le recordamos enviar el informe."));
	trim_result_free(&r);

	trim_fixture("outlook_pt_headers", &r);
	assert_prefix(r.cut, "________________________________\nDe: ");
	assert_non_null(strstr(r.cut, "\nEnviada em: segunda-feira"));
	assert_non_null(strstr(r.cut, "\nAssunto: Relat\xC3\xB3rio semestral\n"));
	trim_result_free(&r);

	trim_fixture("outlook_web_es", &r);
	assert_prefix(r.cut, "Obtener Outlook para Android");
	trim_result_free(&r);
}

static void
test_nothing_cut(void **state)
{
	static const char *const names[] = { "no_quote", "form_de_field", NULL };
	struct trim_result r;

	for (size_t i = 0; names[i] != NULL; i++) {
		char *in = slurp(names[i], "txt");
		trim_fixture(names[i], &r);
		assert_string_equal(r.text, in);	/* unchanged */
		assert_string_equal(r.cut, "");
		trim_result_free(&r);
		free(in);
	}
}

/* ------------------------------------------------------------------ */
/* text pass: specific cases */

static void
expect_text(const char *in, const char *want_text, const char *want_cut)
{
	struct trim_result r = { NULL, NULL };
	struct err e = { "" };

	assert_int_equal(trim_text(in, &r, &e), 0);
	assert_string_equal(r.text, want_text);
	if (want_cut != NULL)
		assert_string_equal(r.cut, want_cut);
	trim_result_free(&r);
}

static void
test_empty(void **state)
{
	struct trim_result r = { NULL, NULL };

	expect_text("", "", "");
	expect_text("\n\n  \n", "", "");
	assert_int_equal(trim_text(NULL, &r, NULL), 0);
	assert_string_equal(r.text, "");
	assert_string_equal(r.cut, "");
	trim_result_free(&r);
	trim_result_free(&r);		/* twice is fine */
	trim_result_free(NULL);
	assert_int_equal(trim_text("x", NULL, NULL), -1);
}

static void
test_crlf(void **state)
{
	expect_text("Unidad: cultura\r\n"
	    "Per\xC3\xADodo: 2026-07-01 a 2026-12-31\r\n"
	    "\r\n"
	    "-- \r\n"
	    "Ana\r\n"
	    "\r\n"
	    "El lun, 23 nov 2026 a las 10:12, Ana <a@b.org> escribi\xC3\xB3:\r\n"
	    "\r\n"
	    "> cita\r\n",
	    "Unidad: cultura\nPer\xC3\xADodo: 2026-07-01 a 2026-12-31\n",
	    "-- \nAna\n\nEl lun, 23 nov 2026 a las 10:12, Ana <a@b.org> escribi\xC3\xB3:\n\n> cita\n");
}

static void
test_final_newline_and_bom(void **state)
{
	expect_text("Unidad: cultura", "Unidad: cultura\n", "");
	expect_text("\xEF\xBB\xBFUnidad: cultura\n", "Unidad: cultura\n", "");
	expect_text("\n\nUnidad: cultura\n\n\n", "Unidad: cultura\n", "");
}

static void
test_signature_forms(void **state)
{
	/* "--" without the space, and with trailing blanks */
	expect_text("Unidad: cultura\n--\nAna\n", "Unidad: cultura\n", "--\nAna\n");
	expect_text("Unidad: cultura\n--  \t\nAna\n", "Unidad: cultura\n", NULL);
	/* a line that only starts with "--" is text */
	expect_text("Unidad: cultura\n-- ver abajo\n", "Unidad: cultura\n-- ver abajo\n", "");
	expect_text("Unidad: cultura\n---\n", "Unidad: cultura\n---\n", "");
	/* mobile trailers, es/pt/en */
	expect_text("Unidad: cultura\n\nEnviado desde mi iPhone\n", "Unidad: cultura\n", "Enviado desde mi iPhone\n");
	expect_text("Unidade: cultura\n\nEnviado do meu iPhone\n", "Unidade: cultura\n", NULL);
	expect_text("Unidade: cultura\n\nEnviado do meu smartphone Samsung Galaxy.\n", "Unidade: cultura\n", NULL);
	expect_text("Unidad: cultura\n\nSent from my iPhone\n", "Unidad: cultura\n", NULL);
	expect_text("Unidad: cultura\n\nEnviado desde Outlook para Android\n", "Unidad: cultura\n", NULL);
	expect_text("Unidad: cultura\n\nObtener Outlook para iOS<https://aka.ms/o0ukef>\n", "Unidad: cultura\n", NULL);
	/* ... but a form field that happens to start like one is kept */
	expect_text("Enviado desde: Montevideo\nUnidad: cultura\n",
	    "Enviado desde: Montevideo\nUnidad: cultura\n", "");
	/* the signature runs to the end when no quote follows */
	expect_text("Unidad: cultura\n\n-- \nAna\n\nTel. 1950\n", "Unidad: cultura\n", "-- \nAna\n\nTel. 1950\n");
}

static void
test_signature_then_quote_then_text(void **state)
{
	/* text after a quote block is the sender's again */
	expect_text("Hola\n-- \nAna\n\n> pregunta\n\nUnidad: cultura\n",
	    "Hola\n\nUnidad: cultura\n", "-- \nAna\n\n> pregunta\n");
}

static void
test_quote_any_depth(void **state)
{
	expect_text("> a\n>> b\n> > c\n>\n   > d\nUnidad: cultura\n",
	    "Unidad: cultura\n", "> a\n>> b\n> > c\n>\n   > d\n");
	/* only quotes */
	expect_text("> a\n> b\n", "", "> a\n> b\n");
	/* blank lines at a cut collapse to one */
	expect_text("A\n\n\n> q\n\n\nB\n", "A\n\nB\n", "> q\n");
	expect_text("A\n> q\nB\n", "A\nB\n", "> q\n");
	/* blank lines of the sender's own text are kept as they are */
	expect_text("A\n\n\nB\n", "A\n\n\nB\n", "");
}

static void
test_attribution_forms(void **state)
{
	static const char *const attrs[] = {
		/* Gmail */
		"El lun, 23 nov 2026 a las 10:12, Ana P\xC3\xA9rez (<ana@montevideo.gub.uy>) escribi\xC3\xB3:",
		"Em seg., 23 de nov. de 2026 \xC3\xA0s 10:12, Ana <ana@poa.rs.gov.br> escreveu:",
		"On Mon, Nov 23, 2026 at 10:12\xE2\x80\xAF" "AM Ana <ana@example.org> wrote:",
		/* Thunderbird */
		"El 23/11/2026 10:12, Ana escribi\xC3\xB3:",
		"Em 23/11/2026 10:12, Ana escreveu:",
		"On 11/23/26 10:12 AM, Ana wrote:",
		/* Apple Mail */
		"El 23 nov 2026, a las 10:12, Ana <ana@x.org> escribi\xC3\xB3:",
		"Em 23 de nov. de 2026, \xC3\xA0(s) 10:12, Ana <ana@x.org> escreveu:",
		/* French, optional */
		"Le lun. 23 nov. 2026 \xC3\xA0 10:12, Ana <ana@x.org> a \xC3\xA9" "crit :",
		"Le 23/11/2026 \xC3\xA0 10:12, Ana a \xC3\xA9" "crit\xC2\xA0:",
		NULL
	};
	char in[512], want_cut[512];

	for (size_t i = 0; attrs[i] != NULL; i++) {
		/* top-posting */
		snprintf(in, sizeof in, "Unidad: cultura\n\n%s\n\n> cita\n", attrs[i]);
		snprintf(want_cut, sizeof want_cut, "%s\n\n> cita\n", attrs[i]);
		expect_text(in, "Unidad: cultura\n", want_cut);
		/* bottom-posting */
		snprintf(in, sizeof in, "%s\n> cita\n\nUnidad: cultura\n", attrs[i]);
		expect_text(in, "Unidad: cultura\n", NULL);
		/* CRLF */
		snprintf(in, sizeof in, "Unidad: cultura\r\n%s\r\n> cita\r\n", attrs[i]);
		expect_text(in, "Unidad: cultura\n", NULL);
	}
}

static void
test_attribution_wrapped(void **state)
{
	/* Gmail wraps a long attribution: the verb may be alone below */
	expect_text("Unidad: cultura\n\n"
	    "El lun, 23 nov 2026 a las 10:12, Secretar\xC3\xAD" "a Ejecutiva de Mercociudades <secretaria@mercociudades.org>\n"
	    "escribi\xC3\xB3:\n\n> cita\n",
	    "Unidad: cultura\n", NULL);
	/* over three lines */
	expect_text("Unidad: cultura\n\n"
	    "On Mon, Nov 23, 2026 at 10:12 AM Mercociudades\n"
	    "Executive Secretariat <\n"
	    "secretaria@mercociudades.org> wrote:\n> quote\n",
	    "Unidad: cultura\n", NULL);
	/* a sentence starting with "El" before a short attribution stays */
	expect_text("El informe va abajo.\nAna escribi\xC3\xB3:\n> cita\n",
	    "El informe va abajo.\n", "Ana escribi\xC3\xB3:\n> cita\n");
}

static void
test_attribution_without_quote(void **state)
{
	/* text that only looks like an attribution is kept */
	expect_text("El intendente escribi\xC3\xB3:\nque el festival sigue.\n",
	    "El intendente escribi\xC3\xB3:\nque el festival sigue.\n", "");
	expect_text("Actividades: charla; Ana wrote:\nmore\n",
	    "Actividades: charla; Ana wrote:\nmore\n", "");
	/* a real one with nothing below (the quote was stripped) is cut */
	expect_text("Unidad: cultura\n\nOn Mon, Nov 23, 2026 at 10:12 AM Ana <a@b.org> wrote:\n",
	    "Unidad: cultura\n", NULL);
}

static void
test_outlook_header_blocks(void **state)
{
	/* es, desktop */
	expect_text("Unidad: cultura\n\nDe: Ana <a@b.org>\nEnviado el: lunes, 23 de noviembre de 2026 10:12\nPara: Juan\nAsunto: Informe\n\nviejo\n",
	    "Unidad: cultura\n", NULL);
	/* es, web: "Enviado:" */
	expect_text("Unidad: cultura\n________________________________\nDe: Ana\nEnviado: lunes\nPara: Juan\nAsunto: Informe\nviejo\n",
	    "Unidad: cultura\n", "________________________________\nDe: Ana\nEnviado: lunes\nPara: Juan\nAsunto: Informe\nviejo\n");
	/* Gmail's plain-text rendering of Outlook's bold field names */
	expect_text("Unidad: cultura\n\n*From:* Ana <a@b.org>\n*Sent:* Monday\n*To:* Juan\n*Subject:* Report\n",
	    "Unidad: cultura\n", NULL);
	/* date + to + subject without "Enviado" is enough */
	expect_text("Unidad: cultura\nFrom: Ana\nDate: Mon, 23 Nov 2026\nTo: Juan\nSubject: x\n\nold\n",
	    "Unidad: cultura\n", NULL);
	/* a separator alone, any of the three languages */
	expect_text("Unidade: cultura\n-----Mensagem original-----\nold\n", "Unidade: cultura\n", NULL);
	expect_text("Unidad: cultura\n----- Original Message -----\nold\n", "Unidad: cultura\n", NULL);
	/* everything below is cut, even text after a quote */
	expect_text("Unidad: cultura\n-----Mensaje original-----\n> a\n\nmore\n", "Unidad: cultura\n", NULL);
}

static void
test_form_fields_not_headers(void **state)
{
	/* "De:" alone is a form field */
	expect_text("De: Secretar\xC3\xAD" "a de Cultura\nUnidad: cultura\n",
	    "De: Secretar\xC3\xAD" "a de Cultura\nUnidad: cultura\n", "");
	/* "De:" and a date field: a form with a date, not an Outlook block */
	expect_text("De: Montevideo\nFecha: 2026-07-01\nUnidad: cultura\n",
	    "De: Montevideo\nFecha: 2026-07-01\nUnidad: cultura\n", "");
	expect_text("Unidad: cultura\nDe: Rosario\nPara: Montevideo\n",
	    "Unidad: cultura\nDe: Rosario\nPara: Montevideo\n", "");
	/* "Asunto:" alone, "Para:" alone */
	expect_text("Asunto: informe\nPara: todos\n", "Asunto: informe\nPara: todos\n", "");
	/* a rule that is not followed by headers is text */
	expect_text("Unidad: cultura\n__________\nFirma\n", "Unidad: cultura\n__________\nFirma\n", "");
}

/* ------------------------------------------------------------------ */
/* HTML pass: specific cases */

static void
expect_html(const char *in, const char *want)
{
	char *got = trim_html(in);

	assert_non_null(got);
	assert_string_equal(got, want);
	free(got);
}

static void
test_html_basic(void **state)
{
	assert_null(trim_html(NULL));
	expect_html("", "");
	expect_html("plain text, no tags", "plain text, no tags");
	expect_html("<p>Unidad: cultura</p>", "<p>Unidad: cultura</p>");
	/* nesting of the same name inside the removed element */
	expect_html("<p>A</p><div class=\"gmail_quote\"><div><div>q</div></div>x</div><p>B</p>",
	    "<p>A</p><p>B</p>");
	/* names and attributes in any case, quoted either way or not */
	expect_html("A<DIV CLASS='gmail_quote'><div>q</DIV></Div>B", "AB");
	expect_html("A<div class=gmail_quote>q</div>B", "AB");
	expect_html("A<div class = \"foo  gmail_quote\tbar\" >q</div>B", "AB");
	/* a class that merely contains the word is not a marker */
	expect_html("A<div class=\"not_gmail_quote\">k</div>B", "A<div class=\"not_gmail_quote\">k</div>B");
	/* Outlook on the web rewrites ids with x_ */
	expect_html("A<div id=\"x_divRplyFwdMsg\">q</div>rest", "A");
	/* a marker on a void or self-closed element removes just the tag */
	expect_html("A<br class=\"gmail_quote\">B<div class=\"gmail_quote\"/>C", "ABC");
	/* an unclosed removed element runs to the end */
	expect_html("A<blockquote type=\"cite\">q<div>q", "A");
	/* blockquote without type=cite is the sender's */
	expect_html("A<blockquote>k</blockquote>B", "A<blockquote>k</blockquote>B");
	/* a bordered div that is not a "De:/From:" block is kept */
	expect_html("<div style=\"border:none;border-top:solid #ccc 1pt\"><p>Unidad: cultura</p></div>",
	    "<div style=\"border:none;border-top:solid #ccc 1pt\"><p>Unidad: cultura</p></div>");
	/* ... and "De&nbsp;:" or a From inside tags is one */
	expect_html("K<div style='border:none; border-top: SOLID #E1E1E1 1.0pt'><p><b><span>From</span>&nbsp;:</b> x</p></div>rest", "K");
	/* Outlook's <hr> before the reply header goes too */
	expect_html("K<hr>\n<div id=divRplyFwdMsg>x</div>", "K");
	expect_html("K<hr>T<div id=divRplyFwdMsg>x</div>", "K<hr>T");
	/* comments and raw text hide markup */
	expect_html("A<!-- <div class=gmail_quote> -->B", "A<!-- <div class=gmail_quote> -->B");
	expect_html("A<script>x='<div class=gmail_quote>'</script>B", "A<script>x='<div class=gmail_quote>'</script>B");
	expect_html("<div class=gmail_quote><style>p{}</div></style>still</div>B", "B");
	/* Outlook mobile signature, Yahoo quote */
	expect_html("A<div id=\"ms-outlook-mobile-signature\">Obtener <b>Outlook</b></div>B", "AB");
	expect_html("A<div class=\"yahoo_quoted\">q</div>B", "AB");
}

static void
test_html_malformed(void **state)
{
	static const char *const cases[] = {
		"<", "<<<<", "</", "</>", "<!", "<!--", "<!-->", "<!-- x", "<?", "<a",
		"<div", "<div class", "<div class=", "<div class=\"gmail_quote",
		"<div class='gmail_quote'", "<div class=gmail_quote", "</div></div>",
		"a < b > c", "1 <2 and 3> 4", "<div class=\"gmail_quote\">",
		"<blockquote type=cite><blockquote type=cite></blockquote>",
		"<div style=\"border-top:solid\">", "<div style=\"border-top:solid\"><!--",
		"<div style=\"border-top:solid\">De", "<div style=\"border-top:solid\"><b>De",
		"<div id=appendonsend", "<script>", "<script></scrip", "<style><div",
		"<div/class=gmail_quote>x</div>y", "<div =x class=gmail_quote>x</div>y",
		"<div\x80\xff class=gmail_quote>x</div\x80\xff>y",
		NULL
	};

	for (size_t i = 0; cases[i] != NULL; i++) {
		char *got = trim_html(cases[i]);
		assert_non_null(got);
		assert_true(strlen(got) <= strlen(cases[i]));
		free(got);
	}
	/* '<' in text is text */
	expect_html("a < b, 1<2, x<-y, <3 <", "a < b, 1<2, x<-y, <3 <");
	/* a quote that never closes swallows the rest into the attribute:
	 * no marker then, and nothing is lost */
	expect_html("A<div class=\"gmail_quote>B</div>C", "A<div class=\"gmail_quote>B</div>C");
}

/* Pseudo-random bodies built from pieces that matter to the scanners. */
static uint32_t rng_state = 12345;

static uint32_t
rng(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 17;
	rng_state ^= rng_state << 5;
	return rng_state;
}

static void
test_fuzz(void **state)
{
	static const char *const pieces[] = {
		"<", ">", "/", "\"", "'", "=", " ", "\n", "\r\n", "-", "--", "-- \n",
		"<div", "</div>", "<div class=\"gmail_quote\">", "<blockquote type=cite>",
		"</blockquote>", "<div id=divRplyFwdMsg>", "<div style='border-top:solid'>",
		"De:", "From: a\n", "Sent: b\n", "Enviado: c\n", "Para: d\n", "<!--", "-->",
		"<script>", "</script>", "<br>", "<hr>", "&nbsp;", "x", "Unidad: cultura\n",
		"> ", "\n> q\n", "El 23/11/2026 10:12, A escribi\xC3\xB3:\n", "wrote:\n",
		"On 1:11 @ ", "Enviado desde mi iPhone\n", "________\n", "-----Original Message-----\n",
		"\xC2\xA0", "\xC3", "<div class=moz-cite-prefix>", "<pre class=moz-signature>",
	};
	const size_t np = sizeof pieces / sizeof pieces[0];
	char buf[4096];

	for (int iter = 0; iter < 3000; iter++) {
		size_t len = 0, n = rng() % 120;
		for (size_t k = 0; k < n; k++) {
			const char *p = pieces[rng() % np];
			size_t pl = strlen(p);
			if (len + pl >= sizeof buf)
				break;
			memcpy(buf + len, p, pl);
			len += pl;
		}
		buf[len] = '\0';

		char *h = trim_html(buf);
		assert_non_null(h);
		assert_true(strlen(h) <= len);
		free(h);

		struct trim_result r;
		assert_int_equal(trim_text(buf, &r, NULL), 0);
		/* every line ends up in one of the two, at most once */
		assert_true(strlen(r.text) + strlen(r.cut) <= len + 1);
		trim_result_free(&r);
	}
}

/* Big and deep inputs: linear time, no recursion. */
static char *
repeat(const char *head, const char *piece, size_t times, const char *tail)
{
	size_t hl = strlen(head), pl = strlen(piece), tl = strlen(tail);
	char *s = malloc(hl + pl * times + tl + 1);

	assert_non_null(s);
	memcpy(s, head, hl);
	for (size_t i = 0; i < times; i++)
		memcpy(s + hl + i * pl, piece, pl);
	memcpy(s + hl + pl * times, tail, tl + 1);
	return s;
}

static void
test_big_inputs(void **state)
{
	clock_t t0 = clock();
	char *in, *got;

	/* deep nesting inside a removed element, then the sender's text */
	in = repeat("<div class=gmail_quote>", "<div>", 200000, "");
	char *tmp = repeat(in, "</div>", 200001, "<p>Unidad: cultura</p>");
	free(in);
	got = trim_html(tmp);
	assert_string_equal(got, "<p>Unidad: cultura</p>");
	free(got);
	free(tmp);

	/* deep nesting of markers, never closed */
	in = repeat("", "<blockquote type=\"cite\">", 200000, "");
	got = trim_html(in);
	assert_string_equal(got, "");
	free(got);
	free(in);

	/* many bordered divs that are not Outlook blocks */
	in = repeat("", "<div style=\"border-top:solid\">", 100000, "x");
	got = trim_html(in);
	assert_non_null(got);
	free(got);
	free(in);

	/* a huge attribute, a huge class list, a huge unclosed comment */
	in = repeat("<div title=\"", "a", 2000000, "\">Unidad: cultura</div>");
	got = trim_html(in);
	assert_string_equal(got, in);
	free(got);
	free(in);
	in = repeat("<div class=\"", "x ", 1000000, "gmail_quote\">q</div>K");
	got = trim_html(in);
	assert_string_equal(got, "K");
	free(got);
	free(in);
	in = repeat("<!--", "<div class=gmail_quote>", 100000, "");
	got = trim_html(in);
	assert_string_equal(got, in);
	free(got);
	free(in);

	/* many '<' */
	in = repeat("", "<", 2000000, "");
	got = trim_html(in);
	assert_string_equal(got, in);
	free(got);
	free(in);

	/* text: many lines of every kind */
	struct trim_result r;
	in = repeat("", "El 23/11/2026 10:12, A\n\n\n", 100000, "");
	assert_int_equal(trim_text(in, &r, NULL), 0);
	trim_result_free(&r);
	free(in);
	in = repeat("", "De: a\nPara: b\n> q\n\n-- \nx\n", 100000, "");
	assert_int_equal(trim_text(in, &r, NULL), 0);
	trim_result_free(&r);
	free(in);

	/* generous: quadratic behaviour would take minutes here */
	assert_true((double)(clock() - t0) / CLOCKS_PER_SEC < 30.0);
}

int
main(void)
{
	find_testdata();
#define FX(f, name) { #f " " name, f, NULL, NULL, (void *)name }
	const struct CMUnitTest tests[] = {
		FX(test_text_fixture, "gmail_es_top"),
		FX(test_text_fixture, "gmail_pt_top"),
		FX(test_text_fixture, "gmail_en_top"),
		FX(test_text_fixture, "inline_es"),
		FX(test_text_fixture, "thunderbird_pt_bottom"),
		FX(test_text_fixture, "outlook_es_original"),
		FX(test_text_fixture, "outlook_pt_headers"),
		FX(test_text_fixture, "outlook_en_headers"),
		FX(test_text_fixture, "outlook_web_es"),
		FX(test_text_fixture, "form_de_field"),
		FX(test_text_fixture, "signature_dashes"),
		FX(test_text_fixture, "iphone_es"),
		FX(test_text_fixture, "iphone_pt"),
		FX(test_text_fixture, "apple_en"),
		FX(test_text_fixture, "no_quote"),
		FX(test_text_fixture, "unmarked_es"),
		FX(test_html_fixture, "gmail_es"),
		FX(test_html_fixture, "gmail_pt_smartmail"),
		FX(test_html_fixture, "outlook_desktop_es"),
		FX(test_html_fixture, "outlook_en_rplyfwd"),
		FX(test_html_fixture, "outlook_web_pt"),
		FX(test_html_fixture, "apple_es"),
		FX(test_html_fixture, "thunderbird_pt"),
		FX(test_html_fixture, "thunderbird_es"),
		cmocka_unit_test(test_cut_gmail_es),
		cmocka_unit_test(test_cut_inline),
		cmocka_unit_test(test_cut_outlook),
		cmocka_unit_test(test_nothing_cut),
		cmocka_unit_test(test_empty),
		cmocka_unit_test(test_crlf),
		cmocka_unit_test(test_final_newline_and_bom),
		cmocka_unit_test(test_signature_forms),
		cmocka_unit_test(test_signature_then_quote_then_text),
		cmocka_unit_test(test_quote_any_depth),
		cmocka_unit_test(test_attribution_forms),
		cmocka_unit_test(test_attribution_wrapped),
		cmocka_unit_test(test_attribution_without_quote),
		cmocka_unit_test(test_outlook_header_blocks),
		cmocka_unit_test(test_form_fields_not_headers),
		cmocka_unit_test(test_html_basic),
		cmocka_unit_test(test_html_malformed),
		cmocka_unit_test(test_fuzz),
		cmocka_unit_test(test_big_inputs),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
