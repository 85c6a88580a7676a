/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Fallible functions return int: >= 0 on success, -errno or -TG_E* on
 * failure.  tracegate's own failures have codes above 4000 in this one
 * enum, which only ever grows: never renumber, never reuse.
 */
#ifndef TG_LIB_ERRORS_H
#define TG_LIB_ERRORS_H

enum tg_error {
	TG_E_BASE = 4000,
	TG_EPARSE = 4001,          /* program text does not parse */
	TG_EUNSUPPORTED = 4002,    /* construct outside the supported subset */
	TG_EPOLICY = 4003,         /* a policy refused the request */
	TG_EVERIFY = 4004,         /* ELF object verifier refused the object */
	TG_ENOSCOPE = 4005,        /* target cgroup / pod not found on this node */
	TG_EAUTHN = 4006,          /* authentication failed */
	TG_EAUTHZ = 4007,          /* authorization denied */
	TG_EUPSTREAM = 4008,       /* API server or runner unreachable / bad answer */
	TG_ELIMIT = 4009,          /* a named limit was exceeded */
	TG_ECOMPILE = 4010,        /* clang failed on generated code */
	TG_ELOAD = 4011,           /* kernel refused to load or attach */
	TG_ENOATTACH = 4012,       /* no probe at all could be attached */
	TG_EAUDIT = 4013,          /* audit log could not be written */
	TG_ECONFIG = 4014,         /* bad configuration file */
	TG_ENOTFOUND = 4015,       /* API object not found */
	TG_ETYPE = 4016,           /* type error in a program */
	TG_ENOPROBE = 4017,        /* none of a program's probes exists on this node */
};

/* Text for any code this project returns (negative or positive). */
const char *tg_strerror(int err);

/* Sets *ret_err (when ret_err is non-NULL; caller frees) to the formatted
 * message and returns r, so failures read `return tg_fail(ret_err, -EINVAL,
 * "...", ...);`.  On allocation failure *ret_err is NULL. */
int tg_fail(char **ret_err, int r, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#endif
