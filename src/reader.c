/*
 * reader.c - reading a partition by offset or by time, without locks.
 *
 * A reader walks the segments in base-offset order, reading them with
 * preads of about a batch (never mmap: a writer may truncate a torn tail
 * under it, and a mapped page past the new end would kill the reader) and
 * checking every batch's header and checksum before handing out records.
 * When it meets bytes that are not a complete valid batch it decides what
 * they are:
 *
 *   - in a segment that has a newer one after it, the segment is sealed:
 *     after one re-read (the roll may have happened while we read) an
 *     invalid batch is corruption, reported with file and byte position;
 *   - in the newest segment, at or past the head's end_pos (head.c), it is
 *     a write not yet finished (or a crashed one the next writer will
 *     truncate): the reader is at the end for now;
 *   - in the newest segment before end_pos, the bytes were written by a
 *     completed append, so after one re-read they are corruption.
 *
 * Seeks use the sparse indexes (segment.c): the offset index for -o N and
 * the time index for -o @TIME, then a short forward walk.
 */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mq.h"

#define READ_CHUNK (64 * 1024)

enum { B_OK, B_EOF, B_BAD };

int
mq_preader_open(struct mq_preader *r, struct mq_topic *t, uint32_t p,
		struct mq_err *e)
{
	memset(r, 0, sizeof *r);
	r->pdir = r->lockfd = r->segfd = -1;
	r->partition = p;
	r->limit = (uint64_t)t->cfg.max_message_bytes;
	r->path = mq_topic_partition_path(t, p);
	if (!r->path)
		return mq_err_sys(e, "out of memory");
	r->pdir = mq_topic_partition_dir(t, p, e);
	if (r->pdir < 0) {
		mq_preader_close(r);
		return -1;
	}
	r->lockfd = mq_openat(r->pdir, "lock", O_RDONLY);
	r->chunk = READ_CHUNK;
	return 0;
}

void
mq_preader_trim(struct mq_preader *r)
{
	if (r->in_batch)
		return;
	free(r->buf);
	free(r->raw);
	r->buf = r->raw = NULL;
	r->cap = r->rawcap = r->blen = 0;
}

void
mq_preader_close(struct mq_preader *r)
{
	if (r->segfd >= 0)
		close(r->segfd);
	if (r->lockfd >= 0)
		close(r->lockfd);
	if (r->pdir >= 0)
		close(r->pdir);
	mq_codec_free(r->codec);
	free(r->buf);
	free(r->raw);
	free(r->path);
	memset(r, 0, sizeof *r);
	r->pdir = r->lockfd = r->segfd = -1;
}

static int
open_seg(struct mq_preader *r, uint64_t base, struct mq_err *e)
{
	char name[MQ_SEGNAME_MAX];
	int fd;

	mq_seg_name(name, base, "log");
	fd = mq_openat(r->pdir, name, O_RDONLY);
	if (fd < 0)
		return mq_err_sys(e, "cannot open '%s/%s'", r->path, name);
	/* Segments are read front to back: ask for a larger read-ahead. */
	posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
	if (r->segfd >= 0)
		close(r->segfd);
	r->segfd = fd;
	r->seg_base = base;
	r->pos = 0;
	r->blen = 0;
	r->bstart = 0;
	r->in_batch = false;
	r->expect = base;
	return 0;
}

/*
 * The smallest segment base above the current one: 1 and *next if there
 * is one, 0 if the current segment is the newest.
 */
static int
newer_segment(struct mq_preader *r, uint64_t *next, struct mq_err *e)
{
	struct mq_head h;
	uint64_t *bases;
	size_t n;
	int found = 0;

	if (r->lockfd >= 0 && mq_head_read(r->lockfd, &h) == 0 &&
	    h.seg_base == r->seg_base)
		return 0;
	if (mq_seg_list(r->pdir, r->path, &bases, &n, e) < 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (bases[i] > r->seg_base) {
			*next = bases[i];
			found = 1;
			break;
		}
	}
	free(bases);
	return found;
}

/*
 * Makes bytes [pos, pos + need) of the segment available in the buffer;
 * returns how many of them exist (less at EOF).  It reads to the end of
 * what is needed plus one batch header (at least r->chunk bytes), so the
 * next batch usually needs only its header moved to the front and one
 * read.  The buffer stays near the size of a batch, which keeps the
 * kernel's copy and our parsing in the CPU's cache: reading in chunks of
 * many batches is measurably slower.
 */
static ssize_t
ensure(struct mq_preader *r, size_t need)
{
	size_t want;

	if (r->pos >= r->bstart && r->pos + need <= r->bstart + r->blen)
		return (ssize_t)need;
	if (r->pos < r->bstart || r->pos > r->bstart + r->blen) {
		r->blen = 0;
	} else {
		size_t keep = (size_t)(r->bstart + r->blen - r->pos);
		if (keep)
			memmove(r->buf, r->buf + (r->pos - r->bstart), keep);
		r->blen = keep;
	}
	r->bstart = r->pos;
	want = need + MQ_BATCH_HDR;
	if (want < r->chunk)
		want = r->chunk;
	if (want > r->cap || !r->buf) {
		unsigned char *p = realloc(r->buf, want);
		if (!p)
			return -1;
		r->buf = p;
		r->cap = want;
	}
	while (r->blen < need) {
		ssize_t got = pread(r->segfd, r->buf + r->blen,
				    want - r->blen,
				    (off_t)(r->bstart + r->blen));
		if (got < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (got == 0)
			break;
		r->blen += (size_t)got;
	}
	return (ssize_t)(r->blen < need ? r->blen : need);
}

/* Reads the batch at pos into h and *data; B_OK, B_EOF, B_BAD or -1. */
static int
try_batch(struct mq_preader *r, struct mq_batch_hdr *h,
	  const unsigned char **data, struct mq_err *e)
{
	ssize_t got = ensure(r, MQ_BATCH_HDR);
	const unsigned char *p;

	if (got < 0)
		return mq_err_sys(e, "cannot read '%s'", r->path);
	if (got == 0)
		return B_EOF;
	if (got < MQ_BATCH_HDR)
		return B_BAD;
	p = r->buf + (r->pos - r->bstart);
	if (mq_batch_hdr_decode(p, r->limit, h) < 0 ||
	    h->base_offset < r->expect)
		return B_BAD;
	got = ensure(r, h->length);
	if (got < 0)
		return mq_err_sys(e, "cannot read '%s'", r->path);
	if ((size_t)got < h->length)
		return B_BAD;
	p = r->buf + (r->pos - r->bstart);
	if (mq_batch_checksum(p, h->length) != h->checksum)
		return B_BAD;
	*data = p;
	return B_OK;
}

static int
corrupt(struct mq_preader *r, struct mq_err *e, const char *what)
{
	return mq_err_set(e, EBADMSG, "corrupt batch in '%s/%020llu.log' at "
			  "byte %llu: %s", r->path,
			  (unsigned long long)r->seg_base,
			  (unsigned long long)r->pos, what);
}

/*
 * Were the bytes at pos in the newest segment written by a completed
 * append?  A read error counts as yes: it is reported, not taken for the
 * end of the log.
 */
static bool
committed(struct mq_preader *r)
{
	struct mq_head head;

	return r->lockfd >= 0 && mq_head_read(r->lockfd, &head) == 0 &&
	       mq_seg_committed(r->segfd, r->seg_base, r->pos, &head) != 0;
}

/*
 * The next valid batch: 0 with h and data, 1 at the end of the log for
 * now, -1 on error.  Moves to newer segments as it reaches sealed ends.
 */
static int
load_batch(struct mq_preader *r, struct mq_batch_hdr *h,
	   const unsigned char **data, struct mq_err *e)
{
	for (;;) {
		int st = try_batch(r, h, data, e), newer;
		uint64_t next = 0;

		if (st < 0)
			return -1;
		if (st == B_OK) {
			r->pos += h->length;
			r->expect = h->base_offset + h->last_delta + 1;
			return 0;
		}
		newer = newer_segment(r, &next, e);
		if (newer < 0)
			return -1;
		if (!newer) {
			/* The newest segment: finished bytes or not yet? */
			if (st == B_EOF)
				return 1;
			if (!committed(r))
				return 1;
		}
		/* Read again: the write or the roll may have just finished. */
		r->blen = 0;
		st = try_batch(r, h, data, e);
		if (st < 0)
			return -1;
		if (st == B_OK)
			continue;
		if (!newer) {
			if (st == B_EOF)
				return 1;   /* truncated meanwhile */
			return corrupt(r, e, "invalid batch before the end "
				       "of the log");
		}
		if (st == B_BAD)
			return corrupt(r, e, "invalid batch in a sealed "
				       "segment");
		/* A sealed segment ends cleanly: on to the next one.  Retention
		 * may remove it first: then look again. */
		while (open_seg(r, next, e) < 0) {
			if (e->code != ENOENT)
				return -1;
			newer = newer_segment(r, &next, e);
			if (newer < 0)
				return -1;
			if (!newer)
				return 1;
		}
	}
}

int
mq_preader_next_slow(struct mq_preader *r, struct mq_record *rec,
		     struct mq_err *e)
{
	struct mq_batch_hdr h;
	const unsigned char *data;
	int rc;

	if (r->segfd < 0 && mq_preader_seek(r, MQ_FROM_BEGINNING, 0, e) < 0)
		return -1;
	for (;;) {
		if (r->in_batch) {
			rc = mq_rec_iter_next(&r->it, rec);
			if (rc == 0) {
				if (rec->offset < r->next)
					continue;
				if (r->have_min_ts) {
					if (rec->ts < r->min_ts)
						continue;
					r->have_min_ts = false;
				}
				r->next = rec->offset + 1;
				return 0;
			}
			r->in_batch = false;
			if (rc < 0) {
				r->pos = r->batch_pos;
				return corrupt(r, e, "malformed record");
			}
			continue;
		}
		rc = load_batch(r, &h, &data, e);
		if (rc != 0)
			return rc;
		if (h.base_offset + h.last_delta < r->next ||
		    (r->have_min_ts && h.max_ts < r->min_ts) || h.count == 0)
			continue;
		r->batch_pos = r->pos - h.length;
		if (h.codec != MQ_CODEC_NONE) {
			if (r->rawcap < h.raw_len) {
				unsigned char *p = realloc(r->raw, h.raw_len);
				if (!p)
					return mq_err_sys(e, "out of memory");
				r->raw = p;
				r->rawcap = h.raw_len;
			}
			if (!r->codec && !(r->codec = mq_codec_new()))
				return mq_err_sys(e, "out of memory");
			if (mq_codec_decompress(r->codec, h.codec,
						data + MQ_BATCH_HDR,
						h.length - MQ_BATCH_HDR, r->raw,
						h.raw_len, e) < 0) {
				/* A copy: e->msg is rewritten below. */
				char why[MQ_ERR_MAX];
				memcpy(why, e->msg, sizeof why);
				r->pos = r->batch_pos;
				return corrupt(r, e, why);
			}
			mq_rec_iter_init(&r->it, &h, r->raw, h.raw_len);
		} else {
			mq_rec_iter_init(&r->it, &h, data + MQ_BATCH_HDR,
					 h.raw_len);
		}
		r->in_batch = true;
	}
}

int
mq_preader_rewind(struct mq_preader *r, uint64_t off, struct mq_err *e)
{
	/* The position first: a caller that commits r->next gets off even
	 * if the seek below fails. */
	r->next = off;
	if (r->in_batch && off >= r->it.base && !r->have_min_ts) {
		/* Inside the current batch: load it again from its start
		 * and skip what comes before off. */
		if (off < r->it.min_off) {
			r->in_batch = false;
			r->pos = r->batch_pos;
			r->expect = r->it.base;
		}
		return 0;
	}
	return mq_preader_seek(r, MQ_FROM_OFFSET, (int64_t)off, e);
}

/* Segment bases; the caller frees *bases.  A partition always has one. */
static int
segments(struct mq_preader *r, uint64_t **bases, size_t *n,
	 struct mq_err *e)
{
	if (mq_seg_list(r->pdir, r->path, bases, n, e) < 0)
		return -1;
	if (*n == 0) {
		free(*bases);
		return mq_err_set(e, EBADMSG, "partition '%s' has no segments",
				  r->path);
	}
	return 0;
}

/*
 * Opens an index: its fd, -1 when there is none (readers then scan), -2
 * with e set when what is there is refused (a link: see mq_openat).
 */
static int
open_index(struct mq_preader *r, uint64_t base, const char *ext,
	   struct mq_err *e)
{
	char name[MQ_SEGNAME_MAX];
	int fd;

	mq_seg_name(name, base, ext);
	fd = mq_openat(r->pdir, name, O_RDONLY);
	if (fd < 0 && errno != ENOENT) {
		mq_err_sys(e, "cannot open '%s/%s'", r->path, name);
		return -2;
	}
	return fd;
}

/* Does an index entry really point at the batch with its offset? */
static bool
entry_ok(struct mq_preader *r, uint32_t rel, uint32_t pos)
{
	unsigned char hdr[MQ_BATCH_HDR];
	struct mq_batch_hdr h;

	return mq_pread_full(r->segfd, hdr, sizeof hdr, pos) == sizeof hdr &&
	       mq_batch_hdr_decode(hdr, r->limit, &h) == 0 &&
	       h.base_offset == r->seg_base + rel;
}

static void
start_at(struct mq_preader *r, uint32_t rel, uint32_t pos)
{
	if (entry_ok(r, rel, pos)) {
		r->pos = pos;
		r->expect = r->seg_base + rel;
	}
}

static int
seek_offset_once(struct mq_preader *r, uint64_t off, struct mq_err *e)
{
	uint64_t *bases, base;
	size_t n, i;
	struct mq_idx_entry ie;
	int fd = -1;

	if (segments(r, &bases, &n, e) < 0)
		return -1;
	for (i = n; i > 1 && bases[i - 1] > off; i--)
		;
	base = bases[i - 1];
	free(bases);
	if (open_seg(r, base, e) < 0)
		return -1;
	r->next = off;
	if (off > base && (fd = open_index(r, base, "idx", e)) >= 0) {
		uint64_t rel = off - base;
		if (mq_idx_lookup(fd, rel > UINT32_MAX ? UINT32_MAX :
				  (uint32_t)rel, &ie) == 0)
			start_at(r, ie.rel, ie.pos);
		close(fd);
	}
	return fd == -2 ? -1 : 0;
}

/* Retention may remove the chosen segment before it is opened: retry. */
static int
seek_offset(struct mq_preader *r, uint64_t off, struct mq_err *e)
{
	int rc;

	for (int tries = 0; tries < 100; tries++)
		if ((rc = seek_offset_once(r, off, e)) == 0 || e->code != ENOENT)
			return rc;
	return -1;
}

/* The largest timestamp in a segment (the last index entry, then a walk). */
int
mq_seg_max_ts(int pdir, uint64_t base, uint64_t limit, int64_t *max_ts,
	      struct mq_err *e)
{
	char name[MQ_SEGNAME_MAX];
	int fd, lfd;
	struct mq_tix_entry te = {INT64_MIN, 0, 0};
	struct stat st;
	uint64_t pos = 0, size;

	*max_ts = INT64_MIN;
	mq_seg_name(name, base, "tix");
	fd = mq_openat(pdir, name, O_RDONLY);
	if (fd < 0 && errno != ENOENT)
		return mq_err_sys(e, "cannot open index '%s'", name);
	if (fd >= 0) {
		if (fstat(fd, &st) == 0 && st.st_size >= MQ_TIX_SIZE &&
		    mq_tix_read(fd, (uint64_t)st.st_size / MQ_TIX_SIZE - 1,
				&te) == 0) {
			*max_ts = te.ts;
			pos = te.pos;
		}
		close(fd);
	}
	mq_seg_name(name, base, "log");
	lfd = mq_openat(pdir, name, O_RDONLY);
	if (lfd < 0)
		return mq_err_sys(e, "cannot open segment '%s'", name);
	if (fstat(lfd, &st) < 0) {
		close(lfd);
		return mq_err_sys(e, "cannot stat segment '%s'", name);
	}
	size = (uint64_t)st.st_size;
	/* The index entry may be stale (a rewritten segment): a header
	 * that does not decode there restarts the walk from the start. */
	for (int from_start = pos == 0;;) {
		bool bad = false;
		while (pos + MQ_BATCH_HDR <= size) {
			unsigned char hdr[MQ_BATCH_HDR];
			struct mq_batch_hdr h;
			if (mq_pread_full(lfd, hdr, sizeof hdr, (off_t)pos) !=
			    sizeof hdr || mq_batch_hdr_decode(hdr, limit, &h) < 0) {
				bad = true;
				break;
			}
			if (h.max_ts > *max_ts)
				*max_ts = h.max_ts;
			pos += h.length;
		}
		if (!bad || from_start)
			break;
		from_start = 1;
		pos = 0;
		*max_ts = INT64_MIN;
	}
	close(lfd);
	return 0;
}

static int
seek_time_once(struct mq_preader *r, int64_t ts, struct mq_err *e)
{
	uint64_t *bases, base;
	size_t n, i;
	struct mq_tix_entry te;
	int fd = -1;

	if (segments(r, &bases, &n, e) < 0)
		return -1;
	for (i = 0; i + 1 < n; i++) {
		int64_t m;
		if (mq_seg_max_ts(r->pdir, bases[i], r->limit, &m, e) < 0) {
			free(bases);
			return -1;
		}
		if (m >= ts)
			break;
	}
	base = bases[i];
	free(bases);
	if (open_seg(r, base, e) < 0)
		return -1;
	r->next = 0;
	r->min_ts = ts;
	r->have_min_ts = true;
	if ((fd = open_index(r, base, "tix", e)) >= 0) {
		if (mq_tix_lookup(fd, ts, &te) == 0)
			start_at(r, te.rel, te.pos);
		close(fd);
	}
	return fd == -2 ? -1 : 0;
}

static int
seek_time(struct mq_preader *r, int64_t ts, struct mq_err *e)
{
	int rc;

	for (int tries = 0; tries < 100; tries++)
		if ((rc = seek_time_once(r, ts, e)) == 0 || e->code != ENOENT)
			return rc;
	return -1;
}

int
mq_preader_seek(struct mq_preader *r, int whence, int64_t arg,
		struct mq_err *e)
{
	uint64_t start, end;

	r->have_min_ts = false;
	r->in_batch = false;
	switch (whence) {
	case MQ_FROM_BEGINNING:
		return seek_offset(r, 0, e);
	case MQ_FROM_OFFSET:
		return seek_offset(r, (uint64_t)arg, e);
	case MQ_FROM_TIME:
		return seek_time(r, arg, e);
	case MQ_FROM_END:
	case MQ_FROM_TAIL:
		if (mq_partition_bounds(r->pdir, r->path, r->limit, &start,
					&end, e) < 0)
			return -1;
		if (whence == MQ_FROM_TAIL)
			end = end - start > (uint64_t)arg ? end - (uint64_t)arg
							  : start;
		return seek_offset(r, end, e);
	}
	return mq_err_set(e, EINVAL, "bad seek");
}

int
mq_partition_bounds(int pdir, const char *where, uint64_t limit,
		    uint64_t *start, uint64_t *end, struct mq_err *e)
{
	uint64_t *bases, base;
	size_t n;
	unsigned char *scratch = NULL;
	size_t scap = 0;
	char name[MQ_SEGNAME_MAX];
	int fd, ifd;
	struct mq_idx_entry ie = {0, 0};
	struct mq_scan s;
	bool found = false;

	if (mq_seg_list(pdir, where, &bases, &n, e) < 0)
		return -1;
	if (n == 0) {
		free(bases);
		*start = *end = 0;
		return 0;
	}
	/* The end: walk the newest segment from its last index entry. */
	base = bases[n - 1];
	mq_seg_name(name, base, "log");
	fd = mq_openat(pdir, name, O_RDONLY);
	if (fd < 0) {
		free(bases);
		return mq_err_sys(e, "cannot open '%s/%s'", where, name);
	}
	mq_seg_name(name, base, "idx");
	ifd = mq_openat(pdir, name, O_RDONLY);
	if (ifd < 0 && errno != ENOENT) {
		mq_err_sys(e, "cannot open '%s/%s'", where, name);
		goto fail;
	}
	if (ifd >= 0) {
		struct stat st;
		if (fstat(ifd, &st) == 0 && st.st_size >= MQ_IDX_SIZE &&
		    mq_idx_read(ifd, (uint64_t)st.st_size / MQ_IDX_SIZE - 1,
				&ie) == 0) {
			unsigned char hdr[MQ_BATCH_HDR];
			struct mq_batch_hdr h;
			found = mq_pread_full(fd, hdr, sizeof hdr, ie.pos) ==
					sizeof hdr &&
				mq_batch_hdr_decode(hdr, limit, &h) == 0 &&
				h.base_offset == base + ie.rel;
		}
		close(ifd);
	}
	if (mq_seg_scan(fd, found ? base + ie.rel : base, found ? ie.pos : 0,
			limit, &scratch, &scap, &s, e) < 0)
		goto fail;
	if (found && s.batches == 0 &&
	    mq_seg_scan(fd, base, 0, limit, &scratch, &scap, &s, e) < 0)
		goto fail;
	if (s.stopped_invalid) {
		/* Not a batch: an unfinished write, or damage? */
		struct mq_head h;
		int lockfd = mq_openat(pdir, "lock", O_RDONLY), c = 0;
		if (lockfd >= 0) {
			if (mq_head_read(lockfd, &h) == 0)
				c = mq_seg_committed(fd, base, s.end_pos, &h);
			close(lockfd);
		}
		if (c != 0) {
			mq_seg_name(name, base, "log");
			if (c < 0)
				mq_err_sys(e, "cannot read '%s/%s'", where, name);
			else
				mq_err_set(e, EBADMSG, "corrupt batch in '%s/%s' "
					   "at byte %llu: invalid batch before "
					   "the end of the log", where, name,
					   (unsigned long long)s.end_pos);
			goto fail;
		}
	}
	*end = s.batches ? s.next_offset : base;
	close(fd);

	/* The start: the first batch of the oldest segment that has one.
	 * Only an empty segment (compaction empties some) has none; a
	 * sealed segment that does not start with a batch is damaged, and
	 * damage is never a reason to move the start (a group's position
	 * below the start is reset). */
	*start = *end;
	for (size_t i = 0; i + 1 < n; i++) {
		unsigned char hdr[MQ_BATCH_HDR];
		struct mq_batch_hdr h;
		struct stat st;
		mq_seg_name(name, bases[i], "log");
		fd = mq_openat(pdir, name, O_RDONLY);
		if (fd < 0 && errno == ENOENT)
			continue;  /* removed by retention meanwhile */
		if (fd < 0) {
			mq_err_sys(e, "cannot open '%s/%s'", where, name);
			goto fail_bases;
		}
		if (mq_pread_full(fd, hdr, sizeof hdr, 0) == sizeof hdr &&
		    mq_batch_hdr_decode(hdr, limit, &h) == 0) {
			*start = h.base_offset;
			close(fd);
			goto done;
		}
		if (fstat(fd, &st) < 0) {
			mq_err_sys(e, "cannot stat '%s/%s'", where, name);
			goto fail;
		}
		close(fd);
		if (st.st_size != 0) {
			mq_err_set(e, EBADMSG, "corrupt batch in '%s/%s' at "
				   "byte 0: a sealed segment that does not start "
				   "with a batch", where, name);
			goto fail_bases;
		}
	}
	/* The newest segment: its first batch, if it has one. */
	if (s.batches) {
		unsigned char hdr[MQ_BATCH_HDR];
		struct mq_batch_hdr h;
		mq_seg_name(name, base, "log");
		fd = mq_openat(pdir, name, O_RDONLY);
		if (fd < 0) {
			mq_err_sys(e, "cannot open '%s/%s'", where, name);
			goto fail_bases;
		}
		if (mq_pread_full(fd, hdr, sizeof hdr, 0) == sizeof hdr &&
		    mq_batch_hdr_decode(hdr, limit, &h) == 0)
			*start = h.base_offset;
		close(fd);
	}
done:
	free(bases);
	free(scratch);
	return 0;
fail:
	close(fd);
fail_bases:
	free(bases);
	free(scratch);
	return -1;
}

int
mq_preader_offset_at(struct mq_preader *r, int64_t ts, uint64_t *off,
		     struct mq_err *e)
{
	struct mq_record rec;
	uint64_t start, end;
	int rc;

	if (mq_partition_bounds(r->pdir, r->path, r->limit, &start, &end,
				e) < 0 ||
	    mq_preader_seek(r, MQ_FROM_TIME, ts, e) < 0)
		return -1;
	rc = mq_preader_next(r, &rec, e);
	if (rc < 0)
		return -1;
	*off = rc == 0 ? rec.offset : end;
	return 0;
}
