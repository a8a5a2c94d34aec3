/*
 * list — every thematic unit and body is a mailing list.
 *
 * Members: every contact of the member cities of the unit (coordinators,
 * subcoordinators, members: the roster), plus the addresses that
 * subscribed (by mail, or `mercomail list add`), minus those that left,
 * minus addresses with [lists] bounce_limit hard bounces in bounce_days
 * days (left out of list mail only; the roster keeps them). Each member has
 * a digest mode (daily, weekly, none) and a language.
 *
 * Commands by mail, in es/pt/en, as the whole subject (a "Re:" is fine) or
 * as the command address local+SLUG-subscribe@domain / +SLUG-unsubscribe:
 *   suscribir|inscrever|subscribe SLUG [ADDRESS]
 *   baja|cancelar inscrição|unsubscribe SLUG
 *   digest|resumen|resumo diario|semanal|no / diário|semanal|não SLUG
 * Subscribing an address other than the sender's, or anyone outside the
 * roster to a closed list, sends a confirmation to that address with a
 * signed single-use reply address (token purpose "confirm", object = the
 * list_confirmations row); only the reply to it subscribes. Every answer is
 * the same whether or not the address was a member, so nobody can probe
 * who is on a list.
 */
#ifndef MERCOMAIL_LIST_H
#define MERCOMAIL_LIST_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "config.h"
#include "err.h"
#include "mailfmt.h"
#include "mime.h"
#include "store.h"

#define LIST_CONFIRM_DAYS 7	/* a confirmation address is valid this long */
#define LIST_UNSUB_DAYS 400	/* the signed unsubscribe links of list mail */

/* ---- pure: commands -------------------------------------------------------- */

enum list_action { LIST_NONE, LIST_SUBSCRIBE, LIST_UNSUBSCRIBE, LIST_DIGEST };

struct list_cmd {
	enum list_action action;
	char slug[64];		/* the list, lower case */
	char address[256];	/* subscribe: another address to subscribe; "" = the sender */
	char digest[8];		/* LIST_DIGEST: "daily", "weekly" or "none" */
	char lang[3];		/* the language of the command words: "es", "pt", "" (English) */
};

/* A command in a subject. 1 and *c filled, or 0 when the subject is no
 * command (anything more than the command words, the slug and an optional
 * address or mode is no command: a submission that happens to start with
 * "baja" stays a submission). */
int list_parse_subject(const char *subject, struct list_cmd *c);

/* A command address local+SLUG-subscribe@domain or +SLUG-unsubscribe
 * (normalised, lower case). 1 and *c filled, or 0. */
int list_parse_address(const char *address, const char *local, const char *domain,
    struct list_cmd *c);

/* ---- members --------------------------------------------------------------- */

struct list_member {
	char address[256];
	char name[128];		/* "" if unknown */
	char lang[3];
	char digest[8];		/* daily, weekly, none */
	int64_t contact_id;	/* 0: not in the roster */
	const char *source;	/* "roster", or how the address subscribed */
};

/* Call fn for each member of the list of unit_id that gets list mail at now
 * (lc: the bounce threshold). fn returns 0 to go on, -1 to stop (its
 * error). 0 or -1. */
typedef int list_member_fn(const struct list_member *m, void *arg, struct err *e);
int list_members(struct store *st, int64_t unit_id, const struct config_lists *lc, time_t now,
    list_member_fn *fn, void *arg, struct err *e);

/* Call fn for each address of the list of unit_id (0: of any list) that
 * gets no list mail at now for its hard bounces (lc), with their count and
 * the time of the last. fn returns 0 to go on, -1 to stop (its error).
 * 0 or -1. */
typedef int list_bouncing_fn(const char *address, int64_t bounces, time_t last, void *arg);
int list_bouncing(struct store *st, int64_t unit_id, const struct config_lists *lc, time_t now,
    list_bouncing_fn *fn, void *arg, struct err *e);

/* The settings of the list of unit_id: *closed and *always (a digest even
 * for an empty period). 0 or -1. */
int list_settings(struct store *st, int64_t unit_id, int *closed, int *always, struct err *e);

/* Change them; -1 keeps one as it is. 0 or -1. */
int list_configure(struct store *st, int64_t unit_id, int closed, int always, struct err *e);

/* The unit of slug: its id (> 0), name in lang, closed flag. 1 found, 0 not, -1 error. */
int list_unit(struct store *st, const char *slug, const char *lang, int64_t *id, char *name,
    size_t size, int *closed, struct err *e);

/* Add or change a subscription: subscribe (unsubscribed = 0), with a digest
 * mode (NULL: keep), or leave (unsubscribe = 1). source: mail, confirm, cli,
 * http. 0 or -1. */
int list_set(struct store *st, int64_t unit_id, const char *address, const char *lang,
    const char *digest, int unsubscribe, const char *source, time_t now, struct err *e);

/* The key of a member's row (created for roster members on first use): the
 * object of their signed unsubscribe link. -1 on error. */
int64_t list_member_key(struct store *st, int64_t unit_id, const char *address,
    const char *lang, time_t now, struct err *e);

/* Unsubscribe with a signed "unsub" token (the one-click link). 1 done, 0
 * bad or expired token, -1 error. */
int list_unsubscribe_token(struct store *st, const unsigned char *key, size_t keylen,
    const char *token, time_t now, struct err *e);

/* ---- the one-click unsubscribe page (http.c) -------------------------------- */

/* What the HTTP server needs: the database path and the token key, read
 * once (NULL: no [store] database or no mail.token_key_file: no page). */
struct list_web;
struct list_web *list_web_new(const struct config *cfg);
void list_web_free(struct list_web *w);		/* accepts NULL */

/* /lists/unsubscribe?t=TOKEN: GET (post 0) a page with a button that
 * posts back; POST (RFC 8058 one-click, or the button) unsubscribes. The
 * token is checked either way; the page says nothing of the address.
 * Returns the HTTP status (200, 404 bad or expired token, 503 database
 * trouble) and *page (HTML, caller frees; NULL if out of memory). */
int list_web_unsubscribe(struct list_web *w, const char *token, int post, time_t now,
    char **page);

/* ---- list mail ------------------------------------------------------------- */

/* The headers of list mail to one member: List-Id, List-Unsubscribe (mailto:
 * and, with base_url, an https: link signed for member_key),
 * List-Unsubscribe-Post, List-Help, Precedence: list, Auto-Submitted:
 * auto-generated. base_url may be NULL. 0 or -1. */
int list_add_headers(struct mailfmt *mf, const struct config *cfg, const char *base_url,
    const unsigned char *key, size_t keylen, const char *slug, const char *name,
    int64_t member_key, time_t now, struct err *e);

/* ---- by mail ----------------------------------------------------------------- */

/*
 * If m (from the normalised sender, stored as msg_id) is a list command or
 * the reply to a confirmation, act on it and queue the answer. Returns 1
 * (what says what happened, for the log and the message's reason), 0 when
 * it is neither, -1 on error.
 */
int list_ingest(struct store *st, const struct config *cfg, const unsigned char *key,
    size_t keylen, const struct mime_msg *m, const char *sender, int64_t msg_id, time_t now,
    char *what, size_t size, struct err *e);

#endif
