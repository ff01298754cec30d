/*
 * codec.c - batch compression.  A batch's payload (its encoded records) is
 * compressed as one block; the codec id lives in the batch header (byte
 * 52) so readers decode any mix:
 *
 *   0 none   the records as they are
 *   1 zlib   raw deflate (no zlib header or adler32: the batch checksum
 *            already covers the bytes) at level 1, which keeps most of the
 *            ratio at several times the speed of the default
 *   2 zstd   one standard zstd frame at level 1, with its content size
 *            and without its optional checksum
 *   3 lz4    one raw lz4 block (no frame: raw_len in the batch header
 *            already says how long it inflates), LZ4_compress_default
 *
 * Decompression must produce exactly the raw length the header declares,
 * which max.message.bytes bounds, so a hostile payload cannot make a
 * reader allocate or inflate without limit: every decoder is given the
 * raw_len-byte buffer as its whole output space and never writes past it,
 * and a payload that would give more or less is EBADMSG.  Each handle
 * keeps its codecs' contexts, made on first use and reused for every
 * batch after, so the hot path allocates nothing.
 */
#include <config.h>

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <lz4.h>
#include <zlib.h>
#include <zstd.h>
#include <zstd_errors.h>

#include "mq.h"

#define ZLIB_LEVEL 1
#define ZSTD_LEVEL 1

struct mq_codec {
	z_stream def, inf;
	bool def_ok, inf_ok;
	ZSTD_CCtx *zc;           /* set to ZSTD_LEVEL once */
	ZSTD_DCtx *zd;
	void *lz4;               /* LZ4_sizeofState() bytes */
};

struct mq_codec *
mq_codec_new(void)
{
	return calloc(1, sizeof(struct mq_codec));
}

void
mq_codec_free(struct mq_codec *c)
{
	if (!c)
		return;
	if (c->def_ok)
		deflateEnd(&c->def);
	if (c->inf_ok)
		inflateEnd(&c->inf);
	ZSTD_freeCCtx(c->zc);
	ZSTD_freeDCtx(c->zd);
	free(c->lz4);
	free(c);
}

static int
bad_payload(size_t raw_len, struct mq_err *e)
{
	return mq_err_set(e, EBADMSG, "compressed payload does not inflate "
			  "to its declared %zu bytes", raw_len);
}

static int
zlib_compress(struct mq_codec *c, const void *in, size_t n, void *out,
	      size_t cap, size_t *outlen, struct mq_err *e)
{
	int r;

	if (!c->def_ok) {
		if (deflateInit2(&c->def, ZLIB_LEVEL, Z_DEFLATED, -15, 8,
				 Z_DEFAULT_STRATEGY) != Z_OK)
			return mq_err_set(e, ENOMEM, "cannot start zlib");
		c->def_ok = true;
	} else if (deflateReset(&c->def) != Z_OK) {
		return mq_err_set(e, EIO, "cannot reset zlib");
	}
	c->def.next_in = (Bytef *)(uintptr_t)in;
	c->def.avail_in = (uInt)n;
	c->def.next_out = out;
	c->def.avail_out = (uInt)cap;
	r = deflate(&c->def, Z_FINISH);
	if (r == Z_STREAM_END) {
		*outlen = cap - c->def.avail_out;
		return 0;
	}
	if (r == Z_OK || r == Z_BUF_ERROR)
		return 1;
	return mq_err_set(e, EIO, "zlib compression failed (%d)", r);
}

static int
zstd_compress(struct mq_codec *c, const void *in, size_t n, void *out,
	      size_t cap, size_t *outlen, struct mq_err *e)
{
	size_t r;

	if (!c->zc) {
		if (!(c->zc = ZSTD_createCCtx()))
			return mq_err_set(e, ENOMEM, "cannot start zstd");
		if (ZSTD_isError(ZSTD_CCtx_setParameter(c->zc,
				ZSTD_c_compressionLevel, ZSTD_LEVEL)))
			return mq_err_set(e, EIO, "cannot set zstd level");
	}
	r = ZSTD_compress2(c->zc, out, cap, in, n);
	if (!ZSTD_isError(r)) {
		*outlen = r;
		return 0;
	}
	/* The frame is cut off at cap: the context restarts on its own. */
	if (ZSTD_getErrorCode(r) == ZSTD_error_dstSize_tooSmall)
		return 1;
	return mq_err_set(e, EIO, "zstd compression failed: %s",
			  ZSTD_getErrorName(r));
}

static int
lz4_compress(struct mq_codec *c, const void *in, size_t n, void *out,
	     size_t cap, size_t *outlen, struct mq_err *e)
{
	int r;

	if (n > LZ4_MAX_INPUT_SIZE)
		return 1;
	if (cap > INT_MAX)
		cap = INT_MAX;
	if (!c->lz4 && !(c->lz4 = malloc((size_t)LZ4_sizeofState())))
		return mq_err_set(e, ENOMEM, "cannot start lz4");
	/* What LZ4_compress_default does, with our state off the stack. */
	r = LZ4_compress_fast_extState(c->lz4, in, out, (int)n, (int)cap, 1);
	if (r <= 0)
		return 1;       /* it does not fit in cap */
	*outlen = (size_t)r;
	return 0;
}

int
mq_codec_compress(struct mq_codec *c, int codec, const void *in, size_t n,
		  void *out, size_t cap, size_t *outlen, struct mq_err *e)
{
	switch (codec) {
	case MQ_CODEC_ZLIB:
		return zlib_compress(c, in, n, out, cap, outlen, e);
	case MQ_CODEC_ZSTD:
		return zstd_compress(c, in, n, out, cap, outlen, e);
	case MQ_CODEC_LZ4:
		return lz4_compress(c, in, n, out, cap, outlen, e);
	default:
		return mq_err_set(e, EINVAL, "unknown codec %d", codec);
	}
}

static int
zlib_decompress(struct mq_codec *c, const void *in, size_t n, void *out,
		size_t raw_len, struct mq_err *e)
{
	int r;

	if (!c->inf_ok) {
		if (inflateInit2(&c->inf, -15) != Z_OK)
			return mq_err_set(e, ENOMEM, "cannot start zlib");
		c->inf_ok = true;
	} else if (inflateReset(&c->inf) != Z_OK) {
		return mq_err_set(e, EIO, "cannot reset zlib");
	}
	c->inf.next_in = (Bytef *)(uintptr_t)in;
	c->inf.avail_in = (uInt)n;
	c->inf.next_out = out;
	c->inf.avail_out = (uInt)raw_len;
	r = inflate(&c->inf, Z_FINISH);
	if (r != Z_STREAM_END || c->inf.avail_out != 0 ||
	    c->inf.avail_in != 0)
		return bad_payload(raw_len, e);
	return 0;
}

/*
 * The payload must be exactly one standard zstd frame, as the writer
 * makes it: checking its magic first keeps skippable frames and the
 * library's decoders for legacy formats away from stored bytes, and
 * ZSTD_findFrameCompressedSize refuses bytes after the frame.
 * ZSTD_decompressDCtx then writes at most raw_len bytes (a frame that
 * wants more is dstSize_tooSmall) and says how many it wrote.
 */
static int
zstd_decompress(struct mq_codec *c, const void *in, size_t n, void *out,
		size_t raw_len, struct mq_err *e)
{
	const unsigned char *p = in;
	size_t r;

	if (n < 4 || ((uint32_t)p[0] | (uint32_t)p[1] << 8 |
		      (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24) !=
		     ZSTD_MAGICNUMBER ||
	    ZSTD_findFrameCompressedSize(in, n) != n)
		return bad_payload(raw_len, e);
	if (!c->zd) {
		if (!(c->zd = ZSTD_createDCtx()))
			return mq_err_set(e, ENOMEM, "cannot start zstd");
	}
	r = ZSTD_decompressDCtx(c->zd, out, raw_len, in, n);
	if (ZSTD_isError(r) || r != raw_len) {
		/* Drop any half-decoded state before the next batch. */
		ZSTD_DCtx_reset(c->zd, ZSTD_reset_session_only);
		return bad_payload(raw_len, e);
	}
	return 0;
}

/*
 * LZ4_decompress_safe never writes past its capacity and needs the block
 * to end exactly at the end of its input; it returns the bytes it wrote.
 */
static int
lz4_decompress(const void *in, size_t n, void *out, size_t raw_len,
	       struct mq_err *e)
{
	int r;

	if (n > INT_MAX || raw_len > INT_MAX)
		return bad_payload(raw_len, e);
	r = LZ4_decompress_safe(in, out, (int)n, (int)raw_len);
	if (r < 0 || (size_t)r != raw_len)
		return bad_payload(raw_len, e);
	return 0;
}

int
mq_codec_decompress(struct mq_codec *c, int codec, const void *in, size_t n,
		    void *out, size_t raw_len, struct mq_err *e)
{
	switch (codec) {
	case MQ_CODEC_ZLIB:
		return zlib_decompress(c, in, n, out, raw_len, e);
	case MQ_CODEC_ZSTD:
		return zstd_decompress(c, in, n, out, raw_len, e);
	case MQ_CODEC_LZ4:
		return lz4_decompress(in, n, out, raw_len, e);
	default:
		return mq_err_set(e, EBADMSG, "unknown codec %d", codec);
	}
}
