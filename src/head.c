/*
 * head.c - the partition head, kept in the first 128 bytes of P/lock.
 *
 * Writers update it under the partition lock after every append, so a
 * writer that finds the head as it left it (same roll generation, segment
 * size equal to end_pos) can append without re-reading the log, and a
 * reader that meets bytes that are not a valid batch can tell an
 * unfinished write (at or past end_pos) from corruption (before it).  The
 * head is never synced: after a crash it may be stale, so each process's
 * first append validates the log's tail and rewrites it.
 *
 *   0 magic "MQH1"   4 version   8 gen   16 seg_base   24 end_pos
 *   32 next_offset   40 idx_pos  48 first_ts  56 max_ts
 *   64 recovered_bytes  72 recoveries  80 last_recovery_ms  88 idx_count
 *   96 flags (MQ_HEAD_ROLL)  104..119 zero  120 XXH3-64 of bytes 0..119
 */
#include <config.h>

#include <string.h>
#include "xxh.h"

#include "internal.h"
#include "mq.h"

#define HEAD_MAGIC 0x3148514dU  /* "MQH1" */

int
mq_head_read(int lockfd, struct mq_head *h)
{
	unsigned char p[MQ_HEAD_SIZE];

	if (mq_pread_full(lockfd, p, sizeof p, 0) != (ssize_t)sizeof p ||
	    mq_le32(p) != HEAD_MAGIC || mq_le32(p + 4) != 1 ||
	    mq_le64(p + 120) != XXH3_64bits(p, 120))
		return 1;
	h->gen = mq_le64(p + 8);
	h->seg_base = mq_le64(p + 16);
	h->end_pos = mq_le64(p + 24);
	h->next_offset = mq_le64(p + 32);
	h->idx_pos = mq_le64(p + 40);
	h->first_ts = (int64_t)mq_le64(p + 48);
	h->max_ts = (int64_t)mq_le64(p + 56);
	h->recovered_bytes = mq_le64(p + 64);
	h->recoveries = mq_le64(p + 72);
	h->last_recovery_ms = (int64_t)mq_le64(p + 80);
	h->idx_count = mq_le64(p + 88);
	h->flags = mq_le64(p + 96);
	return 0;
}

int
mq_head_write(int lockfd, const struct mq_head *h)
{
	unsigned char p[MQ_HEAD_SIZE];

	memset(p, 0, sizeof p);
	mq_put32(p, HEAD_MAGIC);
	mq_put32(p + 4, 1);
	mq_put64(p + 8, h->gen);
	mq_put64(p + 16, h->seg_base);
	mq_put64(p + 24, h->end_pos);
	mq_put64(p + 32, h->next_offset);
	mq_put64(p + 40, h->idx_pos);
	mq_put64(p + 48, (uint64_t)h->first_ts);
	mq_put64(p + 56, (uint64_t)h->max_ts);
	mq_put64(p + 64, h->recovered_bytes);
	mq_put64(p + 72, h->recoveries);
	mq_put64(p + 80, (uint64_t)h->last_recovery_ms);
	mq_put64(p + 88, h->idx_count);
	mq_put64(p + 96, h->flags);
	mq_put64(p + 120, XXH3_64bits(p, 120));
	return mq_pwrite_file(lockfd, p, sizeof p, 0);
}
