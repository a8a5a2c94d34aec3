#include "buildconf.h"

/*
 * mailfmt — build RFC 5322 messages (pure: the clock comes in as `now`,
 * randomness from gnutls_rnd).
 *
 * Header values: every value goes through hdr_clean() first, which removes
 * CR, LF, NUL, the other C0 controls and DEL and the C1 controls, replaces
 * bytes that are not UTF-8 with U+FFFD, turns TABs into spaces, collapses
 * runs of blanks into one space and trims the ends, and bounds the length.
 * After that nothing a caller passes can start a new header line: the only
 * line breaks in the header block are the ones this file writes.
 *
 * Words that are not ASCII, that look like encoded-words themselves ("=?"),
 * or that are too long for one line (see needs_encoding) are RFC 2047
 * Q-encoded as whole runs
 * of words ("=?UTF-8?Q?Reuni=C3=B3n_de_coordinaci=C3=B3n?="). Each
 * encoded-word is at most 75 characters and holds whole UTF-8 characters.
 * Lines are folded at 78 columns by inserting CRLF before an existing space,
 * so unfolding gives the value back.
 */

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <gnutls/gnutls.h>
#include <gnutls/crypto.h>

#include "mailfmt.h"
#include "text.h"

#define LINE_COLS	78	/* fold header lines at this width */
#define EW_MAX		75	/* longest encoded-word (RFC 2047 section 2) */
#define EW_PREFIX	"=?UTF-8?Q?"
#define EW_OVERHEAD	12	/* strlen(EW_PREFIX) + strlen("?=") */
#define EW_MIN_ROOM	16	/* fold rather than start a tinier encoded-word */
#define PLAIN_MAX	(LINE_COLS - 1)	/* longer plain words are encoded so they can be split */
#define ANGLE_MAX	900	/* longest <msg-id> or <URL> kept whole on a line */
#define QP_COLS		76	/* quoted-printable line length, "=" included */
#define B64_COLS	76
#define VALUE_MAX	2048	/* bytes of a header value kept */
#define NAME_MAX_LEN	64	/* header field name */
#define DISPLAY_WORD_MAX 60	/* a longer word in a display name gets it encoded */

/* printf into b: only for short fixed lines (out of memory past 512 bytes) */
static void addf(struct textbuf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void
addf(struct textbuf *b, const char *fmt, ...)
{
	char tmp[512];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(tmp, sizeof tmp, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof tmp) {
		b->oom = 1;
		return;
	}
	textbuf_add(b, tmp, (size_t)n);
}

static const char hexdig[] = "0123456789ABCDEF";

/* ---- UTF-8 ---------------------------------------------------------------- */

/*
 * A header value made safe (see the top of the file). Returns a new string
 * or NULL when out of memory.
 */
static char *
hdr_clean(const char *in)
{
	const unsigned char *s = (const unsigned char *)in;
	size_t n = strlen(in), i = 0;
	struct textbuf b = { 0 };
	int pending_space = 0;

	while (i < n && b.len < VALUE_MAX) {
		unsigned char c = s[i];
		size_t l;

		if (c == ' ' || c == '\t') {
			pending_space = b.len > 0;
			i++;
			continue;
		}
		if (c < 0x20 || c == 0x7f) {	/* CR, LF, NUL and the rest */
			i++;
			continue;
		}
		l = text_utf8_len(s + i, n - i);
		if (l == 2 && c == 0xc2 && s[i + 1] < 0xa0) {	/* C1 control */
			i += 2;
			continue;
		}
		if (pending_space) {
			textbuf_addc(&b, ' ');
			pending_space = 0;
		}
		if (l == 0) {
			textbuf_adds(&b, "\xef\xbf\xbd");	/* U+FFFD */
			i++;
		} else {
			textbuf_add(&b, in + i, l);
			i += l;
		}
	}
	return textbuf_take(&b);
}

/* ---- header folding and encoded-words ------------------------------------- */

struct fold {
	struct textbuf *b;
	size_t col;		/* columns used on the current line */
	int nofold;		/* mailfmt_encode_word: one line, words joined by spaces */
	int bare;		/* only the field name on this line so far */
};

/* A token that may not be split, preceded by a space (a folding point) when
 * sep is set. */
static void
fold_plain(struct fold *f, const char *s, size_t n, int sep)
{
	if (sep) {
		/* fold when that helps: a token too long for any line goes on
		 * a line of its own, but not alone after the field name */
		if (!f->nofold && f->col > 0 && f->col + 1 + n > LINE_COLS &&
		    (1 + n <= LINE_COLS || !f->bare)) {
			textbuf_add(f->b, "\r\n", 2);
			f->col = 0;
		}
		if (f->col > 0 || !f->nofold)
			textbuf_addc(f->b, ' ');
		f->col++;
	}
	textbuf_add(f->b, s, n);
	f->col += n;
	f->bare = 0;
}

static int
q_literal(unsigned char c)
{
	/* RFC 2047 5(3): the characters safe in any position, phrases included */
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	    (c >= '0' && c <= '9') || c == '!' || c == '*' || c == '+' ||
	    c == '-' || c == '/';
}

/* Encoded length of the bytes s[0..n). */
static size_t
q_len(const unsigned char *s, size_t n)
{
	size_t len = 0;

	for (size_t i = 0; i < n; i++)
		len += (s[i] == ' ' || q_literal(s[i])) ? 1 : 3;
	return len;
}

static void
q_put(struct textbuf *b, const unsigned char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (s[i] == ' ')
			textbuf_addc(b, '_');
		else if (q_literal(s[i]))
			textbuf_addc(b, (char)s[i]);
		else {
			char t[3] = { '=', hexdig[s[i] >> 4], hexdig[s[i] & 15] };
			textbuf_add(b, t, 3);
		}
	}
}

/*
 * Encode the run s[0..n) (valid UTF-8, from hdr_clean) as one or more
 * encoded-words, each preceded by a space, each at most EW_MAX characters
 * and fitting the line when folding. A UTF-8 character is never split.
 */
static void
fold_encoded(struct fold *f, const char *str, size_t n)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t i = 0;

	while (i < n) {
		size_t cl = text_utf8_len(s + i, n - i), room, cap, used = 0, rest;
		size_t sp_i = 0, sp_len = 0, sp_used = 0;

		if (cl == 0)
			cl = 1;		/* cannot happen after hdr_clean */
		if (f->nofold) {
			room = EW_MAX;
		} else {
			room = LINE_COLS > f->col + 1 ? LINE_COLS - f->col - 1 : 0;
			rest = q_len(s + i, n - i);
			/* fold first when the line has too little room, or when
			 * the rest would fit whole in one word on the next line */
			if (f->col > 0 && (room < EW_OVERHEAD + EW_MIN_ROOM ||
			    room < EW_OVERHEAD + q_len(s + i, cl) ||
			    (rest <= EW_MAX - EW_OVERHEAD && room < EW_OVERHEAD + rest))) {
				textbuf_add(f->b, "\r\n", 2);
				f->col = 0;
				room = LINE_COLS - 1;
			}
			if (room > EW_MAX)
				room = EW_MAX;
		}
		cap = room - EW_OVERHEAD;
		if (f->col > 0 || !f->nofold)
			textbuf_addc(f->b, ' ');
		f->col++;
		textbuf_adds(f->b, EW_PREFIX);
		while (i < n) {
			size_t l = text_utf8_len(s + i, n - i), ql;

			if (l == 0)
				l = 1;
			ql = q_len(s + i, l);
			if (used + ql > cap && used > 0) {
				/* rather end the word after a blank, if one is not
				 * too far back, so words stay whole */
				if (sp_i > 0 && sp_used >= cap / 3 && !f->b->oom) {
					textbuf_truncate(f->b, sp_len);
					i = sp_i;
					used = sp_used;
				}
				break;
			}
			q_put(f->b, s + i, l);
			used += ql;
			i += l;
			if (s[i - 1] == ' ') {
				sp_i = i;
				sp_len = f->b->len;
				sp_used = used;
			}
		}
		textbuf_add(f->b, "?=", 2);
		f->col += EW_OVERHEAD + used;
		f->bare = 0;
	}
}

/*
 * A word is encoded when it is not ASCII, when it could be taken for an
 * encoded-word, or when it is too long for a line (so it can be split)
 * unless it is in angle brackets: a msg-id in In-Reply-To or References,
 * a URL in List-Unsubscribe, where an encoded-word would be wrong. Those
 * may make a line longer than 78 (RFC 5322 allows up to 998).
 */
static int
needs_encoding(const char *w, size_t n)
{
	int angle = n > 2 && w[0] == '<' &&
	    (w[n - 1] == '>' || (w[n - 2] == '>' && w[n - 1] == ','));

	if (n > PLAIN_MAX && (!angle || n > ANGLE_MAX))
		return 1;
	for (size_t i = 0; i < n; i++) {
		if ((unsigned char)w[i] >= 0x80)
			return 1;
		if (w[i] == '=' && i + 1 < n && w[i + 1] == '?')
			return 1;
	}
	return 0;
}

/*
 * An unstructured value (already clean: words separated by single spaces):
 * plain words as they are, runs of words that need it encoded together.
 */
static void
fold_unstructured(struct fold *f, const char *v)
{
	const char *p = v;

	while (*p != '\0') {
		const char *w = p, *e = strchr(w, ' ');
		size_t n = e ? (size_t)(e - w) : strlen(w);

		if (!needs_encoding(w, n)) {
			fold_plain(f, w, n, 1);
			p = w + n;
		} else {
			/* extend the run over the following words that need encoding */
			const char *end = w + n;
			while (*end == ' ') {
				const char *w2 = end + 1, *e2 = strchr(w2, ' ');
				size_t n2 = e2 ? (size_t)(e2 - w2) : strlen(w2);
				if (!needs_encoding(w2, n2))
					break;
				end = w2 + n2;
			}
			fold_encoded(f, w, (size_t)(end - w));
			p = end;
		}
		if (*p == ' ')
			p++;
	}
}

char *
mailfmt_encode_word(const char *utf8)
{
	struct textbuf b = { 0 };
	struct fold f = { &b, 0, 1, 0 };
	char *v;
	int enc = 0;

	if (utf8 == NULL)
		return NULL;
	if ((v = hdr_clean(utf8)) == NULL)
		return NULL;
	for (const char *p = v; *p != '\0'; p++)
		if ((unsigned char)*p >= 0x80 || (p[0] == '=' && p[1] == '?'))
			enc = 1;
	if (!enc)
		return v;
	fold_encoded(&f, v, strlen(v));
	free(v);
	return textbuf_take(&b);
}

/* ---- addresses ------------------------------------------------------------ */

static int
is_atext(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	    (c >= '0' && c <= '9') || (c != '\0' && strchr("!#$%&'*+-/=?^_`{|}~", c));
}

/* Domain: labels of letters, digits and '-', separated by single dots. */
static int
valid_domain(const char *d, size_t n)
{
	size_t label = 0;

	if (n == 0 || n > 253)
		return 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)d[i];
		if (c == '.') {
			if (label == 0 || d[i - 1] == '-')
				return 0;
			label = 0;
		} else if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		    (c >= '0' && c <= '9') || c == '-') {
			if (c == '-' && label == 0)
				return 0;
			if (++label > 63)
				return 0;
		} else {
			return 0;
		}
	}
	return label > 0 && d[n - 1] != '-';
}

/*
 * A plausible addr-spec: dot-atom local part (at most 64), exactly one '@',
 * a domain of letters, digits, '-' and dots. No blanks, controls, non-ASCII
 * or any of <>,;:"()[]\ anywhere.
 */
static int
valid_addr(const char *a)
{
	const char *at = strchr(a, '@');
	size_t len = strlen(a), local;

	if (at == NULL || strchr(at + 1, '@') != NULL || len > 254)
		return 0;
	local = (size_t)(at - a);
	if (local == 0 || local > 64 || a[0] == '.' || at[-1] == '.')
		return 0;
	for (size_t i = 0; i < local; i++) {
		if (a[i] == '.') {
			if (a[i + 1] == '.')
				return 0;
		} else if (!is_atext((unsigned char)a[i])) {
			return 0;
		}
	}
	return valid_domain(at + 1, len - local - 1);
}

struct maddr {
	char *display;		/* clean, or NULL */
	char *addr;
};

/* One mailbox; trail (",", or "") is glued to its last token. */
static void
fold_address(struct fold *f, const struct maddr *a, const char *trail)
{
	const char *d = a->display;
	struct textbuf tok = { 0 };
	size_t dn;

	if (d != NULL && *d != '\0') {
		int enc = 0, quote = 0;
		size_t word = 0;

		for (const char *p = d; *p != '\0'; p++) {
			unsigned char c = (unsigned char)*p;
			if (c >= 0x80 || (p[0] == '=' && p[1] == '?'))
				enc = 1;
			else if (c != ' ' && !is_atext(c))
				quote = 1;
			word = c == ' ' ? 0 : word + 1;
			if (word > DISPLAY_WORD_MAX)
				enc = 1;
		}
		dn = strlen(d);
		if (enc) {
			/* the whole name, so specials inside need no quoting */
			fold_encoded(f, d, dn);
		} else if (!quote) {
			fold_unstructured(f, d);
		} else {
			/* a quoted-string; split at its blanks (FWS is allowed
			 * inside) only when it is longer than a line */
			struct textbuf q = { 0 };

			textbuf_addc(&q, '"');
			for (const char *p = d; *p != '\0'; p++) {
				if (*p == '"' || *p == '\\')
					textbuf_addc(&q, '\\');
				textbuf_addc(&q, *p);
			}
			textbuf_addc(&q, '"');
			if (q.oom) {
				f->b->oom = 1;
			} else if (q.len <= LINE_COLS - 1) {
				fold_plain(f, q.p, q.len, 1);
			} else {
				const char *p = q.p;

				while (*p != '\0') {
					size_t l = strcspn(p, " ");

					fold_plain(f, p, l, 1);
					p += l;
					if (*p == ' ')
						p++;
				}
			}
			textbuf_free(&q);
		}
	}
	if (d != NULL && *d != '\0')
		textbuf_addc(&tok, '<');
	textbuf_adds(&tok, a->addr);
	if (d != NULL && *d != '\0')
		textbuf_addc(&tok, '>');
	textbuf_adds(&tok, trail);
	if (tok.oom)
		f->b->oom = 1;
	else
		fold_plain(f, tok.p, tok.len, 1);
	textbuf_free(&tok);
}

/* ---- the message ---------------------------------------------------------- */

struct mhdr {
	char name[NAME_MAX_LEN + 1];
	char *value;		/* unstructured: clean value */
	struct maddr *addrs;	/* address header: the list */
	size_t naddrs;
	int is_addr;
};

struct mattach {
	char *name, *type;
	unsigned char *data;
	size_t len;
};

struct mailfmt {
	struct mhdr *h;
	size_t nh;
	char *text, *html, *ics;
	char method[32];
	struct mattach *att;
	size_t natt;
};

struct mailfmt *
mailfmt_new(void)
{
	return calloc(1, sizeof(struct mailfmt));
}

static void
mhdr_clear(struct mhdr *h)
{
	free(h->value);
	for (size_t i = 0; i < h->naddrs; i++) {
		free(h->addrs[i].display);
		free(h->addrs[i].addr);
	}
	free(h->addrs);
	memset(h, 0, sizeof *h);
}

void
mailfmt_free(struct mailfmt *m)
{
	if (m == NULL)
		return;
	for (size_t i = 0; i < m->nh; i++)
		mhdr_clear(&m->h[i]);
	free(m->h);
	free(m->text);
	free(m->html);
	free(m->ics);
	for (size_t i = 0; i < m->natt; i++) {
		free(m->att[i].name);
		free(m->att[i].type);
		free(m->att[i].data);
	}
	free(m->att);
	free(m);
}

static int
valid_name(const char *name)
{
	size_t n = 0;

	if (name == NULL)
		return 0;
	for (; name[n] != '\0'; n++) {
		char c = name[n];
		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		    (c >= '0' && c <= '9') || c == '-'))
			return 0;
	}
	return n > 0 && n <= NAME_MAX_LEN;
}

static int
name_in(const char *name, const char *const *list)
{
	for (; *list != NULL; list++)
		if (strcasecmp(name, *list) == 0)
			return 1;
	return 0;
}

/* Written by mailfmt_build itself (and Bcc, which must never show). */
static const char *const generated[] = {
	"Date", "Message-ID", "MIME-Version", "Content-Type",
	"Content-Transfer-Encoding", "Bcc", NULL
};
/* Only through mailfmt_address. Bcc is refused there too: it would show. */
static const char *const address_names[] = {
	"From", "Sender", "To", "Cc", "Reply-To", NULL
};
static const char *const single_mailbox[] = { "From", "Sender", NULL };

static struct mhdr *
find_hdr(struct mailfmt *m, const char *name)
{
	for (size_t i = 0; i < m->nh; i++)
		if (strcasecmp(m->h[i].name, name) == 0)
			return &m->h[i];
	return NULL;
}

static struct mhdr *
add_hdr(struct mailfmt *m, const char *name, int is_addr)
{
	struct mhdr *h = realloc(m->h, (m->nh + 1) * sizeof *h);

	if (h == NULL)
		return NULL;
	m->h = h;
	h = &m->h[m->nh++];
	memset(h, 0, sizeof *h);
	str_copy(h->name, name, sizeof h->name);
	h->is_addr = is_addr;
	return h;
}

/*
 * A second call for the same name replaces the value (a message has one
 * Subject); the names mailfmt_build writes and the address headers are
 * refused here.
 */
int
mailfmt_header(struct mailfmt *m, const char *name, const char *value)
{
	struct mhdr *h;
	char *v;

	if (m == NULL || !valid_name(name) || value == NULL ||
	    name_in(name, generated) || name_in(name, address_names))
		return -1;
	if ((v = hdr_clean(value)) == NULL)
		return -1;
	if ((h = find_hdr(m, name)) != NULL) {
		free(h->value);
	} else if ((h = add_hdr(m, name, 0)) == NULL) {
		free(v);
		return -1;
	}
	h->value = v;
	return 0;
}

/*
 * From and Sender take one mailbox (a second call is an error); To, Cc and
 * Reply-To collect every address given, in order.
 */
int
mailfmt_address(struct mailfmt *m, const char *name, const char *display,
    const char *addr)
{
	const char *canon = NULL;
	struct mhdr *h;
	struct maddr *list, a = { NULL, NULL };

	if (m == NULL || name == NULL || addr == NULL || !valid_addr(addr))
		return -1;
	for (const char *const *p = address_names; *p != NULL; p++)
		if (strcasecmp(name, *p) == 0)
			canon = *p;
	if (canon == NULL)
		return -1;
	h = find_hdr(m, canon);
	if (h != NULL && name_in(canon, single_mailbox))
		return -1;
	if ((a.addr = strdup(addr)) == NULL)
		return -1;
	if (display != NULL) {
		if ((a.display = hdr_clean(display)) == NULL)
			goto fail;
		if (a.display[0] == '\0') {
			free(a.display);
			a.display = NULL;
		}
	}
	if (h == NULL && (h = add_hdr(m, canon, 1)) == NULL)
		goto fail;
	list = realloc(h->addrs, (h->naddrs + 1) * sizeof *list);
	if (list == NULL)
		goto fail;	/* the header stays, possibly empty: build refuses it */
	h->addrs = list;
	h->addrs[h->naddrs++] = a;
	return 0;
fail:
	free(a.display);
	free(a.addr);
	return -1;
}

static int
set_body(char **slot, const char *s)
{
	char *c;

	if (s == NULL || (c = strdup(s)) == NULL)
		return -1;
	free(*slot);
	*slot = c;
	return 0;
}

int
mailfmt_text(struct mailfmt *m, const char *text)
{
	return m == NULL ? -1 : set_body(&m->text, text);
}

int
mailfmt_html(struct mailfmt *m, const char *html)
{
	return m == NULL ? -1 : set_body(&m->html, html);
}

int
mailfmt_calendar(struct mailfmt *m, const char *ics, const char *method)
{
	size_t n;

	if (m == NULL || method == NULL)
		return -1;
	n = strlen(method);
	if (n == 0 || n >= sizeof m->method)
		return -1;
	for (size_t i = 0; i < n; i++) {
		char c = method[i];
		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '-'))
			return -1;
	}
	if (set_body(&m->ics, ics) < 0)
		return -1;
	for (size_t i = 0; i <= n; i++)
		m->method[i] = (method[i] >= 'a' && method[i] <= 'z') ?
		    (char)(method[i] - 'a' + 'A') : method[i];
	return 0;
}

static int
attach_name_ok(const char *s)
{
	size_t n = s ? strlen(s) : 0;

	if (n == 0 || n > 100 || s[0] == '.')
		return 0;
	return strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-") == n;
}

/* "type/subtype" then optional parameters; nothing that could end the header
 * line or break out of it (the type goes into the header as given). */
static int
attach_type_ok(const char *s)
{
	size_t n = s ? strlen(s) : 0;
	const char *slash = s ? strchr(s, '/') : NULL;

	if (n == 0 || n > 100 || slash == NULL || slash == s)
		return 0;
	for (const char *p = s; *p; p++)
		if (*p < 0x20 || *p > 0x7E || *p == '"' || *p == '\\')
			return 0;
	return 1;
}

int
mailfmt_attach(struct mailfmt *m, const char *filename, const char *content_type,
    const void *bytes, size_t len)
{
	struct mattach a = { 0 }, *n;

	if (m == NULL || (bytes == NULL && len > 0) || !attach_name_ok(filename) ||
	    !attach_type_ok(content_type))
		return -1;
	if ((n = realloc(m->att, (m->natt + 1) * sizeof *n)) == NULL)
		return -1;
	m->att = n;
	a.name = strdup(filename);
	a.type = strdup(content_type);
	a.data = malloc(len ? len : 1);
	if (a.name == NULL || a.type == NULL || a.data == NULL) {
		free(a.name);
		free(a.type);
		free(a.data);
		return -1;
	}
	if (len > 0)
		memcpy(a.data, bytes, len);
	a.len = len;
	m->att[m->natt++] = a;
	return 0;
}

/* ---- bodies --------------------------------------------------------------- */

/*
 * Quoted-printable (RFC 2045 6.7). Any line end (CRLF, LF or a lone CR)
 * becomes CRLF; the output ends with CRLF only when the input ended with a
 * line end. Encoded: '=', controls, bytes >= 0x80, a blank at the end of a
 * line, and at the start of a physical line a '.' (=2E) and the 'F' of
 * "From " (=46), for SMTP stacks and mbox files that treat those specially.
 * A UTF-8 character is kept on one physical line.
 */
char *
mailfmt_qp(const char *utf8)
{
	const unsigned char *s = (const unsigned char *)utf8;
	struct textbuf b = { 0 };
	size_t i = 0, n, col = 0;

	if (utf8 == NULL)
		return NULL;
	n = strlen(utf8);
	while (i < n) {
		char tok[16];
		size_t tl = 0, l;
		unsigned char c = s[i];

		if (c == '\r' || c == '\n') {
			textbuf_add(&b, "\r\n", 2);
			col = 0;
			i += (c == '\r' && i + 1 < n && s[i + 1] == '\n') ? 2 : 1;
			continue;
		}
		/* one character (a whole UTF-8 sequence) as a token */
		l = c >= 0x80 ? text_utf8_len(s + i, n - i) : 1;
		if (l == 0)
			l = 1;
		int last = i + l >= n || s[i + l] == '\r' || s[i + l] == '\n';
		for (size_t k = 0; k < l; k++) {
			unsigned char x = s[i + k];
			int lit = (x >= 33 && x <= 126 && x != '=') ||
			    ((x == ' ' || x == '\t') && !last);
			if (lit) {
				tok[tl++] = (char)x;
			} else {
				tok[tl++] = '=';
				tok[tl++] = hexdig[x >> 4];
				tok[tl++] = hexdig[x & 15];
			}
		}
		/* a soft break unless this is the line's last token and fits */
		if (col + tl > QP_COLS - 1 && !(last && col + tl <= QP_COLS)) {
			textbuf_add(&b, "=\r\n", 3);
			col = 0;
		}
		if (col == 0 && tl == 1 && (c == '.' ||
		    (c == 'F' && n - i >= 5 && memcmp(s + i, "From ", 5) == 0))) {
			tok[0] = '=';
			tok[1] = hexdig[c >> 4];
			tok[2] = hexdig[c & 15];
			tl = 3;
		}
		textbuf_add(&b, tok, tl);
		col += tl;
		i += l;
	}
	return textbuf_take(&b);
}

static void base64_lines(struct textbuf *out, const unsigned char *s, size_t len);

/* Base64 with CRLF every 76 characters; the text's line ends made CRLF
 * first (iCalendar wants CRLF). */
static char *
base64_crlf(const char *text)
{
	struct textbuf in = { 0 }, out = { 0 };

	for (const char *p = text; *p != '\0'; p++) {
		if (*p == '\r' || *p == '\n') {
			textbuf_add(&in, "\r\n", 2);
			if (p[0] == '\r' && p[1] == '\n')
				p++;
		} else {
			textbuf_addc(&in, *p);
		}
	}
	if (in.oom) {
		textbuf_free(&in);
		return NULL;
	}
	base64_lines(&out, (const unsigned char *)in.p, in.len);
	textbuf_free(&in);
	return textbuf_take(&out);
}

/* len bytes at s in base64, CRLF after every 76 characters and at the end. */
static void
base64_lines(struct textbuf *out, const unsigned char *s, size_t len)
{
	static const char al[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t col = 0;

	for (size_t i = 0; i < len; i += 3) {
		unsigned v = (unsigned)s[i] << 16;
		size_t left = len - i;
		char q[4];

		if (left > 1)
			v |= (unsigned)s[i + 1] << 8;
		if (left > 2)
			v |= s[i + 2];
		q[0] = al[(v >> 18) & 63];
		q[1] = al[(v >> 12) & 63];
		q[2] = left > 1 ? al[(v >> 6) & 63] : '=';
		q[3] = left > 2 ? al[v & 63] : '=';
		if (col + 4 > B64_COLS) {
			textbuf_add(out, "\r\n", 2);
			col = 0;
		}
		textbuf_add(out, q, 4);
		col += 4;
	}
	if (col > 0)
		textbuf_add(out, "\r\n", 2);
}

/* ---- mailfmt_wrap ---------------------------------------------------------- */

/* Display width of s[0..n): code points, a TAB to the next multiple of 8
 * from col. */
static size_t
text_cols(const char *s, size_t n, size_t col)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '\t')
			col = (col / 8 + 1) * 8;
		else if ((c & 0xc0) != 0x80)
			col++;
	}
	return col;
}

/* "Name: value" (a label of at most 48 bytes starting with a letter) or a
 * "- " / "* " list item: the continuation lines hang two columns deeper. */
static int
hanging_line(const char *s, size_t n)
{
	if (n >= 2 && (s[0] == '-' || s[0] == '*') && s[1] == ' ')
		return 1;
	if (n == 0 || !((s[0] >= 'A' && s[0] <= 'Z') || (s[0] >= 'a' && s[0] <= 'z') ||
	    (unsigned char)s[0] >= 0x80))
		return 0;
	for (size_t i = 1; i < n && i <= 48; i++) {
		if (s[i] == ':')
			return i + 1 < n && (s[i + 1] == ' ' || s[i + 1] == '\t');
		if ((unsigned char)s[i] < 0x20)
			return 0;
	}
	return 0;
}

/* The blanks a line starts with. */
static size_t
indent_len(const char *s, size_t n)
{
	size_t i = 0;

	while (i < n && (s[i] == ' ' || s[i] == '\t'))
		i++;
	return i;
}

/*
 * Greedy fill of the words of s[0..n) after prefix, continuation lines
 * starting with cind; blanks between words kept on a line are the original
 * ones. Every line but the last goes to out with "\n"; the last one goes to
 * tail (without its prefix) when tail is not NULL, else to out. *tail_first
 * says whether that last line is still the first one (prefix, not cind).
 */
static void
fill_words(struct textbuf *out, const char *prefix, size_t plen, const char *cind,
    size_t clen, const char *s, size_t n, size_t width, struct textbuf *tail,
    int *tail_first)
{
	struct textbuf cur = { 0 };
	size_t i = 0, col = text_cols(prefix, plen, 0);
	int first_line = 1;

	while (i < n) {
		size_t g = i, w, wc;

		while (i < n && (s[i] == ' ' || s[i] == '\t'))
			i++;
		if (i == n)
			break;		/* trailing blanks are dropped */
		w = i;
		while (i < n && s[i] != ' ' && s[i] != '\t')
			i++;
		wc = text_cols(s + w, i - w, 0);
		if (cur.len == 0) {
			textbuf_add(&cur, s + w, i - w);	/* a line's first word always fits */
			col += wc;
		} else if (text_cols(s + g, w - g, col) + wc <= width) {
			col = text_cols(s + g, w - g, col) + wc;
			textbuf_add(&cur, s + g, i - g);
		} else {
			textbuf_add(out, first_line ? prefix : cind, first_line ? plen : clen);
			textbuf_add(out, cur.p, cur.len);
			textbuf_addc(out, '\n');
			first_line = 0;
			cur.len = 0;
			textbuf_add(&cur, s + w, i - w);
			col = text_cols(cind, clen, 0) + wc;
		}
	}
	if (cur.oom)
		out->oom = 1;
	if (tail != NULL) {
		tail->len = 0;
		textbuf_add(tail, cur.p ? cur.p : "", cur.len);
		*tail_first = first_line;
	} else if (cur.len > 0) {
		textbuf_add(out, first_line ? prefix : cind, first_line ? plen : clen);
		textbuf_add(out, cur.p, cur.len);
	}
	textbuf_free(&cur);
}

/*
 * Paragraphs are re-flowed only where a line is too long: a line that fits
 * comes out byte for byte, so signatures, short "Name: value" lines, lists
 * and examples keep their line breaks. A line longer than width (in code
 * points) is broken at blanks, and what is left over runs on into the next
 * line of the same paragraph (a prose line with the same indentation), so no
 * short stub is left behind. A "Name: value" line or a "- " item starts a
 * paragraph of its own whose continuation lines hang two columns deeper, so
 * they still read (and parse) as a continuation. A word longer than width is
 * never broken. Line ends come out as "\n"; a final line end is kept.
 */
char *
mailfmt_wrap(const char *text, size_t width)
{
	struct textbuf b = { 0 }, carry = { 0 }, joined = { 0 };
	const char *p = text;

	if (text == NULL)
		return NULL;
	if (width == 0)
		width = LINE_COLS;
	while (*p != '\0') {
		size_t n = strcspn(p, "\r\n"), ind = indent_len(p, n), clen;
		const char *para = p;
		int hang, first = 1, carry_first = 0, have_carry = 0;
		char cind[64];

		if (ind == n) {			/* a blank line */
			textbuf_add(&b, p, n);
			goto eol;
		}
		hang = hanging_line(p + ind, n - ind);
		clen = ind < sizeof cind - 3 ? ind : sizeof cind - 3;
		memcpy(cind, p, clen);
		if (hang) {
			memcpy(cind + clen, "  ", 2);
			clen += 2;
		}
		/* the lines of this paragraph, each in turn */
		for (;;) {
			size_t li = first ? ind : clen;
			const char *prefix = first ? para : cind;
			const char *next;
			int last;

			next = p + n;
			next += (next[0] == '\r' && next[1] == '\n') ? 2 : (*next ? 1 : 0);
			/* does the paragraph go on with the next line? */
			{
				size_t nn = strcspn(next, "\r\n"), ni = indent_len(next, nn);
				last = *(p + n) == '\0' || ni == nn || ni != clen ||
				    memcmp(next, cind, clen) != 0 ||
				    hanging_line(next + ni, nn - ni);
			}
			joined.len = 0;
			if (have_carry) {
				textbuf_add(&joined, carry.p, carry.len);
				textbuf_addc(&joined, ' ');
			}
			textbuf_add(&joined, p + li, n - li);
			if (have_carry && carry_first)
				prefix = para, li = ind;
			if (text_cols(prefix, li, 0) + text_cols(joined.p ? joined.p : "",
			    joined.len, 0) <= width) {
				textbuf_add(&b, prefix, li);
				textbuf_add(&b, joined.p ? joined.p : "", joined.len);
				have_carry = 0;
			} else {
				fill_words(&b, prefix, li, cind, clen, joined.p, joined.len, width,
				    last ? NULL : &carry, &carry_first);
				have_carry = !last;
				if (have_carry)
					carry_first = carry_first && prefix == para;
			}
			first = 0;
			if (last)
				break;
			if (!have_carry)
				textbuf_addc(&b, '\n');
			p = next;
			n = strcspn(p, "\r\n");
		}
eol:
		p += n;
		if (*p == '\0')
			break;
		textbuf_addc(&b, '\n');
		p += (p[0] == '\r' && p[1] == '\n') ? 2 : 1;
	}
	textbuf_free(&carry);
	textbuf_free(&joined);
	if (carry.oom || joined.oom)
		b.oom = 1;
	return textbuf_take(&b);
}

/* ---- build ---------------------------------------------------------------- */

static int
random_hex(char *out, size_t bytes)
{
	unsigned char r[32];

	if (bytes > sizeof r || gnutls_rnd(GNUTLS_RND_NONCE, r, bytes) != 0)
		return -1;
	for (size_t i = 0; i < bytes; i++) {
		out[2 * i] = "0123456789abcdef"[r[i] >> 4];
		out[2 * i + 1] = "0123456789abcdef"[r[i] & 15];
	}
	out[2 * bytes] = '\0';
	return 0;
}

static const char *const wdays[] = { "Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat" };
static const char *const months[] = {
	"Jan", "Feb", "Mar", "Apr", "May", "Jun",
	"Jul", "Aug", "Sep", "Oct", "Nov", "Dec"
};

static void
put_header(struct textbuf *b, const struct mhdr *h)
{
	struct fold f = { b, strlen(h->name) + 1, 0, 1 };

	textbuf_adds(b, h->name);
	textbuf_addc(b, ':');
	if (h->is_addr) {
		for (size_t i = 0; i < h->naddrs; i++)
			fold_address(&f, &h->addrs[i], i + 1 < h->naddrs ? "," : "");
	} else {
		fold_unstructured(&f, h->value);
	}
	textbuf_add(b, "\r\n", 2);
}

/* A part's encoded content followed by the CRLF that starts the next
 * delimiter line. */
static void
put_content(struct textbuf *b, const char *enc)
{
	size_t n = strlen(enc);

	textbuf_add(b, enc, n);
	if (n < 2 || enc[n - 2] != '\r' || enc[n - 1] != '\n')
		textbuf_add(b, "\r\n", 2);
}

/* Every CR is followed by LF and every LF preceded by CR. */
static int
crlf_only(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '\r' && (i + 1 == n || s[i + 1] != '\n'))
			return 0;
		if (s[i] == '\n' && (i == 0 || s[i - 1] != '\r'))
			return 0;
	}
	return 1;
}

char *
mailfmt_build(struct mailfmt *m, const char *msgid_domain, time_t now,
    char **msgid, size_t *len, struct err *e)
{
	struct textbuf b = { 0 };
	char *qtext = NULL, *qhtml = NULL, *bcal = NULL, *id = NULL, *out = NULL;
	char rnd[33], boundary[64], mixed[64];
	struct tm tm;
	int have_from = 0;

	if (msgid != NULL)
		*msgid = NULL;
	if (len != NULL)
		*len = 0;
	if (m == NULL || m->text == NULL) {
		err_set(e, "mailfmt: the message has no text body");
		return NULL;
	}
	if (msgid_domain == NULL || !valid_domain(msgid_domain, strlen(msgid_domain))) {
		err_set(e, "mailfmt: bad Message-ID domain \"%.64s\"",
		    msgid_domain ? msgid_domain : "(null)");
		return NULL;
	}
	for (size_t i = 0; i < m->nh; i++) {
		if (m->h[i].is_addr && m->h[i].naddrs == 0) {
			err_set(e, "mailfmt: %s header without an address", m->h[i].name);
			return NULL;
		}
		if (strcmp(m->h[i].name, "From") == 0)
			have_from = 1;
	}
	if (!have_from) {
		err_set(e, "mailfmt: the message has no From");
		return NULL;
	}
	if (gmtime_r(&now, &tm) == NULL || tm.tm_year + 1900 > 9999 || tm.tm_year + 1900 < 1970) {
		err_set(e, "mailfmt: time %lld out of range", (long long)now);
		return NULL;
	}
	if (random_hex(rnd, 16) < 0) {
		err_set(e, "mailfmt: no random bytes for the Message-ID");
		return NULL;
	}
	{
		struct textbuf ib = { 0 };
		char t[32];

		snprintf(t, sizeof t, ".%lld@", (long long)now);
		textbuf_addc(&ib, '<');
		textbuf_adds(&ib, rnd);
		textbuf_adds(&ib, t);
		textbuf_adds(&ib, msgid_domain);
		textbuf_addc(&ib, '>');
		if ((id = textbuf_take(&ib)) == NULL)
			goto oom;
	}

	addf(&b, "Date: %s, %02d %s %04d %02d:%02d:%02d +0000\r\n",
	    wdays[tm.tm_wday], tm.tm_mday, months[tm.tm_mon], tm.tm_year + 1900,
	    tm.tm_hour, tm.tm_min, tm.tm_sec);
	textbuf_adds(&b, "Message-ID: ");
	textbuf_adds(&b, id);
	textbuf_add(&b, "\r\n", 2);
	for (size_t i = 0; i < m->nh; i++)
		put_header(&b, &m->h[i]);
	textbuf_adds(&b, "MIME-Version: 1.0\r\n");
	/* Attachments: multipart/mixed, the body its first part. "=_mm_" differs
	 * from the alternative's "=_mc_" and cannot occur in base64 or
	 * quoted-printable. */
	if (m->natt > 0) {
		char r[25];

		if (random_hex(r, 12) < 0) {
			err_set(e, "mailfmt: no random bytes for the boundary");
			goto fail;
		}
		snprintf(mixed, sizeof mixed, "=_mm_%s", r);
		addf(&b, "Content-Type: multipart/mixed;\r\n boundary=\"%s\"\r\n\r\n--%s\r\n",
		    mixed, mixed);
	}

	if ((qtext = mailfmt_qp(m->text)) == NULL)
		goto oom;
	if (m->html == NULL && m->ics == NULL) {
		textbuf_adds(&b, "Content-Type: text/plain; charset=UTF-8\r\n"
		    "Content-Transfer-Encoding: quoted-printable\r\n\r\n");
		if (qtext[0] != '\0' || m->natt > 0)
			put_content(&b, qtext);
	} else {
		if (m->html != NULL && (qhtml = mailfmt_qp(m->html)) == NULL)
			goto oom;
		if (m->ics != NULL && (bcal = base64_crlf(m->ics)) == NULL)
			goto oom;
		/* "=_" cannot occur in quoted-printable or base64, but check anyway */
		for (int tries = 0;; tries++) {
			char r[25];

			if (tries == 8) {
				err_set(e, "mailfmt: no boundary found that is not in the parts");
				goto fail;
			}
			if (random_hex(r, 12) < 0) {
				err_set(e, "mailfmt: no random bytes for the boundary");
				goto fail;
			}
			snprintf(boundary, sizeof boundary, "=_mc_%s", r);
			if (strstr(qtext, boundary) == NULL &&
			    (qhtml == NULL || strstr(qhtml, boundary) == NULL) &&
			    (bcal == NULL || strstr(bcal, boundary) == NULL))
				break;
		}
		addf(&b, "Content-Type: multipart/alternative;\r\n"
		    " boundary=\"%s\"\r\n\r\n", boundary);
		addf(&b, "--%s\r\n", boundary);
		textbuf_adds(&b, "Content-Type: text/plain; charset=UTF-8\r\n"
		    "Content-Transfer-Encoding: quoted-printable\r\n\r\n");
		put_content(&b, qtext);
		if (qhtml != NULL) {
			addf(&b, "--%s\r\n", boundary);
			textbuf_adds(&b, "Content-Type: text/html; charset=UTF-8\r\n"
			    "Content-Transfer-Encoding: quoted-printable\r\n\r\n");
			put_content(&b, qhtml);
		}
		/*
		 * The calendar goes last: in multipart/alternative the last part
		 * is the richest rendering (RFC 2046 5.1.4), and text, then
		 * HTML, then text/calendar with method=... is the layout Gmail,
		 * Outlook, Apple Mail and Thunderbird show as an invitation with
		 * accept/decline buttons, while a client without calendar
		 * support shows the text or HTML.
		 */
		if (bcal != NULL) {
			addf(&b, "--%s\r\n", boundary);
			addf(&b, "Content-Type: text/calendar; charset=UTF-8;"
			    " method=%s\r\n", m->method);
			textbuf_adds(&b, "Content-Transfer-Encoding: base64\r\n\r\n");
			put_content(&b, bcal);
		}
		addf(&b, "--%s--\r\n", boundary);
	}
	for (size_t i = 0; i < m->natt; i++) {
		addf(&b, "--%s\r\nContent-Type: %s\r\n", mixed, m->att[i].type);
		addf(&b, "Content-Disposition: attachment; filename=\"%s\"\r\n", m->att[i].name);
		textbuf_adds(&b, "Content-Transfer-Encoding: base64\r\n\r\n");
		base64_lines(&b, m->att[i].data, m->att[i].len);
		if (m->att[i].len == 0)
			textbuf_add(&b, "\r\n", 2);
	}
	if (m->natt > 0)
		addf(&b, "--%s--\r\n", mixed);
	if (b.oom)
		goto oom;
	if (!crlf_only(b.p, b.len)) {
		err_set(e, "mailfmt: internal error: a bare CR or LF in the message");
		goto fail;
	}
	if (len != NULL)
		*len = b.len;
	out = textbuf_take(&b);
	if (msgid != NULL) {
		*msgid = id;
		id = NULL;
	}
	goto done;
oom:
	err_set(e, "mailfmt: out of memory");
fail:
	textbuf_free(&b);
done:
	free(qtext);
	free(qhtml);
	free(bcal);
	free(id);
	return out;
}
