/*
 * share.c - a spool shared by a Unix group (mq-topic init --group).
 *
 * The spool directory and every directory under it get the group and mode
 * 02770 (setgid: what is created inside inherits the group), every file
 * the group and mode 0660; nothing is left to others.  From then on every
 * command that finds the spool directory setgid fchmods what it creates
 * (mq_io_set_shared), so a member's umask cannot lock the others out.
 *
 * The walk never follows a symbolic link and opens nothing but
 * directories and regular single-link files; anything else in the spool
 * is refused by name, since a link planted there could otherwise make
 * this command change a file outside the spool.
 */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mq.h"

#define MAX_DEPTH 16

static int
fix(int fd, gid_t gid, mode_t mode, const char *path, struct mq_err *e)
{
	struct stat st;

	if (fstat(fd, &st) < 0)
		return mq_err_sys(e, "cannot stat '%s'", path);
	if (gid != (gid_t)-1 && st.st_gid != gid && fchown(fd, (uid_t)-1, gid) < 0)
		return mq_err_sys(e, "cannot give '%s' to the group", path);
	if ((st.st_mode & 07777) != mode && fchmod(fd, mode) < 0)
		return mq_err_sys(e, "cannot change the mode of '%s'", path);
	return 0;
}

static int
walk(int dfd, const char *path, gid_t gid, int depth, struct mq_err *e)
{
	char **names;
	size_t n;
	int rc = 0;

	if (depth > MAX_DEPTH)
		return mq_err_set(e, ELOOP, "'%s' is nested too deep for a "
				  "spool", path);
	if (mq_dir_names(dfd, NULL, NULL, &names, &n) < 0)
		return mq_err_sys(e, "cannot read '%s'", path);
	for (size_t i = 0; rc == 0 && i < n; i++) {
		char sub[PATH_MAX];
		struct stat st;
		int cfd;
		snprintf(sub, sizeof sub, "%s/%s", path, names[i]);
		if (fstatat(dfd, names[i], &st, AT_SYMLINK_NOFOLLOW) < 0) {
			if (errno == ENOENT)
				continue;   /* removed meanwhile */
			rc = mq_err_sys(e, "cannot stat '%s'", sub);
		} else if (S_ISDIR(st.st_mode)) {
			cfd = mq_opendirat(dfd, names[i]);
			if (cfd < 0)
				rc = mq_err_sys(e, "cannot open '%s'", sub);
			else {
				rc = fix(cfd, gid, 02770, sub, e);
				if (rc == 0)
					rc = walk(cfd, sub, gid, depth + 1, e);
				close(cfd);
			}
		} else {
			cfd = mq_openat(dfd, names[i], O_RDONLY);
			if (cfd < 0)
				rc = mq_err_sys(e, "cannot open '%s'", sub);
			else {
				rc = fix(cfd, gid, 0660, sub, e);
				close(cfd);
			}
		}
	}
	mq_names_free(names, n);
	return rc;
}

int
mq_spool_share(struct mq_spool *sp, gid_t gid, struct mq_err *e)
{
	if (fix(sp->fd, gid, 02770, sp->path, e) < 0)
		return -1;
	mq_io_set_shared(true);
	return walk(sp->fd, sp->path, gid, 0, e);
}
