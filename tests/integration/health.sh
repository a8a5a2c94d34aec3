#!/bin/bash
# Observing mercomaild: /healthz and /metrics over HTTP while it runs, 503
# while IMAP is down and 200 once it is back, the status row that
# `mercomail status` reads (a new poll interval right after SIGHUP), and an
# online `mercomail backup` while the daemon writes.
set -u
. "$(dirname "$0")/harness.sh"
. "$(dirname "$0")/common.sh"
command -v curl >/dev/null 2>&1 || { echo "SKIP: curl is missing"; exit 77; }
start_work
LOG=$W/daemon.log
HTTP_PORT=$(_harness_free_ports 1)
URL=http://127.0.0.1:$HTTP_PORT
# idle = no and a 1 s poll: three poll intervals pass quickly once IMAP is down
write_config "$CONF" idle=no poll_interval=1
printf '[http]\nlisten = 127.0.0.1:%s\n' "$HTTP_PORT" >> "$CONF"

# wait_for SECONDS COMMAND...: true once the command succeeds
wait_for() {
	local t=$(( $1 * 10 )); shift
	while [ $t -gt 0 ]; do "$@" && return 0; sleep 0.1; t=$((t - 1)); done
	return 1
}
# get PATH: the body into $W/body, the status code on stdout ("000": no answer)
get() {
	local path=$1; shift
	curl -s -m 5 -o "$W/body" -w '%{http_code}' "$@" "$URL$path" 2>/dev/null
}
health_is() { [ "$(get /healthz)" = "$1" ]; }
# metric NAME: its value in /metrics ("" if absent)
metric() {
	get /metrics >/dev/null
	awk -v n="$1" '$1 == n { print $2 }' "$W/body"
}
metric_is() { [ "$(metric "$1")" = "$2" ]; }
metric_over() { [ "$(metric "$1")" -gt "$2" ] 2>/dev/null; }
status() { "$MERCOMAIL" -c "$CONF" status > "$W/status" 2>&1; }
status_has() { status && grep -q -- "$1" "$W/status"; }

"$MERCOMAILD" -c "$CONF" >"$LOG" 2>&1 &
pid=$!
wait_for 20 health_is 200 && ok "/healthz is 200 once a pass succeeded" ||
	not_ok "/healthz: $(get /healthz) $(cat "$W/body")"
check_eq "/healthz says ok" ok "$(cat "$W/body")"
check_grep "the HTTP server start is logged" "event=http.start status=ok" "$LOG"

# --- /metrics
mailtool gen 2 --prefix health >/dev/null
wait_for 20 metric_is mercomail_mails_fetched_total 2 && ok "two mails fetched are counted" ||
	not_ok "mercomail_mails_fetched_total: '$(metric mercomail_mails_fetched_total)'"
get /metrics >/dev/null
cp "$W/body" "$W/metrics"
check_grep "Prometheus HELP lines" "^# HELP mercomail_mails_fetched_total " "$W/metrics"
check_grep "Prometheus TYPE lines" "^# TYPE mercomail_mails_total counter" "$W/metrics"
by_state=0
for s in recorded rejected held ignored; do
	v=$(awk -v n="mercomail_mails_total{state=\"$s\"}" '$1 == n { print $2 }' "$W/metrics")
	by_state=$((by_state + ${v:-100}))
done
check_eq "the mails by state add up to those fetched" 2 "$by_state"
check_eq "held mails as in the database" "$(sql "SELECT count(*) FROM messages WHERE state = 'held'")" \
	"$(awk '$1 == "mercomail_mails_total{state=\"held\"}" { print $2 }' "$W/metrics")"
check_eq "outbox depth as in the database" "$(sql "SELECT count(*) FROM outbox WHERE state = 'queued'")" \
	"$(awk '$1 == "mercomail_outbox_depth" { print $2 }' "$W/metrics")"
check_eq "poll interval" 1 "$(awk '$1 == "mercomail_poll_interval_seconds" { print $2 }' "$W/metrics")"
check_eq "no IMAP errors yet" 0 "$(awk '$1 == "mercomail_imap_errors_total" { print $2 }' "$W/metrics")"
for m in mercomail_answers_sent_total mercomail_smtp_errors_total \
	mercomail_outbox_oldest_seconds mercomail_last_success_timestamp_seconds; do
	grep -q "^$m [0-9]" "$W/metrics" && ok "$m is there" || not_ok "no $m"
done
if grep -q @ "$W/metrics"; then not_ok "an address in /metrics"; else ok "no address in /metrics"; fi
check_eq "unknown path: 404" 404 "$(get /nothing)"
check_eq "POST: 405" 405 "$(get /metrics -X POST)"
check_eq "HEAD /healthz: 200" 200 "$(get /healthz -I)"

# --- IMAP down: 503 with a reason once 3 poll intervals pass, 200 when back.
# A crash, not only a stop: here the imap process serving the daemon's open
# connection can outlive the stopped master and go on answering.
harness_crash_dovecot
wait_for 30 health_is 503 && ok "/healthz turns 503 while IMAP is down" ||
	not_ok "/healthz still $(get /healthz) with IMAP down"
get /healthz >/dev/null
check_eq "the reason is one line" 1 "$(wc -l < "$W/body")"
check_grep "the reason says since when" "^no successful IMAP cycle for [0-9]* s: ." "$W/body"
metric_over mercomail_imap_errors_total 0 && ok "IMAP errors are counted" ||
	not_ok "mercomail_imap_errors_total: '$(metric mercomail_imap_errors_total)'"
harness_start_dovecot
wait_for 60 health_is 200 && ok "/healthz is 200 again once IMAP is back" ||
	not_ok "/healthz: $(get /healthz) $(cat "$W/body")"

# --- mercomail status, and SIGHUP with a new poll interval
status && ok "mercomail status runs" || not_ok "mercomail status failed: $(cat "$W/status")"
check_grep "status: the config in use" "^Config: *$(realpath "$CONF")\$" "$W/status"
check_grep "status: the daemon runs" "^Daemon: *running (pid $pid," "$W/status"
check_grep "status: poll interval" "^Poll interval: *1 s" "$W/status"
check_grep "status: last success" "^Last success: *20[0-9-]*T" "$W/status"
check_grep "status: counters" "mails fetched *2 " "$W/status"
check_grep "status: outbox" "^Outbox: " "$W/status"
check_grep "status: database size" "^Database: .*, [0-9]* bytes" "$W/status"
check_grep "status: the outage among the last errors" "^  20[0-9-]*T[0-9:]*Z  ." "$W/status"
sed -i 's/^poll_interval = 1$/poll_interval = 2/' "$CONF"
kill -HUP "$pid"
wait_for 10 status_has "^Poll interval: *2 s" && ok "status shows the new poll interval after SIGHUP" ||
	not_ok "poll interval after SIGHUP: $(grep Poll "$W/status")"
wait_for 10 metric_is mercomail_poll_interval_seconds 2 && ok "and so does /metrics" ||
	not_ok "mercomail_poll_interval_seconds: '$(metric mercomail_poll_interval_seconds)'"
health_is 200 && ok "/healthz still 200 after the reload" || not_ok "/healthz $(get /healthz) after reload"

# --- an online backup while the daemon runs
mailtool gen 1 --prefix during-backup >/dev/null
if "$MERCOMAIL" -c "$CONF" backup "$W/backup.db" > "$W/backup.out" 2>&1; then
	ok "mercomail backup while the daemon runs"
else
	not_ok "mercomail backup: $(cat "$W/backup.out")"
fi
check_grep "backup reports the integrity check" "integrity ok" "$W/backup.out"
check_eq "the copy passes integrity_check" ok "$(DB=$W/backup.db sql 'PRAGMA integrity_check')"
copied=$(DB=$W/backup.db sql 'SELECT count(*) FROM messages')
[ "${copied:-0}" -ge 2 ] && [ "$copied" -le "$(sql 'SELECT count(*) FROM messages')" ] &&
	ok "the copy holds the messages ($copied)" || not_ok "the copy holds $copied messages"
check_eq "the copy is one file (no WAL)" delete "$(DB=$W/backup.db sql 'PRAGMA journal_mode')"
cksum < "$W/backup.db" > "$W/backup.sum"
if "$MERCOMAIL" -c "$CONF" backup "$W/backup.db" > "$W/backup2.out" 2>&1; then
	not_ok "backup overwrote an existing file"
else
	ok "backup refuses an existing file"
fi
check_eq "and leaves it alone" "$(cat "$W/backup.sum")" "$(cksum < "$W/backup.db")"

# --- SIGTERM: a clean stop, and the status row says so
kill -TERM "$pid"
wait_for 10 eval '! kill -0 '"$pid"' 2>/dev/null' && ok "SIGTERM stops the daemon" || not_ok "still running after SIGTERM"
wait "$pid"; rc=$?
check_eq "exit status 0 after SIGTERM (no leaks under ASan)" 0 $rc
check_eq "the HTTP server is gone" 000 "$(get /healthz)"
status_has "^Daemon: *stopped" && ok "status: the daemon stopped cleanly" ||
	not_ok "status after stop: $(grep Daemon "$W/status")"
if grep -q "AddressSanitizer\|LeakSanitizer\|runtime error" "$LOG"; then
	not_ok "sanitizer report in the log"; sed 's/^/    /' "$LOG" | grep -A5 Sanitizer
else
	ok "no sanitizer report"
fi
finish
