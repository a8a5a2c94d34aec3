/*
 * text — small string helpers shared by the pure modules (no I/O): folding
 * for comparison, UTF-8 checks, and a growable string buffer.
 */
#ifndef MERCOMAIL_TEXT_H
#define MERCOMAIL_TEXT_H

#include <stddef.h>

/* Fold for comparison: lower case, Latin accents removed (á→a, ç→c, ñ→n,
 * ã→a ...), runs of blanks collapsed to one space, ends trimmed. Writes at
 * most size bytes with the NUL; returns out. */
char *text_fold(const char *in, char *out, size_t size);

/* 1 if the two strings are equal once folded. */
int text_fold_eq(const char *a, const char *b);

/* ---- UTF-8 ---- */

/* Length (1 to 4) of the well-formed UTF-8 sequence that starts s (n bytes
 * available), or 0 if there is none: overlong forms, surrogates, code points
 * above U+10FFFF and truncated sequences are not well-formed. */
size_t text_utf8_len(const unsigned char *s, size_t n);

/* 1 if the n bytes at s are all well-formed UTF-8 (a NUL byte counts as
 * U+0000), else 0. */
int text_utf8_valid(const char *s, size_t n);

/* ---- growable string buffer ---- */

/*
 * Start with struct textbuf b = { 0 }. The buffer owns p until
 * textbuf_take() hands it to the caller or textbuf_free() releases it.
 * Once anything was added, p holds len bytes and a NUL (p[len] == '\0').
 * Out of memory sets oom, which sticks: later adds do nothing, p keeps what
 * was added before, and textbuf_take() returns NULL. Code that writes into
 * p itself (after textbuf_reserve) sets len and ends it with
 * textbuf_truncate(b, len) or a NUL of its own.
 */
struct textbuf {
	char *p;
	size_t len, cap;	/* cap > len whenever p != NULL (room for the NUL) */
	int oom;
};

/* Make room for add more bytes and the NUL. 0, or -1 if out of memory. */
int textbuf_reserve(struct textbuf *b, size_t add);

/* Append n bytes of s / the string s / one char (n == 0 still allocates, so
 * p is a string afterwards). 0, or -1 if the buffer is out of memory. */
int textbuf_add(struct textbuf *b, const char *s, size_t n);
int textbuf_adds(struct textbuf *b, const char *s);
int textbuf_addc(struct textbuf *b, char c);

/* Shorten to len bytes (no-op if len > b->len) and NUL-terminate. */
void textbuf_truncate(struct textbuf *b, size_t len);

/* The string (caller frees; "" if nothing was added), or NULL if out of
 * memory; b is reset to empty either way. */
char *textbuf_take(struct textbuf *b);

/* Release the buffer and reset it to empty; b may be empty already. */
void textbuf_free(struct textbuf *b);

#endif
