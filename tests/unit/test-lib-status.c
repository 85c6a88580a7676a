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

/* What status_new writes, status_read reads back (through the bytes on
 * the wire); what is not a Status reads as nothing. */
static void test_status_read(void **state)
{
	json_t *d = status_details("traces", "tracegate.dev", "pod/web-a"), *s, *back;
	struct status_view v;
	struct status_cause c;
	char *text, *m;

	(void)state;
	assert_int_equal(status_add_cause(d, "NodeFailed", "node-1", "runner lost"), 0);
	assert_int_equal(status_add_cause(d, "Conflict", "claimedBy", "gw-2"), 0);
	s = status_new(503, "no node could start it", d);
	text = json_dumps(s, JSON_COMPACT);
	back = json_loads(text, 0, NULL);
	assert_int_equal(status_read(back, &v), 0);
	assert_int_equal(v.code, 503);
	assert_string_equal(v.status, "Failure");
	assert_string_equal(v.reason, "ServiceUnavailable");
	assert_string_equal(v.message, "no node could start it");
	assert_string_equal(v.kind, "traces");
	assert_string_equal(v.group, "tracegate.dev");
	assert_string_equal(v.name, "pod/web-a");
	assert_int_equal(status_cause(&v, 0, &c), 0);
	assert_string_equal(c.reason, "NodeFailed");
	assert_string_equal(c.field, "node-1");
	assert_string_equal(c.message, "runner lost");
	assert_int_equal(status_cause(&v, 2, &c), -ENOENT);
	assert_string_equal(status_cause_message(&v, "claimedBy"), "gw-2");
	assert_null(status_cause_message(&v, "nobody"));
	m = status_body_message(text, strlen(text));
	assert_string_equal(m, "no node could start it");
	free(m);
	free(text);
	json_decref(back);
	json_decref(s);

	/* a Success has no reason; members of another type read as missing */
	back = json_loads("{\"kind\":\"Status\",\"status\":\"Success\",\"code\":\"200\",\"message\":7,"
			  "\"details\":{\"causes\":{\"field\":\"x\"}}}", 0, NULL);
	assert_int_equal(status_read(back, &v), 0);
	assert_int_equal(v.code, 0);
	assert_null(v.reason);
	assert_null(v.message);
	assert_null(v.causes);
	assert_int_equal(status_cause(&v, 0, &c), -ENOENT);
	json_decref(back);
	/* a cause that is not an object reads as all NULL */
	back = json_loads("{\"details\":{\"causes\":[3,{\"field\":\"f\",\"message\":\"m\"}]}}", 0, NULL);
	assert_int_equal(status_read(back, &v), 0);
	assert_int_equal(status_cause(&v, 0, &c), 0);
	assert_null(c.field);
	assert_string_equal(status_cause_message(&v, "f"), "m");
	json_decref(back);
	/* another kind, not an object, not JSON */
	back = json_loads("{\"kind\":\"Pod\",\"message\":\"x\"}", 0, NULL);
	assert_int_equal(status_read(back, &v), -EINVAL);
	assert_null(v.message);
	json_decref(back);
	back = json_loads("[1]", 0, NULL);
	assert_int_equal(status_read(back, &v), -EINVAL);
	json_decref(back);
	assert_int_equal(status_read(NULL, &v), -EINVAL);
	assert_null(status_body_message("<html>bad gateway</html>", 24));
	assert_null(status_body_message(NULL, 0));
	assert_null(status_body_message("{\"kind\":\"Status\"}", 17));
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
		cmocka_unit_test(test_status_read),
		cmocka_unit_test(test_code_for_error),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
