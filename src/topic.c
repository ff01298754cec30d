/*
 * topic.c - topics: a directory TOPIC/ holding the config file and one
 * directory per partition (0/, 1/, ...), each starting with an empty
 * segment 00000000000000000000.log, its indexes and its lock file.
 *
 * A topic appears and disappears atomically: it is built complete under a
 * temporary name (+new.PID.TIME, outside the topic alphabet) and renamed
 * into place with RENAME_NOREPLACE; deletion renames it to +del.PID.TIME
 * before removing the files, so no command ever sees half a topic.  Alter
 * holds flock on the topic directory, creates new partitions first and
 * replaces the config last, so a partition the config names always exists.
 */
#include <config.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mq.h"

#define CONFIG_MAX 8192
#define DIR_FLAGS (O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)

static int
touch(int dirfd, const char *name)
{
	int fd = mq_openat(dirfd, name, O_WRONLY | O_CREAT);
	if (fd < 0)
		return -1;
	return close(fd);
}

/* Creates partition p's directory and first segment, or completes one. */
static int
make_partition(int tfd, const char *tpath, uint32_t p, struct mq_err *e)
{
	char name[16], seg[MQ_SEGNAME_MAX];
	int pfd;
	uint64_t *bases;
	size_t n;

	snprintf(name, sizeof name, "%u", p);
	if (mq_mkdirat(tfd, name) < 0 && errno != EEXIST)
		return mq_err_sys(e, "cannot create '%s/%s'", tpath, name);
	pfd = openat(tfd, name, DIR_FLAGS);
	if (pfd < 0)
		return mq_err_sys(e, "cannot open '%s/%s'", tpath, name);
	{
		char where[PATH_MAX];
		snprintf(where, sizeof where, "%s/%s", tpath, name);
		if (mq_seg_list(pfd, where, &bases, &n, e) < 0)
			goto fail;
	}
	free(bases);
	/* clean too, so a producer's first append does not create it. */
	if (touch(pfd, "lock") < 0 || touch(pfd, "clean") < 0)
		goto sysfail;
	if (n == 0) {
		mq_seg_name(seg, 0, "log");
		if (touch(pfd, seg) < 0)
			goto sysfail;
		mq_seg_name(seg, 0, "idx");
		if (touch(pfd, seg) < 0)
			goto sysfail;
		mq_seg_name(seg, 0, "tix");
		if (touch(pfd, seg) < 0)
			goto sysfail;
	}
	if (mq_fsync_dir(pfd) < 0)
		goto sysfail;
	close(pfd);
	return 0;
sysfail:
	mq_err_sys(e, "cannot create partition '%s/%s'", tpath, name);
fail:
	close(pfd);
	return -1;
}

static int
store_config(int tfd, const char *tpath, const struct mq_config *cfg,
	     struct mq_err *e)
{
	char *text = mq_config_format(cfg);
	int rc;

	if (!text)
		return mq_err_sys(e, "out of memory");
	rc = mq_file_replace(tfd, "config", text, strlen(text), e);
	free(text);
	if (rc < 0) {
		char msg[MQ_ERR_MAX];
		memcpy(msg, e->msg, sizeof msg);
		return mq_err_set(e, e->code, "topic '%s': %s", tpath, msg);
	}
	return 0;
}

int
mq_topic_create(struct mq_spool *sp, const char *name,
		const struct mq_config *cfg, struct mq_err *e)
{
	char tmp[300];
	int tfd, rc;

	if (mq_topic_name_check(name, e) < 0)
		return -1;
	if (faccessat(sp->fd, name, F_OK, AT_SYMLINK_NOFOLLOW) == 0)
		return mq_err_set(e, EEXIST, "topic '%s' already exists", name);
	/* The temporary name must not contain the topic's: a 249-character
	 * name plus a prefix would pass the file system's name limit. */
	snprintf(tmp, sizeof tmp, "+new.%ld.%lld", (long)getpid(),
		 (long long)mq_mono_ms());
	mq_rmtree(sp->fd, tmp);
	if (mq_mkdirat(sp->fd, tmp) < 0)
		return mq_err_sys(e, "cannot create topic '%s' in '%s'", name,
				  sp->path);
	tfd = openat(sp->fd, tmp, DIR_FLAGS);
	if (tfd < 0) {
		mq_err_sys(e, "cannot create topic '%s'", name);
		goto fail;
	}
	if (store_config(tfd, name, cfg, e) < 0)
		goto fail_fd;
	for (uint32_t p = 0; p < (uint32_t)cfg->partitions; p++)
		if (make_partition(tfd, name, p, e) < 0)
			goto fail_fd;
	if (mq_fsync_dir(tfd) < 0) {
		mq_err_sys(e, "cannot sync topic '%s'", name);
		goto fail_fd;
	}
	close(tfd);
	rc = mq_rename_noreplace(sp->fd, tmp, sp->fd, name);
	if (rc < 0) {
		if (errno == EEXIST || errno == ENOTEMPTY)
			mq_err_set(e, EEXIST, "topic '%s' already exists",
				   name);
		else
			mq_err_sys(e, "cannot create topic '%s'", name);
		goto fail;
	}
	if (mq_fsync_dir(sp->fd) < 0)
		return mq_err_sys(e, "cannot sync spool '%s'", sp->path);
	return 0;
fail_fd:
	close(tfd);
fail:
	mq_rmtree(sp->fd, tmp);
	return -1;
}

static int
load_config(int tfd, const char *name, struct mq_config *cfg,
	    struct mq_err *e)
{
	char *text;
	size_t len;
	int rc;

	if (mq_file_read(tfd, "config", CONFIG_MAX, &text, &len, e) < 0) {
		char msg[MQ_ERR_MAX];
		memcpy(msg, e->msg, sizeof msg);
		return mq_err_set(e, e->code == ENOENT ? EBADMSG : e->code,
				  "topic '%s': %s", name, msg);
	}
	rc = mq_config_parse(cfg, text, len, e);
	free(text);
	if (rc < 0) {
		char msg[MQ_ERR_MAX];
		memcpy(msg, e->msg, sizeof msg);
		return mq_err_set(e, EBADMSG, "topic '%s': %s", name, msg);
	}
	return 0;
}

int
mq_topic_open(struct mq_topic *t, struct mq_spool *sp, const char *name,
	      struct mq_err *e)
{
	memset(t, 0, sizeof *t);
	t->fd = -1;
	if (mq_topic_name_check(name, e) < 0)
		return -1;
	t->sp = sp;
	t->fd = openat(sp->fd, name, DIR_FLAGS);
	if (t->fd < 0) {
		if (errno == ENOENT)
			return mq_err_set(e, ENOENT, "topic '%s' does not exist "
					  "in '%s'", name, sp->path);
		return mq_err_sys(e, "cannot open topic '%s'", name);
	}
	t->name = strdup(name);
	if (!t->name) {
		mq_topic_close(t);
		return mq_err_sys(e, "out of memory");
	}
	if (load_config(t->fd, name, &t->cfg, e) < 0) {
		mq_topic_close(t);
		return -1;
	}
	return 0;
}

void
mq_topic_close(struct mq_topic *t)
{
	if (t->fd >= 0)
		close(t->fd);
	free(t->name);
	t->fd = -1;
	t->name = NULL;
}

int
mq_topic_reload(struct mq_topic *t, struct mq_err *e)
{
	struct mq_config c;

	if (load_config(t->fd, t->name, &c, e) < 0)
		return -1;
	t->cfg = c;
	return 0;
}

int
mq_topic_alter(struct mq_topic *t, const struct mq_config *cfg,
	       struct mq_err *e)
{
	struct mq_config cur;
	int rc = -1;

	if (mq_flock_wait(t->fd, LOCK_EX, e, "topic '%s'", t->name) < 0)
		return -1;
	if (load_config(t->fd, t->name, &cur, e) < 0)
		goto out;
	if (cfg->partitions < cur.partitions) {
		mq_err_set(e, EINVAL, "topic '%s' has %lld partitions: "
			   "partitions can only grow", t->name,
			   (long long)cur.partitions);
		goto out;
	}
	if (cfg->max_message_bytes < cur.max_message_bytes) {
		mq_err_set(e, EINVAL, "topic '%s' has max.message.bytes=%lld: "
			   "it can only grow (readers use it to bound stored "
			   "batches)", t->name,
			   (long long)cur.max_message_bytes);
		goto out;
	}
	for (int64_t p = cur.partitions; p < cfg->partitions; p++)
		if (make_partition(t->fd, t->name, (uint32_t)p, e) < 0)
			goto out;
	if (mq_fsync_dir(t->fd) < 0) {
		mq_err_sys(e, "cannot sync topic '%s'", t->name);
		goto out;
	}
	if (store_config(t->fd, t->name, cfg, e) < 0)
		goto out;
	t->cfg = *cfg;
	rc = 0;
out:
	flock(t->fd, LOCK_UN);
	return rc;
}

/* Partition directories are named by their number. */
static bool
partition_name(int dirfd, const char *name, unsigned char type, void *arg)
{
	(void)dirfd;
	(void)type;
	(void)arg;
	return name[0] && strspn(name, "0123456789") == strlen(name);
}

/*
 * Marks the head of every partition of the topic renamed to tmp as
 * deleted, under the partition's lock: an append in progress finishes
 * first, and every later one (and every acknowledgement after a sync)
 * sees the mark.
 */
static int
mark_deleted(struct mq_spool *sp, const char *name, const char *tmp,
	     struct mq_err *e)
{
	int tfd = mq_opendirat(sp->fd, tmp), rc = 0;
	char **parts = NULL;
	size_t n = 0;

	if (tfd < 0)
		return mq_err_sys(e, "cannot open deleted topic '%s/%s'",
				  sp->path, tmp);
	if (mq_dir_names(tfd, partition_name, NULL, &parts, &n) < 0) {
		close(tfd);
		return mq_err_sys(e, "cannot list deleted topic '%s/%s'",
				  sp->path, tmp);
	}
	for (size_t i = 0; i < n && rc == 0; i++) {
		struct mq_head h;
		int pdir = mq_opendirat(tfd, parts[i]), lockfd;
		if (pdir < 0)
			continue;
		lockfd = mq_openat(pdir, "lock", O_RDWR);
		close(pdir);
		if (lockfd < 0)
			continue;   /* never written to */
		rc = mq_flock_wait(lockfd, LOCK_EX, e, "'%s' partition %s",
				   name, parts[i]);
		if (rc == 0) {
			if (mq_head_read(lockfd, &h) != 0)
				memset(&h, 0, sizeof h);
			h.flags |= MQ_HEAD_DELETED;
			if (mq_head_write(lockfd, &h) < 0)
				rc = mq_err_sys(e, "cannot mark '%s/%s/%s/lock' "
						"deleted", sp->path, tmp,
						parts[i]);
		} else if (e->code == ETIMEDOUT) {
			char why[MQ_ERR_MAX];
			snprintf(why, sizeof why, "%s", e->msg);
			mq_err_set(e, ETIMEDOUT, "topic '%s' is hidden as "
				   "'%s/%s' but not removed: %s", name,
				   sp->path, tmp, why);
		}
		close(lockfd);
	}
	mq_names_free(parts, n);
	close(tfd);
	return rc;
}

int
mq_topic_delete(struct mq_spool *sp, const char *name, struct mq_err *e)
{
	char tmp[300];

	if (mq_topic_name_check(name, e) < 0)
		return -1;
	snprintf(tmp, sizeof tmp, "+del.%ld.%lld", (long)getpid(),
		 (long long)mq_mono_ms());
	mq_rmtree(sp->fd, tmp);
	if (mq_renameat(sp->fd, name, sp->fd, tmp) < 0) {
		if (errno == ENOENT)
			return mq_err_set(e, ENOENT, "topic '%s' does not exist "
					  "in '%s'", name, sp->path);
		return mq_err_sys(e, "cannot delete topic '%s'", name);
	}
	if (mq_fsync_dir(sp->fd) < 0)
		return mq_err_sys(e, "cannot sync spool '%s'", sp->path);
	if (mark_deleted(sp, name, tmp, e) < 0)
		return -1;
	if (mq_rmtree(sp->fd, tmp) < 0)
		return mq_err_sys(e, "topic '%s' deleted, but removing its "
				  "files in '%s/%s' failed", name, sp->path,
				  tmp);
	return 0;
}

int
mq_topic_partition_dir(struct mq_topic *t, uint32_t p, struct mq_err *e)
{
	char name[16];
	int fd;

	snprintf(name, sizeof name, "%u", p);
	fd = openat(t->fd, name, DIR_FLAGS);
	if (fd < 0) {
		struct stat st;
		/* A removed directory has no links left. */
		if (errno == ENOENT && fstat(t->fd, &st) == 0 &&
		    st.st_nlink == 0)
			return mq_err_set(e, ENOENT, "cannot open partition "
					  "'%s/%s/%u': the topic was deleted",
					  t->sp->path, t->name, p);
		return mq_err_sys(e, "cannot open partition '%s/%s/%u'",
				  t->sp->path, t->name, p);
	}
	return fd;
}

char *
mq_topic_partition_path(const struct mq_topic *t, uint32_t p)
{
	size_t n = strlen(t->sp->path) + strlen(t->name) + 16;
	char *s = malloc(n);

	if (s)
		snprintf(s, n, "%s/%s/%u", t->sp->path, t->name, p);
	return s;
}

int
mq_topic_bounds(struct mq_topic *t, uint32_t p, int pdir, uint64_t *start,
		uint64_t *end, struct mq_err *e)
{
	char where[PATH_MAX];

	snprintf(where, sizeof where, "%s/%s/%u", t->sp->path, t->name, p);
	return mq_partition_bounds(pdir, where,
				   (uint64_t)t->cfg.max_message_bytes, start,
				   end, e);
}

int
mq_partition_info(struct mq_topic *t, uint32_t p, struct mq_pinfo *pi,
		  struct mq_err *e)
{
	int pdir = mq_topic_partition_dir(t, p, e), lockfd;
	uint64_t *bases = NULL;
	size_t n;
	struct mq_head h;
	char where[PATH_MAX];

	memset(pi, 0, sizeof *pi);
	if (pdir < 0)
		return -1;
	snprintf(where, sizeof where, "%s/%s/%u", t->sp->path, t->name, p);
	if (mq_seg_list(pdir, where, &bases, &n, e) < 0)
		goto fail;
	pi->segments = n;
	for (size_t i = 0; i < n; i++) {
		char name[MQ_SEGNAME_MAX];
		struct stat st;
		mq_seg_name(name, bases[i], "log");
		if (fstatat(pdir, name, &st, AT_SYMLINK_NOFOLLOW) == 0)
			pi->bytes += (uint64_t)st.st_size;
	}
	free(bases);
	lockfd = mq_openat(pdir, "lock", O_RDONLY);
	if (lockfd >= 0) {
		if (mq_head_read(lockfd, &h) == 0) {
			pi->recovered_bytes = h.recovered_bytes;
			pi->recoveries = h.recoveries;
			pi->last_recovery_ms = h.last_recovery_ms;
		}
		close(lockfd);
	}
	/* Last: damage (EBADMSG) leaves everything else filled in. */
	if (mq_topic_bounds(t, p, pdir, &pi->start, &pi->end, e) < 0)
		goto fail;
	close(pdir);
	return 0;
fail:
	close(pdir);
	return -1;
}
