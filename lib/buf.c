// SPDX-License-Identifier: Apache-2.0
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "lib/buf.h"

char buf_empty_[1];

void buf_init(struct buf *b, size_t max)
{
	b->s = buf_empty_;
	b->len = 0;
	b->alloc = 0;
	b->max = max;
}

void buf_release(struct buf *b)
{
	if (b->alloc)
		free(b->s);
	b->s = buf_empty_;
	b->len = 0;
	b->alloc = 0;
}

void buf_clear(struct buf *b)
{
	b->len = 0;
	if (b->alloc)
		b->s[0] = '\0';
}

char *buf_detach(struct buf *b, size_t *ret_len)
{
	char *s;

	if (b->alloc)
		s = b->s;
	else
		s = strdup("");
	if (!s)
		return NULL;
	if (ret_len)
		*ret_len = b->len;
	b->s = buf_empty_;
	b->len = 0;
	b->alloc = 0;
	return s;
}

static size_t buf_max(const struct buf *b)
{
	return b->max ? b->max : TG_BUF_DEFAULT_MAX;
}

int buf_grow(struct buf *b, size_t extra)
{
	size_t need, n;
	char *p;

	if (extra > buf_max(b) || b->len + extra > buf_max(b))
		return -E2BIG;
	need = b->len + extra + 1;
	if (need <= b->alloc)
		return 0;
	n = b->alloc ? b->alloc : 64;
	while (n < need)
		n = n * 2;
	if (n > buf_max(b) + 1)
		n = buf_max(b) + 1;
	p = b->alloc ? realloc(b->s, n) : malloc(n);
	if (!p)
		return -ENOMEM;
	if (!b->alloc)
		p[0] = '\0';
	b->s = p;
	b->alloc = n;
	return 0;
}

int buf_add(struct buf *b, const void *data, size_t len)
{
	int r = buf_grow(b, len);

	if (r < 0)
		return r;
	memcpy(b->s + b->len, data, len);
	b->len += len;
	b->s[b->len] = '\0';
	return 0;
}

int buf_adds(struct buf *b, const char *s)
{
	return buf_add(b, s, strlen(s));
}

int buf_addc(struct buf *b, char c)
{
	return buf_add(b, &c, 1);
}

int buf_vprintf(struct buf *b, const char *fmt, va_list ap)
{
	va_list cp;
	int n, r;

	va_copy(cp, ap);
	n = vsnprintf(NULL, 0, fmt, cp);
	va_end(cp);
	if (n < 0)
		return -EINVAL;
	r = buf_grow(b, (size_t)n);
	if (r < 0)
		return r;
	vsnprintf(b->s + b->len, (size_t)n + 1, fmt, ap);
	b->len += (size_t)n;
	return 0;
}

int buf_printf(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = buf_vprintf(b, fmt, ap);
	va_end(ap);
	return r;
}

void buf_consume(struct buf *b, size_t n)
{
	if (n >= b->len) {
		buf_clear(b);
		return;
	}
	memmove(b->s, b->s + n, b->len - n);
	b->len -= n;
	b->s[b->len] = '\0';
}

int buf_add_json_escaped(struct buf *b, const char *s, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	size_t i = 0;
	int r = 0;

	/* runs of bytes that need no escape go in one copy: output records
	 * carry whole batches of printed text through here */
	while (i < len && r == 0) {
		size_t j = i;
		unsigned char c;

		while (j < len && (unsigned char)s[j] >= 0x20 && s[j] != '"' && s[j] != '\\')
			j++;
		if (j > i && (r = buf_add(b, s + i, j - i)) < 0)
			break;
		if (j == len)
			break;
		c = (unsigned char)s[j];
		switch (c) {
		case '"': r = buf_add(b, "\\\"", 2); break;
		case '\\': r = buf_add(b, "\\\\", 2); break;
		case '\n': r = buf_add(b, "\\n", 2); break;
		case '\r': r = buf_add(b, "\\r", 2); break;
		case '\t': r = buf_add(b, "\\t", 2); break;
		default: {
			char u[6] = { '\\', 'u', '0', '0', hex[c >> 4], hex[c & 15] };

			r = buf_add(b, u, 6);
		}
		}
		i = j + 1;
	}
	return r;
}

size_t utf8_valid_len(const unsigned char *s, size_t n)
{
	unsigned char c = s[0], lo = 0x80, hi = 0xbf;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		return n >= 2 && (s[1] & 0xc0) == 0x80 ? 2 : 0;
	if (c >= 0xe0 && c <= 0xef) {
		if (c == 0xe0)
			lo = 0xa0;
		else if (c == 0xed)
			hi = 0x9f;   /* no surrogates */
		return n >= 3 && s[1] >= lo && s[1] <= hi && (s[2] & 0xc0) == 0x80 ? 3 : 0;
	}
	if (c >= 0xf0 && c <= 0xf4) {
		if (c == 0xf0)
			lo = 0x90;
		else if (c == 0xf4)
			hi = 0x8f;   /* nothing past U+10FFFF */
		return n >= 4 && s[1] >= lo && s[1] <= hi && (s[2] & 0xc0) == 0x80 &&
			       (s[3] & 0xc0) == 0x80 ? 4 : 0;
	}
	return 0;
}

int buf_add_quoted_name(struct buf *b, const char *s, size_t max)
{
	int r = 0;

	for (size_t i = 0; s && s[i] && r >= 0; i++) {
		unsigned char c = (unsigned char)s[i];

		if (i >= max)
			return buf_adds(b, "...");
		if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\')
			r = buf_addc(b, (char)c);
		else
			r = buf_printf(b, "\\x%02x", c);
	}
	return r;
}

int buf_add_utf8(struct buf *b, const void *data, size_t len)
{
	const unsigned char *p = data;
	size_t i = 0, run = 0;
	int r;

	while (i + run < len) {
		/* NUL is valid UTF-8, but jansson's decoder refuses "\u0000":
		 * a printed NUL byte (printf("%c", 0)) would end the stream */
		size_t n = p[i + run] ? utf8_valid_len(p + i + run, len - i - run) : 0;

		if (n) {
			run += n;
			continue;
		}
		r = buf_add(b, p + i, run);
		if (r == 0)
			r = buf_add(b, "\xef\xbf\xbd", 3);   /* U+FFFD */
		if (r < 0)
			return r;
		i += run + 1;
		run = 0;
	}
	return buf_add(b, p + i, run);
}
