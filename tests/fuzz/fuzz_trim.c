/*
 * libFuzzer harness for daemon/trim.c: trim_text and trim_html.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "trim.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *str = malloc(size + 1);
	struct trim_result r = { 0 };
	struct err e = { { 0 } };
	char *h;

	if (str == NULL)
		return 0;
	memcpy(str, data, size);
	str[size] = '\0';

	if (trim_text(str, &r, &e) == 0)
		trim_result_free(&r);

	h = trim_html(str);
	if (h != NULL) {
		/* The pipeline runs the text pass on what the HTML pass kept. */
		struct trim_result r2 = { 0 };

		if (trim_text(h, &r2, &e) == 0)
			trim_result_free(&r2);
		free(h);
	}

	free(str);
	return 0;
}
