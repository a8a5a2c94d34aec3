#!/bin/bash
# Outages while mercomaild runs in its loop, never restarted:
#  (a) Dovecot crashes in the middle of a fetch and comes back: the daemon
#      logs it, backs off, reconnects by itself (same PID), and in the end
#      every mail is recorded once and answered once, none lost;
#  (b) OpenSMTPD is stopped while answers are going out: they stay queued,
#      deferred with growing delays (logged), and go out once OpenSMTPD is
#      back, each exactly once, without a restart of the daemon;
#  (c) OpenSMTPD is stopped before a digest run (every unit's digest queued
#      by `mercomail digest send`): the digests wait, go out once it is back,
#      and each one is delivered exactly once (copies counted in the
#      recipients' Dovecot mailboxes).
#
#   bash tests/reliability/outage.sh [--long]     (or MERCOMAIL_LONG=1)
#
# The long mode keeps each server down longer (more backoff steps).
set -u
. "$(dirname "$0")/../integration/harness.sh"
. "$(dirname "$0")/../integration/common.sh"
. "$(dirname "$0")/rel.sh"

NA=600		# mails of part (a)
NB=400		# mails of part (b)
DOWN=3		# seconds each server stays down
[ "$REL_LONG" = 1 ] && { NA=1000; NB=1000; DOWN=20; }
STALL=60
echo "# mode: $([ "$REL_LONG" = 1 ] && echo long || echo short): $NA + $NB mails, servers down ${DOWN}s"

rel_start
write_config "$CONF" smtp=yes idle=yes poll_interval=2 answers_per_hour=10000
# A first retry after 1 s instead of 60 keeps (b) short; an older build
# without the key waits the default minute (and says so).
sed -i '/^\[smtp\]/a retry_first = 1' "$CONF"
if ! "$MERCOMAILD" -c "$CONF" -n >/dev/null 2>&1; then
	sed -i '/^retry_first = 1$/d' "$CONF"
	echo "# this build has no [smtp] retry_first: the first retry comes after 60 s"
fi
rel_init_db || { not_ok "init and roster import"; finish; exit; }
logged_since() { tail -n +"$(($1 + 1))" "$LOG" | grep -q -- "$2"; }
inbox_empty() { [ "$(mailtool count INBOX 2>/dev/null)" = 0 ]; }

# --- (a) Dovecot crashes in the middle of a fetch ---------------------------------
rel_fill "$NA" oa$$
rel_daemon_start
pid=$DPID
# a group of 100 is committed, the next one is being fetched: crash now
started() { [ "$(n_messages)" -ge 100 ] || ! rel_daemon_alive; }
rel_wait_until "$STALL" started
sleep "0.0$((RANDOM % 10))"
at=$(n_messages)
mark=$(wc -l <"$LOG")
harness_crash_dovecot
echo "# (a) Dovecot crashed with $at of $NA mails recorded"
if [ "$at" -lt "$NA" ]; then ok "(a) Dovecot went down in the middle of the pass ($at of $NA recorded)"
else not_ok "(a) the pass ended before Dovecot went down: inconclusive"; fi
sleep "$DOWN"
if logged_since "$mark" "event=sync status=failed\|event=imap.connect status=failed"; then
	ok "(a) the lost server is logged"
else not_ok "(a) no failure logged while Dovecot was down"; fi
check_eq "(a) backoffs logged while Dovecot was down" yes \
	"$(logged_since "$mark" 'event=backoff seconds=' && echo yes || echo no)"
echo "# (a) backoff while down: $(tail -n +"$((mark + 1))" "$LOG" | grep -o 'event=backoff seconds=[0-9]*' | cut -d= -f3 | tr '\n' ' ')"
harness_start_dovecot
t_up=$SECONDS
done_a() { [ "$(n_messages)" -ge "$NA" ] && [ "$(n_queued)" = 0 ] && [ "$(n_sent)" -ge "$NA" ]; }
if rel_wait_until "$STALL" done_a && rel_wait_until "$STALL" inbox_empty; then
	ok "(a) every mail taken in after Dovecot came back ($((SECONDS - t_up)) s)"
else not_ok "(a) stuck at $(n_messages) mails, $(n_sent) answers sent"; fi
check_eq "(a) the same daemon (pid $pid) did it" yes "$(rel_daemon_alive && [ "$DPID" = "$pid" ] && echo yes || echo no)"
check_eq "(a) it reconnected by itself" yes \
	"$(logged_since "$mark" 'event=imap.connect status=ok' && echo yes || echo no)"
check_eq "(a) messages recorded" "$NA" "$(q 'SELECT count(*) FROM messages')"
check_eq "(a) distinct Message-IDs" "$NA" "$(q 'SELECT count(DISTINCT message_id) FROM messages')"
check_eq "(a) submissions" "$NA" "$(q 'SELECT count(*) FROM submissions')"
mailtool list Processed >"$W/processed-a.txt"
echo "# (a) Processed: $(wc -l <"$W/processed-a.txt") mails, $(cut -f2 "$W/processed-a.txt" | sort -u | wc -l) distinct"
check_eq "(a) Processed holds every mail" "$NA" "$(cut -f2 "$W/processed-a.txt" | sort -u | wc -l)"
# (Dovecot killed inside its MOVE may have copied a mail without removing
# it from the inbox; the next pass moves it again: a server-side copy)
rel_wait_delivered "$NA" 120 || not_ok "(a) OpenSMTPD did not deliver everything within 120 s"
rel_answers >"$W/answers-a.txt"
rel_check_answers "$W/answers-a.txt" "oa$$" "$NA" 0

# --- (b) OpenSMTPD stopped while answers go out -------------------------------------
sent0=$(n_sent)
mark=$(wc -l <"$LOG")
rel_fill "$NB" ob$$	# IDLE brings them in
sending() { [ "$(n_sent)" -gt "$sent0" ] || ! rel_daemon_alive; }
rel_wait_until "$STALL" sending
harness_stop_smtpd
t_down=$SECONDS
gone=$(( $(n_sent) - sent0 ))
echo "# (b) OpenSMTPD stopped after $gone of $NB answers"
if [ "$gone" -lt "$NB" ]; then ok "(b) OpenSMTPD went down while answers were going out ($gone of $NB sent)"
else not_ok "(b) every answer went out before OpenSMTPD stopped: inconclusive"; fi
sleep "$DOWN"
# Every mail taken in and the log quiet: from here on only the outbox's own
# retry timer can make the daemon send (no new mail will wake it).
quiet() {
	local n
	n=$(wc -l <"$LOG")
	[ "$(n_messages)" -ge $((NA + NB)) ] && logged_since "$mark" "event=send status=deferred" &&
		sleep 2 && [ "$(wc -l <"$LOG")" = "$n" ]
}
rel_wait_until "$STALL" quiet || not_ok "(b) the daemon did not settle while OpenSMTPD was down"
queued_down=$(n_queued)
check_eq "(b) answers stay queued while OpenSMTPD is down" yes "$([ "$queued_down" -gt 0 ] && echo yes || echo no)"
check_eq "(b) nothing given up on" 0 "$(q "SELECT count(*) FROM outbox WHERE state = 'failed'")"
check_grep "(b) the deferral is logged" "event=send status=deferred" "$LOG"
tries=$(q "SELECT max(attempts) FROM outbox WHERE state = 'queued'")
waits=$(q "SELECT max(next_attempt) - strftime('%s','now') FROM outbox WHERE state = 'queued'")
echo "# (b) while down ($((SECONDS - t_down)) s): $queued_down queued, most attempts on one mail: $tries, its next try in ${waits}s"
# with a first retry after 1 s, the daemon has tried again by itself while
# OpenSMTPD was down, each time after a longer wait (1, 2, 4 ... s)
if grep -q '^retry_first = 1$' "$CONF"; then
	check_eq "(b) retried by itself while OpenSMTPD was down (attempts >= 2)" yes "$([ "${tries:-0}" -ge 2 ] && echo yes || echo no)"
fi
harness_start_smtpd
t_up=$SECONDS
done_b() { [ "$(n_queued)" = 0 ] && [ "$(n_sent)" -ge $((NA + NB)) ]; }
if rel_wait_until "$STALL" done_b; then
	ok "(b) the queued answers went out $((SECONDS - t_up)) s after OpenSMTPD came back"
else not_ok "(b) still $(n_queued) queued $((SECONDS - t_up)) s after OpenSMTPD came back"; fi
check_eq "(b) the same daemon (pid $pid), never restarted" yes "$(rel_daemon_alive && [ "$DPID" = "$pid" ] && echo yes || echo no)"
check_eq "(b) messages recorded" $((NA + NB)) "$(q 'SELECT count(*) FROM messages')"
check_eq "(b) outbox: one answer per submission, all sent" "$((NA + NB)) $((NA + NB))" \
	"$(q "SELECT count(DISTINCT message_id) || ' ' || sum(state = 'sent') FROM outbox")"
rel_wait_delivered $((NA + NB)) 120 || not_ok "(b) OpenSMTPD did not deliver everything within 120 s"
rel_answers >"$W/answers-b.txt"
rel_check_answers "$W/answers-b.txt" "ob$$" "$NB" 0 1

# --- (c) OpenSMTPD stopped during a digest run -------------------------------------
harness_stop_smtpd
units=$(q "SELECT slug FROM units WHERE id IN (SELECT unit_id FROM unit_members) ORDER BY slug")
for u in $units; do
	"$MERCOMAIL" -c "$CONF" digest send "$u" >>"$W/digest.out" 2>&1 || not_ok "(c) digest send $u"
done
nd=$(q "SELECT count(*) FROM outbox WHERE purpose = 'digest'")
echo "# (c) $nd digests of $(echo $units | wc -w) lists queued with OpenSMTPD down"
check_eq "(c) digests were queued" yes "$([ "${nd:-0}" -gt 0 ] && echo yes || echo no)"
mark=$(wc -l <"$LOG")
# a mail wakes the daemon from IDLE (over IMAP: SMTP is down); its answer waits too
printf 'From: %s\r\nTo: %s\r\nSubject: hola\r\nMessage-ID: <oc%s@test.example>\r\n\r\nhola\r\n' \
	"${REL_SENDERS[0]}" "$HARNESS_USER" "$$" >"$W/wake.eml"
mailtool append INBOX "$W/wake.eml" >/dev/null
# (a failed connection defers the round: the first mail tried counts the attempt)
deferred_digests() {
	logged_since "$mark" "event=send status=deferred" &&
		[ "$(q "SELECT count(*) FROM outbox WHERE purpose = 'digest' AND attempts > 0")" -gt 0 ] &&
		[ "$(q "SELECT count(*) FROM outbox WHERE purpose = 'digest' AND state = 'queued'")" = "$nd" ]
}
if rel_wait_until "$STALL" deferred_digests; then ok "(c) the daemon tried the digests, deferred them and keeps them queued"
else not_ok "(c) digests not tried while OpenSMTPD was down"; fi
sleep "$DOWN"
harness_start_smtpd
t_up=$SECONDS
done_c() { [ "$(n_queued)" = 0 ]; }
if rel_wait_until "$STALL" done_c; then
	ok "(c) the digests went out $((SECONDS - t_up)) s after OpenSMTPD came back"
else not_ok "(c) still $(n_queued) queued $((SECONDS - t_up)) s after OpenSMTPD came back"; fi
check_eq "(c) every digest sent, none failed" "$nd" "$(q "SELECT count(*) FROM outbox WHERE purpose = 'digest' AND state = 'sent'")"
check_eq "(c) the same daemon (pid $pid), never restarted" yes "$(rel_daemon_alive && [ "$DPID" = "$pid" ] && echo yes || echo no)"
rel_wait_delivered $((NA + NB + nd)) 120 || not_ok "(c) OpenSMTPD did not deliver the digests within 120 s"
rel_answers >"$W/answers-c.txt"
q "SELECT msgid FROM outbox WHERE purpose = 'digest'" >"$W/digest-ids.txt"
copies=$(awk -F'\t' 'NR == FNR { want[$1] = 1; next } ($3 in want) { n[$3]++ }
	END { one = 0; other = 0; for (m in want) if (n[m] == 1) one++; else other++; print one, other }' \
	"$W/digest-ids.txt" "$W/answers-c.txt")
check_eq "(c) each digest delivered exactly once" "$nd 0" "$copies"

rel_daemon_stop
check_eq "mercomaild stops cleanly at the end" 0 "$DRC"
check_eq "PRAGMA integrity_check" ok "$(q 'PRAGMA integrity_check')"
if grep -q 'AddressSanitizer\|runtime error:\|LeakSanitizer' "$LOG"; then
	not_ok "sanitizer report in the daemon log"
else ok "no sanitizer report"; fi
[ "$FAILED" = 0 ] || { echo "# daemon log (last 30 lines):"; tail -n 30 "$LOG" | sed 's/^/#   /'; }
finish
