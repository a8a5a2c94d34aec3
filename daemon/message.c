#include "buildconf.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <gnutls/crypto.h>

#include "message.h"

#define MSGID_MAX 512		/* longer "Message-IDs" are treated as absent */

int
message_sha256_hex(const void *data, size_t len, char out[65])
{
	static const char hex[] = "0123456789abcdef";
	unsigned char digest[32];

	if (gnutls_hash_fast(GNUTLS_DIG_SHA256, data, len, digest) < 0)
		return -1;
	for (int i = 0; i < 32; i++) {
		out[2 * i] = hex[digest[i] >> 4];
		out[2 * i + 1] = hex[digest[i] & 15];
	}
	out[64] = '\0';
	return 0;
}

size_t
message_header_len(const char *raw, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		if (raw[i] != '\n')
			continue;
		if (i + 1 < len && raw[i + 1] == '\n')
			return i + 2;
		if (i + 2 < len && raw[i + 1] == '\r' && raw[i + 2] == '\n')
			return i + 3;
	}
	return len;
}

/* Offset just past the line that starts at off. */
static size_t
line_end(const char *raw, size_t len, size_t off)
{
	const char *nl = memchr(raw + off, '\n', len - off);
	return nl ? (size_t)(nl - raw) + 1 : len;
}

/* Append the bytes of one physical header line, unfolding: CR, LF and NUL
 * are dropped, so nothing from the mail can start a new line downstream. */
static size_t
append_clean(char *out, size_t used, size_t max, const char *s, size_t n)
{
	for (size_t i = 0; i < n && used < max; i++)
		if (s[i] != '\r' && s[i] != '\n' && s[i] != '\0')
			out[used++] = s[i] == '\t' ? ' ' : s[i];
	return used;
}

static char *
trim_dup(const char *s, size_t n)
{
	while (n > 0 && isspace((unsigned char)*s))
		s++, n--;
	while (n > 0 && isspace((unsigned char)s[n - 1]))
		n--;
	return strndup(s, n);
}

char *
message_header(const char *raw, size_t len, const char *name, size_t max)
{
	size_t hlen = message_header_len(raw, len), nlen = strlen(name);
	size_t off = 0;

	while (off < hlen) {
		size_t end = line_end(raw, hlen, off);
		if (end - off > nlen && raw[off + nlen] == ':' &&
		    strncasecmp(raw + off, name, nlen) == 0) {
			char *buf = malloc(max + 1), *v;
			size_t used;
			if (buf == NULL)
				return NULL;
			size_t v0 = off + nlen + 1;
			while (v0 < end && (raw[v0] == ' ' || raw[v0] == '\t'))
				v0++;	/* leading blanks do not count against max */
			used = append_clean(buf, 0, max, raw + v0, end - v0);
			/* continuation lines start with a blank */
			for (off = end; off < hlen && (raw[off] == ' ' || raw[off] == '\t'); off = end) {
				end = line_end(raw, hlen, off);
				used = append_clean(buf, used, max, raw + off, end - off);
			}
			v = trim_dup(buf, used);
			free(buf);
			return v;
		}
		off = end;
	}
	return NULL;
}

/* A Message-ID we trust as a key: "<left@right>", printable, no blanks. */
static int
msgid_sane(const char *id)
{
	size_t n = strlen(id);

	if (n < 5 || id[0] != '<' || id[n - 1] != '>' || strchr(id, '@') == NULL)
		return 0;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)id[i] <= ' ' || (unsigned char)id[i] >= 127)
			return 0;
	return 1;
}

char *
message_identity(const char *raw, size_t len, struct err *e)
{
	char *id = message_header(raw, len, "Message-ID", MSGID_MAX + 1);
	char hex[65], *out;

	if (id != NULL && strlen(id) <= MSGID_MAX && msgid_sane(id))
		return id;
	free(id);
	if (message_sha256_hex(raw, len, hex) < 0) {
		err_set(e, "cannot compute SHA-256");
		return NULL;
	}
	if ((out = malloc(sizeof "sha256:" + 64)) == NULL) {
		err_set(e, "out of memory");
		return NULL;
	}
	memcpy(out, "sha256:", 7);
	memcpy(out + 7, hex, 65);
	return out;
}
