#include "buildconf.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "application.h"

/* want: "approve", "reject", "" (both: unclear) or NULL (none) */
static void
expect(const char *text, const char *want)
{
	const char *got = application_vote_words(text);

	if ((got == NULL) != (want == NULL) || (got && strcmp(got, want) != 0))
		fprintf(stderr, "'%s': got %s, want %s\n", text, got ? got : "none",
		    want ? want : "none");
	if (want == NULL)
		assert_null(got);
	else
		assert_string_equal(got, want);
}

static void
test_words(void **state)
{
	(void)state;
	expect("Apruebo", "approve");
	expect("apruebo.", "approve");
	expect("Aprovo", "approve");
	expect("APPROVE", "approve");
	expect("Aprovo, sim.\nAbraços", "approve");
	expect("Rechazo", "reject");
	expect("rejeito!", "reject");
	expect("Reject", "reject");
	expect("Rechazado por unanimidad", "reject");
}

static void
test_not_votes(void **state)
{
	(void)state;
	expect("", NULL);
	expect("Muchas gracias por la información.", NULL);
	expect("approved", NULL);		/* whole words only */
	expect("aprueboo", NULL);
	expect("Aprovação", NULL);		/* a word with accents is none of ours */
	expect("Apruebo, no rechazo", "");	/* both: unclear, asked again */
	/* a denied word counts for neither side */
	expect("No apruebo", "");
	expect("Não aprovo esta adesão", "");
	expect("I do not reject it", "");
	expect("No rechazo la solicitud", "");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_words),
		cmocka_unit_test(test_not_votes),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
