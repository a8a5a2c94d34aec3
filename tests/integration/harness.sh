# shellcheck shell=bash
# Integration-test harness, SOURCED by tests/integration/*.sh (bash).
#
# Runs a private Dovecot (IMAP, IMAPS, LMTP) and OpenSMTPD on loopback high
# ports, with throw-away TLS certificates made at test time, so the daemon is
# tested against real servers and real TLS without touching the system ones.
#
#   harness_skip_unless_ready   exit 77 unless root and the servers exist
#   harness_start               start everything; trap harness_stop on EXIT
#   harness_add_user ADDR PW    mailbox + SMTP recipient (before or after start)
#   harness_add_gone ADDR       accepted by SMTP, then bounced with a DSN (after start)
#   harness_add_alias ADDR TO   mail to ADDR (+tag) lands in TO's mailbox (after start)
#   harness_stop_dovecot / harness_start_dovecot   IMAP server down / up again
#   harness_stop_smtpd   / harness_start_smtpd     SMTP server down / up again
#   harness_smtpd_flush         retry queued mail now (after Dovecot was down)
#   harness_logs                print the server logs (for failure reports)
#   harness_stop                stop all, remove the temp dir (HARNESS_KEEP=1 keeps it)
#   mailtool ARGS...            tests/integration/mailtool.py with the exports below
#
# Settings read by harness_start: HARNESS_KEEP=1 (keep the temp dir),
# HARNESS_DEBUG=1 (Dovecot auth/mail debug log), HARNESS_IMAP_SEPARATOR
# (hierarchy separator; default Dovecot's maildir one, "."), HARNESS_WAIT
# (seconds to wait for a server, default 20).
#
# Exports after harness_start: HARNESS_DIR IMAP_PORT IMAPS_PORT IMAPS_BAD_PORT
# IMAP_BAD_PORT (the wrong certificate, over IMAPS and over STARTTLS)
# SMTP_PORT HARNESS_HOST HARNESS_CA HARNESS_USER HARNESS_PASSWORD
# HARNESS_PASSWORD_FILE HARNESS_SRCDIR.
#
# Root is required: OpenSMTPD refuses to run otherwise, and Dovecot needs it
# to switch to the mail user.  As non-root, harness_skip_unless_ready skips.
#
# OpenSMTPD can run only once per machine: its control socket (/run/smtpd.sock)
# and queue (/var/spool/smtpd) are compiled in, and a second `smtpd -d` dies
# with "control socket already listening".  So harness_start takes an flock
# that harness_stop releases; parallel tests (make -j check) wait their turn.
#
# A test that sets its own EXIT trap must call harness_stop from it.

HARNESS_SRCDIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
HARNESS_HOST=127.0.0.1
HARNESS_USER=secretaria@red.test
HARNESS_PASSWORD=secret
export HARNESS_SRCDIR HARNESS_HOST HARNESS_USER HARNESS_PASSWORD

# Global on purpose (not under $TMPDIR): the resource it guards is global.
HARNESS_LOCK=${HARNESS_LOCK:-/tmp/mercomail-harness.lock}
HARNESS_LOCK_TIMEOUT=${HARNESS_LOCK_TIMEOUT:-1800}
HARNESS_WAIT=${HARNESS_WAIT:-20}
_HARNESS_SMTPD_SPOOL=/var/spool/smtpd
_HARNESS_SMTPD_SOCK=/run/smtpd.sock
_HARNESS_PENDING_USERS=()
_HARNESS_SMTPD_PID=
_HARNESS_LOCK_FD=

_harness_say() { echo "# harness: $*" >&2; }

# Exit 99 is automake's "hard error": the harness broke, not the code tested.
_harness_die() {
    echo "# harness: ERROR: $*" >&2
    exit 99
}

harness_skip_unless_ready() {
    local missing=() b
    for b in dovecot smtpd smtpctl openssl python3 flock; do
        command -v "$b" >/dev/null 2>&1 || missing+=("$b")
    done
    [ -x /usr/lib/dovecot/lmtp ] || missing+=("/usr/lib/dovecot/lmtp (dovecot-lmtpd)")
    [ -x /usr/lib/dovecot/imap ] || missing+=("/usr/lib/dovecot/imap (dovecot-imapd)")
    if [ ${#missing[@]} -gt 0 ]; then
        echo "SKIP: missing ${missing[*]} (run scripts/deps.sh as root)"
        exit 77
    fi
    if [ "$(id -u)" != 0 ]; then
        echo "SKIP: the integration harness must run as root (OpenSMTPD needs it)"
        exit 77
    fi
}

# Debian's python3 when there: a pyenv shim earlier in PATH costs 0.1 s a call.
if [ -z "${HARNESS_PYTHON:-}" ]; then
    HARNESS_PYTHON=python3
    [ ! -x /usr/bin/python3 ] || HARNESS_PYTHON=/usr/bin/python3
fi
mailtool() { "$HARNESS_PYTHON" "$HARNESS_SRCDIR/mailtool.py" "$@"; }

harness_logs() {
    local f
    for f in "$HARNESS_DIR"/dovecot-*.log "$HARNESS_DIR"/smtpd.log; do
        [ -f "$f" ] || continue
        echo "# ---- $f (last 40 lines)" >&2
        tail -n 40 "$f" | sed 's/^/#   /' >&2
    done
}

# --- lock ----------------------------------------------------------------------

_harness_lock() {
    exec {_HARNESS_LOCK_FD}>>"$HARNESS_LOCK"
    if ! flock -n "$_HARNESS_LOCK_FD"; then
        _harness_say "waiting for $HARNESS_LOCK (another harness is running)"
        local t0=$SECONDS
        flock -w "$HARNESS_LOCK_TIMEOUT" "$_HARNESS_LOCK_FD" ||
            _harness_die "still locked after ${HARNESS_LOCK_TIMEOUT}s: $HARNESS_LOCK"
        _harness_say "got the lock after $((SECONDS - t0))s"
    fi
}

_harness_unlock() {
    [ -n "$_HARNESS_LOCK_FD" ] || return 0
    exec {_HARNESS_LOCK_FD}>&-
    _HARNESS_LOCK_FD=
}

# Run in a subshell: "( _harness_spawn CMD... ) &" so that $! is CMD's pid.
# Servers must not inherit the lock fd: one outliving a crashed test would
# keep every later test waiting.
_harness_spawn() {
    [ -z "$_HARNESS_LOCK_FD" ] || exec {_HARNESS_LOCK_FD}>&-
    exec "$@"
}

# --- helpers ---------------------------------------------------------------------

# Ports below the kernel's ephemeral range: a client retrying against a
# stopped server can then never be handed the server's port as its own source
# port (a TCP self-connect), and nothing else grabs it while a server is down.
_harness_free_ports() {
    "$HARNESS_PYTHON" - "$1" <<'EOF'
import random, socket, sys
lo = int(open("/proc/sys/net/ipv4/ip_local_port_range").read().split()[0])
want, got, held = int(sys.argv[1]), [], []
for port in random.sample(range(20000, min(lo, 32768)), 400):
    s = socket.socket()
    try:
        s.bind(("127.0.0.1", port))
    except OSError:
        s.close()
        continue
    held.append(s)
    got.append(port)
    if len(got) == want:
        break
print(" ".join(map(str, got)))
EOF
}

_harness_port_open() {
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# Wait until a check command succeeds; on timeout show the logs and fail.
# With --soft only warn: used while stopping, where dying would cut cleanup.
_harness_wait() {
    local soft=0 what deadline=$((SECONDS + HARNESS_WAIT))
    [ "$1" != --soft ] || { soft=1; shift; }
    what=$1
    shift
    until "$@"; do
        if [ "$SECONDS" -ge "$deadline" ]; then
            harness_logs
            [ "$soft" = 1 ] || _harness_die "timed out after ${HARNESS_WAIT}s waiting for $what"
            _harness_say "WARNING: timed out waiting for $what"
            return 1
        fi
        sleep 0.05
    done
}

# A zombie counts as gone: Dovecot's daemonized master is reaped by init,
# which on some machines (this sandbox's) does so only after a while.
_harness_pid_gone() {
    local stat
    stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 0
    stat=${stat##*) }
    [ "${stat%% *}" = Z ]
}

# TERM, bounded wait, then KILL: a stuck server must not hang the suite.
_harness_kill_wait() {
    local pid=$1 i
    kill "$pid" 2>/dev/null || return 0
    for i in $(seq 200); do
        _harness_pid_gone "$pid" && return 0
        sleep 0.05
    done
    _harness_say "pid $pid ignored TERM for 10s, killing it"
    kill -9 "$pid" 2>/dev/null
    sleep 0.2
}

# --- certificates -----------------------------------------------------------------

# Made per run so no key is ever committed.  EC keys because they are instant.
_harness_certs() {
    local d=$HARNESS_DIR/tls
    mkdir -m 0700 "$d"
    (
        cd "$d" || exit 1
        openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
            -keyout ca.key -out ca.pem -days 30 -subj "/CN=mercomail test CA" \
            -addext "basicConstraints=critical,CA:TRUE" \
            -addext "keyUsage=critical,keyCertSign,cRLSign" &&
        openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
            -keyout server.key -out server.csr -subj "/CN=localhost" &&
        printf '%s\n' "subjectAltName=DNS:localhost,IP:127.0.0.1" \
            "basicConstraints=CA:FALSE" "extendedKeyUsage=serverAuth" \
            "keyUsage=critical,digitalSignature" > server.ext &&
        openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key \
            -set_serial "0x$(openssl rand -hex 8)" -days 30 \
            -extfile server.ext -out server.pem &&
        openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
            -keyout wrong.key -out wrong.csr -subj "/CN=wrong.invalid" &&
        printf '%s\n' "subjectAltName=DNS:wrong.invalid" \
            "basicConstraints=CA:FALSE" "extendedKeyUsage=serverAuth" > wrong.ext &&
        # signed by the test CA: only the name is wrong, so a client that
        # trusts the CA must still refuse it on the host name check
        openssl x509 -req -in wrong.csr -CA ca.pem -CAkey ca.key \
            -set_serial "0x$(openssl rand -hex 8)" -days 30 \
            -extfile wrong.ext -out wrong.pem
    ) >"$HARNESS_DIR/openssl.log" 2>&1 ||
        { cat "$HARNESS_DIR/openssl.log" >&2; _harness_die "openssl failed"; }
    HARNESS_CA=$d/ca.pem
    export HARNESS_CA
}

# --- users --------------------------------------------------------------------------

harness_add_user() {
    local addr=${1:?address} pw=${2:?password}
    case "$addr$pw" in
        *:* | *[[:space:]]*) _harness_die "no ':' or spaces in users: $addr" ;;
    esac
    if [ -z "${HARNESS_DIR:-}" ]; then
        _HARNESS_PENDING_USERS+=("$addr" "$pw")   # applied by harness_start
        return 0
    fi
    # Dovecot re-reads a changed passwd-file by itself; OpenSMTPD needs telling.
    printf '%s:{PLAIN}%s\n' "$addr" "$pw" >>"$HARNESS_DIR/users"
    printf '%s mail\n' "$addr" >>"$HARNESS_DIR/vusers"
    if [ -n "$_HARNESS_SMTPD_PID" ]; then
        smtpctl update table vusers >/dev/null ||
            _harness_die "smtpctl update table vusers failed"
    fi
    _harness_wait_user "$addr" "$pw"
}

# harness_add_gone ADDR: the server takes mail for ADDR, then finds that the
# mailbox is gone and bounces it (a DSN to the envelope sender).
harness_add_gone() {
    local addr=${1:?address}
    printf '%s\n' "$addr" >>"$HARNESS_DIR/gone"
    printf '%s mail\n' "$addr" >>"$HARNESS_DIR/gonev"
    smtpctl update table gone >/dev/null && smtpctl update table gonev >/dev/null ||
        _harness_die "smtpctl update table gone failed"
}

# harness_add_alias ADDR TARGET: mail to ADDR (and ADDR+tag) goes to the
# mailbox of TARGET, with ADDR in its Delivered-To (after harness_start).
harness_add_alias() {
    local addr=${1:?address} target=${2:?target}
    printf '%s %s\n' "$addr" "$target" >>"$HARNESS_DIR/vusers"
    smtpctl update table vusers >/dev/null || _harness_die "smtpctl update table vusers failed"
}

# Dovecot re-reads the passwd-file at most once a second, so a user added
# just now may still be refused: wait until each running Dovecot knows it.
_harness_wait_user() {
    local tag
    for tag in imap bad; do
        [ -f "$HARNESS_DIR/run-$tag/master.pid" ] || continue
        _harness_wait "dovecot ($tag) to know user $1" \
            _harness_auth_ok "$tag" "$1" "$2"
    done
}

_harness_auth_ok() {
    doveadm -c "$HARNESS_DIR/dovecot-$1.conf" auth test "$2" "$3" >/dev/null 2>&1
}

# --- Dovecot ---------------------------------------------------------------------------

# Two instances: "imap" is the real one (IMAP+STARTTLS, IMAPS, LMTP); "bad"
# serves the wrong certificate on its own port over the same mailboxes.  One
# instance cannot do it: Dovecot picks certificates by local IP or SNI, not by
# port, and clients reaching 127.0.0.1 by address send no SNI.
_harness_dovecot_conf() {
    local tag=$1 cert=$2 imap_port=$3 imaps_port=$4 protocols=$5 debug=no
    [ "${HARNESS_DEBUG:-0}" = 0 ] || debug=yes
    cat <<EOF
# generated by harness.sh
instance_name = mercomail-$tag
base_dir = $HARNESS_DIR/run-$tag
state_dir = $HARNESS_DIR/state-$tag
log_path = $HARNESS_DIR/dovecot-$tag.log
listen = 127.0.0.1
protocols = $protocols
disable_plaintext_auth = no
auth_mechanisms = plain login
# Tests try wrong passwords on purpose; do not make them wait.
auth_failure_delay = 0
auth_debug = $debug
mail_debug = $debug
first_valid_uid = 1
mail_location = maildir:~/Maildir
recipient_delimiter = +
# what a test wants announced, if anything (nomove.sh: no MOVE)
${HARNESS_IMAP_CAPABILITY:+imap_capability = $HARNESS_IMAP_CAPABILITY}
# The daemon and the test tools connect side by side; the default of 10 is tight.
mail_max_userip_connections = 200
ssl = yes
ssl_cert = <$HARNESS_DIR/tls/$cert.pem
ssl_key = <$HARNESS_DIR/tls/$cert.key
ssl_min_protocol = TLSv1.2
passdb {
  driver = passwd-file
  args = scheme=PLAIN $HARNESS_DIR/users
}
userdb {
  driver = static
  args = uid=mail gid=mail home=$HARNESS_DIR/mail/%u
}
service imap-login {
  inet_listener imap {
    port = $imap_port
  }
  inet_listener imaps {
    port = $imaps_port
    ssl = yes
  }
}
service lmtp {
  unix_listener lmtp {
    mode = 0666
  }
}
# After one failed login Dovecot delays every later login from the same IP
# (2 s, 4 s, ... 15 s); tests fail logins on purpose, all from 127.0.0.1.
service anvil {
  unix_listener anvil-auth-penalty {
    mode = 0
  }
}
EOF
    # Default: Dovecot's own maildir separator "."; "/" is the other common one.
    if [ -n "${HARNESS_IMAP_SEPARATOR:-}" ]; then
        printf 'namespace inbox {\n  inbox = yes\n  separator = %s\n}\n' \
            "$HARNESS_IMAP_SEPARATOR"
    fi
}

_harness_dovecot_up() {
    local tag=$1 port
    shift
    [ -f "$HARNESS_DIR/run-$tag/master.pid" ] || return 1
    for port in "$@"; do
        _harness_port_open "$port" || return 1
    done
}

_harness_dovecot_start_one() {
    local tag=$1
    shift
    (_harness_spawn dovecot -c "$HARNESS_DIR/dovecot-$tag.conf") \
        >>"$HARNESS_DIR/dovecot-$tag.log" 2>&1 || {
        harness_logs
        _harness_die "dovecot ($tag) did not start"
    }
    _harness_wait "dovecot ($tag) on ports $*" _harness_dovecot_up "$tag" "$@"
}

harness_start_dovecot() {
    _harness_dovecot_start_one imap "$IMAP_PORT" "$IMAPS_PORT"
    _harness_wait "the LMTP socket" test -S "$HARNESS_DIR/run-imap/lmtp"
    _harness_dovecot_start_one bad "$IMAP_BAD_PORT" "$IMAPS_BAD_PORT"
}

_harness_dovecot_pids() {
    local tag
    for tag in imap bad; do
        cat "$HARNESS_DIR/run-$tag/master.pid" 2>/dev/null || true
    done
}

# Like a crash: the processes serving open connections die at once (SIGKILL),
# so a client sees its connection drop in the middle of a command; then the
# masters are stopped as usual.
harness_crash_dovecot() {
    local pid
    for pid in $(_harness_dovecot_pids); do
        pkill -KILL -P "$pid" 2>/dev/null || true
    done
    harness_stop_dovecot
}

harness_stop_dovecot() {
    local pids pid
    mapfile -t pids < <(_harness_dovecot_pids)
    # A Dovecot master takes about 1 s to exit after TERM: signal both first.
    [ ${#pids[@]} = 0 ] || kill "${pids[@]}" 2>/dev/null || true
    for pid in "${pids[@]}"; do
        _harness_kill_wait "$pid"
    done
    rm -f "$HARNESS_DIR"/run-*/master.pid
    # Login processes can outlive the master by a moment; wait for the ports
    # to close so a test sees the server really down.
    _harness_wait --soft "IMAP ports to close" _harness_ports_closed \
        "$IMAP_PORT" "$IMAPS_PORT" "$IMAPS_BAD_PORT" "$IMAP_BAD_PORT"
}

_harness_ports_closed() {
    local port
    for port in "$@"; do
        ! _harness_port_open "$port" || return 1
    done
}

# --- OpenSMTPD -------------------------------------------------------------------------------

_harness_smtpd_conf() {
    cat <<EOF
# generated by harness.sh
table vusers file:$HARNESS_DIR/vusers
# No STARTTLS here: Debian 12's OpenSMTPD 6.8.0p2 with OpenSSL 3 fails every
# server-side TLS handshake ("SSL routines::EVP lib", seen here; a known
# upstream incompatibility), so the daemon talks to it with starttls = no.
listen on 127.0.0.1 port $SMTP_PORT
# Tests send hundreds of mails over one session; the default allows 100.
smtp limit max-mails 1000
action "harness" lmtp "$HARNESS_DIR/run-imap/lmtp" rcpt-to virtual <vusers>
# Addresses accepted and then refused for good (harness_add_gone): OpenSMTPD
# sends a real delivery status notification to the envelope sender. Two
# tables of the same addresses: a match needs a list, virtual a mapping.
table gone file:$HARNESS_DIR/gone
table gonev file:$HARNESS_DIR/gonev
action "gone" mda "/bin/sh -c 'cat >/dev/null; echo 550 5.1.1 mailbox no longer exists >&2; exit 67'" virtual <gonev>
match from any for rcpt-to <gone> action "gone"
match from any for any action "harness"
EOF
}

# A queue left by an earlier run (crashed test, old system smtpd) would be
# delivered into this run's mailboxes.  Only called with the lock held and no
# smtpd running, so nothing else owns the spool.
_harness_purge_smtpd_queue() {
    local d
    for d in incoming queue temporary purge corrupt offline; do
        [ -d "$_HARNESS_SMTPD_SPOOL/$d" ] || continue
        find "$_HARNESS_SMTPD_SPOOL/$d" -mindepth 1 -delete
    done
}

# smtpd pid + config of the current harness, so the next run can end a
# server that a killed test left behind (and only that one).
_harness_smtpd_pidfile() { echo "$HARNESS_LOCK.smtpd"; }

_harness_reap_stale_smtpd() {
    local pidfile pid conf
    pidfile=$(_harness_smtpd_pidfile)
    [ -f "$pidfile" ] || return 0
    read -r pid conf <"$pidfile" || true
    if [ -n "${pid:-}" ] && [ -n "${conf:-}" ] &&
        tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "-f $conf"; then
        _harness_say "stopping smtpd $pid left by an earlier run"
        _harness_kill_wait "$pid"
    fi
    rm -f "$pidfile"
}

_harness_smtpd_sock_busy() {
    [ -S "$_HARNESS_SMTPD_SOCK" ] && smtpctl show status >/dev/null 2>&1
}

harness_start_smtpd() {
    _harness_smtpd_sock_busy &&
        _harness_die "another smtpd owns $_HARNESS_SMTPD_SOCK (system-wide?" \
            "stop it: only one OpenSMTPD can run per machine)"
    (_harness_spawn smtpd -d -f "$HARNESS_DIR/smtpd.conf") \
        >>"$HARNESS_DIR/smtpd.log" 2>&1 &
    _HARNESS_SMTPD_PID=$!
    echo "$_HARNESS_SMTPD_PID $HARNESS_DIR/smtpd.conf" >"$(_harness_smtpd_pidfile)"
    _harness_wait "smtpd on port $SMTP_PORT" _harness_smtpd_up
}

_harness_smtpd_up() {
    kill -0 "$_HARNESS_SMTPD_PID" 2>/dev/null || {
        harness_logs
        _harness_die "smtpd exited at startup"
    }
    _harness_port_open "$SMTP_PORT"
}

harness_stop_smtpd() {
    [ -n "$_HARNESS_SMTPD_PID" ] || return 0
    _harness_kill_wait "$_HARNESS_SMTPD_PID"
    wait "$_HARNESS_SMTPD_PID" 2>/dev/null || true   # reap; its status is no news
    _HARNESS_SMTPD_PID=
    rm -f "$(_harness_smtpd_pidfile)"
    _harness_wait --soft "the SMTP port to close" _harness_ports_closed "$SMTP_PORT"
}

# Mail that met a stopped Dovecot waits for OpenSMTPD's retry timer (minutes);
# tests that restart Dovecot call this to deliver it now.
harness_smtpd_flush() {
    smtpctl schedule all >/dev/null
}

# --- whole harness ------------------------------------------------------------------------------

_harness_base() {
    local base=${TMPDIR:-/tmp}
    # Unix socket paths are limited to 108 bytes; keep base_dir short.
    [ ${#base} -le 40 ] || base=/tmp
    echo "$base"
}

# A test killed with SIGKILL leaves its dir and its Dovecots behind.  With
# the lock held, any dir whose owner is dead is such a leftover (kept dirs
# carry a "keep" mark).  Its Dovecots are stopped through their own pid files.
_harness_reap_stale_dirs() {
    local d owner pidfile
    for d in "$(_harness_base)"/mercomail-harness.*/; do
        if [ ! -f "$d/owner" ] || [ -e "$d/keep" ]; then continue; fi
        owner=$(cat "$d/owner")
        ! kill -0 "$owner" 2>/dev/null || continue
        for pidfile in "$d"run-*/master.pid; do
            if [ -f "$pidfile" ]; then _harness_kill_wait "$(cat "$pidfile")"; fi
        done
        _harness_say "removed ${d%/} left by dead test $owner"
        rm -rf "$d"
    done
}

_harness_make_dir() {
    HARNESS_DIR=$(mktemp -d "$(_harness_base)/mercomail-harness.XXXXXX") ||
        _harness_die "mktemp failed"
    echo "$$" >"$HARNESS_DIR/owner"
    # Dovecot's unprivileged processes and the mail user must traverse it.
    chmod 0755 "$HARNESS_DIR"
    install -d -o mail -g mail -m 0700 "$HARNESS_DIR/mail"
    # Read by Dovecot's auth process, which runs as the dovecot user.
    install -m 0640 -g dovecot /dev/null "$HARNESS_DIR/users"
    install -m 0644 /dev/null "$HARNESS_DIR/vusers"
    # OpenSMTPD cannot tell the type of an empty table: one address that never
    # receives mail makes these a list and a mapping
    echo 'nobody@gone.invalid' >"$HARNESS_DIR/gone"
    echo 'nobody@gone.invalid mail' >"$HARNESS_DIR/gonev"
    HARNESS_PASSWORD_FILE=$HARNESS_DIR/password
    install -m 0600 /dev/null "$HARNESS_PASSWORD_FILE"
    printf '%s' "$HARNESS_PASSWORD" >"$HARNESS_PASSWORD_FILE"
    export HARNESS_DIR HARNESS_PASSWORD_FILE
}

_harness_write_confs() {
    local ports
    ports=$(_harness_free_ports 5)
    read -r IMAP_PORT IMAPS_PORT IMAPS_BAD_PORT SMTP_PORT IMAP_BAD_PORT <<<"$ports"
    [ -n "${IMAP_BAD_PORT:-}" ] || _harness_die "no free loopback ports found"
    export IMAP_PORT IMAPS_PORT IMAPS_BAD_PORT SMTP_PORT IMAP_BAD_PORT
    # The "bad" instance's plain port offers STARTTLS with the wrong certificate.
    _harness_dovecot_conf imap server "$IMAP_PORT" "$IMAPS_PORT" "imap lmtp" \
        >"$HARNESS_DIR/dovecot-imap.conf"
    _harness_dovecot_conf bad wrong "$IMAP_BAD_PORT" "$IMAPS_BAD_PORT" "imap" \
        >"$HARNESS_DIR/dovecot-bad.conf"
    _harness_smtpd_conf >"$HARNESS_DIR/smtpd.conf"
}

harness_start() {
    [ -z "${HARNESS_DIR:-}" ] || _harness_die "harness_start called twice"
    harness_skip_unless_ready
    trap harness_stop EXIT
    # Without these, a test killed by a signal would skip the EXIT trap.
    trap 'exit 130' INT
    trap 'exit 143' TERM
    trap 'exit 129' HUP
    _harness_lock
    _harness_reap_stale_dirs
    _harness_make_dir
    _harness_certs
    _harness_write_confs
    harness_add_user "$HARNESS_USER" "$HARNESS_PASSWORD"
    local i
    for ((i = 0; i < ${#_HARNESS_PENDING_USERS[@]}; i += 2)); do
        harness_add_user "${_HARNESS_PENDING_USERS[i]}" "${_HARNESS_PENDING_USERS[i + 1]}"
    done
    _HARNESS_PENDING_USERS=()
    _harness_reap_stale_smtpd
    _harness_purge_smtpd_queue
    harness_start_dovecot
    harness_start_smtpd
    _harness_say "up in $HARNESS_DIR: imap $IMAP_PORT imaps $IMAPS_PORT" \
        "imaps-bad $IMAPS_BAD_PORT imap-bad $IMAP_BAD_PORT smtp $SMTP_PORT"
}

harness_stop() {
    local -
    set +e
    [ -n "${HARNESS_DIR:-}" ] || { _harness_unlock; return 0; }
    harness_stop_smtpd
    harness_stop_dovecot
    # Mail accepted but not delivered must not reach the next run.
    _harness_purge_smtpd_queue
    if [ "${HARNESS_KEEP:-0}" = 1 ]; then
        touch "$HARNESS_DIR/keep"
        _harness_say "kept $HARNESS_DIR"
    else
        rm -rf "$HARNESS_DIR"
    fi
    HARNESS_DIR=
    _harness_unlock
}
