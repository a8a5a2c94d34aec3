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
	SMTP_TEMPFAIL = 1,	/* try this message again later: the server said 4xx */
	SMTP_PERMFAIL = 2,	/* the server refused this message for good: 5xx */
	SMTP_UNREACHABLE = 3	/* no usable connection (even after reconnecting):
				 * the rest of the queue waits as well */
};

struct smtp;

/* Prepare a client; nothing is connected until the first send. password may
 * be NULL (no authentication). cfg must outlive the client. */
struct smtp *smtp_new(const struct config_smtp *cfg, const char *password, struct err *e);
void smtp_free(struct smtp *s);		/* accepts NULL */

/* Send one message to one recipient. Returns an enum smtp_status; e says
 * why when it is not SMTP_SENT. Bare LF in data is sent as CRLF. */
enum smtp_status smtp_send(struct smtp *s, const char *from, const char *rcpt,
    const char *data, size_t len, struct err *e);

/* The reply code of the last smtp_send (0: no reply, the connection failed). */
long smtp_last_code(const struct smtp *s);

/* The config the client was made with (retry policy of the outbox). */
const struct config_smtp *smtp_config(const struct smtp *s);

/* data with every bare LF made CRLF, or NULL when it has none (nothing to
 * do) or on out of memory (*oom set). *outlen gets the new length. Caller
 * frees. Exposed for tests. */
char *smtp_crlf(const char *data, size_t len, size_t *outlen, int *oom);

#endif
