/*
 * test-parse.c - strict parsing of numbers, sizes, durations, times and
 * delimiters (parse.c).  Every check is one TAP line.
 */
#include <config.h>

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mq.h"
#include "tap.h"

/* ---- mq_parse_u64 / mq_parse_i64 ---- */

static void
u64_ok(const char *s, uint64_t min, uint64_t max, uint64_t want)
{
	uint64_t v = 12345;
	int rc = mq_parse_u64(s, min, max, &v);

	ok(rc == 0 && v == want, "u64 '%s' in [%llu, %llu] is %llu", s,
	   (unsigned long long)min, (unsigned long long)max,
	   (unsigned long long)want);
}

static void
u64_bad(const char *s, uint64_t min, uint64_t max, int code)
{
	uint64_t v = 12345;
	int rc;

	errno = 0;
	rc = mq_parse_u64(s, min, max, &v);
	ok(rc == -1 && errno == code && v == 12345,
	   "u64 '%s' in [%llu, %llu] is refused with %s and *out untouched",
	   s, (unsigned long long)min, (unsigned long long)max,
	   code == ERANGE ? "ERANGE" : "EINVAL");
}

static void
i64_ok(const char *s, int64_t min, int64_t max, int64_t want)
{
	int64_t v = 12345;
	int rc = mq_parse_i64(s, min, max, &v);

	ok(rc == 0 && v == want, "i64 '%s' is %lld", s, (long long)want);
}

static void
i64_bad(const char *s, int64_t min, int64_t max)
{
	int64_t v = 12345;
	int rc = mq_parse_i64(s, min, max, &v);

	ok(rc == -1 && v == 12345, "i64 '%s' in [%lld, %lld] is refused", s,
	   (long long)min, (long long)max);
}

static void
test_ints(void)
{
	u64_ok("0", 0, UINT64_MAX, 0);
	u64_ok("42", 0, UINT64_MAX, 42);
	u64_ok("007", 0, UINT64_MAX, 7);
	u64_ok("18446744073709551615", 0, UINT64_MAX, UINT64_MAX);
	u64_ok("5", 5, 10, 5);
	u64_ok("10", 5, 10, 10);
	u64_bad("4", 5, 10, ERANGE);
	u64_bad("11", 5, 10, ERANGE);
	u64_bad("18446744073709551616", 0, UINT64_MAX, ERANGE);
	u64_bad("99999999999999999999999", 0, UINT64_MAX, ERANGE);
	u64_bad("", 0, UINT64_MAX, EINVAL);
	u64_bad(NULL, 0, UINT64_MAX, EINVAL);
	u64_bad("+1", 0, UINT64_MAX, EINVAL);
	u64_bad("-1", 0, UINT64_MAX, EINVAL);
	u64_bad("-0", 0, UINT64_MAX, EINVAL);
	u64_bad(" 1", 0, UINT64_MAX, EINVAL);
	u64_bad("1 ", 0, UINT64_MAX, EINVAL);
	u64_bad("0x10", 0, UINT64_MAX, EINVAL);
	u64_bad("1e3", 0, UINT64_MAX, EINVAL);

	i64_ok("0", INT64_MIN, INT64_MAX, 0);
	i64_ok("-0", INT64_MIN, INT64_MAX, 0);
	i64_ok("-17", INT64_MIN, INT64_MAX, -17);
	i64_ok("+1", INT64_MIN, INT64_MAX, 1);
	i64_ok("9223372036854775807", INT64_MIN, INT64_MAX, INT64_MAX);
	i64_ok("-9223372036854775808", INT64_MIN, INT64_MAX, INT64_MIN);
	i64_ok("-5", -5, 5, -5);
	i64_ok("5", -5, 5, 5);
	i64_bad("-6", -5, 5);
	i64_bad("6", -5, 5);
	i64_bad("9223372036854775808", INT64_MIN, INT64_MAX);
	i64_bad("-9223372036854775809", INT64_MIN, INT64_MAX);
	i64_bad("18446744073709551616", INT64_MIN, INT64_MAX);
	i64_bad("", INT64_MIN, INT64_MAX);
	i64_bad("-", INT64_MIN, INT64_MAX);
	i64_bad("+", INT64_MIN, INT64_MAX);
	i64_bad("--1", INT64_MIN, INT64_MAX);
	i64_bad("+-1", INT64_MIN, INT64_MAX);
	i64_bad(" 1", INT64_MIN, INT64_MAX);
	i64_bad("1 ", INT64_MIN, INT64_MAX);
	i64_bad("0x10", INT64_MIN, INT64_MAX);
	i64_bad(NULL, INT64_MIN, INT64_MAX);
}

/* ---- sizes and durations ---- */

static void
size_ok(const char *s, bool neg, int64_t want)
{
	struct mq_err e = {0};
	int64_t v = 12345;
	int rc = mq_parse_size(s, neg, &v, &e);

	ok(rc == 0 && v == want, "size '%s'%s is %lld (got %lld, '%s')", s,
	   neg ? " (-1 allowed)" : "", (long long)want, (long long)v, e.msg);
}

static void
size_bad(const char *s, bool neg, const char *needle)
{
	struct mq_err e = {0};
	int64_t v = 12345;
	int rc = mq_parse_size(s, neg, &v, &e);

	ok(rc == -1 && e.code == EINVAL && v == 12345 &&
	   (!needle || strstr(e.msg, needle)),
	   "size '%s'%s is refused with EINVAL%s%s (msg '%s')", s,
	   neg ? " (-1 allowed)" : "", needle ? ", message has " : "",
	   needle ? needle : "", e.msg);
}

static void
dur_ok(const char *s, bool neg, int64_t want)
{
	struct mq_err e = {0};
	int64_t v = 12345;
	int rc = mq_parse_duration(s, neg, &v, &e);

	ok(rc == 0 && v == want, "duration '%s' is %lld ms (got %lld, '%s')",
	   s, (long long)want, (long long)v, e.msg);
}

static void
dur_bad(const char *s, bool neg, const char *needle)
{
	struct mq_err e = {0};
	int64_t v = 12345;
	int rc = mq_parse_duration(s, neg, &v, &e);

	ok(rc == -1 && e.code == EINVAL && v == 12345 &&
	   (!needle || strstr(e.msg, needle)),
	   "duration '%s'%s is refused with EINVAL (msg '%s')", s,
	   neg ? " (-1 allowed)" : "", e.msg);
}

static void
test_sizes(void)
{
	const int64_t Ki = 1024, Mi = Ki * Ki, Gi = Mi * Ki, Ti = Gi * Ki;

	size_ok("0", false, 0);
	size_ok("17", false, 17);
	size_ok("17B", false, 17);
	size_ok("3k", false, 3 * Ki);
	size_ok("3K", false, 3 * Ki);
	size_ok("3KiB", false, 3 * Ki);
	size_ok("3KB", false, 3000);
	size_ok("5M", false, 5 * Mi);
	size_ok("5MiB", false, 5 * Mi);
	size_ok("5MB", false, 5000000);
	size_ok("7G", false, 7 * Gi);
	size_ok("7GiB", false, 7 * Gi);
	size_ok("7GB", false, 7000000000LL);
	size_ok("2T", false, 2 * Ti);
	size_ok("2TiB", false, 2 * Ti);
	size_ok("2TB", false, 2000000000000LL);
	size_ok("9223372036854775807", false, INT64_MAX);
	size_ok("8388607T", false, 8388607 * Ti);
	size_ok("-1", true, -1);
	size_bad("-1", false, NULL);
	size_bad("-2", true, NULL);
	size_bad("", false, NULL);
	size_bad("k", false, NULL);
	size_bad("10XB", false, "unit");
	size_bad("10XB", false, "XB");
	size_bad("10 k", false, "unit");
	size_bad("10kb", false, "unit");
	size_bad("10m", false, "unit");
	size_bad("1.5M", false, NULL);
	size_bad("9999999999T", false, "too large");
	size_bad("8388608T", false, "too large");
	size_bad("9223372036854775808", false, "too large");
	size_bad("99999999999999999999999999999999999", false, NULL);

	dur_ok("0", false, 0);
	dur_ok("250", false, 250);
	dur_ok("250ms", false, 250);
	dur_ok("3s", false, 3000);
	dur_ok("2m", false, 120000);
	dur_ok("2min", false, 120000);
	dur_ok("5h", false, 5 * 3600000LL);
	dur_ok("7d", false, 7 * 86400000LL);
	dur_ok("2w", false, 2 * 604800000LL);
	dur_ok("-1", true, -1);
	dur_bad("-1", false, NULL);
	dur_bad("3x", false, "unit");
	dur_bad("3sec", false, "unit");
	dur_bad("3M", false, "unit");
	dur_bad("", false, NULL);
	dur_bad("h", false, NULL);
	dur_bad("99999999999999w", false, "too large");
}

/* ---- points in time ---- */

static void
time_ok(const char *s, int64_t want)
{
	struct mq_err e = {0};
	int64_t v = 12345;
	int rc = mq_parse_time(s, &v, &e);

	ok(rc == 0 && v == want, "time '%s' is %lld (got %lld, '%s')", s,
	   (long long)want, (long long)v, e.msg);
}

static void
time_bad(const char *s)
{
	struct mq_err e = {0};
	int64_t v = 12345;
	int rc = mq_parse_time(s, &v, &e);

	ok(rc == -1 && e.code == EINVAL && strstr(e.msg, "time"),
	   "time '%s' is refused with EINVAL (got rc %d, %lld, '%s')", s, rc,
	   (long long)v, e.msg);
}

static void
test_times(void)
{
	const int64_t T = 1700000000000LL;   /* 2023-11-14T22:13:20Z */

	time_ok("0", 0);
	time_ok("1700000000000", T);
	time_ok("9223372036854775807", INT64_MAX);
	time_bad("9223372036854775808");
	time_bad("");
	time_ok("1970-01-01T00:00:00Z", 0);
	time_ok("1970-01-01T00:00Z", 0);
	time_ok("2023-11-14T22:13:20Z", T);
	time_ok("2023-11-14T22:13:20.5Z", T + 500);
	time_ok("2023-11-14T22:13:20.123Z", T + 123);
	time_ok("2023-11-14T22:13:20,25Z", T + 250);
	time_ok("2023-11-14T22:13:20.007Z", T + 7);
	time_ok("2023-11-14T23:13:20+01:00", T);
	time_ok("2023-11-14T20:43:20-0130", T);
	time_ok("2023-11-15T00:13:20+02", T);
	time_ok("2023-11-14T22:13:20+00:00", T);
	time_ok("2023-11-14 22:13:20Z", T);
	time_ok("2023-11-14T22:13Z", T - 20000);
	time_ok("2024-02-29T00:00:00Z", 1709164800000LL);
	time_ok("2000-02-29T12:00:00Z", 951825600000LL);
	time_bad("2023-02-29T00:00:00Z");
	time_bad("1900-02-29T00:00:00Z");
	time_bad("2023-04-31T00:00:00Z");
	time_bad("2023-13-01T00:00:00Z");
	time_bad("2023-00-01T00:00:00Z");
	time_bad("2023-11-00T00:00:00Z");
	time_bad("2023-11-14T24:00:00Z");
	time_bad("2023-11-14T22:60:00Z");
	time_bad("2023-11-14T22:13:60Z");
	time_bad("2023-11-14T22:13:20Zjunk");
	time_bad("2023-11-14T22:13:20Z ");
	time_bad("2023-11-14T22:13:20+01:00x");
	time_bad("2023-11-14T22:13:20.Z");
	time_bad("2023-11-14T22:13:20+24:00");
	time_bad("2023-11-14T22:13:20+01:60");
	time_bad("2023-11-14T22");
	time_bad("2023-11-14T");
	time_bad("2023-11-14x");
	time_bad("2023-1-14");
	time_bad("23-11-14");
	time_bad("1969-12-31T23:59:59Z");
	time_bad("1970-01-01T00:00:00+00:01");
	time_bad("yesterday");
	time_bad("-1");
	/* A colon must be followed by the zone's minutes. */
	time_bad("2023-11-14T22:13:20+01:");

	/* Without a zone the time is local: make local UTC for this. */
	{
		char *old = getenv("TZ") ? strdup(getenv("TZ")) : NULL;
		setenv("TZ", "UTC", 1);
		tzset();
		time_ok("2023-11-14", 1699920000000LL);
		time_ok("1970-01-01", 0);
		time_ok("2023-11-14T22:13:20", T);
		time_ok("2023-11-14 22:13:20.5", T + 500);
		setenv("TZ", "UTC-2", 1);  /* POSIX: two hours east */
		tzset();
		time_ok("2023-11-15T00:13:20", T);
		if (old) {
			setenv("TZ", old, 1);
			free(old);
		} else {
			unsetenv("TZ");
		}
		tzset();
	}
}

/* ---- delimiters ---- */

static void
delim_ok(const char *s, const char *want, size_t wlen)
{
	struct mq_err e = {0};
	char *d = NULL;
	size_t n = 99;
	int rc = mq_parse_delim(s, &d, &n, &e);

	ok(rc == 0 && d && n == wlen && memcmp(d, want, wlen) == 0,
	   "delimiter '%s' is %zu byte(s) (got rc %d, %zu, '%s')", s, wlen, rc,
	   n, e.msg);
	free(d);
}

static void
delim_bad(const char *s, const char *needle)
{
	struct mq_err e = {0};
	char *d = NULL;
	size_t n = 99;
	int rc = mq_parse_delim(s, &d, &n, &e);

	ok(rc == -1 && e.code == EINVAL && d == NULL && n == 99 &&
	   strstr(e.msg, needle),
	   "delimiter '%s' is refused with a message containing '%s' ('%s')",
	   s, needle, e.msg);
	free(d);
}

static void
test_delims(void)
{
	delim_ok(",", ",", 1);
	delim_ok("\\n", "\n", 1);
	delim_ok("\\t", "\t", 1);
	delim_ok("\\r", "\r", 1);
	delim_ok("\\0", "\0", 1);
	delim_ok("\\\\", "\\", 1);
	delim_ok("\\x1e", "\x1e", 1);
	delim_ok("\\x41", "A", 1);
	delim_ok("\\xfF", "\xff", 1);
	delim_ok("||", "||", 2);
	delim_ok("\\r\\n", "\r\n", 2);
	delim_ok("a\\0b", "a\0b", 3);
	delim_ok("\\0\\0", "\0\0", 2);
	delim_ok("--\\x00--", "--\0--", 5);
	delim_bad("", "empty");
	delim_bad("\\x4", "\\x");
	delim_bad("\\x", "\\x");
	delim_bad("\\xg1", "\\x");
	delim_bad("\\q", "escape");
	delim_bad("ab\\", "escape");
	delim_bad("\\", "escape");
}

/* ---- ISO-8601 durations (Java's Duration.parse, Kafka --by-duration) ---- */

static void
iso_ok(const char *s, int64_t want)
{
	struct mq_err e = {0};
	int64_t v = 12345;
	int rc = mq_parse_iso_duration(s, &v, &e);

	ok(rc == 0 && v == want, "ISO duration '%s' is %lld ms (got %lld, "
	   "'%s')", s, (long long)want, (long long)v, e.msg);
}

static void
iso_bad(const char *s, const char *needle)
{
	struct mq_err e = {0};
	int64_t v = 12345;
	int rc = mq_parse_iso_duration(s, &v, &e);

	ok(rc == -1 && e.code == EINVAL && v == 12345 && strstr(e.msg, needle),
	   "ISO duration '%s' is refused with '%s' (msg '%s')", s, needle,
	   e.msg);
}

static void
test_iso_durations(void)
{
	const int64_t S = 1000, M = 60 * S, H = 60 * M, D = 24 * H;

	/* The examples of Duration.parse's documentation. */
	iso_ok("PT20.345S", 20345);
	iso_ok("PT15M", 15 * M);
	iso_ok("PT10H", 10 * H);
	iso_ok("P2D", 2 * D);
	iso_ok("P2DT3H4M", 2 * D + 3 * H + 4 * M);
	iso_ok("-PT-6H+3M", 6 * H - 3 * M);
	/* Letters in either case, sections in order, one after the T. */
	iso_ok("pt2h", 2 * H);
	iso_ok("p1dt30m", D + 30 * M);
	iso_ok("P1DT2H3M4.5S", D + 2 * H + 3 * M + 4500);
	iso_ok("+PT1S", S);
	iso_ok("PT0S", 0);
	iso_ok("P0D", 0);
	iso_ok("PT-1H90M", 30 * M);
	/* Fractions: "." or ",", 0 to 9 digits, below 1 ms dropped. */
	iso_ok("PT1.S", S);
	iso_ok("PT1,5S", 1500);
	iso_ok("PT0.123456789S", 123);
	iso_ok("PT+2H-1.5S", 2 * H - 1500);
	iso_ok("PT9223372036854775.807S", INT64_MAX);
	iso_ok("P106751991167DT4H", 106751991167 * D + 4 * H);
	iso_bad("", "expected an ISO-8601 duration");
	iso_bad("P", "expected");
	iso_bad("PT", "expected");
	iso_bad("P1DT", "expected");
	iso_bad("2H", "expected");
	iso_bad("T2H", "expected");
	iso_bad("P2H", "expected");
	iso_bad("PT2D", "expected");
	iso_bad("P1M", "expected");
	iso_bad("P1Y", "expected");
	iso_bad("P1W", "expected");
	iso_bad("PT1M1H", "expected");
	iso_bad("PT1H1H", "expected");
	iso_bad("PTT1H", "expected");
	iso_bad("PT1.5H", "expected");
	iso_bad("PT1.1234567890S", "expected");
	iso_bad("PT.5S", "expected");
	iso_bad("PT+H", "expected");
	iso_bad("PT1H ", "expected");
	iso_bad(" PT1H", "expected");
	iso_bad("--PT1H", "expected");
	iso_bad("PT1H-", "expected");
	iso_bad("-PT1H", "negative");
	iso_bad("PT-1S", "negative");
	iso_bad("PT9223372036854775.808S", "too large");
	iso_bad("P106751991168D", "too large");
	iso_bad("PT99999999999999999999H", "too large");
	iso_bad("P106751991167DT8H", "too large");
	iso_bad("-P-1DT-9223372036768375.808S", "too large");
	iso_bad("PT-1.5S+2H", "expected");
}

int
main(void)
{
	test_ints();
	test_sizes();
	test_times();
	test_delims();
	test_iso_durations();
	return tap_done();
}
