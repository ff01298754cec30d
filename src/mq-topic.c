/*
 * mq-topic - create, list, describe, alter and delete topics; export
 * them as tar archives and import them back; verify and repair their
 * partitions (verify.c).
 */
#include <config.h>

#include <errno.h>
#include <getopt.h>
#include <grp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

static const char usage_text[] =
"Usage: mq-topic [-d DIR] init [--group NAME]\n"
"       mq-topic [-d DIR] create TOPIC [-p N] [-c KEY=VALUE]... [--if-not-exists]\n"
"       mq-topic [-d DIR] list\n"
"       mq-topic [-d DIR] describe [TOPIC...] [--json]\n"
"       mq-topic [-d DIR] alter TOPIC [-p N] [-c KEY=VALUE]...\n"
"                [--lock-timeout DURATION]\n"
"       mq-topic [-d DIR] delete TOPIC [--if-exists] [--lock-timeout DURATION]\n"
"       mq-topic [-d DIR] export TOPIC [-o FILE]\n"
"       mq-topic [-d DIR] import FILE [--as NAME]\n"
"       mq-topic [-d DIR] verify [TOPIC...] [-p N] [--json]\n"
"       mq-topic [-d DIR] repair TOPIC [-p N] [--lock-timeout DURATION]\n"
"       mq-topic --help | --version\n"
"\n"
"  -d, --spool DIR       the spool (default $MQ_SPOOL, else ~/.mq)\n"
"  -p, --partitions N    number of partitions (alter: grow to N), the same\n"
"                        as -c partitions=N (both given: they must agree);\n"
"                        verify, repair: partition N only\n"
"  -c, --config KEY=VALUE  set a topic config key (repeatable): partitions,\n"
"                        segment.bytes, segment.ms, retention.ms,\n"
"                        retention.bytes, cleanup.policy, compression,\n"
"                        max.message.bytes, min.compaction.lag.ms,\n"
"                        delete.retention.ms,\n"
"                        message.timestamp.before.max.ms,\n"
"                        message.timestamp.after.max.ms\n"
"      --if-not-exists   create: succeed if the topic exists\n"
"      --if-exists       delete: succeed if the topic does not exist\n"
"      --json            describe, verify: print JSON\n"
"  -o, --output FILE     export: write to FILE, which ends in .tar, .tar.gz\n"
"                        or .tar.zst (default: a tar on standard output)\n"
"      --as NAME         import: create the topic as NAME\n"
"      --group NAME      init: share the spool with the Unix group NAME\n"

"      --lock-timeout DURATION  alter, delete, repair: wait at most this long\n"
"                        for a lock another process holds (default 60s)\n"
"  -h, --help            show this help and exit\n"
"  -V, --version         show the version and exit\n";

enum { OPT_IF_NOT_EXISTS = 256, OPT_IF_EXISTS, OPT_JSON, OPT_AS, OPT_GROUP,
       OPT_LOCK };

static const struct option longopts[] = {
	{"spool", required_argument, NULL, 'd'},
	{"partitions", required_argument, NULL, 'p'},
	{"config", required_argument, NULL, 'c'},
	{"if-not-exists", no_argument, NULL, OPT_IF_NOT_EXISTS},
	{"if-exists", no_argument, NULL, OPT_IF_EXISTS},
	{"json", no_argument, NULL, OPT_JSON},
	{"output", required_argument, NULL, 'o'},
	{"as", required_argument, NULL, OPT_AS},
	{"group", required_argument, NULL, OPT_GROUP},
	{"lock-timeout", required_argument, NULL, OPT_LOCK},
	{"help", no_argument, NULL, 'h'},
	{"version", no_argument, NULL, 'V'},
	{NULL, 0, NULL, 0}
};

struct opts {
	const char *dir, *partitions;
	const char *output, *as, *group;
	bool lock_timeout;
	char **configs;
	size_t nconfigs;
	bool if_not_exists, if_exists, json;
};

/*
 * Applies -c and -p to cfg; a bad key or value is a usage error, and so
 * is -p N beside a -c partitions=M that says otherwise.
 */
static void
apply(struct mq_config *cfg, const struct opts *o)
{
	struct mq_err e;
	const char *pc = NULL;   /* the last -c partitions=... */
	int64_t from_c = 0;

	for (size_t i = 0; i < o->nconfigs; i++) {
		if (mq_config_set_kv(cfg, o->configs[i], &e) < 0)
			cli_usage("%s", e.msg);
		if (strncmp(o->configs[i], "partitions=", 11) == 0) {
			pc = o->configs[i];
			from_c = cfg->partitions;
		}
	}
	if (o->partitions && mq_config_set(cfg, "partitions", o->partitions,
					   &e) < 0)
		cli_usage("%s", e.msg);
	if (o->partitions && pc && cfg->partitions != from_c)
		cli_usage("-p %s contradicts -c %s", o->partitions, pc);
}

static bool
numeric(const char *s)
{
	return *s && strspn(s + (*s == '-'), "0123456789") ==
			     strlen(s + (*s == '-'));
}

/*
 * Describes a topic; a partition whose log is damaged is shown without
 * its start and end, and reported: returns false then.
 */
static bool
describe(struct mq_topic *tp, bool json, bool first)
{
	bool ok = true;
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
		bool damaged = false;
		char start[24], end[24];
		if (mq_partition_info(&t, p, &pi, &e) < 0) {
			if (e.code != EBADMSG)
				cli_fail(&e);
			cli_warn("'%s' partition %u: %s (see mq-topic verify)",
				 name, p, e.msg);
			damaged = true;
			ok = false;
		}
		if (damaged) {
			snprintf(start, sizeof start, "%s", json ? "null" : "-");
			snprintf(end, sizeof end, "%s", start);
		} else {
			snprintf(start, sizeof start, "%llu",
				 (unsigned long long)pi.start);
			snprintf(end, sizeof end, "%llu",
				 (unsigned long long)pi.end);
		}
		if (pi.recoveries)
			mq_time_format(pi.last_recovery_ms, when, sizeof when);
		if (json) {
			printf("%s{\"partition\":%u,\"start_offset\":%s,"
			       "\"end_offset\":%s,\"segments\":%llu,"
			       "\"bytes\":%llu,\"truncated_bytes\":%llu,"
			       "\"recoveries\":%llu,\"last_recovery\":",
			       p ? "," : "", p, start, end,
			       (unsigned long long)pi.segments,
			       (unsigned long long)pi.bytes,
			       (unsigned long long)pi.recovered_bytes,
			       (unsigned long long)pi.recoveries);
			printf(pi.recoveries ? "\"%s\"}" : "null}", when);
		} else {
			printf("\tPartition: %u\tStart: %s\tEnd: %s\t"
			       "Segments: %llu\tBytes: %llu\tTruncatedBytes: %llu",
			       p, start, end,
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
	return ok;
}

/* ---- verify and repair ---- */

struct check {
	const char *topic;
	uint32_t p;
	bool json;
	FILE *jp;                /* --json: the problems array, built apart */
	char *jbuf;
	size_t jlen;
	uint64_t nprob;
};

static void
json_str(FILE *f, const char *s)
{
	putc('"', f);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c < 0x20)
			fprintf(f, "\\u%04x", c);
		else
			putc(c, f);
	}
	putc('"', f);
}

static void
on_note(void *arg, const struct mq_vnote *n)
{
	struct check *c = arg;
	char file[700];

	snprintf(file, sizeof file, "%s/%u/%s", c->topic, c->p, n->file);
	cli_progress_clear();   /* stdout may be the same terminal */
	if (n->kind == MQ_VK_ACTION) {
		printf("%s: %s\n", file, n->msg);
		return;
	}
	c->nprob++;
	if (!c->json) {
		printf("%s: byte %llu: %s\n", file, (unsigned long long)n->byte,
		       n->msg);
		return;
	}
	fprintf(c->jp, "%s{\"file\":", c->nprob > 1 ? "," : "");
	json_str(c->jp, file);
	fprintf(c->jp, ",\"byte\":%llu,\"kind\":\"%s\",\"message\":",
		(unsigned long long)n->byte, mq_vkind_name(n->kind));
	json_str(c->jp, n->msg);
	putc('}', c->jp);
}

/* The partitions to work on: all, or -p N (which the topic must have). */
static void
parts(const struct mq_topic *t, const struct opts *o, uint32_t *lo,
      uint32_t *hi)
{
	*lo = 0;
	*hi = (uint32_t)t->cfg.partitions;
	if (o->partitions) {
		uint64_t p = cli_u64("-p", o->partitions, 0, MQ_MAX_PARTITIONS);
		if (p >= (uint64_t)t->cfg.partitions)
			cli_usage("topic '%s' has no partition %llu (it has "
				  "%lld)", t->name, (unsigned long long)p,
				  (long long)t->cfg.partitions);
		*lo = (uint32_t)p;
		*hi = *lo + 1;
	}
}

static int
verify(struct mq_spool *sp, char **names, size_t n, struct opts *o)
{
	struct mq_topic *tv = calloc(n ? n : 1, sizeof *tv);
	struct check c = {.json = o->json};
	struct mq_vstats sum = {0}, st;
	struct mq_err e;
	uint64_t nparts = 0;

	if (!tv)
		cli_die(CLI_ERROR, "out of memory");
	/* Open them all first: a missing one fails before output. */
	for (size_t i = 0; i < n; i++)
		if (mq_topic_open(&tv[i], sp, names[i], &e) < 0)
			cli_fail(&e);
	if (o->json && !(c.jp = open_memstream(&c.jbuf, &c.jlen)))
		cli_die(CLI_ERROR, "out of memory");
	if (o->json)
		printf("{\"partitions\":[");
	for (size_t i = 0; i < n; i++) {
		uint32_t lo, hi;
		parts(&tv[i], o, &lo, &hi);
		for (uint32_t p = lo; p < hi; p++) {
			c.topic = tv[i].name;
			c.p = p;
			cli_progress_label("verify '%s' partition %u of %lld",
					   tv[i].name, p,
					   (long long)tv[i].cfg.partitions);
			if (mq_partition_verify(&tv[i], p, on_note, &c, &st,
						&e) < 0)
				cli_fail(&e);
			if (o->json)
				printf("%s{\"topic\":\"%s\",\"partition\":%u,"
				       "\"segments\":%llu,\"batches\":%llu,"
				       "\"messages\":%llu,\"bytes\":%llu,"
				       "\"unfinished_tail_bytes\":%llu,"
				       "\"problems\":%llu}", nparts ? "," : "",
				       tv[i].name, p,
				       (unsigned long long)st.segments,
				       (unsigned long long)st.batches,
				       (unsigned long long)st.messages,
				       (unsigned long long)st.bytes,
				       (unsigned long long)st.tail_bytes,
				       (unsigned long long)st.problems);
			nparts++;
			sum.segments += st.segments;
			sum.batches += st.batches;
			sum.messages += st.messages;
			sum.bytes += st.bytes;
			sum.problems += st.problems;
		}
		mq_topic_close(&tv[i]);
	}
	free(tv);
	cli_progress_clear();
	if (o->json) {
		if (fclose(c.jp) != 0)
			cli_die(CLI_ERROR, "out of memory");
		printf("],\"problems\":[%s],\"summary\":{\"topics\":%zu,"
		       "\"partitions\":%llu,\"segments\":%llu,\"batches\":%llu,"
		       "\"messages\":%llu,\"bytes\":%llu,\"problems\":%llu}}\n",
		       c.jbuf ? c.jbuf : "", n, (unsigned long long)nparts,
		       (unsigned long long)sum.segments,
		       (unsigned long long)sum.batches,
		       (unsigned long long)sum.messages,
		       (unsigned long long)sum.bytes,
		       (unsigned long long)sum.problems);
		free(c.jbuf);
	} else {
		printf("verified %zu topics, %llu partitions, %llu segments, "
		       "%llu batches, %llu messages: %llu problems\n", n,
		       (unsigned long long)nparts,
		       (unsigned long long)sum.segments,
		       (unsigned long long)sum.batches,
		       (unsigned long long)sum.messages,
		       (unsigned long long)sum.problems);
	}
	return sum.problems ? CLI_ERROR : CLI_OK;
}

static int
repair(struct mq_spool *sp, const char *name, struct opts *o)
{
	struct mq_topic t;
	struct check c = {0};
	struct mq_rstats rs;
	struct mq_vstats st;
	struct mq_err e;
	uint32_t lo, hi;
	int rc = CLI_OK;

	if (mq_topic_open(&t, sp, name, &e) < 0)
		cli_fail(&e);
	parts(&t, o, &lo, &hi);
	for (uint32_t p = lo; p < hi; p++) {
		c.topic = t.name;
		c.p = p;
		c.nprob = 0;
		cli_progress_label("repair '%s' partition %u of %lld",
				   t.name, p, (long long)t.cfg.partitions);
		if (mq_partition_repair(&t, p, on_note, &c, &rs, &e) < 0)
			cli_fail(&e);
		/* What is left is printed as verify prints it. */
		if (mq_partition_verify(&t, p, on_note, &c, &st, &e) < 0)
			cli_fail(&e);
		cli_progress_clear();
		if (st.problems) {
			printf("%s/%u: %llu problems remain\n", t.name, p,
			       (unsigned long long)st.problems);
			rc = CLI_ERROR;
		} else if (rs.actions == 0) {
			printf("%s/%u: nothing to repair\n", t.name, p);
		} else {
			printf("%s/%u: repaired\n", t.name, p);
		}
	}
	mq_topic_close(&t);
	return rc;
}

/* verify and repair: a spool that does not exist holds nothing. */
static int
check_cmd(const char *cmd, char **args, int nargs, struct opts *o)
{
	struct mq_spool sp;
	struct mq_err e;
	char **names = args;
	size_t n = (size_t)nargs;
	int rc;

	cli_open_spool(&sp, o->dir, false);
	if (!strcmp(cmd, "repair")) {
		rc = repair(&sp, args[0], o);
	} else {
		if (nargs == 0 && mq_spool_topics(&sp, &names, &n, &e) < 0)
			cli_fail(&e);
		rc = verify(&sp, names, n, o);
		if (nargs == 0)
			mq_names_free(names, n);
	}
	mq_spool_close(&sp);
	if (fflush(stdout) == EOF || ferror(stdout))
		cli_die(CLI_ERROR, "cannot write output");
	return rc;
}

/*
 * init: creates the spool if needed and, with --group or when asked to
 * share it, makes it shared by a Unix group (share.c).
 */
static int
init_cmd(const struct opts *o)
{
	struct mq_spool sp;
	struct mq_err e;
	gid_t gid = (gid_t)-1;

	if (o->group) {
		struct group *g = getgrnam(o->group);
		char *end;
		unsigned long n = strtoul(o->group, &end, 10);
		if (g)
			gid = g->gr_gid;
		else if (*o->group && !*end && n < (unsigned long)(gid_t)-1)
			gid = (gid_t)n;
		else
			cli_usage("no such group '%s'", o->group);
	}
	cli_open_spool(&sp, o->dir, true);
	if (o->group && mq_spool_share(&sp, gid, &e) < 0)
		cli_fail(&e);
	mq_spool_close(&sp);
	return CLI_OK;
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
	int status = CLI_OK;

	cli_open_spool(&sp, o->dir, strcmp(cmd, "create") == 0 || import);
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
		cli_progress_label("export '%s'", t.name);
		if (mq_topic_export(&t, STDOUT_FILENO, o->output, &e) < 0)
			cli_fail(&e);
		cli_progress_clear();
		mq_topic_close(&t);
	} else if (import) {
		if (strcmp(args[0], "-"))
			cli_progress_label("import '%s'", args[0]);
		else
			cli_progress_label("import from standard input");
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
			if (!describe(&tv[i], o->json, i == 0))
				status = CLI_ERROR;
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
	return status;
}

int
main(int argc, char **argv)
{
	struct opts o = {0};
	const char *cmd;
	int c, nargs;
	bool checking;

	cli_init(argv[0]);
	o.configs = calloc((size_t)argc, sizeof *o.configs);
	if (!o.configs)
		cli_die(CLI_ERROR, "out of memory");
	while ((c = getopt_long(argc, argv, ":d:p:c:o:hV", longopts, NULL)) != -1) {
		switch (c) {
		case 'd': o.dir = cli_spool_arg(optarg); break;
		case 'p': o.partitions = optarg; break;
		case 'c': o.configs[o.nconfigs++] = optarg; break;
		case OPT_IF_NOT_EXISTS: o.if_not_exists = true; break;
		case OPT_IF_EXISTS: o.if_exists = true; break;
		case OPT_JSON: o.json = true; break;
		case 'o': o.output = optarg; break;
		case OPT_AS: o.as = optarg; break;
		case OPT_GROUP: o.group = optarg; break;
		case OPT_LOCK:
			cli_lock_timeout("--lock-timeout", optarg);
			o.lock_timeout = true;
			break;
		case 'h':
			fputs(usage_text, stdout);
			free(o.configs);
			return CLI_OK;
		case 'V': cli_version();
		default: cli_bad_option(c, argv);
		}
	}
	if (optind >= argc)
		cli_usage("missing command: init, create, list, describe, "
			  "alter, delete, export, import, verify or repair");
	cmd = argv[optind++];
	nargs = argc - optind;
	if (strcmp(cmd, "init") && strcmp(cmd, "create") &&
	    strcmp(cmd, "list") && strcmp(cmd, "describe") &&
	    strcmp(cmd, "alter") && strcmp(cmd, "delete") &&
	    strcmp(cmd, "export") && strcmp(cmd, "import") &&
	    strcmp(cmd, "verify") && strcmp(cmd, "repair"))
		cli_usage("unknown command '%s': use init, create, list, "
			  "describe, alter, delete, export, import, verify or "
			  "repair", cmd);
	checking = !strcmp(cmd, "verify") || !strcmp(cmd, "repair");
	if (o.nconfigs && strcmp(cmd, "create") && strcmp(cmd, "alter"))
		cli_usage("-c applies to create and alter only");
	if (o.partitions && strcmp(cmd, "create") && strcmp(cmd, "alter") &&
	    !checking)
		cli_usage("-p applies to create, alter, verify and repair only");
	if (o.partitions && checking)
		cli_u64("-p", o.partitions, 0, MQ_MAX_PARTITIONS - 1);
	if (!strcmp(cmd, "repair") && nargs != 1)
		cli_usage("repair takes exactly one topic");
	if (o.if_not_exists && strcmp(cmd, "create"))
		cli_usage("--if-not-exists applies to create only");
	if (o.if_exists && strcmp(cmd, "delete"))
		cli_usage("--if-exists applies to delete only");
	if (o.json && strcmp(cmd, "describe") && strcmp(cmd, "verify"))
		cli_usage("--json applies to describe and verify only");
	if (o.output && strcmp(cmd, "export"))
		cli_usage("-o applies to export only");
	if (o.as && strcmp(cmd, "import"))
		cli_usage("--as applies to import only");
	if (o.group && strcmp(cmd, "init"))
		cli_usage("--group applies to init only");
	if (o.lock_timeout && strcmp(cmd, "alter") && strcmp(cmd, "repair") &&
	    strcmp(cmd, "delete"))
		cli_usage("--lock-timeout applies to alter, delete and repair "
			  "only");
	if (!strcmp(cmd, "init") && nargs)
		cli_usage("init takes no arguments");
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
	if (checking || !strcmp(cmd, "export") || !strcmp(cmd, "import"))
		cli_progress_start();
	c = checking ? check_cmd(cmd, argv + optind, nargs, &o)
	    : !strcmp(cmd, "init") ? init_cmd(&o)
	    : run(cmd, argv + optind, nargs, &o);
	free(o.configs);
	return c;
}
