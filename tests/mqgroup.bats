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
	assert_output --partial "mq-group [-d DIR] lag GROUP [TOPIC] [--warn N] [--crit N]"
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
		"delete g --by-duration 1h" "describe g --to-datetime 0"; do
		run --separate-stderr mq-group $a
		assert_failure 2
		assert_equal "$stderr" "mq-group: --to-*, --by-duration, --shift-by, -p and --dry-run apply to reset only"
	done
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

@test "describe prints the header and a row per partition with offsets and lag" {
	three t
	commit t g 1 2
	run --separate-stderr mq-group describe g
	assert_success
	assert_equal "$stderr" ""
	assert_output "$(cat <<-'EOF'
	GROUP  TOPIC  PARTITION  CURRENT-OFFSET  LOG-END-OFFSET  LAG  OWNER
	g      t      0          -               5               5    -
	g      t      1          2               3               1    -
	g      t      2          -               0               0    -
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
	group1  a-long-topic  0          -               0               0    -
	group1  a-long-topic  1          10              12              2    -
	group1  zz            0          4               4               0    -
	EOF
	)"
}

@test "describe counts a commit below the log start as no commit" {
	retained r
	commit r g 0 2
	run mq-group describe g
	assert_success
	assert_output "$(cat <<-'EOF'
	GROUP  TOPIC  PARTITION  CURRENT-OFFSET  LOG-END-OFFSET  LAG  OWNER
	g      r      0          2               12              8    -
	EOF
	)"
	run mq-group describe g --json
	assert_output '{"group":"g","topics":[{"topic":"r","live_members":0,"partitions":[{"partition":0,"committed_offset":2,"log_start_offset":4,"log_end_offset":12,"lag":8,"owner":null}]}]}'
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
	want=$(printf '{"group":"g","topics":[{"topic":"t","live_members":1,"partitions":[{"partition":0,"committed_offset":3,"log_start_offset":0,"log_end_offset":3,"lag":0,"owner":"%s"},{"partition":1,"committed_offset":0,"log_start_offset":0,"log_end_offset":0,"lag":0,"owner":"%s"}]}]}' "$id" "$id")
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
	assert_output '{"group":"g","topics":[{"topic":"t","live_members":0,"partitions":[{"partition":0,"committed_offset":null,"log_start_offset":0,"log_end_offset":5,"lag":5,"owner":null},{"partition":1,"committed_offset":2,"log_start_offset":0,"log_end_offset":3,"lag":1,"owner":null},{"partition":2,"committed_offset":null,"log_start_offset":0,"log_end_offset":0,"lag":0,"owner":null}]},{"topic":"u","live_members":0,"partitions":[{"partition":0,"committed_offset":0,"log_start_offset":0,"log_end_offset":0,"lag":0,"owner":null}]}]}'
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
				(.lag | type) == "number" and
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
	run -1 mq-group reset g t --to-earliest
	assert_equal "$(cat "$(off t g 1)")" twelve
}

# ---- reset ---------------------------------------------------------------

@test "reset --to-earliest and --to-latest write the offsets and count the epoch" {
	three t
	run --separate-stderr mq-group reset g t --to-latest
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
	run mq-group reset g t --to-earliest
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
	run mq-group reset g t --to-latest
	assert_equal "$(cat "$(off t g 0)")" "$(printf '5\nepoch 3')"
}

@test "reset --to-earliest goes to the log start, not to zero" {
	retained r
	run mq-group reset g r --to-earliest
	assert_success
	assert_line --index 1 --regexp '^r +0 +- +4$'
	assert_equal "$(cat "$(off r g 0)")" "$(printf '4\nepoch 1')"
}

@test "reset --to-offset sets that offset on each partition" {
	mq-topic create t -p 2
	seq 1 6 | mq-produce -p 0 t
	seq 1 4 | mq-produce -p 1 t
	commit t g 0 1
	run mq-group reset g t --to-offset 4
	assert_success
	assert_output "$(cat <<-'EOF'
	TOPIC  PARTITION  OLD-OFFSET  NEW-OFFSET
	t      0          1           4
	t      1          -           4
	EOF
	)"
	assert_equal "$(cat "$(off t g 0)")" "$(printf '4\nepoch 1')"
	assert_equal "$(cat "$(off t g 1)")" "$(printf '4\nepoch 1')"
	run mq-group reset g t --to-offset 0
	assert_success
	assert_equal "$(cat "$(off t g 1)")" "$(printf '0\nepoch 2')"
}

@test "reset --to-datetime takes epoch ms and ISO-8601, to the first message at or after it" {
	mq-topic create t -p 2
	# 2024-01-01T00:00:00Z is 1704067200000; 01:00Z is 1704070800000.
	seq 1 3 | mq-produce -p 0 --timestamp 1704067200000 t
	seq 4 6 | mq-produce -p 0 --timestamp 2024-01-01T01:00:00Z t
	seq 1 2 | mq-produce -p 1 --timestamp 1704067200000 t
	run mq-group reset g t --to-datetime 1704067200001
	assert_success
	assert_output "$(cat <<-'EOF'
	TOPIC  PARTITION  OLD-OFFSET  NEW-OFFSET
	t      0          -           3
	t      1          -           2
	EOF
	)"
	assert_equal "$(cat "$(off t g 0)")" "$(printf '3\nepoch 1')"
	assert_equal "$(cat "$(off t g 1)")" "$(printf '2\nepoch 1')"
	run mq-group reset g t --to-datetime 2024-01-01T00:00:00Z
	assert_success
	assert_output "$(cat <<-'EOF'
	TOPIC  PARTITION  OLD-OFFSET  NEW-OFFSET
	t      0          3           0
	t      1          2           0
	EOF
	)"
	run mq-group reset g t --to-datetime 2024-01-01T01:30:00+01:00
	assert_success
	assert_output "$(cat <<-'EOF'
	TOPIC  PARTITION  OLD-OFFSET  NEW-OFFSET
	t      0          0           3
	t      1          0           2
	EOF
	)"
	run mq-group reset g t --to-datetime 2024-01-01T01:00:00.001Z
	assert_success
	assert_line --index 1 --regexp '^t +0 +3 +6$'
	assert_equal "$(cat "$(off t g 0)")" "$(printf '6\nepoch 4')"
}

@test "reset --by-duration goes to the first message of the last DURATION" {
	mq-topic create t
	now=$(date +%s%3N)
	seq 1 3 | mq-produce --timestamp $((now - 5 * 3600000)) t
	seq 4 5 | mq-produce --timestamp $((now - 3600000)) t
	run mq-group reset g t --by-duration 3h
	assert_success
	assert_output "$(cat <<-'EOF'
	TOPIC  PARTITION  OLD-OFFSET  NEW-OFFSET
	t      0          -           3
	EOF
	)"
	assert_equal "$(cat "$(off t g 0)")" "$(printf '3\nepoch 1')"
	run mq-group reset g t --by-duration 360m
	assert_success
	assert_line --index 1 --regexp '^t +0 +3 +0$'
	run mq-group reset g t --by-duration 30min
	assert_success
	assert_line --index 1 --regexp '^t +0 +0 +5$'
	assert_equal "$(cat "$(off t g 0)")" "$(printf '5\nepoch 3')"
}

@test "reset --shift-by moves from the committed offset, or the log start" {
	mq-topic create t -p 2
	seq 1 10 | mq-produce -p 0 t
	seq 1 10 | mq-produce -p 1 t
	commit t g 0 5
	run mq-group reset g t --shift-by +3
	assert_success
	assert_output "$(cat <<-'EOF'
	TOPIC  PARTITION  OLD-OFFSET  NEW-OFFSET
	t      0          5           8
	t      1          -           3
	EOF
	)"
	assert_equal "$(cat "$(off t g 0)")" "$(printf '8\nepoch 1')"
	assert_equal "$(cat "$(off t g 1)")" "$(printf '3\nepoch 1')"
	run mq-group reset g t --shift-by -2
	assert_success
	assert_output "$(cat <<-'EOF'
	TOPIC  PARTITION  OLD-OFFSET  NEW-OFFSET
	t      0          8           6
	t      1          3           1
	EOF
	)"
	assert_equal "$(cat "$(off t g 0)")" "$(printf '6\nepoch 2')"
	assert_equal "$(cat "$(off t g 1)")" "$(printf '1\nepoch 2')"
	run mq-group reset g t --shift-by 4
	assert_success
	assert_equal "$(cat "$(off t g 0)")" "$(printf '10\nepoch 3')"
	assert_equal "$(cat "$(off t g 1)")" "$(printf '5\nepoch 3')"
}

@test "reset --shift-by without a commit starts from the log start" {
	retained r
	run mq-group reset g r --shift-by +2
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
	run mq-group reset g t --to-latest -p 3 --partition 1
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
	run mq-group reset g t --to-offset 2 -p 1
	assert_success
	assert_equal "$(cat "$(off t g 1)")" "$(printf '2\nepoch 2')"
	assert_equal "$(cat "$(off t g 3)")" "$(printf '5\nepoch 1')"
}

@test "reset --dry-run prints the same table and changes no file" {
	three t
	mq-group reset g t --to-latest -p 2 >/dev/null
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

@test "reset --to-offset past the end of a partition exits 2 and changes nothing" {
	mq-topic create t -p 2
	seq 1 6 | mq-produce -p 0 t
	seq 1 4 | mq-produce -p 1 t
	commit t g 0 1
	commit t g 1 1
	mq-group reset g t --to-offset 2 -p 1 >/dev/null
	before=$(state)
	run --separate-stderr mq-group reset g t --to-offset 5
	assert_failure 2
	assert_output ""
	assert_equal "$stderr" "mq-group: offset 5 is outside the log of 't' partition 1 (0 to 4)"
	assert_equal "$(state)" "$before"
	run --separate-stderr mq-group reset g t --to-offset 7 -p 0
	assert_failure 2
	assert_equal "$stderr" "mq-group: offset 7 is outside the log of 't' partition 0 (0 to 6)"
	assert_equal "$(state)" "$before"
	run -2 mq-group reset g t --to-offset 5 --dry-run
	assert_equal "$(state)" "$before"
}

@test "reset --to-offset below the log start exits 2 and changes nothing" {
	retained r
	commit r g 0 6
	before=$(state)
	run --separate-stderr mq-group reset g r --to-offset 3
	assert_failure 2
	assert_equal "$stderr" "mq-group: offset 3 is outside the log of 'r' partition 0 (4 to 12)"
	assert_equal "$(state)" "$before"
}

@test "reset --shift-by outside the log exits 2 naming the partition and changes nothing" {
	mq-topic create t -p 2
	seq 1 6 | mq-produce -p 0 t
	seq 1 4 | mq-produce -p 1 t
	commit t g 0 5
	commit t g 1 1
	before=$(state)
	run --separate-stderr mq-group reset g t --shift-by -2
	assert_failure 2
	assert_output ""
	assert_equal "$stderr" "mq-group: shifting 't' partition 1 by -2 from 1 gives -1, outside its log (0 to 4)"
	assert_equal "$(state)" "$before"
	run --separate-stderr mq-group reset g t --shift-by +2
	assert_failure 2
	assert_equal "$stderr" "mq-group: shifting 't' partition 0 by +2 from 5 gives 7, outside its log (0 to 6)"
	assert_equal "$(state)" "$before"
	run -2 mq-group reset g t --shift-by -2 -p 1 --dry-run
	assert_equal "$(state)" "$before"
}

@test "a refused reset of a group without offsets does not create the group" {
	three t
	before=$(state)
	run --separate-stderr mq-group reset g t --to-offset 99
	assert_failure 2
	assert_equal "$stderr" "mq-group: offset 99 is outside the log of 't' partition 0 (0 to 5)"
	assert_equal "$(state)" "$before"
	run mq-group list
	assert_output ""
	run -1 mq-group describe g
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
	run mq-group reset newg t --to-offset 0
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
	mq-group reset g t --to-offset 6 >/dev/null
	run mq-consume -g g t
	assert_success
	assert_output "$(seq 7 10)"
	mq-group reset g t --shift-by -3 >/dev/null
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
	mq-group reset g r --to-offset 10 >/dev/null
	run mq-group lag g r
	assert_output "LAG OK - group 'g': lag 2 over 1 partition of 'r' | lag=2;;;0"
	rm "$(off r g 0)"
	run -1 mq-group lag g r --warn 8 --crit 9
	assert_output "LAG WARNING - group 'g': lag 8 over 1 partition of 'r' | lag=8;8;9;0"
	commit r g 0 1
	run -1 mq-group lag g --warn 8
	assert_output "LAG WARNING - group 'g': lag 8 over 2 partitions of 2 topics | lag=8;8;;0"
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

@test "usage errors under lag exit 3" {
	three t
	commit t g 0 1
	run --separate-stderr mq-group lag
	assert_failure 3
	assert_equal "$stderr" "mq-group: lag: wrong number of arguments (see 'mq-group --help')"
	run -3 mq-group lag g t u
	run --separate-stderr mq-group lag g --bogus
	assert_failure 3
	assert_equal "$stderr" "mq-group: unknown option '--bogus' (see 'mq-group --help')"
	run --separate-stderr mq-group lag g --warn many
	assert_failure 3
	assert_equal "$stderr" "mq-group: bad value 'many' for --warn: expected a number from 0 to 18446744073709551615"
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
