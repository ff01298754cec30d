#!/usr/bin/env bats
# tests/hardening.bats - a spool cannot be used to reach outside it: names
# that would escape it are refused, links planted at any path a command
# opens are refused (and what they point to is left alone), closed
# standard descriptors never let a message land in a segment, and a lock
# held by a stuck process ends in a clear error after --lock-timeout.

load helper
bats_require_minimum_version 1.5.0

LONG=$(printf 'a%.0s' {1..250})

per_test_setup() {
	T=$BATS_TEST_TMPDIR
	HOLDER=
	echo outside >"$T/outside"
}

teardown() {
	[ -z "$HOLDER" ] || kill "$HOLDER" 2>/dev/null || true
}

# waiting PID: is PID asleep on a file lock?
waiting() {
	grep -q lock "/proc/$1/wchan" 2>/dev/null
}

# hold FILE: a process that holds flock(LOCK_EX) on FILE until killed.
hold() {
	rm -f "$T/held"
	( flock -x 9 && touch "$T/held" && exec sleep 60 ) 9<"$1" &
	HOLDER=$!
	wait_for test -e "$T/held"
}

outside_untouched() {
	[ "$(cat "$T/outside")" = outside ]
	[ "$(stat -c %h "$T/outside")" -ge 1 ]
}

one_message() {
	mq-topic create t -p 1
	echo a | mq-produce t
}

seg() { echo "$MQ_SPOOL/t/0/00000000000000000000.$1"; }

# ---- names ----

@test "topic names that would leave the spool are refused by every command with exit 2" {
	mq-topic create x
	local n
	for n in ../x a/b . .. '' "$LONG" '../../etc'; do
		run --separate-stderr -2 mq-topic create "$n"
		[[ "$stderr" == "mq-topic: bad topic name '$n': use 1 to 249 of"* ]]
		run -2 mq-topic describe "$n"
		run -2 mq-produce "$n" </dev/null
		run -2 mq-consume "$n"
		run -2 mq-compact "$n"
		run -2 mq-topic delete "$n"
	done
	run mq-topic list
	assert_output x
	# nothing was made beside the spool
	[ ! -e "$BATS_TEST_TMPDIR/x" ]
	run ls "$MQ_SPOOL"
	assert_output $'+format\nx'   # (ls sorts '+' first)
}

@test "a 249-character topic name is the longest there is" {
	local n=${LONG:1}
	mq-topic create "$n"
	echo hi | mq-produce "$n"
	run mq-consume "$n"
	assert_output hi
}

@test "group names that would leave the spool are refused with exit 2" {
	one_message
	local g
	for g in ../x a/b . .. '' "$LONG"; do
		run --separate-stderr -2 mq-consume -g "$g" t
		[[ "$stderr" == "mq-consume: bad group name '$g': use 1 to 249 of"* ]]
		run -2 mq-group describe "$g"
		run -2 mq-group reset "$g" t --to-earliest
		run -2 mq-group delete "$g"
	done
	[ ! -e "$MQ_SPOOL/t/groups" ] || [ -z "$(ls "$MQ_SPOOL/t/groups")" ]
}

@test "a topic named with a leading - needs -- and then works; without it is a usage error" {
	run --separate-stderr -2 mq-topic create -x
	assert_equal "$stderr" "mq-topic: unknown option '-x' (see 'mq-topic --help')"
	mq-topic create -- -x
	echo hi | mq-produce -- -x
	run mq-consume -- -x
	assert_output hi
	run mq-consume -g -g -- -x
	assert_output hi
	mq-topic delete -- -x
	run mq-topic list
	assert_output ""
}

# ---- links planted in the spool ----

@test "a symlink planted at a segment is refused by producers and consumers, its target untouched" {
	one_message
	rm "$(seg log)"
	ln -s "$T/outside" "$(seg log)"
	run --separate-stderr -1 mq-produce t <<<"b"
	[[ "$stderr" == *"00000000000000000000.log': it is a symbolic link (refused)"* ]]
	run --separate-stderr -1 mq-consume t
	[[ "$stderr" == *"it is a symbolic link (refused)" ]]
	assert_output ""
	run -1 mq-topic describe t
	outside_untouched
}

@test "a hard link to a segment makes producers and consumers refuse it" {
	one_message
	ln "$(seg log)" "$T/linked"
	run --separate-stderr -1 mq-produce t <<<"b"
	[[ "$stderr" == *"00000000000000000000.log': it has another hard link (refused)"* ]]
	run --separate-stderr -1 mq-consume t
	[[ "$stderr" == *"it has another hard link (refused)" ]]
	# the other name still holds exactly the one message
	[ "$(stat -c %s "$T/linked")" -eq "$(stat -c %s "$(seg log)")" ]
}

@test "a hard link to a file outside, planted as a segment, is not appended to" {
	one_message
	rm "$(seg log)"
	ln "$T/outside" "$(seg log)"
	run -1 mq-produce t <<<"b"
	run mq-compact t
	outside_untouched
}

@test "a symlink planted at an index or time index is refused, not read or written" {
	one_message
	for ext in idx tix; do
		cp "$(seg $ext)" "$T/keep"
		rm "$(seg $ext)"
		ln -s "$T/outside" "$(seg $ext)"
		run --separate-stderr -1 mq-produce t <<<"b"
		[[ "$stderr" == *"00000000000000000000.$ext': it is a symbolic link (refused)"* ]]
		rm "$(seg $ext)"
		mv "$T/keep" "$(seg $ext)"
	done
	rm "$(seg idx)"
	ln -s "$T/outside" "$(seg idx)"
	run --separate-stderr -1 mq-consume -o 1 t
	[[ "$stderr" == *"00000000000000000000.idx': it is a symbolic link (refused)" ]]
	outside_untouched
}

@test "a symlink planted at a partition's lock file is refused" {
	one_message
	rm "$MQ_SPOOL/t/0/lock"
	ln -s "$T/outside" "$MQ_SPOOL/t/0/lock"
	run --separate-stderr -1 mq-produce t <<<"b"
	[[ "$stderr" == *"lock"*"symbolic link (refused)"* ]]
	run mq-compact t
	outside_untouched
}

@test "a symlink planted at a group's offset file is refused by commits and resets" {
	one_message
	mq-consume -g g t >/dev/null
	local f=$MQ_SPOOL/t/groups/g/0
	[ -f "$f" ]
	rm "$f"
	ln -s "$T/outside" "$f"
	echo b | mq-produce t
	run --separate-stderr -1 mq-consume -g g t
	[[ "$stderr" == *"symbolic link (refused)"* ]]
	run --separate-stderr -1 mq-group reset g t --to-earliest --execute
	[[ "$stderr" == *"symbolic link (refused)"* ]]
	run -1 mq-group describe g
	outside_untouched
}

@test "a directory symlink planted as a partition or group directory is not followed" {
	one_message
	mkdir "$T/elsewhere"
	mv "$MQ_SPOOL/t/0" "$T/p0"
	ln -s "$T/elsewhere" "$MQ_SPOOL/t/0"
	run -1 mq-produce t <<<"b"
	run -1 mq-consume t
	mkdir -p "$MQ_SPOOL/t/groups"
	ln -s "$T/elsewhere" "$MQ_SPOOL/t/groups/g"
	run -1 mq-consume -g g t
	[ -z "$(ls -A "$T/elsewhere")" ]
}

@test "a symlink planted at compaction's temporary name is never written through" {
	mq-topic create t -p 1 -c cleanup.policy=compact -c segment.bytes=512
	for i in 1 2 3 4 5 6; do
		printf 'k\t%0300d\n' "$i" | mq-produce -K '\t' t
	done
	ln -s "$T/outside" "$(seg log.cleaning)"
	run mq-compact t
	outside_untouched
	[ ! -L "$(seg log.cleaning)" ] || [ "$status" -eq 1 ]
}

@test "a FIFO planted at a segment is refused without hanging" {
	one_message
	rm "$(seg log)"
	mkfifo "$(seg log)"
	run --separate-stderr -1 timeout 10 mq-consume t
	[[ "$stderr" == *"00000000000000000000.log': not a regular file (refused)" ]]
	run -1 timeout 10 mq-produce t <<<"b"
}

# ---- closed standard descriptors ----

@test "with stderr closed, an error message never lands in a segment" {
	mq-topic create t -p 1 -c max.message.bytes=100
	local big
	big=$(printf 'x%.0s' {1..300})
	run -1 sh -c 'printf "a\n%s\n" "$1" | mq-produce t 2>&-' sh "$big"
	run -1 sh -c 'printf "b\n%s\n" "$1" | mq-produce t 2>&- >&-' sh "$big"
	! grep -q "mq-produce" "$(seg log)"
	run mq-consume -F '%o %s\n' t
	assert_output $'0 a\n1 b'
	run mq-topic describe t
	assert_success
}

@test "with stdin and stdout closed, commands still work and write nothing stray" {
	one_message
	run sh -c 'mq-topic describe t <&- >&- 2>&-; echo $?'
	assert_output 0
	run sh -c 'mq-consume -g g t <&- >&-; echo $?'
	assert_output 0
	[ "$(cat "$MQ_SPOOL/t/groups/g/0")" = 1 ]
	run mq-consume t
	assert_output a
}

# ---- locks held by a stuck process ----

@test "a producer gives up on a partition locked by a stuck process after --lock-timeout" {
	one_message
	hold "$MQ_SPOOL/t/0/lock"
	local t0=$SECONDS
	run --separate-stderr -1 mq-produce --lock-timeout 300ms t <<<"b"
	assert_equal "$stderr" "mq-produce: '$MQ_SPOOL/t/0' is locked by another process: gave up after 300ms (see --lock-timeout); 0 messages before it were stored"
	[ $((SECONDS - t0)) -lt 10 ]
	kill "$HOLDER"
	HOLDER=
	run mq-consume t
	assert_output a
}

@test "MQ_LOCK_TIMEOUT sets the same timeout; a bad value is a usage error" {
	one_message
	hold "$MQ_SPOOL/t/0/lock"
	run --separate-stderr -1 env MQ_LOCK_TIMEOUT=0 mq-produce t <<<"b"
	[[ "$stderr" == *"is locked by another process: gave up after 0s"* ]]
	run --separate-stderr -2 env MQ_LOCK_TIMEOUT=soon mq-produce t <<<"b"
	[[ "$stderr" == "mq-produce: MQ_LOCK_TIMEOUT: "* ]]
	run --separate-stderr -2 mq-produce --lock-timeout=-1s t <<<"b"
	[[ "$stderr" == "mq-produce: --lock-timeout: "* ]]
}

@test "a waiting producer takes the lock as soon as the holder lets go" {
	one_message
	hold "$MQ_SPOOL/t/0/lock"
	echo b | mq-produce --lock-timeout 60s t &
	local p=$!
	# it is waiting: nothing stored yet
	wait_for waiting "$p"
	run mq-consume t
	assert_output a
	kill "$HOLDER"
	HOLDER=
	wait "$p"
	run mq-consume t
	assert_output $'a\nb'
}

@test "SIGTERM ends a wait for a lock at once" {
	one_message
	hold "$MQ_SPOOL/t/0/lock"
	mq-produce --lock-timeout 60s t <<<"b" 2>"$T/err" &
	local p=$! t0=$SECONDS rc=0
	wait_for waiting "$p"
	kill -TERM "$p"
	wait "$p" || rc=$?
	[ "$rc" -eq 1 ]
	[ $((SECONDS - t0)) -lt 10 ]
	grep -q "interrupted while waiting for the lock on '$MQ_SPOOL/t/0'" "$T/err"
}

@test "a group commit, a reset and a consumer join give up on a stuck group lock" {
	one_message
	mq-consume -g g t >/dev/null
	hold "$MQ_SPOOL/t/groups/g/lock"
	run --separate-stderr -1 mq-group reset g t --to-earliest --execute --lock-timeout 200ms
	assert_equal "$stderr" "mq-group: group 'g' of topic 't' is locked by another process: gave up after 200ms (see --lock-timeout)"
	run --separate-stderr -1 mq-group delete g --lock-timeout 200ms
	[[ "$stderr" == *"group 'g' of topic 't' is locked by another process"* ]]
	run --separate-stderr -1 mq-consume -g g --lock-timeout 200ms t
	[[ "$stderr" == *"is locked by another process: gave up after 200ms"* ]]
	[ "$(cat "$MQ_SPOOL/t/groups/g/0")" = 1 ]
}

@test "mq-compact skips, after half a second, a partition whose compaction lock a stuck process holds" {
	mq-topic create t -p 1 -c segment.bytes=512 -c retention.ms=1
	for i in 1 2 3 4 5; do printf 'message %0300d\n' $i | mq-produce t; done
	hold "$MQ_SPOOL/t/0/clean"
	local now=$(( $(date +%s) * 1000 + 60000 ))
	run --separate-stderr env MQ_NOW=$now timeout 10 mq-compact t
	assert_success
	assert_equal "$stderr" "mq-compact: '$MQ_SPOOL/t/0' is being compacted by another process"
	[ "$(mq-consume -F '%o' -o beginning -c 1 t)" = 0 ]
	kill "$HOLDER"
	HOLDER=
	MQ_NOW=$now mq-compact t
	[ "$(mq-consume -F '%o' -o beginning -c 1 t)" = 4 ]
}
