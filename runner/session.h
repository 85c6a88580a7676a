/* SPDX-License-Identifier: Apache-2.0 */
/*
 * One trace session of `tracegate-runner serve`: the pods of a request
 * (wire/session.h, the body of POST /v1/sessions) resolved to cgroups, and the child process's work: run the
 * engine and stream NDJSON over the TLS connection until the program
 * ends, the duration passes, or the gateway hangs up.
 */
#ifndef TG_RUNNER_SESSION_H
#define TG_RUNNER_SESSION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <openssl/ssl.h>
#include "runner/engine.h"
#include "runner/scope.h"
#include "wire/session.h"

/* The request body itself is wire/session.h's (session_request_decode). */
_Static_assert(SESSION_MAX_PODS <= SCOPE_MAX_TARGETS, "a session's pods are scope targets");

struct session_config {
	const char *node;
	const char *cgroup2_mnt;
	const char *cgroup_root;
	const char *cache_dir;
	unsigned write_timeout_s;   /* a gateway that stops reading this long ends the session */
	/* > 0: the session child writes one byte here (and closes it) once
	 * everything is attached, before the sandbox; the parent's watchdog
	 * counts the duration from then (runner/cmd-serve.c) */
	int attached_fd;
};

/* Every pod to its cgroup: -TG_ENOSCOPE naming the first one missing. */
int session_resolve(const struct session_request *req, const struct session_config *cfg,
		    struct scope *scope, char **ret_err);

/*
 * The child's work on an accepted connection (ssl on blocking socket fd;
 * ssl NULL: a detached session writing to the parent's socket pair fd):
 * resolves the pods (404 Status when one is missing, nothing loaded),
 * runs the engine, streams NDJSON, logs one line. Returns the exit status
 * for the child process.
 */
int session_run(SSL *ssl, int fd, const struct session_config *cfg, struct session_request *req);
/* In the child, before session_run: where its end record goes as well as
 * to the gateway (one line, no newline, one write) for the parent to keep. */
void session_set_end_fd(int fd);

/* A Status object as one HTTP response (head and body), for the parent
 * and the child alike (caller frees). */
char *session_status_response(int code, const char *message);

#endif
