#!/usr/bin/env bats
# tests/compact.bats - mq-compact with cleanup.policy=compact: Kafka's
# documented guarantees of log compaction (a consumer that keeps up sees
# everything, order is kept, offsets never change, a reader from the start
# sees the final value of every key, tombstones are visible for
# delete.retention.ms), min.compaction.lag.ms, keyless records, passes
# with little memory, compressed topics, headers, big records, emptied
# segments, idempotence, --dry-run and -v numbers, the partition lock,
# corruption, and producers and consumers at work meanwhile.
#
# Messages are "key:value" lines produced with -K : at a fixed
# --timestamp, and MQ_NOW is later than all of them unless a test is
# about time.  The newest segment is never compacted, so each workload
# ends with a batch that starts a new segment.

load helper
bats_require_minimum_version 1.5.0

per_test_setup() {
	T="$BATS_TEST_TMPDIR"
	P="$MQ_SPOOL/t/0"
	BG=()
}

teardown() {
	local p
	rm -f "$T/hold"
	for p in "${BG[@]}"; do
		kill -KILL "$p" 2>/dev/null || true
		wait "$p" 2>/dev/null || true
	done
}

# mk TOPIC [CONFIG...]: a compacted topic with 1024-byte segments.
mk() {
	local t="$1"
	shift
	local c=(-c segment.bytes=1024 -c cleanup.policy=compact)
	for kv in "$@"; do
		c+=(-c "$kv")
	done
	mq-topic create "$t" "${c[@]}"
}

# put TS [ARGS...]: produces stdin's key:value lines to t (or as ARGS
# say) at TS, in as few batches as --batch-size allows whatever the
# pipe's pace (--linger), so segments roll at known offsets; an empty
# value is a tombstone.
put() {
	local ts="$1"
	shift
	[ $# -gt 0 ] || set -- t
	mq-produce -K : -Z --linger 10000 --timestamp "$ts" "$@"
}

# gen VALUE [FIRST LAST]: lines kFIRST:VALUE .. kLAST:VALUE (default 1..40).
gen() {
	local i
	for ((i = ${2:-1}; i <= ${3:-40}; i++)); do
		echo "k$i:$1"
	done
}

# shuffled SEED KEYS UPDATES [TOMB%]: UPDATES key:value lines over KEYS
# keys, each key updated equally often, in an order shuffled with SEED;
# values are vN with N the line number; TOMB% of them are tombstones.
shuffled() {
	awk -v seed="$1" -v keys="$2" -v n="$3" -v tomb="${4:-0}" 'BEGIN {
		srand(seed)
		for (i = 0; i < n; i++)
			k[i] = "k" (i % keys)
		for (i = n - 1; i > 0; i--) {
			j = int(rand() * (i + 1))
			x = k[i]; k[i] = k[j]; k[j] = x
		}
		for (i = 0; i < n; i++)
			if (rand() * 100 < tomb)
				print k[i] ":"
			else
				print k[i] ":v" i + 1
	}'
}

# logs [DIR]: the segment logs of a partition (default t/0), oldest first.
logs() {
	(cd "${1:-$P}" && ls | grep '^[0-9]\{20\}\.log$') || true
}

# active [DIR]: the base offset of the newest segment.
active() {
	local f
	f=$(logs "$@" | tail -n 1)
	echo $((10#${f%.log}))
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

# dump [ARGS...]: every message of t (with mq-consume ARGS) as "offset
# key value timestamp headers", a null key or value as "~".
dump() {
	mq-consume -F '%o %k %s %T %h\n' --null-marker '~' "$@" t
}

# model A NOW DELRET < DUMP: what compaction of the offsets below A must
# leave of DUMP: of each key, its last record below A (unless that is a
# tombstone older than NOW - DELRET), records without a key, and
# everything from A on.
model() {
	awk -v a="$1" -v now="$2" -v dr="$3" '
		{ line[NR] = $0; o[NR] = $1; k[NR] = $2; v[NR] = $3; t[NR] = $4
		  if ($1 < a && $2 != "~") last[$2] = $1 }
		END {
			for (i = 1; i <= NR; i++) {
				if (o[i] >= a || k[i] == "~") { print line[i]; continue }
				if (last[k[i]] != o[i]) continue
				if (v[i] == "~" && t[i] < now - dr) continue
				print line[i]
			}
		}'
}

# files DIR: every file under DIR with inode, size, mtime (ns) and mode.
files() {
	(cd "$1" && find . -type f -printf '%p %i %s %TY-%Tm-%Td %TT %m\n' |
		sort)
}

# keep DIR: copy of the spool and its file listing, for unchanged.
keep() {
	cp -a "$MQ_SPOOL" "$1"
	files "$MQ_SPOOL" >"$1.ls"
}

# unchanged DIR [PREFIX]: the files of the spool (whose path starts with
# PREFIX) are those keep DIR saw: same names, inodes, times and bytes.
unchanged() {
	local f
	diff <(files "$MQ_SPOOL" | grep "^\./${2:-}") <(grep "^\./${2:-}" "$1.ls")
	for f in $(cd "$1" && find . -type f -path "./${2:-}*"); do
		cmp "$1/$f" "$MQ_SPOOL/$f"
	done
}

# increasing FILE: are the offsets (first field) strictly increasing?
increasing() {
	awk 'NR > 1 && $1 <= prev { print "offset " $1 " after " prev; bad = 1 }
	     { prev = $1 } END { exit bad }' "$1"
}

# --- Kafka's guarantees ------------------------------------------------

@test "a consumer that keeps up with the head sees every message in order, compaction notwithstanding" {
	mk t
	mq-consume -f -F '%o %k %s\n' t >"$T/out" 2>"$T/err" 3>&- &
	BG+=($!)
	: >"$T/written"
	n=0 did=0
	for round in 1 2 3 4 5 6; do
		shuffled "$round" 20 150 >"$T/in"
		put 1000 --batch-size 500 t <"$T/in"
		awk -v n="$n" -F : '{ print n + NR - 1, $1, $2 }' "$T/in" >>"$T/written"
		n=$((n + 150))
		wait_for lines_in "$T/out" "$n"
		run -0 env MQ_NOW=2000 mq-compact -v
		[ -z "$output" ] || did=$((did + 1))
	done
	[ "$did" -ge 4 ]
	# It really compacted: a reader from the start now sees fewer.
	[ "$(mq-consume t | wc -l)" -lt "$n" ]
	cmp "$T/written" "$T/out"
	[ ! -s "$T/err" ]
}

@test "compaction keeps the remaining records in offset order and each key's values in write order" {
	mk t segment.bytes=2048
	shuffled 7 50 2000 >"$T/in"
	put 1000 --batch-size 500 t <"$T/in"
	MQ_NOW=2000 mq-compact
	mq-consume -F '%o %k %s\n' t >"$T/after"
	[ "$(wc -l <"$T/after")" -lt 2000 ]
	increasing "$T/after"
	# values are vN with N the write order: increasing within each key
	awk '{ n = substr($3, 2) + 0
	       if ($2 in last && n <= last[$2]) { print; bad = 1 }
	       last[$2] = n; seen[$2]++ }
	     END { for (k in seen) if (seen[k] > 1) multi++
		   if (multi < 10) bad = 1; exit bad }' "$T/after"
}

@test "compaction never changes the offset, key, value, timestamp or headers of a message" {
	mk t
	for r in 1 2 3 4 5 6 7 8; do
		shuffled "$r" 30 100 10 | put $((1000 + r)) -H round=$r -H x=y t
	done
	dump >"$T/before"
	MQ_NOW=5000 mq-compact
	dump >"$T/after"
	[ "$(wc -l <"$T/after")" -lt "$(wc -l <"$T/before")" ]
	# Every record left is the record that had its offset before.
	run -0 comm -23 <(sort "$T/after") <(sort "$T/before")
	assert_output ""
	grep -q ' round=8,x=y$' "$T/after"
}

@test "a consumer reading from the start sees the final value of every key, in write order, and the whole tail" {
	for seed in 11 12; do
		rm -rf "$MQ_SPOOL"
		# The second workload has tombstones, removed at once.
		tomb=$(( seed == 12 ? 5 : 0 ))
		mk t segment.bytes=4096 delete.retention.ms=0
		shuffled $seed 200 5000 $tomb >"$T/in"
		put 1000 --batch-size 1000 t <"$T/in"
		dump >"$T/before"
		a=$(active)
		[ "$a" -gt 2500 ]
		MQ_NOW=2000 mq-compact
		dump >"$T/after"
		model "$a" 2000 0 <"$T/before" >"$T/want"
		[ "$(wc -l <"$T/want")" -lt 2000 ]
		diff "$T/want" "$T/after"
	done
	# The tombstones were there to drop.
	grep -q ':$' "$T/in"
}

@test "a tombstone is visible to a reader from the start for delete.retention.ms, and the key's older values are gone" {
	mk t delete.retention.ms=10000
	printf 'a:1\nb:1\na:2\n' | put 1000
	printf 'a:\n' | put 3000
	printf 'b:2\n' | put 3000
	gen x | put 3000
	gen y | put 3000
	gen z | put 3000
	run -0 logs
	assert_output "$(names 0 85)"
	cp -a "$MQ_SPOOL" "$T/edge"
	cp -a "$MQ_SPOOL" "$T/late"
	run -0 env MQ_NOW=5000 mq-compact -v
	assert_output --regexp "^t/0: did compact 1 segment: 85 messages, 42 keys, drop 43 superseded and 0 tombstones; [0-9]+ bytes -> [0-9]+$"
	run -0 mq-consume -o 0 -c 3 -F '%o %k %s\n' --null-marker '~' t
	assert_output "$(printf '3 a ~\n4 b 2\n45 k1 y')"
	# Still there at exactly delete.retention.ms.
	MQ_NOW=13000 mq-compact -d "$T/edge"
	run -0 mq-consume -d "$T/edge" -o 0 -c 3 -F '%o %k %s\n' --null-marker '~' t
	assert_output "$(printf '3 a ~\n4 b 2\n45 k1 y')"
	# Gone after.
	run -0 env MQ_NOW=13001 mq-compact -d "$T/late" -v
	assert_output --regexp "^t/0: did compact 1 segment: 85 messages, 42 keys, drop 43 superseded and 1 tombstones; [0-9]+ bytes -> [0-9]+$"
	run -0 mq-consume -d "$T/late" -o 0 -c 2 -F '%o %k %s\n' --null-marker '~' t
	assert_output "$(printf '4 b 2\n45 k1 y')"
	# A second run a day later finds the tombstone too, and drops it.
	run -0 env MQ_NOW=100000000 mq-compact -v
	assert_output --regexp "^t/0: did compact 1 segment: 42 messages, 42 keys, drop 0 superseded and 1 tombstones; [0-9]+ bytes -> [0-9]+$"
	run -0 mq-consume -o 0 -c 2 -F '%o %k %s\n' --null-marker '~' t
	assert_output "$(printf '4 b 2\n45 k1 y')"
}

@test "min.compaction.lag.ms leaves alone the segments with newer messages and all after them" {
	mk t min.compaction.lag.ms=2000
	i=0
	for ts in 1000 1000 5000 5000 1000 1000 1000; do
		gen $((++i)) | put $ts
	done
	run -0 logs
	assert_output "$(names 0 80 160 240)"
	keep "$T/before"
	dump >"$T/all"
	run -0 env MQ_NOW=6000 mq-compact -v
	assert_output --regexp "^t/0: did compact 1 segment: 80 messages, 40 keys, drop 40 superseded and 0 tombstones; [0-9]+ bytes -> [0-9]+$"
	# The first segment kept its second batch; the others are untouched.
	dump >"$T/after"
	diff <(awk '$1 >= 40' "$T/all") "$T/after"
	for b in 80 160 240; do
		unchanged "$T/before" "t/0/$(printf %020d $b)"
	done
}

@test "with min.compaction.lag.ms=0 every sealed segment is compacted" {
	mk t min.compaction.lag.ms=0
	i=0
	for ts in 1000 1000 5000 5000 1000 1000 1000; do
		gen $((++i)) | put $ts
	done
	dump >"$T/all"
	MQ_NOW=6000 mq-compact
	run -0 logs
	assert_output "$(names 160 240)"
	dump >"$T/after"
	diff <(awk '$1 >= 200' "$T/all") "$T/after"
}

# --- records without a key ---------------------------------------------

@test "mq-produce refuses a message without a key on a compacted topic and keeps the ones before it" {
	mk t
	run -1 --separate-stderr bash -c "printf 'a:1\nb:2\nnokey\nc:3\n' | mq-produce -K : t"
	assert_output ""
	assert_equal "$stderr" "mq-produce: message 3 at byte 8 of 'stdin' has no key, and topic 't' is compacted (cleanup.policy=compact): every message needs a key; 2 messages before it were stored"
	run -0 mq-consume -F '%o %k %s\n' t
	assert_output "$(printf '0 a 1\n1 b 2')"
}

@test "records without a key that were written before the topic became compacted survive compaction" {
	mq-topic create t -c segment.bytes=1024
	printf 'k1:old\nplain one\n' | put 1000
	printf 'plain two\n' | mq-produce --linger 10000 --timestamp 1000 t
	mq-topic alter t -c cleanup.policy=compact
	gen new | put 1000
	gen newer | put 1000
	gen newest | put 1000
	run -0 logs
	assert_output "$(names 0 43 83)"
	MQ_NOW=2000 mq-compact
	run -0 mq-consume -o 0 -c 3 -F '%o %k %s\n' --null-marker '~' t
	assert_output "$(printf '1 ~ plain one\n2 ~ plain two\n43 k1 newer')"
}

# --- passes, codecs, headers, big records -------------------------------

@test "with little --memory compaction takes several passes and leaves what one pass leaves" {
	mk t segment.bytes=4096
	shuffled 5 500 2000 3 >"$T/in"
	put 1000 --batch-size 1000 t <"$T/in"
	cp -a "$MQ_SPOOL" "$T/one"
	run -0 env MQ_NOW=2000 mq-compact -v --memory 1KiB
	assert_output --regexp '^t/0: did compact [0-9]+ segments: [0-9]+ messages, 500 keys, drop [0-9]+ superseded and 0 tombstones; [0-9]+ bytes -> [0-9]+ \(([0-9]+) passes\)$'
	n=$(sed 's/.*(\([0-9]*\) passes)$/\1/' <<<"$output")
	[ "$n" -gt 1 ]
	many="${output%% -> *}"
	run -0 env MQ_NOW=2000 mq-compact -d "$T/one" -v
	refute_output --partial passes
	cmp <(dump) <(dump -d "$T/one")
	# The same counts, and the same bytes read.
	assert_equal "${output%% -> *}" "$many"
}

@test "compaction of a zlib-compressed topic writes compressed batches with the same messages" {
	mk t compression=zlib segment.bytes=512
	long=$(printf 'x%.0s' {1..300})
	for r in $(seq 1 12); do
		for i in 1 2 3 4 5 6 7 8 9 10; do
			echo "k$i:$long$r"
		done | put 1000
	done
	[ "$(logs | wc -l)" -ge 2 ]
	dump >"$T/before"
	a=$(active)
	run -0 env MQ_NOW=2000 mq-compact -v
	assert_output --regexp "^t/0: did compact "
	dump >"$T/after"
	diff <(model "$a" 2000 0 <"$T/before") "$T/after"
	# The rewritten segment is compressed: no run of the value in it.
	f="$P/$(logs | head -n 1)"
	[ "$(size "$f")" -lt 300 ]
	! grep -q "$(printf 'x%.0s' {1..100})" "$f"
}

@test "compaction keeps every header of the records it keeps" {
	mk t
	for r in 1 2 3 4; do
		gen $r | put 1000 -H "round=$r" -H "empty=" -H "dup=a" -H "dup=b" t
	done
	dump >"$T/before"
	MQ_NOW=2000 mq-compact
	run -0 mq-consume -o 0 -c 1 -F '%o %k %s %h\n' t
	assert_output "80 k1 3 round=3,empty=,dup=a,dup=b"
	dump >"$T/after"
	run -0 comm -23 <(sort "$T/after") <(sort "$T/before")
	assert_output ""
}

@test "a record as big as max.message.bytes allows survives compaction" {
	mk t segment.bytes=4096 max.message.bytes=1024
	ts=1795476743521
	printf 'a:1\nb:1\n' | put $ts
	# key and value of 1017 bytes: the largest record accepted
	big=$(printf 'z%.0s' {1..1016})
	echo "B:$big" | put $ts
	printf 'a:2\nb:2\n' | put $ts
	echo "B:$big" | put $ts
	echo "C:$big" | put $ts
	echo "B:${big%z}q" | put $ts
	printf 'a:3\n' | put $ts
	run -1 bash -c "echo 'B:${big}z' | mq-produce -K : t"
	run -0 logs
	assert_output "$(names 0 7)"
	dump >"$T/before"
	MQ_NOW=$((ts + 1)) mq-compact
	run -0 mq-consume -F '%o %k %S\n' t
	assert_output "$(printf '3 a 1\n4 b 1\n5 B 1016\n6 C 1016\n7 B 1016\n8 a 1')"
	diff <(model 7 $((ts + 1)) 0 <"$T/before") <(dump)
}

# --- segments ---------------------------------------------------------

@test "a segment that compaction leaves empty is removed and the log start moves" {
	mk t
	for v in 1 2 3 4 5; do
		gen $v | put 1000
	done
	run -0 logs
	assert_output "$(names 0 80 160)"
	[ "$(field Segments)" = 3 ]
	[ "$(field Start)" = 0 ]
	MQ_NOW=2000 mq-compact
	run -0 logs
	assert_output "$(names 80 160)"
	[ ! -e "$P/$(printf %020d 0).idx" ] && [ ! -e "$P/$(printf %020d 0).tix" ]
	[ "$(field Segments)" = 2 ]
	[ "$(field Start)" = 120 ]
	[ "$(field End)" = 200 ]
	run -0 mq-consume -c 1 -F '%o %k %s\n' t
	assert_output "120 k1 4"
}

@test "a reader seeking an offset that compaction removed starts at the next one that remains" {
	mk t
	for v in 1 2 3 4 5; do
		gen $v | put $((1000 * v))
	done
	MQ_NOW=9000 mq-compact
	run -0 mq-consume -o 50 -c 1 -F '%o %k %s\n' t
	assert_output "120 k1 4"
	run -0 mq-consume -o 119 -c 1 -F '%o %k %s\n' t
	assert_output "120 k1 4"
	# By time too: the first remaining message at or after it.
	run -0 mq-consume -o @1500 -c 1 -F '%o %k %s %T\n' t
	assert_output "120 k1 4 4000"
	run -0 mq-consume -o @5000 -c 1 -F '%o %k %s %T\n' t
	assert_output "160 k1 5 5000"
}

@test "a second mq-compact right after the first has nothing to do and changes no file" {
	mk t delete.retention.ms=0
	shuffled 3 100 1500 5 >"$T/in"
	put 1000 --batch-size 1000 t <"$T/in"
	run -0 env MQ_NOW=2000 mq-compact -v
	assert_output --partial "did compact"
	keep "$T/before"
	run -0 --separate-stderr env MQ_NOW=2000 mq-compact -v
	assert_output ""
	[ -z "$stderr" ]
	unchanged "$T/before"
}

# --- --dry-run and -v ---------------------------------------------------

# numbers_workload: [k1..40=1 k1..40=2] [k1..20=3 k21..30=tombstone
# k31..40=4] [filler]: 120 messages, 40 keys; 30 stay, 10 tombstones and
# 80 superseded go.
numbers_workload() {
	mk t delete.retention.ms=100
	gen 1 | put 1000
	gen 2 | put 1000
	{ gen 3 1 20; gen '' 21 30; gen 4 31 40; } | put 1000
	gen f 41 110 | put 1000
	run -0 logs
	assert_output "$(names 0 80 120)"
	s0=$(size "$P/$(names 0)")
	s1=$(size "$P/$(names 80)")
}

@test "--dry-run prints the numbers of what compaction would drop and changes nothing" {
	numbers_workload
	STRICT=1
	cp -a "$MQ_SPOOL" "$T/before"
	(cd "$MQ_SPOOL" && find . -printf '%p %i %s %TY-%Tm-%Td %TT %m\n' | sort) >"$T/before.all"
	run -0 --separate-stderr env MQ_NOW=2000 mq-compact --dry-run
	assert_output "t/0: would compact 2 segments: 120 messages, 40 keys, drop 80 superseded and 10 tombstones; $((s0 + s1)) bytes"
	[ -z "$stderr" ]
	diff -r "$T/before" "$MQ_SPOOL"
	# Not even a temporary file came and went.
	diff "$T/before.all" <(cd "$MQ_SPOOL" && find . -printf '%p %i %s %TY-%Tm-%Td %TT %m\n' | sort)
}

@test "-v prints the same numbers as --dry-run and the bytes written" {
	numbers_workload
	run -0 env MQ_NOW=2000 mq-compact --dry-run
	dry="$output"
	run -0 env MQ_NOW=2000 mq-compact -v
	[ "$(logs | head -n 1)" = "$(names 80)" ]
	s1new=$(size "$P/$(names 80)")
	assert_output "${dry/would/did} -> $s1new"
	run -0 mq-consume -F '%o %k %s\n' t
	assert_output "$(seq 80 99 | paste -d ' ' - <(seq -f 'k%g' 1 20) <(yes 3 | head -20))
$(seq 110 119 | paste -d ' ' - <(seq -f 'k%g' 31 40) <(yes 4 | head -10))
$(seq 120 189 | paste -d ' ' - <(seq -f 'k%g' 41 110) <(yes f | head -70))"
}

# --- locks and failures --------------------------------------------------

@test "a partition that another mq-compact holds is skipped with a warning and exit status 0" {
	mq-topic create t -p 2 -c segment.bytes=1024 -c cleanup.policy=compact
	for p in 0 1; do
		for v in 1 2 3; do
			gen $v | put 1000 -p $p t
		done
	done
	keep "$T/before"
	touch "$T/hold"
	(
		exec 9<>"$P/clean"
		flock 9
		touch "$T/locked"
		while [ -e "$T/hold" ]; do sleep 0.02; done
	) 3>&- &
	BG+=($!)
	wait_for test -e "$T/locked"
	run -0 --separate-stderr env MQ_NOW=2000 mq-compact -v
	assert_equal "$stderr" "mq-compact: '$P' is being compacted by another process"
	assert_output --regexp "^t/1: did compact 1 segment: 80 messages, 40 keys, drop 40 superseded and 0 tombstones; [0-9]+ bytes -> [0-9]+$"
	unchanged "$T/before" t/0
	run -0 mq-consume -p 1 -c 1 -F '%o %s\n' t
	assert_output "40 2"
	# Once it is free, it is compacted.
	rm "$T/hold"
	wait "${BG[-1]}"
	run -0 env MQ_NOW=2000 mq-compact -v
	assert_output --regexp "^t/0: did compact 1 segment"
}

# flip FILE POS: inverts every bit of the byte at POS in FILE.
flip() {
	local b
	b=$(od -A n -t u1 -j "$2" -N 1 "$1" | tr -d ' ')
	printf "\\$(printf %03o $((b ^ 255)))" |
		dd of="$1" bs=1 seek="$2" conv=notrunc status=none
}

@test "a corrupt batch in a sealed segment stops compaction of that partition only, with status 1" {
	mq-topic create t -p 2 -c segment.bytes=1024 -c cleanup.policy=compact
	mk u
	gen 1 1 25 | put 1000 -p 0 t
	b1=$(size "$P/$(names 0)")
	gen 2 1 25 | put 1000 -p 0 t
	b2=$(size "$P/$(names 0)")
	gen 3 1 25 | put 1000 -p 0 t
	gen 4 1 25 | put 1000 -p 0 t
	for v in 1 2 3; do
		gen $v | put 1000 -p 1 t
		gen $v | put 1000 u
	done
	run -0 logs
	assert_output "$(names 0 75)"
	# A byte of the second batch's last value.
	flip "$P/$(names 0)" $((b2 - 2))
	keep "$T/before"
	run -1 --separate-stderr env MQ_NOW=2000 mq-compact -v
	assert_equal "$stderr" "mq-compact: corrupt batch in '$P/$(names 0)' at byte $b1: not compacting this partition"
	assert_output --regexp "^t/1: did compact 1 segment: 80 messages, 40 keys, drop 40 superseded and 0 tombstones; [0-9]+ bytes -> [0-9]+
u/0: did compact 1 segment: 80 messages, 40 keys, drop 40 superseded and 0 tombstones; [0-9]+ bytes -> [0-9]+$"
	unchanged "$T/before" t/0/
	run -0 bash -c "ls '$P' | grep -v '^[0-9]\{20\}\.\(log\|idx\|tix\)\$'"
	assert_output "$(printf 'clean\nlock')"
}

# --- at work ------------------------------------------------------------

@test "producers and consumers at work while mq-compact runs see no error, no gap and no duplicate" {
	mk t
	: >"$T/count"
	mq-consume -f -F '%o %k %s\n' t >"$T/out" 2>"$T/err" 3>&- &
	BG+=($!)
	(
		for r in $(seq 1 30); do
			# Now and then wait for a compaction to have happened.
			wait_for test "$(wc -l <"$T/count")" -ge $((r / 3))
			shuffled "$r" 25 60 | put 1000 t || exit 1
		done
		touch "$T/done"
	) >"$T/prod.out" 2>"$T/prod.err" 3>&- &
	BG+=($!)
	while [ ! -e "$T/done" ]; do
		MQ_NOW=2000 mq-compact
		echo ran >>"$T/count"
	done
	[ "$(wc -l <"$T/count")" -ge 10 ]
	[ ! -s "$T/prod.err" ]
	for r in $(seq 1 30); do
		shuffled "$r" 25 60
	done | awk -F : '{ print NR - 1, $1, $2 }' >"$T/written"
	wait_for lines_in "$T/out" 1800
	cmp "$T/written" "$T/out"
	[ ! -s "$T/err" ]
	# What compaction left while it all ran is a correct compaction:
	# each record left is the one written at its offset, in order, and
	# each record gone has a later one with the same key.
	mq-consume -F '%o %k %s\n' t >"$T/mid"
	increasing "$T/mid"
	run -0 comm -23 <(sort "$T/mid") <(sort "$T/written")
	assert_output ""
	awk 'NR == FNR { kept[$1] = 1; next }
	     { o[FNR] = $1; k[FNR] = $2; last[$2] = FNR }
	     END { for (i = 1; i <= FNR; i++)
			if (!(o[i] in kept) && last[k[i]] == i) exit 1 }' \
		"$T/mid" "$T/written"
	# One more run leaves exactly the model.
	a=$(active)
	MQ_NOW=2000 mq-compact
	diff <(model "$a" 2000 0 < <(awk '{ print $0, 1000 }' "$T/written") |
		cut -d ' ' -f 1-3) <(mq-consume -F '%o %k %s\n' t)
}

@test "a reader in the middle of a segment when it is compacted reads the old version to its end" {
	mk t segment.bytes=262144
	awk 'BEGIN { for (i = 1; i <= 10000; i++)
		printf "k%d:value-%06d-xxxxxxxxxx\n", i % 100, i }' >"$T/in"
	put 1000 --batch-size 16384 t <"$T/in"
	run -0 logs
	[ "${#lines[@]}" = 2 ]
	mq-consume -F '%o %k %s\n' t >"$T/before"
	mkfifo "$T/fifo"
	mq-consume -F '%o %k %s\n' t >"$T/fifo" 2>"$T/err" 3>&- &
	BG+=($!)
	exec 5<"$T/fifo"
	# One line read: the reader is blocked writing, far from the end
	# of the first segment (a pipe holds 64KiB).
	read -r first <&5
	[ "$first" = "0 k1 value-000001-xxxxxxxxxx" ]
	run -0 env MQ_NOW=2000 mq-compact -v
	assert_output --regexp "^t/0: did compact 1 segment: "
	{ echo "$first"; cat <&5; } >"$T/read"
	exec 5<&-
	cmp "$T/before" "$T/read"
	[ ! -s "$T/err" ]
	# A new reader sees the compacted log.
	[ "$(mq-consume t | wc -l)" -lt 5000 ]
}

# --- archive -------------------------------------------------------------

@test "--archive stores the original files of every segment compaction rewrites or removes" {
	mk t
	for v in 1 2 3 4 5; do
		gen $v | put 1000
	done
	cp -a "$P" "$T/orig"
	mkdir "$T/arch"
	MQ_NOW=2000 mq-compact --archive "$T/arch" --archive-suffix .tar
	run -0 logs
	assert_output "$(names 80 160)"
	a=$(ls "$T/arch")
	mkdir "$T/x"
	tar -C "$T/x" -xf "$T/arch/$a"
	run -0 bash -c "cd '$T/x' && find . -type f | sort"
	assert_output "$(for o in 0 80; do
		printf './t/0/%020d.%s\n' "$o" idx "$o" log "$o" tix
	done)"
	for f in "$T"/x/t/0/*; do
		cmp "$T/orig/${f##*/}" "$f"
	done
	! cmp -s "$T/orig/$(names 80)" "$P/$(names 80)"
}

@test "when the archive cannot be written compaction changes nothing and exits 1" {
	mk t
	for v in 1 2 3 4 5; do
		gen $v | put 1000
	done
	keep "$T/before"
	run -1 --separate-stderr env MQ_NOW=2000 mq-compact -v --archive "$T/nowhere"
	assert_output ""
	[[ "$stderr" == "mq-compact: "*"$T/nowhere"* ]]
	[ "$(printf '%s\n' "$stderr" | wc -l)" = 1 ]
	unchanged "$T/before"
	run -0 bash -c "ls -A '$P' | grep -vxE '[0-9]{20}\.(log|idx|tix)|clean|lock' || true"
	assert_output ""
}
