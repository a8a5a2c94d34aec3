#include "buildconf.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "rsvp.h"

static void
expect(const char *text, const char *want)
{
	const char *got = rsvp_from_words(text);

	if ((got == NULL) != (want == NULL) || (got && strcmp(got, want) != 0))
		fprintf(stderr, "'%s': got %s, want %s\n", text, got ? got : "unclear",
		    want ? want : "unclear");
	if (want == NULL)
		assert_null(got);
	else
		assert_string_equal(got, want);
}

static void
test_spanish(void **state)
{
	(void)state;
	expect("Asistiré", "ACCEPTED");
	expect("Confirmo.\n\nSaludos,\nAna", "ACCEPTED");
	expect("Sí, allí estaré", "ACCEPTED");
	expect("si", "ACCEPTED");
	expect("SÍ!", "ACCEPTED");
	expect("No podré asistir, lo siento.", "DECLINED");
	expect("Confirmo que no podré asistir", "DECLINED");
	expect("No.", "DECLINED");
	expect("Lamentablemente no podremos estar.", "DECLINED");
	expect("Tal vez, depende de la agenda del intendente", "TENTATIVE");
	expect("quizás", "TENTATIVE");
}

static void
test_portuguese(void **state)
{
	(void)state;
	expect("Vou participar", "ACCEPTED");
	expect("Sim, confirmo a presença", "ACCEPTED");
	expect("sim", "ACCEPTED");
	expect("Presença confirmada!", "ACCEPTED");
	expect("Não poderei participar", "DECLINED");
	expect("nao posso", "DECLINED");
	expect("Talvez", "TENTATIVE");
}

static void
test_english(void **state)
{
	(void)state;
	expect("Yes, I will attend", "ACCEPTED");
	expect("Accept", "ACCEPTED");
	expect("Sorry, I cannot attend", "DECLINED");
	expect("Maybe", "TENTATIVE");
}

/* Unclear replies are asked again, never guessed. */
static void
test_unclear(void **state)
{
	(void)state;
	expect(NULL, NULL);
	expect("", NULL);
	expect("   \n\n", NULL);
	expect("Gracias por la invitación", NULL);
	expect("Asistiré o tal vez no podré", NULL);
	expect("Si el intendente puede, vamos", "ACCEPTED");	/* "si" first: taken as yes */
	expect("Tal vez asistiré", NULL);
	expect("No sé todavía", NULL);
	expect("Ainda não sei", NULL);
	/* words inside other words do not count */
	expect("Sino, otro día", NULL);
	expect("Nosotros enviaremos a alguien", NULL);
	expect("Simples consulta", NULL);
}

/* Only the head of a long reply is read; multi-byte text is not cut badly. */
static void
test_long(void **state)
{
	char buf[4096];
	size_t n = 0;

	(void)state;
	while (n + 3 < 3000) {
		buf[n++] = '\xc3';
		buf[n++] = '\xa1';	/* á */
	}
	snprintf(buf + n, sizeof buf - n, " confirmo");
	expect(buf, NULL);
	snprintf(buf, sizeof buf, "Confirmo%*s", 2000, "x");
	expect(buf, "ACCEPTED");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_spanish),
		cmocka_unit_test(test_portuguese),
		cmocka_unit_test(test_english),
		cmocka_unit_test(test_unclear),
		cmocka_unit_test(test_long),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
