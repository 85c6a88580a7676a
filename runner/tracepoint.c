// SPDX-License-Identifier: Apache-2.0
/* Tracepoints through tracefs (see tracepoint.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>
#include <linux/magic.h>

#include "lib/cleanup.h"
#include "lib/errors.h"
#include "lib/util.h"
#include "runner/tracepoint.h"
#include "lib/banned.h"

#ifndef TRACEFS_MAGIC
#define TRACEFS_MAGIC 0x74726163
#endif

#define TP_FORMAT_MAX (64u * 1024)
#define TP_EVENTS_MAX (4u << 20)

static bool is_tracefs(const char *path)
{
	struct statfs st;
	char p[256];

	if (statfs(path, &st) < 0 || (unsigned long)st.f_type != TRACEFS_MAGIC)
		return false;
	snprintf(p, sizeof(p), "%s/events", path);
	return access(p, R_OK) == 0;
}

int tracefs_find(char **ret_path, char **ret_err)
{
	static const char *const cands[] = { "/sys/kernel/tracing", "/sys/kernel/debug/tracing" };
	char *p;

	for (size_t i = 0; i < ARRAY_SIZE(cands); i++) {
		if (is_tracefs(cands[i])) {
			p = strdup(cands[i]);
			if (!p)
				return -ENOMEM;
			*ret_path = p;
			return 0;
		}
	}
	if (mount("tracefs", cands[0], "tracefs", 0, NULL) < 0 || !is_tracefs(cands[0])) {
		int r = -errno;

		if (asprintf(ret_err, "tracefs: not mounted and mounting it at \"%s\" failed: %s",
			     cands[0], strerror(errno)) < 0)
			*ret_err = NULL;
		return r ? r : -ENOENT;
	}
	p = strdup(cands[0]);
	if (!p)
		return -ENOMEM;
	*ret_path = p;
	return 0;
}

static char *trim(char *s)
{
	char *e;

	while (*s == ' ' || *s == '\t')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t'))
		*--e = '\0';
	return s;
}

/* "field:const char * filename;\toffset:24;\tsize:8;\tsigned:0;" */
int tp_field_parse(const char *line, struct tp_field *f)
{
	_cleanup_free_ char *copy = NULL;
	char *decl, *semi, *name, *arr, *p;
	uint64_t v;

	memset(f, 0, sizeof(*f));
	line = strstr(line, "field:");
	if (!line)
		return -EINVAL;
	copy = strdup(line + 6);
	if (!copy)
		return -ENOMEM;
	semi = strchr(copy, ';');
	if (!semi)
		return -EINVAL;
	*semi = '\0';
	decl = trim(copy);
	for (p = semi + 1; *p;) {
		char *key = trim(p), *colon, *end;

		end = strchr(key, ';');
		if (!end)
			break;
		*end = '\0';
		colon = strchr(key, ':');
		if (colon) {
			*colon = '\0';
			if (parse_u64(colon + 1, &v) < 0 || v > UINT32_MAX)
				return -EINVAL;
			if (!strcmp(key, "offset"))
				f->offset = (uint32_t)v;
			else if (!strcmp(key, "size"))
				f->size = (uint32_t)v;
			else if (!strcmp(key, "signed"))
				f->is_signed = v != 0;
		}
		p = end + 1;
	}
	/* The name is the last identifier of the declaration, before a
	 * trailing [N] ("char comm[16]"); "__data_loc char[] name" keeps its
	 * brackets in the type. */
	p = trim(decl);
	arr = NULL;
	if (*p && p[strlen(p) - 1] == ']') {
		arr = strrchr(p, '[');
		if (arr)
			*arr = '\0';
		p = trim(p);
	}
	name = p + strlen(p);
	while (name > p && (name[-1] == '_' || (name[-1] >= 'a' && name[-1] <= 'z') ||
			    (name[-1] >= 'A' && name[-1] <= 'Z') ||
			    (name[-1] >= '0' && name[-1] <= '9')))
		name--;
	if (!*name)
		return -EINVAL;
	f->name = strdup(name);
	*name = '\0';
	f->type = strdup(trim(p));
	if (!f->name || !f->type) {
		free(f->name);
		free(f->type);
		return -ENOMEM;
	}
	f->array = arr != NULL;
	if (str_has_prefix(f->type, "__data_loc")) {
		f->kind = TPF_DATALOC;
	} else if (arr) {
		f->kind = (strstr(f->type, "char") && !strchr(f->type, '*')) ? TPF_CHARARRAY : TPF_OTHER;
	} else if (strchr(f->type, '*')) {
		f->kind = TPF_PTR;
		f->char_ptr = strstr(f->type, "char") != NULL &&
			      strchr(f->type, '*') == strrchr(f->type, '*');
	} else if (f->size == 1 || f->size == 2 || f->size == 4 || f->size == 8) {
		f->kind = TPF_INT;
	} else {
		f->kind = TPF_OTHER;
	}
	return 0;
}

void tp_format_release(struct tp_format *f)
{
	for (size_t i = 0; i < f->n; i++) {
		free(f->fields[i].name);
		free(f->fields[i].type);
	}
	free(f->fields);
	free(f->print_fmt);
	free(f->category);
	free(f->name);
	memset(f, 0, sizeof(*f));
}

/* A category or name that could leave events/ in a path. */
static bool tp_names_bad(const char *cat, const char *name)
{
	return strchr(cat, '/') || strchr(name, '/') || !strcmp(cat, "..") || !strcmp(name, "..");
}

int tp_format_names(const char *cat, const char *name, struct tp_format *f)
{
	memset(f, 0, sizeof(*f));
	if (tp_names_bad(cat, name))
		return -EINVAL;
	f->category = strdup(cat);
	f->name = strdup(name);
	if (f->category && f->name)
		return 0;
	tp_format_release(f);
	return -ENOMEM;
}

int tp_format_read(const char *tracefs, const char *cat, const char *name, struct tp_format *f,
		   char **ret_err)
{
	_cleanup_free_ char *path = NULL, *text = NULL;
	char *line, *next;
	int r;

	memset(f, 0, sizeof(*f));
	if (tp_names_bad(cat, name))
		return -EINVAL;
	if (asprintf(&path, "%s/events/%s/%s/format", tracefs, cat, name) < 0)
		return -ENOMEM;
	r = read_file(path, TP_FORMAT_MAX, &text, NULL);
	if (r < 0) {
		if (asprintf(ret_err, "tracepoint \"%s:%s\": cannot read \"%s\": %s", cat, name,
			     path, strerror(-r)) < 0)
			*ret_err = NULL;
		return r;
	}
	f->category = strdup(cat);
	f->name = strdup(name);
	f->fields = calloc(TP_MAX_FIELDS, sizeof(*f->fields));
	if (!f->category || !f->name || !f->fields) {
		tp_format_release(f);
		return -ENOMEM;
	}
	for (line = text; line && *line; line = next) {
		struct tp_field fl;

		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		if (str_has_prefix(line, "print fmt: ")) {
			/* the last section; its string may hold newlines, so it
			 * runs to the end of the file */
			size_t len;

			if (next)
				next[-1] = '\n';
			len = strlen(line);
			while (len && line[len - 1] == '\n')
				len--;
			f->print_fmt = strndup(line + strlen("print fmt: "), len - strlen("print fmt: "));
			if (!f->print_fmt) {
				tp_format_release(f);
				return -ENOMEM;
			}
			break;
		}
		if (!strstr(line, "field:"))
			continue;
		r = tp_field_parse(line, &fl);
		if (r < 0) {
			tp_format_release(f);
			if (asprintf(ret_err, "tracepoint \"%s:%s\": unreadable format line \"%s\"",
				     cat, name, trim(line)) < 0)
				*ret_err = NULL;
			return r == -ENOMEM ? r : -EINVAL;
		}
		if (str_has_prefix(fl.name, "common_")) {
			free(fl.name);
			free(fl.type);
			continue;
		}
		if (f->n == TP_MAX_FIELDS) {
			free(fl.name);
			free(fl.type);
			tp_format_release(f);
			if (asprintf(ret_err, "tracepoint \"%s:%s\": more than %d fields", cat, name,
				     TP_MAX_FIELDS) < 0)
				*ret_err = NULL;
			return -TG_ELIMIT;
		}
		f->fields[f->n++] = fl;
	}
	return 0;
}

const struct tp_field *tp_format_field(const struct tp_format *f, const char *name)
{
	for (size_t i = 0; i < f->n; i++)
		if (!strcmp(f->fields[i].name, name))
			return &f->fields[i];
	return NULL;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int tp_expand(const char *tracefs, const char *cat_glob, const char *name_glob, char ***ret,
	      size_t *ret_n, char **ret_err)
{
	_cleanup_free_ char *path = NULL, *text = NULL;
	_cleanup_(strv_freep) char **v = NULL;
	size_t n = 0;
	char *line, *next;
	int r;

	if (asprintf(&path, "%s/available_events", tracefs) < 0)
		return -ENOMEM;
	r = read_file(path, TP_EVENTS_MAX, &text, NULL);
	if (r < 0) {
		if (asprintf(ret_err, "tracefs: cannot read \"%s\": %s", path, strerror(-r)) < 0)
			*ret_err = NULL;
		return r;
	}
	v = calloc(TP_MAX_EXPAND + 1, sizeof(*v));
	if (!v)
		return -ENOMEM;
	for (line = text; line && *line; line = next) {
		char *colon;

		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		colon = strchr(line, ':');
		if (!colon)
			continue;
		*colon = '\0';
		if (!glob_match(cat_glob, line) || !glob_match(name_glob, colon + 1))
			continue;
		*colon = ':';
		if (n == TP_MAX_EXPAND) {
			if (asprintf(ret_err, "tracepoint \"%s:%s\": matches more than %d tracepoints",
				     cat_glob, name_glob, TP_MAX_EXPAND) < 0)
				*ret_err = NULL;
			return -TG_ELIMIT;
		}
		v[n] = strdup(line);
		if (!v[n])
			return -ENOMEM;
		n++;
	}
	qsort(v, n, sizeof(*v), cmp_str);
	*ret = TAKE_PTR(v);
	*ret_n = n;
	return 0;
}

/* ---- classified fields ----------------------------------------------------- */

_Static_assert(TP_MAX_FIELDS <= TG_TPF_MAX_FIELDS, "a format's fields must fit the classifier");

/* "cat:name" by category, then name (as tg_tpf_table_find searches):
 * plain strcmp would put "fib6:x" before "fib:y". */
static int cmp_event(const void *a, const void *b)
{
	const char *x = *(char *const *)a, *y = *(char *const *)b;
	size_t lx = strcspn(x, ":"), ly = strcspn(y, ":");
	int r = strncmp(x, y, lx < ly ? lx : ly);

	if (r == 0 && lx != ly)
		return lx < ly ? -1 : 1;
	return r ? r : strcmp(x + lx, y + ly);
}

int tp_list_all(const char *tracefs, char ***ret, size_t *ret_n, char **ret_err)
{
	_cleanup_free_ char *path = NULL, *text = NULL;
	_cleanup_(strv_freep) char **v = NULL;
	size_t n = 0, cap = 0;
	char *line, *next;
	int r;

	if (asprintf(&path, "%s/available_events", tracefs) < 0)
		return -ENOMEM;
	r = read_file(path, TP_EVENTS_MAX, &text, NULL);
	if (r < 0)
		return tg_fail(ret_err, r, "tracefs: cannot read \"%s\": %s", path, strerror(-r));
	for (line = text; line && *line; line = next) {
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		if (!strchr(line, ':'))
			continue;
		if (n + 1 >= cap) {
			char **nv;

			cap = cap ? cap * 2 : 256;
			nv = reallocarray(v, cap, sizeof(*v));
			if (!nv)
				return -ENOMEM;
			v = nv;
		}
		v[n] = strdup(line);
		if (!v[n])
			return -ENOMEM;
		v[++n] = NULL;
	}
	if (!v && !(v = calloc(1, sizeof(*v))))
		return -ENOMEM;
	qsort(v, n, sizeof(*v), cmp_event);
	*ret = TAKE_PTR(v);
	*ret_n = n;
	return 0;
}

size_t tp_format_tpf_fields(const struct tp_format *f, struct tg_tpf_field *out)
{
	size_t n = f->n < TP_MAX_FIELDS ? f->n : TP_MAX_FIELDS;

	for (size_t i = 0; i < n; i++)
		out[i] = (struct tg_tpf_field){ .name = f->fields[i].name, .type = f->fields[i].type,
						.size = f->fields[i].size, .array = f->fields[i].array };
	return n;
}

struct fcheck {
	const struct tg_tpf_rules *rules;
	struct lang_diag *diag;
	bool set;
};

static void fields_refuse(void *ctx, const struct lang_loc *loc, const char *construct, const char *rule,
			  const char *msg)
{
	struct fcheck *c = ctx;

	if (c->set)
		return;         /* the first refusal is the error */
	c->set = true;
	c->diag->loc = *loc;
	c->diag->span = 0;
	snprintf(c->diag->msg, sizeof(c->diag->msg), "%s [policy \"%s\", rule %s]", msg,
		 c->rules->policy ? c->rules->policy : "", rule);
}

int tp_fields_check(const struct tg_tpf_rules *rules, const struct lang_probe *probe, const struct tp_format *f,
		    struct lang_diag *diag)
{
	struct tg_tpf_field fields[TP_MAX_FIELDS];
	struct fcheck c = { .rules = rules, .diag = diag };
	size_t n;

	if (!rules || !probe || !f || !f->category || !f->name)
		return 0;
	n = tp_format_tpf_fields(f, fields);
	if (tg_tpf_check_format(rules, f->category, f->name, fields, n, f->print_fmt, probe, fields_refuse, &c))
		return -TG_EPOLICY;
	return 0;
}

int tp_fields_derive(const char *tracefs, tp_derive_fn fn, void *ctx, char **ret_err)
{
	_cleanup_(strv_freep) char **v = NULL;
	size_t n = 0;
	int r;

	r = tp_list_all(tracefs, &v, &n, ret_err);
	if (r < 0)
		return r;
	for (size_t i = 0; i < n; i++) {
		struct tg_tpf_field fields[TP_MAX_FIELDS];
		struct tg_tpf_verdict verdicts[TP_MAX_FIELDS];
		struct tp_format f;
		char *colon = strchr(v[i], ':');
		size_t nf;

		*colon = '\0';
		if (!strcmp(v[i], "syscalls"))
			continue;
		r = tp_format_read(tracefs, v[i], colon + 1, &f, ret_err);
		if (r < 0)
			return r;
		nf = tp_format_tpf_fields(&f, fields);
		r = tg_tpf_classify(f.category, f.name, fields, nf, f.print_fmt, verdicts);
		if (r < 0) {
			tp_format_release(&f);
			return tg_fail(ret_err, r, "tracepoint \"%s:%s\": cannot classify its fields", v[i], colon + 1);
		}
		r = fn(ctx, &f, verdicts);
		tp_format_release(&f);
		if (r < 0)
			return r;
	}
	return 0;
}
