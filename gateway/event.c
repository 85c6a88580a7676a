// SPDX-License-Identifier: Apache-2.0
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <pthread.h>
#include <openssl/rand.h>
#include "gateway/event.h"
#include "gateway/status.h"
#include "lib/cleanup.h"
#include "lib/cleanup-json.h"
#include "lib/jsondump.h"
#include "lib/errors.h"
#include "lib/util.h"
#include "wire/fields.h"
#include "lib/banned.h"

/*
 * Random bytes for UUIDs, drawn from OpenSSL's DRBG a pool at a time:
 * each RAND_bytes call costs a getpid(2) (its fork check), two for every
 * request otherwise.  The pool is per thread, wiped as it is handed out,
 * and emptied in a forked child so that parent and child never share IDs.
 */
#define UUID_POOL 1024

static _Thread_local unsigned char uuid_pool[UUID_POOL];
static _Thread_local size_t uuid_left;
static pthread_once_t uuid_once = PTHREAD_ONCE_INIT;

static void uuid_forked(void)
{
	explicit_bzero(uuid_pool, sizeof(uuid_pool));
	uuid_left = 0;
}

static void uuid_at_fork(void)
{
	(void)pthread_atfork(NULL, NULL, uuid_forked);
}

static int uuid_bytes(unsigned char *b, size_t n)
{
	unsigned char *from;

	(void)pthread_once(&uuid_once, uuid_at_fork);
	if (uuid_left < n) {
		if (RAND_bytes(uuid_pool, sizeof(uuid_pool)) != 1)
			return -EIO;
		uuid_left = sizeof(uuid_pool);
	}
	from = uuid_pool + sizeof(uuid_pool) - uuid_left;
	memcpy(b, from, n);
	explicit_bzero(from, n);
	uuid_left -= n;
	return 0;
}

int gw_uuid(char out[37])
{
	unsigned char b[16];

	if (uuid_bytes(b, sizeof(b)) < 0)
		return -EIO;
	b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);
	b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
	snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
		 b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12],
		 b[13], b[14], b[15]);
	return 0;
}

/* ---- client text, bounded and safe ---------------------------------------- */

/*
 * Output of at most max bytes, built piece by piece (a piece is never
 * split).  When the whole would not fit, it is the longest run of pieces
 * that leaves room for GW_EVENT_TRUNCATED, then that marker: so the
 * result is never longer than max, and a result run through again is
 * unchanged.
 */
struct capped {
	char *s;
	size_t len, max, keep;    /* keep: length at the last piece boundary with room for the marker */
	bool cut;
};

static int capped_init(struct capped *c, size_t in_len, size_t max)
{
	size_t alloc = in_len > (SIZE_MAX - 1) / 3 ? SIZE_MAX - 1 : in_len * 3;

	if (alloc > max)
		alloc = max;
	*c = (struct capped){ .max = max };
	c->s = malloc(alloc + 1);
	return c->s ? 0 : -ENOMEM;
}

/* false once the output is cut: nothing more goes in */
static bool capped_add(struct capped *c, const char *p, size_t n)
{
	size_t room = sizeof(GW_EVENT_TRUNCATED) - 1;

	if (c->cut)
		return false;
	if (n > c->max - c->len) {
		memcpy(c->s + c->keep, GW_EVENT_TRUNCATED, room);
		c->len = c->keep + room;
		c->cut = true;
		return false;
	}
	memcpy(c->s + c->len, p, n);
	c->len += n;
	if (c->max - c->len >= room)
		c->keep = c->len;
	return true;
}

static char *capped_end(struct capped *c)
{
	c->s[c->len] = '\0';
	return c->s;
}

/* The valid UTF-8 sequence at s (n > 0 bytes left): its length and code
 * point, or 0 when s[0] does not start one.  The rules are jansson's:
 * no overlong forms, no surrogates, nothing above U+10FFFF. */
static size_t utf8_next(const unsigned char *s, size_t n, uint32_t *ret_cp)
{
	unsigned char c = s[0], lo = 0x80, hi = 0xbf;

	if (c < 0x80) {
		*ret_cp = c;
		return 1;
	}
	if (c >= 0xc2 && c <= 0xdf) {
		if (n < 2 || (s[1] & 0xc0) != 0x80)
			return 0;
		*ret_cp = (uint32_t)(c & 0x1f) << 6 | (s[1] & 0x3f);
		return 2;
	}
	if (c >= 0xe0 && c <= 0xef) {
		if (c == 0xe0)
			lo = 0xa0;
		else if (c == 0xed)
			hi = 0x9f;
		if (n < 3 || s[1] < lo || s[1] > hi || (s[2] & 0xc0) != 0x80)
			return 0;
		*ret_cp = (uint32_t)(c & 0x0f) << 12 | (uint32_t)(s[1] & 0x3f) << 6 | (s[2] & 0x3f);
		return 3;
	}
	if (c >= 0xf0 && c <= 0xf4) {
		if (c == 0xf0)
			lo = 0x90;
		else if (c == 0xf4)
			hi = 0x8f;
		if (n < 4 || s[1] < lo || s[1] > hi || (s[2] & 0xc0) != 0x80 || (s[3] & 0xc0) != 0x80)
			return 0;
		*ret_cp = (uint32_t)(c & 0x07) << 18 | (uint32_t)(s[1] & 0x3f) << 12 |
			  (uint32_t)(s[2] & 0x3f) << 6 | (s[3] & 0x3f);
		return 4;
	}
	return 0;
}

#define REPLACEMENT "\xef\xbf\xbd"   /* U+FFFD */

static char *text_clean(const char *s, size_t len, size_t max, bool keep_controls)
{
	const unsigned char *p = (const unsigned char *)(s ? s : "");
	struct capped c;

	if (!s)
		len = 0;
	if (capped_init(&c, len, max) < 0)
		return NULL;
	for (size_t i = 0; i < len;) {
		uint32_t cp = 0;
		size_t n = utf8_next(p + i, len - i, &cp);
		bool control = cp < 0x20 || cp == 0x7f || (cp >= 0x80 && cp <= 0x9f) ||
			       cp == 0x2028 || cp == 0x2029;

		if (n == 0 || (control && !keep_controls)) {
			if (!capped_add(&c, REPLACEMENT, 3))
				break;
			i += n ? n : 1;
			continue;
		}
		if (!capped_add(&c, (const char *)p + i, n))
			break;
		i += n;
	}
	return capped_end(&c);
}

char *gw_event_text(const char *s, size_t len, size_t max)
{
	if (max <= sizeof(GW_EVENT_TRUNCATED) - 1)
		max = sizeof(GW_EVENT_TRUNCATED);
	return text_clean(s, len, max, false);
}

char *gw_event_uri(const char *s, size_t len)
{
	static const char hex[] = "0123456789ABCDEF";
	struct capped c;

	if (!s)
		len = 0;
	if (capped_init(&c, len, GW_EVENT_MAX_URI) < 0)
		return NULL;
	for (size_t i = 0; i < len; i++) {
		unsigned char b = (unsigned char)s[i];
		char esc[3] = { '%', hex[b >> 4], hex[b & 15] };
		bool ok = b > 0x20 && b < 0x7f ? capped_add(&c, s + i, 1) : capped_add(&c, esc, 3);

		if (!ok)
			break;
	}
	return capped_end(&c);
}

char *gw_event_verb(const char *method, size_t len, bool resource)
{
	static const struct { const char *method, *verb; } kube[] = {
		{ "POST", "create" }, { "GET", "list" }, { "HEAD", "list" }, { "PUT", "update" },
		{ "PATCH", "patch" }, { "DELETE", "deletecollection" },
	};
	_cleanup_free_ char *lower = NULL;

	if (!method)
		len = 0;
	for (size_t i = 0; resource && i < sizeof(kube) / sizeof(kube[0]); i++)
		if (len == strlen(kube[i].method) && !memcmp(method, kube[i].method, len))
			return strdup(kube[i].verb);
	/* only the first bytes can be kept: the rest is not looked at */
	if (len > GW_EVENT_MAX_VERB + 1)
		len = GW_EVENT_MAX_VERB + 1;
	lower = malloc(len + 1);
	if (!lower)
		return NULL;
	for (size_t i = 0; i < len; i++)
		lower[i] = method[i] >= 'A' && method[i] <= 'Z' ? (char)(method[i] - 'A' + 'a') : method[i];
	return gw_event_text(lower, len, GW_EVENT_MAX_VERB);
}

/* ---- the event -------------------------------------------------------------- */

static json_t *event_user(const struct kube_user *u)
{
	json_t *j, *groups;

	if (!u || !u->username)
		return json_pack("{s:s, s:[s]}", "username", "system:anonymous", "groups",
				 "system:unauthenticated");
	groups = json_array();
	for (char **g = u->groups; g && *g; g++)
		json_array_append_new(groups, json_string(*g));
	j = json_pack("{s:s, s:o}", "username", u->username, "groups", groups);
	if (j && u->uid && *u->uid)
		json_object_set_new(j, "uid", json_string(u->uid));
	if (j && json_is_object(u->extra) && json_object_size(u->extra))
		json_object_set(j, "extra", u->extra);
	return j;
}

/* A string field that must always be present: text made valid UTF-8. */
static int event_set_text(json_t *j, const char *key, const char *s, size_t max, bool controls)
{
	_cleanup_free_ char *clean = NULL;

	if (!s)
		return 0;
	clean = text_clean(s, strlen(s), max, controls);
	if (!clean)
		return -ENOMEM;
	return json_object_set_new(j, key, json_string(clean)) < 0 ? -ENOMEM : 0;
}

json_t *gw_event_build(const struct gw_event *ev)
{
	_cleanup_(json_decrefp) json_t *j = NULL;
	_cleanup_free_ char *uri = NULL;
	json_t *obj, *status, *ann;
	char received[32], staged[32];
	/* before authentication every field is bounded (docs/audit.md) */
	size_t msg_max = ev->user && ev->user->username ? SIZE_MAX : GW_EVENT_MAX_MESSAGE;

	format_rfc3339_us(ev->received_ns, received);
	format_rfc3339_us(ev->stage_ns, staged);
	j = json_pack("{s:s, s:s, s:s, s:s, s:s, s:o, s:s, s:s}", "kind", "Event", "apiVersion",
		      "audit.k8s.io/v1", "level", "Metadata", "auditID", ev->audit_id, "stage",
		      ev->stage, "user", event_user(ev->user), "requestReceivedTimestamp", received,
		      "stageTimestamp", staged);
	if (!j)
		return NULL;
	if (ev->impersonated && ev->impersonated->username &&
	    json_object_set_new(j, "impersonatedUser", event_user(ev->impersonated)) < 0)
		return NULL;
	if (event_set_text(j, "verb", ev->verb ? ev->verb : "create", GW_EVENT_MAX_VERB, false) < 0)
		return NULL;
	if (ev->source_ip) {
		_cleanup_free_ char *ip = text_clean(ev->source_ip, strlen(ev->source_ip), 64, false);

		if (!ip || json_object_set_new(j, "sourceIPs", json_pack("[s]", ip)) < 0)
			return NULL;
	}
	if (ev->request_uri) {
		uri = gw_event_uri(ev->request_uri, strlen(ev->request_uri));
		if (!uri || json_object_set_new(j, "requestURI", json_string(uri)) < 0)
			return NULL;
	}
	if (event_set_text(j, "userAgent", ev->user_agent, GW_EVENT_MAX_USER_AGENT, false) < 0)
		return NULL;
	if (!ev->non_resource) {
		obj = json_pack("{s:s, s:s, s:s}", "resource", ev->resource ? ev->resource : "traces",
				"apiGroup", "tracegate.dev",
				"apiVersion", "v1alpha1");
		if (!obj || json_object_set_new(j, "objectRef", obj) < 0)
			return NULL;
		if (event_set_text(obj, "namespace", ev->ns, msg_max, true) < 0 ||
		    event_set_text(obj, "name", ev->name, msg_max, true) < 0 ||
		    (ev->subresource && event_set_text(obj, "subresource", ev->subresource, msg_max, true) < 0))
			return NULL;
	}
	if (ev->code) {
		status = json_pack("{s:{}, s:i}", "metadata", "code", ev->code);
		if (!status || json_object_set_new(j, "responseStatus", status) < 0)
			return NULL;
		if (ev->code >= 300) {
			json_object_set_new(status, "status", json_string("Failure"));
			json_object_set_new(status, "reason", json_string(status_reason(ev->code)));
			if (event_set_text(status, "message", ev->message, msg_max, true) < 0)
				return NULL;
		}
	}
	ann = json_object();
	if (!ann || json_object_set_new(j, "annotations", ann) < 0)
		return NULL;
	if (ev->decision)
		json_object_set_new(ann, "authorization.k8s.io/decision", json_string(ev->decision));
	if (event_set_text(ann, "authorization.k8s.io/reason", ev->reason, msg_max, true) < 0)
		return NULL;
	if (ev->tracegate)
		json_object_set(j, "tracegate", ev->tracegate);
	return TAKE_PTR(j);
}

json_t *gw_event_detached_end(const struct gw_detached_start *s, const char *reason, json_t *tracegate,
			      uint64_t now_real_ns)
{
	_cleanup_free_ char *uri = NULL;
	struct kube_user owner = { .username = (char *)s->user, .groups = s->groups };
	struct kube_user requester = { .username = (char *)s->requester };

	if (asprintf(&uri, "/apis/tracegate.dev/v1alpha1/namespaces/%s/traces", s->ns) < 0)
		return NULL;
	return gw_event_build(&(struct gw_event){
		.audit_id = s->audit_id,
		.stage = "ResponseComplete",
		.request_uri = uri,
		.verb = "create",
		.user = s->requester ? &requester : &owner,
		.impersonated = s->requester ? &owner : NULL,
		.ns = s->ns,
		.name = s->target,
		.code = 200,
		.received_ns = now_real_ns,
		.stage_ns = now_real_ns,
		.decision = "allow",
		.reason = reason,
		.tracegate = tracegate,
	});
}

/*
 * The record gw_event_build would make, serialized as json_dump_sorted
 * would serialize it, written straight from ev: building the tree and
 * freeing it was 10% of the gateway's CPU on cached refusals.  The keys
 * of each object are written in their sorted order by hand (the unit
 * test compares every shape with the tree's bytes).  Where the tree would
 * silently leave out or refuse a string that is not UTF-8 (an ID, a
 * group, a decision), this gives -EINVAL and gw_event_format uses the
 * tree, so the bytes are the same either way.
 */
struct ew {
	struct buf *b;
	int r;
};

static void ew_raw(struct ew *w, const char *s)
{
	if (w->r >= 0)
		w->r = buf_adds(w->b, s);
}

/* a string the tree would take as it is (json_string, json_pack "s"):
 * one that is not UTF-8 fails (-EINVAL), as json_string does */
static void ew_str(struct ew *w, const char *s)
{
	if (w->r < 0)
		return;
	w->r = s ? json_dump_string(w->b, s, strlen(s)) : -EINVAL;
}

/* a string the tree takes made valid (text_clean) */
static void ew_text(struct ew *w, const char *s, size_t max, bool controls)
{
	_cleanup_free_ char *clean = NULL;

	if (w->r < 0)
		return;
	clean = text_clean(s, strlen(s), max, controls);
	w->r = clean ? json_dump_string(w->b, clean, strlen(clean)) : -ENOMEM;
}

static void ew_user(struct ew *w, const struct kube_user *u)
{
	if (!u || !u->username) {
		ew_raw(w, "{\"groups\":[\"system:unauthenticated\"],\"username\":\"system:anonymous\"}");
		return;
	}
	ew_raw(w, "{");
	if (json_is_object(u->extra) && json_object_size(u->extra)) {
		ew_raw(w, "\"extra\":");
		if (w->r >= 0)
			w->r = json_dump_sorted(w->b, u->extra);
		ew_raw(w, ",");
	}
	ew_raw(w, "\"groups\":[");
	for (char **g = u->groups; g && *g; g++) {
		if (g != u->groups)
			ew_raw(w, ",");
		ew_str(w, *g);
	}
	ew_raw(w, "],");
	if (u->uid && *u->uid) {
		ew_raw(w, "\"uid\":");
		ew_str(w, u->uid);
		ew_raw(w, ",");
	}
	ew_raw(w, "\"username\":");
	ew_str(w, u->username);
	ew_raw(w, "}");
}

static void ew_object_ref(struct ew *w, const struct gw_event *ev, size_t msg_max)
{
	ew_raw(w, "\"objectRef\":{\"apiGroup\":\"tracegate.dev\",\"apiVersion\":\"v1alpha1\"");
	if (ev->name) {
		ew_raw(w, ",\"name\":");
		ew_text(w, ev->name, msg_max, true);
	}
	if (ev->ns) {
		ew_raw(w, ",\"namespace\":");
		ew_text(w, ev->ns, msg_max, true);
	}
	ew_raw(w, ",\"resource\":");
	ew_str(w, ev->resource ? ev->resource : "traces");
	if (ev->subresource) {
		ew_raw(w, ",\"subresource\":");
		ew_text(w, ev->subresource, msg_max, true);
	}
	ew_raw(w, "},");
}

static void ew_status(struct ew *w, const struct gw_event *ev, size_t msg_max)
{
	char code[16];

	snprintf(code, sizeof(code), "%d", ev->code);
	ew_raw(w, "\"responseStatus\":{\"code\":");
	ew_raw(w, code);
	if (ev->code >= 300 && ev->message) {
		ew_raw(w, ",\"message\":");
		ew_text(w, ev->message, msg_max, true);
	}
	ew_raw(w, ",\"metadata\":{}");
	if (ev->code >= 300) {
		ew_raw(w, ",\"reason\":");
		ew_str(w, status_reason(ev->code));
		ew_raw(w, ",\"status\":\"Failure\"");
	}
	ew_raw(w, "},");
}

static int event_write(const struct gw_event *ev, struct buf *b)
{
	struct ew w = { .b = b, .r = 0 };
	char received[32], staged[32];
	size_t msg_max = ev->user && ev->user->username ? SIZE_MAX : GW_EVENT_MAX_MESSAGE;

	format_rfc3339_us(ev->received_ns, received);
	format_rfc3339_us(ev->stage_ns, staged);
	ew_raw(&w, "{\"annotations\":{");
	if (ev->decision) {
		ew_raw(&w, "\"authorization.k8s.io/decision\":");
		ew_str(&w, ev->decision);
		if (ev->reason)
			ew_raw(&w, ",");
	}
	if (ev->reason) {
		ew_raw(&w, "\"authorization.k8s.io/reason\":");
		ew_text(&w, ev->reason, msg_max, true);
	}
	ew_raw(&w, "},\"apiVersion\":\"audit.k8s.io/v1\",\"auditID\":");
	ew_str(&w, ev->audit_id);
	ew_raw(&w, ",");
	if (ev->impersonated && ev->impersonated->username) {
		ew_raw(&w, "\"impersonatedUser\":");
		ew_user(&w, ev->impersonated);
		ew_raw(&w, ",");
	}
	ew_raw(&w, "\"kind\":\"Event\",\"level\":\"Metadata\",");
	if (!ev->non_resource)
		ew_object_ref(&w, ev, msg_max);
	ew_raw(&w, "\"requestReceivedTimestamp\":\"");
	ew_raw(&w, received);
	ew_raw(&w, "\",");
	if (ev->request_uri && w.r >= 0) {
		_cleanup_free_ char *uri = gw_event_uri(ev->request_uri, strlen(ev->request_uri));

		ew_raw(&w, "\"requestURI\":");
		ew_str(&w, uri);
		ew_raw(&w, ",");
	}
	if (ev->code)
		ew_status(&w, ev, msg_max);
	if (ev->source_ip) {
		ew_raw(&w, "\"sourceIPs\":[");
		ew_text(&w, ev->source_ip, 64, false);
		ew_raw(&w, "],");
	}
	ew_raw(&w, "\"stage\":");
	ew_str(&w, ev->stage);
	ew_raw(&w, ",\"stageTimestamp\":\"");
	ew_raw(&w, staged);
	ew_raw(&w, "\",");
	if (ev->tracegate) {
		ew_raw(&w, "\"tracegate\":");
		if (w.r >= 0)
			w.r = json_dump_sorted(b, ev->tracegate);
		ew_raw(&w, ",");
	}
	ew_raw(&w, "\"user\":");
	ew_user(&w, ev->user);
	ew_raw(&w, ",");
	if (ev->user_agent) {
		ew_raw(&w, "\"userAgent\":");
		ew_text(&w, ev->user_agent, GW_EVENT_MAX_USER_AGENT, false);
		ew_raw(&w, ",");
	}
	ew_raw(&w, "\"verb\":");
	ew_text(&w, ev->verb ? ev->verb : "create", GW_EVENT_MAX_VERB, false);
	ew_raw(&w, "}");
	return w.r;
}

int gw_event_format(const struct gw_event *ev, struct buf *out)
{
	_cleanup_(json_decrefp) json_t *j = NULL;
	size_t start = out->len;
	int r = event_write(ev, out);

	if (r != -EINVAL)
		return r;
	/* an odd string: the tree decides what it keeps */
	out->len = start;
	out->s[start] = '\0';
	j = gw_event_build(ev);
	return j ? json_dump_sorted(out, j) : -ENOMEM;
}

/* ---- the bound on refusals before authentication ---------------------------- */

#define REFUSAL_CODES   8         /* distinct codes counted per source; more go to "other" */
#define SOURCE_NAME_MAX (INET6_ADDRSTRLEN + 4)
#define NS_PER_S        1000000000ull

/*
 * A token bucket kept as GCRA: tat is the time at which the bucket would
 * be full again.  One record costs interval ns; a burst may run
 * (burst - 1) intervals ahead.  Exact in integers, one word of state.
 */
struct bucket {
	uint64_t tat;
};

static uint64_t bucket_interval(unsigned rate)
{
	return NS_PER_S / (rate ? rate : 1);
}

static bool bucket_has(const struct bucket *b, unsigned rate, unsigned burst, uint64_t now)
{
	uint64_t tau = bucket_interval(rate) * (burst ? burst - 1 : 0);

	return b->tat <= now + tau;
}

static void bucket_take(struct bucket *b, unsigned rate, uint64_t now)
{
	b->tat = (b->tat > now ? b->tat : now) + bucket_interval(rate);
}

struct suppressed {
	uint64_t count;
	uint64_t first, last;     /* wall clock */
	uint64_t over_source, over_total;
	struct {
		int code;
		uint64_t n;
	} codes[REFUSAL_CODES];
	uint64_t other_codes;
};

struct source {
	bool used;
	unsigned char key[17];    /* family (4, 6, 0 unknown), then the address or its /64 */
	char name[SOURCE_NAME_MAX];
	struct bucket b;
	struct suppressed sup;
};

struct gw_refusals {
	struct gw_refusal_limits lim;
	struct bucket total;
	struct source *src;
	size_t nsrc;              /* lim.max_sources slots */
	size_t last;              /* the slot found last: floods come from one source */
	struct suppressed untracked;  /* sources that found no slot */
	uint64_t admitted, suppressed;
};

int gw_refusals_new(const struct gw_refusal_limits *lim, struct gw_refusals **ret)
{
	struct gw_refusals *rl = calloc(1, sizeof(*rl));

	if (!rl)
		return -ENOMEM;
	rl->lim = *lim;
	if (!rl->lim.max_sources)
		rl->lim.max_sources = 1;
	if (!rl->lim.max_summaries)
		rl->lim.max_summaries = 1;
	rl->nsrc = rl->lim.max_sources;
	rl->src = calloc(rl->nsrc, sizeof(*rl->src));
	if (!rl->src) {
		free(rl);
		return -ENOMEM;
	}
	*ret = rl;
	return 0;
}

struct gw_refusals *gw_refusals_free(struct gw_refusals *rl)
{
	if (rl) {
		free(rl->src);
		free(rl);
	}
	return NULL;
}

/* One key per IPv4 address and per IPv6 /64 (what one host can hold). */
static void source_key(const char *source, unsigned char key[17], char name[SOURCE_NAME_MAX])
{
	struct in6_addr a6;
	struct in_addr a4;
	char text[INET6_ADDRSTRLEN];

	memset(key, 0, 17);
	if (source && inet_pton(AF_INET6, source, &a6) == 1 && IN6_IS_ADDR_V4MAPPED(&a6))
		memcpy(&a4, a6.s6_addr + 12, 4);
	else if (!source || inet_pton(AF_INET, source, &a4) != 1) {
		if (source && inet_pton(AF_INET6, source, &a6) == 1) {
			key[0] = 6;
			memset(a6.s6_addr + 8, 0, 8);
			memcpy(key + 1, a6.s6_addr, 8);
			inet_ntop(AF_INET6, &a6, text, sizeof(text));
			snprintf(name, SOURCE_NAME_MAX, "%s/64", text);
			return;
		}
		snprintf(name, SOURCE_NAME_MAX, "unknown");
		return;
	}
	key[0] = 4;
	memcpy(key + 1, &a4, 4);
	inet_ntop(AF_INET, &a4, text, sizeof(text));
	snprintf(name, SOURCE_NAME_MAX, "%s", text);
}

static bool source_idle(const struct gw_refusals *rl, const struct source *s, uint64_t now)
{
	return !s->used || (s->sup.count == 0 && s->b.tat <= now);
}

static struct source *source_find(struct gw_refusals *rl, const char *source, uint64_t now)
{
	unsigned char key[17];
	char name[SOURCE_NAME_MAX];
	struct source *free_slot = NULL;

	source_key(source, key, name);
	if (rl->src[rl->last].used && !memcmp(rl->src[rl->last].key, key, sizeof(key)))
		return &rl->src[rl->last];
	for (size_t i = 0; i < rl->nsrc; i++) {
		struct source *s = &rl->src[i];

		if (s->used && !memcmp(s->key, key, sizeof(key))) {
			rl->last = i;
			return s;
		}
		if (!free_slot && source_idle(rl, s, now))
			free_slot = s;
	}
	if (!free_slot)
		return NULL;
	/* an idle source's bucket is full: forgetting it changes nothing */
	*free_slot = (struct source){ .used = true };
	memcpy(free_slot->key, key, sizeof(key));
	memcpy(free_slot->name, name, sizeof(name));
	rl->last = (size_t)(free_slot - rl->src);
	return free_slot;
}

static void suppressed_add(struct suppressed *s, int code, uint64_t wall, bool over_source)
{
	size_t i;

	if (!s->count || wall < s->first)
		s->first = wall;
	if (wall > s->last)
		s->last = wall;
	s->count++;
	if (over_source)
		s->over_source++;
	else
		s->over_total++;
	for (i = 0; i < REFUSAL_CODES && s->codes[i].n; i++)
		if (s->codes[i].code == code)
			break;
	if (i == REFUSAL_CODES) {
		s->other_codes++;
		return;
	}
	s->codes[i].code = code;
	s->codes[i].n++;
}

bool gw_refusals_admit(struct gw_refusals *rl, const char *source, int code, uint64_t mono_ns,
		       uint64_t wall_ns)
{
	const struct gw_refusal_limits *l;
	struct source *s;
	bool src_ok, total_ok;

	/* no bound set up: every record is written */
	if (!rl)
		return true;
	l = &rl->lim;
	s = source_find(rl, source, mono_ns);
	src_ok = !s || bucket_has(&s->b, l->per_source_rate, l->per_source_burst, mono_ns);
	total_ok = bucket_has(&rl->total, l->rate, l->burst, mono_ns);
	if (src_ok && total_ok) {
		if (s)
			bucket_take(&s->b, l->per_source_rate, mono_ns);
		bucket_take(&rl->total, l->rate, mono_ns);
		rl->admitted++;
		return true;
	}
	suppressed_add(s ? &s->sup : &rl->untracked, code, wall_ns, !src_ok);
	rl->suppressed++;
	return false;
}

static void suppressed_merge(struct suppressed *to, const struct suppressed *from)
{
	if (!from->count)
		return;
	if (!to->count || from->first < to->first)
		to->first = from->first;
	if (from->last > to->last)
		to->last = from->last;
	to->count += from->count;
	to->over_source += from->over_source;
	to->over_total += from->over_total;
	to->other_codes += from->other_codes;
	for (size_t i = 0; i < REFUSAL_CODES && from->codes[i].n; i++) {
		size_t k;

		for (k = 0; k < REFUSAL_CODES && to->codes[k].n; k++)
			if (to->codes[k].code == from->codes[i].code)
				break;
		if (k == REFUSAL_CODES) {
			to->other_codes += from->codes[i].n;
			continue;
		}
		to->codes[k].code = from->codes[i].code;
		to->codes[k].n += from->codes[i].n;
	}
}

/*
 * One summary record.  name: the source, or NULL for several (nsources
 * tracked ones, plus untracked ones when untracked is set).
 */
static json_t *summary_event(const struct gw_refusals *rl, const struct suppressed *s,
			     const char *name, size_t nsources, bool untracked, uint64_t wall_ns)
{
	_cleanup_(json_decrefp) json_t *tg = NULL;
	_cleanup_free_ char *reason = NULL, *from = NULL;
	char id[37], first[32], last[32];
	json_t *sup, *codes, *over;
	struct gw_event e;
	int r;

	format_rfc3339_us(s->first, first);
	format_rfc3339_us(s->last, last);
	if (name)
		r = asprintf(&from, "%s", name);
	else if (untracked && !nsources)
		r = asprintf(&from, "sources beyond \"audit.refusals.maxSources\"");
	else if (untracked)
		r = asprintf(&from, "%zu sources and sources beyond \"audit.refusals.maxSources\"",
			     nsources);
	else
		r = asprintf(&from, "%zu sources", nsources);
	if (r < 0)
		return NULL;
	if (asprintf(&reason,
		     "%" PRIu64 " similar records suppressed from %s between %s and %s: requests refused before authentication beyond \"audit.refusals\"",
		     s->count, from, first, last) < 0)
		return NULL;
	codes = json_object();
	for (size_t i = 0; codes && i < REFUSAL_CODES && s->codes[i].n; i++) {
		char k[16];

		snprintf(k, sizeof(k), "%d", s->codes[i].code);
		json_object_set_new(codes, k, json_integer((json_int_t)s->codes[i].n));
	}
	if (codes && s->other_codes)
		json_object_set_new(codes, "other", json_integer((json_int_t)s->other_codes));
	over = json_pack("{s:I, s:I}", "perSourceRate", (json_int_t)s->over_source, "rate",
			 (json_int_t)s->over_total);
	sup = json_pack("{s:I, s:s, s:s, s:o*, s:o*, s:{s:i, s:i, s:i, s:i}}", "count",
			(json_int_t)s->count, "first", first, "last", last, "codes", codes,
			"overLimit", over, "limits", "perSourceRate", (int)rl->lim.per_source_rate,
			"perSourceBurst", (int)rl->lim.per_source_burst, "rate", (int)rl->lim.rate,
			"burst", (int)rl->lim.burst);
	if (!sup)
		return NULL;
	if (name)
		json_object_set_new(sup, "source", json_string(name));
	else
		json_object_set_new(sup, "sources", json_integer((json_int_t)nsources));
	if (untracked)
		json_object_set_new(sup, "untracked", json_true());
	tg = json_pack("{s:o}", "suppressed", sup);
	if (!tg || gw_uuid(id) < 0)
		return NULL;
	e = (struct gw_event){
		.audit_id = id,
		.stage = "ResponseComplete",
		.verb = "",
		.source_ip = name,
		.received_ns = s->first,
		.stage_ns = wall_ns,
		.decision = "forbid",
		.reason = reason,
		.tracegate = tg,
		.non_resource = true,
	};
	return gw_event_build(&e);
}

static int pending_cmp(const void *a, const void *b)
{
	const struct source *x = *(const struct source *const *)a, *y = *(const struct source *const *)b;

	return x->sup.count < y->sup.count ? 1 : x->sup.count > y->sup.count ? -1 : 0;
}

json_t *gw_refusals_flush(struct gw_refusals *rl, uint64_t wall_ns, bool all)
{
	_cleanup_(json_decrefp) json_t *out = json_array();
	_cleanup_free_ struct source **pend = NULL;
	struct suppressed rest = { 0 };
	size_t n = 0, single, nrest = 0;
	bool untracked = rl->untracked.count > 0;

	if (!out || !rl)
		return TAKE_PTR(out);
	pend = calloc(rl->nsrc, sizeof(*pend));
	if (!pend)
		return NULL;
	for (size_t i = 0; i < rl->nsrc; i++)
		if (rl->src[i].used && rl->src[i].sup.count)
			pend[n++] = &rl->src[i];
	if (!n && !untracked)
		return TAKE_PTR(out);
	qsort(pend, n, sizeof(*pend), pending_cmp);
	/* one record per source while they fit, the rest in one */
	single = n + (untracked ? 1 : 0) <= rl->lim.max_summaries || all ? n
		 : rl->lim.max_summaries - 1;
	for (size_t i = 0; i < n; i++) {
		if (i < single) {
			json_t *ev = summary_event(rl, &pend[i]->sup, pend[i]->name, 1, false, wall_ns);

			if (!ev || json_array_append_new(out, ev) < 0)
				return NULL;
		} else {
			suppressed_merge(&rest, &pend[i]->sup);
			nrest++;
		}
	}
	suppressed_merge(&rest, &rl->untracked);
	if (rest.count) {
		json_t *ev = summary_event(rl, &rest, NULL, nrest, untracked, wall_ns);

		if (!ev || json_array_append_new(out, ev) < 0)
			return NULL;
	}
	/* every count is in a record now */
	for (size_t i = 0; i < n; i++)
		pend[i]->sup = (struct suppressed){ 0 };
	rl->untracked = (struct suppressed){ 0 };
	return TAKE_PTR(out);
}

void gw_refusals_stats(const struct gw_refusals *rl, struct gw_refusals_stats *ret)
{
	*ret = (struct gw_refusals_stats){ .admitted = rl->admitted, .suppressed = rl->suppressed,
					   .pending = rl->untracked.count };
	for (size_t i = 0; i < rl->nsrc; i++) {
		if (!rl->src[i].used)
			continue;
		ret->sources++;
		ret->pending += rl->src[i].sup.count;
	}
}

/* ---- the end fields of a record (struct gw_audit_end) -------------------------------- */

#define END_WHERE "tracegate."

/* The counts, each written flat and in "counts", with their member names. */
static const struct {
	const char *name;
	unsigned bit;
	size_t off;
} end_counts[] = {
	{ "events", GW_AUDIT_END_EVENTS, offsetof(struct gw_audit_end, events) },
	{ "drops", GW_AUDIT_END_DROPS, offsetof(struct gw_audit_end, drops) },
	{ "mapDrops", GW_AUDIT_END_MAP_DROPS, offsetof(struct gw_audit_end, map_drops) },
	{ "bytes", GW_AUDIT_END_BYTES, offsetof(struct gw_audit_end, bytes) },
	{ "cpuNs", GW_AUDIT_END_CPU_NS, offsetof(struct gw_audit_end, cpu_ns) },
};

#define END_NCOUNTS (sizeof(end_counts) / sizeof(end_counts[0]))

static uint64_t *end_count_at(struct gw_audit_end *e, size_t i)
{
	return (uint64_t *)((char *)e + end_counts[i].off);
}

static uint64_t end_count(const struct gw_audit_end *e, size_t i)
{
	return *(const uint64_t *)((const char *)e + end_counts[i].off);
}

static void end_nodes_free(struct gw_audit_node *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(v[i].node);
		free(v[i].text);
	}
	free(v);
}

void gw_audit_end_release(struct gw_audit_end *e)
{
	if (!e)
		return;
	free(e->reason);
	free(e->message);
	end_nodes_free(e->node_reasons, e->nnode_reasons);
	wire_strvn_free(e->failed_nodes, e->nfailed_nodes);
	end_nodes_free(e->missing, e->nmissing);
	free(e->node);
	free(e->claimed_by);
	free(e->claimer);
	memset(e, 0, sizeof(*e));
}

int gw_audit_node_push(struct gw_audit_node **v, size_t *n, const char *node, const char *text)
{
	struct gw_audit_node *nv = realloc(*v, (*n + 1) * sizeof(**v));
	char *a = strdup(node), *b = strdup(text);

	if (nv)
		*v = nv;
	if (!nv || !a || !b) {
		free(a);
		free(b);
		return -ENOMEM;
	}
	nv[*n] = (struct gw_audit_node){ a, b };
	(*n)++;
	return 0;
}

/* ---- encoding ---- */

/* A text as the decoder takes it back: as it is when it is valid UTF-8
 * within the bound, else made so (gw_event_text) rather than lost. */
static json_t *end_text(const char *s)
{
	_cleanup_free_ char *safe = NULL;
	json_t *j;

	if (!s)
		return NULL;
	if (strlen(s) <= GW_AUDIT_END_MAX_MESSAGE && (j = json_string(s)))
		return j;
	safe = gw_event_text(s, strlen(s), GW_AUDIT_END_MAX_MESSAGE);
	return safe ? json_string(safe) : NULL;
}

static json_t *end_nodes_json(const struct gw_audit_node *v, size_t n, bool texts)
{
	json_t *o = json_object();

	for (size_t i = 0; o && i < n; i++)
		if (json_object_set_new(o, v[i].node, texts ? end_text(v[i].text) : json_string(v[i].text)) < 0) {
			json_decref(o);
			return NULL;
		}
	return o;
}

static int end_counts_to_json(const struct gw_audit_end *e, json_t *tg)
{
	json_t *c = NULL;

	for (size_t i = 0; i < END_NCOUNTS; i++) {
		if (!(e->has & end_counts[i].bit))
			continue;
		if (!c && (!(c = json_object()) || json_object_set_new(tg, "counts", c) < 0))
			return -ENOMEM;
		if (json_object_set_new(tg, end_counts[i].name, json_integer((json_int_t)end_count(e, i))) < 0 ||
		    json_object_set_new(c, end_counts[i].name, json_integer((json_int_t)end_count(e, i))) < 0)
			return -ENOMEM;
	}
	if ((e->has & GW_AUDIT_END_EXIT_CODE) && json_object_set_new(tg, "exitCode", json_integer(e->exit_code)) < 0)
		return -ENOMEM;
	return 0;
}

int gw_audit_end_to_json(const struct gw_audit_end *e, json_t *tg)
{
	if (e->counts_missing && e->nmissing)
		return -EINVAL;
	if (wire_set_str(tg, "endReason", e->reason) < 0 ||
	    (e->message && json_object_set_new(tg, "endMessage", end_text(e->message)) < 0) ||
	    end_counts_to_json(e, tg) < 0)
		return -ENOMEM;
	if ((e->has & GW_AUDIT_END_NODE_REASONS) &&
	    json_object_set_new(tg, "nodeEndReasons", end_nodes_json(e->node_reasons, e->nnode_reasons, false)) < 0)
		return -ENOMEM;
	if ((e->has & GW_AUDIT_END_FAILED) &&
	    json_object_set_new(tg, "failedNodes", wire_strv_json(e->failed_nodes, e->nfailed_nodes)) < 0)
		return -ENOMEM;
	if ((e->counts_missing && json_object_set_new(tg, "countsMissing", json_true()) < 0) ||
	    (e->nmissing && json_object_set_new(tg, "countsMissing", end_nodes_json(e->missing, e->nmissing, true)) < 0) ||
	    (e->after_restart && json_object_set_new(tg, "afterRestart", json_true()) < 0) ||
	    (e->detached_end && json_object_set_new(tg, "detachedEnd", json_true()) < 0))
		return -ENOMEM;
	/* a detached end is one node's: "nodes" is that node alone */
	if (e->node && (wire_set_str(tg, "node", e->node) < 0 ||
			json_object_set_new(tg, "nodes", json_pack("[s]", e->node)) < 0))
		return -ENOMEM;
	if (wire_set_str(tg, "claimedBy", e->claimed_by) < 0 || wire_set_str(tg, "claimer", e->claimer) < 0)
		return -ENOMEM;
	return 0;
}

/* ---- decoding ---- */

static bool end_present(json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);

	return v && !json_is_null(v);
}

/* endReason, a node's reason: a short word of letters and '-' ("exit",
 * "runner-lost", "dryRun"). */
static bool end_reason_text(const char *s, size_t len)
{
	if (!len || len > GW_AUDIT_END_MAX_REASON || strlen(s) != len)
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || *s == '-'))
			return false;
	return true;
}

/* A node's name as the gateway knows it: 1 to 253 printable characters. */
static bool end_node_text(const char *s, size_t len)
{
	return len && len <= GW_AUDIT_END_MAX_NAME && wire_printable_text(s, len);
}

static int end_reason_from(json_t *tg, struct gw_audit_end *e, char **ret_err)
{
	json_t *v = json_object_get(tg, "endReason");

	if (!v || json_is_null(v))
		return 0;
	if (!json_is_string(v) || !end_reason_text(json_string_value(v), json_string_length(v)))
		return tg_fail(ret_err, -EINVAL, END_WHERE "\"endReason\": not a word of 1 to %d letters or '-'",
			       GW_AUDIT_END_MAX_REASON);
	e->reason = strdup(json_string_value(v));
	return e->reason ? 0 : -ENOMEM;
}

/* Each count flat, in "counts" or both (logs of older gateways have one
 * of them only); both must agree. */
static int end_counts_from(json_t *tg, struct gw_audit_end *e, char **ret_err)
{
	json_t *c = json_object_get(tg, "counts"), *v;
	uint64_t flat, in;
	int r;

	if (c && !json_is_null(c) && !json_is_object(c))
		return tg_fail(ret_err, -EINVAL, END_WHERE "\"counts\": not an object");
	for (size_t i = 0; i < END_NCOUNTS; i++) {
		const char *name = end_counts[i].name;
		bool hf = end_present(tg, name), hc = end_present(c, name);

		if (!hf && !hc)
			continue;
		if ((r = wire_uint_field(tg, name, END_WHERE, INT64_MAX, &flat, ret_err)) < 0 ||
		    (r = wire_uint_field(c, name, END_WHERE "counts.", INT64_MAX, &in, ret_err)) < 0)
			return r;
		if (hf && hc && flat != in)
			return tg_fail(ret_err, -EINVAL, END_WHERE "\"%s\": %" PRIu64 ", but \"counts\" says %" PRIu64,
				       name, flat, in);
		*end_count_at(e, i) = hf ? flat : in;
		e->has |= end_counts[i].bit;
	}
	v = json_object_get(tg, "exitCode");
	if (!v || json_is_null(v))
		return 0;
	if (!json_is_integer(v) || json_integer_value(v) < INT32_MIN || json_integer_value(v) > INT32_MAX)
		return tg_fail(ret_err, -EINVAL, END_WHERE "\"exitCode\": not an integer of 32 bits");
	e->exit_code = (int)json_integer_value(v);
	e->has |= GW_AUDIT_END_EXIT_CODE;
	return 0;
}

/* {node: text}: nodeEndReasons (reasons), countsMissing (whys). */
static int end_nodes_from(json_t *tg, const char *key, bool reasons, struct gw_audit_node **ret, size_t *ret_n,
			  char **ret_err)
{
	json_t *o = json_object_get(tg, key), *v;
	const char *node;
	size_t klen;

	if (!json_is_object(o) || json_object_size(o) > GW_AUDIT_END_MAX_NODES)
		return tg_fail(ret_err, -EINVAL, END_WHERE "\"%s\": not an object of at most %d nodes", key,
			       GW_AUDIT_END_MAX_NODES);
	json_object_keylen_foreach(o, node, klen, v) {
		const char *s = json_string_value(v);
		size_t len = json_string_length(v);

		if (!end_node_text(node, klen))
			return tg_fail(ret_err, -EINVAL, END_WHERE "\"%s\": a key that is not a node name", key);
		if (!s || (reasons ? !end_reason_text(s, len)
				   : len > GW_AUDIT_END_MAX_MESSAGE || strlen(s) != len))
			return tg_fail(ret_err, -EINVAL, END_WHERE "\"%s\".\"%s\": not %s", key, node,
				       reasons ? "a reason" : "a string without NUL of at most 64 KiB");
		if (gw_audit_node_push(ret, ret_n, node, s) < 0)
			return -ENOMEM;
	}
	return 0;
}

static int end_bool_from(json_t *tg, const char *key, bool *ret, char **ret_err)
{
	json_t *v = json_object_get(tg, key);

	if (!v || json_is_null(v))
		return 0;
	if (!json_is_boolean(v))
		return tg_fail(ret_err, -EINVAL, END_WHERE "\"%s\": not a boolean", key);
	*ret = json_is_true(v);
	return 0;
}

/* countsMissing: true, or {node: why} */
static int end_missing_from(json_t *tg, struct gw_audit_end *e, char **ret_err)
{
	json_t *v = json_object_get(tg, "countsMissing");

	if (!v || json_is_null(v))
		return 0;
	if (json_is_true(v)) {
		e->counts_missing = true;
		return 0;
	}
	if (!json_is_object(v))
		return tg_fail(ret_err, -EINVAL, END_WHERE "\"countsMissing\": not true or an object");
	return end_nodes_from(tg, "countsMissing", false, &e->missing, &e->nmissing, ret_err);
}

/* node, claimedBy, claimer: a detached end's */
static int end_claim_from(json_t *tg, struct gw_audit_end *e, char **ret_err)
{
	int r;

	if ((r = wire_str_field(tg, "node", END_WHERE, false, GW_AUDIT_END_MAX_NAME, false, &e->node, ret_err)) < 0)
		return r;
	if (e->node && !end_node_text(e->node, strlen(e->node)))
		return tg_fail(ret_err, -EINVAL, END_WHERE "\"node\": not a node name");
	if ((r = wire_str_field(tg, "claimedBy", END_WHERE, false, 8, false, &e->claimed_by, ret_err)) < 0)
		return r;
	if (e->claimed_by && strcmp(e->claimed_by, "poll") && strcmp(e->claimed_by, "delete") &&
	    strcmp(e->claimed_by, "log") && strcmp(e->claimed_by, "restart"))
		return tg_fail(ret_err, -EINVAL, END_WHERE "\"claimedBy\": not poll, delete, log or restart");
	return wire_str_field(tg, "claimer", END_WHERE, false, GW_AUDIT_END_MAX_CLAIMER, true, &e->claimer, ret_err);
}

int gw_audit_end_from_json(json_t *tg, struct gw_audit_end *ret, char **ret_err)
{
	_cleanup_(gw_audit_end_release) struct gw_audit_end e = { 0 };
	int r;

	if (!json_is_object(tg))
		return tg_fail(ret_err, -EINVAL, "tracegate: not an object");
	if ((r = end_reason_from(tg, &e, ret_err)) < 0 ||
	    (r = wire_str_field(tg, "endMessage", END_WHERE, false, GW_AUDIT_END_MAX_MESSAGE, false, &e.message,
				ret_err)) < 0 ||
	    (r = end_counts_from(tg, &e, ret_err)) < 0 || (r = end_missing_from(tg, &e, ret_err)) < 0 ||
	    (r = end_bool_from(tg, "afterRestart", &e.after_restart, ret_err)) < 0 ||
	    (r = end_bool_from(tg, "detachedEnd", &e.detached_end, ret_err)) < 0 ||
	    (r = end_claim_from(tg, &e, ret_err)) < 0)
		return r;
	if (end_present(tg, "nodeEndReasons")) {
		if ((r = end_nodes_from(tg, "nodeEndReasons", true, &e.node_reasons, &e.nnode_reasons, ret_err)) < 0)
			return r;
		e.has |= GW_AUDIT_END_NODE_REASONS;
	}
	if (end_present(tg, "failedNodes")) {
		if ((r = wire_strv_field(tg, "failedNodes", END_WHERE, false, GW_AUDIT_END_MAX_NODES,
					 GW_AUDIT_END_MAX_NAME, false, &e.failed_nodes, &e.nfailed_nodes, ret_err)) < 0)
			return r;
		e.has |= GW_AUDIT_END_FAILED;
	}
	*ret = e;
	memset(&e, 0, sizeof(e));
	return 0;
}

/* ---- equality ---- */

/* Equal maps: a node's text is the same whatever the order (the log sorts
 * keys; a decoded map has each node once). */
static bool end_nodes_eq(const struct gw_audit_node *a, size_t na, const struct gw_audit_node *b, size_t nb)
{
	if (na != nb)
		return false;
	for (size_t i = 0; i < na; i++) {
		size_t j = 0;

		while (j < nb && !wire_str_eq(a[i].node, b[j].node))
			j++;
		if (j == nb || !wire_str_eq(a[i].text, b[j].text))
			return false;
	}
	return true;
}

bool gw_audit_end_equal(const struct gw_audit_end *a, const struct gw_audit_end *b)
{
	if (!wire_str_eq(a->reason, b->reason) || !wire_str_eq(a->message, b->message) || a->has != b->has ||
	    ((a->has & GW_AUDIT_END_EXIT_CODE) && a->exit_code != b->exit_code) ||
	    a->counts_missing != b->counts_missing || a->after_restart != b->after_restart ||
	    a->detached_end != b->detached_end || !wire_str_eq(a->node, b->node) ||
	    !wire_str_eq(a->claimed_by, b->claimed_by) || !wire_str_eq(a->claimer, b->claimer) ||
	    !end_nodes_eq(a->node_reasons, a->nnode_reasons, b->node_reasons, b->nnode_reasons) ||
	    !end_nodes_eq(a->missing, a->nmissing, b->missing, b->nmissing) ||
	    !wire_strv_eq(a->failed_nodes, a->nfailed_nodes, b->failed_nodes, b->nfailed_nodes))
		return false;
	for (size_t i = 0; i < END_NCOUNTS; i++)
		if ((a->has & end_counts[i].bit) && end_count(a, i) != end_count(b, i))
			return false;
	return true;
}
