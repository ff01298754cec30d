/*
 * fuzz-inflate.c - decompression of a batch payload, and the guard that
 * makes a decompression bomb harmless.  A reader allocates exactly the
 * header's raw_len (which mq_batch_hdr_decode bounds by max.message.bytes)
 * and mq_codec_decompress must fill exactly that, never writing past it,
 * whatever the compressed bytes would inflate to.
 *
 * Input:  max.message.bytes (3 bytes, 0: 1 MiB)  raw_len (4 bytes, taken
 *         modulo max.message.bytes + 1)  codec (1 byte, modulo
 *         MQ_CODEC_COUNT + 1: none, zlib, zstd, lz4 and one unknown id)
 *         payload
 *
 * The output buffer ends at a PROT_NONE page, so a single byte written
 * past raw_len (by zlib, zstd or lz4 too, which no sanitizer
 * instruments) is a crash; the whole address space this target uses for
 * output is raw_len bytes.  A payload that inflates is compressed again
 * with the same codec and must come back.
 */
#include <config.h>

#include <errno.h>
#include <sys/mman.h>
#include <unistd.h>

#include "fuzz.h"

/* Room for any codec's worst case on FUZZ_MAX_LIMIT bytes (lz4 adds
 * n/255 + 16, zstd about n/256 + 64, deflate less). */
#define PACKED_CAP (FUZZ_MAX_LIMIT + FUZZ_MAX_LIMIT / 128 + 4096)

static struct mq_codec *codec;
static unsigned char *guard;    /* the PROT_NONE page after the output */
static unsigned char *again, *packed;

static void
setup(void)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	size_t span = FUZZ_MAX_LIMIT + page;
	unsigned char *m = mmap(NULL, span + page, PROT_READ | PROT_WRITE,
				MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	FUZZ_CHECK(m != MAP_FAILED);
	/* Round so the output's end meets the guard page exactly. */
	guard = m + span;
	FUZZ_CHECK(mprotect(guard, page, PROT_NONE) == 0);
	codec = mq_codec_new();
	again = malloc(FUZZ_MAX_LIMIT);
	packed = malloc(PACKED_CAP);
	FUZZ_CHECK(codec && again && packed);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_in in = {data, size};
	uint32_t limit = fuzz_limit(&in);
	uint32_t raw_len = (uint32_t)(fuzz_take(&in, 4) % (limit + 1ull));
	int cid = (int)(fuzz_take(&in, 1) % (MQ_CODEC_COUNT + 1));
	unsigned char *out;
	struct mq_err e;
	size_t zlen;
	int rc;

	if (!codec)
		setup();
	out = guard - raw_len;
	rc = mq_codec_decompress(codec, cid, in.p, in.n, out, raw_len, &e);
	if (rc < 0) {
		/* A bomb ends here: it had more to give than raw_len. */
		FUZZ_CHECK(rc == -1 && e.code == EBADMSG && e.msg[0]);
		return 0;
	}
	FUZZ_CHECK(rc == 0 && cid != MQ_CODEC_NONE && cid < MQ_CODEC_COUNT);
	/* The handle is reused: the same input decodes the same again. */
	FUZZ_CHECK(mq_codec_decompress(codec, cid, in.p, in.n, again,
				       raw_len, &e) == 0);
	FUZZ_CHECK(memcmp(out, again, raw_len) == 0);
	/* And what it decoded to survives a round trip through its codec. */
	rc = mq_codec_compress(codec, cid, out, raw_len, packed, PACKED_CAP,
			       &zlen, &e);
	FUZZ_CHECK(rc == 0);
	FUZZ_CHECK(mq_codec_decompress(codec, cid, packed, zlen, again,
				       raw_len, &e) == 0);
	FUZZ_CHECK(memcmp(out, again, raw_len) == 0);
	return 0;
}
