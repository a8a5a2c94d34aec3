/*
 * libFuzzer harness for daemon/bounce.c: the input is a whole mail, as a
 * delivery report would arrive in the inbox. bounce_parse must never read
 * past the input (it is not NUL-terminated here) nor break its own limits.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bounce.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* an exact-size copy, so ASan sees any read past the end */
	char *buf = malloc(size ? size : 1);
	struct bounce b;

	if (buf == NULL)
		return 0;
	memcpy(buf, data, size);
	bounce_parse(buf, size, &b);
	if (b.nrcpt > BOUNCE_MAX_RCPT || strlen(b.orig_msgid) >= sizeof b.orig_msgid)
		abort();
	for (size_t i = 0; i < b.nrcpt; i++)
		if (strlen(b.rcpt[i].address) >= sizeof b.rcpt[i].address ||
		    strchr(b.rcpt[i].diagnostic, '\n') != NULL)
			abort();
	free(buf);
	return 0;
}
