#include "buildconf.h"

#define _POSIX_C_SOURCE 200809L	/* mkdtemp, open_memstream */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "roster.h"
#include "store.h"

struct fixture {
	char dir[64];
	char db[128];
	char files[8][128];	/* written by write_file(), removed in teardown */
	int nfiles;
	struct store *st;
	char *diag;		/* what the last import wrote to diag */
	size_t diag_len;
};

static char cities_csv[512], units_csv[512];

static void
find_testdata(void)
{
	const char *td = getenv("MERCOMAIL_TESTDATA");
	char dir[400];

	if (td != NULL && *td != '\0') {
		snprintf(dir, sizeof dir, "%s/roster", td);
	} else {
		/* tests/unit/test_roster.c -> tests/data/roster */
		const char *slash = strrchr(__FILE__, '/');
		int n = slash ? (int)(slash - __FILE__) : 0;
		snprintf(dir, sizeof dir, "%.*s%s../data/roster", n, __FILE__, n ? "/" : "");
	}
	snprintf(cities_csv, sizeof cities_csv, "%s/cities.csv", dir);
	snprintf(units_csv, sizeof units_csv, "%s/units.csv", dir);
}

static int
setup(void **state)
{
	struct fixture *fx = calloc(1, sizeof *fx);
	struct err e = { "" };
	const char *tmp = getenv("TMPDIR");

	if (fx == NULL)
		return -1;
	snprintf(fx->dir, sizeof fx->dir, "%s/test_roster.XXXXXX",
	    tmp && *tmp && strlen(tmp) < 40 ? tmp : "/tmp");
	if (mkdtemp(fx->dir) == NULL) {
		free(fx);
		return -1;
	}
	snprintf(fx->db, sizeof fx->db, "%s/m.db", fx->dir);
	if ((fx->st = store_open(fx->db, &e)) == NULL) {
		fprintf(stderr, "store_open: %s\n", e.msg);
		rmdir(fx->dir);
		free(fx);
		return -1;
	}
	*state = fx;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *fx = *state;
	char p[160];

	store_close(fx->st);
	for (int i = 0; i < fx->nfiles; i++)
		unlink(fx->files[i]);
	unlink(fx->db);
	snprintf(p, sizeof p, "%s-wal", fx->db);
	unlink(p);
	snprintf(p, sizeof p, "%s-shm", fx->db);
	unlink(p);
	rmdir(fx->dir);
	free(fx->diag);
	free(fx);
	return 0;
}

static const char *
write_file(struct fixture *fx, const char *name, const char *content)
{
	char buf[sizeof fx->files[0]], *path;
	FILE *fp;

	assert_true(fx->nfiles < 8);
	snprintf(buf, sizeof buf, "%s/%s", fx->dir, name);
	path = fx->files[fx->nfiles++];
	memcpy(path, buf, sizeof buf);
	fp = fopen(path, "w");
	assert_non_null(fp);
	fputs(content, fp);
	assert_int_equal(fclose(fp), 0);
	return path;
}

/* Import with diag captured in fx->diag. */
static int
import(struct fixture *fx, const char *path, struct err *e)
{
	FILE *d;
	int n;

	free(fx->diag);
	fx->diag = NULL;
	d = open_memstream(&fx->diag, &fx->diag_len);
	assert_non_null(d);
	n = roster_import_file(fx->st, path, d, e);
	fclose(d);
	return n;
}

static void
import_ok(struct fixture *fx, const char *path, int rows)
{
	struct err e = { "" };
	int n = import(fx, path, &e);

	if (n != rows)
		fail_msg("import %s: %d rows (want %d): %s\n%s", path, n, rows, e.msg, fx->diag);
	assert_int_equal(fx->diag_len, 0);
}

static int64_t
query_int(struct fixture *fx, const char *sql)
{
	sqlite3_stmt *s = NULL;
	int64_t v;

	assert_int_equal(sqlite3_prepare_v2(store_db(fx->st), sql, -1, &s, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(s), SQLITE_ROW);
	v = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	return v;
}

/* The whole roster as one string, to compare states. */
static char *
snapshot(struct fixture *fx)
{
	struct err e = { "" };
	char *buf = NULL;
	size_t len = 0;
	FILE *fp = open_memstream(&buf, &len);

	assert_non_null(fp);
	assert_int_equal(roster_list(fx->st, fp, &e), 0);
	fclose(fp);
	return buf;
}

/* "file:line: ..." is in the diag output. */
static void
assert_diag(struct fixture *fx, const char *path, int line, const char *text)
{
	char want[600];

	snprintf(want, sizeof want, "%s:%d: ", path, line);
	for (const char *p = fx->diag; p && (p = strstr(p, want)) != NULL; p++) {
		const char *eol = strchr(p, '\n');
		const char *hit = strstr(p, text);
		if (hit != NULL && (eol == NULL || hit < eol))
			return;
	}
	fail_msg("diag has no \"%s...%s\":\n%s", want, text, fx->diag ? fx->diag : "");
}

static void
assert_nothing_stored(struct fixture *fx)
{
	assert_int_equal(query_int(fx, "SELECT count(*) FROM countries"), 0);
	assert_int_equal(query_int(fx, "SELECT count(*) FROM cities"), 0);
	assert_int_equal(query_int(fx, "SELECT count(*) FROM contacts"), 0);
	assert_int_equal(query_int(fx, "SELECT count(*) FROM units"), 4);
	assert_int_equal(query_int(fx, "SELECT count(*) FROM unit_members"), 0);
	assert_int_equal(query_int(fx, "SELECT count(*) FROM audit_log"), 0);
}

static void
test_import_sample(void **state)
{
	struct fixture *fx = *state;

	import_ok(fx, cities_csv, 28);
	import_ok(fx, units_csv, 17);

	assert_int_equal(query_int(fx, "SELECT count(*) FROM cities"), 28);
	assert_int_equal(query_int(fx, "SELECT count(*) FROM contacts"), 28);
	assert_int_equal(query_int(fx, "SELECT count(*) FROM countries"), 10);
	assert_int_equal(query_int(fx, "SELECT count(*) FROM units WHERE kind = 'unit'"), 17);
	assert_int_equal(query_int(fx, "SELECT count(*) FROM units WHERE kind != 'unit'"), 4);
	assert_int_equal(query_int(fx, "SELECT count(*) FROM unit_members"), 34);

	assert_int_equal(query_int(fx, "SELECT count(*) FROM unit_members m"
	    " JOIN units u ON u.id = m.unit_id JOIN cities c ON c.id = m.city_id"
	    " WHERE u.slug = 'ambiente' AND c.name = 'Montevideo' AND c.country = 'UY'"
	    " AND m.role = 'coordinator'"), 1);
	assert_int_equal(query_int(fx, "SELECT count(*) FROM unit_members m"
	    " JOIN units u ON u.id = m.unit_id JOIN cities c ON c.id = m.city_id"
	    " WHERE u.slug = 'ambiente' AND c.name = 'Guarulhos' AND m.role = 'subcoordinator'"),
	    1);
	assert_int_equal(query_int(fx, "SELECT count(*) FROM unit_members m"
	    " JOIN units u ON u.id = m.unit_id JOIN cities c ON c.id = m.city_id"
	    " WHERE u.slug = 'autonomia' AND u.name_es = 'Autonomía, Gestión y Participación'"
	    " AND c.name = 'Ayacucho' AND m.role = 'coordinator'"), 1);
	/* Montevideo coordinates two units. */
	assert_int_equal(query_int(fx, "SELECT count(*) FROM unit_members m"
	    " JOIN cities c ON c.id = m.city_id WHERE c.name = 'Montevideo'"
	    " AND m.role = 'coordinator'"), 2);

	/* City and contact fields. */
	assert_int_equal(query_int(fx, "SELECT count(*) FROM cities c"
	    " JOIN contacts k ON k.city_id = c.id WHERE c.name = 'São Paulo'"
	    " AND c.country = 'BR' AND c.lang = 'pt' AND c.timezone = 'America/Sao_Paulo'"
	    " AND c.head_title = 'Prefeito' AND k.name = 'Prefeito' AND k.lang = 'pt'"
	    " AND k.address = 'relacoes.internacionais@saopaulo.example'"), 1);
	assert_int_equal(query_int(fx, "SELECT count(*) FROM countries"
	    " WHERE code = 'PE' AND name = 'Perú'"), 1);

	/* One audit row per import. */
	assert_int_equal(query_int(fx, "SELECT count(*) FROM audit_log"
	    " WHERE actor = 'cli' AND action = 'roster.import'"), 2);
	assert_int_equal(query_int(fx, "SELECT count(*) FROM audit_log"
	    " WHERE detail LIKE '28 %'"), 1);

	char *list = snapshot(fx);
	assert_non_null(strstr(list, "Montevideo"));
	assert_non_null(strstr(list, "America/Montevideo"));
	assert_non_null(strstr(list, "relaciones.internacionales@montevideo.example"));
	assert_non_null(strstr(list, "ambiente"));
	assert_non_null(strstr(list, "coordinator: Montevideo (UY)"));
	assert_non_null(strstr(list, "subcoordinator: Guarulhos (BR)"));
	assert_non_null(strstr(list, "consejo"));
	free(list);
}

static void
test_bad_rows_rolled_back(void **state)
{
	struct fixture *fx = *state;
	struct err e = { "" };
	const char *path = write_file(fx, "bad.csv",
	    "city,country,lang,timezone,role_title,contact_email\n"
	    "Montevideo,UY,es,America/Montevideo,Intendente,ri@montevideo.example\n"
	    "Lisboa,PT,en,Europe/Lisbon,Presidente,camara@lisboa.example\n"
	    "Porto Alegre,BR,pt,America/Sao_Paulo,Prefeito,gabinete@portoalegre.example\n"
	    "Marte,BR,pt,Mars/Olympus,Prefeito,gabinete at marte.example\n"
	    "Rosario,AR,es,America/Argentina/Cordoba,Intendente,internacionales@rosario.example\n");

	assert_int_equal(import(fx, path, &e), -1);
	assert_diag(fx, path, 3, "lang 'en'");
	assert_diag(fx, path, 5, "timezone 'Mars/Olympus'");
	assert_diag(fx, path, 5, "contact_email");
	assert_null(strstr(fx->diag, ":2: "));
	assert_null(strstr(fx->diag, ":4: "));
	assert_null(strstr(fx->diag, ":6: "));
	assert_non_null(strstr(e.msg, "nothing imported"));
	assert_nothing_stored(fx);
}

static void
test_more_bad_values(void **state)
{
	struct fixture *fx = *state;
	struct err e = { "" };
	const char *path = write_file(fx, "bad2.csv",
	    "city,country,lang,timezone,role_title,contact_email\n"
	    "Montevideo,UY,es,America/Montevideo,Intendente\n"			/* 2 */
	    ",UY,es,America/Montevideo,Intendente,a@b.example\n"		/* 3 */
	    "Salto,uy,es,America/Montevideo,Intendente,a@salto.example\n"	/* 4 */
	    "Salto,URY,es,America/Montevideo,Intendente,b@salto.example\n"	/* 5 */
	    "Rivera,UY,es,../../etc/passwd,Intendente,a@rivera.example\n"	/* 6 */
	    "Melo,UY,es,America/Montevideo,,a@melo.example\n"			/* 7 */
	    "Minas,UY,es,America/Montevideo,Intendente,a@@minas.example\n"	/* 8 */
	    "Minas,UY,es,America/Montevideo,Intendente,a b@minas.example\n"	/* 9 */
	    "Minas,UY,es,America/Montevideo,Intendente,a@localhost\n"		/* 10 */
	    "\"Flo\nrida\",UY,es,America/Montevideo,Intendente,a@florida.example\n" /* 11 */
	    "Treinta y Tres,UY,es,America/Montevideo,Intendente,x@tyt.example\n"	/* 13 */
	    "Treinta y Tres,UY,es,America/Montevideo,Intendente,y@tyt.example\n"	/* 14 */
	    "Durazno,UY,es,America/Montevideo,Intendente,X@TYT.example\n"		/* 15 */
	    "Artigas,UY,es,America/Montevideo,Intendente,\"a@artigas.example\"x\n"	/* 16 */
	    "Colonia,UY,es,America/Montevideo,Intendente,a@colonia.example\n"	/* 17: fine */
	    "Lavalleja,UY,es,America/Montevideo,Intendente,\"a@lavalleja.example\n");	/* 18 */

	assert_int_equal(import(fx, path, &e), -1);
	assert_diag(fx, path, 2, "5 columns, expected 6");
	assert_diag(fx, path, 3, "empty city");
	assert_diag(fx, path, 4, "country 'uy'");
	assert_diag(fx, path, 5, "country 'URY'");
	assert_diag(fx, path, 6, "timezone '../../etc/passwd'");
	assert_diag(fx, path, 7, "empty role_title");
	assert_diag(fx, path, 8, "contact_email 'a@@minas.example'");
	assert_diag(fx, path, 9, "contact_email 'a b@minas.example'");
	assert_diag(fx, path, 10, "contact_email 'a@localhost'");
	assert_diag(fx, path, 11, "city");
	assert_diag(fx, path, 14, "appears twice (first on line 13)");
	assert_diag(fx, path, 15, "contact_email 'X@TYT.example' appears twice (first on line 13)");
	assert_diag(fx, path, 16, "after the closing quote");
	assert_diag(fx, path, 18, "unterminated");
	assert_null(strstr(fx->diag, ":17: "));
	assert_nothing_stored(fx);
}

static void
test_units_before_cities(void **state)
{
	struct fixture *fx = *state;
	struct err e = { "" };

	assert_int_equal(import(fx, units_csv, &e), -1);
	assert_diag(fx, units_csv, 2, "unknown city 'Montevideo' (import cities first)");
	assert_diag(fx, units_csv, 18, "unknown city 'Encarnación' (import cities first)");
	assert_nothing_stored(fx);
}

static void
test_bad_units(void **state)
{
	struct fixture *fx = *state;
	struct err e = { "" };
	const char *path = write_file(fx, "units-bad.csv",
	    "slug,name_es,name_pt,coordinator_city,subcoordinator_city\n"
	    "Ambiente,Ambiente,Ambiente,Montevideo,Guarulhos\n"		/* 2 */
	    "consejo,Consejo,Conselho,Montevideo,Guarulhos\n"		/* 3 */
	    "cultura,Cultura,Cultura,Rosario,Rosario\n"			/* 4 */
	    "turismo,Turismo,,Asunción,Valparaíso\n"			/* 5 */
	    "deportes,Deportes,Esportes,Villa Maria,Rio de Janeiro\n"	/* 6 */
	    "genero,Género,Gênero,Montevideo,Morón\n"			/* 7: fine */
	    "genero,Género,Gênero,Montevideo,Morón\n");			/* 8 */

	import_ok(fx, cities_csv, 28);
	int64_t audits = query_int(fx, "SELECT count(*) FROM audit_log");
	assert_int_equal(import(fx, path, &e), -1);
	assert_diag(fx, path, 2, "slug 'Ambiente'");
	assert_diag(fx, path, 3, "'consejo' is a body of the network");
	assert_diag(fx, path, 4, "both coordinator and subcoordinator");
	assert_diag(fx, path, 5, "empty name_pt");
	assert_diag(fx, path, 6, "unknown city 'Villa Maria'");
	assert_diag(fx, path, 8, "slug 'genero' appears twice (first on line 7)");
	assert_null(strstr(fx->diag, ":7: "));
	assert_int_equal(query_int(fx, "SELECT count(*) FROM units"), 4);
	assert_int_equal(query_int(fx, "SELECT count(*) FROM unit_members"), 0);
	assert_int_equal(query_int(fx, "SELECT count(*) FROM audit_log"), audits);
}

static void
test_reimport_idempotent(void **state)
{
	struct fixture *fx = *state;

	import_ok(fx, cities_csv, 28);
	import_ok(fx, units_csv, 17);
	char *before = snapshot(fx);
	int64_t ids = query_int(fx, "SELECT sum(id) FROM cities");

	import_ok(fx, cities_csv, 28);
	import_ok(fx, units_csv, 17);
	char *after = snapshot(fx);
	assert_string_equal(before, after);
	assert_int_equal(query_int(fx, "SELECT count(*) FROM cities"), 28);
	assert_int_equal(query_int(fx, "SELECT sum(id) FROM cities"), ids);
	assert_int_equal(query_int(fx, "SELECT count(*) FROM contacts"), 28);
	assert_int_equal(query_int(fx, "SELECT count(*) FROM units"), 21);
	assert_int_equal(query_int(fx, "SELECT count(*) FROM unit_members"), 34);
	assert_int_equal(query_int(fx, "SELECT count(*) FROM audit_log"), 4);
	free(before);
	free(after);
}

static void
test_roles_replaced(void **state)
{
	struct fixture *fx = *state;
	const char *path = write_file(fx, "units2.csv",
	    "\xEF\xBB\xBFslug,name_es,name_pt,coordinator_city,subcoordinator_city\r\n"
	    "ambiente,Ambiente,Ambiente,Guarulhos,Recife\r\n");
	const char *cities = write_file(fx, "cities2.csv",
	    "city,country,lang,timezone,role_title,contact_email\n"
	    " Morón , AR ,es,America/Argentina/Buenos_Aires,Intendente,INTENDENCIA@MORON.example\n");

	import_ok(fx, cities_csv, 28);
	import_ok(fx, units_csv, 17);
	import_ok(fx, path, 1);
	assert_int_equal(query_int(fx, "SELECT count(*) FROM unit_members m"
	    " JOIN units u ON u.id = m.unit_id WHERE u.slug = 'ambiente'"), 2);
	assert_int_equal(query_int(fx, "SELECT count(*) FROM unit_members m"
	    " JOIN units u ON u.id = m.unit_id JOIN cities c ON c.id = m.city_id"
	    " WHERE u.slug = 'ambiente' AND ((c.name = 'Guarulhos' AND m.role = 'coordinator')"
	    " OR (c.name = 'Recife' AND m.role = 'subcoordinator'))"), 2);
	assert_int_equal(query_int(fx, "SELECT count(*) FROM units WHERE slug = 'ambiente'"
	    " AND name_pt = 'Ambiente'"), 1);

	/* Addresses are unique regardless of case; fields are trimmed. */
	import_ok(fx, cities, 1);
	assert_int_equal(query_int(fx, "SELECT count(*) FROM contacts"), 28);
	assert_int_equal(query_int(fx, "SELECT count(*) FROM cities"), 28);
}

static void
test_unknown_header(void **state)
{
	struct fixture *fx = *state;
	struct err e = { "" };
	const char *p1 = write_file(fx, "x.csv", "name,email\nMontevideo,a@b.example\n");
	const char *p2 = write_file(fx, "empty.csv", "\n\n");
	const char *p3 = write_file(fx, "short.csv",
	    "city,country,lang,timezone,role_title\nMontevideo,UY,es,America/Montevideo,X\n");

	assert_int_equal(import(fx, p1, &e), -1);
	assert_diag(fx, p1, 1, "unknown header");
	assert_int_equal(import(fx, p2, &e), -1);
	assert_non_null(strstr(fx->diag, "empty"));
	assert_int_equal(import(fx, p3, &e), -1);
	assert_diag(fx, p3, 1, "unknown header");
	assert_nothing_stored(fx);

	assert_int_equal(import(fx, "/nonexistent/cities.csv", &e), -1);
	assert_non_null(strstr(e.msg, "/nonexistent/cities.csv"));
	assert_int_equal(fx->diag_len, 0);
}

static void
test_list_empty(void **state)
{
	struct fixture *fx = *state;
	char *list = snapshot(fx);

	assert_non_null(strstr(list, "comision-directiva"));
	assert_non_null(strstr(list, "Secretaría Ejecutiva"));
	free(list);
}

int
main(void)
{
	find_testdata();
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_import_sample),
		T(test_bad_rows_rolled_back),
		T(test_more_bad_values),
		T(test_units_before_cities),
		T(test_bad_units),
		T(test_reimport_idempotent),
		T(test_roles_replaced),
		T(test_unknown_header),
		T(test_list_empty),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
