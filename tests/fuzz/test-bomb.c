/*
 * test-bomb.c - the decompression bomb guard, shown at unit level.  A
 * batch's header declares raw_len, the size of its records before
 * compression; mq_batch_hdr_decode refuses a raw_len above
 * max.message.bytes, a reader allocates exactly raw_len for the inflated
 * records, and mq_codec_decompress must produce exactly raw_len bytes.  So
 * a small zlib payload that would inflate to 16 MiB is refused (EBADMSG)
 * after writing at most raw_len bytes, and the reader's buffers stay the
 * size of the batch, whatever the payload would become.
 */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <sys/mman.h>
#include <unistd.h>
#include <zlib.h>

#include "mq.h"
#include "../unit/tap.h"

#define BOMB (16u << 20)        /* what the payload inflates to */
#define RAW_LEN 1000u           /* what its header says */
#define LIMIT (64u << 10)       /* max.message.bytes of the topic */

static unsigned char *bomb;
static size_t bomb_len;

static void
put32(unsigned char *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (unsigned char)(v >> (8 * i));
}

static void
put64(unsigned char *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (unsigned char)(v >> (8 * i));
}

/* A dense batch of one record at offset 0 around the bomb, checksummed. */
static unsigned char *
bomb_batch(uint32_t raw_len, size_t *len)
{
	unsigned char *b = calloc(1, MQ_BATCH_HDR + bomb_len);

	if (!b)
		exit(99);
	put32(b, MQ_BATCH_MAGIC);
	put32(b + 4, (uint32_t)(MQ_BATCH_HDR + bomb_len));
	put32(b + 24, 0);                   /* last_delta */
	put32(b + 28, 1);                   /* count */
	put64(b + 32, 1700000000000ULL);    /* base_ts */
	put64(b + 40, 1700000000000ULL);    /* max_ts */
	put32(b + 48, raw_len);
	b[52] = MQ_CODEC_ZLIB;
	b[53] = MQ_BATCH_DENSE;
	memcpy(b + MQ_BATCH_HDR, bomb, bomb_len);
	*len = MQ_BATCH_HDR + bomb_len;
	put64(b + 8, mq_batch_checksum(b, *len));
	return b;
}

/* 16 MiB of zeros as raw deflate at level 9, about 1000 times smaller. */
static void
make_bomb(void)
{
	unsigned char *zeros = calloc(1, BOMB);
	z_stream z;

	memset(&z, 0, sizeof z);
	bomb = malloc(BOMB / 64);
	if (!zeros || !bomb ||
	    deflateInit2(&z, 9, Z_DEFLATED, -15, 9, Z_DEFAULT_STRATEGY) !=
	    Z_OK) {
		printf("Bail out! cannot make the bomb\n");
		exit(99);
	}
	z.next_in = zeros;
	z.avail_in = BOMB;
	z.next_out = bomb;
	z.avail_out = BOMB / 64;
	if (deflate(&z, Z_FINISH) != Z_STREAM_END) {
		printf("Bail out! cannot make the bomb\n");
		exit(99);
	}
	bomb_len = BOMB / 64 - z.avail_out;
	deflateEnd(&z);
	free(zeros);
	ok(bomb_len < LIMIT, "16 MiB of zeros deflate to %zu bytes, less "
	   "than max.message.bytes", bomb_len);
}

/*
 * Inflating into raw_len bytes that end at a PROT_NONE page: one byte
 * written past raw_len would kill the test.
 */
static void
test_decompress(void)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	size_t span = LIMIT + page;
	unsigned char *m = mmap(NULL, span + page, PROT_READ | PROT_WRITE,
				MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	struct mq_codec *c = mq_codec_new();
	struct mq_err e = {0};
	int rc;

	if (m == MAP_FAILED || !c ||
	    mprotect(m + span, page, PROT_NONE) < 0) {
		printf("Bail out! cannot map a guard page\n");
		exit(99);
	}
	memset(m, 0xa5, span);
	rc = mq_codec_decompress(c, MQ_CODEC_ZLIB, bomb, bomb_len,
				 m + span - RAW_LEN, RAW_LEN, &e);
	ok(rc == -1 && e.code == EBADMSG, "the bomb is refused with EBADMSG "
	   "when raw_len is %u ('%s')", RAW_LEN, e.msg);
	ok(m[span - RAW_LEN - 1] == 0xa5, "nothing was written before the "
	   "%u bytes", RAW_LEN);
	rc = mq_codec_decompress(c, MQ_CODEC_ZLIB, bomb, bomb_len, m + page,
				 LIMIT, &e);
	ok(rc == -1 && e.code == EBADMSG, "and when raw_len is the whole "
	   "max.message.bytes (%u)", LIMIT);
	mq_codec_free(c);
	munmap(m, span + page);
}

static void
test_header(void)
{
	struct mq_batch_hdr h;
	size_t len;
	unsigned char *b = bomb_batch(BOMB, &len);

	ok(mq_batch_hdr_decode(b, LIMIT, &h) == -1, "a header declaring the "
	   "true 16 MiB raw_len is refused under max.message.bytes %u",
	   LIMIT);
	ok(mq_batch_hdr_decode(b, BOMB, &h) == 0 && h.raw_len == BOMB,
	   "(and accepted where max.message.bytes allows it)");
	free(b);
}

/* The reader on a segment holding the bomb batch. */
static void
test_reader(void)
{
	const char *td = getenv("TMPDIR");
	char dir[PATH_MAX], spool[PATH_MAX + 8];
	struct mq_spool sp;
	struct mq_topic t;
	struct mq_preader r;
	struct mq_record rec;
	struct mq_config cfg;
	struct mq_err e = {0};
	unsigned char *b;
	size_t len;
	int pdir, fd, rc;

	snprintf(dir, sizeof dir, "%s/mq-test-bomb-XXXXXX",
		 td && *td ? td : "/tmp");
	if (!mkdtemp(dir)) {
		printf("Bail out! mkdtemp: %s\n", strerror(errno));
		exit(99);
	}
	snprintf(spool, sizeof spool, "%s/spool", dir);
	mq_config_defaults(&cfg);
	cfg.max_message_bytes = LIMIT;
	if (mq_spool_open(&sp, spool, true, &e) < 0 ||
	    mq_topic_create(&sp, "bomb", &cfg, &e) < 0 ||
	    mq_topic_open(&t, &sp, "bomb", &e) < 0 ||
	    (pdir = mq_topic_partition_dir(&t, 0, &e)) < 0) {
		printf("Bail out! %s\n", e.msg);
		exit(99);
	}
	b = bomb_batch(RAW_LEN, &len);
	fd = openat(pdir, "00000000000000000000.log", O_WRONLY | O_CLOEXEC);
	if (fd < 0 || mq_write_full(fd, b, len) < 0) {
		printf("Bail out! cannot write the segment\n");
		exit(99);
	}
	close(fd);
	free(b);

	if (mq_preader_open(&r, &t, 0, &e) < 0) {
		printf("Bail out! %s\n", e.msg);
		exit(99);
	}
	rc = mq_preader_next(&r, &rec, &e);
	ok(rc == -1 && e.code == EBADMSG, "the reader refuses the batch with "
	   "EBADMSG");
	ok(strstr(e.msg, "corrupt batch in '") &&
	   strstr(e.msg, "00000000000000000000.log' at byte 0: compressed "
		  "payload does not inflate to its declared 1000 bytes"),
	   "naming the file, the position and why ('%s')", e.msg);
	ok(r.rawcap == RAW_LEN, "its buffer for the records is raw_len bytes "
	   "(%zu)", r.rawcap);
	ok(r.cap <= (64u << 10) + len + MQ_BATCH_HDR, "its read buffer is "
	   "about one batch (%zu bytes for a %zu-byte batch)", r.cap, len);
	mq_preader_close(&r);
	close(pdir);
	mq_topic_close(&t);
	mq_spool_close(&sp);
	mq_rmtree(AT_FDCWD, dir);
}

int
main(void)
{
	make_bomb();
	test_decompress();
	test_header();
	test_reader();
	free(bomb);
	return tap_done();
}
