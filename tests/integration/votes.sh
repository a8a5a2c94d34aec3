#!/bin/bash
# Membership applications by mail, end to end through the real OpenSMTPD and
# Dovecot: a Brazilian city applies; the three Board members' mailboxes hold
# the ballot with signed approve/reject addresses; a forged vote (another
# member's address, a token with a changed character) and a repeated vote
# do not count twice; two of three approve by replying ("Aprovo",
# "Apruebo"); the city and its contact enter the roster and the applicant
# holds the welcome in Portuguese; a late vote and one by a city that left
# the Board are refused; then a rejection
# by hand (mercomail applications decide) and an expiry (an injected clock
# 31 days on) tell the applicants, in Spanish.
set -u
. "$(dirname "$0")/harness.sh"
. "$(dirname "$0")/common.sh"
start_work
mkdir -p "$W/out"
write_config "$CONF" smtp=yes answers_per_hour=50
printf '[http]\nbase_url = https://red.example\n[governance]\ndecision = majority-of-board\nvote_days = 30\n' >> "$CONF"

MVD=relaciones.internacionales@montevideo.example	# Board (es)
POA=gabinete@portoalegre.example			# Board (pt)
ROS=internacionales@rosario.example			# Board (es)
CAN=intendencia@canelones.example			# a member city, not on the Board
APP=gabinete@canoas.example				# sends the application
CONTACT=relacoes.internacionais@canoas.example		# the form's contact address
UY1=intendencia@florida.example				# a second application (by hand)
UY2=intendencia@durazno.example				# a third one (expires)
for a in $MVD $POA $ROS $CAN $APP $CONTACT $UY1 $UY2; do
	harness_add_user "$a" pw
done

"$MERCOMAIL" -c "$CONF" init >/dev/null
"$MERCOMAIL" -c "$CONF" roster import "$MERCOMAIL_TESTDATA/roster/cities.csv" \
	"$MERCOMAIL_TESTDATA/roster/units.csv" >/dev/null
# the sample roster has no Board: make it Montevideo, Porto Alegre and Rosario
check_eq "the sample roster has no Board members" "0" "$(sql "SELECT count(*) FROM unit_members um
	JOIN units u ON u.id = um.unit_id WHERE u.slug = 'comision-directiva'")"
sql "INSERT INTO unit_members (unit_id, city_id, role) SELECT u.id, c.id, 'member' FROM units u,
	cities c WHERE u.slug = 'comision-directiva' AND c.name IN ('Montevideo', 'Porto Alegre', 'Rosario')"

echo 0 > "$W/count"
# send FROM TO SUBJECT < BODY: one mail through OpenSMTPD
send() {
	local from=$1 to=$2 subject=$3 f N
	N=$(( $(cat "$W/count") + 1 ))
	echo "$N" > "$W/count"
	f=$W/m-$N.eml
	{
		printf 'From: %s\r\nTo: %s\r\nSubject: %s\r\n' "$from" "$to" "$subject"
		printf 'Message-ID: <vote-%d-%s@test.example>\r\nDate: %s\r\n' "$N" "$$" "$(date -R)"
		printf 'MIME-Version: 1.0\r\nContent-Type: text/plain; charset=UTF-8\r\n'
		printf 'Content-Transfer-Encoding: 8bit\r\n\r\n'
		sed 's/$/\r/'
	} > "$f"
	mailtool send --from "$from" --to "$to" "$f" >/dev/null
}
run_daemon() {	# N [ENV...]: once the N mails just sent are in the inbox, one pass
	local n=$1; shift
	mailtool wait-count INBOX "$n" --timeout 30 >/dev/null ||
		not_ok "only $(mailtool count INBOX) of $n mails arrived"
	env "$@" "$MERCOMAILD" -c "$CONF" --once >>"$W/daemon.log" 2>&1 ||
		{ not_ok "mercomaild --once failed"; tail -n 5 "$W/daemon.log"; }
}
fetch() { rm -rf "$W/out/$1"; mailtool --user "$1" --password pw fetch-all INBOX "$W/out/$1" >/dev/null; }
hdr() {		# FILE NAME: a header of a delivered mail, decoded
	python3 - "$1" "$2" <<'PY'
import email, email.policy, sys
m = email.message_from_binary_file(open(sys.argv[1], "rb"), policy=email.policy.default)
print(str(m.get(sys.argv[2], "")))
PY
}
body() {	# FILE: the decoded text/plain part of a delivered mail
	python3 - "$1" <<'PY'
import email, email.policy, sys
m = email.message_from_binary_file(open(sys.argv[1], "rb"), policy=email.policy.default)
print(m.get_body(preferencelist=("plain",)).get_content())
PY
}
mail_with() {	# ADDR SUBJECT-REGEX: the file of ADDR's (fetched) mail whose subject matches
	local f
	for f in "$W/out/$1"/*.eml; do
		[ -f "$f" ] && hdr "$f" Subject | grep -q -E "$2" && { echo "$f"; return 0; }
	done
	return 1
}
has() { if grep -q -- "$2" <<<"$3"; then ok "$1"; else not_ok "$1: no '$2' in: $3"; fi; }
APPID() { sql "SELECT id FROM applications WHERE city = '$1'"; }
LOCAL=${HARNESS_USER%@*}

# --- 1. the application arrives; the Board members get it ------------------------------
send $APP "$HARNESS_USER" "Pedido de adesão" <<B
Formulário: adhesion
Cidade: Canoas
País: BR
População: 347000
Prefeito: Jairo Jorge
Cargo: Prefeito Municipal
E-mail de contato: $CONTACT
Motivação: Queremos participar da rede e compartilhar nossas políticas.
B
run_daemon 1
check_eq "one application, pending, Brazilian, in Portuguese" "1|pending|BR|pt|$CONTACT" \
	"$(sql "SELECT count(*), state, country, lang, contact FROM applications")"
check_eq "the application is a recorded submission of kind adhesion" "adhesion" \
	"$(sql "SELECT s.kind FROM submissions s JOIN applications a ON a.submission_id = s.id")"
A=$(APPID Canoas)
for a in $MVD $POA $ROS; do
	fetch $a
	f=$(mail_with $a "Canoas") || { not_ok "$a: no ballot"; continue; }
	cp "$f" "$W/ballot-$a.eml"
	b=$(body "$f")
	has "$a: the ballot has the application's fields" "347000" "$b"
	has "$a: the ballot has a signed approve address" "$LOCAL+approve-[a-z0-9-]*@" "$b"
	has "$a: the ballot has a signed reject address" "$LOCAL+reject-[a-z0-9-]*@" "$b"
	has "$a: its Reply-To is a signed vote address" "$LOCAL+vote-" "$(hdr "$f" Reply-To)"
done
has "Porto Alegre's ballot is in Portuguese" "Pedido de adesão de Canoas (Brasil)" "$(hdr "$W/ballot-$POA.eml" Subject)"
has "Montevideo's ballot is in Spanish" "Solicitud de adhesión de Canoas" "$(hdr "$W/ballot-$MVD.eml" Subject)"
fetch $CAN
check_eq "a city outside the Board gets no ballot" "0" "$(ls "$W/out/$CAN" | wc -l)"
addr_of() { body "$W/ballot-$1.eml" | grep -o "$LOCAL+$2-[a-z0-9-]*@[^ ]*" | head -n 1; }
RT_POA=$(hdr "$W/ballot-$POA.eml" Reply-To | sed 's/.*<\(.*\)>.*/\1/')
YES_MVD=$(addr_of $MVD approve)
YES_ROS=$(addr_of $ROS approve)
RT_MVD=$(hdr "$W/ballot-$MVD.eml" Reply-To | sed 's/.*<\(.*\)>.*/\1/')
# a token with one character changed: the MAC no longer matches
tok=${YES_MVD%@*}
case ${tok: -1} in a) c=b ;; *) c=a ;; esac
FORGED=${tok%?}$c@${YES_MVD#*@}

# --- 2. a vote, a repeated vote and two forged ones -------------------------------------
send $POA "$RT_POA" "Re: Pedido de adesão de Canoas (Brasil): seu voto" <<'B'
Aprovo

Em qua., 25 de nov. de 2026, Secretaria escreveu:
> Para votar, responda "aprovo" ou "rejeito".
B
send $POA "$RT_POA" "Re: Pedido de adesão de Canoas (Brasil): seu voto" <<'B'
Aprovo, sim.
B
send $CAN "$YES_MVD" "Re: Solicitud de adhesión de Canoas" <<'B'
Apruebo
B
send $MVD "$FORGED" "Re: Solicitud de adhesión de Canoas" <<'B'
Apruebo
B
run_daemon 4
check_eq "Porto Alegre's two votes are one row" "1|approve" \
	"$(sql "SELECT count(*), group_concat(vote) FROM votes WHERE application_id = $A")"
check_eq "both of its votes are in the audit log" "2" \
	"$(sql "SELECT count(*) FROM audit_log WHERE action = 'application.vote' AND object = 'application:$A'")"
check_eq "another member's address used by Canelones is refused" "rejected" \
	"$(sql "SELECT state FROM messages WHERE message_id = '<vote-4-$$@test.example>'")"
check_eq "a forged token is refused" "rejected" \
	"$(sql "SELECT state || ' ' || reason FROM messages WHERE message_id = '<vote-5-$$@test.example>'" | cut -d' ' -f1)"
check_eq "still pending with one vote of three" "pending" "$(sql "SELECT state FROM applications WHERE id = $A")"
"$MERCOMAIL" -c "$CONF" digest preview comision-directiva --lang es > "$W/board-digest.txt"
REF=$(sql "SELECT s.reference FROM submissions s JOIN applications a ON a.submission_id = s.id WHERE a.id = $A")
check_eq "the Board's digest lists the pending application with its votes" \
	"* Canoas (BR) [$REF]: votos a favor 1, en contra 0" \
	"$(grep -A1 '^== Solicitudes de adhesión pendientes ==' "$W/board-digest.txt" | tail -n 1)"
fetch $CAN
if f=$(mail_with $CAN .) && grep -q "otra persona" <<<"$(body "$f")"; then
	ok "Canelones is told the address was issued to someone else"
else not_ok "no answer to Canelones"; fi

# --- 3. the second approval decides ------------------------------------------------------
send $ROS "$YES_ROS" "Re: Solicitud de adhesión de Canoas (Brasil): su voto" <<'B'
Apruebo.
B
run_daemon 1
check_eq "two of three approve: approved by the votes" "approved|votes" \
	"$(sql "SELECT state, decided_by FROM applications WHERE id = $A")"
check_eq "the votes: two approvals" "2" "$(sql "SELECT count(*) FROM votes WHERE application_id = $A AND vote = 'approve'")"
check_eq "decided: no longer pending in the Board's digest" 0 \
	"$("$MERCOMAIL" -c "$CONF" digest preview comision-directiva --lang pt | grep -c 'Canoas')"
check_eq "the city is in the roster (pt, Sao Paulo's zone)" "Canoas|BR|pt|America/Sao_Paulo" \
	"$(sql "SELECT name, country, lang, timezone FROM cities WHERE name = 'Canoas'")"
check_eq "its contact is the form's contact address" "$CONTACT" \
	"$(sql "SELECT k.address FROM contacts k JOIN cities c ON c.id = k.city_id WHERE c.name = 'Canoas'")"
has "mercomail roster list shows Canoas" "Canoas" "$("$MERCOMAIL" -c "$CONF" roster list 2>&1)"
check_eq "the decision is in the audit log" "1" \
	"$(sql "SELECT count(*) FROM audit_log WHERE action = 'application.decide' AND object = 'application:$A' AND detail LIKE 'approved by votes%'")"
fetch $CONTACT
if f=$(mail_with $CONTACT "Boas-vindas"); then
	ok "the applicant's contact holds the welcome in Portuguese"
	b=$(body "$f")
	has "the welcome says how to send each form" 'Formulário: informe' "$b"
	has "the welcome has the list commands" "inscrever cultura" "$b"
	has "the welcome has the city's feed" "https://red.example/feeds/city/canoas.ics" "$b"
else not_ok "no welcome for $CONTACT"; fi
fetch $MVD
has "the Board is told (Montevideo, in Spanish)" "Adhesión aprobada: Canoas" "$(hdr "$(mail_with $MVD "aprobada")" Subject)"

# --- 4. a vote on a decided application: answered, not counted ---------------------------
send $MVD "$RT_MVD" "Re: Solicitud de adhesión de Canoas" <<'B'
Rechazo
B
run_daemon 1
check_eq "the late vote is not counted" "0" "$(sql "SELECT count(*) FROM votes WHERE application_id = $A AND vote = 'reject'")"
check_eq "... and its refusal is in the audit log" "1" \
	"$(sql "SELECT count(*) FROM audit_log WHERE action = 'application.vote.refused' AND object = 'application:$A'")"
fetch $MVD
has "Montevideo is told the application was decided" "ya fue decidida" "$(body "$(mail_with $MVD "no registrado")")"

# --- 5. by hand: a rejection; by the clock: an expiry ------------------------------------
send $UY1 "$HARNESS_USER" "Solicitud de adhesión" <<B
Ciudad: Florida
País: UY
Población: 33000
Intendente: Guillermo López
Cargo: Intendente
Correo de contacto: $UY1
Motivación: Queremos sumarnos a la red.
B
send $UY2 "$HARNESS_USER" "Solicitud de adhesión" <<B
Ciudad: Durazno
País: UY
Población: 34000
Intendente: Carmen Tort
Cargo: Intendenta
Idioma: português
Correo de contacto: $UY2
Motivación: Queremos sumarnos a la red.
B
run_daemon 2
F=$(APPID Florida)
D=$(APPID Durazno)
# a member that left the Board since its ballot was sent: answered, not counted
fetch $ROS
f=$(mail_with $ROS "Florida") && cp "$f" "$W/ballot-florida.eml" || not_ok "Rosario: no ballot for Florida"
sql "DELETE FROM unit_members WHERE city_id = (SELECT id FROM cities WHERE name = 'Rosario')
	AND unit_id = (SELECT id FROM units WHERE slug = 'comision-directiva')"
send $ROS "$(body "$W/ballot-florida.eml" | grep -o "$LOCAL+approve-[a-z0-9-]*@[^ ]*" | head -n 1)" \
	"Re: Solicitud de adhesión de Florida" <<'B'
Apruebo
B
run_daemon 1
check_eq "a vote by a non-member is not counted" "0" "$(sql "SELECT count(*) FROM votes WHERE application_id = $F")"
check_eq "... and its refusal is in the audit log" "1" "$(sql "SELECT count(*) FROM audit_log
	WHERE action = 'application.vote.refused' AND object = 'application:$F' AND detail LIKE '%not a member'")"
fetch $ROS
has "Rosario is told only members vote" "solo votan los miembros" "$(body "$(mail_with $ROS "no registrado")")"
has "applications list shows both pending" "^$F	pending.*Florida" "$("$MERCOMAIL" -c "$CONF" applications list 2>/dev/null)"
check_eq "decide by hand" "application $F rejected" "$("$MERCOMAIL" -c "$CONF" applications decide "$F" reject 2>&1)"
check_eq "a decided one cannot be decided again" "65" \
	"$("$MERCOMAIL" -c "$CONF" applications decide "$F" approve >/dev/null 2>&1; echo $?)"
check_eq "rejected by cli, Florida not in the roster" "rejected|cli|0" \
	"$(sql "SELECT state, decided_by, (SELECT count(*) FROM cities WHERE name = 'Florida') FROM applications WHERE id = $F")"
has "applications show has the state" "rejected" "$("$MERCOMAIL" -c "$CONF" applications show "$F" 2>&1)"
run_daemon 0 MERCOMAIL_NOW=$(( $(date +%s) + 31 * 86400 ))
check_eq "31 days on, Durazno's application expired" "expired|expiry" \
	"$(sql "SELECT state, decided_by FROM applications WHERE id = $D")"
fetch $UY1
has "Florida is told politely, in Spanish" "no fue aprobada" "$(body "$(mail_with $UY1 "Su solicitud de adhesión")")"
fetch $UY2
has "Durazno is told it could not be decided in time, in the language its form asked for (pt)" \
	"não pôde ser decidido no prazo" \
	"$(body "$(mail_with $UY2 "Seu pedido de adesão")")"

check_eq "every mail was answered or recorded, none left new" "0" \
	"$(sql "SELECT count(*) FROM messages WHERE state = 'new'")"
check_eq "nothing left in the outbox" "0" "$(sql "SELECT count(*) FROM outbox WHERE state != 'sent'")"
finish
