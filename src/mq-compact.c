/*
 * mq-compact - apply retention and log compaction to topics, safely
 * while producers and consumers work; meant for cron.
 */
#include <config.h>

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "mqcmd.h"

static const char usage_text[] =
"Usage: mq-compact [-d DIR] [--dry-run] [--memory SIZE] [--archive DIR]\n"
"                  [--archive-suffix .tar|.tar.gz|.tar.zst] [-v] [TOPIC...]\n"
"       mq-compact --help | --version\n"
"\n"
"Applies each topic's cleanup.policy (every topic without TOPIC): delete\n"
"removes old sealed segments (retention.ms, retention.bytes), compact keeps\n"
"the latest value of each key in the sealed segments.\n"
"  -d, --spool DIR       the spool (default $MQ_SPOOL, else ~/.mq)\n"
"      --dry-run         print what would go; change nothing\n"
"      --memory SIZE     bytes for the key map, 24 a key (default 32MiB);\n"
"                        more keys than fit take several passes\n"
"      --archive DIR     first store the original segments of what goes in\n"
"                        a tar archive in DIR, one per topic and run\n"
"      --archive-suffix SUFFIX  .tar, .tar.gz (default) or .tar.zst\n"
"  -v, --verbose         print what was done on stdout\n"
"  -h, --help            show this help and exit\n"
"  -V, --version         show the version and exit\n";

enum { OPT_DRY = 256, OPT_MEMORY, OPT_ARCHIVE, OPT_SUFFIX };

static const struct option longopts[] = {
	{"spool", required_argument, NULL, 'd'},
	{"dry-run", no_argument, NULL, OPT_DRY},
	{"memory", required_argument, NULL, OPT_MEMORY},
	{"archive", required_argument, NULL, OPT_ARCHIVE},
	{"archive-suffix", required_argument, NULL, OPT_SUFFIX},
	{"verbose", no_argument, NULL, 'v'},
	{"help", no_argument, NULL, 'h'},
	{"version", no_argument, NULL, 'V'},
	{NULL, 0, NULL, 0}
};

struct run {
	struct mq_compact_opts o;
	const char *archive, *suffix;
	bool verbose;
	int status;
};

static void
report(const struct run *r, const char *topic, uint32_t p,
       const struct mq_compact_stats *s)
{
	const char *verb = r->o.dry_run ? "would" : "did";

	if (!s->deleted_segments && !s->cleaned_segments)
		return;
	if (s->deleted_segments)
		printf("%s/%u: %s delete %llu segment%s: %llu messages, "
		       "%llu bytes\n", topic, p, verb,
		       (unsigned long long)s->deleted_segments,
		       s->deleted_segments == 1 ? "" : "s",
		       (unsigned long long)s->deleted_messages,
		       (unsigned long long)s->deleted_bytes);
	if (s->cleaned_segments) {
		printf("%s/%u: %s compact %llu segment%s: %llu messages, "
		       "%llu keys, drop %llu superseded and %llu tombstones; "
		       "%llu bytes", topic, p, verb,
		       (unsigned long long)s->cleaned_segments,
		       s->cleaned_segments == 1 ? "" : "s",
		       (unsigned long long)s->messages_in,
		       (unsigned long long)s->keys,
		       (unsigned long long)s->superseded,
		       (unsigned long long)s->tombstones_removed,
		       (unsigned long long)s->bytes_in);
		if (!r->o.dry_run)
			printf(" -> %llu", (unsigned long long)s->bytes_out);
		if (s->passes > 1)
			printf(" (%llu passes)", (unsigned long long)s->passes);
		printf("\n");
	}
}

/* Compacts one topic: prepare every partition, archive, apply. */
static void
compact_topic(struct run *r, struct mq_spool *sp, const char *name)
{
	struct mq_topic t;
	struct mq_err e;
	struct mq_cplan **plans;
	struct mq_compact_stats *stats;
	struct mq_archive *a = NULL;
	uint32_t n;
	bool work = false;

	if (mq_topic_open(&t, sp, name, &e) < 0) {
		cli_warn("%s", e.msg);
		r->status = CLI_ERROR;
		return;
	}
	n = (uint32_t)t.cfg.partitions;
	plans = calloc(n, sizeof *plans);
	stats = calloc(n, sizeof *stats);
	if (!plans || !stats)
		cli_die(CLI_ERROR, "out of memory");
	for (uint32_t p = 0; p < n; p++) {
		cli_progress_label("%s/%u", name, p);
		if (mq_compact_prepare(&t, p, &r->o, &plans[p], &stats[p],
				       &e) < 0) {
			cli_warn("%s", e.msg);
			/* Another mq-compact at work is not an error. */
			if (e.code != EBUSY)
				r->status = CLI_ERROR;
			continue;
		}
		work |= mq_compact_has_work(plans[p]);
	}
	cli_progress_clear();
	if (work && r->archive && !r->o.dry_run) {
		char aname[MQ_ARCHIVE_NAME_MAX];
		mq_compact_archive_name(name, mq_now_ms(), aname,
					sizeof aname);
		if (mq_archive_create(&a, r->archive, aname, r->suffix, &e) < 0)
			goto fail;
		cli_progress_label("%s: archive", name);
		for (uint32_t p = 0; p < n; p++)
			if (plans[p] && mq_compact_archive(plans[p], a, &e) < 0)
				goto fail;
		if (mq_archive_close(a, &e) < 0) {
			a = NULL;
			goto fail;
		}
		a = NULL;
		cli_progress_clear();
		mq_failpoint("compact.archived");
	}
	for (uint32_t p = 0; p < n; p++) {
		if (!plans[p])
			continue;
		if (mq_compact_apply(plans[p], &e) < 0) {
			cli_warn("%s", e.msg);
			r->status = CLI_ERROR;
		} else if (r->verbose || r->o.dry_run) {
			report(r, name, p, &stats[p]);
		}
	}
	goto out;
fail:
	/* Without the archive nothing may go. */
	cli_warn("%s", e.msg);
	r->status = CLI_ERROR;
	if (a)
		mq_archive_abort(a);
out:
	for (uint32_t p = 0; p < n; p++)
		mq_compact_release(plans[p]);
	free(plans);
	free(stats);
	mq_topic_close(&t);
	fflush(stdout);
}

int
main(int argc, char **argv)
{
	static struct run r;
	const char *dir = NULL, *now = getenv("MQ_NOW");
	struct mq_spool sp;
	struct mq_err e;
	int64_t mem;
	int c;

	cli_init(argv[0]);
	r.o.memory = 32 << 20;
	r.suffix = ".tar.gz";
	while ((c = getopt_long(argc, argv, ":d:vhV", longopts, NULL)) != -1) {
		switch (c) {
		case 'd': dir = cli_spool_arg(optarg); break;
		case OPT_DRY: r.o.dry_run = true; break;
		case OPT_MEMORY:
			if (mq_parse_size(optarg, false, &mem, &e) < 0)
				cli_usage("--memory: %s", e.msg);
			if (mem < 1024)
				cli_usage("--memory: at least 1KiB");
			r.o.memory = (size_t)mem;
			break;
		case OPT_ARCHIVE: r.archive = optarg; break;
		case OPT_SUFFIX:
			if (strcmp(optarg, ".tar") && strcmp(optarg, ".tar.gz") &&
			    strcmp(optarg, ".tar.zst"))
				cli_usage("bad --archive-suffix '%s': use .tar, "
					  ".tar.gz or .tar.zst", optarg);
			r.suffix = optarg;
			break;
		case 'v': r.verbose = true; break;
		case 'h': fputs(usage_text, stdout); return CLI_OK;
		case 'V': cli_version();
		default: cli_bad_option(c, argv);
		}
	}
	for (int i = optind; i < argc; i++)
		if (mq_topic_name_check(argv[i], &e) < 0)
			cli_usage("%s", e.msg);
	/* MQ_NOW: take this time as now (tests, replays); see mq-compact(1). */
	if (now && *now) {
		if (mq_parse_time(now, &r.o.now_ms, &e) < 0)
			cli_usage("MQ_NOW: %s", e.msg);
	} else {
		r.o.now_ms = mq_now_ms();
	}
	cli_progress_start();
	cli_open_spool(&sp, dir, false);
	if (optind < argc) {
		for (int i = optind; i < argc; i++)
			compact_topic(&r, &sp, argv[i]);
	} else {
		char **names;
		size_t n;
		if (mq_spool_topics(&sp, &names, &n, &e) < 0)
			cli_fail(&e);
		for (size_t i = 0; i < n; i++)
			compact_topic(&r, &sp, names[i]);
		mq_names_free(names, n);
	}
	mq_spool_close(&sp);
	if (fflush(stdout) == EOF || ferror(stdout))
		cli_die(CLI_ERROR, "cannot write output");
	return r.status;
}
