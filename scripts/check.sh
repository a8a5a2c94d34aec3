#!/bin/bash
# Set up everything a fresh Debian 12 machine lacks, build with warnings as
# errors and AddressSanitizer/UBSan, and run every test (unit tests with
# cmocka, integration tests against a private Dovecot and OpenSMTPD), then
# `make distcheck` (tarball, out-of-tree build, tests again, install, uninstall).
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"

bash scripts/deps.sh
autoreconf -fi >/dev/null
mkdir -p build/check
cd build/check
"$top"/configure --enable-werror --enable-sanitizers >/dev/null
make -j2 >/dev/null
# valgrind cannot run sanitized binaries: a second build without sanitizers
# for tests/integration/valgrind.sh (MERCOMAIL_VALGRIND_BUILDDIR). It is the
# optimised build too (-O2), whose warnings (format truncation, ...) the
# sanitizer build does not see: -Werror here as well.
mkdir -p "$top/build/valgrind"
(cd "$top/build/valgrind" && "$top"/configure --enable-werror >/dev/null && make -j2 >/dev/null)

status=0
MERCOMAIL_VALGRIND_BUILDDIR=$top/build/valgrind make check -j1 || status=$?
# Show every test's own output (the cmocka summaries, the integration "ok -" lines).
for log in tests/unit/*.log tests/integration/*.log tests/reliability/*.log; do
	[ -f "$log" ] || continue
	echo "===== ${log%.log}"
	cat "$log"
done
pass=$(grep -h '^# PASS:' test-suite.log 2>/dev/null | awk '{print $3}' || true)
fail=$(grep -h '^# FAIL:' test-suite.log 2>/dev/null | awk '{print $3}' || true)
error=$(grep -h '^# ERROR:' test-suite.log 2>/dev/null | awk '{print $3}' || true)
skip=$(grep -h '^# SKIP:' test-suite.log 2>/dev/null | awk '{print $3}' || true)
[ "$status" -eq 0 ] || { echo "make check failed"; echo "${pass:-0} passed, $(( ${fail:-0} + ${error:-0} )) failed"; exit 1; }
if [ "${skip:-0}" -ne 0 ]; then
	echo "$skip test(s) skipped: every test must run here"
	exit 1
fi

if [ "${MERCOMAIL_SKIP_DISTCHECK:-0}" != 1 ]; then
	# The tarball is checked with the unit tests and a few end-to-end tests
	# that need the harness and the fixtures from it; the whole suite ran
	# above on this build (running it twice would double the run).
	make distcheck TESTS='$(UNIT_TESTS) tests/integration/ical.sh tests/integration/submit.sh tests/integration/meeting.sh $(LINT_TESTS)' \
		>distcheck.log 2>&1 || { tail -60 distcheck.log; echo "make distcheck failed"; exit 1; }
	grep -E '^mercomail-.*archives ready|^=+$' distcheck.log | head -3 || true
	echo "make distcheck: ok"
fi
# Every libFuzzer harness for 60 s (tests/fuzz/run.sh; MERCOMAIL_FUZZ_SECONDS
# changes it, 0 skips): a crash, leak or timeout fails the run.
fuzz_secs=${MERCOMAIL_FUZZ_SECONDS:-60}
if [ "$fuzz_secs" != 0 ]; then
	make fuzz FUZZ_SECONDS="$fuzz_secs" || { echo "fuzzing found a crash (reproducer above)"; exit 1; }
fi
# One closing line for the whole run: every cmocka test and every integration check.
cases=$(cat tests/unit/*.log tests/integration/*.log tests/reliability/*.log | awk '
	/^\[  PASSED  \] [0-9]+ test/ { n += $4 }
	/^[0-9]+ passed, [0-9]+ failed$/ { n += $1 }
	END { print n + 0 }')
echo "${pass:-0} test programs, $cases checks"
echo "$cases passed, 0 failed"
