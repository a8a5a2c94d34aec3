#include "buildconf.h"

/*
 * trim — cut quoted replies and signatures from a mail body (pure).
 *
 * Text pass: every line gets a label (blank, quote, attribution, Outlook
 * separator / header block, signature, text), then one forward walk decides
 * what is kept:
 *  - an Outlook separator ("-----Mensaje original-----", ...) or header block
 *    ("De:/From:" followed on the next lines by "Enviado:/Sent:", or by two
 *    of date/to/subject) cuts to the end: Outlook quotes without markers;
 *  - quote lines (">" at any depth) are cut, with the attribution line(s)
 *    that introduce them; unquoted text after a quote block is kept
 *    (bottom-posting, inline replies);
 *  - an attribution ("El/Em/On/Le ... escribió:/escreveu:/wrote:/a écrit :",
 *    with a time or an address) that is not followed by a quote introduces
 *    an unmarked quote and cuts to the end;
 *  - a signature ("-- ", "--", "Enviado desde mi iPhone", ...) is cut up to
 *    the next quote block (text after a quote block is kept again) or to the
 *    end.
 * The kept text has LF line ends, each line terminated, no leading or
 * trailing blank lines, and at most one blank line where a cut was; a text
 * with nothing to cut comes back unchanged (apart from CRLF -> LF, a final
 * LF and a leading byte order mark). The cut lines are returned in order.
 *
 * HTML pass: a single forward scan over the tags (tolerant: '<' in text,
 * unclosed tags and quotes, comments, raw-text elements) that drops marker
 * elements (matching nesting by counting start/end tags of the same name)
 * or cuts everything from a marker to the end. Each byte is looked at a
 * bounded number of times: linear time, no recursion.
 */

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "text.h"
#include "trim.h"

/* ------------------------------------------------------------------ */
/* small helpers */

static int
lower(int c)
{
	return c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c;
}

/* Case-insensitive (ASCII) comparison of n bytes. */
static bool
ci_eq(const char *a, const char *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (lower((unsigned char)a[i]) != lower((unsigned char)b[i]))
			return false;
	return true;
}

/* Does [s, s+len) start with prefix (case-insensitive ASCII)? */
static bool
ci_prefix(const char *s, size_t len, const char *prefix)
{
	size_t n = strlen(prefix);
	return len >= n && ci_eq(s, prefix, n);
}

/* Does [s, s+len) end with suffix (case-insensitive ASCII)? */
static bool
ci_suffix(const char *s, size_t len, const char *suffix)
{
	size_t n = strlen(suffix);
	return len >= n && ci_eq(s + len - n, suffix, n);
}

static bool
is_digit(int c)
{
	return c >= '0' && c <= '9';
}

static bool
is_alpha(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool
is_space(int c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' ||
	    c == '\v';
}

/* Length of the whitespace at s (ASCII blanks and U+00A0 NO-BREAK SPACE). */
static size_t
space_at(const char *s, size_t len)
{
	if (len >= 1 && (s[0] == ' ' || s[0] == '\t' || s[0] == '\f' ||
	    s[0] == '\v' || s[0] == '\r'))
		return 1;
	if (len >= 2 && (unsigned char)s[0] == 0xC2 &&
	    (unsigned char)s[1] == 0xA0)
		return 2;
	return 0;
}

/* Trim whitespace on both ends of [*s, *s+*len). */
static void
trim_span(const char **s, size_t *len)
{
	size_t k;

	while (*len > 0 && (k = space_at(*s, *len)) > 0) {
		*s += k;
		*len -= k;
	}
	for (;;) {
		if (*len >= 1 && space_at(*s + *len - 1, 1) == 1) {
			(*len)--;
		} else if (*len >= 2 && (unsigned char)(*s)[*len - 2] == 0xC2 &&
		    (unsigned char)(*s)[*len - 1] == 0xA0) {
			*len -= 2;
		} else {
			break;
		}
	}
}

/* ------------------------------------------------------------------ */
/* text pass: labels */

enum kind {
	K_TEXT,
	K_BLANK,
	K_QUOTE,
	K_SIG,			/* "-- ", "--", "Enviado desde mi iPhone", ... */
	K_SEP,			/* "-----Mensaje original-----" */
	K_RULE,			/* "________________________________" */
};

/* Fields of an Outlook header block. */
enum {
	H_FROM = 1,
	H_SENT = 2,		/* Enviado / Enviada em / Sent: Outlook only */
	H_DATE = 4,		/* Date / Fecha / Data: also plausible in a form */
	H_TO = 8,
	H_SUBJ = 16,
	H_CC = 32,
};

struct line {
	const char *s;
	size_t len;		/* without the line end */
	unsigned char kind;
	unsigned char hdr;	/* H_* if the line is "Field: ..." */
	bool verb;		/* ends with "escribió:", "wrote:", ... */
	bool opener;		/* starts with "El ", "Em ", "On ", "Le " */
	bool digit;		/* has a digit */
	bool evidence;		/* has a time "9:99" or an address */
	bool cut;
};

static const char *const sep_words[] = {
	"mensaje original", "mensagem original", "original message",
	"message d'origine", NULL
};

/* "-----Mensaje original-----", "----- Original Message -----" */
static bool
is_separator(const char *s, size_t len)
{
	size_t a = 0, b;

	trim_span(&s, &len);
	b = len;
	while (a < b && s[a] == '-')
		a++;
	if (a < 3)
		return false;
	while (b > a && s[b - 1] == '-')
		b--;
	if (len - b < 3)
		return false;
	const char *w = s + a;
	size_t wl = b - a;
	trim_span(&w, &wl);
	for (size_t i = 0; sep_words[i] != NULL; i++)
		if (wl == strlen(sep_words[i]) && ci_eq(w, sep_words[i], wl))
			return true;
	return false;
}

/* "________________________________" (Outlook's rule before the headers) */
static bool
is_rule(const char *s, size_t len)
{
	trim_span(&s, &len);
	for (size_t i = 0; i < len; i++)
		if (s[i] != '_')
			return false;
	return len >= 8;
}

static const char *const trailers[] = {
	"Enviado desde ", "Enviada desde ", "Enviado do ", "Enviada do ",
	"Enviado de meu ", "Enviado de mi ", "Enviado con ", "Enviado com ",
	"Sent from ", "Sent with ", "Get Outlook for ", "Obtener Outlook para ",
	"Obtenga Outlook para ", "Obter o Outlook para ", "Baixe o Outlook para ",
	NULL
};

/* "-- " / "--" / a mobile trailer such as "Enviado desde mi iPhone". */
static bool
is_signature(const char *s, size_t len)
{
	const char *t = s;
	size_t tl = len;

	/* the delimiter itself: at the start of the line, blanks after */
	if (len >= 2 && s[0] == '-' && s[1] == '-') {
		t = s + 2;
		tl = len - 2;
		trim_span(&t, &tl);
		if (tl == 0)
			return true;
	}
	t = s;
	tl = len;
	trim_span(&t, &tl);
	if (tl > 80)
		return false;
	for (size_t i = 0; trailers[i] != NULL; i++) {
		if (!ci_prefix(t, tl, trailers[i]))
			continue;
		/* "Enviado desde: Montevideo" is a form field, not a trailer */
		for (size_t k = 0; k < tl; k++)
			if (t[k] == ':' && (k + 1 == tl || t[k + 1] == ' ' ||
			    t[k + 1] == '\t'))
				return false;
		return true;
	}
	return false;
}

struct hdr_name {
	const char *name;
	unsigned char bit;
};

static const struct hdr_name hdr_names[] = {
	{ "de", H_FROM }, { "from", H_FROM },
	{ "enviado", H_SENT }, { "enviado el", H_SENT }, { "enviada", H_SENT },
	{ "enviada em", H_SENT }, { "enviado em", H_SENT }, { "sent", H_SENT },
	{ "date", H_DATE }, { "fecha", H_DATE }, { "data", H_DATE },
	{ "para", H_TO }, { "to", H_TO },
	{ "cc", H_CC }, { "cco", H_CC }, { "bcc", H_CC },
	{ "asunto", H_SUBJ }, { "assunto", H_SUBJ }, { "subject", H_SUBJ },
	{ NULL, 0 }
};

/* "De: ...", "*Enviado el:* ..." -> H_*, or 0. */
static unsigned char
header_field(const char *s, size_t len)
{
	size_t i = 0, n;

	while (i < len && (s[i] == ' ' || s[i] == '\t'))
		i++;
	if (i < len && s[i] == '*')	/* Gmail's rendering of bold */
		i++;
	size_t start = i;
	while (i < len && i - start < 16 && s[i] != ':')
		i++;
	if (i >= len || s[i] != ':')
		return 0;
	n = i - start;
	if (n > 0 && s[start + n - 1] == '*')
		n--;
	for (size_t k = 0; hdr_names[k].name != NULL; k++)
		if (strlen(hdr_names[k].name) == n &&
		    ci_eq(s + start, hdr_names[k].name, n))
			return hdr_names[k].bit;
	return 0;
}

static const char *const verbs[] = {
	"escribi\xC3\xB3:",		/* escribió: */
	"escreveu:",
	"wrote:",
	"a \xC3\xA9" "crit :",		/* a écrit : */
	"a \xC3\xA9" "crit:",
	"a \xC3\xA9" "crit\xC2\xA0:",	/* with NO-BREAK SPACE */
	"a \xC3\xA9" "crit\xE2\x80\xAF:",	/* with NARROW NO-BREAK SPACE */
	NULL
};

static const char *const openers[] = { "El ", "Em ", "On ", "Le ", NULL };

static void
label_line(struct line *l)
{
	const char *s = l->s, *t;
	size_t len = l->len, tl;

	t = s;
	tl = len;
	trim_span(&t, &tl);
	if (tl == 0) {
		l->kind = K_BLANK;
		return;
	}
	if (t[0] == '>') {
		l->kind = K_QUOTE;
		return;
	}
	if (is_separator(s, len)) {
		l->kind = K_SEP;
		return;
	}
	if (is_rule(s, len)) {
		l->kind = K_RULE;
		return;
	}
	if (is_signature(s, len)) {
		l->kind = K_SIG;
		return;
	}
	l->kind = K_TEXT;
	l->hdr = header_field(s, len);
	for (size_t i = 0; verbs[i] != NULL; i++)
		if (ci_suffix(t, tl, verbs[i]))
			l->verb = true;
	for (size_t i = 0; openers[i] != NULL; i++)
		if (tl >= 3 && memcmp(t, openers[i], 3) == 0)
			l->opener = true;
	for (size_t i = 0; i < tl; i++) {
		if (is_digit((unsigned char)t[i]))
			l->digit = true;
		if (t[i] == '@' || (i + 3 < tl && is_digit((unsigned char)t[i]) &&
		    t[i + 1] == ':' && is_digit((unsigned char)t[i + 2]) &&
		    is_digit((unsigned char)t[i + 3])))
			l->evidence = true;
	}
	/* an address alone is not enough: it wants a date too */
	if (l->evidence && !l->digit)
		l->evidence = false;
}

/*
 * Does an Outlook header block start at line i? "De:/From:" first, then
 * header fields on the following lines (no blank between). Enough: the
 * Outlook-only "Enviado:/Sent:" field, or two of date/to/subject. A form
 * whose first field is "De:" is not a header block.
 */
static bool
header_block_at(const struct line *L, size_t n, size_t i)
{
	unsigned seen = 0;

	if (i >= n || L[i].kind != K_TEXT || L[i].hdr != H_FROM)
		return false;
	seen = H_FROM;
	for (size_t j = i + 1; j < n && j < i + 8; j++) {
		if (L[j].kind != K_TEXT || L[j].hdr == 0 || L[j].hdr == H_FROM)
			break;
		seen |= L[j].hdr;
	}
	if (seen & H_SENT)
		return true;
	int others = !!(seen & H_DATE) + !!(seen & H_TO) + !!(seen & H_SUBJ);
	return others >= 2;
}

/*
 * Is there an attribution ("On ... wrote:") starting at line i, over one to
 * three lines (Gmail wraps long ones)? Sets *end to its last line.
 */
static bool
attribution_at(const struct line *L, size_t n, size_t i, size_t *end)
{
	if (L[i].kind != K_TEXT)
		return false;
	if (L[i].verb) {
		*end = i;
		return true;
	}
	if (!L[i].opener || !L[i].digit)
		return false;
	size_t total = L[i].len;
	for (size_t j = i + 1; j < n && j <= i + 2; j++) {
		if (L[j].kind != K_TEXT || L[j].opener)
			return false;
		total += L[j].len;
		if (total > 600)
			return false;
		if (L[j].verb) {
			*end = j;
			return true;
		}
	}
	return false;
}

static bool
span_evidence(const struct line *L, size_t s, size_t e)
{
	for (size_t k = s; k <= e; k++)
		if (L[k].evidence)
			return true;
	return false;
}

static void
cut_to_end(struct line *L, size_t n, size_t i)
{
	for (; i < n; i++)
		L[i].cut = true;
}

static void
decide(struct line *L, size_t n)
{
	bool sig = false;	/* inside a signature */

	for (size_t i = 0; i < n; i++) {
		struct line *l = &L[i];
		size_t end, q;

		switch (l->kind) {
		case K_BLANK:
			continue;
		case K_SEP:
			cut_to_end(L, n, i);
			return;
		case K_RULE:
			q = i + 1;
			while (q < n && L[q].kind == K_BLANK)
				q++;
			if (header_block_at(L, n, q)) {
				cut_to_end(L, n, i);
				return;
			}
			l->cut = sig;
			continue;
		case K_QUOTE:
			l->cut = true;
			sig = false;	/* text after a quote block is kept */
			continue;
		case K_SIG:
			l->cut = true;
			sig = true;
			continue;
		default:
			break;
		}
		if (header_block_at(L, n, i)) {
			cut_to_end(L, n, i);
			return;
		}
		if (attribution_at(L, n, i, &end)) {
			q = end + 1;
			/* only blanks lie between end and q, and each blank
			 * run follows one line: linear over the text */
			while (q < n && L[q].kind == K_BLANK)
				q++;
			if (q < n && L[q].kind == K_QUOTE) {
				for (size_t k = i; k <= end; k++)
					L[k].cut = true;
				i = end;
				sig = false;
				continue;
			}
			if (L[i].opener && span_evidence(L, i, end)) {
				/* a quote without markers */
				cut_to_end(L, n, i);
				return;
			}
		}
		l->cut = sig;
	}
}

/* Blank lines follow their neighbours: cut if everything around is cut. */
static void
decide_blanks(struct line *L, size_t n)
{
	size_t i = 0;

	while (i < n) {
		if (L[i].kind != K_BLANK) {
			i++;
			continue;
		}
		size_t j = i;
		while (j < n && L[j].kind == K_BLANK)
			j++;
		bool before = i == 0 || L[i - 1].cut;
		bool after = j == n || L[j].cut;
		for (size_t k = i; k < j; k++)
			L[k].cut = before && after;
		i = j;
	}
}

/*
 * The kept lines. Blank lines are held back until the next kept text line:
 * dropped at the start and at the end, and a run that a cut went through
 * becomes one blank line (the sender's own runs are kept as they are).
 */
static void
emit_text(const struct line *L, size_t n, struct textbuf *b)
{
	size_t first_blank = 0, blanks = 0;
	bool any = false, cut_since = false;

	for (size_t i = 0; i < n; i++) {
		if (L[i].cut) {
			cut_since = true;
			continue;
		}
		if (L[i].kind == K_BLANK) {
			if (blanks++ == 0)
				first_blank = i;
			continue;
		}
		if (any && blanks > 0) {
			/* without a cut in between the run is contiguous */
			size_t last = cut_since ? first_blank : first_blank + blanks - 1;
			for (size_t k = first_blank; k <= last; k++) {
				textbuf_add(b, L[k].s, L[k].len);
				textbuf_add(b, "\n", 1);
			}
		}
		textbuf_add(b, L[i].s, L[i].len);
		textbuf_add(b, "\n", 1);
		any = true;
		blanks = 0;
		cut_since = false;
	}
}

static void
emit_cut(const struct line *L, size_t n, struct textbuf *b)
{
	size_t keep_len = 0;
	bool any = false;

	for (size_t i = 0; i < n; i++) {
		if (!L[i].cut || (L[i].kind == K_BLANK && !any))
			continue;
		textbuf_add(b, L[i].s, L[i].len);
		textbuf_add(b, "\n", 1);
		if (L[i].kind != K_BLANK) {
			keep_len = b->len;
			any = true;
		}
	}
	textbuf_truncate(b, keep_len);
}

int
trim_text(const char *text, struct trim_result *out, struct err *e)
{
	struct line *L = NULL;
	struct textbuf kept = { 0 }, cut = { 0 };
	size_t n = 0, len, i;

	if (out == NULL)
		return err_set(e, "trim: no result to fill");
	out->text = out->cut = NULL;
	if (text == NULL)
		text = "";
	len = strlen(text);
	if (len >= 3 && memcmp(text, "\xEF\xBB\xBF", 3) == 0) {
		text += 3;
		len -= 3;
	}

	/* lines: LF ends a line, a CR just before it is dropped */
	for (i = 0; i < len; i++)
		if (text[i] == '\n')
			n++;
	if (len > 0 && text[len - 1] != '\n')
		n++;
	L = calloc(n ? n : 1, sizeof *L);
	if (L == NULL)
		goto oom;
	size_t k = 0, start = 0;
	for (i = 0; i <= len && k < n; i++) {
		if (i < len && text[i] != '\n')
			continue;
		size_t l = i - start;
		if (l > 0 && text[start + l - 1] == '\r')
			l--;
		L[k].s = text + start;
		L[k].len = l;
		label_line(&L[k]);
		k++;
		start = i + 1;
	}

	decide(L, n);
	decide_blanks(L, n);
	emit_text(L, n, &kept);
	emit_cut(L, n, &cut);
	out->text = textbuf_take(&kept);	/* "" if nothing: never NULL on success */
	out->cut = textbuf_take(&cut);
	if (out->text == NULL || out->cut == NULL) {
		trim_result_free(out);
		goto oom;
	}
	free(L);
	return 0;
oom:
	free(L);
	textbuf_free(&kept);
	textbuf_free(&cut);
	return err_set(e, "trim: out of memory");
}

void
trim_result_free(struct trim_result *r)
{
	if (r == NULL)
		return;
	free(r->text);
	free(r->cut);
	r->text = r->cut = NULL;
}

/* ------------------------------------------------------------------ */
/* HTML pass */

struct tag {
	const char *start;	/* '<' */
	const char *end;	/* just after '>' (or the end of input) */
	const char *name;
	size_t name_len;
	bool close;		/* "</name" */
	bool self_closing;	/* ".../>" */
	/* the attributes the markers look at (pointers into the input) */
	const char *class_v, *id_v, *type_v, *style_v, *smart_v;
	size_t class_l, id_l, type_l, style_l, smart_l;
};

static bool
name_is(const char *s, size_t len, const char *name)
{
	return len == strlen(name) && ci_eq(s, name, len);
}

static bool
is_name_char(int c)
{
	return is_alpha(c) || is_digit(c) || c == '-' || c == '_' || c == ':' ||
	    c == '.' || c >= 0x80;
}

/*
 * Parse a tag at p ('<' followed by a letter, or "</" and a letter).
 * Attribute values may be quoted either way or not at all; a quote that
 * never closes runs to the end of input, as in browsers.
 */
static void
parse_tag(const char *p, const char *end, struct tag *t)
{
	memset(t, 0, sizeof *t);
	t->start = p++;
	if (*p == '/') {
		t->close = true;
		p++;
	}
	t->name = p;
	while (p < end && is_name_char((unsigned char)*p))
		p++;
	t->name_len = (size_t)(p - t->name);
	for (;;) {
		while (p < end && (is_space((unsigned char)*p) || *p == '/')) {
			if (*p == '/' && p + 1 < end && p[1] == '>')
				t->self_closing = true;
			p++;
		}
		if (p >= end) {
			t->end = end;
			return;
		}
		if (*p == '>') {
			t->end = p + 1;
			return;
		}
		const char *an = p;
		/* an attribute name: up to blank, '=', '>' or '/' (one
		 * character at least, so a stray '=' makes progress) */
		p++;
		while (p < end && !is_space((unsigned char)*p) && *p != '=' &&
		    *p != '>' && *p != '/')
			p++;
		size_t al = (size_t)(p - an);
		while (p < end && is_space((unsigned char)*p))
			p++;
		const char *v = NULL;
		size_t vl = 0;
		if (p < end && *p == '=') {
			p++;
			while (p < end && is_space((unsigned char)*p))
				p++;
			if (p < end && (*p == '"' || *p == '\'')) {
				char qc = *p++;
				v = p;
				const char *qe = memchr(p, qc, (size_t)(end - p));
				p = qe ? qe : end;
				vl = (size_t)(p - v);
				if (p < end)
					p++;
			} else {
				v = p;
				while (p < end && !is_space((unsigned char)*p) &&
				    *p != '>')
					p++;
				vl = (size_t)(p - v);
			}
		}
		if (t->close || v == NULL)
			continue;
		if (name_is(an, al, "class")) {
			t->class_v = v;
			t->class_l = vl;
		} else if (name_is(an, al, "id")) {
			t->id_v = v;
			t->id_l = vl;
		} else if (name_is(an, al, "type")) {
			t->type_v = v;
			t->type_l = vl;
		} else if (name_is(an, al, "style")) {
			t->style_v = v;
			t->style_l = vl;
		} else if (name_is(an, al, "data-smartmail")) {
			t->smart_v = v;
			t->smart_l = vl;
		}
	}
}

/* Is word (or "x_" + word, as Outlook on the web rewrites them) one of
 * the blank-separated tokens of v? */
static bool
has_token(const char *v, size_t vl, const char *word)
{
	size_t wl = strlen(word), i = 0;

	while (i < vl) {
		while (i < vl && is_space((unsigned char)v[i]))
			i++;
		size_t s = i;
		while (i < vl && !is_space((unsigned char)v[i]))
			i++;
		const char *tok = v + s;
		size_t tl = i - s;
		if (tl >= 2 && ci_eq(tok, "x_", 2) && tl - 2 == wl &&
		    ci_eq(tok + 2, word, wl))
			return true;
		if (tl == wl && ci_eq(tok, word, wl))
			return true;
	}
	return false;
}

/* style contains needle once blanks are removed (case-insensitive). */
static bool
style_has(const char *v, size_t vl, const char *needle)
{
	size_t nl = strlen(needle), m = 0;

	/* a small automaton would be exact for any needle; for this needle
	 * ("border-top:solid") the restart-at-0 matcher is exact as long as
	 * its first character does not repeat in the middle, which holds */
	for (size_t i = 0; i < vl; i++) {
		int c = lower((unsigned char)v[i]);
		if (is_space(c))
			continue;
		if (c == needle[m]) {
			if (++m == nl)
				return true;
		} else {
			m = c == needle[0] ? 1 : 0;
		}
	}
	return false;
}

static bool
is_void(const struct tag *t)
{
	static const char *const v[] = {
		"area", "base", "br", "col", "embed", "hr", "img", "input",
		"link", "meta", "param", "source", "track", "wbr", NULL
	};
	for (size_t i = 0; v[i] != NULL; i++)
		if (name_is(t->name, t->name_len, v[i]))
			return true;
	return false;
}

/* Raw-text elements: their content is not markup. */
static bool
is_raw(const struct tag *t)
{
	return name_is(t->name, t->name_len, "script") ||
	    name_is(t->name, t->name_len, "style") ||
	    name_is(t->name, t->name_len, "textarea") ||
	    name_is(t->name, t->name_len, "title") ||
	    name_is(t->name, t->name_len, "xmp");
}

/* The end of a raw-text element's content starting at p: the next
 * "</name" (case-insensitive), or the end of input. */
static const char *
raw_end(const char *p, const char *end, const struct tag *t)
{
	for (; p < end; p++) {
		const char *lt = memchr(p, '<', (size_t)(end - p));
		if (lt == NULL)
			return end;
		p = lt;
		if ((size_t)(end - p) >= t->name_len + 2 && p[1] == '/' &&
		    ci_eq(p + 2, t->name, t->name_len))
			return p;
	}
	return end;
}

/*
 * Look a little ahead (bounded) for the first text after an Outlook
 * bordered div: is it "De:" / "From:"? Tags, comments, blanks and &nbsp;
 * are skipped.
 */
static bool
outlook_from_follows(const char *p, const char *end)
{
	const char *lim = end - p > 4096 ? p + 4096 : end;

	while (p < lim) {
		if (*p == '<') {
			if (lim - p >= 4 && memcmp(p, "<!--", 4) == 0) {
				const char *q = p + 4;
				while (q + 3 <= lim && memcmp(q, "-->", 3) != 0)
					q++;
				if (q + 3 > lim)
					return false;
				p = q + 3;
				continue;
			}
			const char *q = memchr(p, '>', (size_t)(lim - p));
			if (q == NULL)
				return false;
			p = q + 1;
			continue;
		}
		if (is_space((unsigned char)*p)) {
			p++;
			continue;
		}
		if (lim - p >= 6 && ci_eq(p, "&nbsp;", 6)) {
			p += 6;
			continue;
		}
		size_t wl;
		if (lim - p >= 4 && ci_eq(p, "from", 4))
			wl = 4;
		else if (lim - p >= 2 && ci_eq(p, "de", 2))
			wl = 2;
		else
			return false;
		p += wl;
		/* "De:", "De :", "De&nbsp;:", "<b>De</b>:" */
		while (p < lim) {
			if (is_space((unsigned char)*p)) {
				p++;
			} else if (lim - p >= 6 && ci_eq(p, "&nbsp;", 6)) {
				p += 6;
			} else if (*p == '<') {
				const char *q = memchr(p, '>', (size_t)(lim - p));
				if (q == NULL)
					return false;
				p = q + 1;
			} else {
				return *p == ':';
			}
		}
		return false;
	}
	return false;
}

enum action { A_NONE, A_DROP, A_CUT_REST };

/* What to do with this start tag. */
static enum action
marker(const struct tag *t)
{
	const char *c = t->class_v, *id = t->id_v;
	size_t cl = t->class_l, il = t->id_l;

	if (c != NULL) {
		if (has_token(c, cl, "gmail_quote") ||
		    has_token(c, cl, "gmail_quote_container") ||
		    has_token(c, cl, "gmail_signature") ||
		    has_token(c, cl, "gmail_signature_prefix") ||
		    has_token(c, cl, "moz-cite-prefix") ||
		    has_token(c, cl, "moz-signature") ||
		    has_token(c, cl, "yahoo_quoted"))
			return A_DROP;
	}
	if (t->smart_v != NULL &&
	    has_token(t->smart_v, t->smart_l, "gmail_signature"))
		return A_DROP;
	if (id != NULL) {
		if (has_token(id, il, "divRplyFwdMsg") ||
		    has_token(id, il, "appendonsend"))
			return A_CUT_REST;
		if (has_token(id, il, "AppleMailSignature") ||
		    has_token(id, il, "ms-outlook-mobile-signature"))
			return A_DROP;
	}
	if (t->type_v != NULL && name_is(t->name, t->name_len, "blockquote") &&
	    has_token(t->type_v, t->type_l, "cite"))
		return A_DROP;
	return A_NONE;
}

char *
trim_html(const char *html)
{
	if (html == NULL)
		return NULL;

	size_t len = strlen(html);
	const char *p = html, *end = html + len;
	char *out = malloc(len + 1);
	size_t olen = 0;
	/* the last <hr> copied, if only blanks were copied after it */
	size_t hr_at = SIZE_MAX;
	/* removing an element: its name and the nesting depth */
	const struct tag *drop = NULL;
	struct tag drop_tag, t;
	size_t depth = 0;

	if (out == NULL)
		return NULL;

	while (p < end) {
		const char *lt = memchr(p, '<', (size_t)(end - p));
		const char *text_end = lt ? lt : end;

		/* text */
		if (text_end > p && drop == NULL) {
			memcpy(out + olen, p, (size_t)(text_end - p));
			for (const char *q = p; q < text_end; q++)
				if (!is_space((unsigned char)*q)) {
					hr_at = SIZE_MAX;
					break;
				}
			olen += (size_t)(text_end - p);
		}
		p = text_end;
		if (p >= end)
			break;

		/* p is at '<': what kind of markup? */
		const char *next;
		bool is_tag = false;
		if (end - p >= 4 && memcmp(p, "<!--", 4) == 0) {
			const char *q = p + 4;
			next = end;
			while ((q = memchr(q, '-', (size_t)(end - q))) != NULL) {
				if (end - q >= 3 && q[1] == '-' && q[2] == '>') {
					next = q + 3;
					break;
				}
				q++;
			}
		} else if (end - p >= 2 && (p[1] == '!' || p[1] == '?')) {
			const char *q = memchr(p, '>', (size_t)(end - p));
			next = q ? q + 1 : end;
		} else if (end - p >= 2 && (is_alpha((unsigned char)p[1]) ||
		    (p[1] == '/' && end - p >= 3 && is_alpha((unsigned char)p[2])))) {
			parse_tag(p, end, &t);
			next = t.end;
			is_tag = true;
		} else {
			/* a '<' in text */
			next = p + 1;
		}

		if (!is_tag) {
			if (drop == NULL) {
				memcpy(out + olen, p, (size_t)(next - p));
				olen += (size_t)(next - p);
			}
			p = next;
			continue;
		}

		if (drop != NULL) {
			/* inside an element being removed: count its name */
			if (t.name_len == drop->name_len &&
			    ci_eq(t.name, drop->name, t.name_len)) {
				if (t.close)
					depth--;
				else if (!t.self_closing)
					depth++;
				if (depth == 0)
					drop = NULL;
			}
			p = next;
			if (!t.close && is_raw(&t))
				p = raw_end(p, end, &t);
			continue;
		}

		if (!t.close) {
			enum action a = marker(&t);
			if (a == A_NONE && t.style_v != NULL &&
			    style_has(t.style_v, t.style_l, "border-top:solid") &&
			    outlook_from_follows(next, end))
				a = A_CUT_REST;
			if (a == A_CUT_REST) {
				if (hr_at != SIZE_MAX)
					olen = hr_at;	/* Outlook's <hr> too */
				break;
			}
			if (a == A_DROP) {
				p = next;
				if (t.self_closing || is_void(&t))
					continue;
				drop_tag = t;
				drop = &drop_tag;
				depth = 1;
				if (is_raw(&t))
					p = raw_end(p, end, &t);
				continue;
			}
		}

		/* an ordinary tag: copy it */
		size_t at = olen;
		memcpy(out + olen, p, (size_t)(next - p));
		olen += (size_t)(next - p);
		/* other tags keep hr_at: "<hr><div id=divRplyFwdMsg>" */
		if (!t.close && name_is(t.name, t.name_len, "hr"))
			hr_at = at;
		p = next;
		if (!t.close && is_raw(&t)) {
			const char *re = raw_end(p, end, &t);
			memcpy(out + olen, p, (size_t)(re - p));
			olen += (size_t)(re - p);
			if (re > p)
				hr_at = SIZE_MAX;
			p = re;
		}
	}
	out[olen] = '\0';
	return out;
}
