#include "buildconf.h"

/*
 * auth — signed reply addresses, address normalisation and
 * Authentication-Results (pure; see auth.h).
 *
 * Token text:  purpose-object-contact-expires-mac
 *   purpose  [a-z]{1,15}
 *   object, contact, expires   base36 ([0-9a-z]), no leading zeros, 0..INT64_MAX
 *   mac      the first 100 bits of HMAC-SHA256 in RFC 4648 base32, lower case
 *            (20 characters)
 * The MAC covers "mercomail-token-v1\n" + the claim fields in decimal, one per
 * line, so a future format gets a different prefix and no old MAC verifies
 * under it. At most 15+13+13+13+20+4 = 78 bytes, under AUTH_TOKEN_MAX.
 */

#include <limits.h>
#include <stdio.h>
#include <string.h>

#include <gnutls/gnutls.h>
#include <gnutls/crypto.h>

#include "auth.h"

#define TOKEN_VERSION	"mercomail-token-v1"
#define PURPOSE_MAX	15
#define NUM_MAX		13	/* base36 digits of INT64_MAX */
#define MAC_CHARS	20	/* 100 bits of base32 */
#define KEY_MIN		16	/* a shorter key is a configuration mistake */
#define ADDR_MAX	254	/* RFC 5321 path limit, without the brackets */

static const char b36[] = "0123456789abcdefghijklmnopqrstuvwxyz";
static const char b32[] = "abcdefghijklmnopqrstuvwxyz234567";

/* ------------------------------------------------------------ ASCII helpers */

/* Locale-independent on purpose: tolower() in a Turkish locale would turn
 * "I" into a dotless i and break comparisons of protocol text. */
static int
lower(int ch)
{
	return ch >= 'A' && ch <= 'Z' ? ch - 'A' + 'a' : ch;
}

static int
ascii_casecmp(const char *a, const char *b)
{
	while (*a != '\0' && lower((unsigned char)*a) == lower((unsigned char)*b)) {
		a++;
		b++;
	}
	return lower((unsigned char)*a) - lower((unsigned char)*b);
}

static int
ascii_ncaseeq(const char *a, const char *b, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (lower((unsigned char)a[i]) != lower((unsigned char)b[i]))
			return 0;
		if (a[i] == '\0')
			return 1;
	}
	return 1;
}

/* ------------------------------------------------------------------ tokens */

static int
purpose_ok(const char *s)
{
	size_t n = strnlen(s, PURPOSE_MAX + 1);

	if (n == 0 || n > PURPOSE_MAX)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (s[i] < 'a' || s[i] > 'z')
			return 0;
	return 1;
}

/* Base36 of v >= 0 into out (NUM_MAX + 1 bytes). */
static void
put_b36(int64_t v, char *out)
{
	char tmp[NUM_MAX + 1];
	size_t n = 0;

	do {
		tmp[n++] = b36[v % 36];
		v /= 36;
	} while (v > 0);
	for (size_t i = 0; i < n; i++)
		out[i] = tmp[n - 1 - i];
	out[n] = '\0';
}

/* Parse s[0..n) as canonical base36: digits only, no leading zero (so each
 * number has one spelling), no overflow. */
static int
get_b36(const char *s, size_t n, int64_t *v)
{
	int64_t r = 0;

	if (n == 0 || n > NUM_MAX || (s[0] == '0' && n > 1))
		return -1;
	for (size_t i = 0; i < n; i++) {
		const char *d = s[i] != '\0' ? strchr(b36, s[i]) : NULL;
		if (d == NULL)
			return -1;
		if (r > (INT64_MAX - (d - b36)) / 36)
			return -1;
		r = r * 36 + (d - b36);
	}
	*v = r;
	return 0;
}

/* The MAC of a claim as MAC_CHARS base32 characters plus NUL. */
static int
claim_mac(const unsigned char *key, size_t keylen, const struct auth_claim *c,
    char out[MAC_CHARS + 1])
{
	unsigned char d[32];
	char msg[128];
	int n = snprintf(msg, sizeof msg, "%s\n%s\n%lld\n%lld\n%lld", TOKEN_VERSION,
	    c->purpose, (long long)c->object, (long long)c->contact,
	    (long long)c->expires);

	if (n < 0 || (size_t)n >= sizeof msg)
		return -1;
	if (gnutls_hmac_fast(GNUTLS_MAC_SHA256, key, keylen, msg, (size_t)n, d) < 0)
		return -1;
	/* 20 groups of 5 bits, most significant first, from the first 13 bytes. */
	for (int i = 0; i < MAC_CHARS; i++) {
		int bit = i * 5, byte = bit / 8, shift = bit % 8;
		unsigned w = ((unsigned)d[byte] << 8) | d[byte + 1];
		out[i] = b32[(w >> (11 - shift)) & 31];
	}
	out[MAC_CHARS] = '\0';
	gnutls_memset(d, 0, sizeof d);
	return 0;
}

static int
claim_valid(const struct auth_claim *c)
{
	return purpose_ok(c->purpose) && c->object >= 0 && c->contact >= 0 &&
	    c->expires >= 0;
}

int
auth_token_make(const unsigned char *key, size_t keylen, const struct auth_claim *c,
    char out[AUTH_TOKEN_MAX], struct err *e)
{
	char obj[NUM_MAX + 1], con[NUM_MAX + 1], exp[NUM_MAX + 1], mac[MAC_CHARS + 1];

	out[0] = '\0';
	if (key == NULL || keylen < KEY_MIN)
		return err_set(e, "token key shorter than %d bytes", KEY_MIN);
	if (!claim_valid(c))
		return err_set(e, "bad token claim: purpose must be [a-z]{1,%d}, "
		    "numbers not negative", PURPOSE_MAX);
	put_b36(c->object, obj);
	put_b36(c->contact, con);
	put_b36((int64_t)c->expires, exp);
	if (claim_mac(key, keylen, c, mac) < 0)
		return err_set(e, "HMAC-SHA256 failed");
	int n = snprintf(out, AUTH_TOKEN_MAX, "%s-%s-%s-%s-%s", c->purpose, obj, con,
	    exp, mac);
	if (n < 0 || n >= AUTH_TOKEN_MAX)	/* cannot happen: 78 bytes at most */
		return err_set(e, "token too long");
	return 0;
}

/* Split token into its five fields and parse them into c and mac; -1 if it
 * is not exactly a token. */
static int
token_parse(const char *token, struct auth_claim *c, char mac[MAC_CHARS + 1])
{
	const char *f[5];
	size_t len[5], n = strnlen(token, AUTH_TOKEN_MAX), k = 0;
	int64_t exp;

	if (n >= AUTH_TOKEN_MAX)
		return -1;
	f[0] = token;
	for (size_t i = 0; i <= n; i++) {
		if (token[i] != '-' && token[i] != '\0')
			continue;
		len[k] = (size_t)(token + i - f[k]);
		if (++k == 5 && token[i] != '\0')
			return -1;	/* a sixth field */
		if (k < 5)
			f[k] = token + i + 1;
	}
	if (k != 5 || len[0] == 0 || len[0] > PURPOSE_MAX || len[4] != MAC_CHARS)
		return -1;
	memcpy(c->purpose, f[0], len[0]);
	c->purpose[len[0]] = '\0';
	if (!purpose_ok(c->purpose) || get_b36(f[1], len[1], &c->object) < 0 ||
	    get_b36(f[2], len[2], &c->contact) < 0 || get_b36(f[3], len[3], &exp) < 0)
		return -1;
	c->expires = (time_t)exp;
	if ((int64_t)c->expires != exp)
		return -1;	/* does not fit a 32-bit time_t */
	for (size_t i = 0; i < MAC_CHARS; i++)
		if (f[4][i] == '\0' || strchr(b32, f[4][i]) == NULL)
			return -1;
	memcpy(mac, f[4], MAC_CHARS);
	mac[MAC_CHARS] = '\0';
	return 0;
}

enum auth_token_status
auth_token_check(const unsigned char *key, size_t keylen, const char *token,
    time_t now, struct auth_claim *c)
{
	struct auth_claim got;
	char mac[MAC_CHARS + 1], want[MAC_CHARS + 1];

	/* A caller that ignores the status must not find a forged claim. */
	memset(c, 0, sizeof *c);
	memset(&got, 0, sizeof got);
	if (token == NULL || token_parse(token, &got, mac) < 0)
		return AUTH_TOKEN_MALFORMED;
	/* Without a usable key nothing can be authentic: fail closed. */
	if (key == NULL || keylen < KEY_MIN || claim_mac(key, keylen, &got, want) < 0)
		return AUTH_TOKEN_FORGED;
	if (gnutls_memcmp(mac, want, MAC_CHARS) != 0)
		return AUTH_TOKEN_FORGED;
	*c = got;
	/* Checked after the MAC so that a forger learns nothing from "expired". */
	return now >= got.expires ? AUTH_TOKEN_EXPIRED : AUTH_TOKEN_OK;
}

/* --------------------------------------------------------------- addresses */

static int
is_blank(int ch)
{
	return ch == ' ' || ch == '\t';
}

static void
trim_blanks(const char **s, const char **end)
{
	while (*s < *end && is_blank((unsigned char)**s))
		(*s)++;
	while (*end > *s && is_blank((unsigned char)(*end)[-1]))
		(*end)--;
}

/* Bytes an addr-spec we accept may not contain: controls, blanks and the
 * specials that only appear in display names, lists or quoted forms. */
static int
addr_char_ok(unsigned char ch)
{
	return ch > 0x20 && ch != 0x7f && strchr("()<>,;:\\\"[]", ch) == NULL;
}

static int
domain_ok(const char *d, size_t n)
{
	if (n == 0 || d[0] == '.' || d[n - 1] == '.' || memchr(d, '.', n) == NULL)
		return 0;
	for (size_t i = 0; i + 1 < n; i++)
		if (d[i] == '.' && d[i + 1] == '.')
			return 0;
	return 1;
}

int
auth_normalize_address(const char *in, char *out, size_t size)
{
	const char *s = in, *end;
	size_t n, at = 0, nat = 0;

	if (in == NULL || out == NULL || size == 0)
		return -1;
	out[0] = '\0';
	end = s + strlen(s);
	trim_blanks(&s, &end);
	if (end > s && *s == '<') {
		if (end - s < 2 || end[-1] != '>')
			return -1;
		s++;
		end--;
		trim_blanks(&s, &end);
	}
	n = (size_t)(end - s);
	if (n == 0 || n > ADDR_MAX || n >= size)
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '@') {
			at = i;
			nat++;
		} else if (!addr_char_ok((unsigned char)s[i])) {
			return -1;
		}
	}
	if (nat != 1 || at == 0 || !domain_ok(s + at + 1, n - at - 1))
		return -1;
	for (size_t i = 0; i < n; i++)
		out[i] = (char)lower((unsigned char)s[i]);
	out[n] = '\0';
	return 0;
}

const char *
auth_address_domain(const char *address)
{
	const char *at = address != NULL ? strrchr(address, '@') : NULL;

	return at != NULL && at[1] != '\0' ? at + 1 : NULL;
}

int
auth_address_token(const char *address, const char *local, const char *domain,
    char out[AUTH_TOKEN_MAX])
{
	char a[ADDR_MAX + 1];
	const char *at, *plus;
	size_t nlocal = local != NULL ? strlen(local) : 0;

	out[0] = '\0';
	if (nlocal == 0 || domain == NULL ||
	    auth_normalize_address(address, a, sizeof a) < 0)
		return -1;
	at = strchr(a, '@');
	plus = memchr(a, '+', (size_t)(at - a));
	if (plus == NULL || (size_t)(plus - a) != nlocal || !ascii_ncaseeq(a, local, nlocal) ||
	    ascii_casecmp(at + 1, domain) != 0)
		return -1;
	/* The address is lower-cased already: tokens are lower case, so an MTA
	 * that upper-cased the local part loses nothing. */
	size_t n = (size_t)(at - plus - 1);
	if (n == 0 || n >= AUTH_TOKEN_MAX)
		return -1;
	memcpy(out, plus + 1, n);
	out[n] = '\0';
	return 0;
}

/* ---------------------------------------------------- Authentication-Results */

/*
 * A cursor parser for RFC 8601. CFWS (blanks and nested comments) may appear
 * between any two tokens. A result whose syntax is off is skipped up to the
 * next ';' outside quotes and comments, so text in a comment, a quoted
 * reason or a broken result never passes for a result of its own.
 */

#define AR_WORD 64
#define AR_VALUE 256

struct ar_result {
	char method[AR_WORD];
	char result[AR_WORD];
	char header_d[AR_VALUE];
	char header_i[AR_VALUE];
	char mailfrom[AR_VALUE];
};

static void
skip_cfws(const char **pp)
{
	const char *p = *pp;
	int depth = 0;

	for (; *p != '\0'; p++) {
		if (*p == '(')
			depth++;
		else if (*p == ')' && depth > 0)
			depth--;
		else if (*p == '\\' && depth > 0 && p[1] != '\0')
			p++;
		else if (depth == 0 && !is_blank((unsigned char)*p) && *p != '\r' && *p != '\n')
			break;
	}
	*pp = p;	/* an unclosed comment swallows the rest */
}

/* A keyword: letters, digits, '-' and '_' (method, result, ptype, property). */
static int
read_word(const char **pp, char *buf, size_t size)
{
	const char *p = *pp;
	size_t n = 0;

	while ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
	    (*p >= '0' && *p <= '9') || *p == '-' || *p == '_') {
		if (n + 1 >= size)
			return -1;
		buf[n++] = (char)lower((unsigned char)*p++);
	}
	buf[n] = '\0';
	*pp = p;
	return n > 0 ? 0 : -1;
}

static int
read_quoted(const char **pp, char *buf, size_t size)
{
	const char *p = *pp + 1;
	size_t n = 0;

	for (; *p != '"'; p++) {
		if (*p == '\\' && p[1] != '\0')
			p++;
		if (*p == '\0' || n + 1 >= size)
			return -1;
		buf[n++] = *p;
	}
	buf[n] = '\0';
	*pp = p + 1;
	return 0;
}

/* A value: a quoted-string, or a run up to a blank, ';', '(' or '"'
 * (token, domain-name, [local-part]@domain). */
static int
read_value(const char **pp, char *buf, size_t size)
{
	const char *p = *pp;
	size_t n = 0;

	if (*p == '"')
		return read_quoted(pp, buf, size);
	while (*p != '\0' && !is_blank((unsigned char)*p) && strchr(";()\"\r\n", *p) == NULL) {
		if (n + 1 >= size)
			return -1;
		buf[n++] = *p++;
	}
	buf[n] = '\0';
	*pp = p;
	return n > 0 ? 0 : -1;
}

/* Advance to the next ';' (or the end) outside quoted strings and comments. */
static void
skip_to_semicolon(const char **pp)
{
	const char *p = *pp;
	char junk[AR_VALUE];

	while (*p != '\0' && *p != ';') {
		skip_cfws(&p);
		if (*p == '"') {
			if (read_quoted(&p, junk, sizeof junk) < 0)
				p += strlen(p);	/* unterminated or huge: give up */
		} else if (*p != '\0' && *p != ';') {
			p++;
		}
	}
	*pp = p;
}

/* Keep the properties that decide alignment; the first of each wins. */
static void
ar_keep(struct ar_result *r, const char *ptype, const char *prop, const char *v)
{
	char *dst = NULL;

	if (strcmp(ptype, "header") == 0 && strcmp(prop, "d") == 0)
		dst = r->header_d;
	else if (strcmp(ptype, "header") == 0 && strcmp(prop, "i") == 0)
		dst = r->header_i;
	else if (strcmp(ptype, "smtp") == 0 && strcmp(prop, "mailfrom") == 0)
		dst = r->mailfrom;
	if (dst != NULL && dst[0] == '\0')
		str_copy(dst, v, AR_VALUE);
}

/* "reason=value" or "ptype.property=pvalue", after CFWS. */
static int
ar_parse_prop(const char **pp, struct ar_result *r)
{
	char ptype[AR_WORD], prop[AR_WORD], v[AR_VALUE];

	if (read_word(pp, ptype, sizeof ptype) < 0)
		return -1;
	skip_cfws(pp);
	if (**pp == '=' && strcmp(ptype, "reason") == 0) {
		(*pp)++;
		skip_cfws(pp);
		return read_value(pp, v, sizeof v);
	}
	if (**pp != '.')
		return -1;
	(*pp)++;
	skip_cfws(pp);
	if (read_word(pp, prop, sizeof prop) < 0)
		return -1;
	skip_cfws(pp);
	if (**pp != '=')
		return -1;
	(*pp)++;
	skip_cfws(pp);
	if (read_value(pp, v, sizeof v) < 0)
		return -1;
	ar_keep(r, ptype, prop, v);
	return 0;
}

/* One resinfo after its ';': method[/version]=result then properties. It
 * must end at ';' or the end of the value. */
static int
ar_parse_result(const char **pp, struct ar_result *r)
{
	char ver[AR_WORD];

	memset(r, 0, sizeof *r);
	skip_cfws(pp);
	if (read_word(pp, r->method, sizeof r->method) < 0)
		return -1;
	skip_cfws(pp);
	if (**pp == '/') {
		(*pp)++;
		skip_cfws(pp);
		if (read_word(pp, ver, sizeof ver) < 0)
			return -1;
		skip_cfws(pp);
	}
	if (**pp != '=')
		return -1;
	(*pp)++;
	skip_cfws(pp);
	if (read_word(pp, r->result, sizeof r->result) < 0)
		return -1;
	for (skip_cfws(pp); **pp != ';' && **pp != '\0'; skip_cfws(pp))
		if (ar_parse_prop(pp, r) < 0)
			return -1;
	return 0;
}

/* d aligned with from: the same domain or a parent of it (relaxed). */
static int
aligned(const char *d, const char *from)
{
	const char *at = strrchr(d, '@');
	size_t nd, nf = strlen(from);

	if (at != NULL)
		d = at + 1;	/* header.i / smtp.mailfrom: the domain part */
	nd = strlen(d);
	if (nd == 0 || d[0] == '.')
		return 0;
	if (ascii_casecmp(d, from) == 0)
		return 1;
	return nf > nd && from[nf - nd - 1] == '.' && ascii_casecmp(from + nf - nd, d) == 0;
}

static int
ar_passes(const struct ar_result *r, const char *from_domain)
{
	if (from_domain == NULL || from_domain[0] == '\0' || strcmp(r->result, "pass") != 0)
		return 0;
	if (strcmp(r->method, "dkim") == 0)
		return aligned(r->header_d[0] != '\0' ? r->header_d : r->header_i, from_domain);
	if (strcmp(r->method, "spf") == 0)
		return aligned(r->mailfrom, from_domain);
	return 0;
}

/* authserv-id [version], then the results. -1: not ours (or no id);
 * 1: ours and something passes; 0: ours and nothing passes. */
static int
ar_judge_one(const char *value, const char *authserv_id, const char *from_domain)
{
	const char *p = value;
	char id[AR_VALUE];
	struct ar_result r;
	int pass = 0;

	skip_cfws(&p);
	if (read_value(&p, id, sizeof id) < 0 || ascii_casecmp(id, authserv_id) != 0)
		return -1;
	skip_to_semicolon(&p);	/* the optional version, or junk: no result */
	while (*p == ';') {
		p++;
		if (ar_parse_result(&p, &r) == 0 && ar_passes(&r, from_domain))
			pass = 1;
		skip_to_semicolon(&p);
	}
	return pass;
}

enum auth_result
auth_results_check(const char *const *values, size_t n, const char *authserv_id,
    const char *from_domain)
{
	enum auth_result res = AUTH_RESULT_NONE;

	/* No configured authserv-id: no header can be believed. */
	if (values == NULL || authserv_id == NULL || authserv_id[0] == '\0')
		return AUTH_RESULT_NONE;
	for (size_t i = 0; i < n; i++) {
		int v = values[i] != NULL ? ar_judge_one(values[i], authserv_id, from_domain) : -1;
		if (v == 1)
			return AUTH_RESULT_PASS;
		if (v == 0)
			res = AUTH_RESULT_FAIL;
	}
	return res;
}
