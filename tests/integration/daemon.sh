#!/bin/bash
# mercomaild as a daemon: IDLE picks up new mail at once, a lost server is
# reconnected with backoff, SIGHUP reloads the config, SIGTERM stops it.
set -u
. "$(dirname "$0")/harness.sh"
. "$(dirname "$0")/common.sh"
start_work
LOG=$W/daemon.log
write_config "$CONF" idle=yes poll_interval=300
count() { sql 'SELECT count(*) FROM messages' 2>/dev/null || echo 0; }
# wait_for SECONDS COMMAND...: true once the command succeeds
wait_for() {
	local t=$(( $1 * 10 )); shift
	while [ $t -gt 0 ]; do "$@" && return 0; sleep 0.1; t=$((t - 1)); done
	return 1
}
have() { [ "$(count)" -ge "$1" ]; }
logged() { grep -q -- "$1" "$LOG"; }

"$MERCOMAILD" -c "$CONF" >"$LOG" 2>&1 &
pid=$!
wait_for 20 logged "event=sync status=ok" && ok "daemon starts and runs a pass" || not_ok "no first pass"

# IDLE: with a poll interval of 5 minutes, only IDLE can bring this in quickly
mailtool send --from intendencia@moron.example --to "$HARNESS_USER" \
	"$MERCOMAIL_TESTDATA/demo/01-informe-montevideo.eml" >/dev/null
wait_for 15 have 1 && ok "new mail is fetched within seconds through IDLE" || not_ok "IDLE did not bring the mail"
check_eq "and moved out of the inbox" 0 "$(mailtool count INBOX)"

# the server goes away and comes back: the daemon reconnects by itself
harness_crash_dovecot
wait_for 15 logged "event=backoff" && ok "a lost server is noticed and backed off from" || not_ok "no backoff logged"
harness_start_dovecot
mailtool gen 3 --prefix after-restart >/dev/null
wait_for 60 have 4 && ok "after the server returns the daemon reconnects and fetches" || not_ok "no reconnect: $(count) stored"
kill -0 "$pid" 2>/dev/null && ok "the daemon kept running through the outage" || not_ok "the daemon died"

# SIGHUP: a new log level takes effect without a restart
sed -i 's/^level = info/level = debug/' "$CONF"
kill -HUP "$pid"
wait_for 10 logged "event=reload status=ok" && ok "SIGHUP reloads the configuration" || not_ok "no reload"
# a broken config on SIGHUP keeps the running one
echo "bogus = 1" >> "$CONF"
kill -HUP "$pid"
wait_for 10 logged "keeping the running configuration" && ok "a broken config on reload is refused, the old one kept" || not_ok "broken reload not reported"
mailtool gen 1 --prefix after-reload >/dev/null
wait_for 15 have 5 && ok "still fetching after a refused reload" || not_ok "stopped fetching after reload"

# SIGTERM: a clean exit
kill -TERM "$pid"
wait_for 10 eval '! kill -0 '"$pid"' 2>/dev/null' && ok "SIGTERM stops the daemon promptly" || not_ok "still running after SIGTERM"
wait "$pid"; rc=$?
check_eq "exit status 0 after SIGTERM" 0 $rc
[ "$rc" -eq 0 ] || tail -40 "$LOG"
check_grep "the stop is logged" "event=stop" "$LOG"
check_eq "database integrity" ok "$(sql 'PRAGMA integrity_check')"
finish
