#!/usr/bin/env bats
# tests/consume.bats - mq-consume: where to start (-o), where to stop (-c,
# --until), what to print (-F, -K, -D), which partitions and topics, and
# how the end of the log, torn tails and corruption are told apart.

load helper
bats_require_minimum_version 1.5.0

per_test_setup() {
	T="$BATS_TEST_TMPDIR"
	BG_PID=
}

teardown() {
	exec 7>&-
	if [ -n "$BG_PID" ] && kill -0 "$BG_PID" 2>/dev/null; then
		kill -KILL "$BG_PID" 2>/dev/null || true
	fi
}

# hundred TOPIC: a 1-partition topic holding "1".."100" at offsets 0..99.
hundred() {
	mq-topic create "$1"
	seq 1 100 | mq-produce "$1"
}

# five_times TOPIC: "m1".."m5" with timestamps 1000..5000, one run each
# (so one batch each).
five_times() {
	mq-topic create "$1"
	for i in 1 2 3 4 5; do
		echo "m$i" | mq-produce --timestamp "${i}000" "$1"
	done
}

# batch_len FILE POS: the length field of the batch at byte POS.
batch_len() {
	od -An -t u4 -j $(($2 + 4)) -N 4 "$1" | tr -d ' '
}

# flip FILE POS: inverts the byte at POS in place.
flip() {
	local b
	b=$(od -An -t u1 -j "$2" -N 1 "$1" | tr -d ' ')
	printf "\\$(printf %03o $((b ^ 0xff)))" |
		dd of="$1" bs=1 seek="$2" conv=notrunc status=none
}

# --- -o: where to start -------------------------------------------------

@test "-o beginning and -o earliest start at the first message" {
	hundred t
	run mq-consume -o beginning t
	assert_output "$(seq 1 100)"
	run mq-consume -o earliest t
	assert_output "$(seq 1 100)"
	run mq-consume t
	assert_output "$(seq 1 100)"
}

@test "-o end and -o latest print nothing and exit 0" {
	hundred t
	run --separate-stderr mq-consume -o end t
	assert_success
	assert_output ''
	[ -z "$stderr" ]
	run mq-consume -o latest t
	assert_success
	assert_output ''
}

@test "-o N starts at offset N" {
	hundred t
	run mq-consume -o 0 t
	assert_output "$(seq 1 100)"
	run mq-consume -o 50 t
	assert_output "$(seq 51 100)"
	run mq-consume -o 99 -F '%o %s\n' t
	assert_output '99 100'
}

@test "-o N at or past the end prints nothing and exits 0" {
	hundred t
	run mq-consume -o 100 t
	assert_success
	assert_output ''
	run mq-consume -o 5000 t
	assert_success
	assert_output ''
}

@test "-o -N starts N messages before the end" {
	hundred t
	run mq-consume -o -10 t
	assert_output "$(seq 91 100)"
	run mq-consume -o -1 t
	assert_output '100'
}

@test "-o -N counts offsets, not messages: over a gap in the offsets it gives fewer" {
	mq-topic create t
	seq 0 9 | mq-produce t
	# The format allows gaps (compaction, mirrors): the next messages
	# get offsets 100 and 101.
	: >"$MQ_SPOOL/t/0/00000000000000000100.log"
	printf 'a\nb\n' | mq-produce t
	run -0 mq-consume -o -3 -F '%o %s\n' t
	assert_output "$(printf '100 a\n101 b')"
	run -0 mq-consume -o -93 -F '%o %s\n' t
	assert_output "$(printf '9 9\n100 a\n101 b')"
}

@test "-o -N larger than the log starts at the beginning" {
	hundred t
	run mq-consume -o -1000 t
	assert_output "$(seq 1 100)"
}

@test "-o N and -o -N work across segments" {
	mq-topic create t -c segment.bytes=512
	for ((r = 0; r < 10; r++)); do
		seq $((r * 100 + 1)) $((r * 100 + 100)) | mq-produce t
	done
	[ "$(ls "$MQ_SPOOL/t/0/"*.log | wc -l)" -gt 2 ]
	run mq-consume -o 555 t
	assert_output "$(seq 556 1000)"
	run mq-consume -o -250 t
	assert_output "$(seq 751 1000)"
	run mq-consume -o 999 -F '%o:%s' t
	assert_output '999:1000'
}

@test "-o -N applies to each partition" {
	mq-topic create t -p 3
	for p in 0 1 2; do
		seq $((p * 100 + 1)) $((p * 100 + 20)) | mq-produce -p "$p" t
	done
	run mq-consume -o -2 -F '%p %o %s\n' t
	[ "${#lines[@]}" -eq 6 ]
	run sort <<<"$output"
	assert_output "$(printf '0 18 19\n0 19 20\n1 18 119\n1 19 120\n2 18 219\n2 19 220')"
}

@test "-o @TIME starts at the first message at or after TIME" {
	five_times t
	run mq-consume -o @3000 t
	assert_output "$(printf 'm3\nm4\nm5')"
	run mq-consume -o @2500 t
	assert_output "$(printf 'm3\nm4\nm5')"
	run mq-consume -o @5000 t
	assert_output 'm5'
	run mq-consume -o @0 t
	assert_output "$(printf 'm1\nm2\nm3\nm4\nm5')"
}

@test "-o @TIME after the newest message prints nothing" {
	five_times t
	run mq-consume -o @6000 t
	assert_success
	assert_output ''
}

@test "-o @TIME takes an ISO-8601 time" {
	five_times t
	run mq-consume -o @1970-01-01T00:00:03Z t
	assert_output "$(printf 'm3\nm4\nm5')"
	run mq-consume -o @1970-01-01T00:00:02.001Z -F '%o %T\n' t
	assert_output "$(printf '2 3000\n3 4000\n4 5000')"
}

@test "bad -o forms are usage errors" {
	hundred t
	for o in bogus @notatime @2024-13-01 --5 '' @ -x 1.5 12abc; do
		run --separate-stderr mq-consume -o "$o" t
		assert_failure 2
		assert_output ''
		[[ "$stderr" == mq-consume:* ]]
	done
}

# time_topic TOPIC SEGMENT-BYTES N [PRODUCE-OPTS...]: 20 runs of N messages
# "r-i", run r at timestamp 1000000 + r * 1000.
time_topic() {
	local t="$1" seg="$2" r i
	PER_RUN=$3
	shift 3
	mq-topic create "$t" -c segment.bytes="$seg"
	for ((r = 0; r < 20; r++)); do
		seq 0 $((PER_RUN - 1)) | sed "s/^/$r-/" >"$T/run"
		mq-produce --timestamp $((1000000 + r * 1000)) "$@" "$t" "$T/run"
	done
}

# check_from TOPIC T FIRST: -o @T prints offsets FIRST..end, all at or
# after T, starting with the message at offset FIRST.
check_from() {
	local total=$((20 * PER_RUN))
	mq-consume -o "@$2" -F '%o %T\n' "$1" >"$T/got"
	[ "$(wc -l <"$T/got")" -eq $((total - $3)) ]
	[ "$(head -1 "$T/got")" = "$3 $((1000000 + $3 / PER_RUN * 1000))" ]
	awk -v t="$2" -v first="$3" \
		'$2 < t || $1 != first + NR - 1 { print "bad: " $0; exit 1 }' \
		"$T/got"
}

@test "-o @TIME finds the right offset through the time index of many segments" {
	time_topic t 4096 200
	[ "$(ls "$MQ_SPOOL/t/0/"*.log | wc -l)" -gt 5 ]
	check_from t 1000000 0
	check_from t 1007000 1400
	check_from t 1007500 1600
	check_from t 1013001 2800
	check_from t 1019000 3800
	run mq-consume -o @1019001 t
	assert_output ''
}

@test "-o @TIME finds the right offset when segments hold several batches" {
	time_topic t 4096 200 --batch-size 512
	[ "$(ls "$MQ_SPOOL/t/0/"*.log | wc -l)" -gt 5 ]
	check_from t 999999 0
	check_from t 1003000 600
	check_from t 1010999 2200
	check_from t 1019000 3800
}

@test "-o @TIME finds the first of many indexed batches with the same time" {
	# one segment; each run spans several index entries
	time_topic t 1048576 1000 --batch-size 512
	[ "$(ls "$MQ_SPOOL/t/0/"*.log | wc -l)" -eq 1 ]
	[ "$(stat -c %s "$MQ_SPOOL/t/0/00000000000000000000.tix")" -gt 200 ]
	check_from t 1000000 0
	check_from t 1005000 5000
	check_from t 1012000 12000
	check_from t 1012001 13000
	check_from t 1019000 19000
}

# start_fifo_producer FIFO MQ-PRODUCE-ARGS...: starts mq-produce reading the
# new FIFO FIFO in the background (BG_PID), holds the FIFO open on fd 7
# (without blocking, so a producer that fails cannot hang the test) and
# waits until the producer has opened it.  R0 is then what the producer
# had read before the FIFO: it reads nothing else until data arrives.
start_fifo_producer() {
	local fifo="$1"
	shift
	mkfifo "$fifo"
	exec 7<>"$fifo"
	mq-produce "$@" "$fifo" >"$T/pout" 2>"$T/perr" 3>&- 7>&- &
	BG_PID=$!
	wait_for opened_by "$BG_PID" "$(realpath "$fifo")"
	R0=$(rchar "$BG_PID")
}

# opened_by PID PATH: does process PID hold PATH open?
opened_by() {
	local f
	for f in /proc/"$1"/fd/*; do
		[ "$(readlink "$f")" = "$2" ] && return 0
	done
	return 1
}

# rchar PID: bytes the process has read so far.
rchar() {
	awk '/^rchar:/ { print $2 }' "/proc/$1/io"
}

# read_since_start N: has the background producer read N bytes of input?
read_since_start() {
	[ "$(($(rchar "$BG_PID") - R0))" -ge "$1" ]
}

# clock_after MS: has the clock passed MS?
clock_after() {
	[ "$(date +%s%3N)" -gt "$1" ]
}

@test "-o @TIME and --until @TIME look at each message of a batch" {
	# A producer with a long linger puts lines read at different times
	# into one batch with different timestamps.
	mq-topic create t
	start_fifo_producer "$T/fifo" --linger 1h t
	for i in 1 2 3; do
		now=$(date +%s%3N)
		wait_for clock_after "$now"
		echo "x$i" >&7
		wait_for read_since_start $((3 * i))
	done
	exec 7>&-
	wait "$BG_PID"
	BG_PID=
	seg=$(seg0 t)
	[ "$(batch_len "$seg" 0)" -eq "$(stat -c %s "$seg")" ]   # one batch
	ts=($(mq-consume -F '%T ' t))
	[ "${ts[0]}" -lt "${ts[1]}" ] && [ "${ts[1]}" -lt "${ts[2]}" ]
	run mq-consume -o "@${ts[1]}" t
	assert_output "$(printf 'x2\nx3')"
	run mq-consume -o "@$((ts[0] + 1))" t
	assert_output "$(printf 'x2\nx3')"
	run mq-consume -o "@$((ts[2] + 1))" t
	assert_output ''
	run mq-consume --until "@${ts[1]}" t
	assert_output 'x1'
	run mq-consume --until "@$((ts[1] + 1))" t
	assert_output "$(printf 'x1\nx2')"
}

# --- -c and --until: where to stop -------------------------------------

@test "-c N stops after N messages over all partitions" {
	mq-topic create t -p 4
	seq 1 400 | mq-produce --batch-size 256 t
	run mq-consume -c 7 t
	assert_success
	[ "${#lines[@]}" -eq 7 ]
	run mq-consume -c 1 -o 10 -p 0 -F '%o' t
	assert_output '10'
}

@test "-c larger than what is there prints everything and exits 0" {
	hundred t
	run mq-consume -c 1000 t
	assert_success
	assert_output "$(seq 1 100)"
}

@test "-c 0 and a bad -c are usage errors" {
	hundred t
	for c in 0 -1 x ''; do
		run --separate-stderr mq-consume -c "$c" t
		assert_failure 2
		assert_output ''
	done
}

@test "--until N prints only offsets below N" {
	hundred t
	run mq-consume --until 10 t
	assert_success
	assert_output "$(seq 1 10)"
	run mq-consume -o 5 --until 8 -F '%o\n' t
	assert_output "$(seq 5 7)"
	run mq-consume --until 0 t
	assert_output ''
	run mq-consume --until 1000 t
	assert_output "$(seq 1 100)"
}

@test "--until N stops each partition at N" {
	mq-topic create t -p 3
	for p in 0 1 2; do
		seq 1 10 | mq-produce -p "$p" t
	done
	run mq-consume --until 3 -F '%p:%o\n' t
	run sort <<<"$output"
	assert_output "$(printf '0:0\n0:1\n0:2\n1:0\n1:1\n1:2\n2:0\n2:1\n2:2')"
}

@test "--until @TIME stops before the first message at or after TIME" {
	five_times t
	run mq-consume --until @3000 t
	assert_output "$(printf 'm1\nm2')"
	run mq-consume --until @2500 t
	assert_output "$(printf 'm1\nm2')"
	run mq-consume --until @1970-01-01T00:00:04Z -o @2000 t
	assert_output "$(printf 'm2\nm3')"
	run mq-consume --until @1000 t
	assert_output ''
}

@test "--until @TIME stops the partition even if later messages are older" {
	mq-topic create t
	echo a | mq-produce --timestamp 1000 t
	echo b | mq-produce --timestamp 3000 t
	echo c | mq-produce --timestamp 2000 t
	run mq-consume --until @2500 t
	assert_output 'a'
}

@test "--until @TIME applies to each partition on its own" {
	mq-topic create t -p 2
	echo a0 | mq-produce -p 0 --timestamp 1000 t
	echo a1 | mq-produce -p 0 --timestamp 5000 t
	echo b0 | mq-produce -p 1 --timestamp 1000 t
	echo b1 | mq-produce -p 1 --timestamp 2000 t
	echo b2 | mq-produce -p 1 --timestamp 9000 t
	run mq-consume --until @3000 t
	run sort <<<"$output"
	assert_output "$(printf 'a0\nb0\nb1')"
}

@test "a bad --until is a usage error" {
	hundred t
	for u in bogus @notatime -5 '' @; do
		run --separate-stderr mq-consume --until "$u" t
		assert_failure 2
		assert_output ''
	done
}

# --- -F: what to print -------------------------------------------------

# One message: topic fmt, partition 2, offset 1, key "k1", value "v1",
# headers a=1 and b=2, timestamp 1700000000000.
fmt_topic() {
	mq-topic create fmt -p 3
	echo 'k0:v0' | mq-produce -p 2 -K ':' fmt
	echo 'k1:v1' | mq-produce -p 2 -K ':' -H a=1 -H b=2 \
		--timestamp 1700000000000 fmt
}

@test "-F renders every token and escape" {
	fmt_topic
	while IFS='|' read -r spec want; do
		run mq-consume -o 1 -F "$spec" fmt
		assert_success
		assert_output "$(printf "$want")"
	done <<'EOF'
%s|v1
%k|k1
%t|fmt
%p|2
%o|1
%T|1700000000000
%h|a=1,b=2
%S|2
%K|2
%%|%%
100%% %s|100%% v1
<%k=%s>|<k1=v1>
x\ty|x\ty
a\\b|a\\b
\x41\x62|Ab
a\nb|a\nb
%t/%p/%o|fmt/2/1
EOF
}

@test "-F writes newline, tab, CR and NUL escapes as bytes" {
	fmt_topic
	mq-consume -o 1 -F '%s\n%k\t%p\r\0|\\\x41\n' fmt >"$T/out"
	printf 'v1\nk1\t2\r\0|\\A\n' >"$T/want"
	cmp "$T/want" "$T/out"
}

@test "-F prints one rendering per message and nothing else" {
	fmt_topic
	run mq-consume -F '%o;' fmt
	assert_output '0;1;'
}

@test "-F %k prints nothing for a null key, or the --null-marker" {
	mq-topic create t
	echo plain | mq-produce t
	run mq-consume -F '[%k][%K]' t
	assert_output '[][-1]'
	run mq-consume -F '[%k][%s]' --null-marker '<null>' t
	assert_output '[<null>][plain]'
}

@test "-F %s prints nothing for a null value, or the --null-marker" {
	mq-topic create t
	echo 'k:' | mq-produce -Z -K ':' t
	run mq-consume -F '[%s][%S]' t
	assert_output '[][-1]'
	run mq-consume -F '[%s]' --null-marker NULL t
	assert_output '[NULL]'
}

@test "--null-marker applies to null values without -F" {
	mq-topic create t
	printf 'a\n\nb\n' | mq-produce -Z t
	run mq-consume --null-marker '(null)' t
	assert_output "$(printf 'a\n(null)\nb')"
}

@test "an unknown -F token is a usage error" {
	hundred t
	run --separate-stderr mq-consume -F '%s %q' t
	assert_failure 2
	assert_output ''
	[[ "$stderr" == *%q* ]]
}

@test "-F ending with a lone % is a usage error" {
	hundred t
	run --separate-stderr mq-consume -F '%s %' t
	assert_failure 2
	assert_output ''
	[[ "$stderr" == mq-consume:* ]]
}

@test "-F with a bad escape is a usage error" {
	hundred t
	run mq-consume -F '%s\q' t
	assert_failure 2
	run mq-consume -F '%s\x4' t
	assert_failure 2
}

@test "-F cannot be combined with -K or -D" {
	hundred t
	run mq-consume -F '%s' -K : t
	assert_failure 2
	run mq-consume -F '%s' -D , t
	assert_failure 2
}

# --- -K, -D, -0: kcat-style output -------------------------------------

@test "-K DELIM prints the key, DELIM, then the value" {
	mq-topic create t
	printf 'k1:v1\nk2:v:2\n' | mq-produce -K : t
	run mq-consume -K '=>' t
	assert_output "$(printf 'k1=>v1\nk2=>v:2')"
}

@test "-K prints a null key as the --null-marker" {
	mq-topic create t
	echo plain | mq-produce t
	run mq-consume -K : t
	assert_output ':plain'
	run mq-consume -K : --null-marker NULL t
	assert_output 'NULL:plain'
}

@test "-D DELIM ends each message with DELIM" {
	hundred t
	run mq-consume -D ', ' -c 3 t
	assert_output '1, 2, 3, '
}

@test "mq-consume -K: piped to mq-produce -K: copies keys and values" {
	mq-topic create a -p 4
	mq-topic create b -p 4
	for ((i = 0; i < 300; i++)); do
		echo "key$((i % 17)):value $i:with:colons"
	done | mq-produce -K : a
	mq-consume -K : a | mq-produce -K : b
	diff <(mq-consume -F '%k=%s\n' a | sort) \
		<(mq-consume -F '%k=%s\n' b | sort)
	# same keys, same partitioner: each key is on the same partition
	diff <(mq-consume -F '%k %p\n' a | sort -u) \
		<(mq-consume -F '%k %p\n' b | sort -u)
}

@test "mq-consume piped to mq-produce copies values byte for byte" {
	mq-topic create t
	mq-topic create u
	{
		seq 1 1000
		printf 'tab\there\r\n\n\n'
	} >"$T/in"
	mq-produce t "$T/in"
	mq-consume t | mq-produce u
	mq-consume u >"$T/out"
	cmp "$T/in" "$T/out"
}

@test "mq-consume -0 piped to mq-produce -0 copies binary values" {
	mq-topic create t
	mq-topic create u
	for ((i = 1; i < 256; i++)); do printf -v o '\\%03o' "$i"; f+=$o; done
	for ((i = 0; i < 50; i++)); do
		printf "$f\\n$i\\0"
	done >"$T/in"
	mq-produce -0 t "$T/in"
	mq-consume -0 t | mq-produce -0 u
	mq-consume -0 u >"$T/out"
	cmp "$T/in" "$T/out"
}

# --- partitions and topics ---------------------------------------------

@test "-p N reads only partition N; -p is repeatable" {
	mq-topic create t -p 3
	for p in 0 1 2; do
		printf "p$p-a\\np$p-b\\n" | mq-produce -p "$p" t
	done
	run mq-consume -p 1 t
	assert_output "$(printf 'p1-a\np1-b')"
	run mq-consume -p 0 -p 2 -F '%p %s\n' t
	run sort <<<"$output"
	assert_output "$(printf '0 p0-a\n0 p0-b\n2 p2-a\n2 p2-b')"
}

@test "-p out of range is a usage error naming the partition" {
	mq-topic create t -p 3
	run --separate-stderr mq-consume -p 3 t
	assert_failure 2
	assert_output ''
	[[ "$stderr" == *"partition 3"* ]]
	run mq-consume -p x t
	assert_failure 2
}

@test "several topics in one command print all their messages" {
	mq-topic create a
	mq-topic create b -p 2
	printf 'a1\na2\n' | mq-produce a
	printf 'b1\nb2\nb3\n' | mq-produce b
	run mq-consume -F '%t %s\n' a b
	assert_success
	run sort <<<"$output"
	assert_output "$(printf 'a a1\na a2\nb b1\nb b2\nb b3')"
}

@test "a topic named twice is read once, also with -f and -g" {
	mq-topic create a
	mq-topic create b
	printf 'a1\na2\n' | mq-produce a
	echo b1 | mq-produce b
	run -0 mq-consume -F '%t %s\n' a b a
	assert_output "$(printf 'a a1\na a2\nb b1')"
	run -0 mq-consume -f --until 2 -F '%t %s\n' a a
	assert_output "$(printf 'a a1\na a2')"
	run -0 mq-consume -g g -F '%t %s\n' a a
	assert_output "$(printf 'a a1\na a2')"
	[ "$(cat "$MQ_SPOOL/a/groups/g/0")" = 2 ]
}

@test "a missing topic among several exits 1 naming it" {
	mq-topic create a
	echo x | mq-produce a
	run --separate-stderr mq-consume a nosuch
	assert_failure 1
	[[ "$stderr" == *nosuch* ]]
}

@test "a bad topic name is a usage error" {
	run mq-consume 'bad/name'
	assert_failure 2
}

# --- the end of the log ------------------------------------------------

@test "reading to the end of the log exits 0 like cat" {
	hundred t
	run --separate-stderr mq-consume t
	assert_success
	[ "${#lines[@]}" -eq 100 ]
	[ -z "$stderr" ]
}

@test "-e (kcat's exit at the end) is accepted and is the default; -e with -f is a usage error" {
	hundred t
	run --separate-stderr -0 mq-consume -e t
	[ "${#lines[@]}" -eq 100 ]
	[ -z "$stderr" ]
	run --separate-stderr -2 mq-consume -e -f t
	assert_output ''
	[ "$stderr" = "mq-consume: -f and -e cannot be combined" ]
}

@test "an empty topic prints nothing and exits 0" {
	mq-topic create t -p 4
	run --separate-stderr mq-consume t
	assert_success
	assert_output ''
	[ -z "$stderr" ]
}

@test "a closed stdout ends the consumer quietly" {
	mq-topic create t
	seq 1 300000 | mq-produce t
	run --separate-stderr bash -c 'mq-consume t | head -1; exit ${PIPESTATUS[0]}'
	assert_success
	assert_output '1'
	[ -z "$stderr" ]
}

# --- corruption versus an unfinished tail ------------------------------

@test "a corrupt byte inside a batch in the middle of a segment is an error" {
	mq-topic create t
	seq 1 50 | mq-produce t
	seq 51 100 | mq-produce t
	seg=$(seg0 t)
	len=$(batch_len "$seg" 0)
	[ "$len" -gt 100 ]
	flip "$seg" $((56 + (len - 56) / 2))
	run --separate-stderr mq-consume t
	assert_failure 1
	[[ "$stderr" == *"00000000000000000000.log"* ]]
	[[ "$stderr" == *"byte 0"* ]]
	[ "${#lines[@]}" -eq 0 ]
}

@test "a corrupt byte in the last complete batch is an error, not a torn tail" {
	mq-topic create t
	seq 1 50 | mq-produce t
	seq 51 100 | mq-produce t
	seg=$(seg0 t)
	len=$(batch_len "$seg" 0)
	len2=$(batch_len "$seg" "$len")
	flip "$seg" $((len + 56 + (len2 - 56) / 2))
	run --separate-stderr mq-consume t
	assert_failure 1
	[[ "$stderr" == *"00000000000000000000.log"* ]]
	[[ "$stderr" == *"byte $len"* ]]
	# what came before the bad batch was printed
	[ "${lines[49]}" = 50 ]
}

@test "a corrupt batch header is an error too" {
	mq-topic create t
	seq 1 50 | mq-produce t
	seq 51 100 | mq-produce t
	seg=$(seg0 t)
	flip "$seg" 20   # inside the base offset
	run --separate-stderr mq-consume t
	assert_failure 1
	[[ "$stderr" == *"byte 0"* ]]
}

@test "a corrupt byte in a sealed segment is an error" {
	mq-topic create t -c segment.bytes=1024
	for ((r = 0; r < 10; r++)); do
		seq $((r * 100 + 1)) $((r * 100 + 100)) | mq-produce t
	done
	[ "$(ls "$MQ_SPOOL/t/0/"*.log | wc -l)" -gt 2 ]
	seg=$(seg0 t)
	len=$(batch_len "$seg" 0)
	flip "$seg" $((56 + (len - 56) / 2))
	run --separate-stderr mq-consume t
	assert_failure 1
	[[ "$stderr" == *"00000000000000000000.log"* ]]
	[[ "$stderr" == *byte* ]]
}

@test "a corrupt sealed segment further on is an error when reading from -o @TIME" {
	mq-topic create t -c segment.bytes=1024
	for ((r = 0; r < 10; r++)); do
		seq $((r * 100 + 1)) $((r * 100 + 100)) |
			mq-produce --timestamp $((r * 1000 + 1000)) t
	done
	segs=("$MQ_SPOOL/t/0/"*.log)
	[ "${#segs[@]}" -gt 2 ]
	seg=${segs[-2]}
	len=$(batch_len "$seg" 0)
	flip "$seg" $((56 + (len - 56) / 2))
	# reading from the start reaches the bad segment
	run --separate-stderr mq-consume -o @1000 t
	assert_failure 1
	[[ "$stderr" == *"$(basename "$seg")"* ]]
}

@test "zeros appended to the newest segment are an unfinished write, not an error" {
	hundred t
	head -c 20 /dev/zero >>"$(seg0 t)"
	run --separate-stderr mq-consume t
	assert_success
	assert_output "$(seq 1 100)"
	[ -z "$stderr" ]
}

@test "a partial batch header at the tail of the newest segment is not visible" {
	mq-topic create t
	seq 1 10 | mq-produce t
	seq 11 20 | mq-produce t
	seg=$(seg0 t)
	# the first 40 bytes of a real batch: valid magic, cut short
	head -c 40 "$seg" >"$T/part"
	cat "$T/part" >>"$seg"
	run --separate-stderr mq-consume t
	assert_success
	assert_output "$(seq 1 20)"
	# the next producer recovers the tail and appends after it
	seq 21 22 | mq-produce t
	run mq-consume t
	assert_success
	assert_output "$(seq 1 22)"
}

@test "a whole copied batch at the tail of the newest segment is not visible" {
	mq-topic create t
	seq 1 10 | mq-produce t
	seq 11 20 | mq-produce t
	seg=$(seg0 t)
	len=$(batch_len "$seg" 0)
	# a valid batch whose offsets go backwards was never appended by us
	head -c "$len" "$seg" >"$T/batch"
	cat "$T/batch" >>"$seg"
	run --separate-stderr mq-consume t
	assert_success
	assert_output "$(seq 1 20)"
}

@test "partitions take turns a batch at a time" {
	mq-topic create t -p 2
	# Ten separate runs per partition: ten batches in each.
	for i in $(seq 1 10); do
		seq 1 5 | mq-produce -p 0 t
		seq 1 5 | mq-produce -p 1 t
	done
	run -0 mq-consume -F '%p\n' t
	[ "${#lines[@]}" -eq 100 ]
	# Reading one partition to its end before the other would switch
	# once; taking turns by batch switches at every batch.
	switches=$(uniq <<<"$output" | wc -l)
	[ "$switches" -ge 19 ] || fail "only $switches runs of one partition"
}
