/* SPDX-License-Identifier: Apache-2.0 */
#ifndef EMBER_LAUNCH_H
#define EMBER_LAUNCH_H

#include "config.h"
#include "vm.h"

/*
 * Builds @vm from @cfg up to the point where vm_run() can start it.
 * Returns 0, or EXIT_CONFIG / EXIT_VMM with the reason logged and nothing
 * left to tear down.
 */
int launch_prepare(struct vm *vm, const struct vm_config *cfg, uint64_t start_us);

/* --api-sock / --config-file: Firecracker's way of driving ember (api_mode.c). */
int api_mode_main(const struct vm_config *cli, uint64_t start_us);

/*
 * API_CMD_CHECK on the VMM thread before InstanceStart (api_check.c): 0, or
 * -errno with Firecracker's message naming what cannot be opened or added.
 */
struct api_cmd;
int api_check_run(const struct api_cmd *cmd, char *err, size_t errlen);

#endif /* EMBER_LAUNCH_H */
