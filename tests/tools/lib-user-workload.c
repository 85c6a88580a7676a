// SPDX-License-Identifier: Apache-2.0
/*
 * user-workload: the fixed workload of tests/e2e/exec-user-programs.sh,
 * run under `-c` by both tracers.  It makes a known set of system calls
 * and user function calls, silently, so two runs trace the same events:
 *
 *   getppid()                      10 times
 *   openat("/dev/null")             3 times, each closed
 *   write(/dev/null, buf, n)        n = 1, 2, 4, ... 512 (10 writes)
 *   read(/dev/zero, buf, n)         n = 0, 100, 200, 300
 *   fork(), the child exits 3
 *   uw_add(i, -3 * i)               i = 0..4, returns their sum
 *   uw_greet("hello"), uw_greet("world")
 *   uw_point(&{ .x = 2, .y = -7, .name = "pt" })
 *
 * The uw_ functions are called through volatile pointers, so the compiler
 * keeps one real copy of each with its own symbol (no inlining, no
 * constant-propagated clones) for uprobes to find.
 */
#include <fcntl.h>
#include <stdint.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

struct uw_point {
	int x;
	int y;
	char name[8];
};

int uw_add(int a, int b);
int uw_greet(const char *s);
int uw_point(const struct uw_point *p);

static volatile int uw_sink;

__attribute__((noinline)) int uw_add(int a, int b)
{
	return a + b;
}

__attribute__((noinline)) int uw_greet(const char *s)
{
	int n = 0;

	while (s[n])
		n++;
	uw_sink = n;
	return n;
}

__attribute__((noinline)) int uw_point(const struct uw_point *p)
{
	return p->x * p->y;
}

static int (*volatile add_fn)(int, int) = uw_add;
static int (*volatile greet_fn)(const char *) = uw_greet;
static int (*volatile point_fn)(const struct uw_point *) = uw_point;

int main(void)
{
	static char buf[512];
	struct uw_point pt = { .x = 2, .y = -7, .name = "pt" };
	int fd, sum = 0, st;
	pid_t child;

	for (int i = 0; i < 10; i++)
		syscall(SYS_getppid);
	for (int i = 0; i < 3; i++) {
		fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
		if (fd < 0)
			return 1;
		close(fd);
	}
	fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return 1;
	for (size_t n = 1; n <= sizeof(buf); n *= 2)
		if (write(fd, buf, n) != (ssize_t)n)
			return 1;
	close(fd);
	fd = open("/dev/zero", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 1;
	for (size_t n = 0; n <= 300; n += 100)
		if (read(fd, buf, n) != (ssize_t)n)
			return 1;
	close(fd);
	child = fork();
	if (child == 0)
		_exit(3);
	if (child < 0 || waitpid(child, &st, 0) != child)
		return 1;
	for (int i = 0; i < 5; i++)
		sum += add_fn(i, -3 * i);
	greet_fn("hello");
	greet_fn("world");
	sum += point_fn(&pt);
	uw_sink = sum;
	return 0;
}
