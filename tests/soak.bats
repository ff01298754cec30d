#!/usr/bin/env bats
# The failover soak of consumer groups (tools/soak-groups), in bounded
# form: members killed with SIGKILL and replaced every 200 ms while a
# producer writes; every message must come out, every duplicate must come
# from a killed member's uncommitted window, ownership must never overlap
# and the lag must end at 0. The harness is also shown able to fail.
load helper
bats_require_minimum_version 1.5.0

soak() {
	"$BATS_TEST_DIRNAME/../tools/soak-groups" --bin "$MQ_BIN" \
		--dir "$BATS_TEST_TMPDIR/soak" "$@"
}

@test "members killed and replaced every 200 ms lose nothing and duplicate only uncommitted messages" {
	run soak --duration 3 --messages 100000 --partitions 8 --members 4 \
		--interval 200 --seed 1
	assert_success
	assert_line --index 0 --partial "seed 1; 8 partitions, 4 members"
	assert_line --regexp '^  messages: +100000 produced, 100000 in the log$'
	assert_line --regexp '^  duplicates: +[0-9]+ \(0 not explained'
	assert_line --regexp "^  final lag: +LAG OK - group 'soak': lag 0 over 8 partitions"
	refute_line --partial "problems"
	assert_line --index $((${#lines[@]} - 1)) PASS
	# kills went on through the 3 s: one per 200 ms when not loaded,
	# fewer on a loaded machine, but more than one
	[[ $output =~ members\ started:\ +([0-9]+)\ \(([0-9]+)\ killed ]]
	[ "${BASH_REMATCH[2]}" -ge 2 ]
	[ "${BASH_REMATCH[1]}" -eq $((BASH_REMATCH[2] + 4)) ]
	[[ $output =~ kills:\ +[0-9]+\ over\ ([0-9]+)\. ]]
	[ "${BASH_REMATCH[1]}" -ge 3 ]
}

@test "more members than partitions, killed every 100 ms, still lose nothing" {
	run soak --duration 2 --messages 20000 --partitions 3 --members 5 \
		--interval 100 --seed 2
	assert_success
	assert_line --regexp '^  messages: +20000 produced, 20000 in the log$'
	assert_line --index $((${#lines[@]} - 1)) PASS
}

@test "a member that drops messages it has committed makes the soak fail" {
	# mq-consume -g whose output loses one line in 1000 on the way to
	# its file, after the offsets were committed: those messages are gone.
	local w="$BATS_TEST_TMPDIR/bin" c
	mkdir "$w"
	for c in mq-topic mq-produce mq-group; do
		ln -s "$MQ_BIN/$c" "$w/$c"
	done
	cat >"$w/mq-consume" <<EOF
#!/usr/bin/env bash
case " \$* " in
*" -g "*) exec "$MQ_BIN/mq-consume" "\$@" > >(exec awk 'NR % 1000 != 999') ;;
esac
exec "$MQ_BIN/mq-consume" "\$@"
EOF
	chmod +x "$w/mq-consume"
	run --separate-stderr "$BATS_TEST_DIRNAME/../tools/soak-groups" --bin "$w" \
		--dir "$BATS_TEST_TMPDIR/soak" --duration 1 --messages 20000 \
		--partitions 4 --members 2 --interval 200 --seed 3
	assert_failure 1
	assert_line --regexp '^    partition [0-9]+ offset [0-9]+ was never output: k[0-9]+:m[0-9]{6}$'
	assert_line --index $((${#lines[@]} - 1)) FAIL
	# the evidence stays for a look
	assert_equal "$stderr" "soak-groups: work directory kept: $BATS_TEST_TMPDIR/soak"
	assert_file_exist "$BATS_TEST_TMPDIR/soak/problems"
}

@test "soak-groups refuses a bad number with exit 2" {
	run --separate-stderr "$BATS_TEST_DIRNAME/../tools/soak-groups" \
		--bin "$MQ_BIN" --members 0
	assert_failure 2
	assert_equal "${stderr_lines[0]}" "soak-groups: invalid number for --members: '0'"
	assert_output ""
}
