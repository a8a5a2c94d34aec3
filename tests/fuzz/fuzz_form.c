/*
 * libFuzzer harness for daemon/form.c. The form set is loaded once from the
 * project's templates/: $MERCOMAIL_SRCDIR/templates (run.sh sets it to the
 * source tree the script is in), else ./templates; then for every input: form_detect
 * with the first line as subject, and form_parse + form_error_text (es, pt,
 * en) for each kind with the whole input as body.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "form.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct form_set *fs;

static void
cleanup(void)
{
	form_set_free(fs);
	fs = NULL;
}

/* A stand-in roster: a few cities and units are known. */
static int
lookup(const char *const *names, const char *name, char *canon, size_t size)
{
	for (size_t i = 0; names[i] != NULL; i++) {
		if (strcasecmp(names[i], name) == 0) {
			str_copy(canon, names[i], size);
			return 1;
		}
	}
	return 0;
}

static int
city(void *ctx, const char *name, char *canon, size_t size)
{
	static const char *const names[] = { "Montevideo", "Porto Alegre",
		"Canelones", "Tandil", "Rosario", NULL };

	(void)ctx;
	return lookup(names, name, canon, size);
}

static int
unit(void *ctx, const char *name, char *canon, size_t size)
{
	static const char *const names[] = { "cultura", "juventudes",
		"ambiente", "genero", NULL };

	(void)ctx;
	if (strcasecmp(name, "Cultura") == 0 || strcasecmp(name, "UT Cultura") == 0)
		name = "cultura";
	return lookup(names, name, canon, size);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *src = getenv("MERCOMAIL_SRCDIR");
	char dir[4096];
	struct err e = { { 0 } };

	(void)argc;
	(void)argv;
	if (src != NULL && src[0] != '\0')
		snprintf(dir, sizeof dir, "%s/templates", src);
	else
		snprintf(dir, sizeof dir, "templates");
	fs = form_set_load(dir, stderr, &e);
	if (fs == NULL) {
		fprintf(stderr, "fuzz_form: cannot load %s: %s "
		    "(set MERCOMAIL_SRCDIR to the source tree)\n", dir, e.msg);
		abort();
	}
	if (form_set_count(fs) == 0) {
		fprintf(stderr, "fuzz_form: no forms in %s\n", dir);
		abort();
	}
	atexit(cleanup);
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const langs[] = { "es", "pt", "en" };
	const struct form_lookup lk = { .city = city, .unit = unit };
	char *body = malloc(size + 1);
	char *subject;
	char *nl;
	struct err e = { { 0 } };

	if (body == NULL)
		return 0;
	memcpy(body, data, size);
	body[size] = '\0';

	/* The first line doubles as the subject. */
	nl = strchr(body, '\n');
	subject = strndup(body, nl != NULL ? (size_t)(nl - body) : strlen(body));
	if (subject != NULL) {
		(void)form_detect(fs, subject, body);
		(void)form_detect(fs, subject, "");
		free(subject);
	}

	for (size_t k = 0; k < form_set_count(fs); k++) {
		const struct form_def *fd = form_set_at(fs, k);
		/* With the roster and without it (every city/unit unknown). */
		for (int withlk = 0; withlk < 2; withlk++) {
			struct form_record *r = form_parse(fd, body, withlk ? &lk : NULL, &e);

			if (r == NULL)
				continue;
			for (size_t i = 0; i < r->nvalues; i++)
				(void)form_record_get(r, r->values[i].field);
			for (size_t i = 0; i < r->nerrors; i++) {
				for (size_t l = 0; l < sizeof langs / sizeof langs[0]; l++) {
					char *t = form_error_text(fs, fd, &r->errors[i], langs[l]);

					free(t);
				}
			}
			form_record_free(r);
		}
	}

	free(body);
	return 0;
}
