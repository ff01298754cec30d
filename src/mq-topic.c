/*
 * mq-topic - create, list, describe, alter and delete topics; export
 * them as tar archives and import them back.
 */
#include <config.h>

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

static const char usage_text[] =
"Usage: mq-topic [-d DIR] create TOPIC [-p N] [-c KEY=VALUE]... [--if-not-exists]\n"
"       mq-topic [-d DIR] list\n"
"       mq-topic [-d DIR] describe [TOPIC...] [--json]\n"
"       mq-topic [-d DIR] alter TOPIC [-p N] [-c KEY=VALUE]...\n"
"       mq-topic [-d DIR] delete TOPIC [--if-exists]\n"
"       mq-topic [-d DIR] export TOPIC [-o FILE]\n"
"       mq-topic [-d DIR] import FILE [--as NAME]\n"
"       mq-topic --help | --version\n"
"\n"
"  -d, --spool DIR       the spool (default $MQ_SPOOL, else ~/.mq)\n"
"  -p, --partitions N    number of partitions (alter: grow to N)\n"
"  -c, --config KEY=VALUE  set a topic config key (repeatable): partitions,\n"
"                        segment.bytes, segment.ms, retention.ms,\n"
"                        retention.bytes, cleanup.policy, compression,\n"
"                        max.message.bytes, min.compaction.lag.ms,\n"
"                        delete.retention.ms\n"
"      --if-not-exists   create: succeed if the topic exists\n"
"      --if-exists       delete: succeed if the topic does not exist\n"
"      --json            describe: print JSON\n"
"  -o, --output FILE     export: write to FILE, which ends in .tar, .tar.gz\n"
"                        or .tar.zst (default: a tar on standard output)\n"
"      --as NAME         import: create the topic as NAME\n"
"  -h, --help            show this help and exit\n"
"  -V, --version         show the version and exit\n";

enum { OPT_IF_NOT_EXISTS = 256, OPT_IF_EXISTS, OPT_JSON, OPT_AS };

static const struct option longopts[] = {
	{"spool", required_argument, NULL, 'd'},
	{"partitions", required_argument, NULL, 'p'},
	{"config", required_argument, NULL, 'c'},
	{"if-not-exists", no_argument, NULL, OPT_IF_NOT_EXISTS},
	{"if-exists", no_argument, NULL, OPT_IF_EXISTS},
	{"json", no_argument, NULL, OPT_JSON},
	{"output", required_argument, NULL, 'o'},
	{"as", required_argument, NULL, OPT_AS},
	{"help", no_argument, NULL, 'h'},
	{"version", no_argument, NULL, 'V'},
	{NULL, 0, NULL, 0}
};

struct opts {
	const char *dir, *partitions;
	const char *output, *as;
	char **configs;
	size_t nconfigs;
	bool if_not_exists, if_exists, json;
};

/* Applies -c and -p to cfg; a bad key or value is a usage error. */
static void
apply(struct mq_config *cfg, const struct opts *o)
{
	struct mq_err e;

	for (size_t i = 0; i < o->nconfigs; i++)
		if (mq_config_set_kv(cfg, o->configs[i], &e) < 0)
			cli_usage("%s", e.msg);
	if (o->partitions && mq_config_set(cfg, "partitions", o->partitions,
					   &e) < 0)
		cli_usage("%s", e.msg);
}

static bool
numeric(const char *s)
{
	return *s && strspn(s + (*s == '-'), "0123456789") ==
			     strlen(s + (*s == '-'));
}

static void
describe(struct mq_topic *tp, bool json, bool first)
{
	struct mq_topic t = *tp;
	const char *name = t.name;
	struct mq_err e;
	char val[64], when[64];

	if (json) {
		printf("%s{\"topic\":\"%s\",\"config\":{", first ? "" : ",",
		       name);
		for (size_t i = 0; i < mq_config_count(); i++) {
			const char *k = mq_config_get(&t.cfg, i, val,
						      sizeof val);
			printf(numeric(val) ? "%s\"%s\":%s" : "%s\"%s\":\"%s\"",
			       i ? "," : "", k, val);
		}
		printf("},\"partitions\":[");
	} else {
		printf("Topic: %s\tPartitionCount: %lld\tConfigs: ", name,
		       (long long)t.cfg.partitions);
		for (size_t i = 0; i < mq_config_count(); i++) {
			const char *k = mq_config_get(&t.cfg, i, val,
						      sizeof val);
			printf("%s%s=%s", i ? "," : "", k, val);
		}
		printf("\n");
	}
	for (uint32_t p = 0; p < (uint32_t)t.cfg.partitions; p++) {
		struct mq_pinfo pi;
		if (mq_partition_info(&t, p, &pi, &e) < 0)
			cli_fail(&e);
		if (pi.recoveries)
			mq_time_format(pi.last_recovery_ms, when, sizeof when);
		if (json) {
			printf("%s{\"partition\":%u,\"start_offset\":%llu,"
			       "\"end_offset\":%llu,\"segments\":%llu,"
			       "\"bytes\":%llu,\"truncated_bytes\":%llu,"
			       "\"recoveries\":%llu,\"last_recovery\":",
			       p ? "," : "", p, (unsigned long long)pi.start,
			       (unsigned long long)pi.end,
			       (unsigned long long)pi.segments,
			       (unsigned long long)pi.bytes,
			       (unsigned long long)pi.recovered_bytes,
			       (unsigned long long)pi.recoveries);
			printf(pi.recoveries ? "\"%s\"}" : "null}", when);
		} else {
			printf("\tPartition: %u\tStart: %llu\tEnd: %llu\t"
			       "Segments: %llu\tBytes: %llu\tTruncatedBytes: %llu",
			       p, (unsigned long long)pi.start,
			       (unsigned long long)pi.end,
			       (unsigned long long)pi.segments,
			       (unsigned long long)pi.bytes,
			       (unsigned long long)pi.recovered_bytes);
			if (pi.recoveries)
				printf(" (%llu recover%s, last %s)",
				       (unsigned long long)pi.recoveries,
				       pi.recoveries == 1 ? "y" : "ies", when);
			printf("\n");
		}
	}
	if (json)
		printf("]}");
}

static int
run(const char *cmd, char **args, int nargs, struct opts *o)
{
	struct mq_spool sp;
	struct mq_topic t;
	struct mq_config cfg;
	struct mq_err e;
	char **names, name[256];
	size_t n;
	bool import = strcmp(cmd, "import") == 0;

	if (cli_open_spool(&sp, o->dir, strcmp(cmd, "create") == 0 || import,
			   nargs && !o->if_exists ? args[0] : NULL) < 0) {
		/* No spool yet: nothing to list, describe or delete. */
		if (o->json)
			printf("[]\n");
		return CLI_OK;
	}
	if (strcmp(cmd, "create") == 0) {
		mq_config_defaults(&cfg);
		apply(&cfg, o);
		if (mq_topic_create(&sp, args[0], &cfg, &e) < 0 &&
		    !(e.code == EEXIST && o->if_not_exists))
			cli_fail(&e);
	} else if (strcmp(cmd, "alter") == 0) {
		if (mq_topic_open(&t, &sp, args[0], &e) < 0)
			cli_fail(&e);
		cfg = t.cfg;
		apply(&cfg, o);
		if (mq_topic_alter(&t, &cfg, &e) < 0)
			cli_fail(&e);
		mq_topic_close(&t);
	} else if (strcmp(cmd, "delete") == 0) {
		if (mq_topic_delete(&sp, args[0], &e) < 0 &&
		    !(e.code == ENOENT && o->if_exists))
			cli_fail(&e);
	} else if (strcmp(cmd, "export") == 0) {
		if (mq_topic_open(&t, &sp, args[0], &e) < 0)
			cli_fail(&e);
		if (mq_topic_export(&t, STDOUT_FILENO, o->output, &e) < 0)
			cli_fail(&e);
		mq_topic_close(&t);
	} else if (import) {
		if (mq_topic_import(&sp, strcmp(args[0], "-") ? args[0] : NULL,
				    o->as, name, &e) < 0)
			cli_fail(&e);
	} else if (strcmp(cmd, "list") == 0) {
		if (mq_spool_topics(&sp, &names, &n, &e) < 0)
			cli_fail(&e);
		for (size_t i = 0; i < n; i++)
			printf("%s\n", names[i]);
		mq_names_free(names, n);
	} else {
		if (nargs == 0) {
			if (mq_spool_topics(&sp, &names, &n, &e) < 0)
				cli_fail(&e);
		} else {
			names = args;
			n = (size_t)nargs;
		}
		/* Open them all first: a missing one fails before output. */
		struct mq_topic *tv = calloc(n ? n : 1, sizeof *tv);
		if (!tv)
			cli_die(CLI_ERROR, "out of memory");
		for (size_t i = 0; i < n; i++)
			if (mq_topic_open(&tv[i], &sp, names[i], &e) < 0)
				cli_fail(&e);
		if (o->json)
			printf("[");
		for (size_t i = 0; i < n; i++) {
			describe(&tv[i], o->json, i == 0);
			mq_topic_close(&tv[i]);
		}
		free(tv);
		if (o->json)
			printf("]\n");
		if (nargs == 0)
			mq_names_free(names, n);
	}
	mq_spool_close(&sp);
	if (fflush(stdout) == EOF || ferror(stdout))
		cli_die(CLI_ERROR, "cannot write output");
	return CLI_OK;
}

int
main(int argc, char **argv)
{
	struct opts o = {0};
	const char *cmd;
	int c, nargs;

	cli_init(argv[0]);
	o.configs = calloc((size_t)argc, sizeof *o.configs);
	if (!o.configs)
		cli_die(CLI_ERROR, "out of memory");
	while ((c = getopt_long(argc, argv, ":d:p:c:o:hV", longopts, NULL)) != -1) {
		switch (c) {
		case 'd': o.dir = optarg; break;
		case 'p': o.partitions = optarg; break;
		case 'c': o.configs[o.nconfigs++] = optarg; break;
		case OPT_IF_NOT_EXISTS: o.if_not_exists = true; break;
		case OPT_IF_EXISTS: o.if_exists = true; break;
		case OPT_JSON: o.json = true; break;
		case 'o': o.output = optarg; break;
		case OPT_AS: o.as = optarg; break;
		case 'h':
			fputs(usage_text, stdout);
			free(o.configs);
			return CLI_OK;
		case 'V': cli_version();
		default: cli_bad_option(c, argv);
		}
	}
	if (optind >= argc)
		cli_usage("missing command: create, list, describe, alter, "
			  "delete, export or import");
	cmd = argv[optind++];
	nargs = argc - optind;
	if (strcmp(cmd, "create") && strcmp(cmd, "list") &&
	    strcmp(cmd, "describe") && strcmp(cmd, "alter") &&
	    strcmp(cmd, "delete") && strcmp(cmd, "export") &&
	    strcmp(cmd, "import"))
		cli_usage("unknown command '%s': use create, list, describe, "
			  "alter, delete, export or import", cmd);
	if ((o.partitions || o.nconfigs) && strcmp(cmd, "create") &&
	    strcmp(cmd, "alter"))
		cli_usage("-p and -c apply to create and alter only");
	if (o.if_not_exists && strcmp(cmd, "create"))
		cli_usage("--if-not-exists applies to create only");
	if (o.if_exists && strcmp(cmd, "delete"))
		cli_usage("--if-exists applies to delete only");
	if (o.json && strcmp(cmd, "describe"))
		cli_usage("--json applies to describe only");
	if (o.output && strcmp(cmd, "export"))
		cli_usage("-o applies to export only");
	if (o.as && strcmp(cmd, "import"))
		cli_usage("--as applies to import only");
	if (strcmp(cmd, "list") == 0 && nargs)
		cli_usage("list takes no arguments");
	if ((!strcmp(cmd, "create") || !strcmp(cmd, "alter") ||
	     !strcmp(cmd, "delete") || !strcmp(cmd, "export")) && nargs != 1)
		cli_usage("%s takes exactly one topic", cmd);
	if (!strcmp(cmd, "import") && nargs != 1)
		cli_usage("import takes exactly one archive (- for standard "
			  "input)");
	if (!strcmp(cmd, "alter") && !o.partitions && !o.nconfigs)
		cli_usage("alter needs -p or -c");
	for (int i = optind; i < argc && strcmp(cmd, "import"); i++) {
		struct mq_err e;
		if (mq_topic_name_check(argv[i], &e) < 0)
			cli_usage("%s", e.msg);
	}
	if (o.as) {
		struct mq_err e;
		if (mq_topic_name_check(o.as, &e) < 0)
			cli_usage("%s", e.msg);
	}
	if (!strcmp(cmd, "export") && (!o.output || !strcmp(o.output, "-"))) {
		o.output = NULL;
		if (isatty(STDOUT_FILENO))
			cli_usage("refusing to write an archive to a terminal "
				  "(use -o FILE)");
	}
	/* An export or import can take long, and nothing here watches
	 * cli_stop: let ^C end it.  What it leaves is a temporary file or
	 * directory, never a half archive or topic under its name. */
	if (!strcmp(cmd, "export") || !strcmp(cmd, "import")) {
		signal(SIGINT, SIG_DFL);
		signal(SIGTERM, SIG_DFL);
	}
	c = run(cmd, argv + optind, nargs, &o);
	free(o.configs);
	return c;
}
