/*
 * digest — what is new on a unit's or body's list, mailed to its members.
 *
 * Per list and per cadence (members choose daily, weekly or none), on the
 * schedule of [digest] (daily HH:MM, weekly DAY HH:MM, in the network's
 * time zone). The period of a digest runs from the end of the previous one
 * of that list and cadence (or `digest send`) to the scheduled time; it is
 * recorded in table digests in the same transaction as the queued mails,
 * so a crash or a restart neither skips a period nor sends one twice, and
 * a daemon that was down for days sends one digest covering the gap.
 *
 * Content: new submissions of the period grouped by kind (title, city,
 * an excerpt, reference), meetings of the list in the 30 days after the
 * period with their RSVP tallies, for Board and Council lists the
 * membership applications of the period, and the member cities (for a
 * body: the units) that have sent nothing for [digest] silent_days. A
 * period without submissions or applications sends nothing unless the
 * list says digest_always. Each member gets text and HTML in their language
 * (templates LANG/digest.txt and digest.html), with the list headers.
 */
#ifndef MERCOMAIL_DIGEST_H
#define MERCOMAIL_DIGEST_H

#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include "config.h"
#include "err.h"
#include "store.h"

#define DIGEST_MEETING_DAYS 30

/* The latest scheduled time <= now of cadence ("daily" or "weekly") under
 * the [digest] schedule; -1 with e set on an unknown time zone. */
time_t digest_due(const struct config_digest *dc, const char *cadence, time_t now, struct err *e);

/* Queue the digests that are due at now for every list (what mercomaild
 * does each pass), for the cadences [digest] schedules (daily, weekly; an
 * unset one sends none). *queued gets the mails queued. 0 or -1. */
int digest_run(struct store *st, const struct config *cfg, time_t now, unsigned *queued,
    struct err *e);

/* `digest send`: queue a digest of unit slug now to every member whose mode
 * is not none, for the period since its previous digest. *queued as above;
 * 0, 1 when there is no such unit, -1 on error. */
int digest_send(struct store *st, const struct config *cfg, const char *slug, time_t now,
    unsigned *queued, struct err *e);

/* `digest preview`: print the text (html = 0) or HTML version, in lang, of
 * the digest the members of slug would get now. 0, 1 no such unit, -1 error. */
int digest_preview(struct store *st, const struct config *cfg, const char *slug,
    const char *lang, int html, time_t now, FILE *out, struct err *e);

/* Log a warning for each [list SLUG] of the config that names no unit or
 * body (its times would never be used). */
void digest_check_lists(struct store *st, const struct config *cfg);

/* mercomaild -n: the digest and list texts (LANG/digest.txt and .html,
 * list-done.txt, list-confirm.txt, es and pt) load and name only the values
 * they are given. Each problem goes to diag; returns how many. */
int digest_check_templates(const char *dir, FILE *diag);

#endif
