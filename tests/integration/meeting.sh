#!/bin/bash
# Meetings by mail, end to end through the real OpenSMTPD and Dovecot: a
# coordinator mails a meeting request; every invitee's mailbox then holds an
# invite that python3-icalendar reads as METHOD:REQUEST with the properties
# calendar apps need; a Google-style iTIP REPLY (sent from Google's robot
# address, naming the attendee) and a plain "Vou participar" reply record
# PARTSTATs; unclear, forged and foreign replies are answered and not
# recorded; a change by mail reaches everyone with SEQUENCE 1 and a
# cancellation with METHOD:CANCEL and SEQUENCE 2; someone else cannot
# cancel; the unit's feed answers 200 then 304.
set -u
. "$(dirname "$0")/harness.sh"
. "$(dirname "$0")/common.sh"
start_work
mkdir -p "$W/out"
# four answers an hour: the organiser gets exactly four (scheduled, RSVP, changed,
# cancelled) besides three invites, which must not count against the limit
write_config "$CONF" smtp=yes answers_per_hour=4
ICALCHECK=$MERCOMAIL_SRCDIR/tests/integration/icalcheck.py

POA=gabinete@portoalegre.example		# coordinates cultura (pt)
CAN=intendencia@canelones.example		# subcoordinates cultura (es)
ROS=internacionales@rosario.example		# invited as a guest city (es)
EXT=externo@otra.example			# invited by address, not in the roster
MVD=relaciones.internacionales@montevideo.example	# no part of this meeting
for a in $POA $CAN $ROS $EXT $MVD calendar-notification@google.example; do
	harness_add_user "$a" pw
done

"$MERCOMAIL" -c "$CONF" init >/dev/null
"$MERCOMAIL" -c "$CONF" roster import "$MERCOMAIL_TESTDATA/roster/cities.csv" \
	"$MERCOMAIL_TESTDATA/roster/units.csv" >/dev/null

echo 0 > "$W/count"
# send FROM TO SUBJECT [CONTENT-TYPE] < BODY: one mail through OpenSMTPD
send() {
	local from=$1 to=$2 subject=$3 ctype=${4:-text/plain; charset=UTF-8} f N
	N=$(( $(cat "$W/count") + 1 ))
	echo "$N" > "$W/count"
	f=$W/m-$N.eml
	{
		printf 'From: %s\r\nTo: %s\r\nSubject: %s\r\n' "$from" "$to" "$subject"
		printf 'Message-ID: <mtg-%d-%s@test.example>\r\nDate: %s\r\n' "$N" "$$" "$(date -R)"
		printf 'MIME-Version: 1.0\r\nContent-Type: %s\r\n' "$ctype"
		printf 'Content-Transfer-Encoding: 8bit\r\n\r\n'
		sed 's/$/\r/'
	} > "$f"
	mailtool send --from "$from" --to "$to" "$f" >/dev/null
}
# run_daemon N: once the N mails just sent are in the inbox, one pass
run_daemon() {
	mailtool wait-count INBOX "$1" --timeout 30 >/dev/null ||
		not_ok "only $(mailtool count INBOX) of $1 mails arrived"
	"$MERCOMAILD" -c "$CONF" --once >>"$W/daemon.log" 2>&1 || not_ok "mercomaild --once failed"
}
# subjects ADDR: the decoded subjects of every mail in ADDR's mailbox
subjects() {
	fetch "$1"
	python3 - "$W/out/$1" <<'PY'
import email, email.policy, os, sys
for f in sorted(os.listdir(sys.argv[1])):
    m = email.message_from_binary_file(open(os.path.join(sys.argv[1], f), "rb"), policy=email.policy.default)
    print(str(m["Subject"]))
PY
}
# has NAME PATTERN TEXT: ok when TEXT matches PATTERN
has() { if grep -q -- "$2" <<<"$3"; then ok "$1"; else not_ok "$1: no '$2' in: $3"; fi; }
fetch() { rm -rf "$W/out/$1"; mailtool --user "$1" --password pw fetch-all INBOX "$W/out/$1" >/dev/null; }
# calendar_mails ADDR METHOD: the delivered mails of ADDR with a calendar part of METHOD
calendar_mails() { grep -l -i "^Content-Type: text/calendar.*method=$2" "$W/out/$1"/*.eml 2>/dev/null; }
last_calendar() { calendar_mails "$1" "$2" | tail -n 1; }
# hdr FILE NAME: a header of a delivered mail, decoded
hdr() {
	python3 - "$1" "$2" <<'PY'
import email, email.policy, sys
m = email.message_from_binary_file(open(sys.argv[1], "rb"), policy=email.policy.default)
print(str(m.get(sys.argv[2], "")))
PY
}
partstat() { sql "SELECT partstat || '/' || coalesce(answer_via, '-') FROM meeting_attendees WHERE address = '$1'"; }
# body FILE: the decoded text/plain part of a delivered mail
body() {
	python3 - "$1" <<'PY'
import email, email.policy, sys
m = email.message_from_binary_file(open(sys.argv[1], "rb"), policy=email.policy.default)
print(m.get_body(preferencelist=("plain",)).get_content())
PY
}
answered_with() {	# ADDR REGEX: a mail of ADDR says it (decoded, joined into one line)
	local f
	fetch "$1"
	for f in "$W/out/$1"/*.eml; do
		body "$f" | tr '\n' ' ' | grep -q -E "$2" && return 0
	done
	return 1
}

# --- 1. the coordinator of cultura asks for a meeting ------------------------------
send $POA "$HARNESS_USER" "Reunião da unidade de Cultura" <<'B'
Unidade: cultura
Título: Plenário da Unidade Temática de Cultura
Início: 2027-03-10 10:00
Duração: 2 horas
Local: Prefeitura de Porto Alegre; sala 3
Pauta: Balanço do semestre.
  Plano de trabalho 2027.
Convidados: Rosario, externo@otra.example
B
run_daemon 1
REF=$(sql "SELECT reference FROM meetings")
UID_=$(sql "SELECT uid FROM meetings")
check_eq "one meeting scheduled" "1" "$(sql 'SELECT count(*) FROM meetings')"
has "reference RE-YYYY-NNNN" '^RE-2[0-9]\{3\}-[0-9]\{4\}$' "$REF"
check_eq "the request is recorded" "recorded" "$(sql "SELECT state FROM messages WHERE message_id = '<mtg-1-$$@test.example>'")"
check_eq "invitees: Porto Alegre, Canelones, Rosario and the address" \
	"$EXT $POA $CAN $ROS" "$(sql 'SELECT address FROM meeting_attendees ORDER BY address' | tr '\n' ' ' | sed 's/ $//')"
check_eq "the organiser chairs" "CHAIR" "$(sql "SELECT role FROM meeting_attendees WHERE address = '$POA'")"
check_eq "starts 10:00 in Sao Paulo's zone (13:00 UTC)" "2027-03-10 13:00" \
	"$(sql "SELECT strftime('%Y-%m-%d %H:%M', start_at, 'unixepoch') FROM meetings")"
check_eq "two hours" "7200" "$(sql 'SELECT end_at - start_at FROM meetings')"
# the organiser's acknowledgement, in Portuguese
fetch $POA
if grep -l -q "Reuni=C3=A3o convocada\|Reunião convocada" "$W/out/$POA"/*.eml 2>/dev/null ||
   grep -l -q "$REF" "$W/out/$POA"/*.eml; then ok "the organiser is told, with the reference"
else not_ok "no acknowledgement for the organiser"; fi

# --- 2. every invitee holds an invite that an independent parser reads ---------------
for a in $POA $CAN $ROS $EXT; do
	fetch "$a"
	f=$(last_calendar "$a" REQUEST)
	if [ -z "$f" ]; then not_ok "$a: no invite"; continue; fi
	cp "$f" "$W/invite-$a.eml"
	if python3 "$ICALCHECK" "$f" --expect METHOD=REQUEST --expect PART.METHOD=REQUEST \
		--expect PART.LAST_IN_ALTERNATIVE=yes --expect LINES.CRLF=yes --expect SEQUENCE=0 \
		--expect STATUS=CONFIRMED --expect "UID=$UID_" \
		--expect "SUMMARY=Plenário da Unidade Temática de Cultura" \
		--expect "LOCATION=Prefeitura de Porto Alegre; sala 3" \
		--expect "ORGANIZER=$HARNESS_USER" --expect ATTENDEE.COUNT=4 \
		--expect "ATTENDEE[$a].PARTSTAT=NEEDS-ACTION" --expect "ATTENDEE[$a].RSVP=TRUE" \
		--expect DTSTART.TZID=America/Sao_Paulo --expect VTIMEZONE.COUNT=1 \
		--expect "VTIMEZONE[America/Sao_Paulo].STANDARD=1" \
		--expect "VTIMEZONE[America/Sao_Paulo].RDATE=0" \
		--expect VALARM[1].TRIGGER.MINUTES=-1440 >"$W/icalcheck-$a.txt" 2>&1
	then ok "$a: the invite parses with python3-icalendar as expected"
	else not_ok "$a: invite check"; cat "$W/icalcheck-$a.txt"; fi
done
has "the Portuguese invite is in Portuguese" "Convite" "$(hdr "$W/invite-$POA.eml" Subject)"
has "the Spanish invite is in Spanish" "Invitaci" "$(hdr "$W/invite-$CAN.eml" Subject)"
RT_POA=$(hdr "$W/invite-$POA.eml" Reply-To | sed 's/.*<\(.*\)>.*/\1/')
RT_ROS=$(hdr "$W/invite-$ROS.eml" Reply-To | sed 's/.*<\(.*\)>.*/\1/')
has "the invite's Reply-To is a signed address" "^${HARNESS_USER%@*}+rsvp-[a-z0-9-]*@" "$RT_POA"
fetch $MVD
check_eq "a city outside the meeting gets nothing" "0" "$(ls "$W/out/$MVD" | wc -l)"

# --- 3. answers ------------------------------------------------------------------------
reply_ics() {	# UID ATTENDEE PARTSTAT [EXTRA ATTENDEE]
	printf 'BEGIN:VCALENDAR\nPRODID:-//Google Inc//Google Calendar 70.9054//EN\nVERSION:2.0\n'
	printf 'CALSCALE:GREGORIAN\nMETHOD:REPLY\nBEGIN:VEVENT\nDTSTART:20270310T130000Z\n'
	printf 'DTEND:20270310T150000Z\nDTSTAMP:20261125T101512Z\n'
	printf 'ORGANIZER;CN=Secretaria:mailto:%s\nUID:%s\n' "$HARNESS_USER" "$1"
	printf 'ATTENDEE;CUTYPE=INDIVIDUAL;ROLE=REQ-PARTICIPANT;PARTSTAT=%s;CN=Ana;X-NUM-GUESTS=0:mailto:%s\n' "$3" "$2"
	[ -z "${4:-}" ] || printf 'ATTENDEE;PARTSTAT=ACCEPTED:mailto:%s\n' "$4"
	printf 'SEQUENCE:0\nSTATUS:CONFIRMED\nSUMMARY:Plenário\nEND:VEVENT\nEND:VCALENDAR\n'
}
# Google replies from its notification robot; the ATTENDEE says who it is
reply_ics "$UID_" "Intendencia@Canelones.example" ACCEPTED |
	send calendar-notification@google.example "$HARNESS_USER" \
	"Aceptado: Plenário @ mié 10 mar 2027" "text/calendar; charset=UTF-8; method=REPLY"
send $POA "$RT_POA" "Re: Convite: Plenário" <<'B'
Vou participar.

Em qua., 25 de nov. de 2026, Secretaria escreveu:
> Convite
B
send $ROS "$RT_ROS" "Re: Invitación" <<'B'
Muchas gracias por la invitación.
B
reply_ics "$UID_" "$MVD" ACCEPTED | send $MVD "$HARNESS_USER" "Accepted" "text/calendar; charset=UTF-8; method=REPLY"
reply_ics "$UID_" "$CAN" DECLINED "$ROS" | send $CAN "$HARNESS_USER" "Declined" "text/calendar; charset=UTF-8; method=REPLY"
reply_ics "RE-1999-0001-nada@x" "$CAN" DECLINED | send $CAN "$HARNESS_USER" "Declined" "text/calendar; charset=UTF-8; method=REPLY"
send $MVD "$RT_ROS" "Re: Invitación" <<'B'
Asistiré
B
run_daemon 7
check_eq "Google-style REPLY: Canelones accepted (by its ATTENDEE, not From)" "ACCEPTED/itip" "$(partstat $CAN)"
check_eq "plain 'Vou participar': Porto Alegre accepted" "ACCEPTED/words" "$(partstat $POA)"
check_eq "an unclear reply records nothing" "NEEDS-ACTION/-" "$(partstat $ROS)"
if answered_with $ROS "no pudimos entender"; then ok "the unclear reply is asked again"; else not_ok "no question back to Rosario"; fi
if answered_with $POA "Registramos a sua resposta ao convite: vou participar"; then ok "the plain reply is acknowledged in Portuguese"; else not_ok "no acknowledgement of the RSVP"; fi
check_eq "a REPLY for someone not invited is refused" "rejected" \
	"$(sql "SELECT state FROM messages WHERE message_id = '<mtg-5-$$@test.example>'")"
check_eq "a REPLY with two ATTENDEEs is refused" "rejected" \
	"$(sql "SELECT state FROM messages WHERE message_id = '<mtg-6-$$@test.example>'")"
check_eq "a REPLY for an unknown UID is refused" "rejected" \
	"$(sql "SELECT state FROM messages WHERE message_id = '<mtg-7-$$@test.example>'")"
check_eq "Rosario's signed address used by someone else is refused" "rejected" \
	"$(sql "SELECT state FROM messages WHERE message_id = '<mtg-8-$$@test.example>'")"
check_eq "... and Rosario's answer is untouched" "NEEDS-ACTION/-" "$(partstat $ROS)"
if answered_with $MVD "no figura entre las personas invitadas"; then ok "the outsider's REPLY is answered"; else not_ok "no answer to the outsider"; fi
send $ROS "$RT_ROS" "Re: Invitación" <<'B'
No podré asistir, lo siento.
B
run_daemon 1
check_eq "'No podré asistir': Rosario declined" "DECLINED/words" "$(partstat $ROS)"
show=$("$MERCOMAIL" -c "$CONF" meeting show "$REF" 2>&1)
has "meeting show lists Canelones as accepted" "$CAN.*ACCEPTED" "$show"
has "meeting show lists Rosario as declined" "$ROS.*DECLINED" "$show"
has "meeting show lists the guest address with no answer" "$EXT.*NEEDS-ACTION" "$show"

# --- 4. a change of time by mail: SEQUENCE 1 to everyone ------------------------------
send $POA "$HARNESS_USER" "Alteração de reunião" <<B
Referência: $REF
Início: 2027-03-11 15:00
B
run_daemon 1
check_eq "the meeting moved to 11 March 15:00 (18:00 UTC), same length" "2027-03-11 18:00 7200" \
	"$(sql "SELECT strftime('%Y-%m-%d %H:%M', start_at, 'unixepoch') || ' ' || (end_at - start_at) FROM meetings")"
for a in $POA $CAN $ROS $EXT; do
	fetch "$a"
	n=$(calendar_mails "$a" REQUEST | wc -l)
	f=$(last_calendar "$a" REQUEST)
	if [ "$n" = 2 ] && python3 "$ICALCHECK" "$f" --expect METHOD=REQUEST --expect SEQUENCE=1 \
		--expect "UID=$UID_" >"$W/ic.txt" 2>&1
	then ok "$a: the update has the same UID and SEQUENCE 1"
	else not_ok "$a: update ($n invites)"; cat "$W/ic.txt"; fi
done

# --- 5. only the coordination, the organiser or the secretariat may cancel ------------
send $ROS "$HARNESS_USER" "Cancelar reunião" <<B
Referencia: $REF
B
run_daemon 1
check_eq "Rosario cannot cancel it" "confirmed" "$(sql 'SELECT status FROM meetings')"
send $POA "$HARNESS_USER" "Cancelamento de reunião" <<B
Referência: $REF
Motivo: Mudança de sede.
B
run_daemon 1
check_eq "the organiser cancels it" "cancelled" "$(sql 'SELECT status FROM meetings')"
for a in $POA $CAN $ROS $EXT; do
	fetch "$a"
	f=$(last_calendar "$a" CANCEL)
	if [ -n "$f" ] && python3 "$ICALCHECK" "$f" --expect METHOD=CANCEL --expect SEQUENCE=2 \
		--expect STATUS=CANCELLED --expect "UID=$UID_" >"$W/ic.txt" 2>&1
	then ok "$a: the cancel has METHOD:CANCEL, STATUS:CANCELLED, SEQUENCE 2"
	else not_ok "$a: cancel"; cat "$W/ic.txt"; fi
done
# --- 6. replies shaped like each calendar app's (tests/data/itip/mail): Google's
# from its robot address, Outlook's base64 with Windows zone names, Apple's as a
# quoted-printable attachment, Thunderbird's inline; each for a meeting of its UID
i=0
for fx in google-accepted:ana.perez@montevideo.test outlook-declined:joao.silva@recife.test \
	apple-tentative:marta.rodriguez@montevideo.test thunderbird-accepted:lucia.gomez@rosario.test; do
	f=$MERCOMAIL_TESTDATA/itip/mail/${fx%%:*}.eml
	uid=$(python3 "$ICALCHECK" "$f" | sed -n 's/^VEVENT\[1\]\.UID=//p')
	i=$((i + 1))
	sql "INSERT INTO meetings (uid, reference, unit_id, title, start_at, end_at, tzid, created_at, changed_at)
	     SELECT '$uid', 'RE-2099-000$i', id, 'Fixture $i', 4102444800, 4102452000, 'America/Montevideo', 0, 0
	     FROM units WHERE slug = 'cultura';
	     INSERT INTO meeting_attendees (meeting_id, address) VALUES (last_insert_rowid(), '${fx#*:}');"
	mailtool send --from "${fx#*:}" --to "$HARNESS_USER" "$f" >/dev/null
done
run_daemon 4
check_eq "Google-shaped reply recorded" "ACCEPTED/itip" "$(partstat ana.perez@montevideo.test)"
check_eq "Outlook-shaped reply (base64, Windows zone names) recorded" "DECLINED/itip" "$(partstat joao.silva@recife.test)"
check_eq "Apple-shaped reply (attached, quoted-printable) recorded" "TENTATIVE/itip" "$(partstat marta.rodriguez@montevideo.test)"
check_eq "Thunderbird-shaped reply recorded" "ACCEPTED/itip" "$(partstat lucia.gomez@rosario.test)"

has "the organiser was told of the change and of the cancellation (invites do not count against the hourly limit)" \
	"Reunião alterada.*Reunião cancelada" "$(subjects $POA | tr '\n' ' ')"
check_eq "every mail was answered or recorded, none left new" "0" \
	"$(sql "SELECT count(*) FROM messages WHERE state = 'new'")"
check_eq "nothing left in the outbox" "0" "$(sql "SELECT count(*) FROM outbox WHERE state != 'sent'")"
finish
