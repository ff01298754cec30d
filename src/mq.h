/*
 * mq.h - the public interface of libmq, the library behind the mq commands.
 *
 * mq keeps Kafka-style partitioned logs in a spool directory.  Every command
 * opens the spool, takes the locks it needs, does its job and exits; there is
 * no daemon.  This header is grouped by the file that defines each function.
 *
 * Conventions (STYLE.md): functions return 0 on success and -1 on failure,
 * with the reason in a struct mq_err; readers return 1 for "no more data".
 * The library never prints and never exits.  Lifecycles are _init/_open,
 * _close/_free.
 */
#ifndef MQ_H
#define MQ_H

#include <stdbool.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* ---- err.c: error reports carried out of the library ---- */

#define MQ_ERR_MAX 512

/*
 * An error: an errno-style code and a complete one-line message.  EINVAL
 * means bad input from the user (commands exit 2 for it where the input was
 * an argument); EBADMSG means stored data failed validation (corruption).
 */
struct mq_err {
	int code;
	char msg[MQ_ERR_MAX];
};

/* Sets code and message; returns -1 so callers can "return mq_err_set(..)". */
int mq_err_set(struct mq_err *e, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* As mq_err_set with code = errno, appending ": strerror(errno)". */
int mq_err_sys(struct mq_err *e, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* ---- io.c: I/O that retries EINTR and short transfers, in one place ---- */

/* Reads up to n bytes, stopping early only at end of file. */
ssize_t mq_read_full(int fd, void *buf, size_t n);
ssize_t mq_pread_full(int fd, void *buf, size_t n, off_t off);
/* Writes all n bytes or fails (errno set): for pipes and terminals. */
int mq_write_full(int fd, const void *buf, size_t n);
int mq_pwrite_full(int fd, const void *buf, size_t n, off_t off);
/* The same for spool files, through the fault-injection layer. */
int mq_write_file(int fd, const void *buf, size_t n);
int mq_pwrite_file(int fd, const void *buf, size_t n, off_t off);
/*
 * renameat that never replaces an existing newname (EEXIST), with
 * renameat2(RENAME_NOREPLACE) where the file system has it.
 */
int mq_rename_noreplace(int olddir, const char *oldname, int newdir,
			const char *newname);
/*
 * ppoll on fds for up to timeout_ms (-1: forever), returning early when
 * SIGINT or SIGTERM set *stop: the number of ready descriptors, 0 on
 * timeout (or another signal), -2 when stopped, -1 on error.
 */
struct pollfd;
int mq_wait(struct pollfd *fds, size_t n, int timeout_ms,
	    volatile sig_atomic_t *stop);
/*
 * Arms a one-shot SIGALRM ms from now (0 disarms it) whose only effect is
 * to interrupt a blocking system call (EINTR, or a short count): its
 * handler is installed without SA_RESTART.  mq_alarm_fired says whether
 * it went off since it was last armed.  One timer per process: callers
 * arm it around one call and disarm it after.
 */
void mq_alarm(int64_t ms);
bool mq_alarm_fired(void);
/*
 * Progress of work that reads or copies many bytes (verify, repair,
 * export, import, archives): the library calls mq_progress with the bytes
 * it just read or copied, a few times a megabyte, and mq_progress calls
 * the function set with mq_progress_setup (NULL, the default: nothing).
 * Front ends set it to draw a progress line; it must not call back into
 * the library.
 */
typedef void (*mq_progress_fn)(uint64_t bytes);
void mq_progress_setup(mq_progress_fn fn);
void mq_progress(uint64_t bytes);
/* Current wall-clock time in milliseconds since the epoch. */
int64_t mq_now_ms(void);
/* Monotonic clock in milliseconds, for timeouts. */
int64_t mq_mono_ms(void);
/*
 * Writes a whole small file under DIRFD atomically: NAME.tmp.PID is
 * created, written, synced and renamed over NAME, then the directory is
 * synced.  Nothing is left behind on failure.
 */
int mq_file_replace(int dirfd, const char *name, const void *data, size_t n,
		    struct mq_err *e);
/*
 * Opening inside the spool.  Names are relative to an open directory;
 * a symbolic link is never followed (ELOOP), a file with another hard link
 * (EMLINK) or that is not a regular file (EFTYPE_MQ) is refused, so a link
 * planted in the spool cannot make a command read, write or truncate a
 * file outside it.  O_CLOEXEC and O_NOFOLLOW are added to flags.  With
 * O_CREAT a file that this call creates gets the spool's file mode (see
 * mq_io_set_shared); an existing one is opened as is.  With O_EXCL as
 * well, a leftover regular file of that name (a temporary file of a
 * killed process) is removed first; anything else there is refused.
 */
#define EFTYPE_MQ EBADFD
int mq_openat(int dirfd, const char *name, int flags);
/* Creates a new file (O_CREAT|O_EXCL added: EEXIST if the name is taken,
 * whatever is there) with the spool's file mode. */
int mq_createat(int dirfd, const char *name, int flags);
/*
 * The names in directory dirfd (but . and ..) that keep accepts (all with
 * keep NULL; type is the dirent's d_type, DT_UNKNOWN on some file
 * systems), sorted; free with mq_names_free.  -1 with errno when the
 * directory cannot be read or memory runs out.
 */
int mq_dir_names(int dirfd, bool (*keep)(int dirfd, const char *name,
					 unsigned char type, void *arg),
		 void *arg, char ***out, size_t *n);
/* Opens a directory under dirfd, never following a link. */
int mq_opendirat(int dirfd, const char *name);
/* mkdirat with the spool's directory mode; EEXIST as mkdirat gives it. */
int mq_mkdirat(int dirfd, const char *name);
/*
 * A shared spool (its directory is setgid; mq-topic init --group makes
 * one): everything created in it is made group-writable and closed to
 * others with fchmod (files 0660, directories 02770), whatever the umask.
 */
void mq_io_set_shared(bool shared);
bool mq_io_shared(void);
/* Removes name under dfd, a file or a whole tree, never following links. */
int mq_rmtree(int dfd, const char *name);
/* Reads a whole small file (at most max bytes) into a NUL-terminated buffer. */
int mq_file_read(int dirfd, const char *name, size_t max, char **out,
		 size_t *len, struct mq_err *e);

/* ---- failpoint.c: crash and fault injection for tests ---- */

/* Dies of SIGKILL here if MQ_FAILPOINT names this point (NAME[:N]). */
void mq_failpoint(const char *name);
/* Is MQ_FAULT (and MQ_FAILPOINT) well formed?  EINVAL naming it if not. */
int mq_fault_check(struct mq_err *e);
/*
 * The calls that change stored data, through which MQ_FAULT can make the
 * N-th one fail with EIO or ENOSPC or kill the process (failpoint.c).
 * Every write to a spool file goes through these; output to pipes and
 * terminals does not.
 */
ssize_t mq_sys_write(int fd, const void *buf, size_t n);
ssize_t mq_sys_pwrite(int fd, const void *buf, size_t n, off_t off);
int mq_fdatasync(int fd);
int mq_fsync(int fd);
int mq_fsync_dir(int dirfd);
int mq_renameat(int olddir, const char *oldname, int newdir,
		const char *newname);
int mq_ftruncate(int fd, off_t len);

/* ---- lock.c: waiting for a flock, at most the lock timeout ---- */
#define MQ_LOCK_TIMEOUT_DEFAULT 60000
/* The timeout (ms; 0: do not wait) and a flag that ends a wait early. */
void mq_lock_setup(int64_t timeout_ms, volatile sig_atomic_t *stop);
int64_t mq_lock_timeout(void);
/*
 * flock(fd, op) (LOCK_EX or LOCK_SH), waiting at most the timeout; fmt and
 * what follows name the lock in messages ("'%s'", path), formatted only
 * for one.  ETIMEDOUT: still held by another process; EINTR: the stop
 * flag was set.
 */
int mq_flock_wait(int fd, int op, struct mq_err *e, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* ---- parse.c: strict parsing of numbers, sizes, durations, times ---- */

/* Decimal integer in [min, max]; no sign for u64, no spaces, no junk. */
int mq_parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out);
int mq_parse_i64(const char *s, int64_t min, int64_t max, int64_t *out);
/*
 * A size in bytes: digits with an optional unit: k, K, KiB (1024), KB
 * (1000), M, MiB, MB, G, GiB, GB, T, TiB, TB.  "-1" allowed if allow_neg.
 */
int mq_parse_size(const char *s, bool allow_neg, int64_t *out,
		  struct mq_err *e);
/* A duration in milliseconds: digits with ms, s, m, min, h, d or w. */
int mq_parse_duration(const char *s, bool allow_neg, int64_t *out,
		      struct mq_err *e);
/*
 * An ISO-8601 duration in milliseconds, as Java's Duration.parse (and so
 * Kafka) reads it: [+-]P[nD][T[nH][nM][n[.f]S]]; negative totals refused.
 */
int mq_parse_iso_duration(const char *s, int64_t *out, struct mq_err *e);
/*
 * A point in time in epoch milliseconds: all digits (epoch ms), or
 * ISO-8601 "YYYY-MM-DD[(T| )hh:mm[:ss[.fff]]][Z|(+|-)hh[:]mm]"; without a
 * zone the time is local.
 */
int mq_parse_time(const char *s, int64_t *out, struct mq_err *e);
/* Formats epoch milliseconds as ISO-8601 UTC with milliseconds. */
void mq_time_format(int64_t ms, char *buf, size_t n);
/*
 * A delimiter with escapes \n \t \r \0 \\ \xNN; returns a malloc'd byte
 * string (may contain NUL) of at least one byte.
 */
int mq_parse_delim(const char *s, char **out, size_t *len, struct mq_err *e);

/* ---- config.c: topic configuration ---- */

enum mq_codec_id { MQ_CODEC_NONE = 0, MQ_CODEC_ZLIB = 1, MQ_CODEC_ZSTD = 2,
		   MQ_CODEC_LZ4 = 3, MQ_CODEC_COUNT };
enum { MQ_POLICY_DELETE = 1, MQ_POLICY_COMPACT = 2 };

#define MQ_MAX_PARTITIONS 100000

struct mq_config {
	int64_t partitions;
	int64_t segment_bytes;
	int64_t segment_ms;
	int64_t retention_ms;        /* -1: forever */
	int64_t retention_bytes;     /* -1: unbounded */
	int64_t cleanup_policy;      /* MQ_POLICY_ bits */
	int64_t compression;         /* enum mq_codec_id */
	int64_t max_message_bytes;
	int64_t min_compaction_lag_ms;
	int64_t delete_retention_ms;
	int64_t timestamp_before_max_ms;  /* message.timestamp.before.max.ms */
	int64_t timestamp_after_max_ms;   /* message.timestamp.after.max.ms */
};

void mq_config_defaults(struct mq_config *c);
/* Validates and sets one key; EINVAL names the key and what is wrong. */
int mq_config_set(struct mq_config *c, const char *key, const char *value,
		  struct mq_err *e);
/* The same for a "key=value" argument. */
int mq_config_set_kv(struct mq_config *c, const char *kv, struct mq_err *e);
/* Number of keys, and the i-th key with its value formatted into buf. */
size_t mq_config_count(void);
const char *mq_config_get(const struct mq_config *c, size_t i, char *buf,
			  size_t n);
/*
 * Parses a config file's len bytes of text (key=value lines, # comments).
 * EBADMSG naming the line for a bad key or value, a NUL byte or a key
 * given twice.
 */
int mq_config_parse(struct mq_config *c, const char *text, size_t len,
		    struct mq_err *e);
/* Formats all keys as key=value lines; returns a malloc'd string. */
char *mq_config_format(const struct mq_config *c);
const char *mq_codec_name(int codec);
int mq_codec_lookup(const char *name);
/*
 * Does the topic take a message with timestamp ts at time now (epoch ms)?
 * 0 if ts is at most message.timestamp.before.max.ms before now and at
 * most message.timestamp.after.max.ms after it (Kafka's rule, KIP-937);
 * else -1 with EINVAL and a message naming the timestamp, the key and its
 * limit.  Any int64 values are safe (no overflow).
 */
int mq_ts_check(const struct mq_config *c, int64_t ts, int64_t now,
		struct mq_err *e);
/*
 * now + message.timestamp.after.max.ms, saturated at INT64_MAX: the latest
 * timestamp the topic takes now.  A stored timestamp later than this (kept
 * from before the limit, or planted) is not trusted for rolling and
 * retention (partition.c, compact.c).
 */
int64_t mq_ts_horizon(const struct mq_config *c, int64_t now);

/* ---- spool.c: the spool directory and topic names ---- */

struct mq_spool {
	int fd;       /* the spool directory */
	char *path;
};

/*
 * The spool path: dir if given, else $MQ_SPOOL, else $HOME/.mq.  Returns a
 * malloc'd string.
 */
char *mq_spool_path(const char *dir, struct mq_err *e);
/*
 * Opens the spool.  With create, makes the directory (not its parents) and
 * its +format marker if they are missing; without, a directory that does
 * not exist is ENOENT, and an empty one is an empty spool (not marked).
 * A non-empty directory without a marker, or with a marker of another
 * format, is refused.
 */
int mq_spool_open(struct mq_spool *sp, const char *path, bool create,
		  struct mq_err *e);
void mq_spool_close(struct mq_spool *sp);
/*
 * share.c: makes the spool shared by group gid ((gid_t)-1: its group as it
 * is): directories 02770, files 0660, all of that group; see share.c.
 */
int mq_spool_share(struct mq_spool *sp, gid_t gid, struct mq_err *e);
/* Kafka's rule: [A-Za-z0-9._-], 1 to 249 characters, not "." or "..". */
#define MQ_NAME_MAX 249
int mq_topic_name_check(const char *name, struct mq_err *e);
/* Sorted names of the spool's topics; free with mq_names_free. */
int mq_spool_topics(struct mq_spool *sp, char ***names, size_t *n,
		    struct mq_err *e);
void mq_names_free(char **names, size_t n);

/* ---- topic.c: create, open, alter and delete topics ---- */

struct mq_topic {
	struct mq_spool *sp;
	char *name;
	int fd;                  /* the topic directory */
	struct mq_config cfg;
};

int mq_topic_create(struct mq_spool *sp, const char *name,
		    const struct mq_config *cfg, struct mq_err *e);
/* Opens an existing topic; ENOENT if there is none. */
int mq_topic_open(struct mq_topic *t, struct mq_spool *sp, const char *name,
		  struct mq_err *e);
void mq_topic_close(struct mq_topic *t);
/* Re-reads the config (partitions may have grown). */
int mq_topic_reload(struct mq_topic *t, struct mq_err *e);
/*
 * Replaces the topic's config with cfg.  Partitions and max.message.bytes
 * can only grow; new partitions exist before the config names them.
 */
int mq_topic_alter(struct mq_topic *t, const struct mq_config *cfg,
		   struct mq_err *e);
/*
 * Makes the topic invisible at once (rename), marks each partition's head
 * deleted under its lock (waiting for a writer's append to finish, at most
 * the lock timeout: then ETIMEDOUT and the files stay, under a hidden
 * name), so no writer appends to it or acknowledges what it appended,
 * then removes its files.
 */
int mq_topic_delete(struct mq_spool *sp, const char *name, struct mq_err *e);
/* Opens partition p's directory; the caller closes it. */
int mq_topic_partition_dir(struct mq_topic *t, uint32_t p, struct mq_err *e);
/* "SPOOL/TOPIC/P" for messages and inotify; a malloc'd string. */
char *mq_topic_partition_path(const struct mq_topic *t, uint32_t p);

/* mq_partition_bounds of partition p (its directory pdir) of t. */
int mq_topic_bounds(struct mq_topic *t, uint32_t p, int pdir, uint64_t *start,
		    uint64_t *end, struct mq_err *e);
/* What mq-topic describe shows of one partition. */
struct mq_pinfo {
	uint64_t start;          /* first offset still stored */
	uint64_t end;            /* offset the next message will get */
	uint64_t segments;
	uint64_t bytes;          /* segment bytes, indexes excluded */
	uint64_t recovered_bytes;/* torn-tail bytes truncated, ever */
	uint64_t recoveries;
	int64_t last_recovery_ms;
};
/*
 * Fills *pi.  EBADMSG when the log is damaged where its start or end
 * lies (mq-topic verify tells more): the other fields are filled then.
 */
int mq_partition_info(struct mq_topic *t, uint32_t p, struct mq_pinfo *pi,
		      struct mq_err *e);

/* ---- group.c: consumer groups without a coordinator ---- */

/* Group names follow the topic name rule. */
int mq_group_name_check(const char *name, struct mq_err *e);
/*
 * Opens TOPIC/groups/GROUP (creating it, and members/, with create);
 * ENOENT when the group has nothing on the topic.  The caller closes it.
 */
int mq_group_dir(struct mq_topic *t, const char *group, bool create,
		 struct mq_err *e);

/* A committed position: the next offset to consume, and its reset epoch. */
struct mq_gpos {
	uint64_t offset;
	uint64_t epoch;
	bool exists;
};
/* Parses an offset file's text; -1 if it is not "N\n[epoch E\n]". */
int mq_group_parse(const char *text, struct mq_gpos *pos);
/*
 * Reads partition p's committed position (exists false when there is
 * none); a damaged file is EBADMSG naming it (where: its directory, for
 * messages).
 */
int mq_group_read(int gdir, const char *where, uint32_t p,
		  struct mq_gpos *pos, struct mq_err *e);
/*
 * Takes the group's commit lock; close the returned fd to release it.
 * where is the group directory's path, topic and group name the group in
 * a timeout message (NULL: "the group").
 */
int mq_group_lock(int gdir, const char *where, const char *topic,
		  const char *group, struct mq_err *e);
/*
 * Replaces the offset files of parts with pos (call under the lock): all
 * are written and synced under temporary names, renamed, and the directory
 * synced once.  Temporary files that writers killed midway left are
 * removed first.
 */
int mq_group_write(int gdir, const char *where, const uint32_t *parts,
		   const struct mq_gpos *pos, size_t n, struct mq_err *e);
/* Is partition p owned by a live member (and by whom)? */
int mq_group_owner(int gdir, uint32_t p, char *owner, size_t n,
		   bool *owned);
/* Live members of the group on this topic. */
int mq_group_members(int gdir, uint32_t *count);

/* One live member of a group on one topic. */
struct mq_member {
	int gdir, mdir;
	int fd;                  /* members/ID, flocked for our whole life */
	char id[80];
	const char *where;       /* the group directory's path, for messages */
};
/* Joins; where (kept, not copied) is the group directory's path. */
int mq_member_join(struct mq_member *m, int gdir, const char *where,
		   struct mq_err *e);
/* Counts live members (this one included), removing dead members' files. */
int mq_member_live(struct mq_member *m, uint32_t *count, struct mq_err *e);
void mq_member_leave(struct mq_member *m);
/*
 * Takes ownership of partition p without waiting: the fd of its flocked
 * P.own (close it to give the partition back), or -1 with EWOULDBLOCK when
 * another member owns it.
 */
int mq_member_claim(struct mq_member *m, uint32_t p, struct mq_err *e);

/* ---- gadmin.c: what mq-group does ---- */

/* One partition of a group on a topic. */
struct mq_gpart {
	uint32_t partition;
	struct mq_gpos committed;
	uint64_t start, end;     /* the partition's log */
	uint64_t lag;            /* end - committed, or end - start without a
				    commit inside the log */
	bool below_start;        /* committed below start: retention removed
				    messages the group never read */
	bool owned;              /* a live member owns it */
	char owner[80];
};
/* The group's rows on a topic; ENOENT when it has nothing there. */
int mq_group_state(struct mq_topic *t, const char *group,
		   struct mq_gpart **rows, size_t *n, uint32_t *members,
		   struct mq_err *e);
/* A group's lag over one topic or all of its topics, as mq-group lag. */
struct mq_glag {
	uint64_t lag;            /* the sum of the partitions' lag */
	size_t partitions, topics;
	size_t below_start;      /* partitions committed below the start */
};
/*
 * Sums the lag of a group over topic, or when topic is NULL over every
 * topic it has state on; ENOENT when it has nothing there.
 */
int mq_group_lag(struct mq_spool *sp, const char *group, const char *topic,
		 struct mq_glag *l, struct mq_err *e);
/* Sorted names of the spool's groups. */
int mq_spool_groups(struct mq_spool *sp, char ***names, size_t *n,
		    struct mq_err *e);
/* Sorted topics where a group has state; ENOENT when it has none. */
int mq_group_topics(struct mq_spool *sp, const char *group, char ***names,
		    size_t *n, struct mq_err *e);
/*
 * Removes a group from the nonly topics named in only (each must hold it:
 * ENOENT), or when only is NULL from every topic; EBUSY, and nothing
 * removed, if it has live members on any of them.
 */
int mq_group_delete(struct mq_spool *sp, const char *group, char *const *only,
		    size_t nonly, struct mq_err *e);

enum { MQ_TO_EARLIEST, MQ_TO_LATEST, MQ_TO_OFFSET, MQ_TO_TIME, MQ_SHIFT };
struct mq_reset_row;
struct mq_reset {
	int how;                 /* MQ_TO_..., MQ_SHIFT */
	int64_t arg;             /* offset, time (ms) or shift */
	const uint32_t *parts;   /* NULL: all partitions */
	size_t nparts;
	bool dry_run;            /* plan (and show) only, write nothing */
	/* Called with the plan before anything is written (NULL: none);
	 * -1 (e set) stops the reset with nothing written. */
	int (*show)(void *show_arg, const struct mq_reset_row *rows,
		    size_t n, struct mq_err *e);
	void *show_arg;
};
struct mq_reset_row {
	uint32_t partition;
	struct mq_gpos old;      /* exists false: none, or damaged */
	bool damaged;            /* the old offset file was damaged */
	uint64_t start, end;     /* the partition's log when planned */
	int64_t asked;           /* the offset asked for, maybe outside it */
	bool clamped;            /* asked was outside [start, end]: new_offset
				    is the nearer end */
	uint64_t new_offset;
};
/*
 * Moves the group's committed offsets on a topic: plans the new offset of
 * each partition (--to-offset and --shift-by outside the log are clamped
 * to its nearer end, marked in the row), calls how->show with the plan,
 * then, unless dry_run, writes them all at once under the group's lock
 * (creating the group on the topic), bumping each epoch so running
 * members follow.  A damaged offset file is replaced (marked in the row),
 * except by MQ_SHIFT, which fails with EBADMSG.  On failure nothing is
 * written, except when renaming the files into place fails midway.
 */
int mq_group_reset(struct mq_topic *t, const char *group,
		   const struct mq_reset *how, struct mq_reset_row **rows,
		   size_t *n, struct mq_err *e);

/* ---- archive.c: tar archives through libarchive ---- */

struct mq_archive;
/*
 * Starts DIR/NAME.SUFFIX, written as DIR/NAME.SUFFIX.tmp.PID until
 * mq_archive_close; SUFFIX is .tar, .tar.gz or .tar.zst (the filter
 * follows it).  EINVAL for another suffix.
 */
int mq_archive_create(struct mq_archive **a, const char *dir,
		      const char *name, const char *suffix, struct mq_err *e);
/* Adds the file name under dirfd (never following links) as entry. */
int mq_archive_add_file(struct mq_archive *a, int dirfd, const char *name,
			const char *entry, struct mq_err *e);
/* Adds the first len bytes of an open file as entry. */
int mq_archive_add_fd(struct mq_archive *a, int fd, uint64_t len,
		      const char *entry, struct mq_err *e);
/* Starts an uncompressed tar archive written to an open fd (what: its
 * name in messages); close does not sync or rename it. */
int mq_archive_open_fd(struct mq_archive **a, int fd, const char *what,
		       struct mq_err *e);
/*
 * Finishes, syncs and renames the archive into place, syncs DIR.  The
 * handle is freed whether it succeeds or not.
 */
int mq_archive_close(struct mq_archive *a, struct mq_err *e);
/* Throws away an unfinished archive (its temporary file too). */
void mq_archive_abort(struct mq_archive *a);
/* The archive's final path (valid until close or abort). */
const char *mq_archive_path(const struct mq_archive *a);

/* ---- export.c: a topic as a tar archive ---- */

/*
 * Writes a consistent snapshot of topic t as a tar archive: its config,
 * every segment up to what was written when the snapshot was taken (with
 * their indexes) and its groups' committed offsets.  Producers go on
 * meanwhile.  Written to path (compression by its suffix .tar, .tar.gz,
 * .tar.zst) or, when path is NULL, uncompressed to fd.
 */
int mq_topic_export(struct mq_topic *t, int fd, const char *path,
		    struct mq_err *e);
/*
 * Recreates an exported topic in sp from the archive at path (standard
 * input when path is NULL), named as (or as in the archive when as is
 * NULL; the name used goes to name, 256 bytes).  Every batch of
 * every segment is verified before the topic appears (atomically, like
 * mq_topic_create); EEXIST if a topic of that name exists.
 */
int mq_topic_import(struct mq_spool *sp, const char *path, const char *as,
		    char *name, struct mq_err *e);

/* ---- hash.c: key partitioners ---- */

enum mq_partitioner { MQ_PART_XXH3 = 0, MQ_PART_MURMUR2 = 1 };
/* Kafka's Utils.murmur2 (seed 0x9747b28c), as a signed 32-bit value. */
int32_t mq_murmur2(const void *key, size_t len);
/* The partition a key goes to. */
uint32_t mq_partition_for_key(int partitioner, const void *key, size_t len,
			      uint32_t partitions);

/* ---- record.c / batch.c: the batch and record formats (mq-spool(5)) ---- */

/*
 * Offsets are Kafka's, signed 64-bit: every message's offset is below
 * MQ_OFFSET_MAX, so a partition's end (the offset after its last message)
 * is at most MQ_OFFSET_MAX and no offset sum wraps or turns negative.  A
 * segment's base offset is below it too (segment.c), a batch's offsets
 * (batch.c), and an append that would pass it is refused (partition.c).
 */
#define MQ_OFFSET_MAX ((uint64_t)INT64_MAX)
#define MQ_BATCH_HDR 56
#define MQ_BATCH_MAGIC 0x0142514dU   /* "MQB\x01" little-endian */
/* Batch flag: record i has offset base_offset + i (no offset deltas). */
#define MQ_BATCH_DENSE 0x01

struct mq_batch_hdr {
	uint32_t length;       /* whole batch, header included */
	uint64_t checksum;
	uint64_t base_offset;
	uint32_t last_delta;   /* last offset - base_offset */
	uint32_t count;        /* records present */
	int64_t base_ts;
	int64_t max_ts;
	uint32_t raw_len;      /* record bytes before compression */
	uint8_t codec;
	uint8_t flags;
};

/* A header (name, value) pair of a record; value NULL with vlen -1 is null. */
struct mq_header {
	const char *name;
	size_t nlen;
	const char *value;
	ssize_t vlen;
};

/* A decoded record; pointers are into the reader's buffers. */
struct mq_record {
	uint64_t offset;
	int64_t ts;
	const unsigned char *key;     /* NULL: null key */
	size_t klen;
	const unsigned char *value;   /* NULL: null value (tombstone) */
	size_t vlen;
	const unsigned char *headers; /* encoded headers, see mq_header_next */
	size_t hlen;
	uint32_t nheaders;
};

/* Decodes the fixed header; -1 unless the magic and the fields are sane. */
int mq_batch_hdr_decode(const unsigned char *p, uint64_t limit,
			struct mq_batch_hdr *h);
/* The checksum a batch should carry (over bytes 16..length). */
uint64_t mq_batch_checksum(const unsigned char *batch, size_t len);
/* The next record of a decoded payload; 1 at the end, -1 if malformed. */
struct mq_rec_iter {
	const unsigned char *p, *end;
	uint64_t base;
	int64_t base_ts;
	uint32_t left;
	uint64_t last_offset;   /* highest offset the batch may hold */
	uint64_t min_off;       /* lowest offset the next record may have */
	bool dense;             /* offsets are base + i, not stored */
};
void mq_rec_iter_init(struct mq_rec_iter *it, const struct mq_batch_hdr *h,
		      const unsigned char *payload, size_t len);
static inline int mq_rec_iter_next(struct mq_rec_iter *it,
				   struct mq_record *r);
int mq_rec_check_headers(const unsigned char *p, const unsigned char *end,
			 uint64_t n);
/* Walks a record's headers; 1 at the end, -1 if malformed. */
int mq_header_next(const unsigned char **p, const unsigned char *end,
		   struct mq_header *h);

/*
 * A batch under construction: records are encoded after a reserved header.
 * mq_bb_seal() compresses (when asked and when it helps) and hashes the
 * payload; mq_bb_stamp() sets the base offset and checksum under the lock.
 */
struct mq_codec;
struct mq_bb {
	unsigned char *buf;      /* MQ_BATCH_HDR + records */
	size_t len, cap;
	uint32_t count;
	int64_t base_ts, max_ts;
	/* after seal: */
	unsigned char *out;      /* points at buf or at zbuf */
	size_t outlen;
	unsigned char *zbuf;
	size_t zcap;
	uint64_t payload_hash;
	/* sparse batches (compaction): records keep their own offsets */
	bool sparse;
	uint64_t first_offset, last_offset;
	uint64_t pending_delta;  /* the offset delta of the record being added */
};
void mq_bb_init(struct mq_bb *b);
void mq_bb_free(struct mq_bb *b);
void mq_bb_reset(struct mq_bb *b);
/*
 * Bytes a record would take if added to b now, framing included.  On an
 * empty batch this is the record's size as checked against
 * max.message.bytes.
 */
size_t mq_bb_record_size(const struct mq_bb *b, int64_t ts, size_t klen,
			 size_t vlen, size_t hlen, uint32_t nheaders);
/*
 * Appends a record.  hdrs/hlen/nheaders are pre-encoded headers (see
 * mq_headers_encode).  key NULL = null key, value NULL = null value.
 */
int mq_bb_add(struct mq_bb *b, int64_t ts, const void *key, size_t klen,
	      const void *value, size_t vlen, const unsigned char *hdrs,
	      size_t hlen, uint32_t nheaders);
/*
 * Appends a record if it fits: returns 0 when added (*size: its bytes), 1
 * when the batch is not empty and the record would take its records past
 * limit (append the batch and try again), -1 with EMSGSIZE when the
 * record alone is larger than max (*size: that size), -1 with ENOMEM.
 */
int mq_bb_try_add(struct mq_bb *b, size_t limit, size_t max, int64_t ts,
		  const void *key, size_t klen, const void *value, size_t vlen,
		  const unsigned char *hdrs, size_t hlen, uint32_t nheaders,
		  size_t *size);
/*
 * Appends a record with its own offset to a sparse batch (mq_bb_init then
 * set sparse): offsets must rise; the batch's base offset is the first
 * record's, and mq_bb_seal writes it without the dense flag.  Stamp it
 * with b->first_offset.
 */
int mq_bb_add_at(struct mq_bb *b, uint64_t offset, int64_t ts,
		 const void *key, size_t klen, const void *value, size_t vlen,
		 const unsigned char *hdrs, size_t hlen, uint32_t nheaders);
/* Encodes headers once for many records; malloc'd result. */
int mq_headers_encode(const struct mq_header *h, size_t n,
		      unsigned char **out, size_t *len);
int mq_bb_seal(struct mq_bb *b, int codec, struct mq_codec *cz,
	       struct mq_err *e);
void mq_bb_stamp(struct mq_bb *b, uint64_t base_offset);

/* ---- codec.c: batch compression ---- */

struct mq_codec *mq_codec_new(void);
void mq_codec_free(struct mq_codec *c);
/*
 * Compresses in into out (cap bytes); returns 0 and *outlen, or 1 when the
 * result would not be smaller than the input (store it raw instead).
 */
int mq_codec_compress(struct mq_codec *c, int codec, const void *in,
		      size_t n, void *out, size_t cap, size_t *outlen,
		      struct mq_err *e);
/* Decompresses exactly raw_len bytes; anything else is EBADMSG. */
int mq_codec_decompress(struct mq_codec *c, int codec, const void *in,
			size_t n, void *out, size_t raw_len, struct mq_err *e);

/* ---- segment.c: segment files and their indexes ---- */

#define MQ_INDEX_INTERVAL 4096
#define MQ_SEGNAME_MAX 32

void mq_seg_name(char *buf, uint64_t base, const char *ext);
/*
 * Sorted base offsets of the partition's segments (where: its path, for
 * messages).  A segment named by an offset that is not below MQ_OFFSET_MAX
 * is corruption (EBADMSG naming it), never a segment.
 */
int mq_seg_list(int pdir, const char *where, uint64_t **bases, size_t *n,
		struct mq_err *e);

struct mq_idx_entry { uint32_t rel, pos; };
struct mq_tix_entry { int64_t ts; uint32_t rel, pos; };
#define MQ_IDX_SIZE 8
#define MQ_TIX_SIZE 16
void mq_idx_encode(unsigned char *p, const struct mq_idx_entry *x);
void mq_tix_encode(unsigned char *p, const struct mq_tix_entry *x);
/* Index lookups over an open index file; 1 when no entry qualifies. */
int mq_idx_lookup(int fd, uint32_t rel, struct mq_idx_entry *out);
int mq_tix_lookup(int fd, int64_t ts, struct mq_tix_entry *out);
int mq_idx_read(int fd, uint64_t i, struct mq_idx_entry *out);
int mq_tix_read(int fd, uint64_t i, struct mq_tix_entry *out);

/*
 * Walks the valid batches of a segment from pos (a batch boundary) to the
 * first invalid or incomplete one.  Fills the end of the valid part, the
 * next offset after it and the largest timestamp seen.  The caller provides
 * a scratch buffer pointer it frees later.
 */
struct mq_scan {
	uint64_t end_pos;
	uint64_t next_offset;
	int64_t max_ts;
	uint64_t batches;
	uint64_t last_pos;       /* position of the last valid batch */
	bool stopped_invalid;    /* stopped at bytes that are not a batch */
};
int mq_seg_scan(int fd, uint64_t base, uint64_t pos, uint64_t limit,
		unsigned char **scratch, size_t *scratch_cap,
		struct mq_scan *s, struct mq_err *e);

/* 1 if the bytes of fd from pos to size are all zeros, 0 if not, -1. */
int mq_seg_zeros_from(int fd, uint64_t pos, uint64_t size);
/*
 * The torn-tail rule (mq-spool(5)): were the bytes at pos of the newest
 * segment (fd, base) written by a completed append?  Only if the head h
 * (NULL: none valid) names this segment, pos is before its end_pos, the
 * file still holds all of that, and what follows pos is not all zeros.
 * Anything else is an unfinished or crashed write.  1, 0, or -1 when
 * the file cannot be read.
 */
struct mq_head;
int mq_seg_committed(int fd, uint64_t base, uint64_t pos,
		     const struct mq_head *h);
/*
 * The largest timestamp in a segment: its last time index entry, then a
 * walk over the batch headers after it (from the start if the index is
 * stale).  INT64_MIN for an empty segment.
 */
int mq_seg_max_ts(int pdir, uint64_t base, uint64_t limit, int64_t *max_ts,
		  struct mq_err *e);

/*
 * Finishes what an interrupted mq-compact left in a partition directory
 * (a BASE.log.swap is complete: its .swap files replace the originals)
 * and removes the rest (.cleaned, .cleaning and other .swap files, index
 * files without their log).  Call holding P/clean; the _if_idle form takes
 * it without waiting and does nothing if a compaction is running.
 */
int mq_compact_recover(int pdir, const char *where, struct mq_err *e);
int mq_compact_recover_if_idle(int pdir, const char *where,
			       struct mq_err *e);

/* ---- head.c: the partition head state kept in P/lock ---- */

/*
 * The head is a hint kept by writers under the partition lock: where the
 * active segment ends and what offset comes next.  Readers use it to tell
 * an unfinished tail from corruption.  Every field is checked against the
 * log before it is trusted; an invalid head is rebuilt from the log.
 */
struct mq_head {
	uint64_t gen;             /* bumped before each segment roll */
	uint64_t seg_base;        /* the active segment */
	uint64_t end_pos;         /* its size after the last complete append */
	uint64_t next_offset;
	uint64_t idx_pos;         /* position of its last index entry */
	int64_t first_ts;         /* base timestamp of its first batch */
	int64_t max_ts;           /* largest timestamp in it */
	uint64_t recovered_bytes; /* torn-tail bytes truncated, ever */
	uint64_t recoveries;
	int64_t last_recovery_ms;
	uint64_t idx_count;       /* entries in its .idx and .tix */
	uint64_t flags;           /* MQ_HEAD_ bits */
};
#define MQ_HEAD_SIZE 128
/*
 * A sync of the active segment failed: what it held may never reach the
 * disk, so nothing more is appended to it and it is not synced again; the
 * next append rolls to a new segment first.
 */
#define MQ_HEAD_ROLL 1
/*
 * The topic is being deleted (mq_topic_delete sets it under each
 * partition's lock before removing the files): writers refuse to append,
 * and a writer that synced after it acknowledges nothing.
 */
#define MQ_HEAD_DELETED 2
/* 0 and *h on a valid head, 1 when there is none or it fails its check. */
int mq_head_read(int lockfd, struct mq_head *h);
int mq_head_write(int lockfd, const struct mq_head *h);

/* ---- partition.c: the append path ---- */

enum mq_sync { MQ_SYNC_EXIT = 0, MQ_SYNC_BATCH = 1, MQ_SYNC_NONE = 2 };

struct mq_pwriter {
	int pdir, lockfd, segfd, idxfd, tixfd;
	uint32_t partition;
	const struct mq_config *cfg;
	int sync;
	bool recovered;      /* this process has validated the tail */
	bool dirty;          /* written since the last sync */
	bool poisoned;       /* a sync failed: never sync it again */
	uint64_t wb_base, wb_pos; /* writeback started up to wb_pos (exit) */
	struct mq_head head; /* as last written by us */
	char *path;          /* SPOOL/TOPIC/P, for messages */
	unsigned char *scratch;
	size_t scratch_cap;
	uint64_t lock_wait_ns;
};
int mq_pwriter_open(struct mq_pwriter *w, struct mq_topic *t, uint32_t p,
		    int sync, struct mq_err *e);
/*
 * Appends a sealed batch under the partition lock: recovers a torn tail,
 * rolls the segment when due, stamps the base offset, writes the batch in
 * one write, updates the indexes and the head, syncs per policy.  On
 * failure nothing of the batch stays in the log.  *base gets its offset.
 */
int mq_pwriter_append(struct mq_pwriter *w, struct mq_bb *b, uint64_t *base,
		      struct mq_err *e);
/* Syncs what this writer wrote (for MQ_SYNC_EXIT at the end). */
int mq_pwriter_sync(struct mq_pwriter *w, struct mq_err *e);
/* Starts writing back what mq_pwriter_sync would sync, without waiting:
 * before syncing many partitions, so their writes overlap. */
void mq_pwriter_writeback(struct mq_pwriter *w);
void mq_pwriter_close(struct mq_pwriter *w);

/* ---- reader.c: reading a partition by offset or time ---- */

struct mq_preader {
	int pdir;
	int lockfd;              /* for the head; -1 until needed */
	uint32_t partition;
	uint64_t limit;          /* max.message.bytes */
	char *path;              /* SPOOL/TOPIC/P */
	int segfd;
	uint64_t seg_base;
	uint64_t pos;            /* file position of the next batch */
	uint64_t batch_pos;      /* position of the current batch */
	uint64_t expect;         /* lowest base offset the next batch may have */
	uint64_t next;           /* first offset still to deliver */
	int64_t min_ts;          /* deliver from the first record >= this */
	bool have_min_ts;
	unsigned char *buf;      /* file bytes [bstart, bstart + blen) */
	size_t cap, blen;
	size_t chunk;            /* least bytes to read at a time */
	uint64_t bstart;
	unsigned char *raw;      /* decompressed payload */
	size_t rawcap;
	struct mq_codec *codec;
	struct mq_rec_iter it;   /* records of the current batch */
	bool in_batch;
};
int mq_preader_open(struct mq_preader *r, struct mq_topic *t, uint32_t p,
		    struct mq_err *e);
void mq_preader_close(struct mq_preader *r);
/* Frees the read buffers between batches (they come back when needed). */
void mq_preader_trim(struct mq_preader *r);
/* Where to start: */
enum mq_whence {
	MQ_FROM_BEGINNING, MQ_FROM_END, MQ_FROM_OFFSET, MQ_FROM_TAIL,
	MQ_FROM_TIME
};
/*
 * Positions the reader: at the first stored offset, at the end, at offset
 * arg (the next one stored, when arg itself is gone), arg messages before
 * the end, or at the first message whose timestamp is >= arg.
 */
int mq_preader_seek(struct mq_preader *r, int whence, int64_t arg,
		    struct mq_err *e);
/*
 * The next record.  Returns 0 with *rec, 1 at the current end of the log,
 * -1 on error (EBADMSG names the file and byte position).  rec's pointers
 * stay valid until the next call.
 */
static inline int mq_preader_next(struct mq_preader *r,
				  struct mq_record *rec, struct mq_err *e);
int mq_preader_next_slow(struct mq_preader *r, struct mq_record *rec,
			 struct mq_err *e);
/*
 * Puts records back: the next record returned is the one at offset off
 * (or the next one stored), so a caller can undo having read records it
 * did not deliver.  r->next is off afterwards even when the seek that
 * may be needed fails (-1).
 */
int mq_preader_rewind(struct mq_preader *r, uint64_t off, struct mq_err *e);
/*
 * The offset of the first message at or after ts (the end if there is
 * none); leaves the reader positioned anywhere: seek it again.
 */
int mq_preader_offset_at(struct mq_preader *r, int64_t ts, uint64_t *off,
			 struct mq_err *e);
/* The offsets of the first stored message and of the end. */
/* (where: the partition's path, for messages.)  Damage where the start
 * or the end lies is EBADMSG: it never moves either. */
int mq_partition_bounds(int pdir, const char *where, uint64_t limit,
			uint64_t *start, uint64_t *end, struct mq_err *e);


/* ---- verify.c: checking and repairing a partition ---- */

/* What a note is about. */
enum {
	MQ_VK_CORRUPT,           /* a batch that is not valid */
	MQ_VK_OFFSET,            /* offsets that overlap or go back */
	MQ_VK_INDEX,             /* an index entry or file (only a hint) */
	MQ_VK_REPAIR,            /* an interrupted repair to finish */
	MQ_VK_ACTION             /* repair: something it did */
};
/* "corrupt", "offset", "index", "unfinished-repair", "action". */
const char *mq_vkind_name(int kind);
/*
 * A problem found or an action taken: the file it concerns (a name in the
 * partition directory), the byte position in that file (UINT64_MAX: none)
 * and a one-line message.  Valid during the callback only.
 */
struct mq_vnote {
	const char *file;
	uint64_t byte;
	int kind;
	const char *msg;
};
typedef void (*mq_vnote_fn)(void *arg, const struct mq_vnote *n);

struct mq_vstats {
	uint64_t segments, batches, messages;
	uint64_t bytes;          /* segment bytes read */
	uint64_t tail_bytes;     /* unfinished tail of the newest segment */
	uint64_t problems;
};
/*
 * Checks every segment of partition p and its indexes without taking a
 * lock (producers and mq-compact may run), calling fn for each problem.
 * Returns 0 with the counts in *st (problems found or not), -1 when the
 * check itself failed (an I/O error).
 */
int mq_partition_verify(struct mq_topic *t, uint32_t p, mq_vnote_fn fn,
			void *arg, struct mq_vstats *st, struct mq_err *e);

struct mq_rstats {
	uint64_t actions;
	uint64_t truncated;      /* tail bytes cut */
	uint64_t quarantined;    /* bytes of originals copied to quarantine */
	uint64_t lost_offsets;
	uint64_t indexes;        /* segments whose indexes were rebuilt */
	uint64_t split;          /* segments split around damage */
};
/*
 * Repairs partition p under P/clean and the partition lock (each waited
 * for up to 10 s, else EBUSY): finishes an interrupted repair, splits
 * segments around corrupt batches (originals copied to
 * TOPIC/quarantine/P/ first; offsets never change), cuts the newest
 * segment's tail, rebuilds damaged indexes and rewrites the head.  fn
 * gets one MQ_VK_ACTION note per thing done.  On failure the partition is
 * as before the failing step, or finished by the next repair.
 */
int mq_partition_repair(struct mq_topic *t, uint32_t p, mq_vnote_fn fn,
			void *arg, struct mq_rstats *rs, struct mq_err *e);
/*
 * (partition.c) Runs the writer's tail recovery now, as the first append
 * would: truncates a torn tail, fixes the newest segment's indexes and
 * rewrites the head.  Call holding flock(LOCK_EX) on w->lockfd.
 */
int mq_pwriter_recover(struct mq_pwriter *w, struct mq_err *e);

/* ---- inline hot paths (one call per message) ---- */

/* Returns 0, or -1 if the varint is truncated or longer than 10 bytes. */
static inline int
mq_get_uvarint(const unsigned char **pp, const unsigned char *end,
	       uint64_t *out)
{
	const unsigned char *p = *pp;
	uint64_t v = 0;
	unsigned shift = 0;

	/* Lengths and offset deltas are almost always one or two bytes. */
	if (p < end && p[0] < 0x80) {
		*out = p[0];
		*pp = p + 1;
		return 0;
	}
	if (end - p >= 2 && p[1] < 0x80) {
		*out = (uint64_t)(p[0] & 0x7f) | (uint64_t)p[1] << 7;
		*pp = p + 2;
		return 0;
	}
	while (p < end && shift < 64) {
		unsigned char b = *p++;
		v |= (uint64_t)(b & 0x7f) << shift;
		if (b < 0x80) {
			*out = v;
			*pp = p;
			return 0;
		}
		shift += 7;
	}
	return -1;
}

static inline int64_t
mq_unzigzag(uint64_t v)
{
	return (int64_t)(v >> 1) ^ -(int64_t)(v & 1);
}

/* A length-prefixed byte string: length+1, or 0 for null. */
static inline int
mq_get_bytes(const unsigned char **p, const unsigned char *end,
	     const unsigned char **out, size_t *len)
{
	uint64_t n;

	if (mq_get_uvarint(p, end, &n) < 0)
		return -1;
	if (n == 0) {
		*out = NULL;
		*len = 0;
		return 0;
	}
	n--;
	if (n > (uint64_t)(end - *p))
		return -1;
	*out = *p;
	*len = (size_t)n;
	*p += n;
	return 0;
}

static inline int
mq_rec_iter_next(struct mq_rec_iter *it, struct mq_record *r)
{
	const unsigned char *p = it->p, *end;
	uint64_t len, delta, zts, nh;

	if (it->left == 0)
		return it->p == it->end ? 1 : -1;
	if (mq_get_uvarint(&p, it->end, &len) < 0 ||
	    len > (uint64_t)(it->end - p))
		return -1;
	end = p + len;
	if (it->dense)
		delta = it->min_off - it->base;
	else if (mq_get_uvarint(&p, end, &delta) < 0 ||
		 delta > it->last_offset - it->base ||
		 it->base + delta < it->min_off)
		return -1;
	if (mq_get_uvarint(&p, end, &zts) < 0 ||
	    mq_get_bytes(&p, end, &r->key, &r->klen) < 0 ||
	    mq_get_bytes(&p, end, &r->value, &r->vlen) < 0 ||
	    mq_get_uvarint(&p, end, &nh) < 0 || nh > (uint64_t)(end - p))
		return -1;
	if (nh ? mq_rec_check_headers(p, end, nh) < 0 : p != end)
		return -1;
	r->offset = it->base + delta;
	r->ts = (int64_t)((uint64_t)it->base_ts + (uint64_t)mq_unzigzag(zts));
	r->headers = p;
	r->hlen = (size_t)(end - p);
	r->nheaders = (uint32_t)nh;
	/* Offsets rise strictly within a batch. */
	it->min_off = r->offset + 1;
	it->p = end;
	it->left--;
	return 0;
}

/*
 * The next record of a partition.  While the reader is inside a batch whose
 * records all qualify, this is one iterator step; everything else (loading
 * the next batch, skipping offsets, time filters, errors) is the slow path.
 */
static inline int
mq_preader_next(struct mq_preader *r, struct mq_record *rec,
		struct mq_err *e)
{
	if (r->in_batch && !r->have_min_ts && r->it.min_off >= r->next &&
	    mq_rec_iter_next(&r->it, rec) == 0) {
		r->next = rec->offset + 1;
		return 0;
	}
	return mq_preader_next_slow(r, rec, e);
}

#endif
