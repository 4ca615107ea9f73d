// SPDX-License-Identifier: Apache-2.0
/*
 * jail-probe: stands in for ember under ember-jailer (tests/jail/run.sh).
 * Reports what the jailed process sees, one "key=value" per line, so the
 * script can grep it.  Arguments: the jailer's "--id ID", then optionally
 * "out FILE" (report into FILE instead of stdout: a daemonized probe has
 * stdout on /dev/null) and "sleep N" (stay alive N seconds after reporting).
 */
#include <dirent.h>
#include <fcntl.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

static void dev(FILE *f, const char *key, const char *path)
{
	struct stat st;

	if (stat(path, &st)) {
		fprintf(f, "%s=missing\n", key);
		return;
	}
	fprintf(f, "%s=%s %u,%u %03o %u:%u\n", key, S_ISCHR(st.st_mode) ? "c" : "other",
		major(st.st_rdev), minor(st.st_rdev), st.st_mode & 07777, st.st_uid, st.st_gid);
}

int main(int argc, char *argv[])
{
	char cwd[4096], names[4096] = "";
	unsigned sleep_s = 0;
	struct rlimit rl;
	struct dirent *de;
	FILE *f = stdout;
	struct if_nameindex *ifs;
	DIR *d;
	int i, open_fds = 0;

	/* First, before we open anything: what did we inherit above stderr? */
	for (i = 3; i < 1024; i++)
		open_fds += fcntl(i, F_GETFD) >= 0;

	for (i = 1; i + 1 < argc; i++) {
		if (!strcmp(argv[i], "out") && !(f = fopen(argv[i + 1], "w")))
			return 2;
		if (!strcmp(argv[i], "sleep"))
			sleep_s = (unsigned)atoi(argv[i + 1]);
	}
	fprintf(f, "argv=");
	for (i = 0; i < argc; i++)
		fprintf(f, "%s%s", i ? " " : "", argv[i]);
	fprintf(f, "\nuid=%u euid=%u gid=%u egid=%u ngroups=%d\n", getuid(), geteuid(), getgid(),
		getegid(), getgroups(0, NULL));
	fprintf(f, "pid=%d\n", (int)getpid());
	fprintf(f, "cwd=%s\n", getcwd(cwd, sizeof(cwd)) ? cwd : "?");
	d = opendir("/");
	while (d && (de = readdir(d)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, "..") &&
		    strlen(names) + strlen(de->d_name) + 2 < sizeof(names)) {
			strcat(names, " ");
			strcat(names, de->d_name);
		}
	if (d)
		closedir(d);
	fprintf(f, "root=%s\n", names);
	dev(f, "kvm", "/dev/kvm");
	dev(f, "tun", "/dev/net/tun");
	dev(f, "uffd", "/dev/userfaultfd");
	getrlimit(RLIMIT_NOFILE, &rl);
	fprintf(f, "nofile=%llu\n", (unsigned long long)rl.rlim_cur);
	getrlimit(RLIMIT_FSIZE, &rl);
	fprintf(f, "fsize=%lld\n", rl.rlim_cur == RLIM_INFINITY ? -1LL : (long long)rl.rlim_cur);
	fprintf(f, "env=%s\n", getenv("PATH") ? "set" : "empty");
	fprintf(f, "inherited_fds=%d\n", open_fds);
	/* The network namespace shows in the interfaces: a fresh one has only "lo". */
	fprintf(f, "ifaces=");
	ifs = if_nameindex();
	for (i = 0; ifs && ifs[i].if_index; i++)
		fprintf(f, "%s%s", i ? " " : "", ifs[i].if_name);
	fprintf(f, "\n");
	if (ifs)
		if_freenameindex(ifs);
	fclose(f);
	if (sleep_s)
		sleep(sleep_s);
	return 0;
}
