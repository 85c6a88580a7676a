/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Semantic analysis of a parsed program: types of every expression (kept
 * in node->aux), maps and their kinds, per-probe variables, printf
 * records and their layouts.  Anything outside the supported subset is an
 * error naming the construct with its line and column, before anything is
 * compiled or loaded.
 */
#ifndef TG_RUNNER_SEMA_H
#define TG_RUNNER_SEMA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "lang/ast.h"
#include "runner/ktypes.h"
#include "runner/tracepoint.h"

#define SEM_STRLEN          64     /* bpftrace's default string size */
#define SEM_MAX_PROBE_SLEN  256    /* `probe`: longer names are cut (bpftrace prints them whole) */
#define SEM_MAX_MAPS        64
#define SEM_MAX_MAP_KEYS    8
#define SEM_MAX_VARS        64     /* $variables per probe */
#define SEM_MAX_PRINTFS     1024   /* printf/print/time/exit call sites */
#define SEM_MAX_FMT_ARGS    32
#define SEM_MAX_KEY_BYTES   256    /* one map key (stack-built) */
#define SEM_MAX_RECORD      4096   /* one ring-buffer record */
/* One string value, its NUL included: clang's BPF backend copies at most
 * 1 KiB inline (128 8-byte stores) and has no memcpy to call; a longer
 * literal is refused, a longer char array or parameter is cut. */
#define SEM_MAX_STRING      1024
#define SEM_MAX_STRS        256    /* distinct strftime formats and filters */
#define SEM_STACK_FRAMES    127    /* bpftrace's default and maximum */
#define SEM_MAX_HIST_BITS   5      /* hist(x, k): 0 <= k <= 5, as bpftrace 0.2x */
/* Tuples (bpftrace 0.17's (a, b, ...)): a tenant writes them, so their
 * number of types, elements, nesting and bytes are bounded. */
#define SEM_MAX_TUPLES       256   /* distinct tuple types in a program */
#define SEM_MAX_TUPLE_ELEMS  32    /* elements of one tuple */
#define SEM_MAX_TUPLE_DEPTH  8     /* tuples inside tuples */
#define SEM_MAX_TUPLE_BYTES  2048  /* one tuple value */
#define SEM_MAX_MEMVAL_BYTES 2048  /* a struct or array value in a variable or map */
/* for loops (bpftrace 0.2x) run in the kernel per event, where nothing
 * preempts them: a range runs at most SEM_MAX_FOR_RANGE iterations
 * (bpf_loop allows 2^23), a for is never inside another loop (for, while,
 * unroll: nested, 65536 x 65536 iterations would hold a CPU for seconds
 * at one event), and a probe has at most SEM_MAX_FOR_STMTS of them, so
 * one event's work is at most SEM_MAX_FOR_STMTS x 65536 iterations (or
 * map entries), which cpuBudget then measures */
#define SEM_MAX_FOR_RANGE    65536
#define SEM_MAX_FOR_DEPTH    1
#define SEM_MAX_FOR_STMTS    16

enum sem_tkind {
	ST_NONE,    /* statement-like calls (printf, exit...) */
	ST_INT,
	ST_STR,     /* slen bytes, NUL-padded */
	ST_ARGS,    /* the `args` builtin before ->field */
	ST_AGG,     /* count() sum() ... : only on the right of @m = */
	ST_TEXT,    /* slen raw bytes (8 or 16) that user space formats by
		       `text` (symbols, stacks, times, user names) */
	ST_MEM,     /* a struct, union or array in memory (kernel or user, by
		       `user`) of type `ref`: its value is its address; only
		       `.`, `[]` and sizeof() use it */
};

enum sem_text {
	TX_NONE,
	TX_KSYM,       /* __u64 address */
	TX_USYM,       /* __u64 address, __u64 pid */
	TX_KSTACK,     /* __s64 stack id */
	TX_USTACK,     /* __s64 stack id, __u64 pid */
	TX_STRFTIME,   /* __u64 nsecs since boot; arg = format (sem.strs) */
	TX_USERNAME,   /* __u64 uid */
	TX_CGPATH,     /* __u64 cgroup id; arg = filter (sem.strs) + 1, 0: none */
	TX_INET,       /* __u64 family (2 or 10), 16 address bytes: ntop() */
	TX_BUF,        /* __u64 length, then arg bytes: buf() */
	TX_TUPLE,      /* a tuple laid out as sem.tuples[arg] says (C's
			  alignment, as bpftrace 0.17's LLVM struct) */
	TX_MEMVAL,     /* a struct, union or array's slen bytes, of BTF type
			  ref (user: read from user memory): a tuple element */
};

struct sem_type {
	enum sem_tkind k;
	uint8_t size;       /* ST_INT: 1, 2, 4, 8 */
	bool sign;          /* ST_INT */
	uint32_t slen;      /* ST_STR; ST_TEXT: bytes */
	uint8_t text;       /* ST_TEXT: enum sem_text */
	uint8_t stack_perf; /* TX_KSTACK/TX_USTACK: perf mode */
	uint16_t arg;       /* TX_STRFTIME, TX_CGPATH: index in sem.strs;
			       stacks: frames to print */
	/* Pointers are ST_INT (8 bytes, unsigned) with ptr set: to an
	 * integer of psize bytes (ref.src KTYPE_NONE), to void (psize 0), or to
	 * the BTF type ref.  ST_MEM: ref is the object's type. */
	bool ptr;
	bool user;          /* ptr, ST_MEM: the memory is user memory */
	/* ST_MEM: a part of a struct value's copy (TX_MEMVAL), in BPF
	 * memory: read with the kernel helper and only within the copy;
	 * user still says where its pointers point */
	bool copy;
	uint8_t psize;
	bool psign;
	struct ktype_ref ref;
};

/* A tuple type, interned: equal element types are one index, so types
 * compare by `arg`.  Element i is elems[i] at byte off[i]; integers keep
 * their size (a (int8) element is one byte), padding is zero. */
struct sem_tuple {
	size_t n;
	uint32_t size;      /* bytes, a multiple of align */
	uint32_t align;
	uint32_t depth;     /* 1: no tuple inside */
	struct sem_type elems[SEM_MAX_TUPLE_ELEMS];
	uint32_t off[SEM_MAX_TUPLE_ELEMS];
};

static inline bool sem_is_tuple(const struct sem_type *t)
{
	return t->k == ST_TEXT && t->text == TX_TUPLE;
}

/* Values kept as bytes (strings and ST_TEXT) rather than integers. */
static inline bool sem_is_blob(const struct sem_type *t)
{
	return t->k == ST_STR || t->k == ST_TEXT;
}

enum sem_mkind {
	MK_NONE, MK_INT, MK_STR, MK_COUNT, MK_SUM, MK_MIN, MK_MAX, MK_AVG, MK_STATS,
	MK_HIST, MK_LHIST,
	MK_TEXT,    /* values of type ST_TEXT (val), stored as bytes */
};

struct sem_map {
	const char *name;             /* "@x" */
	int id;                       /* tg_m<id> */
	size_t nkeys;
	bool keys_known;
	struct sem_type keys[SEM_MAX_MAP_KEYS];
	enum sem_mkind kind;
	struct sem_type val;          /* MK_INT, MK_STR */
	bool sum_unsigned;            /* MK_SUM: of unsigned values only, printed
					 as uint64 (0.17: sum(x) has x's sign) */
	int64_t lmin, lmax, lstep;    /* MK_LHIST */
	uint8_t hbits;                /* MK_HIST: hist(x, k)'s k, 2^k buckets per power of 2
					 (bpftrace 0.2x); 0: bpftrace 0.17's hist */
	struct lang_loc loc;
	bool read;                    /* looked up in an expression */
};

enum sem_rec_kind {
	REC_PRINTF = 1,    /* id = printf site; args in the layout below */
	REC_EXIT = 2,      /* one __s64 code */
	REC_PRINT_MAP = 3, /* id = map id; __u64 top, div */
	REC_PRINT_VAL = 4, /* id = site; one value as printf "%d"/"%s" */
	REC_CLEAR = 5,     /* id = map id */
	REC_ZERO = 6,      /* id = map id */
	REC_TIME = 7,      /* id = site (format string) */
	REC_CAT = 8,       /* id = site; printf-style path, arguments as printf */
	REC_JOIN = 9,      /* id = site (fmt = delimiter); SEM_JOIN_ARGS strings of
			      SEM_JOIN_ARGSIZE bytes, the first empty one ends them */
};

#define SEM_JOIN_ARGS     16     /* bpftrace 0.17's join_argnum */
#define SEM_JOIN_ARGSIZE  1024   /* and join_argsize */

/* Every ring buffer record starts with this header. */
#define SEM_REC_HDR 16     /* __u32 kind, __u32 id, __u64 scope cgroup id */

struct sem_fmt_arg {
	struct sem_type t;
	uint32_t off;                 /* from the start of the record */
	uint32_t size;                /* bytes in the record (8 or slen rounded) */
};

struct sem_site {                     /* a printf, print(value) or time() */
	enum sem_rec_kind kind;
	const char *fmt;              /* printf/time format (AST-owned) */
	size_t nargs;
	struct sem_fmt_arg args[SEM_MAX_FMT_ARGS];
	uint32_t size;                /* whole record */
	struct lang_loc loc;            /* of the call */
};

struct sem_var {
	const char *name;
	struct sem_type t;
	bool assigned;
	uint8_t size0;      /* integer size of the first value (bswap) */
	/* `let $x` (bpftrace 0.2x): the declaring node; the variable is
	 * visible from there to the end of its block (hidden outside).
	 * NULL: a 0.17 variable, visible in the whole probe once assigned. */
	const struct lang_node *decl;
	bool hidden;
};

struct sem_probe {
	struct sem_var vars[SEM_MAX_VARS];
	size_t nvars;
	const struct tp_format *args;   /* tracepoint whose args->x types this probe */
	bool uses_args, uses_probe;
	bool is_begin, is_end;
	bool is_probe_fn;               /* k/kr/u/uretprobe: `func` is known */
	bool user_mem;                  /* casts to pointers point to user memory
					   (uprobe, uretprobe, usdt) */
};

/* What each expression node's aux points to. */
struct sem_node {
	struct sem_type t;
	int map;            /* TG_N_MAP: index in sem.maps; else -1 */
	int var;            /* TG_N_VAR: index in the probe's vars; else -1 */
	int site;           /* printf/print/time: index in sem.sites; else -1 */
	const struct tp_field *field; /* args->field */
	bool is_const;
	int64_t cval;       /* ST_INT constant */
	const char *cstr;   /* ST_STR constant (positional parameter, literal) */
	size_t cstrlen;
	/* member access (not args->), [], *: where and what it reads */
	struct ktype_ref agg;  /* the struct/union holding the member */
	struct ktype_member mem;
	uint32_t esize;     /* []: element size; ptr +/-: the pointee size;
			       t.N of a tuple: the element's byte offset;
			       an integer cast: the size of its operand */
};

struct sem {
	struct lang_program *prog;
	const char *const *params;
	size_t nparams;
	struct sem_probe *probes;     /* one per prog->probes[i] */
	struct sem_map maps[SEM_MAX_MAPS];
	size_t nmaps;
	struct sem_site *sites;
	size_t nsites;
	bool uses_elapsed;
	uint64_t cpid;                /* "cpid": set by the caller before sem_analyse; 0: no child */
	uint32_t probe_slen;          /* "probe": set by the caller before sem_analyse, the
				       * bytes of the longest probe name (at most
				       * SEM_MAX_PROBE_SLEN); below SEM_STRLEN: SEM_STRLEN */
	bool uses_stacks;             /* kstack/ustack: tg_st<frames> maps */
	bool uses_user_syms;          /* ustack, usym: formatted from the process's maps */
	bool uses_stack_len;          /* len(kstack)/len(ustack): bpf_get_stack */
	bool stack_frames[SEM_STACK_FRAMES + 1]; /* frame counts used */
	const char *strs[SEM_MAX_STRS]; /* strftime formats, cgroup_path filters */
	size_t nstrs;
	struct ktypes *kt;            /* kernel and program types, on first use */
	struct sem_tuple *tuples;     /* tuple types (TX_TUPLE's arg) */
	size_t ntuples;
	const char *cache_dir;        /* for compiling the program's definitions */
	void **allocs;                /* every sem_node, for release */
	size_t nallocs, aallocs;
};

/* The key parts of a map node: @m[(a, b)] is @m[a, b] (bpftrace's docs,
 * language.md "Map Keys"). */
static inline struct lang_node **sem_map_keys(const struct lang_node *mapn, size_t *ret_n)
{
	if (mapn->nkids == 1 && mapn->kids[0]->kind == TG_N_TUPLE) {
		*ret_n = mapn->kids[0]->nkids;
		return mapn->kids[0]->kids;
	}
	*ret_n = mapn->nkids;
	return mapn->kids;
}

static inline struct sem_node *sem_of(const struct lang_node *n)
{
	return (struct sem_node *)n->aux;
}

/*
 * Analyses prog.  tp[i] is the format of probe i's first tracepoint (NULL
 * when it has none), used to type args->FIELD.  On error fills diag
 * (line:col, message) and returns -TG_EUNSUPPORTED / -TG_ETYPE /
 * -TG_ELIMIT.  sem_release() always.
 */
int sem_analyse(struct sem *s, struct lang_program *prog, const struct tp_format *const *tp,
		const char *const *params, size_t nparams, struct lang_diag *diag);
/* The same; the program's C definitions are compiled through the object
 * cache in cache_dir (NULL: the default). */
int sem_analyse_in(struct sem *s, struct lang_program *prog, const struct tp_format *const *tp,
		   const char *const *params, size_t nparams, const char *cache_dir,
		   struct lang_diag *diag);
/* Bytes a pointer of type t steps by (1 for void). */
uint32_t sem_ptr_step(const struct sem *s, const struct sem_type *t);
void sem_release(struct sem *s);

/* Rounds a string size up to 8 (record and key layouts). */
static inline uint32_t sem_round8(uint32_t n)
{
	return (n + 7u) & ~7u;
}

/* bpftrace's name for a map kind ("count", "hist"...), for map records. */
const char *sem_mkind_str(enum sem_mkind k);
/* reg("NAME"): NAME is one of bpftrace 0.17's x86-64 registers, the
 * fields of struct pt_regs (r15 ... ss). */
bool sem_reg_valid(const char *name);
/* True when the map's values are per-CPU (count, sum, min, max, avg,
 * stats, hist, lhist), summed in user space. */
bool sem_map_percpu(const struct sem_map *m);
/* "integer", "string", "ksym", "kstack"... for messages and valueType. */
const char *sem_type_name(const struct sem_type *t);

#endif
