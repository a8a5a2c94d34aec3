#include "buildconf.h"

#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L	/* getaddrinfo, pthread_sigmask */
#endif

#include <netdb.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <time.h>

#include <microhttpd.h>

#include "clock.h"
#include "feed.h"
#include "http.h"
#include "list.h"
#include "log.h"
#include "report.h"

/* Calendar apps poll the feeds, monitoring polls the rest; a flood must
 * still not cost much memory (MHD gives each connection a 32 KiB pool). */
#define CONNECTIONS_MAX 128
#define CONNECTION_TIMEOUT 10	/* seconds: a slow client cannot hold a slot */
#define BODY_MAX 4096		/* /metrics is about 2 KiB */

static const char text_plain[] = "text/plain; charset=utf-8";
static const char prometheus[] = "text/plain; version=0.0.4; charset=utf-8";

struct http {
	struct MHD_Daemon *mhd;
	pthread_mutex_t lock;	/* guards snap: the main loop writes, MHD's thread reads */
	struct metrics snap;
	char start_error[200];	/* MHD's first complaint while starting */
	int starting;		/* 1 while in MHD_start_daemon(); guarded by lock too */
	struct feed *feed;	/* used by MHD's thread only */
	struct report_web *report;	/* NULL: no [http] report_token_file */
	struct list_web *lists;		/* NULL: no token key, no unsubscribe page */
};

/* MHD's own diagnostics (bind failures and the like) into our log. */
static void __attribute__((format(printf, 2, 0)))
mhd_log(void *cls, const char *fmt, va_list ap)
{
	struct http *h = cls;
	char line[256];
	size_t n;

	vsnprintf(line, sizeof line, fmt, ap);
	n = strlen(line);
	while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
		line[--n] = '\0';
	pthread_mutex_lock(&h->lock);
	if (h->starting && h->start_error[0] == '\0')
		snprintf(h->start_error, sizeof h->start_error, "%s", line);
	pthread_mutex_unlock(&h->lock);
	log_warn("event=http reason=\"%s\"", line);
}

static MHD_RESULT
reply(struct MHD_Connection *c, unsigned status, const char *type, const char *body,
    size_t len)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(len, (void *)body,
	    MHD_RESPMEM_MUST_COPY);
	MHD_RESULT ret;

	if (r == NULL)
		return MHD_NO;
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	/* the numbers change with every pass: never from a cache */
	MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	if (status == MHD_HTTP_METHOD_NOT_ALLOWED)
		MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
	ret = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return ret;
}

static MHD_RESULT
reply_text(struct MHD_Connection *c, unsigned status, const char *text)
{
	return reply(c, status, text_plain, text, strlen(text));
}

static MHD_RESULT
serve_healthz(struct MHD_Connection *c, const struct metrics *m)
{
	char why[400], body[404];

	if (metrics_healthy(m, time(NULL), why, sizeof why))
		return reply_text(c, MHD_HTTP_OK, "ok\n");
	snprintf(body, sizeof body, "%s\n", why);
	return reply_text(c, MHD_HTTP_SERVICE_UNAVAILABLE, body);
}

static MHD_RESULT
serve_metrics(struct MHD_Connection *c, const struct metrics *m)
{
	char body[BODY_MAX];
	int n = metrics_format(m, time(NULL), body, sizeof body);

	if (n < 0)
		return reply_text(c, MHD_HTTP_INTERNAL_SERVER_ERROR, "metrics too long\n");
	return reply(c, MHD_HTTP_OK, prometheus, body, (size_t)n);
}

static struct metrics
snapshot(struct http *h)
{
	struct metrics m;

	pthread_mutex_lock(&h->lock);
	m = h->snap;
	pthread_mutex_unlock(&h->lock);
	return m;
}

static MHD_RESULT
route_healthz(struct http *h, struct MHD_Connection *c, const char *rest)
{
	struct metrics m = snapshot(h);

	(void)rest;
	return serve_healthz(c, &m);
}

static MHD_RESULT
route_metrics(struct http *h, struct MHD_Connection *c, const char *rest)
{
	struct metrics m = snapshot(h);

	(void)rest;
	return serve_metrics(c, &m);
}

static MHD_RESULT
route_feeds(struct http *h, struct MHD_Connection *c, const char *rest)
{
	return feed_answer(h->feed, c, rest);
}

/* The activity report for the secretariat (report.h): a missing or wrong
 * token gets the very 404 of an unknown path. */
static MHD_RESULT
route_report(struct http *h, struct MHD_Connection *c, const char *rest)
{
	struct err e = { "" };
	char *page = NULL;
	MHD_RESULT ret;
	int r;

	(void)rest;
	if (h->report == NULL)
		return reply_text(c, MHD_HTTP_NOT_FOUND, "not found\n");
#define ARG(name) MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, name)
	r = report_web_page(h->report, ARG("token"), ARG("since"), ARG("until"), ARG("lang"),
	    ARG("silent_days"), clock_now(), &page, &e);
#undef ARG
	if (r == 0)
		return reply_text(c, MHD_HTTP_NOT_FOUND, "not found\n");
	if (r == -2)
		return reply_text(c, MHD_HTTP_BAD_REQUEST,
		    "since, until: YYYY-MM-DD; lang: es or pt; silent_days: a number\n");
	if (r < 0) {
		log_warn("event=http.report status=failed reason=\"%s\"", e.msg);
		return reply_text(c, MHD_HTTP_SERVICE_UNAVAILABLE, "report unavailable\n");
	}
	ret = reply(c, MHD_HTTP_OK, "text/html; charset=utf-8", page, strlen(page));
	free(page);
	return ret;
}

/* The one-click unsubscribe link of list mail (list.h, RFC 8058): GET
 * shows a button, POST unsubscribes. */
static MHD_RESULT
unsubscribe(struct http *h, struct MHD_Connection *c, int post)
{
	char *page = NULL;
	int status = list_web_unsubscribe(h->lists,
	    MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "t"), post, clock_now(), &page);
	MHD_RESULT ret;

	if (page == NULL)
		return reply_text(c, MHD_HTTP_SERVICE_UNAVAILABLE, "out of memory\n");
	ret = reply(c, (unsigned)status, "text/html; charset=utf-8", page, strlen(page));
	free(page);
	return ret;
}

static MHD_RESULT
route_unsubscribe(struct http *h, struct MHD_Connection *c, const char *rest)
{
	(void)rest;
	return unsubscribe(h, c, 0);
}

/* The pages: a path, or a prefix (ending in '/') whose handler gets the rest
 * of the path. The first match wins. GET and HEAD only (MHD leaves the body
 * out of a HEAD answer itself). */
static const struct route {
	const char *path;
	MHD_RESULT (*serve)(struct http *h, struct MHD_Connection *c, const char *rest);
} routes[] = {
	{ "/healthz", route_healthz },
	{ "/metrics", route_metrics },
	{ "/feeds/", route_feeds },
	{ "/reports/activity", route_report },
	{ "/lists/unsubscribe", route_unsubscribe },
};

static MHD_RESULT
answer(void *cls, struct MHD_Connection *c, const char *url, const char *method,
    const char *version, const char *upload_data, size_t *upload_size, void **con_cls)
{
	static int request_seen;
	struct http *h = cls;

	/* Answer on the second call, once the whole request is read: a response
	 * queued from the first one makes MHD close the connection after it
	 * (no keep-alive), which costs calendar clients and proxies a handshake
	 * per request. */
	if (*con_cls == NULL) {
		*con_cls = &request_seen;
		return MHD_YES;
	}
	if (*upload_size != 0) {
		*upload_size = 0;	/* a POST body: only the one-click form, not needed */
		return MHD_YES;
	}
	if (strcmp(method, MHD_HTTP_METHOD_POST) == 0 && strcmp(url, "/lists/unsubscribe") == 0)
		return unsubscribe(h, c, 1);
	if (strcmp(method, MHD_HTTP_METHOD_GET) != 0 &&
	    strcmp(method, MHD_HTTP_METHOD_HEAD) != 0)
		return reply_text(c, MHD_HTTP_METHOD_NOT_ALLOWED, "method not allowed\n");
	for (size_t i = 0; i < sizeof routes / sizeof routes[0]; i++) {
		const char *p = routes[i].path;
		size_t n = strlen(p);

		if (p[n - 1] == '/' ? strncmp(url, p, n) == 0 : strcmp(url, p) == 0)
			return routes[i].serve(h, c, url + n);
	}
	return reply_text(c, MHD_HTTP_NOT_FOUND, "not found\n");
}

/* The first address of host:port; the caller frees it with freeaddrinfo(). */
static struct addrinfo *
resolve(const char *host, int port, struct err *e)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM,
	    .ai_flags = AI_PASSIVE | AI_NUMERICSERV }, *res = NULL;
	char service[8];
	int rc;

	snprintf(service, sizeof service, "%d", port);
	if ((rc = getaddrinfo(host, service, &hints, &res)) != 0) {
		err_set(e, "http.listen %s: %s", host, gai_strerror(rc));
		return NULL;
	}
	return res;
}

/* MHD's thread must not take the daemon's signals: they are meant to wake
 * the main loop's poll() and IDLE, so it starts with all of them blocked. */
static struct MHD_Daemon *
start_mhd(struct http *h, const struct addrinfo *ai, int port)
{
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_AUTO | MHD_USE_ERROR_LOG;
	sigset_t all, old;
	struct MHD_Daemon *mhd;

	if (ai->ai_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	/* the logger first: MHD logs the options that follow through it */
	mhd = MHD_start_daemon(flags, (uint16_t)port, NULL, NULL, answer, h,
	    MHD_OPTION_EXTERNAL_LOGGER, mhd_log, h,
	    MHD_OPTION_SOCK_ADDR, ai->ai_addr,
	    MHD_OPTION_CONNECTION_LIMIT, (unsigned)CONNECTIONS_MAX,
	    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)CONNECTION_TIMEOUT,
	    MHD_OPTION_END);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return mhd;
}

struct http *
http_start(const struct config *cfg, const struct metrics *m, struct err *e)
{
	const char *host = cfg->http.host;
	int port = cfg->http.port;
	/* the feeds' ORGANIZER: the address invites come from, else the mailbox */
	const char *org = cfg->smtp.from ? cfg->smtp.from :
	    cfg->imap.user && strchr(cfg->imap.user, '@') ? cfg->imap.user : NULL;
	struct feed_opts fo = { cfg->database, org, cfg->mail.name };
	struct http *h = calloc(1, sizeof *h);
	struct addrinfo *ai;
	int v6 = strchr(host, ':') != NULL;	/* written [addr]:port */

	if (h == NULL) {
		err_set(e, "http: out of memory");
		return NULL;
	}
	if ((h->feed = feed_new(&fo, e)) == NULL) {
		free(h);
		return NULL;
	}
	if (cfg->http.report_token_file != NULL && (h->report =
	    report_web_new(cfg->database, cfg->http.report_token_file, e)) == NULL) {
		feed_free(h->feed);
		free(h);
		return NULL;
	}
	if ((ai = resolve(host, port, e)) == NULL) {
		report_web_free(h->report);
		feed_free(h->feed);
		free(h);
		return NULL;
	}
	h->lists = list_web_new(cfg);
	pthread_mutex_init(&h->lock, NULL);
	h->snap = *m;
	h->starting = 1;
	h->mhd = start_mhd(h, ai, port);
	pthread_mutex_lock(&h->lock);
	h->starting = 0;
	pthread_mutex_unlock(&h->lock);
	freeaddrinfo(ai);
	if (h->mhd == NULL) {
		err_set(e, "http: cannot listen on %s%s%s:%d: %s", v6 ? "[" : "", host,
		    v6 ? "]" : "", port, h->start_error[0] ? h->start_error : "refused");
		pthread_mutex_destroy(&h->lock);
		list_web_free(h->lists);
		report_web_free(h->report);
		feed_free(h->feed);
		free(h);
		return NULL;
	}
	return h;
}

void
http_publish(struct http *h, const struct metrics *m)
{
	if (h == NULL)
		return;
	pthread_mutex_lock(&h->lock);
	h->snap = *m;
	pthread_mutex_unlock(&h->lock);
}

void
http_stop(struct http *h)
{
	if (h == NULL)
		return;
	MHD_stop_daemon(h->mhd);	/* joins MHD's thread: the feeds are ours again */
	pthread_mutex_destroy(&h->lock);
	list_web_free(h->lists);
	report_web_free(h->report);
	feed_free(h->feed);
	free(h);
}

static int
same(const char *a, const char *b)
{
	return a == NULL ? b == NULL : b != NULL && strcmp(a, b) == 0;
}

int
http_restart_needed(const struct config *was, const struct config *now)
{
	return !same(was->http.listen, now->http.listen) || !same(was->database, now->database) ||
	    !same(was->smtp.from, now->smtp.from) || !same(was->imap.user, now->imap.user) ||
	    !same(was->mail.name, now->mail.name);
}
