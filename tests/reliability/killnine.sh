#!/bin/bash
# kill -9: 1,000 submissions from roster contacts wait in the inbox; mercomaild
# runs in its real loop (IDLE, answers through OpenSMTPD into the senders'
# Dovecot mailboxes) and is killed with SIGKILL at random moments, then
# started again, round after round (5 rounds; 25 in the long mode), and a
# last time until the inbox and the outbox are empty. Then: every mail
# recorded exactly once, every submission answered exactly once (counted in
# the senders' mailboxes by In-Reply-To; the outbox's documented resend
# window is reported mail by mail, not hidden), no answer left queued, the
# database intact, the inbox empty and Processed holding the 1,000.
#
#   bash tests/reliability/killnine.sh [--long]     (or MERCOMAIL_LONG=1)
#
# Kill moments are drawn as points of progress (mails recorded + answers
# sent, 0..2N) plus a random delay of 0-300 ms, so they fall into fetching,
# recording, moving and sending alike whatever the speed of the build.
set -u
. "$(dirname "$0")/../integration/harness.sh"
. "$(dirname "$0")/../integration/common.sh"
. "$(dirname "$0")/rel.sh"

N=1000
TAG=kn$$
ROUNDS=5
[ "$REL_LONG" = 1 ] && ROUNDS=25
STALL=60	# seconds without any progress that count as "stuck"
echo "# mode: $([ "$REL_LONG" = 1 ] && echo long || echo short), $ROUNDS kill rounds, $N submissions"

rel_start
write_config "$CONF" smtp=yes idle=yes poll_interval=2 answers_per_hour=10000
rel_init_db || { not_ok "init and roster import"; finish; exit; }
rel_fill "$N" "$TAG"
check_eq "the inbox holds $N submissions" "$N" "$(mailtool count INBOX)"

# Kill points: ROUNDS random progress values, in order.
mapfile -t points < <(for _ in $(seq "$ROUNDS"); do echo $(( (RANDOM * 32768 + RANDOM) % (2 * N) )); done | sort -n)
t_start=$(now_ms)
during_send=0
printf '# %-5s %-9s %-9s %-8s %-8s %-9s %s\n' round "point" "killed" "+ms" "mails" "answers" "last log line"
for r in $(seq "$ROUNDS"); do
	point=${points[r - 1]}
	m0=$(n_messages)
	s0=$(n_sent)
	mark=$(wc -l <"$LOG")
	rel_daemon_start
	t0=$(now_ms)
	reached() { [ "$(progress)" -ge "$point" ] || ! rel_daemon_alive; }
	if ! rel_wait_until "$STALL" reached; then
		not_ok "round $r: no progress for ${STALL}s (at $(progress) of $((2 * N)))"
		tail -n 20 "$LOG" | sed 's/^/#   /'
		break
	fi
	if ! rel_daemon_alive; then
		not_ok "round $r: mercomaild exited by itself"
		tail -n 20 "$LOG" | sed 's/^/#   /'
		break
	fi
	sleep "0.$(printf '%03d' $((RANDOM % 300)))"
	kill -KILL "$DPID"
	wait "$DPID" 2>/dev/null
	t_kill=$(( $(now_ms) - t0 ))
	last=$(tail -n +"$((mark + 1))" "$LOG" | grep -v '^#' | tail -n 1 | grep -o 'event=[a-z.]*\( status=[a-z]*\)\?' | head -n 1)
	# a crash while answers were going out may resend one (the window)
	case $last in event=sent* | event=send* | "event=sync status=ok" | event=outbox*) during_send=$((during_send + 1)) ;; esac
	printf '# %-5s %-9s %-9s %-8s %-8s %-9s %s\n' "$r" "$point" "$(progress)" "$t_kill" \
		"+$(( $(n_messages) - m0 ))" "+$(( $(n_sent) - s0 ))" "${last:-(none)}"
done
echo "# kills while answers were being sent: $during_send"

# The last run: until every mail is recorded and moved and every answer sent.
rel_daemon_start
final_pid=$DPID
done_all() { [ "$(n_messages)" -ge "$N" ] && [ "$(n_queued)" = 0 ] && [ "$(n_sent)" -ge "$N" ]; }
if rel_wait_until "$STALL" done_all; then ok "the last run finishes the work"
else not_ok "the last run got stuck at $(n_messages) mails, $(n_sent) sent, $(n_queued) queued"; fi
inbox_empty() { [ "$(mailtool count INBOX 2>/dev/null)" = 0 ]; }
rel_wait_until "$STALL" inbox_empty
rel_daemon_stop
check_eq "mercomaild stops cleanly at the end (SIGTERM, pid $final_pid)" 0 "$DRC"
echo "# total time of the kill rounds and the last run: $(( $(now_ms) - t_start )) ms"

# --- what was recorded
check_eq "messages recorded" "$N" "$(q 'SELECT count(*) FROM messages')"
check_eq "distinct Message-IDs" "$N" "$(q 'SELECT count(DISTINCT message_id) FROM messages')"
check_eq "all of them this test's mails" "$N" "$(q "SELECT count(*) FROM messages WHERE message_id LIKE '<$TAG-%'")"
check_eq "every mail recorded as a submission" "$N" "$(q "SELECT count(*) FROM messages WHERE state = 'recorded'")"
check_eq "submissions" "$N" "$(q 'SELECT count(*) FROM submissions')"
check_eq "one answer queued per submission" "$N" "$(q 'SELECT count(DISTINCT message_id) FROM outbox')"
check_eq "no submission with two answers in the outbox" 0 "$(q 'SELECT count(*) FROM (SELECT message_id FROM outbox GROUP BY message_id HAVING count(*) > 1)')"
check_eq "outbox: nothing queued" 0 "$(q "SELECT count(*) FROM outbox WHERE state = 'queued'")"
check_eq "outbox: nothing failed" 0 "$(q "SELECT count(*) FROM outbox WHERE state = 'failed'")"
check_eq "PRAGMA integrity_check" ok "$(q 'PRAGMA integrity_check')"

# --- the mailboxes
check_eq "the IMAP inbox is empty" 0 "$(mailtool count INBOX)"
mailtool list Processed >"$W/processed.txt"
processed=$(wc -l <"$W/processed.txt")
distinct=$(cut -f2 "$W/processed.txt" | sort -u | wc -l)
echo "# Processed: $processed mails, $distinct distinct Message-IDs"
check_eq "Processed holds every mail (distinct Message-IDs)" "$N" "$distinct"
check_eq "Processed holds no second copy" "$N" "$processed"

rel_wait_delivered "$N" 120 || not_ok "OpenSMTPD did not deliver everything within 120 s"
rel_answers >"$W/answers.txt"
rel_check_answers "$W/answers.txt" "$TAG" "$N" "$during_send"

if grep -q 'AddressSanitizer\|runtime error:\|LeakSanitizer' "$LOG"; then
	not_ok "sanitizer report in the daemon log"
	grep -m 5 'AddressSanitizer\|runtime error:\|LeakSanitizer' "$LOG" | sed 's/^/#   /'
else
	ok "no sanitizer report in $(grep -c '^# ---- mercomaild started' "$LOG") runs"
fi
[ "$FAILED" = 0 ] || { echo "# daemon log (last 30 lines):"; tail -n 30 "$LOG" | sed 's/^/#   /'; }
finish
