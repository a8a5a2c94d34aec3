#!/bin/bash
# Spoofing and header injection, every case in one place with the answer the
# sender is documented to get (README "Forms", templates/*/): nothing below is
# accepted, and each answer is read back from the sender's own Dovecot
# mailbox and its text checked.
#
#   case                                          state     answer (template: reason)
#   sender not in the roster                      held      unknown-sender
#   roster contact, form of a coordinator         rejected  not-authorised: role
#   coordinator of another unit                   rejected  not-authorised: unit
#   require_dkim, our server says dkim=fail       rejected  rejected-dkim
#   require_dkim, no Authentication-Results       rejected  rejected-dkim
#   require_dkim, "pass" from an untrusted server rejected  rejected-dkim
#   require_dkim, our "pass" for another domain   rejected  rejected-dkim
#   reply token forged (MAC changed)              rejected  bad-token: forged
#   reply token expired (genuine MAC)             rejected  bad-token: expired
#   reply token issued to someone else            rejected  bad-token: someone else
#   CR/LF/NUL hidden in the Subject (RFC 2047 B and Q), in the display name,
#   in a folded Message-ID, echoed in answers     (answered) no new header
#   CR/LF in a roster name (the To display name)  import refused
#   CR/LF + ATTENDEE/ORGANIZER/Bcc in a meeting's   no new header, no new iCalendar
#   title, place or link (mercomail meeting create) property in the delivered invite
#   and by mail (bare CR, NUL, QP; Subject CRLF)
#   <script>, <b>, <img onerror> in a report       shown as text in the HTML digest
# Controls show the same set-up accepts the genuine mail in each case.
# (Single-use tokens for confirmations and votes do not exist yet.)
set -u
. "$(dirname "$0")/harness.sh"
. "$(dirname "$0")/common.sh"
start_work
mkdir -p "$W/out"
write_config "$CONF" smtp=yes answers_per_hour=100
T=$MERCOMAIL_SRCDIR/templates

MVD=relaciones.internacionales@montevideo.example	# coordinates ambiente (es)
POA=gabinete@portoalegre.example			# coordinates cultura (pt)
ROS=internacionales@rosario.example			# coordinates ciencia, educacion (es)
QUI=alcaldia@quito.example				# a contact; coordinates no unit
STR=alguien@desconocido.example				# not in the roster
for a in $MVD $POA $ROS $QUI $STR; do harness_add_user "$a" pw; done
"$MERCOMAIL" -c "$CONF" init >/dev/null
"$MERCOMAIL" -c "$CONF" roster import "$MERCOMAIL_TESTDATA/roster/cities.csv" \
	"$MERCOMAIL_TESTDATA/roster/units.csv" >/dev/null

echo 0 > "$W/count"
# submit FROM SUBJECT [TO] < BODY: prints the Message-ID. Extra header lines
# (CRLF-terminated) from $EXTRA_HEADERS; $FROM_HEADER replaces the From line;
# $MSGID_HEADER replaces the Message-ID line.
submit() {
	local from=$1 subject=$2 to=${3:-$HARNESS_USER} f N
	N=$(( $(cat "$W/count") + 1 ))
	echo "$N" > "$W/count"
	f=$W/sub-$N.eml
	{
		if [ -n "${FROM_HEADER:-}" ]; then printf '%s\r\n' "$FROM_HEADER"; else printf 'From: %s\r\n' "$from"; fi
		printf 'To: %s\r\nSubject: %s\r\n' "$to" "$subject"
		if [ -n "${MSGID_HEADER:-}" ]; then printf '%s\r\n' "$MSGID_HEADER"
		else printf 'Message-ID: <spoof-%d-%s@test.example>\r\n' "$N" "$$"; fi
		printf 'Date: %s\r\nMIME-Version: 1.0\r\n' "$(date -R)"
		printf 'Content-Type: text/plain; charset=UTF-8\r\nContent-Transfer-Encoding: 8bit\r\n'
		cat "${EXTRA_HEADERS:-/dev/null}"
		printf '\r\n'
		sed 's/$/\r/'
	} > "$f"
	mailtool send --from "$from" --to "$to" "$f" >/dev/null
	echo "<spoof-$N-$$@test.example>"
}
state_of() { sql "SELECT state FROM messages WHERE message_id = '$1'"; }
reason_of() { sql "SELECT reason FROM messages WHERE message_id = '$1'"; }
run_daemon() {
	mailtool wait-count INBOX "$1" --timeout 30 >/dev/null || not_ok "only $(mailtool count INBOX) of $1 mails arrived"
	"$MERCOMAILD" -c "$CONF" --once >>"$W/daemon.log" 2>&1 || not_ok "mercomaild --once failed"
}
# answer_to ADDR MSGID: the file of the answer to MSGID in ADDR's mailbox
# (waits for it), or nothing
answer_to() {
	local i f
	for i in $(seq 1 50); do
		rm -rf "$W/out/$1"
		mailtool --user "$1" --password pw fetch-all INBOX "$W/out/$1" >/dev/null 2>&1
		f=$(grep -l -F "In-Reply-To: $2" "$W/out/$1"/*.eml 2>/dev/null | head -1)
		[ -n "$f" ] && { echo "$f"; return 0; }
		sleep 0.2
	done
}
# decoded FILE: the Subject, then the text body, decoded
decoded() {
	python3 - "$1" <<'PY'
import email, email.policy, sys
m = email.message_from_binary_file(open(sys.argv[1], "rb"), policy=email.policy.default)
print(str(m["Subject"]))
print(m.get_body(preferencelist=("plain",)).get_content())
PY
}
# the fixed part of a template's Subject line (before the first {{)
subject_of() { sed -n '1s/^Subject: \([^{]*\).*/\1/p' "$T/$1/$2.txt" | sed 's/ *$//'; }
# expect_answer WHAT ADDR MSGID LANG TEMPLATE [PHRASE]: the sender got the
# documented answer: its Subject, and the reason phrase in its text
expect_answer() {
	local what=$1 addr=$2 msgid=$3 lang=$4 tpl=$5 phrase=${6:-} f
	f=$(answer_to "$addr" "$msgid")
	if [ -z "$f" ]; then not_ok "$what: no answer in $addr's mailbox"; return; fi
	decoded "$f" > "$f.txt"
	# the text re-flowed: a phrase may be split over two lines
	if head -1 "$f.txt" | grep -qF -- "$(subject_of "$lang" "$tpl")" &&
	   { [ -z "$phrase" ] || tr -s ' \n' '  ' < "$f.txt" | grep -qF -- "$phrase"; }; then
		ok "$what: $addr got the '$tpl' answer${phrase:+ saying \"$phrase\"}"
	else
		not_ok "$what: the answer is not '$tpl'${phrase:+ with \"$phrase\"}:"; sed 's/^/    /' "$f.txt" | head -20
	fi
}
# expect_refused WHAT MSGID STATE REASON-PATTERN
expect_refused() {
	check_eq "$1: state" "$3" "$(state_of "$2")"
	check_grep "$1: the recorded reason" "$4" <(reason_of "$2")
}

INFORME_CULTURA='Unidad: cultura
Período: 2026-07-01 a 2026-12-31
Actividades: Talleres.
Resultados: Dos.'
INFORME_AMBIENTE='Unidad: ambiente
Período: 2026-07-01 a 2026-12-31
Actividades: Talleres de reciclaje.
Resultados: Guía publicada.'
AGENDA='Órgano: consejo
Título: Fronteras
Justificación: Pedido de varias ciudades.
Proponente: Rosario'

# --- who may send ---------------------------------------------------------------------
m_str=$(submit $STR "[informe] Cultura" <<<"$INFORME_CULTURA")
m_role=$(submit $QUI "[informe] Cultura" <<<"$INFORME_CULTURA")	# Quito coordinates no unit
m_unit=$(submit $MVD "[informe] Cultura" <<<"$INFORME_CULTURA")	# Montevideo coordinates ambiente
m_ok=$(submit $MVD "[informe] Ambiente" <<<"$INFORME_AMBIENTE")	# control, and the token below

# --- CR, LF and NUL on their way to an outgoing header -------------------------------
b64() { printf '%b' "$1" | base64 -w0; }
INJ_B="=?UTF-8?B?$(b64 'Informe\r\nBcc: evil@attacker.example\r\nX-Injected: 1')?="
INJ_Q='=?UTF-8?Q?Informe=0D=0ABcc:_evil@attacker.example=0AX-Injected:_2=0Dx=00y?='
m_hb=$(submit $STR "$INJ_B" <<<"hola")
m_hq=$(submit $STR "$INJ_Q" <<<"hola")
m_hctl=$(submit $STR "plain subject" <<<"hola")	# the control of the unknown-sender answers
m_hack=$(submit $ROS "[tema de agenda] $INJ_B" <<<"$AGENDA")
m_hackc=$(submit $ROS "[tema de agenda] control" <<<"$AGENDA")	# the control of the acks
m_hname=$(FROM_HEADER="From: =?UTF-8?B?$(b64 'Ana\r\nBcc: evil@attacker.example')?= <$ROS>" \
	submit $ROS "[tema de agenda] nombre" <<<"$AGENDA")
m_hid=$(MSGID_HEADER="Message-ID: <folded-$$@test.example>
 Bcc: evil@attacker.example" submit $ROS "[tema de agenda] id" <<<"$AGENDA")
m_hid="<folded-$$@test.example>"
run_daemon 11

expect_refused "sender not in the roster" "$m_str" held "not in the roster"
expect_answer "sender not in the roster" $STR "$m_str" es unknown-sender "no figura en el registro"
expect_refused "a contact sends a coordinator's form" "$m_role" rejected ""
expect_answer "a contact sends a coordinator's form" $QUI "$m_role" es not-authorised \
	"su función en la red no permite enviar este formulario"
expect_refused "coordinator of another unit" "$m_unit" rejected ""
expect_answer "coordinator of another unit" $MVD "$m_unit" es not-authorised \
	"solo puede enviar este formulario para la unidad que coordina"
check_eq "control: the coordinator's own unit is recorded" recorded "$(state_of "$m_ok")"

# check_headers WHAT ANSWER CONTROL: the answer's header names are the
# control's (same template, same path); no Bcc or X-Injected line anywhere in
# the header; CRLF line ends only, no NUL, no CR/LF in any decoded value
check_headers() {
	local what=$1 f=$2 c=$3 out
	if [ -z "$f" ] || [ -z "$c" ]; then not_ok "$what: answer or control missing"; return; fi
	out=$(python3 - "$f" "$c" <<'PY'
import email, email.policy, re, sys
def load(p):
    raw = open(p, "rb").read()
    return raw, email.message_from_bytes(raw, policy=email.policy.default)
raw, m = load(sys.argv[1])
_, c = load(sys.argv[2])
problems = []
names = sorted(k.lower() for k in m.keys())
want = sorted(k.lower() for k in c.keys())
if names != want:
    problems.append("header names %s, expected %s" % (names, want))
head = raw.split(b"\r\n\r\n", 1)[0]
if re.search(rb"(^|[\r\n])(Bcc|X-Injected)[ \t]*:", head, re.I):
    problems.append("a Bcc or X-Injected line in the header")
if b"\0" in raw:
    problems.append("a NUL byte in the mail")
if raw.count(b"\n") != raw.count(b"\r\n") or raw.count(b"\r") != raw.count(b"\r\n"):
    problems.append("a bare CR or LF in the mail")
for k, v in m.items():
    if re.search(r"[\r\n\0]", str(v)):
        problems.append("%s decodes to a value with CR, LF or NUL: %r" % (k, str(v)))
print("; ".join(problems))
PY
)
	[ -z "$out" ] && ok "$what: no new header, CRLF only, no NUL" || not_ok "$what: $out"
}
a_ctl=$(answer_to $STR "$m_hctl")
check_headers "Subject with CRLF in an RFC 2047 B word (unknown-sender answer)" "$(answer_to $STR "$m_hb")" "$a_ctl"
check_headers "Subject with CR, LF, NUL in a Q word (unknown-sender answer)" "$(answer_to $STR "$m_hq")" "$a_ctl"
a_ackc=$(answer_to $ROS "$m_hackc")
check_headers "Subject with CRLF echoed in an acknowledgement" "$(answer_to $ROS "$m_hack")" "$a_ackc"
check_headers "display name with CRLF in an RFC 2047 word" "$(answer_to $ROS "$m_hname")" "$a_ackc"
check_headers "a folded Message-ID echoed in In-Reply-To/References" "$(answer_to $ROS "$m_hid")" "$a_ackc"
f=$(answer_to $STR "$m_hb"); decoded "$f" > "$W/dec-b"; head -1 "$W/dec-b" > "$W/subj-b"
check_grep "the injected text stays inside the Subject" "Informe.*Bcc: evil@attacker.example" "$W/subj-b"
# the raw bytes of every answer delivered: no header line that was not sent by us
rm -rf "$W/all"; for a in $STR $ROS; do
	mailtool --user $a --password pw fetch-all INBOX "$W/all/$a" >/dev/null
done
n=$(for f in "$W"/all/*/*.eml; do python3 -c 'import sys; print(open(sys.argv[1],"rb").read().split(b"\r\n\r\n",1)[0].decode("latin-1"))' "$f"; done |
	grep -ci '^\(bcc\|x-injected\):' || true)
check_eq "no Bcc or X-Injected header line in any delivered answer (raw bytes)" 0 "$n"
check_eq "nothing was delivered to the injected Bcc address" 0 \
	"$(grep -rl 'evil@attacker.example' "$HARNESS_DIR"/smtpd.log 2>/dev/null | wc -l)"

# a roster name reaches the To display name of every answer: CR/LF refused
sed '$a Paysandú,UY,es,America/Montevideo,"Intendente\r\nBcc: evil@attacker.example",intendencia@paysandu.example' \
	"$MERCOMAIL_TESTDATA/roster/cities.csv" | sed 's/\\r\\n/\r\n/' > "$W/cities-crlf.csv"
"$MERCOMAIL" -c "$CONF" roster import "$W/cities-crlf.csv" "$MERCOMAIL_TESTDATA/roster/units.csv" \
	> "$W/roster.out" 2>&1; rc=$?
[ $rc -ne 0 ] && ok "a roster name with CR/LF is refused (exit $rc)" || not_ok "a roster name with CR/LF was imported"
check_grep "the refusal names the line break" "line break or control character" "$W/roster.out"

# --- reply tokens ---------------------------------------------------------------------
ack=$(answer_to $MVD "$m_ok")
token=$(python3 - "$ack" <<'PY'
import email, email.policy, re, sys
m = email.message_from_binary_file(open(sys.argv[1], "rb"), policy=email.policy.default)
t = re.search(r"secretaria\+(reply-[a-z0-9-]+)@red\.test", str(m["Reply-To"]))
print(t.group(1) if t else "")
PY
)
[ -n "$token" ] && ok "the acknowledgement carries a signed reply address" || not_ok "no token in the ack's Reply-To"
forged=${token%?}$( [ "${token: -1}" = a ] && echo b || echo a )
# a token with a genuine MAC that expired an hour ago: what the daemon would
# have issued with token_days in the past (daemon/auth.c, mercomail-token-v1)
expired=$(python3 - "$token" "$(token_key)" <<'PY'
import hashlib, hmac, sys, time
purpose, obj, con, exp, mac = sys.argv[1].split("-")
key = open(sys.argv[2], "rb").read().strip()
b36, b32 = "0123456789abcdefghijklmnopqrstuvwxyz", "abcdefghijklmnopqrstuvwxyz234567"
def num(s): return int(s, 36)
def enc36(v):
    s = ""
    while True:
        s = b36[v % 36] + s; v //= 36
        if v == 0: return s
when = int(time.time()) - 3600
msg = "mercomail-token-v1\n%s\n%d\n%d\n%d" % (purpose, num(obj), num(con), when)
d = hmac.new(key, msg.encode(), hashlib.sha256).digest()
bits = int.from_bytes(d[:13], "big") >> 4      # the first 100 bits
m = "".join(b32[(bits >> (5 * (19 - i))) & 31] for i in range(20))
print("-".join([purpose, obj, con, enc36(when), m]))
PY
)
m_forged=$(submit $MVD "Re: Recibido" "secretaria+$forged@red.test" <<<"$INFORME_AMBIENTE")
m_expired=$(submit $MVD "Re: Recibido" "secretaria+$expired@red.test" <<<"$INFORME_AMBIENTE")
m_foreign=$(submit $POA "Re: Recibido" "secretaria+$token@red.test" <<<"$INFORME_CULTURA")
m_genuine=$(submit $MVD "Re: Recibido" "secretaria+$token@red.test" <<<"$INFORME_AMBIENTE")
run_daemon 4
expect_refused "forged reply token" "$m_forged" rejected "reply token forged"
expect_answer "forged reply token" $MVD "$m_forged" es bad-token "firma incorrecta"
expect_refused "expired reply token" "$m_expired" rejected "reply token expired"
expect_answer "expired reply token" $MVD "$m_expired" es bad-token "la dirección de respuesta venció"
expect_refused "reply token issued to someone else" "$m_foreign" rejected "reply token issued to someone else"
expect_answer "reply token issued to someone else" $POA "$m_foreign" pt bad-token \
	"o endereço de resposta foi emitido para outra pessoa"
check_eq "control: the genuine token is accepted" recorded "$(state_of "$m_genuine")"

# check_invites CONTROL LABEL=SUMMARY-PART...: among the invites in MVD's
# mailbox, each labelled one has the control's headers and iCalendar
# properties, no ATTENDEE/ORGANIZER for the attacker, CRLF only, no NUL
check_invites() {
	rm -rf "$W/mvd"; mailtool --user $MVD --password pw fetch-all INBOX "$W/mvd" >/dev/null
	python3 - "$@" -- "$W"/mvd/*.eml <<'PY' > "$W/ics.out"
import email, email.policy, re, sys
args = sys.argv[1:]
sep = args.index("--")
control, labels, files = args[0], [a.split("=", 1) for a in args[1:sep]], args[sep + 1:]
invites = {}
for p in files:
    raw = open(p, "rb").read()
    m = email.message_from_bytes(raw, policy=email.policy.default)
    for part in m.walk():
        if part.get_content_type() == "text/calendar":
            ics = part.get_payload(decode=True).decode("utf-8", "replace")
            lines = re.sub(r"\r\n[ \t]", "", ics).split("\r\n")
            summ = ([l for l in lines if l.startswith("SUMMARY")] or [""])[0]
            if control in summ:
                invites["control"] = (raw, m, lines)
            for label, part_ in labels:
                if part_ in summ and control not in summ:
                    invites[label] = (raw, m, lines)
if "control" not in invites or labels[0][0] not in invites:
    print("not ok - the invites delivered to the coordinator (got %s)" % sorted(invites)); sys.exit()
print("ok - the invites delivered to the coordinator")
craw, cm, cl = invites["control"]
for what, _ in labels:
  if what not in invites:
    continue
  iraw, im, il = invites[what]
  print("# %s" % what)
  props = lambda lines: sorted(re.split(r"[;:]", l, 1)[0] for l in lines if l)
  print(("ok" if props(il) == props(cl) else "not ok") +
        " - the invite's iCalendar properties are the control's (%s)" %
        (len(props(il)) if props(il) == props(cl) else "%s vs %s" % (props(il), props(cl))))
  bad = [l for l in il if re.match(r"(ATTENDEE|ORGANIZER)", l) and "attacker" in l]
  print(("ok" if not bad else "not ok") + " - no ATTENDEE or ORGANIZER for the injected address%s" %
        ("" if not bad else ": %r" % bad))
  print(("ok" if sorted(k.lower() for k in im.keys()) == sorted(k.lower() for k in cm.keys()) else "not ok") +
        " - the invite's header names are the control's")
  head = iraw.split(b"\r\n\r\n", 1)[0]
  print(("ok" if not re.search(rb"(^|\n)(Bcc|X-Injected)[ \t]*:", head, re.I) else "not ok") +
        " - no Bcc or X-Injected line in the invite's header")
  print(("ok" if iraw.count(b"\n") == iraw.count(b"\r\n") and iraw.count(b"\r") == iraw.count(b"\r\n") and b"\0" not in iraw else "not ok") +
        " - the invite has CRLF line ends only and no NUL")
  print(("ok" if "\n" not in str(im["Subject"]) and "\r" not in str(im["Subject"]) else "not ok") +
        " - the Subject decodes to one line (%r)" % str(im["Subject"]))
PY
	local what=invites line
	while IFS= read -r line; do
		case $line in
		"# "*) what=${line#\# } ;;
		"ok - "*) ok "meeting ${what}: ${line#ok - }" ;;
		*) not_ok "meeting ${what}: ${line#not ok - }" ;;
		esac
	done < "$W/ics.out"
}

# --- a meeting title with CR/LF: no new header in the invite, no new iCalendar property
GUA=gabinete@guarulhos.example		# subcoordinates ambiente with Montevideo
harness_add_user $GUA pw
"$MERCOMAIL" -c "$CONF" meeting create --unit ambiente --title "Control de inyección" \
	--start "2027-03-10 10:00" --duration 1h --location "Montevideo" \
	--url https://reuniones.example/control > "$W/mt-ctl.out" 2>&1 ||
	not_ok "meeting create (control): $(cat "$W/mt-ctl.out")"
"$MERCOMAIL" -c "$CONF" meeting create --unit ambiente \
	--title "$(printf 'Plan\r\nATTENDEE;RSVP=TRUE:mailto:evil@attacker.example\r\nBcc: evil@attacker.example')" \
	--location "$(printf 'Sala\r\nORGANIZER:mailto:evil@attacker.example\nX-Injected: 1')" \
	--start "2027-03-11 10:00" --duration 1h --url https://reuniones.example/plan \
	> "$W/mt-inj.out" 2>&1; rc=$?
# a link is a URI value, written as it is: CR/LF there must be refused
"$MERCOMAIL" -c "$CONF" meeting create --unit ambiente --title "Enlace" --location "Montevideo" \
	--url "$(printf 'https://reuniones.example/x\r\nATTENDEE:mailto:evil@attacker.example')" \
	--start "2027-03-12 10:00" --duration 1h > "$W/mt-url.out" 2>&1; rc_url=$?
[ $rc_url -ne 0 ] && ok "meeting create refuses a link with CR/LF (exit $rc_url)" ||
	not_ok "meeting create accepted a link with CR/LF (its invite is checked below)"
if [ $rc -ne 0 ]; then
	ok "meeting create refuses a title with CR/LF (exit $rc): $(head -1 "$W/mt-inj.out")"
else
	"$MERCOMAILD" -c "$CONF" --once >>"$W/daemon.log" 2>&1 || not_ok "mercomaild --once failed"
	mailtool --user $MVD --password pw wait-count INBOX $((7 + (rc_url == 0))) --timeout 30 >/dev/null
	check_invites "Control de" injected=Plan link=Enlace
fi

# the same by mail: a meeting request whose title and place hide a bare CR
# and a NUL (quoted-printable), and a Subject hiding CRLF
reunion() {	# FILE SUBJECT TITLE PLACE START: a QP meeting request from Montevideo
	{
		printf 'From: %s\r\nTo: %s\r\nSubject: %s\r\n' $MVD "$HARNESS_USER" "$2"
		printf 'Message-ID: <reunion-%s-%s@test.example>\r\nDate: %s\r\n' "$RANDOM" "$$" "$(date -R)"
		printf 'MIME-Version: 1.0\r\nContent-Type: text/plain; charset=UTF-8\r\n'
		printf 'Content-Transfer-Encoding: quoted-printable\r\n\r\n'
		printf 'Unidad: ambiente\r\nT=C3=ADtulo: %s\r\nInicio: %s\r\nDuraci=C3=B3n: 1 hora\r\nLugar: %s\r\n' \
			"$3" "$5" "$4"
	} > "$1"
	mailtool send --from $MVD --to "$HARNESS_USER" "$1" >/dev/null
}
n0=$(mailtool --user $MVD --password pw count INBOX)
reunion "$W/reunion-ctl.eml" "Reunión de la unidad" "Control por correo" "Montevideo" "2027-04-10 10:00"
# a bare CR ends the line for the form reader: ATTENDEE and ORGANIZER become
# fields of their own, unknown, and the request is refused
reunion "$W/reunion-cr.eml" "=?UTF-8?B?$(b64 'Reunión\r\nBcc: evil@attacker.example')?=" \
	"Retorno=0DATTENDEE:mailto:evil@attacker.example" \
	"Sala=0DORGANIZER:mailto:evil@attacker.example" "2027-04-11 10:00"
# a NUL inside the title and the place, with the attacker's text after it
reunion "$W/reunion-nul.eml" "Reunión con NUL" "Correo=00ATTENDEE:mailto:evil@attacker.example" \
	"Sala=00ORGANIZER:mailto:evil@attacker.example" "2027-04-12 10:00"
mailtool wait-count INBOX 3 --timeout 30 >/dev/null
"$MERCOMAILD" -c "$CONF" --once >>"$W/daemon.log" 2>&1 || not_ok "mercomaild --once failed"
cr_id=$(sed -n 's/^Message-ID: //p' "$W/reunion-cr.eml" | tr -d '\r')
check_eq "a request with a bare CR in its title is refused" rejected "$(state_of "$cr_id")"
check_grep "the problems name the field the CR made up" "ATTENDEE" \
	<(sql "SELECT group_concat(p.text, ' ') FROM message_problems p JOIN messages m ON m.id = p.message_id WHERE m.message_id = '$cr_id'")
check_eq "and no meeting came of it" 0 "$(sql "SELECT count(*) FROM meetings WHERE title LIKE 'Retorno%'")"
check_eq "the control and the NUL request scheduled a meeting each" 2 \
	"$(sql "SELECT count(*) FROM meetings WHERE title LIKE 'Control por correo%' OR title LIKE 'Correo%'")"
# two acknowledgements, the refusal and two invites (Montevideo is invited too)
mailtool --user $MVD --password pw wait-count INBOX $((n0 + 5)) --timeout 30 >/dev/null
check_invites "Control por correo" mail=Correo

# --- an HTML digest: markup from a submission is shown, never rendered ---------------
m_html=$(submit $MVD "[informe] Ambiente <b>negrita</b>" <<'B'
Unidad: ambiente
Período: 2026-01-01 a 2026-06-30
Actividades: <script>alert(1)</script><b>negrita</b> <a href="http://evil.example/">enlace</a>
Resultados: <img src=x onerror=alert(1)> & "comillas" 'simples'
B
)
run_daemon 1
check_eq "the submission with markup is recorded" recorded "$(state_of "$m_html")"
g0=$(mailtool --user $GUA --password pw count INBOX)
# a period that surely ends after the submission (digests count whole minutes)
soon=$(TZ=America/Montevideo date -d '+2 minutes' '+%Y-%m-%d %H:%M')
"$MERCOMAIL" -c "$CONF" digest send ambiente --now "$soon" > "$W/digest.out" 2>&1 ||
	not_ok "digest send: $(cat "$W/digest.out")"
"$MERCOMAILD" -c "$CONF" --once >>"$W/daemon.log" 2>&1 || not_ok "mercomaild --once failed"
mailtool --user $GUA --password pw wait-count INBOX $((g0 + 1)) --timeout 30 >/dev/null
rm -rf "$W/gua"; mailtool --user $GUA --password pw fetch-all INBOX "$W/gua" >/dev/null
python3 - "$W"/gua/*.eml <<'PY' > "$W/digest-html.out"
import email, email.policy, re, sys
for p in sys.argv[1:]:
    m = email.message_from_binary_file(open(p, "rb"), policy=email.policy.default)
    html = [part.get_content() for part in m.walk() if part.get_content_type() == "text/html"]
    if html and "negrita" in html[0]:
        h = html[0]
        print("ok - the digest delivered to a member has an HTML part with the report")
        raw = [t for t in ("<script", "<b>negrita", "<img", 'href="http://evil', "onerror=alert") if t in h]
        print(("ok" if not raw else "not ok") + " - no markup from the mail in it%s" % ("" if not raw else ": %s" % raw))
        print(("ok" if "&lt;script&gt;" in h and "&lt;b&gt;negrita" in h else "not ok") +
              " - the markup is shown as text (&lt;script&gt;, &lt;b&gt;)")
        break
else:
    print("not ok - no digest with the report in the member's mailbox")
PY
while IFS= read -r line; do
	case $line in
	"ok - "*) ok "HTML digest: ${line#ok - }" ;;
	*) not_ok "HTML digest: ${line#not ok - }" ;;
	esac
done < "$W/digest-html.out"

# --- require_dkim: only our border server's verdict for the From domain --------------
write_config "$CONF" smtp=yes answers_per_hour=100 require_dkim=yes
ar() { printf 'Authentication-Results: %s\r\n' "$1" > "$W/ar.hdr"; echo "$W/ar.hdr"; }
m_fail=$(EXTRA_HEADERS=$(ar "mx.red.test; dkim=fail header.d=rosario.example; spf=fail smtp.mailfrom=rosario.example") \
	submit $ROS "[tema de agenda] dkim=fail" <<<"$AGENDA")
m_none=$(submit $ROS "[tema de agenda] sin veredicto" <<<"$AGENDA")
m_other=$(EXTRA_HEADERS=$(ar "mx.otro.example; dkim=pass header.d=rosario.example; spf=pass smtp.mailfrom=rosario.example") \
	submit $ROS "[tema de agenda] otro servidor" <<<"$AGENDA")
m_dom=$(EXTRA_HEADERS=$(ar "mx.red.test; dkim=pass header.d=attacker.example; spf=pass smtp.mailfrom=attacker.example") \
	submit $ROS "[tema de agenda] otro dominio" <<<"$AGENDA")
m_pass=$(EXTRA_HEADERS=$(ar "mx.red.test; dkim=pass header.d=rosario.example; spf=pass smtp.mailfrom=rosario.example") \
	submit $ROS "[tema de agenda] firmado" <<<"$AGENDA")
run_daemon 5
for pair in "dkim=fail from our server:$m_fail" "no Authentication-Results:$m_none" \
	"dkim=pass from an untrusted server:$m_other" "our dkim=pass for another domain:$m_dom"; do
	what="require_dkim, ${pair%%:<*}"; m="<${pair#*:<}"
	expect_refused "$what" "$m" rejected "DKIM/SPF did not pass"
	expect_answer "$what" $ROS "$m" es rejected-dkim "la verificación DKIM/SPF falló"
done
check_eq "control: our server's dkim=pass for the From domain is accepted" recorded "$(state_of "$m_pass")"

# --- nothing of the above became a submission -----------------------------------------
refused="'$m_str','$m_role','$m_unit','$m_forged','$m_expired','$m_foreign','$m_fail','$m_none','$m_other','$m_dom'"
check_eq "none of the refused mails became a submission" 0 \
	"$(sql "SELECT count(*) FROM submissions s JOIN messages m ON m.id = s.message_id WHERE m.message_id IN ($refused)")"
check_eq "database integrity" ok "$(sql 'PRAGMA integrity_check')"
finish
