/*
 * group.c - consumer groups without a coordinator.
 *
 * A group's state on a topic lives in TOPIC/groups/GROUP/:
 *
 *   P          the committed offset of partition P: the offset of the next
 *              message to consume, as text ("1234\n"), so cat shows it; a
 *              second line "epoch N" counts the resets applied to it (a
 *              reset over a damaged file restarts it from the time in ms)
 *   P.own      ownership lock: a member owns P while it holds
 *              flock(LOCK_EX) on this file; it holds the owner's id
 *   members/ID one file per live member, flocked by that member for its
 *              whole life; the kernel drops the lock when it dies
 *   lock       held briefly (flock) by every commit and every reset
 *
 * Membership: a member creates its file under a temporary name, locks it,
 * and only then renames it into members/, so a file there that anyone
 * else can lock belongs to a dead member and is removed.  Ownership is
 * flock(LOCK_EX|LOCK_NB) on P.own, so two members never own a partition at
 * once, and a member killed with SIGKILL frees its partitions at once.
 *
 * Commits and resets: both take "lock".  A commit first reads each file:
 * if its epoch differs from the one the member started from, a reset
 * happened, and the member takes the new position instead of writing its
 * own (so an older position never overwrites a reset).  A reset bumps the
 * epoch of each partition it moves.  Files are replaced atomically: all
 * are written as NAME.tmp.PID and synced, renamed, then the directory is
 * synced once.
 */
#include <config.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mq.h"

#define DIR_FLAGS (O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
#define OFFSET_FILE_MAX 128

int
mq_group_name_check(const char *name, struct mq_err *e)
{
	struct mq_err sub;

	if (mq_topic_name_check(name, &sub) < 0)
		return mq_err_set(e, EINVAL, "bad group name '%.260s': use 1 "
				  "to 249 of A-Z a-z 0-9 . _ - (not \".\" or "
				  "\"..\")", name);
	return 0;
}

int
mq_group_dir(struct mq_topic *t, const char *group, bool create,
	     struct mq_err *e)
{
	int gs, fd;

	if (mq_group_name_check(group, e) < 0)
		return -1;
	if (create && mq_mkdirat(t->fd, "groups") < 0 && errno != EEXIST)
		return mq_err_sys(e, "cannot create '%s/%s/groups'", t->sp->path,
				  t->name);
	gs = openat(t->fd, "groups", DIR_FLAGS);
	if (gs < 0) {
		if (errno == ENOENT)
			return mq_err_set(e, ENOENT, "group '%s' has nothing "
					  "on topic '%s'", group, t->name);
		return mq_err_sys(e, "cannot open '%s/%s/groups'", t->sp->path,
				  t->name);
	}
	if (create && mq_mkdirat(gs, group) < 0 && errno != EEXIST) {
		mq_err_sys(e, "cannot create group directory '%s/%s/groups/%s'",
			   t->sp->path, t->name, group);
		close(gs);
		return -1;
	}
	fd = openat(gs, group, DIR_FLAGS);
	close(gs);
	if (fd < 0) {
		if (errno == ENOENT)
			return mq_err_set(e, ENOENT, "group '%s' has nothing "
					  "on topic '%s'", group, t->name);
		return mq_err_sys(e, "cannot open group directory "
				  "'%s/%s/groups/%s'", t->sp->path, t->name,
				  group);
	}
	if (create && mq_mkdirat(fd, "members") < 0 && errno != EEXIST) {
		mq_err_sys(e, "cannot create '%s/%s/groups/%s/members'",
			   t->sp->path, t->name, group);
		close(fd);
		return -1;
	}
	return fd;
}

int
mq_group_parse(const char *text, struct mq_gpos *pos)
{
	const char *p = text, *nl = strchr(text, '\n');
	char line[32];
	size_t n;

	if (!nl || (n = (size_t)(nl - p)) == 0 || n >= sizeof line)
		return -1;
	memcpy(line, p, n);
	line[n] = '\0';
	if (mq_parse_u64(line, 0, INT64_MAX, &pos->offset) < 0)
		return -1;
	pos->epoch = 0;
	p = nl + 1;
	if (*p) {
		if (strncmp(p, "epoch ", 6) != 0)
			return -1;
		p += 6;
		nl = strchr(p, '\n');
		if (!nl || nl[1] || (n = (size_t)(nl - p)) == 0 ||
		    n >= sizeof line)
			return -1;
		memcpy(line, p, n);
		line[n] = '\0';
		if (mq_parse_u64(line, 1, INT64_MAX, &pos->epoch) < 0)
			return -1;
	}
	pos->exists = true;
	return 0;
}

int
mq_group_read(int gdir, const char *where, uint32_t p, struct mq_gpos *pos,
	      struct mq_err *e)
{
	char name[16], *text;
	int fd;
	ssize_t n;

	memset(pos, 0, sizeof *pos);
	snprintf(name, sizeof name, "%u", p);
	fd = mq_openat(gdir, name, O_RDONLY);
	if (fd < 0) {
		if (errno == ENOENT)
			return 0;
		return mq_err_sys(e, "cannot open offset file '%s/%s'", where,
				  name);
	}
	text = malloc(OFFSET_FILE_MAX + 1);
	if (!text) {
		close(fd);
		return mq_err_sys(e, "out of memory");
	}
	n = mq_read_full(fd, text, OFFSET_FILE_MAX + 1);
	close(fd);
	if (n < 0) {
		free(text);
		return mq_err_sys(e, "cannot read offset file '%s/%s'", where,
				  name);
	}
	text[n] = '\0';
	if (n > OFFSET_FILE_MAX || (size_t)n != strlen(text) ||
	    mq_group_parse(text, pos) < 0) {
		free(text);
		memset(pos, 0, sizeof *pos);
		return mq_err_set(e, EBADMSG, "damaged offset file '%s/%s': "
				  "expected an offset on its first line (and "
				  "optionally \"epoch N\" on a second)", where,
				  name);
	}
	free(text);
	return 0;
}

int
mq_group_lock(int gdir, const char *where, const char *topic,
	      const char *group, struct mq_err *e)
{
	int fd = mq_openat(gdir, "lock", O_RDWR | O_CREAT);

	if (fd < 0)
		return mq_err_sys(e, "cannot open group lock '%s/lock'", where);
	if ((topic && group
	     ? mq_flock_wait(fd, LOCK_EX, e, "group '%s' of topic '%s'", group,
			     topic)
	     : mq_flock_wait(fd, LOCK_EX, e, "the group")) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/*
 * Offset files are only ever written under the group lock, so a temporary
 * one seen while holding it was left by a writer that died: remove it.
 */
static void
remove_leftovers(int gdir)
{
	int fd = openat(gdir, ".", DIR_FLAGS);
	DIR *d;
	struct dirent *de;

	if (fd < 0 || !(d = fdopendir(fd))) {
		if (fd >= 0)
			close(fd);
		return;
	}
	while ((de = readdir(d)))
		if (de->d_name[0] >= '0' && de->d_name[0] <= '9' &&
		    strstr(de->d_name, ".tmp."))
			unlinkat(gdir, de->d_name, 0);
	closedir(d);
}

int
mq_group_write(int gdir, const char *where, const uint32_t *parts,
	       const struct mq_gpos *pos, size_t n, struct mq_err *e)
{
	char name[16], tmp[40], text[64];
	size_t i;

	remove_leftovers(gdir);

	/* Write and sync every new file first, then publish them all. */
	for (i = 0; i < n; i++) {
		int fd, len;
		snprintf(tmp, sizeof tmp, "%u.tmp.%ld", parts[i],
			 (long)getpid());
		len = pos[i].epoch ?
		      snprintf(text, sizeof text, "%llu\nepoch %llu\n",
			       (unsigned long long)pos[i].offset,
			       (unsigned long long)pos[i].epoch) :
		      snprintf(text, sizeof text, "%llu\n",
			       (unsigned long long)pos[i].offset);
		fd = mq_openat(gdir, tmp, O_WRONLY | O_CREAT | O_EXCL);
		if (fd < 0) {
			mq_err_sys(e, "cannot write offset file '%s/%s'", where,
				   tmp);
			goto cleanup;
		}
		if (mq_write_file(fd, text, (size_t)len) < 0 ||
		    mq_fsync(fd) < 0) {
			mq_err_sys(e, "cannot write offset file '%s/%s'", where,
				   tmp);
			close(fd);
			i++;
			goto cleanup;
		}
		close(fd);
	}
	for (i = 0; i < n; i++) {
		snprintf(tmp, sizeof tmp, "%u.tmp.%ld", parts[i],
			 (long)getpid());
		snprintf(name, sizeof name, "%u", parts[i]);
		if (mq_renameat(gdir, tmp, gdir, name) < 0) {
			mq_err_sys(e, "cannot replace offset file '%s/%s'",
				   where, name);
			goto cleanup;
		}
	}
	if (n && mq_fsync_dir(gdir) < 0)
		return mq_err_sys(e, "cannot sync group directory '%s'", where);
	return 0;
cleanup:
	for (size_t k = 0; k < n; k++) {
		snprintf(tmp, sizeof tmp, "%u.tmp.%ld", parts[k],
			 (long)getpid());
		unlinkat(gdir, tmp, 0);
	}
	return -1;
}

/* ---- members ---- */

int
mq_member_join(struct mq_member *m, int gdir, const char *where,
	       struct mq_err *e)
{
	char tmp[80], host[64] = "?", text[200];
	int mdir, len, lock;

	memset(m, 0, sizeof *m);
	m->fd = -1;
	m->where = where;
	mdir = openat(gdir, "members", DIR_FLAGS);
	if (mdir < 0)
		return mq_err_sys(e, "cannot open '%s/members'", where);
	gethostname(host, sizeof host - 1);
	host[sizeof host - 1] = '\0';
	for (char *c = host; *c; c++)
		if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTU"
			    "VWXYZ0123456789.-", *c))
			*c = '_';
	snprintf(m->id, sizeof m->id, "%.32s.%ld.%lld", host, (long)getpid(),
		 (long long)(mq_mono_ms() % 1000000));
	snprintf(tmp, sizeof tmp, "+join.%ld", (long)getpid());
	m->fd = mq_openat(mdir, tmp, O_RDWR | O_CREAT | O_EXCL);
	if (m->fd < 0) {
		mq_err_sys(e, "cannot join group: cannot create '%s/members/%s'",
			   where, tmp);
		goto fail;
	}
	/* Lock first, then publish: a member file anyone can lock is dead. */
	if (flock(m->fd, LOCK_EX | LOCK_NB) < 0) {
		mq_err_sys(e, "cannot join group: cannot lock '%s/members/%s'",
			   where, tmp);
		goto fail;
	}
	len = snprintf(text, sizeof text, "pid %ld\nhost %s\nsince %lld\n",
		       (long)getpid(), host, (long long)mq_now_ms());
	if (mq_write_file(m->fd, text, (size_t)len) < 0) {
		mq_err_sys(e, "cannot join group: cannot write '%s/members/%s'",
			   where, tmp);
		goto fail;
	}
	/* Publish under the group lock, which mq-group delete holds while
	 * it checks for members and removes the group. */
	lock = mq_group_lock(gdir, where, NULL, NULL, e);
	if (lock < 0)
		goto fail;
	if (mq_renameat(mdir, tmp, mdir, m->id) < 0) {
		mq_err_sys(e, "cannot join group: cannot rename '%s/members/%s'",
			   where, tmp);
		close(lock);
		goto fail;
	}
	close(lock);
	m->mdir = mdir;
	m->gdir = gdir;
	return 0;
fail:
	if (m->fd >= 0) {
		unlinkat(mdir, tmp, 0);
		close(m->fd);
	}
	close(mdir);
	m->fd = -1;
	return -1;
}

int
mq_member_live(struct mq_member *m, uint32_t *count, struct mq_err *e)
{
	int fd = openat(m->mdir, ".", DIR_FLAGS);
	DIR *d;
	struct dirent *de;
	uint32_t n = 0;

	if (fd < 0 || !(d = fdopendir(fd))) {
		if (fd >= 0)
			close(fd);
		return mq_err_sys(e, "cannot list '%s/members'", m->where);
	}
	while ((de = readdir(d))) {
		int mf;
		if (de->d_name[0] == '.' || de->d_name[0] == '+')
			continue;
		if (strcmp(de->d_name, m->id) == 0) {
			n++;
			continue;
		}
		mf = mq_openat(m->mdir, de->d_name, O_RDONLY);
		if (mf < 0)
			continue;   /* reaped by another member meanwhile */
		if (flock(mf, LOCK_SH | LOCK_NB) == 0) {
			/* Nobody holds it: its member is dead. */
			unlinkat(m->mdir, de->d_name, 0);
		} else if (errno == EWOULDBLOCK) {
			n++;
		}
		close(mf);
	}
	closedir(d);
	*count = n;
	return 0;
}

void
mq_member_leave(struct mq_member *m)
{
	if (m->fd >= 0) {
		unlinkat(m->mdir, m->id, 0);
		close(m->fd);
	}
	if (m->mdir >= 0)
		close(m->mdir);
	m->fd = m->mdir = -1;
}

int
mq_member_claim(struct mq_member *m, uint32_t p, struct mq_err *e)
{
	char name[24];
	int fd;

	snprintf(name, sizeof name, "%u.own", p);
	fd = mq_openat(m->gdir, name, O_RDWR | O_CREAT);
	if (fd < 0)
		return mq_err_sys(e, "cannot open ownership file '%s/%s'",
				  m->where, name);
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		int err = errno;
		close(fd);
		if (err == EWOULDBLOCK)
			return errno = EWOULDBLOCK, -1;
		errno = err;
		return mq_err_sys(e, "cannot lock ownership file '%s/%s'",
				  m->where, name);
	}
	/* Who owns it, for mq-group describe; the lock is what counts. */
	if (ftruncate(fd, 0) == 0) {
		size_t n = strlen(m->id);
		char line[80];
		memcpy(line, m->id, n);
		line[n] = '\n';
		(void)mq_pwrite_full(fd, line, n + 1, 0);
	}
	return fd;
}

int
mq_group_owner(int gdir, uint32_t p, char *owner, size_t n, bool *owned)
{
	char name[24];
	int fd;
	ssize_t r;

	*owned = false;
	if (n)
		owner[0] = '\0';
	snprintf(name, sizeof name, "%u.own", p);
	fd = mq_openat(gdir, name, O_RDONLY);
	if (fd < 0)
		return errno == ENOENT ? 0 : -1;
	if (flock(fd, LOCK_SH | LOCK_NB) < 0 && errno == EWOULDBLOCK) {
		*owned = true;
		r = pread(fd, owner, n ? n - 1 : 0, 0);
		if (r > 0) {
			owner[r] = '\0';
			owner[strcspn(owner, "\n")] = '\0';
		}
	}
	close(fd);
	return 0;
}

int
mq_group_members(int gdir, uint32_t *count)
{
	int mdir = openat(gdir, "members", DIR_FLAGS), fd;
	DIR *d;
	struct dirent *de;

	*count = 0;
	if (mdir < 0)
		return errno == ENOENT ? 0 : -1;
	fd = dup(mdir);
	if (fd < 0 || !(d = fdopendir(fd))) {
		if (fd >= 0)
			close(fd);
		close(mdir);
		return -1;
	}
	while ((de = readdir(d))) {
		int mf;
		if (de->d_name[0] == '.' || de->d_name[0] == '+')
			continue;
		mf = mq_openat(mdir, de->d_name, O_RDONLY);
		if (mf < 0)
			continue;
		if (flock(mf, LOCK_SH | LOCK_NB) < 0 && errno == EWOULDBLOCK)
			(*count)++;
		close(mf);
	}
	closedir(d);
	close(mdir);
	return 0;
}
