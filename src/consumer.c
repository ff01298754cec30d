/*
 * consumer.c - reading many partitions of one or more topics, as
 * mq-consume does.  Partitions take turns a batch at a time, so one busy
 * partition cannot starve the others; order within a partition is the log
 * order.  Without following, each partition is read to its end and the
 * consumer finishes.  When following, a partition at its end sleeps until
 * inotify reports a change in its directory (an append rewrites the head
 * in P/lock, a roll creates a segment), and the topic directory is watched
 * for a new config (partitions added) and for deletion.  Every idle
 * partition is also re-checked once a second, so a lost event (or a file
 * system without inotify) costs latency, never messages.
 *
 * Watches are added before a partition is first read, so nothing written
 * after the check can go unnoticed.  Partitions are held in an array of
 * pointers that can grow, so the consumer-group layer can hand partitions
 * to and take them from a consumer while it runs.
 */
#include <config.h>

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <unistd.h>

#include "mqcmd.h"

#define RECHECK_MS 1000  /* re-check idle partitions this often */
#define POLL_MS 100      /* how often without inotify */
#define PART_EVENTS (IN_MODIFY | IN_CREATE | IN_MOVED_TO)
#define TOPIC_EVENTS (IN_CREATE | IN_MOVED_TO | IN_DELETE_SELF | IN_MOVE_SELF)

static int
watch(struct mq_consumer *c, const char *path, uint32_t mask)
{
	if (c->ifd < 0)
		return -1;
	return inotify_add_watch(c->ifd, path, mask | IN_ONLYDIR);
}

bool
mq_consumer_wanted(const struct mq_consumer *c, uint32_t p)
{
	if (!c->o.parts)
		return true;
	for (size_t i = 0; i < c->o.nparts; i++)
		if (c->o.parts[i] == p)
			return true;
	return false;
}

struct mq_cpart *
mq_consumer_add(struct mq_consumer *c, struct mq_ctopic *ct, uint32_t p,
		struct mq_err *e)
{
	struct mq_cpart *cp = calloc(1, sizeof *cp), **v;

	if (!cp) {
		mq_err_sys(e, "out of memory");
		return NULL;
	}
	cp->t = &ct->t;
	cp->partition = p;
	cp->wd = -1;
	cp->ownfd = -1;
	if (mq_preader_open(&cp->r, &ct->t, p, e) < 0) {
		free(cp);
		return NULL;
	}
	/* Watch before the first read, so no append goes unnoticed. */
	if (c->o.follow)
		cp->wd = watch(c, cp->r.path, PART_EVENTS);
	v = realloc(c->parts, (c->nparts + 1) * sizeof *v);
	if (!v) {
		mq_preader_close(&cp->r);
		free(cp);
		mq_err_sys(e, "out of memory");
		return NULL;
	}
	c->parts = v;
	c->parts[c->nparts++] = cp;
	return cp;
}

void
mq_consumer_remove(struct mq_consumer *c, struct mq_cpart *cp)
{
	for (size_t i = 0; i < c->nparts; i++) {
		if (c->parts[i] != cp)
			continue;
		memmove(&c->parts[i], &c->parts[i + 1],
			(c->nparts - i - 1) * sizeof *c->parts);
		c->nparts--;
		if (c->cur > i)
			c->cur--;
		break;
	}
	/* Several readers may share one watch (the same directory). */
	if (cp->wd >= 0) {
		bool shared = false;
		for (size_t i = 0; i < c->nparts; i++)
			shared |= c->parts[i]->wd == cp->wd;
		if (!shared)
			inotify_rm_watch(c->ifd, cp->wd);
	}
	if (cp->ownfd >= 0)
		close(cp->ownfd);
	mq_preader_close(&cp->r);
	free(cp);
}

static int
add_part(struct mq_consumer *c, struct mq_ctopic *ct, uint32_t p,
	 bool initial, struct mq_err *e)
{
	struct mq_cpart *cp = mq_consumer_add(c, ct, p, e);

	if (!cp)
		return -1;
	if (mq_preader_seek(&cp->r, initial ? c->o.whence : MQ_FROM_BEGINNING,
			    c->o.arg, e) < 0) {
		mq_consumer_remove(c, cp);
		return -1;
	}
	return 0;
}

/* Sets up the partitions a topic has gained since we last looked. */
static int
grow_topic(struct mq_consumer *c, struct mq_ctopic *ct, bool initial,
	   struct mq_err *e)
{
	uint32_t n = (uint32_t)ct->t.cfg.partitions;

	/* A group member gets partitions by rebalancing instead; a reader
	 * of the group's offsets (--no-commit) starts new ones there. */
	if (c->o.group && !c->o.no_commit) {
		ct->known = n;
		return 0;
	}
	if (c->o.group && !initial) {
		for (uint32_t p = ct->known; p < n; p++) {
			struct mq_cpart *cp = mq_consumer_add(c, ct, p, e);
			if (!cp || mq_cgroup_position(c, ct, cp, e) < 0)
				return -1;
		}
		ct->known = n;
		return 0;
	}
	if (c->o.group) {
		ct->known = n;   /* mq_cgroup_open adds them */
		return 0;
	}
	for (uint32_t p = ct->known; p < n; p++)
		if (mq_consumer_wanted(c, p) && add_part(c, ct, p, initial, e) < 0)
			return -1;
	ct->known = n;
	return 0;
}

int
mq_consumer_open(struct mq_consumer *c, struct mq_spool *sp,
		 char *const *topics, size_t ntopics,
		 const struct mq_consumer_opts *o, struct mq_err *e)
{
	memset(c, 0, sizeof *c);
	c->ifd = -1;
	c->sp = sp;
	c->o = *o;
	c->topics = calloc(ntopics ? ntopics : 1, sizeof *c->topics);
	if (!c->topics)
		return mq_err_sys(e, "out of memory");
	if (o->follow)
		c->ifd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	for (size_t i = 0; i < ntopics; i++) {
		struct mq_ctopic *ct = &c->topics[c->ntopics];
		char *path;
		bool again = false;
		/* A topic named twice is read once. */
		for (size_t k = 0; k < i; k++)
			again |= strcmp(topics[k], topics[i]) == 0;
		if (again)
			continue;
		ct->wd = -1;
		ct->gdir = -1;
		if (mq_topic_open(&ct->t, sp, topics[i], e) < 0)
			goto fail;
		c->ntopics++;
		for (size_t k = 0; k < o->nparts; k++)
			if (o->parts[k] >= (uint64_t)ct->t.cfg.partitions) {
				mq_err_set(e, EINVAL, "topic '%s' has no "
					   "partition %u (it has %lld)",
					   topics[i], o->parts[k],
					   (long long)ct->t.cfg.partitions);
				goto fail;
			}
		if (o->follow) {
			path = malloc(strlen(sp->path) + strlen(topics[i]) + 2);
			if (!path) {
				mq_err_sys(e, "out of memory");
				goto fail;
			}
			sprintf(path, "%s/%s", sp->path, topics[i]);
			ct->wd = watch(c, path, TOPIC_EVENTS);
			free(path);
		}
		if (grow_topic(c, ct, true, e) < 0)
			goto fail;
	}
	if (o->group && mq_cgroup_open(c, e) < 0)
		goto fail;
	return 0;
fail:
	mq_consumer_close(c);
	return -1;
}

void
mq_consumer_close(struct mq_consumer *c)
{
	if (c->o.group)
		mq_cgroup_close(c);
	for (size_t i = 0; i < c->nparts; i++) {
		mq_preader_close(&c->parts[i]->r);
		free(c->parts[i]);
	}
	for (size_t i = 0; i < c->ntopics; i++)
		mq_topic_close(&c->topics[i].t);
	free(c->parts);
	free(c->topics);
	if (c->ifd >= 0)
		close(c->ifd);
	memset(c, 0, sizeof *c);
	c->ifd = -1;
}

int
mq_consumer_next_slow(struct mq_consumer *c, struct mq_cpart **part,
		      struct mq_record *rec, struct mq_err *e)
{
	size_t tried = 0;
	bool all_done = true, took;

	if (c->o.group && (mq_mono_ms() >= c->next_tick ||
			   (c->o.commit_every &&
			    c->since_commit >= c->o.commit_every)) &&
	    mq_cgroup_tick(c, false, e) < 0)
		return -1;
again:
	while (tried < c->nparts) {
		struct mq_cpart *cp;
		int rc;

		if (c->cur >= c->nparts)
			c->cur = 0;
		cp = c->parts[c->cur];
		/* Offsets only grow: once the next one reaches --until N the
		 * partition is finished, even if nothing more is written. */
		if (c->o.has_until && !c->o.until_time && !cp->done &&
		    cp->r.next >= (uint64_t)c->o.until && !cp->r.in_batch) {
			cp->done = true;
			mq_preader_trim(&cp->r);
		}
		if (cp->done || cp->idle) {
			c->cur++;
			tried++;
			continue;
		}
		rc = mq_preader_next(&cp->r, rec, e);
		if (rc < 0)
			return -1;
		if (rc == 0) {
			if (c->o.has_until &&
			    (c->o.until_time ? rec->ts >= c->o.until
			     : rec->offset >= (uint64_t)c->o.until)) {
				/* Not delivered: the partition's position
				 * (what a group commits) stays at it. */
				cp->done = true;
				if (mq_preader_rewind(&cp->r, rec->offset,
						      e) < 0)
					return -1;
				cp->r.in_batch = false;
				mq_preader_trim(&cp->r);
				continue;
			}
			if (cp->r.it.left == 0)
				c->cur++;   /* its batch is done: next turn */
			c->since_commit++;
			*part = cp;
			return 0;
		}
		if (c->o.follow)
			cp->idle = true;
		else
			cp->done = true;
		if (cp->done || c->nparts > 8)
			mq_preader_trim(&cp->r);
		c->cur++;
		tried++;
	}
	for (size_t i = 0; i < c->nparts; i++)
		if (!c->parts[i]->done)
			all_done = false;
	/* A follower with nothing to read (yet) waits: a group member may
	 * be handed partitions later. */
	if (c->o.follow && c->nparts == 0)
		return 2;
	if (all_done && c->o.group && !c->o.no_commit && !c->o.follow) {
		/* A member without -f has drained what it owns.  If others
		 * own partitions it waits one rebalance, so members that
		 * started before it can hand over their share, then takes
		 * whatever is still free. */
		if (mq_mono_ms() - c->joined_ms < MQ_REBALANCE_MS &&
		    !mq_cgroup_owns_all(c))
			return 2;
		if (!c->swept) {
			c->swept = true;
			if (mq_cgroup_sweep(c, &took, e) < 0)
				return -1;
			if (took) {
				tried = 0;
				all_done = true;
				goto again;
			}
		}
	}
	return all_done ? 1 : 2;
}

static void
wake_all(struct mq_consumer *c)
{
	for (size_t i = 0; i < c->nparts; i++)
		c->parts[i]->idle = false;
}

static int
topic_event(struct mq_consumer *c, struct mq_ctopic *ct,
	    const struct inotify_event *ev, struct mq_err *e)
{
	if (ev->mask & (IN_DELETE_SELF | IN_MOVE_SELF | IN_IGNORED))
		return mq_err_set(e, ENOENT, "topic '%s' was deleted",
				  ct->t.name);
	if (ev->len && strcmp(ev->name, "config") == 0) {
		if (mq_topic_reload(&ct->t, e) < 0)
			return -1;
		if (!c->o.parts)
			return grow_topic(c, ct, false, e);
	}
	return 0;
}

static int
read_events(struct mq_consumer *c, struct mq_err *e)
{
	char buf[16384] __attribute__((aligned(__alignof__(struct
							    inotify_event))));
	ssize_t n;

	while ((n = read(c->ifd, buf, sizeof buf)) > 0) {
		for (char *p = buf; p < buf + n;) {
			const struct inotify_event *ev = (void *)p;
			p += sizeof *ev + ev->len;
			if (ev->mask & IN_Q_OVERFLOW) {
				wake_all(c);
				continue;
			}
			for (size_t i = 0; i < c->ntopics; i++)
				if (c->topics[i].wd == ev->wd &&
				    topic_event(c, &c->topics[i], ev, e) < 0)
					return -1;
			for (size_t i = 0; i < c->nparts; i++)
				if (c->parts[i]->wd == ev->wd)
					c->parts[i]->idle = false;
		}
	}
	if (n < 0 && errno != EAGAIN && errno != EINTR)
		return mq_err_sys(e, "cannot read inotify events");
	return 0;
}

int
mq_consumer_wait(struct mq_consumer *c, int watch_fd,
		 volatile sig_atomic_t *stop, struct mq_err *e)
{
	struct pollfd pfd[2];
	nfds_t n = 0;
	int ifd_at = -1, out_at = -1, rc;
	int timeout = c->ifd >= 0 ? RECHECK_MS : POLL_MS;

	if (c->o.group && c->next_tick - mq_mono_ms() < timeout)
		timeout = (int)(c->next_tick - mq_mono_ms());
	if (timeout < 0)
		timeout = 0;
	if (c->ifd >= 0) {
		ifd_at = (int)n;
		pfd[n++] = (struct pollfd){c->ifd, POLLIN, 0};
	}
	if (watch_fd >= 0) {
		out_at = (int)n;
		pfd[n++] = (struct pollfd){watch_fd, 0, 0};
	}
	rc = mq_wait(pfd, n, timeout, stop);
	if (rc == -2)
		return 3;
	if (rc < 0)
		return mq_err_sys(e, "cannot wait for new messages");
	if (out_at >= 0 && (pfd[out_at].revents & (POLLERR | POLLHUP)))
		return 1;
	if (rc == 0) {
		wake_all(c);
		return 0;
	}
	if (ifd_at >= 0 && (pfd[ifd_at].revents & POLLIN))
		return read_events(c, e);
	return 0;
}
