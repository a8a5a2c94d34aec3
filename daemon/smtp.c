#include "buildconf.h"

#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "smtp.h"

struct smtp {
	CURL *curl;
	const struct config_smtp *cfg;
	char *password;
	long last_code;
};

struct upload {
	const char *data;
	size_t len, off;
};

static size_t
read_cb(char *buf, size_t size, size_t nmemb, void *arg)
{
	struct upload *u = arg;
	size_t n = size * nmemb;

	if (n > u->len - u->off)
		n = u->len - u->off;
	memcpy(buf, u->data + u->off, n);
	u->off += n;
	return n;
}

/* The options that stay for the whole life of the handle: libcurl keeps the
 * connection open between transfers on the same handle. */
static int
setup(struct smtp *s, struct err *e)
{
	const struct config_smtp *c = s->cfg;
	CURL *h = s->curl;
	int implicit = strncmp(c->url, "smtps://", 8) == 0;

	curl_easy_setopt(h, CURLOPT_URL, c->url);
	curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
	curl_easy_setopt(h, CURLOPT_READFUNCTION, read_cb);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, (long)c->timeout);
	curl_easy_setopt(h, CURLOPT_TIMEOUT, (long)c->timeout * 4);
	/* verification is libcurl's default; say it anyway so nobody wonders */
	curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L);
	if (c->ca_file)
		curl_easy_setopt(h, CURLOPT_CAINFO, c->ca_file);
	if (!implicit)
		curl_easy_setopt(h, CURLOPT_USE_SSL, c->starttls ? (long)CURLUSESSL_ALL
		    : (long)CURLUSESSL_NONE);
	/* A recipient the server refuses must not fail the transfer before
	 * the server has said why; with one recipient per message (the
	 * outbox's model) the refusal still comes back as this message's
	 * reply code. libcurl 7.88 spells the option with three Ls (8.2 added
	 * the corrected name and kept the old one). */
#if LIBCURL_VERSION_NUM >= 0x080200
	curl_easy_setopt(h, CURLOPT_MAIL_RCPT_ALLOWFAILS, 1L);
#else
	curl_easy_setopt(h, CURLOPT_MAIL_RCPT_ALLLOWFAILS, 1L);
#endif
	if (c->user && s->password) {
		curl_easy_setopt(h, CURLOPT_USERNAME, c->user);
		curl_easy_setopt(h, CURLOPT_PASSWORD, s->password);
	}
	return 0;
}

struct smtp *
smtp_new(const struct config_smtp *cfg, const char *password, struct err *e)
{
	struct smtp *s = calloc(1, sizeof *s);

	if (s == NULL || (s->curl = curl_easy_init()) == NULL ||
	    (password && (s->password = strdup(password)) == NULL)) {
		smtp_free(s);
		err_set(e, "cannot set up the SMTP client");
		return NULL;
	}
	s->cfg = cfg;
	setup(s, e);
	return s;
}

void
smtp_free(struct smtp *s)
{
	if (s == NULL)
		return;
	if (s->curl)
		curl_easy_cleanup(s->curl);
	if (s->password) {
		explicit_bzero(s->password, strlen(s->password));
		free(s->password);
	}
	free(s);
}

/* One transfer on the kept connection (or a fresh one when asked). */
static CURLcode
perform(struct smtp *s, struct upload *u, struct curl_slist *rcpts, int fresh,
    char *errbuf, long *code)
{
	CURLcode rc;

	u->off = 0;
	errbuf[0] = '\0';
	curl_easy_setopt(s->curl, CURLOPT_MAIL_RCPT, rcpts);
	curl_easy_setopt(s->curl, CURLOPT_READDATA, u);
	curl_easy_setopt(s->curl, CURLOPT_INFILESIZE_LARGE, (curl_off_t)u->len);
	curl_easy_setopt(s->curl, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(s->curl, CURLOPT_FRESH_CONNECT, (long)fresh);
	rc = curl_easy_perform(s->curl);
	*code = 0;
	curl_easy_getinfo(s->curl, CURLINFO_RESPONSE_CODE, code);
	curl_easy_setopt(s->curl, CURLOPT_MAIL_RCPT, NULL);
	curl_easy_setopt(s->curl, CURLOPT_ERRORBUFFER, NULL);
	return rc;
}

long
smtp_last_code(const struct smtp *s)
{
	return s->last_code;
}

const struct config_smtp *
smtp_config(const struct smtp *s)
{
	return s->cfg;
}

char *
smtp_crlf(const char *data, size_t len, size_t *outlen, int *oom)
{
	size_t bare = 0, o = 0;
	char *out;

	*oom = 0;
	for (size_t i = 0; i < len; i++)
		if (data[i] == '\n' && (i == 0 || data[i - 1] != '\r'))
			bare++;
	if (bare == 0)
		return NULL;
	if ((out = malloc(len + bare + 1)) == NULL) {
		*oom = 1;
		return NULL;
	}
	for (size_t i = 0; i < len; i++) {
		if (data[i] == '\n' && (i == 0 || data[i - 1] != '\r'))
			out[o++] = '\r';
		out[o++] = data[i];
	}
	out[o] = '\0';
	*outlen = o;
	return out;
}

enum smtp_status
smtp_send(struct smtp *s, const char *from, const char *rcpt, const char *data,
    size_t len, struct err *e)
{
	struct upload u = { .data = data, .len = len };
	struct curl_slist *rcpts = curl_slist_append(NULL, rcpt);
	char errbuf[CURL_ERROR_SIZE], *fixed;
	long code;
	CURLcode rc;
	int oom;

	s->last_code = 0;
	/* SMTP wants CRLF and libcurl does not convert bare LF: mailfmt
	 * writes CRLF, this catches anything else put into the outbox. */
	if ((fixed = smtp_crlf(data, len, &u.len, &oom)) != NULL)
		u.data = fixed;
	if (rcpts == NULL || oom) {
		curl_slist_free_all(rcpts);
		return err_set(e, "out of memory"), SMTP_TEMPFAIL;
	}
	curl_easy_setopt(s->curl, CURLOPT_MAIL_FROM, from);
	rc = perform(s, &u, rcpts, 0, errbuf, &code);
	/* Servers cap the mails of one session (421, 452 "too many messages"):
	 * that is "reconnect and go on", not a failure of this message. A
	 * connection the server closed meanwhile is the same story. */
	if (rc != CURLE_OK && (code == 421 || code == 452 || code == 0))
		rc = perform(s, &u, rcpts, 1, errbuf, &code);
	curl_slist_free_all(rcpts);
	free(fixed);
	s->last_code = code;
	if (rc == CURLE_OK)
		return SMTP_SENT;
	err_set(e, "SMTP to %s: %s (code %ld)", rcpt, errbuf[0] ? errbuf : curl_easy_strerror(rc), code);
	if (code >= 500 && code < 600)
		return SMTP_PERMFAIL;
	/* no reply at all, or the server closing the session: nothing else
	 * will go through it either */
	return code == 0 || code == 421 ? SMTP_UNREACHABLE : SMTP_TEMPFAIL;
}
