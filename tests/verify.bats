#!/usr/bin/env bats
# tests/verify.bats - mq-topic verify and repair: what verify reports (and
# does not report) about segments and indexes, and what repair does with a
# torn tail, a damaged index and corrupt batches, keeping offsets.

load helper
bats_require_minimum_version 1.5.0

P() { echo "$MQ_SPOOL/t/0"; }
seg() { printf '%s/%020d.%s' "$(P)" "$1" "${2:-log}"; }

# batches FILE: "POS LENGTH BASE_OFFSET" for each batch of a segment.
batches() {
	python3 - "$1" <<'EOF'
import struct, sys
d = open(sys.argv[1], 'rb').read()
p = 0
while p + 56 <= len(d):
    n = struct.unpack_from('<I', d, p + 4)[0]
    if n < 56:
        break
    print(p, n, struct.unpack_from('<Q', d, p + 16)[0])
    p += n
EOF
}

# flip FILE POS: inverts the byte at POS.
flip() {
	python3 - "$1" "$2" <<'EOF'
import sys
f, p = sys.argv[1], int(sys.argv[2])
with open(f, 'r+b') as h:
    h.seek(p); b = h.read(1); h.seek(p); h.write(bytes([b[0] ^ 0xff]))
EOF
}

# A topic whose partition 0 has segments 0 (offsets 0-39), 40 (40-79),
# 80 (80-109) and 110 (110-119, the newest): each produce is one batch of
# ten messages "1".."120".
make_topic() {
	mq-topic create t -c segment.bytes=512
	for i in $(seq 0 11); do
		seq $((i * 10 + 1)) $((i * 10 + 10)) | mq-produce t
	done
	[ -f "$(seg 110)" ]
	[ ! -f "$(seg 120)" ]
}

# all_but FROM TO: the pristine "%o %s" lines except offsets FROM..TO.
all_but() {
	for o in $(seq 0 119); do
		if [ "$o" -lt "$1" ] || [ "$o" -gt "$2" ]; then
			echo "$o $((o + 1))"
		fi
	done
}

@test "verify passes a clean topic and counts its topics, partitions, segments, batches and messages" {
	make_topic
	mq-topic create u -p 2
	seq 1 5 | mq-produce u -p 1
	run -0 mq-topic verify
	assert_output "verified 2 topics, 3 partitions, 6 segments, 13 batches, 125 messages: 0 problems"
	run -0 mq-topic verify t -p 0
	assert_output "verified 1 topics, 1 partitions, 4 segments, 12 batches, 120 messages: 0 problems"
}

@test "verify reports a flipped byte in a sealed segment with its file and byte position and exits 1" {
	make_topic
	read -r pos len base < <(batches "$(seg 40)" | sed -n 2p)
	flip "$(seg 40)" $((pos + len - 3))
	run -1 mq-topic verify t
	assert_line --index 0 "t/0/00000000000000000040.log: byte $pos: checksum mismatch (batch at offset $base)"
	assert_line --index 1 --regexp ": 1 problems$"
	# The consumer agrees: it stops there with an error.
	run -1 --separate-stderr mq-consume t
	assert_equal "$(wc -l <<<"$output")" 50
	[[ $stderr == *"corrupt batch in '$(P)/00000000000000000040.log' at byte $pos"* ]]
}

@test "verify reports garbage appended to an index, a missing index and a wrong time index entry" {
	make_topic
	printf 'garbage' >>"$(seg 40 idx)"
	rm "$(seg 80 tix)"
	ts=$(python3 -c "import struct; print(struct.unpack_from('<q', open('$(seg 0 tix)','rb').read(), 0)[0])")
	python3 -c "
import struct
f = open('$(seg 0 tix)', 'r+b'); f.write(struct.pack('<q', $ts - 1))"
	run -1 mq-topic verify t
	assert_line "t/0/00000000000000000040.idx: byte 8: size 15 is not a multiple of 8"
	assert_line "t/0/00000000000000000080.tix: byte 0: missing time index"
	assert_line "t/0/00000000000000000000.tix: byte 0: entry 0 has time $((ts - 1)), but the largest up to its batch is $ts"
	assert_line --regexp "^verified 1 topics, 1 partitions, 4 segments, 12 batches, 120 messages: 3 problems$"
	run -1 mq-topic verify --json t
	python3 -c '
import json, sys
d = json.load(sys.stdin)
kinds = sorted(p["kind"] for p in d["problems"])
assert kinds == ["index"] * 3, kinds
' <<<"$output"
}

@test "verify reports a batch whose offsets overlap the ones before it" {
	make_topic
	read -r pos len base < <(batches "$(seg 0)" | sed -n 1p)
	size=$(stat -c %s "$(seg 40)")
	head -c "$len" "$(seg 0)" >>"$(seg 40)"
	run -1 mq-topic verify t
	assert_line --index 0 "t/0/00000000000000000040.log: byte $size: batch at offset 0 overlaps offsets before 80"
}

@test "verify reports nothing about a torn write at the end of the newest segment, and counts its bytes" {
	make_topic
	head -c 70 "$(seg 0)" >>"$(seg 110)"
	run -0 mq-topic verify t
	assert_output --regexp ": 0 problems$"
	run -0 mq-topic verify --json t
	run python3 -c '
import json, sys
d = json.load(sys.stdin)
p = d["partitions"][0]
print(p["unfinished_tail_bytes"], p["problems"], d["summary"]["messages"], d["problems"])
' <<<"$output"
	assert_output "70 0 120 []"
}

@test "verify reports nothing while a producer appends and rolls segments" {
	mq-topic create t -p 2 -c segment.bytes=4096
	(
		while [ ! -f "$BATS_TEST_TMPDIR/stop" ]; do
			seq 1 50 | mq-produce t --sync=none
		done
	) &
	pid=$!
	wait_for test -f "$MQ_SPOOL/t/0/00000000000000000000.log"
	for i in 1 2 3 4 5 6 7 8; do
		run mq-topic verify t
		[ "$status" -eq 0 ] || { touch "$BATS_TEST_TMPDIR/stop"; wait $pid; false; }
	done
	touch "$BATS_TEST_TMPDIR/stop"
	wait $pid
	run -0 mq-topic verify t
	assert_output --regexp ": 0 problems$"
}

@test "verify --json prints one JSON document with per-partition stats, problems and a summary" {
	make_topic
	read -r pos len base < <(batches "$(seg 0)" | sed -n 3p)
	flip "$(seg 0)" $((pos + 60))
	run -1 mq-topic verify --json
	python3 -m json.tool <<<"$output" >/dev/null
	run python3 -c '
import json, sys
d = json.load(sys.stdin)
p = d["partitions"][0]
print(p["topic"], p["partition"], p["segments"], p["batches"], p["messages"], p["problems"])
for x in d["problems"]:
    print(x["file"], x["byte"], x["kind"], x["message"])
s = d["summary"]
print(s["topics"], s["partitions"], s["segments"], s["problems"])
' <<<"$output"
	assert_line --index 0 "t 0 4 11 110 1"
	assert_line --index 1 "t/0/00000000000000000000.log $pos corrupt checksum mismatch (batch at offset $base)"
	assert_line --index 2 "1 1 4 1"
}

@test "repair truncates a torn tail, reports its bytes, and the next produce gets the next offset" {
	make_topic
	size=$(stat -c %s "$(seg 110)")
	head -c 70 "$(seg 0)" >>"$(seg 110)"
	run -0 mq-topic repair t
	assert_line "t/0/00000000000000000110.log: truncated a torn tail of 70 bytes at byte $size"
	assert_line "t/0: repaired"
	[ "$(stat -c %s "$(seg 110)")" -eq "$size" ]
	run -0 mq-topic describe t
	assert_output --partial "TruncatedBytes: 70"
	echo next | mq-produce t
	run -0 mq-consume t -o 119 -F '%o %s\n'
	assert_output $'119 120\n120 next'
}

@test "repair cuts and quarantines garbage after the newest segment's last batch" {
	make_topic
	size=$(stat -c %s "$(seg 110)")
	head -c 100 /dev/urandom | tr '\0' x >>"$(seg 110)"
	run -0 mq-topic repair t
	assert_line --regexp "^t/0/00000000000000000110.log: byte $size: cut 100 bytes .* quarantined as t/quarantine/0/00000000000000000110.log.[0-9]+$"
	[ "$(stat -c %s "$(seg 110)")" -eq "$size" ]
	[ "$(stat -c %s "$MQ_SPOOL"/t/quarantine/0/00000000000000000110.log.*)" -eq $((size + 100)) ]
	echo next | mq-produce t
	run -0 mq-consume t -o 120 -F '%o %s\n'
	assert_output "120 next"
}

@test "repair rebuilds a missing and a damaged index, and seeks use them" {
	make_topic
	cp "$(seg 40 idx)" "$BATS_TEST_TMPDIR/idx"
	cp "$(seg 40 tix)" "$BATS_TEST_TMPDIR/tix"
	rm "$(seg 40 idx)"
	printf 'xxxxxxxxxxxxxxxxxxxx' >>"$(seg 40 tix)"
	run -0 mq-topic repair t
	assert_line "t/0/00000000000000000040.idx: rebuilt the offset and time indexes from the log (1 entries)"
	cmp "$(seg 40 idx)" "$BATS_TEST_TMPDIR/idx"
	cmp "$(seg 40 tix)" "$BATS_TEST_TMPDIR/tix"
	run -0 mq-topic verify t
	run -0 mq-consume t -o 55 -c 2 -F '%o %s\n'
	assert_output $'55 56\n56 57'
}

@test "repair splits a sealed segment around a corrupt batch, keeps every other offset and quarantines the original" {
	make_topic
	read -r pos len base < <(batches "$(seg 40)" | sed -n 2p)
	[ "$base" -eq 50 ]
	size=$(stat -c %s "$(seg 40)")
	cp "$(seg 40)" "$BATS_TEST_TMPDIR/orig"
	flip "$(seg 40)" $((pos + 70))
	cp "$(seg 40)" "$BATS_TEST_TMPDIR/damaged"
	run -0 mq-topic repair t
	assert_line "t/0/00000000000000000040.log: byte $pos: checksum mismatch (batch at offset 50): $len bytes quarantined"
	assert_line "t/0/00000000000000000040.log: offsets 50-59 lost"
	assert_line "t/0/00000000000000000040.log: kept offsets 40-49 ($pos bytes)"
	assert_line "t/0/00000000000000000060.log: kept offsets 60-79 ($((size - pos - len)) bytes)"
	assert_line --regexp "^t/0/00000000000000000040.log: original \($size bytes\) and its indexes quarantined as t/quarantine/0/00000000000000000040.log.[0-9]+$"
	cmp "$MQ_SPOOL"/t/quarantine/0/00000000000000000040.log.* "$BATS_TEST_TMPDIR/damaged"
	[ -f "$(seg 60)" ]
	cmp "$(seg 40)" <(head -c "$pos" "$BATS_TEST_TMPDIR/orig")
	run -0 mq-topic verify t
	run -0 mq-consume t -F '%o %s\n'
	assert_output "$(all_but 50 59)"
	run -0 mq-consume t -o 65 -c 1 -F '%o %s\n'
	assert_output "65 66"
	echo next | mq-produce t
	run -0 mq-consume t -o 120 -F '%o %s\n'
	assert_output "120 next"
}

@test "repair splits the newest segment around a corrupt batch before the head's end" {
	make_topic
	for i in 12 13; do
		seq $((i * 10 + 1)) $((i * 10 + 10)) | mq-produce t
	done
	[ ! -f "$(seg 140)" ]
	read -r pos len base < <(batches "$(seg 110)" | sed -n 2p)
	[ "$base" -eq 120 ]
	flip "$(seg 110)" $((pos + 60))
	run -1 mq-topic verify t
	assert_line --index 0 "t/0/00000000000000000110.log: byte $pos: checksum mismatch (batch at offset 120)"
	run -0 mq-topic repair t
	assert_line "t/0/00000000000000000110.log: offsets 120-129 lost"
	assert_line --regexp "^t/0/00000000000000000130.log: kept offsets 130-139 "
	[ -f "$MQ_SPOOL"/t/quarantine/0/00000000000000000110.log.* ]
	run -0 mq-topic verify t
	run -0 mq-consume t -o 115 -F '%o %s\n'
	assert_output "$(printf '%s\n' '115 116' '116 117' '117 118' '118 119' '119 120' '130 131' '131 132' '132 133' '133 134' '134 135' '135 136' '136 137' '137 138' '138 139' '139 140')"
	echo next | mq-produce t
	run -0 mq-consume t -o 140 -F '%o %s\n'
	assert_output "140 next"
}

@test "repair of a newest segment whose last batch is corrupt never gives its offsets to new messages" {
	make_topic
	flip "$(seg 110)" 70
	run -0 mq-topic repair t
	assert_line "t/0/00000000000000000110.log: offsets 110-119 lost"
	assert_line "t/0/00000000000000000120.log: new empty segment: the next message gets offset 120"
	[ ! -f "$(seg 110)" ]
	echo next | mq-produce t
	run -0 mq-consume t -o 105 -F '%o %s\n'
	assert_output "$(printf '%s\n' '105 106' '106 107' '107 108' '108 109' '109 110' '120 next')"
}

@test "a repair killed after its plan is finished by the next one, and verify reports it meanwhile" {
	make_topic
	read -r pos len base < <(batches "$(seg 0)" | sed -n 2p)
	flip "$(seg 0)" $((pos + 60))
	run env MQ_FAILPOINT=repair.planned mq-topic repair t
	[ "$status" -ge 128 ]
	run -1 mq-topic verify t
	assert_line "t/0/00000000000000000000.repair-plan: byte 0: a repair was interrupted: run mq-topic repair to finish it"
	run -0 mq-topic repair t
	assert_line "t/0/00000000000000000000.repair-plan: finished an interrupted repair"
	run -0 mq-topic verify t
	run -0 mq-consume t -F '%o %s\n'
	assert_output "$(all_but 10 19)"
	[ -z "$(find "$(P)" -name '*.repair*')" ]
}

@test "repair of a clean partition changes nothing and says so" {
	make_topic
	before=$(cd "$(P)" && md5sum ./*.log ./*.idx ./*.tix)
	run -0 mq-topic repair t -p 0
	assert_output "t/0: nothing to repair"
	[ "$before" = "$(cd "$(P)" && md5sum ./*.log ./*.idx ./*.tix)" ]
	[ ! -e "$MQ_SPOOL/t/quarantine" ]
}

@test "describe, compact, export, import and delete work beside a quarantine" {
	make_topic
	flip "$(seg 40)" 70
	mq-topic repair t
	[ -d "$MQ_SPOOL/t/quarantine/0" ]
	run -0 mq-topic describe t
	run -0 mq-compact t
	mq-topic export t -o "$BATS_TEST_TMPDIR/t.tar"
	run -0 tar tf "$BATS_TEST_TMPDIR/t.tar"
	refute_output --partial quarantine
	mq-topic import "$BATS_TEST_TMPDIR/t.tar" --as u
	run -0 mq-consume u -F '%o %s\n'
	assert_output "$(all_but 40 49)"
	mq-topic delete t
	[ ! -e "$MQ_SPOOL/t" ]
}

@test "verify and repair refuse bad input: unknown topic, bad partition, unknown option, missing topic" {
	make_topic
	run -1 --separate-stderr mq-topic verify nosuch
	assert_equal "$stderr" "mq-topic: topic 'nosuch' does not exist in '$MQ_SPOOL'"
	run -1 --separate-stderr mq-topic repair nosuch
	assert_equal "$stderr" "mq-topic: topic 'nosuch' does not exist in '$MQ_SPOOL'"
	run -2 --separate-stderr mq-topic verify t -p x
	[[ $stderr == "mq-topic: "*"-p"* ]]
	run -2 --separate-stderr mq-topic verify t -p 1
	assert_equal "$stderr" "mq-topic: topic 't' has no partition 1 (it has 1)"
	run -2 --separate-stderr mq-topic repair t -p 3
	assert_equal "$stderr" "mq-topic: topic 't' has no partition 3 (it has 1)"
	run -2 --separate-stderr mq-topic verify --bogus
	[[ $stderr == "mq-topic: "*"--bogus"* ]]
	run -2 --separate-stderr mq-topic repair
	assert_equal "$stderr" "mq-topic: repair takes exactly one topic"
	run -2 --separate-stderr mq-topic repair t --json
	assert_equal "$stderr" "mq-topic: --json applies to describe and verify only"
	run -2 --separate-stderr mq-topic verify 'bad/name'
	[[ $stderr == "mq-topic: "* ]]
	run -2 mq-topic verify t -c segment.bytes=1000
	[ -z "$(ls "$MQ_SPOOL/t" | grep quarantine)" ]
}
