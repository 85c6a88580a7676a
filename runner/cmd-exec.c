// SPDX-License-Identifier: Apache-2.0
/*
 * tracegate-runner exec: run one program locally and print like bpftrace.
 *
 *   tracegate-runner exec -l[v] [PATTERN]
 *   tracegate-runner exec [-e PROG | -f FILE] [-q] [-o FILE] [-p PID | -c CMD]
 *                         [--cgroup DIR] [--policy FILE]
 *                         [--duration SECONDS] [--cache-dir DIR]
 *                         [--max-map-entries N] [--rate N] [--cpu-budget F]
 *                         [--summary] [ARGS...]
 *
 * -q, -o, -p and -c as bpftrace 0.17: no "Attaching N probes...", the
 * output to FILE (the "\n\n" before the exit-time maps stays on stdout,
 * as 0.17), uprobes/usdt armed in PID only, CMD (split at spaces, found
 * on PATH) started held until every probe is attached, its pid the
 * "cpid" builtin and the -p of uprobes/usdt, the run ending when it exits
 * (SIGKILL to it when the run ends first).
 *
 * --summary prints the end record (reason and counts, as a session's
 * NDJSON "end" line) on stderr.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdint.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/buf.h"
#include "lib/cleanup.h"
#include "lib/errors.h"
#include "lib/log.h"
#include "lib/util.h"
#include "lang/ast.h"
#include "output/output.h"
#include "runner/commands.h"
#include "runner/engine.h"
#include "runner/exec-list.h"
#include "runner/exec-policy.h"
#include "runner/jail.h"
#include "runner/scope.h"
#include "runner/uprobe-attach.h"
#include "wire/end.h"
#include "lib/banned.h"

#define EXEC_MAX_DURATION_S (365ull * 24 * 3600)
#define EXEC_MAX_MAP_ENTRIES (1ull << 24)       /* as a session's maxMapEntries */
#define EXEC_MAX_RATE        4294967295ull      /* events per second */
#define EXEC_MAX_CPU_BUDGET  1024.0             /* CPUs */

#define EXEC_MAX_CMD_ARGS 255                   /* -c: bpftrace's maxargs - 1 */

static int stop_pipe[2] = { -1, -1 };
static volatile pid_t child_pid;          /* -c: the command, until reaped */
/* -c: the command is traced (PTRACE_SEIZE) only to be held at its exit
 * (PTRACE_EVENT_EXIT, before its memory is gone) until the events it made
 * are printed: a ustack or usym of a command that ends right after is
 * then resolved, where bpftrace 0.17 races the exit and often prints
 * "[unknown]".  drain_pipe tells the engine (engine_opts.drain_fd). */
static int drain_pipe[2] = { -1, -1 };
static volatile sig_atomic_t child_at_exit;

/* A ptrace stop of the command, in the SIGCHLD handler: its exit is held
 * for the engine; a signal goes on to it as if untraced; a group stop
 * (SIGSTOP, SIGTSTP) stays a stop until SIGCONT (PTRACE_LISTEN), which
 * reports a SIGTRAP one. */
static void child_stopped(pid_t p, int st)
{
	if (st >> 8 == (SIGTRAP | (PTRACE_EVENT_EXIT << 8))) {
		child_at_exit = 1;
		if (write(drain_pipe[1], "x", 1) < 0) {
			/* the pipe is full: a drain is already pending */
		}
	} else if (st >> 16 == PTRACE_EVENT_STOP) {
		int sig = WSTOPSIG(st);

		/* a group stop by a stop signal; a SIGTRAP one is its end */
		if (sig == SIGSTOP || sig == SIGTSTP || sig == SIGTTIN || sig == SIGTTOU)
			(void)ptrace(PTRACE_LISTEN, p, 0, 0);
		else
			(void)ptrace(PTRACE_CONT, p, 0, 0);
	} else {
		(void)ptrace(PTRACE_CONT, p, 0, (void *)(long)WSTOPSIG(st));
	}
}

static void on_signal(int sig)
{
	int saved = errno;
	char c = (char)sig;

	if (sig == SIGCHLD) {
		/* only the command's end stops the run: the compile jail's
		 * children are waited for by their own pids */
		pid_t p = child_pid, w;
		int st;

		if (p <= 0) {
			errno = saved;
			return;
		}
		while ((w = waitpid(p, &st, WNOHANG)) == p && WIFSTOPPED(st))
			child_stopped(p, st);
		if (w != p) {
			errno = saved;
			return;
		}
		child_pid = 0;
	}
	if (write(stop_pipe[1], &c, 1) < 0) {
		/* the pipe is full: a stop is already pending */
	}
	errno = saved;
}

struct child {
	pid_t pid;
	int go;                /* write end: 8 bytes release the command */
};

/* bpftrace 0.17's resolve_binary_path for a command: a name with a '/' is
 * itself, else the first executable of that name on PATH */
static int find_cmd(const char *name, char **ret)
{
	const char *path = getenv("PATH"), *p, *e;
	struct stat st;

	if (strchr(name, '/')) {
		if (stat(name, &st) < 0 || !S_ISREG(st.st_mode) || access(name, X_OK) < 0)
			return -ENOENT;
		*ret = strdup(name);
		return *ret ? 0 : -ENOMEM;
	}
	for (p = path ? path : "/usr/local/bin:/usr/bin:/bin"; *p; p = *e ? e + 1 : e) {
		_cleanup_free_ char *f = NULL;

		e = strchrnul(p, ':');
		if (e == p)
			continue;
		if (asprintf(&f, "%.*s/%s", (int)(e - p), p, name) < 0)
			return -ENOMEM;
		if (stat(f, &st) == 0 && S_ISREG(st.st_mode) && access(f, X_OK) == 0) {
			*ret = TAKE_PTR(f);
			return 0;
		}
	}
	return -ENOENT;
}

/* -c CMD: fork the command, held on a pipe until child_release() */
static int child_start(const char *cmd, struct child *c)
{
	_cleanup_free_ char *copy = strdup(cmd), *file = NULL;
	char *argv[EXEC_MAX_CMD_ARGS + 1];
	size_t n = 0;
	int go[2], r;

	if (!copy)
		return -ENOMEM;
	/* as 0.17: split at spaces, no shell quoting */
	for (char *tok = copy, *sp; tok; tok = sp) {
		sp = strchr(tok, ' ');
		if (sp)
			*sp++ = '\0';
		if (!*tok)
			continue;
		if (n == EXEC_MAX_CMD_ARGS) {
			log_error("-c: too many arguments for command (more than %d)", EXEC_MAX_CMD_ARGS);
			return -E2BIG;
		}
		argv[n++] = tok;
	}
	argv[n] = NULL;
	if (!n) {
		log_error("-c: empty command");
		return -EINVAL;
	}
	r = find_cmd(argv[0], &file);
	if (r < 0) {
		log_error("-c: path \"%s\" does not exist or is not executable", argv[0]);
		return r;
	}
	if (pipe2(go, O_CLOEXEC) < 0)
		return -errno;
	c->pid = fork();
	if (c->pid < 0) {
		r = -errno;
		close(go[0]);
		close(go[1]);
		return r;
	}
	if (c->pid == 0) {
		sigset_t none;
		uint64_t b;

		close(go[1]);
		/* the mask and ignored signals survive execve: SIGCHLD is
		 * blocked here (cmd_exec), and whatever started us may have
		 * ignored any signal (glibc's wrappers refuse its own two, 32
		 * and 33, so the system call itself resets every one) */
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		for (int sig = 1; sig < _NSIG; sig++) {
			struct kernel_sigaction {
				void (*handler)(int);
				unsigned long flags;
				void (*restorer)(void);
				uint64_t mask;
			} dfl = { .handler = SIG_DFL };

			if (sig != SIGKILL && sig != SIGSTOP)
				syscall(SYS_rt_sigaction, sig, &dfl, NULL, sizeof(dfl.mask));
		}
		/* as bpftrace: the command ends with us */
		prctl(PR_SET_PDEATHSIG, SIGTERM);
		/* as bpftrace 0.17's child, whose system calls after the
		 * attach are traced too (pid == cpid): an 8-byte read, the
		 * close of its end, then execve */
		if (read(go[0], &b, sizeof(b)) != sizeof(b))
			_exit(11);           /* the run ended before attaching */
		close(go[0]);
		execv(file, argv);
		fprintf(stderr, "child: failed to execve: %s: %s\n", file, strerror(errno));
		_exit(12);
	}
	close(go[0]);
	c->go = go[1];
	return 0;
}

/* engine_opts.hold, before the command is released: only a program that
 * prints user stacks or symbols has it traced, since a traced process's
 * ignored signals are delivered (to be stopped at and passed on), which
 * tracepoint:signal:* would show.  Without ptrace (Yama's scope 3) the
 * command's exit is not held, as 0.17's is not. */
static void child_hold(void *ctx)
{
	struct child *c = ctx;

	if (ptrace(PTRACE_SEIZE, c->pid, 0, (void *)(long)(PTRACE_O_TRACEEXIT | PTRACE_O_EXITKILL)) < 0)
		log_debug("-c: the command's exit is not held for its stacks: ptrace: %s", strerror(errno));
}

/* engine_opts.drained: the command's events are printed; its exit goes on */
static void child_drained(void *ctx)
{
	sigset_t set, old;
	char b[16];
	pid_t p;

	(void)ctx;
	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	sigprocmask(SIG_BLOCK, &set, &old);
	while (read(drain_pipe[0], b, sizeof(b)) > 0)
		;
	p = child_pid;
	if (child_at_exit && p > 0)
		(void)ptrace(PTRACE_DETACH, p, 0, 0);
	child_at_exit = 0;
	sigprocmask(SIG_SETMASK, &old, NULL);
}

static void child_release(struct child *c)
{
	if (c->go >= 0) {
		uint64_t go = 1;

		if (write(c->go, &go, sizeof(go)) != sizeof(go)) {
			/* the command died before its start: its SIGCHLD stops us */
		}
		close(c->go);
		c->go = -1;
	}
}

/* the run is over: a command still running is killed, as bpftrace */
static void child_end(struct child *c)
{
	sigset_t set, old;
	bool held;
	pid_t p;

	if (c->go >= 0) {
		close(c->go);
		c->go = -1;
	}
	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	sigprocmask(SIG_BLOCK, &set, &old);
	p = child_pid;
	child_pid = 0;
	held = child_at_exit;
	child_at_exit = 0;
	sigprocmask(SIG_SETMASK, &old, NULL);
	if (p > 0) {
		pid_t w;
		int st;

		kill(p, SIGKILL);
		/* held at its exit, a stop already reported: SIGKILL does not
		 * end that stop, and wait would not report it again */
		if (held)
			(void)ptrace(PTRACE_DETACH, p, 0, 0);
		/* a stop reported now (its exit, SIGKILL's too) is let go */
		while (((w = waitpid(p, &st, 0)) < 0 && errno == EINTR) || (w == p && WIFSTOPPED(st)))
			if (w == p)
				(void)ptrace(PTRACE_DETACH, p, 0, 0);
	}
}

struct exec_out {
	bool final_header;     /* the "\n\n" before the exit-time maps */
	bool quiet;            /* -q: no "Attaching N probes..." */
	FILE *f;               /* stdout, or -o FILE */
	struct child *child;   /* -c, or NULL */
	bool json;             /* -f json: bpftrace's JSON records, one a line */
};

static int out_write(struct exec_out *eo, const struct buf *b)
{
	if (fwrite(b->s, 1, b->len, eo->f) != b->len || fflush(eo->f) != 0)
		return errno == EPIPE ? -EPIPE : -EIO;
	return 0;
}

/* -f json: {"type": "printf"|"value"|"time"|"cat"|"join", "data": ...} */
static int out_output_json(void *ctx, uint64_t cgid, const char *kind, const char *text, size_t len,
			   const json_t *value)
{
	_cleanup_buf_ struct buf b = BUF_INIT(0);
	int r;

	(void)cgid;
	r = output_json_event(&b, kind, text, len, value);
	return r < 0 ? r : out_write(ctx, &b);
}

static int out_output(void *ctx, uint64_t cgid, const char *text, size_t len)
{
	struct exec_out *eo = ctx;

	(void)cgid;
	if (fwrite(text, 1, len, eo->f) != len || fflush(eo->f) != 0)
		return errno == EPIPE ? -EPIPE : -EIO;
	return 0;
}

static int out_map(void *ctx, json_t *rec)
{
	struct exec_out *eo = ctx;
	_cleanup_buf_ struct buf b = BUF_INIT(0);
	bool print = json_is_true(json_object_get(rec, "print"));
	json_int_t top = json_integer_value(json_object_get(rec, "top"));
	json_int_t div = json_integer_value(json_object_get(rec, "div"));
	int r;

	if (!print && !eo->final_header) {
		/* bpftrace 0.17 writes these to its stdout even under -o */
		eo->final_header = true;
		fputs("\n\n", stdout);
		fflush(stdout);
	}
	r = eo->json ? output_map_format_json(&b, rec, (uint64_t)top, (uint64_t)div) :
		      output_map_format(&b, rec, (uint64_t)top, (uint64_t)div);
	if (r < 0)
		return r;
	return out_write(eo, &b);
}

/* -f json: the events dropped, after everything else */
static void out_lost_events(struct exec_out *eo, uint64_t drops)
{
	_cleanup_buf_ struct buf b = BUF_INIT(0);

	if (eo->json && drops && output_json_lost_events(&b, drops) >= 0)
		fputs(b.s, eo->f);
}

static int out_status(void *ctx, const char *phase, json_t *details)
{
	struct exec_out *eo = ctx;

	if (!strcmp(phase, "compiled")) {
		json_int_t n = json_integer_value(json_object_get(details, "probes"));

		if (eo->quiet)
			return 0;
		if (eo->json) {
			_cleanup_buf_ struct buf b = BUF_INIT(0);

			if (output_json_attached_probes(&b, (uint64_t)n) >= 0)
				fputs(b.s, eo->f);
		} else
			fprintf(eo->f, "Attaching %lld probe%s...\n", (long long)n, n == 1 ? "" : "s");
		fflush(eo->f);
	} else if (!strcmp(phase, "loaded")) {
		json_t *progs = json_object_get(details, "programs"), *p;
		size_t i;

		fprintf(eo->f, "Loaded %zu program%s into the kernel (nothing attached):\n",
			json_array_size(progs), json_array_size(progs) == 1 ? "" : "s");
		json_array_foreach(progs, i, p)
			fprintf(eo->f, "  %s  %s  %s\n", json_string_value(json_object_get(p, "function")),
				json_string_value(json_object_get(p, "section")),
				json_string_value(json_object_get(p, "probe")));
		fflush(eo->f);
	} else if (!strcmp(phase, "attached")) {
		if (getenv("__BPFTRACE_NOTIFY_PROBES_ATTACHED")) {
			fputs("__BPFTRACE_NOTIFY_PROBES_ATTACHED\n", stderr);
			fflush(stderr);
		}
		if (eo->child)
			child_release(eo->child);
	}
	return 0;
}

static int out_warning(void *ctx, const char *msg)
{
	(void)ctx;
	fprintf(stderr, "WARNING: %s\n", msg);
	return 0;
}

static void usage(void)
{
	fputs("usage: tracegate-runner exec -l[v] [PATTERN]\n"
	      "       tracegate-runner exec [-e PROG | FILE] [-f text|json] [-q] [-o FILE]\n"
	      "                             [-p PID | -c 'CMD']\n"
	      "                             [--cgroup DIR] [--policy FILE]\n"
	      "                             [--duration SECONDS] [--cache-dir DIR]\n"
	      "                             [--max-map-entries N] [--max-map-bytes N] [--rate N]\n"
	      "                             [--max-output-bytes N]\n"
	      "                             [--cpu-budget F]\n"
	      "                             [--summary] [--load-only] [FILE] [ARGS...]\n"
	      "  -l [PATTERN] list the probes whose name matches the glob PATTERN;\n"
	      "              -lv adds each tracepoint's fields\n"
	      "  -f FORMAT   text (the default) or json: bpftrace's JSON records, one a line\n"
	      "  -q          keep messages quiet (no \"Attaching N probes...\")\n"
	      "  -o FILE     write the program's output to FILE\n"
	      "  -p PID      arm uprobes and usdt probes in process PID only\n"
	      "  -c 'CMD'    run CMD (split at spaces) once every probe is attached, as -p\n"
	      "              its pid (the cpid builtin); the run ends when it exits\n",
	      stderr);
}

static int scope_from_dir(const char *dir, struct scope *s)
{
	_cleanup_free_ char *mnt = NULL, *err = NULL;
	struct scope_target t = { 0 };
	int r;

	r = cgroup2_mount_find(&mnt, &err);
	if (r >= 0)
		r = scope_target_from_path(mnt, dir, dir, &t, &err);
	if (r >= 0)
		r = scope_add(s, &t);
	if (r < 0) {
		scope_target_release(&t);
		log_error("--cgroup \"%s\": %s", dir, err ? err : tg_strerror(r));
	}
	return r;
}

/* A step's answer: go on, or exit with this status */
#define EXEC_GO (-1)

/* tracegate-runner exec's command line */
struct exec_args {
	const char *prog, *file, *cgroup, *cache, *policy, *outfile, *cmd;
	uint64_t tpid, secs;
	bool list, verbose, quiet, json, summary, load_only;
	struct engine_limits lim;
	int first;                      /* argv's first word after the flags */
	const char *const *params;      /* the program's ARGS */
	size_t nparams;
};

/* --FLAG N: a count from 1 to max of what */
static int parse_count(const char *flag, const char *what, const char *v, uint64_t max, uint64_t *ret)
{
	if (parse_u64(v, ret) < 0 || !*ret || *ret > max) {
		log_error("--%s \"%s\": expected %s (1..%llu)", flag, v, what, (unsigned long long)max);
		return -EINVAL;
	}
	return 0;
}

/* --max-map-bytes, --max-output-bytes, --max-map-entries, --rate and
 * --cpu-budget, each within its limit */
static int parse_limit(int c, const char *v, struct engine_limits *lim)
{
	switch (c) {
	case 'Y':
		return parse_count("max-map-bytes", "bytes", v, UINT64_C(1) << 40, &lim->max_map_bytes);
	case 'O':
		return parse_count("max-output-bytes", "bytes", v, UINT64_C(1) << 40, &lim->max_output_bytes);
	case 'M':
		return parse_count("max-map-entries", "entries", v, EXEC_MAX_MAP_ENTRIES, &lim->max_map_entries);
	case 'R':
		return parse_count("rate", "events per second", v, EXEC_MAX_RATE, &lim->events_per_second);
	case 'B':
		if (parse_double(v, &lim->cpu_budget) < 0 || !(lim->cpu_budget > 0) ||
		    lim->cpu_budget > EXEC_MAX_CPU_BUDGET) {
			log_error("--cpu-budget \"%s\": expected a share of one CPU (0 < F <= %g)", v,
				  EXEC_MAX_CPU_BUDGET);
			return -EINVAL;
		}
		return 0;
	}
	return -EINVAL;
}

/* The flags, as bpftrace 0.17's getopt_long reads them: anywhere among
 * the words (`-e PROG 10 -q` is quiet), up to a `--` (`-e PROG 1 -- -3`
 * has the parameters 1 and -3); the words left are the program file
 * and its parameters, in their order */
static int exec_parse_flags(int argc, char **argv, struct exec_args *a)
{
	static const struct option opts[] = {
		{ "cgroup", required_argument, NULL, 'G' },
		{ "policy", required_argument, NULL, 'P' },
		{ "duration", required_argument, NULL, 'd' },
		{ "cache-dir", required_argument, NULL, 'C' },
		{ "max-map-entries", required_argument, NULL, 'M' },
		{ "max-map-bytes", required_argument, NULL, 'Y' },
		{ "max-output-bytes", required_argument, NULL, 'O' },
		{ "rate", required_argument, NULL, 'R' },
		{ "cpu-budget", required_argument, NULL, 'B' },
		{ "summary", no_argument, NULL, 'S' },
		{ "load-only", no_argument, NULL, 'L' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	optind = 0;   /* glibc: a full restart, permutation state too */
	while ((c = getopt_long(argc, argv, "e:f:hqo:p:c:lv", opts, NULL)) != -1) {
		switch (c) {
		case 'e': a->prog = optarg; break;
		case 'f':
			/* bpftrace's -f FORMAT; tracegate's older -f FILE stays
			 * for an existing file that is neither format name */
			if (!strcmp(optarg, "json") || !strcmp(optarg, "text")) {
				a->json = !strcmp(optarg, "json");
			} else if (access(optarg, F_OK) == 0) {
				a->file = optarg;
			} else {
				fprintf(stderr, "ERROR: Invalid output format \"%s\"\n", optarg);
				fprintf(stderr, "Valid formats: 'text', 'json'\n");
				return 1;
			}
			break;
		case 'G': a->cgroup = optarg; break;
		case 'P': a->policy = optarg; break;
		case 'q': a->quiet = true; break;
		case 'l': a->list = true; break;
		case 'v': a->verbose = true; break;
		case 'o': a->outfile = optarg; break;
		case 'c': a->cmd = optarg; break;
		case 'p':
			if (parse_u64(optarg, &a->tpid) < 0 || !a->tpid || a->tpid > 4194304) {
				log_error("-p \"%s\": expected a process id (1..4194304)", optarg);
				return 2;
			}
			break;
		case 'C': a->cache = optarg; break;
		case 'd':
			if (parse_u64(optarg, &a->secs) < 0 || a->secs > EXEC_MAX_DURATION_S) {
				log_error("--duration \"%s\": expected seconds (0..%llu)", optarg,
					  (unsigned long long)EXEC_MAX_DURATION_S);
				return 2;
			}
			break;
		case 'Y':
		case 'O':
		case 'M':
		case 'R':
		case 'B':
			if (parse_limit(c, optarg, &a->lim) < 0)
				return 2;
			break;
		case 'S':
			a->summary = true;
			break;
		case 'L':
			a->load_only = true;
			break;
		case 'h':
			usage();
			return 0;
		default:
			usage();
			return 2;
		}
	}
	a->first = optind;
	return EXEC_GO;
}

/* -l[v] [PATTERN] */
static int exec_list_probes(int argc, char **argv, const struct exec_args *a)
{
	_cleanup_free_ char *err = NULL;
	const char *pattern = a->first < argc ? argv[a->first] : NULL;
	int r;

	if (a->prog || a->file || a->cmd || a->tpid || argc - a->first > 1) {
		log_error("exec: -l [PATTERN] takes no program, -c, -p or second pattern");
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	r = exec_list(pattern, a->verbose, stdout, &err);
	if (r < 0 && r != -EPIPE) {
		fprintf(stderr, "ERROR: %s\n", err ? err : tg_strerror(r));
		return 1;
	}
	return 0;
}

/* The program, its ARGS and the flags that exclude each other */
static int exec_check_args(int argc, char **argv, struct exec_args *a)
{
	/* like bpftrace: the program file may be the first argument */
	if (!a->prog && !a->file && a->first < argc)
		a->file = argv[a->first++];
	a->params = (const char *const *)(argv + a->first);
	a->nparams = (size_t)(argc - a->first);
	if (!a->prog == !a->file) {
		log_error("exec: give exactly one of -e PROG, -f FILE and FILE");
		usage();
		return 2;
	}
	if (a->tpid && a->cmd) {
		log_error("exec: give at most one of -p PID and -c CMD");
		return 2;
	}
	if ((a->tpid || a->cmd) && a->cgroup) {
		/* under a scope uprobes follow the scope's processes, and the
		 * command would run outside it, untraced */
		log_error("exec: %s cannot be combined with --cgroup", a->tpid ? "-p" : "-c");
		return 2;
	}
	if (a->tpid && kill((pid_t)a->tpid, 0) < 0 && errno == ESRCH) {
		log_error("-p %llu: no such process", (unsigned long long)a->tpid);
		return 1;
	}
	return EXEC_GO;
}

/* -e's text, or FILE's read into *ret_text; a->prog then points at it */
static int exec_read_program(struct exec_args *a, char **ret_text, size_t *ret_len)
{
	int r;

	if (!a->file) {
		*ret_len = strlen(a->prog);
		return EXEC_GO;
	}
	r = read_file(a->file, TG_MAX_SOURCE_BYTES, ret_text, ret_len);
	if (r < 0) {
		log_error("-f \"%s\": %s", a->file, r == -EFBIG ? "larger than the script limit" : strerror(-r));
		return 1;
	}
	a->prog = *ret_text;
	return EXEC_GO;
}

/* --policy FILE: the decision, and what it says to run */
static int exec_decide(struct exec_args *a, size_t len, struct exec_policy_result *decided,
		       struct engine_opts *eo)
{
	struct passwd *pw = getpwuid(getuid());
	_cleanup_free_ char *why = NULL;
	int r;

	r = exec_policy_apply(a->policy, pw ? pw->pw_name : "unknown", a->prog, len, a->params, a->nparams,
			      a->cgroup != NULL, &a->lim, decided, &why);
	if (r < 0) {
		if (r == -TG_EPOLICY)
			fprintf(stderr, "ERROR: the policy does not allow this program\n%s\n",
				why ? why : "");
		else
			log_error("%s", why ? why : tg_strerror(r));
		return 1;
	}
	/* run exactly what the policy decided on, with its field rules */
	eo->canonical = decided->canonical;
	eo->tp_fields = decided->tp_fields;
	return EXEC_GO;
}

/* The compile jail's mode, from the environment: a warning unless enforced */
static int exec_check_jail(void)
{
	_cleanup_free_ char *err = NULL;
	struct jail_opts jo;
	int r;

	r = jail_opts_from_env(&jo, &err);
	if (r < 0) {
		log_error("%s", err ? err : tg_strerror(r));
		return 2;
	}
	if (jo.mode != JAIL_ENFORCE)
		fprintf(stderr, "WARNING: %s=%s: %s\n", JAIL_ENV, jail_mode_name(jo.mode),
			jo.mode == JAIL_OFF ? "code generation and clang run with our own privileges" :
			"the compile jail's seccomp filters only log");
	return EXEC_GO;
}

/* -c CMD: started held, with SIGCHLD ending the run once it exits */
static int exec_start_command(const char *cmd, struct child *child)
{
	/* no SA_NOCLDSTOP: it also keeps the command's ptrace stops from us */
	struct sigaction sc = { .sa_handler = on_signal, .sa_flags = SA_RESTART };
	sigset_t set, old;
	int r;

	/* the handler knows the pid before the command can end */
	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	sigprocmask(SIG_BLOCK, &set, &old);
	sigaction(SIGCHLD, &sc, NULL);
	r = child_start(cmd, child);
	if (r >= 0)
		child_pid = child->pid;
	sigprocmask(SIG_SETMASK, &old, NULL);
	if (r < 0 && r != -ENOENT && r != -E2BIG && r != -EINVAL)
		log_error("-c: %s", strerror(-r));
	return r;
}

/* --summary: the end record a session streams (wire/end.h), on stderr */
static void exec_print_summary(const struct engine_result *res)
{
	const struct wire_end we = {
		.reason = (char *)res->reason,
		.has = WIRE_END_EVENTS | WIRE_END_DROPS | WIRE_END_MAP_DROPS | WIRE_END_OUTPUT_BYTES |
		       WIRE_END_CPU_NS | WIRE_END_EXIT_CODE,
		.events = res->events, .drops = res->drops, .map_drops = res->map_drops,
		.output_bytes = res->output_bytes, .cpu_ns = res->cpu_ns, .exit_code = res->exit_code,
	};
	_cleanup_free_ char *text = NULL;
	int r = wire_end_encode(&we, &text);

	if (r < 0)
		log_error("--summary: the end record: %s", tg_strerror(r));
	else
		fprintf(stderr, "%s\n", text);
}

/* After a run that ended well: the output's tail, --summary, warnings */
static void exec_print_end(const struct exec_args *a, struct exec_out *out, const struct engine_result *res)
{
	if (!out->final_header && !a->load_only)
		fputs("\n\n", stdout);
	out_lost_events(out, res->drops);
	fflush(out->f);
	fflush(stdout);
	if (a->summary)
		exec_print_summary(res);
	if (res->drops)
		fprintf(stderr, "WARNING: %llu events lost (ring buffer full or rate limit)\n",
			(unsigned long long)res->drops);
	if (res->map_drops)
		fprintf(stderr, "WARNING: %llu map updates refused (map entry limit)\n",
			(unsigned long long)res->map_drops);
	fflush(stderr);
}

/* engine_run's r and err as the exit status */
static int exec_finish(const struct exec_args *a, struct exec_out *out, struct engine_result *res, int r,
		       const char *err)
{
	if (r == -EPIPE) {
		engine_result_release(res);
		return 0;
	}
	if (r < 0) {
		fflush(stdout);
		if (err && strstr(err, ": ERROR: "))
			fprintf(stderr, "%s\n", err);
		else
			fprintf(stderr, "ERROR: %s\n", err ? err : tg_strerror(r));
		fflush(stderr);
		engine_result_release(res);
		return 1;
	}
	exec_print_end(a, out, res);
	/* after the output: closing the tracepoints' events is slow (engine.h) */
	engine_result_release(res);
	return res->exit_code;
}

/* From the scope on: the stop pipe and signals, -c's command, the run */
static int exec_run(struct exec_args *a, struct engine_opts *eo, struct exec_out *out, size_t len)
{
	_cleanup_free_ char *err = NULL;
	struct engine_sink sink = { .output = out_output, .map = out_map, .status = out_status,
				    .warning = out_warning };
	struct child child = { .pid = -1, .go = -1 };
	struct scope scope = { 0 };
	struct sigaction sa = { .sa_handler = on_signal };
	struct engine_result res;
	int r;

	if (out->json)
		sink.output_rec = out_output_json;
	if (a->cgroup && scope_from_dir(a->cgroup, &scope) < 0)
		return 1;
	if (pipe2(stop_pipe, O_CLOEXEC | O_NONBLOCK) < 0) {
		log_error("exec: pipe: %s", strerror(errno));
		scope_release(&scope);
		return 1;
	}
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	if (a->cmd && pipe2(drain_pipe, O_CLOEXEC | O_NONBLOCK) < 0) {
		log_error("exec: pipe: %s", strerror(errno));
		scope_release(&scope);
		return 1;
	}
	if (a->cmd) {
		if (exec_start_command(a->cmd, &child) < 0) {
			scope_release(&scope);
			return 1;
		}
		out->child = &child;
		eo->pid = child.pid;
		eo->cpid = child.pid;
		eo->hold = child_hold;
		eo->drain_fd = drain_pipe[0];
		eo->drained = child_drained;
		eo->hold_ctx = &child;
	} else {
		eo->pid = (pid_t)a->tpid;
	}
	/* a closed stdout (| head) is EPIPE from write, not a kill: the
	 * engine then stops and detaches, and we exit quietly as bpftrace */
	signal(SIGPIPE, SIG_IGN);
	eo->program = a->prog;
	eo->program_len = len;
	eo->program_name = a->file ? a->file : "stdin";
	eo->params = a->params;
	eo->nparams = a->nparams;
	eo->scope = a->cgroup ? &scope : NULL;
	eo->duration_ns = a->secs * 1000000000ull;
	eo->stop_fd = stop_pipe[0];
	eo->cache_dir = a->cache;
	eo->run_until_stopped = true;   /* like bpftrace: BEGIN alone keeps running */
	/* bpftrace's knob for cat(); the engine caps it */
	if (getenv("BPFTRACE_CAT_BYTES_MAX") &&
	    parse_u64(getenv("BPFTRACE_CAT_BYTES_MAX"), &eo->cat_bytes_max) < 0) {
		log_error("BPFTRACE_CAT_BYTES_MAX \"%s\": expected a number of bytes",
			  getenv("BPFTRACE_CAT_BYTES_MAX"));
		if (a->cmd)
			child_end(&child);
		scope_release(&scope);
		return 2;
	}
	r = engine_run(eo, &sink, out, &res, &err);
	if (a->cmd)
		child_end(&child);
	/* the named uprobes a scoped run made (runner/uprobe-attach.h) */
	if (eo->scope)
		(void)upods_remove_group(NULL, getpid());
	scope_release(&scope);
	return exec_finish(a, out, &res, r, err);
}

int cmd_exec(int argc, char **argv)
{
	struct exec_args a = { .lim = { .sz = sizeof(a.lim) } };
	struct engine_opts eo = { .sz = sizeof(eo), .stop_fd = -1, .limits = &a.lim };
	_cleanup_(exec_policy_result_release) struct exec_policy_result decided = { 0 };
	_cleanup_free_ char *text = NULL;
	_cleanup_fclose_ FILE *outf = NULL;
	struct exec_out out = { 0 };
	size_t len = 0;
	int r;

	r = exec_parse_flags(argc, argv, &a);
	if (r != EXEC_GO)
		return r;
	if (a.verbose && !a.list) {
		log_error("exec: -v is supported only with -l (-lv: tracepoint fields)");
		return 2;
	}
	if (a.list)
		return exec_list_probes(argc, argv, &a);
	r = exec_check_args(argc, argv, &a);
	if (r != EXEC_GO)
		return r;
	if (a.outfile) {
		outf = fopen(a.outfile, "we");
		if (!outf) {
			log_error("-o \"%s\": %s", a.outfile, strerror(errno));
			return 1;
		}
	}
	out.f = outf ? outf : stdout;
	out.json = a.json;
	out.quiet = a.quiet;
	eo.load_only = a.load_only;
	r = exec_read_program(&a, &text, &len);
	if (r != EXEC_GO)
		return r;
	if (a.policy) {
		r = exec_decide(&a, len, &decided, &eo);
		if (r != EXEC_GO)
			return r;
	}
	r = exec_check_jail();
	if (r != EXEC_GO)
		return r;
	return exec_run(&a, &eo, &out, len);
}
