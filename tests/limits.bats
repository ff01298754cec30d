#!/usr/bin/env bats
# tests/limits.bats - hostile or absurd files at the edges of the format:
# segments named past the last offset (Kafka's offsets are signed 64-bit),
# a partition that reaches the last offset, an index far larger than its
# segment, a config with a NUL byte or a key given twice, and errors on
# files a user may not write, which must name the file.

load helper
bats_require_minimum_version 1.5.0

MAX=9223372036854775807     # 2^63-1: no offset reaches it, ends may

per_test_setup() {
	T=$BATS_TEST_TMPDIR
	P=$MQ_SPOOL/t/0
}

# ten: topic t with messages 0..9 in partition 0.
ten() {
	mq-topic create t
	seq 0 9 | mq-produce t
}

# one_line_error STATUS SUBSTR: the last run exited STATUS with exactly one
# line on stderr containing SUBSTR.
one_line_error() {
	[ "$status" -eq "$1" ] || fail "exit $status, not $1: $stderr"
	[ "${#stderr_lines[@]}" -eq 1 ] || fail "stderr: $stderr"
	[[ $stderr == *"$2"* ]] || fail "stderr lacks '$2': $stderr"
}

# --- offsets -----------------------------------------------------------

@test "a segment named past the last offset is refused as corruption by every command, naming it" {
	local name
	for name in 18446744073709551615 18446744073709551610 09223372036854775807 99999999999999999999; do
		rm -rf "$MQ_SPOOL"
		ten
		cp -a "$MQ_SPOOL" "$T/before"
		: >"$P/$name.log"
		local want="corrupt segment name '$P/$name.log': offsets end at $MAX"
		run --separate-stderr mq-produce t <<<more
		one_line_error 1 "$want"
		run --separate-stderr mq-consume t
		one_line_error 1 "$want"
		assert_output ''
		run --separate-stderr mq-topic verify t
		one_line_error 1 "$want"
		run --separate-stderr mq-topic describe t
		one_line_error 1 "$want"
		run --separate-stderr mq-compact t
		one_line_error 1 "$want"
		run --separate-stderr mq-topic export t -o "$T/t.tar"
		one_line_error 1 "$want"
		# Nothing was appended anywhere, nothing reused an offset.
		rm "$P/$name.log"
		diff -r "$T/before/t/0" "$P" -x lock -x clean
		rm -rf "$T/before"
		run -0 mq-consume -F '%o %s\n' t
		assert_output "$(seq 0 9 | awk '{print $1, $1}')"
	done
}

@test "a partition at the last offset refuses appends with a clear error and never wraps" {
	ten
	# The highest base a segment may have is 2^63-2; start one at 2^63-4.
	: >"$P/09223372036854775803.log"
	run -0 mq-produce t <<<a
	# Four more would pass the end: refused whole, nothing stored.
	run --separate-stderr mq-produce t < <(printf 'b\nc\nd\nx\n')
	one_line_error 1 "cannot append to '$P': it is full (offset 9223372036854775804 and 4 more would pass $MAX)"
	run -0 mq-produce t < <(printf 'b\nc\n')
	run -0 mq-consume -o 10 -F '%o %s\n' t
	assert_output "$(printf '9223372036854775803 a\n9223372036854775804 b\n9223372036854775805 c\n')"
	run -0 mq-produce t <<<e
	run --separate-stderr mq-produce t <<<f
	one_line_error 1 "it is full"
	run -0 mq-consume -o -1 -F '%o %s\n' t
	assert_output "9223372036854775806 e"
	run -0 mq-topic describe t
	assert_output --partial "End: $MAX"
	run -0 mq-topic verify t
	run -0 mq-topic describe --json t
	assert_output --partial "\"end_offset\":$MAX"
}

# --- indexes -----------------------------------------------------------

@test "verify refuses an index larger than its segment can need without reading it, and repair rebuilds it" {
	mq-topic create t -c segment.bytes=4096
	seq 1 400 | sed 's/^/message /' | mq-produce --batch-size 100 t
	local idx
	idx=$(ls "$P"/*.idx | head -n 1)
	# 2 GiB of holes: free to make, and verify used to read it whole.
	truncate -s 2G "$idx"
	local limit=()
	ldd "$(command -v mq-topic)" | grep -q libasan || limit=(ulimit -v 1048576 '&&')
	run --separate-stderr bash -c "${limit[*]} mq-topic verify t"
	[ "$status" -eq 1 ] || fail "exit $status: $stderr $output"
	assert_output --partial "${idx##*/}"
	assert_output --partial "size 2147483648 is more than its log can need"
	run -0 mq-topic repair t
	[ "$(stat -c %s "$idx")" -lt 1024 ]
	run -0 mq-topic verify t
	run -0 mq-consume t
	assert_output "$(seq 1 400 | sed 's/^/message /')"
}

# --- config ------------------------------------------------------------

@test "a config with a NUL byte makes the topic unusable, naming the line, rather than hide partitions" {
	mq-topic create t -p 3
	seq 1 30 | mq-produce t
	cp "$MQ_SPOOL/t/config" "$T/config"
	# A NUL at the start of line 1: everything after it used to be
	# ignored, partitions=1 included.
	{ printf '\0'; cat "$T/config"; } >"$MQ_SPOOL/t/config"
	local c
	for c in "mq-consume t" "mq-produce t" "mq-topic describe t" "mq-compact t" \
		 "mq-topic alter t -p 4" "mq-topic export t -o $T/t.tar"; do
		run --separate-stderr $c </dev/null
		one_line_error 1 "topic 't': config line 1 holds a NUL byte"
	done
	[ ! -e "$MQ_SPOOL/t/3" ]
	cp "$T/config" "$MQ_SPOOL/t/config"
	run -0 mq-consume t
	[ "${#lines[@]}" -eq 30 ]
}

@test "a config that sets a key twice makes the topic unusable, naming both lines" {
	mq-topic create t -p 3
	seq 1 30 | mq-produce t
	echo partitions=1 >>"$MQ_SPOOL/t/config"
	n=$(wc -l <"$MQ_SPOOL/t/config")
	run --separate-stderr mq-consume t
	one_line_error 1 "topic 't': config line $n: partitions is set again (first on line 1)"
	run --separate-stderr mq-topic alter t -p 5
	one_line_error 1 "config line $n"
	[ ! -e "$MQ_SPOOL/t/3" ]
}

# --- files a user may not write ----------------------------------------

# as UID CMD...: run CMD as UID (no supplementary groups).
as() {
	local uid=$1
	shift
	setpriv --reuid="$uid" --regid="$uid" --clear-groups \
		env PATH="$PATH" "$@"
}

@test "a group member that may not write the group's files is told which file" {
	[ "$(id -u)" -eq 0 ] || skip "needs root to switch users"
	command -v setpriv >/dev/null || skip "needs setpriv (util-linux)"
	local D S G
	D=$(mktemp -d /tmp/mq-limits.XXXXXX)
	chmod 755 "$D"
	S=$D/spool
	mq-topic -d "$S" create t
	seq 1 3 | mq-produce -d "$S" t
	mq-consume -d "$S" -g g -c 1 t >/dev/null
	G=$S/t/groups/g
	chmod -R a+rX "$S"
	chmod 777 "$G"
	run --separate-stderr as 65534 mq-consume -d "$S" -g g t
	one_line_error 1 "cannot join group: cannot create '$G/members/+join."
	[[ $stderr == *"': Permission denied" ]] || fail "$stderr"
	chmod 777 "$G/members"
	run --separate-stderr as 65534 mq-consume -d "$S" -g g t
	one_line_error 1 "cannot open group lock '$G/lock': Permission denied"
	rm -rf "$D"
}
