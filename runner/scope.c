// SPDX-License-Identifier: Apache-2.0
/*
 * Scope resolution: pods -> pod-level cgroup v2 directories -> (id, level).
 * docs/internals/scope.md explains the layouts and why the pod level.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <linux/magic.h>
#include "lib/buf.h"
#include "lib/cleanup.h"
#include "lib/errors.h"
#include "lib/util.h"
#include "kube/container.h"
#include "runner/scope.h"
#include "lib/banned.h"

#ifndef CGROUP2_SUPER_MAGIC
#define CGROUP2_SUPER_MAGIC 0x63677270
#endif
#define FILEID_KERNFS 0xfe

/* Limits on what reaches us from the gateway or the host. */
#define SCOPE_MOUNTINFO_MAX (4u << 20)   /* bytes of /proc/self/mountinfo */
#define SCOPE_UID_MAX 128                 /* pod UID length (UUID: 36, hash: 32) */
#define SCOPE_ROOT_MAX 1024               /* --cgroup-root length */
#define SCOPE_LEVEL_MAX 64                /* cgroup depth we accept */
#define SCOPE_MSG_NAME_MAX 160            /* characters of a name quoted in messages */

/* s made safe to quote in a message: printable ASCII except '"' and '\'
 * kept, the rest as \xHH, cut at SCOPE_MSG_NAME_MAX. Never NULL. */
static char *scope_quote(const char *s)
{
	struct buf b = BUF_INIT(SCOPE_MSG_NAME_MAX * 4 + 8);
	char *out;

	(void)buf_add_quoted_name(&b, s, SCOPE_MSG_NAME_MAX);
	out = buf_detach(&b, NULL);
	return out ? out : strdup("?");
}

/* ---- the cgroup2 mount ------------------------------------------------- */

/* Decodes mountinfo's octal escapes (\040 space, \011 tab, \012 newline,
 * \134 backslash) of field [s, s+len). NULL on a NUL byte or no memory. */
static char *mountinfo_unescape(const char *s, size_t len)
{
	_cleanup_free_ char *out = malloc(len + 1);
	size_t i, o = 0;

	if (!out)
		return NULL;
	for (i = 0; i < len; i++) {
		if (s[i] == '\\' && i + 3 < len && s[i + 1] >= '0' && s[i + 1] <= '3' && s[i + 2] >= '0' && s[i + 2] <= '7' &&
		    s[i + 3] >= '0' && s[i + 3] <= '7') {
			int v = (s[i + 1] - '0') * 64 + (s[i + 2] - '0') * 8 + (s[i + 3] - '0');

			if (v == 0)
				return NULL;
			out[o++] = (char)v;
			i += 3;
		} else {
			out[o++] = s[i];
		}
	}
	out[o] = '\0';
	return TAKE_PTR(out);
}

#define MOUNTINFO_FIELDS_MAX 64

int cgroup2_mount_parse(const char *text, char **ret_path, char **ret_err)
{
	_cleanup_free_ char *first = NULL;
	const char *line = text, *next;

	if (!text)
		return tg_fail(ret_err, -EINVAL, "mountinfo: no text");
	for (; *line; line = next) {
		const char *f[MOUNTINFO_FIELDS_MAX];
		size_t flen[MOUNTINFO_FIELDS_MAX];
		const char *end = strchr(line, '\n'), *p;
		size_t nf = 0, sep, i;

		if (!end)
			end = line + strlen(line);
		next = *end ? end + 1 : end;
		/* Fields are separated by single spaces; spaces inside paths are
		 * escaped, so splitting on ' ' is exact. */
		for (p = line; p < end && nf < MOUNTINFO_FIELDS_MAX;) {
			const char *q = p;

			while (q < end && *q != ' ')
				q++;
			f[nf] = p;
			flen[nf++] = (size_t)(q - p);
			p = q < end ? q + 1 : q;
		}
		/* id parent maj:min root mountpoint options [optional...] - fstype source superopts */
		for (sep = 6; sep < nf; sep++)
			if (flen[sep] == 1 && f[sep][0] == '-')
				break;
		if (nf < 6 || sep + 1 >= nf)
			continue;
		if (flen[sep + 1] != 7 || memcmp(f[sep + 1], "cgroup2", 7) != 0)
			continue;
		{
			_cleanup_free_ char *root = mountinfo_unescape(f[3], flen[3]);
			_cleanup_free_ char *mnt = mountinfo_unescape(f[4], flen[4]);

			if (!root || !mnt || mnt[0] != '/')
				continue;
			for (i = 0; mnt[i]; i++)
				if ((unsigned char)mnt[i] < 0x20)
					break;
			if (mnt[i])
				continue;
			if (strcmp(root, "/") == 0) {
				*ret_path = TAKE_PTR(mnt);
				return 0;
			}
			if (!first)
				first = TAKE_PTR(mnt);
		}
	}
	if (!first)
		return tg_fail(ret_err, -ENOENT, "mountinfo: no cgroup2 mount (cgroup v2 is required)");
	*ret_path = TAKE_PTR(first);
	return 0;
}

int cgroup2_mount_find(char **ret_path, char **ret_err)
{
	_cleanup_free_ char *text = NULL;
	int r;

	r = read_file("/proc/self/mountinfo", SCOPE_MOUNTINFO_MAX, &text, NULL);
	if (r < 0)
		return tg_fail(ret_err, r, "\"/proc/self/mountinfo\": %s", strerror(-r));
	r = cgroup2_mount_parse(text, ret_path, ret_err);
	if (r < 0 && ret_err && *ret_err) {
		char *m = NULL;

		if (asprintf(&m, "\"/proc/self/mountinfo\": %s", *ret_err) >= 0) {
			free(*ret_err);
			*ret_err = m;
		}
	}
	return r;
}

/* ---- one directory ------------------------------------------------------ */

/* The kernfs id of a cgroup2 directory through the file-handle API. */
static int kernfs_id(const char *path, uint64_t *ret)
{
	union {
		struct file_handle fh;
		char raw[sizeof(struct file_handle) + MAX_HANDLE_SZ];
	} h;
	int mount_id;
	uint64_t id;

	memset(&h, 0, sizeof(h));
	h.fh.handle_bytes = MAX_HANDLE_SZ;
	if (name_to_handle_at(AT_FDCWD, path, &h.fh, &mount_id, 0) < 0)
		return -errno;
	if (h.fh.handle_type != FILEID_KERNFS || h.fh.handle_bytes != sizeof(id))
		return -EPROTO;
	memcpy(&id, h.fh.f_handle, sizeof(id));
	*ret = id;
	return 0;
}

int scope_target_from_path(const char *cgroup2_mnt, const char *dir, const char *label,
			   struct scope_target *t, char **ret_err)
{
	_cleanup_free_ char *m = NULL, *d = NULL, *qd = NULL;
	_cleanup_free_ char *lab = NULL;
	struct stat st;
	struct statfs sfs;
	size_t mlen;
	const char *rest;
	int level = 0;
	bool on_cgroup2;

	if (!cgroup2_mnt || !dir)
		return tg_fail(ret_err, -EINVAL, "scope: no cgroup2 mount or directory given");
	qd = scope_quote(dir);
	m = realpath(cgroup2_mnt, NULL);
	if (!m) {
		_cleanup_free_ char *qm = scope_quote(cgroup2_mnt);

		return tg_fail(ret_err, -errno, "cgroup2 mount \"%s\": %s", qm, strerror(errno));
	}
	d = realpath(dir, NULL);
	if (!d) {
		int e = errno;

		return tg_fail(ret_err, e == ENOENT || e == ENOTDIR ? -TG_ENOSCOPE : -e,
				  "cgroup \"%s\": %s", qd, strerror(e));
	}
	/* The directory must lie in the mount (after symlinks are resolved). */
	mlen = strcmp(m, "/") == 0 ? 0 : strlen(m);
	if (strncmp(d, m, mlen) != 0 || (d[mlen] != '/' && d[mlen] != '\0'))
		return tg_fail(ret_err, -TG_ENOSCOPE, "cgroup \"%s\" is not under the cgroup2 mount \"%s\"",
				  qd, m);
	for (rest = d + mlen; *rest; rest++)
		if (*rest == '/' && rest[1] && rest[1] != '/')
			level++;
	if (level > SCOPE_LEVEL_MAX)
		return tg_fail(ret_err, -TG_ELIMIT, "cgroup \"%s\" is %d levels deep (limit %d)", qd,
				  level, SCOPE_LEVEL_MAX);
	if (stat(d, &st) < 0)
		return tg_fail(ret_err, -errno, "cgroup \"%s\": %s", qd, strerror(errno));
	if (!S_ISDIR(st.st_mode))
		return tg_fail(ret_err, -ENOTDIR, "cgroup \"%s\" is not a directory", qd);
	_Static_assert(sizeof(st.st_ino) == 8, "st_ino must be 64-bit to be the kernfs id");

	if (statfs(d, &sfs) < 0)
		return tg_fail(ret_err, -errno, "cgroup \"%s\": %s", qd, strerror(errno));
	on_cgroup2 = sfs.f_type == CGROUP2_SUPER_MAGIC;
	if (on_cgroup2) {
		uint64_t id = 0;
		int r = kernfs_id(d, &id);

		if (r < 0)
			return tg_fail(ret_err, r, "cgroup \"%s\": no kernfs file handle: %s", qd,
					  strerror(-r));
		if (id != (uint64_t)st.st_ino)
			return tg_fail(ret_err, -EPROTO,
					  "cgroup \"%s\": inode %llu differs from kernfs id %llu (32-bit ino_t?)",
					  qd, (unsigned long long)st.st_ino, (unsigned long long)id);
	} else {
		/* A plain directory tree stands in for the hierarchy in unit
		 * tests; below a real cgroup2 mount everything must be cgroup2. */
		if (statfs(m, &sfs) < 0)
			return tg_fail(ret_err, -errno, "cgroup2 mount \"%s\": %s", m, strerror(errno));
		if (sfs.f_type == CGROUP2_SUPER_MAGIC)
			return tg_fail(ret_err, -EXDEV, "cgroup \"%s\" is not on the cgroup2 file system", qd);
	}
	lab = strdup(label ? label : d);
	if (!lab)
		return -ENOMEM;
	t->cgid = (uint64_t)st.st_ino;
	t->level = level;
	t->label = TAKE_PTR(lab);
	t->path = TAKE_PTR(d);
	return 0;
}

/* ---- pods ----------------------------------------------------------------- */

static const char *const qos_names[] = { "guaranteed", "burstable", "besteffort" };

/* Kubernetes UIDs are UUIDs; static pods use an MD5 hex hash. Anything
 * else that could change the path we build is refused. */
static int pod_uid_check(const char *uid, char **ret_err)
{
	_cleanup_free_ char *q = NULL;
	size_t i, len;

	if (!uid || !*uid)
		return tg_fail(ret_err, -EINVAL, "pod uid: empty");
	len = strnlen(uid, SCOPE_UID_MAX + 1);
	q = scope_quote(uid);
	if (len > SCOPE_UID_MAX)
		return tg_fail(ret_err, -EINVAL, "pod uid \"%s\": longer than %d characters", q,
				  SCOPE_UID_MAX);
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)uid[i];

		if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      c == '-'))
			return tg_fail(ret_err, -EINVAL,
					  "pod uid \"%s\": character %zu (0x%02x) is not allowed (letters, digits and '-' only)",
					  q, i + 1, c);
	}
	return 0;
}

/* *ret: -1 when none is given (try all), else the index into qos_names. */
static int qos_parse(const char *qos, int *ret, char **ret_err)
{
	_cleanup_free_ char *q = NULL;
	size_t i;

	*ret = -1;
	if (!qos || !*qos)
		return 0;
	for (i = 0; i < ARRAY_SIZE(qos_names); i++)
		if (strcasecmp(qos, qos_names[i]) == 0) {
			*ret = (int)i;
			return 0;
		}
	q = scope_quote(qos);
	return tg_fail(ret_err, -EINVAL, "qos class \"%s\": not Guaranteed, Burstable or BestEffort", q);
}

/* The cgroup root made canonical: "" for the top, else "/a/b" without
 * duplicate or trailing slashes. Refuses "." and ".." components and
 * control characters. */
static int cgroup_root_normalize(const char *root, char **ret, char **ret_err)
{
	struct buf b = BUF_INIT(SCOPE_ROOT_MAX + 2);
	_cleanup_free_ char *q = NULL;
	const char *p = root ? root : "";

	if (strlen(p) > SCOPE_ROOT_MAX) {
		q = scope_quote(p);
		return tg_fail(ret_err, -EINVAL, "cgroup root \"%s\": longer than %d characters", q,
				  SCOPE_ROOT_MAX);
	}
	while (*p) {
		const char *s;
		size_t n, i;

		while (*p == '/')
			p++;
		if (!*p)
			break;
		s = p;
		while (*p && *p != '/')
			p++;
		n = (size_t)(p - s);
		for (i = 0; i < n; i++)
			if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
				break;
		if (i < n || (n == 1 && s[0] == '.') || (n == 2 && s[0] == '.' && s[1] == '.')) {
			buf_release(&b);
			q = scope_quote(root);
			return tg_fail(ret_err, -EINVAL,
					  "cgroup root \"%s\": \".\", \"..\" and control characters are not allowed",
					  q);
		}
		if (buf_addc(&b, '/') < 0 || buf_add(&b, s, n) < 0) {
			buf_release(&b);
			return -ENOMEM;
		}
	}
	*ret = buf_detach(&b, NULL);
	return *ret ? 0 : -ENOMEM;
}

/* systemd's name for the components: each '-' escaped to '_', joined by
 * '-', ".slice" added, then expanded as runc's ExpandSlice does:
 * a-b-c.slice -> /a.slice/a-b.slice/a-b-c.slice */
static int systemd_expand(struct buf *out, const char *const *comp, size_t n)
{
	struct buf name = BUF_INIT(PATH_MAX);
	size_t i;
	int r = 0;

	for (i = 0; i < n && r >= 0; i++) {
		const char *c;

		if (i)
			r = buf_addc(&name, '-');
		for (c = comp[i]; *c && r >= 0; c++)
			r = buf_addc(&name, *c == '-' ? '_' : *c);
	}
	for (i = 0; i <= name.len && r >= 0; i++) {
		if (i == name.len || name.s[i] == '-') {
			r = buf_addc(out, '/');
			if (r >= 0)
				r = buf_add(out, name.s, i);
			if (r >= 0)
				r = buf_adds(out, ".slice");
		}
	}
	buf_release(&name);
	return r;
}

#define SCOPE_MAX_ROOT_COMPONENTS 16

/* The path of a pod's cgroup, relative to the mount, in one layout. */
static int pod_path(struct buf *out, const char *root, bool systemd, int qos, const char *uid)
{
	_cleanup_free_ char *podc = NULL;
	const char *comp[SCOPE_MAX_ROOT_COMPONENTS + 3];
	size_t n = 0;
	int r;

	if (asprintf(&podc, "pod%s", uid) < 0)
		return -ENOMEM;
	if (!systemd) {
		r = buf_printf(out, "%s/kubepods", root);
		if (r >= 0 && qos != 0)
			r = buf_printf(out, "/%s", qos_names[qos]);
		if (r >= 0)
			r = buf_printf(out, "/%s", podc);
		return r;
	}
	{
		const char *base = strrchr(root, '/');
		_cleanup_free_ char *slice = NULL;
		size_t blen;

		base = base ? base + 1 : root;
		blen = strlen(base);
		if (blen > 6 && strcmp(base + blen - 6, ".slice") == 0) {
			/* kubelet --cgroup-root=/foo-bar.slice with the systemd
			 * driver: the root's own components, as
			 * ParseSystemdToCgroupName reads them, come first and
			 * everything is expanded from the top. "-.slice" is the
			 * root slice itself. */
			char *p, *s;

			slice = strndup(base, blen - 6);
			if (!slice)
				return -ENOMEM;
			if (strcmp(slice, "-") != 0) {
				for (p = slice; p; p = s) {
					s = strchr(p, '-');
					if (s)
						*s++ = '\0';
					if (!*p || n >= SCOPE_MAX_ROOT_COMPONENTS)
						return -EINVAL;
					for (char *u = p; *u; u++)
						if (*u == '_')
							*u = '-';
					comp[n++] = p;
				}
			}
			comp[n++] = "kubepods";
			if (qos != 0)
				comp[n++] = qos_names[qos];
			comp[n++] = podc;
			return systemd_expand(out, comp, n);
		}
		/* A plain directory as the root (tests): the layout below it. */
		r = buf_adds(out, root);
		if (r < 0)
			return r;
		comp[n++] = "kubepods";
		if (qos != 0)
			comp[n++] = qos_names[qos];
		comp[n++] = podc;
		return systemd_expand(out, comp, n);
	}
}

int scope_find_pod(const char *cgroup2_mnt, const char *cgroup_root, const char *pod_uid,
		   const char *qos, const char *label, struct scope_target *t, char **ret_err)
{
	_cleanup_free_ char *root = NULL, *quid = NULL;
	struct buf tried = BUF_INIT(16384);
	int order[ARRAY_SIZE(qos_names)], n = 0, q, i, r;

	if (!cgroup2_mnt)
		return tg_fail(ret_err, -EINVAL, "scope: no cgroup2 mount given");
	r = pod_uid_check(pod_uid, ret_err);
	if (r < 0)
		return r;
	r = qos_parse(qos, &q, ret_err);
	if (r < 0)
		return r;
	r = cgroup_root_normalize(cgroup_root, &root, ret_err);
	if (r < 0)
		return r;
	/* The hinted class first, then the rest (a stale hint still finds the pod). */
	if (q >= 0)
		order[n++] = q;
	for (i = 1; i <= 3; i++) {
		int c = i % 3; /* burstable, besteffort, guaranteed */

		if (c != q)
			order[n++] = c;
	}
	for (i = 0; i < n; i++) {
		for (int layout = 0; layout < 2; layout++) {
			struct buf path = BUF_INIT(PATH_MAX);
			struct stat st;

			r = buf_adds(&path, strcmp(cgroup2_mnt, "/") == 0 ? "" : cgroup2_mnt);
			if (r >= 0)
				r = pod_path(&path, root, layout == 1, order[i], pod_uid);
			if (r < 0) {
				buf_release(&path);
				buf_release(&tried);
				quid = scope_quote(cgroup_root);
				return tg_fail(ret_err, r == -EINVAL ? -EINVAL : r,
						  "cgroup root \"%s\": cannot build the pod path: %s", quid,
						  strerror(-r));
			}
			if (lstat(path.s, &st) == 0) {
				if (S_ISDIR(st.st_mode)) {
					r = scope_target_from_path(cgroup2_mnt, path.s, label, t, ret_err);
					buf_release(&path);
					buf_release(&tried);
					return r;
				}
			} else if (errno != ENOENT && errno != ENOTDIR) {
				int e = errno;
				_cleanup_free_ char *qp = scope_quote(path.s);

				buf_release(&path);
				buf_release(&tried);
				return tg_fail(ret_err, -e, "cgroup \"%s\": %s", qp, strerror(e));
			}
			if (tried.len)
				(void)buf_adds(&tried, ", ");
			(void)buf_printf(&tried, "\"%s\"", path.s);
			buf_release(&path);
		}
	}
	quid = scope_quote(pod_uid);
	r = tg_fail(ret_err, -TG_ENOSCOPE, "pod \"%s\": no cgroup on this node (tried %s)", quid,
		       tried.s);
	buf_release(&tried);
	return r;
}

/* ---- containers ----------------------------------------------------------- */

#define SCOPE_CTR_NAMES 3

/* The names a container's cgroup has below its pod's, by runtime: the
 * systemd driver's scope unit first, then the cgroupfs driver's. */
static size_t container_dir_names(const struct tg_container_id *id, char names[][TG_CONTAINER_HEX_LEN + 32])
{
	static const char *const fmt[][SCOPE_CTR_NAMES] = {
		[TG_CTR_CONTAINERD] = { "cri-containerd-%s.scope", "%s", NULL },
		[TG_CTR_CRIO] = { "crio-%s.scope", "crio-%s", "%s" },
		[TG_CTR_DOCKER] = { "docker-%s.scope", "%s", NULL },
	};
	size_t n = 0;

	for (size_t i = 0; i < SCOPE_CTR_NAMES && fmt[id->runtime][i]; i++)
		snprintf(names[n++], TG_CONTAINER_HEX_LEN + 32, fmt[id->runtime][i], id->hex);
	return n;
}

/* t, found at pod->path/name, must be that very directory (dev, ino)
 * directly below the pod's: else it is released and refused. */
static int container_is_child(const struct scope_target *pod, const char *name, const struct stat *st,
			      struct scope_target *t, const char *qn, char **ret_err)
{
	size_t pl = strlen(pod->path);

	if (t->level == pod->level + 1 && strncmp(t->path, pod->path, pl) == 0 && t->path[pl] == '/' &&
	    strcmp(t->path + pl + 1, name) == 0 && t->cgid == (uint64_t)st->st_ino)
		return 0;
	scope_target_release(t);
	return tg_fail(ret_err, -TG_ENOSCOPE, "container \"%s\": its cgroup is not a directory directly below the pod's",
		       qn);
}

int scope_find_container(const char *cgroup2_mnt, const struct scope_target *pod, const char *container_id,
			 const char *name, struct scope_target *t, char **ret_err)
{
	char names[SCOPE_CTR_NAMES][TG_CONTAINER_HEX_LEN + 32];
	_cleanup_free_ char *qn = NULL, *qid = NULL;
	struct buf tried = BUF_INIT(1024);
	struct tg_container_id id;
	_cleanup_close_ int dfd = -1;
	size_t n;
	int r;

	if (!cgroup2_mnt || !pod || !pod->path)
		return tg_fail(ret_err, -EINVAL, "scope: no cgroup2 mount or pod given");
	qn = scope_quote(name ? name : "");
	if (tg_container_id_parse(container_id, &id) < 0) {
		qid = scope_quote(container_id);
		return tg_fail(ret_err, -EINVAL,
			       "container \"%s\": ID \"%s\" is not containerd://, cri-o:// or docker:// and 64 lowercase hex digits",
			       qn, qid);
	}
	dfd = open(pod->path, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (dfd < 0)
		return tg_fail(ret_err, errno == ENOENT ? -TG_ENOSCOPE : -errno, "pod cgroup \"%s\": %s", pod->path,
			       strerror(errno));
	n = container_dir_names(&id, names);
	for (size_t i = 0; i < n; i++) {
		_cleanup_free_ char *path = NULL;
		struct stat st;

		if (fstatat(dfd, names[i], &st, AT_SYMLINK_NOFOLLOW) < 0) {
			if (errno == ENOENT) {
				(void)buf_printf(&tried, "%s\"%s\"", tried.len ? ", " : "", names[i]);
				continue;
			}
			buf_release(&tried);
			return tg_fail(ret_err, -errno, "container \"%s\": cgroup \"%s/%s\": %s", qn, pod->path,
				       names[i], strerror(errno));
		}
		buf_release(&tried);
		if (!S_ISDIR(st.st_mode))
			return tg_fail(ret_err, -TG_ENOSCOPE, "container \"%s\": \"%s/%s\" is not a directory", qn,
				       pod->path, names[i]);
		if (asprintf(&path, "%s/%s", pod->path, names[i]) < 0)
			return -ENOMEM;
		r = scope_target_from_path(cgroup2_mnt, path, pod->label, t, ret_err);
		if (r < 0)
			return r;
		return container_is_child(pod, names[i], &st, t, qn, ret_err);
	}
	r = tg_fail(ret_err, -TG_ENOSCOPE, "container \"%s\" (%s): no cgroup below the pod's \"%s\" (tried %s)", qn,
		    tg_container_runtime_name(id.runtime), pod->path, tried.s ? tried.s : "");
	buf_release(&tried);
	return r;
}

/* ---- sets of targets --------------------------------------------------- */

void scope_target_release(struct scope_target *t)
{
	if (!t)
		return;
	free(t->label);
	free(t->path);
	t->label = t->path = NULL;
	t->cgid = 0;
	t->level = 0;
}

int scope_add(struct scope *s, struct scope_target *t)
{
	struct scope_target *n;

	/* The same cgroup twice (a pod named twice) is one target. */
	if (scope_lookup(s, t->cgid)) {
		scope_target_release(t);
		return 0;
	}
	if (s->n >= SCOPE_MAX_TARGETS)
		return -TG_ELIMIT;
	n = realloc(s->targets, (s->n + 1) * sizeof(*n));
	if (!n)
		return -ENOMEM;
	s->targets = n;
	s->targets[s->n++] = *t;
	t->label = t->path = NULL;
	return 0;
}

void scope_release(struct scope *s)
{
	size_t i;

	if (!s)
		return;
	for (i = 0; i < s->n; i++)
		scope_target_release(&s->targets[i]);
	free(s->targets);
	s->targets = NULL;
	s->n = 0;
}

const struct scope_target *scope_lookup(const struct scope *s, uint64_t cgid)
{
	size_t i;

	if (!s)
		return NULL;
	for (i = 0; i < s->n; i++)
		if (s->targets[i].cgid == cgid)
			return &s->targets[i];
	return NULL;
}
