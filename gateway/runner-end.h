/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The end record of a session that a runner kept after its stream was
 * lost (the client left, or the gateway was restarted):
 * GET /v1/sessions/ID/end over the runners' mTLS, asked again while the
 * runner answers 409 (the session is still winding down), until a
 * deadline.  And the scan of the audit log for allowed traces that a
 * gateway killed before their end left without a ResponseComplete
 * record, whose records a restarted gateway writes (recover below).
 */
#ifndef TG_GATEWAY_RUNNER_END_H
#define TG_GATEWAY_RUNNER_END_H

#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

struct gateway;
struct gw_runner;
struct gw_end_fetch;

#define GW_END_RETRY_MS 100        /* between two asks while the session winds down */
#define GW_END_CLIENT_WAIT_MS 5000 /* a trace whose client left waits this long for its counts */
#define GW_END_RECOVER_WAIT_MS 30000
#define GW_RECOVER_MAX 4096        /* traces left without an end that a start completes */

/* result 0 with the runner's end record (borrowed for the call), or a
 * negative errno and a message.  f is freed after the call. */
typedef void (*gw_end_fn)(int result, json_t *end, const char *err, void *ud);

int gw_end_fetch_start(struct gateway *gw, const struct gw_runner *runner, const char *trace,
		       uint64_t wait_ms, gw_end_fn done, void *ud, struct gw_end_fetch **ret);
/* No callback follows. */
void gw_end_fetch_cancel(struct gw_end_fetch *f);

/*
 * The allowed traces of the log (PATH.1 then PATH) whose ResponseStarted
 * record has no ResponseComplete: a JSON array of those records (chain
 * fields removed), oldest first, at most max (the newest kept).
 */
int gw_recover_scan(const char *path, size_t max, json_t **ret, char **ret_err);
/* The same, and *ret_detached the detached starts (their 201) of the same
 * files with a node whose end record (tracegate.detachedEnd) is not
 * there: [{"auditID","trace","nodes":[node...]}], at most max, the newest. */
int gw_recover_scan_all(const char *path, size_t max, json_t **ret, json_t **ret_detached, char **ret_err);

/* At start: completes each such trace with the counts its runners kept,
 * in the background of the loop (one log line each); and starts the
 * detached sessions' end records (gw_detend_start). */
int gw_recover_start(struct gateway *gw, char **ret_err);
/* At shutdown: what is still being asked is dropped (written at the next
 * start). */
void gw_recover_stop(struct gateway *gw);

#endif
