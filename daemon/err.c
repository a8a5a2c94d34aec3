#include "buildconf.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "err.h"

int
err_set(struct err *e, const char *fmt, ...)
{
	va_list ap;

	if (e == NULL)
		return -1;
	va_start(ap, fmt);
	vsnprintf(e->msg, sizeof e->msg, fmt, ap);
	va_end(ap);
	return -1;
}

int
err_wrap(struct err *e, const char *fmt, ...)
{
	char prefix[sizeof e->msg], old[sizeof e->msg];
	va_list ap;

	if (e == NULL)
		return -1;
	memcpy(old, e->msg, sizeof old);
	va_start(ap, fmt);
	vsnprintf(prefix, sizeof prefix, fmt, ap);
	va_end(ap);
	/* Truncation is fine: the message is for a person. */
	size_t n = str_copy(e->msg, prefix, sizeof e->msg);
	if (n + 2 < sizeof e->msg) {
		memcpy(e->msg + n, ": ", 3);
		str_copy(e->msg + n + 2, old, sizeof e->msg - n - 2);
	}
	return -1;
}

size_t
str_copy(char *dst, const char *src, size_t size)
{
	size_t len = strlen(src);

	if (size > 0) {
		size_t n = len < size - 1 ? len : size - 1;
		memcpy(dst, src, n);
		dst[n] = '\0';
	}
	return len;
}
