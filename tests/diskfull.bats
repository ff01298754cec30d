#!/usr/bin/env bats
# tests/diskfull.bats - a file system that really fills up: a 1 MiB tmpfs
# mounted for each test (skipped where the test cannot mount one, e.g.
# when not root).  Every command that writes must fail with one line
# naming the full disk, leave what was stored readable and intact, and
# work again once space is freed.

load helper
bats_require_minimum_version 1.5.0

per_test_setup() {
	FS="$BATS_TEST_TMPDIR/fs"
	mkdir -p "$FS"
	if [ "$(id -u)" -ne 0 ] ||
	   ! mount -t tmpfs -o size=1m,mode=0755 tmpfs "$FS" 2>/dev/null; then
		skip "cannot mount a small tmpfs here (needs root)"
	fi
	MOUNTED=1
	export MQ_SPOOL="$FS/spool"
}

teardown() {
	if [ "${MOUNTED:-0}" = 1 ]; then
		umount "$FS"
	fi
}

# fill: takes all the space left with $FS/filler.
fill() {
	dd if=/dev/zero of="$FS/filler" bs=4k 2>/dev/null || true
}

# lines N: N numbered 40-byte lines.
lines() {
	seq -f 'line %035g' 1 "$1"
}

@test "a produce that fills the disk fails with one line, keeping whole batches" {
	mq-topic create t
	head -c 400k /dev/zero >"$FS/filler"
	lines 60000 >"$BATS_TEST_TMPDIR/input"
	run --separate-stderr mq-produce t "$BATS_TEST_TMPDIR/input"
	assert_failure 1
	[ "${#stderr_lines[@]}" -eq 1 ]
	[[ "$stderr" == "mq-produce: cannot append to '$FS/spool/t/0': No space left on device; "*" messages before it were stored" ]]
	stored=$(sed 's/.*; \([0-9]*\) messages.*/\1/' <<<"$stderr")
	[ "$stored" -gt 0 ]
	# Exactly the messages it counted, in order, and nothing torn.
	run -0 mq-consume t
	[ "${#lines[@]}" -eq "$stored" ]
	head -n "$stored" "$BATS_TEST_TMPDIR/input" | cmp - <(mq-consume t)
	run -0 mq-topic verify t
}

@test "after space is freed the next produce appends after what was stored" {
	mq-topic create t
	head -c 400k /dev/zero >"$FS/filler"
	lines 60000 >"$BATS_TEST_TMPDIR/input"
	run -1 mq-produce t "$BATS_TEST_TMPDIR/input"
	stored=$(mq-consume t | wc -l)
	rm "$FS/filler"
	run -0 mq-produce t < <(lines 100)
	run -0 mq-consume -o "$stored" -F '%o %s\n' t
	[ "${#lines[@]}" -eq 100 ]
	[ "${lines[0]}" = "$stored line 00000000000000000000000000000000001" ]
	[ "${lines[99]}" = "$((stored + 99)) line 00000000000000000000000000000000100" ]
	run -0 mq-topic verify t
}

@test "a group commit on a full disk fails with one line and keeps the old offset" {
	mq-topic create t
	lines 100 | mq-produce t
	mq-consume -g g -c 10 t >/dev/null
	fill
	run --separate-stderr mq-consume -g g -c 20 t
	assert_failure 1
	[ "${#stderr_lines[@]}" -eq 1 ]
	[[ "$stderr" == mq-consume:*"No space left on device"* ]]
	[ "$(cat "$MQ_SPOOL/t/groups/g/0")" = 10 ]
	rm "$FS/filler"
	run -0 mq-consume -g g t
	[ "${#lines[@]}" -eq 90 ]
	[ "${lines[0]}" = "line 00000000000000000000000000000000011" ]
	[ "$(cat "$MQ_SPOOL/t/groups/g/0")" = 100 ]
}

@test "creating a topic on a full disk fails and leaves nothing behind" {
	mq-topic create t
	fill
	run --separate-stderr mq-topic create u -p 8
	assert_failure 1
	[ "${#stderr_lines[@]}" -eq 1 ]
	[[ "$stderr" == mq-topic:*"No space left on device"* ]]
	run -0 mq-topic list
	assert_output t
	run -0 ls -A "$MQ_SPOOL"
	assert_output $'+format\nt'
	rm "$FS/filler"
	run -0 mq-topic create u -p 8
}

@test "a compaction that fills the disk fails, and succeeds once space is freed" {
	mq-topic create t -c cleanup.policy=compact -c segment.bytes=14000
	# One batch a round; a round that does not fit starts a segment:
	# 0: k1-300, 300: k1-150, 450 (active): k1-300.  Compaction rewrites
	# segment 0 (k1-150 are superseded in segment 300), which needs space.
	for r in 1 2 3; do
		seq 1 $((r == 2 ? 150 : 300)) | awk -v r=$r '{ printf "k%d:r%d-%030d\n", $1, r, $1 }' |
			mq-produce -K : --linger 10000 t
	done
	mq-consume -F '%k %s\n' t | awk '{ v[$1] = $2 } END { for (k in v) print k, v[k] }' |
		sort >"$BATS_TEST_TMPDIR/latest"
	fill
	run --separate-stderr mq-compact t
	assert_failure 1
	[ "${#stderr_lines[@]}" -eq 1 ]
	[[ "$stderr" == mq-compact:*"No space left on device"* ]]
	run -0 mq-topic verify t
	rm "$FS/filler"
	run -0 mq-compact t
	mq-consume -F '%k %s\n' t | awk '{ v[$1] = $2 } END { for (k in v) print k, v[k] }' |
		sort | cmp - "$BATS_TEST_TMPDIR/latest"
	# Compaction did happen: fewer messages than were written.
	[ "$(mq-consume t | wc -l)" -eq 600 ]
	run -0 mq-topic verify t
}
