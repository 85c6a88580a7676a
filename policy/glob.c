/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Glob parts of attach points and policy patterns (policy-internal.h),
 * erring towards denial.  Used by the policy check (policy-check.c) and the
 * tracepoint field rules (tpfields-check.c).
 */
#include <fnmatch.h>
#include <string.h>
#include "policy/policy-internal.h"

/* Characters that make an attach part stand for more than itself. */
bool tg_glob_is_wild(const char *s)
{
	return strpbrk(s, "*?[$") != NULL;
}

size_t tg_glob_literal_prefix(const char *s)
{
	return strcspn(s, "*?[$\\");
}

/* Does pattern part pat match every string part s can stand for? */
bool tg_glob_covers(const char *pat, const char *s)
{
	size_t pl;

	if (!tg_glob_is_wild(s))
		return fnmatch(pat, s, 0) == 0;
	if (!strcmp(pat, "*"))
		return true;
	pl = tg_glob_literal_prefix(pat);
	/* pattern = literal prefix then one trailing "*" */
	return pat[pl] == '*' && pat[pl + 1] == '\0' && strncmp(pat, s, pl) == 0 && tg_glob_literal_prefix(s) >= pl;
}

/* Might pattern part pat match some string part s can stand for? */
bool tg_glob_overlaps(const char *pat, const char *s)
{
	size_t a, b;

	if (!tg_glob_is_wild(s))
		return fnmatch(pat, s, 0) == 0;
	a = tg_glob_literal_prefix(pat);
	b = tg_glob_literal_prefix(s);
	return strncmp(pat, s, a < b ? a : b) == 0;
}
