# Shared by the integration tests: where things are, a config writer, and
# small assertions that count passes and failures. Source after harness.sh.

TESTS_DIR=$(cd "$(dirname "$0")" && pwd)
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

finish() {
	echo "$PASSED passed, $FAILED failed"
	[ "$FAILED" -eq 0 ]
}

sql() { sqlite3 -batch -noheader "$DB" "$@"; }

# write_config FILE [KEY=VALUE...]: a config for the harness Dovecot.
# Keys: url, inbox, ca_file, starttls, max_message_size, database, idle, poll_interval
write_config() {
	local file=$1; shift
	local url="imaps://127.0.0.1:$IMAPS_PORT" inbox=INBOX ca="$HARNESS_CA"
	local starttls="" max=25M db="$DB" idle=yes poll=60 kv
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
		echo "[store]"
		echo "database = $db"
		echo "[log]"
		echo "level = info"
	} > "$file"
}
