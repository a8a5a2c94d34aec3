#include "buildconf.h"

/*
 * mercomail feed url / private / tokens / revoke: the links to paste into a
 * calendar app, and the per-subscriber tokens of private feeds (feed.h).
 */

#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <time.h>

#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <sqlite3.h>

#include "ctl.h"
#include "feed.h"
#include "store.h"

#define URL_MAX 255	/* Google Calendar takes no longer link */

/* The scope named by the arguments: "network", "unit|body|city SLUG" or a
 * bare SLUG (a unit or body, else a city). 1 found, 0 not (message
 * printed), or an exit code as a negative number. */
static int
find_scope(struct ctx *cx, int argc, char **argv, struct feed_scope *s)
{
	static const enum feed_kind guesses[] = { FEED_UNIT, FEED_BODY, FEED_CITY };
	sqlite3 *db = store_db(cx->st);
	struct err e = { "" };
	int kind = feed_kind_parse(argv[0]), rc;

	if (kind == FEED_NETWORK)
		return feed_scope_find(db, FEED_NETWORK, "", s, &e);
	if (kind > FEED_NETWORK && argc < 2)
		return -ctl_usage_error("feed: %s: which SLUG?", argv[0]);
	if (kind > FEED_NETWORK) {
		if ((rc = feed_scope_find(db, (enum feed_kind)kind, argv[1], s, &e)) == 0)
			fprintf(stderr, "mercomail: no %s '%s'\n", argv[0], argv[1]);
		return rc < 0 ? (fprintf(stderr, "mercomail: %s\n", e.msg), -EX_SOFTWARE) : rc;
	}
	for (size_t i = 0; i < sizeof guesses / sizeof guesses[0]; i++) {
		if ((rc = feed_scope_find(db, guesses[i], argv[0], s, &e)) != 0)
			return rc < 0 ? (fprintf(stderr, "mercomail: %s\n", e.msg), -EX_SOFTWARE) : rc;
	}
	fprintf(stderr, "mercomail: no unit, body or city '%s' (see mercomail roster list)\n",
	    argv[0]);
	return 0;
}

/* The contact's id by address: 1 found, 0 not, -1 error. */
static int
contact_id(sqlite3 *db, const char *address, int64_t *id)
{
	sqlite3_stmt *st;
	int rc;

	if (sqlite3_prepare_v2(db, "SELECT id FROM contacts WHERE address = ?1", -1, &st,
	    NULL) != SQLITE_OK)
		return -1;
	sqlite3_bind_text(st, 1, address, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*id = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : -1;
}

static int
new_token(char out[FEED_TOKEN_LEN + 1])
{
	unsigned char r[FEED_TOKEN_LEN / 2];

	if (gnutls_rnd(GNUTLS_RND_KEY, r, sizeof r) < 0)
		return -1;
	for (size_t i = 0; i < sizeof r; i++)
		snprintf(out + 2 * i, 3, "%02x", r[i]);
	gnutls_memset(r, 0, sizeof r);
	return 0;
}

/* The contact's live token for unit, made if there is none. 0 or an exit code. */
static int
token_for(struct ctx *cx, int64_t unit, const char *slug, int64_t contact, const char *address,
    char token[FEED_TOKEN_LEN + 1])
{
	sqlite3 *db = store_db(cx->st);
	sqlite3_stmt *st = NULL;
	struct err e = { "" };
	int rc;

	if (store_begin(cx->st, &e) < 0) {
		fprintf(stderr, "mercomail: %s\n", e.msg);
		return EX_SOFTWARE;
	}
	if (sqlite3_prepare_v2(db, "SELECT token FROM feed_tokens WHERE unit_id = ?1"
	    " AND contact_id = ?2 AND revoked_at IS NULL ORDER BY id DESC LIMIT 1", -1, &st,
	    NULL) != SQLITE_OK)
		goto fail;
	sqlite3_bind_int64(st, 1, unit);
	sqlite3_bind_int64(st, 2, contact);
	if ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		str_copy(token, (const char *)sqlite3_column_text(st, 0), FEED_TOKEN_LEN + 1);
		sqlite3_finalize(st);
		store_rollback(cx->st);
		return 0;
	}
	if (rc != SQLITE_DONE)
		goto fail;
	sqlite3_finalize(st);
	st = NULL;
	if (new_token(token) < 0) {
		store_rollback(cx->st);
		fprintf(stderr, "mercomail: no random numbers (gnutls_rnd)\n");
		return EX_OSERR;
	}
	if (sqlite3_prepare_v2(db, "INSERT INTO feed_tokens (unit_id, contact_id, token,"
	    " created_at) VALUES (?1, ?2, ?3, ?4)", -1, &st, NULL) != SQLITE_OK)
		goto fail;
	sqlite3_bind_int64(st, 1, unit);
	sqlite3_bind_int64(st, 2, contact);
	sqlite3_bind_text(st, 3, token, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, (sqlite3_int64)time(NULL));
	if (sqlite3_step(st) != SQLITE_DONE)
		goto fail;
	sqlite3_finalize(st);
	/* the audit log names the subscriber, never the token */
	if (store_audit(cx->st, time(NULL), "cli", "feed.token", slug, address, &e) < 0 ||
	    store_commit(cx->st, &e) < 0) {
		store_rollback(cx->st);
		fprintf(stderr, "mercomail: %s\n", e.msg);
		return EX_SOFTWARE;
	}
	return 0;
fail:
	rc = ctl_db_fail(cx, st);
	store_rollback(cx->st);
	return rc;
}

/* The base URL of the links: [http] base_url, else http://LISTEN (said). */
static int
base_url(struct ctx *cx, char *out, size_t size)
{
	const struct config_http *h = cx->cfg ? &cx->cfg->http : NULL;

	if (h != NULL && h->base_url != NULL) {
		str_copy(out, h->base_url, size);
		return 0;
	}
	if (h != NULL && h->listen != NULL) {
		snprintf(out, size, "http://%s", h->listen);
		fprintf(stderr, "mercomail: no [http] base_url: links to %s, reachable only "
		    "from here\n", out);
		return 0;
	}
	fprintf(stderr, "mercomail: set [http] base_url (the public address of the feeds) "
	    "in the config\n");
	return EX_CONFIG;
}

int
ctl_feed_url(struct ctx *cx, int argc, char **argv)
{
	const char *for_addr = NULL, *v;
	char *args[2];
	int nargs = 0, bad = 0, rc, n;
	char base[128], path[160], token[FEED_TOKEN_LEN + 1] = "", https[512], webcal[512];
	const char *rest;
	struct feed_scope s;
	int64_t contact;

	for (int i = 0; i < argc; i++) {
		if ((v = ctl_match_opt(argc, argv, &i, "--for", 1, &bad)) != NULL)
			for_addr = v;
		else if (bad || argv[i][0] == '-')
			return ctl_usage_error("feed url: %s", bad ? "--for needs an address" :
			    "unknown option");
		else if (nargs < 2)
			args[nargs++] = argv[i];
		else
			return ctl_usage_error("feed url: unexpected argument '%s'", argv[i]);
	}
	if (nargs == 0)
		return ctl_usage_error("%s", "feed url: which feed (network, unit SLUG, body SLUG, "
		    "city SLUG or SLUG)?");
	if (nargs == 2 && feed_kind_parse(args[0]) <= FEED_NETWORK)
		return ctl_usage_error("feed url: unexpected argument '%s'", args[1]);
	if ((rc = ctl_open_store(cx, 1)) != 0)
		return rc;
	if ((rc = find_scope(cx, nargs, args, &s)) <= 0)
		return rc < 0 ? -rc : EX_DATAERR;
	if ((rc = base_url(cx, base, sizeof base)) != 0)
		return rc;
	if (s.private_ && for_addr == NULL) {
		fprintf(stderr, "mercomail: '%s' is private: each subscriber gets a link of "
		    "their own (--for ADDRESS)\n", s.slug);
		return EX_USAGE;
	}
	if (s.private_) {
		if ((rc = contact_id(store_db(cx->st), for_addr, &contact)) <= 0) {
			if (rc < 0)
				return ctl_db_fail(cx, NULL);
			fprintf(stderr, "mercomail: no contact '%s' (see mercomail roster list)\n",
			    for_addr);
			return EX_DATAERR;
		}
		if ((rc = token_for(cx, s.id, s.slug, contact, for_addr, token)) != 0)
			return rc;
	} else if (for_addr != NULL) {
		fprintf(stderr, "mercomail: this feed is public: the same link for everyone\n");
	}
	feed_scope_path(&s, path, sizeof path);
	n = snprintf(https, sizeof https, "%s%s%s%s", base, path, *token ? "?token=" : "", token);
	rest = strstr(base, "://") + 3;
	snprintf(webcal, sizeof webcal, "webcal://%s%s%s%s", rest, path,
	    *token ? "?token=" : "", token);
	if (n > URL_MAX || strlen(webcal) > URL_MAX) {
		fprintf(stderr, "mercomail: the link would be longer than %d characters "
		    "(Google Calendar's limit): shorten [http] base_url\n", URL_MAX);
		return EX_CONFIG;
	}
	printf("%s\n%s\n", webcal, https);
	return ctl_flush_stdout();
}

/* The id of the unit or body slug: 1, 0 (message printed) or -1. */
static int
unit_id(sqlite3 *db, const char *slug, int64_t *id)
{
	sqlite3_stmt *st;
	int rc;

	if (sqlite3_prepare_v2(db, "SELECT id FROM units WHERE slug = ?1", -1, &st, NULL)
	    != SQLITE_OK)
		return -1;
	sqlite3_bind_text(st, 1, slug, -1, SQLITE_STATIC);
	if ((rc = sqlite3_step(st)) == SQLITE_ROW)
		*id = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	if (rc == SQLITE_DONE)
		fprintf(stderr, "mercomail: no unit or body '%s'\n", slug);
	return rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : -1;
}

int
ctl_feed_private(struct ctx *cx, int argc, char **argv)
{
	sqlite3 *db;
	sqlite3_stmt *st = NULL;
	struct err e = { "" };
	int64_t id;
	int on, rc, changed;

	if (argc != 2 || (strcmp(argv[1], "on") != 0 && strcmp(argv[1], "off") != 0))
		return ctl_usage_error("%s", "feed private: give SLUG on|off");
	on = strcmp(argv[1], "on") == 0;
	if ((rc = ctl_open_store(cx, 1)) != 0)
		return rc;
	db = store_db(cx->st);
	if ((rc = unit_id(db, argv[0], &id)) <= 0)
		return rc < 0 ? ctl_db_fail(cx, NULL) : EX_DATAERR;
	if (store_begin(cx->st, &e) < 0) {
		fprintf(stderr, "mercomail: %s\n", e.msg);
		return EX_SOFTWARE;
	}
	if (sqlite3_prepare_v2(db, "UPDATE units SET private = ?1 WHERE id = ?2 AND private != ?1",
	    -1, &st, NULL) != SQLITE_OK)
		goto fail;
	sqlite3_bind_int(st, 1, on);
	sqlite3_bind_int64(st, 2, id);
	if (sqlite3_step(st) != SQLITE_DONE)
		goto fail;
	changed = sqlite3_changes(db);
	sqlite3_finalize(st);
	/* the feeds read this row's time: the network and city feeds changed then */
	if ((changed && store_audit(cx->st, time(NULL), "cli", "feed.private", argv[0],
	    argv[1], &e) < 0) || store_commit(cx->st, &e) < 0) {
		store_rollback(cx->st);
		fprintf(stderr, "mercomail: %s\n", e.msg);
		return EX_SOFTWARE;
	}
	if (on)
		printf("%s: private (a token per subscriber: mercomail feed url %s --for ADDRESS)\n",
		    argv[0], argv[0]);
	else
		printf("%s: public (its feed needs no token)\n", argv[0]);
	return ctl_flush_stdout();
fail:
	rc = ctl_db_fail(cx, st);
	store_rollback(cx->st);
	return rc;
}

int
ctl_feed_tokens(struct ctx *cx, int argc, char **argv)
{
	sqlite3_stmt *st;
	char created[32], revoked[32];
	int64_t id;
	int rc, n = 0;

	if (argc != 1)
		return ctl_usage_error("%s", "feed tokens: give one SLUG");
	if ((rc = ctl_open_store(cx, 1)) != 0)
		return rc;
	if ((rc = unit_id(store_db(cx->st), argv[0], &id)) <= 0)
		return rc < 0 ? ctl_db_fail(cx, NULL) : EX_DATAERR;
	if (sqlite3_prepare_v2(store_db(cx->st), "SELECT t.token, c.address, t.created_at,"
	    " t.revoked_at FROM feed_tokens t LEFT JOIN contacts c ON c.id = t.contact_id"
	    " WHERE t.unit_id = ?1 ORDER BY t.id", -1, &st, NULL) != SQLITE_OK)
		return ctl_db_fail(cx, NULL);
	sqlite3_bind_int64(st, 1, id);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (n++ == 0)
			printf("%-32s  %-20s  %-20s  %s\n", "TOKEN", "CREATED", "REVOKED", "CONTACT");
		ctl_format_time(created, sizeof created, sqlite3_column_int64(st, 2));
		if (sqlite3_column_type(st, 3) == SQLITE_NULL)
			str_copy(revoked, "-", sizeof revoked);
		else
			ctl_format_time(revoked, sizeof revoked, sqlite3_column_int64(st, 3));
		printf("%-32s  %-20s  %-20s  ", (const char *)sqlite3_column_text(st, 0), created,
		    revoked);
		ctl_put_safe(stdout, (const char *)sqlite3_column_text(st, 1));
		putchar('\n');
	}
	if (rc != SQLITE_DONE)
		return ctl_db_fail(cx, st);
	sqlite3_finalize(st);
	if (n == 0)
		printf("%s: no tokens\n", argv[0]);
	return ctl_flush_stdout();
}

int
ctl_feed_revoke(struct ctx *cx, int argc, char **argv)
{
	const char *for_addr = NULL, *arg = NULL, *v;
	sqlite3_stmt *st = NULL;
	struct err e = { "" };
	int bad = 0, rc, changed;

	for (int i = 0; i < argc; i++) {
		if ((v = ctl_match_opt(argc, argv, &i, "--for", 1, &bad)) != NULL)
			for_addr = v;
		else if (bad || argv[i][0] == '-' || arg != NULL)
			return ctl_usage_error("%s", "feed revoke: give TOKEN, or --for ADDRESS SLUG");
		else
			arg = argv[i];
	}
	if (arg == NULL)
		return ctl_usage_error("%s", "feed revoke: give TOKEN, or --for ADDRESS SLUG");
	if ((rc = ctl_open_store(cx, 1)) != 0)
		return rc;
	if (store_begin(cx->st, &e) < 0) {
		fprintf(stderr, "mercomail: %s\n", e.msg);
		return EX_SOFTWARE;
	}
	if (for_addr == NULL)
		rc = sqlite3_prepare_v2(store_db(cx->st), "UPDATE feed_tokens SET revoked_at = ?1"
		    " WHERE token = ?2 AND revoked_at IS NULL", -1, &st, NULL);
	else
		rc = sqlite3_prepare_v2(store_db(cx->st), "UPDATE feed_tokens SET revoked_at = ?1"
		    " WHERE revoked_at IS NULL AND unit_id = (SELECT id FROM units WHERE slug = ?2)"
		    " AND contact_id = (SELECT id FROM contacts WHERE address = ?3)", -1, &st, NULL);
	if (rc != SQLITE_OK)
		goto fail;
	sqlite3_bind_int64(st, 1, (sqlite3_int64)time(NULL));
	sqlite3_bind_text(st, 2, arg, -1, SQLITE_STATIC);
	if (for_addr != NULL)
		sqlite3_bind_text(st, 3, for_addr, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_DONE)
		goto fail;
	changed = sqlite3_changes(store_db(cx->st));
	sqlite3_finalize(st);
	if (changed == 0) {
		store_rollback(cx->st);
		fprintf(stderr, "mercomail: no live token %s%s%s\n", for_addr ? "of " : "",
		    for_addr ? for_addr : "like that", for_addr ? " for that unit" : "");
		return EX_DATAERR;
	}
	if (store_audit(cx->st, time(NULL), "cli", "feed.revoke", for_addr ? arg : NULL,
	    for_addr ? for_addr : "by token", &e) < 0 || store_commit(cx->st, &e) < 0) {
		store_rollback(cx->st);
		fprintf(stderr, "mercomail: %s\n", e.msg);
		return EX_SOFTWARE;
	}
	printf("%d token%s revoked\n", changed, changed == 1 ? "" : "s");
	return ctl_flush_stdout();
fail:
	rc = ctl_db_fail(cx, st);
	store_rollback(cx->st);
	return rc;
}
