/*
 * mercomaild — fetch submissions from IMAP into the store.
 *
 * The loop: connect, run a sync pass, then wait for news (IDLE when the
 * server offers it, else the poll interval), and again. Signals only set
 * flags (and wake the wait through a pipe); the loop acts on them between
 * two messages: SIGTERM/SIGINT finish the current message and exit, SIGHUP
 * reloads the config.
 */
#include "buildconf.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#include "application.h"
#include "clock.h"
#include "config.h"
#include "digest.h"
#include "form.h"
#include "http.h"
#include "imap.h"
#include "ingest.h"
#include "invite.h"
#include "log.h"
#include "metrics.h"
#include "outbox.h"
#include "reminder.h"
#include "report.h"
#include "smtp.h"
#include "status.h"
#include "store.h"
#include "sync.h"

#ifdef HAVE_SYSTEMD
#include <systemd/sd-daemon.h>
#define notify_systemd(state) ((void)sd_notify(0, (state)))	/* Type=notify */
#else
#define notify_systemd(state) ((void)0)
#endif

#define IDLE_MAX 25 * 60	/* re-issue IDLE before servers drop it (RFC 2177: 29 min) */
#define BACKOFF_MAX 300

static volatile sig_atomic_t stop_flag, reload_flag;
static int wake_pipe[2] = { -1, -1 };

struct daemon {
	const char *config_path;
	int once;
	int verbose;
	struct config *cfg;
	char *password;
	struct store *st;
	struct imap *im;
	struct ingest *in;	/* what each new mail means, and its answer */
	struct smtp *smtp;	/* NULL: no [smtp] url, answers stay queued */
	int backoff;		/* seconds before the next connection attempt */
	struct metrics m;	/* what it did: served by http, stored by status */
	struct status_info si;
	char *config_abs;	/* config_path made absolute, for the status row */
	struct http *http;	/* NULL: no [http] listen */
	int store_full;		/* the database's disk was full at the last pass */
	int64_t unmarked;	/* outbox row sent but not marked (full disk): no sends until it is */
};

static void
on_signal(int sig)
{
	int saved = errno;

	if (sig == SIGHUP)
		reload_flag = 1;
	else
		stop_flag = 1;
	(void)!write(wake_pipe[1], "x", 1);
	errno = saved;
}

static int
setup_signals(void)
{
	struct sigaction sa = { .sa_handler = on_signal };

	if (pipe(wake_pipe) < 0)
		return -1;
	for (int i = 0; i < 2; i++) {
		fcntl(wake_pipe[i], F_SETFL, O_NONBLOCK);
		fcntl(wake_pipe[i], F_SETFD, FD_CLOEXEC);
	}
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);	/* a dead server shows as a write error */
	return 0;
}

static void
drain_wake_pipe(void)
{
	char buf[64];

	while (read(wake_pipe[0], buf, sizeof buf) > 0)
		;
}

/* Sleep up to seconds, waking early on a signal. */
static void
pause_for(int seconds)
{
	struct pollfd p = { .fd = wake_pipe[0], .events = POLLIN };

	if (!stop_flag && !reload_flag)
		poll(&p, 1, seconds * 1000);
	drain_wake_pipe();
}

static void
usage(FILE *f)
{
	fprintf(f, "usage: mercomaild [-c config] [-n] [--once] [-v]\n"
	    "  -c, --config FILE  configuration file (default %s)\n"
	    "  -n, --check        check the configuration and exit\n"
	    "      --once         one sync pass, then exit (for cron, tests, the demo)\n"
	    "  -v, --verbose      log more (repeat for debug)\n"
	    "  -V, --version      print the version\n", config_default_path());
}

static int
parse_args(struct daemon *d, int argc, char **argv, int *check)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' }, { "check", no_argument, NULL, 'n' },
		{ "once", no_argument, NULL, 'o' }, { "verbose", no_argument, NULL, 'v' },
		{ "version", no_argument, NULL, 'V' }, { "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	while ((c = getopt_long(argc, argv, "c:nvVh", opts, NULL)) != -1) {
		switch (c) {
		case 'c': d->config_path = optarg; break;
		case 'n': *check = 1; break;
		case 'o': d->once = 1; break;
		case 'v': d->verbose++; break;
		case 'V': printf("mercomaild %s\n", PACKAGE_VERSION); exit(EX_OK);
		case 'h': usage(stdout); exit(EX_OK);
		default: usage(stderr); return -1;
		}
	}
	return optind == argc ? 0 : (usage(stderr), -1);
}

/* Load the config and the IMAP password; both must be right to go on. */
static struct config *
load_config(const char *path, char **password, FILE *diag)
{
	struct err e;
	struct config *cfg = config_load(path, diag, &e);

	if (cfg == NULL)
		return NULL;
	if ((*password = config_read_secret(cfg->imap.password_file, &e)) == NULL) {
		fprintf(diag, "%s: imap.password_file: %s\n", path, e.msg);
		config_free(cfg);
		return NULL;
	}
	return cfg;
}

static void
apply_log_level(struct daemon *d)
{
	int level = (int)d->cfg->log_level + d->verbose;

	log_set_level(level > LOG_LVL_DEBUG ? LOG_LVL_DEBUG : (enum log_level)level);
}

static void
forget_password(struct daemon *d)
{
	if (d->password) {
		explicit_bzero(d->password, strlen(d->password));
		free(d->password);
		d->password = NULL;
	}
}

static void
stop_parts(struct daemon *d)
{
	ingest_free(d->in);
	smtp_free(d->smtp);
	d->in = NULL;
	d->smtp = NULL;
}

/* The forms, the token key and the SMTP client, from the current config. */
static int
start_parts(struct daemon *d)
{
	const struct config_smtp *sc = &d->cfg->smtp;
	char *pw = NULL;
	struct err e;

	if ((d->in = ingest_new(d->cfg, d->st, stderr, &e)) == NULL) {
		log_error("event=start status=failed reason=\"%s\"", e.msg);
		return -1;
	}
	digest_check_lists(d->st, d->cfg);	/* a [list SLUG] of no unit: said once */
	if (sc->url == NULL)
		return 0;
	if (sc->password_file && (pw = config_read_secret(sc->password_file, &e)) == NULL) {
		log_error("event=start status=failed reason=\"smtp.password_file: %s\"", e.msg);
		return -1;
	}
	d->smtp = smtp_new(sc, pw, &e);
	if (pw) {
		explicit_bzero(pw, strlen(pw));
		free(pw);
	}
	if (d->smtp == NULL)
		log_error("event=start status=failed reason=\"%s\"", e.msg);
	return d->smtp ? 0 : -1;
}

/* The activity report for the Council, once a calendar month (report.h);
 * its mails go out with the rest. */
static void
monthly_report(struct daemon *d)
{
	unsigned n;
	struct err e;

	if (d->smtp == NULL)
		return;
	if (report_monthly_run(d->st, d->cfg, clock_now(), &n, &e) < 0)
		log_error("event=report.monthly status=failed reason=\"%s\"", e.msg);
	else if (n > 0)
		log_info("event=report.monthly status=queued recipients=%u", n);
}

/* Membership applications still pending past [governance] vote_days
 * expire; the applicants are told (application.h). */
static void
expire_applications(struct daemon *d)
{
	struct application_env env = { .st = d->st, .cfg = d->cfg, .actor = "daemon" };
	unsigned n;
	struct err e;

	if (application_expire_due(&env, clock_now(), &n, &e) < 0)
		log_error("event=application.expire status=failed reason=\"%s\"", e.msg);
	else if (n > 0)
		log_info("event=application.expire status=ok expired=%u", n);
}

/* The digests of the lists due by the [digest] schedule (digest.h); their
 * mails go out with the rest. */
static void
list_digests(struct daemon *d)
{
	unsigned n;
	struct err e;

	if (d->smtp == NULL)
		return;
	if (digest_run(d->st, d->cfg, clock_now(), &n, &e) < 0)
		log_error("event=digest status=failed reason=\"%s\"", e.msg);
}

/* The reminders due (reminder.h); their mails go out with the rest. */
static void
send_reminders(struct daemon *d)
{
	unsigned n;
	struct err e;

	if (d->smtp == NULL)
		return;
	if (reminder_run(d->st, d->cfg, clock_now(), &n, &e) < 0)
		log_error("event=reminder status=failed reason=\"%s\"", e.msg);
}

/* Send the answers that are due; trouble only defers them. */
static void
flush_outbox(struct daemon *d)
{
	struct outbox_stats os;
	struct err e;

	if (d->smtp == NULL)
		return;
	/* A mail went out but its "sent" mark could not be written (full disk):
	 * sending on would send it again at every pass. Record it first. */
	if (d->unmarked) {
		if (outbox_mark_sent(d->st, d->unmarked, time(NULL), &e) < 0)
			return;
		log_info("event=outbox status=resumed id=%lld", (long long)d->unmarked);
		d->unmarked = 0;
	}
	if (outbox_flush(d->st, d->smtp, time(NULL), &stop_flag, &os, &e) < 0) {
		d->unmarked = os.unmarked;
		log_error("event=outbox status=failed reason=\"%s\"%s", e.msg, d->unmarked ?
		    " msg=\"sent but not recorded: no sending until the database takes writes\"" : "");
	} else if (os.sent || os.deferred || os.failed)
		log_info("event=outbox sent=%u deferred=%u failed=%u", os.sent, os.deferred, os.failed);
	metrics_count_outbox(&d->m, &os);	/* filled even when the store failed */
}

/* --- observing: /healthz, /metrics and the feeds (http.c), the status row (status.c) */

/* Serve [http] listen of cfg, if set. 0, or -1 (logged). */
static int
start_http(struct daemon *d, const struct config *cfg)
{
	struct err e;

	if (cfg->http.listen == NULL)
		return 0;
	if ((d->http = http_start(cfg, &d->m, &e)) == NULL) {
		log_error("event=http.start status=failed reason=\"%s\"", e.msg);
		return -1;
	}
	log_info("event=http.start status=ok listen=%s", cfg->http.listen);
	return 0;
}

/* A reload that changes [http] listen (or what the feeds read) restarts the
 * server (none if that fails). */
static void
reload_http(struct daemon *d, const struct config *cfg)
{
	if (d->http == NULL ? cfg->http.listen == NULL : !http_restart_needed(d->cfg, cfg))
		return;
	http_stop(d->http);
	d->http = NULL;
	if (start_http(d, cfg) < 0)
		log_error("event=reload status=degraded msg=\"no HTTP server until the next reload\"");
}

/* A failed pass: counted, and kept for /healthz and `mercomail status`. */
static void
note_failure(struct daemon *d, const char *why)
{
	time_t now = time(NULL);
	struct err e;

	metrics_cycle_failed(&d->m, now, why);
	if (status_add_error(d->st, now, d->m.last_error, &e) < 0)
		log_warn("event=status status=failed reason=\"%s\"", e.msg);
}

/* At start, after each pass and each reload: the numbers out. */
static void
publish(struct daemon *d)
{
	time_t now = time(NULL);
	int64_t depth, oldest = 0;
	struct err e;

	d->m.poll_interval = d->cfg->imap.poll_interval;
	d->si.http_listen = d->http ? d->cfg->http.listen : NULL;
	if ((depth = outbox_depth(d->st, now, &oldest, &e)) >= 0)
		metrics_set_outbox(&d->m, depth, oldest, now);
	if (depth < 0 || status_write(d->st, &d->si, &d->m, now, &e) < 0)
		log_warn("event=status status=failed reason=\"%s\"", e.msg);
	http_publish(d->http, &d->m);
}

static int
start_observing(struct daemon *d)
{
	d->si.pid = getpid();
	d->si.started_at = time(NULL);
	/* absolute, so that `mercomail status` names the file from anywhere */
	d->config_abs = realpath(d->config_path, NULL);
	d->si.config_path = d->config_abs ? d->config_abs : d->config_path;
	d->m.poll_interval = d->cfg->imap.poll_interval;
	if (!d->once && start_http(d, d->cfg) < 0)
		return -1;
	publish(d);
	return 0;
}

static void
stop_observing(struct daemon *d)
{
	struct err e;

	http_stop(d->http);
	d->http = NULL;
	if (d->st && d->si.pid && status_stopped(d->st, d->si.pid, time(NULL), &e) < 0)
		log_warn("event=status status=failed reason=\"%s\"", e.msg);
	free(d->config_abs);
	d->config_abs = NULL;
}

/* SIGHUP: build the new state on the side, swap it in only when complete. */
static void
reload(struct daemon *d)
{
	char *password = NULL;
	struct config *cfg = load_config(d->config_path, &password, stderr);
	struct store *st = NULL;
	struct err e;

	reload_flag = 0;
	if (cfg != NULL && strcmp(cfg->database, d->cfg->database) != 0 &&
	    (st = store_open(cfg->database, &e)) == NULL)
		log_error("event=reload status=failed reason=\"%s\"", e.msg);
	if (cfg == NULL || (st == NULL && strcmp(cfg->database, d->cfg->database) != 0)) {
		log_error("event=reload status=failed msg=\"keeping the running configuration\"");
		config_free(cfg);
		free(password);
		return;
	}
	imap_close(d->im);	/* these point into the old config */
	d->im = NULL;
	stop_parts(d);
	if (st != NULL) {
		store_close(d->st);
		d->st = st;
	}
	reload_http(d, cfg);
	forget_password(d);
	config_free(d->cfg);
	d->cfg = cfg;
	d->password = password;
	apply_log_level(d);
	if (start_parts(d) < 0)
		log_error("event=reload status=degraded msg=\"no answers until the next reload\"");
	log_info("event=reload status=ok config=%s", d->config_path);
	publish(d);	/* the new poll interval shows at once */
}

/* A full disk under the database, said in one line when it starts and when
 * it ends (the passes in between fail the same way, with backoff). e: the
 * error of a failed pass, NULL after a good one. */
static void
note_store_full(struct daemon *d, const struct err *e)
{
	if (e != NULL && strstr(e->msg, sqlite3_errstr(SQLITE_FULL)) != NULL && !d->store_full) {
		log_error("event=store.full database=%s msg=\"no space left for the database:"
		    " no mail is taken in, it stays on the IMAP server until there is space\"",
		    d->cfg->database);
		d->store_full = 1;
	} else if (e == NULL && d->store_full) {
		log_info("event=store.full status=cleared database=%s", d->cfg->database);
		d->store_full = 0;
	}
}

/* One connection attempt and one pass. Returns 0, or an exit code. */
static int
cycle(struct daemon *d)
{
	struct sync_stats stats;
	struct err e;

	if (d->im == NULL) {
		if ((d->im = imap_connect(&d->cfg->imap, d->password, &e)) == NULL) {
			log_error("event=imap.connect status=failed reason=\"%s\"", e.msg);
			note_failure(d, e.msg);
			return EX_UNAVAILABLE;
		}
		log_info("event=imap.connect status=ok host=%s idle=%d move=%d",
		    d->cfg->imap.host, imap_has_idle(d->im), imap_has_move(d->im));
	}
	if (sync_inbox(d->im, d->st, d->in, &d->cfg->imap, &stop_flag, &stats, &e) < 0) {
		log_error("event=sync status=failed reason=\"%s\"", e.msg);
		note_store_full(d, &e);
		metrics_count_sync(&d->m, &stats);	/* what it committed is done */
		note_failure(d, e.msg);
		if (imap_broken(d->im)) {
			imap_close(d->im);
			d->im = NULL;
		}
		return EX_TEMPFAIL;
	}
	log_info("event=sync status=ok seen=%u stored=%u duplicates=%u rejected=%u moved=%u",
	    stats.seen, stats.stored, stats.duplicates, stats.rejected, stats.moved);
	note_store_full(d, NULL);
	metrics_count_sync(&d->m, &stats);
	metrics_cycle_ok(&d->m, time(NULL));
	return 0;
}

/* At most limit seconds, less when a deferred answer is due sooner: the
 * outbox is flushed after each pass, and without new mail the next pass
 * would come only after IDLE_MAX. At least 1 s, so it never spins. */
static int
wait_limit(struct daemon *d, int limit)
{
	time_t now = time(NULL);
	int64_t at;
	struct err e;

	if (d->unmarked)	/* look again after the poll interval: writes back? */
		return limit < d->cfg->imap.poll_interval ? limit : d->cfg->imap.poll_interval;
	if (d->smtp == NULL || (at = outbox_next_retry(d->st, &e)) <= 0)
		return limit;
	if (at - now < limit)
		return at - now > 1 ? (int)(at - now) : 1;
	return limit;
}

/* Between passes: IDLE when offered and wanted, else sleep. */
static void
wait_for_news(struct daemon *d)
{
	struct err e;
	int r;

	if (d->im == NULL || !d->cfg->imap.idle || !imap_has_idle(d->im)) {
		pause_for(wait_limit(d, d->cfg->imap.poll_interval));
		return;
	}
	d->m.wait_allowance = IDLE_MAX;	/* IDLE is quiet by design, not a stall */
	http_publish(d->http, &d->m);
	r = imap_idle_wait(d->im, wait_limit(d, IDLE_MAX), wake_pipe[0], &e);
	d->m.wait_allowance = 0;
	drain_wake_pipe();
	if (r < 0) {
		log_warn("event=imap.idle status=failed reason=\"%s\"", e.msg);
		if (imap_broken(d->im)) {
			imap_close(d->im);
			d->im = NULL;
		}
	}
}

/* -n: the forms and the answer templates must load too (file:line on stderr). */
static int
check_forms(const struct config *cfg)
{
	struct err e;
	struct form_set *fs = form_set_load(cfg->mail.templates, stderr, &e);

	if (fs == NULL) {
		fprintf(stderr, "%s: forms: %s\n", cfg->mail.templates, e.msg);
		return EX_CONFIG;
	}
	form_set_free(fs);
	/* every answer and invitation text must load and render with the
	 * values it gets (count every problem: each one is printed) */
	return application_check_templates(cfg->mail.templates, stderr) +
	    ingest_check_templates(cfg->mail.templates, stderr) +
	    invite_check_templates(cfg->mail.templates, stderr) +
	    report_check_templates(cfg->mail.templates, stderr) +
	    digest_check_templates(cfg->mail.templates, stderr) +
	    reminder_check_templates(cfg->mail.templates, stderr) ? EX_CONFIG : EX_OK;
}

/* Root only when the config says so ([daemon] allow_root); -n only warns. */
static int
refuse_root(const struct config *cfg, int check)
{
	if (geteuid() != 0 || cfg->allow_root)
		return EX_OK;
	if (check) {
		fprintf(stderr, "mercomaild: warning: as root, mercomaild refuses to run; "
		    "run it as the mercomail user (see mercomaild(8)) or set "
		    "allow_root = yes in [daemon]\n");
		return EX_OK;
	}
	fprintf(stderr, "mercomaild: refusing to run as root; run it as the mercomail user "
	    "(see mercomaild(8)) or set allow_root = yes in [daemon]\n");
	return EX_CONFIG;
}

static int
run(struct daemon *d)
{
	int rc;

	for (;;) {
		if (reload_flag) {
			notify_systemd("RELOADING=1");
			reload(d);
			notify_systemd("READY=1");
		}
		rc = cycle(d);
		expire_applications(d);
		monthly_report(d);
		list_digests(d);
		send_reminders(d);
		flush_outbox(d);
		publish(d);
		if (d->once || stop_flag)
			return rc;
		if (rc != 0) {
			/* back off from a failing server: 1, 2, 4 ... 300 s */
			d->backoff = d->backoff ? d->backoff * 2 : 1;
			if (d->backoff > BACKOFF_MAX)
				d->backoff = BACKOFF_MAX;
			log_info("event=backoff seconds=%d", d->backoff);
			pause_for(d->backoff);
		} else {
			d->backoff = 0;
			wait_for_news(d);
		}
		if (stop_flag)
			return EX_OK;
	}
}

int
main(int argc, char **argv)
{
	struct daemon d = { .config_path = config_default_path() };
	struct err e;
	int check = 0, rc;

	if (parse_args(&d, argc, argv, &check) < 0)
		return EX_USAGE;
	if ((d.cfg = load_config(d.config_path, &d.password, stderr)) == NULL)
		return EX_CONFIG;
	if ((rc = refuse_root(d.cfg, check)) != EX_OK)
		goto out;
	if (check) {
		rc = check_forms(d.cfg);
		if (rc == EX_OK)
			printf("%s: configuration OK\n", d.config_path);
		goto out;
	}
	curl_global_init(CURL_GLOBAL_DEFAULT);
	log_init("mercomaild", d.cfg->log_level, d.cfg->log_syslog);
	apply_log_level(&d);
	if (setup_signals() < 0) {
		log_error("event=start status=failed reason=\"pipe: %s\"", strerror(errno));
		rc = EX_OSERR;
		goto out;
	}
	if ((d.st = store_open(d.cfg->database, &e)) == NULL) {
		log_error("event=store.open status=failed reason=\"%s\"", e.msg);
		rc = EX_CANTCREAT;
		goto out;
	}
	if (start_parts(&d) < 0) {
		rc = EX_CONFIG;
		goto out;
	}
	if (start_observing(&d) < 0) {
		rc = EX_UNAVAILABLE;
		goto out;
	}
	log_info("event=start version=%s config=%s database=%s", PACKAGE_VERSION,
	    d.config_path, d.cfg->database);
	notify_systemd("READY=1");
	rc = run(&d);
	notify_systemd("STOPPING=1");
	log_info("event=stop status=%d", rc);
out:
	stop_observing(&d);
	imap_close(d.im);
	stop_parts(&d);
	store_close(d.st);
	forget_password(&d);
	config_free(d.cfg);
	curl_global_cleanup();
	return rc;
}
