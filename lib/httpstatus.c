// SPDX-License-Identifier: Apache-2.0
#include <errno.h>
#include "lib/errors.h"
#include "lib/httpstatus.h"
#include "lib/banned.h"

static const struct {
	int code;
	const char *phrase;   /* the status line's */
	const char *reason;   /* a Status object's */
} codes[] = {
	{ 200, "OK", "OK" },
	{ 201, "Created", "Created" },
	{ 400, "Bad Request", "BadRequest" },
	{ 401, "Unauthorized", "Unauthorized" },
	{ 403, "Forbidden", "Forbidden" },
	{ 404, "Not Found", "NotFound" },
	{ 405, "Method Not Allowed", "MethodNotAllowed" },
	{ 406, "Not Acceptable", "NotAcceptable" },
	{ 408, "Request Timeout", "Timeout" },
	{ 409, "Conflict", "Conflict" },
	{ 410, "Gone", "Gone" },
	{ 411, "Length Required", "LengthRequired" },
	{ 413, "Payload Too Large", "RequestEntityTooLarge" },
	{ 415, "Unsupported Media Type", "UnsupportedMediaType" },
	{ 417, "Expectation Failed", "ExpectationFailed" },
	{ 422, "Unprocessable Entity", "Invalid" },
	{ 429, "Too Many Requests", "TooManyRequests" },
	{ 431, "Request Header Fields Too Large", "RequestHeaderFieldsTooLarge" },
	{ 500, "Internal Server Error", "InternalError" },
	{ 501, "Not Implemented", "NotImplemented" },
	{ 502, "Bad Gateway", "BadGateway" },
	{ 503, "Service Unavailable", "ServiceUnavailable" },
	{ 504, "Gateway Timeout", "Timeout" },
	{ 505, "HTTP Version Not Supported", "HTTPVersionNotSupported" },
};

const char *http_reason_phrase(int code)
{
	for (unsigned i = 0; i < sizeof(codes) / sizeof(codes[0]); i++)
		if (codes[i].code == code)
			return codes[i].phrase;
	return "Unknown";
}

const char *status_reason(int code)
{
	for (unsigned i = 0; i < sizeof(codes) / sizeof(codes[0]); i++)
		if (codes[i].code == code)
			return codes[i].reason;
	return code >= 500 ? "InternalError" : code >= 400 ? "BadRequest" : "Unknown";
}

int http_code_for_error(int err)
{
	switch (err < 0 ? -err : err) {
	case TG_EPARSE:
	case TG_EUNSUPPORTED:
	case TG_ETYPE:
	case TG_ENOPROBE:   /* bpftrace: "tracepoint not found", a program error */
	case TG_ELIMIT:     /* a program over a size limit (a literal, a key, maxMapBytes):
			     * nothing a retry changes; the rates and counts that are
			     * answer 429 where they are counted */
	case EINVAL:
	case E2BIG:
		return 400;
	case TG_EAUTHN:
		return 401;
	case TG_EAUTHZ:
	case TG_EPOLICY:
	case TG_EVERIFY:
		return 403;
	case TG_ENOTFOUND:
	case TG_ENOSCOPE:
		return 404;
	case TG_EUPSTREAM:
	case TG_EAUDIT:
		return 503;
	default:
		return 500;
	}
}
