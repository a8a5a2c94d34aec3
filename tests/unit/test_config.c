#include "buildconf.h"

#ifndef _XOPEN_SOURCE
#define _XOPEN_SOURCE 700	/* mkdtemp, open_memstream, nftw */
#endif

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "log.h"

/* The fixture directory, made by the group setup, removed by its teardown. */
static char tdir[64];

/* The three required keys, with an absolute password file. */
#define REQUIRED \
	"[imap]\n" \
	"url = imaps://mail.example.org\n" \
	"user = bot@example.org\n" \
	"password_file = /etc/mercomail/imap.pass\n"

static int
rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	return remove(path);
}

static int
group_setup(void **state)
{
	snprintf(tdir, sizeof tdir, "/tmp/test_config.XXXXXX");
	return mkdtemp(tdir) == NULL ? -1 : 0;
}

static int
group_teardown(void **state)
{
	return nftw(tdir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static char *
fixture_path(const char *name)
{
	static char buf[128];

	snprintf(buf, sizeof buf, "%s/%s", tdir, name);
	return buf;
}

static void
write_file(const char *name, const char *text, mode_t mode)
{
	const char *path = fixture_path(name);
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	assert_int_equal(fputs(text, f) >= 0, 1);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(chmod(path, mode), 0);
}

/* A loaded config with what was written to diag (both freed by unload). */
struct loaded {
	struct config *cfg;
	char *diag;
	struct err e;
};

static void
load_file(struct loaded *l, const char *path)
{
	size_t len;
	FILE *d;

	memset(l, 0, sizeof *l);
	d = open_memstream(&l->diag, &len);
	assert_non_null(d);
	l->cfg = config_load(path, d, &l->e);
	assert_int_equal(fclose(d), 0);
}

static void
load_text(struct loaded *l, const char *text)
{
	write_file("test.conf", text, 0644);
	load_file(l, fixture_path("test.conf"));
}

static void
unload(struct loaded *l)
{
	config_free(l->cfg);
	free(l->diag);
}

/* Loading text fails, with want in diag and in e. */
static void
assert_load_error(const char *text, const char *want)
{
	struct loaded l;

	load_text(&l, text);
	assert_null(l.cfg);
	assert_non_null(strstr(l.diag, want));
	assert_non_null(strstr(l.e.msg, want));
	unload(&l);
}

static int
count_lines(const char *s)
{
	int n = 0;

	for (; *s; s++)
		n += *s == '\n';
	return n;
}

/* ---------------------------------------------------------- whole files */

static void
test_full_file_every_key(void **state)
{
	struct loaded l;

	load_text(&l,
	    "# mercomail test config\n"
	    "; another comment style\n"
	    "\n"
	    "[imap]\n"
	    "  url = imap://mail.example.org:1143/  \n"
	    "user = bot@example.org\n"
	    "password_file = /secrets/imap.pass\n"
	    "ca_file = /etc/ssl/mail-ca.pem\n"
	    "starttls = yes\n"
	    "inbox = \"Caixa de Entrada\"\n"
	    "processed = Procesados\n"
	    "rejected = Rechazados\n"
	    "poll_interval = 300\n"
	    "idle = off\n"
	    "timeout = 30\n"
	    "max_message_size = 10M\n"
	    "\n"
	    "[smtp]\n"
	    "url = smtps://smtp.example.org:465\n"
	    "user = bot\n"
	    "password_file = /secrets/smtp.pass\n"
	    "ca_file = /etc/ssl/smtp-ca.pem\n"
	    "from = secretaria@mercociudades.example\n"
	    "[store]\n"
	    "database = /data/mercomail.db\n"
	    "[log]\n"
	    "level = debug\n"
	    "syslog = true\n");
	assert_non_null(l.cfg);
	assert_string_equal(l.diag, "");
	assert_string_equal(l.cfg->path, fixture_path("test.conf"));
	assert_string_equal(l.cfg->imap.url, "imap://mail.example.org:1143/");
	assert_string_equal(l.cfg->imap.host, "mail.example.org");
	assert_int_equal(l.cfg->imap.port, 1143);
	assert_int_equal(l.cfg->imap.tls, TLS_STARTTLS);
	assert_string_equal(l.cfg->imap.user, "bot@example.org");
	assert_string_equal(l.cfg->imap.password_file, "/secrets/imap.pass");
	assert_string_equal(l.cfg->imap.ca_file, "/etc/ssl/mail-ca.pem");
	assert_string_equal(l.cfg->imap.inbox, "Caixa de Entrada");
	assert_string_equal(l.cfg->imap.processed, "Procesados");
	assert_string_equal(l.cfg->imap.rejected, "Rechazados");
	assert_int_equal(l.cfg->imap.poll_interval, 300);
	assert_int_equal(l.cfg->imap.idle, 0);
	assert_int_equal(l.cfg->imap.timeout, 30);
	assert_int_equal(l.cfg->imap.max_message_size, 10 * 1024 * 1024);
	assert_string_equal(l.cfg->smtp.url, "smtps://smtp.example.org:465");
	assert_string_equal(l.cfg->smtp.user, "bot");
	assert_string_equal(l.cfg->smtp.password_file, "/secrets/smtp.pass");
	assert_string_equal(l.cfg->smtp.ca_file, "/etc/ssl/smtp-ca.pem");
	assert_string_equal(l.cfg->smtp.from, "secretaria@mercociudades.example");
	assert_string_equal(l.cfg->database, "/data/mercomail.db");
	assert_int_equal(l.cfg->log_level, LOG_LVL_DEBUG);
	assert_int_equal(l.cfg->log_syslog, 1);
	unload(&l);
}

static void
test_defaults_applied(void **state)
{
	struct loaded l;

	load_text(&l, REQUIRED);
	assert_non_null(l.cfg);
	assert_null(l.cfg->imap.ca_file);
	assert_string_equal(l.cfg->imap.inbox, "INBOX");
	assert_string_equal(l.cfg->imap.processed, "Processed");
	assert_string_equal(l.cfg->imap.rejected, "Rejected");
	assert_int_equal(l.cfg->imap.poll_interval, 60);
	assert_int_equal(l.cfg->imap.idle, 1);
	assert_int_equal(l.cfg->imap.timeout, 60);
	assert_int_equal(l.cfg->imap.max_message_size, 25 * 1024 * 1024);
	assert_null(l.cfg->smtp.url);
	assert_null(l.cfg->smtp.from);
	assert_string_equal(l.cfg->database,
	    LOCALSTATEDIR "/lib/mercomail/mercomail.db");
	assert_int_equal(l.cfg->log_level, LOG_LVL_INFO);
	assert_int_equal(l.cfg->log_syslog, 0);
	unload(&l);
}

static void
test_config_defaults_and_free_null(void **state)
{
	struct config *cfg = config_defaults();

	assert_non_null(cfg);
	assert_null(cfg->path);
	assert_null(cfg->imap.url);
	assert_string_equal(cfg->imap.inbox, "INBOX");
	assert_string_equal(cfg->database,
	    LOCALSTATEDIR "/lib/mercomail/mercomail.db");
	assert_int_equal(cfg->log_level, LOG_LVL_INFO);
	config_free(cfg);
	config_free(NULL);
	assert_string_equal(config_default_path(),
	    SYSCONFDIR "/mercomail/mercomail.conf");
}

static void
test_missing_file_reported(void **state)
{
	struct loaded l;

	load_file(&l, fixture_path("no-such.conf"));
	assert_null(l.cfg);
	assert_non_null(strstr(l.e.msg, "no-such.conf: "));
	assert_non_null(strstr(l.diag, "no-such.conf: "));
	unload(&l);
}

/* ----------------------------------------------------------------- urls */

static void
load_imap_url(struct loaded *l, const char *url, const char *extra)
{
	char text[1024];

	snprintf(text, sizeof text, "[imap]\nurl = %s\nuser = u\n"
	    "password_file = /p\n%s", url, extra);
	load_text(l, text);
}

static void
test_imaps_implicit_tls_port_993(void **state)
{
	struct loaded l;

	load_imap_url(&l, "imaps://mail.example.org/", "");
	assert_non_null(l.cfg);
	assert_string_equal(l.cfg->imap.host, "mail.example.org");
	assert_int_equal(l.cfg->imap.port, 993);
	assert_int_equal(l.cfg->imap.tls, TLS_IMPLICIT);
	unload(&l);
}

static void
test_imap_starttls_port_143(void **state)
{
	struct loaded l;

	load_imap_url(&l, "imap://mail.example.org", "");
	assert_non_null(l.cfg);
	assert_int_equal(l.cfg->imap.port, 143);
	assert_int_equal(l.cfg->imap.tls, TLS_STARTTLS);
	unload(&l);
}

static void
test_imap_starttls_no_is_plaintext(void **state)
{
	struct loaded l;

	load_imap_url(&l, "imap://127.0.0.1:10143", "starttls = no\n");
	assert_non_null(l.cfg);
	assert_string_equal(l.cfg->imap.host, "127.0.0.1");
	assert_int_equal(l.cfg->imap.port, 10143);
	assert_int_equal(l.cfg->imap.tls, TLS_NONE);
	unload(&l);
}

static void
test_imaps_with_starttls_no_refused(void **state)
{
	char want[1024];

	snprintf(want, sizeof want, "%s:5: imap.starttls = no contradicts imaps://",
	    fixture_path("test.conf"));
	assert_load_error(REQUIRED "starttls = no\n", want);
}

static void
test_bad_scheme_refused(void **state)
{
	static const char *const urls[] = {
		"http://mail.example.org", "pop3://mail.example.org",
		"mail.example.org", "smtps://mail.example.org",
	};
	struct loaded l;

	for (size_t i = 0; i < sizeof urls / sizeof urls[0]; i++) {
		load_imap_url(&l, urls[i], "");
		assert_null(l.cfg);
		assert_non_null(strstr(l.diag, ":2: bad value for imap.url"));
		assert_non_null(strstr(l.diag, "is not a imaps:// or imap:// url"));
		unload(&l);
	}
}

static void
test_bad_port_or_host_refused(void **state)
{
	static const char *const urls[] = {
		"imaps://mail.example.org:0", "imaps://mail.example.org:65536",
		"imaps://mail.example.org:", "imaps://mail.example.org:99x",
		"imaps://mail.example.org:-1", "imaps://", "imaps://:993",
		"imaps://[]:993", "imaps://mail.example.org/INBOX",
		"imaps://user@mail.example.org",
	};
	struct loaded l;

	for (size_t i = 0; i < sizeof urls / sizeof urls[0]; i++) {
		load_imap_url(&l, urls[i], "");
		assert_null(l.cfg);
		assert_non_null(strstr(l.diag, ":2: bad value for imap.url"));
		unload(&l);
	}
}

static void
test_port_bounds_accepted(void **state)
{
	struct loaded l;

	load_imap_url(&l, "imaps://h:1", "");
	assert_non_null(l.cfg);
	assert_int_equal(l.cfg->imap.port, 1);
	unload(&l);
	load_imap_url(&l, "imaps://h:65535/", "");
	assert_non_null(l.cfg);
	assert_int_equal(l.cfg->imap.port, 65535);
	unload(&l);
}

static void
test_ipv6_literal(void **state)
{
	struct loaded l;

	load_imap_url(&l, "imaps://[::1]:1993/", "");
	assert_non_null(l.cfg);
	assert_string_equal(l.cfg->imap.host, "::1");
	assert_int_equal(l.cfg->imap.port, 1993);
	unload(&l);
	load_imap_url(&l, "imap://[2001:db8::25]", "");
	assert_non_null(l.cfg);
	assert_string_equal(l.cfg->imap.host, "2001:db8::25");
	assert_int_equal(l.cfg->imap.port, 143);
	unload(&l);
}

static void
test_smtp_url_checked_and_needs_from(void **state)
{
	struct loaded l;

	assert_load_error(REQUIRED "[smtp]\nurl = smtp://relay.example.org:587\n",
	    ": missing key smtp.from");
	assert_load_error(REQUIRED "[smtp]\nurl = imaps://relay\nfrom = a@b\n",
	    ":6: bad value for smtp.url");
	load_text(&l, REQUIRED "[smtp]\nurl = smtp://relay.example.org\n"
	    "from = a@example.org\n");
	assert_non_null(l.cfg);
	assert_string_equal(l.cfg->smtp.url, "smtp://relay.example.org");
	unload(&l);
	/* the envelope sender and the base of the reply tokens: a bare address */
	assert_load_error(REQUIRED "[smtp]\nurl = smtp://relay\nfrom = Red <a@b.org>\n",
	    ":7: bad value for smtp.from");
}

/* ------------------------------------------------------- error reporting */

static void
test_unknown_key_reported_with_file_line(void **state)
{
	char want[1024];

	snprintf(want, sizeof want, "%s:5: unknown key imap.pasword_file",
	    fixture_path("test.conf"));
	assert_load_error(REQUIRED "pasword_file = /x\n", want);
}

static void
test_several_errors_all_reported(void **state)
{
	static const char *const wants[] = {
		"1: key 'orphan' is outside a section",
		"6: bad value for imap.timeout: '0' is not an integer in 1..3600",
		"7: unknown key imap.colour",
		"8: duplicate key imap.user (first set on line 4)",
		"9: unknown section [mailbox]",
		"12: bad value for log.level: 'loud'",
		"13: bad value for log.syslog: 'maybe'",
		"14: expected 'key = value'",
	};
	const char *path = fixture_path("test.conf");
	char want[1024];
	struct loaded l;

	load_text(&l,
	    "orphan = 1\n"			/* 1 */
	    REQUIRED				/* 2-5 */
	    "timeout = 0\n"			/* 6 */
	    "colour = blue\n"			/* 7 */
	    "user = again\n"			/* 8 */
	    "[mailbox]\n"			/* 9 */
	    "ignored = inside an unknown section\n"	/* 10 */
	    "[log]\n"				/* 11 */
	    "level = loud\n"			/* 12 */
	    "syslog = maybe\n"			/* 13 */
	    "just some words\n");		/* 14 */
	assert_null(l.cfg);
	for (size_t i = 0; i < sizeof wants / sizeof wants[0]; i++) {
		snprintf(want, sizeof want, "%s:%s", path, wants[i]);
		assert_non_null(strstr(l.diag, want));
	}
	assert_int_equal(count_lines(l.diag), 8);	/* not line 10 */
	snprintf(want, sizeof want, "%s:%s", path, wants[0]);
	assert_string_equal(l.e.msg, want);		/* the first one */
	unload(&l);
}

static void
test_missing_required_keys(void **state)
{
	const char *path = fixture_path("test.conf");
	char want[1024];
	struct loaded l;

	load_text(&l, "[imap]\ninbox = INBOX\n");
	assert_null(l.cfg);
	snprintf(want, sizeof want, "%s: missing key imap.url\n"
	    "%s: missing key imap.user\n"
	    "%s: missing key imap.password_file\n", path, path, path);
	assert_string_equal(l.diag, want);
	snprintf(want, sizeof want, "%s: missing key imap.url", path);
	assert_string_equal(l.e.msg, want);
	unload(&l);
	assert_load_error("", ": missing key imap.url");
}

static void
test_duplicate_key_refused(void **state)
{
	assert_load_error(REQUIRED "user = other@example.org\n",
	    ":5: duplicate key imap.user (first set on line 3)");
}

static void
test_unknown_section_refused(void **state)
{
	assert_load_error(REQUIRED "[Imap]\n", ":5: unknown section [Imap]");
	assert_load_error(REQUIRED "[log\n", ":5: malformed section header");
}

static void
test_line_syntax_errors(void **state)
{
	assert_load_error(REQUIRED "idle\n", ":5: expected 'key = value'");
	assert_load_error(REQUIRED "= yes\n", ":5: missing key name");
	assert_load_error(REQUIRED "inbox =\n", ":5: imap.inbox: empty value");
	assert_load_error(REQUIRED "inbox = \"\"\n", ":5: imap.inbox: empty value");
	assert_load_error(REQUIRED "inbox = \"Caixa\n",
	    ":5: imap.inbox: unterminated quote");
}

static void
test_long_line_refused(void **state)
{
	size_t n = strlen(REQUIRED) + 5000;
	char *text = malloc(n + 32);

	assert_non_null(text);
	strcpy(text, REQUIRED "# ");
	memset(text + strlen(text), 'x', 4095);
	strcpy(text + strlen(REQUIRED) + 2 + 4095, "\n");
	assert_load_error(text, ":5: line longer than 4096 bytes");
	text[strlen(REQUIRED) + 2 + 4094] = '\n';	/* exactly 4096: fine */
	text[strlen(REQUIRED) + 2 + 4095] = '\0';
	{
		struct loaded l;
		load_text(&l, text);
		assert_non_null(l.cfg);
		unload(&l);
	}
	free(text);
}

/* ---------------------------------------------------------------- values */

static void
test_quoted_value_keeps_spaces(void **state)
{
	struct loaded l;

	load_text(&l, REQUIRED "processed = \"  Itens processados \"\n"
	    "rejected = say \"no\"\n");
	assert_non_null(l.cfg);
	assert_string_equal(l.cfg->imap.processed, "  Itens processados ");
	assert_string_equal(l.cfg->imap.rejected, "say \"no\"");
	unload(&l);
}

static void
test_sizes_with_suffixes(void **state)
{
	static const struct {
		const char *text;
		size_t want;	/* 0: refused */
	} cases[] = {
		{ "25M", 25u * 1024 * 1024 }, { "512K", 512u * 1024 },
		{ "512k", 512u * 1024 }, { "1G", 1024u * 1024 * 1024 },
		{ "2G", 2048u * 1024 * 1024 }, { "1K", 1024 },
		{ "1024", 1024 }, { "1000000", 1000000 },
		{ "1023", 0 }, { "0", 0 }, { "3G", 0 }, { "2049M", 0 },
		{ "2147483649", 0 }, { "99999999999999999999G", 0 },
		{ "17179869185G", 0 },	/* (2^34 + 1) G wraps to 1G in 64 bits */
		{ "12X", 0 }, { "12MB", 0 }, { "-5M", 0 }, { "M", 0 },
		{ "1.5M", 0 }, { "5 M", 0 },
	};
	char text[512];
	struct loaded l;

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		snprintf(text, sizeof text, REQUIRED "max_message_size = %s\n",
		    cases[i].text);
		load_text(&l, text);
		if (cases[i].want == 0) {
			assert_null(l.cfg);
			assert_non_null(strstr(l.diag,
			    ":5: bad value for imap.max_message_size"));
		} else {
			assert_non_null(l.cfg);
			assert_int_equal(l.cfg->imap.max_message_size, cases[i].want);
		}
		unload(&l);
	}
}

static void
test_integer_ranges(void **state)
{
	static const struct {
		const char *line;
		int ok;
	} cases[] = {
		{ "poll_interval = 1", 1 }, { "poll_interval = 86400", 1 },
		{ "poll_interval = 0", 0 }, { "poll_interval = 86401", 0 },
		{ "poll_interval = 1m", 0 }, { "poll_interval = -1", 0 },
		{ "timeout = 3600", 1 }, { "timeout = 3601", 0 },
		{ "timeout = 99999999999999999999", 0 }, { "timeout = ten", 0 },
	};
	char text[512];
	struct loaded l;

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		snprintf(text, sizeof text, REQUIRED "%s\n", cases[i].line);
		load_text(&l, text);
		if (cases[i].ok) {
			assert_non_null(l.cfg);
		} else {
			assert_null(l.cfg);
			assert_non_null(strstr(l.diag, ":5: bad value for imap."));
		}
		unload(&l);
	}
}

static void
test_booleans(void **state)
{
	static const struct {
		const char *text;
		int want;	/* -1: refused */
	} cases[] = {
		{ "yes", 1 }, { "true", 1 }, { "on", 1 }, { "1", 1 }, { "YES", 1 },
		{ "no", 0 }, { "false", 0 }, { "off", 0 }, { "0", 0 },
		{ "maybe", -1 }, { "2", -1 }, { "y", -1 },
	};
	char text[512];
	struct loaded l;

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		snprintf(text, sizeof text, REQUIRED "[log]\nsyslog = %s\n",
		    cases[i].text);
		load_text(&l, text);
		if (cases[i].want < 0) {
			assert_null(l.cfg);
			assert_non_null(strstr(l.diag, ":6: bad value for log.syslog"));
		} else {
			assert_non_null(l.cfg);
			assert_int_equal(l.cfg->log_syslog, cases[i].want);
		}
		unload(&l);
	}
}

/* [daemon] allow_root: off unless asked for, a boolean, and its own section. */
static void
test_daemon_allow_root(void **state)
{
	struct config *cfg = config_defaults();
	struct loaded l;

	assert_non_null(cfg);
	assert_int_equal(cfg->allow_root, 0);
	config_free(cfg);
	load_text(&l, REQUIRED);
	assert_non_null(l.cfg);
	assert_int_equal(l.cfg->allow_root, 0);
	unload(&l);
	load_text(&l, REQUIRED "[daemon]\nallow_root = yes\n");
	assert_non_null(l.cfg);
	assert_string_equal(l.diag, "");
	assert_int_equal(l.cfg->allow_root, 1);
	unload(&l);
	load_text(&l, REQUIRED "[daemon]\n  allow_root = off\n");
	assert_non_null(l.cfg);
	assert_int_equal(l.cfg->allow_root, 0);
	unload(&l);
	assert_load_error(REQUIRED "[daemon]\nallow_root = root\n",
	    ":6: bad value for daemon.allow_root: 'root' is not a boolean");
	assert_load_error(REQUIRED "[daemon]\nallow_root = yes\nallow_root = no\n",
	    ":7: duplicate key daemon.allow_root (first set on line 6)");
	/* not a key of another section, nor another key of [daemon] */
	assert_load_error(REQUIRED "allow_root = yes\n", ":5: unknown key imap.allow_root");
	assert_load_error(REQUIRED "[daemon]\nuser = mercomail\n",
	    ":6: unknown key daemon.user");
	/* the unknown-section message lists every section, [daemon] too */
	assert_load_error(REQUIRED "[deamon]\n", ":5: unknown section [deamon] "
	    "(known: imap, smtp, mail, store, log, daemon");
}

/* [http] listen: host:port or [v6]:port; absent or empty means no server. */
static void
test_http_listen(void **state)
{
	static const char *const bad[] = {
		"8025", "127.0.0.1", "127.0.0.1:", "127.0.0.1:0", "127.0.0.1:65536",
		"127.0.0.1:80x", ":8025", "[::1]", "::1:8025", "[]:8025", "host/x:80",
		"http://127.0.0.1:8025",
	};
	struct loaded l;
	char text[256];

	load_text(&l, REQUIRED);
	assert_non_null(l.cfg);
	assert_null(l.cfg->http.listen);
	unload(&l);
	load_text(&l, REQUIRED "[http]\nlisten = 127.0.0.1:8025\n");
	assert_non_null(l.cfg);
	assert_string_equal(l.diag, "");
	assert_string_equal(l.cfg->http.listen, "127.0.0.1:8025");
	assert_string_equal(l.cfg->http.host, "127.0.0.1");
	assert_int_equal(l.cfg->http.port, 8025);
	unload(&l);
	load_text(&l, REQUIRED "[http]\nlisten = [::1]:9100\n");
	assert_non_null(l.cfg);
	assert_string_equal(l.cfg->http.host, "::1");
	assert_int_equal(l.cfg->http.port, 9100);
	unload(&l);
	load_text(&l, REQUIRED "[http]\nlisten = localhost:65535\n");
	assert_non_null(l.cfg);
	assert_string_equal(l.cfg->http.host, "localhost");
	unload(&l);
	load_text(&l, REQUIRED "[http]\nlisten =\n");
	assert_non_null(l.cfg);
	assert_string_equal(l.diag, "");
	assert_null(l.cfg->http.listen);
	unload(&l);
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		snprintf(text, sizeof text, REQUIRED "[http]\nlisten = %s\n", bad[i]);
		assert_load_error(text, ":6: bad value for http.listen: '");
	}
	assert_load_error(REQUIRED "[http]\nport = 8025\n", ":6: unknown key http.port");
}

static void
test_log_levels(void **state)
{
	assert_int_equal(config_parse_log_level("error"), LOG_LVL_ERROR);
	assert_int_equal(config_parse_log_level("warn"), LOG_LVL_WARN);
	assert_int_equal(config_parse_log_level("info"), LOG_LVL_INFO);
	assert_int_equal(config_parse_log_level("debug"), LOG_LVL_DEBUG);
	assert_int_equal(config_parse_log_level("verbose"), -1);
	assert_int_equal(config_parse_log_level(""), -1);
	assert_load_error(REQUIRED "[log]\nlevel = trace\n",
	    ":6: bad value for log.level");
}

/* ----------------------------------------------------------------- paths */

static void
test_relative_paths_resolved(void **state)
{
	char want[1024];
	struct loaded l;

	assert_int_equal(mkdir(fixture_path("etc"), 0755), 0);
	write_file("etc/m.conf",
	    "[imap]\nurl = imaps://h\nuser = u\npassword_file = imap.pass\n"
	    "ca_file = ./certs/ca.pem\n"
	    "[smtp]\nurl = smtps://h\nfrom = a@b\npassword_file = ../smtp.pass\n"
	    "[store]\ndatabase = data/m.db\n", 0644);
	load_file(&l, fixture_path("etc/m.conf"));
	assert_non_null(l.cfg);
	snprintf(want, sizeof want, "%s/etc/imap.pass", tdir);
	assert_string_equal(l.cfg->imap.password_file, want);
	snprintf(want, sizeof want, "%s/etc/certs/ca.pem", tdir);
	assert_string_equal(l.cfg->imap.ca_file, want);
	snprintf(want, sizeof want, "%s/etc/../smtp.pass", tdir);
	assert_string_equal(l.cfg->smtp.password_file, want);
	snprintf(want, sizeof want, "%s/etc/data/m.db", tdir);
	assert_string_equal(l.cfg->database, want);
	unload(&l);
}

/* A config named relative to the working directory still gives absolute paths. */
static void
test_relative_config_path(void **state)
{
	char old[4096], want[1024];
	struct loaded l;

	assert_non_null(getcwd(old, sizeof old));
	write_file("rel.conf", "[imap]\nurl = imaps://h\nuser = u\n"
	    "password_file = imap.pass\n", 0644);
	assert_int_equal(chdir(tdir), 0);
	load_file(&l, "rel.conf");
	assert_int_equal(chdir(old), 0);
	assert_non_null(l.cfg);
	snprintf(want, sizeof want, "%s/imap.pass", tdir);
	assert_string_equal(l.cfg->imap.password_file, want);
	unload(&l);
}

/* ------------------------------------------------------- list schedules */

static void
test_list_sections_override_digest(void **state)
{
	struct config_digest d;
	struct loaded l;

	load_text(&l, REQUIRED "[digest]\ndaily = 08:00\nweekly = mon 09:30\n"
	    "[list cultura]\ndaily = 18:15\n"
	    "[list juventud]\ndaily = off\nweekly = fri 07:05\n");
	assert_non_null(l.cfg);
	assert_int_equal(l.cfg->digest.nlists, 2);
	/* cultura: its own daily time, the network's weekly one */
	config_digest_for(l.cfg, "cultura", &d);
	assert_int_equal(d.daily_hour, 18);
	assert_int_equal(d.daily_minute, 15);
	assert_int_equal(d.weekly_day, 1);
	assert_int_equal(d.weekly_hour, 9);
	assert_int_equal(d.weekly_minute, 30);
	/* juventud: no daily digests, Friday's */
	config_digest_for(l.cfg, "juventud", &d);
	assert_int_equal(d.daily_hour, -1);
	assert_int_equal(d.weekly_day, 5);
	assert_int_equal(d.weekly_hour, 7);
	assert_int_equal(d.weekly_minute, 5);
	/* a list without a section: [digest] as it is */
	config_digest_for(l.cfg, "ambiente", &d);
	assert_int_equal(d.daily_hour, 8);
	assert_int_equal(d.weekly_hour, 9);
	assert_string_equal(d.timezone, "America/Montevideo");
	unload(&l);
}

static void
test_list_section_errors(void **state)
{
	assert_load_error(REQUIRED "[list]\n", ":5: expected [list SLUG]");
	assert_load_error(REQUIRED "[list Cultura]\n", ":5: expected [list SLUG]");
	assert_load_error(REQUIRED "[list cultura]\n[list cultura]\n",
	    ":6: duplicate section [list cultura]");
	assert_load_error(REQUIRED "[list cultura]\ndaily = 8am\n",
	    ":6: bad value for list.daily: '8am' is not a time of day HH:MM, or off");
	assert_load_error(REQUIRED "[list cultura]\ndaily = off\ndaily = 09:00\n",
	    ":7: duplicate key list.daily");
	assert_load_error(REQUIRED "[list cultura]\nclosed = yes\n", ":6: unknown key list.closed");
	/* the same key in the next list's section is no duplicate */
	struct loaded l;
	load_text(&l, REQUIRED "[list a]\ndaily = 07:00\n[list b]\ndaily = 08:00\n");
	assert_non_null(l.cfg);
	unload(&l);
}

static void
test_lists_bounce_settings(void **state)
{
	char buf[64];
	struct loaded l;

	load_text(&l, REQUIRED "[smtp]\nurl = smtp://127.0.0.1:25\nfrom = sec@red.example\n");
	assert_non_null(l.cfg);
	assert_int_equal(l.cfg->lists.bounce_limit, 3);
	assert_int_equal(l.cfg->lists.bounce_days, 30);
	assert_int_equal(config_bounce_address(l.cfg, buf, sizeof buf), 0);
	assert_string_equal(buf, "bounces@red.example");
	assert_int_equal(config_bounce_address(l.cfg, buf, 12), -1);	/* does not fit */
	unload(&l);
	load_text(&l, REQUIRED "[lists]\nbounce_address = rebotes@red.example\n"
	    "bounce_limit = 5\nbounce_days = 60\n");
	assert_non_null(l.cfg);
	assert_int_equal(l.cfg->lists.bounce_limit, 5);
	assert_int_equal(l.cfg->lists.bounce_days, 60);
	assert_int_equal(config_bounce_address(l.cfg, buf, sizeof buf), 0);
	assert_string_equal(buf, "rebotes@red.example");
	unload(&l);
	assert_load_error(REQUIRED "[lists]\nbounce_address = Rebotes <r@x.example>\n",
	    "is not a bare mail address");
	assert_load_error(REQUIRED "[lists]\nbounce_limit = 0\n", "bounce_limit");
	assert_load_error(REQUIRED "[lists]\nbounce_address = sec+rebotes@x.example\n",
	    "has a +tag (mercomail adds its own)");
	/* no smtp.from and no bounce_address: no envelope for list mail */
	load_text(&l, REQUIRED);
	assert_int_equal(config_bounce_address(l.cfg, buf, sizeof buf), -1);
	unload(&l);
}

/* --------------------------------------------------------------- secrets */

static void
test_secret_0600_read(void **state)
{
	struct err e = { "" };
	char *s;

	write_file("ok.pass", "s3cret word\nsecond line\n", 0600);
	s = config_read_secret(fixture_path("ok.pass"), &e);
	assert_non_null(s);
	assert_string_equal(s, "s3cret word");
	free(s);
}

static void
test_secret_0644_refused_with_fix(void **state)
{
	char want[1024], path[128];
	struct err e = { "" };

	write_file("open.pass", "s3cret\n", 0644);
	snprintf(path, sizeof path, "%s", fixture_path("open.pass"));
	assert_null(config_read_secret(path, &e));
	snprintf(want, sizeof want, "%s is readable by others: chmod 600 %s",
	    path, path);
	assert_string_equal(e.msg, want);
	write_file("open.pass", "s3cret\n", 0602);
	assert_null(config_read_secret(path, &e));
	assert_non_null(strstr(e.msg, "is writable by others: chmod 600"));
	write_file("open.pass", "s3cret\n", 0640);	/* group only: fine */
	char *s = config_read_secret(path, &e);
	assert_non_null(s);
	free(s);
}

static void
test_secret_empty_refused(void **state)
{
	struct err e = { "" };

	write_file("empty.pass", "", 0600);
	assert_null(config_read_secret(fixture_path("empty.pass"), &e));
	assert_non_null(strstr(e.msg, "empty.pass: the secret is empty"));
	write_file("empty.pass", "\r\nsecond\n", 0600);
	assert_null(config_read_secret(fixture_path("empty.pass"), &e));
	assert_non_null(strstr(e.msg, "the secret is empty"));
	assert_null(config_read_secret(fixture_path("none.pass"), &e));
	assert_non_null(strstr(e.msg, "none.pass: "));
}

static void
test_secret_trailing_newline_stripped(void **state)
{
	static const char *const texts[] = { "pw\n", "pw\r\n", "pw" };
	struct err e = { "" };
	char *s;

	for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) {
		write_file("nl.pass", texts[i], 0600);
		s = config_read_secret(fixture_path("nl.pass"), &e);
		assert_non_null(s);
		assert_string_equal(s, "pw");
		free(s);
	}
}

static void
test_secret_long_line_refused(void **state)
{
	char text[1100];
	struct err e = { "" };
	char *s;

	memset(text, 'a', 1024);
	strcpy(text + 1024, "\n");
	write_file("long.pass", text, 0600);
	s = config_read_secret(fixture_path("long.pass"), &e);
	assert_non_null(s);
	assert_int_equal(strlen(s), 1024);
	free(s);
	memset(text, 'a', 1025);
	strcpy(text + 1025, "\n");
	write_file("long.pass", text, 0600);
	assert_null(config_read_secret(fixture_path("long.pass"), &e));
	assert_non_null(strstr(e.msg, "longer than 1024 bytes"));
}

static void
test_secret_symlink_allowed(void **state)
{
	struct err e = { "" };
	char *s;

	write_file("target.pass", "linked\n", 0600);
	assert_int_equal(symlink("target.pass", fixture_path("link.pass")), 0);
	s = config_read_secret(fixture_path("link.pass"), &e);
	assert_non_null(s);
	assert_string_equal(s, "linked");
	free(s);
}

/* ------------------------------------------------------------------- log */

/* Runs fn with stderr sent to a file; returns what it wrote (caller frees). */
static char *
capture_stderr(void (*fn)(void))
{
	FILE *tmp = tmpfile();
	int saved = dup(STDERR_FILENO);
	char *out = calloc(1, 4096);

	if (tmp == NULL || saved < 0 || out == NULL)
		return NULL;
	fflush(stderr);
	dup2(fileno(tmp), STDERR_FILENO);
	fn();
	fflush(stderr);
	dup2(saved, STDERR_FILENO);
	close(saved);
	rewind(tmp);
	fread(out, 1, 4095, tmp);
	fclose(tmp);
	return out;
}

static void
log_some(void)
{
	log_init("mercomaild", LOG_LVL_INFO, 0);
	log_debug("msg=dropped");
	log_info("msg=kept id=%d", 7);
	log_error("subject=\"a\r\nBcc: x\"");
	log_set_level(LOG_LVL_ERROR);
	log_warn("msg=dropped too");
}

static void
test_log_levels_and_one_line(void **state)
{
	char *out;

	unsetenv("JOURNAL_STREAM");
	out = capture_stderr(log_some);
	assert_non_null(out);
	assert_string_equal(out, "mercomaild: level=info msg=kept id=7\n"
	    "mercomaild: level=error subject=\"a  Bcc: x\"\n");
	assert_int_equal(count_lines(out), 2);
	assert_int_equal(log_get_level(), LOG_LVL_ERROR);
	free(out);
}

static void
log_journal(void)
{
	struct stat st;
	char js[64];

	fstat(STDERR_FILENO, &st);
	snprintf(js, sizeof js, "%llu:%llu", (unsigned long long)st.st_dev,
	    (unsigned long long)st.st_ino);
	setenv("JOURNAL_STREAM", js, 1);
	log_init("mercomaild", LOG_LVL_DEBUG, 0);
	log_error("a");
	log_warn("b");
	log_info("c");
	log_debug("d");
	unsetenv("JOURNAL_STREAM");
	log_init("mercomaild", LOG_LVL_INFO, 0);
}

static void
test_log_journal_prefixes(void **state)
{
	char *out = capture_stderr(log_journal);

	assert_non_null(out);
	assert_string_equal(out, "<3>mercomaild: level=error a\n"
	    "<4>mercomaild: level=warn b\n"
	    "<6>mercomaild: level=info c\n"
	    "<7>mercomaild: level=debug d\n");
	free(out);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_full_file_every_key),
		cmocka_unit_test(test_defaults_applied),
		cmocka_unit_test(test_config_defaults_and_free_null),
		cmocka_unit_test(test_missing_file_reported),
		cmocka_unit_test(test_imaps_implicit_tls_port_993),
		cmocka_unit_test(test_imap_starttls_port_143),
		cmocka_unit_test(test_imap_starttls_no_is_plaintext),
		cmocka_unit_test(test_imaps_with_starttls_no_refused),
		cmocka_unit_test(test_bad_scheme_refused),
		cmocka_unit_test(test_bad_port_or_host_refused),
		cmocka_unit_test(test_port_bounds_accepted),
		cmocka_unit_test(test_ipv6_literal),
		cmocka_unit_test(test_smtp_url_checked_and_needs_from),
		cmocka_unit_test(test_unknown_key_reported_with_file_line),
		cmocka_unit_test(test_several_errors_all_reported),
		cmocka_unit_test(test_missing_required_keys),
		cmocka_unit_test(test_duplicate_key_refused),
		cmocka_unit_test(test_unknown_section_refused),
		cmocka_unit_test(test_line_syntax_errors),
		cmocka_unit_test(test_long_line_refused),
		cmocka_unit_test(test_quoted_value_keeps_spaces),
		cmocka_unit_test(test_sizes_with_suffixes),
		cmocka_unit_test(test_integer_ranges),
		cmocka_unit_test(test_booleans),
		cmocka_unit_test(test_daemon_allow_root),
		cmocka_unit_test(test_log_levels),
		cmocka_unit_test(test_http_listen),
		cmocka_unit_test(test_list_sections_override_digest),
		cmocka_unit_test(test_list_section_errors),
		cmocka_unit_test(test_lists_bounce_settings),
		cmocka_unit_test(test_relative_paths_resolved),
		cmocka_unit_test(test_relative_config_path),
		cmocka_unit_test(test_secret_0600_read),
		cmocka_unit_test(test_secret_0644_refused_with_fix),
		cmocka_unit_test(test_secret_empty_refused),
		cmocka_unit_test(test_secret_trailing_newline_stripped),
		cmocka_unit_test(test_secret_long_line_refused),
		cmocka_unit_test(test_secret_symlink_allowed),
		cmocka_unit_test(test_log_levels_and_one_line),
		cmocka_unit_test(test_log_journal_prefixes),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
