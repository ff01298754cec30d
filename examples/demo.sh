#!/bin/sh
# examples/demo.sh - a short tour of mq on the default spool ($MQ_SPOOL,
# else ~/.mq): create a topic, produce keyed messages, consume them, read
# by offset and by time, follow a topic like tail -f, and read it as a
# consumer group that remembers where it stopped.  It can be run again on
# the same spool: the group is first reset to this run's messages.
# Usage: sh examples/demo.sh [DIR-WITH-THE-COMMANDS]
set -eu
[ $# -ge 1 ] && PATH="$1:$PATH"
step() { printf '\n$ %s\n' "$*"; }
run() { step "$*"; sh -c "$*"; }

echo "mq demo on the spool ${MQ_SPOOL:-$HOME/.mq}"
start=$(date +%s%3N)
run "mq-topic create demo -p 3 --if-not-exists"
run "printf 'alice:signed up\nbob:signed up\nalice:bought a book\ncarol:signed up\nbob:left\n' | mq-produce -K: -v demo"
run "mq-consume -o -2 -F '%p/%o  %k -> %s\n' demo    # the last 2 of each partition"
run "mq-consume -p 0 -o 0 -c 3 -F '%o %k %s\n' demo    # partition 0 from offset 0, 3 messages"

now=$(date +%s%3N)
run "echo 'dave:signed up' | mq-produce -K: demo"
run "mq-consume -o @$now -F '%T %k %s\n' demo    # everything since $now ms"

out=$(mktemp)
step "mq-consume -f -o end demo &    # follow new messages like tail -f"
mq-consume -f -o end -F 'followed: %k %s\n' demo >"$out" &
follower=$!
run "echo 'erin:signed up' | mq-produce -K: demo"
run "echo 'frank:signed up' | mq-produce -K: demo"
i=0
while [ "$(wc -l <"$out")" -lt 2 ] && [ $i -lt 100 ]; do
	sleep 0.05; i=$((i + 1))
done
kill -TERM $follower; wait $follower || true
cat "$out"; rm -f "$out"

# A consumer group: its members share the partitions, and it keeps a
# committed offset per partition.  On a spool where the demo ran before,
# the group would go on after that run's messages; the reset makes every
# run read what it produced (and a reset creates a group that is new).
run "mq-group reset demo-group demo --to-datetime $start --execute    # this run's messages"
run "mq-consume -g demo-group -c 2 -F '%p/%o  %k -> %s\n' demo    # read 2 as group demo-group"
run "mq-group describe demo-group    # committed offsets, lag, live owners"
run "mq-consume -g demo-group -F '%p/%o  %k -> %s\n' demo    # the group goes on: the rest"
run "mq-group lag demo-group --warn 100 --crit 1000    # as a monitoring check"

run "mq-topic describe demo"
echo
echo "More: man -l doc/mq.7 (or man mq after make install)"
