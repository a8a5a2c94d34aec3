#include "buildconf.h"

#define _POSIX_C_SOURCE 200809L	/* strcasecmp, strdup */

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <libical/ical.h>

#include "csv.h"
#include "roster.h"
#include "text.h"

#define MAX_FILE_SIZE	(16u << 20)	/* a roster of a few hundred cities is a few KiB */
#define MAX_DIAG	100		/* problems written to diag per file; all are counted */
#define MAX_TEXT	200		/* bytes of a name or title */
#define MAX_EMAIL	254
#define MAX_SLUG	64
#define MAX_TZ		64

enum kind { K_CITIES, K_UNITS };

static const char *const cities_header[] = {
	"city", "country", "lang", "timezone", "role_title", "contact_email"
};
static const char *const units_header[] = {
	"slug", "name_es", "name_pt", "coordinator_city", "subcoordinator_city"
};
#define NCITY_COLS (sizeof cities_header / sizeof cities_header[0])
#define NUNIT_COLS (sizeof units_header / sizeof units_header[0])

/* The countries of the network, with their Spanish names. Others get a NULL name. */
static const struct {
	const char code[3];
	const char *name;
} country_names[] = {
	{ "AR", "Argentina" }, { "BR", "Brasil" }, { "UY", "Uruguay" },
	{ "PY", "Paraguay" }, { "CL", "Chile" }, { "BO", "Bolivia" },
	{ "VE", "Venezuela" }, { "EC", "Ecuador" }, { "PE", "Perú" },
	{ "CO", "Colombia" },
};

/* --- a small set of strings, to find duplicates within one file */

struct seen_entry {
	char *key;
	int line;
};

struct seen {
	struct seen_entry *v;
	size_t cap, n;
};

static uint64_t
hash_str(const char *s)
{
	uint64_t h = 1469598103934665603u;	/* FNV-1a */

	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= 1099511628211u;
	}
	return h;
}

/* 1: added; 0: already there (*prev gets its line); -1: out of memory. */
static int
seen_add(struct seen *set, const char *key, int line, int *prev)
{
	if (2 * (set->n + 1) > set->cap) {
		size_t cap = set->cap ? set->cap * 2 : 64;
		struct seen_entry *v = calloc(cap, sizeof *v);
		if (v == NULL)
			return -1;
		for (size_t i = 0; i < set->cap; i++) {
			if (set->v[i].key == NULL)
				continue;
			size_t j = hash_str(set->v[i].key) & (cap - 1);
			while (v[j].key != NULL)
				j = (j + 1) & (cap - 1);
			v[j] = set->v[i];
		}
		free(set->v);
		set->v = v;
		set->cap = cap;
	}
	size_t j = hash_str(key) & (set->cap - 1);
	while (set->v[j].key != NULL) {
		if (strcmp(set->v[j].key, key) == 0) {
			*prev = set->v[j].line;
			return 0;
		}
		j = (j + 1) & (set->cap - 1);
	}
	if ((set->v[j].key = strdup(key)) == NULL)
		return -1;
	set->v[j].line = line;
	set->n++;
	return 1;
}

static void
seen_free(struct seen *set)
{
	for (size_t i = 0; i < set->cap; i++)
		free(set->v[i].key);
	free(set->v);
	set->v = NULL;
	set->cap = set->n = 0;
}

/* --- one import */

enum {
	Q_COUNTRY, Q_CITY, Q_CONTACT,				/* cities.csv */
	Q_FIND_CITY, Q_UNIT_KIND, Q_UNIT, Q_CLEAR_ROLES, Q_MEMBER,	/* units.csv */
	Q_COUNT
};

static const char *const import_sql[Q_COUNT] = {
	[Q_COUNTRY] =
	    "INSERT INTO countries (code, name) VALUES (?1, ?2)"
	    " ON CONFLICT (code) DO UPDATE SET name = coalesce(excluded.name, countries.name)",
	[Q_CITY] =
	    "INSERT INTO cities (name, country, lang, timezone, head_title)"
	    " VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (name, country) DO UPDATE SET"
	    " lang = excluded.lang, timezone = excluded.timezone,"
	    " head_title = excluded.head_title RETURNING id",
	[Q_CONTACT] =
	    "INSERT INTO contacts (address, name, city_id, lang) VALUES (?1, ?2, ?3, ?4)"
	    " ON CONFLICT (address) DO UPDATE SET name = excluded.name,"
	    " city_id = excluded.city_id, lang = excluded.lang",
	[Q_FIND_CITY] = "SELECT id, country FROM cities WHERE name = ?1 ORDER BY country",
	[Q_UNIT_KIND] = "SELECT kind FROM units WHERE slug = ?1",
	[Q_UNIT] =
	    "INSERT INTO units (slug, kind, name_es, name_pt) VALUES (?1, 'unit', ?2, ?3)"
	    " ON CONFLICT (slug) DO UPDATE SET name_es = excluded.name_es,"
	    " name_pt = excluded.name_pt RETURNING id",
	[Q_CLEAR_ROLES] =
	    "DELETE FROM unit_members WHERE unit_id = ?1"
	    " AND role IN ('coordinator', 'subcoordinator')",
	[Q_MEMBER] =
	    "INSERT INTO unit_members (unit_id, city_id, role) VALUES (?1, ?2, ?3)"
	    " ON CONFLICT (unit_id, city_id) DO UPDATE SET role = excluded.role",
};

struct import {
	struct store *st;
	sqlite3 *db;
	const char *path;
	FILE *diag;
	int problems;
	int fatal;		/* the transaction is gone: stop at once */
	sqlite3_stmt *q[Q_COUNT];
	struct seen keys;	/* city name+country, contact address, unit slug */
};

static void problem(struct import *im, int line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* One problem with the file, as "file:line: message". */
static void
problem(struct import *im, int line, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	im->problems++;
	if (im->diag == NULL || im->problems > MAX_DIAG)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	/* Values from the file are quoted in the message: one line, no control characters. */
	for (char *p = msg; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7F)
			*p = '?';
	if (line > 0)
		fprintf(im->diag, "%s:%d: %s\n", im->path, line, msg);
	else
		fprintf(im->diag, "%s: %s\n", im->path, msg);
}

static void
stmt_done(sqlite3_stmt *s)
{
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
}

/*
 * Step a statement to its end. *id (if not NULL) gets column 0 of the first
 * row, *nrows the number of rows. A database error is a problem of the row.
 */
static int
run(struct import *im, int line, sqlite3_stmt *s, int64_t *id, int *nrows)
{
	int rc, n = 0;

	if (im->fatal)
		return -1;
	/* Never write outside the import transaction (SQLite ends it on some errors). */
	if (sqlite3_get_autocommit(im->db)) {
		problem(im, line, "database: the import transaction was aborted");
		im->fatal = 1;
		stmt_done(s);
		return -1;
	}
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		if (n == 0 && id != NULL)
			*id = sqlite3_column_int64(s, 0);
		n++;
	}
	if (rc != SQLITE_DONE) {
		problem(im, line, "database: %s", sqlite3_errmsg(im->db));
		stmt_done(s);
		return -1;
	}
	stmt_done(s);
	if (nrows != NULL)
		*nrows = n;
	return 0;
}

static int
bind_text(sqlite3_stmt *s, int i, const char *v)
{
	return v ? sqlite3_bind_text(s, i, v, -1, SQLITE_STATIC) : sqlite3_bind_null(s, i);
}

/* --- checks of single values */

static int
has_control(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7F)
			return 1;
	return 0;
}

static void
trim(char *s)
{
	size_t len = strlen(s), start = 0;

	while (len > 0 && (s[len - 1] == ' ' || s[len - 1] == '\t'))
		len--;
	while (start < len && (s[start] == ' ' || s[start] == '\t'))
		start++;
	memmove(s, s + start, len - start);
	s[len - start] = '\0';
}

/* A required one-line text: not empty, UTF-8, no control characters, not too long. */
static int
check_text(struct import *im, int line, const char *what, const char *v, size_t max)
{
	if (*v == '\0') {
		problem(im, line, "empty %s", what);
		return -1;
	}
	if (!text_utf8_valid(v, strlen(v))) {
		problem(im, line, "%s is not valid UTF-8 (save the file as UTF-8)", what);
		return -1;
	}
	if (has_control(v)) {
		problem(im, line, "%s '%s' holds a line break or control character", what, v);
		return -1;
	}
	if (strlen(v) > max) {
		problem(im, line, "%s is too long (more than %zu bytes)", what, max);
		return -1;
	}
	return 0;
}

/* A plausible address: one @, no spaces or control characters, a dot inside the domain. */
static int
email_plausible(const char *a)
{
	const char *at = strchr(a, '@');

	if (at == NULL || at == a || strchr(at + 1, '@') != NULL || strlen(a) > MAX_EMAIL)
		return 0;
	for (const char *p = a; *p; p++)
		if ((unsigned char)*p <= 0x20 || *p == 0x7F || *p == '<' || *p == '>' ||
		    *p == ',' || *p == '"')
			return 0;
	const char *dom = at + 1, *dot = strchr(dom, '.');
	size_t dlen = strlen(dom);
	if (dot == NULL || dom[0] == '.' || dom[dlen - 1] == '.' || strstr(dom, "..") != NULL)
		return 0;
	return 1;
}

/*
 * A real IANA zone, as libical knows it. The name is checked first: libical
 * builds a file name from it when it reads the system zoneinfo.
 */
static int
timezone_known(const char *tz)
{
	if (*tz == '\0' || *tz == '/' || strlen(tz) > MAX_TZ || strstr(tz, "..") != NULL)
		return 0;
	for (const char *p = tz; *p; p++)
		if (!((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
		    (*p >= '0' && *p <= '9') || *p == '/' || *p == '_' || *p == '-' || *p == '+'))
			return 0;
	return icaltimezone_get_builtin_timezone(tz) != NULL;
}

static int
slug_valid(const char *s)
{
	if (*s == '\0' || strlen(s) > MAX_SLUG)
		return 0;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '-'))
			return 0;
	return 1;
}

static const char *
country_name(const char *code)
{
	for (size_t i = 0; i < sizeof country_names / sizeof country_names[0]; i++)
		if (strcmp(country_names[i].code, code) == 0)
			return country_names[i].name;
	return NULL;
}

/* Remember key for this file; a second time is a problem. */
static int
unique_in_file(struct import *im, int line, const char *key, const char *fmt_what,
    const char *value)
{
	int prev = 0, rc = seen_add(&im->keys, key, line, &prev);

	if (rc < 0) {
		problem(im, line, "out of memory");
		im->fatal = 1;
		return -1;
	}
	if (rc == 0) {
		problem(im, line, "%s '%s' appears twice (first on line %d)", fmt_what, value, prev);
		return -1;
	}
	return 0;
}

/* --- cities.csv: city,country,lang,timezone,role_title,contact_email */

static void
import_city(struct import *im, int line, char **f)
{
	const char *city = f[0], *country = f[1], *lang = f[2], *tz = f[3];
	const char *title = f[4], *email = f[5];
	int bad = 0;

	bad |= check_text(im, line, "city", city, MAX_TEXT);
	if (*country == '\0') {
		problem(im, line, "empty country");
		bad = -1;
	} else if (strlen(country) != 2 || country[0] < 'A' || country[0] > 'Z' ||
	    country[1] < 'A' || country[1] > 'Z') {
		problem(im, line, "country '%s' is not an ISO 3166 alpha-2 code in capitals "
		    "(e.g. AR, BR, UY)", country);
		bad = -1;
	}
	if (*lang == '\0') {
		problem(im, line, "empty lang");
		bad = -1;
	} else if (strcmp(lang, "es") != 0 && strcmp(lang, "pt") != 0) {
		problem(im, line, "lang '%s' must be es or pt", lang);
		bad = -1;
	}
	if (*tz == '\0') {
		problem(im, line, "empty timezone");
		bad = -1;
	} else if (!timezone_known(tz)) {
		problem(im, line, "timezone '%s' is not a known time zone "
		    "(an IANA name such as America/Montevideo)", tz);
		bad = -1;
	}
	bad |= check_text(im, line, "role_title", title, MAX_TEXT);
	if (*email == '\0') {
		problem(im, line, "empty contact_email");
		bad = -1;
	} else if (!email_plausible(email)) {
		problem(im, line, "contact_email '%s' is not a plausible address", email);
		bad = -1;
	}
	if (bad)
		return;

	/* Duplicates within the file: the same city, or one address for two cities. */
	size_t klen = strlen(city) + strlen(email) + 8;
	char *key = malloc(klen);
	if (key == NULL) {
		problem(im, line, "out of memory");
		im->fatal = 1;
		return;
	}
	snprintf(key, klen, "c\x1f%s\x1f%s", city, country);
	bad |= unique_in_file(im, line, key, "city", city);
	snprintf(key, klen, "m\x1f%s", email);
	for (char *p = key; *p; p++)		/* addresses are unique regardless of case */
		if (*p >= 'A' && *p <= 'Z')
			*p = (char)(*p - 'A' + 'a');
	bad |= unique_in_file(im, line, key, "contact_email", email);
	free(key);
	if (bad)
		return;

	/* Store (even after problems in other rows, to find every database problem;
	 * the transaction is rolled back then). */
	sqlite3_stmt *s = im->q[Q_COUNTRY];
	int64_t city_id = 0;
	bind_text(s, 1, country);
	bind_text(s, 2, country_name(country));
	if (run(im, line, s, NULL, NULL) < 0)
		return;
	s = im->q[Q_CITY];
	bind_text(s, 1, city);
	bind_text(s, 2, country);
	bind_text(s, 3, lang);
	bind_text(s, 4, tz);
	bind_text(s, 5, title);
	if (run(im, line, s, &city_id, NULL) < 0)
		return;
	s = im->q[Q_CONTACT];
	bind_text(s, 1, email);
	bind_text(s, 2, title);
	sqlite3_bind_int64(s, 3, city_id);
	bind_text(s, 4, lang);
	run(im, line, s, NULL, NULL);
}

/* --- units.csv: slug,name_es,name_pt,coordinator_city,subcoordinator_city */

/* The id of the city of that name, 0 (with a problem) if unknown or ambiguous. */
static int64_t
find_city(struct import *im, int line, const char *what, const char *name)
{
	sqlite3_stmt *s = im->q[Q_FIND_CITY];
	char countries[64] = "";
	int64_t id = 0;
	int n = 0, rc;

	if (check_text(im, line, what, name, MAX_TEXT) < 0)
		return 0;
	bind_text(s, 1, name);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		const unsigned char *cc = sqlite3_column_text(s, 1);
		size_t len = strlen(countries);
		if (n++ == 0)
			id = sqlite3_column_int64(s, 0);
		if (len + 8 < sizeof countries)
			snprintf(countries + len, sizeof countries - len, "%s%s",
			    len ? ", " : "", cc ? (const char *)cc : "?");
	}
	if (rc != SQLITE_DONE) {
		problem(im, line, "database: %s", sqlite3_errmsg(im->db));
		stmt_done(s);
		return 0;
	}
	stmt_done(s);
	if (n == 0) {
		problem(im, line, "unknown city '%s' (import cities first)", name);
		return 0;
	}
	if (n > 1) {
		problem(im, line, "%s '%s' is ambiguous: there is one in each of %s", what,
		    name, countries);
		return 0;
	}
	return id;
}

static void
import_unit(struct import *im, int line, char **f)
{
	const char *slug = f[0], *name_es = f[1], *name_pt = f[2];
	int bad = 0;

	if (*slug == '\0') {
		problem(im, line, "empty slug");
		bad = -1;
	} else if (!slug_valid(slug)) {
		problem(im, line, "slug '%s' may only hold a-z, 0-9 and '-' "
		    "(at most %d characters)", slug, MAX_SLUG);
		bad = -1;
	}
	bad |= check_text(im, line, "name_es", name_es, MAX_TEXT);
	bad |= check_text(im, line, "name_pt", name_pt, MAX_TEXT);
	int64_t coord = find_city(im, line, "coordinator_city", f[3]);
	int64_t sub = find_city(im, line, "subcoordinator_city", f[4]);
	if (coord == 0 || sub == 0)
		bad = -1;
	else if (coord == sub) {
		problem(im, line, "'%s' cannot be both coordinator and subcoordinator", f[3]);
		bad = -1;
	}
	if (bad)
		return;

	size_t klen = strlen(slug) + 3;
	char *key = malloc(klen);
	if (key == NULL) {
		problem(im, line, "out of memory");
		im->fatal = 1;
		return;
	}
	snprintf(key, klen, "u\x1f%s", slug);
	bad = unique_in_file(im, line, key, "slug", slug);
	free(key);
	if (bad)
		return;

	/* The bodies of the network (council, board, ...) are not thematic units. */
	sqlite3_stmt *s = im->q[Q_UNIT_KIND];
	bind_text(s, 1, slug);
	int rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		const unsigned char *k = sqlite3_column_text(s, 0);
		if (k == NULL || strcmp((const char *)k, "unit") != 0) {
			problem(im, line, "'%s' is a body of the network (%s), not a thematic "
			    "unit", slug, k ? (const char *)k : "?");
			stmt_done(s);
			return;
		}
	} else if (rc != SQLITE_DONE) {
		problem(im, line, "database: %s", sqlite3_errmsg(im->db));
		stmt_done(s);
		return;
	}
	stmt_done(s);

	int64_t unit_id = 0;
	s = im->q[Q_UNIT];
	bind_text(s, 1, slug);
	bind_text(s, 2, name_es);
	bind_text(s, 3, name_pt);
	if (run(im, line, s, &unit_id, NULL) < 0)
		return;
	s = im->q[Q_CLEAR_ROLES];
	sqlite3_bind_int64(s, 1, unit_id);
	if (run(im, line, s, NULL, NULL) < 0)
		return;
	s = im->q[Q_MEMBER];
	sqlite3_bind_int64(s, 1, unit_id);
	sqlite3_bind_int64(s, 2, coord);
	bind_text(s, 3, "coordinator");
	if (run(im, line, s, NULL, NULL) < 0)
		return;
	sqlite3_bind_int64(s, 1, unit_id);
	sqlite3_bind_int64(s, 2, sub);
	bind_text(s, 3, "subcoordinator");
	run(im, line, s, NULL, NULL);
}

/* --- the file */

static char *
read_file(const char *path, size_t *len, struct err *e)
{
	FILE *fp = fopen(path, "rb");
	char *buf = NULL;
	size_t cap = 0, n = 0;

	if (fp == NULL) {
		err_set(e, "%s: %s", path, strerror(errno));
		return NULL;
	}
	for (;;) {
		if (n == cap) {
			if (cap >= MAX_FILE_SIZE) {
				err_set(e, "%s: too large for a roster (over %u MiB)", path,
				    MAX_FILE_SIZE >> 20);
				goto fail;
			}
			cap = cap ? cap * 2 : 64 * 1024;
			char *p = realloc(buf, cap);
			if (p == NULL) {
				err_set(e, "%s: out of memory", path);
				goto fail;
			}
			buf = p;
		}
		size_t r = fread(buf + n, 1, cap - n, fp);
		n += r;
		if (r == 0) {
			if (ferror(fp)) {
				err_set(e, "%s: read error: %s", path, strerror(errno));
				goto fail;
			}
			break;
		}
	}
	fclose(fp);
	*len = n;
	return buf;
fail:
	fclose(fp);
	free(buf);
	return NULL;
}

static int
header_is(char **f, size_t nf, const char *const *want, size_t nwant)
{
	if (nf != nwant)
		return 0;
	for (size_t i = 0; i < nf; i++) {
		trim(f[i]);
		if (strcasecmp(f[i], want[i]) != 0)
			return 0;
	}
	return 1;
}

static void
csv_problem(struct import *im, int line, const struct err *ce)
{
	/* The reader says "line N: what"; make it "file:N: what". */
	const char *m = ce->msg;
	int l = line;

	if (strncmp(m, "line ", 5) == 0) {
		char *end;
		long v = strtol(m + 5, &end, 10);
		if (end != m + 5 && strncmp(end, ": ", 2) == 0 && v > 0 && v <= INT32_MAX) {
			l = (int)v;
			m = end + 2;
		}
	}
	problem(im, l, "%s", m);
}

int
roster_import_file(struct store *st, const char *path, FILE *diag, struct err *e)
{
	struct import im = { .st = st, .db = store_db(st), .path = path, .diag = diag };
	struct csv *c = NULL;
	struct err ce;
	char *buf = NULL, **f;
	size_t len = 0, nf, ncols;
	enum kind kind;
	int line, rc, rows = 0, in_tx = 0;

	if ((buf = read_file(path, &len, e)) == NULL)
		return -1;
	if ((c = csv_open_buf(buf, len)) == NULL) {
		err_set(e, "%s: out of memory", path);
		goto fail;
	}

	/* The header line tells the kind of file. */
	rc = csv_next(c, &f, &nf, &line, &ce);
	if (rc <= 0) {
		if (rc == 0)
			problem(&im, 0, "empty file (expected a header line: %s or %s)",
			    "city,country,lang,timezone,role_title,contact_email",
			    "slug,name_es,name_pt,coordinator_city,subcoordinator_city");
		else
			csv_problem(&im, line, &ce);
		err_set(e, "%s: no header line, nothing imported", path);
		goto fail;
	}
	if (header_is(f, nf, cities_header, NCITY_COLS)) {
		kind = K_CITIES;
		ncols = NCITY_COLS;
	} else if (header_is(f, nf, units_header, NUNIT_COLS)) {
		kind = K_UNITS;
		ncols = NUNIT_COLS;
	} else {
		problem(&im, line, "unknown header: expected "
		    "'city,country,lang,timezone,role_title,contact_email' (cities) or "
		    "'slug,name_es,name_pt,coordinator_city,subcoordinator_city' (units)");
		err_set(e, "%s: unknown header, nothing imported", path);
		goto fail;
	}

	for (int i = 0; i < Q_COUNT; i++) {
		if (sqlite3_prepare_v2(im.db, import_sql[i], -1, &im.q[i], NULL) != SQLITE_OK) {
			err_set(e, "%s: prepare: %s", path, sqlite3_errmsg(im.db));
			goto fail;
		}
	}
	if (store_begin(st, e) < 0) {
		err_wrap(e, "%s", path);
		goto fail;
	}
	in_tx = 1;

	while (!im.fatal && (rc = csv_next(c, &f, &nf, &line, &ce)) != 0) {
		if (rc < 0) {
			csv_problem(&im, line, &ce);
			continue;
		}
		rows++;
		if (nf != ncols) {
			problem(&im, line, "%zu columns, expected %zu (%s)", nf, ncols,
			    kind == K_CITIES
			    ? "city,country,lang,timezone,role_title,contact_email"
			    : "slug,name_es,name_pt,coordinator_city,subcoordinator_city");
			continue;
		}
		for (size_t i = 0; i < nf; i++)
			trim(f[i]);
		if (kind == K_CITIES)
			import_city(&im, line, f);
		else
			import_unit(&im, line, f);
	}

	if (im.problems > MAX_DIAG && diag != NULL)
		fprintf(diag, "%s: %d more problems not shown\n", path, im.problems - MAX_DIAG);
	if (im.problems > 0) {
		err_set(e, "%s: %d problem%s, nothing imported", path, im.problems,
		    im.problems == 1 ? "" : "s");
		goto fail;
	}

	char detail[64];
	snprintf(detail, sizeof detail, "%d rows (%s)", rows,
	    kind == K_CITIES ? "cities" : "units");
	if (store_audit(st, time(NULL), "cli", "roster.import", path, detail, e) < 0 ||
	    store_commit(st, e) < 0) {
		err_wrap(e, "%s", path);
		goto fail;
	}
	in_tx = 0;

	for (int i = 0; i < Q_COUNT; i++)
		sqlite3_finalize(im.q[i]);
	seen_free(&im.keys);
	csv_free(c);
	free(buf);
	return rows;
fail:
	if (in_tx)
		store_rollback(st);
	for (int i = 0; i < Q_COUNT; i++)
		sqlite3_finalize(im.q[i]);
	seen_free(&im.keys);
	csv_free(c);
	free(buf);
	return -1;
}

/* --- listing */

/* Print s and pad to width characters (UTF-8 aware). */
static void
put_padded(FILE *out, const char *s, int width)
{
	int n = 0;

	for (const char *p = s; *p; p++)
		if (((unsigned char)*p & 0xC0) != 0x80)
			n++;
	fputs(s, out);
	for (; n < width; n++)
		fputc(' ', out);
}

static const char *
col_text(sqlite3_stmt *s, int i, const char *dflt)
{
	const unsigned char *t = sqlite3_column_text(s, i);
	return t ? (const char *)t : dflt;
}

enum { L_CITIES, L_CONTACTS, L_ORPHANS, L_UNITS, L_MEMBERS, L_COUNT };

static const char *const list_sql[L_COUNT] = {
	[L_CITIES] =
	    "SELECT co.code, co.name, ci.id, ci.name, ci.lang, ci.timezone,"
	    " (SELECT count(*) FROM cities x WHERE x.country = co.code)"
	    " FROM countries co LEFT JOIN cities ci ON ci.country = co.code"
	    " ORDER BY co.code, ci.name",
	[L_CONTACTS] = "SELECT address, name FROM contacts WHERE city_id = ?1 ORDER BY address",
	[L_ORPHANS] = "SELECT address, name, lang FROM contacts WHERE city_id IS NULL"
	    " ORDER BY address",
	[L_UNITS] =
	    "SELECT id, slug, kind, name_es, name_pt FROM units"
	    " ORDER BY kind = 'unit', slug",
	[L_MEMBERS] =
	    "SELECT m.role, c.name, c.country FROM unit_members m"
	    " JOIN cities c ON c.id = m.city_id WHERE m.unit_id = ?1"
	    " ORDER BY CASE m.role WHEN 'coordinator' THEN 0"
	    " WHEN 'subcoordinator' THEN 1 ELSE 2 END, c.name",
};

/* One line per role: "coordinator: Montevideo (UY)". */
static int
list_members(sqlite3_stmt *s, FILE *out, int64_t unit_id)
{
	char role[16] = "";
	int rc;

	sqlite3_bind_int64(s, 1, unit_id);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		const char *r = col_text(s, 0, "?");
		if (strcmp(role, r) != 0) {
			fprintf(out, "%s        %s: ", role[0] ? "\n" : "", r);
			str_copy(role, r, sizeof role);
		} else {
			fputs(", ", out);
		}
		fprintf(out, "%s (%s)", col_text(s, 1, "?"), col_text(s, 2, "?"));
	}
	if (role[0])
		fputc('\n', out);
	stmt_done(s);
	return rc == SQLITE_DONE ? 0 : -1;
}

int
roster_list(struct store *st, FILE *out, struct err *e)
{
	sqlite3 *db = store_db(st);
	sqlite3_stmt *q[L_COUNT] = { NULL };
	const char *section = NULL;
	char country[8] = "";
	int rc, ret = -1;

	for (int i = 0; i < L_COUNT; i++) {
		if (sqlite3_prepare_v2(db, list_sql[i], -1, &q[i], NULL) != SQLITE_OK) {
			err_set(e, "roster: %s", sqlite3_errmsg(db));
			goto done;
		}
	}

	fputs("Countries and cities\n", out);
	while ((rc = sqlite3_step(q[L_CITIES])) == SQLITE_ROW) {
		sqlite3_stmt *s = q[L_CITIES];
		const char *code = col_text(s, 0, "??");
		if (strcmp(code, country) != 0) {
			int n = sqlite3_column_int(s, 6);
			str_copy(country, code, sizeof country);
			fprintf(out, "\n%s  %s (%d %s)\n", code, col_text(s, 1, "-"), n,
			    n == 1 ? "city" : "cities");
		}
		if (sqlite3_column_type(s, 2) == SQLITE_NULL)
			continue;		/* a country without cities */
		fputs("    ", out);
		put_padded(out, col_text(s, 3, "?"), 20);
		fprintf(out, " %s  ", col_text(s, 4, "?"));
		put_padded(out, col_text(s, 5, "?"), 31);
		int nc = 0;
		sqlite3_stmt *c = q[L_CONTACTS];
		sqlite3_bind_int64(c, 1, sqlite3_column_int64(s, 2));
		while ((rc = sqlite3_step(c)) == SQLITE_ROW)
			fprintf(out, "%s%s <%s>", nc++ ? ", " : " ", col_text(c, 1, ""),
			    col_text(c, 0, "?"));
		stmt_done(c);
		if (rc != SQLITE_DONE)
			goto db_fail;
		fputs(nc ? "\n" : " (no contact)\n", out);
	}
	if (rc != SQLITE_DONE)
		goto db_fail;
	if (country[0] == '\0')
		fputs("\n    (none: import a cities file)\n", out);

	int norphans = 0;
	while ((rc = sqlite3_step(q[L_ORPHANS])) == SQLITE_ROW) {
		sqlite3_stmt *s = q[L_ORPHANS];
		if (norphans++ == 0)
			fputs("\nContacts without a city\n", out);
		fprintf(out, "    %s <%s> %s\n", col_text(s, 1, ""), col_text(s, 0, "?"),
		    col_text(s, 2, "?"));
	}
	if (rc != SQLITE_DONE)
		goto db_fail;

	while ((rc = sqlite3_step(q[L_UNITS])) == SQLITE_ROW) {
		sqlite3_stmt *s = q[L_UNITS];
		const char *kind = col_text(s, 2, "?");
		const char *sec = strcmp(kind, "unit") == 0 ? "Thematic units" :
		    "Bodies of the network";
		if (section != sec) {
			fprintf(out, "\n%s\n", sec);
			section = sec;
		}
		fputs("    ", out);
		put_padded(out, col_text(s, 1, "?"), 23);
		fprintf(out, " %s / %s", col_text(s, 3, "?"), col_text(s, 4, "?"));
		if (strcmp(kind, "unit") != 0)
			fprintf(out, " [%s]", kind);
		fputc('\n', out);
		if (list_members(q[L_MEMBERS], out, sqlite3_column_int64(s, 0)) < 0)
			goto db_fail;
	}
	if (rc != SQLITE_DONE)
		goto db_fail;

	if (fflush(out) != 0 || ferror(out)) {
		err_set(e, "roster: write error: %s", strerror(errno));
		goto done;
	}
	ret = 0;
	goto done;
db_fail:
	err_set(e, "roster: %s", sqlite3_errmsg(db));
done:
	for (int i = 0; i < L_COUNT; i++)
		sqlite3_finalize(q[i]);
	return ret;
}
