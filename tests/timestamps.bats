#!/usr/bin/env bats
# tests/timestamps.bats - message.timestamp.before.max.ms and
# message.timestamp.after.max.ms (Kafka's KIP-937): which timestamps
# mq-produce takes, the two keys in create, alter and describe; and that a
# timestamp already stored far ahead (kept from before the limit, or
# planted) holds back neither segment rolling, nor retention, nor
# compaction.
#
# A planted message is produced with the limit lifted, then the limit is
# put back, as after an upgrade from a version without it.

load helper
bats_require_minimum_version 1.5.0

Y2999=32472144000000            # 2999-01-01T00:00:00Z
MAX=9223372036854775807

per_test_setup() {
	P="$MQ_SPOOL/t/0"
}

now_ms() {
	date +%s%3N
}

# logs: the segment logs of t/0, oldest first.
logs() {
	(cd "$P" && ls | grep '^[0-9]\{20\}\.log$') || true
}

# plant TS [MQ-PRODUCE-ARGS...]: stores the messages of stdin in t at TS
# with message.timestamp.after.max.ms lifted, then puts back the default.
plant() {
	local ts="$1"
	shift
	mq-topic alter t -c message.timestamp.after.max.ms=$MAX
	mq-produce --timestamp "$ts" "$@" t
	mq-topic alter t -c message.timestamp.after.max.ms=1h
}

# big: one message of 600 bytes, which a 512-byte segment cannot share.
big() {
	head -c 600 /dev/zero | tr '\0' x
	echo
}

# ago DAYS: a touch(1) date that many days back.
ago() {
	echo "@$(($(date +%s) - $1 * 86400))"
}

# --- what mq-produce takes ----------------------------------------------------

@test "a --timestamp more than message.timestamp.after.max.ms ahead is a usage error naming it and the limit" {
	mq-topic create t
	for ts in 2999-01-01 $Y2999 $MAX; do
		run mq-produce --timestamp "$ts" t <<<"x"
		assert_failure 2
		assert_output --regexp "^mq-produce: --timestamp '$ts' refused by topic 't': timestamp [0-9]+ is more than message\.timestamp\.after\.max\.ms \(3600000\) after now \([0-9]+\)$"
	done
	run mq-consume t
	assert_output ''
}

@test "a --timestamp up to message.timestamp.after.max.ms ahead is taken" {
	mq-topic create t
	ts=$(($(now_ms) + 1800000))
	echo a | mq-produce --timestamp $ts t
	run -0 mq-consume -F '%T %s\n' t
	assert_output "$ts a"
}

@test "message.timestamp.after.max.ms=0 refuses any timestamp ahead of now" {
	mq-topic create t -c message.timestamp.after.max.ms=0
	run mq-produce --timestamp $(($(now_ms) + 60000)) t <<<"x"
	assert_failure 2
	assert_output --partial 'message.timestamp.after.max.ms (0)'
	echo b | mq-produce t
	run -0 mq-consume t
	assert_output b
}

@test "by default any age is taken; message.timestamp.before.max.ms refuses older timestamps" {
	mq-topic create t
	echo a | mq-produce --timestamp 0 t
	mq-topic alter t -c message.timestamp.before.max.ms=1d
	run mq-produce --timestamp 1700000000000 t <<<"x"
	assert_failure 2
	assert_output --regexp "^mq-produce: --timestamp '1700000000000' refused by topic 't': timestamp 1700000000000 is more than message\.timestamp\.before\.max\.ms \(86400000\) before now \([0-9]+\)$"
	echo c | mq-produce --timestamp $(($(now_ms) - 3600000)) t
	echo d | mq-produce t
	run -0 mq-consume t
	assert_output "$(printf 'a\nc\nd')"
}

@test "raising message.timestamp.after.max.ms to 2^63-1 lets any timestamp in" {
	mq-topic create t -c message.timestamp.after.max.ms=$MAX
	echo a | mq-produce --timestamp 2999-01-01 t
	echo b | mq-produce --timestamp $MAX t
	run -0 mq-consume -F '%T %s\n' t
	assert_output "$(printf '%s a\n%s b' $Y2999 $MAX)"
}

@test "the timestamp keys are set by create and alter, shown by describe, and checked" {
	mq-topic create t -c message.timestamp.before.max.ms=2d \
		-c message.timestamp.after.max.ms=5min
	run -0 mq-topic describe t
	assert_line -n 0 --partial ',message.timestamp.before.max.ms=172800000,message.timestamp.after.max.ms=300000'
	mq-topic alter t -c message.timestamp.after.max.ms=$MAX
	run -0 grep -x "message.timestamp.after.max.ms=$MAX" "$MQ_SPOOL/t/config"
	for kv in message.timestamp.after.max.ms=-1 \
		message.timestamp.before.max.ms=1y \
		message.timestamp.before.max.ms=9223372036854775808; do
		run mq-topic alter t -c "$kv"
		assert_failure 2
		assert_output --partial "${kv%%=*}"
	done
	run -0 grep -x "message.timestamp.before.max.ms=172800000" \
		"$MQ_SPOOL/t/config"
}

# --- rolling -------------------------------------------------------------------

@test "a first timestamp beyond what the topic takes does not hold the active segment open" {
	mq-topic create t
	echo planted | plant 2999-01-01
	echo b | mq-produce t
	echo c | mq-produce t
	run -0 logs
	assert_output "$(printf '00000000000000000000.log\n00000000000000000001.log')"
	run -0 mq-consume -F '%o %s\n' t
	assert_output "$(printf '0 planted\n1 b\n2 c')"
}

@test "nor does a first timestamp of 2^63-1" {
	mq-topic create t
	echo planted | plant $MAX
	echo b | mq-produce t
	run -0 logs
	assert_output "$(printf '00000000000000000000.log\n00000000000000000001.log')"
}

# --- retention and compaction -------------------------------------------------

# planted_segments TS [CONFIG...]: t with 512-byte segments: segment 0
# holds "planted" at TS, segment 1 "b" now, segment 2 (active) a big one.
planted_segments() {
	local ts="$1" c=(-c segment.bytes=512)
	shift
	for kv in "$@"; do
		c+=(-c "$kv")
	done
	mq-topic create t "${c[@]}"
	echo planted | plant "$ts"
	echo b | mq-produce t
	big | mq-produce t
	run -0 logs
	assert_output "$(printf '%s.log\n' 00000000000000000000 \
		00000000000000000001 00000000000000000002)"
}

@test "retention ages a segment with a timestamp beyond what the topic takes by its modification time" {
	planted_segments 2999-01-01 retention.ms=2d
	run -0 mq-compact -v t
	assert_output ''
	touch -d "$(ago 3)" "$P/00000000000000000000.log"
	run -0 mq-compact -v t
	assert_output --partial 'delete 1 segment: 1 message'
	run -0 logs
	assert_output "$(printf '00000000000000000001.log\n00000000000000000002.log')"
	run -0 mq-consume -F '%o\n' t
	assert_output "$(printf '1\n2')"
}

@test "so does it with a timestamp of 2^63-1, and MQ_NOW moves its clock" {
	planted_segments $MAX retention.ms=1d
	now=$(now_ms)
	MQ_NOW=$((now + 43200000)) run -0 mq-compact -v t
	assert_output ''
	MQ_NOW=$((now + 2 * 86400000)) run -0 mq-compact -v t
	assert_output --partial 'delete 2 segments: 2 messages'
	run -0 logs
	assert_output 00000000000000000002.log
}

@test "compaction is not held back by a timestamp beyond what the topic takes, and keeps the segment's modification time" {
	mq-topic create t -c cleanup.policy=compact -c segment.bytes=512
	printf 'k0:kept\nk1:old\n' | plant 2999-01-01 -K: --linger 10000
	echo k1:new | mq-produce -K: t
	big | sed 's/^/k2:/' | mq-produce -K: t
	run -0 logs
	assert_output "$(printf '%s.log\n' 00000000000000000000 \
		00000000000000000002 00000000000000000003)"
	touch -d "$(ago 3)" "$P/00000000000000000000.log"
	mtime=$(stat -c %Y "$P/00000000000000000000.log")
	run -0 mq-compact t
	run -0 mq-consume -F '%o %k %s\n' -c 3 t
	assert_output "$(printf '0 k0 kept\n2 k1 new\n3 k2 %s' "$(big)")"
	run -0 stat -c %Y "$P/00000000000000000000.log"
	assert_output "$mtime"
}
