#!/usr/bin/env bats
# tests/produce.bats - mq-produce: splitting input into messages, keys,
# headers, tombstones, partitioning, compression, limits, files, signals.

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

# every_byte_but_nul [desc]: bytes 0x01..0xff in order (desc: reversed).
every_byte_but_nul() {
	local i o fmt=
	if [ "${1-}" = desc ]; then
		for ((i = 255; i > 0; i--)); do printf -v o '\\%03o' "$i"; fmt+=$o; done
	else
		for ((i = 1; i < 256; i++)); do printf -v o '\\%03o' "$i"; fmt+=$o; done
	fi
	printf "$fmt"
}

# has_output EXPECTED CMD...: does CMD print exactly EXPECTED?
has_output() {
	local want="$1"
	shift
	[ "$("$@" 2>/dev/null)" = "$want" ]
}

# --- byte-exact round trips -------------------------------------------

@test "text lines round-trip byte for byte" {
	mq-topic create t
	printf 'hello\nworld with  spaces\n\ttab\r\nlast line\n' >"$T/in"
	mq-produce t "$T/in"
	mq-consume t >"$T/out"
	cmp "$T/in" "$T/out"
	run mq-consume -F '%o\n' t
	assert_output "$(seq 0 3)"
}

@test "binary messages with every byte value but NUL round-trip with -0" {
	mq-topic create t
	{
		every_byte_but_nul
		printf '\0'
		printf '\n\n\r\n\0'
		every_byte_but_nul desc
		printf '\0'
		printf '\377\200\001\0'
	} >"$T/in"
	mq-produce -0 t "$T/in"
	mq-consume -0 t >"$T/out"
	cmp "$T/in" "$T/out"
	run mq-consume -F '%S\n' t
	assert_output "$(printf '255\n4\n255\n3')"
}

@test "an empty line is an empty message" {
	mq-topic create t
	printf 'a\n\nb\n' >"$T/in"
	mq-produce t <"$T/in"
	run mq-consume -F '%o:%S:%s\n' t
	assert_output "$(printf '0:1:a\n1:0:\n2:1:b')"
	mq-consume t >"$T/out"
	cmp "$T/in" "$T/out"
}

@test "a last message without a trailing delimiter is stored" {
	mq-topic create t
	printf 'a\nb' | mq-produce t
	run mq-consume -F '%o=%s;' t
	assert_output '0=a;1=b;'
	mq-consume t >"$T/out"
	printf 'a\nb\n' >"$T/want"
	cmp "$T/want" "$T/out"
}

@test "a two-byte delimiter -D '||' splits only at the whole delimiter" {
	mq-topic create t
	printf 'a|b||c||||d|e||' >"$T/in"
	mq-produce -D '||' t "$T/in"
	run mq-consume -F '[%s]' t
	assert_output '[a|b][c][][d|e]'
	mq-consume -D '||' t >"$T/out"
	cmp "$T/in" "$T/out"
}

@test "a CRLF delimiter -D '\\r\\n' keeps lone CR and LF inside messages" {
	mq-topic create t
	printf 'x\ry\r\nz\n\r\n\r\nw\r\n' >"$T/in"
	mq-produce -D '\r\n' t "$T/in"
	run mq-consume -F '%S,' t
	assert_output '3,2,0,1,'
	mq-consume -D '\r\n' t >"$T/out"
	cmp "$T/in" "$T/out"
}

@test "a tab delimiter -D '\\t' splits at tabs only" {
	mq-topic create t
	printf 'one two\tthree\nfour\t\tfive\t' >"$T/in"
	mq-produce -D '\t' t "$T/in"
	run mq-consume -F '<%s>' t
	assert_output "$(printf '<one two><three\nfour><><five>')"
	mq-consume -D '\t' t >"$T/out"
	cmp "$T/in" "$T/out"
}

@test "a hex delimiter -D '\\x1e' splits at the record separator" {
	mq-topic create t
	printf 'r1\036r 2\nx\036\036r4\036' >"$T/in"
	mq-produce -D '\x1e' t "$T/in"
	run mq-consume -F '<%s>' t
	assert_output "$(printf '<r1><r 2\nx><><r4>')"
	mq-consume -D '\x1e' t >"$T/out"
	cmp "$T/in" "$T/out"
}

@test "a multi-byte delimiter split across two reads is still found" {
	# The producer reads 1MiB chunks from a file: put '||' across the
	# boundary at byte 1048576.
	mq-topic create t -c max.message.bytes=2097152
	{
		head -c 1048575 /dev/zero | tr '\0' a
		printf '||b||'
	} >"$T/in"
	mq-produce -D '||' t "$T/in"
	run mq-consume -F '%S\n' t
	assert_output "$(printf '1048575\n1')"
	mq-consume -D '||' t >"$T/out"
	cmp "$T/in" "$T/out"
}

@test "with 8 partitions every message comes back exactly once" {
	mq-topic create t -p 8
	seq 1 20000 >"$T/in"
	mq-produce --batch-size 4096 t "$T/in"
	mq-consume t | sort -n >"$T/out"
	cmp "$T/in" "$T/out"
	# more than one partition was used, and each keeps input order
	used=0
	for p in 0 1 2 3 4 5 6 7; do
		mq-consume -p "$p" t >"$T/p$p"
		sort -n -c "$T/p$p"
		[ -s "$T/p$p" ] && used=$((used + 1))
	done
	[ "$used" -gt 1 ]
}

@test "binary NUL-delimited messages round-trip over 8 partitions" {
	mq-topic create t -p 8
	every_byte_but_nul >"$T/bytes"
	for ((i = 0; i < 400; i++)); do
		printf '%05d' "$i"
		cat "$T/bytes"
		printf '\0'
	done >"$T/in"
	mq-produce -0 --batch-size 4096 t "$T/in"
	mq-consume -0 t | sort -z >"$T/out"
	cmp "$T/in" "$T/out"
}

@test "-z compresses batches and the messages round-trip" {
	mq-topic create t
	for ((i = 0; i < 2000; i++)); do
		echo "a rather repetitive message body number $((i % 10))"
	done >"$T/in"
	mq-produce -z t "$T/in"
	mq-consume t >"$T/out"
	cmp "$T/in" "$T/out"
	# compressed: the segment is far smaller than the input
	[ "$(stat -c %s "$(seg0 t)")" -lt "$(($(stat -c %s "$T/in") / 4))" ]
}

@test "--compression zlib compresses batches and the messages round-trip" {
	mq-topic create t
	for ((i = 0; i < 2000; i++)); do
		echo "a rather repetitive message body number $((i % 10))"
	done >"$T/in"
	mq-produce --compression zlib t "$T/in"
	mq-consume t >"$T/out"
	cmp "$T/in" "$T/out"
	[ "$(stat -c %s "$(seg0 t)")" -lt "$(($(stat -c %s "$T/in") / 4))" ]
}

@test "a topic created with compression=zlib compresses by default" {
	mq-topic create t -c compression=zlib
	mq-topic create plain
	for ((i = 0; i < 2000; i++)); do
		echo "a rather repetitive message body number $((i % 10))"
	done >"$T/in"
	mq-produce t "$T/in"
	mq-produce plain "$T/in"
	mq-consume t >"$T/out"
	cmp "$T/in" "$T/out"
	[ "$(stat -c %s "$(seg0 t)")" -lt "$(($(stat -c %s "$T/in") / 4))" ]
	# the same input in an uncompressed topic takes more room
	[ "$(stat -c %s "$(seg0 plain)")" -gt "$(stat -c %s "$T/in")" ]
}

@test "--compression none on a zlib topic stores batches uncompressed" {
	mq-topic create t -c compression=zlib
	for ((i = 0; i < 2000; i++)); do
		echo "a rather repetitive message body number $((i % 10))"
	done >"$T/in"
	mq-produce --compression none t "$T/in"
	mq-consume t >"$T/out"
	cmp "$T/in" "$T/out"
	[ "$(stat -c %s "$(seg0 t)")" -gt "$(stat -c %s "$T/in")" ]
}

@test "compressed binary NUL-delimited messages round-trip" {
	mq-topic create t -p 8
	every_byte_but_nul >"$T/bytes"
	for ((i = 0; i < 200; i++)); do
		cat "$T/bytes"
		printf '\0'
	done >"$T/in"
	mq-produce -0 -z t "$T/in"
	mq-consume -0 t >"$T/out"
	cmp "$T/in" "$T/out"
}

@test "incompressible data with -z round-trips at max.message.bytes" {
	mq-topic create t -c max.message.bytes=4096
	# random bytes (no NUL) that zlib cannot shrink, near the limit
	for ((i = 0; i < 5; i++)); do
		head -c 8000 /dev/urandom | tr -d '\0' | head -c 4000
		printf '\0'
	done >"$T/in"
	mq-produce -0 -z t "$T/in"
	mq-consume -0 t >"$T/out"
	cmp "$T/in" "$T/out"
}

@test "a 1000000-byte message round-trips under the default max.message.bytes" {
	mq-topic create t
	{
		echo small
		head -c 1000000 /dev/urandom | base64 -w0 | head -c 1000000
		echo
		echo after
	} >"$T/in"
	mq-produce t "$T/in"
	mq-consume t >"$T/out"
	cmp "$T/in" "$T/out"
	run mq-consume -F '%S\n' t
	assert_output "$(printf '5\n1000000\n5')"
}

@test "a compressed 1000000-byte message round-trips" {
	mq-topic create t
	{
		head -c 1000000 /dev/urandom | base64 -w0 | head -c 1000000
		echo
	} >"$T/in"
	mq-produce -z t "$T/in"
	mq-consume t >"$T/out"
	cmp "$T/in" "$T/out"
}

# --- keys ---------------------------------------------------------------

@test "-K splits key and value at the first key delimiter" {
	mq-topic create t
	printf 'k:v:w\n:empty key\nk2::\n' | mq-produce -K ':' t
	run mq-consume -F '%k|%s|%K|%S\n' t
	assert_output "$(printf 'k|v:w|1|3\n|empty key|0|9\nk2|:|2|1')"
}

@test "-K with a multi-byte key delimiter" {
	mq-topic create t
	printf 'key=>val=>ue\n' | mq-produce -K '=>' t
	run mq-consume -F '%k|%s\n' t
	assert_output 'key|val=>ue'
}

@test "-K: a message without the key delimiter has a null key" {
	mq-topic create t
	printf 'novalue\nk:v\n' | mq-produce -K ':' t
	run mq-consume -F '%K [%k] %s\n' t
	assert_output "$(printf -- '-1 [] novalue\n1 [k] v')"
	run mq-consume -F '%k %s\n' --null-marker NULL t
	assert_output "$(printf 'NULL novalue\nk v')"
}

@test "without -K or -k messages have a null key" {
	mq-topic create t
	printf 'a:b\n' | mq-produce t
	run mq-consume -F '%K %s\n' t
	assert_output -- '-1 a:b'
}

@test "-k KEY gives every message that key" {
	mq-topic create t
	printf 'a\nb:c\n\n' | mq-produce -k mykey t
	run mq-consume -F '%k|%s\n' t
	assert_output "$(printf 'mykey|a\nmykey|b:c\nmykey|')"
}

@test "-K with -k: messages lacking the key delimiter get -k's key" {
	mq-topic create t
	printf 'a:1\nplain\nb:2\n' | mq-produce -K ':' -k dflt t
	run mq-consume -F '%k|%s\n' t
	assert_output "$(printf 'a|1\ndflt|plain\nb|2')"
}

# --- headers --------------------------------------------------------------

@test "-H NAME=VALUE headers are on every message in order" {
	mq-topic create t
	printf 'x\ny\nz\n' | mq-produce -H a=1 -H b=2 t
	run mq-consume -F '%h|%s\n' t
	assert_output "$(printf 'a=1,b=2|x\na=1,b=2|y\na=1,b=2|z')"
}

@test "a header value may contain '='" {
	mq-topic create t
	echo m | mq-produce -H 'q=a=b' t
	run mq-consume -F '%h' t
	assert_output 'q=a=b'
}

@test "-H without '=' is a usage error" {
	mq-topic create t
	run --separate-stderr mq-produce -H novalue t </dev/null
	assert_failure 2
	[[ "$stderr" == mq-produce:*novalue* ]]
	run mq-consume t
	assert_output ''
}

@test "-H with an empty name is a usage error" {
	mq-topic create t
	run mq-produce -H =v t </dev/null
	assert_failure 2
}

@test "-H 'x=' gives a header with an empty value" {
	mq-topic create t
	echo m | mq-produce -H 'x=' t
	run mq-consume -F '[%h]' t
	assert_output '[x=]'
}

@test "messages without -H have no headers" {
	mq-topic create t
	echo m | mq-produce t
	run mq-consume -F '[%h]' t
	assert_output '[]'
}

# --- tombstones ------------------------------------------------------------

@test "-Z stores an empty value as null (a tombstone)" {
	mq-topic create t
	printf 'k:\nj:v\n' | mq-produce -Z -K ':' t
	run mq-consume -F '%k %S\n' t
	assert_output "$(printf 'k -1\nj 1')"
	run mq-consume -F '%s\n' --null-marker NULL t
	assert_output "$(printf 'NULL\nv')"
	# the default null marker is nothing
	run mq-consume -F '[%s]' t
	assert_output '[][v]'
}

@test "without -Z an empty value is empty, not null" {
	mq-topic create t
	printf 'k:\n' | mq-produce -K ':' t
	run mq-consume -F '%S' t
	assert_output '0'
	run mq-consume -F '[%s]' --null-marker NULL t
	assert_output '[]'
}

@test "-Z makes an empty line a null value" {
	mq-topic create t
	printf 'a\n\nb\n' | mq-produce -Z t
	run mq-consume -F '%S,' t
	assert_output '1,-1,1,'
}

# --- partitioning ---------------------------------------------------------

@test "the same key lands on the same partition across separate runs" {
	mq-topic create t -p 8
	for r in 1 2 3; do
		for ((i = 0; i < 30; i++)); do echo "key$i:run$r"; done |
			mq-produce -K ':' t
	done
	mq-consume -F '%k %p\n' t | sort -u >"$T/pairs"
	# 30 keys, each on exactly one partition
	[ "$(wc -l <"$T/pairs")" -eq 30 ]
	[ "$(cut -d' ' -f1 "$T/pairs" | sort -u | wc -l)" -eq 30 ]
	# and the keys are spread: more than one partition is used
	[ "$(cut -d' ' -f2 "$T/pairs" | sort -u | wc -l)" -gt 1 ]
}

@test "keyed messages keep per-key order over 8 partitions" {
	mq-topic create t -p 8
	for ((i = 0; i < 1000; i++)); do echo "k$((i % 20)):$i"; done >"$T/in"
	mq-produce -K ':' --batch-size 512 t "$T/in"
	mq-consume -F '%k %s\n' t >"$T/out"
	[ "$(wc -l <"$T/out")" -eq 1000 ]
	# per key, values come out in input order
	awk '{ if (($1 in last) && $2 + 0 <= last[$1]) { print "out of order: " $0; bad = 1 }
	       last[$1] = $2 + 0; n[$1]++ }
	     END { for (k in n) if (n[k] != 50) { print k, n[k]; bad = 1 }; exit bad }' "$T/out"
}

@test "-p N writes every message to partition N" {
	mq-topic create t -p 8
	printf 'a\nk:b\nc\n' | mq-produce -p 5 -K ':' t
	run mq-consume -F '%p %o %s\n' t
	assert_output "$(printf '5 0 a\n5 1 b\n5 2 c')"
}

@test "-p out of range is a usage error and stores nothing" {
	mq-topic create t -p 8
	run --separate-stderr mq-produce -p 8 t <<<"x"
	assert_failure 2
	[[ "$stderr" == *"partition 8"* ]]
	run mq-produce -p -1 t <<<"x"
	assert_failure 2
	run mq-produce -p x t <<<"x"
	assert_failure 2
	run mq-consume t
	assert_output ''
}

@test "mixed keyed and unkeyed messages never make a batch over max.message.bytes" {
	# With murmur2, key "21" is on partition 0 and "abc" on partition 1
	# of 2 (Kafka's placement).  Both partitions' batches are filled
	# close to the limit by keyed messages; the unkeyed message that
	# follows fits in neither and must start a new batch.
	mq-topic create t -p 2 -c max.message.bytes=1000
	x=$(head -c 400 /dev/zero | tr '\0' x)
	printf '21:%s\nabc:%s\n21:%s\nabc:%s\n%s\n' "$x" "$x" "$x" "$x" "$x" \
		>"$T/in"
	mq-produce --partitioner murmur2 -K : t "$T/in"
	run --separate-stderr mq-consume -F '%p %k %S\n' t
	echo "mq-consume stderr: $stderr"
	assert_success
	[ "${#lines[@]}" -eq 5 ]
	[ "$(grep -cx '0 21 400' <<<"$output")" -eq 2 ]
	[ "$(grep -cx '1 abc 400' <<<"$output")" -eq 2 ]
	[ "$(grep -cxE '[01]  400' <<<"$output")" -eq 1 ]
}

@test "unkeyed messages spread over all 8 partitions" {
	mq-topic create t -p 8
	seq 1 200000 >"$T/in"
	mq-produce --batch-size 4096 t "$T/in"
	run mq-consume -F '%p\n' t
	[ "${#lines[@]}" -eq 200000 ]
	mq-consume -F '%p\n' t | sort | uniq -c >"$T/counts"
	[ "$(wc -l <"$T/counts")" -eq 8 ]
	while read -r n p; do
		[ "$n" -ge 12500 ] || { echo "partition $p has $n" >&2; false; }
	done <"$T/counts"
}

# Kafka's Utils.murmur2 for some keys (from the Java client's tests).
MURMUR2_TABLE='21 -973932308
foobar -790332482
a-little-bit-long-string -985981536
a-little-bit-longer-string -1486304829
lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8 -58897971
abc 479470107
1 -1993445489
12 126087238
123 -267702483
1234 -1614185708
12345 -1188365604'

@test "the murmur2 partitioner places keys where Kafka's Java client does" {
	for n in 7 12; do
		mq-topic create "t$n" -p "$n"
		: >"$T/want$n"
		while read -r key hash; do
			echo "$key:v" | mq-produce --partitioner murmur2 -K ':' "t$n"
			echo "$(((hash & 0x7fffffff) % n)) $key" >>"$T/want$n"
		done <<<"$MURMUR2_TABLE"
		mq-consume -F '%p %k\n' "t$n" | sort >"$T/got$n"
		sort "$T/want$n" | diff - "$T/got$n"
	done
}

@test "the murmur2 partitioner places keys consistently in one run" {
	mq-topic create t -p 12
	: >"$T/want"
	while read -r key hash; do
		echo "$key:v"
		echo "$(((hash & 0x7fffffff) % 12)) $key" >>"$T/want"
	done <<<"$MURMUR2_TABLE" >"$T/in"
	mq-produce --partitioner=murmur2 -K ':' t "$T/in"
	mq-consume -F '%p %k\n' t | sort >"$T/got"
	sort "$T/want" | diff - "$T/got"
}

@test "--partitioner xxh3 is accepted and places keys like the default" {
	mq-topic create a -p 8
	mq-topic create b -p 8
	for ((i = 0; i < 50; i++)); do echo "key$i:v"; done >"$T/in"
	mq-produce -K ':' a "$T/in"
	mq-produce -K ':' --partitioner xxh3 b "$T/in"
	diff <(mq-consume -F '%k %p\n' a | sort) \
		<(mq-consume -F '%k %p\n' b | sort)
}

@test "--partitioner bogus is a usage error" {
	mq-topic create t
	run --separate-stderr mq-produce --partitioner bogus t <<<"x"
	assert_failure 2
	[[ "$stderr" == *bogus* ]]
}

# --- durability flags -----------------------------------------------------

@test "--sync exit, batch and none all store the messages" {
	for s in exit batch none; do
		mq-topic create "t$s" -p 3
		seq 1 5000 >"$T/in"
		mq-produce --sync="$s" --batch-size 1024 "t$s" "$T/in"
		mq-consume "t$s" | sort -n >"$T/out"
		cmp "$T/in" "$T/out"
	done
}

@test "--sync bogus is a usage error" {
	mq-topic create t
	run mq-produce --sync=bogus t <<<"x"
	assert_failure 2
	run mq-consume t
	assert_output ''
}

# --- refused messages -----------------------------------------------------

@test "a message over max.message.bytes stops the producer after storing the earlier ones" {
	mq-topic create t -c max.message.bytes=1000
	{
		printf 'a\nb\nc\n'
		head -c 2000 /dev/zero | tr '\0' x
		printf '\nd\n'
	} >"$T/in"
	run --separate-stderr mq-produce t <"$T/in"
	assert_failure 1
	[[ "$stderr" == *"message 4 at byte 6 of 'stdin'"* ]]
	[[ "$stderr" == *"over max.message.bytes"* ]]
	[[ "$stderr" == *"3 messages"*stored* ]]
	run mq-consume t
	assert_output "$(printf 'a\nb\nc')"
}

@test "a message over max.message.bytes in a FILE names the file" {
	mq-topic create t -c max.message.bytes=1000
	{
		printf 'a\nb\nc\n'
		head -c 2000 /dev/zero | tr '\0' x
		printf '\nd\n'
	} >"$T/big input"
	run --separate-stderr mq-produce t "$T/big input"
	assert_failure 1
	[[ "$stderr" == *"message 4 at byte 6 of '$T/big input'"* ]]
	[[ "$stderr" == *"over max.message.bytes (1000)"* ]]
	run mq-consume t
	assert_output "$(printf 'a\nb\nc')"
}

@test "a message a little under max.message.bytes is stored, one over is refused" {
	mq-topic create t -c max.message.bytes=1000
	head -c 980 /dev/zero | tr '\0' y >"$T/ok"
	mq-produce t "$T/ok"
	head -c 1000 /dev/zero | tr '\0' y >"$T/big"
	run -1 mq-produce t "$T/big"
	run mq-consume -F '%S\n' t
	assert_output '980'
}

@test "an endless line without a delimiter is refused without reading it all" {
	mq-topic create t -c max.message.bytes=1000
	# /dev/zero never ends: the producer must give up past the limit
	run --separate-stderr timeout 20 sh -c \
		'{ printf "a\nb\n"; cat /dev/zero; } | mq-produce t'
	assert_failure 1
	[[ "$stderr" == *"message 3 at byte 4 of 'stdin'"* ]]
	[[ "$stderr" == *"over max.message.bytes"* ]]
	[[ "$stderr" == *"2 messages"*stored* ]]
	run mq-consume t
	assert_output "$(printf 'a\nb')"
}

@test "an endless line from a file without a delimiter is refused" {
	mq-topic create t -c max.message.bytes=1000
	run --separate-stderr timeout 20 mq-produce t /dev/zero
	assert_failure 1
	[[ "$stderr" == *"message 1 at byte 0 of '/dev/zero'"* ]]
}

# --- files ----------------------------------------------------------------

@test "several FILE arguments are read in order" {
	mq-topic create t
	printf '1\n2\n' >"$T/f1"
	printf '3\n' >"$T/f2"
	printf '4\n5\n' >"$T/f3"
	mq-produce t "$T/f1" "$T/f2" "$T/f3"
	run mq-consume t
	assert_output "$(seq 1 5)"
}

@test "a file's last line without a newline does not run into the next file" {
	mq-topic create t
	printf '1\n2' >"$T/f1"
	printf '3\n' >"$T/f2"
	mq-produce t "$T/f1" "$T/f2"
	run mq-consume -F '%s|' t
	assert_output '1|2|3|'
}

@test "'-' among FILE arguments reads stdin in its place" {
	mq-topic create t
	printf 'first\n' >"$T/f1"
	printf 'last\n' >"$T/f2"
	printf 'middle\n' | mq-produce t "$T/f1" - "$T/f2"
	run mq-consume t
	assert_output "$(printf 'first\nmiddle\nlast')"
}

@test "a missing FILE exits 1 naming it" {
	mq-topic create t
	printf 'ok\n' >"$T/f1"
	run --separate-stderr mq-produce t "$T/f1" "$T/nosuch"
	assert_failure 1
	[[ "$stderr" == *"'$T/nosuch'"* ]]
	[[ "$stderr" == mq-produce:* ]]
	# what was read before it is stored
	run mq-consume t
	assert_output 'ok'

}

@test "a missing topic exits 1" {
	mkdir "$MQ_SPOOL"
	run --separate-stderr mq-produce nosuch <<<"x"
	assert_failure 1
	[[ "$stderr" == *nosuch* ]]
}

# --- summary --------------------------------------------------------------

@test "-v prints the number stored and each partition's offsets" {
	mq-topic create t
	seq 1 3 | mq-produce t
	run --separate-stderr mq-produce -v t < <(seq 4 5)
	assert_success
	assert_output ''
	[[ "$stderr" == *"stored 2 messages"* ]]
	[[ "$stderr" == *"partition 0: 2 messages, offsets 3-4"* ]]
}

@test "-v lists only the partitions written to" {
	mq-topic create t -p 4
	run --separate-stderr mq-produce -v -p 2 t < <(seq 1 7)
	assert_success
	[[ "$stderr" == *"stored 7 messages"* ]]
	[[ "$stderr" == *"partition 2: 7 messages, offsets 0-6"* ]]
	[[ "$stderr" != *"partition 0:"* ]]
	[[ "$stderr" != *"partition 1:"* ]]
}

@test "without -v a successful producer is silent" {
	mq-topic create t
	run --separate-stderr mq-produce t < <(seq 1 3)
	assert_success
	assert_output ''
	[ -z "$stderr" ]
}

# --- timestamps -----------------------------------------------------------

@test "--timestamp in epoch milliseconds sets every message's timestamp" {
	mq-topic create t
	printf 'a\nb\n' | mq-produce --timestamp 1700000000000 t
	run mq-consume -F '%T\n' t
	assert_output "$(printf '1700000000000\n1700000000000')"
}

@test "--timestamp in ISO-8601 sets every message's timestamp" {
	mq-topic create t
	printf 'a\n' | mq-produce --timestamp 2023-11-14T22:13:20Z t
	printf 'b\n' | mq-produce --timestamp 2023-11-14T22:13:20.5Z t
	run mq-consume -F '%T\n' t
	assert_output "$(printf '1700000000000\n1700000000500')"
}

@test "a bad --timestamp is a usage error" {
	mq-topic create t
	for ts in yesterday 2023-13-01T00:00:00Z 12x '' 2023-11-14T25:00:00Z; do
		run mq-produce --timestamp "$ts" t <<<"x"
		assert_failure 2
	done
	run mq-consume t
	assert_output ''
}

@test "without --timestamp messages carry the time they were produced" {
	mq-topic create t
	before=$(date +%s%3N)
	printf 'a\nb\n' | mq-produce t
	after=$(date +%s%3N)
	run mq-consume -F '%T\n' t
	[ "${#lines[@]}" -eq 2 ]
	for ts in "${lines[@]}"; do
		[ "$ts" -ge "$before" ] && [ "$ts" -le "$after" ]
	done
}

# --- streaming --------------------------------------------------------------

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

@test "a producer reading a FIFO makes each line visible before EOF" {
	mq-topic create t
	start_fifo_producer "$T/fifo" t
	echo one >&7
	wait_for has_output one mq-consume t
	echo two >&7
	wait_for has_output "$(printf 'one\ntwo')" mq-consume t
	exec 7>&-
	rc=0
	wait "$BG_PID" || rc=$?
	BG_PID=
	[ "$rc" -eq 0 ]
	run mq-consume t
	assert_output "$(printf 'one\ntwo')"
}

@test "after mq-topic delete returns, a --sync=batch producer acknowledges nothing more and exits 1" {
	mq-topic create t -p 2
	start_fifo_producer "$T/fifo" --sync=batch --linger 0 --acks "$T/acks" t
	printf '1\n2\n3\n' >&7
	wait_for lines_in "$T/acks" 1
	cp "$T/acks" "$T/acks.before"
	mq-topic delete t
	[ ! -e "$MQ_SPOOL/t" ]
	printf '4\n5\n6\n' >&7
	exec 7>&-
	rc=0
	wait "$BG_PID" || rc=$?
	BG_PID=
	[ "$rc" -eq 1 ]
	cmp "$T/acks.before" "$T/acks"
	grep -q "the topic was deleted" "$T/perr"
	[ "$(wc -l <"$T/perr")" -eq 1 ]
	[ -z "$(ls -A "$MQ_SPOOL")" ] || [ "$(ls -A "$MQ_SPOOL")" = "+format" ]
}

@test "messages appended before mq-topic delete are not acknowledged after it (sync at exit)" {
	mq-topic create t
	start_fifo_producer "$T/fifo" --linger 0 --acks "$T/acks" t
	printf '1\n2\n3\n' >&7
	wait_for has_output "$(printf '1\n2\n3')" mq-consume t
	mq-topic delete t
	exec 7>&-
	rc=0
	wait "$BG_PID" || rc=$?
	BG_PID=
	[ "$rc" -eq 1 ]
	[ ! -s "$T/acks" ]
	[ "$(cat "$T/perr")" = "mq-produce: '$MQ_SPOOL/t/0' was deleted before its messages were acknowledged" ]
}

@test "SIGTERM stops a producer reading a FIFO with exit 0, storing its complete lines" {
	mq-topic create t
	# a long linger keeps what was read unsent until the signal
	start_fifo_producer "$T/fifo" --linger 1h t
	printf 'one\ntwo\npart' >&7
	wait_for read_since_start 12
	run mq-consume t
	assert_output ''
	kill -TERM "$BG_PID"
	rc=0
	wait "$BG_PID" || rc=$?
	BG_PID=
	[ "$rc" -eq 0 ]
	exec 7>&-
	run mq-consume t
	assert_output "$(printf 'one\ntwo')"
	# the unfinished "part" is reported, not stored
	grep -q '4 bytes of an unfinished message' "$T/perr"
}

@test "SIGTERM stops an idle producer reading a FIFO with exit 0" {
	mq-topic create t
	start_fifo_producer "$T/fifo" t
	printf 'one\ntwo\n' >&7
	wait_for has_output "$(printf 'one\ntwo')" mq-consume t
	kill -TERM "$BG_PID"
	rc=0
	wait "$BG_PID" || rc=$?
	BG_PID=
	[ "$rc" -eq 0 ]
	exec 7>&-
	run mq-consume t
	assert_output "$(printf 'one\ntwo')"
}

# --- acknowledgement logs (--acks) -------------------------------------------

@test "--acks appends each batch's partition and first and last offsets to FILE" {
	mq-topic create t -p 2
	# --batch-size 20 holds three one-digit records: three batches
	seq 1 9 | mq-produce -p 1 --batch-size 20 --acks "$T/acks" t
	printf '1 0 2\n1 3 5\n1 6 8\n' | cmp - "$T/acks"
	run mq-consume -p 1 -F '%o %s\n' t
	assert_output "$(seq 1 9 | awk '{ print NR - 1, $1 }')"
	# a second run appends to the file
	seq 1 3 | mq-produce -p 1 --batch-size 20 --acks "$T/acks" --sync batch t
	printf '1 0 2\n1 3 5\n1 6 8\n1 9 11\n' | cmp - "$T/acks"
}

@test "--acks - writes the acknowledgements to standard output" {
	mq-topic create t
	run --separate-stderr -0 mq-produce --batch-size 20 --acks - t <<<"$(seq 1 5)"
	assert_output "$(printf '0 0 2\n0 3 4')"
	assert_equal "$stderr" ""
}

@test "--acks logs each partition's batches of keyed messages with the offsets they got" {
	mq-topic create t -p 4
	# from a file, which never pauses: one batch per partition
	seq 1 200 | awk '{ print "k" ($1 % 13) ":" $1 }' >"$T/in"
	mq-produce -K: --acks "$T/acks" t "$T/in"
	mq-consume -F '%p %o\n' t >"$T/stored"
	# each partition's first and last offset as consumed
	awk '!($1 in first) { first[$1] = $2 } { last[$1] = $2 }
	     END { for (p in first) print p, first[p], last[p] }' "$T/stored" |
		sort >"$T/want"
	sort "$T/acks" | cmp - "$T/want"
	[ "$(wc -l <"$T/acks")" -eq 4 ]
}

@test "with the default --sync exit a batch is acknowledged only once the producer syncs at the end" {
	mq-topic create t
	start_fifo_producer "$T/fifo" --acks "$T/acks" t
	# one write(2), so both lines go in one batch (see below)
	printf 'one\ntwo\n' | cat >&7
	wait_for has_output "$(printf 'one\ntwo')" mq-consume t
	# stored, but not synced yet: not acknowledged
	[ -f "$T/acks" ] && [ ! -s "$T/acks" ]
	exec 7>&-
	rc=0
	wait "$BG_PID" || rc=$?
	BG_PID=
	[ "$rc" -eq 0 ]
	printf '0 0 1\n' | cmp - "$T/acks"
}

@test "with --sync batch each batch is acknowledged while the producer runs" {
	mq-topic create t
	start_fifo_producer "$T/fifo" --sync batch --acks "$T/acks" t
	# one write(2), so the producer reads both lines at once (bash's
	# printf may write line by line)
	printf 'one\ntwo\n' | cat >&7
	wait_for lines_in "$T/acks" 1
	printf '0 0 1\n' | cmp - "$T/acks"
	printf 'three\n' >&7
	wait_for lines_in "$T/acks" 2
	printf '0 0 1\n0 2 2\n' | cmp - "$T/acks"
	exec 7>&-
	rc=0
	wait "$BG_PID" || rc=$?
	BG_PID=
	[ "$rc" -eq 0 ]
	printf '0 0 1\n0 2 2\n' | cmp - "$T/acks"
}

@test "with --sync none each batch is acknowledged as soon as it is written" {
	mq-topic create t
	start_fifo_producer "$T/fifo" --sync none --acks "$T/acks" t
	printf 'one\n' >&7
	wait_for lines_in "$T/acks" 1
	printf '0 0 0\n' | cmp - "$T/acks"
	exec 7>&-
	wait "$BG_PID"
	BG_PID=
}

@test "an --acks file that cannot be written is a runtime error naming it; the messages are stored" {
	mq-topic create t
	run --separate-stderr -1 mq-produce --acks /dev/full t <<<"$(seq 1 3)"
	assert_output ""
	assert_equal "$stderr" "mq-produce: cannot write acknowledgements to '/dev/full': No space left on device; 3 messages before it were stored"
	run mq-consume t
	assert_output "$(seq 1 3)"
}

@test "an --acks file that cannot be opened exits 1 naming it, storing nothing" {
	mq-topic create t
	run --separate-stderr -1 mq-produce --acks "$T/no/such/acks" t <<<"x"
	assert_equal "$stderr" "mq-produce: cannot open acknowledgement file '$T/no/such/acks': No such file or directory"
	run mq-consume t
	assert_output ""
}

@test "an empty --acks file name is a usage error" {
	mq-topic create t
	run --separate-stderr -2 mq-produce --acks '' t <<<"x"
	assert_equal "$stderr" "mq-produce: --acks: empty file name"
}

@test "-v reports how long the producer waited for a partition lock another process held" {
	mq-topic create t
	echo a | mq-produce t
	rm -f "$T/held"
	( flock -x 9 && touch "$T/held" && exec sleep 600 ) \
		9<"$MQ_SPOOL/t/0/lock" 3>&- &
	local holder=$! t0 t1 rc=0
	BG_PID=$holder   # killed by teardown if the test fails
	wait_for test -e "$T/held"
	t0=$(date +%s%3N)
	mq-produce -v t <<<"b" 2>"$T/err" 3>&- &
	local p=$!
	# Once it waits, the lock stays held 0.3 s more: however slowly it
	# started, it waits at least that long.
	wait_for grep -q lock "/proc/$p/wchan"
	sleep 0.3
	kill "$holder"
	BG_PID=
	wait "$p" || rc=$?
	t1=$(date +%s%3N)
	[ "$rc" -eq 0 ]
	[[ "$(cat "$T/err")" =~ waited\ ([0-9]+\.[0-9]+)\ s\ for\ partition\ locks\ held\ by\ others ]]
	# it waited those 0.3 s, and no longer than it ran
	awk -v w="${BASH_REMATCH[1]}" -v ran=$((t1 - t0)) \
		'BEGIN { exit !(w >= 0.3 && w * 1000 <= ran) }'
	run --separate-stderr mq-produce -v t <<<"c"
	[[ "$stderr" == *"waited 0.000 s for partition locks held by others"* ]]
}

@test "a regular file is a bulk load: each partition gets its batches only when full" {
	# 200,000 keyed messages of ~50 bytes into 100 partitions: ~100 KB a
	# partition, under one 256KiB batch; reading 10 MB takes longer than
	# the 10 ms after which a stream's partial batches would be written
	mq-topic create t -p 100
	awk 'BEGIN { for (i = 0; i < 200000; i++)
		printf "k%d\t%040d\n", i % 1000, i }' >"$T/in"
	mq-produce -K '\t' t "$T/in"
	run mq-topic verify t
	assert_success
	assert_output --partial "verified 1 topics, 100 partitions, 100 segments, 100 batches, 200000 messages: 0 problems"
}
