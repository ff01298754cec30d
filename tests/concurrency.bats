#!/usr/bin/env bats
# tests/concurrency.bats - several processes on one partition at once:
# producers interleaving whole batches (also across segment rolls and with
# compression), a follower reading while they write, readers taking no lock.

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
}

# status_of PID: waits for the background process PID, sets $rc.
status_of() {
	rc=0
	wait "$1" || rc=$?
}

# waiting PID: is PID asleep on a file lock?
waiting() {
	grep -q lock "/proc/$1/wchan" 2>/dev/null
}

# producers K N ARGS...: starts K producers, producer i writing pi-1 ..
# pi-N to topic t with mq-produce ARGS, and checks they all exit 0.  They
# start behind a barrier: partition 0's lock is held until all K wait for
# it, so they really run at once however loaded the machine is (started
# one after the other, the first could be done before the last began).
producers() {
	local k="$1" n="$2" i holder pids=()
	shift 2
	for ((i = 1; i <= k; i++)); do
		seq -f "p$i-%.0f" 1 "$n" >"$T/in$i"
	done
	rm -f "$T/locked"
	(
		exec 9<>"$MQ_SPOOL/t/0/lock"
		flock 9
		: >"$T/locked"
		exec sleep 600
	) </dev/null >/dev/null 2>&1 3>&- &
	holder=$!
	BG+=("$holder")
	wait_for test -e "$T/locked"
	for ((i = 1; i <= k; i++)); do
		mq-produce "$@" t "$T/in$i" 2>"$T/perr$i" 3>&- &
		pids+=($!)
		BG+=($!)
	done
	for ((i = 1; i <= k; i++)); do
		wait_for waiting "${pids[i - 1]}"
	done
	kill -TERM "$holder"
	for ((i = 1; i <= k; i++)); do
		status_of "${pids[i - 1]}"
		[ "$rc" -eq 0 ] || fail "producer $i: status $rc: $(cat "$T/perr$i")"
	done
}

# interleaved FILE K N: FILE holds the K producers' N messages each,
# every message exactly once and each producer's in its own order.
interleaved() {
	local file="$1" k="$2" n="$3"
	[ "$(wc -l <"$file")" -eq $((k * n)) ] ||
		fail "$(wc -l <"$file") messages, not $((k * n))"
	[ -z "$(sort "$file" | uniq -d | head -n 3)" ] ||
		fail "duplicates: $(sort "$file" | uniq -d | head -n 3)"
	awk -F- -v k="$k" -v n="$n" '
		$2 + 0 <= last[$1] + 0 { print "out of order: " $0; bad = 1 }
		{ last[$1] = $2 + 0; seen[$1]++ }
		END {
			for (p in seen) {
				ps++
				if (seen[p] != n || last[p] != n) {
					print p ": " seen[p] " messages, last " last[p]
					bad = 1
				}
			}
			if (ps != k) { print ps " producers, not " k; bad = 1 }
			exit bad
		}' "$file"
}

@test "four producers on one partition store every message once, in order" {
	mq-topic create t
	producers 4 50000 --batch-size 4096
	mq-consume t >"$T/out"
	interleaved "$T/out" 4 50000
	run -0 mq-consume -o 199999 -F '%o\n' t
	assert_output 199999
	mq-topic describe t | grep -q 'End: 200000'
}

@test "four producers rolling small segments under each other lose nothing" {
	mq-topic create t -c segment.bytes=65536
	producers 4 50000 --batch-size 4096
	n=$(ls "$MQ_SPOOL/t/0" | grep -c '\.log$')
	[ "$n" -gt 20 ]
	mq-consume t >"$T/out"
	interleaved "$T/out" 4 50000
	# Offsets are dense across all the rolls.
	mq-consume -F '%o\n' t >"$T/offsets"
	seq 0 199999 >"$T/want"
	cmp "$T/want" "$T/offsets"
	for f in $(ls "$MQ_SPOOL/t/0" | grep '\.log$'); do
		base=$((10#${f%.log}))
		run -0 mq-consume -o "$base" -c 1 -F '%o\n' t
		assert_output "$base"
	done
}

@test "four producers compressing with zlib interleave whole batches" {
	mq-topic create t
	producers 4 10000 --batch-size 4096 -z
	mq-consume t >"$T/out"
	interleaved "$T/out" 4 10000
	# The batches really are compressed: far smaller than the messages.
	[ "$(stat -c %s "$(seg0 t)")" -lt $(( $(cat "$T"/in? | wc -c) / 2 )) ]
}

@test "a follower reading while two producers write sees every message once" {
	mq-topic create t -c segment.bytes=65536
	mq-consume -f t >"$T/out" 2>"$T/err" 3>&- &
	PID=$!
	BG+=("$PID")
	producers 2 20000 --batch-size 4096
	wait_for lines_in "$T/out" 40000
	kill -TERM "$PID"
	status_of "$PID"
	[ "$rc" -eq 0 ]
	interleaved "$T/out" 2 20000
	[ ! -s "$T/err" ]
}

@test "readers take no lock and a producer waits for the partition lock" {
	mq-topic create t
	seq 1 100 | mq-produce t
	lock="$MQ_SPOOL/t/0/lock"
	# The holder is this one process: killing it releases the lock.
	(
		exec 9<>"$lock"
		flock 9
		: >"$T/locked"
		exec sleep 30
	) </dev/null >/dev/null 2>&1 3>&- &
	HOLDER=$!
	BG+=("$HOLDER")
	wait_for test -e "$T/locked"
	run -0 timeout 10 mq-consume t
	assert_output "$(seq 1 100)"
	echo late | mq-produce t 2>"$T/perr" 3>&- &
	PROD=$!
	BG+=("$PROD")
	# The producer sleeps in flock(2), and its message is not there.
	wait_for grep -q lock "/proc/$PROD/wchan"
	kill -0 "$PROD"
	run -0 timeout 10 mq-consume t
	assert_output "$(seq 1 100)"
	kill -TERM "$HOLDER"
	status_of "$PROD"
	[ "$rc" -eq 0 ]
	run -0 timeout 10 mq-consume -o 100 -F '%o %s\n' t
	assert_output "100 late"
}
