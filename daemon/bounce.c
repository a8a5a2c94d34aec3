#include "buildconf.h"

/*
 * bounce — delivery reports (see bounce.h).
 *
 * A small reader of just the MIME needed here: header fields (unfolded),
 * Content-Type with its boundary, multipart bodies split at their
 * delimiter lines, recursing at most MAX_DEPTH levels and MAX_PARTS parts.
 * Everything works on (pointer, length) spans of the input, never past
 * its end, so any bytes are safe to feed it.
 */

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "bounce.h"

#define MAX_DEPTH 6
#define MAX_PARTS 64
#define FIELD_MAX 1024

struct span {
	const char *p;
	size_t n;
};

/* Split s at its first empty line into header and body (body may be empty). */
static void
split_header(struct span s, struct span *hdr, struct span *body)
{
	for (size_t i = 0; i < s.n; i++) {
		if (s.p[i] != '\n')
			continue;
		size_t j = i + 1;
		if (j < s.n && s.p[j] == '\r')
			j++;
		if (j < s.n && s.p[j] == '\n') {
			*hdr = (struct span){ s.p, i + 1 };
			*body = (struct span){ s.p + j + 1, s.n - j - 1 };
			return;
		}
		if (j >= s.n)
			break;
	}
	if (s.n > 0 && s.p[0] == '\n') {
		*hdr = (struct span){ s.p, 0 };
		*body = (struct span){ s.p + 1, s.n - 1 };
		return;
	}
	*hdr = s;
	*body = (struct span){ s.p + s.n, 0 };
}

/* Copy at most size-1 bytes of p[0..n) into out, CR/LF/TAB/controls as one
 * space, blanks collapsed and trimmed. */
static void
clean_copy(char *out, size_t size, const char *p, size_t n)
{
	size_t o = 0;
	int space = 0;

	for (size_t i = 0; i < n && o + 1 < size; i++) {
		unsigned char c = (unsigned char)p[i];
		if (c < 0x20 || c == 0x7f || c == ' ') {
			space = o > 0;
			continue;
		}
		if (space && o + 2 < size)
			out[o++] = ' ';
		space = 0;
		out[o++] = (char)c;
	}
	out[o] = '\0';
}

/* The value of field name in the header block h (first occurrence,
 * unfolded) into out; 1 found, 0 not. */
static int
field_get(struct span h, const char *name, char *out, size_t size)
{
	size_t nl = strlen(name);
	size_t i = 0;

	while (i < h.n) {
		size_t end = i;
		while (end < h.n && h.p[end] != '\n')
			end++;
		if (end - i > nl && strncasecmp(h.p + i, name, nl) == 0 && h.p[i + nl] == ':') {
			/* the value runs on over continuation lines */
			size_t v = i + nl + 1, stop = end;
			while (stop + 1 < h.n && (h.p[stop + 1] == ' ' || h.p[stop + 1] == '\t')) {
				stop++;
				while (stop < h.n && h.p[stop] != '\n')
					stop++;
			}
			clean_copy(out, size, h.p + v, stop - v);
			return 1;
		}
		i = end + 1;
	}
	return 0;
}

/* type/subtype of a Content-Type value, lower case; "text/plain" if empty. */
static void
ct_type(const char *ct, char *out, size_t size)
{
	size_t o = 0;

	while (*ct == ' ')
		ct++;
	for (; *ct && *ct != ';' && *ct != ' ' && o + 1 < size; ct++)
		out[o++] = (char)tolower((unsigned char)*ct);
	out[o] = '\0';
	if (o == 0)
		snprintf(out, size, "text/plain");
}

/* A parameter of a Content-Type value (quoted or not) into out; 1 or 0. */
static int
ct_param(const char *ct, const char *name, char *out, size_t size)
{
	size_t nl = strlen(name);
	const char *p = strchr(ct, ';');

	while (p != NULL) {
		p++;
		while (*p == ' ')
			p++;
		if (strncasecmp(p, name, nl) == 0 && p[nl] == '=') {
			size_t o = 0;
			p += nl + 1;
			if (*p == '"') {
				for (p++; *p && *p != '"' && o + 1 < size; p++)
					out[o++] = *p;
			} else {
				for (; *p && *p != ';' && *p != ' ' && o + 1 < size; p++)
					out[o++] = *p;
			}
			out[o] = '\0';
			return o > 0;
		}
		p = strchr(p, ';');
	}
	return 0;
}

/* Is the line at s.p[i..) the delimiter "--boundary" (closing: "--b--")? */
static int
delimiter_at(struct span s, size_t i, const char *bd, size_t bl, int *closing)
{
	if (i + 2 + bl > s.n || s.p[i] != '-' || s.p[i + 1] != '-' ||
	    memcmp(s.p + i + 2, bd, bl) != 0)
		return 0;
	*closing = i + 4 + bl <= s.n && s.p[i + 2 + bl] == '-' && s.p[i + 3 + bl] == '-';
	return 1;
}

static void walk(struct span s, int depth, struct bounce *b, char *text_msgid, int *parts);

/* Each body part of a multipart body. */
static void
walk_multipart(struct span body, const char *bd, int depth, struct bounce *b,
    char *text_msgid, int *parts)
{
	size_t bl = strlen(bd), i = 0, start = 0;
	int in_part = 0, closing;

	while (i < body.n) {
		if ((i == 0 || body.p[i - 1] == '\n') && delimiter_at(body, i, bd, bl, &closing)) {
			if (in_part && *parts < MAX_PARTS) {
				/* the line break before the delimiter belongs to it */
				size_t end = i;
				if (end > start && body.p[end - 1] == '\n')
					end--;
				if (end > start && body.p[end - 1] == '\r')
					end--;
				(*parts)++;
				walk((struct span){ body.p + start, end - start }, depth + 1, b,
				    text_msgid, parts);
			}
			if (closing)
				return;
			while (i < body.n && body.p[i] != '\n')
				i++;
			start = i + 1;
			in_part = 1;
		}
		i++;
	}
}

/* One DSN recipient block. */
static void
status_block(struct span blk, struct bounce *b)
{
	char v[FIELD_MAX];
	struct bounce_rcpt *r;
	const char *semi;

	if (b->nrcpt >= BOUNCE_MAX_RCPT ||
	    !(field_get(blk, "Final-Recipient", v, sizeof v) ||
	    field_get(blk, "Original-Recipient", v, sizeof v)))
		return;
	r = &b->rcpt[b->nrcpt++];
	memset(r, 0, sizeof *r);
	semi = strchr(v, ';');
	semi = semi ? semi + 1 : v;
	while (*semi == ' ' || *semi == '<')
		semi++;
	for (size_t o = 0; *semi && *semi != '>' && *semi != ' ' && o + 1 < sizeof r->address; o++)
		r->address[o] = (char)tolower((unsigned char)*semi++);
	if (field_get(blk, "Action", v, sizeof v))
		for (size_t o = 0; v[o] && v[o] != ' ' && o + 1 < sizeof r->action; o++)
			r->action[o] = (char)tolower((unsigned char)v[o]);
	if (field_get(blk, "Status", v, sizeof v))
		for (size_t o = 0; v[o] && v[o] != ' ' && o + 1 < sizeof r->status; o++)
			r->status[o] = v[o];
	if (field_get(blk, "Diagnostic-Code", v, sizeof v)) {
		semi = strchr(v, ';');
		semi = semi ? semi + 1 : v;
		while (*semi == ' ')
			semi++;
		clean_copy(r->diagnostic, sizeof r->diagnostic, semi, strlen(semi));
	}
}

/* message/delivery-status: blocks separated by empty lines; the first is
 * about the message, the others about one recipient each. */
static void
delivery_status(struct span s, struct bounce *b)
{
	b->dsn = 1;
	while (s.n > 0) {
		struct span blk, rest;
		/* skip blank lines between blocks */
		while (s.n > 0 && (s.p[0] == '\n' || s.p[0] == '\r')) {
			s.p++;
			s.n--;
		}
		if (s.n == 0)
			break;
		split_header(s, &blk, &rest);
		status_block(blk, b);
		if (rest.n == s.n)
			break;
		s = rest;
	}
}

/* "<...>" from a Message-ID value into out; 1 or 0. */
static int
take_msgid(const char *v, char *out, size_t size)
{
	const char *lt = strchr(v, '<'), *gt = lt ? strchr(lt, '>') : NULL;

	if (lt == NULL || gt == NULL || gt == lt + 1 || (size_t)(gt - lt + 1) >= size ||
	    memchr(lt, ' ', (size_t)(gt - lt)) != NULL)
		return 0;
	memcpy(out, lt, (size_t)(gt - lt + 1));
	out[gt - lt + 1] = '\0';
	return 1;
}

/* A "Message-ID:" line anywhere in a text (a quoted header in a plain
 * bounce, possibly indented). */
static void
scan_text_msgid(struct span s, char *out, size_t size)
{
	static const char key[] = "message-id:";
	size_t kl = sizeof key - 1;

	if (*out != '\0')
		return;
	for (size_t i = 0; i + kl <= s.n; i++) {
		if (i > 0 && s.p[i - 1] != '\n' && s.p[i - 1] != ' ' && s.p[i - 1] != '\t' &&
		    s.p[i - 1] != '>')
			continue;
		if (strncasecmp(s.p + i, key, kl) == 0) {
			char v[FIELD_MAX];
			size_t end = i + kl;
			while (end < s.n && s.p[end] != '\n')
				end++;
			clean_copy(v, sizeof v, s.p + i + kl, end - i - kl);
			if (take_msgid(v, out, size))
				return;
		}
	}
}

/* A crude "is it only a delay warning?" for plain bounces. */
static int
says_delayed(struct span s)
{
	static const char *const words[] = { "delayed", "will retry", "still trying",
	    "not yet been delivered", "warning:" };
	char buf[4096];

	clean_copy(buf, sizeof buf, s.p, s.n < sizeof buf - 1 ? s.n : sizeof buf - 1);
	for (size_t i = 0; i < sizeof words / sizeof words[0]; i++) {
		size_t wl = strlen(words[i]);
		for (const char *p = buf; *p; p++)
			if (strncasecmp(p, words[i], wl) == 0)
				return 1;
	}
	return 0;
}

static void
walk(struct span s, int depth, struct bounce *b, char *text_msgid, int *parts)
{
	struct span hdr, body;
	char ct[FIELD_MAX] = "", type[64], bd[256], v[FIELD_MAX];

	split_header(s, &hdr, &body);
	field_get(hdr, "Content-Type", ct, sizeof ct);
	ct_type(ct, type, sizeof type);
	if (strncmp(type, "multipart/", 10) == 0) {
		if (depth < MAX_DEPTH && ct_param(ct, "boundary", bd, sizeof bd))
			walk_multipart(body, bd, depth, b, text_msgid, parts);
	} else if (strcmp(type, "message/delivery-status") == 0 ||
	    strcmp(type, "message/global-delivery-status") == 0) {
		delivery_status(body, b);
	} else if (strcmp(type, "message/rfc822") == 0 || strcmp(type, "text/rfc822-headers") == 0 ||
	    strcmp(type, "message/rfc822-headers") == 0 || strcmp(type, "message/global") == 0 ||
	    strcmp(type, "message/global-headers") == 0) {
		struct span rh, rb;
		split_header(body, &rh, &rb);
		if (b->orig_msgid[0] == '\0' && field_get(rh, "Message-ID", v, sizeof v))
			take_msgid(v, b->orig_msgid, sizeof b->orig_msgid);
	} else if (strncmp(type, "text/", 5) == 0) {
		scan_text_msgid(body, text_msgid, sizeof b->orig_msgid);
		if (depth == 0)
			b->delayed = says_delayed(body);
	}
}

int
bounce_parse(const char *raw, size_t len, struct bounce *b)
{
	char text_msgid[sizeof b->orig_msgid] = "";
	int parts = 0;

	memset(b, 0, sizeof *b);
	if (raw == NULL)
		return 0;
	walk((struct span){ raw, len }, 0, b, text_msgid, &parts);
	if (b->orig_msgid[0] == '\0')
		memcpy(b->orig_msgid, text_msgid, sizeof text_msgid);
	if (b->dsn)
		b->delayed = 0;
	return b->dsn || b->orig_msgid[0] != '\0';
}

int
bounce_rcpt_hard(const struct bounce_rcpt *r)
{
	return strcmp(r->action, "failed") == 0 || r->status[0] == '5';
}
