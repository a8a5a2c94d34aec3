#include "buildconf.h"

/* List commands by mail (list.c): subjects in es/pt/en and command addresses. */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "list.h"

static void
expect(const char *subject, enum list_action a, const char *slug, const char *extra,
    const char *lang)
{
	struct list_cmd c;

	if (list_parse_subject(subject, &c) != 1)
		fail_msg("not a command: \"%s\"", subject);
	assert_int_equal(c.action, a);
	assert_string_equal(c.slug, slug);
	assert_string_equal(a == LIST_DIGEST ? c.digest : c.address, extra);
	assert_string_equal(c.lang, lang);
}

static void
subjects(void **state)
{
	(void)state;
	expect("suscribir cultura", LIST_SUBSCRIBE, "cultura", "", "es");
	expect("Suscribir Cultura", LIST_SUBSCRIBE, "cultura", "", "es");
	expect("Re: suscribir cultura", LIST_SUBSCRIBE, "cultura", "", "es");
	expect("inscrever cultura", LIST_SUBSCRIBE, "cultura", "", "pt");
	expect("subscribe comision-directiva", LIST_SUBSCRIBE, "comision-directiva", "", "");
	expect("suscribir cultura Otra.Persona@Rosario.gob.ar", LIST_SUBSCRIBE, "cultura",
	    "otra.persona@rosario.gob.ar", "es");
	expect("  baja   cultura ", LIST_UNSUBSCRIBE, "cultura", "", "es");
	expect("dar de baja ambiente", LIST_UNSUBSCRIBE, "ambiente", "", "es");
	expect("Cancelar inscrição cultura", LIST_UNSUBSCRIBE, "cultura", "", "pt");
	expect("CANCELAR INSCRICAO cultura", LIST_UNSUBSCRIBE, "cultura", "", "pt");
	expect("unsubscribe cultura", LIST_UNSUBSCRIBE, "cultura", "", "");
	expect("digest semanal cultura", LIST_DIGEST, "cultura", "weekly", "");
	expect("digest cultura diario", LIST_DIGEST, "cultura", "daily", "");
	expect("resumen no cultura", LIST_DIGEST, "cultura", "none", "es");
	expect("Resumo diário cultura", LIST_DIGEST, "cultura", "daily", "pt");
	expect("resumo não cultura", LIST_DIGEST, "cultura", "none", "pt");
	expect("resumo semanal: cultura", LIST_DIGEST, "cultura", "weekly", "pt");
}

static void
not_commands(void **state)
{
	static const char *const no[] = {
		"", "suscribir", "baja", "Informe de actividades de cultura",
		"baja de la participación de Rosario en la unidad", "suscribir cultura ambiente",
		"digest cultura", "digest nunca cultura", "resumo semanal", "suscribir Cultura!",
		"subscribe cultura a@b.c d@e.f", "unsubscribe cultura otra@x.org",
		"suscribirme a cultura", "re: re: informe", "suscribir cultura @",
	};
	struct list_cmd c;

	(void)state;
	for (size_t i = 0; i < sizeof no / sizeof no[0]; i++)
		if (list_parse_subject(no[i], &c) != 0)
			fail_msg("taken as a command: \"%s\"", no[i]);
	assert_int_equal(list_parse_subject(NULL, &c), 0);
	assert_int_equal(c.action, LIST_NONE);
}

static void
addresses(void **state)
{
	struct list_cmd c;

	(void)state;
	assert_int_equal(list_parse_address("secretaria+cultura-subscribe@red.test", "secretaria",
	    "red.test", &c), 1);
	assert_int_equal(c.action, LIST_SUBSCRIBE);
	assert_string_equal(c.slug, "cultura");
	assert_int_equal(list_parse_address("secretaria+comision-directiva-unsubscribe@red.test",
	    "secretaria", "red.test", &c), 1);
	assert_int_equal(c.action, LIST_UNSUBSCRIBE);
	assert_string_equal(c.slug, "comision-directiva");
	/* someone else's domain, another local part, no tag, other tags, tokens */
	assert_int_equal(list_parse_address("secretaria+cultura-subscribe@otro.test", "secretaria",
	    "red.test", &c), 0);
	assert_int_equal(list_parse_address("info+cultura-subscribe@red.test", "secretaria",
	    "red.test", &c), 0);
	assert_int_equal(list_parse_address("secretaria@red.test", "secretaria", "red.test", &c), 0);
	assert_int_equal(list_parse_address("secretaria+cultura@red.test", "secretaria", "red.test",
	    &c), 0);
	assert_int_equal(list_parse_address("secretaria+-subscribe@red.test", "secretaria",
	    "red.test", &c), 0);
	assert_int_equal(list_parse_address("secretaria+reply-1-2-3-abcdefghijklmnopqrstuvwxyz@red.test",
	    "secretaria", "red.test", &c), 0);
	assert_int_equal(list_parse_address("secretariax+cultura-subscribe@red.test", "secretaria",
	    "red.test", &c), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(subjects),
		cmocka_unit_test(not_commands),
		cmocka_unit_test(addresses),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
