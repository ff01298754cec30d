#!/usr/bin/env bats
# tests/topic.bats - mq-topic: create, list, describe (text and JSON),
# alter and delete, topic configuration with units and limits, and which
# options each subcommand accepts.

load helper

bats_require_minimum_version 1.5.0

DEFAULTS='partitions=1,segment.bytes=1073741824,segment.ms=604800000,retention.ms=604800000,retention.bytes=-1,cleanup.policy=delete,compression=none,max.message.bytes=1048576,min.compaction.lag.ms=0,delete.retention.ms=86400000,message.timestamp.before.max.ms=9223372036854775807,message.timestamp.after.max.ms=3600000'

# json EXPR: evaluates the Python expression EXPR with d bound to the JSON
# document on stdin and prints the result as JSON (so 5 and "5" differ).
json() {
	python3 -c '
import json, sys
d = json.load(sys.stdin)
print(json.dumps(eval(sys.argv[1])))' "$1"
}

# describe_json TOPIC... : the JSON of describe, checked to be valid.
describe_json() {
	mq-topic describe --json "$@" >"$BATS_TEST_TMPDIR/describe.json" &&
		python3 -m json.tool "$BATS_TEST_TMPDIR/describe.json" >/dev/null
}

# jget EXPR: json EXPR over the last describe_json output.
jget() {
	json "$1" <"$BATS_TEST_TMPDIR/describe.json"
}

# configs_of TOPIC: the Configs field of describe's first line.
configs_of() {
	mq-topic describe "$1" | sed -n '1s/.*\tConfigs: //p'
}

@test "list prints created topics sorted, one per line" {
	for t in zeta alpha Mid m.2 m_1 m-0; do
		run -0 mq-topic create "$t"
	done
	run -0 --separate-stderr mq-topic list
	assert_equal "$stderr" ''
	assert_output "$(printf '%s\n' Mid alpha m-0 m.2 m_1 zeta)"
}

@test "list on an empty spool prints nothing and succeeds" {
	mkdir "$MQ_SPOOL"
	run -0 --separate-stderr mq-topic list
	assert_output ''
	assert_equal "$stderr" ''
}

@test "list ignores spool files and stray temporary directories" {
	run -0 mq-topic create t
	mkdir "$MQ_SPOOL/+new.x.1" "$MQ_SPOOL/+del.y.2"
	run -0 mq-topic list
	assert_output t
}

@test "create makes the config and one directory per partition" {
	run -0 mq-topic create t -p 3
	assert_file_exist "$MQ_SPOOL/t/config"
	for p in 0 1 2; do
		assert_dir_exist "$MQ_SPOOL/t/$p"
		assert_file_exist "$MQ_SPOOL/t/$p/lock"
		# the compaction lock too, so a producer never has to make it
		assert_file_exist "$MQ_SPOOL/t/$p/clean"
		for ext in log idx tix; do
			assert_file_exist "$MQ_SPOOL/t/$p/00000000000000000000.$ext"
			assert_file_empty "$MQ_SPOOL/t/$p/00000000000000000000.$ext"
		done
	done
	assert_not_exist "$MQ_SPOOL/t/3"
	run -0 ls -A "$MQ_SPOOL"
	assert_output "$(printf '%s\n' +format t)"
}

@test "creating an existing topic fails and leaves it alone" {
	run -0 mq-topic create t
	seq 1 5 | mq-produce t
	cp "$MQ_SPOOL/t/config" "$BATS_TEST_TMPDIR/config"
	run -1 --separate-stderr mq-topic create t -p 4
	assert_equal "$stderr" "mq-topic: topic 't' already exists"
	cmp "$BATS_TEST_TMPDIR/config" "$MQ_SPOOL/t/config"
	assert_not_exist "$MQ_SPOOL/t/1"
	run -0 mq-consume t
	assert_output "$(seq 1 5)"
}

@test "create --if-not-exists succeeds on an existing topic and keeps it" {
	run -0 mq-topic create t
	seq 1 10 | mq-produce t
	cp "$MQ_SPOOL/t/config" "$BATS_TEST_TMPDIR/config"
	run -0 --separate-stderr mq-topic create t -p 3 \
		-c retention.ms=1h --if-not-exists
	assert_equal "$stderr" ''
	cmp "$BATS_TEST_TMPDIR/config" "$MQ_SPOOL/t/config"
	assert_not_exist "$MQ_SPOOL/t/1"
	run -0 mq-consume t
	assert_output "$(seq 1 10)"
}

@test "create --if-not-exists creates a missing topic" {
	run -0 mq-topic create t --if-not-exists -p 2
	run -0 mq-topic list
	assert_output t
	assert_dir_exist "$MQ_SPOOL/t/1"
}

@test "delete removes the topic, its directory and its messages" {
	run -0 mq-topic create keep
	run -0 mq-topic create t -p 2
	seq 1 10 | mq-produce t
	run -0 --separate-stderr mq-topic delete t
	assert_output ''
	assert_equal "$stderr" ''
	assert_not_exist "$MQ_SPOOL/t"
	run -0 mq-topic list
	assert_output keep
	run -0 ls -A "$MQ_SPOOL"
	assert_output "$(printf '%s\n' +format keep)"
	run -1 mq-consume t
	run -0 mq-topic create t
	run -0 mq-consume t
	assert_output ''
	run -0 mq-produce t <<<again
	run -0 mq-consume -F '%o %s\n' t
	assert_output '0 again'
}

@test "delete waits for a partition lock at most --lock-timeout, then leaves the topic hidden and exits 1" {
	mq-topic create t -p 2
	seq 1 10 | mq-produce t
	exec 8<"$MQ_SPOOL/t/1/lock"
	flock -x 8
	run -1 --separate-stderr mq-topic delete --lock-timeout 100ms t
	exec 8>&-
	assert_output ''
	[[ "$stderr" == "mq-topic: topic 't' is hidden as '$MQ_SPOOL/+del."*"' but not removed: "*"'t' partition 1"* ]] ||
		fail "stderr: $stderr"
	[ "${#stderr_lines[@]}" -eq 1 ]
	assert_not_exist "$MQ_SPOOL/t"
	run -0 mq-topic list
	assert_output ''
	run -2 mq-topic describe --lock-timeout 1s t
}

@test "delete of a missing topic fails" {
	mkdir "$MQ_SPOOL"
	run -1 --separate-stderr mq-topic delete nope
	assert_output ''
	[[ $stderr == "mq-topic: topic 'nope' does not exist"* ]] ||
		fail "stderr: $stderr"
}

@test "delete --if-exists succeeds on a missing topic" {
	mkdir "$MQ_SPOOL"
	run -0 --separate-stderr mq-topic delete nope --if-exists
	assert_equal "$stderr" ''
	run -0 mq-topic create t
	run -0 mq-topic delete --if-exists t
	assert_not_exist "$MQ_SPOOL/t"
}

@test "a topic with a 249-character name can be deleted" {
	local name
	name=$(printf 'n%.0s' {1..249})
	# Build the topic under a short name, then give it the long one.
	run -0 mq-topic create short
	mv "$MQ_SPOOL/short" "$MQ_SPOOL/$name"
	run -0 mq-produce "$name" <<<hello
	run -0 mq-topic delete "$name"
	assert_not_exist "$MQ_SPOOL/$name"
	run -0 mq-topic list
	assert_output ''
}

@test "a new topic has the documented default config" {
	run -0 mq-topic create t
	run -0 mq-topic describe t
	assert_line -n 0 "$(printf 'Topic: t\tPartitionCount: 1\tConfigs: %s' "$DEFAULTS")"
	run -0 describe_json t
	run -0 jget 'd[0]["config"]'
	assert_output '{"partitions": 1, "segment.bytes": 1073741824, "segment.ms": 604800000, "retention.ms": 604800000, "retention.bytes": -1, "cleanup.policy": "delete", "compression": "none", "max.message.bytes": 1048576, "min.compaction.lag.ms": 0, "delete.retention.ms": 86400000, "message.timestamp.before.max.ms": 9223372036854775807, "message.timestamp.after.max.ms": 3600000}'
}

@test "every config key set at create shows in describe normalised" {
	run -0 mq-topic create a -c partitions=3 -c segment.bytes=1MiB \
		-c segment.ms=30m -c retention.ms=2h -c retention.bytes=5G \
		-c cleanup.policy=compact,delete -c compression=zlib \
		-c max.message.bytes=2M -c min.compaction.lag.ms=5s \
		-c delete.retention.ms=3d
	run -0 configs_of a
	assert_output 'partitions=3,segment.bytes=1048576,segment.ms=1800000,retention.ms=7200000,retention.bytes=5368709120,cleanup.policy=compact,delete,compression=zlib,max.message.bytes=2097152,min.compaction.lag.ms=5000,delete.retention.ms=259200000,message.timestamp.before.max.ms=9223372036854775807,message.timestamp.after.max.ms=3600000'
	run -0 describe_json a
	run -0 jget 'd[0]["config"]'
	assert_output '{"partitions": 3, "segment.bytes": 1048576, "segment.ms": 1800000, "retention.ms": 7200000, "retention.bytes": 5368709120, "cleanup.policy": "compact,delete", "compression": "zlib", "max.message.bytes": 2097152, "min.compaction.lag.ms": 5000, "delete.retention.ms": 259200000, "message.timestamp.before.max.ms": 9223372036854775807, "message.timestamp.after.max.ms": 3600000}'
}

@test "decimal units, -1 and plain numbers are stored as given" {
	run -0 mq-topic create b -c segment.bytes=2KB -c retention.bytes=-1 \
		-c retention.ms=-1 -c cleanup.policy=compact \
		-c max.message.bytes=4096 -c segment.ms=1w
	run -0 configs_of b
	assert_output 'partitions=1,segment.bytes=2000,segment.ms=604800000,retention.ms=-1,retention.bytes=-1,cleanup.policy=compact,compression=none,max.message.bytes=4096,min.compaction.lag.ms=0,delete.retention.ms=86400000,message.timestamp.before.max.ms=9223372036854775807,message.timestamp.after.max.ms=3600000'
	run -0 describe_json b
	run -0 jget '[d[0]["config"][k] for k in ("segment.bytes", "retention.ms", "retention.bytes", "cleanup.policy")]'
	assert_output '[2000, -1, -1, "compact"]'
}

@test "the config file on disk holds the normalised values" {
	run -0 mq-topic create t -c segment.bytes=1MiB -c retention.ms=2h
	run -0 grep -x 'segment.bytes=1048576' "$MQ_SPOOL/t/config"
	run -0 grep -x 'retention.ms=7200000' "$MQ_SPOOL/t/config"
}

@test "a bad config at create is a usage error and creates nothing" {
	local cases=(
		'foo.bar=1|foo.bar'
		'segment.bytes|segment.bytes'
		'=5|=5'
		'segment.bytes=abc|abc'
		'segment.bytes=|segment.bytes'
		'segment.bytes=10XB|10XB'
		'retention.ms=5years|5years'
		'segment.bytes=1|segment.bytes'
		'partitions=0|partitions'
		'partitions=100001|100001'
		'max.message.bytes=2G|max.message.bytes'
		'cleanup.policy=archive|archive'
		'compression=lzma|lzma'
		'segment.bytes=-1|-1'
		'segment.ms=0|segment.ms'
		'min.compaction.lag.ms=-1|min.compaction.lag.ms'
	)
	local c kv want
	for c in "${cases[@]}"; do
		kv=${c%|*} want=${c##*|}
		run -2 --separate-stderr mq-topic create t -c "$kv"
		assert_output ''
		[ "${#stderr_lines[@]}" -eq 1 ] ||
			fail "-c '$kv': expected one line on stderr: $stderr"
		[[ $stderr == "mq-topic: "*"$want"* ]] ||
			fail "-c '$kv': stderr does not name '$want': $stderr"
		assert_not_exist "$MQ_SPOOL/t"
	done
	run -0 mq-topic list
	assert_output ''
}

@test "a bad config after a good one still refuses the create" {
	run -2 mq-topic create t -c retention.ms=1h -c segment.bytes=1
	run -2 mq-topic create t -p 0
	run -2 mq-topic create t -p x
	run -0 mq-topic list
	assert_output ''
}

@test "-p sets the partition count" {
	run -0 mq-topic create t -p 5
	run -0 mq-topic describe t
	assert_line -n 0 --partial "$(printf 'Topic: t\tPartitionCount: 5\t')"
	assert_equal "${#lines[@]}" 6
	assert_dir_exist "$MQ_SPOOL/t/4"
	assert_not_exist "$MQ_SPOOL/t/5"
}

@test "-p and -c partitions that disagree are a usage error naming both, in either order" {
	run -2 --separate-stderr mq-topic create a -c partitions=2 -p 4
	assert_equal "$stderr" "mq-topic: -p 4 contradicts -c partitions=2"
	run -2 --separate-stderr mq-topic create b -p 3 -c partitions=2
	assert_equal "$stderr" "mq-topic: -p 3 contradicts -c partitions=2"
	assert_not_exist "$MQ_SPOOL/a"
	assert_not_exist "$MQ_SPOOL/b"
	mq-topic create c -p 2
	run -2 --separate-stderr mq-topic alter c -p 4 -c partitions=3
	assert_equal "$stderr" "mq-topic: -p 4 contradicts -c partitions=3"
	assert_not_exist "$MQ_SPOOL/c/2"
	# Saying the same twice is fine.
	run -0 mq-topic create d -p 4 -c partitions=4
	run -0 mq-topic alter c -c partitions=0005 -p 5
	for t in c:5 d:4; do
		run -0 mq-topic describe "${t%:*}"
		assert_line -n 0 --partial "$(printf 'Topic: %s\tPartitionCount: %s\tConfigs: partitions=%s,' "${t%:*}" "${t#*:}" "${t#*:}")"
	done
}

@test "describe prints the topic line and one line per partition" {
	run -0 mq-topic create t -p 2
	run -0 --separate-stderr mq-topic describe t
	assert_equal "$stderr" ''
	assert_equal "${#lines[@]}" 3
	assert_line -n 0 "$(printf 'Topic: t\tPartitionCount: 2\tConfigs: %s' "${DEFAULTS/partitions=1/partitions=2}")"
	assert_line -n 1 "$(printf '\tPartition: 0\tStart: 0\tEnd: 0\tSegments: 1\tBytes: 0\tTruncatedBytes: 0')"
	assert_line -n 2 "$(printf '\tPartition: 1\tStart: 0\tEnd: 0\tSegments: 1\tBytes: 0\tTruncatedBytes: 0')"
}

@test "describe shows the end offset and bytes after producing" {
	run -0 mq-topic create t
	seq 1 10 | mq-produce t
	run -0 mq-topic describe t
	assert_equal "${#lines[@]}" 2
	assert_line -n 1 --regexp "$(printf '^\tPartition: 0\tStart: 0\tEnd: 10\tSegments: 1\tBytes: [1-9][0-9]*\tTruncatedBytes: 0$')"
	local bytes
	bytes=$(stat -c %s "$(seg0 t)")
	assert_line -n 1 --partial "$(printf '\tBytes: %s\t' "$bytes")"
}

@test "describe without topics describes every topic in name order" {
	run -0 mq-topic create b -p 2
	run -0 mq-topic create a
	run -0 mq-topic describe
	assert_equal "${#lines[@]}" 5
	assert_line -n 0 --partial "$(printf 'Topic: a\tPartitionCount: 1\t')"
	assert_line -n 1 --partial "$(printf '\tPartition: 0\t')"
	assert_line -n 2 --partial "$(printf 'Topic: b\tPartitionCount: 2\t')"
	assert_line -n 3 --partial "$(printf '\tPartition: 0\t')"
	assert_line -n 4 --partial "$(printf '\tPartition: 1\t')"
}

@test "describe of several named topics keeps the order given" {
	run -0 mq-topic create a
	run -0 mq-topic create b
	run -0 mq-topic describe b a
	assert_line -n 0 --partial 'Topic: b'
	assert_line -n 2 --partial 'Topic: a'
}

@test "describe without topics on an empty spool prints nothing" {
	mkdir "$MQ_SPOOL"
	run -0 mq-topic describe
	assert_output ''
	run -0 describe_json
	run -0 jget 'd'
	assert_output '[]'
}

@test "describe of a missing topic fails" {
	run -0 mq-topic create t
	run -1 --separate-stderr mq-topic describe nope
	assert_output ''
	[[ $stderr == "mq-topic: topic 'nope' does not exist"* ]] ||
		fail "stderr: $stderr"
	run -1 mq-topic describe --json nope
}

@test "describe --json is a JSON array with config and partitions" {
	run -0 mq-topic create t -p 2 -c compression=zlib
	seq 1 10 | mq-produce -p 1 t
	run -0 describe_json t
	run -0 jget 'type(d).__name__'
	assert_output '"list"'
	run -0 jget '[len(d), d[0]["topic"], sorted(d[0].keys())]'
	assert_output '[1, "t", ["config", "partitions", "topic"]]'
	run -0 jget 'd[0]["partitions"][0]'
	assert_output '{"partition": 0, "start_offset": 0, "end_offset": 0, "segments": 1, "bytes": 0, "truncated_bytes": 0, "recoveries": 0, "last_recovery": null}'
	run -0 jget '[d[0]["partitions"][1][k] for k in ("partition", "start_offset", "end_offset", "segments", "truncated_bytes", "recoveries", "last_recovery")]'
	assert_output '[1, 0, 10, 1, 0, 0, null]'
	local bytes
	bytes=$(stat -c %s "$MQ_SPOOL/t/1/00000000000000000000.log")
	[ "$bytes" -gt 0 ]
	run -0 jget 'd[0]["partitions"][1]["bytes"]'
	assert_output "$bytes"
	run -0 jget '[d[0]["config"]["compression"], d[0]["config"]["cleanup.policy"], d[0]["config"]["partitions"]]'
	assert_output '["zlib", "delete", 2]'
}

@test "describe --json without topics lists every topic" {
	run -0 mq-topic create b
	run -0 mq-topic create a -p 3
	run -0 describe_json
	run -0 jget '[(t["topic"], len(t["partitions"])) for t in d]'
	assert_output '[["a", 3], ["b", 1]]'
}

@test "alter -p grows a topic and the new partitions take messages" {
	run -0 mq-topic create t
	seq 1 10 | mq-produce t
	run -0 --separate-stderr mq-topic alter t -p 3
	assert_output ''
	assert_equal "$stderr" ''
	for p in 1 2; do
		assert_file_exist "$MQ_SPOOL/t/$p/lock"
		assert_file_exist "$MQ_SPOOL/t/$p/00000000000000000000.log"
		assert_file_exist "$MQ_SPOOL/t/$p/00000000000000000000.idx"
		assert_file_exist "$MQ_SPOOL/t/$p/00000000000000000000.tix"
	done
	run -0 mq-topic describe t
	assert_equal "${#lines[@]}" 4
	assert_line -n 0 --partial "$(printf 'PartitionCount: 3\tConfigs: partitions=3,')"
	assert_line -n 3 --partial "$(printf '\tPartition: 2\tStart: 0\tEnd: 0\t')"
	run -0 mq-produce -p 2 t <<<late
	run -0 mq-consume -p 2 t
	assert_output late
	run -0 mq-consume -p 0 t
	assert_output "$(seq 1 10)"
	run -0 mq-topic describe t
	assert_line -n 1 --partial "$(printf '\tEnd: 10\t')"
	assert_line -n 3 --partial "$(printf '\tEnd: 1\t')"
}

@test "alter -c partitions grows a topic too" {
	run -0 mq-topic create t
	run -0 mq-topic alter t -c partitions=2
	assert_dir_exist "$MQ_SPOOL/t/1"
	run -0 describe_json t
	run -0 jget 'len(d[0]["partitions"])'
	assert_output 2
}

@test "alter cannot shrink a topic" {
	run -0 mq-topic create t -p 3
	seq 1 3 | mq-produce -p 2 t
	cp "$MQ_SPOOL/t/config" "$BATS_TEST_TMPDIR/config"
	run -2 --separate-stderr mq-topic alter t -p 1
	assert_output ''
	[[ $stderr == "mq-topic: "*"can only grow"* ]] || fail "stderr: $stderr"
	cmp "$BATS_TEST_TMPDIR/config" "$MQ_SPOOL/t/config"
	assert_dir_exist "$MQ_SPOOL/t/2"
	run -0 mq-topic describe t
	assert_line -n 0 --partial 'PartitionCount: 3'
	run -0 mq-consume -p 2 t
	assert_output "$(seq 1 3)"
}

@test "alter can raise max.message.bytes but not lower it" {
	run -0 mq-topic create t
	run -0 mq-topic alter t -c max.message.bytes=2M
	run -0 configs_of t
	assert_output --partial ',max.message.bytes=2097152,'
	run -2 --separate-stderr mq-topic alter t -c max.message.bytes=1M
	[[ $stderr == "mq-topic: "*max.message.bytes* ]] || fail "stderr: $stderr"
	run -0 configs_of t
	assert_output --partial ',max.message.bytes=2097152,'
	run -0 grep -x 'max.message.bytes=2097152' "$MQ_SPOOL/t/config"
}

@test "alter changes other keys and keeps the rest" {
	run -0 mq-topic create t -p 2 -c compression=zlib
	run -0 mq-topic alter t -c retention.ms=1h -c cleanup.policy=compact
	run -0 configs_of t
	assert_output 'partitions=2,segment.bytes=1073741824,segment.ms=604800000,retention.ms=3600000,retention.bytes=-1,cleanup.policy=compact,compression=zlib,max.message.bytes=1048576,min.compaction.lag.ms=0,delete.retention.ms=86400000,message.timestamp.before.max.ms=9223372036854775807,message.timestamp.after.max.ms=3600000'
}

@test "alter refuses a bad config and changes nothing" {
	run -0 mq-topic create t
	cp "$MQ_SPOOL/t/config" "$BATS_TEST_TMPDIR/config"
	run -2 mq-topic alter t -c retention.ms=1h -c foo.bar=1
	run -2 mq-topic alter t -c segment.bytes=10XB
	run -2 mq-topic alter t -p 0
	cmp "$BATS_TEST_TMPDIR/config" "$MQ_SPOOL/t/config"
}

@test "alter keeps existing messages readable" {
	run -0 mq-topic create t -p 2
	seq 1 5 | mq-produce -p 0 t
	seq 6 9 | mq-produce -p 1 t
	run -0 mq-topic alter t -p 4 -c retention.ms=1d -c max.message.bytes=4M
	run -0 mq-consume -p 0 t
	assert_output "$(seq 1 5)"
	run -0 mq-consume -p 1 -F '%o:%s\n' t
	assert_output "$(printf '0:6\n1:7\n2:8\n3:9')"
	run -0 mq-produce -p 0 t <<<10
	run -0 mq-consume -p 0 -o 5 -F '%o:%s\n' t
	assert_output '5:10'
}

@test "alter without -p or -c is a usage error" {
	run -0 mq-topic create t
	run -2 --separate-stderr mq-topic alter t
	[[ $stderr == "mq-topic: "*"-p or -c"* ]] || fail "stderr: $stderr"
}

@test "alter of a missing topic fails" {
	mkdir "$MQ_SPOOL"
	run -1 --separate-stderr mq-topic alter nope -p 2
	[[ $stderr == "mq-topic: topic 'nope' does not exist"* ]] ||
		fail "stderr: $stderr"
	assert_not_exist "$MQ_SPOOL/nope"
}

@test "options are refused on subcommands they do not apply to" {
	run -0 mq-topic create t
	seq 1 3 | mq-produce t
	local cmds=(
		'list --json' 'create u --json' 'delete t --json'
		'alter t -p 2 --json'
		'create u --if-exists' 'describe t --if-exists' 'list --if-exists'
		'alter t -p 2 --if-exists'
		'delete t --if-not-exists' 'describe t --if-not-exists'
		'list --if-not-exists'
		'list -p 2' 'describe t -p 2' 'delete t -p 2'
		'list -c retention.ms=1' 'describe t -c retention.ms=1'
		'delete t -c retention.ms=1'
		'list t' 'create' 'create u v' 'delete' 'delete t u' 'alter -p 2'
		'alter t u -p 2'
	)
	local c
	for c in "${cmds[@]}"; do
		# shellcheck disable=SC2086
		run -2 --separate-stderr mq-topic $c
		assert_output ''
		[ "${#stderr_lines[@]}" -eq 1 ] ||
			fail "mq-topic $c: expected one line on stderr: $stderr"
	done
	run -0 mq-topic list
	assert_output t
	run -0 configs_of t
	assert_output "$DEFAULTS"
	run -0 mq-consume t
	assert_output "$(seq 1 3)"
}

@test "an unknown subcommand is a usage error" {
	run -2 --separate-stderr mq-topic frobnicate t
	assert_output ''
	[[ $stderr == "mq-topic: "*frobnicate* ]] || fail "stderr: $stderr"
}

@test "mq-topic without a subcommand is a usage error" {
	run -2 --separate-stderr mq-topic
	assert_output ''
	[ "${#stderr_lines[@]}" -eq 1 ]
	run -2 mq-topic -d "$MQ_SPOOL"
}

@test "topic names with dots, dashes and underscores work end to end" {
	local t
	for t in my.topic-name_1 ... a..b _; do
		run -0 mq-topic create "$t"
		printf '%s-1\n%s-2\n' "$t" "$t" | mq-produce "$t"
		run -0 mq-consume "$t"
		assert_output "$(printf '%s-1\n%s-2' "$t" "$t")"
		run -0 mq-consume -F '%t %o\n' "$t"
		assert_output "$(printf '%s 0\n%s 1' "$t" "$t")"
		run -0 describe_json "$t"
		run -0 jget 'd[0]["topic"]'
		assert_output "\"$t\""
	done
	run -0 mq-topic list
	assert_output "$(printf '%s\n' ... _ a..b my.topic-name_1)"
	run -0 mq-topic delete ...
	assert_not_exist "$MQ_SPOOL/..."
	run -0 mq-topic list
	assert_output "$(printf '%s\n' _ a..b my.topic-name_1)"
}
