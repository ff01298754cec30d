/*
 * batch.c - the batch and record formats.  A batch is the unit of append,
 * of checksumming and of compression: a fixed 56-byte header followed by
 * the records, possibly compressed as one block.
 *
 *   0      4       8          16           24        28     32
 *   +------+-------+----------+------------+---------+------+
 *   |magic |length |checksum  |base_offset |last_dlt |count |
 *   +------+-------+----------+------------+---------+------+
 *   32         40        48       52    53    54    56
 *   +----------+---------+--------+-----+-----+-----+=========+
 *   |base_ts   |max_ts   |raw_len |codec|flags|rsvd | payload |
 *   +----------+---------+--------+-----+-----+-----+=========+
 *
 * The checksum is XXH3-64 of the header without its checksum field (bytes
 * 0-7 and 16-55), seeded with the XXH3-64 of the payload, so the payload
 * can be hashed before the writer takes the partition lock and only the
 * header (which gets the base offset under the lock) is hashed inside it.
 *
 * A record is varint-framed (see mq-spool(5)):
 *   len  [offset_delta]  zigzag(ts - base_ts)  klen+1|0  key  vlen+1|0  value
 *   nheaders  { nlen name vlen+1|0 value }...
 * A batch as a producer writes it is dense (flag MQ_BATCH_DENSE): record i
 * has offset base_offset + i and carries no offset delta.  Compaction
 * writes batches without the flag, whose records carry their offset delta,
 * so records can be dropped without renumbering the rest.
 */
#include <config.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "xxh.h"

#include "internal.h"
#include "mq.h"

#define BB_INITIAL (64 * 1024)

int
mq_batch_hdr_decode(const unsigned char *p, uint64_t limit,
		    struct mq_batch_hdr *h)
{
	if (mq_le32(p) != MQ_BATCH_MAGIC)
		return -1;
	h->length = mq_le32(p + 4);
	h->checksum = mq_le64(p + 8);
	h->base_offset = mq_le64(p + 16);
	h->last_delta = mq_le32(p + 24);
	h->count = mq_le32(p + 28);
	h->base_ts = (int64_t)mq_le64(p + 32);
	h->max_ts = (int64_t)mq_le64(p + 40);
	h->raw_len = mq_le32(p + 48);
	h->codec = p[52];
	h->flags = p[53];
	if (h->length < MQ_BATCH_HDR || h->length - MQ_BATCH_HDR > limit ||
	    h->raw_len > limit || h->codec >= MQ_CODEC_COUNT ||
	    (h->flags & ~MQ_BATCH_DENSE) ||
	    ((h->flags & MQ_BATCH_DENSE) &&
	     (uint64_t)h->count != (uint64_t)h->last_delta + 1) ||
	    p[54] || p[55] || h->count > (uint64_t)h->last_delta + 1 ||
	    h->count > h->raw_len ||
	    h->base_offset >= MQ_OFFSET_MAX - h->last_delta ||
	    (h->codec == MQ_CODEC_NONE &&
	     h->raw_len != h->length - MQ_BATCH_HDR))
		return -1;
	return 0;
}

static uint64_t
hdr_hash(const unsigned char *batch, uint64_t seed)
{
	unsigned char tmp[48];

	memcpy(tmp, batch, 8);
	memcpy(tmp + 8, batch + 16, 40);
	return XXH3_64bits_withSeed(tmp, sizeof tmp, seed);
}

uint64_t
mq_batch_checksum(const unsigned char *batch, size_t len)
{
	return hdr_hash(batch, XXH3_64bits(batch + MQ_BATCH_HDR,
					   len - MQ_BATCH_HDR));
}

void
mq_rec_iter_init(struct mq_rec_iter *it, const struct mq_batch_hdr *h,
		 const unsigned char *payload, size_t len)
{
	it->p = payload;
	it->end = payload + len;
	it->base = h->base_offset;
	it->base_ts = h->base_ts;
	it->left = h->count;
	it->last_offset = h->base_offset + h->last_delta;
	it->min_off = h->base_offset;
	it->dense = (h->flags & MQ_BATCH_DENSE) != 0;
}

int
mq_header_next(const unsigned char **p, const unsigned char *end,
	       struct mq_header *h)
{
	uint64_t nlen;
	const unsigned char *v;
	size_t vlen;

	if (*p == end)
		return 1;
	if (mq_get_uvarint(p, end, &nlen) < 0 ||
	    nlen > (uint64_t)(end - *p))
		return -1;
	h->name = (const char *)*p;
	h->nlen = (size_t)nlen;
	*p += nlen;
	if (mq_get_bytes(p, end, &v, &vlen) < 0)
		return -1;
	h->value = (const char *)v;
	h->vlen = v ? (ssize_t)vlen : -1;
	return 0;
}

/* Checks the headers of a record that has some (the iterator's slow part). */
int
mq_rec_check_headers(const unsigned char *p, const unsigned char *end,
		     uint64_t n)
{
	struct mq_header h;

	for (uint64_t i = 0; i < n; i++)
		if (mq_header_next(&p, end, &h) != 0)
			return -1;
	return p == end ? 0 : -1;
}

void
mq_bb_init(struct mq_bb *b)
{
	memset(b, 0, sizeof *b);
	b->len = MQ_BATCH_HDR;
}

void
mq_bb_free(struct mq_bb *b)
{
	bool sparse = b->sparse;

	free(b->buf);
	free(b->zbuf);
	mq_bb_init(b);
	b->sparse = sparse;
}

void
mq_bb_reset(struct mq_bb *b)
{
	b->len = MQ_BATCH_HDR;
	b->count = 0;
	b->out = NULL;
	b->outlen = 0;
}

static size_t
body_size(const struct mq_bb *b, int64_t ts, size_t klen, size_t vlen,
	  size_t hlen, uint32_t nheaders)
{
	int64_t base_ts = b->count ? b->base_ts : ts;

	return (b->sparse ? mq_uvarint_size(b->pending_delta) : 0) +
	       mq_uvarint_size(mq_zigzag((int64_t)((uint64_t)ts -
						   (uint64_t)base_ts))) +
	       mq_uvarint_size((uint64_t)klen + 1) + klen +
	       mq_uvarint_size((uint64_t)vlen + 1) + vlen +
	       mq_uvarint_size(nheaders) + hlen;
}

size_t
mq_bb_record_size(const struct mq_bb *b, int64_t ts, size_t klen,
		  size_t vlen, size_t hlen, uint32_t nheaders)
{
	size_t n = body_size(b, ts, klen, vlen, hlen, nheaders);
	return mq_uvarint_size(n) + n;
}

static int
encode(struct mq_bb *b, size_t body, int64_t ts, const void *key,
       size_t klen, const void *value, size_t vlen, const unsigned char *hdrs,
       size_t hlen, uint32_t nheaders)
{
	size_t need = b->len + mq_uvarint_size(body) + body;
	unsigned char *p;

	if (need > b->cap) {
		size_t cap = b->cap ? b->cap : BB_INITIAL;
		while (cap < need)
			cap *= 2;
		p = realloc(b->buf, cap);
		if (!p)
			return -1;
		b->buf = p;
		b->cap = cap;
	}
	if (b->count == 0) {
		b->base_ts = ts;
		b->max_ts = ts;
	} else if (ts > b->max_ts) {
		b->max_ts = ts;
	}
	p = b->buf + b->len;
	p += mq_put_uvarint(p, body);
	if (b->sparse)
		p += mq_put_uvarint(p, b->pending_delta);
	p += mq_put_uvarint(p, mq_zigzag((int64_t)((uint64_t)ts -
						   (uint64_t)b->base_ts)));
	if (key) {
		p += mq_put_uvarint(p, (uint64_t)klen + 1);
		memcpy(p, key, klen);
		p += klen;
	} else {
		*p++ = 0;
	}
	if (value) {
		p += mq_put_uvarint(p, (uint64_t)vlen + 1);
		memcpy(p, value, vlen);
		p += vlen;
	} else {
		*p++ = 0;
	}
	p += mq_put_uvarint(p, nheaders);
	if (hlen)
		memcpy(p, hdrs, hlen);
	b->len = need;
	b->count++;
	return 0;
}

int
mq_bb_add(struct mq_bb *b, int64_t ts, const void *key, size_t klen,
	  const void *value, size_t vlen, const unsigned char *hdrs,
	  size_t hlen, uint32_t nheaders)
{
	return encode(b, body_size(b, ts, klen, vlen, hlen, nheaders), ts, key,
		      klen, value, vlen, hdrs, hlen, nheaders);
}

int
mq_bb_add_at(struct mq_bb *b, uint64_t offset, int64_t ts, const void *key,
	     size_t klen, const void *value, size_t vlen,
	     const unsigned char *hdrs, size_t hlen, uint32_t nheaders)
{
	if (b->count == 0)
		b->first_offset = offset;
	else if (offset <= b->last_offset)
		return errno = EINVAL, -1;
	b->pending_delta = offset - b->first_offset;
	if (mq_bb_add(b, ts, key, klen, value, vlen, hdrs, hlen,
		      nheaders) < 0)
		return -1;
	b->last_offset = offset;
	return 0;
}

int
mq_bb_try_add(struct mq_bb *b, size_t limit, size_t max, int64_t ts,
	      const void *key, size_t klen, const void *value, size_t vlen,
	      const unsigned char *hdrs, size_t hlen, uint32_t nheaders,
	      size_t *size)
{
	size_t body = body_size(b, ts, klen, vlen, hlen, nheaders);
	size_t n = mq_uvarint_size(body) + body;

	*size = n;
	if (n > max) {
		/* Its size alone in a batch (timestamp delta 0) decides. */
		static const struct mq_bb empty = {.len = MQ_BATCH_HDR};
		size_t alone = mq_bb_record_size(&empty, 0, klen, vlen, hlen,
						 nheaders);
		if (alone > max) {
			*size = alone;
			errno = EMSGSIZE;
			return -1;
		}
	}
	if (b->count && b->len - MQ_BATCH_HDR + n > limit)
		return 1;
	if (encode(b, body, ts, key, klen, value, vlen, hdrs, hlen,
		   nheaders) < 0) {
		errno = ENOMEM;
		return -1;
	}
	return 0;
}

int
mq_headers_encode(const struct mq_header *h, size_t n, unsigned char **out,
		  size_t *len)
{
	size_t size = 0;
	unsigned char *buf, *p;

	for (size_t i = 0; i < n; i++)
		size += mq_uvarint_size(h[i].nlen) + h[i].nlen +
			mq_uvarint_size(h[i].vlen < 0 ? 0 :
					(uint64_t)h[i].vlen + 1) +
			(h[i].vlen < 0 ? 0 : (size_t)h[i].vlen);
	p = buf = malloc(size ? size : 1);
	if (!buf)
		return -1;
	for (size_t i = 0; i < n; i++) {
		p += mq_put_uvarint(p, h[i].nlen);
		memcpy(p, h[i].name, h[i].nlen);
		p += h[i].nlen;
		if (h[i].vlen < 0) {
			*p++ = 0;
		} else {
			p += mq_put_uvarint(p, (uint64_t)h[i].vlen + 1);
			memcpy(p, h[i].value, (size_t)h[i].vlen);
			p += h[i].vlen;
		}
	}
	*out = buf;
	*len = size;
	return 0;
}

int
mq_bb_seal(struct mq_bb *b, int codec, struct mq_codec *cz, struct mq_err *e)
{
	size_t raw = b->len - MQ_BATCH_HDR, zlen = 0;
	unsigned char *h;

	b->out = b->buf;
	b->outlen = b->len;
	if (codec != MQ_CODEC_NONE && raw > 64) {
		if (b->zcap < b->len) {
			unsigned char *z = realloc(b->zbuf, b->cap);
			if (!z)
				return mq_err_sys(e, "cannot compress batch");
			b->zbuf = z;
			b->zcap = b->cap;
		}
		int r = mq_codec_compress(cz, codec, b->buf + MQ_BATCH_HDR, raw,
					  b->zbuf + MQ_BATCH_HDR, raw - 1,
					  &zlen, e);
		if (r < 0)
			return -1;
		if (r == 0) {
			b->out = b->zbuf;
			b->outlen = MQ_BATCH_HDR + zlen;
		} else {
			codec = MQ_CODEC_NONE;
		}
	} else {
		codec = MQ_CODEC_NONE;
	}
	h = b->out;
	mq_put32(h, MQ_BATCH_MAGIC);
	mq_put32(h + 4, (uint32_t)b->outlen);
	mq_put64(h + 8, 0);
	mq_put64(h + 16, 0);
	mq_put32(h + 24, b->sparse ? (uint32_t)(b->last_offset - b->first_offset)
				   : b->count - 1);
	mq_put32(h + 28, b->count);
	mq_put64(h + 32, (uint64_t)b->base_ts);
	mq_put64(h + 40, (uint64_t)b->max_ts);
	mq_put32(h + 48, (uint32_t)raw);
	h[52] = (unsigned char)codec;
	h[53] = b->sparse ? 0 : MQ_BATCH_DENSE;
	h[54] = h[55] = 0;
	b->payload_hash = XXH3_64bits(h + MQ_BATCH_HDR,
				      b->outlen - MQ_BATCH_HDR);
	return 0;
}

void
mq_bb_stamp(struct mq_bb *b, uint64_t base_offset)
{
	mq_put64(b->out + 16, base_offset);
	mq_put64(b->out + 8, hdr_hash(b->out, b->payload_hash));
}
