// SPDX-License-Identifier: Apache-2.0
/*
 * Fuzz target for the API socket: raw bytes -> HTTP parser (fed in chunks
 * whose sizes come from the input, so split reads are exercised) -> router
 * -> a fake VMM verdict -> api_complete; the same bytes are also read as a
 * --config-file document.  Any crash, leak or sanitizer report is a bug.
 *
 * libFuzzer (clang):
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -DEMBER_LIBFUZZER -D_GNU_SOURCE \
 *     -Ivmm -Iapi-socket tests/fuzz/fuzz_http.c api-socket/http.c api-socket/api.c \
 *     api-socket/api_json.c api-socket/api_config.c vmm/log.c vmm/strnum.c -ljansson -o build/fuzz_http
 *   build/fuzz_http -max_len=8192 tests/fuzz/corpus/http
 *
 * Without libFuzzer: `make fuzz` builds it with gcc and ASan/UBSan and runs
 * it over the corpus (part of `make test`), or by hand:
 *   build/fuzz_http tests/fuzz/corpus/http      # every file in the directory, then
 *                                               # 20000 random mutations of them
 *   build/fuzz_http FILE...                     # just these inputs
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "api.h"
#include "http.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fuzz_serve(struct api_state *st, const struct http_request *req, uint8_t verdict)
{
	struct api_response resp;
	struct api_cmd cmd;

	if (api_handle(st, req, &resp, &cmd) == API_EXEC)
		api_complete(st, &cmd, verdict & 1 ? -EINVAL : 0, verdict & 2 ? "vmm said no" : "",
			     &resp);
	api_response_free(&resp);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct api_state st; /* large; reset every run, so no state leaks between inputs */
	static struct api_vm_config cfg;
	struct http_parser p;
	char err[API_ERR_MAX];
	size_t off = 0, step = 1, used;

	if (size < 1)
		return 0;
	api_state_init(&st, NULL);
	http_parser_init(&p, 4096);
	while (off < size) {
		size_t n = size - off < step ? size - off : step;
		enum http_parse_result r = http_parser_feed(&p, (const char *)data + off, n, &used);

		off += used;
		if (r == HTTP_PARSE_READY) {
			fuzz_serve(&st, &p.req, data[off - 1]);
			http_parser_next(&p);
		} else if (r == HTTP_PARSE_ERROR) {
			struct api_response resp;

			api_fault(&resp, p.err_status, "%s", p.err_msg);
			api_response_free(&resp);
			break;
		}
		step = (size_t)data[off % size] % 64 + 1;
	}
	http_parser_free(&p);
	api_config_from_json((const char *)data, size, &cfg, err, sizeof(err));
	return 0;
}

#ifndef EMBER_LIBFUZZER
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

/* Random byte flips, inserts and truncations of one seed (xorshift, fixed seed). */
static void fuzz_mutate(const uint8_t *seed, size_t len, uint64_t *rng)
{
	uint8_t *buf = malloc(len + 64);
	size_t n = len;

	memcpy(buf, seed, len);
	for (int k = 0; k < 1 + (int)(*rng % 8); k++) {
		*rng ^= *rng << 13, *rng ^= *rng >> 7, *rng ^= *rng << 17;
		size_t at = n ? *rng % n : 0;
		switch ((*rng >> 32) % 4) {
		case 0:
			if (n)
				buf[at] = (uint8_t)(*rng >> 40);
			break;
		case 1:
			if (n < len + 64) {
				memmove(buf + at + 1, buf + at, n - at);
				buf[at] = (uint8_t)(*rng >> 24);
				n++;
			}
			break;
		case 2:
			n = at;
			break;
		default:
			if (n)
				buf[at] = "\r\n: {}\",0123456789-"[(*rng >> 48) % 19];
		}
	}
	LLVMFuzzerTestOneInput(buf, n);
	free(buf);
}

int main(int argc, char **argv)
{
	uint64_t rng = 0x9e3779b97f4a7c15ull;
	size_t runs = 0;

	for (int i = 1; i < argc; i++) {
		struct stat stt;
		DIR *d;
		struct dirent *e;

		if (stat(argv[i], &stt))
			continue;
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
			LLVMFuzzerTestOneInput(buf, len), runs++;
			for (int m = 0; m < 2000; m++)
				fuzz_mutate(buf, len, &rng), runs++;
			free(buf);
		}
		if (d)
			closedir(d);
	}
	printf("fuzz_http: %zu inputs, no crash\n", runs);
	return 0;
}
#endif
