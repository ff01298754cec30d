#!/usr/bin/env bats
# tests/storage.bats - the partition log on disk: rolling segments by size
# and by time, seeking through the indexes and surviving bad ones, torn
# tail recovery, refusing to truncate corruption, the head as a hint.

load helper
bats_require_minimum_version 1.5.0

per_test_setup() {
	T="$BATS_TEST_TMPDIR"
	P="$MQ_SPOOL/t/0"
}

# logs: the segment files of partition 0 of t, oldest first, one a line.
logs() {
	(cd "$P" && ls | grep '^[0-9]\{20\}\.log$')
}

# size FILE: its size in bytes.
size() {
	stat -c %s "$1"
}

# field NAME TOPIC: the value of NAME in the describe line of partition 0.
field() {
	mq-topic describe "$2" | sed -n "s/.*[[:space:]]$1: \([0-9]*\).*/\1/p"
}

# flip FILE POS: inverts every bit of the byte at POS in FILE.
flip() {
	local b
	b=$(od -A n -t u1 -j "$2" -N 1 "$1" | tr -d ' ')
	printf "\\$(printf %03o $((b ^ 255)))" |
		dd of="$1" bs=1 seek="$2" conv=notrunc status=none
}

# --- rolling ----------------------------------------------------------

@test "segments roll by segment.bytes and each is named by its first offset" {
	mq-topic create t -c segment.bytes=4096
	seq 1 5000 | mq-produce --batch-size 1000 t
	n=$(logs | wc -l)
	[ "$n" -gt 5 ]
	for f in $(logs); do
		[ "$(size "$P/$f")" -le 4096 ]
		base=$((10#${f%.log}))
		run -0 mq-consume -o "$base" -c 1 -F '%o\n' t
		assert_output "$base"
	done
	# Each file really starts with its name's offset: with the older
	# segments gone, the first message read is the one the name says.
	cp -a "$MQ_SPOOL" "$T/copy"
	for f in $(cd "$T/copy/t/0" && ls | grep '\.log$'); do
		run -0 mq-consume -d "$T/copy" -c 1 -F '%o\n' t
		assert_output "$((10#${f%.log}))"
		rm "$T/copy/t/0/${f%.log}".*
	done
	mq-consume t >"$T/out"
	seq 1 5000 >"$T/want"
	cmp "$T/want" "$T/out"
	[ "$(field Segments t)" = "$n" ]
	[ "$(field End t)" = 5000 ]
}

@test "segments roll by segment.ms measured from the first timestamp" {
	mq-topic create t -c segment.ms=1000
	echo a | mq-produce --timestamp 1000 t
	echo b | mq-produce --timestamp 1500 t
	[ "$(logs | wc -l)" -eq 1 ]
	echo c | mq-produce --timestamp 2500 t
	run -0 logs
	assert_output "$(printf '%020d.log\n%020d.log' 0 2)"
	run -0 mq-consume -F '%o %T %s\n' t
	assert_output "$(printf '0 1000 a\n1 1500 b\n2 2500 c')"
	[ "$(field Segments t)" = 2 ]
}

@test "a log with more than ten segments reads to its end and exits 0" {
	mq-topic create t -c segment.bytes=1024
	for ((i = 0; i < 12; i++)); do
		seq $((i * 100 + 1)) $((i * 100 + 100)) | mq-produce t
	done
	[ "$(logs | wc -l)" -ge 12 ]
	run -0 --separate-stderr mq-consume t
	assert_output "$(seq 1 1200)"
	[ -z "$stderr" ]
}

# --- seeking through the indexes --------------------------------------

@test "-o N finds the message at offset N in a log of many segments" {
	mq-topic create t -c segment.bytes=1MiB
	seq 1 200000 | mq-produce --batch-size 4096 t
	[ "$(logs | wc -l)" -gt 1 ]
	[ "$(size "$P/$(logs | head -n 1 | sed 's/log$/idx/')")" -gt 80 ]
	for n in 0 1 4095 123456 199999; do
		run -0 mq-consume -o "$n" -c 1 -F '%o %s\n' t
		assert_output "$n $((n + 1))"
	done
	run -0 mq-consume -o 199998 -F '%o %s\n' t
	assert_output "$(printf '199998 199999\n199999 200000')"
}

@test "an offset index full of garbage does not mislead -o N" {
	mq-topic create t
	seq 1 20000 | mq-produce --batch-size 1024 t
	idx="$P/$(logs | sed 's/log$/idx/')"
	len=$(size "$idx")
	[ "$len" -gt 80 ]
	head -c "$len" /dev/urandom >"$T/garbage"
	cp "$T/garbage" "$idx"
	for n in 0 1 777 10000 19999; do
		run -0 mq-consume -o "$n" -c 1 -F '%o %s\n' t
		assert_output "$n $((n + 1))"
	done
	: >"$idx"
	for n in 0 1 777 10000 19999; do
		run -0 mq-consume -o "$n" -c 1 -F '%o %s\n' t
		assert_output "$n $((n + 1))"
	done
}

@test "-o @TIME works with the time index deleted or full of garbage" {
	mq-topic create t
	for ((i = 1; i <= 10; i++)); do
		seq $((i * 1000 - 999)) $((i * 1000)) |
			mq-produce --batch-size 1024 --timestamp $((i * 1000)) t
	done
	tix="$P/$(logs | sed 's/log$/tix/')"
	[ "$(size "$tix")" -gt 160 ]
	run -0 mq-consume -o @7000 -c 1 -F '%o %T %s\n' t
	assert_output "6000 7000 6001"
	head -c "$(size "$tix")" /dev/urandom >"$T/garbage"
	cp "$T/garbage" "$tix"
	run -0 mq-consume -o @7000 -c 1 -F '%o %T %s\n' t
	assert_output "6000 7000 6001"
	rm "$tix"
	run -0 mq-consume -o @7000 -c 1 -F '%o %T %s\n' t
	assert_output "6000 7000 6001"
	run -0 mq-consume -o @6500 -c 1 -F '%o %T %s\n' t
	assert_output "6000 7000 6001"
	run -0 mq-consume -o @1 -c 1 -F '%o %T %s\n' t
	assert_output "0 1000 1"
}

# rebuilt_like_undisturbed DAMAGE: writes the same batches to t and u
# (from files, so the batching is the same), damages t's active indexes
# with the command DAMAGE FILE, writes more to both, and checks that t's
# indexes were rebuilt to what u's undisturbed writer made.
rebuilt_like_undisturbed() {
	local ext topic
	mq-topic create t
	mq-topic create u
	seq 1 20000 >"$T/in1"
	seq 20001 30000 >"$T/in2"
	for topic in t u; do
		mq-produce --batch-size 1024 --timestamp 5000 $topic "$T/in1"
	done
	cmp "$P/00000000000000000000.idx" "$MQ_SPOOL/u/0/00000000000000000000.idx"
	[ "$(size "$P/00000000000000000000.idx")" -gt 80 ]
	for ext in idx tix; do
		"$@" "$P/00000000000000000000.$ext"
	done
	for topic in t u; do
		mq-produce --batch-size 1024 --timestamp 6000 $topic "$T/in2"
	done
	cmp "$P/00000000000000000000.log" "$MQ_SPOOL/u/0/00000000000000000000.log"
	for ext in idx tix; do
		[ "$(size "$P/00000000000000000000.$ext")" -gt 0 ]
		cmp "$P/00000000000000000000.$ext" \
			"$MQ_SPOOL/u/0/00000000000000000000.$ext"
	done
	for n in 5 19999 20000 25555 29999; do
		run -0 mq-consume -o "$n" -c 1 -F '%o %s\n' t
		assert_output "$n $((n + 1))"
	done
	run -0 mq-consume -o @5500 -c 1 -F '%o %s\n' t
	assert_output "20000 20001"
}

# garble FILE: overwrites FILE with as many random bytes.
garble() {
	head -c "$(size "$1")" /dev/urandom >"$T/garbage"
	cp "$T/garbage" "$1"
}

@test "the active segment's deleted indexes are rebuilt as a writer would" {
	rebuilt_like_undisturbed rm
}

@test "the active segment's garbled indexes are rebuilt as a writer would" {
	rebuilt_like_undisturbed garble
}

# --- torn tails and corruption ----------------------------------------

@test "a tail torn at any byte of the last batch is hidden, then truncated" {
	mq-topic create t
	seg=$(seg0 t)
	seq 1 100 | mq-produce t
	L=$(size "$seg")
	seq 101 105 | mq-produce t
	S=$(size "$seg")
	[ $((S - L)) -gt 56 ]
	mv "$MQ_SPOOL" "$T/pristine"
	seq 1 100 >"$T/want100"
	{ seq 1 100; echo new; } >"$T/want"
	for ((c = L; c < S; c++)); do
		rm -rf "$MQ_SPOOL"
		cp -a "$T/pristine" "$MQ_SPOOL"
		truncate -s "$c" "$seg"
		# A torn tail is not visible and not an error.
		mq-consume t >"$T/out" 2>"$T/err" ||
			fail "cut at $c: mq-consume failed: $(cat "$T/err")"
		cmp -s "$T/want100" "$T/out" || fail "cut at $c: wrong read-back"
		[ ! -s "$T/err" ] || fail "cut at $c: $(cat "$T/err")"
		echo new | mq-produce t 2>"$T/err" ||
			fail "cut at $c: mq-produce failed: $(cat "$T/err")"
		mq-consume t >"$T/out"
		cmp -s "$T/want" "$T/out" || fail "cut at $c: lost or kept too much"
		got=$(field TruncatedBytes t)
		[ "$got" = $((c - L)) ] ||
			fail "cut at $c: TruncatedBytes $got, not $((c - L))"
	done
}

@test "a tail torn inside an indexed batch is truncated with its index entry" {
	mq-topic create t
	seg=$(seg0 t)
	# The first batch passes the index interval, so the last one has an
	# index entry of its own that the cut leaves dangling.
	seq 1 1000 | mq-produce t
	L=$(size "$seg")
	[ "$L" -gt 4096 ]
	# What the index is when "new" follows the first batch directly.
	cp -a "$MQ_SPOOL" "$T/ref"
	echo new | mq-produce -d "$T/ref" t
	idx1=$(size "$P/00000000000000000000.idx")
	seq 1001 1005 | mq-produce t
	S=$(size "$seg")
	[ "$(size "$P/00000000000000000000.idx")" -gt "$idx1" ]
	mv "$MQ_SPOOL" "$T/pristine"
	{ seq 1 1000; echo new; } >"$T/want"
	for ((c = L; c < S; c += 7)); do
		rm -rf "$MQ_SPOOL"
		cp -a "$T/pristine" "$MQ_SPOOL"
		truncate -s "$c" "$seg"
		echo new | mq-produce t 2>"$T/err" ||
			fail "cut at $c: mq-produce failed: $(cat "$T/err")"
		mq-consume t >"$T/out"
		cmp -s "$T/want" "$T/out" || fail "cut at $c: lost or kept too much"
		[ "$(mq-consume -o 1000 -F '%o %s\n' t)" = "1000 new" ] ||
			fail "cut at $c: -o 1000 does not find the new message"
		cmp -s "$T/ref/t/0/00000000000000000000.idx" \
			"$P/00000000000000000000.idx" ||
			fail "cut at $c: the index does not match the log"
	done
}

@test "zeros at the tail are taken for a torn tail and truncated" {
	mq-topic create t
	seg=$(seg0 t)
	seq 1 100 | mq-produce t
	head -c 4096 /dev/zero >>"$seg"
	run -0 --separate-stderr mq-consume t
	assert_output "$(seq 1 100)"
	[ -z "$stderr" ]
	echo new | mq-produce t
	run -0 mq-consume t
	assert_output "$(seq 1 100; echo new)"
	[ "$(field TruncatedBytes t)" = 4096 ]
}

@test "a last batch zeroed by a power loss is a torn tail to readers too" {
	mq-topic create t
	seg=$(seg0 t)
	seq 1 100 | mq-produce t
	L=$(size "$seg")
	seq 101 105 | mq-produce t
	S=$(size "$seg")
	# The file kept its size but the last batch's blocks read as zeros,
	# while the (unsynced) head in the lock file still counts them.
	dd if=/dev/zero of="$seg" bs=1 seek="$L" count=$((S - L)) \
		conv=notrunc status=none
	run -0 --separate-stderr mq-consume t
	assert_output "$(seq 1 100)"
	[ -z "$stderr" ]
	echo new | mq-produce t
	run -0 mq-consume t
	assert_output "$(seq 1 100; echo new)"
	[ "$(field TruncatedBytes t)" = $((S - L)) ]
}

@test "corruption before the tail is reported and never truncated away" {
	mq-topic create t
	seg=$(seg0 t)
	seq 1 100 | mq-produce t
	L=$(size "$seg")
	seq 101 105 | mq-produce t
	flip "$seg" $((L / 2))
	cp "$seg" "$T/before"
	run -1 --separate-stderr mq-produce t <<<x
	[ "${stderr_lines[0]}" = "mq-produce: corrupt data at byte 0 of '$seg': refusing to append after it; 0 messages before it were stored" ]
	cmp "$T/before" "$seg"
	run -1 --separate-stderr mq-consume t
	[ "$stderr" = "mq-consume: corrupt batch in '$seg' at byte 0: invalid batch before the end of the log" ]
	cmp "$T/before" "$seg"
	[ "$(field TruncatedBytes t)" = 0 ]
}

@test "corruption in the last batch of a sealed segment is reported" {
	mq-topic create t -c segment.bytes=1024
	seq 1 100 | mq-produce t
	seq 101 200 | mq-produce t
	[ "$(logs | wc -l)" -eq 2 ]
	seg=$(seg0 t)
	truncate -s $(($(size "$seg") - 1)) "$seg"
	run -1 --separate-stderr mq-consume t
	[[ "$stderr" == "mq-consume: "*corrupt*"00000000000000000000.log"* ]]
}

# --- the head ---------------------------------------------------------

@test "a zeroed head in the lock file does not move the next offset" {
	mq-topic create t
	seq 1 100 | mq-produce t
	seq 101 150 | mq-produce t
	[ "$(size "$P/lock")" -ge 128 ]
	dd if=/dev/zero of="$P/lock" bs=128 count=1 conv=notrunc status=none
	run -0 mq-consume t
	assert_output "$(seq 1 150)"
	echo new | mq-produce t
	run -0 mq-consume -o 150 -F '%o %s\n' t
	assert_output "150 new"
	run -0 mq-consume -c 1 -F '%o %s\n' -o 149 t
	assert_output "149 150"
	[ "$(field End t)" = 151 ]
	[ "$(field TruncatedBytes t)" = 0 ]
}

@test "a head full of garbage is also only a hint" {
	mq-topic create t
	seq 1 100 | mq-produce t
	head -c 128 /dev/urandom |
		dd of="$P/lock" bs=128 count=1 conv=notrunc status=none
	printf 'x\ny\n' | mq-produce t
	run -0 mq-consume -o 99 -F '%o %s\n' t
	assert_output "$(printf '99 100\n100 x\n101 y')"
}
