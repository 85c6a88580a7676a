// SPDX-License-Identifier: Apache-2.0
/* The lexer: see lexer.h.  Rules follow bpftrace 0.17's src/lexer.l. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "lib/buf.h"
#include "lib/cleanup.h"
#include "lib/errors.h"
#include "lang/lexer.h"
#include "lib/banned.h"

static const char *const builtins[] = {
	"arg0", "arg1", "arg2", "arg3", "arg4", "arg5", "arg6", "arg7", "arg8", "arg9",
	"args", "cgroup", "comm", "cpid", "numaid", "cpu", "ctx", "curtask", "elapsed",
	"func", "gid", "nsecs", "pid", "probe", "rand", "retval",
	"sarg0", "sarg1", "sarg2", "sarg3", "sarg4", "sarg5", "sarg6", "sarg7", "sarg8",
	"sarg9", "tid", "uid", "username", NULL,
};

static const char *const calls[] = {
	"avg", "buf", "cat", "cgroupid", "clear", "count", "delete", "exit", "hist",
	"join", "kaddr", "kptr", "ksym", "lhist", "macaddr", "max", "min", "ntop",
	"override", "print", "printf", "cgroup_path", "reg", "signal", "sizeof",
	"stats", "str", "strerror", "strftime", "strncmp", "strcontains", "sum",
	"system", "time", "uaddr", "uptr", "usym", "zero", "path", "unwatch",
	"bswap", "skboutput", "pton", "debugf", "has_key", "len", NULL,
};

static const struct {
	const char *word;
	enum lang_tok kind;
} keywords[] = {
	{ "if", TG_T_IF }, { "else", TG_T_ELSE }, { "unroll", TG_T_UNROLL },
	{ "while", TG_T_WHILE }, { "for", TG_T_FOR }, { "return", TG_T_RETURN },
	{ "continue", TG_T_CONTINUE }, { "break", TG_T_BREAK },
	{ "kstack", TG_T_CALL_BUILTIN }, { "ustack", TG_T_CALL_BUILTIN },
	{ "perf", TG_T_STACK_MODE }, { "bpftrace", TG_T_STACK_MODE },
};

/* Punctuation, longest first so the first match is the longest. */
static const struct {
	const char *text;
	enum lang_tok kind;
} puncts[] = {
	{ "<<=", TG_T_LEFTASSIGN }, { ">>=", TG_T_RIGHTASSIGN },
	{ "+=", TG_T_PLUSASSIGN }, { "-=", TG_T_MINUSASSIGN }, { "*=", TG_T_MULASSIGN },
	{ "/=", TG_T_DIVASSIGN }, { "%=", TG_T_MODASSIGN }, { "&=", TG_T_BANDASSIGN },
	{ "|=", TG_T_BORASSIGN }, { "^=", TG_T_BXORASSIGN },
	{ "==", TG_T_EQ }, { "!=", TG_T_NE }, { "<=", TG_T_LE }, { ">=", TG_T_GE },
	{ "<<", TG_T_LEFT }, { ">>", TG_T_RIGHT }, { "&&", TG_T_LAND }, { "||", TG_T_LOR },
	{ "++", TG_T_INCREMENT }, { "--", TG_T_DECREMENT }, { "->", TG_T_PTR },
	{ ":", TG_T_COLON }, { ";", TG_T_SEMI }, { "{", TG_T_LBRACE }, { "}", TG_T_RBRACE },
	{ "[", TG_T_LBRACKET }, { "]", TG_T_RBRACKET }, { "(", TG_T_LPAREN },
	{ ")", TG_T_RPAREN }, { ",", TG_T_COMMA }, { "=", TG_T_ASSIGN },
	{ "<", TG_T_LT }, { ">", TG_T_GT }, { "+", TG_T_PLUS }, { "-", TG_T_MINUS },
	{ "*", TG_T_MUL }, { "%", TG_T_MOD }, { "&", TG_T_BAND }, { "|", TG_T_BOR },
	{ "^", TG_T_BXOR }, { "!", TG_T_LNOT }, { "~", TG_T_BNOT }, { ".", TG_T_DOT },
	{ "?", TG_T_QUES },
};

const char *lang_tok_name(enum lang_tok kind)
{
	switch (kind) {
	case TG_T_EOF: return "end of file";
	case TG_T_IDENT: return "identifier";
	case TG_T_BUILTIN: return "builtin";
	case TG_T_CALL: return "function";
	case TG_T_CALL_BUILTIN: return "stack builtin";
	case TG_T_STACK_MODE: return "stack mode";
	case TG_T_STRUCT_DEFN: return "struct definition";
	case TG_T_CPREPROC: return "preprocessor line";
	case TG_T_INT: return "integer";
	case TG_T_STR: return "string";
	case TG_T_MAP: return "map";
	case TG_T_VAR: return "variable";
	case TG_T_PARAM: return "positional parameter";
	case TG_T_PARAMCOUNT: return "\"$#\"";
	case TG_T_IF: return "\"if\"";
	case TG_T_ELSE: return "\"else\"";
	case TG_T_UNROLL: return "\"unroll\"";
	case TG_T_WHILE: return "\"while\"";
	case TG_T_FOR: return "\"for\"";
	case TG_T_RETURN: return "\"return\"";
	case TG_T_CONTINUE: return "\"continue\"";
	case TG_T_BREAK: return "\"break\"";
	case TG_T_ENDPRED: return "\"/\" (end of predicate)";
	case TG_T_DIV: return "\"/\"";
	case TG_T_ATTACH: return "attach point";
	default:
		for (size_t i = 0; i < ARRAY_SIZE(puncts); i++)
			if (puncts[i].kind == kind) {
				static __thread char q[8];
				snprintf(q, sizeof(q), "\"%s\"", puncts[i].text);
				return q;
			}
		return "token";
	}
}

int lang_diag_setf(struct lang_diag *diag, struct lang_loc loc, uint32_t span, int code,
		 const char *fmt, ...)
{
	va_list ap;

	if (diag) {
		diag->loc = loc;
		diag->span = span;
		va_start(ap, fmt);
		vsnprintf(diag->msg, sizeof(diag->msg), fmt, ap);
		va_end(ap);
	}
	return code;
}

void lang_quote_text(const char *s, size_t len, size_t max, char *out, size_t outsz)
{
	size_t o = 0;

	if (outsz == 0)
		return;
	for (size_t i = 0; i < len && i < max; i++) {
		unsigned char c = (unsigned char)s[i];
		char tmp[8];
		size_t n;

		if (c == '"' || c == '\\')
			n = (size_t)snprintf(tmp, sizeof(tmp), "\\%c", c);
		else if (c >= 0x20 && c < 0x7f)
			n = (size_t)snprintf(tmp, sizeof(tmp), "%c", c);
		else if (c == '\n')
			n = (size_t)snprintf(tmp, sizeof(tmp), "\\n");
		else if (c == '\t')
			n = (size_t)snprintf(tmp, sizeof(tmp), "\\t");
		else
			n = (size_t)snprintf(tmp, sizeof(tmp), "\\x%02x", c);
		if (o + n + 4 >= outsz)
			break;
		memcpy(out + o, tmp, n);
		o += n;
	}
	if (len > max && o + 4 < outsz) {
		memcpy(out + o, "...", 3);
		o += 3;
	}
	out[o] = '\0';
}

struct lang_loc lang_loc_after(struct lang_loc base, const char *text, const char *p)
{
	for (const char *q = text; q < p; q++) {
		if (*q == '\n') {
			base.line++;
			base.col = 1;
		} else {
			base.col++;
		}
	}
	return base;
}

size_t lang_ident_len(const char *s)
{
	size_t n = 0;

	if (!((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= 'A' && s[0] <= 'Z') || s[0] == '_'))
		return 0;
	while ((s[n] >= 'a' && s[n] <= 'z') || (s[n] >= 'A' && s[n] <= 'Z') || s[n] == '_' ||
	       (s[n] >= '0' && s[n] <= '9'))
		n++;
	return n;
}

void lang_lexer_init(struct lang_lexer *lx, const char *src, size_t len)
{
	lx->src = src;
	lx->len = len;
	lx->pos = 0;
	lx->line = 1;
	lx->col = 1;
	lx->params = NULL;
	lx->nparams = 0;
}

void lang_token_release(struct lang_token *tok)
{
	free(tok->text);
	memset(tok, 0, sizeof(*tok));
}

static int peekc(const struct lang_lexer *lx, size_t k)
{
	return lx->pos + k < lx->len ? (unsigned char)lx->src[lx->pos + k] : -1;
}

static void adv(struct lang_lexer *lx, size_t n)
{
	while (n-- && lx->pos < lx->len) {
		if (lx->src[lx->pos] == '\n') {
			lx->line++;
			lx->col = 1;
		} else {
			lx->col++;
		}
		lx->pos++;
	}
}

static struct lang_loc here(const struct lang_lexer *lx)
{
	return (struct lang_loc){ .line = lx->line, .col = lx->col };
}

static bool is_ident_start(int c)
{
	return c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool is_digit(int c)
{
	return c >= '0' && c <= '9';
}

static bool is_ident_char(int c)
{
	return is_ident_start(c) || is_digit(c);
}

static bool is_hex(int c)
{
	return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

static bool is_space(int c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static bool at_line_start(const struct lang_lexer *lx)
{
	return lx->pos == 0 || lx->src[lx->pos - 1] == '\n';
}

int lang_lex_skip_blank(struct lang_lexer *lx, struct lang_diag *diag)
{
	for (;;) {
		int c = peekc(lx, 0);

		if (is_space(c)) {
			adv(lx, 1);
		} else if (c == '/' && peekc(lx, 1) == '/') {
			while (peekc(lx, 0) != -1 && peekc(lx, 0) != '\n')
				adv(lx, 1);
		} else if (c == '/' && peekc(lx, 1) == '*') {
			struct lang_loc start = here(lx);

			adv(lx, 2);
			for (;;) {
				if (peekc(lx, 0) == -1)
					return lang_diag_setf(diag, start, 2, -TG_EPARSE,
							    "comment \"/*\" not terminated before end of file");
				if (peekc(lx, 0) == '*' && peekc(lx, 1) == '/') {
					adv(lx, 2);
					break;
				}
				adv(lx, 1);
			}
		} else if (c == '#' && peekc(lx, 1) == '!' && at_line_start(lx)) {
			while (peekc(lx, 0) != -1 && peekc(lx, 0) != '\n')
				adv(lx, 1);
		} else {
			return c;
		}
	}
}

bool lang_lex_at_cdef(const struct lang_lexer *lx)
{
	static const char *const kw[] = { "struct", "union", "enum" };

	for (size_t i = 0; i < ARRAY_SIZE(kw); i++) {
		size_t n = strlen(kw[i]);

		if (lx->len - lx->pos >= n && memcmp(lx->src + lx->pos, kw[i], n) == 0 &&
		    !is_ident_char(peekc(lx, n)))
			return true;
	}
	return false;
}

static bool in_list(const char *const *list, const char *w)
{
	for (; *list; list++)
		if (strcmp(*list, w) == 0)
			return true;
	return false;
}

bool lang_lex_is_builtin(const char *word)
{
	return in_list(builtins, word) || !strcmp(word, "kstack") || !strcmp(word, "ustack");
}

bool lang_lex_is_function(const char *word)
{
	return in_list(calls, word) || !strcmp(word, "kstack") || !strcmp(word, "ustack");
}

static int set_text(struct lang_token *tok, const char *s, size_t n)
{
	tok->text = strndup(s, n);
	if (!tok->text)
		return -ENOMEM;
	tok->text_len = n;
	return 0;
}

static void finish(const struct lang_lexer *lx, struct lang_token *tok)
{
	tok->len = lx->pos - tok->off;
}

/* ---- integers ---------------------------------------------------------- */

static bool is_int_suffix(const char *s)
{
	/* u | u?l?l, any case */
	size_t n = strlen(s), i = 0;

	if (n == 0)
		return true;
	if (s[i] == 'u' || s[i] == 'U') {
		i++;
		if (i == n)
			return true;
	}
	if (s[i] == 'l' || s[i] == 'L') {
		i++;
		if (i == n)
			return true;
		if ((s[i] == 'l' || s[i] == 'L') && i + 1 == n)
			return true;
	}
	return false;
}

/* Base 10 (or 8 with a leading 0) digits then an optional suffix. */
static int parse_plain(const char *s, bool allow_octal, uint64_t *ret, const char **ret_err)
{
	unsigned base = 10;
	uint64_t v = 0;
	size_t i = 0;

	if (!is_digit((unsigned char)s[0])) {
		*ret_err = "not a number";
		return -EINVAL;
	}
	if (allow_octal && s[0] == '0' && s[1] != '\0')
		base = 8;
	for (; s[i] >= '0' && s[i] < (char)('0' + base); i++) {
		unsigned d = (unsigned)(s[i] - '0');

		if (v > (UINT64_MAX - d) / base) {
			*ret_err = "out of the 64-bit range";
			return -ERANGE;
		}
		v = v * base + d;
	}
	if (!is_int_suffix(s + i)) {
		*ret_err = "trailing non-numeric characters";
		return -EINVAL;
	}
	*ret = v;
	return 0;
}

int lang_parse_int_literal(const char *s, size_t len, uint64_t *ret, const char **ret_err)
{
	char n[72];
	size_t o = 0;
	const char *dummy;
	uint64_t v = 0;

	if (!ret_err)
		ret_err = &dummy;
	for (size_t i = 0; i < len; i++) {
		if (s[i] == '_')
			continue;
		if (o + 1 >= sizeof(n)) {
			*ret_err = "too long";
			return -ERANGE;
		}
		n[o++] = s[i];
	}
	n[o] = '\0';
	if (o == 0) {
		*ret_err = "not a number";
		return -EINVAL;
	}
	if (n[0] == '0' && (n[1] == 'x' || n[1] == 'X')) {
		size_t i = 2;

		if (!is_hex((unsigned char)n[2])) {
			*ret_err = "no hex digits after \"0x\"";
			return -EINVAL;
		}
		for (; is_hex((unsigned char)n[i]); i++) {
			unsigned d = is_digit((unsigned char)n[i]) ? (unsigned)(n[i] - '0')
				   : (unsigned)((n[i] | 0x20) - 'a' + 10);

			if (v > (UINT64_MAX >> 4)) {
				*ret_err = "out of the 64-bit range";
				return -ERANGE;
			}
			v = (v << 4) | d;
		}
		if (!is_int_suffix(n + i)) {
			*ret_err = "trailing non-numeric characters";
			return -EINVAL;
		}
		*ret = v;
		return 0;
	}
	char *e = strpbrk(n, "eE");
	if (e) {
		uint64_t c, x;
		int r;

		*e = '\0';
		r = parse_plain(n, false, &c, ret_err);
		if (r < 0)
			return r;
		r = parse_plain(e + 1, false, &x, ret_err);
		if (r < 0)
			return r;
		if (c > 9) {
			*ret_err = "coefficient of a scientific literal must be 0 to 9";
			return -ERANGE;
		}
		if (x > 16) {
			*ret_err = "exponent of a scientific literal must be at most 16";
			return -ERANGE;
		}
		v = c;
		for (uint64_t k = 0; k < x; k++)
			v *= 10;
		*ret = v;
		return 0;
	}
	return parse_plain(n, true, ret, ret_err);
}

/* Scans `[0-9]([0-9_]*[0-9])?` plus a size suffix; returns bytes. */
static size_t scan_int(const struct lang_lexer *lx, size_t k)
{
	size_t start = k, last = k;

	if (!is_digit(peekc(lx, k)))
		return 0;
	while (is_digit(peekc(lx, k)) || peekc(lx, k) == '_') {
		if (is_digit(peekc(lx, k)))
			last = k;
		k++;
	}
	k = last + 1;
	/* ([uU])|([uU]?[lL]?[lL]) */
	if (peekc(lx, k) == 'u' || peekc(lx, k) == 'U')
		k++;
	if (peekc(lx, k) == 'l' || peekc(lx, k) == 'L') {
		k++;
		if (peekc(lx, k) == 'l' || peekc(lx, k) == 'L')
			k++;
	}
	return k - start;
}

static int lex_number(struct lang_lexer *lx, struct lang_token *tok, struct lang_diag *diag)
{
	size_t n;
	const char *err = NULL;

	if (peekc(lx, 0) == '0' && (peekc(lx, 1) == 'x' || peekc(lx, 1) == 'X') && is_hex(peekc(lx, 2))) {
		n = 2;
		while (is_hex(peekc(lx, n)))
			n++;
		tok->flags |= TG_TOKF_HEX;
	} else {
		n = scan_int(lx, 0);
		if ((peekc(lx, n) == 'e' || peekc(lx, n) == 'E') && is_digit(peekc(lx, n + 1)))
			n += 1 + scan_int(lx, n + 1);
	}
	if (lang_parse_int_literal(lx->src + lx->pos, n, &tok->num, &err) < 0) {
		char q[300];

		lang_quote_text(lx->src + lx->pos, n, 64, q, sizeof(q));
		return lang_diag_setf(diag, here(lx), (uint32_t)n, -TG_EPARSE,
				    "integer \"%s\" is not valid: %s", q, err);
	}
	tok->kind = TG_T_INT;
	adv(lx, n);
	return 0;
}

/* ---- strings ----------------------------------------------------------- */

/* Decodes a string literal at the cursor (on the opening quote). */
static int lex_string(struct lang_lexer *lx, struct buf *out, struct lang_diag *diag)
{
	struct lang_loc start = here(lx);

	adv(lx, 1);
	for (;;) {
		int c = peekc(lx, 0);
		struct lang_loc at = here(lx);
		int r = 0;

		if (c == -1 || c == '\n')
			return lang_diag_setf(diag, start, 1, -TG_EPARSE,
					    "string not terminated before end of %s",
					    c == -1 ? "file" : "line");
		if (c == '"') {
			adv(lx, 1);
			return 0;
		}
		if (c != '\\') {
			r = buf_addc(out, (char)c);
			adv(lx, 1);
		} else {
			int e = peekc(lx, 1);

			if (e == 'n' || e == 't' || e == 'r' || e == '"' || e == '\\') {
				r = buf_addc(out, e == 'n' ? '\n' : e == 't' ? '\t' : e == 'r' ? '\r' : (char)e);
				adv(lx, 2);
			} else if (e >= '0' && e <= '7') {
				unsigned v = 0;
				size_t k = 1;

				while (k < 4 && peekc(lx, k) >= '0' && peekc(lx, k) <= '7')
					v = v * 8 + (unsigned)(peekc(lx, k++) - '0');
				if (v > 255)
					return lang_diag_setf(diag, at, (uint32_t)k, -TG_EPARSE,
							    "octal escape \"\\%.*s\" is out of range (above \\377)",
							    (int)(k - 1), lx->src + lx->pos + 1);
				r = buf_addc(out, (char)v);
				adv(lx, k);
			} else if ((e == 'x' || e == 'X') && is_hex(peekc(lx, 2))) {
				unsigned v = 0;
				size_t k = 2;

				while (k < 4 && is_hex(peekc(lx, k))) {
					int h = peekc(lx, k++);

					v = v * 16 + (unsigned)(is_digit(h) ? h - '0' : (h | 0x20) - 'a' + 10);
				}
				r = buf_addc(out, (char)v);
				adv(lx, k);
			} else if (e == -1) {
				return lang_diag_setf(diag, start, 1, -TG_EPARSE,
						    "string not terminated before end of file");
			} else {
				char q[16];

				if (e > 0x20 && e < 0x7f)
					snprintf(q, sizeof(q), "\\%c", e);
				else
					snprintf(q, sizeof(q), "\\x%02x", (unsigned)e);
				return lang_diag_setf(diag, at, 2, -TG_EPARSE,
						    "escape sequence \"%s\" in string is not valid", q);
			}
		}
		if (r == -E2BIG)
			return lang_diag_setf(diag, start, 1, -TG_ELIMIT,
					    "string literal is longer than %u bytes (TG_MAX_STRING_LITERAL)",
					    TG_MAX_STRING_LITERAL);
		if (r < 0)
			return r;
	}
}

/* ---- struct / union / enum text ------------------------------------------ */

static int collapse_ws(struct buf *out, const char *s, size_t n)
{
	bool sp = false;
	int r = 0;

	while (n && is_space((unsigned char)*s))
		s++, n--;
	while (n && is_space((unsigned char)s[n - 1]))
		n--;
	for (size_t i = 0; i < n && r == 0; i++) {
		if (is_space((unsigned char)s[i])) {
			sp = true;
			continue;
		}
		if (sp)
			r = buf_addc(out, ' ');
		sp = false;
		if (r == 0)
			r = buf_addc(out, s[i]);
	}
	return r;
}

static int lex_cdef(struct lang_lexer *lx, struct lang_token *tok, size_t kwlen, struct lang_diag *diag)
{
	_cleanup_buf_ struct buf b = BUF_INIT(TG_MAX_SOURCE_BYTES + 16);
	size_t body = lx->pos + kwlen;
	unsigned depth = 0;
	int r;

	adv(lx, kwlen);
	for (;;) {
		int c = peekc(lx, 0);

		if (c == -1)
			return lang_diag_setf(diag, tok->loc, (uint32_t)kwlen, -TG_EPARSE,
					    "\"%.*s\" %s not terminated before end of file",
					    (int)kwlen, lx->src + tok->off,
					    depth ? "definition" : "type name");
		if (depth == 0 && (c == '*' || c == ')')) {
			struct buf name = BUF_INIT(0);
			bool ok = true;

			r = buf_add(&b, lx->src + tok->off, kwlen);
			if (r == 0)
				r = collapse_ws(&name, lx->src + body, lx->pos - body);
			/* exactly one identifier: anything else could not print back */
			ok = r == 0 && name.len > 0 && is_ident_start((unsigned char)name.s[0]);
			for (size_t i = 1; ok && i < name.len; i++)
				ok = is_ident_char((unsigned char)name.s[i]);
			if (r == 0 && ok)
				r = buf_printf(&b, " %s", name.s);
			if (r == 0 && !ok) {
				char q[200];

				lang_quote_text(name.s, name.len, 40, q, sizeof(q));
				r = lang_diag_setf(diag, tok->loc, (uint32_t)kwlen, -TG_EPARSE,
						 "type name \"%.*s %s\" is not valid: expected \"%.*s NAME\"",
						 (int)kwlen, lx->src + tok->off, q, (int)kwlen, lx->src + tok->off);
			}
			buf_release(&name);
			if (r < 0)
				return r;
			tok->kind = TG_T_IDENT;
			tok->text_len = b.len;
			tok->text = buf_detach(&b, NULL);
			finish(lx, tok);
			return 0;
		}
		if (c == '{') {
			depth++;
		} else if (c == '}') {
			if (depth == 0)
				return lang_diag_setf(diag, here(lx), 1, -TG_EPARSE,
						    "unexpected \"}\" after \"%.*s\", expected a type name or \"{\"",
						    (int)kwlen, lx->src + tok->off);
			depth--;
			adv(lx, 1);
			if (peekc(lx, 0) == ';')
				adv(lx, 1);
			if (depth == 0) {
				r = set_text(tok, lx->src + tok->off, lx->pos - tok->off);
				if (r < 0)
					return r;
				tok->kind = TG_T_STRUCT_DEFN;
				finish(lx, tok);
				return 0;
			}
			continue;
		}
		adv(lx, 1);
	}
}

/* ---- normal mode --------------------------------------------------------- */

static int invalid_char(struct lang_lexer *lx, struct lang_diag *diag)
{
	char q[16];

	lang_quote_text(lx->src + lx->pos, 1, 1, q, sizeof(q));
	return lang_diag_setf(diag, here(lx), 1, -TG_EPARSE, "character \"%s\" is not valid here", q);
}

int lang_lex(struct lang_lexer *lx, struct lang_token *tok, struct lang_diag *diag)
{
	int c, r;

	memset(tok, 0, sizeof(*tok));
	c = lang_lex_skip_blank(lx, diag);
	tok->loc = here(lx);
	tok->off = lx->pos;
	if (c < -1)
		return c;
	if (c == -1) {
		tok->kind = TG_T_EOF;
		return 0;
	}

	if (is_ident_start(c)) {
		size_t n = 1;
		char w[32];

		while (is_ident_char(peekc(lx, n)))
			n++;
		if (lang_lex_at_cdef(lx))
			return lex_cdef(lx, tok, n, diag);
		r = set_text(tok, lx->src + lx->pos, n);
		if (r < 0)
			return r;
		adv(lx, n);
		finish(lx, tok);
		tok->kind = TG_T_IDENT;
		if (n >= sizeof(w))
			return 0;
		memcpy(w, tok->text, n + 1);
		for (size_t i = 0; i < ARRAY_SIZE(keywords); i++)
			if (strcmp(keywords[i].word, w) == 0) {
				tok->kind = keywords[i].kind;
				return 0;
			}
		if (in_list(builtins, w))
			tok->kind = TG_T_BUILTIN;
		else if (in_list(calls, w))
			tok->kind = TG_T_CALL;
		return 0;
	}
	if (is_digit(c)) {
		r = lex_number(lx, tok, diag);
		finish(lx, tok);
		return r;
	}
	if (c == '"') {
		_cleanup_buf_ struct buf b = BUF_INIT(TG_MAX_STRING_LITERAL);

		r = lex_string(lx, &b, diag);
		if (r < 0)
			return r;
		tok->kind = TG_T_STR;
		tok->text = buf_detach(&b, &tok->text_len);
		finish(lx, tok);
		return 0;
	}
	if (c == '@' || (c == '$' && is_ident_start(peekc(lx, 1)))) {
		size_t n = 1;

		while (is_ident_char(peekc(lx, n)))
			n++;
		if (c == '$' && n == 1)
			return invalid_char(lx, diag);
		r = set_text(tok, lx->src + lx->pos, n);
		if (r < 0)
			return r;
		tok->kind = c == '@' ? TG_T_MAP : TG_T_VAR;
		adv(lx, n);
		finish(lx, tok);
		return 0;
	}
	if (c == '$' && is_digit(peekc(lx, 1))) {
		size_t n = 1;
		uint64_t v = 0;
		bool big = false;

		while (is_digit(peekc(lx, n))) {
			unsigned d = (unsigned)(peekc(lx, n) - '0');

			if (v > (UINT64_MAX - d) / 10)
				big = true;
			else
				v = v * 10 + d;
			n++;
		}
		tok->kind = TG_T_PARAM;
		tok->num = big ? 0 : v;
		adv(lx, n);
		finish(lx, tok);
		return 0;
	}
	if (c == '$' && peekc(lx, 1) == '#') {
		tok->kind = TG_T_PARAMCOUNT;
		adv(lx, 2);
		finish(lx, tok);
		return 0;
	}
	if (c == '#' && peekc(lx, 1) != '!') {
		size_t n = 0;

		/* the directive's line, continued by a backslash before its end */
		while (peekc(lx, n) != -1 &&
		       !(peekc(lx, n) == '\n' && !(n > 0 && peekc(lx, n - 1) == '\\')))
			n++;
		r = set_text(tok, lx->src + lx->pos, n);
		if (r < 0)
			return r;
		tok->kind = TG_T_CPREPROC;
		adv(lx, n);
		finish(lx, tok);
		return 0;
	}
	if (c == '/' && peekc(lx, 1) != '=') {
		size_t k = 1;

		while (is_space(peekc(lx, k)))
			k++;
		tok->kind = (peekc(lx, k) == '/' || peekc(lx, k) == '{') ? TG_T_ENDPRED : TG_T_DIV;
		adv(lx, 1);
		finish(lx, tok);
		return 0;
	}
	for (size_t i = 0; i < ARRAY_SIZE(puncts); i++) {
		size_t n = strlen(puncts[i].text);

		if (lx->len - lx->pos >= n && memcmp(lx->src + lx->pos, puncts[i].text, n) == 0) {
			tok->kind = puncts[i].kind;
			adv(lx, n);
			finish(lx, tok);
			return 0;
		}
	}
	return invalid_char(lx, diag);
}

/* ---- attach points --------------------------------------------------------- */

static bool is_path_char(int c)
{
	return is_ident_char(c) || c == '-' || c == '.' || c == '/' || c == '#' || c == '*';
}

/* What a positional parameter may put into an attach point: one name or
 * glob, never a separator (`:` `,`), a brace, a blank, a quote, `$` or
 * anything that would end the attach point or start another construct. */
static bool is_param_attach_char(int c)
{
	return is_ident_char(c) || c == '-' || c == '.' || c == '/' || c == '*' || c == '?' ||
	       c == '[' || c == ']' || c == '!';
}

/* `$N` in an attach point: the parameter's value, checked, as a token of
 * the attach point (never text for the lexer to read again). */
static int subst_param(struct lang_lexer *lx, struct lang_loc at, size_t n, uint64_t v, struct buf *b,
		       struct lang_diag *diag)
{
	const char *val;
	size_t len;
	char q[4 * 32 + 8];

	if (v > lx->nparams)
		return lang_diag_setf(diag, at, (uint32_t)n, -TG_EPARSE,
				    "positional parameter \"$%llu\" is not given (%zu given)",
				    (unsigned long long)v, lx->nparams);
	val = lx->params[v - 1];
	len = strlen(val);
	if (len == 0)
		return lang_diag_setf(diag, at, (uint32_t)n, -TG_EPARSE,
				    "positional parameter \"$%llu\" is empty and cannot be part of an attach point",
				    (unsigned long long)v);
	for (size_t i = 0; i < len; i++) {
		if (is_param_attach_char((unsigned char)val[i]))
			continue;
		lang_quote_text(val, len, 32, q, sizeof(q));
		return lang_diag_setf(diag, at, (uint32_t)n, -TG_EPARSE,
				    "positional parameter \"$%llu\" (\"%s\") cannot be part of an attach point: "
				    "character %zu is not allowed (a name or a glob: letters, digits and _ - . / * ? [ ] !)",
				    (unsigned long long)v, q, i + 1);
	}
	return buf_add(b, val, len);
}

/* Can an attach point continue (or start) with what is at the cursor? */
static bool attach_continues(const struct lang_lexer *lx)
{
	int c = peekc(lx, 0);

	return is_ident_start(c) || is_digit(c) || c == ':' || c == '"' || c == '.' ||
	       c == '+' || c == '*' || c == '[' || c == ']' ||
	       (c == '$' && (is_digit(peekc(lx, 1)) || peekc(lx, 1) == '#'));
}

int lang_lex_attach(struct lang_lexer *lx, struct lang_token *tok, struct lang_diag *diag)
{
	_cleanup_buf_ struct buf b = BUF_INIT(TG_MAX_SOURCE_BYTES + 16);
	size_t end;
	int c, r = 0;

	memset(tok, 0, sizeof(*tok));
	c = lang_lex_skip_blank(lx, diag);
	if (c < -1)
		return c;
	tok->kind = TG_T_ATTACH;
	tok->loc = here(lx);
	tok->off = end = lx->pos;
	if (lang_lex_at_cdef(lx))
		c = 0;  /* a definition after a probe: no attach point starts here */

	while (r == 0 && c != 0 && attach_continues(lx)) {
		c = peekc(lx, 0);
		if (is_ident_start(c)) {
			size_t n = 1;

			while (is_ident_char(peekc(lx, n)))
				n++;
			r = buf_add(&b, lx->src + lx->pos, n);
			adv(lx, n);
		} else if (c == ':' && (is_path_char(peekc(lx, 1)) ||
					(peekc(lx, 1) == '\\' && peekc(lx, 2) != -1))) {
			size_t n = 1;

			for (;;) {
				if (peekc(lx, n) == '\\' && peekc(lx, n + 1) != -1)
					n += 2;
				else if (is_path_char(peekc(lx, n)))
					n++;
				else
					break;
			}
			r = buf_add(&b, lx->src + lx->pos, n);
			adv(lx, n);
		} else if (c == '"') {
			_cleanup_buf_ struct buf s = BUF_INIT(TG_MAX_STRING_LITERAL);
			struct lang_loc sloc = here(lx);

			r = lex_string(lx, &s, diag);
			if (r < 0)
				return r;
			if (memchr(s.s, '\0', s.len))
				return lang_diag_setf(diag, sloc, 1, -TG_EPARSE,
						    "string in attach point contains a NUL byte");
			/* re-quoted so that it lexes back to the same bytes (control
			 * characters and bytes outside valid UTF-8 escaped, as
			 * every string of the canonical form); the parser's
			 * splitter decodes it */
			r = lang_string_quote(&b, s.s, s.len);
		} else if (is_digit(c)) {
			/* as written (bpftrace rewrites it in decimal, but then "00"
			 * and "x1f" glue into a different number when read back) */
			struct lang_token num = { 0 };
			size_t start = lx->pos;

			r = lex_number(lx, &num, diag);
			if (r < 0)
				return r;
			r = buf_add(&b, lx->src + start, lx->pos - start);
		} else if (c == '$') {
			struct lang_loc at = here(lx);
			size_t n = 1;
			uint64_t v = 0;

			if (peekc(lx, 1) == '#')
				return lang_diag_setf(diag, at, 2, -TG_EPARSE,
						    "\"$#\" is not a positional parameter and cannot be used in an attach point");
			while (is_digit(peekc(lx, n))) {
				v = v * 10 + (uint64_t)(peekc(lx, n) - '0');
				if (v > 1000000)
					break;
				n++;
			}
			if (v == 0 || v > 1000000)
				return lang_diag_setf(diag, at, (uint32_t)n, -TG_EPARSE,
						    "positional parameter \"%.*s\" is not valid: they start at \"$1\"",
						    (int)MIN(n, 24), lx->src + lx->pos);
			r = subst_param(lx, at, n, v, &b, diag);
			if (r < 0)
				return r;
			adv(lx, n);
		} else {
			r = buf_addc(&b, (char)c);
			adv(lx, 1);
		}
		if (r < 0)
			break;
		end = lx->pos;
		c = lang_lex_skip_blank(lx, diag);
		if (c < -1)
			return c;
		/* bpftrace glues pieces across blanks, but a word or number after
		 * a blank that follows a word or number ("f\nkprobe:g", "+0 4")
		 * only makes a different word: end the attach point there, and the
		 * parser says what it expected instead */
		if (lx->pos > end && b.len && is_ident_char((unsigned char)b.s[b.len - 1]) &&
		    (is_ident_char(c) || (c == '$' && is_digit(peekc(lx, 1)))))
			break;
	}
	if (r < 0)
		return r;
	tok->len = end - tok->off;
	tok->text_len = b.len;
	tok->text = buf_detach(&b, NULL);
	return 0;
}
