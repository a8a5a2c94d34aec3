#!/bin/bash
# A server without MOVE (RFC 6851): mercomaild falls back to COPY, \Deleted
# and UID EXPUNGE, still only after the commit, and loses nothing.
set -u
# announce no MOVE (UIDPLUS stays, so only the copied UIDs are expunged)
export HARNESS_IMAP_CAPABILITY="IMAP4rev1 LITERAL+ SASL-IR LOGIN-REFERRALS ID ENABLE IDLE UIDPLUS NAMESPACE CHILDREN UNSELECT"
. "$(dirname "$0")/harness.sh"
. "$(dirname "$0")/common.sh"
start_work
write_config "$CONF"

mailtool gen 30 --prefix nomove >/dev/null

"$MERCOMAILD" -c "$CONF" --once >"$W/daemon.log" 2>&1
check_eq "a pass without MOVE exits 0" 0 $?
check_grep "the daemon saw no MOVE" "event=imap.connect status=ok.* move=0" "$W/daemon.log"
check_eq "30 mails stored" 30 "$(sql 'SELECT count(*) FROM messages')"
check_eq "the inbox is empty (copied, flagged, expunged)" 0 "$(mailtool count INBOX)"
check_eq "30 in Processed" 30 "$(mailtool count Processed)"
"$MERCOMAILD" -c "$CONF" --once >>"$W/daemon.log" 2>&1
check_eq "a second pass changes nothing" "30 0 30" \
	"$(sql 'SELECT count(*) FROM messages') $(mailtool count INBOX) $(mailtool count Processed)"
finish
