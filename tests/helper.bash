# tests/helper.bash - shared set-up for the bats suites.
#
# Every test runs the commands from the build tree ($MQ_BIN, set by
# "make check") in a throwaway spool under $BATS_TEST_TMPDIR, so tests
# never share state and never touch a real spool.

bats_load_library bats-support
bats_load_library bats-assert
bats_load_library bats-file

: "${MQ_BIN:=$(cd "$BATS_TEST_DIRNAME/../src" && pwd)}"
PATH="$MQ_BIN:$PATH"
export PATH

setup() {
	export MQ_SPOOL="$BATS_TEST_TMPDIR/spool"
	unset MQ_TEST_NOW
	if declare -F per_test_setup >/dev/null; then
		per_test_setup
	fi
}

# wait_for CMD...: retries CMD until it succeeds, for up to 10 seconds.
# Used instead of sleeps when a test waits for another process.
wait_for() {
	local i
	for ((i = 0; i < 1000; i++)); do
		if "$@"; then
			return 0
		fi
		sleep 0.01
	done
	echo "timed out waiting for: $*" >&2
	return 1
}

# lines_in FILE N: does FILE hold at least N lines?
lines_in() {
	[ -f "$1" ] && [ "$(wc -l <"$1")" -ge "$2" ]
}

# seg DIR-PARTITION: path of the first segment of partition 0 of a topic.
seg0() {
	echo "$MQ_SPOOL/$1/0/00000000000000000000.log"
}
