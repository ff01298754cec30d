/*
 * recover.c - finishing or rolling back what a killed mq-compact left in a
 * partition (see compact.c and mq-spool(5)): a BASE.log.swap is finished,
 * other .swap, .cleaned and .cleaning files and indexes without a log are
 * removed.  Producers call it before their first append, so it lives apart
 * from compaction proper: a command that only appends does not link the
 * compaction and archiving code, nor load libarchive.
 */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "mq.h"

#define FNAME_MAX 48

static bool
ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), k = strlen(suffix);

	return n >= k && strcmp(s + n - k, suffix) == 0;
}

static bool
in_log(int dirfd, const char *name, unsigned char type, void *arg)
{
	(void)dirfd;
	(void)type;
	(void)arg;
	return name[0] >= '0' && name[0] <= '9';
}

int
mq_compact_recover(int pdir, const char *where, struct mq_err *e)
{
	char **names;
	size_t n;
	bool changed = false;
	int rc = 0;

	/* What a killed run leaves is named by a base offset. */
	if (mq_dir_names(pdir, in_log, NULL, &names, &n) < 0) {
		if (errno == ENOMEM)
			return mq_err_sys(e, "out of memory");
		return mq_err_sys(e, "cannot list '%s'", where);
	}
	/* A BASE.log.swap: its cleaning was complete; finish the swap. */
	for (size_t i = 0; i < n; i++) {
		char base[32], from[FNAME_MAX], to[FNAME_MAX];
		if (!ends_with(names[i], ".log.swap") || strlen(names[i]) != 29)
			continue;
		memcpy(base, names[i], 20);
		base[20] = '\0';
		for (int k = 0; k < 3; k++) {
			const char *ext = k == 0 ? "idx" : k == 1 ? "tix" : "log";
			snprintf(from, sizeof from, "%s.%s.swap", base, ext);
			snprintf(to, sizeof to, "%s.%s", base, ext);
			if (mq_renameat(pdir, from, pdir, to) < 0 &&
			    errno != ENOENT) {
				rc = mq_err_sys(e, "cannot finish compaction "
						"of '%s/%s'", where, to);
				goto out;
			}
		}
		changed = true;
	}
	/* Everything else a killed run left is rolled back. */
	for (size_t i = 0; i < n; i++) {
		if (ends_with(names[i], ".swap") ||
		    ends_with(names[i], ".cleaned") ||
		    ends_with(names[i], ".cleaning")) {
			if (unlinkat(pdir, names[i], 0) == 0)
				changed = true;
		} else if (strlen(names[i]) == 24 &&
			   (ends_with(names[i], ".idx") ||
			    ends_with(names[i], ".tix"))) {
			/* An index whose log retention removed. */
			char log[32];
			memcpy(log, names[i], 20);
			strcpy(log + 20, ".log");
			if (faccessat(pdir, log, F_OK, AT_SYMLINK_NOFOLLOW) < 0 &&
			    errno == ENOENT && unlinkat(pdir, names[i], 0) == 0)
				changed = true;
		}
	}
	if (changed && mq_fsync_dir(pdir) < 0)
		rc = mq_err_sys(e, "cannot sync '%s'", where);
out:
	mq_names_free(names, n);
	return rc;
}

int
mq_compact_recover_if_idle(int pdir, const char *where, struct mq_err *e)
{
	int fd = mq_openat(pdir, "clean", O_RDWR | O_CREAT);
	int rc = 0;

	if (fd < 0)
		return mq_err_sys(e, "cannot open the compaction lock '%s/clean'",
				  where);
	if (flock(fd, LOCK_EX | LOCK_NB) == 0)
		rc = mq_compact_recover(pdir, where, e);
	close(fd);
	return rc;
}
