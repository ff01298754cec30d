/*
 * replay.c - runs a fuzz target without libFuzzer: every FILE given, and
 * every file in every DIR given (in name order, dot files skipped), is
 * read into a buffer of exactly its size and passed to the target's
 * LLVMFuzzerTestOneInput once.  Linked with each target and the normal
 * libmq, it is how `make check` replays the corpus in tests/fuzz/corpus,
 * under the sanitizers when the build has them.  A crash or a failed
 * check in the target ends the program abnormally; otherwise it prints
 * "N inputs" and exits 0.  With -v it names each file on stderr first.
 */
#include <config.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fuzz.h"

#pragma weak LLVMFuzzerInitialize

static bool verbose;
static size_t ninputs;

static int
run_file(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	unsigned char *buf;
	ssize_t got;

	if (fd < 0 || fstat(fd, &st) < 0) {
		fprintf(stderr, "replay: cannot open '%s': %s\n", path,
			strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	buf = malloc(st.st_size ? (size_t)st.st_size : 1);
	if (!buf) {
		fprintf(stderr, "replay: '%s' is too large\n", path);
		close(fd);
		return -1;
	}
	got = mq_read_full(fd, buf, (size_t)st.st_size);
	close(fd);
	if (got != (ssize_t)st.st_size) {
		fprintf(stderr, "replay: cannot read '%s'\n", path);
		free(buf);
		return -1;
	}
	if (verbose)
		fprintf(stderr, "replay: %s\n", path);
	LLVMFuzzerTestOneInput(buf, (size_t)got);
	free(buf);
	ninputs++;
	return 0;
}

static int
skip_dots(const struct dirent *de)
{
	return de->d_name[0] != '.';
}

static int
run_path(const char *path)
{
	struct dirent **list;
	struct stat st;
	int n, rc = 0;

	if (stat(path, &st) == 0 && !S_ISDIR(st.st_mode))
		return run_file(path);
	n = scandir(path, &list, skip_dots, alphasort);
	if (n < 0) {
		fprintf(stderr, "replay: cannot read '%s': %s\n", path,
			strerror(errno));
		return -1;
	}
	for (int i = 0; i < n; i++) {
		size_t len = strlen(path) + strlen(list[i]->d_name) + 2;
		char *file = malloc(len);
		if (!file || (snprintf(file, len, "%s/%s", path,
				       list[i]->d_name), run_file(file) < 0))
			rc = -1;
		free(file);
		free(list[i]);
	}
	free(list);
	return rc;
}

int
main(int argc, char **argv)
{
	int rc = 0;

	if (argc > 1 && strcmp(argv[1], "-v") == 0) {
		verbose = true;
		argv++;
		argc--;
	}
	if (argc < 2) {
		fprintf(stderr, "usage: replay-TARGET [-v] FILE|DIR...\n");
		return 2;
	}
	if (LLVMFuzzerInitialize)
		LLVMFuzzerInitialize(&argc, &argv);
	for (int i = 1; i < argc; i++)
		if (run_path(argv[i]) < 0)
			rc = 1;
	printf("%zu inputs\n", ninputs);
	return rc;
}
