// SPDX-License-Identifier: Apache-2.0
/*
 * libFuzzer target for plugin/render.h: what kubectl-trace prints of the
 * gateway's answer, every byte of which is untrusted (a gateway, or
 * anything claiming its URL).  The first line of an input is the program
 * the client sent (errors quote its lines under a caret); the rest is
 * either a refusal body ("S <code>" then the body) or NDJSON records,
 * rendered in the mode of the line's first byte ('t' text with --prefix,
 * 'j' json, 'y' yaml, 'b' bpftrace-json, 'l' text as logs prints it on a
 * terminal).
 *
 * Properties beyond "no crash, no leak": nothing rendered to the terminal
 * carries a control character other than newline and tab; a refusal's
 * exit status is one of KT_EXIT_*; a YAML rendering of any record ends
 * its last line; bpftrace-json prints only lines that are JSON objects.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>
#include "lib/buf.h"
#include "plugin/render.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fail(const char *what)
{
	fprintf(stderr, "fuzz-render: %s\n", what);
	abort();
}

static void clean_or_die(const char *s, size_t n, const char *what)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if ((c < 0x20 && c != '\n' && c != '\t') || c == 0x7f)
			fail(what);
	}
}

static void refusal(const char *program, const char *p, const char *end)
{
	struct buf b = BUF_INIT(1u << 22);
	long code = strtol(p, NULL, 10);
	const char *nl = memchr(p, '\n', (size_t)(end - p));
	const char *body = nl ? nl + 1 : end;
	int x;

	if (kt_status_render_program(&b, code, body, (size_t)(end - body), program) >= 0)
		clean_or_die(b.s, b.len, "a refusal printed a control character");
	x = kt_status_exit(code, body, (size_t)(end - body));
	if (x != KT_EXIT_FAILURE && x != KT_EXIT_REFUSED && x != KT_EXIT_PROGRAM)
		fail("a refusal's exit status is not failure, refused or program error");
	buf_release(&b);
}

/* bpftrace's -f json: every line a JSON object, its strings escaped: no
 * C0 control reaches the terminal (DEL and C1 in a printf's data are the
 * program's own, as bpftrace prints them) */
static void bjson_lines_or_die(const char *s, size_t n)
{
	for (const char *p = s, *end = s + n, *nl; p < end; p = nl + 1) {
		json_t *j;

		nl = memchr(p, '\n', (size_t)(end - p));
		if (!nl)
			fail("a bpftrace-json line is not ended");
		/* a count past 2^63 is a uint64, as bpftrace prints it */
		j = json_loadb(p, (size_t)(nl - p), JSON_DECODE_INT_AS_REAL, NULL);
		if (!json_is_object(j))
			fail("a bpftrace-json line is not a JSON object");
		json_decref(j);
		for (const char *q = p; q < nl; q++)
			if ((unsigned char)*q < 0x20)
				fail("a bpftrace-json line carries a control character");
	}
}

static void stream(const char *program, char mode, const char *p, const char *end)
{
	char *outs = NULL, *errs = NULL;
	size_t outn = 0, errn = 0;
	FILE *out = open_memstream(&outs, &outn), *err = open_memstream(&errs, &errn);
	struct kt_render r;

	if (!out || !err)
		abort();
	kt_render_init(&r, out, err, mode == 'j' ? KT_OUT_JSON : mode == 'y' ? KT_OUT_YAML :
				     mode == 'b' ? KT_OUT_BPFTRACE_JSON : KT_OUT_TEXT);
	r.prefix = mode == 't';
	r.clean_output = mode == 'l';   /* logs on a terminal */
	r.program = program;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);

		(void)kt_render_line(&r, p, n);
		p += n + 1;
	}
	fclose(out);
	fclose(err);
	/* json mode copies records (their terminal controls escaped); the
	 * others must be clean, but printf output is the program's own bytes
	 * (run), so only stderr is checked, and stdout too where they are
	 * escaped (json, yaml) or cleaned (logs on a terminal) */
	if (mode != 'j')
		clean_or_die(errs, errn, "stderr carries a control character");
	if (mode == 'j' || mode == 'y' || mode == 'l')
		clean_or_die(outs, outn, "stdout carries a control character");
	if (mode == 'y' && outn && outs[outn - 1] != '\n')
		fail("a YAML document does not end its line");
	if (mode == 'b')
		bjson_lines_or_die(outs, outn);
	kt_render_release(&r);
	free(outs);
	free(errs);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *copy, *program, mode;
	const char *p, *end, *nl;

	if (memchr(data, '\0', size))
		return 0;
	/* a terminated copy: strtol and friends read to a NUL */
	copy = strndup((const char *)data, size);
	if (!copy)
		abort();
	p = copy;
	end = p + size;
	nl = memchr(p, '\n', size);
	if (!nl || nl + 1 >= end) {
		free(copy);
		return 0;
	}
	program = strndup(p, (size_t)(nl - p));
	if (!program)
		abort();
	/* "\\n" in the first line stands for a newline, for programs of several lines */
	for (char *q = program; (q = strstr(q, "\\n")); q++) {
		*q = '\n';
		memmove(q + 1, q + 2, strlen(q + 2) + 1);
	}
	p = nl + 1;
	mode = *p;
	if (mode == 'S')
		refusal(program, p + 1, end);
	else
		stream(program, mode, (nl = memchr(p, '\n', (size_t)(end - p))) ? nl + 1 : end, end);
	free(program);
	free(copy);
	return 0;
}
