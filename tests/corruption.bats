#!/usr/bin/env bats
# tests/corruption.bats - tools/corrupt-rounds: 100 rounds of one random
# corruption each (bytes appended to a segment or index, bits flipped in a
# sealed segment); every one must be detected by verify and consumers, or
# be a harmless torn tail or index problem, and every one repaired.

load helper
bats_require_minimum_version 1.5.0

@test "100 random corruptions are each detected or harmless, and each repaired, without a crash" {
	run --separate-stderr "$BATS_TEST_DIRNAME/../tools/corrupt-rounds" \
		--rounds 100 --seed 7 -d "$BATS_TEST_TMPDIR/cr" --bin "$MQ_BIN"
	echo "$stderr" | head -20 >&2
	[[ $output =~ ^rounds\ 100:\ appended\ ([0-9]+)\ \(detected\ ([0-9]+),\ torn-tail\ ([0-9]+),\ index\ ([0-9]+)\),\ flipped\ ([0-9]+)\ \(detected\ by\ verify\ ([0-9]+),\ by\ consumers\ ([0-9]+)\),\ repaired\ ([0-9]+),\ crashes\ ([0-9]+)$ ]]
	local a=${BASH_REMATCH[1]} d=${BASH_REMATCH[2]} t=${BASH_REMATCH[3]}
	local i=${BASH_REMATCH[4]} f=${BASH_REMATCH[5]} v=${BASH_REMATCH[6]}
	local c=${BASH_REMATCH[7]} p=${BASH_REMATCH[8]} k=${BASH_REMATCH[9]}
	# Both kinds were tried, and each kind of append.
	[ $((a + f)) -eq 100 ] && [ "$a" -ge 20 ] && [ "$f" -ge 20 ]
	[ "$d" -ge 1 ] && [ "$t" -ge 1 ] && [ "$i" -ge 1 ]
	assert_equal "crashes $k" "crashes 0"
	assert_equal "flipped $f: verify $v, consumers $c" "flipped $f: verify $f, consumers $f"
	assert_equal "appended $a: $((d + t + i))" "appended $a: $a"
	assert_equal "repaired $p" "repaired 100"
	assert_equal "$stderr" ""
	[ "$status" -eq 0 ]
}

@test "corrupt-rounds is reproducible: the same seed gives the same tally" {
	run -0 --separate-stderr "$BATS_TEST_DIRNAME/../tools/corrupt-rounds" \
		--rounds 3 --seed 11 -d "$BATS_TEST_TMPDIR/a" --bin "$MQ_BIN"
	local first=$output
	run -0 --separate-stderr "$BATS_TEST_DIRNAME/../tools/corrupt-rounds" \
		--rounds 3 --seed 11 -d "$BATS_TEST_TMPDIR/b" --bin "$MQ_BIN"
	assert_equal "$output" "$first"
	[[ $output == "rounds 3: "* ]]
}
