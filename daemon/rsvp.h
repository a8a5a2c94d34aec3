/*
 * rsvp — what a plain reply to an invite answers (pure).
 *
 * People who do not use the calendar buttons reply in words: "Confirmo",
 * "Vou participar", "No podré asistir", "Talvez". Only the first lines the
 * person wrote count (the caller trims quotes and signatures first), and an
 * answer is taken only when it is clear: a reply that holds words of two
 * different answers, or none, is unclear and the person is asked again.
 */
#ifndef MERCOMAIL_RSVP_H
#define MERCOMAIL_RSVP_H

/* "ACCEPTED", "DECLINED" or "TENTATIVE" (static strings), or NULL when the
 * text gives no clear answer. text is UTF-8 and may be NULL. */
const char *rsvp_from_words(const char *text);

#endif
