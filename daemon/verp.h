/*
 * verp — the envelope sender of list mail names its recipient.
 *
 * A digest to one member goes out with the envelope sender
 * bounces+TOKEN@domain ([lists] bounce_address with a tag; see
 * config_bounce_address), TOKEN a signed claim (auth.h) of purpose "bounce"
 * whose object is the member's key (list_member_key). Whatever a remote
 * server writes in its delivery report, and even when it quotes nothing of
 * the returned mail or names a forwarded address, the report comes back to
 * that address, and the token says which member it is about. Nobody without
 * the key can make one, so nobody can bounce someone else off a list.
 *
 * Mail to bounce_address (with any tag) must reach the mailbox mercomaild
 * polls: an alias on the mail server (README, "Bounces").
 */
#ifndef MERCOMAIL_VERP_H
#define MERCOMAIL_VERP_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "config.h"
#include "err.h"
#include "mime.h"
#include "store.h"

#define VERP_DAYS 30	/* a report may come back this long after the mail */

/* The envelope sender for list mail to member_key into out (size >= 128):
 * 0; 1 when list mail has no VERP address (no key, or no bounce address:
 * the caller uses smtp.from); -1 on error. */
int verp_sender(const struct config *cfg, const unsigned char *key, size_t keylen,
    int64_t member_key, time_t now, char *out, size_t size, struct err *e);

/* If m was sent to a VERP address of ours with a valid token (the headers
 * the delivery path leaves: Delivered-To, X-Original-To, To, Cc), the
 * address of that member into out: 1. 0 when it was not (no such address,
 * a forged or expired token, a member key that is gone); -1 on error. */
int verp_recipient(struct store *st, const struct config *cfg, const unsigned char *key,
    size_t keylen, const struct mime_msg *m, time_t now, char *out, size_t size,
    struct err *e);

/* 1 if m comes from a mail server's own address (MAILER-DAEMON, postmaster):
 * a bounce even when its text quotes nothing we can read. */
int verp_from_mailer(const struct mime_msg *m);

#endif
