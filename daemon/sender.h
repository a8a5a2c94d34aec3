/*
 * sender — who wrote a mail, as the roster knows them: the contact, its
 * city and language, and the roles of that city in units and bodies. Also
 * the roster look-ups that form validation needs (cities, units).
 */
#ifndef MERCOMAIL_SENDER_H
#define MERCOMAIL_SENDER_H

#include <stdint.h>

#include "err.h"
#include "form.h"
#include "store.h"

struct sender {
	int64_t contact_id;	/* 0: not in the roster */
	int64_t city_id;	/* 0: no city */
	char address[256];	/* normalised */
	char name[128];		/* the contact's name or title */
	char city[128];
	char lang[3];		/* "es" or "pt"; "" when unknown */
};

/* Find the contact with this (normalised) address: 1 found, 0 not, -1 error.
 * s->address is set in both cases. */
int sender_lookup(struct store *st, const char *address, struct sender *s, struct err *e);

/* The same by contact id. */
int sender_by_contact(struct store *st, int64_t contact_id, struct sender *s, struct err *e);

/* 1 if the sender's city holds role (NULL: any) in the unit or body with
 * slug (NULL: any unit or body of kind, NULL: any kind); 0 if not; -1 error. */
int sender_has_role(struct store *st, const struct sender *s, const char *role,
    const char *slug, const char *kind, struct err *e);

/* Fill lk with look-ups over the roster of st (accent- and case-insensitive). */
void sender_form_lookup(struct store *st, struct form_lookup *lk);

#endif
