// SPDX-License-Identifier: Apache-2.0
/*
 * syscall-loop N [CGROUP_DIR]: moves itself into CGROUP_DIR (if given),
 * then makes N getppid() system calls and prints the mean cost of one in
 * nanoseconds.  The benchmark's workload: a syscall tracepoint hit N times.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "lib/util.h"

int main(int argc, char **argv)
{
	uint64_t n, t0, t1;

	if (argc < 2 || parse_u64(argv[1], &n) < 0 || n == 0) {
		fprintf(stderr, "usage: syscall-loop N [CGROUP_DIR]\n");
		return 2;
	}
	if (argc > 2) {
		char path[4096], pid[32];
		int fd, len;

		snprintf(path, sizeof(path), "%s/cgroup.procs", argv[2]);
		fd = open(path, O_WRONLY | O_CLOEXEC);
		len = snprintf(pid, sizeof(pid), "%d", (int)getpid());
		if (fd < 0 || write(fd, pid, (size_t)len) != len) {
			fprintf(stderr, "syscall-loop: cannot join \"%s\": %s\n", argv[2], strerror(errno));
			return 1;
		}
		close(fd);
	}
	t0 = now_mono_ns();
	for (uint64_t i = 0; i < n; i++)
		syscall(SYS_getppid);
	t1 = now_mono_ns();
	printf("%.1f\n", (double)(t1 - t0) / (double)n);
	return 0;
}
