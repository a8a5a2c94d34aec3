/*
 * reminder — the reminders mercomail sends by itself, through the outbox:
 *
 *  - activity reports: a thematic unit (kind 'unit') whose last 'informe'
 *    submission is older than [governance] report_period_days (default 182,
 *    a semester) gets a reminder to the contacts of its coordinator and
 *    subcoordinator cities, then one more [governance] reminder_repeat_days
 *    (default 7) after the first, never more than two per period. A period
 *    is the window since the unit's last report, or since the reminder job
 *    first saw the unit (table reminder_units) when it never sent one.
 *  - meeting answers: an invitee still NEEDS-ACTION when a confirmed
 *    meeting starts within REMINDER_RSVP_DAYS gets one reminder with the
 *    RSVP words and a reply address signed like the invite's (purpose
 *    "rsvp", object the meeting, the invitee's contact), so a plain reply
 *    records the answer (ingest_meeting.c). Not for a meeting created less
 *    than a day before: its invite is news enough.
 *
 * Each mail is in the recipient's language (templates LANG/reminder-report.txt
 * and reminder-rsvp.txt), says Auto-Submitted: auto-generated and carries
 * the loop header; nobody who left the unit's list gets one. Each is
 * recorded in table reminders (kind, object, recipient, period, round;
 * UNIQUE) in the same transaction as its outbox row, so a second pass, a
 * crash or a restart never sends one twice.
 */
#ifndef MERCOMAIL_REMINDER_H
#define MERCOMAIL_REMINDER_H

#include <stdio.h>
#include <time.h>

#include "config.h"
#include "err.h"
#include "store.h"

#define REMINDER_RSVP_DAYS 3	/* days before a meeting's start */

/* Queue every reminder due at now (what mercomaild does each pass, and
 * `mercomail reminders run`). *queued gets the mails queued. Nothing
 * without [smtp] from. 0, or -1 with e set (what was committed stays). */
int reminder_run(struct store *st, const struct config *cfg, time_t now, unsigned *queued,
    struct err *e);

/* mercomaild -n: LANG/reminder-report.txt and reminder-rsvp.txt (es, pt)
 * load and name only the values they are given. Each problem goes to diag;
 * returns how many. */
int reminder_check_templates(const char *dir, FILE *diag);

#endif
