#!/usr/bin/env bats
# tests/crash-compact.bats - mq-compact killed (MQ_FAILPOINT) at every
# step of its protocol: what a reader sees right after, how the next
# mq-produce or mq-compact finishes or rolls back what was left, and that
# the end result is what a run without a crash gives.
#
# One workload for all (cleanup.policy=compact,delete, segment.bytes=1024,
# MQ_NOW=6000), built once in setup_file:
#
#   segment  offsets  time  content                  what the run does
#   0        0-79     1000  k1-40 twice              retention deletes it
#   80       80-159   5100  k1-40 twice              compaction empties it
#   160      160-239  5200  k1-40, k41-80            cleaned (k1-20 go)
#   240      240-319  5300  k1-20+k81-100, k81-120   cleaned (k81-100 go)
#   320      320-359  5500  k1-40                    active: untouched
#
# Every key's final value is after segment 0, so every one must survive.

load helper
bats_require_minimum_version 1.5.0

NOW=6000
FAILPOINTS="compact.archived retention.deleted compact.emptied
	compact.swap.idx compact.swap.tix compact.swap.log
	compact.final.idx compact.final.tix compact.final.log"

# gen VALUE FIRST LAST: lines kFIRST:VALUE .. kLAST:VALUE.
gen() {
	local i
	for ((i = $2; i <= $3; i++)); do
		echo "k$i:$1"
	done
}

# put SPOOL TS: produces stdin's key:value lines to t in one batch.
put() {
	mq-produce -d "$1" -K : --linger 10000 --timestamp "$2" t
}

# dump SPOOL: every message as "offset key value timestamp".
dump() {
	mq-consume -d "$1" -F '%o %k %s %T\n' t
}

# seg BASE EXT: the file name of a segment file.
seg() {
	printf '%020d.%s' "$1" "$2"
}

# append SPOOL: the message every scenario appends after the crash.
append() {
	echo "k7:after" | put "$1" 5600
}

setup_file() {
	local S="$BATS_FILE_TMPDIR/pristine"
	mq-topic -d "$S" create t -c segment.bytes=1024 \
		-c cleanup.policy=compact,delete -c retention.ms=3000
	gen a 1 40 | put "$S" 1000
	gen b 1 40 | put "$S" 1000
	gen c 1 40 | put "$S" 5100
	gen d 1 40 | put "$S" 5100
	gen e 1 40 | put "$S" 5200
	gen e 41 80 | put "$S" 5200
	{ gen f 1 20; gen f 81 100; } | put "$S" 5300
	gen g 81 120 | put "$S" 5300
	gen h 1 40 | put "$S" 5500
	# A run without a crash; and one followed by the append and a run.
	cp -a "$S" "$BATS_FILE_TMPDIR/twin"
	MQ_NOW=$NOW mq-compact -d "$BATS_FILE_TMPDIR/twin"
	cp -a "$BATS_FILE_TMPDIR/twin" "$BATS_FILE_TMPDIR/twin2"
	append "$BATS_FILE_TMPDIR/twin2"
	MQ_NOW=$NOW mq-compact -d "$BATS_FILE_TMPDIR/twin2"
}

per_test_setup() {
	T="$BATS_TEST_TMPDIR"
	F="$BATS_FILE_TMPDIR"
	S="$T/s"
	P="$S/t/0"
	cp -a "$F/pristine" "$S"
	holder=
}

teardown() {
	rm -f "$T/hold"
	if [ -n "$holder" ]; then
		kill -KILL "$holder" 2>/dev/null || true
		wait "$holder" 2>/dev/null || true
	fi
}

# segments SPOOL: the segment files of t/0.
segments() {
	(cd "$1/t/0" && ls | grep '^[0-9]\{20\}\.\(log\|idx\|tix\)$')
}

# no_leftovers: t/0 holds segment files, clean and lock, nothing else (no
# .swap, .cleaned or .cleaning file, whatever its name), and no index
# without its log.
no_leftovers() {
	local f
	run -0 bash -c "ls -A '$P' | grep -vxE '[0-9]{20}\.(log|idx|tix)|clean|lock' || true"
	assert_output ""
	for f in "$P"/*.idx "$P"/*.tix; do
		[ -e "${f%.*}.log" ] || { echo "$f without its log"; return 1; }
	done
}

# crash NAME: runs mq-compact on the copy until the failpoint NAME kills it.
crash() {
	mkdir -p "$T/arch"
	run -137 env MQ_NOW=$NOW MQ_FAILPOINT="$1" mq-compact -d "$S" \
		--archive "$T/arch" --archive-suffix .tar
}

# consistent: a reader sees, without error, records in offset order each
# equal to the pristine record at its offset (or the appended one), the
# final value of every key, and finds the right record when it seeks by
# offset or by time.
consistent() {
	run -0 --separate-stderr dump "$S"
	[ -z "$stderr" ]
	printf '%s\n' "$output" >"$T/now"
	awk 'NR > 1 && $1 <= prev { print "offset " $1 " after " prev; bad = 1 }
	     { prev = $1 } END { exit bad }' "$T/now"
	{ dump "$F/pristine"; dump "$F/twin2" | tail -n 1; } >"$T/known"
	run -0 comm -23 <(sort "$T/now") <(sort "$T/known")
	assert_output ""
	# the last line of each key in the pristine log is there
	awk '{ last[$2] = $0 } END { for (k in last) print last[k] }' \
		<(dump "$F/pristine") | sort >"$T/final"
	run -0 comm -23 "$T/final" <(sort "$T/now")
	assert_output ""
	# seeks: by offset through the indexes, and by time
	local o want
	for o in 0 85 170 200 245 300 319; do
		want=$(awk -v o=$o '$1 >= o { print; exit }' "$T/now")
		run -0 mq-consume -d "$S" -o $o -c 1 -F '%o %k %s %T\n' t
		assert_output "$want"
	done
	for o in 5100 5200 5300; do
		want=$(awk -v o=$o '$4 >= o { print; exit }' "$T/now")
		run -0 mq-consume -d "$S" -o @$o -c 1 -F '%o %k %s %T\n' t
		assert_output "$want"
	done
}

# state NAME: after recovery from a crash at NAME, each segment is either
# the original or the compacted one, as far as the run had got: a
# segment whose log.swap existed is finished, an earlier step rolled back.
state() {
	local gone=() done=() orig=(80 160 240) b x
	case "$1" in
	compact.archived) orig=(0 80 160 240) ;;
	retention.deleted) gone=(0) ;;
	compact.emptied|compact.swap.idx|compact.swap.tix)
		gone=(0 80) orig=(160 240) ;;
	*) gone=(0 80) done=(160) orig=(240) ;;
	esac
	for b in "${gone[@]}"; do
		for x in log idx tix; do
			[ ! -e "$P/$(seg $b $x)" ]
		done
	done
	for b in "${done[@]}"; do
		for x in log idx tix; do
			cmp "$F/twin/t/0/$(seg $b $x)" "$P/$(seg $b $x)"
		done
	done
	for b in "${orig[@]}"; do
		for x in log idx tix; do
			cmp "$F/pristine/t/0/$(seg $b $x)" "$P/$(seg $b $x)"
		done
	done
	! cmp -s "$F/pristine/t/0/$(seg 160 log)" "$F/twin/t/0/$(seg 160 log)"
}

# after_crash_produce NAME: crash at NAME, read, append, then compact.
after_crash_produce() {
	crash "$1"
	consistent
	append "$S"
	no_leftovers
	state "$1"
	consistent
	run -0 env MQ_NOW=$NOW mq-compact -d "$S"
	no_leftovers
	cmp <(dump "$F/twin2") <(dump "$S")
	diff <(segments "$F/twin2") <(segments "$S")
}

# after_crash_compact NAME: crash at NAME, then the next mq-compact.
after_crash_compact() {
	crash "$1"
	run -0 --separate-stderr env MQ_NOW=$NOW mq-compact -d "$S"
	[ -z "$stderr" ]
	no_leftovers
	cmp <(dump "$F/twin") <(dump "$S")
	diff <(segments "$F/twin") <(segments "$S")
}

@test "the workload has a segment for retention, one to empty and two to clean" {
	run -0 segments "$F/pristine"
	assert_output "$(for b in 0 80 160 240 320; do
		printf '%s\n' "$(seg $b idx)" "$(seg $b log)" "$(seg $b tix)"
	done)"
	run -0 segments "$F/twin"
	assert_output "$(for b in 160 240 320; do
		printf '%s\n' "$(seg $b idx)" "$(seg $b log)" "$(seg $b tix)"
	done)"
	! cmp -s "$F/pristine/t/0/$(seg 160 log)" "$F/twin/t/0/$(seg 160 log)"
	! cmp -s "$F/pristine/t/0/$(seg 240 log)" "$F/twin/t/0/$(seg 240 log)"
	cmp "$F/pristine/t/0/$(seg 320 log)" "$F/twin/t/0/$(seg 320 log)"
}

@test "killed after the archive is durable: nothing changed, and a producer then mq-compact end as without the crash" {
	after_crash_produce compact.archived
	# the archive holds every segment that goes or is rewritten
	run -0 bash -c "tar -tf '$T'/arch/t.*.tar | grep -c '\.log\$'"
	assert_output 4
}

@test "killed after retention removed a segment: readers, a producer then mq-compact end as without the crash" {
	after_crash_produce retention.deleted
}

@test "killed after an emptied segment was removed: readers, a producer then mq-compact end as without the crash" {
	after_crash_produce compact.emptied
}

@test "killed after the index went to .swap: readers, a producer then mq-compact end as without the crash" {
	after_crash_produce compact.swap.idx
}

@test "killed after the time index went to .swap: readers, a producer then mq-compact end as without the crash" {
	after_crash_produce compact.swap.tix
}

@test "killed after the log went to .swap: readers, a producer then mq-compact end as without the crash" {
	after_crash_produce compact.swap.log
}

@test "killed after the new index replaced the old: readers, a producer then mq-compact end as without the crash" {
	after_crash_produce compact.final.idx
}

@test "killed after the new time index replaced the old: readers, a producer then mq-compact end as without the crash" {
	after_crash_produce compact.final.tix
}

@test "killed after the new log replaced the old: readers, a producer then mq-compact end as without the crash" {
	after_crash_produce compact.final.log
}

@test "after a crash at any failpoint the next mq-compact cleans up and ends as without the crash" {
	for fp in $FAILPOINTS; do
		rm -rf "$S" "$T/arch"
		cp -a "$F/pristine" "$S"
		after_crash_compact "$fp"
	done
}

@test "a producer leaves what a killed mq-compact left alone while another mq-compact holds the partition" {
	crash compact.swap.log
	ls -A "$P" >"$T/left"
	grep -q '\.log\.swap$' "$T/left"
	touch "$T/hold"
	(
		exec 9<>"$P/clean"
		flock 9
		touch "$T/locked"
		while [ -e "$T/hold" ]; do sleep 0.02; done
	) 3>&- &
	holder=$!
	wait_for test -e "$T/locked"
	append "$S"
	rm "$T/hold"
	wait $holder
	diff "$T/left" <(ls -A "$P")
	consistent
	# The next one, with the partition free, finishes the swap.
	echo "k8:later" | put "$S" 5600
	no_leftovers
	state compact.swap.log
}

@test "the next producer removes indexes without their log and unfinished .cleaning files" {
	# As retention killed between a log and its indexes, and a run
	# killed while writing a cleaned segment, would leave them.
	rm "$P/$(seg 0 log)"
	head -c 100 "$P/$(seg 80 log)" >"$P/$(seg 80 log).cleaning"
	: >"$P/$(seg 80 idx).cleaning"
	: >"$P/$(seg 160 tix).cleaning"
	run -0 --separate-stderr dump "$S"
	[ -z "$stderr" ]
	[ "${lines[0]}" = "80 k1 c 5100" ]
	append "$S"
	no_leftovers
	run -0 segments "$S"
	assert_output "$(for b in 80 160 240 320; do
		printf '%s\n' "$(seg $b idx)" "$(seg $b log)" "$(seg $b tix)"
	done)"
	cmp "$F/pristine/t/0/$(seg 80 log)" "$P/$(seg 80 log)"
}

@test "the next mq-compact removes indexes without their log and unfinished .cleaning files" {
	rm "$P/$(seg 0 log)"
	head -c 100 "$P/$(seg 80 log)" >"$P/$(seg 80 log).cleaning"
	: >"$P/$(seg 80 idx).cleaning"
	run -0 env MQ_NOW=$NOW mq-compact -d "$S"
	no_leftovers
	cmp <(dump "$F/twin") <(dump "$S")
	diff <(segments "$F/twin") <(segments "$S")
}

@test "a dry run after a crash changes nothing, not even what the crash left" {
	crash compact.swap.log
	listing() {
		(cd "$S" && find . -printf '%p %i %s %TY-%Tm-%Td %TT %m\n' | sort)
	}
	listing >"$T/before"
	cp -a "$S" "$T/copy"
	run -0 env MQ_NOW=$NOW mq-compact -d "$S" --dry-run
	diff "$T/before" <(listing)
	diff -r "$T/copy" "$S"
}

@test "MQ_FAILPOINT=NAME:N kills mq-compact the N-th time it reaches NAME" {
	# The second swap: the first cleaned segment is in place, the
	# second has only its index renamed.
	run -137 env MQ_NOW=$NOW MQ_FAILPOINT=compact.swap.idx:2 mq-compact -d "$S"
	for x in log idx tix; do
		cmp "$F/twin/t/0/$(seg 160 $x)" "$P/$(seg 160 $x)"
	done
	cmp "$F/pristine/t/0/$(seg 240 log)" "$P/$(seg 240 log)"
	cmp "$F/pristine/t/0/$(seg 240 tix)" "$P/$(seg 240 tix)"
	[ -e "$P/$(seg 240 idx).swap" ]
	[ -e "$P/$(seg 240 log).cleaned" ]
	# The second final rename: both are in place.
	rm -rf "$S" && cp -a "$F/pristine" "$S"
	run -137 env MQ_NOW=$NOW MQ_FAILPOINT=compact.final.log:2 mq-compact -d "$S"
	for x in log idx tix; do
		cmp "$F/twin/t/0/$(seg 160 $x)" "$P/$(seg 160 $x)"
		cmp "$F/twin/t/0/$(seg 240 $x)" "$P/$(seg 240 $x)"
	done
	# A count never reached lets the run finish.
	rm -rf "$S" && cp -a "$F/pristine" "$S"
	run -0 env MQ_NOW=$NOW MQ_FAILPOINT=compact.swap.idx:3 mq-compact -d "$S"
	cmp <(dump "$F/twin") <(dump "$S")
	diff <(segments "$F/twin") <(segments "$S")
}
