#!/bin/bash
# What daemon/ical.c writes, read by a parser nobody here wrote
# (python3-icalendar, through icalcheck.py); and the reply mails of
# tests/data/itip/mail read the same way. No servers, no harness lock: the
# unit test tests/unit/test_ical writes its invite, cancel and feed into
# ICAL_SAMPLES.
set -u
. "$(dirname "$0")/common.sh"

T=$MERCOMAIL_BUILDDIR/tests/unit/test_ical
if [ ! -x "$T" ]; then
	echo "$T is not built" >&2
	exit 99
fi
if ! /usr/bin/python3 -c 'import icalendar' 2>/dev/null; then
	echo "SKIP: python3-icalendar is not installed (scripts/deps.sh)"
	exit 77
fi
D=$(mktemp -d)
trap 'rm -rf "$D"' EXIT
IC=$TESTS_DIR/icalcheck.py

# expect WHAT FILE KEY=VALUE...: icalcheck with every KEY=VALUE as --expect
expect() {
	local what=$1 file=$2 kv
	shift 2
	local args=()
	for kv in "$@"; do
		args+=(--expect "$kv")
	done
	if /usr/bin/python3 "$IC" "$file" --quiet "${args[@]}" 2>"$D/err"; then
		ok "$what"
	else
		not_ok "$what"
		sed 's/^/    /' "$D/err"
	fi
}

if ICAL_SAMPLES=$D "$T" >"$D/unit.log" 2>&1; then
	ok "test_ical wrote its samples"
else
	not_ok "test_ical failed"
	sed 's/^/    /' "$D/unit.log"
fi

expect "REQUEST read by python3-icalendar" "$D/request.ics" \
	LINES.CRLF=yes LINES.MAX_OCTETS=75 METHOD=REQUEST VERSION=2.0 \
	VTIMEZONE.COUNT=1 'VTIMEZONE[America/Montevideo].STANDARD=1' \
	'VTIMEZONE[America/Montevideo].DAYLIGHT=0' 'VTIMEZONE[America/Montevideo].RDATE=0' \
	VEVENT.COUNT=1 UID=RE-2026-0001-7f3a9c@red.test SEQUENCE=0 STATUS=CONFIRMED \
	TRANSP=OPAQUE 'SUMMARY=Reunión del Consejo' 'LOCATION=Sala del Consejo, Montevideo' \
	'DESCRIPTION~=https://meet.example.test/abc-defg-hij' \
	URL=https://meet.example.test/abc-defg-hij \
	DTSTART=2026-12-01T10:00:00 DTSTART.TZID=America/Montevideo \
	DTSTART.UTC=2026-12-01T13:00:00Z DTEND.UTC=2026-12-01T15:00:00Z \
	DTSTAMP.UTC=2026-09-21T14:13:20Z \
	ORGANIZER=secretaria@red.test 'ORGANIZER.CN=Secretaría Ejecutiva' \
	ORGANIZER.SENT-BY=coord@red.test ATTENDEE.COUNT=3 \
	'ATTENDEE[ana.perez@montevideo.test].PARTSTAT=NEEDS-ACTION' \
	'ATTENDEE[ana.perez@montevideo.test].RSVP=TRUE' \
	'ATTENDEE[ana.perez@montevideo.test].ROLE=REQ-PARTICIPANT' \
	'ATTENDEE[ana.perez@montevideo.test].CUTYPE=INDIVIDUAL' \
	'ATTENDEE[ana.perez@montevideo.test].CN=Ana Pérez' \
	'ATTENDEE[joao.silva@recife.test].ROLE=OPT-PARTICIPANT' \
	VALARM.COUNT=1 'VALARM[1].ACTION=DISPLAY' 'VALARM[1].TRIGGER.MINUTES=-1440'

expect "CANCEL read by python3-icalendar" "$D/cancel.ics" \
	LINES.CRLF=yes METHOD=CANCEL STATUS=CANCELLED SEQUENCE=3 \
	UID=RE-2026-0001-7f3a9c@red.test VEVENT.COUNT=1 VALARM.COUNT=0 \
	DTSTART.TZID=America/Asuncion DTSTART.UTC=2026-12-01T13:00:00Z \
	'VTIMEZONE[America/Asuncion].STANDARD=1' 'VTIMEZONE[America/Asuncion].RDATE=0'

# Santiago has DST in December: -03, so 10:00 is 13:00Z; Sao Paulo -03.
expect "feed read by python3-icalendar" "$D/feed.ics" \
	LINES.CRLF=yes METHOD=PUBLISH 'X-WR-CALNAME=Unidad Temática de Cultura' \
	'NAME=Unidad Temática de Cultura' REFRESH-INTERVAL=PT1H \
	REFRESH-INTERVAL.VALUE=DURATION X-PUBLISHED-TTL=PT1H \
	VTIMEZONE.COUNT=2 'VTIMEZONE[America/Santiago].STANDARD=1' \
	'VTIMEZONE[America/Santiago].DAYLIGHT=1' 'VTIMEZONE[America/Santiago].RRULE=2' \
	'VTIMEZONE[America/Santiago].RDATE=0' 'VTIMEZONE[America/Sao_Paulo].STANDARD=1' \
	VEVENT.COUNT=4 'VEVENT[1].DTSTART.UTC=2026-12-01T13:00:00Z' \
	'VEVENT[2].DTSTART.UTC=2027-03-02T12:00:00Z' 'VEVENT[3].STATUS=CANCELLED' \
	'VEVENT[3].DTSTART.UTC=2027-06-20T19:00:00Z' 'VEVENT[1].ATTENDEE.COUNT=0'

# The reply mails others' tests send: a text/calendar; method=REPLY part
# each, one ATTENDEE, readable by python3-icalendar.
for m in google-accepted:ACCEPTED:ana.perez@montevideo.test \
	outlook-declined:DECLINED:joao.silva@recife.test \
	apple-tentative:TENTATIVE:marta.rodriguez@montevideo.test \
	thunderbird-accepted:ACCEPTED:lucia.gomez@rosario.test; do
	IFS=: read -r name ps who <<<"$m"
	expect "mail $name.eml" "$MERCOMAIL_TESTDATA/itip/mail/$name.eml" \
		PART.METHOD=REPLY METHOD=REPLY LINES.CRLF=yes ATTENDEE.COUNT=1 \
		"ATTENDEE[$who].PARTSTAT=$ps"
done

# The checker itself fails when it should.
if /usr/bin/python3 "$IC" "$D/request.ics" --quiet --expect METHOD=CANCEL 2>/dev/null; then
	not_ok "icalcheck accepts a wrong expectation"
else
	ok "icalcheck refuses a wrong expectation"
fi
if /usr/bin/python3 "$IC" "$MERCOMAIL_TESTDATA/itip/truncated.ics" --quiet 2>/dev/null; then
	not_ok "icalcheck accepts a truncated calendar"
else
	ok "icalcheck refuses a truncated calendar"
fi

finish
