#!/usr/bin/env bats
# tests/progress.bats - the progress line (cli.c) of bulk mq-produce of
# files, export, import, verify, repair and mq-compact: drawn on stderr
# only when it is a terminal (script(1) gives the commands a
# pseudo-terminal), at most five times a second, cut to the terminal's
# width, and erased before anything else is printed and at the end, so
# the screen keeps no trace of it.

load helper
bats_require_minimum_version 1.5.0

per_test_setup() {
	command -v script >/dev/null || skip "needs script (util-linux)"
	T="$BATS_TEST_TMPDIR"
}

# tty CMD: runs the shell command CMD on a pseudo-terminal (its stdin,
# stdout and stderr); what the terminal received goes to $T/raw, the
# status to $status.
tty() {
	status=0
	script -qec "$1" /dev/null </dev/null >"$T/raw" || status=$?
}

# screen: what a terminal shows after receiving $T/raw: "\r" goes back to
# the line's start and later characters overwrite earlier ones; trailing
# blanks and empty last lines dropped.
screen() {
	python3 - "$T/raw" <<'EOF'
import sys
data = open(sys.argv[1], 'rb').read().decode('utf-8', 'replace')
lines, cur, col = [], [], 0
for ch in data:
    if ch == '\n':
        lines.append(''.join(cur).rstrip()); cur, col = [], 0
    elif ch == '\r':
        col = 0
    else:
        if col < len(cur):
            cur[col] = ch
        else:
            cur.append(ch)
        col += 1
lines.append(''.join(cur).rstrip())
while lines and not lines[-1]:
    lines.pop()
print('\n'.join(lines))
EOF
}

# drawn TEXT: did the terminal receive TEXT (the progress line)?
drawn() {
	grep -qaF -- "$1" "$T/raw"
}

# A topic of about 2 MB in two partitions.
two_mb() {
	mq-topic create t -p 2
	seq -f 'message %.0f of the progress test' 1 60000 >"$T/in"
	mq-produce t "$T/in"
}

@test "verify draws its progress on a terminal and leaves only its report" {
	two_mb
	run -0 mq-topic verify t
	want=$output
	tty "mq-topic verify t"
	[ "$status" -eq 0 ]
	drawn "mq-topic: verify 't' partition 0 of 2: "
	drawn " MB read"
	run screen
	assert_output "$want"
}

@test "verify's problem lines and repair's actions come out on a clean line" {
	two_mb
	# A byte of partition 0's first batch damaged: one problem.
	printf '\377' | dd of="$MQ_SPOOL/t/0/00000000000000000000.log" bs=1 \
		seek=100 conv=notrunc status=none
	run -1 mq-topic verify t
	want=$output
	tty "mq-topic verify t"
	[ "$status" -eq 1 ]
	drawn "mq-topic: verify 't' partition 0 of 2: "
	run screen
	assert_output "$want"
	tty "mq-topic repair t"
	[ "$status" -eq 0 ]
	drawn "mq-topic: repair 't' partition 0 of 2: "
	run screen
	assert_line --index 0 --partial "t/0/00000000000000000000.log: byte 0: "
	assert_line "t/0: repaired"
	assert_line "t/1: nothing to repair"
	refute_output --partial "MB read"
}

@test "export and import draw their progress on a terminal and leave the screen empty" {
	two_mb
	tty "mq-topic export t -o '$T/t.tar'"
	[ "$status" -eq 0 ]
	drawn "mq-topic: export 't': "
	run screen
	assert_output ""
	tty "mq-topic import '$T/t.tar' --as u"
	[ "$status" -eq 0 ]
	drawn "mq-topic: import '$T/t.tar': "
	run screen
	assert_output ""
	tty "mq-topic import --as v - <'$T/t.tar'"
	[ "$status" -eq 0 ]
	drawn "mq-topic: import from standard input: "
	run mq-consume u
	[ "${#lines[@]}" -eq 60000 ]
}

@test "a bulk mq-produce of a file draws its progress, and -v's report comes out clean" {
	mq-topic create t
	seq 1 300000 >"$T/in"
	size=$(stat -c %s "$T/in")
	tty "mq-produce -v t '$T/in'"
	[ "$status" -eq 0 ]
	drawn "mq-produce: '$T/in': "
	drawn " of $(awk -v s="$size" 'BEGIN { printf "%.1f", s / 1e6 }') MB ("
	run screen
	assert_line --index 0 --regexp "^mq-produce: stored 300000 messages \\("
	refute_output --partial "MB ("
}

@test "mq-produce draws progress for a regular file on standard input, none for a pipe" {
	mq-topic create t
	seq 1 300000 >"$T/in"
	tty "mq-produce t <'$T/in'"
	[ "$status" -eq 0 ]
	drawn "mq-produce: 'stdin': "
	run screen
	assert_output ""
	tty "cat '$T/in' | mq-produce t"
	[ "$status" -eq 0 ]
	[ ! -s "$T/raw" ]
	run -0 mq-consume -F '%o\n' -o 599999 t
	assert_output 599999
}

@test "mq-compact draws its progress through the same line" {
	mq-topic create t -c segment.bytes=1024 -c cleanup.policy=compact
	for v in 1 2 3; do
		for ((i = 1; i <= 40; i++)); do echo "k$i:$v"; done |
			mq-produce -K : --linger 10000 --timestamp 1000 t
	done
	tty "MQ_NOW=2000 mq-compact -v t"
	[ "$status" -eq 0 ]
	drawn "mq-compact: t/0: "
	run screen
	assert_output --regexp "^t/0: did compact 1 segment"
	[ "${#lines[@]}" -eq 1 ]
}

@test "no progress when stderr is a file or a pipe, even with stdout on a terminal" {
	two_mb
	tty "mq-topic verify t 2>'$T/err'"
	[ "$status" -eq 0 ]
	[ ! -s "$T/err" ]
	! grep -qa $'\r[^\n]' "$T/raw"
	tty "mq-topic export t -o '$T/t.tar' 2>&1 | cat"
	[ ! -s "$T/raw" ]
	tty "mq-produce t '$T/in' 2>'$T/err'"
	[ ! -s "$T/err" ]
	[ ! -s "$T/raw" ]
	# and, not on a terminal at all, stderr stays empty
	run --separate-stderr -0 mq-topic verify t
	[ -z "$stderr" ]
	run --separate-stderr -0 mq-produce t "$T/in"
	[ -z "$stderr" ]
}

@test "the line is drawn at most five times a second" {
	two_mb
	for i in 1 2 3 4 5 6 7 8 9; do cat "$T/in"; done >"$T/big"
	t0=$(date +%s%3N)
	tty "mq-produce t '$T/big'; mq-topic verify t"
	t1=$(date +%s%3N)
	[ "$status" -eq 0 ]
	# ~20 MB: twenty 1 MB reads by mq-produce, eighty 256 KB reads by
	# verify; one drawing each would be far more than the time allows.
	n=$(grep -aoE "mq-(produce|topic): " "$T/raw" | wc -l)
	[ "$n" -ge 2 ]
	[ "$n" -le $((2 * (1 + (t1 - t0) / 200))) ] ||
		fail "$n drawings in $((t1 - t0)) ms"
}

@test "the line is cut to the terminal's width, and control bytes show as '?'" {
	mq-topic create t
	cd "$T"
	f="$(printf 'a\033[31mb')-$(printf '%0100d' 0)"
	seq 1 1000 >"$f"
	tty "stty cols 40; mq-produce t '$f'"
	[ "$status" -eq 0 ]
	drawn $'\r'"mq-produce: 'a?[31mb-000"
	# every drawing fits in 39 columns, and no escape reached the terminal
	tr '\r' '\n' <"$T/raw" | awk 'length($0) > 39 { bad = 1 } END { exit bad }'
	! grep -qa $'\033' "$T/raw"
	run screen
	assert_output ""
}
