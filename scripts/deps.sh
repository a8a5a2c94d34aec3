#!/bin/bash
# Install the build and test dependencies of mercomail on Debian 12.
#
# Fast when everything is there (one dpkg-query, no network).  Run as root;
# as another user it only lists what is missing and fails.
#
# The mail servers are needed as programs only: the integration harness runs
# private instances on loopback ports.  A system-wide Dovecot or OpenSMTPD
# would hold the OpenSMTPD control socket (only one smtpd can run per machine)
# and port 25/143, so this script keeps them from starting and stops them if
# they did.
set -eu

PACKAGES=(
    build-essential autoconf automake libtool pkg-config
    # libetpan-dev pulls libcurl4-gnutls-dev, which conflicts with the
    # openssl flavour: ask for the gnutls one so apt never has to choose.
    libetpan-dev libcurl4-gnutls-dev libsqlite3-dev libical-dev
    libcmocka-dev libmicrohttpd-dev libgnutls28-dev libsystemd-dev
    dovecot-imapd dovecot-lmtpd opensmtpd
    sqlite3 python3 openssl ca-certificates curl
    # the fuzzers (tests/fuzz: clang's libFuzzer and sanitizer runtimes) and
    # the leak check of a build without sanitizers (tests/integration/valgrind.sh)
    clang libclang-rt-14-dev valgrind
    python3-icalendar   # tests/integration/icalcheck.py: a parser nobody here wrote
    khal                # tests/integration/feed.sh: a calendar program loads the feeds
    chromium            # tests/integration/report.sh: the report page as a browser shows it
)

missing_packages() {
    local p status
    for p in "${PACKAGES[@]}"; do
        status=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
        [ "$status" = installed ] || echo "$p"
    done
}

# invoke-rc.d asks policy-rc.d whether a package may start its service;
# exit 101 means no.  Docker images ship one; a plain machine may not.
POLICY=/usr/sbin/policy-rc.d
OWN_POLICY=0

deny_service_starts() {
    [ ! -e "$POLICY" ] || return 0
    printf '#!/bin/sh\n# temporary, from mercomail scripts/deps.sh\nexit 101\n' >"$POLICY"
    chmod 0755 "$POLICY"
    OWN_POLICY=1
}

restore_policy() {
    [ "$OWN_POLICY" = 0 ] || rm -f "$POLICY"
    OWN_POLICY=0
}

# A live pid that is not one of the test harness's private servers: those
# write the same /run/smtpd.pid (OpenSMTPD's pid file path is fixed).
system_pid() {
    [ -n "$1" ] && kill -0 "$1" 2>/dev/null &&
        ! tr '\0' ' ' <"/proc/$1/cmdline" 2>/dev/null | grep -q mercomail-harness
}

# Stop what the packages may have started, whatever the init system.
stop_system_servers() {
    local unit pid
    if [ -d /run/systemd/system ]; then
        for unit in dovecot.socket dovecot.service opensmtpd.service; do
            if systemctl is-active --quiet "$unit"; then
                echo "deps.sh: stopping system $unit"
                systemctl stop "$unit" || true
            fi
        done
    fi
    pid=$(cat /run/dovecot/master.pid 2>/dev/null || true)
    if system_pid "$pid"; then
        echo "deps.sh: stopping system dovecot ($pid)"
        /usr/sbin/dovecot stop 2>/dev/null || kill "$pid" 2>/dev/null || true
    fi
    pid=$(cat /run/smtpd.pid 2>/dev/null || true)
    if system_pid "$pid"; then
        echo "deps.sh: stopping system smtpd ($pid)"
        kill "$pid" 2>/dev/null || true
    fi
}

main() {
    local missing=()
    mapfile -t missing < <(missing_packages)
    if [ ${#missing[@]} = 0 ]; then
        echo "deps.sh: all ${#PACKAGES[@]} packages present"
        stop_system_servers
        return 0
    fi
    if [ "$(id -u)" != 0 ]; then
        echo "deps.sh: missing packages; as root run:" >&2
        echo "  apt-get update && apt-get install -y ${missing[*]}" >&2
        return 1
    fi
    echo "deps.sh: installing: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    deny_service_starts
    trap restore_policy EXIT
    apt-get update -q
    apt-get install -y -q "${missing[@]}"
    restore_policy
    stop_system_servers
    mapfile -t missing < <(missing_packages)
    if [ ${#missing[@]} != 0 ]; then
        echo "deps.sh: still missing after install: ${missing[*]}" >&2
        return 1
    fi
    echo "deps.sh: done"
}

main "$@"
