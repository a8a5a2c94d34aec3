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

/* UIDs of every message in the selected folder, ascending. *uids is the
 * caller's to free. */
int imap_uids(struct imap *im, uint32_t **uids, size_t *n, struct err *e);

/* RFC822.SIZE of one message. -1 with e set if the UID is gone. */
int imap_fetch_size(struct imap *im, uint32_t uid, size_t *size, struct err *e);

/* The raw message (header_only: just its header), without setting \Seen.
 * *data is the caller's to free. */
int imap_fetch(struct imap *im, uint32_t uid, int header_only, char **data,
    size_t *len, struct err *e);

/* Move one message of the selected folder to another folder. */
int imap_move(struct imap *im, uint32_t uid, const char *folder, struct err *e);

/*
 * Wait in IDLE for news on the selected folder for at most timeout seconds,
 * or until wake_fd (if >= 0) is readable. Returns 1 on news, 0 on timeout
 * or wake-up, -1 on error.
 */
int imap_idle_wait(struct imap *im, int timeout, int wake_fd, struct err *e);

#endif
