// SPDX-License-Identifier: Apache-2.0
/* Semantic analysis: memory that lives until sem_release() and the
 * per-node records (sema-int.h), shared by sema.c and sema-types.c. */
#include <stdlib.h>
#include <string.h>

#include "runner/sema-int.h"
#include "lib/banned.h"

void *sem_alloc(struct sctx *c, size_t size)
{
	void *p;

	if (c->s->nallocs == c->s->aallocs) {
		size_t na = c->s->aallocs ? c->s->aallocs * 2 : 256;
		void **v = realloc(c->s->allocs, na * sizeof(*v));

		if (!v)
			return NULL;
		c->s->allocs = v;
		c->s->aallocs = na;
	}
	p = calloc(1, size);
	if (p)
		c->s->allocs[c->s->nallocs++] = p;
	return p;
}

struct sem_node *sem_aux(struct sctx *c, struct lang_node *n)
{
	struct sem_node *a = n->aux;

	if (!a) {
		a = sem_alloc(c, sizeof(*a));
		if (!a)
			return NULL;
		a->site = -1;
		n->aux = a;
	}
	a->map = -1;
	a->var = -1;
	a->is_const = false;
	a->field = NULL;
	a->t = (struct sem_type){ .k = ST_NONE };
	a->agg = (struct ktype_ref){ 0, 0 };
	memset(&a->mem, 0, sizeof(a->mem));
	a->esize = 0;
	return a;
}
