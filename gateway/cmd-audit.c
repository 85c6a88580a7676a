// SPDX-License-Identifier: Apache-2.0
/*
 * tracegate audit verify|query: offline tools over the audit log
 * (docs/audit.md).  verify checks the hash chain (and the HMAC with a
 * key); query lists requests, one row per auditID, joining the decision
 * record with the end-of-session record.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <jansson.h>
#include "lib/buf.h"
#include "lib/cleanup.h"
#include "lib/cleanup-json.h"
#include "lib/cmd.h"
#include "lib/errors.h"
#include "lib/util.h"
#include "gateway/audit.h"
#include "gateway/commands.h"
#include "gateway/event.h"
#include "lib/banned.h"

#define QUERY_MAX_ROWS (4u << 20)  /* requests held for one query */
#define REASON_COL_MAX 72          /* table column width cap */

/* --- verify ----------------------------------------------------------------- */

static void verify_usage(FILE *f)
{
	fprintf(f,
		"usage: tracegate audit verify [--key FILE] [--partial] [--no-sort] FILE...\n"
		"\n"
		"Checks the hash chain of an audit log and its rotated files, oldest first\n"
		"(audit.log.2 audit.log.1 audit.log; names of one log are sorted so).\n"
		"  --key FILE   also check each record's HMAC with this key file\n"
		"  --partial    the first record may continue a chain whose older files are gone\n"
		"  --no-sort    take the files in the order given\n"
		"Exit 0: \"N records, chain intact\"; 1: the first broken record; 2: usage.\n");
}

static int cmd_verify(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "key", required_argument, NULL, 'k' },
		{ "partial", no_argument, NULL, 'p' },
		{ "no-sort", no_argument, NULL, 'N' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	_cleanup_free_ unsigned char *key = NULL;
	_cleanup_free_ char *err = NULL;
	struct audit_verify_opts vo = { .sz = sizeof(vo) };
	struct audit_verify_result res;
	const char *key_file = NULL;
	bool sort = true;
	size_t keylen = 0;
	int c, r;

	optind = 0;  /* glibc: a full re-initialization (the optstrings differ) */
	while ((c = getopt_long(argc, argv, "+k:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'k':
			key_file = optarg;
			break;
		case 'p':
			vo.partial = true;
			break;
		case 'N':
			sort = false;
			break;
		case 'h':
			verify_usage(stdout);
			return 0;
		default:
			verify_usage(stderr);
			return 2;
		}
	}
	if (optind >= argc) {
		fprintf(stderr, "tracegate audit verify: no FILE given\n");
		verify_usage(stderr);
		return 2;
	}
	if (key_file) {
		r = audit_key_load(key_file, &key, &keylen, &err);
		if (r < 0) {
			fprintf(stderr, "tracegate audit verify: %s\n", err ? err : tg_strerror(r));
			return 2;
		}
		vo.key = key;
		vo.keylen = keylen;
	}
	if (sort)
		audit_files_order(argv + optind, (size_t)(argc - optind));
	r = audit_verify((const char *const *)argv + optind, (size_t)(argc - optind), &vo, &res);
	if (r == -TG_EAUDIT) {
		fprintf(stderr, "%s:%zu: %s\n", argv[optind + res.file], res.line,
			res.problem ? res.problem : "broken");
		fprintf(stderr, "%" PRIu64 " records before it are intact; the chain is broken\n",
			res.records);
		audit_verify_result_release(&res);
		return 1;
	}
	if (r < 0) {
		fprintf(stderr, "tracegate audit verify: %s\n",
			res.problem ? res.problem : tg_strerror(r));
		audit_verify_result_release(&res);
		return 1;
	}
	if (res.records == 0) {
		fprintf(stderr, "tracegate audit verify: no records in the files given\n");
		return 1;
	}
	printf("%" PRIu64 " records, chain intact\n", res.records);
	if (vo.partial && strcmp(res.first_prev, AUDIT_ZERO_HASH))
		printf("the chain starts at seq %" PRIu64 " after a record hashing to %s\n",
		       res.first_seq, res.first_prev);
	printf("last record sha256 %s\n", res.last_hash);
	audit_verify_result_release(&res);
	return 0;
}

/* --- query ------------------------------------------------------------------ */

/* RFC 3339 (2026-01-02T03:04:05[.frac](Z|+hh:mm)) to ns since the epoch. */
static int parse_rfc3339(const char *s, int64_t *ret)
{
	struct tm tm = { 0 };
	int64_t frac = 0, scale = 1000000000;
	const char *p;
	time_t t;

	p = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
	if (!p)
		return -EINVAL;
	if (*p == '.') {
		p++;
		if (*p < '0' || *p > '9')
			return -EINVAL;
		for (; *p >= '0' && *p <= '9'; p++) {
			if (scale > 1) {
				scale /= 10;
				frac += (*p - '0') * scale;
			}
		}
	}
	t = timegm(&tm);
	if (*p == 'Z' || *p == 'z') {
		p++;
	} else if ((*p == '+' || *p == '-') && p[1] >= '0' && p[1] <= '9' && p[2] >= '0' &&
		   p[2] <= '9' && p[3] == ':' && p[4] >= '0' && p[4] <= '9' && p[5] >= '0' &&
		   p[5] <= '9') {
		int off = ((p[1] - '0') * 10 + (p[2] - '0')) * 3600 +
			  ((p[4] - '0') * 10 + (p[5] - '0')) * 60;

		t -= *p == '+' ? off : -off;
		p += 6;
	} else {
		return -EINVAL;
	}
	if (*p)
		return -EINVAL;
	*ret = (int64_t)t * 1000000000 + frac;
	return 0;
}

/* An RFC 3339 time, or a duration before now: 90s, 15m, 2h, 7d. */
static int parse_when(const char *s, int64_t *ret)
{
	uint64_t n, unit;
	size_t len = strlen(s);
	char num[32];

	if (parse_rfc3339(s, ret) == 0)
		return 0;
	if (len < 2 || len >= sizeof(num))
		return -EINVAL;
	switch (s[len - 1]) {
	case 's': unit = 1; break;
	case 'm': unit = 60; break;
	case 'h': unit = 3600; break;
	case 'd': unit = 86400; break;
	default: return -EINVAL;
	}
	memcpy(num, s, len - 1);
	num[len - 1] = '\0';
	if (num[0] < '0' || num[0] > '9' || parse_u64(num, &n) < 0 || n > 100000ull * 86400 / unit)
		return -EINVAL;
	*ret = (int64_t)now_real_ns() - (int64_t)(n * unit) * 1000000000;
	return 0;
}

struct row {
	char *id;
	char *time;
	int64_t time_ns;          /* INT64_MIN: unknown */
	char *user, *ns, *target, *decision, *reason, *policy;
	int64_t events;           /* -1: none */
	bool detached_end;        /* events: the sum of a detached trace's nodes' end records */
	bool selected;
};

struct query {
	const char *user, *ns, *decision;
	int64_t since, until;
	bool has_since, has_until;
	struct row *rows;
	size_t n, alloc;
	json_t *index;            /* auditID -> row number */
	json_t *noid;             /* row numbers of records without auditID */
	size_t noid_seen;         /* second pass: how many met */
};

static void row_release(struct row *r)
{
	free(r->id);
	free(r->time);
	free(r->user);
	free(r->ns);
	free(r->target);
	free(r->decision);
	free(r->reason);
	free(r->policy);
}

static const char *jstr(json_t *o, const char *a, const char *b)
{
	json_t *v = json_object_get(o, a);

	if (b)
		v = json_object_get(v, b);
	return json_is_string(v) ? json_string_value(v) : NULL;
}

static void set_once(char **dst, const char *v)
{
	if (!*dst && v)
		*dst = strdup(v);
}

static struct row *query_row(struct query *q, const char *id)
{
	json_t *k = id ? json_object_get(q->index, id) : NULL;
	struct row *r;

	if (k)
		return &q->rows[json_integer_value(k)];
	if (q->n == QUERY_MAX_ROWS)
		return NULL;
	if (q->n == q->alloc) {
		size_t na = q->alloc ? q->alloc * 2 : 64;
		struct row *p = realloc(q->rows, na * sizeof(*p));

		if (!p)
			return NULL;
		q->rows = p;
		q->alloc = na;
	}
	r = &q->rows[q->n];
	memset(r, 0, sizeof(*r));
	r->time_ns = INT64_MIN;
	r->events = -1;
	if (id) {
		r->id = strdup(id);
		json_object_set_new(q->index, id, json_integer((json_int_t)q->n));
	} else {
		json_array_append_new(q->noid, json_integer((json_int_t)q->n));
	}
	q->n++;
	return r;
}

/* -E2BIG: too many requests; *ret_warn: the record's end does not read
 * (its other columns still count). */
static int query_add(struct query *q, json_t *rec, char **ret_warn)
{
	_cleanup_(gw_audit_end_release) struct gw_audit_end end = { 0 };
	const char *t = jstr(rec, "requestReceivedTimestamp", NULL);
	json_t *tg = json_object_get(rec, "tracegate");
	struct row *r = query_row(q, jstr(rec, "auditID", NULL));

	if (!r)
		return -E2BIG;
	if (t && !r->time) {
		int64_t ns;

		r->time = strdup(t);
		if (parse_rfc3339(t, &ns) == 0)
			r->time_ns = ns;
	}
	set_once(&r->user, jstr(rec, "user", "username"));
	set_once(&r->ns, jstr(rec, "objectRef", "namespace"));
	set_once(&r->target, jstr(rec, "objectRef", "name"));
	set_once(&r->decision, jstr(rec, "annotations", "authorization.k8s.io/decision"));
	set_once(&r->reason, jstr(rec, "annotations", "authorization.k8s.io/reason"));
	set_once(&r->policy, jstr(tg, "policy", NULL));
	if (!tg || gw_audit_end_from_json(tg, &end, ret_warn) < 0 || !(end.has & GW_AUDIT_END_EVENTS))
		return 0;
	/* a detached trace: one end record per node, after the create's 201 */
	if (end.detached_end) {
		r->events = (r->detached_end ? r->events : 0) + (int64_t)end.events;
		r->detached_end = true;
	} else if (!r->detached_end) {
		r->events = (int64_t)end.events;
	}
	return 0;
}

static bool row_matches(const struct query *q, const struct row *r)
{
	if (q->user && (!r->user || strcmp(q->user, r->user)))
		return false;
	if (q->ns && (!r->ns || strcmp(q->ns, r->ns)))
		return false;
	if (q->decision) {
		bool allow = r->decision && !strcmp(r->decision, "allow");

		if (!r->decision || allow != !strcmp(q->decision, "allow"))
			return false;
	}
	if (q->has_since && (r->time_ns == INT64_MIN || r->time_ns < q->since))
		return false;
	if (q->has_until && (r->time_ns == INT64_MIN || r->time_ns > q->until))
		return false;
	return true;
}

/* Reads every file; bad lines are reported and skipped (verify judges them). */
static int query_read(struct query *q, char **files, size_t n, bool json_out)
{
	for (size_t i = 0; i < n; i++) {
		struct audit_reader *rd = NULL;
		_cleanup_free_ char *err = NULL;
		size_t ln = 0;
		int r;

		r = audit_reader_open(files[i], &rd, &err);
		if (r < 0) {
			fprintf(stderr, "tracegate audit query: %s\n", err ? err : tg_strerror(r));
			return r;
		}
		for (;;) {
			_cleanup_(json_decrefp) json_t *j = NULL;
			const char *line;
			size_t len;
			bool term;

			r = audit_reader_next(rd, &line, &len, &term);
			if (r == 0)
				break;
			ln++;
			if (r < 0) {
				fprintf(stderr, "%s:%zu: %s\n", files[i], ln,
					r == -E2BIG ? "line too long" : strerror(-r));
				audit_reader_free(rd);
				return r;
			}
			j = json_loadb(line, len, 0, NULL);
			if (!json_is_object(j)) {
				fprintf(stderr, "%s:%zu: not a JSON object, skipped\n", files[i], ln);
				continue;
			}
			if (json_out) {
				/* second pass: print the lines of selected requests */
				const char *id = jstr(j, "auditID", NULL);
				json_t *k = id ? json_object_get(q->index, id) :
						 json_array_get(q->noid, q->noid_seen++);

				if (k && q->rows[json_integer_value(k)].selected)
					printf("%.*s\n", (int)len, line);
				continue;
			}
			r = query_add(q, j, &err);
			if (err) {
				fprintf(stderr, "%s:%zu: %s: its end fields ignored\n", files[i], ln, err);
				free(err);
				err = NULL;
			}
			if (r < 0) {
				fprintf(stderr, "tracegate audit query: more than %u requests\n",
					QUERY_MAX_ROWS);
				audit_reader_free(rd);
				return r;
			}
		}
		audit_reader_free(rd);
	}
	return 0;
}

/* Client-controlled text (user names, reasons) must not drive the terminal. */
static void cell(struct buf *b, const char *s, size_t max)
{
	size_t n = 0;

	buf_clear(b);
	if (!s || !*s)
		s = "-";
	for (; *s; s++, n++) {
		unsigned char c = (unsigned char)*s;

		if (n == max - 3 && strlen(s) > 3) {
			buf_adds(b, "...");
			break;
		}
		buf_addc(b, c < 0x20 || c == 0x7f ? '?' : (char)c);
	}
}

#define NCOLS 7

static void print_table(const struct query *q)
{
	static const char *const head[NCOLS] = { "TIME", "USER", "NAMESPACE", "TARGET",
						 "DECISION", "REASON/POLICY", "EVENTS" };
	struct buf c = BUF_INIT(4096);
	size_t w[NCOLS];

	for (int pass = 0; pass < 2; pass++) {
		if (pass == 0)
			for (int k = 0; k < NCOLS; k++)
				w[k] = strlen(head[k]);
		else
			for (int k = 0; k < NCOLS; k++)
				printf("%-*s%s", k == NCOLS - 1 ? 0 : (int)w[k], head[k],
				       k == NCOLS - 1 ? "\n" : "   ");
		for (size_t i = 0; i < q->n; i++) {
			const struct row *r = &q->rows[i];
			char events[24] = "-";
			const char *reason = r->reason;
			_cleanup_free_ char *rp = NULL;
			const char *v[NCOLS];

			if (!r->selected)
				continue;
			if (r->events >= 0)
				snprintf(events, sizeof(events), "%" PRId64, r->events);
			if (r->policy && r->reason &&
			    asprintf(&rp, "%s (policy %s)", r->reason, r->policy) > 0)
				reason = rp;
			else if (r->policy)
				reason = r->policy;
			v[0] = r->time;
			v[1] = r->user;
			v[2] = r->ns;
			v[3] = r->target;
			v[4] = r->decision;
			v[5] = reason;
			v[6] = events;
			for (int k = 0; k < NCOLS; k++) {
				cell(&c, v[k], k == 5 ? REASON_COL_MAX : 256);
				if (pass == 0)
					w[k] = MAX(w[k], c.len);
				else
					printf("%-*s%s", k == NCOLS - 1 ? 0 : (int)w[k], c.s,
					       k == NCOLS - 1 ? "\n" : "   ");
			}
		}
	}
	buf_release(&c);
}

static void query_usage(FILE *f)
{
	fprintf(f,
		"usage: tracegate audit query FILE... [--user U] [--namespace N]\n"
		"         [--decision allow|deny] [--since T] [--until T] [-o table|json]\n"
		"\n"
		"Lists requests (one row per auditID) from audit logs, oldest file first.\n"
		"T is an RFC 3339 time (2026-01-02T03:04:05Z) or a duration before now (90s,\n"
		"15m, 2h, 7d).  -o json prints the matching records' lines as stored.\n");
}

static int cmd_query(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "user", required_argument, NULL, 'u' },
		{ "namespace", required_argument, NULL, 'n' },
		{ "decision", required_argument, NULL, 'd' },
		{ "since", required_argument, NULL, 's' },
		{ "until", required_argument, NULL, 't' },
		{ "output", required_argument, NULL, 'o' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct query q = { 0 };
	const char *output = "table";
	_cleanup_free_ char **files = NULL;
	size_t nfiles = 0;
	int c, r, ret = 0;

	files = calloc((size_t)argc + 1, sizeof(*files));
	if (!files)
		return 1;
	optind = 0;  /* glibc: a full re-initialization (the optstrings differ) */
	/* files and options in any order */
	while (optind < argc) {
		c = getopt_long(argc, argv, "-u:n:d:s:t:o:h", longopts, NULL);
		if (c == -1)
			break;
		switch (c) {
		case 1:
			files[nfiles++] = optarg;
			break;
		case 'u':
			q.user = optarg;
			break;
		case 'n':
			q.ns = optarg;
			break;
		case 'd':
			if (!strcmp(optarg, "forbid"))
				optarg = (char *)"deny";
			if (strcmp(optarg, "allow") && strcmp(optarg, "deny")) {
				fprintf(stderr, "tracegate audit query: --decision \"%s\": want allow or deny\n",
					optarg);
				return 2;
			}
			q.decision = optarg;
			break;
		case 's':
		case 't':
			if (parse_when(optarg, c == 's' ? &q.since : &q.until) < 0) {
				fprintf(stderr, "tracegate audit query: --%s \"%s\": want an RFC 3339 time or a duration like 15m\n",
					c == 's' ? "since" : "until", optarg);
				return 2;
			}
			*(c == 's' ? &q.has_since : &q.has_until) = true;
			break;
		case 'o':
			output = optarg;
			break;
		case 'h':
			query_usage(stdout);
			return 0;
		default:
			query_usage(stderr);
			return 2;
		}
	}
	for (; optind < argc; optind++)
		files[nfiles++] = argv[optind];
	if (strcmp(output, "table") && strcmp(output, "json")) {
		fprintf(stderr, "tracegate audit query: -o \"%s\": want table or json\n", output);
		return 2;
	}
	if (!nfiles) {
		fprintf(stderr, "tracegate audit query: no FILE given\n");
		query_usage(stderr);
		return 2;
	}
	audit_files_order(files, nfiles);
	q.index = json_object();
	q.noid = json_array();
	if (!q.index || !q.noid)
		return 1;
	r = query_read(&q, files, nfiles, false);
	if (r < 0) {
		ret = 1;
		goto out;
	}
	for (size_t i = 0; i < q.n; i++)
		q.rows[i].selected = row_matches(&q, &q.rows[i]);
	if (!strcmp(output, "json")) {
		if (query_read(&q, files, nfiles, true) < 0)
			ret = 1;
	} else {
		print_table(&q);
	}
out:
	for (size_t i = 0; i < q.n; i++)
		row_release(&q.rows[i]);
	free(q.rows);
	json_decref(q.index);
	json_decref(q.noid);
	return ret;
}

static const struct cmd audit_cmds[] = {
	{ "verify", cmd_verify, "check the hash chain (and HMAC) of audit logs" },
	{ "query", cmd_query, "list requests from audit logs, filtered" },
	{ NULL, NULL, NULL },
};

int cmd_audit(int argc, char **argv)
{
	return cmd_dispatch("tracegate audit", audit_cmds, argc - 1, argv + 1);
}
