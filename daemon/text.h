/*
 * text — small UTF-8 helpers shared by the modules that compare what people
 * type with what the roster and the forms know (pure).
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

#endif
