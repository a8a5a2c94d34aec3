#!/bin/bash
# Mailing lists by mail, through the real OpenSMTPD and Dovecot: members from
# the roster, subscribe / unsubscribe / digest mode by subject and by command
# address, the same answer whether or not the address was on the list, a
# subscription of another address (and any outsider on a closed list) only
# after the reply to a signed single-use confirmation, and the CLI.
set -u
. "$(dirname "$0")/harness.sh"
. "$(dirname "$0")/common.sh"
start_work
write_config "$CONF" smtp=yes
mkdir -p "$W/out"

POA=gabinete@portoalegre.example	# coordinates cultura (pt)
CAN=intendencia@canelones.example	# subcoordinates cultura (es)
STR=alguien@desconocido.example		# not in the roster
NOT=nadie@desconocido.example		# not in the roster, never subscribed
OTH=otra@desconocido.example		# subscribed by POA: must confirm
CLO=cerrado@desconocido.example		# outsider on a closed list
for a in $POA $CAN $STR $NOT $OTH $CLO; do harness_add_user "$a" pw; done
"$MERCOMAIL" -c "$CONF" init >/dev/null
"$MERCOMAIL" -c "$CONF" roster import "$MERCOMAIL_TESTDATA/roster/cities.csv" \
	"$MERCOMAIL_TESTDATA/roster/units.csv" >/dev/null

N=0
# send FROM SUBJECT [TO]
send() {
	N=$((N + 1))
	printf 'From: %s\r\nTo: %s\r\nSubject: %s\r\nMessage-ID: <ls-%d-%s@test.example>\r\nDate: %s\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=UTF-8\r\n\r\nGracias.\r\n' \
	    "$1" "${3:-$HARNESS_USER}" "$2" "$N" "$$" "$(date -R)" > "$W/m$N.eml"
	mailtool send --from "$1" --to "${3:-$HARNESS_USER}" "$W/m$N.eml" >/dev/null
}
run_once() {
	mailtool wait-count INBOX "$1" --timeout 30 >/dev/null || not_ok "only $(mailtool count INBOX) of $1 mails arrived"
	"$MERCOMAILD" -c "$CONF" --once >>"$W/daemon.log" 2>&1 || not_ok "mercomaild --once failed"
}
members() { "$MERCOMAIL" -c "$CONF" list members cultura 2>/dev/null | cut -f1,3 | tr '\t' ' ' | LC_ALL=C sort | tr '\n' ';'; }
# want "ADDR MODE"...: the members expected, in the order members() prints
want() { printf '%s\n' "$@" | LC_ALL=C sort | tr '\n' ';'; }
# last ADDR N: wait for N mails, print the body of the newest
last() {
	mailtool --user "$1" --password pw wait-count INBOX "$2" --timeout 30 >/dev/null ||
		not_ok "$1 got $(mailtool --user "$1" --password pw count INBOX) mails, expected $2"
	rm -rf "$W/out/$1"
	mailtool --user "$1" --password pw fetch-all INBOX "$W/out/$1" >/dev/null
	python3 - "$(ls -t "$W/out/$1"/* | head -n 1)" <<'PY'
import email, email.policy, sys
m = email.message_from_binary_file(open(sys.argv[1], "rb"), policy=email.policy.default)
print("Subject:", m["Subject"]); print("Reply-To:", m.get("Reply-To", "")); print(m.get_body(("plain",)).get_content())
PY
}

check_eq "the roster makes the list" "$(want "$CAN daily" "$POA daily")" "$(members)"

# --- by subject, es/pt, and by command address
send $STR "suscribir cultura"
send $POA "Resumo semanal cultura"
send $CAN "cualquier cosa" "secretaria+cultura-unsubscribe@red.test"
run_once 3
check_eq "subscribe, digest mode and the command address" "$(want "$POA weekly" "$STR daily")" "$(members)"
last $STR 1 > "$W/str.txt"
check_grep "the subscriber is told (es)" "recibe desde ahora los resúmenes" "$W/str.txt"
last $POA 1 > "$W/poa.txt"
check_grep "the digest mode answer in Portuguese" "receberá um resumo por semana" "$W/poa.txt"
last $CAN 1 > "$W/can.txt"
check_grep "the unsubscribe answer" "no recibirá más correo de la lista" "$W/can.txt"

# --- no probing: leaving a list one is not on reads exactly the same
send $NOT "baja cultura"
run_once 1
last $NOT 1 | sed "s/$NOT/ADDR/g" > "$W/not.txt"
sed "s/$CAN/ADDR/g" "$W/can.txt" > "$W/can2.txt"
if cmp -s "$W/not.txt" "$W/can2.txt"; then ok "the same answer for a member and a stranger"
else not_ok "answers differ:"; diff "$W/can2.txt" "$W/not.txt"; fi
send $NOT "resumen diario cultura"
run_once 1
check_eq "a digest mode from a stranger subscribes nobody" "$(want "$POA weekly" "$STR daily")" "$(members)"

# --- another address: only after the reply to the confirmation
send $POA "inscrever cultura $OTH"
run_once 1
check_eq "not subscribed before confirming" "$(want "$POA weekly" "$STR daily")" "$(members)"
last $OTH 1 > "$W/oth.txt"
check_grep "the confirmation names who asked" "$POA" "$W/oth.txt"
confirm=$(sed -n 's/^Reply-To: .*<\(secretaria+confirm-[^>]*\)>.*/\1/p' "$W/oth.txt")
[ -n "$confirm" ] && ok "a signed confirmation address" || not_ok "no confirm Reply-To in: $(head -3 "$W/oth.txt")"
send $STR "Re: Confirme" "$confirm"	# the wrong person replies
run_once 1
check_eq "a reply from someone else does not confirm" "$(want "$POA weekly" "$STR daily")" "$(members)"
send $OTH "Re: Confirme su suscripción" "$confirm"
run_once 1
check_eq "the reply confirms" "$(want "$OTH daily" "$POA weekly" "$STR daily")" "$(members)"
"$MERCOMAIL" -c "$CONF" list remove cultura $OTH >/dev/null
send $OTH "Re: Confirme su suscripción" "$confirm"
run_once 1
check_eq "a confirmation works once" "$(want "$POA weekly" "$STR daily")" "$(members)"
send $POA "inscrever cultura $OTH"
run_once 1
send $POA "inscrever cultura $OTH"
run_once 1
check_eq "one pending confirmation a day per address" 2 \
	"$(sql "SELECT count(*) FROM outbox WHERE rcpt = '$OTH' AND purpose = 'list-confirm'")"

# --- a closed list: an outsider confirms even for their own address
"$MERCOMAIL" -c "$CONF" list set cultura --closed yes > "$W/set.txt"
check_grep "list set --closed yes" "Subscribing *closed" "$W/set.txt"
send $CLO "subscribe cultura"
run_once 1
check_eq "closed: not subscribed at once" "$(want "$POA weekly" "$STR daily")" "$(members)"
last $CLO 1 > "$W/clo.txt"
check_grep "closed: a confirmation instead" "Confirme su suscripción" "$W/clo.txt"

# --- CLI
"$MERCOMAIL" -c "$CONF" list add cultura Nuevo@Example.org --lang pt --digest none >/dev/null
check_eq "list add" "$(want "nuevo@example.org none" "$POA weekly" "$STR daily")" "$(members)"
"$MERCOMAIL" -c "$CONF" list remove cultura $POA >/dev/null
check_eq "list remove (a roster member too)" "$(want "nuevo@example.org none" "$STR daily")" "$(members)"
"$MERCOMAIL" -c "$CONF" list members nope >/dev/null 2>&1
check_eq "an unknown unit is a data error" 65 "$?"
"$MERCOMAIL" -c "$CONF" list set cultura --closed maybe >/dev/null 2>&1
check_eq "list set: a bad value is a usage error" 64 "$?"
"$MERCOMAIL" -c "$CONF" list set cultura --closed no --always yes >/dev/null
check_eq "list set --closed no: open again, always kept apart" "0 1" \
	"$(sql "SELECT closed || ' ' || digest_always FROM lists l JOIN units u ON u.id = l.unit_id WHERE u.slug = 'cultura'")"
check_eq "each change is audited" 2 "$(sql "SELECT count(*) FROM audit_log WHERE action = 'list.set' AND object = 'cultura'")"
check_eq "every command recorded, none held" 0 \
	"$(sql "SELECT count(*) FROM messages WHERE state = 'held'")"

[ "$FAILED" -eq 0 ] || { cat "$W/daemon.log"; }
finish
