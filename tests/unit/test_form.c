#include "buildconf.h"

#ifndef _XOPEN_SOURCE
#define _XOPEN_SOURCE 700	/* mkdtemp, open_memstream, nftw */
#endif

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "form.h"

/* The real templates (loaded once) and a scratch directory. */
static struct form_set *fs;
static char tmpl_dir[4096];
static char tdir[64];

/* ------------------------------------------------------------- fixtures */

/* A roster look-up: a few cities and units, by name (ASCII case-insensitive). */
static const char *const cities[][2] = {
	{ "Montevideo", "Montevideo" }, { "Rosario", "Rosario" },
	{ "Porto Alegre", "Porto Alegre" }, { "São Paulo", "São Paulo" },
	{ "Sao Paulo", "São Paulo" }, { "Canelones", "Canelones" },
	{ "Curitiba", "Curitiba" }, { "Asunción", "Asunción" }, { "Asuncion", "Asunción" },
	{ "Santa Fe", "Santa Fe" }, { "Rio de Janeiro", "Rio de Janeiro" },
};
static const char *const units[][2] = {
	{ "cultura", "cultura" }, { "ambiente", "ambiente" },
	{ "Ambiente y Desarrollo Sostenible", "ambiente" },
	{ "Ambiente e Desenvolvimento Sustentável", "ambiente" },
	{ "juventudes", "juventudes" }, { "Integración Fronteriza", "integracion-fronteriza" },
	{ "consejo", "consejo" },
};

static int lookups;	/* how many times the look-ups were called */

static int
lookup_in(const char *const (*tab)[2], size_t n, const char *name, char *canon, size_t size)
{
	lookups++;
	for (size_t i = 0; i < n; i++)
		if (strcasecmp(tab[i][0], name) == 0) {
			snprintf(canon, size, "%s", tab[i][1]);
			return 1;
		}
	return 0;
}

static int
city_lookup(void *ctx, const char *name, char *canon, size_t size)
{
	return lookup_in(cities, sizeof cities / sizeof cities[0], name, canon, size);
}

static int
unit_lookup(void *ctx, const char *name, char *canon, size_t size)
{
	return lookup_in(units, sizeof units / sizeof units[0], name, canon, size);
}

static const struct form_lookup lk = { .city = city_lookup, .unit = unit_lookup };

static int
rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	return remove(path);
}

static int
group_setup(void **state)
{
	const char *src = getenv("MERCOMAIL_SRCDIR");
	struct err e = { "" };

	if (src != NULL && *src) {
		snprintf(tmpl_dir, sizeof tmpl_dir, "%s/templates", src);
	} else {
		/* __FILE__ is SRCDIR/tests/unit/test_form.c */
		const char *slash = strrchr(__FILE__, '/');
		int n = slash ? (int)(slash - __FILE__) : 0;
		snprintf(tmpl_dir, sizeof tmpl_dir, "%.*s%s../../templates", n, __FILE__,
		    n ? "/" : "");
	}
	fs = form_set_load(tmpl_dir, stderr, &e);
	if (fs == NULL) {
		fprintf(stderr, "cannot load %s: %s\n", tmpl_dir, e.msg);
		return -1;
	}
	snprintf(tdir, sizeof tdir, "/tmp/test_form.XXXXXX");
	return mkdtemp(tdir) == NULL ? -1 : 0;
}

static int
group_teardown(void **state)
{
	form_set_free(fs);
	return nftw(tdir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static const struct form_def *
def(const char *kind)
{
	const struct form_def *fd = form_set_find(fs, kind);

	assert_non_null(fd);
	return fd;
}

static struct form_record *
parse(const char *kind, const char *body)
{
	struct err e = { "" };
	struct form_record *r = form_parse(def(kind), body, &lk, &e);

	assert_non_null(r);
	return r;
}

static void
print_errors(const struct form_record *r)
{
	for (size_t i = 0; i < r->nerrors; i++) {
		const struct form_error *fe = &r->errors[i];
		char *t = form_error_text(fs, r->def, fe, "es");
		fprintf(stderr, "  line %d: code %d field %s given '%s' sugg '%s' detail '%s': %s\n",
		    fe->line, (int)fe->code, fe->field ? fe->field : "-", fe->given,
		    fe->suggestion, fe->detail, t ? t : "?");
		free(t);
	}
}

static void
assert_no_errors(const struct form_record *r)
{
	if (r->nerrors != 0)
		print_errors(r);
	assert_int_equal(r->nerrors, 0);
}

/* The only error of r: its code, field and line. */
static const struct form_error *
one_error(const struct form_record *r, enum form_error_code code, const char *field, int line)
{
	if (r->nerrors != 1)
		print_errors(r);
	assert_int_equal(r->nerrors, 1);
	assert_int_equal(r->errors[0].code, code);
	if (field == NULL)
		assert_null(r->errors[0].field);
	else
		assert_string_equal(r->errors[0].field, field);
	assert_int_equal(r->errors[0].line, line);
	return &r->errors[0];
}

static void
check_value(const struct form_record *r, const char *field, const char *want)
{
	const char *got = form_record_get(r, field);

	if (got == NULL)
		fprintf(stderr, "no value for %s\n", field);
	assert_non_null(got);
	assert_string_equal(got, want);
}

static char *
write_form_dir(const char *name, const char *const *files, const char *const *texts, size_t n)
{
	static char dir[256];
	char path[512];

	snprintf(dir, sizeof dir, "%s/%s", tdir, name);
	assert_int_equal(mkdir(dir, 0700), 0);
	snprintf(path, sizeof path, "%s/forms", dir);
	assert_int_equal(mkdir(path, 0700), 0);
	snprintf(path, sizeof path, "%s/es", dir);
	assert_int_equal(mkdir(path, 0700), 0);
	snprintf(path, sizeof path, "%s/pt", dir);
	assert_int_equal(mkdir(path, 0700), 0);
	for (size_t i = 0; i < n; i++) {
		snprintf(path, sizeof path, "%s/%s", dir, files[i]);
		FILE *f = fopen(path, "w");
		assert_non_null(f);
		fputs(texts[i], f);
		assert_int_equal(fclose(f), 0);
	}
	return dir;
}

/* A catalog with every code, for the scratch directories. */
static const char catalog[] =
	"missing = M {field}\nunknown-field = U {given}\nduplicate = D {field}\n"
	"bad-date = BD {given}\nbad-integer = BI {given}\nout-of-range = R {detail}\n"
	"bad-email = BE {given}\nbad-choice = BC {choices}\nunknown-city = UC {given}\n"
	"unknown-unit = UU {given}\ntoo-long = TL {detail}\nbad-value = BV {given} {example}\n";

/* Load dir, returning the set (or NULL) and what was written to diag. */
static struct form_set *
load_with_diag(const char *dir, char **diag, struct err *e)
{
	size_t len = 0;
	FILE *d = open_memstream(diag, &len);
	struct form_set *set;

	assert_non_null(d);
	set = form_set_load(dir, d, e);
	fclose(d);
	return set;
}

/* --------------------------------------------------------- every .form */

/* Every file of templates/forms loads as a kind named after it, with titles,
 * an example in each language that parses back without errors, and is found
 * by its subject keywords and by its "Formulario:" line. */
static void
test_every_form_file(void **state)
{
	char dir[4200];
	DIR *d;
	struct dirent *de;
	size_t nfiles = 0;

	snprintf(dir, sizeof dir, "%s/forms", tmpl_dir);
	assert_non_null(d = opendir(dir));
	while ((de = readdir(d)) != NULL) {
		size_t n = strlen(de->d_name);
		char kind[256], subj[300];
		if (n <= 5 || strcmp(de->d_name + n - 5, ".form") != 0)
			continue;
		nfiles++;
		snprintf(kind, sizeof kind, "%.*s", (int)(n - 5), de->d_name);
		const struct form_def *fd = form_set_find(fs, kind);
		if (fd == NULL)
			fprintf(stderr, "%s did not load\n", de->d_name);
		assert_non_null(fd);
		assert_string_equal(form_kind(fd), kind);
		static const char *const langs[] = { "es", "pt", "en" };
		for (size_t l = 0; l < 3; l++) {
			assert_non_null(form_title(fd, langs[l]));
			char *ex = form_example(fd, langs[l]);
			assert_non_null(ex);
			struct err e = { "" };
			struct form_record *r = form_parse(fd, ex, &lk, &e);
			assert_non_null(r);
			if (r->nerrors)
				fprintf(stderr, "example of %s in %s:\n%s", kind, langs[l], ex);
			assert_no_errors(r);
			assert_string_equal(r->lang, langs[l]);
			/* found by its own example (the Formulario: line) */
			assert_ptr_equal(form_detect(fs, "", ex), fd);
			form_record_free(r);
			free(ex);
		}
		/* found by its kind in brackets in the subject */
		snprintf(subj, sizeof subj, "Re: [%s] envío", kind);
		assert_ptr_equal(form_detect(fs, subj, "hola"), fd);
		snprintf(subj, sizeof subj, "x\nFormulario: %s\ny", kind);
		assert_ptr_equal(form_detect(fs, NULL, subj), fd);
	}
	closedir(d);
	assert_true(nfiles >= 6);
	assert_int_equal(form_set_count(fs), nfiles);
	for (size_t i = 0; i < nfiles; i++)
		assert_non_null(form_set_at(fs, i));
	assert_null(form_set_at(fs, nfiles));
}

/* ------------------------------------------------------------ detection */

static void
expect_detect(const char *subject, const char *body, const char *kind)
{
	const struct form_def *fd = form_detect(fs, subject, body);

	if (kind == NULL) {
		if (fd != NULL)
			fprintf(stderr, "'%s' detected as %s\n", subject, form_kind(fd));
		assert_null(fd);
		return;
	}
	if (fd == NULL || strcmp(form_kind(fd), kind) != 0)
		fprintf(stderr, "'%s' / '%s': got %s, want %s\n", subject, body ? body : "",
		    fd ? form_kind(fd) : "nothing", kind);
	assert_non_null(fd);
	assert_string_equal(form_kind(fd), kind);
}

static void
test_detect_subject_es(void **state)
{
	expect_detect("[informe] Ambiente y Desarrollo Sostenible - segundo semestre", "", "informe");
	expect_detect("Informe: Cultura", "", "informe");
	expect_detect("RE: [informe] cultura", "", "informe");
	expect_detect("INFORME DE ACTIVIDADES - Juventudes", "", "informe");
	expect_detect("Solicitud de adhesión", "", "adhesion");
	expect_detect("solicitud de ADHESION de Ciudad del Este", "", "adhesion");
	expect_detect("Buena práctica: presupuesto participativo", "", "buena-practica");
	expect_detect("[buenas practicas] Rosario", "", "buena-practica");
	expect_detect("Indicador ODM 2025", "", "odm");
	expect_detect("Convenio con la Red de Ciudades Educadoras", "", "convenio");
	expect_detect("Re: [tema de agenda] Consejo de diciembre", "", "agenda");
	expect_detect("Tema de agenda para la Cumbre", "", "agenda");
}

static void
test_detect_subject_pt(void **state)
{
	expect_detect("Relatório: Cultura", NULL, "informe");
	expect_detect("Relatorio - Cultura", NULL, "informe");
	expect_detect("ENC: [relatório de atividades] Educação", NULL, "informe");
	expect_detect("Pedido de adesão - Foz do Iguaçu", NULL, "adhesion");
	expect_detect("Boa prática: orçamento participativo", NULL, "buena-practica");
	expect_detect("Indicador ODM", NULL, "odm");
	expect_detect("Convênio de cooperação", NULL, "convenio");
	expect_detect("Pauta para o Conselho", NULL, "agenda");
	expect_detect("[pauta] Cúpula de Montevidéu", NULL, "agenda");
	expect_detect("Membership application", NULL, "adhesion");
	expect_detect("[agenda item] Council", NULL, "agenda");
}

static void
test_detect_rules(void **state)
{
	/* the Formulario: line wins over the subject */
	expect_detect("[informe] algo", "Estimados:\nFormulario: adhesión\nCiudad: X\n", "adhesion");
	expect_detect("Relatório", "  FORMULÁRIO: Relatório\n", "informe");
	expect_detect("", "Form: report\n", "informe");
	expect_detect("", "*Formulario:* buena-practica\n", "buena-practica");
	expect_detect("", "Formulário: boa prática\n", "buena-practica");
	expect_detect("", "Formulario: tema de agenda\r\n", "agenda");
	/* a Formulario: line naming nothing falls back to the subject */
	expect_detect("[odm]", "Formulario: desconocido\n", "odm");
	/* a keyword in brackets beats a longer one outside */
	expect_detect("Re: [agenda] informe anual", "", "agenda");
	/* the longest keyword when several match */
	expect_detect("Propuesta de tema de agenda", "", "agenda");
	expect_detect("Informe de buena práctica", "", "buena-practica");
	/* whole words only */
	expect_detect("Reformas informes y conveniente", "", NULL);
	expect_detect("Hola", "Unidad: cultura\n", NULL);
	expect_detect(NULL, NULL, NULL);
	expect_detect("", "", NULL);
	assert_null(form_detect(NULL, "[informe]", ""));
}

/* ------------------------------------------------------- valid bodies */

static void
test_parse_informe_es(void **state)
{
	struct form_record *r = parse("informe",
	    "Formulario: informe\n"
	    "Unidad: Cultura\n"
	    "Período: 01/07/2026 - 31/12/2026\n"
	    "Actividades: Taller regional sobre gestión de residuos en Canelones,\n"
	    "  con 14 ciudades participantes.\n"
	    "\n"
	    "Segundo párrafo.\n"
	    "Resultados: Guía de buenas prácticas publicada.\n"
	    "Próximos pasos: Reunión de la unidad en marzo.\n");

	assert_no_errors(r);
	assert_ptr_equal(r->def, def("informe"));
	assert_int_equal(r->nvalues, 5);
	check_value(r, "unit", "cultura");
	check_value(r, "period", "2026-07-01/2026-12-31");
	check_value(r, "activities", "Taller regional sobre gestión de residuos en Canelones,\n"
	    "con 14 ciudades participantes.\n\nSegundo párrafo.");
	check_value(r, "results", "Guía de buenas prácticas publicada.");
	check_value(r, "next_steps", "Reunión de la unidad en marzo.");
	assert_string_equal(r->lang, "es");
	for (size_t i = 0; i < r->nvalues; i++)
		if (strcmp(r->values[i].field, "results") == 0)
			assert_int_equal(r->values[i].line, 8);
	assert_null(form_record_get(r, "nothing"));
	form_record_free(r);
}

static void
test_parse_informe_pt(void **state)
{
	struct form_record *r = parse("informe",
	    "Formulário: relatório\n"
	    "Unidade: Ambiente e Desenvolvimento Sustentável\n"
	    "Período: 2026-07-01 a 2026-12-31\n"
	    "Atividades: Festival de música das cidades do Mercosul.\n"
	    "Resultados: 12 cidades, 40 grupos.\n");

	assert_no_errors(r);
	check_value(r, "unit", "ambiente");
	check_value(r, "period", "2026-07-01/2026-12-31");
	assert_null(form_record_get(r, "next_steps"));	/* optional */
	assert_string_equal(r->lang, "pt");
	form_record_free(r);
}

static void
test_parse_adhesion(void **state)
{
	struct form_record *r = parse("adhesion",
	    "Estimados:\n"
	    "les enviamos nuestra solicitud.\n"
	    "\n"
	    "Ciudad: Ciudad del Este\n"
	    "País: paraguay\n"
	    "Población: 300.000\n"
	    "Jefe de gobierno: Miguel Prieto\n"
	    "Cargo: Intendente Municipal\n"
	    "Correo de contacto: Relaciones <RRII@CDE.Example.ORG>\n"
	    "Motivación: Queremos participar en la red.\n"
	    "Saludos cordiales,\n"
	    "Miguel\n");

	assert_no_errors(r);
	check_value(r, "city", "Ciudad del Este");
	check_value(r, "country", "PY");
	check_value(r, "population", "300000");
	check_value(r, "head_of_government", "Miguel Prieto");
	check_value(r, "head_title", "Intendente Municipal");
	check_value(r, "contact_email", "RRII@cde.example.org");
	check_value(r, "motivation", "Queremos participar en la red.\nSaludos cordiales,\nMiguel");
	assert_string_equal(r->lang, "es");
	form_record_free(r);

	r = parse("adhesion",
	    "Cidade: Foz do Iguaçu\nPaís: Brasil\nPopulação: 258 000\nPrefeito: João\n"
	    "Cargo: Prefeito Municipal\nE-mail: gabinete@foz.example\n"
	    "Motivação: Integração regional.\n");
	assert_no_errors(r);
	check_value(r, "country", "BR");
	check_value(r, "population", "258000");
	assert_string_equal(r->lang, "pt");
	form_record_free(r);
}

static void
test_parse_other_kinds(void **state)
{
	struct form_record *r;

	r = parse("buena-practica",
	    "Título: Presupuesto participativo joven\nCiudad: rosario\nUnidad: Juventudes\n"
	    "Resumen: Los jóvenes deciden.\nResultados: 3.200 votantes.\n"
	    "Contacto: mailto:juventud@rosario.example\n");
	assert_no_errors(r);
	check_value(r, "city", "Rosario");
	check_value(r, "unit", "juventudes");
	check_value(r, "contact_email", "juventud@rosario.example");
	form_record_free(r);

	r = parse("odm",
	    "Objetivo: 2\nIndicador: Tasa neta de matriculación\nValor: 97,4\n"
	    "Unidad de medida: %\nAño: 2025\nCiudad: Montevideo\nFuente: INE\n");
	assert_no_errors(r);
	check_value(r, "goal", "2");
	check_value(r, "year", "2025");
	check_value(r, "value", "97,4");
	check_value(r, "measure_unit", "%");
	form_record_free(r);

	r = parse("convenio",
	    "Contraparte: Red de Ciudades Educadoras\nTipo: Sociedad Civil\n"
	    "Alcance: Intercambio de experiencias.\n"
	    "Vigencia: del 01/03/2026 al 29/02/2028\n"
	    "Ciudades: Rosario; Montevideo,\n"
	    "  Santa Fe y Porto Alegre\n");
	assert_no_errors(r);
	check_value(r, "counterpart_type", "civil-society");
	check_value(r, "period", "2026-03-01/2028-02-29");
	check_value(r, "cities", "Rosario, Montevideo, Santa Fe, Porto Alegre");
	form_record_free(r);

	r = parse("convenio",
	    "Contraparte: ONU-Habitat\nTipo: organização internacional\n"
	    "Escopo: Cooperação técnica.\nVigência: 2026-01-01 até 2026-12-31\n"
	    "Cidades:\n  São Paulo\n  Curitiba\n");
	assert_no_errors(r);
	check_value(r, "counterpart_type", "international-organisation");
	check_value(r, "cities", "São Paulo, Curitiba");
	assert_string_equal(r->lang, "pt");
	form_record_free(r);

	/* the demo mail 04, without its quoted part */
	r = parse("agenda",
	    "Organo: consejo\n"
	    "Titulo: Financiamiento de proyectos de ciudades de frontera\n"
	    "Justificacion: Pedido de varias ciudades de la unidad de Integración Fronteriza.\n"
	    "Proponente: Rosario\n");
	assert_no_errors(r);
	check_value(r, "body", "council");
	check_value(r, "title", "Financiamiento de proyectos de ciudades de frontera");
	check_value(r, "proposer", "Rosario");
	assert_string_equal(r->lang, "es");
	form_record_free(r);

	r = parse("agenda", "Órgão: Cúpula\nTítulo: X\nJustificativa: Y\nProponente: Curitiba\n");
	assert_no_errors(r);
	check_value(r, "body", "summit");
	assert_string_equal(r->lang, "pt");
	form_record_free(r);
}

/* Names: case, accents, blanks, '*', decomposed accents (NFD from a Mac). */
static void
test_name_variants(void **state)
{
	static const char *const period_names[] = {
		"Período", "Periodo", "PERIODO", "período", "  Período  ", "Período *", "*Período*",
		"Pe\xcc\x81riodo" /* NFD */, "PERÍODO INFORMADO", "Period", "período\xc2\xa0",
	};
	char body[512];

	for (size_t i = 0; i < sizeof period_names / sizeof period_names[0]; i++) {
		snprintf(body, sizeof body, "Unidad: cultura\n%s: 2026-01-01 a 2026-06-30\n"
		    "Actividades: a\nResultados: b\n", period_names[i]);
		struct form_record *r = parse("informe", body);
		if (r->nerrors)
			fprintf(stderr, "name '%s'\n", period_names[i]);
		assert_no_errors(r);
		check_value(r, "period", "2026-01-01/2026-06-30");
		form_record_free(r);
	}
	/* markdown bold around the name */
	struct form_record *r = parse("informe",
	    "**Unidad:** cultura\nPeríodo: 2026-01-01 a 2026-06-30\nActividades: a\nResultados: b\n");
	assert_no_errors(r);
	check_value(r, "unit", "cultura");
	form_record_free(r);
	/* a note in brackets after the name */
	r = parse("informe", "Unidad (slug): cultura\nPeríodo: 2026-01-01 a 2026-06-30\n"
	    "Actividades: a\nResultados: b\nPróximos pasos (opcional): c\n");
	assert_no_errors(r);
	check_value(r, "unit", "cultura");
	check_value(r, "next_steps", "c");
	form_record_free(r);
	/* CRLF line ends, tabs, a value on the next line */
	r = parse("informe",
	    "Unidad:\tcultura\r\nPeríodo:\r\n2026-01-01 a 2026-06-30\r\nActividades: a\r\nResultados: b\r\n");
	assert_no_errors(r);
	check_value(r, "unit", "cultura");
	check_value(r, "period", "2026-01-01/2026-06-30");
	check_value(r, "results", "b");
	form_record_free(r);
}

static void
test_continuation_and_longtext(void **state)
{
	struct form_record *r = parse("agenda",
	    "Órgano: Consejo\n"
	    "Título: Financiamiento de proyectos\n"
	    "   de ciudades de frontera\n"
	    "\tdel Mercosur\n"
	    "Justificación:\n"
	    "\n"
	    "Pedido de varias ciudades.\n"
	    "Nota: esto es parte del texto.\n"
	    "   - un punto\n"
	    "Ver https://example.org/x: enlace\n"
	    "\n"
	    "Proponente: Rosario\n"
	    "Saludos\n");

	assert_no_errors(r);
	check_value(r, "title", "Financiamiento de proyectos de ciudades de frontera del Mercosur");
	check_value(r, "justification", "Pedido de varias ciudades.\n"
	    "Nota: esto es parte del texto.\n- un punto\nVer https://example.org/x: enlace");
	check_value(r, "proposer", "Rosario");
	form_record_free(r);

	/* a near-miss of a field name inside a long text ends it and is reported */
	r = parse("informe",
	    "Unidad: cultura\nPeríodo: 2026-01-01 a 2026-06-30\n"
	    "Actividades: muchas\nResultdos: buenos\n");
	assert_int_equal(r->nerrors, 2);
	assert_int_equal(r->errors[0].code, FE_UNKNOWN_FIELD);
	assert_int_equal(r->errors[0].line, 4);
	assert_string_equal(r->errors[0].given, "Resultdos");
	assert_string_equal(r->errors[0].suggestion, "Resultados");
	assert_int_equal(r->errors[1].code, FE_MISSING);
	assert_string_equal(r->errors[1].field, "results");
	check_value(r, "activities", "muchas");
	form_record_free(r);
}

/* ---------------------------------------------------------- errors */

static void
test_missing(void **state)
{
	struct form_record *r = parse("informe",
	    "Unidad: cultura\nPeríodo: 2026-01-01 a 2026-06-30\nActividades: a\n");
	one_error(r, FE_MISSING, "results", 0);
	form_record_free(r);

	/* given but empty: the line of the empty field */
	r = parse("informe",
	    "Unidad: cultura\nPeríodo: 2026-01-01 a 2026-06-30\nActividades: a\nResultados:\n");
	one_error(r, FE_MISSING, "results", 4);
	form_record_free(r);

	r = parse("informe", "Unidad:   \n\nPeríodo: 2026-01-01 a 2026-06-30\nActividades: a\nResultados: b\n");
	one_error(r, FE_MISSING, "unit", 1);
	form_record_free(r);

	/* everything missing */
	r = parse("adhesion", "");
	assert_int_equal(r->nerrors, 7);
	for (size_t i = 0; i < r->nerrors; i++)
		assert_int_equal(r->errors[i].code, FE_MISSING);
	assert_string_equal(r->lang, "");
	form_record_free(r);
}

/* "unless": a meeting needs a place unless it has a link, and not both. */
static void
test_required_unless(void **state)
{
	static const char head[] = "Unidad: cultura\nTítulo: Plenario\nInicio: 2027-03-10 10:00\n";
	char body[512];
	struct form_record *r;

	snprintf(body, sizeof body, "%sEnlace: https://meet.example/x\n", head);
	r = parse("reunion", body);
	assert_no_errors(r);
	form_record_free(r);
	snprintf(body, sizeof body, "%sLugar: Montevideo\n", head);
	r = parse("reunion", body);
	assert_no_errors(r);
	form_record_free(r);
	r = parse("reunion", head);
	one_error(r, FE_MISSING, "location", 0);
	form_record_free(r);
}

static int
only_montevideo(void *ctx, const char *tzid)
{
	(void)ctx;
	return strcmp(tzid, "America/Montevideo") == 0;
}

/* A zone look-up, when given, rejects well-formed names it does not know. */
static void
test_zone_lookup(void **state)
{
	struct form_lookup zl = lk;
	struct err e = { "" };
	const struct form_def *fd = form_set_find(fs, "reunion");
	static const char base[] = "Unidad: cultura\nTítulo: T\nInicio: 2027-03-10 10:00\n"
	    "Lugar: X\n";
	char body[512];
	struct form_record *r;

	zl.zone = only_montevideo;
	snprintf(body, sizeof body, "%sZona horaria: America/Montevideo\n", base);
	assert_non_null(r = form_parse(fd, body, &zl, &e));
	assert_no_errors(r);
	assert_string_equal(form_record_get(r, "timezone"), "America/Montevideo");
	form_record_free(r);
	snprintf(body, sizeof body, "%sZona horaria: Europe/Atlantis\n", base);
	assert_non_null(r = form_parse(fd, body, &zl, &e));
	one_error(r, FE_BAD_VALUE, "timezone", 5);
	form_record_free(r);
	/* without a look-up the name only has to be well formed */
	assert_non_null(r = form_parse(fd, body, &lk, &e));
	assert_no_errors(r);
	form_record_free(r);
}

static const char informe_rest[] = "Actividades: a\nResultados: b\n";

static struct form_record *
informe_with_period(const char *period)
{
	char body[512];

	snprintf(body, sizeof body, "Unidad: cultura\nPeríodo: %s\n%s", period, informe_rest);
	return parse("informe", body);
}

static void
test_dates(void **state)
{
	static const char *const good[][2] = {
		{ "2026-07-01 a 2026-12-31", "2026-07-01/2026-12-31" },
		{ "01/07/2026 - 31/12/2026", "2026-07-01/2026-12-31" },
		{ "1/7/2026 al 31/12/2026", "2026-07-01/2026-12-31" },
		{ "2026-07-01/2026-12-31", "2026-07-01/2026-12-31" },
		{ "desde 01.07.2026 hasta 31.12.2026", "2026-07-01/2026-12-31" },
		{ "2026-07-01 \xe2\x80\x93 2026-12-31", "2026-07-01/2026-12-31" },
		{ "2026-07-01 to 2026-12-31", "2026-07-01/2026-12-31" },
		{ "2028-02-29 a 2028-02-29", "2028-02-29/2028-02-29" },
	};
	static const char *const bad[] = {
		"2026-02-30 a 2026-03-01", "32/01/2026 a 01/02/2026", "2026-13-01 a 2026-12-31",
		"julio a diciembre", "2026-07-01", "2026-07-01 a", "2027-02-29 a 2027-03-01",
		"2026-07-01 a 2026-12-31 y más", "01/07/26 a 31/12/26", "20260-07-01 a 2026-12-31",
	};

	for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
		struct form_record *r = informe_with_period(good[i][0]);
		if (r->nerrors)
			fprintf(stderr, "period '%s'\n", good[i][0]);
		assert_no_errors(r);
		check_value(r, "period", good[i][1]);
		form_record_free(r);
	}
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		struct form_record *r = informe_with_period(bad[i]);
		const struct form_error *fe = one_error(r, FE_BAD_DATE, "period", 2);
		assert_string_equal(fe->given, bad[i]);
		form_record_free(r);
	}
	/* reversed */
	struct form_record *r = informe_with_period("31/12/2026 a 01/07/2026");
	const struct form_error *fe = one_error(r, FE_OUT_OF_RANGE, "period", 2);
	assert_string_equal(fe->given, "31/12/2026 a 01/07/2026");
	assert_string_equal(fe->detail, "2026-12-31 > 2026-07-01");
	form_record_free(r);
}

static void
test_integers(void **state)
{
	struct form_record *r;
	const struct form_error *fe;

	r = parse("odm", "Objetivo: 9\nIndicador: i\nValor: 1\nUnidad de medida: %\n"
	    "Año: 2025\nCiudad: Rosario\nFuente: f\n");
	fe = one_error(r, FE_OUT_OF_RANGE, "goal", 1);
	assert_string_equal(fe->given, "9");
	assert_string_equal(fe->detail, "1\xe2\x80\x93" "8");
	form_record_free(r);

	r = parse("odm", "Objetivo: 1\nIndicador: i\nValor: 1\nUnidad de medida: %\n"
	    "Año: 1989\nCiudad: Rosario\nFuente: f\n");
	one_error(r, FE_OUT_OF_RANGE, "year", 5);
	form_record_free(r);

	static const char *const bad[] = { "muchos", "300.00", "1.5", "12,34,567", "3e5",
		"1.000,000", "99999999999999999999999" };
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		char body[256];
		snprintf(body, sizeof body, "Ciudad: X\nPaís: AR\nPoblación: %s\nJefe de gobierno: J\n"
		    "Cargo: C\nCorreo: a@b.example\nMotivación: m\n", bad[i]);
		r = parse("adhesion", body);
		fe = one_error(r, i == 6 ? FE_OUT_OF_RANGE : FE_BAD_INTEGER, "population", 3);
		assert_string_equal(fe->given, bad[i]);
		form_record_free(r);
	}
	r = parse("adhesion", "Ciudad: X\nPaís: AR\nPoblación: 0\nJefe de gobierno: J\n"
	    "Cargo: C\nCorreo: a@b.example\nMotivación: m\n");
	one_error(r, FE_OUT_OF_RANGE, "population", 3);
	form_record_free(r);
}

static void
test_emails(void **state)
{
	static const char *const bad[] = { "ana", "ana@", "@x.example", "ana@localhost",
		"ana@@x.example", "ana x@y.example", "ana@x..example", "ana@-x.example",
		"ana.@x.example", "ana@x.example>", "Ana <ana@x.example", "ana@x.123" };
	char body[256];

	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		snprintf(body, sizeof body, "Título: t\nCiudad: Rosario\nUnidad: cultura\nResumen: r\n"
		    "Resultados: r\nContacto: %s\n", bad[i]);
		struct form_record *r = parse("buena-practica", body);
		if (r->nerrors != 1)
			fprintf(stderr, "email '%s'\n", bad[i]);
		const struct form_error *fe = one_error(r, FE_BAD_EMAIL, "contact_email", 6);
		assert_string_equal(fe->given, bad[i]);
		form_record_free(r);
	}
}

static void
test_enum_choice(void **state)
{
	struct form_record *r = parse("adhesion",
	    "Ciudad: X\nPaís: Alemania\nPoblación: 10\nJefe de gobierno: J\n"
	    "Cargo: C\nCorreo: a@b.example\nMotivación: m\n");
	const struct form_error *fe = one_error(r, FE_BAD_CHOICE, "country", 2);

	assert_string_equal(fe->given, "Alemania");
	assert_string_equal(fe->detail, "AR, BR, UY, PY, CL, BO, VE, EC, PE, CO");
	char *t = form_error_text(fs, r->def, fe, "es");
	assert_non_null(t);
	assert_non_null(strstr(t, "«Alemania»"));
	assert_non_null(strstr(t, "«País»"));
	assert_non_null(strstr(t, "Argentina, Brasil, Uruguay, Paraguay"));
	free(t);
	t = form_error_text(fs, r->def, fe, "pt");
	assert_non_null(strstr(t, "Argentina, Brasil, Uruguai, Paraguai"));
	free(t);
	form_record_free(r);

	/* accent- and case-insensitive words of a choice */
	static const char *const ok[][2] = { { "perú", "PE" }, { "PERU", "PE" }, { "Colômbia", "CO" },
		{ "uy", "UY" }, { "Equador", "EC" } };
	for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
		char body[256];
		snprintf(body, sizeof body, "Ciudad: X\nPaís: %s\nPoblación: 10\nJefe de gobierno: J\n"
		    "Cargo: C\nCorreo: a@b.example\nMotivación: m\n", ok[i][0]);
		r = parse("adhesion", body);
		assert_no_errors(r);
		check_value(r, "country", ok[i][1]);
		form_record_free(r);
	}
}

static void
test_unknown_city_and_unit(void **state)
{
	struct form_record *r = parse("buena-practica",
	    "Título: t\nCiudad: Gotham\nUnidad: astronomía\nResumen: r\n"
	    "Resultados: r\nContacto: a@b.example\n");

	assert_int_equal(r->nerrors, 2);
	assert_int_equal(r->errors[0].code, FE_UNKNOWN_CITY);
	assert_string_equal(r->errors[0].field, "city");
	assert_string_equal(r->errors[0].given, "Gotham");
	assert_int_equal(r->errors[0].line, 2);
	assert_int_equal(r->errors[1].code, FE_UNKNOWN_UNIT);
	assert_string_equal(r->errors[1].field, "unit");
	assert_string_equal(r->errors[1].given, "astronomía");
	assert_int_equal(r->errors[1].line, 3);
	form_record_free(r);

	/* each bad city of a list */
	r = parse("convenio",
	    "Contraparte: c\nTipo: red\nAlcance: a\nVigencia: 2026-01-01 a 2026-12-31\n"
	    "Ciudades: Rosario, Gotham, Metrópolis y Montevideo\n");
	assert_int_equal(r->nerrors, 2);
	assert_int_equal(r->errors[0].code, FE_UNKNOWN_CITY);
	assert_string_equal(r->errors[0].given, "Gotham");
	assert_string_equal(r->errors[1].given, "Metrópolis y Montevideo");
	assert_int_equal(r->errors[1].line, 5);
	form_record_free(r);

	/* without look-ups, any name is taken */
	struct err e = { "" };
	r = form_parse(def("buena-practica"), "Título: t\nCiudad: Gotham\nUnidad: astronomía\n"
	    "Resumen: r\nResultados: r\nContacto: a@b.example\n", NULL, &e);
	assert_non_null(r);
	assert_no_errors(r);
	check_value(r, "city", "Gotham");
	form_record_free(r);
}

static void
test_unknown_field(void **state)
{
	struct form_record *r = parse("informe",
	    "Unidd: cultura\nPeríodo: 2026-01-01 a 2026-06-30\nActividades: a\nResultados: b\n");
	assert_int_equal(r->nerrors, 2);
	assert_int_equal(r->errors[0].code, FE_UNKNOWN_FIELD);
	assert_null(r->errors[0].field);
	assert_string_equal(r->errors[0].given, "Unidd");
	assert_string_equal(r->errors[0].suggestion, "Unidad");
	assert_int_equal(r->errors[0].line, 1);
	assert_int_equal(r->errors[1].code, FE_MISSING);
	char *t = form_error_text(fs, r->def, &r->errors[0], "es");
	assert_string_equal(t, "El campo «Unidd» no existe en este formulario; "
	    "¿quiso decir «Unidad»?");
	free(t);
	form_record_free(r);

	r = parse("informe", "Unidade temátca: cultura\nPeríodo: 2026-01-01 a 2026-06-30\n"
	    "Atividades: a\nResultados: b\n");
	assert_string_equal(r->errors[0].suggestion, "Unidade temática");
	t = form_error_text(fs, r->def, &r->errors[0], "pt");
	assert_string_equal(t, "O campo «Unidade temátca» não existe neste formulário; "
	    "você quis dizer «Unidade temática»?");
	free(t);
	form_record_free(r);

	/* far from every name: reported after the first field, without a suggestion */
	r = parse("agenda", "Órgano: consejo\nColor favorito: azul\nTítulo: t\n"
	    "Justificación: j\nProponente: Rosario\n");
	const struct form_error *fe = one_error(r, FE_UNKNOWN_FIELD, NULL, 2);
	assert_string_equal(fe->given, "Color favorito");
	assert_string_equal(fe->suggestion, "");
	t = form_error_text(fs, r->def, fe, "es");
	assert_string_equal(t, "El campo «Color favorito» no existe en este formulario.");
	free(t);
	form_record_free(r);

	/* greetings, times, URLs and the quoted attribution are not field names */
	r = parse("agenda",
	    "Estimados:\nHola Secretaría: les mando el tema.\n"
	    "Órgano: consejo\nTítulo: t\n"
	    "Reunión 10:30 en sala 2\nhttp://example.org\n"
	    "El 24 nov 2026, a las 18:00, Secretaría <secretaria@red.test> escribió:\n"
	    "Justificación: j\nProponente: Rosario\n");
	assert_no_errors(r);
	form_record_free(r);
}

static void
test_duplicate(void **state)
{
	struct form_record *r = parse("informe",
	    "Unidad: cultura\nPeríodo: 2026-01-01 a 2026-06-30\nActividades: a\nResultados: b\n"
	    "UNIDAD TEMÁTICA: ambiente\n  continuación\n");
	const struct form_error *fe = one_error(r, FE_DUPLICATE, "unit", 5);

	assert_string_equal(fe->given, "UNIDAD TEMÁTICA");
	check_value(r, "unit", "cultura");
	char *t = form_error_text(fs, r->def, fe, "pt");
	assert_string_equal(t, "O campo «Unidade» aparece mais de uma vez; por favor, escreva-o uma só vez.");
	free(t);
	form_record_free(r);
}

static void
test_lang(void **state)
{
	struct form_record *r;

	r = parse("odm", "Objetivo: 1\nIndicador: i\nValor: 1\nUnidad de medida: %\nAño: 2025\n"
	    "Ciudad: Rosario\nFuente: f\n");
	assert_string_equal(r->lang, "es");
	form_record_free(r);
	r = parse("odm", "Objetivo: 1\nIndicador: i\nValor: 1\nUnidade de medida: %\nAno: 2025\n"
	    "Cidade: Rosario\nFonte: f\n");
	assert_string_equal(r->lang, "pt");
	form_record_free(r);
	r = parse("odm", "Goal: 1\nIndicator: i\nValue: 1\nUnit of measure: %\nYear: 2025\n"
	    "City: Rosario\nSource: f\n");
	assert_no_errors(r);
	assert_string_equal(r->lang, "en");
	form_record_free(r);
	/* names shared by es and pt only: unclear, unless the Formulario: line says */
	r = parse("odm", "Objetivo: 1\nIndicador: i\n");
	assert_string_equal(r->lang, "");
	form_record_free(r);
	r = parse("odm", "Formulário: indicador ODM\nObjetivo: 1\nIndicador: i\n");
	assert_string_equal(r->lang, "pt");
	form_record_free(r);
	r = parse("informe", "Formulario: relatório\nResultados: x\n");
	assert_string_equal(r->lang, "pt");
	form_record_free(r);
}

static void
test_example(void **state)
{
	char *es = form_example(def("informe"), "es");
	char *pt = form_example(def("informe"), "pt");
	char *fr = form_example(def("informe"), "fr");

	assert_string_equal(es,
	    "Formulario: informe\n"
	    "Unidad: cultura\n"
	    "Período: 2026-07-01 a 2026-12-31\n"
	    "Actividades: Taller regional sobre gestión cultural en Canelones, con 14 ciudades.\n"
	    "Resultados: Guía de buenas prácticas publicada.\n"
	    "Próximos pasos: Reunión de la unidad en marzo.\n");
	assert_non_null(strstr(pt, "Formulário: relatório\nUnidade: cultura\n"));
	assert_non_null(strstr(pt, "Próximos passos: Reunião da unidade em março.\n"));
	assert_string_equal(fr, es);
	free(es);
	free(pt);
	free(fr);
	assert_null(form_example(NULL, "es"));
}

static void
test_error_text(void **state)
{
	struct form_record *r = parse("informe",
	    "Unidad: cultura\nActividades: a\nResultados: b\n");
	const struct form_error *fe = one_error(r, FE_MISSING, "period", 0);
	char *t;

	t = form_error_text(fs, r->def, fe, "es");
	assert_string_equal(t, "Falta el campo obligatorio «Período».");
	free(t);
	t = form_error_text(fs, r->def, fe, "pt");
	assert_string_equal(t, "Falta o campo obrigatório «Período».");
	free(t);
	t = form_error_text(fs, r->def, fe, "en");	/* falls back to Spanish */
	assert_string_equal(t, "Falta el campo obligatorio «Período».");
	free(t);
	t = form_error_text(fs, r->def, fe, NULL);
	assert_string_equal(t, "Falta el campo obligatorio «Período».");
	free(t);
	form_record_free(r);

	/* type-specific wording, with the field's example */
	r = informe_with_period("julio");
	t = form_error_text(fs, r->def, &r->errors[0], "es");
	assert_string_equal(t, "«julio» no es un período válido para «Período»; escríbalo con "
	    "dos fechas, por ejemplo: 2026-07-01 a 2026-12-31.");
	free(t);
	form_record_free(r);
	r = informe_with_period("2026-12-31 a 2026-01-01");
	t = form_error_text(fs, r->def, &r->errors[0], "pt");
	assert_string_equal(t, "Em «Período» a data de início é posterior à de término "
	    "(2026-12-31 a 2026-01-01); por favor, verifique a ordem.");
	free(t);
	form_record_free(r);

	/* every code renders in both languages without a placeholder left */
	for (int code = FE_MISSING; code <= FE_BAD_VALUE; code++) {
		struct form_error e = { .code = (enum form_error_code)code, .field = "period",
			.given = "x", .suggestion = "", .detail = "1\xe2\x80\x93" "8", .line = 3 };
		for (int l = 0; l < 2; l++) {
			t = form_error_text(fs, def("informe"), &e, l ? "pt" : "es");
			assert_non_null(t);
			assert_null(strchr(t, '{'));
			assert_true(strlen(t) > 10);
			free(t);
		}
	}
	/* a long value is cut in given, on a character boundary */
	char body[1024];
	snprintf(body, sizeof body, "Ciudad: X\nPaís: %s\nPoblación: 1\nJefe de gobierno: J\n"
	    "Cargo: C\nCorreo: a@b.example\nMotivación: m\n",
	    "ñññññññññññññññññññññññññññññññññññññññññññññññññññ");
	r = parse("adhesion", body);
	fe = one_error(r, FE_BAD_CHOICE, "country", 2);
	assert_true(strlen(fe->given) < sizeof fe->given);
	assert_non_null(strstr(fe->given, "ñ\xe2\x80\xa6"));
	form_record_free(r);
}

static void
test_too_long(void **state)
{
	size_t n = 30000;
	char *body = malloc(n + 200);
	char *p = body;

	p += sprintf(p, "Unidad: cultura\nPeríodo: 2026-01-01 a 2026-06-30\nActividades: ");
	memset(p, 'x', n);
	p += n;
	strcpy(p, "\nResultados: b\n");
	struct form_record *r = parse("informe", body);
	const struct form_error *fe = one_error(r, FE_TOO_LONG, "activities", 3);
	assert_string_equal(fe->detail, "20000");
	form_record_free(r);
	free(body);

	char title[400];
	memset(title, 'a', 250);
	title[250] = '\0';
	snprintf(body = malloc(600), 600, "Órgano: consejo\nTítulo: %s\nJustificación: j\n"
	    "Proponente: Rosario\n", title);
	r = parse("agenda", body);
	one_error(r, FE_TOO_LONG, "title", 2);
	form_record_free(r);
	free(body);
}

/* ----------------------------------------------------- accessors, roles */

static void
test_accessors(void **state)
{
	assert_string_equal(form_title(def("informe"), "pt"),
	    "Relatório de atividades de unidade temática");
	assert_string_equal(form_title(def("informe"), "xx"),
	    "Informe de actividades de unidad temática");
	assert_string_equal(form_field_label(def("informe"), "next_steps", "pt"), "Próximos passos");
	assert_string_equal(form_field_label(def("informe"), "next_steps", "en"), "Next steps");
	assert_string_equal(form_field_label(def("informe"), "next_steps", "de"), "Próximos pasos");
	assert_null(form_field_label(def("informe"), "nope", "es"));
	assert_string_equal(form_unit_field(def("informe")), "unit");
	assert_string_equal(form_unit_field(def("buena-practica")), "unit");
	assert_null(form_unit_field(def("adhesion")));
	assert_null(form_set_find(fs, "nope"));
	assert_null(form_kind(NULL));

	assert_true(form_allows_role(def("informe"), "coordinator"));
	assert_true(form_allows_role(def("informe"), "subcoordinator"));
	assert_false(form_allows_role(def("informe"), "member"));
	assert_false(form_allows_role(def("informe"), "contact"));
	assert_false(form_allows_role(def("informe"), "anyone"));
	assert_true(form_allows_role(def("adhesion"), "anyone"));
	assert_true(form_allows_role(def("adhesion"), NULL));
	assert_true(form_allows_role(def("odm"), "contact"));
	assert_true(form_allows_role(def("odm"), "coordinator"));	/* a contact too */
	assert_false(form_allows_role(def("odm"), "anyone"));
	assert_false(form_allows_role(def("odm"), "bogus"));
	assert_true(form_allows_role(def("convenio"), "secretariat"));
	assert_false(form_allows_role(def("convenio"), "subcoordinator"));
}

/* ------------------------------------------------ loading errors */

static void
test_broken_form_file(void **state)
{
	static const char *const files[] = { "forms/mala.form", "forms/otra.form",
		"es/form-errors.txt", "pt/form-errors.txt" };
	static const char *const texts[] = {
		"[form]\n"
		"kind = mala\n"
		"title.es = Mala\n"
		"title.fr = Mauvaise\n"				/* 4: language */
		"subject.es = mala\n"
		"roles = coordinator, jefe\n"			/* 6: role */
		"colour = red\n"				/* 7: key */
		"[field a]\n"
		"type = fecha\n"				/* 9: type */
		"aliases.es = Alfa\n"
		"example.es = x\n"
		"[field b]\n"					/* 12: example */
		"type = integer\n"
		"min = 5\n"
		"max = 1\n"
		"aliases.es = ALFA, Beta\n"			/* alias of a */
		"example.es = diez\n"
		"required = quizás\n"				/* 18: bool */
		"[field c]\n"
		"type = enum\n"
		"choices = x, y\n"
		"choice.z.es = zeta\n"				/* 22: choice */
		"aliases.es = Ce\n"
		"example.es = x\n"
		"type = text\n"					/* 25: twice */
		"garbage line\n"				/* 26: syntax */
		"[sección]\n"					/* 27: section */
		"[field d]\n"
		"type = text\n"
		"aliases.es = De\n"
		"example.es = d\n"
		"unless = nada\n",				/* 32: unless */
		"[form]\nkind = distinta\ntitle.es = Otra\nsubject.es = mala\nroles = anyone\n"
		"[field x]\ntype = text\naliases.es = X\nexample.es = x\n",
		catalog,
		"missing = M {campo}\n",
	};
	char *dir = write_form_dir("broken", files, texts, 4);
	char *diag = NULL;
	struct err e = { "" };
	struct form_set *set = load_with_diag(dir, &diag, &e);
	char want[512];

	assert_null(set);
	static const char *const expect[] = {
		"mala.form:4: 'title.fr': the language must be es, pt or en",
		"mala.form:6: unknown role 'jefe'",
		"mala.form:7: unknown key 'colour' in [form]",
		"mala.form:9: unknown type 'fecha'",
		"mala.form:8: field 'a' has no type",
		"mala.form:12: field 'b': min is greater than max",
		"mala.form:18: required: 'quizás' is not yes or no",
		"mala.form:12: field 'b': example.es 'diez' is not a valid integer",
		"mala.form:22: 'z' is not one of the choices of field 'c'",
		"mala.form:25: 'type' given twice in this section",
		"mala.form:26: expected 'key = value' or a [section]",
		"mala.form:27: unknown section [sección]",
		"mala.form:32: field 'd': unless names no other field of this form ('nada')",
		"mala.form:12: alias 'ALFA' of field 'b' is also an alias of field 'a'",
		"otra.form:2: kind 'distinta' does not match the file name otra.form",
		"pt/form-errors.txt:1: unknown placeholder {campo}",
		"pt/form-errors.txt: no entry for 'unknown-field'",
	};
	for (size_t i = 0; i < sizeof expect / sizeof expect[0]; i++) {
		snprintf(want, sizeof want, "%s", expect[i]);
		if (strstr(diag, want) == NULL)
			fprintf(stderr, "missing in diag: %s\n--- diag:\n%s", want, diag);
		assert_non_null(strstr(diag, want));
	}
	/* each line of diag is "path:line: message" or "path: message", with the directory */
	assert_int_equal(strncmp(diag, dir, strlen(dir)), 0);
	assert_non_null(strstr(e.msg, "mala.form:4:"));
	free(diag);
}

static void
test_set_level_errors(void **state)
{
	static const char *const files[] = { "forms/uno.form", "forms/dos.form",
		"forms/tres.form", "es/form-errors.txt" };
	static const char *const texts[] = {
		"[form]\nkind = uno\ntitle.es = Uno\nsubject.es = común, uno\nroles = contact\n"
		"[field x]\ntype = text\naliases.es = X\nexample.es = x\n",
		"[form]\nkind = dos\ntitle.es = Dos\nsubject.es = dos, COMÚN\nroles = contact\n"
		"[field x]\ntype = text\naliases.es = X\nexample.es = x\n",
		"[form]\nkind = tres\ntitle.es = Tres\nsubject.es = tres\nroles = contact\n"
		"[field x]\ntype = text\naliases.es = X, Formulario\nexample.es = x\n",
		catalog,
	};
	char *dir = write_form_dir("setlevel", files, texts, 4);
	char *diag = NULL;
	struct err e = { "" };
	struct form_set *set = load_with_diag(dir, &diag, &e);

	assert_null(set);
	if (strstr(diag, "uno.form:4: subject keyword 'común' is also a keyword of kind 'dos'") == NULL)
		fprintf(stderr, "%s", diag);
	assert_non_null(strstr(diag, "tres.form:6: field 'x': alias 'Formulario' is empty or reserved"));
	assert_non_null(strstr(diag, "uno.form:4: subject keyword 'común' is also a keyword of kind 'dos'"));
	assert_non_null(strstr(diag, "pt/form-errors.txt: cannot read"));
	free(diag);

	/* an empty forms directory, and a missing one */
	char *d2 = write_form_dir("empty", NULL, NULL, 0);
	set = load_with_diag(d2, &diag, &e);
	assert_null(set);
	assert_non_null(strstr(diag, "no .form files"));
	free(diag);
	set = load_with_diag("/nonexistent/mercomail", &diag, &e);
	assert_null(set);
	assert_non_null(strstr(e.msg, "/nonexistent/mercomail/forms"));
	free(diag);
}

/* The other field types, through a form written for the test. */
static void
test_other_types(void **state)
{
	static const char *const files[] = { "forms/reunion.form", "es/form-errors.txt",
		"pt/form-errors.txt" };
	static const char *const texts[] = {
		"[form]\nkind = reunion\ntitle.es = Reunión\nsubject.es = reunión\nroles = member\n"
		"[field start]\ntype = datetime\nrequired = yes\naliases.es = Inicio\n"
		"example.es = 2026-12-03 10:00\n"
		"[field length]\ntype = duration\nmax = 600\naliases.es = Duración\nexample.es = 1h30\n"
		"[field tz]\ntype = timezone\naliases.es = Zona horaria\nexample.es = America/Montevideo\n"
		"[field web]\ntype = url\naliases.es = Enlace\nexample.es = https://example.org/x\n"
		"[field day]\ntype = date\naliases.es = Día\nexample.es = 2026-12-03\n"
		"[field mails]\ntype = list\nitem = email\naliases.es = Correos\n"
		"example.es = a@b.example, c@d.example\n"
		"[field units]\ntype = list\nitem = unit\naliases.es = Unidades\nexample.es = cultura\n",
		catalog, catalog,
	};
	char *dir = write_form_dir("types", files, texts, 3);
	char *diag = NULL;
	struct err e = { "" };
	struct form_set *set = load_with_diag(dir, &diag, &e);

	if (set == NULL)
		fprintf(stderr, "%s", diag);
	assert_non_null(set);
	free(diag);
	const struct form_def *fd = form_set_find(set, "reunion");
	assert_non_null(fd);
	assert_true(form_allows_role(fd, "member"));
	assert_false(form_allows_role(fd, "contact"));

	static const struct {
		const char *body, *field, *want;
		int code;	/* -1: valid */
	} cases[] = {
		{ "Inicio: 03/12/2026 a las 10:30 h", "start", "2026-12-03 10:30", -1 },
		{ "Inicio: 2026-12-03T09:05", "start", "2026-12-03 09:05", -1 },
		{ "Inicio: 2026-12-03 14h", "start", "2026-12-03 14:00", -1 },
		{ "Inicio: 2026-12-03 25:00", "start", NULL, FE_BAD_DATE },
		{ "Inicio: mañana", "start", NULL, FE_BAD_DATE },
		{ "Duración: 1 hora y 30 minutos", "length", "90", -1 },
		{ "Duración: 1:45", "length", "105", -1 },
		{ "Duración: 2 h", "length", "120", -1 },
		{ "Duración: 45", "length", "45", -1 },
		{ "Duración: 11 horas", "length", NULL, FE_OUT_OF_RANGE },
		{ "Duración: un rato", "length", NULL, FE_BAD_VALUE },
		{ "Zona horaria: America/Sao_Paulo", "tz", "America/Sao_Paulo", -1 },
		{ "Zona horaria: hora de Brasilia", "tz", NULL, FE_BAD_VALUE },
		{ "Enlace: www.mercociudades.org", "web", "https://www.mercociudades.org", -1 },
		{ "Enlace: HTTPS://Example.org/A?b=c", "web", "https://Example.org/A?b=c", -1 },
		{ "Enlace: ftp://example.org", "web", NULL, FE_BAD_VALUE },
		{ "Enlace: https://exa mple.org", "web", NULL, FE_BAD_VALUE },
		{ "Día: 3/12/2026", "day", "2026-12-03", -1 },
		{ "Día: 2026-12-32", "day", NULL, FE_BAD_DATE },
		{ "Correos: a@b.example; Ana <C@D.EXAMPLE>", "mails", "a@b.example, C@d.example", -1 },
		{ "Correos: a@b.example, nada", "mails", NULL, FE_BAD_EMAIL },
		{ "Unidades: cultura y ambiente", "units", "cultura, ambiente", -1 },
		{ "Unidades: cultura, ocio", "units", NULL, FE_UNKNOWN_UNIT },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char body[256];
		snprintf(body, sizeof body, "%s%s\n", strncmp(cases[i].body, "Inicio", 6) ?
		    "Inicio: 2026-12-03 10:00\n" : "", cases[i].body);
		struct form_record *r = form_parse(fd, body, &lk, &e);
		assert_non_null(r);
		if (cases[i].code < 0) {
			if (r->nerrors)
				fprintf(stderr, "case '%s'\n", cases[i].body);
			assert_no_errors(r);
			check_value(r, cases[i].field, cases[i].want);
		} else {
			if (r->nerrors != 1 || (int)r->errors[0].code != cases[i].code) {
				fprintf(stderr, "case '%s'\n", cases[i].body);
				print_errors(r);
			}
			assert_int_equal(r->nerrors, 1);
			assert_int_equal(r->errors[0].code, cases[i].code);
			assert_string_equal(r->errors[0].field, cases[i].field);
		}
		form_record_free(r);
	}
	/* the catalog's generic text when there is no variant; {example} filled */
	struct form_error fe = { .code = FE_BAD_VALUE, .field = "tz", .given = "x" };
	char *t = form_error_text(set, fd, &fe, "es");
	assert_string_equal(t, "BV x America/Montevideo");
	free(t);
	form_set_free(set);
}

/* ----------------------------------------------------- robustness */

static uint32_t rng = 12345;

static uint32_t
rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 17;
	rng ^= rng << 5;
	return rng;
}

static void
test_garbage(void **state)
{
	static const char *const pieces[] = { "Unidad", "Período", ":", " ", "\n", "  ", "a",
		"\xc3", "\xa1", "\xff", "*", "2026-01-01", " a ", "Resultados:", "Actividades:",
		"Formulario:", "http://", "\t", "\r", "ñ", "Unidd:", ",", "/", "Ciudades:" };
	static const char *const kinds[] = { "informe", "adhesion", "convenio", "agenda" };

	for (int round = 0; round < 400; round++) {
		size_t n = rnd() % 3000;
		char *body = malloc(n + 1);
		size_t i = 0;
		while (i < n) {
			if (rnd() % 3 == 0) {
				char c = (char)(rnd() % 255 + 1);
				body[i++] = c;
			} else {
				const char *pc = pieces[rnd() % (sizeof pieces / sizeof pieces[0])];
				size_t pl = strlen(pc);
				if (i + pl > n)
					break;
				memcpy(body + i, pc, pl);
				i += pl;
			}
		}
		body[i] = '\0';
		struct err e = { "" };
		struct form_record *r = form_parse(def(kinds[round % 4]), body, &lk, &e);
		assert_non_null(r);
		assert_true(r->nerrors <= 100);
		for (size_t k = 0; k < r->nerrors; k++) {
			char *t = form_error_text(fs, r->def, &r->errors[k], round % 2 ? "es" : "pt");
			assert_non_null(t);
			free(t);
		}
		(void)form_detect(fs, body, body);
		form_record_free(r);
		free(body);
	}
}

/* Big bodies take linear time: many unknown names, one huge long text, many lines. */
static void
test_big_bodies(void **state)
{
	static const char *const lines[] = { "Abc def: ghi\n", "Unidd: x\n", "Nota: y\n",
		"Unidad: cultura\n", "  indented: z\n", "\n" };
	size_t n = 4 * 1024 * 1024;
	clock_t t0 = clock();

	for (size_t k = 0; k < sizeof lines / sizeof lines[0]; k++) {
		size_t ll = strlen(lines[k]);
		char *body = malloc(n + 64);
		size_t i = 0;
		i += (size_t)sprintf(body, "Actividades: ");
		while (i + ll < n) {
			memcpy(body + i, lines[k], ll);
			i += ll;
		}
		body[i] = '\0';
		struct err e = { "" };
		struct form_record *r = form_parse(def("informe"), body, &lk, &e);
		assert_non_null(r);
		assert_true(r->nerrors >= 1 && r->nerrors <= 100);
		form_record_free(r);
		/* the same, with the unknown lines outside a long text */
		body[0] = 'X';
		r = form_parse(def("informe"), body, &lk, &e);
		assert_non_null(r);
		form_record_free(r);
		(void)form_detect(fs, "x", body);
		free(body);
	}
	double secs = (double)(clock() - t0) / CLOCKS_PER_SEC;
	if (secs > 20)
		fprintf(stderr, "big bodies took %.1f s\n", secs);
	assert_true(secs < 60);
	/* one line of 4 MB */
	char *body = malloc(n + 1);
	memset(body, 'a', n);
	body[n] = '\0';
	body[10] = ':';
	struct err e = { "" };
	struct form_record *r = form_parse(def("agenda"), body, &lk, &e);
	assert_non_null(r);
	form_record_free(r);
	free(body);
	/* null arguments */
	assert_null(form_parse(NULL, "x", &lk, &e));
	r = form_parse(def("agenda"), NULL, NULL, &e);
	assert_non_null(r);
	form_record_free(r);
	form_record_free(NULL);
	form_set_free(NULL);
}

/* The fixture bodies under tests/data/forms. */
static void
test_fixtures(void **state)
{
	static const struct {
		const char *file, *subject, *kind;
		size_t nerrors;
	} cases[] = {
		{ "informe-es.txt", "[informe] Cultura", "informe", 0 },
		{ "relatorio-pt.txt", "Relatório - Cultura", "informe", 0 },
		{ "adhesion-incompleta.txt", "Solicitud de adhesión", "adhesion", 3 },
	};
	const char *td = getenv("MERCOMAIL_TESTDATA");
	char dir[4200];

	if (td != NULL && *td)
		snprintf(dir, sizeof dir, "%s/forms", td);
	else
		snprintf(dir, sizeof dir, "%s/../tests/data/forms", tmpl_dir);
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char path[4400], *body = NULL;
		size_t len = 0;
		snprintf(path, sizeof path, "%s/%s", dir, cases[i].file);
		FILE *f = fopen(path, "r");
		if (f == NULL)
			fprintf(stderr, "cannot open %s\n", path);
		assert_non_null(f);
		body = calloc(1, 65536);
		len = fread(body, 1, 65535, f);
		fclose(f);
		body[len] = '\0';
		const struct form_def *fd = form_detect(fs, cases[i].subject, body);
		assert_non_null(fd);
		assert_string_equal(form_kind(fd), cases[i].kind);
		struct err e = { "" };
		struct form_record *r = form_parse(fd, body, &lk, &e);
		assert_non_null(r);
		if (r->nerrors != cases[i].nerrors) {
			fprintf(stderr, "%s:\n", cases[i].file);
			print_errors(r);
		}
		assert_int_equal(r->nerrors, cases[i].nerrors);
		form_record_free(r);
		free(body);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_form_file),
		cmocka_unit_test(test_detect_subject_es),
		cmocka_unit_test(test_detect_subject_pt),
		cmocka_unit_test(test_detect_rules),
		cmocka_unit_test(test_parse_informe_es),
		cmocka_unit_test(test_parse_informe_pt),
		cmocka_unit_test(test_parse_adhesion),
		cmocka_unit_test(test_parse_other_kinds),
		cmocka_unit_test(test_name_variants),
		cmocka_unit_test(test_continuation_and_longtext),
		cmocka_unit_test(test_missing),
		cmocka_unit_test(test_required_unless),
		cmocka_unit_test(test_zone_lookup),
		cmocka_unit_test(test_dates),
		cmocka_unit_test(test_integers),
		cmocka_unit_test(test_emails),
		cmocka_unit_test(test_enum_choice),
		cmocka_unit_test(test_unknown_city_and_unit),
		cmocka_unit_test(test_unknown_field),
		cmocka_unit_test(test_duplicate),
		cmocka_unit_test(test_lang),
		cmocka_unit_test(test_example),
		cmocka_unit_test(test_error_text),
		cmocka_unit_test(test_too_long),
		cmocka_unit_test(test_accessors),
		cmocka_unit_test(test_broken_form_file),
		cmocka_unit_test(test_set_level_errors),
		cmocka_unit_test(test_other_types),
		cmocka_unit_test(test_garbage),
		cmocka_unit_test(test_big_bodies),
		cmocka_unit_test(test_fixtures),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
