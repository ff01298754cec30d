/*
 * compact.c - retention and log compaction of a partition, as mq-compact
 * does them, while producers append and consumers read.
 *
 * Only sealed segments are touched, never the newest (active) one.
 * Retention removes a prefix of them: those whose newest timestamp is
 * older than retention.ms, then, oldest first, as many as keep the
 * partition under retention.bytes.  Compaction keeps, within the sealed
 * segments older than min.compaction.lag.ms, only the latest record of
 * each key (dropping a latest tombstone once it is older than
 * delete.retention.ms); records keep their offsets (rewritten batches are
 * sparse: their records carry offset deltas).  Records without a key are
 * kept.  A segment's age is its newest timestamp, unless that is later
 * than the topic takes now (mq_ts_horizon): then its log's modification
 * time, which a rewrite keeps.
 *
 * The key map holds, per key, a 16-byte XXH3-128 of the key and the
 * offset of its latest record (24 bytes a slot, --memory bytes in all),
 * never the keys.  When the keys do not fit, the work is split into
 * passes by hash: pass i decides only the keys whose hash is i modulo the
 * number of passes, and keeps every other record as it is.
 *
 * Work happens in three steps, so an archive of the originals can be
 * made durable before anything visible changes:
 *
 *   prepare  take P/clean (flock, so two mq-compact never meet on a
 *            partition), finish or roll back what a killed run left, plan,
 *            and write each changed segment as BASE.{log,idx,tix}.cleaned,
 *            synced (nothing visible yet);
 *   archive  (optional) add the originals to a tar archive;
 *   apply    delete expired segments (.log first), then swap each cleaned
 *            segment in: rename .cleaned to .swap (idx, tix, then log: a
 *            BASE.log.swap means "complete"), sync the directory, rename
 *            the .swap files over the originals (log last).
 *
 * Recovery (mq_compact_recover, run by mq-compact and by the first append
 * of a producer when no compaction is running): a BASE.log.swap is
 * finished; any other .swap, .cleaned or .cleaning file is removed; index
 * files without their log are removed.  Readers need none of it: until
 * the log is renamed they read the original; an index renamed before its
 * log is only a hint that fails validation, so they scan instead.
 */
#include <config.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "internal.h"
#include "mqcmd.h"
#include "xxh.h"

#define SLOT 24                 /* 16-byte hash + 8-byte offset */
#define EMPTY UINT64_MAX
#define OUT_BATCH (256 * 1024)
#define DIR_FLAGS (O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)

/* ---- the key map ---- */

struct keymap {
	unsigned char *slots;
	size_t n, used, max;
};

static int
keymap_init(struct keymap *m, size_t bytes)
{
	m->n = bytes / SLOT;
	if (m->n < 16)
		m->n = 16;
	m->max = m->n / 10 * 8;          /* at most 80% full */
	m->used = 0;
	m->slots = malloc(m->n * SLOT);
	return m->slots ? 0 : -1;
}

static void
keymap_clear(struct keymap *m)
{
	memset(m->slots, 0xff, m->n * SLOT);
	m->used = 0;
}

static size_t
slot_of(const struct keymap *m, XXH128_hash_t h)
{
	return (size_t)(((unsigned __int128)h.low64 * m->n) >> 64);
}

/* 0 stored, 1 the map is full. */
static int
keymap_put(struct keymap *m, XXH128_hash_t h, uint64_t off)
{
	for (size_t i = slot_of(m, h);; i = i + 1 == m->n ? 0 : i + 1) {
		unsigned char *s = m->slots + i * SLOT;
		uint64_t o = mq_le64(s + 16);
		if (o == EMPTY) {
			if (m->used >= m->max)
				return 1;
			mq_put64(s, h.low64);
			mq_put64(s + 8, h.high64);
			mq_put64(s + 16, off);
			m->used++;
			return 0;
		}
		if (mq_le64(s) == h.low64 && mq_le64(s + 8) == h.high64) {
			if (off > o)
				mq_put64(s + 16, off);
			return 0;
		}
	}
}

static uint64_t
keymap_get(const struct keymap *m, XXH128_hash_t h)
{
	for (size_t i = slot_of(m, h);; i = i + 1 == m->n ? 0 : i + 1) {
		const unsigned char *s = m->slots + i * SLOT;
		uint64_t o = mq_le64(s + 16);
		if (o == EMPTY)
			return EMPTY;
		if (mq_le64(s) == h.low64 && mq_le64(s + 8) == h.high64)
			return o;
	}
}

static void
keymap_prefetch(const struct keymap *m, XXH128_hash_t h)
{
	__builtin_prefetch(m->slots + slot_of(m, h) * SLOT);
}

/*
 * The key hashes of one batch's records, computed (and their map slots
 * prefetched) before the records are looked up, so that the cache misses
 * of a batch overlap instead of following one another.
 */
struct hashes {
	XXH128_hash_t *h;
	bool *mine;              /* has a key of this pass's bucket */
	size_t n, cap;
};

static int
hash_batch(struct hashes *hs, struct mq_rec_iter it, const struct keymap *m,
	   uint32_t pass, uint32_t passes)
{
	struct mq_record r;
	int rc;

	hs->n = 0;
	while ((rc = mq_rec_iter_next(&it, &r)) == 0) {
		if (hs->n == hs->cap) {
			size_t cap = hs->cap ? hs->cap * 2 : 1024;
			XXH128_hash_t *h = realloc(hs->h, cap * sizeof *h);
			bool *b = h ? realloc(hs->mine, cap * sizeof *b) : NULL;
			if (h)
				hs->h = h;
			if (!b)
				return -2;
			hs->mine = b;
			hs->cap = cap;
		}
		hs->mine[hs->n] = false;
		if (r.key) {
			XXH128_hash_t h = XXH3_128bits(r.key, r.klen);
			hs->h[hs->n] = h;
			if (h.high64 % passes == pass) {
				hs->mine[hs->n] = true;
				keymap_prefetch(m, h);
			}
		}
		hs->n++;
	}
	return rc < 0 ? -1 : 0;
}

/* ---- reading a segment file batch by batch ---- */

struct segin {
	int fd;
	const char *name;        /* for messages */
	uint64_t pos, size, limit;
	unsigned char *buf, *raw;
	size_t cap, rawcap;
	struct mq_codec *codec;
	struct mq_rec_iter it;
	struct mq_batch_hdr h;
};

static int
segin_open(struct segin *in, int fd, const char *name, uint64_t limit,
	   struct mq_err *e)
{
	struct stat st;

	memset(in, 0, sizeof *in);
	in->fd = fd;
	in->name = name;
	in->limit = limit;
	if (fstat(fd, &st) < 0)
		return mq_err_sys(e, "cannot stat '%s'", name);
	in->size = (uint64_t)st.st_size;
	return 0;
}

static void
segin_close(struct segin *in)
{
	free(in->buf);
	free(in->raw);
	mq_codec_free(in->codec);
	in->buf = in->raw = NULL;
	in->codec = NULL;
}

static int
grow(unsigned char **buf, size_t *cap, size_t need)
{
	if (need <= *cap)
		return 0;
	unsigned char *p = realloc(*buf, need);
	if (!p)
		return -1;
	*buf = p;
	*cap = need;
	return 0;
}

/*
 * The next batch, its records ready in in->it: 0, 1 at the end, -1 on
 * error.  A sealed segment must be valid to its end: anything else is
 * corruption, and compaction of the partition stops.
 */
static int
segin_next(struct segin *in, struct mq_err *e)
{
	const unsigned char *payload;

	if (in->pos == in->size)
		return 1;
	if (in->size - in->pos < MQ_BATCH_HDR ||
	    grow(&in->buf, &in->cap, MQ_BATCH_HDR) < 0 ||
	    mq_pread_full(in->fd, in->buf, MQ_BATCH_HDR, (off_t)in->pos) !=
	    MQ_BATCH_HDR ||
	    mq_batch_hdr_decode(in->buf, in->limit, &in->h) < 0 ||
	    in->h.length > in->size - in->pos)
		goto corrupt;
	if (grow(&in->buf, &in->cap, in->h.length) < 0)
		return mq_err_sys(e, "out of memory");
	if (mq_pread_full(in->fd, in->buf, in->h.length, (off_t)in->pos) !=
	    (ssize_t)in->h.length ||
	    mq_batch_checksum(in->buf, in->h.length) != in->h.checksum)
		goto corrupt;
	payload = in->buf + MQ_BATCH_HDR;
	if (in->h.codec != MQ_CODEC_NONE) {
		if (grow(&in->raw, &in->rawcap, in->h.raw_len ? in->h.raw_len
							       : 1) < 0 ||
		    (!in->codec && !(in->codec = mq_codec_new())))
			return mq_err_sys(e, "out of memory");
		if (mq_codec_decompress(in->codec, in->h.codec, payload,
					in->h.length - MQ_BATCH_HDR, in->raw,
					in->h.raw_len, e) < 0)
			goto corrupt;
		payload = in->raw;
	}
	mq_rec_iter_init(&in->it, &in->h, payload, in->h.raw_len);
	in->pos += in->h.length;
	return 0;
corrupt:
	return mq_err_set(e, EBADMSG, "corrupt batch in '%s' at byte %llu: "
			  "not compacting this partition", in->name,
			  (unsigned long long)in->pos);
}

/* ---- writing a cleaned segment ---- */

struct segout {
	int log, idx, tix;
	uint64_t base, pos, idx_pos;
	bool indexed;
	int64_t max_ts;
	struct mq_bb bb, one;
	struct mq_codec *cz;
	int codec;
	uint64_t limit;
	uint64_t records, bytes;
};

static int
write_batch(struct segout *o, struct mq_bb *b, uint64_t base, const char *what,
	    struct mq_err *e)
{
	if (mq_bb_seal(b, o->codec, o->cz, e) < 0)
		return -1;
	mq_bb_stamp(b, base);
	if (mq_write_file(o->log, b->out, b->outlen) < 0)
		return mq_err_sys(e, "cannot write '%s'", what);
	if (b->max_ts > o->max_ts)
		o->max_ts = b->max_ts;
	if (!o->indexed || o->pos - o->idx_pos >= MQ_INDEX_INTERVAL) {
		unsigned char x[MQ_IDX_SIZE], t[MQ_TIX_SIZE];
		struct mq_idx_entry ie = {(uint32_t)(base - o->base),
					  (uint32_t)o->pos};
		struct mq_tix_entry te = {o->max_ts, ie.rel, ie.pos};
		mq_idx_encode(x, &ie);
		mq_tix_encode(t, &te);
		if (mq_write_file(o->idx, x, sizeof x) < 0 ||
		    mq_write_file(o->tix, t, sizeof t) < 0)
			return mq_err_sys(e, "cannot write the index of '%s'",
					  what);
		o->idx_pos = o->pos;
		o->indexed = true;
	}
	o->pos += b->outlen;
	o->bytes += b->outlen;
	o->records += b->count;
	mq_bb_reset(b);
	return 0;
}

static int
segout_flush(struct segout *o, const char *what, struct mq_err *e)
{
	if (o->bb.count == 0)
		return 0;
	return write_batch(o, &o->bb, o->bb.first_offset, what, e);
}

static int
segout_add(struct segout *o, const struct mq_record *r, const char *what,
	   struct mq_err *e)
{
	static const struct mq_bb empty = {.len = MQ_BATCH_HDR,
					   .sparse = true};
	size_t alone = mq_bb_record_size(&empty, r->ts, r->klen, r->vlen,
					 r->hlen, r->nheaders);

	if (alone > o->limit) {
		/* Its offset delta would take it past max.message.bytes:
		 * write it alone in a dense batch, which needs none. */
		if (segout_flush(o, what, e) < 0 ||
		    mq_bb_add(&o->one, r->ts, r->key, r->klen, r->value,
			      r->vlen, r->headers, r->hlen, r->nheaders) < 0)
			return mq_err_sys(e, "out of memory");
		return write_batch(o, &o->one, r->offset, what, e);
	}
	if (o->bb.count &&
	    (o->bb.len - MQ_BATCH_HDR +
	     mq_bb_record_size(&o->bb, r->ts, r->klen, r->vlen, r->hlen,
			       r->nheaders) + 10 > (OUT_BATCH < o->limit ?
						    OUT_BATCH : o->limit)) &&
	    segout_flush(o, what, e) < 0)
		return -1;
	if (mq_bb_add_at(&o->bb, r->offset, r->ts, r->key, r->klen, r->value,
			 r->vlen, r->headers, r->hlen, r->nheaders) < 0)
		return mq_err_sys(e, "out of memory");
	return 0;
}

/* ---- the plan of a partition ---- */

struct seg {
	uint64_t base, size;
	int64_t max_ts;
	bool del, clean, changed, empty;
};

struct mq_cplan {
	struct mq_topic *t;
	uint32_t partition;
	char *path;              /* SPOOL/TOPIC/P */
	int pdir, cleanfd;
	const struct mq_compact_opts *o;
	struct seg *segs;
	size_t n;
	bool applied;
};

/* A segment file's name with any extension (buf: at least 48 bytes). */
#define FNAME_MAX 48
static void
fname(char *buf, uint64_t base, const char *ext)
{
	snprintf(buf, FNAME_MAX, "%020llu.%s", (unsigned long long)base, ext);
}

/* The segment file to read now: this run's cleaned version, if any. */
/* SPOOL/TOPIC/P/NNN.log, for messages (buf: at least 600 bytes). */
static const char *
seg_path(struct mq_cplan *pl, const struct seg *s, char *buf)
{
	snprintf(buf, 600, "%s/%020llu.log", pl->path,
		 (unsigned long long)s->base);
	return buf;
}

static int
open_current(struct mq_cplan *pl, struct seg *s, struct mq_err *e)
{
	char name[FNAME_MAX];
	int fd;

	if (s->changed && !pl->o->dry_run) {
		fname(name, s->base, "log.cleaned");
		fd = mq_openat(pl->pdir, name, O_RDONLY);
	} else {
		fname(name, s->base, "log");
		fd = mq_openat(pl->pdir, name, O_RDONLY);
	}
	if (fd < 0)
		return mq_err_sys(e, "cannot open '%s/%s'", pl->path, name);
	posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
	return fd;
}

/*
 * Pass over the cleanable segments recording each key of this pass's
 * bucket with its latest offset: 0, 1 when the map is full, -1.
 */
static int
build_map(struct mq_cplan *pl, struct keymap *m, struct hashes *hs,
	  uint32_t pass, uint32_t passes, struct mq_compact_stats *st,
	  struct mq_err *e)
{
	keymap_clear(m);
	for (size_t i = 0; i < pl->n; i++) {
		struct seg *s = &pl->segs[i];
		struct segin in;
		struct mq_record r;
		int fd, rc;
		if (!s->clean || s->empty)
			continue;
		if ((fd = open_current(pl, s, e)) < 0)
			return -1;
		char where[600];
		if (segin_open(&in, fd, seg_path(pl, s, where),
			       pl->t->cfg.max_message_bytes, e) < 0) {
			close(fd);
			return -1;
		}
		while ((rc = segin_next(&in, e)) == 0) {
			size_t i = 0;
			if ((rc = hash_batch(hs, in.it, m, pass, passes)) == -2) {
				mq_err_sys(e, "out of memory");
				goto fail;
			}
			while (rc == 0 &&
			       (rc = mq_rec_iter_next(&in.it, &r)) == 0) {
				if (hs->mine[i++] &&
				    keymap_put(m, hs->h[i - 1], r.offset)) {
					rc = 1;
					goto full;
				}
			}
			if (rc < 0) {
				mq_err_set(e, EBADMSG, "malformed record in "
					   "'%s' at byte %llu", in.name,
					   (unsigned long long)(in.pos -
								in.h.length));
				goto fail;
			}
			mq_progress(in.h.length);
		}
		if (rc < 0)
			goto fail;
		segin_close(&in);
		close(fd);
		continue;
full:
		segin_close(&in);
		close(fd);
		return 1;
fail:
		segin_close(&in);
		close(fd);
		return -1;
	}
	st->keys += m->used;
	return 0;
}

static int
create_out(struct mq_cplan *pl, uint64_t base, const char *ext, struct mq_err *e)
{
	char name[FNAME_MAX];
	int fd;

	fname(name, base, ext);
	fd = mq_openat(pl->pdir, name, O_WRONLY | O_CREAT | O_EXCL);
	if (fd < 0)
		return mq_err_sys(e, "cannot create '%s/%s'", pl->path, name);
	return fd;
}

static int
rename_in(struct mq_cplan *pl, uint64_t base, const char *from,
	  const char *to, struct mq_err *e)
{
	char a[FNAME_MAX], b[FNAME_MAX];

	fname(a, base, from);
	fname(b, base, to);
	if (mq_renameat(pl->pdir, a, pl->pdir, b) < 0)
		return mq_err_sys(e, "cannot rename '%s/%s'", pl->path, a);
	return 0;
}

static void
remove_files(struct mq_cplan *pl, uint64_t base, const char *const *exts)
{
	char name[FNAME_MAX];

	for (; *exts; exts++) {
		fname(name, base, *exts);
		unlinkat(pl->pdir, name, 0);
	}
}

/*
 * Rewrites one segment for this pass: keeps each record that is not of
 * this pass's bucket, or is its key's latest (and not an expired
 * tombstone), or has no key.  Writes BASE.*.cleaning, then renames them to
 * .cleaned if anything was dropped; in a dry run only counts.
 */
static int
rewrite(struct mq_cplan *pl, struct seg *s, const struct keymap *m,
	struct hashes *hs, uint32_t pass, uint32_t passes,
	struct mq_compact_stats *st, struct mq_err *e)
{
	static const char *const cleaning[] = {"log.cleaning", "idx.cleaning",
						"tix.cleaning", NULL};
	const struct mq_compact_opts *o = pl->o;
	int64_t tomb_before = o->now_ms - pl->t->cfg.delete_retention_ms;
	struct segout out = {.log = -1, .idx = -1, .tix = -1};
	struct segin in;
	struct mq_record r;
	uint64_t in_records = 0, dropped = 0, tombs = 0;
	char where[600];
	int fd, rc = -1;

	if ((fd = open_current(pl, s, e)) < 0)
		return -1;
	if (segin_open(&in, fd, seg_path(pl, s, where),
		       pl->t->cfg.max_message_bytes, e) < 0)
		goto out;
	out.base = s->base;
	out.max_ts = INT64_MIN;
	out.codec = (int)pl->t->cfg.compression;
	out.limit = (uint64_t)pl->t->cfg.max_message_bytes;
	mq_bb_init(&out.bb);
	out.bb.sparse = true;
	mq_bb_init(&out.one);
	if (!o->dry_run) {
		if ((out.log = create_out(pl, s->base, "log.cleaning", e)) < 0 ||
		    (out.idx = create_out(pl, s->base, "idx.cleaning", e)) < 0 ||
		    (out.tix = create_out(pl, s->base, "tix.cleaning", e)) < 0 ||
		    !(out.cz = mq_codec_new()))
			goto out;
	}
	while ((rc = segin_next(&in, e)) == 0) {
		size_t i = 0;
		if ((rc = hash_batch(hs, in.it, m, pass, passes)) == -2) {
			mq_err_sys(e, "out of memory");
			goto out;
		}
		while (rc == 0 && (rc = mq_rec_iter_next(&in.it, &r)) == 0) {
			bool keep = true;
			in_records++;
			if (hs->mine[i++]) {
				keep = keymap_get(m, hs->h[i - 1]) == r.offset;
				if (keep && !r.value && r.ts < tomb_before) {
					keep = false;
					tombs++;
				}
			}
			if (!keep) {
				dropped++;
				continue;
			}
			if (!o->dry_run &&
			    segout_add(&out, &r, pl->path, e) < 0) {
				rc = -1;
				goto out;
			}
			if (o->dry_run)
				out.records++;
		}
		if (rc < 0) {
			mq_err_set(e, EBADMSG, "malformed record in '%s' at "
				   "byte %llu", in.name, (unsigned long long)
				   (in.pos - in.h.length));
			goto out;
		}
		mq_progress(in.h.length);
	}
	if (rc < 0)
		goto out;
	rc = -1;
	if (pass == 0)
		st->messages_in += in_records;
	st->superseded += dropped - tombs;
	st->tombstones_removed += tombs;
	if (dropped == 0) {
		/* Nothing to drop: this segment stays as it is. */
		if (!o->dry_run)
			remove_files(pl, s->base, cleaning);
		rc = 0;
		goto out;
	}
	if (!o->dry_run) {
		struct stat sb;
		if (segout_flush(&out, pl->path, e) < 0)
			goto out;
		/* The cleaned log keeps the original's modification time, as
		 * Kafka's cleaner does: retention may age a segment by it (see
		 * mq_compact_prepare), and a rewrite must not make it young. */
		if (fstat(fd, &sb) < 0 ||
		    futimens(out.log, (struct timespec[2]){
				{0, UTIME_OMIT}, sb.st_mtim}) < 0) {
			mq_err_sys(e, "cannot keep the modification time of a "
				   "cleaned segment in '%s'", pl->path);
			goto out;
		}
		if (mq_fsync(out.log) < 0 || mq_fsync(out.idx) < 0 ||
		    mq_fsync(out.tix) < 0) {
			mq_err_sys(e, "cannot sync a cleaned segment in '%s'",
				   pl->path);
			goto out;
		}
		if (rename_in(pl, s->base, "log.cleaning", "log.cleaned", e) < 0 ||
		    rename_in(pl, s->base, "idx.cleaning", "idx.cleaned", e) < 0 ||
		    rename_in(pl, s->base, "tix.cleaning", "tix.cleaned", e) < 0)
			goto out;
		s->empty = out.records == 0;
	} else {
		s->empty = out.records == 0;
	}
	s->changed = true;
	rc = 0;
out:
	if (rc < 0 && !o->dry_run)
		remove_files(pl, s->base, cleaning);
	segin_close(&in);
	close(fd);
	if (out.log >= 0)
		close(out.log);
	if (out.idx >= 0)
		close(out.idx);
	if (out.tix >= 0)
		close(out.tix);
	mq_bb_free(&out.bb);
	mq_bb_free(&out.one);
	mq_codec_free(out.cz);
	return rc;
}

static void
cleanup(struct mq_cplan *pl)
{
	static const char *const cleaned[] = {"log.cleaned", "idx.cleaned",
					       "tix.cleaned", NULL};

	if (pl->o->dry_run)
		return;   /* wrote nothing; leaves what it found */
	for (size_t i = 0; i < pl->n; i++)
		if (pl->segs[i].changed && !pl->applied)
			remove_files(pl, pl->segs[i].base, cleaned);
}

static int
compact(struct mq_cplan *pl, struct mq_compact_stats *st, struct mq_err *e)
{
	struct keymap m;
	struct hashes hs = {0};
	uint32_t passes = 1;
	size_t nclean = 0;

	uint64_t bytes = 0;
	size_t mem;

	for (size_t i = 0; i < pl->n; i++) {
		nclean += pl->segs[i].clean;
		if (pl->segs[i].clean)
			bytes += pl->segs[i].size;
	}
	if (nclean == 0)
		return 0;
	/* A record takes at least 6 bytes: no more keys than that can be
	 * there, so a small partition gets a small map. */
	mem = bytes / 6 * SLOT / 8 * 10 + 16 * SLOT;
	if (mem > pl->o->memory)
		mem = pl->o->memory;
	if (keymap_init(&m, mem) < 0)
		return mq_err_sys(e, "cannot allocate the key map (%zu bytes)",
				  mem);
again:
	for (uint32_t pass = 0; pass < passes; pass++) {
		int rc = build_map(pl, &m, &hs, pass, passes, st, e);
		if (rc < 0)
			goto fail;
		if (rc == 1) {
			/* Too many keys for the map: twice as many passes,
			 * starting over from the original segments. */
			if (passes >= (1U << 20)) {
				mq_err_set(e, ENOMEM, "--memory is too small "
					   "for the keys of '%s'", pl->path);
				goto fail;
			}
			passes *= 2;
			cleanup(pl);
			for (size_t i = 0; i < pl->n; i++)
				pl->segs[i].changed = pl->segs[i].empty = false;
			*st = (struct mq_compact_stats){
				.deleted_segments = st->deleted_segments,
				.deleted_bytes = st->deleted_bytes,
				.deleted_messages = st->deleted_messages};
			goto again;
		}
		for (size_t i = 0; i < pl->n; i++)
			if (pl->segs[i].clean && !pl->segs[i].empty &&
			    rewrite(pl, &pl->segs[i], &m, &hs, pass, passes,
				    st, e) < 0)
				goto fail;
	}
	st->passes = passes;
	free(m.slots);
	free(hs.h);
	free(hs.mine);
	return 0;
fail:
	free(m.slots);
	free(hs.h);
	free(hs.mine);
	cleanup(pl);
	return -1;
}

/* Records in a segment, from its batch headers. */
static uint64_t
count_records(struct mq_cplan *pl, uint64_t base)
{
	char name[FNAME_MAX];
	int fd;
	struct stat st;
	uint64_t pos = 0, n = 0;

	fname(name, base, "log");
	fd = mq_openat(pl->pdir, name, O_RDONLY);
	if (fd < 0)
		return 0;
	if (fstat(fd, &st) == 0)
		while (pos + MQ_BATCH_HDR <= (uint64_t)st.st_size) {
			unsigned char hdr[MQ_BATCH_HDR];
			struct mq_batch_hdr h;
			if (mq_pread_full(fd, hdr, sizeof hdr, (off_t)pos) !=
			    sizeof hdr ||
			    mq_batch_hdr_decode(hdr, pl->t->cfg.max_message_bytes,
						&h) < 0)
				break;
			n += h.count;
			pos += h.length;
		}
	close(fd);
	return n;
}

void
mq_compact_release(struct mq_cplan *pl)
{
	if (!pl)
		return;
	if (pl->pdir >= 0)
		cleanup(pl);
	if (pl->cleanfd >= 0)
		close(pl->cleanfd);
	if (pl->pdir >= 0)
		close(pl->pdir);
	free(pl->segs);
	free(pl->path);
	free(pl);
}

/* A file's modification time in epoch milliseconds, saturated. */
static int64_t
mtime_ms(const struct stat *sb)
{
	int64_t sec = (int64_t)sb->st_mtim.tv_sec;

	if (sec > INT64_MAX / 1000 - 1)
		return INT64_MAX;
	if (sec < INT64_MIN / 1000 + 1)
		return INT64_MIN;
	return sec * 1000 + sb->st_mtim.tv_nsec / 1000000;
}

int
mq_compact_prepare(struct mq_topic *t, uint32_t p,
		   const struct mq_compact_opts *o, struct mq_cplan **plan,
		   struct mq_compact_stats *st, struct mq_err *e)
{
	struct mq_cplan *pl = calloc(1, sizeof *pl);
	const struct mq_config *c = &t->cfg;
	uint64_t *bases = NULL, total = 0;
	size_t n;
	int64_t now = o->now_ms, horizon = mq_ts_horizon(c, now);

	*plan = NULL;
	if (!pl)
		return mq_err_sys(e, "out of memory");
	pl->t = t;
	pl->partition = p;
	pl->o = o;
	pl->cleanfd = -1;
	pl->path = mq_topic_partition_path(t, p);
	pl->pdir = mq_topic_partition_dir(t, p, e);
	if (!pl->path || pl->pdir < 0)
		goto fail;
	pl->cleanfd = mq_openat(pl->pdir, "clean", O_RDWR | O_CREAT);
	if (pl->cleanfd < 0) {
		mq_err_sys(e, "cannot open '%s/clean'", pl->path);
		goto fail;
	}
	/* A producer checking for leftovers holds P/clean for a moment;
	 * another mq-compact holds it for its whole run.  Half a second
	 * tells them apart. */
	for (int tries = 0; flock(pl->cleanfd, LOCK_EX | LOCK_NB) < 0;
	     tries++) {
		if (errno != EWOULDBLOCK) {
			mq_err_sys(e, "cannot lock '%s/clean'", pl->path);
			goto fail;
		}
		if (tries == 50) {
			mq_err_set(e, EBUSY, "'%s' is being compacted by "
				   "another process", pl->path);
			goto fail;
		}
		nanosleep(&(struct timespec){0, 10 * 1000000L}, NULL);
	}
	if (!o->dry_run && mq_compact_recover(pl->pdir, pl->path, e) < 0)
		goto fail;
	if (mq_seg_list(pl->pdir, pl->path, &bases, &n, e) < 0)
		goto fail;
	pl->segs = calloc(n ? n : 1, sizeof *pl->segs);
	if (!pl->segs) {
		mq_err_sys(e, "out of memory");
		goto fail;
	}
	pl->n = n;
	for (size_t i = 0; i < n; i++) {
		struct seg *s = &pl->segs[i];
		struct stat sb;
		char name[FNAME_MAX];
		bool have_sb;
		s->base = bases[i];
		fname(name, s->base, "log");
		have_sb = fstatat(pl->pdir, name, &sb, AT_SYMLINK_NOFOLLOW) == 0;
		if (have_sb)
			s->size = (uint64_t)sb.st_size;
		total += s->size;
		if (i + 1 < n && mq_seg_max_ts(pl->pdir, s->base,
					       c->max_message_bytes, &s->max_ts,
					       e) < 0)
			goto fail;
		/* A newest timestamp later than the topic takes now (kept
		 * from before message.timestamp.after.max.ms, or planted)
		 * would keep the segment, and every one after it, for ever:
		 * such a segment is aged by when it was last written. */
		if (i + 1 < n && have_sb && s->max_ts > horizon)
			s->max_ts = mtime_ms(&sb);
	}
	free(bases);
	bases = NULL;

	/* Retention: a prefix of the sealed segments (never the newest). */
	if (c->cleanup_policy & MQ_POLICY_DELETE) {
		size_t k = 0;
		if (c->retention_ms >= 0)
			for (; k + 1 < n && pl->segs[k].max_ts <
					    now - c->retention_ms; k++)
				pl->segs[k].del = true;
		if (c->retention_bytes >= 0) {
			for (size_t i = 0; i < k; i++)
				total -= pl->segs[i].size;
			for (; k + 1 < n && total > (uint64_t)c->retention_bytes;
			     k++) {
				pl->segs[k].del = true;
				total -= pl->segs[k].size;
			}
		}
		for (size_t i = 0; i < n; i++)
			if (pl->segs[i].del) {
				st->deleted_segments++;
				st->deleted_bytes += pl->segs[i].size;
				st->deleted_messages += count_records(pl,
							pl->segs[i].base);
			}
	}
	/* Compaction: the sealed segments after those, up to the first one
	 * with messages newer than min.compaction.lag.ms. */
	if (c->cleanup_policy & MQ_POLICY_COMPACT) {
		for (size_t i = 0; i + 1 < n; i++) {
			if (pl->segs[i].del)
				continue;
			if (pl->segs[i].max_ts > now - c->min_compaction_lag_ms)
				break;
			pl->segs[i].clean = true;
		}
		if (compact(pl, st, e) < 0)
			goto fail;
		for (size_t i = 0; i < n; i++) {
			if (!pl->segs[i].changed)
				continue;
			st->cleaned_segments++;
			st->bytes_in += pl->segs[i].size;
			if (!o->dry_run && !pl->segs[i].empty) {
				char name[FNAME_MAX];
				struct stat sb;
				fname(name, pl->segs[i].base, "log.cleaned");
				if (fstatat(pl->pdir, name, &sb, 0) == 0)
					st->bytes_out += (uint64_t)sb.st_size;
			}
		}
	}
	*plan = pl;
	return 0;
fail:
	free(bases);
	mq_compact_release(pl);
	return -1;
}

bool
mq_compact_has_work(const struct mq_cplan *pl)
{
	for (size_t i = 0; i < pl->n; i++)
		if (pl->segs[i].del || pl->segs[i].changed)
			return true;
	return false;
}

/*
 * TOPIC.STAMP, or for a topic name over ARC_TOPIC_MAX characters its first
 * ARC_TOPIC_KEEP, '~' and 16 hex digits of the XXH3-64 of the whole name:
 * '~' is outside the topic alphabet, so a shortened name never equals
 * another topic's whole one.  With ".tmp." and ten digits of a process id
 * and the longest suffix (.tar.zst) the file name stays within 255 bytes
 * (NAME_MAX): 200 + 21 + 8 + 15 = 244.
 */
#define ARC_TOPIC_MAX 200
#define ARC_TOPIC_KEEP (ARC_TOPIC_MAX - 17)

void
mq_compact_archive_name(const char *topic, int64_t ms, char *buf,
			size_t cap)
{
	char stamp[40], *d = stamp;
	size_t n = strlen(topic);

	mq_time_format(ms, stamp, sizeof stamp);
	/* 2026-11-23T22:36:03.454Z -> 20261123T223603.454Z */
	for (const char *c = stamp; *c; c++)
		if (*c != '-' && *c != ':')
			*d++ = *c;
	*d = '\0';
	if (n <= ARC_TOPIC_MAX)
		snprintf(buf, cap, "%s.%s", topic, stamp);
	else
		snprintf(buf, cap, "%.*s~%016llx.%s", ARC_TOPIC_KEEP, topic,
			 (unsigned long long)XXH3_64bits(topic, n), stamp);
}

int
mq_compact_archive(struct mq_cplan *pl, struct mq_archive *a,
		   struct mq_err *e)
{
	static const char *const exts[] = {"log", "idx", "tix"};

	for (size_t i = 0; i < pl->n; i++) {
		if (!pl->segs[i].del && !pl->segs[i].changed)
			continue;
		for (int k = 0; k < 3; k++) {
			char name[FNAME_MAX], entry[600];
			fname(name, pl->segs[i].base, exts[k]);
			snprintf(entry, sizeof entry, "%s/%u/%s", pl->t->name,
				 pl->partition, name);
			if (mq_archive_add_file(a, pl->pdir, name, entry, e) < 0) {
				if (k > 0 && e->code == ENOENT)
					continue;   /* an index may be missing */
				return -1;
			}
		}
	}
	return 0;
}

int
mq_compact_apply(struct mq_cplan *pl, struct mq_err *e)
{
	static const char *const all[] = {"log", "idx", "tix", NULL};
	static const char *const cleaned[] = {"log.cleaned", "idx.cleaned",
					       "tix.cleaned", NULL};
	bool touched = false;

	if (pl->o->dry_run)
		return 0;
	/* Expired segments, oldest first; the log before its indexes. */
	for (size_t i = 0; i < pl->n; i++) {
		if (!pl->segs[i].del)
			continue;
		remove_files(pl, pl->segs[i].base, all);
		mq_failpoint("retention.deleted");
		touched = true;
	}
	for (size_t i = 0; i < pl->n; i++) {
		struct seg *s = &pl->segs[i];
		if (!s->changed)
			continue;
		touched = true;
		if (s->empty) {
			/* Nothing of it remains. */
			remove_files(pl, s->base, all);
			remove_files(pl, s->base, cleaned);
			mq_failpoint("compact.emptied");
			continue;
		}
		if (rename_in(pl, s->base, "idx.cleaned", "idx.swap", e) < 0)
			return -1;
		mq_failpoint("compact.swap.idx");
		if (rename_in(pl, s->base, "tix.cleaned", "tix.swap", e) < 0)
			return -1;
		mq_failpoint("compact.swap.tix");
		if (rename_in(pl, s->base, "log.cleaned", "log.swap", e) < 0)
			return -1;
		if (mq_fsync_dir(pl->pdir) < 0)
			return mq_err_sys(e, "cannot sync '%s'", pl->path);
		mq_failpoint("compact.swap.log");
		if (rename_in(pl, s->base, "idx.swap", "idx", e) < 0)
			return -1;
		mq_failpoint("compact.final.idx");
		if (rename_in(pl, s->base, "tix.swap", "tix", e) < 0)
			return -1;
		mq_failpoint("compact.final.tix");
		if (rename_in(pl, s->base, "log.swap", "log", e) < 0)
			return -1;
		mq_failpoint("compact.final.log");
	}
	pl->applied = true;
	if (touched && mq_fsync_dir(pl->pdir) < 0)
		return mq_err_sys(e, "cannot sync '%s'", pl->path);
	return 0;
}
