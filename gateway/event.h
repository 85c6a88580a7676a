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

/*
 * The end fields of a record's "tracegate" object: how a trace (or one
 * node's session of a detached trace) ended and what it counted
 * (docs/audit.md, the `tracegate` table, "Traces cut by a gateway
 * restart", "Detached traces' ends").  gw_audit_end_to_json() is every
 * writer's (a trace's ResponseComplete, a detached end, a runner-lost
 * end, the end written after a restart), gw_audit_end_from_json() every
 * reader's (the scan at start, `tracegate audit query`), and
 * from_json(to_json(e)) gives e back (tests/unit/test-gateway-audit.c,
 * tests/fuzz/fuzz-gateway-audit-end.c).
 *
 * Each count is written twice, flat ("events") and in "counts" (read from
 * either: older gateways wrote one of them; both must agree); "bytes" only
 * where it is known (not after a restart).  countsMissing is `true` on a detached node's end
 * whose runner lost it (no counts at all), {node: why} on a trace ended
 * after a restart (those nodes' counts are zero).
 *
 * Strict on what it knows: a member of the wrong type or beyond its bound,
 * counts that disagree, a claimedBy other than the four paths, are refused
 * with -EINVAL and a message naming the member.  The other members of the
 * tracegate object (the decision's) are not its business and are skipped,
 * as readers of the log skip fields they do not know.
 */
#define GW_AUDIT_END_MAX_REASON  32            /* endReason, nodeEndReasons' values */
#define GW_AUDIT_END_MAX_MESSAGE (64u * 1024)  /* endMessage, countsMissing's whys */
#define GW_AUDIT_END_MAX_NAME    253           /* node names */
#define GW_AUDIT_END_MAX_NODES   4096          /* nodeEndReasons, failedNodes, countsMissing */
#define GW_AUDIT_END_MAX_CLAIMER 128           /* WIRE_DET_MAX_CLAIMER */

/* Which optional members an end has (struct gw_audit_end.has). */
enum {
	GW_AUDIT_END_EVENTS = 1u << 0,
	GW_AUDIT_END_DROPS = 1u << 1,
	GW_AUDIT_END_MAP_DROPS = 1u << 2,
	GW_AUDIT_END_BYTES = 1u << 3,
	GW_AUDIT_END_CPU_NS = 1u << 4,
	GW_AUDIT_END_EXIT_CODE = 1u << 5,
	GW_AUDIT_END_NODE_REASONS = 1u << 6, /* nodeEndReasons, maybe empty */
	GW_AUDIT_END_FAILED = 1u << 7,       /* failedNodes, maybe empty */
};
#define GW_AUDIT_END_COUNTS \
	(GW_AUDIT_END_EVENTS | GW_AUDIT_END_DROPS | GW_AUDIT_END_MAP_DROPS | GW_AUDIT_END_CPU_NS)

/* A node and a text about it: its end reason, why its counts are missing. */
struct gw_audit_node {
	char *node;
	char *text;
};

struct gw_audit_end {
	char *reason;                  /* endReason; NULL: not an end */
	char *message;                 /* endMessage: why the gateway ended it, a runner's message */
	unsigned has;                  /* GW_AUDIT_END_* */
	uint64_t events, drops, map_drops, bytes, cpu_ns;
	int exit_code;
	struct gw_audit_node *node_reasons; /* nodeEndReasons {node: reason} */
	size_t nnode_reasons;
	char **failed_nodes;           /* failedNodes */
	size_t nfailed_nodes;
	bool counts_missing;           /* countsMissing: true (no counts at all) */
	struct gw_audit_node *missing; /* countsMissing: {node: why}; not with counts_missing */
	size_t nmissing;
	bool after_restart;            /* afterRestart */
	bool detached_end;             /* detachedEnd */
	char *node;                    /* node, and nodes [node]: a detached end's */
	char *claimed_by;              /* claimedBy: poll, delete, log, restart */
	char *claimer;                 /* claimer: the claiming gateway's name */
};

/* The end's members set into tg (a record's "tracegate" object): 0,
 * -ENOMEM, -EINVAL for countsMissing given both ways. */
int gw_audit_end_to_json(const struct gw_audit_end *e, json_t *tg);
/* tg's end members to *ret, strict (above): 0, or -EINVAL with *ret_err
 * naming the member ("tracegate.events: ..."), -ENOMEM.  On failure *ret is
 * untouched. */
int gw_audit_end_from_json(json_t *tg, struct gw_audit_end *ret, char **ret_err);
void gw_audit_end_release(struct gw_audit_end *e);
bool gw_audit_end_equal(const struct gw_audit_end *a, const struct gw_audit_end *b);
/* Appends {node, text} copies: 0, -ENOMEM (nothing appended). */
int gw_audit_node_push(struct gw_audit_node **v, size_t *n, const char *node, const char *text);

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
