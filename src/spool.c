/*
 * spool.c - the spool directory.  A spool is a directory holding one
 * directory per topic and a +format marker ("mq spool 1") that every
 * command checks before touching anything: a spool of another format, or a
 * non-empty directory that is not a spool, is refused rather than written
 * into.  Spool-level files begin with '+', outside the topic alphabet, so
 * they can never collide with a topic.
 */
#include <config.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mq.h"

#define FORMAT_NAME "+format"
#define FORMAT_TEXT "mq spool 1\n"

char *
mq_spool_path(const char *dir, struct mq_err *e)
{
	const char *env = getenv("MQ_SPOOL"), *home;
	char *p;

	if (dir && *dir)
		p = strdup(dir);
	else if (env && *env)
		p = strdup(env);
	else if ((home = getenv("HOME")) && *home) {
		size_t n = strlen(home) + sizeof "/.mq";
		p = malloc(n);
		if (p) {
			strcpy(p, home);
			strcat(p, "/.mq");
		}
	} else {
		mq_err_set(e, EINVAL, "no spool: use -d DIR or set MQ_SPOOL "
			   "(HOME is not set)");
		return NULL;
	}
	if (!p)
		mq_err_sys(e, "out of memory");
	return p;
}

static int
dir_is_empty(int fd)
{
	int dup_fd = dup(fd);
	DIR *d;
	struct dirent *de;
	int empty = 1;

	if (dup_fd < 0 || !(d = fdopendir(dup_fd))) {
		if (dup_fd >= 0)
			close(dup_fd);
		return -1;
	}
	while ((de = readdir(d))) {
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0 ||
		    strncmp(de->d_name, FORMAT_NAME, strlen(FORMAT_NAME)) == 0)
			continue;
		empty = 0;
		break;
	}
	closedir(d);
	return empty;
}

int
mq_spool_open(struct mq_spool *sp, const char *path, bool create,
	      struct mq_err *e)
{
	char *text = NULL;
	int fd, empty;
	struct stat st;

	sp->fd = -1;
	sp->path = NULL;
	if (create && mkdir(path, 0777) < 0 && errno != EEXIST)
		return mq_err_sys(e, "cannot create spool '%s'", path);
	fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0 && fstat(fd, &st) == 0)
		mq_io_set_shared((st.st_mode & S_ISGID) != 0);
	if (fd < 0 && errno == ENOENT)
		return mq_err_set(e, ENOENT, "spool '%s' does not exist (mq-topic "
				  "create makes it)", path);
	if (fd < 0)
		return mq_err_sys(e, "cannot open spool '%s'", path);
	if (mq_file_read(fd, FORMAT_NAME, 256, &text, NULL, e) == 0) {
		if (strcmp(text, FORMAT_TEXT) != 0) {
			size_t n = strcspn(text, "\n");
			text[n > 40 ? 40 : n] = '\0';
			mq_err_set(e, EPROTO, "spool '%s' has unknown format "
				   "'%s' (this mq reads \"mq spool 1\")", path,
				   text);
			goto fail;
		}
	} else if (e->code == ENOENT) {
		empty = dir_is_empty(fd);
		if (empty < 0) {
			mq_err_sys(e, "cannot read spool '%s'", path);
			goto fail;
		}
		if (!empty) {
			mq_err_set(e, EPROTO, "'%s' is not an mq spool: it has "
				   "files but no +format marker", path);
			goto fail;
		}
		/* Without create an empty directory is an empty spool, left
		 * as it is: only what creates a topic marks it. */
		if (create && mq_file_replace(fd, FORMAT_NAME, FORMAT_TEXT,
					      strlen(FORMAT_TEXT), e) < 0)
			goto fail;
	} else {
		char msg[MQ_ERR_MAX];
		memcpy(msg, e->msg, sizeof msg);
		mq_err_set(e, e->code, "spool '%s': %s", path, msg);
		goto fail;
	}
	free(text);
	sp->fd = fd;
	sp->path = strdup(path);
	if (!sp->path) {
		close(fd);
		sp->fd = -1;
		return mq_err_sys(e, "out of memory");
	}
	return 0;
fail:
	free(text);
	close(fd);
	return -1;
}

void
mq_spool_close(struct mq_spool *sp)
{
	if (sp->fd >= 0)
		close(sp->fd);
	free(sp->path);
	sp->fd = -1;
	sp->path = NULL;
}

int
mq_topic_name_check(const char *name, struct mq_err *e)
{
	size_t n = strlen(name);

	if (n == 0 || n > MQ_NAME_MAX || strcmp(name, ".") == 0 ||
	    strcmp(name, "..") == 0 ||
	    strspn(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
		   "0123456789._-") != n)
		return mq_err_set(e, EINVAL, "bad topic name '%.260s': use 1 "
				  "to 249 of A-Z a-z 0-9 . _ - (not \".\" or "
				  "\"..\")", name);
	return 0;
}

static bool
is_topic(int dirfd, const char *name, unsigned char type, void *arg)
{
	struct stat st;

	(void)arg;
	if (mq_topic_name_check(name, NULL) < 0)
		return false;
	if (type != DT_UNKNOWN)
		return type == DT_DIR;
	return fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
	       S_ISDIR(st.st_mode);
}

int
mq_spool_topics(struct mq_spool *sp, char ***names, size_t *n,
		struct mq_err *e)
{
	if (mq_dir_names(sp->fd, is_topic, NULL, names, n) == 0)
		return 0;
	if (errno == ENOMEM)
		return mq_err_sys(e, "out of memory");
	return mq_err_sys(e, "cannot read spool '%s'", sp->path);
}

void
mq_names_free(char **names, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
}
