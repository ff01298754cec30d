/*
 * cgroup.c - the consumer side of consumer groups: what mq-consume -g
 * does on top of consumer.c and group.c.
 *
 * A member joins the group on each topic it reads and, every
 * MQ_REBALANCE_MS, counts the live members and aims for its fair share,
 * ceil(partitions / members): it takes free partitions (flock on P.own)
 * while it has fewer, and gives back its highest-numbered ones while it has
 * more.  A partition is given back only after the output is flushed and
 * its offset committed, so the next owner starts where this one stopped;
 * a member that dies (even by SIGKILL) loses its locks at once and the
 * others take its partitions at their next rebalance, within a second.
 *
 * Delivery is at least once: the caller's flush callback pushes every
 * message handed out so far to its destination before any commit.
 * Commits happen every commit_ms (and every commit_every messages), when a
 * partition is given back, and at the end; each commit also notices a
 * reset made by mq-group (a new epoch in the offset file) and moves the
 * reader there instead of writing its own, older position.
 */
#include <config.h>

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mqcmd.h"

static void
notice(struct mq_consumer *c, bool event, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void
notice(struct mq_consumer *c, bool event, const char *fmt, ...)
{
	char msg[512];
	size_t n = 0;
	va_list ap;

	if (!c->o.notice || (event && !c->o.verbose))
		return;
	/* Events carry the time, to line up several members' reports. */
	if (event) {
		mq_time_format(mq_now_ms(), msg, sizeof msg);
		n = strlen(msg);
		msg[n++] = ' ';
	}
	va_start(ap, fmt);
	vsnprintf(msg + n, sizeof msg - n, fmt, ap);
	va_end(ap);
	c->o.notice(c->o.cb_arg, msg);
}

static int
flush(struct mq_consumer *c, struct mq_err *e)
{
	if (c->o.flush && c->o.flush(c->o.cb_arg) < 0)
		return mq_err_sys(e, "cannot write the messages out before "
				  "committing them");
	return 0;
}

/*
 * Positions a partition from the group's committed offset, or from -o when
 * there is none.  A committed offset outside the log (retention removed
 * what it points at, or the log was replaced) follows --offset-reset.
 */
int
mq_cgroup_position(struct mq_consumer *c, struct mq_ctopic *ct,
		   struct mq_cpart *cp, struct mq_err *e)
{
	struct mq_gpos pos = {0};
	uint64_t start, end;

	if (ct->gdir >= 0 &&
	    mq_group_read(ct->gdir, ct->gpath, cp->partition, &pos, e) < 0)
		return -1;
	cp->committed = pos;
	if (mq_partition_bounds(cp->r.pdir, cp->r.path, cp->r.limit, &start,
				&end, e) < 0)
		return -1;
	if (!pos.exists) {
		/* Where -o says, as an exact offset: it is committed even if
		 * nothing is read, so the next run starts here too. */
		uint64_t at;
		switch (c->o.whence) {
		case MQ_FROM_END:
			at = end;
			break;
		case MQ_FROM_OFFSET:
			at = (uint64_t)c->o.arg < start ? start
						       : (uint64_t)c->o.arg;
			break;
		case MQ_FROM_TAIL:
			at = end - start > (uint64_t)c->o.arg ?
			     end - (uint64_t)c->o.arg : start;
			break;
		case MQ_FROM_TIME:
			if (mq_preader_offset_at(&cp->r, c->o.arg, &at, e) < 0)
				return -1;
			break;
		default:
			at = start;
		}
		if (mq_preader_seek(&cp->r, MQ_FROM_OFFSET, (int64_t)at, e) < 0)
			return -1;
	} else {
		if (pos.offset < start || pos.offset > end) {
			const char *where = pos.offset < start ?
					    "below the log start" :
					    "past the log end";
			if (c->o.offset_reset == MQ_RESET_ERROR)
				return mq_err_set(e, ERANGE, "group '%s': "
						  "committed offset %llu of "
						  "'%s' partition %u is %s (%llu)",
						  c->o.group,
						  (unsigned long long)pos.offset,
						  ct->t.name, cp->partition,
						  where, (unsigned long long)
						  (pos.offset < start ? start
						   : end));
			notice(c, false, "group '%s': committed offset %llu of "
			       "'%s' partition %u is %s: resetting to %s (%llu)",
			       c->o.group, (unsigned long long)pos.offset,
			       ct->t.name, cp->partition, where,
			       c->o.offset_reset == MQ_RESET_LATEST ?
			       "latest" : "earliest",
			       (unsigned long long)
			       (c->o.offset_reset == MQ_RESET_LATEST ? end
				: start));
			pos.offset = c->o.offset_reset == MQ_RESET_LATEST ? end
									  : start;
		}
		if (mq_preader_seek(&cp->r, MQ_FROM_OFFSET,
				    (int64_t)pos.offset, e) < 0)
			return -1;
	}
	cp->start_next = cp->r.next;
	mq_consumer_mark_reset(cp);
	return 0;
}

/*
 * Commits the partitions of ct in parts (all of ct's when NULL): under the
 * group lock, a partition whose file has a new epoch was reset by mq-group
 * and is moved there; the others get their position written if it moved.
 */
static int
commit_topic(struct mq_consumer *c, struct mq_ctopic *ct,
	     struct mq_cpart *only, const uint64_t *written,
	     struct mq_err *e)
{
	uint32_t *parts = NULL;
	struct mq_gpos *pos = NULL;
	struct mq_cpart **who = NULL;
	size_t n = 0;
	int lock, rc = -1;

	if (!ct->joined)
		return 0;
	parts = calloc(c->nparts + 1, sizeof *parts);
	pos = calloc(c->nparts + 1, sizeof *pos);
	who = calloc(c->nparts + 1, sizeof *who);
	if (!parts || !pos || !who) {
		mq_err_sys(e, "out of memory");
		goto out;
	}
	lock = mq_group_lock(ct->gdir, ct->gpath, ct->t.name, c->o.group, e);
	if (lock < 0)
		goto out;
	for (size_t i = 0; i < c->nparts; i++) {
		struct mq_cpart *cp = c->parts[i];
		struct mq_gpos now;
		uint64_t at;
		if (cp->t != &ct->t || (only && cp != only) || cp->ownfd < 0)
			continue;
		if (mq_group_read(ct->gdir, ct->gpath, cp->partition, &now,
				  e) < 0)
			goto unlock;
		if (now.exists && now.epoch != cp->committed.epoch) {
			/* mq-group reset moved it: go there, write nothing
			 * (the next full commit does, not one made while
			 * the output is blocked: the caller may be in the
			 * middle of the partition's batch). */
			if (written)
				continue;
			if (mq_preader_seek(&cp->r, MQ_FROM_OFFSET,
					    (int64_t)now.offset, e) < 0)
				goto unlock;
			cp->committed = now;
			cp->start_next = cp->r.next;
			mq_consumer_mark_reset(cp);
			cp->done = false;
			cp->idle = false;
			notice(c, true, "group '%s': '%s' partition %u was "
			       "reset to offset %llu", c->o.group, ct->t.name,
			       cp->partition, (unsigned long long)now.offset);
			continue;
		}
		at = written ? mq_consumer_written_pos(cp, *written)
			     : cp->r.next;
		/* Nothing moved: nothing to record.  Written positions
		 * may lag what was committed: never go back. */
		if (now.exists && (now.offset == at ||
				   (written && now.offset > at)))
			continue;
		parts[n] = cp->partition;
		pos[n].offset = at;
		pos[n].epoch = cp->committed.epoch;
		pos[n].exists = true;
		who[n++] = cp;
	}
	if (mq_group_write(ct->gdir, ct->gpath, parts, pos, n, e) < 0)
		goto unlock;
	for (size_t i = 0; i < n; i++) {
		who[i]->committed = pos[i];
		notice(c, true, "group '%s': '%s' partition %u committed at "
		       "offset %llu", c->o.group, ct->t.name, parts[i],
		       (unsigned long long)pos[i].offset);
		if (c->o.acks && mq_acklog_printf(c->o.acks, e, "%s %u %llu\n",
				ct->t.name, parts[i],
				(unsigned long long)pos[i].offset) < 0)
			goto unlock;
	}
	/* Durable commits only: mq_group_write synced the offset files. */
	if (n && c->o.acks && mq_acklog_commit(c->o.acks, e) < 0)
		goto unlock;
	rc = 0;
unlock:
	close(lock);
out:
	free(parts);
	free(pos);
	free(who);
	return rc;
}

int
mq_cgroup_commit(struct mq_consumer *c, struct mq_err *e)
{
	if (!c->o.group || c->o.no_commit)
		return 0;
	if (flush(c, e) < 0)
		return -1;
	for (size_t i = 0; i < c->ntopics; i++)
		if (commit_topic(c, &c->topics[i], NULL, NULL, e) < 0)
			return -1;
	c->next_commit = mq_mono_ms() + c->o.commit_ms;
	c->since_commit = 0;
	return 0;
}

int
mq_cgroup_commit_written(struct mq_consumer *c, uint64_t written,
			 struct mq_err *e)
{
	if (!c->o.group || c->o.no_commit)
		return 0;
	for (size_t i = 0; i < c->ntopics; i++)
		if (commit_topic(c, &c->topics[i], NULL, &written, e) < 0)
			return -1;
	c->next_commit = mq_mono_ms() + c->o.commit_ms;
	return 0;
}

static size_t
owned(const struct mq_consumer *c, const struct mq_ctopic *ct)
{
	size_t n = 0;

	for (size_t i = 0; i < c->nparts; i++)
		if (c->parts[i]->t == &ct->t)
			n++;
	return n;
}

static bool
is_ours(const struct mq_consumer *c, const struct mq_ctopic *ct, uint32_t p)
{
	for (size_t i = 0; i < c->nparts; i++)
		if (c->parts[i]->t == &ct->t && c->parts[i]->partition == p)
			return true;
	return false;
}

/* Gives a partition back: flush, commit, unlock. */
static int
give_back(struct mq_consumer *c, struct mq_ctopic *ct, struct mq_cpart *cp,
       struct mq_err *e)
{
	if (flush(c, e) < 0 || commit_topic(c, ct, cp, NULL, e) < 0)
		return -1;
	notice(c, true, "group '%s': gave back '%s' partition %u at offset "
	       "%llu", c->o.group, ct->t.name, cp->partition,
	       (unsigned long long)cp->r.next);
	close(cp->ownfd);
	cp->ownfd = -1;
	mq_consumer_remove(c, cp);
	return 0;
}

/* Takes partition p if it is free; *got says whether it was. */
static int
claim(struct mq_consumer *c, struct mq_ctopic *ct, uint32_t p, bool *got,
      struct mq_err *e)
{
	int fd = mq_member_claim(&ct->member, p, e);
	struct mq_cpart *cp;

	*got = false;
	if (fd < 0)
		return errno == EWOULDBLOCK ? 0 : -1;
	cp = mq_consumer_add(c, ct, p, e);
	if (!cp) {
		close(fd);
		return -1;
	}
	cp->ownfd = fd;
	if (mq_cgroup_position(c, ct, cp, e) < 0) {
		close(fd);
		cp->ownfd = -1;
		mq_consumer_remove(c, cp);
		return -1;
	}
	notice(c, true, "group '%s': took '%s' partition %u at offset %llu",
	       c->o.group, ct->t.name, p, (unsigned long long)cp->r.next);
	*got = true;
	return 0;
}

/*
 * Aims for the fair share of ct's partitions; with greedy (a member
 * without -f about to finish), takes every free partition.
 */
static int
rebalance(struct mq_consumer *c, struct mq_ctopic *ct, bool greedy,
	  bool *took, struct mq_err *e)
{
	uint32_t live, n = (uint32_t)ct->t.cfg.partitions, share;
	size_t have;

	if (mq_member_live(&ct->member, &live, e) < 0)
		return -1;
	if (live == 0)
		live = 1;
	share = greedy ? n : (n + live - 1) / live;
	have = owned(c, ct);
	while (have > share) {
		struct mq_cpart *last = NULL;
		for (size_t i = 0; i < c->nparts; i++)
			if (c->parts[i]->t == &ct->t &&
			    (!last || c->parts[i]->partition > last->partition))
				last = c->parts[i];
		if (give_back(c, ct, last, e) < 0)
			return -1;
		have--;
	}
	/* Start the search at a place of our own, so members that start
	 * together do not all race for partition 0 first. */
	for (uint32_t k = 0; k < n && have < share; k++) {
		uint32_t p = (uint32_t)(((uint32_t)getpid() + k) % n);
		bool got;
		if (is_ours(c, ct, p))
			continue;
		if (claim(c, ct, p, &got, e) < 0)
			return -1;
		if (got) {
			have++;
			*took = true;
		}
	}
	return 0;
}

int
mq_cgroup_tick(struct mq_consumer *c, bool force, struct mq_err *e)
{
	int64_t now = mq_mono_ms();
	bool took = false;

	if (!c->o.group || c->o.no_commit)
		return 0;
	if (force || now >= c->next_commit ||
	    (c->o.commit_every && c->since_commit >= c->o.commit_every)) {
		if (mq_cgroup_commit(c, e) < 0)
			return -1;
	}
	if (force || now >= c->next_rebalance) {
		for (size_t i = 0; i < c->ntopics; i++)
			if (rebalance(c, &c->topics[i], false, &took, e) < 0)
				return -1;
		c->next_rebalance = now + MQ_REBALANCE_MS;
	}
	c->next_tick = c->next_commit < c->next_rebalance ? c->next_commit
							  : c->next_rebalance;
	return 0;
}

bool
mq_cgroup_owns_all(const struct mq_consumer *c)
{
	for (size_t i = 0; i < c->ntopics; i++)
		if (owned(c, &c->topics[i]) <
		    (size_t)c->topics[i].t.cfg.partitions)
			return false;
	return true;
}

int
mq_cgroup_sweep(struct mq_consumer *c, bool *took, struct mq_err *e)
{
	*took = false;
	if (!c->o.group || c->o.no_commit)
		return 0;
	for (size_t i = 0; i < c->ntopics; i++)
		if (rebalance(c, &c->topics[i], true, took, e) < 0)
			return -1;
	return 0;
}

int
mq_cgroup_open(struct mq_consumer *c, struct mq_err *e)
{
	for (size_t i = 0; i < c->ntopics; i++) {
		struct mq_ctopic *ct = &c->topics[i];
		size_t n = strlen(c->sp->path) + strlen(ct->t.name) +
			   strlen(c->o.group) + 16;
		ct->gpath = malloc(n);
		if (!ct->gpath)
			return mq_err_sys(e, "out of memory");
		snprintf(ct->gpath, n, "%s/%s/groups/%s", c->sp->path,
			 ct->t.name, c->o.group);
		ct->gdir = mq_group_dir(&ct->t, c->o.group, !c->o.no_commit,
					e);
		if (ct->gdir < 0) {
			if (!c->o.no_commit || e->code != ENOENT)
				return -1;
		} else if (!c->o.no_commit) {
			if (mq_member_join(&ct->member, ct->gdir, ct->gpath,
					   e) < 0)
				return -1;
			ct->joined = true;
		}
		if (c->o.no_commit) {
			/* Read where the group is, without joining it. */
			for (uint32_t p = 0; p < (uint32_t)ct->t.cfg.partitions;
			     p++) {
				struct mq_cpart *cp;
				if (!mq_consumer_wanted(c, p))
					continue;
				cp = mq_consumer_add(c, ct, p, e);
				if (!cp || mq_cgroup_position(c, ct, cp, e) < 0)
					return -1;
			}
		}
	}
	c->joined_ms = mq_mono_ms();
	return mq_cgroup_tick(c, true, e);
}

void
mq_cgroup_close(struct mq_consumer *c)
{
	for (size_t i = 0; i < c->nparts; i++) {
		if (c->parts[i]->ownfd >= 0)
			close(c->parts[i]->ownfd);
		c->parts[i]->ownfd = -1;
	}
	for (size_t i = 0; i < c->ntopics; i++) {
		struct mq_ctopic *ct = &c->topics[i];
		if (ct->joined)
			mq_member_leave(&ct->member);
		ct->joined = false;
		if (ct->gdir >= 0)
			close(ct->gdir);
		ct->gdir = -1;
		free(ct->gpath);
		ct->gpath = NULL;
	}
}
