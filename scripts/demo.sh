#!/bin/bash
# The demo: set up what a fresh Debian 12 machine lacks, build, start a
# private Dovecot (IMAP) and OpenSMTPD (SMTP) on loopback, import the sample
# roster, mail the sample submissions to the secretariat through OpenSMTPD,
# run mercomaild once, and show what it recorded and the answers the senders
# received. Everything runs in a temporary directory and stops at the end
# (HARNESS_KEEP=1 keeps the directory).
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"

bash scripts/deps.sh
if [ ! -x build/demo/mercomaild ] || [ ! -x build/demo/mercomail ]; then
	autoreconf -fi >/dev/null
	mkdir -p build/demo
	(cd build/demo && "$top"/configure >/dev/null)
fi
make -C build/demo -j2 >/dev/null

export MERCOMAIL_BUILDDIR=$top/build/demo
. tests/integration/harness.sh
. tests/integration/common.sh
harness_start

DB=$HARNESS_DIR/demo/mercomail.db
CONF=$HARNESS_DIR/demo/mercomail.conf
mkdir -p "$HARNESS_DIR/demo"
write_config "$CONF" smtp=yes

step() { printf '\n== %s\n' "$*"; }
# the From address of a sample mail
sender_of() { sed -n 's/^From:.*<\(.*\)>.*/\1/p' "$1" | head -1; }
# print a delivered mail for a person: decoded Subject and body
show_mail() {
	python3 - "$1" <<'PY'
import email, email.policy, sys
m = email.message_from_binary_file(open(sys.argv[1], "rb"), policy=email.policy.default)
print("   Subject: " + str(m["Subject"]))
body = m.get_body(preferencelist=("plain",)).get_content()
for line in body.splitlines()[:14]:
    print("   | " + line)
print("   | ...")
PY
}

step "mercomail init"
"$MERCOMAIL" -c "$CONF" init
step "mercomail roster import (the sample roster)"
"$MERCOMAIL" -c "$CONF" roster import tests/data/roster/cities.csv tests/data/roster/units.csv

senders=()
for f in tests/data/demo/*.eml; do senders+=("$(sender_of "$f")"); done
for a in $(printf '%s\n' "${senders[@]}" | sort -u); do harness_add_user "$a" demo; done

step "sending ${#senders[@]} sample mails through OpenSMTPD"
for f in tests/data/demo/*.eml; do
	printf '   %-36s %s\n' "$(basename "$f")" "$(sender_of "$f")"
	mailtool send --from "$(sender_of "$f")" --to "$HARNESS_USER" "$f"
done
mailtool wait-count INBOX "${#senders[@]}" --timeout 30 >/dev/null

step "mercomaild --once (fetch, read, check, record, answer)"
"$MERCOMAILD" -c "$CONF" --once 2>&1 | grep -E 'event=(ingest|sync|outbox)' | sed 's/^mercomaild: //'

step "mercomail messages list (every mail, with what it turned out to be)"
"$MERCOMAIL" -c "$CONF" messages list
step "mercomail submissions list (what was recorded)"
"$MERCOMAIL" -c "$CONF" submissions list
echo "   (the server: INBOX $(mailtool count INBOX), Processed $(mailtool count Processed), Rejected $(mailtool count Rejected))"

step "the answers, read back from each sender's mailbox in Dovecot"
for a in $(printf '%s\n' "${senders[@]}" | sort -u); do
	n=$(mailtool --user "$a" --password demo count INBOX)
	printf '\n-- %s: %s answer(s)\n' "$a" "$n"
	[ "$n" -gt 0 ] || continue
	rm -rf "$HARNESS_DIR/demo/answers"
	mailtool --user "$a" --password demo fetch-all INBOX "$HARNESS_DIR/demo/answers" >/dev/null
	for m in "$HARNESS_DIR"/demo/answers/*.eml; do show_mail "$m"; done
done
