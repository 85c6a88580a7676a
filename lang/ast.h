/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The syntax tree of a bpftrace (0.17) program.
 *
 * This header is the contract between the front end (policy/: lexer,
 * parser, canonical printer, policy checks) and the engine (runner/:
 * semantic analysis, code generation).  The front end builds the tree
 * and knows nothing of types or BPF; the engine annotates nodes through
 * the `aux` pointer it owns.
 *
 * Every node carries the 1-based line and column of its first character,
 * so every error can name where it is.
 */
#ifndef TG_LANG_AST_H
#define TG_LANG_AST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct lang_loc {
	uint32_t line;  /* 1-based */
	uint32_t col;   /* 1-based, in bytes */
};

enum lang_node_kind {
	/* ---- expressions ---- */
	TG_N_INT,        /* u64 = value (literals are non-negative; `-1` is NEG(1)),
			    str = NULL */
	TG_N_STR,        /* str = decoded string literal (escapes resolved),
			    u64 = decoded length (may contain NUL) */
	TG_N_BUILTIN,    /* str = "pid", "comm", "arg0", "args", "retval", "kstack" ... */
	TG_N_POSPARAM,   /* u64 = N for $N (N >= 1); u64 = 0 for $# */
	TG_N_VAR,        /* str = "$name" */
	TG_N_MAP,        /* str = "@name" ("@" alone for the anonymous map);
			    kids = key expressions (0 for a scalar map; more than one
			    for @m[a, b]) */
	TG_N_CALL,       /* str = function name; kids = arguments.  Also used for
			    `sizeof(x)` and `offsetof(...)` with str set accordingly. */
	TG_N_BINOP,      /* op = enum lang_op; kids[0] op kids[1] */
	TG_N_UNOP,       /* op = TG_OP_NOT / BNOT / NEG / DEREF / ADDR; kids[0] */
	TG_N_INCDEC,     /* op = TG_OP_PREINC / PREDEC / POSTINC / POSTDEC; kids[0]
			    is a VAR or MAP */
	TG_N_TERNARY,    /* kids[0] ? kids[1] : kids[2] */
	TG_N_FIELD,      /* kids[0].str or kids[0]->str: str = field name,
			    op = TG_OP_DOT or TG_OP_ARROW; a tuple index t.0 is
			    FIELD with str = "0" and u64 = 0, flags TG_F_TUPLE_INDEX */
	TG_N_INDEX,      /* kids[0][kids[1]] (array element / pointer index) */
	TG_N_CAST,       /* (str)kids[0]: str = type as written, normalised:
			    "uint64", "int8", "struct task_struct *", "char[16]" ... */
	TG_N_TUPLE,      /* (kids[0], kids[1], ...) with at least two elements */

	/* ---- statements ---- */
	TG_N_EXPR_STMT,  /* kids[0] */
	TG_N_ASSIGN,     /* kids[0] (VAR or MAP) = kids[1]; op = TG_OP_NONE for `=`
			    or the arithmetic op of a compound `+=`, `<<=` ... */
	TG_N_BLOCK,      /* kids = statements */
	TG_N_IF,         /* kids[0] = condition, kids[1] = then BLOCK,
			    kids[2] = else BLOCK or IF (else if), or absent */
	TG_N_UNROLL,     /* u64 = count (1..100), kids[0] = BLOCK; for
			    `unroll ($1)` u64 = 0 and kids[1] = the POSPARAM */
	TG_N_WHILE,      /* kids[0] = condition, kids[1] = BLOCK */
	TG_N_BREAK,
	TG_N_CONTINUE,
	TG_N_RETURN,

	/* ---- added after the first version (appended, so nothing renumbers) ---- */
	TG_N_IDENT,      /* a bare identifier: a type in sizeof(uint8) /
			    sizeof(struct Foo) ("struct Foo", whitespace
			    collapsed), an enum constant (AF_INET), a BTF
			    variable; flags TG_F_STACK_MODE for `perf` and
			    `bpftrace` (kstack(perf, 3)). str = the name */
	/* bpftrace 0.2x statements (docs/compat.md, "bpftrace 0.2x language") */
	TG_N_LET,        /* let $x; / let $x = e;  kids[0] = VAR, kids[1] = e or
			    absent: the variable lives to the end of its block */
	TG_N_FOR,        /* for ($kv : @m) BLOCK: kids[0] = VAR, kids[1] = MAP
			    (no keys), kids[2] = BLOCK; for ($i : a..b) BLOCK:
			    kids[0] = VAR, kids[1] = a, kids[2] = b, kids[3] = BLOCK */
};

enum lang_op {
	TG_OP_NONE = 0,
	/* binary, by precedence group */
	TG_OP_LOR, TG_OP_LAND,
	TG_OP_BOR, TG_OP_BXOR, TG_OP_BAND,
	TG_OP_EQ, TG_OP_NE, TG_OP_LT, TG_OP_LE, TG_OP_GT, TG_OP_GE,
	TG_OP_SHL, TG_OP_SHR,
	TG_OP_ADD, TG_OP_SUB,
	TG_OP_MUL, TG_OP_DIV, TG_OP_MOD,
	/* unary */
	TG_OP_NOT, TG_OP_BNOT, TG_OP_NEG, TG_OP_DEREF, TG_OP_ADDR,
	/* increment / decrement */
	TG_OP_PREINC, TG_OP_PREDEC, TG_OP_POSTINC, TG_OP_POSTDEC,
	/* member access */
	TG_OP_DOT, TG_OP_ARROW,
};

enum lang_node_flags {
	TG_F_TUPLE_INDEX = 1u << 0,
	TG_F_HEX = 1u << 1,       /* INT literal was written in hex */
	TG_F_STACK_MODE = 1u << 2, /* IDENT is `perf` or `bpftrace` */
};

struct lang_node {
	enum lang_node_kind kind;
	struct lang_loc loc;
	enum lang_op op;
	uint32_t flags;
	uint64_t u64;
	char *str;
	struct lang_node **kids;
	size_t nkids;
	void *aux;          /* owned by later passes (runner/); the front end
			       never reads it and lang_program_free does not free it */
};

/*
 * One attach point as written, already split.  `type` is the canonical
 * long name whatever alias was used (t -> tracepoint, k -> kprobe,
 * kr -> kretprobe, u -> uprobe, ur -> uretprobe, U -> usdt, i -> interval,
 * p -> profile, s -> software, h -> hardware, BEGIN, END).
 *
 *   tracepoint:syscalls:sys_enter_openat  target="syscalls" func="sys_enter_openat"
 *   kprobe:vfs_read / kprobe:vfs_read+16  target=NULL func="vfs_read" offset=16
 *   kprobe:mod:func                       target="mod" func="func"
 *   uprobe:/bin/bash:readline             target="/bin/bash" func="readline"
 *   uprobe:libc:malloc                    target="libc" (resolved later) func="malloc"
 *   uprobe:/bin/bash:0x1234               target="/bin/bash" func=NULL address=0x1234
 *   usdt:/path:provider:name              target="/path" ns="provider" func="name"
 *   usdt:/path:name                       target="/path" ns=NULL func="name"
 *   interval:s:1 / interval:ms:100        target="s" / "ms"... freq = 1 / 100
 *   profile:hz:99                         target="hz" freq=99
 *   software:cpu-clock:100000             target="cpu-clock" freq=100000 (0 = default)
 *   BEGIN / END                           target=NULL func=NULL
 *
 * Wildcards (`*`, `?`, `[...]`) stay in target/func; `raw` is the text as
 * written (after alias expansion of the type), e.g. "tracepoint:syscalls:*".
 */
struct lang_attach {
	char *type;
	char *target;
	char *ns;
	char *func;
	char *raw;
	uint64_t address;   /* uprobe by address; 0 = none */
	uint64_t offset;    /* func+offset; 0 = none */
	uint64_t freq;      /* interval/profile/software/hardware number; 0 = none */
	struct lang_loc loc;
};

struct lang_probe {
	struct lang_attach *attach;   /* at least one */
	size_t nattach;
	struct lang_node *pred;       /* /.../ or NULL */
	struct lang_node *body;       /* TG_N_BLOCK */
	struct lang_loc loc;
};

/* A `struct X { ... }`, `union X { ... }` or `enum X { ... }` definition
 * of the preamble, parsed by the front end (lang/cdecl.h); text is its
 * canonical C, printed from what was parsed, never the bytes as written. */
struct lang_cdef {
	char *name;                 /* "struct X" / "union X" / "enum X" */
	char *text;                 /* canonical C, "struct X {\n...};\n" */
	struct lang_loc loc;
};

/* An `#include <name>` of the preamble: a system header by name (checked:
 * no path, no ".."); only looked up, never read, by the runner. */
struct lang_include {
	char *name;                 /* "linux/sched.h" */
	bool quoted;                /* written "name" rather than <name> */
	struct lang_loc loc;
};

struct lang_program {
	struct lang_probe *probes;
	size_t nprobes;
	struct lang_cdef *cdefs;
	size_t ncdefs;
	struct lang_include *includes;
	size_t nincludes;
	char *source;               /* the text parsed, NUL-terminated */
	size_t source_len;
	/* Added: the definitions' canonical C, in source order ("" if none).
	 * The front end has already evaluated #if/#ifdef/#ifndef (with
	 * BPFTRACE_HAVE_BTF defined, as the runner always has BTF) and
	 * expanded #define macros, so this holds definitions only: no
	 * directive, no macro, no text as written. */
	char *preamble;
	/* Added: the positional parameters the program was parsed with
	 * (lang_parse_opts): `$N` in attach points already holds params[N-1];
	 * in predicates and bodies `$N` stays a TG_N_POSPARAM node whose
	 * value is params[N-1].  Part of the canonical form. */
	char **params;
	size_t nparams;
};

/*
 * Limits on what a program may be; every one is checked with an error
 * naming it (STYLE: nothing a client controls is unbounded).
 */
#define TG_MAX_SOURCE_BYTES   (256u * 1024)  /* script text */
#define TG_MAX_AST_DEPTH      128            /* nesting of expressions/blocks */
#define TG_MAX_AST_NODES      100000
#define TG_MAX_PROBES         512            /* probe blocks */
#define TG_MAX_STRING_LITERAL 4096
#define TG_MAX_UNROLL         100
#define TG_MAX_UNROLL_PRODUCT 100            /* copies of a body nested unrolls make:
						  no more than one bpftrace unroll */
#define TG_MAX_ATTACH_POINTS  1024           /* attach points, all probes */
#define TG_MAX_PARAMS         64             /* positional parameters */
#define TG_MAX_PARAM_BYTES    4096           /* one positional parameter */

/* An error with where it happened.  msg follows STYLE (lower case, the
 * failing thing first, names in quotes, no trailing period). */
struct lang_diag {
	struct lang_loc loc;
	char msg[512];
	uint32_t span;      /* added: columns the marker covers (0 or 1: a caret) */
};

/*
 * Parses src (len bytes, need not be NUL-terminated; NUL bytes inside are
 * an error).  Returns 0 and *ret on success; on failure a negative code
 * (-TG_EPARSE, -TG_EUNSUPPORTED, -TG_ELIMIT, -ENOMEM) with *diag filled.
 */
int lang_program_parse(const char *src, size_t len, struct lang_program **ret, struct lang_diag *diag);

/* How to parse.  Positional parameters are a parse option, substituted as
 * tokens: in an attach point `$N` may only fill one component (a name or a
 * glob, see lang_lex_attach), so a parameter can never add a probe, a
 * predicate or code; elsewhere `$N` stays a node whose value the program
 * carries.  lang_program_parse() is this with no parameters. */
struct lang_parse_opts {
	size_t sz;                      /* sizeof(struct lang_parse_opts) */
	const char *const *params;      /* $1..$N, NUL-terminated strings */
	size_t nparams;                 /* at most TG_MAX_PARAMS */
};
int lang_program_parse_opts(const char *src, size_t len, const struct lang_parse_opts *opts,
			  struct lang_program **ret, struct lang_diag *diag);
/* Frees a program; accepts NULL; returns NULL. */
struct lang_program *lang_program_free(struct lang_program *prog);
/* Frees a node and everything under it (not aux); accepts NULL; returns NULL. */
struct lang_node *lang_node_free(struct lang_node *node);

/* Formats a diagnostic the way bpftrace does, with the source line and a
 * caret under the column:
 *   stdin:1:12: ERROR: message
 *   <source line>
 *   <spaces>^
 * into out (caller frees). */
int lang_diag_format(const struct lang_diag *diag, const char *name, const char *src, size_t len,
		   char **ret);
/* The lines lang_diag_format writes after the message (the source line and
 * the marker; "" when src has no line diag->loc.line), for a caller that
 * writes the message line itself (the plugin, from a gateway's answer). */
int lang_diag_source(const struct lang_diag *diag, const char *src, size_t len, char **ret);

/* Canonical text of a program (stable formatting, used for hashing and
 * caches): equal programs print equal.  This is the form a policy decides
 * on and the runner runs: attach points with their parameters in place,
 * definitions as the front end understood them, and, when the program was
 * parsed with parameters, one trailing comment line per parameter
 * (`// $1 = "value"`, JSON-quoted).  Caller frees. */
int lang_program_print(const struct lang_program *prog, char **ret);
/* A string literal as the canonical form writes it, quotes included: it
 * lexes back to the same bytes, and is valid UTF-8 whatever they are
 * (control characters and bytes outside valid UTF-8 as octal escapes). */
struct buf;
int lang_string_quote(struct buf *b, const char *s, size_t len);
/* lang_program_print and its SHA-256 in hex (65 bytes with the NUL). */
int lang_program_canonical(const struct lang_program *prog, char **ret_text, char ret_sha[65]);

/* Visits every node of the program in source order (attach points are not
 * nodes).  Returning non-zero from fn stops the walk and is returned. */
typedef int (*lang_visit_fn)(struct lang_node *node, struct lang_node *parent, void *ctx);
int lang_program_walk(struct lang_program *prog, lang_visit_fn fn, void *ctx);
int lang_node_walk(struct lang_node *node, struct lang_node *parent, lang_visit_fn fn, void *ctx);

const char *lang_op_str(enum lang_op op);          /* "+", "&&", "->" ... */
/* Canonical text of one expression (as lang_program_print writes it). */
int lang_expr_print(const struct lang_node *node, char **ret);
const char *lang_node_kind_str(enum lang_node_kind kind);

#endif
