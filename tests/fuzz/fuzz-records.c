/*
 * fuzz-records.c - arbitrary bytes as a batch's decoded payload: the
 * record iterator and the header walker on their own, past the checksum
 * and the codec, with the header fields they rely on taken from the
 * input.
 *
 * Input:  flags (1 byte: bit 0 dense)  count (4)  last_delta (4)
 *         base_offset (8)  base_ts (8)  payload
 *
 * The fields are first brought within what mq_batch_hdr_decode accepts
 * (count at most the payload's length and last_delta + 1; dense means
 * count = last_delta + 1; no offset past 2^64 - 1), since the iterator is
 * only ever given a header that decoded.
 */
#include <config.h>

#include "fuzz.h"

static void
put32(unsigned char *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (unsigned char)(v >> (8 * i));
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_in in = {data, size};
	unsigned flags = (unsigned)fuzz_take(&in, 1);
	uint32_t count = (uint32_t)fuzz_take(&in, 4);
	uint32_t last_delta = (uint32_t)fuzz_take(&in, 4);
	uint64_t base = fuzz_take(&in, 8);
	int64_t base_ts = (int64_t)fuzz_take(&in, 8);
	unsigned char hdr[MQ_BATCH_HDR];
	struct mq_batch_hdr h;
	const unsigned char *p;
	struct mq_header hd;
	int rc;

	if (in.n > FUZZ_MAX_LIMIT)
		return 0;
	if (count > in.n)
		count = (uint32_t)in.n;
	if (flags & 1) {
		if (count == 0)
			count = 1;
		last_delta = count - 1;
	} else if ((uint64_t)count > (uint64_t)last_delta + 1) {
		last_delta = count - 1;
	}
	if (base > UINT64_MAX - last_delta)
		base = UINT64_MAX - last_delta;

	memset(hdr, 0, sizeof hdr);
	put32(hdr, MQ_BATCH_MAGIC);
	put32(hdr + 4, (uint32_t)(MQ_BATCH_HDR + in.n));
	fuzz_put64(hdr + 16, base);
	put32(hdr + 24, last_delta);
	put32(hdr + 28, count);
	fuzz_put64(hdr + 32, (uint64_t)base_ts);
	fuzz_put64(hdr + 40, (uint64_t)base_ts);
	put32(hdr + 48, (uint32_t)in.n);
	hdr[52] = MQ_CODEC_NONE;
	hdr[53] = (flags & 1) ? MQ_BATCH_DENSE : 0;
	if (mq_batch_hdr_decode(hdr, in.n, &h) < 0)
		return 0;   /* only a dense batch of no records gets here */
	fuzz_walk_records(&h, in.p, in.n);

	/* The header walker over the whole payload, as if it were headers. */
	p = in.p;
	while ((rc = mq_header_next(&p, in.p + in.n, &hd)) == 0)
		FUZZ_CHECK(fuzz_inside((const unsigned char *)hd.name, hd.nlen,
				       in.p, in.n));
	FUZZ_CHECK(rc == 1 ? p == in.p + in.n : rc == -1);
	return 0;
}
