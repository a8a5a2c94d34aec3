/*
 * imap — one IMAP session with libetpan: verified TLS (implicit or STARTTLS),
 * login, SELECT with UIDVALIDITY, UID SEARCH / FETCH, MOVE (or COPY, \Deleted
 * and UID EXPUNGE), IDLE.
 *
 * Every function returns 0 / -1 with e set. After a -1, imap_broken() tells
 * whether the connection is gone (the caller reconnects) or the server only
 * refused one command.
 */
#ifndef MERCOMAIL_IMAP_H
#define MERCOMAIL_IMAP_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "err.h"

struct imap;

/* Connect, secure and log in. cfg must outlive the session. */
struct imap *imap_connect(const struct config_imap *cfg, const char *password, struct err *e);
void imap_close(struct imap *im);		/* logs out when it can; accepts NULL */

int imap_broken(const struct imap *im);	/* 1 once the connection is unusable */
int imap_has_idle(const struct imap *im);
int imap_has_move(const struct imap *im);

/* Create the folder unless it exists. */
int imap_ensure_folder(struct imap *im, const char *folder, struct err *e);

/* SELECT a folder (read-write); *uidvalidity gets its UIDVALIDITY. */
int imap_select(struct imap *im, const char *folder, uint32_t *uidvalidity, struct err *e);

struct imap_entry {
	uint32_t uid;
	size_t size;		/* RFC822.SIZE */
};

/* UID and size of every message in the selected folder, ascending by UID,
 * in one command. *list is the caller's to free. */
int imap_list(struct imap *im, struct imap_entry **list, size_t *n, struct err *e);

/* Raw messages fetched together; see imap_fetch_set. */
struct imap_batch;

/*
 * Fetch the messages uids[0..n) (header_only: just their headers) in one
 * command, without setting \Seen. Iterate with imap_batch_next; the bytes
 * stay valid until imap_batch_free. UIDs gone from the server are simply
 * absent. NULL with e set on error.
 */
struct imap_batch *imap_fetch_set(struct imap *im, const uint32_t *uids, size_t n,
    int header_only, struct err *e);
/* The next message: 1 with its uid, data and len, 0 at the end. */
int imap_batch_next(struct imap_batch *b, uint32_t *uid, const char **data, size_t *len);
void imap_batch_free(struct imap_batch *b);		/* accepts NULL */

/* Move messages of the selected folder to another folder in one command. */
int imap_move_set(struct imap *im, const uint32_t *uids, size_t n, const char *folder,
    struct err *e);

/*
 * Wait in IDLE for news on the selected folder for at most timeout seconds,
 * or until wake_fd (if >= 0) is readable. Returns 1 on news, 0 on timeout
 * or wake-up, -1 on error.
 */
int imap_idle_wait(struct imap *im, int timeout, int wake_fd, struct err *e);

#endif
