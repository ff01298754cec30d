#!/usr/bin/env bats
# exec.bats - mq-consume --exec CMD: one run of "sh -c CMD" per message (or
# per --batch), its environment, retries and backoff, the dead-letter topic,
# commits with -g, option errors and signals.
load helper
bats_require_minimum_version 1.5.0

BG_PID=

# BG_PID is a "timeout" around mq-consume: SIGTERM reaches both, and
# timeout's -k bounds the wait.
teardown() {
	if [ -n "$BG_PID" ] && kill -0 "$BG_PID" 2>/dev/null; then
		kill -TERM "$BG_PID" 2>/dev/null || true
		wait "$BG_PID" 2>/dev/null || true
	fi
}

# committed GROUP TOPIC P: the group's committed offset file's content.
committed() {
	cat "$MQ_SPOOL/$2/groups/$1/$3"
}

# gaps FILE: the differences between consecutive lines (ns) of FILE.
gaps() {
	awk 'NR > 1 { print $1 - prev } { prev = $1 }' "$1"
}

@test "each message runs CMD once with exactly its value on stdin, byte for byte" {
	mq-topic create t -p 1
	# 0: tabs, spaces, an inner newline and no trailing newline; 1: empty
	printf 'a\tb  c\nd\0\0' | mq-produce -0 t
	# 2: a NUL byte, a high byte and a carriage return
	printf 'x\0y\xff\r\n' | mq-produce t
	# 3: a null value (tombstone)
	printf '\n' | mq-produce -Z t
	D="$BATS_TEST_TMPDIR"
	run mq-consume --exec "cat >\"$D/in.\$MQ_OFFSET\"; echo \"\$MQ_OFFSET\" >>\"$D/runs\"" t
	assert_success
	assert_output ''
	run cat "$D/runs"
	assert_output "$(printf '0\n1\n2\n3')"
	printf 'a\tb  c\nd' >"$D/want.0"
	printf 'x\0y\xff\r' >"$D/want.2"
	cmp "$D/in.0" "$D/want.0"
	cmp "$D/in.2" "$D/want.2"
	assert_file_exists "$D/in.1"
	assert_size_zero "$D/in.1"
	assert_file_exists "$D/in.3"
	assert_size_zero "$D/in.3"
}

@test "CMD gets MQ_TOPIC, MQ_PARTITION, MQ_OFFSET, MQ_KEY, MQ_TIMESTAMP, MQ_ATTEMPT and MQ_GROUP" {
	mq-topic create t -p 2
	printf 'v1\nv2\n' | mq-produce -p 1 -k 'k 1' --timestamp 1700000000123 t
	run mq-consume -g grp --exec 'cat; echo "|$MQ_TOPIC|$MQ_PARTITION|$MQ_OFFSET|$MQ_KEY|$MQ_TIMESTAMP|$MQ_ATTEMPT|$MQ_GROUP"' t
	assert_success
	assert_output "$(printf '%s\n' \
		'v1|t|1|0|k 1|1700000000123|1|grp' \
		'v2|t|1|1|k 1|1700000000123|1|grp')"
}

@test "MQ_KEY and MQ_GROUP are unset for a null key and without -g" {
	mq-topic create t -p 1
	echo v | mq-produce t
	run mq-consume --exec 'echo "key=${MQ_KEY-unset} group=${MQ_GROUP-unset}"' t
	assert_success
	assert_output 'key=unset group=unset'
}

@test "the caller's environment reaches CMD and its own MQ_ variables are replaced, not duplicated" {
	mq-topic create t -p 1
	echo v | mq-produce --timestamp 1700000000000 t
	export FOO='bar baz' MQ_TOPIC=old MQ_PARTITION=9 MQ_OFFSET=999 \
		MQ_KEY=stale MQ_TIMESTAMP=1 MQ_ATTEMPT=7 MQ_GROUP=stale \
		MQ_LAST_OFFSET=5 MQ_COUNT=5
	# /proc/PID/environ is the environment exactly as the shell got it.
	run mq-consume --exec "tr '\\0' '\\n' </proc/\$\$/environ | grep -E '^(FOO|MQ_(TOPIC|PARTITION|OFFSET|LAST_OFFSET|COUNT|KEY|TIMESTAMP|ATTEMPT|GROUP))=' | LC_ALL=C sort" t
	assert_success
	assert_output "$(printf '%s\n' 'FOO=bar baz' 'MQ_ATTEMPT=1' \
		'MQ_OFFSET=0' 'MQ_PARTITION=0' 'MQ_TIMESTAMP=1700000000000' \
		'MQ_TOPIC=t')"
}

@test "CMD's stdout and stderr are mq-consume's, its runs in message order" {
	mq-topic create t -p 1
	seq 1 40 | mq-produce t
	run --separate-stderr mq-consume --exec 'cat; echo; echo "e$MQ_OFFSET" >&2' t
	assert_success
	assert_output "$(seq 1 40)"
	[ "$stderr" = "$(seq 0 39 | sed 's/^/e/')" ]
}

@test "runs follow message order within each partition" {
	mq-topic create t -p 2
	seq 1 20 | mq-produce -p 0 t
	seq 101 120 | mq-produce -p 1 t
	run mq-consume --exec 'echo "$MQ_PARTITION $MQ_OFFSET $(cat)"' t
	assert_success
	[ "${#lines[@]}" -eq 40 ]
	[ "$(printf '%s\n' "${lines[@]}" | grep '^0 ')" = "$(seq 1 20 | awk '{ print "0", $1 - 1, $1 }')" ]
	[ "$(printf '%s\n' "${lines[@]}" | grep '^1 ')" = "$(seq 101 120 | awk '{ print "1", $1 - 101, $1 }')" ]
}

@test "with -g a CMD failing on the 3rd message stops mq-consume (exit 1) with that message's offset committed as next" {
	mq-topic create t -p 1
	seq 1 5 | mq-produce t
	run --separate-stderr mq-consume -g g --exec 'v=$(cat); [ "$v" != 3 ] && echo "$v"' t
	assert_failure 1
	assert_output "$(printf '1\n2')"
	[ "$stderr" = "mq-consume: 'v=\$(cat); [ \"\$v\" != 3 ] && echo \"\$v\"' failed (exit status 1) on 't' partition 0 offset 2 after 1 attempt; its offset stays uncommitted" ]
	[ "$(committed g t 0)" = 2 ]
}

@test "rerunning after fixing the CMD resumes at the message that failed" {
	mq-topic create t -p 1
	seq 1 5 | mq-produce t
	run -1 mq-consume -g g --exec 'v=$(cat); [ "$v" != 3 ] && echo "$v"' t
	[ "$(committed g t 0)" = 2 ]
	run --separate-stderr mq-consume -g g --exec 'cat; echo' t
	assert_success
	assert_output "$(printf '3\n4\n5')"
	[ "$(committed g t 0)" = 5 ]
}

@test "--retries 2 runs a CMD that fails twice 3 times and the message counts as handled" {
	mq-topic create t -p 1
	printf 'a\nb\n' | mq-produce t
	D="$BATS_TEST_TMPDIR"
	# offset 0 fails until its 3rd run, counted in a file per offset
	run mq-consume -g g --retries 2 --retry-backoff 10ms --exec "
		f=\"$D/count.\$MQ_OFFSET\"
		n=\$((\$(cat \"\$f\" 2>/dev/null || echo 0) + 1)); echo \$n >\"\$f\"
		echo \"\$MQ_OFFSET:\$MQ_ATTEMPT\" >>\"$D/attempts\"
		[ \"\$MQ_OFFSET\" != 0 ] || [ \$n -ge 3 ]" t
	assert_success
	[ "$(cat "$D/count.0")" = 3 ]
	[ "$(cat "$D/count.1")" = 1 ]
	[ "$(cat "$D/attempts")" = "$(printf '0:1\n0:2\n0:3\n1:1')" ]
	[ "$(committed g t 0)" = 2 ]
}

@test "--retries 1 is not enough for a CMD that fails twice: exit 1 after 2 attempts" {
	mq-topic create t -p 1
	printf 'a\nb\nc\n' | mq-produce t
	D="$BATS_TEST_TMPDIR"
	run --separate-stderr mq-consume -g g --retries 1 --retry-backoff 10ms --exec "
		echo \"\$MQ_OFFSET:\$MQ_ATTEMPT\" >>\"$D/attempts\"
		[ \"\$MQ_OFFSET\" != 1 ] || [ \$MQ_ATTEMPT -ge 3 ]" t
	assert_failure 1
	[ "$(cat "$D/attempts")" = "$(printf '0:1\n1:1\n1:2')" ]
	[[ "$stderr" == *"failed (exit status 1) on 't' partition 0 offset 1 after 2 attempts; its offset stays uncommitted" ]]
	[ "$(committed g t 0)" = 1 ]
}

@test "--retry-backoff spaces the attempts, doubling the wait each time" {
	mq-topic create t -p 1
	echo a | mq-produce t
	D="$BATS_TEST_TMPDIR"
	run -1 mq-consume --retries 3 --retry-backoff 50ms \
		--exec "date +%s%N >>\"$D/times\"; exit 1" t
	[ "$(wc -l <"$D/times")" -eq 4 ]
	# lower bounds only: 50, 100 and 200 ms
	mapfile -t g < <(gaps "$D/times")
	[ "${g[0]}" -ge 50000000 ]
	[ "${g[1]}" -ge 100000000 ]
	[ "${g[2]}" -ge 200000000 ]
}

@test "the default retry backoff is 100ms" {
	mq-topic create t -p 1
	echo a | mq-produce t
	D="$BATS_TEST_TMPDIR"
	run -1 mq-consume --retries 1 --exec "date +%s%N >>\"$D/times\"; exit 1" t
	[ "$(wc -l <"$D/times")" -eq 2 ]
	[ "$(gaps "$D/times")" -ge 100000000 ]
}

@test "--dlq appends a failed message with its key, value, headers and mq.dlq.* headers, and goes on" {
	mq-topic create t -p 2
	mq-topic create dlq -p 1
	printf 'ok1\nbad\n' | mq-produce -p 1 -k K -H h1=v1 -H 'h2=v 2' \
		--timestamp 1700000000123 t
	printf 'bad\nok2\n' | mq-produce -p 1 --timestamp 1700000000456 t
	cmd='v=$(cat); echo "$v"; [ "$v" != bad ] || exit 3'
	run --separate-stderr mq-consume -g g --retries 1 --retry-backoff 10ms \
		--dlq dlq --exec "$cmd" t
	assert_success
	assert_output "$(printf '%s\n' ok1 bad bad bad bad ok2)"
	[ "$(committed g t 1)" = 4 ]
	run mq-consume -F '%K|%k|%s|%h\n' dlq
	assert_success
	assert_output "$(printf '%s\n' \
		"1|K|bad|h1=v1,h2=v 2,mq.dlq.error=exit status 3,mq.dlq.exit.status=3,mq.dlq.attempts=2,mq.dlq.topic=t,mq.dlq.partition=1,mq.dlq.offset=1,mq.dlq.timestamp=1700000000123,mq.dlq.command=$cmd,mq.dlq.group=g" \
		"-1||bad|mq.dlq.error=exit status 3,mq.dlq.exit.status=3,mq.dlq.attempts=2,mq.dlq.topic=t,mq.dlq.partition=1,mq.dlq.offset=2,mq.dlq.timestamp=1700000000456,mq.dlq.command=$cmd,mq.dlq.group=g")"
}

@test "--dlq reports a CMD killed by a signal as 'killed by signal 9'" {
	mq-topic create t -p 1
	mq-topic create dlq -p 1
	printf 'a\nb\n' | mq-produce --timestamp 1700000000000 t
	cmd='[ "$MQ_OFFSET" != 0 ] || kill -9 $$; cat; echo'
	run mq-consume --dlq dlq --exec "$cmd" t
	assert_success
	assert_output b
	run mq-consume -F '%s|%h\n' dlq
	assert_success
	assert_output "a|mq.dlq.error=killed by signal 9,mq.dlq.exit.status=signal 9,mq.dlq.attempts=1,mq.dlq.topic=t,mq.dlq.partition=0,mq.dlq.offset=0,mq.dlq.timestamp=1700000000000,mq.dlq.command=$cmd"
}

@test "--dlq with a missing topic exits 1 before running CMD" {
	mq-topic create t -p 1
	echo a | mq-produce t
	D="$BATS_TEST_TMPDIR"
	run --separate-stderr mq-consume -g g --dlq nosuch --exec "touch \"$D/ran\"" t
	assert_failure 1
	[ "$stderr" = "mq-consume: dead-letter topic: topic 'nosuch' does not exist in '$MQ_SPOOL'" ]
	assert_file_not_exists "$D/ran"
	assert_file_not_exists "$MQ_SPOOL/t/groups/g/0"
}

@test "--batch gives CMD up to N messages each followed by a newline, with MQ_OFFSET, MQ_LAST_OFFSET and MQ_COUNT" {
	mq-topic create t -p 1
	seq 1 7 | mq-produce t
	run mq-consume --batch 3 --exec 'echo "[$MQ_OFFSET $MQ_LAST_OFFSET $MQ_COUNT]"; cat' t
	assert_success
	assert_output "$(printf '%s\n' '[0 2 3]' 1 2 3 '[3 5 3]' 4 5 6 '[6 6 1]' 7)"
}

@test "--batch separates values with -D's delimiter or with NUL for -0" {
	mq-topic create t -p 1
	printf 'a\nb\nc\n' | mq-produce t
	run mq-consume --batch 2 -D '|' --exec 'cat; echo' t
	assert_success
	assert_output "$(printf 'a|b|\nc|')"
	run mq-consume --batch 2 -0 --exec "tr '\\0' '@'; echo" t
	assert_success
	assert_output "$(printf 'a@b@\nc@')"
}

@test "--batch starts a new run when the partition changes" {
	mq-topic create t -p 2
	printf 'a\nb\nc\n' | mq-produce -p 0 t
	printf 'x\ny\n' | mq-produce -p 1 t
	run mq-consume --batch 10 --exec 'echo "[$MQ_PARTITION $MQ_OFFSET $MQ_LAST_OFFSET $MQ_COUNT]"; cat' t
	assert_success
	p0="$(printf '%s\n' '[0 0 2 3]' a b c)"
	p1="$(printf '%s\n' '[1 0 1 2]' x y)"
	[ "$output" = "$p0"$'\n'"$p1" ] || [ "$output" = "$p1"$'\n'"$p0" ]
}

@test "a failing batch is retried as a whole and dead-lettered message by message" {
	mq-topic create t -p 1
	mq-topic create dlq -p 1
	printf 'a\nb\nc\nd\n' | mq-produce --timestamp 1700000000000 t
	D="$BATS_TEST_TMPDIR"
	cmd="cat >>\"$D/runs\"; echo --- >>\"$D/runs\"; [ \"\$MQ_OFFSET\" != 0 ]"
	run mq-consume -g g --batch 3 --retries 1 --retry-backoff 10ms \
		--dlq dlq --exec "$cmd" t
	assert_success
	[ "$(cat "$D/runs")" = "$(printf '%s\n' a b c --- a b c --- d ---)" ]
	[ "$(committed g t 0)" = 4 ]
	run mq-consume -F '%s %h\n' dlq
	assert_success
	h='mq.dlq.error=exit status 1,mq.dlq.exit.status=1,mq.dlq.attempts=2,mq.dlq.topic=t,mq.dlq.partition=0'
	h2="mq.dlq.timestamp=1700000000000,mq.dlq.command=$cmd,mq.dlq.group=g"
	assert_output "$(printf '%s\n' \
		"a $h,mq.dlq.offset=0,$h2" \
		"b $h,mq.dlq.offset=1,$h2" \
		"c $h,mq.dlq.offset=2,$h2")"
}

@test "-c N stops after N handled messages and commits just past them" {
	mq-topic create t -p 1
	seq 1 5 | mq-produce t
	run mq-consume -g g -c 2 --exec 'cat; echo' t
	assert_success
	assert_output "$(printf '1\n2')"
	[ "$(committed g t 0)" = 2 ]
	run mq-consume -c 3 --batch 10 --exec 'echo "[$MQ_COUNT]"; cat' t
	assert_success
	assert_output "$(printf '%s\n' '[3]' 1 2 3)"
}

@test "--batch, --retries, --retry-backoff and --dlq need --exec (exit 2)" {
	mq-topic create t -p 1
	mq-topic create dlq -p 1
	echo a | mq-produce t
	for opt in '--batch 2' '--retries 1' '--retry-backoff 10ms' '--dlq dlq'; do
		# shellcheck disable=SC2086
		run --separate-stderr mq-consume $opt t
		assert_failure 2
		assert_output ''
		[[ "$stderr" == "mq-consume: "*"need --exec"* ]]
	done
}

@test "--exec cannot be combined with -F, -K, --null-marker or --no-commit (exit 2)" {
	mq-topic create t -p 1
	echo a | mq-produce t
	D="$BATS_TEST_TMPDIR"
	for opt in "-F %s" "-K :" "--null-marker N" "-g g --no-commit"; do
		# shellcheck disable=SC2086
		run --separate-stderr mq-consume $opt --exec "touch \"$D/ran\"" t
		assert_failure 2
		[[ "$stderr" == "mq-consume: "*"--exec cannot be combined"* ]]
	done
	assert_file_not_exists "$D/ran"
}

@test "--batch 0 and a bad --retry-backoff are usage errors (exit 2)" {
	mq-topic create t -p 1
	echo a | mq-produce t
	D="$BATS_TEST_TMPDIR"
	for opt in '--batch 0' '--batch x' '--retry-backoff soon' \
		   '--retry-backoff -5' '--retry-backoff 10parsecs' '--retries x'; do
		# shellcheck disable=SC2086
		run --separate-stderr mq-consume $opt --exec "touch \"$D/ran\"" t
		assert_failure 2
		[[ "$stderr" == "mq-consume: "* ]]
		[ "${#stderr_lines[@]}" -eq 1 ]
	done
	assert_file_not_exists "$D/ran"
}

@test "SIGTERM while waiting to retry exits 0 at once, leaving the failed message uncommitted" {
	mq-topic create t -p 1
	seq 1 5 | mq-produce t
	D="$BATS_TEST_TMPDIR"
	timeout -k 1 60 mq-consume -g g --retries 5 --retry-backoff 10s --exec "
		v=\$(cat); [ \"\$v\" != 3 ] && exit 0
		echo x >>\"$D/failed\"; exit 1" t >"$D/out" 2>"$D/err" &
	BG_PID=$!
	wait_for test -e "$D/failed"
	kill -TERM "$BG_PID"
	status=0
	wait "$BG_PID" || status=$?
	BG_PID=
	[ "$status" -eq 0 ]
	# one attempt only: the stop ends the wait, no retry follows
	[ "$(wc -l <"$D/failed")" -eq 1 ]
	[ "$(committed g t 0)" = 2 ]
}

@test "a CMD that does not read its stdin does not break mq-consume" {
	mq-topic create t -p 1
	big=$(head -c 600000 /dev/zero | tr '\0' v)
	printf '%s\n%s\n%s\n' "$big" "$big" "$big" | mq-produce t
	run --separate-stderr mq-consume -g g --exec true t
	assert_success
	[ -z "$stderr" ]
	[ "$(committed g t 0)" = 3 ]
	run --separate-stderr mq-consume --exec 'head -c 3; echo " $MQ_OFFSET"' t
	assert_success
	assert_output "$(printf 'vvv 0\nvvv 1\nvvv 2')"
	[ -z "$stderr" ]
}

@test "CMD gets SIGPIPE's default disposition, so 'yes | head -1' ends" {
	mq-topic create t -p 1
	echo a | mq-produce t
	D="$BATS_TEST_TMPDIR"
	run --separate-stderr timeout 10 mq-consume \
		--exec "{ yes; echo \$? >\"$D/yes\"; } | head -1" t
	assert_success
	assert_output y
	# killed by SIGPIPE (128 + 13), not ended by a write error
	[ "$(cat "$D/yes")" = 141 ]
	[ -z "$stderr" ]
}

@test "a closed stdout stops --exec quietly: no retries, no dead letters, offset uncommitted" {
	mq-topic create t -p 1
	mq-topic create dlq
	seq 1 2000 | mq-produce t
	run bash -c 'mq-consume -g g --dlq dlq --retries 3 --exec "cat; echo" t | head -1; echo "rc=${PIPESTATUS[0]}"'
	assert_output "$(printf '1\nrc=0')"
	# The first message was handled; the second died of SIGPIPE only
	# because the reader went away, so it stays unconsumed.
	assert_equal "$(cat "$MQ_SPOOL/t/groups/g/0")" 1
	run -0 mq-consume dlq
	assert_output ''
}
