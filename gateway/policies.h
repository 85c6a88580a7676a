/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The TracePolicy set the gateway enforces, and its reload.
 *
 * The set comes from the configured policy directory (in a cluster, a
 * mounted ConfigMap) or, without one, the built-in "restricted" preset.
 * A change in the directory is noticed by inotify (files written, renamed,
 * removed, and the `..data` symlink a ConfigMap update swaps), backed by a
 * cheap periodic stat of the directory and its files, and by an explicit
 * gw_policies_reload() (SIGHUP).  A reload builds a whole new set; only
 * when every document parses does it replace the one in force.  A broken
 * document leaves the previous set in force and is logged with its
 * file:line:column.
 *
 * Requests evaluate against gw_policies_current() synchronously, and a
 * decision owns its data, so a swap never disturbs a running trace: it
 * keeps the limits it was granted; new requests see the new set.
 */
#ifndef TG_GATEWAY_POLICIES_H
#define TG_GATEWAY_POLICIES_H

#include <stdbool.h>
#include <stdint.h>

struct event_base;
struct tg_policy_set;

#define GW_POLICIES_SETTLE_MS   200   /* changes within this window are one reload */
#define GW_POLICIES_POLL_S      5     /* the periodic stat check */
#define GW_POLICIES_MAX_RETRIES 3     /* reloads when the directory changed during one */

struct gw_policies;

/*
 * Loads the set (dir NULL: the "restricted" preset) and, with an event
 * base and a directory, watches it.  Fails with *ret_err (file:line:column
 * for a broken document) when the first set cannot be loaded: a gateway
 * must not start without its policies.
 */
int gw_policies_new(struct event_base *base, const char *dir, struct gw_policies **ret,
		    char **ret_err);
/* The set in force (never NULL).  Valid until control returns to the
 * event loop. */
const struct tg_policy_set *gw_policies_current(const struct gw_policies *p);
/* Loads the directory again now.  0: the new set is in force; negative
 * with *ret_err: the previous set stays.  Also logs the outcome. */
int gw_policies_reload(struct gw_policies *p, char **ret_err);
/* Successful loads so far (1 after gw_policies_new). */
uint64_t gw_policies_generation(const struct gw_policies *p);
/* Failed reloads so far. */
uint64_t gw_policies_failures(const struct gw_policies *p);
/* Whether the directory is watched by inotify (else only polled). */
bool gw_policies_watching(const struct gw_policies *p);
struct gw_policies *gw_policies_free(struct gw_policies *p);

#endif
