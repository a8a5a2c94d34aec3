#include "buildconf.h"

/*
 * verp — see verp.h.
 */

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "auth.h"
#include "verp.h"

/* bounce_address split at '@' into local and domain. 0, or -1. */
static int
split(const struct config *cfg, char *local, size_t lsize, const char **domain)
{
	char *at;

	if (config_bounce_address(cfg, local, lsize) < 0 || (at = strrchr(local, '@')) == NULL)
		return -1;
	*at = '\0';
	*domain = at + 1;
	return 0;
}

int
verp_sender(const struct config *cfg, const unsigned char *key, size_t keylen,
    int64_t member_key, time_t now, char *out, size_t size, struct err *e)
{
	struct auth_claim c = { .purpose = "bounce", .object = member_key,
	    .expires = now + (time_t)VERP_DAYS * 86400 };
	char local[256], token[AUTH_TOKEN_MAX];
	const char *domain;
	int n;

	if (key == NULL || member_key <= 0 || split(cfg, local, sizeof local, &domain) < 0)
		return 1;
	if (auth_token_make(key, keylen, &c, token, e) < 0)
		return -1;
	n = snprintf(out, size, "%s+%s@%s", local, token, domain);
	if (n < 0 || (size_t)n >= size)
		return err_set(e, "the VERP address of %s is too long", local);
	return 0;
}

struct member_search {
	const char *local, *domain;
	const unsigned char *key;
	size_t keylen;
	time_t now;
	int64_t member;
};

/* A VERP address of ours with a genuine, fresh bounce token: stop there. */
static int
bounce_token(const char *word, void *arg)
{
	struct member_search *ms = arg;
	char token[AUTH_TOKEN_MAX];
	struct auth_claim c;

	if (auth_address_token(word, ms->local, ms->domain, token) < 0 ||
	    auth_token_check(ms->key, ms->keylen, token, ms->now, &c) != AUTH_TOKEN_OK ||
	    strcmp(c.purpose, "bounce") != 0 || c.object <= 0)
		return 0;
	ms->member = c.object;
	return 1;
}

/* The first valid bounce token in the delivery headers of m: its member
 * key, or 0. */
static int64_t
find_member(const struct mime_msg *m, const char *local, const char *domain,
    const unsigned char *key, size_t keylen, time_t now)
{
	struct member_search ms = { local, domain, key, keylen, now, 0 };

	mime_recipient_words(m, bounce_token, &ms);
	return ms.member;
}

int
verp_recipient(struct store *st, const struct config *cfg, const unsigned char *key,
    size_t keylen, const struct mime_msg *m, time_t now, char *out, size_t size,
    struct err *e)
{
	char local[256];
	const char *domain;
	sqlite3_stmt *s;
	int64_t member;
	int r;

	if (key == NULL || split(cfg, local, sizeof local, &domain) < 0 ||
	    (member = find_member(m, local, domain, key, keylen, now)) == 0)
		return 0;
	if (sqlite3_prepare_v2(store_db(st), "SELECT address FROM list_subscriptions"
	    " WHERE rowid = ?", -1, &s, NULL) != SQLITE_OK)
		return err_set(e, "verp: %s", sqlite3_errmsg(store_db(st)));
	sqlite3_bind_int64(s, 1, member);
	r = sqlite3_step(s);
	if (r == SQLITE_ROW) {
		str_copy(out, (const char *)sqlite3_column_text(s, 0), size);
		r = 1;
	} else
		r = r == SQLITE_DONE ? 0 : err_set(e, "verp: %s", sqlite3_errmsg(store_db(st)));
	sqlite3_finalize(s);
	return r;
}

int
verp_from_mailer(const struct mime_msg *m)
{
	static const char *const daemons[] = { "mailer-daemon", "postmaster" };
	const char *a = m->from_addr;
	size_t n;

	/* "From: MAILER-DAEMON" has no address part to parse: its word then */
	if (a == NULL && (a = mime_header(m, "From", 0)) != NULL)
		a += strspn(a, " \t<");
	if (a == NULL)
		return 0;
	n = strcspn(a, "@+> \t");
	for (size_t i = 0; i < sizeof daemons / sizeof daemons[0]; i++)
		if (n == strlen(daemons[i]) && strncasecmp(a, daemons[i], n) == 0)
			return 1;
	return 0;
}
