/*
 * gadmin.c - looking after consumer groups, as mq-group does: list the
 * groups of a spool, describe a group's position and lag on each topic,
 * reset its committed offsets, delete it.
 *
 * A reset is planned first (offset files are read without a lock: they
 * are replaced atomically), shown through the caller's hook, and only
 * then written, under the group's lock (group.c) like every commit, all
 * files in one step.  It bumps the epoch of each offset file it changes,
 * so running members move to the new position at their next commit
 * instead of writing an older one over it.  Offsets asked for outside a
 * partition's log are clamped to its nearer end, as Kafka's
 * kafka-consumer-groups does, and the row says so; a damaged offset file
 * is replaced, except by --shift-by, which needs what it held.
 */
#include <config.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mqcmd.h"

#define DIR_FLAGS (O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)

static char *
where(struct mq_topic *t, const char *group)
{
	size_t n = strlen(t->sp->path) + strlen(t->name) + strlen(group) + 16;
	char *s = malloc(n);

	if (s)
		snprintf(s, n, "%s/%s/groups/%s", t->sp->path, t->name, group);
	return s;
}

int
mq_group_state(struct mq_topic *t, const char *group, struct mq_gpart **rows,
	       size_t *n, uint32_t *members, struct mq_err *e)
{
	uint32_t np = (uint32_t)t->cfg.partitions;
	struct mq_gpart *v = calloc(np ? np : 1, sizeof *v);
	char *path = where(t, group);
	int gdir = -1;

	if (!v || !path) {
		mq_err_sys(e, "out of memory");
		goto fail;
	}
	gdir = mq_group_dir(t, group, false, e);
	if (gdir < 0)
		goto fail;
	if (mq_group_members(gdir, members) < 0) {
		mq_err_sys(e, "cannot list the members of group '%s'", group);
		goto fail;
	}
	for (uint32_t p = 0; p < np; p++) {
		struct mq_gpart *g = &v[p];
		int pdir;
		g->partition = p;
		if (mq_group_read(gdir, path, p, &g->committed, e) < 0)
			goto fail;
		pdir = mq_topic_partition_dir(t, p, e);
		if (pdir < 0)
			goto fail;
		if (mq_topic_bounds(t, p, pdir, &g->start, &g->end, e) < 0) {
			close(pdir);
			goto fail;
		}
		close(pdir);
		/* Without a usable commit, everything stored is pending. */
		if (g->committed.exists && g->committed.offset >= g->start &&
		    g->committed.offset <= g->end)
			g->lag = g->end > g->committed.offset ?
				 g->end - g->committed.offset : 0;
		else
			g->lag = g->end - g->start;
		g->below_start = g->committed.exists &&
				 g->committed.offset < g->start;
		mq_group_owner(gdir, p, g->owner, sizeof g->owner, &g->owned);
	}
	close(gdir);
	free(path);
	*rows = v;
	*n = np;
	return 0;
fail:
	if (gdir >= 0)
		close(gdir);
	free(path);
	free(v);
	return -1;
}

int
mq_group_lag(struct mq_spool *sp, const char *group, const char *topic,
	     struct mq_glag *l, struct mq_err *e)
{
	char **topics;
	size_t nt;
	int rc = 0;

	memset(l, 0, sizeof *l);
	if (topic) {
		if (!(topics = malloc(sizeof *topics)) ||
		    !(topics[0] = strdup(topic))) {
			free(topics);
			return mq_err_sys(e, "out of memory");
		}
		nt = 1;
	} else if (mq_group_topics(sp, group, &topics, &nt, e) < 0) {
		return -1;
	}
	for (size_t i = 0; i < nt && rc == 0; i++) {
		struct mq_topic t;
		struct mq_gpart *g;
		size_t n;
		uint32_t m;
		if (mq_topic_open(&t, sp, topics[i], e) < 0) {
			rc = -1;
			break;
		}
		if (mq_group_state(&t, group, &g, &n, &m, e) == 0) {
			for (size_t k = 0; k < n; k++) {
				l->lag += g[k].lag;
				l->below_start += g[k].below_start;
			}
			l->partitions += n;
			free(g);
		} else {
			rc = -1;
		}
		mq_topic_close(&t);
	}
	l->topics = nt;
	mq_names_free(topics, nt);
	return rc;
}

static int
cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int
push(char ***v, size_t *n, size_t *cap, const char *s)
{
	for (size_t i = 0; i < *n; i++)
		if (strcmp((*v)[i], s) == 0)
			return 0;
	if (*n == *cap) {
		size_t c = *cap ? *cap * 2 : 16;
		char **nv = realloc(*v, c * sizeof *nv);
		if (!nv)
			return -1;
		*v = nv;
		*cap = c;
	}
	if (!((*v)[*n] = strdup(s)))
		return -1;
	(*n)++;
	return 0;
}

/*
 * Walks the spool's topics: for each, the names under TOPIC/groups/, or
 * with group set, whether that group is there.
 */
static int
walk(struct mq_spool *sp, const char *group, char ***out, size_t *nout,
     struct mq_err *e)
{
	char **topics, **v = NULL;
	size_t nt, n = 0, cap = 0;
	int rc = -1;

	if (mq_spool_topics(sp, &topics, &nt, e) < 0)
		return -1;
	for (size_t i = 0; i < nt; i++) {
		int tfd = openat(sp->fd, topics[i], DIR_FLAGS), gs;
		DIR *d;
		struct dirent *de;
		if (tfd < 0)
			continue;   /* deleted meanwhile */
		gs = openat(tfd, "groups", DIR_FLAGS);
		close(tfd);
		if (gs < 0)
			continue;
		if (!(d = fdopendir(gs))) {
			close(gs);
			continue;
		}
		while ((de = readdir(d))) {
			if (mq_group_name_check(de->d_name, NULL) < 0)
				continue;
			if (group ? strcmp(de->d_name, group) == 0 &&
				    push(&v, &n, &cap, topics[i]) < 0
				  : push(&v, &n, &cap, de->d_name) < 0) {
				closedir(d);
				mq_err_sys(e, "out of memory");
				goto out;
			}
		}
		closedir(d);
	}
	if (n)
		qsort(v, n, sizeof *v, cmp_names);
	*out = v;
	*nout = n;
	v = NULL;
	n = 0;
	rc = 0;
out:
	mq_names_free(v, n);
	mq_names_free(topics, nt);
	return rc;
}

int
mq_spool_groups(struct mq_spool *sp, char ***names, size_t *n,
		struct mq_err *e)
{
	return walk(sp, NULL, names, n, e);
}

int
mq_group_topics(struct mq_spool *sp, const char *group, char ***names,
		size_t *n, struct mq_err *e)
{
	if (walk(sp, group, names, n, e) < 0)
		return -1;
	if (*n == 0) {
		free(*names);
		return mq_err_set(e, ENOENT, "group '%s' does not exist in '%s'",
				  group, sp->path);
	}
	return 0;
}

/* The names of only (n of them), copied, or every topic of the group. */
static int
delete_topics(struct mq_spool *sp, const char *group, char *const *only,
	      size_t nonly, char ***topics, size_t *n, struct mq_err *e)
{
	char **v = NULL;
	size_t k = 0, cap = 0;

	if (!only)
		return mq_group_topics(sp, group, topics, n, e);
	/* push() drops repeats: each topic's lock is taken once. */
	for (size_t i = 0; i < nonly; i++)
		if (push(&v, &k, &cap, only[i]) < 0) {
			mq_names_free(v, k);
			return mq_err_sys(e, "out of memory");
		}
	*topics = v;
	*n = k;
	return 0;
}

int
mq_group_delete(struct mq_spool *sp, const char *group, char *const *only,
		size_t nonly, struct mq_err *e)
{
	char **topics;
	size_t n;
	int *locks, rc = 0;

	if (delete_topics(sp, group, only, nonly, &topics, &n, e) < 0)
		return -1;
	locks = malloc((n ? n : 1) * sizeof *locks);
	if (!locks) {
		mq_names_free(topics, n);
		return mq_err_sys(e, "out of memory");
	}
	/* Take the group's lock on every topic, then check for members: a
	 * member joins under the same lock, so none can slip in between the
	 * check and the removal.  With any member, nothing is removed. */
	for (size_t i = 0; i < n; i++)
		locks[i] = -1;
	for (size_t i = 0; i < n && rc == 0; i++) {
		struct mq_topic t;
		uint32_t live = 0;
		int gdir;
		if (mq_topic_open(&t, sp, topics[i], e) < 0) {
			rc = -1;
			break;
		}
		gdir = mq_group_dir(&t, group, false, e);
		if (gdir >= 0) {
			char *path = where(&t, group);
			locks[i] = path ? mq_group_lock(gdir, path, t.name,
							group, e)
				       : mq_err_sys(e, "out of memory");
			if (locks[i] < 0)
				rc = -1;
			else if (mq_group_members(gdir, &live) < 0)
				rc = mq_err_sys(e, "cannot list '%s/members'",
						path);
			free(path);
			close(gdir);
		} else if (only) {
			/* A topic named by the caller must hold the group. */
			rc = -1;
		}
		if (rc == 0 && live)
			rc = mq_err_set(e, EBUSY, "group '%s' has %u live "
					"member%s on topic '%s': stop them "
					"first", group, live,
					live == 1 ? "" : "s", topics[i]);
		mq_topic_close(&t);
	}
	for (size_t i = 0; i < n && rc == 0; i++) {
		int tfd = openat(sp->fd, topics[i], DIR_FLAGS), gs;
		if (tfd < 0)
			continue;
		gs = openat(tfd, "groups", DIR_FLAGS);
		close(tfd);
		if (gs < 0)
			continue;
		if (mq_rmtree(gs, group) < 0)
			rc = mq_err_sys(e, "cannot remove '%s/%s/groups/%s'",
					sp->path, topics[i], group);
		else if (mq_fsync_dir(gs) < 0)
			rc = mq_err_sys(e, "cannot sync '%s/%s/groups'",
					sp->path, topics[i]);
		close(gs);
	}
	for (size_t i = 0; i < n; i++)
		if (locks[i] >= 0)
			close(locks[i]);
	free(locks);
	mq_names_free(topics, n);
	return rc;
}

/* The first offset at or after ts in a partition, or its end. */
static int
offset_at(struct mq_topic *t, uint32_t p, int64_t ts, uint64_t *off,
	  struct mq_err *e)
{
	struct mq_preader r;
	int rc;

	if (mq_preader_open(&r, t, p, e) < 0)
		return -1;
	rc = mq_preader_offset_at(&r, ts, off, e);
	mq_preader_close(&r);
	return rc;
}

static bool
wanted(const struct mq_reset *how, uint32_t p)
{
	if (!how->parts)
		return true;
	for (size_t i = 0; i < how->nparts; i++)
		if (how->parts[i] == p)
			return true;
	return false;
}

/*
 * Where one partition goes: the new offset of row, from its old position
 * (already read) and its log.  --to-offset and --shift-by outside the log
 * are clamped to its nearer end, as Kafka's tool does; the row says so.
 */
static int
plan_row(struct mq_topic *t, const char *path, const struct mq_reset *how,
	 struct mq_reset_row *row, struct mq_err *e)
{
	uint32_t p = row->partition;
	int64_t asked = 0;
	uint64_t to = 0;
	int pdir = mq_topic_partition_dir(t, p, e);

	if (pdir < 0)
		return -1;
	if (mq_topic_bounds(t, p, pdir, &row->start, &row->end, e) < 0) {
		close(pdir);
		return -1;
	}
	close(pdir);
	switch (how->how) {
	case MQ_TO_EARLIEST:
		to = row->start;
		break;
	case MQ_TO_LATEST:
		to = row->end;
		break;
	case MQ_TO_TIME:
		/* Always inside the log: nothing to clamp. */
		if (offset_at(t, p, how->arg, &to, e) < 0)
			return -1;
		break;
	case MQ_TO_OFFSET:
		asked = how->arg;
		break;
	case MQ_SHIFT:
		if (row->damaged)
			return mq_err_set(e, EBADMSG, "damaged offset file "
					  "'%s/%u': --shift-by needs the old "
					  "offset; replace it with --to-offset, "
					  "--to-earliest, --to-latest or "
					  "--to-datetime", path, p);
		asked = row->old.exists ? (int64_t)row->old.offset
					: (int64_t)row->start;
		/* Offsets are at most 2^63-1 and the shift at most half of
		 * that: saturate, the clamp below does the rest. */
		if (__builtin_add_overflow(asked, how->arg, &asked))
			asked = how->arg < 0 ? INT64_MIN : INT64_MAX;
		break;
	}
	if (how->how == MQ_TO_OFFSET || how->how == MQ_SHIFT) {
		row->asked = asked;
		if (asked < (int64_t)row->start) {
			to = row->start;
			row->clamped = true;
		} else if ((uint64_t)asked > row->end) {
			to = row->end;
			row->clamped = true;
		} else {
			to = (uint64_t)asked;
		}
	} else {
		row->asked = (int64_t)to;
	}
	row->new_offset = to;
	return 0;
}

/*
 * Writes the planned offsets under the group's lock.  Each file's epoch
 * is read again under the lock and bumped, so that a member that
 * committed since the plan was made still sees the reset.  The epoch of
 * a damaged file is unknown: it gets the time in milliseconds, an epoch
 * that no member can hold.
 */
static int
apply(struct mq_topic *t, const char *group, const char *path,
      const struct mq_reset_row *rows, size_t n, struct mq_err *e)
{
	uint32_t *parts = calloc(n ? n : 1, sizeof *parts);
	struct mq_gpos *pos = calloc(n ? n : 1, sizeof *pos);
	int gdir = -1, lock = -1, rc = -1;

	if (!parts || !pos) {
		mq_err_sys(e, "out of memory");
		goto out;
	}
	gdir = mq_group_dir(t, group, true, e);
	if (gdir < 0)
		goto out;
	lock = mq_group_lock(gdir, path, t->name, group, e);
	if (lock < 0)
		goto out;
	for (size_t i = 0; i < n; i++) {
		struct mq_gpos now;
		struct mq_err sub;
		parts[i] = rows[i].partition;
		pos[i].offset = rows[i].new_offset;
		pos[i].exists = true;
		if (mq_group_read(gdir, path, parts[i], &now, &sub) == 0)
			pos[i].epoch = now.epoch + 1;
		else if (sub.code == EBADMSG)
			pos[i].epoch = (uint64_t)mq_now_ms();
		else {
			*e = sub;
			goto out;
		}
	}
	rc = mq_group_write(gdir, path, parts, pos, n, e);
out:
	if (lock >= 0)
		close(lock);
	if (gdir >= 0)
		close(gdir);
	free(parts);
	free(pos);
	return rc;
}

int
mq_group_reset(struct mq_topic *t, const char *group,
	       const struct mq_reset *how, struct mq_reset_row **rows,
	       size_t *n, struct mq_err *e)
{
	uint32_t np = (uint32_t)t->cfg.partitions;
	struct mq_reset_row *v = calloc(np ? np : 1, sizeof *v);
	char *path = where(t, group);
	size_t k = 0;
	int gdir = -1, rc = -1;

	if (!v || !path) {
		mq_err_sys(e, "out of memory");
		goto out;
	}
	for (size_t i = 0; how->parts && i < how->nparts; i++)
		if (how->parts[i] >= np) {
			mq_err_set(e, EINVAL, "topic '%s' has no partition %u "
				   "(it has %u)", t->name, how->parts[i], np);
			goto out;
		}
	/* The plan: offset files are replaced atomically, so they are
	 * read without the lock. */
	gdir = mq_group_dir(t, group, false, e);
	if (gdir < 0 && e->code != ENOENT)
		goto out;
	for (uint32_t p = 0; p < np; p++) {
		struct mq_reset_row *row = &v[k];
		struct mq_err sub;
		if (!wanted(how, p))
			continue;
		row->partition = p;
		if (gdir >= 0 &&
		    mq_group_read(gdir, path, p, &row->old, &sub) < 0) {
			if (sub.code != EBADMSG) {
				*e = sub;
				goto out;
			}
			row->damaged = true;
		}
		if (plan_row(t, path, how, row, e) < 0)
			goto out;
		k++;
	}
	if (how->show && how->show(how->show_arg, v, k, e) < 0)
		goto out;
	if (!how->dry_run && apply(t, group, path, v, k, e) < 0)
		goto out;
	*rows = v;
	*n = k;
	v = NULL;
	rc = 0;
out:
	if (gdir >= 0)
		close(gdir);
	free(v);
	free(path);
	return rc;
}
