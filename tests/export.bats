#!/usr/bin/env bats
# tests/export.bats - mq-topic export and import: byte-exact round trips
# through .tar, .tar.gz, .tar.zst and a pipe, --as, a snapshot taken while
# a producer appends, torn tails left out and corruption refused, and
# import refusing damaged, truncated, inconsistent or hostile archives
# without leaving anything behind.

load helper
bats_require_minimum_version 1.5.0

per_test_setup() {
	T="$BATS_TEST_TMPDIR"
	BG=()
}

teardown() {
	local p
	touch "$T/stop"
	for p in "${BG[@]}"; do
		kill -KILL "$p" 2>/dev/null || true
	done
}

# fill: topic t, 3 partitions of small segments: keyed messages with
# headers, tombstones, a zlib-compressed part and unkeyed messages; group
# g1 has consumed some of it, group g2 was reset (an offset file with an
# epoch line).
fill() {
	mq-topic create t -p 3 -c segment.bytes=1024
	seq 1 300 | sed 's/.*/k&:v&/' |
		mq-produce -K: --batch-size 200 -H h1=a -H 'h2=x y' t
	printf 'k1:\nk2:\nk3:\nk4:\n' | mq-produce -K: -Z t
	seq 1 200 | sed 's/.*/z&:compressible compressible compressible &/' |
		mq-produce -K: -z --batch-size 2000 t
	seq 1 60 | mq-produce --batch-size 200 t
	mq-consume -g g1 -c 250 t >/dev/null
	mq-group reset g2 t --to-offset 7 -p 1 --execute >/dev/null
	local p n
	for p in 0 1 2; do
		n=$(ls "$MQ_SPOOL/t/$p" | grep -c '\.log$')
		[ "$n" -ge 3 ]
	done
	# The zlib part really is compressed: codec byte 52 of some batch.
	run python3 - "$MQ_SPOOL/t" <<'EOF'
import glob, struct, sys
n = 0
for f in glob.glob(sys.argv[1] + '/*/*.log'):
    b = open(f, 'rb').read()
    pos = 0
    while pos < len(b):
        length = struct.unpack_from('<I', b, pos + 4)[0]
        n += b[pos + 52] == 1
        pos += length
print(n)
EOF
	assert_success
	[ "$output" -gt 0 ]
}

# dump [-d DIR] TOPIC: every message, with all its fields.
dump() {
	mq-consume "$@" -F '%p %o %k %T %h %S %s\n'
}

# bounds [-d DIR] TOPIC: the start and end offsets of every partition.
bounds() {
	mq-topic describe --json "$@" |
		grep -oE '"partition":[0-9]+,"start_offset":[0-9]+,"end_offset":[0-9]+'
}

# group_rows SPOOL GROUP TOPIC: mq-group describe's rows of TOPIC, with
# the topic's name left out.
group_rows() {
	mq-group -d "$1" describe "$2" | awk -v t="$3" '$2 == t { $2 = "T"; print }'
}

# same_topic SPOOL_A TOPIC_A SPOOL_B TOPIC_B: messages, offsets, groups
# and every file but the partition locks are the same in both.
same_topic() {
	local a="$1/$2" b="$3/$4" f g files
	diff <(dump -d "$1" "$2") <(dump -d "$3" "$4")
	[ "$(dump -d "$1" "$2" | wc -l)" -gt 0 ]
	diff <(bounds -d "$1" "$2") <(bounds -d "$3" "$4")
	[ -n "$(group_rows "$1" g1 "$2")" ]
	for g in g1 g2; do
		diff <(group_rows "$1" "$g" "$2") <(group_rows "$3" "$g" "$4")
	done
	# What export carries is all there is, byte for byte.
	files=$(cd "$a" && find . -type f \( -name config -o -name '*.log' \
		-o -name '*.idx' -o -name '*.tix' -o -regextype posix-extended \
		-regex '\./groups/[^/]+/[0-9]+' \) | sort)
	diff <(echo "$files") <(cd "$b" && find . -type f ! -name lock | sort)
	for f in $files; do
		cmp "$a/$f" "$b/$f"
	done
}

# flip FILE POS: inverts every bit of the byte at POS in FILE.
flip() {
	local b
	b=$(od -A n -t u1 -j "$2" -N 1 "$1" | tr -d ' ')
	printf "\\$(printf %03o $((b ^ 255)))" |
		dd of="$1" bs=1 seek="$2" conv=notrunc status=none
}

# nothing_imported SPOOL: no topic and no temporary directory in SPOOL.
nothing_imported() {
	run ls -A "$1"
	assert_output "+format"
}

# --- round trips -------------------------------------------------------

@test "a topic exported to .tar and imported into a fresh spool has the same messages, offsets, groups and files" {
	fill
	run --separate-stderr mq-topic export t -o "$T/t.tar"
	assert_success
	assert_output ""
	assert_equal "$stderr" ""
	run --separate-stderr mq-topic -d "$T/new" import "$T/t.tar"
	assert_success
	assert_output ""
	assert_equal "$stderr" ""
	same_topic "$MQ_SPOOL" t "$T/new" t
	cmp "$MQ_SPOOL/t/config" "$T/new/t/config"
	run ls "$T"
	refute_output --partial tmp
}

@test "a topic and a group of the longest legal names export and import" {
	local t g
	t=$(printf 't%.0s' {1..249})
	g=$(printf 'g%.0s' {1..249})
	mq-topic create "$t" -p 12 -c segment.bytes=1024
	seq 1 200 | mq-produce --batch-size 200 "$t"
	mq-consume -g "$g" -c 50 "$t" >/dev/null
	run --separate-stderr mq-topic export "$t" -o "$T/long.tar.gz"
	assert_success
	assert_equal "$stderr" ""
	run --separate-stderr mq-topic -d "$T/new" import "$T/long.tar.gz"
	assert_success
	assert_equal "$stderr" ""
	diff <(dump "$t") <(dump -d "$T/new" "$t")
	diff <(bounds "$t") <(bounds -d "$T/new" "$t")
	for p in 0 11; do
		cmp "$MQ_SPOOL/$t/groups/$g/$p" "$T/new/$t/groups/$g/$p"
	done
	diff <(mq-group describe "$g") <(mq-group -d "$T/new" describe "$g")
	[ "$(mq-group describe "$g" | grep -c "$t")" -eq 12 ]
}

@test "the archive starts with a manifest naming the topic and the offsets of each partition, then the config" {
	fill
	mq-topic export t -o "$T/t.tar"
	run tar -tf "$T/t.tar"
	assert_success
	assert_line --index 0 "t/+export"
	assert_line --index 1 "t/config"
	assert_line --index 2 "t/0/00000000000000000000.log"
	assert_line --index 3 "t/0/00000000000000000000.idx"
	assert_line --index 4 "t/0/00000000000000000000.tix"
	assert_line "t/groups/g1/0"
	assert_line "t/groups/g2/1"
	refute_line --partial lock
	refute_line --partial own
	refute_line --partial members
	# Groups come last, segments in offset order within a partition.
	[ "$(grep -n groups <<<"$output" | head -n 1 | cut -d: -f1)" -gt \
	  "$(grep -n '\.log$' <<<"$output" | tail -n 1 | cut -d: -f1)" ]
	run tar -xOf "$T/t.tar" t/+export
	local want
	want=$(printf 'mq export 1\ntopic t\npartitions 3\n'
		bounds t | sed -E 's/"partition":([0-9]+),"start_offset":([0-9]+),"end_offset":([0-9]+)/partition \1 start \2 end \3/')
	assert_output "$want"
	run tar -xOf "$T/t.tar" t/groups/g2/1
	assert_output "$(cat "$MQ_SPOOL/t/groups/g2/1")"
	assert_output --partial "epoch 1"
}

@test "export to standard output piped into import from - round-trips the topic" {
	fill
	mq-topic export t | mq-topic -d "$T/new" import -
	same_topic "$MQ_SPOOL" t "$T/new" t
}

@test "export -o FILE.tar.gz writes gzip and FILE.tar.zst zstd, and both import" {
	fill
	mq-topic export t -o "$T/t.tar.gz"
	mq-topic export t -o "$T/t.tar.zst"
	mq-topic export t -o "$T/t.tar"
	run od -A n -t x1 -N 2 "$T/t.tar.gz"
	assert_output " 1f 8b"
	run od -A n -t x1 -N 4 "$T/t.tar.zst"
	assert_output " 28 b5 2f fd"
	run od -A n -c -j 257 -N 5 "$T/t.tar"
	assert_output "   u   s   t   a   r"
	[ "$(stat -c %s "$T/t.tar.gz")" -lt "$(stat -c %s "$T/t.tar")" ]
	[ "$(stat -c %s "$T/t.tar.zst")" -lt "$(stat -c %s "$T/t.tar")" ]
	mq-topic -d "$T/gz" import "$T/t.tar.gz"
	same_topic "$MQ_SPOOL" t "$T/gz" t
	mq-topic -d "$T/zst" import "$T/t.tar.zst"
	same_topic "$MQ_SPOOL" t "$T/zst" t
	# A compressed archive on standard input is recognised too.
	mq-topic -d "$T/pipe" import - <"$T/t.tar.zst"
	same_topic "$MQ_SPOOL" t "$T/pipe" t
	run ls "$T"
	refute_output --partial tmp
}

@test "import --as NAME creates the exported topic under another name beside the original" {
	fill
	mq-topic export t -o "$T/t.tar"
	run --separate-stderr mq-topic import "$T/t.tar" --as copy
	assert_success
	run mq-topic list
	assert_output $'copy\nt'
	same_topic "$MQ_SPOOL" t "$MQ_SPOOL" copy
	# The copy is a topic of its own.
	echo only-in-copy | mq-produce -p 0 copy
	run -0 mq-consume -o -1 -p 0 -F '%s\n' copy
	assert_output only-in-copy
	run -0 mq-consume -o -1 -p 0 -F '%s\n' t
	refute_output only-in-copy
}

@test "importing over an existing topic exits 1 and changes nothing" {
	fill
	mq-topic export t -o "$T/t.tar"
	echo more | mq-produce -p 0 t
	local before
	before=$(cd "$MQ_SPOOL" && find . -type f | sort | xargs md5sum)
	run --separate-stderr mq-topic import "$T/t.tar"
	assert_failure 1
	assert_equal "$stderr" "mq-topic: topic 't' already exists"
	assert_equal "$(cd "$MQ_SPOOL" && find . -type f | sort | xargs md5sum)" "$before"
	run ls -A "$MQ_SPOOL"
	assert_output $'+format\nt'
	# ...also under --as.
	mq-topic create other
	run -1 mq-topic import "$T/t.tar" --as other
	assert_output "mq-topic: topic 'other' already exists"
}

# --- snapshots while producers write ------------------------------------

@test "an export taken while a producer appends holds a whole-batch prefix of each partition, and producing continues at its end" {
	mq-topic create t -p 3 -c segment.bytes=4096
	(
		i=0
		while [ ! -e "$T/stop" ]; do
			seq "$i" $((i + 199)) | sed 's/.*/k&:v&/'
			i=$((i + 200))
		done
	) 3>&- | mq-produce -K: --batch-size 300 t 2>"$T/perr" 3>&- &
	BG+=($!)
	local pid=$! p n total=0 itotal=0
	enough() { [ "$(mq-consume t | wc -l)" -ge 3000 ]; }
	wait_for enough
	run --separate-stderr mq-topic export t -o "$T/mid.tar"
	assert_success
	touch "$T/stop"
	wait "$pid"
	mq-topic -d "$T/new" import "$T/mid.tar"
	for p in 0 1 2; do
		mq-consume -p "$p" -F '%o %k %s\n' t >"$T/src$p"
		mq-consume -d "$T/new" -p "$p" -F '%o %k %s\n' t >"$T/imp$p"
		n=$(wc -l <"$T/imp$p")
		[ "$n" -gt 0 ]
		head -n "$n" "$T/src$p" | cmp - "$T/imp$p"
		total=$((total + $(wc -l <"$T/src$p")))
		itotal=$((itotal + n))
		[ "$(ls "$T/new/t/$p" | grep -c '\.log$')" -ge 2 ]
	done
	# Mid-way indeed: the producer went on after the snapshot.
	[ "$itotal" -ge 3000 ]
	[ "$itotal" -lt "$total" ]
	# The imported log ends with a whole batch: the next append goes
	# right after the last exported message, and nothing is truncated.
	for p in 0 1 2; do
		n=$(wc -l <"$T/imp$p")
		echo "k:next$p" | mq-produce -d "$T/new" -K: -p "$p" t
		run -0 mq-consume -d "$T/new" -p "$p" -o -1 -F '%o %s\n' t
		assert_output "$n next$p"
	done
	run -0 mq-topic -d "$T/new" describe t
	refute_output --regexp 'TruncatedBytes: [1-9]'
}

@test "a torn tail after the last complete batch is left out of the export" {
	mq-topic create t
	seq 1 100 | mq-produce t
	local seg
	seg=$(seg0 t)
	cp "$seg" "$T/whole"
	# A batch header promising 255 bytes, cut short: an unfinished write.
	printf 'MQB\001\377\000\000\000partial' >>"$seg"
	mq-topic export t -o "$T/t.tar"
	mq-topic -d "$T/new" import "$T/t.tar"
	cmp "$T/whole" "$T/new/t/0/00000000000000000000.log"
	run -0 mq-consume -d "$T/new" -F '%o\n' -o -1 t
	assert_output 99
	# The source still holds its tail for the next producer to recover.
	[ "$(stat -c %s "$seg")" -gt "$(stat -c %s "$T/whole")" ]
}

@test "export refuses corruption inside committed data, naming the file and byte, and leaves no archive" {
	mq-topic create t
	seq 1 100 | mq-produce t
	flip "$(seg0 t)" 100
	run --separate-stderr mq-topic export t -o "$T/t.tar"
	assert_failure 1
	assert_equal "$stderr" "mq-topic: corrupt data at byte 0 of '$MQ_SPOOL/t/0/00000000000000000000.log': cannot export it"
	run ls -A "$T"
	refute_output --partial t.tar
}

# --- refused archives ----------------------------------------------------

@test "an archive with a flipped byte in a segment is refused naming the entry and byte, and no topic appears" {
	mq-topic create t
	seq 1 10 | mq-produce t
	seq 11 20 | mq-produce t
	mq-topic export t -o "$T/t.tar"
	run -0 python3 - "$T/t.tar" <<'EOF'
import struct, sys, tarfile
with tarfile.open(sys.argv[1]) as t:
    off = t.getmember('t/0/00000000000000000000.log').offset_data
with open(sys.argv[1], 'rb') as f:
    f.seek(off + 4)
    first = struct.unpack('<I', f.read(4))[0]
print(off, first)
EOF
	local off=${output% *} first=${output#* }
	# A byte of the second batch's payload.
	flip "$T/t.tar" $((off + first + 60))
	run --separate-stderr mq-topic -d "$T/new" import "$T/t.tar"
	assert_failure 1
	assert_equal "$stderr" "mq-topic: archive '$T/t.tar': corrupt batch in entry 't/0/00000000000000000000.log' at byte $first"
	nothing_imported "$T/new"
}

@test "entries named ../x or with an absolute path are refused and nothing is created outside the spool" {
	mq-topic create t
	mq-topic export t -o "$T/t.tar"
	local bad
	mkdir "$T/deep"
	for bad in ../x t/../../x "$T/abs" t/0/../../../x; do
		run -0 python3 - "$T/t.tar" "$T/evil.tar" "$bad" <<'EOF'
import io, sys, tarfile
with tarfile.open(sys.argv[1]) as src, \
     tarfile.open(sys.argv[2], 'w', format=tarfile.PAX_FORMAT) as out:
    for m in src.getmembers()[:2]:
        out.addfile(m, src.extractfile(m))
    ti = tarfile.TarInfo(sys.argv[3])
    ti.size = 4
    out.addfile(ti, io.BytesIO(b'evil'))
EOF
		run --separate-stderr mq-topic -d "$T/deep/new" import "$T/evil.tar"
		assert_failure 1
		assert_equal "$stderr" "mq-topic: archive '$T/evil.tar': unsafe entry name '$bad'"
		nothing_imported "$T/deep/new"
	done
	# ...also as the very first entry.
	run -0 python3 - "$T/evil.tar" <<'EOF'
import io, sys, tarfile
with tarfile.open(sys.argv[1], 'w') as out:
    ti = tarfile.TarInfo('../x')
    ti.size = 4
    out.addfile(ti, io.BytesIO(b'evil'))
EOF
	run -1 mq-topic -d "$T/deep/new" import "$T/evil.tar"
	assert_output --partial "'../x'"
	nothing_imported "$T/deep/new"
	assert_file_not_exist "$T/x"
	assert_file_not_exist "$T/deep/x"
	assert_file_not_exist "$T/abs"
}

@test "links, unexpected names and oversized entries are refused naming the entry" {
	mq-topic create t
	mq-topic export t -o "$T/t.tar"
	local kind
	for kind in symlink lock own badseg bigcfg badoff; do
		run -0 python3 - "$T/t.tar" "$T/evil.tar" "$kind" <<'EOF'
import io, sys, tarfile
kind = sys.argv[3]
with tarfile.open(sys.argv[1]) as src, \
     tarfile.open(sys.argv[2], 'w', format=tarfile.PAX_FORMAT) as out:
    for m in src.getmembers():
        data = src.extractfile(m).read()
        if kind == 'bigcfg' and m.name == 't/config':
            data += b'#' * 9000 + b'\n'
            m.size = len(data)
        out.addfile(m, io.BytesIO(data))
    def add(name, data):
        ti = tarfile.TarInfo(name)
        ti.size = len(data)
        out.addfile(ti, io.BytesIO(data))
    if kind == 'symlink':
        ti = tarfile.TarInfo('t/0/00000000000000000100.log')
        ti.type = tarfile.SYMTYPE
        ti.linkname = '/etc/passwd'
        out.addfile(ti)
    elif kind == 'lock':
        add('t/0/lock', b'')
    elif kind == 'own':
        add('t/groups/g/0.own', b'')
    elif kind == 'badseg':
        add('t/0/123.log', b'')
    elif kind == 'badoff':
        add('t/groups/g/0', b'-1\n')
EOF
		run --separate-stderr mq-topic -d "$T/new" import "$T/evil.tar"
		assert_failure 1
		case $kind in
		symlink) assert_equal "$stderr" "mq-topic: archive '$T/evil.tar': entry 't/0/00000000000000000100.log' is not a regular file" ;;
		lock) assert_equal "$stderr" "mq-topic: archive '$T/evil.tar': unexpected entry 't/0/lock'" ;;
		own) assert_equal "$stderr" "mq-topic: archive '$T/evil.tar': entry 't/groups/g/0.own' names no partition of the topic" ;;
		badseg) assert_equal "$stderr" "mq-topic: archive '$T/evil.tar': unexpected entry 't/0/123.log'" ;;
		bigcfg) assert_equal "$stderr" "mq-topic: archive '$T/evil.tar': entry 't/config' is too large" ;;
		badoff) assert_equal "$stderr" "mq-topic: archive '$T/evil.tar': entry 't/groups/g/0' is not an offset file" ;;
		esac
		nothing_imported "$T/new"
	done
}

@test "an archive missing the last segment of a partition disagrees with its manifest and is refused" {
	mq-topic create t -c segment.bytes=1024
	seq 1 500 | mq-produce --batch-size 200 t
	mq-topic export t -o "$T/t.tar"
	local last
	last=$(tar -tf "$T/t.tar" | grep '\.log$' | tail -n 1)
	[ "$last" != t/0/00000000000000000000.log ]
	run -0 python3 - "$T/t.tar" "$T/cut.tar" "${last%.log}" <<'EOF'
import sys, tarfile
with tarfile.open(sys.argv[1]) as src, \
     tarfile.open(sys.argv[2], 'w', format=tarfile.PAX_FORMAT) as out:
    for m in src.getmembers():
        if not m.name.startswith(sys.argv[3] + '.'):
            out.addfile(m, src.extractfile(m))
EOF
	run --separate-stderr mq-topic -d "$T/new" import "$T/cut.tar"
	assert_failure 1
	last=${last#t/0/}
	assert_equal "$stderr" "mq-topic: archive '$T/cut.tar': partition 0 holds offsets 0 to $((10#${last%.log})), but the manifest says 0 to 500"
	nothing_imported "$T/new"
}

@test "a truncated archive is refused and no topic appears" {
	mq-topic create t -p 2
	seq 1 2000 | mq-produce t
	mq-topic export t -o "$T/t.tar"
	mq-topic export t -o "$T/t.tar.gz"
	# Cut in the middle of a segment's data.
	run -0 python3 - "$T/t.tar" <<'EOF'
import sys, tarfile
with tarfile.open(sys.argv[1]) as t:
    m = max(t.getmembers(), key=lambda m: m.size)
print(m.offset_data + m.size // 2)
EOF
	head -c "$output" "$T/t.tar" >"$T/cut.tar"
	run --separate-stderr mq-topic -d "$T/new" import "$T/cut.tar"
	assert_failure 1
	assert_equal "$stderr" "mq-topic: archive '$T/cut.tar' is damaged: Truncated tar archive"
	nothing_imported "$T/new"
	head -c $(($(stat -c %s "$T/t.tar.gz") - 30)) "$T/t.tar.gz" >"$T/cut.tar.gz"
	run --separate-stderr mq-topic -d "$T/new" import - <"$T/cut.tar.gz"
	assert_failure 1
	assert_equal "${stderr%%:*}" "mq-topic"
	assert_regex "$stderr" "^mq-topic: archive 'standard input' (is damaged|: entry '.*' is cut short)"
	nothing_imported "$T/new"
	# Not an archive at all, or an empty one.
	echo hello >"$T/text"
	run -1 mq-topic -d "$T/new" import "$T/text"
	run -1 mq-topic -d "$T/new" import - </dev/null
	nothing_imported "$T/new"
}

# --- the command ---------------------------------------------------------

@test "exporting a missing topic exits 1 and writes no archive" {
	mq-topic create t
	run --separate-stderr mq-topic export nosuch -o "$T/x.tar"
	assert_failure 1
	assert_equal "$stderr" "mq-topic: topic 'nosuch' does not exist in '$MQ_SPOOL'"
	assert_file_not_exist "$T/x.tar"
	run -1 mq-topic -d "$T/none" export t -o "$T/x.tar"
	run -1 mq-topic import "$T/missing.tar"
	assert_output --partial "'$T/missing.tar'"
}

@test "export refuses to write an archive to a terminal" {
	command -v script >/dev/null || skip "script (util-linux) is not installed"
	mq-topic create t
	run script -qec "mq-topic export t" /dev/null
	assert_equal "$status" 2
	assert_output --partial "mq-topic: refusing to write an archive to a terminal (use -o FILE)"
	# With -o the terminal is not written to and all is well.
	run script -qec "mq-topic export t -o '$T/t.tar'" /dev/null
	assert_success
	assert_file_exist "$T/t.tar"
}

@test "usage errors of export and import exit 2" {
	mq-topic create t
	mq-topic export t -o "$T/t.tar"
	run -2 mq-topic export
	assert_output "mq-topic: export takes exactly one topic"
	run -2 mq-topic export t u -o "$T/x.tar"
	run -2 mq-topic import
	assert_output "mq-topic: import takes exactly one archive (- for standard input)"
	run -2 mq-topic import "$T/t.tar" "$T/t.tar"
	run -2 mq-topic export 'bad/name' -o "$T/x.tar"
	run -2 mq-topic import "$T/t.tar" --as 'bad/name'
	assert_output --partial "bad topic name 'bad/name'"
	run -2 mq-topic import "$T/t.tar" -o "$T/x.tar"
	assert_output "mq-topic: -o applies to export only"
	run -2 mq-topic export t --as u -o "$T/x.tar"
	assert_output "mq-topic: --as applies to import only"
	run -2 mq-topic export t -o "$T/x.zip"
	assert_output "mq-topic: unknown archive suffix '.zip' of '$T/x.zip': use .tar, .tar.gz or .tar.zst"
	run -2 mq-topic export t -o
	run -2 mq-topic list -o "$T/x.tar"
	assert_file_not_exist "$T/x.zip"
	assert_file_not_exist "$T/x.tar"
	run -0 mq-topic list
	assert_output t
}
