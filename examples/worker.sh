#!/bin/sh
# examples/worker.sh - a worker: posts each message of topic "t" to a web
# hook, at least once, sharing the work with any other copies of itself.
#
# Start as many copies as you like on the spool's machine: the consumer
# group "workers" gives each a share of t's partitions, and the partitions
# of a copy that dies (even by kill -9) go to the others within a second,
# from the group's last commit.  A message counts as done when the command
# exits 0.  A failing one is tried 3 more times (after 0.5 s, 1 s, 2 s),
# then appended to t.dlq with mq.dlq.* headers saying why, and the worker
# goes on.  SIGTERM or SIGINT (systemctl stop, Ctrl-C) lets the running
# command finish, commits what was done and exits 0.
#
# Usage: WEBHOOK_URL=https://hooks.example.com/orders sh examples/worker.sh
#        HANDLER='sh handle.sh' sh examples/worker.sh       (any command)
# The spool is $MQ_SPOOL (else ~/.mq).  Extra arguments go to mq-consume,
# e.g. -v to log the group's events on stderr.
#
# The command reads the message's value on its standard input; MQ_TOPIC,
# MQ_PARTITION, MQ_OFFSET, MQ_KEY, MQ_TIMESTAMP, MQ_ATTEMPT and MQ_GROUP
# describe the message (see EXEC in mq-consume(1)).  See what failed with
#   mq-consume -F '%k %s\n%h\n' t.dlq
# and how far the workers are with
#   mq-group describe workers
set -eu

if [ -z "${HANDLER-}" ]; then
	: "${WEBHOOK_URL:?set WEBHOOK_URL (where to post messages) or HANDLER}"
	export WEBHOOK_URL
	# Delivery is at least once: after a crash a message may be posted
	# again, so the hook gets a key that names the message, to drop
	# duplicates with.  curl -f fails on HTTP errors, so they are retried.
	HANDLER='curl -fsS --max-time 10 -o /dev/null \
		-H "Idempotency-Key: $MQ_TOPIC-$MQ_PARTITION-$MQ_OFFSET" \
		-H "Content-Type: application/json" \
		--data-binary @- "$WEBHOOK_URL"'
fi

# The dead-letter topic must exist before mq-consume starts.
mq-topic create t.dlq --if-not-exists
exec mq-consume -g workers -f --exec "$HANDLER" \
	--retries 3 --retry-backoff 500ms --dlq t.dlq "$@" t
