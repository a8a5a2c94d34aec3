#!/bin/bash
# The database on a full disk, with mercomaild running in its loop: it stops
# taking mail and says why in its log, leaves the mails on the IMAP server
# (not moved, no flag set), neither crashes nor spins, and carries on by
# itself once there is space again (no restart).
#
#   bash tests/reliability/fulldisk.sh [--long]     (or MERCOMAIL_LONG=1)
#
# The disk: a small tmpfs mounted for the test; where mounting a tmpfs is
# refused, a loop-mounted ext2 image; where that is refused too, a file size
# limit (RLIMIT_FSIZE) on the daemon, raised again on the running process
# with prlimit. The output says which one ran. REL_FULLDISK=tmpfs|loop|fsize
# forces one. The long mode keeps the disk full for a minute.
set -u
. "$(dirname "$0")/../integration/harness.sh"
. "$(dirname "$0")/../integration/common.sh"
. "$(dirname "$0")/rel.sh"

N1=20		# mails taken in before the disk fills
N2=50		# mails that arrive while it is full
N3=10		# mails whose answers meet the full disk on their way out
FULL=8		# seconds the disk stays full
[ "$REL_LONG" = 1 ] && FULL=60
STALL=60

rel_start
DISK=$W/disk
mkdir -p "$DISK"
cleanup() {
	[ -z "${DPID:-}" ] || kill -KILL "$DPID" 2>/dev/null
	mountpoint -q "$DISK" && umount "$DISK"
	harness_stop
}
trap cleanup EXIT

how=${REL_FULLDISK:-}
if { [ -z "$how" ] || [ "$how" = tmpfs ]; } && mount -t tmpfs -o size=3m,mode=0755 tmpfs "$DISK" 2>/dev/null; then
	how=tmpfs
elif { [ -z "$how" ] || [ "$how" = loop ]; } && truncate -s 3M "$W/disk.img" &&
	mkfs.ext2 -q -F "$W/disk.img" >/dev/null 2>&1 && mount -o loop "$W/disk.img" "$DISK" 2>/dev/null; then
	how=loop
else
	how=fsize
fi
case $how in
tmpfs) echo "# full disk: a 3 MiB tmpfs at $DISK (mount -t tmpfs)" ;;
loop) echo "# full disk: a 3 MiB ext2 image loop-mounted at $DISK" ;;
*) echo "# full disk: mounting refused here; a file size limit (RLIMIT_FSIZE) on mercomaild instead" ;;
esac
DB=$DISK/mercomail.db
write_config "$CONF" smtp=yes idle=yes poll_interval=2 answers_per_hour=10000 database="$DB"
sed -i '/^\[smtp\]/a retry_first = 1' "$CONF"	# a deferred answer is retried after 1 s
"$MERCOMAILD" -c "$CONF" -n >/dev/null 2>&1 || sed -i '/^retry_first = 1$/d' "$CONF"
rel_init_db || { not_ok "init and roster import"; finish; exit; }

start() {
	if [ "$how" = fsize ]; then
		# the log through a pipe: it must not meet the limit itself; SIGXFSZ
		# ignored, so that a write over the limit fails like ENOSPC would
		(trap '' XFSZ; exec prlimit --fsize=unlimited:unlimited "$MERCOMAILD" -c "$CONF") \
			> >(cat >>"$LOG") 2>&1 &
		DPID=$!
	else
		rel_daemon_start
	fi
}
fill_disk() {
	# every later commit must grow a file: the WAL goes back to 0 bytes first
	q 'PRAGMA wal_checkpoint(TRUNCATE)' >/dev/null
	if [ "$how" = fsize ]; then
		prlimit --pid "$DPID" --fsize=8192:unlimited
	else
		dd if=/dev/zero of="$DISK/filler" bs=64k status=none 2>/dev/null
		sync
		echo "# disk filled: $(df -k --output=avail "$DISK" | tail -n 1 | tr -d ' ') KiB left"
	fi
}
free_disk() {
	if [ "$how" = fsize ]; then prlimit --pid "$DPID" --fsize=unlimited:unlimited
	else rm -f "$DISK/filler"; fi
}
# flags other than \Recent on the mails of the inbox
inbox_flags() {
	"$HARNESS_PYTHON" - <<'EOF'
import imaplib, os, re
c = imaplib.IMAP4(os.environ["HARNESS_HOST"], int(os.environ["IMAP_PORT"]))
c.login(os.environ["HARNESS_USER"], open(os.environ["HARNESS_PASSWORD_FILE"]).read().strip())
typ, n = c.select("INBOX", readonly=True)
data = c.fetch("1:*", "(FLAGS)")[1] if int(n[0]) > 0 else []
flags = set()
for d in data:
    if isinstance(d, bytes):
        m = re.search(rb"FLAGS \(([^)]*)\)", d)
        flags.update(f for f in (m.group(1).decode().split() if m else []) if f != "\\Recent")
print(" ".join(sorted(flags)))
c.logout()
EOF
}
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$DPID/stat" 2>/dev/null || echo 0; }
logged_since() { tail -n +"$(($1 + 1))" "$LOG" | grep -c -- "$2"; }

# --- a first batch goes through as usual
rel_fill "$N1" fa$$
start
pid=$DPID
done1() { [ "$(n_messages)" -ge "$N1" ] && [ "$(n_sent)" -ge "$N1" ]; }
rel_wait_until "$STALL" done1 && ok "before the disk fills: $N1 mails taken in and answered" ||
	not_ok "the first $N1 mails did not go through"

# --- the disk fills up, then mail arrives
mark=$(wc -l <"$LOG")
fill_disk
rel_fill "$N2" fb$$
t_full=$SECONDS
tried() { [ "$(logged_since "$mark" 'event=sync status=failed')" -gt 0 ] || ! rel_daemon_alive; }
rel_wait_until 30 tried
c0=$(cpu_ticks)
t0=$SECONDS
sleep "$FULL"
ticks=$(( $(cpu_ticks) - c0 ))
secs=$(( SECONDS - t0 ))
check_eq "the daemon is still running on the full disk (pid $pid)" yes "$(rel_daemon_alive && echo yes || echo no)"
check_eq "no mail taken in while the disk is full" "$N1" "$(n_messages)"
check_eq "the $N2 new mails stay in the IMAP inbox" "$N2" "$(mailtool count INBOX)"
check_eq "and carry no flag (not \\Seen, not \\Deleted)" "" "$(inbox_flags)"
why=$(tail -n +"$((mark + 1))" "$LOG" | grep -m 1 'event=store.full')
echo "# the log says: ${why:-(nothing)}"
if [ "$how" = fsize ]; then
	# over RLIMIT_FSIZE a write fails with EFBIG, which SQLite reports as an
	# I/O error rather than a full disk: the pass's own error line says it
	why=$(tail -n +"$((mark + 1))" "$LOG" | grep -m 1 'event=sync status=failed.*\(disk I/O error\|disk is full\)')
	check_eq "the log says the database cannot be written" yes "$([ -n "$why" ] && echo yes || echo no)"
	echo "# the log says: ${why:-(nothing)}"
else
	check_eq "one line in the log says the disk is full (event=store.full)" 1 "$(logged_since "$mark" 'event=store.full')"
fi
attempts=$(logged_since "$mark" 'event=sync status=failed')
echo "# full for $((SECONDS - t_full)) s: $attempts failed passes, $(logged_since "$mark" .) log lines, $ticks CPU ticks in $secs s"
# backoff 1, 2, 4, 8 ... s: a handful of passes, not hundreds
if [ "$attempts" -ge 1 ] && [ "$attempts" -le $(( secs / 2 + 4 )) ]; then ok "it backs off ($attempts passes in $secs s)"
else not_ok "$attempts failed passes in $secs s: spinning or never trying"; fi
# 100 ticks a second: under 20% of one CPU
if [ "$ticks" -le $(( secs * 20 )) ]; then ok "it does not spin ($ticks CPU ticks in $secs s)"
else not_ok "it spins: $ticks CPU ticks in $secs s"; fi

# --- space returns: it carries on by itself
free_disk
t_free=$SECONDS
done2() { [ "$(n_messages)" -ge $((N1 + N2)) ] && [ "$(n_queued)" = 0 ] && [ "$(n_sent)" -ge $((N1 + N2)) ]; }
inbox_empty() { [ "$(mailtool count INBOX 2>/dev/null)" = 0 ]; }
if rel_wait_until "$STALL" done2 && rel_wait_until "$STALL" inbox_empty; then
	ok "once there is space it takes the $N2 mails in ($((SECONDS - t_free)) s, no restart)"
else not_ok "after the space returned: $(n_messages) mails, $(n_sent) sent, $(n_queued) queued"; fi
[ "$how" = fsize ] ||
	check_eq "and one line that it is over" 1 "$(logged_since "$mark" 'event=store.full status=cleared')"
check_eq "the same daemon (pid $pid)" yes "$(rel_daemon_alive && [ "$DPID" = "$pid" ] && echo yes || echo no)"
check_eq "messages recorded once" "$((N1 + N2)) $((N1 + N2))" "$(q 'SELECT count(*) || " " || count(DISTINCT message_id) FROM messages')"
check_eq "submissions" $((N1 + N2)) "$(q 'SELECT count(*) FROM submissions')"
mailtool list Processed >"$W/processed.txt"
check_eq "Processed holds them all" $((N1 + N2)) "$(cut -f2 "$W/processed.txt" | sort -u | wc -l)"
rel_wait_delivered $((N1 + N2)) 60 || not_ok "OpenSMTPD did not deliver everything within 60 s"
rel_answers >"$W/answers.txt"
rel_check_answers "$W/answers.txt" "fb$$" "$N2" 0

# --- the disk fills while answers are on their way out: answers wait for
# OpenSMTPD (stopped), the disk fills, OpenSMTPD returns. A mail that went out
# but whose "sent" mark cannot be written must not go out again: not at every
# retry while the disk stays full, nor once there is space (it is marked
# then), and the rest follows.
harness_stop_smtpd
mark=$(wc -l <"$LOG")
rel_fill "$N3" fc$$
waiting() { [ "$(n_queued)" -ge "$N3" ] && [ "$(logged_since "$mark" 'event=send status=deferred')" -gt 0 ]; }
rel_wait_until "$STALL" waiting || not_ok "the answers to the last $N3 mails were not queued"
fill_disk
harness_start_smtpd
sleep "$FULL"
sends=$(logged_since "$mark" 'event=sent ')
echo "# answers handed to OpenSMTPD while the disk was full: $sends (one, whose mark could not be written)"
if [ "$sends" -le 1 ]; then ok "no answer sent over and over while the disk is full ($sends)"
else not_ok "$sends sends while the disk was full: the unmarked answer goes out again and again"; fi
check_eq "and the sending pause is logged" yes \
	"$([ "$sends" = 0 ] || [ "$(logged_since "$mark" 'event=outbox status=failed')" -ge 1 ] && echo yes || echo no)"
free_disk
t_free=$SECONDS
done3() { [ "$(n_queued)" = 0 ] && [ "$(n_sent)" -ge $((N1 + N2 + N3)) ]; }
if rel_wait_until "$STALL" done3; then ok "once there is space the answers go out ($((SECONDS - t_free)) s, no restart)"
else not_ok "after the space returned: $(n_queued) answers still queued"; fi
check_eq "the same daemon (pid $pid), still" yes "$(rel_daemon_alive && [ "$DPID" = "$pid" ] && echo yes || echo no)"
rel_wait_delivered $((N1 + N2 + N3)) 60 || not_ok "OpenSMTPD did not deliver everything within 60 s"
rel_answers >"$W/answers-c.txt"
# no crash here: the mail that went out unmarked is recorded, not sent again
rel_check_answers "$W/answers-c.txt" "fc$$" "$N3" 0
kill -TERM "$DPID"
for _ in $(seq 100); do rel_daemon_alive || break; sleep 0.1; done
wait "$DPID"
check_eq "mercomaild stops cleanly" 0 "$?"
DPID=
check_eq "PRAGMA integrity_check" ok "$(q 'PRAGMA integrity_check')"
if grep -q 'AddressSanitizer\|runtime error:\|LeakSanitizer' "$LOG"; then
	not_ok "sanitizer report in the daemon log"
else ok "no sanitizer report"; fi
[ "$FAILED" = 0 ] || { echo "# daemon log (last 30 lines):"; tail -n 30 "$LOG" | sed 's/^/#   /'; }
echo "# path: $how"
finish
