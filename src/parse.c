/*
 * parse.c - strict parsing of what users type: numbers, sizes with units,
 * durations, points in time and delimiters with escapes.  Nothing here
 * accepts trailing junk, spaces or silent overflow (no atoi): a bad value
 * is refused with a message saying what was expected.
 */
#include <config.h>

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mq.h"

int
mq_parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
	uint64_t v = 0;
	const char *p = s;

	if (!s || !*s)
		return errno = EINVAL, -1;
	for (; *p; p++) {
		if (*p < '0' || *p > '9')
			return errno = EINVAL, -1;
		if (v > (UINT64_MAX - (uint64_t)(*p - '0')) / 10)
			return errno = ERANGE, -1;
		v = v * 10 + (uint64_t)(*p - '0');
	}
	if (v < min || v > max)
		return errno = ERANGE, -1;
	*out = v;
	return 0;
}

int
mq_parse_i64(const char *s, int64_t min, int64_t max, int64_t *out)
{
	uint64_t m;
	int neg = 0;

	if (!s)
		return errno = EINVAL, -1;
	if (*s == '-' || *s == '+') {
		neg = *s == '-';
		s++;
	}
	if (mq_parse_u64(s, 0, (uint64_t)INT64_MAX + (uint64_t)neg, &m) < 0)
		return -1;
	int64_t v = neg ? (int64_t)(0 - m) : (int64_t)m;
	if (v < min || v > max)
		return errno = ERANGE, -1;
	*out = v;
	return 0;
}

struct unit {
	const char *name;
	int64_t mult;
};

static const struct unit size_units[] = {
	{"", 1}, {"B", 1},
	{"k", 1LL << 10}, {"K", 1LL << 10}, {"KiB", 1LL << 10}, {"KB", 1000LL},
	{"M", 1LL << 20}, {"MiB", 1LL << 20}, {"MB", 1000000LL},
	{"G", 1LL << 30}, {"GiB", 1LL << 30}, {"GB", 1000000000LL},
	{"T", 1LL << 40}, {"TiB", 1LL << 40}, {"TB", 1000000000000LL},
	{NULL, 0}
};

static const struct unit time_units[] = {
	{"", 1}, {"ms", 1}, {"s", 1000}, {"m", 60000}, {"min", 60000},
	{"h", 3600000}, {"d", 86400000}, {"w", 604800000},
	{NULL, 0}
};

static int
parse_with_unit(const char *s, bool allow_neg, const struct unit *units,
		const char *what, const char *hint, int64_t *out,
		struct mq_err *e)
{
	char digits[32];
	size_t n = 0;
	uint64_t v;

	if (!s || !*s)
		return mq_err_set(e, EINVAL, "empty %s", what);
	if (allow_neg && strcmp(s, "-1") == 0) {
		*out = -1;
		return 0;
	}
	while (s[n] >= '0' && s[n] <= '9')
		n++;
	if (n == 0 || n >= sizeof digits)
		return mq_err_set(e, EINVAL, "bad %s '%s': expected digits "
				  "and an optional unit (%s)%s", what, s, hint,
				  allow_neg ? " or -1" : "");
	memcpy(digits, s, n);
	digits[n] = '\0';
	if (mq_parse_u64(digits, 0, INT64_MAX, &v) < 0)
		return mq_err_set(e, EINVAL, "bad %s '%s': number too large",
				  what, s);
	for (const struct unit *u = units; u->name; u++) {
		if (strcmp(s + n, u->name) == 0) {
			if (v > (uint64_t)(INT64_MAX / u->mult))
				return mq_err_set(e, EINVAL,
						  "bad %s '%s': too large",
						  what, s);
			*out = (int64_t)v * u->mult;
			return 0;
		}
	}
	return mq_err_set(e, EINVAL, "bad unit '%s' in %s '%s' (units: %s)",
			  s + n, what, s, hint);
}

int
mq_parse_size(const char *s, bool allow_neg, int64_t *out, struct mq_err *e)
{
	return parse_with_unit(s, allow_neg, size_units, "size",
			       "k, M, G, T, KiB, MiB, GiB, TiB, KB, MB, GB, TB",
			       out, e);
}

int
mq_parse_duration(const char *s, bool allow_neg, int64_t *out,
		  struct mq_err *e)
{
	return parse_with_unit(s, allow_neg, time_units, "duration",
			       "ms, s, m, min, h, d, w", out, e);
}

/*
 * ISO-8601 durations as Java's Duration.parse reads them (Kafka's
 * --by-duration): [+-]P[nD][T[nH][nM][n[.f]S]], letters in either case,
 * each n digits with an optional sign, f 0 to 9 digits after "." or ",",
 * days of 24 hours, the sections in that order, at least one, and one
 * after a "T".  Fractions of a millisecond are dropped.
 */
int
mq_parse_iso_duration(const char *s, int64_t *out, struct mq_err *e)
{
	static const struct {
		char unit;
		bool time;               /* after the T */
		int64_t ms;
	} sec[] = {
		{'D', false, 86400000}, {'H', true, 3600000},
		{'M', true, 60000}, {'S', true, 1000},
	};
	const char *p = s;
	bool neg = false, in_time = false, any = false, any_time = false;
	size_t next = 0;                 /* the first section still allowed */
	int64_t total = 0;

	if (*p == '+' || *p == '-')
		neg = *p++ == '-';
	if (*p != 'P' && *p != 'p')
		goto bad;
	for (p++; *p; ) {
		bool nneg = false;
		uint64_t v = 0;
		int64_t part, frac = 0;
		size_t i, nd = 0;
		char u;
		if ((*p == 'T' || *p == 't') && !in_time) {
			in_time = true;
			p++;
			continue;
		}
		if (*p == '+' || *p == '-')
			nneg = *p++ == '-';
		for (; *p >= '0' && *p <= '9'; p++, nd++)
			if (v > ((uint64_t)INT64_MAX - (uint64_t)(*p - '0')) / 10)
				goto large;
			else
				v = v * 10 + (uint64_t)(*p - '0');
		if (nd == 0)
			goto bad;
		if (*p == '.' || *p == ',') {
			/* Seconds only: the unit check below refuses others. */
			int k = 0;
			for (p++; *p >= '0' && *p <= '9'; p++, k++) {
				if (k >= 9)
					goto bad;
				if (k < 3)
					frac = frac * 10 + (*p - '0');
			}
			for (; k < 3; k++)
				frac *= 10;
			if (p[0] != 'S' && p[0] != 's')
				goto bad;
		}
		u = (char)(*p >= 'a' && *p <= 'z' ? *p - 'a' + 'A' : *p);
		for (i = next; i < sizeof sec / sizeof sec[0]; i++)
			if (sec[i].unit == u && sec[i].time == in_time)
				break;
		if (i == sizeof sec / sizeof sec[0])
			goto bad;
		if (__builtin_mul_overflow((int64_t)v, sec[i].ms, &part) ||
		    __builtin_add_overflow(part, frac, &part))
			goto large;
		if (__builtin_add_overflow(total, nneg ? -part : part, &total))
			goto large;
		next = i + 1;
		any = true;
		any_time |= in_time;
		p++;
	}
	if (!any || (in_time && !any_time))
		goto bad;
	if (neg && __builtin_sub_overflow((int64_t)0, total, &total))
		goto large;
	if (total < 0)
		return mq_err_set(e, EINVAL, "bad duration '%s': negative", s);
	*out = total;
	return 0;
bad:
	return mq_err_set(e, EINVAL, "bad duration '%s': expected an ISO-8601 "
			  "duration PnDTnHnMn.nS (e.g. PT2H, P1DT30M)", s);
large:
	return mq_err_set(e, EINVAL, "bad duration '%s': too large", s);
}

/* Days since 1970-01-01 of a proleptic Gregorian date. */
static int64_t
days_from_civil(int64_t y, int m, int d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	int64_t yoe = y - era * 400;
	int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static int
ndigits(const char **p, int n, int *out)
{
	int v = 0;

	for (int i = 0; i < n; i++) {
		if (!isdigit((unsigned char)(*p)[i]))
			return -1;
		v = v * 10 + ((*p)[i] - '0');
	}
	*p += n;
	*out = v;
	return 0;
}

int
mq_parse_time(const char *s, int64_t *out, struct mq_err *e)
{
	static const int mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31,
				    30, 31};
	const char *p = s;
	int y, mo, d, h = 0, mi = 0, sec = 0, ms = 0;
	int zone = 0, has_zone = 0;

	if (!s || !*s)
		return mq_err_set(e, EINVAL, "empty time");
	if (strspn(s, "0123456789") == strlen(s)) {
		uint64_t v;
		if (mq_parse_u64(s, 0, INT64_MAX, &v) < 0)
			return mq_err_set(e, EINVAL, "bad time '%s': too large",
					  s);
		*out = (int64_t)v;
		return 0;
	}
	if (ndigits(&p, 4, &y) < 0 || *p++ != '-' || ndigits(&p, 2, &mo) < 0 ||
	    *p++ != '-' || ndigits(&p, 2, &d) < 0)
		goto bad;
	if (*p == 'T' || *p == ' ') {
		p++;
		if (ndigits(&p, 2, &h) < 0 || *p++ != ':' ||
		    ndigits(&p, 2, &mi) < 0)
			goto bad;
		if (*p == ':') {
			p++;
			if (ndigits(&p, 2, &sec) < 0)
				goto bad;
			if (*p == '.' || *p == ',') {
				int scale = 100, nd = 0;
				p++;
				while (isdigit((unsigned char)*p)) {
					ms += (*p - '0') * scale;
					scale /= 10;
					p++;
					nd++;
				}
				if (nd == 0)
					goto bad;
			}
		}
	}
	if (*p == 'Z') {
		has_zone = 1;
		p++;
	} else if (*p == '+' || *p == '-') {
		int sign = *p++ == '-' ? -1 : 1, zh, zm = 0;
		if (ndigits(&p, 2, &zh) < 0)
			goto bad;
		if (*p == ':') {
			p++;
			if (ndigits(&p, 2, &zm) < 0)
				goto bad;
		} else if (*p && ndigits(&p, 2, &zm) < 0) {
			goto bad;
		}
		if (zh > 23 || zm > 59)
			goto bad;
		has_zone = 1;
		zone = sign * (zh * 60 + zm);
	}
	if (*p)
		goto bad;
	if (mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] ||
	    (mo == 2 && d == 29 && !(y % 4 == 0 && (y % 100 || y % 400 == 0)))
	    || h > 23 || mi > 59 || sec > 59)
		return mq_err_set(e, EINVAL, "bad time '%s': no such date or "
				  "time of day", s);
	if (has_zone) {
		int64_t secs = days_from_civil(y, mo, d) * 86400 + h * 3600 +
			       mi * 60 + sec - (int64_t)zone * 60;
		*out = secs * 1000 + ms;
	} else {
		struct tm tm = {0};
		tm.tm_year = y - 1900;
		tm.tm_mon = mo - 1;
		tm.tm_mday = d;
		tm.tm_hour = h;
		tm.tm_min = mi;
		tm.tm_sec = sec;
		tm.tm_isdst = -1;
		time_t t = mktime(&tm);
		if (t == (time_t)-1)
			return mq_err_set(e, EINVAL, "bad time '%s'", s);
		*out = (int64_t)t * 1000 + ms;
	}
	if (*out < 0)
		return mq_err_set(e, EINVAL, "bad time '%s': before 1970", s);
	return 0;
bad:
	return mq_err_set(e, EINVAL, "bad time '%s': expected epoch "
			  "milliseconds or YYYY-MM-DD[Thh:mm[:ss[.fff]]][Z|+hh:mm]",
			  s);
}

static int
hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int
mq_parse_delim(const char *s, char **out, size_t *len, struct mq_err *e)
{
	size_t n = strlen(s), k = 0;
	char *buf = malloc(n + 1);

	if (!buf)
		return mq_err_sys(e, "cannot parse delimiter");
	for (size_t i = 0; i < n; i++) {
		if (s[i] != '\\') {
			buf[k++] = s[i];
			continue;
		}
		switch (s[++i]) {
		case 'n': buf[k++] = '\n'; break;
		case 't': buf[k++] = '\t'; break;
		case 'r': buf[k++] = '\r'; break;
		case '0': buf[k++] = '\0'; break;
		case '\\': buf[k++] = '\\'; break;
		case 'x': {
			int hi = hexval((unsigned char)s[i + 1]);
			int lo = hi < 0 ? -1 : hexval((unsigned char)s[i + 2]);
			if (hi < 0 || lo < 0) {
				free(buf);
				return mq_err_set(e, EINVAL, "bad delimiter "
						  "'%s': \\x needs two hex "
						  "digits", s);
			}
			buf[k++] = (char)(hi * 16 + lo);
			i += 2;
			break;
		}
		default:
			free(buf);
			return mq_err_set(e, EINVAL, "bad delimiter '%s': "
					  "unknown escape (use \\n \\t \\r \\0 "
					  "\\\\ \\xNN)", s);
		}
	}
	if (k == 0) {
		free(buf);
		return mq_err_set(e, EINVAL, "empty delimiter");
	}
	*out = buf;
	*len = k;
	return 0;
}

void
mq_time_format(int64_t ms, char *buf, size_t n)
{
	time_t s = (time_t)(ms / 1000);
	struct tm tm;

	gmtime_r(&s, &tm);
	snprintf(buf, n, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ",
		 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
		 tm.tm_min, tm.tm_sec, (int)(ms % 1000));
}
