/*
 * form — declarative submission forms (pure).
 *
 * Each kind is one file templates/forms/KIND.form (see that directory's
 * README for the format): its subject keywords in es/pt/en, its fields with
 * a type, required or not, and aliases in es/pt/en, and the roster roles
 * that may submit it. Adding a kind is a data file and a test, no C.
 *
 * A body is read as "Name: value" lines: names case- and accent-insensitive,
 * values continued on indented lines, long-text fields running to the next
 * known field name or the end.
 */
#ifndef MERCOMAIL_FORM_H
#define MERCOMAIL_FORM_H

#include <stddef.h>
#include <stdio.h>

#include "err.h"

enum form_type {
	FT_TEXT, FT_LONGTEXT, FT_DATE, FT_INTEGER, FT_EMAIL, FT_ENUM, FT_CITY, FT_UNIT,
	FT_DATETIME, FT_DURATION, FT_TIMEZONE, FT_URL, FT_LIST
};

enum form_error_code {
	FE_MISSING,		/* a required field is absent or empty */
	FE_UNKNOWN_FIELD,	/* "Name:" that is no field of the form (suggestion given) */
	FE_DUPLICATE,		/* a field given twice */
	FE_BAD_DATE,		/* not a date (YYYY-MM-DD or DD/MM/YYYY) */
	FE_BAD_INTEGER,
	FE_OUT_OF_RANGE,	/* integer outside min..max, or date range reversed */
	FE_BAD_EMAIL,
	FE_BAD_CHOICE,		/* enum value not in the list (the choices are in detail) */
	FE_UNKNOWN_CITY,
	FE_UNKNOWN_UNIT,
	FE_TOO_LONG,
	FE_BAD_VALUE		/* any other malformed value (detail says what) */
};

/* Roster look-ups the validation needs, supplied by the caller (the store). */
struct form_lookup {
	/* Return 1 and the canonical name in canon if name is a member city. */
	int (*city)(void *ctx, const char *name, char *canon, size_t size);
	/* Return 1 and the slug in canon if name is a unit or body (slug or name in es/pt). */
	int (*unit)(void *ctx, const char *name, char *canon, size_t size);
	/* Return 1 if tzid is a time zone the program knows; NULL: any
	 * well-formed Area/Location name is taken. */
	int (*zone)(void *ctx, const char *tzid);
	void *ctx;
};

struct form_set;		/* every kind, loaded from a directory */
struct form_def;		/* one kind */

struct form_value {
	const char *field;	/* the canonical field name (owned by the form_def) */
	char *value;		/* normalised value: dates YYYY-MM-DD, cities and units canonical */
	int line;		/* line of the body it came from */
};

struct form_error {
	enum form_error_code code;
	const char *field;	/* canonical field name, or NULL */
	char given[64];		/* what the sender wrote (field name or value), may be "" */
	char suggestion[64];	/* nearest known field name (FE_UNKNOWN_FIELD), may be "" */
	char detail[160];	/* e.g. the allowed choices or the range */
	int line;		/* line of the body, 0 if none */
};

struct form_record {
	const struct form_def *def;
	struct form_value *values;
	size_t nvalues;
	struct form_error *errors;
	size_t nerrors;
	char lang[3];		/* "es", "pt" or "en": the language of the field names used, "" if unclear */
};

/* Load a templates directory: the kinds from dir/forms/KIND.form and the error
 * catalogs from dir/es/form-errors.txt and dir/pt/form-errors.txt (English
 * falls back to Spanish). Problems are written to diag as
 * "file:line: message"; returns NULL if any. */
struct form_set *form_set_load(const char *dir, FILE *diag, struct err *e);
void form_set_free(struct form_set *fs);

size_t form_set_count(const struct form_set *fs);
const struct form_def *form_set_at(const struct form_set *fs, size_t i);
const struct form_def *form_set_find(const struct form_set *fs, const char *kind);

/* Which form a mail is: a "Formulario:/Formulário:/Form:" line in the body
 * wins, else a subject keyword ("[informe]", "Relatório:", ...). NULL if none. */
const struct form_def *form_detect(const struct form_set *fs, const char *subject,
    const char *body);

const char *form_kind(const struct form_def *fd);	/* e.g. "informe" */
/* The form's name for a person in lang ("es", "pt", "en"). */
const char *form_title(const struct form_def *fd, const char *lang);
/* 1 if role ("coordinator", "subcoordinator", "member", "contact",
 * "secretariat", "anyone") may submit this kind. */
int form_allows_role(const struct form_def *fd, const char *role);
/* The canonical name of the field of type FT_UNIT that says for which unit
 * the form is (coordinators submit for their own unit only), or NULL. */
const char *form_unit_field(const struct form_def *fd);

/* Parse and validate a body. Always returns a record (errors inside) unless
 * out of memory. */
struct form_record *form_parse(const struct form_def *fd, const char *body,
    const struct form_lookup *lk, struct err *e);
void form_record_free(struct form_record *r);		/* accepts NULL */

/* The value of a canonical field in a record, or NULL. */
const char *form_record_get(const struct form_record *r, const char *field);

/* The label of a field in lang (its first alias in that language). */
const char *form_field_label(const struct form_def *fd, const char *field, const char *lang);

/* A filled-in example of the form in lang, ready to paste into a mail. Caller frees. */
char *form_example(const struct form_def *fd, const char *lang);

/* One line for a person, in lang, saying what is wrong (from the catalog
 * templates/LANG/form-errors.txt loaded with the set). Caller frees. */
char *form_error_text(const struct form_set *fs, const struct form_def *fd,
    const struct form_error *fe, const char *lang);

#endif
