/*
 * mqcmd.h - the stream layer of libmq that the commands are built from:
 * splitting input into messages, batching them into partitions, reading
 * several partitions at once (following them with inotify), and writing
 * formatted output.  Like the rest of libmq it never prints diagnostics and
 * never exits; it reads and writes only the descriptors it is given.
 */
#ifndef MQ_CMD_H
#define MQ_CMD_H

#include <signal.h>
#include <string.h>

#include "mq.h"

/* ---- input.c: messages from a stream, split at a delimiter ---- */

struct mq_input {
	int fd;
	const char *name;        /* for messages: a file name or stdin */
	const char *delim;
	size_t dlen;
	unsigned char *buf;
	size_t cap, maxcap;      /* maxcap: longest message + delimiter */
	size_t start, end;       /* unread bytes are buf[start, end) */
	size_t scan;             /* bytes after start already searched */
	uint64_t offset;         /* input byte offset of buf[start] */
	uint64_t msgno;          /* messages handed out so far */
	bool eof;
};
int mq_input_init(struct mq_input *in, int fd, const char *name,
		  const char *delim, size_t dlen, size_t maxmsg);
void mq_input_free(struct mq_input *in);
/*
 * The next message: 0 with *msg and *len (valid until the next fill), 1 when
 * more input is needed, 2 at the end of input, -1 with EMSGSIZE when a
 * message grew past the cap.  The last message may lack its delimiter.
 */
int mq_input_next_slow(struct mq_input *in, const unsigned char **msg,
		       size_t *len);
static inline int
mq_input_next(struct mq_input *in, const unsigned char **msg, size_t *len)
{
	/* The common case: a one-byte delimiter found in what is buffered. */
	if (in->dlen == 1 && in->scan == 0) {
		unsigned char *p = in->buf + in->start;
		unsigned char *hit = memchr(p, in->delim[0],
					    in->end - in->start);
		if (hit) {
			*msg = p;
			*len = (size_t)(hit - p);
			in->start += *len + 1;
			in->offset += *len + 1;
			in->msgno++;
			return 0;
		}
	}
	return mq_input_next_slow(in, msg, len);
}
/*
 * Waits up to timeout_ms (-1: forever) for input and reads a chunk:
 * 0 data read, 1 timed out, 2 end of input, 3 interrupted (*stop set),
 * -1 error (errno).
 */
int mq_input_fill(struct mq_input *in, int timeout_ms,
		  volatile sig_atomic_t *stop);

/* ---- format.c: buffered output and -F formats ---- */

struct mq_out {
	int fd;
	unsigned char *buf;
	size_t len, cap;
	uint64_t written;        /* bytes written to fd so far */
	/*
	 * NULL: writes block as long as they must.  Else a write that
	 * blocks (a pipe whose reader does not read) is interrupted every
	 * 100 ms to call blocked(barg, o): 0 waits on, -1 gives up (the
	 * flush fails with EINTR; what was not written stays buffered).
	 */
	int (*blocked)(void *barg, const struct mq_out *o);
	void *barg;
};
int mq_out_init(struct mq_out *o, int fd);
void mq_out_free(struct mq_out *o);
/* Writes out what is buffered; -1 with errno (EINTR: see blocked). */
int mq_out_flush(struct mq_out *o);
/* Bytes taken so far: written, or buffered to be. */
static inline uint64_t
mq_out_accepted(const struct mq_out *o)
{
	return o->written + o->len;
}
int mq_out_put_slow(struct mq_out *o, const void *p, size_t n);
static inline int
mq_out_put(struct mq_out *o, const void *p, size_t n)
{
	if (o->len + n > o->cap)
		return mq_out_put_slow(o, p, n);
	memcpy(o->buf + o->len, p, n);
	o->len += n;
	return 0;
}

enum {
	MQ_F_LIT, MQ_F_VALUE, MQ_F_KEY, MQ_F_TOPIC, MQ_F_PARTITION,
	MQ_F_OFFSET, MQ_F_TIMESTAMP, MQ_F_HEADERS, MQ_F_VSIZE, MQ_F_KSIZE
};
struct mq_fmt_op {
	int kind;
	char *lit;
	size_t len;
};
struct mq_fmt {
	struct mq_fmt_op *ops;
	size_t n;
};
int mq_fmt_compile(struct mq_fmt *f, const char *spec, struct mq_err *e);
void mq_fmt_free(struct mq_fmt *f);
int mq_fmt_render(const struct mq_fmt *f, struct mq_out *o,
		  const char *topic, uint32_t partition,
		  const struct mq_record *r, const char *null_marker);

/*
 * What mq-consume writes for a message: the -F format, or [key KDELIM]
 * value DELIM, with null_marker for a null key or value.
 */
struct mq_printer {
	struct mq_out out;
	struct mq_fmt fmt;
	bool formatted;
	const char *kdelim, *delim, *null_marker;
	size_t kdlen, dlen, nl;
};

static inline int
mq_print(struct mq_printer *pr, const char *topic, uint32_t partition,
	 const struct mq_record *r)
{
	struct mq_out *o = &pr->out;

	if (pr->formatted)
		return mq_fmt_render(&pr->fmt, o, topic, partition, r,
				     pr->null_marker);
	if (pr->kdelim && ((r->key ? mq_out_put(o, r->key, r->klen) :
			    mq_out_put(o, pr->null_marker, pr->nl)) < 0 ||
			   mq_out_put(o, pr->kdelim, pr->kdlen) < 0))
		return -1;
	if (r->value && pr->dlen == 1 && o->len + r->vlen + 1 <= o->cap) {
		/* The common case, without a library call for the delimiter. */
		memcpy(o->buf + o->len, r->value, r->vlen);
		o->buf[o->len + r->vlen] = (unsigned char)pr->delim[0];
		o->len += r->vlen + 1;
		return 0;
	}
	if ((r->value ? mq_out_put(o, r->value, r->vlen) :
	     mq_out_put(o, pr->null_marker, pr->nl)) < 0)
		return -1;
	return mq_out_put(o, pr->delim, pr->dlen);
}

/* ---- producer.c: acknowledgement logs (--acks) ---- */

/*
 * A file that gets one line for each thing made durable: mq-produce --acks
 * logs appended batches, mq-consume -g --acks logs group commits.  Lines
 * are added only once what they name is durable; mq_acklog_commit writes
 * them (O_APPEND) and, with sync, fdatasyncs the file, so a line that
 * survives a crash never names something the crash took back.
 */
struct mq_acklog {
	struct mq_out out;
	char *what;              /* "'FILE'" or "standard output", for messages */
	bool sync;               /* fdatasync each group (regular files only) */
};
/* Opens path for appending, creating it; "-" is standard output. */
int mq_acklog_open(struct mq_acklog *a, const char *path, bool sync,
		   struct mq_err *e);
/* Adds a line; it may be written at once, and is synced by the commit. */
int mq_acklog_printf(struct mq_acklog *a, struct mq_err *e,
		     const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Writes the lines added so far and syncs them (per a->sync). */
int mq_acklog_commit(struct mq_acklog *a, struct mq_err *e);
void mq_acklog_close(struct mq_acklog *a);

/* ---- producer.c: batching messages into partitions ---- */

struct mq_producer_opts {
	int sync;                /* enum mq_sync */
	int codec;               /* -1: the topic's compression */
	int partitioner;         /* enum mq_partitioner */
	int64_t partition;       /* -1: by key, or sticky round robin */
	size_t batch_bytes;
	int64_t linger_ms;
	size_t buffer_bytes;     /* all unsent batches together */
	int64_t timestamp;       /* -1: the produce time */
	const unsigned char *headers;  /* pre-encoded, for every message */
	size_t hlen;
	uint32_t nheaders;
	struct mq_acklog *acks;  /* acknowledged batches go here, or NULL */
};

/*
 * A batch appended but not yet acknowledged: with MQ_SYNC_EXIT it waits
 * until its partition's writer is synced (at the end, or when evicted).
 * At most MQ_ACKS_PENDING wait; then every writer is synced early.
 */
struct mq_unacked {
	uint32_t partition;
	uint64_t first, last;
};
#define MQ_ACKS_PENDING 4096

struct mq_pslot {
	struct mq_pwriter w;
	bool open;
	struct mq_bb bb;
	uint64_t last_use;
	uint64_t msgs;
	uint64_t first, last;    /* offsets this run wrote */
	size_t kept;             /* buffer bytes kept after the last append */
	bool failed;             /* an append or sync to it failed */
};

struct mq_producer {
	struct mq_topic *t;
	struct mq_producer_opts o;
	struct mq_pslot *slots;
	uint32_t n;
	uint32_t sticky;
	int codec;
	size_t batch_limit;
	size_t pending;          /* record bytes in unsent batches */
	size_t allocated;        /* buffer bytes kept by idle slots */
	int64_t oldest_ms;       /* monotonic birth of the oldest unsent batch */
	int64_t now_ms;          /* timestamp for the next messages */
	int64_t wall_ms;         /* the clock when now_ms was last read */
	uint64_t tick;
	uint32_t open_writers, max_writers;
	struct mq_codec *cz;
	uint64_t messages, bytes, stored;  /* stored: messages appended */
	struct mq_unacked *unacked;  /* with o.acks: batches not yet logged */
	size_t nunacked;
	/* A storage error happened: nothing more is appended (a batch whose
	 * append failed may be stored or not, and is never sent again);
	 * mq_producer_finish only syncs what the other writers stored. */
	bool broken;
	uint64_t lock_wait_ns;   /* of writers closed so far */
};
/*
 * EINVAL: no such partition, or o->timestamp is one the topic refuses
 * (mq_ts_check); nothing is opened then.
 */
int mq_producer_init(struct mq_producer *p, struct mq_topic *t,
		     const struct mq_producer_opts *o, struct mq_err *e);
/* Time spent waiting for partition locks other processes held. */
uint64_t mq_producer_lock_wait_ns(const struct mq_producer *p);
/* Re-reads the clock used for message timestamps and their checks. */
void mq_producer_clock(struct mq_producer *p);
/*
 * Queues one message (key NULL: no key; value NULL: a tombstone).  May
 * append full batches.  EMSGSIZE: the record exceeds max.message.bytes
 * and was not queued (*size says how large it is).
 */
int mq_producer_send(struct mq_producer *p, const void *key, size_t klen,
		     const void *value, size_t vlen, size_t *size,
		     struct mq_err *e);
/* The same with headers of its own (pre-encoded), not the producer's. */
int mq_producer_send_h(struct mq_producer *p, const void *key, size_t klen,
		       const void *value, size_t vlen,
		       const unsigned char *hdrs, size_t hlen,
		       uint32_t nheaders, size_t *size, struct mq_err *e);
/*
 * The same with a timestamp of its own (ts >= 0; -1: the producer's, as
 * mq_producer_send_h).  A timestamp of its own must be one the topic takes
 * (mq_ts_check against the clock of the last mq_producer_clock): else
 * EINVAL, and the message is not queued.
 */
int mq_producer_send_ts(struct mq_producer *p, int64_t ts, const void *key,
			size_t klen, const void *value, size_t vlen,
			const unsigned char *hdrs, size_t hlen,
			uint32_t nheaders, size_t *size, struct mq_err *e);
/*
 * Milliseconds until the oldest unsent batch has lingered enough; -1: none.
 * The caller waits for input that long and appends when it times out.
 */
int64_t mq_producer_linger_left(const struct mq_producer *p);
/*
 * Has the oldest unsent batch waited max(linger, MQ_LINGER_CAP) while
 * input kept coming?  Then the caller appends before reading on, so a
 * message never waits longer than that, however input arrives.
 */
#define MQ_LINGER_CAP 10
bool mq_producer_overdue(const struct mq_producer *p);
/* Appends every unsent batch. */
int mq_producer_flush(struct mq_producer *p, struct mq_err *e);
/*
 * Flushes and syncs per policy: after 0, every queued message is durable
 * (and, with o.acks, logged).
 */
int mq_producer_finish(struct mq_producer *p, struct mq_err *e);
void mq_producer_free(struct mq_producer *p);

/* ---- compact.c: retention and compaction, as mq-compact does them ---- */

struct mq_compact_opts {
	int64_t now_ms;          /* "now" for retention.ms, lags and tombstones */
	size_t memory;           /* bytes for the key map (24 a key) */
	bool dry_run;            /* plan and count, change nothing */
};

struct mq_compact_stats {
	uint64_t deleted_segments, deleted_bytes, deleted_messages;
	uint64_t cleaned_segments;   /* rewritten or emptied */
	uint64_t bytes_in, bytes_out;  /* compacted segments before, after */
	uint64_t messages_in;        /* records in the compacted segments */
	uint64_t superseded;         /* records dropped for a later value */
	uint64_t tombstones_removed;
	uint64_t keys, passes;
};

struct mq_cplan;
/*
 * Plans and prepares the retention and compaction of partition p: takes
 * P/clean (EBUSY if another process compacts it), finishes or rolls back a
 * killed run, and writes the cleaned segments under temporary names.
 * Nothing visible changes until mq_compact_apply.
 */
int mq_compact_prepare(struct mq_topic *t, uint32_t p,
		       const struct mq_compact_opts *o, struct mq_cplan **plan,
		       struct mq_compact_stats *st, struct mq_err *e);
/* Does the plan delete or rewrite anything? */
bool mq_compact_has_work(const struct mq_cplan *pl);
/*
 * The name (before its suffix) of mq-compact's archive of topic at time
 * ms (UTC): TOPIC.YYYYMMDDTHHMMSS.mmmZ, the topic name shortened with a
 * hash when it is long, so that the archive's name and its temporary name
 * fit the file system's 255 bytes (mq-compact(1)).  cap: at least 256.
 */
#define MQ_ARCHIVE_NAME_MAX 256
void mq_compact_archive_name(const char *topic, int64_t ms, char *buf,
			     size_t cap);
/* Adds the original files of what the plan deletes or rewrites. */
int mq_compact_archive(struct mq_cplan *pl, struct mq_archive *a,
		       struct mq_err *e);
/* Deletes expired segments and swaps the cleaned ones in. */
int mq_compact_apply(struct mq_cplan *pl, struct mq_err *e);
/* Removes what was not applied, unlocks, frees. */
void mq_compact_release(struct mq_cplan *pl);

/* ---- exec.c: mq-consume --exec ---- */

struct mq_cpart;
struct mq_exec_opts {
	const char *cmd;         /* run as sh -c CMD */
	uint32_t batch;          /* messages per run (of one partition) */
	bool batched;            /* --batch: each value followed by delim */
	const char *delim;
	size_t dlen;
	uint32_t retries;        /* runs after the first failed one */
	int64_t backoff_ms;      /* wait before the first retry, doubling */
	struct mq_producer *dlq; /* dead-letter topic, or NULL: stop */
	const char *group;
};

struct mq_exec_rec {
	uint64_t offset;
	int64_t ts;
	size_t koff, klen, voff, vlen, hoff, hlen;
	uint32_t nh;
	bool has_key, has_value;
};

struct mq_exec {
	struct mq_exec_opts o;
	struct mq_cpart *cp;     /* the partition of the pending job */
	struct mq_exec_rec *recs;
	size_t n, ncap;
	unsigned char *data;     /* copies of keys, values, headers */
	size_t used, dcap;
	unsigned char *input;    /* what the command reads */
	size_t ilen, icap;
	uint64_t runs, dead_lettered;
	/* after a failure without a dead-letter topic: */
	bool failed;
	uint64_t failed_offset;  /* first offset of the failed job */
	uint32_t attempts;
	char why[64], code[32];
};
int mq_exec_init(struct mq_exec *x, const struct mq_exec_opts *o);
void mq_exec_free(struct mq_exec *x);
/* Adds a copy of a message of partition cp to the pending job. */
int mq_exec_add(struct mq_exec *x, struct mq_cpart *cp,
		const struct mq_record *r, struct mq_err *e);
/*
 * Runs the pending job: 0 when it succeeded or went to the dead-letter
 * topic (the job is then empty), 1 when it failed for good (see failed_*),
 * 3 when *stop was set before it succeeded, 4 when the command died of
 * SIGPIPE because our standard output was closed, -1 on error.  In all
 * but 0 the job stays undone (failed_offset is its first offset).
 */
int mq_exec_run(struct mq_exec *x, volatile sig_atomic_t *stop,
		struct mq_err *e);

/* ---- consumer.c: reading many partitions, optionally following ---- */

enum { MQ_RESET_EARLIEST, MQ_RESET_LATEST, MQ_RESET_ERROR };
#define MQ_REBALANCE_MS 200      /* members look at each other this often */

struct mq_consumer_opts {
	int whence;              /* enum mq_whence: where to start (without a
				    group, or for partitions it never read) */
	int64_t arg;
	bool follow;
	bool has_until;
	bool until_time;         /* until is a timestamp, else an offset */
	int64_t until;
	const uint32_t *parts;   /* -p filter, or NULL for all */
	size_t nparts;
	/* consumer groups (cgroup.c) */
	const char *group;       /* NULL: no group */
	bool no_commit;          /* start at the group's offsets, never join */
	int offset_reset;        /* MQ_RESET_: committed offset out of range */
	int64_t commit_ms;       /* commit at least this often */
	uint64_t commit_every;   /* ... and every this many messages (0: no) */
	bool verbose;            /* report group events through notice */
	int (*flush)(void *arg); /* writes out all delivered messages */
	void (*notice)(void *arg, const char *msg);
	void *cb_arg;            /* passed to flush and notice */
	struct mq_acklog *acks;  /* group: each commit is logged here, or NULL */
};

#define MQ_MARKS 16

struct mq_cpart {
	struct mq_topic *t;
	uint32_t partition;
	struct mq_preader r;
	int wd;                  /* inotify watch, -1 if none */
	bool idle;               /* at the end; waiting for an event */
	bool done;               /* finished (--until, or drained) */
	int ownfd;               /* group: the flocked P.own, else -1 */
	struct mq_gpos committed;/* group: what the offset file holds */
	uint64_t start_next;     /* r.next when taken (nothing delivered) */
	/* Output progress, see mq_consumer_mark: positions (next) the
	 * partition had when the output had taken `at` bytes, oldest
	 * first, and the newest position whose output is known written. */
	struct { uint64_t at, next; } marks[MQ_MARKS];
	uint32_t nmarks;
	uint64_t written_next;
};

struct mq_ctopic {
	struct mq_topic t;
	int wd;
	uint32_t known;          /* partitions set up so far */
	int gdir;                /* group: TOPIC/groups/GROUP, or -1 */
	char *gpath;             /* its path, for messages */
	struct mq_member member;
	bool joined;
};

struct mq_consumer {
	struct mq_spool *sp;
	struct mq_consumer_opts o;
	struct mq_ctopic *topics;
	size_t ntopics;
	struct mq_cpart **parts;
	size_t nparts;
	size_t cur;
	int ifd;                 /* inotify, -1 when not following */
	int64_t next_commit, next_rebalance, next_tick, joined_ms;
	uint64_t since_commit;   /* messages handed out since the last commit */
	bool swept;              /* group without -f: took all free ones */
};
int mq_consumer_open(struct mq_consumer *c, struct mq_spool *sp,
		     char *const *topics, size_t ntopics,
		     const struct mq_consumer_opts *o, struct mq_err *e);
/*
 * The next message: 0 with *part and *rec, 1 when everything asked for has
 * been read, 2 when following and nothing is available now, -1 on error.
 */
int mq_consumer_next_slow(struct mq_consumer *c, struct mq_cpart **part,
			  struct mq_record *rec, struct mq_err *e);
static inline int
mq_consumer_next(struct mq_consumer *c, struct mq_cpart **part,
		 struct mq_record *rec, struct mq_err *e)
{
	/* Fast path: the next record of the current partition's batch
	 * (unless --commit-every wants a commit first). */
	if (c->cur < c->nparts && !c->o.has_until &&
	    (!c->o.commit_every || c->since_commit < c->o.commit_every)) {
		struct mq_cpart *cp = c->parts[c->cur];
		struct mq_preader *r = &cp->r;
		if (r->in_batch && !r->have_min_ts && r->it.min_off >= r->next &&
		    mq_rec_iter_next(&r->it, rec) == 0) {
			r->next = rec->offset + 1;
			if (r->it.left == 0)
				c->cur++;   /* partitions take turns by batch */
			c->since_commit++;
			*part = cp;
			return 0;
		}
	}
	return mq_consumer_next_slow(c, part, rec, e);
}
/*
 * Hot loops take the rest of a batch straight from an iterator: after
 * mq_consumer_next returned a record of cp, and if mq_consumer_can_stream
 * says no offset, time or --until filter applies, copy cp->r.it to a local
 * variable (the compiler keeps it in registers), read records with
 * mq_rec_iter_next, and give the iterator back with mq_consumer_put_iter
 * and the offset after the last record used.
 */
static inline bool
mq_consumer_can_stream(const struct mq_consumer *c, const struct mq_cpart *cp)
{
	return !c->o.has_until && !c->o.commit_every && cp->r.in_batch &&
	       !cp->r.have_min_ts && cp->r.it.min_off >= cp->r.next;
}

static inline void
mq_consumer_put_iter(struct mq_consumer *c, struct mq_cpart *cp,
		     const struct mq_rec_iter *it, uint64_t next)
{
	cp->r.it = *it;
	cp->r.next = next;
	if (it->left == 0 && c->cur < c->nparts && c->parts[c->cur] == cp)
		c->cur++;   /* its batch is done: next turn */
}

/*
 * Output progress, for commits while the output is blocked: after
 * handing out records of cp into an output stream that has taken
 * `accepted` bytes so far (`written` of them written), remembers cp's
 * position then.  Up to MQ_MARKS positions wait to be written; with more,
 * the newest replaces the one before it, so a commit of written positions
 * may cover less than was written, never more.
 */
static inline void
mq_consumer_mark(struct mq_cpart *cp, uint64_t accepted, uint64_t written)
{
	uint32_t k = 0;

	while (k < cp->nmarks && cp->marks[k].at <= written)
		cp->written_next = cp->marks[k++].next;
	if (k) {
		memmove(cp->marks, cp->marks + k,
			(cp->nmarks - k) * sizeof cp->marks[0]);
		cp->nmarks -= k;
	}
	if (accepted <= written) {
		cp->written_next = cp->r.next;
		return;
	}
	if (cp->nmarks == MQ_MARKS)
		cp->nmarks--;
	cp->marks[cp->nmarks].at = accepted;
	cp->marks[cp->nmarks++].next = cp->r.next;
}

/* Where cp's output is written, once `written` bytes are. */
static inline uint64_t
mq_consumer_written_pos(const struct mq_cpart *cp, uint64_t written)
{
	uint64_t pos = cp->written_next;

	for (uint32_t k = 0; k < cp->nmarks && cp->marks[k].at <= written; k++)
		pos = cp->marks[k].next;
	return pos;
}

/* Forgets the marks: everything up to cp's position counts as written. */
static inline void
mq_consumer_mark_reset(struct mq_cpart *cp)
{
	cp->nmarks = 0;
	cp->written_next = cp->r.next;
}

/*
 * Waits for new data while following: returns 0 when something may have
 * arrived, 1 if watch_fd (stdout) reported an error or hang-up, 3 if
 * interrupted with *stop set, -1 on error.
 */
int mq_consumer_wait(struct mq_consumer *c, int watch_fd,
		     volatile sig_atomic_t *stop, struct mq_err *e);
void mq_consumer_close(struct mq_consumer *c);
/* Is partition p one the consumer reads (-p)? */
bool mq_consumer_wanted(const struct mq_consumer *c, uint32_t p);
/* Adds partition p of ct, unpositioned (seek its reader); NULL on error. */
struct mq_cpart *mq_consumer_add(struct mq_consumer *c, struct mq_ctopic *ct,
				 uint32_t p, struct mq_err *e);
/* Removes and frees a partition. */
void mq_consumer_remove(struct mq_consumer *c, struct mq_cpart *cp);

/* ---- cgroup.c: the consumer side of consumer groups ---- */

/* Joins the group on every topic (or, with no_commit, reads its offsets). */
int mq_cgroup_open(struct mq_consumer *c, struct mq_err *e);
/*
 * Positions a partition at the group's committed offset (or where -o says
 * when there is none; a committed offset outside the log follows
 * --offset-reset).
 */
int mq_cgroup_position(struct mq_consumer *c, struct mq_ctopic *ct,
		       struct mq_cpart *cp, struct mq_err *e);
/* Rebalances and commits when due (now, with force). */
int mq_cgroup_tick(struct mq_consumer *c, bool force, struct mq_err *e);
/* Flushes and commits every owned partition. */
int mq_cgroup_commit(struct mq_consumer *c, struct mq_err *e);
/*
 * Commits every owned partition at the position whose output is written
 * (mq_consumer_mark), without flushing: for a member whose output is
 * blocked.  Never moves a committed offset back; a partition that was
 * reset meanwhile is left for the next mq_cgroup_commit.
 */
int mq_cgroup_commit_written(struct mq_consumer *c, uint64_t written,
			     struct mq_err *e);
/* Does this member own every partition of its topics? */
bool mq_cgroup_owns_all(const struct mq_consumer *c);
/* Without -f at the end: takes every free partition (*took if any). */
int mq_cgroup_sweep(struct mq_consumer *c, bool *took, struct mq_err *e);
/* Gives every partition back and leaves (no commit: call commit first). */
void mq_cgroup_close(struct mq_consumer *c);

#endif
