# Shared by the integration tests: where things are, a config writer, and
# small assertions that count passes and failures. Source after harness.sh.

TESTS_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
: "${MERCOMAIL_SRCDIR:=$(cd "$TESTS_DIR/../.." && pwd)}"
: "${MERCOMAIL_BUILDDIR:=$(cd "$TESTS_DIR/../.." && pwd)}"
MERCOMAILD="$MERCOMAIL_BUILDDIR/mercomaild"
MERCOMAIL="$MERCOMAIL_BUILDDIR/mercomail"
: "${MERCOMAIL_TESTDATA:=$TESTS_DIR/../data}"
PASSED=0
FAILED=0
for prog in "$MERCOMAILD" "$MERCOMAIL"; do
	if [ ! -x "$prog" ]; then
		echo "$prog is not built (set MERCOMAIL_BUILDDIR, or run through make check)" >&2
		exit 99	# a hard error for automake, not a failure of the test
	fi
done

ok() { PASSED=$((PASSED + 1)); echo "ok - $*"; }
not_ok() { FAILED=$((FAILED + 1)); echo "not ok - $*"; }

# check_eq WHAT EXPECTED ACTUAL
check_eq() {
	if [ "$2" = "$3" ]; then ok "$1"; else not_ok "$1: expected '$2', got '$3'"; fi
}

# check_grep WHAT PATTERN FILE
check_grep() {
	if grep -q -- "$2" "$3"; then ok "$1"; else not_ok "$1: no '$2' in $3:"; sed 's/^/    /' "$3"; fi
}

# The secret of the signed reply addresses, made once per harness run.
token_key() {
	local f=$HARNESS_DIR/token.key
	if [ ! -f "$f" ]; then
		(umask 077; head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' > "$f")
	fi
	echo "$f"
}

# Start the servers (or skip when they are not installed) and make the
# test's work directory: W, with DB and CONF paths in it.
start_work() {
	harness_skip_unless_ready
	harness_start
	W=$HARNESS_DIR/work
	mkdir -p "$W"
	DB=$W/mercomail.db
	CONF=$W/mercomail.conf
}

finish() {
	echo "$PASSED passed, $FAILED failed"
	[ "$FAILED" -eq 0 ]
}

sql() { sqlite3 -batch -noheader "$DB" "$@"; }

# write_config FILE [KEY=VALUE...]: a config for the harness Dovecot (and,
# with smtp=yes, for answering through the harness OpenSMTPD).
# Keys: url, inbox, ca_file, starttls, max_message_size, database, idle,
# poll_interval, smtp, answers_per_hour, require_dkim
write_config() {
	local file=$1; shift
	local url="imaps://127.0.0.1:$IMAPS_PORT" inbox=INBOX ca="$HARNESS_CA"
	local starttls="" max=25M db="$DB" idle=yes poll=60 smtp=no rate=10 dkim=no
	local smtp_starttls=no kv
	for kv in "$@"; do
		case $kv in
		url=*) url=${kv#url=} ;;
		inbox=*) inbox=${kv#inbox=} ;;
		ca_file=*) ca=${kv#ca_file=} ;;
		starttls=*) starttls=${kv#starttls=} ;;
		max_message_size=*) max=${kv#max_message_size=} ;;
		database=*) db=${kv#database=} ;;
		idle=*) idle=${kv#idle=} ;;
		poll_interval=*) poll=${kv#poll_interval=} ;;
		smtp=*) smtp=${kv#smtp=} ;;
		smtp_starttls=*) smtp_starttls=${kv#smtp_starttls=} ;;
		answers_per_hour=*) rate=${kv#answers_per_hour=} ;;
		require_dkim=*) dkim=${kv#require_dkim=} ;;
		esac
	done
	{
		echo "[imap]"
		echo "url = $url"
		echo "user = $HARNESS_USER"
		echo "password_file = $HARNESS_PASSWORD_FILE"
		[ -n "$ca" ] && echo "ca_file = $ca"
		[ -n "$starttls" ] && echo "starttls = $starttls"
		echo "inbox = $inbox"
		echo "processed = Processed"
		echo "rejected = Rejected"
		echo "max_message_size = $max"
		echo "idle = $idle"
		echo "poll_interval = $poll"
		echo "timeout = 10"
		if [ "$smtp" = yes ]; then
			echo "[smtp]"
			echo "url = smtp://127.0.0.1:$SMTP_PORT"
			# the harness OpenSMTPD cannot do TLS (see harness.sh)
			echo "starttls = ${smtp_starttls:-no}"
			echo "from = $HARNESS_USER"
			echo "timeout = 10"
		fi
		echo "[mail]"
		echo "name = Secretaría Ejecutiva de Mercociudades"
		echo "templates = $MERCOMAIL_SRCDIR/templates"
		echo "token_key_file = $(token_key)"
		echo "answers_per_hour = $rate"
		if [ "$dkim" = yes ]; then
			echo "require_dkim = yes"
			echo "authserv_id = mx.red.test"
		fi
		echo "[store]"
		echo "database = $db"
		echo "[log]"
		echo "level = info"
		# the tests run as root (OpenSMTPD needs it)
		echo "[daemon]"
		echo "allow_root = yes"
	} > "$file"
}
