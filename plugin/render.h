/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What kubectl-trace prints: the gateway's NDJSON stream split into lines
 * as bytes arrive, each record rendered as bpftrace would print it, and
 * refusals (Kubernetes Status objects) rendered as kubectl does.
 * Rendering writes to the FILEs given; it holds no global state.
 */
#ifndef TG_PLUGIN_RENDER_H
#define TG_PLUGIN_RENDER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <jansson.h>
#include "lib/buf.h"
#include "plugin/cli.h"

/*
 * kubectl-trace's exit statuses, one meaning each (agreed with the
 * gateway's endings, docs/kubectl-trace.md):
 */
#define KT_EXIT_OK 0          /* or the program's own exit(N) code */
#define KT_EXIT_FAILURE 1     /* anything else that went wrong */
#define KT_EXIT_USAGE 2       /* bad command line */
#define KT_EXIT_REFUSED 3     /* RBAC, policy, limits, check denied */
#define KT_EXIT_PROGRAM 4     /* parse, semantics, compile, verifier */
#define KT_EXIT_NODE 5        /* a node failed, a runner was lost */
#define KT_EXIT_LIMIT 6       /* stopped by the cpu budget or rate limit */
#define KT_EXIT_STOPPED 7     /* stopped by the gateway (shutdown, operator) */
#define KT_EXIT_INTERRUPTED 130 /* Ctrl-C */

#define KT_MAX_LINE (8u << 20)       /* one NDJSON record from the gateway */
#define KT_MAX_STATUS_BODY (1u << 20) /* a refusal's body */

/* Progress on stderr (text mode, stderr a terminal): a step is shown only
 * once it has lasted KT_PROGRESS_AFTER_NS, so a fast start prints nothing. */
#define KT_PROGRESS_AFTER_NS 1000000000ull
#define KT_PROGRESS_MAX_NODES 64      /* nodes whose attach counts are summed */

struct kt_progress {
	bool enabled;
	bool done;                /* attached everywhere, or printing: no more */
	int phase;                /* 0 waiting for the stream, 1 compiling, 2 attaching */
	uint64_t phase_ns;        /* when the phase began (CLOCK_MONOTONIC) */
	size_t nodes, compiled, attached, failed;
	size_t nnamed;            /* the accepted nodes kept below */
	struct {
		char name[64];
		uint64_t done, probes;    /* the runner's "attaching" counts */
	} node[KT_PROGRESS_MAX_NODES];
	char what[160];           /* phase 0's text */
	char shown[160];          /* the last line printed */
};

struct kt_render {
	FILE *out, *err;
	enum kt_output mode;
	bool prefix;              /* [pod/NAME/NODE] before each output line */
	bool timestamps;          /* the record's "time" before each output line (logs) */
	bool clean_output;        /* the program's output and maps cleaned as the server's text
				   * is: on a terminal (their bytes may come from the pod,
				   * or be another user's: logs, attach) */
	bool mid_line;            /* the last output did not end its line */
	char last_source[512];    /* the prefix of that output */
	bool attached_shown;      /* "Attaching N probes..." printed */
	bool ended;               /* an `end` record arrived */
	int exit_code;            /* from `end` */
	int64_t events, drops;
	char end_reason[32];
	char *problem;            /* a record we could not render (caller frees) */
	const char *program;      /* the program's text: errors quote its lines */
	int error_class;          /* KT_EXIT_* of the errors seen, 0 none */
	char *last_error;         /* the last program error printed (printed once) */
	char trace_id[64];        /* from the `accepted` record: what a stop names */
	bool out_closed;          /* writing out failed (a closed pipe): the rest
				     goes to /dev/null and the trace is stopped */
	FILE *out_null;
	struct kt_progress progress;
};

void kt_render_init(struct kt_render *r, FILE *out, FILE *err, enum kt_output mode);
void kt_render_release(struct kt_render *r);
/* One NDJSON record.  -EBADMSG (r->problem set) for a line that is not a
 * JSON object with a type. */
int kt_render_line(struct kt_render *r, const char *line, size_t len);
/* Starts progress reporting (the caller decides it is wanted): what is
 * the first step's text, now_ns its start. */
void kt_progress_start(struct kt_render *r, const char *what, uint64_t now_ns);
/* Prints the current step on r->err if it has lasted long enough and
 * says something new.  Called from the transfer loop, a few times a second. */
void kt_progress_tick(struct kt_render *r, uint64_t now_ns);

/* The ndjson_line_fn (lib/ndjson.h) adapter: ctx is a struct kt_render.  Notices a
 * failed write to out (out_closed). */
int kt_render_line_cb(const char *line, size_t len, void *ctx);

/* A refusal as kubectl prints it, one line:
 *   Error from server (Forbidden): <message>
 * then, for policy denials, one line per cause below it.  body may be a
 * Status object or anything else (then the code's reason and a cleaned
 * first line of the body).  Control characters from the server are
 * replaced, so nothing it sends can drive the terminal. */
int kt_status_render(struct buf *out, long code, const char *body, size_t len);
/* The same for a request that carried program (may be NULL): causes
 * located in it ("field":"program:LINE:COL") are printed as bpftrace
 * prints an error, with the source line and a caret, and not repeated in
 * the summary line (a 400, a program error, has no summary line). */
int kt_status_render_program(struct buf *out, long code, const char *body, size_t len,
			     const char *program);
/* The exit status (KT_EXIT_*) a refusal means. */
int kt_status_exit(long code, const char *body, size_t len);

/* bpftrace's form of an error at LINE:COL of program:
 *   program:LINE:COL: ERROR: msg
 *   <the source line>
 *   <blanks>^
 * loc is "LINE:COL" (what follows "program:"); msg one line. */
int kt_program_error(struct buf *out, const char *loc, size_t loc_len, const char *msg,
		     size_t msg_len, const char *program);
/* Finds "program:LINE:COL: " in text: 0 with the location and the message
 * that follows it (to the end of its line), -ENOENT when there is none. */
int kt_find_program_error(const char *text, const char **ret_loc, size_t *ret_loc_len,
			  const char **ret_msg, size_t *ret_msg_len);

/* json_dumps(v, flags) appended to out, every code point a terminal acts
 * on that jansson writes raw (DEL, C1 controls, bidirectional overrides
 * and isolates: kt_add_clean's) as \uXXXX: the same value to a JSON or
 * YAML reader, nothing to the terminal.  0, -ENOMEM, -E2BIG. */
int kt_add_json(struct buf *out, const json_t *v, size_t flags);
/* The same for JSON text (valid JSON: those code points are in its strings). */
int kt_add_json_text(struct buf *out, const char *text, size_t len);
/* A JSON value as a YAML block (kubectl's -o yaml): keys in order,
 * strings quoted when YAML would read them as something else. */
int kt_yaml_emit(struct buf *out, const json_t *v);
/* For `check`: 1 when body is a refusal that is a decision (400, 403),
 * i.e. "denied" rather than "could not decide". */
bool kt_status_is_denial(long code);

/* Appends s to out with control characters other than '\t' replaced by
 * '?' (and newlines by a space unless keep_newlines): C0, DEL, C1
 * (U+0080..U+009F: U+009B is CSI), bidirectional overrides and isolates,
 * and every byte that is not well-formed UTF-8 (a raw 0x9b is CSI to an
 * 8-bit terminal). */
int kt_add_clean(struct buf *out, const char *s, size_t len, bool keep_newlines);

#endif
