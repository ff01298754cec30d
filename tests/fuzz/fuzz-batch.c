/*
 * fuzz-batch.c - one stored batch, checked the way a reader checks it:
 * the fixed header against max.message.bytes and the bytes that exist,
 * the checksum, decompression to the header's raw_len (zlib, zstd or
 * lz4, whichever the header's codec byte names), then every record and
 * every record header.
 *
 * Input:  flags (1 byte)  max.message.bytes (3 bytes, 0: 1 MiB)  batch
 *
 * Flag bit 0 stores the right checksum in the batch before it is checked,
 * so mutated batches get past the checksum to the codec and the records;
 * without it they are refused there, as a reader refuses them.
 */
#include <config.h>

#include <errno.h>

#include "fuzz.h"

static struct mq_codec *codec;

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_in in = {data, size};
	unsigned flags = (unsigned)fuzz_take(&in, 1);
	uint32_t limit = fuzz_limit(&in);
	struct mq_batch_hdr h;
	struct mq_err e;
	unsigned char *batch, *raw = NULL;
	const unsigned char *payload;

	if (in.n < MQ_BATCH_HDR || mq_batch_hdr_decode(in.p, limit, &h) < 0)
		return 0;
	/* What decode promises, before anything is allocated by it. */
	FUZZ_CHECK(h.length >= MQ_BATCH_HDR);
	FUZZ_CHECK(h.length - MQ_BATCH_HDR <= limit && h.raw_len <= limit);
	FUZZ_CHECK(h.codec < MQ_CODEC_COUNT);
	FUZZ_CHECK(h.count <= (uint64_t)h.last_delta + 1);
	FUZZ_CHECK(h.base_offset + h.last_delta < MQ_OFFSET_MAX);
	/* A reader holds the length against the file size first. */
	if (h.length > in.n)
		return 0;
	/* A copy of exactly the batch, so reading past it is caught. */
	batch = malloc(h.length);
	FUZZ_CHECK(batch);
	memcpy(batch, in.p, h.length);
	if (flags & 1) {
		h.checksum = mq_batch_checksum(batch, h.length);
		fuzz_put64(batch + 8, h.checksum);
	}
	if (mq_batch_checksum(batch, h.length) != h.checksum)
		goto out;
	payload = batch + MQ_BATCH_HDR;
	if (h.codec != MQ_CODEC_NONE) {
		if (!codec)
			codec = mq_codec_new();
		FUZZ_CHECK(codec);
		raw = malloc(h.raw_len ? h.raw_len : 1);
		FUZZ_CHECK(raw);
		if (mq_codec_decompress(codec, h.codec, payload,
					h.length - MQ_BATCH_HDR, raw, h.raw_len,
					&e) < 0) {
			FUZZ_CHECK(e.code == EBADMSG);
			goto out;
		}
		payload = raw;
	}
	fuzz_walk_records(&h, payload, h.raw_len);
out:
	free(raw);
	free(batch);
	return 0;
}
