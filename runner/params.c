// SPDX-License-Identifier: Apache-2.0
/* Positional parameters in attach points (see params.h). */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/buf.h"
#include "lib/cleanup.h"
#include "lib/errors.h"
#include "runner/params.h"
#include "lib/banned.h"

static bool blank(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* Where the scanner is: attach points are the text at brace depth 0 that
 * is not a comment, a string, a preprocessor line or a predicate. */
struct scan {
	const char *s;
	size_t len, i;
	int depth;
	bool pred;
	struct tg_loc loc;
};

static void step(struct scan *sc)
{
	if (sc->s[sc->i] == '\n') {
		sc->loc.line++;
		sc->loc.col = 1;
	} else {
		sc->loc.col++;
	}
	sc->i++;
}

/* Skips a comment, string or '#' line starting at sc->i; false if none. */
static bool skip_other(struct scan *sc, bool line_start)
{
	const char *s = sc->s;
	size_t n = sc->len;

	if (s[sc->i] == '/' && sc->i + 1 < n && s[sc->i + 1] == '/') {
		while (sc->i < n && s[sc->i] != '\n')
			step(sc);
		return true;
	}
	if (s[sc->i] == '/' && sc->i + 1 < n && s[sc->i + 1] == '*') {
		step(sc);
		step(sc);
		while (sc->i < n && !(s[sc->i] == '*' && sc->i + 1 < n && s[sc->i + 1] == '/'))
			step(sc);
		if (sc->i < n) {
			step(sc);
			step(sc);
		}
		return true;
	}
	if (s[sc->i] == '"') {
		step(sc);
		while (sc->i < n && s[sc->i] != '"') {
			if (s[sc->i] == '\\' && sc->i + 1 < n)
				step(sc);
			step(sc);
		}
		if (sc->i < n)
			step(sc);
		return true;
	}
	if (s[sc->i] == '#' && line_start && sc->depth == 0 && !sc->pred) {
		while (sc->i < n && s[sc->i] != '\n')
			step(sc);
		return true;
	}
	return false;
}

static int add_param(struct buf *out, struct scan *sc, const char *const *params, size_t np,
		     struct tg_diag *diag)
{
	const char *s = sc->s;
	struct tg_loc at = sc->loc;
	unsigned long long k = 0;
	size_t digits = 0;

	step(sc);    /* '$' */
	if (sc->i < sc->len && s[sc->i] == '#') {
		step(sc);
		return buf_printf(out, "%zu", np);
	}
	while (sc->i < sc->len && s[sc->i] >= '0' && s[sc->i] <= '9' && digits < 6) {
		k = k * 10 + (unsigned)(s[sc->i] - '0');
		digits++;
		step(sc);
	}
	if (!digits)
		return buf_addc(out, '$');
	if (k < 1 || k > np) {
		diag->loc = at;
		diag->span = (uint32_t)digits + 1;
		snprintf(diag->msg, sizeof(diag->msg),
			 "attach point: positional parameter \"$%llu\" is not given (%zu given)", k, np);
		return -TG_ETYPE;
	}
	return buf_adds(out, params[k - 1]);
}

int params_subst_attach(const char *src, size_t len, const char *const *params, size_t nparams,
			char **ret, size_t *ret_len, struct tg_diag *diag)
{
	_cleanup_buf_ struct buf out = BUF_INIT(TG_MAX_SOURCE_BYTES);
	struct scan sc = { .s = src, .len = len, .loc = { 1, 1 } };
	bool line_start = true, changed = false;
	char prev = '\n';
	int r = 0;

	*ret = NULL;
	while (sc.i < len && r >= 0) {
		size_t from = sc.i;
		char c = src[sc.i];

		if (skip_other(&sc, line_start)) {
			r = buf_add(&out, src + from, sc.i - from);
			prev = src[sc.i - 1];
			line_start = prev == '\n';
			continue;
		}
		if (c == '{' && !sc.pred) {
			sc.depth++;
		} else if (c == '}' && !sc.pred && sc.depth > 0) {
			sc.depth--;
		} else if (sc.depth == 0 && c == '/') {
			if (!sc.pred && blank(prev)) {
				sc.pred = true;
			} else if (sc.pred) {
				size_t j = sc.i + 1;

				while (j < len && blank(src[j]))
					j++;
				if (j < len && src[j] == '{')
					sc.pred = false;
			}
		} else if (sc.depth == 0 && !sc.pred && c == '$') {
			r = add_param(&out, &sc, params, nparams, diag);
			changed = true;
			prev = src[sc.i - 1];
			line_start = false;
			continue;
		}
		r = buf_addc(&out, c);
		if (!blank(c) || c == '\n')
			line_start = c == '\n';
		prev = c;
		step(&sc);
	}
	if (r == -E2BIG) {
		diag->loc = (struct tg_loc){ 1, 1 };
		snprintf(diag->msg, sizeof(diag->msg),
			 "program: longer than %u bytes once positional parameters are in its attach points",
			 TG_MAX_SOURCE_BYTES);
		return -TG_ELIMIT;
	}
	if (r < 0)
		return r;
	if (!changed)
		return 0;
	*ret = buf_detach(&out, ret_len);
	return *ret ? 0 : -ENOMEM;
}
