#include "buildconf.h"

/*
 * mime — raw mail to headers, body text, HTML, calendar and attachments.
 *
 * The top-level header block is read here (every header, in order); the
 * body structure is parsed by libetpan (mailmime_parse) on a copy of the
 * body preceded by the top-level Content-* headers only, so libetpan never
 * sees the rest of a possibly hostile header block. Part bodies are decoded
 * with mailmime_part_parse, RFC 2047 words with mailmime_encoded_word_parse,
 * addresses with mailimf_mailbox_list_parse; charsets go through iconv or
 * the built-in ASCII / UTF-8 / Windows-1252 decoders below.
 *
 * Bounds (libetpan recurses and keeps every part header in memory): a body
 * whose structure is beyond what any real client writes (see
 * body_too_complex()) is not split into parts; the text is then "".
 */

#include <ctype.h>
#include <errno.h>
#include <iconv.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <libetpan/libetpan.h>

#include "mime.h"
#include "text.h"

#define MAX_HEADERS	10000		/* top-level headers kept */
#define HDR_DECODE_MAX	(64 * 1024)	/* bytes of a header value decoded */
#define WALK_DEPTH_MAX	64		/* MIME nesting looked at */
#define MAX_ATTACHMENTS	10000
#define MSGID_MAX	512
#define ADDR_MAX	320

/* body_too_complex() limits */
#define SCAN_MAX_DASHLINES	100000
#define SCAN_MAX_HDRLINES	100000
#define SCAN_MAX_COMPOSITE	256
#define SCAN_MAX_WORK		500000000.0	/* composite declarations x bytes */

/* ------------------------------------------------------------ UTF-8 */

/* Encode a code point (< 0x110000) into t; returns the length. */
static size_t
utf8_enc(uint32_t cp, char t[4])
{
	if (cp < 0x80) {
		t[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		t[0] = (char)(0xC0 | (cp >> 6));
		t[1] = (char)(0x80 | (cp & 0x3F));
		return 2;
	}
	if (cp < 0x10000) {
		t[0] = (char)(0xE0 | (cp >> 12));
		t[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
		t[2] = (char)(0x80 | (cp & 0x3F));
		return 3;
	}
	t[0] = (char)(0xF0 | (cp >> 18));
	t[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
	t[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
	t[3] = (char)(0x80 | (cp & 0x3F));
	return 4;
}

/* Append the code point cp (< 0x110000) as UTF-8. */
static void
add_cp(struct textbuf *b, uint32_t cp)
{
	char t[4];

	textbuf_add(b, t, utf8_enc(cp, t));
}

/* Append s as valid UTF-8: ill-formed bytes become U+FFFD, NULs are dropped. */
static void
add_utf8(struct textbuf *b, const char *s, size_t n)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t i = 0, run = 0, k;

	while (i < n) {
		if (u[i] >= 0x01 && u[i] < 0x80) {
			i++;
			continue;
		}
		if (u[i] != 0 && (k = text_utf8_len(u + i, n - i)) > 0) {
			i += k;
			continue;
		}
		textbuf_add(b, s + run, i - run);
		if (u[i] != 0)
			textbuf_add(b, "\xEF\xBF\xBD", 3);
		run = ++i;
	}
	textbuf_add(b, s + run, n - run);
}

/* ------------------------------------------------------------ charsets */

enum cs {
	CS_UNKNOWN,
	CS_ASCII,
	CS_UTF8,
	CS_CP1252,		/* strict: the five undefined bytes are invalid */
	CS_LATIN1,		/* ISO-8859-1 as browsers read it: Windows-1252,
				 * the undefined bytes as C1 controls; never fails */
	CS_ICONV
};

/* Windows-1252 0x80..0x9F; 0 where undefined. */
static const uint16_t cp1252_hi[32] = {
	0x20AC, 0, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021,
	0x02C6, 0x2030, 0x0160, 0x2039, 0x0152, 0, 0x017D, 0,
	0, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022, 0x2013, 0x2014,
	0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0, 0x017E, 0x0178,
};

static const char *const cs_ascii[] = {
	"us-ascii", "ascii", "us", "ansi_x3.4-1968", "ansi_x3.4-1986",
	"iso646-us", "iso-ir-6", "cp367", "ibm367", "csascii",
	"iso_646.irv:1991", "646", NULL
};
static const char *const cs_utf8[] = {
	"utf-8", "utf8", "unicode-1-1-utf-8", "unicode-2-0-utf-8",
	"x-unicode20utf8", NULL
};
static const char *const cs_cp1252[] = {
	"windows-1252", "cp1252", "cp-1252", "win-1252", "windows1252",
	"x-cp1252", "ms-ansi", NULL
};
static const char *const cs_latin1[] = {
	"iso-8859-1", "iso8859-1", "iso_8859-1", "iso_8859-1:1987",
	"iso-8859-1:1987", "iso88591", "iso8859_1", "8859-1", "latin1",
	"latin-1", "l1", "cp819", "ibm819", "iso-ir-100", "csisolatin1", NULL
};
static const struct {
	const char *label, *iconv;
} cs_iconv_names[] = {
	{ "latin9", "ISO-8859-15" }, { "latin-9", "ISO-8859-15" },
	{ "iso8859-15", "ISO-8859-15" }, { "iso_8859-15", "ISO-8859-15" },
	{ "l9", "ISO-8859-15" },
	{ "ks_c_5601-1987", "CP949" }, { "gb2312", "GBK" },
	{ "x-gbk", "GBK" }, { "iso-8859-8-i", "ISO-8859-8" },
	{ "x-mac-roman", "MACINTOSH" }, { "macintosh", "MACINTOSH" },
	{ "unicode-1-1-utf-7", "UTF-7" }, { "iso-2022-jp", "ISO-2022-JP-2" },
};

static int
in_list(const char *s, const char *const *list)
{
	for (; *list != NULL; list++)
		if (strcmp(s, *list) == 0)
			return 1;
	return 0;
}

/* Classify a charset label; for CS_ICONV, the name for iconv goes to out. */
static enum cs
cs_lookup(const char *label, char *out, size_t outsize)
{
	char n[48];
	size_t len = 0;

	if (label == NULL)
		return CS_UNKNOWN;
	while (*label == ' ' || *label == '\t' || *label == '"' || *label == '\'')
		label++;
	for (; *label != '\0' && *label != '"' && *label != '\'' &&
	    *label != '*' && *label != ' ' && *label != '\t'; label++) {
		unsigned char c = (unsigned char)*label;
		if (len + 1 >= sizeof n)
			return CS_UNKNOWN;
		if (!isalnum(c) && c != '-' && c != '_' && c != '.' && c != ':')
			return CS_UNKNOWN;	/* no "//TRANSLIT" games */
		n[len++] = (char)tolower(c);
	}
	n[len] = '\0';
	if (len == 0)
		return CS_UNKNOWN;
	if (in_list(n, cs_utf8))
		return CS_UTF8;
	if (in_list(n, cs_ascii))
		return CS_ASCII;
	if (in_list(n, cs_cp1252))
		return CS_CP1252;
	if (in_list(n, cs_latin1))
		return CS_LATIN1;
	for (size_t i = 0; i < sizeof cs_iconv_names / sizeof cs_iconv_names[0]; i++)
		if (strcmp(n, cs_iconv_names[i].label) == 0) {
			snprintf(out, outsize, "%s", cs_iconv_names[i].iconv);
			return CS_ICONV;
		}
	snprintf(out, outsize, "%s", n);
	return CS_ICONV;
}

static int
dec_ascii(struct textbuf *out, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] >= 0x80)
			return -1;
	add_utf8(out, s, n);	/* drops NULs */
	return 0;
}

static int
dec_utf8(struct textbuf *out, const char *s, size_t n)
{
	if (!text_utf8_valid(s, n))
		return -1;
	if (n >= 3 && memcmp(s, "\xEF\xBB\xBF", 3) == 0)
		s += 3, n -= 3;
	add_utf8(out, s, n);
	return 0;
}

static int
dec_single(struct textbuf *out, const char *s, size_t n, int strict)
{
	size_t run = 0;

	if (strict)
		for (size_t i = 0; i < n; i++) {
			unsigned char c = (unsigned char)s[i];
			if (c >= 0x80 && c < 0xA0 && cp1252_hi[c - 0x80] == 0)
				return -1;
		}
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c >= 0x01 && c < 0x80)
			continue;
		textbuf_add(out, s + run, i - run);
		run = i + 1;
		if (c == 0)
			continue;
		if (c < 0xA0 && cp1252_hi[c - 0x80] != 0)
			add_cp(out, cp1252_hi[c - 0x80]);
		else
			add_cp(out, c);
	}
	textbuf_add(out, s + run, n - run);
	return 0;
}

static int
dec_iconv(struct textbuf *out, const char *s, size_t n, const char *name)
{
	iconv_t cd = iconv_open("UTF-8", name);
	size_t start = out->len, inleft = n;
	char *in = (char *)s, *o;
	size_t oleft, w, r;
	int rc = 0;

	if (cd == (iconv_t)-1)
		return -1;
	for (;;) {
		if (textbuf_reserve(out, inleft + inleft / 2 + 16) < 0) {
			rc = -1;
			break;
		}
		o = out->p + out->len;
		oleft = out->cap - out->len - 1;
		r = inleft > 0 ? iconv(cd, &in, &inleft, &o, &oleft)
		    : iconv(cd, NULL, NULL, &o, &oleft);	/* flush state */
		out->len = (size_t)(o - out->p);
		if (r == (size_t)-1) {
			if (errno == E2BIG)
				continue;
			rc = -1;	/* EILSEQ, EINVAL: not valid in it */
			break;
		}
		if (inleft == 0 && in != NULL) {
			in = NULL;	/* one more round to flush */
			continue;
		}
		break;
	}
	iconv_close(cd);
	if (rc < 0 || out->oom) {
		textbuf_truncate(out, start);
		return -1;
	}
	/* iconv writes valid UTF-8; drop NULs (a UTF-16 text may have them) */
	w = start;
	for (size_t i = start; i < out->len; i++)
		if (out->p[i] != '\0')
			out->p[w++] = out->p[i];
	textbuf_truncate(out, w);
	return 0;
}

static int
dec_as(struct textbuf *out, const char *s, size_t n, enum cs cs, const char *name)
{
	size_t start = out->len;
	int rc;

	switch (cs) {
	case CS_ASCII:
		rc = dec_ascii(out, s, n);
		break;
	case CS_UTF8:
		rc = dec_utf8(out, s, n);
		break;
	case CS_CP1252:
		rc = dec_single(out, s, n, 1);
		break;
	case CS_LATIN1:
		rc = dec_single(out, s, n, 0);
		break;
	case CS_ICONV:
		rc = dec_iconv(out, s, n, name);
		break;
	default:
		rc = -1;
	}
	if (rc < 0)
		textbuf_truncate(out, start);
	return rc;
}

/* Append s converted to UTF-8 with the fallbacks of mime_to_utf8(). */
static void
add_charset(struct textbuf *out, const char *s, size_t n, const char *charset)
{
	char name[48] = "";	/* set by cs_lookup() for CS_ICONV only */
	enum cs cs = cs_lookup(charset, name, sizeof name);

	if (cs != CS_UNKNOWN && dec_as(out, s, n, cs, name) == 0)
		return;
	if (cs != CS_UTF8 && dec_as(out, s, n, CS_UTF8, NULL) == 0)
		return;
	if (cs != CS_CP1252 && dec_as(out, s, n, CS_CP1252, NULL) == 0)
		return;
	dec_as(out, s, n, CS_LATIN1, NULL);
}

char *
mime_to_utf8(const char *data, size_t len, const char *charset)
{
	struct textbuf b = { 0 };

	if (data == NULL)
		len = 0;
	add_charset(&b, data ? data : "", len, charset);
	return textbuf_take(&b);
}

/* ------------------------------------------------------------ small helpers */

static int
is_wsp(int c)
{
	return c == ' ' || c == '\t';
}

static int
all_space(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!isspace((unsigned char)s[i]))
			return 0;
	return 1;
}

/* The first needle[0..m) in s[0..n), or NULL (memmem is a GNU extension). */
static const char *
mem_find(const char *s, size_t n, const char *needle, size_t m)
{
	const char *p = s, *end = s + n;

	while (m > 0 && (size_t)(end - p) >= m &&
	    (p = memchr(p, needle[0], (size_t)(end - p) - m + 1)) != NULL) {
		if (memcmp(p, needle, m) == 0)
			return p;
		p++;
	}
	return NULL;
}

/* Case-insensitive search of needle (lower case) in s[0..n). */
static const char *
ci_find(const char *s, size_t n, const char *needle)
{
	size_t m = strlen(needle);

	if (m == 0 || m > n)
		return m == 0 ? s : NULL;
	for (size_t i = 0; i + m <= n; i++)
		if (tolower((unsigned char)s[i]) == needle[0] &&
		    strncasecmp(s + i, needle, m) == 0)
			return s + i;
	return NULL;
}

/* Lower-case ASCII copy of s into out (truncated to size - 1). */
static void
lower_copy(char *out, size_t size, const char *s)
{
	size_t i = 0;

	for (; s != NULL && s[i] != '\0' && i + 1 < size; i++) {
		unsigned char c = (unsigned char)s[i];
		out[i] = (c > ' ' && c < 127) ? (char)tolower(c) : '_';
	}
	out[i] = '\0';
}

/* Header text for people: tabs/CR/LF to spaces, other controls dropped,
 * trimmed. In place. */
static void
clean_line(char *s)
{
	char *w = s;
	size_t n;

	for (char *r = s; *r != '\0'; r++) {
		unsigned char c = (unsigned char)*r;
		if (c == '\t' || c == '\r' || c == '\n')
			*w++ = ' ';
		else if (c >= 0x20 && c != 0x7F)
			*w++ = (char)c;
	}
	*w = '\0';
	n = (size_t)(w - s);
	while (n > 0 && s[n - 1] == ' ')
		s[--n] = '\0';
	if (s[0] == ' ') {
		size_t k = 0;
		while (s[k] == ' ')
			k++;
		memmove(s, s + k, n - k + 1);
	}
}

/* CRLF and lone CR to LF, in place. */
static void
norm_newlines(char *s)
{
	char *w = s;

	for (char *r = s; *r != '\0'; r++) {
		if (*r == '\r') {
			*w++ = '\n';
			if (r[1] == '\n')
				r++;
		} else {
			*w++ = *r;
		}
	}
	*w = '\0';
}

/* ------------------------------------------------------------ RFC 2047 */

/* Decoded bytes of adjacent encoded words in one charset, converted only
 * when complete: a character may be split over two words. */
struct pending {
	struct textbuf bytes;
	char charset[64];
};

static void
pending_flush(struct textbuf *out, struct pending *p)
{
	if (p->bytes.len > 0)
		add_charset(out, p->bytes.p, p->bytes.len, p->charset);
	out->oom |= p->bytes.oom;
	p->bytes.len = 0;
	p->charset[0] = '\0';
}

char *
mime_decode_header(const char *value)
{
	struct textbuf b = { 0 };
	struct pending pend = { { 0 }, "" };
	size_t n, i = 0, seg = 0;
	int prev_word = 0;
	char *s;

	if (value == NULL)
		return NULL;
	n = strnlen(value, HDR_DECODE_MAX);
	while (i + 1 < n) {
		const char *q = mem_find(value + i, n - i, "=?", 2);
		struct mailmime_encoded_word *w = NULL;
		int fwd = 0, missing_quote = 0, r;
		size_t p, idx;

		if (q == NULL)
			break;
		p = idx = (size_t)(q - value);
		r = mailmime_encoded_word_parse(value, n, &idx, &w, &fwd,
		    &missing_quote);
		if (r != MAILIMF_NO_ERROR || w == NULL || idx <= p) {
			if (r == MAILIMF_NO_ERROR && w != NULL)
				mailmime_encoded_word_free(w);
			i = p + 2;
			continue;
		}
		/* blanks between two encoded words are not text (RFC 2047 6.2) */
		if (!(prev_word && all_space(value + seg, p - seg))) {
			pending_flush(&b, &pend);
			add_charset(&b, value + seg, p - seg, NULL);
		}
		if (w->wd_charset == NULL || strlen(w->wd_charset) >= sizeof pend.charset ||
		    strcasecmp(w->wd_charset, pend.charset) != 0) {
			pending_flush(&b, &pend);
			if (w->wd_charset != NULL && strlen(w->wd_charset) < sizeof pend.charset)
				strcpy(pend.charset, w->wd_charset);
		}
		if (w->wd_text != NULL)
			textbuf_adds(&pend.bytes, w->wd_text);
		mailmime_encoded_word_free(w);
		seg = i = idx;
		prev_word = 1;
	}
	pending_flush(&b, &pend);
	textbuf_free(&pend.bytes);
	if (!(prev_word && all_space(value + seg, n - seg)))
		add_charset(&b, value + seg, n - seg, NULL);
	if ((s = textbuf_take(&b)) != NULL)
		clean_line(s);
	return s;
}

/* ------------------------------------------------------------ headers */

/* Offset of the colon if the line is "name:" (name printable ASCII, blanks
 * allowed before the colon), else 0. *namelen gets the name's length. */
static size_t
header_colon(const char *s, size_t n, size_t *namelen)
{
	size_t i = 0, j;

	while (i < n && (unsigned char)s[i] > ' ' && (unsigned char)s[i] < 127 &&
	    s[i] != ':')
		i++;
	if (i == 0)
		return 0;
	for (j = i; j < n && is_wsp(s[j]); j++)
		;
	if (j >= n || s[j] != ':')
		return 0;
	*namelen = i;
	return j;
}

static int
header_push(struct mime_msg *m, size_t *cap, const char *name, size_t nlen,
    struct textbuf *val)
{
	struct mime_header *h;
	size_t w = 0, a = 0, z;
	char *v;

	/* drop CR, LF, NUL; trim blanks */
	for (size_t i = 0; i < val->len; i++) {
		char c = val->p[i];
		if (c != '\r' && c != '\n' && c != '\0')
			val->p[w++] = c;
	}
	z = w;
	while (a < z && is_wsp(val->p[a]))
		a++;
	while (z > a && is_wsp(val->p[z - 1]))
		z--;
	if (m->nheaders >= MAX_HEADERS)
		return 0;
	if (m->nheaders == *cap) {
		size_t ncap = *cap ? *cap * 2 : 32;
		h = realloc(m->headers, ncap * sizeof *h);
		if (h == NULL)
			return -1;
		m->headers = h;
		*cap = ncap;
	}
	v = text_utf8_valid(val->p + a, z - a) ? strndup(val->p + a, z - a)
	    : mime_to_utf8(val->p + a, z - a, NULL);
	h = &m->headers[m->nheaders];
	h->name = strndup(name, nlen);
	h->value = v;
	if (h->name == NULL || h->value == NULL) {
		free(h->name);
		free(h->value);
		return -1;
	}
	m->nheaders++;
	return 0;
}

/* Read the top-level header block; *body gets the offset of the body. */
static int
parse_headers(struct mime_msg *m, const char *raw, size_t len, size_t *body)
{
	struct textbuf val = { 0 };
	const char *name = NULL;
	size_t nlen = 0, cap = 0, off = 0;
	int rc = 0;

	while (off < len) {
		const char *line = raw + off, *nl = memchr(line, '\n', len - off);
		size_t end = nl ? (size_t)(nl - raw) : len, next = nl ? end + 1 : len;
		size_t l = end - off, colon, namelen = 0;

		if (l > 0 && line[l - 1] == '\r')
			l--;
		if (l == 0) {
			off = next;
			break;
		}
		if (is_wsp(line[0])) {
			if (name != NULL)
				textbuf_add(&val, line, l);
			off = next;
			continue;
		}
		colon = header_colon(line, l, &namelen);
		if (colon == 0) {
			if (off == 0 && l >= 5 && memcmp(line, "From ", 5) == 0) {
				off = next;	/* mbox separator */
				continue;
			}
			break;		/* not a header: the body starts here */
		}
		if (name != NULL && (val.oom || header_push(m, &cap, name, nlen, &val) < 0)) {
			rc = -1;
			goto out;
		}
		name = line;
		nlen = namelen;
		val.len = 0;
		textbuf_add(&val, line + colon + 1, l - colon - 1);
		if (textbuf_reserve(&val, 0) < 0) {
			rc = -1;
			goto out;
		}
		off = next;
	}
	if (name != NULL && (val.oom || header_push(m, &cap, name, nlen, &val) < 0))
		rc = -1;
out:
	textbuf_free(&val);
	*body = off;
	return rc;
}

const char *
mime_header(const struct mime_msg *m, const char *name, size_t nth)
{
	if (m == NULL || name == NULL)
		return NULL;
	for (size_t i = 0; i < m->nheaders; i++)
		if (strcasecmp(m->headers[i].name, name) == 0 && nth-- == 0)
			return m->headers[i].value;
	return NULL;
}

int
mime_recipient_words(const struct mime_msg *m, mime_word_fn *fn, void *arg)
{
	static const char *const names[] = { "Delivered-To", "X-Original-To", "To", "Cc" };
	const char *v;
	int r;

	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
		for (size_t nth = 0; (v = mime_header(m, names[i], nth)) != NULL; nth++) {
			char buf[1024], *save = NULL, *w;
			snprintf(buf, sizeof buf, "%s", v);
			for (w = strtok_r(buf, " ,;<>\"\t", &save); w;
			    w = strtok_r(NULL, " ,;<>\"\t", &save))
				if ((r = fn(w, arg)) != 0)
					return r;
		}
	return 0;
}

/* ------------------------------------------------------------ addresses */

static int
addr_ok(const char *a)
{
	const char *at = strrchr(a, '@');
	size_t n = strlen(a);

	if (at == NULL || at == a || at[1] == '\0' || n > ADDR_MAX)
		return 0;
	for (; *a != '\0'; a++) {
		unsigned char c = (unsigned char)*a;
		if (c <= ' ' || c == 0x7F || strchr("<>,;\"()[]\\", c) != NULL)
			return 0;
	}
	return 1;
}

/* A copy of the addr-spec with the domain lower-cased, or NULL if not sane. */
static char *
addr_dup(const char *a, size_t n)
{
	char *s = strndup(a, n), *at;

	if (s == NULL)
		return NULL;
	if (!addr_ok(s) || !text_utf8_valid(s, strlen(s))) {
		free(s);
		return NULL;
	}
	for (at = strrchr(s, '@') + 1; *at != '\0'; at++)
		*at = (char)tolower((unsigned char)*at);
	return s;
}

/* The decoded display name (quotes removed), or NULL if empty. */
static char *
name_decode(const char *raw, size_t n)
{
	char *t = strndup(raw, n), *s;
	size_t len;

	if (t == NULL)
		return NULL;
	s = mime_decode_header(t);
	free(t);
	if (s == NULL)
		return NULL;
	len = strlen(s);
	if (len > 0 && s[len - 1] == '"')
		s[--len] = '\0';
	if (s[0] == '"')
		memmove(s, s + 1, len--);
	clean_line(s);
	if (s[0] == '\0') {
		free(s);
		return NULL;
	}
	return s;
}

/* A careful fallback for what libetpan does not accept:
 * 'Name <addr>' (even unclosed quotes) or a bare addr somewhere. */
static void
addr_fallback(const char *v, char **addr, char **name)
{
	const char *lt = strchr(v, '<'), *gt = lt ? strchr(lt, '>') : NULL;

	if (lt != NULL && gt == NULL)
		gt = lt + strlen(lt);	/* "Name <addr" */
	if (lt != NULL) {
		const char *a = lt + 1, *z = gt;
		while (a < z && is_wsp(*a))
			a++;
		while (z > a && is_wsp(z[-1]))
			z--;
		*addr = addr_dup(a, (size_t)(z - a));
		if (*addr != NULL && name != NULL)
			*name = name_decode(v, (size_t)(lt - v));
		if (*addr != NULL)
			return;
	}
	/* the first word with an '@' */
	for (const char *p = v; *p != '\0';) {
		size_t k = strcspn(p, " \t<>,;\"()");
		if (k > 0 && memchr(p, '@', k) != NULL &&
		    (*addr = addr_dup(p, k)) != NULL)
			return;
		p += k;
		if (*p != '\0')
			p++;
	}
}

/* The first mailbox of an address header. */
static void
addr_parse(const char *v, char **addr, char **name)
{
	struct mailimf_mailbox_list *ml = NULL;
	struct mailimf_address_list *al = NULL;
	struct mailimf_mailbox *mb = NULL;
	size_t idx = 0, n;

	*addr = NULL;
	if (name != NULL)
		*name = NULL;
	if (v == NULL)
		return;
	n = strnlen(v, HDR_DECODE_MAX);
	if (mailimf_mailbox_list_parse(v, n, &idx, &ml) == MAILIMF_NO_ERROR &&
	    ml->mb_list != NULL && clist_begin(ml->mb_list) != NULL)
		mb = clist_content(clist_begin(ml->mb_list));
	if (mb == NULL || mb->mb_addr_spec == NULL || !addr_ok(mb->mb_addr_spec)) {
		mb = NULL;
		idx = 0;
		if (mailimf_address_list_parse(v, n, &idx, &al) == MAILIMF_NO_ERROR &&
		    al->ad_list != NULL)
			for (clistiter *it = clist_begin(al->ad_list);
			    it != NULL && mb == NULL; it = clist_next(it)) {
				struct mailimf_address *ad = clist_content(it);
				struct mailimf_group *g;
				if (ad->ad_type == MAILIMF_ADDRESS_MAILBOX) {
					mb = ad->ad_data.ad_mailbox;
				} else if ((g = ad->ad_data.ad_group) != NULL &&
				    g->grp_mb_list != NULL &&
				    clist_begin(g->grp_mb_list->mb_list) != NULL) {
					mb = clist_content(clist_begin(
					    g->grp_mb_list->mb_list));
				}
				if (mb != NULL && (mb->mb_addr_spec == NULL ||
				    !addr_ok(mb->mb_addr_spec)))
					mb = NULL;
			}
	}
	if (mb != NULL) {
		*addr = addr_dup(mb->mb_addr_spec, strlen(mb->mb_addr_spec));
		if (*addr != NULL && name != NULL && mb->mb_display_name != NULL)
			*name = name_decode(mb->mb_display_name,
			    strlen(mb->mb_display_name));
	}
	if (ml != NULL)
		mailimf_mailbox_list_free(ml);
	if (al != NULL)
		mailimf_address_list_free(al);
	if (*addr == NULL)
		addr_fallback(v, addr, name);
}

/* The first "<...>" of a header, or NULL. */
static char *
msgid_first(const char *v)
{
	const char *lt, *gt;

	if (v == NULL || (lt = strchr(v, '<')) == NULL ||
	    (gt = strchr(lt, '>')) == NULL)
		return NULL;
	if (gt - lt < 2 || gt - lt > MSGID_MAX)
		return NULL;
	for (const char *p = lt + 1; p < gt; p++)
		if ((unsigned char)*p <= ' ' || *p == '<' || *p == 0x7F)
			return NULL;
	return strndup(lt, (size_t)(gt - lt + 1));
}

/* ------------------------------------------------------------ MIME parts */

struct pinfo {
	char type[32], subtype[64];
	int attachment;		/* Content-Disposition: attachment */
	char *filename;		/* decoded, owned */
};

struct kv {
	const char *k, *v;
};

#define MAX_PARAMS 64

static int
hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = tolower(c);
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

static void
pct_decode(struct textbuf *b, const char *s)
{
	for (; *s != '\0'; s++) {
		int h, l;
		if (*s == '%' && (h = hexval((unsigned char)s[1])) >= 0 &&
		    (l = hexval((unsigned char)s[2])) >= 0) {
			textbuf_addc(b, (char)(h * 16 + l));
			s += 2;
		} else {
			textbuf_addc(b, *s);
		}
	}
}

/* name is "base*N" or "base*N*" (RFC 2231 section); returns N or -1. */
static int
rfc2231_section(const char *name, const char *base, int *encoded)
{
	size_t bl = strlen(base);
	const char *p;
	int sec = 0;

	if (strncasecmp(name, base, bl) != 0 || name[bl] != '*')
		return -1;
	p = name + bl + 1;
	if (!isdigit((unsigned char)*p) || (p[0] == '0' && isdigit((unsigned char)p[1])))
		return -1;
	for (; isdigit((unsigned char)*p) && sec < 1000; p++)
		sec = sec * 10 + (*p - '0');
	*encoded = *p == '*';
	if (*encoded)
		p++;
	return *p == '\0' ? sec : -1;
}

/* A parameter value, RFC 2231 (extended, continued) or RFC 2047 encoded,
 * to UTF-8; NULL if absent. */
static char *
param_get(const struct kv *kv, size_t n, const char *base)
{
	struct textbuf raw = { 0 };
	char charset[48] = "";
	size_t bl = strlen(base);
	int found = 0, cont = 0;
	char *s;

	for (size_t i = 0; i < n; i++)	/* base*=charset'lang'value */
		if (strncasecmp(kv[i].k, base, bl) == 0 &&
		    strcmp(kv[i].k + bl, "*") == 0) {
			const char *v = kv[i].v, *q1 = strchr(v, '\''),
			    *q2 = q1 ? strchr(q1 + 1, '\'') : NULL;
			if (q2 != NULL) {
				snprintf(charset, sizeof charset, "%.*s",
				    (int)(q1 - v), v);
				v = q2 + 1;
			}
			pct_decode(&raw, v);
			found = 1;
			break;
		}
	for (int sec = 0; !found && sec < 100; sec++) {	/* base*0*=, base*1*= */
		const struct kv *hit = NULL;
		int enc = 0;
		for (size_t i = 0; i < n && hit == NULL; i++)
			if (rfc2231_section(kv[i].k, base, &enc) == sec)
				hit = &kv[i];
		if (hit == NULL)
			break;
		cont = 1;
		if (enc) {
			const char *v = hit->v, *q1, *q2;
			if (sec == 0 && (q1 = strchr(v, '\'')) != NULL &&
			    (q2 = strchr(q1 + 1, '\'')) != NULL) {
				snprintf(charset, sizeof charset, "%.*s",
				    (int)(q1 - v), v);
				v = q2 + 1;
			}
			pct_decode(&raw, v);
		} else {
			textbuf_adds(&raw, hit->v);
		}
	}
	if (found || cont) {
		if (raw.oom) {
			textbuf_free(&raw);
			return NULL;
		}
		s = mime_to_utf8(raw.p ? raw.p : "", raw.len,
		    charset[0] ? charset : NULL);
		textbuf_free(&raw);
		if (s != NULL)
			clean_line(s);
		return s;
	}
	for (size_t i = 0; i < n; i++)
		if (strcasecmp(kv[i].k, base) == 0)
			return mime_decode_header(kv[i].v);
	return NULL;
}

static size_t
ct_params(struct mailmime_content *ct, struct kv *kv)
{
	size_t n = 0;

	if (ct == NULL || ct->ct_parameters == NULL)
		return 0;
	for (clistiter *it = clist_begin(ct->ct_parameters); it != NULL &&
	    n < MAX_PARAMS; it = clist_next(it)) {
		struct mailmime_parameter *p = clist_content(it);
		if (p != NULL && p->pa_name != NULL && p->pa_value != NULL) {
			kv[n].k = p->pa_name;
			kv[n++].v = p->pa_value;
		}
	}
	return n;
}

static const char *
ct_param(struct mailmime_content *ct, const char *name)
{
	struct kv kv[MAX_PARAMS];
	size_t n = ct_params(ct, kv);

	for (size_t i = 0; i < n; i++)
		if (strcasecmp(kv[i].k, name) == 0)
			return kv[i].v;
	return NULL;
}

/* "type" and "subtype" of a content, lower case; text/plain if none. */
static void
ct_names(struct mailmime_content *ct, char *type, size_t ts, char *sub,
    size_t ss)
{
	const char *t = "application";
	struct mailmime_type *tp;

	if (ct == NULL || (tp = ct->ct_type) == NULL) {
		snprintf(type, ts, "text");
		snprintf(sub, ss, "plain");
		return;
	}
	if (tp->tp_type == MAILMIME_TYPE_DISCRETE_TYPE &&
	    tp->tp_data.tp_discrete_type != NULL) {
		switch (tp->tp_data.tp_discrete_type->dt_type) {
		case MAILMIME_DISCRETE_TYPE_TEXT: t = "text"; break;
		case MAILMIME_DISCRETE_TYPE_IMAGE: t = "image"; break;
		case MAILMIME_DISCRETE_TYPE_AUDIO: t = "audio"; break;
		case MAILMIME_DISCRETE_TYPE_VIDEO: t = "video"; break;
		case MAILMIME_DISCRETE_TYPE_EXTENSION:
			if (tp->tp_data.tp_discrete_type->dt_extension != NULL)
				t = tp->tp_data.tp_discrete_type->dt_extension;
			break;
		default: break;
		}
	} else if (tp->tp_type == MAILMIME_TYPE_COMPOSITE_TYPE &&
	    tp->tp_data.tp_composite_type != NULL) {
		switch (tp->tp_data.tp_composite_type->ct_type) {
		case MAILMIME_COMPOSITE_TYPE_MESSAGE: t = "message"; break;
		case MAILMIME_COMPOSITE_TYPE_MULTIPART: t = "multipart"; break;
		case MAILMIME_COMPOSITE_TYPE_EXTENSION:
			if (tp->tp_data.tp_composite_type->ct_token != NULL)
				t = tp->tp_data.tp_composite_type->ct_token;
			break;
		default: break;
		}
	}
	lower_copy(type, ts, t);
	lower_copy(sub, ss, ct->ct_subtype ? ct->ct_subtype : "octet-stream");
}

static void
pinfo_get(struct mailmime *p, struct pinfo *pi)
{
	struct mailmime_disposition *dsp = NULL;
	struct kv kv[MAX_PARAMS];
	size_t n = 0;

	memset(pi, 0, sizeof *pi);
	ct_names(p->mm_content_type, pi->type, sizeof pi->type, pi->subtype,
	    sizeof pi->subtype);
	if (p->mm_mime_fields != NULL && p->mm_mime_fields->fld_list != NULL)
		for (clistiter *it = clist_begin(p->mm_mime_fields->fld_list);
		    it != NULL; it = clist_next(it)) {
			struct mailmime_field *f = clist_content(it);
			if (f->fld_type == MAILMIME_FIELD_DISPOSITION) {
				dsp = f->fld_data.fld_disposition;
				break;
			}
		}
	if (dsp != NULL) {
		if (dsp->dsp_type != NULL && dsp->dsp_type->dsp_type ==
		    MAILMIME_DISPOSITION_TYPE_ATTACHMENT)
			pi->attachment = 1;
		if (dsp->dsp_parms != NULL)
			for (clistiter *it = clist_begin(dsp->dsp_parms);
			    it != NULL && n < MAX_PARAMS; it = clist_next(it)) {
				struct mailmime_disposition_parm *dp =
				    clist_content(it);
				if (dp->pa_type == MAILMIME_DISPOSITION_PARM_FILENAME &&
				    dp->pa_data.pa_filename != NULL) {
					kv[n].k = "filename";
					kv[n++].v = dp->pa_data.pa_filename;
				} else if (dp->pa_type ==
				    MAILMIME_DISPOSITION_PARM_PARAMETER &&
				    dp->pa_data.pa_parameter != NULL &&
				    dp->pa_data.pa_parameter->pa_name != NULL &&
				    dp->pa_data.pa_parameter->pa_value != NULL) {
					kv[n].k = dp->pa_data.pa_parameter->pa_name;
					kv[n++].v = dp->pa_data.pa_parameter->pa_value;
				}
			}
		pi->filename = param_get(kv, n, "filename");
	}
	if (pi->filename == NULL) {
		n = ct_params(p->mm_content_type, kv);
		pi->filename = param_get(kv, n, "name");
	}
	if (pi->filename != NULL && pi->filename[0] == '\0') {
		free(pi->filename);
		pi->filename = NULL;
	}
}

/* The decoded body of a part in *d and *n, with *dec to free if it was decoded.
 * Returns -1 when out of memory. */
static int
part_data(struct mailmime *p, const char **d, size_t *n, char **dec)
{
	struct mailmime_data *b = p->mm_body;
	size_t idx = 0, rl = 0;
	char *r = NULL;
	int rc;

	*dec = NULL;
	*d = "";
	*n = 0;
	if (b == NULL || b->dt_type != MAILMIME_DATA_TEXT ||
	    b->dt_data.dt_text.dt_data == NULL)
		return 0;
	*d = b->dt_data.dt_text.dt_data;
	*n = b->dt_data.dt_text.dt_length;
	if (!b->dt_encoded || (b->dt_encoding != MAILMIME_MECHANISM_BASE64 &&
	    b->dt_encoding != MAILMIME_MECHANISM_QUOTED_PRINTABLE))
		return 0;
	rc = mailmime_part_parse(*d, *n, &idx, b->dt_encoding, &r, &rl);
	if (rc == MAILIMF_ERROR_MEMORY)
		return -1;
	if (rc != MAILIMF_NO_ERROR || r == NULL)
		return 0;	/* undecodable: keep the bytes */
	*dec = r;
	*d = r;
	*n = rl;
	return 0;
}

/* RFC 3676: join flowed lines (trailing space), undo space-stuffing,
 * honour DelSp=yes; quoted lines keep their depth as "> ". */
static char *
unflow(const char *s, int delsp)
{
	struct textbuf b = { 0 };
	int joining = 0, jdepth = 0;
	size_t len = strlen(s), off = 0;

	while (off < len) {
		const char *line = s + off, *nl = memchr(line, '\n', len - off);
		size_t l = nl ? (size_t)(nl - line) : len - off, depth = 0, cl;
		const char *c;
		int flowed, sig;

		while (depth < l && line[depth] == '>')
			depth++;
		c = line + depth;
		cl = l - depth;
		if (cl > 0 && c[0] == ' ')
			c++, cl--;
		sig = cl == 3 && memcmp(c, "-- ", 3) == 0;
		flowed = !sig && cl > 0 && c[cl - 1] == ' ';
		if (joining && (int)depth != jdepth) {
			textbuf_addc(&b, '\n');	/* quote depth changed */
			joining = 0;
		}
		if (!joining && depth > 0) {
			for (size_t i = 0; i < depth && i < 32; i++)
				textbuf_addc(&b, '>');
			if (cl > 0)
				textbuf_addc(&b, ' ');
		}
		textbuf_add(&b, c, flowed && delsp ? cl - 1 : cl);
		if (flowed) {
			joining = 1;
			jdepth = (int)depth;
		} else {
			joining = 0;
			if (nl != NULL)
				textbuf_addc(&b, '\n');
		}
		off += l + (nl != NULL);
	}
	return textbuf_take(&b);
}

/* The text of a part in UTF-8 with LF line ends (format=flowed undone for
 * text/plain), or NULL when out of memory. */
static char *
part_text(struct mailmime *p, int plain)
{
	const char *d, *fmt, *ds;
	size_t n;
	char *dec, *s, *u;

	if (part_data(p, &d, &n, &dec) < 0)
		return NULL;
	s = mime_to_utf8(d, n, ct_param(p->mm_content_type, "charset"));
	if (dec != NULL)
		mailmime_decoded_part_free(dec);
	if (s == NULL)
		return NULL;
	norm_newlines(s);
	fmt = ct_param(p->mm_content_type, "format");
	if (plain && fmt != NULL && strcasecmp(fmt, "flowed") == 0) {
		ds = ct_param(p->mm_content_type, "delsp");
		u = unflow(s, ds != NULL && strcasecmp(ds, "yes") == 0);
		free(s);
		s = u;
	}
	return s;
}

struct walk {
	struct mailmime *plain, *html, *cal;
	struct mime_attachment *att;
	size_t natt, cap;
	int oom;
};

static void
add_attachment(struct walk *w, struct mailmime *p, struct pinfo *pi)
{
	struct mime_attachment *a;
	const char *d;
	size_t n;
	char *dec;

	if (w->natt >= MAX_ATTACHMENTS)
		return;
	if (w->natt == w->cap) {
		size_t ncap = w->cap ? w->cap * 2 : 8;
		a = realloc(w->att, ncap * sizeof *a);
		if (a == NULL) {
			w->oom = 1;
			return;
		}
		w->att = a;
		w->cap = ncap;
	}
	if (part_data(p, &d, &n, &dec) < 0) {
		w->oom = 1;
		return;
	}
	if (dec != NULL)
		mailmime_decoded_part_free(dec);
	a = &w->att[w->natt];
	a->size = n;
	a->filename = pi->filename;
	pi->filename = NULL;
	if ((a->content_type = malloc(strlen(pi->type) + strlen(pi->subtype) + 2)) == NULL) {
		free(a->filename);
		w->oom = 1;
		return;
	}
	sprintf(a->content_type, "%s/%s", pi->type, pi->subtype);
	w->natt++;
}

/*
 * body: whether this part may give the body text. In multipart/alternative
 * every child may (the first text/plain and the first text/html win, the
 * other alternatives are not attachments); in multipart/mixed (and unknown
 * multiparts) the first child that is not an attachment; in report, related
 * and signed the first child. Everything else is an attachment.
 */
static void
walk(struct walk *w, struct mailmime *p, int body, int alt, int depth)
{
	struct pinfo pi;

	if (p == NULL || depth > WALK_DEPTH_MAX || w->oom)
		return;
	pinfo_get(p, &pi);
	if (p->mm_type == MAILMIME_MULTIPLE) {
		int isalt = strcmp(pi.subtype, "alternative") == 0;
		int first_only = strcmp(pi.subtype, "report") == 0 ||
		    strcmp(pi.subtype, "related") == 0 ||
		    strcmp(pi.subtype, "signed") == 0 ||
		    strcmp(pi.subtype, "encrypted") == 0;
		int digest = strcmp(pi.subtype, "digest") == 0;
		int taken = 0, idx = 0;
		clist *l = p->mm_data.mm_multipart.mm_mp_list;

		for (clistiter *it = l ? clist_begin(l) : NULL; it != NULL;
		    it = clist_next(it), idx++) {
			struct mailmime *c = clist_content(it);
			int cb = 0;
			if (body && isalt) {
				cb = 1;
			} else if (body && first_only) {
				cb = idx == 0;
			} else if (body && !digest && !taken) {
				struct pinfo ci;
				pinfo_get(c, &ci);
				cb = !ci.attachment && ci.filename == NULL &&
				    (c->mm_type == MAILMIME_MULTIPLE ||
				    (strcmp(ci.type, "text") == 0 &&
				    (strcmp(ci.subtype, "plain") == 0 ||
				    strcmp(ci.subtype, "html") == 0)));
				free(ci.filename);
				taken = cb;
			}
			walk(w, c, cb, body && isalt, depth + 1);
		}
	} else if (p->mm_type == MAILMIME_MESSAGE) {
		add_attachment(w, p, &pi);
	} else {
		int att = pi.attachment || pi.filename != NULL;
		int text = strcmp(pi.type, "text") == 0;
		if (text && strcmp(pi.subtype, "calendar") == 0 && w->cal == NULL) {
			w->cal = p;
			if (!att)
				goto done;
		}
		if (body && !att && text && strcmp(pi.subtype, "plain") == 0 &&
		    w->plain == NULL)
			w->plain = p;
		else if (body && !att && text && strcmp(pi.subtype, "html") == 0 &&
		    w->html == NULL)
			w->html = p;
		else if (!(alt && !att))
			add_attachment(w, p, &pi);
	}
done:
	free(pi.filename);
}

/*
 * libetpan parses recursively, scans a multipart body once per nesting
 * level and keeps ~150 bytes per part header: bound what it is given.
 * Counts the lines that start a part ("--"), the header lines that follow
 * them (and those of embedded messages) and the composite Content-Types.
 */
static int
body_too_complex(const char *b, size_t n)
{
	size_t dash = 0, hdr = 0, composite = 0, off = 0;
	int in_hdr = 1, in_ct = 0, msg = 0, had_ct = 1;	/* message/rfc822 */

	while (off < n) {
		const char *line = b + off, *nl = memchr(line, '\n', n - off);
		size_t l = nl ? (size_t)(nl - line) : n - off, namelen;

		off += l + (nl != NULL);
		if (l > 0 && line[l - 1] == '\r')
			l--;
		if (l >= 2 && line[0] == '-' && line[1] == '-') {
			dash++;
			in_hdr = 1;
			in_ct = msg = had_ct = 0;
			continue;
		}
		if (!in_hdr)
			continue;
		if (l == 0) {
			/* an embedded message (or a digest part) has headers too */
			in_hdr = msg || !had_ct;
			in_ct = msg = had_ct = 0;
			continue;
		}
		if (is_wsp(line[0])) {
			hdr++;
		} else if (header_colon(line, l, &namelen) != 0) {
			hdr++;
			in_ct = namelen == 12 && strncasecmp(line, "content-type", 12) == 0;
			had_ct |= in_ct;
		} else {
			in_hdr = in_ct = 0;
			continue;
		}
		if (in_ct) {
			if (ci_find(line, l, "multipart") != NULL)
				composite++;
			if (ci_find(line, l, "rfc822") != NULL) {
				composite++;
				msg = 1;
			}
		}
	}
	return dash > SCAN_MAX_DASHLINES || hdr > SCAN_MAX_HDRLINES ||
	    composite > SCAN_MAX_COMPOSITE ||
	    (double)composite * (double)n > SCAN_MAX_WORK;
}

static char *
calendar_method(struct mailmime *p, const char *text)
{
	const char *v = ct_param(p->mm_content_type, "method");
	char m[33];
	size_t i = 0;

	if (v == NULL && text != NULL) {	/* METHOD: in the object */
		for (const char *l = text; l != NULL && *l != '\0';) {
			if (strncasecmp(l, "METHOD:", 7) == 0) {
				v = l + 7;
				break;
			}
			if (strncasecmp(l, "BEGIN:VEVENT", 12) == 0)
				break;
			l = strchr(l, '\n');
			l = l ? l + 1 : NULL;
		}
	}
	if (v == NULL)
		return NULL;
	while (is_wsp(*v))
		v++;
	for (; (isalpha((unsigned char)v[i]) || v[i] == '-') && i + 1 < sizeof m; i++)
		m[i] = (char)toupper((unsigned char)v[i]);
	m[i] = '\0';
	return i > 0 ? strdup(m) : NULL;
}

/* Parse the body with libetpan and fill text, html, calendar, attachments. */
static int
parse_body(struct mime_msg *m, const char *body, size_t blen, int composite)
{
	static const char *const keep[] = {
		"Content-Type", "Content-Transfer-Encoding",
		"Content-Disposition", "MIME-Version",
	};
	struct textbuf syn = { 0 };
	struct walk w = { 0 };
	struct mailmime *top = NULL;
	char *plain = NULL;
	size_t idx = 0;
	int rc = -1;

	if (composite && body_too_complex(body, blen)) {
		m->text = strdup("");
		return m->text ? 0 : -1;
	}
	for (size_t i = 0; i < sizeof keep / sizeof keep[0]; i++) {
		const char *v = mime_header(m, keep[i], 0);
		if (v == NULL)
			continue;
		textbuf_adds(&syn, keep[i]);
		textbuf_add(&syn, ": ", 2);
		textbuf_adds(&syn, v);
		textbuf_add(&syn, "\r\n", 2);
	}
	textbuf_add(&syn, "\r\n", 2);
	textbuf_add(&syn, body, blen);
	if (syn.oom)
		goto out;
	if (mailmime_parse(syn.p, syn.len, &idx, &top) == MAILIMF_NO_ERROR &&
	    top != NULL) {
		struct mailmime *root = top->mm_type == MAILMIME_MESSAGE ?
		    top->mm_data.mm_message.mm_msg_mime : top;
		walk(&w, root, 1, 0, 0);
		if (w.oom)
			goto out;
		if (w.plain != NULL && (plain = part_text(w.plain, 1)) == NULL)
			goto out;
		if (w.html != NULL && (m->html = part_text(w.html, 0)) == NULL)
			goto out;
		if (w.cal != NULL) {
			if ((m->calendar = part_text(w.cal, 0)) == NULL)
				goto out;
			m->calendar_method = calendar_method(w.cal, m->calendar);
		}
	}
	if (plain != NULL && (!all_space(plain, strlen(plain)) || m->html == NULL)) {
		m->text = plain;
		plain = NULL;
	} else if (m->html != NULL) {
		m->text = mime_html_to_text(m->html, strlen(m->html));
		m->text_from_html = 1;
	} else {
		m->text = strdup("");
	}
	if (m->text == NULL)
		goto out;
	m->attachments = w.att;
	m->nattachments = w.natt;
	w.att = NULL;
	w.natt = 0;
	rc = 0;
out:
	for (size_t i = 0; i < w.natt; i++) {
		free(w.att[i].filename);
		free(w.att[i].content_type);
	}
	free(w.att);
	free(plain);
	if (top != NULL)
		mailmime_free(top);
	textbuf_free(&syn);
	return rc;
}

/* ------------------------------------------------------------ the message */

struct mime_msg *
mime_parse(const char *raw, size_t len, struct err *e)
{
	struct mime_msg *m;
	struct mailmime_content *ct = NULL;
	const char *v;
	size_t body = 0, idx = 0;
	char type[32] = "text", sub[64] = "plain";
	int composite;

	if (raw == NULL || len == 0) {
		err_set(e, "empty message");
		return NULL;
	}
	if ((m = calloc(1, sizeof *m)) == NULL)
		goto oom;
	if (parse_headers(m, raw, len, &body) < 0)
		goto oom;
	if (m->nheaders == 0) {
		mime_msg_free(m);
		err_set(e, "no header fields");
		return NULL;
	}
	v = mime_header(m, "Subject", 0);
	if ((m->subject = v ? mime_decode_header(v) : strdup("")) == NULL)
		goto oom;
	addr_parse(mime_header(m, "From", 0), &m->from_addr, &m->from_name);
	addr_parse(mime_header(m, "Reply-To", 0), &m->reply_to_addr, NULL);
	m->message_id = msgid_first(mime_header(m, "Message-ID", 0));
	m->in_reply_to = msgid_first(mime_header(m, "In-Reply-To", 0));

	if ((v = mime_header(m, "Content-Type", 0)) != NULL &&
	    mailmime_content_parse(v, strlen(v), &idx, &ct) == MAILIMF_NO_ERROR &&
	    ct != NULL) {
		ct_names(ct, type, sizeof type, sub, sizeof sub);
		mailmime_content_free(ct);
	}
	if ((m->content_type = malloc(strlen(type) + strlen(sub) + 2)) == NULL)
		goto oom;
	sprintf(m->content_type, "%s/%s", type, sub);
	composite = strcmp(type, "multipart") == 0 ||
	    (strcmp(type, "message") == 0 && strcmp(sub, "rfc822") == 0);
	if (parse_body(m, raw + body, len - body, composite) < 0)
		goto oom;
	return m;
oom:
	mime_msg_free(m);
	err_set(e, "out of memory");
	return NULL;
}

void
mime_msg_free(struct mime_msg *m)
{
	if (m == NULL)
		return;
	for (size_t i = 0; i < m->nheaders; i++) {
		free(m->headers[i].name);
		free(m->headers[i].value);
	}
	free(m->headers);
	free(m->subject);
	free(m->from_addr);
	free(m->from_name);
	free(m->reply_to_addr);
	free(m->message_id);
	free(m->in_reply_to);
	free(m->text);
	free(m->html);
	free(m->calendar);
	free(m->calendar_method);
	free(m->content_type);
	for (size_t i = 0; i < m->nattachments; i++) {
		free(m->attachments[i].filename);
		free(m->attachments[i].content_type);
	}
	free(m->attachments);
	free(m);
}

/* ------------------------------------------------------------ HTML to text */

static const struct {
	const char *name;
	uint16_t cp;
} entities[] = {
	{ "nbsp", 0xA0 }, { "amp", '&' }, { "lt", '<' }, { "gt", '>' },
	{ "quot", '"' }, { "apos", '\'' },
	{ "aacute", 0xE1 }, { "Aacute", 0xC1 }, { "eacute", 0xE9 },
	{ "Eacute", 0xC9 }, { "iacute", 0xED }, { "Iacute", 0xCD },
	{ "oacute", 0xF3 }, { "Oacute", 0xD3 }, { "uacute", 0xFA },
	{ "Uacute", 0xDA }, { "yacute", 0xFD }, { "Yacute", 0xDD },
	{ "ntilde", 0xF1 }, { "Ntilde", 0xD1 }, { "ccedil", 0xE7 },
	{ "Ccedil", 0xC7 }, { "atilde", 0xE3 }, { "Atilde", 0xC3 },
	{ "otilde", 0xF5 }, { "Otilde", 0xD5 },
	{ "acirc", 0xE2 }, { "Acirc", 0xC2 }, { "ecirc", 0xEA },
	{ "Ecirc", 0xCA }, { "icirc", 0xEE }, { "Icirc", 0xCE },
	{ "ocirc", 0xF4 }, { "Ocirc", 0xD4 }, { "ucirc", 0xFB },
	{ "Ucirc", 0xDB },
	{ "agrave", 0xE0 }, { "Agrave", 0xC0 }, { "egrave", 0xE8 },
	{ "Egrave", 0xC8 }, { "igrave", 0xEC }, { "Igrave", 0xCC },
	{ "ograve", 0xF2 }, { "Ograve", 0xD2 }, { "ugrave", 0xF9 },
	{ "Ugrave", 0xD9 },
	{ "auml", 0xE4 }, { "Auml", 0xC4 }, { "euml", 0xEB }, { "Euml", 0xCB },
	{ "iuml", 0xEF }, { "Iuml", 0xCF }, { "ouml", 0xF6 }, { "Ouml", 0xD6 },
	{ "uuml", 0xFC }, { "Uuml", 0xDC }, { "yuml", 0xFF }, { "Yuml", 0x178 },
	{ "aring", 0xE5 }, { "Aring", 0xC5 }, { "aelig", 0xE6 },
	{ "AElig", 0xC6 }, { "oslash", 0xF8 }, { "Oslash", 0xD8 },
	{ "szlig", 0xDF }, { "oelig", 0x153 }, { "OElig", 0x152 },
	{ "scaron", 0x161 }, { "Scaron", 0x160 },
	{ "ordm", 0xBA }, { "ordf", 0xAA }, { "deg", 0xB0 }, { "iexcl", 0xA1 },
	{ "iquest", 0xBF }, { "laquo", 0xAB }, { "raquo", 0xBB },
	{ "lsaquo", 0x2039 }, { "rsaquo", 0x203A },
	{ "euro", 0x20AC }, { "cent", 0xA2 }, { "pound", 0xA3 }, { "yen", 0xA5 },
	{ "curren", 0xA4 }, { "copy", 0xA9 }, { "reg", 0xAE },
	{ "trade", 0x2122 }, { "sect", 0xA7 }, { "para", 0xB6 },
	{ "middot", 0xB7 }, { "bull", 0x2022 }, { "hellip", 0x2026 },
	{ "mdash", 0x2014 }, { "ndash", 0x2013 }, { "lsquo", 0x2018 },
	{ "rsquo", 0x2019 }, { "sbquo", 0x201A }, { "ldquo", 0x201C },
	{ "rdquo", 0x201D }, { "bdquo", 0x201E }, { "dagger", 0x2020 },
	{ "Dagger", 0x2021 }, { "permil", 0x2030 }, { "times", 0xD7 },
	{ "divide", 0xF7 }, { "plusmn", 0xB1 }, { "frac12", 0xBD },
	{ "frac14", 0xBC }, { "frac34", 0xBE }, { "sup1", 0xB9 },
	{ "sup2", 0xB2 }, { "sup3", 0xB3 }, { "micro", 0xB5 },
	{ "acute", 0xB4 }, { "uml", 0xA8 }, { "cedil", 0xB8 }, { "macr", 0xAF },
	{ "not", 0xAC }, { "brvbar", 0xA6 }, { "fnof", 0x192 },
	{ "circ", 0x2C6 }, { "tilde", 0x2DC }, { "shy", 0xAD },
	{ "ensp", 0x2002 }, { "emsp", 0x2003 }, { "thinsp", 0x2009 },
	{ "zwnj", 0x200C }, { "zwj", 0x200D }, { "lrm", 0x200E },
	{ "rlm", 0x200F }, { "larr", 0x2190 }, { "rarr", 0x2192 },
	{ "uarr", 0x2191 }, { "darr", 0x2193 }, { "eth", 0xF0 },
	{ "ETH", 0xD0 }, { "thorn", 0xFE }, { "THORN", 0xDE },
};

struct h2t {
	struct textbuf out;
	int nl;			/* newlines ending the output (max 2) */
	int started;		/* the current line has content */
	int space;		/* a collapsed blank is pending */
	int pre;		/* inside <pre> */
	int bq;			/* quoting <blockquote> depth: lines get "> " */
	int bqd;		/* every <blockquote> depth */
	uint64_t bqs;		/* bit i: level i quotes (not indentation) */
	int mso;		/* the last <p> was an Outlook line */
};

static void
h_text(struct h2t *h, const char *s, size_t n)
{
	if (!h->started) {
		for (int i = 0; i < h->bq && i < 16; i++)
			textbuf_addc(&h->out, '>');
		if (h->bq > 0)
			textbuf_addc(&h->out, ' ');
		h->started = 1;
	} else if (h->space) {
		textbuf_addc(&h->out, ' ');
	}
	h->space = 0;
	textbuf_add(&h->out, s, n);
}

/* An empty line; inside a quote it is a ">" line. */
static void
h_newline(struct h2t *h)
{
	for (int i = 0; i < h->bq && i < 16; i++)
		textbuf_addc(&h->out, '>');
	textbuf_addc(&h->out, '\n');
	h->nl++;
}

/* End the current line if it has content; then make sure at least want
 * newlines end the output (1: line break, 2: paragraph break); forced
 * (<br>) always ends a line, up to one empty line in a row. */
static void
h_break(struct h2t *h, int want, int forced)
{
	h->space = 0;
	if (h->started) {
		size_t len = h->out.len;
		int empty;

		while (len > 0 && (h->out.p[len - 1] == ' ' || h->out.p[len - 1] == '\t'))
			len--;
		textbuf_truncate(&h->out, len);
		empty = len == 0 || h->out.p[len - 1] == '\n';
		h->started = 0;
		if (empty) {
			if (h->nl >= 2)
				return;
			h->nl++;
		} else {
			h->nl = 1;
		}
		textbuf_addc(&h->out, '\n');
		forced = 0;
	}
	if (forced && h->nl < 2)
		h_newline(h);
	while (h->nl < want)
		h_newline(h);
}

static void
h_cp(struct h2t *h, uint32_t cp)
{
	char t[4];

	if (cp == 0xAD)		/* soft hyphen: invisible */
		return;
	if (cp == ' ' || cp == '\t' || cp == '\n' || cp == '\r' || cp == '\f') {
		if (h->started)
			h->space = 1;
		return;
	}
	if (cp == 0xA0)		/* nbsp: a blank that does not collapse */
		cp = ' ';
	h_text(h, t, utf8_enc(cp, t));
}

/* Decode the entity at s[0] == '&'; returns the bytes used (0: not one). */
static size_t
h_entity(struct h2t *h, const char *s, size_t n)
{
	size_t i = 1;
	uint32_t cp = 0;

	if (i < n && s[i] == '#') {
		int hex = 0, digits = 0;
		i++;
		if (i < n && (s[i] == 'x' || s[i] == 'X'))
			hex = 1, i++;
		for (; i < n; i++) {
			int d = hex ? hexval((unsigned char)s[i]) :
			    (isdigit((unsigned char)s[i]) ? s[i] - '0' : -1);
			if (d < 0)
				break;
			if (cp <= 0x10FFFF)
				cp = cp * (hex ? 16 : 10) + (uint32_t)d;
			digits++;
		}
		if (digits == 0)
			return 0;
		if (i < n && s[i] == ';')
			i++;
		if (cp >= 0x80 && cp < 0xA0 && cp1252_hi[cp - 0x80] != 0)
			cp = cp1252_hi[cp - 0x80];	/* as browsers do */
		if (cp == 0 || cp > 0x10FFFF || (cp >= 0xD800 && cp < 0xE000))
			cp = 0xFFFD;
		h_cp(h, cp);
		return i;
	}
	while (i < n && i < 33 && isalnum((unsigned char)s[i]))
		i++;
	if (i == 1)
		return 0;
	for (size_t k = 0; k < sizeof entities / sizeof entities[0]; k++)
		if (strlen(entities[k].name) == i - 1 &&
		    memcmp(entities[k].name, s + 1, i - 1) == 0) {
			h_cp(h, entities[k].cp);
			return i < n && s[i] == ';' ? i + 1 : i;
		}
	return 0;
}

/* Index just past the end of the tag at s[i] == '<', or 0 if it does not
 * end. Quoted attribute values may hold '>'. *selfclose: it ends in "/>". */
static size_t
tag_end(const char *s, size_t n, size_t i, int *selfclose)
{
	char quote = 0, last = 0;

	*selfclose = 0;
	for (i++; i < n; i++) {
		char c = s[i];
		if (quote) {
			if (c == quote)
				quote = 0, last = c;
			continue;
		}
		if (c == '>') {
			*selfclose = last == '/';
			return i + 1;
		}
		if ((c == '"' || c == '\'') && last == '=')
			quote = c;
		else if (!isspace((unsigned char)c))
			last = c;
	}
	return 0;
}

/* Skip to just past "</name ...>" (or, for head, to "<body"); n if none. */
static size_t
skip_content(const char *s, size_t n, size_t i, const char *name)
{
	size_t nl = strlen(name);

	while (i < n) {
		const char *p = memchr(s + i, '<', n - i);
		size_t k;
		int sc;
		if (p == NULL)
			return n;
		k = (size_t)(p - s);
		if (k + 2 + nl <= n && s[k + 1] == '/' &&
		    strncasecmp(s + k + 2, name, nl) == 0 &&
		    (k + 2 + nl == n || !isalnum((unsigned char)s[k + 2 + nl]))) {
			size_t e = tag_end(s, n, k, &sc);
			return e ? e : n;
		}
		if (strcmp(name, "head") == 0 && k + 5 <= n &&
		    strncasecmp(s + k + 1, "body", 4) == 0 &&
		    (k + 5 == n || !isalnum((unsigned char)s[k + 5])))
			return k;
		i = k + 1;
	}
	return n;
}

static int
name_in(const char *name, const char *const *list)
{
	for (; *list != NULL; list++)
		if (strcmp(name, *list) == 0)
			return 1;
	return 0;
}

/*
 * Blocks end lines as a browser shows them: <div> and <tr> are lines (Gmail,
 * Outlook on the web and Apple Mail write one <div> per line, an empty line
 * as <div><br></div>), <p> and <h1>..<h6> are paragraphs (a blank line),
 * except Outlook's margin-less <p class=MsoNormal> lines. <li> is "- ",
 * cells are separated by a tab, quoting <blockquote>s prefix "> ".
 */
static const char *const h_drop[] = {
	"script", "style", "head", "title", "template", "xml", NULL
};
static const char *const h_line[] = {
	"div", "tr", "table", "ul", "ol", "dl", "dt", "dd", "center", "form",
	"fieldset", "legend", "address", "header", "footer", "section",
	"article", "aside", "nav", "main", "figure", "figcaption", "details",
	"summary", "caption", "body", "html", NULL
};
static const char *const h_para[] = {
	"p", "h1", "h2", "h3", "h4", "h5", "h6", "hr", NULL
};

/* A quote, not an indentation: Apple/Thunderbird type="cite", Gmail's
 * class="gmail_quote", a left border (Outlook on the web, Yahoo). */
static int
quoting(const char *attrs, size_t n)
{
	return ci_find(attrs, n, "cite") != NULL || ci_find(attrs, n, "quote") != NULL ||
	    ci_find(attrs, n, "border-left") != NULL;
}

/* Outlook writes every line as <p class=MsoNormal> with no margins. */
static int
mso_paragraph(const char *attrs, size_t n)
{
	const char *c = ci_find(attrs, n, "class");
	size_t k;

	if (c == NULL)
		return 0;
	k = (size_t)(c - attrs) + 5;
	while (k < n && (isspace((unsigned char)attrs[k]) || attrs[k] == '=' ||
	    attrs[k] == '"' || attrs[k] == '\''))
		k++;
	return n - k >= 3 && strncasecmp(attrs + k, "mso", 3) == 0;
}

char *
mime_html_to_text(const char *s, size_t n)
{
	struct h2t h = { .nl = 2 };
	struct textbuf res = { 0 };
	size_t i = 0, a, z;

	if (s == NULL)
		n = 0;
	while (i < n) {
		unsigned char c = (unsigned char)s[i];

		if (c == '<') {
			size_t j = i + 1, end;
			int closing = 0, sc;
			char name[16];
			size_t nl = 0;

			if (j < n && s[j] == '!') {
				if (n - j >= 3 && memcmp(s + j, "!--", 3) == 0) {
					const char *e = j + 3 <= n ?
					    mem_find(s + j + 3, n - j - 3, "-->", 3) : NULL;
					i = e ? (size_t)(e - s) + 3 : n;
				} else {
					const char *e = memchr(s + j, '>', n - j);
					i = e ? (size_t)(e - s) + 1 : n;
				}
				continue;
			}
			if (j < n && s[j] == '?') {
				const char *e = memchr(s + j, '>', n - j);
				i = e ? (size_t)(e - s) + 1 : n;
				continue;
			}
			if (j < n && s[j] == '/') {
				closing = 1;
				j++;
			}
			if (j >= n || !isalpha((unsigned char)s[j])) {
				if (closing) {	/* "</ ...>": ignored */
					const char *e = memchr(s + j, '>', n - j);
					i = e ? (size_t)(e - s) + 1 : n;
					continue;
				}
				h_text(&h, "<", 1);	/* a '<' in text */
				i++;
				continue;
			}
			while (j < n && (isalnum((unsigned char)s[j]) || s[j] == ':' ||
			    s[j] == '-' || s[j] == '_')) {
				if (nl + 1 < sizeof name)
					name[nl] = (char)tolower((unsigned char)s[j]);
				nl++;
				j++;
			}
			if (nl >= sizeof name)
				nl = 0;		/* too long: no tag we know */
			name[nl] = '\0';
			end = tag_end(s, n, i, &sc);
			if (end == 0)
				break;		/* unterminated tag: dropped to the end */
			i = end;
			if (!closing && name_in(name, h_drop)) {
				if (!sc)
					i = skip_content(s, n, i, name);
			} else if (strcmp(name, "br") == 0) {
				h_break(&h, 0, 1);
			} else if (strcmp(name, "p") == 0) {
				if (!closing)
					h.mso = mso_paragraph(s + j, end - j);
				h_break(&h, h.mso ? 1 : 2, 0);
			} else if (name_in(name, h_para)) {
				h_break(&h, 2, 0);
				if (strcmp(name, "hr") == 0)
					h_break(&h, 2, 0);
			} else if (strcmp(name, "li") == 0) {
				h_break(&h, 1, 0);
				if (!closing) {
					h_text(&h, "-", 1);
					h.space = 1;
				}
			} else if (strcmp(name, "td") == 0 || strcmp(name, "th") == 0) {
				if (!closing && h.started) {
					textbuf_addc(&h.out, '\t');
					h.space = 0;
				}
			} else if (strcmp(name, "blockquote") == 0) {
				h_break(&h, 1, 0);
				if (closing && h.bqd > 0) {
					h.bqd--;
					if (h.bqd < 64 && (h.bqs >> h.bqd & 1)) {
						h.bq--;
						h.bqs &= ~((uint64_t)1 << h.bqd);
					}
				} else if (!closing) {
					if (h.bqd < 64 && quoting(s + j, end - j)) {
						h.bqs |= (uint64_t)1 << h.bqd;
						h.bq++;
					}
					h.bqd += h.bqd < INT32_MAX;
				}
			} else if (strcmp(name, "pre") == 0) {
				h_break(&h, 1, 0);
				if (closing)
					h.pre -= h.pre > 0;
				else
					h.pre++;
			} else if (name_in(name, h_line)) {
				h_break(&h, 1, 0);
			}
			continue;
		}
		if (c == '&') {
			size_t k = h_entity(&h, s + i, n - i);
			if (k == 0) {
				h_text(&h, "&", 1);
				k = 1;
			}
			i += k;
			continue;
		}
		if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f') {
			if (h.pre) {
				if (c == '\n')
					h_break(&h, 0, 1);
				else if (c != '\r')
					h_text(&h, (const char *)&s[i], 1);
			} else if (h.started) {
				h.space = 1;
			}
			i++;
			continue;
		}
		if (c == 0) {		/* never output */
			i++;
			continue;
		}
		if (c == 0xC2 && i + 1 < n && (unsigned char)s[i + 1] == 0xA0) {
			h_text(&h, " ", 1);	/* U+00A0 */
			i += 2;
			continue;
		}
		/* a run of ordinary text */
		a = i;
		while (i < n) {
			c = (unsigned char)s[i];
			if (c == '<' || c == '&' || c == ' ' || c == '\t' ||
			    c == '\n' || c == '\r' || c == '\f' || c == 0xC2 || c == 0)
				break;
			i++;
		}
		if (i == a)
			i++;	/* a lone 0xC2 */
		h_text(&h, s + a, i - a);
	}
	/* trim, then make it valid UTF-8 without NULs */
	a = 0;
	z = h.out.len;
	while (a < z && isspace((unsigned char)h.out.p[a]))
		a++;
	while (z > a && isspace((unsigned char)h.out.p[z - 1]))
		z--;
	if (h.out.oom) {
		textbuf_free(&h.out);
		return NULL;
	}
	add_utf8(&res, h.out.p ? h.out.p + a : "", z - a);
	textbuf_free(&h.out);
	return textbuf_take(&res);
}
