// SPDX-License-Identifier: Apache-2.0
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include "lib/errors.h"

static const char *const tg_error_text[] = {
	[TG_EPARSE - TG_E_BASE] = "program does not parse",
	[TG_EUNSUPPORTED - TG_E_BASE] = "construct not supported",
	[TG_EPOLICY - TG_E_BASE] = "denied by policy",
	[TG_EVERIFY - TG_E_BASE] = "object refused by verifier",
	[TG_ENOSCOPE - TG_E_BASE] = "scope not found on this node",
	[TG_EAUTHN - TG_E_BASE] = "authentication failed",
	[TG_EAUTHZ - TG_E_BASE] = "not authorized",
	[TG_EUPSTREAM - TG_E_BASE] = "upstream unavailable",
	[TG_ELIMIT - TG_E_BASE] = "limit exceeded",
	[TG_ECOMPILE - TG_E_BASE] = "compilation failed",
	[TG_ELOAD - TG_E_BASE] = "kernel refused the program",
	[TG_ENOATTACH - TG_E_BASE] = "no probe attached",
	[TG_EAUDIT - TG_E_BASE] = "audit log not writable",
	[TG_ECONFIG - TG_E_BASE] = "bad configuration",
	[TG_ENOTFOUND - TG_E_BASE] = "not found",
	[TG_ETYPE - TG_E_BASE] = "type error",
	[TG_ENOPROBE - TG_E_BASE] = "no probe of the program exists here",
};

const char *tg_strerror(int err)
{
	if (err < 0)
		err = -err;
	if (err > TG_E_BASE && err - TG_E_BASE < (int)(sizeof(tg_error_text) / sizeof(tg_error_text[0])) &&
	    tg_error_text[err - TG_E_BASE])
		return tg_error_text[err - TG_E_BASE];
	return strerror(err);
}

int tg_fail(char **ret_err, int r, const char *fmt, ...)
{
	va_list ap;

	if (ret_err) {
		va_start(ap, fmt);
		if (vasprintf(ret_err, fmt, ap) < 0)
			*ret_err = NULL;
		va_end(ap);
	}
	return r;
}
