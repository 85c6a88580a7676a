// SPDX-License-Identifier: Apache-2.0
/* The TracePolicy set in force and its reload (gateway/policies.h). */
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <event2/event.h>
#include "gateway/policies.h"
#include "lib/buf.h"
#include "lib/cleanup.h"
#include "lib/errors.h"
#include "lib/log.h"
#include "lib/util.h"
#include "policy/policy.h"
#include "lib/banned.h"

/* Directory entries looked at for the signature; beyond it the load fails
 * anyway (TG_POLICY_MAX_FILES), so the signature need not be exact. */
#define POLICIES_SIG_MAX_ENTRIES 4096
#define POLICIES_SIG_MAX_BYTES   (1u << 20)

struct gw_policies {
	struct event_base *base;
	char *dir;                    /* NULL: the built-in preset, never reloaded */
	struct tg_policy_set *set;    /* in force, never NULL */
	char sig[65];                 /* signature of the directory last loaded (or tried) */
	uint64_t generation;
	uint64_t failures;
	int ifd;                      /* inotify, or -1 */
	int wd;                       /* watch on dir, or -1 */
	struct event *inotify_ev;
	struct event *settle;         /* the reload after a burst of changes */
	struct event *poll;
};

/* The files tg_policy_set_load_dir reads (policy/policy-load.c). */
static bool policies_yaml_name(const char *n)
{
	size_t len = strlen(n);

	return n[0] != '.' && ((len > 5 && !strcmp(n + len - 5, ".yaml")) ||
			       (len > 4 && !strcmp(n + len - 4, ".yml")));
}

/*
 * A digest of what a load would read: the directory, where `..data`
 * points (a ConfigMap swaps it), and for each policy file (symlinks
 * followed) its identity, size and times.  Cheap: no file is read.
 */
static int policies_signature(const char *dir, char out[65])
{
	_cleanup_buf_ struct buf b = BUF_INIT(POLICIES_SIG_MAX_BYTES);
	struct dirent **names = NULL;
	struct stat st;
	char link[PATH_MAX];
	ssize_t ll;
	int n, r = 0;

	if (stat(dir, &st) < 0)
		return -errno;
	/* Not the directory's times: any file made there (an editor's swap
	 * file) changes them; the listing below shows what matters. */
	r = buf_printf(&b, "dir %ju %ju\n", (uintmax_t)st.st_dev, (uintmax_t)st.st_ino);
	n = scandir(dir, &names, NULL, alphasort);
	if (n < 0)
		return -errno;
	for (int i = 0; i < n && r == 0; i++) {
		const char *name = names[i]->d_name;
		_cleanup_free_ char *path = NULL;

		if (i >= POLICIES_SIG_MAX_ENTRIES)
			break;
		if (strcmp(name, "..data") && !policies_yaml_name(name))
			continue;
		if (asprintf(&path, "%s/%s", dir, name) < 0) {
			path = NULL;
			r = -ENOMEM;
			break;
		}
		if (!strcmp(name, "..data")) {
			ll = readlink(path, link, sizeof(link) - 1);
			link[ll < 0 ? 0 : ll] = '\0';
			r = buf_printf(&b, "..data -> %s\n", link);
			continue;
		}
		if (stat(path, &st) < 0) {
			r = buf_printf(&b, "%s error %d\n", name, errno);
			continue;
		}
		r = buf_printf(&b, "%s %ju %ju %lld %lld.%ld %lld.%ld\n", name, (uintmax_t)st.st_dev,
			       (uintmax_t)st.st_ino, (long long)st.st_size, (long long)st.st_mtim.tv_sec,
			       st.st_mtim.tv_nsec, (long long)st.st_ctim.tv_sec, st.st_ctim.tv_nsec);
	}
	for (int i = 0; i < n; i++)
		free(names[i]);
	free(names);
	if (r < 0)
		return r;
	sha256_hex(b.s, b.len, out);
	return 0;
}

/*
 * One whole set from the directory.  When the directory changed while it
 * was read (a ConfigMap swap between two files), read it again, so a set
 * never mixes two versions.
 */
static int policies_load(const char *dir, struct tg_policy_set **ret, char ret_sig[65], char **ret_err)
{
	char before[65], after[65];
	struct tg_policy_set *set = NULL;
	char *err = NULL;
	int r = -EAGAIN;

	for (int i = 0; i < GW_POLICIES_MAX_RETRIES; i++) {
		bool stable;

		set = tg_policy_set_free(set);
		free(err);
		err = NULL;
		if (policies_signature(dir, before) < 0)
			before[0] = '\0';
		r = tg_policy_set_load_dir(dir, &set, &err);
		if (policies_signature(dir, after) < 0)
			after[0] = '\0';
		stable = before[0] && !strcmp(before, after);
		if (stable || r < 0)
			break;
		if (i + 1 == GW_POLICIES_MAX_RETRIES) {
			/* Still changing after every retry: do not trust it. */
			set = tg_policy_set_free(set);
			if (asprintf(&err, "%s: the directory kept changing while it was read", dir) < 0)
				err = NULL;
			r = -EAGAIN;
		}
	}
	memcpy(ret_sig, after, sizeof(after));
	if (r < 0) {
		tg_policy_set_free(set);
		if (ret_err)
			*ret_err = err;
		else
			free(err);
		return r;
	}
	free(err);
	*ret = set;
	return 0;
}

static void policies_log_names(const struct gw_policies *p, const char *what)
{
	_cleanup_buf_ struct buf b = BUF_INIT(64 * 1024);
	size_t n = tg_policy_set_count(p->set);

	for (size_t i = 0; i < n; i++)
		(void)buf_printf(&b, "%s\"%s\"", i ? ", " : "", tg_policy_set_name(p->set, i));
	log_info("policies \"%s\": %s: %zu %s%s%s%s (generation %" PRIu64 ")", p->dir, what, n,
		 n == 1 ? "policy" : "policies", n ? " (" : "", b.s, n ? ")" : "", p->generation);
	if (n == 0)
		log_warn("policies \"%s\": no TracePolicy documents: every trace will be denied", p->dir);
}

int gw_policies_reload(struct gw_policies *p, char **ret_err)
{
	struct tg_policy_set *set = NULL;
	_cleanup_free_ char *err = NULL;
	int r;

	if (!p->dir)
		return 0;
	r = policies_load(p->dir, &set, p->sig, &err);
	if (r < 0) {
		p->failures++;
		log_error("policies \"%s\": reload failed, the previous set (%zu %s, generation %" PRIu64
			  ") stays in force: %s",
			  p->dir, tg_policy_set_count(p->set),
			  tg_policy_set_count(p->set) == 1 ? "policy" : "policies", p->generation,
			  err ? err : tg_strerror(r));
		if (ret_err)
			*ret_err = TAKE_PTR(err);
		return r;
	}
	tg_policy_set_free(p->set);
	p->set = set;
	p->generation++;
	policies_log_names(p, "reloaded");
	return 0;
}

static void policies_arm_settle(struct gw_policies *p)
{
	struct timeval tv = { .tv_sec = 0, .tv_usec = GW_POLICIES_SETTLE_MS * 1000 };

	/* The first change of a burst sets the time; later ones ride along. */
	if (p->settle && !evtimer_pending(p->settle, NULL))
		evtimer_add(p->settle, &tv);
}

static void policies_settle_cb(evutil_socket_t fd, short what, void *arg)
{
	struct gw_policies *p = arg;
	char sig[65];

	/* Nothing a load would read changed (an editor's swap file, a
	 * touch of the directory): keep the set and the log quiet. */
	if (policies_signature(p->dir, sig) == 0 && !strcmp(sig, p->sig))
		return;
	(void)gw_policies_reload(p, NULL);
}

static int policies_watch_add(struct gw_policies *p)
{
	p->wd = inotify_add_watch(p->ifd, p->dir,
				  IN_CREATE | IN_DELETE | IN_MODIFY | IN_CLOSE_WRITE | IN_MOVED_FROM |
					  IN_MOVED_TO | IN_ATTRIB | IN_DELETE_SELF | IN_MOVE_SELF |
					  IN_ONLYDIR);
	return p->wd < 0 ? -errno : 0;
}

static void policies_inotify_cb(evutil_socket_t fd, short what, void *arg)
{
	struct gw_policies *p = arg;
	char ebuf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
	bool changed = false;
	ssize_t n;

	while ((n = read(p->ifd, ebuf, sizeof(ebuf))) > 0) {
		for (char *q = ebuf; q < ebuf + n;) {
			const struct inotify_event *ie = (const struct inotify_event *)q;

			if (ie->mask & (IN_IGNORED | IN_DELETE_SELF | IN_MOVE_SELF)) {
				/* The directory itself went: the poll puts the watch back. */
				if (p->wd >= 0 && (ie->mask & IN_IGNORED))
					p->wd = -1;
			}
			changed = true;
			q += sizeof(*ie) + ie->len;
		}
	}
	if (changed)
		policies_arm_settle(p);
}

static void policies_poll_cb(evutil_socket_t fd, short what, void *arg)
{
	struct gw_policies *p = arg;
	char sig[65];

	if (p->ifd >= 0 && p->wd < 0 && policies_watch_add(p) == 0)
		log_info("policies \"%s\": watching again", p->dir);
	if (policies_signature(p->dir, sig) < 0 || strcmp(sig, p->sig))
		policies_arm_settle(p);
}

int gw_policies_new(struct event_base *base, const char *dir, struct gw_policies **ret, char **ret_err)
{
	struct gw_policies *p = calloc(1, sizeof(*p));
	struct timeval poll = { .tv_sec = GW_POLICIES_POLL_S };
	int r;

	if (!p)
		return -ENOMEM;
	p->base = base;
	p->ifd = -1;
	p->wd = -1;
	if (!dir) {
		r = tg_policy_set_load_builtin("restricted", &p->set, ret_err);
		if (r < 0)
			goto fail;
		p->generation = 1;
		*ret = p;
		return 0;
	}
	p->dir = strdup(dir);
	if (!p->dir) {
		r = -ENOMEM;
		goto fail;
	}
	r = policies_load(p->dir, &p->set, p->sig, ret_err);
	if (r < 0)
		goto fail;
	p->generation = 1;
	policies_log_names(p, "loaded");
	if (!base) {
		*ret = p;
		return 0;
	}
	p->settle = evtimer_new(base, policies_settle_cb, p);
	p->poll = event_new(base, -1, EV_PERSIST, policies_poll_cb, p);
	if (!p->settle || !p->poll || event_add(p->poll, &poll) < 0) {
		r = -ENOMEM;
		goto fail;
	}
	p->ifd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (p->ifd >= 0 && policies_watch_add(p) == 0) {
		p->inotify_ev = event_new(base, p->ifd, EV_READ | EV_PERSIST, policies_inotify_cb, p);
		if (!p->inotify_ev || event_add(p->inotify_ev, NULL) < 0) {
			r = -ENOMEM;
			goto fail;
		}
	} else {
		/* No inotify (limits, an odd filesystem): the poll still works. */
		log_warn("policies \"%s\": cannot watch with inotify (%s): checking every %d s", p->dir,
			 strerror(errno), GW_POLICIES_POLL_S);
	}
	*ret = p;
	return 0;
fail:
	gw_policies_free(p);
	return r;
}

const struct tg_policy_set *gw_policies_current(const struct gw_policies *p)
{
	return p->set;
}

uint64_t gw_policies_generation(const struct gw_policies *p)
{
	return p->generation;
}

uint64_t gw_policies_failures(const struct gw_policies *p)
{
	return p->failures;
}

bool gw_policies_watching(const struct gw_policies *p)
{
	return p->ifd >= 0 && p->wd >= 0;
}

struct gw_policies *gw_policies_free(struct gw_policies *p)
{
	if (!p)
		return NULL;
	if (p->inotify_ev)
		event_free(p->inotify_ev);
	if (p->settle)
		event_free(p->settle);
	if (p->poll)
		event_free(p->poll);
	if (p->ifd >= 0)
		close(p->ifd);
	tg_policy_set_free(p->set);
	free(p->dir);
	free(p);
	return NULL;
}
