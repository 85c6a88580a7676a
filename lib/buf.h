/* SPDX-License-Identifier: Apache-2.0 */
/*
 * struct buf: a growable byte buffer in the manner of git's strbuf, with a
 * hard maximum as curl's dynbuf has.  The data pointer is never NULL and
 * the contents are always NUL-terminated, so buf.s is a C string.
 *
 *   struct buf b = BUF_INIT(64 * 1024);
 *   r = buf_printf(&b, "%s\n", x);    -E2BIG when the maximum is reached
 *   buf_release(&b);
 */
#ifndef TG_LIB_BUF_H
#define TG_LIB_BUF_H

#include <stdarg.h>
#include <stddef.h>

struct buf {
	char *s;       /* never NULL; NUL-terminated */
	size_t len;
	size_t alloc;  /* 0 while s points at the shared empty string */
	size_t max;    /* hard limit on len; 0 means TG_BUF_DEFAULT_MAX */
};

#define TG_BUF_DEFAULT_MAX (64u << 20)
extern char buf_empty_[1];
#define BUF_INIT(maxlen) { .s = buf_empty_, .len = 0, .alloc = 0, .max = (maxlen) }

void buf_init(struct buf *b, size_t max);
/* Frees memory; b is left empty and usable. */
void buf_release(struct buf *b);
/* Keeps memory, empties contents. */
void buf_clear(struct buf *b);
/* Hands the string out (caller frees); b is left empty. Never NULL. */
char *buf_detach(struct buf *b, size_t *ret_len);

int buf_grow(struct buf *b, size_t extra);
int buf_add(struct buf *b, const void *data, size_t len);
int buf_adds(struct buf *b, const char *s);
int buf_addc(struct buf *b, char c);
int buf_printf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int buf_vprintf(struct buf *b, const char *fmt, va_list ap);
/* Removes the first n bytes. */
void buf_consume(struct buf *b, size_t n);
/* Adds s with JSON string escaping (no surrounding quotes). */
int buf_add_json_escaped(struct buf *b, const char *s, size_t len);
/*
 * Adds the string s as a message quotes a name that came from outside:
 * printable ASCII but '"' and '\\' as they are, every other byte as \xHH,
 * and after max characters "..." instead of the rest.
 */
int buf_add_quoted_name(struct buf *b, const char *s, size_t max);
/*
 * Adds len bytes of data made valid UTF-8 as JSON (jansson) accepts it:
 * each byte that does not start a valid sequence (a stray continuation,
 * an overlong form, a surrogate, past U+10FFFF, a sequence cut short)
 * becomes U+FFFD, and so does NUL (valid UTF-8, but jansson's decoder
 * refuses "\u0000").  Bytes from a traced program (printf text, str(), comm,
 * map keys) are anything; a JSON string of them must still be one.
 */
int buf_add_utf8(struct buf *b, const void *data, size_t len);
/* The length of the valid UTF-8 sequence at s (n > 0 bytes), 0 if s[0]
 * does not start one. */
size_t utf8_valid_len(const unsigned char *s, size_t n);

static inline void buf_releasep(struct buf *b)
{
	buf_release(b);
}
#define _cleanup_buf_ __attribute__((cleanup(buf_releasep)))

#endif
