/*
 * fuzz-segment.c - the whole read path over files that hold fuzz bytes:
 * a partition of a real topic whose segments, indexes and head are the
 * input.  The reader seeks (to the beginning, an offset, a time, the end
 * or N from the end) and reads to the end of the log or an error;
 * mq_partition_bounds and mq_seg_max_ts look at the same files, and the
 * index lookups run on them directly.
 *
 *   input:  flags (1 byte)  max.message.bytes (3 bytes, 0: 1 MiB)
 *           seek argument (8 bytes)  second segment's base - 1 (4 bytes)
 *           then sections separated by SPLIT ("=MQSPLIT"):
 *           0.log | 0.idx | 0.tix | head | N.log | N.idx | N.tix
 *
 *   flags:  bits 0-2  how to seek: beginning, offset, time, end, tail,
 *                     mq_preader_offset_at
 *           bit 3     store the right checksum in each batch of each log
 *                     section that decodes, front to back
 *           bit 4     the head section gives the head's fields (11 x 8
 *                     bytes) and is written with its checksum by
 *                     mq_head_write; else its bytes are P/lock as they are
 *           bit 5     at the end, trim the reader's buffers (as an idle
 *                     consumer does) before asking again
 *
 * A second segment exists when the input has a fifth section.  The spool
 * is made once per process in a temporary directory (removed at exit)
 * and the files are rewritten in place for each input.
 */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fuzz.h"

#define SPLIT "=MQSPLIT"
#define NSECT 7

static char tmpdir[PATH_MAX];
static struct mq_spool sp;
static struct mq_topic topic;
static int pdir = -1;
static int fds[4] = {-1, -1, -1, -1};   /* 0.log 0.idx 0.tix lock */
static uint64_t base1;                  /* the second segment, 0: none */

static void
cleanup(void)
{
	for (int i = 0; i < 4; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	if (pdir >= 0)
		close(pdir);
	mq_topic_close(&topic);
	mq_spool_close(&sp);
	mq_rmtree(AT_FDCWD, tmpdir);
}

static void
setup(void)
{
	const char *tmp = getenv("TMPDIR");
	static const char *names[4] = {"00000000000000000000.log",
				       "00000000000000000000.idx",
				       "00000000000000000000.tix", "lock"};
	char spool[PATH_MAX + 8];
	struct mq_config cfg;
	struct mq_err e;

	snprintf(tmpdir, sizeof tmpdir, "%s/mq-fuzz-XXXXXX",
		 tmp && *tmp ? tmp : "/tmp");
	FUZZ_CHECK(mkdtemp(tmpdir));
	snprintf(spool, sizeof spool, "%s/spool", tmpdir);
	mq_config_defaults(&cfg);
	if (mq_spool_open(&sp, spool, true, &e) < 0 ||
	    mq_topic_create(&sp, "t", &cfg, &e) < 0 ||
	    mq_topic_open(&topic, &sp, "t", &e) < 0 ||
	    (pdir = mq_topic_partition_dir(&topic, 0, &e)) < 0) {
		fprintf(stderr, "fuzz-segment: %s\n", e.msg);
		abort();
	}
	for (int i = 0; i < 4; i++) {
		fds[i] = openat(pdir, names[i], O_RDWR | O_CLOEXEC);
		FUZZ_CHECK(fds[i] >= 0);
	}
	atexit(cleanup);
}

static void
put(int fd, const unsigned char *p, size_t n)
{
	FUZZ_CHECK(mq_pwrite_full(fd, p, n, 0) == 0);
	FUZZ_CHECK(ftruncate(fd, (off_t)n) == 0);
}

/* Gives every batch that decodes, front to back, its right checksum. */
static void
fix_checksums(unsigned char *p, size_t n, uint32_t limit)
{
	struct mq_batch_hdr h;

	for (size_t pos = 0; n - pos >= MQ_BATCH_HDR; pos += h.length) {
		if (mq_batch_hdr_decode(p + pos, limit, &h) < 0 ||
		    h.length > n - pos)
			break;
		fuzz_put64(p + pos + 8, mq_batch_checksum(p + pos, h.length));
	}
}

static void
write_head(const unsigned char *p, size_t n)
{
	uint64_t f[11] = {0};
	struct fuzz_in in = {p, n};
	struct mq_head h;

	for (int i = 0; i < 11; i++)
		f[i] = fuzz_take(&in, 8);
	h.gen = f[0];
	h.seg_base = f[1];
	h.end_pos = f[2];
	h.next_offset = f[3];
	h.idx_pos = f[4];
	h.first_ts = (int64_t)f[5];
	h.max_ts = (int64_t)f[6];
	h.recovered_bytes = f[7];
	h.recoveries = f[8];
	h.last_recovery_ms = (int64_t)f[9];
	h.idx_count = f[10];
	FUZZ_CHECK(ftruncate(fds[3], 0) == 0);
	FUZZ_CHECK(mq_head_write(fds[3], &h) == 0);
}

static void
write_seg1(uint64_t base, unsigned char **sect, const size_t *len)
{
	static const char *ext[3] = {"log", "idx", "tix"};
	char name[MQ_SEGNAME_MAX];

	for (int i = 0; i < 3; i++) {
		if (base1) {
			mq_seg_name(name, base1, ext[i]);
			FUZZ_CHECK(unlinkat(pdir, name, 0) == 0);
		}
		if (base) {
			int fd;
			mq_seg_name(name, base, ext[i]);
			fd = openat(pdir, name, O_WRONLY | O_CREAT | O_TRUNC |
				    O_CLOEXEC, 0666);
			FUZZ_CHECK(fd >= 0);
			FUZZ_CHECK(mq_write_full(fd, sect[4 + i], len[4 + i]) ==
				   0);
			close(fd);
		}
	}
	base1 = base;
}

/*
 * A refusal names the batch once: its text is not made from a message
 * being rewritten at the same time (as it was when the reason came from
 * e->msg itself).
 */
static void
check_refusal(const struct mq_err *e)
{
	const char *at = strstr(e->msg, "corrupt batch in '");

	FUZZ_CHECK(e->code && e->msg[0]);
	FUZZ_CHECK(!at || !strstr(at + 1, "corrupt batch in '"));
}

/* Reads from where it was sought to the end, checking what it hands out. */
static void
read_all(struct mq_preader *r, int whence, int64_t arg, bool trim)
{
	struct mq_record rec;
	struct mq_err e;
	uint64_t prev = 0, n = 0;
	volatile unsigned sink = 0;
	int rc;

	while ((rc = mq_preader_next(r, &rec, &e)) == 0) {
		FUZZ_CHECK(n == 0 || rec.offset > prev);
		if (n == 0 && whence == MQ_FROM_OFFSET)
			FUZZ_CHECK(rec.offset >= (uint64_t)arg);
		if (n == 0 && whence == MQ_FROM_TIME)
			FUZZ_CHECK(rec.ts >= arg);
		sink += fuzz_touch(rec.key, rec.klen) +
			fuzz_touch(rec.value, rec.vlen) +
			fuzz_touch(rec.headers, rec.hlen);
		prev = rec.offset;
		n++;
	}
	if (rc == 1) {
		/* The end stays the end while nothing is written, also
		 * after the reader gave back its buffers (as when idle). */
		if (trim)
			mq_preader_trim(r);
		FUZZ_CHECK(mq_preader_next(r, &rec, &e) == 1);
	} else {
		FUZZ_CHECK(rc == -1);
		check_refusal(&e);
	}
	(void)sink;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_in in = {data, size};
	unsigned flags = (unsigned)fuzz_take(&in, 1);
	uint32_t limit = fuzz_limit(&in);
	int64_t arg = (int64_t)fuzz_take(&in, 8);
	uint64_t next_base = fuzz_take(&in, 4) + 1;
	unsigned char *copy, *sect[NSECT];
	size_t len[NSECT], nsect = 0;
	struct mq_preader r;
	struct mq_err e;
	struct mq_idx_entry ie;
	struct mq_tix_entry te;
	uint64_t start, end, off;
	int64_t max_ts;
	int whence, rc;
	static const int how[8] = {
		MQ_FROM_BEGINNING, MQ_FROM_OFFSET, MQ_FROM_TIME, MQ_FROM_END,
		MQ_FROM_TAIL, -1, MQ_FROM_OFFSET, MQ_FROM_TIME
	};

	if (pdir < 0)
		setup();
	/* Split a copy of the rest into its sections. */
	copy = malloc(in.n + 1);
	FUZZ_CHECK(copy);
	memcpy(copy, in.p, in.n);
	for (size_t pos = 0; nsect < NSECT;) {
		unsigned char *hit = NULL;
		if (nsect + 1 < NSECT && in.n - pos >= sizeof SPLIT - 1)
			hit = memmem(copy + pos, in.n - pos, SPLIT,
				     sizeof SPLIT - 1);
		sect[nsect] = copy + pos;
		len[nsect] = hit ? (size_t)(hit - (copy + pos)) : in.n - pos;
		nsect++;
		if (!hit)
			break;
		pos = (size_t)(hit - copy) + sizeof SPLIT - 1;
	}
	for (size_t i = nsect; i < NSECT; i++) {
		sect[i] = copy + in.n;
		len[i] = 0;
	}
	if (flags & 8) {
		fix_checksums(sect[0], len[0], limit);
		fix_checksums(sect[4], len[4], limit);
	}
	put(fds[0], sect[0], len[0]);
	put(fds[1], sect[1], len[1]);
	put(fds[2], sect[2], len[2]);
	if (flags & 16)
		write_head(sect[3], len[3]);
	else
		put(fds[3], sect[3], len[3]);
	write_seg1(nsect > 4 ? next_base : 0, sect, len);

	/* The reader, as mq-consume drives it. */
	topic.cfg.max_message_bytes = limit;
	if (mq_preader_open(&r, &topic, 0, &e) < 0) {
		fprintf(stderr, "fuzz-segment: %s\n", e.msg);
		abort();
	}
	whence = how[flags & 7];
	if (whence < 0) {
		rc = mq_preader_offset_at(&r, arg, &off, &e);
		FUZZ_CHECK(rc == 0 || rc == -1);
		if (rc < 0)
			check_refusal(&e);
	} else if (mq_preader_seek(&r, whence, arg, &e) == 0) {
		read_all(&r, whence, arg, flags & 32);
	} else {
		check_refusal(&e);
	}
	mq_preader_close(&r);

	/* What describe and retention look at. */
	if (mq_partition_bounds(pdir, "fuzz", limit, &start, &end, &e) < 0)
		FUZZ_CHECK(e.code && e.msg[0]);
	FUZZ_CHECK(mq_seg_max_ts(pdir, 0, limit, &max_ts, &e) == 0);
	if (base1)
		FUZZ_CHECK(mq_seg_max_ts(pdir, base1, limit, &max_ts, &e) ==
			   0);

	/* The index lookups on the index bytes as they are. */
	if (mq_idx_lookup(fds[1], (uint32_t)arg, &ie) == 0)
		FUZZ_CHECK(ie.rel <= (uint32_t)arg);
	if (mq_tix_lookup(fds[2], arg, &te) == 0)
		FUZZ_CHECK(te.ts < arg);
	free(copy);
	return 0;
}
