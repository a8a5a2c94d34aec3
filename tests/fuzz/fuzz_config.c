/*
 * libFuzzer harness for daemon/config.c: the input is written to a temp file
 * (created once per run, rewritten for each input) and read with
 * config_load, its diagnostics going to /dev/null.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char path[] = "/tmp/mercomail-fuzz-config.XXXXXX";
static int fd = -1;
static FILE *devnull;

static void
cleanup(void)
{
	if (fd >= 0) {
		close(fd);
		unlink(path);
	}
	if (devnull != NULL)
		fclose(devnull);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fd = mkstemp(path);
	if (fd < 0) {
		perror("mkstemp");
		abort();
	}
	devnull = fopen("/dev/null", "w");
	if (devnull == NULL) {
		perror("/dev/null");
		abort();
	}
	atexit(cleanup);
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct err e = { { 0 } };
	struct config *cfg;
	size_t off = 0;

	if (ftruncate(fd, 0) != 0)
		abort();
	while (off < size) {
		ssize_t w = pwrite(fd, data + off, size - off, (off_t)off);

		if (w <= 0)
			abort();
		off += (size_t)w;
	}

	cfg = config_load(path, devnull, &e);
	config_free(cfg);
	return 0;
}
