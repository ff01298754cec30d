#!/usr/bin/env bats
# tests/failure.bats - what one failed storage call does (MQ_FAULT, see
# mq(7)): the command fails with one line naming the error, keeps whole
# batches only, never syncs a segment again after its sync failed, and
# never stores a batch twice.  tools/faults (tests/faults.bats) walks
# every call; these pin down the single cases.

load helper
bats_require_minimum_version 1.5.0

segments() {
	ls "$MQ_SPOOL/t/0" | grep -c '\.log$'
}

@test "a failed fdatasync under --sync=batch fails the produce, and the next one rolls past that segment" {
	mq-topic create t
	run --separate-stderr -1 env MQ_FAULT=fdatasync:1:eio \
		mq-produce --sync=batch t <<<"a"
	assert_equal "$stderr" "mq-produce: cannot sync '$MQ_SPOOL/t/0': Input/output error; 0 messages before it were stored"
	[ "$(segments)" -eq 1 ]
	echo b | mq-produce --sync=batch t
	# the segment whose sync failed takes no more: b went to a new one
	[ "$(segments)" -eq 2 ]
	[ -s "$MQ_SPOOL/t/0/00000000000000000001.log" ]
	run mq-consume -F '%o %s\n' t
	assert_output $'0 a\n1 b'
	run mq-topic verify t
	assert_success
}

@test "a failed sync at exit fails the produce and the next produce rolls too" {
	mq-topic create t
	run --separate-stderr -1 env MQ_FAULT=fdatasync:1:enospc \
		mq-produce t <<<$'a\nb'
	[[ "$stderr" == "mq-produce: cannot sync '$MQ_SPOOL/t/0': No space left on device"* ]]
	[ "${#stderr}" -gt 0 ] && [ "$(wc -l <<<"$stderr")" -eq 1 ]
	echo c | mq-produce t
	[ "$(segments)" -eq 2 ]
	run mq-consume -F '%o %s\n' t
	assert_output $'0 a\n1 b\n2 c'
}

@test "an append that fails after its batch was written is not appended again" {
	mq-topic create t -p 2
	# write 1 is the batch of partition 0, write 2 its head
	run --separate-stderr -1 env MQ_FAULT=write:2:eio \
		mq-produce -p 0 --batch-size 1 t <<<$'a\nb\nc'
	[ "$(wc -l <<<"$stderr")" -eq 1 ]
	[[ "$stderr" == *"Input/output error"* ]]
	# every message at most once, in order, whole batches
	run mq-consume -p 0 -F '%s' t
	[[ "$output" == "" || "$output" == "a" ]]
	echo d | mq-produce -p 0 t
	run mq-consume -p 0 -F '%s' t
	[[ "$output" == "d" || "$output" == $'a\nd' ]]
	run mq-topic verify t
	assert_success
}

@test "a write that fills the disk leaves no partial batch, and the next produce appends" {
	mq-topic create t
	echo a | mq-produce t
	local size
	size=$(stat -c %s "$(seg0 t)")
	run --separate-stderr -1 env MQ_FAULT=write:1:enospc mq-produce t <<<"b"
	[[ "$stderr" == *"No space left on device"* ]]
	# the half that was written is taken back at once
	[ "$(stat -c %s "$(seg0 t)")" -eq "$size" ]
	run mq-consume t
	assert_output a
	echo c | mq-produce t
	run mq-consume -F '%o %s\n' t
	assert_output $'0 a\n1 c'
}

@test "a process killed in the middle of a write leaves a torn tail that the next writer cuts" {
	mq-topic create t
	echo a | mq-produce t
	run -137 env MQ_FAULT=write:1:kill mq-produce t <<<"$(printf 'b%.0s' {1..100})"
	run mq-consume t
	assert_output a
	echo c | mq-produce t
	run mq-consume -F '%o %s\n' t
	assert_output $'0 a\n1 c'
}

@test "a malformed MQ_FAULT or MQ_FAILPOINT is a usage error, not a silent no-op" {
	mq-topic create t
	run --separate-stderr -2 env MQ_FAULT=wirte:1 mq-produce t <<<"a"
	[[ "$stderr" == "mq-produce: MQ_FAULT: bad fault 'wirte:1': use OP:N[:eio|enospc|kill]"* ]]
	run -2 env MQ_FAULT=write:0 mq-consume t
	run -2 env MQ_FAULT=write:1:boom mq-topic list
	run --separate-stderr -2 env MQ_FAILPOINT=compact.swap.log:x mq-compact
	[[ "$stderr" == "mq-compact: MQ_FAILPOINT: bad value 'compact.swap.log:x': use NAME[:N]"* ]]
	run mq-consume t
	assert_output ""
}
