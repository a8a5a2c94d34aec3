/*
 * libFuzzer harness for daemon/auth.c. The input is split at newlines:
 *   line 1: a token for auth_token_check
 *   line 2: an address for auth_normalize_address / auth_address_token
 *   the rest: Authentication-Results values for auth_results_check
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "auth.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_LINES 64

static const unsigned char key[] = "fuzzing-key-0123456789abcdef0123";

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf = malloc(size + 1);
	const char *lines[MAX_LINES];
	size_t n = 0, i;
	char *p;
	struct auth_claim c;
	char norm[320], tok[AUTH_TOKEN_MAX];
	const char *dom = "example.org";

	if (buf == NULL)
		return 0;
	memcpy(buf, data, size);
	buf[size] = '\0';

	p = buf;
	lines[n++] = p;
	for (i = 0; i < size && n < MAX_LINES; i++) {
		if (buf[i] == '\n') {
			buf[i] = '\0';
			lines[n++] = buf + i + 1;
		}
	}

	/* Every line is tried as a token and as an address. */
	for (i = 0; i < n; i++) {
		memset(&c, 0, sizeof c);
		(void)auth_token_check(key, sizeof key - 1, lines[i], (time_t)1780000000, &c);
		(void)auth_token_check(key, sizeof key - 1, lines[i], (time_t)0, &c);
		if (auth_normalize_address(lines[i], norm, sizeof norm) == 0)
			(void)auth_address_domain(norm);
		/* A small buffer too: truncation paths. */
		(void)auth_normalize_address(lines[i], norm, 8);
		(void)auth_address_token(lines[i], "secretaria", "example.org", tok);
	}

	/* The From domain comes from line 2 when it is an address. */
	if (n > 1 && auth_normalize_address(lines[1], norm, sizeof norm) == 0 &&
	    auth_address_domain(norm) != NULL)
		dom = auth_address_domain(norm);
	if (n > 2)
		(void)auth_results_check(lines + 2, n - 2, "mx.example.org", dom);
	(void)auth_results_check(lines, n, "mx.example.org", dom);
	(void)auth_results_check(lines, n, lines[0], dom);

	free(buf);
	return 0;
}
