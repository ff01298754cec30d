#!/usr/bin/env bats
# tests/codecs.bats - the batch codecs none, zlib, zstd and lz4: messages
# (keys, headers, tombstones) come back byte for byte from each, the
# stored batch carries the codec's id in its codec byte (offset 52, see
# mq-spool(5)), compressible input takes less room and incompressible
# input is stored raw, the topic's compression key is the default and
# --compression overrides it, a corrupt zstd or lz4 payload behind a
# valid checksum is refused as corrupt, a bad codec name is a usage
# error, and compaction and export/import carry zstd and lz4 topics.

load helper
bats_require_minimum_version 1.5.0

CODECS=(none zlib zstd lz4)

per_test_setup() {
	T="$BATS_TEST_TMPDIR"
}

# id CODEC: the codec's id in a batch header.
id() {
	case $1 in
	none) echo 0 ;; zlib) echo 1 ;; zstd) echo 2 ;; lz4) echo 3 ;;
	esac
}

# codec_at FILE POS: the codec byte of the batch at byte POS of FILE.
codec_at() {
	od -An -tu1 -j $(($2 + 52)) -N1 "$1" | tr -d ' '
}

# batch_len FILE POS: the length field of the batch at byte POS.
batch_len() {
	od -An -tu4 -j $(($2 + 4)) -N4 "$1" | tr -d ' '
}

# codecs_of FILE: the codec byte of every batch in FILE, one a line.
codecs_of() {
	local pos=0 size
	size=$(stat -c %s "$1")
	while [ "$pos" -lt "$size" ]; do
		codec_at "$1" "$pos"
		pos=$((pos + $(batch_len "$1" "$pos")))
	done
}

# json N: N log lines of JSON with repeated field names (compressible).
json() {
	awk -v n="$1" 'BEGIN {
		split("info warn error debug", lv, " ")
		split("api auth billing search", sv, " ")
		for (i = 0; i < n; i++)
			printf "{\"timestamp\":\"2026-11-24T10:%02d:%02d.%03dZ\",\"level\":\"%s\",\"service\":\"%s\",\"host\":\"web-%02d\",\"request_id\":\"%08x\",\"message\":\"request handled\",\"duration_ms\":%d}\n",
				(i / 60) % 60, i % 60, i % 1000, lv[i % 4 + 1],
				sv[i % 3 + 1], i % 16, i * 2654435761 % 4294967296,
				i * 37 % 1000
	}'
}

# mixed: key:value lines with an empty value (a tombstone under -Z), an
# empty key, bytes above 127 and a long repetitive value.
mixed() {
	local i long
	long=$(printf 'abcdefgh%.0s' {1..40})
	for ((i = 0; i < 300; i++)); do
		echo "k$((i % 7)):value $i $long"
	done
	printf 'gone:\n:no key\nutf8:caf\303\251 \342\202\254\n'
}

# fix_batch FILE MODE: rewrites the first batch of FILE with its payload
# damaged (MODE magic: its first 8 bytes set to 0xff; cut: its last 9
# bytes dropped; bomb: the payload kept and raw_len set to 1000), then
# fixes the length field and the XXH3-64 checksum
# (of the header without the checksum, seeded with the payload's hash;
# see mq-spool(5)) so that only the codec can notice.  The batches after
# it are kept as they are.
fix_batch() {
	python3 - "$1" "$2" <<'EOF'
import ctypes, ctypes.util, struct, sys
x = ctypes.CDLL(ctypes.util.find_library("xxhash") or "libxxhash.so.0")
x.XXH3_64bits.restype = ctypes.c_uint64
x.XXH3_64bits.argtypes = [ctypes.c_char_p, ctypes.c_size_t]
x.XXH3_64bits_withSeed.restype = ctypes.c_uint64
x.XXH3_64bits_withSeed.argtypes = [ctypes.c_char_p, ctypes.c_size_t,
                                   ctypes.c_uint64]
path, mode = sys.argv[1], sys.argv[2]
data = open(path, "rb").read()
length = struct.unpack_from("<I", data, 4)[0]
hdr, payload, rest = bytearray(data[:56]), data[56:length], data[length:]
if mode == "magic":
    payload = b"\xff" * 8 + payload[8:]
elif mode == "bomb":
    struct.pack_into("<I", hdr, 48, 1000)
else:
    payload = payload[:-9]
struct.pack_into("<I", hdr, 4, 56 + len(payload))
seed = x.XXH3_64bits(payload, len(payload))
h = bytes(hdr[0:8]) + bytes(hdr[16:56])
struct.pack_into("<Q", hdr, 8, x.XXH3_64bits_withSeed(h, len(h), seed))
open(path, "wb").write(bytes(hdr) + payload + rest)
EOF
}

@test "each codec round-trips keys, values, headers, tombstones and null keys byte for byte" {
	mixed >"$T/in"
	local c
	for c in "${CODECS[@]}"; do
		mq-topic create "$c"
		mq-produce -K : -Z -H src=codecs -H empty= --compression "$c" \
			--timestamp 1700000000000 "$c" "$T/in"
		mq-consume -F '%o|%k|%s|%h|%S|%T\n' --null-marker NULL "$c" \
			>"$T/$c.out"
		mq-consume -K : "$c" >"$T/$c.kv"
	done
	# none is the reference: the other codecs give the same bytes.
	for c in zlib zstd lz4; do
		cmp "$T/none.out" "$T/$c.out"
		cmp "$T/none.kv" "$T/$c.kv"
	done
	# and the reference holds what went in.
	[ "$(wc -l <"$T/none.out")" -eq 303 ]
	grep -qx '300|gone|NULL|src=codecs,empty=|-1|1700000000000' \
		"$T/none.out"
	run -0 grep -c '^[0-9]*|k[0-6]|value ' "$T/none.out"
	assert_output 300
	mq-consume -F '%k|%s\n' -o 301 -c 1 --null-marker NULL lz4 >"$T/k"
	printf '|no key\n' | cmp - "$T/k"
	mq-consume -o 302 -c 1 zstd >"$T/u"
	printf 'caf\303\251 \342\202\254\n' | cmp - "$T/u"
}

@test "each codec stores its id in the codec byte at offset 52 of the batch" {
	json 2000 >"$T/in"
	local c
	for c in "${CODECS[@]}"; do
		mq-topic create "$c"
		mq-produce --compression "$c" "$c" "$T/in"
		run -0 codecs_of "$(seg0 "$c")"
		# every batch of the topic, and at least one
		[ -n "$output" ]
		run -0 sort -u <<<"$output"
		assert_output "$(id "$c")"
		mq-consume "$c" | cmp - "$T/in"
	done
}

@test "compressible JSON lines take less room with each codec than with none, zstd and zlib least" {
	json 5000 >"$T/in"
	local c
	for c in "${CODECS[@]}"; do
		mq-topic create "$c"
		mq-produce --compression "$c" "$c" "$T/in"
		eval "size_$c=\$(stat -c %s \"\$(seg0 \$c)\")"
	done
	echo "none $size_none zlib $size_zlib zstd $size_zstd lz4 $size_lz4" >&2
	[ "$size_none" -gt "$(stat -c %s "$T/in")" ]
	# lz4 at least halves it, zlib and zstd do better than lz4
	[ $((size_lz4 * 2)) -lt "$size_none" ]
	[ "$size_zlib" -lt "$size_lz4" ]
	[ "$size_zstd" -lt "$size_lz4" ]
	[ $((size_zstd * 5)) -lt "$size_none" ]
}

@test "an incompressible random message is stored uncompressed (codec 0) by zstd and lz4" {
	# one 60000-byte message of random bytes other than the newline
	head -c 70000 /dev/urandom | tr -d '\n' | head -c 60000 >"$T/in"
	echo >>"$T/in"
	local c
	mq-topic create none
	mq-produce none "$T/in"
	for c in zstd lz4; do
		mq-topic create "$c" -c compression="$c"
		mq-produce "$c" "$T/in"
		run -0 codecs_of "$(seg0 "$c")"
		assert_output 0
		assert_equal "$(stat -c %s "$(seg0 "$c")")" \
			"$(stat -c %s "$(seg0 none)")"
		mq-consume "$c" | cmp - "$T/in"
	done
}

@test "100-byte random lines never take more room with zstd or lz4 than with none" {
	head -c 220000 /dev/urandom | tr -d '\n' | fold -b -w 100 |
		head -n 2000 >"$T/in"
	[ "$(wc -l <"$T/in")" -eq 2000 ]
	local c
	mq-topic create none
	mq-produce none "$T/in"
	for c in zstd lz4; do
		mq-topic create "$c" -c compression="$c"
		mq-produce "$c" "$T/in"
		[ "$(stat -c %s "$(seg0 "$c")")" -le \
			"$(stat -c %s "$(seg0 none)")" ]
		mq-consume "$c" | cmp - "$T/in"
	done
}

@test "a topic's compression config is used by default and --compression and -z override it" {
	json 500 >"$T/in"
	mq-topic create t -c compression=zstd
	run -0 mq-topic describe t
	assert_output --partial 'compression=zstd'
	mq-produce --linger 10000 t "$T/in"
	mq-produce --linger 10000 --compression lz4 t "$T/in"
	mq-produce --linger 10000 -z t "$T/in"
	mq-produce --linger 10000 --compression none t "$T/in"
	mq-topic alter t -c compression=lz4
	mq-produce --linger 10000 t "$T/in"
	run -0 codecs_of "$(seg0 t)"
	assert_output "$(printf '2\n3\n1\n0\n3')"
	cat "$T/in" "$T/in" "$T/in" "$T/in" "$T/in" >"$T/want"
	mq-consume t | cmp - "$T/want"
}

@test "a partition holding batches of every codec reads back in order, with verify clean" {
	local c i=0
	mq-topic create t
	for c in lz4 none zstd zlib zstd lz4; do
		json 300 | sed "s/^/$i /" >"$T/in"
		cat "$T/in" >>"$T/want"
		mq-produce --linger 10000 --compression "$c" t "$T/in"
		i=$((i + 1))
	done
	mq-consume t | cmp - "$T/want"
	run -0 codecs_of "$(seg0 t)"
	assert_output "$(printf '3\n0\n2\n1\n2\n3')"
	run -0 mq-topic verify t
	assert_output --partial ': 0 problems'
}

@test "a corrupt zstd payload behind a valid checksum is refused as a corrupt batch" {
	local mode
	for mode in magic cut; do
		rm -rf "$MQ_SPOOL"
		mq-topic create t -c compression=zstd
		json 1000 | mq-produce t
		[ "$(codec_at "$(seg0 t)" 0)" = 2 ]
		fix_batch "$(seg0 t)" "$mode"
		run -1 --separate-stderr mq-consume t
		assert_output ""
		assert_equal "$stderr" "mq-consume: corrupt batch in '$(seg0 t)' at byte 0: compressed payload does not inflate to its declared $(od -An -tu4 -j48 -N4 "$(seg0 t)" | tr -d ' ') bytes"
		# A shorter file than the head records is a torn tail to
		# verify; a payload of the same length is a corrupt batch.
		run -1 --separate-stderr mq-topic verify t
		[ "$mode" = cut ] ||
			assert_output --partial "00000000000000000000.log: byte 0: payload does not decompress (batch at offset 0)"
	done
}

@test "a corrupt lz4 payload behind a valid checksum is refused as a corrupt batch" {
	local mode
	for mode in magic cut; do
		rm -rf "$MQ_SPOOL"
		mq-topic create t -c compression=lz4
		json 1000 | mq-produce t
		[ "$(codec_at "$(seg0 t)" 0)" = 3 ]
		fix_batch "$(seg0 t)" "$mode"
		run -1 --separate-stderr mq-consume t
		assert_output ""
		assert_equal "$stderr" "mq-consume: corrupt batch in '$(seg0 t)' at byte 0: compressed payload does not inflate to its declared $(od -An -tu4 -j48 -N4 "$(seg0 t)" | tr -d ' ') bytes"
		# A shorter file than the head records is a torn tail to
		# verify; a payload of the same length is a corrupt batch.
		run -1 --separate-stderr mq-topic verify t
		[ "$mode" = cut ] ||
			assert_output --partial "00000000000000000000.log: byte 0: payload does not decompress (batch at offset 0)"
	done
}

# bomb CODEC: a batch whose payload inflates to 4 MiB while its header
# declares raw_len 1000 is refused without being inflated past 1000.
bomb() {
	mq-topic create t -c compression="$1" -c max.message.bytes=8M
	head -c 4194304 /dev/zero | tr '\0' a | mq-produce -D '\0' t
	[ "$(codec_at "$(seg0 t)" 0)" = "$(id "$1")" ]
	[ "$(stat -c %s "$(seg0 t)")" -lt 65536 ]
	fix_batch "$(seg0 t)" bomb
	run -1 --separate-stderr mq-consume t
	assert_output ""
	assert_equal "$stderr" "mq-consume: corrupt batch in '$(seg0 t)' at byte 0: compressed payload does not inflate to its declared 1000 bytes"
	run -1 mq-topic verify t
	assert_output --partial "00000000000000000000.log: byte 0: payload does not decompress (batch at offset 0)"
}

@test "a zstd bomb declaring a small raw_len is refused as a corrupt batch" {
	bomb zstd
}

@test "an lz4 bomb declaring a small raw_len is refused as a corrupt batch" {
	bomb lz4
}

@test "a bad codec name is a usage error (exit 2) for --compression, create and alter" {
	mq-topic create t
	run -2 --separate-stderr mq-produce --compression zstd9 t </dev/null
	assert_equal "$stderr" "mq-produce: bad compression 'zstd9': use none, zlib, zstd or lz4"
	run -2 --separate-stderr mq-produce --compression LZ4 t </dev/null
	run -2 --separate-stderr mq-topic create u -c compression=snappy
	[[ $stderr == "mq-topic: "*"bad value 'snappy' for compression: expected none, zlib, zstd or lz4"* ]]
	assert_file_not_exist "$MQ_SPOOL/u"
	run -2 --separate-stderr mq-topic alter t -c compression=gzip
	[[ $stderr == *"expected none, zlib, zstd or lz4"* ]]
	run -0 mq-topic describe t
	assert_output --partial 'compression=none'
}

# compact_codec CODEC: a compacted topic of that codec keeps its codec in
# the batches compaction rewrites, and the latest value of every key.
compact_codec() {
	local c=$1 long r i
	mq-topic create t -c compression="$c" -c segment.bytes=512 \
		-c cleanup.policy=compact -c min.compaction.lag.ms=0
	long=$(printf 'x%.0s' {1..300})
	for r in $(seq 1 12); do
		for i in 1 2 3 4 5 6 7 8 9 10; do
			echo "k$i:$long$r"
		done | mq-produce -K : --linger 10000 --timestamp 1000 t
	done
	local first
	[ "$(ls "$MQ_SPOOL/t/0" | grep -c '\.log$')" -ge 2 ]
	mq-consume -F '%o %k %s\n' t >"$T/before"
	run -0 env MQ_NOW=2000 mq-compact -v t
	assert_output --regexp "^t/0: did compact "
	mq-consume -F '%o %k %s\n' t >"$T/after"
	# fewer records, each key's last value still there
	[ "$(wc -l <"$T/after")" -lt "$(wc -l <"$T/before")" ]
	for i in 1 2 3 4 5 6 7 8 9 10; do
		grep "k$i " "$T/before" | tail -n 1 >"$T/want"
		grep "k$i " "$T/after" | tail -n 1 | cmp - "$T/want"
	done
	# the first segment now holds batches compaction rewrote (sparse:
	# flags 0), compressed with the topic's codec
	first=$(cd "$MQ_SPOOL/t/0" && ls | grep '\.log$' | head -n 1)
	assert_equal "$(od -An -tu1 -j53 -N1 "$MQ_SPOOL/t/0/$first" |
		tr -d ' ')" 0
	run -0 codecs_of "$MQ_SPOOL/t/0/$first"
	run -0 sort -u <<<"$output"
	assert_output "$(id "$c")"
	run -0 mq-topic verify t
	assert_output --partial ': 0 problems'
}

@test "compaction of a zstd topic rewrites batches with zstd" {
	compact_codec zstd
}

@test "compaction of an lz4 topic rewrites batches with lz4" {
	compact_codec lz4
}

@test "zstd and lz4 topics export and import byte for byte, batches and codecs kept" {
	local c
	for c in zstd lz4; do
		mq-topic create "$c" -p 2 -c compression="$c"
		json 3000 | mq-produce -K '"level":' "$c"
		mq-topic export "$c" -o "$T/$c.tar"
		run -0 --separate-stderr mq-topic -d "$T/new" import "$T/$c.tar"
		assert_equal "$stderr" ""
		cmp "$MQ_SPOOL/$c/config" "$T/new/$c/config"
		local p
		for p in 0 1; do
			cmp "$MQ_SPOOL/$c/$p/00000000000000000000.log" \
				"$T/new/$c/$p/00000000000000000000.log"
		done
		run -0 codecs_of "$T/new/$c/0/00000000000000000000.log"
		run -0 sort -u <<<"$output"
		assert_output "$(id "$c")"
		diff <(mq-consume -F '%p %o %k %s\n' "$c") \
			<(mq-consume -d "$T/new" -F '%p %o %k %s\n' "$c")
	done
}
