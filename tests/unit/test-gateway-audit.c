// SPDX-License-Identifier: Apache-2.0
/* The audit log: chain, HMAC, rotation, durability, concurrency, verify. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>
#include <jansson.h>
#include "lib/buf.h"
#include "lib/cleanup.h"
#include "lib/errors.h"
#include "lib/util.h"
#include "gateway/audit.h"
#include "gateway/detached-end.h"
#include "gateway/detached-lost.h"
#include "gateway/runner-end.h"
#include "gateway/commands.h"
#include "gateway/event.h"
#include "wire/fields.h"
#include "wire/detached.h"

struct fx {
	char dir[64];
	char path[128];
	char key[128];
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	int fd;

	snprintf(f->dir, sizeof(f->dir), "/tmp/tg-audit-XXXXXX");
	if (!mkdtemp(f->dir))
		return -1;
	snprintf(f->path, sizeof(f->path), "%s/audit.log", f->dir);
	snprintf(f->key, sizeof(f->key), "%s/key", f->dir);
	fd = open(f->key, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0 || write(fd, "0123456789abcdef-secret-key", 27) != 27)
		return -1;
	close(fd);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	char cmd[200];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	if (system(cmd) != 0)
		return -1;
	free(f);
	return 0;
}

static json_t *event(int i)
{
	char id[64], user[32];

	snprintf(id, sizeof(id), "00000000-0000-0000-0000-%012d", i);
	snprintf(user, sizeof(user), "user-%d", i);
	return json_pack("{s:s,s:s,s:s,s:s,s:{s:s,s:[s]},s:{s:s,s:s,s:s},s:{s:s,s:s},"
			 "s:{s:i},s:{s:s,s:I}}",
			 "apiVersion", "audit.k8s.io/v1", "kind", "Event", "auditID", id,
			 "stage", "ResponseStarted", "user", "username", user, "groups", "devs",
			 "objectRef", "resource", "traces", "namespace", "team-a", "name", "pod/web-a",
			 "annotations", "authorization.k8s.io/decision", i % 3 ? "allow" : "forbid",
			 "authorization.k8s.io/reason", "because", "responseStatus", "code",
			 i % 3 ? 200 : 403, "tracegate", "programSHA256", "ab", "events",
			 (json_int_t)i);
}

static void write_log(const char *path, const struct audit_opts *o, int from, int n)
{
	struct audit_log *log = NULL;
	char *err = NULL;

	assert_int_equal(audit_log_open(path, o, &log, &err), 0);
	for (int i = from; i < from + n; i++) {
		json_t *ev = event(i);

		assert_int_equal(audit_log_append(log, ev, &err), 0);
		json_decref(ev);
	}
	audit_log_close(log);
}

static char *slurp(const char *path, size_t *len)
{
	char *data = NULL;
	int r = read_file(path, 64 << 20, &data, len);

	if (r < 0)
		fail_msg("reading \"%s\": %s", path, strerror(-r));
	return data;
}

static void spit(const char *path, const char *d, size_t len)
{
	assert_int_equal(write_file_atomic(path, d, len, 0600), 0);
}

/* Line k (1-based) of d: start offset and length including its newline. */
static void line_at(const char *d, size_t len, int k, size_t *off, size_t *n)
{
	size_t s = 0;

	for (int i = 1; i < k; i++) {
		const char *nl = memchr(d + s, '\n', len - s);

		assert_non_null(nl);
		s = (size_t)(nl - d) + 1;
	}
	const char *nl = memchr(d + s, '\n', len - s);

	if (!nl)
		fail_msg("line %d has no newline", k);
	*off = s;
	*n = (size_t)(nl - (d + s)) + 1;
}

static int verify1(const char *path, const unsigned char *key, size_t keylen,
		   struct audit_verify_result *res)
{
	struct audit_verify_opts o = { .sz = sizeof(o), .key = key, .keylen = keylen };
	const char *files[] = { path };

	return audit_verify(files, 1, &o, res);
}

static void expect_broken(const char *path, const unsigned char *key, size_t keylen, size_t line,
			  const char *what)
{
	struct audit_verify_result res;

	assert_int_equal(verify1(path, key, keylen, &res), -TG_EAUDIT);
	if (res.line != line || !strstr(res.problem, what))
		fail_msg("want line %zu \"%s\", got line %zu: %s", line, what, res.line, res.problem);
	audit_verify_result_release(&res);
}

static void test_untouched_log_verifies(void **state)
{
	struct fx *f = *state;
	struct audit_verify_result res;
	_cleanup_free_ char *d = NULL;
	size_t len;

	write_log(f->path, NULL, 1, 5);
	assert_int_equal(verify1(f->path, NULL, 0, &res), 0);
	assert_int_equal(res.records, 5);
	assert_int_equal(res.first_seq, 1);
	assert_string_equal(res.first_prev, AUDIT_ZERO_HASH);
	audit_verify_result_release(&res);

	/* compact, sorted keys, chain fields last; first record chains from zeros */
	d = slurp(f->path, &len);
	assert_true(str_has_prefix(d, "{\"annotations\":{"));
	assert_non_null(strstr(d, ",\"seq\":1,\"prevHash\":\"" AUDIT_ZERO_HASH "\"}\n"));
	assert_null(strstr(d, ": "));
}

static void test_reopen_continues_chain(void **state)
{
	struct fx *f = *state;
	struct audit_verify_result res;

	write_log(f->path, NULL, 1, 3);
	write_log(f->path, NULL, 4, 2);
	assert_int_equal(verify1(f->path, NULL, 0, &res), 0);
	assert_int_equal(res.records, 5);
	audit_verify_result_release(&res);
}

static void test_edited_byte(void **state)
{
	struct fx *f = *state;
	_cleanup_free_ char *d = NULL;
	size_t len, off, n;
	char *p;

	write_log(f->path, NULL, 1, 5);
	d = slurp(f->path, &len);
	line_at(d, len, 3, &off, &n);
	p = memmem(d + off, n, "user-3", 6);
	assert_non_null(p);
	p[5] = '9';   /* still valid JSON: only the chain can tell */
	spit(f->path, d, len);
	/* the edited record's successor no longer links to it */
	expect_broken(f->path, NULL, 0, 4, "hash mismatch");
}

static void test_deleted_line(void **state)
{
	struct fx *f = *state;
	_cleanup_free_ char *d = NULL;
	size_t len, off, n;

	write_log(f->path, NULL, 1, 5);
	d = slurp(f->path, &len);
	line_at(d, len, 3, &off, &n);
	memmove(d + off, d + off + n, len - off - n);
	spit(f->path, d, len - n);
	expect_broken(f->path, NULL, 0, 3, "hash mismatch");
}

static void test_deleted_first_line(void **state)
{
	struct fx *f = *state;
	_cleanup_free_ char *d = NULL;
	size_t len, off, n;

	write_log(f->path, NULL, 1, 3);
	d = slurp(f->path, &len);
	line_at(d, len, 1, &off, &n);
	spit(f->path, d + n, len - n);
	expect_broken(f->path, NULL, 0, 1, "chain does not start here");
}

static void test_swapped_lines(void **state)
{
	struct fx *f = *state;
	_cleanup_free_ char *d = NULL, *out = NULL;
	size_t len, o2, n2, o3, n3;

	write_log(f->path, NULL, 1, 5);
	d = slurp(f->path, &len);
	line_at(d, len, 2, &o2, &n2);
	line_at(d, len, 3, &o3, &n3);
	out = malloc(len);
	memcpy(out, d, o2);
	memcpy(out + o2, d + o3, n3);
	memcpy(out + o2 + n3, d + o2, n2);
	memcpy(out + o2 + n3 + n2, d + o3 + n3, len - o3 - n3);
	spit(f->path, out, len);
	expect_broken(f->path, NULL, 0, 2, "hash mismatch");
}

static void test_inserted_line(void **state)
{
	struct fx *f = *state;
	_cleanup_free_ char *d = NULL, *out = NULL, *forged = NULL;
	size_t len, off, n, o1, n1;
	char h[65];
	int fl;

	write_log(f->path, NULL, 1, 4);
	d = slurp(f->path, &len);
	/* a forged record that links correctly to line 2 and carries the seq
	 * line 3 has: the break shows at the record after it */
	line_at(d, len, 2, &o1, &n1);
	sha256_hex(d + o1, n1 - 1, h);
	fl = asprintf(&forged, "{\"auditID\":\"x\",\"seq\":3,\"prevHash\":\"%s\"}\n", h);
	assert_true(fl > 0);
	line_at(d, len, 3, &off, &n);
	out = malloc(2 * len + (size_t)fl);  /* room for either insertion */
	memcpy(out, d, off);
	memcpy(out + off, forged, (size_t)fl);
	memcpy(out + off + fl, d + off, len - off);
	spit(f->path, out, len + (size_t)fl);
	expect_broken(f->path, NULL, 0, 4, "hash mismatch");

	/* a copy of an earlier line: broken right where it sits */
	memcpy(out, d, off);
	memcpy(out + off, d + o1, n1);
	memcpy(out + off + n1, d + off, len - off);
	spit(f->path, out, len + n1);
	expect_broken(f->path, NULL, 0, 3, "hash mismatch");
}

static void test_truncated_last_line(void **state)
{
	struct fx *f = *state;
	_cleanup_free_ char *d = NULL, *d2 = NULL;
	struct audit_log *log = NULL;
	size_t len, len2, off, n;
	char *err = NULL, h[65], want[128];
	json_t *ev;

	write_log(f->path, NULL, 1, 5);
	d = slurp(f->path, &len);
	spit(f->path, d, len - 20);
	expect_broken(f->path, NULL, 0, 5, "truncated last line");

	/* reopening cuts the torn record off (it was never acknowledged);
	 * the next record chains from the last complete line (4) with seq 5 */
	assert_int_equal(audit_log_open(f->path, NULL, &log, &err), 0);
	line_at(d, len, 5, &off, &n);
	assert_int_equal(audit_log_repaired(log), len - 20 - off);
	ev = event(6);
	assert_int_equal(audit_log_append(log, ev, &err), 0);
	assert_int_equal(json_integer_value(json_object_get(ev, "seq")), 5);
	json_decref(ev);
	audit_log_close(log);
	d2 = slurp(f->path, &len2);
	line_at(d, len, 5, &off, &n);
	/* the first four records are kept byte for byte, the fragment is gone */
	assert_memory_equal(d2, d, off);
	assert_int_equal(d2[off], '{');
	line_at(d, len, 4, &off, &n);
	sha256_hex(d + off, n - 1, h);
	snprintf(want, sizeof(want), "\"seq\":5,\"prevHash\":\"%s\"}\n", h);
	assert_true(len2 > strlen(want));
	assert_memory_equal(d2 + len2 - strlen(want), want, strlen(want));
	/* and the log verifies */
	{
		struct audit_verify_result res;

		assert_int_equal(verify1(f->path, NULL, 0, &res), 0);
		assert_int_equal(res.records, 5);
		audit_verify_result_release(&res);
	}
}

static void test_rotation_keeps_chain(void **state)
{
	struct fx *f = *state;
	struct audit_opts o = { .sz = sizeof(o), .rotate_bytes = 2000, .keep_files = 10 };
	char p1[160], p2[160], p3[160], *files[8];
	struct audit_verify_result res;
	_cleanup_free_ char *d1 = NULL, *d0 = NULL;
	size_t n = 0, len1, len0, off, ln;
	char h[65];
	struct stat st;

	write_log(f->path, &o, 1, 12);
	snprintf(p1, sizeof(p1), "%s.1", f->path);
	snprintf(p2, sizeof(p2), "%s.2", f->path);
	snprintf(p3, sizeof(p3), "%s.3", f->path);
	assert_int_equal(stat(p3, &st), 0);   /* ~600 bytes a record: several files */
	assert_true(st.st_size <= 2000);
	/* names given in any order are sorted oldest first */
	files[n++] = f->path;
	files[n++] = p1;
	for (int i = 2; i < 10; i++) {
		char *p;

		assert_true(asprintf(&p, "%s.%d", f->path, i) > 0);
		if (access(p, F_OK) == 0)
			files[n++] = p;
		else
			free(p);
	}
	assert_true(audit_files_order(files, n));
	assert_string_equal(files[n - 1], f->path);
	assert_string_equal(files[n - 2], p1);
	assert_int_equal(audit_verify((const char *const *)files, n, NULL, &res), 0);
	assert_int_equal(res.records, 12);
	audit_verify_result_release(&res);

	/* the current file's first line chains from the rotated file's last */
	d1 = slurp(p1, &len1);
	ln = len1 - 1;
	while (ln > 0 && d1[ln - 1] != '\n')
		ln--;
	sha256_hex(d1 + ln, len1 - 1 - ln, h);
	d0 = slurp(f->path, &len0);
	assert_non_null(memmem(d0, len0, h, 64));

	/* the current file alone does not start a chain, unless --partial */
	{
		struct audit_verify_opts po = { .sz = sizeof(po), .partial = true };
		const char *one[] = { f->path };

		assert_int_equal(audit_verify(one, 1, NULL, &res), -TG_EAUDIT);
		assert_int_equal(res.line, 1);
		audit_verify_result_release(&res);
		assert_int_equal(audit_verify(one, 1, &po, &res), 0);
		assert_string_equal(res.first_prev, h);
		audit_verify_result_release(&res);
	}

	/* a line deleted at the end of a rotated file breaks the next file's start */
	spit(p1, d1, ln);
	assert_int_equal(audit_verify((const char *const *)files, n, NULL, &res), -TG_EAUDIT);
	assert_int_equal(res.file, n - 1);
	assert_int_equal(res.line, 1);
	assert_non_null(strstr(res.problem, "hash mismatch"));
	audit_verify_result_release(&res);
	spit(p1, d1, len1);

	/* an edited byte in the oldest file is named there */
	{
		_cleanup_free_ char *d = NULL;
		char *q;
		size_t len;

		d = slurp(files[0], &len);
		q = memchr(d, 'u', len);
		line_at(d, len, 1, &off, &ln);
		q = memmem(d, ln, "user-", 5);
		assert_non_null(q);
		q[5] = 'Z';
		spit(files[0], d, len);
		assert_int_equal(audit_verify((const char *const *)files, n, NULL, &res), -TG_EAUDIT);
		assert_int_equal(res.file, 0);
		assert_int_equal(res.line, 2);
		audit_verify_result_release(&res);
	}
	for (size_t i = 2; i < n; i++)
		if (files[i] != f->path && files[i] != p1)
			free(files[i]);
	for (size_t i = 0; i < 2 && i < n; i++)
		if (files[i] != f->path && files[i] != p1)
			free(files[i]);
}

static void test_rotation_keep_limit_and_reopen(void **state)
{
	struct fx *f = *state;
	struct audit_opts o = { .sz = sizeof(o), .rotate_bytes = 1500, .keep_files = 2 };
	struct audit_verify_result res;
	char p1[160], p2[160], p3[160];
	const char *files[3];

	write_log(f->path, &o, 1, 10);
	snprintf(p1, sizeof(p1), "%s.1", f->path);
	snprintf(p2, sizeof(p2), "%s.2", f->path);
	snprintf(p3, sizeof(p3), "%s.3", f->path);
	assert_int_equal(access(p2, F_OK), 0);
	assert_int_equal(access(p3, F_OK), -1);
	/* the current file lost (a crash right after the rename leaves none):
	 * reopening chains from the newest rotated file */
	assert_int_equal(unlink(f->path), 0);
	write_log(f->path, &o, 11, 1);
	files[0] = p2;
	files[1] = p1;
	files[2] = f->path;
	{
		struct audit_verify_opts po = { .sz = sizeof(po), .partial = true };

		/* the oldest kept file continues a chain whose start was rotated away */
		assert_int_equal(audit_verify(files, 3, NULL, &res), -TG_EAUDIT);
		assert_int_equal(res.file, 0);
		assert_int_equal(res.line, 1);
		audit_verify_result_release(&res);
		assert_int_equal(audit_verify(files, 3, &po, &res), 0);
		assert_true(res.first_seq > 1);
		audit_verify_result_release(&res);
	}
}

static void test_reopen_after_clean_rotation(void **state)
{
	struct fx *f = *state;
	struct audit_opts o = { .sz = sizeof(o), .rotate_bytes = 1500, .keep_files = 3 };
	struct audit_verify_result res;
	char p1[160];
	const char *files[2];

	write_log(f->path, &o, 1, 2);
	snprintf(p1, sizeof(p1), "%s.1", f->path);
	/* an operator's rotation: move the file away, start empty */
	assert_int_equal(rename(f->path, p1), 0);
	write_log(f->path, &o, 3, 2);
	files[0] = p1;
	files[1] = f->path;
	assert_int_equal(audit_verify(files, 2, NULL, &res), 0);
	assert_int_equal(res.records, 4);
	audit_verify_result_release(&res);
}

static void test_hmac(void **state)
{
	struct fx *f = *state;
	struct audit_opts o = { .sz = sizeof(o), .key_file = f->key };
	_cleanup_free_ unsigned char *key = NULL;
	_cleanup_free_ char *d = NULL;
	struct audit_verify_result res;
	size_t keylen, len, off, n;
	char *err = NULL;
	const unsigned char other[] = "another-key-of-enough-length";

	write_log(f->path, &o, 1, 4);
	assert_int_equal(audit_key_load(f->key, &key, &keylen, &err), 0);
	assert_int_equal(verify1(f->path, key, keylen, &res), 0);
	assert_int_equal(res.records, 4);
	audit_verify_result_release(&res);
	expect_broken(f->path, other, sizeof(other) - 1, 1, "bad hmac");

	/* rewrite line 2 and re-link everything after it: the chain alone
	 * cannot tell, the HMAC can */
	d = slurp(f->path, &len);
	{
		struct buf out = BUF_INIT(0);
		char prev[65];

		for (int k = 1; k <= 4; k++) {
			_cleanup_free_ char *line = NULL;
			char *q;

			line_at(d, len, k, &off, &n);
			line = strndup(d + off, n - 1);
			if (k == 2) {
				q = strstr(line, "user-2");
				q[5] = '7';
			}
			if (k > 2) {
				q = strstr(line, "\"prevHash\":\"") + 12;
				memcpy(q, prev, 64);
			}
			sha256_hex(line, strlen(line), prev);
			buf_adds(&out, line);
			buf_addc(&out, '\n');
		}
		spit(f->path, out.s, out.len);
		buf_release(&out);
	}
	assert_int_equal(verify1(f->path, NULL, 0, &res), 0);
	audit_verify_result_release(&res);
	expect_broken(f->path, key, keylen, 2, "bad hmac");

	/* a log written without a key fails a keyed verify */
	unlink(f->path);
	write_log(f->path, NULL, 1, 1);
	expect_broken(f->path, key, keylen, 1, "no \"hmac\"");
}

static void test_key_file_limits(void **state)
{
	struct fx *f = *state;
	struct audit_opts o = { .sz = sizeof(o), .key_file = f->path };
	struct audit_log *log = NULL;
	char *err = NULL;

	spit(f->path, "short", 5);
	assert_int_equal(audit_log_open(f->dir, &o, &log, &err), -TG_ECONFIG);
	assert_non_null(strstr(err, "at least 16"));
	assert_null(log);
	free(err);
}

static void test_append_is_durable_and_marks_event(void **state)
{
	struct fx *f = *state;
	struct audit_log *log = NULL;
	char *err = NULL;
	char h[65];

	assert_int_equal(audit_log_open(f->path, NULL, &log, &err), 0);
	for (int i = 1; i <= 3; i++) {
		_cleanup_free_ char *d = NULL;
		json_t *ev = event(i);
		size_t len, off, n;
		char want[48];

		assert_int_equal(audit_log_append(log, ev, &err), 0);
		/* on return, the line is in the file (read through another fd) */
		d = slurp(f->path, &len);
		assert_int_equal(d[len - 1], '\n');
		line_at(d, len, i, &off, &n);
		assert_int_equal(off + n, len);
		snprintf(want, sizeof(want), ",\"seq\":%d,", i);
		assert_non_null(memmem(d + off, n, want, strlen(want)));
		if (i > 1)
			assert_string_equal(json_string_value(json_object_get(ev, "prevHash")), h);
		sha256_hex(d + off, n - 1, h);
		assert_int_equal(json_integer_value(json_object_get(ev, "seq")), i);
		/* a second append of the same event is refused */
		assert_int_equal(audit_log_append(log, ev, &err), -EINVAL);
		free(err);
		err = NULL;
		json_decref(ev);
	}
	audit_log_close(log);
}

static void test_record_limit(void **state)
{
	struct fx *f = *state;
	struct audit_log *log = NULL;
	char *err = NULL, *big;
	json_t *ev;
	struct stat st;

	assert_int_equal(audit_log_open(f->path, NULL, &log, &err), 0);
	big = malloc(AUDIT_MAX_RECORD + 1);
	memset(big, 'a', AUDIT_MAX_RECORD);
	big[AUDIT_MAX_RECORD] = '\0';
	ev = json_pack("{s:s}", "x", big);
	assert_int_equal(audit_log_append(log, ev, &err), -TG_ELIMIT);
	assert_non_null(strstr(err, "longer than"));
	free(err);
	free(big);
	json_decref(ev);
	audit_log_close(log);
	assert_int_equal(stat(f->path, &st), 0);
	assert_int_equal(st.st_size, 0);
}

/* The file may not grow past size: a short or failed write (SIGXFSZ
 * ignored, so write() returns what it could). */
static void fsize_limit(struct rlimit *old, rlim_t size)
{
	struct rlimit lim;

	signal(SIGXFSZ, SIG_IGN);
	getrlimit(RLIMIT_FSIZE, old);
	lim = *old;
	lim.rlim_cur = size;
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
}

static void fsize_unlimit(const struct rlimit *old)
{
	setrlimit(RLIMIT_FSIZE, old);
	signal(SIGXFSZ, SIG_DFL);
}

static void test_failed_write_is_an_error(void **state)
{
	struct fx *f = *state;
	struct audit_log *log = NULL;
	struct rlimit old;
	char *err = NULL;
	struct stat st;
	json_t *ev;
	int r;

	write_log(f->path, NULL, 1, 2);
	assert_int_equal(stat(f->path, &st), 0);
	assert_int_equal(audit_log_open(f->path, NULL, &log, &err), 0);
	/* the file may not grow by a whole record: a short or failed write */
	fsize_limit(&old, (rlim_t)st.st_size + 100);
	ev = event(3);
	r = audit_log_append(log, ev, &err);
	fsize_unlimit(&old);
	assert_true(r < 0);
	assert_non_null(strstr(err, "audit log"));
	free(err);
	err = NULL;
	assert_null(json_object_get(ev, "seq"));
	/* the short write was rolled back: the file is as before */
	{
		struct stat st2;

		assert_int_equal(stat(f->path, &st2), 0);
		assert_int_equal(st2.st_size, st.st_size);
	}
	/* the next record is whole and chains on; the log verifies */
	assert_int_equal(audit_log_append(log, ev, &err), 0);
	assert_int_equal(json_integer_value(json_object_get(ev, "seq")), 3);
	json_decref(ev);
	audit_log_close(log);
	{
		struct audit_verify_result res;

		assert_int_equal(verify1(f->path, NULL, 0, &res), 0);
		assert_int_equal(res.records, 3);
		audit_verify_result_release(&res);
	}
}

struct worker {
	struct audit_log *log;
	int base;
	int failures;
};

#define THREADS 8
#define PER_THREAD 40

static void *worker_run(void *arg)
{
	struct worker *w = arg;

	for (int i = 0; i < PER_THREAD; i++) {
		json_t *ev = event(w->base + i);
		char *err = NULL;

		if (audit_log_append(w->log, ev, &err) < 0)
			w->failures++;
		free(err);
		json_decref(ev);
	}
	return NULL;
}

static void test_concurrent_appends_serialize(void **state)
{
	struct fx *f = *state;
	struct audit_opts o = { .sz = sizeof(o), .key_file = f->key };
	struct worker w[THREADS];
	pthread_t t[THREADS];
	struct audit_log *log = NULL;
	struct audit_verify_result res;
	_cleanup_free_ unsigned char *key = NULL;
	size_t keylen;
	char *err = NULL;

	assert_int_equal(audit_log_open(f->path, &o, &log, &err), 0);
	for (int i = 0; i < THREADS; i++) {
		w[i] = (struct worker){ .log = log, .base = 1000 * (i + 1) };
		assert_int_equal(pthread_create(&t[i], NULL, worker_run, &w[i]), 0);
	}
	for (int i = 0; i < THREADS; i++) {
		pthread_join(t[i], NULL);
		assert_int_equal(w[i].failures, 0);
	}
	audit_log_close(log);
	assert_int_equal(audit_key_load(f->key, &key, &keylen, &err), 0);
	assert_int_equal(verify1(f->path, key, keylen, &res), 0);
	assert_int_equal(res.records, THREADS * PER_THREAD);
	audit_verify_result_release(&res);
}

/* --- group commit ------------------------------------------------------------- */

struct gc_seen {
	int calls;
	int failures;
	long last_seq;
	bool in_order;
};

struct gc_rec {
	struct gc_seen *seen;
	long seq;
};

static void gc_done(void *ud, int result, const char *err)
{
	struct gc_rec *rec = ud;

	rec->seen->calls++;
	if (result < 0 || err)
		rec->seen->failures++;
	if (rec->seq <= rec->seen->last_seq)
		rec->seen->in_order = false;
	rec->seen->last_seq = rec->seq;
}

static void gc_wait_all(struct audit_log *log, int efd, struct gc_seen *seen, int want)
{
	for (int spins = 0; seen->calls < want && spins < 3000; spins++) {
		struct pollfd p = { .fd = efd, .events = POLLIN };

		(void)poll(&p, 1, 10);
		(void)audit_log_dispatch(log);
	}
	assert_int_equal(seen->calls, want);
}

/* Records written without waiting: each done comes once, in seq order,
 * only from dispatch; the chain holds across rotations (each rotation
 * syncs the file it leaves); the log verifies with its HMACs. */
static void test_group_commit(void **state)
{
	struct fx *f = *state;
	struct audit_opts o = { .sz = sizeof(o), .key_file = f->key, .rotate_bytes = 8192,
				.keep_files = 100 };
	struct gc_seen seen = { .in_order = true };
	struct gc_rec recs[300];
	struct audit_log *log = NULL;
	_cleanup_free_ unsigned char *key = NULL;
	const char *files[100];
	char names[100][160];
	size_t nfiles = 0, keylen;
	char *err = NULL;
	int efd = -1;

	write_log(f->path, &o, 1, 3);
	assert_int_equal(audit_log_open(f->path, &o, &log, &err), 0);
	/* not started: refused, nothing written */
	{
		json_t *ev = event(99);

		assert_int_equal(audit_log_write(log, ev, 0, gc_done, &recs[0], &err), -EINVAL);
		free(err);
		err = NULL;
		json_decref(ev);
	}
	assert_int_equal(audit_log_group_start(log, &efd, &err), 0);
	assert_true(efd >= 0);
	for (int i = 0; i < 300; i++) {
		json_t *ev = event(4 + i);

		recs[i] = (struct gc_rec){ .seen = &seen };
		assert_int_equal(audit_log_write(log, ev, 0, i % 5 ? gc_done : NULL, &recs[i], &err), 0);
		recs[i].seq = (long)json_integer_value(json_object_get(ev, "seq"));
		assert_int_equal(recs[i].seq, 4 + i);
		json_decref(ev);
		/* never from inside the write */
		assert_true(seen.calls <= i);
		if (i % 50 == 49)
			(void)audit_log_dispatch(log);
	}
	gc_wait_all(log, efd, &seen, 240);
	assert_int_equal(seen.failures, 0);
	assert_true(seen.in_order);
	/* the blocking append still works beside it, and chains on */
	{
		json_t *ev = event(304);

		assert_int_equal(audit_log_append(log, ev, &err), 0);
		assert_int_equal(json_integer_value(json_object_get(ev, "seq")), 304);
		json_decref(ev);
	}
	audit_log_close(log);

	for (unsigned i = 99; i >= 1; i--) {
		struct stat st;

		snprintf(names[nfiles], sizeof(names[0]), "%s.%u", f->path, i);
		if (stat(names[nfiles], &st) == 0) {
			files[nfiles] = names[nfiles];
			nfiles++;
		}
	}
	assert_true(nfiles >= 3);   /* rotated several times */
	files[nfiles++] = f->path;
	assert_int_equal(audit_key_load(f->key, &key, &keylen, &err), 0);
	{
		struct audit_verify_opts vo = { .sz = sizeof(vo), .key = key, .keylen = keylen };
		struct audit_verify_result res = { 0 };

		assert_int_equal(audit_verify(files, nfiles, &vo, &res), 0);
		assert_int_equal(res.records, 304);
		audit_verify_result_release(&res);
	}
}

/* A write that cannot be whole, in group commit: refused at once, rolled
 * back, its done never called; the next record chains on and is synced;
 * flush waits for the last sync and dispatches it. */
static void test_group_commit_short_write(void **state)
{
	struct fx *f = *state;
	struct gc_seen seen = { .in_order = true };
	struct gc_rec recs[3];
	struct audit_log *log = NULL;
	struct rlimit old;
	struct audit_verify_result res;
	char *err = NULL;
	struct stat st, st2;
	json_t *ev;
	int efd, r;

	write_log(f->path, NULL, 1, 2);
	assert_int_equal(stat(f->path, &st), 0);
	assert_int_equal(audit_log_open(f->path, NULL, &log, &err), 0);
	assert_int_equal(audit_log_group_start(log, &efd, &err), 0);
	for (int i = 0; i < 3; i++)
		recs[i] = (struct gc_rec){ .seen = &seen, .seq = i + 1 };
	fsize_limit(&old, (rlim_t)st.st_size + 100);
	ev = event(3);
	r = audit_log_write(log, ev, 0, gc_done, &recs[0], &err);
	fsize_unlimit(&old);
	assert_true(r < 0);
	assert_non_null(strstr(err, "short write"));
	free(err);
	err = NULL;
	assert_int_equal(stat(f->path, &st2), 0);
	assert_int_equal(st2.st_size, st.st_size);
	assert_int_equal(audit_log_write(log, ev, 0, gc_done, &recs[1], &err), 0);
	json_decref(ev);
	ev = event(4);
	assert_int_equal(audit_log_write(log, ev, 0, gc_done, &recs[2], &err), 0);
	json_decref(ev);
	assert_int_equal(audit_log_flush(log), 2);
	assert_int_equal(seen.calls, 2);
	assert_int_equal(seen.failures, 0);
	audit_log_close(log);
	assert_int_equal(verify1(f->path, NULL, 0, &res), 0);
	assert_int_equal(res.records, 4);
	audit_verify_result_release(&res);
}

static void test_files_order(void **state)
{
	char *a[] = { (char *)"x/audit.log", (char *)"x/audit.log.10", (char *)"x/audit.log.2" };
	char *b[] = { (char *)"one.log", (char *)"two.log" };
	char *c[] = { (char *)"a.log.1", (char *)"a.log.1" };

	assert_true(audit_files_order(a, 3));
	assert_string_equal(a[0], "x/audit.log.10");
	assert_string_equal(a[1], "x/audit.log.2");
	assert_string_equal(a[2], "x/audit.log");
	assert_false(audit_files_order(b, 2));
	assert_string_equal(b[0], "one.log");
	assert_false(audit_files_order(c, 2));
}

/* Runs cmd_audit with stdout and stderr captured in files. */
static int run_audit(struct fx *f, char **ret_out, char **ret_err, int argc, ...)
{
	char *argv[16], outp[160], errp[160];
	va_list ap;
	int so, se, fo, fe, rc;
	size_t len;

	va_start(ap, argc);
	for (int i = 0; i < argc; i++)
		argv[i] = va_arg(ap, char *);
	va_end(ap);
	argv[argc] = NULL;
	snprintf(outp, sizeof(outp), "%s/out", f->dir);
	snprintf(errp, sizeof(errp), "%s/err", f->dir);
	fflush(stdout);
	fflush(stderr);
	so = dup(1);
	se = dup(2);
	fo = open(outp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	fe = open(errp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	dup2(fo, 1);
	dup2(fe, 2);
	rc = cmd_audit(argc, argv);
	fflush(stdout);
	fflush(stderr);
	dup2(so, 1);
	dup2(se, 2);
	close(so);
	close(se);
	close(fo);
	close(fe);
	*ret_out = slurp(outp, &len);
	*ret_err = slurp(errp, &len);
	return rc;
}

static void test_cmd_verify_and_query(void **state)
{
	struct fx *f = *state;
	char *out, *err;
	char p1[160];
	struct audit_opts o = { .sz = sizeof(o), .keep_files = 5 };
	struct stat st;
	int rc;

	/* three records, then a rotation before the fourth: two files */
	write_log(f->path, &o, 1, 3);
	assert_int_equal(stat(f->path, &st), 0);
	o.rotate_bytes = (uint64_t)st.st_size + 1;
	write_log(f->path, &o, 4, 3);
	snprintf(p1, sizeof(p1), "%s.1", f->path);
	rc = run_audit(f, &out, &err, 4, "audit", "verify", f->path, p1);
	if (rc != 0)
		fail_msg("verify exited %d: %s", rc, err);
	assert_true(str_has_prefix(out, "6 records, chain intact\n"));
	free(out);
	free(err);

	assert_int_equal(run_audit(f, &out, &err, 8, "audit", "query", p1, f->path, "--decision",
				   "deny", "-o", "table"), 0);
	/* rows 3 and 6 are denials */
	assert_true(str_has_prefix(out, "TIME"));
	assert_non_null(strstr(out, "REASON/POLICY"));
	assert_non_null(strstr(out, "user-3"));
	assert_non_null(strstr(out, "user-6"));
	assert_null(strstr(out, "user-1 "));
	assert_non_null(strstr(out, "forbid"));
	free(out);
	free(err);

	assert_int_equal(run_audit(f, &out, &err, 7, "audit", "query", f->path, p1, "--user",
				   "user-2", "-ojson"), 0);
	assert_non_null(strstr(out, "\"username\":\"user-2\""));
	assert_int_equal(strchr(out, '\n') - out + 1, (long)strlen(out));  /* one line */
	free(out);
	free(err);

	assert_int_equal(run_audit(f, &out, &err, 5, "audit", "query", f->path, "--since",
				   "yesterday"), 2);
	assert_non_null(strstr(err, "--since \"yesterday\""));
	free(out);
	free(err);

	/* a broken chain: exit 1 naming file and line */
	assert_int_equal(truncate(f->path, 10), 0);
	assert_int_equal(run_audit(f, &out, &err, 4, "audit", "verify", p1, f->path), 1);
	assert_non_null(strstr(err, "audit.log:1: truncated last line"));
	free(out);
	free(err);
}

static void trace_rec(struct audit_log *log, const char *id, const char *stage, const char *decision,
		      const char *trace, bool dry)
{
	char *err = NULL;
	json_t *ev = json_pack("{s:s,s:s,s:s,s:s,s:{s:s},s:{s:s,s:[s],s:b}}", "apiVersion",
			       "audit.k8s.io/v1", "kind", "Event", "auditID", id, "stage", stage,
			       "annotations", "authorization.k8s.io/decision", decision, "tracegate",
			       "trace", trace, "nodes", "node-1", "dryRun", dry);

	assert_non_null(ev);
	assert_int_equal(audit_log_append(log, ev, &err), 0);
	json_decref(ev);
}

/* The traces a killed gateway left open: allowed, started, not a dry run,
 * no ResponseComplete (in the current file or the rotated one). */
static void test_recover_scan(void **state)
{
	struct fx *f = *state;
	struct audit_opts o = { .sz = sizeof(o), .rotate_bytes = 1200, .keep_files = 3 };
	struct audit_log *log = NULL;
	json_t *open = NULL;
	char *err = NULL;

	assert_int_equal(audit_log_open(f->path, &o, &log, &err), 0);
	trace_rec(log, "a", "ResponseStarted", "allow", "ta", false);
	trace_rec(log, "b", "ResponseStarted", "allow", "tb", false);
	trace_rec(log, "c", "ResponseStarted", "forbid", "tc", false);
	trace_rec(log, "d", "ResponseStarted", "allow", "td", true);
	trace_rec(log, "d", "ResponseComplete", "allow", "td", true);
	trace_rec(log, "e", "ResponseStarted", "allow", "te", false);
	trace_rec(log, "a", "ResponseComplete", "allow", "ta", false);
	trace_rec(log, "f", "ResponseStarted", "allow", "tf", false);
	audit_log_close(log);
	{
		char p1[160], p2[160];

		/* the records span a rotation: audit.log.1 and audit.log */
		snprintf(p1, sizeof(p1), "%s.1", f->path);
		snprintf(p2, sizeof(p2), "%s.2", f->path);
		assert_int_equal(access(p1, F_OK), 0);
		assert_int_equal(access(p2, F_OK), -1);
	}
	assert_int_equal(gw_recover_scan(f->path, 100, &open, &err), 0);
	/* b and e were cut (a ended; c forbidden; d a dry run); f too */
	assert_int_equal(json_array_size(open), 3);
	assert_string_equal(json_string_value(json_object_get(json_array_get(open, 0), "auditID")), "b");
	assert_string_equal(json_string_value(json_object_get(json_array_get(open, 1), "auditID")), "e");
	assert_string_equal(json_string_value(json_object_get(json_array_get(open, 2), "auditID")), "f");
	assert_null(json_object_get(json_array_get(open, 0), "seq"));
	assert_null(json_object_get(json_array_get(open, 0), "prevHash"));
	json_decref(open);
	/* the bound keeps the newest */
	assert_int_equal(gw_recover_scan(f->path, 1, &open, &err), 0);
	assert_int_equal(json_array_size(open), 1);
	assert_string_equal(json_string_value(json_object_get(json_array_get(open, 0), "auditID")), "f");
	json_decref(open);
}

/* A detached start (its 201) on nodes, or a detached session's end
 * record on one node. */
static void det_rec(struct audit_log *log, const char *id, const char *trace, json_t *nodes, const char *end_node)
{
	_cleanup_free_ char *err = NULL;
	json_t *ev = json_pack("{s:s, s:s, s:s, s:s, s:s, s:{s:s}, s:{s:i}, s:{s:s, s:o}}", "apiVersion",
			       "audit.k8s.io/v1", "kind", "Event", "auditID", id, "stage", "ResponseComplete",
			       "verb", "create", "annotations", "authorization.k8s.io/decision", "allow",
			       "responseStatus", "code", end_node ? 200 : 201, "tracegate", "trace", trace,
			       "nodes", nodes);

	assert_non_null(ev);
	if (end_node) {
		json_object_set_new(json_object_get(ev, "tracegate"), "detachedEnd", json_true());
		json_object_set_new(json_object_get(ev, "tracegate"), "node", json_string(end_node));
	}
	assert_int_equal(audit_log_append(log, ev, &err), 0);
	json_decref(ev);
}

/* Detached starts whose nodes' end records are missing: the nodes left. */
static void test_recover_scan_detached(void **state)
{
	struct fx *f = *state;
	struct audit_opts o = { .sz = sizeof(o) };
	struct audit_log *log = NULL;
	json_t *open = NULL, *det = NULL, *nodes, *ev;
	char *err = NULL;

	assert_int_equal(audit_log_open(f->path, &o, &log, &err), 0);
	trace_rec(log, "a", "ResponseStarted", "allow", "ta", false);
	det_rec(log, "a", "ta", json_pack("[s, s]", "node-1", "node-2"), NULL);
	trace_rec(log, "b", "ResponseStarted", "allow", "tb", false);
	det_rec(log, "b", "tb", json_pack("[s]", "node-1"), NULL);
	det_rec(log, "a", "ta", json_pack("[s]", "node-1"), "node-1");
	det_rec(log, "b", "tb", json_pack("[s]", "node-1"), "node-1");
	/* c did not start on node-2: its runner has no session, no end */
	ev = json_pack("{s:s, s:s, s:s, s:s, s:s, s:{s:s}, s:{s:i}, s:{s:s, s:[s, s], s:[s]}}", "apiVersion",
		       "audit.k8s.io/v1", "kind", "Event", "auditID", "c", "stage", "ResponseComplete", "verb",
		       "create", "annotations", "authorization.k8s.io/decision", "allow", "responseStatus", "code", 201,
		       "tracegate", "trace", "tc", "nodes", "node-1", "node-2", "failedNodes", "node-2");
	assert_int_equal(audit_log_append(log, ev, &err), 0);
	json_decref(ev);
	det_rec(log, "c", "tc", json_pack("[s]", "node-1"), "node-1");
	audit_log_close(log);
	assert_int_equal(gw_recover_scan_all(f->path, 100, &open, &det, &err), 0);
	/* neither is an attached trace left open: each has its ResponseComplete */
	assert_int_equal(json_array_size(open), 0);
	/* a's node-2 has no end record; b and c are complete */
	assert_int_equal(json_array_size(det), 1);
	assert_string_equal(json_string_value(json_object_get(json_array_get(det, 0), "auditID")), "a");
	assert_string_equal(json_string_value(json_object_get(json_array_get(det, 0), "trace")), "ta");
	nodes = json_object_get(json_array_get(det, 0), "nodes");
	assert_int_equal(json_array_size(nodes), 1);
	assert_string_equal(json_string_value(json_array_get(nodes, 0)), "node-2");
	json_decref(open);
	json_decref(det);
}

/* tracegate audit query: a detached trace's row counts the events of
 * every node's end record, not the create's 0 or the last node's alone. */
static void test_query_detached(void **state)
{
	struct fx *f = *state;
	struct audit_opts o = { .sz = sizeof(o) };
	struct audit_log *log = NULL;
	char *out = NULL, *err = NULL;
	static const int events[] = { 0, 5, 7 };
	static const char *const node[] = { NULL, "node-1", "node-2" };

	assert_int_equal(audit_log_open(f->path, &o, &log, &err), 0);
	for (int i = 0; i < 3; i++) {
		json_t *ev = json_pack("{s:s, s:s, s:s, s:s, s:s, s:{s:s}, s:{s:s}, s:{s:i}, s:{s:s, s:[s, s], s:i}}",
				       "apiVersion", "audit.k8s.io/v1", "kind", "Event", "auditID", "a", "stage",
				       "ResponseComplete", "verb", "create", "user", "username", "alice",
				       "annotations", "authorization.k8s.io/decision", "allow", "responseStatus",
				       "code", node[i] ? 200 : 201, "tracegate", "trace", "ta", "nodes", "node-1",
				       "node-2", "events", events[i]);

		assert_non_null(ev);
		if (node[i]) {
			json_object_set_new(json_object_get(ev, "tracegate"), "detachedEnd", json_true());
			json_object_set_new(json_object_get(ev, "tracegate"), "node", json_string(node[i]));
		}
		assert_int_equal(audit_log_append(log, ev, &err), 0);
		json_decref(ev);
	}
	audit_log_close(log);
	assert_int_equal(run_audit(f, &out, &err, 5, "audit", "query", f->path, "-o", "table"), 0);
	if (!strstr(out, " 12\n"))
		fail_msg("query: want 12 events on the row: %s", out);
	free(out);
	free(err);
}

/* ---- the end fields (gw_audit_end) ---- */

static char *end_text(const struct gw_audit_end *e)
{
	json_t *tg = json_object();
	char *text;

	assert_non_null(tg);
	assert_int_equal(gw_audit_end_to_json(e, tg), 0);
	text = json_dumps(tg, JSON_COMPACT | JSON_SORT_KEYS);
	assert_non_null(text);
	json_decref(tg);
	return text;
}

/* encode -> bytes -> decode -> equal, and the bytes again */
static void end_round_trip(const struct gw_audit_end *e, const char *want)
{
	struct gw_audit_end back = { 0 };
	char *text = end_text(e), *again, *err = NULL;
	json_t *tg = json_loads(text, JSON_REJECT_DUPLICATES, NULL);

	if (want && strcmp(text, want))
		fail_msg("end fields: want %s, got %s", want, text);
	assert_non_null(tg);
	if (gw_audit_end_from_json(tg, &back, &err) < 0)
		fail_msg("end fields %s do not decode: %s", text, err);
	assert_true(gw_audit_end_equal(e, &back));
	again = end_text(&back);
	assert_string_equal(text, again);
	gw_audit_end_release(&back);
	json_decref(tg);
	free(text);
	free(again);
}

static void test_audit_end_round_trip(void **state)
{
	struct gw_audit_end e = { 0 };

	(void)state;
	/* a trace's end: counts (bytes known), every node's reason */
	assert_non_null(e.reason = strdup("exit"));
	assert_non_null(e.message = strdup("stopped: \"quoted\"\nand on"));
	e.has = GW_AUDIT_END_COUNTS | GW_AUDIT_END_BYTES | GW_AUDIT_END_EXIT_CODE | GW_AUDIT_END_NODE_REASONS |
		GW_AUDIT_END_FAILED;
	e.events = 7;
	e.drops = 2;
	e.map_drops = 1;
	e.bytes = (uint64_t)INT64_MAX;
	e.cpu_ns = 99;
	e.exit_code = -3;
	assert_int_equal(gw_audit_node_push(&e.node_reasons, &e.nnode_reasons, "node-1", "exit"), 0);
	assert_int_equal(gw_audit_node_push(&e.node_reasons, &e.nnode_reasons, "node-2", "node-failed"), 0);
	assert_int_equal(wire_strv_push(&e.failed_nodes, &e.nfailed_nodes, "node-2"), 0);
	end_round_trip(&e, "{\"bytes\":9223372036854775807,\"counts\":{\"bytes\":9223372036854775807,\"cpuNs\":99,"
			   "\"drops\":2,\"events\":7,\"mapDrops\":1},\"cpuNs\":99,\"drops\":2,"
			   "\"endMessage\":\"stopped: \\\"quoted\\\"\\nand on\",\"endReason\":\"exit\",\"events\":7,"
			   "\"exitCode\":-3,\"failedNodes\":[\"node-2\"],\"mapDrops\":1,"
			   "\"nodeEndReasons\":{\"node-1\":\"exit\",\"node-2\":\"node-failed\"}}");
	gw_audit_end_release(&e);

	/* after a restart: no bytes, a node's counts missing and why */
	assert_non_null(e.reason = strdup("gateway-lost"));
	e.has = GW_AUDIT_END_COUNTS | GW_AUDIT_END_NODE_REASONS;
	e.after_restart = true;
	assert_int_equal(gw_audit_node_push(&e.node_reasons, &e.nnode_reasons, "node-1", "unknown"), 0);
	assert_int_equal(gw_audit_node_push(&e.missing, &e.nmissing, "node-1", "runner \"node-1\" unreachable"), 0);
	end_round_trip(&e, "{\"afterRestart\":true,\"counts\":{\"cpuNs\":0,\"drops\":0,\"events\":0,\"mapDrops\":0},"
			   "\"countsMissing\":{\"node-1\":\"runner \\\"node-1\\\" unreachable\"},\"cpuNs\":0,"
			   "\"drops\":0,\"endReason\":\"gateway-lost\",\"events\":0,\"mapDrops\":0,"
			   "\"nodeEndReasons\":{\"node-1\":\"unknown\"}}");
	/* countsMissing one way or the other, never both */
	e.counts_missing = true;
	{
		json_t *tg = json_object();

		assert_int_equal(gw_audit_end_to_json(&e, tg), -EINVAL);
		json_decref(tg);
	}
	gw_audit_end_release(&e);

	/* a detached node's end its runner lost: no counts at all */
	assert_non_null(e.reason = strdup("runner-lost"));
	assert_non_null(e.node = strdup("node-1"));
	assert_non_null(e.claimed_by = strdup("poll"));
	assert_non_null(e.claimer = strdup("gw.0123abcd"));
	e.counts_missing = e.detached_end = true;
	end_round_trip(&e, "{\"claimedBy\":\"poll\",\"claimer\":\"gw.0123abcd\",\"countsMissing\":true,"
			   "\"detachedEnd\":true,\"endReason\":\"runner-lost\",\"node\":\"node-1\","
			   "\"nodes\":[\"node-1\"]}");
	gw_audit_end_release(&e);

	/* a detached start: failedNodes, maybe empty; a record with no end */
	assert_non_null(e.reason = strdup("detached"));
	e.has = GW_AUDIT_END_FAILED;
	end_round_trip(&e, "{\"endReason\":\"detached\",\"failedNodes\":[]}");
	gw_audit_end_release(&e);
	end_round_trip(&e, "{}");
}

/* A wrong member is refused, named; the result is left untouched; the
 * decision's members and counts it does not know are skipped. */
static void test_audit_end_refusals(void **state)
{
	static const struct {
		const char *tg, *err;
	} bad[] = {
		{ "[]", "tracegate: not an object" },
		{ "{\"events\":\"7\"}", "tracegate.\"events\": not a non-negative integer" },
		{ "{\"events\":-1,\"counts\":{\"events\":-1}}", "tracegate.\"events\": not a non-negative" },
		{ "{\"events\":1,\"counts\":{\"events\":2}}", "tracegate.\"events\": 1, but \"counts\" says 2" },
		{ "{\"counts\":[1]}", "tracegate.\"counts\": not an object" },
		{ "{\"counts\":{\"drops\":true}}", "tracegate.counts.\"drops\": not a non-negative integer" },
		{ "{\"cpuNs\":1.5}", "tracegate.\"cpuNs\"" },
		{ "{\"exitCode\":4294967296}", "tracegate.\"exitCode\": not an integer of 32 bits" },
		{ "{\"exitCode\":\"0\"}", "tracegate.\"exitCode\"" },
		{ "{\"endReason\":5}", "tracegate.\"endReason\"" },
		{ "{\"endReason\":\"\"}", "tracegate.\"endReason\"" },
		{ "{\"endReason\":\"exit now\"}", "tracegate.\"endReason\"" },
		{ "{\"endMessage\":[]}", "tracegate.\"endMessage\": not a string" },
		{ "{\"countsMissing\":false}", "tracegate.\"countsMissing\": not true or an object" },
		{ "{\"countsMissing\":{\"node-1\":3}}", "tracegate.\"countsMissing\".\"node-1\"" },
		{ "{\"countsMissing\":{\"\":\"why\"}}", "tracegate.\"countsMissing\": a key that is not a node name" },
		{ "{\"nodeEndReasons\":[]}", "tracegate.\"nodeEndReasons\": not an object" },
		{ "{\"nodeEndReasons\":{\"node-1\":\"exit now\"}}", "tracegate.\"nodeEndReasons\".\"node-1\": not a reason" },
		{ "{\"failedNodes\":\"node-1\"}", "tracegate.\"failedNodes\"" },
		{ "{\"failedNodes\":[\"\"]}", "tracegate.\"failedNodes\"[0]" },
		{ "{\"afterRestart\":\"yes\"}", "tracegate.\"afterRestart\": not a boolean" },
		{ "{\"detachedEnd\":1}", "tracegate.\"detachedEnd\": not a boolean" },
		{ "{\"node\":\"\"}", "tracegate.\"node\": not a node name" },
		{ "{\"node\":7}", "tracegate.\"node\": not a string" },
		{ "{\"claimedBy\":\"someone\"}", "tracegate.\"claimedBy\"" },
		{ "{\"claimer\":\"a/b\"}", "tracegate.\"claimer\"" },
	};
	struct gw_audit_end e, blank;
	char *err = NULL;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		json_t *tg = json_loads(bad[i].tg, JSON_DECODE_ANY, NULL);

		assert_non_null(tg);
		memset(&e, 0xa5, sizeof(e));
		blank = e;
		assert_int_equal(gw_audit_end_from_json(tg, &e, &err), -EINVAL);
		if (!err || !strstr(err, bad[i].err))
			fail_msg("%s: want \"%s\", got \"%s\"", bad[i].tg, bad[i].err, err ? err : "(none)");
		assert_memory_equal(&e, &blank, sizeof(e));
		free(err);
		err = NULL;
		json_decref(tg);
	}
	/* the decision's members, counts not known yet, one side of the counts */
	{
		json_t *tg = json_loads("{\"policy\":\"p\",\"nodes\":[\"a\",\"b\"],\"events\":3,"
					"\"counts\":{\"events\":3,\"lost\":1,\"drops\":4}}", 0, NULL);

		memset(&e, 0, sizeof(e));
		assert_int_equal(gw_audit_end_from_json(tg, &e, &err), 0);
		assert_int_equal(e.has, GW_AUDIT_END_EVENTS | GW_AUDIT_END_DROPS);
		assert_int_equal(e.events, 3);
		assert_int_equal(e.drops, 4);
		assert_null(e.reason);
		gw_audit_end_release(&e);
		json_decref(tg);
	}
}

/* One node's end as a record: the create's auditID and request, the
 * runner's counts, marked detachedEnd. */
static void test_detend_record(void **state)
{
	static const char *const session =
		"{\"trace\":\"t1\",\"node\":\"node-1\",\"namespace\":\"team-a\",\"user\":\"alice\","
		"\"groups\":[\"team-a\"],\"target\":\"pod/web-a\",\"program\":\"BEGIN{}\",\"duration\":3,"
		"\"pods\":[\"team-a/web-a\"],\"created\":\"2026-12-06T08:35:11Z\",\"state\":\"Succeeded\","
		"\"records\":5,\"outputs\":4,\"bufferBytes\":100,\"bufferDropped\":0,"
		"\"end\":{\"type\":\"end\",\"reason\":\"duration\",\"events\":7,\"drops\":2,\"mapDrops\":1,"
		"\"outputBytes\":40,\"cpuNs\":99,\"exitCode\":0},"
		"\"auditID\":\"0b6e3f1c-6a5e-4f3e-9a47-2c1d5b7e8f90\",\"claimedBy\":\"gw.12345678\","
		"\"requester\":\"root\"}";
	json_t *s = json_loads(session, 0, NULL), *r, *tg;
	char name[WIRE_DET_MAX_CLAIMER + 1];

	(void)state;
	assert_non_null(s);
	r = gw_detend_record(s, "poll", 1765000000000000000ull);
	assert_non_null(r);
	assert_string_equal(json_string_value(json_object_get(r, "stage")), "ResponseComplete");
	assert_string_equal(json_string_value(json_object_get(r, "auditID")), "0b6e3f1c-6a5e-4f3e-9a47-2c1d5b7e8f90");
	assert_string_equal(json_string_value(json_object_get(r, "verb")), "create");
	/* recorded as the create was: the impersonator as user */
	assert_string_equal(json_string_value(json_object_get(json_object_get(r, "user"), "username")), "root");
	assert_string_equal(json_string_value(json_object_get(json_object_get(r, "impersonatedUser"), "username")),
			    "alice");
	assert_string_equal(json_string_value(json_object_get(json_object_get(r, "objectRef"), "name")), "pod/web-a");
	tg = json_object_get(r, "tracegate");
	assert_true(json_is_true(json_object_get(tg, "detachedEnd")));
	assert_string_equal(json_string_value(json_object_get(tg, "node")), "node-1");
	assert_string_equal(json_string_value(json_object_get(tg, "endReason")), "duration");
	assert_int_equal(json_integer_value(json_object_get(tg, "events")), 7);
	assert_int_equal(json_integer_value(json_object_get(tg, "drops")), 2);
	assert_int_equal(json_integer_value(json_object_get(tg, "mapDrops")), 1);
	assert_int_equal(json_integer_value(json_object_get(tg, "bytes")), 40);
	assert_int_equal(json_integer_value(json_object_get(tg, "exitCode")), 0);
	assert_string_equal(json_string_value(json_object_get(tg, "claimedBy")), "poll");
	assert_null(json_object_get(tg, "afterRestart"));
	json_decref(r);
	r = gw_detend_record(s, "restart", 1765000000000000000ull);
	assert_true(json_is_true(json_object_get(json_object_get(r, "tracegate"), "afterRestart")));
	json_decref(r);
	/* no end: nothing to record */
	json_object_del(s, "end");
	assert_null(gw_detend_record(s, "poll", 1));
	json_decref(s);
	assert_int_equal(gw_detend_claimer("/var/log/tracegate/audit.log", name, sizeof(name)), 0);
	assert_non_null(strchr(name, '.'));
	for (const char *p = name; *p; p++)
		assert_non_null(strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.", *p));
}

/* A detached start kept until its node's end is claimed; a runner that
 * lost it gets one runner-lost record, no counts; the set is bounded. */
static void test_detlost(void **state)
{
	static const char *const session =
		"{\"trace\":\"t1\",\"node\":\"node-1\",\"namespace\":\"team-a\",\"user\":\"alice\","
		"\"groups\":[\"team-a\"],\"target\":\"pod/web-a\",\"program\":\"BEGIN{}\",\"duration\":30,"
		"\"pods\":[\"team-a/web-a\"],\"created\":\"2026-12-06T08:35:11Z\",\"state\":\"Running\","
		"\"auditID\":\"a1\",\"requester\":\"root\"}";
	static const char *const create =
		"{\"auditID\":\"a2\",\"stage\":\"ResponseComplete\",\"user\":{\"username\":\"alice\","
		"\"groups\":[\"devs\"]},\"objectRef\":{\"namespace\":\"team-b\",\"name\":\"pod/web-b\"},"
		"\"tracegate\":{\"trace\":\"t2\",\"target\":\"pod/web-b\",\"duration\":60,\"nodes\":[\"node-2\"]}}";
	struct gw_detlost *dl = gw_detlost_new();
	json_t *s = json_loads(session, 0, NULL), *c = json_loads(create, 0, NULL);
	json_t *tpl = gw_detlost_tpl_session(s), *tpl2 = gw_detlost_tpl_create(c), *listed = json_object(), *a, *r, *tg;
	char trace[32];

	(void)state;
	assert_non_null(dl);
	assert_non_null(tpl);
	assert_non_null(tpl2);
	assert_int_equal(gw_detlost_add(dl, tpl, "node-1"), 0);
	assert_int_equal(gw_detlost_add(dl, tpl2, "node-2"), 0);
	assert_true(gw_detlost_has_node(dl, "node-1"));
	assert_false(gw_detlost_has_node(dl, "node-3"));
	/* listed: not absent; not listed: absent */
	json_object_set_new(listed, "t1", json_true());
	a = gw_detlost_absent(dl, "node-1", listed);
	assert_int_equal(json_array_size(a), 0);
	json_decref(a);
	a = gw_detlost_absent(dl, "node-2", listed);
	assert_int_equal(json_array_size(a), 1);
	assert_string_equal(json_string_value(json_array_get(a, 0)), "t2");
	json_decref(a);
	/* claimed: forgotten, nothing to record as lost */
	gw_detlost_forget(dl, "node-1", "t1");
	assert_false(gw_detlost_has_node(dl, "node-1"));
	assert_null(gw_detlost_take(dl, "node-1", "t1", "poll", 1));
	/* lost: one record, once */
	r = gw_detlost_take(dl, "node-2", "t2", "restart", 1765000000000000000ull);
	assert_non_null(r);
	assert_null(gw_detlost_take(dl, "node-2", "t2", "restart", 1));
	assert_string_equal(json_string_value(json_object_get(r, "stage")), "ResponseComplete");
	assert_string_equal(json_string_value(json_object_get(r, "auditID")), "a2");
	assert_string_equal(json_string_value(json_object_get(json_object_get(r, "user"), "username")), "alice");
	assert_string_equal(json_string_value(json_object_get(json_object_get(r, "objectRef"), "namespace")), "team-b");
	tg = json_object_get(r, "tracegate");
	assert_true(json_is_true(json_object_get(tg, "detachedEnd")));
	assert_string_equal(json_string_value(json_object_get(tg, "node")), "node-2");
	assert_string_equal(json_string_value(json_object_get(tg, "endReason")), "runner-lost");
	assert_true(json_is_true(json_object_get(tg, "countsMissing")));
	assert_null(json_object_get(tg, "events"));
	assert_null(json_object_get(tg, "counts"));
	assert_string_equal(json_string_value(json_object_get(tg, "claimedBy")), "restart");
	assert_true(json_is_true(json_object_get(tg, "afterRestart")));
	assert_non_null(strstr(json_string_value(json_object_get(tg, "endMessage")), "no longer knew the session"));
	json_decref(r);
	/* the session's impersonator is the record's user */
	assert_int_equal(gw_detlost_add(dl, tpl, "node-1"), 0);
	r = gw_detlost_take(dl, "node-1", "t1", "poll", 1);
	assert_string_equal(json_string_value(json_object_get(json_object_get(r, "user"), "username")), "root");
	assert_string_equal(json_string_value(json_object_get(json_object_get(r, "impersonatedUser"), "username")),
			    "alice");
	json_decref(r);
	/* bounded */
	for (unsigned i = 0; i < GW_DETLOST_MAX; i++) {
		snprintf(trace, sizeof(trace), "t%u", i);
		json_object_set_new(tpl, "trace", json_string(trace));
		assert_int_equal(gw_detlost_add(dl, tpl, "node-1"), 0);
	}
	json_object_set_new(tpl, "trace", json_string("one-more"));
	assert_int_equal(gw_detlost_add(dl, tpl, "node-1"), -E2BIG);
	/* a start without what its record needs is refused */
	json_object_del(c, "objectRef");
	assert_null(gw_detlost_tpl_create(c));
	json_decref(listed);
	json_decref(tpl);
	json_decref(tpl2);
	json_decref(s);
	json_decref(c);
	gw_detlost_free(dl);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_recover_scan_detached, setup, teardown),
		cmocka_unit_test(test_audit_end_round_trip),
		cmocka_unit_test(test_audit_end_refusals),
		cmocka_unit_test(test_detend_record),
		cmocka_unit_test(test_detlost),
		cmocka_unit_test_setup_teardown(test_query_detached, setup, teardown),
		cmocka_unit_test_setup_teardown(test_untouched_log_verifies, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reopen_continues_chain, setup, teardown),
		cmocka_unit_test_setup_teardown(test_edited_byte, setup, teardown),
		cmocka_unit_test_setup_teardown(test_deleted_line, setup, teardown),
		cmocka_unit_test_setup_teardown(test_deleted_first_line, setup, teardown),
		cmocka_unit_test_setup_teardown(test_swapped_lines, setup, teardown),
		cmocka_unit_test_setup_teardown(test_inserted_line, setup, teardown),
		cmocka_unit_test_setup_teardown(test_truncated_last_line, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rotation_keeps_chain, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rotation_keep_limit_and_reopen, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reopen_after_clean_rotation, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hmac, setup, teardown),
		cmocka_unit_test_setup_teardown(test_key_file_limits, setup, teardown),
		cmocka_unit_test_setup_teardown(test_append_is_durable_and_marks_event, setup, teardown),
		cmocka_unit_test_setup_teardown(test_record_limit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_failed_write_is_an_error, setup, teardown),
		cmocka_unit_test_setup_teardown(test_concurrent_appends_serialize, setup, teardown),
		cmocka_unit_test_setup_teardown(test_group_commit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_group_commit_short_write, setup, teardown),
		cmocka_unit_test(test_files_order),
		cmocka_unit_test_setup_teardown(test_recover_scan, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cmd_verify_and_query, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
