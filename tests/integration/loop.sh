#!/bin/bash
# Proves the harness itself: mail sent through the private OpenSMTPD reaches
# the private Dovecot, TLS on the IMAPS ports verifies (or fails) as the
# other tests assume, and the servers can be restarted without losing mail.
# Automake test: exit 0 pass, 1 fail, 77 skip, 99 harness error.
set -eu

# shellcheck source=tests/integration/harness.sh
. "$(dirname "$0")/harness.sh"
harness_skip_unless_ready

passed=0
failed=0
ok() { passed=$((passed + 1)); echo "ok - $*"; }
not_ok() { failed=$((failed + 1)); echo "not ok - $*"; }
# check DESCRIPTION CMD...: one test line per check, going on after a failure.
check() {
    local what=$1
    shift
    if "$@" >/dev/null; then ok "$what"; else not_ok "$what"; fi
}
fails() { ! "$@"; }

started=$SECONDS
harness_start
ok "servers up (imap $IMAP_PORT, imaps $IMAPS_PORT, imaps-bad $IMAPS_BAD_PORT, smtp $SMTP_PORT)"

# --- mail through OpenSMTPD into Dovecot --------------------------------------
mkdir "$HARNESS_DIR/out"
mail_file() { # N RCPT
    printf '%s\n' "From: Prueba <prueba@example.test>" "To: $2" \
        "Subject: loop $1" "Message-ID: <loop-$1-$$@example.test>" \
        "Date: $(date -R)" "" "Cuerpo $1." >"$HARNESS_DIR/out/$1.eml"
}
for n in 1 2 3; do mail_file "$n" "$HARNESS_USER"; done
mail_file 4 "secretaria+rsvp-abc@red.test"

check "3 mails accepted over one SMTP session" \
    mailtool send --from prueba@example.test --to "$HARNESS_USER" \
    "$HARNESS_DIR/out/1.eml" "$HARNESS_DIR/out/2.eml" "$HARNESS_DIR/out/3.eml"
check "sub-addressed mail accepted" \
    mailtool send --from prueba@example.test --to secretaria+rsvp-abc@red.test \
    "$HARNESS_DIR/out/4.eml"
check "all 4 mails delivered to INBOX" \
    mailtool wait-count INBOX 4 --timeout 20

listing=$(mailtool list INBOX) || true
check "INBOX lists the 4 Message-IDs" \
    test "$(grep -c "<loop-[1-4]-$$@example.test>" <<<"$listing")" = 4

uid=$(awk -F'\t' '$3 == "loop 4" { print $1 }' <<<"$listing")
tagged() { mailtool fetch INBOX "$uid" | grep -qi '^Delivered-To: secretaria+rsvp-abc@red.test'; }
check "sub-address kept in Delivered-To" tagged

check "unknown recipient refused by SMTP" \
    fails mailtool send --from prueba@example.test --to nadie@red.test \
    "$HARNESS_DIR/out/1.eml" 2>/dev/null

caps=$(mailtool capability) || true
check "server offers IDLE and MOVE" \
    test "$(grep -cxE 'IDLE|MOVE' <<<"$caps")" = 2

# --- TLS ----------------------------------------------------------------------
check "IMAPS verifies with the test CA" \
    mailtool --tls imaps --port "$IMAPS_PORT" count INBOX
check "STARTTLS on the IMAP port verifies with the test CA" \
    mailtool --tls starttls --port "$IMAP_PORT" count INBOX
bad_cert() {
    local rc=0
    mailtool --tls imaps --port "$IMAPS_BAD_PORT" count INBOX 2>"$HARNESS_DIR/bad.err" || rc=$?
    [ "$rc" = 3 ] && grep -q 'certificate verification failed' "$HARNESS_DIR/bad.err"
}
check "wrong-certificate port fails verification" bad_cert
check "IMAPS without the test CA fails verification" \
    test "$(mailtool --tls imaps --cafile '' --port "$IMAPS_PORT" count INBOX 2>/dev/null; echo $?)" = 3

# --- users added after start --------------------------------------------------
harness_add_user invitado@otra.test clave
check "user added after start receives mail" \
    mailtool send --from prueba@example.test --to invitado@otra.test "$HARNESS_DIR/out/1.eml"
check "added user logs in and sees it" \
    mailtool --user invitado@otra.test --password clave wait-count INBOX 1

# Dovecot's per-IP auth penalty would slow every later login down by seconds.
no_penalty() {
    local t0
    ! mailtool --password wrong count INBOX 2>/dev/null || return 1
    ! mailtool --password wrong count INBOX 2>/dev/null || return 1
    t0=${EPOCHREALTIME/./}
    mailtool count INBOX && [ $((${EPOCHREALTIME/./} - t0)) -lt 2000000 ]
}
check "wrong passwords refused, later logins not delayed" no_penalty

# --- restarts -----------------------------------------------------------------
harness_stop_dovecot
check "IMAP refused while Dovecot is down" \
    fails mailtool count INBOX 2>/dev/null
mail_file 5 "$HARNESS_USER"
check "SMTP still accepts (queues) while Dovecot is down" \
    mailtool send --from prueba@example.test --to "$HARNESS_USER" "$HARNESS_DIR/out/5.eml"
harness_start_dovecot
check "mails still there after a Dovecot restart" \
    test "$(mailtool count INBOX)" = 4
harness_smtpd_flush
check "queued mail delivered after harness_smtpd_flush" \
    mailtool wait-count INBOX 5 --timeout 20

harness_stop_smtpd
check "SMTP refused while OpenSMTPD is down" \
    fails mailtool send --from prueba@example.test --to "$HARNESS_USER" "$HARNESS_DIR/out/1.eml" 2>/dev/null
harness_start_smtpd
mail_file 6 "$HARNESS_USER"
check "mail flows again after an OpenSMTPD restart" \
    mailtool send --from prueba@example.test --to "$HARNESS_USER" "$HARNESS_DIR/out/6.eml"
check "sixth mail delivered" mailtool wait-count INBOX 6 --timeout 20

# --- the helper commands the other tests rely on ------------------------------
helpers() {
    mailtool gen 3 --folder "Confirmación" --size 4000 --prefix g >/dev/null &&
        test "$(mailtool count "Confirmación")" = 3 &&
        mailtool folders | grep -qx "Confirmación" &&
        test "$(mailtool fetch-all "Confirmación" "$HARNESS_DIR/all")" = 3 &&
        test "$(find "$HARNESS_DIR/all" -name '*.eml' -size +3k | wc -l)" = 3 &&
        mailtool delete-folder "Confirmación" &&
        test "$(mailtool count "Confirmación")" = 0
}
check "gen/count/folders/fetch-all/delete-folder on a non-ASCII folder" helpers

[ "$failed" = 0 ] || harness_logs
echo "# loop.sh took $((SECONDS - started))s"
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
