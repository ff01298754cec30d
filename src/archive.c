/*
 * archive.c - tar archives written through libarchive, for mq-topic export
 * and for the segments mq-compact removes.  An archive is pax (restricted)
 * tar, uncompressed, gzip or zstd as its suffix says (.tar, .tar.gz,
 * .tar.zst).  Entries are regular files only, mode 0644, owned by 0:0,
 * with the source file's mtime; their data is copied in fixed chunks, so
 * a 1 GiB segment never sits in memory.
 *
 * An archive on disk is durable before it carries its name: it is written
 * as DIR/NAME.SUFFIX.tmp.PID, and mq_archive_close finishes the tar, syncs
 * the file, renames it to DIR/NAME.SUFFIX and syncs DIR.  Whoever deletes
 * data after archiving it (mq-compact) can so rely on a closed archive
 * surviving a crash; an unfinished one never takes the final name.  An
 * archive may also be streamed to an open descriptor (export to standard
 * output), which is neither synced nor renamed.
 */
#include <config.h>

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mq.h"

#define CHUNK (256 * 1024)

struct mq_archive {
	struct archive *a;       /* libarchive's writer */
	int fd;                  /* what it writes to */
	int dirfd;               /* DIR; -1 when streaming to a descriptor */
	char *path;              /* DIR/NAME.SUFFIX, or a description */
	char *final;             /* NAME.SUFFIX, under dirfd */
	char *tmp;               /* NAME.SUFFIX.tmp.PID, under dirfd */
	unsigned char *buf;      /* copy buffer, CHUNK bytes */
	bool failed;             /* a write failed: the tar is unusable */
	bool closed;             /* libarchive has finished the tar */
	bool discard;            /* aborting: write nothing more */
};

/* Sets e from libarchive's error, naming the archive. */
static int
arc_fail(struct mq_archive *ma, const char *what, struct mq_err *e)
{
	int code = archive_errno(ma->a);
	const char *msg = archive_error_string(ma->a);

	/* libarchive uses EINVAL for its own misuse and -1 for "misc":
	 * neither is the user's bad input. */
	if (code <= 0 || code == EINVAL)
		code = EIO;
	ma->failed = true;
	return mq_err_set(e, code, "cannot write archive '%s': %s%s%s",
			  ma->path, what, msg ? ": " : "", msg ? msg : "");
}

static void
arc_free(struct mq_archive *ma)
{
	/* An unfinished tar gets no end marker: a reader of what was
	 * written must see a truncated archive, not a complete one.  So
	 * libarchive's closing writes go nowhere. */
	ma->discard = true;
	if (ma->a)
		archive_write_free(ma->a);
	free(ma->path);
	free(ma->final);
	free(ma->tmp);
	free(ma->buf);
	free(ma);
}

/* libarchive's output: all of it to ma->fd, retrying short writes. */
static la_ssize_t
arc_write(struct archive *a, void *data, const void *buf, size_t n)
{
	struct mq_archive *ma = data;

	if (ma->discard)
		return (la_ssize_t)n;
	if (mq_write_file(ma->fd, buf, n) < 0) {
		archive_set_error(a, errno, "%s", strerror(errno));
		return -1;
	}
	return (la_ssize_t)n;
}

/* A writer for ma->fd with the filter for suffix; 1 for an unknown one. */
static int
arc_setup(struct mq_archive *ma, const char *suffix, struct mq_err *e)
{
	int rc;

	ma->a = archive_write_new();
	if (!ma->a)
		return mq_err_sys(e, "out of memory");
	if (archive_write_set_format_pax_restricted(ma->a) != ARCHIVE_OK)
		return arc_fail(ma, "pax format", e);
	if (strcmp(suffix, ".tar") == 0)
		rc = archive_write_add_filter_none(ma->a);
	else if (strcmp(suffix, ".tar.gz") == 0)
		rc = archive_write_add_filter_gzip(ma->a);
	else if (strcmp(suffix, ".tar.zst") == 0)
		rc = archive_write_add_filter_zstd(ma->a);
	else
		return 1;
	/* A warning here means "through an external program": accept it. */
	if (rc != ARCHIVE_OK && rc != ARCHIVE_WARN)
		return arc_fail(ma, "compression", e);
	/* No padding after the end of the tar: it would be garbage after
	 * a compressed stream. */
	archive_write_set_bytes_in_last_block(ma->a, 1);
	if (archive_write_open2(ma->a, ma, NULL, arc_write, NULL, NULL) !=
	    ARCHIVE_OK)
		return arc_fail(ma, "open", e);
	return 0;
}

static bool
known_suffix(const char *s)
{
	return strcmp(s, ".tar") == 0 || strcmp(s, ".tar.gz") == 0 ||
	       strcmp(s, ".tar.zst") == 0;
}

int
mq_archive_create(struct mq_archive **a, const char *dir, const char *name,
		  const char *suffix, struct mq_err *e)
{
	struct mq_archive *ma;
	size_t n;

	*a = NULL;
	if (!known_suffix(suffix))
		return mq_err_set(e, EINVAL, "unknown archive suffix '%s': use "
				  ".tar, .tar.gz or .tar.zst", suffix);
	if (!*name || strchr(name, '/'))
		return mq_err_set(e, EINVAL, "bad archive name '%s'", name);
	ma = calloc(1, sizeof *ma);
	if (!ma)
		return mq_err_sys(e, "out of memory");
	ma->fd = ma->dirfd = -1;
	n = strlen(dir) + strlen(name) + strlen(suffix) + 2;
	ma->path = malloc(n);
	ma->final = malloc(n);
	ma->tmp = malloc(n + 32);
	ma->buf = malloc(CHUNK);
	if (!ma->path || !ma->final || !ma->tmp || !ma->buf) {
		mq_err_sys(e, "out of memory");
		goto fail;
	}
	/* "out.tar" rather than "./out.tar" in messages. */
	if (strcmp(dir, ".") == 0)
		snprintf(ma->path, n, "%s%s", name, suffix);
	else
		snprintf(ma->path, n, "%s/%s%s", dir, name, suffix);
	snprintf(ma->final, n, "%s%s", name, suffix);
	snprintf(ma->tmp, n + 32, "%s.tmp.%ld", ma->final, (long)getpid());
	/* Said plainly rather than as "File name too long" from open. */
	if (strlen(ma->tmp) > NAME_MAX) {
		mq_err_set(e, ENAMETOOLONG, "cannot create archive '%s': its "
			   "name with '.tmp.%ld' passes %d bytes", ma->path,
			   (long)getpid(), NAME_MAX);
		goto fail;
	}
	ma->dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (ma->dirfd < 0) {
		mq_err_sys(e, "cannot create archive '%s'", ma->path);
		goto fail;
	}
	ma->fd = mq_openat(ma->dirfd, ma->tmp, O_WRONLY | O_CREAT | O_EXCL);
	if (ma->fd < 0) {
		mq_err_sys(e, "cannot create archive '%s'", ma->path);
		goto fail;
	}
	if (arc_setup(ma, suffix, e) != 0)
		goto fail;
	*a = ma;
	return 0;
fail:
	mq_archive_abort(ma);
	return -1;
}

/*
 * Streams an uncompressed tar to fd (say, standard output), which the
 * caller keeps: it is neither synced nor closed.  what names it in
 * messages.
 */

int
mq_archive_open_fd(struct mq_archive **a, int fd, const char *what,
		   struct mq_err *e)
{
	struct mq_archive *ma;

	*a = NULL;
	ma = calloc(1, sizeof *ma);
	if (!ma)
		return mq_err_sys(e, "out of memory");
	ma->fd = fd;
	ma->dirfd = -1;
	ma->path = strdup(what);
	ma->buf = malloc(CHUNK);
	if (!ma->path || !ma->buf) {
		arc_free(ma);
		return mq_err_sys(e, "out of memory");
	}
	if (arc_setup(ma, ".tar", e) != 0) {
		arc_free(ma);
		return -1;
	}
	*a = ma;
	return 0;
}

/* Writes the header of a regular-file entry of size bytes. */
static int
add_header(struct mq_archive *ma, const char *entry, uint64_t size,
	   const struct stat *st, struct mq_err *e)
{
	struct archive_entry *en;
	int rc;

	if (ma->failed)
		return mq_err_set(e, EIO, "cannot write archive '%s': an "
				  "earlier write failed", ma->path);
	en = archive_entry_new();
	if (!en)
		return mq_err_sys(e, "out of memory");
	archive_entry_set_pathname(en, entry);
	archive_entry_set_filetype(en, AE_IFREG);
	archive_entry_set_perm(en, 0644);
	archive_entry_set_size(en, (la_int64_t)size);
	archive_entry_set_uid(en, 0);
	archive_entry_set_gid(en, 0);
	archive_entry_set_mtime(en, st->st_mtim.tv_sec, st->st_mtim.tv_nsec);
	rc = archive_write_header(ma->a, en);
	archive_entry_free(en);
	if (rc != ARCHIVE_OK) {
		char what[300];
		snprintf(what, sizeof what, "entry '%.250s'", entry);
		return arc_fail(ma, what, e);
	}
	return 0;
}

/* Copies len bytes of fd from offset 0 as the data of the current entry. */
static int
copy_data(struct mq_archive *ma, int fd, uint64_t len, const char *entry,
	  struct mq_err *e)
{
	uint64_t off = 0;

	while (off < len) {
		size_t want = len - off < CHUNK ? (size_t)(len - off) : CHUNK;
		ssize_t r = mq_pread_full(fd, ma->buf, want, (off_t)off);
		la_ssize_t w;
		if (r < 0) {
			ma->failed = true;
			return mq_err_sys(e, "cannot read '%s' for archive "
					  "'%s'", entry, ma->path);
		}
		if ((size_t)r < want) {
			ma->failed = true;
			return mq_err_set(e, EIO, "'%s' shrank while being "
					  "written to archive '%s'", entry,
					  ma->path);
		}
		w = archive_write_data(ma->a, ma->buf, want);
		if (w < 0 || (size_t)w != want) {
			char what[300];
			snprintf(what, sizeof what, "entry '%.250s'", entry);
			return arc_fail(ma, what, e);
		}
		off += want;
		mq_progress(want);
	}
	return 0;
}

int
mq_archive_add_file(struct mq_archive *a, int dirfd, const char *name,
		    const char *entry, struct mq_err *e)
{
	struct stat st;
	int fd, rc;

	fd = mq_openat(dirfd, name, O_RDONLY);
	if (fd < 0)
		return mq_err_sys(e, "cannot open '%s' for archive '%s'", name,
				  a->path);
	if (fstat(fd, &st) < 0) {
		mq_err_sys(e, "cannot stat '%s' for archive '%s'", name,
			   a->path);
		close(fd);
		return -1;
	}
	if (!S_ISREG(st.st_mode)) {
		close(fd);
		return mq_err_set(e, EBADMSG, "cannot add '%s' to archive "
				  "'%s': not a regular file", name, a->path);
	}
	rc = add_header(a, entry, (uint64_t)st.st_size, &st, e);
	if (rc == 0)
		rc = copy_data(a, fd, (uint64_t)st.st_size, entry, e);
	close(fd);
	return rc;
}

int
mq_archive_add_fd(struct mq_archive *a, int fd, uint64_t len,
		  const char *entry, struct mq_err *e)
{
	struct stat st;

	if (fstat(fd, &st) < 0)
		return mq_err_sys(e, "cannot stat '%s' for archive '%s'", entry,
				  a->path);
	if (add_header(a, entry, len, &st, e) < 0)
		return -1;
	return copy_data(a, fd, len, entry, e);
}

int
mq_archive_close(struct mq_archive *a, struct mq_err *e)
{
	int rc = -1;

	if (a->failed) {
		mq_err_set(e, EIO, "cannot write archive '%s': an earlier "
			   "write failed", a->path);
		goto out;
	}
	if (archive_write_close(a->a) != ARCHIVE_OK) {
		arc_fail(a, "finish", e);
		goto out;
	}
	a->closed = true;
	if (a->dirfd < 0) {
		rc = 0;
		goto out;
	}
	if (mq_fsync(a->fd) < 0) {
		mq_err_sys(e, "cannot sync archive '%s'", a->path);
		goto out;
	}
	if (close(a->fd) < 0) {
		a->fd = -1;
		mq_err_sys(e, "cannot write archive '%s'", a->path);
		goto out;
	}
	a->fd = -1;
	if (mq_renameat(a->dirfd, a->tmp, a->dirfd, a->final) < 0) {
		mq_err_sys(e, "cannot rename archive into '%s'", a->path);
		goto out;
	}
	free(a->tmp);
	a->tmp = NULL;    /* nothing left to remove */
	if (mq_fsync_dir(a->dirfd) < 0) {
		mq_err_sys(e, "cannot sync the directory of archive '%s'",
			   a->path);
		goto out;
	}
	rc = 0;
out:
	mq_archive_abort(a);
	return rc;
}

void
mq_archive_abort(struct mq_archive *a)
{
	if (!a)
		return;
	if (a->dirfd >= 0) {
		if (a->fd >= 0)
			close(a->fd);
		if (a->tmp)
			unlinkat(a->dirfd, a->tmp, 0);
		close(a->dirfd);
	}
	arc_free(a);
}

const char *
mq_archive_path(const struct mq_archive *a)
{
	return a->path;
}
