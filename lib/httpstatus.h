/* SPDX-License-Identifier: Apache-2.0 */
/*
 * HTTP status codes in words, one table for every program (issue 12): the
 * reason phrase of a status line (RFC 9110) and the machine-readable reason
 * of a Kubernetes Status object (metav1.StatusReason, extended with the
 * HTTP name where Kubernetes has none).
 */
#ifndef TG_LIB_HTTPSTATUS_H
#define TG_LIB_HTTPSTATUS_H

/* "Not Found" for 404; "Unknown" for a code not in the table. */
const char *http_reason_phrase(int code);
/* "NotFound" for 404; for a code not in the table, "InternalError" (5xx),
 * "BadRequest" (4xx) or "Unknown". */
const char *status_reason(int code);
/* The HTTP code for a negative errno or TG_E* failure (lib/errors.h), the
 * one map: 400 a program or request that is wrong, also one over a size
 * limit (TG_ELIMIT: a retry changes nothing; the rates and counts that
 * are limits answer 429 where they are counted, not through this map),
 * 401 not authenticated, 403 not authorized, a policy or the verifier,
 * 404 a pod or object missing, 503 something upstream or the audit log,
 * 500 anything else. */
int http_code_for_error(int err);

#endif
