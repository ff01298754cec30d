#!/bin/sh
# examples/demo.sh - a short tour of mq on the default spool ($MQ_SPOOL,
# else ~/.mq): create a topic, produce keyed messages, consume them, read
# by offset and by time, and follow a topic like tail -f.
# Usage: sh examples/demo.sh [DIR-WITH-THE-COMMANDS]
set -eu
[ $# -ge 1 ] && PATH="$1:$PATH"
step() { printf '\n$ %s\n' "$*"; }
run() { step "$*"; sh -c "$*"; }

echo "mq demo on the spool ${MQ_SPOOL:-$HOME/.mq}"
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

run "mq-topic describe demo"
echo
echo "More: man -l doc/mq.7 (or man mq after make install)"
