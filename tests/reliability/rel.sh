# shellcheck shell=bash
# Shared by tests/reliability/*.sh, SOURCED after tests/integration/harness.sh
# and common.sh: the roster and its senders' mailboxes, a full inbox, the
# daemon in its real loop (started, killed, stopped), waits sized on progress,
# and counts of the answers in the senders' mailboxes.
#
# Mode: short by default (CI, `make check`); long with MERCOMAIL_LONG=1 in the
# environment or --long as the first argument of a test.

REL_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REL_LONG=${MERCOMAIL_LONG:-0}
if [ "${1:-}" = --long ]; then REL_LONG=1; fi
REL_PW=pw		# password of every sender's mailbox
REL_ROSTER=$MERCOMAIL_TESTDATA/roster
# every contact of the sample roster: each one sends, each one gets answers
mapfile -t REL_SENDERS < <(tail -n +2 "$REL_ROSTER/cities.csv" | awk -F, '{ print $NF }')

# The senders' mailboxes are added before start_work: Dovecot then reads the
# users file once, instead of once a second per user added while it runs.
rel_start() {
	local a
	for a in "${REL_SENDERS[@]}"; do harness_add_user "$a" "$REL_PW"; done
	start_work
	LOG=$W/daemon.log
	: >"$LOG"
}

# The database with the sample roster (config $CONF must exist).
rel_init_db() {
	"$MERCOMAIL" -c "$CONF" init >/dev/null &&
		"$MERCOMAIL" -c "$CONF" roster import "$REL_ROSTER/cities.csv" \
			"$REL_ROSTER/units.csv" >/dev/null
}

# rel_fill N TAG: N valid submissions from roster contacts, straight into the
# INBOX Maildir (Message-IDs <TAG-I@domain>); Dovecot indexes them at once.
rel_fill() {
	local md=$HARNESS_DIR/mail/$HARNESS_USER/Maildir out
	mailtool count INBOX >/dev/null	# Dovecot lays out the Maildir
	out=$("$HARNESS_PYTHON" "$REL_DIR/genmail.py" --count "$1" --roster "$REL_ROSTER" \
		--tag "$2" --to "$HARNESS_USER" "$md") || return 1
	chown -R mail:mail "$md"
	echo "# filled INBOX: $out"
}

# sqlite3 reading beside the running daemon: wait for its write lock, never fail.
q() { sqlite3 -batch -noheader -cmd '.timeout 10000' "$DB" "$@" 2>/dev/null; }
n_messages() { q 'SELECT count(*) FROM messages' || echo 0; }
n_sent() { q "SELECT count(*) FROM outbox WHERE state = 'sent'" || echo 0; }
n_queued() { q "SELECT count(*) FROM outbox WHERE state = 'queued'" || echo 0; }
# recorded mails plus sent answers: what the daemon has durably done so far
progress() { q "SELECT (SELECT count(*) FROM messages) + (SELECT count(*) FROM outbox WHERE state = 'sent')" || echo 0; }

now_ms() { echo $(( ${EPOCHREALTIME/./} / 1000 )); }

# The daemon in its loop (not --once): DPID, its output appended to $LOG.
rel_daemon_start() {
	echo "# ---- mercomaild started at $(date +%T.%N | cut -c1-12)" >>"$LOG"
	"$MERCOMAILD" -c "$CONF" >>"$LOG" 2>&1 &
	DPID=$!
}
rel_daemon_alive() { kill -0 "$DPID" 2>/dev/null; }

# SIGTERM and wait; sets DRC to its exit status (124 if it would not stop).
rel_daemon_stop() {
	local i
	kill -TERM "$DPID" 2>/dev/null
	for i in $(seq 300); do rel_daemon_alive || break; sleep 0.1; done
	if rel_daemon_alive; then
		kill -KILL "$DPID" 2>/dev/null
		wait "$DPID" 2>/dev/null
		DRC=124
		return
	fi
	wait "$DPID"
	DRC=$?
}

# rel_wait_until STALL CMD...: poll CMD (every 50 ms) until it succeeds. Gives
# up only when progress() has not moved for STALL seconds, so a slow
# (sanitizer) build gets the time it needs and a stuck daemon is caught.
rel_wait_until() {
	local stall=$1 last cur since
	shift
	last=$(progress)
	since=$SECONDS
	until "$@"; do
		sleep 0.05
		cur=$(progress)
		if [ "$cur" != "$last" ]; then
			last=$cur
			since=$SECONDS
		elif [ $((SECONDS - since)) -ge "$stall" ]; then
			return 1
		fi
	done
}

# The answers in every sender's INBOX: "address <TAB> In-Reply-To <TAB> Message-ID".
rel_answers() {
	"$HARNESS_PYTHON" "$REL_DIR/answers.py" --password "$REL_PW" "${REL_SENDERS[@]}"
}

# Wait until OpenSMTPD has handed over everything it accepted (its queue is
# empty) and the senders' mailboxes hold at least $1 mails; at most $2 s.
rel_wait_delivered() {
	local want=$1 deadline=$((SECONDS + $2)) n
	while :; do
		if [ -z "$(smtpctl show queue 2>/dev/null)" ]; then
			n=$(rel_answers | wc -l)
			[ "$n" -lt "$want" ] || return 0
		else
			harness_smtpd_flush	# mail that met a stopped Dovecot: now, not in minutes
		fi
		[ "$SECONDS" -lt "$deadline" ] || return 1
		sleep 0.5
	done
}

# rel_check_answers FILE TAG N ALLOWED [MTA_STOPPED]: the answers listed in
# FILE (from rel_answers) must answer each of the N submissions
# <TAG-1..N@...> exactly once. Two different answers to one submission, or
# one missing, fail. A second copy of the SAME answer (same Message-ID) is
# reported mail by mail, with who made it:
#  - mercomaild, when its log says it handed that mail over more than once,
#    or (after a SIGKILL) without a log line: the outbox's documented window
#    (a crash between the SMTP server's "250" and the "sent" mark), allowed
#    up to ALLOWED copies (one per crash that came while answers went out);
#  - OpenSMTPD, when mercomaild handed it over once: an MTA stopped during
#    its own delivery delivers again from its queue. Tolerated (and
#    reported) only with MTA_STOPPED=1, a test that stopped OpenSMTPD.
rel_check_answers() {
	local file=$1 tag=$2 n=$3 allowed=$4 mta_ok=${5:-0} stats answered doubled extra
	local by_daemon=0 by_mta=0 m copies sends
	stats=$(awk -F'\t' -v t="<$tag-" '
		index($2, t) != 1 { next }
		{ copies[$3]++; if (!seen[$2 SUBSEP $3]++) answers[$2]++ }
		END {
			for (i in answers) { n++; if (answers[i] > 1) d++ }
			for (m in copies) if (copies[m] > 1) x += copies[m] - 1
			print n + 0, d + 0, x + 0
		}' "$file")
	read -r answered doubled extra <<<"$stats"
	check_eq "every submission answered" "$n" "$answered"
	if [ "$answered" -lt "$n" ]; then
		comm -23 <(seq 1 "$n" | sed "s/.*/<$tag-&@/" | sort) \
			<(cut -f2 "$file" | sed 's/@.*/@/' | sort -u) | head -5 | sed 's/^/#   missing: /'
	fi
	check_eq "no submission got two different answers" 0 "$doubled"
	while IFS=$'\t' read -r copies m; do
		sends=$(grep -F "msgid=$m" "$LOG" | grep -c "event=sent ")
		if [ "$sends" -ge "$copies" ]; then
			by_daemon=$((by_daemon + copies - 1)); who="mercomaild sent it $sends times (the outbox's resend window)"
		elif [ "$mta_ok" = 1 ] && [ "$sends" = 1 ]; then
			by_mta=$((by_mta + copies - 1)); who="mercomaild sent it once; OpenSMTPD, stopped during its delivery, delivered it again"
		else
			by_daemon=$((by_daemon + copies - 1)); who="mercomaild logged $sends sends (killed before the log line: the resend window)"
		fi
		echo "# DUPLICATE DELIVERY: answer $m to $(awk -F'\t' -v m="$m" '$3 == m { print $2; exit }' "$file") delivered $copies times: $who"
	done < <(awk -F'\t' -v t="<$tag-" 'index($2, t) == 1 { c[$3]++ } END { for (m in c) if (c[m] > 1) print c[m] "\t" m }' "$file")
	echo "# answers in the senders' mailboxes: $(wc -l <"$file") in all; for these $n submissions:" \
		"answered $answered, missing $((n - answered)), answered twice with different answers $doubled," \
		"extra copies of one answer $extra (by mercomaild's resend window: $by_daemon, allowed $allowed;" \
		"by OpenSMTPD's redelivery: $by_mta)"
	if [ "$by_daemon" -le "$allowed" ]; then
		ok "duplicates by mercomaild ($by_daemon) within the resend window: at most one per crash while sending ($allowed)"
	else
		not_ok "duplicates by mercomaild: $by_daemon, more than one per crash while sending ($allowed)"
	fi
}
