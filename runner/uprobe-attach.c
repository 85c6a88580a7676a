// SPDX-License-Identifier: Apache-2.0
/* uprobes of a scoped trace armed in the pod's processes only (see uprobe-attach.h). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <linux/perf_event.h>
#include <bpf/libbpf.h>

#include "lib/cleanup.h"
#include "lib/errors.h"
#include "lib/util.h"
#include "runner/scope.h"
#include "runner/tracepoint.h"
#include "runner/uprobe.h"
#include "runner/uprobe-attach.h"
#include "lib/banned.h"

void upods_init(struct upods *u)
{
	memset(u, 0, sizeof(*u));
}

static int write_events(const char *tracefs, const char *line)
{
	_cleanup_free_ char *path = NULL;
	_cleanup_close_ int fd = -1;
	size_t len = strlen(line);
	ssize_t n;

	if (asprintf(&path, "%s/uprobe_events", tracefs) < 0)
		return -ENOMEM;
	fd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = write(fd, line, len);
	if (n < 0)
		return -errno;
	return (size_t)n == len ? 0 : -EIO;
}

static int keep_fd(struct upods *u, int fd)
{
	if (u->nfds == u->afds) {
		size_t na = u->afds ? 2 * u->afds : 16;
		int *v = reallocarray(u->fds, na, sizeof(*v));

		if (!v)
			return -ENOMEM;
		u->fds = v;
		u->afds = na;
	}
	u->fds[u->nfds++] = fd;
	return 0;
}

int upods_pids(const struct scope *scope, pid_t *pids, size_t max, size_t *ret_n)
{
	size_t n = 0;
	int r = 0;

	for (size_t i = 0; scope && i < scope->n && r >= 0; i++)
		r = uprobe_pod_pids(scope->targets[i].path, pids, max, &n);
	*ret_n = n;
	return r;
}

/* inherit: children the process forks (and what they exec) follow; the
 * event that carries the program must not (uprobe-attach.h) */
static int perf_open(uint64_t id, pid_t pid, bool inherit)
{
	struct perf_event_attr a = {
		.size = sizeof(a), .type = PERF_TYPE_TRACEPOINT, .config = id,
		.sample_period = 1, .wakeup_events = 1,
		.inherit = inherit,
	};
	long fd = syscall(SYS_perf_event_open, &a, pid, -1, -1, PERF_FLAG_FD_CLOEXEC);

	return fd < 0 ? -errno : (int)fd;
}

int upods_attach_uprobe(struct upods *u, struct bpf_program *prog, const char *tracefs,
			const char *path, uint64_t offset, bool ret, const struct scope *scope,
			struct bpf_link **ret_link, size_t *ret_procs, char **ret_err)
{
	_cleanup_free_ pid_t *pids = calloc(UPODS_MAX_PROCS, sizeof(*pids));
	_cleanup_free_ char *line = NULL, *idpath = NULL, *idtext = NULL;
	struct bpf_link *link = NULL;
	size_t npids = 0, armed = 0;
	uint64_t id;
	unsigned ev;
	int r;

	*ret_link = NULL;
	*ret_procs = 0;
	if (!pids)
		return -ENOMEM;
	if (strpbrk(path, " \t\n"))
		return tg_fail(ret_err, -EINVAL, "uprobe: a path with blanks");
	if (!u->tracefs) {
		if (tracefs)
			u->tracefs = strdup(tracefs);
		else if ((r = tracefs_find(&u->tracefs, ret_err)) < 0)
			return r;
		if (!u->tracefs)
			return -ENOMEM;
	}
	tracefs = u->tracefs;
	if (!u->owner)
		u->owner = getpid();
	r = upods_pids(scope, pids, UPODS_MAX_PROCS, &npids);
	if (r == -TG_ELIMIT)
		return tg_fail(ret_err, r, "uprobe: the target pods hold more than %d processes",
			       UPODS_MAX_PROCS);
	if (r < 0)
		return tg_fail(ret_err, r, "uprobe: cannot list the pods' processes: %s", strerror(-r));
	if (!npids)
		return 0;
	ev = u->nevents;
	if (asprintf(&line, "%c:%s%d/p%u %s:0x%" PRIx64 "\n", ret ? 'r' : 'p', UPODS_GROUP_PREFIX,
		     (int)u->owner, ev, path, offset) < 0)
		return -ENOMEM;
	r = write_events(tracefs, line);
	if (r < 0)
		return tg_fail(ret_err, r, "uprobe: cannot create it in tracefs: %s", strerror(-r));
	u->nevents++;
	if (asprintf(&idpath, "%s/events/%s%d/p%u/id", tracefs, UPODS_GROUP_PREFIX, (int)u->owner, ev) < 0)
		return -ENOMEM;
	r = read_file(idpath, 64, &idtext, NULL);
	if (r >= 0)
		idtext[strcspn(idtext, "\n")] = '\0';
	if (r < 0 || parse_u64(idtext, &id) < 0)
		return tg_fail(ret_err, r < 0 ? r : -EIO, "uprobe: no id for the event it created");
	for (size_t i = 0; i < npids; i++) {
		int fd = perf_open(id, pids[i], true);

		if (fd == -ESRCH)
			continue;       /* gone since it was listed */
		if (fd < 0) {
			bpf_link__destroy(link);
			return tg_fail(ret_err, fd, "uprobe: cannot arm it in process %d: %s", (int)pids[i],
				       strerror(-fd));
		}
		if ((r = keep_fd(u, fd)) < 0) {
			close(fd);
			bpf_link__destroy(link);
			return r;
		}
		armed++;
		if (link)
			continue;
		/* the program, once, on an event of this process that no
		 * child inherits (uprobe-attach.h) */
		fd = perf_open(id, pids[i], false);
		if (fd == -ESRCH)
			continue;       /* gone meanwhile: the next process carries it */
		if (fd < 0)
			return tg_fail(ret_err, fd, "uprobe: cannot arm it in process %d: %s", (int)pids[i],
				       strerror(-fd));
		link = bpf_program__attach_perf_event(prog, fd);
		if (!link) {
			r = -errno;
			close(fd);
			return tg_fail(ret_err, r, "uprobe: cannot attach the program: %s", strerror(-r));
		}
	}
	*ret_link = link;
	*ret_procs = armed;
	return 0;
}

void upods_detach(struct upods *u)
{
	while (u->nfds > 0)
		close(u->fds[--u->nfds]);
}

int upods_remove_group(const char *tracefs, pid_t owner)
{
	_cleanup_free_ char *dir = NULL;
	DIR *d;
	struct dirent *de;
	int removed = 0;

	_cleanup_free_ char *found = NULL, *err = NULL;

	if (!tracefs && tracefs_find(&found, &err) == 0)
		tracefs = found;
	if (!tracefs || asprintf(&dir, "%s/events/%s%d", tracefs, UPODS_GROUP_PREFIX, (int)owner) < 0)
		return 0;
	d = opendir(dir);
	if (!d)
		return 0;
	while ((de = readdir(d))) {
		char line[512];

		if (de->d_type != DT_DIR || de->d_name[0] != 'p' || strspn(de->d_name + 1, "0123456789") !=
		    strlen(de->d_name + 1))
			continue;
		snprintf(line, sizeof(line), "-:%s%d/%s\n", UPODS_GROUP_PREFIX, (int)owner, de->d_name);
		if (write_events(tracefs, line) == 0)
			removed++;
	}
	closedir(d);
	return removed;
}

void upods_release(struct upods *u)
{
	/* the events themselves are removed by whoever owns the process's
	 * lifetime (upods_remove_group): a sandboxed session may not write to
	 * tracefs, and its filter kills it for trying */
	upods_detach(u);
	free(u->fds);
	free(u->tracefs);
	upods_init(u);
}

int upods_sweep(const char *tracefs)
{
	_cleanup_free_ char *dir = NULL;
	DIR *d;
	struct dirent *de;
	int removed = 0;

	if (!tracefs || asprintf(&dir, "%s/events", tracefs) < 0)
		return 0;
	d = opendir(dir);
	if (!d)
		return 0;
	while ((de = readdir(d))) {
		uint64_t pid;

		if (strncmp(de->d_name, UPODS_GROUP_PREFIX, strlen(UPODS_GROUP_PREFIX)) ||
		    parse_u64(de->d_name + strlen(UPODS_GROUP_PREFIX), &pid) < 0 || !pid || pid > INT32_MAX)
			continue;
		if (kill((pid_t)pid, 0) == 0 || errno != ESRCH)
			continue;       /* that session (or a pid it reused) lives */
		removed += upods_remove_group(tracefs, (pid_t)pid);
	}
	closedir(d);
	return removed;
}
