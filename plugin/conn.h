/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The commands' side of a request to the gateway (main.c's run, check and
 * version; detached.c's get, logs, attach, delete): the connection from
 * the kubeconfig and flags, SIGINT's pipe, the graceful stop's DELETE, and
 * how refusals and failures are printed.
 */
#ifndef TG_PLUGIN_CONN_H
#define TG_PLUGIN_CONN_H

#include <stdbool.h>
#include <jansson.h>
#include "plugin/cli.h"
#include "plugin/client.h"
#include "plugin/credential.h"
#include "plugin/kubeconfig.h"
#include "plugin/render.h"

/* Everything a request to the gateway needs, from the kubeconfig and flags. */
struct conn {
	struct kubeconfig kc;
	struct kc_resolved res;
	struct kc_exec_cred cred;
	char *gw;                 /* the gateway's base URL, no trailing slash */
	bool via_cluster;         /* no gateway configured: the API server */
	struct kt_request rq;     /* TLS and credentials filled in */
};

/* 0, or an exit status after printing why. */
int conn_open(const struct kt_args *a, struct conn *c);
void conn_release(struct conn *c);
/* "error: ..." on stderr; returns KT_EXIT_FAILURE. */
int fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* A refusal as kubectl prints it; returns its exit status. */
int print_status(const struct conn *c, long code, const char *body, size_t len, const char *program);
/* A transport failure: 0 when there was none, else the exit status. */
int transport_failed(const struct conn *c, int r, const struct kt_response *resp, const char *err);
/* A JSON value on stdout as -o asks: indented JSON or a YAML document. */
void print_object(const json_t *j, enum kt_output mode);
/* SIGINT writes to a pipe the transfer loop polls: its read end. */
int cancel_fd_setup(void);

/* The graceful stop (first Ctrl-C, stdout closed): DELETE of the trace. */
struct stop_ctx {
	struct kt_render *rd;
	const char *gw, *ns_esc;
	bool node;              /* a node-wide trace: DELETE .../nodetraces/ID */
	bool line_ended;
};
char *stop_url(void *ud);
bool stop_wanted(void *ud);
void stop_done(void *ud, long code, const char *body, size_t len, const char *err);
void progress_tick(void *ud);

#endif
