/*
 * roster — the cities, contacts, thematic units and bodies of the network.
 *
 * Import from CSV, the kind told by the header line:
 *   cities.csv: city,country,lang,timezone,role_title,contact_email
 *   units.csv:  slug,name_es,name_pt,coordinator_city,subcoordinator_city
 * An import is all or nothing: every row is checked, each problem is written
 * to diag as "file:line: message", and if there was any, nothing is stored.
 */
#ifndef MERCOMAIL_ROSTER_H
#define MERCOMAIL_ROSTER_H

#include <stdio.h>

#include "err.h"
#include "store.h"

/* Returns the number of rows imported, or -1 (with diag lines and e set). */
int roster_import_file(struct store *st, const char *path, FILE *diag, struct err *e);

/* Print the roster for a person: countries, cities and contacts, units and bodies with roles. */
int roster_list(struct store *st, FILE *out, struct err *e);

#endif
