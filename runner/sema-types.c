// SPDX-License-Identifier: Apache-2.0
/*
 * C types in programs: pointers (casts, arithmetic, `*`, `[]`), struct and
 * union members through `->` and `.` (kernel types from BTF, the
 * program's own definitions), curtask, ctx, sizeof, enum constants, and
 * the functions on them (ntop, bswap, join).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/cleanup.h"
#include "lib/errors.h"
#include "runner/sema-int.h"
#include "lib/banned.h"

#define ST_MAX_TYPE_NAME 128

static const struct sem_type T_S64 = { .k = ST_INT, .size = 8, .sign = true };

int st_ktypes(struct sctx *c, struct ktypes **ret)
{
	struct sem *s = c->s;
	const struct lang_program *prog = s->prog;
	_cleanup_free_ const char **names = NULL;
	_cleanup_free_ char *msg = NULL;
	int r;

	if (s->kt) {
		*ret = s->kt;
		return 0;
	}
	r = ktype_new(&s->kt);
	if (r < 0)
		return r;
	if (prog->ncdefs) {
		names = calloc(prog->ncdefs, sizeof(*names));
		if (!names)
			return -ENOMEM;
		for (size_t i = 0; i < prog->ncdefs; i++)
			names[i] = prog->cdefs[i].name;
		r = ktype_preamble(s->kt, prog->preamble ? prog->preamble : "", names, prog->ncdefs,
				s->cache_dir, &msg);
		if (r < 0)
			return sem_err(c, prog->cdefs[0].loc, r == -ENOMEM ? ENOMEM : -r,
				       "C definitions: %s", msg ? msg : strerror(-r));
	}
	*ret = s->kt;
	return 0;
}

static const char *tname(struct sctx *c, struct ktype_ref ref, char *b, size_t sz)
{
	return ktype_name(c->s->kt, ref, b, sz);
}

/* The type of a pointer to ref (in user memory or not). */
static int ptr_to(struct sctx *c, struct ktype_ref ref, bool user, struct sem_type *ret)
{
	struct ktype_info in;
	int r = ktype_resolve(c->s->kt, ref, &in);

	if (r < 0)
		return r;
	*ret = (struct sem_type){ .k = ST_INT, .size = 8, .ptr = true, .user = user, .ref = ref };
	if (in.k == KK_INT || in.k == KK_ENUM || in.k == KK_PTR) {
		ret->psize = (uint8_t)(in.size <= 8 ? in.size : 8);
		ret->psign = in.sign;
	}
	return 0;
}

/* The value of an object of type ref in memory: integers and pointers are
 * read, char arrays are strings, structs, unions and other arrays stay in
 * memory (ST_MEM). */
static int mem_type(struct sctx *c, struct ktype_ref ref, bool user, struct lang_loc loc,
		    struct sem_type *ret)
{
	struct ktype_info in, el;
	char b[ST_MAX_TYPE_NAME];
	int r = ktype_resolve(c->s->kt, ref, &in);

	if (r < 0)
		return sem_err(c, loc, TG_ETYPE, "type of \"%s\" not found in BTF", tname(c, ref, b, sizeof(b)));
	switch (in.k) {
	case KK_INT:
	case KK_ENUM:
		if (in.size != 1 && in.size != 2 && in.size != 4 && in.size != 8)
			return sem_err(c, loc, TG_EUNSUPPORTED, "integers of %u bytes are not supported",
				       in.size);
		*ret = (struct sem_type){ .k = ST_INT, .size = (uint8_t)in.size, .sign = in.sign };
		return 0;
	case KK_PTR:
		r = ptr_to(c, in.target, user, ret);
		return r < 0 ? sem_err(c, loc, TG_ETYPE, "pointer type not found in BTF") : 0;
	case KK_ARRAY:
		if (ktype_resolve(c->s->kt, in.target, &el) == 0 && el.k == KK_INT && el.is_char &&
		    in.nelems > 0) {
			*ret = (struct sem_type){ .k = ST_STR,
						  .slen = in.nelems < SEM_MAX_STRING ? in.nelems : SEM_MAX_STRING };
			return 0;
		}
		/* fall through */
	case KK_STRUCT:
	case KK_UNION:
		*ret = (struct sem_type){ .k = ST_MEM, .user = user, .ref = ref };
		return 0;
	case KK_FWD:
		return sem_err(c, loc, TG_ETYPE, "\"%s\": incomplete type (not in BTF, not defined)",
			       tname(c, in.self, b, sizeof(b)));
	default:
		return sem_err(c, loc, TG_EUNSUPPORTED, "values of type \"%s\" are not supported",
			       tname(c, in.self, b, sizeof(b)));
	}
}

/* How the value of an object in memory reads: n's type from mem_type,
 * with a struct or array left in place. */
static int place(struct sctx *c, struct lang_node *n, struct sem_node *a, struct ktype_ref type,
		 bool user)
{
	return mem_type(c, type, user, n->loc, &a->t);
}

int st_field(struct sctx *c, struct lang_node *n, struct sem_node *a)
{
	const struct sem_type *bt = &sem_of(n->kids[0])->t;
	const char *acc = n->op == TG_OP_ARROW ? "->" : ".";
	char b[ST_MAX_TYPE_NAME];
	struct ktype_info in;
	struct ktype_ref agg;
	int r;

	if (bt->k == ST_INT && bt->ptr && bt->ref.src != KTYPE_NONE)
		agg = bt->ref;
	else if (bt->k == ST_MEM)
		agg = bt->ref;
	else if (bt->k == ST_TEXT && bt->text == TX_MEMVAL && n->op != TG_OP_ARROW)
		agg = bt->ref;   /* $s.m of a struct stored whole: its copy */
	else
		return sem_err(c, n->loc, TG_ETYPE,
			       "field access \"%s%s\": expected a pointer to a struct or union (cast it: (struct name *)x)",
			       acc, n->str);
	if (ktype_resolve(c->s->kt, agg, &in) < 0 || (in.k != KK_STRUCT && in.k != KK_UNION))
		return sem_err(c, n->loc, TG_ETYPE, "field access \"%s%s\": \"%s\" is not a struct or union%s",
			       acc, n->str, tname(c, agg, b, sizeof(b)),
			       in.k == KK_FWD ? " known here (no BTF, no definition)" : "");
	r = ktype_member(c->s->kt, in.self, n->str, &a->mem);
	if (r < 0)
		return sem_err(c, n->loc, TG_ETYPE, "\"%s\": no field \"%s\"", tname(c, in.self, b, sizeof(b)),
			       n->str);
	a->agg = in.self;
	r = place(c, n, a, a->mem.type, bt->user);
	if (r < 0)
		return r;
	a->t.copy = a->t.k == ST_MEM && (bt->k == ST_TEXT || bt->copy);
	if (a->mem.bitfield && a->t.k != ST_INT)
		return sem_err(c, n->loc, TG_EUNSUPPORTED, "bitfield \"%s\": not an integer", n->str);
	return 0;
}

uint32_t sem_ptr_step(const struct sem *s, const struct sem_type *t)
{
	struct ktype_info in;

	if (!t->ptr)
		return 1;
	if (t->ref.src == KTYPE_NONE)
		return t->psize ? t->psize : 1;
	if (!s->kt || ktype_resolve(s->kt, t->ref, &in) < 0 || !in.size)
		return 1;
	return in.size;
}

int st_index(struct sctx *c, struct lang_node *n, struct sem_node *a)
{
	const struct sem_type *bt;
	struct ktype_info in, el;
	int r;

	if ((r = sem_expr(c, n->kids[0])) < 0 || (r = sem_want_int(c, n->kids[1], "index")) < 0)
		return r;
	bt = &sem_of(n->kids[0])->t;
	if (bt->k == ST_MEM && ktype_resolve(c->s->kt, bt->ref, &in) == 0 && in.k == KK_ARRAY) {
		if (ktype_resolve(c->s->kt, in.target, &el) < 0)
			return sem_err(c, n->loc, TG_ETYPE, "array element type not found");
		if (sem_of(n->kids[1])->is_const &&
		    (sem_of(n->kids[1])->cval < 0 || (uint64_t)sem_of(n->kids[1])->cval >= in.nelems) &&
		    in.nelems)
			return sem_err(c, n->kids[1]->loc, TG_ETYPE, "index %lld out of bounds (array of %u)",
				       (long long)sem_of(n->kids[1])->cval, in.nelems);
		/* inside a copy an index is a constant, checked above: the
		 * copy's neighbours are BPF memory the helper would read */
		if (bt->copy && (!sem_of(n->kids[1])->is_const || !in.nelems))
			return sem_err(c, n->kids[1]->loc, TG_EUNSUPPORTED,
				       "indexing a stored array value: the index must be a constant");
		a->esize = el.size;
		r = place(c, n, a, in.target, bt->user);
		a->t.copy = r >= 0 && a->t.k == ST_MEM && bt->copy;
		return r;
	}
	if (bt->k == ST_INT && bt->ptr) {
		a->esize = sem_ptr_step(c->s, bt);
		if (bt->ref.src == KTYPE_NONE) {
			if (!bt->psize)
				return sem_err(c, n->loc, TG_ETYPE, "indexing a void pointer");
			a->t = (struct sem_type){ .k = ST_INT, .size = bt->psize, .sign = bt->psign };
			return 0;
		}
		return place(c, n, a, bt->ref, bt->user);
	}
	if (bt->k == ST_STR) {
		a->esize = 1;
		a->t = (struct sem_type){ .k = ST_INT, .size = 1, .sign = true };
		return 0;
	}
	/* an array stored whole ($a = p->arr; $a[1]): its copy, BPF memory,
	 * read only within it: a constant index, as bpftrace 0.17 takes for
	 * any array */
	if (bt->k == ST_TEXT && bt->text == TX_MEMVAL && ktype_resolve(c->s->kt, bt->ref, &in) == 0 &&
	    in.k == KK_ARRAY) {
		if (ktype_resolve(c->s->kt, in.target, &el) < 0 || !el.size)
			return sem_err(c, n->loc, TG_ETYPE, "array element type not found");
		if (!sem_of(n->kids[1])->is_const)
			return sem_err(c, n->kids[1]->loc, TG_EUNSUPPORTED,
				       "indexing a stored array value: the index must be a constant");
		if (sem_of(n->kids[1])->cval < 0 || (uint64_t)sem_of(n->kids[1])->cval >= in.nelems)
			return sem_err(c, n->kids[1]->loc, TG_ETYPE, "index %lld out of bounds (array of %u)",
				       (long long)sem_of(n->kids[1])->cval, in.nelems);
		a->esize = el.size;
		r = place(c, n, a, in.target, bt->user);
		a->t.copy = r >= 0 && a->t.k == ST_MEM;
		return r;
	}
	return sem_err(c, n->loc, TG_ETYPE, "indexing: expected an array or a pointer");
}

int st_deref(struct sctx *c, struct lang_node *n, struct sem_node *a)
{
	const struct sem_type *bt;
	int r = sem_expr(c, n->kids[0]);

	if (r < 0)
		return r;
	bt = &sem_of(n->kids[0])->t;
	if (bt->k != ST_INT || !bt->ptr)
		return sem_err(c, n->loc, TG_ETYPE, "operator \"*\": expected a pointer");
	a->esize = sem_ptr_step(c->s, bt);
	if (bt->ref.src == KTYPE_NONE) {
		if (!bt->psize)
			return sem_err(c, n->loc, TG_ETYPE, "operator \"*\": dereferencing a void pointer");
		a->t = (struct sem_type){ .k = ST_INT, .size = bt->psize, .sign = bt->psign };
		return 0;
	}
	return place(c, n, a, bt->ref, bt->user);
}

static const struct { const char *n; uint8_t size; bool sign; } int_types[] = {
	{ "uint8", 1, false }, { "uint16", 2, false }, { "uint32", 4, false }, { "uint64", 8, false },
	{ "int8", 1, true }, { "int16", 2, true }, { "int32", 4, true }, { "int64", 8, true },
};

/* A type as written: "uint8", "struct X", "u32"; *ret_int the integer
 * size for bpftrace's own names (no BTF needed), else *ret_ref. */
static int type_named(struct sctx *c, struct lang_node *n, const char *name, int *ret_size,
		      bool *ret_sign, struct ktype_ref *ret_ref)
{
	struct ktypes *kt;
	int r;

	*ret_size = -1;
	for (size_t i = 0; i < ARRAY_SIZE(int_types); i++) {
		if (!strcmp(name, int_types[i].n)) {
			*ret_size = int_types[i].size;
			*ret_sign = int_types[i].sign;
			return 0;
		}
	}
	if (!strcmp(name, "void")) {
		*ret_size = 0;
		*ret_sign = false;
		return 0;
	}
	r = st_ktypes(c, &kt);
	if (r < 0)
		return r;
	if (ktype_find(kt, name, ret_ref) < 0)
		return sem_err(c, n->loc, TG_ETYPE, "type \"%s\": not in kernel BTF nor defined in the program",
			       name);
	return 0;
}

int st_cast(struct sctx *c, struct lang_node *n, struct sem_node *a)
{
	const struct sem_type *x = &sem_of(n->kids[0])->t;
	char name[ST_MAX_TYPE_NAME];
	size_t len = strcspn(n->str, "*"), stars = 0;
	struct ktype_ref ref = { 0, 0 };
	bool sign = false;
	int size, r;

	for (const char *p = n->str + len; *p; p++)
		stars += *p == '*';
	while (len && n->str[len - 1] == ' ')
		len--;
	if (len >= sizeof(name))
		return sem_err(c, n->loc, TG_ETYPE, "cast: type name too long");
	memcpy(name, n->str, len);
	name[len] = '\0';
	if (x->k != ST_INT)
		return sem_err(c, n->kids[0]->loc, TG_ETYPE, "cast to \"%s\": expected an integer or a pointer",
			       n->str);
	r = type_named(c, n, name, &size, &sign, &ref);
	if (r < 0)
		return r;
	if (stars > 1) {
		/* a pointer to pointers: what it points to reads as an address */
		a->t = (struct sem_type){ .k = ST_INT, .size = 8, .ptr = true, .psize = 8 };
	} else if (size >= 0) {
		a->t = (struct sem_type){ .k = ST_INT, .size = 8, .ptr = true, .psize = (uint8_t)size,
					  .psign = sign };
	} else {
		r = ptr_to(c, ref, false, &a->t);
		if (r < 0)
			return sem_err(c, n->loc, TG_ETYPE, "cast to \"%s\": type not found", n->str);
	}
	a->t.user = x->ptr ? x->user : c->p->user_mem;
	return 0;
}

int st_tp_ptr(struct sctx *c, const char *ctype, bool user, struct sem_type *ret)
{
	char name[ST_MAX_TYPE_NAME];
	const char *p = ctype;
	struct ktypes *kt;
	struct ktype_ref ref;
	size_t n;

	*ret = (struct sem_type){ .k = ST_INT, .size = 8, .ptr = true, .user = user };
	while (!strncmp(p, "const ", 6) || !strncmp(p, "volatile ", 9))
		p += p[0] == 'c' ? 6 : 9;
	if (strchr(p, '*') != strrchr(p, '*')) {
		ret->psize = 8;     /* char **argv: an array of addresses */
		return 0;
	}
	if (strncmp(p, "struct ", 7) && strncmp(p, "union ", 6)) {
		ret->psize = 1;
		return 0;
	}
	n = strcspn(p, " *");
	n += strcspn(p + n + 1, " *") + 1;
	if (n >= sizeof(name))
		return 0;
	memcpy(name, p, n);
	name[n] = '\0';
	if (st_ktypes(c, &kt) < 0 || ktype_find(kt, name, &ref) < 0)
		return 0;   /* an unknown struct: an address, as before */
	ret->ref = ref;
	return 0;
}

/* Macros bpftrace's tools take from <sys/socket.h>. */
static const struct { const char *n; int64_t v; } macros[] = {
	{ "AF_UNSPEC", 0 }, { "AF_UNIX", 1 }, { "AF_LOCAL", 1 }, { "AF_INET", 2 },
	{ "AF_INET6", 10 }, { "AF_NETLINK", 16 }, { "AF_PACKET", 17 },
};

int st_ident(struct sctx *c, struct lang_node *n, struct sem_node *a)
{
	struct ktypes *kt;
	int64_t v;
	int r;

	for (size_t i = 0; i < ARRAY_SIZE(macros); i++) {
		if (!strcmp(n->str, macros[i].n)) {
			a->t = T_S64;
			a->is_const = true;
			a->cval = macros[i].v;
			return 0;
		}
	}
	r = st_ktypes(c, &kt);
	if (r < 0)
		return r;
	if (ktype_enum_value(kt, n->str, &v) < 0)
		return sem_err(c, n->loc, TG_ETYPE, "identifier \"%s\": not an enum value or a known constant",
			       n->str);
	a->t = T_S64;
	a->is_const = true;
	a->cval = v;
	return 0;
}

int st_builtin_curtask(struct sctx *c, struct lang_node *n, struct sem_node *a)
{
	struct ktypes *kt;
	struct ktype_ref ref;
	int r;

	r = st_ktypes(c, &kt);
	if (r < 0)
		return r;
	if (ktype_find(kt, "struct task_struct", &ref) < 0 || ptr_to(c, ref, false, &a->t) < 0)
		a->t = (struct sem_type){ .k = ST_INT, .size = 8, .ptr = true };
	return 0;
}

int st_builtin_ctx(struct sctx *c, struct lang_node *n, struct sem_node *a)
{
	a->t = (struct sem_type){ .k = ST_INT, .size = 8, .ptr = true };
	return 0;
}

int st_ptr_arith(struct sctx *c, struct lang_node *n, struct sem_node *a)
{
	const struct sem_type *l = &sem_of(n->kids[0])->t, *r = &sem_of(n->kids[1])->t;

	if (l->ptr && r->ptr) {
		/* bpftrace 0.17 subtracts addresses as integers */
		a->t = (struct sem_type){ .k = ST_INT, .size = 8, .sign = false };
		return 0;
	}
	if (r->ptr && n->op == TG_OP_SUB)
		return sem_err(c, n->loc, TG_ETYPE, "operator \"-\": cannot subtract a pointer from an integer");
	a->t = l->ptr ? *l : *r;
	a->esize = sem_ptr_step(c->s, &a->t);
	return 0;
}

/* An identifier that names a constant rather than a type. */
static bool ident_is_value(struct sctx *c, const char *name)
{
	struct ktypes *kt;
	int64_t v;

	if (strchr(name, ' ') || !strcmp(name, "void"))
		return false;
	for (size_t i = 0; i < ARRAY_SIZE(int_types); i++)
		if (!strcmp(name, int_types[i].n))
			return false;
	for (size_t i = 0; i < ARRAY_SIZE(macros); i++)
		if (!strcmp(name, macros[i].n))
			return true;
	return st_ktypes(c, &kt) == 0 && ktype_enum_value(kt, name, &v) == 0;
}

/* sizeof(type) / sizeof(expression): a constant; the expression is not
 * evaluated. */
int st_call_sizeof(struct sctx *c, struct lang_node *n, struct sem_node *a)
{
	struct lang_node *x;
	const struct sem_type *t;
	struct ktype_info in;
	struct ktype_ref ref;
	bool sign;
	int size, r;

	x = n->kids[0];
	a->t = T_S64;
	a->t.sign = false;
	a->is_const = true;
	if (x->kind == TG_N_IDENT && !ident_is_value(c, x->str)) {
		if (!sem_aux(c, x))
			return -ENOMEM;
		r = type_named(c, x, x->str, &size, &sign, &ref);
		if (r < 0)
			return r;
		if (size < 0) {
			if (ktype_resolve(c->s->kt, ref, &in) < 0)
				return sem_err(c, x->loc, TG_ETYPE, "sizeof(%s): type not found", x->str);
			size = (int)in.size;
		}
		a->cval = size;
		return 0;
	}
	r = sem_expr(c, x);
	if (r < 0)
		return r;
	t = &sem_of(x)->t;
	switch (t->k) {
	case ST_INT:
		a->cval = t->size ? t->size : 8;
		return 0;
	case ST_STR:
	case ST_TEXT:
		a->cval = t->slen;
		return 0;
	case ST_MEM:
		if (ktype_resolve(c->s->kt, t->ref, &in) < 0)
			return sem_err(c, x->loc, TG_ETYPE, "sizeof(): type not found");
		a->cval = in.size;
		return 0;
	default:
		return sem_err(c, x->loc, TG_ETYPE, "sizeof(): expression has no value");
	}
}

/* pton("addr") (bpftrace 0.17, as ntop's argument): the address of a
 * string literal, IPv4 (4 bytes) or IPv6 (16), parsed here. */
static int call_pton(struct sctx *c, struct lang_node *n, struct sem_node *a)
{
	const struct lang_node *x;
	char *bytes;
	int fam;

	/* kids[0] only once there is one: pton() has no kids array */
	if (n->nkids != 1 || n->kids[0]->kind != TG_N_STR)
		return sem_err(c, n->loc, TG_ETYPE, "pton(): takes one string literal");
	x = n->kids[0];
	if (!sem_aux(c, n->kids[0]))
		return -ENOMEM;
	fam = strchr(x->str, ':') ? AF_INET6 : AF_INET;
	bytes = sem_alloc(c, 16);
	if (!bytes)
		return -ENOMEM;
	if (strlen(x->str) != x->u64 || inet_pton(fam, x->str, bytes) != 1)
		return sem_err(c, x->loc, TG_ETYPE, "pton(): \"%s\" is not an IPv%d address", x->str,
			       fam == AF_INET6 ? 6 : 4);
	a->t = (struct sem_type){ .k = ST_STR, .slen = fam == AF_INET6 ? 16 : 4 };
	a->cstr = bytes;
	a->cstrlen = a->t.slen;
	return 0;
}

/* ntop([family,] address): the address bytes for user space to print. */
int st_call_ntop(struct sctx *c, struct lang_node *n, struct sem_node *a)
{
	struct lang_node *x;
	const struct sem_type *t;
	struct ktype_info in;
	int r;

	if (n->nkids == 2) {
		r = sem_want_int(c, n->kids[0], "ntop() family");
		if (r < 0)
			return r;
	}
	x = n->kids[n->nkids - 1];
	if (x->kind == TG_N_CALL && !strcmp(x->str, "pton"))
		r = !sem_aux(c, x) ? -ENOMEM : call_pton(c, x, sem_of(x));
	else
		r = sem_expr(c, x);
	if (r < 0)
		return r;
	t = &sem_of(x)->t;
	a->esize = 4;
	if (t->k == ST_MEM) {
		if (ktype_resolve(c->s->kt, t->ref, &in) < 0 || in.k != KK_ARRAY ||
		    (in.size != 4 && in.size != 16))
			return sem_err(c, x->loc, TG_ETYPE, "ntop(): expected an integer or an array of 4 or 16 bytes");
		a->esize = in.size;
	} else if (t->k == ST_STR && (t->slen == 4 || t->slen == 16)) {
		a->esize = t->slen;
	} else if (t->k != ST_INT) {
		return sem_err(c, x->loc, TG_ETYPE, "ntop(): expected an integer or an array of 4 or 16 bytes");
	}
	a->t = (struct sem_type){ .k = ST_TEXT, .text = TX_INET, .slen = 24 };
	return 0;
}

int st_call_bswap(struct sctx *c, struct lang_node *n, struct sem_node *a)
{
	struct lang_node *x;
	uint8_t size;
	int r;

	x = n->kids[0];
	r = sem_want_int(c, x, "bswap()");
	if (r < 0)
		return r;
	size = sem_of(x)->t.size ? sem_of(x)->t.size : 8;
	if (x->kind == TG_N_VAR && sem_of(x)->var >= 0 && c->p->vars[sem_of(x)->var].size0)
		size = c->p->vars[sem_of(x)->var].size0;
	if (x->kind == TG_N_INT)
		size = 8;
	a->t = (struct sem_type){ .k = ST_INT, .size = size, .sign = false };
	a->esize = size;
	if (sem_of(x)->is_const) {
		uint64_t v = (uint64_t)sem_of(x)->cval;

		a->is_const = true;
		a->cval = (int64_t)(size == 8 ? __builtin_bswap64(v) : size == 4 ? __builtin_bswap32((uint32_t)v) :
				    size == 2 ? __builtin_bswap16((uint16_t)v) : (v & 0xff));
	}
	return 0;
}

int st_call_join(struct sctx *c, struct lang_node *n, struct sem_node *a)
{
	const char *delim = " ";
	const struct sem_type *t;
	int r;

	r = sem_want_int(c, n->kids[0], "join()");
	if (r < 0)
		return r;
	t = &sem_of(n->kids[0])->t;
	if (n->nkids == 2) {
		if (!sem_aux(c, n->kids[1]))
			return -ENOMEM;
		delim = n->kids[1]->str;
	}
	r = sem_site(c, n, a, REC_JOIN, delim);
	if (r < 0)
		return r;
	c->s->sites[a->site].size = SEM_REC_HDR + SEM_JOIN_ARGS * SEM_JOIN_ARGSIZE;
	/* the array's memory: user for syscalls' argv and uprobes */
	a->t = (struct sem_type){ .k = ST_NONE, .user = t->ptr ? t->user : c->p->user_mem };
	return 0;
}

/* buf(data [, length]): a constant length, an array's size or, for a
 * length known only at run time, up to bpftrace's string size; at most
 * that size in any case (0.17 shortens a longer buf() to
 * BPFTRACE_STRLEN, 64 bytes by default, with a warning). */
int st_call_buf(struct sctx *c, struct lang_node *n, struct sem_node *a)
{
	const struct sem_type *x;
	int64_t len = -1;
	int r;

	r = sem_expr(c, n->kids[0]);
	if (r < 0)
		return r;
	x = &sem_of(n->kids[0])->t;
	if (x->k != ST_INT && x->k != ST_STR && x->k != ST_MEM)
		return sem_err(c, n->kids[0]->loc, TG_ETYPE, "buf(): expected a pointer, an array or a string");
	if (n->nkids == 2) {
		r = sem_want_int(c, n->kids[1], "buf() length");
		if (r < 0)
			return r;
		if (sem_of(n->kids[1])->is_const) {
			len = sem_of(n->kids[1])->cval;
			if (len < 0)
				return sem_err(c, n->kids[1]->loc, TG_ETYPE, "buf(): negative length");
		}
	} else if (x->k == ST_STR) {
		len = x->slen;
	} else if (x->k == ST_MEM) {
		struct ktype_info in;

		if (ktype_resolve(c->s->kt, x->ref, &in) < 0)
			return sem_err(c, n->loc, TG_ETYPE, "buf(): type not found");
		len = in.size;
	} else {
		return sem_err(c, n->loc, TG_ETYPE, "buf(): a pointer needs a length");
	}
	if (len < 0 || len > SEM_STRLEN)
		len = SEM_STRLEN;
	a->t = (struct sem_type){ .k = ST_TEXT, .text = TX_BUF, .slen = 8 + (uint32_t)len,
				  .arg = (uint16_t)len };
	return 0;
}
