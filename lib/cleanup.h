/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Scope-bound cleanup, in the manner of systemd's src/basic:
 *   _cleanup_free_ char *s = NULL;
 *   _cleanup_(json_decrefp) json_t *j = NULL;
 *   return TAKE_PTR(s);             (ownership leaves, the cleanup sees NULL)
 * Destructors accept NULL.  One cleanup header per third-party library
 * lives beside this one (cleanup-*.h).
 */
#ifndef TG_LIB_CLEANUP_H
#define TG_LIB_CLEANUP_H

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <errno.h>

#define _cleanup_(f) __attribute__((cleanup(f)))
#define _cleanup_free_ _cleanup_(freep)
#define _cleanup_close_ _cleanup_(closep)
#define _cleanup_fclose_ _cleanup_(fclosep)

#define TAKE_PTR(p)                                                            \
	({                                                                     \
		__typeof__(p) *_pp_ = &(p);                                    \
		__typeof__(p) _p_ = *_pp_;                                     \
		*_pp_ = NULL;                                                  \
		_p_;                                                           \
	})

#define TAKE_FD(fd)                                                            \
	({                                                                     \
		int *_pfd_ = &(fd);                                            \
		int _fd_ = *_pfd_;                                             \
		*_pfd_ = -1;                                                   \
		_fd_;                                                          \
	})

/* Defines static inline void namep(type **p) calling func(*p) if non-NULL. */
#define DEFINE_TRIVIAL_CLEANUP_FUNC(type, func)                                \
	static inline void func##p(type *p)                                    \
	{                                                                      \
		if (*p)                                                        \
			func(*p);                                              \
	}

static inline void freep(void *p)
{
	free(*(void **)p);
}

static inline void closep(int *fd)
{
	if (*fd >= 0) {
		int saved = errno;
		close(*fd);
		errno = saved;
	}
}

static inline void fclosep(FILE **f)
{
	if (*f)
		fclose(*f);
}

/* Free an array of strings ending in NULL; accepts NULL. */
static inline void strv_free(char **v)
{
	if (!v)
		return;
	for (char **p = v; *p; p++)
		free(*p);
	free(v);
}
DEFINE_TRIVIAL_CLEANUP_FUNC(char **, strv_free)

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define MIN(a, b) ((a) < (b) ? (a) : (b))
#define MAX(a, b) ((a) > (b) ? (a) : (b))

#endif
