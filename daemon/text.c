#include "buildconf.h"

#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "text.h"

/* Latin-1 supplement letters U+00C0..U+00FF (the second byte after 0xC3,
 * minus 0x80) folded to ASCII; 0 keeps the character as is. */
static const char latin1_fold[64] = {
	'a', 'a', 'a', 'a', 'a', 'a', 0, 'c', 'e', 'e', 'e', 'e', 'i', 'i', 'i', 'i',
	0, 'n', 'o', 'o', 'o', 'o', 'o', 0, 0, 'u', 'u', 'u', 'u', 'y', 0, 0,
	'a', 'a', 'a', 'a', 'a', 'a', 0, 'c', 'e', 'e', 'e', 'e', 'i', 'i', 'i', 'i',
	0, 'n', 'o', 'o', 'o', 'o', 'o', 0, 0, 'u', 'u', 'u', 'u', 'y', 0, 'y',
};

char *
text_fold(const char *in, char *out, size_t size)
{
	const unsigned char *s = (const unsigned char *)in;
	size_t n = 0;
	int space = 0;

	if (size == 0)
		return out;
	while (*s == ' ' || *s == '\t')
		s++;
	for (; *s && n + 1 < size; s++) {
		char c;
		if (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n') {
			space = 1;
			continue;
		}
		if (*s == 0xC3 && s[1] >= 0x80 && s[1] <= 0xBF && latin1_fold[s[1] - 0x80]) {
			c = latin1_fold[s[1] - 0x80];
			s++;
		} else
			c = (char)tolower(*s);
		if (space && n > 0 && n + 2 < size)
			out[n++] = ' ';
		space = 0;
		out[n++] = c;
	}
	out[n] = '\0';
	return out;
}

int
text_fold_eq(const char *a, const char *b)
{
	char fa[256], fb[256];

	return strcmp(text_fold(a, fa, sizeof fa), text_fold(b, fb, sizeof fb)) == 0;
}

/* ---- UTF-8 ---- */

size_t
text_utf8_len(const unsigned char *s, size_t n)
{
	if (n == 0)
		return 0;
	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xC2 && s[0] <= 0xDF)
		return n >= 2 && (s[1] & 0xC0) == 0x80 ? 2 : 0;
	if (s[0] >= 0xE0 && s[0] <= 0xEF) {
		if (n < 3 || (s[1] & 0xC0) != 0x80 || (s[2] & 0xC0) != 0x80)
			return 0;
		if (s[0] == 0xE0 && s[1] < 0xA0)
			return 0;	/* overlong */
		if (s[0] == 0xED && s[1] >= 0xA0)
			return 0;	/* surrogate */
		return 3;
	}
	if (s[0] >= 0xF0 && s[0] <= 0xF4) {
		if (n < 4 || (s[1] & 0xC0) != 0x80 || (s[2] & 0xC0) != 0x80 ||
		    (s[3] & 0xC0) != 0x80)
			return 0;
		if (s[0] == 0xF0 && s[1] < 0x90)
			return 0;	/* overlong */
		if (s[0] == 0xF4 && s[1] >= 0x90)
			return 0;	/* above U+10FFFF */
		return 4;
	}
	return 0;		/* continuation byte, 0xC0, 0xC1, 0xF5.. */
}

int
text_utf8_valid(const char *s, size_t n)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t i = 0, k;

	while (i < n) {
		if (u[i] < 0x80) {
			i++;
			continue;
		}
		if ((k = text_utf8_len(u + i, n - i)) == 0)
			return 0;
		i += k;
	}
	return 1;
}

/* ---- growable string buffer ---- */

int
textbuf_reserve(struct textbuf *b, size_t add)
{
	size_t need, cap;
	char *p;

	if (b->oom)
		return -1;
	if (b->p != NULL && add < b->cap - b->len)
		return 0;
	if (add >= SIZE_MAX - b->len) {
		b->oom = 1;
		return -1;
	}
	need = b->len + add + 1;
	cap = b->cap ? b->cap : 64;
	while (cap < need) {
		if (cap > SIZE_MAX / 2) {
			cap = need;
			break;
		}
		cap *= 2;
	}
	if ((p = realloc(b->p, cap)) == NULL) {
		b->oom = 1;
		return -1;
	}
	if (b->p == NULL)
		p[0] = '\0';
	b->p = p;
	b->cap = cap;
	return 0;
}

int
textbuf_add(struct textbuf *b, const char *s, size_t n)
{
	if (textbuf_reserve(b, n) < 0)
		return -1;
	if (n > 0)
		memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
	return 0;
}

int
textbuf_adds(struct textbuf *b, const char *s)
{
	return textbuf_add(b, s, strlen(s));
}

int
textbuf_addc(struct textbuf *b, char c)
{
	return textbuf_add(b, &c, 1);
}

void
textbuf_truncate(struct textbuf *b, size_t len)
{
	if (b->p != NULL && len <= b->len) {
		b->len = len;
		b->p[len] = '\0';
	}
}

char *
textbuf_take(struct textbuf *b)
{
	char *s;

	if (textbuf_reserve(b, 0) < 0) {
		textbuf_free(b);
		return NULL;
	}
	b->p[b->len] = '\0';
	s = b->p;
	memset(b, 0, sizeof *b);
	return s;
}

void
textbuf_free(struct textbuf *b)
{
	free(b->p);
	memset(b, 0, sizeof *b);
}
