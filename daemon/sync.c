#include "buildconf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "message.h"
#include "mime.h"
#include "sync.h"

#define HEADER_TEXT_MAX 998		/* the RFC 5322 line limit is plenty for a listing */
#define GROUP_MAX 100			/* messages fetched, committed and moved together */
#define GROUP_BYTES (512 * 1024)	/* ... and their bytes in memory at once */

struct pass {
	struct imap *im;
	struct store *st;
	struct ingest *in;
	const struct config_imap *cfg;
	uint32_t uidvalidity;
	uint32_t last_uid;
	struct sync_stats *stats;
	volatile sig_atomic_t *stop;	/* SIGTERM: finish the current message, then stop */
};

/* Where the messages of one group go once their records are committed. */
struct moves {
	uint32_t processed[GROUP_MAX], rejected[GROUP_MAX];
	size_t nprocessed, nrejected;
};

static void
move_later(struct moves *mv, uint32_t uid, int state)
{
	if (state == MSG_REJECTED)
		mv->rejected[mv->nrejected++] = uid;
	else
		mv->processed[mv->nprocessed++] = uid;
}

/* One fetched message and what we learnt of it; owns its strings. */
struct fetched {
	const char *raw;		/* owned by the IMAP batch */
	size_t len, size;
	int truncated;
	char *identity, *from, *subject;
	char sha256[65];
	char reason[160];
};

static void
fetched_free(struct fetched *f)
{
	free(f->identity);
	free(f->from);
	free(f->subject);
}

/* A header for listings, RFC 2047-decoded to UTF-8 (CR/LF never survive). */
static char *
decoded_header(const struct fetched *f, const char *name)
{
	char *raw = message_header(f->raw, f->len, name, HEADER_TEXT_MAX), *text;

	if (raw == NULL)
		return NULL;
	text = mime_decode_header(raw);
	free(raw);
	return text;
}

static int
describe(struct pass *p, uint32_t uid, struct fetched *f, struct err *e)
{
	if ((f->identity = message_identity(f->raw, f->len, e)) == NULL ||
	    message_sha256_hex(f->raw, f->len, f->sha256) < 0)
		return err_set(e, "cannot compute the identity of UID %u", uid);
	f->from = decoded_header(f, "From");
	f->subject = decoded_header(f, "Subject");
	if (f->truncated)
		snprintf(f->reason, sizeof f->reason,
		    "message of %zu bytes is over max_message_size (%zu bytes)",
		    f->size, p->cfg->max_message_size);
	return 0;
}

static void
count(struct pass *p, int stored, int state, const struct fetched *f, uint32_t uid)
{
	if (stored == 0) {
		p->stats->duplicates++;
		log_info("event=duplicate uid=%u msgid=%s", uid, f->identity);
		return;
	}
	p->stats->stored++;
	if (state == MSG_REJECTED)
		p->stats->rejected++;
	else if (state == MSG_RECORDED)
		p->stats->recorded++;
	else if (state == MSG_HELD)
		p->stats->held++;
	else if (state == MSG_IGNORED)
		p->stats->ignored++;
	if (f->truncated)
		log_warn("event=rejected uid=%u msgid=%s size=%zu reason=too-large",
		    uid, f->identity, f->size);
	else
		log_info("event=stored uid=%u msgid=%s size=%zu", uid, f->identity, f->size);
}

/* Store one message and what it means (with the answer it gets, when an
 * ingest is given), inside the group's transaction. */
static int
record(struct pass *p, uint32_t uid, struct fetched *f, struct moves *mv, struct err *e)
{
	struct store_msg m;
	enum msg_state final;
	int64_t id;
	int r;

	if (describe(p, uid, f, e) < 0)
		return -1;
	m = (struct store_msg){
		.message_id = f->identity, .sha256 = f->sha256,
		.raw = (const unsigned char *)f->raw, .raw_len = f->len,
		.size = f->size, .truncated = f->truncated,
		.folder = p->cfg->inbox, .uidvalidity = p->uidvalidity, .uid = uid,
		.received = time(NULL), .from_addr = f->from, .subject = f->subject,
		.state = f->truncated ? MSG_REJECTED : MSG_NEW,
		.reason = f->truncated ? f->reason : NULL,
	};
	final = m.state;
	if ((r = store_message_add(p->st, &m, &id, e)) < 0)
		return -1;
	if (r == 1 && p->in && !f->truncated &&
	    ingest_message(p->in, id, f->raw, f->len, m.received, &final, e) < 0)
		return -1;
	count(p, r, (int)final, f, uid);
	move_later(mv, uid, r == 1 ? (int)final : MSG_NEW);
	if (uid > p->last_uid)
		p->last_uid = uid;
	return 0;
}

/* Record every message of a fetched batch; sizes from the listing. */
static int
record_batch(struct pass *p, struct imap_batch *b, const struct imap_entry *g, size_t n,
    int truncated, struct moves *mv, struct err *e)
{
	struct fetched f;
	uint32_t uid;

	memset(&f, 0, sizeof f);
	while (!*p->stop && imap_batch_next(b, &uid, &f.raw, &f.len)) {
		int r;
		f.truncated = truncated;
		f.size = f.len;
		for (size_t i = 0; i < n; i++)
			if (g[i].uid == uid)
				f.size = g[i].size;
		r = record(p, uid, &f, mv, e);
		fetched_free(&f);
		memset(&f, 0, sizeof f);
		if (r < 0)
			return -1;
	}
	return 0;
}

/* Sort a group: recorded by an earlier pass that stopped before its move
 * (only moved now), over the size limit (header only), or new. */
static int
triage(struct pass *p, const struct imap_entry *g, size_t n, uint32_t *full, size_t *nfull,
    uint32_t *head, size_t *nhead, struct moves *mv, struct err *e)
{
	*nfull = *nhead = 0;
	for (size_t i = 0; i < n; i++) {
		int state = store_message_state_by_uid(p->st, p->cfg->inbox, p->uidvalidity,
		    g[i].uid, e);
		if (state == -2)
			return -1;
		if (state >= 0) {
			log_info("event=move-again uid=%u", g[i].uid);
			p->stats->duplicates++;
			move_later(mv, g[i].uid, state);
		} else if (g[i].size > p->cfg->max_message_size)
			head[(*nhead)++] = g[i].uid;
		else
			full[(*nfull)++] = g[i].uid;
	}
	return 0;
}

/* Fetch (one command), record (one transaction), then move (one command
 * per folder): the move comes only after the commit. */
static int
do_group(struct pass *p, const struct imap_entry *g, size_t n, struct err *e)
{
	uint32_t full[GROUP_MAX], head[GROUP_MAX];
	size_t nfull, nhead;
	struct moves mv = { .nprocessed = 0 };
	struct imap_batch *bf = NULL, *bh = NULL;
	struct sync_stats before = *p->stats;	/* a rolled-back group counts nothing */
	int r = -1;

	if (triage(p, g, n, full, &nfull, head, &nhead, &mv, e) < 0)
		return -1;
	if ((nfull && (bf = imap_fetch_set(p->im, full, nfull, 0, e)) == NULL) ||
	    (nhead && (bh = imap_fetch_set(p->im, head, nhead, 1, e)) == NULL))
		goto done;
	if (store_begin(p->st, e) < 0)
		goto done;
	if ((bf && record_batch(p, bf, g, n, 0, &mv, e) < 0) ||
	    (bh && record_batch(p, bh, g, n, 1, &mv, e) < 0) ||
	    store_folder_set(p->st, p->cfg->inbox, p->uidvalidity, p->last_uid, time(NULL), e) < 0 ||
	    store_commit(p->st, e) < 0) {
		store_rollback(p->st);
		*p->stats = before;
		goto done;
	}
	imap_batch_free(bf);
	imap_batch_free(bh);
	bf = bh = NULL;
	if (imap_move_set(p->im, mv.processed, mv.nprocessed, p->cfg->processed, e) < 0 ||
	    imap_move_set(p->im, mv.rejected, mv.nrejected, p->cfg->rejected, e) < 0)
		goto done;
	p->stats->moved += (unsigned)(mv.nprocessed + mv.nrejected);
	r = 0;
done:
	imap_batch_free(bf);
	imap_batch_free(bh);
	return r;
}

/* The end of the group that starts at i: at most GROUP_MAX messages and
 * GROUP_BYTES bytes (a single bigger message goes alone). */
static size_t
group_end(const struct pass *p, const struct imap_entry *l, size_t i, size_t n)
{
	size_t bytes = 0, j = i;

	while (j < n && j - i < GROUP_MAX) {
		size_t sz = l[j].size > p->cfg->max_message_size ? 0 : l[j].size;
		if (j > i && bytes + sz > GROUP_BYTES)
			break;
		bytes += sz;
		j++;
	}
	return j;
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
	struct pass p = { .im = im, .st = st, .in = in, .cfg = cfg, .stats = stats,
	    .stop = stop };
	struct imap_entry *list = NULL;
	size_t n = 0, j;
	int r = 0;

	memset(stats, 0, sizeof *stats);
	if (start_pass(&p, e) < 0 || imap_list(im, &list, &n, e) < 0)
		return -1;
	stats->seen = (unsigned)n;
	for (size_t i = 0; i < n && r == 0 && !*stop; i = j) {
		j = group_end(&p, list, i, n);
		r = do_group(&p, list + i, j - i, e);
	}
	free(list);
	return r;
}
