#include "buildconf.h"

/*
 * feed — /feeds/ (*.ics) (see feed.h). Everything here runs in the HTTP thread
 * of libmicrohttpd (one thread: MHD_USE_INTERNAL_POLLING_THREAD without a
 * pool), so the cache needs no lock.
 *
 * Speed: a feed is built once (SQL, libical, SHA-256) into two ready
 * MHD_Response objects, 200 and 304, that every request for it shares
 * (MHD counts their references, so an evicted entry's response lives on
 * until the last connection that sends it is done). A request then costs a
 * PRAGMA data_version, a look at the cache and the header comparison.
 */

#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L	/* strdup, gmtime_r */
#endif

#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <sqlite3.h>

#include "feed.h"
#include "ical.h"
#include "log.h"

#define CACHE_MAX	64		/* feeds kept built; least recently used goes first */
#define REBUILD_MAX	86400		/* rebuild a cached feed at least daily (clock jumps) */
#define BUSY_MS		2000
#define DAY		86400

static const char calendar_type[] = "text/calendar; charset=utf-8";
static const char not_found[] = "not found\n";
static const char unavailable[] = "feeds unavailable\n";

struct entry {
	char key[112];			/* "unit/cultura"; "" when free */
	int stale;			/* the database changed since the build */
	time_t valid_until;		/* the window moves over a meeting then */
	unsigned long used;		/* for LRU */
	int private_;
	char (*tokens)[FEED_TOKEN_LEN + 1];
	size_t ntokens;
	char etag[68];			/* "\"<64 hex>\"" */
	time_t lm;			/* Last-Modified */
	struct MHD_Response *ok, *not_modified;
};

struct feed {
	char *database, *organizer, *organizer_name;
	sqlite3 *db;			/* read-only, this thread's own */
	sqlite3_stmt *dv;		/* PRAGMA data_version */
	int64_t data_version;
	unsigned long tick;
	struct entry cache[CACHE_MAX];
	struct MHD_Response *r404, *r503;
};

/* ------------------------------------------------------------ pure parts */

/* Latin-1 supplement U+00C0..U+00FF, folded to ASCII ("" for × and ÷). */
static const char *const latin1[64] = {
	"a", "a", "a", "a", "a", "a", "ae", "c", "e", "e", "e", "e", "i", "i", "i", "i",
	"d", "n", "o", "o", "o", "o", "o", "", "o", "u", "u", "u", "u", "y", "th", "ss",
	"a", "a", "a", "a", "a", "a", "ae", "c", "e", "e", "e", "e", "i", "i", "i", "i",
	"d", "n", "o", "o", "o", "o", "o", "", "o", "u", "u", "u", "u", "y", "th", "y",
};
/* Latin Extended-A U+0100..U+017F: the base letter of each. */
static const char latin_ext_a[] =
	"aaaaaaccccccccddddeeeeeeeeeegggggggghhhhiiiiiiiiiiiijjkkklllllllllln"
	"nnnnnnnnoooooooorrrrrrsssssssstttttttuuuuuuuuuuuuwwyyyzzzzzzs";

/* One UTF-8 sequence at *p -> code point (U+FFFD for a bad one); advances *p. */
static uint32_t
next_cp(const unsigned char **p)
{
	const unsigned char *s = *p;
	uint32_t cp;
	int n;

	if (s[0] < 0x80) {
		*p = s + 1;
		return s[0];
	}
	if (s[0] >= 0xC2 && s[0] <= 0xDF) {
		n = 1;
		cp = s[0] & 0x1F;
	} else if (s[0] >= 0xE0 && s[0] <= 0xEF) {
		n = 2;
		cp = s[0] & 0x0F;
	} else if (s[0] >= 0xF0 && s[0] <= 0xF4) {
		n = 3;
		cp = s[0] & 0x07;
	} else {
		*p = s + 1;
		return 0xFFFD;
	}
	for (int i = 1; i <= n; i++) {
		if ((s[i] & 0xC0) != 0x80) {
			*p = s + i;
			return 0xFFFD;
		}
		cp = cp << 6 | (s[i] & 0x3F);
	}
	*p = s + n + 1;
	return cp;
}

void
feed_city_fold(const char *name, char *out, size_t size)
{
	const unsigned char *p = (const unsigned char *)name;
	size_t n = 0;
	int dash = 0;		/* a separator is due before the next letter */
	char one[2] = "";
	const char *add;

	if (size == 0)
		return;
	while (*p) {
		uint32_t cp = next_cp(&p);

		if (cp < 0x80 && isalnum((int)cp)) {
			one[0] = (char)tolower((int)cp);
			add = one;
		} else if (cp >= 0xC0 && cp <= 0xFF) {
			add = latin1[cp - 0xC0];
		} else if (cp >= 0x100 && cp <= 0x17F) {
			one[0] = latin_ext_a[cp - 0x100];
			add = one;
		} else {
			add = "";
		}
		if (*add == '\0') {
			dash = n > 0;
			continue;
		}
		if (dash && n + 1 < size)
			out[n++] = '-';
		dash = 0;
		for (; *add && n + 1 < size; add++)
			out[n++] = *add;
	}
	out[n] = '\0';
}

static const char *const wkday[] = { "Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat" };
static const char *const weekday[] = { "Sunday", "Monday", "Tuesday", "Wednesday",
	"Thursday", "Friday", "Saturday" };
static const char *const month[] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul",
	"Aug", "Sep", "Oct", "Nov", "Dec" };

static int
name_index(const char *s, size_t len, const char *const *names, int n)
{
	for (int i = 0; i < n; i++)
		if (strlen(names[i]) == len && strncmp(s, names[i], len) == 0)
			return i;
	return -1;
}

/* n decimal digits at s (a leading space allowed when sp): the value, or -1. */
static int
digits(const char *s, int n, int sp)
{
	int v = 0;

	for (int i = 0; i < n; i++) {
		if (sp && i == 0 && s[i] == ' ' && n > 1)
			continue;
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v;
}

/* "HH:MM:SS" at s into tm; -1 if malformed. */
static int
clock_of(const char *s, struct tm *tm)
{
	if (s[2] != ':' || s[5] != ':')
		return -1;
	tm->tm_hour = digits(s, 2, 0);
	tm->tm_min = digits(s + 3, 2, 0);
	tm->tm_sec = digits(s + 6, 2, 0);
	if (tm->tm_hour < 0 || tm->tm_hour > 23 || tm->tm_min < 0 || tm->tm_min > 59 ||
	    tm->tm_sec < 0 || tm->tm_sec > 60)
		return -1;
	return 0;
}

static int
check_and_convert(struct tm *tm, time_t *out)
{
	static const int mdays[] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	int y = tm->tm_year + 1900;

	if (tm->tm_mday < 1 || tm->tm_mday > mdays[tm->tm_mon] || y < 1900)
		return -1;
	if (tm->tm_mon == 1 && tm->tm_mday == 29 && !(y % 4 == 0 && (y % 100 || y % 400 == 0)))
		return -1;
	if (tm->tm_sec == 60)
		tm->tm_sec = 59;	/* a leap second: the same second for our purpose */
	*out = timegm(tm);
	return *out == (time_t)-1 ? -1 : 0;
}

/* IMF-fixdate: "Sun, 06 Nov 1994 08:49:37 GMT" */
static int
parse_imf(const char *s, struct tm *tm)
{
	if (strlen(s) != 29 || name_index(s, 3, wkday, 7) < 0 || strncmp(s + 3, ", ", 2) != 0 ||
	    s[7] != ' ' || s[11] != ' ' || s[16] != ' ' || strcmp(s + 25, " GMT") != 0)
		return -1;
	tm->tm_mday = digits(s + 5, 2, 0);
	tm->tm_mon = name_index(s + 8, 3, month, 12);
	tm->tm_year = digits(s + 12, 4, 0) - 1900;
	if (tm->tm_mday < 0 || tm->tm_mon < 0 || tm->tm_year < 0)
		return -1;
	return clock_of(s + 17, tm);
}

/* RFC 850: "Sunday, 06-Nov-94 08:49:37 GMT"; a two-digit year more than 50
 * years ahead of now is of the century before (RFC 9110, 5.6.7). */
static int
parse_rfc850(const char *s, time_t now, struct tm *tm)
{
	const char *comma = strchr(s, ',');
	struct tm nowtm;
	int yy, y;

	if (comma == NULL || name_index(s, (size_t)(comma - s), weekday, 7) < 0)
		return -1;
	s = comma;
	if (strlen(s) != 24 || s[1] != ' ' || s[4] != '-' || s[8] != '-' || s[11] != ' ' ||
	    strcmp(s + 20, " GMT") != 0)
		return -1;
	tm->tm_mday = digits(s + 2, 2, 0);
	tm->tm_mon = name_index(s + 5, 3, month, 12);
	yy = digits(s + 9, 2, 0);
	if (tm->tm_mday < 0 || tm->tm_mon < 0 || yy < 0 || gmtime_r(&now, &nowtm) == NULL)
		return -1;
	y = (nowtm.tm_year + 1900) / 100 * 100 + yy;
	if (y > nowtm.tm_year + 1900 + 50)
		y -= 100;
	tm->tm_year = y - 1900;
	return clock_of(s + 12, tm);
}

/* asctime: "Sun Nov  6 08:49:37 1994" */
static int
parse_asctime(const char *s, struct tm *tm)
{
	if (strlen(s) != 24 || name_index(s, 3, wkday, 7) < 0 || s[3] != ' ' || s[7] != ' ' ||
	    s[10] != ' ' || s[19] != ' ')
		return -1;
	tm->tm_mon = name_index(s + 4, 3, month, 12);
	tm->tm_mday = digits(s + 8, 2, 1);
	tm->tm_year = digits(s + 20, 4, 0) - 1900;
	if (tm->tm_mday < 0 || tm->tm_mon < 0 || tm->tm_year < 0)
		return -1;
	return clock_of(s + 11, tm);
}

int
feed_parse_http_date(const char *s, time_t now, time_t *out)
{
	struct tm tm;

	memset(&tm, 0, sizeof tm);
	if (s == NULL)
		return -1;
	if (parse_imf(s, &tm) < 0) {
		memset(&tm, 0, sizeof tm);
		if (parse_rfc850(s, now, &tm) < 0) {
			memset(&tm, 0, sizeof tm);
			if (parse_asctime(s, &tm) < 0)
				return -1;
		}
	}
	return check_and_convert(&tm, out);
}

void
feed_format_http_date(time_t t, char out[30])
{
	struct tm tm;
	char buf[64];	/* the compiler cannot see that 30 is enough */

	if (gmtime_r(&t, &tm) == NULL)
		memset(&tm, 0, sizeof tm);
	snprintf(buf, sizeof buf, "%s, %02d %s %04d %02d:%02d:%02d GMT", wkday[tm.tm_wday % 7],
	    tm.tm_mday % 100, month[tm.tm_mon % 12], (tm.tm_year + 1900) % 10000,
	    tm.tm_hour % 100, tm.tm_min % 100, tm.tm_sec % 100);
	str_copy(out, buf, 30);
}

static int
etagc(unsigned char c)
{
	return c == 0x21 || (c >= 0x23 && c != 0x7F);
}

int
feed_etag_match(const char *inm, const char *etag)
{
	const char *p = inm, *q;
	size_t elen = strlen(etag);

	if (inm == NULL || elen < 2)
		return 0;
	while (*p == ' ' || *p == '\t')
		p++;
	if (*p == '*') {
		for (q = p + 1; *q == ' ' || *q == '\t'; q++)
			;
		return *q == '\0';
	}
	for (;;) {
		while (*p == ' ' || *p == '\t' || *p == ',')
			p++;
		if (*p == '\0')
			return 0;
		if (p[0] == 'W' && p[1] == '/')
			p += 2;		/* weak comparison: W/ does not matter */
		if (*p != '"')
			return 0;
		for (q = p + 1; *q != '"'; q++)
			if (!etagc((unsigned char)*q))
				return 0;
		if ((size_t)(q + 1 - p) == elen && memcmp(p, etag, elen) == 0)
			return 1;
		p = q + 1;
		while (*p == ' ' || *p == '\t')
			p++;
		if (*p != ',' && *p != '\0')
			return 0;
	}
}

static int
token_format_ok(const char *s)
{
	size_t i;

	for (i = 0; i < FEED_TOKEN_LEN; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return s[i] == '\0';
}

int
feed_token_ok(const char *given, const char (*tokens)[FEED_TOKEN_LEN + 1], size_t n)
{
	unsigned found = 0;

	/* the format is the caller's own business: no secret is looked at yet */
	if (given == NULL || !token_format_ok(given))
		return 0;
	for (size_t i = 0; i < n; i++) {
		unsigned diff = 0;

		for (size_t j = 0; j < FEED_TOKEN_LEN; j++)
			diff |= (unsigned char)given[j] ^ (unsigned char)tokens[i][j];
		/* 1 when diff is 0, without a branch on it; every token is compared */
		found |= ((diff - 1) >> 8) & 1;
	}
	return (int)found;
}

/* ----------------------------------------------------------------- scopes */

static const char *const kind_names[] = { "network", "unit", "body", "city" };

int
feed_kind_parse(const char *s)
{
	for (int i = 0; i < 4; i++)
		if (strcmp(s, kind_names[i]) == 0)
			return i;
	return -1;
}

int
feed_scope_path(const struct feed_scope *s, char *out, size_t size)
{
	int n;

	if (s->kind == FEED_NETWORK)
		n = snprintf(out, size, "/feeds/network.ics");
	else
		n = snprintf(out, size, "/feeds/%s/%s.ics", kind_names[s->kind], s->slug);
	return n < 0 || (size_t)n >= size ? -1 : n;
}

static int
db_fail(sqlite3 *db, sqlite3_stmt *st, struct err *e, const char *what)
{
	err_set(e, "feed: %s: %s", what, sqlite3_errmsg(db));
	sqlite3_finalize(st);
	return -1;
}

static const char *
col(sqlite3_stmt *st, int i)
{
	const char *s = (const char *)sqlite3_column_text(st, i);

	return s ? s : "";
}

static void
set_name(struct feed_scope *s, const char *lang, const char *es, const char *pt)
{
	int pt_ = strcmp(lang, "pt") == 0;

	str_copy(s->lang, pt_ ? "pt" : "es", sizeof s->lang);
	snprintf(s->name, sizeof s->name, "%s — %s", pt_ ? "Mercocidades" : "Mercociudades",
	    pt_ ? pt : es);
}

/* A unit or body by slug; its feed speaks the language of its coordinator city. */
static int
find_unit(sqlite3 *db, enum feed_kind kind, const char *slug, struct feed_scope *s,
    struct err *e)
{
	static const char sql[] =
	    "SELECT u.id, u.kind, u.name_es, u.name_pt, u.private,"
	    " (SELECT c.lang FROM unit_members um JOIN cities c ON c.id = um.city_id"
	    "  WHERE um.unit_id = u.id AND um.role = 'coordinator' ORDER BY c.id LIMIT 1)"
	    " FROM units u WHERE u.slug = ?1";
	sqlite3_stmt *st;
	int rc, found = 0;

	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		return db_fail(db, NULL, e, "units");
	sqlite3_bind_text(st, 1, slug, -1, SQLITE_STATIC);
	if ((rc = sqlite3_step(st)) == SQLITE_ROW &&
	    (strcmp(col(st, 1), "unit") == 0) == (kind == FEED_UNIT)) {
		found = 1;
		s->id = sqlite3_column_int64(st, 0);
		s->private_ = sqlite3_column_int(st, 4) != 0;
		str_copy(s->slug, slug, sizeof s->slug);
		set_name(s, col(st, 5), col(st, 2), col(st, 3));
	} else if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		return db_fail(db, st, e, "units");
	}
	sqlite3_finalize(st);
	return found;
}

struct city_row {
	int64_t id;
	char fold[96], cc[3], lang[3], name[160];
};

/* Every city with the slug of feed_city_fold() made unique (see feed.h). */
static void
unique_slugs(struct city_row *c, size_t n, char (*slug)[96])
{
	for (size_t i = 0; i < n; i++) {
		size_t same = 0, same_cc = 0;

		for (size_t j = 0; j < n; j++) {
			if (strcmp(c[i].fold, c[j].fold) != 0)
				continue;
			same++;
			same_cc += strcmp(c[i].cc, c[j].cc) == 0;
		}
		if (same == 1)
			snprintf(slug[i], 96, "%s", c[i].fold);
		else if (same_cc == 1)
			snprintf(slug[i], 96, "%.80s-%s", c[i].fold, c[i].cc);
		else
			snprintf(slug[i], 96, "%.60s-%s-%lld", c[i].fold, c[i].cc, (long long)c[i].id);
	}
}

static int
find_city(sqlite3 *db, const char *slug, struct feed_scope *s, struct err *e)
{
	sqlite3_stmt *st;
	struct city_row *c = NULL, *grown;
	char (*slugs)[96] = NULL;
	size_t n = 0, cap = 0;
	int rc, found = 0;

	if (sqlite3_prepare_v2(db, "SELECT id, name, lower(country), lang FROM cities ORDER BY id",
	    -1, &st, NULL) != SQLITE_OK)
		return db_fail(db, NULL, e, "cities");
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (n == cap) {
			cap = cap ? cap * 2 : 64;
			if ((grown = realloc(c, cap * sizeof *c)) == NULL)
				break;
			c = grown;
		}
		c[n].id = sqlite3_column_int64(st, 0);
		str_copy(c[n].name, col(st, 1), sizeof c[n].name);
		feed_city_fold(col(st, 1), c[n].fold, sizeof c[n].fold);
		str_copy(c[n].cc, col(st, 2), sizeof c[n].cc);
		str_copy(c[n].lang, col(st, 3), sizeof c[n].lang);
		n++;
	}
	if (rc != SQLITE_DONE) {
		free(c);
		return rc == SQLITE_ROW ? (sqlite3_finalize(st), err_set(e, "feed: out of memory"))
		    : db_fail(db, st, e, "cities");
	}
	sqlite3_finalize(st);
	if (n > 0 && (slugs = calloc(n, sizeof *slugs)) == NULL) {
		free(c);
		return err_set(e, "feed: out of memory");
	}
	unique_slugs(c, n, slugs);
	for (size_t i = 0; i < n && !found; i++) {
		if (strcmp(slugs[i], slug) != 0)
			continue;
		found = 1;
		s->id = c[i].id;
		str_copy(s->slug, slug, sizeof s->slug);
		str_copy(s->lang, strcmp(c[i].lang, "pt") == 0 ? "pt" : "es", sizeof s->lang);
		if (strcmp(s->lang, "pt") == 0)
			snprintf(s->name, sizeof s->name, "Mercocidades — reuniões de %s", c[i].name);
		else
			snprintf(s->name, sizeof s->name, "Mercociudades — reuniones de %s", c[i].name);
	}
	free(slugs);
	free(c);
	return found;
}

int
feed_scope_find(sqlite3 *db, enum feed_kind kind, const char *slug, struct feed_scope *s,
    struct err *e)
{
	memset(s, 0, sizeof *s);
	s->kind = kind;
	switch (kind) {
	case FEED_NETWORK:
		str_copy(s->lang, "es", sizeof s->lang);
		str_copy(s->name, "Mercociudades — reuniones", sizeof s->name);
		return 1;
	case FEED_UNIT:
	case FEED_BODY:
		return find_unit(db, kind, slug, s, e);
	case FEED_CITY:
		return find_city(db, slug, s, e);
	}
	return 0;
}

/* ----------------------------------------------------------- the feed body */

#define STR_(x) #x
#define STR(x) STR_(x)
#define BACK_S	STR(FEED_DAYS_BACK) " * " STR(DAY)
#define AHEAD_S	STR(FEED_DAYS_AHEAD) " * " STR(DAY)
#define KEEP_S	STR(FEED_DAYS_CANCELLED) " * " STR(DAY)

/* Which meetings belong to a scope (?2: the unit or city id). */
#define W_NETWORK	"u.private = 0"
#define W_UNIT		"m.unit_id = ?2"
#define W_CITY		"u.private = 0 AND m.id IN" \
	" (SELECT meeting_id FROM meeting_attendees WHERE city_id = ?2)"

/* In the window at ?1 = now: started less than BACK ago, starts at most AHEAD
 * from now; a cancelled one changed less than KEEP ago. Each bound flips at
 * one instant (start - AHEAD, start + BACK, changed + KEEP): TIMES_SQL lists
 * those, so that Last-Modified and the cache's expiry are exact. */
#define WINDOW \
	" AND m.start_at > ?1 - " BACK_S " AND m.start_at <= ?1 + " AHEAD_S \
	" AND (m.status = 'confirmed' OR m.changed_at > ?1 - " KEEP_S ")"

#define EVENTS_SQL(where) \
	"SELECT m.uid, m.sequence, m.changed_at, m.start_at, m.end_at," \
	" m.tzid, m.title, m.location, m.url, m.agenda, m.status = 'cancelled'" \
	" FROM meetings m JOIN units u ON u.id = m.unit_id WHERE " where WINDOW \
	" ORDER BY m.start_at, m.id"

/* The newest flip at or before ?1 (Last-Modified) and the next one after it
 * (the cache's expiry); a unit turned private or public (audit_log) changes
 * the network and city feeds (?3). */
#define TIMES_SQL(where) \
	"WITH s AS (SELECT m.start_at, m.changed_at, m.status FROM meetings m" \
	"  JOIN units u ON u.id = m.unit_id WHERE " where ")," \
	" b(t) AS (SELECT changed_at FROM s" \
	"  UNION ALL SELECT start_at - " AHEAD_S " FROM s" \
	"  UNION ALL SELECT start_at + " BACK_S " FROM s" \
	"  UNION ALL SELECT changed_at + " KEEP_S " FROM s WHERE status = 'cancelled'" \
	"  UNION ALL SELECT at FROM audit_log WHERE ?3 AND action = 'feed.private')" \
	" SELECT max(CASE WHEN t <= ?1 THEN t END), min(CASE WHEN t > ?1 THEN t END) FROM b"

/* Whole statements, put together by the compiler: no value is ever pasted in. */
static const char *const events_sql[] = {
	[FEED_NETWORK] = EVENTS_SQL(W_NETWORK), [FEED_UNIT] = EVENTS_SQL(W_UNIT),
	[FEED_BODY] = EVENTS_SQL(W_UNIT), [FEED_CITY] = EVENTS_SQL(W_CITY),
};
static const char *const times_sql[] = {
	[FEED_NETWORK] = TIMES_SQL(W_NETWORK), [FEED_UNIT] = TIMES_SQL(W_UNIT),
	[FEED_BODY] = TIMES_SQL(W_UNIT), [FEED_CITY] = TIMES_SQL(W_CITY),
};

struct rows {
	struct ical_event *ev;
	char **strs;			/* every string the events point to */
	size_t n, nstrs;
};

static void
rows_free(struct rows *r)
{
	for (size_t i = 0; i < r->nstrs; i++)
		free(r->strs[i]);
	free(r->strs);
	free(r->ev);
	memset(r, 0, sizeof *r);
}

/* A copy of column i kept in r (NULL for SQL NULL); -1 out of memory. */
static int
keep(struct rows *r, sqlite3_stmt *st, int i, const char **out)
{
	const char *s = (const char *)sqlite3_column_text(st, i);

	*out = NULL;
	if (s == NULL)
		return 0;
	if ((r->strs[r->nstrs] = strdup(s)) == NULL)
		return -1;
	*out = r->strs[r->nstrs++];
	return 0;
}

static int
load_events(struct feed *f, const struct feed_scope *s, time_t now, struct rows *r,
    struct err *e)
{
	sqlite3_stmt *st;
	size_t cap = 0;
	int rc;

	if (sqlite3_prepare_v2(f->db, events_sql[s->kind], -1, &st, NULL) != SQLITE_OK)
		return db_fail(f->db, NULL, e, "meetings");
	sqlite3_bind_int64(st, 1, (sqlite3_int64)now);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)s->id);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct ical_event *ev;

		if (r->n == cap) {
			void *a, *b;
			cap = cap ? cap * 2 : 64;
			a = realloc(r->ev, cap * sizeof *r->ev);
			if (a)
				r->ev = a;
			b = realloc(r->strs, cap * 6 * sizeof *r->strs);
			if (b)
				r->strs = b;
			if (a == NULL || b == NULL)
				goto oom;
		}
		ev = &r->ev[r->n++];
		memset(ev, 0, sizeof *ev);
		if (keep(r, st, 0, &ev->uid) < 0 || keep(r, st, 5, &ev->tzid) < 0 ||
		    keep(r, st, 6, &ev->summary) < 0 || keep(r, st, 7, &ev->location) < 0 ||
		    keep(r, st, 8, &ev->url) < 0 || keep(r, st, 9, &ev->description) < 0)
			goto oom;
		ev->sequence = sqlite3_column_int(st, 1);
		ev->dtstamp = (time_t)sqlite3_column_int64(st, 2);
		ev->start = (time_t)sqlite3_column_int64(st, 3);
		ev->end = (time_t)sqlite3_column_int64(st, 4);
		ev->cancelled = sqlite3_column_int(st, 10);
		ev->organizer = f->organizer;
		ev->organizer_name = f->organizer_name;
		ev->alarm_minutes = 0;	/* subscribers choose their own reminders */
	}
	if (rc != SQLITE_DONE)
		return db_fail(f->db, st, e, "meetings");
	sqlite3_finalize(st);
	return 0;
oom:
	sqlite3_finalize(st);
	return err_set(e, "feed: out of memory");
}

/* Last-Modified and the end of validity of s's feed at now (see window_sql). */
static int
load_times(struct feed *f, const struct feed_scope *s, time_t now, time_t *lm, time_t *until,
    struct err *e)
{
	sqlite3_stmt *st;

	if (sqlite3_prepare_v2(f->db, times_sql[s->kind], -1, &st, NULL) != SQLITE_OK)
		return db_fail(f->db, NULL, e, "meeting times");
	sqlite3_bind_int64(st, 1, (sqlite3_int64)now);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)s->id);
	sqlite3_bind_int(st, 3, s->kind == FEED_NETWORK || s->kind == FEED_CITY);
	if (sqlite3_step(st) != SQLITE_ROW)
		return db_fail(f->db, st, e, "meeting times");
	*lm = sqlite3_column_type(st, 0) == SQLITE_NULL ? FEED_EPOCH
	    : (time_t)sqlite3_column_int64(st, 0);
	*until = now + REBUILD_MAX;
	if (sqlite3_column_type(st, 1) != SQLITE_NULL &&
	    (time_t)sqlite3_column_int64(st, 1) < *until)
		*until = (time_t)sqlite3_column_int64(st, 1);
	sqlite3_finalize(st);
	return 0;
}

static int
load_tokens(struct feed *f, int64_t unit, struct entry *en, struct err *e)
{
	sqlite3_stmt *st;
	size_t cap = 0;
	int rc;

	if (sqlite3_prepare_v2(f->db, "SELECT token FROM feed_tokens"
	    " WHERE unit_id = ?1 AND revoked_at IS NULL", -1, &st, NULL) != SQLITE_OK)
		return db_fail(f->db, NULL, e, "feed tokens");
	sqlite3_bind_int64(st, 1, unit);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (strlen(col(st, 0)) != FEED_TOKEN_LEN)
			continue;	/* cannot match a well-formed token anyway */
		if (en->ntokens == cap) {
			void *g = realloc(en->tokens, (cap = cap ? cap * 2 : 8) * sizeof *en->tokens);
			if (g == NULL) {
				sqlite3_finalize(st);
				return err_set(e, "feed: out of memory");
			}
			en->tokens = g;
		}
		memcpy(en->tokens[en->ntokens++], col(st, 0), FEED_TOKEN_LEN + 1);
	}
	if (rc != SQLITE_DONE)
		return db_fail(f->db, st, e, "feed tokens");
	sqlite3_finalize(st);
	return 0;
}

/* ----------------------------------------------------------------- cache */

static void
entry_clear(struct entry *en)
{
	if (en->ok)
		MHD_destroy_response(en->ok);
	if (en->not_modified)
		MHD_destroy_response(en->not_modified);
	free(en->tokens);
	memset(en, 0, sizeof *en);
}

static struct entry *
cache_find(struct feed *f, const char *key)
{
	for (size_t i = 0; i < CACHE_MAX; i++)
		if (strcmp(f->cache[i].key, key) == 0)
			return &f->cache[i];
	return NULL;
}

/* A free slot, or the least recently used one emptied. */
static struct entry *
cache_slot(struct feed *f)
{
	struct entry *lru = &f->cache[0];

	for (size_t i = 0; i < CACHE_MAX; i++) {
		if (f->cache[i].key[0] == '\0')
			return &f->cache[i];
		if (f->cache[i].used < lru->used)
			lru = &f->cache[i];
	}
	entry_clear(lru);
	return lru;
}

static void
cache_flush(struct feed *f)
{
	for (size_t i = 0; i < CACHE_MAX; i++)
		entry_clear(&f->cache[i]);
}

/* The two responses of a built body (which they take over). */
static int
make_responses(struct entry *en, char *body, size_t len)
{
	const char *cc = en->private_ ? "private, max-age=" STR(FEED_MAX_AGE)
	    : "max-age=" STR(FEED_MAX_AGE);
	char date[30];

	feed_format_http_date(en->lm, date);
	en->ok = MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE);
	if (en->ok == NULL) {
		free(body);
		return -1;
	}
	en->not_modified = MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
	if (en->not_modified == NULL)
		return -1;
	if (MHD_add_response_header(en->ok, MHD_HTTP_HEADER_CONTENT_TYPE, calendar_type) != MHD_YES ||
	    MHD_add_response_header(en->ok, MHD_HTTP_HEADER_ETAG, en->etag) != MHD_YES ||
	    MHD_add_response_header(en->ok, MHD_HTTP_HEADER_LAST_MODIFIED, date) != MHD_YES ||
	    MHD_add_response_header(en->ok, MHD_HTTP_HEADER_CACHE_CONTROL, cc) != MHD_YES)
		return -1;
	/* RFC 9110, 15.4.5: a 304 repeats ETag and Cache-Control, and Last-Modified
	 * helps the clients that only compare dates */
	if (MHD_add_response_header(en->not_modified, MHD_HTTP_HEADER_ETAG, en->etag) != MHD_YES ||
	    MHD_add_response_header(en->not_modified, MHD_HTTP_HEADER_LAST_MODIFIED, date) != MHD_YES ||
	    MHD_add_response_header(en->not_modified, MHD_HTTP_HEADER_CACHE_CONTROL, cc) != MHD_YES)
		return -1;
	return 0;
}

static void
etag_of(const char *body, size_t len, char out[68])
{
	unsigned char d[32];

	gnutls_hash_fast(GNUTLS_DIG_SHA256, body, len, d);
	out[0] = '"';
	for (int i = 0; i < 32; i++)
		snprintf(out + 1 + 2 * i, 3, "%02x", d[i]);
	out[65] = '"';
	out[66] = '\0';
}

/* Build (or confirm) the entry of key. 1 built, 0 no such feed, -1 error. */
static int
rebuild(struct feed *f, enum feed_kind kind, const char *slug, const char *key, time_t now,
    struct entry **out, struct err *e)
{
	struct feed_scope s;
	struct rows r = { 0 };
	struct entry *en = cache_find(f, key), fresh;
	char *body, etag[68];
	time_t lm, until;
	int rc;

	memset(&fresh, 0, sizeof fresh);
	if ((rc = feed_scope_find(f->db, kind, slug, &s, e)) <= 0) {
		if (en != NULL)
			entry_clear(en);
		return rc;
	}
	fresh.private_ = s.private_;
	if ((s.private_ && load_tokens(f, s.id, &fresh, e) < 0) ||
	    load_times(f, &s, now, &lm, &until, e) < 0 || load_events(f, &s, now, &r, e) < 0) {
		free(fresh.tokens);
		rows_free(&r);
		return -1;
	}
	body = ical_build_feed(s.name, r.ev, r.n, e);
	if (body == NULL) {
		free(fresh.tokens);
		rows_free(&r);
		return -1;
	}
	etag_of(body, strlen(body), etag);
	if (en != NULL && strcmp(en->etag, etag) == 0 && en->lm == lm &&
	    en->private_ == s.private_) {
		free(body);	/* the same bytes and headers: keep the responses */
		free(en->tokens);
		en->tokens = fresh.tokens;
		en->ntokens = fresh.ntokens;
	} else {
		if (en == NULL)
			en = cache_slot(f);
		entry_clear(en);
		*en = fresh;
		str_copy(en->etag, etag, sizeof en->etag);
		en->lm = lm;
		if (make_responses(en, body, strlen(body)) < 0) {
			entry_clear(en);
			rows_free(&r);
			return err_set(e, "feed: cannot make the response");
		}
		log_info("event=feed.build feed=%s meetings=%zu bytes=%zu", key, r.n, strlen(body));
	}
	str_copy(en->key, key, sizeof en->key);
	en->stale = 0;
	en->valid_until = until;
	rows_free(&r);
	*out = en;
	return 1;
}

/* ------------------------------------------------------------------ HTTP */

struct feed *
feed_new(const struct feed_opts *o, struct err *e)
{
	struct feed *f = calloc(1, sizeof *f);

	if (f == NULL)
		goto oom;
	f->data_version = -1;
	/* iTIP wants an ORGANIZER in PUBLISH too; without an address of ours, a
	 * reserved name (RFC 2606) that reaches no one */
	if ((f->database = strdup(o->database)) == NULL ||
	    (f->organizer = strdup(o->organizer ? o->organizer : "mercomail@invalid")) == NULL ||
	    (o->organizer_name && (f->organizer_name = strdup(o->organizer_name)) == NULL))
		goto oom;
	/* one 404 for an unknown feed and a refused token: nothing tells them apart */
	f->r404 = MHD_create_response_from_buffer(sizeof not_found - 1, (void *)not_found,
	    MHD_RESPMEM_PERSISTENT);
	f->r503 = MHD_create_response_from_buffer(sizeof unavailable - 1, (void *)unavailable,
	    MHD_RESPMEM_PERSISTENT);
	if (f->r404 == NULL || f->r503 == NULL ||
	    MHD_add_response_header(f->r404, MHD_HTTP_HEADER_CONTENT_TYPE,
	    "text/plain; charset=utf-8") != MHD_YES ||
	    MHD_add_response_header(f->r404, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store") != MHD_YES ||
	    MHD_add_response_header(f->r503, MHD_HTTP_HEADER_CONTENT_TYPE,
	    "text/plain; charset=utf-8") != MHD_YES ||
	    MHD_add_response_header(f->r503, MHD_HTTP_HEADER_RETRY_AFTER, "60") != MHD_YES)
		goto oom;
	ical_init();
	return f;
oom:
	feed_free(f);
	err_set(e, "feed: out of memory");
	return NULL;
}

static void
close_db(struct feed *f)
{
	sqlite3_finalize(f->dv);
	sqlite3_close(f->db);
	f->dv = NULL;
	f->db = NULL;
	f->data_version = -1;
}

void
feed_free(struct feed *f)
{
	if (f == NULL)
		return;
	cache_flush(f);
	close_db(f);
	if (f->r404)
		MHD_destroy_response(f->r404);
	if (f->r503)
		MHD_destroy_response(f->r503);
	free(f->database);
	free(f->organizer);
	free(f->organizer_name);
	free(f);
}

/* Open the connection if needed, and forget what was built when another
 * connection (the daemon, the CLI) committed since. */
static int
refresh(struct feed *f, struct err *e)
{
	int64_t v;

	if (f->db == NULL) {
		if (sqlite3_open_v2(f->database, &f->db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
			err_set(e, "feed: %s: %s", f->database,
			    f->db ? sqlite3_errmsg(f->db) : "out of memory");
			close_db(f);
			return -1;
		}
		sqlite3_busy_timeout(f->db, BUSY_MS);
		if (sqlite3_prepare_v2(f->db, "PRAGMA data_version", -1, &f->dv, NULL) != SQLITE_OK) {
			err_set(e, "feed: %s: %s", f->database, sqlite3_errmsg(f->db));
			close_db(f);
			return -1;
		}
	}
	if (sqlite3_step(f->dv) != SQLITE_ROW) {
		err_set(e, "feed: data_version: %s", sqlite3_errmsg(f->db));
		close_db(f);
		return -1;
	}
	v = sqlite3_column_int64(f->dv, 0);
	sqlite3_reset(f->dv);
	if (v != f->data_version) {
		for (size_t i = 0; i < CACHE_MAX; i++)
			f->cache[i].stale = 1;
		f->data_version = v;
	}
	return 0;
}

/* "unit/cultura.ics" -> FEED_UNIT and "cultura"; -1 for anything else. */
static int
parse_path(const char *path, enum feed_kind *kind, char *slug, size_t size)
{
	const char *slash = strchr(path, '/');
	size_t n;
	int k;
	char name[8];

	if (strcmp(path, "network.ics") == 0) {
		*kind = FEED_NETWORK;
		*slug = '\0';
		return 0;
	}
	if (slash == NULL || (size_t)(slash - path) >= sizeof name)
		return -1;
	memcpy(name, path, (size_t)(slash - path));
	name[slash - path] = '\0';
	if ((k = feed_kind_parse(name)) <= FEED_NETWORK)
		return -1;
	n = strlen(slash + 1);
	if (n <= 4 || n - 4 >= size || strcmp(slash + 1 + n - 4, ".ics") != 0)
		return -1;
	for (size_t i = 0; i < n - 4; i++) {
		char c = slash[1 + i];
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'))
			return -1;
	}
	memcpy(slug, slash + 1, n - 4);
	slug[n - 4] = '\0';
	*kind = (enum feed_kind)k;
	return 0;
}

/* The preconditions of the request, as RFC 9110 13.2.2 orders them. */
struct cond {
	const char *etag;
	int inm, inm_match;	/* If-None-Match fields seen, and whether one matched */
	int ims;		/* If-Modified-Since fields seen */
	const char *ims_value;
};

static MHD_RESULT
collect(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
	struct cond *cd = cls;

	(void)kind;
	if (strcasecmp(key, MHD_HTTP_HEADER_IF_NONE_MATCH) == 0) {
		cd->inm++;
		cd->inm_match |= feed_etag_match(value, cd->etag);
	} else if (strcasecmp(key, MHD_HTTP_HEADER_IF_MODIFIED_SINCE) == 0) {
		cd->ims++;
		cd->ims_value = value;
	}
	return MHD_YES;
}

static int
not_modified(struct MHD_Connection *c, const struct entry *en, time_t now)
{
	struct cond cd = { .etag = en->etag };
	time_t t;

	MHD_get_connection_values(c, MHD_HEADER_KIND, collect, &cd);
	if (cd.inm > 0)
		return cd.inm_match;
	/* one valid date, not in the future (a client's clock is no authority) */
	if (cd.ims != 1 || feed_parse_http_date(cd.ims_value, now, &t) < 0 || t > now)
		return 0;
	return en->lm <= t;
}

MHD_RESULT
feed_answer(struct feed *f, struct MHD_Connection *c, const char *path)
{
	struct entry *en;
	enum feed_kind kind;
	char slug[96], key[112];
	const char *token;
	time_t now = time(NULL);
	struct err e;
	int rc;

	if (parse_path(path, &kind, slug, sizeof slug) < 0)
		return MHD_queue_response(c, MHD_HTTP_NOT_FOUND, f->r404);
	if (refresh(f, &e) < 0) {
		log_warn("event=feed status=failed reason=\"%s\"", e.msg);
		return MHD_queue_response(c, MHD_HTTP_SERVICE_UNAVAILABLE, f->r503);
	}
	snprintf(key, sizeof key, "%s/%s", kind_names[kind], slug);
	en = cache_find(f, key);
	if (en == NULL || en->stale || now >= en->valid_until) {
		if ((rc = rebuild(f, kind, slug, key, now, &en, &e)) < 0) {
			log_warn("event=feed feed=%s status=failed reason=\"%s\"", key, e.msg);
			close_db(f);	/* start afresh with the next request */
			return MHD_queue_response(c, MHD_HTTP_SERVICE_UNAVAILABLE, f->r503);
		}
		if (rc == 0)
			return MHD_queue_response(c, MHD_HTTP_NOT_FOUND, f->r404);
	}
	en->used = ++f->tick;
	if (en->private_) {
		token = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "token");
		if (!feed_token_ok(token, (const char (*)[FEED_TOKEN_LEN + 1])en->tokens, en->ntokens))
			return MHD_queue_response(c, MHD_HTTP_NOT_FOUND, f->r404);
	}
	if (not_modified(c, en, now))
		return MHD_queue_response(c, MHD_HTTP_NOT_MODIFIED, en->not_modified);
	return MHD_queue_response(c, MHD_HTTP_OK, en->ok);
}
