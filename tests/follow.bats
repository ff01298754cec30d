#!/usr/bin/env bats
# tests/follow.bats - mq-consume -f: waiting for new messages, new
# segments and new partitions; ending on signals, on a closed stdout, on
# -c and on a deleted topic.

load helper
bats_require_minimum_version 1.5.0

per_test_setup() {
	T="$BATS_TEST_TMPDIR"
	BG=()
}

teardown() {
	local p
	for p in "${BG[@]}"; do
		kill -KILL "$p" 2>/dev/null || true
	done
	if [ -n "${FIFO_FD_OPEN:-}" ]; then
		exec 4>&-
	fi
}

# follow OUT ERR ARGS...: starts mq-consume -f ARGS in the background with
# stdout to OUT and stderr to ERR; its pid is left in $PID.
follow() {
	local out="$1" err="$2"
	shift 2
	mq-consume -f "$@" >"$out" 2>"$err" 3>&- &
	PID=$!
	BG+=("$PID")
}

# contains FILE TEXT: does FILE hold a line that is exactly TEXT?
contains() {
	[ -f "$1" ] && grep -qx -- "$2" "$1"
}

# exited PID: has the background process PID ended?
exited() {
	! kill -0 "$1" 2>/dev/null
}

# waiting PID: is PID asleep in poll(2), i.e. has a follower read all
# there was and started waiting for more?  (Linux /proc/PID/wchan.)
waiting() {
	grep -q poll "/proc/$1/wchan" 2>/dev/null
}

# status_of PID: waits for the background process PID, sets $rc.
status_of() {
	rc=0
	wait "$1" || rc=$?
}

@test "a follower sees a message produced after it started and exits 0 on SIGTERM" {
	mq-topic create t
	follow "$T/out" "$T/err" t
	wait_for waiting "$PID"
	echo hello | mq-produce t
	wait_for contains "$T/out" hello
	kill -TERM "$PID"
	status_of "$PID"
	[ "$rc" -eq 0 ]
	printf 'hello\n' >"$T/want"
	cmp "$T/want" "$T/out"
	[ ! -s "$T/err" ]
}

@test "SIGINT ends a follower with exit 0 after writing out all it read" {
	mq-topic create t
	seq 1 3 | mq-produce t
	follow "$T/out" "$T/err" t
	wait_for lines_in "$T/out" 3
	wait_for waiting "$PID"
	kill -INT "$PID"
	status_of "$PID"
	[ "$rc" -eq 0 ]
	seq 1 3 >"$T/want"
	cmp "$T/want" "$T/out"
	[ ! -s "$T/err" ]
}

@test "SIGINT during a blocked write still ends the output on a whole message" {
	mq-topic create t
	# Far more than the output buffer, so the follower stops in a write
	# to the full pipe with more of the log still to go.
	seq 1 1000000 | mq-produce t
	mkfifo "$T/fifo"
	follow "$T/fifo" "$T/err" t
	exec 5<"$T/fifo"
	wait_for grep -q pipe_write "/proc/$PID/wchan"
	kill -INT "$PID"
	cat <&5 >"$T/out"
	exec 5<&-
	status_of "$PID"
	[ "$rc" -eq 0 ]
	n=$(wc -l <"$T/out")
	[ "$n" -gt 0 ]
	[ "$n" -lt 1000000 ]
	# Whatever it had taken into its buffer went out, up to the end of
	# the last message: no line is cut short.
	seq 1 "$n" >"$T/want"
	cmp "$T/want" "$T/out"
	[ ! -s "$T/err" ]
}

@test "a follower whose stdout is closed by its reader ends without hanging" {
	mq-topic create t
	echo first | mq-produce t
	# pipefail makes the status mq-consume's: 124 would mean it hung.
	run -0 timeout 10 bash -c 'set -o pipefail
		mq-consume -f t | head -n 1'
	assert_output first
}

@test "a follower whose reader closes the pipe after a later message ends" {
	mq-topic create t
	# The group reports mq-consume's own status and pid; pipefail makes
	# the pipeline's status mq-consume's, and "rc=" shows it.
	timeout 10 bash -c 'set -o pipefail
		{ mq-consume -f t & echo $! >"$1"; wait $!; } | head -n 1
		echo "rc=$?"' _ "$T/cpid" >"$T/out" 2>"$T/err" 3>&- &
	PID=$!
	BG+=("$PID")
	wait_for test -s "$T/cpid"
	CPID=$(cat "$T/cpid")
	BG+=("$CPID")
	wait_for waiting "$CPID"
	echo late | mq-produce t
	status_of "$PID"
	[ "$rc" -eq 0 ]
	printf 'late\nrc=0\n' >"$T/want"
	cmp "$T/want" "$T/out"
	wait_for exited "$CPID"
	[ ! -s "$T/err" ]
}

@test "a follower follows the log across many new segments in order" {
	mq-topic create t -c segment.bytes=1024
	follow "$T/out" "$T/err" t
	wait_for waiting "$PID"
	for ((i = 0; i < 10; i++)); do
		seq $((i * 200 + 1)) $((i * 200 + 200)) |
			mq-produce --batch-size 256 t
	done
	wait_for lines_in "$T/out" 2000
	n=$(ls "$MQ_SPOOL/t/0" | grep -c '\.log$')
	[ "$n" -ge 20 ]
	kill -TERM "$PID"
	status_of "$PID"
	[ "$rc" -eq 0 ]
	seq 1 2000 >"$T/want"
	cmp "$T/want" "$T/out"
	[ ! -s "$T/err" ]
}

@test "a follower picks up partitions added to the topic while it runs" {
	mq-topic create t
	follow "$T/out" "$T/err" t
	wait_for waiting "$PID"
	mq-topic alter t -p 3
	echo on-two | mq-produce -p 2 t
	wait_for contains "$T/out" on-two
	kill -TERM "$PID"
	status_of "$PID"
	[ "$rc" -eq 0 ]
	printf 'on-two\n' >"$T/want"
	cmp "$T/want" "$T/out"
}

@test "a follower started with -o end prints only messages produced later" {
	mq-topic create t
	seq 1 5 | mq-produce t
	follow "$T/out" "$T/err" -o end -F '%o %s\n' t
	wait_for waiting "$PID"
	seq 6 8 | mq-produce t
	wait_for lines_in "$T/out" 3
	kill -TERM "$PID"
	status_of "$PID"
	[ "$rc" -eq 0 ]
	printf '5 6\n6 7\n7 8\n' >"$T/want"
	cmp "$T/want" "$T/out"
}

@test "a follower with -c N exits 0 by itself after N messages" {
	mq-topic create t
	echo one | mq-produce t
	follow "$T/out" "$T/err" -c 3 t
	wait_for contains "$T/out" one
	printf 'two\nthree\nfour\n' | mq-produce t
	wait_for exited "$PID"
	status_of "$PID"
	[ "$rc" -eq 0 ]
	printf 'one\ntwo\nthree\n' >"$T/want"
	cmp "$T/want" "$T/out"
}

@test "deleting the topic ends a follower with exit 1 and says it was deleted" {
	mq-topic create t
	echo before | mq-produce t
	follow "$T/out" "$T/err" t
	wait_for contains "$T/out" before
	mq-topic delete t
	wait_for exited "$PID"
	status_of "$PID"
	[ "$rc" -eq 1 ]
	run cat "$T/err"
	assert_output "mq-consume: topic 't' was deleted"
}

@test "a follower sees a message from a producer that has not exited yet" {
	mq-topic create t
	follow "$T/out" "$T/err" t
	mkfifo "$T/fifo"
	mq-produce t <"$T/fifo" 3>&- &
	PROD=$!
	BG+=("$PROD")
	exec 4>"$T/fifo"
	FIFO_FD_OPEN=1
	echo streamed >&4
	wait_for contains "$T/out" streamed
	# The producer is still running: it was the default linger that
	# sent the message, not the end of its input.
	kill -0 "$PROD"
	exec 4>&-
	FIFO_FD_OPEN=
	status_of "$PROD"
	[ "$rc" -eq 0 ]
	kill -TERM "$PID"
	status_of "$PID"
	[ "$rc" -eq 0 ]
	printf 'streamed\n' >"$T/want"
	cmp "$T/want" "$T/out"
}

@test "-f with --until N ends once every partition's next offset is N" {
	mq-topic create t -p 2
	echo a | mq-produce -p 0 t
	echo b | mq-produce -p 1 t
	# Nothing more is ever written: the follower must still end.
	run -0 timeout 10 mq-consume -f --until 1 t
	assert_output "$(printf 'a\nb')"
}
