#!/usr/bin/env bats
# tests/docs.bats - the man pages in doc/ against the commands they
# describe: SYNOPSIS against --help, every option, config key, describe
# field, -F token, --exec variable and dead-letter header documented, the
# spool page's example bytes against what mq-produce really writes,
# mq-compact's failpoints, file names and example output, and clean
# rendering by groff.

load helper
bats_require_minimum_version 1.5.0

DOC="$BATS_TEST_DIRNAME/../doc"
COMMANDS="mq-topic mq-produce mq-consume mq-group mq-compact"
PAGES="mq.7 mq-spool.5 mq-topic.1 mq-produce.1 mq-consume.1 mq-group.1 mq-compact.1"

# man_text PAGE [SECTION [tags]]: the text of a man page source (or of one
# of its .SH sections; with "tags", only the tag lines of its .TP
# paragraphs), with the roff taken out: comments and layout requests
# dropped, font macros (.B, .BR, ...) replaced by their joined arguments,
# and inline escapes (\fB, \-, \e, \(aq, ...) resolved.  Works on the
# source, so it needs neither groff nor man.
man_text() {
	awk -v want="${2-}" -v tags="${3-}" '
	function unescape(s) {
		gsub(/\\e/, "\001", s)
		gsub(/\\f\[[^\]]*\]/, "", s)
		gsub(/\\f\([A-Za-z0-9][A-Za-z0-9]/, "", s)
		gsub(/\\f[A-Za-z0-9]/, "", s)
		gsub(/\\-/, "-", s)
		gsub(/\\\(aq/, "\047", s)
		gsub(/\\\(ga/, "`", s)
		gsub(/\\\(dq/, "\"", s)
		gsub(/\\\(em/, "--", s)
		gsub(/\\\(en/, "-", s)
		gsub(/\\\(bu/, "*", s)
		gsub(/\\\(ha/, "^", s)
		gsub(/\\\([A-Za-z0-9][A-Za-z0-9]/, "", s)
		gsub(/\\[&|^]/, "", s)
		gsub(/\001/, "\\\\", s)
		return s
	}
	# The arguments of a macro line, quotes removed, joined by sep.
	function args(line, sep,    out, cur, c, i, n, inq) {
		out = ""; cur = ""; n = 0; inq = 0
		for (i = 1; i <= length(line); i++) {
			c = substr(line, i, 1)
			if (c == "\"") {
				if (inq && substr(line, i + 1, 1) == "\"") {
					cur = cur "\""
					i++
				} else {
					inq = !inq
				}
				continue
			}
			if (c == " " && !inq) {
				if (cur != "") {
					out = out (n++ ? sep : "") cur
					cur = ""
				}
				continue
			}
			cur = cur c
		}
		if (cur != "")
			out = out (n++ ? sep : "") cur
		return out
	}
	# Prints a text line (with "tags", only the one after a .TP).
	function out(line) {
		if (tags == "" || tp)
			print unescape(line)
		tp = 0
	}
	/^[.\047]\\"/ { next }
	/^[.\047]/ {
		macro = substr($1, 2)
		rest = substr($0, length($1) + 2)
		if (macro == "SH") {
			insec = (want == "" || args(rest, " ") == want)
			if (want != "")
				next
		}
		if (!insec)
			next
		if (macro ~ /^(BR|BI|IB|IR|RB|RI)$/)
			out(args(rest, ""))
		else if (macro ~ /^(B|I|SM|SB|SH|SS)$/)
			out(args(rest, " "))
		else if (macro == "TP")
			tp = 1
		next
	}
	insec { out($0) }
	BEGIN { insec = (want == "") }
	' "$DOC/$1"
}

# squeeze: trims lines, squeezes blanks, drops empty lines.
squeeze() {
	sed -e 's/[[:space:]][[:space:]]*/ /g' -e 's/^ //' -e 's/ $//' -e '/^$/d'
}

# usage_lines CMD: the "Usage:" block of CMD --help, without "Usage:".
usage_lines() {
	"$1" --help | awk '/^Usage:/ { on = 1; sub(/^Usage:/, "") }
		on && /^$/ { exit } on' | squeeze
}

check_synopsis() {
	local page=$1.1
	run --separate-stderr usage_lines "$1"
	assert_success
	[ -n "$output" ]
	local usage=$output
	run man_text "$page" SYNOPSIS
	assert_success
	run squeeze <<<"$output"
	assert_equal "$output" "$usage"
}

check_help() {
	run --separate-stderr "$1" --help
	assert_success
	assert_equal "$stderr" ""
	assert_line --index 0 --regexp "^Usage: $1 "
}

# Every -x and --long option of CMD --help is the tag of a paragraph in
# the man page's OPTIONS section.
check_options() {
	local cmd=$1 opts opt text missing=""
	text=$(man_text "$cmd.1" OPTIONS tags)
	[ -n "$text" ]
	opts=$("$cmd" --help | grep -oE -e '--[a-z][a-z0-9-]*' | sort -u)
	opts+=" "$("$cmd" --help | sed -n 's/^  *\(-[A-Za-z0-9]\)[, ].*/\1/p')
	[ "$(wc -w <<<"$opts")" -ge 4 ]
	for opt in $opts; do
		grep -qE -e "(^|[ ,])$opt([ ,]|\$)" <<<"$text" ||
			missing+=" $opt"
	done
	assert_equal "${missing# }" ""
}

@test "mq-topic --help prints the usage on stdout with status 0 and nothing on stderr" {
	check_help mq-topic
}

@test "mq-produce --help prints the usage on stdout with status 0 and nothing on stderr" {
	check_help mq-produce
}

@test "mq-consume --help prints the usage on stdout with status 0 and nothing on stderr" {
	check_help mq-consume
}

@test "mq-group --help prints the usage on stdout with status 0 and nothing on stderr" {
	check_help mq-group
}

@test "mq-compact --help prints the usage on stdout with status 0 and nothing on stderr" {
	check_help mq-compact
}

@test "the SYNOPSIS of mq-topic(1) is the Usage block of mq-topic --help, line for line" {
	check_synopsis mq-topic
}

@test "the SYNOPSIS of mq-produce(1) is the Usage block of mq-produce --help, line for line" {
	check_synopsis mq-produce
}

@test "the SYNOPSIS of mq-consume(1) is the Usage block of mq-consume --help, line for line" {
	check_synopsis mq-consume
}

@test "the SYNOPSIS of mq-group(1) is the Usage block of mq-group --help, line for line" {
	check_synopsis mq-group
}

@test "the SYNOPSIS of mq-compact(1) is the Usage block of mq-compact --help, line for line" {
	check_synopsis mq-compact
}

@test "every option that mq-topic --help lists is documented under OPTIONS in mq-topic(1)" {
	check_options mq-topic
}

@test "every option that mq-produce --help lists is documented under OPTIONS in mq-produce(1)" {
	check_options mq-produce
}

@test "every option that mq-consume --help lists is documented under OPTIONS in mq-consume(1)" {
	check_options mq-consume
}

@test "every option that mq-group --help lists is documented under OPTIONS in mq-group(1)" {
	check_options mq-group
}

@test "every option that mq-compact --help lists is documented under OPTIONS in mq-compact(1)" {
	check_options mq-compact
}

@test "each command page has the sections NAME to SEE ALSO and EXIT STATUS lists 0, 1 and 2" {
	local cmd sec missing=""
	for cmd in $COMMANDS; do
		for sec in NAME SYNOPSIS DESCRIPTION OPTIONS "EXIT STATUS" \
			ENVIRONMENT FILES EXAMPLES "SEE ALSO"; do
			[ -n "$(man_text "$cmd.1" "$sec" | squeeze)" ] ||
				missing+=" $cmd.1:$sec"
		done
		for sec in MQ_SPOOL HOME; do
			man_text "$cmd.1" ENVIRONMENT | grep -qx "$sec" ||
				missing+=" $cmd.1:ENVIRONMENT:$sec"
		done
	done
	for cmd in mq.7 $(printf '%s.1 ' $COMMANDS); do
		for sec in 0 1 2; do
			man_text "$cmd" "EXIT STATUS" | grep -qx "$sec" ||
				missing+=" $cmd:EXIT-STATUS:$sec"
		done
	done
	assert_equal "${missing# }" ""
}

@test "mq-group(1) EXIT STATUS gives lag the monitoring-plugin statuses 0 to 3" {
	local text word missing=""
	text=$(man_text mq-group.1 "EXIT STATUS")
	grep -qx 3 <<<"$text" || missing+=" 3"
	for word in OK WARNING CRITICAL UNKNOWN; do
		grep -q "^$word: " <<<"$text" || missing+=" $word"
	done
	assert_equal "${missing# }" ""
	# ...which is what lag does: an unknown group is UNKNOWN (3).
	run -3 mq-group lag nosuch
	assert_output --regexp "^LAG UNKNOWN - "
}

@test "mq-group(1) shows what a usage error under lag prints on stdout and on stderr" {
	local text cmd="mq-group lag billing --warn 10 --crit 5"
	text=$(man_text mq-group.1 DESCRIPTION)
	run --separate-stderr $cmd
	assert_failure 3
	# The page's example: the command, then what it prints, once with
	# stdout and once with stderr only.
	assert_equal "$(grep -A1 -xF -e "\$ $cmd" <<<"$text" | tail -n 1)" \
		"$output"
	assert_equal "$(grep -A1 -xF -e "\$ $cmd 2>&1 >/dev/null" <<<"$text" |
		tail -n 1)" "$stderr"
	[ -n "$output" ] && [ -n "$stderr" ]
	# And no sentence says otherwise.
	! grep -qi "nothing on standard output" <<<"$text"
}

@test "mq-topic(1) documents every config key with the default that describe shows" {
	mq-topic create t
	run mq-topic describe t
	assert_success
	local configs kv key val line text missing="" n=0
	configs=$(sed -n 's/.*Configs: //p' <<<"$output")
	text=$(man_text mq-topic.1 "TOPIC CONFIGURATION")
	for kv in ${configs//,/ }; do
		key=${kv%%=*}
		val=${kv#*=}
		n=$((n + 1))
		line=$(grep -F -e "$key (default " <<<"$text" | head -n 1)
		[[ $line == "$key (default $val)"* ||
		   $line == "$key (default $val "* ]] || missing+=" $kv"
	done
	assert_equal "${missing# }" ""
	assert_equal "$n" 12
	# ...and no key that the command does not know.
	run grep -cE '^[a-z.]+ \(default ' <<<"$text"
	assert_output "$n"
}

@test "mq-topic(1) names every field of describe's text and JSON output" {
	mq-topic create -p 2 t
	printf 'a\nb\n' | mq-produce t
	local text missing="" f
	text=$(man_text mq-topic.1)
	run mq-topic describe t
	assert_success
	for f in $(grep -oE '[A-Za-z]+:' <<<"$output" | sort -u); do
		grep -qF -e "$f" <<<"$text" || missing+=" $f"
	done
	run mq-topic describe --json t
	assert_success
	for f in $(grep -oE '"[a-z_.]+":' <<<"$output" | tr -d '":' | sort -u); do
		grep -qF -e "\"$f\"" <<<"$text" || missing+=" $f"
	done
	assert_equal "${missing# }" ""
}

@test "mq-group(1) DESCRIPTION names every column and JSON field that describe and reset print" {
	mq-topic create -p 2 t
	printf 'a\nb\n' | mq-produce t
	mq-consume -g g -c 1 t >/dev/null
	local text tags missing="" f
	text=$(man_text mq-group.1 DESCRIPTION)
	tags=$(man_text mq-group.1 DESCRIPTION tags)
	# Each column of describe is the tag of a paragraph that explains it.
	run mq-group describe g
	assert_success
	for f in $(head -n 1 <<<"$output"); do
		grep -qE -e "(^|, )$f(,|\$)" <<<"$tags" || missing+=" $f"
	done
	run mq-group reset g t --to-earliest --dry-run
	assert_success
	assert_line --index 0 --regexp ' NEW-OFFSET \(dry run\)$'
	for f in $(head -n 1 <<<"$output"); do
		grep -qF -e "$f" <<<"$text" || missing+=" $f"
	done
	run mq-group describe --json g
	assert_success
	for f in $(grep -oE '"[a-z_]+":' <<<"$output" | tr -d '":' | sort -u); do
		grep -qF -e "\"$f\"" <<<"$text" || missing+=" $f"
	done
	assert_equal "${missing# }" ""
}

@test "mq-consume(1) EXEC names every variable that --exec sets and every dead-letter header" {
	mq-topic create t
	mq-topic create dlq
	printf 'k:v\n' | mq-produce -K: t
	local text missing="" f
	text=$(man_text mq-consume.1 EXEC tags)
	# The variables the command sees that the caller did not set.
	run --separate-stderr mq-consume -g g --batch 2 \
		--exec 'env | sed -n "s/^\(MQ_[A-Z_]*\)=.*/\1/p"' t
	assert_success
	local vars
	vars=$(grep -vxF -e "$(env | sed -n 's/^\(MQ_[A-Z_]*\)=.*/\1/p')" \
		<<<"$output")
	[ "$(wc -w <<<"$vars")" -ge 9 ]
	for f in $vars; do
		grep -qE -e "(^|, )$f(,|\$)" <<<"$text" || missing+=" $f"
	done
	run --separate-stderr mq-consume -g g2 --exec 'exit 3' --dlq dlq t
	assert_success
	run mq-consume -F '%h\n' dlq
	assert_success
	[ -n "$output" ]
	for f in $(tr ',' '\n' <<<"$output" | cut -d= -f1); do
		grep -qE -e "(^|, )$f(,|\$)" <<<"$text" || missing+=" $f"
	done
	assert_equal "${missing# }" ""
}

@test "mq-consume(1) FORMAT lists every -F token that mq-consume --help names" {
	local text tok tokens missing=""
	text=$(man_text mq-consume.1 FORMAT)
	tokens=$(mq-consume --help | sed -n '/-F, --format/,/escapes/p' |
		grep -oE '%[A-Za-z%]' | sort -u)
	[ "$(wc -w <<<"$tokens")" -eq 10 ]
	for tok in $tokens; do
		grep -qx -e "$tok" <<<"$text" || missing+=" $tok"
	done
	assert_equal "${missing# }" ""
}

@test "mq-compact(1) ENVIRONMENT lists every failpoint in the code, and no other" {
	local src="$BATS_TEST_DIRNAME/../src" names tags name missing="" stale=""
	names=$(grep -ho 'mq_failpoint("[^"]*")' "$src/compact.c" \
		"$src/mq-compact.c" | sed 's/^mq_failpoint("\(.*\)")$/\1/' |
		sort -u)
	[ "$(wc -w <<<"$names")" -ge 9 ]
	tags=$(man_text mq-compact.1 ENVIRONMENT tags)
	for name in $names; do
		grep -qxF -e "$name" <<<"$tags" || missing+=" $name"
	done
	# The points are the tags that look like NAME.NAME.
	for name in $(grep -E '^[a-z]+(\.[a-z]+)+$' <<<"$tags"); do
		grep -qxF -e "$name" <<<"$names" || stale+=" $name"
	done
	assert_equal "missing:${missing} stale:${stale}" "missing: stale:"
}

@test "the files a killed mq-compact leaves in a partition have the names mq-spool(5) gives them" {
	mq-topic create t -c cleanup.policy=compact -c segment.bytes=512
	local r f name logs documented bad="" n=0
	for r in 1 2 3 4 5 6; do
		printf 'a:%s-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\nb:%s\n' \
			"$r" "$r" | mq-produce -K: t
	done
	logs=("$MQ_SPOOL"/t/0/*.log)
	[ "${#logs[@]}" -ge 2 ]
	# Killed between the swaps: .idx.swap, .tix.swap and .log.cleaned.
	run -137 env MQ_FAILPOINT=compact.swap.tix mq-compact t
	documented=$(man_text mq-spool.5 "TEMPORARY NAMES" tags |
		sed 's/, /\n/g' | grep '^BASE\.')
	[ "$(wc -l <<<"$documented")" -ge 9 ]
	for f in "$MQ_SPOOL"/t/0/*; do
		f=${f##*/}
		[[ $f =~ ^[0-9]{20}\.(log|idx|tix)$|^lock$|^clean$ ]] && continue
		n=$((n + 1))
		name=$(sed -E 's/^[0-9]{20}\./BASE./' <<<"$f")
		grep -qxF -e "$name" <<<"$documented" || bad+=" $f"
	done
	assert_equal "$n" 3
	assert_equal "${bad# }" ""
}

@test "the compaction example of mq-compact(1) prints the lines the page shows" {
	local expect
	expect=$(man_text mq-compact.1 EXAMPLES | grep '^users/0: ')
	[ "$(wc -l <<<"$expect")" -eq 2 ]
	mq-topic create users -c cleanup.policy=compact -c segment.ms=1d
	printf 'alice:plan=free\nbob:plan=free\ncarol:plan=free\ndave:plan=free\n' |
		mq-produce -K: --timestamp 2026-11-20T09:00Z users
	printf 'alice:plan=pro\nbob:plan=pro\ncarol:\n' |
		mq-produce -K: -Z --timestamp 2026-11-21T09:00Z users
	printf 'dave:plan=pro\nerin:plan=free\n' |
		mq-produce -K: --timestamp 2026-11-22T09:00Z users
	echo bob:plan=team | mq-produce -K: --timestamp 2026-11-23T20:00Z users
	export MQ_NOW=2026-11-23T23:37Z
	run --separate-stderr mq-compact --dry-run
	assert_success
	assert_output "$(sed -n 1p <<<"$expect")"
	run --separate-stderr mq-compact -v
	assert_success
	assert_output "$(sed -n 2p <<<"$expect")"
	run mq-consume -F '%o %k %s\n' users
	assert_output "$(printf '%s\n' '4 alice plan=pro' '5 bob plan=pro' \
		'7 dave plan=pro' '8 erin plan=free' '9 bob plan=team')"
}

@test "the batch decoded in mq-spool(5) EXAMPLES is byte for byte what mq-produce writes" {
	mq-topic create orders -p 2
	printf 'alice:1\nbob:2\ncarol:3\n' |
		mq-produce -K: --timestamp 2026-11-23T09:00Z orders
	local seg="$MQ_SPOOL/orders/1/00000000000000000000.log"
	assert_file_exist "$seg"
	# The decoded table: "OFFSET  HEX HEX ...  field description".
	run awk '
		/^ *[0-9]+  [0-9a-f][0-9a-f]( |$)/ {
			if ($1 != n) { print "offset " $1 " should be " n; exit 1 }
			for (i = 2; i <= NF && $i ~ /^[0-9a-f][0-9a-f]$/; i++) {
				printf "%s ", $i
				n++
			}
		}
		END { print "" }' <<<"$(man_text mq-spool.5 EXAMPLES)"
	assert_success
	local documented=$output
	[ "$(wc -w <<<"$documented")" -eq 65 ]
	run od -An -v -tx1 "$seg"
	assert_success
	assert_equal "$(squeeze <<<"$output" | tr '\n' ' ')" "$documented"
}

@test "each man page renders without groff warnings" {
	command -v groff >/dev/null || skip "groff is not installed"
	local page out bad=""
	for page in $PAGES; do
		out=$(groff -man -Tutf8 -ww -z "$DOC/$page" 2>&1)
		[ -z "$out" ] || bad+="$page: $out"$'\n'
	done
	assert_equal "$bad" ""
}

@test "each man page has a NAME line that man-db can index" {
	command -v lexgrog >/dev/null || skip "lexgrog (man-db) is not installed"
	local page
	for page in $PAGES; do
		run lexgrog "$DOC/$page"
		assert_success
		assert_output --regexp "^[^:]*: \"${page%.*} - .+\"\$"
	done
}
