/*
 * config — the INI file of mercomaild and mercomail (pure: no sockets, no SQLite).
 *
 *   [imap]   url, user, password_file, ca_file, starttls, inbox, processed,
 *            rejected, poll_interval, idle, timeout, max_message_size
 *   [smtp]   url, user, password_file, ca_file, from, starttls, timeout,
 *            retry_first, retry_max, retry_max_age
 *   [mail]   name, token_key_file, templates, answers_per_hour, token_days,
 *            require_dkim, authserv_id, default_lang, alarm_minutes
 *   [store]  database
 *   [log]    level, syslog
 *   [daemon] allow_root
 *   [digest] daily, weekly, timezone, silent_days
 *   [list SLUG] daily, weekly (that list's own schedule; one section per list)
 *   [lists]  bounce_address, bounce_limit, bounce_days
 *   [http]   listen, base_url, report_token_file
 *   [governance] decision, vote_days, report_period_days, reminder_repeat_days
 *
 * Unknown sections and keys, missing required keys and bad values are errors
 * reported as "file:line: message". Parsing goes on after an error so that
 * every problem shows at once.
 */
#ifndef MERCOMAIL_CONFIG_H
#define MERCOMAIL_CONFIG_H

#include <stddef.h>
#include <stdio.h>

#include "err.h"

enum tls_mode {
	TLS_IMPLICIT,		/* imaps:// or smtps:// */
	TLS_STARTTLS,		/* imap:// or smtp:// (default: STARTTLS required) */
	TLS_NONE		/* imap:// with starttls = no: plaintext, explicitly asked for */
};

enum log_level { LOG_LVL_ERROR, LOG_LVL_WARN, LOG_LVL_INFO, LOG_LVL_DEBUG };

struct config_imap {
	char *url;		/* as written */
	char *host;		/* from the url */
	int port;		/* from the url, or 993 / 143 */
	enum tls_mode tls;
	char *user;
	char *password_file;
	char *ca_file;		/* NULL: the system trust store */
	char *inbox;		/* default "INBOX" */
	char *processed;	/* default "Processed" */
	char *rejected;		/* default "Rejected" */
	int poll_interval;	/* seconds, default 60 */
	int idle;		/* default 1: use IDLE when offered */
	int timeout;		/* seconds for one network operation, default 60 */
	size_t max_message_size;	/* bytes, default 25 MiB; "25M", "512K", "1000" */
};

struct config_smtp {
	char *url;		/* smtp://host:port or smtps://host:port; NULL: not configured */
	char *user;
	char *password_file;
	char *ca_file;
	char *from;		/* the address mercomail writes as */
	int starttls;		/* smtp://: require STARTTLS (default 1); smtps:// ignores it */
	int timeout;		/* seconds, default 60 */
	int retry_first;	/* seconds before the first retry of a mail, default 60 */
	int retry_max;		/* longest wait between retries, default 6 h */
	int retry_max_age;	/* a mail still unsent this long after queueing fails, default 3 days */
};

/* How mercomail answers and whom it believes. */
struct config_mail {
	char *name;		/* display name of smtp.from, e.g. "Secretaría Ejecutiva" */
	char *token_key_file;	/* secret key of the signed reply addresses; NULL: none */
	char *templates;	/* templates directory; default PKGDATADIR/templates */
	int answers_per_hour;	/* per sender, default 10 */
	int token_days;		/* validity of a signed reply address, default 60 */
	int require_dkim;	/* default 0 */
	char *authserv_id;	/* whose Authentication-Results to believe */
	char *default_lang;	/* "es" (default) or "pt" */
	int alarm_minutes;	/* VALARM of meeting invites, minutes before; 0: none; default 1440 */
};

/* The HTTP server of mercomaild (/healthz, /metrics, /feeds/). */
struct config_http {
	char *listen;		/* "host:port" as written; NULL: no HTTP server */
	char *host;		/* from listen, without the brackets of an IPv6 address */
	int port;
	char *base_url;		/* public http(s)://host[:port][/path] of the feeds, no
				 * trailing '/'; NULL: unset */
	char *report_token_file;	/* secret of /reports/activity; NULL: no such page */
};

/* A [list SLUG] section: one list's own digest times. Hours: -1 "off" (no
 * digests of that cadence for the list), CONFIG_INHERIT the [digest] time. */
#define CONFIG_INHERIT (-2)
struct config_list {
	char *slug;
	int daily_hour, daily_minute;
	int weekly_day, weekly_hour, weekly_minute;
};

/* When the digests of the lists go out (digest.h). */
struct config_digest {
	int daily_hour, daily_minute;	/* daily = HH:MM; hour -1 (default, or "off"): none */
	int weekly_day;			/* weekly = DAY HH:MM; 0 Sunday .. 6 */
	int weekly_hour, weekly_minute;	/* hour -1 (default, or "off"): no weekly digests */
	char *timezone;			/* the network's zone; default America/Montevideo */
	int silent_days;		/* cities/units without a report this long are named; default 90 */
	struct config_list *lists;	/* the [list SLUG] sections, in file order */
	size_t nlists;
};

/* List mail and its bounces (list.h, verp.h). */
struct config_lists {
	char *bounce_address;	/* envelope sender of list mail, before its +tag; NULL
				 * (default): bounces@ the domain of smtp.from. Mail to
				 * it (with any +tag) must reach the mailbox we poll. */
	int bounce_limit;	/* this many hard bounces ... (default 3) */
	int bounce_days;	/* ... within this many days: no more list mail (default 30) */
};

/* Who decides on membership applications (application.h). */
enum gov_decision { GOV_MAJORITY_OF_BOARD, GOV_MAJORITY_OF_COUNCIL };
struct config_governance {
	enum gov_decision decision;	/* default majority-of-board */
	int vote_days;			/* an application undecided this long expires; default 30 */
	int report_period_days;		/* a unit silent this long gets a reminder; default 182 */
	int reminder_repeat_days;	/* the second reminder this long after the first; default 7 */
};

struct config {
	char *path;		/* the file it was read from */
	struct config_imap imap;
	struct config_smtp smtp;
	struct config_mail mail;
	char *database;		/* [store] database; default LOCALSTATEDIR/lib/mercomail/mercomail.db */
	struct config_http http;
	struct config_digest digest;
	struct config_lists lists;
	struct config_governance governance;
	enum log_level log_level;	/* default LOG_LVL_INFO */
	int log_syslog;		/* default 0: stderr */
	int allow_root;		/* [daemon] allow_root; default 0: mercomaild refuses euid 0 */
};

/* The default config path: SYSCONFDIR/mercomail/mercomail.conf. */
const char *config_default_path(void);

/*
 * Read and check a config file. Every problem is written to diag (when not
 * NULL) as "file:line: message\n"; the first one also goes to e.
 * Returns a config the caller frees with config_free(), or NULL.
 */
struct config *config_load(const char *path, FILE *diag, struct err *e);

/* A config with every default and no file (for the CLI without -c). */
struct config *config_defaults(void);

void config_free(struct config *cfg);

/*
 * Read a secret (password) from a file: the first line, without its newline.
 * Refuses a file that others may read or write, naming the file and the fix.
 * Returns a string the caller frees (and should wipe), or NULL.
 */
char *config_read_secret(const char *path, struct err *e);

/* The digest schedule of list slug: [digest] with the list's own [list SLUG]
 * times over it (out shares the strings of cfg). */
void config_digest_for(const struct config *cfg, const char *slug, struct config_digest *out);

/* The envelope sender of list mail without its tag (lists.bounce_address,
 * or bounces@ the domain of smtp.from) into out. 0, or -1 when there is
 * neither or it does not fit. */
int config_bounce_address(const struct config *cfg, char *out, size_t size);

/* "error", "warn", "info", "debug" -> level; -1 if unknown. */
int config_parse_log_level(const char *s);

#endif
