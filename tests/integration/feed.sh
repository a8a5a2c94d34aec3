#!/bin/bash
# Calendar feeds over HTTP (/feeds/...): what is in them (the window, the
# cancelled, the private units left out of network and city feeds), checked
# with python3-icalendar and loaded into khal; the HTTP side with curl (ETag,
# Last-Modified, 304 on If-None-Match and If-Modified-Since, HEAD, any
# Accept, 404s); private feeds and their tokens through `mercomail feed`.
set -u
. "$(dirname "$0")/harness.sh"
. "$(dirname "$0")/common.sh"
command -v curl >/dev/null 2>&1 || { echo "SKIP: curl is missing"; exit 77; }
"$HARNESS_PYTHON" -c 'import icalendar' 2>/dev/null || { echo "SKIP: python3-icalendar is missing"; exit 77; }
command -v khal >/dev/null 2>&1 || { echo "SKIP: khal is missing"; exit 77; }
start_work
LOG=$W/daemon.log
HTTP_PORT=$(_harness_free_ports 1)
URL=http://127.0.0.1:$HTTP_PORT
write_config "$CONF"
printf '[http]\nlisten = 127.0.0.1:%s\nbase_url = https://agenda.mercociudades.test/\n' \
	"$HTTP_PORT" >> "$CONF"
"$MERCOMAIL" -c "$CONF" init >/dev/null
"$MERCOMAIL" -c "$CONF" roster import "$MERCOMAIL_TESTDATA/roster/cities.csv" \
	"$MERCOMAIL_TESTDATA/roster/units.csv" >/dev/null

# --- meetings, written straight into the tables (the feed only reads them)
NOW=$(date +%s)
DAY=86400
# meeting UID UNIT START_OFFSET STATUS CHANGED_OFFSET TITLE [TZID]
meeting() {
	sql "INSERT INTO meetings (uid, unit_id, title, start_at, end_at, tzid, location,
		agenda, status, sequence, created_at, changed_at)
		SELECT '$1', id, '$6', $NOW + $3, $NOW + $3 + 5400, '${7:-America/Montevideo}',
		'Intendencia, sala 2', 'Punto 1; punto 2', '$4', 0, $NOW - 90 * $DAY, $NOW + $5
		FROM units WHERE slug = '$2'"
}
invite_city() {
	sql "INSERT INTO meeting_attendees (meeting_id, address, city_id)
		SELECT m.id, 'x@$2.example', c.id FROM meetings m, cities c
		WHERE m.uid = '$1' AND c.name = '$2'"
}
meeting m1@red.test cultura $((10 * DAY)) confirmed -3600 "Plenario de Cultura"
meeting m2@red.test cultura $((12 * DAY)) cancelled $((-5 * DAY)) "Taller suspendido" America/Sao_Paulo
meeting m3@red.test cultura $((20 * DAY)) cancelled $((-40 * DAY)) "Cancelada hace 40 días"
meeting m4@red.test cultura $((3 * 365 * DAY)) confirmed -7200 "Dentro de tres años"
meeting m5@red.test cultura $((-100 * DAY)) confirmed -7200 "Hace cien días"
meeting m6@red.test cultura $((-80 * DAY)) confirmed -7200 "Hace ochenta días"
meeting m7@red.test consejo $((30 * DAY)) confirmed -7200 "Consejo de Mercociudades"
meeting m8@red.test ambiente $((15 * DAY)) confirmed -7200 "Ambiente, reservada"
invite_city m1@red.test Montevideo
invite_city m8@red.test Montevideo
"$MERCOMAIL" -c "$CONF" feed private ambiente on > "$W/private.out" 2>&1 &&
	ok "feed private ambiente on" || not_ok "feed private: $(cat "$W/private.out")"

# wait_for SECONDS COMMAND...: true once the command succeeds
wait_for() {
	local t=$(( $1 * 10 )); shift
	while [ $t -gt 0 ]; do "$@" && return 0; sleep 0.1; t=$((t - 1)); done
	return 1
}
# get NAME PATH [CURL ARGS]: $W/NAME.h (headers), $W/NAME.b (body); the status on stdout
get() {
	local name=$1 path=$2; shift 2
	curl -s -m 5 -D "$W/$name.h" -o "$W/$name.b" -w '%{http_code}' "$@" "$URL$path" 2>/dev/null
}
# header NAME FIELD: the value of a response header field ("" if absent)
header() {
	awk -v f="$(echo "$2" | tr A-Z a-z)" 'BEGIN { FS = ": " }
		{ sub(/\r$/, "") } tolower($1) == f { sub(/^[^:]*: /, ""); print; exit }' "$W/$1.h"
}

"$MERCOMAILD" -c "$CONF" >"$LOG" 2>&1 &
pid=$!
C=/feeds/unit/cultura.ics
wait_for 20 eval '[ "$(get c0 '$C')" = 200 ]' && ok "GET $C: 200" || not_ok "GET $C: $(get c0 $C)"

# --- HTTP: type, validators, the same bytes again
check_eq "Content-Type" "text/calendar; charset=utf-8" "$(header c0 Content-Type)"
ETAG=$(header c0 ETag)
LM=$(header c0 Last-Modified)
check_eq "a strong ETag: the quoted SHA-256 of the body" "\"$(sha256sum < "$W/c0.b" | cut -c1-64)\"" "$ETAG"
check_eq "Last-Modified: the newest change, not now" \
	"$(TZ=GMT date -d "@$((NOW - 3600))" '+%a, %d %b %Y %H:%M:%S GMT')" "$LM"
check_eq "Cache-Control" "max-age=3600" "$(header c0 Cache-Control)"
get c1 $C >/dev/null
cmp -s "$W/c0.b" "$W/c1.b" && ok "the same request gives the same bytes" || not_ok "the bytes changed"
check_eq "and the same ETag" "$ETAG" "$(header c1 ETag)"
# another connection's commit makes the feed rebuild from the database: same bytes
sql "INSERT INTO audit_log (at, actor, action) VALUES ($NOW, 'test', 'test.touch')"
get c2 $C >/dev/null
cmp -s "$W/c0.b" "$W/c2.b" && ok "rebuilt after a write elsewhere: the same bytes" ||
	not_ok "a rebuild changed the bytes"

# --- conditional requests
check_eq "If-None-Match: the ETag -> 304" 304 "$(get n1 $C -H "If-None-Match: $ETAG")"
check_eq "the 304 has no body" 0 "$(cat "$W/n1.b" 2>/dev/null | wc -c)"
check_eq "the 304 repeats the ETag" "$ETAG" "$(header n1 ETag)"
check_eq "If-None-Match: weak form -> 304" 304 "$(get n2 $C -H "If-None-Match: W/$ETAG")"
check_eq "If-None-Match: a list -> 304" 304 "$(get n3 $C -H "If-None-Match: \"x\", $ETAG")"
check_eq "If-None-Match: * -> 304" 304 "$(get n4 $C -H "If-None-Match: *")"
check_eq "If-None-Match: another tag -> 200" 200 "$(get n5 $C -H 'If-None-Match: "abc"')"
check_eq "If-None-Match wins over If-Modified-Since -> 200" 200 \
	"$(get n6 $C -H 'If-None-Match: "abc"' -H "If-Modified-Since: $LM")"
check_eq "If-Modified-Since = Last-Modified -> 304" 304 "$(get i1 $C -H "If-Modified-Since: $LM")"
check_eq "the 304 has no body" 0 "$(cat "$W/i1.b" 2>/dev/null | wc -c)"
OLDER=$(TZ=GMT date -d "@$((NOW - 3601))" '+%a, %d %b %Y %H:%M:%S GMT')
check_eq "If-Modified-Since a second earlier -> 200" 200 "$(get i2 $C -H "If-Modified-Since: $OLDER")"
ASCTIME=$(TZ=GMT date -d "@$((NOW - 3600))" '+%a %b %e %H:%M:%S %Y')
check_eq "If-Modified-Since in asctime form -> 304" 304 "$(get i3 $C -H "If-Modified-Since: $ASCTIME")"
check_eq "If-Modified-Since garbage -> 200" 200 "$(get i4 $C -H "If-Modified-Since: yesterday")"
check_eq "If-Modified-Since in the future -> 200 (ignored)" 200 \
	"$(get i5 $C -H "If-Modified-Since: $(TZ=GMT date -d "@$((NOW + 86400))" '+%a, %d %b %Y %H:%M:%S GMT')")"
check_eq "Accept: application/json -> 200 anyway" 200 "$(get a1 $C -H 'Accept: application/json')"
check_eq "... as text/calendar" "text/calendar; charset=utf-8" "$(header a1 Content-Type)"

# HEAD: read the raw answer, so that a body sent anyway would show
"$HARNESS_PYTHON" - "$HTTP_PORT" "$C" > "$W/head.raw" <<'EOF'
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=5)
s.sendall(("HEAD %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n" % sys.argv[2]).encode())
data = b""
while True:
    b = s.recv(65536)
    if not b:
        break
    data += b
head, _, body = data.partition(b"\r\n\r\n")
print(head.decode().replace("\r", ""))
print("BODY-BYTES %d" % len(body))
EOF
check_grep "HEAD: 200" "^HTTP/1.1 200" "$W/head.raw"
check_grep "HEAD: the ETag" "^ETag: $ETAG" "$W/head.raw"
check_grep "HEAD: the length of the GET body" "^Content-Length: $(stat -c %s "$W/c0.b")\$" "$W/head.raw"
check_grep "HEAD: no body" "^BODY-BYTES 0\$" "$W/head.raw"

# --- 404s, and what a private feed answers without its token
check_eq "unknown unit -> 404" 404 "$(get u1 /feeds/unit/nothing.ics)"
check_eq "a body asked for as a unit -> 404" 404 "$(get u2 /feeds/unit/consejo.ics)"
check_eq "bad path -> 404" 404 "$(get u3 /feeds/unit/Cultura.ics)"
check_eq "a body -> 200" 200 "$(get b1 /feeds/body/consejo.ics)"
P=/feeds/unit/ambiente.ics
check_eq "private feed without token -> 404" 404 "$(get p1 $P)"
check_eq "private feed, wrong token -> 404" 404 "$(get p2 "$P?token=0123456789abcdef0123456789abcdef")"
# same headers (but Date) and body as an unknown feed
strip() { grep -vi '^date:' "$W/$1.h"; }
[ "$(strip p1)" = "$(strip u1)" ] && cmp -s "$W/p1.b" "$W/u1.b" &&
	ok "a refused token looks like an unknown feed" || not_ok "the 404s differ: $(strip p1) / $(strip u1)"
ADDR=$(sql "SELECT address FROM contacts ORDER BY id LIMIT 1")
"$MERCOMAIL" -c "$CONF" feed url unit ambiente --for "$ADDR" > "$W/url.out" 2>&1 ||
	not_ok "feed url --for: $(cat "$W/url.out")"
check_grep "a webcal:// link" "^webcal://agenda.mercociudades.test/feeds/unit/ambiente.ics?token=[0-9a-f]\{32\}\$" "$W/url.out"
check_grep "an https:// link" "^https://agenda.mercociudades.test/feeds/unit/ambiente.ics?token=[0-9a-f]\{32\}\$" "$W/url.out"
TOKEN=$(sed -n 's/^https:.*token=//p' "$W/url.out")
awk '{ if (length($0) >= 256) exit 1 }' "$W/url.out" && ok "links under 256 characters" || not_ok "a link is too long"
"$MERCOMAIL" -c "$CONF" feed url ambiente --for "$ADDR" > "$W/url2.out" 2>&1
check_eq "the same contact gets the same token again" "$TOKEN" "$(sed -n 's/^https:.*token=//p' "$W/url2.out")"
check_eq "one token stored" 1 "$(sql "SELECT count(*) FROM feed_tokens")"
"$MERCOMAIL" -c "$CONF" feed url ambiente > "$W/url3.out" 2>&1
check_eq "a private feed's link needs --for" 64 $?
check_eq "private feed, right token -> 200" 200 "$(get p3 "$P?token=$TOKEN")"
check_grep "with the private meeting" "SUMMARY:Ambiente\\\\, reservada" "$W/p3.b"
check_eq "private feeds are not for shared caches" "private, max-age=3600" "$(header p3 Cache-Control)"
check_eq "a token in upper case -> 404" 404 "$(get p4 "$P?token=$(echo "$TOKEN" | tr a-f A-F)")"
"$MERCOMAIL" -c "$CONF" feed tokens ambiente > "$W/tokens.out" 2>&1
check_grep "feed tokens lists it with its contact" "^$TOKEN .* $ADDR\$" "$W/tokens.out"
"$MERCOMAIL" -c "$CONF" feed revoke "$TOKEN" > "$W/revoke.out" 2>&1 &&
	ok "feed revoke TOKEN" || not_ok "feed revoke: $(cat "$W/revoke.out")"
check_eq "revoked token -> 404" 404 "$(get p5 "$P?token=$TOKEN")"
"$MERCOMAIL" -c "$CONF" feed revoke "$TOKEN" > "$W/revoke2.out" 2>&1
check_eq "revoking it again: no such live token" 65 $?
"$MERCOMAIL" -c "$CONF" feed url ambiente --for "$ADDR" > "$W/url4.out" 2>&1
T2=$(sed -n 's/^https:.*token=//p' "$W/url4.out")
[ -n "$T2" ] && [ "$T2" != "$TOKEN" ] && ok "after a revoke, a new token" || not_ok "token after revoke: '$T2'"
"$MERCOMAIL" -c "$CONF" feed revoke --for "$ADDR" ambiente > "$W/revoke3.out" 2>&1 &&
	ok "feed revoke --for ADDRESS SLUG" || not_ok "revoke --for: $(cat "$W/revoke3.out")"
check_eq "that one -> 404 too" 404 "$(get p6 "$P?token=$T2")"

# --- what the unit feed holds: the window and the cancelled
check_grep "the meeting in 10 days" "SUMMARY:Plenario de Cultura" "$W/c0.b"
check_grep "the meeting 80 days ago" "SUMMARY:Hace ochenta días" "$W/c0.b"
for absent in "Dentro de tres años" "Hace cien días" "Cancelada hace 40 días"; do
	grep -q "SUMMARY:$absent" "$W/c0.b" && not_ok "'$absent' is in the feed" || ok "'$absent' is not"
done
"$HARNESS_PYTHON" - "$W/c0.b" > "$W/c0.parsed" 2>&1 <<'EOF'
import sys, icalendar
cal = icalendar.Calendar.from_ical(open(sys.argv[1], "rb").read())
print("METHOD", cal.get("METHOD", "none"))
for k in ("X-WR-CALNAME", "NAME", "X-PUBLISHED-TTL", "REFRESH-INTERVAL"):
    v = cal.get(k)
    print(k, v.to_ical().decode() if hasattr(v, "to_ical") else v)
tzids = {str(c["TZID"]) for c in cal.walk("VTIMEZONE")}
used = set()
for ev in cal.walk("VEVENT"):
    print("EVENT", ev["UID"], ev.get("STATUS"), ev["DTSTAMP"].dt.isoformat())
    for p in ("DTSTART", "DTEND"):
        used.add(str(ev[p].params.get("TZID")))
print("TZ-MISSING", sorted(used - tzids) or "none")
print("TZ-USED", " ".join(sorted(used)))
EOF
check_grep "python3-icalendar: METHOD:PUBLISH" "^METHOD PUBLISH$" "$W/c0.parsed"
check_grep "python3-icalendar: X-WR-CALNAME in the coordinator's language (pt)" \
	"^X-WR-CALNAME Mercocidades — Cultura$" "$W/c0.parsed"
check_grep "python3-icalendar: NAME" "^NAME Mercocidades — Cultura$" "$W/c0.parsed"
check_grep "python3-icalendar: REFRESH-INTERVAL" "^REFRESH-INTERVAL PT1H$" "$W/c0.parsed"
check_grep "python3-icalendar: X-PUBLISHED-TTL" "^X-PUBLISHED-TTL PT1H$" "$W/c0.parsed"
check_grep "python3-icalendar: a VTIMEZONE for every TZID used" "^TZ-MISSING none$" "$W/c0.parsed"
check_grep "python3-icalendar: two zones used" "^TZ-USED America/Montevideo America/Sao_Paulo$" "$W/c0.parsed"
check_grep "the cancelled meeting as STATUS:CANCELLED" "^EVENT m2@red.test CANCELLED " "$W/c0.parsed"
check_grep "DTSTAMP is the meeting's last change" \
	"^EVENT m1@red.test CONFIRMED $(TZ=UTC date -d "@$((NOW - 3600))" +%Y-%m-%dT%H:%M:%S)+00:00$" "$W/c0.parsed"
check_eq "three events" 3 "$(grep -c '^EVENT ' "$W/c0.parsed")"

# khal, a calendar program, takes the feed in
export HOME=$W/home
mkdir -p "$HOME" "$W/khal/cal"
cat > "$W/khal/config" <<EOF
[calendars]
[[feed]]
path = $W/khal/cal
type = calendar
[locale]
timeformat = %H:%M
dateformat = %Y-%m-%d
longdateformat = %Y-%m-%d
datetimeformat = %Y-%m-%d %H:%M
longdatetimeformat = %Y-%m-%d %H:%M
default_timezone = America/Montevideo
local_timezone = America/Montevideo
[sqlite]
path = $W/khal/khal.db
EOF
if khal -c "$W/khal/config" import --batch -a feed "$W/c0.b" > "$W/khal.out" 2>&1 &&
	khal -c "$W/khal/config" list --format '{start} {title} [{status}]' \
		"$(date -d "@$((NOW - 100 * DAY))" +%Y-%m-%d)" 200d >> "$W/khal.out" 2>&1; then
	ok "khal imports the feed"
else
	not_ok "khal: $(cat "$W/khal.out")"
fi
check_grep "khal lists the meeting at its Montevideo time" \
	"^$(TZ=America/Montevideo date -d "@$((NOW + 10 * DAY))" '+%Y-%m-%d %H:%M') Plenario de Cultura \[CONFIRMED *\]" "$W/khal.out"
check_grep "khal sees the cancelled one as cancelled" "Taller suspendido \[CANCELLED *\]" "$W/khal.out"

# --- network and city feeds: public units only
check_eq "network feed -> 200" 200 "$(get net /feeds/network.ics)"
check_grep "network: named" "^X-WR-CALNAME:Mercociudades — reuniones" "$W/net.b"
check_grep "network: a unit's meeting" "SUMMARY:Plenario de Cultura" "$W/net.b"
check_grep "network: a body's meeting" "SUMMARY:Consejo de Mercociudades" "$W/net.b"
grep -q "reservada" "$W/net.b" && not_ok "network: a private unit's meeting" || ok "network: no private unit's meeting"
NET_LM=$(header net Last-Modified)
check_eq "city feed -> 200" 200 "$(get city /feeds/city/montevideo.ics)"
check_grep "city: the meeting it is invited to" "SUMMARY:Plenario de Cultura" "$W/city.b"
grep -q "Consejo de Mercociudades" "$W/city.b" && not_ok "city: a meeting it is not invited to" ||
	ok "city: only its meetings"
grep -q "reservada" "$W/city.b" && not_ok "city: a private unit's meeting" || ok "city: no private unit's meeting"
check_eq "city slug with accents folded -> 200" 200 "$(get sp /feeds/city/sao-paulo.ics)"
check_grep "a Brazilian city's feed is named in Portuguese" "^X-WR-CALNAME:Mercocidades — reuniões de São Paulo" "$W/sp.b"
"$MERCOMAIL" -c "$CONF" feed url city montevideo > "$W/url5.out" 2>&1
check_eq "feed url city: the https link" "https://agenda.mercociudades.test/feeds/city/montevideo.ics" "$(sed -n 2p "$W/url5.out")"
"$MERCOMAIL" -c "$CONF" feed url network > "$W/url6.out" 2>&1
check_eq "feed url network: the webcal link" "webcal://agenda.mercociudades.test/feeds/network.ics" "$(sed -n 1p "$W/url6.out")"

# --- a change: new bytes, new ETag, newer Last-Modified; the old validators miss
sleep 1
sql "UPDATE meetings SET title = 'Plenario de Cultura (nueva sala)', location = 'Sala 3',
	sequence = 1, changed_at = $(date +%s) WHERE uid = 'm1@red.test'"
check_eq "after a change: the old ETag -> 200" 200 "$(get d1 $C -H "If-None-Match: $ETAG")"
[ -n "$(header d1 ETag)" ] && [ "$(header d1 ETag)" != "$ETAG" ] && ok "a new ETag" || not_ok "ETag unchanged"
[ "$(date -d "$(header d1 Last-Modified)" +%s)" -gt "$(date -d "$LM" +%s)" ] &&
	ok "a newer Last-Modified" || not_ok "Last-Modified $(header d1 Last-Modified), was $LM"
check_eq "after a change: the old date -> 200" 200 "$(get d2 $C -H "If-Modified-Since: $LM")"
check_grep "the change is in the feed" "SUMMARY:Plenario de Cultura (nueva sala)" "$W/d1.b"
# a unit made public again: the network feed gains its meeting and a newer date
sleep 1
"$MERCOMAIL" -c "$CONF" feed private ambiente off > /dev/null 2>&1
check_eq "public again: no token needed" 200 "$(get p7 $P)"
get net2 /feeds/network.ics >/dev/null
check_grep "the network feed shows its meeting now" "reservada" "$W/net2.b"
[ "$(date -d "$(header net2 Last-Modified)" +%s)" -gt "$(date -d "$NET_LM" +%s)" ] &&
	ok "and has a newer Last-Modified" || not_ok "network Last-Modified $(header net2 Last-Modified), was $NET_LM"

# --- monitoring still answers beside the feeds
check_eq "/metrics still 200" 200 "$(get m /metrics)"
check_eq "POST a feed: 405" 405 "$(get post $C -X POST)"

kill -TERM "$pid"
wait_for 10 eval '! kill -0 '"$pid"' 2>/dev/null' || not_ok "still running after SIGTERM"
wait "$pid"; rc=$?
check_eq "exit status 0 after SIGTERM (no leaks under ASan)" 0 $rc
check_grep "the feeds were built (logged)" "event=feed.build feed=unit/cultura meetings=3" "$LOG"
if grep -q "AddressSanitizer\|LeakSanitizer\|runtime error" "$LOG"; then
	not_ok "sanitizer report in the log"; grep -A5 Sanitizer "$LOG" | sed 's/^/    /'
else
	ok "no sanitizer report"
fi
finish
