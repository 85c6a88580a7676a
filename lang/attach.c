// SPDX-License-Identifier: Apache-2.0
/*
 * Attach points: the text lang_lex_attach() gathered, split the way
 * bpftrace 0.17's AttachPointParser splits it (at ':' outside quotes),
 * with the probe type's aliases expanded and each type's parts checked.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "lib/buf.h"
#include "lib/cleanup.h"
#include "lib/errors.h"
#include "lang/attach.h"
#include "lib/banned.h"

struct apctx {
	struct lang_diag *diag;
	int err;
};

static void *fail(struct apctx *p, struct lang_loc loc, uint32_t span, int code, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));

static void *fail(struct apctx *p, struct lang_loc loc, uint32_t span, int code, const char *fmt, ...)
{
	va_list ap;

	if (p->err)
		return NULL;
	p->err = code;
	p->diag->loc = loc;
	p->diag->span = span;
	va_start(ap, fmt);
	vsnprintf(p->diag->msg, sizeof(p->diag->msg), fmt, ap);
	va_end(ap);
	return NULL;
}


static const struct {
	const char *name, *alias;
} probe_types[] = {
	{ "kprobe", "k" },   { "kretprobe", "kr" }, { "uprobe", "u" },      { "uretprobe", "ur" },
	{ "usdt", "U" },     { "BEGIN", NULL },     { "END", NULL },        { "tracepoint", "t" },
	{ "profile", "p" },  { "interval", "i" },   { "software", "s" },    { "hardware", "h" },
	{ "watchpoint", "w" }, { "asyncwatchpoint", "aw" }, { "kfunc", "f" }, { "kretfunc", "fr" },
	{ "iter", "it" },
};

const char *lang_probe_type_canonical(const char *type)
{
	for (size_t i = 0; i < ARRAY_SIZE(probe_types); i++)
		if (!strcmp(type, probe_types[i].name) ||
		    (probe_types[i].alias && !strcmp(type, probe_types[i].alias)))
			return probe_types[i].name;
	return NULL;
}

#define MAX_AP_PARTS 8

struct ap_parts {
	char *v[MAX_AP_PARTS];
	size_t n;
};

static void ap_parts_release(struct ap_parts *ap)
{
	for (size_t i = 0; i < ap->n; i++)
		free(ap->v[i]);
	ap->n = 0;
}

static bool has_wildcard(const char *s)
{
	return s && strpbrk(s, "*?[") != NULL;
}

/* Splits at ':' outside quotes; quotes go, `\x` inside them is x. */
static int split_parts(const char *raw, struct ap_parts *ap)
{
	_cleanup_buf_ struct buf cur = BUF_INIT(0);
	bool q = false;
	int r = 0;

	for (size_t i = 0; raw[i] && r == 0; i++) {
		if (raw[i] == ':' && !q) {
			if (ap->n + 1 >= MAX_AP_PARTS)
				return -E2BIG;
			ap->v[ap->n++] = buf_detach(&cur, NULL);
		} else if (raw[i] == '"') {
			q = !q;
		} else if (q && raw[i] == '\\' && raw[i + 1]) {
			/* the escapes lang_lex_attach writes; any other: the character */
			char e = raw[++i];

			if (e >= '0' && e <= '7' && raw[i + 1] >= '0' && raw[i + 1] <= '7' &&
			    raw[i + 2] >= '0' && raw[i + 2] <= '7') {
				e = (char)((e - '0') * 64 + (raw[i + 1] - '0') * 8 + (raw[i + 2] - '0'));
				i += 2;
			} else if (e == 'n') {
				e = '\n';
			} else if (e == 't') {
				e = '\t';
			} else if (e == 'r') {
				e = '\r';
			}
			r = buf_addc(&cur, e);
		} else {
			r = buf_addc(&cur, raw[i]);
		}
	}
	if (r < 0)
		return r;
	ap->v[ap->n++] = buf_detach(&cur, NULL);
	return 0;
}

static bool ap_int(struct apctx *p, const struct lang_attach *a, const char *what, const char *s,
		   uint64_t *ret)
{
	const char *err = NULL;

	if (*s == '\0' || lang_parse_int_literal(s, strlen(s), ret, &err) < 0) {
		fail(p, a->loc, 1, -TG_EPARSE, "attach point \"%s\": %s \"%s\" is not a valid integer%s%s",
		     a->raw, what, s, err ? ": " : "", err ? err : "");
		return false;
	}
	return true;
}

/* func[+offset] into a->func / a->offset. */
static bool ap_func_offset(struct apctx *p, struct lang_attach *a, const char *s, bool allow_offset)
{
	const char *plus = strchr(s, '+');

	if (!plus) {
		a->func = strdup(s);
		return a->func || (p->err = -ENOMEM, false);
	}
	if (!allow_offset) {
		fail(p, a->loc, 1, -TG_EPARSE, "attach point \"%s\": an offset is not allowed on \"%s\"",
		     a->raw, a->type);
		return false;
	}
	if (strchr(plus + 1, '+')) {
		fail(p, a->loc, 1, -TG_EPARSE, "attach point \"%s\": more than one offset", a->raw);
		return false;
	}
	if (plus == s) {
		fail(p, a->loc, 1, -TG_EPARSE, "attach point \"%s\": offset without a function", a->raw);
		return false;
	}
	if (!ap_int(p, a, "offset", plus + 1, &a->offset))
		return false;
	a->func = strndup(s, (size_t)(plus - s));
	return a->func || (p->err = -ENOMEM, false);
}

static bool ap_nargs(struct apctx *p, const struct lang_attach *a, size_t nparts, size_t lo, size_t hi,
		     const char *usage)
{
	if (nparts - 1 >= lo && nparts - 1 <= hi)
		return true;
	fail(p, a->loc, (uint32_t)strlen(a->raw), -TG_EPARSE,
	     "attach point \"%s\": \"%s\" takes %s (%s)", a->raw, a->type,
	     lo == hi ? (lo == 0 ? "no arguments" : lo == 1 ? "1 argument" : lo == 2 ? "2 arguments" : "3 arguments")
		      : (lo == 1 ? "1 or 2 arguments" : "2 or 3 arguments"),
	     usage);
	return false;
}

static char *dup_or_null(const char *s)
{
	return s ? strdup(s) : NULL;
}

/*
 * The alphabet of each attach-point component (docs/policy.md "Attach
 * points").  A name is looked up by the runner in tracefs, kallsyms, an ELF
 * symbol table or a note, and matched by the policy against a glob: a byte
 * outside the name's own alphabet (a "/" or ".." above all, which tracefs
 * would resolve as a path) can only make the decision and the run disagree,
 * so it is refused here, in the one front end, for literal text and
 * positional parameters alike.  Glob characters are allowed where the
 * probe type takes a glob: * ? and a bracket expression [a-z] [!x] [^x].
 */
enum ap_alpha {
	AP_TRACEFS,     /* tracepoint category and event: the kernel's [A-Za-z0-9_] */
	AP_KSYM,        /* kernel function, module, iterator: [A-Za-z0-9_.] */
	AP_USYM,        /* user function, usdt provider and probe: [A-Za-z0-9_.$@] */
	AP_EVENT,       /* software/hardware event: [a-z0-9-], no glob */
	AP_UNIT,        /* interval/profile unit: s sec ms us ns hz */
};

static bool alpha_char(enum ap_alpha al, unsigned char c)
{
	bool alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');

	switch (al) {
	case AP_TRACEFS: return alnum || c == '_';
	case AP_KSYM:    return alnum || c == '_' || c == '.';
	case AP_USYM:    return alnum || c == '_' || c == '.' || c == '$' || c == '@';
	case AP_EVENT:   return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
	case AP_UNIT:    return c >= 'a' && c <= 'z';
	}
	return false;
}

static const char *alpha_desc(enum ap_alpha al)
{
	switch (al) {
	case AP_TRACEFS: return "a tracepoint name: letters, digits and _ (and a glob: * ? [...])";
	case AP_KSYM:    return "a kernel symbol: letters, digits, _ and . (and a glob: * ? [...])";
	case AP_USYM:    return "a symbol: letters, digits, _ . $ and @ (and a glob: * ? [...])";
	case AP_EVENT:   return "an event name: lower-case letters, digits and -";
	case AP_UNIT:    return "a unit: s, sec, ms, us, ns or hz";
	}
	return "";
}

/* 0 when s is in the alphabet, else the 1-based index of the first byte
 * that is not (glob characters count where glob is true). */
static size_t alpha_bad(const char *s, enum ap_alpha al, bool glob)
{
	bool br = false;

	for (size_t i = 0; s[i]; i++) {
		unsigned char c = (unsigned char)s[i];

		if (alpha_char(al, c))
			continue;
		if (glob && !br && (c == '*' || c == '?'))
			continue;
		if (glob && !br && c == '[' && strchr(s + i + 1, ']')) {
			br = true;
			if (s[i + 1] == '!' || s[i + 1] == '^')
				i++;
			continue;
		}
		if (br && c == ']') {
			br = false;
			continue;
		}
		if (br && c == '-' && i > 0 && s[i - 1] != '[' && s[i + 1] && s[i + 1] != ']')
			continue;
		return i + 1;
	}
	return 0;
}

static bool ap_name(struct apctx *p, const struct lang_attach *a, const char *what, const char *s,
		    enum ap_alpha al, bool glob)
{
	static const char *const units[] = { "s", "sec", "ms", "us", "ns", "hz" };
	size_t bad;
	char q[4 * 32 + 8];

	if (!s)
		return true;
	bad = alpha_bad(s, al, glob);
	if (!bad && al == AP_UNIT) {
		bad = 1;
		for (size_t i = 0; i < ARRAY_SIZE(units); i++)
			if (!strcmp(s, units[i]))
				bad = 0;
		if (bad) {
			lang_quote_text(s, strlen(s), 32, q, sizeof(q));
			fail(p, a->loc, (uint32_t)strlen(a->raw), -TG_EPARSE,
			     "attach point \"%s\": %s \"%s\" is not %s", a->raw, what, q, alpha_desc(al));
			return false;
		}
	}
	if (!bad)
		return true;
	lang_quote_text(s, strlen(s), 32, q, sizeof(q));
	fail(p, a->loc, (uint32_t)strlen(a->raw), -TG_EPARSE,
	     "attach point \"%s\": %s \"%s\": character %zu is not allowed in %s", a->raw, what, q, bad,
	     alpha_desc(al));
	return false;
}

/* Every component but a binary path (the pod-file checks own those). */
static bool ap_names(struct apctx *p, const struct lang_attach *a)
{
	const char *t = a->type;

	if (!strcmp(t, "tracepoint"))
		return ap_name(p, a, "category", a->target, AP_TRACEFS, true) &&
		       ap_name(p, a, "event", a->func, AP_TRACEFS, true);
	if (!strcmp(t, "kprobe") || !strcmp(t, "kretprobe") || !strcmp(t, "kfunc") ||
	    !strcmp(t, "kretfunc") || !strcmp(t, "iter"))
		return ap_name(p, a, "module", a->target, AP_KSYM, true) &&
		       ap_name(p, a, "function", a->func, AP_KSYM, true);
	if (!strcmp(t, "uprobe") || !strcmp(t, "uretprobe"))
		return ap_name(p, a, "function", a->func, AP_USYM, true);
	if (!strcmp(t, "usdt"))
		return ap_name(p, a, "provider", a->ns, AP_USYM, true) &&
		       ap_name(p, a, "probe", a->func, AP_USYM, true);
	if (!strcmp(t, "software") || !strcmp(t, "hardware"))
		return ap_name(p, a, "event", a->target, AP_EVENT, false);
	if (!strcmp(t, "interval") || !strcmp(t, "profile"))
		return ap_name(p, a, "unit", a->target, AP_UNIT, false);
	return true;
}

static bool parse_attach(struct apctx *p, const struct lang_token *t, struct lang_attach *a)
{
	struct ap_parts ap = { 0 };
	const char *type = NULL;
	const char *colon;
	bool ok = false;
	int r;

	a->loc = t->loc;
	r = split_parts(t->text, &ap);
	if (r == -E2BIG) {
		ap_parts_release(&ap);
		fail(p, t->loc, (uint32_t)t->len, -TG_EPARSE, "attach point \"%s\" has too many \":\" parts",
		     t->text);
		return false;
	}
	if (r < 0) {
		ap_parts_release(&ap);
		p->err = r;
		return false;
	}
	for (size_t i = 0; i < ARRAY_SIZE(probe_types); i++)
		if (strcmp(ap.v[0], probe_types[i].name) == 0 ||
		    (probe_types[i].alias && strcmp(ap.v[0], probe_types[i].alias) == 0))
			type = probe_types[i].name;
	if (!type) {
		if (ap.v[0][0] == '\0')
			fail(p, t->loc, 1, -TG_EPARSE, "attach point \"%s\" has no probe type", t->text);
		else if (has_wildcard(ap.v[0]))
			fail(p, t->loc, (uint32_t)strlen(ap.v[0]), -TG_EUNSUPPORTED,
			     "attach point \"%s\": wildcards in the probe type are not supported", t->text);
		else
			fail(p, t->loc, (uint32_t)strlen(ap.v[0]), -TG_EPARSE,
			     "probe type \"%s\" is not valid", ap.v[0]);
		goto out;
	}
	colon = strchr(t->text, ':');
	a->type = strdup(type);
	if (asprintf(&a->raw, "%s%s", type, colon ? colon : "") < 0)
		a->raw = NULL;
	if (!a->type || !a->raw) {
		p->err = -ENOMEM;
		goto out;
	}

	if (!strcmp(type, "BEGIN") || !strcmp(type, "END")) {
		if (ap.n == 2 && !strcmp(ap.v[1], "*"))
			free(ap.v[--ap.n]);   /* "BEGIN:*" is BEGIN */
		ok = ap_nargs(p, a, ap.n, 0, 0, type);
	} else if (!strcmp(type, "kprobe") || !strcmp(type, "kretprobe")) {
		ok = ap_nargs(p, a, ap.n, 1, 1, "kprobe:function[+offset]") &&
		     ap_func_offset(p, a, ap.v[1], !strcmp(type, "kprobe"));
	} else if (!strcmp(type, "uprobe") || !strcmp(type, "uretprobe")) {
		const char *err;

		ok = ap_nargs(p, a, ap.n, 2, 2, "uprobe:binary:function[+offset]");
		if (!ok)
			goto out;
		a->target = strdup(ap.v[1]);
		if (!strchr(ap.v[2], '+') && ap.v[2][0] &&
		    lang_parse_int_literal(ap.v[2], strlen(ap.v[2]), &a->address, &err) == 0) {
			if (has_wildcard(a->target)) {
				fail(p, a->loc, 1, -TG_EPARSE,
				     "attach point \"%s\": wildcards cannot be used with an absolute address", a->raw);
				ok = false;
			}
		} else {
			a->address = 0;
			ok = ap_func_offset(p, a, ap.v[2], !strcmp(type, "uprobe"));
		}
	} else if (!strcmp(type, "usdt")) {
		ok = ap_nargs(p, a, ap.n, 2, 3, "usdt:binary:[provider:]name");
		if (ok) {
			a->target = strdup(ap.v[1]);
			a->ns = ap.n == 4 ? strdup(ap.v[2]) : NULL;
			a->func = strdup(ap.v[ap.n - 1]);
		}
	} else if (!strcmp(type, "tracepoint")) {
		if (ap.n == 2 && has_wildcard(ap.v[1])) {
			ap.v[2] = ap.v[1];
			ap.v[1] = strdup("*");
			ap.n = 3;
		}
		ok = ap_nargs(p, a, ap.n, 2, 2, "tracepoint:category:name");
		if (ok) {
			a->target = dup_or_null(ap.v[1]);
			a->func = strdup(ap.v[2]);
		}
	} else if (!strcmp(type, "profile") || !strcmp(type, "interval")) {
		ok = ap_nargs(p, a, ap.n, 2, 2, !strcmp(type, "profile") ? "profile:hz:rate" : "interval:s:count") &&
		     ap_int(p, a, "rate", ap.v[2], &a->freq);
		if (ok)
			a->target = strdup(ap.v[1]);
	} else if (!strcmp(type, "software") || !strcmp(type, "hardware")) {
		ok = ap_nargs(p, a, ap.n, 1, 2, !strcmp(type, "software") ? "software:event[:count]" : "hardware:event[:count]");
		if (ok && ap.n == 3 && strcmp(ap.v[2], "*"))
			ok = ap_int(p, a, "count", ap.v[2], &a->freq);
		if (ok)
			a->target = strdup(ap.v[1]);
	} else if (!strcmp(type, "kfunc") || !strcmp(type, "kretfunc")) {
		ok = ap_nargs(p, a, ap.n, 1, 2, "kfunc:[module:]function");
		if (ok) {
			a->target = ap.n == 3 ? strdup(ap.v[1]) : NULL;
			a->func = strdup(ap.v[ap.n - 1]);
		}
	} else if (!strcmp(type, "iter")) {
		ok = ap_nargs(p, a, ap.n, 1, 1, "iter:name");
		if (ok)
			a->func = strdup(ap.v[1]);
	} else {
		fail(p, a->loc, (uint32_t)strlen(ap.v[0]), -TG_EUNSUPPORTED,
		     "attach point \"%s\": probe type \"%s\" is not supported", a->raw, type);
	}
	if (ok && ((ap.n > 1 && !a->target && !a->func && !a->freq && !a->address &&
		    strcmp(type, "software") && strcmp(type, "hardware")) ||
		   (a->func && a->func[0] == '\0') || (a->target && a->target[0] == '\0'))) {
		fail(p, a->loc, (uint32_t)strlen(a->raw), -TG_EPARSE, "attach point \"%s\" has an empty name",
		     a->raw);
		ok = false;
	}
	if (ok)
		ok = ap_names(p, a);
out:
	ap_parts_release(&ap);
	return ok && !p->err;
}

void lang_attach_release(struct lang_attach *a)
{
	free(a->type);
	free(a->target);
	free(a->ns);
	free(a->func);
	free(a->raw);
	memset(a, 0, sizeof(*a));
}

int lang_attach_parse(const struct lang_token *t, struct lang_attach *a, struct lang_diag *diag)
{
	struct apctx p = { .diag = diag };

	if (!parse_attach(&p, t, a) && !p.err)
		p.err = -TG_EPARSE;
	return p.err;
}
