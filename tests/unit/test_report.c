#include "buildconf.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "report.h"

#define T0 1767225600	/* 2026-01-01T00:00:00Z */
#define DAY 86400

/* Figures made up for the formatters: a body, two units (one silent), two
 * cities (one silent, with a name that needs escaping). */
static char *kinds[] = { "informe", "odm" };
static int64_t by_kind_mvd[] = { 2, 1 }, by_kind_poa[] = { 0, 0 };

static struct report_unit units[] = {
	{ "consejo", "Consejo", 1, 1, 0, 1, 5, 3, 2, 0, 0, 0 },
	{ "cultura", "Cultura", 0, 2, T0 + 40 * DAY, 2, 8, 6, 6, 1, 1, T0 + 40 * DAY },
	{ "turismo", "Turismo <&> \"Ocio\"", 0, 0, 0, 0, 0, 0, 0, 0, 0, T0 - 300 * DAY },
};

static struct report_city cities[] = {
	{ "Montevideo", "UY", by_kind_mvd, 3, 4, 3, 2, T0 + 40 * DAY },
	{ "Porto <Alegre>", "BR", by_kind_poa, 0, 1, 0, 0, 0 },
};

static struct report
fixture(const char *lang)
{
	struct report r = { T0, T0 + 181 * DAY, T0 + 181 * DAY, 180, "es", kinds, 2, units, 3,
	    cities, 2 };

	snprintf(r.lang, sizeof r.lang, "%s", lang);
	return r;
}

static void
test_rate_and_silence(void **state)
{
	struct report r = fixture("es");

	(void)state;
	assert_int_equal(report_rate(3, 8), 38);	/* 37.5 rounds up */
	assert_int_equal(report_rate(1, 3), 33);
	assert_int_equal(report_rate(0, 0), -1);
	assert_int_equal(report_unit_silent(&r, &units[0]), 0);	/* a body: never */
	assert_int_equal(report_unit_silent(&r, &units[1]), 0);
	assert_int_equal(report_unit_silent(&r, &units[2]), 1);
	assert_int_equal(report_city_silent(&r, &cities[0]), 0);
	assert_int_equal(report_city_silent(&r, &cities[1]), 1);	/* never sent */
	/* exactly silent_days before the end: silent */
	cities[0].last_submission = r.until - 180 * DAY;
	assert_int_equal(report_city_silent(&r, &cities[0]), 1);
	cities[0].last_submission = r.until - 180 * DAY + 1;
	assert_int_equal(report_city_silent(&r, &cities[0]), 0);
	cities[0].last_submission = T0 + 40 * DAY;
}

static const char text_es[] =
	"Informe de actividad de Mercociudades\n"
	"Período: 2026-01-01 a 2026-06-30 (UTC)\n"
	"Generado: 2026-07-01\n"
	"\n"
	"Unidades temáticas y órganos\n"
	"Unidad   Informes  Último informe  Reuniones  Invitaciones  Respondidas  Asistencia  Buenas prácticas  Indicadores ODM\n"
	"consejo         1               -          1             5            3         40%                 0                0\n"
	"cultura         2      2026-02-10          2             8            6         75%                 1                1\n"
	"turismo         0               -          0             0            0           -                 0                0\n"
	"\n"
	"Ciudades\n"
	"Ciudad          País  Envíos  informe  odm  Invitaciones  Respondidas\n"
	"Montevideo        UY       3        2    1             4            3\n"
	"Porto <Alegre>    BR       0        0    0             1            0\n"
	"\n"
	"Sin envíos en 180 días o más\n"
	"Unidades:\n"
	"  turismo              último: 2025-03-07\n"
	"Ciudades:\n"
	"  Porto <Alegre> (BR)  último: nunca\n";

static void
test_text(void **state)
{
	struct report r = fixture("es");
	char *t = report_format_text(&r);

	(void)state;
	assert_non_null(t);
	assert_string_equal(t, text_es);
	free(t);
}

static void
test_text_pt(void **state)
{
	struct report r = fixture("pt");
	char *t = report_format_text(&r);

	(void)state;
	assert_non_null(t);
	assert_non_null(strstr(t, "Relatório de atividade da Mercocidades\n"));
	assert_non_null(strstr(t, "Sem envios há 180 dias ou mais\n"));
	assert_non_null(strstr(t, "último: nunca\n"));
	free(t);
}

static const char csv[] =
	"scope,slug,name,country,reports,last_report,meetings,invited,answered,accepted,"
	"attendance_pct,best_practices,mdg_indicators,submissions,kind:informe,kind:odm,"
	"last_submission,silent\r\n"
	"body,consejo,Consejo,,1,,1,5,3,2,40,0,0,,,,,0\r\n"
	"unit,cultura,Cultura,,2,2026-02-10,2,8,6,6,75,1,1,,,,2026-02-10,0\r\n"
	"unit,turismo,\"Turismo <&> \"\"Ocio\"\"\",,0,,0,0,0,0,,0,0,,,,2025-03-07,1\r\n"
	"city,,Montevideo,UY,,,,4,3,2,50,,,3,2,1,2026-02-10,0\r\n"
	"city,,Porto <Alegre>,BR,,,,1,0,0,0,,,0,0,0,,1\r\n";

static void
test_csv(void **state)
{
	struct report r = fixture("es");
	char *t = report_format_csv(&r);

	(void)state;
	assert_non_null(t);
	assert_string_equal(t, csv);
	free(t);
}

/* A name that a spreadsheet would run as a formula gets an apostrophe. */
static void
test_csv_formula_defused(void **state)
{
	struct report_unit u = { "x", "=HYPERLINK(\"http://evil\")", 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 };
	struct report r = { T0, T0 + DAY, T0, 180, "es", NULL, 0, &u, 1, NULL, 0 };
	char *t = report_format_csv(&r);

	(void)state;
	assert_non_null(t);
	assert_non_null(strstr(t, ",\"'=HYPERLINK(\"\"http://evil\"\")\","));
	free(t);
}

static size_t
count(const char *hay, const char *needle)
{
	size_t n = 0;

	for (const char *p = hay; (p = strstr(p, needle)) != NULL; p += strlen(needle))
		n++;
	return n;
}

static void
test_html(void **state)
{
	struct report r = fixture("es");
	char *h = report_format_html(&r);

	(void)state;
	assert_non_null(h);
	assert_true(strncmp(h, "<!DOCTYPE html>\n<html lang=\"es\">", 32) == 0);
	/* one chart per figure: reports per unit, attendance per unit, cities */
	assert_int_equal(count(h, "<svg "), 3);
	assert_int_equal(count(h, "</svg>"), 3);
	assert_non_null(strstr(h, "@media print{"));
	assert_non_null(strstr(h, "}\n</style>\n</head>\n<body>\n<h1>Informe de actividad"));
	assert_true(strlen(h) > 2000);
	assert_string_equal(h + strlen(h) - 16, "</body>\n</html>\n");
	assert_null(strstr(h, "<script"));
	assert_null(strstr(h, "<link"));
	assert_null(strstr(h, "src="));
	assert_null(strstr(h, "url("));
	/* values escaped, in the table, the charts and the lists */
	assert_null(strstr(h, "Turismo <&>"));
	assert_null(strstr(h, "Porto <Alegre>"));
	assert_int_equal(count(h, "Turismo &lt;&amp;&gt; &quot;Ocio&quot;"), 3);
	assert_non_null(strstr(h, "data-key=\"Porto &lt;Alegre&gt;/BR\" class=\"silent\">"));
	/* the figures, where the test of the page finds them */
	assert_non_null(strstr(h, "<tr data-scope=\"unit\" data-key=\"cultura\"><td data-col="
	    "\"name\">Cultura</td><td class=\"n\" data-col=\"reports\">2</td>"
	    "<td data-col=\"last_report\">2026-02-10</td><td class=\"n\" data-col=\"meetings\">"
	    "2</td><td class=\"n\" data-col=\"invited\">8</td><td class=\"n\" data-col="
	    "\"answered\">6</td><td class=\"n\" data-col=\"attendance\">75%</td>"
	    "<td class=\"n\" data-col=\"best_practices\">1</td><td class=\"n\" data-col="
	    "\"mdg_indicators\">1</td></tr>"));
	assert_non_null(strstr(h, "<td class=\"n\" data-col=\"kind:odm\">1</td>"));
	assert_non_null(strstr(h, "Período: <span id=\"since\">2026-01-01</span> a "
	    "<span id=\"until\">2026-06-30</span>"));
	/* the reports bars: 1 and 2 of 2, scaled to the largest (420 px) */
	assert_non_null(strstr(h, "<rect x=\"260\" y=\"9\" width=\"210\" height=\"14\""));
	assert_non_null(strstr(h, "<rect x=\"260\" y=\"29\" width=\"420\" height=\"14\""));
	/* the attendance bars: 40% and 75% of 420 px */
	assert_non_null(strstr(h, "width=\"168\" height=\"14\""));
	assert_non_null(strstr(h, "width=\"315\" height=\"14\""));
	free(h);
}

static void
test_html_pt_empty(void **state)
{
	struct report r = { T0, T0 + DAY, T0, 30, "pt", NULL, 0, NULL, 0, NULL, 0 };
	char *h = report_format_html(&r);

	(void)state;
	assert_non_null(h);
	assert_non_null(strstr(h, "<html lang=\"pt\">"));
	assert_non_null(strstr(h, "Relatório de atividade da Mercocidades"));
	assert_int_equal(count(h, "Sem dados no período"), 3);
	assert_int_equal(count(h, "<svg "), 3);
	assert_int_equal(count(h, "<li>(nenhuma)</li>"), 2);
	free(h);
}

static void
test_token(void **state)
{
	(void)state;
	assert_int_equal(report_token_ok("s3cret-token", "s3cret-token"), 1);
	assert_int_equal(report_token_ok("s3cret-tokem", "s3cret-token"), 0);
	assert_int_equal(report_token_ok("s3cret-token-longer", "s3cret-token"), 0);
	assert_int_equal(report_token_ok("s3cret", "s3cret-token"), 0);
	assert_int_equal(report_token_ok("", "s3cret-token"), 0);
	assert_int_equal(report_token_ok(NULL, "s3cret-token"), 0);
	assert_int_equal(report_token_ok("", ""), 0);	/* no token configured: nothing */
}

static void
test_clock_parse(void **state)
{
	(void)state;
	assert_int_equal(clock_parse("2026-01-01"), T0);
	assert_int_equal(clock_parse("2026-01-01T10:20:30Z"), T0 + 10 * 3600 + 20 * 60 + 30);
	assert_int_equal(clock_parse("1767225600"), T0);
	assert_int_equal(clock_parse("2026-02-29"), -1);
	assert_int_equal(clock_parse("2028-02-29"), T0 + (365 + 365 + 31 + 28) * (int64_t)DAY);
	assert_int_equal(clock_parse("2026-13-01"), -1);
	assert_int_equal(clock_parse("2026-01-01T24:00:00Z"), -1);
	assert_int_equal(clock_parse("yesterday"), -1);
	assert_int_equal(clock_parse(""), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rate_and_silence),
		cmocka_unit_test(test_text),
		cmocka_unit_test(test_text_pt),
		cmocka_unit_test(test_csv),
		cmocka_unit_test(test_csv_formula_defused),
		cmocka_unit_test(test_html),
		cmocka_unit_test(test_html_pt_empty),
		cmocka_unit_test(test_token),
		cmocka_unit_test(test_clock_parse),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
