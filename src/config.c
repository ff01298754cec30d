/*
 * config.c - topic configuration: the keys Kafka users know, their
 * defaults, units and limits, and the TOPIC/config file (key=value lines).
 * One table drives parsing, validation, formatting and describe, so a key
 * cannot be known to one of them and not the others.  Values are stored
 * normalised (sizes in bytes, durations in milliseconds).  The rule that
 * decides which message timestamps a topic takes (mq_ts_check) lives here
 * too, beside the two keys that set it, as does the horizon past which a
 * stored timestamp is not trusted for rolling and retention.
 */
#include <config.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mq.h"

enum kind { K_COUNT, K_SIZE, K_DURATION, K_POLICY, K_CODEC };

struct key {
	const char *name;
	enum kind kind;
	size_t off;
	int64_t def, min, max;
	bool neg;            /* -1 allowed (infinite) */
};

#define F(f) offsetof(struct mq_config, f)
#define DAY 86400000LL

static const struct key keys[] = {
	{"partitions", K_COUNT, F(partitions), 1, 1, MQ_MAX_PARTITIONS, false},
	{"segment.bytes", K_SIZE, F(segment_bytes), 1LL << 30, 512,
	 2147483647LL, false},
	{"segment.ms", K_DURATION, F(segment_ms), 7 * DAY, 1, INT64_MAX, false},
	{"retention.ms", K_DURATION, F(retention_ms), 7 * DAY, 0, INT64_MAX,
	 true},
	{"retention.bytes", K_SIZE, F(retention_bytes), -1, 0, INT64_MAX, true},
	{"cleanup.policy", K_POLICY, F(cleanup_policy), MQ_POLICY_DELETE, 1, 3,
	 false},
	{"compression", K_CODEC, F(compression), MQ_CODEC_NONE, 0,
	 MQ_CODEC_COUNT - 1, false},
	{"max.message.bytes", K_SIZE, F(max_message_bytes), 1LL << 20, 64,
	 1LL << 30, false},
	{"min.compaction.lag.ms", K_DURATION, F(min_compaction_lag_ms), 0, 0,
	 INT64_MAX, false},
	{"delete.retention.ms", K_DURATION, F(delete_retention_ms), DAY, 0,
	 INT64_MAX, false},
	/* KIP-937 (Kafka 3.6); the 1-hour default is Kafka 4.0's (KIP-1030). */
	{"message.timestamp.before.max.ms", K_DURATION,
	 F(timestamp_before_max_ms), INT64_MAX, 0, INT64_MAX, false},
	{"message.timestamp.after.max.ms", K_DURATION,
	 F(timestamp_after_max_ms), 3600000, 0, INT64_MAX, false},
};
#define NKEYS (sizeof keys / sizeof keys[0])

static const char *codec_names[MQ_CODEC_COUNT] = {"none", "zlib", "zstd",
						     "lz4"};

const char *
mq_codec_name(int codec)
{
	return codec >= 0 && codec < MQ_CODEC_COUNT ? codec_names[codec] : "?";
}

int
mq_codec_lookup(const char *name)
{
	for (int i = 0; i < MQ_CODEC_COUNT; i++)
		if (strcmp(name, codec_names[i]) == 0)
			return i;
	return -1;
}

static int64_t *
field(struct mq_config *c, const struct key *k)
{
	return (int64_t *)(void *)((char *)c + k->off);
}

void
mq_config_defaults(struct mq_config *c)
{
	for (size_t i = 0; i < NKEYS; i++)
		*field(c, &keys[i]) = keys[i].def;
}

size_t
mq_config_count(void)
{
	return NKEYS;
}

static int
parse_policy(const char *v, int64_t *out)
{
	if (strcmp(v, "delete") == 0)
		*out = MQ_POLICY_DELETE;
	else if (strcmp(v, "compact") == 0)
		*out = MQ_POLICY_COMPACT;
	else if (strcmp(v, "compact,delete") == 0 ||
		 strcmp(v, "delete,compact") == 0)
		*out = MQ_POLICY_COMPACT | MQ_POLICY_DELETE;
	else
		return -1;
	return 0;
}

int
mq_config_set(struct mq_config *c, const char *name, const char *value,
	      struct mq_err *e)
{
	const struct key *k = NULL;
	int64_t v;
	struct mq_err sub;

	for (size_t i = 0; i < NKEYS; i++)
		if (strcmp(keys[i].name, name) == 0)
			k = &keys[i];
	if (!k)
		return mq_err_set(e, EINVAL, "unknown config key '%s' (see "
				  "mq-topic(1) for the keys)", name);
	switch (k->kind) {
	case K_COUNT: {
		uint64_t u;
		if (mq_parse_u64(value, (uint64_t)k->min, (uint64_t)k->max,
				 &u) < 0)
			return mq_err_set(e, EINVAL, "bad value '%s' for %s: "
					  "expected a number from %lld to %lld",
					  value, name, (long long)k->min,
					  (long long)k->max);
		v = (int64_t)u;
		break;
	}
	case K_SIZE:
	case K_DURATION:
		if ((k->kind == K_SIZE ?
		     mq_parse_size(value, k->neg, &v, &sub) :
		     mq_parse_duration(value, k->neg, &v, &sub)) < 0)
			return mq_err_set(e, EINVAL, "%s: %s", name, sub.msg);
		if (v != -1 && (v < k->min || v > k->max))
			return mq_err_set(e, EINVAL, "bad value '%s' for %s: "
					  "must be from %lld to %lld%s", value,
					  name, (long long)k->min,
					  (long long)k->max,
					  k->neg ? " (or -1 for no limit)" : "");
		break;
	case K_POLICY:
		if (parse_policy(value, &v) < 0)
			return mq_err_set(e, EINVAL, "bad value '%s' for %s: "
					  "expected delete, compact or "
					  "compact,delete", value, name);
		break;
	case K_CODEC:
		v = mq_codec_lookup(value);
		if (v < 0)
			return mq_err_set(e, EINVAL, "bad value '%s' for %s: "
					  "expected none, zlib, zstd or lz4",
					  value, name);
		break;
	default:
		return mq_err_set(e, EINVAL, "bad key kind");
	}
	*field(c, k) = v;
	return 0;
}

int
mq_config_set_kv(struct mq_config *c, const char *kv, struct mq_err *e)
{
	const char *eq = strchr(kv, '=');
	char name[64];

	if (!eq || eq == kv || (size_t)(eq - kv) >= sizeof name)
		return mq_err_set(e, EINVAL, "bad config '%s': expected "
				  "key=value", kv);
	memcpy(name, kv, (size_t)(eq - kv));
	name[eq - kv] = '\0';
	return mq_config_set(c, name, eq + 1, e);
}

const char *
mq_config_get(const struct mq_config *c, size_t i, char *buf, size_t n)
{
	const struct key *k = &keys[i];
	int64_t v = *field((struct mq_config *)c, k);

	switch (k->kind) {
	case K_POLICY:
		snprintf(buf, n, "%s", v == MQ_POLICY_DELETE ? "delete" :
			 v == MQ_POLICY_COMPACT ? "compact" : "compact,delete");
		break;
	case K_CODEC:
		snprintf(buf, n, "%s", mq_codec_name((int)v));
		break;
	default:
		snprintf(buf, n, "%lld", (long long)v);
	}
	return k->name;
}

/*
 * Every byte is read: a NUL must not end the text early (the keys after it
 * would silently take their defaults, partitions=1 hiding partitions), and
 * a key may appear once (a second one would win, bypassing the rules
 * alter enforces between an old value and a new one).
 */
int
mq_config_parse(struct mq_config *c, const char *text, size_t len,
		struct mq_err *e)
{
	const char *p = text, *end = text + len;
	int line = 0, first[NKEYS] = {0};

	mq_config_defaults(c);
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p)), *eq;
		size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
		char buf[256];

		line++;
		if (n >= sizeof buf)
			return mq_err_set(e, EBADMSG, "config line %d is too "
					  "long", line);
		if (memchr(p, '\0', n))
			return mq_err_set(e, EBADMSG, "config line %d holds a "
					  "NUL byte", line);
		memcpy(buf, p, n);
		buf[n] = '\0';
		p += n + (nl ? 1 : 0);
		if (buf[0] == '\0' || buf[0] == '#')
			continue;
		eq = strchr(buf, '=');
		for (size_t i = 0; eq && i < NKEYS; i++) {
			if (strlen(keys[i].name) != (size_t)(eq - buf) ||
			    strncmp(keys[i].name, buf, (size_t)(eq - buf)))
				continue;
			if (first[i])
				return mq_err_set(e, EBADMSG, "config line %d: "
						  "%s is set again (first on "
						  "line %d)", line,
						  keys[i].name, first[i]);
			first[i] = line;
		}
		if (mq_config_set_kv(c, buf, e) < 0) {
			char msg[MQ_ERR_MAX];
			snprintf(msg, sizeof msg, "%s", e->msg);
			return mq_err_set(e, EBADMSG, "config line %d: %s",
					  line, msg);
		}
	}
	return 0;
}

char *
mq_config_format(const struct mq_config *c)
{
	size_t cap = 64 * NKEYS, len = 0;
	char *out = malloc(cap), val[64];

	if (!out)
		return NULL;
	for (size_t i = 0; i < NKEYS; i++) {
		const char *k = mq_config_get(c, i, val, sizeof val);
		len += (size_t)snprintf(out + len, cap - len, "%s=%s\n", k,
					val);
	}
	return out;
}

/*
 * As Kafka's broker: a timestamp more than before.max.ms behind now or
 * more than after.max.ms ahead of it is refused.  The differences are
 * taken in unsigned arithmetic, where they are exact for any two int64
 * values, so neither INT64_MIN nor INT64_MAX overflows.
 */
int
mq_ts_check(const struct mq_config *c, int64_t ts, int64_t now,
	    struct mq_err *e)
{
	if (ts > now && (uint64_t)ts - (uint64_t)now >
	    (uint64_t)c->timestamp_after_max_ms)
		return mq_err_set(e, EINVAL, "timestamp %lld is more than "
				  "message.timestamp.after.max.ms (%lld) "
				  "after now (%lld)", (long long)ts,
				  (long long)c->timestamp_after_max_ms,
				  (long long)now);
	if (ts < now && (uint64_t)now - (uint64_t)ts >
	    (uint64_t)c->timestamp_before_max_ms)
		return mq_err_set(e, EINVAL, "timestamp %lld is more than "
				  "message.timestamp.before.max.ms (%lld) "
				  "before now (%lld)", (long long)ts,
				  (long long)c->timestamp_before_max_ms,
				  (long long)now);
	return 0;
}

int64_t
mq_ts_horizon(const struct mq_config *c, int64_t now)
{
	int64_t after = c->timestamp_after_max_ms;

	if (after < 0)
		after = 0;
	return now > INT64_MAX - after ? INT64_MAX : now + after;
}
