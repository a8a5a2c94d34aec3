/*
 * auth — may this sender do this? (pure)
 *
 *  - Signed reply addresses: local+TOKEN@domain, where TOKEN carries what
 *    the reply is about (a purpose, an object id, the contact it was sent
 *    to, an expiry) and an HMAC-SHA256 over them with a secret key. Tokens
 *    are lower-case letters, digits and '-', so they survive MTAs that fold
 *    the case of local parts.
 *  - Authentication-Results (RFC 8601): only the header added by our own
 *    border server (its authserv-id) is believed; dkim=pass for the From
 *    domain, or spf=pass for it, is what "authenticated" means.
 *  - Addresses are compared after normalising: angle brackets and blanks
 *    removed, lower-cased.
 */
#ifndef MERCOMAIL_AUTH_H
#define MERCOMAIL_AUTH_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "err.h"

#define AUTH_TOKEN_MAX 96	/* bytes, with the NUL */

struct auth_claim {
	char purpose[16];	/* [a-z]{1,15}: "reply", "rsvp", "vote", "confirm", ... */
	int64_t object;		/* what it is about (a submission, meeting, application id) */
	int64_t contact;	/* the contact it was issued to */
	time_t expires;		/* UTC seconds */
};

enum auth_token_status {
	AUTH_TOKEN_OK,
	AUTH_TOKEN_MALFORMED,	/* not a token at all */
	AUTH_TOKEN_FORGED,	/* the MAC does not match */
	AUTH_TOKEN_EXPIRED
};

/* Make a token for claim with key. Returns 0 or -1 (bad claim) with e set. */
int auth_token_make(const unsigned char *key, size_t keylen, const struct auth_claim *c,
    char out[AUTH_TOKEN_MAX], struct err *e);

/* Check a token at time now; fills *c when the MAC is right (also when expired).
 * Compares the MAC in constant time. */
enum auth_token_status auth_token_check(const unsigned char *key, size_t keylen,
    const char *token, time_t now, struct auth_claim *c);

/* The TOKEN of "local+TOKEN@domain" when the address is local@domain with a
 * tag (delimiter '+'), copied into out; 0 if it has one, -1 if not. */
int auth_address_token(const char *address, const char *local, const char *domain,
    char out[AUTH_TOKEN_MAX]);

/* Normalise an address for comparison into out (lower case, no brackets or
 * blanks). Returns 0, or -1 if it is not a plausible addr-spec. */
int auth_normalize_address(const char *in, char *out, size_t size);

/* The domain part of a normalised address (pointer into it), or NULL. */
const char *auth_address_domain(const char *address);

enum auth_result {
	AUTH_RESULT_NONE,	/* no header from our server: nothing known */
	AUTH_RESULT_PASS,	/* dkim=pass (header.d aligned with from_domain) or spf=pass for it */
	AUTH_RESULT_FAIL	/* our server says neither passed */
};

/* Judge the Authentication-Results header values (all of them, in order) of
 * a mail from from_domain, believing only those whose authserv-id equals
 * authserv_id (case-insensitive). */
enum auth_result auth_results_check(const char *const *values, size_t n,
    const char *authserv_id, const char *from_domain);

#endif
