/*
 * test-batch.c - the batch and record formats (batch.c) and batch
 * compression (codec.c): building batches with mq_bb, decoding them back,
 * and refusing every kind of malformed header, payload or compressed block
 * without reading out of bounds (the suite also runs under ASan, so every
 * buffer handed to a decoder here is a heap block of exactly its size).
 */
#include <config.h>

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "mq.h"
#include "tap.h"

#define LIMIT (1u << 20)

static uint64_t rng = 0x9e3779b97f4a7c15ULL;

static uint64_t
rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

/* A heap copy of exactly n bytes, so ASan sees any read past the end. */
static unsigned char *
dup_exact(const void *p, size_t n)
{
	unsigned char *q = malloc(n ? n : 1);

	if (!q) {
		perror("malloc");
		exit(99);
	}
	if (n)
		memcpy(q, p, n);
	return q;
}

/* ---- round trip ---- */

struct trec {
	int64_t ts;
	const char *key;         /* NULL: null key */
	size_t klen;
	const char *value;       /* NULL: null value */
	size_t vlen;
	size_t nh;
	struct mq_header h[3];
};

static char bigval[20000];

static struct trec recs[] = {
	{1000000, NULL, 0, "value-0", 7, 0, {{0}}},
	{1000005, "", 0, "", 0, 1, {{"h1", 2, "x", 1}}},
	{999990, "k2", 2, NULL, 0, 2,
	 {{"a", 1, "1", 1}, {"null-h", 6, NULL, -1}}},
	{2000000, "key\0three", 9, "v3", 2, 3,
	 {{"", 0, "empty-name", 10}, {"x", 1, "", 0}, {"y", 1, NULL, -1}}},
	{1, "k4", 2, bigval, sizeof bigval, 0, {{0}}},
	{1000000, "k5", 2, "v5", 2, 1, {{"big", 3, bigval, 300}}},
};
#define NRECS (sizeof recs / sizeof recs[0])

static int
same_bytes(const unsigned char *p, size_t n, const char *want, size_t wn)
{
	if (!want)
		return p == NULL && n == 0;
	return p != NULL && n == wn && (wn == 0 || memcmp(p, want, wn) == 0);
}

/* Does record r (delivered at offset off) match t, headers included? */
static int
rec_matches(const struct mq_record *r, const struct trec *t, uint64_t off)
{
	const unsigned char *p = r->headers, *end = r->headers + r->hlen;
	struct mq_header h;
	size_t i;

	if (r->offset != off || r->ts != t->ts ||
	    !same_bytes(r->key, r->klen, t->key, t->klen) ||
	    !same_bytes(r->value, r->vlen, t->value, t->vlen) ||
	    r->nheaders != t->nh)
		return 0;
	for (i = 0; i < t->nh; i++) {
		if (mq_header_next(&p, end, &h) != 0 || h.nlen != t->h[i].nlen ||
		    memcmp(h.name, t->h[i].name, h.nlen) != 0 ||
		    h.vlen != t->h[i].vlen)
			return 0;
		if (h.vlen < 0 ? h.value != NULL :
		    (h.value == NULL ||
		     memcmp(h.value, t->h[i].value, (size_t)h.vlen) != 0))
			return 0;
	}
	return mq_header_next(&p, end, &h) == 1;
}

static int
add_trec(struct mq_bb *b, const struct trec *t, size_t *added,
	 size_t *predicted)
{
	unsigned char *hdrs = NULL;
	size_t hlen = 0, before = b->len;
	int rc;

	*added = *predicted = 0;
	if (mq_headers_encode(t->h, t->nh, &hdrs, &hlen) < 0)
		return -1;
	*predicted = mq_bb_record_size(b, t->ts, t->klen, t->vlen, hlen,
				       (uint32_t)t->nh);
	rc = mq_bb_add(b, t->ts, t->key, t->klen, t->value, t->vlen, hdrs,
		       hlen, (uint32_t)t->nh);
	*added = b->len - before;
	free(hdrs);
	return rc;
}

static void
test_round_trip(void)
{
	struct mq_bb b;
	struct mq_batch_hdr h;
	struct mq_rec_iter it;
	struct mq_record r;
	struct mq_err e = {0};
	size_t i, added, predicted;
	int sizes_ok = 1, rc;
	unsigned char *copy;

	for (i = 0; i < sizeof bigval; i++)
		bigval[i] = (char)('a' + i % 26);
	mq_bb_init(&b);
	ok(b.len == MQ_BATCH_HDR && b.count == 0,
	   "a new batch holds only its reserved header");
	for (i = 0; i < NRECS; i++) {
		rc = add_trec(&b, &recs[i], &added, &predicted);
		ok(rc == 0 && added == predicted,
		   "record %zu: mq_bb_record_size %zu == bytes added %zu", i,
		   predicted, added);
		sizes_ok &= added == predicted;
	}
	ok(b.count == NRECS, "the batch counts %zu records", (size_t)NRECS);
	rc = mq_bb_seal(&b, MQ_CODEC_NONE, NULL, &e);
	ok(rc == 0 && b.out == b.buf && b.outlen == b.len,
	   "sealing without compression keeps the buffer as is");
	mq_bb_stamp(&b, 1000);

	copy = dup_exact(b.out, b.outlen);
	rc = mq_batch_hdr_decode(copy, LIMIT, &h);
	ok(rc == 0, "the sealed batch's header decodes");
	ok(h.length == b.outlen, "header length is the batch size (%u)",
	   h.length);
	ok(h.count == NRECS, "header count is %u", h.count);
	ok(h.last_delta == NRECS - 1, "header last_delta is %u", h.last_delta);
	ok(h.base_offset == 1000, "header base_offset is the stamped 1000");
	ok(h.base_ts == 1000000, "header base_ts is the first record's ts");
	ok(h.max_ts == 2000000, "header max_ts is the largest ts (%lld)",
	   (long long)h.max_ts);
	ok(h.raw_len == b.len - MQ_BATCH_HDR, "header raw_len is the payload "
	   "size (%u)", h.raw_len);
	ok(h.codec == MQ_CODEC_NONE, "header codec is none");
	ok(h.flags == MQ_BATCH_DENSE, "a built batch is dense (flags %u)",
	   h.flags);
	ok(mq_le32(copy) == MQ_BATCH_MAGIC && copy[54] == 0 && copy[55] == 0,
	   "the batch starts with the magic and has zero reserved bytes");
	ok(h.checksum == mq_batch_checksum(copy, h.length),
	   "header checksum matches mq_batch_checksum");

	mq_rec_iter_init(&it, &h, copy + MQ_BATCH_HDR, h.raw_len);
	for (i = 0; i < NRECS; i++) {
		rc = mq_rec_iter_next(&it, &r);
		ok(rc == 0 && rec_matches(&r, &recs[i], 1000 + i),
		   "record %zu decodes at offset %zu with its ts, key, value "
		   "and %zu headers", i, 1000 + i, recs[i].nh);
	}
	ok(mq_rec_iter_next(&it, &r) == 1, "the iterator ends after %zu "
	   "records", (size_t)NRECS);
	ok(mq_rec_iter_next(&it, &r) == 1, "and stays at the end");

	/* A new base offset means a new checksum, and both are valid. */
	{
		uint64_t c1 = h.checksum;
		mq_bb_stamp(&b, 77);
		memcpy(copy, b.out, b.outlen);
		ok(mq_batch_hdr_decode(copy, LIMIT, &h) == 0 &&
		   h.base_offset == 77 && h.checksum != c1 &&
		   h.checksum == mq_batch_checksum(copy, h.length),
		   "restamping sets a new base offset and a matching checksum");
	}
	free(copy);

	/* Reset and reuse; one record with an empty batch's size. */
	mq_bb_reset(&b);
	ok(b.len == MQ_BATCH_HDR && b.count == 0 && b.out == NULL,
	   "reset empties the batch");
	{
		size_t want = mq_bb_record_size(&b, 5, 3, 4, 0, 0);
		mq_bb_add(&b, 5, "abc", 3, "defg", 4, NULL, 0, 0);
		/* len, ts delta, klen+1, key, vlen+1, value, nheaders: a
		 * dense batch stores no offset delta. */
		ok(b.len - MQ_BATCH_HDR == want && want == 1 + 1 + 1 + 3 +
		   1 + 4 + 1,
		   "a lone 3-byte-key 4-byte-value record takes %zu bytes",
		   want);
	}
	/* Many records: offsets and record sizes beyond one-byte varints. */
	for (i = 1; i < 300; i++) {
		char key[16];
		int kl = snprintf(key, sizeof key, "k%zu", i);
		size_t want = mq_bb_record_size(&b, 5 + (int64_t)i * 1000,
						(size_t)kl, i * 7, 0, 0);
		size_t before = b.len;
		mq_bb_add(&b, 5 + (int64_t)i * 1000, key, (size_t)kl, bigval,
			  i * 7, NULL, 0, 0);
		sizes_ok &= b.len - before == want;
	}
	ok(sizes_ok, "mq_bb_record_size matched every mq_bb_add");
	mq_bb_seal(&b, MQ_CODEC_NONE, NULL, &e);
	mq_bb_stamp(&b, (uint64_t)1 << 40);
	copy = dup_exact(b.out, b.outlen);
	{
		int good = mq_batch_hdr_decode(copy, LIMIT, &h) == 0 &&
			   h.count == 300 && h.last_delta == 299 &&
			   h.checksum == mq_batch_checksum(copy, h.length);
		uint64_t n = 0;
		mq_rec_iter_init(&it, &h, copy + MQ_BATCH_HDR, h.raw_len);
		while (good && (rc = mq_rec_iter_next(&it, &r)) == 0) {
			char key[16];
			int kl = snprintf(key, sizeof key, "k%llu",
					  (unsigned long long)n);
			good = r.offset == ((uint64_t)1 << 40) + n &&
			       r.ts == 5 + (int64_t)n * 1000 &&
			       (n == 0 ? r.klen == 3 :
				same_bytes(r.key, r.klen, key, (size_t)kl)) &&
			       (n == 0 ? r.vlen == 4 :
				same_bytes(r.value, r.vlen, bigval, n * 7));
			n++;
		}
		ok(good && rc == 1 && n == 300, "a 300-record batch round-trips "
		   "at offsets 2^40.. (%llu records)", (unsigned long long)n);
	}
	free(copy);
	mq_bb_free(&b);
}

/* ---- compression ---- */

/* Decodes a sealed batch (any codec) and counts its valid records. */
static int
decode_count(const unsigned char *batch, size_t len, struct mq_codec *cz,
	     uint64_t *n)
{
	struct mq_batch_hdr h;
	struct mq_rec_iter it;
	struct mq_record r;
	struct mq_err e;
	unsigned char *raw = NULL;
	int rc;

	*n = 0;
	if (mq_batch_hdr_decode(batch, LIMIT, &h) < 0 || h.length != len ||
	    mq_batch_checksum(batch, len) != h.checksum)
		return -1;
	if (h.codec != MQ_CODEC_NONE) {
		raw = malloc(h.raw_len);
		if (mq_codec_decompress(cz, h.codec, batch + MQ_BATCH_HDR,
					len - MQ_BATCH_HDR, raw, h.raw_len,
					&e) < 0) {
			free(raw);
			return -1;
		}
		mq_rec_iter_init(&it, &h, raw, h.raw_len);
	} else {
		mq_rec_iter_init(&it, &h, batch + MQ_BATCH_HDR, h.raw_len);
	}
	while ((rc = mq_rec_iter_next(&it, &r)) == 0)
		(*n)++;
	free(raw);
	return rc == 1 ? 0 : -1;
}

static void
test_zlib(void)
{
	struct mq_codec *cz = mq_codec_new();
	struct mq_bb b;
	struct mq_batch_hdr h;
	struct mq_err e = {0};
	unsigned char *copy, *raw;
	uint64_t n;
	int rc;
	static const char text[] = "the quick brown fox jumps over the lazy "
				   "dog; the quick brown fox jumps again";

	ok(cz != NULL, "mq_codec_new gives a codec");
	mq_bb_init(&b);
	for (int i = 0; i < 200; i++)
		mq_bb_add(&b, 1000 + i, "key", 3, text, sizeof text - 1, NULL,
			  0, 0);
	rc = mq_bb_seal(&b, MQ_CODEC_ZLIB, cz, &e);
	mq_bb_stamp(&b, 5);
	ok(rc == 0 && b.out != b.buf && b.outlen < b.len / 4,
	   "a compressible batch is compressed (%zu -> %zu bytes)", b.len,
	   b.outlen);
	copy = dup_exact(b.out, b.outlen);
	rc = mq_batch_hdr_decode(copy, LIMIT, &h);
	ok(rc == 0 && h.codec == MQ_CODEC_ZLIB, "its header says codec 1");
	ok(h.length == b.outlen && h.raw_len == b.len - MQ_BATCH_HDR &&
	   h.count == 200 && h.base_offset == 5 && h.max_ts == 1199,
	   "its header has the compressed length and the raw length");
	ok(h.checksum == mq_batch_checksum(copy, h.length),
	   "its checksum covers the compressed bytes");
	raw = malloc(h.raw_len);
	rc = mq_codec_decompress(cz, MQ_CODEC_ZLIB, copy + MQ_BATCH_HDR,
				 h.length - MQ_BATCH_HDR, raw, h.raw_len, &e);
	ok(rc == 0 && memcmp(raw, b.buf + MQ_BATCH_HDR, h.raw_len) == 0,
	   "it decompresses to the identical raw payload");
	free(raw);
	ok(decode_count(copy, b.outlen, cz, &n) == 0 && n == 200,
	   "all 200 records decode from the compressed batch");
	free(copy);

	/* The same mq_bb, reused for a batch larger than its first buffer. */
	mq_bb_reset(&b);
	for (int i = 0; i < 3000; i++)
		mq_bb_add(&b, 1000 + i, NULL, 0, text, sizeof text - 1, NULL,
			  0, 0);
	rc = mq_bb_seal(&b, MQ_CODEC_ZLIB, cz, &e);
	mq_bb_stamp(&b, 9);
	copy = dup_exact(b.out, b.outlen);
	ok(rc == 0 && b.len > 64 * 1024 && b.outlen < b.len / 4 &&
	   copy[52] == MQ_CODEC_ZLIB && decode_count(copy, b.outlen, cz, &n)
	   == 0 && n == 3000,
	   "a reused batch grown past 64 KiB compresses and round-trips");
	free(copy);

	/* Random bytes do not compress: stored raw. */
	mq_bb_reset(&b);
	{
		unsigned char v[4000];
		for (size_t i = 0; i < sizeof v; i++)
			v[i] = (unsigned char)rnd();
		mq_bb_add(&b, 1, "r", 1, v, sizeof v, NULL, 0, 0);
	}
	rc = mq_bb_seal(&b, MQ_CODEC_ZLIB, cz, &e);
	mq_bb_stamp(&b, 0);
	copy = dup_exact(b.out, b.outlen);
	ok(rc == 0 && b.out == b.buf && b.outlen == b.len &&
	   copy[52] == MQ_CODEC_NONE,
	   "an incompressible payload is stored with codec 0");
	ok(decode_count(copy, b.outlen, cz, &n) == 0 && n == 1,
	   "and decodes as a plain batch");
	free(copy);

	/* Tiny payloads are not worth compressing. */
	mq_bb_reset(&b);
	mq_bb_add(&b, 1, "k", 1, "aaaaaaaaaaaaaaaaaaaa", 20, NULL, 0, 0);
	rc = mq_bb_seal(&b, MQ_CODEC_ZLIB, cz, &e);
	ok(rc == 0 && b.out == b.buf && b.out[52] == MQ_CODEC_NONE,
	   "a payload of at most 64 bytes is stored with codec 0");
	mq_bb_free(&b);
	mq_codec_free(cz);
}

/* ---- checksum ---- */

static int
flip_detected(const unsigned char *orig, size_t len, size_t bit)
{
	unsigned char *p = dup_exact(orig, len);
	struct mq_batch_hdr h;
	int detected;

	p[bit / 8] ^= (unsigned char)(1u << (bit % 8));
	if (mq_batch_hdr_decode(p, LIMIT, &h) < 0)
		detected = 1;
	else if (h.length > len)
		detected = 1;    /* a reader would see an incomplete batch */
	else
		detected = mq_batch_checksum(p, h.length) != h.checksum;
	free(p);
	return detected;
}

static void
test_checksum(void)
{
	struct mq_bb b;
	struct mq_err e;
	struct mq_codec *cz = mq_codec_new();
	size_t missed = 0, first = 0, bits;
	unsigned char hb[8] = {1, 2, 3, 4, 5, 6, 7, 8};
	struct mq_header hd = {"hdr", 3, (const char *)hb, 8};
	unsigned char *hdrs;
	size_t hlen;

	mq_headers_encode(&hd, 1, &hdrs, &hlen);
	mq_bb_init(&b);
	mq_bb_add(&b, 1700000000000LL, "key", 3, "value", 5, hdrs, hlen, 1);
	mq_bb_add(&b, 1700000000003LL, NULL, 0, "v2", 2, NULL, 0, 0);
	mq_bb_seal(&b, MQ_CODEC_NONE, NULL, &e);
	mq_bb_stamp(&b, 12345);
	bits = b.outlen * 8;
	for (size_t bit = 0; bit < bits; bit++) {
		if (!flip_detected(b.out, b.outlen, bit) && missed++ == 0)
			first = bit;
	}
	ok(missed == 0, "each of the %zu single-bit flips of a %zu-byte batch "
	   "is caught (%zu missed, first at bit %zu)", bits, b.outlen, missed,
	   first);

	/* The same for a compressed batch. */
	mq_bb_reset(&b);
	for (int i = 0; i < 20; i++)
		mq_bb_add(&b, 1700000000000LL + i, "key", 3,
			  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", 30, hdrs, hlen, 1);
	mq_bb_seal(&b, MQ_CODEC_ZLIB, cz, &e);
	mq_bb_stamp(&b, 99);
	missed = 0;
	bits = b.outlen * 8;
	for (size_t bit = 0; bit < bits; bit++) {
		if (!flip_detected(b.out, b.outlen, bit) && missed++ == 0)
			first = bit;
	}
	ok(b.out[52] == MQ_CODEC_ZLIB && missed == 0,
	   "each of the %zu single-bit flips of a compressed %zu-byte batch "
	   "is caught (%zu missed)", bits, b.outlen, missed);
	free(hdrs);
	mq_bb_free(&b);
	mq_codec_free(cz);
}

/* ---- header validation ---- */

static void
mkhdr(unsigned char *p, uint32_t length, uint32_t count, uint32_t last_delta,
      uint32_t raw_len, unsigned codec)
{
	memset(p, 0, MQ_BATCH_HDR);
	mq_put32(p, MQ_BATCH_MAGIC);
	mq_put32(p + 4, length);
	mq_put64(p + 8, 0x1122334455667788ULL);
	mq_put64(p + 16, 500);
	mq_put32(p + 24, last_delta);
	mq_put32(p + 28, count);
	mq_put64(p + 32, 1000);
	mq_put64(p + 40, 2000);
	mq_put32(p + 48, raw_len);
	p[52] = (unsigned char)codec;
}

static int
hdr_ok(const unsigned char *p, uint64_t limit)
{
	struct mq_batch_hdr h;
	unsigned char *q = dup_exact(p, MQ_BATCH_HDR);
	int rc = mq_batch_hdr_decode(q, limit, &h);

	free(q);
	return rc;
}

static void
test_hdr_decode(void)
{
	unsigned char p[MQ_BATCH_HDR];
	struct mq_batch_hdr h;

	mkhdr(p, MQ_BATCH_HDR + 100, 2, 1, 100, MQ_CODEC_NONE);
	ok(mq_batch_hdr_decode(p, 1000, &h) == 0 && h.length == 156 &&
	   h.count == 2 && h.last_delta == 1 && h.raw_len == 100 &&
	   h.base_offset == 500 && h.base_ts == 1000 && h.max_ts == 2000 &&
	   h.checksum == 0x1122334455667788ULL && h.codec == 0 && h.flags == 0,
	   "a sane header decodes field by field");
	p[0] ^= 1;
	ok(hdr_ok(p, 1000) < 0, "bad magic is rejected");
	mkhdr(p, 55, 0, 0, 0, MQ_CODEC_NONE);
	ok(hdr_ok(p, 1000) < 0, "length 55 (< 56) is rejected");
	mkhdr(p, 0, 0, 0, 0, MQ_CODEC_NONE);
	ok(hdr_ok(p, 1000) < 0, "length 0 is rejected");
	mkhdr(p, MQ_BATCH_HDR + 1001, 1, 0, 500, MQ_CODEC_ZLIB);
	ok(hdr_ok(p, 1000) < 0, "length - 56 > limit is rejected");
	mkhdr(p, MQ_BATCH_HDR + 1000, 1, 0, 500, MQ_CODEC_ZLIB);
	ok(hdr_ok(p, 1000) == 0, "length - 56 == limit is accepted");
	mkhdr(p, MQ_BATCH_HDR + 1001, 1, 0, 1001, MQ_CODEC_NONE);
	ok(hdr_ok(p, 1000) < 0, "an uncompressed batch over the limit is "
	   "rejected");
	mkhdr(p, 0xffffffffu, 1, 0, 100, MQ_CODEC_ZLIB);
	ok(hdr_ok(p, 1000) < 0, "length 2^32-1 is rejected");
	mkhdr(p, MQ_BATCH_HDR + 10, 1, 0, 1001, MQ_CODEC_ZLIB);
	ok(hdr_ok(p, 1000) < 0, "raw_len > limit is rejected");
	mkhdr(p, MQ_BATCH_HDR + 10, 1, 0, 1000, MQ_CODEC_ZLIB);
	ok(hdr_ok(p, 1000) == 0, "raw_len == limit is accepted");
	mkhdr(p, MQ_BATCH_HDR + 10, 1, 0, 100, MQ_CODEC_COUNT);
	ok(hdr_ok(p, 1000) < 0, "unknown codec %d is rejected",
	   MQ_CODEC_COUNT);
	mkhdr(p, MQ_BATCH_HDR + 10, 1, 0, 100, 255);
	ok(hdr_ok(p, 1000) < 0, "unknown codec 255 is rejected");
	mkhdr(p, MQ_BATCH_HDR + 100, 2, 1, 100, MQ_CODEC_NONE);
	p[53] = 2;
	ok(hdr_ok(p, 1000) < 0, "unknown flags are rejected");
	p[53] = 0x80;
	ok(hdr_ok(p, 1000) < 0, "unknown flag 0x80 is rejected");
	p[53] = MQ_BATCH_DENSE;
	ok(hdr_ok(p, 1000) == 0, "the dense flag with count = last_delta + 1 "
	   "is accepted");
	mkhdr(p, MQ_BATCH_HDR + 100, 1, 1, 100, MQ_CODEC_NONE);
	p[53] = MQ_BATCH_DENSE;
	ok(hdr_ok(p, 1000) < 0, "the dense flag with a gap in the offsets "
	   "(count 1, last_delta 1) is rejected");
	mkhdr(p, MQ_BATCH_HDR + 100, 2, 1, 100, MQ_CODEC_NONE);
	p[54] = 1;
	ok(hdr_ok(p, 1000) < 0, "nonzero reserved byte 54 is rejected");
	mkhdr(p, MQ_BATCH_HDR + 100, 2, 1, 100, MQ_CODEC_NONE);
	p[55] = 0x80;
	ok(hdr_ok(p, 1000) < 0, "nonzero reserved byte 55 is rejected");
	mkhdr(p, MQ_BATCH_HDR + 100, 3, 1, 100, MQ_CODEC_NONE);
	ok(hdr_ok(p, 1000) < 0, "count 3 > last_delta 1 + 1 is rejected");
	mkhdr(p, MQ_BATCH_HDR + 100, 1, 9, 100, MQ_CODEC_NONE);
	ok(hdr_ok(p, 1000) == 0, "count 1 with last_delta 9 (compacted) is "
	   "accepted");
	mkhdr(p, MQ_BATCH_HDR + 100, 0xffffffffu, 0xffffffffu, 100,
	      MQ_CODEC_NONE);
	ok(hdr_ok(p, 1000) < 0, "count 2^32-1 with a 100-byte payload is "
	   "rejected");
	mkhdr(p, MQ_BATCH_HDR + 100, 2, 1, 99, MQ_CODEC_NONE);
	ok(hdr_ok(p, 1000) < 0, "codec none with raw_len < length - 56 is "
	   "rejected");
	mkhdr(p, MQ_BATCH_HDR + 100, 2, 1, 101, MQ_CODEC_NONE);
	ok(hdr_ok(p, 1000) < 0, "codec none with raw_len > length - 56 is "
	   "rejected");
	mkhdr(p, MQ_BATCH_HDR + 100, 2, 1, 100, MQ_CODEC_NONE);
	mq_put64(p + 16, UINT64_MAX);
	ok(hdr_ok(p, 1000) < 0, "a base offset whose last offset overflows "
	   "is rejected");
	/* Offsets are signed 64-bit: the last offset is at most 2^63-2, so
	 * the offset after it still fits. */
	mkhdr(p, MQ_BATCH_HDR + 100, 2, 1, 100, MQ_CODEC_NONE);
	mq_put64(p + 16, (uint64_t)INT64_MAX - 2);
	ok(hdr_ok(p, 1000) == 0, "a batch whose last offset is 2^63-2 is "
	   "accepted");
	mq_put64(p + 16, (uint64_t)INT64_MAX - 1);
	ok(hdr_ok(p, 1000) < 0, "a batch whose last offset would be 2^63-1 "
	   "is rejected");
	mq_put64(p + 16, (uint64_t)INT64_MAX);
	ok(hdr_ok(p, 1000) < 0, "a base offset of 2^63-1 is rejected");
	mq_put64(p + 16, (uint64_t)1 << 63);
	ok(hdr_ok(p, 1000) < 0, "a base offset that is negative as a signed "
	   "number is rejected");
}

/* ---- malformed payloads ---- */

/*
 * Iterates a payload held in an exact-size heap block; returns the final
 * rc (1 end, -1 malformed) and how many records came before it.
 */
static int
iterate_flags(const unsigned char *payload, size_t len, uint32_t count,
	      uint32_t last_delta, uint8_t flags, int *nrec, int *sane)
{
	struct mq_batch_hdr h = {0};
	struct mq_rec_iter it;
	struct mq_record r;
	unsigned char *p = dup_exact(payload, len);
	uint64_t prev = 0;
	int rc, n = 0;

	h.base_offset = 100;
	h.last_delta = last_delta;
	h.count = count;
	h.base_ts = 5000;
	h.raw_len = (uint32_t)len;
	h.flags = flags;
	*sane = 1;
	mq_rec_iter_init(&it, &h, p, len);
	while ((rc = mq_rec_iter_next(&it, &r)) == 0) {
		/* Every pointer stays inside the payload; offsets rise. */
		if ((r.key && (r.key < p || r.key + r.klen > p + len)) ||
		    (r.value && (r.value < p || r.value + r.vlen > p + len)) ||
		    r.headers < p || r.headers + r.hlen > p + len ||
		    r.offset < 100 || r.offset > 100 + last_delta ||
		    (n > 0 && r.offset <= prev))
			*sane = 0;
		prev = r.offset;
		n++;
		if (n > (int)count)
			*sane = 0;
	}
	free(p);
	*nrec = n;
	return rc;
}

/* A hand-made payload whose records carry offset deltas (not dense). */
static int
iterate(const unsigned char *payload, size_t len, uint32_t count,
	uint32_t last_delta, int *nrec, int *sane)
{
	return iterate_flags(payload, len, count, last_delta, 0, nrec, sane);
}

/* A payload as mq_bb builds it: dense, no offset deltas. */
static int
iterate_dense(const unsigned char *payload, size_t len, uint32_t count,
	      int *nrec, int *sane)
{
	return iterate_flags(payload, len, count, count - 1, MQ_BATCH_DENSE,
			     nrec, sane);
}

static void
test_malformed(void)
{
	int n, sane, rc;
	/* One valid record: len 6: delta 0, ts 0, key "a", value null, 0 hdrs */
	static const unsigned char one[] = {6, 0, 0, 2, 'a', 0, 0};
	/* Two records, deltas 1 then 3. */
	static const unsigned char two[] = {5, 1, 0, 0, 0, 0,
					    5, 3, 2, 0, 0, 0};

	rc = iterate(one, sizeof one, 1, 0, &n, &sane);
	ok(rc == 1 && n == 1 && sane, "a hand-made record decodes");
	rc = iterate(two, sizeof two, 2, 5, &n, &sane);
	ok(rc == 1 && n == 2 && sane, "offset deltas 1 then 3 decode");

	rc = iterate(NULL, 0, 1, 0, &n, &sane);
	ok(rc == -1 && n == 0, "an empty payload with count 1 is malformed");
	{
		static const unsigned char p[] = {0x80};
		rc = iterate(p, sizeof p, 1, 0, &n, &sane);
		ok(rc == -1 && n == 0, "a truncated length varint is malformed");
	}
	{
		static const unsigned char p[] = {0xff, 0xff, 0xff, 0xff, 0xff,
						  0xff, 0xff, 0xff, 0xff, 0xff,
						  0x01, 0};
		rc = iterate(p, sizeof p, 1, 0, &n, &sane);
		ok(rc == -1 && n == 0, "an 11-byte varint is malformed");
	}
	{
		static const unsigned char p[] = {5, 0, 0};
		rc = iterate(p, sizeof p, 1, 0, &n, &sane);
		ok(rc == -1 && n == 0, "a record length beyond the end is "
		   "malformed");
	}
	{
		static const unsigned char p[] = {0xff, 0xff, 0xff, 0xff, 0x0f,
						  0, 0, 0, 0, 0};
		rc = iterate(p, sizeof p, 1, 0, &n, &sane);
		ok(rc == -1 && n == 0, "a 4 GiB record length is malformed");
	}
	{
		static const unsigned char p[] = {2, 0, 0};
		rc = iterate(p, sizeof p, 1, 0, &n, &sane);
		ok(rc == -1 && n == 0, "a record that ends before its key is "
		   "malformed");
	}
	{
		/* The key claims 9 bytes, the record holds 1 more. */
		static const unsigned char p[] = {4, 0, 0, 10, 'a', 0, 0, 0, 0,
						  0, 0, 0, 0};
		rc = iterate(p, sizeof p, 1, 0, &n, &sane);
		ok(rc == -1 && n == 0, "a key longer than its record is "
		   "malformed");
	}
	{
		static const unsigned char p[] = {5, 0, 0, 0, 0x85, 0x80};
		rc = iterate(p, sizeof p, 1, 0, &n, &sane);
		ok(rc == -1 && n == 0, "a truncated value-length varint is "
		   "malformed");
	}
	{
		unsigned char p[sizeof one + 1];
		memcpy(p, one, sizeof one);
		p[sizeof one] = 0;
		rc = iterate(p, sizeof p, 1, 0, &n, &sane);
		ok(rc == -1 && n == 1 && sane,
		   "trailing junk after the last record is malformed");
	}
	{
		/* Two records in the payload but count says 1. */
		rc = iterate(two, sizeof two, 1, 5, &n, &sane);
		ok(rc == -1 && n == 1, "a record beyond the count is malformed");
		rc = iterate(two, sizeof two, 3, 5, &n, &sane);
		ok(rc == -1 && n == 2, "a count beyond the records is "
		   "malformed");
	}
	{
		static const unsigned char p[] = {5, 1, 0, 0, 0, 0,
						  5, 1, 0, 0, 0, 0};
		rc = iterate(p, sizeof p, 2, 5, &n, &sane);
		ok(rc == -1 && n == 1, "a repeated offset delta is malformed");
	}
	{
		static const unsigned char p[] = {5, 3, 0, 0, 0, 0,
						  5, 2, 0, 0, 0, 0};
		rc = iterate(p, sizeof p, 2, 5, &n, &sane);
		ok(rc == -1 && n == 1, "a decreasing offset delta is malformed");
	}
	{
		static const unsigned char p[] = {5, 6, 0, 0, 0, 0};
		rc = iterate(p, sizeof p, 1, 5, &n, &sane);
		ok(rc == -1 && n == 0, "an offset delta past last_delta is "
		   "malformed");
	}
	{
		/* nheaders 2 but one header present. */
		static const unsigned char p[] = {9, 0, 0, 0, 0, 2, 1, 'h', 2,
						  'v'};
		rc = iterate(p, sizeof p, 1, 0, &n, &sane);
		ok(rc == -1 && n == 0, "fewer headers than counted is "
		   "malformed");
	}
	{
		/* nheaders 0 but a byte left in the record. */
		static const unsigned char p[] = {6, 0, 0, 0, 0, 0, 7};
		rc = iterate(p, sizeof p, 1, 0, &n, &sane);
		ok(rc == -1 && n == 0, "bytes after the headers in a record are "
		   "malformed");
	}
	{
		/* A header name longer than the record. */
		static const unsigned char p[] = {7, 0, 0, 0, 0, 1, 9, 'h', 0};
		rc = iterate(p, sizeof p, 1, 0, &n, &sane);
		ok(rc == -1 && n == 0, "a header name past the record is "
		   "malformed");
	}

	/* Every prefix of a real payload is refused, never over-read. */
	{
		struct mq_bb b;
		struct mq_err e;
		unsigned char *hdrs;
		size_t hlen, raw;
		int all = 1, insane = 0;
		struct mq_header hd[2] = {{"a", 1, "bc", 2}, {"n", 1, NULL, -1}};

		mq_headers_encode(hd, 2, &hdrs, &hlen);
		mq_bb_init(&b);
		mq_bb_add(&b, 10, "k1", 2, "value one", 9, hdrs, hlen, 2);
		mq_bb_add(&b, 3, NULL, 0, NULL, 0, NULL, 0, 0);
		mq_bb_add(&b, 400, "k3", 2, bigval, 200, hdrs, hlen, 2);
		mq_bb_seal(&b, MQ_CODEC_NONE, NULL, &e);
		raw = b.len - MQ_BATCH_HDR;
		rc = iterate_dense(b.buf + MQ_BATCH_HDR, raw, 3, &n, &sane);
		ok(rc == 1 && n == 3 && sane, "the full payload decodes");
		rc = iterate(b.buf + MQ_BATCH_HDR, raw, 3, 2, &n, &sane);
		ok(rc == -1, "the same dense payload read as if it had offset "
		   "deltas is malformed");
		for (size_t len = 0; len < raw; len++) {
			rc = iterate_dense(b.buf + MQ_BATCH_HDR, len, 3, &n,
					   &sane);
			all &= rc == -1;
			insane += !sane;
		}
		ok(all && !insane, "each of the %zu proper prefixes of the "
		   "payload is malformed", raw);

		/* Each byte set to each of a few values: no over-read. */
		insane = 0;
		for (size_t i = 0; i < raw; i++) {
			static const unsigned char vals[] = {0x00, 0x01, 0x7f,
							     0x80, 0xff, 0x3f};
			for (size_t v = 0; v < sizeof vals; v++) {
				unsigned char *q = dup_exact(b.buf +
							     MQ_BATCH_HDR, raw);
				q[i] = vals[v];
				rc = iterate_dense(q, raw, 3, &n, &sane);
				insane += !sane || (rc != 1 && rc != -1);
				free(q);
			}
		}
		ok(insane == 0, "%zu byte mutations of the payload never yield "
		   "a record outside it (%d did)", raw * 6, insane);
		free(hdrs);
		mq_bb_free(&b);
	}
}

/* ---- decompression limits ---- */

static void
test_decompress(void)
{
	struct mq_codec *cz = mq_codec_new();
	struct mq_err e = {0};
	unsigned char in[1000], z[2048], *out, *zc;
	size_t zlen = 0;
	int rc;

	for (size_t i = 0; i < sizeof in; i++)
		in[i] = (unsigned char)"abcabcabd"[i % 9];
	rc = mq_codec_compress(cz, MQ_CODEC_ZLIB, in, sizeof in, z, sizeof z,
			       &zlen, &e);
	ok(rc == 0 && zlen > 0 && zlen < sizeof in,
	   "1000 repetitive bytes compress to %zu", zlen);
	zc = dup_exact(z, zlen);

	out = malloc(1000);
	rc = mq_codec_decompress(cz, MQ_CODEC_ZLIB, zc, zlen, out, 1000, &e);
	ok(rc == 0 && memcmp(out, in, 1000) == 0,
	   "they decompress to the same 1000 bytes");
	free(out);

	out = malloc(10);
	memset(&e, 0, sizeof e);
	rc = mq_codec_decompress(cz, MQ_CODEC_ZLIB, zc, zlen, out, 10, &e);
	ok(rc == -1 && e.code == EBADMSG, "declared raw_len 10 for 1000 bytes "
	   "is EBADMSG and writes no more than 10 bytes ('%s')", e.msg);
	free(out);

	out = malloc(999);
	rc = mq_codec_decompress(cz, MQ_CODEC_ZLIB, zc, zlen, out, 999, &e);
	ok(rc == -1 && e.code == EBADMSG, "declared raw_len 999 is EBADMSG");
	free(out);

	out = malloc(1001);
	rc = mq_codec_decompress(cz, MQ_CODEC_ZLIB, zc, zlen, out, 1001, &e);
	ok(rc == -1 && e.code == EBADMSG, "declared raw_len 1001 (more than "
	   "it inflates to) is EBADMSG");
	free(out);

	out = malloc(1000);
	rc = mq_codec_decompress(cz, MQ_CODEC_ZLIB, zc, zlen - 1, out, 1000,
				 &e);
	ok(rc == -1 && e.code == EBADMSG, "a truncated stream is EBADMSG");
	free(out);
	{
		unsigned char *zj = malloc(zlen + 4);
		memcpy(zj, z, zlen);
		memcpy(zj + zlen, "junk", 4);
		out = malloc(1000);
		rc = mq_codec_decompress(cz, MQ_CODEC_ZLIB, zj, zlen + 4, out,
					 1000, &e);
		ok(rc == -1 && e.code == EBADMSG,
		   "junk after the compressed stream is EBADMSG");
		free(out);
		free(zj);
	}
	{
		unsigned char *g = malloc(300);
		for (int i = 0; i < 300; i++)
			g[i] = (unsigned char)rnd();
		g[0] = 0xff;   /* BTYPE 11: invalid block type */
		out = malloc(1000);
		rc = mq_codec_decompress(cz, MQ_CODEC_ZLIB, g, 300, out, 1000,
					 &e);
		ok(rc == -1 && e.code == EBADMSG, "garbage input is EBADMSG");
		free(out);
		free(g);
	}
	out = malloc(1000);
	rc = mq_codec_decompress(cz, MQ_CODEC_ZLIB, zc, zlen, out, 1000, &e);
	ok(rc == 0 && memcmp(out, in, 1000) == 0,
	   "the codec still works after failures");
	rc = mq_codec_decompress(cz, MQ_CODEC_NONE, zc, zlen, out, 1000, &e);
	ok(rc == -1 && e.code == EBADMSG, "decompressing codec none is "
	   "refused");
	rc = mq_codec_decompress(cz, 7, zc, zlen, out, 1000, &e);
	ok(rc == -1 && e.code == EBADMSG, "decompressing unknown codec 7 is "
	   "refused");
	free(out);
	free(zc);

	/* A bomb: 4 MiB of zeros, declared as 10 bytes. */
	{
		size_t big = 4u << 20;
		unsigned char *zeros = calloc(1, big), *bz = malloc(big);
		size_t bzlen = 0;
		rc = mq_codec_compress(cz, MQ_CODEC_ZLIB, zeros, big, bz, big,
				       &bzlen, &e);
		ok(rc == 0 && bzlen < 64 * 1024, "4 MiB of zeros compress to "
		   "%zu bytes", bzlen);
		zc = dup_exact(bz, bzlen);
		out = malloc(10);
		rc = mq_codec_decompress(cz, MQ_CODEC_ZLIB, zc, bzlen, out, 10,
					 &e);
		ok(rc == -1 && e.code == EBADMSG, "the bomb declared as 10 bytes "
		   "is stopped at 10 bytes");
		free(out);
		out = malloc(big);
		rc = mq_codec_decompress(cz, MQ_CODEC_ZLIB, zc, bzlen, out, big,
					 &e);
		ok(rc == 0 && memcmp(out, zeros, big) == 0,
		   "declared as its true size it inflates");
		free(out);
		free(zc);
		free(zeros);
		free(bz);
	}
	{
		unsigned char r[1000];
		for (size_t i = 0; i < sizeof r; i++)
			r[i] = (unsigned char)rnd();
		rc = mq_codec_compress(cz, MQ_CODEC_ZLIB, r, sizeof r, z, 999,
				       &zlen, &e);
		ok(rc == 1, "compressing random bytes into less room says 1 "
		   "(store raw)");
		rc = mq_codec_compress(cz, MQ_CODEC_NONE, r, sizeof r, z,
				       sizeof z, &zlen, &e);
		ok(rc == -1, "compressing with codec none is refused");
	}
	mq_codec_free(cz);
	mq_codec_free(NULL);
}

int
main(void)
{
	test_round_trip();
	test_zlib();
	test_checksum();
	test_hdr_decode();
	test_malformed();
	test_decompress();
	return tap_done();
}
