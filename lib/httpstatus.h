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

#endif
