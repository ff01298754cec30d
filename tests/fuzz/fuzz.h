/*
 * fuzz.h - what the fuzz targets in tests/fuzz share: the libFuzzer entry
 * points, an assertion that stays on in every build (a failed one is a
 * crash the fuzzer records), and a cursor that takes fixed-size fields
 * off the front of an input.  Each target is one file with one
 * LLVMFuzzerTestOneInput; the same file links with libFuzzer for `make
 * fuzz` and with replay.c for the corpus replay in `make check`.
 */
#ifndef MQ_FUZZ_H
#define MQ_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mq.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

/* The max.message.bytes the targets use: a topic's default at most. */
#define FUZZ_MAX_LIMIT (1u << 20)
#define FUZZ_MIN_LIMIT 64u

#define FUZZ_CHECK(cond)                                                   \
	do {                                                               \
		if (!(cond)) {                                             \
			fprintf(stderr, "%s:%d: check failed: %s\n",       \
				__FILE__, __LINE__, #cond);                \
			abort();                                           \
		}                                                          \
	} while (0)

/* Fields taken off the front of an input; missing bytes read as zero. */
struct fuzz_in {
	const uint8_t *p;
	size_t n;
};

static inline uint64_t
fuzz_take(struct fuzz_in *in, size_t bytes)
{
	uint64_t v = 0;

	for (size_t i = 0; i < bytes; i++)
		if (i < in->n)
			v |= (uint64_t)in->p[i] << (8 * i);
	if (bytes > in->n)
		bytes = in->n;
	in->p += bytes;
	in->n -= bytes;
	return v;
}

/*
 * A max.message.bytes from 3 bytes of input: 0 means the default 1 MiB,
 * anything else is kept within what a topic config accepts and 1 MiB.
 */
static inline uint32_t
fuzz_limit(struct fuzz_in *in)
{
	uint32_t v = (uint32_t)fuzz_take(in, 3);

	if (v == 0 || v > FUZZ_MAX_LIMIT)
		return FUZZ_MAX_LIMIT;
	return v < FUZZ_MIN_LIMIT ? FUZZ_MIN_LIMIT : v;
}

/* Touches the first and last byte of a field, so a sanitizer sees them. */
static inline unsigned
fuzz_touch(const unsigned char *p, size_t n)
{
	return n ? (unsigned)p[0] + p[n - 1] : 0;
}

static inline void
fuzz_put64(unsigned char *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (unsigned char)(v >> (8 * i));
}

/* Is [p, p + n) inside [lo, lo + len)?  (NULL: a null field.) */
static inline int
fuzz_inside(const unsigned char *p, size_t n, const unsigned char *lo,
	    size_t len)
{
	return !p || (p >= lo && n <= len && (size_t)(p - lo) <= len - n);
}

/*
 * Iterates over a batch's records to the end, checking what the iterator
 * promises: at most count records, offsets rising strictly inside
 * [base_offset, base_offset + last_delta] (exactly base + i when dense),
 * fields inside the payload, headers that walk cleanly, and "the end"
 * only after exactly count records.
 */
static inline void
fuzz_walk_records(const struct mq_batch_hdr *h, const unsigned char *p,
		  size_t len)
{
	struct mq_rec_iter it;
	struct mq_record r;
	struct mq_header hd;
	uint64_t n = 0, prev = 0;
	volatile unsigned sink = 0;
	int rc;

	mq_rec_iter_init(&it, h, p, len);
	while ((rc = mq_rec_iter_next(&it, &r)) == 0) {
		const unsigned char *hp = r.headers, *hend = hp + r.hlen;

		FUZZ_CHECK(n < h->count);
		FUZZ_CHECK(r.offset >= h->base_offset &&
			   r.offset - h->base_offset <= h->last_delta);
		FUZZ_CHECK(n == 0 || r.offset > prev);
		if (h->flags & MQ_BATCH_DENSE)
			FUZZ_CHECK(r.offset == h->base_offset + n);
		FUZZ_CHECK(fuzz_inside(r.key, r.klen, p, len));
		FUZZ_CHECK(fuzz_inside(r.value, r.vlen, p, len));
		FUZZ_CHECK(fuzz_inside(r.headers, r.hlen, p, len));
		sink += fuzz_touch(r.key, r.klen) + fuzz_touch(r.value, r.vlen);
		for (uint32_t i = 0; i < r.nheaders; i++) {
			FUZZ_CHECK(mq_header_next(&hp, hend, &hd) == 0);
			FUZZ_CHECK(fuzz_inside((const unsigned char *)hd.name,
					       hd.nlen, r.headers, r.hlen));
			FUZZ_CHECK(hd.vlen >= -1);
			if (hd.value)
				FUZZ_CHECK(fuzz_inside(
					(const unsigned char *)hd.value,
					(size_t)hd.vlen, r.headers, r.hlen));
			sink += fuzz_touch((const unsigned char *)hd.name,
					   hd.nlen);
		}
		FUZZ_CHECK(mq_header_next(&hp, hend, &hd) == 1);
		prev = r.offset;
		n++;
	}
	FUZZ_CHECK(rc == 1 || rc == -1);
	if (rc == 1)
		FUZZ_CHECK(n == h->count);
	(void)sink;
}

#endif
