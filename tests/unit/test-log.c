/*
 * test-log.c - the log at library level, in a temporary spool: spool and
 * topic creation, appending batches (partition.c), reading them back by
 * offset and by time (reader.c), segment rolls, the head (head.c), two
 * writers on one partition, torn-tail recovery, corruption and garbage
 * indexes; rolling by segment.ms with odd timestamps, and the producer's
 * timestamp check (producer.c).
 *
 * Record o of every topic here has key "k<o>", value "v<o>:" followed by
 * pad_len 'x's and timestamp TS0 + 10 * o, so any read can be checked
 * against its offset alone.
 */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mqcmd.h"
#include "tap.h"

#define TS0 1700000000000LL

static char tmpdir[1024];
static char spool_path[1100];
static struct mq_spool sp;
static size_t pad_len = 20;
static int batch_codec = MQ_CODEC_NONE;
static struct mq_codec *cz;

static int64_t
ts_of(uint64_t o)
{
	return TS0 + 10 * (int64_t)o;
}

static size_t
value_of(uint64_t o, char *buf, size_t cap)
{
	int n = snprintf(buf, cap, "v%llu:", (unsigned long long)o);
	size_t len = (size_t)n + pad_len;

	if (len > cap)
		return 0;
	memset(buf + n, 'x', pad_len);
	return len;
}

/* A sealed batch of records id0..id0+n-1 (ids become offsets). */
static void
make_batch(struct mq_bb *b, uint64_t id0, int n)
{
	struct mq_err e;

	mq_bb_reset(b);
	for (int i = 0; i < n; i++) {
		uint64_t o = id0 + (uint64_t)i;
		char key[32], val[4096];
		int kl = snprintf(key, sizeof key, "k%llu",
				  (unsigned long long)o);
		size_t vl = value_of(o, val, sizeof val);
		if (mq_bb_add(b, ts_of(o), key, (size_t)kl, val, vl, NULL, 0,
			      0) < 0) {
			fprintf(stderr, "mq_bb_add failed\n");
			exit(99);
		}
	}
	if (mq_bb_seal(b, batch_codec, cz, &e) < 0) {
		fprintf(stderr, "mq_bb_seal: %s\n", e.msg);
		exit(99);
	}
}

/* Appends n records starting at *next; returns the base offset or -1. */
static int64_t
append(struct mq_pwriter *w, uint64_t *next, int n, size_t *blen)
{
	struct mq_bb b;
	struct mq_err e = {0};
	uint64_t base = UINT64_MAX;
	int rc;

	mq_bb_init(&b);
	make_batch(&b, *next, n);
	rc = mq_pwriter_append(w, &b, &base, &e);
	if (blen)
		*blen = b.outlen;
	mq_bb_free(&b);
	if (rc < 0) {
		printf("# append failed: %s\n", e.msg);
		return -1;
	}
	*next += (uint64_t)n;
	return (int64_t)base;
}

static int
rec_ok(const struct mq_record *r, uint64_t o)
{
	char key[32], val[4096];
	int kl = snprintf(key, sizeof key, "k%llu", (unsigned long long)o);
	size_t vl = value_of(o, val, sizeof val);

	return r->offset == o && r->ts == ts_of(o) && r->key &&
	       r->klen == (size_t)kl && memcmp(r->key, key, r->klen) == 0 &&
	       r->value && r->vlen == vl && memcmp(r->value, val, vl) == 0 &&
	       r->nheaders == 0;
}

/*
 * Reads the records [from, to) in order, checking each, then expects the
 * end (1).  Returns 1 if all is well; else 0 with *why filled.
 */
static int
read_range(struct mq_preader *r, uint64_t from, uint64_t to, char *why,
	   size_t n)
{
	struct mq_record rec;
	struct mq_err e = {0};
	int rc;

	for (uint64_t o = from; o < to; o++) {
		rc = mq_preader_next(r, &rec, &e);
		if (rc != 0) {
			snprintf(why, n, "at %llu: rc %d (%s)",
				 (unsigned long long)o, rc, e.msg);
			return 0;
		}
		if (!rec_ok(&rec, o)) {
			snprintf(why, n, "expected offset %llu, got %llu "
				 "ts %lld", (unsigned long long)o,
				 (unsigned long long)rec.offset,
				 (long long)rec.ts);
			return 0;
		}
	}
	rc = mq_preader_next(r, &rec, &e);
	if (rc != 1) {
		snprintf(why, n, "after %llu: rc %d instead of the end "
			 "(offset %llu, %s)", (unsigned long long)to, rc,
			 rc == 0 ? (unsigned long long)rec.offset : 0ULL,
			 e.msg);
		return 0;
	}
	snprintf(why, n, "ok");
	return 1;
}

/* Seeks a fresh reader and checks that it delivers [from, to). */
static int
seek_read(struct mq_topic *t, int whence, int64_t arg, uint64_t from,
	  uint64_t to, char *why, size_t n)
{
	struct mq_preader r;
	struct mq_err e = {0};
	int good;

	if (mq_preader_open(&r, t, 0, &e) < 0) {
		snprintf(why, n, "open: %s", e.msg);
		return 0;
	}
	if (mq_preader_seek(&r, whence, arg, &e) < 0) {
		snprintf(why, n, "seek: %s", e.msg);
		mq_preader_close(&r);
		return 0;
	}
	good = read_range(&r, from, to, why, n);
	mq_preader_close(&r);
	return good;
}

static int
open_topic(struct mq_topic *t, const char *name, int64_t segment_bytes)
{
	struct mq_config c;
	struct mq_err e = {0};

	mq_config_defaults(&c);
	if (mq_topic_create(&sp, name, &c, &e) < 0 ||
	    mq_topic_open(t, &sp, name, &e) < 0) {
		printf("# topic '%s': %s\n", name, e.msg);
		return -1;
	}
	if (segment_bytes)
		t->cfg.segment_bytes = segment_bytes;
	return 0;
}

static char *
seg_path(const char *topic, uint64_t base, const char *ext)
{
	static char buf[PATH_MAX + 64];
	char name[MQ_SEGNAME_MAX];

	mq_seg_name(name, base, ext);
	snprintf(buf, sizeof buf, "%s/%s/0/%s", spool_path, topic, name);
	return buf;
}

static long long
file_size(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 ? (long long)st.st_size : -1;
}

static unsigned char *
slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	long long n = file_size(path);
	unsigned char *buf;

	if (!f || n < 0) {
		if (f)
			fclose(f);
		return NULL;
	}
	buf = malloc((size_t)n + 1);
	*len = fread(buf, 1, (size_t)n, f);
	fclose(f);
	return buf;
}

static int
spit(const char *path, const void *p, size_t n)
{
	FILE *f = fopen(path, "wb");
	int rc;

	if (!f)
		return -1;
	rc = fwrite(p, 1, n, f) == n ? 0 : -1;
	return fclose(f) == 0 ? rc : -1;
}

static size_t
nsegs(struct mq_topic *t)
{
	struct mq_err e;
	uint64_t *bases = NULL;
	size_t n = 0;
	int pdir = mq_topic_partition_dir(t, 0, &e);

	if (pdir < 0)
		return 0;
	if (mq_seg_list(pdir, "test", &bases, &n, &e) < 0)
		n = 0;
	free(bases);
	close(pdir);
	return n;
}

static int
bounds(struct mq_topic *t, uint64_t *start, uint64_t *end)
{
	struct mq_err e;
	int pdir = mq_topic_partition_dir(t, 0, &e), rc;

	if (pdir < 0)
		return -1;
	rc = mq_partition_bounds(pdir, "p0",
				 (uint64_t)t->cfg.max_message_bytes, start,
				 end, &e);
	close(pdir);
	return rc;
}

/* ---- spool and topics ---- */

static void
test_spool(void)
{
	struct mq_err e = {0};
	struct mq_topic t;
	struct mq_config c;
	char path[PATH_MAX + 16];
	size_t n = 0;
	unsigned char *text;
	int rc;

	rc = mq_spool_open(&sp, spool_path, false, &e);
	ok(rc == -1 && e.code == ENOENT && access(spool_path, F_OK) != 0,
	   "mq_spool_open without create refuses a missing spool, creating "
	   "nothing");
	rc = mq_spool_open(&sp, spool_path, true, &e);
	ok(rc == 0 && sp.fd >= 0 && strcmp(sp.path, spool_path) == 0,
	   "mq_spool_open with create creates a new spool");
	snprintf(path, sizeof path, "%s/+format", spool_path);
	text = slurp(path, &n);
	ok(text && n == 11 && memcmp(text, "mq spool 1\n", 11) == 0,
	   "the spool has a +format marker 'mq spool 1'");
	free(text);
	{
		struct mq_spool sp2;
		rc = mq_spool_open(&sp2, spool_path, false, &e);
		ok(rc == 0, "the spool opens again");
		if (rc == 0)
			mq_spool_close(&sp2);
	}

	mq_config_defaults(&c);
	c.partitions = 2;
	rc = mq_topic_create(&sp, "topic.a", &c, &e);
	ok(rc == 0, "mq_topic_create makes topic.a");
	snprintf(path, sizeof path, "%s/topic.a/1/%020d.log", spool_path, 0);
	ok(file_size(path) == 0, "partition 1 starts with an empty segment 0");
	memset(&e, 0, sizeof e);
	rc = mq_topic_create(&sp, "topic.a", &c, &e);
	ok(rc == -1 && e.code == EEXIST, "creating it again is EEXIST");
	rc = mq_topic_create(&sp, "bad/name", &c, &e);
	ok(rc == -1 && e.code == EINVAL, "a bad topic name is EINVAL");
	rc = mq_topic_open(&t, &sp, "topic.a", &e);
	ok(rc == 0 && t.cfg.partitions == 2 && strcmp(t.name, "topic.a") == 0,
	   "mq_topic_open reads its config back");
	if (rc == 0)
		mq_topic_close(&t);
	memset(&e, 0, sizeof e);
	rc = mq_topic_open(&t, &sp, "nosuch", &e);
	ok(rc == -1 && e.code == ENOENT, "opening a missing topic is ENOENT");
}

/* ---- append and read ---- */

static void
test_append_read(void)
{
	struct mq_topic t;
	struct mq_pwriter w;
	struct mq_preader r;
	struct mq_record rec;
	struct mq_err e = {0};
	uint64_t next = 0, start = 99, end = 99;
	char why[600];
	int64_t b1, b2, b3, b4;
	int rc;

	pad_len = 20;
	if (open_topic(&t, "log", 0) < 0) {
		ok(0, "topic log");
		return;
	}
	ok(bounds(&t, &start, &end) == 0 && start == 0 && end == 0,
	   "an empty partition has bounds 0..0");
	ok(mq_pwriter_open(&w, &t, 0, MQ_SYNC_BATCH, &e) == 0,
	   "mq_pwriter_open");
	b1 = append(&w, &next, 3, NULL);
	b2 = append(&w, &next, 2, NULL);
	b3 = append(&w, &next, 4, NULL);
	ok(b1 == 0 && b2 == 3 && b3 == 5,
	   "three appends get base offsets 0, 3, 5 (got %lld %lld %lld)",
	   (long long)b1, (long long)b2, (long long)b3);
	ok(mq_pwriter_sync(&w, &e) == 0, "mq_pwriter_sync");

	ok(mq_preader_open(&r, &t, 0, &e) == 0, "mq_preader_open");
	ok(read_range(&r, 0, 9, why, sizeof why),
	   "a reader delivers offsets 0..8 with their timestamps, keys and "
	   "values, then the end: %s", why);
	mq_preader_close(&r);

	ok(seek_read(&t, MQ_FROM_BEGINNING, 0, 0, 9, why, sizeof why),
	   "MQ_FROM_BEGINNING delivers 0..8: %s", why);
	ok(seek_read(&t, MQ_FROM_OFFSET, 6, 6, 9, why, sizeof why),
	   "seeking to offset 6, in the middle of the batch 5..8, delivers "
	   "6..8: %s", why);
	ok(seek_read(&t, MQ_FROM_OFFSET, 4, 4, 9, why, sizeof why),
	   "seeking to offset 4, the last of batch 3..4, delivers 4..8: %s",
	   why);
	ok(seek_read(&t, MQ_FROM_OFFSET, 5, 5, 9, why, sizeof why),
	   "seeking to offset 5, a batch start, delivers 5..8: %s", why);
	ok(seek_read(&t, MQ_FROM_OFFSET, 9, 9, 9, why, sizeof why),
	   "seeking to the end offset 9 delivers nothing: %s", why);
	ok(seek_read(&t, MQ_FROM_OFFSET, 1000, 0, 0, why, sizeof why),
	   "seeking past the end delivers nothing: %s", why);
	ok(seek_read(&t, MQ_FROM_TIME, ts_of(4), 4, 9, why, sizeof why),
	   "seeking to the time of offset 4 delivers 4..8: %s", why);
	ok(seek_read(&t, MQ_FROM_TIME, ts_of(4) - 5, 4, 9, why, sizeof why),
	   "seeking to a time between offsets 3 and 4 delivers 4..8: %s", why);
	ok(seek_read(&t, MQ_FROM_TIME, ts_of(7) - 1, 7, 9, why, sizeof why),
	   "seeking to just before the time of offset 7 delivers 7..8: %s",
	   why);
	ok(seek_read(&t, MQ_FROM_TIME, 0, 0, 9, why, sizeof why),
	   "seeking to time 0 delivers everything: %s", why);
	ok(seek_read(&t, MQ_FROM_TIME, ts_of(100), 0, 0, why, sizeof why),
	   "seeking to a time after the last record delivers nothing: %s",
	   why);
	ok(seek_read(&t, MQ_FROM_TAIL, 2, 7, 9, why, sizeof why),
	   "MQ_FROM_TAIL 2 delivers the last 2 (7, 8): %s", why);
	ok(seek_read(&t, MQ_FROM_TAIL, 0, 9, 9, why, sizeof why),
	   "MQ_FROM_TAIL 0 delivers nothing: %s", why);
	ok(seek_read(&t, MQ_FROM_TAIL, 100, 0, 9, why, sizeof why),
	   "MQ_FROM_TAIL 100 delivers all 9: %s", why);
	rc = bounds(&t, &start, &end);
	ok(rc == 0 && start == 0 && end == 9,
	   "mq_partition_bounds is 0..9 (%llu..%llu)",
	   (unsigned long long)start, (unsigned long long)end);

	/* The end: nothing until the next append. */
	ok(mq_preader_open(&r, &t, 0, &e) == 0 &&
	   mq_preader_seek(&r, MQ_FROM_END, 0, &e) == 0,
	   "a reader seeks to the end");
	ok(mq_preader_next(&r, &rec, &e) == 1, "at the end it returns 1");
	ok(mq_preader_next(&r, &rec, &e) == 1, "and 1 again");
	b4 = append(&w, &next, 1, NULL);
	ok(b4 == 9, "the next append gets offset 9");
	ok(read_range(&r, 9, 10, why, sizeof why),
	   "the reader at the end then delivers offset 9 only: %s", why);
	b4 = append(&w, &next, 2, NULL);
	ok(b4 == 10 && read_range(&r, 10, 12, why, sizeof why),
	   "and after another append 10..11: %s", why);
	mq_preader_close(&r);
	ok(bounds(&t, &start, &end) == 0 && start == 0 && end == 12,
	   "mq_partition_bounds is then 0..12");
	{
		struct mq_pinfo pi;
		rc = mq_partition_info(&t, 0, &pi, &e);
		ok(rc == 0 && pi.start == 0 && pi.end == 12 &&
		   pi.segments == 1 && pi.recovered_bytes == 0 &&
		   pi.recoveries == 0 &&
		   (long long)pi.bytes == file_size(seg_path("log", 0, "log")),
		   "mq_partition_info: 0..12, one segment, its size, no "
		   "recoveries");
	}
	mq_pwriter_close(&w);
	mq_topic_close(&t);
}

/* ---- segment rolls ---- */

static void
test_roll(void)
{
	struct mq_topic t;
	struct mq_pwriter w;
	struct mq_err e = {0};
	uint64_t next = 0, start, end, *bases = NULL, batch_bases[30];
	size_t n = 0, blen = 0;
	char why[600];
	int good = 1, pdir, rc;
	struct mq_preader live;
	struct mq_record rec;

	pad_len = 100;
	if (open_topic(&t, "roll", 1000) < 0) {
		ok(0, "topic roll");
		return;
	}
	mq_pwriter_open(&w, &t, 0, MQ_SYNC_NONE, &e);
	for (int i = 0; i < 30; i++) {
		int64_t b;
		if (i == 10) {
			/* A reader waiting at the end while the log rolls. */
			rc = mq_preader_open(&live, &t, 0, &e) == 0 &&
			     mq_preader_seek(&live, MQ_FROM_END, 0, &e) == 0 &&
			     mq_preader_next(&live, &rec, &e) == 1;
			ok(rc, "a reader waits at the end (offset 20)");
		}
		b = append(&w, &next, 2, &blen);
		good &= b == 2 * i;
		batch_bases[i] = (uint64_t)b;
	}
	ok(good, "30 appends of 2 records get bases 0, 2, .. 58");
	mq_pwriter_close(&w);
	ok(read_range(&live, 20, 60, why, sizeof why),
	   "the waiting reader follows the appends across the rolls, "
	   "delivering 20..59: %s", why);
	mq_preader_close(&live);

	pdir = mq_topic_partition_dir(&t, 0, &e);
	rc = mq_seg_list(pdir, "test", &bases, &n, &e);
	ok(rc == 0 && n >= 5,
	   "a small segment.bytes rolls the log into %zu segments "
	   "(batches of %zu bytes)", n, blen);
	close(pdir);
	{
		int seg_ok = n > 0 && bases[0] == 0;
		for (size_t i = 1; i < n; i++) {
			int is_batch = 0;
			for (int j = 0; j < 30; j++)
				is_batch |= bases[i] == batch_bases[j];
			seg_ok &= bases[i] > bases[i - 1] && is_batch;
		}
		ok(seg_ok, "segments are named by the base offset of their "
		   "first batch, in order");
		seg_ok = 1;
		for (size_t i = 0; i < n; i++)
			seg_ok &= file_size(seg_path("roll", bases[i], "log")) <=
				  1000;
		ok(seg_ok, "no segment exceeds segment.bytes");
	}
	ok(seek_read(&t, MQ_FROM_BEGINNING, 0, 0, 60, why, sizeof why),
	   "a reader crosses all segments delivering 0..59: %s", why);
	if (n >= 3) {
		uint64_t mid = bases[n / 2] + 1;
		ok(seek_read(&t, MQ_FROM_OFFSET, (int64_t)mid, mid, 60, why,
			     sizeof why),
		   "seeking into segment %llu delivers %llu..59: %s",
		   (unsigned long long)bases[n / 2], (unsigned long long)mid,
		   why);
		ok(seek_read(&t, MQ_FROM_OFFSET, (int64_t)bases[n - 1],
			     bases[n - 1], 60, why, sizeof why),
		   "seeking to the newest segment's base delivers from it: %s",
		   why);
	} else {
		ok(0, "not enough segments to seek in");
		ok(0, "not enough segments to seek in");
	}
	ok(seek_read(&t, MQ_FROM_TIME, ts_of(33) - 3, 33, 60, why, sizeof why),
	   "seeking by time across segments delivers 33..59: %s", why);
	ok(seek_read(&t, MQ_FROM_TAIL, 5, 55, 60, why, sizeof why),
	   "MQ_FROM_TAIL 5 delivers 55..59: %s", why);
	ok(bounds(&t, &start, &end) == 0 && start == 0 && end == 60,
	   "mq_partition_bounds over several segments is 0..60");
	free(bases);
	mq_topic_close(&t);
}

/* ---- rolling by segment.ms with odd timestamps ---- */

/* Appends one record with timestamp ts; 0 or -1. */
static int
append_ts(struct mq_pwriter *w, int64_t ts)
{
	struct mq_bb b;
	struct mq_err e = {0};
	uint64_t base;
	int rc;

	mq_bb_init(&b);
	rc = mq_bb_add(&b, ts, "k", 1, "v", 1, NULL, 0, 0) < 0 ||
	     mq_bb_seal(&b, MQ_CODEC_NONE, cz, &e) < 0 ||
	     mq_pwriter_append(w, &b, &base, &e) < 0 ? -1 : 0;
	if (rc < 0)
		printf("# append of ts %lld failed: %s\n", (long long)ts, e.msg);
	mq_bb_free(&b);
	return rc;
}

/*
 * A fresh topic NAME gets a record at each of the n timestamps, appended
 * one batch each by one writer; returns the number of segments then, 0 on
 * failure.  after: its message.timestamp.after.max.ms.
 */
static size_t
roll_after(const char *name, int64_t segment_ms, int64_t after,
	   const int64_t *ts, int n)
{
	struct mq_topic t;
	struct mq_pwriter w;
	struct mq_err e = {0};
	size_t segs = 0;

	if (open_topic(&t, name, 0) < 0)
		return 0;
	t.cfg.segment_ms = segment_ms;
	t.cfg.timestamp_after_max_ms = after;
	if (mq_pwriter_open(&w, &t, 0, MQ_SYNC_NONE, &e) == 0) {
		int good = 1;
		for (int i = 0; i < n; i++)
			good &= append_ts(&w, ts[i]) == 0;
		mq_pwriter_close(&w);
		if (good)
			segs = nsegs(&t);
	}
	mq_topic_close(&t);
	return segs;
}

static void
test_roll_time(void)
{
	const int64_t now = mq_now_ms(), H = 3600000, W = 7 * 86400000LL;
	size_t n;

	n = roll_after("rt-plain", 1000, H, (int64_t[]){5000, 5999, 6000}, 3);
	ok(n == 2, "a batch segment.ms after the first timestamp rolls, "
	   "one just before does not (%zu segments)", n);
	n = roll_after("rt-min", W, H, (int64_t[]){INT64_MIN, now}, 2);
	ok(n == 2, "after a first timestamp of INT64_MIN, the next batch "
	   "rolls, without overflow (%zu segments)", n);
	n = roll_after("rt-max", W, H, (int64_t[]){INT64_MAX, now, now}, 3);
	ok(n == 2, "a first timestamp of INT64_MAX, beyond what the topic "
	   "takes, does not hold the segment open (%zu segments)", n);
	n = roll_after("rt-2999", W, H,
		       (int64_t[]){32472144000000LL, now, INT64_MIN}, 3);
	ok(n == 2, "nor does one in 2999; a later INT64_MIN batch does not "
	   "overflow (%zu segments)", n);
	n = roll_after("rt-near", W, H, (int64_t[]){now + H / 2, now}, 2);
	ok(n == 1, "a first timestamp half an hour ahead, which the topic "
	   "takes, is waited for as Kafka does (%zu segments)", n);
	n = roll_after("rt-trusted", W, INT64_MAX,
		       (int64_t[]){32472144000000LL, now}, 2);
	ok(n == 1, "with message.timestamp.after.max.ms 2^63-1 even 2999 is "
	   "trusted (%zu segments)", n);
}

/* ---- the producer's timestamp check ---- */

static void
test_producer_ts(void)
{
	struct mq_topic t;
	struct mq_producer p;
	struct mq_producer_opts o = {.partition = 0, .batch_bytes = 1 << 16,
				     .buffer_bytes = 1 << 20,
				     .timestamp = -1, .codec = -1};
	struct mq_preader r;
	struct mq_record rec;
	struct mq_err e = {0};
	const int64_t now = mq_now_ms(), H = 3600000;
	size_t size = 99;
	int rc;

	if (open_topic(&t, "pts", 0) < 0) {
		ok(0, "topic pts");
		return;
	}
	o.timestamp = now + 2 * H;
	rc = mq_producer_init(&p, &t, &o, &e);
	ok(rc == -1 && e.code == EINVAL &&
	   strstr(e.msg, "message.timestamp.after.max.ms (3600000)"),
	   "a producer timestamp 2h ahead is refused at init ('%s')", e.msg);
	t.cfg.timestamp_before_max_ms = 86400000;
	o.timestamp = 1000;
	memset(&e, 0, sizeof e);
	rc = mq_producer_init(&p, &t, &o, &e);
	ok(rc == -1 && e.code == EINVAL &&
	   strstr(e.msg, "message.timestamp.before.max.ms (86400000)"),
	   "one from 1970 is refused with before.max.ms 1d ('%s')", e.msg);

	o.timestamp = -1;
	if (mq_producer_init(&p, &t, &o, &e) < 0) {
		ok(0, "producer init: %s", e.msg);
		mq_topic_close(&t);
		return;
	}
	memset(&e, 0, sizeof e);
	rc = mq_producer_send_ts(&p, now + 2 * H, "k", 1, "a", 1, NULL, 0, 0,
				 &size, &e);
	ok(rc == -1 && e.code == EINVAL && p.messages == 0 &&
	   strstr(e.msg, "after"),
	   "send_ts refuses a message 2h ahead and queues nothing ('%s')",
	   e.msg);
	rc = mq_producer_send_ts(&p, now - 2 * 86400000LL, "k", 1, "a", 1,
				 NULL, 0, 0, &size, &e);
	ok(rc == -1 && e.code == EINVAL && p.messages == 0,
	   "and one 2 days old with before.max.ms 1d");
	ok(mq_producer_send_ts(&p, now - 1000, "k", 1, "b", 1, NULL, 0, 0,
			       &size, &e) == 0 &&
	   mq_producer_send_ts(&p, now + H / 2, "k", 1, "c", 1, NULL, 0, 0,
			       &size, &e) == 0 &&
	   mq_producer_send_ts(&p, -1, "k", 1, "d", 1, NULL, 0, 0, &size,
			       &e) == 0 &&
	   mq_producer_finish(&p, &e) == 0 && p.stored == 3,
	   "timestamps within the limits, and the produce time, are stored "
	   "('%s')", e.msg);
	mq_producer_free(&p);
	rc = mq_preader_open(&r, &t, 0, &e) == 0 &&
	     mq_preader_seek(&r, MQ_FROM_BEGINNING, 0, &e) == 0;
	rc = rc && mq_preader_next(&r, &rec, &e) == 0 && rec.ts == now - 1000;
	rc = rc && mq_preader_next(&r, &rec, &e) == 0 && rec.ts == now + H / 2;
	rc = rc && mq_preader_next(&r, &rec, &e) == 0 && rec.ts >= now &&
	     rec.ts <= mq_now_ms();
	rc = rc && mq_preader_next(&r, &rec, &e) == 1;
	ok(rc, "they read back with those timestamps");
	mq_preader_close(&r);
	mq_topic_close(&t);
}

/* ---- the head ---- */

static void
test_head(void)
{
	char path[PATH_MAX + 16];
	struct mq_head h = {0}, g;
	unsigned char c;
	int fd;

	snprintf(path, sizeof path, "%s/headfile", tmpdir);
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	ok(fd >= 0 && mq_head_read(fd, &g) == 1,
	   "an empty lock file has no head (1)");
	h.gen = 7;
	h.seg_base = 1000;
	h.end_pos = 123456;
	h.next_offset = 1234;
	h.idx_pos = 120000;
	h.first_ts = -5;
	h.max_ts = TS0;
	h.recovered_bytes = 77;
	h.recoveries = 2;
	h.last_recovery_ms = TS0 + 1;
	h.idx_count = 30;
	memset(&g, 0, sizeof g);
	ok(mq_head_write(fd, &h) == 0 && mq_head_read(fd, &g) == 0,
	   "a head is written and read back");
	ok(g.gen == 7 && g.seg_base == 1000 && g.end_pos == 123456 &&
	   g.next_offset == 1234 && g.idx_pos == 120000 && g.first_ts == -5 &&
	   g.max_ts == TS0 && g.recovered_bytes == 77 && g.recoveries == 2 &&
	   g.last_recovery_ms == TS0 + 1 && g.idx_count == 30,
	   "every field of the head round-trips");
	ok(file_size(path) == MQ_HEAD_SIZE, "the head takes %d bytes",
	   MQ_HEAD_SIZE);
	for (int at = 0; at < MQ_HEAD_SIZE; at += 37) {
		int io = pread(fd, &c, 1, at) == 1;
		c ^= 0x10;
		io &= pwrite(fd, &c, 1, at) == 1;
		ok(io && mq_head_read(fd, &g) == 1,
		   "a head with byte %d changed reads as invalid", at);
		c ^= 0x10;
		if (pwrite(fd, &c, 1, at) != 1)
			perror("pwrite");
	}
	ok(mq_head_read(fd, &g) == 0 && g.next_offset == 1234,
	   "restored, it reads again");
	ok(ftruncate(fd, MQ_HEAD_SIZE - 1) == 0 && mq_head_read(fd, &g) == 1,
	   "a short head reads as invalid");
	close(fd);
	unlink(path);
}

/* ---- two writers ---- */

static void
test_two_writers(void)
{
	struct mq_topic t;
	struct mq_pwriter w[2];
	struct mq_err e = {0};
	uint64_t next = 0, start, end;
	char why[600];
	int good = 1, fast = 0, slow = 0;
	uint64_t bad_at = 0;
	/* Who appends: runs of one writer, then strict alternation. */
	static const int who[] = {0, 0, 1, 1, 0, 1, 0, 0, 0, 1, 1, 1, 0, 1,
				  0, 1, 0, 1, 1, 0, 0, 1, 0, 1, 0, 0, 1, 0,
				  1, 1, 0, 1, 0, 1, 1, 0, 0, 0, 1, 0};
	size_t nwho = sizeof who / sizeof who[0];

	pad_len = 60;
	if (open_topic(&t, "two", 700) < 0) {
		ok(0, "topic two");
		return;
	}
	ok(mq_pwriter_open(&w[0], &t, 0, MQ_SYNC_NONE, &e) == 0 &&
	   mq_pwriter_open(&w[1], &t, 0, MQ_SYNC_NONE, &e) == 0,
	   "two writers open the same partition");
	for (size_t i = 0; i < nwho; i++) {
		int n = 1 + (int)(i % 3);
		uint64_t want = next;
		struct mq_head before, after;
		int pre = mq_head_read(w[who[i]].lockfd, &before);
		int64_t b = append(&w[who[i]], &next, n, NULL);
		if (b != (int64_t)want && good) {
			good = 0;
			bad_at = i;
		}
		/* The head's generation only moves on a recovery or roll. */
		if (pre == 0 && mq_head_read(w[who[i]].lockfd, &after) == 0) {
			if (after.gen == before.gen)
				fast++;
			else
				slow++;
		}
	}
	ok(good, "%zu appends alternating between two writers get "
	   "consecutive offsets (first wrong at append %llu)", nwho,
	   (unsigned long long)bad_at);
	ok(fast > 0 && slow > 0, "some appends took the fast path (%d), some "
	   "recovered or rolled (%d)", fast, slow);
	{
		size_t ns = nsegs(&t);
		ok(ns > 3, "the log rolled into %zu segments", ns);
	}
	ok(seek_read(&t, MQ_FROM_BEGINNING, 0, 0, next, why, sizeof why),
	   "a reader sees 0..%llu with no gap or duplicate: %s",
	   (unsigned long long)next - 1, why);
	ok(bounds(&t, &start, &end) == 0 && start == 0 && end == next,
	   "bounds end at %llu", (unsigned long long)next);
	mq_pwriter_close(&w[0]);
	mq_pwriter_close(&w[1]);
	mq_topic_close(&t);
}

/* ---- recovery ---- */

static void
test_recovery(void)
{
	struct mq_topic t;
	struct mq_pwriter w;
	struct mq_pinfo pi;
	struct mq_err e = {0};
	uint64_t next = 0;
	size_t blen[3], nlen;
	long long size;
	char why[600];
	int64_t b;
	int rc;

	pad_len = 40;
	if (open_topic(&t, "rec", 0) < 0) {
		ok(0, "topic rec");
		return;
	}
	mq_pwriter_open(&w, &t, 0, MQ_SYNC_BATCH, &e);
	for (int i = 0; i < 3; i++)
		append(&w, &next, 3, &blen[i]);
	mq_pwriter_close(&w);
	size = file_size(seg_path("rec", 0, "log"));
	ok(size == (long long)(blen[0] + blen[1] + blen[2]),
	   "the segment holds three batches (%lld bytes)", size);

	/* A write torn 10 bytes before the end of the last batch. */
	ok(truncate(seg_path("rec", 0, "log"), size - 10) == 0 &&
	   seek_read(&t, MQ_FROM_BEGINNING, 0, 0, 6, why, sizeof why),
	   "a reader treats the torn batch as the end: %s", why);
	mq_pwriter_open(&w, &t, 0, MQ_SYNC_BATCH, &e);
	next = 6;   /* the torn batch's offsets 6..8 are given again */
	b = append(&w, &next, 2, &nlen);
	ok(b == 6, "a new writer appends at 6, right after the last complete "
	   "batch (got %lld)", (long long)b);
	ok(file_size(seg_path("rec", 0, "log")) ==
	   (long long)(blen[0] + blen[1] + nlen),
	   "the torn bytes are gone from the segment");
	rc = mq_partition_info(&t, 0, &pi, &e);
	ok(rc == 0 &&
	   pi.recovered_bytes == blen[2] - 10 && pi.recoveries == 1 &&
	   pi.last_recovery_ms > 0 && pi.end == 8,
	   "mq_partition_info reports %zu recovered bytes in 1 recovery "
	   "(got %llu in %llu)", blen[2] - 10,
	   (unsigned long long)pi.recovered_bytes,
	   (unsigned long long)pi.recoveries);
	ok(seek_read(&t, MQ_FROM_BEGINNING, 0, 0, 8, why, sizeof why),
	   "a reader then sees 0..7: %s", why);
	mq_pwriter_close(&w);

	/* A tail of zeros, as a power cut can leave. */
	{
		int fd = open(seg_path("rec", 0, "log"),
			      O_WRONLY | O_APPEND | O_CLOEXEC);
		char zeros[300] = {0};
		if (fd < 0 || write(fd, zeros, sizeof zeros) != sizeof zeros)
			perror("write");
		if (fd >= 0)
			close(fd);
	}
	ok(seek_read(&t, MQ_FROM_BEGINNING, 0, 0, 8, why, sizeof why),
	   "a reader treats a zero tail as the end: %s", why);
	mq_pwriter_open(&w, &t, 0, MQ_SYNC_BATCH, &e);
	b = append(&w, &next, 1, NULL);
	ok(b == 8, "a new writer truncates a zero tail and appends at 8");
	rc = mq_partition_info(&t, 0, &pi, &e);
	ok(rc == 0 &&
	   pi.recovered_bytes == blen[2] - 10 + 300 && pi.recoveries == 2,
	   "the recovered bytes add up (%llu)",
	   (unsigned long long)pi.recovered_bytes);
	ok(seek_read(&t, MQ_FROM_BEGINNING, 0, 0, 9, why, sizeof why),
	   "a reader then sees 0..8: %s", why);
	mq_pwriter_close(&w);
	mq_topic_close(&t);
}

static void
test_corruption(void)
{
	struct mq_topic t;
	struct mq_pwriter w;
	struct mq_preader r;
	struct mq_record rec;
	struct mq_err e = {0};
	uint64_t next = 0;
	size_t blen[3], len0 = 0, len1 = 0;
	unsigned char *before, *after;
	int rc, n = 0;
	const char *seg;

	pad_len = 40;
	if (open_topic(&t, "flip", 0) < 0) {
		ok(0, "topic flip");
		return;
	}
	mq_pwriter_open(&w, &t, 0, MQ_SYNC_NONE, &e);
	for (int i = 0; i < 3; i++)
		append(&w, &next, 3, &blen[i]);
	mq_pwriter_close(&w);

	seg = seg_path("flip", 0, "log");
	before = slurp(seg, &len0);
	{
		/* A bit in the middle of the second batch's records. */
		size_t at = blen[0] + MQ_BATCH_HDR + (blen[1] - MQ_BATCH_HDR) / 2;
		before[at] ^= 0x04;
		spit(seg, before, len0);
	}
	mq_pwriter_open(&w, &t, 0, MQ_SYNC_NONE, &e);
	{
		struct mq_bb b;
		uint64_t base = 12345;
		mq_bb_init(&b);
		make_batch(&b, 9, 1);
		memset(&e, 0, sizeof e);
		rc = mq_pwriter_append(&w, &b, &base, &e);
		mq_bb_free(&b);
		ok(rc == -1 && e.code == EBADMSG && base == 12345,
		   "a writer refuses to append after a flipped bit with "
		   "EBADMSG ('%s')", e.msg);
	}
	mq_pwriter_close(&w);
	after = slurp(seg, &len1);
	ok(after && len1 == len0 && memcmp(before, after, len0) == 0,
	   "and leaves the segment unchanged");

	mq_preader_open(&r, &t, 0, &e);
	while ((rc = mq_preader_next(&r, &rec, &e)) == 0)
		n++;
	ok(n == 3 && rc == -1 && e.code == EBADMSG &&
	   strstr(e.msg, "corrupt"),
	   "a reader delivers the 3 records before it, then -1 with EBADMSG "
	   "(%d records, rc %d, '%s')", n, rc, e.msg);
	mq_preader_close(&r);
	free(before);
	free(after);
	mq_topic_close(&t);
}

/*
 * A bit flip in the length field of the newest segment's last batch, a
 * batch that was completely written (the head says so), makes the batch
 * look cut short.  It is corruption like any other flip: the reader says
 * so, and the writer must not truncate the batch away and give its
 * offsets to new messages.  Only compressed batches can show this, as an
 * uncompressed batch's raw_len must agree with its length.
 */
static void
test_length_flip(void)
{
	struct mq_topic t;
	struct mq_pwriter w;
	struct mq_preader r;
	struct mq_record rec;
	struct mq_pinfo pi;
	struct mq_err e = {0};
	uint64_t next = 0;
	size_t blen[3], len0 = 0, len1 = 0;
	unsigned char *before, *after;
	const char *seg;
	int rc, n = 0;

	pad_len = 200;
	batch_codec = MQ_CODEC_ZLIB;
	if (open_topic(&t, "lenflip", 0) < 0) {
		ok(0, "topic lenflip");
		batch_codec = MQ_CODEC_NONE;
		return;
	}
	mq_pwriter_open(&w, &t, 0, MQ_SYNC_BATCH, &e);
	for (int i = 0; i < 3; i++)
		append(&w, &next, 5, &blen[i]);
	mq_pwriter_close(&w);
	batch_codec = MQ_CODEC_NONE;

	seg = seg_path("lenflip", 0, "log");
	before = slurp(seg, &len0);
	ok(before && len0 == blen[0] + blen[1] + blen[2] &&
	   before[blen[0] + blen[1] + 52] == MQ_CODEC_ZLIB,
	   "three compressed batches are stored (%zu bytes)", len0);
	if (!before || len0 != blen[0] + blen[1] + blen[2]) {
		free(before);
		mq_topic_close(&t);
		return;
	}
	/* Bit 12 of the last batch's length: 4096 bytes more than exist. */
	before[blen[0] + blen[1] + 5] ^= 0x10;
	spit(seg, before, len0);

	mq_preader_open(&r, &t, 0, &e);
	while ((rc = mq_preader_next(&r, &rec, &e)) == 0)
		n++;
	ok(n == 10 && rc == -1 && e.code == EBADMSG,
	   "a reader delivers the 10 records before the flipped length, then "
	   "-1 with EBADMSG (%d records, rc %d)", n, rc);
	mq_preader_close(&r);

	mq_pwriter_open(&w, &t, 0, MQ_SYNC_BATCH, &e);
	{
		struct mq_bb b;
		uint64_t base = 12345;
		mq_bb_init(&b);
		make_batch(&b, 15, 1);
		memset(&e, 0, sizeof e);
		rc = mq_pwriter_append(&w, &b, &base, &e);
		mq_bb_free(&b);
		ok(rc == -1 && e.code == EBADMSG,
		   "a writer refuses to append after a complete last batch "
		   "with a flipped length bit (rc %d, base %llu, '%s')", rc,
		   (unsigned long long)base, e.msg);
	}
	mq_pwriter_close(&w);
	after = slurp(seg, &len1);
	rc = mq_partition_info(&t, 0, &pi, &e);
	/* (mq_partition_info reports the damage, with the rest filled.) */
	ok(after && len1 == len0 && memcmp(before, after, len0) == 0 &&
	   rc == -1 && e.code == EBADMSG && pi.recovered_bytes == 0,
	   "and neither truncates it nor counts it as a torn tail (%zu -> %zu "
	   "bytes, %llu recovered)", len0, len1,
	   (unsigned long long)pi.recovered_bytes);
	free(before);
	free(after);
	mq_topic_close(&t);
}

/* ---- garbage indexes ---- */

static int
all_seeks(struct mq_topic *t, uint64_t end, char *why, size_t n)
{
	static const uint64_t from[] = {0, 1, 2, 3, 7, 50, 51, 59, 60, 61,
					100, 118, 119, 120, 121, 500};
	for (size_t i = 0; i < sizeof from / sizeof from[0]; i++) {
		uint64_t f = from[i] < end ? from[i] : end;
		if (!seek_read(t, MQ_FROM_OFFSET, (int64_t)from[i], f, end, why,
			       n)) {
			char tmp[600];
			snprintf(tmp, sizeof tmp, "from %llu: %s",
				 (unsigned long long)from[i], why);
			snprintf(why, n, "%s", tmp);
			return 0;
		}
	}
	if (!seek_read(t, MQ_FROM_TIME, ts_of(77) - 1, 77, end, why, n))
		return 0;
	return 1;
}

static void
test_garbage_index(void)
{
	struct mq_topic t;
	struct mq_pwriter w;
	struct mq_err e = {0};
	uint64_t next = 0;
	unsigned char *idx, *tix, *g;
	size_t ilen = 0, tlen = 0, glen;
	char why[600], ipath[PATH_MAX + 64], tpath[PATH_MAX + 64];
	uint64_t rng = 0x2545F4914F6CDD1DULL;

	pad_len = 150;
	if (open_topic(&t, "idx", 0) < 0) {
		ok(0, "topic idx");
		return;
	}
	mq_pwriter_open(&w, &t, 0, MQ_SYNC_NONE, &e);
	for (int i = 0; i < 40; i++)
		append(&w, &next, 3, NULL);
	mq_pwriter_close(&w);
	snprintf(ipath, sizeof ipath, "%s", seg_path("idx", 0, "idx"));
	snprintf(tpath, sizeof tpath, "%s", seg_path("idx", 0, "tix"));
	idx = slurp(ipath, &ilen);
	tix = slurp(tpath, &tlen);
	ok(idx && ilen >= 3 * MQ_IDX_SIZE && ilen % MQ_IDX_SIZE == 0,
	   "a 20 KB segment has %zu offset index entries",
	   ilen / MQ_IDX_SIZE);
	ok(all_seeks(&t, 120, why, sizeof why),
	   "seeks by offset deliver from the right record with a good "
	   "index: %s", why);

	glen = 2 * (ilen > tlen ? ilen : tlen) + 8;
	g = malloc(glen);
	for (size_t i = 0; i < glen; i++) {
		rng ^= rng << 13;
		rng ^= rng >> 7;
		rng ^= rng << 17;
		g[i] = (unsigned char)rng;
	}
	spit(ipath, g, ilen);
	ok(all_seeks(&t, 120, why, sizeof why),
	   "random bytes in the .idx change nothing: %s", why);
	spit(ipath, g, ilen * 2 - 3);
	ok(all_seeks(&t, 120, why, sizeof why),
	   "a longer, ragged .idx of random bytes changes nothing: %s", why);
	{
		/* Plausible entries: each offset paired with the next one's
		 * position, and one entry claiming a huge relative offset. */
		unsigned char *x = malloc(ilen);
		size_t ne = ilen / MQ_IDX_SIZE;
		for (size_t i = 0; i < ne; i++) {
			memcpy(x + i * 8, idx + i * 8, 4);
			memcpy(x + i * 8 + 4, idx + ((i + 1) % ne) * 8 + 4, 4);
		}
		spit(ipath, x, ilen);
		ok(all_seeks(&t, 120, why, sizeof why),
		   "entries pointing at other batches change nothing: %s",
		   why);
		for (size_t i = 0; i < ne; i++) {
			memcpy(x + i * 8, idx + i * 8, 8);
			x[i * 8 + 4] ^= 0x01;  /* position off by one */
		}
		spit(ipath, x, ilen);
		ok(all_seeks(&t, 120, why, sizeof why),
		   "positions off by one byte change nothing: %s", why);
		memset(x, 0xff, ilen);
		spit(ipath, x, ilen);
		ok(all_seeks(&t, 120, why, sizeof why),
		   "an .idx of 0xff bytes changes nothing: %s", why);
		free(x);
	}
	spit(ipath, g, 3);
	ok(all_seeks(&t, 120, why, sizeof why),
	   "a 3-byte .idx changes nothing: %s", why);
	spit(tpath, g + 5, tlen);
	ok(all_seeks(&t, 120, why, sizeof why),
	   "random bytes in the .tix as well change nothing: %s", why);

	/* A writer rebuilds the garbage indexes and appends after them. */
	mq_pwriter_open(&w, &t, 0, MQ_SYNC_NONE, &e);
	ok(append(&w, &next, 3, NULL) == 120, "a writer appends at 120 after "
	   "garbage indexes");
	mq_pwriter_close(&w);
	ok(all_seeks(&t, 123, why, sizeof why),
	   "and seeks still deliver the right records: %s", why);
	{
		size_t n2 = 0;
		unsigned char *idx2 = slurp(ipath, &n2);
		ok(idx2 && n2 >= ilen && memcmp(idx2, idx, ilen) == 0,
		   "the writer rebuilt the .idx as it was (%zu -> %zu bytes)",
		   ilen, n2);
		free(idx2);
	}
	free(g);
	free(idx);
	free(tix);
	mq_topic_close(&t);
}

static int
rm_entry(const char *path, const struct stat *st, int flag, struct FTW *f)
{
	(void)st;
	(void)flag;
	(void)f;
	return remove(path);
}

int
main(void)
{
	const char *td = getenv("TMPDIR");

	snprintf(tmpdir, sizeof tmpdir, "%s/mq-test-log-XXXXXX",
		 td && *td ? td : "/tmp");
	if (!mkdtemp(tmpdir)) {
		perror("mkdtemp");
		return 99;
	}
	snprintf(spool_path, sizeof spool_path, "%s/spool", tmpdir);
	cz = mq_codec_new();
	test_spool();
	if (sp.fd >= 0) {
		test_append_read();
		test_roll();
		test_head();
		test_two_writers();
		test_recovery();
		test_corruption();
		test_length_flip();
		test_garbage_index();
		test_roll_time();
		test_producer_ts();
		mq_spool_close(&sp);
	}
	mq_codec_free(cz);
	nftw(tmpdir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	return tap_done();
}
