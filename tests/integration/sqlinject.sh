#!/bin/bash
# SQL injection: quotes, semicolons, comment markers ("--", "/*"),
# "' OR 1=1 --", "\"; DROP TABLE messages; --", format directives and SQL
# parameter markers go through every free-text field of every kind of form,
# the Subject and the sender's display name of a submission mail, through
# every typed field (where they make the form invalid), and through every
# value-taking option of the CLI. The values are stored and read back
# verbatim (SQLite, `submissions show`, `messages show`, the CSV export), a
# filter never matches more than the literal value, and the tables are intact.
set -u
. "$(dirname "$0")/harness.sh"
. "$(dirname "$0")/common.sh"
start_work
write_config "$CONF" smtp=yes

MVD=relaciones.internacionales@montevideo.example	# coordinates ambiente
ROS=internacionales@rosario.example			# a roster contact
CAN=intendencia@canelones.example			# a roster contact
STR=alguien@desconocido.example				# anyone may apply
for a in $MVD $ROS $CAN $STR; do harness_add_user "$a" pw; done
"$MERCOMAIL" -c "$CONF" init >/dev/null
"$MERCOMAIL" -c "$CONF" roster import "$MERCOMAIL_TESTDATA/roster/cities.csv" \
	"$MERCOMAIL_TESTDATA/roster/units.csv" >/dev/null
tables_before=$(sql "SELECT group_concat(name, ' ') FROM (SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name)")
cities_before=$(sql "SELECT count(*) FROM cities")

# The payloads, one per line (no leading "-": that would read as an option).
cat > "$W/payloads" <<'P'
O'Brien y "comillas" d'Ávila
a; b; c;
valor -- comentario
inicio /* comentario */ fin /* abierto
' OR 1=1 --
"; DROP TABLE messages; --
'); DELETE FROM submissions; --
%s%n%x %% \ \\ ?1 ?2 :nombre @x $1
P
mapfile -t P < "$W/payloads"

echo 0 > "$W/count"
# submit FROM SUBJECT [DISPLAY-NAME] < BODY: prints the Message-ID
submit() {
	local from=$1 subject=$2 name=${3:-} f N
	N=$(( $(cat "$W/count") + 1 ))
	echo "$N" > "$W/count"
	f=$W/sub-$N.eml
	{
		if [ -n "$name" ]; then
			printf 'From: %s <%s>\r\n' "$name" "$from"
		else
			printf 'From: %s\r\n' "$from"
		fi
		printf 'To: %s\r\nSubject: %s\r\n' "$HARNESS_USER" "$subject"
		printf 'Message-ID: <inj-%d-%s@test.example>\r\n' "$N" "$$"
		printf 'Date: %s\r\nMIME-Version: 1.0\r\n' "$(date -R)"
		printf 'Content-Type: text/plain; charset=UTF-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n'
		sed 's/$/\r/'
	} > "$f"
	mailtool send --from "$from" --to "$HARNESS_USER" "$f" >/dev/null
	echo "<inj-$N-$$@test.example>"
}
state_of() { sql "SELECT state FROM messages WHERE message_id = '$1'"; }
msg_id_of() { sql "SELECT id FROM messages WHERE message_id = '$1'"; }

# --- every free-text field of each kind, a different payload in each --------------
# Lines "kind field payload-index" record what was put where.
: > "$W/expect"
put() { echo "$1 $2 $3" >> "$W/expect"; printf '%s' "${P[$3]}"; }

m_inf=$(submit $MVD "[informe] ${P[4]}" "${P[0]}" <<B
Unidad: ambiente
Período: 2026-07-01 a 2026-12-31
Actividades: $(put informe activities 0)
Resultados: $(put informe results 5)
Próximos pasos: $(put informe next_steps 7)
B
)
m_ag=$(submit $ROS "[tema de agenda] ${P[5]}" "${P[6]}" <<B
Órgano: consejo
Título: $(put agenda title 4)
Justificación: $(put agenda justification 3)
Proponente: Rosario
B
)
m_bp=$(submit $ROS "Buena práctica: ${P[1]}" <<B
Título: $(put buena-practica title 6)
Ciudad: Rosario
Unidad: educacion
Resumen: $(put buena-practica summary 2)
Resultados: $(put buena-practica results 1)
Contacto: juventud@rosario.example
B
)
m_odm=$(submit $CAN "[ODM] ${P[3]}" <<B
Objetivo: 2
Indicador: $(put odm indicator 5)
Valor: $(put odm value 4)
Unidad de medida: $(put odm measure_unit 1)
Año: 2025
Ciudad: Canelones
Fuente: $(put odm source 7)
B
)
m_conv=$(submit $MVD "Convenio con ${P[2]}" <<B
Formulario: convenio
Contraparte: $(put convenio counterpart 6)
Tipo: organismo internacional
Alcance: $(put convenio scope 0)
Vigencia: 2026-01-01 a 2027-12-31
Ciudades: Montevideo, Canelones
B
)
m_adh=$(submit $STR "Solicitud de adhesión ${P[7]}" <<B
Formulario: adhesión
Ciudad: $(put adhesion city 4)
País: AR
Población: 150000
Jefe de gobierno: $(put adhesion head_of_government 5)
Cargo: $(put adhesion head_title 3)
Correo de contacto: intendencia@tandil.example
Motivación: $(put adhesion motivation 6)
B
)

# --- every typed field: the payload makes the form invalid ------------------------
t_inf=$(submit $MVD "[informe] tipos" <<B
Unidad: ambiente${P[4]}
Período: 2026-07-01 a 2026-12-31${P[5]}
Actividades: x
Resultados: y
B
)
t_ag=$(submit $ROS "[tema de agenda] tipos" <<B
Órgano: ${P[5]}
Título: t
Justificación: j
Proponente: Rosario${P[4]}
B
)
t_bp=$(submit $ROS "Buena práctica: tipos" <<B
Título: t
Ciudad: ${P[6]}
Unidad: ${P[4]}
Resumen: r
Resultados: r
Contacto: ${P[5]}
B
)
t_odm=$(submit $CAN "[ODM] tipos" <<B
Objetivo: 2${P[1]}
Indicador: i
Valor: 1
Unidad de medida: %
Año: ${P[4]}
Ciudad: Canelones${P[2]}
Fuente: f
B
)
t_conv=$(submit $MVD "Convenio tipos" <<B
Formulario: convenio
Contraparte: c
Tipo: ${P[5]}
Alcance: a
Vigencia: ${P[6]}
Ciudades: Montevideo${P[4]}
B
)
t_adh=$(submit $STR "Solicitud de adhesión tipos" <<B
Formulario: adhesión
Ciudad: Tandil
País: ${P[4]}
Población: 1 OR 1=1
Jefe de gobierno: J
Cargo: C
Correo de contacto: ${P[5]}@tandil.example
Motivación: m
B
)
mailtool wait-count INBOX 12 --timeout 30 >/dev/null || not_ok "only $(mailtool count INBOX) of 12 mails arrived"
"$MERCOMAILD" -c "$CONF" --once > "$W/daemon.log" 2>&1; rc=$?
check_eq "mercomaild --once over the injection mails succeeds" 0 $rc
if grep -qi 'sqlite\|SQL logic\|syntax error' "$W/daemon.log"; then
	not_ok "the daemon logged an SQL error:"; grep -i 'sqlite\|SQL logic\|syntax error' "$W/daemon.log" | sed 's/^/    /'
else
	ok "no SQL error in the daemon's log"
fi

for m in "$m_inf" "$m_ag" "$m_bp" "$m_odm" "$m_conv" "$m_adh"; do
	check_eq "submission $m with payloads in every text field recorded" recorded "$(state_of "$m")"
done
for m in "$t_inf" "$t_ag" "$t_bp" "$t_odm" "$t_conv" "$t_adh"; do
	check_eq "submission $m with payloads in the typed fields refused as invalid" rejected "$(state_of "$m")"
done

# Stored verbatim: each field, the subject, the sender's name, the raw body.
python3 - "$DB" "$W/payloads" "$W/expect" "$MERCOMAIL_SRCDIR/templates/forms" \
    "$m_inf" "$m_ag" "$m_bp" "$m_odm" "$m_conv" "$m_adh" <<'PY' > "$W/verbatim.out"
import glob, re, sqlite3, sys
db = sqlite3.connect(sys.argv[1])
P = open(sys.argv[2], encoding="utf-8").read().split("\n")[:-1]
expect = [l.split(" ") for l in open(sys.argv[3]).read().split("\n") if l]
forms = sys.argv[4]
ids = dict(zip(["informe", "agenda", "buena-practica", "odm", "convenio", "adhesion"], sys.argv[5:]))
def row(sql, *a):
    r = db.execute(sql, a).fetchone()
    return r[0] if r else None
for kind, field, i in expect:
    got = row("SELECT f.value FROM message_fields f JOIN messages m ON m.id = f.message_id"
              " WHERE m.message_id = ? AND f.field = ?", ids[kind], field)
    print(("ok" if got == P[int(i)] else "not ok") +
          " - %s.%s stored verbatim%s" % (kind, field, "" if got == P[int(i)] else ": %r" % got))
# every free-text field of these forms got a payload
for kind in ids:
    text = open("%s/%s.form" % (forms, kind), encoding="utf-8").read()
    fields = re.findall(r"^\[field (\S+)\]\s*\ntype = (?:long)?text$", text, re.M)
    missing = [f for f in fields if [kind, f] not in [e[:2] for e in expect]]
    print(("ok" if not missing else "not ok") + " - every text field of %s carries a payload%s"
          % (kind, "" if not missing else ": not " + ", ".join(missing)))
subj = row("SELECT subject FROM messages WHERE message_id = ?", ids["informe"])
print(("ok" if subj == "[informe] " + P[4] else "not ok") + " - the Subject stored verbatim (%r)" % subj)
frm = row("SELECT from_addr FROM messages WHERE message_id = ?", ids["informe"])
print(("ok" if frm and P[0] in frm else "not ok") + " - the sender's display name stored verbatim (%r)" % frm)
body = row("SELECT body FROM messages WHERE message_id = ?", ids["agenda"])
print(("ok" if body and P[4] in body and P[3] in body else "not ok") + " - the body stored verbatim")
PY
while IFS= read -r line; do
	case $line in
	"ok - "*) ok "${line#ok - }" ;;
	*) not_ok "${line#not ok - }" ;;
	esac
done < "$W/verbatim.out"

for m in "$t_inf" "$t_ag" "$t_bp" "$t_odm" "$t_conv" "$t_adh"; do
	n=$(sql "SELECT count(*) FROM message_problems p JOIN messages m ON m.id = p.message_id WHERE m.message_id = '$m'")
	[ "$n" -ge 1 ] && ok "$m: $n problem(s) recorded" || not_ok "$m: no problem recorded"
done
check_eq "only the six valid submissions were recorded" 6 "$(sql 'SELECT count(*) FROM submissions')"

# --- read back through the CLI ----------------------------------------------------
ref=$(sql "SELECT reference FROM submissions s JOIN messages m ON m.id = s.message_id WHERE m.message_id = '$m_inf'")
"$MERCOMAIL" -c "$CONF" submissions show "$ref" > "$W/show.txt" 2>&1
for i in 0 5 7; do
	grep -qF -- "${P[$i]}" "$W/show.txt" && ok "submissions show gives payload $i verbatim" ||
		not_ok "submissions show lacks payload $i: ${P[$i]}"
done
"$MERCOMAIL" -c "$CONF" messages show "$(msg_id_of "$m_ag")" > "$W/mshow.txt" 2>&1
for i in 3 4; do
	grep -qF -- "${P[$i]}" "$W/mshow.txt" && ok "messages show gives payload $i verbatim" ||
		not_ok "messages show lacks payload $i: ${P[$i]}"
done
"$MERCOMAIL" -c "$CONF" submissions export --format csv > "$W/export.csv"
python3 - "$W/export.csv" "$W/payloads" <<'PY' > "$W/csv.out"
import csv, sys
rows = list(csv.reader(open(sys.argv[1], encoding="utf-8", newline="")))
cells = {c for r in rows for c in r}
P = open(sys.argv[2], encoding="utf-8").read().split("\n")[:-1]
# payloads 0..7 are in the free-text fields: each must come back as a cell
missing = [i for i, p in enumerate(P) if p not in cells]
print(len(rows) - 1, " ".join(map(str, missing)))
PY
read -r nrows missing < "$W/csv.out"
check_eq "the CSV export has the six submissions" 6 "$nrows"
check_eq "every payload comes back as a whole CSV cell" "" "${missing:-}"

# --- free text from the CLI: a meeting's title, place, link and agenda ----------------
# (a link cannot hold blanks or double quotes: it carries the rest)
for i in "${!P[@]}"; do
	"$MERCOMAIL" -c "$CONF" meeting create --unit ambiente --title "${P[$i]}" \
		--start "2027-03-1$i 10:00" --duration 1h --location "${P[$(( (i + 1) % 8 ))]}" \
		--url "https://reuniones.example/s$i?q=');DROP--x/*y" \
		--agenda "${P[$(( (i + 3) % 8 ))]}" > "$W/meeting-$i.out" 2>&1; rc=$?
	[ $rc = 0 ] || { not_ok "meeting create with payload $i (exit $rc)"; sed 's/^/    /' "$W/meeting-$i.out"; }
done
python3 - "$DB" "$W/payloads" <<'PY' > "$W/meetings.out"
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
P = open(sys.argv[2], encoding="utf-8").read().split("\n")[:-1]
rows = {r[0]: r[1:] for r in db.execute("SELECT title, location, url, agenda FROM meetings")}
bad = []
for i, p in enumerate(P):
    want = (P[(i + 1) % 8], "https://reuniones.example/s%d?q=');DROP--x/*y" % i, P[(i + 3) % 8])
    if rows.get(p) != want:
        bad.append("%d: %r" % (i, rows.get(p)))
print("; ".join(bad))
PY
check_eq "meeting create: title, location, url and agenda stored verbatim" "" "$(cat "$W/meetings.out")"
ref0=$(sql "SELECT reference FROM meetings WHERE title = '$(printf '%s' "${P[0]}" | sed "s/'/''/g")'")
"$MERCOMAIL" -c "$CONF" meeting show "$ref0" > "$W/meeting-show.txt" 2>&1
grep -qF -- "${P[0]}" "$W/meeting-show.txt" && grep -qF -- "${P[3]}" "$W/meeting-show.txt" &&
	ok "meeting show gives the title and the agenda verbatim" || not_ok "meeting show: $(head -5 "$W/meeting-show.txt")"

# --- every value-taking CLI option ----------------------------------------------
# The options of each CLI source file, all exercised below: a new one (or a
# new ctl_*.c) must be added here and to the calls that follow.
known="ctl_messages.c:--held ctl_messages.c:--limit ctl_messages.c:--raw ctl_messages.c:--state
ctl_submissions.c:--format ctl_submissions.c:--kind ctl_submissions.c:--limit
ctl_submissions.c:--since ctl_submissions.c:--unit
ctl_report.c:--format ctl_report.c:--lang ctl_report.c:--silent-days ctl_report.c:--since
ctl_report.c:--until ctl_list.c:--digest ctl_list.c:--lang ctl_list.c:--closed
ctl_list.c:--always ctl.c:--help
ctl_meeting.c:--agenda ctl_meeting.c:--alarm ctl_meeting.c:--all ctl_meeting.c:--duration
ctl_meeting.c:--end ctl_meeting.c:--invite ctl_meeting.c:--location ctl_meeting.c:--start
ctl_meeting.c:--title ctl_meeting.c:--tz ctl_meeting.c:--unit ctl_meeting.c:--url
ctl_feed.c:--for ctl_digest.c:--html ctl_digest.c:--lang ctl_digest.c:--now
ctl_outbox.c:--days ctl_outbox.c:--limit ctl_outbox.c:--state ctl_reminders.c:--now"
for o in $(cd "$MERCOMAIL_SRCDIR/daemon" && grep -o '"--[a-z][a-z-]*"' ctl*.c | tr -d '"' | sort -u); do
	case " $(echo $known) " in
	*" $o "*) ;;
	*) not_ok "CLI option ${o#*:} of daemon/${o%%:*} is not exercised by this test: add it" ;;
	esac
done
total_sub=$(sql 'SELECT count(*) FROM submissions')
# the feed links need [http] base_url; one private feed for --for
printf '[http]\nbase_url = https://agenda.mercociudades.example\n' >> "$CONF"
"$MERCOMAIL" -c "$CONF" feed private ambiente on >/dev/null 2>&1 || not_ok "feed private ambiente on"
"$MERCOMAIL" -c "$CONF" feed url ambiente --for $MVD > "$W/feed-url.out" 2>&1
grep -q '^https://agenda.mercociudades.example/.*token=' "$W/feed-url.out" &&
	ok "control: feed url ambiente --for a member gives a private link" || not_ok "control: feed url --for: $(cat "$W/feed-url.out")"
live_tokens() { sql "SELECT count(*) FROM feed_tokens WHERE revoked_at IS NULL"; }
tokens_before=$(live_tokens)
check_eq "one private feed link issued" 1 "$tokens_before"
# cli EXPECTED-EXIT ROWS-EXPECTED ARGS...: run, check the exit code, that no SQL
# error is printed and that the listing has at most ROWS-EXPECTED data lines
cli() {
	local want=$1 rows=$2 rc n; shift 2
	"$MERCOMAIL" -c "$CONF" "$@" > "$W/cli.out" 2> "$W/cli.err"; rc=$?
	n=$(grep -c . "$W/cli.out")
	if [ "$rc" = "$want" ] && [ "$n" -le "$rows" ] &&
	   ! grep -qi 'sqlite\|SQL logic\|syntax error\|no such' "$W/cli.out" "$W/cli.err"; then
		return 0
	fi
	echo "    mercomail $*: exit $rc (want $want), $n lines (at most $rows)" >&2
	sed 's/^/    | /' "$W/cli.out" "$W/cli.err" | head -5 >&2
	return 1
}
EX_USAGE=64 EX_DATAERR=65
# the membership application the adhesion form opened (its state must not change)
app=$(sql "SELECT id FROM applications ORDER BY id LIMIT 1" 2>/dev/null)
app_state=$(sql "SELECT group_concat(state) FROM applications" 2>/dev/null)
for i in "${!P[@]}"; do
	p=${P[$i]}
	bad=0
	# free-text filters: zero rows (the header line of the export aside)
	cli 0 0 submissions list --kind "$p" || bad=1
	cli 0 0 submissions list --unit "$p" || bad=1
	cli 0 1 submissions export --kind "$p" --format csv || bad=1
	cli 0 1 submissions export --unit "$p" --format csv || bad=1
	# validated values: refused as usage errors
	cli $EX_USAGE 0 submissions list --since "$p" || bad=1
	cli $EX_USAGE 0 submissions list --limit "$p" || bad=1
	cli $EX_USAGE 0 submissions export --format "$p" || bad=1
	cli $EX_USAGE 0 messages list --state "$p" || bad=1
	cli $EX_USAGE 0 messages list --limit "$p" || bad=1
	cli $EX_USAGE 0 messages show "$p" || bad=1
	cli $EX_USAGE 0 messages show "$p" --raw || bad=1
	cli $EX_DATAERR 0 submissions show "$p" || bad=1
	cli $EX_USAGE 0 report activity --since "$p" || bad=1
	cli $EX_USAGE 0 report activity --until "$p" || bad=1
	cli $EX_USAGE 0 report activity --silent-days "$p" || bad=1
	cli $EX_USAGE 0 report activity --format "$p" || bad=1
	cli $EX_USAGE 0 report activity --lang "$p" || bad=1
	cli $EX_DATAERR 0 list members "$p" || bad=1
	cli $EX_DATAERR 0 list add "$p" nadie@ejemplo.example || bad=1
	cli $EX_DATAERR 0 list remove "$p" nadie@ejemplo.example || bad=1
	cli $EX_DATAERR 0 list add ambiente "$p" || bad=1
	cli $EX_USAGE 0 list add ambiente nadie@ejemplo.example --lang "$p" || bad=1
	cli $EX_USAGE 0 list add ambiente nadie@ejemplo.example --digest "$p" || bad=1
	cli $EX_DATAERR 0 list show "$p" || bad=1
	cli $EX_DATAERR 0 list set "$p" --closed yes || bad=1
	cli $EX_USAGE 0 list set ambiente --closed "$p" || bad=1
	cli $EX_USAGE 0 list set ambiente --always "$p" || bad=1
	cli $EX_DATAERR 0 feed url "$p" || bad=1
	cli $EX_DATAERR 0 feed url unit "$p" || bad=1
	cli $EX_DATAERR 0 feed url city "$p" || bad=1
	cli $EX_DATAERR 0 feed url ambiente --for "$p" || bad=1
	cli $EX_DATAERR 0 feed private "$p" on || bad=1
	cli $EX_DATAERR 0 feed tokens "$p" || bad=1
	cli $EX_DATAERR 0 feed revoke "$p" || bad=1
	cli $EX_DATAERR 0 feed revoke --for "$p" ambiente || bad=1
	cli $EX_DATAERR 0 feed revoke --for $MVD "$p" || bad=1
	cli $EX_DATAERR 0 digest preview "$p" || bad=1
	cli $EX_DATAERR 0 digest preview "$p" --html || bad=1
	cli $EX_USAGE 0 digest preview ambiente --lang "$p" || bad=1
	cli $EX_USAGE 0 digest preview ambiente --now "$p" || bad=1
	cli $EX_DATAERR 0 digest send "$p" || bad=1
	cli $EX_USAGE 0 digest run --now "$p" || bad=1
	cli $EX_USAGE 0 outbox list --state "$p" || bad=1
	cli $EX_USAGE 0 outbox list --limit "$p" || bad=1
	cli $EX_USAGE 0 outbox retry "$p" || bad=1
	cli $EX_USAGE 0 outbox purge --days "$p" || bad=1
	cli $EX_USAGE 0 reminders run --now "$p" || bad=1
	cli $EX_USAGE 0 applications show "$p" || bad=1
	cli $EX_USAGE 0 applications decide "$p" approve || bad=1
	cli $EX_USAGE 0 applications decide "$app" "$p" || bad=1
	cli 0 0 meeting list --unit "$p" || bad=1
	cli 0 0 meeting list --unit "$p" --all || bad=1
	cli $EX_DATAERR 0 meeting show "$p" || bad=1
	cli $EX_DATAERR 0 meeting update "$p" --title x || bad=1
	cli $EX_DATAERR 0 meeting cancel "$p" || bad=1
	cli $EX_DATAERR 0 meeting create --unit "$p" --title x --start "2027-03-10 10:00" --duration 1h || bad=1
	cli $EX_USAGE 0 meeting create --unit ambiente --title x --start "$p" --duration 1h || bad=1
	cli $EX_USAGE 0 meeting create --unit ambiente --title x --start "2027-03-10 10:00" --end "$p" || bad=1
	cli $EX_USAGE 0 meeting create --unit ambiente --title x --start "2027-03-10 10:00" --duration "$p" || bad=1
	cli $EX_USAGE 0 meeting create --unit ambiente --title x --start "2027-03-10 10:00" --duration 1h --tz "$p" || bad=1
	cli $EX_USAGE 0 meeting create --unit ambiente --title x --start "2027-03-10 10:00" --duration 1h --alarm "$p" || bad=1
	cli $EX_DATAERR 0 meeting create --unit ambiente --title x --start "2027-03-10 10:00" --duration 1h --invite "$p" || bad=1
	[ $bad = 0 ] && ok "payload $i through every CLI filter: nothing matched, no SQL error" ||
		not_ok "payload $i through the CLI filters: $p"
done
# the controls: the same filters with real values do match
cli 0 99 submissions list --kind informe && [ "$(grep -c . "$W/cli.out")" = 1 ] &&
	ok "control: --kind informe lists one submission" || not_ok "control: --kind informe"
cli 0 99 submissions list --unit ambiente && [ "$(grep -c . "$W/cli.out")" = 1 ] &&
	ok "control: --unit ambiente lists one submission" || not_ok "control: --unit ambiente"
cli 0 99 messages list --held --limit 100 && ok "control: messages list --held --limit 100" ||
	not_ok "control: messages list --held"
cli 0 999 list members ambiente && [ "$(grep -c . "$W/cli.out")" -ge 1 ] &&
	ok "control: list members ambiente lists its members" || not_ok "control: list members ambiente"
cli 0 99 meeting list --unit ambiente --all && [ "$(grep -c . "$W/cli.out")" = 8 ] &&
	ok "control: meeting list --unit ambiente --all lists the eight meetings" || not_ok "control: meeting list --unit ambiente"
check_eq "feed revoke with the payloads revoked no token" "$tokens_before" "$(live_tokens)"
outbox_rows=$(sql 'SELECT count(*) FROM outbox')
cli 0 999 outbox list --limit 1000 && [ "$(grep -c . "$W/cli.out")" -ge 1 ] &&
	ok "control: outbox list lists the answers and invitations" || not_ok "control: outbox list"
check_eq "the outbox filters deleted nothing" "$outbox_rows" "$(sql 'SELECT count(*) FROM outbox')"
cli 0 9999 digest preview ambiente --html && grep -qE "O&(#39|#x27|apos);Brien y &quot;comillas&quot;" "$W/cli.out" &&
	ok "control: digest preview ambiente --html shows the report's text, escaped" || not_ok "control: digest preview --html: $(head -c 300 "$W/cli.out")"
[ -n "$app" ] && ok "control: the adhesion form opened application $app" || not_ok "no application opened"
check_eq "the application keeps the city and the head of government verbatim" "${P[4]}|${P[5]}" \
	"$(sql "SELECT city || '|' || head FROM applications WHERE id = ${app:-0}")"
check_eq "the applications' state is unchanged" "$app_state" "$(sql "SELECT group_concat(state) FROM applications")"
check_eq "no list settings were written" 0 "$(sql "SELECT count(*) FROM lists")"
check_eq "the filters deleted nothing" "$total_sub" "$(sql 'SELECT count(*) FROM submissions')"

# --- the tables are intact ----------------------------------------------------------
check_eq "every table is still there" "$tables_before" \
	"$(sql "SELECT group_concat(name, ' ') FROM (SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name)")"
check_eq "every mail is still recorded" 12 "$(sql 'SELECT count(*) FROM messages')"
check_eq "the roster is intact" "$cities_before" "$(sql 'SELECT count(*) FROM cities')"
check_eq "database integrity" ok "$(sql 'PRAGMA integrity_check')"
finish
