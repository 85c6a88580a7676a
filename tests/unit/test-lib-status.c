// SPDX-License-Identifier: Apache-2.0
/* lib/status and lib/httpstatus: the one Status builder, reason table and
 * errno-to-HTTP map the gateway and the runner answer with. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <jansson.h>
#include "lib/errors.h"
#include "lib/httpstatus.h"
#include "lib/status.h"

static void test_reasons(void **state)
{
	/* metav1.StatusReason where Kubernetes has one, the HTTP name else */
	static const struct {
		int code;
		const char *reason, *phrase;
	} want[] = {
		{ 400, "BadRequest", "Bad Request" },
		{ 401, "Unauthorized", "Unauthorized" },
		{ 403, "Forbidden", "Forbidden" },
		{ 404, "NotFound", "Not Found" },
		{ 405, "MethodNotAllowed", "Method Not Allowed" },
		{ 409, "Conflict", "Conflict" },
		{ 411, "LengthRequired", "Length Required" },
		{ 413, "RequestEntityTooLarge", "Payload Too Large" },
		{ 417, "ExpectationFailed", "Expectation Failed" },
		{ 422, "Invalid", "Unprocessable Entity" },
		{ 429, "TooManyRequests", "Too Many Requests" },
		{ 431, "RequestHeaderFieldsTooLarge", "Request Header Fields Too Large" },
		{ 500, "InternalError", "Internal Server Error" },
		{ 501, "NotImplemented", "Not Implemented" },
		{ 503, "ServiceUnavailable", "Service Unavailable" },
		{ 504, "Timeout", "Gateway Timeout" },
		{ 505, "HTTPVersionNotSupported", "HTTP Version Not Supported" },
	};

	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		assert_string_equal(status_reason(want[i].code), want[i].reason);
		assert_string_equal(http_reason_phrase(want[i].code), want[i].phrase);
	}
	assert_string_equal(status_reason(418), "BadRequest");
	assert_string_equal(status_reason(599), "InternalError");
	assert_string_equal(http_reason_phrase(418), "Unknown");
}

static void test_status_failure(void **state)
{
	json_t *d = status_details("traces", "tracegate.dev", "web-b");
	json_t *s;
	char *text;

	assert_int_equal(status_add_cause(d, "FieldValueForbidden", "program:1:1", "probe \"kprobe:x\""), 0);
	s = status_new(403, "no", d);
	assert_non_null(s);
	/* the members in the order Kubernetes writes them */
	text = json_dumps(s, JSON_COMPACT);
	assert_string_equal(text, "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},\"status\":\"Failure\","
				  "\"message\":\"no\",\"reason\":\"Forbidden\",\"code\":403,\"details\":"
				  "{\"name\":\"web-b\",\"group\":\"tracegate.dev\",\"kind\":\"traces\",\"causes\":"
				  "[{\"reason\":\"FieldValueForbidden\",\"field\":\"program:1:1\","
				  "\"message\":\"probe \\\"kprobe:x\\\"\"}]}}");
	free(text);
	json_decref(s);

	/* the runner's: no details, a NULL message is "" */
	s = status_new(411, NULL, NULL);
	text = json_dumps(s, JSON_COMPACT);
	assert_string_equal(text, "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},\"status\":\"Failure\","
				  "\"message\":\"\",\"reason\":\"LengthRequired\",\"code\":411}");
	free(text);
	json_decref(s);
}

static void test_status_success(void **state)
{
	json_t *s = status_new(200, "the trace is deleted", status_details("traces", "tracegate.dev", "t-1"));
	char *text = json_dumps(s, JSON_COMPACT);

	assert_string_equal(text, "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},\"status\":\"Success\","
				  "\"message\":\"the trace is deleted\",\"code\":200,\"details\":"
				  "{\"name\":\"t-1\",\"group\":\"tracegate.dev\",\"kind\":\"traces\"}}");
	free(text);
	json_decref(s);
	/* details with nothing given */
	s = status_details(NULL, NULL, NULL);
	assert_int_equal(json_object_size(s), 0);
	json_decref(s);
}

static void test_code_for_error(void **state)
{
	static const struct {
		int err, code;
	} want[] = {
		{ -TG_EPARSE, 400 }, { -TG_EUNSUPPORTED, 400 }, { -TG_ETYPE, 400 }, { -TG_ENOPROBE, 400 },
		{ -EINVAL, 400 }, { -E2BIG, 400 }, { -TG_EAUTHN, 401 }, { -TG_EAUTHZ, 403 },
		{ -TG_EPOLICY, 403 }, { -TG_EVERIFY, 403 }, { -TG_ENOTFOUND, 404 }, { -TG_ENOSCOPE, 404 },
		{ -TG_ELIMIT, 400 }, { -TG_EUPSTREAM, 503 }, { -TG_EAUDIT, 503 }, { -ENOMEM, 500 },
		{ -TG_ECOMPILE, 500 }, { -TG_ELOAD, 500 }, { -EPERM, 500 }, { TG_EPOLICY, 403 },
	};

	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		if (http_code_for_error(want[i].err) != want[i].code)
			fail_msg("error %d: code %d, wanted %d", want[i].err, http_code_for_error(want[i].err),
				 want[i].code);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reasons),
		cmocka_unit_test(test_status_failure),
		cmocka_unit_test(test_status_success),
		cmocka_unit_test(test_code_for_error),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
