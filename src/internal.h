/*
 * internal.h - helpers shared by the library's modules and not part of the
 * public interface: little-endian loads and stores and varints.  The
 * on-disk format is little-endian whatever the host (mq-spool(5)).
 */
#ifndef MQ_INTERNAL_H
#define MQ_INTERNAL_H

#include <stdint.h>
#include <string.h>

static inline uint32_t
mq_le32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

static inline uint64_t
mq_le64(const unsigned char *p)
{
	return (uint64_t)mq_le32(p) | (uint64_t)mq_le32(p + 4) << 32;
}

static inline void
mq_put32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)v;
	p[1] = (unsigned char)(v >> 8);
	p[2] = (unsigned char)(v >> 16);
	p[3] = (unsigned char)(v >> 24);
}

static inline void
mq_put64(unsigned char *p, uint64_t v)
{
	mq_put32(p, (uint32_t)v);
	mq_put32(p + 4, (uint32_t)(v >> 32));
}

/* Unsigned LEB128: 7 bits a byte, low bits first, at most 10 bytes. */
static inline size_t
mq_uvarint_size(uint64_t v)
{
	size_t n = 1;
	while (v >= 0x80) {
		v >>= 7;
		n++;
	}
	return n;
}

static inline size_t
mq_put_uvarint(unsigned char *p, uint64_t v)
{
	size_t n = 0;
	while (v >= 0x80) {
		p[n++] = (unsigned char)(v | 0x80);
		v >>= 7;
	}
	p[n++] = (unsigned char)v;
	return n;
}

static inline uint64_t
mq_zigzag(int64_t v)
{
	return ((uint64_t)v << 1) ^ (uint64_t)(v >> 63);
}

#endif
