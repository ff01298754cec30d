#!/usr/bin/env bats
# tests/group.bats - mq-consume -g: consumer groups.  Resuming from the
# committed offsets, the offset files themselves, damaged files,
# --offset-reset, -o and --no-commit, usage errors, sharing partitions
# between members (fair shares, hand-over, crashes, late joiners, new
# partitions), when commits happen, at-least-once delivery, resets made
# by mq-group while a member runs, and several topics at once.

load helper
bats_require_minimum_version 1.5.0

per_test_setup() {
	T="$BATS_TEST_TMPDIR"
	BG=()
}

teardown() {
	local p
	for p in "${BG[@]}"; do
		{ kill -KILL "$p" && wait "$p"; } 2>/dev/null || true
	done
}

# member NAME ARGS...: starts mq-consume ARGS in the background with
# stdout in $T/NAME.out and stderr in $T/NAME.err; its pid is left in
# $PID (and killed in teardown).
member() {
	local name="$1"
	shift
	mq-consume "$@" >"$T/$name.out" 2>"$T/$name.err" 3>&- &
	PID=$!
	BG+=("$PID")
}

# status_of PID: waits (up to wait_for's limit) for the background
# process PID to end, sets $rc to its exit status.
status_of() {
	rc=0
	wait_for exited "$1"
	wait "$1" 2>/dev/null || rc=$?
}

# exited PID: has the background process PID ended?
exited() {
	! kill -0 "$1" 2>/dev/null
}

# ofile [TOPIC] P: the offset file of group g on partition P.
ofile() {
	if [ $# -eq 2 ]; then
		echo "$MQ_SPOOL/$1/groups/g/$2"
	else
		echo "$MQ_SPOOL/t/groups/g/$1"
	fi
}

# committed P TEXT...: does the offset file of g on t's partition P hold
# exactly the lines TEXT...?
committed() {
	local p="$1"
	shift
	printf '%s\n' "$@" | cmp -s - "$(ofile "$p")"
}

# log_end TOPIC P: the log end offset of partition P.
log_end() {
	mq-topic describe "$1" |
		awk -v p="$2" '$1 == "Partition:" && $2 == p { print $6 }'
}

# at_end TOPIC: does every offset file of g on TOPIC equal its log end?
at_end() {
	local n p
	n=$(mq-topic describe "$1" | grep -c 'Partition:')
	for ((p = 0; p < n; p++)); do
		printf '%s\n' "$(log_end "$1" "$p")" |
			cmp -s - "$(ofile "$1" "$p")" || return 1
	done
}

# shares: how many of t's partitions each live owner of g holds, largest
# first ("4 4"); a partition without an owner shows as "free".
shares() {
	mq-group describe g |
		awk '$2 == "t" { print $7 }' | sort | uniq -c |
		awk '{ print ($2 == "-" ? "free" : $1) }' | sort -r | xargs
}

# shares_are "N N...": has g settled to these shares of t?
shares_are() {
	[ "$(shares 2>/dev/null)" = "$1" ]
}

# owner_pids: the pids of the owners of t's partitions, sorted, unique
# (an owner id is HOST.PID.N).
owner_pids() {
	mq-group describe g |
		awk '$2 == "t" { n = split($7, a, "."); print a[n - 1] }' |
		sort -n -u | xargs
}

# owner_of P: the pid owning t's partition P.
owner_of() {
	mq-group describe g |
		awk -v p="$1" '$2 == "t" && $3 == p {
			n = split($7, a, "."); print a[n - 1] }'
}

# keyed N KEYS: lines "kI<TAB>V" for V = 1..N, I = V % KEYS.
keyed() {
	seq 1 "$1" | awk -v k="$2" '{ print "k" ($1 % k) "\t" $1 }'
}

# now_iso: the current UTC time as mq-consume -v writes it.
now_iso() {
	date -u +%Y-%m-%dT%H:%M:%S.%3NZ
}

# ---------------------------------------------------------------------------
# Resuming and the offset files

@test "a second member resumes where -c stopped: every message once, each partition in offset order" {
	mq-topic create t -p 3
	keyed 1000 30 | mq-produce -K '\t' t
	for p in 0 1 2; do
		[ "$(log_end t $p)" -gt 0 ]
	done
	run -0 mq-consume -g g -c 100 -F '%p %o %s\n' t
	printf '%s\n' "$output" >"$T/a"
	[ "$(wc -l <"$T/a")" -eq 100 ]
	run -0 mq-consume -g g -F '%p %o %s\n' t
	printf '%s\n' "$output" >"$T/b"
	[ "$(wc -l <"$T/b")" -eq 900 ]
	# Every value exactly once.
	cat "$T/a" "$T/b" | cut -d' ' -f3 | sort -n >"$T/values"
	seq 1 1000 | cmp - "$T/values"
	# Within each partition: offsets 0..end-1, in order, no gap, no repeat.
	for p in 0 1 2; do
		cat "$T/a" "$T/b" | awk -v p=$p '$1 == p { print $2 }' >"$T/offs"
		seq 0 $(($(log_end t $p) - 1)) | cmp - "$T/offs"
	done
}

@test "-g --until N commits exactly N on every partition: the next run starts at N" {
	mq-topic create t -p 3
	for p in 0 1 2; do
		seq 0 9 | mq-produce -p "$p" t
	done
	run -0 mq-consume -g g --until 5 -F '%p:%o\n' t
	[ "$(sort <<<"$output" | xargs)" = "0:0 0:1 0:2 0:3 0:4 1:0 1:1 1:2 1:3 1:4 2:0 2:1 2:2 2:3 2:4" ]
	for p in 0 1 2; do
		committed "$p" 5
	done
	run -0 mq-consume -g g -F '%p:%o\n' t
	[ "$(sort <<<"$output" | xargs)" = "0:5 0:6 0:7 0:8 0:9 1:5 1:6 1:7 1:8 1:9 2:5 2:6 2:7 2:8 2:9" ]
}

@test "-g --until @TIME commits the first message at or after TIME, which the next run delivers" {
	mq-topic create t
	for ts in 1000 2000 3000 4000; do
		echo "m$ts" | mq-produce --timestamp "$ts" t
	done
	run -0 mq-consume -g g --until @2500 t
	assert_output "$(printf 'm1000\nm2000')"
	committed 0 2
	run -0 mq-consume -g g t
	assert_output "$(printf 'm3000\nm4000')"
}

@test "-g -f --until N in the middle of a batch: the commit is N, not past it" {
	mq-topic create t
	seq 0 99 | mq-produce t
	# A follower ends by itself once every partition reached --until.
	run -0 mq-consume -g g -f --until 37 -F '%o\n' t
	assert_output "$(seq 0 36)"
	committed 0 37
}

@test "--exec with -g --until commits the bound: the next run hands the command the bound first" {
	mq-topic create t
	seq 0 9 | mq-produce t
	run -0 mq-consume -g g --until 4 --batch 1 --exec "cat >>'$T/ran'" t
	seq 0 3 | cmp - "$T/ran"
	committed 0 4
	run -0 mq-consume -g g --batch 10 --exec "cat >>'$T/ran'" t
	seq 0 9 | cmp - "$T/ran"
	committed 0 10
}

@test "-g --no-commit -c N prints N messages when more are pending" {
	mq-topic create t
	seq 1 100 | mq-produce t
	run --separate-stderr -0 mq-consume -g g --no-commit -c 3 t
	assert_output "$(seq 1 3)"
	run --separate-stderr -0 mq-consume -g g --no-commit -f -c 2 t
	assert_output "$(seq 1 2)"
	[ ! -e "$MQ_SPOOL/t/groups" ]
}

@test "the offset file holds the next offset and a newline, and a reset adds an epoch line" {
	mq-topic create t
	seq 0 6 | mq-produce t
	run -0 mq-consume -g g t
	assert_output "$(seq 0 6)"
	printf '7\n' | cmp - "$(ofile 0)"
	run -0 mq-group reset g t --to-offset 2 --execute
	printf '2\nepoch 1\n' | cmp - "$(ofile 0)"
	run -0 mq-consume -g g t
	assert_output "$(seq 2 6)"
	printf '7\nepoch 1\n' | cmp - "$(ofile 0)"
}

# damaged CONTENT: partition 1 of t has an offset file holding CONTENT;
# mq-consume -g g must refuse it, name it, print nothing of partition 1
# and leave the file alone.
damaged() {
	mq-topic create t -p 2
	seq 1 5 | mq-produce -p 0 t
	seq 6 10 | mq-produce -p 1 t
	mkdir -p "$MQ_SPOOL/t/groups/g"
	printf "$1" >"$(ofile 1)"
	cp "$(ofile 1)" "$T/before"
	run --separate-stderr -1 mq-consume -g g -F '%p %o %s\n' t
	[ "${#stderr_lines[@]}" -eq 1 ]
	[[ "$stderr" == "mq-consume: damaged offset file '$MQ_SPOOL/t/groups/g/1': "* ]]
	! grep -q '^1 ' <<<"$output"
	cmp "$T/before" "$(ofile 1)"
}

@test "an offset file holding text is an error naming it, and is left alone" {
	damaged 'abc'
}

@test "an empty offset file is an error naming it, and is left alone" {
	damaged ''
}

@test "an offset file with a bad second line is an error naming it, and is left alone" {
	damaged '12\nxyz\n'
}

# ---------------------------------------------------------------------------
# --offset-reset: a committed offset outside the log

# trimmed: topic t whose log starts above 0 (its first segment removed by
# hand); $START and $END are its bounds.
trimmed() {
	mq-topic create t -c segment.bytes=1024
	seq 1 300 | mq-produce --batch-size 200 t
	local first
	first=$(ls "$MQ_SPOOL/t/0" | grep '\.log$' | head -1)
	[ "$(ls "$MQ_SPOOL/t/0" | grep -c '\.log$')" -ge 3 ]
	rm "$MQ_SPOOL/t/0/${first%.log}".{log,idx,tix}
	START=$(mq-topic describe t | awk '$1 == "Partition:" { print $4 }')
	END=$(log_end t 0)
	[ "$START" -gt 0 ]
	[ "$END" -eq 300 ]
	mkdir -p "$MQ_SPOOL/t/groups/g"
}

@test "a committed offset below the log start warns and starts at the log start by default" {
	trimmed
	echo 5 >"$(ofile 0)"
	run --separate-stderr -0 mq-consume -g g t
	assert_output "$(seq $((START + 1)) 300)"
	[ "$stderr" = "mq-consume: group 'g': committed offset 5 of 't' partition 0 is below the log start: resetting to earliest ($START)" ]
	committed 0 300
	echo 5 >"$(ofile 0)"
	run --separate-stderr -0 mq-consume -g g --offset-reset earliest t
	assert_output "$(seq $((START + 1)) 300)"
	[[ "$stderr" == *"resetting to earliest ($START)" ]]
}

# damage_first_header FIELD-OFFSET: zeros 4 bytes of the first batch
# header of t's oldest segment (0: magic, 4: length, ...).
damage_first_header() {
	local first
	first=$(ls "$MQ_SPOOL/t/0" | grep '\.log$' | head -1)
	printf '\0\0\0\0' | dd of="$MQ_SPOOL/t/0/$first" bs=1 seek="$1" \
		conv=notrunc status=none
}

@test "a damaged first batch header of the oldest segment is an error to a member, never a reason to move the group" {
	mq-topic create t -c segment.bytes=1024
	seq 1 300 | mq-produce --batch-size 200 t
	[ "$(ls "$MQ_SPOOL/t/0" | grep -c '\.log$')" -ge 3 ]
	run -0 mq-consume -g g -c 5 t
	committed 0 5
	for field in 0 4; do   # the magic, the length
		cp "$MQ_SPOOL/t/0/00000000000000000000.log" "$T/seg"
		damage_first_header "$field"
		run --separate-stderr -1 mq-consume -g g t
		assert_output ''
		[ "$stderr" = "mq-consume: corrupt batch in '$MQ_SPOOL/t/0/00000000000000000000.log' at byte 0: a sealed segment that does not start with a batch" ]
		committed 0 5
		run --separate-stderr -1 mq-group describe g
		[[ "$stderr" == *"corrupt batch in '$MQ_SPOOL/t/0/00000000000000000000.log' at byte 0"* ]]
		run --separate-stderr -1 mq-topic describe t
		[ "$stderr" = "mq-topic: 't' partition 0: corrupt batch in '$MQ_SPOOL/t/0/00000000000000000000.log' at byte 0: a sealed segment that does not start with a batch (see mq-topic verify)" ]
		[[ "$output" == *"Partition: 0	Start: -	End: -	Segments: "* ]]
		cp "$T/seg" "$MQ_SPOOL/t/0/00000000000000000000.log"
	done
	run -0 mq-consume -g g t
	assert_output "$(seq 6 300)"
}

@test "a damaged first batch of the only segment is an error to a member, not a log end to reset to" {
	mq-topic create t
	seq 1 10 | mq-produce t
	run -0 mq-consume -g g -c 5 t
	damage_first_header 0
	run --separate-stderr -1 mq-consume -g g t
	assert_output ''
	[ "$stderr" = "mq-consume: corrupt batch in '$MQ_SPOOL/t/0/00000000000000000000.log' at byte 0: invalid batch before the end of the log" ]
	committed 0 5
}

@test "an emptied oldest segment (as compaction leaves one) is skipped: the start is the next segment's" {
	mq-topic create t -c segment.bytes=1024
	seq 1 300 | mq-produce --batch-size 200 t
	: >"$MQ_SPOOL/t/0/00000000000000000000.log"
	START=$(mq-topic describe t | awk '$1 == "Partition:" { print $4 }')
	[ "$START" -gt 0 ]
	run -0 mq-consume -g g -F '%o\n' t
	assert_output "$(seq "$START" 299)"
}

@test "--offset-reset latest moves a committed offset below the log start to the end" {
	trimmed
	echo 5 >"$(ofile 0)"
	run --separate-stderr -0 mq-consume -g g --offset-reset latest t
	assert_output ""
	[ "$stderr" = "mq-consume: group 'g': committed offset 5 of 't' partition 0 is below the log start: resetting to latest (300)" ]
	# The new position is committed although nothing was read, so what
	# arrives afterwards is read by the next run, without a warning.
	committed 0 300
	echo new | mq-produce t
	run --separate-stderr -0 mq-consume -g g --offset-reset latest t
	assert_output new
	[ -z "$stderr" ]
	committed 0 301
}

@test "--offset-reset error refuses a committed offset below the log start: exit 1, nothing read" {
	trimmed
	echo 5 >"$(ofile 0)"
	run --separate-stderr -1 mq-consume -g g --offset-reset error t
	assert_output ""
	[ "$stderr" = "mq-consume: group 'g': committed offset 5 of 't' partition 0 is below the log start ($START)" ]
	committed 0 5
}

@test "a committed offset past the log end follows --offset-reset too" {
	trimmed
	echo 500 >"$(ofile 0)"
	run --separate-stderr -0 mq-consume -g g t
	assert_output "$(seq $((START + 1)) 300)"
	[ "$stderr" = "mq-consume: group 'g': committed offset 500 of 't' partition 0 is past the log end: resetting to earliest ($START)" ]
	committed 0 300
	echo 500 >"$(ofile 0)"
	run --separate-stderr -0 mq-consume -g g --offset-reset latest t
	assert_output ""
	[[ "$stderr" == *"is past the log end: resetting to latest (300)" ]]
	committed 0 300
	echo 500 >"$(ofile 0)"
	run --separate-stderr -1 mq-consume -g g --offset-reset error t
	assert_output ""
	[ "$stderr" = "mq-consume: group 'g': committed offset 500 of 't' partition 0 is past the log end (300)" ]
	committed 0 500
}

@test "a committed offset inside the log is used whatever --offset-reset says" {
	trimmed
	echo 290 >"$(ofile 0)"
	for policy in earliest latest error; do
		echo 290 >"$(ofile 0)"
		run --separate-stderr -0 mq-consume -g g --offset-reset $policy t
		assert_output "$(seq 291 300)"
		[ -z "$stderr" ]
	done
}

# ---------------------------------------------------------------------------
# -o and --no-commit

# two_by_ten: t with "0".."9" in partition 0 and "10".."19" in partition 1.
two_by_ten() {
	mq-topic create t -p 2
	seq 0 9 | mq-produce -p 0 t
	seq 10 19 | mq-produce -p 1 t
}

@test "-o applies only to partitions where the group has no committed offset" {
	two_by_ten
	mkdir -p "$MQ_SPOOL/t/groups/g"
	echo 3 >"$(ofile 0)"
	run -0 mq-consume -g g -o end -F '%p %o\n' t
	assert_output "$(seq 3 9 | sed 's/^/0 /')"
	committed 0 10
	# Partition 1 started at the end, and that position was committed.
	committed 1 10
	# Both have offsets now: -o end is ignored on both.
	seq 10 11 | mq-produce -p 0 t
	echo 20 | mq-produce -p 1 t
	run -0 mq-consume -g g -o end -F '%p %o\n' t
	sort <<<"$output" | cmp - <(printf '0 10\n0 11\n1 10\n')
	committed 0 12
	committed 1 11
}

@test "-o N starts a fresh group at offset N and commits from there" {
	two_by_ten
	run -0 mq-consume -g g -o 7 -F '%p %o\n' t
	sort <<<"$output" | cmp - <(printf '0 7\n0 8\n0 9\n1 7\n1 8\n1 9\n')
	committed 0 10
	committed 1 10
}

@test "a new group started with -o end continues next time from where it started" {
	two_by_ten
	run -0 mq-consume -g g -o end t
	assert_output ""
	committed 0 10
	committed 1 10
	echo 10 | mq-produce -p 0 t
	run -0 mq-consume -g g -o end -F '%p %o %s\n' t
	assert_output "0 10 10"
	committed 0 11
	committed 1 10
}

@test "a run that moves nothing leaves the offset files alone" {
	two_by_ten
	run -0 mq-consume -g g t
	stat -c '%i %Y' "$(ofile 0)" "$(ofile 1)" >"$T/before"
	run -0 mq-consume -g g t
	assert_output ""
	stat -c '%i %Y' "$(ofile 0)" "$(ofile 1)" | cmp - "$T/before"
	committed 0 10
	committed 1 10
}

@test "-o end on a fresh group delivers only what is produced after it started" {
	two_by_ten
	member m -g g -f -v -o end --commit-interval 200ms t
	# "took" is reported once the partition is positioned.
	wait_for grep -qs "took 't' partition 0 at offset 10" "$T/m.err"
	wait_for grep -qs "took 't' partition 1 at offset 10" "$T/m.err"
	echo new | mq-produce -p 1 t
	wait_for lines_in "$T/m.out" 1
	wait_for committed 1 11
	[ "$(cat "$T/m.out")" = new ]
	# The untouched partition's starting position is committed too.
	wait_for committed 0 10
}

@test "--no-commit reads from the group's offsets and changes nothing in the group" {
	two_by_ten
	mkdir -p "$MQ_SPOOL/t/groups/g"
	echo 3 >"$(ofile 0)"
	echo 7 >"$(ofile 1)"
	ls -la "$MQ_SPOOL/t/groups/g" "$MQ_SPOOL/t/groups/g/.." >"$T/before"
	member m -g g --no-commit -f -F '%p %o\n' t
	wait_for lines_in "$T/m.out" 10
	# While it runs: no member file, no ownership file.
	[ ! -e "$MQ_SPOOL/t/groups/g/members" ] ||
		[ -z "$(ls -A "$MQ_SPOOL/t/groups/g/members")" ]
	[ -z "$(ls "$MQ_SPOOL/t/groups/g" | grep '\.own$')" ]
	kill -TERM "$PID"
	status_of "$PID"
	[ "$rc" -eq 0 ]
	sort "$T/m.out" | cmp - <( (seq 3 9 | sed 's/^/0 /'; seq 7 9 | sed 's/^/1 /') | sort)
	committed 0 3
	committed 1 7
	ls -la "$MQ_SPOOL/t/groups/g" "$MQ_SPOOL/t/groups/g/.." | cmp - "$T/before"
	# A real member later starts from the unchanged position.
	run -0 mq-consume -g g -F '%p %o\n' t
	sort <<<"$output" | cmp - <( (seq 3 9 | sed 's/^/0 /'; seq 7 9 | sed 's/^/1 /') | sort)
}

@test "--no-commit on a group that does not exist reads from -o and creates nothing" {
	two_by_ten
	run -0 mq-consume -g fresh --no-commit -o 8 -F '%p %o\n' t
	sort <<<"$output" | cmp - <(printf '0 8\n0 9\n1 8\n1 9\n')
	[ ! -e "$MQ_SPOOL/t/groups" ]
}

# ---------------------------------------------------------------------------
# Usage

@test "-p cannot be combined with -g unless --no-commit: exit 2" {
	two_by_ten
	run --separate-stderr -2 mq-consume -g g -p 0 t
	assert_output ""
	[ "$stderr" = "mq-consume: -p cannot be combined with -g: the group assigns partitions (but -g GROUP --no-commit -p N reads partition N from the group's offset)" ]
	[ ! -e "$MQ_SPOOL/t/groups" ]
}

@test "-g --no-commit -p N peeks at partition N from the group's offset, changing nothing" {
	two_by_ten
	mkdir -p "$MQ_SPOOL/t/groups/g"
	echo 3 >"$(ofile 0)"
	echo 7 >"$(ofile 1)"
	run -0 mq-consume -g g --no-commit -p 1 -F '%p %o\n' t
	assert_output "$(printf '1 7\n1 8\n1 9')"
	run -0 mq-consume -g g --no-commit -p 0 -p 1 -c 2 -F '%p %o\n' t
	[ "$(sort <<<"$output" | head -1)" = "0 3" ]
	committed 0 3
	committed 1 7
	run --separate-stderr -2 mq-consume -g g --no-commit -p 2 t
	[[ "$stderr" == *"has no partition 2"* ]]
}

@test "--no-commit, --offset-reset, --commit-interval and --commit-every need -g: exit 2" {
	two_by_ten
	for opt in --no-commit "--offset-reset=earliest" "--commit-interval=1s" \
		"--commit-every=10"; do
		run --separate-stderr -2 mq-consume "$opt" t
		assert_output ""
		[ "${#stderr_lines[@]}" -eq 1 ]
		[[ "$stderr" == "mq-consume: "*"need -g" ]]
	done
}

@test "bad group names and bad group option values exit 2" {
	two_by_ten
	long=$(printf 'g%.0s' $(seq 1 250))
	for name in . .. a/b '' 'a b' "$long"; do
		run --separate-stderr -2 mq-consume -g "$name" t
		assert_output ""
		[[ "$stderr" == "mq-consume: bad group name "* ]]
	done
	run -2 mq-consume -g g --offset-reset sometimes t
	run -2 mq-consume -g g --commit-interval soon t
	run -2 mq-consume -g g --commit-every 0 t
	run -2 mq-consume -g g --commit-interval 0 t
	run -2 mq-consume -g g --commit-interval 2d t
	[ ! -e "$MQ_SPOOL/t/groups" ]
}

# ---------------------------------------------------------------------------
# Sharing partitions

@test "two followers split 8 partitions 4 and 4, each partition owned by one of them" {
	mq-topic create t -p 8
	member a -g g -f t
	A=$PID
	member b -g g -f t
	B=$PID
	wait_for shares_are "4 4"
	[ "$(owner_pids)" = "$(printf '%s\n' "$A" "$B" | sort -n | xargs)" ]
}

@test "three followers split 8 partitions 3, 3 and 2" {
	mq-topic create t -p 8
	member a -g g -f t
	A=$PID
	member b -g g -f t
	B=$PID
	member c -g g -f t
	C=$PID
	wait_for shares_are "3 3 2"
	[ "$(owner_pids)" = "$(printf '%s\n' "$A" "$B" "$C" | sort -n | xargs)" ]
	# Messages go to the owner of their partition, and only there.
	keyed 400 40 | mq-produce -K '\t' t
	wait_for eval '[ "$(cat "$T"/[abc].out | wc -l)" -ge 400 ]'
	cat "$T"/[abc].out | sort -n | cmp - <(seq 1 400)
}

@test "a member joining later is handed the first member's highest partitions, committed first" {
	mq-topic create t -p 8
	member a -g g -f -v --commit-interval 1h t
	A=$PID
	wait_for shares_are 8
	keyed 400 40 | mq-produce -K '\t' t
	wait_for lines_in "$T/a.out" 400
	member b -g g -f -v t
	B=$PID
	wait_for shares_are "4 4"
	grep -o "gave back 't' partition [0-9]*" "$T/a.err" |
		awk '{ print $NF }' | sort -n | xargs >"$T/gave"
	[ "$(cat "$T/gave")" = "4 5 6 7" ]
	for p in 4 5 6 7; do
		[ "$(owner_of $p)" = "$B" ]
		# Committed when given back, so b starts after what a printed.
		end=$(log_end t $p)
		committed $p "$end"
		wait_for grep -qs "took 't' partition $p at offset $end\$" "$T/b.err"
	done
	for p in 0 1 2 3; do
		[ "$(owner_of $p)" = "$A" ]
		[ ! -e "$(ofile $p)" ]
	done
	! exited "$A"
	[ ! -s "$T/b.out" ]
}

@test "a follower without partitions waits, and takes over when the owner dies" {
	mq-topic create t
	member a -g g -f --commit-interval 200ms t
	A=$PID
	wait_for shares_are 1
	member b -g g -f -v t
	B=$PID
	wait_for eval '[ "$(ls "$MQ_SPOOL/t/groups/g/members" | wc -l)" -eq 2 ]'
	[ "$(owner_of 0)" = "$A" ]
	seq 1 10 | mq-produce t
	wait_for committed 0 10
	kill -KILL "$A"
	status_of "$A"
	wait_for eval '[ "$(owner_of 0)" = "$B" ]'
	seq 11 20 | mq-produce t
	wait_for lines_in "$T/b.out" 10
	cmp "$T/a.out" <(seq 1 10)
	cmp "$T/b.out" <(seq 11 20)
	! exited "$B"
}

@test "the partitions of a member killed with SIGKILL go to the others, who consume everything produced afterwards" {
	mq-topic create t -p 8
	member a -g g -f t
	member b -g g -f t
	B=$PID
	member c -g g -f t
	wait_for shares_are "3 3 2"
	kill -KILL "$B"
	status_of "$B"
	wait_for shares_are "4 4"
	[[ " $(owner_pids) " != *" $B "* ]]
	# The dead member's file is gone; the two live ones remain.
	[ "$(ls "$MQ_SPOOL/t/groups/g/members" | wc -l)" -eq 2 ]
	keyed 200 40 | mq-produce -K '\t' t
	wait_for eval '[ "$(cat "$T"/[ac].out | wc -l)" -ge 200 ]'
	cat "$T"/[ac].out | sort -n | cmp - <(seq 1 200)
	[ ! -s "$T/b.out" ]
}

@test "two members without -f started together both end by themselves and print every message once" {
	mq-topic create t -p 8
	seq 1 40000 | awk '{ print $1 "\t" $1 }' | mq-produce -K '\t' t
	member a -g g t
	A=$PID
	member b -g g t
	B=$PID
	status_of "$A"
	[ "$rc" -eq 0 ]
	status_of "$B"
	[ "$rc" -eq 0 ]
	[ ! -s "$T/a.err" ]
	[ ! -s "$T/b.err" ]
	sort -n "$T/a.out" "$T/b.out" | cmp - <(seq 1 40000)
	at_end t
	[ -z "$(ls -A "$MQ_SPOOL/t/groups/g/members")" ]
}

@test "a partition added by mq-topic alter while followers run gets an owner and its messages are consumed" {
	mq-topic create t -p 4
	member a -g g -f t
	member b -g g -f t
	wait_for shares_are "2 2"
	mq-topic alter t -p 6
	wait_for shares_are "3 3"
	echo on5 | mq-produce -p 5 t
	wait_for eval 'cat "$T"/[ab].out | grep -qx on5'
}

@test "members never own one partition at the same time while one joins late and one leaves" {
	mq-topic create t -p 6
	member a -g g -f -v t
	A=$PID
	member b -g g -f -v t
	B=$PID
	wait_for shares_are "3 3"
	member c -g g -f -v t
	C=$PID
	wait_for shares_are "2 2 2"
	END_b=$(now_iso)
	kill -TERM "$B"
	status_of "$B"
	[ "$rc" -eq 0 ]
	wait_for shares_are "3 3"
	END_a=$(now_iso)
	kill -TERM "$A"
	END_c=$(now_iso)
	kill -TERM "$C"
	status_of "$A"
	status_of "$C"
	# Ownership intervals per partition: "member partition from to".
	for m in a b c; do
		eval "end=\$END_$m"
		awk -v m=$m -v end="$end" '
			$5 == "took" { from[$8] = $2 }
			$5 == "gave" { if (!($9 in from)) { print "bad", $0; next }
				       print m, $9, from[$9], $2
				       delete from[$9] }
			END { for (p in from) print m, p, from[p], end }
		' "$T/$m.err"
	done >"$T/intervals"
	! grep -q '^bad' "$T/intervals"
	# Handovers happened: a gave back to c, and b's partitions moved on.
	grep -q "gave back" "$T/a.err" || grep -q "gave back" "$T/b.err"
	[ "$(awk '$1 == "c"' "$T/intervals" | wc -l)" -ge 3 ]
	# No two intervals of different members on one partition overlap.
	awk '{ m[NR] = $1; p[NR] = $2; s[NR] = $3; e[NR] = $4 }
	     END { for (i = 1; i <= NR; i++) for (j = i + 1; j <= NR; j++)
		     if (p[i] == p[j] && m[i] != m[j] &&
			 s[i] < e[j] && s[j] < e[i])
			     print "overlap:", i, j }' "$T/intervals" >"$T/overlaps"
	[ ! -s "$T/overlaps" ] || { cat "$T/intervals" "$T/overlaps"; false; }
}

# ---------------------------------------------------------------------------
# Commits

@test "with --commit-interval 200ms a follower commits up to the log end while it keeps running" {
	mq-topic create t -p 2
	member m -g g -f --commit-interval 200ms t
	wait_for shares_are 2
	keyed 500 10 | mq-produce -K '\t' t
	wait_for at_end t
	! exited "$PID"
	[ "$(wc -l <"$T/m.out")" -eq 500 ]
}

@test "by default a follower commits about once a second while it runs" {
	mq-topic create t
	member m -g g -f -v t
	wait_for grep -qs "took 't' partition 0" "$T/m.err"
	seq 1 10 | mq-produce t
	produced=$(date +%s%3N)
	wait_for committed 0 10
	! exited "$PID"
	took=$(grep -o "^mq-consume: [^ ]* group 'g': took" "$T/m.err" | cut -d' ' -f2)
	comm=$(grep -o "^mq-consume: [^ ]* group 'g': 't' partition 0 committed at offset 10" "$T/m.err" | cut -d' ' -f2)
	comm=$(date -d "$comm" +%s%3N)
	# Not at once after it took the partition, and within about a
	# second of the messages being there (the producer itself may take
	# long on a loaded machine: that is not the follower's delay).
	[ $((comm - $(date -d "$took" +%s%3N))) -ge 700 ]
	[ $((comm - produced)) -le 3000 ]
}

@test "with --commit-every 100 a follower commits in steps of about 100 messages" {
	mq-topic create t
	member m -g g -f -v --commit-every 100 --commit-interval 1h t
	wait_for grep -qs "took 't' partition 0" "$T/m.err"
	for i in 0 1 2 3 4 5 6 7 8 9; do
		seq $((i * 100)) $((i * 100 + 99)) | mq-produce t
	done
	wait_for committed 0 1000
	! exited "$PID"
	grep -o "committed at offset [0-9]*" "$T/m.err" | awk '{ print $NF }' >"$T/commits"
	# Ten runs of 100 messages: a commit after (about) every 100.
	[ "$(wc -l <"$T/commits")" -ge 5 ] || { cat "$T/m.err"; false; }
	awk 'BEGIN { prev = 0 } $1 - prev > 200 { exit 1 } { prev = $1 }' "$T/commits"
}

@test "with a long --commit-interval the follower commits its position on SIGTERM" {
	mq-topic create t
	member m -g g -f --commit-interval 1h t
	wait_for shares_are 1
	seq 1 50 | mq-produce t
	wait_for lines_in "$T/m.out" 50
	[ ! -e "$(ofile 0)" ]
	kill -TERM "$PID"
	status_of "$PID"
	[ "$rc" -eq 0 ]
	committed 0 50
}

# drain_fd7 FILE: appends what the FIFO on fd 7 holds now to FILE,
# without waiting for more.
drain_fd7() {
	python3 -c '
import fcntl, os, sys
fcntl.fcntl(7, fcntl.F_SETFL, fcntl.fcntl(7, fcntl.F_GETFL) | os.O_NONBLOCK)
out = open(sys.argv[1], "ab")
while True:
    try:
        b = os.read(7, 65536)
    except BlockingIOError:
        break
    if not b:
        break
    out.write(b)' "$1"
}

# fifo_full: does the FIFO on fd 7 hold a full pipe's worth (64 KiB)?
fifo_full() {
	python3 -c '
import array, fcntl, sys, termios
n = array.array("i", [0])
fcntl.ioctl(7, termios.FIONREAD, n)
sys.exit(0 if n[0] >= 65536 else 1)'
}

# offset_above P N: does g's offset file of t's partition P hold more than N?
offset_above() {
	[ -f "$(ofile "$1")" ] && [ "$(head -1 "$(ofile "$1")")" -gt "$2" ]
}

@test "a member whose reader does not read still commits what it wrote every --commit-interval, and stops on SIGTERM" {
	mq-topic create t
	seq 1 200000 | mq-produce t
	mkfifo "$T/out"
	exec 7<>"$T/out"
	mq-consume -g g -f --commit-interval 100ms t >"$T/out" 2>"$T/m.err" 3>&- 7>&- &
	PID=$!
	BG+=("$PID")
	# The pipe is full and nobody reads: commits go on all the same.
	wait_for offset_above 0 1000
	first=$(head -1 "$(ofile 0)")
	head -c 300000 <&7 >"$T/got"
	wait_for offset_above 0 "$first"
	kill -TERM "$PID"
	status_of "$PID"
	[ "$rc" -eq 0 ]
	[ ! -s "$T/m.err" ]
	drain_fd7 "$T/got"
	# Everything committed was written out: at least once.
	c=$(head -1 "$(ofile 0)")
	n=$(tr -cd '\n' <"$T/got" | wc -c)
	[ "$c" -gt "$first" ]
	[ "$c" -le "$n" ]
	head -n "$n" "$T/got" | cmp - <(seq 1 "$n")
	exec 7>&-
	# The next member starts at the commit.
	run -0 mq-consume -g g -c 1 t
	assert_output "$((c + 1))"
}

@test "a follower whose reader does not read stops on SIGTERM with status 0" {
	mq-topic create t
	seq 1 200000 | mq-produce t
	mkfifo "$T/out"
	exec 7<>"$T/out"
	mq-consume -f t >"$T/out" 2>"$T/m.err" 3>&- 7>&- &
	PID=$!
	BG+=("$PID")
	wait_for fifo_full
	kill -TERM "$PID"
	status_of "$PID"
	[ "$rc" -eq 0 ]
	[ ! -s "$T/m.err" ]
	exec 7>&-
}

@test "SIGINT also ends a follower with a commit of everything it printed" {
	mq-topic create t -p 2
	member m -g g -f --commit-interval 1h t
	wait_for shares_are 2
	keyed 50 10 | mq-produce -K '\t' t
	wait_for lines_in "$T/m.out" 50
	[ ! -e "$(ofile 0)" ] && [ ! -e "$(ofile 1)" ]
	kill -INT "$PID"
	status_of "$PID"
	[ "$rc" -eq 0 ]
	at_end t
	[ -z "$(ls -A "$MQ_SPOOL/t/groups/g/members")" ]
}

# ---------------------------------------------------------------------------
# At least once

@test "after a crash a new member re-delivers from the last committed offset" {
	mq-topic create t
	seq 0 99 | mq-produce t
	run -0 mq-consume -g g -c 40 t
	committed 0 40
	member m -g g -f --commit-interval 1h t
	wait_for lines_in "$T/m.out" 60
	kill -KILL "$PID"
	status_of "$PID"
	cmp "$T/m.out" <(seq 40 99)
	committed 0 40
	# Duplicates, nothing lost.
	run -0 mq-consume -g g t
	assert_output "$(seq 40 99)"
	committed 0 100
}

@test "after a crash --commit-every N bounds what is delivered again to N messages" {
	mq-topic create t
	seq 1 1000 | mq-produce t
	member m -g g -f --commit-every 100 --commit-interval 1h t
	wait_for lines_in "$T/m.out" 1000
	kill -KILL "$PID"
	status_of "$PID"
	# Each commit came before the next 100 messages were handed out.
	[ -f "$(ofile 0)" ]
	[ "$(head -1 "$(ofile 0)")" -ge 900 ]
	run -0 mq-consume -g g t
	[ "${#lines[@]}" -le 100 ]
}

@test "after a clean SIGTERM a new member delivers nothing again" {
	mq-topic create t
	seq 0 99 | mq-produce t
	run -0 mq-consume -g g -c 40 t
	member m -g g -f --commit-interval 1h t
	wait_for lines_in "$T/m.out" 60
	kill -TERM "$PID"
	status_of "$PID"
	[ "$rc" -eq 0 ]
	cmp "$T/m.out" <(seq 40 99)
	run -0 mq-consume -g g t
	assert_output ""
	committed 0 100
}

# ---------------------------------------------------------------------------
# mq-group reset while a member runs

@test "a reset while a follower runs makes it re-deliver from the new offset, and its old position never overwrites the reset" {
	mq-topic create t
	seq 0 19 | mq-produce t
	member m -g g -f -v --commit-interval 200ms t
	wait_for committed 0 20
	run -0 mq-group reset g t --to-offset 5 --execute
	wait_for lines_in "$T/m.out" 35
	cmp "$T/m.out" <(seq 0 19; seq 5 19)
	grep -q "'t' partition 0 was reset to offset 5" "$T/m.err"
	wait_for committed 0 20 "epoch 1"
	# More messages move it on, still under the new epoch.
	seq 20 24 | mq-produce t
	wait_for committed 0 25 "epoch 1"
	! exited "$PID"
}

# ---------------------------------------------------------------------------
# Several topics

@test "one member on two topics keeps separate offsets under each topic" {
	mq-topic create t1
	mq-topic create t2 -p 2
	seq 1 3 | mq-produce t1
	seq 1 5 | mq-produce -p 1 t2
	run -0 mq-consume -g g -F '%t %p %o\n' t1 t2
	sort <<<"$output" | cmp - <(printf 't1 0 0\nt1 0 1\nt1 0 2\nt2 1 0\nt2 1 1\nt2 1 2\nt2 1 3\nt2 1 4\n')
	printf '3\n' | cmp - "$(ofile t1 0)"
	printf '5\n' | cmp - "$(ofile t2 1)"
	# Nothing was read from t2's partition 0: its start is committed.
	printf '0\n' | cmp - "$(ofile t2 0)"
	echo 4 | mq-produce t1
	run -0 mq-consume -g g -F '%t %p %o\n' t1 t2
	assert_output "t1 0 3"
	printf '4\n' | cmp - "$(ofile t1 0)"
	printf '5\n' | cmp - "$(ofile t2 1)"
}

@test "a commit removes temporary offset files that a killed writer left" {
	mq-topic create t
	seq 1 5 | mq-produce t
	mkdir -p "$MQ_SPOOL/t/groups/g"
	echo 3 >"$MQ_SPOOL/t/groups/g/0.tmp.99999"
	run -0 mq-consume -g g t
	assert_output "$(seq 1 5)"
	assert_equal "$(cat "$MQ_SPOOL/t/groups/g/0")" 5
	assert_not_exist "$MQ_SPOOL/t/groups/g/0.tmp.99999"
}

# ---------------------------------------------------------------------------
# Acknowledgement logs (--acks)

# offset_files: "TOPIC P OFFSET" for each offset file of g on t.
offset_files() {
	local p
	for p in "$@"; do
		echo "t $p $(head -n 1 "$(ofile "$p")")"
	done
}

@test "--acks logs TOPIC PARTITION OFFSET for each partition a commit moved, as the offset files hold it" {
	mq-topic create t
	seq 0 19 | mq-produce t
	run -0 mq-consume -g g --commit-every 5 -c 12 --acks "$T/acks" t
	assert_output "$(seq 0 11)"
	printf 't 0 5\nt 0 10\nt 0 12\n' | cmp - "$T/acks"
	committed 0 12
	# the next run appends
	run -0 mq-consume -g g --acks "$T/acks" t
	assert_output "$(seq 12 19)"
	printf 't 0 5\nt 0 10\nt 0 12\nt 0 20\n' | cmp - "$T/acks"
	tail -n 1 "$T/acks" | cmp - <(offset_files 0)
	# a run that moves nothing logs nothing
	run -0 mq-consume -g g --acks "$T/acks" t
	assert_output ""
	[ "$(wc -l <"$T/acks")" -eq 4 ]
}

@test "--acks after -c on two partitions: the lines match the offset files" {
	two_by_ten
	run -0 mq-consume -g g -c 15 --acks "$T/acks" t
	[ "${#lines[@]}" -eq 15 ]
	# partitions take turns by batch: one read to its end, one half-way
	sort "$T/acks" | cmp - <(offset_files 0 1)
	run awk '$3 == 5 { print $2 }' "$T/acks"
	[ "${#lines[@]}" -eq 1 ]
	local half=$output
	run -0 mq-consume -g g --acks "$T/acks" t
	[ "$(wc -l <"$T/acks")" -eq 3 ]
	[ "$(tail -n 1 "$T/acks")" = "t $half 10" ]
	printf 't 0 10\nt 1 10\n' | cmp - <(offset_files 0 1)
}

@test "a follower's --acks lines match its offset files after SIGTERM, and only grow" {
	mq-topic create t -p 2
	member m -g g -f --commit-interval 50ms --acks "$T/acks" t
	wait_for shares_are 2
	keyed 100 10 | mq-produce -K '\t' t
	wait_for lines_in "$T/m.out" 100
	keyed 50 10 | mq-produce -K '\t' t
	wait_for lines_in "$T/m.out" 150
	kill -TERM "$PID"
	status_of "$PID"
	[ "$rc" -eq 0 ]
	at_end t
	# the last line of each partition is its offset file
	awk '{ last[$2] = $0 } END { for (p in last) print last[p] }' \
		"$T/acks" | sort | cmp - <(offset_files 0 1)
	# and each partition's offsets only grow
	awk '($2 in prev) && $3 <= prev[$2] { exit 1 } { prev[$2] = $3 }' \
		"$T/acks"
}

@test "--acks needs -g, a file, and commits: exit 2" {
	two_by_ten
	run --separate-stderr -2 mq-consume --acks "$T/acks" t
	assert_equal "$stderr" "mq-consume: --no-commit, --offset-reset, --commit-* and --acks need -g"
	run --separate-stderr -2 mq-consume -g g --acks - t
	assert_equal "$stderr" "mq-consume: --acks: name a file (standard output carries the messages)"
	run --separate-stderr -2 mq-consume -g g --no-commit --acks "$T/acks" t
	assert_equal "$stderr" "mq-consume: --acks cannot be combined with --no-commit (it logs commits)"
	assert_output ""
	[ ! -e "$T/acks" ]
	[ ! -e "$MQ_SPOOL/t/groups" ]
}

@test "an --acks file that cannot be written is a runtime error naming it, after the commit" {
	two_by_ten
	run --separate-stderr -1 mq-consume -g g --acks /dev/full t
	[ "${#lines[@]}" -eq 20 ]
	assert_equal "$stderr" "mq-consume: cannot write acknowledgements to '/dev/full': No space left on device"
	committed 0 10
	committed 1 10
}

@test "an --acks file that cannot be opened exits 1 naming it, reading nothing" {
	two_by_ten
	run --separate-stderr -1 mq-consume -g g --acks "$T/no/acks" t
	assert_output ""
	assert_equal "$stderr" "mq-consume: cannot open acknowledgement file '$T/no/acks': No such file or directory"
	[ ! -e "$(ofile 0)" ]
}
