#include "buildconf.h"

#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <arpa/inet.h>

#include <gnutls/gnutls.h>

#include "tls.h"

struct tls_conn {
	int fd;
	int timeout_ms;
	gnutls_session_t session;
	gnutls_certificate_credentials_t cred;
};

static mailstream_low_driver tls_driver;

/* Wait for fd to be ready; 1 ready, 0 timeout, -1 error. */
static int
wait_fd(int fd, short events, int timeout_ms)
{
	struct pollfd p = { .fd = fd, .events = events };
	int r;

	do
		r = poll(&p, 1, timeout_ms);
	while (r < 0 && errno == EINTR);
	return r;
}

static int
connect_one(const struct addrinfo *ai, int timeout)
{
	int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
	struct timeval tv = { .tv_sec = timeout };

	if (fd < 0)
		return -1;
	/* a blocking connect bounded by the send timeout */
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
	if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
		return fd;
	close(fd);
	return -1;
}

int
tls_tcp_connect(const char *host, int port, int timeout, struct err *e)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *res, *ai;
	char service[16];
	int fd = -1, r, saved = 0;

	snprintf(service, sizeof service, "%d", port);
	if ((r = getaddrinfo(host, service, &hints, &res)) != 0)
		return err_set(e, "cannot resolve %s: %s", host, gai_strerror(r));
	for (ai = res; ai != NULL && fd < 0; ai = ai->ai_next)
		if ((fd = connect_one(ai, timeout)) < 0)
			saved = errno;
	freeaddrinfo(res);
	if (fd < 0)
		return err_set(e, "cannot connect to %s port %d: %s", host, port, strerror(saved));
	return fd;
}

/* A host that is an IP literal gets no SNI (RFC 6066 forbids it). */
static int
is_ip_literal(const char *host)
{
	unsigned char buf[sizeof(struct in6_addr)];

	return inet_pton(AF_INET, host, buf) == 1 || inet_pton(AF_INET6, host, buf) == 1;
}

static void
tls_conn_free(struct tls_conn *c)
{
	if (c == NULL)
		return;
	if (c->session)
		gnutls_deinit(c->session);
	if (c->cred)
		gnutls_certificate_free_credentials(c->cred);
	free(c);
}

static int
set_trust(struct tls_conn *c, const char *ca_file, struct err *e)
{
	int r;

	if (ca_file != NULL)
		r = gnutls_certificate_set_x509_trust_file(c->cred, ca_file, GNUTLS_X509_FMT_PEM);
	else
		r = gnutls_certificate_set_x509_system_trust(c->cred);
	if (r < 0)
		return err_set(e, "cannot load trusted certificates from %s: %s",
		    ca_file ? ca_file : "the system store", gnutls_strerror(r));
	if (r == 0)
		return err_set(e, "no trusted certificate in %s", ca_file ? ca_file : "the system store");
	return 0;
}

/* Say which verification check failed, for the operator. */
static int
verify_error(struct tls_conn *c, const char *host, struct err *e)
{
	unsigned status = gnutls_session_get_verify_cert_status(c->session);
	gnutls_datum_t out = { 0 };

	if (gnutls_certificate_verification_status_print(status,
	    gnutls_certificate_type_get(c->session), &out, 0) < 0)
		return err_set(e, "TLS certificate of %s does not verify", host);
	err_set(e, "TLS certificate of %s does not verify: %s", host, (char *)out.data);
	gnutls_free(out.data);
	return -1;
}

static int
handshake(struct tls_conn *c, const char *host, struct err *e)
{
	int r;

	do
		r = gnutls_handshake(c->session);
	while (r < 0 && !gnutls_error_is_fatal(r));
	if (r == GNUTLS_E_CERTIFICATE_VERIFICATION_ERROR)
		return verify_error(c, host, e);
	if (r < 0)
		return err_set(e, "TLS handshake with %s failed: %s", host, gnutls_strerror(r));
	return 0;
}

static int
session_setup(struct tls_conn *c, const char *host, const char *ca_file, struct err *e)
{
	if (gnutls_certificate_allocate_credentials(&c->cred) < 0 ||
	    gnutls_init(&c->session, GNUTLS_CLIENT) < 0)
		return err_set(e, "cannot set up TLS: out of memory");
	if (set_trust(c, ca_file, e) < 0)
		return -1;
	if (gnutls_set_default_priority(c->session) < 0 ||
	    gnutls_credentials_set(c->session, GNUTLS_CRD_CERTIFICATE, c->cred) < 0)
		return err_set(e, "cannot set up TLS session");
	if (!is_ip_literal(host) &&
	    gnutls_server_name_set(c->session, GNUTLS_NAME_DNS, host, strlen(host)) < 0)
		return err_set(e, "cannot set TLS server name %s", host);
	/* chain to a trusted root, validity dates, and host name or IP SAN */
	gnutls_session_set_verify_cert(c->session, host, 0);
	gnutls_transport_set_int(c->session, c->fd);
	gnutls_handshake_set_timeout(c->session, (unsigned)c->timeout_ms);
	return 0;
}

mailstream_low *
tls_stream_open(int fd, const char *host, const char *ca_file, int timeout, struct err *e)
{
	struct tls_conn *c = calloc(1, sizeof *c);
	mailstream_low *low;

	if (c == NULL) {
		err_set(e, "out of memory");
		return NULL;
	}
	c->fd = fd;
	c->timeout_ms = timeout * 1000;
	if (session_setup(c, host, ca_file, e) < 0 || handshake(c, host, e) < 0)
		goto fail;
	if ((low = mailstream_low_new(c, &tls_driver)) == NULL) {
		err_set(e, "out of memory");
		goto fail;
	}
	return low;
fail:
	tls_conn_free(c);
	return NULL;
}

size_t
tls_stream_pending(mailstream_low *low)
{
	struct tls_conn *c = low->data;

	return tls_stream_is_tls(low) ? gnutls_record_check_pending(c->session) : 0;
}

int
tls_stream_is_tls(mailstream_low *low)
{
	return low != NULL && low->driver == &tls_driver;
}

/* --- the mailstream_low driver: libetpan calls these */

static ssize_t
drv_read(mailstream_low *low, void *buf, size_t count)
{
	struct tls_conn *c = low->data;
	ssize_t r;

	for (;;) {
		if (gnutls_record_check_pending(c->session) == 0 &&
		    wait_fd(c->fd, POLLIN, c->timeout_ms) <= 0)
			return -1;	/* timeout or error */
		r = gnutls_record_recv(c->session, buf, count);
		if (r == GNUTLS_E_AGAIN || r == GNUTLS_E_INTERRUPTED)
			continue;
		if (r == GNUTLS_E_PREMATURE_TERMINATION)
			return 0;	/* the peer closed without close_notify: EOF */
		return r < 0 ? -1 : r;
	}
}

static ssize_t
drv_write(mailstream_low *low, const void *buf, size_t count)
{
	struct tls_conn *c = low->data;
	ssize_t r;

	for (;;) {
		if (wait_fd(c->fd, POLLOUT, c->timeout_ms) <= 0)
			return -1;
		r = gnutls_record_send(c->session, buf, count);
		if (r == GNUTLS_E_AGAIN || r == GNUTLS_E_INTERRUPTED)
			continue;
		return r < 0 ? -1 : r;
	}
}

static int
drv_close(mailstream_low *low)
{
	struct tls_conn *c = low->data;

	if (c->fd >= 0) {
		/* best effort close_notify; the server may be gone already */
		gnutls_bye(c->session, GNUTLS_SHUT_WR);
		close(c->fd);
		c->fd = -1;
	}
	return 0;
}

static int
drv_get_fd(mailstream_low *low)
{
	return ((struct tls_conn *)low->data)->fd;
}

static void
drv_free(mailstream_low *low)
{
	struct tls_conn *c = low->data;

	if (c->fd >= 0)
		close(c->fd);
	tls_conn_free(c);
	free(low);
}

static void
drv_cancel(mailstream_low *low)
{
}

static struct mailstream_cancel *
drv_get_cancel(mailstream_low *low)
{
	return NULL;
}

static carray *
drv_get_chain(mailstream_low *low)
{
	return NULL;
}

static int
drv_no_idle(mailstream_low *low)
{
	return -1;	/* "not implemented": mercomail waits with poll() itself */
}

static mailstream_low_driver tls_driver = {
	.mailstream_read = drv_read,
	.mailstream_write = drv_write,
	.mailstream_close = drv_close,
	.mailstream_get_fd = drv_get_fd,
	.mailstream_free = drv_free,
	.mailstream_cancel = drv_cancel,
	.mailstream_get_cancel = drv_get_cancel,
	.mailstream_get_certificate_chain = drv_get_chain,
	.mailstream_setup_idle = drv_no_idle,
	.mailstream_unsetup_idle = drv_no_idle,
	.mailstream_interrupt_idle = drv_no_idle,
};
