#!/bin/bash
# Installing and running as a service: "make install DESTDIR=..." gives the
# layout the README describes (programs, templates, the example config, the
# manual pages, the systemd unit); the installed mercomaild accepts the
# installed example once it names a mailbox, a database and the installed
# templates; a second install keeps an edited config and uninstall removes
# only what is still the example; mercomaild refuses to run as root unless
# [daemon] allow_root = yes; built with libsystemd, it tells systemd when it is
# ready, reloading and stopping. No mail servers: nothing here gets as far as
# a login (the mailbox is a closed loopback port).
set -u
. "$(dirname "$0")/common.sh"

B=$MERCOMAIL_BUILDDIR
if [ ! -f "$B/Makefile" ]; then
	echo "SKIP: $B has no Makefile (run through make check, or set MERCOMAIL_BUILDDIR)"
	exit 77
fi
W=$(mktemp -d "${TMPDIR:-/tmp}/mercomail-ops.XXXXXX") || exit 99
LISTENER=
DAEMON=
cleanup() {
	[ -z "$DAEMON" ] || kill "$DAEMON" 2>/dev/null
	[ -z "$LISTENER" ] || kill "$LISTENER" 2>/dev/null
	rm -rf "$W"
}
trap cleanup EXIT
D=$W/dest

# make on its own, not as a part of the make check running this test (whose
# MAKEFLAGS would print directories and ask for a jobserver).
submake() { env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make "$@"; }

# A directory as make sees it (configure may have been given any of them).
mkvar() {
	submake -s --no-print-directory -C "$B" -f Makefile -f - ops-print-var VAR="$1" <<'EOF'
ops-print-var:
	@echo '$($(VAR))'
EOF
}
sbindir=$(mkvar sbindir)
bindir=$(mkvar bindir)
pkgdatadir=$(mkvar pkgdatadir)
sysconfdir=$(mkvar sysconfdir)
mandir=$(mkvar mandir)
unitdir=$(mkvar systemdsystemunitdir)
[ -n "$sbindir" ] && [ -n "$sysconfdir" ] || { echo "cannot read the directories from $B/Makefile" >&2; exit 99; }

install_into() { submake -C "$B" install DESTDIR="$D" >"$W/install.log" 2>&1; }

# --- the layout
install_into
check_eq "make install DESTDIR=... succeeds" 0 $?
[ -x "$D$sbindir/mercomaild" ] && ok "mercomaild in sbindir" || not_ok "no $D$sbindir/mercomaild"
[ -x "$D$bindir/mercomail" ] && ok "mercomail in bindir" || not_ok "no $D$bindir/mercomail"
T=$D$pkgdatadir/templates
for sub in forms/*.form es/*.txt pt/*.txt; do
	want=$(cd "$MERCOMAIL_SRCDIR/templates" && ls $sub | wc -l)
	got=$(cd "$T" 2>/dev/null && ls $sub 2>/dev/null | wc -l)
	[ "$want" -gt 0 ] && [ "$got" = "$want" ] && ok "templates/$sub installed ($got)" ||
		not_ok "templates/$sub: $got installed, $want in the sources"
done
C=$D$sysconfdir/mercomail/mercomail.conf
if cmp -s "$MERCOMAIL_SRCDIR/contrib/mercomail.conf.example" "$C"; then
	ok "the example config installed as $sysconfdir/mercomail/mercomail.conf"
else
	not_ok "$C is not the example"
fi
for page in man8/mercomaild.8 man1/mercomail.1 man5/mercomail.conf.5; do
	if [ ! -f "$D$mandir/$page" ]; then
		not_ok "no manual page $mandir/$page"
	elif ! command -v groff >/dev/null; then
		ok "manual page $page installed (no groff to render it)"
	elif groff -man -Tutf8 -ww -z "$D$mandir/$page" >"$W/groff.log" 2>&1 &&
		[ ! -s "$W/groff.log" ]; then
		ok "manual page $page installed, renders without warnings"
	else
		not_ok "manual page $page:"; sed 's/^/    /' "$W/groff.log"
	fi
done
if grep -q '^#define HAVE_SYSTEMD 1' "$B/buildconf.h"; then type=notify; else type=simple; fi
if [ -z "$unitdir" ]; then
	ok "no systemd unit directory configured: no unit installed (# SKIP)"
elif [ -f "$D$unitdir/mercomaild.service" ]; then
	U=$D$unitdir/mercomaild.service
	ok "mercomaild.service installed in $unitdir"
	check_grep "the unit starts the installed daemon with the installed config" \
		"^ExecStart=$sbindir/mercomaild -c $sysconfdir/mercomail/mercomail.conf\$" "$U"
	check_grep "the unit is Type=$type" "^Type=$type\$" "$U"
	check_grep "the unit runs as mercomail" "^User=mercomail\$" "$U"
	if grep -q '@[a-zA-Z_]*@' "$U"; then not_ok "unsubstituted @...@ in the unit"; else ok "the unit is fully substituted"; fi
else
	not_ok "no $D$unitdir/mercomaild.service"
fi

# --- the installed programs with the installed example, edited
PORT=1	# tcpmux: nothing listens there, so a connection is refused at once
install -m 600 /dev/null "$D$sysconfdir/mercomail/imap.pass"	# relative in the example
echo secret >"$D$sysconfdir/mercomail/imap.pass"
DB=$W/var/mercomail.db
mkdir -p "$W/var"
sed -i -e "s|^url = imaps://mail.example.org\$|url = imaps://127.0.0.1:$PORT|" \
	-e "s|^#templates = .*|templates = $T|" \
	-e "s|^#database = .*|database = $DB|" \
	-e "s|^#timeout = 60\$|timeout = 5|" "$C"
grep -q "^templates = $T\$" "$C" && grep -q "^database = $DB\$" "$C" &&
	grep -q "^url = imaps://127.0.0.1:$PORT\$" "$C" ||
	{ echo "the example no longer has the lines this test edits:" >&2; cat "$C" >&2; exit 99; }
cp "$C" "$W/edited.conf"

"$D$sbindir/mercomaild" -c "$C" -n >"$W/out" 2>&1
check_eq "installed mercomaild -n accepts the edited example" 0 $?
check_grep "it says configuration OK" "^$C: configuration OK\$" "$W/out"
"$D$bindir/mercomail" -c "$C" init >"$W/out" 2>&1
check_eq "installed mercomail init creates the database" 0 $?
check_grep "init names the database" "^$DB: schema version" "$W/out"

# --- root
if [ "$(id -u)" = 0 ]; then
	rm -f "$DB" "$DB-wal" "$DB-shm"	# to see that a refused start does not create it
	"$D$sbindir/mercomaild" -c "$C" -n >"$W/out" 2>&1
	check_grep "as root, -n warns" "warning: as root, mercomaild refuses to run" "$W/out"
	"$D$sbindir/mercomaild" -c "$C" --once >"$W/out" 2>&1; rc=$?
	check_eq "as root without allow_root, mercomaild exits EX_CONFIG" 78 $rc
	check_grep "and says why and what to do" \
		"^mercomaild: refusing to run as root; run it as the mercomail user (see mercomaild(8)) or set allow_root = yes in \[daemon\]\$" \
		"$W/out"
	[ ! -e "$DB" ] && ok "refused before opening the database" || not_ok "the database was created"
	timeout 20 "$D$sbindir/mercomaild" -c "$C" >"$W/out" 2>&1; rc=$?
	check_eq "the daemon (not --once) refuses too" 78 $rc
	sed -i 's|^#allow_root = no$|allow_root = yes|' "$C"
	"$D$sbindir/mercomaild" -c "$C" -n >"$W/out" 2>&1
	check_eq "with allow_root = yes, -n passes" 0 $?
	if grep -q warning "$W/out"; then not_ok "-n still warns"; else ok "and does not warn"; fi
	"$D$sbindir/mercomaild" -c "$C" --once >"$W/out" 2>&1; rc=$?
	check_eq "with allow_root = yes it starts, and finds no IMAP server (EX_UNAVAILABLE)" 69 $rc
	[ -f "$DB" ] && ok "it opened the database" || not_ok "no database after the start"
else
	ok "not root: the root refusal is not tested here (# SKIP)"
	"$D$sbindir/mercomaild" -c "$C" -n >"$W/out" 2>&1
	if grep -q warning "$W/out"; then not_ok "-n warns a non-root user"; else ok "-n does not warn a non-root user"; fi
fi

# --- sd_notify (built with libsystemd)
wait_for() {	# wait_for SECONDS COMMAND...: until COMMAND succeeds
	local end=$((SECONDS + $1))
	shift
	until "$@"; do
		[ "$SECONDS" -lt "$end" ] || return 1
		sleep 0.05
	done
}
notified() { [ "$(grep -c "^$1\$" "$W/notify.log")" -ge "$2" ]; }
if [ "$type" = notify ]; then
	python3 - "$W/notify.sock" >"$W/notify.log" <<'PY' &
import socket, sys, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
s.settimeout(0.2)
end = time.time() + 60
while time.time() < end:
    try:
        data = s.recv(4096)
    except socket.timeout:
        continue
    for line in data.decode().splitlines():
        print(line, flush=True)
PY
	LISTENER=$!
	wait_for 10 test -S "$W/notify.sock" || { echo "the notify listener did not start" >&2; exit 99; }
	NOTIFY_SOCKET=$W/notify.sock "$D$sbindir/mercomaild" -c "$C" >"$W/daemon.log" 2>&1 &
	DAEMON=$!
	wait_for 20 notified READY=1 1 && ok "READY=1 once started" || not_ok "no READY=1"
	kill -HUP "$DAEMON"
	wait_for 20 notified READY=1 2 && ok "SIGHUP: READY=1 again after the reload" ||
		not_ok "no second READY=1 after SIGHUP"
	check_grep "SIGHUP: RELOADING=1 first" "^RELOADING=1\$" "$W/notify.log"
	check_grep "the reload was done" "event=reload status=ok" "$W/daemon.log"
	kill -TERM "$DAEMON"
	wait "$DAEMON"; rc=$?
	DAEMON=
	case $rc in 0 | 69) ok "SIGTERM: it exits ($rc)" ;; *) not_ok "SIGTERM: exit $rc" ;; esac
	check_grep "SIGTERM: STOPPING=1" "^STOPPING=1\$" "$W/notify.log"
else
	ok "built without libsystemd: no sd_notify to test (# SKIP)"
fi

# --- a second install keeps the edited config; uninstall keeps it too
cp "$C" "$W/edited.conf"
install_into
check_eq "a second make install succeeds" 0 $?
if cmp -s "$W/edited.conf" "$C"; then ok "a second install keeps the edited config"; else not_ok "the edited config was overwritten"; fi
check_grep "and says so" "mercomail.conf exists: not overwritten" "$W/install.log"
submake -C "$B" uninstall DESTDIR="$D" >"$W/uninstall.log" 2>&1
check_eq "make uninstall succeeds" 0 $?
[ ! -e "$D$sbindir/mercomaild" ] && ok "uninstall removes the programs" || not_ok "mercomaild left installed"
if cmp -s "$W/edited.conf" "$C"; then ok "uninstall keeps the edited config"; else not_ok "uninstall removed the edited config"; fi
cp "$MERCOMAIL_SRCDIR/contrib/mercomail.conf.example" "$C"
rm -f "$D$sysconfdir/mercomail/imap.pass"
submake -C "$B" uninstall DESTDIR="$D" >"$W/uninstall.log" 2>&1
[ ! -e "$C" ] && ok "uninstall removes the config while it is the example" || not_ok "the example config left behind"
left=$(find "$D" -type f | sed "s|^$D||")
check_eq "nothing else left after uninstall" "" "$left"
finish
