// SPDX-License-Identifier: Apache-2.0
/*
 * libFuzzer target for the TracePolicy loader (YAML from memory) and, when
 * a document loads, the checker: a fixed program is evaluated against it
 * for a few requesters, and the decision must explain itself.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "lang/ast.h"
#include "policy/policy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char program[] =
	"tracepoint:syscalls:sys_enter_openat /pid != 1/ { @[comm, str(args->filename)] = count(); }\n"
	"kprobe:vfs_read { $t = (struct task_struct *)curtask; @r[kstack] = hist(arg2); system(\"id\"); }\n"
	"uprobe:/bin/bash:readline { printf(\"%s\\n\", str(arg0)); }\n"
	"interval:s:1 { print(@); clear(@); }\n"
	"tracepoint:sched:sched_switch, tracepoint:sched:sched_w* { @[args->next_comm, args->pid] = count(); print(args); }\n";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct lang_program *prog;
	static const char *const groups[] = { "system:authenticated", "system:masters", NULL };
	const struct tg_requester who[] = {
		{ .user = "alice", .groups = groups, .namespace = "team-a" },
		{ .user = "system:serviceaccount:ci:builder", .groups = NULL, .namespace = "ci" },
		{ .user = "root", .groups = groups, .namespace = NULL },
	};
	struct tg_policy_set *set = NULL;
	char *err = NULL;
	struct lang_diag d;

	if (!prog && lang_program_parse(program, strlen(program), &prog, &d) < 0)
		abort();
	if (tg_policy_set_load_buffer("fuzz.yaml", (const char *)data, size, &set, &err) < 0) {
		if (!err)
			abort();   /* every refusal says why */
		free(err);
		return 0;
	}
	for (size_t i = 0; i < sizeof(who) / sizeof(who[0]); i++) {
		struct tg_decision dec;
		char *one = NULL, *lng = NULL;

		if (tg_policy_evaluate(set, &who[i], prog, who[i].namespace ? "pod" : "node", &dec) < 0)
			abort();
		if (tg_decision_explain(&dec, &one, &lng) < 0 || (!dec.allowed && json_array_size(dec.denials) == 0))
			abort();
		free(one);
		free(lng);
		tg_decision_release(&dec);
	}
	tg_policy_set_free(set);
	return 0;
}
