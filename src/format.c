/*
 * format.c - consumer output: a buffered writer for stdout and the -F
 * format language of kcat (%s value, %k key, %t topic, %p partition,
 * %o offset, %T timestamp, %h headers, %S value size, %K key size, %%,
 * and the escapes \n \t \r \\ \0 \xNN).  A format is compiled once into a
 * list of operations; rendering a message appends to the output buffer
 * with hand-rolled integer formatting, so it costs no printf per field.
 */
#include <config.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "mqcmd.h"

#define OUT_CAP (256 * 1024)
#define OUT_SLICE_MS 100   /* a blocked write asks its hook this often */

int
mq_out_init(struct mq_out *o, int fd)
{
	memset(o, 0, sizeof *o);
	o->fd = fd;
	o->cap = OUT_CAP;
	o->buf = malloc(o->cap);
	return o->buf ? 0 : -1;
}

void
mq_out_free(struct mq_out *o)
{
	free(o->buf);
	o->buf = NULL;
}

/*
 * Writes n bytes of p, counting in *done what got written.  With a
 * blocked hook the write is interrupted every OUT_SLICE_MS that it stays
 * blocked (a reader that does not read), and the hook decides whether to
 * wait on; without one this is a plain blocking write.
 */
static int
out_write(struct mq_out *o, const unsigned char *p, size_t n, size_t *done)
{
	*done = 0;
	if (!o->blocked) {
		if (mq_write_full(o->fd, p, n) < 0)
			return -1;
		*done = n;
		o->written += n;
		return 0;
	}
	while (*done < n) {
		ssize_t w;
		bool fired;
		int err;
		mq_alarm(OUT_SLICE_MS);
		w = write(o->fd, p + *done, n - *done);
		err = errno;
		fired = mq_alarm_fired();
		mq_alarm(0);
		if (w > 0) {
			*done += (size_t)w;
			o->written += (uint64_t)w;
		} else if (w < 0 && err != EINTR) {
			errno = err;
			return -1;
		}
		if ((fired || w < 0) && *done < n && o->blocked(o->barg, o) < 0) {
			errno = EINTR;
			return -1;
		}
	}
	return 0;
}

int
mq_out_flush(struct mq_out *o)
{
	size_t done;

	if (!o->len)
		return 0;
	if (out_write(o, o->buf, o->len, &done) < 0) {
		/* What was not written stays, in order. */
		memmove(o->buf, o->buf + done, o->len - done);
		o->len -= done;
		return -1;
	}
	o->len = 0;
	return 0;
}

int
mq_out_put_slow(struct mq_out *o, const void *p, size_t n)
{
	size_t done;

	if (mq_out_flush(o) < 0)
		return -1;
	if (n >= o->cap)
		return out_write(o, p, n, &done);
	memcpy(o->buf, p, n);
	o->len = n;
	return 0;
}

static int
put_i64(struct mq_out *o, int64_t v)
{
	char tmp[24], *p = tmp + sizeof tmp;
	uint64_t u = v < 0 ? 0 - (uint64_t)v : (uint64_t)v;

	do {
		*--p = (char)('0' + u % 10);
		u /= 10;
	} while (u);
	if (v < 0)
		*--p = '-';
	return mq_out_put(o, p, (size_t)(tmp + sizeof tmp - p));
}

static int
add_op(struct mq_fmt *f, int kind, const char *lit, size_t n)
{
	struct mq_fmt_op *ops = realloc(f->ops, (f->n + 1) * sizeof *ops);

	if (!ops)
		return -1;
	f->ops = ops;
	ops[f->n].kind = kind;
	ops[f->n].lit = NULL;
	ops[f->n].len = 0;
	if (lit) {
		ops[f->n].lit = malloc(n ? n : 1);
		if (!ops[f->n].lit)
			return -1;
		memcpy(ops[f->n].lit, lit, n);
		ops[f->n].len = n;
	}
	f->n++;
	return 0;
}

static int
add_literal(struct mq_fmt *f, const char *s, size_t n, struct mq_err *e)
{
	char *raw, *lit;
	size_t len;
	int rc;

	if (n == 0)
		return 0;
	raw = strndup(s, n);
	if (!raw)
		return mq_err_sys(e, "out of memory");
	if (mq_parse_delim(raw, &lit, &len, e) < 0) {
		mq_err_set(e, EINVAL, "bad format: bad escape in '%s' (use "
			   "\\n \\t \\r \\0 \\\\ \\xNN)", raw);
		free(raw);
		return -1;
	}
	free(raw);
	rc = add_op(f, MQ_F_LIT, lit, len);
	free(lit);
	return rc < 0 ? mq_err_sys(e, "out of memory") : 0;
}

int
mq_fmt_compile(struct mq_fmt *f, const char *spec, struct mq_err *e)
{
	const char *s = spec, *lit = spec;

	memset(f, 0, sizeof *f);
	for (; *s; s++) {
		int kind;
		if (*s != '%')
			continue;
		if (add_literal(f, lit, (size_t)(s - lit), e) < 0)
			return -1;
		switch (s[1]) {
		case 's': kind = MQ_F_VALUE; break;
		case 'k': kind = MQ_F_KEY; break;
		case 't': kind = MQ_F_TOPIC; break;
		case 'p': kind = MQ_F_PARTITION; break;
		case 'o': kind = MQ_F_OFFSET; break;
		case 'T': kind = MQ_F_TIMESTAMP; break;
		case 'h': kind = MQ_F_HEADERS; break;
		case 'S': kind = MQ_F_VSIZE; break;
		case 'K': kind = MQ_F_KSIZE; break;
		case '%': kind = MQ_F_LIT; break;
		case '\0':
			mq_fmt_free(f);
			return mq_err_set(e, EINVAL, "bad format '%s': it ends "
					  "with a lone %%", spec);
		default:
			mq_fmt_free(f);
			return mq_err_set(e, EINVAL, "bad format '%s': unknown "
					  "token %%%c (known: %%s %%k %%t %%p "
					  "%%o %%T %%h %%S %%K %%%%)", spec,
					  s[1]);
		}
		if (add_op(f, kind, kind == MQ_F_LIT ? "%" : NULL,
			   kind == MQ_F_LIT) < 0)
			return mq_err_sys(e, "out of memory");
		s++;
		lit = s + 1;
	}
	if (add_literal(f, lit, (size_t)(s - lit), e) < 0)
		return -1;
	return 0;
}

void
mq_fmt_free(struct mq_fmt *f)
{
	for (size_t i = 0; i < f->n; i++)
		free(f->ops[i].lit);
	free(f->ops);
	f->ops = NULL;
	f->n = 0;
}

static int
put_headers(struct mq_out *o, const struct mq_record *r)
{
	const unsigned char *p = r->headers, *end = r->headers + r->hlen;
	struct mq_header h;
	int first = 1;

	while (mq_header_next(&p, end, &h) == 0) {
		if (!first && mq_out_put(o, ",", 1) < 0)
			return -1;
		first = 0;
		if (mq_out_put(o, h.name, h.nlen) < 0)
			return -1;
		if (h.vlen >= 0 && (mq_out_put(o, "=", 1) < 0 ||
				    mq_out_put(o, h.value, (size_t)h.vlen) < 0))
			return -1;
	}
	return 0;
}

int
mq_fmt_render(const struct mq_fmt *f, struct mq_out *o, const char *topic,
	      uint32_t partition, const struct mq_record *r,
	      const char *null_marker)
{
	size_t nl = null_marker ? strlen(null_marker) : 0;

	for (size_t i = 0; i < f->n; i++) {
		const struct mq_fmt_op *op = &f->ops[i];
		int rc = 0;
		switch (op->kind) {
		case MQ_F_LIT:
			rc = mq_out_put(o, op->lit, op->len);
			break;
		case MQ_F_VALUE:
			rc = r->value ? mq_out_put(o, r->value, r->vlen)
				      : mq_out_put(o, null_marker, nl);
			break;
		case MQ_F_KEY:
			rc = r->key ? mq_out_put(o, r->key, r->klen)
				    : mq_out_put(o, null_marker, nl);
			break;
		case MQ_F_TOPIC:
			rc = mq_out_put(o, topic, strlen(topic));
			break;
		case MQ_F_PARTITION:
			rc = put_i64(o, partition);
			break;
		case MQ_F_OFFSET:
			rc = put_i64(o, (int64_t)r->offset);
			break;
		case MQ_F_TIMESTAMP:
			rc = put_i64(o, r->ts);
			break;
		case MQ_F_HEADERS:
			rc = put_headers(o, r);
			break;
		case MQ_F_VSIZE:
			rc = put_i64(o, r->value ? (int64_t)r->vlen : -1);
			break;
		case MQ_F_KSIZE:
			rc = put_i64(o, r->key ? (int64_t)r->klen : -1);
			break;
		}
		if (rc < 0)
			return -1;
	}
	return 0;
}
