#!/bin/bash
# Meetings from the command line, end to end: `mercomail meeting create`
# queues one invitation per invitee, mercomaild sends them through the real
# OpenSMTPD into Dovecot, and every member's mailbox is read back and its
# invitation parsed with python3-icalendar (a parser nobody here wrote):
# METHOD and the Content-Type's method, the calendar part last, a bare
# ORGANIZER, one ATTENDEE per invitee with NEEDS-ACTION and RSVP, SEQUENCE,
# VTIMEZONE, VALARM. Then an update of the time (SEQUENCE 1), an update of
# the agenda only (SEQUENCE still 1, new DTSTAMP), a cancel (METHOD:CANCEL,
# STATUS:CANCELLED, SEQUENCE 2), `meeting show`, and CR/LF injection.
set -u
. "$(dirname "$0")/harness.sh"
. "$(dirname "$0")/common.sh"

# python3-icalendar is a Debian package: the system python has it
PY=python3
/usr/bin/python3 -c 'import icalendar' 2>/dev/null && PY=/usr/bin/python3
if ! $PY -c 'import icalendar' 2>/dev/null; then
	echo "SKIP: python3-icalendar is not installed (scripts/deps.sh installs it)"
	exit 77
fi
start_work
write_config "$CONF" smtp=yes

POA=gabinete@portoalegre.example		# coordinator city of cultura (pt)
CAN=intendencia@canelones.example		# subcoordinator (es)
CUR=gabinete@curitiba.example			# a member, added below (pt)
ROS=internacionales@rosario.example		# invited as a city (es)
GST=invitada@ong.example			# invited by address, not in the roster
ENC=intendencia@encarnacion.example		# integracion-fronteriza (injection test)
PAY=intendencia@paysandu.example
EVERYONE="$POA $CAN $CUR $ROS $GST"
for a in $EVERYONE $ENC $PAY; do harness_add_user "$a" pw; done

"$MERCOMAIL" -c "$CONF" init >/dev/null
"$MERCOMAIL" -c "$CONF" roster import "$MERCOMAIL_TESTDATA/roster/cities.csv" \
	"$MERCOMAIL_TESTDATA/roster/units.csv" >/dev/null
sql "INSERT INTO unit_members (unit_id, city_id, role) SELECT u.id, c.id, 'member'
	FROM units u, cities c WHERE u.slug = 'cultura' AND c.name = 'Curitiba'"

# facts MAIL: what a delivered invitation says, one KEY=VALUE per line,
# read with Python's email package and python3-icalendar
cat > "$W/facts.py" <<'PY'
import email, email.policy, sys
import icalendar

raw = open(sys.argv[1], "rb").read()
m = email.message_from_bytes(raw, policy=email.policy.default)
out = {}
out["subject"] = str(m["Subject"])
out["reply_to"] = str(m.get("Reply-To", ""))
out["auto_submitted"] = str(m.get("Auto-Submitted", ""))
out["loop"] = str(m.get("X-Mercomail-Loop", ""))
out["top"] = m.get_content_type()
parts = [p for p in m.iter_parts()] if m.is_multipart() else []
out["parts"] = ",".join(p.get_content_type() for p in parts)
cal = [p for p in parts if p.get_content_type() == "text/calendar"]
if cal:
    c = cal[0]
    out["ct_method"] = c.get_param("method") or ""
    out["ct_charset"] = (c.get_param("charset") or "").lower()
    text = c.get_payload(decode=True)
    cal = icalendar.Calendar.from_ical(text)
    ev = [x for x in cal.walk("VEVENT")]
    out["vevents"] = len(ev)
    out["method"] = str(cal.get("METHOD", ""))
    ev = ev[0]
    org = ev.get("ORGANIZER")
    out["organizer"] = str(org)
    out["organizer_cn"] = org.params.get("CN", "")
    out["sent_by"] = org.params.get("SENT-BY", "")
    att = ev.get("ATTENDEE", [])
    att = att if isinstance(att, list) else [att]
    out["attendees"] = len(att)
    out["attendee_addrs"] = " ".join(sorted(str(a).lower() for a in att))
    out["partstats"] = ",".join(sorted({a.params.get("PARTSTAT", "") for a in att}))
    out["rsvps"] = ",".join(sorted({a.params.get("RSVP", "") for a in att}))
    out["roles"] = " ".join(sorted("%s=%s" % (str(a).lower()[7:], a.params.get("ROLE", ""))
                                    for a in att))
    for a in att:
        out["partstat_" + str(a).lower()[7:]] = a.params.get("PARTSTAT", "")
    out["sequence"] = int(ev.get("SEQUENCE", -1))
    out["uid"] = str(ev.get("UID"))
    out["dtstamp"] = ev.decoded("DTSTAMP").strftime("%Y%m%dT%H%M%SZ")
    ds = ev.get("DTSTART")
    out["tzid"] = ds.params.get("TZID", "")
    out["dtstart"] = ev.decoded("DTSTART").strftime("%Y-%m-%d %H:%M")
    out["vtimezones"] = " ".join(str(z.get("TZID")) for z in cal.walk("VTIMEZONE"))
    out["valarms"] = len(list(ev.walk("VALARM")))
    out["status"] = str(ev.get("STATUS", ""))
    out["summary"] = str(ev.get("SUMMARY", ""))
    out["description"] = str(ev.get("DESCRIPTION", "")).replace("\n", "\\n")
    out["location"] = str(ev.get("LOCATION", ""))
    # any line of the decoded calendar that starts a property naming evil
    out["evil_lines"] = sum(1 for l in text.decode().split("\r\n") if "evil" in l.split(":")[0])
# header lines (unfolded) of the delivered bytes that are not real headers
head = raw.split(b"\r\n\r\n", 1)[0].decode("ascii", "replace")
out["header_attendee"] = sum(1 for l in head.split("\r\n") if l.upper().startswith("ATTENDEE"))
for k, v in out.items():
    print("%s=%s" % (k, v))
PY
# fact MAIL KEY
fact() { $PY "$W/facts.py" "$1" | sed -n "s/^$2=//p"; }
# icalcheck WHAT MAIL --expect ...: the checker of tests/integration (also
# python3-icalendar), with the expectations given
icalcheck() {
	local what=$1 f=$2; shift 2
	if $PY "$TESTS_DIR/icalcheck.py" "$f" --quiet "$@" 2>"$W/icalcheck.err"; then
		ok "$what (icalcheck.py)"
	else
		not_ok "$what (icalcheck.py): $(cat "$W/icalcheck.err")"
	fi
}
# newest ADDR: fetch the mailbox, print the path of its newest mail
newest() {
	rm -rf "$W/box/$1"
	mailtool --user "$1" --password pw fetch-all INBOX "$W/box/$1" >/dev/null
	ls "$W/box/$1"/*.eml 2>/dev/null | tail -1
}
# deliver N: run mercomaild once (it sends the outbox), wait until every
# member's mailbox holds N mails
deliver() {
	"$MERCOMAILD" -c "$CONF" --once >>"$W/daemon.log" 2>&1 || not_ok "mercomaild --once failed"
	for a in $EVERYONE; do
		mailtool --user "$a" --password pw wait-count INBOX "$1" --timeout 30 >/dev/null ||
			not_ok "$a has $(mailtool --user "$a" --password pw count INBOX) mails, not $1"
	done
}

# --- create -------------------------------------------------------------------------
"$MERCOMAIL" -c "$CONF" meeting create --unit cultura --title "Reunión de coordinación" \
	--start "2027-03-10 10:00" --duration 90m --tz America/Sao_Paulo --location "Sala 1, Prefeitura" \
	--url "https://meet.example/cultura" --agenda $'1. Informe\n2. Festival 2027' \
	--invite Rosario --invite "$GST" > "$W/create.out" 2>"$W/create.err"
check_eq "meeting create succeeds" 0 $?
REF=$(head -1 "$W/create.out")
check_eq "it prints the reference" 1 "$(printf '%s\n' "$REF" | grep -c '^RE-[0-9]\{4\}-[0-9]\{4\}$')"
check_grep "it says the mails are queued for the daemon" "5 invitations queued.*mercomaild" "$W/create.out"
check_eq "five invitations in the outbox, not yet sent" 5 \
	"$(sql "SELECT count(*) FROM outbox WHERE purpose = 'invite' AND state = 'queued'")"
"$MERCOMAIL" -c "$CONF" meeting show "$REF" > "$W/show0.txt"
check_eq "meeting show lists five invitees, all NEEDS-ACTION" 5 "$(grep -c 'NEEDS-ACTION' "$W/show0.txt")"
check_grep "and the tally" "0 accepted.*5 no answer" "$W/show0.txt"
deliver 1

UID0=""
for a in $EVERYONE; do
	f=$(newest "$a")
	$PY "$W/facts.py" "$f" > "$W/f.txt"
	get() { sed -n "s/^$1=//p" "$W/f.txt"; }
	check_eq "$a: multipart/alternative" multipart/alternative "$(get top)"
	check_eq "$a: text, html, then the calendar last" "text/plain,text/html,text/calendar" "$(get parts)"
	check_eq "$a: METHOD:REQUEST" REQUEST "$(get method)"
	check_eq "$a: Content-Type method=REQUEST" REQUEST "$(get ct_method)"
	check_eq "$a: Content-Type charset=UTF-8" utf-8 "$(get ct_charset)"
	check_eq "$a: one VEVENT" 1 "$(get vevents)"
	check_eq "$a: ORGANIZER is the bare mercomail address" "mailto:$HARNESS_USER" "$(get organizer)"
	check_eq "$a: with its name" "Secretaría Ejecutiva de Mercociudades" "$(get organizer_cn)"
	check_eq "$a: one ATTENDEE per invitee" 5 "$(get attendees)"
	check_eq "$a: the invitees" "$(for x in $EVERYONE; do echo "mailto:$x"; done | sort | tr '\n' ' ' | sed 's/ $//')" \
		"$(get attendee_addrs)"
	check_eq "$a: every PARTSTAT NEEDS-ACTION" NEEDS-ACTION "$(get partstats)"
	check_eq "$a: every RSVP TRUE" TRUE "$(get rsvps)"
	check_eq "$a: SEQUENCE 0" 0 "$(get sequence)"
	check_eq "$a: DTSTART with TZID" America/Sao_Paulo "$(get tzid)"
	check_eq "$a: the VTIMEZONE of that TZID" America/Sao_Paulo "$(get vtimezones)"
	check_eq "$a: the local start" "2027-03-10 10:00" "$(get dtstart)"
	check_eq "$a: a VALARM" 1 "$(get valarms)"
	check_eq "$a: STATUS:CONFIRMED" CONFIRMED "$(get status)"
	check_eq "$a: an automatic mail" auto-generated "$(get auto_submitted)"
	check_eq "$a: with the loop header" "$HARNESS_USER" "$(get loop)"
	check_grep "$a: a reply address signed for RSVPs" "secretaria+rsvp-" <(get reply_to)
	icalcheck "$a: the invitation" "$f" --expect PART.METHOD=REQUEST \
		--expect PART.LAST_IN_ALTERNATIVE=yes --expect LINES.CRLF=yes --expect METHOD=REQUEST \
		--expect SEQUENCE=0 --expect STATUS=CONFIRMED --expect ORGANIZER=$HARNESS_USER \
		--expect ATTENDEE.COUNT=5 --expect "ATTENDEE[$a].PARTSTAT=NEEDS-ACTION" \
		--expect "ATTENDEE[$a].RSVP=TRUE" --expect DTSTART.TZID=America/Sao_Paulo \
		--expect DTSTART.UTC=2027-03-10T13:00:00Z --expect VTIMEZONE.COUNT=1 \
		--expect "VTIMEZONE[America/Sao_Paulo].RDATE=0" --expect VALARM.COUNT=1 \
		--expect VALARM[1].TRIGGER.MINUTES=-1440
	[ -z "$UID0" ] && UID0=$(get uid)
	check_eq "$a: the same UID in every invitation" "$UID0" "$(get uid)"
done
check_eq "roles: coordinator city chairs, members required, guests optional" \
	"$CUR=REQ-PARTICIPANT $POA=CHAIR $CAN=REQ-PARTICIPANT $ROS=OPT-PARTICIPANT $GST=OPT-PARTICIPANT" \
	"$(fact "$(newest $POA)" roles)"
check_grep "Porto Alegre's invitation is in Portuguese" "^Convite: Reunión de coordinación" \
	<(fact "$(newest $POA)" subject)
check_grep "Canelones's invitation is in Spanish" "^Invitación: Reunión de coordinación — 2027-03-10 10:00" \
	<(fact "$(newest $CAN)" subject)
check_eq "the UID is the stored one" "$UID0" "$(sql "SELECT uid FROM meetings WHERE reference = '$REF'")"
check_eq "every invitation was sent" 5 "$(sql "SELECT count(*) FROM outbox WHERE purpose = 'invite' AND state = 'sent'")"

# --- update of the time: SEQUENCE 1, and the answers start again ------------------------
accept_can() {
	sql "UPDATE meeting_attendees SET partstat = 'ACCEPTED', answered_at = strftime('%s'),
		answer_via = 'words' WHERE address = '$CAN'"
}
accept_can
"$MERCOMAIL" -c "$CONF" meeting update "$REF" --start "2027-03-10 11:00" > "$W/upd1.out" 2>&1
check_eq "meeting update of the time succeeds" 0 $?
deliver 2
for a in $EVERYONE; do
	f=$(newest "$a")
	check_eq "$a: the update has SEQUENCE 1" 1 "$(fact "$f" sequence)"
	check_eq "$a: the same UID" "$UID0" "$(fact "$f" uid)"
	check_eq "$a: the new start (the duration kept)" "2027-03-10 11:00" "$(fact "$f" dtstart)"
	icalcheck "$a: the update" "$f" --expect PART.METHOD=REQUEST --expect METHOD=REQUEST \
		--expect SEQUENCE=1 --expect DTSTART.UTC=2027-03-10T14:00:00Z --expect ATTENDEE.COUNT=5
done
check_grep "the update's subject says so" "^Atualizado: " <(fact "$(newest $POA)" subject)
check_eq "a new time resets every PARTSTAT (the answers were for the old one)" 0 \
	"$(sql "SELECT count(*) FROM meeting_attendees WHERE partstat <> 'NEEDS-ACTION'")"
DTSTAMP1=$(fact "$(newest $CAN)" dtstamp)

# --- update of the agenda only: same SEQUENCE, new DTSTAMP ------------------------------
accept_can
sleep 1		# DTSTAMP has one-second resolution
"$MERCOMAIL" -c "$CONF" meeting update "$REF" --agenda "1. Informe
2. Festival 2027
3. Varios" > "$W/upd2.out" 2>&1
check_eq "meeting update of the agenda succeeds" 0 $?
deliver 3
for a in $EVERYONE; do
	f=$(newest "$a")
	check_eq "$a: an agenda change keeps SEQUENCE 1" 1 "$(fact "$f" sequence)"
	[ "$(fact "$f" dtstamp)" != "$DTSTAMP1" ] && ok "$a: with a new DTSTAMP" ||
		not_ok "$a: DTSTAMP not refreshed ($DTSTAMP1)"
done
f=$(newest $CAN)
check_grep "the new agenda is in the DESCRIPTION" "3. Varios" <(fact "$f" description)
check_eq "a recorded answer shows in the ATTENDEE" ACCEPTED "$(fact "$f" "partstat_$CAN")"
"$MERCOMAIL" -c "$CONF" meeting show "$REF" > "$W/show1.txt"
check_grep "meeting show gives the answer and when" "$CAN.*ACCEPTED.*(words)" "$W/show1.txt"
check_grep "and the tally counts it" "1 accepted.*4 no answer" "$W/show1.txt"

# --- cancel ---------------------------------------------------------------------------
"$MERCOMAIL" -c "$CONF" meeting cancel "$REF" > "$W/cancel.out" 2>&1
check_eq "meeting cancel succeeds" 0 $?
check_grep "it says the cancellations are queued" "5 cancellations queued" "$W/cancel.out"
deliver 4
for a in $EVERYONE; do
	f=$(newest "$a")
	check_eq "$a: METHOD:CANCEL" CANCEL "$(fact "$f" method)"
	check_eq "$a: Content-Type method=CANCEL" CANCEL "$(fact "$f" ct_method)"
	check_eq "$a: STATUS:CANCELLED" CANCELLED "$(fact "$f" status)"
	check_eq "$a: SEQUENCE 2" 2 "$(fact "$f" sequence)"
	icalcheck "$a: the cancel" "$f" --expect PART.METHOD=CANCEL --expect PART.LAST_IN_ALTERNATIVE=yes \
		--expect METHOD=CANCEL --expect STATUS=CANCELLED --expect SEQUENCE=2 --expect "UID=$UID0"
	check_eq "$a: the same UID" "$UID0" "$(fact "$f" uid)"
done
check_grep "the cancel's subject in Spanish" "^Cancelada: " <(fact "$(newest $CAN)" subject)
"$MERCOMAIL" -c "$CONF" meeting cancel "$REF" > /dev/null 2>&1
check_eq "cancelling twice is a data error" 65 $?
"$MERCOMAIL" -c "$CONF" meeting update "$REF" --title "Otra" > /dev/null 2>&1
check_eq "a cancelled meeting cannot change" 65 $?
"$MERCOMAIL" -c "$CONF" meeting list > "$W/list.txt"
check_grep "meeting list shows it, cancelled" "^$REF.*cancelled.*cultura" "$W/list.txt"
check_eq "every change is in the audit log" "meeting.create meeting.update meeting.update meeting.cancel" \
	"$(sql "SELECT group_concat(action, ' ') FROM (SELECT action FROM audit_log WHERE object = '$REF' ORDER BY id)")"

# --- bad input -----------------------------------------------------------------------
"$MERCOMAIL" -c "$CONF" meeting create --unit cultura --title x --start "2027-03-10 10:00" \
	--duration 1h --location y --tz Mars/Olympus > /dev/null 2>&1
check_eq "an unknown zone is a usage error" 64 $?
"$MERCOMAIL" -c "$CONF" meeting create --unit nada --title x --start "2027-03-10 10:00" \
	--duration 1h --location y > /dev/null 2>&1
check_eq "an unknown unit is a data error" 65 $?
"$MERCOMAIL" -c "$CONF" meeting create --unit cultura --title x --start "2027-03-10 10:00" \
	--end "2027-03-10 09:00" --location y > /dev/null 2>&1
check_eq "an end before the start is a data error" 65 $?
"$MERCOMAIL" -c "$CONF" meeting show RE-1999-0001 > /dev/null 2>&1
check_eq "an unknown reference is a data error" 65 $?

# --- CR/LF from input never starts a property or a header ------------------------------
"$MERCOMAIL" -c "$CONF" meeting create --unit integracion-fronteriza \
	--title $'Frontera\r\nATTENDEE:mailto:evil@x' --start "2027-04-01 09:00" --duration 1h \
	--location $'Encarnación\r\nBcc: evil@x' \
	--agenda $'Punto 1\r\nATTENDEE:mailto:evil2@x\r\nEND:VEVENT' > /dev/null 2>"$W/inj.err"
check_eq "a title with CR/LF is taken (as one line)" 0 $?
"$MERCOMAILD" -c "$CONF" --once >>"$W/daemon.log" 2>&1
for a in $ENC $PAY; do
	mailtool --user "$a" --password pw wait-count INBOX 1 --timeout 30 >/dev/null
	f=$(newest "$a")
	check_eq "$a: still two ATTENDEEs" 2 "$(fact "$f" attendees)"
	check_eq "$a: no property line names evil" 0 "$(fact "$f" evil_lines)"
	check_eq "$a: no ATTENDEE header in the mail" 0 "$(fact "$f" header_attendee)"
	check_eq "$a: no Bcc header" 0 "$(grep -ci '^bcc:' "$f")"
	check_grep "$a: the text stays in the SUMMARY" "Frontera ATTENDEE:mailto:evil@x" <(fact "$f" summary)
	check_grep "$a: and the agenda's lines in the DESCRIPTION" 'Punto 1\\nATTENDEE:mailto:evil2@x\\nEND:VEVENT' \
		<(fact "$f" description)
done
check_eq "nothing left unsent" 0 "$(sql "SELECT count(*) FROM outbox WHERE state <> 'sent'")"
check_eq "database integrity" ok "$(sql 'PRAGMA integrity_check')"
finish
