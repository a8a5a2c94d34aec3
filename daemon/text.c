#include "buildconf.h"

#include <ctype.h>
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
