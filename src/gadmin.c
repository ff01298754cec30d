/*
 * gadmin.c - looking after consumer groups, as mq-group does: list the
 * groups of a spool, describe a group's position and lag on each topic,
 * reset its committed offsets, delete it.
 *
 * A reset runs under the group's lock (group.c) like every commit, and
 * bumps the epoch of each offset file it changes, so running members move
 * to the new position at their next commit instead of writing an older
 * one over it.  Offsets outside a partition's log are refused, never
 * clamped: a reset either applies as asked or not at all.
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
		char *ppath;
		int pdir;
		g->partition = p;
		if (mq_group_read(gdir, path, p, &g->committed, e) < 0)
			goto fail;
		pdir = mq_topic_partition_dir(t, p, e);
		if (pdir < 0)
			goto fail;
		ppath = mq_topic_partition_path(t, p);
		if (!ppath || mq_partition_bounds(pdir, ppath,
				(uint64_t)t->cfg.max_message_bytes, &g->start,
				&g->end, e) < 0) {
			if (!ppath)
				mq_err_sys(e, "out of memory");
			free(ppath);
			close(pdir);
			goto fail;
		}
		free(ppath);
		close(pdir);
		/* Without a usable commit, everything stored is pending. */
		if (g->committed.exists && g->committed.offset >= g->start &&
		    g->committed.offset <= g->end)
			g->lag = g->end > g->committed.offset ?
				 g->end - g->committed.offset : 0;
		else
			g->lag = g->end - g->start;
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

int
mq_group_delete(struct mq_spool *sp, const char *group, struct mq_err *e)
{
	char **topics;
	size_t n;
	int *locks, rc = 0;

	if (mq_group_topics(sp, group, &topics, &n, e) < 0)
		return -1;
	locks = malloc(n * sizeof *locks);
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

int
mq_group_reset(struct mq_topic *t, const char *group,
	       const struct mq_reset *how, struct mq_reset_row **rows,
	       size_t *n, struct mq_err *e)
{
	uint32_t np = (uint32_t)t->cfg.partitions;
	struct mq_reset_row *v = calloc(np ? np : 1, sizeof *v);
	uint32_t *parts = calloc(np ? np : 1, sizeof *parts);
	struct mq_gpos *pos = calloc(np ? np : 1, sizeof *pos);
	char *path = where(t, group);
	size_t k = 0;
	int gdir = -1, lock = -1, rc = -1;

	if (!v || !parts || !pos || !path) {
		mq_err_sys(e, "out of memory");
		goto out;
	}
	for (size_t i = 0; how->parts && i < how->nparts; i++)
		if (how->parts[i] >= np) {
			mq_err_set(e, EINVAL, "topic '%s' has no partition %u "
				   "(it has %u)", t->name, how->parts[i], np);
			goto out;
		}
	gdir = mq_group_dir(t, group, false, e);
	if (gdir < 0 && e->code != ENOENT)
		goto out;
	if (gdir < 0 && !how->dry_run) {
		/* A new group: check the reset first, so a refused one
		 * leaves no group behind. */
		struct mq_reset dry = *how;
		struct mq_reset_row *tmp;
		size_t tn;
		dry.dry_run = true;
		if (mq_group_reset(t, group, &dry, &tmp, &tn, e) < 0)
			goto out;
		free(tmp);
		gdir = mq_group_dir(t, group, true, e);
		if (gdir < 0)
			goto out;
	}
	if (gdir >= 0 &&
	    (lock = mq_group_lock(gdir, path, t->name, group, e)) < 0)
		goto out;
	for (uint32_t p = 0; p < np; p++) {
		struct mq_reset_row *row = &v[k];
		uint64_t start, end, to = 0;
		char *ppath;
		int pdir;
		if (!wanted(how, p))
			continue;
		row->partition = p;
		if (gdir >= 0 &&
		    mq_group_read(gdir, path, p, &row->old, e) < 0)
			goto out;
		pdir = mq_topic_partition_dir(t, p, e);
		if (pdir < 0)
			goto out;
		ppath = mq_topic_partition_path(t, p);
		rc = !ppath ? mq_err_sys(e, "out of memory") :
		     mq_partition_bounds(pdir, ppath,
					 (uint64_t)t->cfg.max_message_bytes,
					 &start, &end, e);
		free(ppath);
		close(pdir);
		if (rc < 0)
			goto out;
		rc = -1;
		switch (how->how) {
		case MQ_TO_EARLIEST:
			to = start;
			break;
		case MQ_TO_LATEST:
			to = end;
			break;
		case MQ_TO_OFFSET:
			to = (uint64_t)how->arg;
			break;
		case MQ_TO_TIME:
			if (offset_at(t, p, how->arg, &to, e) < 0)
				goto out;
			break;
		case MQ_SHIFT: {
			int64_t from = row->old.exists ? (int64_t)row->old.offset
						       : (int64_t)start;
			if ((how->arg < 0 && from + how->arg < (int64_t)start) ||
			    (how->arg > 0 && from + how->arg > (int64_t)end)) {
				mq_err_set(e, EINVAL, "shifting '%s' partition "
					   "%u by %+lld from %lld gives %lld, "
					   "outside its log (%llu to %llu)",
					   t->name, p, (long long)how->arg,
					   (long long)from,
					   (long long)(from + how->arg),
					   (unsigned long long)start,
					   (unsigned long long)end);
				goto out;
			}
			to = (uint64_t)(from + how->arg);
			break;
		}
		}
		if (to < start || to > end) {
			mq_err_set(e, EINVAL, "offset %llu is outside the log of "
				   "'%s' partition %u (%llu to %llu)",
				   (unsigned long long)to, t->name, p,
				   (unsigned long long)start,
				   (unsigned long long)end);
			goto out;
		}
		row->new_offset = to;
		parts[k] = p;
		pos[k].offset = to;
		pos[k].epoch = row->old.epoch + 1;
		pos[k].exists = true;
		k++;
	}
	if (!how->dry_run && mq_group_write(gdir, path, parts, pos, k, e) < 0)
		goto out;
	*rows = v;
	*n = k;
	v = NULL;
	rc = 0;
out:
	if (lock >= 0)
		close(lock);
	if (gdir >= 0)
		close(gdir);
	free(v);
	free(parts);
	free(pos);
	free(path);
	return rc;
}
