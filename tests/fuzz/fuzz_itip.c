/*
 * libFuzzer harness for daemon/ical.c: ical_parse_reply on any bytes (the
 * text/calendar part of a mail from anyone). Checks that a success fills
 * the fields as documented.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ical.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ical_reply r;
	struct err e = { { 0 } };

	if (ical_parse_reply((const char *)data, size, &r, &e) == 0) {
		/* a success has a UID, an address and one of the four answers */
		if (r.uid[0] == '\0' || strchr(r.attendee, '@') == NULL ||
		    (strcmp(r.partstat, "ACCEPTED") != 0 && strcmp(r.partstat, "DECLINED") != 0 &&
		    strcmp(r.partstat, "TENTATIVE") != 0 && strcmp(r.partstat, "DELEGATED") != 0))
			abort();
		for (const char *p = r.attendee; *p; p++)
			if (*p >= 'A' && *p <= 'Z')
				abort();
	} else if (e.msg[0] == '\0') {
		abort();	/* a failure always says why */
	}
	return 0;
}
