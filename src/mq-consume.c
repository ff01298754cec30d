/*
 * mq-consume - write a topic's messages to stdout, from an offset or a
 * time, to the end of the log or (-f) as they arrive; as a member of a
 * consumer group (-g); or handing each message to a command (--exec).
 */
#include <config.h>

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "mqcmd.h"

static const char usage_text[] =
"Usage: mq-consume [-d DIR] [-p N]... [-o beginning|end|N|-N|@TIME] [-c N]\n"
"                  [--until N|@TIME] [-f | -e] [-D DELIM | -0] [-K DELIM]\n"
"                  [-F FORMAT] [--null-marker STR] TOPIC...\n"
"       mq-consume -g GROUP [--no-commit] [--offset-reset POLICY]\n"
"                  [--commit-interval MS] [--commit-every N] [--acks FILE]\n"
"                  [--lock-timeout DURATION] [-v] [options] TOPIC...\n"
"       mq-consume --exec CMD [--batch N] [--retries N] [--retry-backoff MS]\n"
"                  [--dlq TOPIC] [-g GROUP] [options] TOPIC...\n"
"       mq-consume --help | --version\n"
"\n"
"  -d, --spool DIR       the spool (default $MQ_SPOOL, else ~/.mq)\n"
"  -p, --partition N     read partition N only (repeatable; with -g only\n"
"                        with --no-commit)\n"
"  -o, --offset WHERE    start at: beginning (default), end, offset N,\n"
"                        N offsets before the end (-N; as kcat, fewer than\n"
"                        N messages where compaction removed some), or the\n"
"                        first message at or after TIME (@epoch-ms or\n"
"                        @ISO-8601); with -g, only where the group has no\n"
"                        committed offset\n"
"  -c, --count N         stop after N messages\n"
"      --until N|@TIME   stop each partition before offset N or before\n"
"                        the first message at or after TIME\n"
"  -f, --follow          wait for new messages, like tail -f\n"
"  -e, --exit            exit at the end of the log (the default; kcat's -e)\n"
"  -D, --delimiter DELIM written after each message (default \\n)\n"
"  -0                    messages end with NUL (-D '\\0')\n"
"  -K, --key-delimiter DELIM  print the key and DELIM before the value\n"
"  -F, --format FORMAT   kcat format: %s value, %k key, %t topic,\n"
"                        %p partition, %o offset, %T timestamp (ms),\n"
"                        %h headers, %S value size, %K key size, %%;\n"
"                        escapes \\n \\t \\r \\0 \\\\ \\xNN\n"
"      --null-marker STR print STR for a null key or value (default: "
"nothing)\n"
"  -g, --group GROUP     share the topics' partitions with the group's other\n"
"                        members and resume from its committed offsets\n"
"      --no-commit       start at the group's offsets; never join or commit\n"
"      --offset-reset POLICY  a committed offset outside the log goes to:\n"
"                        earliest (default, with a warning), latest, error\n"
"      --commit-interval MS  commit at least this often (default 1s)\n"
"      --commit-every N  also commit every N messages\n"
"      --acks FILE       append \"TOPIC PARTITION OFFSET\" to FILE for each\n"
"                        partition of each commit, once it is durable\n"
"      --lock-timeout DURATION  wait at most this long for the group lock\n"
"                        another process holds (default 60s)\n"
"  -v, --verbose         report group events (partitions taken, given back,\n"
"                        committed, reset) on stderr\n"
"      --exec CMD        run sh -c CMD for each message, the message on its\n"
"                        stdin; a message counts as consumed when CMD exits 0\n"
"      --batch N         give CMD up to N messages of a partition at once,\n"
"                        each followed by the delimiter\n"
"      --retries N       run a failing CMD again N more times (default 0)\n"
"      --retry-backoff MS  wait before the first retry, doubling (100ms)\n"
"      --dlq TOPIC       after the last failure, append the message to TOPIC\n"
"                        and go on (without: stop, leaving it uncommitted)\n"
"  -h, --help            show this help and exit\n"
"  -V, --version         show the version and exit\n";

enum { OPT_UNTIL = 256, OPT_NULL, OPT_NO_COMMIT, OPT_RESET, OPT_INTERVAL,
       OPT_EVERY, OPT_EXEC, OPT_BATCH, OPT_RETRIES, OPT_BACKOFF, OPT_DLQ,
       OPT_ACKS, OPT_LOCK };

static const struct option longopts[] = {
	{"spool", required_argument, NULL, 'd'},
	{"partition", required_argument, NULL, 'p'},
	{"offset", required_argument, NULL, 'o'},
	{"count", required_argument, NULL, 'c'},
	{"until", required_argument, NULL, OPT_UNTIL},
	{"follow", no_argument, NULL, 'f'},
	{"exit", no_argument, NULL, 'e'},
	{"delimiter", required_argument, NULL, 'D'},
	{"key-delimiter", required_argument, NULL, 'K'},
	{"format", required_argument, NULL, 'F'},
	{"null-marker", required_argument, NULL, OPT_NULL},
	{"group", required_argument, NULL, 'g'},
	{"no-commit", no_argument, NULL, OPT_NO_COMMIT},
	{"offset-reset", required_argument, NULL, OPT_RESET},
	{"commit-interval", required_argument, NULL, OPT_INTERVAL},
	{"commit-every", required_argument, NULL, OPT_EVERY},
	{"acks", required_argument, NULL, OPT_ACKS},
	{"lock-timeout", required_argument, NULL, OPT_LOCK},
	{"verbose", no_argument, NULL, 'v'},
	{"exec", required_argument, NULL, OPT_EXEC},
	{"batch", required_argument, NULL, OPT_BATCH},
	{"retries", required_argument, NULL, OPT_RETRIES},
	{"retry-backoff", required_argument, NULL, OPT_BACKOFF},
	{"dlq", required_argument, NULL, OPT_DLQ},
	{"help", no_argument, NULL, 'h'},
	{"version", no_argument, NULL, 'V'},
	{NULL, 0, NULL, 0}
};

#define MARK_STEP (16 * 1024)   /* output between progress marks */

/* Everything one run needs, so the callbacks can reach it. */
struct run {
	struct mq_consumer c;
	struct mq_printer pr;
	struct mq_exec x;
	bool exec;
	int exec_rc;             /* outcome of the last --exec job */
	struct mq_err exec_err;
	uint64_t count, limit;
	/* Owned here so they stay reachable until exit (finish exits). */
	uint32_t *parts;
	char *delim, *kdelim;
	struct mq_spool sp;
	struct mq_topic dlq_topic;
	struct mq_producer dlq;
	struct mq_acklog acks;
	bool out_failed;         /* a commit while the output was blocked */
	struct mq_err out_err;   /* ... failed, so: */
};

static void
parse_offset(const char *s, struct mq_consumer_opts *o)
{
	struct mq_err e;
	uint64_t v;

	if (!strcmp(s, "beginning") || !strcmp(s, "earliest")) {
		o->whence = MQ_FROM_BEGINNING;
	} else if (!strcmp(s, "end") || !strcmp(s, "latest")) {
		o->whence = MQ_FROM_END;
	} else if (s[0] == '@') {
		o->whence = MQ_FROM_TIME;
		if (mq_parse_time(s + 1, &o->arg, &e) < 0)
			cli_usage("-o: %s", e.msg);
	} else if (s[0] == '-' && mq_parse_u64(s + 1, 1, INT64_MAX, &v) == 0) {
		o->whence = MQ_FROM_TAIL;
		o->arg = (int64_t)v;
	} else if (mq_parse_u64(s, 0, INT64_MAX, &v) == 0) {
		o->whence = MQ_FROM_OFFSET;
		o->arg = (int64_t)v;
	} else {
		cli_usage("bad offset '%s': use beginning, end, N, -N or @TIME",
			  s);
	}
}

static void
parse_until(const char *s, struct mq_consumer_opts *o)
{
	struct mq_err e;
	uint64_t v;

	o->has_until = true;
	if (s[0] == '@') {
		o->until_time = true;
		if (mq_parse_time(s + 1, &o->until, &e) < 0)
			cli_usage("--until: %s", e.msg);
	} else if (mq_parse_u64(s, 0, INT64_MAX, &v) == 0) {
		o->until = (int64_t)v;
	} else {
		cli_usage("bad --until '%s': use an offset N or @TIME", s);
	}
}

static int64_t
duration_opt(const char *opt, const char *s, int64_t max)
{
	struct mq_err e;
	int64_t v;

	if (mq_parse_duration(s, false, &v, &e) < 0)
		cli_usage("%s: %s", opt, e.msg);
	if (v > max)
		cli_usage("%s: at most %lld ms", opt, (long long)max);
	return v;
}

/* Runs the pending --exec job; r->exec_rc is mq_exec_run's outcome. */
static int
run_job(struct run *r)
{
	r->exec_rc = mq_exec_run(&r->x, &cli_stop, &r->exec_err);
	return r->exec_rc;
}

/*
 * Before any commit, every message handed out must be out: written to
 * stdout, or handled by the --exec command.  A failure stops the commit.
 */
static int
flush_out(void *arg)
{
	struct run *r = arg;

	if (!r->exec)
		return mq_out_flush(&r->pr.out);
	return run_job(r) == 0 ? 0 : -1;
}

static _Noreturn void finish(struct run *r, int status, const char *why);

/*
 * Standard output is blocked: its reader does not read.  A stop ends the
 * wait (what is not written is not committed, and is delivered again to
 * the group); meanwhile a commit that is due covers what was written.
 */
static int
out_blocked(void *arg, const struct mq_out *o)
{
	struct run *r = arg;

	if (cli_stop)
		return -1;
	if (r->c.o.group && !r->c.o.no_commit &&
	    mq_mono_ms() >= r->c.next_commit &&
	    mq_cgroup_commit_written(&r->c, o->written, &r->out_err) < 0) {
		r->out_failed = true;
		return -1;
	}
	return 0;
}

/* Output failed with errno err: leaves, quietly where that is right. */
static _Noreturn void
out_failed(struct run *r, int err)
{
	if (err == EPIPE || (err == EINTR && cli_stop && !r->out_failed))
		finish(r, CLI_OK, NULL);
	finish(r, CLI_ERROR, r->out_failed ? r->out_err.msg :
	       "cannot write to standard output");
}

static void
notice(void *arg, const char *msg)
{
	(void)arg;
	cli_warn("%s", msg);
}

/*
 * Leaves: commits what was delivered (the commit flushes first, and does
 * not happen if the flush fails), reports why, exits.  Messages of an
 * --exec job that did not succeed are not delivered: their partition's
 * position goes back to the job's first offset.
 */
static _Noreturn void
finish(struct run *r, int status, const char *why)
{
	struct mq_err e;

	if (r->exec && r->x.cp && (r->x.n || r->exec_rc)) {
		/* Only the position matters now (a group commits it). */
		(void)mq_preader_rewind(&r->x.cp->r, r->x.n ?
					r->x.recs[0].offset :
					r->x.failed_offset, &e);
		r->x.n = 0;
	}
	if (r->c.o.group && !r->c.o.no_commit) {
		/* A commit covers what was written out; stopped while the
		 * output was blocked, that is less than was read. */
		int rc = 0;
		if (r->exec || mq_out_flush(&r->pr.out) == 0)
			rc = mq_cgroup_commit(&r->c, &e);
		else if (errno == EINTR && !r->out_failed)
			rc = mq_cgroup_commit_written(&r->c,
						      r->pr.out.written, &e);
		else if (errno != EPIPE && !why) {
			why = r->out_failed ? r->out_err.msg :
			      "cannot write to standard output";
			status = CLI_ERROR;
		}
		if (rc < 0 && !why && e.code != EPIPE &&
		    !(e.code == EINTR && cli_stop)) {
			why = e.msg;
			status = CLI_ERROR;
		}
	} else if (!r->exec && mq_out_flush(&r->pr.out) < 0 &&
		   errno != EPIPE && !(errno == EINTR && cli_stop) && !why) {
		why = "cannot write to standard output";
		status = CLI_ERROR;
	}
	if (why)
		cli_warn("%s", why);
	mq_consumer_close(&r->c);
	exit(status);
}

/* After an --exec job: go on, or stop. */
static void
after_job(struct run *r)
{
	char msg[700];

	if (r->exec_rc == 0)
		return;
	/* Stopped by a signal, or our stdout was closed: quietly, undone. */
	if (r->exec_rc == 3 || r->exec_rc == 4)
		finish(r, CLI_OK, NULL);
	if (r->exec_rc < 0)
		finish(r, CLI_ERROR, r->exec_err.msg);
	snprintf(msg, sizeof msg, "'%s' failed (%s) on '%s' partition %u "
		 "offset %llu after %u attempt%s; its offset stays uncommitted",
		 r->x.o.cmd, r->x.why, r->x.cp->t->name, r->x.cp->partition,
		 (unsigned long long)r->x.failed_offset, r->x.attempts,
		 r->x.attempts == 1 ? "" : "s");
	finish(r, CLI_ERROR, msg);
}

/* One message handed out: print it, or queue it for the command. */
static void
deliver(struct run *r, struct mq_cpart *cp, const struct mq_record *rec)
{
	struct mq_err e;

	if (!r->exec) {
		if (mq_print(&r->pr, cp->t->name, cp->partition, rec) < 0)
			out_failed(r, errno);
		mq_consumer_mark(cp, mq_out_accepted(&r->pr.out),
				 r->pr.out.written);
		return;
	}
	if (r->x.n && r->x.cp != cp) {
		run_job(r);
		after_job(r);
	}
	if (mq_exec_add(&r->x, cp, rec, &e) < 0)
		finish(r, CLI_ERROR, e.msg);
	if (r->x.n >= r->x.o.batch) {
		run_job(r);
		after_job(r);
	}
}

static void
consume(struct run *r, int watch_fd)
{
	struct mq_err e;

	while (r->count < r->limit && !cli_stop) {
		struct mq_cpart *cp;
		struct mq_record rec;
		int rc = mq_consumer_next(&r->c, &cp, &rec, &e);

		if (rc == 0) {
			uint64_t last = rec.offset;
			deliver(r, cp, &rec);
			r->count++;
			if (r->exec || !mq_consumer_can_stream(&r->c, cp))
				continue;
			/* The rest of this batch, without the per-message
			 * bookkeeping of mq_consumer_next, on local copies
			 * (stores into the output buffer could alias r's
			 * fields and force reloads); written back before
			 * anything else looks at them. */
			struct mq_rec_iter it = cp->r.it;
			struct mq_printer pr = r->pr;
			uint64_t count = r->count, limit = r->limit;
			/* The run also ends each MARK_STEP bytes of output,
			 * so a commit made while the output is blocked
			 * knows a position at most that far behind. */
			size_t stop = (pr.out.len / MARK_STEP + 1) * MARK_STEP;
			int wr = 0;
			while (count < limit && pr.out.len < stop &&
			       mq_rec_iter_next(&it, &rec) == 0) {
				if ((wr = mq_print(&pr, cp->t->name,
						   cp->partition, &rec)) < 0)
					break;
				last = rec.offset;
				count++;
			}
			r->pr = pr;
			r->count = count;
			mq_consumer_put_iter(&r->c, cp, &it, last + 1);
			if (wr < 0)
				out_failed(r, errno);
			mq_consumer_mark(cp, mq_out_accepted(&r->pr.out),
					 r->pr.out.written);
			continue;
		}
		if (rc < 0) {
			/* A commit inside the consumer flushed first. */
			if (r->exec)
				after_job(r);
			if (e.code == EPIPE || e.code == EINTR)
				out_failed(r, e.code);
			finish(r, CLI_ERROR, e.msg);
		}
		if (flush_out(r) < 0) {
			if (r->exec)
				after_job(r);
			out_failed(r, errno);
		}
		if (rc == 1)
			break;
		rc = mq_consumer_wait(&r->c, watch_fd, &cli_stop, &e);
		if (rc == 1)
			finish(r, CLI_OK, NULL);  /* stdout closed */
		if (rc < 0)
			finish(r, CLI_ERROR, e.msg);
	}
	if (r->exec && !cli_stop) {
		run_job(r);
		after_job(r);
	}
	finish(r, CLI_OK, NULL);
}

int
main(int argc, char **argv)
{
	static struct run r;
	struct mq_consumer_opts o = {
		.whence = MQ_FROM_BEGINNING, .commit_ms = 1000,
		.flush = flush_out, .notice = notice, .cb_arg = &r,
	};
	struct mq_exec_opts xo = {.backoff_ms = 100};
	uint32_t *parts = r.parts = calloc((size_t)argc, sizeof *parts);
	const char *dir = NULL, *format = NULL, *dlq = NULL, *acks = NULL;
	char *delim = NULL, *kdelim = NULL;
	size_t dlen = 0, kdlen = 0;
	bool nul = false, group_opts = false, exec_opts = false;
	bool at_end = false;
	struct mq_producer_opts dpo = {.codec = -1, .partition = -1,
				       .batch_bytes = 256 * 1024,
				       .buffer_bytes = 1 << 20,
				       .timestamp = -1};
	struct mq_err e;
	struct stat st;
	int ch, watch_fd = -1;

	cli_init(argv[0]);
	if (!parts)
		cli_die(CLI_ERROR, "out of memory");
	r.limit = UINT64_MAX;
	r.pr.null_marker = "";
	while ((ch = getopt_long(argc, argv, ":d:p:o:c:feD:0K:F:g:vhV", longopts,
				 NULL)) != -1) {
		switch (ch) {
		case 'd': dir = cli_spool_arg(optarg); break;
		case 'p':
			parts[o.nparts++] = (uint32_t)cli_u64("-p", optarg, 0,
							MQ_MAX_PARTITIONS - 1);
			break;
		case 'o': parse_offset(optarg, &o); break;
		case 'c': r.limit = cli_u64("-c", optarg, 1, UINT64_MAX); break;
		case OPT_UNTIL: parse_until(optarg, &o); break;
		case 'f': o.follow = true; break;
		case 'e': at_end = true; break;
		case 'D':
			free(delim);
			if (mq_parse_delim(optarg, &delim, &dlen, &e) < 0)
				cli_usage("-D: %s", e.msg);
			break;
		case '0': nul = true; break;
		case 'K':
			free(kdelim);
			if (mq_parse_delim(optarg, &kdelim, &kdlen, &e) < 0)
				cli_usage("-K: %s", e.msg);
			break;
		case 'F': format = optarg; break;
		case OPT_NULL: r.pr.null_marker = optarg; break;
		case 'g':
			if (mq_group_name_check(optarg, &e) < 0)
				cli_usage("%s", e.msg);
			o.group = optarg;
			break;
		case OPT_NO_COMMIT: o.no_commit = group_opts = true; break;
		case OPT_RESET:
			group_opts = true;
			if (!strcmp(optarg, "earliest"))
				o.offset_reset = MQ_RESET_EARLIEST;
			else if (!strcmp(optarg, "latest"))
				o.offset_reset = MQ_RESET_LATEST;
			else if (!strcmp(optarg, "error"))
				o.offset_reset = MQ_RESET_ERROR;
			else
				cli_usage("bad --offset-reset '%s': use "
					  "earliest, latest or error", optarg);
			break;
		case OPT_INTERVAL:
			group_opts = true;
			o.commit_ms = duration_opt("--commit-interval", optarg,
						   86400000);
			if (o.commit_ms < 10)
				cli_usage("--commit-interval: at least 10ms");
			break;
		case OPT_LOCK:
			cli_lock_timeout("--lock-timeout", optarg);
			break;
		case OPT_EVERY:
			group_opts = true;
			o.commit_every = cli_u64("--commit-every", optarg, 1,
						 UINT64_MAX);
			break;
		case OPT_ACKS:
			group_opts = true;
			if (!*optarg || !strcmp(optarg, "-"))
				cli_usage("--acks: name a file (standard "
					  "output carries the messages)");
			acks = optarg;
			break;
		case 'v': o.verbose = true; break;
		case OPT_EXEC: xo.cmd = optarg; break;
		case OPT_BATCH:
			exec_opts = xo.batched = true;
			xo.batch = (uint32_t)cli_u64("--batch", optarg, 1,
						     1000000);
			break;
		case OPT_RETRIES:
			exec_opts = true;
			xo.retries = (uint32_t)cli_u64("--retries", optarg, 0,
						       1000000);
			break;
		case OPT_BACKOFF:
			exec_opts = true;
			xo.backoff_ms = duration_opt("--retry-backoff", optarg,
						     3600000);
			break;
		case OPT_DLQ:
			exec_opts = true;
			if (mq_topic_name_check(optarg, &e) < 0)
				cli_usage("--dlq: %s", e.msg);
			dlq = optarg;
			break;
		case 'h':
			fputs(usage_text, stdout);
			free(parts);
			return CLI_OK;
		case 'V': cli_version();
		default: cli_bad_option(ch, argv);
		}
	}
	if (nul && delim)
		cli_usage("-0 and -D cannot be combined");
	if (format && (delim || nul || kdelim))
		cli_usage("-F cannot be combined with -D, -0 or -K (write "
			  "delimiters and %%k into the format)");
	if (group_opts && !o.group)
		cli_usage("--no-commit, --offset-reset, --commit-* and --acks "
			  "need -g");
	if (o.follow && at_end)
		cli_usage("-f and -e cannot be combined");
	if (o.group && o.nparts && !o.no_commit)
		cli_usage("-p cannot be combined with -g: the group assigns "
			  "partitions (but -g GROUP --no-commit -p N reads "
			  "partition N from the group's offset)");
	if (exec_opts && !xo.cmd)
		cli_usage("--batch, --retries, --retry-backoff and --dlq need "
			  "--exec");
	if (xo.cmd && (format || kdelim || strcmp(r.pr.null_marker, "")))
		cli_usage("--exec cannot be combined with -F, -K or "
			  "--null-marker");
	if (xo.cmd && o.no_commit)
		cli_usage("--exec cannot be combined with --no-commit");
	if (acks && o.no_commit)
		cli_usage("--acks cannot be combined with --no-commit (it logs "
			  "commits)");
	if (!delim) {
		delim = strdup(nul ? "" : "\n");
		dlen = 1;
	}
	if (format && mq_fmt_compile(&r.pr.fmt, format, &e) < 0)
		cli_usage("%s", e.msg);
	if (optind >= argc)
		cli_usage("missing topic");
	for (int i = optind; i < argc; i++)
		if (mq_topic_name_check(argv[i], &e) < 0)
			cli_usage("%s", e.msg);
	if (o.nparts)
		o.parts = parts;

	r.delim = delim;
	r.kdelim = kdelim;
	cli_open_spool(&r.sp, dir, false);
	if (acks) {
		if (mq_acklog_open(&r.acks, acks, true, &e) < 0)
			cli_die(CLI_ERROR, "%s", e.msg);
		o.acks = &r.acks;
	}
	if (dlq) {
		if (mq_topic_open(&r.dlq_topic, &r.sp, dlq, &e) < 0)
			cli_die(CLI_ERROR, "dead-letter topic: %s", e.msg);
		if (mq_producer_init(&r.dlq, &r.dlq_topic, &dpo, &e) < 0)
			cli_fail(&e);
		xo.dlq = &r.dlq;
	}
	r.exec = xo.cmd != NULL;
	xo.delim = delim;
	xo.dlen = dlen;
	xo.group = o.group;
	mq_exec_init(&r.x, &xo);
	r.pr.formatted = format != NULL;
	r.pr.delim = delim;
	r.pr.dlen = dlen;
	r.pr.kdelim = kdelim;
	r.pr.kdlen = kdlen;
	r.pr.nl = strlen(r.pr.null_marker);
	if (mq_out_init(&r.pr.out, 1) < 0)
		cli_die(CLI_ERROR, "out of memory");
	/* A reader that does not read blocks our writes to a pipe, socket
	 * or terminal: signals and commits must not wait for it. */
	if (!r.exec && fstat(1, &st) == 0 && !S_ISREG(st.st_mode)) {
		r.pr.out.blocked = out_blocked;
		r.pr.out.barg = &r;
	}
	if (mq_consumer_open(&r.c, &r.sp, argv + optind,
			     (size_t)(argc - optind), &o, &e) < 0)
		cli_fail(&e);
	if (o.follow && !r.exec && fstat(1, &st) == 0 &&
	    (S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode)))
		watch_fd = 1;
	consume(&r, watch_fd);
}
