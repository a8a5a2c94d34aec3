/*
 * http — mercomaild's small HTTP server (libmicrohttpd), for monitoring:
 *
 *   GET /healthz   200 "ok\n", or 503 with a one-line reason (metrics_healthy())
 *   GET /metrics   the Prometheus text format (metrics_format())
 *
 * Anything else is 404; methods other than GET and HEAD are 405. The
 * server answers from its own thread, so it keeps answering while the main
 * loop waits in IDLE, backs off or runs a long pass; it serves a copy of the
 * metrics that the main loop replaces with http_publish() (under a mutex).
 */
#ifndef MERCOMAIL_HTTP_H
#define MERCOMAIL_HTTP_H

#include "err.h"
#include "metrics.h"

struct http;

/* Listen on host:port (a name or an address; IPv6 without brackets) and
 * serve m until http_stop(). Returns the server, or NULL with e set. */
struct http *http_start(const char *host, int port, const struct metrics *m,
    struct err *e);

/* Serve a copy of m from now on. h may be NULL (no server): then nothing. */
void http_publish(struct http *h, const struct metrics *m);

/* Stop serving, wait for the server's thread and free h. Accepts NULL. */
void http_stop(struct http *h);

#endif
