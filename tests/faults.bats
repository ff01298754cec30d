#!/usr/bin/env bats
# tests/faults.bats - tools/faults: every write, fdatasync, directory
# fsync, rename and ftruncate of a produce (--sync=batch and at exit), a
# segment roll, a group commit and a compaction fails in turn (EIO,
# ENOSPC) or kills the command, n = 1, 2, ... until the protocol
# completes; each time the exit is clean, nothing partial is visible and
# the next run succeeds.  The harness itself must notice a lie.

load helper
bats_require_minimum_version 1.5.0

FAULTS="$BATS_TEST_DIRNAME/../tools/faults"

scenario() {
	run --separate-stderr "$FAULTS" --bin "$MQ_BIN" --scenario "$1"
	[ "$status" -eq 0 ] || { echo "$output"; echo "$stderr"; false; }
	assert_line --regexp '^faults: [0-9]+ runs, [1-9][0-9]* faults injected \([1-9][0-9]* errors, [1-9][0-9]* kills\): PASS$'
	# every operation the scenario uses was failed at least once
	local op
	for op in $2; do
		assert_line --regexp "^$1 +$op +eio +[1-9][0-9]* faults, then clean$"
		assert_line --regexp "^$1 +$op +kill +[1-9][0-9]* faults, then clean$"
	done
}

@test "produce --sync=batch survives a fault at every storage call" {
	scenario produce "write fdatasync"
}

@test "produce with the sync at exit survives a fault at every storage call" {
	scenario produce-exit "write fdatasync"
}

@test "a segment roll survives a fault at every storage call" {
	scenario roll "write fdatasync dirsync ftruncate"
}

@test "a group commit survives a fault at every storage call" {
	scenario commit "write fdatasync dirsync rename"
}

@test "a compaction survives a fault at every storage call" {
	scenario compact "write fdatasync dirsync rename"
}

@test "the harness fails when a command reports success after a fault" {
	local b=$BATS_TEST_TMPDIR/bin c
	mkdir "$b"
	for c in mq-topic mq-consume mq-group mq-compact; do
		ln -s "$MQ_BIN/$c" "$b/$c"
	done
	printf '#!/bin/sh\n"%s/mq-produce" "$@" 2>/dev/null\nexit 0\n' \
		"$MQ_BIN" >"$b/mq-produce"
	chmod +x "$b/mq-produce"
	run --separate-stderr "$FAULTS" --bin "$b" --scenario produce \
		--op write --action eio
	[ "$status" -eq 1 ]
	[[ "$stderr" == "faults: "* ]]
}

@test "the harness refuses an unknown scenario with exit 2" {
	run --separate-stderr -2 "$FAULTS" --bin "$MQ_BIN" --scenario nosuch
	[[ "$stderr" == "faults: unknown scenario 'nosuch'" ]]
}
