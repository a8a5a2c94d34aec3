#!/bin/bash
# Submissions end to end, through the real OpenSMTPD and Dovecot: a valid
# submission of each kind is recorded and acknowledged; an invalid one gets
# its errors in the sender's language; an unknown sender is held and told
# how to register; automatic mail gets no answer; reply tokens are checked;
# the same mail twice is recorded and answered once. The answers are read
# back from the senders' own mailboxes.
set -u
. "$(dirname "$0")/harness.sh"
. "$(dirname "$0")/common.sh"
start_work
mkdir -p "$W/out"
write_config "$CONF" smtp=yes
T=$MERCOMAIL_SRCDIR/templates

MVD=relaciones.internacionales@montevideo.example	# coordinates ambiente (es)
POA=gabinete@portoalegre.example			# coordinates cultura (pt)
ROS=internacionales@rosario.example			# coordinates ciencia, educacion
CAN=intendencia@canelones.example			# coordinates seguridad
STR=alguien@desconocido.example				# not in the roster
for a in $MVD $POA $ROS $CAN $STR; do harness_add_user "$a" pw; done

"$MERCOMAIL" -c "$CONF" init >/dev/null
"$MERCOMAIL" -c "$CONF" roster import "$MERCOMAIL_TESTDATA/roster/cities.csv" \
	"$MERCOMAIL_TESTDATA/roster/units.csv" >/dev/null

echo 0 > "$W/count"
# submit FROM SUBJECT [TO] < BODY: mail it to the secretariat through OpenSMTPD;
# prints the Message-ID (it runs in $(...), so the counter lives in a file)
submit() {
	local from=$1 subject=$2 to=${3:-$HARNESS_USER} f N
	N=$(( $(cat "$W/count") + 1 ))
	echo "$N" > "$W/count"
	f=$W/sub-$N.eml
	{
		printf 'From: %s\r\nTo: %s\r\nSubject: %s\r\n' "$from" "$to" "$subject"
		printf 'Message-ID: <sub-%d-%s@test.example>\r\n' "$N" "$$"
		printf 'Date: %s\r\nMIME-Version: 1.0\r\n' "$(date -R)"
		printf 'Content-Type: text/plain; charset=UTF-8\r\nContent-Transfer-Encoding: 8bit\r\n'
		cat "${EXTRA_HEADERS:-/dev/null}"
		printf '\r\n'
		sed 's/$/\r/'
	} > "$f"
	mailtool send --from "$from" --to "$to" "$f" >/dev/null
	echo "<sub-$N-$$@test.example>"
}
resend() { mailtool send --from "$1" --to "$HARNESS_USER" "$W/sub-$2.eml" >/dev/null; }
inbox_of() { mailtool --user "$1" --password pw count INBOX; }
# answers_of ADDR: fetch the sender's mailbox into $W/out/ADDR/
answers_of() { rm -rf "$W/out/$1"; mailtool --user "$1" --password pw fetch-all INBOX "$W/out/$1" >/dev/null; }
state_of() { sql "SELECT state FROM messages WHERE message_id = '$1'"; }
run_daemon() {
	mailtool wait-count INBOX "$1" --timeout 30 >/dev/null || not_ok "only $(mailtool count INBOX) of $1 mails arrived"
	"$MERCOMAILD" -c "$CONF" --once >>"$W/daemon.log" 2>&1 || not_ok "mercomaild --once failed"
}
# hdr FILE NAME: a header of a delivered mail, unfolded and RFC 2047-decoded
hdr() {
	python3 - "$1" "$2" <<'PY'
import email, email.header, email.policy, sys
m = email.message_from_binary_file(open(sys.argv[1], "rb"), policy=email.policy.default)
print(str(m.get(sys.argv[2], "")))
PY
}
# the fixed part of a template's Subject line (before the first {{)
subject_of() { sed -n '1s/^Subject: \([^{]*\).*/\1/p' "$T/$1/$2.txt" | sed 's/ *$//'; }

# --- a valid submission of each kind ------------------------------------------------
m_inf=$(submit $MVD "[informe] Ambiente, segundo semestre" <<'B'
Unidad: ambiente
Período: 2026-07-01 a 2026-12-31
Actividades: Taller regional sobre residuos en Canelones,
  con 14 ciudades participantes.
Resultados: Guía publicada.
B
)
resend $MVD "$(cat "$W/count")"	# the same mail delivered twice
m_rel=$(submit $POA "Relatório: Cultura" <<'B'
Unidade: cultura
Período: 01/07/2026 - 31/12/2026
Atividades: Festival de música das cidades.
Resultados: 12 cidades, 40 grupos.
Próximos passos: Edição 2027 em Canelones.
B
)
m_bp=$(submit $ROS "Buena práctica: presupuesto participativo joven" <<'B'
Título: Presupuesto participativo joven
Ciudad: Rosario
Unidad: educacion
Resumen: Los jóvenes de 14 a 18 años deciden una parte del presupuesto.
Resultados: 3.000 votantes en 2025.
Contacto: juventud@rosario.example
B
)
m_odm=$(submit $CAN "[ODM] Indicador de escolarización" <<'B'
Objetivo: 2
Indicador: Tasa neta de escolarización primaria
Valor: 97.5
Unidad de medida: %
Año: 2025
Ciudad: Canelones
Fuente: Intendencia de Canelones
B
)
m_conv=$(submit $MVD "Convenio con UNESCO" <<'B'
Formulario: convenio
Contraparte: UNESCO
Tipo: organismo internacional
Alcance: Cooperación en patrimonio cultural urbano.
Vigencia: 2026-01-01 a 2027-12-31
Ciudades: Montevideo, Canelones
B
)
m_ag=$(submit $ROS "[tema de agenda] Consejo de diciembre" <<'B'
Órgano: consejo
Título: Financiamiento de proyectos de frontera
Justificación: Pedido de varias ciudades.
Proponente: Rosario
B
)
m_adh=$(submit $STR "Solicitud de adhesión" <<'B'
Formulario: adhesión
Ciudad: Tandil
País: AR
Población: 150000
Jefe de gobierno: Juan Pérez
Cargo: Intendente
Correo de contacto: intendencia@tandil.example
Motivación: Queremos sumarnos a la red.
B
)
# --- what must not be recorded ----------------------------------------------------------
m_bad=$(submit $POA "Relatório: Cultura (segunda versão)" <<'B'
Unidade: cultura
Período: 2026-13-45 a 2026-12-31
Atividades: Oficinas.
B
)
m_unk=$(submit $STR "[informe] Cultura" <<'B'
Unidad: cultura
Período: 2026-07-01 a 2026-12-31
Actividades: x
Resultados: y
B
)
m_other=$(submit $MVD "[informe] Cultura" <<'B'
Unidad: cultura
Período: 2026-07-01 a 2026-12-31
Actividades: Intento de informar por otra unidad.
Resultados: ninguno
B
)
printf 'Auto-Submitted: auto-replied\r\n' > "$W/auto.hdr"
m_auto=$(EXTRA_HEADERS=$W/auto.hdr submit $MVD "Respuesta automática: Fuera de la oficina" <<'B'
Estaré fuera de la oficina hasta el lunes.
B
)
m_dsn=$(submit "MAILER-DAEMON@red.test" "Undelivered Mail Returned to Sender" <<'B'
This is the mail system at host red.test.
B
)
run_daemon 13

check_eq "the duplicate is recorded once" 1 "$(sql "SELECT count(*) FROM messages WHERE message_id = '$m_inf'")"
for m in "$m_inf" "$m_rel" "$m_bp" "$m_odm" "$m_conv" "$m_ag" "$m_adh"; do
	check_eq "valid submission $m recorded" recorded "$(state_of "$m")"
done
check_eq "every kind recorded" "adhesion agenda buena-practica convenio informe odm" \
	"$(sql "SELECT group_concat(kind, ' ') FROM (SELECT DISTINCT kind FROM submissions ORDER BY kind)")"
check_eq "seven submissions with references" 7 "$(sql "SELECT count(*) FROM submissions WHERE reference LIKE 'MC-____-______'")"
check_eq "fields recorded, dates normalised" "2026-07-01/2026-12-31" \
	"$(sql "SELECT value FROM message_fields f JOIN messages m ON m.id = f.message_id WHERE m.message_id = '$m_rel' AND field = 'period'")"
check_eq "invalid submission rejected" rejected "$(state_of "$m_bad")"
check_eq "two problems recorded for it" 2 "$(sql "SELECT count(*) FROM message_problems p JOIN messages m ON m.id = p.message_id WHERE m.message_id = '$m_bad'")"
check_eq "unknown sender held" held "$(state_of "$m_unk")"
check_eq "coordinator of another unit rejected" rejected "$(state_of "$m_other")"
check_eq "auto-reply ignored" ignored "$(state_of "$m_auto")"
check_eq "bounce ignored" ignored "$(state_of "$m_dsn")"
check_eq "nothing left in the inbox" 0 "$(mailtool count INBOX)"
check_eq "nothing left in the outbox" 0 "$(sql "SELECT count(*) FROM outbox WHERE state <> 'sent'")"

# --- the answers, read from the senders' mailboxes --------------------------------------
mailtool --user $MVD --password pw wait-count INBOX 3 --timeout 30 >/dev/null
check_eq "Montevideo: ack (once, despite the duplicate), ack for the agreement, refusal" 3 "$(inbox_of $MVD)"
check_eq "Porto Alegre: ack and the error list" 2 "$(inbox_of $POA)"
check_eq "Rosario: two acks" 2 "$(inbox_of $ROS)"
check_eq "Canelones: one ack" 1 "$(inbox_of $CAN)"
check_eq "the stranger: ack of the application and the unknown-sender answer" 2 "$(inbox_of $STR)"

answers_of $MVD
ack=$(grep -l "In-Reply-To: $m_inf" "$W/out/$MVD"/*.eml | head -1)
[ -n "$ack" ] && ok "the acknowledgement refers to the submission (In-Reply-To)" || not_ok "no answer with In-Reply-To $m_inf"
ref=$(sql "SELECT reference FROM submissions s JOIN messages m ON m.id = s.message_id WHERE m.message_id = '$m_inf'")
check_grep "the acknowledgement gives the reference $ref" "$ref" "$ack"
check_grep "it is marked as an automatic answer" "^Auto-Submitted: auto-replied" "$ack"
check_grep "it has a signed reply address" "secretaria+reply-" <(hdr "$ack" Reply-To)
check_grep "its Subject is the Spanish acknowledgement" "^$(subject_of es ack)" <(hdr "$ack" Subject)
crlf_only=$(python3 -c 'import sys; d=open(sys.argv[1],"rb").read(); print(int(d.count(b"\n")==d.count(b"\r\n")))' "$ack")
check_eq "the answer is CRLF throughout" 1 "$crlf_only"

answers_of $POA
bad=$(grep -l "In-Reply-To: $m_bad" "$W/out/$POA"/*.eml | head -1)
[ -n "$bad" ] && ok "Porto Alegre got an answer to the invalid form" || not_ok "no answer to the invalid form"
body=$(python3 -c 'import email,sys; m=email.message_from_binary_file(open(sys.argv[1],"rb")); print(m.get_payload(decode=True).decode())' "$bad")
check_eq "the error answer lists two problems" 2 "$(printf '%s\n' "$body" | grep -c '^- ')"
printf '%s\n' "$body" | grep -q "Resultados" && ok "the missing field is named" || not_ok "missing field not named: $body"
check_grep "the error answer is in Portuguese" "^$(subject_of pt invalid)" <(hdr "$bad" Subject)
printf '%s\n' "$body" | grep -q "^Unidade: " && ok "a filled-in example of the form is included" || not_ok "no example"

answers_of $STR
for f in "$W/out/$STR"/*.eml; do hdr "$f" Subject; done > "$W/str-subjects"
check_grep "the stranger is told the address is not registered" "^$(subject_of es unknown-sender)" "$W/str-subjects"
check_grep "and gets the acknowledgement of the application" "^$(subject_of es ack)" "$W/str-subjects"

# --- reply tokens ---------------------------------------------------------------------
token=$(hdr "$ack" Reply-To | sed -n 's/.*secretaria+\(reply-[a-z0-9-]*\)@red.test.*/\1/p')
forged=${token%?}$( [ "${token: -1}" = a ] && echo b || echo a )
m_forged=$(submit $MVD "Re: Recibido" "secretaria+$forged@red.test" <<'B'
Unidad: ambiente
Período: 2026-07-01 a 2026-12-31
Actividades: respuesta con firma falsa
Resultados: ninguno
B
)
m_reply=$(submit $MVD "Re: Recibido" "secretaria+$token@red.test" <<'B'
Unidad: ambiente
Período: 2026-01-01 a 2026-06-30
Actividades: Informe del primer semestre, enviado como respuesta.
Resultados: Dos talleres.
B
)
m_foreign=$(submit $POA "Re: Recibido" "secretaria+$token@red.test" <<'B'
Unidade: cultura
Período: 2026-01-01 a 2026-06-30
Atividades: resposta com o endereço de outra pessoa
Resultados: nenhum
B
)
run_daemon 3
check_eq "a forged reply token is rejected" rejected "$(state_of "$m_forged")"
check_grep "and the reason says forged" "forged" <(sql "SELECT reason FROM messages WHERE message_id = '$m_forged'")
check_eq "a genuine reply token is accepted" recorded "$(state_of "$m_reply")"
check_eq "a token used by someone else is rejected" rejected "$(state_of "$m_foreign")"
check_grep "and the reason says so" "someone else" <(sql "SELECT reason FROM messages WHERE message_id = '$m_foreign'")
mailtool --user $MVD --password pw wait-count INBOX 5 --timeout 30 >/dev/null
check_eq "Montevideo got the bad-token answer and the new ack" 5 "$(inbox_of $MVD)"

# --- the operator's view --------------------------------------------------------------
"$MERCOMAIL" -c "$CONF" messages list --held > "$W/held.txt"
check_grep "messages list --held shows the unknown sender's mail" "held" "$W/held.txt"
id=$(sql "SELECT id FROM messages WHERE message_id = '$m_bad'")
"$MERCOMAIL" -c "$CONF" messages show "$id" > "$W/show.txt"
check_grep "messages show gives the reason" "form has errors" "$W/show.txt"
check_grep "messages show gives the parsed fields" "unit: cultura" "$W/show.txt"
"$MERCOMAIL" -c "$CONF" submissions export --format csv > "$W/export.csv"
check_eq "the CSV export has a header and one row per submission" 9 "$(python3 -c 'import csv,sys; print(len(list(csv.reader(open(sys.argv[1])))))' "$W/export.csv")"
# --- a send failure leaves the answer queued for the next cycle -------------------------
# STARTTLS is required by default; the harness server has none, so nothing is sent
write_config "$CONF" smtp=yes smtp_starttls=yes
m_late=$(submit $CAN "[ODM] Otro indicador" <<'B'
Objetivo: 4
Indicador: Mortalidad infantil
Valor: 6.1
Unidad de medida: por mil
Año: 2025
Ciudad: Canelones
Fuente: MSP
B
)
run_daemon 1
check_eq "recorded although the answer could not be sent" recorded "$(state_of "$m_late")"
check_eq "the answer stays queued" queued "$(sql "SELECT o.state FROM outbox o JOIN messages m ON m.id = o.message_id WHERE m.message_id = '$m_late'")"
check_grep "with the reason (no STARTTLS, no plaintext)" "SSL\|TLS" <(sql "SELECT last_error FROM outbox WHERE state = 'queued'")
write_config "$CONF" smtp=yes
sql "UPDATE outbox SET next_attempt = 0 WHERE state = 'queued'"	# skip the retry delay
"$MERCOMAILD" -c "$CONF" --once >>"$W/daemon.log" 2>&1
check_eq "sent on the next cycle" sent "$(sql "SELECT o.state FROM outbox o JOIN messages m ON m.id = o.message_id WHERE m.message_id = '$m_late'")"
mailtool --user $CAN --password pw wait-count INBOX 2 --timeout 30 >/dev/null
check_eq "and delivered once" 2 "$(inbox_of $CAN)"

# --- at most N answers per sender per hour ---------------------------------------------
write_config "$CONF" smtp=yes answers_per_hour=2	# Canelones already had 2 this hour
m_many=$(submit $CAN "[ODM] Tercer indicador" <<'B'
Objetivo: 1
Indicador: Pobreza
Valor: 8
Unidad de medida: %
Año: 2025
Ciudad: Canelones
Fuente: INE
B
)
run_daemon 1
check_eq "over the hourly limit the mail is still recorded" recorded "$(state_of "$m_many")"
check_grep "but not answered, and the reason says so" "too many answers" <(sql "SELECT reason FROM messages WHERE message_id = '$m_many'")
check_eq "no answer queued for it" 0 "$(sql "SELECT count(*) FROM outbox o JOIN messages m ON m.id = o.message_id WHERE m.message_id = '$m_many'")"

# --- require_dkim: only our border server's Authentication-Results count -------------
write_config "$CONF" smtp=yes require_dkim=yes
m_nodkim=$(submit $ROS "[tema de agenda] Sin firma" <<'B'
Órgano: consejo
Título: Sin DKIM
Justificación: Prueba.
Proponente: Rosario
B
)
printf 'Authentication-Results: mx.otro.example; dkim=pass header.d=rosario.example\r\n' > "$W/ar-forged.hdr"
m_forged_ar=$(EXTRA_HEADERS=$W/ar-forged.hdr submit $ROS "[tema de agenda] Firma de otro servidor" <<'B'
Órgano: consejo
Título: Resultado de otro servidor
Justificación: Prueba.
Proponente: Rosario
B
)
printf 'Authentication-Results: mx.red.test; dkim=pass header.d=rosario.example; spf=pass smtp.mailfrom=rosario.example\r\n' > "$W/ar-good.hdr"
m_dkim=$(EXTRA_HEADERS=$W/ar-good.hdr submit $ROS "[tema de agenda] Con firma" <<'B'
Órgano: consejo
Título: Con DKIM
Justificación: Prueba.
Proponente: Rosario
B
)
run_daemon 3
check_eq "require_dkim: a mail without our verdict is rejected" rejected "$(state_of "$m_nodkim")"
check_eq "require_dkim: another server's 'pass' is not believed" rejected "$(state_of "$m_forged_ar")"
check_eq "require_dkim: our server's dkim=pass is accepted" recorded "$(state_of "$m_dkim")"

check_eq "database integrity" ok "$(sql 'PRAGMA integrity_check')"
finish
