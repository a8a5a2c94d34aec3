#!/bin/bash
# TLS is verified: the harness CA is accepted, an unknown CA or a certificate
# for another name is refused (and nothing is fetched), STARTTLS is required
# on imap:// unless switched off, and secrets readable by others are refused.
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

mailtool gen 1 --prefix plain >/dev/null
write_config "$CONF" url="imap://127.0.0.1:$IMAP_PORT" starttls=no ca_file=
run
check_eq "plaintext only when starttls = no" 0 $?
check_grep "plaintext is logged as a warning" "imap.plaintext" "$W/out.log"

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
