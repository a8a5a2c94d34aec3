#!/bin/bash
# Reminders, end to end through the real OpenSMTPD and Dovecot, with "now"
# injected by MERCOMAIL_NOW: a meeting 10 days ahead; 8 days before it nobody
# is reminded; 2 days 23 hours before it the invitees that have not answered
# get one reminder each in their language with the RSVP words and the same
# signed Reply-To as their invite (the one who answered gets none), and a
# plain "asistiré" to it records the answer; more passes, later, and a
# restart send nothing again. Activity reports ([governance]
# report_period_days = 30): a unit that never sent one reminds its
# coordinator when the window is 30 days old, not the next day, once more
# after 7 days, then never; a coordinator who left the unit's list gets none.
set -u
. "$(dirname "$0")/harness.sh"
. "$(dirname "$0")/common.sh"
start_work
mkdir -p "$W/out"
write_config "$CONF" smtp=yes
printf '[governance]\nreport_period_days = 30\nreminder_repeat_days = 7\n' >> "$CONF"

POA=gabinete@portoalegre.example		# coordinates cultura (pt)
CAN=intendencia@canelones.example		# subcoordinates cultura (es)
ROS=internacionales@rosario.example		# a guest city of the meeting: answers
ASU=intendencia@asuncion.example		# coordinates turismo (es)
VAL=alcaldia@valparaiso.example			# subcoordinates turismo; leaves its list
for a in $POA $CAN $ROS $ASU $VAL; do
	harness_add_user "$a" pw
done

# two units only, so that the reminders of the rest go to nobody
cat > "$W/units.csv" <<'CSV'
slug,name_es,name_pt,coordinator_city,subcoordinator_city
cultura,Cultura,Cultura,Porto Alegre,Canelones
turismo,Turismo,Turismo,Asunción,Valparaíso
CSV
"$MERCOMAIL" -c "$CONF" init >/dev/null
"$MERCOMAIL" -c "$CONF" roster import "$MERCOMAIL_TESTDATA/roster/cities.csv" "$W/units.csv" >/dev/null
"$MERCOMAIL" -c "$CONF" list remove turismo $VAL >/dev/null || not_ok "list remove failed"

"$MERCOMAILD" -c "$CONF" -n >"$W/check.log" 2>&1
check_eq "mercomaild -n: the reminder texts check" 0 $?

START=$(date -u -d '+10 days' '+%Y-%m-%d %H:00')
"$MERCOMAIL" -c "$CONF" meeting create --unit cultura --title "Plenario de Cultura" \
	--start "$START" --duration 1h --tz America/Sao_Paulo --location "Canelones" --invite Rosario \
	>"$W/create.out" 2>&1 || not_ok "meeting create failed: $(cat "$W/create.out")"
MS=$(sql "SELECT start_at FROM meetings")
MID=$(sql "SELECT id FROM meetings")
sql "UPDATE meeting_attendees SET partstat = 'ACCEPTED', answered_at = strftime('%s'),
	answer_via = 'cli' WHERE address = '$ROS'"

# at T: one pass of mercomaild, "now" = T (epoch seconds)
at() { MERCOMAIL_NOW=$1 "$MERCOMAILD" -c "$CONF" --once >>"$W/daemon.log" 2>&1 ||
	not_ok "mercomaild --once failed at $1"; }
sent() { sql "SELECT count(*) FROM outbox WHERE purpose = '$1' AND rcpt = '$2'"; }
fetch() { rm -rf "$W/out/$1"; mailtool --user "$1" --password pw fetch-all INBOX "$W/out/$1" >/dev/null; }
# wait_box ADDR N: ADDR's mailbox holds N mails (or the wait times out)
wait_box() { mailtool --user "$1" --password pw wait-count INBOX "$2" --timeout 30 >/dev/null; }
# hdr FILE NAME: a header of a delivered mail, decoded
hdr() {
	python3 - "$1" "$2" <<'PY'
import email, email.policy, sys
m = email.message_from_binary_file(open(sys.argv[1], "rb"), policy=email.policy.default)
print(str(m.get(sys.argv[2], "")))
PY
}
body() {
	python3 - "$1" <<'PY'
import email, email.policy, sys
m = email.message_from_binary_file(open(sys.argv[1], "rb"), policy=email.policy.default)
print(m.get_body(preferencelist=("plain",)).get_content())
PY
}
# mails ADDR PATTERN: the delivered mails of ADDR whose subject matches
mails() {
	local f
	fetch "$1"
	for f in "$W/out/$1"/*.eml; do
		[ -f "$f" ] && hdr "$f" Subject | grep -q -- "$2" && echo "$f"
	done
}
count() { mails "$1" "$2" | wc -l; }

# --- meeting answers -------------------------------------------------------------
at $((MS - 8 * 86400))
check_eq "8 days before: no reminder" 0 "$(sql 'SELECT count(*) FROM reminders')"
check_eq "8 days before: no reminder queued" 0 \
	"$(sql "SELECT count(*) FROM outbox WHERE purpose LIKE 'reminder%'")"

T2=$((MS - 2 * 86400 - 23 * 3600))
at $T2
check_eq "2d23h before: Porto Alegre (no answer) reminded once" 1 "$(sent reminder-rsvp $POA)"
check_eq "2d23h before: Canelones (no answer) reminded once" 1 "$(sent reminder-rsvp $CAN)"
check_eq "2d23h before: Rosario (answered) not reminded" 0 "$(sent reminder-rsvp $ROS)"
check_eq "recorded with the time it was sent (the injected one)" "$T2" \
	"$(sql "SELECT sent_at FROM reminders WHERE kind = 'rsvp' AND recipient = '$CAN'")"
check_eq "both reminders went out" 2 \
	"$(sql "SELECT count(*) FROM outbox WHERE purpose = 'reminder-rsvp' AND state = 'sent'")"

wait_box $POA 2 || not_ok "Porto Alegre's reminder did not arrive"
wait_box $CAN 2 || not_ok "Canelones' reminder did not arrive"
F=$(mails $CAN "Recordatorio: ¿asistirá?" | head -n 1)
if [ -n "$F" ]; then
	ok "Canelones has the reminder in Spanish"
	B=$(body "$F")
	for w in "asistiré" "no podré" "tal vez" "Plenario de Cultura"; do
		grep -q -- "$w" <<<"$B" && ok "es reminder says '$w'" || not_ok "es reminder lacks '$w': $B"
	done
	check_eq "Auto-Submitted: auto-generated" "auto-generated" "$(hdr "$F" Auto-Submitted)"
	check_eq "the loop header" "$HARNESS_USER" "$(hdr "$F" X-Mercomail-Loop)"
	INV=$(grep -l -i "^Content-Type: text/calendar" "$W/out/$CAN"/*.eml | head -n 1)
	RT=$(hdr "$F" Reply-To)
	check_eq "the Reply-To is signed like the invite's" "$(hdr "$INV" Reply-To)" "$RT"
	case $RT in *+*@*) ok "the Reply-To carries a token" ;; *) not_ok "no token in '$RT'" ;; esac
else
	not_ok "Canelones has no Spanish reminder"
fi
F=$(mails $POA "Lembrete: vai participar?" | head -n 1)
if [ -n "$F" ]; then
	ok "Porto Alegre has the reminder in Portuguese"
	B=$(body "$F")
	for w in "vou participar" "não poderei" "talvez"; do
		grep -q -- "$w" <<<"$B" && ok "pt reminder says '$w'" || not_ok "pt reminder lacks '$w': $B"
	done
else
	not_ok "Porto Alegre has no Portuguese reminder"
fi
check_eq "Rosario (answered) has only its invite" 1 "$(count $ROS .)"

# the same time again, later, and a restart (each --once is a fresh process)
at $T2
at $((T2 + 3 * 3600))
at $((T2 + 2 * 86400))
check_eq "no second reminder to Porto Alegre" 1 "$(sent reminder-rsvp $POA)"
check_eq "no second reminder to Canelones" 1 "$(sent reminder-rsvp $CAN)"
check_eq "two reminders recorded in all" 2 "$(sql "SELECT count(*) FROM reminders WHERE kind = 'rsvp'")"

# Canelones answers the reminder with a plain word through its Reply-To
RT=${RT:-$HARNESS_USER}
printf 'From: %s\r\nTo: %s\r\nSubject: Re: Recordatorio\r\nMessage-ID: <rem-%s@test.example>\r\nDate: %s\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=UTF-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\nasistiré\r\n' \
	"$CAN" "$RT" "$$" "$(date -R)" > "$W/reply.eml"
mailtool send --from "$CAN" --to "$RT" "$W/reply.eml" >/dev/null
mailtool wait-count INBOX 1 --timeout 30 >/dev/null || not_ok "the reply did not arrive"
at $((T2 + 2 * 86400 + 3600))
check_eq "the reply to the reminder records the answer" "ACCEPTED/words" \
	"$(sql "SELECT partstat || '/' || coalesce(answer_via, '-') FROM meeting_attendees WHERE meeting_id = $MID AND address = '$CAN'")"

# --- activity reports: the window starts when the job first saw the unit ----------
T1=$((MS - 8 * 86400))
check_eq "the units' windows start at the first pass" "$T1 $T1" \
	"$(sql "SELECT group_concat(first_seen, ' ') FROM reminder_units")"
DUE=$((T1 + 30 * 86400))
at $((DUE - 3600))
check_eq "an hour before the 30 days: no report reminder" 0 "$(sent reminder-report $ASU)"
at $DUE
check_eq "at 30 days: the coordinator of turismo reminded" 1 "$(sent reminder-report $ASU)"
check_eq "the coordinator who left the list: none" 0 "$(sent reminder-report $VAL)"
check_eq "cultura's coordinator and subcoordinator too" "1 1" \
	"$(sent reminder-report $POA) $(sent reminder-report $CAN)"
at $((DUE + 86400))
check_eq "the next day: none again" 1 "$(sent reminder-report $ASU)"
at $((DUE + 7 * 86400 - 60))
check_eq "a minute before the week: none again" 1 "$(sent reminder-report $ASU)"
at $((DUE + 7 * 86400))
check_eq "after a week: the second one" 2 "$(sent reminder-report $ASU)"
at $((DUE + 14 * 86400))
at $((DUE + 25 * 86400))
check_eq "never a third" 2 "$(sent reminder-report $ASU)"
check_eq "rounds 1 and 2 of one window" "1 2" \
	"$(sql "SELECT group_concat(round, ' ') FROM (SELECT round FROM reminders WHERE kind = 'report' AND recipient = '$ASU' ORDER BY round)")"
check_eq "the unsubscribed coordinator never got one" 0 "$(sent reminder-report $VAL)"

wait_box $ASU 2 || not_ok "Asunción's reminders did not arrive"
check_eq "Asunción's mailbox: two report reminders" 2 "$(count $ASU "Recordatorio: informe de actividades de Turismo")"
F=$(mails $ASU "Recordatorio: informe" | head -n 1)
[ -n "$F" ] && check_eq "report reminder: Auto-Submitted" "auto-generated" "$(hdr "$F" Auto-Submitted)"
[ -n "$F" ] && { B=$(body "$F"); grep -q "Unidad: turismo" <<<"$B" &&
	ok "the reminder says how to send it" || not_ok "no 'Unidad: turismo' in the reminder"; }
wait_box $POA 4 || not_ok "Porto Alegre's mails did not all arrive"
check_eq "Porto Alegre: two report reminders in Portuguese" 2 "$(count $POA "Lembrete: relatório de atividades de Cultura")"
check_eq "Porto Alegre: still one meeting reminder" 1 "$(count $POA "Lembrete: vai participar?")"
check_eq "Valparaíso's mailbox stays empty" 0 "$(count $VAL .)"

"$MERCOMAIL" -c "$CONF" reminders list >"$W/list.out" 2>&1
check_eq "reminders list exits 0" 0 $?
check_eq "reminders list: a line per reminder" \
	"$(( $(sql 'SELECT count(*) FROM reminders') + 1 ))" "$(wc -l < "$W/list.out")"
check_grep "reminders list names the unit" "turismo" "$W/list.out"
"$MERCOMAIL" -c "$CONF" reminders run --now @"$DUE" >/dev/null 2>&1
check_eq "reminders run: a bad --now is refused" 64 $?
"$MERCOMAIL" -c "$CONF" reminders run --now $((DUE + 30 * 86400)) >"$W/run.out" 2>&1
check_eq "reminders run by hand: nothing more to send" "0 reminders queued" "$(cat "$W/run.out")"

finish
