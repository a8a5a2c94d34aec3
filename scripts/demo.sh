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

# --- a meeting: asked for by mail, invites in the members' calendars, an RSVP back
POA=gabinete@portoalegre.example	# coordinates the Cultura unit
CAN=intendencia@canelones.example	# its subcoordinator
for a in $POA $CAN; do harness_add_user "$a" demo 2>/dev/null || true; done
# newest MAIL of ADDR whose calendar part has METHOD, into FILE
newest_calendar() {
	rm -rf "$HARNESS_DIR/demo/box"
	mailtool --user "$1" --password demo fetch-all INBOX "$HARNESS_DIR/demo/box" >/dev/null
	grep -l -i "^Content-Type: text/calendar.*method=$2" "$HARNESS_DIR"/demo/box/*.eml | tail -n 1
}

step "a meeting request from the coordinator of Cultura (Porto Alegre), by mail"
cat > "$HARNESS_DIR/demo/request.eml" <<MAIL
From: Prefeitura de Porto Alegre <$POA>
To: $HARNESS_USER
Subject: Reunião da unidade de Cultura
Message-ID: <demo-meeting-$$@portoalegre.example>
Date: $(date -R)
MIME-Version: 1.0
Content-Type: text/plain; charset=UTF-8
Content-Transfer-Encoding: 8bit

Unidade: cultura
Título: Plenário da Unidade Temática de Cultura
Início: $(date -d '+30 days' +%Y-%m-%d) 10:00
Duração: 2 horas
Local: Prefeitura de Porto Alegre
Pauta: Balanço do semestre; plano de trabalho.
MAIL
sed 's/$/\r/' "$HARNESS_DIR/demo/request.eml" > "$HARNESS_DIR/demo/request.crlf"
sed 's/^/   | /' "$HARNESS_DIR/demo/request.eml" | tail -n 6
mailtool send --from "$POA" --to "$HARNESS_USER" "$HARNESS_DIR/demo/request.crlf"
mailtool wait-count INBOX 1 --timeout 30 >/dev/null
"$MERCOMAILD" -c "$CONF" --once 2>&1 | grep -E 'event=(ingest|outbox)' | sed 's/^mercomaild: //'
REF=$("$MERCOMAIL" -c "$CONF" meeting list | grep -o 'RE-[0-9]*-[0-9]*' | head -n 1)

step "the invite in Canelones' mailbox, as python3-icalendar reads it"
inv=$(newest_calendar $CAN REQUEST)
python3 tests/integration/icalcheck.py "$inv" | grep -E '^(PART\.METHOD|METHOD|VTIMEZONE\.COUNT|VEVENT\[1\]\.(SUMMARY|DTSTART|DTSTART\.TZID|LOCATION|SEQUENCE|ORGANIZER|ATTENDEE\.COUNT|VALARM\[1\]\.TRIGGER\.MINUTES))=' | sed 's/^/   /'

step "Canelones answers the invite with one word: \"Asistiré\""
rt=$(python3 -c 'import email,email.policy,sys; m=email.message_from_binary_file(open(sys.argv[1],"rb"),policy=email.policy.default); print(m["Reply-To"].addresses[0].addr_spec)' "$inv")
printf 'From: %s\r\nTo: %s\r\nSubject: Re: Invitación\r\nMessage-ID: <demo-rsvp-%s@canelones.example>\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=UTF-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\nAsistiré.\r\n' \
	"$CAN" "$rt" "$$" > "$HARNESS_DIR/demo/rsvp.eml"
mailtool send --from "$CAN" --to "$rt" "$HARNESS_DIR/demo/rsvp.eml"
mailtool wait-count INBOX 1 --timeout 30 >/dev/null
"$MERCOMAILD" -c "$CONF" --once 2>&1 | grep -E 'event=(ingest|rsvp)' | sed 's/^mercomaild: //'
step "mercomail meeting show $REF"
"$MERCOMAIL" -c "$CONF" meeting show "$REF"

step "the Cultura unit's calendar feed, served by mercomaild over HTTP"
HTTP_PORT=$(_harness_free_ports 1)
printf '[http]\nlisten = 127.0.0.1:%s\nbase_url = http://127.0.0.1:%s\n' "$HTTP_PORT" "$HTTP_PORT" >> "$CONF"
"$MERCOMAIL" -c "$CONF" feed url unit cultura | sed 's/^/   /'
"$MERCOMAILD" -c "$CONF" >"$HARNESS_DIR/demo/daemon.log" 2>&1 &
daemon=$!
for _ in $(seq 50); do curl -s -o /dev/null "http://127.0.0.1:$HTTP_PORT/healthz" && break; sleep 0.1; done
curl -s -i "http://127.0.0.1:$HTTP_PORT/feeds/unit/cultura.ics" | tr -d '\r' > "$HARNESS_DIR/demo/feed.txt"
# its first lines, then the event (the VTIMEZONE in between is left out here)
{ sed -n '1,/^X-PUBLISHED-TTL/p' "$HARNESS_DIR/demo/feed.txt"; echo '...'
  sed -n '/^BEGIN:VEVENT/,/^END:VEVENT/p' "$HARNESS_DIR/demo/feed.txt"; } | sed 's/^/   | /'
kill -TERM "$daemon"; wait "$daemon" 2>/dev/null || true

step "the digest of the Cultura list (mercomail digest send cultura), as its coordinator reads it"
"$MERCOMAIL" -c "$CONF" digest send cultura 2>/dev/null | sed 's/^/   /'
"$MERCOMAILD" -c "$CONF" --once 2>&1 | grep -E 'event=outbox' | sed 's/^mercomaild: //'
rm -rf "$HARNESS_DIR/demo/digest"
mailtool --user "$POA" --password demo fetch-all INBOX "$HARNESS_DIR/demo/digest" >/dev/null
python3 - $(grep -l '^List-Id:' "$HARNESS_DIR/demo/digest"/* | tail -n 1) <<'PY' | sed 's/^/   | /'
import email, email.policy, sys
m = email.message_from_binary_file(open(sys.argv[1], "rb"), policy=email.policy.default)
for h in ("Return-Path", "Subject", "List-Id", "List-Unsubscribe", "List-Unsubscribe-Post", "Precedence"):
    print(f"{h}: {m[h]}")
print()
print(m.get_body(("plain",)).get_content().rstrip())
PY
