#!/bin/sh
# examples/archive-pipeline.sh - the nightly job of a spool: retention and
# compaction of its topics, with everything they remove archived in a
# directory per night, and archives kept for a number of days.
#
# It runs mq-compact -v --archive ROOT/YYYY-MM-DD (today, local time), so
# each night's removed or rewritten segments land in one directory, one
# tar archive per topic that had work (TOPIC.YYYYMMDDTHHMMSS.mmmZ.tar.gz,
# see ARCHIVES in mq-compact(1)); a night with nothing to archive leaves
# no directory.  Then it removes the day directories of ROOT that are more
# than DAYS days old (by their names; other files in ROOT are left alone).
# Producers and consumers need not stop.
#
# Usage: sh examples/archive-pipeline.sh [-d SPOOL] [-r ROOT] [-k DAYS]
#                                        [-z SUFFIX] [TOPIC...]
#   -d SPOOL   the spool (default $MQ_SPOOL, else ~/.mq)
#   -r ROOT    where the day directories go (default /var/archive/mq)
#   -k DAYS    keep the directories of the last DAYS days (default 30; 0
#              keeps only today's)
#   -z SUFFIX  the archive format: .tar, .tar.gz (default) or .tar.zst
#   TOPIC...   only these topics (default: all)
#
# Output: mq-compact's -v lines (e.g. "access-log/0: did delete 5
# segments: 250 messages, 7735 bytes") and "pruned DIR" for each directory
# removed, on stdout; errors on stderr.  Exit status: mq-compact's (0, or
# 1 when a topic or partition failed; the others were still done and
# archived), 2 on a usage error.
#
# From cron, at 03:30 every night (cron turns % into newlines; there is
# none here):
#   30 3 * * *  sh /usr/local/share/mq/archive-pipeline.sh -d /srv/mq >>/var/log/mq-compact.log 2>&1
# or as ExecStart= of examples/systemd/mq-compact.service.
set -eu

prog=archive-pipeline
root=/var/archive/mq
keep=30
spool=
suffix=.tar.gz

usage() {
	echo "usage: $prog [-d SPOOL] [-r ROOT] [-k DAYS] [-z SUFFIX] [TOPIC...]" >&2
	exit 2
}

while getopts d:r:k:z: opt; do
	case $opt in
	d) spool=$OPTARG ;;
	r) root=$OPTARG ;;
	k) keep=$OPTARG ;;
	z) suffix=$OPTARG ;;
	*) usage ;;
	esac
done
shift $((OPTIND - 1))
case $keep in
'' | *[!0-9]*) echo "$prog: -k: not a number of days: '$keep'" >&2; exit 2 ;;
esac
case $suffix in
.tar | .tar.gz | .tar.zst) ;;
*) echo "$prog: -z: use .tar, .tar.gz or .tar.zst, not '$suffix'" >&2; exit 2 ;;
esac

today=$(date +%Y-%m-%d)
dir=$root/$today
mkdir -p -- "$dir"

# 1. retention and compaction, archiving first what goes
status=0
if [ -n "$spool" ]; then
	mq-compact -d "$spool" -v --archive "$dir" --archive-suffix "$suffix" \
		"$@" || status=$?
else
	mq-compact -v --archive "$dir" --archive-suffix "$suffix" "$@" ||
		status=$?
fi
# A night with nothing to archive keeps no empty directory.
rmdir -- "$dir" 2>/dev/null || :
[ "$status" -ne 2 ] || exit 2

# 2. prune the day directories more than $keep days old. The age is
# computed from the names (days since 1970-01-01 of a civil date, in
# POSIX awk), so neither GNU date nor the directories' times are needed.
for d in "$root"/*; do
	[ -d "$d" ] && printf '%s\n' "${d##*/}"
done | awk -v today="$today" -v keep="$keep" '
	function days(s,    y, m, d, era, yoe, doy) {
		y = substr(s, 1, 4) + 0; m = substr(s, 6, 2) + 0
		d = substr(s, 9, 2) + 0
		if (m <= 2) y--
		era = int(y / 400)
		yoe = y - era * 400
		doy = int((153 * (m > 2 ? m - 3 : m + 9) + 2) / 5) + d - 1
		return era * 146097 + yoe * 365 + int(yoe / 4) - int(yoe / 100) + doy - 719468
	}
	/^[0-9][0-9][0-9][0-9]-[0-1][0-9]-[0-3][0-9]$/ {
		if (days(today) - days($0) > keep) print
	}' | while IFS= read -r name; do
	rm -rf -- "${root:?}/$name"
	echo "pruned $root/$name"
done

exit "$status"
