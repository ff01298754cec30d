#!/usr/bin/env bats
# tests/shared.bats - a spool shared by a Unix group (mq-topic init
# --group): set-group-ID directories 02770, files 0660 of that group,
# whatever the umask of the member who creates them; nothing for others.
# The tests switch users with setpriv(1), so they need root.

load helper
bats_require_minimum_version 1.5.0

# The other users need to reach the commands and the spools, and neither
# the build tree (a clone in /root is mode 0700) nor $BATS_TEST_TMPDIR
# (inside bats' private run directory) may be reachable to them.  So the
# commands are copied, and each test's spool made, in a directory of the
# first of these places that user 65534 can enter.
setup_file() {
	local base dir
	[ "$(id -u)" -eq 0 ] && command -v setpriv >/dev/null || return 0
	for base in "${TMPDIR:-/tmp}" /tmp /var/tmp /dev/shm; do
		dir=$(mktemp -d "$base/mq-shared.XXXXXX" 2>/dev/null) || continue
		chmod 755 "$dir"
		mkdir -m 755 "$dir/bin"
		cp "$MQ_BIN"/mq-topic "$MQ_BIN"/mq-produce "$MQ_BIN"/mq-consume \
			"$MQ_BIN"/mq-group "$dir/bin/"
		chmod 755 "$dir"/bin/*
		# (through sh, as "as" runs them: setpriv itself may exec a
		# file the user could not reach)
		if setpriv --reuid=65534 --regid=65534 --clear-groups sh -c \
			'exec "$1" --version' sh "$dir/bin/mq-topic" \
			>/dev/null 2>&1; then
			export SHARED_DIR="$dir"
			return 0
		fi
		rm -rf "$dir"
	done
}

teardown_file() {
	[ -z "${SHARED_DIR:-}" ] || rm -rf "$SHARED_DIR"
}

per_test_setup() {
	[ "$(id -u)" -eq 0 ] || skip "needs root to switch users"
	command -v setpriv >/dev/null || skip "needs setpriv (util-linux)"
	getent group users >/dev/null || skip "needs the group 'users'"
	[ -n "${SHARED_DIR:-}" ] ||
		skip "no directory that user 65534 can enter in \$TMPDIR, /tmp, /var/tmp or /dev/shm"
	D=$(mktemp -d "$SHARED_DIR/test.XXXXXX")
	chmod 755 "$D"
	S=$D/spool
	echo outside >"$D/outside"
	chmod 644 "$D/outside"
}

teardown() {
	[ -z "${D:-}" ] || rm -rf "$D"
}

# as UID [GROUPS] CMD...: run CMD as UID, umask 077, with supplementary
# GROUPS ("-" for none).
as() {
	local uid=$1 groups=$2
	shift 2
	local g=(--groups="$groups")
	[ "$groups" != - ] || g=(--clear-groups)
	setpriv --reuid="$uid" --regid="$uid" "${g[@]}" \
		env PATH="$SHARED_DIR/bin:$PATH" sh -c 'umask 077; exec "$@"' sh "$@"
}

# Every entry under the spool: its mode and group, one per line.
modes() {
	find "$S" -printf '%M %g %p\n' | sort -k3
}

@test "init --group makes the spool set-group-ID, group-writable and closed to others" {
	mq-topic -d "$S" init --group users
	[ "$(stat -c '%a %G' "$S")" = "2770 users" ]
	[ "$(stat -c '%a %G' "$S/+format")" = "660 users" ]
	[ "$(cat "$S/+format")" = "mq spool 1" ]
}

@test "members with umask 077 create files the whole group can use, and nothing for others" {
	mq-topic -d "$S" init --group users
	as 65534 100 mq-topic -d "$S" create t -p 2
	printf 'k1\ta\nk2\tb\n' | as 65534 100 mq-produce -d "$S" -K '\t' t
	as 65534 100 mq-consume -d "$S" -g g t >/dev/null
	# every directory 2770, every file 660, all of group users
	run sh -c "find '$S' -type d ! -perm 2770; find '$S' -type f ! -perm 660; find '$S' ! -group users"
	assert_output ""
	[ "$(find "$S" -type f | wc -l)" -gt 8 ]
	# another member appends, reads and commits in the same group
	echo c | as 65533 100 mq-produce -d "$S" -p 0 t
	run as 65533 100 mq-consume -d "$S" -g g -F '%s' t
	assert_output c
	run as 65533 100 mq-group -d "$S" lag g
	assert_success
}

@test "someone outside the group can neither read nor write a shared spool" {
	mq-topic -d "$S" init --group users
	as 65534 100 mq-topic -d "$S" create t
	echo secret | as 65534 100 mq-produce -d "$S" t
	run --separate-stderr -1 as 65532 - mq-consume -d "$S" t
	assert_output ""
	[[ "$stderr" == *"Permission denied" ]]
	run -1 as 65532 - mq-produce -d "$S" t <<<"intruder"
	run mq-consume -d "$S" t
	assert_output secret
}

@test "init --group on an existing private spool gives the group everything in it" {
	( umask 077; mq-topic -d "$S" create t -p 2; echo a | mq-produce -d "$S" t
	  mq-consume -d "$S" -g g t >/dev/null )
	[ "$(stat -c %a "$S/t/0/lock")" = 600 ]
	mq-topic -d "$S" init --group users
	run sh -c "find '$S' -type d ! -perm 2770; find '$S' -type f ! -perm 660; find '$S' ! -group users"
	assert_output ""
	echo b | as 65534 100 mq-produce -d "$S" t
	run as 65534 100 mq-consume -d "$S" -g g t
	assert_output b
}

@test "init refuses a symlink planted in the spool and leaves its target alone" {
	mq-topic -d "$S" create t
	rm -f "$S/t/0/00000000000000000000.log"
	ln -s "$D/outside" "$S/t/0/00000000000000000000.log"
	run --separate-stderr -1 mq-topic -d "$S" init --group users
	[[ "$stderr" == *"00000000000000000000.log': it is a symbolic link (refused)" ]]
	[ "$(stat -c '%a %G' "$D/outside")" = "644 root" ]
}

@test "init without --group only makes the spool, and may be run again" {
	mq-topic -d "$S" init
	[ "$(cat "$S/+format")" = "mq spool 1" ]
	mq-topic -d "$S" init
	run mq-topic -d "$S" list
	assert_output ""
	[ "$(stat -c '%a' "$S")" != 2770 ]
}

@test "init's bad input is a usage error: unknown group, operands, --group elsewhere" {
	run --separate-stderr -2 mq-topic -d "$S" init --group no-such-group-here
	assert_equal "$stderr" "mq-topic: no such group 'no-such-group-here'"
	[ ! -e "$S" ]
	run --separate-stderr -2 mq-topic -d "$S" init t
	assert_equal "$stderr" "mq-topic: init takes no arguments"
	run --separate-stderr -2 mq-topic -d "$S" list --group users
	assert_equal "$stderr" "mq-topic: --group applies to init only"
}
