// SPDX-License-Identifier: Apache-2.0
/*
 * exec -l: bpftrace 0.17's probe listing.  Its output is a sorted set of
 * full probe names, each matched whole against the glob (so "*sched_switch*"
 * finds tracepoint:sched:sched_switch); -lv prints a tracepoint's fields as
 * its tracefs format file declares them ("    const char * filename").
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "lib/cleanup.h"
#include "lib/errors.h"
#include "lib/util.h"
#include "runner/exec-list.h"
#include "runner/probes.h"
#include "runner/tracepoint.h"
#include "wire/probes.h"
#include "lib/banned.h"

#define LIST_FORMAT_MAX (64u << 10)     /* one tracepoint's format file */

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* software:NAME: lines match with or without their trailing ':' */
static bool matches(const char *pattern, const char *full)
{
	size_t n = strlen(full);
	_cleanup_free_ char *bare = NULL;

	if (!pattern || !*pattern || glob_match(pattern, full))
		return true;
	if (n && full[n - 1] == ':') {
		bare = strndup(full, n - 1);
		return bare && glob_match(pattern, bare);
	}
	return false;
}

/* the "field:DECL;" lines of a format file, common_ fields left out */
static int print_fields(FILE *out, const char *tracefs, const char *event)
{
	_cleanup_free_ char *path = NULL, *text = NULL, *ev = strdup(event);
	char *colon, *line, *next;
	int r;

	if (!ev)
		return -ENOMEM;
	colon = strchr(ev, ':');
	if (!colon)
		return 0;
	*colon = '\0';
	if (asprintf(&path, "%s/events/%s/%s/format", tracefs, ev, colon + 1) < 0)
		return -ENOMEM;
	r = read_file(path, LIST_FORMAT_MAX, &text, NULL);
	if (r < 0)
		return 0;   /* as bpftrace: the name is listed, its fields not */
	for (line = text; line && *line; line = next) {
		char *decl, *end, *name;

		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		decl = strstr(line, "field:");
		if (!decl)
			continue;
		decl += strlen("field:");
		end = strchr(decl, ';');
		if (!end)
			continue;
		*end = '\0';
		/* the name is the last word, before any [N] */
		name = end;
		if (name > decl && name[-1] == ']')
			while (name > decl && *name != '[')
				name--;
		while (name > decl && name[-1] != ' ' && name[-1] != '*')
			name--;
		if (!strncmp(name, "common_", strlen("common_")))
			continue;
		/* a declaration the listing cannot carry is left out; a
		 * failing out is the caller's ferror() */
		if (wire_probes_field_write(out, decl) == -EIO)
			return 0;
	}
	return 0;
}

int exec_list(const char *pattern, bool verbose, FILE *out, char **ret_err)
{
	_cleanup_free_ char *tracefs = NULL;
	_cleanup_(strv_freep) char **tps = NULL;
	_cleanup_free_ char **lines = NULL;
	size_t ntps = 0, n = 0, nsw = 0;
	int r;

	r = tracefs_find(&tracefs, ret_err);
	if (r < 0)
		return r;
	r = tp_list_all(tracefs, &tps, &ntps, ret_err);
	if (r < 0)
		return r;
	while (plan_software_event(nsw))
		nsw++;
	lines = calloc(ntps + nsw + 1, sizeof(*lines));
	if (!lines)
		return -ENOMEM;
	/* one buffer of "software:NAME:" strings, freed with the list */
	{
		_cleanup_(strv_freep) char **sw = calloc(nsw + 1, sizeof(*sw));
		_cleanup_(strv_freep) char **tpl = calloc(ntps + 1, sizeof(*tpl));

		if (!sw || !tpl)
			return -ENOMEM;
		for (size_t i = 0; i < nsw; i++) {
			if (asprintf(&sw[i], "software:%s:", plan_software_event(i)) < 0) {
				sw[i] = NULL;
				return -ENOMEM;
			}
			if (matches(pattern, sw[i]))
				lines[n++] = sw[i];
		}
		for (size_t i = 0; i < ntps; i++) {
			if (asprintf(&tpl[i], "tracepoint:%s", tps[i]) < 0) {
				tpl[i] = NULL;
				return -ENOMEM;
			}
			if (matches(pattern, tpl[i]))
				lines[n++] = tpl[i];
		}
		qsort(lines, n, sizeof(*lines), cmp_str);
		for (size_t i = 0; i < n; i++) {
			if (i && !strcmp(lines[i], lines[i - 1]))
				continue;
			/* a name the listing cannot carry is left out, fields and all */
			r = wire_probes_name_write(out, lines[i]);
			if (r == -EINVAL)
				continue;
			if (r < 0)
				break;
			if (verbose && !strncmp(lines[i], "tracepoint:", strlen("tracepoint:"))) {
				r = print_fields(out, tracefs, lines[i] + strlen("tracepoint:"));
				if (r < 0)
					return r;
			}
		}
	}
	if (fflush(out) != 0 || ferror(out))
		return errno == EPIPE ? -EPIPE : -EIO;
	return 0;
}
