/* mime: fixture mails from Gmail, Outlook, Apple Mail, Thunderbird (es/pt),
 * charsets and fallbacks, RFC 2047/2231, HTML to text, hostile input. */
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

#include "mime.h"

#define MAIL(s) (s), strlen(s)

/* ------------------------------------------------------------ helpers */

/* tests/data, from make check or next to this file. */
static void
data_path(char *buf, size_t size, const char *name)
{
	const char *dir = getenv("MERCOMAIL_TESTDATA");

	if (dir != NULL && dir[0] != '\0') {
		snprintf(buf, size, "%s/mail/%s", dir, name);
	} else {
		const char *slash = strrchr(__FILE__, '/');
		int n = slash ? (int)(slash - __FILE__) : 0;
		snprintf(buf, size, "%.*s%s../data/mail/%s", n, __FILE__,
		    slash ? "/" : "", name);
	}
}

static char *
load(const char *name, size_t *len)
{
	char path[1024];
	FILE *f;
	long n;
	char *b;

	data_path(path, sizeof path, name);
	f = fopen(path, "rb");
	if (f == NULL)
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

static struct mime_msg *
parse_fixture(const char *name)
{
	struct err e = { { 0 } };
	size_t len;
	char *raw = load(name, &len);
	struct mime_msg *m = mime_parse(raw, len, &e);

	free(raw);
	if (m == NULL)
		fail_msg("%s: %s", name, e.msg);
	return m;
}

static int
utf8_ok(const char *s)
{
	const unsigned char *u = (const unsigned char *)s;

	while (*u) {
		int k = *u < 0x80 ? 1 : (*u & 0xE0) == 0xC0 ? 2 :
		    (*u & 0xF0) == 0xE0 ? 3 : (*u & 0xF8) == 0xF0 ? 4 : 0;
		if (k == 0 || (k == 2 && *u < 0xC2))
			return 0;
		for (int i = 1; i < k; i++)
			if ((u[i] & 0xC0) != 0x80)
				return 0;
		u += k;
	}
	return 1;
}

/* Every string of the structure is valid UTF-8 without CR/LF in headers. */
static void
assert_msg_sane(const struct mime_msg *m)
{
	assert_non_null(m->subject);
	assert_non_null(m->text);
	assert_non_null(m->content_type);
	assert_true(utf8_ok(m->subject));
	assert_true(utf8_ok(m->text));
	assert_null(strchr(m->subject, '\n'));
	for (size_t i = 0; i < m->nheaders; i++) {
		assert_true(utf8_ok(m->headers[i].value));
		assert_null(strpbrk(m->headers[i].value, "\r\n"));
		assert_null(strpbrk(m->headers[i].name, "\r\n: "));
	}
	if (m->from_name)
		assert_true(utf8_ok(m->from_name) && !strpbrk(m->from_name, "\r\n"));
	if (m->html)
		assert_true(utf8_ok(m->html));
	if (m->calendar)
		assert_true(utf8_ok(m->calendar));
	for (size_t i = 0; i < m->nattachments; i++) {
		assert_non_null(m->attachments[i].content_type);
		if (m->attachments[i].filename)
			assert_true(utf8_ok(m->attachments[i].filename));
	}
}

#define assert_contains(hay, needle) do { \
	if (strstr((hay), (needle)) == NULL) \
		fail_msg("\"%s\" not found in:\n%s", (needle), (hay)); \
} while (0)

#define assert_lacks(hay, needle) do { \
	if (strstr((hay), (needle)) != NULL) \
		fail_msg("\"%s\" unexpectedly found in:\n%s", (needle), (hay)); \
} while (0)

static char *
h2t(const char *html)
{
	char *t = mime_html_to_text(MAIL(html));

	assert_non_null(t);
	assert_true(utf8_ok(t));
	return t;
}

#define assert_h2t(html, want) do { \
	char *t_ = h2t(html); \
	assert_string_equal(t_, (want)); \
	free(t_); \
} while (0)

/* ------------------------------------------------------------ client fixtures */

static void
gmail_alternative_qp_reply(void **state)
{
	struct mime_msg *m = parse_fixture("gmail_alternative_qp_reply.eml");

	assert_msg_sane(m);
	assert_string_equal(m->content_type, "multipart/alternative");
	assert_string_equal(m->subject,
	    "Re: Informe semestral \xE2\x80\x94 Unidad Tem\xC3\xA1tica Cultura");
	assert_string_equal(m->from_addr, "ana.gomez@moron.example");
	assert_string_equal(m->from_name, "Ana G\xC3\xB3mez");
	assert_null(m->reply_to_addr);
	assert_string_equal(m->message_id,
	    "<CAJ8kLm4yV1Q+g0hRk6V3xXeWn2s_Tb9pQ@mail.gmail.example>");
	assert_string_equal(m->in_reply_to,
	    "<CAH3x9Tq7rXw2kq1+ZpP0vB8a@mail.gmail.example>");
	/* text/plain preferred; QP soft breaks joined, CRLF gone */
	assert_int_equal(m->text_from_html, 0);
	assert_contains(m->text, "Unidad: cultura\nPer\xC3\xADodo: 2026-07-01 a 2026-12-31\n");
	assert_contains(m->text, "Actividades: Festival de teatro callejero en la plaza "
	    "San Mart\xC3\xADn y taller de murga para j\xC3\xB3venes de los barrios.\n");
	assert_contains(m->text, "\n> Estimadas ciudades:\n");
	assert_null(strchr(m->text, '\r'));
	/* the HTML is kept, with Gmail's quote marker */
	assert_non_null(m->html);
	assert_contains(m->html, "<div class=\"gmail_quote\">");
	assert_contains(m->html, "Per\xC3\xADodo: 2026-07-01");
	assert_null(m->calendar);
	assert_int_equal(m->nattachments, 0);
	/* every header, in order */
	assert_string_equal(m->headers[0].name, "MIME-Version");
	assert_string_equal(m->headers[0].value, "1.0");
	assert_string_equal(m->headers[m->nheaders - 1].name, "Content-Type");
	assert_string_equal(mime_header(m, "cc", 0), "intendencia@moron.example");
	mime_msg_free(m);
}

static void
outlook_desktop_cp1252_html_only(void **state)
{
	struct mime_msg *m = parse_fixture("outlook_desktop_cp1252.eml");

	assert_msg_sane(m);
	assert_string_equal(m->content_type, "text/html");
	assert_string_equal(m->subject,
	    "RE: Informe semestral de unidades tem\xC3\xA1ticas");
	assert_string_equal(m->from_name, "Mart\xC3\xADn Su\xC3\xA1rez");
	assert_string_equal(m->from_addr, "intendencia@moron.example");
	/* folded header: CRLF removed, the folding blank kept */
	assert_string_equal(mime_header(m, "Content-Type", 0),
	    "text/html;\tcharset=\"windows-1252\"");
	assert_string_equal(mime_header(m, "X-MS-Has-Attach", 0), "");
	assert_int_equal(m->text_from_html, 1);
	assert_non_null(m->html);
	assert_contains(m->html, "Per\xC3\xADodo");
	/* smart quotes, en dash, euro, accents from Windows-1252 */
	assert_contains(m->text, "Actividades: \xE2\x80\x9C" "Copa de la Integraci\xC3\xB3n"
	    "\xE2\x80\x9D sub-15 \xE2\x80\x93 8 ciudades; cl\xC3\xADnica de f\xC3\xBAtbol femenino\n");
	assert_contains(m->text, "Presupuesto: \xE2\x82\xAC 12.500 (aporte del municipio "
	    "\xE2\x80\x98Mor\xC3\xB3n Deportes\xE2\x80\x99)\n");
	/* one MsoNormal paragraph per line, &nbsp; paragraphs are blank lines */
	assert_contains(m->text, "Formulario: informe\nUnidad: deportes\n"
	    "Per\xC3\xADodo: 2026-07-01 a 2026-12-31\n");
	assert_true(strncmp(m->text, "Estimados:\n\nAdjunto en el cuerpo", 32) == 0);
	/* the reply header block is there for trim to find */
	assert_contains(m->text, "De: Secretar\xC3\xAD" "a T\xC3\xA9" "cnica "
	    "<secretaria@mercociudades.example>\nEnviado el: martes, 12 de mayo de 2026 10:14\n");
	/* head, style and conditional comments are gone */
	assert_lacks(m->text, "font-family");
	assert_lacks(m->text, "MsoNormal");
	assert_lacks(m->text, "shapedefaults");
	assert_lacks(m->text, "\n\n\n");
	mime_msg_free(m);
}

static void
outlook_web_base64(void **state)
{
	struct mime_msg *m = parse_fixture("outlook_web_base64.eml");

	assert_msg_sane(m);
	assert_string_equal(m->subject,
	    "RE: Relat\xC3\xB3rio semestral das unidades tem\xC3\xA1ticas");
	assert_string_equal(m->from_name, "Gabinete do Prefeito");
	assert_string_equal(m->from_addr, "gabinete@portoalegre.example");
	assert_int_equal(m->text_from_html, 0);
	assert_contains(m->text, "Formul\xC3\xA1rio: relat\xC3\xB3rio\nUnidade: educa\xC3\xA7\xC3\xA3o\n"
	    "Per\xC3\xADodo: 2026-07-01 a 2026-12-31\n");
	assert_contains(m->text, "\nDe: Secretaria T\xC3\xA9" "cnica <secretaria@mercociudades.example>\n"
	    "Enviado: ter\xC3\xA7" "a-feira");
	assert_null(strchr(m->text, '\r'));
	assert_non_null(m->html);
	assert_contains(m->html, "id=\"divRplyFwdMsg\"");
	assert_int_equal(m->nattachments, 0);
	mime_msg_free(m);
}

static void
apple_mail_pt_cite(void **state)
{
	struct mime_msg *m = parse_fixture("apple_mail_pt_cite.eml");
	char *t;

	assert_msg_sane(m);
	assert_string_equal(m->subject,
	    "Re: Relat\xC3\xB3rio semestral \xE2\x80\x93 cultura");
	assert_string_equal(m->from_name, "Lu\xC3\xADsa Tavares");
	assert_string_equal(m->message_id,
	    "<9E1B7C44-2A3D-4F6E-8B90-1C2D3E4F5A6B@portoalegre.example>");
	assert_contains(m->text, "Unidade: cultura\nPer\xC3\xADodo: 2026-07-01 a 2026-12-31\n"
	    "Atividades: Festival de m\xC3\xBAsica das cidades do Mercosul; oficinas de "
	    "percuss\xC3\xA3o no Mercado P\xC3\xBA" "blico.\n");
	assert_contains(m->text, "> Em 12 de mai. de 2026, \xC3\xA0(s) 10:14, Secretaria");
	assert_contains(m->html, "<blockquote type=\"cite\">");
	/* the HTML as text: quoted lines are marked */
	t = mime_html_to_text(MAIL(m->html));
	assert_contains(t, "Gabinete de Rela\xC3\xA7\xC3\xB5" "es Internacionais \xE2\x80\x93 Porto Alegre\n\n"
	    "> Em 12 de mai. de 2026");
	assert_contains(t, "escreveu:\n>\n> Prezadas cidades, lembramos o envio do relat\xC3\xB3rio semestral.");
	free(t);
	mime_msg_free(m);
}

static void
thunderbird_iso885915_flowed(void **state)
{
	struct mime_msg *m = parse_fixture("thunderbird_iso885915_flowed.eml");

	assert_msg_sane(m);
	assert_string_equal(m->subject,
	    "Re: Informe semestral de unidades tem\xC3\xA1ticas");
	assert_string_equal(m->from_addr,
	    "relaciones.internacionales@montevideo.example");
	assert_string_equal(m->from_name, "Relaciones Internacionales");
	/* format=flowed: soft breaks joined */
	assert_contains(m->text, "Actividades: Ciclo de cine latinoamericano en el Teatro "
	    "Sol\xC3\xADs, con funciones gratuitas los jueves de agosto y setiembre; "
	    "feria del libro infantil en la Plaza Independencia.\n");
	/* 0xA4 is the euro sign in ISO-8859-15 */
	assert_contains(m->text, "Presupuesto: \xE2\x82\xAC 3.000\n");
	/* the signature separator is never flowed */
	assert_contains(m->text, "\n-- \nRelaciones Internacionales\n");
	/* quoted flowed lines are joined at their depth */
	assert_contains(m->text, "> Estimadas ciudades: les recordamos enviar el informe "
	    "semestral antes del 31 de mayo.\n>\n> Secretar\xC3\xAD" "a T\xC3\xA9" "cnica Permanente\n");
	assert_contains(m->html, "class=\"moz-cite-prefix\"");
	assert_contains(m->html, "Presupuesto: \xE2\x82\xAC 3.000");
	mime_msg_free(m);
}

static void
mixed_with_pdf_attachment(void **state)
{
	struct mime_msg *m = parse_fixture("mixed_pdf_attachment.eml");

	assert_msg_sane(m);
	assert_string_equal(m->content_type, "multipart/mixed");
	assert_string_equal(m->subject,
	    "Informe semestral - Desarrollo Urbano (con adjuntos)");
	assert_int_equal(m->text_from_html, 0);
	assert_contains(m->text, "Unidad: desarrollo urbano\nPer\xC3\xADodo: 2026-07-01 a 2026-12-31\n");
	assert_lacks(m->text, "%PDF");
	assert_non_null(m->html);
	assert_int_equal(m->nattachments, 2);
	/* RFC 2231 filename*=UTF-8''... */
	assert_string_equal(m->attachments[0].filename,
	    "Relat\xC3\xB3rio de gest\xC3\xA3o 2026.pdf");
	assert_string_equal(m->attachments[0].content_type, "application/pdf");
	assert_int_equal(m->attachments[0].size, 1359);
	/* RFC 2047 in a quoted filename, as Gmail writes it */
	assert_string_equal(m->attachments[1].filename,
	    "Foto inauguraci\xC3\xB3n \xE2\x80\x93 Rosario.jpg");
	assert_string_equal(m->attachments[1].content_type, "image/jpeg");
	assert_int_equal(m->attachments[1].size, 622);
	mime_msg_free(m);
}

static void
utf8_declared_but_windows1252(void **state)
{
	struct mime_msg *m = parse_fixture("utf8_declared_cp1252.eml");

	assert_msg_sane(m);
	assert_contains(m->text, "Unidad: g\xC3\xA9nero y municipio\n"
	    "Per\xC3\xADodo: 2026-07-01 a 2026-12-31\n");
	assert_contains(m->text, "Jornada \xE2\x80\x9C" "Ciudades sin violencia\xE2\x80\x9D "
	    "\xE2\x80\x93 inversi\xC3\xB3n \xE2\x82\xAC 4.000\n");
	assert_contains(m->text, "Coordinaci\xC3\xB3n de G\xC3\xA9nero \xE2\x80\x93 Canelones");
	assert_lacks(m->text, "\xEF\xBF\xBD");	/* no U+FFFD: a real fallback */
	mime_msg_free(m);
}

static void
rfc2047_subject_and_from(void **state)
{
	struct mime_msg *m = parse_fixture("rfc2047_subject_from.eml");

	assert_msg_sane(m);
	/* Q word then B word; the folding blank between them is not text */
	assert_string_equal(m->subject,
	    "Informe semestral \xE2\x80\x94 Unidad Tem\xC3\xA1tica de Cultura");
	/* B (UTF-8) then Q (ISO-8859-1) */
	assert_string_equal(m->from_name, "Jos\xC3\xA9 Mar\xC3\xAD" "a P\xC3\xA9rez Ara\xC3\xBAjo");
	/* the domain is lower-cased, the local part kept */
	assert_string_equal(m->from_addr, "Jose.Perez@rosario.example");
	assert_string_equal(m->reply_to_addr, "Cultura@rosario.example");
	assert_string_equal(m->message_id, "<a1b2c3d4e5f6.7890@rosario.example>");
	/* raw values are not decoded */
	assert_true(strncmp(mime_header(m, "Subject", 0), "=?UTF-8?Q?Informe", 17) == 0);
	assert_contains(mime_header(m, "Received", 0), "(Postfix) with ESMTPS id");
	assert_null(strchr(mime_header(m, "Received", 0), '\n'));
	mime_msg_free(m);
}

static void
dsn_bounce_multipart_report(void **state)
{
	struct mime_msg *m = parse_fixture("dsn_bounce.eml");

	assert_msg_sane(m);
	assert_string_equal(m->content_type, "multipart/report");
	assert_string_equal(m->from_addr, "MAILER-DAEMON@mx.mercociudades.example");
	assert_string_equal(m->subject, "Undelivered Mail Returned to Sender");
	assert_string_equal(mime_header(m, "Auto-Submitted", 0), "auto-replied");
	assert_string_equal(mime_header(m, "Return-Path", 0), "<>");
	/* the human-readable part is the text, not the returned mail */
	assert_true(strncmp(m->text, "This is the mail system at host", 31) == 0);
	assert_contains(m->text, "I'm sorry to have to inform you");
	assert_lacks(m->text, "Estimada ciudad");
	assert_lacks(m->text, "Final-Recipient");
	assert_int_equal(m->nattachments, 2);
	assert_string_equal(m->attachments[0].content_type, "message/delivery-status");
	assert_int_equal(m->attachments[0].size, 486);
	assert_null(m->attachments[0].filename);
	assert_string_equal(m->attachments[1].content_type, "message/rfc822");
	assert_int_equal(m->attachments[1].size, 457);
	mime_msg_free(m);
}

static void
calendar_reply_in_alternative(void **state)
{
	struct mime_msg *m = parse_fixture("calendar_reply.eml");

	assert_msg_sane(m);
	assert_string_equal(m->subject, "Invitaci\xC3\xB3n aceptada: Reuni\xC3\xB3n de la "
	    "Unidad Tem\xC3\xA1tica de Cultura");
	assert_string_equal(m->reply_to_addr, "ana.gomez@moron.example");
	assert_non_null(m->calendar);
	assert_true(strncmp(m->calendar, "BEGIN:VCALENDAR\n", 16) == 0);
	assert_contains(m->calendar, "PARTSTAT=ACCEPTED");
	assert_contains(m->calendar, "UID:mercomail-meeting-2026-06-10-cultura@mercociudades.example\n");
	assert_string_equal(m->calendar_method, "REPLY");
	assert_true(strncmp(m->text, "Ana G\xC3\xB3mez acept\xC3\xB3 esta invitaci\xC3\xB3n.\n", 37) == 0);
	assert_int_equal(m->text_from_html, 0);
	/* the calendar part itself is not an attachment; invite.ics is */
	assert_int_equal(m->nattachments, 1);
	assert_string_equal(m->attachments[0].filename, "invite.ics");
	assert_string_equal(m->attachments[0].content_type, "application/ics");
	assert_int_equal(m->attachments[0].size, 654);
	mime_msg_free(m);
}

static void
calendar_method_forms(void **state)
{
	const char *req = "From: a@moron.example\r\nContent-Type: text/calendar; "
	    "method=request; charset=utf-8\r\n\r\nBEGIN:VCALENDAR\r\nMETHOD:REQUEST\r\n"
	    "END:VCALENDAR\r\n";
	const char *noparam = "From: a@moron.example\nContent-Type: multipart/alternative; "
	    "boundary=b\n\n--b\nContent-Type: text/plain\n\nCancelada.\n--b\n"
	    "Content-Type: text/calendar\n\nBEGIN:VCALENDAR\nVERSION:2.0\nmethod: cancel\n"
	    "BEGIN:VEVENT\nEND:VEVENT\nEND:VCALENDAR\n--b--\n";
	struct mime_msg *m = mime_parse(MAIL(req), NULL);

	assert_non_null(m);
	assert_string_equal(m->calendar_method, "REQUEST");
	assert_string_equal(m->text, "");
	mime_msg_free(m);
	/* no method= parameter: the METHOD property */
	m = mime_parse(MAIL(noparam), NULL);
	assert_non_null(m);
	assert_string_equal(m->calendar_method, "CANCEL");
	assert_string_equal(m->text, "Cancelada.");
	mime_msg_free(m);
}

static void
no_content_type_us_ascii(void **state)
{
	struct mime_msg *m = parse_fixture("no_content_type.eml");

	assert_msg_sane(m);
	assert_string_equal(m->content_type, "text/plain");
	assert_string_equal(m->from_addr, "intendencia@moron.example");
	assert_null(m->from_name);
	assert_string_equal(m->text, "Formulario: informe\nUnidad: desarrollo social\n"
	    "Periodo: 2026-07-01 a 2026-12-31\nActividades: Programa de huertas "
	    "comunitarias en 6 barrios.\n\nIntendencia de Moron\n");
	assert_null(m->html);
	assert_null(m->calendar);
	assert_int_equal(m->nattachments, 0);
	mime_msg_free(m);
}

/* ------------------------------------------------------------ structure */

static void
alternative_prefers_plain_unless_empty(void **state)
{
	const char *empty_plain = "From: a@moron.example\nContent-Type: multipart/alternative;"
	    " boundary=\"x\"\n\n--x\nContent-Type: text/plain; charset=utf-8\n\n \n"
	    "--x\nContent-Type: text/html; charset=utf-8\n\n<p>Unidad: cultura</p>\n--x--\n";
	const char *html_first = "From: a@moron.example\nContent-Type: multipart/alternative;"
	    " boundary=\"x\"\n\n--x\nContent-Type: text/html\n\n<p>desde html</p>\n"
	    "--x\nContent-Type: text/plain\n\ndesde texto\n--x\nContent-Type: text/watch-html\n\n"
	    "<b>reloj</b>\n--x--\n";
	struct mime_msg *m = mime_parse(MAIL(empty_plain), NULL);

	assert_non_null(m);
	assert_string_equal(m->text, "Unidad: cultura");
	assert_int_equal(m->text_from_html, 1);
	mime_msg_free(m);
	m = mime_parse(MAIL(html_first), NULL);
	assert_non_null(m);
	assert_string_equal(m->text, "desde texto");
	assert_string_equal(m->html, "<p>desde html</p>");
	assert_int_equal(m->nattachments, 0);	/* other alternatives are not attachments */
	mime_msg_free(m);
}

static void
mixed_first_inline_text_is_body(void **state)
{
	const char *mail = "From: a@moron.example\nContent-Type: multipart/mixed; boundary=m\n\n"
	    "preamble\n--m\nContent-Type: text/plain; name=\"notas.txt\"\n\nno es el cuerpo\n"
	    "--m\nContent-Type: multipart/related; boundary=r\n\n--r\nContent-Type: text/html;"
	    " charset=iso-8859-1\n\n<p>Cuerpo en HTML: gesti\xF3n</p><img src=\"cid:logo\">\n--r\n"
	    "Content-Type: image/png\nContent-ID: <logo>\nContent-Transfer-Encoding: base64\n\n"
	    "iVBORw0KGgo=\n--r--\n--m\nContent-Type: text/plain\n\nPie de lista de correo\n"
	    "--m\nContent-Type: message/rfc822\n\nSubject: reenviado\n\nhola\n--m--\n";
	struct mime_msg *m = mime_parse(MAIL(mail), NULL);

	assert_non_null(m);
	assert_msg_sane(m);
	assert_string_equal(m->text, "Cuerpo en HTML: gesti\xC3\xB3n");
	assert_int_equal(m->text_from_html, 1);
	assert_int_equal(m->nattachments, 4);
	assert_string_equal(m->attachments[0].filename, "notas.txt");
	assert_int_equal(m->attachments[0].size, 15);
	assert_string_equal(m->attachments[1].content_type, "image/png");
	assert_int_equal(m->attachments[1].size, 8);
	assert_null(m->attachments[1].filename);
	assert_string_equal(m->attachments[2].content_type, "text/plain");
	assert_string_equal(m->attachments[3].content_type, "message/rfc822");
	assert_int_equal(m->attachments[3].size, 24);
	mime_msg_free(m);
}

static void
rfc2231_continuations(void **state)
{
	const char *mail = "From: a@moron.example\nContent-Type: multipart/mixed; boundary=m\n\n"
	    "--m\nContent-Type: text/plain\n\ncuerpo\n--m\nContent-Type: application/pdf\n"
	    "Content-Disposition: attachment;\n filename*0*=iso-8859-1'es'Rendici%F3n%20de;\n"
	    " filename*1=\" cuentas \";\n filename*2*=%E9xito.pdf\n\n%PDF\n"
	    "--m\nContent-Type: application/octet-stream; name=\"plano.dwg\"\n\nxx\n--m--\n";
	struct mime_msg *m = mime_parse(MAIL(mail), NULL);

	assert_non_null(m);
	assert_string_equal(m->text, "cuerpo");
	assert_int_equal(m->nattachments, 2);
	assert_string_equal(m->attachments[0].filename,
	    "Rendici\xC3\xB3n de cuentas \xC3\xA9xito.pdf");
	assert_int_equal(m->attachments[0].size, 4);
	assert_string_equal(m->attachments[1].filename, "plano.dwg");
	mime_msg_free(m);
}

static void
flowed_delsp_and_stuffing(void **state)
{
	const char *mail = "From: a@moron.example\nContent-Type: text/plain; charset=utf-8;"
	    " format=flowed; delsp=yes\n\nUna l\xC3\xADnea muy lar \nga que sigue.\n"
	    "  Empieza con espacio\n>> cita  \n>> sigue\n>fin\n-- \nfirma\n";
	const char *fixed = "From: a@moron.example\nContent-Type: text/plain\n\n"
	    "no flowed \nsigue igual\n";
	struct mime_msg *m = mime_parse(MAIL(mail), NULL);

	assert_non_null(m);
	assert_string_equal(m->text, "Una l\xC3\xADnea muy larga que sigue.\n"
	    " Empieza con espacio\n>> cita sigue\n> fin\n-- \nfirma\n");
	mime_msg_free(m);
	m = mime_parse(MAIL(fixed), NULL);
	assert_non_null(m);
	assert_string_equal(m->text, "no flowed \nsigue igual\n");
	mime_msg_free(m);
}

static void
headers_all_in_order(void **state)
{
	const char *mail = "From alguien@example Mon May 18 08:00:00 2026\n"
	    "Received: from a\r\n\tby b;\r\n Mon, 18 May 2026\r\n"
	    "X-Vacio:\r\nSubject : con blanco antes de los dos puntos\r\n"
	    "received: otro\r\nX-Latin1: Reuni\xF3n\r\n\r\nCuerpo\r\n";
	struct mime_msg *m = mime_parse(MAIL(mail), NULL);

	assert_non_null(m);
	assert_int_equal(m->nheaders, 5);
	assert_string_equal(m->headers[0].name, "Received");
	assert_string_equal(m->headers[0].value, "from a\tby b; Mon, 18 May 2026");
	assert_string_equal(m->headers[1].name, "X-Vacio");
	assert_string_equal(m->headers[1].value, "");
	assert_string_equal(m->headers[2].name, "Subject");
	assert_string_equal(m->subject, "con blanco antes de los dos puntos");
	assert_string_equal(mime_header(m, "RECEIVED", 1), "otro");
	assert_null(mime_header(m, "Received", 2));
	assert_null(mime_header(m, "X-Nada", 0));
	assert_null(mime_header(NULL, "Subject", 0));
	/* raw 8-bit header: made valid UTF-8 with the fallbacks */
	assert_string_equal(mime_header(m, "X-Latin1", 0), "Reuni\xC3\xB3n");
	assert_string_equal(m->text, "Cuerpo\n");
	assert_null(m->from_addr);
	assert_null(m->message_id);
	mime_msg_free(m);
}

static void
addresses(void **state)
{
	static const struct {
		const char *from, *addr, *name;
	} cases[] = {
		{ "\"P\xC3\xA9rez, Jos\xC3\xA9\" <Jose@Moron.EXAMPLE>", "Jose@moron.example",
		  "P\xC3\xA9rez, Jos\xC3\xA9" },
		{ "\"=?UTF-8?B?Sm9zw6k=?=\" <jose@moron.example>", "jose@moron.example",
		  "Jos\xC3\xA9" },
		{ "jose@moron.example (Jos\xC3\xA9)", "jose@moron.example", NULL },
		{ "<jose@moron.example>", "jose@moron.example", NULL },
		{ "Undisclosed recipients:;", NULL, NULL },
		{ "Cultura: a@rosario.example, b@rosario.example;", "a@rosario.example", NULL },
		{ "Ana <ana@Canelones.Example", "ana@canelones.example", "Ana" },
		{ "\"Ana <ana@x.example>", "ana@x.example", "Ana" },
		{ "nadie", NULL, NULL },
	};
	char buf[256];

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct mime_msg *m;
		snprintf(buf, sizeof buf, "From: %s\n\nx\n", cases[i].from);
		m = mime_parse(MAIL(buf), NULL);
		assert_non_null(m);
		if (cases[i].addr == NULL) {
			assert_null(m->from_addr);
		} else {
			assert_non_null(m->from_addr);
			assert_string_equal(m->from_addr, cases[i].addr);
		}
		if (cases[i].name == NULL) {
			assert_null(m->from_name);
		} else {
			assert_non_null(m->from_name);
			assert_string_equal(m->from_name, cases[i].name);
		}
		mime_msg_free(m);
	}
}

/* ------------------------------------------------------------ RFC 2047, charsets */

static void
decode_header_words(void **state)
{
	static const struct {
		const char *in, *out;
	} cases[] = {
		/* a character split over two B words */
		{ "=?UTF-8?B?UGVyw60=?= =?UTF-8?B?b2Rv?=", "Per\xC3\xAD" "odo" },
		{ "=?UTF-8?B?UGVyww==?= =?UTF-8?B?rW9kbw==?=", "Per\xC3\xAD" "odo" },
		{ "=?utf-8?q?Reuni=C3=B3n?=  de  =?ISO-8859-1?Q?gesti=F3n?=",
		  "Reuni\xC3\xB3n  de  gesti\xC3\xB3n" },
		{ "=?UTF-8?Q?a?=\r\n =?UTF-8?Q?b?=", "ab" },
		{ "=?UTF-8*es?Q?Per=C3=ADodo?=", "Per\xC3\xADodo" },
		{ "=?x-desconocido?Q?Per=C3=ADodo?=", "Per\xC3\xADodo" },
		{ "=?us-ascii?Q?Per=EDodo?=", "Per\xC3\xADodo" },
		{ "=?utf-8?X?abc?= sin codificar", "=?utf-8?X?abc?= sin codificar" },
		{ "precio =?", "precio =?" },
		{ "=?UTF-8?Q?l=C3=ADnea=0Anueva=09tab?=", "l\xC3\xADnea nueva tab" },
		{ "  Reuni\xF3n cruda  ", "Reuni\xC3\xB3n cruda" },
		{ "", "" },
	};

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char *s = mime_decode_header(cases[i].in);
		assert_non_null(s);
		assert_string_equal(s, cases[i].out);
		free(s);
	}
	assert_null(mime_decode_header(NULL));
}

static void
to_utf8_charsets_and_fallbacks(void **state)
{
	static const struct {
		const char *in, *cs, *out;
	} cases[] = {
		{ "Per\xEDodo", "iso-8859-1", "Per\xC3\xADodo" },
		{ "Per\xEDodo", "Latin1", "Per\xC3\xADodo" },
		{ "Per\xEDodo", "\"ISO8859-1\"", "Per\xC3\xADodo" },
		{ "\x93hola\x94", "iso-8859-1", "\xE2\x80\x9Chola\xE2\x80\x9D" },
		{ "\x80 10", "cp1252", "\xE2\x82\xAC 10" },
		{ "\xA4 10", "ISO-8859-15", "\xE2\x82\xAC 10" },
		{ "\xA4 10", "latin9", "\xE2\x82\xAC 10" },
		{ "Per\xC3\xADodo", "us-ascii", "Per\xC3\xADodo" },	/* -> UTF-8 */
		{ "Per\xEDodo", "us-ascii", "Per\xC3\xADodo" },	/* -> 1252 */
		{ "Per\xEDodo", "utf-8", "Per\xC3\xADodo" },
		{ "Per\xEDodo", NULL, "Per\xC3\xADodo" },
		{ "Per\xC3\xADodo", "x-no-existe", "Per\xC3\xADodo" },
		{ "Per\xC3\xADodo", "utf-8//TRANSLIT", "Per\xC3\xADodo" },
		{ "\x81\xED", "windows-1252", "\xC2\x81\xC3\xAD" },	/* -> ISO-8859-1 */
		{ "\xEF\xBB\xBFhola", "UTF8", "hola" },
		{ "\xF0\xD2\xC9\xD7\xC5\xD4", "koi8-r", "\xD0\x9F\xD1\x80\xD0\xB8\xD0\xB2\xD0\xB5\xD1\x82" },
		{ "", "utf-8", "" },
	};

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char *s = mime_to_utf8(MAIL(cases[i].in), cases[i].cs);
		assert_non_null(s);
		assert_string_equal(s, cases[i].out);
		free(s);
	}
	{	/* NULs never come out; UTF-16 through iconv */
		char *s = mime_to_utf8("a\0b", 3, "utf-8");
		assert_string_equal(s, "ab");
		free(s);
		s = mime_to_utf8("\xFF\xFE" "P\0e\0r\0\xED\0", 10, "UTF-16");
		assert_string_equal(s, "Per\xC3\xAD");
		free(s);
		s = mime_to_utf8(NULL, 5, "utf-8");
		assert_string_equal(s, "");
		free(s);
	}
}

/* ------------------------------------------------------------ HTML to text */

static void
html_lists_and_paragraphs(void **state)
{
	assert_h2t("<h2>Actividades</h2><ul>\n  <li>Festival</li>\n  <li> Taller\n de murga </li>\n</ul>"
	    "<p>Fin del informe.</p><p>Saludos</p>",
	    "Actividades\n\n- Festival\n- Taller de murga\n\nFin del informe.\n\nSaludos");
	assert_h2t("<div>Unidad: cultura</div><div>Per&iacute;odo: 2026-07-01</div>"
	    "<div><br></div><div>Ana</div>",
	    "Unidad: cultura\nPer\xC3\xADodo: 2026-07-01\n\nAna");
	assert_h2t("uno<br>dos<br/><br><br><br><br>tres", "uno\ndos\n\ntres");
	assert_h2t("<table><tr><td>Unidad</td><td>cultura</td></tr>"
	    "<tr><th>Per\xC3\xADodo</th><td>2026</td></tr></table>",
	    "Unidad\tcultura\nPer\xC3\xADodo\t2026");
	assert_h2t("<p class=MsoNormal>l\xC3\xADnea 1<o:p></o:p></p><p class=\"MsoNormal\">"
	    "<o:p>&nbsp;</o:p></p><p class='MsoNormal'>l\xC3\xADnea 2</p><p>otro p\xC3\xA1rrafo</p>",
	    "l\xC3\xADnea 1\n\nl\xC3\xADnea 2\n\notro p\xC3\xA1rrafo");
	assert_h2t("<blockquote type=\"cite\"><div>cita</div><div><br></div>"
	    "<blockquote class=\"gmail_quote\">doble</blockquote></blockquote>despu\xC3\xA9s",
	    "> cita\n>\n>> doble\ndespu\xC3\xA9s");
	/* an indentation (Gmail "indent more") is not a quote */
	assert_h2t("<blockquote style=\"margin:0 0 0 40px;border:none;padding:0px\">"
	    "<div>Unidad: cultura</div><blockquote type=cite>cita</blockquote>"
	    "<div>Per&iacute;odo: 2026</div></blockquote></blockquote></blockquote>fin",
	    "Unidad: cultura\n> cita\nPer\xC3\xADodo: 2026\nfin");
	assert_h2t("<pre>  a  b\n\n\n\nc</pre>fuera   de  pre", "a  b\n\nc\nfuera de pre");
	assert_h2t("", "");
}

static void
html_entities(void **state)
{
	assert_h2t("&aacute;&eacute;&iacute;&oacute;&uacute;&ntilde;&ccedil;&atilde;&otilde;"
	    "&acirc;&ecirc;&ocirc;&agrave;&uuml;",
	    "\xC3\xA1\xC3\xA9\xC3\xAD\xC3\xB3\xC3\xBA\xC3\xB1\xC3\xA7\xC3\xA3\xC3\xB5"
	    "\xC3\xA2\xC3\xAA\xC3\xB4\xC3\xA0\xC3\xBC");
	assert_h2t("&Aacute;&Eacute;&Iacute;&Oacute;&Uacute;&Ntilde;&Ccedil;&Atilde;&Otilde;"
	    "&Acirc;&Ecirc;&Ocirc;&Agrave;&Uuml;",
	    "\xC3\x81\xC3\x89\xC3\x8D\xC3\x93\xC3\x9A\xC3\x91\xC3\x87\xC3\x83\xC3\x95"
	    "\xC3\x82\xC3\x8A\xC3\x94\xC3\x80\xC3\x9C");
	assert_h2t("1&ordm; 1&ordf; &euro;5 &laquo;x&raquo; a&hellip; &mdash; &ndash;",
	    "1\xC2\xBA 1\xC2\xAA \xE2\x82\xAC" "5 \xC2\xABx\xC2\xBB a\xE2\x80\xA6 "
	    "\xE2\x80\x94 \xE2\x80\x93");
	assert_h2t("&lt;b&gt; &amp;amp; &quot;x&quot; &apos;y&apos;", "<b> &amp; \"x\" 'y'");
	assert_h2t("a&nbsp;&nbsp;b", "a  b");
	assert_h2t("&#237;&#xED;&#XeD;&#8364;&#150; &#0; &#x110000; &#xD800;",
	    "\xC3\xAD\xC3\xAD\xC3\xAD\xE2\x82\xAC\xE2\x80\x93 \xEF\xBF\xBD \xEF\xBF\xBD \xEF\xBF\xBD");
	assert_h2t("AT&T &nada; &; &#; &#x; R&D", "AT&T &nada; &; &#; &#x; R&D");
	assert_h2t("&iacute sin punto y coma", "\xC3\xAD sin punto y coma");
}

static void
html_drops_scripts_styles_comments(void **state)
{
	assert_h2t("<html><head><title>t</title><style>p{color:red}</style>"
	    "<meta charset=utf-8></head><body><script type=\"text/javascript\">"
	    "alert('<p>no</p>');</script><p>visible</p><!-- <p>comentario</p> -->"
	    "<![if !supportLists]>\xC2\xB7<![endif]> item<?xml version=\"1.0\"?>"
	    "<STYLE>.x{}</STYLE><Script>x</SCRIPT >fin</body></html>",
	    "visible\n\n\xC2\xB7 itemfin");
	/* <head> without </head> ends at <body> */
	assert_h2t("<head><meta x=1><body>cuerpo", "cuerpo");
	assert_h2t("<script/>despu\xC3\xA9s", "despu\xC3\xA9s");
}

static void
html_malformed(void **state)
{
	char *big, *t;
	size_t n = 3 * 1024 * 1024;

	assert_h2t("a < b y c > d", "a < b y c > d");
	assert_h2t("1<2 <3", "1<2 <3");
	assert_h2t("<p>sin cerrar<div>otro<b>negrita", "sin cerrar\notronegrita");
	assert_h2t("texto <a href=\"x>y\" title='a>b'>enlace</a>", "texto enlace");
	assert_h2t("cortado <a href=\"sin fin", "cortado");
	assert_h2t("<!-- sin fin", "");
	assert_h2t("<script>nunca termina", "");
	assert_h2t("</ >x</>y<//p>z", "xyz");
	assert_h2t("<unaetiquetamuylargaquenoexiste>x</unaetiquetamuylargaquenoexiste>", "x");
	assert_h2t("\xFF\xFEinv\xC3lido\xC2\xA0ok", "\xEF\xBF\xBD\xEF\xBF\xBDinv\xEF\xBF\xBDlido ok");
	{
		char *s = mime_html_to_text("a\0b<br>c", 8);
		assert_string_equal(s, "ab\nc");
		free(s);
	}
	/* a huge attribute, a huge comment, many unclosed tags: linear */
	big = malloc(n + 64);
	assert_non_null(big);
	memcpy(big, "<a title=\"", 10);
	memset(big + 10, 'x', n - 20);
	memcpy(big + n - 10, "\">fin</a>", 10);
	t = mime_html_to_text(big, strlen(big));
	assert_string_equal(t, "fin");
	free(t);
	for (size_t i = 0; i + 3 <= n; i += 3)
		memcpy(big + i, "<b>", 3);
	t = mime_html_to_text(big, n - n % 3);
	assert_string_equal(t, "");
	free(t);
	for (size_t i = 0; i + 4 <= n; i += 4)
		memcpy(big + i, "<!--", 4);
	t = mime_html_to_text(big, n - n % 4);
	assert_string_equal(t, "");
	free(t);
	for (size_t i = 0; i + 5 <= n; i += 5)
		memcpy(big + i, "&amp<", 5);
	t = mime_html_to_text(big, n - n % 5);
	assert_non_null(t);
	assert_true(utf8_ok(t));
	free(t);
	free(big);
}

/* xorshift: deterministic "random" bytes */
static uint32_t
rnd(uint32_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 17;
	*s ^= *s << 5;
	return *s;
}

static void
html_random_fragments(void **state)
{
	static const char *const frag[] = {
		"<p>", "</p>", "<div class=MsoNormal>", "</div>", "<br>", "<li>", "<ul>",
		"<td>", "<tr>", "<blockquote>", "</blockquote>", "<pre>", "</pre>", "<!--",
		"-->", "<script>", "</script>", "<head>", "<body>", "&amp;", "&#x", "&#",
		"&nbsp;", "&", "<", ">", "\"", "'", "=", " ", "\n", "texto", "\xC3\xAD",
		"\xC2", "\xA0", "\xFF", "<a href=\"", "<!", "</", "<?", "&eacute", "\t",
	};
	uint32_t seed = 0x6d657263;

	for (int iter = 0; iter < 3000; iter++) {
		char buf[512];
		size_t n = 0, k = rnd(&seed) % 60;
		for (size_t i = 0; i < k; i++) {
			const char *f = frag[rnd(&seed) % (sizeof frag / sizeof frag[0])];
			size_t fl = strlen(f);
			if (n + fl >= sizeof buf)
				break;
			memcpy(buf + n, f, fl);
			n += fl;
		}
		char *t = mime_html_to_text(buf, n);
		assert_non_null(t);
		assert_true(utf8_ok(t));
		assert_lacks(t, "\n\n\n");
		free(t);
	}
}

/* ------------------------------------------------------------ hostile input */

static void
garbage_does_not_crash(void **state)
{
	static const char *const mails[] = {
		"Subject: solo cabecera",
		"Subject: solo cabecera\r\n\r\n",
		"From: a@b.example\nContent-Type: multipart/mixed\n\nsin boundary\n",
		"From: a@b.example\nContent-Type: multipart/mixed; boundary=x\n\n--x\n"
		    "Content-Type: text/plain\n\nsin cierre",
		"From: a@b.example\nContent-Type: multipart/alternative; boundary=\"\"\n\n--\n--\n",
		"From: a@b.example\nContent-Transfer-Encoding: base64\n\n!!!***===\n",
		"From: a@b.example\nContent-Transfer-Encoding: quoted-printable\n\n=\n=Z=4\n=",
		"From: a@b.example\nContent-Type: text/plain; charset=\"\n\nx",
		"From: a@b.example\nContent-Type: /\nContent-Disposition: ;;;=\n\nx",
		"From: a@b.example\nContent-Type: message/rfc822\n\n",
		"From: a@b.example\nContent-Type: multipart/digest; boundary=d\n\n--d\n\n--d--\n",
		"From: a@b.example\nSubject: =?utf-8?b?====?= =?=?=?\n\nx",
		"From: <>\nReply-To: @\n\nx",
	};
	uint32_t seed = 12345;
	struct err e = { { 0 } };

	for (size_t i = 0; i < sizeof mails / sizeof mails[0]; i++) {
		struct mime_msg *m = mime_parse(MAIL(mails[i]), &e);
		assert_non_null(m);
		assert_msg_sane(m);
		mime_msg_free(m);
	}
	/* header-only mail */
	{
		struct mime_msg *m = mime_parse(MAIL("Subject: x\r\n"), NULL);
		assert_string_equal(m->subject, "x");
		assert_string_equal(m->text, "");
		assert_string_equal(m->content_type, "text/plain");
		mime_msg_free(m);
	}
	/* not a mail at all */
	assert_null(mime_parse("", 0, &e));
	assert_string_equal(e.msg, "empty message");
	assert_null(mime_parse(NULL, 0, NULL));
	assert_null(mime_parse(MAIL("\r\nsolo cuerpo"), &e));
	assert_true(e.msg[0] != '\0');
	/* random bytes, and random bytes after a real header */
	for (int iter = 0; iter < 300; iter++) {
		char buf[2048];
		size_t n = 1 + rnd(&seed) % (sizeof buf - 1), off = 0;
		struct mime_msg *m;
		if (iter % 2) {
			const char *h = "From: a@b.example\nContent-Type: multipart/mixed; boundary=b\n\n--b\n";
			off = strlen(h);
			memcpy(buf, h, off);
		}
		for (size_t i = off; i < n + off && i < sizeof buf; i++) {
			uint32_t r = rnd(&seed);
			buf[i] = (r & 0x300) ? "\n-b:=<>&?\r\t a"[r % 13] : (char)(r >> 8);
		}
		m = mime_parse(buf, n + off < sizeof buf ? n + off : sizeof buf, NULL);
		if (m != NULL) {
			assert_msg_sane(m);
			mime_msg_free(m);
		}
	}
}

static void
fixtures_mutated(void **state)
{
	static const char *const names[] = {
		"gmail_alternative_qp_reply.eml", "mixed_pdf_attachment.eml",
		"dsn_bounce.eml", "calendar_reply.eml", "thunderbird_iso885915_flowed.eml",
	};
	uint32_t seed = 777;

	for (size_t f = 0; f < sizeof names / sizeof names[0]; f++) {
		size_t len;
		char *orig = load(names[f], &len), *buf = malloc(len);
		assert_non_null(buf);
		for (int iter = 0; iter < 60; iter++) {
			struct mime_msg *m;
			size_t cut = len - rnd(&seed) % (len / 2);
			memcpy(buf, orig, len);
			for (int k = 0; k < 8; k++)
				buf[rnd(&seed) % len] = (char)rnd(&seed);
			m = mime_parse(buf, cut, NULL);
			if (m != NULL) {
				assert_msg_sane(m);
				mime_msg_free(m);
			}
		}
		free(buf);
		free(orig);
	}
}

static char *
repeat(const char *head, const char *unit, size_t times, const char *tail, size_t *len)
{
	size_t hl = strlen(head), ul = strlen(unit), tl = strlen(tail);
	char *b = malloc(hl + ul * times + tl + 1), *p;

	assert_non_null(b);
	memcpy(b, head, hl);
	p = b + hl;
	for (size_t i = 0; i < times; i++, p += ul)
		memcpy(p, unit, ul);
	memcpy(p, tail, tl + 1);
	*len = hl + ul * times + tl;
	return b;
}

/* A big attachment and structures that would make libetpan quadratic or
 * memory hungry: they must come back quickly, in bounded memory. */
/* The words of the delivery headers, in the order they are looked at. */
static int
collect_word(const char *word, void *arg)
{
	char *out = arg;

	strcat(out, word);
	strcat(out, "|");
	return strcmp(word, "stop@here.example") == 0 ? 7 : 0;
}

static void
recipient_words_in_order(void **state)
{
	static const char raw[] = "To: Ana <a@x.example>, b@y.example\r\n"
	    "Cc: \"Dos, Tres\" <c@z.example>; d@w.example\r\nSubject: s\r\n"
	    "Delivered-To: e@v.example\r\nX-Original-To: <f@u.example>\r\n\r\nbody\r\n";
	struct err e;
	struct mime_msg *m = mime_parse(raw, sizeof raw - 1, &e);
	char out[512] = "";

	(void)state;
	assert_non_null(m);
	assert_int_equal(mime_recipient_words(m, collect_word, out), 0);
	assert_string_equal(out, "e@v.example|f@u.example|Ana|a@x.example|b@y.example|"
	    "Dos|Tres|c@z.example|d@w.example|");
	mime_msg_free(m);
	/* the callback's nonzero stops the walk and is returned */
	static const char raw2[] = "To: a@x.example, stop@here.example, b@y.example\r\n\r\nx\r\n";
	m = mime_parse(raw2, sizeof raw2 - 1, &e);
	out[0] = '\0';
	assert_int_equal(mime_recipient_words(m, collect_word, out), 7);
	assert_string_equal(out, "a@x.example|stop@here.example|");
	mime_msg_free(m);
}

static void
large_and_pathological(void **state)
{
	size_t len;
	char *b;
	struct mime_msg *m;
	clock_t t0 = clock();

	/* 12 MiB of base64 in a PDF attachment */
	b = repeat("From: a@moron.example\nContent-Type: multipart/mixed; boundary=Z\n\n--Z\n"
	    "Content-Type: text/plain; charset=utf-8\n\nUnidad: cultura\n--Z\n"
	    "Content-Type: application/pdf; name=grande.pdf\n"
	    "Content-Transfer-Encoding: base64\n\n",
	    "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVphYmNkZWZnaGlqa2xtbm9wcXJzdHV2d3h5ejAx\n",
	    170000, "--Z--\n", &len);
	m = mime_parse(b, len, NULL);
	assert_non_null(m);
	assert_string_equal(m->text, "Unidad: cultura");
	assert_int_equal(m->nattachments, 1);
	assert_int_equal(m->attachments[0].size, (size_t)170000 * 54);
	assert_string_equal(m->attachments[0].filename, "grande.pdf");
	mime_msg_free(m);
	free(b);

	/* 3000 nested multiparts */
	{
		size_t cap = 3000 * 64 + 64, n = 0;
		b = malloc(cap);
		assert_non_null(b);
		n += (size_t)snprintf(b + n, cap - n, "From: a@b.example\n");
		for (int i = 0; i < 3000; i++)
			n += (size_t)snprintf(b + n, cap - n,
			    "Content-Type: multipart/mixed; boundary=b%d\n\n--b%d\n", i, i);
		m = mime_parse(b, n, NULL);
		assert_non_null(m);
		assert_string_equal(m->text, "");
		mime_msg_free(m);
		free(b);
	}
	/* a million one-byte part headers */
	b = repeat("From: a@b.example\nContent-Type: multipart/mixed; boundary=X\n\n--X\n",
	    "a:b\n", 1000000, "\ncuerpo\n--X--\n", &len);
	m = mime_parse(b, len, NULL);
	assert_non_null(m);
	mime_msg_free(m);
	free(b);
	/* half a million empty parts */
	b = repeat("From: a@b.example\nContent-Type: multipart/mixed; boundary=X\n\n",
	    "--X\n\nx\n", 500000, "--X--\n", &len);
	m = mime_parse(b, len, NULL);
	assert_non_null(m);
	mime_msg_free(m);
	free(b);
	/* a huge subject of encoded words, a huge number of headers */
	b = repeat("From: a@b.example\nSubject: ", "=?utf-8?q?a?= ", 500000, "\n\nx\n", &len);
	m = mime_parse(b, len, NULL);
	assert_non_null(m);
	assert_true(strlen(m->subject) > 1000);
	mime_msg_free(m);
	free(b);
	b = repeat("", "X-A: b\n", 500000, "\ncuerpo\n", &len);
	m = mime_parse(b, len, NULL);
	assert_non_null(m);
	assert_string_equal(m->text, "cuerpo\n");
	mime_msg_free(m);
	free(b);
	/* generous even under the sanitizers */
	assert_true((double)(clock() - t0) / CLOCKS_PER_SEC < 60.0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(gmail_alternative_qp_reply),
		cmocka_unit_test(outlook_desktop_cp1252_html_only),
		cmocka_unit_test(outlook_web_base64),
		cmocka_unit_test(apple_mail_pt_cite),
		cmocka_unit_test(thunderbird_iso885915_flowed),
		cmocka_unit_test(mixed_with_pdf_attachment),
		cmocka_unit_test(utf8_declared_but_windows1252),
		cmocka_unit_test(rfc2047_subject_and_from),
		cmocka_unit_test(dsn_bounce_multipart_report),
		cmocka_unit_test(calendar_reply_in_alternative),
		cmocka_unit_test(calendar_method_forms),
		cmocka_unit_test(no_content_type_us_ascii),
		cmocka_unit_test(alternative_prefers_plain_unless_empty),
		cmocka_unit_test(mixed_first_inline_text_is_body),
		cmocka_unit_test(rfc2231_continuations),
		cmocka_unit_test(flowed_delsp_and_stuffing),
		cmocka_unit_test(headers_all_in_order),
		cmocka_unit_test(addresses),
		cmocka_unit_test(decode_header_words),
		cmocka_unit_test(to_utf8_charsets_and_fallbacks),
		cmocka_unit_test(html_lists_and_paragraphs),
		cmocka_unit_test(html_entities),
		cmocka_unit_test(html_drops_scripts_styles_comments),
		cmocka_unit_test(html_malformed),
		cmocka_unit_test(html_random_fragments),
		cmocka_unit_test(garbage_does_not_crash),
		cmocka_unit_test(fixtures_mutated),
		cmocka_unit_test(recipient_words_in_order),
		cmocka_unit_test(large_and_pathological),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
