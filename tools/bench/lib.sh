# tools/bench/lib.sh - helpers shared by the benchmark parts (bash, sourced).
#
# A part (tools/bench/core, ...) is a bash script that does:
#
#   . "$(dirname "$0")/lib.sh"
#   bench_begin core "$@"          # options, commands, work dir, header
#   data=$(bench_data "$BENCH_MESSAGES" 100)
#   bench_sample NAME cmd args...  # one timed run: wall time + peak RSS
#   bench_median NAME / bench_rss NAME
#   bench_row ... / bench_note ... / bench_target ...
#   bench_end                      # prints the table (or leaves it to run)
#
# Run alone, a part prints the machine header and its own table. Run by
# tools/bench/run (BENCH_UNDER_RUN=1), it shares run's work directory, data
# files and row files, and run prints one table for all the parts.
#
# Rows are kept as tab-separated lines in $BENCH_ROWS:
#   part  test  mq-time  msgs/s  MB/s  baseline  baseline-time  ratio  rss  target
# Times are in seconds, RSS in KiB, as plain numbers ("" for none); they
# are formatted only when printed. MB means 10^6 bytes, MiB 2^20.
#
# Timing is wall clock from $EPOCHREALTIME (microseconds). Each timed
# command runs under /usr/bin/time -f %M when it exists, baselines included,
# so the wrapper's fork/exec cost (about a millisecond) falls on both sides.

export LC_ALL=C

BENCH_HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
BENCH_TOP=$(cd "$BENCH_HERE/../.." && pwd)
BENCH_PROG=${BENCH_PROG:-$(basename "$0")}

bench_die() {  # bench_die MESSAGE: runtime error, exit 1
	echo "$BENCH_PROG: $*" >&2
	exit 1
}

bench_usage_error() {  # bench_usage_error MESSAGE: exit 2
	echo "$BENCH_PROG: $*" >&2
	echo "Try '$BENCH_PROG --help' for more information." >&2
	exit 2
}

bench_progress() {  # bench_progress MESSAGE: a progress line on stderr
	[ -n "${BENCH_QUIET:-}" ] || echo "$BENCH_PROG: $*" >&2
}

# The options every part and run understand.
BENCH_COMMON_HELP="\
  -n, --messages N   messages per data set (default 1000000)
  -r, --runs R       runs per measurement; the median is reported (default 5)
      --dir DIR      where temporary spools and data go (default \${TMPDIR:-/tmp})
      --bin DIR      where mq-produce, mq-consume, mq-topic are (default
                     \$MQ_BIN, else build/src or ../build/src of the repo,
                     else PATH)
      --keep         keep the temporary directory and say where it is
      --markdown     also print the table in Markdown
  -q, --quiet        no progress lines on stderr
  -h, --help         show this help and exit"

bench_posint() {  # bench_posint OPTION VALUE: VALUE must be an integer >= 1
	if ! [[ $2 =~ ^[0-9]{1,12}$ ]] || [ "$((10#$2))" -lt 1 ]; then
		bench_usage_error "invalid number for $1: '$2'"
	fi
}

# bench_parse_options "$@": sets BENCH_MESSAGES, BENCH_RUNS, BENCH_DIR,
# BENCH_BIN, BENCH_KEEP, BENCH_MARKDOWN, BENCH_QUIET. A part with options of
# its own defines bench_part_option (called with the remaining arguments;
# it sets BENCH_SHIFT to how many it used, 0 if the option is not its own)
# and BENCH_PART_HELP (lines for --help).
bench_parse_options() {
	BENCH_MESSAGES=1000000 BENCH_RUNS=5 BENCH_DIR=${TMPDIR:-/tmp}
	BENCH_BIN='' BENCH_KEEP='' BENCH_MARKDOWN='' BENCH_QUIET=''
	while [ $# -gt 0 ]; do
		case $1 in
		--messages=*|--runs=*|--dir=*|--bin=*)
			local o=${1%%=*} v=${1#*=}
			shift
			set -- "$o" "$v" "$@"
			continue ;;
		esac
		case $1 in
		-n|--messages|-r|--runs|--dir|--bin)
			[ $# -ge 2 ] || bench_usage_error "option '$1' needs a value" ;;
		esac
		case $1 in
		-n|--messages) bench_posint "$1" "$2"; BENCH_MESSAGES=$((10#$2)); shift 2 ;;
		-r|--runs) bench_posint "$1" "$2"; BENCH_RUNS=$((10#$2)); shift 2 ;;
		--dir) BENCH_DIR=$2; shift 2 ;;
		--bin) BENCH_BIN=$2; shift 2 ;;
		--keep) BENCH_KEEP=1; shift ;;
		--markdown) BENCH_MARKDOWN=1; shift ;;
		-q|--quiet) BENCH_QUIET=1; shift ;;
		-h|--help) bench_help; exit 0 ;;
		*)
			BENCH_SHIFT=0
			if declare -F bench_part_option >/dev/null; then
				bench_part_option "$@"
			fi
			[ "$BENCH_SHIFT" -gt 0 ] ||
				bench_usage_error "unknown argument '$1'"
			shift "$BENCH_SHIFT" ;;
		esac
	done
	[ -d "$BENCH_DIR" ] || bench_usage_error "no such directory: '$BENCH_DIR'"
	[ -w "$BENCH_DIR" ] || bench_die "cannot write in '$BENCH_DIR'"
	BENCH_DIR=$(cd "$BENCH_DIR" && pwd)
	export BENCH_QUIET
}

bench_help() {
	echo "Usage: $BENCH_PROG [OPTION]..."
	[ -z "${BENCH_DESCRIPTION:-}" ] || printf '%s\n' "$BENCH_DESCRIPTION"
	echo
	printf '%s\n' "$BENCH_COMMON_HELP"
	[ -z "${BENCH_PART_HELP:-}" ] || printf '%s\n' "$BENCH_PART_HELP"
}

# bench_find_bin: sets BENCH_BIN to a directory holding the commands.
bench_find_bin() {
	local d tried=
	local -a cands
	if [ -n "$BENCH_BIN" ]; then
		cands=("$BENCH_BIN")
	elif [ -n "${MQ_BIN:-}" ]; then
		cands=("$MQ_BIN")
	else
		cands=("$BENCH_TOP/build/src" "$BENCH_TOP/../build/src")
		d=$(command -v mq-produce 2>/dev/null) && cands+=("$(dirname "$d")")
	fi
	for d in "${cands[@]}"; do
		if [ -x "$d/mq-produce" ] && [ -x "$d/mq-consume" ] &&
		   [ -x "$d/mq-topic" ]; then
			BENCH_BIN=$(cd "$d" && pwd)
			export BENCH_BIN
			return 0
		fi
		tried="$tried '$d'"
	done
	[ -n "$tried" ] || tried=" build/src, ../build/src, PATH"
	bench_die "mq-produce, mq-consume and mq-topic are not built (looked in$tried); run 'sh tools/setup demo' or build with ./configure && make, or pass --bin DIR"
}

# bench_workdir: sets BENCH_WORK (shared with run when under it) and, when
# this process owns it, removes it on exit unless --keep.
bench_workdir() {
	if [ -n "${BENCH_UNDER_RUN:-}" ] && [ -d "${BENCH_WORK:-}" ]; then
		return 0
	fi
	BENCH_WORK=$(mktemp -d "$BENCH_DIR/mq-bench.XXXXXX") ||
		bench_die "cannot create a temporary directory in '$BENCH_DIR'"
	export BENCH_WORK
	trap bench_cleanup EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
}

bench_cleanup() {
	if [ -n "$BENCH_KEEP" ]; then
		echo "$BENCH_PROG: kept $BENCH_WORK" >&2
	else
		rm -rf -- "$BENCH_WORK"
	fi
}

# bench_need_space BYTES: fail early when the work directory's file system
# cannot hold BYTES more.
bench_need_space() {
	local avail
	avail=$(df -Pk -- "$BENCH_WORK" 2>/dev/null | awk 'NR == 2 { print $4 }')
	[ -n "$avail" ] || return 0
	[ $((avail * 1024)) -ge "$1" ] ||
		bench_die "need about $(($1 / 1048576)) MiB free in '$BENCH_DIR', have $((avail / 1024)) MiB (use --dir or --messages)"
}

# bench_data N SIZE [SEED]: prints the path of a file of N messages of SIZE
# bytes each (SIZE-1 random printable characters, '!'..'~', and a newline),
# generating it once per work directory. The same N, SIZE and SEED give the
# same bytes on every machine (Python's Mersenne Twister, seeded).
bench_data() {
	local n=$1 size=$2 seed=${3:-42}
	local f="$BENCH_WORK/data-$n-$size-$seed"
	if [ ! -s "$f" ]; then
		command -v python3 >/dev/null ||
			bench_die "python3 is needed to generate the test data"
		bench_need_space $((n * size + 1048576))
		bench_progress "generating $n messages of $size bytes"
		python3 - "$n" "$size" "$seed" "$f.tmp" <<'EOF' ||
import random, sys
n, size, seed, out = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
rng = random.Random(seed)
table = bytes(33 + i % 94 for i in range(256))  # '!'..'~'
w = size - 1
with open(out, 'wb') as f:
    left = n
    while left:
        k = min(10000, left)
        b = rng.randbytes(k * w).translate(table)
        f.write(b'\n'.join(b[i:i + w] for i in range(0, k * w, w)) + b'\n')
        left -= k
EOF
			bench_die "cannot generate test data in '$f'"
		mv -f -- "$f.tmp" "$f"
	fi
	cat -- "$f" >/dev/null  # warm the page cache: the input is read from memory
	printf '%s\n' "$f"
}

# bench_settle BYTES: make a timed write start from the same state each
# time: write BYTES of zeros to a scratch file and delete it, then sync
# (all untimed). On virtual machines with free page reporting (virtio
# balloon), memory that stayed free for a few seconds goes back to the host
# and the next writer to fill the page cache with it pays for it again
# (here about 1.5 ms per MiB): without this, whichever command happens to
# come first after a pause looks several times slower.
bench_settle() {
	local f="$BENCH_WORK/settle"
	dd if=/dev/zero of="$f" bs=1M count=$((($1 + 1048575) / 1048576)) \
		2>/dev/null || bench_die "cannot write '$f'"
	rm -f -- "$f"
	sync
}

bench_now_us() {  # microseconds since the epoch
	if [ -n "${EPOCHREALTIME:-}" ]; then
		echo "${EPOCHREALTIME//[!0-9]/}"
	else
		echo $(($(date +%s%N) / 1000))
	fi
}

if [ -x /usr/bin/time ]; then
	BENCH_TIME=/usr/bin/time
else
	BENCH_TIME=
fi

# bench_sample NAME CMD [ARG]...: runs CMD once with stdout to /dev/null and
# stderr kept aside; appends its wall time (s) to NAME.t and its peak RSS
# (KiB) to NAME.rss in the work directory. Fails the part if CMD fails.
bench_sample() {
	local name=$1; shift
	local s="$BENCH_WORK/samples" t0 t1 rc=0 rss
	mkdir -p "$s"
	if [ -n "$BENCH_TIME" ]; then
		t0=$(bench_now_us)
		"$BENCH_TIME" -f %M -o "$s/$name.last" "$@" \
			>/dev/null 2>"$s/$name.err" || rc=$?
		t1=$(bench_now_us)
		rss=$(tail -n 1 "$s/$name.last")
		[[ $rss =~ ^[0-9]+$ ]] && echo "$rss" >>"$s/$name.rss"
	else
		t0=$(bench_now_us)
		"$@" >/dev/null 2>"$s/$name.err" || rc=$?
		t1=$(bench_now_us)
	fi
	[ "$rc" -eq 0 ] ||
		bench_die "$name: '$*' failed (exit $rc): $(head -c 300 "$s/$name.err")"
	awk -v d=$((t1 - t0)) 'BEGIN { printf "%.6f\n", d / 1e6 }' >>"$s/$name.t"
}

bench_median() {  # bench_median NAME: median wall time of NAME, in seconds
	local f="$BENCH_WORK/samples/$1.t"
	[ -s "$f" ] || return 0
	sort -g "$f" | awk '{ v[NR] = $1 } END {
		if (NR % 2) print v[(NR + 1) / 2]
		else printf "%.6f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

bench_rss() {  # bench_rss NAME: largest peak RSS of NAME's runs, in KiB, or ""
	local f="$BENCH_WORK/samples/$1.rss"
	[ -s "$f" ] || return 0
	sort -n "$f" | tail -n 1
}

bench_ratio() {  # bench_ratio A B: A / B
	[ -n "$1" ] && [ -n "$2" ] || return 0
	awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.6f\n", a / b }'
}

bench_rate() {  # bench_rate COUNT SECONDS: COUNT per second ("" without both)
	[ -n "$1" ] && [ -n "$2" ] || return 0
	awk -v c="$1" -v t="$2" 'BEGIN { if (t > 0) printf "%.6f\n", c / t }'
}

# bench_le VALUE LIMIT: succeeds when VALUE <= LIMIT (both numbers).
bench_le() {
	awk -v v="$1" -v l="$2" 'BEGIN { exit !(v != "" && v + 0 <= l + 0) }'
}

bench_metword() { if "$@"; then echo met; else echo "NOT met"; fi; }

# bench_row TEST MQ-TIME COUNT BYTES BASELINE BASELINE-TIME RSS TARGET:
# one table row. COUNT messages and BYTES bytes give msgs/s and MB/s;
# the ratio is MQ-TIME / BASELINE-TIME.
bench_row() {
	local test=$1 t=$2 count=$3 bytes=$4 base=$5 bt=$6 rss=$7 target=$8
	printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$BENCH_PART" "$test" \
		"$t" "$(bench_rate "$count" "$t")" \
		"$(bench_rate "$bytes" "$t" | awk '$1 != "" { printf "%.6f", $1 / 1e6 }')" \
		"$base" "$bt" "$(bench_ratio "$t" "$bt")" "$rss" "$target" \
		>>"$BENCH_ROWS"
}

bench_note() { printf '%s\n' "$*" >>"$BENCH_NOTES"; }

# bench_target DESCRIPTION met|"NOT met"|n/a [DETAIL]
bench_target() {
	printf '%s: %s%s\n' "$1" "$2" "${3:+ ($3)}" >>"$BENCH_TARGETS"
}

# bench_rss_target RSS-KIB: the word for "peak RSS under 64 MiB".
BENCH_RSS_LIMIT_MIB=64
bench_rss_word() {
	if [ -z "$1" ]; then echo "n/a"
	else bench_metword bench_le "$1" $((BENCH_RSS_LIMIT_MIB * 1024 - 1))
	fi
}

# Machine facts, printed once at the top.
bench_header() {
	local cpu mem fs fs2 ver cflags
	cpu=$(awk -F': *' '/^model name/ { print $2; exit }' /proc/cpuinfo 2>/dev/null)
	[ -n "$cpu" ] || cpu=$(uname -m)
	mem=$(awk '/^MemTotal:/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo 2>/dev/null)
	fs=$(stat -f -c %T -- "$BENCH_WORK" 2>/dev/null)
	fs2=$(findmnt -n -o FSTYPE -T "$BENCH_WORK" 2>/dev/null)
	[ -z "$fs2" ] || [ "$fs2" = "$fs" ] || fs="$fs (findmnt: $fs2)"
	ver=$("$BENCH_BIN/mq-produce" --version 2>/dev/null | head -n 1)
	cflags=$(sed -n 's/^CFLAGS = //p' "$BENCH_BIN/../Makefile" 2>/dev/null | head -n 1)
	echo "mq benchmark, $(date -u '+%Y-%m-%d %H:%M UTC')"
	echo "  machine:  $(nproc 2>/dev/null || echo '?') cores, $cpu, ${mem:-? memory}"
	echo "  kernel:   $(uname -srm)"
	echo "  dir:      $BENCH_DIR, file system $fs"
	echo "  commands: $BENCH_BIN (${ver:-version unknown}${cflags:+, CFLAGS $cflags})"
	echo "  data:     $BENCH_MESSAGES messages x 100 bytes, median of $BENCH_RUNS run(s), each on a fresh spool"
	echo "  cache:    page cache warm, nothing dropped (not root): the data file is read"
	echo "            from cache and consumers read segments just written, from cache;"
	echo "            before each timed write, a scratch file of the same size is"
	echo "            written and deleted, then 'sync' (untimed; see bench_settle)"
	if [ -z "$BENCH_TIME" ]; then
		echo "  memory:   /usr/bin/time missing (Debian package 'time'): peak RSS n/a"
	fi
	echo
}

# bench_begin PART "$@": start a part.
bench_begin() {
	BENCH_PART=$1; shift
	bench_parse_options "$@"
	bench_find_bin
	bench_workdir
	if [ -z "${BENCH_UNDER_RUN:-}" ]; then
		BENCH_ROWS=$BENCH_WORK/rows BENCH_NOTES=$BENCH_WORK/notes
		BENCH_TARGETS=$BENCH_WORK/targets
		: >"$BENCH_ROWS"; : >"$BENCH_NOTES"; : >"$BENCH_TARGETS"
		bench_header
	fi
	rm -rf -- "$BENCH_WORK/samples"
}

bench_end() {
	[ -n "${BENCH_UNDER_RUN:-}" ] || bench_report
}

# bench_report: the table, notes and targets from the row files.
bench_report() {
	bench_table text <"$BENCH_ROWS"
	if [ -s "$BENCH_NOTES" ]; then
		echo
		echo "notes:"
		sed 's/^/  /' "$BENCH_NOTES"
	fi
	if [ -s "$BENCH_TARGETS" ]; then
		echo
		echo "targets:"
		sed 's/^/  /' "$BENCH_TARGETS"
	fi
	if [ -n "$BENCH_MARKDOWN" ]; then
		echo
		echo "Markdown:"
		echo
		echo "$(nproc 2>/dev/null) cores, $(awk -F': *' '/^model name/ { print $2; exit }' /proc/cpuinfo 2>/dev/null), $(uname -sr), $(stat -f -c %T -- "$BENCH_WORK" 2>/dev/null); $BENCH_MESSAGES messages of 100 bytes, median of $BENCH_RUNS run(s), warm page cache."
		echo
		bench_table markdown <"$BENCH_ROWS"
	fi
}

# bench_table text|markdown < ROWS: format the rows; a part's name is shown
# as a group line when the rows come from more than one part.
bench_table() {
	awk -F'\t' -v mode="$1" '
	function group(n,   s, i) {  # 1234567 -> 1,234,567
		s = sprintf("%.0f", n); i = length(s) - 3
		while (i > 0) { s = substr(s, 1, i) "," substr(s, i + 1); i -= 3 }
		return s
	}
	function ftime(t) {
		if (t == "") return "-"
		if (t < 1) return sprintf("%.1f ms", t * 1000)
		return sprintf("%.3f s", t)
	}
	function fnum(v, f) { return v == "" ? "-" : sprintf(f, v) }
	{
		r = ++n; part[r] = $1
		c[r, 1] = $2; c[r, 2] = ftime($3)
		c[r, 3] = $4 == "" ? "-" : group($4)
		c[r, 4] = fnum($5, "%.1f")
		c[r, 5] = $6 == "" ? "-" : $6; c[r, 6] = ftime($7)
		c[r, 7] = fnum($8, "%.2fx")
		c[r, 8] = $9 == "" ? "n/a" : sprintf("%.1f MiB", $9 / 1024)
		c[r, 9] = $10 == "" ? "-" : $10
		if (!($1 in seen)) { seen[$1] = 1; parts++ }
	}
	END {
		split("test|mq time|mq msgs/s|mq MB/s|baseline|baseline time|ratio|peak RSS|target", h, "|")
		for (j = 1; j <= 9; j++) w[j] = length(h[j])
		for (r = 1; r <= n; r++)
			for (j = 1; j <= 9; j++)
				if (length(c[r, j]) > w[j]) w[j] = length(c[r, j])
		# numbers right-aligned, words left-aligned
		split("-,,,,-,,,,-", al, ",")
		if (mode == "markdown") {
			line = "|"; sep = "|"
			for (j = 1; j <= 9; j++) {
				line = line " " h[j] " |"
				sep = sep (al[j] == "-" ? "---" : "--:") "|"
			}
			print line; print sep
		} else {
			line = ""; sep = ""
			for (j = 1; j <= 9; j++) {
				line = line sprintf("%" al[j] w[j] "s", h[j]) (j < 9 ? " | " : "")
				sep = sep sprintf("%" w[j] "s", "") (j < 9 ? "-+-" : "")
			}
			gsub(/ /, "-", sep)
			sub(/ +$/, "", line); print line; print sep
		}
		last = ""
		for (r = 1; r <= n; r++) {
			if (parts > 1 && part[r] != last) {
				if (mode == "markdown") print "| **" part[r] "** |||||||||"
				else print "[" part[r] "]"
				last = part[r]
			}
			line = mode == "markdown" ? "|" : ""
			for (j = 1; j <= 9; j++) {
				if (mode == "markdown") {
					v = c[r, j]; gsub(/\|/, "\\|", v)
					line = line " " v " |"
				} else
					line = line sprintf("%" al[j] w[j] "s", c[r, j]) (j < 9 ? " | " : "")
			}
			sub(/ +$/, "", line); print line
		}
	}'
}
