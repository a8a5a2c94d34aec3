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

/* A UID set of uids[0..n). */
static struct mailimap_set *
uid_set(const uint32_t *uids, size_t n)
{
	struct mailimap_set *set = mailimap_set_new_empty();

	for (size_t i = 0; set && i < n; i++)
		if (mailimap_set_add_single(set, uids[i]) != MAILIMAP_NO_ERROR) {
			mailimap_set_free(set);
			return NULL;
		}
	return set;
}

/* UID FETCH set (UID att); *out is the libetpan result list. */
static int
uid_fetch(struct imap *im, struct mailimap_set *set, struct mailimap_fetch_att *att,
    clist **out, struct err *e)
{
	struct mailimap_fetch_type *ft = mailimap_fetch_type_new_fetch_att_list_empty();
	int r;

	mailimap_fetch_type_new_fetch_att_list_add(ft, mailimap_fetch_att_new_uid());
	mailimap_fetch_type_new_fetch_att_list_add(ft, att);
	r = mailimap_uid_fetch(im->session, set, ft, out);
	mailimap_fetch_type_free(ft);
	if (r != MAILIMAP_NO_ERROR)
		return fail(im, r, "UID FETCH", e);
	return 0;
}

/* The UID and the static item of type `type` of one FETCH response. */
static struct mailimap_msg_att_static *
att_static(struct mailimap_msg_att *att, int type, uint32_t *uid)
{
	struct mailimap_msg_att_static *hit = NULL;

	*uid = 0;
	for (clistiter *i = clist_begin(att->att_list); i; i = clist_next(i)) {
		struct mailimap_msg_att_item *item = clist_content(i);
		struct mailimap_msg_att_static *st = item->att_data.att_static;
		if (item->att_type != MAILIMAP_MSG_ATT_ITEM_STATIC || st == NULL)
			continue;
		if (st->att_type == MAILIMAP_MSG_ATT_UID)
			*uid = st->att_data.att_uid;
		else if (st->att_type == type)
			hit = st;
	}
	return *uid ? hit : NULL;	/* a FETCH without UID is unsolicited: skip */
}

/* UID SEARCH ALL into a plain array: 4 bytes a message, where libetpan's
 * FETCH structures would cost hundreds. */
static int
search_all(struct imap *im, uint32_t **uids, size_t *n, struct err *e)
{
	struct mailimap_search_key *all = mailimap_search_key_new_all();
	clist *result = NULL;
	size_t k = 0;
	int r = mailimap_uid_search(im->session, NULL, all, &result);

	mailimap_search_key_free(all);
	if (r != MAILIMAP_NO_ERROR)
		return fail(im, r, "UID SEARCH", e);
	*uids = malloc((clist_count(result) + 1) * sizeof **uids);
	for (clistiter *it = clist_begin(result); *uids && it; it = clist_next(it))
		(*uids)[k++] = *(uint32_t *)clist_content(it);
	mailimap_search_result_free(result);
	*n = k;
	return *uids ? 0 : err_set(e, "out of memory");
}

/* Fill in the sizes of list[0..n) (UIDs set) with one FETCH. */
static int
fetch_sizes(struct imap *im, struct imap_entry *list, size_t n, struct err *e)
{
	struct mailimap_set *set = mailimap_set_new_empty();
	clist *result = NULL;
	int r = 0;

	for (size_t i = 0; set && i < n && r == 0; i++)
		r = mailimap_set_add_single(set, list[i].uid) == MAILIMAP_NO_ERROR ? 0 : -1;
	if (set == NULL || r < 0) {
		mailimap_set_free(set);
		return err_set(e, "out of memory");
	}
	r = uid_fetch(im, set, mailimap_fetch_att_new_rfc822_size(), &result, e);
	mailimap_set_free(set);
	if (r < 0)
		return -1;
	for (clistiter *it = clist_begin(result); it; it = clist_next(it)) {
		uint32_t uid;
		struct mailimap_msg_att_static *st = att_static(clist_content(it),
		    MAILIMAP_MSG_ATT_RFC822_SIZE, &uid);
		for (size_t i = 0; st && i < n; i++)
			if (list[i].uid == uid)
				list[i].size = st->att_data.att_rfc822_size;
	}
	mailimap_fetch_list_free(result);
	return 0;
}

#define SIZES_PER_FETCH 256	/* keeps libetpan's response structures small */

int
imap_list(struct imap *im, struct imap_entry **list, size_t *n, struct err *e)
{
	uint32_t *uids = NULL;
	size_t k = 0;

	*list = NULL;
	*n = 0;
	if (search_all(im, &uids, &k, e) < 0)
		return -1;
	qsort(uids, k, sizeof *uids, cmp_u32);
	if ((*list = calloc(k + 1, sizeof **list)) == NULL) {
		free(uids);
		return err_set(e, "out of memory");
	}
	for (size_t i = 0; i < k; i++)
		(*list)[i].uid = uids[i];
	free(uids);
	for (size_t i = 0; i < k; i += SIZES_PER_FETCH)
		if (fetch_sizes(im, *list + i, k - i < SIZES_PER_FETCH ? k - i : SIZES_PER_FETCH, e) < 0) {
			free(*list);
			*list = NULL;
			return -1;
		}
	*n = k;
	return 0;
}

struct imap_batch {
	clist *result;
	clistiter *next;
};

struct imap_batch *
imap_fetch_set(struct imap *im, const uint32_t *uids, size_t n, int header_only, struct err *e)
{
	struct mailimap_section *sec = header_only ? mailimap_section_new_header()
	    : mailimap_section_new(NULL);
	struct mailimap_set *set = uid_set(uids, n);
	struct imap_batch *b = calloc(1, sizeof *b);
	int r = -1;

	if (sec && set && b)
		r = uid_fetch(im, set, mailimap_fetch_att_new_body_peek_section(sec), &b->result, e);
	else {
		mailimap_section_free(sec);
		err_set(e, "out of memory");
	}
	mailimap_set_free(set);
	if (r < 0) {
		free(b);
		return NULL;
	}
	b->next = clist_begin(b->result);
	return b;
}

int
imap_batch_next(struct imap_batch *b, uint32_t *uid, const char **data, size_t *len)
{
	while (b->next != NULL) {
		struct mailimap_msg_att_static *st = att_static(clist_content(b->next),
		    MAILIMAP_MSG_ATT_BODY_SECTION, uid);
		struct mailimap_msg_att_body_section *body = st ? st->att_data.att_body_section : NULL;
		b->next = clist_next(b->next);
		if (body && body->sec_body_part) {
			*data = body->sec_body_part;
			*len = body->sec_length;
			return 1;
		}
	}
	return 0;
}

void
imap_batch_free(struct imap_batch *b)
{
	if (b == NULL)
		return;
	if (b->result)
		mailimap_fetch_list_free(b->result);
	free(b);
}

/* Without MOVE (RFC 6851): COPY, flag \Deleted, expunge just those UIDs when
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
imap_move_set(struct imap *im, const uint32_t *uids, size_t n, const char *folder,
    struct err *e)
{
	struct mailimap_set *set;
	int r;

	if (n == 0)
		return 0;
	if ((set = uid_set(uids, n)) == NULL)
		return err_set(e, "out of memory");
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
