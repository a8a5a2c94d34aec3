/*
 * mime — a raw mail turned into what the pipeline reads (pure: bytes in,
 * structures out; no sockets, no SQLite, no clock).
 *
 * Parsing uses libetpan's MIME parser; text is converted to UTF-8 from the
 * declared charset, falling back to UTF-8, then Windows-1252, then
 * ISO-8859-1 when the bytes are not valid in the declared one. Every string
 * in struct mime_msg is valid UTF-8 (invalid sequences replaced by U+FFFD)
 * and NUL-free; header values have no CR or LF.
 */
#ifndef MERCOMAIL_MIME_H
#define MERCOMAIL_MIME_H

#include <stddef.h>

#include "err.h"

struct mime_header {
	char *name;		/* as written, e.g. "Authentication-Results" */
	char *value;		/* unfolded raw value (not RFC 2047-decoded), no CR/LF */
};

struct mime_attachment {
	char *filename;		/* decoded, UTF-8; may be NULL */
	char *content_type;	/* e.g. "application/pdf" */
	size_t size;		/* decoded size in bytes */
};

struct mime_msg {
	struct mime_header *headers;	/* every top-level header, in order */
	size_t nheaders;

	char *subject;		/* RFC 2047-decoded, UTF-8, "" if absent */
	char *from_addr;	/* addr-spec of From, lowercased domain; NULL if none */
	char *from_name;	/* decoded display name; NULL if none */
	char *reply_to_addr;	/* addr-spec of Reply-To; NULL if none */
	char *message_id;	/* "<...>" or NULL */
	char *in_reply_to;	/* first msg-id of In-Reply-To, or NULL */

	char *text;		/* the best body text in UTF-8: text/plain preferred,
				 * else the HTML part turned into text; "" if none */
	int text_from_html;	/* 1: text came from HTML */
	char *html;		/* the HTML body in UTF-8 if there is one, else NULL */
	char *calendar;		/* first text/calendar part in UTF-8, or NULL */
	char *calendar_method;	/* its method= parameter, upper case, or NULL */
	char *content_type;	/* top-level type/subtype, lower case, e.g. "multipart/report" */

	struct mime_attachment *attachments;
	size_t nattachments;
};

/* Parse a raw message. Returns a structure to free with mime_msg_free(), or
 * NULL with e set when the bytes are not a mail at all. A mail with broken
 * parts still parses: what can be read is read. */
struct mime_msg *mime_parse(const char *raw, size_t len, struct err *e);
void mime_msg_free(struct mime_msg *m);		/* accepts NULL */

/* The nth (0-based) top-level header called name (case-insensitive), or NULL. */
const char *mime_header(const struct mime_msg *m, const char *name, size_t nth);

/* The words that may be addresses ("a@b", "<a@b>", "Name <a@b>, c@d") in
 * the delivery headers Delivered-To, X-Original-To, To and Cc, in that
 * order: fn is called with each until it returns nonzero, which is then
 * returned; 0 when it never did. Where signed addresses of ours are looked
 * for (a reply, a bounce). */
typedef int mime_word_fn(const char *word, void *arg);
int mime_recipient_words(const struct mime_msg *m, mime_word_fn *fn, void *arg);

/* RFC 2047-decode a header value into UTF-8 (CR/LF removed). Caller frees. */
char *mime_decode_header(const char *value);

/* Convert bytes in charset (NULL: unknown) to UTF-8 with the fallbacks
 * above. Caller frees. */
char *mime_to_utf8(const char *data, size_t len, const char *charset);

/* HTML (UTF-8) to readable text: paragraphs and <br> as line breaks, list
 * items as "- ", entities decoded, scripts/styles dropped. Caller frees. */
char *mime_html_to_text(const char *html, size_t len);

#endif
