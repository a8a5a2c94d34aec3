#include "buildconf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "message.h"
#include "sync.h"

#define HEADER_TEXT_MAX 998	/* the RFC 5322 line limit is plenty for a listing */

struct pass {
	struct imap *im;
	struct store *st;
	struct ingest *in;
	const struct config_imap *cfg;
	uint32_t uidvalidity;
	uint32_t last_uid;
	struct sync_stats *stats;
};

/* One fetched message and what we learnt of it; owns its strings. */
struct fetched {
	char *raw;
	size_t len, size;
	int truncated;
	char *identity, *from, *subject;
	char sha256[65];
	char reason[160];
};

static void
fetched_free(struct fetched *f)
{
	free(f->raw);
	free(f->identity);
	free(f->from);
	free(f->subject);
}

/* Fetch what we keep of one message: all of it, or only its header when it
 * is over the size limit (it is then recorded as rejected, not loaded). */
static int
fetch_message(struct pass *p, uint32_t uid, struct fetched *f, struct err *e)
{
	if (imap_fetch_size(p->im, uid, &f->size, e) < 0)
		return -1;
	f->truncated = f->size > p->cfg->max_message_size;
	if (imap_fetch(p->im, uid, f->truncated, &f->raw, &f->len, e) < 0)
		return -1;
	if ((f->identity = message_identity(f->raw, f->len, e)) == NULL ||
	    message_sha256_hex(f->raw, f->len, f->sha256) < 0)
		return err_set(e, "cannot compute the identity of UID %u", uid);
	f->from = message_header(f->raw, f->len, "From", HEADER_TEXT_MAX);
	f->subject = message_header(f->raw, f->len, "Subject", HEADER_TEXT_MAX);
	if (f->truncated)
		snprintf(f->reason, sizeof f->reason,
		    "message of %zu bytes is over max_message_size (%zu bytes)",
		    f->size, p->cfg->max_message_size);
	return 0;
}

/* Store one message, what it means (with the answer it gets, when an
 * ingest is given) and the folder's sync state in one transaction.
 * Returns 1 stored, 0 already there, -1 error; *state gets the final state. */
static int
record(struct pass *p, uint32_t uid, const struct fetched *f, int *state, struct err *e)
{
	struct store_msg m = {
		.message_id = f->identity, .sha256 = f->sha256,
		.raw = (const unsigned char *)f->raw, .raw_len = f->len,
		.size = f->size, .truncated = f->truncated,
		.folder = p->cfg->inbox, .uidvalidity = p->uidvalidity, .uid = uid,
		.received = time(NULL), .from_addr = f->from, .subject = f->subject,
		.state = f->truncated ? MSG_REJECTED : MSG_NEW,
		.reason = f->truncated ? f->reason : NULL,
	};
	uint32_t last = uid > p->last_uid ? uid : p->last_uid;
	enum msg_state final = m.state;
	int64_t id;
	int r;

	if (store_begin(p->st, e) < 0)
		return -1;
	r = store_message_add(p->st, &m, &id, e);
	if (r == 1 && p->in && !f->truncated &&
	    ingest_message(p->in, id, f->raw, f->len, m.received, &final, e) < 0)
		r = -1;
	if (r >= 0 && store_folder_set(p->st, p->cfg->inbox, p->uidvalidity, last, m.received, e) < 0)
		r = -1;
	if (r < 0 || store_commit(p->st, e) < 0) {
		store_rollback(p->st);
		return -1;
	}
	p->last_uid = last;
	*state = r == 1 ? (int)final : -1;
	return r;
}

static void
count(struct pass *p, int stored, int state, const struct fetched *f, uint32_t uid)
{
	if (stored == 0) {
		p->stats->duplicates++;
		log_info("event=duplicate uid=%u msgid=%s", uid, f->identity);
	} else if (f->truncated) {
		p->stats->rejected++;
		log_warn("event=rejected uid=%u msgid=%s size=%zu reason=too-large",
		    uid, f->identity, f->size);
	} else {
		if (state == MSG_REJECTED)
			p->stats->rejected++;
		p->stats->stored++;
		log_info("event=stored uid=%u msgid=%s size=%zu", uid, f->identity, f->size);
	}
}

/* Fetch, record, commit, and only then move. */
static int
take_new(struct pass *p, uint32_t uid, struct err *e)
{
	struct fetched f = { 0 };
	int state = -1, r = fetch_message(p, uid, &f, e);

	if (r == 0 && (r = record(p, uid, &f, &state, e)) >= 0) {
		count(p, r, state, &f, uid);
		r = imap_move(p->im, uid, state == MSG_REJECTED ? p->cfg->rejected
		    : p->cfg->processed, e);
	}
	fetched_free(&f);
	return r < 0 ? -1 : 0;
}

/* A message recorded by an earlier pass that stopped before the move. */
static int
move_recorded(struct pass *p, uint32_t uid, int state, struct err *e)
{
	log_info("event=move-again uid=%u", uid);
	p->stats->duplicates++;
	return imap_move(p->im, uid, state == MSG_REJECTED ? p->cfg->rejected
	    : p->cfg->processed, e);
}

static int
handle_uid(struct pass *p, uint32_t uid, struct err *e)
{
	int state = store_message_state_by_uid(p->st, p->cfg->inbox, p->uidvalidity, uid, e);

	if (state == -2)
		return -1;
	if (state >= 0 && move_recorded(p, uid, state, e) < 0)
		return -1;
	if (state < 0 && take_new(p, uid, e) < 0)
		return -1;
	p->stats->moved++;
	return 0;
}

/* Select the inbox and learn where the last pass left off. A changed
 * UIDVALIDITY means the UIDs we knew are void: everything is looked at
 * again, and the Message-ID keeps the records single. */
static int
start_pass(struct pass *p, struct err *e)
{
	uint32_t known_validity = 0, last = 0;
	int known;

	if (imap_ensure_folder(p->im, p->cfg->processed, e) < 0 ||
	    imap_ensure_folder(p->im, p->cfg->rejected, e) < 0 ||
	    imap_select(p->im, p->cfg->inbox, &p->uidvalidity, e) < 0)
		return -1;
	if ((known = store_folder_get(p->st, p->cfg->inbox, &known_validity, &last, e)) < 0)
		return -1;
	if (known && known_validity != p->uidvalidity) {
		log_warn("event=uidvalidity-changed folder=\"%s\" old=%u new=%u",
		    p->cfg->inbox, known_validity, p->uidvalidity);
		last = 0;
	}
	p->last_uid = last;
	return 0;
}

int
sync_inbox(struct imap *im, struct store *st, struct ingest *in,
    const struct config_imap *cfg, volatile sig_atomic_t *stop, struct sync_stats *stats,
    struct err *e)
{
	struct pass p = { .im = im, .st = st, .in = in, .cfg = cfg, .stats = stats };
	uint32_t *uids = NULL;
	size_t n = 0;
	int r = 0;

	memset(stats, 0, sizeof *stats);
	if (start_pass(&p, e) < 0 || imap_uids(im, &uids, &n, e) < 0)
		return -1;
	stats->seen = (unsigned)n;
	for (size_t i = 0; i < n && r == 0 && !*stop; i++)
		r = handle_uid(&p, uids[i], e);
	free(uids);
	return r;
}
