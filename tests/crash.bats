#!/usr/bin/env bats
# tests/crash.bats - tools/crash-loop: producers and group members killed
# with SIGKILL at random moments lose nothing they acknowledged (--acks),
# a kill only cuts off what was not stored yet, and the harness itself
# notices when an acknowledgement is false.

load helper
bats_require_minimum_version 1.5.0

CRASH_LOOP="$BATS_TEST_DIRNAME/../tools/crash-loop"

# fake_bin DIR: the mq commands of $MQ_BIN, except an mq-produce that,
# once, logs an acknowledgement for an offset nobody wrote.
fake_bin() {
	local c
	mkdir -p "$1"
	for c in mq-topic mq-consume mq-group; do
		ln -s "$MQ_BIN/$c" "$1/$c"
	done
	cat >"$1/mq-produce" <<EOF
#!/usr/bin/env bash
prev=
for a; do
	if [ "\$prev" = --acks ] && mkdir "$1/lied" 2>/dev/null; then
		echo "0 999999 999999" >>"\$a"
	fi
	prev=\$a
done
exec "$MQ_BIN/mq-produce" "\$@"
EOF
	chmod +x "$1/mq-produce"
}

@test "200 rounds of kill -9 lose no acknowledged message and no acknowledged commit" {
	run --separate-stderr "$CRASH_LOOP" --rounds 200 --bin "$MQ_BIN" \
		--keep "$BATS_TEST_TMPDIR/work"
	[ "$status" -eq 0 ] || { echo "$stderr"; false; }
	assert_output --regexp '^rounds 200: kills 200 \(producers [0-9]+, consumers [0-9]+\), acknowledged [1-9][0-9]* messages, lost 0, incarnations [0-9]+, duplicates [0-9]+, verify runs 200: PASS$'
	local x y i
	x=$(sed -E 's/.*producers ([0-9]+),.*/\1/' <<<"$output")
	y=$(sed -E 's/.*consumers ([0-9]+)\).*/\1/' <<<"$output")
	i=$(sed -E 's/.*incarnations ([0-9]+),.*/\1/' <<<"$output")
	[ "$((x + y))" -eq 200 ]
	# each kill of a producer started a new incarnation of it
	[ "$i" -eq "$((4 + x))" ]
	[ "$x" -gt 0 ] && [ "$y" -gt 0 ]
}

@test "crash-loop fails, with the evidence, when an acknowledged offset is not in the log" {
	fake_bin "$BATS_TEST_TMPDIR/bin"
	run --separate-stderr -1 "$CRASH_LOOP" --rounds 3 --seed 1 \
		--bin "$BATS_TEST_TMPDIR/bin" --keep "$BATS_TEST_TMPDIR/work"
	assert_output --regexp '^rounds 3: .*, lost 1, .*: FAIL$'
	[[ "$stderr" == *"p"[0-3]".i0: acknowledged 0:999999 is not in the log"* ]]
}

@test "crash-loop refuses a bad --rounds with exit 2" {
	run --separate-stderr -2 "$CRASH_LOOP" --rounds many --bin "$MQ_BIN"
	assert_output ""
	[[ "$stderr" == "crash-loop: invalid number for --rounds: 'many'"* ]]
}
