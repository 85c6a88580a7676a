// SPDX-License-Identifier: Apache-2.0
/*
 * The request targets of a runner's API (wire/runner-path.h): the
 * gateway's writer and the runner's router.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "lib/errors.h"
#include "wire/detached.h"
#include "wire/runner-path.h"
#include "lib/banned.h"

_Static_assert(WIRE_RPATH_MAX_CLAIMER == WIRE_DET_MAX_CLAIMER, "a claimer's name: one bound");

#define NOT_FOUND "no such path (POST or GET /v1/sessions, GET /v1/sessions/ID/end, /v1/detached, GET /v1/probes, GET /healthz)"

bool wire_rpath_id_ok(const char *s, size_t len)
{
	if (!len || len > WIRE_RPATH_MAX_ID)
		return false;
	for (size_t i = 0; i < len; i++)
		if (!isalnum((unsigned char)s[i]) && s[i] != '-' && s[i] != '_' && s[i] != '.')
			return false;
	return true;
}

/* /v1/sessions/ID/end */
static int decode_end(const char *id, struct wire_rpath *p, char **ret_err)
{
	const char *slash = strchr(id, '/');
	size_t len;

	if (!slash || strcmp(slash, "/end") || slash == id || (len = (size_t)(slash - id)) > WIRE_RPATH_MAX_ID)
		return tg_fail(ret_err, -ENOENT, "no such path (GET /v1/sessions/ID/end)");
	if (!wire_rpath_id_ok(id, len))
		return tg_fail(ret_err, -EINVAL, "session id: only letters, digits, '-', '_' and '.'");
	p->kind = WIRE_RPATH_SESSION_END;
	memcpy(p->id, id, len);
	p->id[len] = '\0';
	return 0;
}

/* /v1/probes[?pattern=GLOB][&verbose=1]: the first pattern= only, any
 * number of verbose=1, empty parameters skipped */
static int decode_probes(const char *target, struct wire_rpath *p, char **ret_err)
{
	const char *q = strchr(target, '?');

	p->kind = WIRE_RPATH_PROBES;
	for (q = q ? q + 1 : NULL; q && *q;) {
		const char *amp = strchr(q, '&');
		size_t n = amp ? (size_t)(amp - q) : strlen(q);

		if (n >= 8 && !strncmp(q, "pattern=", 8) && !p->has_pattern && n - 8 <= WIRE_RPATH_MAX_TARGET) {
			memcpy(p->pattern, q + 8, n - 8);
			p->pattern[n - 8] = '\0';
			p->has_pattern = true;
		} else if (n == 9 && !strncmp(q, "verbose=1", 9)) {
			p->verbose = true;
		} else if (n) {
			return tg_fail(ret_err, -EINVAL, "/v1/probes: query parameters are pattern=GLOB and verbose=1");
		}
		q = amp ? amp + 1 : NULL;
	}
	return 0;
}

/* /v1/detached/ID/claim's query, q from its '?': by=NAME[&again=1] */
static int decode_claim(const char *q, struct wire_rpath *p, char **ret_err)
{
	const char *amp;
	size_t len;

	if (!q || strncmp(q, "?by=", 4))
		return tg_fail(ret_err, -EINVAL, "/v1/detached/ID/claim: the query is by=NAME[&again=1]");
	amp = strchr(q + 4, '&');
	len = amp ? (size_t)(amp - (q + 4)) : strlen(q + 4);
	if ((amp && strcmp(amp, "&again=1")) || len > WIRE_RPATH_MAX_CLAIMER || !wire_rpath_id_ok(q + 4, len))
		return tg_fail(ret_err, -EINVAL, "/v1/detached/ID/claim: by=NAME (1 to 128 letters, digits, '-', "
						 "'_', '.') and at most &again=1");
	p->kind = WIRE_RPATH_DETACHED_CLAIM;
	memcpy(p->by, q + 4, len);
	p->by[len] = '\0';
	p->again = amp != NULL;
	return 0;
}

/* /v1/detached[?namespace=NS], /v1/detached?unclaimed=1, /v1/detached/ID,
 * /v1/detached/ID/log[?follow=1], /v1/detached/ID/claim?by=NAME[&again=1] */
static int decode_detached(const char *target, struct wire_rpath *p, char **ret_err)
{
	const char *path = target + strlen("/v1/detached"), *q = strchr(target, '?');
	size_t plen = q ? (size_t)(q - path) : strlen(path), idlen;
	const char *id, *slash;
	bool claim;
	int r;

	if (plen == 0) {
		if (q && !strcmp(q, "?unclaimed=1")) {
			p->kind = WIRE_RPATH_DETACHED_UNCLAIMED;
			return 0;
		}
		if (q && (strncmp(q, "?namespace=", 11) || strlen(q + 11) > WIRE_RPATH_MAX_NS ||
			  !wire_rpath_id_ok(q + 11, strlen(q + 11))))
			return tg_fail(ret_err, -EINVAL, "/v1/detached: the only queries are namespace=NS and unclaimed=1");
		p->kind = WIRE_RPATH_DETACHED_LIST;
		if (q)
			snprintf(p->ns, sizeof(p->ns), "%s", q + 11);
		return 0;
	}
	if (path[0] != '/')
		return tg_fail(ret_err, -ENOENT, "no such path");
	id = path + 1;
	slash = memchr(id, '/', plen - 1);
	idlen = slash ? (size_t)(slash - id) : plen - 1;
	if (!wire_rpath_id_ok(id, idlen))
		return tg_fail(ret_err, -EINVAL, "session id: 1 to 128 letters, digits, '-', '_' and '.'");
	claim = slash && (size_t)(path + plen - slash) == 6 && !strncmp(slash, "/claim", 6);
	if (slash && !claim && ((size_t)(path + plen - slash) != 4 || strncmp(slash, "/log", 4)))
		return tg_fail(ret_err, -ENOENT,
			       "no such path (/v1/detached/ID, /v1/detached/ID/log or /v1/detached/ID/claim)");
	if (claim) {
		r = decode_claim(q, p, ret_err);
		if (r < 0)
			return r;
	} else {
		if (q && (!slash || strcmp(q, "?follow=1")))
			return tg_fail(ret_err, -EINVAL, "the only query is follow=1, on /v1/detached/ID/log");
		p->kind = slash ? WIRE_RPATH_DETACHED_LOG : WIRE_RPATH_DETACHED;
		p->follow = q != NULL;
	}
	memcpy(p->id, id, idlen);
	p->id[idlen] = '\0';
	return 0;
}

int wire_rpath_decode(const char *target, struct wire_rpath *ret, char **ret_err)
{
	struct wire_rpath p = { 0 };
	int r = 0;

	if (!strcmp(target, "/healthz"))
		p.kind = WIRE_RPATH_HEALTHZ;
	else if (!strncmp(target, "/v1/detached", 12) && (target[12] == '\0' || target[12] == '/' || target[12] == '?'))
		r = decode_detached(target, &p, ret_err);
	else if (!strncmp(target, "/v1/probes", 10) && (target[10] == '\0' || target[10] == '?'))
		r = decode_probes(target, &p, ret_err);
	else if (!strncmp(target, "/v1/sessions/", 13))
		r = decode_end(target + 13, &p, ret_err);
	else if (!strcmp(target, "/v1/sessions"))
		p.kind = WIRE_RPATH_SESSIONS;
	else
		r = tg_fail(ret_err, -ENOENT, NOT_FOUND);
	if (r < 0)
		return r;
	*ret = p;
	return 0;
}

static bool kind_has_id(enum wire_rpath_kind k)
{
	return k == WIRE_RPATH_SESSION_END || k == WIRE_RPATH_DETACHED || k == WIRE_RPATH_DETACHED_LOG ||
	       k == WIRE_RPATH_DETACHED_CLAIM;
}

/* A character a query value carries as it is (a probe pattern's are a
 * few of these: lib/util.h probe_pattern_valid). */
static bool pattern_ok(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s <= 0x20 || (unsigned char)*s >= 0x7f || strchr("&#%", *s))
			return false;
	return true;
}

int wire_rpath_encode(const struct wire_rpath *p, char **ret)
{
	const char *vb = p->verbose ? (p->has_pattern ? "&verbose=1" : "?verbose=1") : "";
	bool id = kind_has_id(p->kind);
	int n;

	if ((id && !wire_rpath_id_ok(p->id, strnlen(p->id, sizeof(p->id)))) ||
	    (p->kind == WIRE_RPATH_DETACHED_CLAIM && (strnlen(p->by, sizeof(p->by)) > WIRE_RPATH_MAX_CLAIMER ||
						      !wire_rpath_id_ok(p->by, strnlen(p->by, sizeof(p->by))))) ||
	    (p->kind == WIRE_RPATH_DETACHED_LIST && *p->ns && !wire_rpath_id_ok(p->ns, strnlen(p->ns, sizeof(p->ns)))) ||
	    (p->kind == WIRE_RPATH_PROBES && p->has_pattern && !pattern_ok(p->pattern)))
		return -EINVAL;
	switch (p->kind) {
	case WIRE_RPATH_HEALTHZ:
		n = asprintf(ret, "/healthz");
		break;
	case WIRE_RPATH_SESSIONS:
		n = asprintf(ret, "/v1/sessions");
		break;
	case WIRE_RPATH_SESSION_END:
		n = asprintf(ret, "/v1/sessions/%s/end", p->id);
		break;
	case WIRE_RPATH_PROBES:
		n = asprintf(ret, "/v1/probes%s%s%s", p->has_pattern ? "?pattern=" : "", p->has_pattern ? p->pattern : "",
			     vb);
		break;
	case WIRE_RPATH_DETACHED_LIST:
		n = asprintf(ret, "/v1/detached%s%s", *p->ns ? "?namespace=" : "", p->ns);
		break;
	case WIRE_RPATH_DETACHED:
		n = asprintf(ret, "/v1/detached/%s", p->id);
		break;
	case WIRE_RPATH_DETACHED_LOG:
		n = asprintf(ret, "/v1/detached/%s/log%s", p->id, p->follow ? "?follow=1" : "");
		break;
	case WIRE_RPATH_DETACHED_UNCLAIMED:
		n = asprintf(ret, "/v1/detached?unclaimed=1");
		break;
	case WIRE_RPATH_DETACHED_CLAIM:
		n = asprintf(ret, "/v1/detached/%s/claim?by=%s%s", p->id, p->by, p->again ? "&again=1" : "");
		break;
	default:
		return -EINVAL;
	}
	if (n < 0) {
		*ret = NULL;
		return -ENOMEM;
	}
	if ((size_t)n > WIRE_RPATH_MAX_TARGET) {
		free(*ret);
		*ret = NULL;
		return -EINVAL;
	}
	return 0;
}

bool wire_rpath_equal(const struct wire_rpath *a, const struct wire_rpath *b)
{
	if (a->kind != b->kind || (kind_has_id(a->kind) && strcmp(a->id, b->id)))
		return false;
	switch (a->kind) {
	case WIRE_RPATH_PROBES:
		return a->has_pattern == b->has_pattern && a->verbose == b->verbose &&
		       (!a->has_pattern || !strcmp(a->pattern, b->pattern));
	case WIRE_RPATH_DETACHED_LIST:
		return !strcmp(a->ns, b->ns);
	case WIRE_RPATH_DETACHED_LOG:
		return a->follow == b->follow;
	case WIRE_RPATH_DETACHED_CLAIM:
		return a->again == b->again && !strcmp(a->by, b->by);
	default:
		return true;
	}
}
