/* SPDX-License-Identifier: Apache-2.0 */
/*
 * An informer, as client-go's reflector and store: LIST a resource, then
 * WATCH it from the list's resourceVersion, keeping a local copy of every
 * object keyed by namespace/name.  A watch that ends is resumed from the
 * last resourceVersion seen; a 410 Expired (the server no longer has that
 * history) or a broken answer means LIST again, after a backoff.
 *
 * The same two halves as kube/kube.h: this is the state machine and the
 * store, with no I/O.  The caller asks which request to make next
 * (kube_informer_next), makes it on its own loop (kube_client_setup_easy),
 * and feeds back the answer: a list body, watch bytes as they come, the
 * watch's end.  Every object is checked (kind, apiVersion, name,
 * namespace, resourceVersion) before it is stored; an answer that does
 * not check ends the watch and the next request is a LIST.
 *
 * Stored objects lose metadata.managedFields and the last-applied-
 * configuration annotation, which nobody here reads.
 *
 * Readiness: synced after a LIST was stored, until a 410, a bad answer or
 * a full store makes a new LIST necessary.  A caller that finds the
 * informer unsynced, or an object missing, asks the API server instead.
 */
#ifndef TG_KUBE_INFORMER_H
#define TG_KUBE_INFORMER_H

#include <stdbool.h>
#include <stddef.h>
#include <jansson.h>
#include "kube/kube.h"

#define KUBE_INFORMER_DEFAULT_MAX_OBJECTS 10000   /* objects one informer holds */
#define KUBE_INFORMER_MAX_EVENT_BYTES (1u << 20)  /* one watch event line */
#define KUBE_INFORMER_DEFAULT_WATCH_S 300         /* timeoutSeconds of each watch */
#define KUBE_INFORMER_BACKOFF_MIN_MS 500
#define KUBE_INFORMER_BACKOFF_MAX_MS 30000

struct kube_informer_opts {
	size_t sz;
	const char *api_prefix;     /* "/api/v1" or "/apis/apps/v1" */
	const char *resource;       /* "pods" */
	const char *kind;           /* "Pod": items must be of this kind */
	const char *api_version;    /* "v1" */
	const char *namespace;      /* NULL: every namespace */
	const char *label_selector; /* NULL or a labelSelector query value */
	size_t max_objects;         /* 0: KUBE_INFORMER_DEFAULT_MAX_OBJECTS */
	unsigned watch_timeout_s;   /* 0: KUBE_INFORMER_DEFAULT_WATCH_S */
};

/* A change to the store: ADDED (old NULL), MODIFIED, DELETED (obj the last
 * state seen).  After a LIST, every object that is new, changed or gone
 * is reported as if watched. */
typedef void (*kube_informer_fn)(void *ud, const char *type, json_t *obj, json_t *old);

struct kube_informer;
int kube_informer_new(const struct kube_informer_opts *o, struct kube_informer **ret, char **ret_err);
struct kube_informer *kube_informer_free(struct kube_informer *inf);
void kube_informer_set_handler(struct kube_informer *inf, kube_informer_fn fn, void *ud);

enum kube_informer_step {
	KUBE_INFORMER_LIST = 1,
	KUBE_INFORMER_WATCH,
};
/* The request to make next, and what it is. */
int kube_informer_next(struct kube_informer *inf, struct kube_request *ret, enum kube_informer_step *ret_step);
/* The LIST's answer: the store becomes what it says.  Negative (and a
 * LIST next time) on any status but 200 or any odd answer. */
int kube_informer_list_done(struct kube_informer *inf, long http_status, const char *body, size_t len,
			    char **ret_err);
/* Watch bytes as they arrive (events are applied line by line).  Negative
 * when the stream must be dropped, and the next request is a LIST:
 * -TG_EUPSTREAM for a bad event or an ERROR event (410 Expired among
 * them), -TG_ELIMIT for a full store or an oversized event. */
int kube_informer_watch_data(struct kube_informer *inf, const char *data, size_t len, char **ret_err);
/* The watch ended: ok when it ended cleanly (timeoutSeconds, HTTP 200,
 * nothing left unparsed); a failure counts for the backoff and makes the
 * store unsynced until the next LIST (kube_informer_synced: false). */
void kube_informer_watch_end(struct kube_informer *inf, bool ok);
/* The store may have missed something (the watch was refused): the next
 * request is a LIST, and until it is stored the informer is unsynced. */
void kube_informer_resync(struct kube_informer *inf);
/* How long to wait before the next request (0 after a success). */
unsigned kube_informer_backoff_ms(const struct kube_informer *inf);

bool kube_informer_synced(const struct kube_informer *inf);
const char *kube_informer_resource_version(const struct kube_informer *inf);
size_t kube_informer_count(const struct kube_informer *inf);
/* The object (typed: kind and apiVersion set), borrowed; NULL when not
 * there.  ns is NULL or "" for cluster-scoped kinds. */
json_t *kube_informer_get(const struct kube_informer *inf, const char *ns, const char *name);
/* A pod of a synced pod informer, parsed as kube_pod_parse does:
 * -TG_ENOTFOUND when the informer is not synced or has no such pod (ask
 * the API server then), -TG_EUPSTREAM when it does not parse. */
int kube_informer_pod(const struct kube_informer *inf, const char *ns, const char *name, struct kube_pod *ret,
		      char **ret_err);
/* Every object: an object of "ns/name" -> object, borrowed. */
json_t *kube_informer_objects(const struct kube_informer *inf);

#endif
