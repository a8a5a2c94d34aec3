#include "buildconf.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <libetpan/libetpan.h>

#include "imap.h"
#include "log.h"
#include "tls.h"

struct imap {
	mailimap *session;
	const struct config_imap *cfg;
	int broken;
	int has_idle, has_move, has_uidplus, has_starttls;
};

/* libetpan's codes that mean the connection itself is gone or unusable. */
static int
is_fatal(int r)
{
	return r == MAILIMAP_ERROR_STREAM || r == MAILIMAP_ERROR_PARSE ||
	    r == MAILIMAP_ERROR_CONNECTION_REFUSED || r == MAILIMAP_ERROR_MEMORY ||
	    r == MAILIMAP_ERROR_FATAL || r == MAILIMAP_ERROR_PROTOCOL;
}

/* Describe a failed command: the server's own words when it answered NO/BAD. */
static int
fail(struct imap *im, int r, const char *what, struct err *e)
{
	const char *resp = im->session ? im->session->imap_response : NULL;

	if (is_fatal(r)) {
		im->broken = 1;
		return err_set(e, "IMAP %s: connection to %s lost (libetpan error %d)",
		    what, im->cfg->host, r);
	}
	return err_set(e, "IMAP %s refused by %s: %s", what, im->cfg->host,
	    resp && *resp ? resp : "no reason given");
}

static void
read_capabilities(struct imap *im)
{
	struct mailimap_capability_data *caps = NULL;
	clistiter *it;

	im->has_idle = im->has_move = im->has_uidplus = im->has_starttls = 0;
	if (mailimap_capability(im->session, &caps) != MAILIMAP_NO_ERROR)
		return;
	for (it = clist_begin(caps->cap_list); it; it = clist_next(it)) {
		struct mailimap_capability *c = clist_content(it);
		const char *name = c->cap_data.cap_name;
		if (c->cap_type != MAILIMAP_CAPABILITY_NAME || name == NULL)
			continue;
		im->has_idle |= strcasecmp(name, "IDLE") == 0;
		im->has_move |= strcasecmp(name, "MOVE") == 0;
		im->has_uidplus |= strcasecmp(name, "UIDPLUS") == 0;
		im->has_starttls |= strcasecmp(name, "STARTTLS") == 0;
	}
	mailimap_capability_data_free(caps);
}

/* Wrap a connected low-level stream in a libetpan session and read the greeting. */
static int
attach(struct imap *im, mailstream_low *low, struct err *e)
{
	mailstream *s = mailstream_new(low, 8192);
	int r;

	if (s == NULL) {
		mailstream_low_free(low);
		return err_set(e, "out of memory");
	}
	r = mailimap_connect(im->session, s);	/* the session owns s from here */
	if (r != MAILIMAP_NO_ERROR_AUTHENTICATED && r != MAILIMAP_NO_ERROR_NON_AUTHENTICATED)
		return fail(im, r, "greeting", e);
	return 0;
}

/* Swap the plaintext stream for a verified TLS one after STARTTLS. */
static int
upgrade_tls(struct imap *im, struct err *e)
{
	mailstream *s = im->session->imap_stream;
	mailstream_low *plain = mailstream_get_low(s), *tls;
	int fd, r;

	if (!im->has_starttls)
		return err_set(e, "%s does not offer STARTTLS (set starttls = no to allow plaintext)",
		    im->cfg->host);
	if ((r = mailimap_starttls(im->session)) != MAILIMAP_NO_ERROR)
		return fail(im, r, "STARTTLS", e);
	/* Bytes that arrived before the handshake would be injected plaintext. */
	if (s->read_buffer_len != 0) {
		im->broken = 1;
		return err_set(e, "%s sent data after STARTTLS before the TLS handshake", im->cfg->host);
	}
	if ((fd = dup(mailstream_low_get_fd(plain))) < 0)
		return err_set(e, "dup: %s", strerror(errno));
	if ((tls = tls_stream_open(fd, im->cfg->host, im->cfg->ca_file, im->cfg->timeout, e)) == NULL) {
		close(fd);
		im->broken = 1;
		return -1;
	}
	mailstream_low_free(plain);
	mailstream_set_low(s, tls);
	read_capabilities(im);		/* RFC 3501: forget what was said in the clear */
	return 0;
}

static int
open_stream(struct imap *im, struct err *e)
{
	const struct config_imap *cfg = im->cfg;
	mailstream_low *low;
	int fd = tls_tcp_connect(cfg->host, cfg->port, cfg->timeout, e);

	if (fd < 0)
		return -1;
	if (cfg->tls == TLS_IMPLICIT)
		low = tls_stream_open(fd, cfg->host, cfg->ca_file, cfg->timeout, e);
	else if ((low = mailstream_low_socket_open(fd)) == NULL)
		err_set(e, "out of memory");
	if (low == NULL) {
		close(fd);
		return -1;
	}
	mailstream_low_set_timeout(low, (time_t)cfg->timeout);
	if (attach(im, low, e) < 0)
		return -1;
	read_capabilities(im);
	if (cfg->tls == TLS_STARTTLS)
		return upgrade_tls(im, e);
	if (cfg->tls == TLS_NONE)
		log_warn("event=imap.plaintext host=%s msg=\"TLS disabled by configuration\"", cfg->host);
	return 0;
}

struct imap *
imap_connect(const struct config_imap *cfg, const char *password, struct err *e)
{
	struct imap *im = calloc(1, sizeof *im);
	int r;

	if (im == NULL || (im->session = mailimap_new(0, NULL)) == NULL) {
		free(im);
		err_set(e, "out of memory");
		return NULL;
	}
	im->cfg = cfg;
	mailimap_set_timeout(im->session, (time_t)cfg->timeout);
	if (open_stream(im, e) < 0)
		goto fail;
	if ((r = mailimap_login(im->session, cfg->user, password)) != MAILIMAP_NO_ERROR) {
		fail(im, r, "LOGIN", e);
		goto fail;
	}
	read_capabilities(im);		/* servers may announce more after login */
	return im;
fail:
	im->broken = 1;
	imap_close(im);
	return NULL;
}

void
imap_close(struct imap *im)
{
	if (im == NULL)
		return;
	if (!im->broken && im->session->imap_stream != NULL)
		mailimap_logout(im->session);
	mailimap_free(im->session);
	free(im);
}

int imap_broken(const struct imap *im) { return im->broken; }
int imap_has_idle(const struct imap *im) { return im->has_idle; }
int imap_has_move(const struct imap *im) { return im->has_move; }

int
imap_ensure_folder(struct imap *im, const char *folder, struct err *e)
{
	clist *found = NULL;
	int r = mailimap_list(im->session, "", folder, &found);

	if (r != MAILIMAP_NO_ERROR)
		return fail(im, r, "LIST", e);
	r = clist_count(found);
	mailimap_list_result_free(found);
	if (r > 0)
		return 0;
	if ((r = mailimap_create(im->session, folder)) != MAILIMAP_NO_ERROR)
		return fail(im, r, "CREATE", e);
	log_info("event=imap.create folder=\"%s\"", folder);
	return 0;
}

int
imap_select(struct imap *im, const char *folder, uint32_t *uidvalidity, struct err *e)
{
	int r = mailimap_select(im->session, folder);

	if (r != MAILIMAP_NO_ERROR)
		return fail(im, r, "SELECT", e);
	if (im->session->imap_selection_info == NULL ||
	    im->session->imap_selection_info->sel_uidvalidity == 0)
		return err_set(e, "IMAP server %s gave no UIDVALIDITY for %s", im->cfg->host, folder);
	*uidvalidity = im->session->imap_selection_info->sel_uidvalidity;
	return 0;
}

static int
cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

int
imap_uids(struct imap *im, uint32_t **uids, size_t *n, struct err *e)
{
	struct mailimap_search_key *all = mailimap_search_key_new_all();
	clist *result = NULL;
	clistiter *it;
	size_t i = 0;
	int r = mailimap_uid_search(im->session, NULL, all, &result);

	mailimap_search_key_free(all);
	if (r != MAILIMAP_NO_ERROR)
		return fail(im, r, "UID SEARCH", e);
	*uids = malloc((clist_count(result) + 1) * sizeof **uids);
	if (*uids == NULL) {
		mailimap_search_result_free(result);
		return err_set(e, "out of memory");
	}
	for (it = clist_begin(result); it; it = clist_next(it))
		(*uids)[i++] = *(uint32_t *)clist_content(it);
	mailimap_search_result_free(result);
	qsort(*uids, i, sizeof **uids, cmp_u32);
	*n = i;
	return 0;
}

/* UID FETCH one message with one attribute; *out is the libetpan result list. */
static int
fetch_one(struct imap *im, uint32_t uid, struct mailimap_fetch_att *att, clist **out,
    struct err *e)
{
	struct mailimap_set *set = mailimap_set_new_single(uid);
	struct mailimap_fetch_type *ft = mailimap_fetch_type_new_fetch_att(att);
	int r = mailimap_uid_fetch(im->session, set, ft, out);

	mailimap_fetch_type_free(ft);
	mailimap_set_free(set);
	if (r != MAILIMAP_NO_ERROR)
		return fail(im, r, "UID FETCH", e);
	return 0;
}

/* The static item of type `type` in a fetch result for uid, or NULL. */
static struct mailimap_msg_att_static *
find_static(clist *result, uint32_t uid, int type)
{
	for (clistiter *m = clist_begin(result); m; m = clist_next(m)) {
		struct mailimap_msg_att *att = clist_content(m);
		struct mailimap_msg_att_static *hit = NULL;
		uint32_t got = 0;
		for (clistiter *i = clist_begin(att->att_list); i; i = clist_next(i)) {
			struct mailimap_msg_att_item *item = clist_content(i);
			struct mailimap_msg_att_static *st = item->att_data.att_static;
			if (item->att_type != MAILIMAP_MSG_ATT_ITEM_STATIC || st == NULL)
				continue;
			if (st->att_type == MAILIMAP_MSG_ATT_UID)
				got = st->att_data.att_uid;
			else if (st->att_type == type)
				hit = st;
		}
		/* unsolicited FETCH responses for other messages are skipped */
		if (got == uid && hit != NULL)
			return hit;
	}
	return NULL;
}

int
imap_fetch_size(struct imap *im, uint32_t uid, size_t *size, struct err *e)
{
	clist *result = NULL;
	struct mailimap_msg_att_static *st;

	if (fetch_one(im, uid, mailimap_fetch_att_new_rfc822_size(), &result, e) < 0)
		return -1;
	st = find_static(result, uid, MAILIMAP_MSG_ATT_RFC822_SIZE);
	if (st != NULL)
		*size = st->att_data.att_rfc822_size;
	mailimap_fetch_list_free(result);
	return st ? 0 : err_set(e, "message UID %u is gone from the server", uid);
}

int
imap_fetch(struct imap *im, uint32_t uid, int header_only, char **data, size_t *len,
    struct err *e)
{
	struct mailimap_section *sec = header_only ? mailimap_section_new_header()
	    : mailimap_section_new(NULL);
	clist *result = NULL;
	struct mailimap_msg_att_static *st;
	struct mailimap_msg_att_body_section *body;

	if (fetch_one(im, uid, mailimap_fetch_att_new_body_peek_section(sec), &result, e) < 0)
		return -1;
	st = find_static(result, uid, MAILIMAP_MSG_ATT_BODY_SECTION);
	body = st ? st->att_data.att_body_section : NULL;
	if (body == NULL || body->sec_body_part == NULL) {
		mailimap_fetch_list_free(result);
		return err_set(e, "message UID %u is gone from the server", uid);
	}
	*len = body->sec_length;
	if ((*data = malloc(*len + 1)) != NULL) {
		memcpy(*data, body->sec_body_part, *len);
		(*data)[*len] = '\0';
	}
	mailimap_fetch_list_free(result);
	return *data ? 0 : err_set(e, "out of memory");
}

/* Without MOVE (RFC 6851): COPY, flag \Deleted, expunge just that UID when
 * UIDPLUS allows, else a plain EXPUNGE. */
static int
copy_delete(struct imap *im, struct mailimap_set *set, const char *folder, struct err *e)
{
	struct mailimap_flag_list *flags = mailimap_flag_list_new_empty();
	struct mailimap_store_att_flags *store;
	int r;

	if ((r = mailimap_uid_copy(im->session, set, folder)) != MAILIMAP_NO_ERROR) {
		mailimap_flag_list_free(flags);
		return fail(im, r, "UID COPY", e);
	}
	mailimap_flag_list_add(flags, mailimap_flag_new_deleted());
	store = mailimap_store_att_flags_new_add_flags_silent(flags);
	r = mailimap_uid_store(im->session, set, store);
	mailimap_store_att_flags_free(store);
	if (r != MAILIMAP_NO_ERROR)
		return fail(im, r, "UID STORE", e);
	r = im->has_uidplus ? mailimap_uid_expunge(im->session, set)
	    : mailimap_expunge(im->session);
	return r == MAILIMAP_NO_ERROR ? 0 : fail(im, r, "EXPUNGE", e);
}

int
imap_move(struct imap *im, uint32_t uid, const char *folder, struct err *e)
{
	struct mailimap_set *set = mailimap_set_new_single(uid);
	int r;

	if (im->has_move) {
		r = mailimap_uid_move(im->session, set, folder);
		r = r == MAILIMAP_NO_ERROR ? 0 : fail(im, r, "UID MOVE", e);
	} else
		r = copy_delete(im, set, folder, e);
	mailimap_set_free(set);
	return r;
}

/* 1 when the server said something (or libetpan holds unread bytes), 0 on
 * timeout or wake-up. */
static int
wait_news(struct imap *im, int timeout, int wake_fd)
{
	mailstream *s = im->session->imap_stream;
	struct pollfd p[2] = {
		{ .fd = mailimap_idle_get_fd(im->session), .events = POLLIN },
		{ .fd = wake_fd, .events = POLLIN },
	};
	int r;

	if (s->read_buffer_len > 0 || tls_stream_pending(mailstream_get_low(s)) > 0)
		return 1;
	r = poll(p, wake_fd >= 0 ? 2 : 1, timeout * 1000);
	if (r < 0 && errno != EINTR)
		return -1;
	return r > 0 && (p[0].revents & (POLLIN | POLLHUP | POLLERR));
}

int
imap_idle_wait(struct imap *im, int timeout, int wake_fd, struct err *e)
{
	int r, news;

	if ((r = mailimap_idle(im->session)) != MAILIMAP_NO_ERROR)
		return fail(im, r, "IDLE", e);
	news = wait_news(im, timeout, wake_fd);
	if ((r = mailimap_idle_done(im->session)) != MAILIMAP_NO_ERROR)
		return fail(im, r, "IDLE DONE", e);
	return news < 0 ? err_set(e, "poll: %s", strerror(errno)) : news;
}
