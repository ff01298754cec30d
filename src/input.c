/*
 * input.c - splitting an input stream into messages at a delimiter of one
 * or more bytes.  Data is read in large chunks into one buffer and
 * messages are handed out as pointers into it, so a message costs a
 * memchr/memmem and no copy.  The buffer grows only as far as the longest
 * message needs, up to a cap just above max.message.bytes: a longer
 * message is reported as soon as it passes the cap, without reading the
 * rest of it.  Waiting for input happens in ppoll with SIGINT and SIGTERM
 * unblocked only there, so a signal is never lost between a check of the
 * stop flag and the wait.
 */
#include <config.h>

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mqcmd.h"

#define CHUNK (1024 * 1024)

int
mq_input_init(struct mq_input *in, int fd, const char *name,
	      const char *delim, size_t dlen, size_t maxmsg)
{
	memset(in, 0, sizeof *in);
	in->fd = fd;
	in->name = name;
	in->delim = delim;
	in->dlen = dlen;
	in->maxcap = maxmsg + dlen + CHUNK;
	in->cap = CHUNK;
	in->buf = malloc(in->cap);
	return in->buf ? 0 : -1;
}

void
mq_input_free(struct mq_input *in)
{
	free(in->buf);
	in->buf = NULL;
}

int
mq_input_next_slow(struct mq_input *in, const unsigned char **msg,
		   size_t *len)
{
	unsigned char *p = in->buf + in->start, *hit;
	size_t avail = in->end - in->start;

	if (in->scan > avail)
		in->scan = avail;
	if (in->dlen == 1)
		hit = memchr(p + in->scan, in->delim[0], avail - in->scan);
	else
		hit = memmem(p + in->scan, avail - in->scan, in->delim,
			     in->dlen);
	if (hit) {
		*msg = p;
		*len = (size_t)(hit - p);
		in->start += *len + in->dlen;
		in->offset += *len + in->dlen;
		in->msgno++;
		in->scan = 0;
		return 0;
	}
	if (in->eof) {
		if (avail == 0)
			return 2;
		*msg = p;
		*len = avail;
		in->start = in->end;
		in->offset += avail;
		in->msgno++;
		in->scan = 0;
		return 0;
	}
	/* Resume the search where this one stopped (a delimiter may
	 * straddle the boundary, so back up dlen - 1 bytes). */
	in->scan = avail >= in->dlen ? avail - in->dlen + 1 : 0;
	if (avail >= in->maxcap)
		return errno = EMSGSIZE, -1;
	return 1;
}

int
mq_input_fill(struct mq_input *in, int timeout_ms,
	      volatile sig_atomic_t *stop)
{
	struct pollfd pfd = {in->fd, POLLIN, 0};
	ssize_t r;
	int rc;

	if (in->start > 0 && (in->start == in->end ||
			      in->end > in->cap - in->cap / 4)) {
		memmove(in->buf, in->buf + in->start, in->end - in->start);
		in->end -= in->start;
		in->start = 0;
	}
	if (in->end == in->cap) {
		size_t cap = in->cap * 2 > in->maxcap ? in->maxcap
						      : in->cap * 2;
		unsigned char *b = realloc(in->buf, cap);
		if (!b)
			return -1;
		in->buf = b;
		in->cap = cap;
	}
	rc = mq_wait(&pfd, 1, timeout_ms, stop);
	if (rc == -2)
		return 3;
	if (rc < 0)
		return -1;
	if (rc == 0)
		return 1;
	do
		r = read(in->fd, in->buf + in->end, in->cap - in->end);
	while (r < 0 && errno == EINTR && !*stop);
	if (r < 0)
		return errno == EINTR ? 3 : -1;
	if (r == 0) {
		in->eof = true;
		return 2;
	}
	in->end += (size_t)r;
	return 0;
}
