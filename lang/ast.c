// SPDX-License-Identifier: Apache-2.0
/*
 * Tree utilities: walking, the canonical printer and bpftrace-style
 * diagnostics.  The canonical form is what caches hash and what the
 * round-trip tests compare: parse(print(p)) prints the same as p.
 * Parentheses are the minimum the precedence needs; literals print in a
 * form the lexer reads back to the same value.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "lib/buf.h"
#include "lib/cleanup.h"
#include "lib/errors.h"
#include "lib/util.h"
#include "lang/ast.h"
#include "lib/banned.h"

const char *lang_op_str(enum lang_op op)
{
	switch (op) {
	case TG_OP_NONE: return "";
	case TG_OP_LOR: return "||";
	case TG_OP_LAND: return "&&";
	case TG_OP_BOR: return "|";
	case TG_OP_BXOR: return "^";
	case TG_OP_BAND: return "&";
	case TG_OP_EQ: return "==";
	case TG_OP_NE: return "!=";
	case TG_OP_LT: return "<";
	case TG_OP_LE: return "<=";
	case TG_OP_GT: return ">";
	case TG_OP_GE: return ">=";
	case TG_OP_SHL: return "<<";
	case TG_OP_SHR: return ">>";
	case TG_OP_ADD: return "+";
	case TG_OP_SUB: return "-";
	case TG_OP_MUL: return "*";
	case TG_OP_DIV: return "/";
	case TG_OP_MOD: return "%";
	case TG_OP_NOT: return "!";
	case TG_OP_BNOT: return "~";
	case TG_OP_NEG: return "-";
	case TG_OP_DEREF: return "*";
	case TG_OP_ADDR: return "&";
	case TG_OP_PREINC: return "++";
	case TG_OP_PREDEC: return "--";
	case TG_OP_POSTINC: return "++";
	case TG_OP_POSTDEC: return "--";
	case TG_OP_DOT: return ".";
	case TG_OP_ARROW: return "->";
	}
	return "?";
}

const char *lang_node_kind_str(enum lang_node_kind kind)
{
	switch (kind) {
	case TG_N_INT: return "integer";
	case TG_N_STR: return "string";
	case TG_N_BUILTIN: return "builtin";
	case TG_N_POSPARAM: return "positional parameter";
	case TG_N_VAR: return "variable";
	case TG_N_MAP: return "map";
	case TG_N_CALL: return "call";
	case TG_N_BINOP: return "binary operation";
	case TG_N_UNOP: return "unary operation";
	case TG_N_INCDEC: return "increment";
	case TG_N_TERNARY: return "conditional expression";
	case TG_N_FIELD: return "field access";
	case TG_N_INDEX: return "index";
	case TG_N_CAST: return "cast";
	case TG_N_TUPLE: return "tuple";
	case TG_N_EXPR_STMT: return "expression statement";
	case TG_N_ASSIGN: return "assignment";
	case TG_N_BLOCK: return "block";
	case TG_N_IF: return "if";
	case TG_N_UNROLL: return "unroll";
	case TG_N_WHILE: return "while";
	case TG_N_BREAK: return "break";
	case TG_N_CONTINUE: return "continue";
	case TG_N_RETURN: return "return";
	case TG_N_IDENT: return "identifier";
	case TG_N_LET: return "let";
	case TG_N_FOR: return "for";
	}
	return "node";
}

/* ---- walking ------------------------------------------------------------ */

int lang_node_walk(struct lang_node *node, struct lang_node *parent, lang_visit_fn fn, void *ctx)
{
	int r;

	if (!node)
		return 0;
	r = fn(node, parent, ctx);
	if (r)
		return r;
	for (size_t i = 0; i < node->nkids; i++) {
		r = lang_node_walk(node->kids[i], node, fn, ctx);
		if (r)
			return r;
	}
	return 0;
}

int lang_program_walk(struct lang_program *prog, lang_visit_fn fn, void *ctx)
{
	int r;

	for (size_t i = 0; prog && i < prog->nprobes; i++) {
		r = lang_node_walk(prog->probes[i].pred, NULL, fn, ctx);
		if (r)
			return r;
		r = lang_node_walk(prog->probes[i].body, NULL, fn, ctx);
		if (r)
			return r;
	}
	return 0;
}

/* ---- printing ------------------------------------------------------------ */

/* Binding strength: higher binds tighter. */
enum {
	PREC_TERNARY = 1,
	PREC_LOR, PREC_LAND, PREC_BOR, PREC_BXOR, PREC_BAND, PREC_EQ, PREC_REL,
	PREC_SHIFT, PREC_ADD, PREC_MUL,
	PREC_UNARY,     /* unary operators and casts */
	PREC_POSTFIX,   /* . -> [] x++ calls */
	PREC_PRIMARY,
};

static int binop_prec(enum lang_op op)
{
	switch (op) {
	case TG_OP_LOR: return PREC_LOR;
	case TG_OP_LAND: return PREC_LAND;
	case TG_OP_BOR: return PREC_BOR;
	case TG_OP_BXOR: return PREC_BXOR;
	case TG_OP_BAND: return PREC_BAND;
	case TG_OP_EQ: case TG_OP_NE: return PREC_EQ;
	case TG_OP_LT: case TG_OP_LE: case TG_OP_GT: case TG_OP_GE: return PREC_REL;
	case TG_OP_SHL: case TG_OP_SHR: return PREC_SHIFT;
	case TG_OP_ADD: case TG_OP_SUB: return PREC_ADD;
	default: return PREC_MUL;
	}
}

static int prec(const struct lang_node *n)
{
	switch (n->kind) {
	case TG_N_TERNARY: return PREC_TERNARY;
	case TG_N_BINOP: return binop_prec(n->op);
	case TG_N_UNOP: case TG_N_CAST: return PREC_UNARY;
	case TG_N_INCDEC:
		return (n->op == TG_OP_PREINC || n->op == TG_OP_PREDEC) ? PREC_UNARY : PREC_POSTFIX;
	case TG_N_FIELD: case TG_N_INDEX: case TG_N_CALL: return PREC_POSTFIX;
	default: return PREC_PRIMARY;
	}
}

static int print_expr(struct buf *b, const struct lang_node *n);

static int print_sub(struct buf *b, const struct lang_node *n, int min_prec)
{
	int r;

	if (prec(n) >= min_prec)
		return print_expr(b, n);
	r = buf_addc(b, '(');
	if (r == 0)
		r = print_expr(b, n);
	if (r == 0)
		r = buf_addc(b, ')');
	return r;
}

static int print_list(struct buf *b, struct lang_node *const *kids, size_t n)
{
	int r = 0;

	for (size_t i = 0; i < n && r == 0; i++) {
		if (i)
			r = buf_adds(b, ", ");
		if (r == 0)
			r = print_expr(b, kids[i]);
	}
	return r;
}

int lang_string_quote(struct buf *b, const char *s, size_t len)
{
	int r = buf_addc(b, '"');

	for (size_t i = 0; i < len && r == 0; i++) {
		unsigned char c = (unsigned char)s[i];
		size_t n;

		/* A byte that is not part of valid UTF-8 (a "\xff" escape) is
		 * written as an escape too: the canonical form travels in JSON
		 * strings (the request to the runners, the audit record),
		 * which must be valid UTF-8.  Valid UTF-8 stays as it is. */
		if (c >= 0x80) {
			n = utf8_valid_len((const unsigned char *)s + i, len - i);
			if (!n) {
				r = buf_printf(b, "\\%03o", c);
				continue;
			}
			r = buf_add(b, s + i, n);
			i += n - 1;
			continue;
		}
		switch (c) {
		case '\n': r = buf_adds(b, "\\n"); break;
		case '\t': r = buf_adds(b, "\\t"); break;
		case '\r': r = buf_adds(b, "\\r"); break;
		case '"': r = buf_adds(b, "\\\""); break;
		case '\\': r = buf_adds(b, "\\\\"); break;
		default:
			if (c < 0x20 || c == 0x7f)
				r = buf_printf(b, "\\%03o", c);
			else
				r = buf_addc(b, (char)c);
		}
	}
	return r ? r : buf_addc(b, '"');
}

static int print_expr(struct buf *b, const struct lang_node *n)
{
	int r = 0;

	switch (n->kind) {
	case TG_N_INT:
		return (n->flags & TG_F_HEX) ? buf_printf(b, "0x%llx", (unsigned long long)n->u64)
					     : buf_printf(b, "%llu", (unsigned long long)n->u64);
	case TG_N_STR:
		return lang_string_quote(b, n->str ? n->str : "", n->str ? (size_t)n->u64 : 0);
	case TG_N_BUILTIN:
	case TG_N_VAR:
	case TG_N_IDENT:
		return buf_adds(b, n->str);
	case TG_N_POSPARAM:
		return n->u64 ? buf_printf(b, "$%llu", (unsigned long long)n->u64) : buf_adds(b, "$#");
	case TG_N_MAP:
		r = buf_adds(b, n->str);
		if (r == 0 && n->nkids) {
			r = buf_addc(b, '[');
			if (r == 0)
				r = print_list(b, n->kids, n->nkids);
			if (r == 0)
				r = buf_addc(b, ']');
		}
		return r;
	case TG_N_CALL:
		r = buf_printf(b, "%s(", n->str);
		if (r == 0)
			r = print_list(b, n->kids, n->nkids);
		return r ? r : buf_addc(b, ')');
	case TG_N_TUPLE:
		r = buf_addc(b, '(');
		if (r == 0)
			r = print_list(b, n->kids, n->nkids);
		return r ? r : buf_addc(b, ')');
	case TG_N_BINOP: {
		int p = binop_prec(n->op);

		r = print_sub(b, n->kids[0], p);
		if (r == 0)
			r = buf_printf(b, " %s ", lang_op_str(n->op));
		/* left-associative: an equal-precedence right operand needs parentheses */
		return r ? r : print_sub(b, n->kids[1], p + 1);
	}
	case TG_N_UNOP: {
		struct buf inner = BUF_INIT(b->max);

		r = print_sub(&inner, n->kids[0], PREC_UNARY);
		if (r == 0)
			r = buf_adds(b, lang_op_str(n->op));
		/* "- -1", "& &x": never glue into "--" or "&&" */
		if (r == 0 && inner.s[0] == lang_op_str(n->op)[0] &&
		    (n->op == TG_OP_NEG || n->op == TG_OP_ADDR))
			r = buf_addc(b, ' ');
		if (r == 0)
			r = buf_add(b, inner.s, inner.len);
		buf_release(&inner);
		return r;
	}
	case TG_N_CAST:
		r = buf_printf(b, "(%s)", n->str);
		return r ? r : print_sub(b, n->kids[0], PREC_UNARY);
	case TG_N_INCDEC:
		if (n->op == TG_OP_PREINC || n->op == TG_OP_PREDEC) {
			r = buf_adds(b, lang_op_str(n->op));
			return r ? r : print_expr(b, n->kids[0]);
		}
		r = print_expr(b, n->kids[0]);
		return r ? r : buf_adds(b, lang_op_str(n->op));
	case TG_N_TERNARY:
		r = print_sub(b, n->kids[0], PREC_LOR);
		if (r == 0)
			r = buf_adds(b, " ? ");
		if (r == 0)
			r = print_sub(b, n->kids[1], PREC_TERNARY);
		if (r == 0)
			r = buf_adds(b, " : ");
		return r ? r : print_sub(b, n->kids[2], PREC_TERNARY);
	case TG_N_FIELD:
		r = print_sub(b, n->kids[0], PREC_POSTFIX);
		if (r == 0)
			r = buf_adds(b, n->op == TG_OP_ARROW ? "->" : ".");
		return r ? r : buf_adds(b, n->str);
	case TG_N_INDEX:
		r = print_sub(b, n->kids[0], PREC_POSTFIX);
		if (r == 0)
			r = buf_addc(b, '[');
		if (r == 0)
			r = print_expr(b, n->kids[1]);
		return r ? r : buf_addc(b, ']');
	default:
		return -EINVAL;
	}
}

static int indent(struct buf *b, int level)
{
	int r = 0;

	for (int i = 0; i < level && r == 0; i++)
		r = buf_addc(b, '\t');
	return r;
}

static int print_block(struct buf *b, const struct lang_node *blk, int level);

static int print_stmt(struct buf *b, const struct lang_node *s, int level)
{
	int r = indent(b, level);

	if (r)
		return r;
	switch (s->kind) {
	case TG_N_EXPR_STMT:
		r = print_expr(b, s->kids[0]);
		return r ? r : buf_adds(b, ";\n");
	case TG_N_ASSIGN:
		r = print_expr(b, s->kids[0]);
		if (r == 0)
			r = buf_printf(b, " %s= ", lang_op_str(s->op));
		if (r == 0)
			r = print_expr(b, s->kids[1]);
		return r ? r : buf_adds(b, ";\n");
	case TG_N_LET:
		r = buf_adds(b, "let ");
		if (r == 0)
			r = print_expr(b, s->kids[0]);
		if (r == 0 && s->nkids > 1) {
			r = buf_adds(b, " = ");
			if (r == 0)
				r = print_expr(b, s->kids[1]);
		}
		return r ? r : buf_adds(b, ";\n");
	case TG_N_FOR:
		r = buf_adds(b, "for (");
		if (r == 0)
			r = print_expr(b, s->kids[0]);
		if (r == 0)
			r = buf_adds(b, " : ");
		if (r == 0)
			r = print_expr(b, s->kids[1]);
		if (r == 0 && s->nkids > 3) {
			r = buf_adds(b, "..");
			if (r == 0)
				r = print_expr(b, s->kids[2]);
		}
		if (r == 0)
			r = buf_adds(b, ") ");
		if (r == 0)
			r = print_block(b, s->kids[s->nkids - 1], level);
		return r ? r : buf_addc(b, '\n');
	case TG_N_BREAK:
		return buf_adds(b, "break;\n");
	case TG_N_CONTINUE:
		return buf_adds(b, "continue;\n");
	case TG_N_RETURN:
		return buf_adds(b, "return;\n");
	case TG_N_WHILE:
		r = buf_adds(b, "while (");
		if (r == 0)
			r = print_expr(b, s->kids[0]);
		if (r == 0)
			r = buf_adds(b, ") ");
		if (r == 0)
			r = print_block(b, s->kids[1], level);
		return r ? r : buf_addc(b, '\n');
	case TG_N_UNROLL:
		if (s->nkids > 1)
			r = buf_printf(b, "unroll (");
		else
			r = buf_printf(b, "unroll (%llu) ", (unsigned long long)s->u64);
		if (r == 0 && s->nkids > 1) {
			r = print_expr(b, s->kids[1]);
			if (r == 0)
				r = buf_adds(b, ") ");
		}
		if (r == 0)
			r = print_block(b, s->kids[0], level);
		return r ? r : buf_addc(b, '\n');
	case TG_N_IF:
		for (;;) {
			r = buf_adds(b, "if (");
			if (r == 0)
				r = print_expr(b, s->kids[0]);
			if (r == 0)
				r = buf_adds(b, ") ");
			if (r == 0)
				r = print_block(b, s->kids[1], level);
			if (r || s->nkids < 3)
				break;
			r = buf_adds(b, " else ");
			if (r || s->kids[2]->kind != TG_N_IF) {
				if (r == 0)
					r = print_block(b, s->kids[2], level);
				break;
			}
			s = s->kids[2];
		}
		return r ? r : buf_addc(b, '\n');
	default:
		return -EINVAL;
	}
}

static int print_block(struct buf *b, const struct lang_node *blk, int level)
{
	int r = buf_adds(b, "{\n");

	for (size_t i = 0; i < blk->nkids && r == 0; i++)
		r = print_stmt(b, blk->kids[i], level + 1);
	if (r == 0)
		r = indent(b, level);
	return r ? r : buf_addc(b, '}');
}

int lang_expr_print(const struct lang_node *node, char **ret)
{
	_cleanup_buf_ struct buf b = BUF_INIT(0);
	int r = print_expr(&b, node);

	if (r < 0)
		return r;
	*ret = buf_detach(&b, NULL);
	return 0;
}

int lang_program_print(const struct lang_program *prog, char **ret)
{
	_cleanup_buf_ struct buf b = BUF_INIT(0);
	int r = 0;

	for (size_t i = 0; i < prog->nincludes && r == 0; i++)
		r = buf_printf(&b, prog->includes[i].quoted ? "#include \"%s\"\n" : "#include <%s>\n",
			       prog->includes[i].name);
	if (r == 0 && prog->nincludes && !(prog->preamble && prog->preamble[0]))
		r = buf_addc(&b, '\n');
	if (r == 0 && prog->preamble && prog->preamble[0])
		r = buf_printf(&b, "%s\n", prog->preamble);
	for (size_t i = 0; i < prog->nprobes && r == 0; i++) {
		const struct lang_probe *pr = &prog->probes[i];

		if (i)
			r = buf_addc(&b, '\n');
		for (size_t j = 0; j < pr->nattach && r == 0; j++)
			r = buf_printf(&b, "%s%s", pr->attach[j].raw, j + 1 < pr->nattach ? ",\n" : "\n");
		if (r == 0 && pr->pred) {
			struct buf e = BUF_INIT(0);

			/* "/ *p/": never open a comment with the predicate's slash */
			r = print_expr(&e, pr->pred);
			if (r == 0)
				r = buf_adds(&b, e.s[0] == '*' || e.s[0] == '/' ? "/ " : "/");
			if (r == 0)
				r = buf_add(&b, e.s, e.len);
			buf_release(&e);
			if (r == 0)
				r = buf_adds(&b, "/\n");
		}
		if (r == 0)
			r = print_block(&b, pr->body, 0);
		if (r == 0)
			r = buf_addc(&b, '\n');
	}
	/* the parameters belong to the form decided on: byte by byte, quoted
	 * so that no value can end its line or look like another */
	for (size_t i = 0; i < prog->nparams && r == 0; i++) {
		r = buf_printf(&b, "%s// $%zu = \"", i ? "" : "\n", i + 1);
		for (const unsigned char *c = (const unsigned char *)prog->params[i]; *c && r == 0; c++) {
			if (*c == '"' || *c == '\\')
				r = buf_printf(&b, "\\%c", *c);
			else if (*c >= 0x20 && *c < 0x7f)
				r = buf_addc(&b, (char)*c);
			else
				r = buf_printf(&b, "\\u%04x", *c);
		}
		if (r == 0)
			r = buf_adds(&b, "\"\n");
	}
	if (r < 0)
		return r;
	*ret = buf_detach(&b, NULL);
	return 0;
}

int lang_program_canonical(const struct lang_program *prog, char **ret_text, char ret_sha[65])
{
	char *text = NULL;
	int r = lang_program_print(prog, &text);

	if (r < 0)
		return r;
	sha256_hex(text, strlen(text), ret_sha);
	*ret_text = text;
	return 0;
}

/* ---- diagnostics ----------------------------------------------------------- */

/* The source line of diag and its marker, appended to b. */
static int diag_source(struct buf *b, const struct lang_diag *diag, const char *src, size_t len)
{
	const char *line = src;
	size_t llen = 0, ln = 1;
	int r = 0;

	if (src && diag->loc.line >= 1) {
		size_t i = 0;

		while (i < len && ln < diag->loc.line) {
			if (src[i] == '\n')
				ln++;
			i++;
		}
		if (ln == diag->loc.line && (i < len || diag->loc.col == 1 || i == len)) {
			line = src + i;
			while (i + llen < len && src[i + llen] != '\n')
				llen++;
		} else {
			line = NULL;
		}
	} else {
		line = NULL;
	}
	if (line) {
		uint32_t span = diag->span > 1 ? diag->span : 1;
		size_t col = diag->loc.col ? diag->loc.col - 1 : 0;

		/* tabs print as four spaces, as bpftrace does, and the marker follows */
		for (size_t i = 0; i < llen && r == 0; i++)
			r = line[i] == '\t' ? buf_adds(b, "    ") : buf_addc(b, line[i] == '\r' ? ' ' : line[i]);
		if (r == 0)
			r = buf_addc(b, '\n');
		for (size_t i = 0; i < col && r == 0; i++)
			r = buf_adds(b, i < llen && line[i] == '\t' ? "    " : " ");
		if (r == 0)
			r = buf_addc(b, '^');
		for (size_t i = col + 1; i < col + span && i < llen && r == 0; i++)
			r = buf_adds(b, line[i] == '\t' ? "~~~~" : "~");
		if (r == 0)
			r = buf_addc(b, '\n');
	}
	return r;
}

int lang_diag_source(const struct lang_diag *diag, const char *src, size_t len, char **ret)
{
	_cleanup_buf_ struct buf b = BUF_INIT(0);
	int r = buf_adds(&b, "");

	if (r >= 0)
		r = diag_source(&b, diag, src, len);
	if (r < 0)
		return r;
	*ret = buf_detach(&b, NULL);
	return 0;
}

int lang_diag_format(const struct lang_diag *diag, const char *name, const char *src, size_t len, char **ret)
{
	_cleanup_buf_ struct buf b = BUF_INIT(0);
	int r;

	r = buf_printf(&b, "%s:%u:%u: ERROR: %s\n", name ? name : "stdin", diag->loc.line,
		       diag->loc.col, diag->msg);
	if (r >= 0)
		r = diag_source(&b, diag, src, len);
	if (r < 0)
		return r;
	*ret = buf_detach(&b, NULL);
	return 0;
}
