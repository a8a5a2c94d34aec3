#include "buildconf.h"

#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L	/* getline, strdup, strndup, fstat, O_CLOEXEC */
#endif

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include "config.h"

#ifndef SYSCONFDIR
#define SYSCONFDIR "/etc"
#endif
#ifndef LOCALSTATEDIR
#define LOCALSTATEDIR "/var"
#endif
#ifndef PATH_MAX
#define PATH_MAX 4096
#endif

#define MAX_LINE	4096	/* bytes in one config line, without its newline */
#define MAX_SECRET	1024	/* bytes in the first line of a secret file */
#define SIZE_MIN_BYTES	1024ULL
#define SIZE_MAX_BYTES	(2ULL * 1024 * 1024 * 1024)

/* ---------------------------------------------------------------- parser */

enum { SEC_NONE = -1, SEC_UNKNOWN = -2 };

/* "list" stays last: it is [list SLUG], one section per list */
static const char *const sections[] = { "imap", "smtp", "mail", "store", "log", "daemon",
	"http", "digest", "governance", "lists", "list" };
#define NSECTIONS (sizeof sections / sizeof sections[0])
#define SEC_LIST ((int)NSECTIONS - 1)

struct parser;
struct key;

/* A key handler stores val into the config; on a bad value it returns -1
 * and writes why (without the key name) into why[whysz]. */
typedef int key_fn(struct parser *p, const struct key *k, const char *val,
    char *why, size_t whysz);

struct key {
	const char *section;
	const char *name;
	key_fn *set;
	size_t off;		/* where in struct config */
	long long min, max;	/* for integers and sizes */
};

static key_fn set_string, set_path, set_bool, set_int, set_size;
static key_fn set_imap_url, set_starttls, set_smtp_url, set_from, set_log_level, set_lang;
static key_fn set_daily, set_weekly;
static key_fn set_http_listen, set_base_url;
static key_fn set_decision, set_bounce_address;

#define OFF(m) offsetof(struct config, m)

static const struct key keys[] = {
	{ "imap", "url", set_imap_url, OFF(imap.url), 0, 0 },
	{ "imap", "user", set_string, OFF(imap.user), 0, 0 },
	{ "imap", "password_file", set_path, OFF(imap.password_file), 0, 0 },
	{ "imap", "ca_file", set_path, OFF(imap.ca_file), 0, 0 },
	{ "imap", "starttls", set_starttls, 0, 0, 0 },
	{ "imap", "inbox", set_string, OFF(imap.inbox), 0, 0 },
	{ "imap", "processed", set_string, OFF(imap.processed), 0, 0 },
	{ "imap", "rejected", set_string, OFF(imap.rejected), 0, 0 },
	{ "imap", "poll_interval", set_int, OFF(imap.poll_interval), 1, 86400 },
	{ "imap", "idle", set_bool, OFF(imap.idle), 0, 0 },
	{ "imap", "timeout", set_int, OFF(imap.timeout), 1, 3600 },
	{ "imap", "max_message_size", set_size, OFF(imap.max_message_size),
	  (long long)SIZE_MIN_BYTES, (long long)SIZE_MAX_BYTES },
	{ "smtp", "url", set_smtp_url, OFF(smtp.url), 0, 0 },
	{ "smtp", "user", set_string, OFF(smtp.user), 0, 0 },
	{ "smtp", "password_file", set_path, OFF(smtp.password_file), 0, 0 },
	{ "smtp", "ca_file", set_path, OFF(smtp.ca_file), 0, 0 },
	{ "smtp", "from", set_from, OFF(smtp.from), 0, 0 },
	{ "smtp", "starttls", set_bool, OFF(smtp.starttls), 0, 0 },
	{ "smtp", "timeout", set_int, OFF(smtp.timeout), 1, 3600 },
	{ "smtp", "retry_first", set_int, OFF(smtp.retry_first), 1, 86400 },
	{ "smtp", "retry_max", set_int, OFF(smtp.retry_max), 1, 7 * 86400 },
	{ "smtp", "retry_max_age", set_int, OFF(smtp.retry_max_age), 60, 30 * 86400 },
	{ "mail", "name", set_string, OFF(mail.name), 0, 0 },
	{ "mail", "token_key_file", set_path, OFF(mail.token_key_file), 0, 0 },
	{ "mail", "templates", set_path, OFF(mail.templates), 0, 0 },
	{ "mail", "answers_per_hour", set_int, OFF(mail.answers_per_hour), 0, 10000 },
	{ "mail", "token_days", set_int, OFF(mail.token_days), 1, 3650 },
	{ "mail", "require_dkim", set_bool, OFF(mail.require_dkim), 0, 0 },
	{ "mail", "authserv_id", set_string, OFF(mail.authserv_id), 0, 0 },
	{ "mail", "default_lang", set_lang, OFF(mail.default_lang), 0, 0 },
	{ "mail", "alarm_minutes", set_int, OFF(mail.alarm_minutes), 0, 40320 },
	{ "store", "database", set_path, OFF(database), 0, 0 },
	{ "log", "level", set_log_level, OFF(log_level), 0, 0 },
	{ "log", "syslog", set_bool, OFF(log_syslog), 0, 0 },
	{ "daemon", "allow_root", set_bool, OFF(allow_root), 0, 0 },
	{ "digest", "daily", set_daily, 0, 0, 0 },
	{ "digest", "weekly", set_weekly, 0, 0, 0 },
	{ "digest", "timezone", set_string, OFF(digest.timezone), 0, 0 },
	{ "digest", "silent_days", set_int, OFF(digest.silent_days), 1, 3650 },
	{ "list", "daily", set_daily, 0, 0, 0 },	/* in the current [list SLUG] */
	{ "list", "weekly", set_weekly, 0, 0, 0 },
	{ "lists", "bounce_address", set_bounce_address, OFF(lists.bounce_address), 0, 0 },
	{ "lists", "bounce_limit", set_int, OFF(lists.bounce_limit), 1, 100 },
	{ "lists", "bounce_days", set_int, OFF(lists.bounce_days), 1, 365 },
	{ "http", "listen", set_http_listen, OFF(http.listen), 0, 0 },
	{ "http", "base_url", set_base_url, OFF(http.base_url), 0, 0 },
	{ "http", "report_token_file", set_path, OFF(http.report_token_file), 0, 0 },
	{ "governance", "decision", set_decision, 0, 0, 0 },
	{ "governance", "vote_days", set_int, OFF(governance.vote_days), 1, 3650 },
	{ "governance", "report_period_days", set_int, OFF(governance.report_period_days),
	  1, 3650 },
	{ "governance", "reminder_repeat_days", set_int, OFF(governance.reminder_repeat_days),
	  1, 365 },
};
#define NKEYS (sizeof keys / sizeof keys[0])

struct parser {
	const char *path;	/* the file, as named in messages */
	char *dir;		/* absolute directory of the file (owned) */
	FILE *diag;
	struct err *e;
	struct config *cfg;
	int nerr;
	unsigned line;
	int section;		/* index into sections[], or SEC_* */
	unsigned seen[NKEYS];	/* line each key was set on; 0: not set */
	int imap_implicit;	/* imap.url was imaps:// */
	int starttls;		/* -1: not set; else the boolean */
	unsigned starttls_line;
};

static void report(struct parser *p, unsigned line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Every problem goes to diag; the first one also to e. line 0: the file. */
static void
report(struct parser *p, unsigned line, const char *fmt, ...)
{
	char msg[1024], full[1536];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	if (line > 0)
		snprintf(full, sizeof full, "%s:%u: %s", p->path, line, msg);
	else
		snprintf(full, sizeof full, "%s: %s", p->path, msg);
	if (p->diag != NULL)
		fprintf(p->diag, "%s\n", full);
	if (p->nerr++ == 0)
		err_set(p->e, "%s", full);
}

static void *
field(struct parser *p, const struct key *k)
{
	return (char *)p->cfg + k->off;
}

/* ---------------------------------------------------------------- values */

static int
parse_bool(const char *s)
{
	static const char *const yes[] = { "yes", "true", "on", "1" };
	static const char *const no[] = { "no", "false", "off", "0" };

	for (size_t i = 0; i < sizeof yes / sizeof yes[0]; i++) {
		if (strcasecmp(s, yes[i]) == 0)
			return 1;
		if (strcasecmp(s, no[i]) == 0)
			return 0;
	}
	return -1;
}

/* Decimal digits only (no sign, no spaces); -1 on anything else. */
static int
parse_ull(const char *s, unsigned long long *out, const char **end)
{
	char *e;

	if (!isdigit((unsigned char)*s))
		return -1;
	errno = 0;
	*out = strtoull(s, &e, 10);
	if (errno != 0)
		return -1;
	*end = e;
	return 0;
}

static int
replace_string(char **dst, const char *val, char *why, size_t whysz)
{
	char *copy = strdup(val);

	if (copy == NULL) {
		snprintf(why, whysz, "out of memory");
		return -1;
	}
	free(*dst);
	*dst = copy;
	return 0;
}

static int
set_string(struct parser *p, const struct key *k, const char *val,
    char *why, size_t whysz)
{
	return replace_string(field(p, k), val, why, whysz);
}

/*
 * A relative path is taken relative to the directory of the config file,
 * not to the working directory: the daemon may chdir (to / when it runs as a
 * service) and the CLI is run from anywhere, so the config file is the one
 * reference point they share. The result is absolute.
 */
static char *
path_resolve(const char *dir, const char *path)
{
	size_t dl, pl;
	char *out;

	while (path[0] == '.' && path[1] == '/')
		path += 2;
	if (path[0] == '/' || dir == NULL)
		return strdup(path);
	dl = strlen(dir);
	pl = strlen(path);
	out = malloc(dl + 1 + pl + 1);
	if (out == NULL)
		return NULL;
	memcpy(out, dir, dl);
	if (dl == 0 || dir[dl - 1] != '/')
		out[dl++] = '/';
	memcpy(out + dl, path, pl + 1);
	return out;
}

static int
set_path(struct parser *p, const struct key *k, const char *val,
    char *why, size_t whysz)
{
	char **dst = field(p, k);
	char *abs = path_resolve(p->dir, val);

	if (abs == NULL) {
		snprintf(why, whysz, "out of memory");
		return -1;
	}
	free(*dst);
	*dst = abs;
	return 0;
}

static int
set_bool(struct parser *p, const struct key *k, const char *val,
    char *why, size_t whysz)
{
	int b = parse_bool(val);

	if (b < 0) {
		snprintf(why, whysz, "'%s' is not a boolean "
		    "(yes/no, true/false, on/off, 1/0)", val);
		return -1;
	}
	*(int *)field(p, k) = b;
	return 0;
}

static int
set_int(struct parser *p, const struct key *k, const char *val,
    char *why, size_t whysz)
{
	unsigned long long v;
	const char *end;

	if (parse_ull(val, &v, &end) < 0 || *end != '\0' ||
	    v < (unsigned long long)k->min || v > (unsigned long long)k->max) {
		snprintf(why, whysz, "'%s' is not an integer in %lld..%lld",
		    val, k->min, k->max);
		return -1;
	}
	*(int *)field(p, k) = (int)v;
	return 0;
}

/* "25M", "512K", "1G" (binary multiples, either case) or plain bytes. */
static int
parse_size(const char *s, unsigned long long *out)
{
	unsigned long long v, mult = 1;
	const char *end;

	if (parse_ull(s, &v, &end) < 0)
		return -1;
	switch (*end) {
	case '\0': break;
	case 'k': case 'K': mult = 1024ULL; break;
	case 'm': case 'M': mult = 1024ULL * 1024; break;
	case 'g': case 'G': mult = 1024ULL * 1024 * 1024; break;
	default: return -1;
	}
	if (*end != '\0' && end[1] != '\0')
		return -1;
	if (v > SIZE_MAX_BYTES / mult)
		v = SIZE_MAX_BYTES + 1;	/* out of range, without overflow */
	else
		v *= mult;
	*out = v;
	return 0;
}

static int
set_size(struct parser *p, const struct key *k, const char *val,
    char *why, size_t whysz)
{
	unsigned long long v;

	if (parse_size(val, &v) < 0) {
		snprintf(why, whysz, "'%s' is not a size "
		    "(bytes, or a number followed by K, M or G)", val);
		return -1;
	}
	if (v < (unsigned long long)k->min || v > (unsigned long long)k->max) {
		snprintf(why, whysz, "size '%s' is out of range (1K..2G)", val);
		return -1;
	}
	*(size_t *)field(p, k) = (size_t)v;
	return 0;
}

static int
set_log_level(struct parser *p, const struct key *k, const char *val,
    char *why, size_t whysz)
{
	int lvl = config_parse_log_level(val);

	if (lvl < 0) {
		snprintf(why, whysz, "'%s' is not a log level "
		    "(error, warn, info, debug)", val);
		return -1;
	}
	*(enum log_level *)field(p, k) = (enum log_level)lvl;
	return 0;
}

static int
set_lang(struct parser *p, const struct key *k, const char *val,
    char *why, size_t whysz)
{
	if (strcmp(val, "es") != 0 && strcmp(val, "pt") != 0) {
		snprintf(why, whysz, "'%s' is not es or pt", val);
		return -1;
	}
	return replace_string(field(p, k), val, why, whysz);
}

static int
set_from(struct parser *p, const struct key *k, const char *val,
    char *why, size_t whysz)
{
	const char *at = strchr(val, '@');

	/* a bare address: it is also the envelope sender and the base of the
	 * signed reply addresses; the display name is [mail] name */
	if (at == NULL || at == val || at[1] == '\0' || strchr(at + 1, '@') ||
	    strpbrk(val, " \t<>\"(),;:") != NULL) {
		snprintf(why, whysz, "'%s' is not a bare mail address (like "
		    "secretaria@example.org; the name goes in [mail] name)", val);
		return -1;
	}
	return set_string(p, k, val, why, whysz);
}

/* A bare address without a tag: list mail goes out from local+TOKEN@domain,
 * and a second '+' would hide the token from the one who reads it back. */
static int
set_bounce_address(struct parser *p, const struct key *k, const char *val,
    char *why, size_t whysz)
{
	const char *at = strchr(val, '@');

	if (at != NULL && memchr(val, '+', (size_t)(at - val)) != NULL) {
		snprintf(why, whysz, "'%s' has a +tag (mercomail adds its own)", val);
		return -1;
	}
	return set_from(p, k, val, why, whysz);
}

/* "HH:MM" into *h, *m; -1 if it is not a time of day. */
static int
parse_hhmm(const char *s, int *h, int *m)
{
	if (!(s[0] >= '0' && s[0] <= '2' && s[1] >= '0' && s[1] <= '9' && s[2] == ':' &&
	    s[3] >= '0' && s[3] <= '5' && s[4] >= '0' && s[4] <= '9' && s[5] == '\0'))
		return -1;
	*h = (s[0] - '0') * 10 + s[1] - '0';
	*m = (s[3] - '0') * 10 + s[4] - '0';
	return *h < 24 ? 0 : -1;
}

/* [governance] decision = majority-of-board | majority-of-council */
static int
set_decision(struct parser *p, const struct key *k, const char *val,
    char *why, size_t whysz)
{
	(void)k;
	if (strcmp(val, "majority-of-board") == 0)
		p->cfg->governance.decision = GOV_MAJORITY_OF_BOARD;
	else if (strcmp(val, "majority-of-council") == 0)
		p->cfg->governance.decision = GOV_MAJORITY_OF_COUNCIL;
	else {
		snprintf(why, whysz, "'%s' is not majority-of-board or majority-of-council", val);
		return -1;
	}
	return 0;
}

/* Where daily and weekly of the current section go: [digest], or the
 * [list SLUG] being read. */
struct sched {
	int *daily_hour, *daily_minute, *weekly_day, *weekly_hour, *weekly_minute;
};

static struct sched
sched_of(struct parser *p)
{
	struct config_digest *d = &p->cfg->digest;
	struct config_list *l = d->nlists ? &d->lists[d->nlists - 1] : NULL;

	if (p->section == SEC_LIST && l != NULL)
		return (struct sched){ &l->daily_hour, &l->daily_minute, &l->weekly_day,
		    &l->weekly_hour, &l->weekly_minute };
	return (struct sched){ &d->daily_hour, &d->daily_minute, &d->weekly_day,
	    &d->weekly_hour, &d->weekly_minute };
}

/* daily = HH:MM (network time zone), or off */
static int
set_daily(struct parser *p, const struct key *k, const char *val,
    char *why, size_t whysz)
{
	struct sched t = sched_of(p);

	(void)k;
	if (strcmp(val, "off") == 0) {
		*t.daily_hour = -1;
		return 0;
	}
	if (parse_hhmm(val, t.daily_hour, t.daily_minute) < 0) {
		snprintf(why, whysz, "'%s' is not a time of day HH:MM, or off", val);
		return -1;
	}
	return 0;
}

/* weekly = DAY HH:MM, DAY one of mon tue wed thu fri sat sun; or off */
static int
set_weekly(struct parser *p, const struct key *k, const char *val,
    char *why, size_t whysz)
{
	static const char *const days[] = { "sun", "mon", "tue", "wed", "thu", "fri", "sat" };
	struct sched t = sched_of(p);

	(void)k;
	if (strcmp(val, "off") == 0) {
		*t.weekly_hour = -1;
		return 0;
	}
	for (int d = 0; d < 7; d++)
		if (strncasecmp(val, days[d], 3) == 0 && val[3] == ' ' &&
		    parse_hhmm(val + 4, t.weekly_hour, t.weekly_minute) == 0) {
			*t.weekly_day = d;
			return 0;
		}
	snprintf(why, whysz, "'%s' is not DAY HH:MM (DAY: mon, tue, wed, thu, fri, sat, sun), "
	    "or off", val);
	return -1;
}

static int
set_starttls(struct parser *p, const struct key *k, const char *val,
    char *why, size_t whysz)
{
	int b = parse_bool(val);

	if (b < 0) {
		snprintf(why, whysz, "'%s' is not a boolean "
		    "(yes/no, true/false, on/off, 1/0)", val);
		return -1;
	}
	p->starttls = b;
	p->starttls_line = p->line;
	return 0;
}

/* ------------------------------------------------------------------- urls */

struct url {
	int implicit;		/* the TLS scheme (imaps, smtps) */
	char *host;		/* owned */
	int port;
};

struct scheme {
	const char *plain, *tls;
	int plain_port, tls_port;
};

static int
url_scheme(const char *s, size_t len, const struct scheme *sc, struct url *u)
{
	if (len == strlen(sc->tls) && strncasecmp(s, sc->tls, len) == 0) {
		u->implicit = 1;
		u->port = sc->tls_port;
		return 0;
	}
	if (len == strlen(sc->plain) && strncasecmp(s, sc->plain, len) == 0) {
		u->implicit = 0;
		u->port = sc->plain_port;
		return 0;
	}
	return -1;
}

static int
host_ok(const char *h, size_t len, int bracketed)
{
	const char *extra = bracketed ? ":." : "-._";

	if (len == 0)
		return 0;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)h[i];
		if (!(bracketed ? isxdigit(c) : isalnum(c)) &&
		    strchr(extra, c) == NULL)
			return 0;
	}
	return !bracketed || memchr(h, ':', len) != NULL;
}

/* host, or [IPv6]; *rest is left after it. Returns the host length or -1. */
static int
url_host(const char *s, const char **host, const char **rest)
{
	size_t len;

	if (*s == '[') {
		const char *close = strchr(s, ']');
		if (close == NULL)
			return -1;
		*host = s + 1;
		len = (size_t)(close - s - 1);
		*rest = close + 1;
		return host_ok(*host, len, 1) ? (int)len : -1;
	}
	*host = s;
	len = strcspn(s, ":/");
	*rest = s + len;
	return host_ok(s, len, 0) ? (int)len : -1;
}

static int
url_port(const char *s, int *port, const char **rest)
{
	unsigned long long v;

	if (parse_ull(s, &v, rest) < 0 || v < 1 || v > 65535)
		return -1;
	*port = (int)v;
	return 0;
}

/* scheme://host[:port][/] -> u (u->host owned). */
static int
url_parse(const char *s, const struct scheme *sc, struct url *u,
    char *why, size_t whysz)
{
	const char *sep = strstr(s, "://"), *host, *rest;
	int hlen;

	if (sep == NULL || url_scheme(s, (size_t)(sep - s), sc, u) < 0) {
		snprintf(why, whysz, "'%s' is not a %s:// or %s:// url",
		    s, sc->tls, sc->plain);
		return -1;
	}
	if (strchr(sep + 3, '@') != NULL) {
		snprintf(why, whysz, "'%s': put the user in the user key, "
		    "not in the url", s);
		return -1;
	}
	if ((hlen = url_host(sep + 3, &host, &rest)) < 0) {
		snprintf(why, whysz, "'%s' has no valid host", s);
		return -1;
	}
	if (*rest == ':' && url_port(rest + 1, &u->port, &rest) < 0) {
		snprintf(why, whysz, "'%s' has a bad port (1..65535)", s);
		return -1;
	}
	if ((*rest == '/' && rest[1] != '\0') || (*rest != '/' && *rest)) {
		snprintf(why, whysz, "'%s': nothing may follow host[:port]", s);
		return -1;
	}
	if ((u->host = strndup(host, (size_t)hlen)) == NULL) {
		snprintf(why, whysz, "out of memory");
		return -1;
	}
	return 0;
}

static const struct scheme imap_scheme = { "imap", "imaps", 143, 993 };
static const struct scheme smtp_scheme = { "smtp", "smtps", 587, 465 };

static int
set_imap_url(struct parser *p, const struct key *k, const char *val,
    char *why, size_t whysz)
{
	struct config_imap *im = &p->cfg->imap;
	struct url u = { 0, NULL, 0 };

	if (url_parse(val, &imap_scheme, &u, why, whysz) < 0)
		return -1;
	if (replace_string(&im->url, val, why, whysz) < 0) {
		free(u.host);
		return -1;
	}
	free(im->host);
	im->host = u.host;
	im->port = u.port;
	p->imap_implicit = u.implicit;
	return 0;
}

static int
set_smtp_url(struct parser *p, const struct key *k, const char *val,
    char *why, size_t whysz)
{
	struct url u = { 0, NULL, 0 };

	if (url_parse(val, &smtp_scheme, &u, why, whysz) < 0)
		return -1;
	free(u.host);	/* checked only: the smtp module hands the url to libcurl */
	return set_string(p, k, val, why, whysz);
}

/* host:port or [v6]:port; an empty value means no HTTP server. */
static int
set_http_listen(struct parser *p, const struct key *k, const char *val,
    char *why, size_t whysz)
{
	struct config_http *h = &p->cfg->http;
	const char *host, *rest;
	char *copy = NULL;
	int hlen, port;

	if (*val == '\0') {
		free(h->listen);
		free(h->host);
		h->listen = h->host = NULL;
		return 0;
	}
	if ((hlen = url_host(val, &host, &rest)) < 0 || *rest != ':' ||
	    url_port(rest + 1, &port, &rest) < 0 || *rest != '\0') {
		snprintf(why, whysz, "'%s' is not host:port (port 1..65535; [addr]:port "
		    "for IPv6)", val);
		return -1;
	}
	if ((copy = strndup(host, (size_t)hlen)) == NULL ||
	    replace_string(&h->listen, val, why, whysz) < 0) {
		free(copy);
		snprintf(why, whysz, "out of memory");
		return -1;
	}
	free(h->host);
	h->host = copy;
	h->port = port;
	return 0;
}

/* The public URL the feeds are reached at (behind a proxy, usually https):
 * the CLI prints feed links under it, so it must leave room for them in
 * Google's 256 characters. Stored without a trailing '/'. */
static int
set_base_url(struct parser *p, const struct key *k, const char *val,
    char *why, size_t whysz)
{
	const char *host = strncmp(val, "https://", 8) == 0 ? val + 8 :
	    strncmp(val, "http://", 7) == 0 ? val + 7 : NULL;
	size_t n = strlen(val);
	char **dst = field(p, k);

	if (host == NULL || *host == '\0' || *host == '/' ||
	    strpbrk(val, " \t?#\"<>\\") != NULL) {
		snprintf(why, whysz, "'%s' is not an http(s)://host[:port][/path] URL "
		    "(no query, no fragment)", val);
		return -1;
	}
	for (const char *c = val; *c; c++)
		if ((unsigned char)*c < 0x21 || (unsigned char)*c > 0x7E) {
			snprintf(why, whysz, "'%s': only printable ASCII (encode the rest)", val);
			return -1;
		}
	if (n > 100) {
		snprintf(why, whysz, "longer than 100 characters: feed links must stay "
		    "under 256");
		return -1;
	}
	while (n > 0 && val[n - 1] == '/')
		n--;
	free(*dst);
	if ((*dst = strndup(val, n)) == NULL) {
		snprintf(why, whysz, "out of memory");
		return -1;
	}
	return 0;
}

/* ------------------------------------------------------------------ lines */

static char *
trim(char *s)
{
	char *end;

	while (isspace((unsigned char)*s))
		s++;
	end = s + strlen(s);
	while (end > s && isspace((unsigned char)end[-1]))
		*--end = '\0';
	return s;
}

/* [list SLUG]: a new entry whose times are [digest]'s until set. The keys
 * of a list may be set again in the next list's section. */
static void
list_section(struct parser *p, const char *slug)
{
	struct config_digest *d = &p->cfg->digest;
	struct config_list *nl;

	if (*slug == '\0' || strspn(slug, "abcdefghijklmnopqrstuvwxyz0123456789-") != strlen(slug) ||
	    strlen(slug) > 63) {
		report(p, p->line, "expected [list SLUG] with the slug of a unit or body "
		    "(lower case letters, digits, '-'), got [list %s]", slug);
		return;
	}
	for (size_t i = 0; i < d->nlists; i++)
		if (strcmp(d->lists[i].slug, slug) == 0) {
			report(p, p->line, "duplicate section [list %s]", slug);
			return;
		}
	if ((nl = realloc(d->lists, (d->nlists + 1) * sizeof *nl)) == NULL) {
		report(p, p->line, "out of memory");
		return;
	}
	d->lists = nl;
	nl = &d->lists[d->nlists];
	*nl = (struct config_list){ .daily_hour = CONFIG_INHERIT, .weekly_hour = CONFIG_INHERIT };
	if ((nl->slug = strdup(slug)) == NULL) {
		report(p, p->line, "out of memory");
		return;
	}
	d->nlists++;
	for (size_t i = 0; i < NKEYS; i++)
		if (strcmp(keys[i].section, "list") == 0)
			p->seen[i] = 0;
	p->section = SEC_LIST;
}

static void
parse_section(struct parser *p, char *s)
{
	size_t len = strlen(s), n = 0;
	char *name, known[256] = "";

	p->section = SEC_UNKNOWN;	/* until proven otherwise: skip its keys */
	if (s[len - 1] != ']') {
		report(p, p->line, "malformed section header (expected [name])");
		return;
	}
	s[len - 1] = '\0';
	name = trim(s + 1);
	if (strncmp(name, "list", 4) == 0 && (name[4] == '\0' || isspace((unsigned char)name[4]))) {
		list_section(p, trim(name + 4));
		return;
	}
	for (size_t i = 0; i < NSECTIONS; i++)
		if (i != SEC_LIST && strcmp(name, sections[i]) == 0) {
			p->section = (int)i;
			return;
		}
	for (size_t i = 0; i < NSECTIONS && n < sizeof known; i++)
		n += (size_t)snprintf(known + n, sizeof known - n, "%s%s",
		    i ? ", " : "", i == SEC_LIST ? "list SLUG" : sections[i]);
	report(p, p->line, "unknown section [%s] (known: %s)", name, known);
}

static const struct key *
find_key(const char *section, const char *name)
{
	for (size_t i = 0; i < NKEYS; i++)
		if (strcmp(keys[i].section, section) == 0 &&
		    strcmp(keys[i].name, name) == 0)
			return &keys[i];
	return NULL;
}

/* Strips the quotes of "value" in place; -1 if a quote is left open. */
static int
unquote(char **val)
{
	size_t len = strlen(*val);

	if ((*val)[0] != '"')
		return 0;
	if (len < 2 || (*val)[len - 1] != '"')
		return -1;
	(*val)[len - 1] = '\0';
	(*val)++;
	return 0;
}

static void
set_key(struct parser *p, const char *sec, const char *name, char *val)
{
	const struct key *k = find_key(sec, name);
	char why[512];
	size_t i;

	if (k == NULL) {
		report(p, p->line, "unknown key %s.%s", sec, name);
		return;
	}
	i = (size_t)(k - keys);
	if (p->seen[i] != 0) {
		report(p, p->line, "duplicate key %s.%s (first set on line %u)",
		    sec, name, p->seen[i]);
		return;
	}
	p->seen[i] = p->line;
	if (unquote(&val) < 0)
		report(p, p->line, "%s.%s: unterminated quote", sec, name);
	else if (*val == '\0' && k->set != set_http_listen)	/* empty listen: no server */
		report(p, p->line, "%s.%s: empty value", sec, name);
	else if (k->set(p, k, val, why, sizeof why) < 0)
		report(p, p->line, "bad value for %s.%s: %s", sec, name, why);
}

static void
parse_assignment(struct parser *p, char *s)
{
	char *eq = strchr(s, '='), *name;

	if (eq == NULL) {
		report(p, p->line, "expected 'key = value', '[section]' or a comment");
		return;
	}
	*eq = '\0';
	name = trim(s);
	if (*name == '\0') {
		report(p, p->line, "missing key name before '='");
		return;
	}
	if (p->section == SEC_NONE) {
		report(p, p->line, "key '%s' is outside a section", name);
		return;
	}
	if (p->section == SEC_UNKNOWN)
		return;		/* the section was reported already */
	set_key(p, sections[p->section], name, trim(eq + 1));
}

static void
parse_line(struct parser *p, char *s)
{
	s = trim(s);
	if (*s == '\0' || *s == '#' || *s == ';')
		return;
	if (*s == '[')
		parse_section(p, s);
	else
		parse_assignment(p, s);
}

static void
parse_stream(struct parser *p, FILE *f)
{
	char *buf = NULL;
	size_t cap = 0, len;
	ssize_t n;

	while ((n = getline(&buf, &cap, f)) != -1) {
		p->line++;
		len = (size_t)n;
		while (len > 0 && (buf[len - 1] == '\n' || buf[len - 1] == '\r'))
			buf[--len] = '\0';
		if (len > MAX_LINE)
			report(p, p->line, "line longer than %d bytes", MAX_LINE);
		else if (strlen(buf) != len)
			report(p, p->line, "NUL byte in line");
		else
			parse_line(p, buf);
	}
	if (ferror(f))
		report(p, 0, "read error: %s", strerror(errno));
	free(buf);
}

/* --------------------------------------------------------------- checking */

static void
check_required(struct parser *p)
{
	static const char *const required[] = { "url", "user", "password_file" };

	for (size_t i = 0; i < sizeof required / sizeof required[0]; i++) {
		const struct key *k = find_key("imap", required[i]);
		if (p->seen[k - keys] == 0)
			report(p, 0, "missing key imap.%s", required[i]);
	}
	if (p->cfg->smtp.url != NULL && p->cfg->smtp.from == NULL)
		report(p, 0, "missing key smtp.from (required with smtp.url)");
	if (p->cfg->mail.require_dkim && p->cfg->mail.authserv_id == NULL)
		report(p, 0, "missing key mail.authserv_id (required with require_dkim = yes)");
}

static void
check_tls(struct parser *p)
{
	struct config_imap *im = &p->cfg->imap;

	if (p->imap_implicit) {
		im->tls = TLS_IMPLICIT;
		if (p->starttls == 0)
			report(p, p->starttls_line, "imap.starttls = no contradicts "
			    "imaps:// (for plaintext, use imap:// with starttls = no)");
	} else {
		im->tls = p->starttls == 0 ? TLS_NONE : TLS_STARTTLS;
	}
}

/* The absolute directory of path (owned), or NULL. */
static char *
config_dir(const char *path)
{
	const char *slash = strrchr(path, '/');
	char cwd[PATH_MAX], *dir, *abs;

	if (slash == path)
		return strdup("/");
	dir = slash ? strndup(path, (size_t)(slash - path)) : strdup(".");
	if (dir == NULL || dir[0] == '/')
		return dir;
	if (getcwd(cwd, sizeof cwd) == NULL) {
		free(dir);
		return NULL;
	}
	abs = strcmp(dir, ".") == 0 ? strdup(cwd) : path_resolve(cwd, dir);
	free(dir);
	return abs;
}

/* ----------------------------------------------------------------- public */

const char *
config_default_path(void)
{
	return SYSCONFDIR "/mercomail/mercomail.conf";
}

static int
dup_default(char **dst, const char *val)
{
	return (*dst = strdup(val)) == NULL ? -1 : 0;
}

struct config *
config_defaults(void)
{
	struct config *cfg = calloc(1, sizeof *cfg);

	if (cfg == NULL)
		return NULL;
	cfg->imap.port = 993;
	cfg->imap.tls = TLS_IMPLICIT;
	cfg->imap.poll_interval = 60;
	cfg->imap.idle = 1;
	cfg->imap.timeout = 60;
	cfg->imap.max_message_size = 25 * 1024 * 1024;
	cfg->log_level = LOG_LVL_INFO;
	cfg->log_syslog = 0;
	cfg->allow_root = 0;
	cfg->smtp.starttls = 1;
	cfg->smtp.timeout = 60;
	cfg->smtp.retry_first = 60;
	cfg->smtp.retry_max = 6 * 3600;
	cfg->smtp.retry_max_age = 3 * 86400;
	cfg->digest.daily_hour = -1;	/* no schedule: digests only on demand */
	cfg->digest.weekly_hour = -1;
	cfg->digest.silent_days = 90;
	cfg->lists.bounce_limit = 3;
	cfg->lists.bounce_days = 30;
	cfg->governance.vote_days = 30;
	cfg->governance.report_period_days = 182;	/* a semester */
	cfg->governance.reminder_repeat_days = 7;
	cfg->mail.answers_per_hour = 10;
	cfg->mail.token_days = 60;
	cfg->mail.alarm_minutes = 1440;
	if (dup_default(&cfg->imap.inbox, "INBOX") < 0 ||
	    dup_default(&cfg->imap.processed, "Processed") < 0 ||
	    dup_default(&cfg->imap.rejected, "Rejected") < 0 ||
	    dup_default(&cfg->mail.templates, PKGDATADIR "/templates") < 0 ||
	    dup_default(&cfg->mail.default_lang, "es") < 0 ||
	    dup_default(&cfg->digest.timezone, "America/Montevideo") < 0 ||
	    dup_default(&cfg->database,
	    LOCALSTATEDIR "/lib/mercomail/mercomail.db") < 0) {
		config_free(cfg);
		return NULL;
	}
	return cfg;
}

static int
parser_init(struct parser *p, const char *path, FILE *diag, struct err *e)
{
	memset(p, 0, sizeof *p);
	p->path = path;
	p->diag = diag;
	p->e = e;
	p->section = SEC_NONE;
	p->starttls = -1;
	if ((p->cfg = config_defaults()) == NULL ||
	    (p->cfg->path = strdup(path)) == NULL ||
	    (p->dir = config_dir(path)) == NULL) {
		report(p, 0, "%s", strerror(errno ? errno : ENOMEM));
		return -1;
	}
	return 0;
}

struct config *
config_load(const char *path, FILE *diag, struct err *e)
{
	struct parser p;
	FILE *f;

	if (parser_init(&p, path, diag, e) < 0)
		goto fail;
	if ((f = fopen(path, "r")) == NULL) {
		report(&p, 0, "%s", strerror(errno));
		goto fail;
	}
	parse_stream(&p, f);
	fclose(f);
	check_required(&p);
	check_tls(&p);
	if (p.nerr > 0)
		goto fail;
	free(p.dir);
	return p.cfg;
fail:
	free(p.dir);
	config_free(p.cfg);
	return NULL;
}

void
config_free(struct config *cfg)
{
	if (cfg == NULL)
		return;
	free(cfg->path);
	free(cfg->imap.url);
	free(cfg->imap.host);
	free(cfg->imap.user);
	free(cfg->imap.password_file);
	free(cfg->imap.ca_file);
	free(cfg->imap.inbox);
	free(cfg->imap.processed);
	free(cfg->imap.rejected);
	free(cfg->smtp.url);
	free(cfg->smtp.user);
	free(cfg->smtp.password_file);
	free(cfg->smtp.ca_file);
	free(cfg->smtp.from);
	free(cfg->mail.name);
	free(cfg->mail.token_key_file);
	free(cfg->mail.templates);
	free(cfg->mail.authserv_id);
	free(cfg->mail.default_lang);
	free(cfg->database);
	free(cfg->digest.timezone);
	for (size_t i = 0; i < cfg->digest.nlists; i++)
		free(cfg->digest.lists[i].slug);
	free(cfg->digest.lists);
	free(cfg->lists.bounce_address);
	free(cfg->http.listen);
	free(cfg->http.host);
	free(cfg->http.base_url);
	free(cfg->http.report_token_file);
	free(cfg);
}

void
config_digest_for(const struct config *cfg, const char *slug, struct config_digest *out)
{
	*out = cfg->digest;
	for (size_t i = 0; i < cfg->digest.nlists; i++) {
		const struct config_list *l = &cfg->digest.lists[i];
		if (strcmp(l->slug, slug) != 0)
			continue;
		if (l->daily_hour != CONFIG_INHERIT) {
			out->daily_hour = l->daily_hour;
			out->daily_minute = l->daily_minute;
		}
		if (l->weekly_hour != CONFIG_INHERIT) {
			out->weekly_day = l->weekly_day;
			out->weekly_hour = l->weekly_hour;
			out->weekly_minute = l->weekly_minute;
		}
	}
}

int
config_bounce_address(const struct config *cfg, char *out, size_t size)
{
	const char *at = cfg->smtp.from ? strrchr(cfg->smtp.from, '@') : NULL;
	int n;

	if (cfg->lists.bounce_address)
		n = snprintf(out, size, "%s", cfg->lists.bounce_address);
	else if (at)
		n = snprintf(out, size, "bounces%s", at);
	else
		return -1;
	return n > 0 && (size_t)n < size ? 0 : -1;
}

int
config_parse_log_level(const char *s)
{
	static const char *const names[] = { "error", "warn", "info", "debug" };

	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
		if (strcasecmp(s, names[i]) == 0)
			return (int)i;	/* the order of enum log_level */
	return -1;
}

/* ----------------------------------------------------------------- secret */

static void
wipe(void *buf, size_t len)
{
	volatile unsigned char *b = buf;

	while (len-- > 0)
		*b++ = 0;
}

static int
secret_check_mode(int fd, const char *path, struct err *e)
{
	struct stat st;

	if (fstat(fd, &st) < 0)
		return err_set(e, "%s: %s", path, strerror(errno));
	if (!S_ISREG(st.st_mode))
		return err_set(e, "%s: not a regular file", path);
	if (st.st_mode & (S_IROTH | S_IWOTH))
		return err_set(e, "%s is %s by others: chmod 600 %s", path,
		    (st.st_mode & S_IROTH) ? "readable" : "writable", path);
	return 0;
}

/* Up to size bytes of fd into buf; returns the count or -1. */
static ssize_t
read_upto(int fd, char *buf, size_t size)
{
	size_t got = 0;

	while (got < size) {
		ssize_t n = read(fd, buf + got, size - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		if (n == 0)
			break;
		got += (size_t)n;
	}
	return (ssize_t)got;
}

/* The first line of buf[n], without CR/LF, as a new string. */
static char *
secret_first_line(char *buf, size_t n, const char *path, struct err *e)
{
	char *nl = memchr(buf, '\n', n);
	size_t len = nl ? (size_t)(nl - buf) : n;
	char *s;

	while (len > 0 && buf[len - 1] == '\r')
		len--;
	if (len > MAX_SECRET) {
		err_set(e, "%s: first line longer than %d bytes", path, MAX_SECRET);
		return NULL;
	}
	if (memchr(buf, '\0', len) != NULL) {
		err_set(e, "%s: the secret contains a NUL byte", path);
		return NULL;
	}
	if (len == 0) {
		err_set(e, "%s: the secret is empty", path);
		return NULL;
	}
	if ((s = strndup(buf, len)) == NULL)
		err_set(e, "%s: out of memory", path);
	return s;
}

char *
config_read_secret(const char *path, struct err *e)
{
	char buf[MAX_SECRET + 2];	/* the line, its newline, one more */
	char *secret = NULL;
	ssize_t n;
	int fd;

	/* Symlinks are fine: the checks below are on the opened file. */
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
		err_set(e, "%s: %s", path, strerror(errno));
		return NULL;
	}
	if (secret_check_mode(fd, path, e) < 0)
		goto out;
	if ((n = read_upto(fd, buf, sizeof buf)) < 0) {
		err_set(e, "%s: %s", path, strerror(errno));
		goto out;
	}
	secret = secret_first_line(buf, (size_t)n, path, e);
out:
	wipe(buf, sizeof buf);
	close(fd);
	return secret;
}
