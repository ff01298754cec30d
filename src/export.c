/*
 * export.c - a topic as a tar archive, and back (mq-topic export/import).
 *
 * An export holds, in this order (names relative to the archive's root):
 *
 *   TOPIC/+export                 manifest: "mq export 1", "topic NAME",
 *                                 "partitions N", then one line per
 *                                 partition "partition P start S end E"
 *   TOPIC/config                  the config file, as stored
 *   TOPIC/P/NNNNNNNNNNNNNNNNNNNN.log, .idx, .tix
 *                                 every segment of P in offset order
 *   TOPIC/groups/GROUP/P          committed offsets, groups by name
 *
 * Export takes a consistent snapshot while producers go on: under each
 * partition's lock (so no append is half done) it opens every segment and
 * index and notes how much of the active segment holds complete batches;
 * then it unlocks and copies from the open descriptors, so appends after
 * the snapshot, and compaction renaming or deleting files, change nothing
 * in the archive.  Group offsets are read before the partitions, so no
 * committed offset points past the exported end.
 *
 * Import trusts nothing: the entries must be exactly the forms above, in
 * that order for the first two, sizes are bounded, and the topic is built
 * under a temporary spool-level name (+imp.PID.MS, outside the topic
 * alphabet), every batch of every segment checked (framing, checksum,
 * records), offsets checked to rise from segment to segment and to match
 * the manifest, everything synced, and only then renamed into place with
 * RENAME_NOREPLACE.  On any failure the temporary tree is removed, so a
 * topic appears whole or not at all.
 */
#include <config.h>

#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mq.h"

#define DIR_FLAGS (O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
#define CHUNK (256 * 1024)
#define CONFIG_MAX 8192          /* as topic.c reads it */
#define OFFSET_MAX 128           /* as group.c reads it */
#define LINE_MAX_MANIFEST 80     /* longest partition line, and more */
#define MANIFEST_MAX (256 + (size_t)MQ_MAX_PARTITIONS * LINE_MAX_MANIFEST)
#define SNAP_TRIES 20
/* The longest entry name: TOPIC/groups/GROUP/P, both names of the longest
 * legal length, P of ten digits; segments' names are shorter. */
#define ENTRY_MAX (2 * MQ_NAME_MAX + sizeof "/groups//4294967295")
/* ... and of a segment entry, TOPIC/P/NNNNNNNNNNNNNNNNNNNN.log, for a
 * topic name held in 256 bytes */
#define SEG_ENTRY_MAX (256 + sizeof "/4294967295/" + MQ_SEGNAME_MAX)

/* ---- export ---- */

/* One segment as the snapshot saw it: open files and how much to copy. */
struct seg_snap {
	uint64_t base;
	int log, idx, tix;       /* -1: no such index */
	uint64_t log_len, idx_len, tix_len;
};

struct part_snap {
	struct seg_snap *segs;
	size_t nseg;
	uint64_t start, end;
};

/* A committed offset file, read before the partitions. */
struct gfile {
	char *group;
	uint32_t partition;
	char *text;
	size_t len;
};

struct export {
	struct mq_topic *t;
	char *config;            /* the config file's bytes */
	size_t config_len;
	struct mq_config cfg;    /* ...parsed */
	uint32_t nparts;
	struct part_snap *parts;
	struct gfile *gf;
	size_t ngf, gcap;
	int memfd;               /* staging for entries made in memory */
	unsigned char *scratch;
	size_t scap;
};

static void
snap_release(struct part_snap *ps)
{
	for (size_t i = 0; i < ps->nseg; i++) {
		struct seg_snap *s = &ps->segs[i];
		if (s->log >= 0)
			close(s->log);
		if (s->idx >= 0)
			close(s->idx);
		if (s->tix >= 0)
			close(s->tix);
	}
	free(ps->segs);
	ps->segs = NULL;
	ps->nseg = 0;
}

static void
export_free(struct export *x)
{
	if (x->parts)
		for (uint32_t p = 0; p < x->nparts; p++)
			snap_release(&x->parts[p]);
	free(x->parts);
	for (size_t i = 0; i < x->ngf; i++) {
		free(x->gf[i].group);
		free(x->gf[i].text);
	}
	free(x->gf);
	free(x->config);
	free(x->scratch);
	if (x->memfd >= 0)
		close(x->memfd);
}

/* Are the bytes [from, to) of fd all zero (what a power loss leaves)? */
static int
all_zero(int fd, uint64_t from, uint64_t to)
{
	unsigned char buf[4096];

	while (from < to) {
		size_t want = to - from < sizeof buf ? (size_t)(to - from)
						     : sizeof buf;
		ssize_t r = mq_pread_full(fd, buf, want, (off_t)from);
		if (r < 0)
			return -1;
		if ((size_t)r < want)
			return 1;       /* shorter now: nothing more to see */
		for (size_t i = 0; i < want; i++)
			if (buf[i])
				return 0;
		from += want;
	}
	return 1;
}

/*
 * Under the partition lock: how much of the active segment s holds
 * complete batches, and the offset after them.  The walk starts at the
 * last index entry that points at its batch (a 1 GiB segment is not read
 * whole) and stops at the first bytes that are not a batch.  Those are an
 * unfinished or torn write, which is left out, unless the head says a
 * completed append wrote them: then they are corruption, which readers
 * report too, and the export fails rather than silently cut the log.
 */
static int
snap_active(struct export *x, const char *ppath, const struct mq_head *h,
	    bool have_head, struct seg_snap *s, uint64_t *end,
	    struct mq_err *e)
{
	uint64_t limit = (uint64_t)x->cfg.max_message_bytes;
	uint64_t size = s->log_len, n;
	struct mq_idx_entry ie = {0, 0};
	struct mq_scan sc;
	bool found = false;

	n = s->idx_len / MQ_IDX_SIZE;
	if (s->tix_len / MQ_TIX_SIZE < n)
		n = s->tix_len / MQ_TIX_SIZE;
	if (n > 0 && mq_idx_read(s->idx, n - 1, &ie) == 0 &&
	    ie.pos + (uint64_t)MQ_BATCH_HDR <= size) {
		unsigned char hdr[MQ_BATCH_HDR];
		struct mq_batch_hdr bh;
		found = mq_pread_full(s->log, hdr, sizeof hdr, ie.pos) ==
				sizeof hdr &&
			mq_batch_hdr_decode(hdr, limit, &bh) == 0 &&
			bh.base_offset == s->base + ie.rel;
	}
	if (mq_seg_scan(s->log, found ? s->base + ie.rel : s->base,
			found ? ie.pos : 0, limit, &x->scratch, &x->scap, &sc,
			e) < 0)
		goto fail;
	if (found && sc.batches == 0 &&
	    mq_seg_scan(s->log, s->base, 0, limit, &x->scratch, &x->scap,
			&sc, e) < 0)
		goto fail;
	if (sc.end_pos < size && have_head && h->seg_base == s->base &&
	    sc.end_pos < h->end_pos && h->end_pos <= size) {
		int z = all_zero(s->log, sc.end_pos, size);
		if (z < 0)
			return mq_err_sys(e, "cannot read '%s/%020llu.log'",
					  ppath, (unsigned long long)s->base);
		if (!z)
			return mq_err_set(e, EBADMSG, "corrupt data at byte "
					  "%llu of '%s/%020llu.log': cannot "
					  "export it",
					  (unsigned long long)sc.end_pos, ppath,
					  (unsigned long long)s->base);
	}
	s->log_len = sc.end_pos;
	*end = sc.batches ? sc.next_offset : s->base;
	/* Only index entries of batches that are exported. */
	while (n > 0) {
		if (mq_idx_read(s->idx, n - 1, &ie) < 0)
			return mq_err_sys(e, "cannot read '%s/%020llu.idx'",
					  ppath, (unsigned long long)s->base);
		if (ie.pos < sc.end_pos)
			break;
		n--;
	}
	s->idx_len = n * MQ_IDX_SIZE;
	s->tix_len = n * MQ_TIX_SIZE;
	return 0;
fail:
	{
		char msg[MQ_ERR_MAX];
		memcpy(msg, e->msg, sizeof msg);
		return mq_err_set(e, e->code, "'%s/%020llu.log': %s", ppath,
				  (unsigned long long)s->base, msg);
	}
}

static int
open_index(int pdir, uint64_t base, const char *ext, uint64_t unit,
	   int *fd, uint64_t *len)
{
	char name[MQ_SEGNAME_MAX];
	struct stat st;

	mq_seg_name(name, base, ext);
	*len = 0;
	*fd = mq_openat(pdir, name, O_RDONLY);
	if (*fd < 0)
		return errno == ENOENT ? 0 : -1;   /* a hint: none is fine */
	if (fstat(*fd, &st) < 0)
		return -1;
	*len = (uint64_t)st.st_size / unit * unit;
	return 0;
}

/*
 * Takes partition p's snapshot under its lock: 0, 1 when a segment
 * vanished between listing and opening (retention or compaction, which
 * need not hold the lock for sealed segments: list again), -1 on error.
 */
static int
snap_take(struct export *x, int pdir, int lockfd, const char *ppath,
	  struct part_snap *ps, struct mq_err *e)
{
	uint64_t *bases = NULL, limit = (uint64_t)x->cfg.max_message_bytes;
	size_t n;
	struct mq_head h;
	bool have_head = mq_head_read(lockfd, &h) == 0;
	char name[MQ_SEGNAME_MAX];

	if (mq_seg_list(pdir, ppath, &bases, &n, e) < 0)
		return -1;
	if (n == 0) {
		/* The next writer starts a segment at the head's offset. */
		free(bases);
		ps->end = ps->start = have_head ? h.next_offset : 0;
		return 0;
	}
	ps->segs = calloc(n, sizeof *ps->segs);
	if (!ps->segs) {
		free(bases);
		return mq_err_sys(e, "out of memory");
	}
	for (size_t i = 0; i < n; i++) {
		struct seg_snap *s = &ps->segs[i];
		struct stat st;
		s->base = bases[i];
		s->log = s->idx = s->tix = -1;
		ps->nseg = i + 1;
		mq_seg_name(name, s->base, "log");
		s->log = mq_openat(pdir, name, O_RDONLY);
		if (s->log < 0 && errno == ENOENT) {
			free(bases);
			return 1;
		}
		if (s->log < 0 || fstat(s->log, &st) < 0)
			goto sysfail;
		s->log_len = (uint64_t)st.st_size;
		mq_seg_name(name, s->base, "idx");
		if (open_index(pdir, s->base, "idx", MQ_IDX_SIZE, &s->idx,
			       &s->idx_len) < 0)
			goto sysfail;
		mq_seg_name(name, s->base, "tix");
		if (open_index(pdir, s->base, "tix", MQ_TIX_SIZE, &s->tix,
			       &s->tix_len) < 0)
			goto sysfail;
	}
	free(bases);
	bases = NULL;
	if (snap_active(x, ppath, &h, have_head, &ps->segs[n - 1], &ps->end,
			e) < 0)
		return -1;
	/* The start: the first batch of the oldest segment that has one. */
	ps->start = ps->end;
	for (size_t i = 0; i < n; i++) {
		unsigned char hdr[MQ_BATCH_HDR];
		struct mq_batch_hdr bh;
		struct seg_snap *s = &ps->segs[i];
		if (s->log_len >= MQ_BATCH_HDR &&
		    mq_pread_full(s->log, hdr, sizeof hdr, 0) == sizeof hdr &&
		    mq_batch_hdr_decode(hdr, limit, &bh) == 0 &&
		    bh.length <= s->log_len) {
			ps->start = bh.base_offset;
			break;
		}
	}
	return 0;
sysfail:
	free(bases);
	return mq_err_sys(e, "cannot open '%s/%s'", ppath, name);
}

static int
snap_partition(struct export *x, uint32_t p, struct mq_err *e)
{
	struct part_snap *ps = &x->parts[p];
	char *ppath = mq_topic_partition_path(x->t, p);
	int pdir, lockfd = -1, rc = -1;

	if (!ppath)
		return mq_err_sys(e, "out of memory");
	pdir = mq_topic_partition_dir(x->t, p, e);
	if (pdir < 0)
		goto out;
	lockfd = mq_openat(pdir, "lock", O_RDONLY);
	if (lockfd < 0 && errno == ENOENT)
		lockfd = mq_openat(pdir, "lock", O_RDWR | O_CREAT);
	if (lockfd < 0) {
		mq_err_sys(e, "cannot open '%s/lock'", ppath);
		goto out;
	}
	if (mq_flock_wait(lockfd, LOCK_EX, e, "'%s'", ppath) < 0)
		goto out;
	for (int i = 0;; i++) {
		rc = snap_take(x, pdir, lockfd, ppath, ps, e);
		if (rc != 1)
			break;
		snap_release(ps);
		if (i == SNAP_TRIES) {
			rc = mq_err_set(e, EAGAIN, "segments of '%s' keep "
					"disappearing: cannot take a snapshot",
					ppath);
			break;
		}
	}
	flock(lockfd, LOCK_UN);
out:
	if (lockfd >= 0)
		close(lockfd);
	if (pdir >= 0)
		close(pdir);
	free(ppath);
	return rc;
}

/* Is s a partition number as written: decimal, no leading zero, < n? */
static bool
part_name(const char *s, uint32_t n, uint32_t *p)
{
	uint64_t v;

	if (!*s || (s[0] == '0' && s[1]) || strlen(s) > 6 ||
	    mq_parse_u64(s, 0, n ? n - 1 : 0, &v) < 0 || n == 0)
		return false;
	*p = (uint32_t)v;
	return true;
}

static int
cmp_gfile(const void *a, const void *b)
{
	const struct gfile *x = a, *y = b;
	int c = strcmp(x->group, y->group);

	if (c)
		return c;
	return x->partition < y->partition ? -1 : x->partition > y->partition;
}

/* Reads one group's offset files, checking each as readers would. */
static int
read_group(struct export *x, int gs, const char *group, struct mq_err *e)
{
	int gdir = mq_opendirat(gs, group), fd;
	DIR *d;
	struct dirent *de;

	if (gdir < 0)
		return errno == ENOENT || errno == ENOTDIR ? 0 :
		       mq_err_sys(e, "cannot open group '%s' of topic '%s'",
				  group, x->t->name);
	fd = dup(gdir);
	if (fd < 0 || !(d = fdopendir(fd))) {
		if (fd >= 0)
			close(fd);
		close(gdir);
		return mq_err_sys(e, "cannot read group '%s'", group);
	}
	while ((errno = 0, de = readdir(d))) {
		struct gfile g = {0};
		struct mq_gpos pos;
		uint32_t p;
		if (!part_name(de->d_name, x->nparts, &p))
			continue;
		if (mq_file_read(gdir, de->d_name, OFFSET_MAX, &g.text, &g.len,
				 e) < 0) {
			if (e->code == ENOENT)
				continue;       /* the group went meanwhile */
			goto damaged;
		}
		if (strlen(g.text) != g.len || mq_group_parse(g.text, &pos) < 0) {
			free(g.text);
			mq_err_set(e, EBADMSG, "not an offset");
			goto damaged;
		}
		if (x->ngf == x->gcap) {
			size_t c = x->gcap ? x->gcap * 2 : 16;
			struct gfile *v = realloc(x->gf, c * sizeof *v);
			if (!v) {
				free(g.text);
				goto oom;
			}
			x->gf = v;
			x->gcap = c;
		}
		g.partition = p;
		if (!(g.group = strdup(group))) {
			free(g.text);
			goto oom;
		}
		x->gf[x->ngf++] = g;
	}
	if (errno) {
		mq_err_sys(e, "cannot read group '%s'", group);
		goto fail;
	}
	closedir(d);
	close(gdir);
	return 0;
damaged: {
		char msg[MQ_ERR_MAX];
		memcpy(msg, e->msg, sizeof msg);
		mq_err_set(e, EBADMSG, "damaged offset file '%s/%s/groups/%s/%s'"
			   ": %s", x->t->sp->path, x->t->name, group,
			   de->d_name, msg);
		goto fail;
	}
oom:
	mq_err_sys(e, "out of memory");
fail:
	closedir(d);
	close(gdir);
	return -1;
}

static bool
is_group(int dirfd, const char *name, unsigned char type, void *arg)
{
	(void)dirfd;
	(void)type;
	(void)arg;
	return mq_group_name_check(name, NULL) == 0;
}

static int
read_groups(struct export *x, struct mq_err *e)
{
	int gs = mq_opendirat(x->t->fd, "groups");
	char **names = NULL;
	size_t n = 0;
	int rc = -1;

	if (gs < 0)
		return errno == ENOENT ? 0 :
		       mq_err_sys(e, "cannot open groups of topic '%s'",
				  x->t->name);
	if (mq_dir_names(gs, is_group, NULL, &names, &n) < 0) {
		if (errno == ENOMEM)
			mq_err_sys(e, "out of memory");
		else
			mq_err_sys(e, "cannot read groups of topic '%s'",
				   x->t->name);
		goto out;
	}
	for (size_t i = 0; i < n; i++)
		if (read_group(x, gs, names[i], e) < 0)
			goto out;
	if (x->ngf)
		qsort(x->gf, x->ngf, sizeof *x->gf, cmp_gfile);
	rc = 0;
out:
	mq_names_free(names, n);
	close(gs);
	return rc;
}

/* Adds bytes made in memory as an entry, through the staging memfd. */
static int
add_mem(struct export *x, struct mq_archive *a, const void *data, size_t n,
	const char *entry, struct mq_err *e)
{
	if (x->memfd < 0) {
		x->memfd = memfd_create("mq-export", MFD_CLOEXEC);
		if (x->memfd < 0)
			return mq_err_sys(e, "cannot stage archive entry");
	}
	if (ftruncate(x->memfd, 0) < 0 ||
	    mq_pwrite_full(x->memfd, data, n, 0) < 0)
		return mq_err_sys(e, "cannot stage archive entry '%s'", entry);
	return mq_archive_add_fd(a, x->memfd, n, entry, e);
}

static char *
manifest(const struct export *x, size_t *len)
{
	size_t cap = 300 + (size_t)x->nparts * LINE_MAX_MANIFEST, n;
	char *m = malloc(cap);

	if (!m)
		return NULL;
	n = (size_t)snprintf(m, cap, "mq export 1\ntopic %s\npartitions %u\n",
			     x->t->name, x->nparts);
	for (uint32_t p = 0; p < x->nparts; p++)
		n += (size_t)snprintf(m + n, cap - n,
				      "partition %u start %llu end %llu\n", p,
				      (unsigned long long)x->parts[p].start,
				      (unsigned long long)x->parts[p].end);
	*len = n;
	return m;
}

static int
write_entries(struct export *x, struct mq_archive *a, struct mq_err *e)
{
	const char *tn = x->t->name;
	char entry[ENTRY_MAX];
	size_t mlen;
	char *m = manifest(x, &mlen);
	int rc;

	if (!m)
		return mq_err_sys(e, "out of memory");
	snprintf(entry, sizeof entry, "%s/+export", tn);
	rc = add_mem(x, a, m, mlen, entry, e);
	free(m);
	if (rc < 0)
		return -1;
	snprintf(entry, sizeof entry, "%s/config", tn);
	if (add_mem(x, a, x->config, x->config_len, entry, e) < 0)
		return -1;
	for (uint32_t p = 0; p < x->nparts; p++) {
		struct part_snap *ps = &x->parts[p];
		for (size_t i = 0; i < ps->nseg; i++) {
			struct seg_snap *s = &ps->segs[i];
			unsigned long long b = (unsigned long long)s->base;
			snprintf(entry, sizeof entry, "%s/%u/%020llu.log", tn,
				 p, b);
			if (mq_archive_add_fd(a, s->log, s->log_len, entry,
					      e) < 0)
				return -1;
			snprintf(entry, sizeof entry, "%s/%u/%020llu.idx", tn,
				 p, b);
			if ((s->idx >= 0 ?
			     mq_archive_add_fd(a, s->idx, s->idx_len, entry, e) :
			     add_mem(x, a, "", 0, entry, e)) < 0)
				return -1;
			snprintf(entry, sizeof entry, "%s/%u/%020llu.tix", tn,
				 p, b);
			if ((s->tix >= 0 ?
			     mq_archive_add_fd(a, s->tix, s->tix_len, entry, e) :
			     add_mem(x, a, "", 0, entry, e)) < 0)
				return -1;
			/* Done with them: many partitions, many files. */
			close(s->log);
			if (s->idx >= 0)
				close(s->idx);
			if (s->tix >= 0)
				close(s->tix);
			s->log = s->idx = s->tix = -1;
		}
	}
	for (size_t i = 0; i < x->ngf; i++) {
		snprintf(entry, sizeof entry, "%s/groups/%s/%u", tn,
			 x->gf[i].group, x->gf[i].partition);
		if (add_mem(x, a, x->gf[i].text, x->gf[i].len, entry, e) < 0)
			return -1;
	}
	return 0;
}

/* Splits PATH into DIR, NAME and SUFFIX and starts the archive there. */
static int
create_at(struct mq_archive **a, const char *path, struct mq_err *e)
{
	static const char *const known[] = {".tar.gz", ".tar.zst", ".tar"};
	const char *slash = strrchr(path, '/'), *base, *suffix = NULL;
	char *dir, *name;
	size_t blen;
	int rc;

	base = slash ? slash + 1 : path;
	blen = strlen(base);
	for (size_t i = 0; i < sizeof known / sizeof *known && !suffix; i++) {
		size_t k = strlen(known[i]);
		if (blen > k && strcmp(base + blen - k, known[i]) == 0)
			suffix = known[i];
	}
	if (!suffix) {
		suffix = strrchr(base, '.');
		return mq_err_set(e, EINVAL, "unknown archive suffix '%s' of "
				  "'%s': use .tar, .tar.gz or .tar.zst",
				  suffix ? suffix : "", path);
	}
	dir = !slash ? strdup(".") : slash == path ? strdup("/")
		     : strndup(path, (size_t)(slash - path));
	name = strndup(base, blen - strlen(suffix));
	if (!dir || !name) {
		free(dir);
		free(name);
		return mq_err_sys(e, "out of memory");
	}
	rc = mq_archive_create(a, dir, name, suffix, e);
	free(dir);
	free(name);
	return rc;
}

int
mq_topic_export(struct mq_topic *t, int fd, const char *path,
		struct mq_err *e)
{
	struct export x;
	struct mq_archive *a = NULL;
	char what[64];

	memset(&x, 0, sizeof x);
	x.t = t;
	x.memfd = -1;
	/* The archive first: a bad name fails before any work. */
	if (path) {
		if (create_at(&a, path, e) < 0)
			return -1;
	} else {
		if (fd == 1)
			snprintf(what, sizeof what, "standard output");
		else
			snprintf(what, sizeof what, "descriptor %d", fd);
		if (mq_archive_open_fd(&a, fd, what, e) < 0)
			return -1;
	}
	/* The config as one read, so the partitions and the limit used are
	 * those of the bytes exported (alter may replace it meanwhile). */
	if (mq_file_read(t->fd, "config", CONFIG_MAX, &x.config, &x.config_len,
			 e) < 0 ||
	    mq_config_parse(&x.cfg, x.config, x.config_len, e) < 0) {
		char msg[MQ_ERR_MAX];
		memcpy(msg, e->msg, sizeof msg);
		mq_err_set(e, e->code == ENOENT ? EBADMSG : e->code == EINVAL ?
			   EBADMSG : e->code, "topic '%s': %s", t->name, msg);
		goto fail;
	}
	x.nparts = (uint32_t)x.cfg.partitions;
	x.parts = calloc(x.nparts, sizeof *x.parts);
	if (!x.parts) {
		mq_err_sys(e, "out of memory");
		goto fail;
	}
	if (read_groups(&x, e) < 0)
		goto fail;
	for (uint32_t p = 0; p < x.nparts; p++)
		if (snap_partition(&x, p, e) < 0)
			goto fail;
	if (write_entries(&x, a, e) < 0)
		goto fail;
	export_free(&x);
	return mq_archive_close(a, e);
fail:
	export_free(&x);
	mq_archive_abort(a);
	return -1;
}

/* ---- import ---- */

struct import {
	struct mq_spool *sp;
	struct archive *a;
	const char *apath;       /* the archive, for messages */
	char src[256];           /* the topic's name in the archive */
	char dst[256];           /* ...and the name it gets */
	char tmp[64];            /* +imp.PID.MS in the spool */
	int tfd;                 /* the topic being built */
	uint32_t nparts;
	uint64_t *mstart, *mend; /* the manifest's offsets */
	struct mq_config cfg;
	uint64_t seg_max;        /* largest segment accepted */
	unsigned char *buf;      /* CHUNK bytes */
	unsigned char *scratch, *raw;
	size_t scap, rawcap;
	struct mq_codec *codec;
};

static int
bad(struct import *im, struct mq_err *e, const char *fmt, const char *entry)
{
	char msg[MQ_ERR_MAX];

	snprintf(msg, sizeof msg, fmt, entry);
	return mq_err_set(e, EBADMSG, "archive '%s': %s", im->apath, msg);
}

static int
damaged(struct import *im, struct mq_err *e)
{
	const char *m = archive_error_string(im->a);

	return mq_err_set(e, EBADMSG, "archive '%s' is damaged: %s",
			  im->apath, m ? m : "read error");
}

/* Reads a whole small entry (at most max bytes) into a string. */
static int
read_small(struct import *im, int64_t size, size_t max, const char *entry,
	   char **out, struct mq_err *e)
{
	char *buf;
	la_ssize_t r;
	size_t got = 0;

	if (size < 0 || (uint64_t)size > max)
		return bad(im, e, "entry '%s' is too large", entry);
	buf = malloc((size_t)size + 1);
	if (!buf)
		return mq_err_sys(e, "out of memory");
	while (got < (size_t)size) {
		r = archive_read_data(im->a, buf + got, (size_t)size - got);
		if (r <= 0) {
			free(buf);
			return r < 0 ? damaged(im, e)
				     : bad(im, e, "entry '%s' is cut short",
					   entry);
		}
		got += (size_t)r;
	}
	buf[got] = '\0';
	if (strlen(buf) != got) {
		free(buf);
		return bad(im, e, "entry '%s' holds a NUL byte", entry);
	}
	*out = buf;
	return 0;
}

/* Creates name under dfd (never existing before) with data or the entry's. */
static int
write_file(struct import *im, int dfd, const char *name, const char *data,
	   int64_t size, const char *entry, struct mq_err *e)
{
	int fd = mq_createat(dfd, name, O_WRONLY);
	int64_t got = 0;

	if (fd < 0) {
		if (errno == EEXIST)
			return bad(im, e, "entry '%s' appears twice", entry);
		return mq_err_sys(e, "cannot create '%s' of topic '%s'", name,
				  im->dst);
	}
	if (data) {
		if (mq_write_file(fd, data, (size_t)size) < 0)
			goto sysfail;
		got = size;
	}
	while (got < size) {
		la_ssize_t r = archive_read_data(im->a, im->buf, CHUNK);
		if (r < 0) {
			close(fd);
			return damaged(im, e);
		}
		if (r == 0)
			break;
		if (mq_write_file(fd, im->buf, (size_t)r) < 0)
			goto sysfail;
		got += r;
		mq_progress((uint64_t)r);
	}
	if (got != size) {
		close(fd);
		return bad(im, e, "entry '%s' is cut short", entry);
	}
	if (mq_fsync(fd) < 0)
		goto sysfail;
	if (close(fd) < 0) {
		fd = -1;
		goto sysfail;
	}
	return 0;
sysfail:
	mq_err_sys(e, "cannot write '%s' of topic '%s'", name, im->dst);
	if (fd >= 0)
		close(fd);
	return -1;
}

static int
mkdir_open(struct import *im, int dfd, const char *name, struct mq_err *e)
{
	int fd;

	if (mq_mkdirat(dfd, name) < 0 && errno != EEXIST)
		return mq_err_sys(e, "cannot create '%s' in topic '%s'", name,
				  im->dst);
	fd = mq_opendirat(dfd, name);
	if (fd < 0)
		return mq_err_sys(e, "cannot open '%s' in topic '%s'", name,
				  im->dst);
	return fd;
}

/* Splits a line into at most max space-separated words; their count. */
static size_t
words(char *line, char **w, size_t max)
{
	size_t n = 0;
	char *s = line;

	while (n < max) {
		w[n++] = s;
		s = strchr(s, ' ');
		if (!s)
			return n;
		*s++ = '\0';
	}
	return n + 1;   /* too many */
}

static int
parse_manifest(struct import *im, char *text, struct mq_err *e)
{
	char *line = text, *nl, *w[8];
	size_t n, i = 0;
	uint64_t v, s, t;

	for (size_t ln = 1; *line; ln++, line = nl + 1) {
		nl = strchr(line, '\n');
		if (!nl)
			goto badline;
		*nl = '\0';
		n = words(line, w, 7);
		if (ln == 1) {
			if (n != 3 || strcmp(w[0], "mq") ||
			    strcmp(w[1], "export") || strcmp(w[2], "1"))
				return bad(im, e, "not an mq export of format 1 "
					   "(manifest line 1 is '%.60s')", line);
		} else if (ln == 2) {
			if (n != 2 || strcmp(w[0], "topic") ||
			    strcmp(w[1], im->src))
				goto badline;
		} else if (ln == 3) {
			if (n != 2 || strcmp(w[0], "partitions") ||
			    mq_parse_u64(w[1], 1, MQ_MAX_PARTITIONS, &v) < 0)
				goto badline;
			im->nparts = (uint32_t)v;
			im->mstart = calloc(v, sizeof *im->mstart);
			im->mend = calloc(v, sizeof *im->mend);
			if (!im->mstart || !im->mend)
				return mq_err_sys(e, "out of memory");
		} else {
			if (i >= im->nparts || n != 6 ||
			    strcmp(w[0], "partition") ||
			    mq_parse_u64(w[1], i, i, &v) < 0 ||
			    strcmp(w[2], "start") ||
			    mq_parse_u64(w[3], 0, MQ_OFFSET_MAX, &s) < 0 ||
			    strcmp(w[4], "end") ||
			    mq_parse_u64(w[5], s, MQ_OFFSET_MAX, &t) < 0)
				goto badline;
			im->mstart[i] = s;
			im->mend[i] = t;
			i++;
		}
		continue;
badline:
		{
			char where[80];
			snprintf(where, sizeof where, "bad manifest line %zu",
				 ln);
			return bad(im, e, "%s", where);
		}
	}
	if (im->nparts == 0 || i != im->nparts)
		return bad(im, e, "%s", "the manifest is incomplete");
	return 0;
}

/* The first entry: TOPIC/+export, which names the topic. */
static int
take_manifest(struct import *im, struct archive_entry *en, const char *path,
	      struct mq_err *e)
{
	const char *slash = strchr(path, '/');
	char *text;
	int rc;

	if (!slash || strcmp(slash, "/+export") != 0 ||
	    (size_t)(slash - path) >= sizeof im->src)
		return bad(im, e, "not an mq export: its first entry is "
			   "'%.300s', not TOPIC/+export", path);
	memcpy(im->src, path, (size_t)(slash - path));
	im->src[slash - path] = '\0';
	if (mq_topic_name_check(im->src, NULL) < 0)
		return bad(im, e, "bad topic name in entry '%.300s'", path);
	if (read_small(im, archive_entry_size(en), MANIFEST_MAX, path, &text,
		       e) < 0)
		return -1;
	rc = parse_manifest(im, text, e);
	free(text);
	return rc;
}

/* Is name safe to look at: relative, and no ".." component? */
static bool
safe_name(const char *s)
{
	if (*s == '/')
		return false;
	for (const char *p = s; p; p = strchr(p, '/')) {
		if (*p == '/')
			p++;
		if (p[0] == '.' && p[1] == '.' && (p[2] == '/' || !p[2]))
			return false;
	}
	return true;
}

/* TOPIC/P/NNNNNNNNNNNNNNNNNNNN.(log|idx|tix) */
static int
take_segment(struct import *im, const char *rel, struct archive_entry *en,
	     const char *path, struct mq_err *e)
{
	const char *slash = strchr(rel, '/');
	char pname[8], seg[32];
	uint32_t p;
	uint64_t base, unit, max;
	int64_t size = archive_entry_size(en);
	int pdir, rc;
	size_t plen;

	if (!slash || (plen = (size_t)(slash - rel)) >= sizeof pname)
		return bad(im, e, "unexpected entry '%.300s'", path);
	memcpy(pname, rel, plen);
	pname[plen] = '\0';
	if (!part_name(pname, im->nparts, &p))
		return bad(im, e, "entry '%.300s' names no partition of the "
			   "topic", path);
	rel = slash + 1;
	if (strlen(rel) != 24 || rel[20] != '.' ||
	    strspn(rel, "0123456789") != 20)
		return bad(im, e, "unexpected entry '%.300s'", path);
	memcpy(seg, rel, 20);
	seg[20] = '\0';
	if (mq_parse_u64(seg, 0, MQ_OFFSET_MAX - 1, &base) < 0)
		return bad(im, e, "unexpected entry '%.300s'", path);
	if (strcmp(rel + 21, "log") == 0)
		unit = 1;
	else if (strcmp(rel + 21, "idx") == 0)
		unit = MQ_IDX_SIZE;
	else if (strcmp(rel + 21, "tix") == 0)
		unit = MQ_TIX_SIZE;
	else
		return bad(im, e, "unexpected entry '%.300s'", path);
	/* An index has an entry per 4096 bytes of log, and one more. */
	max = unit == 1 ? im->seg_max
			: (im->seg_max / MQ_INDEX_INTERVAL + 1) * unit;
	if (size < 0 || (uint64_t)size > max)
		return bad(im, e, "entry '%.300s' is larger than a segment "
			   "of this topic can be", path);
	if ((uint64_t)size % unit)
		return bad(im, e, "entry '%.300s' is not a whole number of "
			   "index entries", path);
	pdir = mkdir_open(im, im->tfd, pname, e);
	if (pdir < 0)
		return -1;
	rc = write_file(im, pdir, rel, NULL, size, path, e);
	close(pdir);
	return rc;
}

/* TOPIC/groups/GROUP/P */
static int
take_group(struct import *im, const char *rel, struct archive_entry *en,
	   const char *path, struct mq_err *e)
{
	const char *slash = strchr(rel, '/');
	char group[256], *text;
	struct mq_gpos pos;
	uint32_t p;
	int gs, gd, md, rc;
	size_t glen;

	if (!slash || (glen = (size_t)(slash - rel)) >= sizeof group)
		return bad(im, e, "unexpected entry '%.300s'", path);
	memcpy(group, rel, glen);
	group[glen] = '\0';
	if (mq_group_name_check(group, NULL) < 0)
		return bad(im, e, "bad group name in entry '%.300s'", path);
	if (!part_name(slash + 1, im->nparts, &p))
		return bad(im, e, "entry '%.300s' names no partition of the "
			   "topic", path);
	if (read_small(im, archive_entry_size(en), OFFSET_MAX, path, &text,
		       e) < 0)
		return -1;
	if (mq_group_parse(text, &pos) < 0) {
		free(text);
		return bad(im, e, "entry '%.300s' is not an offset file", path);
	}
	gs = mkdir_open(im, im->tfd, "groups", e);
	if (gs < 0)
		goto fail;
	gd = mkdir_open(im, gs, group, e);
	close(gs);
	if (gd < 0)
		goto fail;
	md = mkdir_open(im, gd, "members", e);
	if (md < 0) {
		close(gd);
		goto fail;
	}
	close(md);
	rc = write_file(im, gd, slash + 1, text, (int64_t)strlen(text), path,
			e);
	close(gd);
	free(text);
	return rc;
fail:
	free(text);
	return -1;
}

static int
take_config(struct import *im, struct archive_entry *en, const char *path,
	    struct mq_err *e)
{
	char *text;
	int rc;

	if (read_small(im, archive_entry_size(en), CONFIG_MAX, path, &text,
		       e) < 0)
		return -1;
	if (mq_config_parse(&im->cfg, text, strlen(text), e) < 0) {
		char msg[MQ_ERR_MAX];
		snprintf(msg, sizeof msg, "entry '%.190s': %.300s", path,
			 e->msg);
		free(text);
		return bad(im, e, "%s", msg);
	}
	if ((uint64_t)im->cfg.partitions != im->nparts) {
		free(text);
		return bad(im, e, "entry '%.300s' does not have the manifest's "
			   "number of partitions", path);
	}
	im->seg_max = (uint64_t)im->cfg.max_message_bytes + MQ_BATCH_HDR +
		      ((uint64_t)2 << 30);
	rc = write_file(im, im->tfd, "config", text, (int64_t)strlen(text),
			path, e);
	free(text);
	return rc;
}

/* Reads the archive's entries into the temporary topic. */
static int
read_entries(struct import *im, struct mq_err *e)
{
	struct archive_entry *en;
	size_t n = 0, slen;
	int r;

	for (;; n++) {
		const char *path, *rel;
		r = archive_read_next_header(im->a, &en);
		if (r == ARCHIVE_EOF)
			break;
		if (r < ARCHIVE_WARN)
			return damaged(im, e);
		path = archive_entry_pathname(en);
		if (!path)
			return bad(im, e, "%s", "an entry has no usable name");
		if (!safe_name(path))
			return bad(im, e, "unsafe entry name '%.300s'", path);
		if (archive_entry_filetype(en) != AE_IFREG ||
		    archive_entry_hardlink(en) || archive_entry_symlink(en) ||
		    !archive_entry_size_is_set(en))
			return bad(im, e, "entry '%.300s' is not a regular file",
				   path);
		if (n == 0) {
			if (take_manifest(im, en, path, e) < 0)
				return -1;
			if (faccessat(im->sp->fd, im->dst[0] ? im->dst : im->src,
				      F_OK, AT_SYMLINK_NOFOLLOW) == 0)
				return mq_err_set(e, EEXIST, "topic '%s' already "
						  "exists", im->dst[0] ? im->dst
						  : im->src);
			if (!im->dst[0])
				snprintf(im->dst, sizeof im->dst, "%s", im->src);
			/* Only now is there something to build. */
			if (mq_mkdirat(im->sp->fd, im->tmp) < 0)
				return mq_err_sys(e, "cannot create topic '%s' "
						  "in '%s'", im->dst,
						  im->sp->path);
			im->tfd = mq_opendirat(im->sp->fd, im->tmp);
			if (im->tfd < 0)
				return mq_err_sys(e, "cannot create topic '%s'",
						  im->dst);
			continue;
		}
		slen = strlen(im->src);
		if (strncmp(path, im->src, slen) != 0 || path[slen] != '/')
			return bad(im, e, "entry '%.300s' is not in the "
				   "exported topic", path);
		rel = path + slen + 1;
		if (n == 1) {
			if (strcmp(rel, "config") != 0)
				return bad(im, e, "entry '%.300s' comes where "
					   "the config should", path);
			if (take_config(im, en, path, e) < 0)
				return -1;
		} else if (strncmp(rel, "groups/", 7) == 0) {
			if (take_group(im, rel + 7, en, path, e) < 0)
				return -1;
		} else if (take_segment(im, rel, en, path, e) < 0) {
			return -1;
		}
	}
	if (n == 0)
		return bad(im, e, "%s", "it is empty, not an mq export");
	if (n == 1)
		return bad(im, e, "%s", "it has no config");
	return 0;
}

/* Does every record of every batch of fd decode?  The bad batch's byte. */
static int
check_records(struct import *im, int fd, uint64_t size, uint64_t *bad_pos,
	      struct mq_err *e)
{
	uint64_t limit = (uint64_t)im->cfg.max_message_bytes;

	for (uint64_t pos = 0; pos < size;) {
		struct mq_batch_hdr h;
		struct mq_rec_iter it;
		struct mq_record r;
		const unsigned char *payload;
		int rc;

		*bad_pos = pos;
		/* mq_seg_scan has grown the scratch buffer to the longest
		 * batch of this segment and checked each: these hold. */
		if (im->scap < MQ_BATCH_HDR ||
		    mq_pread_full(fd, im->scratch, MQ_BATCH_HDR, (off_t)pos) !=
		    MQ_BATCH_HDR ||
		    mq_batch_hdr_decode(im->scratch, limit, &h) < 0 ||
		    im->scap < h.length ||
		    mq_pread_full(fd, im->scratch, h.length, (off_t)pos) !=
		    (ssize_t)h.length)
			return 1;
		payload = im->scratch + MQ_BATCH_HDR;
		if (h.codec != MQ_CODEC_NONE) {
			if (im->rawcap < h.raw_len) {
				unsigned char *p = realloc(im->raw, h.raw_len);
				if (!p)
					return mq_err_sys(e, "out of memory");
				im->raw = p;
				im->rawcap = h.raw_len;
			}
			if (!im->codec && !(im->codec = mq_codec_new()))
				return mq_err_sys(e, "out of memory");
			if (mq_codec_decompress(im->codec, h.codec, payload,
						h.length - MQ_BATCH_HDR,
						im->raw, h.raw_len, e) < 0)
				return 1;
			payload = im->raw;
		}
		mq_rec_iter_init(&it, &h, payload, h.raw_len);
		while ((rc = mq_rec_iter_next(&it, &r)) == 0)
			;
		if (rc < 0)
			return 1;
		pos += h.length;
	}
	return 0;
}

/* Checks partition p's segments and completes its directory. */
static int
finish_partition(struct import *im, uint32_t p, struct mq_err *e)
{
	char pname[16], name[MQ_SEGNAME_MAX], entry[SEG_ENTRY_MAX];
	char where[PATH_MAX];
	uint64_t *bases = NULL, start = 0, end = 0, prev_end = 0;
	uint64_t limit = (uint64_t)im->cfg.max_message_bytes;
	bool have_start = false;
	size_t n = 0;
	int pdir, fd = -1, dfd;
	DIR *d;
	struct dirent *de;

	snprintf(pname, sizeof pname, "%u", p);
	pdir = mkdir_open(im, im->tfd, pname, e);
	if (pdir < 0)
		return -1;
	fd = mq_createat(pdir, "lock", O_WRONLY);
	if (fd < 0 || close(fd) < 0) {
		mq_err_sys(e, "cannot create '%s/lock' of topic '%s'", pname,
			   im->dst);
		goto fail;
	}
	fd = -1;
	/* An index needs its segment. */
	dfd = dup(pdir);
	if (dfd < 0 || !(d = fdopendir(dfd))) {
		if (dfd >= 0)
			close(dfd);
		mq_err_sys(e, "cannot read partition %u of topic '%s'", p,
			   im->dst);
		goto fail;
	}
	while ((de = readdir(d))) {
		size_t l = strlen(de->d_name);
		if (l != 24 || strcmp(de->d_name + 20, ".log") == 0)
			continue;
		memcpy(name, de->d_name, 20);
		strcpy(name + 20, ".log");
		if (faccessat(pdir, name, F_OK, AT_SYMLINK_NOFOLLOW) < 0) {
			/* d_name is 24 characters here (checked above). */
			snprintf(entry, sizeof entry, "%s/%u/%.24s", im->src, p,
				 de->d_name);
			closedir(d);
			bad(im, e, "entry '%s' has no segment", entry);
			goto fail;
		}
	}
	closedir(d);
	snprintf(where, sizeof where, "%s/%s/%u", im->sp->path, im->tmp, p);
	if (mq_seg_list(pdir, where, &bases, &n, e) < 0)
		goto fail;
	if (n == 0) {
		/* Like a new topic's, at the offset the next message gets. */
		if (im->mend[p] >= MQ_OFFSET_MAX) {
			bad(im, e, "%s", "a partition without segments ends at "
			    "the last offset");
			goto fail;
		}
		free(bases);
		bases = malloc(sizeof *bases);
		if (!bases) {
			mq_err_sys(e, "out of memory");
			goto fail;
		}
		bases[0] = im->mend[p];
		n = 1;
		mq_seg_name(name, bases[0], "log");
		fd = mq_createat(pdir, name, O_WRONLY);
		if (fd < 0 || close(fd) < 0)
			goto sysfail;
		fd = -1;
	}
	for (size_t i = 0; i < n; i++) {
		static const char *const ext[] = {"idx", "tix"};
		struct mq_scan s;
		struct stat st;
		uint64_t bpos;
		int rc;

		for (int k = 0; k < 2; k++) {
			mq_seg_name(name, bases[i], ext[k]);
			fd = mq_openat(pdir, name, O_WRONLY | O_CREAT);
			if (fd < 0 || mq_fsync(fd) < 0 || close(fd) < 0)
				goto sysfail;
			fd = -1;
		}
		mq_seg_name(name, bases[i], "log");
		snprintf(entry, sizeof entry, "%s/%u/%s", im->src, p, name);
		if (bases[i] < prev_end) {
			bad(im, e, "segment '%s' overlaps the one before it",
			    entry);
			goto fail;
		}
		fd = mq_openat(pdir, name, O_RDONLY);
		if (fd < 0 || fstat(fd, &st) < 0)
			goto sysfail;
		if (mq_seg_scan(fd, bases[i], 0, limit, &im->scratch,
				&im->scap, &s, e) < 0)
			goto fail;
		if (s.stopped_invalid || s.end_pos != (uint64_t)st.st_size) {
			char what[500];
			snprintf(what, sizeof what, "corrupt batch in entry "
				 "'%s' at byte %llu", entry,
				 (unsigned long long)s.end_pos);
			bad(im, e, "%s", what);
			goto fail;
		}
		rc = check_records(im, fd, s.end_pos, &bpos, e);
		if (rc < 0)
			goto fail;
		if (rc > 0) {
			char what[500];
			snprintf(what, sizeof what, "malformed records in the "
				 "batch at byte %llu of entry '%s'",
				 (unsigned long long)bpos, entry);
			bad(im, e, "%s", what);
			goto fail;
		}
		if (s.batches && !have_start) {
			struct mq_batch_hdr h;
			if (mq_pread_full(fd, im->scratch, MQ_BATCH_HDR, 0) !=
			    MQ_BATCH_HDR ||
			    mq_batch_hdr_decode(im->scratch, limit, &h) < 0)
				goto sysfail;
			start = h.base_offset;
			have_start = true;
		}
		close(fd);
		fd = -1;
		mq_progress(s.end_pos);   /* checked: progress too */
		prev_end = end = s.batches ? s.next_offset : bases[i];
	}
	if (!have_start)
		start = end;
	if (start != im->mstart[p] || end != im->mend[p]) {
		char what[300];
		snprintf(what, sizeof what, "partition %u holds offsets %llu "
			 "to %llu, but the manifest says %llu to %llu", p,
			 (unsigned long long)start, (unsigned long long)end,
			 (unsigned long long)im->mstart[p],
			 (unsigned long long)im->mend[p]);
		bad(im, e, "%s", what);
		goto fail;
	}
	if (mq_fsync_dir(pdir) < 0)
		goto sysfail;
	free(bases);
	close(pdir);
	return 0;
sysfail:
	mq_err_sys(e, "cannot complete partition %u of topic '%s'", p, im->dst);
fail:
	if (fd >= 0)
		close(fd);
	free(bases);
	close(pdir);
	return -1;
}

/* Syncs the directories under dfd (files were synced as written). */
static int
sync_dirs(int dfd)
{
	int fd = dup(dfd), rc = 0;
	DIR *d;
	struct dirent *de;

	if (fd < 0 || !(d = fdopendir(fd))) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	while ((de = readdir(d))) {
		int sub;
		if (de->d_type != DT_DIR || strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		sub = openat(dfd, de->d_name, DIR_FLAGS);
		if (sub < 0 || sync_dirs(sub) < 0)
			rc = -1;
		if (sub >= 0)
			close(sub);
	}
	closedir(d);
	if (mq_fsync_dir(dfd) < 0)
		rc = -1;
	return rc;
}

int
mq_topic_import(struct mq_spool *sp, const char *path, const char *as,
		char *name, struct mq_err *e)
{
	struct import im;
	int rc = -1;

	memset(&im, 0, sizeof im);
	im.sp = sp;
	im.tfd = -1;
	im.apath = path ? path : "standard input";
	name[0] = '\0';
	if (as) {
		if (mq_topic_name_check(as, e) < 0)
			return -1;
		snprintf(im.dst, sizeof im.dst, "%s", as);
	}
	snprintf(im.tmp, sizeof im.tmp, "+imp.%ld.%lld", (long)getpid(),
		 (long long)mq_mono_ms());
	mq_rmtree(sp->fd, im.tmp);
	im.buf = malloc(CHUNK);
	im.a = archive_read_new();
	if (!im.buf || !im.a) {
		mq_err_sys(e, "out of memory");
		goto out;
	}
	archive_read_support_filter_all(im.a);
	archive_read_support_format_tar(im.a);
	if ((path ? archive_read_open_filename(im.a, path, CHUNK)
		  : archive_read_open_fd(im.a, 0, CHUNK)) != ARCHIVE_OK) {
		int code = archive_errno(im.a);
		const char *m = archive_error_string(im.a);
		if (code == ENOENT || code == EACCES || code == EISDIR)
			mq_err_set(e, code, "cannot open archive '%s': %s",
				   im.apath, m ? m : strerror(code));
		else
			damaged(&im, e);
		goto out;
	}
	if (read_entries(&im, e) < 0)
		goto out;
	for (uint32_t p = 0; p < im.nparts; p++)
		if (finish_partition(&im, p, e) < 0)
			goto out;
	if (sync_dirs(im.tfd) < 0) {
		mq_err_sys(e, "cannot sync topic '%s'", im.dst);
		goto out;
	}
	close(im.tfd);
	im.tfd = -1;
	rc = mq_rename_noreplace(sp->fd, im.tmp, sp->fd, im.dst);
	if (rc < 0) {
		if (errno == EEXIST || errno == ENOTEMPTY)
			mq_err_set(e, EEXIST, "topic '%s' already exists",
				   im.dst);
		else
			mq_err_sys(e, "cannot create topic '%s'", im.dst);
		goto out;
	}
	if (mq_fsync_dir(sp->fd) < 0) {
		mq_err_sys(e, "cannot sync spool '%s'", sp->path);
		rc = -1;
		/* The topic is there, whole: only its durability is in
		 * doubt, so it stays. */
		snprintf(name, 256, "%s", im.dst);
		goto done;
	}
	snprintf(name, 256, "%s", im.dst);
	rc = 0;
	goto done;
out:
	rc = -1;
	if (im.tfd >= 0)
		close(im.tfd);
	im.tfd = -1;
	mq_rmtree(sp->fd, im.tmp);
done:
	if (im.a)
		archive_read_free(im.a);
	free(im.buf);
	free(im.scratch);
	free(im.raw);
	free(im.mstart);
	free(im.mend);
	if (im.codec)
		mq_codec_free(im.codec);
	return rc;
}
