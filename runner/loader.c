// SPDX-License-Identifier: Apache-2.0
/* Loading and attaching with libbpf (see loader.h). */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <linux/perf_event.h>
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "lib/buf.h"
#include "lib/cleanup.h"
#include "lib/errors.h"
#include "runner/loader.h"
#include "lib/banned.h"

#define LOADER_LOG_MAX (256u * 1024)

/* libbpf prints through a callback; we keep what it says for the error
 * message instead of printing (libraries do not print). */
static __thread struct buf *libbpf_log;

static int libbpf_capture(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	if (libbpf_log && level != LIBBPF_DEBUG)
		buf_vprintf(libbpf_log, fmt, ap);
	return 0;
}

void loader_init(struct loader *l)
{
	memset(l, 0, sizeof(*l));
	l->begin_fd = l->end_fd = l->stats_fd = -1;
}

/* Writes each global into the .rodata image libbpf will freeze. */
static int set_globals(struct loader *l, char **ret_err)
{
	const struct btf *btf = bpf_object__btf(l->obj);
	const struct btf_type *ds = NULL;
	struct bpf_map *map = NULL, *m;
	_cleanup_free_ uint8_t *img = NULL;
	const void *init;
	size_t size = 0;
	int id;

	if (!l->nglobals)
		return 0;
	bpf_object__for_each_map(m, l->obj) {
		const char *n = bpf_map__name(m);
		size_t nl = strlen(n);

		if (nl >= 7 && !strcmp(n + nl - 7, ".rodata"))
			map = m;
	}
	id = btf ? btf__find_by_name_kind(btf, ".rodata", BTF_KIND_DATASEC) : -ENOENT;
	if (id > 0)
		ds = btf__type_by_id(btf, (uint32_t)id);
	init = map ? bpf_map__initial_value(map, &size) : NULL;
	if (!ds || !init || !(img = malloc(size))) {
		if (asprintf(ret_err, "bpf object: no \".rodata\" for global \"%s\"", l->globals[0].name) < 0)
			*ret_err = NULL;
		return -TG_ELOAD;
	}
	memcpy(img, init, size);
	for (size_t i = 0; i < l->nglobals; i++) {
		const struct btf_var_secinfo *vs = btf_var_secinfos(ds);
		bool found = false;

		for (uint16_t k = 0; k < btf_vlen(ds); k++, vs++) {
			const struct btf_type *var = btf__type_by_id(btf, vs->type);

			if (!var || strcmp(btf__name_by_offset(btf, var->name_off), l->globals[i].name))
				continue;
			if (vs->size % 8 || l->globals[i].index >= vs->size / 8 || vs->offset > size ||
			    size - vs->offset < vs->size)
				break;
			memcpy(img + vs->offset + 8 * (size_t)l->globals[i].index, &l->globals[i].value, 8);
			found = true;
			break;
		}
		if (!found) {
			if (asprintf(ret_err, "bpf object: global \"%s\" element %u missing or not 8 bytes",
				     l->globals[i].name, l->globals[i].index) < 0)
				*ret_err = NULL;
			return -TG_ELOAD;
		}
	}
	if (bpf_map__set_initial_value(map, img, size) < 0) {
		if (asprintf(ret_err, "bpf object: cannot set globals") < 0)
			*ret_err = NULL;
		return -TG_ELOAD;
	}
	return 0;
}

int loader_load(struct loader *l, const void *obj, size_t len, char **ret_err)
{
	_cleanup_buf_ struct buf log = BUF_INIT(LOADER_LOG_MAX);
	LIBBPF_OPTS(bpf_object_open_opts, oo, .object_name = "tracegate");
	struct bpf_program *p;
	int r;

	libbpf_set_print(libbpf_capture);
	libbpf_log = &log;
	l->obj = bpf_object__open_mem(obj, len, &oo);
	if (!l->obj) {
		r = -errno;
		libbpf_log = NULL;
		if (asprintf(ret_err, "bpf object: cannot open: %s\n%s", strerror(-r), log.s) < 0)
			*ret_err = NULL;
		return -TG_ELOAD;
	}
	bpf_object__for_each_program(p, l->obj) {
		const char *sec = bpf_program__section_name(p);

		if (!strcmp(sec, "tg_begin") || !strcmp(sec, "tg_end") ||
		    !strncmp(sec, "tg_timer/", 9)) {
			bpf_program__set_type(p, BPF_PROG_TYPE_SYSCALL);
			bpf_program__set_flags(p, BPF_F_SLEEPABLE);
		}
	}
	r = set_globals(l, ret_err);
	if (r < 0) {
		libbpf_log = NULL;
		return r;
	}
	r = bpf_object__load(l->obj);
	libbpf_log = NULL;
	if (r < 0) {
		if (asprintf(ret_err, "bpf object: the kernel refused to load it: %s\n%s", strerror(-r),
			     log.s) < 0)
			*ret_err = NULL;
		return -TG_ELOAD;
	}
	bpf_object__for_each_program(p, l->obj) {
		const char *sec = bpf_program__section_name(p);

		if (!strcmp(sec, "tg_begin"))
			l->begin_fd = bpf_program__fd(p);
		else if (!strcmp(sec, "tg_end"))
			l->end_fd = bpf_program__fd(p);
	}
	if (l->run_stats)
		l->stats_fd = bpf_enable_stats(BPF_STATS_RUN_TIME);
	return 0;
}

int loader_map_fd(const struct loader *l, const char *name)
{
	struct bpf_map *m = l->obj ? bpf_object__find_map_by_name(l->obj, name) : NULL;

	return m ? bpf_map__fd(m) : -ENOENT;
}

int loader_set_scope(struct loader *l, const struct scope *s, char **ret_err)
{
	int fd = loader_map_fd(l, "tg_scope");
	uint8_t one = 1;

	if (fd < 0) {
		if (asprintf(ret_err, "bpf object: scope map \"tg_scope\" missing") < 0)
			*ret_err = NULL;
		return -TG_ELOAD;
	}
	for (size_t i = 0; i < s->n; i++) {
		if (bpf_map_update_elem(fd, &s->targets[i].cgid, &one, BPF_ANY) < 0) {
			int r = -errno;

			if (asprintf(ret_err, "scope map: cannot add cgroup \"%s\": %s",
				     s->targets[i].path ? s->targets[i].path : "?", strerror(-r)) < 0)
				*ret_err = NULL;
			return -TG_ELOAD;
		}
	}
	return 0;
}

int loader_run_once(const struct loader *l, int prog_fd, char **ret_err)
{
	LIBBPF_OPTS(bpf_test_run_opts, t);
	int r;

	if (prog_fd < 0)
		return 0;
	r = bpf_prog_test_run_opts(prog_fd, &t);
	if (r < 0) {
		r = -errno;
		if (asprintf(ret_err, "BEGIN/END program: cannot run: %s", strerror(-r)) < 0)
			*ret_err = NULL;
		return -TG_ELOAD;
	}
	return 0;
}

/* Tracepoint links detached by a pool of threads when there are at least
 * LOADER_POOL_MIN of them: destroying one waits for an RCU tasks-trace
 * grace period (kernel/trace/bpf_trace.c, perf_event_detach_bpf_prog),
 * ~30 ms, and waiters at the same time share one. */
#define LOADER_POOL_THREADS 32
#define LOADER_POOL_MIN 16

struct loader_pool {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct bpf_link **links;
	size_t n, next;
	size_t ready;           /* threads past their start, waiting for go */
	bool go;
	pthread_t th[LOADER_POOL_THREADS];
	size_t nth;
};

static void *pool_main(void *arg)
{
	struct loader_pool *p = arg;

	pthread_mutex_lock(&p->mu);
	p->ready++;
	pthread_cond_broadcast(&p->cv);
	while (!p->go)
		pthread_cond_wait(&p->cv, &p->mu);
	while (p->next < p->n) {
		struct bpf_link *lk = p->links[p->next++];

		pthread_mutex_unlock(&p->mu);
		bpf_link__destroy(lk);
		pthread_mutex_lock(&p->mu);
	}
	pthread_mutex_unlock(&p->mu);
	return NULL;
}

/* Starts the threads; without them (none could start) detaching is
 * sequential, only slower. */
static void pool_start(struct loader *l)
{
	struct loader_pool *p;
	pthread_attr_t attr;
	sigset_t all, old;
	size_t want = MIN((size_t)LOADER_POOL_THREADS, l->ntplinks / 4 + 1);

	if (l->pool || l->ntplinks < LOADER_POOL_MIN)
		return;
	p = calloc(1, sizeof(*p));
	if (!p)
		return;
	pthread_mutex_init(&p->mu, NULL);
	pthread_cond_init(&p->cv, NULL);
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, 64 * 1024);
	for (; p->nth < want; p->nth++)
		if (pthread_create(&p->th[p->nth], &attr, pool_main, p) != 0)
			break;
	pthread_attr_destroy(&attr);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	/* A new thread's own start (glibc: set_robust_list, rseq) must be
	 * over before a sandbox can forbid those calls (runner/sandbox.h):
	 * the session child installs one right after attaching. */
	pthread_mutex_lock(&p->mu);
	while (p->ready < p->nth)
		pthread_cond_wait(&p->cv, &p->mu);
	pthread_mutex_unlock(&p->mu);
	l->pool = p;
}

/* Destroys the tracepoint links: by the pool's threads, then (no pool,
 * or its threads gone) what is left here. */
static void pool_detach(struct loader *l)
{
	struct loader_pool *p = l->pool;

	if (p) {
		pthread_mutex_lock(&p->mu);
		p->links = l->tplinks;
		p->n = l->ntplinks;
		p->go = true;
		pthread_cond_broadcast(&p->cv);
		pthread_mutex_unlock(&p->mu);
		for (size_t i = 0; i < p->nth; i++)
			pthread_join(p->th[i], NULL);
		/* without threads nothing was taken: destroy the rest here */
		for (size_t i = p->next; i < p->n; i++)
			bpf_link__destroy(p->links[i]);
		pthread_mutex_destroy(&p->mu);
		pthread_cond_destroy(&p->cv);
		free(p);
		l->pool = NULL;
	} else {
		while (l->ntplinks > 0)
			bpf_link__destroy(l->tplinks[--l->ntplinks]);
	}
	l->ntplinks = 0;
}

static int tplink_add(struct loader *l, struct bpf_link *lk)
{
	if (l->ntplinks == l->atplinks) {
		size_t na = l->atplinks ? l->atplinks * 2 : 32;
		struct bpf_link **v = realloc(l->tplinks, na * sizeof(*v));

		if (!v) {
			bpf_link__destroy(lk);
			return -ENOMEM;
		}
		l->tplinks = v;
		l->atplinks = na;
	}
	l->tplinks[l->ntplinks++] = lk;
	return l->progress ? l->progress(l->progress_ctx, l->nlinks + l->ntplinks) : 0;
}

static int link_add(struct loader *l, struct bpf_link *lk)
{
	if (l->nlinks == l->alinks) {
		size_t na = l->alinks ? l->alinks * 2 : 32;
		struct bpf_link **v = realloc(l->links, na * sizeof(*v));

		if (!v) {
			bpf_link__destroy(lk);
			return -ENOMEM;
		}
		l->links = v;
		l->alinks = na;
	}
	l->links[l->nlinks++] = lk;
	return l->progress ? l->progress(l->progress_ctx, l->nlinks + l->ntplinks) : 0;
}

static int warnf(loader_warn_fn warn, void *ctx, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int warnf(loader_warn_fn warn, void *ctx, const char *fmt, ...)
{
	_cleanup_free_ char *s = NULL;
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (r < 0)
		return -ENOMEM;
	return warn ? warn(ctx, s) : 0;
}

static int attach_perf(struct loader *l, struct bpf_program *prog, const struct plan_prog *pp,
		       size_t *n)
{
	int ncpu = pp->one_cpu ? 1 : libbpf_num_possible_cpus();

	for (int cpu = 0; cpu < ncpu; cpu++) {
		struct perf_event_attr a = {
			.type = pp->perf_type,
			.size = sizeof(a),
			.config = pp->perf_config,
			.freq = pp->freq,
			.sample_period = pp->period,
		};
		struct bpf_link *lk;
		int fd, r;

		fd = (int)syscall(__NR_perf_event_open, &a, -1, cpu, -1, PERF_FLAG_FD_CLOEXEC);
		if (fd < 0) {
			if (errno == ENODEV)   /* offline CPU */
				continue;
			return -errno;
		}
		lk = bpf_program__attach_perf_event(prog, fd);
		if (!lk) {
			r = -errno;
			close(fd);
			return r;
		}
		r = link_add(l, lk);
		if (r < 0)
			return r;
		(*n)++;
	}
	return 0;
}

static int event_add(struct loader *l, int fd)
{
	if (l->nevents == l->aevents) {
		size_t na = l->aevents ? l->aevents * 2 : 32;
		int *v = realloc(l->events, na * sizeof(*v));

		if (!v)
			return -ENOMEM;
		l->events = v;
		l->aevents = na;
	}
	l->events[l->nevents++] = fd;
	return 0;
}

/* A tracepoint's id (tracefs events/<cat>/<name>/id). */
static int tp_id(const char *tracefs, const char *cat, const char *name, uint64_t *ret)
{
	_cleanup_free_ char *path = NULL;
	_cleanup_close_ int fd = -1;
	char b[32], *end;
	ssize_t n;

	if (asprintf(&path, "%s/events/%s/%s/id", tracefs, cat, name) < 0)
		return -ENOMEM;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return -errno;
	n = read(fd, b, sizeof(b) - 1);
	if (n <= 0)
		return n < 0 ? -errno : -EINVAL;
	b[n] = '\0';
	errno = 0;
	*ret = strtoull(b, &end, 10);
	if (errno || end == b || (*end && *end != '\n'))
		return -EINVAL;
	return 0;
}

/* One tracepoint, its attach cookie = cookie: a perf event of our own,
 * linked to prog, and a second fd of the event kept in l->events so that
 * destroying the link only takes the program off the tracepoint
 * (loader_detach). */
static int attach_tp(struct loader *l, struct bpf_program *prog, const char *tracefs,
		     const char *tp, uint64_t cookie)
{
	_cleanup_free_ char *cat = strdup(tp);
	char *name = cat ? strchr(cat, ':') : NULL;
	LIBBPF_OPTS(bpf_perf_event_opts, po, .bpf_cookie = cookie);
	struct perf_event_attr a = { .type = PERF_TYPE_TRACEPOINT, .size = sizeof(a),
				     .sample_period = 1, .wakeup_events = 1 };
	struct bpf_link *lk;
	uint64_t id = 0;
	int fd, keep, r;

	if (!name)
		return cat ? -EINVAL : -ENOMEM;
	*name++ = '\0';
	if (!tracefs) {
		LIBBPF_OPTS(bpf_tracepoint_opts, to, .bpf_cookie = cookie);

		lk = bpf_program__attach_tracepoint_opts(prog, cat, name, &to);
		return lk ? tplink_add(l, lk) : -errno;
	}
	r = tp_id(tracefs, cat, name, &id);
	if (r < 0)
		return r;
	a.config = id;
	fd = (int)syscall(__NR_perf_event_open, &a, -1, 0, -1, PERF_FLAG_FD_CLOEXEC);
	if (fd < 0)
		return -errno;
	keep = fcntl(fd, F_DUPFD_CLOEXEC, 3);
	if (keep < 0 || (r = event_add(l, keep)) < 0) {
		r = keep < 0 ? -errno : r;
		if (keep >= 0)
			close(keep);
		close(fd);
		return r;
	}
	lk = bpf_program__attach_perf_event_opts(prog, fd, &po);
	if (!lk) {
		r = -errno;
		close(fd);
		return r;
	}
	return tplink_add(l, lk);
}

/* Under a scope: armed in the target pods' processes only (uprobe-attach.h). */
static int attach_uprobe_pods(struct loader *l, struct bpf_program *prog, const struct plan *pl,
			      const struct plan_prog *pp, loader_warn_fn warn, void *ctx, size_t *n)
{
	_cleanup_free_ char *err = NULL;
	struct bpf_link *lk = NULL;
	size_t procs = 0;
	int r;

	if (!pp->resolved && pp->func)
		return warnf(warn, ctx, "probe \"%s\": function \"%s\" has no address in the file, skipped",
			     pp->name, pp->func);
	r = upods_attach_uprobe(&l->upods, prog, pl->tracefs, pp->path, pp->offset, pp->kind == PK_URETPROBE,
				l->scope, &lk, &procs, &err);
	if (r < 0) {
		r = warnf(warn, ctx, "probe \"%s\": %s, skipped", pp->name, err ? err : strerror(-r));
		return r < 0 ? r : 0;
	}
	if (!lk)
		return warnf(warn, ctx, "probe \"%s\": no process in the target pods to arm it in, skipped",
			     pp->name);
	r = link_add(l, lk);
	if (r == 0)
		(*n)++;
	return r;
}

/* libbpf reads the probe's sites and argument specs from the file's notes
 * into __bpf_usdt_specs; semaphores are counted by the kernel
 * (ref_ctr_offset).  Without a scope: every process (pid -1), as
 * bpftrace; under a scope: each process of the target pods, so that
 * nothing outside them is armed (uprobe-attach.h). */
static int attach_usdt(struct loader *l, struct bpf_program *prog, const struct plan_prog *pp,
		       loader_warn_fn warn, void *ctx, size_t *n)
{
	_cleanup_free_ pid_t *pids = NULL;
	size_t npids = 1;
	int r;

	if (l->scope) {
		pids = calloc(UPODS_MAX_PROCS, sizeof(*pids));
		if (!pids)
			return -ENOMEM;
		r = upods_pids(l->scope, pids, UPODS_MAX_PROCS, &npids);
		if (r < 0)
			return r;
		if (!npids)
			return warnf(warn, ctx, "probe \"%s\": no process in the target pods to arm it in, skipped",
				     pp->name);
		if (pp->sites > LOADER_MAX_USDT_EVENTS ||
		    npids * pp->sites > LOADER_MAX_USDT_EVENTS - l->usdt_events)
			return warnf(warn, ctx,
				     "probe \"%s\": %zu site(s) in %zu process(es) of the pods would take %zu usdt "
				     "events, more than the %d a trace may arm (%zu armed already), skipped",
				     pp->name, pp->sites, npids, pp->sites * npids, LOADER_MAX_USDT_EVENTS,
				     l->usdt_events);
		l->usdt_events += npids * pp->sites;
	}
	for (size_t i = 0; i < npids; i++) {
		struct bpf_link *lk = bpf_program__attach_usdt(prog, pids ? pids[i] : l->pid ? l->pid : -1, pp->path,
							      pp->provider, pp->func, NULL);

		if (!lk) {
			r = -errno;
			if (pids && r == -ESRCH)
				continue;
			return r;
		}
		r = link_add(l, lk);
		if (r < 0)
			return r;
		(*n)++;
	}
	return 0;
}

/* Attaches one program of the plan (every attach point it has). */
static int attach_prog(struct loader *l, const struct plan *pl, const struct plan_prog *pp,
		       loader_warn_fn warn, void *ctx)
{
	struct bpf_program *prog;
	size_t n = 0;
	int r = 0;

	if (pp->kind == PK_BEGIN || pp->kind == PK_END || !strncmp(pp->section, "tg_timer/", 9))
		return 0;
	prog = bpf_object__find_program_by_name(l->obj, pp->fn);
	if (!prog)
		return -ENOENT;
	switch (pp->kind) {
	case PK_TRACEPOINT:
		for (size_t i = 0; i < pp->ntps; i++) {
			/* the cookie is the tracepoint's index: a shared program's
			 * `probe` (runner/codegen-expr.c) */
			r = attach_tp(l, prog, pl->tracefs, pp->tps[i], i);
			if (r == -ENOMEM || r == -ECANCELED)
				return r;
			if (r == -E2BIG) {
				/* the kernel's bound (BPF_TRACE_MAX_PROGS), for bpftrace alike */
				r = warnf(warn, ctx, "probe \"tracepoint:%s\": cannot attach: the kernel allows at most 64 BPF programs on one tracepoint and other traces hold them all (try again when some end), skipped",
					  pp->tps[i]);
				if (r < 0)
					return r;
				continue;
			}
			if (r < 0) {
				r = warnf(warn, ctx, "probe \"tracepoint:%s\": cannot attach: %s, skipped",
					  pp->tps[i], strerror(-r));
				if (r < 0)
					return r;
				continue;
			}
			n++;
		}
		r = 0;
		break;
	case PK_PERF:
		r = attach_perf(l, prog, pp, &n);
		break;
	case PK_UPROBE:
	case PK_URETPROBE: {
		LIBBPF_OPTS(bpf_uprobe_opts, uo, .retprobe = pp->kind == PK_URETPROBE,
			    .func_name = pp->resolved ? NULL : pp->func);
		struct bpf_link *lk = NULL;

		if (l->scope) {
			r = attach_uprobe_pods(l, prog, pl, pp, warn, ctx, &n);
			break;
		}
		lk = bpf_program__attach_uprobe_opts(prog, -1, pp->path, pp->offset, &uo);
		if (!lk)
			r = -errno;
		else if ((r = link_add(l, lk)) == 0)
			n++;
		break;
	}
	case PK_USDT:
		r = attach_usdt(l, prog, pp, warn, ctx, &n);
		break;
	case PK_KPROBE:
	case PK_KRETPROBE: {
		LIBBPF_OPTS(bpf_kprobe_opts, ko, .retprobe = pp->kind == PK_KRETPROBE,
			    .offset = pp->offset);
		struct bpf_link *lk = bpf_program__attach_kprobe_opts(prog, pp->func, &ko);

		if (!lk)
			r = -errno;
		else if ((r = link_add(l, lk)) == 0)
			n++;
		break;
	}
	default:
		break;
	}
	if (r == -ENOMEM)
		return r;
	if (r < 0) {
		r = warnf(warn, ctx, "probe \"%s\": cannot attach: %s, skipped", pp->name,
			  strerror(-r));
		if (r < 0)
			return r;
	}
	if (n)
		l->attached++;
	return 0;
}

/* Whether the kernel runs the programs attached to one event newest first:
 * uprobes, usdt and kprobes chain their consumers at the head of a list,
 * perf events sit at the head of their hash list; a tracepoint's programs
 * are a bpf_prog_array, run in the order they were attached. */
static bool runs_newest_first(enum plan_kind kind)
{
	return kind != PK_TRACEPOINT;
}

int loader_attach(struct loader *l, const struct plan *pl, loader_warn_fn warn, void *ctx)
{
	int r;

	libbpf_set_print(libbpf_capture);
	/* Blocks on one attach point run in program order, as bpftrace's do:
	 * in the order of the plan where the kernel runs the oldest first,
	 * in reverse where it runs the newest first (test: exec-order.sh). */
	for (size_t k = 0; k < pl->n; k++)
		if (!runs_newest_first(pl->progs[k].kind) &&
		    (r = attach_prog(l, pl, &pl->progs[k], warn, ctx)) < 0)
			return r;
	for (size_t k = pl->n; k-- > 0;)
		if (runs_newest_first(pl->progs[k].kind) &&
		    (r = attach_prog(l, pl, &pl->progs[k], warn, ctx)) < 0)
			return r;
	pool_start(l);
	return 0;
}

uint64_t loader_run_time_ns(const struct loader *l)
{
	struct bpf_program *p;
	uint64_t total = 0;

	/* the stats are global: someone else's would count part of the run,
	 * from whenever they turned them on, and that number says nothing */
	if (!l->obj || l->stats_fd < 0)
		return 0;
	bpf_object__for_each_program(p, l->obj) {
		struct bpf_prog_info info = { 0 };
		__u32 len = sizeof(info);
		int fd = bpf_program__fd(p);

		if (fd >= 0 && bpf_obj_get_info_by_fd(fd, &info, &len) == 0)
			total += info.run_time_ns;
	}
	return total;
}

void loader_detach(struct loader *l)
{
	pool_detach(l);
	while (l->nlinks > 0)
		bpf_link__destroy(l->links[--l->nlinks]);
	upods_detach(&l->upods);
}

void loader_take_events(struct loader *l, int **ret, size_t *n)
{
	*ret = TAKE_PTR(l->events);
	*n = l->nevents;
	l->nevents = l->aevents = 0;
}

void loader_release(struct loader *l)
{
	loader_detach(l);
	free(l->links);
	free(l->tplinks);
	for (size_t i = 0; i < l->nevents; i++)
		close(l->events[i]);
	free(l->events);
	if (l->obj)
		bpf_object__close(l->obj);
	if (l->stats_fd >= 0)
		close(l->stats_fd);
	upods_release(&l->upods);
	loader_init(l);
}
