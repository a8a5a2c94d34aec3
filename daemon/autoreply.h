/*
 * autoreply — must this mail go unanswered? (pure)
 *
 * Answering automatic mail starts loops between robots (ours and a vacation
 * responder, a bounce, a mailing list), so before mercomail answers anything
 * it asks here. This only decides whether to *answer*: the caller still
 * records and may still process the mail.
 *
 * Not answered (reason in brackets, stable text for logs and metrics):
 *  - our own mail coming back: From is our address (any +tag ignored), or
 *    it carries AUTOREPLY_LOOP_HEADER                      ["own mail"]
 *  - X-Loop, any value                                     ["loop: x-loop"]
 *  - Auto-Submitted other than "no"       ["auto-submitted: auto-replied"]
 *  - Precedence bulk, junk, list or auto_reply            ["precedence: bulk"]
 *  - X-Autoreply, X-Autorespond, any value        ["x-autoreply", "x-autorespond"]
 *  - X-Auto-Response-Suppress naming OOF, All or AutoReply
 *                                                 ["x-auto-response-suppress"]
 *  - any List-* header (List-Id, List-Unsubscribe, List-Post, ...)
 *                                                 ["list-id", "list-post", ...]
 *  - Return-Path empty or <>                               ["return-path: <>"]
 *  - no From at all                                        ["from: none"]
 *  - From or Reply-To local part mailer-daemon, postmaster, noreply,
 *    no-reply, donotreply, do-not-reply (case-insensitive, +tag ignored)
 *                                                 ["sender: mailer-daemon"]
 *  - delivery reports: multipart/report, or a message/delivery-status
 *    part                                                  ["dsn"]
 *  - subjects starting (case- and accent-insensitively) with "Respuesta
 *    automática", "Resposta automática", "Out of Office", "Fuera de la
 *    oficina", "Ausente", "Automatic reply", "Autoreply", "Delivery Status
 *    Notification", "Undelivered Mail Returned to Sender", "Mail delivery
 *    failed", ... as a whole word                ["subject: out of office"]
 * The first rule that matches, in this order, gives the reason.
 */
#ifndef MERCOMAIL_AUTOREPLY_H
#define MERCOMAIL_AUTOREPLY_H

#include <stddef.h>

#include "mime.h"

/* The header mercomail puts on every mail it sends, so that it knows the
 * mail when it comes back (value: anything, e.g. our address). Outgoing
 * mail should also say "Auto-Submitted: auto-replied" (RFC 3834). */
#define AUTOREPLY_LOOP_HEADER "X-Mercomail-Loop"

/* Enough for every reason text. */
#define AUTOREPLY_REASON_MAX 64

/* 1 if m must not be answered, with a short reason copied into reason
 * (size bytes, truncated; reason may be NULL); 0 if it may be answered
 * (reason set to ""). our_address is the address mercomail writes as
 * (may be NULL: then only the loop header says "own mail"). */
int autoreply_check(const struct mime_msg *m, const char *our_address,
    char *reason, size_t size);

/* May one more answer go to a sender that has had sent_last_hour answers
 * in the last hour, with at most max_per_hour allowed? 1 yes, 0 no.
 * max_per_hour 0 means never answer. */
int autoreply_rate_ok(unsigned sent_last_hour, unsigned max_per_hour);

#endif
