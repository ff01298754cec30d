#!/bin/sh
# replay.sh - make check's replay of the fuzz corpus: runs each target's
# replay program (tests/fuzz/replay-NAME, built with the normal compiler,
# and with the sanitizers in a sanitizer build) over every input in
# tests/fuzz/corpus/fuzz-NAME/, and says so in TAP, one line per target:
#   ok 1 - fuzz-batch: 123 inputs
# On a failure it names the input that crashed and shows the report.
# Run from the build directory (as make check does); MQ_TESTS is the
# source tree's tests/ directory.
targets="batch records segment offsets config inflate parse"
corpus=${MQ_TESTS:-$(dirname "$0")/..}/fuzz/corpus
bin=${MQ_FUZZ_BIN:-tests/fuzz}
tmp=${TMPDIR:-/tmp}/mq-replay.$$
trap 'rm -f "$tmp"' EXIT

set -- $targets
echo "1..$#"
n=0
for t in $targets; do
	n=$((n + 1))
	if out=$("$bin/replay-$t" "$corpus/fuzz-$t" 2>"$tmp") &&
	   [ "${out% inputs}" -gt 0 ] 2>/dev/null; then
		echo "ok $n - fuzz-$t: $out"
		continue
	fi
	echo "not ok $n - fuzz-$t: failed on the corpus in $corpus/fuzz-$t"
	# Again, naming each input, to say which one it was.
	"$bin/replay-$t" -v "$corpus/fuzz-$t" >/dev/null 2>"$tmp"
	last=$(grep '^replay: ' "$tmp" | tail -n 1)
	echo "# last input: ${last#replay: }"
	grep -v '^replay: ' "$tmp" | head -n 40 | sed 's/^/# /'
done
