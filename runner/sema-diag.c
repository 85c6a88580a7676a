// SPDX-License-Identifier: Apache-2.0
/* Semantic analysis: errors with where they happened (sema-int.h) and the
 * names of types in them, shared by sema.c, sema-types.c and sema-tuple.c. */
#include <stdarg.h>
#include <stdio.h>

#include "lib/cleanup.h"
#include "lib/errors.h"
#include "runner/sema-int.h"
#include "lib/banned.h"

int sem_err(struct sctx *c, struct lang_loc loc, int code, const char *fmt, ...)
{
	va_list ap;

	c->diag->loc = loc;
	va_start(ap, fmt);
	vsnprintf(c->diag->msg, sizeof(c->diag->msg), fmt, ap);
	va_end(ap);
	return -code;
}

const char *sem_type_name(const struct sem_type *t)
{
	static const char *const texts[] = {
		[TX_NONE] = "text", [TX_KSYM] = "ksym", [TX_USYM] = "usym", [TX_KSTACK] = "kstack",
		[TX_USTACK] = "ustack", [TX_STRFTIME] = "strftime", [TX_USERNAME] = "username",
		[TX_CGPATH] = "cgroup_path", [TX_INET] = "inet", [TX_BUF] = "buffer",
		[TX_TUPLE] = "tuple", [TX_MEMVAL] = "struct",
	};

	switch (t->k) {
	case ST_INT: return "integer";
	case ST_STR: return "string";
	case ST_TEXT: return t->text < ARRAY_SIZE(texts) ? texts[t->text] : "text";
	case ST_MEM: return "struct";
	default: return "none";
	}
}
