// SPDX-License-Identifier: Apache-2.0
/*
 * Re-authorization of a running stream (docs/internals/gateway.md,
 * "Re-authorization").  Every SubjectAccessReview the start needed
 * (impersonation, create traces, get pods or the workload) is noted as it
 * is asked; once the stream runs, every decision-cache TTL they are asked
 * again of the API server, never of the cache (the answers refresh it).
 * A denial, or a re-check that cannot be made (fail closed), ends the
 * trace as a graceful stop does (END runs, maps come) with end reason
 * `revoked` and a message naming the permission; a pod target that is
 * gone (404, or a new pod of the same name) ends it with `target-gone`.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <event2/event.h>
#include "gateway/config.h"
#include "gateway/httpc.h"
#include "gateway/status.h"
#include "gateway/trace-int.h"
#include "gateway/watch.h"
#include "lib/cleanup.h"
#include "lib/errors.h"
#include "lib/log.h"
#include "kube/cache.h"
#include "lib/banned.h"

/* One review of the start, with its own copies of the attributes. */
struct reauth_sar {
	char *f[7];          /* namespace, verb, group, version, resource, subresource, name */
	bool as_real;        /* an impersonation review: asked for the authenticated user */
};

struct trace_reauth {
	struct reauth_sar *sars;
	size_t nsars, next;
	struct event *timer;
	struct kube_request kreq;
	struct httpc_xfer *x;
	bool checking_pod;
};

static char *reauth_msg(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *reauth_msg(const char *fmt, ...)
{
	va_list ap;
	char *s = NULL;

	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0)
		s = NULL;
	va_end(ap);
	return s;
}

static void reauth_attrs(const struct reauth_sar *s, struct kube_resource_attrs *a)
{
	*a = (struct kube_resource_attrs){ .namespace = s->f[0], .verb = s->f[1], .group = s->f[2],
					   .version = s->f[3], .resource = s->f[4],
					   .subresource = s->f[5], .name = s->f[6] };
}

static struct trace_reauth *reauth_get(struct trace_req *t)
{
	if (!t->reauth)
		t->reauth = calloc(1, sizeof(*t->reauth));
	return t->reauth;
}

int trace_reauth_note(struct trace_req *t, const struct kube_resource_attrs *a, bool as_real)
{
	struct trace_reauth *ra = reauth_get(t);
	const char *src[7] = { a->namespace, a->verb, a->group, a->version, a->resource,
			       a->subresource, a->name };
	struct reauth_sar *n, *s;

	if (!ra)
		return -ENOMEM;
	n = realloc(ra->sars, (ra->nsars + 1) * sizeof(*n));
	if (!n)
		return -ENOMEM;
	ra->sars = n;
	s = &n[ra->nsars];
	*s = (struct reauth_sar){ .as_real = as_real };
	for (size_t i = 0; i < 7; i++) {
		if (!src[i])
			continue;
		s->f[i] = strdup(src[i]);
		if (!s->f[i]) {
			for (size_t k = 0; k < i; k++)
				free(s->f[k]);
			return -ENOMEM;
		}
	}
	ra->nsars++;
	return 0;
}

void trace_reauth_free(struct trace_req *t)
{
	struct trace_reauth *ra = t->reauth;

	if (!ra)
		return;
	if (ra->x)
		httpc_xfer_cancel(ra->x);
	kube_request_release(&ra->kreq);
	if (ra->timer)
		event_free(ra->timer);
	for (size_t i = 0; i < ra->nsars; i++)
		for (size_t k = 0; k < 7; k++)
			free(ra->sars[i].f[k]);
	free(ra->sars);
	free(ra);
	t->reauth = NULL;
}

static unsigned reauth_period_s(const struct trace_req *t)
{
	unsigned s = t->gw->cfg->allowed_ttl_s;

	return s ? s : GW_DEFAULT_ALLOWED_TTL_S;
}

/* Ends the trace gracefully: why is the end reason, msg the message. */
static void reauth_end(struct trace_req *t, const char *why, const char *msg)
{
	log_warn("trace %s: %s: %s", t->trace_id, why, msg);
	t->flow->stop_by_gateway(t, why, msg);
}

static void reauth_next(struct trace_req *t);

static void reauth_done(int result, long status, const char *body, size_t len, const char *err,
			void *ud)
{
	struct trace_req *t = ud;
	struct trace_reauth *ra = t->reauth;
	_cleanup_free_ char *reason = NULL, *perr = NULL, *msg = NULL;
	struct kube_resource_attrs a;
	const struct reauth_sar *s;
	const struct kube_user *u;
	bool allowed = false;
	int r;

	ra->x = NULL;
	kube_request_release(&ra->kreq);
	if (t->finishing || t->stop_requested || t->client_left)
		return;
	if (ra->checking_pod) {
		struct kube_pod pod = { 0 };

		ra->checking_pod = false;
		r = result < 0 ? result : kube_pod_parse(status, body, len, &pod, &perr);
		if (r == -TG_ENOTFOUND) {
			msg = reauth_msg("pod \"%s\" in namespace \"%s\" was deleted: the trace ends",
					  t->pods[0].name, t->pods[0].namespace);
		} else if (r < 0) {
			msg = reauth_msg("target pod \"%s\" cannot be re-checked: API server unavailable: %s",
					  t->pods[0].name, perr ? perr : err ? err : tg_strerror(r));
			reauth_end(t, "revoked", msg ? msg : "target pod cannot be re-checked");
			return;
		} else if (!pod.uid || !t->pods[0].uid || strcmp(pod.uid, t->pods[0].uid) ||
			   !pod.node || strcmp(pod.node, t->pods[0].node)) {
			msg = reauth_msg("pod \"%s\" in namespace \"%s\" was replaced (uid %s, node %s): the trace ends",
					  t->pods[0].name, t->pods[0].namespace,
					  pod.uid ? pod.uid : "?", pod.node ? pod.node : "none");
		}
		kube_pod_release(&pod);
		if (msg) {
			reauth_end(t, "target-gone", msg);
			return;
		}
		reauth_next(t);
		return;
	}
	s = &ra->sars[ra->next];
	reauth_attrs(s, &a);
	u = s->as_real && t->impersonating ? &t->real_user : &t->user;
	if (result < 0)
		r = result;
	else if (t->gw->sar_cache)
		r = kube_sar_cache_parse_store(t->gw->sar_cache, u, &a, status, body, len, &allowed,
					       &reason, &perr);
	else
		r = kube_sar_parse(status, body, len, &allowed, &reason, &perr);
	if (r < 0) {
		msg = reauth_msg("authorization cannot be re-checked (%s %s in namespace \"%s\"): API server unavailable: %s",
				  a.verb, a.resource, a.namespace ? a.namespace : "",
				  perr ? perr : err ? err : tg_strerror(r));
		reauth_end(t, "revoked", msg ? msg : "authorization cannot be re-checked");
		return;
	}
	if (!allowed) {
		_cleanup_free_ char *fm = status_forbidden_message(u->username, a.verb, a.group,
								  a.resource, a.namespace, a.name,
								  NULL);

		msg = reauth_msg("permission revoked: %s", fm ? fm : a.verb);
		reauth_end(t, "revoked", msg ? msg : "permission revoked");
		return;
	}
	ra->next++;
	reauth_next(t);
}

static int reauth_fetch(struct trace_req *t)
{
	return gw_kube_fetch(t->gw, &t->reauth->kreq, reauth_done, t, &t->reauth->x);
}

static void reauth_arm(struct trace_req *t)
{
	struct timeval tv = { .tv_sec = reauth_period_s(t) };

	if (evtimer_add(t->reauth->timer, &tv) < 0)
		log_error("trace %s: re-authorization timer not set", t->trace_id);
}

/* The next review of the round, then the target pod, then the next round. */
static void reauth_next(struct trace_req *t)
{
	struct trace_reauth *ra = t->reauth;
	struct kube_resource_attrs a;
	const struct reauth_sar *s;
	const char *what;
	int r;

	if (ra->next < ra->nsars) {
		s = &ra->sars[ra->next];
		reauth_attrs(s, &a);
		r = kube_sar_request(s->as_real && t->impersonating ? &t->real_user : &t->user, &a,
				     &ra->kreq);
		what = "subjectaccessreview";
	} else if (!ra->checking_pod && ra->next == ra->nsars && !t->tb.kind && !t->tb.selector && t->npods == 1) {
		ra->next++;
		ra->checking_pod = true;
		r = kube_pod_get_request(t->pods[0].namespace, t->pods[0].name, &ra->kreq);
		what = "pod get";
	} else {
		ra->next = 0;
		reauth_arm(t);
		return;
	}
	if (r == 0)
		r = reauth_fetch(t);
	if (r < 0) {
		_cleanup_free_ char *msg = reauth_msg("authorization cannot be re-checked: %s: %s",
						       what, tg_strerror(r));

		ra->checking_pod = false;
		kube_request_release(&ra->kreq);
		reauth_end(t, "revoked", msg ? msg : "authorization cannot be re-checked");
	}
}

static void reauth_due(evutil_socket_t fd, short what, void *ud)
{
	struct trace_req *t = ud;

	(void)fd;
	(void)what;
	if (t->finishing || t->stop_requested || t->client_left || t->reauth->x)
		return;
	t->reauth->next = 0;
	reauth_next(t);
}

int trace_reauth_start(struct trace_req *t)
{
	struct trace_reauth *ra = reauth_get(t);

	if (!ra)
		return -ENOMEM;
	ra->timer = evtimer_new(t->gw->base, reauth_due, t);
	if (!ra->timer)
		return -ENOMEM;
	reauth_arm(t);
	return 0;
}
