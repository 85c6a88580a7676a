/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Audit events in the shape of audit.k8s.io/v1 Event (see
 * /work/shared/reference/kubernetes.md section 5 and docs/audit.md), plus
 * tracegate's own fields under "tracegate".  Pure: fields in, JSON out.
 *
 * Every byte of requestURI, userAgent and verb is the client's: the
 * builder bounds them and makes them safe for one JSON line (valid UTF-8,
 * no control characters), whatever the caller passes.
 *
 * Also here: the bound on records of requests refused before
 * authentication (struct gw_refusals), also pure (the clock is passed in).
 */
#ifndef TG_GATEWAY_EVENT_H
#define TG_GATEWAY_EVENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <jansson.h>
#include "gateway/config.h"
#include "lib/buf.h"
#include "kube/kube.h"

/* Client text kept in a record, in bytes of the recorded (UTF-8) string
 * before JSON escaping; a cut value ends in GW_EVENT_TRUNCATED and is
 * still within the limit. */
#define GW_EVENT_MAX_URI        2048
#define GW_EVENT_MAX_USER_AGENT 1024  /* as the Kubernetes API server's maxUserAgentLength */
#define GW_EVENT_MAX_VERB       32
/* responseStatus.message and the reason annotation of a record without an
 * authenticated user (an API server's error text may be long) */
#define GW_EVENT_MAX_MESSAGE    1024
#define GW_EVENT_TRUNCATED      "...TRUNCATED"
/* The largest record of a request refused before authentication that the
 * gateway writes (chain fields and HMAC included); tested. */
#define GW_EVENT_MAX_REFUSAL_RECORD 8192

struct gw_event {
	const char *audit_id;
	const char *stage;            /* "ResponseStarted", "ResponseComplete" */
	const char *request_uri;
	const char *verb;             /* "create"; NULL: "create" */
	const struct kube_user *user; /* NULL: not authenticated (system:anonymous) */
	const struct kube_user *impersonated; /* impersonatedUser, or NULL */
	const char *source_ip;        /* NULL: no sourceIPs */
	const char *user_agent;       /* may be NULL */
	const char *ns;               /* objectRef.namespace */
	const char *name;             /* objectRef.name: the target as written, or NULL */
	const char *subresource;      /* objectRef.subresource ("log"), or NULL */
	const char *resource;         /* objectRef.resource; NULL: "traces" */
	int code;                     /* responseStatus.code */
	const char *message;          /* responseStatus.message for failures */
	uint64_t received_ns;         /* wall clock */
	uint64_t stage_ns;
	const char *decision;         /* "allow" / "forbid" */
	const char *reason;           /* authorization.k8s.io/reason */
	json_t *tracegate;            /* borrowed; may be NULL */
	bool non_resource;            /* no objectRef: the path names no resource */
};

json_t *gw_event_build(const struct gw_event *ev);

/* What a detached trace's create was recorded with, which the record of
 * its end on one node repeats. */
struct gw_detached_start {
	const char *audit_id;
	const char *ns;
	const char *target;           /* objectRef.name */
	const char *user;             /* the owner */
	char **groups;                /* the owner's; NULL-terminated */
	const char *requester;        /* who impersonated the owner, or NULL */
};

/* The ResponseComplete record of a detached trace's end on one node, as
 * its create was recorded (the impersonator as user, the owner as
 * impersonatedUser), with reason and tracegate (borrowed) telling how it
 * ended. */
json_t *gw_event_detached_end(const struct gw_detached_start *s, const char *reason, json_t *tracegate,
			      uint64_t now_real_ns);
/*
 * The same record serialized for the audit log (audit_log_write_text):
 * the bytes json_dump_sorted would make of gw_event_build's tree,
 * appended to out without building it.  0, -ENOMEM, -E2BIG at out's
 * maximum.
 */
int gw_event_format(const struct gw_event *ev, struct buf *out);
/* A random (version 4) UUID, 36 characters and NUL. */
int gw_uuid(char out[37]);

/*
 * requestURI as recorded: s[0..len) with every byte outside '!'..'~'
 * percent-encoded (%XX), at most GW_EVENT_MAX_URI bytes.  Applying it
 * again changes nothing.  NULL only without memory.
 */
char *gw_event_uri(const char *s, size_t len);
/*
 * Client text as recorded: valid UTF-8 kept; each invalid byte, control
 * character (C0, DEL, C1) and U+2028/U+2029 becomes U+FFFD; at most max
 * bytes (max > strlen(GW_EVENT_TRUNCATED)).  Idempotent.  NULL only
 * without memory.
 */
char *gw_event_text(const char *s, size_t len, size_t max);
/*
 * The audit verb for a method (raw bytes): for the traces collection
 * (resource) the Kubernetes verb (POST create, GET/HEAD list, PUT update,
 * PATCH patch, DELETE deletecollection); otherwise, as Kubernetes does
 * for non-resource requests, the method in lower case.  Bounded to
 * GW_EVENT_MAX_VERB and made safe like gw_event_text; "" for no method.
 */
char *gw_event_verb(const char *method, size_t len, bool resource);

/*
 * The bound on records of refusals before authentication (limits in
 * struct gw_refusal_limits, config "audit.refusals").  Each source (an
 * IPv4 address, or the /64 of an IPv6 one) has a token bucket, and all
 * sources share one; a record is written only when both have a token.
 * Sources beyond max_sources that cannot take the place of an idle one
 * share the total bucket only and are summarized together.  A refusal
 * that is not written is counted, and gw_refusals_flush turns the counts
 * into summary records, so that nothing disappears silently.  Records of
 * authenticated requests never come here.
 */
struct gw_refusals;

int gw_refusals_new(const struct gw_refusal_limits *lim, struct gw_refusals **ret);
struct gw_refusals *gw_refusals_free(struct gw_refusals *rl);
/* true: write the record now; false: it was counted for a summary.
 * source is the peer address as text; mono_ns a monotonic clock, wall_ns
 * the wall clock (for the summary's times). */
bool gw_refusals_admit(struct gw_refusals *rl, const char *source, int code, uint64_t mono_ns,
		       uint64_t wall_ns);
/*
 * The summary records of what was counted since the last flush, as a
 * JSON array of audit events (empty when nothing was counted), and the
 * counts are reset.  At most max_summaries records: the sources with
 * the most suppressed refusals get one each, the rest one together;
 * with all set (shutdown), one per source.  NULL only without memory
 * (the counts are kept).
 */
json_t *gw_refusals_flush(struct gw_refusals *rl, uint64_t wall_ns, bool all);

struct gw_refusals_stats {
	uint64_t admitted;       /* records let through */
	uint64_t suppressed;     /* counted instead */
	uint64_t pending;        /* counted, not yet in a summary */
	size_t sources;          /* sources tracked now */
};
void gw_refusals_stats(const struct gw_refusals *rl, struct gw_refusals_stats *ret);

#endif
