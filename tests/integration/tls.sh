#!/bin/bash
# TLS is verified: the harness CA is accepted, an unknown CA (the harness's
# own self-signed one, not configured) or a certificate for another name is
# refused with a message that says which, over imaps:// and over STARTTLS,
# and nothing is fetched; STARTTLS is required on imap:// unless switched
# off. The same three cases for SMTP STARTTLS, against smtptls.py (the
# harness OpenSMTPD cannot serve TLS). Secrets readable by others are refused.
set -u
. "$(dirname "$0")/harness.sh"
. "$(dirname "$0")/common.sh"
start_work
run() { "$MERCOMAILD" -c "$CONF" --once >"$W/out.log" 2>&1; }

mailtool gen 3 --prefix tls >/dev/null

write_config "$CONF" url="imaps://127.0.0.1:$IMAPS_PORT" ca_file=
run; rc=$?
[ $rc -ne 0 ] && ok "imaps with an unknown CA is refused (exit $rc)" || not_ok "imaps with an unknown CA was accepted"
check_grep "the refusal names the certificate problem" "does not verify" "$W/out.log"
check_eq "nothing fetched through an unverified connection" 3 "$(mailtool count INBOX)"

write_config "$CONF" url="imaps://127.0.0.1:$IMAPS_BAD_PORT"
run; rc=$?
[ $rc -ne 0 ] && ok "a certificate from the trusted CA but for another name is refused" || not_ok "wrong certificate accepted"
check_grep "the refusal names the host name mismatch" "does not verify.*name in the certificate does not match" "$W/out.log"

write_config "$CONF" url="imaps://localhost:$IMAPS_PORT"
run
check_eq "imaps verified by host name (localhost) works" 0 $?
check_eq "3 mails fetched over imaps" 3 "$(sql 'SELECT count(*) FROM messages')"

mailtool gen 2 --prefix starttls >/dev/null
write_config "$CONF" url="imap://127.0.0.1:$IMAP_PORT"
run
check_eq "imap:// with STARTTLS verified by IP address works" 0 $?
check_eq "2 more fetched over STARTTLS" 5 "$(sql 'SELECT count(*) FROM messages')"

# STARTTLS: the same three checks as for imaps
mailtool gen 1 --prefix starttls-noca >/dev/null
write_config "$CONF" url="imap://127.0.0.1:$IMAP_PORT" ca_file=
run; rc=$?
[ $rc -ne 0 ] && ok "STARTTLS with an unknown CA is refused (exit $rc)" || not_ok "STARTTLS with an unknown CA was accepted"
check_grep "the refusal names the certificate problem" "does not verify.*issuer" "$W/out.log"
check_eq "nothing fetched through an unverified STARTTLS connection" 5 "$(sql 'SELECT count(*) FROM messages')"
write_config "$CONF" url="imap://127.0.0.1:$IMAP_BAD_PORT"
run; rc=$?
[ $rc -ne 0 ] && ok "STARTTLS to a certificate for another name is refused" || not_ok "STARTTLS: wrong certificate accepted"
check_grep "the refusal names the host name mismatch" "does not verify.*name in the certificate does not match" "$W/out.log"
check_eq "nothing fetched through it" 5 "$(sql 'SELECT count(*) FROM messages')"
write_config "$CONF" url="imap://localhost:$IMAP_PORT"
run
check_eq "STARTTLS verified by host name (localhost) with the CA works" 0 $?
check_eq "the waiting mail fetched over STARTTLS" 6 "$(sql 'SELECT count(*) FROM messages')"

mailtool gen 1 --prefix plain >/dev/null
write_config "$CONF" url="imap://127.0.0.1:$IMAP_PORT" starttls=no ca_file=
run
check_eq "plaintext only when starttls = no" 0 $?
check_eq "and it fetched" 7 "$(sql 'SELECT count(*) FROM messages')"
check_grep "plaintext is logged as a warning" "imap.plaintext" "$W/out.log"

# SMTP: the harness OpenSMTPD cannot serve TLS (Debian 12's 6.8.0p2 on
# OpenSSL 3), so the answers go to smtptls.py, a small STARTTLS server
# with the harness certificates, to check the SMTP client the same way.
echo "# SMTP TLS: the harness OpenSMTPD cannot serve TLS; checked against tests/integration/smtptls.py instead"
"$MERCOMAIL" -c "$CONF" roster import "$MERCOMAIL_TESTDATA/roster/cities.csv" \
	"$MERCOMAIL_TESTDATA/roster/units.csv" >/dev/null
printf 'From: internacionales@rosario.example\r\nTo: %s\r\nSubject: [tema de agenda] TLS\r\nMessage-ID: <smtp-tls-%s@test.example>\r\nDate: %s\r\nContent-Type: text/plain; charset=UTF-8\r\n\r\nÓrgano: consejo\r\nTítulo: TLS\r\nJustificación: Prueba.\r\nProponente: Rosario\r\n' \
	"$HARNESS_USER" "$$" "$(date -R)" > "$W/agenda.eml"
mailtool append INBOX "$W/agenda.eml" >/dev/null
mkdir -p "$W/spool-good" "$W/spool-wrong"
read -r SMTPTLS_PORT SMTPTLS_BAD_PORT <<<"$(_harness_free_ports 2)"
python3 "$TESTS_DIR/smtptls.py" "$SMTPTLS_PORT" "$HARNESS_DIR/tls/server.pem" "$HARNESS_DIR/tls/server.key" \
	"$W/spool-good" 2>"$W/smtptls-good.log" & pid_good=$!
python3 "$TESTS_DIR/smtptls.py" "$SMTPTLS_BAD_PORT" "$HARNESS_DIR/tls/wrong.pem" "$HARNESS_DIR/tls/wrong.key" \
	"$W/spool-wrong" 2>"$W/smtptls-wrong.log" & pid_wrong=$!
trap 'kill $pid_good $pid_wrong 2>/dev/null; harness_stop' EXIT
for p in $SMTPTLS_PORT $SMTPTLS_BAD_PORT; do
	for _ in $(seq 50); do _harness_port_open "$p" && break; sleep 0.1; done
done
# smtp_config PORT [CA]: answers through smtptls.py on PORT, STARTTLS required
smtp_config() {
	write_config "$CONF" url="imap://localhost:$IMAP_PORT" smtp=yes smtp_starttls=yes
	sed -i "s|^url = smtp://127.0.0.1:$SMTP_PORT|url = smtp://127.0.0.1:$1|" "$CONF"
	[ -z "${2:-}" ] || sed -i "/^\[smtp\]/a ca_file = $2" "$CONF"
	# each case starts from the answer queued, whatever the one before did
	sql "UPDATE outbox SET state = 'queued', next_attempt = 0"
}
outbox() { sql "SELECT state || ' ' || coalesce(last_error, '') FROM outbox"; }
smtp_config "$SMTPTLS_PORT"
run
check_eq "the answer is queued" 1 "$(sql 'SELECT count(*) FROM outbox')"
check_grep "SMTP STARTTLS with an unknown CA: the answer stays queued, the error names the certificate" \
	"^queued .*[Cc]ertificate" <(outbox)
echo "#   outbox: $(outbox)"
check_eq "nothing reached the server" 0 "$(ls "$W/spool-good" | wc -l)"
smtp_config "$SMTPTLS_BAD_PORT" "$HARNESS_CA"
run
check_grep "SMTP STARTTLS to a certificate for another name: still queued, the error names the mismatch" \
	"^queued .*wrong.invalid.*does not match\|^queued .*name" <(outbox)
echo "#   outbox: $(outbox)"
check_eq "nothing reached that server" 0 "$(ls "$W/spool-wrong" | wc -l)"
smtp_config "$SMTPTLS_PORT" "$HARNESS_CA"
run
check_eq "SMTP STARTTLS verified with the CA: the answer is sent" "sent " "$(outbox)"
check_eq "and it reached the server, once" 1 "$(ls "$W/spool-good" | wc -l)"
kill $pid_good $pid_wrong 2>/dev/null
trap harness_stop EXIT

# secrets
write_config "$CONF"
chmod 644 "$HARNESS_PASSWORD_FILE"
"$MERCOMAILD" -c "$CONF" -n >"$W/out.log" 2>&1; rc=$?
check_eq "a password file readable by others is refused (EX_CONFIG)" 78 $rc
check_grep "the refusal names the file and the fix" "chmod 600 $HARNESS_PASSWORD_FILE" "$W/out.log"
chmod 600 "$HARNESS_PASSWORD_FILE"
"$MERCOMAILD" -c "$CONF" -n >"$W/out.log" 2>&1
check_eq "-n accepts a good config" 0 $?
check_grep "-n says configuration OK" "configuration OK" "$W/out.log"

# -n checks the forms and the answer templates too
cp -r "$MERCOMAIL_SRCDIR/templates" "$W/templates"
sed -i 's/{{reference}}/{{referencia}}/' "$W/templates/pt/ack.txt"
sed -i "s|^templates = .*|templates = $W/templates|" "$CONF"
"$MERCOMAILD" -c "$CONF" -n >"$W/out.log" 2>&1; rc=$?
check_eq "-n refuses a template that uses an unknown variable (EX_CONFIG)" 78 $rc
check_grep "and names the file and line" "templates/pt/ack.txt:[0-9]*:.*referencia" "$W/out.log"
sed -i "s|^templates = .*|templates = $MERCOMAIL_SRCDIR/templates|" "$CONF"

printf 'colour = blue\n' >> "$CONF"
"$MERCOMAILD" -c "$CONF" -n >"$W/out.log" 2>&1; rc=$?
check_eq "-n refuses an unknown key (EX_CONFIG)" 78 $rc
check_grep "the error has file:line" "$CONF:[0-9]*:.*colour" "$W/out.log"
finish
