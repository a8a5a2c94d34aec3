/*
 * feed — the calendar feeds of the meetings (iCalendar over HTTP), answered
 * from mercomaild's HTTP thread (http.c routes "/feeds/" here):
 *
 *   /feeds/network.ics        meetings of every unit and body that is not private
 *   /feeds/unit/SLUG.ics      meetings of a thematic unit (units.kind = 'unit')
 *   /feeds/body/SLUG.ics      meetings of a body (council, board, secretariats)
 *   /feeds/city/SLUG.ics      meetings a city is invited to (meeting_attendees.city_id),
 *                             of units and bodies that are not private
 *
 * A feed holds the meetings that start from 90 days ago to 2 years ahead;
 * cancelled ones stay (STATUS:CANCELLED) for 30 days after their change. Every
 * byte comes from the database (DTSTAMP = the meeting's changed_at), so an
 * unchanged database gives unchanged bytes. The ETag is the quoted hex SHA-256
 * of the body; Last-Modified is the newest moment the feed's content could
 * have changed: a meeting's change, a meeting entering or leaving the window,
 * a cancelled meeting dropping out, a unit becoming private or public
 * (audit_log "feed.private") — never "now"; FEED_EPOCH when there is none.
 *
 * A private unit or body (units.private = 1) answers only with
 * ?token=<32 lower-case hex> of one of its feed_tokens that is not revoked;
 * a missing or wrong token gets exactly the 404 of an unknown feed, and the
 * token is compared in constant time with every token of the unit.
 *
 * The HTTP thread has its own read-only SQLite connection (never the
 * daemon's). Built feeds are cached per path until the database changes
 * (PRAGMA data_version) or the window moves over a meeting.
 */
#ifndef MERCOMAIL_FEED_H
#define MERCOMAIL_FEED_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <sqlite3.h>

#include "err.h"
#include "http.h"

#define FEED_DAYS_BACK	90	/* meetings that started up to this long ago */
#define FEED_DAYS_AHEAD	730	/* and up to this far ahead (2 years) */
#define FEED_DAYS_CANCELLED 30	/* a cancelled meeting stays this long after its change */
#define FEED_EPOCH	1767225600	/* 2026-01-01T00:00:00Z: Last-Modified of a feed with no change */
#define FEED_MAX_AGE	3600	/* Cache-Control max-age, as REFRESH-INTERVAL / X-PUBLISHED-TTL */
#define FEED_TOKEN_LEN	32	/* hex digits of a token (128 bits) */

struct feed;

/* What the feeds say beside the database: the organiser of the events
 * (smtp.from, bare) and its name (mail.name). Copied. */
struct feed_opts {
	const char *database;
	const char *organizer;		/* NULL: "mercomail@invalid" */
	const char *organizer_name;	/* may be NULL */
};

/* Prepare the feeds of database (opened read-only on the first request, in
 * the HTTP thread). Returns what the caller frees with feed_free(), or NULL
 * with e set. */
struct feed *feed_new(const struct feed_opts *o, struct err *e);
void feed_free(struct feed *f);			/* accepts NULL */

/* Answer a GET or HEAD of /feeds/<path> on c. Call from one thread only. */
MHD_RESULT feed_answer(struct feed *f, struct MHD_Connection *c, const char *path);

/* --- scopes, shared with `mercomail feed` */

enum feed_kind { FEED_NETWORK, FEED_UNIT, FEED_BODY, FEED_CITY };

struct feed_scope {
	enum feed_kind kind;
	int64_t id;		/* units.id or cities.id; 0 for the network */
	int private_;		/* the unit or body is private: tokens only */
	char slug[96];		/* as in the URL; "" for the network */
	char lang[3];		/* "es" or "pt": the language of the name */
	char name[256];		/* X-WR-CALNAME / NAME */
};

/* "network", "unit", "body", "city" -> kind; -1 if none of them. */
int feed_kind_parse(const char *s);

/* The scope of kind named slug (ignored for the network): 1 found, 0 not,
 * -1 with e set on a database error. */
int feed_scope_find(sqlite3 *db, enum feed_kind kind, const char *slug, struct feed_scope *s,
    struct err *e);

/* "/feeds/unit/cultura.ics": the path of s (no query). Its length, or -1 if
 * it does not fit in size. */
int feed_scope_path(const struct feed_scope *s, char *out, size_t size);

/*
 * The slug of a city: its name in lower-case ASCII, accents folded (ã -> a,
 * ç -> c, ñ -> n, ...), every run of other characters one '-', none at the
 * ends ("São Paulo" -> "sao-paulo"). When two cities of the roster fold to
 * the same name, each gets "-" and its country code in lower case
 * ("cordoba-ar"), and if that still clashes, "-" and its id. This function
 * is the first step only; feed_scope_find() applies the rest.
 */
void feed_city_fold(const char *name, char *out, size_t size);

/* --- the parts of HTTP that are pure (unit-tested) */

/* An HTTP-date (IMF-fixdate; the obsolete RFC 850 and asctime forms too, as
 * RFC 9110 asks) -> UTC seconds. now decides the century of a two-digit
 * year. 0, or -1 if s is not exactly one such date. */
int feed_parse_http_date(const char *s, time_t now, time_t *out);

/* UTC seconds -> IMF-fixdate "Sun, 06 Nov 1994 08:49:37 GMT" (30 bytes with the NUL). */
void feed_format_http_date(time_t t, char out[30]);

/* 1 if the If-None-Match value inm (a list of entity-tags or "*") matches
 * etag (quoted) by the weak comparison of RFC 9110; 0 if not or malformed. */
int feed_etag_match(const char *inm, const char *etag);

/* 1 if given is one of the n tokens (FEED_TOKEN_LEN hex digits each). The
 * time taken does not depend on how much of any token matches. */
int feed_token_ok(const char *given, const char (*tokens)[FEED_TOKEN_LEN + 1], size_t n);

#endif
