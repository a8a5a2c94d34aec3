/*
 * smtp — send mail with libcurl over one reused connection.
 *
 * Certificates are verified (libcurl's default, kept on); smtp:// requires
 * STARTTLS unless the config says starttls = no. libcurl does not turn bare
 * LF into CRLF: callers hand over CRLF messages (mailfmt builds them so).
 */
#ifndef MERCOMAIL_SMTP_H
#define MERCOMAIL_SMTP_H

#include <stddef.h>

#include "config.h"
#include "err.h"

enum smtp_status {
	SMTP_SENT = 0,
	SMTP_TEMPFAIL = 1,	/* try again later: connection trouble, 4xx */
	SMTP_PERMFAIL = 2	/* the server refused this message for good: 5xx */
};

struct smtp;

/* Prepare a client; nothing is connected until the first send. password may
 * be NULL (no authentication). cfg must outlive the client. */
struct smtp *smtp_new(const struct config_smtp *cfg, const char *password, struct err *e);
void smtp_free(struct smtp *s);		/* accepts NULL */

/* Send one message to one recipient. Returns an enum smtp_status; e says
 * why when it is not SMTP_SENT. */
enum smtp_status smtp_send(struct smtp *s, const char *from, const char *rcpt,
    const char *data, size_t len, struct err *e);

#endif
