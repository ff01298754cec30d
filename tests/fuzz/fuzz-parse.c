/*
 * fuzz-parse.c - what users type: mq_parse_time, mq_parse_duration,
 * mq_parse_iso_duration, mq_parse_size and mq_parse_delim (and the
 * integers under them) on any
 * NUL-terminated text.  Accepted values must be in range: sizes and
 * durations >= 0 (or -1 where allowed), times >= 0 and, below the year
 * 10000, the same again after mq_time_format; a delimiter of 1 to strlen
 * bytes.  Local time is UTC here, so results do not depend on the host.
 */
#include <config.h>

#include <errno.h>
#include <time.h>

#include "fuzz.h"

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	setenv("TZ", "UTC", 1);
	tzset();
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1), *d, iso[64];
	struct mq_err e;
	int64_t v, w;
	uint64_t u;
	size_t dlen;

	FUZZ_CHECK(s);
	memcpy(s, data, size);
	s[size] = '\0';

	if (mq_parse_u64(s, 0, UINT64_MAX, &u) == 0)
		FUZZ_CHECK(s[0] >= '0' && s[0] <= '9');
	if (mq_parse_i64(s, INT64_MIN, INT64_MAX, &v) == 0 && s[0] != '-' &&
	    s[0] != '+')
		FUZZ_CHECK(mq_parse_u64(s, 0, INT64_MAX, &u) == 0 &&
			   (int64_t)u == v);

	if (mq_parse_size(s, false, &v, &e) == 0) {
		FUZZ_CHECK(v >= 0);
		FUZZ_CHECK(mq_parse_size(s, true, &w, &e) == 0 && w == v);
	} else {
		FUZZ_CHECK(e.code == EINVAL && e.msg[0]);
	}
	if (mq_parse_size(s, true, &v, &e) == 0)
		FUZZ_CHECK(v >= -1);
	if (mq_parse_duration(s, false, &v, &e) == 0) {
		FUZZ_CHECK(v >= 0);
		FUZZ_CHECK(mq_parse_duration(s, true, &w, &e) == 0 && w == v);
	} else {
		FUZZ_CHECK(e.code == EINVAL && e.msg[0]);
	}
	if (mq_parse_duration(s, true, &v, &e) == 0)
		FUZZ_CHECK(v >= -1);
	if (mq_parse_iso_duration(s, &v, &e) == 0) {
		/* In range, and the same again as whole seconds and ms. */
		FUZZ_CHECK(v >= 0);
		snprintf(iso, sizeof iso, "PT%lld.%03lldS",
			 (long long)(v / 1000), (long long)(v % 1000));
		FUZZ_CHECK(mq_parse_iso_duration(iso, &w, &e) == 0 && w == v);
	} else {
		FUZZ_CHECK(e.code == EINVAL && e.msg[0]);
	}

	if (mq_parse_time(s, &v, &e) == 0) {
		FUZZ_CHECK(v >= 0);
		if (v < 253402300800000LL) {   /* 10000-01-01 */
			mq_time_format(v, iso, sizeof iso);
			FUZZ_CHECK(mq_parse_time(iso, &w, &e) == 0 && w == v);
		}
	} else {
		FUZZ_CHECK(e.code == EINVAL && e.msg[0]);
	}

	if (mq_parse_delim(s, &d, &dlen, &e) == 0) {
		FUZZ_CHECK(dlen >= 1 && dlen <= strlen(s));
		free(d);
	} else {
		FUZZ_CHECK(e.code == EINVAL && e.msg[0]);
	}
	free(s);
	return 0;
}
