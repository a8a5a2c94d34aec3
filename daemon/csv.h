/*
 * csv — RFC 4180 reader (pure): quoted fields, doubled quotes, CRLF or LF,
 * embedded newlines in quotes. Reports the line where each record starts.
 */
#ifndef MERCOMAIL_CSV_H
#define MERCOMAIL_CSV_H

#include <stddef.h>

#include "err.h"

struct csv;

/* Read from a buffer (not copied: it must outlive the reader). */
struct csv *csv_open_buf(const char *buf, size_t len);
void csv_free(struct csv *c);		/* accepts NULL */

/*
 * Next record. Returns 1 with *fields (owned by the reader, valid until the
 * next call) and *nfields set, 0 at the end, -1 on a malformed record
 * (e.g. an unterminated quote) with e set. *line is the 1-based line where
 * the record starts. Blank lines are skipped.
 */
int csv_next(struct csv *c, char ***fields, size_t *nfields, int *line, struct err *e);

#endif
