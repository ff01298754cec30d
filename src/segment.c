/*
 * segment.c - segment files and their indexes.  A partition directory holds
 * segments named by their 20-digit base offset: NNN.log (batches back to
 * back), NNN.idx (offset index) and NNN.tix (time index).  The two indexes
 * are written together every MQ_INDEX_INTERVAL bytes of log, so entry i of
 * each describes the same batch:
 *
 *   .idx entry (8 bytes):  rel_offset u32 | position u32
 *   .tix entry (16 bytes): max_ts i64 | rel_offset u32 | position u32
 *
 * rel_offset is the batch's base offset minus the segment's; max_ts is the
 * largest timestamp in the segment up to and including that batch, so it
 * never decreases and can be searched.  Indexes are hints: a reader checks
 * that the batch at an entry's position has the entry's offset and falls
 * back to the start of the segment if not; writers rebuild them from the
 * log after a crash.
 */
#include <config.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "internal.h"
#include "mq.h"

void
mq_seg_name(char *buf, uint64_t base, const char *ext)
{
	snprintf(buf, MQ_SEGNAME_MAX, "%020llu.%s", (unsigned long long)base,
		 ext);
}

static int
cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

int
mq_seg_list(int pdir, const char *where, uint64_t **bases, size_t *n,
	    struct mq_err *e)
{
	int fd = openat(pdir, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *d;
	struct dirent *de;
	uint64_t *v = NULL;
	size_t len = 0, cap = 0;

	if (fd < 0 || !(d = fdopendir(fd))) {
		if (fd >= 0)
			close(fd);
		return mq_err_sys(e, "cannot list segments in '%s'", where);
	}
	while ((errno = 0, de = readdir(d))) {
		char digits[21];
		uint64_t b;
		if (strlen(de->d_name) != 24 ||
		    strcmp(de->d_name + 20, ".log") != 0 ||
		    strspn(de->d_name, "0123456789") != 20)
			continue;
		memcpy(digits, de->d_name, 20);
		digits[20] = '\0';
		/* Offsets are signed 64-bit (Kafka's): a base at or past
		 * the limit would make the offsets after it wrap or turn
		 * negative.  Such a name is damage, not a segment to skip:
		 * skipping it would hide what it holds. */
		if (mq_parse_u64(digits, 0, MQ_OFFSET_MAX - 1, &b) < 0) {
			mq_err_set(e, EBADMSG, "corrupt segment name '%s/%s': "
				   "offsets end at %llu", where, de->d_name,
				   (unsigned long long)MQ_OFFSET_MAX);
			closedir(d);
			free(v);
			return -1;
		}
		if (len == cap) {
			cap = cap ? cap * 2 : 16;
			uint64_t *nv = realloc(v, cap * sizeof *v);
			if (!nv) {
				closedir(d);
				free(v);
				return mq_err_sys(e, "out of memory");
			}
			v = nv;
		}
		v[len++] = b;
	}
	if (errno) {
		mq_err_sys(e, "cannot list segments in '%s'", where);
		closedir(d);
		free(v);
		return -1;
	}
	closedir(d);
	if (len)
		qsort(v, len, sizeof *v, cmp_u64);
	*bases = v;
	*n = len;
	return 0;
}

void
mq_idx_encode(unsigned char *p, const struct mq_idx_entry *x)
{
	mq_put32(p, x->rel);
	mq_put32(p + 4, x->pos);
}

void
mq_tix_encode(unsigned char *p, const struct mq_tix_entry *x)
{
	mq_put64(p, (uint64_t)x->ts);
	mq_put32(p + 8, x->rel);
	mq_put32(p + 12, x->pos);
}

static int64_t
entries(int fd, size_t size)
{
	struct stat st;

	if (fstat(fd, &st) < 0)
		return -1;
	return st.st_size / (off_t)size;
}

int
mq_idx_read(int fd, uint64_t i, struct mq_idx_entry *out)
{
	unsigned char p[MQ_IDX_SIZE];

	if (mq_pread_full(fd, p, sizeof p, (off_t)(i * MQ_IDX_SIZE)) !=
	    (ssize_t)sizeof p)
		return -1;
	out->rel = mq_le32(p);
	out->pos = mq_le32(p + 4);
	return 0;
}

int
mq_tix_read(int fd, uint64_t i, struct mq_tix_entry *out)
{
	unsigned char p[MQ_TIX_SIZE];

	if (mq_pread_full(fd, p, sizeof p, (off_t)(i * MQ_TIX_SIZE)) !=
	    (ssize_t)sizeof p)
		return -1;
	out->ts = (int64_t)mq_le64(p);
	out->rel = mq_le32(p + 8);
	out->pos = mq_le32(p + 12);
	return 0;
}

int
mq_idx_lookup(int fd, uint32_t rel, struct mq_idx_entry *out)
{
	int64_t lo = 0, hi = entries(fd, MQ_IDX_SIZE) - 1, found = -1;
	struct mq_idx_entry x;

	while (lo <= hi) {
		int64_t mid = lo + (hi - lo) / 2;
		if (mq_idx_read(fd, (uint64_t)mid, &x) < 0)
			return -1;
		if (x.rel <= rel) {
			found = mid;
			*out = x;
			lo = mid + 1;
		} else {
			hi = mid - 1;
		}
	}
	return found < 0 ? 1 : 0;
}

int
mq_tix_lookup(int fd, int64_t ts, struct mq_tix_entry *out)
{
	int64_t lo = 0, hi = entries(fd, MQ_TIX_SIZE) - 1, found = -1;
	struct mq_tix_entry x;

	while (lo <= hi) {
		int64_t mid = lo + (hi - lo) / 2;
		if (mq_tix_read(fd, (uint64_t)mid, &x) < 0)
			return -1;
		if (x.ts < ts) {
			found = mid;
			*out = x;
			lo = mid + 1;
		} else {
			hi = mid - 1;
		}
	}
	return found < 0 ? 1 : 0;
}

static int
grow(unsigned char **buf, size_t *cap, size_t need)
{
	if (*cap >= need)
		return 0;
	size_t c = *cap ? *cap : 64 * 1024;
	while (c < need)
		c *= 2;
	unsigned char *p = realloc(*buf, c);
	if (!p)
		return -1;
	*buf = p;
	*cap = c;
	return 0;
}

int
mq_seg_scan(int fd, uint64_t base, uint64_t pos, uint64_t limit,
	    unsigned char **scratch, size_t *scratch_cap, struct mq_scan *s,
	    struct mq_err *e)
{
	struct stat st;
	uint64_t size;
	struct mq_batch_hdr h;

	if (fstat(fd, &st) < 0)
		return mq_err_sys(e, "cannot stat segment");
	size = (uint64_t)st.st_size;
	s->end_pos = pos;
	s->next_offset = base;
	s->max_ts = INT64_MIN;
	s->batches = 0;
	s->last_pos = UINT64_MAX;
	s->stopped_invalid = false;
	while (pos < size) {
		ssize_t r;
		if (size - pos < MQ_BATCH_HDR)
			goto invalid;
		if (grow(scratch, scratch_cap, MQ_BATCH_HDR) < 0)
			return mq_err_sys(e, "out of memory");
		r = mq_pread_full(fd, *scratch, MQ_BATCH_HDR, (off_t)pos);
		if (r < 0)
			return mq_err_sys(e, "cannot read segment");
		if (r < MQ_BATCH_HDR ||
		    mq_batch_hdr_decode(*scratch, limit, &h) < 0 ||
		    h.length > size - pos || h.base_offset < s->next_offset)
			goto invalid;
		if (grow(scratch, scratch_cap, h.length) < 0)
			return mq_err_sys(e, "out of memory");
		r = mq_pread_full(fd, *scratch, h.length, (off_t)pos);
		if (r < 0)
			return mq_err_sys(e, "cannot read segment");
		if ((size_t)r < h.length ||
		    mq_batch_checksum(*scratch, h.length) != h.checksum)
			goto invalid;
		s->last_pos = pos;
		pos += h.length;
		s->end_pos = pos;
		s->next_offset = h.base_offset + h.last_delta + 1;
		if (h.max_ts > s->max_ts)
			s->max_ts = h.max_ts;
		s->batches++;
	}
	return 0;
invalid:
	s->stopped_invalid = true;
	return 0;
}

int
mq_seg_zeros_from(int fd, uint64_t pos, uint64_t size)
{
	unsigned char buf[4096];

	while (pos < size) {
		size_t want = size - pos > sizeof buf ? sizeof buf
						      : (size_t)(size - pos);
		ssize_t n = pread(fd, buf, want, (off_t)pos);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		if (n == 0)
			break;
		for (ssize_t i = 0; i < n; i++)
			if (buf[i])
				return 0;
		pos += (uint64_t)n;
	}
	return 1;
}

int
mq_seg_committed(int fd, uint64_t base, uint64_t pos, const struct mq_head *h)
{
	struct stat st;
	int z;

	if (!h || h->seg_base != base || pos >= h->end_pos ||
	    fstat(fd, &st) != 0 || (uint64_t)st.st_size < h->end_pos)
		return 0;
	/* Zeros to the end of the file are what a power loss leaves of
	 * writes the head (never synced) already counted: the writer's
	 * recovery takes them for a torn tail, and so do readers. */
	z = mq_seg_zeros_from(fd, pos, (uint64_t)st.st_size);
	return z < 0 ? -1 : !z;
}
