/*
 * producer.c - batching messages into a topic's partitions.
 *
 * Each partition has one open batch.  A keyed message goes to the
 * partition of its key (hash.c); a message without a key goes to the
 * "sticky" partition, which moves on to the next partition each time its
 * batch is appended, so a large input spreads evenly while every batch
 * stays large.  A batch is appended (partition.c) when it reaches
 * batch_bytes (never more than max.message.bytes), when all unsent batches
 * together pass buffer_bytes, when it has lingered linger_ms (the caller
 * asks mq_producer_linger_left and flushes), and at the end.  Memory is
 * therefore bounded by buffer_bytes plus one batch, whatever the input.
 *
 * Partition writers are opened on first use and kept open; when more are
 * open than the descriptor limit allows, the least recently used one is
 * synced (per policy) and closed.
 *
 * With an acknowledgement log (--acks), each appended batch is logged as
 * "PARTITION FIRST LAST" once it is durable as the sync policy defines it:
 * at once with MQ_SYNC_BATCH (the append synced it) and MQ_SYNC_NONE
 * (nothing will); with MQ_SYNC_EXIT it waits in a list until its writer is
 * synced, at the end or when evicted, or when the list is full.  The log
 * code itself is at the end of this file.
 */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mqcmd.h"

int
mq_producer_init(struct mq_producer *p, struct mq_topic *t,
		 const struct mq_producer_opts *o, struct mq_err *e)
{
	struct rlimit rl;

	memset(p, 0, sizeof *p);
	p->t = t;
	p->o = *o;
	p->n = (uint32_t)t->cfg.partitions;
	if (o->partition >= (int64_t)p->n)
		return mq_err_set(e, EINVAL, "topic '%s' has no partition "
				  "%lld (it has %u)", t->name,
				  (long long)o->partition, p->n);
	/* A timestamp given for every message is checked once, here; the
	 * produce time, the default, always passes. */
	if (o->timestamp >= 0 &&
	    mq_ts_check(&t->cfg, o->timestamp, mq_now_ms(), e) < 0)
		return -1;
	p->codec = o->codec >= 0 ? o->codec : (int)t->cfg.compression;
	p->batch_limit = o->batch_bytes;
	if (p->batch_limit > (size_t)t->cfg.max_message_bytes)
		p->batch_limit = (size_t)t->cfg.max_message_bytes;
	p->slots = calloc(p->n, sizeof *p->slots);
	p->cz = mq_codec_new();
	if (!p->slots || !p->cz) {
		mq_producer_free(p);
		return mq_err_sys(e, "out of memory");
	}
	for (uint32_t i = 0; i < p->n; i++)
		mq_bb_init(&p->slots[i].bb);
	/* Four descriptors per writer; keep some for everything else. */
	p->max_writers = 64;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur > 256)
		p->max_writers = (uint32_t)((rl.rlim_cur - 64) / 4);
	p->sticky = (uint32_t)(mq_mono_ms() % p->n);
	p->oldest_ms = -1;
	mq_producer_clock(p);
	return 0;
}

void
mq_producer_clock(struct mq_producer *p)
{
	p->wall_ms = mq_now_ms();
	p->now_ms = p->o.timestamp >= 0 ? p->o.timestamp : p->wall_ms;
}

void
mq_producer_free(struct mq_producer *p)
{
	if (p->slots) {
		for (uint32_t i = 0; i < p->n; i++) {
			if (p->slots[i].open)
				mq_pwriter_close(&p->slots[i].w);
			mq_bb_free(&p->slots[i].bb);
		}
	}
	free(p->slots);
	mq_codec_free(p->cz);
	free(p->unacked);
	p->slots = NULL;
	p->cz = NULL;
	p->unacked = NULL;
	p->nunacked = 0;
}

/*
 * Logs the waiting batches of partition `part` (all of them when part is
 * p->n), in the order they were appended, and syncs the log.  They leave
 * the list first, so a failed write never logs one twice.
 */
static int
log_acks(struct mq_producer *p, uint32_t part, struct mq_err *e)
{
	size_t kept = 0, logged = 0;
	int rc = 0;

	for (size_t i = 0; i < p->nunacked; i++) {
		struct mq_unacked *u = &p->unacked[i];
		if (part < p->n ? u->partition != part
				: p->slots[u->partition].failed) {
			p->unacked[kept++] = *u;
			continue;
		}
		logged++;
		if (rc == 0 && mq_acklog_printf(p->o.acks, e, "%u %llu %llu\n",
				u->partition, (unsigned long long)u->first,
				(unsigned long long)u->last) < 0)
			rc = -1;
	}
	p->nunacked = kept;
	if (rc < 0 || logged == 0)
		return rc;
	return mq_acklog_commit(p->o.acks, e);
}

/*
 * Syncs every open writer (per policy) and logs the waiting batches of
 * those that synced.  A writer that fails is not synced again; the others
 * still are.  e gets the first error.
 */
static int
sync_all(struct mq_producer *p, struct mq_err *e)
{
	struct mq_err more;
	int rc = 0;

	if (p->open_writers > 1)
		for (uint32_t i = 0; i < p->n; i++)
			if (p->slots[i].open && !p->slots[i].failed)
				mq_pwriter_writeback(&p->slots[i].w);
	for (uint32_t i = 0; i < p->n; i++) {
		struct mq_pslot *s = &p->slots[i];
		if (!s->open || s->failed)
			continue;
		if (mq_pwriter_sync(&s->w, rc < 0 ? &more : e) < 0) {
			s->failed = true;
			p->broken = true;
			rc = -1;
		}
	}
	if (p->o.acks && log_acks(p, p->n, rc < 0 ? &more : e) < 0)
		rc = -1;
	return rc;
}

/* Acknowledges a batch just appended: logs it now, or queues it. */
static int
ack(struct mq_producer *p, uint32_t i, uint64_t first, uint64_t last,
    struct mq_err *e)
{
	if (!p->unacked) {
		/* Only MQ_SYNC_EXIT keeps batches waiting. */
		size_t cap = p->o.sync == MQ_SYNC_EXIT ? MQ_ACKS_PENDING : 1;
		p->unacked = malloc(cap * sizeof *p->unacked);
		if (!p->unacked)
			return mq_err_sys(e, "out of memory");
	}
	p->unacked[p->nunacked++] = (struct mq_unacked){i, first, last};
	if (p->o.sync != MQ_SYNC_EXIT)
		return log_acks(p, p->n, e);
	if (p->nunacked == MQ_ACKS_PENDING)
		return sync_all(p, e);
	return 0;
}

/* Closes the least recently used writer, after syncing it per policy. */
static int
evict(struct mq_producer *p, struct mq_err *e)
{
	struct mq_pslot *lru = NULL;

	for (uint32_t i = 0; i < p->n; i++)
		if (p->slots[i].open &&
		    (!lru || p->slots[i].last_use < lru->last_use))
			lru = &p->slots[i];
	if (!lru)
		return 0;
	if (mq_pwriter_sync(&lru->w, e) < 0) {
		lru->failed = true;
		p->broken = true;
		return -1;
	}
	p->lock_wait_ns += lru->w.lock_wait_ns;
	mq_pwriter_close(&lru->w);
	lru->open = false;
	p->open_writers--;
	if (p->o.acks)
		return log_acks(p, (uint32_t)(lru - p->slots), e);
	return 0;
}

static int
flush_slot(struct mq_producer *p, uint32_t i, struct mq_err *e)
{
	struct mq_pslot *s = &p->slots[i];
	uint64_t base, count;

	if (s->bb.count == 0 || p->broken)
		return 0;
	if (!s->open) {
		if (p->open_writers >= p->max_writers && evict(p, e) < 0)
			goto broken;
		if (mq_pwriter_open(&s->w, p->t, i, p->o.sync, e) < 0)
			goto broken;
		s->open = true;
		p->open_writers++;
	}
	s->last_use = ++p->tick;
	if (mq_bb_seal(&s->bb, p->codec, p->cz, e) < 0)
		goto broken;
	if (mq_pwriter_append(&s->w, &s->bb, &base, e) < 0) {
		/* Whether it got stored or not, it is not sent again. */
		s->failed = true;
		goto broken;
	}
	count = s->bb.count;
	if (s->msgs == 0)
		s->first = base;
	s->last = base + count - 1;
	s->msgs += count;
	p->stored += count;
	p->pending -= s->bb.len - MQ_BATCH_HDR;
	mq_bb_reset(&s->bb);
	/* Keep a buffer for the next batch only while all of them fit the
	 * memory budget; with many partitions, release it. */
	p->allocated -= s->kept;
	s->kept = s->bb.cap + s->bb.zcap;
	if (p->allocated + s->kept > p->o.buffer_bytes) {
		mq_bb_free(&s->bb);
		s->kept = 0;
	}
	p->allocated += s->kept;
	if (i == p->sticky)
		p->sticky = (p->sticky + 1) % p->n;
	if (p->o.acks)
		return ack(p, i, base, base + count - 1, e);
	return 0;
broken:
	p->broken = true;
	return -1;
}

uint64_t
mq_producer_lock_wait_ns(const struct mq_producer *p)
{
	uint64_t ns = p->lock_wait_ns;

	for (uint32_t i = 0; i < p->n; i++)
		if (p->slots[i].open)
			ns += p->slots[i].w.lock_wait_ns;
	return ns;
}

int
mq_producer_send(struct mq_producer *p, const void *key, size_t klen,
		 const void *value, size_t vlen, size_t *size,
		 struct mq_err *e)
{
	return mq_producer_send_h(p, key, klen, value, vlen, p->o.headers,
				  p->o.hlen, p->o.nheaders, size, e);
}

int
mq_producer_send_h(struct mq_producer *p, const void *key, size_t klen,
		   const void *value, size_t vlen, const unsigned char *hdrs,
		   size_t hlen, uint32_t nheaders, size_t *size,
		   struct mq_err *e)
{
	return mq_producer_send_ts(p, -1, key, klen, value, vlen, hdrs, hlen,
				   nheaders, size, e);
}

int
mq_producer_send_ts(struct mq_producer *p, int64_t ts, const void *key,
		    size_t klen, const void *value, size_t vlen,
		    const unsigned char *hdrs, size_t hlen, uint32_t nheaders,
		    size_t *size, struct mq_err *e)
{
	size_t max = (size_t)p->t->cfg.max_message_bytes;
	uint32_t i;
	struct mq_pslot *s;
	int rc;

	*size = 0;
	if (ts < 0)
		ts = p->now_ms;
	else if (mq_ts_check(&p->t->cfg, ts, p->wall_ms, e) < 0)
		return -1;

	/* As in Kafka: compaction keeps the latest value of each key, so a
	 * compacted topic takes only messages with a key. */
	if (!key && (p->t->cfg.cleanup_policy & MQ_POLICY_COMPACT))
		return mq_err_set(e, EDESTADDRREQ, "message has no key, and "
				  "topic '%s' is compacted (cleanup.policy="
				  "compact): every message needs a key",
				  p->t->name);
	if (p->o.partition >= 0)
		i = (uint32_t)p->o.partition;
	else if (key)
		i = mq_partition_for_key(p->o.partitioner, key, klen, p->n);
	else
		i = p->sticky;
	s = &p->slots[i];
	/* Append full batches until the message fits.  An unkeyed message
	 * follows the sticky partition to the next one, whose batch keyed
	 * messages may have filled too: try again there.  Each turn appends
	 * one batch, and a record alone always fits, so this ends. */
	while ((rc = mq_bb_try_add(&s->bb, p->batch_limit, max, ts,
				   key, klen, value, vlen, hdrs, hlen,
				   nheaders, size)) == 1) {
		if (flush_slot(p, i, e) < 0)
			return -1;
		if (!key && p->o.partition < 0) {
			i = p->sticky;
			s = &p->slots[i];
		}
	}
	if (rc < 0) {
		if (errno == EMSGSIZE)
			return mq_err_set(e, EMSGSIZE, "message is %zu bytes, "
					  "over max.message.bytes (%zu)", *size,
					  max);
		return mq_err_sys(e, "out of memory");
	}
	if (p->pending == 0)
		p->oldest_ms = mq_mono_ms();
	p->pending += *size;
	p->messages++;
	p->bytes += klen + vlen;
	if (p->pending > p->o.buffer_bytes)
		return mq_producer_flush(p, e);
	return 0;
}

int64_t
mq_producer_linger_left(const struct mq_producer *p)
{
	int64_t left;

	if (p->pending == 0)
		return -1;
	left = p->oldest_ms + p->o.linger_ms - mq_mono_ms();
	return left > 0 ? left : 0;
}

bool
mq_producer_overdue(const struct mq_producer *p)
{
	int64_t bound = p->o.linger_ms > MQ_LINGER_CAP ? p->o.linger_ms
						       : MQ_LINGER_CAP;

	return p->pending && mq_mono_ms() - p->oldest_ms >= bound;
}

int
mq_producer_flush(struct mq_producer *p, struct mq_err *e)
{
	for (uint32_t i = 0; i < p->n && p->pending; i++)
		if (flush_slot(p, i, e) < 0)
			return -1;
	p->pending = 0;
	p->oldest_ms = -1;
	return 0;
}

int
mq_producer_finish(struct mq_producer *p, struct mq_err *e)
{
	if (!p->broken && mq_producer_flush(p, e) < 0)
		return -1;
	return sync_all(p, e);
}

/* ---- acknowledgement logs ---- */

int
mq_acklog_open(struct mq_acklog *a, const char *path, bool sync,
	       struct mq_err *e)
{
	bool out = strcmp(path, "-") == 0;
	size_t n = strlen(path) + 3;
	struct stat st;
	int fd;

	memset(a, 0, sizeof *a);
	a->out.fd = -1;
	a->what = malloc(n > 16 ? n : 16);
	if (!a->what)
		return mq_err_sys(e, "out of memory");
	if (out)
		strcpy(a->what, "standard output");
	else
		snprintf(a->what, n, "'%s'", path);
	fd = out ? STDOUT_FILENO : open(path, O_WRONLY | O_APPEND | O_CREAT |
					O_CLOEXEC, 0666);
	if (fd < 0) {
		mq_err_sys(e, "cannot open acknowledgement file %s", a->what);
		mq_acklog_close(a);
		return -1;
	}
	if (mq_out_init(&a->out, fd) < 0) {
		mq_err_sys(e, "out of memory");
		if (!out)
			close(fd);
		a->out.fd = -1;
		mq_acklog_close(a);
		return -1;
	}
	/* Pipes and terminals cannot be synced (EINVAL): nothing to wait for. */
	a->sync = sync && fstat(fd, &st) == 0 && S_ISREG(st.st_mode);
	return 0;
}

int
mq_acklog_printf(struct mq_acklog *a, struct mq_err *e, const char *fmt, ...)
{
	char line[512];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof line)
		return mq_err_set(e, EOVERFLOW, "acknowledgement line too long "
				  "for %s", a->what);
	if (mq_out_put(&a->out, line, (size_t)n) < 0)
		return mq_err_sys(e, "cannot write acknowledgements to %s",
				  a->what);
	return 0;
}

int
mq_acklog_commit(struct mq_acklog *a, struct mq_err *e)
{
	if (mq_out_flush(&a->out) < 0)
		return mq_err_sys(e, "cannot write acknowledgements to %s",
				  a->what);
	if (a->sync && mq_fdatasync(a->out.fd) < 0)
		return mq_err_sys(e, "cannot sync acknowledgements in %s",
				  a->what);
	return 0;
}

void
mq_acklog_close(struct mq_acklog *a)
{
	if (a->out.fd > STDERR_FILENO)
		close(a->out.fd);
	mq_out_free(&a->out);
	free(a->what);
	a->what = NULL;
	a->out.fd = -1;
}
