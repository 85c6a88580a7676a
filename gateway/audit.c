// SPDX-License-Identifier: Apache-2.0
/*
 * The audit log (docs/audit.md).  Each line is the event serialized
 * compactly with sorted keys, then the chain fields appended in a fixed
 * order, so that verification works on the bytes as written and never
 * re-serializes anything:
 *
 *   {...event...,"seq":N,"prevHash":"<sha256 of the previous line>","hmac":"<hex>"}
 *
 * "hmac" (only with a key) is HMAC-SHA256 over the line with its
 * `,"hmac":"<64 hex>"` removed, i.e. over everything before it plus "}".
 *
 * One mutex serializes appends; each line goes out with one write() on an
 * O_APPEND descriptor.  audit_log_append then calls fdatasync() itself;
 * audit_log_write (group commit) leaves the sync to one thread, which
 * syncs every record written so far with one fdatasync() and reports the
 * seq it covered, so that records of concurrent requests share a sync and
 * each caller learns (audit_log_dispatch) when its own is durable.  A record is on disk whole
 * or not at all: its space is reserved first (fallocate), a short write is
 * rolled back (ftruncate to the size before it), and a fragment left by a
 * crash in the middle of a write (never acknowledged, so no request relied
 * on it) is cut off when the log is opened.  Only if a rollback itself
 * fails does a fragment stay; the next append then starts with a newline
 * so its own record is whole, and chains from the last complete line.
 */
#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <unistd.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include "lib/buf.h"
#include "lib/cleanup.h"
#include "lib/cleanup-json.h"
#include "lib/errors.h"
#include "lib/jsondump.h"
#include "lib/util.h"
#include "lib/opts.h"
#include "gateway/audit.h"
#include "lib/banned.h"

#define HMAC_SUFFIX_HEAD ",\"hmac\":\""
/* `,"hmac":"` + 64 hex + `"}` */
#define HMAC_SUFFIX_LEN (sizeof(HMAC_SUFFIX_HEAD) - 1 + 64 + 2)
#define AUDIT_MAX_KEEP 10000  /* as the gateway config allows */
#define AUDIT_ALLOC_STEP (256u * 1024)  /* the log file is allocated ahead by this */

struct audit_log {
	pthread_mutex_t lock;
	char *path;
	int fd;
	uint64_t size;            /* bytes in the current file */
	uint64_t seq;             /* of the last record written; 0: none */
	char prev[65];            /* SHA-256 of the last complete line */
	bool tail_partial;        /* the file ends in a fragment */
	uint64_t repaired;        /* bytes of a torn last record cut off at open */
	uint64_t reserve;         /* kept allocatable after an ordinary record */
	uint64_t alloc_end;       /* the current file is allocated up to here (fallocate) */
	struct buf line;          /* the record being written, kept between records */
	unsigned char *key;
	size_t keylen;
	uint64_t rotate_bytes;
	unsigned keep_files;

	/* group commit: the sync thread (started by audit_log_group_start)
	 * syncs up to seq and queues what it covered in done; the loop that
	 * writes calls audit_log_dispatch, which answers the waiters */
	pthread_t syncer;
	bool syncing;             /* the thread runs */
	bool stop;
	pthread_cond_t wake;      /* records to sync, or stop */
	pthread_cond_t synced;    /* a sync returned (audit_log_flush) */
	uint64_t sync_seq;        /* the thread has synced (or failed) up to here */
	uint64_t failed_seq;      /* a failed sync up to here could not be queued */
	int efd;                  /* eventfd: a sync returned */
	struct audit_sync_done *done_head, *done_tail;   /* under lock */
	struct audit_waiter *wait_head, *wait_tail;      /* the writer's thread only */
};

/* A sync that returned: records up to seq, its result. */
struct audit_sync_done {
	struct audit_sync_done *next;
	uint64_t seq;
	int result;
	char *err;
};

struct audit_waiter {
	struct audit_waiter *next;
	uint64_t seq;
	audit_done_fn done;
	void *ud;
};

static void hmac_hex(const unsigned char *key, size_t keylen, const void *data, size_t len,
		     char out[65])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;

	HMAC(EVP_sha256(), key, (int)keylen, data, len, md, &mdlen);
	hex_encode(md, 32, out);
}

/* HMAC over line[0..len) with the trailing hmac field removed.  The line
 * must end in HMAC_SUFFIX_HEAD + 64 hex + `"}`. */
static bool line_hmac_split(const char *line, size_t len, const char **ret_mac, size_t *ret_body)
{
	const char *tail;

	if (len < HMAC_SUFFIX_LEN + 1)
		return false;
	tail = line + len - HMAC_SUFFIX_LEN;
	if (memcmp(tail, HMAC_SUFFIX_HEAD, sizeof(HMAC_SUFFIX_HEAD) - 1) ||
	    memcmp(line + len - 2, "\"}", 2))
		return false;
	*ret_mac = tail + sizeof(HMAC_SUFFIX_HEAD) - 1;
	*ret_body = len - HMAC_SUFFIX_LEN;
	return true;
}

static void line_hmac(const unsigned char *key, size_t keylen, const char *body, size_t len,
		      char out[65])
{
	_cleanup_free_ char *tmp = malloc(len + 1);

	if (!tmp) {
		/* an all-zero MAC never matches: a failure, not a pass */
		memset(out, '0', 64);
		out[64] = '\0';
		return;
	}
	memcpy(tmp, body, len);
	tmp[len] = '}';
	hmac_hex(key, keylen, tmp, len + 1, out);
}

int audit_key_load(const char *path, unsigned char **ret_key, size_t *ret_len, char **ret_err)
{
	_cleanup_free_ char *data = NULL;
	size_t len = 0;
	int r;

	r = read_file(path, AUDIT_MAX_KEY, &data, &len);
	if (r == -EFBIG)
		return tg_fail(ret_err, -TG_ECONFIG, "audit key \"%s\": longer than %u bytes", path,
			    AUDIT_MAX_KEY);
	if (r < 0)
		return tg_fail(ret_err, r, "audit key \"%s\": %s", path, strerror(-r));
	if (len < AUDIT_MIN_KEY)
		return tg_fail(ret_err, -TG_ECONFIG, "audit key \"%s\": %zu bytes, at least %u needed",
			    path, len, AUDIT_MIN_KEY);
	*ret_key = (unsigned char *)TAKE_PTR(data);
	*ret_len = len;
	return 0;
}

/* --- reading lines ---------------------------------------------------------- */

struct audit_reader {
	int fd;
	bool eof;
	struct buf b;             /* unread bytes */
	char *line;               /* the line handed out last */
	size_t line_alloc;
};

int audit_reader_open(const char *path, struct audit_reader **ret, char **ret_err)
{
	struct audit_reader *r;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return tg_fail(ret_err, -errno, "audit log \"%s\": %s", path, strerror(errno));
	r = calloc(1, sizeof(*r));
	if (!r) {
		close(fd);
		return -ENOMEM;
	}
	r->fd = fd;
	buf_init(&r->b, AUDIT_MAX_RECORD + 64 * 1024);
	*ret = r;
	return 0;
}

struct audit_reader *audit_reader_free(struct audit_reader *r)
{
	if (!r)
		return NULL;
	if (r->fd >= 0)
		close(r->fd);
	buf_release(&r->b);
	free(r->line);
	free(r);
	return NULL;
}

static int reader_hand_out(struct audit_reader *r, size_t len, size_t consume, const char **ret_line,
			   size_t *ret_len)
{
	if (len + 1 > r->line_alloc) {
		char *p = realloc(r->line, len + 1);

		if (!p)
			return -ENOMEM;
		r->line = p;
		r->line_alloc = len + 1;
	}
	memcpy(r->line, r->b.s, len);
	r->line[len] = '\0';
	buf_consume(&r->b, consume);
	*ret_line = r->line;
	*ret_len = len;
	return 1;
}

int audit_reader_next(struct audit_reader *r, const char **ret_line, size_t *ret_len,
		      bool *ret_terminated)
{
	for (;;) {
		char *nl = memchr(r->b.s, '\n', r->b.len);
		char chunk[64 * 1024];
		ssize_t n;
		int e;

		if (nl) {
			size_t len = (size_t)(nl - r->b.s);

			if (len > AUDIT_MAX_RECORD)
				return -E2BIG;
			*ret_terminated = true;
			return reader_hand_out(r, len, len + 1, ret_line, ret_len);
		}
		if (r->b.len > AUDIT_MAX_RECORD)
			return -E2BIG;
		if (r->eof) {
			if (!r->b.len)
				return 0;
			*ret_terminated = false;
			return reader_hand_out(r, r->b.len, r->b.len, ret_line, ret_len);
		}
		n = read(r->fd, chunk, sizeof(chunk));
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (n == 0) {
			r->eof = true;
			continue;
		}
		e = buf_add(&r->b, chunk, (size_t)n);
		if (e < 0)
			return e;
	}
}

/* --- the tail of an existing log ----------------------------------------------- */

/*
 * Finds the last complete line of the file open on fd (size bytes): its
 * SHA-256 and seq.  *ret_partial tells whether bytes without a newline
 * follow it.  Returns 1 when there is a complete line, 0 when none.
 */
static int tail_read(int fd, const char *path, uint64_t size, char ret_hash[65], uint64_t *ret_seq,
		     bool *ret_partial, uint64_t *ret_end, char **ret_err)
{
	_cleanup_free_ char *data = NULL;
	_cleanup_(json_decrefp) json_t *j = NULL;
	uint64_t window = 2 * ((uint64_t)AUDIT_MAX_RECORD + 1), off;
	size_t len, got = 0, end, start;
	json_error_t jerr;
	json_t *seq;

	*ret_partial = false;
	if (ret_end)
		*ret_end = 0;
	if (size == 0)
		return 0;
	off = size > window ? size - window : 0;
	len = (size_t)(size - off);
	data = malloc(len);
	if (!data)
		return -ENOMEM;
	while (got < len) {
		ssize_t n = pread(fd, data + got, len - got, (off_t)(off + got));

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return tg_fail(ret_err, -errno, "audit log \"%s\": %s", path, strerror(errno));
		if (n == 0)
			return tg_fail(ret_err, -EIO, "audit log \"%s\": shrank while being read", path);
		got += (size_t)n;
	}
	end = len;
	if (data[end - 1] != '\n') {
		*ret_partial = true;
		while (end > 0 && data[end - 1] != '\n')
			end--;
		if (ret_end)
			*ret_end = off + end;
		if (end == 0) {
			if (off == 0)
				return 0;  /* only a fragment */
			return tg_fail(ret_err, -TG_EAUDIT,
				    "audit log \"%s\": last record is longer than %u bytes", path,
				    AUDIT_MAX_RECORD);
		}
	}
	/* data[end - 1] is the newline ending the last complete line */
	start = end - 1;
	while (start > 0 && data[start - 1] != '\n')
		start--;
	if (start == 0 && off > 0)
		return tg_fail(ret_err, -TG_EAUDIT, "audit log \"%s\": last record is longer than %u bytes",
			    path, AUDIT_MAX_RECORD);
	sha256_hex(data + start, end - 1 - start, ret_hash);
	j = json_loadb(data + start, end - 1 - start, 0, &jerr);
	seq = j && json_is_object(j) ? json_object_get(j, "seq") : NULL;
	if (!seq || !json_is_integer(seq) || json_integer_value(seq) < 1)
		return tg_fail(ret_err, -TG_EAUDIT,
			    "audit log \"%s\": last record has no valid \"seq\": run 'tracegate audit verify' on it",
			    path);
	*ret_seq = (uint64_t)json_integer_value(seq);
	return 1;
}

static int tail_of_path(const char *path, char ret_hash[65], uint64_t *ret_seq, char **ret_err)
{
	_cleanup_close_ int fd = -1;
	struct stat st;
	bool partial;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOENT)
			return 0;
		return tg_fail(ret_err, -errno, "audit log \"%s\": %s", path, strerror(errno));
	}
	if (fstat(fd, &st) < 0)
		return tg_fail(ret_err, -errno, "audit log \"%s\": %s", path, strerror(errno));
	return tail_read(fd, path, (uint64_t)st.st_size, ret_hash, ret_seq, &partial, NULL, ret_err);
}

/* --- writing ---------------------------------------------------------------------- */

static int fsync_dir_of(const char *path)
{
	_cleanup_free_ char *dir = strdup(path);
	_cleanup_close_ int fd = -1;
	char *slash;

	if (!dir)
		return -ENOMEM;
	slash = strrchr(dir, '/');
	if (!slash)
		fd = open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	else {
		if (slash == dir)
			slash[1] = '\0';
		else
			*slash = '\0';
		fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	}
	if (fd < 0 || fsync(fd) < 0)
		return -errno;
	return 0;
}

static int open_current(struct audit_log *log, char **ret_err)
{
	struct stat st;
	int fd;

	fd = open(log->path, O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		return tg_fail(ret_err, -errno, "audit log \"%s\": %s", log->path, strerror(errno));
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		int r = S_ISREG(st.st_mode) ? -errno : -EINVAL;

		close(fd);
		return tg_fail(ret_err, r, "audit log \"%s\": not a regular file", log->path);
	}
	if (st.st_size == 0) {
		/* a new file: its directory entry must be durable too */
		int r = fsync_dir_of(log->path);

		if (r < 0) {
			close(fd);
			return tg_fail(ret_err, r, "audit log \"%s\": syncing its directory: %s",
				    log->path, strerror(-r));
		}
	}
	log->fd = fd;
	log->size = (uint64_t)st.st_size;
	log->alloc_end = 0;
	return 0;
}

/*
 * Space first: the record's bytes and reserve_after beyond them are
 * allocated in the file before it is written, so that a full filesystem
 * refuses the record before a byte of it is written.  One fallocate a
 * record cost about 5% of the gateway's CPU on refusals; the file is
 * allocated ahead by AUDIT_ALLOC_STEP where the filesystem has room (up
 * to rotateBytes), exactly what is needed where it has not, and a record
 * whose room is already allocated needs no call.  An ftruncate frees
 * what was allocated ahead; so does anyone else's, which the size shows.
 */
static int reserve_space(struct audit_log *log, uint64_t before, uint64_t need, char **ret_err)
{
	uint64_t end = before + need, ahead = end + AUDIT_ALLOC_STEP;

	if (before != log->size)
		log->alloc_end = 0;
	if (end <= log->alloc_end)
		return 0;
	if (log->rotate_bytes && ahead > log->rotate_bytes)
		ahead = end > log->rotate_bytes ? end : log->rotate_bytes;
	if (ahead > end && fallocate(log->fd, FALLOC_FL_KEEP_SIZE, (off_t)before, (off_t)(ahead - before)) == 0) {
		log->alloc_end = ahead;
		return 0;
	}
	if (fallocate(log->fd, FALLOC_FL_KEEP_SIZE, (off_t)before, (off_t)need) == 0) {
		log->alloc_end = end;
		return 0;
	}
	if (errno == EOPNOTSUPP || errno == ENOSYS || errno == EINTR)
		return 0;   /* the write itself is the test */
	return tg_fail(ret_err, -errno, "audit log \"%s\": reserving %" PRIu64 " bytes: %s", log->path,
		       need, strerror(errno));
}

int audit_log_open(const char *path, const struct audit_opts *opts, struct audit_log **ret,
		   char **ret_err)
{
	struct audit_log *log;
	_cleanup_free_ char *rotated = NULL;
	bool partial = false;
	uint64_t whole = 0;
	int r;

	if (!path || !*path || !ret)
		return tg_fail(ret_err, -EINVAL, "audit log: no path");
	if (!OPTS_VALID(opts, struct audit_opts))
		return tg_fail(ret_err, -EINVAL, "audit log: struct audit_opts too small");
	if (OPTS_GET(opts, keep_files, 0) > AUDIT_MAX_KEEP)
		return tg_fail(ret_err, -EINVAL, "audit log: keep_files %u over the limit %u",
			    opts->keep_files, AUDIT_MAX_KEEP);
	log = calloc(1, sizeof(*log));
	if (!log)
		return -ENOMEM;
	pthread_mutex_init(&log->lock, NULL);
	pthread_cond_init(&log->wake, NULL);
	pthread_cond_init(&log->synced, NULL);
	log->fd = -1;
	log->efd = -1;
	buf_init(&log->line, AUDIT_MAX_RECORD + 1);
	memcpy(log->prev, AUDIT_ZERO_HASH, 65);
	log->path = strdup(path);
	if (!log->path) {
		r = -ENOMEM;
		goto fail;
	}
	if (opts) {
		log->rotate_bytes = opts->rotate_bytes;
		log->keep_files = opts->keep_files;
		if (opts->key_file) {
			r = audit_key_load(opts->key_file, &log->key, &log->keylen, ret_err);
			if (r < 0)
				goto fail;
		}
	}
	r = open_current(log, ret_err);
	if (r < 0)
		goto fail;
	r = tail_read(log->fd, log->path, log->size, log->prev, &log->seq, &partial, &whole, ret_err);
	if (r < 0)
		goto fail;
	if (partial) {
		/* A record torn by a crash mid-write: it was never acknowledged
		 * (append returns only after fdatasync), so no request relied on
		 * it.  Cut it off, durably, so the log verifies again. */
		if (ftruncate(log->fd, (off_t)whole) < 0 || fdatasync(log->fd) < 0) {
			r = tg_fail(ret_err, -errno,
				    "audit log \"%s\": ends in a torn record (%" PRIu64
				    " bytes) that cannot be cut off: %s; run 'tracegate audit verify' on it",
				    path, log->size - whole, strerror(errno));
			goto fail;
		}
		log->repaired = log->size - whole;
		log->size = whole;
	}
	if (r == 0) {
		/* nothing complete here: continue from the newest rotated file */
		if (asprintf(&rotated, "%s.1", path) < 0) {
			r = -ENOMEM;
			goto fail;
		}
		r = tail_of_path(rotated, log->prev, &log->seq, ret_err);
		if (r < 0)
			goto fail;
	}
	*ret = log;
	return 0;
fail:
	audit_log_close(log);
	return r;
}

struct audit_log *audit_log_close(struct audit_log *log)
{
	if (!log)
		return NULL;
	if (log->syncing) {
		pthread_mutex_lock(&log->lock);
		log->stop = true;
		pthread_cond_signal(&log->wake);
		pthread_mutex_unlock(&log->lock);
		pthread_join(log->syncer, NULL);
	}
	/* waiters not dispatched are dropped: their owners are gone */
	while (log->done_head) {
		struct audit_sync_done *d = log->done_head;

		log->done_head = d->next;
		free(d->err);
		free(d);
	}
	while (log->wait_head) {
		struct audit_waiter *w = log->wait_head;

		log->wait_head = w->next;
		free(w);
	}
	if (log->efd >= 0)
		close(log->efd);
	if (log->fd >= 0)
		close(log->fd);
	pthread_cond_destroy(&log->wake);
	pthread_cond_destroy(&log->synced);
	pthread_mutex_destroy(&log->lock);
	if (log->key) {
		explicit_bzero(log->key, log->keylen);
		free(log->key);
	}
	buf_release(&log->line);
	free(log->path);
	free(log);
	return NULL;
}

uint64_t audit_log_repaired(const struct audit_log *log)
{
	return log ? log->repaired : 0;
}

static char *rotated_name(const char *path, unsigned i)
{
	char *s;

	if (asprintf(&s, "%s.%u", path, i) < 0)
		return NULL;
	return s;
}

/* Queues what a sync covered (lock held) and wakes the writer's loop. */
static void sync_done_push(struct audit_log *log, uint64_t seq, int result, const char *err)
{
	struct audit_sync_done *d;
	uint64_t one = 1;

	if (!log->syncing)
		return;
	d = calloc(1, sizeof(*d));
	if (!d) {
		/* no memory to queue it: a failure is still never reported as
		 * a success (dispatch fails every waiter up to failed_seq) */
		if (result < 0 && seq > log->failed_seq)
			log->failed_seq = seq;
	} else {
		d->seq = seq;
	d->result = result;
		d->err = err ? strdup(err) : NULL;
		if (log->done_tail)
			log->done_tail->next = d;
		else
			log->done_head = d;
		log->done_tail = d;
	}
	if (seq > log->sync_seq)
		log->sync_seq = seq;
	pthread_cond_broadcast(&log->synced);
	(void)!write(log->efd, &one, sizeof(one));
}

/* The sync thread: one fdatasync for every record written since the last
 * one, however many, then the next group.  The descriptor is duplicated
 * under the lock, so a rotation meanwhile (which syncs the old file
 * itself) cannot close it under the sync. */
static void *sync_run(void *arg)
{
	struct audit_log *log = arg;

	pthread_mutex_lock(&log->lock);
	for (;;) {
		_cleanup_free_ char *err = NULL;
		uint64_t upto;
		int fd, r = 0;

		while (!log->stop && log->sync_seq >= log->seq)
			pthread_cond_wait(&log->wake, &log->lock);
		if (log->sync_seq >= log->seq)
			break;   /* stopping, and everything is synced */
		upto = log->seq;
		fd = log->fd >= 0 ? fcntl(log->fd, F_DUPFD_CLOEXEC, 0) : -1;
		if (fd < 0)
			r = tg_fail(&err, log->fd >= 0 ? -errno : -EBADF, "audit log \"%s\": fdatasync: %s",
				    log->path, log->fd >= 0 ? strerror(errno) : "no file open");
		pthread_mutex_unlock(&log->lock);
		if (fd >= 0) {
			if (fdatasync(fd) < 0)
				r = tg_fail(&err, -errno, "audit log \"%s\": fdatasync: %s", log->path,
					    strerror(errno));
			close(fd);
		}
		pthread_mutex_lock(&log->lock);
		sync_done_push(log, upto, r, err);
	}
	pthread_mutex_unlock(&log->lock);
	return NULL;
}

int audit_log_group_start(struct audit_log *log, int *ret_fd, char **ret_err)
{
	int r;

	if (!log || log->syncing)
		return tg_fail(ret_err, -EINVAL, "audit log: group commit already started");
	log->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (log->efd < 0)
		return tg_fail(ret_err, -errno, "audit log: eventfd: %s", strerror(errno));
	pthread_mutex_lock(&log->lock);
	log->sync_seq = log->seq;   /* what is in the file at the start was synced */
	log->syncing = true;
	pthread_mutex_unlock(&log->lock);
	r = pthread_create(&log->syncer, NULL, sync_run, log);
	if (r) {
		log->syncing = false;
		close(log->efd);
		log->efd = -1;
		return tg_fail(ret_err, -r, "audit log: sync thread: %s", strerror(r));
	}
	*ret_fd = log->efd;
	return 0;
}

/* Waiters are in seq order: those a sync up to seq covered are first. */
static size_t waiters_fire(struct audit_log *log, uint64_t seq, int result, const char *err)
{
	size_t n = 0;

	while (log->wait_head && log->wait_head->seq <= seq) {
		struct audit_waiter *w = log->wait_head;

		log->wait_head = w->next;
		if (!log->wait_head)
			log->wait_tail = NULL;
		w->done(w->ud, result, result < 0 ? (err ? err : "audit log: fdatasync failed") : NULL);
		free(w);
		n++;
	}
	return n;
}

size_t audit_log_dispatch(struct audit_log *log)
{
	struct audit_sync_done *list;
	uint64_t count, failed;
	size_t n = 0;

	if (!log || !log->syncing)
		return 0;
	(void)!read(log->efd, &count, sizeof(count));
	pthread_mutex_lock(&log->lock);
	list = log->done_head;
	log->done_head = log->done_tail = NULL;
	failed = log->failed_seq;
	pthread_mutex_unlock(&log->lock);
	n += waiters_fire(log, failed, -EIO, "audit log: fdatasync failed");
	while (list) {
		struct audit_sync_done *d = list;

		n += waiters_fire(log, d->seq, d->result, d->err);
		list = d->next;
		free(d->err);
		free(d);
	}
	return n;
}

size_t audit_log_flush(struct audit_log *log)
{
	size_t n = 0;

	if (!log || !log->syncing)
		return 0;
	while (log->wait_head) {
		uint64_t want = log->wait_tail->seq;

		pthread_mutex_lock(&log->lock);
		pthread_cond_signal(&log->wake);
		while (log->sync_seq < want)
			pthread_cond_wait(&log->synced, &log->lock);
		pthread_mutex_unlock(&log->lock);
		n += audit_log_dispatch(log);
	}
	return n;
}

/* audit.log.(k-1) -> audit.log.k ... audit.log -> audit.log.1, then a new
 * audit.log.  The in-memory chain state is untouched: the first line of
 * the new file chains from the last line of the rotated one. */
static int audit_rotate(struct audit_log *log, char **ret_err)
{
	_cleanup_free_ char *first = NULL;
	int r;

	/* Records written and not yet synced (group commit) are in this
	 * file: they are made durable before it is rotated away, since the
	 * sync thread syncs only the current file from then on. */
	if (fdatasync(log->fd) < 0) {
		r = tg_fail(ret_err, -errno, "audit log \"%s\": fdatasync before rotation: %s",
			    log->path, strerror(errno));
		/* the records written since the last sync are not known durable:
		 * their waiters are told so (a later sync of the same file may
		 * succeed without having written them) */
		sync_done_push(log, log->seq, r, ret_err ? *ret_err : NULL);
		return r;
	}
	if (log->keep_files == 0) {
		if (unlink(log->path) < 0)
			return tg_fail(ret_err, -errno, "audit log \"%s\": removing for rotation: %s",
				    log->path, strerror(errno));
	} else {
		for (unsigned i = log->keep_files; i >= 1; i--) {
			_cleanup_free_ char *from = i > 1 ? rotated_name(log->path, i - 1) : NULL;
			_cleanup_free_ char *to = rotated_name(log->path, i);

			if (!to || (i > 1 && !from))
				return -ENOMEM;
			if (i == log->keep_files && unlink(to) < 0 && errno != ENOENT)
				return tg_fail(ret_err, -errno, "audit log \"%s\": %s", to, strerror(errno));
			if (i > 1 && rename(from, to) < 0 && errno != ENOENT)
				return tg_fail(ret_err, -errno, "audit log \"%s\": rotating to \"%s\": %s",
					    from, to, strerror(errno));
		}
		first = rotated_name(log->path, 1);
		if (!first)
			return -ENOMEM;
		if (rename(log->path, first) < 0)
			return tg_fail(ret_err, -errno, "audit log \"%s\": rotating to \"%s\": %s",
				    log->path, first, strerror(errno));
	}
	close(log->fd);
	log->fd = -1;
	r = open_current(log, ret_err);
	if (r < 0) {
		/* put the old file back so the next append finds a log */
		if (first && rename(first, log->path) == 0) {
			char *ignored = NULL;

			if (open_current(log, &ignored) < 0)
				log->fd = -1;
			free(ignored);
		}
		return r;
	}
	log->tail_partial = false;
	return 0;
}

/* Copies the open file's first len bytes to fd (a new file at the path;
 * O_APPEND, which copy_file_range refuses). */
static int copy_whole(struct audit_log *log, int fd, uint64_t len, char **ret_err)
{
	_cleanup_free_ char *chunk = malloc(64 * 1024);
	uint64_t off = 0;

	if (!chunk)
		return -ENOMEM;
	while (off < len) {
		size_t want = len - off < 64 * 1024 ? (size_t)(len - off) : 64 * 1024;
		ssize_t n = pread(log->fd, chunk, want, (off_t)off), w = 0;

		if (n < 0 && errno == EINTR)
			continue;
		for (ssize_t done = 0; n > 0 && done < n; done += w) {
			w = write(fd, chunk + done, (size_t)(n - done));
			if (w < 0 && errno == EINTR)
				w = 0;
			else if (w <= 0)
				break;
		}
		if (n <= 0 || w <= 0)
			return tg_fail(ret_err, n < 0 || w < 0 ? -errno : -EIO,
				    "audit log \"%s\": writing it again after its removal: %s", log->path,
				    n < 0 || w < 0 ? strerror(errno) : "short read or write");
		off += (uint64_t)n;
	}
	return 0;
}

/*
 * The path must name the file the records go to.  Someone may have taken
 * it away under the running gateway: an rm (the records would go on into
 * a deleted file, all of them lost when the gateway exits), a rename by
 * logrotate (with or without an empty file created in its place).  A
 * removed file is written again at its path, whole, from the open
 * descriptor: its records and the chain stay.  A renamed one keeps its
 * records under its new name, synced first; the file at the path (new, or
 * the empty one put there) continues the chain, as after a rotation.  A
 * file at the path with anything else in it is not ours to append to: the
 * record is refused (and with it what it would have let start).
 */
static int follow_path(struct audit_log *log, const struct stat *cur, char **ret_err)
{
	bool removed = cur->st_nlink == 0;
	struct stat ps;
	int fd, r;

	if (stat(log->path, &ps) == 0) {
		if (ps.st_dev == cur->st_dev && ps.st_ino == cur->st_ino)
			return 0;
	} else if (errno != ENOENT) {
		return tg_fail(ret_err, -errno, "audit log \"%s\": %s", log->path, strerror(errno));
	}
	if (!removed && fdatasync(log->fd) < 0) {
		r = tg_fail(ret_err, -errno, "audit log \"%s\": fdatasync of the renamed file: %s",
			    log->path, strerror(errno));
		sync_done_push(log, log->seq, r, ret_err ? *ret_err : NULL);
		return r;
	}
	fd = open(log->path, O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		return tg_fail(ret_err, -errno, "audit log \"%s\": %s", log->path, strerror(errno));
	if (fstat(fd, &ps) < 0 || !S_ISREG(ps.st_mode) || ps.st_size != 0) {
		close(fd);
		return tg_fail(ret_err, -TG_EAUDIT,
			    "audit log \"%s\": replaced under the gateway by a file that is not empty, or not a regular file",
			    log->path);
	}
	r = removed ? copy_whole(log, fd, log->size, ret_err) : 0;
	if (r >= 0 && removed && fdatasync(fd) < 0)
		r = tg_fail(ret_err, -errno, "audit log \"%s\": fdatasync: %s", log->path, strerror(errno));
	if (r >= 0 && (r = fsync_dir_of(log->path)) < 0)
		r = tg_fail(ret_err, r, "audit log \"%s\": syncing its directory: %s", log->path,
			    strerror(-r));
	if (r < 0) {
		if (removed)
			(void)unlink(log->path);   /* not a torn copy at the path */
		close(fd);
		return r;
	}
	close(log->fd);
	log->fd = fd;
	log->alloc_end = 0;
	if (!removed) {
		log->size = 0;
		log->tail_partial = false;
	}
	return 1;
}

/* Serializes ev (json_dump_sorted: json_dumps' compact, sorted bytes,
 * written in place), or takes the object text already serialized so
 * (text, len; gw_event_format), and appends the chain fields: the line
 * without newline. */
static int format_line(struct audit_log *log, json_t *ev, const char *text, size_t textlen,
		       struct buf *line, char **ret_err)
{
	size_t len, start = line->len;
	int r;

	r = ev ? json_dump_sorted(line, ev) : buf_add(line, text, textlen);
	if (r == -E2BIG)
		return tg_fail(ret_err, -TG_ELIMIT, "audit record: longer than %u bytes",
			    AUDIT_MAX_RECORD);
	if (r < 0)
		return tg_fail(ret_err, r == -ENOMEM ? r : -EINVAL, "audit record: cannot serialize");
	len = line->len - start;
	if (len < 2 || line->s[start] != '{' || line->s[line->len - 1] != '}')
		return tg_fail(ret_err, -EINVAL, "audit record: not an object");
	line->s[--line->len] = '\0';
	r = buf_printf(line, "%s\"seq\":%" PRIu64 ",\"prevHash\":\"%s\"", len > 2 ? "," : "",
		       log->seq + 1, log->prev);
	if (r >= 0 && log->key) {
		char mac[65];

		line_hmac(log->key, log->keylen, line->s + start, line->len - start, mac);
		r = buf_printf(line, HMAC_SUFFIX_HEAD "%s\"", mac);
	}
	if (r >= 0)
		r = buf_addc(line, '}');
	if (r == -E2BIG)
		return tg_fail(ret_err, -TG_ELIMIT, "audit record: longer than %u bytes",
			    AUDIT_MAX_RECORD);
	return r;
}

static int append_locked(struct audit_log *log, json_t *ev, const char *text, size_t textlen,
			 uint64_t reserve_after, bool sync, char **ret_err)
{
	struct buf *line = &log->line;
	char hash[65];
	const char *out;
	size_t outlen, linelen;
	uint64_t before;
	struct stat st;
	ssize_t n;
	int r;

	if (ev && (json_object_get(ev, "seq") || json_object_get(ev, "prevHash") ||
		   json_object_get(ev, "hmac")))
		return tg_fail(ret_err, -EINVAL, "audit record: already has chain fields");
	/* the buffer is kept between records (a record's line grew from 64
	 * bytes by six reallocations); one that was big is not */
	if (line->alloc > 64 * 1024)
		buf_release(line);
	buf_clear(line);
	/* room for a leading newline that ends a fragment */
	r = buf_addc(line, '\n');
	if (r < 0)
		return r;
	r = format_line(log, ev, text, textlen, line, ret_err);
	if (r < 0)
		return r;
	linelen = line->len - 1;
	if (linelen > AUDIT_MAX_RECORD)
		return tg_fail(ret_err, -TG_ELIMIT, "audit record: longer than %u bytes",
			    AUDIT_MAX_RECORD);
	sha256_hex(line->s + 1, linelen, hash);
	r = buf_addc(line, '\n');
	if (r < 0)
		return r;

	if (log->fd < 0) {
		r = open_current(log, ret_err);
		if (r < 0)
			return r;
	}
	/* the path still names the file (not removed or renamed away) */
	if (fstat(log->fd, &st) < 0)
		return tg_fail(ret_err, -errno, "audit log \"%s\": %s", log->path, strerror(errno));
	r = follow_path(log, &st, ret_err);
	if (r < 0)
		return r;
	if (log->rotate_bytes && log->size > 0 && log->size + linelen + 1 > log->rotate_bytes) {
		r = audit_rotate(log, ret_err);
		if (r < 0)
			return r;
		r = 1;
	}
	out = log->tail_partial ? line->s : line->s + 1;
	outlen = log->tail_partial ? line->len : line->len - 1;
	/* the size of the file written to: st's, unless the file changed */
	if (r > 0 && fstat(log->fd, &st) < 0)
		return tg_fail(ret_err, -errno, "audit log \"%s\": %s", log->path, strerror(errno));
	before = (uint64_t)st.st_size;
	/* Reserve the record's space first (and what the caller wants kept
	 * free after it), so that a full filesystem refuses it before a byte
	 * is written, where the filesystem can. */
	r = reserve_space(log, before, outlen + reserve_after, ret_err);
	if (r < 0)
		return r;
	do
		n = write(log->fd, out, outlen);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return tg_fail(ret_err, -errno, "audit log \"%s\": write: %s", log->path,
			    strerror(errno));
	if ((size_t)n != outlen) {
		int e = errno;

		/* A record is whole or absent: take the fragment back. */
		log->alloc_end = 0;   /* freed with the fragment */
		if (ftruncate(log->fd, (off_t)before) == 0) {
			log->size = before;
			return tg_fail(ret_err, -ENOSPC,
				    "audit log \"%s\": short write (%zd of %zu bytes, rolled back): %s",
				    log->path, n, outlen, strerror(e ? e : ENOSPC));
		}
		e = errno;
		/* a fragment is now at the end; the next record starts a new line */
		log->size = before + (uint64_t)n;
		log->tail_partial = true;
		return tg_fail(ret_err, -EIO,
			    "audit log \"%s\": short write (%zd of %zu bytes), not rolled back: %s",
			    log->path, n, outlen, strerror(e));
	}
	log->size = before + (uint64_t)n;
	/* The bytes are in the file now: later records chain from this one
	 * even if the sync below fails (then verify shows what was lost). */
	log->tail_partial = false;
	log->seq++;
	memcpy(log->prev, hash, sizeof(hash));
	if (!sync) {
		/* group commit: the sync thread takes it with the next group */
		pthread_cond_signal(&log->wake);
		return 0;
	}
	if (fdatasync(log->fd) < 0)
		return tg_fail(ret_err, -errno, "audit log \"%s\": fdatasync: %s", log->path,
			    strerror(errno));
	return 0;
}

void audit_log_set_reserve(struct audit_log *log, uint64_t bytes)
{
	pthread_mutex_lock(&log->lock);
	log->reserve = bytes;
	pthread_mutex_unlock(&log->lock);
}

int audit_log_append(struct audit_log *log, json_t *ev, char **ret_err)
{
	return audit_log_append_reserve(log, ev, UINT64_MAX, ret_err);
}

/* One record: the tree ev, or (ev NULL) the object text already
 * serialized with sorted keys and no chain fields. */
static int append(struct audit_log *log, json_t *ev, const char *text, size_t textlen,
		  uint64_t reserve_after, bool sync, uint64_t *ret_seq, char **ret_err)
{
	uint64_t seq;
	char prev[65];
	int r;

	if (!log || (ev ? !json_is_object(ev) : !text))
		return tg_fail(ret_err, -EINVAL, "audit record: not an object");
	pthread_mutex_lock(&log->lock);
	memcpy(prev, log->prev, sizeof(prev));
	r = append_locked(log, ev, text, textlen,
			  reserve_after == UINT64_MAX ? log->reserve : reserve_after, sync, ret_err);
	seq = log->seq;
	pthread_mutex_unlock(&log->lock);
	if (r < 0)
		return r;
	/* the caller of a tree sees the chain fields it now carries */
	if (ev) {
		json_object_set_new(ev, "seq", json_integer((json_int_t)seq));
		json_object_set_new(ev, "prevHash", json_string(prev));
	}
	if (ret_seq)
		*ret_seq = seq;
	return 0;
}

int audit_log_append_reserve(struct audit_log *log, json_t *ev, uint64_t reserve_after, char **ret_err)
{
	return append(log, ev, NULL, 0, reserve_after, true, NULL, ret_err);
}

int audit_log_append_text(struct audit_log *log, const char *obj, size_t len, uint64_t reserve_after,
			  char **ret_err)
{
	return append(log, NULL, obj, len, reserve_after, true, NULL, ret_err);
}

static int write_waited(struct audit_log *log, json_t *ev, const char *text, size_t textlen,
			uint64_t reserve_after, audit_done_fn done, void *ud, char **ret_err)
{
	struct audit_waiter *w = NULL;
	uint64_t seq;
	int r;

	if (!log || !log->syncing)
		return tg_fail(ret_err, -EINVAL, "audit log: group commit not started");
	if (done) {
		/* before the write: once written, a record's waiter must exist */
		w = calloc(1, sizeof(*w));
		if (!w)
			return -ENOMEM;
	}
	r = append(log, ev, text, textlen, reserve_after, false, &seq, ret_err);
	if (r < 0) {
		free(w);
		return r;
	}
	if (w) {
		w->seq = seq;
		w->done = done;
		w->ud = ud;
		if (log->wait_tail)
			log->wait_tail->next = w;
		else
			log->wait_head = w;
		log->wait_tail = w;
	}
	return 0;
}

int audit_log_write(struct audit_log *log, json_t *ev, uint64_t reserve_after, audit_done_fn done,
		    void *ud, char **ret_err)
{
	if (!ev)
		return tg_fail(ret_err, -EINVAL, "audit record: not an object");
	return write_waited(log, ev, NULL, 0, reserve_after, done, ud, ret_err);
}

int audit_log_write_text(struct audit_log *log, const char *obj, size_t len, uint64_t reserve_after,
			 audit_done_fn done, void *ud, char **ret_err)
{
	if (!obj)
		return tg_fail(ret_err, -EINVAL, "audit record: not an object");
	return write_waited(log, NULL, obj, len, reserve_after, done, ud, ret_err);
}

/* --- verification ---------------------------------------------------------------- */

static bool is_hex64(const char *s)
{
	if (strlen(s) != 64)
		return false;
	for (; *s; s++)
		if (!((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'f')))
			return false;
	return true;
}

void audit_verify_result_release(struct audit_verify_result *r)
{
	if (!r)
		return;
	free(r->problem);
	r->problem = NULL;
}

struct verify_state {
	const struct audit_verify_opts *opts;
	struct audit_verify_result *res;
	const char *const *files;
	uint64_t expect_seq;      /* 0: the first record */
	char expect_prev[65];
	size_t prev_file, prev_line;
};

static int verify_fail(struct verify_state *st, size_t file, size_t line, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static int verify_fail(struct verify_state *st, size_t file, size_t line, const char *fmt, ...)
{
	va_list ap;

	st->res->file = file;
	st->res->line = line;
	va_start(ap, fmt);
	if (vasprintf(&st->res->problem, fmt, ap) < 0)
		st->res->problem = NULL;
	va_end(ap);
	return -TG_EAUDIT;
}

static int verify_line(struct verify_state *st, size_t fi, size_t ln, const char *line, size_t len)
{
	_cleanup_(json_decrefp) json_t *j = NULL;
	const char *prev, *mac_field = NULL;
	json_t *seq, *jprev, *jmac;
	json_error_t jerr;
	uint64_t s;
	size_t body;

	if (len == 0)
		return verify_fail(st, fi, ln, "empty line");
	j = json_loadb(line, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!j)
		return verify_fail(st, fi, ln, "bad JSON at column %d: %s", jerr.column, jerr.text);
	if (!json_is_object(j))
		return verify_fail(st, fi, ln, "bad record: not a JSON object");
	seq = json_object_get(j, "seq");
	jprev = json_object_get(j, "prevHash");
	if (!json_is_integer(seq) || json_integer_value(seq) < 1)
		return verify_fail(st, fi, ln, "bad record: no positive integer \"seq\"");
	if (!json_is_string(jprev) || !is_hex64(json_string_value(jprev)))
		return verify_fail(st, fi, ln, "bad record: no 64-hex-digit \"prevHash\"");
	s = (uint64_t)json_integer_value(seq);
	prev = json_string_value(jprev);

	if (st->expect_seq == 0) {
		if (!st->opts->partial && strcmp(prev, AUDIT_ZERO_HASH))
			return verify_fail(st, fi, ln,
					   "chain does not start here: record seq %" PRIu64
					   " continues an earlier record (give the older rotated files too, or --partial)",
					   s);
		if (!st->opts->partial && s != 1)
			return verify_fail(st, fi, ln, "seq gap: the first record has seq %" PRIu64
					   ", expected 1", s);
		st->res->first_seq = s;
		memcpy(st->res->first_prev, prev, 65);
	} else {
		if (strcmp(prev, st->expect_prev))
			return verify_fail(st, fi, ln,
					   "hash mismatch: prevHash is not the hash of the record before it (%s:%zu): that record was edited, or a record was deleted, inserted or reordered here",
					   st->files[st->prev_file], st->prev_line);
		if (s != st->expect_seq)
			return verify_fail(st, fi, ln, "seq gap: seq %" PRIu64 ", expected %" PRIu64, s,
					   st->expect_seq);
	}
	jmac = json_object_get(j, "hmac");
	if (st->opts->key) {
		char want[65];

		if (!jmac)
			return verify_fail(st, fi, ln, "bad hmac: the record has no \"hmac\"");
		if (!json_is_string(jmac) || !line_hmac_split(line, len, &mac_field, &body) ||
		    strncmp(mac_field, json_string_value(jmac), 64) ||
		    strlen(json_string_value(jmac)) != 64)
			return verify_fail(st, fi, ln, "bad hmac: \"hmac\" is not the record's last field");
		line_hmac(st->opts->key, st->opts->keylen, line, body, want);
		if (CRYPTO_memcmp(want, mac_field, 64))
			return verify_fail(st, fi, ln,
					   "bad hmac: the record was altered or written with another key");
	}
	sha256_hex(line, len, st->expect_prev);
	st->expect_seq = s + 1;
	st->prev_file = fi;
	st->prev_line = ln;
	st->res->records++;
	return 0;
}

int audit_verify(const char *const *files, size_t n, const struct audit_verify_opts *opts,
		 struct audit_verify_result *ret)
{
	static const struct audit_verify_opts none = { .sz = sizeof(none) };
	struct verify_state st = { .opts = opts ? opts : &none, .res = ret, .files = files };

	memset(ret, 0, sizeof(*ret));
	if (!OPTS_VALID(opts, struct audit_verify_opts))
		return -EINVAL;
	for (size_t fi = 0; fi < n; fi++) {
		struct audit_reader *rd = NULL;
		size_t ln = 0;
		int r;

		r = audit_reader_open(files[fi], &rd, &ret->problem);
		if (r < 0) {
			ret->file = fi;
			return r;
		}
		for (;;) {
			const char *line;
			size_t len;
			bool term;

			r = audit_reader_next(rd, &line, &len, &term);
			if (r == 0)
				break;
			ln++;
			if (r == -E2BIG)
				r = verify_fail(&st, fi, ln, "line longer than %u bytes",
						AUDIT_MAX_RECORD);
			else if (r < 0)
				r = verify_fail(&st, fi, ln, "read error: %s", strerror(-r));
			else if (!term)
				r = verify_fail(&st, fi, ln,
						"truncated last line: no newline at the end of the file (a write was cut short, or the file was cut)");
			else
				r = verify_line(&st, fi, ln, line, len);
			if (r < 0) {
				audit_reader_free(rd);
				return r;
			}
		}
		audit_reader_free(rd);
	}
	if (ret->records)
		memcpy(ret->last_hash, st.expect_prev, 65);
	return 0;
}

/* --- rotated names ---------------------------------------------------------------- */

struct named {
	char *name;
	size_t baselen;
	uint64_t suffix;          /* 0: the current file */
};

static int named_cmp(const void *a, const void *b)
{
	const struct named *x = a, *y = b;

	/* current file last, higher suffix (older) first */
	if (x->suffix == y->suffix)
		return 0;
	if (x->suffix == 0)
		return 1;
	if (y->suffix == 0)
		return -1;
	return x->suffix > y->suffix ? -1 : 1;
}

/* "B.N" with N a positive decimal: base length and N; else the whole name. */
static void named_split(char *name, struct named *ret)
{
	size_t len = strlen(name), i = len;

	ret->name = name;
	ret->baselen = len;
	ret->suffix = 0;
	while (i > 0 && name[i - 1] >= '0' && name[i - 1] <= '9')
		i--;
	if (i == len || i < 2 || name[i - 1] != '.' || name[i] == '0' || len - i > 9)
		return;
	if (parse_u64(name + i, &ret->suffix) < 0) {
		ret->suffix = 0;
		return;
	}
	ret->baselen = i - 1;
}

bool audit_files_order(char **files, size_t n)
{
	_cleanup_free_ struct named *v = NULL;
	bool changed = false;

	if (n < 2)
		return false;
	v = calloc(n, sizeof(*v));
	if (!v)
		return false;
	for (size_t i = 0; i < n; i++) {
		named_split(files[i], &v[i]);
		if (v[i].baselen != v[0].baselen || strncmp(files[i], files[0], v[0].baselen))
			return false;
		for (size_t k = 0; k < i; k++)
			if (v[k].suffix == v[i].suffix)
				return false;
	}
	qsort(v, n, sizeof(*v), named_cmp);
	for (size_t i = 0; i < n; i++) {
		if (files[i] != v[i].name)
			changed = true;
		files[i] = v[i].name;
	}
	return changed;
}
