/*
 * http — mercomaild's small HTTP server (libmicrohttpd), for monitoring:
 *
 *   GET /healthz   200 "ok\n", or 503 with a one-line reason (metrics_healthy())
 *   GET /metrics   the Prometheus text format (metrics_format())
 *   GET /feeds/    the calendar feeds (feed.c)
 *
 * Requests go to the handler of the first matching entry of a table of
 * paths (http.c: routes[]); a new page is one line there and a handler.
 * Anything else is 404; methods other than GET and HEAD are 405. The
 * server answers from its own thread, so it keeps answering while the main
 * loop waits in IDLE, backs off or runs a long pass; it serves a copy of the
 * metrics that the main loop replaces with http_publish() (under a mutex).
 */
#ifndef MERCOMAIL_HTTP_H
#define MERCOMAIL_HTTP_H

#include <microhttpd.h>

#include "config.h"
#include "err.h"
#include "metrics.h"

/* enum MHD_Result replaced int in libmicrohttpd 0.9.71. */
#if MHD_VERSION >= 0x00097002
#define MHD_RESULT enum MHD_Result
#else
#define MHD_RESULT int
#endif

struct http;

/* Listen on [http] listen of cfg and serve m until http_stop(); the feeds
 * read [store] database through a read-only connection of their own, and
 * name smtp.from / mail.name as their organiser. Nothing of cfg is kept.
 * Returns the server, or NULL with e set. */
struct http *http_start(const struct config *cfg, const struct metrics *m, struct err *e);

/* 1 if going from config was to now needs a new server (listen, database
 * or what the feeds say changed). */
int http_restart_needed(const struct config *was, const struct config *now);

/* Serve a copy of m from now on. h may be NULL (no server): then nothing. */
void http_publish(struct http *h, const struct metrics *m);

/* Stop serving, wait for the server's thread and free h. Accepts NULL. */
void http_stop(struct http *h);

#endif
