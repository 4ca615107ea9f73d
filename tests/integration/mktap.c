/* SPDX-License-Identifier: Apache-2.0 */
/*
 * mktap NAME UID - create a persistent tap device owned by UID, which may
 * then attach to it without CAP_NET_ADMIN (a jailed ember).  busybox's
 * tunctl in Debian is built without -u, hence this.
 */
#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	struct ifreq ifr = {.ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR};
	int fd;

	if (argc != 3 || strlen(argv[1]) >= IFNAMSIZ) {
		fprintf(stderr, "usage: mktap NAME UID\n");
		return 2;
	}
	strcpy(ifr.ifr_name, argv[1]);
	fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
	if (fd < 0 || ioctl(fd, TUNSETIFF, &ifr) ||
	    ioctl(fd, TUNSETOWNER, (unsigned long)strtoul(argv[2], NULL, 10)) ||
	    ioctl(fd, TUNSETPERSIST, 1UL)) {
		perror("mktap");
		return 1;
	}
	close(fd);
	return 0;
}
