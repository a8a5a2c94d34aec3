#!/bin/bash
# The demo: set up what a fresh Debian 12 machine lacks, build, start a
# private Dovecot (IMAP) and OpenSMTPD (SMTP) on loopback, import the sample
# roster, mail a few sample submissions to the secretariat through OpenSMTPD,
# run mercomaild once and show what it stored. Everything runs in a temporary
# directory and stops at the end (HARNESS_KEEP=1 keeps the directory).
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
write_config "$CONF"

step() { printf '\n== %s\n' "$*"; }

step "mercomail init"
"$MERCOMAIL" -c "$CONF" init
step "mercomail roster import (the sample roster)"
"$MERCOMAIL" -c "$CONF" roster import tests/data/roster/cities.csv tests/data/roster/units.csv

step "sending $(ls tests/data/demo/*.eml | wc -l) sample submissions through OpenSMTPD"
n=0
for f in tests/data/demo/*.eml; do
	from=$(sed -n 's/^From:.*<\(.*\)>.*/\1/p' "$f" | head -1)
	mailtool send --from "$from" --to "$HARNESS_USER" "$f"
	n=$((n + 1))
done
mailtool wait-count INBOX "$n" --timeout 30

step "mercomaild --once"
"$MERCOMAILD" -c "$CONF" --once

step "mercomail messages list"
"$MERCOMAIL" -c "$CONF" messages list
step "what is left on the server"
echo "INBOX: $(mailtool count INBOX) messages, Processed: $(mailtool count Processed) messages"
step "mercomail roster list (first lines)"
"$MERCOMAIL" -c "$CONF" roster list | head -15
