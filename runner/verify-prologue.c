// SPDX-License-Identifier: Apache-2.0
/*
 * The object verifier's proof of the scope check (runner/verify-int.h): a
 * small abstract interpreter walks every path from a program's entry until
 * it passes a non-NULL test of a lookup in the scope map keyed by the
 * task's ancestor cgroup id and then the interrupt check, or returns 0;
 * anything else on the way (another helper, a store outside the stack, a
 * backward jump, ...) is refused.  docs/internals/runner.md has the shape
 * it proves, docs/internals/scope.md the reasoning.  Of the verifier it
 * calls only verify-elf.c.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/bpf.h>
#include "lib/cleanup.h"
#include "lib/errors.h"
#include "runner/verify-int.h"
#include "lib/banned.h"

enum akind {
	A_UNK, A_CONST, A_FP, A_CGID, A_SCOPEMAP, A_LOOKUP,
	/* the scope pre-check: a pointer into .rodata (v: offset in it) */
	A_RODATAP,
	/* the interrupt check: the current task, its stack's base, a pointer
	 * to THREAD_SIZE, THREAD_SIZE, and base + THREAD_SIZE */
	A_TASK, A_KBASE, A_TSIZEP, A_TSIZE, A_KEND,
	/* ... and the preemption counter: task->se.cfs_rq, ->rq, pointers to
	 * and values of tg_rq_off and tg_pc_off, rq - rq_off (this CPU's
	 * per-CPU base), rq + pc_off, pc_off - rq_off, the counter's address,
	 * the read's return value, the counter, the counter & IRQ_MASK */
	A_CFSRQ, A_RQ, A_RQOFFP, A_RQOFF, A_PCOFFP, A_PCOFF, A_PCPU, A_RQPC, A_PCDELTA,
	A_PCADDR, A_READRET, A_PC, A_PCMASK,
};

struct aval {
	uint8_t kind;
	int64_t v;    /* A_CONST: the value; A_FP: offset from r10; A_RODATAP: offset in .rodata */
	uint64_t lim; /* A_RODATAP: size of .rodata */
};

struct astate {
	size_t pc;
	struct aval r[MAX_BPF_REG];
	uint8_t slot[VERIFY_STACK / 8];   /* the kind (not A_FP, A_CONST) per 8-byte stack slot */
	uint8_t phase;                    /* 0: scope check, 1: stack check, 2: preemption counter */
	bool lo_ok, hi_ok;                /* phase 1: frame >= stack base, frame < base + THREAD_SIZE */
	bool read_ok, mask_ok;            /* phase 2: the counter was read, and has no IRQ_MASK bit */
	bool pc_valid;                    /* phase 2: the counter is at r10 + pc_at (4 bytes) */
	int64_t pc_at;
};

struct prologue_walk {
	struct vobj *v;
	const struct vsec *s;
	const char *sn;
	const char *pn;
	size_t start, end;
	size_t steps;
	size_t in_scope_paths;    /* paths through both checks */
	size_t irq_paths;         /* paths past the scope check */
	uint8_t phase;            /* of the step being taken */
};

static int pfail(struct prologue_walk *w, size_t pc, const char *what)
{
	static const char scope[] = "the scope check";
	const char *at = w->phase ? strstr(what, scope) : NULL;

	if (at)
		return verify_fail(w->v, -TG_EVERIFY,
				   "section \"%s\" program \"%s\" instruction %zu: %.*sthe interrupt check%s", w->sn,
				   w->pn, pc, (int)(at - what), what, at + sizeof(scope) - 1);
	return verify_fail(w->v, -TG_EVERIFY, "section \"%s\" program \"%s\" instruction %zu: %s", w->sn, w->pn,
			   pc, what);
}

/* The address arithmetic of the counter, in any of the orders clang picks:
 * (rq - rq_off) + pc_off, (rq + pc_off) - rq_off, rq + (pc_off - rq_off). */
static uint8_t irq_arith(uint8_t op, uint8_t d, uint8_t s)
{
	if (op == BPF_SUB) {
		if (d == A_RQ && s == A_RQOFF)
			return A_PCPU;
		if (d == A_RQPC && s == A_RQOFF)
			return A_PCADDR;
		if (d == A_PCOFF && s == A_RQOFF)
			return A_PCDELTA;
		return A_UNK;
	}
	if ((d == A_PCPU && s == A_PCOFF) || (d == A_PCOFF && s == A_PCPU) ||
	    (d == A_RQ && s == A_PCDELTA) || (d == A_PCDELTA && s == A_RQ))
		return A_PCADDR;
	if ((d == A_RQ && s == A_PCOFF) || (d == A_PCOFF && s == A_RQ))
		return A_RQPC;
	return A_UNK;
}

/* Tests against a constant in the preemption-counter check: the side of
 * the branch on which the read succeeded (returned 0), or on which the
 * counter has none of the IRQ_MASK bits. */
static void irq_test(struct astate *taken, struct astate *fall, uint8_t cls, uint8_t op, uint8_t kind,
		     int32_t imm)
{
	if (kind == A_READRET && cls == BPF_JMP && imm == 0) {
		if (op == BPF_JEQ)
			taken->read_ok = true;
		else if (op == BPF_JNE)
			fall->read_ok = true;
	} else if (kind == A_PCMASK && imm == 0) {
		if (op == BPF_JEQ)
			taken->mask_ok = true;
		else if (op == BPF_JNE)
			fall->mask_ok = true;
	} else if (kind == A_PC && op == BPF_JSET && ((uint32_t)imm & IRQ_MASK) == IRQ_MASK) {
		fall->mask_ok = true;
	}
}

/* A comparison of the frame (r10 + k) with the stack's base or end: marks
 * the side of the branch (taken or fallen through) on which the frame is
 * known to be inside the task's stack.  Unsigned 64-bit compares only. */
static void irq_compare(struct astate *taken, struct astate *fall, uint8_t op, const struct aval *a,
			const struct aval *b)
{
	if (b->kind == A_FP && (a->kind == A_KBASE || a->kind == A_KEND)) {
		const struct aval *t = a;

		a = b;
		b = t;
		op = op == BPF_JGT ? BPF_JLT : op == BPF_JLT ? BPF_JGT :
		     op == BPF_JGE ? BPF_JLE : op == BPF_JLE ? BPF_JGE : op;
	}
	if (a->kind != A_FP || a->v < -VERIFY_STACK || a->v > 0)
		return;
	if (b->kind == A_KBASE) {
		if (op == BPF_JGE || op == BPF_JGT)
			taken->lo_ok = true;
		else if (op == BPF_JLT || op == BPF_JLE)
			fall->lo_ok = true;
	} else if (b->kind == A_KEND) {
		if (op == BPF_JLT)
			taken->hi_ok = true;
		else if (op == BPF_JGE)
			fall->hi_ok = true;
	}
}

static void slots_clobber(struct astate *st, int64_t off, int size)
{
	int64_t a;

	for (a = off; a < off + size; a++) {
		int64_t idx = (a + VERIFY_STACK) / 8;

		if (a >= -VERIFY_STACK && a < 0)
			st->slot[idx] = A_UNK;
	}
}

static int bpf_size_bytes(uint8_t code)
{
	switch (code & 0x18) {
	case BPF_B: return 1;
	case BPF_H: return 2;
	case BPF_W: return 4;
	default: return 8;
	}
}

/* The instruction a step interprets, decoded once for the handlers. */
struct pinsn {
	struct bpf_insn in;
	size_t pc;
	uint8_t cls, op;
	struct aval *dst, *src;
};

/* The handlers of one instruction class (prologue_step's table): the
 * same returns as prologue_step. */
static int prologue_ld(struct prologue_walk *w, struct astate *st, struct astate *fork,
		       const struct pinsn *di)
{
	struct vobj *v = w->v;
	struct bpf_insn in = di->in;
	size_t pc = di->pc;
	struct aval *dst = di->dst;

	(void)fork;
	if (!verify_is_ldimm64(&in))
		return pfail(w, pc, "packet load before the scope check");
	if (in.dst_reg == BPF_REG_10)
		return pfail(w, pc, "write to r10");
	if (w->s->relsym[pc] >= 0) {
		if (st->phase == 0 && verify_reloc_is_scope_map(v, w->s, pc))
			w->s->scope_ref_ok[pc] = true;
		dst->kind = verify_reloc_is_scope_map(v, w->s, pc) ? A_SCOPEMAP :
			    verify_reloc_is_rodata(v, w->s, pc, THREAD_SIZE_VAR) ? A_TSIZEP :
			    verify_reloc_is_rodata(v, w->s, pc, RQ_OFF_VAR) ? A_RQOFFP :
			    verify_reloc_is_rodata(v, w->s, pc, PC_OFF_VAR) ? A_PCOFFP : A_UNK;
		/* Before the scope lookup, data comes only from .rodata
		 * (the pre-check's ids); a map pointer stays unusable
		 * but for the lookup in the scope map. */
		if (st->phase == 0 && dst->kind == A_UNK) {
			if (verify_reloc_rodata_off(v, w->s, pc, &dst->v, &dst->lim))
				dst->kind = A_RODATAP;
			else if (!verify_reloc_is_map(v, w->s, pc))
				return pfail(w, pc, "load of an address outside \".rodata\" and the maps before the scope check");
		}
	} else {
		struct bpf_insn hi;

		verify_insn_get(w->s, pc + 1, &hi);
		dst->kind = A_CONST;
		dst->v = (int64_t)(((uint64_t)(uint32_t)hi.imm << 32) | (uint32_t)in.imm);
	}
	st->pc = pc + 2;
	return 0;
}

static int prologue_ldx(struct prologue_walk *w, struct astate *st, struct astate *fork,
			const struct pinsn *di)
{
	struct bpf_insn in = di->in;
	size_t pc = di->pc;
	struct aval *dst = di->dst, *src = di->src;

	(void)fork;
	if (in.dst_reg == BPF_REG_10)
		return pfail(w, pc, "write to r10");
	if (src->kind == A_TASK || src->kind == A_CFSRQ) {
		uint8_t f = w->s->core[pc];

		if ((in.code & 0xe0) != BPF_MEM || bpf_size_bytes(in.code) != 8 ||
		    (src->kind == A_TASK && f != CORE_TASK_STACK && f != CORE_TASK_CFS_RQ) ||
		    (src->kind == A_CFSRQ && f != CORE_CFS_RQ_RQ))
			return pfail(w, pc, "load from the task is not \"stack\" or \"se.cfs_rq->rq\" (CO-RE) before the scope check");
		dst->kind = f == CORE_TASK_STACK ? A_KBASE : f == CORE_TASK_CFS_RQ ? A_CFSRQ : A_RQ;
		st->pc = pc + 1;
		return 0;
	}
	if ((src->kind == A_TSIZEP || src->kind == A_RQOFFP || src->kind == A_PCOFFP) &&
	    (in.code & 0xe0) == BPF_MEM && bpf_size_bytes(in.code) == 8 && in.off == 0 &&
	    w->s->core[pc] == CORE_NONE) {
		dst->kind = src->kind == A_TSIZEP ? A_TSIZE : src->kind == A_RQOFFP ? A_RQOFF : A_PCOFF;
		st->pc = pc + 1;
		return 0;
	}
	if (src->kind == A_FP && st->pc_valid && (in.code & 0xe0) == BPF_MEM &&
	    bpf_size_bytes(in.code) == 4 && src->v + in.off == st->pc_at) {
		dst->kind = A_PC;
		st->pc = pc + 1;
		return 0;
	}
	if (src->kind == A_FP && (in.code & 0xe0) == BPF_MEM && bpf_size_bytes(in.code) == 8) {
		int64_t a = src->v + in.off;

		if (a >= -VERIFY_STACK && a < 0 && a % 8 == 0) {
			dst->kind = st->slot[(a + VERIFY_STACK) / 8];
			st->pc = pc + 1;
			return 0;
		}
	}
	/* the scope check reads only the stack and .rodata */
	if (st->phase == 0 && src->kind != A_FP) {
		int64_t a = src->v + in.off;

		if (src->kind != A_RODATAP || (in.code & 0xe0) != BPF_MEM || a < 0 ||
		    (uint64_t)a + (uint64_t)bpf_size_bytes(in.code) > src->lim)
			return pfail(w, pc, "load from memory other than the stack or \".rodata\" before the scope check");
	}
	dst->kind = A_UNK;
	st->pc = pc + 1;
	return 0;
}

static int prologue_st(struct prologue_walk *w, struct astate *st, struct astate *fork,
		       const struct pinsn *di)
{
	struct bpf_insn in = di->in;
	size_t pc = di->pc;
	uint8_t cls = di->cls;
	struct aval *dst = di->dst, *src = di->src;
	int size = bpf_size_bytes(in.code);
	int64_t a;

	(void)fork;

	if ((in.code & 0xe0) != BPF_MEM)
		return pfail(w, pc, "atomic operation before the scope check");
	if (dst->kind != A_FP)
		return pfail(w, pc, "store outside the stack before the scope check");
	a = dst->v + in.off;
	if (a < -VERIFY_STACK || a + size > 0)
		return pfail(w, pc, "store outside the stack before the scope check");
	slots_clobber(st, a, size);
	if (st->pc_valid && a < st->pc_at + 4 && a + size > st->pc_at)
		st->pc_valid = false;
	if (cls == BPF_STX && size == 8 && a % 8 == 0 && src->kind != A_FP && src->kind != A_CONST &&
	    src->kind != A_RODATAP)
		st->slot[(a + VERIFY_STACK) / 8] = src->kind;
	st->pc = pc + 1;
	return 0;
}

static int prologue_alu(struct prologue_walk *w, struct astate *st, struct astate *fork,
			const struct pinsn *di)
{
	struct bpf_insn in = di->in;
	size_t pc = di->pc;
	uint8_t cls = di->cls, op = di->op;
	struct aval *dst = di->dst, *src = di->src;
	bool is64 = cls == BPF_ALU64;
	bool k = BPF_SRC(in.code) == BPF_K;

	(void)fork;

	if (in.dst_reg == BPF_REG_10)
		return pfail(w, pc, "write to r10");
	if (op == BPF_MOV && in.off == 0) {
		if (k) {
			dst->kind = A_CONST;
			dst->v = is64 ? (int64_t)in.imm : (int64_t)(uint32_t)in.imm;
		} else if (is64) {
			*dst = *src;
		} else {
			dst->kind = src->kind == A_CONST ? A_CONST : A_UNK;
			dst->v = (int64_t)(uint32_t)src->v;
		}
	} else if (is64 && op == BPF_ADD && !k &&
		   ((dst->kind == A_KBASE && src->kind == A_TSIZE) ||
		    (dst->kind == A_TSIZE && src->kind == A_KBASE))) {
		dst->kind = A_KEND;
	} else if (is64 && !k && (op == BPF_ADD || op == BPF_SUB) &&
		   irq_arith(op, dst->kind, src->kind) != A_UNK) {
		dst->kind = irq_arith(op, dst->kind, src->kind);
	} else if (op == BPF_AND && k && dst->kind == A_PC &&
		   ((uint32_t)in.imm & IRQ_MASK) == IRQ_MASK) {
		dst->kind = A_PCMASK;
	} else if (is64 && (dst->kind == A_FP || dst->kind == A_RODATAP) &&
		   (op == BPF_ADD || op == BPF_SUB) && (k || src->kind == A_CONST)) {
		int64_t d = k ? (int64_t)in.imm : src->v;

		if (d > (1 << 20) || d < -(1 << 20))
			dst->kind = A_UNK;
		else
			dst->v += op == BPF_ADD ? d : -d;
	} else {
		dst->kind = A_UNK;
	}
	st->pc = pc + 1;
	return 0;
}

/* A helper call: only the checks' own helpers, each in its phase. */
static int prologue_call(struct prologue_walk *w, struct astate *st, const struct pinsn *di)
{
	struct vobj *v = w->v;
	struct bpf_insn in = di->in;
	size_t pc = di->pc;
	const char *hn;
	char hmsg[160];

	if (in.src_reg != 0 || w->s->relsym[pc] >= 0)
		return pfail(w, pc, "function call before the scope check");
	if (st->phase == 2 && in.imm == HELPER_READ_KERNEL && st->r[BPF_REG_1].kind == A_FP &&
	    st->r[BPF_REG_1].v >= -VERIFY_STACK && st->r[BPF_REG_1].v <= -4 &&
	    st->r[BPF_REG_2].kind == A_CONST && st->r[BPF_REG_2].v == 4 &&
	    st->r[BPF_REG_3].kind == A_PCADDR) {
		st->pc_at = st->r[BPF_REG_1].v;
		st->pc_valid = true;
		st->read_ok = st->mask_ok = false;
		slots_clobber(st, st->pc_at, 4);
		for (int r = BPF_REG_0; r <= BPF_REG_5; r++)
			st->r[r].kind = A_UNK;
		st->r[BPF_REG_0].kind = A_READRET;
		w->s->task_call_ok[pc] = true;
		st->pc = pc + 1;
		return 0;
	}
	if (st->phase == 1 && in.imm == HELPER_TASK_BTF) {
		for (int r = BPF_REG_0; r <= BPF_REG_5; r++)
			st->r[r].kind = A_UNK;
		st->r[BPF_REG_0].kind = A_TASK;
		w->s->task_call_ok[pc] = true;
		st->pc = pc + 1;
		return 0;
	}
	if (st->phase == 0 && in.imm == HELPER_ANCESTOR_CGID) {
		for (int r = BPF_REG_0; r <= BPF_REG_5; r++)
			st->r[r].kind = A_UNK;
		st->r[BPF_REG_0].kind = A_CGID;
		st->pc = pc + 1;
		return 0;
	}
	if (st->phase == 0 && in.imm == HELPER_MAP_LOOKUP) {
		const struct aval *key = &st->r[BPF_REG_2];

		if (st->r[BPF_REG_1].kind != A_SCOPEMAP) {
			char msg[VERIFY_NAME_MAX + 80], b[VERIFY_NAME_MAX + 8];

			snprintf(msg, sizeof(msg), "map lookup before the scope check is not in \"%s\"",
				 verify_name(v->scope_map, b));
			return pfail(w, pc, msg);
		}
		if (key->kind != A_FP || key->v < -VERIFY_STACK || key->v > -8 || key->v % 8 ||
		    st->slot[(key->v + VERIFY_STACK) / 8] != A_CGID)
			return pfail(w, pc, "scope map lookup key is not the ancestor cgroup id");
		for (int r = BPF_REG_0; r <= BPF_REG_5; r++)
			st->r[r].kind = A_UNK;
		st->r[BPF_REG_0].kind = A_LOOKUP;
		st->pc = pc + 1;
		return 0;
	}
	hn = verify_helper_name(in.imm);
	snprintf(hmsg, sizeof(hmsg), "helper \"bpf_%s\" (%d) called before the scope check",
		 hn ? hn : "?", in.imm);
	return pfail(w, pc, hmsg);
}

static int prologue_jmp(struct prologue_walk *w, struct astate *st, struct astate *fork,
			const struct pinsn *di)
{
	struct bpf_insn in = di->in;
	size_t pc = di->pc;
	uint8_t cls = di->cls, op = di->op;
	struct aval *dst = di->dst, *src = di->src;

	if (cls == BPF_JMP && op == BPF_CALL)
		return prologue_call(w, st, di);
	if (cls == BPF_JMP && op == BPF_EXIT) {
		if (st->r[BPF_REG_0].kind != A_CONST || st->r[BPF_REG_0].v != 0)
			return pfail(w, pc, "return before the scope check does not return 0");
		return 1;
	}
	if (op == BPF_JA) {
		int64_t off = cls == BPF_JMP32 ? in.imm : in.off;

		if (off < 0)
			return pfail(w, pc, "backward jump before the scope check");
		st->pc = pc + 1 + (size_t)off;
		return 0;
	}
	if (op == BPF_CALL || op == BPF_EXIT || op > BPF_JSLE)
		return pfail(w, pc, "unknown jump before the scope check");
	if (in.off < 0)
		return pfail(w, pc, "backward jump before the scope check");
	if (!fork)
		return pfail(w, pc, "scope check has too many branches to verify");
	/* A test of the lookup result against NULL decides the scope: the
	 * NULL side goes on in the scope check, the other in the interrupt
	 * check. */
	if (cls == BPF_JMP && BPF_SRC(in.code) == BPF_K && in.imm == 0 && dst->kind == A_LOOKUP &&
	    (op == BPF_JEQ || op == BPF_JNE)) {
		size_t null_pc = op == BPF_JEQ ? pc + 1 + (size_t)in.off : pc + 1;
		size_t in_pc = op == BPF_JEQ ? pc + 1 : pc + 1 + (size_t)in.off;

		w->irq_paths++;
		*fork = *st;
		fork->r[in.dst_reg].kind = A_UNK;
		fork->phase = 1;
		fork->pc = in_pc;
		dst->kind = A_CONST;
		dst->v = 0;
		st->pc = null_pc;
		return 2;
	}
	*fork = *st;
	fork->pc = pc + 1 + (size_t)in.off;
	st->pc = pc + 1;
	if (st->phase == 1 && cls == BPF_JMP && BPF_SRC(in.code) == BPF_X)
		irq_compare(fork, st, op, dst, src);
	if (st->phase == 2 && BPF_SRC(in.code) == BPF_K)
		irq_test(fork, st, cls, op, dst->kind, in.imm);
	return 2;
}

static int (*const prologue_class[8])(struct prologue_walk *w, struct astate *st, struct astate *fork,
				      const struct pinsn *di) = {
	[BPF_LD] = prologue_ld,
	[BPF_LDX] = prologue_ldx,
	[BPF_ST] = prologue_st,
	[BPF_STX] = prologue_st,
	[BPF_ALU] = prologue_alu,
	[BPF_ALU64] = prologue_alu,
	[BPF_JMP] = prologue_jmp,
	[BPF_JMP32] = prologue_jmp,
};

/*
 * One step of the abstract interpreter. Returns 0 to go on at st->pc,
 * 1 when this path is finished (returned 0, or entered the scope), 2 when
 * it forks (*fork gets the taken branch), < 0 to refuse.
 */
static int prologue_step(struct prologue_walk *w, struct astate *st, struct astate *fork)
{
	struct pinsn d;
	size_t pc = st->pc;

	if (st->phase == 1 && st->lo_ok && st->hi_ok)
		st->phase = 2;
	if (st->phase == 2 && st->read_ok && st->mask_ok) {
		/* the scope map's address serves the lookup only: none may
		 * reach the body, where a program could write the map */
		for (int r = 0; r < MAX_BPF_REG; r++)
			if (st->r[r].kind == A_SCOPEMAP)
				return pfail(w, pc, "the scope map's address is kept into the body, past the scope and interrupt checks");
		for (size_t k = 0; k < VERIFY_STACK / 8; k++)
			if (st->slot[k] == A_SCOPEMAP)
				return pfail(w, pc, "the scope map's address is kept into the body, past the scope and interrupt checks");
		w->in_scope_paths++;
		return 1;
	}
	w->phase = st->phase;
	if (pc < w->start || pc >= w->end)
		return pfail(w, pc, "the scope check runs off the end of the program");
	if (++w->steps > VERIFY_PROLOGUE_STEPS)
		return pfail(w, pc, "scope check too long to verify");
	verify_insn_get(w->s, pc, &d.in);
	d.pc = pc;
	d.cls = d.in.code & 0x07;
	d.op = d.in.code & 0xf0;
	if (d.in.dst_reg >= MAX_BPF_REG || d.in.src_reg >= MAX_BPF_REG)
		return pfail(w, pc, "bad register before the scope check");
	d.dst = &st->r[d.in.dst_reg];
	d.src = &st->r[d.in.src_reg];
	if (!prologue_class[d.cls])
		return pfail(w, pc, "unknown instruction before the scope check");
	return prologue_class[d.cls](w, st, fork, &d);
}

int verify_check_prologue(struct vobj *v, const struct vsec *s, const char *pname, size_t start,
			  size_t end)
{
	char b[VERIFY_NAME_MAX + 8], b2[VERIFY_NAME_MAX + 8];
	struct prologue_walk w = { .v = v, .s = s, .sn = verify_name(s->name, b), .pn = verify_name(pname, b2),
				   .start = start, .end = end };
	_cleanup_free_ struct astate *stack = NULL;
	size_t depth = 0;

	stack = calloc(VERIFY_PROLOGUE_PATHS, sizeof(*stack));
	if (!stack)
		return -ENOMEM;
	stack[0].pc = start;
	stack[0].r[BPF_REG_10].kind = A_FP;
	depth = 1;
	while (depth > 0) {
		struct astate *st = &stack[depth - 1];
		int r;

		r = prologue_step(&w, st, depth < VERIFY_PROLOGUE_PATHS ? &stack[depth] : NULL);
		if (r < 0)
			return r;
		if (r == 1) {
			depth--;
		} else if (r == 2) {
			if (depth >= VERIFY_PROLOGUE_PATHS)
				return pfail(&w, st->pc - 1, "scope check has too many branches to verify");
			/* stack[depth] holds the taken branch; it runs first */
			depth++;
		}
	}
	w.phase = 0;
	if (w.in_scope_paths == 0 && w.irq_paths)
		return pfail(&w, start, "no interrupt check after the scope check (the frame within the task's stack, "
			     "then this CPU's preemption counter without NMI, hardirq or softirq bits)");
	if (w.in_scope_paths == 0)
		return pfail(&w, start, "no scope check (lookup of the ancestor cgroup id in the scope map)");
	return 0;
}
