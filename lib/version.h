/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What build this is: the release, the git commit and the commit's date
 * (the build date, reproducible: the same tree builds the same bytes).
 * The Makefile writes them into build/gen/version.h when they change, so
 * only lib/version.c recompiles.
 */
#ifndef TG_LIB_VERSION_H
#define TG_LIB_VERSION_H

extern const char tg_version[];     /* "0.1.0" */
extern const char tg_git_commit[];  /* 12 hex digits, "-dirty" when the tree was; or "unknown" */
extern const char tg_build_date[];  /* RFC 3339, UTC; or "unknown" */

#endif
