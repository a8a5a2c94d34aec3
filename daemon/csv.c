#include "buildconf.h"

/*
 * csv — RFC 4180 reader over a buffer.
 *
 * Accepted beyond the letter of the RFC, because spreadsheets write it:
 * LF as well as CRLF line ends (and a lone CR), a UTF-8 byte order mark at the
 * very start (skipped), a quote inside an unquoted field (kept as is), blank
 * lines (empty, or spaces and tabs only: skipped).
 * Refused: an unterminated quoted field, text after a closing quote other than
 * a comma or a line end, and NUL bytes.
 *
 * After an error the reader has skipped to the end of the line where the
 * problem was found, so a caller that wants to report every problem can keep
 * calling csv_next() (an unterminated quote consumes the rest of the input).
 */

#include <stdlib.h>
#include <string.h>

#include "csv.h"

struct csv {
	const char *buf;
	size_t len, pos;
	int line;		/* the line at pos, 1-based */

	char *data;		/* the fields of the current record, NUL-separated */
	size_t data_len, data_cap;
	size_t *offs;		/* start of each field in data */
	char **fields;		/* pointers into data, filled when the record is complete */
	size_t nfields, fields_cap;
};

struct csv *
csv_open_buf(const char *buf, size_t len)
{
	struct csv *c = calloc(1, sizeof *c);

	if (c == NULL)
		return NULL;
	c->buf = buf;
	c->len = buf != NULL ? len : 0;
	c->line = 1;
	if (c->len >= 3 && memcmp(c->buf, "\xEF\xBB\xBF", 3) == 0)
		c->pos = 3;
	return c;
}

void
csv_free(struct csv *c)
{
	if (c == NULL)
		return;
	free(c->data);
	free(c->offs);
	free(c->fields);
	free(c);
}

static int
put_byte(struct csv *c, char ch)
{
	if (c->data_len == c->data_cap) {
		size_t cap = c->data_cap ? c->data_cap * 2 : 256;
		char *p = realloc(c->data, cap);
		if (p == NULL)
			return -1;
		c->data = p;
		c->data_cap = cap;
	}
	c->data[c->data_len++] = ch;
	return 0;
}

static int
start_field(struct csv *c)
{
	if (c->nfields == c->fields_cap) {
		size_t cap = c->fields_cap ? c->fields_cap * 2 : 16;
		size_t *o = realloc(c->offs, cap * sizeof *o);
		if (o == NULL)
			return -1;
		c->offs = o;
		char **f = realloc(c->fields, cap * sizeof *f);
		if (f == NULL)
			return -1;
		c->fields = f;
		c->fields_cap = cap;
	}
	c->offs[c->nfields++] = c->data_len;
	return 0;
}

/* If a line end starts at pos, consume it, count the line and return 1. */
static int
eat_eol(struct csv *c)
{
	if (c->pos >= c->len)
		return 0;
	if (c->buf[c->pos] == '\n') {
		c->pos++;
	} else if (c->buf[c->pos] == '\r') {
		c->pos++;
		if (c->pos < c->len && c->buf[c->pos] == '\n')
			c->pos++;
	} else {
		return 0;
	}
	c->line++;
	return 1;
}

/* Skip to just past the end of the current line (error recovery). */
static void
skip_line(struct csv *c)
{
	while (c->pos < c->len && !eat_eol(c))
		c->pos++;
}

/* Skip lines that are empty or hold only spaces and tabs. */
static void
skip_blank_lines(struct csv *c)
{
	for (;;) {
		size_t p = c->pos;
		while (p < c->len && (c->buf[p] == ' ' || c->buf[p] == '\t'))
			p++;
		if (p < c->len && c->buf[p] != '\n' && c->buf[p] != '\r')
			return;		/* a line with content */
		c->pos = p;
		if (!eat_eol(c))
			return;		/* end of input */
	}
}

int
csv_next(struct csv *c, char ***fields, size_t *nfields, int *line, struct err *e)
{
	skip_blank_lines(c);
	if (line != NULL)
		*line = c->line;
	if (c->pos >= c->len)
		return 0;

	int start_line = c->line;
	c->data_len = 0;
	c->nfields = 0;

	for (;;) {			/* one field per iteration */
		if (start_field(c) < 0)
			goto oom;
		if (c->pos < c->len && c->buf[c->pos] == '"') {
			int quote_line = c->line;
			c->pos++;
			for (;;) {
				if (c->pos >= c->len) {
					c->pos = c->len;
					return err_set(e, "line %d: unterminated quoted field "
					    "(a \" that is never closed)", quote_line);
				}
				char ch = c->buf[c->pos];
				if (ch == '"') {
					if (c->pos + 1 < c->len && c->buf[c->pos + 1] == '"') {
						if (put_byte(c, '"') < 0)
							goto oom;
						c->pos += 2;
						continue;
					}
					c->pos++;
					break;
				}
				if (ch == '\0') {
					int l = c->line;
					skip_line(c);
					return err_set(e, "line %d: NUL byte in the data", l);
				}
				if (ch == '\n' || (ch == '\r' &&
				    (c->pos + 1 >= c->len || c->buf[c->pos + 1] != '\n')))
					c->line++;
				if (put_byte(c, ch) < 0)
					goto oom;
				c->pos++;
			}
			if (c->pos < c->len && c->buf[c->pos] != ',' &&
			    c->buf[c->pos] != '\n' && c->buf[c->pos] != '\r') {
				int l = c->line;
				skip_line(c);
				return err_set(e, "line %d: text after the closing quote of a "
				    "field (a quote inside a field must be doubled: \"\")", l);
			}
		} else {
			while (c->pos < c->len) {
				char ch = c->buf[c->pos];
				if (ch == ',' || ch == '\n' || ch == '\r')
					break;
				if (ch == '\0') {
					int l = c->line;
					skip_line(c);
					return err_set(e, "line %d: NUL byte in the data", l);
				}
				if (put_byte(c, ch) < 0)
					goto oom;
				c->pos++;
			}
		}
		if (put_byte(c, '\0') < 0)
			goto oom;
		if (c->pos < c->len && c->buf[c->pos] == ',') {
			c->pos++;
			continue;
		}
		eat_eol(c);		/* or the end of the input */
		break;
	}

	for (size_t i = 0; i < c->nfields; i++)
		c->fields[i] = c->data + c->offs[i];
	*fields = c->fields;
	*nfields = c->nfields;
	if (line != NULL)
		*line = start_line;
	return 1;
oom:
	c->pos = c->len;
	return err_set(e, "line %d: out of memory", start_line);
}
