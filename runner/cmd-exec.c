// SPDX-License-Identifier: Apache-2.0
/*
 * tracegate-runner exec: run one program locally and print like bpftrace.
 *
 *   tracegate-runner exec [-e PROG | -f FILE] [--cgroup DIR] [--policy FILE]
 *                         [--duration SECONDS] [--cache-dir DIR]
 *                         [--max-map-entries N] [--rate N] [--cpu-budget F]
 *                         [--summary] [ARGS...]
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
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/buf.h"
#include "lib/cleanup.h"
#include "lib/errors.h"
#include "lib/log.h"
#include "lib/util.h"
#include "policy/ast.h"
#include "policy/output.h"
#include "runner/commands.h"
#include "runner/engine.h"
#include "runner/exec-policy.h"
#include "runner/jail.h"
#include "runner/scope.h"
#include "runner/uprobe-attach.h"
#include "lib/banned.h"

#define EXEC_MAX_DURATION_S (365ull * 24 * 3600)
#define EXEC_MAX_MAP_ENTRIES (1ull << 24)       /* as a session's maxMapEntries */
#define EXEC_MAX_RATE        4294967295ull      /* events per second */
#define EXEC_MAX_CPU_BUDGET  1024.0             /* CPUs */

static int stop_pipe[2] = { -1, -1 };

static void on_signal(int sig)
{
	int saved = errno;
	char c = (char)sig;

	if (write(stop_pipe[1], &c, 1) < 0) {
		/* the pipe is full: a stop is already pending */
	}
	errno = saved;
}

struct exec_out {
	bool final_header;     /* the "\n\n" before the exit-time maps */
};

static int out_output(void *ctx, uint64_t cgid, const char *text, size_t len)
{
	(void)ctx;
	(void)cgid;
	if (fwrite(text, 1, len, stdout) != len || fflush(stdout) != 0)
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
		eo->final_header = true;
		fputs("\n\n", stdout);
	}
	r = tg_map_format(&b, rec, (uint64_t)top, (uint64_t)div);
	if (r < 0)
		return r;
	if (fwrite(b.s, 1, b.len, stdout) != b.len || fflush(stdout) != 0)
		return errno == EPIPE ? -EPIPE : -EIO;
	return 0;
}

static int out_status(void *ctx, const char *phase, json_t *details)
{
	(void)ctx;
	if (!strcmp(phase, "compiled")) {
		json_int_t n = json_integer_value(json_object_get(details, "probes"));

		printf("Attaching %lld probe%s...\n", (long long)n, n == 1 ? "" : "s");
		fflush(stdout);
	} else if (!strcmp(phase, "loaded")) {
		json_t *progs = json_object_get(details, "programs"), *p;
		size_t i;

		printf("Loaded %zu program%s into the kernel (nothing attached):\n",
		       json_array_size(progs), json_array_size(progs) == 1 ? "" : "s");
		json_array_foreach(progs, i, p)
			printf("  %s  %s  %s\n", json_string_value(json_object_get(p, "function")),
			       json_string_value(json_object_get(p, "section")),
			       json_string_value(json_object_get(p, "probe")));
		fflush(stdout);
	} else if (!strcmp(phase, "attached") && getenv("__BPFTRACE_NOTIFY_PROBES_ATTACHED")) {
		fputs("__BPFTRACE_NOTIFY_PROBES_ATTACHED\n", stderr);
		fflush(stderr);
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
	fputs("usage: tracegate-runner exec [-e PROG | -f FILE] [--cgroup DIR] [--policy FILE]\n"
	      "                             [--duration SECONDS] [--cache-dir DIR]\n"
	      "                             [--max-map-entries N] [--max-map-bytes N] [--rate N]\n"
	      "                             [--max-output-bytes N]\n"
	      "                             [--cpu-budget F]\n"
	      "                             [--summary] [--load-only] [FILE] [ARGS...]\n",
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

int cmd_exec(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "cgroup", required_argument, NULL, 'c' },
		{ "policy", required_argument, NULL, 'p' },
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
	_cleanup_free_ char *text = NULL, *err = NULL;
	const char *prog = NULL, *file = NULL, *cgroup = NULL, *cache = NULL, *policy = NULL;
	struct scope scope = { 0 };
	struct engine_limits lim = { .sz = sizeof(lim) };
	struct engine_opts eo = { .sz = sizeof(eo), .stop_fd = -1, .limits = &lim };
	_cleanup_(exec_policy_result_release) struct exec_policy_result decided = { 0 };
	struct engine_sink sink = { out_output, out_map, out_status, out_warning };
	struct exec_out out = { 0 };
	struct engine_result res;
	struct sigaction sa = { .sa_handler = on_signal };
	uint64_t secs = 0;
	bool summary = false;
	size_t len = 0;
	int c, r;

	optind = 1;
	while ((c = getopt_long(argc, argv, "+e:f:h", opts, NULL)) != -1) {
		switch (c) {
		case 'e': prog = optarg; break;
		case 'f': file = optarg; break;
		case 'c': cgroup = optarg; break;
		case 'p': policy = optarg; break;
		case 'C': cache = optarg; break;
		case 'd':
			if (parse_u64(optarg, &secs) < 0 || secs > EXEC_MAX_DURATION_S) {
				log_error("--duration \"%s\": expected seconds (0..%llu)", optarg,
					  (unsigned long long)EXEC_MAX_DURATION_S);
				return 2;
			}
			break;
		case 'Y':
			if (parse_u64(optarg, &lim.max_map_bytes) < 0 || !lim.max_map_bytes ||
			    lim.max_map_bytes > (UINT64_C(1) << 40)) {
				log_error("--max-map-bytes \"%s\": expected bytes (1..%llu)", optarg,
					  (unsigned long long)(UINT64_C(1) << 40));
				return 2;
			}
			break;
		case 'O':
			if (parse_u64(optarg, &lim.max_output_bytes) < 0 || !lim.max_output_bytes ||
			    lim.max_output_bytes > (UINT64_C(1) << 40)) {
				log_error("--max-output-bytes \"%s\": expected bytes (1..%llu)", optarg,
					  (unsigned long long)(UINT64_C(1) << 40));
				return 2;
			}
			break;
		case 'M':
			if (parse_u64(optarg, &lim.max_map_entries) < 0 || !lim.max_map_entries ||
			    lim.max_map_entries > EXEC_MAX_MAP_ENTRIES) {
				log_error("--max-map-entries \"%s\": expected entries (1..%llu)", optarg,
					  (unsigned long long)EXEC_MAX_MAP_ENTRIES);
				return 2;
			}
			break;
		case 'R':
			if (parse_u64(optarg, &lim.events_per_second) < 0 || !lim.events_per_second ||
			    lim.events_per_second > EXEC_MAX_RATE) {
				log_error("--rate \"%s\": expected events per second (1..%llu)", optarg,
					  (unsigned long long)EXEC_MAX_RATE);
				return 2;
			}
			break;
		case 'B':
			if (parse_double(optarg, &lim.cpu_budget) < 0 || !(lim.cpu_budget > 0) ||
			    lim.cpu_budget > EXEC_MAX_CPU_BUDGET) {
				log_error("--cpu-budget \"%s\": expected a share of one CPU (0 < F <= %g)", optarg,
					  EXEC_MAX_CPU_BUDGET);
				return 2;
			}
			break;
		case 'S':
			summary = true;
			break;
		case 'L':
			eo.load_only = true;
			break;
		case 'h':
			usage();
			return 0;
		default:
			usage();
			return 2;
		}
	}
	/* like bpftrace: the program file may be the first argument */
	if (!prog && !file && optind < argc)
		file = argv[optind++];
	if (!prog == !file) {
		log_error("exec: give exactly one of -e PROG, -f FILE and FILE");
		usage();
		return 2;
	}
	if (file) {
		r = read_file(file, TG_MAX_SOURCE_BYTES, &text, &len);
		if (r < 0) {
			log_error("-f \"%s\": %s", file, r == -EFBIG ? "larger than the script limit" : strerror(-r));
			return 1;
		}
		prog = text;
	} else {
		len = strlen(prog);
	}
	if (policy) {
		struct passwd *pw = getpwuid(getuid());
		_cleanup_free_ char *why = NULL;

		r = exec_policy_apply(policy, pw ? pw->pw_name : "unknown", prog, len,
				      (const char *const *)(argv + optind), (size_t)(argc - optind),
				      cgroup != NULL, &lim, &decided, &why);
		if (r < 0) {
			if (r == -TG_EPOLICY)
				fprintf(stderr, "ERROR: the policy does not allow this program\n%s\n",
					why ? why : "");
			else
				log_error("%s", why ? why : tg_strerror(r));
			return 1;
		}
		/* run exactly what the policy decided on, with its field rules */
		eo.canonical = decided.canonical;
		eo.tp_fields = decided.tp_fields;
	}
	{
		struct jail_opts jo;

		r = jail_opts_from_env(&jo, &err);
		if (r < 0) {
			log_error("%s", err ? err : tg_strerror(r));
			return 2;
		}
		free(TAKE_PTR(err));
		if (jo.mode != JAIL_ENFORCE)
			fprintf(stderr, "WARNING: %s=%s: %s\n", JAIL_ENV, jail_mode_name(jo.mode),
				jo.mode == JAIL_OFF ? "code generation and clang run with our own privileges" :
				"the compile jail's seccomp filters only log");
	}
	if (cgroup && scope_from_dir(cgroup, &scope) < 0)
		return 1;
	if (pipe2(stop_pipe, O_CLOEXEC | O_NONBLOCK) < 0) {
		log_error("exec: pipe: %s", strerror(errno));
		scope_release(&scope);
		return 1;
	}
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	/* a closed stdout (| head) is EPIPE from write, not a kill: the
	 * engine then stops and detaches, and we exit quietly as bpftrace */
	signal(SIGPIPE, SIG_IGN);
	eo.program = prog;
	eo.program_len = len;
	eo.program_name = file ? file : "stdin";
	eo.params = (const char *const *)(argv + optind);
	eo.nparams = (size_t)(argc - optind);
	eo.scope = cgroup ? &scope : NULL;
	eo.duration_ns = secs * 1000000000ull;
	eo.stop_fd = stop_pipe[0];
	eo.cache_dir = cache;
	eo.run_until_stopped = true;   /* like bpftrace: BEGIN alone keeps running */
	/* bpftrace's knob for cat(); the engine caps it */
	if (getenv("BPFTRACE_CAT_BYTES_MAX") &&
	    parse_u64(getenv("BPFTRACE_CAT_BYTES_MAX"), &eo.cat_bytes_max) < 0) {
		log_error("BPFTRACE_CAT_BYTES_MAX \"%s\": expected a number of bytes",
			  getenv("BPFTRACE_CAT_BYTES_MAX"));
		scope_release(&scope);
		return 2;
	}
	r = engine_run(&eo, &sink, &out, &res, &err);
	/* the named uprobes a scoped run made (runner/uprobe-attach.h) */
	if (eo.scope)
		(void)upods_remove_group(NULL, getpid());
	scope_release(&scope);
	if (r == -EPIPE) {
		engine_result_release(&res);
		return 0;
	}
	if (r < 0) {
		fflush(stdout);
		if (err && strstr(err, ": ERROR: "))
			fprintf(stderr, "%s\n", err);
		else
			fprintf(stderr, "ERROR: %s\n", err ? err : tg_strerror(r));
		fflush(stderr);
		engine_result_release(&res);
		return 1;
	}
	if (!out.final_header && !eo.load_only)
		fputs("\n\n", stdout);
	fflush(stdout);
	if (summary)
		fprintf(stderr, "{\"type\":\"end\",\"reason\":\"%s\",\"events\":%llu,\"drops\":%llu,\"mapDrops\":%llu,\"outputBytes\":%llu,\"cpuNs\":%llu,\"exitCode\":%d}\n",
			res.reason, (unsigned long long)res.events, (unsigned long long)res.drops,
			(unsigned long long)res.map_drops, (unsigned long long)res.output_bytes,
			(unsigned long long)res.cpu_ns, res.exit_code);
	if (res.drops)
		fprintf(stderr, "WARNING: %llu events lost (ring buffer full or rate limit)\n",
			(unsigned long long)res.drops);
	if (res.map_drops)
		fprintf(stderr, "WARNING: %llu map updates refused (map entry limit)\n",
			(unsigned long long)res.map_drops);
	fflush(stderr);
	/* after the output: closing the tracepoints' events is slow (engine.h) */
	engine_result_release(&res);
	return res.exit_code;
}
