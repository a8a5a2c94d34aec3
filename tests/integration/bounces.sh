#!/bin/bash
# VERP bounces through the real OpenSMTPD and Dovecot: each digest goes out
# with the envelope sender bounces+TOKEN@red.test, signed for its member; a
# mailbox that is gone makes OpenSMTPD send a real DSN back to that address,
# which (through the alias every installation needs) lands in the mailbox
# mercomaild polls. The report is counted for the member the token names;
# after [lists] bounce_limit hard bounces within bounce_days the address gets
# no more list mail (the roster keeps it) and the next digest names it to the
# list. A bounce that quotes nothing is still traced by its address; a
# vacation answer, a forged token and a stranger's mail to the address count
# for nothing.
set -u
. "$(dirname "$0")/harness.sh"
. "$(dirname "$0")/common.sh"
start_work
write_config "$CONF" smtp=yes
printf '[lists]\nbounce_limit = 2\nbounce_days = 10\n' >> "$CONF"

POA=gabinete@portoalegre.example	# coordinates cultura (pt)
CAN=intendencia@canelones.example	# subcoordinates cultura (es)
ROS=internacionales@rosario.example	# a member city of cultura whose mailbox is gone
for a in $POA $CAN; do harness_add_user "$a" pw; done
harness_add_gone $ROS
harness_add_alias bounces@red.test "$HARNESS_USER"
"$MERCOMAIL" -c "$CONF" init >/dev/null
"$MERCOMAIL" -c "$CONF" roster import "$MERCOMAIL_TESTDATA/roster/cities.csv" \
	"$MERCOMAIL_TESTDATA/roster/units.csv" >/dev/null
sql "INSERT INTO unit_members (unit_id, city_id, role) SELECT u.id, c.id, 'member'
	FROM units u, cities c WHERE u.slug = 'cultura' AND c.name = 'Rosario'"

run_once() { "$MERCOMAILD" -c "$CONF" --once >>"$W/daemon.log" 2>&1 || not_ok "mercomaild --once failed"; }
hard_bounces() { sql "SELECT count(*) FROM bounces WHERE address = '$1' AND hard = 1"; }
# until_bounces ADDR N: passes of the daemon until ADDR has N hard bounces
until_bounces() {
	for _ in $(seq 1 40); do
		run_once
		[ "$(hard_bounces "$1")" -ge "$2" ] && return 0
		sleep 0.25
	done
	return 1
}
members() { "$MERCOMAIL" -c "$CONF" list members cultura 2>/dev/null | cut -f1 | tr '\n' ' '; }
# newest_digest ADDR: the file of the newest digest in ADDR's mailbox
newest_digest() {
	rm -rf "$W/out/$1"
	mailtool --user "$1" --password pw fetch-all INBOX "$W/out/$1" >/dev/null
	grep -l '^List-Id:' "$W/out/$1"/* 2>/dev/null | tail -n 1
}
return_path() { sed -n 's/^Return-Path: <\(.*\)>\r\{0,1\}$/\1/p' "$1" | head -n 1; }
part() {
	python3 - "$1" "$2" <<'PY'
import email, email.policy, sys
m = email.message_from_binary_file(open(sys.argv[1], "rb"), policy=email.policy.default)
print(m.get_body((sys.argv[2],)).get_content())
PY
}

check_eq "three members before" "$POA $CAN $ROS " "$(members | tr ' ' '\n' | sort | tr '\n' ' ')"

# --- first digest: VERP senders, one DSN back
check_eq "a digest to each member" "3 digests queued for cultura" \
	"$("$MERCOMAIL" -c "$CONF" digest send cultura 2>/dev/null)"
until_bounces $ROS 1 && ok "the DSN for $ROS came back and was counted" ||
	not_ok "no bounce counted for $ROS"
P=$(newest_digest $POA); C=$(newest_digest $CAN)
RP_POA=$(return_path "$P"); RP_CAN=$(return_path "$C")
case $RP_POA in bounces+bounce-*@red.test) ok "envelope sender is bounces+TOKEN@red.test" ;;
*) not_ok "envelope sender of the digest: '$RP_POA'" ;; esac
[ -n "$RP_CAN" ] && [ "$RP_POA" != "$RP_CAN" ] && ok "signed for each member: $RP_CAN" ||
	not_ok "same envelope sender for two members: $RP_POA / $RP_CAN"
check_eq "the From stays the secretariat's" "$HARNESS_USER" "$(python3 -c '
import email, email.utils, sys
print(email.utils.parseaddr(email.message_from_binary_file(open(sys.argv[1], "rb"))["From"])[1])' "$P")"
check_eq "the report is recorded for the member the token names, hard, with its status" \
	"$ROS|failed|5.3.0|1" "$(sql "SELECT address, action, status, hard FROM bounces")"
check_eq "the outbox row of that digest is marked bounced" "failed 1" \
	"$(sql "SELECT state || ' ' || (bounced_at IS NOT NULL) FROM outbox WHERE rcpt = '$ROS'")"
check_eq "the DSN is not answered" 0 "$(sql "SELECT count(*) FROM outbox WHERE rcpt LIKE 'mailer-daemon%' OR rcpt LIKE 'bounces%'")"
grep -q 'event=bounce rcpt=internacionales@rosario.example .* verp=1' "$W/daemon.log" &&
	ok "logged as a VERP bounce" || not_ok "no event=bounce ... verp=1 in the log"
check_eq "the report is kept, reason given" "ignored" \
	"$(sql "SELECT state FROM messages WHERE reason LIKE '%bounce recorded for a list member%'")"
check_eq "one bounce is under the limit of 2: still a member" 1 "$(members | grep -c "$ROS")"

# --- second digest: the limit is reached
"$MERCOMAIL" -c "$CONF" digest send cultura >/dev/null 2>&1
until_bounces $ROS 2 && ok "the second DSN is counted" || not_ok "no second bounce counted"
check_eq "two hard bounces in 10 days: no more list mail" 0 "$(members | grep -c "$ROS")"
check_eq "the roster keeps the address" 1 "$(sql "SELECT count(*) FROM contacts WHERE address = '$ROS'")"
"$MERCOMAIL" -c "$CONF" list show cultura > "$W/show.txt"
check_grep "list show names it" "^  $ROS	2 hard bounces" "$W/show.txt"
check_grep "and the threshold" "2 hard bounces in 10 days" "$W/show.txt"

# --- third digest: not sent to it, and the list is told
check_eq "the next digest goes to the two others only" "2 digests queued for cultura" \
	"$("$MERCOMAIL" -c "$CONF" digest send cultura 2>/dev/null)"
run_once
check_eq "no third mail to the bouncing address" 2 "$(sql "SELECT count(*) FROM outbox WHERE rcpt = '$ROS'")"
C=$(newest_digest $CAN)
part "$C" plain > "$W/can.txt"
check_grep "the coordinators are told in the digest" "^\* $ROS (2 rebotes)" "$W/can.txt"

# --- a bounce that quotes nothing: traced by its VERP address alone
printf 'From: MAILER-DAEMON@mx.canelones.example\r\nTo: %s\r\nSubject: Returned mail\r\nMessage-ID: <plain-1@mx.canelones.example>\r\nAuto-Submitted: auto-replied\r\n\r\nYour message could not be delivered: mailbox disabled.\r\n' \
	"$RP_CAN" > "$W/plain.eml"
mailtool send --from '' --to "$RP_CAN" "$W/plain.eml" >/dev/null
until_bounces $CAN 1 && ok "a plain bounce without the returned header counts for $CAN" ||
	not_ok "the plain bounce to $CAN's VERP address was not counted"
check_eq "one is under the limit: $CAN stays" 1 "$(members | grep -c "$CAN")"

# --- what counts for nothing: a vacation answer, a forged token, a stranger
before=$(sql "SELECT count(*) FROM bounces")
printf 'From: %s\r\nTo: %s\r\nSubject: Fuera de la oficina\r\nMessage-ID: <vac-1@portoalegre.example>\r\nAuto-Submitted: auto-replied\r\n\r\nEstoy de vacaciones hasta el lunes.\r\n' \
	"$POA" "$RP_POA" > "$W/vac.eml"
mailtool send --from '' --to "$RP_POA" "$W/vac.eml" >/dev/null
# the last character of the MAC changed
case ${RP_CAN%@*} in *a) forged=${RP_CAN%a@*}b@${RP_CAN#*@} ;; *) forged=$(echo "$RP_CAN" | sed 's/.@/a@/') ;; esac
sed "s/$RP_CAN/$forged/; s/plain-1@/plain-2@/" "$W/plain.eml" > "$W/forged.eml"
mailtool send --from '' --to "$forged" "$W/forged.eml" >/dev/null
mailtool wait-count INBOX 2 --timeout 30 >/dev/null
run_once
check_eq "vacation answer and forged token: no bounce" "$before" "$(sql "SELECT count(*) FROM bounces")"
check_eq "both kept, unanswered" "ignored ignored" \
	"$(sql "SELECT state FROM messages WHERE message_id IN ('<vac-1@portoalegre.example>', '<plain-2@mx.canelones.example>') ORDER BY id" | tr '\n' ' ' | sed 's/ $//')"
check_eq "$POA is still a member" 1 "$(members | grep -c "$POA")"

# --- the roster decides: a city that leaves the unit leaves the list, though
# a member key was made for its VERP address
sql "DELETE FROM unit_members WHERE unit_id = (SELECT id FROM units WHERE slug = 'cultura')
	AND city_id = (SELECT id FROM cities WHERE name = 'Canelones')"
check_eq "Canelones left cultura: $CAN is off its list" 0 "$(members | grep -c "$CAN")"
check_eq "its key row stays for the links already sent" 1 \
	"$(sql "SELECT count(*) FROM list_subscriptions WHERE address = '$CAN' AND source = 'roster'")"

[ "$FAILED" -eq 0 ] || { cat "$W/daemon.log"; harness_logs; }
finish
