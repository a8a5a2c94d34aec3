#!/bin/bash
# The admin CLI end to end: init, roster import (all or nothing, file:line
# errors), roster list, and messages list/show on mail fetched from Dovecot.
set -u
. "$(dirname "$0")/harness.sh"
. "$(dirname "$0")/common.sh"
start_work
write_config "$CONF"
R=$MERCOMAIL_TESTDATA/roster
cli() { "$MERCOMAIL" -c "$CONF" "$@"; }

cli init >"$W/out" 2>&1
check_eq "init exits 0" 0 $?
check_eq "init brings the schema to the last migration" \
	"$(ls "$MERCOMAIL_SRCDIR"/schema/[0-9]*.sql | tail -n 1 | sed 's|.*/0*||; s|_.*||')" \
	"$(sql 'PRAGMA user_version')"
check_eq "the four bodies are seeded" 4 "$(sql "SELECT count(*) FROM units WHERE kind <> 'unit'")"

cli roster import "$R/units.csv" >"$W/out" 2>&1; rc=$?
check_eq "units before cities: a data error (EX_DATAERR)" 65 $rc
check_grep "the error names file, line and city" "units.csv:2: .*unknown city" "$W/out"
check_eq "nothing half-imported" 0 "$(sql "SELECT count(*) FROM units WHERE kind = 'unit'")"

cli roster import "$R/cities.csv" "$R/units.csv" >"$W/out" 2>&1
check_eq "sample roster imports" 0 $?
check_eq "28 cities" 28 "$(sql 'SELECT count(*) FROM cities')"
check_eq "28 contacts" 28 "$(sql 'SELECT count(*) FROM contacts')"
check_eq "17 thematic units" 17 "$(sql "SELECT count(*) FROM units WHERE kind = 'unit'")"
check_eq "Montevideo coordinates Ambiente" Montevideo "$(sql "SELECT c.name FROM unit_members m JOIN units u ON u.id = m.unit_id JOIN cities c ON c.id = m.city_id WHERE u.slug = 'ambiente' AND m.role = 'coordinator'")"
check_eq "São Paulo writes in Portuguese" pt "$(sql "SELECT lang FROM cities WHERE name = 'São Paulo'")"
check_eq "imports are audited" 2 "$(sql "SELECT count(*) FROM audit_log WHERE action = 'roster.import'")"

cli roster import "$R/cities.csv" "$R/units.csv" >"$W/out" 2>&1
check_eq "re-import is idempotent" "28 17" "$(sql 'SELECT count(*) FROM cities') $(sql "SELECT count(*) FROM units WHERE kind = 'unit'")"

{
	echo 'city,country,lang,timezone,role_title,contact_email'
	echo 'Tandil,AR,es,America/Argentina/Buenos_Aires,Intendente,intendencia@tandil.example'
	echo 'Pelotas,BR,fr,America/Sao_Paulo,Prefeito,gabinete@pelotas.example'
	echo 'Salto,UY,es,Europe/Atlantis,Intendente,intendencia salto.example'
} > "$W/bad.csv"
cli roster import "$W/bad.csv" >"$W/out" 2>&1; rc=$?
check_eq "a file with bad rows is refused (EX_DATAERR)" 65 $rc
check_grep "bad language reported at line 3" "bad.csv:3: .*fr" "$W/out"
check_grep "bad time zone reported at line 4" "bad.csv:4: .*Europe/Atlantis" "$W/out"
check_grep "bad address reported at line 4" "bad.csv:4: .*contact_email" "$W/out"
check_eq "the good row of a bad file is not imported" 0 "$(sql "SELECT count(*) FROM cities WHERE name = 'Tandil'")"

cli roster list >"$W/out" 2>&1
check_eq "roster list exits 0" 0 $?
check_grep "roster list shows a city with its contact" "Porto Alegre.*gabinete@portoalegre.example" "$W/out"
check_grep "roster list shows a unit" "ambiente" "$W/out"

mailtool append INBOX "$MERCOMAIL_TESTDATA"/demo/*.eml >/dev/null
"$MERCOMAILD" -c "$CONF" --once >"$W/daemon.log" 2>&1
check_eq "the daemon fetches the sample mails" 0 $?
cli messages list >"$W/out" 2>&1
check_eq "messages list shows every mail" "$(ls "$MERCOMAIL_TESTDATA"/demo/*.eml | wc -l)" "$(grep -c . "$W/out")"
check_grep "messages list shows the subject" "Consejo de diciembre" "$W/out"
check_grep "messages list decodes RFC 2047 subjects" "Relatório: Cultura" "$W/out"
id=$(sql "SELECT id FROM messages WHERE message_id = '<demo-relatorio-cultura-2026@portoalegre.example>'")
cli messages show "$id" >"$W/out" 2>&1
check_grep "messages show gives the Message-ID" "demo-relatorio-cultura-2026@portoalegre.example" "$W/out"
cli messages show "$id" --raw >"$W/raw" 2>&1
# the raw bytes follow the metadata and a blank line, exactly as fetched
# (IMAP APPEND turned the file's LF into CRLF, so compare without CR)
sed '1,/^$/d' "$W/raw" > "$W/raw.eml"
check_grep "messages show gives the SHA-256 of the raw bytes" "$(sha256sum "$W/raw.eml" | cut -c1-64)" "$W/out"
tr -d '\r' < "$W/raw.eml" > "$W/raw.lf"
cmp -s "$W/raw.lf" "$MERCOMAIL_TESTDATA/demo/02-relatorio-portoalegre.eml" && ok "messages show --raw gives the bytes as received" || not_ok "raw bytes differ"
cli messages show 99999 >"$W/out" 2>&1; rc=$?
[ $rc -ne 0 ] && ok "an unknown message id is an error ($rc)" || not_ok "unknown id accepted"
finish
