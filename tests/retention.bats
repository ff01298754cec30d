#!/usr/bin/env bats
# tests/retention.bats - mq-compact with cleanup.policy=delete: removing
# sealed segments by age (retention.ms) and by size (retention.bytes), as
# a prefix and never the active segment; what readers and groups see
# afterwards; --dry-run, -v, --archive; several topics; arguments.
#
# Every batch here is 30 short messages of 386 bytes written by one
# mq-produce with --timestamp, and segment.bytes=1024, so a segment holds
# two or three batches and the time of each segment is under control.
# MQ_NOW is the clock of mq-compact.

load helper
bats_require_minimum_version 1.5.0

per_test_setup() {
	T="$BATS_TEST_TMPDIR"
	P="$MQ_SPOOL/t/0"
	STRICT=1
}

# mk TOPIC [CONFIG...]: creates TOPIC with 1024-byte segments.
mk() {
	local t="$1"
	shift
	local c=(-c segment.bytes=1024)
	for kv in "$@"; do
		c+=(-c "$kv")
	done
	mq-topic create "$t" "${c[@]}"
}

# batch TS LABEL [TOPIC]: one batch of 30 messages LABEL-001.. at TS.
batch() {
	seq -f "$2-%03g" 1 30 | mq-produce --linger 10000 --timestamp "$1" "${3:-t}"
}

# batches TOPIC TS...: one batch per TS, labelled b1, b2, ...
batches() {
	local t="$1" i=0 ts
	shift
	for ts in "$@"; do
		i=$((i + 1))
		batch "$ts" "b$i" "$t"
	done
}

# logs [DIR]: the segment logs of a partition (default t/0), oldest first.
logs() {
	(cd "${1:-$P}" && ls | grep '^[0-9]\{20\}\.log$') || true
}

# segfiles [DIR]: every segment file (log, idx, tix) of a partition.
segfiles() {
	(cd "${1:-$P}" && ls | grep '^[0-9]\{20\}\.\(log\|idx\|tix\)$') || true
}

# names OFFSET...: the log names of those base offsets, one a line.
names() {
	local o
	for o in "$@"; do
		printf '%020d.log\n' "$o"
	done
}

# size FILE: its size in bytes.
size() {
	stat -c %s "$1"
}

# field NAME [TOPIC]: a number in the describe line of partition 0.
field() {
	mq-topic describe "${2:-t}" |
		sed -n "s/.*[[:space:]]$1: \([0-9]*\).*/\1/p"
}

# keep DIR: copy of the spool in DIR and a listing in DIR.ls, so that
# unchanged DIR can tell that nothing at all was touched.
keep() {
	cp -a "$MQ_SPOOL" "$1"
	listing "$MQ_SPOOL" >"$1.ls"
}

# listing SPOOL: every file with inode, size, mode and mtime to the
# nanosecond; directories too when $STRICT is set (so not even a
# temporary file was created and removed).
listing() {
	local type=(-type f)
	[ -n "${STRICT:-}" ] && type=()
	(cd "$1" && find . "${type[@]}" -printf '%p %i %s %TY-%Tm-%Td %TT %m\n' |
		sort)
}

# unchanged DIR: the spool is as keep DIR saw it, byte for byte, with the
# same files (same inodes, times and modes).
unchanged() {
	diff -r "$1" "$MQ_SPOOL"
	diff <(listing "$MQ_SPOOL") "$1.ls"
}

# dump [TOPIC]: every message as "offset timestamp value".
dump() {
	mq-consume -F '%o %T %s\n' "${1:-t}"
}

# --- retention.ms ------------------------------------------------------

@test "retention.ms removes the oldest sealed segments whose newest message is older than now - retention.ms" {
	mk t retention.ms=1000
	# segments: [1000 2000] [2500 3000] [6000 7000] [8000]
	batches t 1000 2000 2500 3000 6000 7000 8000
	run -0 logs
	assert_output "$(names 0 60 120 180)"
	MQ_NOW=5000 mq-compact
	run -0 logs
	assert_output "$(names 120 180)"
	# The indexes of the removed segments went with their logs.
	run -0 segfiles
	assert_output "$(printf '%020d.%s\n' 120 idx 120 log 120 tix 180 idx 180 log 180 tix)"
}

@test "a segment with one message newer than the limit stays, and every segment after it stays too" {
	mk t retention.ms=1000
	batch 1000 b1
	echo new | mq-produce --timestamp 9000 t
	batch 1000 b2
	# [b1 new b2] [b3 b4] [b5]: all old but the one message
	batches t 1000 1000 1000
	run -0 logs
	assert_output "$(names 0 61 121)"
	keep "$T/before"
	run -0 env MQ_NOW=5000 mq-compact -v t
	assert_output ""
	unchanged "$T/before"
}

@test "a segment whose newest message is exactly now - retention.ms stays" {
	mk t retention.ms=1000
	batches t 3000 4000 5000
	MQ_NOW=5000 mq-compact
	run -0 logs
	assert_output "$(names 0 60)"
	MQ_NOW=5001 mq-compact
	run -0 logs
	assert_output "$(names 60)"
}

@test "the active segment stays however old it is" {
	mk t retention.ms=1000
	batches t 1000 1000 1000 1000 1000
	MQ_NOW=100000000 mq-compact
	run -0 logs
	assert_output "$(names 120)"
	[ "$(field Start)" = 120 ]
	[ "$(field End)" = 150 ]
	run -0 mq-consume -F '%o %s\n' t
	assert_output "$(seq 120 149 | paste -d ' ' - <(seq -f 'b5-%03g' 1 30))"
}

@test "retention.ms=-1 keeps every segment" {
	mk t retention.ms=-1
	batches t 1000 1000 1000 1000 1000
	keep "$T/before"
	run -0 env MQ_NOW=100000000 mq-compact -v
	assert_output ""
	unchanged "$T/before"
}

@test "after retention describe's Start is the first remaining offset and a reader sees exactly the rest with their offsets" {
	mk t retention.ms=1000
	batches t 1000 2000 2500 3000 6000 7000 8000
	dump >"$T/all"
	[ "$(field Start)" = 0 ]
	MQ_NOW=5000 mq-compact
	[ "$(field Start)" = 120 ]
	[ "$(field End)" = 210 ]
	dump >"$T/after"
	awk '$1 >= 120' "$T/all" >"$T/want"
	[ "$(wc -l <"$T/want")" = 90 ]
	cmp "$T/want" "$T/after"
}

@test "a reader asking for a removed offset starts at the first remaining one" {
	mk t retention.ms=1000
	batches t 1000 2000 2500 3000 6000 7000 8000
	MQ_NOW=5000 mq-compact
	run -0 mq-consume -o 5 -c 2 -F '%o %s\n' t
	assert_output "$(printf '120 b5-001\n121 b5-002')"
	run -0 mq-consume -o 119 -c 1 -F '%o %s\n' t
	assert_output "120 b5-001"
	run -0 mq-consume -o 121 -c 1 -F '%o %s\n' t
	assert_output "121 b5-002"
}

# --- retention.bytes ---------------------------------------------------

@test "retention.bytes removes the oldest segments until the partition, active included, is at or under the limit" {
	mk t
	batches t 1000 1000 1000 1000 1000 1000 1000
	run -0 logs
	assert_output "$(names 0 60 120 180)"
	total=0
	for f in $(logs); do
		total=$((total + $(size "$P/$f")))
	done
	s0=$(size "$P/$(names 0)")
	cp -a "$MQ_SPOOL" "$T/twin"
	# Exactly at the limit after the first segment: only it goes.
	mq-topic alter t -c retention.bytes=$((total - s0))
	MQ_NOW=2000 mq-compact
	run -0 logs
	assert_output "$(names 60 120 180)"
	# One byte less: the second goes too.
	mq-topic -d "$T/twin" alter t -c retention.bytes=$((total - s0 - 1))
	MQ_NOW=2000 mq-compact -d "$T/twin"
	run -0 logs "$T/twin/t/0"
	assert_output "$(names 120 180)"
}

@test "retention.bytes=0 removes every sealed segment but never the active one" {
	mk t retention.bytes=0
	batches t 1000 1000 1000 1000 1000
	MQ_NOW=2000 mq-compact
	run -0 logs
	assert_output "$(names 120)"
	[ "$(field Start)" = 120 ]
}

@test "retention.bytes=-1 keeps every segment" {
	mk t retention.bytes=-1
	batches t 1000 1000 1000 1000 1000 1000 1000
	keep "$T/before"
	run -0 env MQ_NOW=2000 mq-compact -v
	assert_output ""
	unchanged "$T/before"
}

@test "retention.ms and retention.bytes together remove what either one would" {
	mk t retention.ms=1000
	# [1000 1000] [6000 6000] [6000 6000] [6000]: time takes the first
	batches t 1000 1000 6000 6000 6000 6000 6000
	total=0
	for f in $(logs); do
		total=$((total + $(size "$P/$f")))
	done
	s0=$(size "$P/$(names 0)")
	s1=$(size "$P/$(names 60)")
	cp -a "$MQ_SPOOL" "$T/twin"
	# Size alone would take the first two segments.
	mq-topic alter t -c retention.bytes=$((total - s0 - s1))
	run -0 env MQ_NOW=5000 mq-compact -v
	assert_output "t/0: did delete 2 segments: 120 messages, $((s0 + s1)) bytes"
	run -0 logs
	assert_output "$(names 120 180)"
	# A size limit that what time left already meets takes nothing more.
	mq-topic -d "$T/twin" alter t -c retention.bytes=$((total - s0))
	run -0 env MQ_NOW=5000 mq-compact -d "$T/twin" -v
	assert_output "t/0: did delete 1 segment: 60 messages, $s0 bytes"
	run -0 logs "$T/twin/t/0"
	assert_output "$(names 60 120 180)"
}

# --- cleanup.policy ----------------------------------------------------

@test "cleanup.policy=compact alone applies no retention" {
	mk t cleanup.policy=compact retention.ms=1000 retention.bytes=0
	# Every key distinct, so compaction has nothing to drop either.
	for i in 1 2 3 4 5; do
		seq -f "k$i-%03g:v" 1 30 | mq-produce -K : --timestamp 1000 t
	done
	run -0 logs
	assert_output "$(names 0 60 120)"
	# (Looking for something to drop may create and remove temporary
	# files in the partition directory: only files are compared.)
	STRICT=
	keep "$T/before"
	run -0 env MQ_NOW=100000 mq-compact -v
	assert_output ""
	unchanged "$T/before"
}

@test "cleanup.policy=compact,delete applies retention first, then compacts what is left" {
	mk t cleanup.policy=compact,delete retention.ms=1000
	# [old old] [k=1 k=2] [k=3 k=4] [k=5]: keys k001..k030 each batch
	for ts in 1000 1000; do
		seq -f "old-%03g:v" 1 30 | mq-produce -K : --timestamp $ts t
	done
	for i in 1 2 3 4 5; do
		seq -f "k%03g:$i" 1 30 | mq-produce -K : --timestamp 5000 t
	done
	s0=$(size "$P/$(names 0)")
	s1=$(size "$P/$(names 60)")
	s2=$(size "$P/$(names 120)")
	run -0 env MQ_NOW=5500 mq-compact -v
	assert_line -n 0 "t/0: did delete 1 segment: 60 messages, $s0 bytes"
	assert_line -n 1 --regexp "^t/0: did compact 2 segments: 120 messages, 30 keys, drop 90 superseded and 0 tombstones; $((s1 + s2)) bytes -> [0-9]+$"
	[ "${#lines[@]}" = 2 ]
	run -0 mq-consume -F '%o %k %s\n' t
	assert_output "$(seq 150 179 | paste -d ' ' - <(seq -f 'k%03g' 1 30) <(yes 4 | head -30))
$(seq 180 209 | paste -d ' ' - <(seq -f 'k%03g' 1 30) <(yes 5 | head -30))"
}

# --- --dry-run and -v --------------------------------------------------

@test "--dry-run prints what would be deleted and changes nothing" {
	mk t retention.ms=1000
	batches t 1000 2000 2500 3000 6000 7000 8000
	s0=$(size "$P/$(names 0)")
	s1=$(size "$P/$(names 60)")
	keep "$T/before"
	run -0 --separate-stderr env MQ_NOW=5000 mq-compact --dry-run
	assert_output "t/0: would delete 2 segments: 120 messages, $((s0 + s1)) bytes"
	[ -z "$stderr" ]
	unchanged "$T/before"
}

@test "-v prints what was deleted" {
	mk t retention.ms=1000
	batches t 1000 2000 2500 3000 6000 7000 8000
	s0=$(size "$P/$(names 0)")
	run -0 --separate-stderr env MQ_NOW=3500 mq-compact -v
	assert_output "t/0: did delete 1 segment: 60 messages, $s0 bytes"
	[ -z "$stderr" ]
	run -0 logs
	assert_output "$(names 60 120 180)"
}

@test "without -v mq-compact deletes silently" {
	mk t retention.ms=1000
	batches t 1000 2000 2500 3000 6000 7000 8000
	run -0 --separate-stderr env MQ_NOW=5000 mq-compact
	assert_output ""
	[ -z "$stderr" ]
	run -0 logs
	assert_output "$(names 120 180)"
}

# --- --archive ---------------------------------------------------------

# archive_test SUFFIX: runs retention with --archive (and the suffix,
# unless it is "default"), then checks the archive's name, and that it
# holds exactly the removed segments' files with their original bytes.
# Sets $A to the archive.
archive_test() {
	local suffix="$1" opt=()
	[ "$suffix" = default ] || opt=(--archive-suffix "$suffix")
	mk t retention.ms=1000
	batches t 1000 2000 2500 3000 6000 7000 8000
	# A second topic gets its own archive.
	mk u retention.ms=1000
	batches u 1000 1000 1000
	mkdir "$T/orig" "$T/arch"
	cp -a "$P" "$T/orig/t0"
	cp -a "$MQ_SPOOL/u/0" "$T/orig/u0"
	local before after
	before=$(date -u +%s%3N)
	MQ_NOW=5000 mq-compact --archive "$T/arch" "${opt[@]}" t u
	after=$(date -u +%s%3N)
	run -0 logs
	assert_output "$(names 120 180)"
	[ "$suffix" = default ] && suffix=.tar.gz
	run -0 ls "$T/arch"
	[ "${#lines[@]}" = 2 ]
	# TOPIC.YYYYMMDDTHHMMSS.mmmZ.SUFFIX, stamped by the real clock
	local q="${suffix//./\\.}"
	assert_line -n 0 --regexp "^t\.[0-9]{8}T[0-9]{6}\.[0-9]{3}Z$q$"
	assert_line -n 1 --regexp "^u\.[0-9]{8}T[0-9]{6}\.[0-9]{3}Z$q$"
	A="$T/arch/${lines[0]}"
	local B="$T/arch/${lines[1]}"
	local s="${lines[0]#t.}" ms
	s="${s%Z*}"
	ms=$(date -u -d "${s:0:4}-${s:4:2}-${s:6:2}T${s:9:2}:${s:11:2}:${s:13:2}Z" +%s)
	ms=$((ms * 1000 + 10#${s:16:3}))
	[ "$ms" -ge $((before - 1)) ] && [ "$ms" -le $((after + 1)) ]
	mkdir "$T/x"
	case "$suffix" in
	.tar)
		[ "$(dd if="$A" bs=1 skip=257 count=5 status=none)" = ustar ]
		tar -C "$T/x" -xf "$A"
		;;
	.tar.gz)
		[ "$(od -A n -t x1 -N 2 "$A" | tr -d ' ')" = 1f8b ]
		gzip -dc "$A" | tar -C "$T/x" -xf -
		;;
	.tar.zst)
		[ "$(od -A n -t x1 -N 4 "$A" | tr -d ' ')" = 28b52ffd ]
		zstd -qdc "$A" | tar -C "$T/x" -xf -
		;;
	esac
	run -0 bash -c "cd '$T/x' && find . -type f | sort"
	assert_output "$(for o in 0 60; do
		printf './t/0/%020d.%s\n' "$o" idx "$o" log "$o" tix
	done)"
	for f in "$T"/x/t/0/*; do
		cmp "$T/orig/t0/${f##*/}" "$f"
	done
	# u's archive holds u's two sealed segments.
	rm -rf "$T/x" && mkdir "$T/x"
	case "$suffix" in
	.tar) tar -C "$T/x" -xf "$B" ;;
	.tar.gz) gzip -dc "$B" | tar -C "$T/x" -xf - ;;
	.tar.zst) zstd -qdc "$B" | tar -C "$T/x" -xf - ;;
	esac
	run -0 bash -c "cd '$T/x' && find . -type f | sort"
	assert_output "$(printf './u/0/%020d.%s\n' 0 idx 0 log 0 tix)"
	for f in "$T"/x/u/0/*; do
		cmp "$T/orig/u0/${f##*/}" "$f"
	done
}

@test "--archive with --archive-suffix .tar stores the removed segments' original files in a plain tar" {
	archive_test .tar
}

@test "--archive with --archive-suffix .tar.gz stores the removed segments' original files in a gzipped tar" {
	archive_test .tar.gz
}

@test "--archive with --archive-suffix .tar.zst stores the removed segments' original files in a zstd tar" {
	archive_test .tar.zst
}

@test "--archive without --archive-suffix makes a .tar.gz" {
	archive_test default
}

@test "--archive makes one archive per topic holding every partition's removed segments" {
	mq-topic create t -p 2 -c segment.bytes=1024 -c retention.ms=1000
	for p in 0 1; do
		for i in 1 2 3; do
			seq -f "p$p-%03g" 1 30 |
				mq-produce -p $p --timestamp 1000 t
		done
	done
	mkdir "$T/arch"
	MQ_NOW=5000 mq-compact --archive "$T/arch" --archive-suffix .tar
	run -0 ls "$T/arch"
	[ "${#lines[@]}" = 1 ]
	run -0 bash -c "tar -tf '$T/arch/${lines[0]}' | grep -v '/\$' | sort"
	assert_output "$(printf 't/%s/%020d.%s\n' 0 0 idx 0 0 log 0 0 tix 1 0 idx 1 0 log 1 0 tix)"
}

@test "--archive makes no archive when nothing goes" {
	mk t retention.ms=1000
	batches t 1000 2000 2500 3000 6000 7000 8000
	mkdir "$T/arch"
	run -0 env MQ_NOW=1000 mq-compact --archive "$T/arch" -v
	assert_output ""
	run -0 ls -A "$T/arch"
	assert_output ""
}

@test "--dry-run with --archive makes no archive" {
	mk t retention.ms=1000
	batches t 1000 2000 2500 3000 6000 7000 8000
	mkdir "$T/arch"
	run -0 env MQ_NOW=5000 mq-compact --dry-run --archive "$T/arch"
	assert_output --partial "would delete 2 segments"
	run -0 ls -A "$T/arch"
	assert_output ""
}

@test "--archive into a directory that does not exist fails with status 1 and deletes nothing" {
	mk t retention.ms=1000
	batches t 1000 2000 2500 3000 6000 7000 8000
	keep "$T/before"
	run -1 --separate-stderr env MQ_NOW=5000 mq-compact -v --archive "$T/nowhere"
	assert_output ""
	[ "$(printf '%s\n' "$stderr" | wc -l)" = 1 ]
	[[ "$stderr" == "mq-compact: "*"$T/nowhere"* ]]
	unchanged "$T/before"
	[ ! -e "$T/nowhere" ]
}

@test "--archive names fit the file system for every legal topic name: long ones are shortened with a hash" {
	local base long1 long2 edge a b
	base=$(printf 'x%.0s' {1..240})
	long1="${base}aaaaaaaaa"      # 249 characters, the longest legal
	long2="${base}bbbbbbbbb"      # the same first 240
	edge=$(printf 'e%.0s' {1..200})   # 200: still used whole
	for t in "$long1" "$long2" "$edge"; do
		mk "$t" retention.ms=1000
		batches "$t" 1000 1000 1000
	done
	mkdir "$T/arch"
	run -0 --separate-stderr env MQ_NOW=5000 mq-compact --archive "$T/arch" \
		--archive-suffix .tar.zst
	assert_equal "$stderr" ""
	for t in "$long1" "$long2" "$edge"; do
		run -0 logs "$MQ_SPOOL/$t/0"
		assert_output "$(names 60)"
	done
	run -0 ls "$T/arch"
	[ "${#lines[@]}" = 3 ]
	local q='\.[0-9]{8}T[0-9]{6}\.[0-9]{3}Z\.tar\.zst$'
	assert_line -n 0 --regexp "^$edge$q"
	assert_line -n 1 --regexp "^${base:0:183}~[0-9a-f]{16}$q"
	assert_line -n 2 --regexp "^${base:0:183}~[0-9a-f]{16}$q"
	a="${lines[1]}" b="${lines[2]}"
	[ "${a%%.*}" != "${b%%.*}" ]
	# With ".tmp." and the largest process id, each still fits NAME_MAX.
	for f in "${lines[@]}"; do
		[ $((${#f} + 15)) -le 255 ]
	done
	# Inside, entries carry the whole topic names.
	run -0 bash -c "cd '$T/arch' && for f in *; do zstd -qdc \"\$f\" | tar -tf -; done | grep '\.log\$' | sort"
	assert_output "$(printf '%s/0/%020d.log\n' "$edge" 0 "$long1" 0 "$long2" 0 | sort)"
}

# --- several topics ----------------------------------------------------

# three_topics: a, b and c each with one expired segment of 60 messages.
three_topics() {
	local t
	for t in a b c; do
		mk $t retention.ms=1000
		batches $t 1000 1000 1000
	done
}

@test "mq-compact without a topic handles every topic" {
	three_topics
	run -0 env MQ_NOW=5000 mq-compact -v
	assert_output --regexp "^a/0: did delete 1 segment: 60 messages, [0-9]+ bytes
b/0: did delete 1 segment: 60 messages, [0-9]+ bytes
c/0: did delete 1 segment: 60 messages, [0-9]+ bytes$"
	for t in a b c; do
		run -0 logs "$MQ_SPOOL/$t/0"
		assert_output "$(names 60)"
	done
}

@test "mq-compact with topics handles only those" {
	three_topics
	run -0 env MQ_NOW=5000 mq-compact -v c a
	assert_output --regexp "^c/0: did delete 1 segment: 60 messages, [0-9]+ bytes
a/0: did delete 1 segment: 60 messages, [0-9]+ bytes$"
	for t in a c; do
		run -0 logs "$MQ_SPOOL/$t/0"
		assert_output "$(names 60)"
	done
	run -0 logs "$MQ_SPOOL/b/0"
	assert_output "$(names 0 60)"
}

@test "a missing topic makes mq-compact exit 1 after handling the others" {
	three_topics
	run -1 --separate-stderr env MQ_NOW=5000 mq-compact a nope c
	assert_output ""
	assert_equal "$stderr" "mq-compact: topic 'nope' does not exist in '$MQ_SPOOL'"
	for t in a c; do
		run -0 logs "$MQ_SPOOL/$t/0"
		assert_output "$(names 60)"
	done
	run -0 logs "$MQ_SPOOL/b/0"
	assert_output "$(names 0 60)"
}

# --- the clock and the arguments ---------------------------------------

@test "MQ_NOW takes an ISO-8601 time" {
	mk t retention.ms=1000
	batches t 1000 2000 2500 3000 6000 7000 8000
	MQ_NOW=1970-01-01T00:00:05.000Z mq-compact
	run -0 logs
	assert_output "$(names 120 180)"
	[ "$(field Start)" = 120 ]
}

@test "a bad MQ_NOW is a usage error that changes nothing" {
	mk t retention.ms=1000
	batches t 1000 2000 2500 3000 6000 7000 8000
	keep "$T/before"
	run -2 --separate-stderr env MQ_NOW=yesterday mq-compact
	[[ "$stderr" == "mq-compact: MQ_NOW: "* ]]
	[ "$(printf '%s\n' "$stderr" | wc -l)" = 1 ]
	unchanged "$T/before"
}

@test "a bad --memory, --archive-suffix or option is a usage error" {
	mk t retention.ms=1000
	batches t 1000 2000 2500
	keep "$T/before"
	run -2 --separate-stderr mq-compact --memory lots
	[[ "$stderr" == "mq-compact: --memory: "* ]]
	run -2 --separate-stderr mq-compact --memory 1023
	assert_equal "$stderr" "mq-compact: --memory: at least 1KiB"
	run -2 --separate-stderr mq-compact --archive-suffix .zip
	assert_equal "$stderr" "mq-compact: bad --archive-suffix '.zip': use .tar, .tar.gz or .tar.zst"
	run -2 --separate-stderr mq-compact --frobnicate
	[[ "$stderr" == "mq-compact: "*frobnicate* ]]
	run -2 --separate-stderr mq-compact 'bad/topic'
	[[ "$stderr" == "mq-compact: "* ]]
	unchanged "$T/before"
	# The smallest map is accepted.
	run -0 mq-compact --memory 1KiB
}

@test "a spool that does not exist makes mq-compact fail naming it, so a mistyped MQ_SPOOL is noticed" {
	run -1 --separate-stderr mq-compact -v
	assert_output ""
	assert_equal "$stderr" "mq-compact: spool '$MQ_SPOOL' does not exist (mq-topic create makes it)"
	[ ! -e "$MQ_SPOOL" ]
	run -1 --separate-stderr mq-compact t
	assert_equal "$stderr" "mq-compact: spool '$MQ_SPOOL' does not exist (mq-topic create makes it)"
	[ ! -e "$MQ_SPOOL" ]
	# An empty spool has nothing to do; a topic named is missing.
	mkdir "$MQ_SPOOL"
	run -0 --separate-stderr mq-compact -v
	assert_output ""
	assert_equal "$stderr" ""
	run -1 --separate-stderr mq-compact t
	assert_equal "$stderr" "mq-compact: topic 't' does not exist in '$MQ_SPOOL'"
}

# --- consumer groups ---------------------------------------------------

@test "a group whose committed offset retention removed warns and starts at the log start" {
	mk t retention.ms=1000
	batches t 1000 2000 2500 3000 6000 7000 8000
	run -0 mq-consume -g G -c 10 -F '%o\n' t
	assert_line -n 9 9
	MQ_NOW=5000 mq-compact
	run -0 --separate-stderr mq-consume -g G -c 2 -F '%o %s\n' t
	assert_output "$(printf '120 b5-001\n121 b5-002')"
	assert_equal "$stderr" "mq-consume: group 'G': committed offset 10 of 't' partition 0 is below the log start: resetting to earliest (120)"
	# It committed from there.
	run -0 mq-consume -g G -c 1 -F '%o %s\n' t
	assert_output "122 b5-003"
}
