/*
 * libFuzzer harness for daemon/mime.c: mime_parse, mime_html_to_text and
 * mime_decode_header on arbitrary bytes.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mime.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* An exact-size copy (no NUL) so that ASan sees any read past len. */
	char *raw = malloc(size ? size : 1);
	char *str = malloc(size + 1);
	struct err e = { { 0 } };
	struct mime_msg *m;
	char *s;

	if (raw == NULL || str == NULL) {
		free(raw);
		free(str);
		return 0;
	}
	memcpy(raw, data, size);
	memcpy(str, data, size);
	str[size] = '\0';

	m = mime_parse(raw, size, &e);
	if (m != NULL) {
		(void)mime_header(m, "Subject", 0);
		(void)mime_header(m, "Authentication-Results", 1);
		if (m->html != NULL) {
			s = mime_html_to_text(m->html, strlen(m->html));
			free(s);
		}
		mime_msg_free(m);
	}

	s = mime_html_to_text(raw, size);
	free(s);

	/* The string APIs see the input up to its first NUL. */
	s = mime_decode_header(str);
	free(s);
	s = mime_to_utf8(raw, size, "utf-8");
	free(s);
	s = mime_to_utf8(raw, size, NULL);
	free(s);

	free(raw);
	free(str);
	return 0;
}
