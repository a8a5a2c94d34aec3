#!/bin/bash
# The outbox against the real OpenSMTPD and Dovecot: per-recipient results
# (a refused recipient fails alone, the ones after it are still sent), the
# SMTP server down for a while (nothing lost, everything sent once when it is
# back, nothing twice), giving up after smtp.retry_max_age, and a DSN in the
# inbox marking the recipient it reports on as failed without being answered.
set -u
. "$(dirname "$0")/harness.sh"
. "$(dirname "$0")/common.sh"
start_work
write_config "$CONF" smtp=yes
mkdir -p "$W/out"

A=ana@uno.example		# not in the roster: each gets the unknown-sender answer
B=beto@dos.example
C=carla@tres.example
X=ghost@nowhere.example		# no mailbox: OpenSMTPD refuses it at RCPT TO (5xx)
for a in $A $B $C; do harness_add_user "$a" pw; done
"$MERCOMAIL" -c "$CONF" init >/dev/null

N=0
mail_from() {
	N=$((N + 1))
	printf 'From: %s\r\nTo: %s\r\nSubject: Hola %d\r\nMessage-ID: <ob-%d-%s@test.example>\r\nDate: %s\r\n\r\nHola.\r\n' \
	    "$1" "$HARNESS_USER" "$N" "$N" "$$" "$(date -R)" > "$W/m$N.eml"
	mailtool send --from "$1" --to "$HARNESS_USER" "$W/m$N.eml" >/dev/null
}
run_once() { "$MERCOMAILD" -c "$CONF" --once >>"$W/daemon.log" 2>&1 || not_ok "mercomaild --once failed"; }
row() { sql "SELECT $2 FROM outbox WHERE rcpt = '$1' ORDER BY id DESC LIMIT 1"; }
copies() { mailtool --user "$1" --password pw count INBOX; }

# --- one bad recipient does not block the others
mail_from $A; mail_from $X; mail_from $B
mailtool wait-count INBOX 3 --timeout 30 >/dev/null
run_once
check_eq "answer to $A sent" "sent 250" "$(row $A "state || ' ' || last_code")"
check_eq "answer to the refused $X failed with the 5xx" "failed 5" "$(row $X "state || ' ' || (last_code / 100)")"
check_eq "answer to $B (queued after $X) sent" "sent 250" "$(row $B "state || ' ' || last_code")"
mailtool --user $B --password pw wait-count INBOX 1 --timeout 30 >/dev/null
check_eq "$A got one copy" 1 "$(copies $A)"
check_eq "$B got one copy" 1 "$(copies $B)"

# --- the SMTP server down: deferred with a delay, sent once it is back
mail_from $C
mailtool wait-count INBOX 1 --timeout 30 >/dev/null
harness_stop_smtpd
run_once
check_eq "answer to $C deferred while the server is down" "queued 1 0" \
	"$(row $C "state || ' ' || attempts || ' ' || last_code")"
delay=$(sql "SELECT next_attempt - strftime('%s','now') FROM outbox WHERE rcpt = '$C'")
if [ "$delay" -ge 30 ] && [ "$delay" -le 80 ]; then ok "first retry in about a minute ($delay s)"
else not_ok "first retry in $delay s, expected 45..75 (60 s, jitter 25%)"; fi
run_once
check_eq "not retried before it is due" 1 "$(row $C attempts)"
harness_start_smtpd
sql "UPDATE outbox SET next_attempt = 0 WHERE state = 'queued'"	# a minute passes
run_once
check_eq "sent once the server is back" "sent 2" "$(row $C "state || ' ' || attempts")"
mailtool --user $C --password pw wait-count INBOX 1 --timeout 30 >/dev/null
run_once
sleep 1
check_eq "$C got exactly one copy" 1 "$(copies $C)"
check_eq "nothing else was sent again" "1 1" "$(copies $A) $(copies $B)"

# --- retry_max_age: a mail still unsent after it is failed, not retried forever
mail_from $A
mailtool wait-count INBOX 1 --timeout 30 >/dev/null
harness_stop_smtpd
run_once
sql "UPDATE outbox SET next_attempt = 0, created_at = created_at - 3 * 86400 WHERE state = 'queued'"
run_once
check_eq "given up after retry_max_age (3 days)" "failed 2" "$(row $A "state || ' ' || attempts")"
harness_start_smtpd

# --- a DSN about the answer to B: recorded against B, not answered
msgid=$(row $B msgid)
sed -e "s/<mc.1783422100.12@red.test>/$msgid/" -e "s/joao.silva@recife.pe.gov.br/$B/g" \
	-e 's/$/\r/' "$MERCOMAIL_TESTDATA/bounce/postfix.eml" > "$W/dsn.eml"
mailtool append INBOX "$W/dsn.eml" >/dev/null
run_once
check_eq "the DSN marks the answer to $B failed" "failed 1" \
	"$(row $B "state || ' ' || (bounced_at IS NOT NULL)")"
check_eq "the bounce is recorded, hard, with its status" "$B|failed|5.1.1|1" \
	"$(sql "SELECT address, action, status, hard FROM bounces")"
check_eq "the DSN is ignored, not answered" "ignored" \
	"$(sql "SELECT state FROM messages WHERE subject = 'Undelivered Mail Returned to Sender'")"
check_eq "no answer to the mailer daemon" 0 \
	"$(sql "SELECT count(*) FROM outbox WHERE rcpt LIKE 'mailer-daemon%'")"
grep -q "event=bounce" "$W/daemon.log" && ok "the bounce is logged" || not_ok "no event=bounce in the log"

# --- mercomail outbox list|retry|purge
"$MERCOMAIL" -c "$CONF" outbox list --state failed > "$W/failed.txt" 2>/dev/null
check_eq "outbox list --state failed: the refused, the given up and the bounced" 3 \
	"$(tail -n +2 "$W/failed.txt" | grep -c .)"
check_grep "with recipient and code" "	$X	" "$W/failed.txt"
xid=$(row $X id)
"$MERCOMAIL" -c "$CONF" outbox retry "$xid" >/dev/null
check_eq "outbox retry: queued again, due now" "queued 1" \
	"$(row $X "state || ' ' || (next_attempt <= strftime('%s','now'))")"
"$MERCOMAIL" -c "$CONF" outbox retry 99999 >/dev/null 2>&1
check_eq "outbox retry of no such mail" 65 "$?"
sql "UPDATE outbox SET created_at = created_at - 40 * 86400 WHERE rcpt = '$A'"
check_eq "outbox purge drops old sent and failed mail" "2 mails purged" \
	"$("$MERCOMAIL" -c "$CONF" outbox purge --days 30 2>/dev/null)"
check_eq "the bounce stays" 1 "$(sql "SELECT count(*) FROM bounces")"

[ "$FAILED" -eq 0 ] || { cat "$W/daemon.log"; harness_logs; }
finish
