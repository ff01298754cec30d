/*
 * mq-produce - append messages read from files or stdin to a topic.
 */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "mqcmd.h"

static const char usage_text[] =
"Usage: mq-produce [-d DIR] [-D DELIM | -0] [-K DELIM] [-k KEY] [-H NAME=VALUE]...\n"
"                  [-Z] [-p N] [-z] [--partitioner xxh3|murmur2]\n"
"                  [--compression none|zlib|zstd|lz4] [--sync exit|batch|none]\n"
"                  [--batch-size BYTES] [--linger MS] [--buffer-memory BYTES]\n"
"                  [--timestamp TIME] [--acks FILE] [--lock-timeout DURATION]\n"
"                  [-v] TOPIC [FILE...]\n"
"       mq-produce --help | --version\n"
"\n"
"Reads messages, one per delimiter, from each FILE (- or none: stdin).\n"
"  -d, --spool DIR         the spool (default $MQ_SPOOL, else ~/.mq)\n"
"  -D, --delimiter DELIM   message delimiter (default \\n; \\t \\0 \\xNN ...)\n"
"  -0                      messages end with NUL (-D '\\0')\n"
"  -K, --key-delimiter DELIM  the key is what precedes the first DELIM\n"
"  -k, --key KEY           the key of every message (without -K's)\n"
"  -H, --header NAME=VALUE add a header to every message (repeatable)\n"
"  -Z, --null-empty        store an empty value as null (a tombstone)\n"
"  -p, --partition N       write every message to partition N\n"
"  -z                      compress batches with zlib\n"
"      --partitioner NAME  xxh3 (default) or murmur2 (Kafka's placement)\n"
"      --compression CODEC none, zlib, zstd or lz4 (default: the topic's)\n"
"      --sync POLICY       exit (default: all synced before exit 0),\n"
"                          batch (each batch synced), none\n"
"      --batch-size BYTES  largest batch (default 256KiB)\n"
"      --linger MS         how long a partial batch waits for more input\n"
"                          (default 0: written as soon as input pauses,\n"
"                          and within 10 ms while input keeps coming)\n"
"      --buffer-memory BYTES  unsent batches in all (default 32MiB)\n"
"      --timestamp TIME    timestamp of every message (epoch ms or\n"
"                          ISO-8601; default: the time it is read),\n"
"                          within the topic's message.timestamp.*.max.ms\n"
"      --acks FILE         append \"PARTITION FIRST LAST\" to FILE (- for\n"
"                          stdout) for each batch once it is durable\n"
"                          as --sync defines it\n"
"      --lock-timeout DURATION  wait at most this long for a partition\n"
"                          another process holds locked (default 60s)\n"
"  -v, --verbose           print a summary on stderr\n"
"  -h, --help              show this help and exit\n"
"  -V, --version           show the version and exit\n";

enum { OPT_PARTITIONER = 256, OPT_COMPRESSION, OPT_SYNC, OPT_BATCH,
       OPT_LINGER, OPT_BUFFER, OPT_TIMESTAMP, OPT_ACKS, OPT_LOCK };

static const struct option longopts[] = {
	{"spool", required_argument, NULL, 'd'},
	{"delimiter", required_argument, NULL, 'D'},
	{"key-delimiter", required_argument, NULL, 'K'},
	{"key", required_argument, NULL, 'k'},
	{"header", required_argument, NULL, 'H'},
	{"null-empty", no_argument, NULL, 'Z'},
	{"partition", required_argument, NULL, 'p'},
	{"partitioner", required_argument, NULL, OPT_PARTITIONER},
	{"compression", required_argument, NULL, OPT_COMPRESSION},
	{"sync", required_argument, NULL, OPT_SYNC},
	{"batch-size", required_argument, NULL, OPT_BATCH},
	{"linger", required_argument, NULL, OPT_LINGER},
	{"buffer-memory", required_argument, NULL, OPT_BUFFER},
	{"timestamp", required_argument, NULL, OPT_TIMESTAMP},
	{"acks", required_argument, NULL, OPT_ACKS},
	{"lock-timeout", required_argument, NULL, OPT_LOCK},
	{"verbose", no_argument, NULL, 'v'},
	{"help", no_argument, NULL, 'h'},
	{"version", no_argument, NULL, 'V'},
	{NULL, 0, NULL, 0}
};

struct run {
	struct mq_producer p;
	char *delim, *kdelim;
	size_t dlen, kdlen;
	const char *key;
	bool null_empty;
	struct mq_acklog acks;
};

/*
 * Stores the messages read before the error, then reports the error and
 * how many were stored, on one line, and exits 1.  If storing them fails
 * too, that is a second error and a second line.
 */
static _Noreturn void
fail(struct run *r, const char *fmt, const char *what)
{
	struct mq_err e;
	char msg[700];
	bool ok = mq_producer_finish(&r->p, &e) == 0;

	snprintf(msg, sizeof msg, fmt, what);
	if (!ok && strcmp(e.msg, what) != 0)
		cli_warn("%s", e.msg);
	cli_die(CLI_ERROR, "%s; %llu message%s before it %s stored", msg,
		(unsigned long long)r->p.stored, r->p.stored == 1 ? "" : "s",
		r->p.stored == 1 ? "was" : "were");
}

static void
send_one(struct run *r, struct mq_input *in, const unsigned char *m,
	 size_t len, uint64_t at)
{
	const unsigned char *key = NULL, *val = m;
	size_t klen = 0, vlen = len, size;
	struct mq_err e;
	char where[600];

	if (r->kdelim) {
		const unsigned char *k = memmem(m, len, r->kdelim, r->kdlen);
		if (k) {
			key = m;
			klen = (size_t)(k - m);
			val = k + r->kdlen;
			vlen = len - klen - r->kdlen;
		}
	}
	if (!key && r->key) {
		key = (const unsigned char *)r->key;
		klen = strlen(r->key);
	}
	if (r->null_empty && vlen == 0)
		val = NULL;
	if (mq_producer_send(&r->p, key, klen, val, vlen, &size, &e) == 0)
		return;
	if (e.code == EDESTADDRREQ) {
		snprintf(where, sizeof where, "message %llu at byte %llu of "
			 "'%s' has no key, and topic '%s' is compacted "
			 "(cleanup.policy=compact): every message needs a key",
			 (unsigned long long)in->msgno, (unsigned long long)at,
			 in->name, r->p.t->name);
		fail(r, "%s", where);
	}
	if (e.code == EMSGSIZE) {
		snprintf(where, sizeof where, "message %llu at byte %llu of "
			 "'%s' is %zu bytes, over max.message.bytes (%lld)",
			 (unsigned long long)in->msgno, (unsigned long long)at,
			 in->name, size,
			 (long long)r->p.t->cfg.max_message_bytes);
		fail(r, "%s", where);
	}
	fail(r, "%s", e.msg);
}

/* The progress line of a bulk load (only on a terminal: see cli.h). */
static void
show_progress(const struct mq_input *in, const struct stat *st)
{
	uint64_t done = in->offset + (in->end - in->start);

	cli_progress("'%s': %.1f of %.1f MB (%d%%), %llu messages", in->name,
		     (double)done / 1e6, (double)st->st_size / 1e6,
		     st->st_size > 0 ? (int)(done * 100 / (uint64_t)st->st_size)
				     : 100,
		     (unsigned long long)in->msgno);
}

/* Produces one input; returns false when stopped by a signal. */
static bool
produce(struct run *r, int fd, const char *name)
{
	struct mq_input in;
	const unsigned char *m;
	size_t len;
	struct mq_err e;
	char where[600];
	int rc;

	struct stat st;
	bool bulk;

	if (mq_input_init(&in, fd, name, r->delim, r->dlen,
			  (size_t)r->p.t->cfg.max_message_bytes + r->kdlen) < 0)
		cli_die(CLI_ERROR, "out of memory");
	/* A regular file is a bulk load: no one waits for its first lines,
	 * so batches are only written full (see mq-produce(1)). */
	bulk = fstat(fd, &st) == 0 && S_ISREG(st.st_mode);
	for (;;) {
		uint64_t at = in.offset;
		rc = mq_input_next(&in, &m, &len);
		if (rc == 0) {
			send_one(r, &in, m, len, at);
			continue;
		}
		if (rc == 2)
			break;
		if (rc < 0) {
			snprintf(where, sizeof where, "message %llu at byte "
				 "%llu of '%s' is over max.message.bytes "
				 "(%lld)", (unsigned long long)in.msgno + 1,
				 (unsigned long long)at, name,
				 (long long)r->p.t->cfg.max_message_bytes);
			fail(r, "%s", where);
		}
		if (!bulk && mq_producer_overdue(&r->p) &&
		    mq_producer_flush(&r->p, &e) < 0)
			fail(r, "%s", e.msg);
		rc = mq_input_fill(&in, (int)mq_producer_linger_left(&r->p),
				   &cli_stop);
		if (rc == 0) {
			mq_producer_clock(&r->p);
			if (bulk)
				show_progress(&in, &st);
		} else if (rc == 1) {
			if (mq_producer_flush(&r->p, &e) < 0)
				fail(r, "%s", e.msg);
		} else if (rc == 3) {
			if (in.end > in.start)
				cli_warn("stopped by a signal: %zu bytes of an "
					 "unfinished message in '%s' were not "
					 "stored", in.end - in.start, name);
			mq_input_free(&in);
			return false;
		} else if (rc < 0) {
			snprintf(where, sizeof where, "cannot read '%s': %s",
				 name, strerror(errno));
			fail(r, "%s", where);
		}
	}
	mq_input_free(&in);
	return true;
}

static void
summary(struct run *r)
{
	cli_warn("stored %llu message%s (%llu bytes of keys and values) in "
		 "'%s'", (unsigned long long)r->p.stored,
		 r->p.stored == 1 ? "" : "s",
		 (unsigned long long)r->p.bytes, r->p.t->name);
	for (uint32_t i = 0; i < r->p.n; i++)
		if (r->p.slots[i].msgs)
			cli_warn("partition %u: %llu message%s, offsets %llu-%llu",
				 i, (unsigned long long)r->p.slots[i].msgs,
				 r->p.slots[i].msgs == 1 ? "" : "s",
				 (unsigned long long)r->p.slots[i].first,
				 (unsigned long long)r->p.slots[i].last);
	cli_warn("waited %.3f s for partition locks held by others",
		 (double)mq_producer_lock_wait_ns(&r->p) / 1e9);
}

static int64_t
size_opt(const char *opt, const char *s)
{
	struct mq_err e;
	int64_t v;

	if (mq_parse_size(s, false, &v, &e) < 0 || v < 1)
		cli_usage("%s: %s", opt, v < 1 ? "must be at least 1" : e.msg);
	return v;
}

int
main(int argc, char **argv)
{
	struct run r = {0};
	struct mq_producer_opts po = {
		.codec = -1, .partition = -1, .batch_bytes = 256 * 1024,
		.buffer_bytes = 32 << 20, .timestamp = -1,
	};
	struct mq_header *hv = calloc((size_t)argc, sizeof *hv);
	size_t nh = 0;
	const char *dir = NULL, *acks = NULL, *ts_arg = NULL;
	bool verbose = false, nul = false;
	struct mq_spool sp;
	struct mq_topic t;
	struct mq_err e;
	int c;

	cli_init(argv[0]);
	if (!hv)
		cli_die(CLI_ERROR, "out of memory");
	while ((c = getopt_long(argc, argv, ":d:D:0K:k:H:Zp:zvhV", longopts,
				NULL)) != -1) {
		switch (c) {
		case 'd': dir = cli_spool_arg(optarg); break;
		case 'D':
			free(r.delim);
			if (mq_parse_delim(optarg, &r.delim, &r.dlen, &e) < 0)
				cli_usage("-D: %s", e.msg);
			break;
		case '0': nul = true; break;
		case 'K':
			if (mq_parse_delim(optarg, &r.kdelim, &r.kdlen, &e) < 0)
				cli_usage("-K: %s", e.msg);
			break;
		case 'k': r.key = optarg; break;
		case 'H': {
			char *eq = strchr(optarg, '=');
			if (!eq || eq == optarg)
				cli_usage("bad header '%s': expected "
					  "NAME=VALUE", optarg);
			hv[nh].name = optarg;
			hv[nh].nlen = (size_t)(eq - optarg);
			hv[nh].value = eq + 1;
			hv[nh].vlen = (ssize_t)strlen(eq + 1);
			nh++;
			break;
		}
		case 'Z': r.null_empty = true; break;
		case 'p':
			po.partition = (int64_t)cli_u64("-p", optarg, 0,
							MQ_MAX_PARTITIONS - 1);
			break;
		case 'z': po.codec = MQ_CODEC_ZLIB; break;
		case OPT_PARTITIONER:
			if (strcmp(optarg, "xxh3") == 0)
				po.partitioner = MQ_PART_XXH3;
			else if (strcmp(optarg, "murmur2") == 0)
				po.partitioner = MQ_PART_MURMUR2;
			else
				cli_usage("bad partitioner '%s': use xxh3 or "
					  "murmur2", optarg);
			break;
		case OPT_COMPRESSION:
			if ((po.codec = mq_codec_lookup(optarg)) < 0)
				cli_usage("bad compression '%s': use none, "
					  "zlib, zstd or lz4", optarg);
			break;
		case OPT_SYNC:
			if (strcmp(optarg, "exit") == 0)
				po.sync = MQ_SYNC_EXIT;
			else if (strcmp(optarg, "batch") == 0)
				po.sync = MQ_SYNC_BATCH;
			else if (strcmp(optarg, "none") == 0)
				po.sync = MQ_SYNC_NONE;
			else
				cli_usage("bad sync policy '%s': use exit, "
					  "batch or none", optarg);
			break;
		case OPT_BATCH:
			po.batch_bytes = (size_t)size_opt("--batch-size",
							  optarg);
			break;
		case OPT_BUFFER:
			po.buffer_bytes = (size_t)size_opt("--buffer-memory",
							   optarg);
			break;
		case OPT_LOCK:
			cli_lock_timeout("--lock-timeout", optarg);
			break;
		case OPT_LINGER:
			if (mq_parse_duration(optarg, false, &po.linger_ms,
					      &e) < 0 ||
			    po.linger_ms > 3600000)
				cli_usage("--linger: %s", po.linger_ms > 3600000
					  ? "at most 1h" : e.msg);
			break;
		case OPT_TIMESTAMP:
			if (mq_parse_time(optarg, &po.timestamp, &e) < 0)
				cli_usage("--timestamp: %s", e.msg);
			ts_arg = optarg;
			break;
		case OPT_ACKS:
			if (!*optarg)
				cli_usage("--acks: empty file name");
			acks = optarg;
			break;
		case 'v': verbose = true; break;
		case 'h':
			fputs(usage_text, stdout);
			free(hv);
			return CLI_OK;
		case 'V': cli_version();
		default: cli_bad_option(c, argv);
		}
	}
	if (nul && r.delim)
		cli_usage("-0 and -D cannot be combined");
	if (!r.delim) {
		r.delim = strdup(nul ? "" : "\n");
		r.dlen = 1;
	}
	if (optind >= argc)
		cli_usage("missing topic");
	if (mq_topic_name_check(argv[optind], &e) < 0)
		cli_usage("%s", e.msg);
	if (nh && mq_headers_encode(hv, nh, (unsigned char **)&po.headers,
				    &po.hlen) < 0)
		cli_die(CLI_ERROR, "out of memory");
	po.nheaders = (uint32_t)nh;

	cli_open_spool(&sp, dir, false);
	if (mq_topic_open(&t, &sp, argv[optind], &e) < 0)
		cli_fail(&e);
	if (acks) {
		if (mq_acklog_open(&r.acks, acks, po.sync != MQ_SYNC_NONE,
				   &e) < 0)
			cli_die(CLI_ERROR, "%s", e.msg);
		po.acks = &r.acks;
	}
	/* The topic's message.timestamp.*.max.ms decide (mq_producer_init
	 * checks too; here the message names the argument). */
	if (po.timestamp >= 0 &&
	    mq_ts_check(&t.cfg, po.timestamp, mq_now_ms(), &e) < 0)
		cli_usage("--timestamp '%s' refused by topic '%s': %s", ts_arg,
			  t.name, e.msg);
	if (mq_producer_init(&r.p, &t, &po, &e) < 0)
		cli_fail(&e);
	cli_progress_start();   /* shown for regular files only */
	if (optind + 1 == argc) {
		produce(&r, 0, "stdin");
	} else {
		for (int i = optind + 1; i < argc && !cli_stop; i++) {
			bool is_stdin = strcmp(argv[i], "-") == 0;
			int fd = is_stdin ? 0 : open(argv[i], O_RDONLY |
						     O_CLOEXEC);
			if (fd < 0) {
				char msg[600];
				snprintf(msg, sizeof msg, "cannot open '%s': %s",
					 argv[i], strerror(errno));
				fail(&r, "%s", msg);
			}
			produce(&r, fd, is_stdin ? "stdin" : argv[i]);
			if (!is_stdin)
				close(fd);
		}
	}
	if (mq_producer_finish(&r.p, &e) < 0) {
		/* The topic was deleted: "N stored" would not be true. */
		if (e.code == ENOENT)
			cli_die(CLI_ERROR, "%s", e.msg);
		fail(&r, "%s", e.msg);
	}
	if (verbose)
		summary(&r);
	mq_producer_free(&r.p);
	if (acks)
		mq_acklog_close(&r.acks);
	mq_topic_close(&t);
	mq_spool_close(&sp);
	free((void *)po.headers);
	free(hv);
	free(r.delim);
	free(r.kdelim);
	return CLI_OK;
}
