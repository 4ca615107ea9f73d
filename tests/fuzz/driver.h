/* SPDX-License-Identifier: Apache-2.0 */
/*
 * driver.h - a main() for the fuzz targets when libFuzzer is not there
 * (gcc + ASan/UBSan, `make fuzz`): every file named, or every file in a
 * directory named, is run once and then 2000 random mutations of it (byte
 * flips, inserts from FUZZ_DICT, truncations; fixed seed, so a failure
 * reproduces).  A target may also define fuzz_seeds(), inputs built in
 * code (define FUZZ_HAVE_SEEDS first), which get the same treatment;
 * `--write-seeds DIR` stores them as files, a corpus for a libFuzzer
 * campaign.  Include once, before the target's code.
 */
#ifndef EMBER_FUZZ_DRIVER_H
#define EMBER_FUZZ_DRIVER_H

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/*
 * The seeds and the report are the targets' own; with libFuzzer (which has
 * its own main()) nothing calls them, hence unused.
 */
#include <stdlib.h>
#include <string.h>

struct fuzz_seed {
	const char *name;
	uint8_t *data;
	size_t len;
};

#ifdef FUZZ_HAVE_SEEDS
/* The target's built-in inputs; how many went into @s (each data malloc()ed). */
__attribute__((unused)) static unsigned fuzz_seeds(struct fuzz_seed *s, unsigned max);

/* A copy of @len bytes at @data becomes seed @name, the @n-th of @s. */
__attribute__((unused)) static inline void
fuzz_seed_add(struct fuzz_seed *s, unsigned *n, const char *name, const void *data, size_t len)
{
	s[*n] = (struct fuzz_seed){.name = name, .data = malloc(len ? len : 1), .len = len};
	if (!s[*n].data)
		abort();
	memcpy(s[*n].data, data, len);
	(*n)++;
}
#endif
#ifdef FUZZ_HAVE_REPORT
/* After the runs: the target's own summary; non-zero fails the run. */
__attribute__((unused)) static int fuzz_report(void);
#endif

#ifndef EMBER_LIBFUZZER
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#ifndef FUZZ_DICT
#define FUZZ_DICT "\0\1\377\200 \"{}:,0123456789"
#endif
#define FUZZ_MUTATIONS 2000

static uint8_t *fuzz_read(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf = NULL;
	long n;

	if (!f)
		return NULL;
	if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 && n < (1 << 20) &&
	    fseek(f, 0, SEEK_SET) == 0) {
		buf = malloc((size_t)n + 1);
		if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
			free(buf);
			buf = NULL;
		}
		*len = (size_t)n;
	}
	fclose(f);
	return buf;
}

static uint64_t fuzz_next(uint64_t *rng)
{
	*rng ^= *rng << 13, *rng ^= *rng >> 7, *rng ^= *rng << 17;
	return *rng;
}

/* Up to 8 byte flips, inserts and truncations of one seed (xorshift). */
static void fuzz_mutate(const uint8_t *seed, size_t len, uint64_t *rng)
{
	uint8_t *buf = malloc(len + 64);
	size_t n = len;

	if (!buf)
		return;
	memcpy(buf, seed, len);
	for (int k = 0, nr = 1 + (int)(fuzz_next(rng) % 8); k < nr; k++) {
		uint64_t v = fuzz_next(rng);
		size_t at = n ? v % n : 0;

		switch ((v >> 32) % 4) {
		case 0:
			if (n)
				buf[at] = (uint8_t)(v >> 40);
			break;
		case 1:
			if (n < len + 64) {
				memmove(buf + at + 1, buf + at, n - at);
				buf[at] = (uint8_t)(v >> 24);
				n++;
			}
			break;
		case 2:
			if ((v >> 40) % 4 ==
			    0) /* rarely: most of the coverage is in the whole input */
				n = at;
			break;
		default:
			if (n)
				buf[at] = (uint8_t)FUZZ_DICT[(v >> 48) % (sizeof(FUZZ_DICT) - 1)];
		}
	}
	LLVMFuzzerTestOneInput(buf, n);
	free(buf);
}

static size_t fuzz_one_and_mutations(const uint8_t *buf, size_t len, uint64_t *rng)
{
	LLVMFuzzerTestOneInput(buf, len);
	for (int m = 0; m < FUZZ_MUTATIONS; m++)
		fuzz_mutate(buf, len, rng);
	return 1 + FUZZ_MUTATIONS;
}

static int fuzz_write_seeds(const char *dir)
{
#ifdef FUZZ_HAVE_SEEDS
	struct fuzz_seed s[32];
	unsigned n = fuzz_seeds(s, 32);

	for (unsigned i = 0; i < n; i++) {
		char path[4096];
		FILE *f;

		snprintf(path, sizeof(path), "%s/%s", dir, s[i].name);
		f = fopen(path, "wb");
		if (!f || fwrite(s[i].data, 1, s[i].len, f) != s[i].len || fclose(f)) {
			perror(path);
			return 1;
		}
		free(s[i].data);
	}
	return 0;
#else
	fprintf(stderr, "%s: no built-in seeds\n", dir);
	return 1;
#endif
}

int main(int argc, char **argv)
{
	uint64_t rng = 0x9e3779b97f4a7c15ull;
	size_t runs = 0;

	if (argc == 3 && !strcmp(argv[1], "--write-seeds"))
		return fuzz_write_seeds(argv[2]);
#ifdef FUZZ_HAVE_SEEDS
	{
		struct fuzz_seed s[32];
		unsigned n = fuzz_seeds(s, 32);

		for (unsigned i = 0; i < n; i++) {
			runs += fuzz_one_and_mutations(s[i].data, s[i].len, &rng);
			free(s[i].data);
		}
	}
#endif
	for (int i = 1; i < argc; i++) {
		struct stat stt;
		DIR *d;
		struct dirent *e;

		if (stat(argv[i], &stt)) {
			perror(argv[i]);
			return 1;
		}
		if (!S_ISDIR(stt.st_mode)) {
			size_t len;
			uint8_t *buf = fuzz_read(argv[i], &len);

			if (buf)
				LLVMFuzzerTestOneInput(buf, len), runs++;
			free(buf);
			continue;
		}
		d = opendir(argv[i]);
		while (d && (e = readdir(d))) {
			char path[4096];
			size_t len;
			uint8_t *buf;

			snprintf(path, sizeof(path), "%s/%s", argv[i], e->d_name);
			if (e->d_name[0] == '.' || !(buf = fuzz_read(path, &len)))
				continue;
			runs += fuzz_one_and_mutations(buf, len, &rng);
			free(buf);
		}
		if (d)
			closedir(d);
	}
	printf("%s: %zu inputs, no crash\n", argv[0], runs);
#ifdef FUZZ_HAVE_REPORT
	return fuzz_report();
#else
	return 0;
#endif
}
#endif /* !EMBER_LIBFUZZER */

#endif /* EMBER_FUZZ_DRIVER_H */
