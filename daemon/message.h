/*
 * message — the identity of a raw mail (pure): its Message-ID or, when it has
 * none, "sha256:<hex>" of the raw bytes; and a few header values for lists.
 */
#ifndef MERCOMAIL_MESSAGE_H
#define MERCOMAIL_MESSAGE_H

#include <stddef.h>

#include "err.h"

/* Hex SHA-256 of data into out[65]. Returns 0 / -1. */
int message_sha256_hex(const void *data, size_t len, char out[65]);

/* The end of the header block (offset of the body), or len if none. */
size_t message_header_len(const char *raw, size_t len);

/*
 * The unfolded value of the first header called name (case-insensitive),
 * with CR/LF and NUL removed and surrounding blanks trimmed, at most max
 * bytes. Returns an allocated string the caller frees, or NULL if absent.
 */
char *message_header(const char *raw, size_t len, const char *name, size_t max);

/*
 * The identity used for deduplication: the Message-ID (with its angle
 * brackets, if it has a sane one) or "sha256:<hex>" of the raw bytes.
 * Returns an allocated string the caller frees, or NULL on error.
 */
char *message_identity(const char *raw, size_t len, struct err *e);

#endif
