/*
 * codec.c - batch compression.  A batch's payload (its encoded records) is
 * compressed as one block; the codec id lives in the batch header so
 * readers decode any mix.  zlib is used as raw deflate (no zlib header or
 * adler32: the batch checksum already covers the bytes) at level 1, which
 * keeps most of the ratio at several times the speed of the default.
 * Decompression must produce exactly the raw length the header declares,
 * which max.message.bytes bounds, so a hostile payload cannot make a
 * reader allocate or inflate without limit.
 */
#include <config.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "mq.h"

#define ZLIB_LEVEL 1

struct mq_codec {
	z_stream def, inf;
	bool def_ok, inf_ok;
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
	free(c);
}

int
mq_codec_compress(struct mq_codec *c, int codec, const void *in, size_t n,
		  void *out, size_t cap, size_t *outlen, struct mq_err *e)
{
	int r;

	if (codec != MQ_CODEC_ZLIB)
		return mq_err_set(e, EINVAL, "unknown codec %d", codec);
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

int
mq_codec_decompress(struct mq_codec *c, int codec, const void *in, size_t n,
		    void *out, size_t raw_len, struct mq_err *e)
{
	int r;

	if (codec != MQ_CODEC_ZLIB)
		return mq_err_set(e, EBADMSG, "unknown codec %d", codec);
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
		return mq_err_set(e, EBADMSG, "compressed payload does not "
				  "inflate to its declared %zu bytes", raw_len);
	return 0;
}
