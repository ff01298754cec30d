/*
 * lat.c - the two ends of tools/bench/latency: a paced generator and a
 * stamping reader, compiled by the part with `cc -O2` into its work dir.
 *
 *   lat gen RATE SECONDS   writes RATE lines a second for SECONDS to stdout,
 *                          one write(2) per line. Line i is due at
 *                          start + i/RATE on CLOCK_MONOTONIC; the generator
 *                          sleeps to that instant with clock_nanosleep
 *                          (TIMER_ABSTIME) and writes "SEQ DUE_NS " padded
 *                          with '.' to 99 bytes and a newline (100 bytes).
 *                          The stamp is the due time, not the time of the
 *                          write: if the generator falls behind (a blocked
 *                          pipe), the delay counts as latency instead of
 *                          being hidden (no coordinated omission).
 *   lat read COUNT IDLE_MS [RAW]
 *                          reads such lines from stdin and stamps each read
 *                          (2) on CLOCK_MONOTONIC as it returns; a line's
 *                          latency is that stamp minus its DUE_NS. Stops at
 *                          EOF, when line COUNT-1 has arrived, or when
 *                          nothing arrived for IDLE_MS after the first line.
 *                          Prints one line:
 *                          "received R lost L disorder D p50 P p99 P p99.9 P max P"
 *                          with latencies in microseconds; lost counts the
 *                          sequence numbers below COUNT never seen, disorder
 *                          the lines that came after a higher number or
 *                          twice. With RAW, it also appends each
 *                          latency (ns, one per line) to the file RAW.
 *                          Exit 0, or 1 on a malformed line.
 *   lat stats RAW          prints the same line's percentiles over every
 *                          latency in RAW (the pooled runs of one row), as
 *                          "samples N p50 P p99 P p99.9 P max P".
 *
 * Both ends use CLOCK_MONOTONIC, which all processes of one machine share.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static uint64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int
gen(long rate, double seconds)
{
	uint64_t n = (uint64_t)(rate * seconds), start, due;
	char line[100];

	start = now_ns() + 20000000u;	/* 20 ms to settle */
	for (uint64_t i = 0; i < n; i++) {
		struct timespec ts;
		int len;

		due = start + i * 1000000000u / (uint64_t)rate;
		ts.tv_sec = (time_t)(due / 1000000000u);
		ts.tv_nsec = (long)(due % 1000000000u);
		while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts,
				       NULL) == EINTR)
			;
		len = snprintf(line, sizeof line, "%llu %llu ",
			       (unsigned long long)i, (unsigned long long)due);
		memset(line + len, '.', sizeof line - 1 - (size_t)len);
		line[sizeof line - 1] = '\n';
		for (size_t off = 0; off < sizeof line;) {
			ssize_t w = write(1, line + off, sizeof line - off);

			if (w < 0 && errno == EINTR)
				continue;
			if (w < 0) {
				perror("lat gen: write");
				return 1;
			}
			off += (size_t)w;
		}
	}
	return 0;
}

static int
cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static double
pct(const uint64_t *v, size_t n, double p)
{
	size_t i;

	if (n == 0)
		return 0;
	i = (size_t)(p / 100.0 * (double)n + 0.999999);	/* nearest rank */
	if (i < 1)
		i = 1;
	if (i > n)
		i = n;
	return (double)v[i - 1] / 1000.0;
}

static int
rd(uint64_t count, int idle_ms, const char *raw)
{
	static char buf[1 << 16];
	uint64_t *lat = calloc(count ? count : 1, sizeof *lat);
	unsigned char *seen = calloc(count ? count : 1, 1);
	uint64_t got = 0, unique = 0, disorder = 0, high = 0;
	size_t have = 0;
	int any = 0, done = 0;

	if (!lat || !seen) {
		perror("lat read");
		return 1;
	}
	while (!done) {
		struct pollfd p = {.fd = 0, .events = POLLIN};
		ssize_t r;
		uint64_t t;
		char *s, *nl;

		if (any) {
			int pr = poll(&p, 1, idle_ms);

			if (pr == 0)
				break;
			if (pr < 0 && errno == EINTR)
				continue;
		}
		r = read(0, buf + have, sizeof buf - have);
		t = now_ns();
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		any = 1;
		have += (size_t)r;
		s = buf;
		while ((nl = memchr(s, '\n', have - (size_t)(s - buf)))) {
			unsigned long long seq, due;

			*nl = 0;
			if (sscanf(s, "%llu %llu", &seq, &due) != 2) {
				fprintf(stderr, "lat read: malformed line '%.40s'\n", s);
				return 1;
			}
			if (seq < count) {
				if (seen[seq] || (got && seq < high))
					disorder++;
				if (!seen[seq]) {
					seen[seq] = 1;
					lat[unique++] = t > due ? t - due : 0;
				}
			}
			if (seq > high)
				high = seq;
			got++;
			s = nl + 1;
			if (count && seq == count - 1)
				done = 1;
		}
		have -= (size_t)(s - buf);
		memmove(buf, s, have);
	}
	if (raw) {
		FILE *f = fopen(raw, "a");

		if (!f) {
			perror(raw);
			return 1;
		}
		for (uint64_t i = 0; i < unique; i++)
			fprintf(f, "%llu\n", (unsigned long long)lat[i]);
		if (fclose(f) != 0) {
			perror(raw);
			return 1;
		}
	}
	qsort(lat, unique, sizeof *lat, cmp_u64);
	printf("received %llu lost %llu disorder %llu p50 %.1f p99 %.1f "
	       "p99.9 %.1f max %.1f\n", (unsigned long long)got,
	       (unsigned long long)(count - unique),
	       (unsigned long long)disorder, pct(lat, unique, 50),
	       pct(lat, unique, 99), pct(lat, unique, 99.9),
	       unique ? (double)lat[unique - 1] / 1000.0 : 0.0);
	return 0;
}

static int
stats(const char *raw)
{
	FILE *f = fopen(raw, "r");
	uint64_t *v = NULL;
	size_t n = 0, cap = 0;
	unsigned long long x;

	if (!f) {
		perror(raw);
		return 1;
	}
	while (fscanf(f, "%llu", &x) == 1) {
		if (n == cap) {
			cap = cap ? cap * 2 : 65536;
			if (!(v = realloc(v, cap * sizeof *v))) {
				perror("lat stats");
				return 1;
			}
		}
		v[n++] = x;
	}
	fclose(f);
	qsort(v, n, sizeof *v, cmp_u64);
	printf("samples %zu p50 %.1f p99 %.1f p99.9 %.1f max %.1f\n", n,
	       pct(v, n, 50), pct(v, n, 99), pct(v, n, 99.9),
	       n ? (double)v[n - 1] / 1000.0 : 0.0);
	free(v);
	return 0;
}

int
main(int argc, char **argv)
{
	if (argc == 4 && strcmp(argv[1], "gen") == 0)
		return gen(atol(argv[2]), atof(argv[3]));
	if ((argc == 4 || argc == 5) && strcmp(argv[1], "read") == 0)
		return rd(strtoull(argv[2], NULL, 10), atoi(argv[3]),
			  argc == 5 ? argv[4] : NULL);
	if (argc == 3 && strcmp(argv[1], "stats") == 0)
		return stats(argv[2]);
	fprintf(stderr, "usage: lat gen RATE SECONDS | "
		"lat read COUNT IDLE_MS [RAW] | lat stats RAW\n");
	return 2;
}
