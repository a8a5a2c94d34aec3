/*
 * mailfmt — build RFC 5322 messages (pure).
 *
 * Header values are UTF-8 from anywhere (the roster, a mail): CR, LF and
 * NUL are removed before anything else, non-ASCII words are RFC 2047
 * encoded, and long headers are folded at 78 columns. Bodies are UTF-8,
 * sent quoted-printable with CRLF line ends. The message is text/plain,
 * or multipart/alternative when an HTML part (and optionally a calendar
 * part, last) is added; with attachments, multipart/mixed around that.
 */
#ifndef MERCOMAIL_MAILFMT_H
#define MERCOMAIL_MAILFMT_H

#include <stddef.h>
#include <time.h>

#include "err.h"

struct mailfmt;

struct mailfmt *mailfmt_new(void);
void mailfmt_free(struct mailfmt *m);		/* accepts NULL */

/* An unstructured header (Subject, Auto-Submitted, List-Id...). name must be
 * a valid field name (letters, digits, '-'); -1 otherwise. */
int mailfmt_header(struct mailfmt *m, const char *name, const char *value);

/* An address header (From, To, Cc, Reply-To): display name (may be NULL,
 * encoded as needed) and addr-spec (must be plausible, else -1). Calling it
 * again for To/Cc adds another address to the same header. */
int mailfmt_address(struct mailfmt *m, const char *name, const char *display,
    const char *addr);

/* The bodies. text is required; html and calendar are optional. */
int mailfmt_text(struct mailfmt *m, const char *text);
int mailfmt_html(struct mailfmt *m, const char *html);
/* A text/calendar part; method e.g. "REQUEST" (goes in the Content-Type). */
int mailfmt_calendar(struct mailfmt *m, const char *ics, const char *method);

/*
 * An attachment (any bytes, sent base64): the message becomes
 * multipart/mixed with the body (text, or the alternative) first and the
 * attachments after it, in the order added. filename: 1 to 100 of
 * [A-Za-z0-9._-], not starting with '.'; content_type: "type/subtype" with
 * optional "; name=value" parameters, printable ASCII without quotes or
 * backslashes. Copied. 0, or -1 if refused or out of memory.
 */
int mailfmt_attach(struct mailfmt *m, const char *filename, const char *content_type,
    const void *bytes, size_t len);

/*
 * The complete message with CRLF line ends, adding Date (from now),
 * Message-ID (unique, @msgid_domain) and MIME-Version. *msgid (if not NULL)
 * gets the Message-ID (caller frees). Returns the bytes (caller frees) and
 * *len, or NULL with e set.
 */
char *mailfmt_build(struct mailfmt *m, const char *msgid_domain, time_t now,
    char **msgid, size_t *len, struct err *e);

/* Helpers, exposed for tests and other modules. Each returns a new string. */
char *mailfmt_encode_word(const char *utf8);	/* RFC 2047 if needed, else a copy */
char *mailfmt_qp(const char *utf8);		/* quoted-printable body, CRLF, lines <= 76 */
char *mailfmt_wrap(const char *text, size_t width);	/* re-flow plain text to width where possible */

#endif
