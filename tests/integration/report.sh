#!/bin/bash
# The activity report (issue 6, seed point 10). A fixture database is built
# here (the roster through the CLI; submissions, meetings and RSVPs inserted
# with sqlite3, before, inside and after the period, a cancelled meeting, a
# meeting not held yet, a city whose name needs HTML escaping); then
# `mercomail report activity` as CSV, text and HTML, and mercomaild's
# /reports/activity page, are checked figure by figure against the database
# (reportcheck.py computes them on its own). The token: missing or wrong ->
# the 404 of an unknown path. The page is rendered by headless Chromium and
# the screenshot kept (its path is printed). Then the monthly mail to the
# Council: queued once per month for every contact of the Council's cities,
# with the page attached, delivered, and not again after a restart.
set -u
. "$(dirname "$0")/harness.sh"
. "$(dirname "$0")/common.sh"
command -v curl >/dev/null 2>&1 || { echo "SKIP: curl is missing"; exit 77; }
start_work
mkdir -p "$W/out"
OUT=$MERCOMAIL_BUILDDIR/tests/integration/report-out	# kept after the run
mkdir -p "$OUT"
CHECK="python3 $TESTS_DIR/reportcheck.py"
write_config "$CONF" smtp=yes idle=no poll_interval=1
cli() { "$MERCOMAIL" -c "$CONF" "$@"; }
day() { date -u -d "$1" +%s; }

# the Council's contacts (their mailboxes get the monthly report)
COUNCIL="relaciones.internacionales@montevideo.example gabinete@portoalegre.example intendencia@asuncion.example"
for a in $COUNCIL; do harness_add_user "$a" pw; done
cli init >/dev/null
cli roster import "$MERCOMAIL_TESTDATA/roster/cities.csv" \
	"$MERCOMAIL_TESTDATA/roster/units.csv" >/dev/null

# --- the fixture -------------------------------------------------------------------
city() { echo "(SELECT id FROM cities WHERE name = '$1')"; }
unit() { [ -n "$1" ] && echo "(SELECT id FROM units WHERE slug = '$1')" || echo NULL; }
n=0
# sub KIND CITY UNIT DATE: a recorded submission (and its message)
sub() {
	n=$((n + 1))
	sql "INSERT INTO messages (message_id, sha256, folder, uidvalidity, uid, received_at, size, raw)
	     VALUES ('<r$n@t>', 'x', 'INBOX', 1, $n, $(day "$4"), 1, 'x');
	     INSERT INTO submissions (message_id, kind, city_id, unit_id, created_at)
	     VALUES (last_insert_rowid(), '$1', $(city "$2"), $(unit "$3"), $(day "$4"))"
}
# meeting ID UNIT START STATUS
meeting() {
	sql "INSERT INTO meetings (id, uid, unit_id, title, start_at, end_at, tzid, status,
	     created_at, changed_at) VALUES ($1, 'm$1@t', $(unit "$2"), 'Reunión <$1>',
	     $(day "$3"), $(day "$3") + 3600, 'America/Montevideo', '$4', 0, 0)"
}
# att MEETING CITY|- ADDRESS PARTSTAT
att() {
	local c=NULL
	[ "$2" != - ] && c=$(city "$2")
	sql "INSERT INTO meeting_attendees (meeting_id, address, city_id, partstat)
	     VALUES ($1, '$3', $c, '$4')"
}
sql "INSERT INTO cities (name, country, lang, timezone) VALUES
     ('Villa <Test> & \"Co\"', 'UY', 'es', 'America/Montevideo')"
sql "INSERT INTO unit_members (unit_id, city_id, role) VALUES
     ($(unit consejo), $(city Montevideo), 'member'),
     ($(unit consejo), $(city 'Porto Alegre'), 'member'),
     ($(unit consejo), $(city 'Asunción'), 'member')"
sub informe 'Porto Alegre' cultura 2025-10-01		# before the period
sub informe 'Porto Alegre' cultura 2026-02-10
sub informe Canelones cultura 2026-05-03
sub informe Montevideo ambiente 2026-03-01
sub informe Rosario ciencia 2026-07-05			# after it
sub buena-practica Montevideo cultura 2026-01-20
sub buena-practica 'São Paulo' '' 2026-04-04		# no unit: its units count it
sub odm Montevideo '' 2026-02-14
sub odm 'Asunción' '' 2026-06-01
sub odm 'Asunción' '' 2026-06-29
sub agenda Lima '' 2025-06-01				# long ago: Lima is silent
sub convenio Rosario '' 2026-01-05
sub convenio 'Villa <Test> & "Co"' '' 2026-03-03
meeting 1 cultura 2026-03-10 confirmed
att 1 'Porto Alegre' gabinete@portoalegre.example ACCEPTED
att 1 Canelones intendencia@canelones.example DECLINED
att 1 Montevideo relaciones.internacionales@montevideo.example NEEDS-ACTION
att 1 - invitada@otra.example TENTATIVE
meeting 2 cultura 2026-05-20 cancelled
att 2 'Porto Alegre' gabinete@portoalegre.example ACCEPTED
meeting 3 consejo 2026-04-15 confirmed
att 3 Montevideo relaciones.internacionales@montevideo.example ACCEPTED
att 3 'Porto Alegre' gabinete@portoalegre.example ACCEPTED
att 3 'Asunción' intendencia@asuncion.example NEEDS-ACTION
meeting 4 ambiente 2026-06-28 confirmed			# in the period, after "now"
att 4 Montevideo relaciones.internacionales@montevideo.example ACCEPTED
meeting 5 ambiente 2025-12-01 confirmed			# before the period
att 5 Guarulhos gabinete@guarulhos.example ACCEPTED
meeting 6 ambiente 2026-01-15 confirmed
att 6 Montevideo relaciones.internacionales@montevideo.example DELEGATED
att 6 Guarulhos gabinete@guarulhos.example ACCEPTED
check_eq "the fixture: 13 submissions, 6 meetings, 12 attendees" "13 6 12" \
	"$(sql "SELECT (SELECT count(*) FROM submissions) || ' ' || (SELECT count(*) FROM meetings)
	        || ' ' || (SELECT count(*) FROM meeting_attendees)")"

# The period: 2026-01-01 to 2026-06-30 included; "now" is 2026-06-25.
export MERCOMAIL_NOW=2026-06-25T12:00:00Z
SINCE=$(day 2026-01-01) UNTIL=$(day 2026-07-01) NOW=$(day "2026-06-25 12:00")
PERIOD="--since 2026-01-01 --until 2026-06-30"

# report FORMAT [OPTIONS]: the CLI's report into $W/out/activity.FORMAT
report() {
	local f=$1; shift
	cli report activity $PERIOD --format "$f" "$@" > "$W/out/activity.$f" 2>"$W/out/err"
}
# agrees FORMAT FILE [SILENT_DAYS]: reportcheck.py's verdict
agrees() {
	if $CHECK "$DB" "$SINCE" "$UNTIL" "$NOW" "${3:-180}" "$1" "$2" > "$W/out/check" 2>&1; then
		ok "$1: every figure as in the database ($(cat "$W/out/check"))"
	else
		not_ok "$1: figures differ from the database:"; sed 's/^/    /' "$W/out/check" | head -20
	fi
}

# --- the CLI -------------------------------------------------------------------------
for f in csv text html; do
	report $f && ok "report activity --format $f" || not_ok "--format $f: $(cat "$W/out/err")"
	agrees $f "$W/out/activity.$f"
done
# the figures a person would look at first, spelled out (the checker is a program too)
row() { awk -F, -v k="$1" '$2 == k' "$W/out/activity.csv" | tr -d '\r'; }
check_eq "cultura: 2 reports, last 2026-05-03, 1 meeting held, 4 invited, 3 answered, 1 accepted, 25%, 1 best practice" \
	"unit,cultura,Cultura,,2,2026-05-03,1,4,3,1,25,1,0,,,,,,2026-05-03,0" "$(row cultura)"
check_eq "ambiente: the meeting after now and the one before the period not counted" \
	"1,2,2,1,50" "$(row ambiente | cut -d, -f7-11)"
check_eq "consejo: 1 meeting, 3 invited, 2 answered, 67%" "1,3,2,2,67" "$(row consejo | cut -d, -f7-11)"
check_eq "an indicator without a unit counts for each unit of its city (genero: Montevideo)" \
	1 "$(row genero | cut -d, -f13)"
check_grep "Lima is silent" "^  Lima (PE) *último: 2025-06-01" "$W/out/activity.text"
check_grep "a unit that never sent anything is silent" "^  deportes *último: nunca" "$W/out/activity.text"
report csv --silent-days 30
agrees csv "$W/out/activity.csv" 30
check_eq "with --silent-days 30, Porto Alegre (last sent 2026-02-10) is silent" \
	1 "$(awk -F, '$3 == "Porto Alegre" { print $NF }' "$W/out/activity.csv" | tr -d '\r')"
report text --lang pt
check_grep "--lang pt: Portuguese labels" "^Relatório de atividade da Mercocidades" "$W/out/activity.text"
cli report activity --format pdf > /dev/null 2>&1; check_eq "an unknown format is a usage error" 64 $?
cli report activity --since 2026-02-30 > /dev/null 2>&1; check_eq "a bad date is a usage error" 64 $?
cli report activity --since 2026-06-01 --until 2026-05-01 > /dev/null 2>&1
check_eq "--until before --since is a usage error" 64 $?

# --- mercomaild: /reports/activity behind the token -----------------------------------
HTTP_PORT=$(_harness_free_ports 1)
URL=http://127.0.0.1:$HTTP_PORT
TOKEN=$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')
(umask 077; echo "$TOKEN" > "$W/report.token")
printf '[http]\nlisten = 127.0.0.1:%s\nreport_token_file = %s\n' "$HTTP_PORT" "$W/report.token" >> "$CONF"
wait_for() {
	local t=$(( $1 * 10 )); shift
	while [ $t -gt 0 ]; do "$@" && return 0; sleep 0.1; t=$((t - 1)); done
	return 1
}
get() {
	local path=$1; shift
	curl -s -m 10 -o "$W/body" -w '%{http_code}' "$@" "$URL$path" 2>/dev/null
}
up() { [ "$(get /healthz)" != 000 ]; }
"$MERCOMAILD" -c "$CONF" >"$W/daemon.log" 2>&1 &
pid=$!
wait_for 20 up && ok "mercomaild serves HTTP" || not_ok "no HTTP server: $(tail -3 "$W/daemon.log")"
Q="since=2026-01-01&until=2026-06-30"
check_eq "with the token: 200" 200 "$(get "/reports/activity?$Q&token=$TOKEN")"
cp "$W/body" "$W/out/served.html"
agrees html "$W/out/served.html"
check_eq "served: the same page as the CLI's" "$(cli report activity $PERIOD --format html | md5sum)" \
	"$(md5sum < "$W/out/served.html")"
get "/reports/activity?$Q&token=$TOKEN" -D "$W/headers" >/dev/null
check_grep "served as HTML" "^Content-Type: text/html; charset=utf-8" "$W/headers"
check_eq "an unknown path: 404" 404 "$(get /reports/nothing)"
cp "$W/body" "$W/out/unknown.body"
check_eq "no token: 404" 404 "$(get "/reports/activity?$Q")"
check_eq "  with the body of an unknown path" "$(cat "$W/out/unknown.body")" "$(cat "$W/body")"
check_eq "a wrong token: 404" 404 "$(get "/reports/activity?token=${TOKEN%?}x")"
check_eq "  with the body of an unknown path" "$(cat "$W/out/unknown.body")" "$(cat "$W/body")"
check_eq "the token with one more character: 404" 404 "$(get "/reports/activity?token=${TOKEN}0")"
check_eq "an empty token: 404" 404 "$(get "/reports/activity?token=")"
if grep -q "$TOKEN" "$W/daemon.log"; then not_ok "the token is in the log"; else ok "the token is not logged"; fi

# --- the page as a person sees it: headless Chromium --------------------------------------
if command -v chromium >/dev/null 2>&1; then
	rm -f "$OUT/activity.png"
	timeout 60 chromium --headless --no-sandbox --disable-gpu --hide-scrollbars \
		--screenshot="$OUT/activity.png" --window-size=1200,1600 \
		"$URL/reports/activity?$Q&token=$TOKEN" > "$W/out/chromium.log" 2>&1
	if python3 - "$OUT/activity.png" > "$W/out/png" 2>&1 <<'PY'
import struct, sys, zlib
data = open(sys.argv[1], "rb").read()
assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
pos, idat, hdr = 8, b"", None
while pos < len(data):
    n, kind = struct.unpack(">I4s", data[pos:pos + 8])
    body = data[pos + 8:pos + 8 + n]
    if kind == b"IHDR":
        hdr = struct.unpack(">IIBBBBB", body)
    elif kind == b"IDAT":
        idat += body
    pos += 12 + n
w, h, depth, ctype = hdr[:4]
assert (w, h) == (1200, 1600), "size %dx%d" % (w, h)
assert depth == 8 and ctype in (2, 6), "colour type %d depth %d" % (ctype, depth)
bpp = 3 if ctype == 2 else 4
raw, stride = zlib.decompress(idat), w * bpp
prev, colours, blue = bytearray(stride), set(), 0
for y in range(h):
    f, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
    for i in range(stride):   # undo the PNG filters
        a = line[i - bpp] if i >= bpp else 0
        b, c = prev[i], prev[i - bpp] if i >= bpp else 0
        if f == 1: line[i] = (line[i] + a) & 255
        elif f == 2: line[i] = (line[i] + b) & 255
        elif f == 3: line[i] = (line[i] + (a + b) // 2) & 255
        elif f == 4:
            p = a + b - c; pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
            line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
    if y % 4 == 0:
        for x in range(0, w, 2):
            px = tuple(line[x * bpp:x * bpp + 3])
            colours.add(px)
            blue += px == (0x2b, 0x6c, 0xb0)
    prev = line
assert len(colours) > 20, "only %d colours: blank?" % len(colours)
assert blue > 100, "no bar of the charts' blue (%d pixels)" % blue
print("%dx%d, %d colours, %d bar pixels sampled" % (w, h, len(colours), blue))
PY
	then
		ok "Chromium renders the page: $(cat "$W/out/png")"
	else
		not_ok "the screenshot: $(cat "$W/out/png")"; tail -5 "$W/out/chromium.log"
	fi
	echo "# screenshot: $OUT/activity.png"
else
	echo "# chromium is missing (scripts/deps.sh installs it): no screenshot"
fi
cp "$W/out/served.html" "$OUT/activity.html"

# --- the monthly mail to the Council ---------------------------------------------------
# The daemon above ran in June ("now" 2026-06-25): June's report went out then.
kill -TERM "$pid"; wait "$pid"
check_eq "mercomaild stops cleanly" 0 $?
reports() { sql "SELECT count(*) FROM outbox WHERE purpose = 'report'"; }
check_eq "June: one row in report_mails, for the 3 contacts of the Council" "2026-06|3" \
	"$(sql "SELECT month, recipients FROM report_mails")"
check_eq "June: 3 mails queued" 3 "$(reports)"
once() { MERCOMAIL_NOW=$1 "$MERCOMAILD" -c "$CONF" --once >>"$W/daemon.log" 2>&1 || not_ok "mercomaild --once failed"; }
once 2026-07-01T08:00:00Z
check_eq "July: recorded once more" "2026-06|3 2026-07|3" \
	"$(sql "SELECT group_concat(month || '|' || recipients, ' ') FROM (SELECT * FROM report_mails ORDER BY month)")"
check_eq "July: 3 more mails" 6 "$(reports)"
once 2026-07-01T09:00:00Z
once 2026-07-31T23:59:59Z
check_eq "a restart in the same month sends nothing again" 6 "$(reports)"
check_eq "every report mail was sent" 6 "$(sql "SELECT count(*) FROM outbox WHERE purpose = 'report' AND state = 'sent'")"
for a in $COUNCIL; do
	if mailtool --user "$a" --password pw wait-count INBOX 2 --timeout 20 >/dev/null; then
		ok "$a got June's and July's reports"
	else
		not_ok "$a holds $(mailtool --user "$a" --password pw count INBOX) mails"
	fi
done
for a in $COUNCIL; do
	check_eq "$a got no more than two" 2 "$(mailtool --user "$a" --password pw count INBOX)"
done
# the July mail of a Spanish- and of a Portuguese-speaking city: the text, the page attached
for a in relaciones.internacionales@montevideo.example gabinete@portoalegre.example; do
	rm -rf "$W/out/$a"; mailtool --user "$a" --password pw fetch-all INBOX "$W/out/$a" >/dev/null
	last=$(ls "$W/out/$a" | sort -n | tail -1)
	python3 - "$W/out/$a/$last" "$W/out/$a.att.html" > "$W/out/$a.mail" 2>&1 <<'PY'
import email, email.policy, sys
m = email.message_from_binary_file(open(sys.argv[1], "rb"), policy=email.policy.default)
print("subject:", m["Subject"])
print("auto:", m["Auto-Submitted"])
print("type:", m.get_content_type())
body = m.get_body(preferencelist=("plain",))
print("text:", " ".join(body.get_content().split()))
atts = list(m.iter_attachments())
for p in atts:
    print("attachment:", p.get_filename(), p.get_content_type())
open(sys.argv[2], "wb").write(atts[0].get_payload(decode=True))
PY
done
M=$W/out/relaciones.internacionales@montevideo.example
check_grep "es: the subject names the period" "^subject: Informe de actividad de la red: 2025-07-01 a 2026-06-30$" "$M.mail"
check_grep "es: automatic mail" "^auto: auto-generated$" "$M.mail"
check_grep "es: multipart/mixed" "^type: multipart/mixed$" "$M.mail"
check_grep "es: the short text" "^text: Estimados miembros del Consejo: Adjuntamos el informe" "$M.mail"
check_grep "es: the page attached" "^attachment: informe-actividad-2026-06.html text/html$" "$M.mail"
P=$W/out/gabinete@portoalegre.example
check_grep "pt: the subject in Portuguese" "^subject: Relatório de atividade da rede: 2025-07-01 a 2026-06-30$" "$P.mail"
check_grep "pt: the page attached" "^attachment: relatorio-atividade-2026-06.html text/html$" "$P.mail"
check_grep "pt: the attached page is in Portuguese" '<html lang="pt">' "$P.att.html"
# the attached page's figures: the twelve months before 2026-07-01, "now" 2026-07-01T08:00
if $CHECK "$DB" "$(day 2025-07-01)" "$(day 2026-07-01)" "$(day "2026-07-01 08:00")" 180 html \
	"$M.att.html" > "$W/out/check" 2>&1; then
	ok "the attached page: every figure as in the database ($(cat "$W/out/check"))"
else
	not_ok "the attached page differs from the database:"; sed 's/^/    /' "$W/out/check" | head
fi
once 2026-08-01T00:00:01Z
# mercomaild -n checks the texts of the monthly mail
"$MERCOMAILD" -c "$CONF" -n > "$W/out/n" 2>&1; check_eq "mercomaild -n: the config is OK" 0 $?
cp -r "$MERCOMAIL_SRCDIR/templates" "$W/tpl"
echo "{{no_such_value}}" >> "$W/tpl/pt/report-monthly.txt"
sed "s|^templates = .*|templates = $W/tpl|" "$CONF" > "$W/bad.conf"
"$MERCOMAILD" -c "$W/bad.conf" -n > "$W/out/n" 2>&1; check_eq "mercomaild -n: an unknown value in report-monthly.txt" 78 $?
check_grep "  named with its file" "pt/report-monthly.txt" "$W/out/n"
check_eq "August: the next month goes out" 9 "$(reports)"
if grep -q "AddressSanitizer\|LeakSanitizer\|runtime error" "$W/daemon.log"; then
	not_ok "sanitizer report in the log"; grep -A5 Sanitizer "$W/daemon.log" | head -20
else
	ok "no sanitizer report"
fi
finish
