/*
 * trim — cut quoted replies and signatures from a mail body (pure).
 *
 * Two passes, as mail clients write them:
 *  - HTML: cut at the markers clients put around quoted history and
 *    signatures (Gmail gmail_quote / gmail_signature, Outlook divRplyFwdMsg
 *    and the bordered "De:/From:" block, Apple blockquote type="cite" and
 *    AppleMailSignature, Thunderbird moz-cite-prefix / moz-signature).
 *  - text: label each line (blank, quote "> ", attribution "On ... wrote:"
 *    in es/pt/en, possibly wrapped over two lines, "-----Mensaje original-----",
 *    an Outlook "De:/From: ... Enviado:/Sent:" header block, signature "-- ")
 *    and cut on the pattern. Text the sender wrote below a quote is kept.
 * What was cut is returned too, so an operator can see it.
 */
#ifndef MERCOMAIL_TRIM_H
#define MERCOMAIL_TRIM_H

#include "err.h"

struct trim_result {
	char *text;		/* what the sender wrote (UTF-8), caller frees */
	char *cut;		/* what was removed, in order, caller frees ("" if nothing) */
};

/* Text pass. Returns 0, or -1 (out of memory) with e set. */
int trim_text(const char *text, struct trim_result *out, struct err *e);

/* HTML pass: the HTML with quoted history and signatures removed. Caller frees. */
char *trim_html(const char *html);

void trim_result_free(struct trim_result *r);	/* frees the strings, accepts NULL */

#endif
