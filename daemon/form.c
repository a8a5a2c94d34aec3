#include "buildconf.h"

/*
 * form — declarative submission forms (pure once loaded).
 *
 * Two halves:
 *  - loading: templates/forms/KIND.form (an INI-like file, see
 *    templates/forms/README.md) and the error catalogs
 *    templates/LANG/form-errors.txt; every problem is reported as
 *    "file:line: message" and loading goes on, so all show at once;
 *  - parsing a body: one pass over its lines, each classified as the
 *    "Formulario:" header, a known field name, an unknown "Name:" or plain
 *    text, then a small state machine (the field being filled) decides what
 *    the line means. Every line costs O(its length) plus a bounded amount:
 *    names are looked up in a sorted table, and typo suggestions (edit
 *    distance on short folded names) are computed for at most
 *    SUGGEST_BUDGET names per body.
 *
 * Names and keywords are compared "folded": lower case, accents removed
 * (á→a, ç→c, ã→a, ñ→n, ...; combining marks dropped), '-' and '_' read as
 * blanks, runs of blanks as one.
 */

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "form.h"
#include "text.h"

#define MAX_ERRORS	100	/* errors kept per record; the rest are dropped */
#define NAME_SCAN	64	/* bytes of a line searched for the ':' of "Name:" */
#define UNKNOWN_MAX	40	/* longest "Name" taken for an unknown field name */
#define ALIAS_MAX	60	/* longest alias or keyword in a .form file */
#define SUGGEST_BUDGET	256	/* typo suggestions computed per body */
#define LIST_ERRORS	8	/* errors reported for the items of one list value */
#define LOOKUP_MAX	256	/* canonical names from the look-ups */

#ifndef PATH_MAX
#define PATH_MAX 4096
#endif

enum { L_ES, L_PT, L_EN, NLANG };
static const char *const lang_names[NLANG] = { "es", "pt", "en" };

enum {
	R_COORDINATOR = 1, R_SUBCOORDINATOR = 2, R_MEMBER = 4, R_CONTACT = 8,
	R_SECRETARIAT = 16, R_ANYONE = 32
};
static const struct {
	const char *name;
	unsigned bit;
} role_table[] = {
	{ "coordinator", R_COORDINATOR }, { "subcoordinator", R_SUBCOORDINATOR },
	{ "member", R_MEMBER }, { "contact", R_CONTACT },
	{ "secretariat", R_SECRETARIAT }, { "anyone", R_ANYONE },
};
#define NROLES (sizeof role_table / sizeof role_table[0])

static const struct {
	const char *name;
	enum form_type type;
	int range;
} type_table[] = {
	{ "text", FT_TEXT, 0 }, { "longtext", FT_LONGTEXT, 0 }, { "date", FT_DATE, 0 },
	{ "daterange", FT_DATE, 1 }, { "integer", FT_INTEGER, 0 }, { "email", FT_EMAIL, 0 },
	{ "enum", FT_ENUM, 0 }, { "city", FT_CITY, 0 }, { "unit", FT_UNIT, 0 },
	{ "datetime", FT_DATETIME, 0 }, { "duration", FT_DURATION, 0 },
	{ "timezone", FT_TIMEZONE, 0 }, { "url", FT_URL, 0 }, { "list", FT_LIST, 0 },
};
#define NTYPES (sizeof type_table / sizeof type_table[0])

#define NCODES (FE_BAD_VALUE + 1)
static const char *const code_names[NCODES] = {
	"missing", "unknown-field", "duplicate", "bad-date", "bad-integer",
	"out-of-range", "bad-email", "bad-choice", "unknown-city", "unknown-unit",
	"too-long", "bad-value"
};

static const char *const placeholders[] = {
	"field", "given", "suggestion", "detail", "example", "choices", "line"
};
#define NPLACEHOLDERS (sizeof placeholders / sizeof placeholders[0])

/* ------------------------------------------------------------ small tools */

struct strlist {
	char **v;
	size_t n;
};

static int
strlist_add(struct strlist *l, const char *s)
{
	char *d = strdup(s);
	char **nv = d ? realloc(l->v, (l->n + 1) * sizeof *nv) : NULL;

	if (nv == NULL) {
		free(d);
		return -1;
	}
	l->v = nv;
	l->v[l->n++] = d;
	return 0;
}

static int
strlist_has(const struct strlist *l, const char *s)
{
	for (size_t i = 0; i < l->n; i++)
		if (strcmp(l->v[i], s) == 0)
			return 1;
	return 0;
}

static void
strlist_free(struct strlist *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

static int
is_blank(int c)
{
	return c == ' ' || c == '\t';
}

static int
is_digit(int c)
{
	return c >= '0' && c <= '9';
}

static int
is_alpha(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static int
lower(int c)
{
	return c >= 'A' && c <= 'Z' ? c + 32 : c;
}

/* Trim blanks (and newlines) at both ends of s[0..*n); returns the start. */
static const char *
trim_span(const char *s, size_t *n)
{
	while (*n > 0 && (is_blank(*s) || *s == '\n' || *s == '\r')) {
		s++;
		(*n)--;
	}
	while (*n > 0 && (is_blank(s[*n - 1]) || s[*n - 1] == '\n' || s[*n - 1] == '\r'))
		(*n)--;
	return s;
}

/* Trim in place. */
static void
trim_inplace(char *s)
{
	size_t n = strlen(s);
	const char *t = trim_span(s, &n);

	memmove(s, t, n);
	s[n] = '\0';
}

static int
lang_index(const char *lang)
{
	if (lang == NULL)
		return -1;
	for (int i = 0; i < NLANG; i++)
		if (strcmp(lang, lang_names[i]) == 0)
			return i;
	return -1;
}

/* ------------------------------------------------------------------ UTF-8 */

/* Decode one code point; returns its length, or 0 if s does not start with
 * a valid UTF-8 sequence (overlong forms and surrogates are invalid). */
static size_t
utf8_dec(const unsigned char *s, size_t n, uint32_t *cp)
{
	if (n == 0)
		return 0;
	if (s[0] < 0x80) {
		*cp = s[0];
		return 1;
	}
	size_t len;
	uint32_t c, min;
	if ((s[0] & 0xE0) == 0xC0) {
		len = 2; c = s[0] & 0x1F; min = 0x80;
	} else if ((s[0] & 0xF0) == 0xE0) {
		len = 3; c = s[0] & 0x0F; min = 0x800;
	} else if ((s[0] & 0xF8) == 0xF0) {
		len = 4; c = s[0] & 0x07; min = 0x10000;
	} else {
		return 0;
	}
	if (n < len)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xC0) != 0x80)
			return 0;
		c = (c << 6) | (s[i] & 0x3F);
	}
	if (c < min || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF))
		return 0;
	*cp = c;
	return len;
}

static size_t
utf8_count(const char *s)
{
	size_t n = 0;

	for (; *s; s++)
		if (((unsigned char)*s & 0xC0) != 0x80)
			n++;
	return n;
}

/* Copy at most size-1 bytes of s without cutting a character; "…" marks a cut. */
static void
copy_given(char *dst, size_t size, const char *s)
{
	size_t n = strlen(s);

	if (n < size) {
		memcpy(dst, s, n + 1);
		return;
	}
	n = size - 4;		/* room for "…" (3 bytes) and the NUL */
	while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
		n--;
	memcpy(dst, s, n);
	memcpy(dst + n, "\xe2\x80\xa6", 4);
}

static int
is_space_cp(uint32_t c)
{
	return c == 0xA0 || (c >= 0x2000 && c <= 0x200A) || c == 0x202F || c == 0x205F ||
	    c == 0x3000;
}

static int
is_invisible_cp(uint32_t c)
{
	return (c >= 0x200B && c <= 0x200D) || c == 0x2060 || c == 0xFEFF ||
	    (c >= 0x80 && c <= 0x9F);
}

/* In place: odd spaces and tabs become ' ', other control characters and
 * invisible ones are dropped ('\n' kept if keep_nl, else a blank). Returns
 * -1 if s is not UTF-8, else 0. */
static int
sanitize(char *s, int keep_nl)
{
	size_t n = strlen(s), o = 0;
	uint32_t c;

	for (size_t i = 0; i < n;) {
		size_t l = utf8_dec((const unsigned char *)s + i, n - i, &c);
		if (l == 0)
			return -1;
		if (c == '\n') {
			s[o++] = keep_nl ? '\n' : ' ';
		} else if (c == '\t' || is_space_cp(c)) {
			s[o++] = ' ';
		} else if (c < 0x20 || c == 0x7F || is_invisible_cp(c)) {
			/* dropped */
		} else {
			memmove(s + o, s + i, l);
			o += l;
		}
		i += l;
	}
	s[o] = '\0';
	return 0;
}

/* ------------------------------------------------------------------ folding */

/* Base letters of U+00C0..U+00FF; NULL: keep the character. */
static const char *const latin1_fold[64] = {
	"a", "a", "a", "a", "a", "a", "ae", "c", "e", "e", "e", "e", "i", "i", "i", "i",
	"d", "n", "o", "o", "o", "o", "o", NULL, "o", "u", "u", "u", "u", "y", "th", "ss",
	"a", "a", "a", "a", "a", "a", "ae", "c", "e", "e", "e", "e", "i", "i", "i", "i",
	"d", "n", "o", "o", "o", "o", "o", NULL, "o", "u", "u", "u", "u", "y", "th", "y",
};

/* Base letters of U+0100..U+017F (Latin Extended-A). */
static const char latina_fold[] =
	"aaaaaa" "cccccccc" "dddd" "eeeeeeeeee" "gggggggg" "hhhh" "iiiiiiiiii" "ii" "jj"
	"kkk" "llllllllll" "nnnnnnnnn" "oooooo" "oo" "rrrrrr" "ssssssss" "tttttt"
	"uuuuuuuuuuuu" "ww" "yyy" "zzzzzz" "s";
_Static_assert(sizeof latina_fold == 129, "one letter per code point U+0100..U+017F");

/* Fold s[0..n) into out[outsz] (see the top of the file). Stops before a
 * character that does not fit. Returns the length written. */
static size_t
fold(const char *s, size_t n, char *out, size_t outsz)
{
	size_t o = 0;
	int space = 0;
	uint32_t c;

	if (outsz == 0)
		return 0;
	for (size_t i = 0; i < n;) {
		size_t l = utf8_dec((const unsigned char *)s + i, n - i, &c);
		const char *rep;
		char one[2] = { 0, 0 };
		size_t rl;

		if (l == 0) {
			l = 1;
			rep = "?";
		} else if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' ||
		    c == '\f' || c == '-' || c == '_' || is_space_cp(c)) {
			space = 1;
			i += l;
			continue;
		} else if ((c >= 0x300 && c <= 0x36F) || is_invisible_cp(c) || c < 0x20) {
			i += l;		/* combining marks, invisible, controls */
			continue;
		} else if (c < 0x80) {
			one[0] = (char)lower((int)c);
			rep = one;
		} else if (c >= 0xC0 && c <= 0xFF && latin1_fold[c - 0xC0] != NULL) {
			rep = latin1_fold[c - 0xC0];
		} else if (c == 0x152 || c == 0x153) {
			rep = "oe";
		} else if (c == 0x132 || c == 0x133) {
			rep = "ij";
		} else if (c >= 0x100 && c <= 0x17F) {
			one[0] = latina_fold[c - 0x100];
			rep = one;
		} else if (c == 0xAA) {
			rep = "a";
		} else if (c == 0xBA) {
			rep = "o";
		} else {
			rep = NULL;
		}
		rl = rep ? strlen(rep) : l;
		int sp = space && o > 0;
		if (o + (size_t)sp + rl + 1 > outsz)
			break;
		if (sp)
			out[o++] = ' ';
		space = 0;
		memcpy(out + o, rep ? rep : s + i, rl);
		o += rl;
		i += l;
	}
	out[o] = '\0';
	return o;
}

/* Folded copy (never longer than s). Caller frees. */
static char *
fold_dup(const char *s)
{
	size_t n = strlen(s);
	char *out = malloc(n + 1);

	if (out != NULL)
		fold(s, n, out, n + 1);
	return out;
}

static int
is_word_byte(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || is_digit(c) || c >= 0x80;
}

/* Levenshtein distance of two short strings (each at most 64 bytes). */
static size_t
edit_distance(const char *a, size_t la, const char *b, size_t lb)
{
	size_t row[65];

	if (la > 64 || lb > 64)
		return SIZE_MAX;
	for (size_t j = 0; j <= lb; j++)
		row[j] = j;
	for (size_t i = 1; i <= la; i++) {
		size_t diag = row[0];
		row[0] = i;
		for (size_t j = 1; j <= lb; j++) {
			size_t up = row[j];
			size_t best = diag + (a[i - 1] != b[j - 1]);
			if (up + 1 < best)
				best = up + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			row[j] = best;
			diag = up;
		}
	}
	return row[lb];
}

/* ------------------------------------------------------------ definitions */

struct choice {
	char *value;			/* canonical */
	char *vfold;
	struct strlist syn[NLANG];	/* accepted words per language, as written */
	struct strlist synfold;		/* all of them folded */
};

struct pending_syn {			/* choice.VALUE.LANG before the choices are known */
	char *choice;
	int lang;
	struct strlist words;
	int line;
};

struct field {
	char *name;
	enum form_type type;
	int range;			/* FT_DATE: a range "from a to" */
	enum form_type item;		/* FT_LIST: type of the items */
	int required;
	char *unless;			/* required only when this other field is absent */
	int unless_line;
	struct strlist aliases[NLANG];
	char *example[NLANG];
	size_t maxlen;
	long long min, max;
	int has_min, has_max;
	struct choice *choices;
	size_t nchoices;
	struct pending_syn *pend;
	size_t npend;
	int line;
	int type_set;
};

struct alias_ent {
	char *folded;
	size_t len;
	size_t field;
	unsigned langs;
	const char *orig;		/* the alias as written (owned by the field) */
};

struct form_def {
	char *kind;
	char *kfold;
	char *title[NLANG];
	struct strlist subject[NLANG];
	struct strlist subjfold[NLANG];
	int subject_line[NLANG];
	unsigned roles;
	struct field *fields;
	size_t nfields;
	struct alias_ent *alias;
	size_t nalias;
};

struct kw_ent {
	const char *folded;		/* owned by the form_def */
	size_t len;
	size_t form;
	unsigned langs;
};

struct centry {
	char *key;
	char *text;
};

struct catalog {
	struct centry *v;
	size_t n;
	int loaded;
};

struct form_set {
	struct form_def **defs;
	size_t n;
	struct kw_ent *kw;
	size_t nkw;
	struct catalog cat[NLANG];
};

static void
field_clear(struct field *f)
{
	free(f->name);
	free(f->unless);
	for (int l = 0; l < NLANG; l++) {
		strlist_free(&f->aliases[l]);
		free(f->example[l]);
	}
	for (size_t i = 0; i < f->nchoices; i++) {
		free(f->choices[i].value);
		free(f->choices[i].vfold);
		for (int l = 0; l < NLANG; l++)
			strlist_free(&f->choices[i].syn[l]);
		strlist_free(&f->choices[i].synfold);
	}
	free(f->choices);
	for (size_t i = 0; i < f->npend; i++) {
		free(f->pend[i].choice);
		strlist_free(&f->pend[i].words);
	}
	free(f->pend);
}

static void
form_def_free(struct form_def *fd)
{
	if (fd == NULL)
		return;
	free(fd->kind);
	free(fd->kfold);
	for (int l = 0; l < NLANG; l++) {
		free(fd->title[l]);
		strlist_free(&fd->subject[l]);
		strlist_free(&fd->subjfold[l]);
	}
	for (size_t i = 0; i < fd->nfields; i++)
		field_clear(&fd->fields[i]);
	free(fd->fields);
	for (size_t i = 0; i < fd->nalias; i++)
		free(fd->alias[i].folded);
	free(fd->alias);
	free(fd);
}

static void
catalog_clear(struct catalog *c)
{
	for (size_t i = 0; i < c->n; i++) {
		free(c->v[i].key);
		free(c->v[i].text);
	}
	free(c->v);
	memset(c, 0, sizeof *c);
}

void
form_set_free(struct form_set *fs)
{
	if (fs == NULL)
		return;
	for (size_t i = 0; i < fs->n; i++)
		form_def_free(fs->defs[i]);
	free(fs->defs);
	free(fs->kw);
	for (int l = 0; l < NLANG; l++)
		catalog_clear(&fs->cat[l]);
	free(fs);
}

static const char *
type_name(const struct field *f)
{
	for (size_t i = 0; i < NTYPES; i++)
		if (type_table[i].type == f->type && type_table[i].range == f->range)
			return type_table[i].name;
	return "text";
}

static size_t
default_maxlen(enum form_type t)
{
	switch (t) {
	case FT_LONGTEXT:
		return 20000;
	case FT_LIST:
		return 2000;
	case FT_EMAIL:
		return 254;
	default:
		return 200;
	}
}

/* --------------------------------------------------------------- values */

/* What a validation found wrong (at most LIST_ERRORS of them). */
struct verr {
	struct form_error e[LIST_ERRORS];
	size_t n;
	int oom;
};

static void
verr_add(struct verr *ve, enum form_error_code code, const char *given, const char *detail)
{
	if (ve->n >= LIST_ERRORS)
		return;
	struct form_error *fe = &ve->e[ve->n++];
	memset(fe, 0, sizeof *fe);
	fe->code = code;
	copy_given(fe->given, sizeof fe->given, given ? given : "");
	str_copy(fe->detail, detail ? detail : "", sizeof fe->detail);
}

static int
days_in_month(int y, int m)
{
	static const int d[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };

	if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
		return 29;
	return d[m - 1];
}

/* A date at s: YYYY-MM-DD (also with '/' or '.') or DD/MM/YYYY (also with
 * '-' or '.'), one separator throughout. Returns the bytes read, 0 if none;
 * *valid says whether it is a real calendar date. */
static size_t
parse_date(const char *s, int *y, int *m, int *d, int *valid)
{
	long a[3];
	size_t len[3], i = 0;
	char sep = 0;

	*valid = 0;
	for (int k = 0; k < 3; k++) {
		size_t st = i;
		long v = 0;
		while (is_digit(s[i]) && i - st < 4)
			v = v * 10 + (s[i++] - '0');
		len[k] = i - st;
		if (len[k] == 0 || is_digit(s[i]))
			return 0;
		a[k] = v;
		if (k < 2) {
			if (s[i] != '-' && s[i] != '/' && s[i] != '.')
				return 0;
			if (k == 0)
				sep = s[i];
			else if (s[i] != sep)
				return 0;
			i++;
		}
	}
	if (len[0] == 4 && len[1] <= 2 && len[2] <= 2) {
		*y = (int)a[0]; *m = (int)a[1]; *d = (int)a[2];
	} else if (len[0] <= 2 && len[1] <= 2 && len[2] == 4) {
		*d = (int)a[0]; *m = (int)a[1]; *y = (int)a[2];
	} else {
		return 0;
	}
	*valid = *y >= 1000 && *m >= 1 && *m <= 12 && *d >= 1 && *d <= days_in_month(*y, *m);
	return i;
}

static const char *
skip_blanks(const char *p)
{
	while (is_blank(*p))
		p++;
	return p;
}

/* If p starts with word w (ASCII, lower case) followed by a non-letter,
 * return what follows, else NULL. */
static const char *
skip_word(const char *p, const char *w)
{
	size_t n = strlen(w);

	for (size_t i = 0; i < n; i++)
		if (lower((unsigned char)p[i]) != (unsigned char)w[i])
			return NULL;
	if (is_alpha(p[n]) || (unsigned char)p[n] >= 0x80)
		return NULL;
	return p + n;
}

static char *
fmt_date(int y, int m, int d)
{
	char tmp[16];

	snprintf(tmp, sizeof tmp, "%04d-%02d-%02d", y, m, d);
	return strdup(tmp);
}

static char *
v_date(const char *v, struct verr *ve)
{
	int y, m, d, ok;
	size_t n = parse_date(v, &y, &m, &d, &ok);

	if (n == 0 || v[n] != '\0' || !ok) {
		verr_add(ve, FE_BAD_DATE, v, "YYYY-MM-DD");
		return NULL;
	}
	return fmt_date(y, m, d);
}

/* "2026-07-01 a 2026-12-31", "del 01/07/2026 al 31/12/2026",
 * "2026-07-01/2026-12-31", "01/07/2026 - 31/12/2026", ... */
static char *
v_daterange(const char *v, struct verr *ve)
{
	static const char *const lead[] = { "del", "desde", "de", "do", "from", "entre", "between" };
	static const char *const seps[] = { "hasta", "al", "a", "ate", "at\xc3\xa9", "to",
		"y", "e", "and", "until" };
	int y1, m1, d1, y2, m2, d2, ok1, ok2;
	const char *p = skip_blanks(v), *q;
	size_t n;
	char tmp[32];

	for (size_t i = 0; i < sizeof lead / sizeof lead[0]; i++)
		if ((q = skip_word(p, lead[i])) != NULL && is_blank(*q)) {
			p = skip_blanks(q);
			break;
		}
	if ((n = parse_date(p, &y1, &m1, &d1, &ok1)) == 0)
		goto bad;
	p = skip_blanks(p + n);
	if (strncmp(p, "\xe2\x80\x93", 3) == 0 || strncmp(p, "\xe2\x80\x94", 3) == 0) {
		p += 3;
	} else if (*p == '-' || *p == '/' || *p == '~') {
		p++;
	} else {
		const char *w = NULL;
		for (size_t i = 0; i < sizeof seps / sizeof seps[0] && w == NULL; i++)
			w = skip_word(p, seps[i]);
		if (w == NULL)
			goto bad;
		p = w;
	}
	p = skip_blanks(p);
	if ((n = parse_date(p, &y2, &m2, &d2, &ok2)) == 0)
		goto bad;
	p = skip_blanks(p + n);
	if (*p == '.')
		p = skip_blanks(p + 1);
	if (*p != '\0' || !ok1 || !ok2)
		goto bad;
	if (y1 * 10000 + m1 * 100 + d1 > y2 * 10000 + m2 * 100 + d2) {
		snprintf(tmp, sizeof tmp, "%04d-%02d-%02d > %04d-%02d-%02d", y1, m1, d1, y2, m2, d2);
		verr_add(ve, FE_OUT_OF_RANGE, v, tmp);
		return NULL;
	}
	snprintf(tmp, sizeof tmp, "%04d-%02d-%02d/%04d-%02d-%02d", y1, m1, d1, y2, m2, d2);
	return strdup(tmp);
bad:
	verr_add(ve, FE_BAD_DATE, v, "YYYY-MM-DD a YYYY-MM-DD");
	return NULL;
}

/* "2026-12-03 10:00", "03/12/2026 a las 10:30 h", "2026-12-03T10:00", ... */
static char *
v_datetime(const char *v, struct verr *ve)
{
	static const char *const joins[] = { "a las", "as", "\xc3\xa0s", "at", "a la" };
	int y, m, d, ok, hh = -1, mm = 0;
	const char *p = skip_blanks(v), *q;
	size_t n;
	char tmp[32];

	if ((n = parse_date(p, &y, &m, &d, &ok)) == 0 || !ok)
		goto bad;
	p += n;
	if (*p == 'T' || *p == 't')
		p++;
	p = skip_blanks(p);
	if (*p == ',')
		p = skip_blanks(p + 1);
	for (size_t i = 0; i < sizeof joins / sizeof joins[0]; i++)
		if ((q = skip_word(p, joins[i])) != NULL) {
			p = skip_blanks(q);
			break;
		}
	if (!is_digit(*p))
		goto bad;
	hh = *p++ - '0';
	if (is_digit(*p))
		hh = hh * 10 + (*p++ - '0');
	if (*p == ':' || *p == '.' || *p == 'h' || *p == 'H') {
		char sep = *p++;
		if (is_digit(p[0]) && is_digit(p[1])) {
			mm = (p[0] - '0') * 10 + (p[1] - '0');
			p += 2;
		} else if (sep != 'h' && sep != 'H') {
			goto bad;
		}
	} else {
		goto bad;
	}
	p = skip_blanks(p);
	if ((q = skip_word(p, "hs")) != NULL || (q = skip_word(p, "h")) != NULL ||
	    (q = skip_word(p, "hrs")) != NULL || (q = skip_word(p, "horas")) != NULL)
		p = skip_blanks(q);
	if (*p != '\0' || hh > 23 || mm > 59)
		goto bad;
	snprintf(tmp, sizeof tmp, "%04d-%02d-%02d %02d:%02d", y, m, d, hh, mm);
	return strdup(tmp);
bad:
	verr_add(ve, FE_BAD_DATE, v, "YYYY-MM-DD HH:MM");
	return NULL;
}

/* An integer, with optional thousands separators ('.', ',' or ' ', the same
 * throughout, groups of three). Returns 0, -1 if not one, 1 on overflow. */
static int
parse_integer(const char *v, long long *out)
{
	const char *p = skip_blanks(v);
	int neg = 0, overflow = 0;
	unsigned long long acc = 0, lim;
	char sep = 0;
	size_t group = 0, ngroups = 0;

	if (*p == '+' || *p == '-')
		neg = *p++ == '-';
	if (!is_digit(*p))
		return -1;
	lim = neg ? (unsigned long long)LLONG_MAX + 1 : (unsigned long long)LLONG_MAX;
	for (;;) {
		if (is_digit(*p)) {
			unsigned d = (unsigned)(*p - '0');
			if (acc > (lim - d) / 10)
				overflow = 1;
			else
				acc = acc * 10 + d;
			group++;
			p++;
			continue;
		}
		if ((*p == '.' || *p == ',' || *p == ' ') && is_digit(p[1])) {
			if (sep == 0) {
				if (group > 3)
					return -1;
				sep = *p;
			} else if (*p != sep || group != 3) {
				return -1;
			}
			ngroups++;
			group = 0;
			p++;
			continue;
		}
		break;
	}
	if (sep != 0 && group != 3)
		return -1;
	p = skip_blanks(p);
	if (*p != '\0')
		return -1;
	if (overflow)
		return 1;
	*out = neg ? (long long)(0 - acc) : (long long)acc;
	return 0;
}

static void
range_detail(const struct field *f, char *out, size_t size)
{
	if (f->has_min && f->has_max)
		snprintf(out, size, "%lld\xe2\x80\x93%lld", f->min, f->max);
	else if (f->has_min)
		snprintf(out, size, "\xe2\x89\xa5 %lld", f->min);
	else if (f->has_max)
		snprintf(out, size, "\xe2\x89\xa4 %lld", f->max);
	else
		snprintf(out, size, "%lld\xe2\x80\x93%lld", LLONG_MIN, LLONG_MAX);
}

static char *
v_integer(const struct field *f, const char *v, struct verr *ve)
{
	long long n = 0;
	char tmp[64];
	int rc = parse_integer(v, &n);

	if (rc < 0) {
		verr_add(ve, FE_BAD_INTEGER, v, "");
		return NULL;
	}
	if (rc > 0 || (f->has_min && n < f->min) || (f->has_max && n > f->max)) {
		range_detail(f, tmp, sizeof tmp);
		verr_add(ve, FE_OUT_OF_RANGE, v, tmp);
		return NULL;
	}
	snprintf(tmp, sizeof tmp, "%lld", n);
	return strdup(tmp);
}

/* "90", "90 min", "1h30", "1 h 30 min", "1:30", "2 horas", "1 hora y 30 minutos". */
static char *
v_duration(const struct field *f, const char *v, struct verr *ve)
{
	static const char *const hours[] = { "horas", "hora", "hours", "hour", "hrs", "hr", "hs", "h" };
	static const char *const mins[] = { "minutos", "minuto", "minutes", "minute", "mins", "min", "m" };
	static const char *const joins[] = { "y", "e", "and" };
	char *fv = fold_dup(v);
	const char *p = fv, *q;
	long long total = 0;
	int any = 0;
	char tmp[64];

	if (fv == NULL) {
		ve->oom = 1;
		return NULL;
	}
	for (;;) {
		p = skip_blanks(p);
		if (*p == '\0')
			break;
		if (any) {
			int joined = 0;
			for (size_t i = 0; i < sizeof joins / sizeof joins[0] && !joined; i++)
				if ((q = skip_word(p, joins[i])) != NULL) {
					p = skip_blanks(q);
					joined = 1;
				}
		}
		if (!is_digit(*p))
			goto bad;
		long long n = 0;
		while (is_digit(*p)) {
			if (n > 1000000)
				goto bad;
			n = n * 10 + (*p++ - '0');
		}
		if (*p == ':' && is_digit(p[1]) && is_digit(p[2]) && !is_digit(p[3])) {
			total += n * 60 + (p[1] - '0') * 10 + (p[2] - '0');
			p += 3;
			any = 1;
			continue;
		}
		p = skip_blanks(p);
		int unit = 0;
		for (size_t i = 0; i < sizeof hours / sizeof hours[0] && !unit; i++)
			if ((q = skip_word(p, hours[i])) != NULL) {
				total += n * 60;
				p = q;
				unit = 1;
			}
		for (size_t i = 0; i < sizeof mins / sizeof mins[0] && !unit; i++)
			if ((q = skip_word(p, mins[i])) != NULL) {
				total += n;
				p = q;
				unit = 1;
			}
		if (!unit) {
			/* a bare number: minutes, as the last token only */
			if (*skip_blanks(p) != '\0')
				goto bad;
			total += n;
		}
		if (*p == '.')
			p++;
		any = 1;
	}
	if (!any)
		goto bad;
	free(fv);
	if ((f->has_min && total < f->min) || (f->has_max && total > f->max) ||
	    (!f->has_min && total <= 0)) {
		range_detail(f, tmp, sizeof tmp);
		verr_add(ve, FE_OUT_OF_RANGE, v, tmp);
		return NULL;
	}
	snprintf(tmp, sizeof tmp, "%lld", total);
	return strdup(tmp);
bad:
	free(fv);
	verr_add(ve, FE_BAD_VALUE, v, "1h30");
	return NULL;
}

static char *
v_timezone(const char *v, const struct form_lookup *lk, struct verr *ve)
{
	size_t segs = 1, seglen = 0;

	if (strcmp(v, "UTC") == 0 || strcmp(v, "GMT") == 0)
		return strdup(v);
	if (!(v[0] >= 'A' && v[0] <= 'Z'))
		goto bad;
	for (const char *p = v; *p; p++) {
		if (*p == '/') {
			if (seglen == 0)
				goto bad;
			segs++;
			seglen = 0;
		} else if (is_alpha(*p) || is_digit(*p) || *p == '_' || *p == '-' || *p == '+') {
			seglen++;
		} else {
			goto bad;
		}
	}
	if (segs < 2 || seglen == 0 || strlen(v) > 64)
		goto bad;
	if (lk && lk->zone && !lk->zone(lk->ctx, v))
		goto bad;
	return strdup(v);
bad:
	verr_add(ve, FE_BAD_VALUE, v, "America/Montevideo");
	return NULL;
}

static char *
v_url(const char *v, struct verr *ve)
{
	const char *host;
	struct textbuf b = { 0 };

	if (strncasecmp(v, "https://", 8) == 0)
		host = v + 8;
	else if (strncasecmp(v, "http://", 7) == 0)
		host = v + 7;
	else if (strncasecmp(v, "www.", 4) == 0)
		host = v;
	else
		goto bad;
	size_t hl = 0;
	int dot = 0;
	while (is_alpha(host[hl]) || is_digit(host[hl]) || host[hl] == '-' || host[hl] == '.' ||
	    (unsigned char)host[hl] >= 0x80) {
		dot |= host[hl] == '.';
		hl++;
	}
	if (hl == 0 || !dot || host[0] == '.' || host[hl - 1] == '.')
		goto bad;
	if (host[hl] != '\0' && host[hl] != '/' && host[hl] != ':' && host[hl] != '?' &&
	    host[hl] != '#')
		goto bad;
	for (const char *p = host; *p; p++)
		if ((unsigned char)*p <= ' ' || *p == '"' || *p == '<' || *p == '>')
			goto bad;
	if (host == v) {
		if (textbuf_adds(&b, "https://") || textbuf_adds(&b, v))
			goto oom;
	} else {
		size_t sl = (size_t)(host - v);
		if (textbuf_add(&b, v, sl) || textbuf_adds(&b, host))
			goto oom;
		for (size_t i = 0; i < sl; i++)
			b.p[i] = (char)lower((unsigned char)b.p[i]);
	}
	return textbuf_take(&b);
oom:
	textbuf_free(&b);
	ve->oom = 1;
	return NULL;
bad:
	verr_add(ve, FE_BAD_VALUE, v, "https://");
	return NULL;
}

static int
email_local_char(int c)
{
	return is_alpha(c) || is_digit(c) || (c && strchr("!#$%&'*+/=?^_`{|}~-.", c) != NULL);
}

/* "ana@example.org", "<ana@example.org>", "Ana <ana@example.org>",
 * "mailto:ana@example.org": normalised to the address, domain lower case. */
static char *
v_email(const char *v, struct verr *ve)
{
	const char *s = v, *e;
	const char *lt = strchr(v, '<');
	char *out;

	if (lt != NULL) {
		const char *gt = strchr(lt, '>');
		if (gt == NULL || *skip_blanks(gt + 1) != '\0')
			goto bad;
		s = lt + 1;
		e = gt;
	} else {
		e = v + strlen(v);
	}
	if (strncasecmp(s, "mailto:", 7) == 0)
		s += 7;
	while (s < e && is_blank(*s))
		s++;
	while (e > s && is_blank(e[-1]))
		e--;
	size_t n = (size_t)(e - s);
	const char *at = memchr(s, '@', n);
	if (n == 0 || n > 254 || at == NULL)
		goto bad;
	size_t ll = (size_t)(at - s), dl = n - ll - 1;
	if (ll == 0 || ll > 64 || s[0] == '.' || at[-1] == '.' || dl < 3)
		goto bad;
	for (size_t i = 0; i < ll; i++)
		if (!email_local_char((unsigned char)s[i]) || (s[i] == '.' && s[i + 1] == '.'))
			goto bad;
	const char *d = at + 1;
	size_t lab = 0, labels = 0, last_alpha = 0;
	for (size_t i = 0; i <= dl; i++) {
		char c = i < dl ? d[i] : '.';
		if (c == '.') {
			if (lab == 0 || lab > 63 || d[i - 1] == '-' || d[i - lab] == '-')
				goto bad;
			labels++;
			last_alpha = 1;
			for (size_t k = i - lab; k < i; k++)
				if (!is_alpha(d[k]))
					last_alpha = 0;
			lab = 0;
		} else if (is_alpha(c) || is_digit(c) || c == '-') {
			lab++;
		} else {
			goto bad;
		}
	}
	if (labels < 2 || !last_alpha)
		goto bad;
	if ((out = malloc(n + 1)) == NULL) {
		ve->oom = 1;
		return NULL;
	}
	memcpy(out, s, n);
	out[n] = '\0';
	for (size_t i = ll + 1; i < n; i++)
		out[i] = (char)lower((unsigned char)out[i]);
	return out;
bad:
	verr_add(ve, FE_BAD_EMAIL, v, "");
	return NULL;
}

static void
choices_detail(const struct field *f, char *out, size_t size)
{
	size_t o = 0;

	out[0] = '\0';
	for (size_t i = 0; i < f->nchoices; i++) {
		int n = snprintf(out + o, size - o, "%s%s", i ? ", " : "", f->choices[i].value);
		if (n < 0 || (size_t)n >= size - o)
			break;
		o += (size_t)n;
	}
}

static char *
v_enum(const struct field *f, const char *v, struct verr *ve)
{
	char *fv = fold_dup(v);
	char detail[160];

	if (fv == NULL) {
		ve->oom = 1;
		return NULL;
	}
	for (size_t i = 0; i < f->nchoices; i++) {
		const struct choice *c = &f->choices[i];
		int hit = strcmp(fv, c->vfold) == 0 || strlist_has(&c->synfold, fv);
		if (hit) {
			free(fv);
			return strdup(c->value);
		}
	}
	free(fv);
	choices_detail(f, detail, sizeof detail);
	verr_add(ve, FE_BAD_CHOICE, v, detail);
	return NULL;
}

/* City or unit through the caller's look-up; any value if there is none. */
static char *
v_lookup(enum form_type t, const char *v, const struct form_lookup *lk, struct verr *ve,
    int report)
{
	int (*fn)(void *, const char *, char *, size_t) = NULL;
	char canon[LOOKUP_MAX];

	if (lk != NULL)
		fn = t == FT_CITY ? lk->city : lk->unit;
	if (fn == NULL)
		return strdup(v);
	canon[0] = '\0';
	if (fn(lk->ctx, v, canon, sizeof canon) == 1 && canon[0] != '\0') {
		canon[sizeof canon - 1] = '\0';
		return strdup(canon);
	}
	if (report)
		verr_add(ve, t == FT_CITY ? FE_UNKNOWN_CITY : FE_UNKNOWN_UNIT, v, "");
	return NULL;
}

static char *validate_one(const struct field *f, enum form_type t, const char *v,
    const struct form_lookup *lk, struct verr *ve);

/* An item of a list that failed the look-up may be "A y B" / "A e B" / "A and B". */
static int
list_item_split(const struct field *f, const char *item, const struct form_lookup *lk,
    struct textbuf *out, size_t *count, struct verr *ve)
{
	static const char *const joins[] = { " y ", " e ", " and ", " & " };
	struct strlist parts = { 0 };
	char *copy = strdup(item), *p = copy;
	int ok = 1;

	if (copy == NULL) {
		ve->oom = 1;
		return 0;
	}
	while (ok) {
		char *best = NULL;
		size_t bl = 0;
		for (size_t i = 0; i < sizeof joins / sizeof joins[0]; i++) {
			char *h = strstr(p, joins[i]);
			if (h != NULL && (best == NULL || h < best)) {
				best = h;
				bl = strlen(joins[i]);
			}
		}
		if (best == NULL) {
			ok = strlist_add(&parts, p) == 0;
			break;
		}
		*best = '\0';
		ok = strlist_add(&parts, p) == 0;
		p = best + bl;
	}
	if (!ok)
		ve->oom = 1;
	if (ok && parts.n < 2)
		ok = 0;
	struct textbuf tmp = { 0 };
	size_t c = 0;
	for (size_t i = 0; ok && i < parts.n; i++) {
		trim_inplace(parts.v[i]);
		struct verr quiet = { .n = 0 };
		char *canon = parts.v[i][0] ? validate_one(f, f->item, parts.v[i], lk, &quiet) : NULL;
		if (canon == NULL) {
			ok = 0;
			ve->oom |= quiet.oom;
			break;
		}
		if ((c + *count > 0 && textbuf_adds(&tmp, ", ")) || textbuf_adds(&tmp, canon))
			ve->oom = 1, ok = 0;
		free(canon);
		c++;
	}
	if (ok && textbuf_add(out, tmp.p ? tmp.p : "", tmp.len) == 0)
		*count += c;
	else if (ok)
		ve->oom = 1, ok = 0;
	textbuf_free(&tmp);
	strlist_free(&parts);
	free(copy);
	return ok;
}

static char *
v_list(const struct field *f, const char *v, const struct form_lookup *lk, struct verr *ve)
{
	struct textbuf out = { 0 };
	size_t count = 0;
	const char *p = v;
	char *item = malloc(strlen(v) + 1);

	if (item == NULL) {
		ve->oom = 1;
		return NULL;
	}
	while (*p) {
		size_t n = strcspn(p, ",;\n");
		memcpy(item, p, n);
		item[n] = '\0';
		p += n;
		if (*p)
			p++;
		trim_inplace(item);
		if (item[0] == '\0')
			continue;
		struct verr one = { .n = 0 };
		char *canon = validate_one(f, f->item, item, lk, &one);
		if (canon == NULL && !one.oom && (f->item == FT_CITY || f->item == FT_UNIT) &&
		    list_item_split(f, item, lk, &out, &count, ve))
			continue;
		if (canon == NULL) {
			ve->oom |= one.oom;
			for (size_t i = 0; i < one.n; i++)
				verr_add(ve, one.e[i].code, one.e[i].given, one.e[i].detail);
			continue;
		}
		if ((count > 0 && textbuf_adds(&out, ", ")) || textbuf_adds(&out, canon))
			ve->oom = 1;
		free(canon);
		count++;
	}
	free(item);
	if (ve->n > 0 || ve->oom) {
		textbuf_free(&out);
		return NULL;
	}
	char *s = textbuf_take(&out);	/* "" if there was no item: taken as empty */
	if (s == NULL)
		ve->oom = 1;
	return s;
}

/* Check and normalise a sanitised, trimmed, non-empty value as type t.
 * Returns the normalised value (caller frees), or NULL with ve filled. */
static char *
validate_one(const struct field *f, enum form_type t, const char *v,
    const struct form_lookup *lk, struct verr *ve)
{
	char *r;

	switch (t) {
	case FT_DATE:
		r = f->range && t == f->type ? v_daterange(v, ve) : v_date(v, ve);
		break;
	case FT_DATETIME:
		r = v_datetime(v, ve);
		break;
	case FT_INTEGER:
		r = v_integer(f, v, ve);
		break;
	case FT_DURATION:
		r = v_duration(f, v, ve);
		break;
	case FT_EMAIL:
		r = v_email(v, ve);
		break;
	case FT_ENUM:
		r = v_enum(f, v, ve);
		break;
	case FT_CITY:
	case FT_UNIT:
		r = v_lookup(t, v, lk, ve, 1);
		break;
	case FT_TIMEZONE:
		r = v_timezone(v, lk, ve);
		break;
	case FT_URL:
		r = v_url(v, ve);
		break;
	case FT_LIST:
		r = v_list(f, v, lk, ve);
		break;
	default:
		r = strdup(v);
		break;
	}
	if (r == NULL && ve->n == 0)
		ve->oom = 1;
	return r;
}

/* --------------------------------------------------------------- loading */

struct loader {
	FILE *diag;
	struct err *e;
	int nerr;
};

static void report(struct loader *ld, const char *path, int line, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static void
report(struct loader *ld, const char *path, int line, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	if (ld->diag != NULL) {
		if (line > 0)
			fprintf(ld->diag, "%s:%d: %s\n", path, line, msg);
		else
			fprintf(ld->diag, "%s: %s\n", path, msg);
	}
	if (ld->nerr++ == 0) {
		if (line > 0)
			err_set(ld->e, "%s:%d: %s", path, line, msg);
		else
			err_set(ld->e, "%s: %s", path, msg);
	}
}

static char *
path_join(const char *a, const char *b, const char *c)
{
	size_t n = strlen(a) + strlen(b) + (c ? strlen(c) : 0) + 3;
	char *p = malloc(n);

	if (p != NULL)
		snprintf(p, n, "%s/%s%s%s", a, b, c ? "/" : "", c ? c : "");
	return p;
}

/* Read a text file line by line: calls fn for each line without its end of
 * line (CR LF or LF), with its number. Returns -1 if it cannot be read. */
typedef void line_fn(void *ctx, char *line, int lineno);

static int
read_lines(const char *path, line_fn *fn, void *ctx)
{
	FILE *f = fopen(path, "r");
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	int lineno = 0;

	if (f == NULL)
		return -1;
	while ((n = getline(&line, &cap, f)) >= 0) {
		lineno++;
		while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
			line[--n] = '\0';
		fn(ctx, line, lineno);
	}
	free(line);
	fclose(f);
	return 0;
}

/* Split "a, b, c" into trimmed items; empty items are an error. */
static int
split_commas(const char *v, struct strlist *out, int *empty)
{
	const char *p = v;

	*empty = 0;
	for (;;) {
		size_t n = strcspn(p, ",");
		char tmp[512];
		const char *t = trim_span(p, &n);
		if (n == 0) {
			*empty = 1;
		} else {
			if (n >= sizeof tmp)
				n = sizeof tmp - 1;
			memcpy(tmp, t, n);
			tmp[n] = '\0';
			if (strlist_add(out, tmp))
				return -1;
		}
		p += strcspn(p, ",");
		if (*p == '\0')
			break;
		p++;
	}
	return 0;
}

static int
parse_bool(const char *v, int *out)
{
	static const char *const yes[] = { "yes", "true", "1", "si", "sim", "on" };
	static const char *const no[] = { "no", "false", "0", "nao", "off" };
	char *f = fold_dup(v);
	int rc = -1;

	if (f == NULL)
		return -1;
	for (size_t i = 0; i < sizeof yes / sizeof yes[0]; i++)
		if (strcmp(f, yes[i]) == 0)
			*out = 1, rc = 0;
	for (size_t i = 0; i < sizeof no / sizeof no[0]; i++)
		if (strcmp(f, no[i]) == 0)
			*out = 0, rc = 0;
	free(f);
	return rc;
}

static int
parse_ll(const char *v, long long *out)
{
	char *end;

	errno = 0;
	long long n = strtoll(v, &end, 10);
	if (errno != 0 || end == v || *skip_blanks(end) != '\0')
		return -1;
	*out = n;
	return 0;
}

enum { SEC_NONE, SEC_FORM, SEC_FIELD, SEC_BAD };

struct fparse {
	struct loader *ld;
	const char *path;
	struct form_def *fd;
	int section;
	struct field *cur;
	struct strlist keys;		/* keys seen in the current section */
	int kind_line, roles_line;
	int oom;
};

static int
key_lang(struct fparse *fp, int line, const char *key, const char *prefix)
{
	size_t pl = strlen(prefix);
	int l;

	if (strncmp(key, prefix, pl) != 0 || key[pl] != '.')
		return -2;
	if ((l = lang_index(key + pl + 1)) < 0) {
		report(fp->ld, fp->path, line, "'%s': the language must be es, pt or en", key);
		return -1;
	}
	return l;
}

static void
finish_field(struct fparse *fp)
{
	struct field *f = fp->cur;
	const char *p = fp->path;

	if (f == NULL)
		return;
	fp->cur = NULL;
	if (!f->type_set)
		report(fp->ld, p, f->line, "field '%s' has no type", f->name);
	if (f->aliases[L_ES].n == 0)
		report(fp->ld, p, f->line, "field '%s' has no aliases.es (its names in Spanish)",
		    f->name);
	if (f->example[L_ES] == NULL)
		report(fp->ld, p, f->line, "field '%s' has no example.es", f->name);
	if (f->type == FT_ENUM && f->nchoices == 0)
		report(fp->ld, p, f->line, "enum field '%s' has no choices", f->name);
	if (f->type != FT_ENUM && f->nchoices > 0)
		report(fp->ld, p, f->line, "field '%s' has choices but is not of type enum",
		    f->name);
	if ((f->has_min || f->has_max) && f->type != FT_INTEGER && f->type != FT_DURATION)
		report(fp->ld, p, f->line,
		    "field '%s': min and max are for integer and duration fields", f->name);
	if (f->has_min && f->has_max && f->min > f->max)
		report(fp->ld, p, f->line, "field '%s': min is greater than max", f->name);
	if (f->maxlen == 0)
		f->maxlen = default_maxlen(f->type);
	/* choice.VALUE.LANG lines, now that the choices are known */
	for (size_t i = 0; i < f->npend; i++) {
		struct pending_syn *ps = &f->pend[i];
		struct choice *c = NULL;
		for (size_t k = 0; k < f->nchoices && c == NULL; k++)
			if (strcasecmp(f->choices[k].value, ps->choice) == 0)
				c = &f->choices[k];
		if (c == NULL) {
			report(fp->ld, p, ps->line, "'%s' is not one of the choices of field '%s'",
			    ps->choice, f->name);
			continue;
		}
		for (size_t k = 0; k < ps->words.n; k++) {
			char *w = fold_dup(ps->words.v[k]);
			if (w == NULL || strlist_add(&c->syn[ps->lang], ps->words.v[k]) ||
			    (!strlist_has(&c->synfold, w) && strlist_add(&c->synfold, w)))
				fp->oom = 1;
			free(w);
		}
	}
	/* the examples must be valid values */
	for (int l = 0; l < NLANG; l++) {
		struct verr ve = { .n = 0 };
		char *ex = f->example[l], *ok;
		if (ex == NULL || !f->type_set)
			continue;
		ok = validate_one(f, f->type, ex, NULL, &ve);
		if (ok == NULL && !ve.oom)
			report(fp->ld, p, f->line, "field '%s': example.%s '%s' is not a valid %s",
			    f->name, lang_names[l], ex, type_name(f));
		fp->oom |= ve.oom;
		free(ok);
	}
}

static void
form_key(struct fparse *fp, int line, const char *key, const char *val)
{
	struct form_def *fd = fp->fd;
	int l, empty;

	if (strcmp(key, "kind") == 0) {
		for (const char *c = val; *c; c++)
			if (!((*c >= 'a' && *c <= 'z') || is_digit(*c) || *c == '-')) {
				report(fp->ld, fp->path, line,
				    "kind '%s': use lower-case letters, digits and '-'", val);
				return;
			}
		if (strlen(val) > 32) {
			report(fp->ld, fp->path, line, "kind '%s' is too long", val);
			return;
		}
		fd->kind = strdup(val);
		fd->kfold = fold_dup(val);
		fp->kind_line = line;
	} else if ((l = key_lang(fp, line, key, "title")) != -2) {
		if (l >= 0)
			fd->title[l] = strdup(val);
	} else if ((l = key_lang(fp, line, key, "subject")) != -2) {
		if (l < 0)
			return;
		if (split_commas(val, &fd->subject[l], &empty)) {
			fp->oom = 1;
			return;
		}
		if (empty)
			report(fp->ld, fp->path, line, "empty keyword in '%s'", key);
		fd->subject_line[l] = line;
		for (size_t i = 0; i < fd->subject[l].n; i++) {
			char *w = fold_dup(fd->subject[l].v[i]);
			if (w == NULL || strlist_add(&fd->subjfold[l], w)) {
				fp->oom = 1;
			} else if (w[0] == '\0' || strlen(w) > ALIAS_MAX) {
				report(fp->ld, fp->path, line, "keyword '%s' is empty or too long",
				    fd->subject[l].v[i]);
			}
			free(w);
		}
	} else if (strcmp(key, "roles") == 0) {
		struct strlist roles = { 0 };
		if (split_commas(val, &roles, &empty)) {
			fp->oom = 1;
			strlist_free(&roles);
			return;
		}
		for (size_t i = 0; i < roles.n; i++) {
			unsigned bit = 0;
			for (size_t k = 0; k < NROLES; k++)
				if (strcmp(roles.v[i], role_table[k].name) == 0)
					bit = role_table[k].bit;
			if (bit == 0)
				report(fp->ld, fp->path, line,
				    "unknown role '%s' (coordinator, subcoordinator, member, contact, "
				    "secretariat, anyone)", roles.v[i]);
			fd->roles |= bit;
		}
		strlist_free(&roles);
		fp->roles_line = line;
	} else {
		report(fp->ld, fp->path, line, "unknown key '%s' in [form]", key);
	}
}

static void
field_key(struct fparse *fp, int line, const char *key, const char *val)
{
	struct field *f = fp->cur;
	int l, empty;

	if (strcmp(key, "type") == 0) {
		size_t i;
		for (i = 0; i < NTYPES; i++)
			if (strcmp(val, type_table[i].name) == 0)
				break;
		if (i == NTYPES) {
			report(fp->ld, fp->path, line, "unknown type '%s' (text, longtext, date, "
			    "daterange, integer, email, enum, city, unit, datetime, duration, "
			    "timezone, url, list)", val);
			return;
		}
		f->type = type_table[i].type;
		f->range = type_table[i].range;
		f->type_set = 1;
	} else if (strcmp(key, "required") == 0) {
		if (parse_bool(val, &f->required))
			report(fp->ld, fp->path, line, "required: '%s' is not yes or no", val);
	} else if (strcmp(key, "unless") == 0) {
		free(f->unless);
		if ((f->unless = strdup(val)) == NULL)
			fp->oom = 1;
		f->unless_line = line;
	} else if ((l = key_lang(fp, line, key, "aliases")) != -2) {
		if (l < 0)
			return;
		if (split_commas(val, &f->aliases[l], &empty)) {
			fp->oom = 1;
			return;
		}
		if (empty)
			report(fp->ld, fp->path, line, "empty alias in '%s'", key);
		for (size_t i = 0; i < f->aliases[l].n; i++) {
			const char *a = f->aliases[l].v[i];
			if (strlen(a) > ALIAS_MAX || strchr(a, ':') != NULL)
				report(fp->ld, fp->path, line,
				    "alias '%s' is too long or contains ':'", a);
		}
	} else if ((l = key_lang(fp, line, key, "example")) != -2) {
		if (l >= 0) {
			free(f->example[l]);
			f->example[l] = strdup(val);
		}
	} else if (strcmp(key, "maxlen") == 0) {
		long long n;
		if (parse_ll(val, &n) || n < 1 || n > 1000000)
			report(fp->ld, fp->path, line, "maxlen: '%s' is not a number 1..1000000", val);
		else
			f->maxlen = (size_t)n;
	} else if (strcmp(key, "min") == 0 || strcmp(key, "max") == 0) {
		long long n;
		if (parse_ll(val, &n)) {
			report(fp->ld, fp->path, line, "%s: '%s' is not an integer", key, val);
		} else if (key[1] == 'i') {
			f->min = n;
			f->has_min = 1;
		} else {
			f->max = n;
			f->has_max = 1;
		}
	} else if (strcmp(key, "item") == 0) {
		static const enum form_type items[] = { FT_TEXT, FT_CITY, FT_UNIT, FT_EMAIL };
		static const char *const names[] = { "text", "city", "unit", "email" };
		size_t i;
		for (i = 0; i < 4; i++)
			if (strcmp(val, names[i]) == 0)
				break;
		if (i == 4)
			report(fp->ld, fp->path, line, "item: '%s' is not text, city, unit or email",
			    val);
		else
			f->item = items[i];
	} else if (strcmp(key, "choices") == 0) {
		struct strlist cl = { 0 };
		if (split_commas(val, &cl, &empty)) {
			fp->oom = 1;
			strlist_free(&cl);
			return;
		}
		if (empty)
			report(fp->ld, fp->path, line, "empty choice in 'choices'");
		f->choices = calloc(cl.n ? cl.n : 1, sizeof *f->choices);
		if (f->choices == NULL) {
			fp->oom = 1;
			strlist_free(&cl);
			return;
		}
		for (size_t i = 0; i < cl.n; i++) {
			f->choices[i].value = cl.v[i];
			f->choices[i].vfold = fold_dup(cl.v[i]);
			if (f->choices[i].vfold == NULL)
				fp->oom = 1;
		}
		f->nchoices = cl.n;
		free(cl.v);
	} else if (strncmp(key, "choice.", 7) == 0) {
		const char *dot = strrchr(key, '.');
		int lg = lang_index(dot + 1);
		if (dot == key + 6 || lg < 0) {
			report(fp->ld, fp->path, line,
			    "'%s': write choice.VALUE.LANG (LANG es, pt or en)", key);
			return;
		}
		struct pending_syn *np = realloc(f->pend, (f->npend + 1) * sizeof *np);
		if (np == NULL) {
			fp->oom = 1;
			return;
		}
		f->pend = np;
		struct pending_syn *ps = &f->pend[f->npend++];
		memset(ps, 0, sizeof *ps);
		ps->choice = strndup(key + 7, (size_t)(dot - key - 7));
		ps->lang = lg;
		ps->line = line;
		if (ps->choice == NULL || split_commas(val, &ps->words, &empty))
			fp->oom = 1;
		else if (empty)
			report(fp->ld, fp->path, line, "empty word in '%s'", key);
	} else {
		report(fp->ld, fp->path, line, "unknown key '%s' in a [field] section", key);
	}
}

static void
section_line(struct fparse *fp, char *s, int line)
{
	size_t n = strlen(s);
	char *in;

	finish_field(fp);
	strlist_free(&fp->keys);
	if (s[n - 1] != ']') {
		report(fp->ld, fp->path, line, "section header without ']'");
		fp->section = SEC_BAD;
		return;
	}
	s[n - 1] = '\0';
	in = s + 1;
	trim_inplace(in);
	if (strcmp(in, "form") == 0) {
		if (fp->fd->nfields > 0 || fp->kind_line > 0)
			report(fp->ld, fp->path, line, "[form] must come once, first");
		fp->section = SEC_FORM;
		return;
	}
	if (strncmp(in, "field", 5) != 0 || !is_blank(in[5])) {
		report(fp->ld, fp->path, line, "unknown section [%s] (use [form] or [field NAME])",
		    in);
		fp->section = SEC_BAD;
		return;
	}
	const char *name = skip_blanks(in + 5);
	for (const char *c = name; *c; c++)
		if (!((*c >= 'a' && *c <= 'z') || is_digit(*c) || *c == '_')) {
			report(fp->ld, fp->path, line,
			    "field name '%s': use lower-case letters, digits and '_'", name);
			fp->section = SEC_BAD;
			return;
		}
	for (size_t i = 0; i < fp->fd->nfields; i++)
		if (strcmp(fp->fd->fields[i].name, name) == 0) {
			report(fp->ld, fp->path, line, "field '%s' is defined twice", name);
			fp->section = SEC_BAD;
			return;
		}
	struct field *nf = realloc(fp->fd->fields, (fp->fd->nfields + 1) * sizeof *nf);
	if (nf == NULL) {
		fp->oom = 1;
		fp->section = SEC_BAD;
		return;
	}
	fp->fd->fields = nf;
	fp->cur = &nf[fp->fd->nfields++];
	memset(fp->cur, 0, sizeof *fp->cur);
	fp->cur->name = strdup(name);
	fp->cur->line = line;
	fp->cur->item = FT_TEXT;
	if (fp->cur->name == NULL)
		fp->oom = 1;
	fp->section = SEC_FIELD;
}

static void
form_line(void *ctx, char *raw, int line)
{
	struct fparse *fp = ctx;
	char *s = raw, *eq;

	if (!text_utf8_valid(raw, strlen(raw))) {
		report(fp->ld, fp->path, line, "not valid UTF-8");
		return;
	}
	trim_inplace(s);
	if (s[0] == '\0' || s[0] == '#' || s[0] == ';')
		return;
	if (s[0] == '[') {
		section_line(fp, s, line);
		return;
	}
	if ((eq = strchr(s, '=')) == NULL) {
		report(fp->ld, fp->path, line, "expected 'key = value' or a [section]");
		return;
	}
	*eq = '\0';
	char *key = s, *val = eq + 1;
	trim_inplace(key);
	trim_inplace(val);
	for (char *c = key; *c; c++)
		*c = (char)lower((unsigned char)*c);
	if (fp->section == SEC_BAD)
		return;
	if (fp->section == SEC_NONE) {
		report(fp->ld, fp->path, line, "'%s' outside a section (start with [form])", key);
		return;
	}
	if (key[0] == '\0' || val[0] == '\0') {
		report(fp->ld, fp->path, line, "empty key or value");
		return;
	}
	if (strlist_has(&fp->keys, key)) {
		report(fp->ld, fp->path, line, "'%s' given twice in this section", key);
		return;
	}
	if (strlist_add(&fp->keys, key)) {
		fp->oom = 1;
		return;
	}
	if (fp->section == SEC_FORM)
		form_key(fp, line, key, val);
	else
		field_key(fp, line, key, val);
}

static int
alias_cmp(const void *a, const void *b)
{
	return strcmp(((const struct alias_ent *)a)->folded, ((const struct alias_ent *)b)->folded);
}

/* The folded alias table of a form; collisions are errors. */
static void
build_aliases(struct fparse *fp)
{
	struct form_def *fd = fp->fd;
	size_t total = 0;

	for (size_t i = 0; i < fd->nfields; i++)
		for (int l = 0; l < NLANG; l++)
			total += fd->fields[i].aliases[l].n;
	fd->alias = calloc(total ? total : 1, sizeof *fd->alias);
	if (fd->alias == NULL) {
		fp->oom = 1;
		return;
	}
	for (size_t i = 0; i < fd->nfields; i++)
		for (int l = 0; l < NLANG; l++)
			for (size_t k = 0; k < fd->fields[i].aliases[l].n; k++) {
				const char *orig = fd->fields[i].aliases[l].v[k];
				char *fo = fold_dup(orig);
				struct alias_ent *hit = NULL;
				if (fo == NULL) {
					fp->oom = 1;
					return;
				}
				if (fo[0] == '\0' || strcmp(fo, "formulario") == 0 ||
				    strcmp(fo, "form") == 0) {
					report(fp->ld, fp->path, fd->fields[i].line,
					    "field '%s': alias '%s' is empty or reserved",
					    fd->fields[i].name, orig);
					free(fo);
					continue;
				}
				for (size_t a = 0; a < fd->nalias && hit == NULL; a++)
					if (strcmp(fd->alias[a].folded, fo) == 0)
						hit = &fd->alias[a];
				if (hit != NULL) {
					if (hit->field != i)
						report(fp->ld, fp->path, fd->fields[i].line,
						    "alias '%s' of field '%s' is also an alias of "
						    "field '%s'", orig, fd->fields[i].name,
						    fd->fields[hit->field].name);
					hit->langs |= 1u << l;
					free(fo);
					continue;
				}
				hit = &fd->alias[fd->nalias++];
				hit->folded = fo;
				hit->len = strlen(fo);
				hit->field = i;
				hit->langs = 1u << l;
				hit->orig = orig;
			}
	qsort(fd->alias, fd->nalias, sizeof *fd->alias, alias_cmp);
}

static const struct field *find_field(const struct form_def *fd, const char *name);

/* "unless = OTHER" must name another field of the same form. */
static void
check_unless(struct loader *ld, const char *path, const struct form_def *fd)
{
	for (size_t i = 0; i < fd->nfields; i++) {
		const struct field *f = &fd->fields[i];
		if (f->unless == NULL)
			continue;
		if (find_field(fd, f->unless) == NULL || strcmp(f->unless, f->name) == 0)
			report(ld, path, f->unless_line, "field '%s': unless names no other field "
			    "of this form ('%s')", f->name, f->unless);
		else if (!f->required)
			report(ld, path, f->unless_line, "field '%s': unless is for required fields",
			    f->name);
	}
}

static struct form_def *
load_form(struct loader *ld, const char *path, const char *base)
{
	struct fparse fp = { .ld = ld, .path = path };
	int before = ld->nerr;

	if ((fp.fd = calloc(1, sizeof *fp.fd)) == NULL) {
		report(ld, path, 0, "out of memory");
		return NULL;
	}
	if (read_lines(path, form_line, &fp) < 0) {
		report(ld, path, 0, "cannot read: %s", strerror(errno));
		strlist_free(&fp.keys);
		form_def_free(fp.fd);
		return NULL;
	}
	finish_field(&fp);
	strlist_free(&fp.keys);
	struct form_def *fd = fp.fd;
	check_unless(ld, path, fd);
	size_t bl = strlen(base) - strlen(".form");
	if (fd->kind == NULL)
		report(ld, path, 0, "no 'kind' in [form]");
	else if (strlen(fd->kind) != bl || strncmp(fd->kind, base, bl) != 0)
		report(ld, path, fp.kind_line, "kind '%s' does not match the file name %s",
		    fd->kind, base);
	if (fd->title[L_ES] == NULL)
		report(ld, path, 0, "no 'title.es' in [form]");
	if (fd->subject[L_ES].n == 0)
		report(ld, path, 0, "no 'subject.es' (keywords of the subject) in [form]");
	if (fd->roles == 0 && fp.roles_line == 0)
		report(ld, path, 0, "no 'roles' in [form]");
	if (fd->nfields == 0)
		report(ld, path, 0, "no [field ...] sections");
	build_aliases(&fp);
	if (fp.oom)
		report(ld, path, 0, "out of memory");
	if (ld->nerr > before) {
		form_def_free(fd);
		return NULL;
	}
	return fd;
}

/* --------------------------------------------------------------- catalogs */

struct cparse {
	struct loader *ld;
	const char *path;
	struct catalog *cat;
	int oom;
};

static int
catalog_key_ok(const char *key)
{
	for (size_t c = 0; c < NCODES; c++) {
		size_t n = strlen(code_names[c]);
		if (strncmp(key, code_names[c], n) != 0)
			continue;
		if (key[n] == '\0')
			return 1;
		if (key[n] != '.')
			continue;
		if (strcmp(key + n + 1, "suggestion") == 0)
			return 1;
		for (size_t t = 0; t < NTYPES; t++)
			if (strcmp(key + n + 1, type_table[t].name) == 0)
				return 1;
	}
	return 0;
}

static const char *
catalog_get(const struct catalog *c, const char *key)
{
	for (size_t i = 0; i < c->n; i++)
		if (strcmp(c->v[i].key, key) == 0)
			return c->v[i].text;
	return NULL;
}

static void
catalog_line(void *ctx, char *s, int line)
{
	struct cparse *cp = ctx;
	char *eq;

	if (!text_utf8_valid(s, strlen(s))) {
		report(cp->ld, cp->path, line, "not valid UTF-8");
		return;
	}
	trim_inplace(s);
	if (s[0] == '\0' || s[0] == '#')
		return;
	if ((eq = strchr(s, '=')) == NULL) {
		report(cp->ld, cp->path, line, "expected 'code = text'");
		return;
	}
	*eq = '\0';
	char *key = s, *text = eq + 1;
	trim_inplace(key);
	trim_inplace(text);
	if (!catalog_key_ok(key)) {
		report(cp->ld, cp->path, line, "unknown entry '%s'", key);
		return;
	}
	if (text[0] == '\0') {
		report(cp->ld, cp->path, line, "empty text for '%s'", key);
		return;
	}
	if (catalog_get(cp->cat, key) != NULL) {
		report(cp->ld, cp->path, line, "'%s' given twice", key);
		return;
	}
	for (const char *p = text; (p = strchr(p, '{')) != NULL;) {
		const char *close = strchr(p, '}');
		size_t k;
		if (close == NULL) {
			report(cp->ld, cp->path, line, "'{' without '}'");
			return;
		}
		for (k = 0; k < NPLACEHOLDERS; k++)
			if ((size_t)(close - p - 1) == strlen(placeholders[k]) &&
			    strncmp(p + 1, placeholders[k], strlen(placeholders[k])) == 0)
				break;
		if (k == NPLACEHOLDERS) {
			report(cp->ld, cp->path, line, "unknown placeholder %.*s (use {field}, "
			    "{given}, {suggestion}, {detail}, {example}, {choices}, {line})",
			    (int)(close - p + 1), p);
			return;
		}
		p = close + 1;
	}
	struct centry *nv = realloc(cp->cat->v, (cp->cat->n + 1) * sizeof *nv);
	if (nv == NULL) {
		cp->oom = 1;
		return;
	}
	cp->cat->v = nv;
	nv[cp->cat->n].key = strdup(key);
	nv[cp->cat->n].text = strdup(text);
	if (nv[cp->cat->n].key == NULL || nv[cp->cat->n].text == NULL) {
		free(nv[cp->cat->n].key);
		free(nv[cp->cat->n].text);
		cp->oom = 1;
		return;
	}
	cp->cat->n++;
}

static void
load_catalog(struct loader *ld, const char *dir, int lang, struct catalog *cat, int required)
{
	char *path = path_join(dir, lang_names[lang], "form-errors.txt");
	struct cparse cp = { .ld = ld, .path = path, .cat = cat };

	if (path == NULL) {
		report(ld, dir, 0, "out of memory");
		return;
	}
	if (read_lines(path, catalog_line, &cp) < 0) {
		if (required || errno != ENOENT)
			report(ld, path, 0, "cannot read: %s", strerror(errno));
		free(path);
		return;
	}
	for (size_t c = 0; c < NCODES; c++)
		if (catalog_get(cat, code_names[c]) == NULL)
			report(ld, path, 0, "no entry for '%s'", code_names[c]);
	if (cp.oom)
		report(ld, path, 0, "out of memory");
	cat->loaded = 1;
	free(path);
}

/* ------------------------------------------------------------------ set */

static int
name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int
build_keywords(struct loader *ld, struct form_set *fs, const char *dir)
{
	size_t total = 0;

	for (size_t i = 0; i < fs->n; i++)
		for (int l = 0; l < NLANG; l++)
			total += fs->defs[i]->subjfold[l].n;
	if ((fs->kw = calloc(total ? total : 1, sizeof *fs->kw)) == NULL)
		return -1;
	for (size_t i = 0; i < fs->n; i++) {
		struct form_def *fd = fs->defs[i];
		for (int l = 0; l < NLANG; l++)
			for (size_t k = 0; k < fd->subjfold[l].n; k++) {
				const char *w = fd->subjfold[l].v[k];
				struct kw_ent *hit = NULL;
				for (size_t j = 0; j < fs->nkw && hit == NULL; j++)
					if (strcmp(fs->kw[j].folded, w) == 0)
						hit = &fs->kw[j];
				if (hit != NULL && hit->form != i) {
					char path[PATH_MAX];
					snprintf(path, sizeof path, "%s/forms/%s.form", dir, fd->kind);
					report(ld, path, fd->subject_line[l],
					    "subject keyword '%s' is also a keyword of kind '%s'",
					    fd->subject[l].v[k], fs->defs[hit->form]->kind);
				} else if (hit != NULL) {
					hit->langs |= 1u << l;
				} else {
					hit = &fs->kw[fs->nkw++];
					hit->folded = w;
					hit->len = strlen(w);
					hit->form = i;
					hit->langs = 1u << l;
				}
			}
	}
	return 0;
}

struct form_set *
form_set_load(const char *dir, FILE *diag, struct err *e)
{
	struct loader ld = { .diag = diag, .e = e };
	struct form_set *fs = calloc(1, sizeof *fs);
	char *fdir = path_join(dir, "forms", NULL);
	char **names = NULL;
	size_t nnames = 0;
	DIR *d = NULL;
	struct dirent *de;

	if (fs == NULL || fdir == NULL) {
		err_set(e, "out of memory");
		goto fail;
	}
	if ((d = opendir(fdir)) == NULL) {
		report(&ld, fdir, 0, "cannot open the forms directory: %s", strerror(errno));
		goto fail;
	}
	while ((de = readdir(d)) != NULL) {
		size_t n = strlen(de->d_name);
		if (de->d_name[0] == '.' || n <= 5 || strcmp(de->d_name + n - 5, ".form") != 0)
			continue;
		char **nn = realloc(names, (nnames + 1) * sizeof *nn);
		if (nn == NULL || (nn[nnames] = strdup(de->d_name)) == NULL) {
			names = nn ? nn : names;
			err_set(e, "out of memory");
			goto fail;
		}
		names = nn;
		nnames++;
	}
	closedir(d);
	d = NULL;
	if (nnames == 0)
		report(&ld, fdir, 0, "no .form files");
	if (nnames > 0)
		qsort(names, nnames, sizeof *names, name_cmp);
	if ((fs->defs = calloc(nnames ? nnames : 1, sizeof *fs->defs)) == NULL) {
		err_set(e, "out of memory");
		goto fail;
	}
	for (size_t i = 0; i < nnames; i++) {
		char *path = path_join(fdir, names[i], NULL);
		struct form_def *fd;
		if (path == NULL) {
			err_set(e, "out of memory");
			goto fail;
		}
		if ((fd = load_form(&ld, path, names[i])) != NULL)
			fs->defs[fs->n++] = fd;
		free(path);
	}
	if (build_keywords(&ld, fs, dir) < 0) {
		err_set(e, "out of memory");
		goto fail;
	}
	for (int l = 0; l < NLANG; l++)
		load_catalog(&ld, dir, l, &fs->cat[l], l != L_EN);
	if (ld.nerr > 0)
		goto fail;
	for (size_t i = 0; i < nnames; i++)
		free(names[i]);
	free(names);
	free(fdir);
	return fs;
fail:
	if (d != NULL)
		closedir(d);
	for (size_t i = 0; i < nnames; i++)
		free(names[i]);
	free(names);
	free(fdir);
	form_set_free(fs);
	return NULL;
}

size_t
form_set_count(const struct form_set *fs)
{
	return fs ? fs->n : 0;
}

const struct form_def *
form_set_at(const struct form_set *fs, size_t i)
{
	return fs && i < fs->n ? fs->defs[i] : NULL;
}

const struct form_def *
form_set_find(const struct form_set *fs, const char *kind)
{
	if (fs == NULL || kind == NULL)
		return NULL;
	for (size_t i = 0; i < fs->n; i++)
		if (strcmp(fs->defs[i]->kind, kind) == 0)
			return fs->defs[i];
	return NULL;
}

const char *
form_kind(const struct form_def *fd)
{
	return fd ? fd->kind : NULL;
}

const char *
form_title(const struct form_def *fd, const char *lang)
{
	int l = lang_index(lang);

	if (fd == NULL)
		return NULL;
	return l >= 0 && fd->title[l] ? fd->title[l] : fd->title[L_ES];
}

int
form_allows_role(const struct form_def *fd, const char *role)
{
	unsigned bit = 0;

	if (fd == NULL)
		return 0;
	if (fd->roles & R_ANYONE)
		return 1;
	if (role == NULL)
		return 0;
	for (size_t k = 0; k < NROLES; k++)
		if (strcmp(role, role_table[k].name) == 0)
			bit = role_table[k].bit;
	if (fd->roles & bit)
		return 1;
	/* "contact": anyone on the roster, whatever else they are */
	return (fd->roles & R_CONTACT) && bit != 0 && bit != R_ANYONE;
}

const char *
form_unit_field(const struct form_def *fd)
{
	if (fd == NULL)
		return NULL;
	for (size_t i = 0; i < fd->nfields; i++)
		if (fd->fields[i].type == FT_UNIT)
			return fd->fields[i].name;
	return NULL;
}

static const struct field *
find_field(const struct form_def *fd, const char *name)
{
	if (fd == NULL || name == NULL)
		return NULL;
	for (size_t i = 0; i < fd->nfields; i++)
		if (strcmp(fd->fields[i].name, name) == 0)
			return &fd->fields[i];
	return NULL;
}

static const char *
field_label_l(const struct field *f, int l)
{
	if (l >= 0 && f->aliases[l].n > 0)
		return f->aliases[l].v[0];
	return f->aliases[L_ES].v[0];
}

const char *
form_field_label(const struct form_def *fd, const char *field, const char *lang)
{
	const struct field *f = find_field(fd, field);

	return f ? field_label_l(f, lang_index(lang)) : NULL;
}

/* --------------------------------------------------------------- detection */

/* The best keyword found in folded text t (see form_detect). */
static long
keyword_best(const struct form_set *fs, const char *t, unsigned *langs)
{
	long best = -1;
	int best_br = 0;
	size_t best_len = 0, best_pos = 0;

	for (size_t k = 0; k < fs->nkw; k++) {
		const struct kw_ent *kw = &fs->kw[k];
		for (const char *p = t; (p = strstr(p, kw->folded)) != NULL; p++) {
			size_t pos = (size_t)(p - t);
			unsigned char before = pos ? (unsigned char)t[pos - 1] : ' ';
			unsigned char after = (unsigned char)p[kw->len];
			if (is_word_byte(before) || is_word_byte(after))
				continue;
			size_t b = pos;
			if (b > 0 && t[b - 1] == ' ')
				b--;
			const char *a = p + kw->len;
			if (*a == ' ')
				a++;
			int br = b > 0 && t[b - 1] == '[' && *a == ']';
			if (best < 0 || br > best_br || (br == best_br && (kw->len > best_len ||
			    (kw->len == best_len && pos < best_pos)))) {
				best = (long)kw->form;
				best_br = br;
				best_len = kw->len;
				best_pos = pos;
				if (langs)
					*langs = kw->langs;
			}
			break;	/* the first whole-word place is enough */
		}
	}
	return best;
}

/* If the line s[0..n) is "Name: value", fold the name into name[nsz] (blanks
 * and '*' around it removed) and return the value's start; else NULL. */
static const char *
split_name(const char *s, size_t n, char *name, size_t nsz, const char **rawname,
    size_t *rawlen, int *star)
{
	size_t i = 0, lim = n < NAME_SCAN ? n : NAME_SCAN;
	const char *colon;

	while (i < n && is_blank(s[i]))
		i++;
	colon = memchr(s + i, ':', lim > i ? lim - i : 0);
	if (colon == NULL)
		return NULL;
	const char *a = s + i, *b = colon;
	*star = 0;
	while (a < b && (*a == '*' || is_blank(*a)))
		*star |= *a++ == '*';
	while (b > a && (b[-1] == '*' || is_blank(b[-1])))
		b--;
	if (a == b)
		return NULL;
	if (rawname) {
		*rawname = a;
		*rawlen = (size_t)(b - a);
	}
	fold(a, (size_t)(b - a), name, nsz);
	return colon + 1;
}

static int
is_header_name(const char *folded)
{
	return strcmp(folded, "formulario") == 0 || strcmp(folded, "form") == 0;
}

/* The kind named by the value of a "Formulario:" line, or -1. */
static long
header_kind(const struct form_set *fs, const char *v, size_t n, unsigned *langs)
{
	char fv[256];

	fold(v, n, fv, sizeof fv);
	for (size_t i = 0; i < fs->n; i++)
		if (strcmp(fv, fs->defs[i]->kfold) == 0) {
			*langs = 0;
			return (long)i;
		}
	return keyword_best(fs, fv, langs);
}

const struct form_def *
form_detect(const struct form_set *fs, const char *subject, const char *body)
{
	char name[NAME_SCAN + 1];
	unsigned langs;
	long k;

	if (fs == NULL)
		return NULL;
	for (const char *p = body; p != NULL && *p;) {
		const char *nl = strchr(p, '\n');
		size_t n = nl ? (size_t)(nl - p) : strlen(p);
		int star;
		const char *v = split_name(p, n, name, sizeof name, NULL, NULL, &star);
		if (v != NULL && is_header_name(name)) {
			size_t vn = n - (size_t)(v - p);
			if (vn > 200)
				vn = 200;
			if ((k = header_kind(fs, v, vn, &langs)) >= 0)
				return fs->defs[k];
		}
		p = nl ? nl + 1 : NULL;
	}
	if (subject != NULL) {
		char fsub[2048];
		fold(subject, strlen(subject), fsub, sizeof fsub);
		if ((k = keyword_best(fs, fsub, &langs)) >= 0)
			return fs->defs[k];
	}
	return NULL;
}

/* ----------------------------------------------------------------- parsing */

enum { CUR_NONE = -1, CUR_DISCARD = -2 };

struct pstate {
	const struct form_def *fd;
	const struct form_lookup *lk;
	struct form_record *r;
	size_t errcap;
	int oom;
	int *seen;			/* per field: line it was given on, 0 if not */
	int *empty;			/* per field: line it was given empty on */
	unsigned char *bad;		/* per field: an error was reported */
	long cur;			/* field being filled, or CUR_* */
	int cur_line;
	struct textbuf val;
	int overflow;
	int votes[NLANG];
	unsigned hint;
	int region;			/* a known field was seen */
	unsigned budget;		/* typo suggestions left */
};

static void
add_error(struct pstate *ps, enum form_error_code code, long field, const char *given,
    const char *suggestion, const char *detail, int line)
{
	struct form_record *r = ps->r;

	if (field >= 0)
		ps->bad[field] = 1;
	if (r->nerrors >= MAX_ERRORS)
		return;
	if (r->nerrors == ps->errcap) {
		size_t nc = ps->errcap ? ps->errcap * 2 : 8;
		struct form_error *ne = realloc(r->errors, nc * sizeof *ne);
		if (ne == NULL) {
			ps->oom = 1;
			return;
		}
		r->errors = ne;
		ps->errcap = nc;
	}
	struct form_error *fe = &r->errors[r->nerrors++];
	memset(fe, 0, sizeof *fe);
	fe->code = code;
	fe->field = field >= 0 ? ps->fd->fields[field].name : NULL;
	copy_given(fe->given, sizeof fe->given, given ? given : "");
	str_copy(fe->suggestion, suggestion ? suggestion : "", sizeof fe->suggestion);
	str_copy(fe->detail, detail ? detail : "", sizeof fe->detail);
	fe->line = line;
}

static void
finish_value(struct pstate *ps)
{
	long fi = ps->cur;
	char *v = ps->val.p;

	ps->cur = CUR_NONE;
	if (fi < 0) {
		textbuf_truncate(&ps->val, 0);
		ps->overflow = 0;
		return;
	}
	const struct field *f = &ps->fd->fields[fi];
	int line = ps->cur_line;
	if (v == NULL || ps->val.len == 0) {
		ps->empty[fi] = line;
		goto out;
	}
	trim_inplace(v);
	if (sanitize(v, f->type == FT_LONGTEXT || f->type == FT_LIST) < 0) {
		add_error(ps, FE_BAD_VALUE, fi, "", NULL, "UTF-8", line);
		goto out;
	}
	trim_inplace(v);
	if (v[0] == '\0') {
		ps->empty[fi] = line;
		goto out;
	}
	if (ps->overflow || utf8_count(v) > f->maxlen) {
		char d[32];
		snprintf(d, sizeof d, "%zu", f->maxlen);
		add_error(ps, FE_TOO_LONG, fi, v, NULL, d, line);
		goto out;
	}
	struct verr ve = { .n = 0 };
	char *norm = validate_one(f, f->type, v, ps->lk, &ve);
	if (ve.oom) {
		ps->oom = 1;
		free(norm);
		goto out;
	}
	if (norm == NULL) {
		for (size_t i = 0; i < ve.n; i++)
			add_error(ps, ve.e[i].code, fi, ve.e[i].given, NULL, ve.e[i].detail, line);
		goto out;
	}
	if (norm[0] == '\0') {
		free(norm);
		ps->empty[fi] = line;
		goto out;
	}
	struct form_value *fv = &ps->r->values[ps->r->nvalues++];
	fv->field = f->name;
	fv->value = norm;
	fv->line = line;
out:
	textbuf_truncate(&ps->val, 0);
	ps->overflow = 0;
}

static void
append_value(struct pstate *ps, const char *s, size_t n, const char *sep)
{
	const struct field *f = &ps->fd->fields[ps->cur];
	size_t limit = f->maxlen * 4 + 16;

	if (ps->overflow)
		return;
	if (ps->val.len + n + 1 > limit) {
		ps->overflow = 1;
		return;
	}
	if ((ps->val.len > 0 && sep && textbuf_adds(&ps->val, sep)) || textbuf_add(&ps->val, s, n))
		ps->oom = 1;
}

/* The nearest alias to a folded unknown name, if close enough. */
static const char *
suggest(struct pstate *ps, const char *name)
{
	const struct form_def *fd = ps->fd;
	size_t nl = strlen(name), bestd = SIZE_MAX;
	const char *best = NULL;
	int best_seen = 1;

	if (ps->budget == 0 || nl < 4 || nl > 64)
		return NULL;
	ps->budget--;
	for (size_t i = 0; i < fd->nalias; i++) {
		const struct alias_ent *a = &fd->alias[i];
		size_t m = nl < a->len ? nl : a->len;
		size_t t = m < 4 ? 0 : m <= 5 ? 1 : m <= 9 ? 2 : 3;
		size_t diff = nl > a->len ? nl - a->len : a->len - nl;
		if (t == 0 || diff > t)
			continue;
		size_t d = edit_distance(name, nl, a->folded, a->len);
		int seen = ps->seen[a->field] != 0;
		if (d <= t && (d < bestd || (d == bestd && best_seen && !seen))) {
			bestd = d;
			best = a->orig;
			best_seen = seen;
		}
	}
	return best;
}

/* Could "Name" (raw, before the colon) be meant as a field name? */
static int
name_shaped(const char *raw, size_t n, const char *folded, const char *value)
{
	size_t words = 1;

	if (n < 2 || n > UNKNOWN_MAX || value[0] == '/')
		return 0;
	if (!(is_alpha(folded[0]) || (unsigned char)folded[0] >= 0x80))
		return 0;
	for (const char *c = folded; *c; c++) {
		unsigned char u = (unsigned char)*c;
		if (u == ' ')
			words++;
		else if (!(is_alpha(u) || u >= 0x80 || u == '.' || u == '(' || u == ')' ||
		    u == '/' || u == '\''))
			return 0;
	}
	return words <= 5;
}

static const struct alias_ent *
find_alias(const struct form_def *fd, const char *folded)
{
	struct alias_ent key = { .folded = (char *)folded };

	return bsearch(&key, fd->alias, fd->nalias, sizeof *fd->alias, alias_cmp);
}

static int
has_bytes(const char *s, size_t n, const char *w)
{
	size_t wl = strlen(w);

	for (size_t i = 0; i + wl <= n; i++)
		if (memcmp(s + i, w, wl) == 0)
			return 1;
	return 0;
}

/* The languages a "Formulario: X" line hints at. */
static unsigned
header_hint(const struct form_def *fd, const char *rawname, size_t rawlen, const char *v,
    size_t vn)
{
	char fv[256];
	unsigned h = 0;

	fold(v, vn, fv, sizeof fv);
	for (int l = 0; l < NLANG; l++)
		for (size_t k = 0; k < fd->subjfold[l].n; k++) {
			const char *w = fd->subjfold[l].v[k];
			const char *p = strstr(fv, w);
			size_t wl = strlen(w);
			if (p != NULL && (p == fv || !is_word_byte((unsigned char)p[-1])) &&
			    !is_word_byte((unsigned char)p[wl]))
				h |= 1u << l;
		}
	if (h == 0 || (h & (h - 1)) != 0) {
		/* the word itself: "Form" (en), "Formulário" (pt), "Formulario" (es) */
		unsigned w = rawlen == 4 ? 1u << L_EN :
		    has_bytes(rawname, rawlen, "\xc3\xa1") ? 1u << L_PT : 1u << L_ES;
		h = h & w ? w : h ? h : w;
	}
	return h;
}

static void
pick_lang(struct pstate *ps)
{
	int max = 0;
	unsigned cand = 0;

	for (int l = 0; l < NLANG; l++)
		if (ps->votes[l] > max)
			max = ps->votes[l];
	for (int l = 0; l < NLANG; l++)
		if (max > 0 && ps->votes[l] == max)
			cand |= 1u << l;
	if (cand == 0)
		cand = ps->hint;
	else if ((cand & (cand - 1)) != 0 && (cand & ps->hint) != 0)
		cand &= ps->hint;
	ps->r->lang[0] = '\0';
	if (cand != 0 && (cand & (cand - 1)) == 0)
		for (int l = 0; l < NLANG; l++)
			if (cand == 1u << l)
				memcpy(ps->r->lang, lang_names[l], 3);
}

static void
parse_line(struct pstate *ps, const char *s, size_t n, int lineno)
{
	const struct form_def *fd = ps->fd;
	char name[NAME_SCAN + 1];
	const char *rawname = NULL, *v;
	size_t rawlen = 0, i = 0;
	int star = 0;
	int indented = n > 0 && is_blank(s[0]);

	while (i < n && is_blank(s[i]))
		i++;
	int blank = i == n;
	long cur = ps->cur;
	int in_long = cur >= 0 && fd->fields[cur].type == FT_LONGTEXT;

	v = split_name(s, n, name, sizeof name, &rawname, &rawlen, &star);
	if (v != NULL) {
		size_t vn = n - (size_t)(v - s);
		const char *vs = trim_span(v, &vn);
		if (star)
			while (vn > 0 && *vs == '*') {
				vs++;
				vn--;
			}
		vs = trim_span(vs, &vn);
		if (is_header_name(name)) {
			finish_value(ps);
			if (ps->hint == 0)
				ps->hint = header_hint(fd, rawname, rawlen, vs, vn);
			return;
		}
		const struct alias_ent *a = find_alias(fd, name);
		char *paren = strstr(name, " (");
		if (a == NULL && paren != NULL && name[strlen(name) - 1] == ')') {
			/* "Próximos pasos (opcional):" */
			*paren = '\0';
			a = find_alias(fd, name);
			*paren = ' ';
		}
		if (a != NULL) {
			finish_value(ps);
			ps->region = 1;
			for (int l = 0; l < NLANG; l++)
				if (a->langs & (1u << l))
					ps->votes[l]++;
			if (ps->seen[a->field]) {
				char given[NAME_SCAN + 1];
				snprintf(given, sizeof given, "%.*s", (int)rawlen, rawname);
				add_error(ps, FE_DUPLICATE, (long)a->field, given, NULL, "", lineno);
				ps->cur = CUR_DISCARD;
				return;
			}
			ps->seen[a->field] = lineno;
			ps->cur = (long)a->field;
			ps->cur_line = lineno;
			textbuf_truncate(&ps->val, 0);
			if (vn > 0)
				append_value(ps, vs, vn, NULL);
			return;
		}
		if (!indented && name_shaped(rawname, rawlen, name, v)) {
			int can = ps->r->nerrors < MAX_ERRORS && !(in_long && ps->overflow);
			const char *sugg = can ? suggest(ps, name) : NULL;
			if (sugg != NULL || (!in_long && ps->region && vn > 0)) {
				char given[NAME_SCAN + 1];
				finish_value(ps);
				snprintf(given, sizeof given, "%.*s", (int)rawlen, rawname);
				add_error(ps, FE_UNKNOWN_FIELD, -1, given, sugg, "", lineno);
				ps->cur = CUR_DISCARD;
				return;
			}
		}
	}
	/* plain text */
	if (cur == CUR_DISCARD) {
		if (!indented || blank)
			ps->cur = CUR_NONE;
	} else if (in_long) {
		size_t m = n - i;
		const char *t = trim_span(s + i, &m);
		if (ps->val.len == 0 && m == 0)
			return;
		if (ps->val.len > 0)
			append_value(ps, "\n", 1, NULL);
		append_value(ps, t, m, NULL);
	} else if (cur >= 0) {
		if (blank) {
			finish_value(ps);
		} else if (indented || ps->val.len == 0) {
			size_t m = n - i;
			const char *t = trim_span(s + i, &m);
			append_value(ps, t, m, fd->fields[cur].type == FT_LIST ? "\n" : " ");
		} else {
			finish_value(ps);
		}
	}
}

/* A required field with "unless = OTHER" may be left out when OTHER was given. */
static int
given_instead(const struct form_record *r, const struct form_def *fd, const struct field *f)
{
	const struct field *o = f->unless ? find_field(fd, f->unless) : NULL;

	if (o == NULL)
		return 0;
	for (size_t k = 0; k < r->nvalues; k++)
		if (r->values[k].field == o->name)
			return 1;
	return 0;
}

struct form_record *
form_parse(const struct form_def *fd, const char *body, const struct form_lookup *lk,
    struct err *e)
{
	struct pstate ps = { .fd = fd, .lk = lk, .cur = CUR_NONE, .budget = SUGGEST_BUDGET };
	struct form_record *r;
	int lineno = 0;

	if (fd == NULL) {
		err_set(e, "form_parse: no form");
		return NULL;
	}
	if ((r = calloc(1, sizeof *r)) == NULL)
		goto oom;
	ps.r = r;
	r->def = fd;
	r->values = calloc(fd->nfields ? fd->nfields : 1, sizeof *r->values);
	ps.seen = calloc(fd->nfields + 1, sizeof *ps.seen);
	ps.empty = calloc(fd->nfields + 1, sizeof *ps.empty);
	ps.bad = calloc(fd->nfields + 1, 1);
	if (r->values == NULL || ps.seen == NULL || ps.empty == NULL || ps.bad == NULL)
		goto oom;
	for (const char *p = body ? body : ""; *p && !ps.oom;) {
		const char *nl = strchr(p, '\n');
		size_t n = nl ? (size_t)(nl - p) : strlen(p);
		size_t m = n;
		while (m > 0 && p[m - 1] == '\r')
			m--;
		parse_line(&ps, p, m, ++lineno);
		p = nl ? nl + 1 : p + n;
	}
	finish_value(&ps);
	for (size_t i = 0; i < fd->nfields; i++) {
		const struct field *f = &fd->fields[i];
		int have = 0;
		for (size_t k = 0; k < r->nvalues; k++)
			if (r->values[k].field == f->name)
				have = 1;
		if (f->required && !have && !ps.bad[i] && !given_instead(r, fd, f))
			add_error(&ps, FE_MISSING, (long)i, "", NULL, "", ps.empty[i]);
	}
	if (ps.oom)
		goto oom;
	pick_lang(&ps);
	textbuf_free(&ps.val);
	free(ps.seen);
	free(ps.empty);
	free(ps.bad);
	return r;
oom:
	textbuf_free(&ps.val);
	free(ps.seen);
	free(ps.empty);
	free(ps.bad);
	form_record_free(r);
	err_set(e, "out of memory");
	return NULL;
}

void
form_record_free(struct form_record *r)
{
	if (r == NULL)
		return;
	for (size_t i = 0; i < r->nvalues; i++)
		free(r->values[i].value);
	free(r->values);
	free(r->errors);
	free(r);
}

const char *
form_record_get(const struct form_record *r, const char *field)
{
	if (r == NULL || field == NULL)
		return NULL;
	for (size_t i = 0; i < r->nvalues; i++)
		if (strcmp(r->values[i].field, field) == 0)
			return r->values[i].value;
	return NULL;
}

/* ----------------------------------------------------------------- output */

static const char *
example_l(const struct field *f, int l)
{
	return l >= 0 && f->example[l] ? f->example[l] : f->example[L_ES];
}

char *
form_example(const struct form_def *fd, const char *lang)
{
	static const char *const header[NLANG] = { "Formulario", "Formul\xc3\xa1rio", "Form" };
	int l = lang_index(lang);
	struct textbuf b = { 0 };
	int bad = 0;

	if (fd == NULL)
		return NULL;
	if (l < 0)
		l = L_ES;
	const struct strlist *kw = fd->subject[l].n ? &fd->subject[l] : &fd->subject[L_ES];
	bad |= textbuf_adds(&b, header[l]) || textbuf_adds(&b, ": ") ||
	    textbuf_adds(&b, kw->n ? kw->v[0] : fd->kind) || textbuf_adds(&b, "\n");
	for (size_t i = 0; i < fd->nfields && !bad; i++) {
		const struct field *f = &fd->fields[i];
		bad |= textbuf_adds(&b, field_label_l(f, l)) || textbuf_adds(&b, ": ") ||
		    textbuf_adds(&b, example_l(f, l)) || textbuf_adds(&b, "\n");
	}
	if (bad) {
		textbuf_free(&b);
		return NULL;
	}
	return textbuf_take(&b);
}

static void
choices_text(const struct field *f, int l, struct textbuf *b, int *bad)
{
	for (size_t i = 0; i < f->nchoices; i++) {
		const struct choice *c = &f->choices[i];
		const char *label = c->syn[l].n ? c->syn[l].v[0] : c->value;
		*bad |= (i > 0 && textbuf_adds(b, ", ")) || textbuf_adds(b, label);
	}
}

char *
form_error_text(const struct form_set *fs, const struct form_def *fd,
    const struct form_error *fe, const char *lang)
{
	int l = lang_index(lang);
	const struct catalog *cat;
	const struct field *f;
	const char *text = NULL;
	char key[64];
	struct textbuf b = { 0 };
	int bad = 0;

	if (fs == NULL || fe == NULL || (unsigned)fe->code >= NCODES)
		return NULL;
	if (l < 0 || !fs->cat[l].loaded)
		l = L_ES;
	cat = &fs->cat[l];
	f = find_field(fd, fe->field);
	if (fe->code == FE_UNKNOWN_FIELD && fe->suggestion[0] != '\0') {
		snprintf(key, sizeof key, "%s.suggestion", code_names[fe->code]);
		text = catalog_get(cat, key);
	}
	if (text == NULL && f != NULL) {
		snprintf(key, sizeof key, "%s.%s", code_names[fe->code], type_name(f));
		text = catalog_get(cat, key);
	}
	if (text == NULL)
		text = catalog_get(cat, code_names[fe->code]);
	if (text == NULL)
		text = code_names[fe->code];
	for (const char *p = text; *p && !bad;) {
		const char *open = strchr(p, '{'), *close;
		if (open == NULL || (close = strchr(open, '}')) == NULL) {
			bad |= textbuf_adds(&b, p);
			break;
		}
		bad |= textbuf_add(&b, p, (size_t)(open - p));
		size_t nl = (size_t)(close - open - 1);
		const char *nm = open + 1;
		char num[16];
#define IS(s) (nl == strlen(s) && strncmp(nm, s, nl) == 0)
		if (IS("field"))
			bad |= textbuf_adds(&b, f ? field_label_l(f, l) : fe->field ? fe->field : fe->given);
		else if (IS("given"))
			bad |= textbuf_adds(&b, fe->given);
		else if (IS("suggestion"))
			bad |= textbuf_adds(&b, fe->suggestion);
		else if (IS("detail"))
			bad |= textbuf_adds(&b, fe->detail);
		else if (IS("example"))
			bad |= textbuf_adds(&b, f ? example_l(f, l) : "");
		else if (IS("choices")) {
			if (f != NULL)
				choices_text(f, l, &b, &bad);
		} else if (IS("line")) {
			snprintf(num, sizeof num, "%d", fe->line);
			bad |= textbuf_adds(&b, num);
		} else {
			bad |= textbuf_add(&b, open, nl + 2);
		}
#undef IS
		p = close + 1;
	}
	if (bad) {
		textbuf_free(&b);
		return NULL;
	}
	return textbuf_take(&b);
}
