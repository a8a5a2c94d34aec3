#!/bin/bash
# Memory: `mercomaild --once` over the demo inbox (the ten mails of
# tests/data/demo, mailed through the harness OpenSMTPD, answered back through
# it) runs under valgrind --leak-check=full with no leak and no memory error.
# Only one-time globals of libetpan, libical and GnuTLS are suppressed
# (tests/valgrind.supp says why each one); nothing of ours.
#
# valgrind cannot run a sanitized binary, so the programs come from
# MERCOMAIL_VALGRIND_BUILDDIR when set (scripts/check.sh builds one without
# sanitizers for this), else from MERCOMAIL_BUILDDIR; a sanitized build there
# is a skip (77), nothing else is.
set -u
: "${MERCOMAIL_BUILDDIR:=$(cd "$(dirname "$0")/../.." && pwd)}"
MERCOMAIL_BUILDDIR=${MERCOMAIL_VALGRIND_BUILDDIR:-$MERCOMAIL_BUILDDIR}
if ldd "$MERCOMAIL_BUILDDIR/mercomaild" 2>/dev/null | grep -q 'libasan\|libubsan'; then
	echo "SKIP: $MERCOMAIL_BUILDDIR is a sanitized build; valgrind needs one without" \
	     "(configure without --enable-sanitizers, then MERCOMAIL_VALGRIND_BUILDDIR=DIR)"
	exit 77
fi
if ! command -v valgrind >/dev/null 2>&1; then
	echo "valgrind is not installed (scripts/deps.sh installs it)" >&2
	exit 99
fi
. "$(dirname "$0")/harness.sh"
. "$(dirname "$0")/common.sh"
start_work
write_config "$CONF" smtp=yes
SUPP=$MERCOMAIL_SRCDIR/tests/valgrind.supp
# vg LOG PROG ARGS...: run under valgrind; its exit status is 1 on any error
# or definite/possible leak not suppressed
vg() {
	local log=$1; shift
	valgrind --leak-check=full --error-exitcode=1 --errors-for-leak-kinds=definite,possible \
		--show-leak-kinds=definite,possible --track-origins=yes \
		--suppressions="$SUPP" --log-file="$log" "$@"
}
# the Valgrind summary of a log, for the test's output when something is found
show() { grep -E '==[0-9]+== (ERROR SUMMARY|.*(definitely|indirectly|possibly) lost)' "$1" | sed 's/^/    /'; }

"$MERCOMAIL" -c "$CONF" init >/dev/null
"$MERCOMAIL" -c "$CONF" roster import "$MERCOMAIL_TESTDATA/roster/cities.csv" \
	"$MERCOMAIL_TESTDATA/roster/units.csv" >/dev/null
sender_of() { sed -n 's/^From:.*<\(.*\)>.*/\1/p' "$1" | head -1; }
n=0
for f in "$MERCOMAIL_TESTDATA"/demo/*.eml; do
	a=$(sender_of "$f")
	grep -q "^$a:" "$HARNESS_DIR/users" || harness_add_user "$a" demo
	mailtool send --from "$a" --to "$HARNESS_USER" "$f" >/dev/null
	n=$((n + 1))
done
mailtool wait-count INBOX "$n" --timeout 30 >/dev/null || not_ok "only $(mailtool count INBOX) of $n demo mails arrived"

vg "$W/vg-daemon.log" "$MERCOMAILD" -c "$CONF" --once >"$W/daemon.out" 2>&1; rc=$?
if [ $rc -eq 0 ]; then
	ok "mercomaild --once over the $n demo mails: no leak, no memory error under valgrind"
else
	not_ok "valgrind found errors or leaks in mercomaild --once (exit $rc, log $W/vg-daemon.log)"
	show "$W/vg-daemon.log"
	grep -A25 'definitely lost in\|possibly lost in\|Invalid \|uninitialised' "$W/vg-daemon.log" | head -80 | sed 's/^/    /'
fi
# the run under valgrind did the whole job, so the check covered the whole path
check_eq "every demo mail recorded" "$n" "$(sql 'SELECT count(*) FROM messages')"
check_eq "every answer sent" 0 "$(sql "SELECT count(*) FROM outbox WHERE state <> 'sent'")"
check_grep "answers were sent" "event=sent" "$W/daemon.out"
check_eq "nothing left in the inbox" 0 "$(mailtool count INBOX)"

# meetings: libical builds the invites (the CLI), mercomaild sends them
vg "$W/vg-meeting.log" "$MERCOMAIL" -c "$CONF" meeting create --unit cultura --title "Reunión" \
	--start "2027-03-10 10:00" --duration 2h --tz America/Montevideo --location "Montevideo" \
	>"$W/meeting.out" 2>&1; rc=$?
[ $rc -eq 0 ] && ok "mercomail meeting create: no leak, no memory error under valgrind" ||
	{ not_ok "mercomail meeting create under valgrind (exit $rc)"; show "$W/vg-meeting.log"; cat "$W/meeting.out"; }
vg "$W/vg-daemon2.log" "$MERCOMAILD" -c "$CONF" --once >"$W/daemon2.out" 2>&1; rc=$?
[ $rc -eq 0 ] && ok "mercomaild --once sending the invites: no leak, no memory error under valgrind" ||
	{ not_ok "mercomaild --once sending the invites under valgrind (exit $rc)"; show "$W/vg-daemon2.log"; }
check_eq "the invitations were sent" 0 "$(sql "SELECT count(*) FROM outbox WHERE state <> 'sent'")"
check_grep "and there were some" "event=sent" "$W/daemon2.out"

# the admin CLI over the same database: the listings and the export
for cmd in "messages list" "submissions list" "submissions export --format csv" \
	"meeting list --all" "report activity --format html"; do
	# shellcheck disable=SC2086
	vg "$W/vg-cli.log" "$MERCOMAIL" -c "$CONF" $cmd >"$W/cli.out" 2>&1; rc=$?
	if [ $rc -eq 0 ] && [ -s "$W/cli.out" ]; then
		ok "mercomail $cmd: no leak, no memory error under valgrind"
	else
		not_ok "mercomail $cmd under valgrind (exit $rc)"
		show "$W/vg-cli.log"
	fi
done
finish
