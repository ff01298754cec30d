/*
 * xrange.c - reads a whole Redis stream back for tools/bench/peers: a
 * minimal RESP client, compiled by the part with `cc -O2` into its work
 * dir, so that the read-back is timed with a client as lean as the
 * consumer it is compared with.
 *
 *   xrange PORT KEY CHUNK
 *
 * connects to 127.0.0.1:PORT and sends XRANGE KEY START + COUNT CHUNK,
 * START being "-" and then "(" and the last id seen, until a reply is
 * empty. It writes the value of each entry's first field and a newline to
 * stdout (in 1 MiB writes), so its output can be compared byte for byte
 * with the file the stream was filled from. Exit 0, or 1 with a message.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static int sock;
static char *in;		/* received, not yet parsed: in[pos..len) */
static size_t pos, len, cap;
static char out[1 << 20];
static size_t outn;

static void
die(const char *m)
{
	fprintf(stderr, "xrange: %s\n", m);
	exit(1);
}

static void
flush_out(void)
{
	for (size_t off = 0; off < outn;) {
		ssize_t w = write(1, out + off, outn - off);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			die("cannot write output");
		off += (size_t)w;
	}
	outn = 0;
}

static void
put(const char *p, size_t n)
{
	if (outn + n + 1 > sizeof out)
		flush_out();
	memcpy(out + outn, p, n);
	outn += n;
	out[outn++] = '\n';
}

static void
need(size_t n)			/* at least n unparsed bytes in in[] */
{
	while (len - pos < n) {
		ssize_t r;

		if (pos > 0) {		/* nothing before pos is in use */
			memmove(in, in + pos, len - pos);
			len -= pos;
			pos = 0;
		}
		if (len == cap) {
			cap = cap ? cap * 2 : 1 << 20;
			if (!(in = realloc(in, cap)))
				die("out of memory");
		}
		r = read(sock, in + len, cap - len);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			die("connection closed");
		len += (size_t)r;
	}
}

static long long
line_num(char type)		/* parses "<type>NUMBER\r\n" */
{
	char *e;
	long long v;

	need(1);
	for (;;) {
		char *nl = memchr(in + pos, '\n', len - pos);

		if (nl)
			break;
		need(len - pos + 1);
	}
	if (in[pos] == '-')
		die("error reply from redis");
	if (in[pos] != type)
		die("unexpected reply from redis");
	v = strtoll(in + pos + 1, &e, 10);
	pos = (size_t)(e - in) + 2;	/* past \r\n */
	return v;
}

static const char *
bulk(size_t *n)			/* a bulk string; valid until the next read */
{
	long long l = line_num('$');
	const char *p;

	if (l < 0)
		die("null bulk string");
	need((size_t)l + 2);
	p = in + pos;
	pos += (size_t)l + 2;
	*n = (size_t)l;
	return p;
}

static void
send_all(const char *p, size_t n)
{
	while (n) {
		ssize_t w = write(sock, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			die("cannot send");
		p += w;
		n -= (size_t)w;
	}
}

int
main(int argc, char **argv)
{
	struct sockaddr_in a = {.sin_family = AF_INET};
	char start[80] = "-", req[256], last[64];
	const char *key;
	int one = 1;

	if (argc != 4)
		die("usage: xrange PORT KEY CHUNK");
	key = argv[2];
	a.sin_port = htons((unsigned short)atoi(argv[1]));
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if ((sock = socket(AF_INET, SOCK_STREAM, 0)) < 0 ||
	    connect(sock, (struct sockaddr *)&a, sizeof a) < 0)
		die("cannot connect to redis");
	setsockopt(sock, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	for (;;) {
		long long n;
		int rl = snprintf(req, sizeof req,
				  "*6\r\n$6\r\nXRANGE\r\n$%zu\r\n%s\r\n$%zu\r\n%s\r\n"
				  "$1\r\n+\r\n$5\r\nCOUNT\r\n$%zu\r\n%s\r\n",
				  strlen(key), key, strlen(start), start,
				  strlen(argv[3]), argv[3]);

		send_all(req, (size_t)rl);
		n = line_num('*');
		if (n <= 0)
			break;
		for (long long i = 0; i < n; i++) {
			long long f;
			size_t idn, vn;
			const char *id, *v;

			if (line_num('*') != 2)
				die("unexpected entry");
			id = bulk(&idn);
			if (idn + 2 > sizeof last)
				die("id too long");
			memcpy(last, id, idn);
			last[idn] = 0;
			f = line_num('*');
			if (f < 2)
				die("entry without a field");
			(void)bulk(&vn);		/* field name */
			v = bulk(&vn);
			put(v, vn);
			for (long long j = 2; j < f; j++)
				(void)bulk(&vn);
		}
		snprintf(start, sizeof start, "(%s", last);
	}
	flush_out();
	return 0;
}
