/*
 * hash.c - key partitioners.  The default hashes a key with XXH3-64 and
 * takes it modulo the partition count: fast, and stable across runs,
 * machines and versions because XXH3's output is specified.  The murmur2
 * partitioner reproduces Kafka's Java client (Utils.murmur2 with seed
 * 0x9747b28c, made positive by masking the sign bit, modulo the count), so
 * keys land on the partitions Kafka would choose.
 */
#include <config.h>

#include "xxh.h"

#include "mq.h"

int32_t
mq_murmur2(const void *key, size_t len)
{
	const unsigned char *p = key;
	const uint32_t m = 0x5bd1e995;
	const int r = 24;
	uint32_t h = 0x9747b28cU ^ (uint32_t)len;
	size_t n4 = len / 4;

	for (size_t i = 0; i < n4; i++) {
		const unsigned char *q = p + 4 * i;
		uint32_t k = (uint32_t)q[0] | (uint32_t)q[1] << 8 |
			     (uint32_t)q[2] << 16 | (uint32_t)q[3] << 24;
		k *= m;
		k ^= k >> r;
		k *= m;
		h *= m;
		h ^= k;
	}
	p += n4 * 4;
	switch (len % 4) {
	case 3:
		h ^= (uint32_t)p[2] << 16;
		/* fall through */
	case 2:
		h ^= (uint32_t)p[1] << 8;
		/* fall through */
	case 1:
		h ^= (uint32_t)p[0];
		h *= m;
	}
	h ^= h >> 13;
	h *= m;
	h ^= h >> 15;
	return (int32_t)h;
}

uint32_t
mq_partition_for_key(int partitioner, const void *key, size_t len,
		     uint32_t partitions)
{
	if (partitioner == MQ_PART_MURMUR2)
		return ((uint32_t)mq_murmur2(key, len) & 0x7fffffffU) %
		       partitions;
	return (uint32_t)(XXH3_64bits(key, len) % partitions);
}
