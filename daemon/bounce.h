/*
 * bounce — read a delivery report about a mail we sent (pure: bytes in,
 * a structure out).
 *
 * Two shapes come back to the inbox:
 *  - DSNs (RFC 3464): multipart/report; report-type=delivery-status, with a
 *    message/delivery-status part (one block per recipient: Final-Recipient,
 *    Action, Status, Diagnostic-Code) and usually the returned message or
 *    its header (message/rfc822, text/rfc822-headers). OpenSMTPD, Postfix,
 *    Exim and Exchange all send this shape, nested in other multiparts at
 *    times.
 *  - plain bounces: a text that quotes the returned header somewhere.
 * What ties a report to our mail is the Message-ID of the returned message
 * (every outbox row has its own, and one recipient, so the Message-ID names
 * the recipient too). Parts are read as they are (7bit/8bit); a report
 * whose parts are base64-encoded yields no fields.
 */
#ifndef MERCOMAIL_BOUNCE_H
#define MERCOMAIL_BOUNCE_H

#include <stddef.h>

#define BOUNCE_MAX_RCPT 16

struct bounce_rcpt {
	char address[256];	/* Final-Recipient (else Original-Recipient), lower case, no <> */
	char action[16];	/* "failed", "delayed", "delivered", "relayed", "expanded" */
	char status[16];	/* "5.1.1", or "" */
	char diagnostic[200];	/* Diagnostic-Code without its type, control characters removed */
};

struct bounce {
	int dsn;		/* 1: a message/delivery-status part was read */
	int delayed;		/* plain bounce that only says "delayed / will retry" */
	char orig_msgid[256];	/* "<...>" of the returned message, "" if none was found */
	struct bounce_rcpt rcpt[BOUNCE_MAX_RCPT];
	size_t nrcpt;		/* DSN recipient blocks read (at most BOUNCE_MAX_RCPT) */
};

/* Parse raw (len bytes, need not be NUL-terminated) into *b. Returns 1 when
 * it is a report we can act on (a DSN part, or a returned Message-ID), else
 * 0 (b is still filled as far as it was read). */
int bounce_parse(const char *raw, size_t len, struct bounce *b);

/* 1 if r says the mail will never reach that recipient (Action failed, or
 * a 5.x.x status), else 0. */
int bounce_rcpt_hard(const struct bounce_rcpt *r);

#endif
