#!/usr/bin/env bats
# tests/mqgroup.bats - mq-group: its command line; list; describe (table and
# JSON, owners of running members); reset in every form, with -p and
# --dry-run, refusing offsets outside the log; lag as a monitoring plugin;
# delete, refused while members run.
#
# Committed offsets are set up by writing TOPIC/groups/GROUP/P directly
# (its format is a public contract) where the test is not about the
# consumer, so each test checks mq-group alone.

load helper
bats_require_minimum_version 1.5.0

per_test_setup() {
	T="$BATS_TEST_TMPDIR"
	BG=()
}

teardown() {
	local p
	for p in "${BG[@]}"; do
		kill -KILL "$p" 2>/dev/null || true
	done
}

# commit TOPIC GROUP P OFFSET: writes a committed offset as a member
# would, in a group directory laid out as a member leaves it.
commit() {
	mkdir -p "$MQ_SPOOL/$1/groups/$2/members"
	: >>"$MQ_SPOOL/$1/groups/$2/lock"
	printf '%s\n' "$4" >"$MQ_SPOOL/$1/groups/$2/$3"
}

# off TOPIC GROUP P: the offset file of partition P.
off() {
	echo "$MQ_SPOOL/$1/groups/$2/$3"
}

# state: every path under the spool's groups directories, with the
# content of each file, so a test can tell that nothing changed at all.
state() {
	(
		cd "$MQ_SPOOL" || exit 1
		find . -path './*/groups*' | LC_ALL=C sort | while read -r f; do
			if [ -f "$f" ]; then
				printf '%s: %s\n' "$f" "$(tr '\n' '|' <"$f")"
			else
				printf '%s/\n' "$f"
			fi
		done
	)
}

# three TOPIC: a 3-partition topic holding 5, 3 and 0 messages.
three() {
	mq-topic create "$1" -p 3
	seq 1 5 | mq-produce -p 0 "$1"
	seq 1 3 | mq-produce -p 1 "$1"
}

# retained TOPIC: a 1-partition topic whose first four segments (offsets
# 0..3) were removed as retention would, so its log holds offsets 4..11.
# Each 300-byte message fills a 512-byte segment of its own.
retained() {
	local i x
	mq-topic create "$1" -p 1 -c segment.bytes=512
	x=$(printf 'x%.0s' $(seq 1 300))
	for i in $(seq 0 11); do
		echo "$x" | mq-produce "$1"
	done
	[ -f "$MQ_SPOOL/$1/0/00000000000000000011.log" ]
	rm "$MQ_SPOOL/$1/0/0000000000000000000"[0-3].*
}

# member TOPIC GROUP: the id of a live member (its file in members/).
member() {
	local f
	for f in "$MQ_SPOOL/$1/groups/$2/members/"*; do
		[ -f "$f" ] || continue
		case ${f##*/} in +*) continue ;; esac
		echo "${f##*/}"
		return 0
	done
	return 1
}

has_member() {
	member "$1" "$2" >/dev/null
}

# follow_member GROUP TOPIC...: starts mq-consume -g GROUP -f in the
# background and waits for its member file on the first topic.
follow_member() {
	local g=$1
	shift
	mq-consume -g "$g" -f --commit-every 1 "$@" >"$T/out" 2>"$T/err" 3>&- &
	BG+=($!)
	wait_for has_member "$1" "$g"
}

# output_is EXPECTED CMD...: does CMD print exactly EXPECTED?
output_is() {
	local want=$1
	shift
	[ "$("$@" 2>/dev/null)" = "$want" ]
}

# ---- the command line ---------------------------------------------------

@test "--help and -h print the usage on stdout and exit 0" {
	run --separate-stderr mq-group --help
	assert_success
	assert_line --index 0 --partial "Usage: mq-group [-d DIR] list"
	assert_output --partial "mq-group [-d DIR] lag (GROUP | --all-groups) [TOPIC] [--warn N]"
	assert_equal "$stderr" ""
	help=$output
	run --separate-stderr mq-group -h
	assert_success
	assert_output "$help"
	assert_equal "$stderr" ""
	run --separate-stderr mq-group describe g -h
	assert_success
	assert_output "$help"
}

@test "--version and -V print the name and version" {
	run --separate-stderr mq-group --version
	assert_success
	assert_output --regexp '^mq-group \(mq\) [0-9]+\.[0-9]+'
	assert_equal "$stderr" ""
	run mq-group -V
	assert_success
	assert_output --regexp '^mq-group \(mq\) [0-9]+\.[0-9]+'
}

@test "an unknown option exits 2 with one line on stderr" {
	run --separate-stderr mq-group list --bogus
	assert_failure 2
	assert_output ""
	assert_equal "$stderr" "mq-group: unknown option '--bogus' (see 'mq-group --help')"
	run --separate-stderr mq-group -x list
	assert_failure 2
	assert_equal "$stderr" "mq-group: unknown option '-x' (see 'mq-group --help')"
}

@test "an option missing its value is reported as such" {
	run --separate-stderr mq-group reset g t --to-offset
	assert_failure 2
	assert_equal "$stderr" "mq-group: option '--to-offset' needs a value (see 'mq-group --help')"
	run --separate-stderr mq-group list -d
	assert_failure 2
	assert_equal "$stderr" "mq-group: option '-d' needs a value (see 'mq-group --help')"
	run --separate-stderr mq-group lag g --warn
	assert_failure 3
	assert_equal "$stderr" "mq-group: option '--warn' needs a value (see 'mq-group --help')"
}

@test "a missing or unknown subcommand exits 2" {
	run --separate-stderr mq-group
	assert_failure 2
	assert_equal "$stderr" "mq-group: missing command: list, describe, reset, lag or delete"
	run --separate-stderr mq-group frob g
	assert_failure 2
	assert_equal "$stderr" "mq-group: unknown command 'frob': use list, describe, reset, lag or delete"
}

@test "each subcommand refuses a wrong number of arguments with exit 2" {
	local a
	for a in "list x" "describe" "describe g h" "reset g --to-earliest" \
		"reset g t u --to-earliest" "delete" "delete g h"; do
		run --separate-stderr mq-group $a
		assert_failure 2
		assert_equal "$stderr" "mq-group: ${a%% *}: wrong number of arguments (see 'mq-group --help')"
		assert_output ""
	done
}

@test "options of one subcommand are refused on another with exit 2" {
	local a
	run --separate-stderr mq-group list --json
	assert_failure 2
	assert_equal "$stderr" "mq-group: --json applies to describe only"
	run --separate-stderr mq-group reset g t --to-earliest --json
	assert_failure 2
	assert_equal "$stderr" "mq-group: --json applies to describe only"
	for a in "reset g t --to-earliest --warn 1" "describe g --crit 1" \
		"list --warn 1"; do
		run --separate-stderr mq-group $a
		assert_failure 2
		assert_equal "$stderr" "mq-group: --warn and --crit apply to lag only"
	done
	for a in "describe g --to-offset 1" "describe g --to-earliest" \
		"list --dry-run" "delete g -p 0" "describe g --shift-by +1" \
		"delete g --by-duration 1h" "describe g --to-datetime 0" \
		"list --execute"; do
		run --separate-stderr mq-group $a
		assert_failure 2
		assert_equal "$stderr" "mq-group: --to-*, --by-duration, --shift-by, -p, --dry-run and --execute apply to reset only"
	done
	for a in "list --all-groups" "delete --all-groups" \
		"reset --all-groups t --to-earliest"; do
		run --separate-stderr mq-group $a
		assert_failure 2
		assert_equal "$stderr" "mq-group: --all-groups applies to describe and lag only"
	done
	for a in "describe g --topic t" "reset g t --to-latest --topic t" \
		"list --topic t"; do
		run --separate-stderr mq-group $a
		assert_failure 2
		assert_equal "$stderr" "mq-group: --topic applies to delete only"
	done
	run --separate-stderr mq-group lag g --topic t
	assert_failure 3
	assert_equal "$stderr" "mq-group: --topic applies to delete only"
}

@test "--all-groups replaces the GROUP operand of describe and lag" {
	local a
	for a in "describe --all-groups g" "describe --all-groups --json g"; do
		run --separate-stderr mq-group $a
		assert_failure 2
		assert_equal "$stderr" "mq-group: describe: wrong number of arguments (see 'mq-group --help')"
	done
	run --separate-stderr mq-group lag --all-groups t u
	assert_failure 3
	assert_equal "$stderr" "mq-group: lag: wrong number of arguments (see 'mq-group --help')"
	run -3 mq-group lag --all-groups bad/topic
}

@test "reset takes --execute or --dry-run, not both" {
	mq-topic create t
	run --separate-stderr mq-group reset g t --to-latest --execute --dry-run
	assert_failure 2
	assert_output ""
	assert_equal "$stderr" "mq-group: reset takes --execute or --dry-run, not both"
	[ ! -e "$MQ_SPOOL/t/groups" ]
}

@test "reset needs exactly one of the --to-* and --shift-by options" {
	local a msg="mq-group: reset needs exactly one of --to-earliest, --to-latest, --to-offset, --to-datetime, --by-duration, --shift-by"
	mq-topic create t
	for a in "" "-p 0" "--dry-run" "--to-earliest --to-latest" \
		"--to-offset 1 --shift-by +1" "--to-datetime 0 --by-duration 1h" \
		"--to-latest --to-latest"; do
		run --separate-stderr mq-group reset g t $a
		assert_failure 2
		assert_equal "$stderr" "$msg"
	done
	[ ! -e "$MQ_SPOOL/t/groups" ]
}

@test "bad group and topic names exit 2" {
	mq-topic create t
	run --separate-stderr mq-group describe 'bad/name'
	assert_failure 2
	assert_equal "$stderr" "mq-group: bad group name 'bad/name': use 1 to 249 of A-Z a-z 0-9 . _ - (not \".\" or \"..\")"
	run --separate-stderr mq-group delete ..
	assert_failure 2
	assert_equal "$stderr" "mq-group: bad group name '..': use 1 to 249 of A-Z a-z 0-9 . _ - (not \".\" or \"..\")"
	run --separate-stderr mq-group reset 'a b' t --to-earliest
	assert_failure 2
	assert_equal "${stderr:0:34}" "mq-group: bad group name 'a b': us"
	run --separate-stderr mq-group reset g 'bad/t' --to-earliest
	assert_failure 2
	assert_equal "$stderr" "mq-group: bad topic name 'bad/t': use 1 to 249 of A-Z a-z 0-9 . _ - (not \".\" or \"..\")"
	run -2 mq-group reset g . --to-earliest
	run -2 mq-group describe "$(printf 'g%.0s' $(seq 1 250))"
	[ ! -e "$MQ_SPOOL/t/groups" ]
}

@test "bad numbers in options exit 2" {
	mq-topic create t
	run --separate-stderr mq-group reset g t --to-offset -1
	assert_failure 2
	assert_equal "$stderr" "mq-group: bad value '-1' for --to-offset: expected a number from 0 to 9223372036854775807"
	run --separate-stderr mq-group reset g t --shift-by ten
	assert_failure 2
	assert_equal "$stderr" "mq-group: bad --shift-by 'ten': expected a number like +10 or -10"
	run -2 mq-group reset g t --to-earliest -p x
	run -2 mq-group reset g t --to-earliest -p -1
	run -2 mq-group reset g t --shift-by 1.5
	[ ! -e "$MQ_SPOOL/t/groups" ]
}

# ---- list --------------------------------------------------------------

@test "list prints the groups of every topic, sorted, each once" {
	mq-topic create a
	mq-topic create b
	mq-topic create c
	commit a zeta 0 0
	commit a alpha 0 0
	commit b alpha 0 0
	commit b Mid 0 0
	commit c beta.2 0 0
	run --separate-stderr mq-group list
	assert_success
	assert_output "$(printf '%s\n' Mid alpha beta.2 zeta)"
	assert_equal "$stderr" ""
}

@test "list of a spool without groups, or without topics, prints nothing" {
	mkdir "$MQ_SPOOL"
	run --separate-stderr mq-group list
	assert_success
	assert_output ""
	assert_equal "$stderr" ""
	mq-topic create t
	seq 1 3 | mq-produce t
	run --separate-stderr mq-group list
	assert_success
	assert_output ""
	assert_equal "$stderr" ""
}

@test "list and describe read the spool given with -d" {
	mq-topic create t
	commit t here 0 0
	other="$T/other"
	mkdir "$other"
	mq-topic -d "$other" create u
	commit_dir="$other/u/groups/there"
	mkdir -p "$commit_dir"
	echo 0 >"$commit_dir/0"
	run mq-group -d "$other" list
	assert_success
	assert_output there
	run mq-group list --spool "$other"
	assert_output there
	run mq-group list
	assert_output here
	run -1 mq-group -d "$other" describe here
}

@test "list shows a group created by a consumer" {
	three t
	mq-consume -g readers t >/dev/null
	run mq-group list
	assert_success
	assert_output "readers"
}

# ---- describe -----------------------------------------------------------

@test "describe prints the header and a row per partition with offsets and lag, - without a commit" {
	three t
	commit t g 1 2
	run --separate-stderr mq-group describe g
	assert_success
	assert_equal "$stderr" ""
	assert_output "$(cat <<-'EOF'
	GROUP  TOPIC  PARTITION  CURRENT-OFFSET  LOG-END-OFFSET  LAG  OWNER
	g      t      0          -               5               -    -
	g      t      1          2               3               1    -
	g      t      2          -               0               -    -
	EOF
	)"
}

@test "describe shows the offsets a consumer committed" {
	three t
	mq-consume -g g t >"$T/out"
	assert_equal "$(wc -l <"$T/out")" 8
	echo more | mq-produce -p 2 t
	run mq-group describe g
	assert_success
	assert_output "$(cat <<-'EOF'
	GROUP  TOPIC  PARTITION  CURRENT-OFFSET  LOG-END-OFFSET  LAG  OWNER
	g      t      0          5               5               0    -
	g      t      1          3               3               0    -
	g      t      2          0               1               1    -
	EOF
	)"
}

@test "describe covers every topic of the group, widening the columns" {
	mq-topic create zz
	mq-topic create a-long-topic -p 2
	seq 1 12 | mq-produce -p 1 a-long-topic
	seq 1 4 | mq-produce zz
	mq-topic create other
	commit zz group1 0 4
	commit a-long-topic group1 1 10
	commit other someone-else 0 0
	run mq-group describe group1
	assert_success
	assert_output "$(cat <<-'EOF'
	GROUP   TOPIC         PARTITION  CURRENT-OFFSET  LOG-END-OFFSET  LAG  OWNER
	group1  a-long-topic  0          -               0               -    -
	group1  a-long-topic  1          10              12              2    -
	group1  zz            0          4               4               0    -
	EOF
	)"
}

@test "describe marks a commit below the log start, with a footnote, and counts its lag from the start" {
	retained r
	commit r g 0 2
	run --separate-stderr mq-group describe g
	assert_success
	assert_equal "$stderr" ""
	assert_output "$(cat <<-'EOF'
	GROUP  TOPIC  PARTITION  CURRENT-OFFSET  LOG-END-OFFSET  LAG  OWNER
	g      r      0          2*              12              8    -
	* below the log start: retention removed messages the group never read
	EOF
	)"
	run mq-group describe g --json
	assert_output '{"group":"g","topics":[{"topic":"r","live_members":0,"partitions":[{"partition":0,"committed_offset":2,"log_start_offset":4,"log_end_offset":12,"lag":8,"below_log_start":true,"owner":null}]}]}'
	# At the log start, no mark and no footnote.
	commit r g 0 4
	run mq-group describe g
	assert_output "$(cat <<-'EOF'
	GROUP  TOPIC  PARTITION  CURRENT-OFFSET  LOG-END-OFFSET  LAG  OWNER
	g      r      0          4               12              8    -
	EOF
	)"
}

@test "describe shows the member id as owner while a member runs" {
	mq-topic create t -p 2
	seq 1 3 | mq-produce -p 0 t
	follow_member g t
	id=$(member t g)
	[[ "$id" =~ ^[^.]+\.[0-9]+\.[0-9]+$ ]]
	want=$(printf '%-5s  %-5s  %-9s  %-14s  %-14s  %-3s  %s\n' \
		GROUP TOPIC PARTITION CURRENT-OFFSET LOG-END-OFFSET LAG OWNER \
		g t 0 3 3 0 "$id" g t 1 0 0 0 "$id")
	wait_for output_is "$want" mq-group describe g
	want=$(printf '{"group":"g","topics":[{"topic":"t","live_members":1,"partitions":[{"partition":0,"committed_offset":3,"log_start_offset":0,"log_end_offset":3,"lag":0,"below_log_start":false,"owner":"%s"},{"partition":1,"committed_offset":0,"log_start_offset":0,"log_end_offset":0,"lag":0,"below_log_start":false,"owner":"%s"}]}]}' "$id" "$id")
	run mq-group describe --json g
	assert_success
	assert_output "$want"
	kill -KILL "${BG[0]}"
	wait "${BG[0]}" || true
	run mq-group describe g
	assert_output "$(cat <<-'EOF'
	GROUP  TOPIC  PARTITION  CURRENT-OFFSET  LOG-END-OFFSET  LAG  OWNER
	g      t      0          3               3               0    -
	g      t      1          0               0               0    -
	EOF
	)"
}

@test "describe of an unknown group exits 1 naming it" {
	mkdir "$MQ_SPOOL"
	run --separate-stderr mq-group describe g
	assert_failure 1
	assert_output ""
	assert_equal "$stderr" "mq-group: group 'g' does not exist in '$MQ_SPOOL'"
	three t
	commit t other 0 1
	run --separate-stderr mq-group describe g
	assert_failure 1
	assert_output ""
	assert_equal "$stderr" "mq-group: group 'g' does not exist in '$MQ_SPOOL'"
	run --separate-stderr mq-group describe g --json
	assert_failure 1
	assert_output ""
}

@test "describe --json prints the documented fields with their types" {
	three t
	mq-topic create u
	commit t g 1 2
	commit u g 0 0
	run --separate-stderr mq-group describe g --json
	assert_success
	assert_equal "$stderr" ""
	assert_output '{"group":"g","topics":[{"topic":"t","live_members":0,"partitions":[{"partition":0,"committed_offset":null,"log_start_offset":0,"log_end_offset":5,"lag":null,"below_log_start":false,"owner":null},{"partition":1,"committed_offset":2,"log_start_offset":0,"log_end_offset":3,"lag":1,"below_log_start":false,"owner":null},{"partition":2,"committed_offset":null,"log_start_offset":0,"log_end_offset":0,"lag":null,"below_log_start":false,"owner":null}]},{"topic":"u","live_members":0,"partitions":[{"partition":0,"committed_offset":0,"log_start_offset":0,"log_end_offset":0,"lag":0,"below_log_start":false,"owner":null}]}]}'
	if command -v jq >/dev/null; then
		echo "$output" | jq -e '
			(.group | type) == "string" and
			(.topics | length) == 2 and
			all(.topics[]; (.topic | type) == "string" and
			    (.live_members | type) == "number" and
			    all(.partitions[];
				(.partition | type) == "number" and
				(.committed_offset | type) as $c |
				($c == "number" or $c == "null") and
				(.log_start_offset | type) == "number" and
				(.log_end_offset | type) == "number" and
				((.lag | type) == "number") == ($c == "number") and
				(.below_log_start | type) == "boolean" and
				(.owner == null)))'
	fi
}

@test "describe reports a damaged offset file naming it and exits 1" {
	three t
	commit t g 1 'twelve'
	run --separate-stderr mq-group describe g
	assert_failure 1
	assert_output ""
	[[ "$stderr" == "mq-group: damaged offset file '$MQ_SPOOL/t/groups/g/1': "* ]]
	assert_equal "$(cat "$(off t g 1)")" twelve
}

# ---- reset ---------------------------------------------------------------

@test "reset --to-earliest and --to-latest write the offsets and count the epoch" {
	three t
	run --separate-stderr mq-group reset g t --to-latest --execute
	assert_success
	assert_equal "$stderr" ""
	assert_output "$(cat <<-'EOF'
	TOPIC  PARTITION  OLD-OFFSET  NEW-OFFSET
	t      0          -           5
	t      1          -           3
	t      2          -           0
	EOF
	)"
	assert_equal "$(cat "$(off t g 0)")" "$(printf '5\nepoch 1')"
	assert_equal "$(cat "$(off t g 1)")" "$(printf '3\nepoch 1')"
	assert_equal "$(cat "$(off t g 2)")" "$(printf '0\nepoch 1')"
	run mq-group reset g t --to-earliest --execute
	assert_success
	assert_output "$(cat <<-'EOF'
	TOPIC  PARTITION  OLD-OFFSET  NEW-OFFSET
	t      0          5           0
	t      1          3           0
	t      2          0           0
	EOF
	)"
	for p in 0 1 2; do
		assert_equal "$(cat "$(off t g $p)")" "$(printf '0\nepoch 2')"
	done
	run mq-group reset g t --to-latest --execute
	assert_equal "$(cat "$(off t g 0)")" "$(printf '5\nepoch 3')"
}

@test "reset --to-earliest goes to the log start, not to zero" {
	retained r
	run mq-group reset g r --to-earliest --execute
	assert_success
	assert_line --index 1 --regexp '^r +0 +- +4$'
	assert_equal "$(cat "$(off r g 0)")" "$(printf '4\nepoch 1')"
}

@test "reset --to-offset sets that offset on each partition" {
	mq-topic create t -p 2
	seq 1 6 | mq-produce -p 0 t
	seq 1 4 | mq-produce -p 1 t
	commit t g 0 1
	run mq-group reset g t --to-offset 4 --execute
	assert_success
	assert_output "$(cat <<-'EOF'
	TOPIC  PARTITION  OLD-OFFSET  NEW-OFFSET
	t      0          1           4
	t      1          -           4
	EOF
	)"
	assert_equal "$(cat "$(off t g 0)")" "$(printf '4\nepoch 1')"
	assert_equal "$(cat "$(off t g 1)")" "$(printf '4\nepoch 1')"
	run mq-group reset g t --to-offset 0 --execute
	assert_success
	assert_equal "$(cat "$(off t g 1)")" "$(printf '0\nepoch 2')"
}

@test "reset --to-datetime takes epoch ms and ISO-8601, to the first message at or after it" {
	mq-topic create t -p 2
	# 2024-01-01T00:00:00Z is 1704067200000; 01:00Z is 1704070800000.
	seq 1 3 | mq-produce -p 0 --timestamp 1704067200000 t
	seq 4 6 | mq-produce -p 0 --timestamp 2024-01-01T01:00:00Z t
	seq 1 2 | mq-produce -p 1 --timestamp 1704067200000 t
	run mq-group reset g t --to-datetime 1704067200001 --execute
	assert_success
	assert_output "$(cat <<-'EOF'
	TOPIC  PARTITION  OLD-OFFSET  NEW-OFFSET
	t      0          -           3
	t      1          -           2
	EOF
	)"
	assert_equal "$(cat "$(off t g 0)")" "$(printf '3\nepoch 1')"
	assert_equal "$(cat "$(off t g 1)")" "$(printf '2\nepoch 1')"
	run mq-group reset g t --to-datetime 2024-01-01T00:00:00Z --execute
	assert_success
	assert_output "$(cat <<-'EOF'
	TOPIC  PARTITION  OLD-OFFSET  NEW-OFFSET
	t      0          3           0
	t      1          2           0
	EOF
	)"
	run mq-group reset g t --to-datetime 2024-01-01T01:30:00+01:00 --execute
	assert_success
	assert_output "$(cat <<-'EOF'
	TOPIC  PARTITION  OLD-OFFSET  NEW-OFFSET
	t      0          0           3
	t      1          0           2
	EOF
	)"
	run mq-group reset g t --to-datetime 2024-01-01T01:00:00.001Z --execute
	assert_success
	assert_line --index 1 --regexp '^t +0 +3 +6$'
	assert_equal "$(cat "$(off t g 0)")" "$(printf '6\nepoch 4')"
}

@test "reset --by-duration goes to the first message of the last DURATION" {
	mq-topic create t
	now=$(date +%s%3N)
	seq 1 3 | mq-produce --timestamp $((now - 5 * 3600000)) t
	seq 4 5 | mq-produce --timestamp $((now - 3600000)) t
	run mq-group reset g t --by-duration 3h --execute
	assert_success
	assert_output "$(cat <<-'EOF'
	TOPIC  PARTITION  OLD-OFFSET  NEW-OFFSET
	t      0          -           3
	EOF
	)"
	assert_equal "$(cat "$(off t g 0)")" "$(printf '3\nepoch 1')"
	run mq-group reset g t --by-duration 360m --execute
	assert_success
	assert_line --index 1 --regexp '^t +0 +3 +0$'
	run mq-group reset g t --by-duration 30min --execute
	assert_success
	assert_line --index 1 --regexp '^t +0 +0 +5$'
	assert_equal "$(cat "$(off t g 0)")" "$(printf '5\nepoch 3')"
}

@test "reset --by-duration takes ISO-8601 durations as Kafka does" {
	mq-topic create t
	now=$(date +%s%3N)
	seq 1 3 | mq-produce --timestamp $((now - 50 * 3600000)) t
	seq 4 5 | mq-produce --timestamp $((now - 5 * 3600000)) t
	seq 6 7 | mq-produce --timestamp $((now - 3600000)) t
	local a want
	for a in PT3H:5 pt3h:5 PT2H30M:5 P1DT30M:3 P2D:3 PT180M:5 PT10799S:5 \
		PT10799.5S:5 PT10799,5S:5 PT6H:3 P3D:0 +PT2H:5 PT-1H240M:5 \
		-PT-3H:5 P0D:7 PT0.0S:7 P1DT-22H:5 P1DT-18H:3; do
		want=${a##*:}
		run --separate-stderr mq-group reset g t --by-duration "${a%:*}" --dry-run
		assert_success
		assert_equal "$stderr" ""
		assert_line --index 1 --regexp "^t +0 +- +$want\$"
	done
	for a in P PT PT1 PTH P1H PT1D P1M P1Y P1W PT1S1M PT1H1H PT1.5M \
		PT1.1234567891S "PT1H " P1DT PT-3H -PT1H x; do
		run --separate-stderr mq-group reset g t --by-duration "$a"
		assert_failure 2
		[[ "$stderr" == "mq-group: --by-duration: bad duration '$a': "* ]]
	done
	run --separate-stderr mq-group reset g t --by-duration PTX
	assert_equal "$stderr" "mq-group: --by-duration: bad duration 'PTX': expected an ISO-8601 duration PnDTnHnMn.nS (e.g. PT2H, P1DT30M)"
	run --separate-stderr mq-group reset g t --by-duration -PT1H
	assert_equal "$stderr" "mq-group: --by-duration: bad duration '-PT1H': negative"
	run --separate-stderr mq-group reset g t --by-duration P999999999999999D
	assert_equal "$stderr" "mq-group: --by-duration: bad duration 'P999999999999999D': too large"
	[ ! -e "$MQ_SPOOL/t/groups" ]
}

@test "reset --shift-by moves from the committed offset, or the log start" {
	mq-topic create t -p 2
	seq 1 10 | mq-produce -p 0 t
	seq 1 10 | mq-produce -p 1 t
	commit t g 0 5
	run mq-group reset g t --shift-by +3 --execute
	assert_success
	assert_output "$(cat <<-'EOF'
	TOPIC  PARTITION  OLD-OFFSET  NEW-OFFSET
	t      0          5           8
	t      1          -           3
	EOF
	)"
	assert_equal "$(cat "$(off t g 0)")" "$(printf '8\nepoch 1')"
	assert_equal "$(cat "$(off t g 1)")" "$(printf '3\nepoch 1')"
	run mq-group reset g t --shift-by -2 --execute
	assert_success
	assert_output "$(cat <<-'EOF'
	TOPIC  PARTITION  OLD-OFFSET  NEW-OFFSET
	t      0          8           6
	t      1          3           1
	EOF
	)"
	assert_equal "$(cat "$(off t g 0)")" "$(printf '6\nepoch 2')"
	assert_equal "$(cat "$(off t g 1)")" "$(printf '1\nepoch 2')"
	run mq-group reset g t --shift-by 4 --execute
	assert_success
	assert_equal "$(cat "$(off t g 0)")" "$(printf '10\nepoch 3')"
	assert_equal "$(cat "$(off t g 1)")" "$(printf '5\nepoch 3')"
}

@test "reset --shift-by without a commit starts from the log start" {
	retained r
	run mq-group reset g r --shift-by +2 --execute
	assert_success
	assert_line --index 1 --regexp '^r +0 +- +6$'
	assert_equal "$(cat "$(off r g 0)")" "$(printf '6\nepoch 1')"
}

@test "reset -p changes only the partitions named" {
	mq-topic create t -p 4
	for p in 0 1 2 3; do
		seq 1 5 | mq-produce -p $p t
		commit t g $p 1
	done
	run mq-group reset g t --to-latest -p 3 --partition 1 --execute
	assert_success
	assert_output "$(cat <<-'EOF'
	TOPIC  PARTITION  OLD-OFFSET  NEW-OFFSET
	t      1          1           5
	t      3          1           5
	EOF
	)"
	assert_equal "$(cat "$(off t g 0)")" 1
	assert_equal "$(cat "$(off t g 1)")" "$(printf '5\nepoch 1')"
	assert_equal "$(cat "$(off t g 2)")" 1
	assert_equal "$(cat "$(off t g 3)")" "$(printf '5\nepoch 1')"
	run mq-group reset g t --to-offset 2 -p 1 --execute
	assert_success
	assert_equal "$(cat "$(off t g 1)")" "$(printf '2\nepoch 2')"
	assert_equal "$(cat "$(off t g 3)")" "$(printf '5\nepoch 1')"
}

@test "reset --dry-run prints the same table and changes no file" {
	three t
	mq-group reset g t --to-latest -p 2 --execute >/dev/null
	commit t g 0 2
	commit t g 1 1
	before=$(state)
	run --separate-stderr mq-group reset g t --to-latest --dry-run
	assert_success
	assert_equal "$stderr" ""
	assert_output "$(cat <<-'EOF'
	TOPIC  PARTITION  OLD-OFFSET  NEW-OFFSET (dry run)
	t      0          2           5
	t      1          1           3
	t      2          0           0
	EOF
	)"
	assert_equal "$(state)" "$before"
	run mq-group reset g t --shift-by -1 -p 0 --dry-run
	assert_success
	assert_output "$(cat <<-'EOF'
	TOPIC  PARTITION  OLD-OFFSET  NEW-OFFSET (dry run)
	t      0          2           1
	EOF
	)"
	assert_equal "$(state)" "$before"
}

@test "reset --dry-run of a new group creates nothing" {
	three t
	run mq-group reset g t --to-earliest --dry-run
	assert_success
	assert_line --index 0 "TOPIC  PARTITION  OLD-OFFSET  NEW-OFFSET (dry run)"
	assert_line --index 1 --regexp '^t +0 +- +0$'
	[ ! -e "$MQ_SPOOL/t/groups/g" ]
	run mq-group list
	assert_output ""
}

@test "reset --to-offset past the end of a partition clamps it to the end, with one warning per partition" {
	mq-topic create t -p 3
	seq 1 6 | mq-produce -p 0 t
	seq 1 4 | mq-produce -p 1 t
	commit t g 0 1
	commit t g 1 1
	run --separate-stderr mq-group reset g t --to-offset 5 --execute
	assert_success
	assert_output "$(cat <<-'EOF'
	TOPIC  PARTITION  OLD-OFFSET  NEW-OFFSET
	t      0          1           5
	t      1          1           4
	t      2          -           0
	EOF
	)"
	assert_equal "$stderr" "$(cat <<-'EOF'
	mq-group: offset 5 is past the end of 't' partition 1 (0 to 4): using 4
	mq-group: offset 5 is past the end of 't' partition 2 (0 to 0): using 0
	EOF
	)"
	assert_equal "$(cat "$(off t g 0)")" "$(printf '5\nepoch 1')"
	assert_equal "$(cat "$(off t g 1)")" "$(printf '4\nepoch 1')"
	assert_equal "$(cat "$(off t g 2)")" "$(printf '0\nepoch 1')"
	run --separate-stderr mq-group reset g t --to-offset 7 -p 0 --execute
	assert_success
	assert_equal "$stderr" "mq-group: offset 7 is past the end of 't' partition 0 (0 to 6): using 6"
	assert_equal "$(cat "$(off t g 0)")" "$(printf '6\nepoch 2')"
}

@test "reset --to-offset below the log start clamps it to the start" {
	retained r
	commit r g 0 6
	run --separate-stderr mq-group reset g r --to-offset 3 --execute
	assert_success
	assert_line --index 1 --regexp '^r +0 +6 +4$'
	assert_equal "$stderr" "mq-group: offset 3 is below the start of 'r' partition 0 (4 to 12): using 4"
	assert_equal "$(cat "$(off r g 0)")" "$(printf '4\nepoch 1')"
}

@test "reset --shift-by outside the log clamps each partition to its nearer end" {
	mq-topic create t -p 2
	seq 1 6 | mq-produce -p 0 t
	seq 1 4 | mq-produce -p 1 t
	commit t g 0 5
	commit t g 1 1
	run --separate-stderr mq-group reset g t --shift-by -2 --execute
	assert_success
	assert_output "$(cat <<-'EOF'
	TOPIC  PARTITION  OLD-OFFSET  NEW-OFFSET
	t      0          5           3
	t      1          1           0
	EOF
	)"
	assert_equal "$stderr" "mq-group: offset -1 is below the start of 't' partition 1 (0 to 4): using 0"
	run --separate-stderr mq-group reset g t --shift-by +2 --execute
	assert_success
	assert_equal "$stderr" ""
	run --separate-stderr mq-group reset g t --shift-by +2 --execute
	assert_success
	assert_output "$(cat <<-'EOF'
	TOPIC  PARTITION  OLD-OFFSET  NEW-OFFSET
	t      0          5           6
	t      1          2           4
	EOF
	)"
	assert_equal "$stderr" "mq-group: offset 7 is past the end of 't' partition 0 (0 to 6): using 6"
	assert_equal "$(cat "$(off t g 0)")" "$(printf '6\nepoch 3')"
	assert_equal "$(cat "$(off t g 1)")" "$(printf '4\nepoch 3')"
}

@test "reset --shift-by from a commit that retention left below the log start clamps to the start" {
	retained r
	commit r g 0 1
	run --separate-stderr mq-group reset g r --shift-by +2 --execute
	assert_success
	assert_line --index 1 --regexp '^r +0 +1 +4$'
	assert_equal "$stderr" "mq-group: offset 3 is below the start of 'r' partition 0 (4 to 12): using 4"
	assert_equal "$(cat "$(off r g 0)")" "$(printf '4\nepoch 1')"
}

@test "a clamped reset previews with the same warnings and changes nothing" {
	three t
	commit t g 0 1
	before=$(state)
	run --separate-stderr mq-group reset g t --to-offset 99 --dry-run
	assert_success
	assert_output "$(cat <<-'EOF'
	TOPIC  PARTITION  OLD-OFFSET  NEW-OFFSET (dry run)
	t      0          1           5
	t      1          -           3
	t      2          -           0
	EOF
	)"
	assert_equal "${#lines[@]}" 4
	assert_equal "$(grep -c 'is past the end' <<<"$stderr")" 3
	assert_equal "$(state)" "$before"
}

@test "a reset without --execute prints the plan, notes that nothing changed, and exits 0" {
	three t
	commit t g 0 1
	before=$(state)
	run --separate-stderr mq-group reset g t --to-latest
	assert_success
	assert_output "$(cat <<-'EOF'
	TOPIC  PARTITION  OLD-OFFSET  NEW-OFFSET (dry run)
	t      0          1           5
	t      1          -           3
	t      2          -           0
	EOF
	)"
	assert_equal "$stderr" "mq-group: nothing changed: this only shows the reset; add --execute to apply it"
	assert_equal "$(state)" "$before"
	# A new group is not created by a preview either.
	run --separate-stderr mq-group reset new t --to-earliest
	assert_success
	assert_equal "$stderr" "mq-group: nothing changed: this only shows the reset; add --execute to apply it"
	assert_equal "$(state)" "$before"
	# --dry-run previews without the note.
	run --separate-stderr mq-group reset g t --to-latest --dry-run
	assert_success
	assert_equal "$stderr" ""
	assert_equal "$(state)" "$before"
}

@test "a reset whose plan cannot be printed changes nothing and exits 1" {
	three t
	commit t g 0 1
	before=$(state)
	run bash -c 'mq-group reset g t --to-latest --execute >/dev/full'
	assert_failure 1
	assert_output "mq-group: nothing reset: cannot write the plan to standard output: No space left on device"
	assert_equal "$(state)" "$before"
	# Nor is a new group created.
	run bash -c 'mq-group reset new t --to-earliest --execute >/dev/full'
	assert_failure 1
	assert_equal "$(state)" "$before"
	run mq-group list
	assert_output g
}

@test "a reset replaces a damaged offset file, and names it on stderr" {
	three t
	commit t g 0 1
	commit t g 1 'twelve'
	run --separate-stderr mq-group reset g t --to-earliest
	assert_success
	assert_line --index 2 --regexp '^t +1 +damaged +0$'
	assert_equal "$stderr" "$(printf '%s\n' \
		"mq-group: would replace damaged offset file '$MQ_SPOOL/t/groups/g/1'" \
		"mq-group: nothing changed: this only shows the reset; add --execute to apply it")"
	assert_equal "$(cat "$(off t g 1)")" twelve
	run --separate-stderr mq-group reset g t --to-offset 2 -p 1 --execute
	assert_success
	assert_output "$(cat <<-'EOF'
	TOPIC  PARTITION  OLD-OFFSET  NEW-OFFSET
	t      1          damaged     2
	EOF
	)"
	assert_equal "$stderr" "mq-group: replacing damaged offset file '$MQ_SPOOL/t/groups/g/1'"
	assert_equal "$(head -n 1 "$(off t g 1)")" 2
	# Its epoch was unknown: the new one differs from any a member held.
	[[ "$(sed -n 2p "$(off t g 1)")" =~ ^epoch\ [0-9]{13}$ ]]
	assert_equal "$(cat "$(off t g 0)")" 1
	run mq-group describe g
	assert_success
	assert_line --index 2 --regexp '^g +t +1 +2 +3 +1 +-$'
	for how in --to-latest "--to-datetime 0" "--by-duration 1h"; do
		commit t g 1 'junk'
		run -0 mq-group reset g t -p 1 $how --execute
		assert_equal "$(head -n 1 "$(off t g 1)")" $([ "$how" = --to-latest ] && echo 3 || echo 0)
	done
}

@test "reset --shift-by refuses a damaged offset file, naming it, and changes nothing" {
	three t
	commit t g 0 1
	commit t g 1 'twelve'
	before=$(state)
	run --separate-stderr mq-group reset g t --shift-by +1 --execute
	assert_failure 1
	assert_output ""
	assert_equal "$stderr" "mq-group: damaged offset file '$MQ_SPOOL/t/groups/g/1': --shift-by needs the old offset; replace it with --to-offset, --to-earliest, --to-latest or --to-datetime"
	assert_equal "$(state)" "$before"
	# The other partitions shift alone.
	run -0 mq-group reset g t --shift-by +1 -p 0 --execute
	assert_equal "$(head -n 1 "$(off t g 0)")" 2
}

@test "reset refuses bad times and durations with exit 2" {
	mq-topic create t
	echo a | mq-produce t
	local a
	for a in yesterday 2024-13-01 2023-02-29 2024-01-01T25:00Z ""; do
		run --separate-stderr mq-group reset g t --to-datetime "$a"
		assert_failure 2
		[[ "$stderr" == "mq-group: --to-datetime: "* ]]
	done
	run --separate-stderr mq-group reset g t --to-datetime yesterday
	assert_equal "$stderr" "mq-group: --to-datetime: bad time 'yesterday': expected epoch milliseconds or YYYY-MM-DD[Thh:mm[:ss[.fff]]][Z|+hh:mm]"
	run --separate-stderr mq-group reset g t --to-datetime 2024-13-01
	assert_equal "$stderr" "mq-group: --to-datetime: bad time '2024-13-01': no such date or time of day"
	for a in "5 years" 5years -1h h ""; do
		run --separate-stderr mq-group reset g t --by-duration "$a"
		assert_failure 2
		[[ "$stderr" == "mq-group: --by-duration: "* ]]
	done
	[ ! -e "$MQ_SPOOL/t/groups" ]
}

@test "reset of a missing topic exits 1" {
	mq-topic create t
	run --separate-stderr mq-group reset g nosuch --to-earliest
	assert_failure 1
	assert_output ""
	assert_equal "$stderr" "mq-group: topic 'nosuch' does not exist in '$MQ_SPOOL'"
}

@test "reset on a spool without topics names the missing topic" {
	mkdir "$MQ_SPOOL"
	run --separate-stderr mq-group reset g t --to-earliest
	assert_failure 1
	assert_output ""
	assert_equal "$stderr" "mq-group: topic 't' does not exist in '$MQ_SPOOL'"
}

@test "reset of a group with no offsets yet creates them" {
	three t
	run mq-group reset newg t --to-offset 0 --execute
	assert_success
	run mq-group list
	assert_output newg
	for p in 0 1 2; do
		assert_equal "$(cat "$(off t newg $p)")" "$(printf '0\nepoch 1')"
	done
	run mq-group describe newg
	assert_line --index 1 --regexp '^newg +t +0 +0 +5 +5 +-$'
}

@test "reset -p of a partition the topic lacks exits 2 and changes nothing" {
	three t
	commit t g 0 1
	before=$(state)
	run --separate-stderr mq-group reset g t --to-earliest -p 0 -p 3
	assert_failure 2
	assert_output ""
	assert_equal "$stderr" "mq-group: topic 't' has no partition 3 (it has 3)"
	assert_equal "$(state)" "$before"
}

@test "a consumer started after a reset starts at the reset offset" {
	mq-topic create t
	seq 1 10 | mq-produce t
	mq-consume -g g t >"$T/out"
	assert_equal "$(cat "$T/out")" "$(seq 1 10)"
	mq-group reset g t --to-offset 6 --execute >/dev/null
	run mq-consume -g g t
	assert_success
	assert_output "$(seq 7 10)"
	mq-group reset g t --shift-by -3 --execute >/dev/null
	run mq-consume -g g t
	assert_output "$(seq 8 10)"
	assert_equal "$(head -1 "$(off t g 0)")" 10
}

# ---- lag -----------------------------------------------------------------

@test "lag of a topic prints one plugin line with the total lag" {
	three t
	commit t g 0 4
	run --separate-stderr mq-group lag g t
	assert_success
	assert_equal "$stderr" ""
	assert_output "LAG OK - group 'g': lag 4 over 3 partitions of 't' | lag=4;;;0"
	run mq-group lag g t --warn 100 --crit 1000
	assert_success
	assert_output "LAG OK - group 'g': lag 4 over 3 partitions of 't' | lag=4;100;1000;0"
	run mq-group lag g t --crit 50
	assert_output "LAG OK - group 'g': lag 4 over 3 partitions of 't' | lag=4;;50;0"
	mq-topic create one
	commit one g 0 0
	run mq-group lag g one --warn 5
	assert_success
	assert_output "LAG OK - group 'g': lag 0 over 1 partition of 'one' | lag=0;5;;0"
}

@test "lag without a topic sums over every topic of the group" {
	three t
	mq-topic create u -p 2
	seq 1 7 | mq-produce -p 1 u
	commit t g 0 5
	commit u g 1 2
	run mq-group lag g
	assert_success
	assert_output "LAG OK - group 'g': lag 8 over 5 partitions of 2 topics | lag=8;;;0"
	mq-topic create v
	commit v h 0 0
	run mq-group lag h
	assert_success
	assert_output "LAG OK - group 'h': lag 0 over 1 partition of 1 topic | lag=0;;;0"
}

@test "lag exits 1 at --warn and 2 at --crit" {
	three t
	commit t g 0 2
	commit t g 1 3
	run -0 mq-group lag g t --warn 4
	assert_output "LAG OK - group 'g': lag 3 over 3 partitions of 't' | lag=3;4;;0"
	run -1 mq-group lag g t --warn 3
	assert_output "LAG WARNING - group 'g': lag 3 over 3 partitions of 't' | lag=3;3;;0"
	run -1 mq-group lag g --warn 1 --crit 4
	assert_output "LAG WARNING - group 'g': lag 3 over 3 partitions of 1 topic | lag=3;1;4;0"
	run -2 mq-group lag g t --warn 1 --crit 3
	assert_output "LAG CRITICAL - group 'g': lag 3 over 3 partitions of 't' | lag=3;1;3;0"
	run -2 mq-group lag g t --crit 2
	assert_output "LAG CRITICAL - group 'g': lag 3 over 3 partitions of 't' | lag=3;;2;0"
	run -2 mq-group lag g t --warn 3 --crit 3
	assert_output "LAG CRITICAL - group 'g': lag 3 over 3 partitions of 't' | lag=3;3;3;0"
	run -0 mq-group lag g t --crit 4
}

@test "lag counts a partition without a usable commit as end minus start" {
	retained r
	mq-topic create s
	seq 1 3 | mq-produce s
	commit s g 0 3
	mq-group reset g r --to-offset 10 --execute >/dev/null
	run mq-group lag g r
	assert_output "LAG OK - group 'g': lag 2 over 1 partition of 'r' | lag=2;;;0"
	rm "$(off r g 0)"
	run -1 mq-group lag g r --warn 8 --crit 9
	assert_output "LAG WARNING - group 'g': lag 8 over 1 partition of 'r' | lag=8;8;9;0"
	commit r g 0 4
	run -1 mq-group lag g --warn 8
	assert_output "LAG WARNING - group 'g': lag 8 over 2 partitions of 2 topics | lag=8;8;;0"
}

@test "lag of a group below the log start is at least WARNING and says so" {
	retained r
	mq-topic create s
	seq 1 3 | mq-produce s
	commit s g 0 3
	commit r g 0 1
	run --separate-stderr mq-group lag g
	assert_failure 1
	assert_equal "$stderr" ""
	assert_output "LAG WARNING - group 'g': lag 8 over 2 partitions of 2 topics, 1 below the log start (messages removed unread) | lag=8;;;0"
	run -2 mq-group lag g r --crit 8
	assert_output "LAG CRITICAL - group 'g': lag 8 over 1 partition of 'r', 1 below the log start (messages removed unread) | lag=8;;8;0"
	run -0 mq-group lag g s
	assert_output "LAG OK - group 'g': lag 0 over 1 partition of 's' | lag=0;;;0"
	# Once the group is back inside the log, it is OK again.
	mq-group reset g r --to-earliest --execute >/dev/null
	run -0 mq-group lag g
	assert_output "LAG OK - group 'g': lag 8 over 2 partitions of 2 topics | lag=8;;;0"
}

@test "lag of an unknown group is UNKNOWN on stdout with exit 3" {
	mkdir "$MQ_SPOOL"
	run --separate-stderr mq-group lag g
	assert_failure 3
	assert_output "LAG UNKNOWN - group 'g' does not exist in '$MQ_SPOOL'"
	three t
	commit t other 0 1
	run --separate-stderr mq-group lag g
	assert_failure 3
	assert_output "LAG UNKNOWN - group 'g' does not exist in '$MQ_SPOOL'"
	assert_equal "$stderr" ""
	run --separate-stderr mq-group lag g t --warn 1
	assert_failure 3
	assert_output "LAG UNKNOWN - group 'g' does not exist on topic 't'"
	run --separate-stderr mq-group lag other nosuch
	assert_failure 3
	assert_output "LAG UNKNOWN - topic 'nosuch' does not exist in '$MQ_SPOOL'"
}

@test "lag of a directory that is not an mq spool is UNKNOWN, not a plain error" {
	mkdir -p "$MQ_SPOOL"
	echo x >"$MQ_SPOOL/stray"
	run --separate-stderr mq-group lag g
	assert_failure 3
	assert_output "LAG UNKNOWN - '$MQ_SPOOL' is not an mq spool: it has files but no +format marker"
	run --separate-stderr mq-group lag --all-groups
	assert_failure 3
	run --separate-stderr mq-group describe g
	assert_failure 1
	assert_equal "$stderr" "mq-group: '$MQ_SPOOL' is not an mq spool: it has files but no +format marker"
}

@test "usage errors under lag exit 3, with the diagnostic on stderr and as UNKNOWN on stdout" {
	three t
	commit t g 0 1
	run --separate-stderr mq-group lag
	assert_failure 3
	assert_equal "$stderr" "mq-group: lag: wrong number of arguments (see 'mq-group --help')"
	assert_output "LAG UNKNOWN - lag: wrong number of arguments (see 'mq-group --help')"
	run -3 mq-group lag g t u
	run --separate-stderr mq-group lag g --bogus
	assert_failure 3
	assert_equal "$stderr" "mq-group: unknown option '--bogus' (see 'mq-group --help')"
	assert_output "LAG UNKNOWN - unknown option '--bogus' (see 'mq-group --help')"
	run --separate-stderr mq-group lag g --warn many
	assert_failure 3
	assert_equal "$stderr" "mq-group: bad value 'many' for --warn: expected a number from 0 to 18446744073709551615"
	assert_output "LAG UNKNOWN - bad value 'many' for --warn: expected a number from 0 to 18446744073709551615"
	run -3 mq-group lag g --crit -1
	run -3 mq-group lag g --json
	run -3 mq-group lag g --to-earliest
	run -3 mq-group lag g -p 0
	run -3 mq-group lag bad/name
	run -3 mq-group lag g bad/topic
}

@test "lag refuses --crit below --warn as a usage error" {
	three t
	commit t g 0 1
	run --separate-stderr mq-group lag g --warn 10 --crit 5
	assert_failure 3
	assert_output "LAG UNKNOWN - --crit must not be below --warn"
	assert_equal "$stderr" "mq-group: --crit must not be below --warn"
}

@test "lag --all-groups prints a line per group, worst first, and exits with the worst status" {
	three t
	mq-topic create u
	seq 1 9 | mq-produce u
	commit t a 0 5
	commit t a 1 3
	commit t b 0 2
	commit u b 0 9
	commit u c 0 2
	run --separate-stderr mq-group lag --all-groups --warn 5 --crit 7
	assert_failure 2
	assert_equal "$stderr" ""
	assert_output "$(cat <<-'EOF'
	LAG CRITICAL - group 'c': lag 7 over 1 partition of 1 topic | lag=7;5;7;0
	LAG WARNING - group 'b': lag 6 over 4 partitions of 2 topics | lag=6;5;7;0
	LAG OK - group 'a': lag 0 over 3 partitions of 1 topic | lag=0;5;7;0
	EOF
	)"
	run -1 mq-group lag --all-groups --warn 5
	assert_line --index 0 "LAG WARNING - group 'b': lag 6 over 4 partitions of 2 topics | lag=6;5;;0"
	assert_line --index 1 "LAG WARNING - group 'c': lag 7 over 1 partition of 1 topic | lag=7;5;;0"
	run -0 mq-group lag --all-groups
	assert_output "$(cat <<-'EOF'
	LAG OK - group 'a': lag 0 over 3 partitions of 1 topic | lag=0;;;0
	LAG OK - group 'b': lag 6 over 4 partitions of 2 topics | lag=6;;;0
	LAG OK - group 'c': lag 7 over 1 partition of 1 topic | lag=7;;;0
	EOF
	)"
	# With a topic: the groups on that topic, over it only.
	run -1 mq-group lag --all-groups t --warn 5
	assert_output "$(cat <<-'EOF'
	LAG WARNING - group 'b': lag 6 over 3 partitions of 't' | lag=6;5;;0
	LAG OK - group 'a': lag 0 over 3 partitions of 't' | lag=0;5;;0
	EOF
	)"
}

@test "lag --all-groups without groups is OK, and without a spool UNKNOWN" {
	run --separate-stderr mq-group lag --all-groups
	assert_failure 3
	assert_output "LAG UNKNOWN - spool '$MQ_SPOOL' does not exist (mq-topic create makes it)"
	mq-topic create t
	run -0 mq-group lag --all-groups --warn 1
	assert_output "LAG OK - no groups in '$MQ_SPOOL' | lag=0;1;;0"
	mq-topic create u
	commit u g 0 0
	run -0 mq-group lag --all-groups t
	assert_output "LAG OK - no groups on topic 't' | lag=0;;;0"
	run -3 mq-group lag --all-groups nosuch
	assert_output "LAG UNKNOWN - topic 'nosuch' does not exist in '$MQ_SPOOL'"
}

@test "describe --all-groups shows every group of the spool, and --json one line per group" {
	three t
	mq-topic create u
	seq 1 4 | mq-produce u
	commit t b 1 2
	commit u a 0 4
	run --separate-stderr mq-group describe --all-groups
	assert_success
	assert_equal "$stderr" ""
	assert_output "$(cat <<-'EOF'
	GROUP  TOPIC  PARTITION  CURRENT-OFFSET  LOG-END-OFFSET  LAG  OWNER
	a      u      0          4               4               0    -
	b      t      0          -               5               -    -
	b      t      1          2               3               1    -
	b      t      2          -               0               -    -
	EOF
	)"
	run mq-group describe --all-groups --json
	assert_success
	assert_equal "${#lines[@]}" 2
	assert_line --index 0 "$(mq-group describe a --json)"
	assert_line --index 1 "$(mq-group describe b --json)"
}

@test "describe --all-groups of a spool without groups prints nothing; without a spool it is an error" {
	run --separate-stderr -1 mq-group describe --all-groups
	assert_output ""
	[[ "$stderr" == "mq-group: "*"$MQ_SPOOL"* ]]
	mq-topic create t
	run --separate-stderr mq-group describe --all-groups --json
	assert_success
	assert_output ""
	assert_equal "$stderr" ""
}

# ---- delete ----------------------------------------------------------------

@test "delete removes the group from every topic" {
	three t
	mq-topic create u
	seq 1 4 | mq-produce u
	mq-consume -g g t u >/dev/null
	commit u keep 0 2
	run mq-group list
	assert_output "$(printf 'g\nkeep')"
	run --separate-stderr mq-group delete g
	assert_success
	assert_output ""
	assert_equal "$stderr" ""
	[ ! -e "$MQ_SPOOL/t/groups/g" ]
	[ ! -e "$MQ_SPOOL/u/groups/g" ]
	assert_equal "$(cat "$(off u keep 0)")" 2
	run mq-group list
	assert_output keep
	run -1 mq-group describe g
	run mq-consume -g g u
	assert_output "$(seq 1 4)"
}

@test "delete is refused while the group has a live member" {
	mq-topic create t -p 2
	seq 1 3 | mq-produce -p 1 t
	follow_member g t
	wait_for lines_in "$T/out" 3
	before=$(state)
	run --separate-stderr mq-group delete g
	assert_failure 1
	assert_output ""
	assert_equal "$stderr" "mq-group: group 'g' has 1 live member on topic 't': stop them first"
	[ -d "$MQ_SPOOL/t/groups/g" ]
	run mq-group list
	assert_output g
	kill -TERM "${BG[0]}"
	wait "${BG[0]}"
	run mq-group delete g
	assert_success
	[ ! -e "$MQ_SPOOL/t/groups/g" ]
	run mq-group list
	assert_output ""
	run mq-consume -g g t
	assert_output "$(seq 1 3)"
}

@test "delete --topic removes the group's offsets on that topic only" {
	three t
	mq-topic create u
	mq-topic create v
	seq 1 4 | mq-produce u
	commit t g 0 2
	commit u g 0 3
	commit v g 0 0
	commit t keep 0 1
	run --separate-stderr mq-group delete g --topic t
	assert_success
	assert_output ""
	assert_equal "$stderr" ""
	[ ! -e "$MQ_SPOOL/t/groups/g" ]
	assert_equal "$(cat "$(off u g 0)")" 3
	assert_equal "$(cat "$(off t keep 0)")" 1
	run mq-group describe g
	assert_output "$(cat <<-'EOF'
	GROUP  TOPIC  PARTITION  CURRENT-OFFSET  LOG-END-OFFSET  LAG  OWNER
	g      u      0          3               4               1    -
	g      v      0          0               0               0    -
	EOF
	)"
	# Repeatable, and a topic named twice counts once.
	run -0 mq-group delete g --topic v --topic u --topic v
	run mq-group list
	assert_output keep
}

@test "delete --topic of a topic without the group exits 1 and removes nothing" {
	three t
	mq-topic create u
	commit t g 0 2
	before=$(state)
	run --separate-stderr mq-group delete g --topic u --topic t
	assert_failure 1
	assert_equal "$stderr" "mq-group: group 'g' has nothing on topic 'u'"
	assert_equal "$(state)" "$before"
	run --separate-stderr mq-group delete g --topic nosuch
	assert_failure 1
	assert_equal "$stderr" "mq-group: topic 'nosuch' does not exist in '$MQ_SPOOL'"
	run --separate-stderr mq-group delete g --topic bad/t
	assert_failure 2
	assert_equal "$stderr" "mq-group: bad topic name 'bad/t': use 1 to 249 of A-Z a-z 0-9 . _ - (not \".\" or \"..\")"
	assert_equal "$(state)" "$before"
}

@test "delete --topic is refused while the group has a live member on that topic, not on another" {
	mq-topic create t
	mq-topic create u
	seq 1 3 | mq-produce t
	seq 1 3 | mq-produce u
	mq-consume -g g u >/dev/null
	follow_member g t
	wait_for lines_in "$T/out" 3
	before=$(state)
	run --separate-stderr mq-group delete g --topic t
	assert_failure 1
	assert_output ""
	assert_equal "$stderr" "mq-group: group 'g' has 1 live member on topic 't': stop them first"
	[ -d "$MQ_SPOOL/t/groups/g" ]
	run -0 mq-group delete g --topic u
	[ ! -e "$MQ_SPOOL/u/groups/g" ]
	[ -d "$MQ_SPOOL/t/groups/g/members" ]
	has_member t g
}

@test "delete of an unknown group exits 1" {
	mkdir "$MQ_SPOOL"
	run --separate-stderr mq-group delete g
	assert_failure 1
	assert_equal "$stderr" "mq-group: group 'g' does not exist in '$MQ_SPOOL'"
	mq-topic create t
	commit t other 0 0
	run --separate-stderr mq-group delete g
	assert_failure 1
	assert_equal "$stderr" "mq-group: group 'g' does not exist in '$MQ_SPOOL'"
	[ -d "$MQ_SPOOL/t/groups/other" ]
}
