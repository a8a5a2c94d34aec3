#include "buildconf.h"

/*
 * autoreply — the rules that keep mercomail from answering robots (see
 * autoreply.h for the list). Each rule is one small function; the first
 * that matches writes the reason.
 */

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "auth.h"
#include "autoreply.h"

#define TOKEN_MAX 32	/* of a header keyword quoted in a reason */
#define ADDR_MAX 256

typedef int (*rule_fn)(const struct mime_msg *m, const char *our, char *why, size_t size);

/* ------------------------------------------------------------- helpers */

static int
lower(int ch)
{
	return ch >= 'A' && ch <= 'Z' ? ch - 'A' + 'a' : ch;
}

static int
is_alnum(int ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9');
}

/* Locale-independent: header names and keywords are ASCII protocol text. */
static int
ascii_caseeq(const char *a, const char *b)
{
	while (*a != '\0' && lower((unsigned char)*a) == lower((unsigned char)*b)) {
		a++;
		b++;
	}
	return *a == '\0' && *b == '\0';
}

static int
ascii_caseprefix(const char *s, const char *prefix)
{
	for (; *prefix != '\0'; s++, prefix++)
		if (lower((unsigned char)*s) != lower((unsigned char)*prefix))
			return 0;
	return 1;
}

static int
why(char *reason, size_t size, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int
why(char *reason, size_t size, const char *fmt, ...)
{
	va_list ap;

	if (reason != NULL && size > 0) {
		va_start(ap, fmt);
		vsnprintf(reason, size, fmt, ap);
		va_end(ap);
	}
	return 1;
}

/* The nth header called name (case-insensitive), or NULL. Our own lookup
 * rather than mime_header(), so that this module stands on struct
 * mime_msg alone. */
static const char *
header(const struct mime_msg *m, const char *name, size_t nth)
{
	for (size_t i = 0; i < m->nheaders; i++) {
		const struct mime_header *h = &m->headers[i];
		if (h->name != NULL && ascii_caseeq(h->name, name) && nth-- == 0)
			return h->value != NULL ? h->value : "";
	}
	return NULL;
}

static int
is_sep(int ch)
{
	return ch == ' ' || ch == '\t' || ch == ';' || ch == ',' || ch == '(';
}

/* The first keyword of a header value, lower case, reduced to [a-z0-9._-]
 * so that it can go into a reason as it is; "" if there is none. *rest (if
 * not NULL) is where the keyword ends. */
static void
first_word(const char *v, char out[TOKEN_MAX], const char **rest)
{
	size_t n = 0;

	while (*v == ' ' || *v == '\t' || *v == ',')
		v++;
	for (; *v != '\0' && !is_sep((unsigned char)*v); v++) {
		int ch = lower((unsigned char)*v);
		if ((is_alnum(ch) || strchr("._-", ch) != NULL) && n + 1 < TOKEN_MAX)
			out[n++] = (char)ch;
	}
	out[n] = '\0';
	if (rest != NULL)
		*rest = v;
}

/* The address with its +tag removed from the local part, normalised; -1 if
 * it is not an address. */
static int
base_address(const char *in, char out[ADDR_MAX])
{
	char *at, *plus;

	if (in == NULL || auth_normalize_address(in, out, ADDR_MAX) < 0)
		return -1;
	at = strchr(out, '@');
	plus = memchr(out, '+', (size_t)(at - out));
	if (plus != NULL)
		memmove(plus, at, strlen(at) + 1);
	return 0;
}

/* --------------------------------------------------------------- rules */

static int
rule_own(const struct mime_msg *m, const char *our, char *reason, size_t size)
{
	char a[ADDR_MAX], b[ADDR_MAX];

	if (header(m, AUTOREPLY_LOOP_HEADER, 0) != NULL)
		return why(reason, size, "own mail");
	if (base_address(m->from_addr, a) == 0 && base_address(our, b) == 0 &&
	    strcmp(a, b) == 0)
		return why(reason, size, "own mail");
	return 0;
}

static int
rule_x_loop(const struct mime_msg *m, const char *our, char *reason, size_t size)
{
	/* Whatever address is in it, some robot already saw this mail go round. */
	return header(m, "X-Loop", 0) != NULL ? why(reason, size, "loop: x-loop") : 0;
}

static int
rule_auto_submitted(const struct mime_msg *m, const char *our, char *reason, size_t size)
{
	char w[TOKEN_MAX];
	const char *v;

	/* RFC 3834: anything but "no" (comments and parameters aside) is a robot. */
	for (size_t i = 0; (v = header(m, "Auto-Submitted", i)) != NULL; i++) {
		first_word(v, w, NULL);
		if (strcmp(w, "no") != 0)
			return why(reason, size, "auto-submitted: %s", w[0] != '\0' ? w : "unknown");
	}
	return 0;
}

static int
rule_precedence(const struct mime_msg *m, const char *our, char *reason, size_t size)
{
	static const char *const bad[] = { "bulk", "junk", "list", "auto_reply", "auto-reply" };
	char w[TOKEN_MAX];
	const char *v;

	for (size_t i = 0; (v = header(m, "Precedence", i)) != NULL; i++) {
		first_word(v, w, NULL);
		for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++)
			if (strcmp(w, bad[k]) == 0)
				return why(reason, size, "precedence: %s", w);
	}
	return 0;
}

/* Exchange's list of what not to send back ("DR, RN, NRN, OOF, AutoReply"):
 * OOF, All or AutoReply mean us. */
static int
suppress_says_us(const char *p)
{
	char w[TOKEN_MAX];

	while (*p != '\0') {
		size_t n = 0;
		while (*p != '\0' && !is_alnum((unsigned char)*p))
			p++;
		for (; is_alnum((unsigned char)*p); p++)
			if (n + 1 < sizeof w)
				w[n++] = (char)lower((unsigned char)*p);
		w[n] = '\0';
		if (strcmp(w, "oof") == 0 || strcmp(w, "all") == 0 || strcmp(w, "autoreply") == 0)
			return 1;
	}
	return 0;
}

static int
rule_x_auto(const struct mime_msg *m, const char *our, char *reason, size_t size)
{
	const char *v;

	if (header(m, "X-Autoreply", 0) != NULL)
		return why(reason, size, "x-autoreply");
	if (header(m, "X-Autorespond", 0) != NULL)
		return why(reason, size, "x-autorespond");
	for (size_t i = 0; (v = header(m, "X-Auto-Response-Suppress", i)) != NULL; i++)
		if (suppress_says_us(v))
			return why(reason, size, "x-auto-response-suppress");
	return 0;
}

static int
rule_list(const struct mime_msg *m, const char *our, char *reason, size_t size)
{
	char w[TOKEN_MAX];

	/* Any List-* header (RFC 2369/2919): the mail came through a list and an
	 * answer would go to everybody on it, or to its robot. */
	for (size_t i = 0; i < m->nheaders; i++) {
		const char *name = m->headers[i].name;
		if (name != NULL && ascii_caseprefix(name, "List-") && name[5] != '\0') {
			first_word(name, w, NULL);
			return why(reason, size, "%s", w);
		}
	}
	return 0;
}

static int
rule_return_path(const struct mime_msg *m, const char *our, char *reason, size_t size)
{
	const char *v;

	/* The null reverse-path is what bounces and other robots send from. */
	for (size_t i = 0; (v = header(m, "Return-Path", i)) != NULL; i++) {
		char rest[3];
		size_t n = 0;
		for (; *v != '\0' && n < sizeof rest; v++)
			if (*v != ' ' && *v != '\t')
				rest[n++] = *v;
		if (n == 0 || (n == 2 && rest[0] == '<' && rest[1] == '>'))
			return why(reason, size, "return-path: <>");
	}
	return 0;
}

/* A robot's local part (without any +tag), or NULL. */
static const char *
robot_local(const char *addr)
{
	static const char *const robots[] = { "mailer-daemon", "postmaster", "noreply",
	    "no-reply", "no_reply", "donotreply", "do-not-reply", "do_not_reply" };
	const char *at = strrchr(addr, '@');
	size_t n = at != NULL ? (size_t)(at - addr) : strlen(addr);
	const char *plus = memchr(addr, '+', n);

	if (plus != NULL)
		n = (size_t)(plus - addr);
	for (size_t k = 0; k < sizeof robots / sizeof robots[0]; k++)
		if (strlen(robots[k]) == n && ascii_caseprefix(addr, robots[k]))
			return robots[k];
	return NULL;
}

static int
rule_sender(const struct mime_msg *m, const char *our, char *reason, size_t size)
{
	const char *r;

	/* Nobody to answer to. */
	if (m->from_addr == NULL || m->from_addr[0] == '\0')
		return why(reason, size, "from: none");
	/* Bounces may say just "From: MAILER-DAEMON": no '@' is still a robot. */
	if ((r = robot_local(m->from_addr)) != NULL)
		return why(reason, size, "sender: %s", r);
	if (m->reply_to_addr != NULL && (r = robot_local(m->reply_to_addr)) != NULL)
		return why(reason, size, "sender: %s", r);
	return 0;
}

/* content type equal to type, parameters aside. */
static int
type_is(const char *ct, const char *type)
{
	size_t n = strlen(type);

	return ct != NULL && ascii_caseprefix(ct, type) &&
	    (ct[n] == '\0' || ct[n] == ';' || ct[n] == ' ' || ct[n] == '\t');
}

static int
rule_dsn(const struct mime_msg *m, const char *our, char *reason, size_t size)
{
	if (type_is(m->content_type, "multipart/report") ||
	    type_is(m->content_type, "message/delivery-status"))
		return why(reason, size, "dsn");
	for (size_t i = 0; i < m->nattachments; i++)
		if (type_is(m->attachments[i].content_type, "message/delivery-status"))
			return why(reason, size, "dsn");
	return 0;
}

/* ------------------------------------------------------------ subjects */

/* Latin-1 letters U+00C0..U+00FF (UTF-8 C3 80..C3 BF) without their
 * accents; \001 is a letter that has no plain form (Æ, ß, ...). */
static const char latin1_base[64] =
    "aaaaaa\001ceeeeiiiidnooooo\001ouuuuy\001\001"
    "aaaaaa\001ceeeeiiiidnooooo\001ouuuuy\001y";

/* The next character of UTF-8 text s, lower case and without accents:
 * ASCII, or \001 for another letter, or 0 at the end. Combining marks
 * (U+0300..U+036F, decomposed accents as Apple Mail writes them) vanish. */
static int
fold_next(const unsigned char **pp)
{
	const unsigned char *p = *pp;
	int c;

	while ((p[0] == 0xcc && p[1] >= 0x80 && p[1] <= 0xbf) ||
	    (p[0] == 0xcd && p[1] >= 0x80 && p[1] <= 0xaf))
		p += 2;
	if (*p == 0) {
		c = 0;
	} else if (*p < 0x80) {
		c = lower(*p++);
	} else if (p[0] == 0xc3 && p[1] >= 0x80 && p[1] <= 0xbf) {
		c = latin1_base[p[1] - 0x80];
		p += 2;
	} else {
		for (c = 1, p++; (*p & 0xc0) == 0x80; p++)
			;
	}
	*pp = p;
	return c;
}

/* Does s start with the ASCII phrase as a whole word, folded? */
static int
starts_with_phrase(const char *s, const char *phrase)
{
	const unsigned char *p = (const unsigned char *)s;
	int c;

	for (; *phrase != '\0'; phrase++)
		if (fold_next(&p) != *phrase)
			return 0;
	c = fold_next(&p);
	return c == 0 || (c != 1 && !is_alnum(c));
}

static int
rule_subject(const struct mime_msg *m, const char *our, char *reason, size_t size)
{
	/* What vacation responders and bounces write, in es, pt and en. */
	static const char *const phrases[] = {
		"respuesta automatica", "resposta automatica", "automatic reply",
		"autoreply", "auto-reply", "auto reply", "out of office",
		"fuera de la oficina", "fora do escritorio", "ausente",
		"delivery status notification", "undelivered mail returned to sender",
		"mail delivery failed", "undeliverable", "returned mail",
		"no se puede entregar",
	};
	const char *s = m->subject;

	if (s == NULL)
		return 0;
	while (*s == ' ' || *s == '\t')
		s++;
	for (size_t k = 0; k < sizeof phrases / sizeof phrases[0]; k++)
		if (starts_with_phrase(s, phrases[k]))
			return why(reason, size, "subject: %s", phrases[k]);
	return 0;
}

/* ----------------------------------------------------------------- API */

int
autoreply_check(const struct mime_msg *m, const char *our_address, char *reason,
    size_t size)
{
	static const rule_fn rules[] = { rule_own, rule_x_loop, rule_auto_submitted,
	    rule_precedence, rule_x_auto, rule_list, rule_return_path, rule_sender,
	    rule_dsn, rule_subject };

	if (reason != NULL && size > 0)
		reason[0] = '\0';
	if (m == NULL)
		return why(reason, size, "no mail");
	for (size_t i = 0; i < sizeof rules / sizeof rules[0]; i++)
		if (rules[i](m, our_address, reason, size))
			return 1;
	return 0;
}

int
autoreply_rate_ok(unsigned sent_last_hour, unsigned max_per_hour)
{
	/* Strictly below: max_per_hour answers fit in an hour, not one more. */
	return sent_last_hour < max_per_hour;
}
