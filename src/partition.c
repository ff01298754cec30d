/*
 * partition.c - the append path of a partition.
 *
 * Every append happens under flock(LOCK_EX) on P/lock, as one write of a
 * whole batch to the active (newest) segment, opened O_APPEND.  The lock
 * file also carries the head (head.c).  Protocol, under the lock:
 *
 *   1. Read the head.  If it is valid, has the roll generation and segment
 *      this writer last saw, and the segment's size equals head.end_pos,
 *      the tail is known good: go to 3.
 *   2. Otherwise recover: list the segments, take the newest, find its last
 *      index entry that points at a valid batch, walk the batches from
 *      there checking each checksum, truncate a torn tail (counting the
 *      bytes in the head for mq-topic describe), cut the indexes back to
 *      what the log holds and re-index the rest, and rewrite the head.
 *   3. Roll to a new segment when this batch would pass segment.bytes or
 *      segment.ms: sync the old one (unless --sync=none), bump the
 *      generation in the head *before* creating the new file (so a writer
 *      holding the old segment open cannot append to it after a newer
 *      segment exists), create the new segment with O_EXCL, sync the
 *      directory.
 *   4. Stamp the base offset into the batch, write it, add an index entry
 *      every MQ_INDEX_INTERVAL bytes, sync per policy, write the head.  If
 *      a write fails the segment is truncated back, so no partial batch
 *      stays visible.
 *
 * A failed fdatasync is never retried on the same segment: the append
 * fails (its data is not acknowledged), and the head gets MQ_HEAD_ROLL, so
 * the next append, in this process or another, first rolls to a new
 * segment without syncing the old one again.  (After a failed fsync Linux
 * may mark the unwritten pages clean: a second fsync would "succeed"
 * without the data ever reaching the disk.)
 */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "internal.h"
#include "mq.h"

#define OPEN_FLAGS (O_RDWR | O_APPEND)

static void
close_active(struct mq_pwriter *w)
{
	if (w->segfd >= 0)
		close(w->segfd);
	if (w->idxfd >= 0)
		close(w->idxfd);
	if (w->tixfd >= 0)
		close(w->tixfd);
	w->segfd = w->idxfd = w->tixfd = -1;
}

int
mq_pwriter_open(struct mq_pwriter *w, struct mq_topic *t, uint32_t p,
		int sync, struct mq_err *e)
{
	memset(w, 0, sizeof *w);
	w->pdir = w->lockfd = w->segfd = w->idxfd = w->tixfd = -1;
	w->partition = p;
	w->cfg = &t->cfg;
	w->sync = sync;
	w->path = mq_topic_partition_path(t, p);
	if (!w->path)
		return mq_err_sys(e, "out of memory");
	w->pdir = mq_topic_partition_dir(t, p, e);
	if (w->pdir < 0)
		goto fail;
	w->lockfd = mq_openat(w->pdir, "lock", O_RDWR | O_CREAT);
	if (w->lockfd < 0) {
		mq_err_sys(e, "cannot open '%s/lock'", w->path);
		goto fail;
	}
	return 0;
fail:
	mq_pwriter_close(w);
	return -1;
}

void
mq_pwriter_close(struct mq_pwriter *w)
{
	close_active(w);
	if (w->lockfd >= 0)
		close(w->lockfd);
	if (w->pdir >= 0)
		close(w->pdir);
	free(w->path);
	free(w->scratch);
	w->path = NULL;
	w->scratch = NULL;
	w->pdir = w->lockfd = -1;
}

static int
lock(struct mq_pwriter *w, struct mq_err *e)
{
	struct timespec a, b;

	clock_gettime(CLOCK_MONOTONIC, &a);
	if (mq_flock_wait(w->lockfd, LOCK_EX, e, "'%s'", w->path) < 0)
		return -1;
	clock_gettime(CLOCK_MONOTONIC, &b);
	w->lock_wait_ns += (uint64_t)((b.tv_sec - a.tv_sec) * 1000000000LL +
				      (b.tv_nsec - a.tv_nsec));
	return 0;
}

static void
unlock(struct mq_pwriter *w)
{
	flock(w->lockfd, LOCK_UN);
}

static int
open_files(struct mq_pwriter *w, uint64_t base, int create, struct mq_err *e)
{
	char name[MQ_SEGNAME_MAX];

	close_active(w);
	mq_seg_name(name, base, "log");
	w->segfd = mq_openat(w->pdir, name, OPEN_FLAGS | create);
	if (w->segfd < 0)
		return mq_err_sys(e, "cannot open '%s/%s'", w->path, name);
	mq_seg_name(name, base, "idx");
	w->idxfd = mq_openat(w->pdir, name, OPEN_FLAGS | O_CREAT);
	if (w->idxfd < 0)
		goto fail;
	mq_seg_name(name, base, "tix");
	w->tixfd = mq_openat(w->pdir, name, OPEN_FLAGS | O_CREAT);
	if (w->tixfd < 0)
		goto fail;
	return 0;
fail:
	mq_err_sys(e, "cannot open '%s/%s'", w->path, name);
	close_active(w);
	return -1;
}

/* Appends index entry number head.idx_count for the batch at pos. */
static int
add_index(struct mq_pwriter *w, uint64_t base, uint64_t pos, int64_t max_ts)
{
	unsigned char x[MQ_IDX_SIZE], t[MQ_TIX_SIZE];
	struct mq_idx_entry ie = {(uint32_t)(base - w->head.seg_base),
				  (uint32_t)pos};
	struct mq_tix_entry te = {max_ts, ie.rel, ie.pos};

	mq_idx_encode(x, &ie);
	mq_tix_encode(t, &te);
	if (mq_write_file(w->idxfd, x, sizeof x) < 0 ||
	    mq_write_file(w->tixfd, t, sizeof t) < 0)
		return -1;
	w->head.idx_pos = pos;
	w->head.idx_count++;
	return 0;
}

static bool
index_due(const struct mq_head *h, uint64_t pos)
{
	return h->idx_count == 0 || pos - h->idx_pos >= MQ_INDEX_INTERVAL;
}

/* Is entry i of both indexes consistent and pointing at a valid batch? */
static int
entry_valid(struct mq_pwriter *w, uint64_t base, uint64_t i, uint64_t size,
	    struct mq_idx_entry *ie, struct mq_tix_entry *te)
{
	unsigned char hdr[MQ_BATCH_HDR];
	struct mq_batch_hdr h;
	uint64_t limit = (uint64_t)w->cfg->max_message_bytes;

	if (mq_idx_read(w->idxfd, i, ie) < 0 || mq_tix_read(w->tixfd, i, te) < 0
	    || ie->rel != te->rel || ie->pos != te->pos ||
	    ie->pos + (uint64_t)MQ_BATCH_HDR > size)
		return 0;
	if (mq_pread_full(w->segfd, hdr, sizeof hdr, ie->pos) != sizeof hdr ||
	    mq_batch_hdr_decode(hdr, limit, &h) < 0 ||
	    h.base_offset != base + ie->rel || ie->pos + h.length > size)
		return 0;
	return 1;
}

/*
 * Are the bytes from pos to the end of the active segment what a crash
 * leaves: a batch cut short (a killed write), or zeros (a power loss on a
 * file system that extended the file before writing it)?  Anything else is
 * corruption, which is reported rather than truncated away.  Bytes that the
 * head says a completed append wrote (committed) are never taken for a
 * short write, whatever their header claims; only zeros there, which no
 * append writes and which an unsynced write can leave after a power loss,
 * count as torn.  (recover() takes anything after the end the head records
 * for torn without asking: no completed append wrote it.)
 */
static int
is_torn(struct mq_pwriter *w, uint64_t pos, uint64_t size, bool committed,
	struct mq_err *e)
{
	unsigned char buf[4096];
	struct mq_batch_hdr h;
	uint64_t limit = (uint64_t)w->cfg->max_message_bytes;
	ssize_t r;

	if (!committed) {
		if (size - pos < MQ_BATCH_HDR)
			return 1;
		r = mq_pread_full(w->segfd, buf, MQ_BATCH_HDR, (off_t)pos);
		if (r < 0)
			return mq_err_sys(e, "cannot read '%s'", w->path);
		if (r == MQ_BATCH_HDR &&
		    mq_batch_hdr_decode(buf, limit, &h) == 0 &&
		    pos + h.length > size)
			return 1;
	}
	for (uint64_t p = pos; p < size; p += (uint64_t)r) {
		r = pread(w->segfd, buf, sizeof buf, (off_t)p);
		if (r < 0 && errno == EINTR) {
			r = 0;
			continue;
		}
		if (r <= 0)
			return r < 0 ? mq_err_sys(e, "cannot read '%s'",
						  w->path) : 1;
		for (ssize_t i = 0; i < r; i++)
			if (buf[i])
				return 0;
	}
	return 1;
}

/*
 * Rebuilds the head from the newest segment, truncating a torn tail.
 * Called under the lock.
 */
static int
recover(struct mq_pwriter *w, struct mq_err *e)
{
	struct mq_head old;
	bool have_old = mq_head_read(w->lockfd, &old) == 0;
	uint64_t *bases = NULL, base, size, start = 0, keep = 0;
	uint64_t isz = UINT64_MAX, tsz = UINT64_MAX;
	size_t nseg;
	struct stat st;
	struct mq_idx_entry ie;
	struct mq_tix_entry te;
	struct mq_scan s;
	int64_t max_ts = INT64_MIN;
	uint64_t start_off;
	uint64_t limit = (uint64_t)w->cfg->max_message_bytes;

	/* What an interrupted mq-compact left is finished or rolled back
	 * first (unless one is running). */
	if (mq_compact_recover_if_idle(w->pdir, w->path, e) < 0)
		return -1;
	if (mq_seg_list(w->pdir, w->path, &bases, &nseg, e) < 0)
		return -1;
	if (nseg == 0) {
		base = have_old ? old.next_offset : 0;
		free(bases);
		if (base >= MQ_OFFSET_MAX)
			return mq_err_set(e, EBADMSG, "corrupt head in '%s/lock': "
					  "next offset %llu is past the last "
					  "one", w->path,
					  (unsigned long long)base);
		if (open_files(w, base, O_CREAT, e) < 0)
			return -1;
		if (w->sync != MQ_SYNC_NONE && mq_fsync_dir(w->pdir) < 0)
			return mq_err_sys(e, "cannot sync '%s'", w->path);
	} else {
		base = bases[nseg - 1];
		free(bases);
		if (open_files(w, base, 0, e) < 0)
			return -1;
	}
	if (fstat(w->segfd, &st) < 0)
		return mq_err_sys(e, "cannot stat segment in '%s'", w->path);
	size = (uint64_t)st.st_size;

	/* The last index entry that still describes the log, if any. */
	w->head.seg_base = base;
	{
		struct stat si, sx;
		uint64_t n = 0;
		if (fstat(w->idxfd, &si) == 0 && fstat(w->tixfd, &sx) == 0) {
			isz = (uint64_t)si.st_size;
			tsz = (uint64_t)sx.st_size;
			n = (uint64_t)si.st_size / MQ_IDX_SIZE;
			if ((uint64_t)sx.st_size / MQ_TIX_SIZE < n)
				n = (uint64_t)sx.st_size / MQ_TIX_SIZE;
		}
		for (uint64_t i = n; i > 0 && i + 8 > n; i--) {
			if (entry_valid(w, base, i - 1, size, &ie, &te)) {
				keep = i;
				start = ie.pos;
				max_ts = te.ts;
				break;
			}
		}
	}
	start_off = keep ? base + ie.rel : base;
	if (mq_seg_scan(w->segfd, start_off, start, limit, &w->scratch,
			&w->scratch_cap, &s, e) < 0)
		return -1;
	if (keep && s.batches == 0) {
		/* The indexed batch failed its checksum: index from scratch. */
		keep = 0;
		start = 0;
		max_ts = INT64_MIN;
		if (mq_seg_scan(w->segfd, base, 0, limit, &w->scratch,
				&w->scratch_cap, &s, e) < 0)
			return -1;
	}

	w->head = have_old ? old : (struct mq_head){0};
	w->head.gen = (have_old ? old.gen : 0) + 1;
	if (!have_old || old.seg_base != base)
		w->head.flags = 0;
	w->head.seg_base = base;
	if (s.end_pos < size) {
		bool committed = have_old && old.seg_base == base &&
				 s.end_pos < old.end_pos && old.end_pos <= size;
		/* Past the end of every append the head knows of, nothing
		 * was acknowledged: whatever is there is an unfinished write
		 * (readers take it for one too), however it looks. */
		bool beyond = have_old && old.seg_base == base &&
			      s.end_pos >= old.end_pos;
		int torn = beyond ? 1 : is_torn(w, s.end_pos, size, committed,
						 e);
		if (torn < 0)
			return -1;
		if (!torn)
			return mq_err_set(e, EBADMSG, "corrupt data at byte "
					  "%llu of '%s/%020llu.log': refusing "
					  "to append after it",
					  (unsigned long long)s.end_pos,
					  w->path, (unsigned long long)base);
		if (mq_ftruncate(w->segfd, (off_t)s.end_pos) < 0)
			return mq_err_sys(e, "cannot truncate torn tail of "
					  "'%s'", w->path);
		w->head.recovered_bytes += size - s.end_pos;
		w->head.recoveries++;
		w->head.last_recovery_ms = mq_now_ms();
	}
	/* (Most often they hold just that: no call then.) */
	if ((isz != keep * MQ_IDX_SIZE &&
	     mq_ftruncate(w->idxfd, (off_t)(keep * MQ_IDX_SIZE)) < 0) ||
	    (tsz != keep * MQ_TIX_SIZE &&
	     mq_ftruncate(w->tixfd, (off_t)(keep * MQ_TIX_SIZE)) < 0))
		return mq_err_sys(e, "cannot truncate index in '%s'", w->path);
	w->head.end_pos = s.end_pos;
	w->head.next_offset = s.batches ? s.next_offset :
			      (keep ? start_off : base);
	w->head.idx_count = keep;
	w->head.idx_pos = start;
	w->head.max_ts = max_ts;
	w->head.first_ts = 0;

	/* Index the batches after the kept entry, as the appends would. */
	for (uint64_t pos = start; pos < s.end_pos;) {
		unsigned char hdr[MQ_BATCH_HDR];
		struct mq_batch_hdr h;
		if (mq_pread_full(w->segfd, hdr, sizeof hdr, (off_t)pos) !=
		    sizeof hdr || mq_batch_hdr_decode(hdr, limit, &h) < 0)
			return mq_err_set(e, EIO, "'%s' changed while being "
					  "recovered", w->path);
		if (h.max_ts > w->head.max_ts)
			w->head.max_ts = h.max_ts;
		if (pos != start || keep == 0) {
			if (index_due(&w->head, pos) &&
			    add_index(w, h.base_offset, pos, w->head.max_ts) < 0)
				return mq_err_sys(e, "cannot write index in "
						  "'%s'", w->path);
		}
		pos += h.length;
	}
	if (s.end_pos > 0) {
		unsigned char hdr[MQ_BATCH_HDR];
		struct mq_batch_hdr h;
		if (mq_pread_full(w->segfd, hdr, sizeof hdr, 0) == sizeof hdr &&
		    mq_batch_hdr_decode(hdr, limit, &h) == 0)
			w->head.first_ts = h.base_ts;
	}
	if (mq_head_write(w->lockfd, &w->head) < 0)
		return mq_err_sys(e, "cannot write head of '%s'", w->path);
	w->recovered = true;
	return 0;
}

/* For mq_partition_repair (verify.c), which holds the lock itself. */
int
mq_pwriter_recover(struct mq_pwriter *w, struct mq_err *e)
{
	return recover(w, e);
}

/* The topic was deleted (mq_topic_delete marked the head). */
static int
deleted(struct mq_pwriter *w, struct mq_err *e)
{
	return mq_err_set(e, ENOENT, "cannot append to '%s': the topic was "
			  "deleted", w->path);
}

/* Under the lock: is the tail as the head says?  Else recover. */
static int
check_tail(struct mq_pwriter *w, struct mq_err *e)
{
	struct mq_head h;
	struct stat st;
	bool valid = mq_head_read(w->lockfd, &h) == 0;

	if (valid && (h.flags & MQ_HEAD_DELETED))
		return deleted(w, e);
	if (w->recovered && valid && h.gen == w->head.gen && h.seg_base == w->head.seg_base &&
	    fstat(w->segfd, &st) == 0 && (uint64_t)st.st_size == h.end_pos) {
		w->head = h;
		return 0;
	}
	return recover(w, e);
}

static int
sync_active(struct mq_pwriter *w, struct mq_err *e)
{
	if (mq_fdatasync(w->segfd) < 0)
		return mq_err_sys(e, "cannot sync segment in '%s'", w->path);
	if (mq_fdatasync(w->idxfd) < 0 || mq_fdatasync(w->tixfd) < 0)
		return mq_err_sys(e, "cannot sync index in '%s'", w->path);
	return 0;
}

/*
 * After a failed sync: mark the active segment so the next append rolls
 * past it without syncing it again.  Called under the lock with w->head
 * describing the segment as it is now.
 */
static void
poison(struct mq_pwriter *w)
{
	w->poisoned = true;
	w->head.flags |= MQ_HEAD_ROLL;
	if (mq_head_write(w->lockfd, &w->head) < 0)
		w->recovered = false;
}

/*
 * With the sync at exit, start writing the segment back every few MiB
 * (asynchronously: nothing waits here), so the final fdatasync only waits
 * for the last stretch and the disk works while the producer still
 * parses.  A hint: durability still comes from mq_pwriter_sync.
 */
#define WRITEBACK_STEP (8u << 20)

/* Starts writing [off, off + len) of fd back (len 0: to the end). */
static void
writeback(int fd, uint64_t off, uint64_t len)
{
#ifdef HAVE_SYNC_FILE_RANGE
	(void)sync_file_range(fd, (off_t)off, (off_t)len,
			      SYNC_FILE_RANGE_WRITE);
#else
	(void)fd;
	(void)off;
	(void)len;
#endif
}

static void
start_writeback(struct mq_pwriter *w)
{
	uint64_t end = w->head.end_pos;

	if (w->wb_base != w->head.seg_base || w->wb_pos > end) {
		w->wb_base = w->head.seg_base;
		w->wb_pos = 0;
	}
	if (end - w->wb_pos < WRITEBACK_STEP)
		return;
	writeback(w->segfd, w->wb_pos, end - w->wb_pos);
	w->wb_pos = end;
}

static int
roll(struct mq_pwriter *w, struct mq_err *e)
{
	uint64_t base = w->head.next_offset;
	char name[MQ_SEGNAME_MAX];
	int fd;
	struct stat st;

	/* A segment whose sync failed is not synced again (see above). */
	if (w->sync != MQ_SYNC_NONE && !(w->head.flags & MQ_HEAD_ROLL) &&
	    sync_active(w, e) < 0) {
		poison(w);
		return -1;
	}
	w->dirty = false;
	w->head.gen++;
	if (mq_head_write(w->lockfd, &w->head) < 0)
		return mq_err_sys(e, "cannot write head of '%s'", w->path);
	mq_seg_name(name, base, "log");
	/* It may be there already, left by a roll that crashed before its
	 * head update: then it must be empty. */
	fd = mq_openat(w->pdir, name, OPEN_FLAGS | O_CREAT);
	if (fd >= 0 && (fstat(fd, &st) < 0 || st.st_size != 0)) {
		close(fd);
		return mq_err_set(e, EEXIST, "segment '%s/%s' already holds "
				  "data", w->path, name);
	}
	if (fd < 0)
		return mq_err_sys(e, "cannot create '%s/%s'", w->path, name);
	close(fd);
	if (open_files(w, base, 0, e) < 0)
		return -1;
	if (mq_ftruncate(w->idxfd, 0) < 0 || mq_ftruncate(w->tixfd, 0) < 0)
		return mq_err_sys(e, "cannot reset index in '%s'", w->path);
	if (w->sync != MQ_SYNC_NONE && mq_fsync_dir(w->pdir) < 0)
		return mq_err_sys(e, "cannot sync '%s'", w->path);
	w->head.seg_base = base;
	w->head.end_pos = 0;
	w->head.idx_pos = 0;
	w->head.idx_count = 0;
	w->head.first_ts = 0;
	w->head.max_ts = INT64_MIN;
	w->head.flags &= ~(uint64_t)MQ_HEAD_ROLL;
	if (mq_head_write(w->lockfd, &w->head) < 0)
		return mq_err_sys(e, "cannot write head of '%s'", w->path);
	return 0;
}

/*
 * Has the active segment lived segment.ms by message time?  As in Kafka,
 * when the batch's newest timestamp is segment.ms or more after the
 * segment's first (in unsigned arithmetic, exact for any two int64
 * values).  Kafka waits, too, while the first timestamp is ahead of the
 * batch; but a first timestamp later than the topic would take now
 * (mq_ts_horizon: from before the limit, or planted) would hold the
 * segment open until then, maybe for ever: such a segment is rolled at
 * once, unless the batch is no earlier (a new segment would start just
 * as late).
 */
static bool
time_due(const struct mq_pwriter *w, const struct mq_bb *b)
{
	int64_t first = w->head.first_ts;

	if (b->max_ts >= first)
		return (uint64_t)b->max_ts - (uint64_t)first >=
		       (uint64_t)w->cfg->segment_ms;
	return first > mq_ts_horizon(w->cfg, mq_now_ms());
}

static bool
roll_due(const struct mq_pwriter *w, const struct mq_bb *b)
{
	const struct mq_head *h = &w->head;

	if (h->flags & MQ_HEAD_ROLL)
		return true;
	if (h->end_pos == 0)
		return false;
	return h->end_pos + b->outlen > (uint64_t)w->cfg->segment_bytes ||
	       time_due(w, b) ||
	       h->next_offset - h->seg_base + b->count > UINT32_MAX / 2;
}

int
mq_pwriter_append(struct mq_pwriter *w, struct mq_bb *b, uint64_t *base,
		  struct mq_err *e)
{
	uint64_t pos, off;
	uint64_t idx_count;

	if (b->count == 0)
		return mq_err_set(e, EINVAL, "an empty batch cannot be appended");
	if (lock(w, e) < 0)
		return -1;
	if (check_tail(w, e) < 0)
		goto fail;
	/* Offsets end at MQ_OFFSET_MAX (Kafka's are signed 64-bit): a
	 * partition that far takes nothing more, rather than wrap. */
	if (w->head.next_offset > MQ_OFFSET_MAX - b->count) {
		mq_err_set(e, EOVERFLOW, "cannot append to '%s': it is full "
			   "(offset %llu and %u more would pass %llu)", w->path,
			   (unsigned long long)w->head.next_offset, b->count,
			   (unsigned long long)MQ_OFFSET_MAX);
		goto fail;
	}
	if (roll_due(w, b) && roll(w, e) < 0)
		goto fail;
	pos = w->head.end_pos;
	off = w->head.next_offset;
	idx_count = w->head.idx_count;
	mq_bb_stamp(b, off);
	if (mq_write_file(w->segfd, b->out, b->outlen) < 0) {
		mq_err_sys(e, "cannot append to '%s'", w->path);
		goto undo;
	}
	if (b->max_ts > w->head.max_ts)
		w->head.max_ts = b->max_ts;
	if (pos == 0)
		w->head.first_ts = b->base_ts;
	if (index_due(&w->head, pos) &&
	    add_index(w, off, pos, w->head.max_ts) < 0) {
		mq_err_sys(e, "cannot write index in '%s'", w->path);
		goto undo;
	}
	w->head.end_pos = pos + b->outlen;
	w->head.next_offset = off + b->count;
	if (w->sync == MQ_SYNC_BATCH && mq_fdatasync(w->segfd) < 0) {
		mq_err_sys(e, "cannot sync '%s'", w->path);
		/* The batch is stored but not acknowledged, and the
		 * segment takes no more. */
		poison(w);
		goto fail;
	}
	if (mq_head_write(w->lockfd, &w->head) < 0) {
		mq_err_sys(e, "cannot write head of '%s'", w->path);
		goto fail_synced;
	}
	w->dirty = w->sync == MQ_SYNC_EXIT;
	unlock(w);
	*base = off;
	if (w->sync == MQ_SYNC_EXIT)
		start_writeback(w);
	return 0;
undo:
	/* Take back whatever part of the batch and its index got written. */
	if (mq_ftruncate(w->segfd, (off_t)pos) < 0 ||
	    mq_ftruncate(w->idxfd, (off_t)(idx_count * MQ_IDX_SIZE)) < 0 ||
	    mq_ftruncate(w->tixfd, (off_t)(idx_count * MQ_TIX_SIZE)) < 0)
		w->recovered = false;
	w->head.idx_count = idx_count;
fail_synced:
	/* The next append re-validates the tail from the log. */
	w->recovered = false;
fail:
	unlock(w);
	return -1;
}

void
mq_pwriter_writeback(struct mq_pwriter *w)
{
	if (w->dirty && !w->poisoned && w->segfd >= 0)
		writeback(w->segfd, 0, 0);
}

int
mq_pwriter_sync(struct mq_pwriter *w, struct mq_err *e)
{
	struct mq_head h;
	struct mq_err e2;

	if (w->poisoned)
		return mq_err_set(e, EIO, "'%s' was not synced: an earlier "
				  "sync of it failed", w->path);
	if (!w->dirty || w->segfd < 0)
		return 0;
	w->dirty = false;
	if (mq_fdatasync(w->segfd) == 0) {
		/* Synced, but in a topic deleted since: nothing to
		 * acknowledge (mq_topic_delete marks the head first). */
		if (mq_head_read(w->lockfd, &h) == 0 &&
		    (h.flags & MQ_HEAD_DELETED))
			return mq_err_set(e, ENOENT, "'%s' was deleted before "
					  "its messages were acknowledged",
					  w->path);
		return 0;
	}
	mq_err_sys(e, "cannot sync '%s'", w->path);
	/* Our segment takes no more appends, if it is still the active one. */
	if (mq_flock_wait(w->lockfd, LOCK_EX, &e2, "'%s'", w->path) < 0)
		return -1;
	if (mq_head_read(w->lockfd, &h) == 0 &&
	    h.seg_base == w->head.seg_base) {
		w->head = h;
		poison(w);
	}
	unlock(w);
	return -1;
}
