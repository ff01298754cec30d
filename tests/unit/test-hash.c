/*
 * test-hash.c - key partitioners (hash.c): murmur2 against the values of
 * Kafka's Java client (Utils.murmur2), and both partitioners' mapping of a
 * key to a partition.
 */
#include <config.h>

#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <xxhash.h>

#include "mq.h"
#include "tap.h"

static const struct {
	const char *key;
	int32_t h;
} kafka[] = {
	{"21", -973932308},
	{"foobar", -790332482},
	{"a-little-bit-long-string", -985981536},
	{"a-little-bit-longer-string", -1486304829},
	{"lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8", -58897971},
	{"abc", 479470107},
	{"1", -1993445489},
	{"12", 126087238},
	{"123", -267702483},
	{"1234", -1614185708},
	{"12345", -1188365604},
	{"", 275646681},
};
#define NKAFKA (sizeof kafka / sizeof kafka[0])

static const uint32_t counts[] = {1, 3, 7, 12, 100};
#define NCOUNTS (sizeof counts / sizeof counts[0])

int
main(void)
{
	for (size_t i = 0; i < NKAFKA; i++) {
		int32_t h = mq_murmur2(kafka[i].key, strlen(kafka[i].key));
		ok(h == kafka[i].h, "murmur2('%s') is %d as in Kafka (got %d)",
		   kafka[i].key, kafka[i].h, h);
	}
	{
		/* Bytes above 0x7f are unsigned in the tail and the body. */
		const unsigned char k[] = {0xff, 0x80, 0x01, 0xfe, 0xc3};
		ok(mq_murmur2(k, 5) != mq_murmur2(k, 4) &&
		   mq_murmur2(k, 5) == mq_murmur2(k, 5),
		   "murmur2 of high bytes is stable and length-sensitive");
	}

	for (size_t i = 0; i < NKAFKA; i++) {
		const char *key = kafka[i].key;
		size_t len = strlen(key);
		for (size_t j = 0; j < NCOUNTS; j++) {
			uint32_t n = counts[j];
			uint32_t want = ((uint32_t)kafka[i].h & 0x7fffffffU) % n;
			uint32_t got = mq_partition_for_key(MQ_PART_MURMUR2, key,
							    len, n);
			ok(got == want, "murmur2 partition of '%s' among %u is "
			   "%u (got %u)", key, n, want, got);
		}
	}
	for (size_t i = 0; i < NKAFKA; i++) {
		const char *key = kafka[i].key;
		size_t len = strlen(key);
		for (size_t j = 0; j < NCOUNTS; j++) {
			uint32_t n = counts[j];
			uint32_t want = (uint32_t)(XXH3_64bits(key, len) % n);
			uint32_t got = mq_partition_for_key(MQ_PART_XXH3, key,
							    len, n);
			ok(got == want && got < n, "xxh3 partition of '%s' "
			   "among %u is %u (got %u)", key, n, want, got);
		}
	}

	/* Many keys: always in range, the same twice, and spread out. */
	{
		uint32_t hist[2][12] = {{0}};
		int in_range = 1, stable = 1;
		for (int i = 0; i < 12000; i++) {
			char key[32];
			int len = snprintf(key, sizeof key, "key-%d", i);
			for (int p = 0; p < 2; p++) {
				int part = p ? MQ_PART_MURMUR2 : MQ_PART_XXH3;
				uint32_t a = mq_partition_for_key(part, key,
							(size_t)len, 12);
				uint32_t b = mq_partition_for_key(part, key,
							(size_t)len, 12);
				in_range &= a < 12;
				stable &= a == b;
				if (a < 12)
					hist[p][a]++;
			}
		}
		ok(in_range, "partitions of 12000 keys are all below 12");
		ok(stable, "every key maps to the same partition twice");
		for (int p = 0; p < 2; p++) {
			uint32_t lo = UINT32_MAX, hi = 0;
			for (int i = 0; i < 12; i++) {
				if (hist[p][i] < lo)
					lo = hist[p][i];
				if (hist[p][i] > hi)
					hi = hist[p][i];
			}
			ok(lo > 800 && hi < 1200, "%s spreads 12000 keys over 12 "
			   "partitions evenly (%u..%u per partition)",
			   p ? "murmur2" : "xxh3", lo, hi);
		}
	}
	ok(mq_partition_for_key(MQ_PART_XXH3, "same", 4, 7) ==
	   mq_partition_for_key(MQ_PART_XXH3, "same", 4, 7) &&
	   mq_partition_for_key(MQ_PART_MURMUR2, "same", 4, 7) ==
	   mq_partition_for_key(MQ_PART_MURMUR2, "same", 4, 7),
	   "the same key gives the same partition twice");
	ok(mq_partition_for_key(MQ_PART_MURMUR2, "21", 2, 1) == 0 &&
	   mq_partition_for_key(MQ_PART_XXH3, "21", 2, 1) == 0,
	   "with one partition every key goes to 0");
	return tap_done();
}
