/*
 * test-config.c - topic configuration (config.c): defaults, setting every
 * key, every kind of error, the config file format and its round trip,
 * and the timestamp rule of message.timestamp.{before,after}.max.ms.
 */
#include <config.h>

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mq.h"
#include "tap.h"

#define DAY 86400000LL

static void
test_defaults(void)
{
	struct mq_config c;

	memset(&c, 0x5a, sizeof c);
	mq_config_defaults(&c);
	ok(c.partitions == 1, "default partitions is 1");
	ok(c.segment_bytes == 1LL << 30, "default segment.bytes is 1 GiB");
	ok(c.segment_ms == 7 * DAY, "default segment.ms is 7 days");
	ok(c.retention_ms == 7 * DAY, "default retention.ms is 7 days");
	ok(c.retention_bytes == -1, "default retention.bytes is -1");
	ok(c.cleanup_policy == MQ_POLICY_DELETE,
	   "default cleanup.policy is delete");
	ok(c.compression == MQ_CODEC_NONE, "default compression is none");
	ok(c.max_message_bytes == 1LL << 20,
	   "default max.message.bytes is 1 MiB");
	ok(c.min_compaction_lag_ms == 0, "default min.compaction.lag.ms is 0");
	ok(c.delete_retention_ms == DAY, "default delete.retention.ms is 1 day");
	ok(c.timestamp_before_max_ms == INT64_MAX,
	   "default message.timestamp.before.max.ms is unlimited (2^63-1)");
	ok(c.timestamp_after_max_ms == 3600000,
	   "default message.timestamp.after.max.ms is 1 hour");
	ok(mq_config_count() == 12, "there are 12 config keys");
}

/* The field a key sets, for checks that name keys. */
static int64_t *
field_of(struct mq_config *c, const char *key)
{
	static const struct {
		const char *key;
		size_t off;
	} map[] = {
		{"partitions", offsetof(struct mq_config, partitions)},
		{"segment.bytes", offsetof(struct mq_config, segment_bytes)},
		{"segment.ms", offsetof(struct mq_config, segment_ms)},
		{"retention.ms", offsetof(struct mq_config, retention_ms)},
		{"retention.bytes", offsetof(struct mq_config,
					     retention_bytes)},
		{"cleanup.policy", offsetof(struct mq_config, cleanup_policy)},
		{"compression", offsetof(struct mq_config, compression)},
		{"max.message.bytes", offsetof(struct mq_config,
					       max_message_bytes)},
		{"min.compaction.lag.ms", offsetof(struct mq_config,
						   min_compaction_lag_ms)},
		{"delete.retention.ms", offsetof(struct mq_config,
						 delete_retention_ms)},
		{"message.timestamp.before.max.ms",
		 offsetof(struct mq_config, timestamp_before_max_ms)},
		{"message.timestamp.after.max.ms",
		 offsetof(struct mq_config, timestamp_after_max_ms)},
	};
	for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
		if (strcmp(map[i].key, key) == 0)
			return (int64_t *)(void *)((char *)c + map[i].off);
	return NULL;
}

static void
set_ok(const char *key, const char *value, int64_t want)
{
	struct mq_config c, d;
	struct mq_err e = {0};
	int64_t *f;
	int rc;

	mq_config_defaults(&c);
	rc = mq_config_set(&c, key, value, &e);
	f = field_of(&c, key);
	/* Only that field changes. */
	d = c;
	mq_config_defaults(&c);
	if (f)
		*field_of(&c, key) = want;
	ok(rc == 0 && f && *field_of(&d, key) == want &&
	   memcmp(&c, &d, sizeof c) == 0,
	   "%s=%s sets %lld and nothing else (rc %d, '%s')", key, value,
	   (long long)want, rc, e.msg);
}

static void
set_bad(const char *key, const char *value, const char *needle)
{
	struct mq_config c, d;
	struct mq_err e = {0};
	int rc;

	mq_config_defaults(&c);
	d = c;
	rc = mq_config_set(&c, key, value, &e);
	ok(rc == -1 && e.code == EINVAL && strstr(e.msg, key) &&
	   (!needle || strstr(e.msg, needle)) &&
	   memcmp(&c, &d, sizeof c) == 0,
	   "%s=%s is refused with EINVAL naming the key%s%s, config "
	   "unchanged ('%s')", key, value, needle ? " and " : "",
	   needle ? needle : "", e.msg);
}

static void
test_set(void)
{
	set_ok("partitions", "1", 1);
	set_ok("partitions", "12", 12);
	set_ok("partitions", "100000", 100000);
	set_ok("segment.bytes", "512", 512);
	set_ok("segment.bytes", "1048576", 1048576);
	set_ok("segment.bytes", "64MiB", 64LL << 20);
	set_ok("segment.bytes", "100MB", 100000000);
	set_ok("segment.bytes", "1G", 1LL << 30);
	set_ok("segment.bytes", "2147483647", 2147483647);
	set_ok("segment.ms", "1", 1);
	set_ok("segment.ms", "1h", 3600000);
	set_ok("segment.ms", "2d", 2 * DAY);
	set_ok("retention.ms", "-1", -1);
	set_ok("retention.ms", "0", 0);
	set_ok("retention.ms", "3d", 3 * DAY);
	set_ok("retention.ms", "1w", 7 * DAY);
	set_ok("retention.ms", "90min", 90 * 60000);
	set_ok("retention.bytes", "-1", -1);
	set_ok("retention.bytes", "0", 0);
	set_ok("retention.bytes", "10GB", 10000000000LL);
	set_ok("retention.bytes", "5TiB", 5LL << 40);
	set_ok("cleanup.policy", "delete", MQ_POLICY_DELETE);
	set_ok("cleanup.policy", "compact", MQ_POLICY_COMPACT);
	set_ok("cleanup.policy", "compact,delete",
	       MQ_POLICY_COMPACT | MQ_POLICY_DELETE);
	set_ok("cleanup.policy", "delete,compact",
	       MQ_POLICY_COMPACT | MQ_POLICY_DELETE);
	set_ok("compression", "zlib", MQ_CODEC_ZLIB);
	set_ok("compression", "none", MQ_CODEC_NONE);
	set_ok("max.message.bytes", "64", 64);
	set_ok("max.message.bytes", "2k", 2048);
	set_ok("max.message.bytes", "1GiB", 1LL << 30);
	set_ok("min.compaction.lag.ms", "0", 0);
	set_ok("min.compaction.lag.ms", "5s", 5000);
	set_ok("delete.retention.ms", "0", 0);
	set_ok("delete.retention.ms", "12h", 12 * 3600000LL);
	set_ok("message.timestamp.before.max.ms", "0", 0);
	set_ok("message.timestamp.before.max.ms", "30d", 30 * DAY);
	set_ok("message.timestamp.before.max.ms", "9223372036854775807",
	       INT64_MAX);
	set_ok("message.timestamp.after.max.ms", "0", 0);
	set_ok("message.timestamp.after.max.ms", "5min", 300000);
	set_ok("message.timestamp.after.max.ms", "9223372036854775807",
	       INT64_MAX);

	/* Unknown keys. */
	set_bad("partition", "1", "unknown");
	set_bad("Partitions", "1", "unknown");
	set_bad("", "1", "unknown");
	set_bad("retention.hours", "1", "unknown");
	/* Bad values. */
	set_bad("partitions", "abc", NULL);
	set_bad("partitions", "", NULL);
	set_bad("partitions", "1k", NULL);
	set_bad("partitions", " 2", NULL);
	set_bad("segment.bytes", "1X", "unit");
	set_bad("segment.bytes", "", NULL);
	set_bad("segment.ms", "1y", "unit");
	set_bad("retention.ms", "soon", NULL);
	set_bad("retention.bytes", "1.5G", NULL);
	set_bad("max.message.bytes", "lots", NULL);
	set_bad("min.compaction.lag.ms", "1 s", NULL);
	set_bad("delete.retention.ms", "1e3", NULL);
	/* Out of range. */
	set_bad("partitions", "0", NULL);
	set_bad("partitions", "100001", NULL);
	set_bad("partitions", "18446744073709551616", NULL);
	set_bad("segment.bytes", "511", NULL);
	set_bad("segment.bytes", "2GiB", NULL);
	set_bad("segment.bytes", "0", NULL);
	set_bad("segment.ms", "0", NULL);
	set_bad("max.message.bytes", "63", NULL);
	set_bad("max.message.bytes", "1025MiB", NULL);
	set_bad("retention.bytes", "9999999999T", "too large");
	/* Bad enums. */
	set_bad("cleanup.policy", "remove", NULL);
	set_bad("cleanup.policy", "", NULL);
	set_bad("cleanup.policy", "compact,", NULL);
	set_bad("cleanup.policy", "Delete", NULL);
	set_bad("compression", "gzip", NULL);
	set_bad("compression", "", NULL);
	set_bad("compression", "ZLIB", NULL);
	/* -1 where no limit makes no sense. */
	set_bad("partitions", "-1", NULL);
	set_bad("segment.bytes", "-1", NULL);
	set_bad("segment.ms", "-1", NULL);
	set_bad("max.message.bytes", "-1", NULL);
	set_bad("min.compaction.lag.ms", "-1", NULL);
	set_bad("delete.retention.ms", "-1", NULL);
	/* As in Kafka: no -1; 2^63-1 is "no limit". */
	set_bad("message.timestamp.before.max.ms", "-1", NULL);
	set_bad("message.timestamp.after.max.ms", "-1", NULL);
	set_bad("message.timestamp.after.max.ms", "9223372036854775808",
		NULL);
	set_bad("message.timestamp.after.max.ms", "1y", "unit");
	set_bad("message.timestamp.before.max.ms", "", NULL);
	set_bad("retention.ms", "-2", NULL);
	set_bad("retention.bytes", "-2", NULL);
}

static void
test_set_kv(void)
{
	struct mq_config c;
	struct mq_err e = {0};
	int rc;

	mq_config_defaults(&c);
	rc = mq_config_set_kv(&c, "partitions=7", &e);
	ok(rc == 0 && c.partitions == 7, "set_kv partitions=7 sets 7");
	rc = mq_config_set_kv(&c, "retention.ms=2d", &e);
	ok(rc == 0 && c.retention_ms == 2 * DAY, "set_kv retention.ms=2d");
	rc = mq_config_set_kv(&c, "compression=zlib", &e);
	ok(rc == 0 && c.compression == MQ_CODEC_ZLIB, "set_kv compression");

	memset(&e, 0, sizeof e);
	rc = mq_config_set_kv(&c, "partitions", &e);
	ok(rc == -1 && e.code == EINVAL && strstr(e.msg, "key=value") &&
	   c.partitions == 7,
	   "set_kv without '=' is refused asking for key=value ('%s')", e.msg);
	memset(&e, 0, sizeof e);
	rc = mq_config_set_kv(&c, "=3", &e);
	ok(rc == -1 && e.code == EINVAL, "set_kv with an empty key is refused "
	   "('%s')", e.msg);
	memset(&e, 0, sizeof e);
	rc = mq_config_set_kv(&c, "partitions=", &e);
	ok(rc == -1 && e.code == EINVAL && strstr(e.msg, "partitions"),
	   "set_kv with an empty value is refused naming the key ('%s')",
	   e.msg);
	memset(&e, 0, sizeof e);
	rc = mq_config_set_kv(&c, "partitions=3=4", &e);
	ok(rc == -1 && e.code == EINVAL, "set_kv value with '=' is refused");
	memset(&e, 0, sizeof e);
	rc = mq_config_set_kv(&c, "nosuch.key=1", &e);
	ok(rc == -1 && e.code == EINVAL && strstr(e.msg, "nosuch.key"),
	   "set_kv with an unknown key names it ('%s')", e.msg);
	{
		char longkey[200];
		memset(longkey, 'k', sizeof longkey - 3);
		strcpy(longkey + sizeof longkey - 3, "=1");
		memset(&e, 0, sizeof e);
		rc = mq_config_set_kv(&c, longkey, &e);
		ok(rc == -1 && e.code == EINVAL,
		   "set_kv with a 197-byte key is refused");
	}
	ok(c.partitions == 7 && c.retention_ms == 2 * DAY,
	   "failed set_kv calls left the config as it was");
}

static const char *
get_key(const struct mq_config *c, const char *key, char *buf, size_t n)
{
	for (size_t i = 0; i < mq_config_count(); i++) {
		const char *k = mq_config_get(c, i, buf, n);
		if (strcmp(k, key) == 0)
			return buf;
	}
	return NULL;
}

static void
test_get(void)
{
	struct mq_config c;
	char buf[64];
	const char *v;

	mq_config_defaults(&c);
	v = get_key(&c, "cleanup.policy", buf, sizeof buf);
	ok(v && strcmp(v, "delete") == 0, "get cleanup.policy is 'delete'");
	c.cleanup_policy = MQ_POLICY_COMPACT;
	v = get_key(&c, "cleanup.policy", buf, sizeof buf);
	ok(v && strcmp(v, "compact") == 0, "get cleanup.policy is 'compact'");
	c.cleanup_policy = MQ_POLICY_COMPACT | MQ_POLICY_DELETE;
	v = get_key(&c, "cleanup.policy", buf, sizeof buf);
	ok(v && strcmp(v, "compact,delete") == 0,
	   "get cleanup.policy is 'compact,delete'");
	v = get_key(&c, "compression", buf, sizeof buf);
	ok(v && strcmp(v, "none") == 0, "get compression is 'none'");
	c.compression = MQ_CODEC_ZLIB;
	v = get_key(&c, "compression", buf, sizeof buf);
	ok(v && strcmp(v, "zlib") == 0, "get compression is 'zlib'");
	v = get_key(&c, "retention.bytes", buf, sizeof buf);
	ok(v && strcmp(v, "-1") == 0, "get retention.bytes is '-1'");
	v = get_key(&c, "segment.bytes", buf, sizeof buf);
	ok(v && strcmp(v, "1073741824") == 0,
	   "get segment.bytes is in bytes: '%s'", v ? v : "(none)");
	v = get_key(&c, "retention.ms", buf, sizeof buf);
	ok(v && strcmp(v, "604800000") == 0,
	   "get retention.ms is in ms: '%s'", v ? v : "(none)");
	ok(strcmp(mq_codec_name(MQ_CODEC_ZLIB), "zlib") == 0 &&
	   strcmp(mq_codec_name(MQ_CODEC_NONE), "none") == 0 &&
	   mq_codec_lookup("zlib") == MQ_CODEC_ZLIB &&
	   mq_codec_lookup("none") == MQ_CODEC_NONE &&
	   strcmp(mq_codec_name(MQ_CODEC_ZSTD), "zstd") == 0 &&
	   strcmp(mq_codec_name(MQ_CODEC_LZ4), "lz4") == 0 &&
	   mq_codec_lookup("zstd") == MQ_CODEC_ZSTD &&
	   mq_codec_lookup("lz4") == MQ_CODEC_LZ4 &&
	   mq_codec_lookup("lzma") == -1,
	   "codec names and lookups agree");
	{
		size_t n = mq_config_count(), distinct = 1;
		char b2[64];
		for (size_t i = 1; i < n; i++) {
			const char *k = mq_config_get(&c, i, buf, sizeof buf);
			size_t j;
			for (j = 0; j < i; j++)
				if (strcmp(mq_config_get(&c, j, b2, sizeof b2),
					   k) == 0)
					break;
			distinct += j == i;
		}
		ok(distinct == n, "mq_config_get names %zu distinct keys", n);
	}
}

/* mq_config_parse over a C string. */
static int
parse_str(struct mq_config *c, const char *text, struct mq_err *e)
{
	return mq_config_parse(c, text, strlen(text), e);
}

static void
test_file(void)
{
	struct mq_config c, d;
	struct mq_err e = {0};
	char *text, *text2;
	int rc;

	mq_config_defaults(&c);
	c.partitions = 13;
	c.segment_bytes = 123456;
	c.segment_ms = 3600001;
	c.retention_ms = -1;
	c.retention_bytes = 987654321012LL;
	c.cleanup_policy = MQ_POLICY_COMPACT | MQ_POLICY_DELETE;
	c.compression = MQ_CODEC_ZLIB;
	c.max_message_bytes = 65536 + 3;
	c.min_compaction_lag_ms = 42;
	c.delete_retention_ms = 0;
	c.timestamp_before_max_ms = 7;
	c.timestamp_after_max_ms = INT64_MAX;

	text = mq_config_format(&c);
	ok(text != NULL, "mq_config_format returns text");
	memset(&d, 0x5a, sizeof d);
	rc = text ? parse_str(&d, text, &e) : -1;
	ok(rc == 0 && memcmp(&c, &d, sizeof c) == 0,
	   "format then parse round-trips a non-default config ('%s')", e.msg);
	text2 = mq_config_format(&d);
	ok(text && text2 && strcmp(text, text2) == 0,
	   "formatting the parsed config gives the same text");
	ok(text && strstr(text, "cleanup.policy=compact,delete\n") &&
	   strstr(text, "compression=zlib\n") &&
	   strstr(text, "retention.ms=-1\n") && strstr(text, "partitions=13\n"),
	   "format writes key=value lines with names for enums");
	{
		size_t lines = 0;
		for (const char *p = text; p && *p; p++)
			lines += *p == '\n';
		ok(lines == mq_config_count(), "format writes one line per key "
		   "(%zu)", lines);
	}
	free(text);
	free(text2);

	/* Defaults round-trip too. */
	mq_config_defaults(&c);
	text = mq_config_format(&c);
	memset(&d, 0, sizeof d);
	rc = text ? parse_str(&d, text, &e) : -1;
	ok(rc == 0 && memcmp(&c, &d, sizeof c) == 0,
	   "the default config round-trips");
	free(text);

	/* Missing keys take their defaults; comments and blanks are skipped. */
	memset(&d, 0x5a, sizeof d);
	rc = parse_str(&d, "# a comment\n\npartitions=4\n"
			     "#retention.ms=5\n\n\ncompression=zlib", &e);
	mq_config_defaults(&c);
	c.partitions = 4;
	c.compression = MQ_CODEC_ZLIB;
	ok(rc == 0 && memcmp(&c, &d, sizeof c) == 0,
	   "parse skips blank lines and # comments, defaults the rest, and "
	   "takes a last line without a newline ('%s')", e.msg);
	memset(&d, 0x5a, sizeof d);
	rc = parse_str(&d, "", &e);
	mq_config_defaults(&c);
	ok(rc == 0 && memcmp(&c, &d, sizeof c) == 0,
	   "parsing an empty file gives the defaults");

	memset(&e, 0, sizeof e);
	rc = parse_str(&d, "partitions=2\n# ok\nbogus=1\nsegment.ms=1\n",
			     &e);
	ok(rc == -1 && strstr(e.msg, "line 3") && strstr(e.msg, "bogus"),
	   "parse rejects an unknown key naming line 3 and the key ('%s')",
	   e.msg);
	memset(&e, 0, sizeof e);
	rc = parse_str(&d, "\n\n\n\npartitions=zero\n", &e);
	ok(rc == -1 && strstr(e.msg, "line 5") && strstr(e.msg, "partitions"),
	   "parse rejects a bad value naming line 5 ('%s')", e.msg);
	memset(&e, 0, sizeof e);
	rc = parse_str(&d, "partitions=2\njust some words\n", &e);
	ok(rc == -1 && strstr(e.msg, "line 2"),
	   "parse rejects a line without '=' naming line 2 ('%s')", e.msg);
	memset(&e, 0, sizeof e);
	rc = parse_str(&d, "segment.bytes=1\n", &e);
	ok(rc == -1 && strstr(e.msg, "line 1") &&
	   strstr(e.msg, "segment.bytes"),
	   "parse rejects an out-of-range value naming line 1 ('%s')", e.msg);
	{
		char big[400];
		memset(big, '#', sizeof big - 1);
		big[sizeof big - 1] = '\0';
		memcpy(big, "partitions=2\n", 13);
		memset(&e, 0, sizeof e);
		rc = parse_str(&d, big, &e);
		ok(rc == -1 && strstr(e.msg, "line 2"),
		   "parse rejects an overlong line naming line 2 ('%s')",
		   e.msg);
	}

	/* A NUL byte ends nothing: the lines after it count, so it is
	 * refused rather than taken for the end of the file. */
	{
		static const char nul[] = "segment.bytes=4096\n\0\n"
					  "partitions=3\n";
		memset(&e, 0, sizeof e);
		rc = mq_config_parse(&d, nul, sizeof nul - 1, &e);
		ok(rc == -1 && e.code == EBADMSG && strstr(e.msg, "line 2") &&
		   strstr(e.msg, "NUL"),
		   "parse rejects a NUL byte naming line 2 ('%s')", e.msg);
		static const char inline_nul[] = "partitions=3\0junk\n";
		memset(&e, 0, sizeof e);
		rc = mq_config_parse(&d, inline_nul, sizeof inline_nul - 1,
				     &e);
		ok(rc == -1 && strstr(e.msg, "line 1") && strstr(e.msg, "NUL"),
		   "parse rejects a NUL byte inside a line ('%s')", e.msg);
		memset(&e, 0, sizeof e);
		rc = mq_config_parse(&d, "partitions=3\n", 12, &e);
		ok(rc == 0 && d.partitions == 3,
		   "parse reads len bytes: a last line without its newline");
	}
	/* A key set twice is refused, naming both lines: the last must not
	 * quietly win (partitions=1 after partitions=3 would hide two). */
	memset(&e, 0, sizeof e);
	rc = parse_str(&d, "partitions=3\nsegment.ms=1h\n# x\npartitions=1\n",
		       &e);
	ok(rc == -1 && e.code == EBADMSG && strstr(e.msg, "line 4") &&
	   strstr(e.msg, "partitions") && strstr(e.msg, "line 1"),
	   "parse rejects a key given twice naming both lines ('%s')", e.msg);
	memset(&e, 0, sizeof e);
	rc = parse_str(&d, "compression=zlib\ncompression=zlib\n", &e);
	ok(rc == -1 && strstr(e.msg, "line 2") &&
	   strstr(e.msg, "compression"),
	   "parse rejects a key given twice even with the same value ('%s')",
	   e.msg);
	memset(&e, 0, sizeof e);
	rc = parse_str(&d, "partitions=2\n#partitions=5\n", &e);
	ok(rc == 0 && d.partitions == 2,
	   "a commented-out key is not a second one");
}

/* mq_ts_check with these limits; returns its rc, e->msg kept. */
static int
check(int64_t before, int64_t after, int64_t ts, int64_t now,
      struct mq_err *e)
{
	struct mq_config c;

	mq_config_defaults(&c);
	c.timestamp_before_max_ms = before;
	c.timestamp_after_max_ms = after;
	memset(e, 0, sizeof *e);
	return mq_ts_check(&c, ts, now, e);
}

static void
test_ts_check(void)
{
	const int64_t now = 1796000000000LL, H = 3600000;
	struct mq_config c;
	struct mq_err e;

	/* The defaults: an hour ahead at most, any age. */
	mq_config_defaults(&c);
	ok(mq_ts_check(&c, now, now, &e) == 0, "now passes");
	ok(mq_ts_check(&c, now + H, now, &e) == 0,
	   "exactly after.max.ms ahead passes (Kafka refuses only beyond)");
	ok(mq_ts_check(&c, now + H + 1, now, &e) == -1 && e.code == EINVAL &&
	   strstr(e.msg, "message.timestamp.after.max.ms (3600000)") &&
	   strstr(e.msg, "1796003600001") && strstr(e.msg, "1796000000000"),
	   "1 ms beyond is refused, naming the timestamp, the key, its "
	   "limit and now ('%s')", e.msg);
	ok(mq_ts_check(&c, 0, now, &e) == 0,
	   "with before.max.ms unlimited, 0 passes");
	ok(mq_ts_check(&c, INT64_MIN, now, &e) == -1 && strstr(e.msg, "before"),
	   "INT64_MIN is more than 2^63-1 behind now: refused even then, "
	   "without overflow");
	ok(mq_ts_check(&c, 32472144000000LL, now, &e) == -1,
	   "2999-01-01 is refused");
	ok(mq_ts_check(&c, INT64_MAX, now, &e) == -1 && e.code == EINVAL &&
	   strstr(e.msg, "9223372036854775807"),
	   "INT64_MAX is refused ('%s')", e.msg);

	/* before.max.ms. */
	ok(check(1000, H, now - 1000, now, &e) == 0,
	   "exactly before.max.ms old passes");
	ok(check(1000, H, now - 1001, now, &e) == -1 && e.code == EINVAL &&
	   strstr(e.msg, "message.timestamp.before.max.ms (1000)") &&
	   strstr(e.msg, "1795999998999"),
	   "1 ms older is refused, naming the key and its limit ('%s')",
	   e.msg);
	ok(check(0, 0, now, now, &e) == 0 && check(0, 0, now + 1, now, &e) ==
	   -1 && check(0, 0, now - 1, now, &e) == -1,
	   "with both limits 0 only now itself passes");

	/* The extremes: no overflow whatever the values (UBSan). */
	ok(check(INT64_MAX, INT64_MAX, INT64_MAX, INT64_MIN, &e) == -1 &&
	   strstr(e.msg, "after"),
	   "INT64_MAX at now INT64_MIN is 2^64-1 ahead: over any limit");
	ok(check(INT64_MAX, INT64_MAX, INT64_MIN, INT64_MAX, &e) == -1 &&
	   strstr(e.msg, "before"),
	   "INT64_MIN at now INT64_MAX is 2^64-1 behind: over any limit");
	ok(check(INT64_MAX, INT64_MAX, INT64_MAX, 0, &e) == 0 &&
	   check(INT64_MAX, INT64_MAX, 0, INT64_MAX, &e) == 0 &&
	   check(INT64_MAX, INT64_MAX, -1, INT64_MAX, &e) == -1,
	   "2^63-1 apart passes an unlimited key, 2^63 does not");
	ok(check(INT64_MAX, 0, INT64_MIN, INT64_MIN, &e) == 0 &&
	   check(0, INT64_MAX, INT64_MAX, INT64_MAX, &e) == 0,
	   "a timestamp equal to now passes at both ends of the range");

	/* The horizon: now + after.max.ms, saturated. */
	ok(mq_ts_horizon(&c, now) == now + H, "horizon is now + after.max.ms");
	c.timestamp_after_max_ms = INT64_MAX;
	ok(mq_ts_horizon(&c, now) == INT64_MAX &&
	   mq_ts_horizon(&c, INT64_MAX) == INT64_MAX &&
	   mq_ts_horizon(&c, INT64_MIN) == -1,
	   "horizon saturates at INT64_MAX and never overflows");
	c.timestamp_after_max_ms = 0;
	ok(mq_ts_horizon(&c, INT64_MIN) == INT64_MIN,
	   "horizon with after.max.ms 0 is now");
}

int
main(void)
{
	test_defaults();
	test_set();
	test_set_kv();
	test_get();
	test_file();
	test_ts_check();
	return tap_done();
}
