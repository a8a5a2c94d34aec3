/*
 * tls — a GnuTLS client stream for libetpan, with certificate verification.
 *
 * libetpan's own TLS streams check no certificate (seen with Debian's 1.9.4),
 * so mercomail runs the handshake itself: the certificate chain must verify
 * against the system trust store (or ca_file when given) and match the host
 * name or IP address. The result is a mailstream_low that libetpan reads and
 * writes through like any other.
 */
#ifndef MERCOMAIL_TLS_H
#define MERCOMAIL_TLS_H

#include <libetpan/libetpan.h>

#include "err.h"

/*
 * Connect a TCP socket to host:port within timeout seconds. Returns the fd
 * (the caller closes it) or -1.
 */
int tls_tcp_connect(const char *host, int port, int timeout, struct err *e);

/*
 * Run a verified TLS handshake on the connected fd. On success returns a
 * stream that owns fd (closing the stream closes it); on failure returns
 * NULL, leaves fd open, and says why (e.g. which verification check failed).
 * ca_file NULL means the system trust store.
 */
mailstream_low *tls_stream_open(int fd, const char *host, const char *ca_file,
    int timeout, struct err *e);

/* Bytes the TLS layer has decrypted but nobody read yet (for poll loops). */
size_t tls_stream_pending(mailstream_low *low);

/* 1 if low is one of ours. */
int tls_stream_is_tls(mailstream_low *low);

#endif
