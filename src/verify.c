/*
 * verify.c - checking a partition's stored data, and repairing it.
 *
 * Verify walks a partition's segments in base-offset order without taking
 * any lock, so it runs while producers append and mq-compact works.  Each
 * segment is read front to back in large chunks; every batch must decode,
 * fit in the file, match its checksum, decompress, and hold well-formed
 * records whose offsets continue those before them.  Each index entry
 * must point at a batch boundary with its offset, and the time index must
 * carry the running maximum timestamp (segment.c).  Bytes that are not a
 * valid batch at the end of the newest segment, at or past the head's
 * end_pos (head.c), are a write in progress or a torn tail that the next
 * writer truncates: they are counted, not reported.  Everything else that
 * fails is a problem.  A segment with a problem is read a second time
 * before it is reported (a roll, an append or a compaction swap may have
 * happened under the first read), and one that disappears (retention) is
 * skipped.
 *
 * Repair takes P/clean (as mq-compact does, so no compaction runs) and
 * then the partition lock, and:
 *
 *   - a segment holding a corrupt or overlapping batch is split around the
 *     damage: each run of valid batches becomes a segment (the first, if
 *     it starts at byte 0, keeps the name; the others are named by their
 *     first batch's offset); offsets never change.  A copy of the original
 *     .log/.idx/.tix goes to TOPIC/quarantine/P/NAME.TIMESTAMP first;
 *   - garbage after the last batch of the newest segment that is not what
 *     a crash leaves (see partition.c's is_torn) is kept in quarantine the
 *     same way and truncated; a real torn tail is truncated by the writer's
 *     own recovery, which also rewrites the head;
 *   - a missing or damaged index is rebuilt from the log.
 *
 * Every file is written under a temporary name (NAME.EXT.repair), synced
 * and renamed; the directory is synced.  A split is made atomic by a plan
 * file, BASE.repair-plan, written (with mq_file_replace) only once the
 * pieces and the quarantine copies are durable:
 *
 *   1. write piece temporaries and quarantine copies, sync them
 *   2. write BASE.repair-plan            <- the commit point
 *   3. rename the pieces in, highest name first (the original's name last,
 *      replacing it), or unlink the original when no piece keeps its name
 *   4. sync the directory, remove the plan, sync again
 *
 * A repair killed before 2 leaves temporaries that the next repair removes
 * (the partition is as before); killed after 2, the next repair finds the
 * plan and finishes 3 and 4 (the partition is as after; until then verify
 * reports the plan).  Steps 3 and 4 only rename and unlink.
 */
#include <config.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "internal.h"
#include "mq.h"

#define CHUNK (1024 * 1024)
#define PLAN_EXT ".repair-plan"
#define TMP_EXT ".repair"

/* ---- reading a file through a window ---- */

struct win {
	int fd;
	uint64_t size;           /* as stat'ed when the walk began */
	unsigned char *buf;
	size_t cap, len;
	uint64_t start;          /* file position of buf[0] */
};

/*
 * Bytes [pos, pos + n) of the file (of its first size bytes): a pointer
 * valid until the next call and, in *got, how many exist (fewer at the
 * end).  NULL on a read error.
 */
static const unsigned char *
win_get(struct win *w, uint64_t pos, size_t n, size_t *got)
{
	size_t want;
	ssize_t r;

	if (pos >= w->start && pos + n <= w->start + w->len) {
		*got = n;
		return w->buf + (pos - w->start);
	}
	*got = 0;
	if (pos >= w->size)
		return (const unsigned char *)"";
	want = n > CHUNK ? n : CHUNK;
	if (want > w->size - pos)
		want = (size_t)(w->size - pos);
	if (want > w->cap) {
		unsigned char *p = realloc(w->buf, want);
		if (!p)
			return NULL;
		w->buf = p;
		w->cap = want;
	}
	r = mq_pread_full(w->fd, w->buf, want, (off_t)pos);
	if (r < 0)
		return NULL;
	mq_progress((uint64_t)r);
	w->start = pos;
	w->len = (size_t)r;
	*got = (size_t)r < n ? (size_t)r : n;
	return w->buf;
}

/* ---- problems ---- */

struct prob {
	char file[MQ_SEGNAME_MAX + 16];
	uint64_t byte;
	int kind;
	char *msg;
};

struct plist {
	struct prob *v;
	size_t n, cap;
};

static void
plist_free(struct plist *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i].msg);
	free(l->v);
	memset(l, 0, sizeof *l);
}

__attribute__((format(printf, 5, 6)))
static int
plist_add(struct plist *l, const char *file, uint64_t byte, int kind,
	  const char *fmt, ...)
{
	va_list ap;
	char buf[512];

	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 8;
		struct prob *v = realloc(l->v, cap * sizeof *v);
		if (!v)
			return -1;
		l->v = v;
		l->cap = cap;
	}
	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	if (!(l->v[l->n].msg = strdup(buf)))
		return -1;
	snprintf(l->v[l->n].file, sizeof l->v[l->n].file, "%s", file);
	l->v[l->n].byte = byte;
	l->v[l->n].kind = kind;
	l->n++;
	return 0;
}

const char *
mq_vkind_name(int kind)
{
	switch (kind) {
	case MQ_VK_CORRUPT: return "corrupt";
	case MQ_VK_OFFSET: return "offset";
	case MQ_VK_INDEX: return "index";
	case MQ_VK_REPAIR: return "unfinished-repair";
	default: return "action";
	}
}

/* ---- checking one segment ---- */

enum { BT_OK, BT_SHORT, BT_HDR, BT_LEN, BT_SUM, BT_CODEC, BT_REC };

struct run {                     /* consecutive valid batches */
	uint64_t start, end;     /* byte range */
	uint64_t first, next;    /* offsets */
};

struct dmg {                     /* bytes that are no valid batch */
	uint64_t start, end;
	char why[160];
};

struct segres {
	bool gone;               /* removed meanwhile */
	bool newest;
	uint64_t base, size;
	uint64_t batches, messages;
	uint64_t next;           /* offset after the last valid batch */
	uint64_t valid_end;      /* end of the last valid batch */
	uint64_t tail_pos, tail_bytes;   /* unfinished tail (newest) */
	bool torn_like;          /* the tail is what a crash leaves */
	bool damaged;            /* corrupt or overlapping batches */
	bool index_bad;
	struct run *runs;
	size_t nruns, rcap;
	struct dmg *dmgs;
	size_t ndmgs, dcap;
	struct plist probs;
};

static void
segres_free(struct segres *r)
{
	free(r->runs);
	free(r->dmgs);
	plist_free(&r->probs);
	memset(r, 0, sizeof *r);
}

struct vctx {
	int pdir, lockfd;
	char *path;              /* SPOOL/TOPIC/P, for messages */
	uint64_t limit;
	struct win w;
	struct mq_codec *codec;
	unsigned char *raw;
	size_t rawcap;
};

static void
vctx_free(struct vctx *c)
{
	free(c->w.buf);
	free(c->raw);
	free(c->path);
	mq_codec_free(c->codec);
	c->path = NULL;
	c->w.buf = c->raw = NULL;
	c->codec = NULL;
}

/*
 * Checks the batch at pos: BT_OK with h and its record count, another BT_
 * code, or -1 on a read error (errno).
 */
static int
check_batch(struct vctx *c, uint64_t pos, struct mq_batch_hdr *h,
	    uint64_t *records)
{
	size_t got;
	const unsigned char *p = win_get(&c->w, pos, MQ_BATCH_HDR, &got);
	const unsigned char *payload;
	struct mq_rec_iter it;
	struct mq_record rec;
	struct mq_err e;
	int rc;

	if (!p)
		return -1;
	if (got < MQ_BATCH_HDR)
		return BT_SHORT;
	if (mq_batch_hdr_decode(p, c->limit, h) < 0)
		return BT_HDR;
	if (h->length > c->w.size - pos)
		return BT_LEN;
	if (!(p = win_get(&c->w, pos, h->length, &got)))
		return -1;
	if (got < h->length)
		return BT_LEN;
	if (mq_batch_checksum(p, h->length) != h->checksum)
		return BT_SUM;
	payload = p + MQ_BATCH_HDR;
	if (h->codec != MQ_CODEC_NONE) {
		if (c->rawcap < h->raw_len) {
			unsigned char *q = realloc(c->raw, h->raw_len);
			if (!q)
				return -1;
			c->raw = q;
			c->rawcap = h->raw_len;
		}
		if (!c->codec && !(c->codec = mq_codec_new()))
			return -1;
		if (mq_codec_decompress(c->codec, h->codec, payload,
					h->length - MQ_BATCH_HDR, c->raw,
					h->raw_len, &e) < 0)
			return BT_CODEC;
		payload = c->raw;
	}
	mq_rec_iter_init(&it, h, payload, h->raw_len);
	*records = 0;
	while ((rc = mq_rec_iter_next(&it, &rec)) == 0) {
		const unsigned char *hp = rec.headers;
		const unsigned char *hend = rec.headers + rec.hlen;
		struct mq_header hd;
		uint32_t k = 0;
		while ((rc = mq_header_next(&hp, hend, &hd)) == 0)
			k++;
		if (rc < 0 || k != rec.nheaders)
			return BT_REC;
		(*records)++;
	}
	return rc < 0 ? BT_REC : BT_OK;
}

/* The next position after from where a valid batch starts: 1, 0 if none. */
static int
resync(struct vctx *c, uint64_t from, uint64_t *found)
{
	static const unsigned char magic[4] = {0x4d, 0x51, 0x42, 0x01};

	for (uint64_t p = from; p + MQ_BATCH_HDR <= c->w.size; p++) {
		size_t got;
		const unsigned char *q = win_get(&c->w, p, MQ_BATCH_HDR, &got);
		struct mq_batch_hdr h;
		if (!q)
			return -1;
		if (memcmp(q, magic, 4) != 0 ||
		    mq_batch_hdr_decode(q, c->limit, &h) < 0 ||
		    h.length > c->w.size - p)
			continue;
		if (!(q = win_get(&c->w, p, h.length, &got)))
			return -1;
		if (got == h.length &&
		    mq_batch_checksum(q, h.length) == h.checksum) {
			*found = p;
			return 1;
		}
	}
	return 0;
}

/* Are the file's bytes from pos on all zero (what a power loss leaves)? */
static int
zeros_from(struct vctx *c, uint64_t pos)
{
	while (pos < c->w.size) {
		size_t n = c->w.size - pos > CHUNK ? CHUNK :
			   (size_t)(c->w.size - pos), got;
		const unsigned char *p = win_get(&c->w, pos, n, &got);
		if (!p)
			return -1;
		if (got == 0)
			break;
		for (size_t i = 0; i < got; i++)
			if (p[i])
				return 0;
		pos += got;
	}
	return 1;
}

/*
 * Were the bytes at pos in the newest segment written by a completed
 * append?  The reader's rule (reader.c's committed()): the head names this
 * segment, pos is before its end_pos, the file holds all of that, and
 * what follows is not all zeros.
 */
static int
committed(struct vctx *c, uint64_t base, uint64_t pos)
{
	struct mq_head h;
	struct stat st;

	if (c->lockfd < 0 || mq_head_read(c->lockfd, &h) != 0 ||
	    h.seg_base != base || pos >= h.end_pos ||
	    fstat(c->w.fd, &st) != 0 || (uint64_t)st.st_size < h.end_pos)
		return 0;
	int z = zeros_from(c, pos);
	return z < 0 ? -1 : !z;
}

static const char *
why(int st, const struct mq_batch_hdr *h, uint64_t left, char *buf,
    size_t n)
{
	switch (st) {
	case BT_SHORT:
		snprintf(buf, n, "incomplete batch header (%llu bytes left)",
			 (unsigned long long)left);
		break;
	case BT_HDR:
		snprintf(buf, n, "bad batch header");
		break;
	case BT_LEN:
		snprintf(buf, n, "batch of %u bytes runs past the end of the "
			 "file (batch at offset %llu)", h->length,
			 (unsigned long long)h->base_offset);
		break;
	case BT_SUM:
		snprintf(buf, n, "checksum mismatch (batch at offset %llu)",
			 (unsigned long long)h->base_offset);
		break;
	case BT_CODEC:
		snprintf(buf, n, "payload does not decompress (batch at "
			 "offset %llu)", (unsigned long long)h->base_offset);
		break;
	default:
		snprintf(buf, n, "malformed record (batch at offset %llu)",
			 (unsigned long long)h->base_offset);
		break;
	}
	return buf;
}

static int
add_run(struct segres *r, uint64_t pos, const struct mq_batch_hdr *h)
{
	struct run *x;

	if (r->nruns && r->runs[r->nruns - 1].end == pos &&
	    (r->ndmgs == 0 || r->dmgs[r->ndmgs - 1].end <= r->runs[r->nruns -
							       1].start ||
	     r->dmgs[r->ndmgs - 1].end < pos)) {
		x = &r->runs[r->nruns - 1];
	} else {
		if (r->nruns == r->rcap) {
			size_t cap = r->rcap ? r->rcap * 2 : 4;
			struct run *v = realloc(r->runs, cap * sizeof *v);
			if (!v)
				return -1;
			r->runs = v;
			r->rcap = cap;
		}
		x = &r->runs[r->nruns++];
		x->start = pos;
		x->first = h->base_offset;
	}
	x->end = pos + h->length;
	x->next = h->base_offset + h->last_delta + 1;
	return 0;
}

static int
add_dmg(struct segres *r, uint64_t start, uint64_t end, const char *w)
{
	if (r->ndmgs == r->dcap) {
		size_t cap = r->dcap ? r->dcap * 2 : 4;
		struct dmg *v = realloc(r->dmgs, cap * sizeof *v);
		if (!v)
			return -1;
		r->dmgs = v;
		r->dcap = cap;
	}
	r->dmgs[r->ndmgs].start = start;
	r->dmgs[r->ndmgs].end = end;
	snprintf(r->dmgs[r->ndmgs].why, sizeof r->dmgs[0].why, "%s", w);
	r->ndmgs++;
	r->damaged = true;
	return 0;
}

/*
 * An index file read whole: its entries, 0 with *n = 0 when missing.
 * One with more entries than the log (logfd) can need, an entry per
 * MQ_INDEX_INTERVAL bytes and one more, is not read (a sparse file of
 * gigabytes costs nothing to make): *size is then its size and *max what
 * the log allows, *buf NULL.
 */
static int
read_index(int pdir, uint64_t base, const char *ext, int logfd,
	   unsigned char **buf, uint64_t *size, uint64_t *max, bool *missing)
{
	char name[MQ_SEGNAME_MAX];
	struct stat st, ls;
	uint64_t esz = strcmp(ext, "idx") == 0 ? MQ_IDX_SIZE : MQ_TIX_SIZE;
	int fd;
	ssize_t r;

	*buf = NULL;
	*size = 0;
	*max = UINT64_MAX;
	*missing = false;
	mq_seg_name(name, base, ext);
	fd = mq_openat(pdir, name, O_RDONLY);
	if (fd < 0) {
		if (errno != ENOENT)
			return -1;
		*missing = true;
		return 0;
	}
	/* The log after the index: writers index only batches already
	 * written, so what the log holds now bounds what the index says. */
	if (fstat(fd, &st) < 0 || fstat(logfd, &ls) < 0) {
		close(fd);
		return -1;
	}
	/* (A part of an entry past the whole ones is reported apart.) */
	if ((uint64_t)st.st_size / esz >
	    (uint64_t)ls.st_size / MQ_INDEX_INTERVAL + 1) {
		*size = (uint64_t)st.st_size;
		*max = ((uint64_t)ls.st_size / MQ_INDEX_INTERVAL + 1) * esz;
		close(fd);
		return 0;
	}
	*buf = malloc(st.st_size ? (size_t)st.st_size : 1);
	if (!*buf) {
		close(fd);
		return -1;
	}
	r = mq_pread_full(fd, *buf, (size_t)st.st_size, 0);
	close(fd);
	if (r < 0)
		return -1;
	*size = (uint64_t)r;
	return 0;
}

/* Index entries, in file order, with what checking found. */
struct ient {
	uint32_t rel, pos;
	int64_t ts;
	bool skip;               /* out of order: already reported */
	bool seen;               /* matched a batch, or reported */
};

struct ixstate {
	struct ient *v;
	uint64_t n, j;           /* entries, next to match */
	const char *file;
	bool time;               /* the .tix */
	uint64_t nbad;           /* problems found (only a few are listed) */
};

#define IX_SHOWN 5

/* Adds an index problem, up to IX_SHOWN of them per file. */
__attribute__((format(printf, 4, 5)))
static int
ix_problem(struct ixstate *x, struct segres *r, uint64_t byte,
	   const char *fmt, ...)
{
	va_list ap;
	char buf[400];

	r->index_bad = true;
	if (++x->nbad > IX_SHOWN)
		return 0;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	return plist_add(&r->probs, x->file, byte, MQ_VK_INDEX, "%s", buf);
}

static void
ix_load(struct ixstate *x, const unsigned char *buf, uint64_t size,
	bool time)
{
	uint64_t esz = time ? MQ_TIX_SIZE : MQ_IDX_SIZE;

	x->n = size / esz;
	x->j = 0;
	x->time = time;
	x->v = calloc(x->n ? x->n : 1, sizeof *x->v);
	if (!x->v) {
		x->n = 0;
		return;
	}
	for (uint64_t i = 0; i < x->n; i++) {
		const unsigned char *p = buf + i * esz;
		if (time) {
			x->v[i].ts = (int64_t)mq_le64(p);
			x->v[i].rel = mq_le32(p + 8);
			x->v[i].pos = mq_le32(p + 12);
		} else {
			x->v[i].rel = mq_le32(p);
			x->v[i].pos = mq_le32(p + 4);
		}
	}
}

/* Entries that do not rise strictly: reported and left out of matching. */
static int
ix_order(struct ixstate *x, struct segres *r)
{
	uint64_t esz = x->time ? MQ_TIX_SIZE : MQ_IDX_SIZE;
	int64_t last = -1;

	for (uint64_t i = 0; i < x->n; i++) {
		if (last >= 0 && (x->v[i].rel <= x->v[last].rel ||
				  x->v[i].pos <= x->v[last].pos)) {
			x->v[i].skip = true;
			if (ix_problem(x, r, i * esz,
				      "entry %llu (offset %llu, byte %u) does "
				      "not follow the one before it",
				      (unsigned long long)i,
				      (unsigned long long)(r->base +
							   x->v[i].rel),
				      x->v[i].pos) < 0)
				return -1;
			continue;
		}
		last = (int64_t)i;
	}
	return 0;
}

static int
ix_bad_entry(struct ixstate *x, struct segres *r, uint64_t i)
{
	uint64_t esz = x->time ? MQ_TIX_SIZE : MQ_IDX_SIZE;

	x->v[i].seen = true;
	return ix_problem(x, r, i * esz,
			 "entry %llu (offset %llu, byte %u) does not point "
			 "at a batch", (unsigned long long)i,
			 (unsigned long long)(r->base + x->v[i].rel),
			 x->v[i].pos);
}

/* Matches entries against the valid batch at pos (max_ts: running max). */
static int
ix_batch(struct ixstate *x, struct segres *r, uint64_t pos, uint64_t off,
	 int64_t max_ts)
{
	uint64_t esz = x->time ? MQ_TIX_SIZE : MQ_IDX_SIZE;

	for (; x->j < x->n && x->v[x->j].pos <= pos; x->j++) {
		struct ient *en = &x->v[x->j];
		if (en->skip)
			continue;
		if (en->pos < pos) {
			if (ix_bad_entry(x, r, x->j) < 0)
				return -1;
			continue;
		}
		en->seen = true;
		if (r->base + en->rel != off) {
			if (ix_problem(x, r, x->j * esz,
				      "entry %llu says offset %llu "
				      "at byte %u, but the batch there has "
				      "offset %llu", (unsigned long long)x->j,
				      (unsigned long long)(r->base + en->rel),
				      en->pos, (unsigned long long)off) < 0)
				return -1;
		} else if (x->time && en->ts != max_ts) {
			if (ix_problem(x, r, x->j * esz,
				      "entry %llu has time %lld, "
				      "but the largest up to its batch is %lld",
				      (unsigned long long)x->j,
				      (long long)en->ts, (long long)max_ts) < 0)
				return -1;
		}
	}
	return 0;
}

/* Checks segment base of the partition into r (a fresh segres). */
static int
check_segment(struct vctx *c, uint64_t base, bool newest, struct segres *r,
	      struct mq_err *e)
{
	char lname[MQ_SEGNAME_MAX], iname[MQ_SEGNAME_MAX], tname[MQ_SEGNAME_MAX];
	char sname[MQ_SEGNAME_MAX];
	unsigned char *ibuf = NULL, *tbuf = NULL;
	uint64_t isize, tsize, imax, tmax, pos = 0, expect = base;
	bool imiss, tmiss, swapping = false;
	struct ixstate xi = {0}, xt = {0};
	struct stat st;
	int64_t max_ts = INT64_MIN;
	int rc = -1;

	memset(r, 0, sizeof *r);
	r->base = base;
	r->newest = newest;
	r->next = base;
	mq_seg_name(lname, base, "log");
	mq_seg_name(iname, base, "idx");
	mq_seg_name(tname, base, "tix");
	c->w.fd = mq_openat(c->pdir, lname, O_RDONLY);
	if (c->w.fd < 0) {
		if (errno == ENOENT) {
			r->gone = true;
			return 0;
		}
		return mq_err_sys(e, "cannot open '%s'", lname);
	}
	c->w.len = 0;
	c->w.start = 0;
	/* The indexes before the log's size: every entry then describes a
	 * batch that was complete before the walk began. */
	if (read_index(c->pdir, base, "idx", c->w.fd, &ibuf, &isize, &imax,
		       &imiss) < 0 ||
	    read_index(c->pdir, base, "tix", c->w.fd, &tbuf, &tsize, &tmax,
		       &tmiss) < 0) {
		mq_err_sys(e, "cannot read the indexes of '%s'", lname);
		goto out;
	}
	/* A BASE.log.swap: mq-compact is swapping this segment in, the
	 * indexes first (mq-spool(5)); they may describe the new log while
	 * this is still the old one.  The next mq-compact or producer ends
	 * that; meanwhile readers validate index entries, so check the log
	 * alone. */
	mq_seg_name(sname, base, "log.swap");
	if (faccessat(c->pdir, sname, F_OK, AT_SYMLINK_NOFOLLOW) == 0) {
		free(ibuf);
		free(tbuf);
		ibuf = tbuf = NULL;
		isize = tsize = 0;
		imax = tmax = UINT64_MAX;
		imiss = tmiss = false;
		swapping = true;
	}
	/* An index too large to be true is reported unread (repair
	 * rebuilds it) and checked as if empty. */
	for (int k = 0; k < 2; k++) {
		uint64_t *sz = k ? &tsize : &isize, mx = k ? tmax : imax;
		if (mx == UINT64_MAX)
			continue;
		r->index_bad = true;
		if (plist_add(&r->probs, k ? tname : iname, 0, MQ_VK_INDEX,
			      "size %llu is more than its log can need "
			      "(%llu bytes at most)", (unsigned long long)*sz,
			      (unsigned long long)mx) < 0)
			goto nomem;
		*sz = 0;
	}
	/* The newest segment's indexes may end in part of an entry that a
	 * killed writer was adding: not a problem, as a torn log tail. */
	if (newest) {
		isize -= isize % MQ_IDX_SIZE;
		tsize -= tsize % MQ_TIX_SIZE;
	}
	if (fstat(c->w.fd, &st) < 0) {
		mq_err_sys(e, "cannot stat '%s'", lname);
		goto out;
	}
	c->w.size = r->size = (uint64_t)st.st_size;
	xi.file = iname;
	xt.file = tname;
	ix_load(&xi, ibuf, isize, false);
	ix_load(&xt, tbuf, tsize, true);
	if ((isize && !xi.v) || (tsize && !xt.v)) {
		mq_err_sys(e, "out of memory");
		goto out;
	}
	if (ix_order(&xi, r) < 0 || ix_order(&xt, r) < 0)
		goto nomem;

	while (pos < r->size) {
		struct mq_batch_hdr h;
		uint64_t recs = 0, found;
		char buf[160];
		int st2 = check_batch(c, pos, &h, &recs), cm;

		if (st2 < 0) {
			mq_err_sys(e, "cannot read '%s'", lname);
			goto out;
		}
		if (st2 == BT_OK) {
			if (h.base_offset < expect) {
				/* The reader refuses it (reader.c): damage. */
				if (plist_add(&r->probs, lname, pos,
					      MQ_VK_OFFSET, "batch at offset %llu "
					      "overlaps offsets before %llu",
					      (unsigned long long)h.base_offset,
					      (unsigned long long)expect) < 0 ||
				    add_dmg(r, pos, pos + h.length,
					    "overlapping batch") < 0)
					goto nomem;
				pos += h.length;
				continue;
			}
			if (h.max_ts > max_ts)
				max_ts = h.max_ts;
			if (ix_batch(&xi, r, pos, h.base_offset, max_ts) < 0 ||
			    ix_batch(&xt, r, pos, h.base_offset, max_ts) < 0 ||
			    add_run(r, pos, &h) < 0)
				goto nomem;
			r->batches++;
			r->messages += recs;
			pos += h.length;
			expect = r->next = h.base_offset + h.last_delta + 1;
			r->valid_end = pos;
			continue;
		}
		if (newest) {
			cm = committed(c, base, pos);
			if (cm < 0) {
				mq_err_sys(e, "cannot read '%s'", lname);
				goto out;
			}
			if (!cm) {
				int z;
				r->tail_pos = pos;
				r->tail_bytes = r->size - pos;
				z = zeros_from(c, pos);
				if (z < 0) {
					mq_err_sys(e, "cannot read '%s'",
						   lname);
					goto out;
				}
				r->torn_like = st2 == BT_SHORT ||
					       st2 == BT_LEN || z;
				break;
			}
		}
		why(st2, &h, r->size - pos, buf, sizeof buf);
		if (plist_add(&r->probs, lname, pos, MQ_VK_CORRUPT, "%s",
			      buf) < 0)
			goto nomem;
		switch (resync(c, pos + 1, &found)) {
		case -1:
			mq_err_sys(e, "cannot read '%s'", lname);
			goto out;
		case 0:
			found = r->size;
			break;
		}
		if (add_dmg(r, pos, found, buf) < 0)
			goto nomem;
		pos = found;
	}

	/* The indexes. */
	if (r->batches && (imiss || tmiss)) {
		r->index_bad = true;
		if (plist_add(&r->probs, imiss ? iname : tname, 0, MQ_VK_INDEX,
			      "missing %s index", imiss ? "offset" : "time") < 0)
			goto nomem;
	}
	if (isize % MQ_IDX_SIZE || tsize % MQ_TIX_SIZE) {
		bool i = isize % MQ_IDX_SIZE;
		r->index_bad = true;
		if (plist_add(&r->probs, i ? iname : tname,
			      i ? isize - isize % MQ_IDX_SIZE :
				  tsize - tsize % MQ_TIX_SIZE, MQ_VK_INDEX,
			      "size %llu is not a multiple of %d",
			      (unsigned long long)(i ? isize : tsize),
			      i ? MQ_IDX_SIZE : MQ_TIX_SIZE) < 0)
			goto nomem;
	}
	/* A writer adds .idx then .tix: the newest may be one apart.  (An
	 * index too large was reported already, and read as empty.) */
	if (!newest && !imiss && !tmiss && xi.n != xt.n &&
	    imax == UINT64_MAX && tmax == UINT64_MAX) {
		r->index_bad = true;
		if (plist_add(&r->probs, iname, 0, MQ_VK_INDEX, "%llu entries, "
			      "but the time index has %llu",
			      (unsigned long long)xi.n,
			      (unsigned long long)xt.n) < 0)
			goto nomem;
	}
	if (!newest && !swapping && r->batches && !imiss && xi.n == 0 &&
	    imax == UINT64_MAX) {
		r->index_bad = true;
		if (plist_add(&r->probs, iname, 0, MQ_VK_INDEX, "no entries "
			      "for a segment of %llu batches",
			      (unsigned long long)r->batches) < 0)
			goto nomem;
	}
	for (uint64_t i = 0; i < xi.n && i < xt.n; i++) {
		if (xi.v[i].rel != xt.v[i].rel || xi.v[i].pos != xt.v[i].pos) {
			r->index_bad = true;
			if (plist_add(&r->probs, tname, i * MQ_TIX_SIZE,
				      MQ_VK_INDEX, "entry %llu (offset %llu, "
				      "byte %u) differs from the offset "
				      "index's (offset %llu, byte %u)",
				      (unsigned long long)i,
				      (unsigned long long)(base + xt.v[i].rel),
				      xt.v[i].pos,
				      (unsigned long long)(base + xi.v[i].rel),
				      xi.v[i].pos) < 0)
				goto nomem;
			break;
		}
	}
	/* Entries never matched: in damage or past the last batch. */
	for (int k = 0; k < 2; k++) {
		struct ixstate *x = k ? &xt : &xi;
		for (uint64_t i = 0; i < x->n; i++)
			if (!x->v[i].skip && !x->v[i].seen &&
			    ix_bad_entry(x, r, i) < 0)
				goto nomem;
		if (x->nbad > IX_SHOWN &&
		    plist_add(&r->probs, x->file, 0, MQ_VK_INDEX, "%llu more "
			      "problems in this index",
			      (unsigned long long)(x->nbad - IX_SHOWN)) < 0)
			goto nomem;
	}
	rc = 0;
	goto out;
nomem:
	mq_err_sys(e, "out of memory");
out:
	free(ibuf);
	free(tbuf);
	free(xi.v);
	free(xt.v);
	close(c->w.fd);
	c->w.fd = -1;
	return rc;
}

static int
vctx_open(struct vctx *c, struct mq_topic *t, uint32_t p, struct mq_err *e)
{
	memset(c, 0, sizeof *c);
	c->lockfd = c->w.fd = -1;
	c->limit = (uint64_t)t->cfg.max_message_bytes;
	c->path = mq_topic_partition_path(t, p);
	if (!c->path)
		return mq_err_sys(e, "out of memory");
	c->pdir = mq_topic_partition_dir(t, p, e);
	if (c->pdir < 0) {
		vctx_free(c);
		return -1;
	}
	c->lockfd = mq_openat(c->pdir, "lock", O_RDONLY);
	return 0;
}

static void
vctx_close(struct vctx *c)
{
	vctx_free(c);
	if (c->lockfd >= 0)
		close(c->lockfd);
	if (c->pdir >= 0)
		close(c->pdir);
	c->lockfd = c->pdir = -1;
}

static void
emit(mq_vnote_fn fn, void *arg, const char *file, uint64_t byte, int kind,
     const char *msg)
{
	struct mq_vnote n = {file, byte, kind, msg};

	if (fn)
		fn(arg, &n);
}

static bool
has_suffix(int dirfd, const char *name, unsigned char type, void *suffix)
{
	size_t l = strlen(name), k = strlen(suffix);

	(void)dirfd;
	(void)type;
	return l > k && strcmp(name + l - k, suffix) == 0;
}

/* Names in the partition directory ending in suffix; sorted. */
static int
names_ending(int pdir, const char *suffix, char ***out, size_t *n)
{
	*n = 0;
	return mq_dir_names(pdir, has_suffix, (void *)suffix, out, n);
}

int
mq_partition_verify(struct mq_topic *t, uint32_t p, mq_vnote_fn fn,
		    void *arg, struct mq_vstats *vs, struct mq_err *e)
{
	struct vctx c;
	uint64_t *bases = NULL, prev_next = 0;
	size_t n;
	bool have_prev = false;
	char **plans = NULL;
	size_t nplans = 0;
	int rc = -1;

	memset(vs, 0, sizeof *vs);
	if (vctx_open(&c, t, p, e) < 0)
		return -1;
	if (mq_seg_list(c.pdir, c.path, &bases, &n, e) < 0)
		goto out;
	for (size_t i = 0; i < n; i++) {
		struct segres r;
		char lname[MQ_SEGNAME_MAX];
		if (check_segment(&c, bases[i], i + 1 == n, &r, e) < 0)
			goto out;
		if (r.probs.n) {
			/* Read it again before believing it. */
			segres_free(&r);
			if (check_segment(&c, bases[i], i + 1 == n, &r, e) < 0)
				goto out;
		}
		if (r.gone) {
			segres_free(&r);
			continue;
		}
		mq_seg_name(lname, bases[i], "log");
		if (have_prev && bases[i] < prev_next) {
			char msg[160];
			snprintf(msg, sizeof msg, "segment base offset %llu is "
				 "below the previous segment's next offset %llu",
				 (unsigned long long)bases[i],
				 (unsigned long long)prev_next);
			emit(fn, arg, lname, 0, MQ_VK_OFFSET, msg);
			vs->problems++;
		}
		for (size_t k = 0; k < r.probs.n; k++)
			emit(fn, arg, r.probs.v[k].file, r.probs.v[k].byte,
			     r.probs.v[k].kind, r.probs.v[k].msg);
		vs->problems += r.probs.n;
		vs->segments++;
		vs->batches += r.batches;
		vs->messages += r.messages;
		vs->bytes += r.size;
		vs->tail_bytes += r.tail_bytes;
		if (r.batches)
			prev_next = r.next > prev_next ? r.next : prev_next;
		else if (bases[i] > prev_next)
			prev_next = bases[i];
		have_prev = true;
		segres_free(&r);
	}
	if (names_ending(c.pdir, PLAN_EXT, &plans, &nplans) < 0) {
		mq_err_sys(e, "cannot list '%s'", c.path);
		goto out;
	}
	for (size_t i = 0; i < nplans; i++) {
		emit(fn, arg, plans[i], 0, MQ_VK_REPAIR, "a repair was "
		     "interrupted: run mq-topic repair to finish it");
		vs->problems++;
	}
	mq_names_free(plans, nplans);
	rc = 0;
out:
	free(bases);
	vctx_close(&c);
	return rc;
}

/* ---- repair ---- */

struct rctx {
	struct vctx c;
	struct mq_topic *t;
	uint32_t p;
	struct mq_pwriter w;
	int cleanfd, qdir;
	mq_vnote_fn fn;
	void *arg;
	struct mq_rstats *rs;
	char qpath[600];         /* TOPIC/quarantine/P, for messages */
};

__attribute__((format(printf, 3, 4)))
static void
act(struct rctx *x, const char *file, const char *fmt, ...)
{
	char buf[700];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	emit(x->fn, x->arg, file, UINT64_MAX, MQ_VK_ACTION, buf);
	x->rs->actions++;
}

static int
sync_close(int fd)
{
	int rc = mq_fsync(fd);
	if (close(fd) < 0)
		rc = -1;
	return rc;
}

/* Copies bytes [from, to) of an open file to fd. */
static int
copy_range(int src, uint64_t from, uint64_t to, int fd)
{
	static unsigned char buf[CHUNK];

	while (from < to) {
		size_t n = to - from > CHUNK ? CHUNK : (size_t)(to - from);
		ssize_t r = mq_pread_full(src, buf, n, (off_t)from);
		if (r <= 0) {
			if (r == 0)
				errno = EIO;
			return -1;
		}
		if (mq_write_file(fd, buf, (size_t)r) < 0)
			return -1;
		from += (uint64_t)r;
	}
	return 0;
}

static int
open_quarantine(struct rctx *x, struct mq_err *e)
{
	char pname[16];
	int q;

	if (x->qdir >= 0)
		return 0;
	snprintf(pname, sizeof pname, "%u", x->p);
	if (mq_mkdirat(x->t->fd, "quarantine") < 0 && errno != EEXIST)
		return mq_err_sys(e, "cannot create '%s/quarantine'",
				  x->t->name);
	q = mq_opendirat(x->t->fd, "quarantine");
	if (q < 0)
		return mq_err_sys(e, "cannot open '%s/quarantine'",
				  x->t->name);
	if (mq_mkdirat(q, pname) < 0 && errno != EEXIST) {
		close(q);
		return mq_err_sys(e, "cannot create '%s'", x->qpath);
	}
	x->qdir = mq_opendirat(q, pname);
	if (x->qdir < 0 || mq_fsync_dir(q) < 0 || mq_fsync_dir(x->t->fd) < 0) {
		mq_err_sys(e, "cannot open '%s'", x->qpath);
		close(q);
		return -1;
	}
	close(q);
	return 0;
}

/*
 * Copies the segment's files (those that exist) into the quarantine as
 * NAME.TS, each complete and synced before it gets its name; *ts gets the
 * stamp used, *bytes the log's size.
 */
static int
quarantine_copy(struct rctx *x, uint64_t base, char *shown, size_t shown_n,
		uint64_t *bytes, struct mq_err *e)
{
	long long ts = (long long)mq_now_ms();
	char name[MQ_SEGNAME_MAX], qn[MQ_SEGNAME_MAX + 48], tmp[sizeof qn + 8];

	*bytes = 0;
	if (open_quarantine(x, e) < 0)
		return -1;
	/* A stamp that none of the three names has yet. */
	for (;; ts++) {
		bool taken = false;
		for (int k = 0; k < 3; k++) {
			mq_seg_name(name, base, k == 0 ? "log" : k == 1 ? "idx"
								       : "tix");
			snprintf(qn, sizeof qn, "%s.%lld", name, ts);
			if (faccessat(x->qdir, qn, F_OK, AT_SYMLINK_NOFOLLOW) == 0)
				taken = true;
		}
		if (!taken)
			break;
	}
	for (int k = 0; k < 3; k++) {
		int src, dst;
		struct stat st;
		mq_seg_name(name, base, k == 0 ? "log" : k == 1 ? "idx" : "tix");
		snprintf(qn, sizeof qn, "%s.%lld", name, ts);
		snprintf(tmp, sizeof tmp, "%s.tmp", qn);
		src = mq_openat(x->c.pdir, name, O_RDONLY);
		if (src < 0 && errno == ENOENT && k > 0)
			continue;
		if (src < 0)
			return mq_err_sys(e, "cannot open '%s'", name);
		dst = mq_openat(x->qdir, tmp, O_WRONLY | O_CREAT | O_EXCL);
		if (dst < 0 || fstat(src, &st) < 0 ||
		    copy_range(src, 0, (uint64_t)st.st_size, dst) < 0 ||
		    sync_close(dst) < 0) {
			mq_err_sys(e, "cannot copy '%s' to '%s'", name,
				   x->qpath);
			close(src);
			return -1;
		}
		close(src);
		if (mq_rename_noreplace(x->qdir, tmp, x->qdir, qn) < 0)
			return mq_err_sys(e, "cannot rename '%s/%s'", x->qpath,
					  tmp);
		if (k == 0) {
			*bytes = (uint64_t)st.st_size;
			snprintf(shown, shown_n, "%s/%s", x->qpath, qn);
		}
	}
	if (mq_fsync_dir(x->qdir) < 0)
		return mq_err_sys(e, "cannot sync '%s'", x->qpath);
	x->rs->quarantined += *bytes;
	return 0;
}

/*
 * Writes index entries for the valid batches in bytes [from, to) of src,
 * as a segment named name that starts at from would have them: one every
 * MQ_INDEX_INTERVAL bytes, the first batch always (segment.c).
 */
static int
index_run(int src, uint64_t from, uint64_t to, uint64_t name,
	  uint64_t limit, int ifd, int tfd, uint64_t *count,
	  struct mq_err *e)
{
	uint64_t pos = from, idx_pos = 0;
	int64_t max_ts = INT64_MIN;

	*count = 0;
	while (pos < to) {
		unsigned char hdr[MQ_BATCH_HDR], xb[MQ_IDX_SIZE], tb[MQ_TIX_SIZE];
		struct mq_batch_hdr h;
		if (mq_pread_full(src, hdr, sizeof hdr, (off_t)pos) !=
		    (ssize_t)sizeof hdr ||
		    mq_batch_hdr_decode(hdr, limit, &h) < 0)
			return mq_err_set(e, EIO, "segment %llu changed while "
					  "repaired", (unsigned long long)name);
		if (h.max_ts > max_ts)
			max_ts = h.max_ts;
		if (*count == 0 || pos - from - idx_pos >= MQ_INDEX_INTERVAL) {
			struct mq_idx_entry ie = {(uint32_t)(h.base_offset -
							     name),
						  (uint32_t)(pos - from)};
			struct mq_tix_entry te = {max_ts, ie.rel, ie.pos};
			mq_idx_encode(xb, &ie);
			mq_tix_encode(tb, &te);
			if (mq_write_file(ifd, xb, sizeof xb) < 0 ||
			    mq_write_file(tfd, tb, sizeof tb) < 0)
				return mq_err_sys(e, "cannot write the index "
						  "of segment %llu",
						  (unsigned long long)name);
			idx_pos = pos - from;
			(*count)++;
		}
		pos += h.length;
	}
	return 0;
}

/*
 * Writes bytes [from, to) of the open segment src (valid batches) as a
 * segment named name under temporary names NAME.EXT.repair, with its
 * indexes, all synced.  from == to makes an empty segment.
 */
static int
write_piece(struct rctx *x, int src, uint64_t from, uint64_t to,
	    uint64_t name, struct mq_err *e)
{
	char fn[3][MQ_SEGNAME_MAX + 16];
	int fd[3] = {-1, -1, -1};
	uint64_t count;
	int rc = -1;

	for (int k = 0; k < 3; k++) {
		char n[MQ_SEGNAME_MAX];
		mq_seg_name(n, name, k == 0 ? "log" : k == 1 ? "idx" : "tix");
		snprintf(fn[k], sizeof fn[k], "%s%s", n, TMP_EXT);
		fd[k] = mq_openat(x->c.pdir, fn[k], O_WRONLY | O_CREAT | O_EXCL);
		if (fd[k] < 0) {
			mq_err_sys(e, "cannot create '%s'", fn[k]);
			goto out;
		}
	}
	if (copy_range(src, from, to, fd[0]) < 0) {
		mq_err_sys(e, "cannot write '%s'", fn[0]);
		goto out;
	}
	if (index_run(src, from, to, name, x->c.limit, fd[1], fd[2], &count,
		      e) < 0)
		goto out;
	rc = 0;
out:
	for (int k = 0; k < 3; k++) {
		if (fd[k] < 0)
			continue;
		if (rc == 0 && sync_close(fd[k]) < 0)
			rc = mq_err_sys(e, "cannot sync '%s'", fn[k]);
		else if (rc < 0)
			close(fd[k]);
	}
	if (rc < 0)
		for (int k = 0; k < 3; k++)
			unlinkat(x->c.pdir, fn[k], 0);
	return rc;
}

/* Plan file: "mq repair plan 1\nsize S\nremove R\npiece B\n...". */
struct plan {
	uint64_t base, size;
	bool remove;             /* no piece keeps the original's name */
	uint64_t pieces[64];
	size_t npieces;
};

static int
plan_parse(const char *text, struct plan *pl)
{
	const char *s = text;
	unsigned long long v;
	int r, used;

	pl->npieces = 0;
	if (strncmp(s, "mq repair plan 1\n", 17) != 0)
		return -1;
	s += 17;
	if (sscanf(s, "size %llu\n%n", &v, &used) != 1)
		return -1;
	pl->size = v;
	s += used;
	if (sscanf(s, "remove %d\n%n", &r, &used) != 1)
		return -1;
	pl->remove = r != 0;
	s += used;
	while (*s) {
		if (sscanf(s, "piece %llu\n%n", &v, &used) != 1 ||
		    pl->npieces == 64)
			return -1;
		pl->pieces[pl->npieces++] = v;
		s += used;
	}
	return 0;
}

static bool
exists(int dir, const char *name)
{
	return faccessat(dir, name, F_OK, AT_SYMLINK_NOFOLLOW) == 0;
}

/* Steps 3 and 4: renames the pieces in, removes the plan. */
static int
plan_finish(struct rctx *x, const struct plan *pl, const char *planname,
	    struct mq_err *e)
{
	static const char *const ext[3] = {"idx", "tix", "log"};
	char name[MQ_SEGNAME_MAX], tmp[MQ_SEGNAME_MAX + 16];

	/* Highest first: a producer always finds the newest in place. */
	for (size_t i = pl->npieces; i-- > 0;)
		for (int k = 0; k < 3; k++) {
			mq_seg_name(name, pl->pieces[i], ext[k]);
			snprintf(tmp, sizeof tmp, "%s%s", name, TMP_EXT);
			if (mq_renameat(x->c.pdir, tmp, x->c.pdir, name) < 0 &&
			    errno != ENOENT)
				return mq_err_sys(e, "cannot rename '%s'", tmp);
		}
	if (pl->remove)
		for (int k = 2; k >= 0; k--) {
			mq_seg_name(name, pl->base, ext[k]);
			if (unlinkat(x->c.pdir, name, 0) < 0 && errno != ENOENT)
				return mq_err_sys(e, "cannot remove '%s'", name);
		}
	if (mq_fsync_dir(x->c.pdir) < 0)
		return mq_err_sys(e, "cannot sync '%s'", x->c.path);
	if (unlinkat(x->c.pdir, planname, 0) < 0 && errno != ENOENT)
		return mq_err_sys(e, "cannot remove '%s'", planname);
	if (mq_fsync_dir(x->c.pdir) < 0)
		return mq_err_sys(e, "cannot sync '%s'", x->c.path);
	return 0;
}

/*
 * What a killed repair left: plans are finished (unless the original
 * changed since, which means nothing was renamed yet: then the plan is
 * dropped), other temporaries removed.
 */
static int
finish_leftovers(struct rctx *x, struct mq_err *e)
{
	char **names;
	size_t n;
	bool changed = false;

	if (names_ending(x->c.pdir, PLAN_EXT, &names, &n) < 0)
		return mq_err_sys(e, "cannot list '%s'", x->c.path);
	for (size_t i = 0; i < n; i++) {
		struct plan pl = {0};
		char *text = NULL, name[MQ_SEGNAME_MAX], tmp[MQ_SEGNAME_MAX + 16];
		size_t len;
		struct stat st;
		bool stale = false;
		unsigned long long b;

		if (sscanf(names[i], "%20llu", &b) != 1 ||
		    mq_file_read(x->c.pdir, names[i], 65536, &text, &len, e) < 0)
			goto fail;
		pl.base = b;
		if (plan_parse(text, &pl) < 0) {
			stale = true;
		} else {
			/* The original still in place and grown: an append
			 * came after the crash; nothing was renamed yet. */
			mq_seg_name(name, pl.base, "log");
			snprintf(tmp, sizeof tmp, "%s%s", name, TMP_EXT);
			if ((pl.remove || exists(x->c.pdir, tmp)) &&
			    fstatat(x->c.pdir, name, &st,
				    AT_SYMLINK_NOFOLLOW) == 0 &&
			    (uint64_t)st.st_size != pl.size)
				stale = true;
		}
		free(text);
		if (stale) {
			if (unlinkat(x->c.pdir, names[i], 0) < 0)
				goto fail_sys;
			act(x, names[i], "dropped the plan of an interrupted "
			    "repair: the segment changed since");
		} else {
			if (plan_finish(x, &pl, names[i], e) < 0)
				goto fail;
			act(x, names[i], "finished an interrupted repair");
		}
		changed = true;
	}
	mq_names_free(names, n);
	if (names_ending(x->c.pdir, TMP_EXT, &names, &n) < 0)
		return mq_err_sys(e, "cannot list '%s'", x->c.path);
	for (size_t i = 0; i < n; i++)
		if (unlinkat(x->c.pdir, names[i], 0) == 0)
			changed = true;
	mq_names_free(names, n);
	if (changed && mq_fsync_dir(x->c.pdir) < 0)
		return mq_err_sys(e, "cannot sync '%s'", x->c.path);
	/* Quarantine copies cut short (complete ones have their name). */
	{
		char pname[16];
		int q = mq_opendirat(x->t->fd, "quarantine"), qp = -1;
		snprintf(pname, sizeof pname, "%u", x->p);
		if (q >= 0)
			qp = mq_opendirat(q, pname);
		if (qp >= 0 && names_ending(qp, ".tmp", &names, &n) == 0) {
			for (size_t i = 0; i < n; i++)
				unlinkat(qp, names[i], 0);
			mq_names_free(names, n);
		}
		if (qp >= 0)
			close(qp);
		if (q >= 0)
			close(q);
	}
	return 0;
fail_sys:
	mq_err_sys(e, "cannot remove '%s'", names[0]);
fail:
	mq_names_free(names, n);
	return -1;
}

static void
offsets_text(char *buf, size_t n, uint64_t a, uint64_t b)
{
	if (a + 1 == b)
		snprintf(buf, n, "offset %llu", (unsigned long long)a);
	else
		snprintf(buf, n, "offsets %llu-%llu", (unsigned long long)a,
			 (unsigned long long)(b - 1));
}

/*
 * Splits a damaged segment around its damage.  next_base: the next
 * segment's name (UINT64_MAX: this is the newest); head_next: where the
 * head says the next message goes, for the newest.
 */
static int
split(struct rctx *x, const struct segres *r, uint64_t next_base,
      const struct mq_head *head, struct mq_err *e)
{
	char lname[MQ_SEGNAME_MAX], planname[MQ_SEGNAME_MAX + 16], shown[700];
	char buf[800], txt[80];
	struct plan pl = {0};
	uint64_t qbytes, end_bound, lost = 0, last_next;
	int src;

	mq_seg_name(lname, r->base, "log");
	pl.base = r->base;
	pl.size = r->size;
	pl.remove = true;
	for (size_t i = 0; i < r->nruns; i++) {
		uint64_t nm = r->runs[i].start == 0 ? r->base :
			      r->runs[i].first;
		if (nm == r->base)
			pl.remove = false;
		else if (exists(x->c.pdir, (mq_seg_name(buf, nm, "log"), buf)))
			return mq_err_set(e, EEXIST, "cannot split '%s': "
					  "segment '%s' exists", lname, buf);
		if (pl.npieces == 64)
			return mq_err_set(e, E2BIG, "cannot split '%s': too "
					  "much damage", lname);
		pl.pieces[pl.npieces++] = nm;
	}
	last_next = r->nruns ? r->runs[r->nruns - 1].next : r->base;
	end_bound = next_base;
	if (next_base == UINT64_MAX) {
		/* The newest: the next producer must not reuse lost offsets. */
		end_bound = last_next;
		if (head && head->seg_base == r->base &&
		    head->next_offset > end_bound)
			end_bound = head->next_offset;
		if (end_bound > last_next || r->nruns == 0) {
			if (end_bound == r->base)
				pl.remove = false;
			if (pl.npieces == 64)
				return mq_err_set(e, E2BIG, "cannot split "
						  "'%s': too much damage", lname);
			if (end_bound != r->base &&
			    exists(x->c.pdir, (mq_seg_name(buf, end_bound,
							   "log"), buf)))
				return mq_err_set(e, EEXIST, "cannot split "
						  "'%s': segment '%s' exists",
						  lname, buf);
			pl.pieces[pl.npieces++] = end_bound;
		}
	}
	src = mq_openat(x->c.pdir, lname, O_RDONLY);
	if (src < 0)
		return mq_err_sys(e, "cannot open '%s'", lname);
	/* 1. The pieces and the quarantine copies, durable. */
	for (size_t i = 0; i < pl.npieces; i++) {
		bool empty = i >= r->nruns;
		if (write_piece(x, src, empty ? 0 : r->runs[i].start,
				empty ? 0 : r->runs[i].end, pl.pieces[i],
				e) < 0)
			goto fail;
	}
	if (quarantine_copy(x, r->base, shown, sizeof shown, &qbytes, e) < 0)
		goto fail;
	/* 2. The commit point. */
	{
		size_t len = (size_t)snprintf(buf, sizeof buf,
					      "mq repair plan 1\nsize %llu\n"
					      "remove %d\n",
					      (unsigned long long)pl.size,
					      pl.remove);
		for (size_t i = 0; i < pl.npieces; i++)
			len += (size_t)snprintf(buf + len, sizeof buf - len,
						"piece %llu\n",
						(unsigned long long)pl.pieces[i]);
		snprintf(planname, sizeof planname, "%020llu%s",
			 (unsigned long long)r->base, PLAN_EXT);
		if (mq_file_replace(x->c.pdir, planname, buf, len, e) < 0)
			goto fail;
	}
	close(src);
	src = -1;
	mq_failpoint("repair.planned");
	/* 3 and 4. */
	if (plan_finish(x, &pl, planname, e) < 0)
		return -1;

	/* The report. */
	for (size_t i = 0; i < r->ndmgs; i++)
		act(x, lname, "byte %llu: %s: %llu bytes quarantined",
		    (unsigned long long)r->dmgs[i].start, r->dmgs[i].why,
		    (unsigned long long)(r->dmgs[i].end - r->dmgs[i].start));
	if (r->newest && r->tail_bytes)
		act(x, lname, "byte %llu: %llu bytes of unfinished tail "
		    "quarantined", (unsigned long long)r->tail_pos,
		    (unsigned long long)r->tail_bytes);
	for (size_t i = 0; i <= r->nruns; i++) {
		uint64_t from = i == 0 ? r->base : r->runs[i - 1].next;
		uint64_t to = i < r->nruns ? r->runs[i].first : end_bound;
		if (to > from) {
			offsets_text(txt, sizeof txt, from, to);
			act(x, lname, "%s lost", txt);
			lost += to - from;
		}
	}
	if (lost == 0)
		act(x, lname, "no offsets lost");
	x->rs->lost_offsets += lost;
	for (size_t i = 0; i < pl.npieces; i++) {
		char pn[MQ_SEGNAME_MAX];
		mq_seg_name(pn, pl.pieces[i], "log");
		if (i < r->nruns) {
			offsets_text(txt, sizeof txt, r->runs[i].first,
				     r->runs[i].next);
			act(x, pn, "kept %s (%llu bytes)", txt,
			    (unsigned long long)(r->runs[i].end -
						 r->runs[i].start));
		} else {
			act(x, pn, "new empty segment: the next message gets "
			    "offset %llu", (unsigned long long)pl.pieces[i]);
		}
	}
	act(x, lname, "original (%llu bytes) and its indexes quarantined as "
	    "%s", (unsigned long long)qbytes, shown);
	x->rs->split++;
	return 0;
fail:
	if (src >= 0)
		close(src);
	return -1;
}

/* Rebuilds a segment's indexes from its log (valid up to end). */
static int
rebuild_index(struct rctx *x, const struct segres *r, struct mq_err *e)
{
	char lname[MQ_SEGNAME_MAX], name[2][MQ_SEGNAME_MAX],
		tmp[2][2 * MQ_SEGNAME_MAX + 8];
	int src, fd[2] = {-1, -1}, rc = -1;
	uint64_t count;

	mq_seg_name(lname, r->base, "log");
	src = mq_openat(x->c.pdir, lname, O_RDONLY);
	if (src < 0)
		return mq_err_sys(e, "cannot open '%s'", lname);
	for (int k = 0; k < 2; k++) {
		mq_seg_name(name[k], r->base, k == 0 ? "idx" : "tix");
		snprintf(tmp[k], sizeof tmp[k], "%s%s", name[k], TMP_EXT);
		fd[k] = mq_openat(x->c.pdir, tmp[k], O_WRONLY | O_CREAT | O_EXCL);
		if (fd[k] < 0) {
			mq_err_sys(e, "cannot create '%s'", tmp[k]);
			goto out;
		}
	}
	if (index_run(src, 0, r->valid_end, r->base, x->c.limit, fd[0], fd[1],
		      &count, e) < 0)
		goto out;
	for (int k = 0; k < 2; k++) {
		int f = fd[k];
		fd[k] = -1;
		if (sync_close(f) < 0) {
			mq_err_sys(e, "cannot sync '%s'", tmp[k]);
			goto out;
		}
	}
	for (int k = 0; k < 2; k++)
		if (mq_renameat(x->c.pdir, tmp[k], x->c.pdir, name[k]) < 0) {
			mq_err_sys(e, "cannot rename '%s'", tmp[k]);
			goto out;
		}
	if (mq_fsync_dir(x->c.pdir) < 0) {
		mq_err_sys(e, "cannot sync '%s'", x->c.path);
		goto out;
	}
	rc = 0;
	act(x, name[0], "rebuilt the offset and time indexes from the log "
	    "(%llu entries)", (unsigned long long)count);
	x->rs->indexes++;
out:
	for (int k = 0; k < 2; k++)
		if (fd[k] >= 0) {
			close(fd[k]);
			unlinkat(x->c.pdir, tmp[k], 0);
		}
	close(src);
	return rc;
}

/*
 * Garbage after the newest segment's last batch that is not what a crash
 * leaves: a copy goes to the quarantine, then it is truncated.
 */
static int
cut_tail(struct rctx *x, const struct segres *r, struct mq_err *e)
{
	char lname[MQ_SEGNAME_MAX], shown[700];
	uint64_t qbytes;
	int fd;

	mq_seg_name(lname, r->base, "log");
	if (quarantine_copy(x, r->base, shown, sizeof shown, &qbytes, e) < 0)
		return -1;
	fd = mq_openat(x->c.pdir, lname, O_WRONLY);
	if (fd < 0)
		return mq_err_sys(e, "cannot open '%s'", lname);
	if (mq_ftruncate(fd, (off_t)r->tail_pos) < 0 || mq_fsync(fd) < 0) {
		mq_err_sys(e, "cannot truncate '%s'", lname);
		close(fd);
		return -1;
	}
	close(fd);
	act(x, lname, "byte %llu: cut %llu bytes that are not a batch nor a "
	    "torn write; the original is quarantined as %s",
	    (unsigned long long)r->tail_pos, (unsigned long long)r->tail_bytes,
	    shown);
	x->rs->truncated += r->tail_bytes;
	return 0;
}

int
mq_partition_repair(struct mq_topic *t, uint32_t p, mq_vnote_fn fn,
		    void *arg, struct mq_rstats *rs, struct mq_err *e)
{
	struct rctx x;
	uint64_t *bases = NULL;
	size_t n;
	struct mq_head head, after;
	bool have_head;
	int rc = -1;

	memset(&x, 0, sizeof x);
	memset(rs, 0, sizeof *rs);
	x.t = t;
	x.p = p;
	x.fn = fn;
	x.arg = arg;
	x.rs = rs;
	x.cleanfd = x.qdir = -1;
	x.w.pdir = x.w.lockfd = -1;
	snprintf(x.qpath, sizeof x.qpath, "%s/quarantine/%u", t->name, p);
	if (vctx_open(&x.c, t, p, e) < 0)
		return -1;
	/* As mq-compact: P/clean first, then the partition lock. */
	x.cleanfd = mq_openat(x.c.pdir, "clean", O_RDWR | O_CREAT);
	if (x.cleanfd < 0) {
		mq_err_sys(e, "cannot open the compaction lock '%s/clean'",
			   x.c.path);
		goto out;
	}
	if (mq_flock_wait(x.cleanfd, LOCK_EX, e, "the compaction lock of "
			  "partition %u of topic '%s'", p, t->name) < 0)
		goto out;
	if (mq_compact_recover(x.c.pdir, x.c.path, e) < 0)
		goto out;
	if (mq_pwriter_open(&x.w, t, p, MQ_SYNC_BATCH, e) < 0)
		goto out;
	if (mq_flock_wait(x.w.lockfd, LOCK_EX, e, "partition %u of topic "
			  "'%s'", p, t->name) < 0)
		goto out;
	if (finish_leftovers(&x, e) < 0)
		goto out;
	have_head = mq_head_read(x.w.lockfd, &head) == 0;
	if (mq_seg_list(x.c.pdir, x.c.path, &bases, &n, e) < 0)
		goto out;
	for (size_t i = 0; i < n; i++) {
		struct segres r;
		bool newest = i + 1 == n;
		if (check_segment(&x.c, bases[i], newest, &r, e) < 0)
			goto out;
		if (r.gone) {
			segres_free(&r);
			continue;
		}
		if (r.damaged) {
			if (split(&x, &r, newest ? UINT64_MAX : bases[i + 1],
				  have_head ? &head : NULL, e) < 0) {
				segres_free(&r);
				goto out;
			}
		} else {
			if (newest && r.tail_bytes && !r.torn_like &&
			    cut_tail(&x, &r, e) < 0) {
				segres_free(&r);
				goto out;
			}
			if (r.index_bad && rebuild_index(&x, &r, e) < 0) {
				segres_free(&r);
				goto out;
			}
		}
		segres_free(&r);
	}
	/* The writer's own recovery: a torn tail, the head. */
	{
		uint64_t before = have_head ? head.recovered_bytes : 0;
		if (mq_pwriter_recover(&x.w, e) < 0)
			goto out;
		if (mq_head_read(x.w.lockfd, &after) == 0 &&
		    after.recovered_bytes > before) {
			char lname[MQ_SEGNAME_MAX];
			mq_seg_name(lname, after.seg_base, "log");
			act(&x, lname, "truncated a torn tail of %llu bytes at "
			    "byte %llu", (unsigned long long)
			    (after.recovered_bytes - before),
			    (unsigned long long)after.end_pos);
			rs->truncated += after.recovered_bytes - before;
		}
	}
	rc = 0;
out:
	free(bases);
	if (x.w.path)
		mq_pwriter_close(&x.w);
	if (x.cleanfd >= 0)
		close(x.cleanfd);
	if (x.qdir >= 0)
		close(x.qdir);
	vctx_close(&x.c);
	return rc;
}
