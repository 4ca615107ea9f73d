/* SPDX-License-Identifier: Apache-2.0 */
/*
 * api_cpu.h - Firecracker's custom CPU template JSON (PUT /cpu-config, the
 * config file's "cpu-config", GET /vm/config) to and from struct
 * cpu_template.  Internal to api-socket/ and its tests.
 */
#ifndef EMBER_API_CPU_H
#define EMBER_API_CPU_H

#include <jansson.h>

#include "cpu_template.h"
#include "ember.h"

/* 0, or -EINVAL with "cpu-config: <what is wrong>" in @err; @out is written only on success. */
int api_parse_cpu_config(json_t *o, struct cpu_template *out, char *err, size_t errlen);
/*
 * The config file's "cpu-config": the template itself, the path of a file
 * holding it (Firecracker takes either), or null.  Sets cfg->cpu_config.
 */
struct api_vm_config;
int api_cpu_config_section(json_t *v, struct api_vm_config *cfg, char *err, size_t errlen);
/* The same JSON back (hex numbers, full-width bitmaps); a new reference, NULL without memory. */
json_t *api_json_cpu_config(const struct cpu_template *t);

#endif /* EMBER_API_CPU_H */
