/*
 * err — the one error convention of mercomail.
 *
 * A function that can fail returns 0 (or a pointer) on success and -1 (or NULL)
 * on failure, and fills the caller-owned struct err with one line that says
 * what went wrong, for a person. The caller decides whether it is fatal.
 * A NULL struct err pointer is accepted everywhere and means "don't care".
 */
#ifndef MERCOMAIL_ERR_H
#define MERCOMAIL_ERR_H

#include <stddef.h>

struct err {
	char msg[256];
};

/* Set the message (printf-style). Always returns -1 so callers can write
 * `return err_set(e, "...")`. */
int err_set(struct err *e, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Prefix the existing message with more context: "context: old message". */
int err_wrap(struct err *e, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Length-bounded string copy that always terminates; returns strlen(src). */
size_t str_copy(char *dst, const char *src, size_t size);

#endif
