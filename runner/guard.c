// SPDX-License-Identifier: Apache-2.0
/* The engine's guards (runner/guard.h). */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "lib/errors.h"
#include "policy/unscoped.h"
#include "runner/guard.h"
#include "lib/banned.h"

__attribute__((format(printf, 2, 3)))
static void set_err(char **ret_err, const char *fmt, ...)
{
	va_list ap;

	if (!ret_err)
		return;
	va_start(ap, fmt);
	if (vasprintf(ret_err, fmt, ap) < 0)
		*ret_err = NULL;
	va_end(ap);
}

/* ---- THREAD_SIZE ---------------------------------------------------------- */

/* The offset of per-CPU variable name in ".data..percpu", plus the
 * offset of member (when not NULL) inside it. */
static int percpu_off(const struct btf *btf, const char *name, const char *member, uint64_t *ret)
{
	int ds_id = btf__find_by_name_kind(btf, ".data..percpu", BTF_KIND_DATASEC);
	const struct btf_type *ds = ds_id > 0 ? btf__type_by_id(btf, (uint32_t)ds_id) : NULL;
	const struct btf_var_secinfo *vs;

	if (!ds)
		return -ENOENT;
	vs = btf_var_secinfos(ds);
	for (uint16_t i = 0; i < btf_vlen(ds); i++, vs++) {
		const struct btf_type *var = btf__type_by_id(btf, vs->type);
		const struct btf_type *t;
		const struct btf_member *m;

		if (!var || strcmp(btf__name_by_offset(btf, var->name_off), name))
			continue;
		if (!member) {
			*ret = vs->offset;
			return 0;
		}
		t = btf__type_by_id(btf, var->type);
		while (t && (btf_is_typedef(t) || btf_is_mod(t)))
			t = btf__type_by_id(btf, t->type);
		if (!t || !btf_is_struct(t))
			return -ENOENT;
		m = btf_members(t);
		for (uint16_t k = 0; k < btf_vlen(t); k++, m++)
			if (!strcmp(btf__name_by_offset(btf, m->name_off), member) &&
			    !btf_member_bitfield_size(t, k)) {
				*ret = vs->offset + btf_member_bit_offset(t, k) / 8;
				return 0;
			}
		return -ENOENT;
	}
	return -ENOENT;
}

/* The running kernel's layout, found once per process: its BTF does not
 * change until a reboot, and parsing it (about 5 MiB) cost every session
 * child 10-20 ms.  The runner finds it before it forks any session
 * (guard_kernel_layout_warm), so the children inherit it. */
static struct guard_kernel guard_kernel_cached;

static int kernel_layout_parse(const char *btf_path, struct guard_kernel *ret, char **ret_err);

int guard_kernel_layout(const char *btf_path, struct guard_kernel *ret, char **ret_err)
{
	int r;

	if (btf_path)
		return kernel_layout_parse(btf_path, ret, ret_err);
	if (!guard_kernel_cached.thread_size) {
		r = kernel_layout_parse(NULL, &guard_kernel_cached, ret_err);
		if (r < 0)
			return r;
	}
	*ret = guard_kernel_cached;
	return 0;
}

static int kernel_layout_parse(const char *btf_path, struct guard_kernel *ret, char **ret_err)
{
	static const struct { const char *name; int kind; } types[] = {
		{ "irq_stack", BTF_KIND_STRUCT },
		{ "thread_union", BTF_KIND_UNION },
	};
	const char *path = btf_path ? btf_path : "/sys/kernel/btf/vmlinux";
	libbpf_print_fn_t old = libbpf_set_print(NULL);
	struct btf *btf = btf__parse(path, NULL);
	int err = btf ? 0 : -errno;
	struct guard_kernel k = { 0 };

	libbpf_set_print(old);
	if (!btf) {
		set_err(ret_err, "kernel BTF \"%s\": cannot read: %s", path, strerror(-err));
		return err ? err : -EIO;
	}
	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]) && !k.thread_size; i++) {
		int id = btf__find_by_name_kind(btf, types[i].name, types[i].kind);
		const struct btf_type *t = id > 0 ? btf__type_by_id(btf, (uint32_t)id) : NULL;

		/* a stack is a power of two of at least 4 KiB */
		if (t && t->size >= 4096 && !(t->size & (t->size - 1)))
			k.thread_size = t->size;
	}
	if (!k.thread_size) {
		btf__free(btf);
		set_err(ret_err, "kernel BTF \"%s\": neither \"struct irq_stack\" nor \"union thread_union\" gives THREAD_SIZE",
			path);
		return -ENOENT;
	}
	if (percpu_off(btf, "runqueues", NULL, &k.rq_off) < 0 ||
	    (percpu_off(btf, "__preempt_count", NULL, &k.pc_off) < 0 &&
	     percpu_off(btf, "pcpu_hot", "preempt_count", &k.pc_off) < 0)) {
		btf__free(btf);
		set_err(ret_err, "kernel BTF \"%s\": no per-CPU \"runqueues\" and \"__preempt_count\" (or \"pcpu_hot\")",
			path);
		return -ENOENT;
	}
	btf__free(btf);
	*ret = k;
	return 0;
}

/* ---- probes under a scope --------------------------------------------------- */

bool guard_is_timer(const struct plan_prog *pp)
{
	return pp->section && !strncmp(pp->section, GUARD_TIMER_PREFIX, strlen(GUARD_TIMER_PREFIX));
}

static int diag_set(struct lang_diag *d, struct lang_loc loc, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int diag_set(struct lang_diag *d, struct lang_loc loc, const char *fmt, ...)
{
	va_list ap;

	d->loc = loc;
	d->span = 0;
	va_start(ap, fmt);
	vsnprintf(d->msg, sizeof(d->msg), fmt, ap);
	va_end(ap);
	return -TG_EPOLICY;
}

/* The first use policy/unscoped.h refuses: the walk stops there. */
static int unscoped_first(void *ctx, const struct tg_unscoped_use *u)
{
	struct lang_diag *d = ctx;

	diag_set(d, u->loc, "%s", u->message);
	return -TG_EPOLICY;
}

int guard_unscoped(const struct lang_program *prog, bool scoped, struct lang_diag *diag)
{
	int r;

	if (!scoped)
		return 0;
	r = tg_unscoped_check(prog, unscoped_first, diag);
	return r < 0 ? r : 0;
}

int guard_plan_scope(const struct lang_program *prog, struct plan *pl, bool scoped,
		     struct lang_diag *diag)
{
	size_t ntimers = 0;
	int r;

	if (!scoped)
		return 0;
	/* BEGIN, END and interval bodies run in the runner: a gateway decided
	 * the same (policy-check.c), but a runner does not take its word */
	r = guard_unscoped(prog, scoped, diag);
	if (r < 0)
		return r;
	/* profile and software probes sample whatever was interrupted */
	for (size_t i = 0; i < prog->nprobes; i++) {
		const struct lang_probe *pr = &prog->probes[i];

		for (size_t j = 0; j < pr->nattach; j++) {
			const struct lang_attach *a = &pr->attach[j];

			if (!strcmp(a->type, "profile") || !strcmp(a->type, "software") ||
			    !strcmp(a->type, "hardware"))
				return diag_set(diag, a->loc,
						"probe \"%s\": %s probes sample interrupt context, which belongs to no tenant",
						a->raw ? a->raw : a->type, a->type);
		}
	}
	for (size_t k = 0; k < pl->n; k++) {
		struct plan_prog *pp = &pl->progs[k];
		const struct lang_probe *pr;
		char *sec;

		if (pp->kind != PK_PERF)
			continue;
		pr = &prog->probes[pp->probe];
		/* only interval is left: the checks above saw the others */
		if (!pp->one_cpu)
			return diag_set(diag, pr->loc, "probe \"%s\": cannot run under a scope", pp->name);
		if (ntimers == GUARD_MAX_TIMERS)
			return diag_set(diag, pr->loc, "probe \"%s\": more than %d interval probes",
					pp->name, GUARD_MAX_TIMERS);
		if (pp->period < GUARD_MIN_TIMER_NS)
			return diag_set(diag, pr->loc,
					"probe \"%s\": interval shorter than the limit of 1 ms under a scope",
					pp->name);
		if (asprintf(&sec, GUARD_TIMER_PREFIX "%zu", ntimers) < 0)
			return -ENOMEM;
		free(pp->section);
		pp->section = sec;
		ntimers++;
	}
	return 0;
}

/* ---- events per second -------------------------------------------------------- */

void guard_rate_params(uint64_t rate, int ncpus, uint64_t *ret_cost, uint64_t *ret_cap)
{
	uint64_t cost;

	if (!rate || ncpus <= 0) {
		*ret_cost = *ret_cap = 0;
		return;
	}
	cost = (uint64_t)ncpus * 1000000000ull / rate;
	if (!cost)
		cost = 1;
	*ret_cost = cost;
	*ret_cap = cost > 1000000000ull ? cost : 1000000000ull;
}

/* ---- the CPU budget ------------------------------------------------------------ */

void guard_cpu_init(struct guard_cpu *c, double budget)
{
	memset(c, 0, sizeof(*c));
	c->budget = budget;
}

bool guard_cpu_sample(struct guard_cpu *c, uint64_t now_ns, uint64_t run_ns)
{
	size_t last, first, second;
	uint64_t dt, drun;

	if (c->budget <= 0)
		return false;
	if (c->n) {
		last = (c->head + c->n - 1) % GUARD_CPU_SAMPLES;
		if (now_ns - c->t[last] < GUARD_CPU_SAMPLE_NS)
			return false;
	}
	if (c->n == GUARD_CPU_SAMPLES) {
		c->head = (c->head + 1) % GUARD_CPU_SAMPLES;
		c->n--;
	}
	last = (c->head + c->n) % GUARD_CPU_SAMPLES;
	c->t[last] = now_ns;
	c->run[last] = run_ns;
	c->n++;
	/* keep the newest sample that is at least a window old as the base */
	while (c->n >= 3) {
		second = (c->head + 1) % GUARD_CPU_SAMPLES;
		if (now_ns - c->t[second] < GUARD_CPU_WINDOW_NS)
			break;
		c->head = second;
		c->n--;
	}
	first = c->head;
	dt = now_ns - c->t[first];
	if (c->n < 2 || dt < GUARD_CPU_WINDOW_NS)
		return false;
	drun = run_ns >= c->run[first] ? run_ns - c->run[first] : 0;
	c->last_share = (double)drun / (double)dt;
	return c->last_share > c->budget;
}

/* ---- interval timers under a scope -------------------------------------------- */

void guard_timers_init(struct guard_timers *t)
{
	memset(t, 0, sizeof(*t));
	t->epfd = -1;
}

int guard_timers_add(struct guard_timers *t, int prog_fd, uint64_t period_ns, char **ret_err)
{
	struct itimerspec its = { 0 };
	struct epoll_event ev = { .events = EPOLLIN };
	int fd, r;

	if (t->n == GUARD_MAX_TIMERS) {
		set_err(ret_err, "interval: more than %d timers", GUARD_MAX_TIMERS);
		return -TG_ELIMIT;
	}
	if (prog_fd < 0 || period_ns < GUARD_MIN_TIMER_NS) {
		set_err(ret_err, "interval: bad timer (program fd %d, period %" PRIu64 " ns)", prog_fd,
			period_ns);
		return -EINVAL;
	}
	if (t->epfd < 0) {
		t->epfd = epoll_create1(EPOLL_CLOEXEC);
		if (t->epfd < 0) {
			r = -errno;
			set_err(ret_err, "interval: epoll: %s", strerror(-r));
			return r;
		}
	}
	fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	if (fd < 0) {
		r = -errno;
		set_err(ret_err, "interval: timerfd: %s", strerror(-r));
		return r;
	}
	its.it_interval.tv_sec = (time_t)(period_ns / 1000000000ull);
	its.it_interval.tv_nsec = (long)(period_ns % 1000000000ull);
	its.it_value = its.it_interval;
	ev.data.u64 = t->n;
	if (timerfd_settime(fd, 0, &its, NULL) < 0 || epoll_ctl(t->epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
		r = -errno;
		close(fd);
		set_err(ret_err, "interval: timer: %s", strerror(-r));
		return r;
	}
	t->tfd[t->n] = fd;
	t->prog_fd[t->n] = prog_fd;
	t->n++;
	return 0;
}

int guard_timers_run(struct guard_timers *t, char **ret_err)
{
	struct epoll_event ev[GUARD_MAX_TIMERS];
	int n;

	if (t->epfd < 0)
		return 0;
	n = epoll_wait(t->epfd, ev, GUARD_MAX_TIMERS, 0);
	if (n < 0)
		return errno == EINTR ? 0 : -errno;
	for (int i = 0; i < n; i++) {
		size_t k = (size_t)ev[i].data.u64;
		LIBBPF_OPTS(bpf_test_run_opts, opts);
		uint64_t count;

		if (k >= t->n)
			continue;
		/* a late loop runs a missed tick once, as a late timer would */
		if (read(t->tfd[k], &count, sizeof(count)) != (ssize_t)sizeof(count))
			continue;
		if (bpf_prog_test_run_opts(t->prog_fd[k], &opts) < 0) {
			int r = -errno;

			set_err(ret_err, "interval program: cannot run: %s", strerror(-r));
			return -TG_ELOAD;
		}
		t->fired++;
	}
	return 0;
}

void guard_timers_release(struct guard_timers *t)
{
	for (size_t i = 0; i < t->n; i++)
		close(t->tfd[i]);
	if (t->epfd >= 0)
		close(t->epfd);
	guard_timers_init(t);
}
