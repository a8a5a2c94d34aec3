#!/bin/bash
# Digests through the real OpenSMTPD and Dovecot: submissions of a day and
# a meeting with answers become one digest per member, in the member's
# language, text and HTML, with the list headers, read back from their
# mailboxes; the same period is never sent twice (again, or after a
# restart); an empty period sends nothing unless the list says always; the
# member's cadence is respected; preview and send on demand.
set -u
. "$(dirname "$0")/harness.sh"
. "$(dirname "$0")/common.sh"
start_work
write_config "$CONF" smtp=yes
# the weekly digest on the weekday of the day after tomorrow: the week it
# closes holds today's submissions whatever day the test runs
WDAY=$(TZ=America/Montevideo LC_ALL=C date -d '2 days' +%a | tr 'A-Z' 'a-z')
printf '[digest]\ndaily = 08:00\nweekly = %s 09:00\ntimezone = America/Montevideo\nsilent_days = 60\n' \
	"$WDAY" >> "$CONF"
# a list section whose slug names no unit: said in the log, ignored
printf '[list cultrua]\ndaily = 07:00\n' >> "$CONF"
HTTP_PORT=$(_harness_free_ports 1)
printf '[http]\nlisten = 127.0.0.1:%s\nbase_url = http://127.0.0.1:%s\n' "$HTTP_PORT" "$HTTP_PORT" >> "$CONF"
mkdir -p "$W/out"

POA=gabinete@portoalegre.example	# coordinates cultura (pt)
CAN=intendencia@canelones.example	# subcoordinates cultura (es)
ROS=internacionales@rosario.example	# made a member city of cultura below: silent, bouncing
WEK=semanal@desconocido.example		# subscribed, weekly
for a in $POA $CAN $ROS $WEK; do harness_add_user "$a" pw; done
"$MERCOMAIL" -c "$CONF" init >/dev/null
"$MERCOMAIL" -c "$CONF" roster import "$MERCOMAIL_TESTDATA/roster/cities.csv" \
	"$MERCOMAIL_TESTDATA/roster/units.csv" >/dev/null
"$MERCOMAIL" -c "$CONF" list add cultura $WEK --digest weekly >/dev/null
sql "INSERT INTO unit_members (unit_id, city_id, role) SELECT u.id, c.id, 'member'
	FROM units u, cities c WHERE u.slug = 'cultura' AND c.name = 'Rosario'"

N=0
submit() {
	N=$((N + 1))
	{
		printf 'From: %s\r\nTo: %s\r\nSubject: %s\r\nMessage-ID: <dg-%d-%s@test.example>\r\n' \
		    "$1" "$HARNESS_USER" "$2" "$N" "$$"
		printf 'Date: %s\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=UTF-8\r\n\r\n' "$(date -R)"
		sed 's/$/\r/'
	} > "$W/m$N.eml"
	mailtool send --from "$1" --to "$HARNESS_USER" "$W/m$N.eml" >/dev/null
}
run_once() { "$MERCOMAILD" -c "$CONF" --once >>"$W/daemon.log" 2>&1 || not_ok "mercomaild --once failed"; }
digest_run() { "$MERCOMAIL" -c "$CONF" digest run --now "$1" 2>/dev/null; }
# digests_of ADDR: fetch the mailbox, print the files that are digests
digests_of() {
	rm -rf "$W/out/$1"
	mailtool --user "$1" --password pw fetch-all INBOX "$W/out/$1" >/dev/null
	grep -l '^List-Id:' "$W/out/$1"/* 2>/dev/null
}
# part FILE plain|html: a decoded part of a delivered mail
part() {
	python3 - "$1" "$2" <<'PY'
import email, email.policy, sys
m = email.message_from_binary_file(open(sys.argv[1], "rb"), policy=email.policy.default)
print(m.get_body((sys.argv[2],)).get_content())
PY
}

submit $POA "Relatório: Cultura" <<'B'
Unidade: cultura
Período: 01/07/2026 - 31/12/2026
Atividades: Festival <de> música & dança das cidades.
Resultados: 12 cidades, 40 grupos.
B
submit $CAN "[informe] Cultura, Canelones" <<'B'
Unidad: cultura
Período: 2026-07-01 a 2026-12-31
Actividades: Encuentro de bibliotecas populares.
Resultados: 9 ciudades.
B
mailtool wait-count INBOX 2 --timeout 30 >/dev/null
run_once
grep -q 'event=config section="list cultrua" msg="no unit or body has this slug' "$W/daemon.log" &&
	ok "a [list SLUG] of no unit is logged" || not_ok "no warning for [list cultrua] in the log"
check_eq "two submissions for cultura" 2 "$(sql "SELECT count(*) FROM submissions s JOIN units u ON u.id = s.unit_id WHERE u.slug = 'cultura'")"
# a meeting of cultura in four days, with answers
sql "INSERT INTO meetings (uid, reference, unit_id, title, start_at, end_at, tzid, created_at, changed_at)
	SELECT 'dg-1@red.test', 'RE-2026-0001', id, 'Reunión anual de Cultura',
	strftime('%s','now') + 4 * 86400, strftime('%s','now') + 4 * 86400 + 7200,
	'America/Montevideo', strftime('%s','now'), strftime('%s','now') FROM units WHERE slug = 'cultura';
	INSERT INTO meeting_attendees (meeting_id, address, partstat) VALUES
	(1, 'a@x.test', 'ACCEPTED'), (1, 'b@x.test', 'ACCEPTED'), (1, 'c@x.test', 'DECLINED'),
	(1, 'd@x.test', 'NEEDS-ACTION');"

# three hard bounces of Rosario's address: no more list mail for it (the
# roster keeps it), and the digest tells the list
sql "INSERT INTO bounces (at, address, action, status, hard) VALUES
	(strftime('%s','now') - 3600, '$ROS', 'failed', '5.1.1', 1),
	(strftime('%s','now') - 1800, '$ROS', 'failed', '5.1.1', 1),
	(strftime('%s','now') - 60, '$ROS', 'failed', '5.1.1', 1)"
check_eq "an address that keeps bouncing leaves the list" 0 \
	"$("$MERCOMAIL" -c "$CONF" list members cultura 2>/dev/null | grep -c "^$ROS")"
check_eq "but not the roster" 1 "$(sql "SELECT count(*) FROM contacts WHERE address = '$ROS'")"
D1=$(TZ=America/Montevideo date -d tomorrow +%F)
D2=$(TZ=America/Montevideo date -d '2 days' +%F)
D3=$(TZ=America/Montevideo date -d '3 days' +%F)
check_eq "not due before 08:00" "0 digests queued" "$(digest_run "$D1 07:59")"
check_eq "due at 08:00: the daily members" "2 digests queued" "$(digest_run "$D1 08:05")"
check_eq "the same period again: nothing" "0 digests queued" "$(digest_run "$D1 20:00")"
run_once
run_once	# a restart: nothing is sent twice
sleep 1
P=$(digests_of $POA); C=$(digests_of $CAN)
check_eq "one digest for $POA" 1 "$(echo "$P" | grep -c .)"
check_eq "one digest for $CAN" 1 "$(echo "$C" | grep -c .)"
check_eq "none for the weekly member" "" "$(digests_of $WEK)"
part "$P" plain > "$W/poa.txt"; part "$P" html > "$W/poa.html"; part "$C" plain > "$W/can.txt"
check_grep "Portuguese for $POA" "Resumo da lista \"Cultura\"" "$W/poa.txt"
check_grep "Spanish for $CAN" "Resumen de la lista \"Cultura\"" "$W/can.txt"
check_grep "grouped by kind, with the count" "Relatório de atividades de unidade temática (2)" "$W/poa.txt"
check_grep "each submission with its reference" "\[MC-2026-0000" "$W/poa.txt"
check_grep "and its city" "(Canelones)" "$W/can.txt"
check_grep "the meeting with its answers" "aceitaram 2, recusaram 1, talvez 0, sem resposta 1" "$W/poa.txt"
check_grep "silent member cities are named" "Sin informes en los últimos 60 días" "$W/can.txt"
check_grep "Rosario among them" "^\* Rosario" "$W/can.txt"
check_grep "the bouncing address is named" "^\* $ROS (3 rebotes)" "$W/can.txt"
check_grep "the HTML escapes values" "Festival &lt;de&gt; música &amp; dança" "$W/poa.html"
if grep -q "Festival <de>" "$W/poa.html"; then not_ok "raw value in the HTML"; else ok "no raw value in the HTML"; fi
check_grep "multipart/alternative" "^Content-Type: multipart/alternative" "$P"
check_grep "List-Id (RFC 2919)" "^List-Id: Cultura <cultura.red.test>" "$P"
check_grep "List-Unsubscribe with mailto:" "^List-Unsubscribe: <mailto:secretaria+cultura-unsubscribe@red.test>" "$P"
check_grep "List-Unsubscribe-Post (RFC 8058)" "^List-Unsubscribe-Post: List-Unsubscribe=One-Click" "$P"
check_grep "List-Help" "^List-Help: <mailto:secretaria@red.test" "$P"
check_grep "Precedence: list" "^Precedence: list" "$P"
check_grep "Auto-Submitted: auto-generated" "^Auto-Submitted: auto-generated" "$P"
check_eq "the period is recorded" "daily 2" "$(sql "SELECT cadence || ' ' || recipients FROM digests WHERE recipients > 0")"

# --- an empty period sends nothing, unless the list says always
check_eq "nothing new: nothing sent" "0 digests queued" "$(digest_run "$D2 08:05")"
check_eq "the empty period is recorded" 1 \
	"$(sql "SELECT count(*) FROM digests d JOIN units u ON u.id = d.unit_id WHERE u.slug = 'cultura'
	AND cadence = 'daily' AND recipients = 0 AND period_end > (SELECT max(period_end) FROM digests WHERE recipients > 0)")"
"$MERCOMAIL" -c "$CONF" list set cultura --always yes > "$W/set.txt"
check_grep "list set --always yes" "Empty digest *sent (always)" "$W/set.txt"
check_eq "always: sent for an empty period, and the week's digest to the weekly member" \
	"3 digests queued" "$(digest_run "$D3 08:05")"
run_once
WD=$(digests_of $WEK)
check_eq "one weekly digest for $WEK" 1 "$(echo "$WD" | grep -c .)"
part "$WD" plain > "$W/wek.txt"
check_grep "a week long, to the weekly time" "del $(TZ=America/Montevideo date -d '-5 days' +%F) 09:00 al $D2 09:00" "$W/wek.txt"
check_grep "the week's submissions, counted, in Spanish" "== Informe de actividades de unidad temática (2) ==" "$W/wek.txt"
check_grep "with the meeting's answers" "aceptaron 2, rechazaron 1, tal vez 0, sin respuesta 1" "$W/wek.txt"
check_eq "the daily members got today's digest and not the weekly one" "2 2" \
	"$(digests_of $POA | grep -c .) $(digests_of $CAN | grep -c .)"

# --- a list's own times: [list SLUG] over [digest]
printf '[list seguridad]\ndaily = 06:30\nweekly = off\n' >> "$CONF"
"$MERCOMAIL" -c "$CONF" list set seguridad --always yes > "$W/seg.txt"
check_grep "list show: its own daily time" "Daily digest *06:30 America/Montevideo" "$W/seg.txt"
check_grep "list show: no weekly digest" "Weekly digest *off" "$W/seg.txt"
D4=$(TZ=America/Montevideo date -d '4 days' +%F)
nseg=$("$MERCOMAIL" -c "$CONF" list members seguridad 2>/dev/null | grep -c .)
check_eq "the new schedule's last slot (yesterday 06:30) is due at once" "$nseg digests queued" \
	"$(digest_run "$D4 06:29")"
check_eq "then nothing before 06:30" "0 digests queued" "$(digest_run "$D4 06:29")"
check_eq "at 06:30 seguridad's members, not cultura's (08:00)" "$nseg digests queued" \
	"$(digest_run "$D4 06:35")"
check_eq "cultura at its 08:00" "2 digests queued" "$(digest_run "$D4 08:05")"
check_eq "seguridad's digests are recorded at 06:30" 2 "$(sql "SELECT count(*) FROM digests d
	JOIN units u ON u.id = d.unit_id WHERE u.slug = 'seguridad' AND d.cadence = 'daily'
	AND strftime('%H:%M', d.period_end, 'unixepoch') = '09:30'")"

# --- on demand
"$MERCOMAIL" -c "$CONF" digest preview cultura --lang pt > "$W/preview.txt"
check_grep "preview prints the text" "^Subject: Resumo de Cultura" "$W/preview.txt"
check_eq "send: every member but none" "3 digests queued for cultura" \
	"$("$MERCOMAIL" -c "$CONF" digest send cultura 2>/dev/null)"
"$MERCOMAIL" -c "$CONF" digest send nope >/dev/null 2>&1
check_eq "an unknown unit" 65 "$?"

# --- one click: the https link of the List-Unsubscribe header, per member
url=$(python3 - "$P" <<'PY'
import email, email.policy, re, sys
m = email.message_from_binary_file(open(sys.argv[1], "rb"), policy=email.policy.default)
print(re.search(r"<(http[^>]*)>", str(m["List-Unsubscribe"])).group(1))
PY
)
case $url in http://127.0.0.1:$HTTP_PORT/lists/unsubscribe\?t=unsub-*) ok "a signed link for the member" ;;
*) not_ok "link: $url" ;; esac
"$MERCOMAILD" -c "$CONF" >>"$W/daemon.log" 2>&1 &
dpid=$!
for _ in $(seq 1 100); do curl -s -o /dev/null "http://127.0.0.1:$HTTP_PORT/healthz" && break; sleep 0.1; done
curl -s -o "$W/get.html" -w '%{http_code}' "$url" > "$W/code"
check_eq "GET shows a page" 200 "$(cat "$W/code")"
check_grep "with a button that posts" '<form method="post"' "$W/get.html"
check_eq "GET alone unsubscribes nobody" 1 "$("$MERCOMAIL" -c "$CONF" list members cultura 2>/dev/null | grep -c "^$POA")"
check_eq "a forged link is 404" 404 "$(curl -s -o /dev/null -w '%{http_code}' -X POST \
	-d List-Unsubscribe=One-Click "${url%?????}aaaaa")"
check_eq "the one-click POST" 200 "$(curl -s -o /dev/null -w '%{http_code}' -X POST \
	-H 'Content-Type: application/x-www-form-urlencoded' -d List-Unsubscribe=One-Click "$url")"
check_eq "unsubscribes that member only" "0 1" "$("$MERCOMAIL" -c "$CONF" list members cultura 2>/dev/null | grep -c "^$POA") $("$MERCOMAIL" -c "$CONF" list members cultura 2>/dev/null | grep -c "^$CAN")"
kill -TERM $dpid; wait $dpid 2>/dev/null

[ "$FAILED" -eq 0 ] || { cat "$W/daemon.log"; }
finish
