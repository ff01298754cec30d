#!/usr/bin/env bats
# tests/cli.bats - what every command shares: --help, --version, option
# errors, spool resolution and the +format marker, strict numbers, option
# combinations, missing topics and the topic-name rule.

load helper

bats_require_minimum_version 1.5.0

COMMANDS=(mq-topic mq-produce mq-consume)
NAME_RULE='use 1 to 249 of A-Z a-z 0-9 . _ -'

# expect_status N SUBSTR CMD...: CMD exits N with nothing on stdout and
# exactly one line on stderr, "PROG: ..." containing SUBSTR.
expect_status() {
	local want=$1 substr=$2 prog arg
	shift 2
	for arg; do
		if [[ $arg == mq-* ]]; then
			prog=$arg
			break
		fi
	done
	run "-$want" --separate-stderr "$@" </dev/null
	assert_output ''
	[ "${#stderr_lines[@]}" -eq 1 ] ||
		fail "$*: expected one line on stderr, got: $stderr"
	[[ $stderr == "$prog: "* ]] ||
		fail "$*: stderr does not start with '$prog: ': $stderr"
	[[ $stderr == *"$substr"* ]] ||
		fail "$*: stderr does not mention '$substr': $stderr"
}

expect_usage() { expect_status 2 "$@"; }
expect_error() { expect_status 1 "$@"; }

# check_help CMD OPT: OPT prints the usage on stdout, nothing on stderr.
check_help() {
	run -0 --separate-stderr "$1" "$2"
	[[ $output == "Usage: $1 "* ]] || fail "$1 $2 printed: $output"
	assert_equal "$stderr" ''
}

check_version() {
	run -0 --separate-stderr "$1" --version
	assert_output --regexp "^$1 \(mq\) [0-9]+\.[0-9]+\.[0-9]+$"
	assert_equal "$stderr" ''
}

@test "mq-topic --help and -h print the usage on stdout and exit 0" {
	check_help mq-topic --help
	check_help mq-topic -h
}

@test "mq-produce --help and -h print the usage on stdout and exit 0" {
	check_help mq-produce --help
	check_help mq-produce -h
}

@test "mq-consume --help and -h print the usage on stdout and exit 0" {
	check_help mq-consume --help
	check_help mq-consume -h
}

@test "--help does not touch the spool" {
	for cmd in "${COMMANDS[@]}"; do
		run -0 "$cmd" --help
	done
	assert_not_exist "$MQ_SPOOL"
}

@test "mq-topic --version prints the program and package version" {
	check_version mq-topic
}

@test "mq-produce --version prints the program and package version" {
	check_version mq-produce
}

@test "mq-consume --version prints the program and package version" {
	check_version mq-consume
}

@test "an unknown long option is a usage error naming the option" {
	for cmd in "${COMMANDS[@]}"; do
		expect_usage "unknown option '--bogus'" "$cmd" --bogus t
	done
}

@test "an unknown short option is a usage error naming the option" {
	for cmd in "${COMMANDS[@]}"; do
		expect_usage "unknown option '-y'" "$cmd" -y t
	done
}

@test "an option missing its value is a usage error naming the option" {
	expect_usage "'-p' needs a value" mq-topic create t -p
	expect_usage "'-c' needs a value" mq-topic create t -c
	expect_usage "'-d' needs a value" mq-topic list -d
	expect_usage "'-o' needs a value" mq-consume -o
	expect_usage "'-c' needs a value" mq-consume t -c
	expect_usage "'-p' needs a value" mq-produce t -p
	expect_usage "'--spool' needs a value" mq-produce t --spool
}

@test "mq-produce without a topic is a usage error" {
	expect_usage "missing topic" mq-produce
}

@test "mq-consume without a topic is a usage error" {
	expect_usage "missing topic" mq-consume
}

@test "-d DIR wins over MQ_SPOOL for every command" {
	local dir="$BATS_TEST_TMPDIR/other"
	run -0 mq-topic -d "$dir" create t
	assert_dir_exist "$dir/t"
	assert_not_exist "$MQ_SPOOL/t"
	run -0 mq-topic -d "$dir" list
	assert_output t
	run -1 --separate-stderr mq-topic list
	assert_equal "$stderr" "mq-topic: spool '$MQ_SPOOL' does not exist (mq-topic create makes it)"
	run -0 mq-produce -d "$dir" t <<<hello
	run -0 mq-consume -d "$dir" t
	assert_output hello
	# The topic is only in DIR, so without -d it is missing.
	run -1 mq-consume t
}

@test "MQ_SPOOL names the spool when there is no -d" {
	run -0 mq-topic create t
	assert_dir_exist "$MQ_SPOOL/t"
	assert_file_exist "$MQ_SPOOL/+format"
	run -0 mq-produce t <<<hello
	run -0 mq-consume t
	assert_output hello
}

@test "without -d and MQ_SPOOL the spool is \$HOME/.mq" {
	local home="$BATS_TEST_TMPDIR/home"
	mkdir "$home"
	run -0 env -u MQ_SPOOL HOME="$home" mq-topic create t
	assert_dir_exist "$home/.mq/t"
	assert_file_exist "$home/.mq/+format"
	run -0 env -u MQ_SPOOL HOME="$home" mq-produce t <<<hello
	run -0 env -u MQ_SPOOL HOME="$home" mq-consume t
	assert_output hello
	assert_not_exist "$MQ_SPOOL"
}

@test "without -d, MQ_SPOOL or HOME every command is a usage error" {
	for cmd in "${COMMANDS[@]}"; do
		expect_usage MQ_SPOOL env -u MQ_SPOOL -u HOME "$cmd" list
	done
}

@test "the first create makes the spool with a +format file saying 'mq spool 1'" {
	assert_not_exist "$MQ_SPOOL"
	run -0 mq-topic create t
	assert_dir_exist "$MQ_SPOOL"
	printf 'mq spool 1\n' >"$BATS_TEST_TMPDIR/expected"
	cmp "$BATS_TEST_TMPDIR/expected" "$MQ_SPOOL/+format"
}

@test "a spool that does not exist is an error naming it for every command but create, import and init" {
	local c
	while IFS= read -r c; do
		eval "run --separate-stderr $c </dev/null"
		[ "$status" -eq 1 ] || fail "$c: exit $status, not 1"
		assert_output ''
		[ "${#stderr_lines[@]}" -eq 1 ] || fail "$c: $stderr"
		[[ $stderr == mq-*": spool '$MQ_SPOOL' does not exist (mq-topic create makes it)" ]] || fail "$c: $stderr"
		assert_not_exist "$MQ_SPOOL"
	done <<'EOF'
mq-topic list
mq-topic describe --json
mq-topic describe t
mq-topic verify
mq-topic verify t
mq-topic repair t
mq-topic alter t -p 2
mq-topic delete t
mq-topic delete t --if-exists
mq-topic export t -o x.tar
mq-produce t
mq-consume t
mq-consume -g g t
mq-group list
mq-group describe g
mq-group reset g t --to-earliest
mq-group delete g
mq-compact
mq-compact t
EOF
	# mq-group lag says it the monitoring way.
	run -3 --separate-stderr mq-group lag g
	assert_output "LAG UNKNOWN - spool '$MQ_SPOOL' does not exist (mq-topic create makes it)"
	assert_not_exist "$MQ_SPOOL"
}

@test "an empty directory is a spool without topics, left as it is by commands that do not create" {
	mkdir "$MQ_SPOOL"
	run -0 --separate-stderr mq-topic list
	assert_output ''
	assert_equal "$stderr" ''
	run -0 mq-topic describe --json
	assert_output '[]'
	run -0 mq-topic verify
	run -0 mq-group list
	run -0 mq-compact
	run -0 mq-topic delete t --if-exists
	run -1 --separate-stderr mq-consume t
	assert_equal "$stderr" "mq-consume: topic 't' does not exist in '$MQ_SPOOL'"
	run -1 --separate-stderr mq-produce t </dev/null
	assert_equal "$stderr" "mq-produce: topic 't' does not exist in '$MQ_SPOOL'"
	run -1 mq-topic describe t
	run -1 mq-topic alter t -p 2
	run -1 mq-topic delete t
	run -0 ls -A "$MQ_SPOOL"
	assert_output ''
	# create marks it.
	run -0 mq-topic create t
	[ -f "$MQ_SPOOL/+format" ]
}

@test "an empty -d is a usage error for every command that takes -d" {
	expect_usage "bad value '' for -d" mq-topic -d '' list
	expect_usage "bad value '' for -d" mq-topic --spool= create t
	expect_usage "bad value '' for -d" mq-produce -d '' t
	expect_usage "bad value '' for -d" mq-consume -d '' t
	expect_usage "bad value '' for -d" mq-group -d '' list
	expect_usage "bad value '' for -d" mq-compact -d ''
	# lag: usage errors are UNKNOWN (3), on stdout.
	run -3 --separate-stderr mq-group lag g -d ''
	assert_output "LAG UNKNOWN - bad value '' for -d: expected a spool directory"
	assert_not_exist "$MQ_SPOOL"
}

@test "the spool's parent directories are not created" {
	local base="$BATS_TEST_TMPDIR/a"
	run -1 --separate-stderr mq-topic -d "$base/b/c" create t
	[[ $stderr == "mq-topic: "*"$base/b/c"* ]] || fail "stderr: $stderr"
	assert_not_exist "$base"
	run -1 mq-produce -d "$base/b/c" t </dev/null
	run -1 mq-consume -d "$base/b/c" t
	assert_not_exist "$base"
}

@test "a spool of an unknown format is refused and left alone" {
	mkdir "$MQ_SPOOL"
	echo 'mq spool 99' >"$MQ_SPOOL/+format"
	expect_error "unknown format" mq-topic create t
	assert_not_exist "$MQ_SPOOL/t"
	expect_error "unknown format" mq-topic list
	expect_error "unknown format" mq-produce t
	expect_error "unknown format" mq-consume t
	run -0 cat "$MQ_SPOOL/+format"
	assert_output 'mq spool 99'
	run -0 ls -A "$MQ_SPOOL"
	assert_output '+format'
}

@test "a non-empty directory without +format is refused and left untouched" {
	mkdir "$MQ_SPOOL"
	echo 'my notes' >"$MQ_SPOOL/notes"
	expect_error "is not an mq spool" mq-topic create t
	expect_error "is not an mq spool" mq-topic list
	expect_error "is not an mq spool" mq-produce t
	expect_error "is not an mq spool" mq-consume t
	assert_not_exist "$MQ_SPOOL/+format"
	assert_not_exist "$MQ_SPOOL/t"
	run -0 ls -A "$MQ_SPOOL"
	assert_output notes
	run -0 cat "$MQ_SPOOL/notes"
	assert_output 'my notes'
}

@test "an existing empty directory becomes a spool" {
	mkdir "$MQ_SPOOL"
	run -0 mq-topic create t
	assert_file_exist "$MQ_SPOOL/+format"
	assert_dir_exist "$MQ_SPOOL/t"
}

@test "mq-consume -c refuses anything but a positive whole number" {
	run -0 mq-topic create t
	for v in abc 0 -5 1x '' ' 1' 99999999999999999999999; do
		expect_usage "'$v'" mq-consume -c "$v" t
		[[ $stderr == *"-c"* ]] || fail "-c not named: $stderr"
	done
}

@test "mq-produce -p refuses a negative or non-numeric partition" {
	run -0 mq-topic create t
	for v in -1 x 1x; do
		expect_usage "bad value '$v' for -p" mq-produce -p "$v" t
	done
	run -0 mq-consume t
	assert_output ''
}

@test "mq-consume -p refuses a negative or non-numeric partition" {
	run -0 mq-topic create t
	for v in -1 x 1x; do
		expect_usage "bad value '$v' for -p" mq-consume -p "$v" t
	done
}

@test "mq-produce refuses -0 combined with -D" {
	run -0 mq-topic create t
	expect_usage "-0 and -D" mq-produce -0 -D , t
	expect_usage "-0 and -D" mq-produce -D , -0 t
	run -0 mq-consume t
	assert_output ''
}

@test "mq-consume refuses -F combined with -D, -0 or -K" {
	run -0 mq-topic create t
	expect_usage "-F cannot be combined" mq-consume -F '%s\n' -D , t
	expect_usage "-F cannot be combined" mq-consume -F '%s\n' -0 t
	expect_usage "-F cannot be combined" mq-consume -F '%s\n' -K : t
	expect_usage "-0 and -D" mq-consume -0 -D , t
}

@test "mq-produce to a missing topic fails naming it" {
	run -0 mq-topic create other
	expect_error "topic 'nope' does not exist" mq-produce nope
	assert_not_exist "$MQ_SPOOL/nope"
}

@test "mq-consume of a missing topic fails naming it" {
	run -0 mq-topic create other
	expect_error "topic 'nope' does not exist" mq-consume nope
	assert_not_exist "$MQ_SPOOL/nope"
}

# bad_names: the names every command must refuse.
bad_names() {
	BAD=('' . .. a/b ../x 'sp ace' $'caf\xc3\xa9' "$(printf 'n%.0s' {1..250})"
	     'tab	x' 'a*' '+format')
}

@test "mq-topic create refuses bad topic names and creates nothing" {
	bad_names
	for name in "${BAD[@]}"; do
		expect_usage "$NAME_RULE" mq-topic create "$name"
	done
	run -0 mq-topic create t
	run -0 mq-topic list
	assert_output 't'
	assert_not_exist "$BATS_TEST_TMPDIR/x"
	assert_not_exist "$MQ_SPOOL/a"
}

@test "mq-topic delete refuses bad topic names" {
	bad_names
	run -0 mq-topic create x
	for name in "${BAD[@]}"; do
		expect_usage "$NAME_RULE" mq-topic delete "$name"
		expect_usage "$NAME_RULE" mq-topic delete --if-exists "$name"
	done
	run -0 mq-topic list
	assert_output x
}

@test "mq-topic describe refuses bad topic names" {
	bad_names
	run -0 mq-topic create x
	for name in "${BAD[@]}"; do
		expect_usage "$NAME_RULE" mq-topic describe "$name"
		expect_usage "$NAME_RULE" mq-topic describe x "$name"
	done
}

@test "mq-topic alter refuses bad topic names" {
	bad_names
	for name in "${BAD[@]}"; do
		expect_usage "$NAME_RULE" mq-topic alter "$name" -p 2
	done
}

@test "mq-produce refuses bad topic names" {
	bad_names
	for name in "${BAD[@]}"; do
		expect_usage "$NAME_RULE" mq-produce "$name"
	done
}

@test "mq-consume refuses bad topic names" {
	bad_names
	run -0 mq-topic create x
	for name in "${BAD[@]}"; do
		expect_usage "$NAME_RULE" mq-consume "$name"
		expect_usage "$NAME_RULE" mq-consume x "$name"
	done
}

@test "a 249-character topic name is accepted" {
	local name
	name=$(printf 'n%.0s' {1..249})
	run -0 mq-topic create "$name"
	run -0 mq-topic list
	assert_output "$name"
	run -0 mq-produce "$name" <<<hello
	run -0 mq-consume "$name"
	assert_output hello
	run -0 mq-topic delete "$name"
	assert_not_exist "$MQ_SPOOL/$name"
}

@test "the commands that only append and read do not load libarchive" {
	command -v ldd >/dev/null || skip "needs ldd"
	local c
	for c in mq-produce mq-consume mq-group; do
		run ldd "$MQ_BIN/$c"
		assert_success
		refute_output --partial libarchive
	done
	run ldd "$MQ_BIN/mq-topic"
	assert_output --partial libarchive
}

# one_escaped_line: the last run printed exactly one line on stderr, with
# no raw ESC byte (control bytes in names are shown escaped).
one_escaped_line() {
	[ "${#stderr_lines[@]}" -eq 1 ] ||
		fail "expected one line on stderr, got: $stderr"
	[[ $stderr != *$'\e'* ]] || fail "raw ESC on stderr: $stderr"
}

@test "a newline or an escape in a name is shown escaped, on one line" {
	mq-topic create t
	run -2 --separate-stderr mq-consume $'bad\nname'
	one_escaped_line
	assert_equal "$stderr" "mq-consume: bad topic name 'bad\\nname': $NAME_RULE (not \".\" or \"..\")"
	run -2 --separate-stderr mq-topic create $'\e[31mred'
	one_escaped_line
	[[ $stderr == "mq-topic: bad topic name '\\x1b[31mred': "* ]]
	run -2 --separate-stderr mq-produce $'a\tb\e' </dev/null
	one_escaped_line
	[[ $stderr == "mq-produce: bad topic name 'a\\tb\\x1b': "* ]]
	run -2 --separate-stderr mq-group describe $'g\n\e[2J'
	one_escaped_line
	[[ $stderr == "mq-group: bad group name 'g\\n\\x1b[2J'"* ]]
	run -2 --separate-stderr mq-compact $'x\r\x7f'
	one_escaped_line
	[[ $stderr == "mq-compact: bad topic name 'x\\r\\x7f': "* ]]
	# Paths too: a spool and an archive named with control bytes.
	run -1 --separate-stderr mq-topic -d $'/nonexistent\n\e[31m' describe t
	one_escaped_line
	[[ $stderr == *"'/nonexistent\\n\\x1b[31m'"* ]]
	run -1 --separate-stderr mq-topic import $'no\nsuch\e.tar'
	one_escaped_line
	[[ $stderr == *"'no\\nsuch\\x1b.tar'"* ]]
	run -2 --separate-stderr mq-consume -g $'g\e' t
	one_escaped_line
}

@test "mq-group lag reports a name with control bytes on one escaped line" {
	run -3 --separate-stderr mq-group lag $'g\nx'
	[ "${#lines[@]}" -eq 1 ] || fail "expected one line, got: $output"
	[[ $output == "LAG UNKNOWN - "*"'g\\nx'"* ]]
}
