// SPDX-License-Identifier: Apache-2.0
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include "lib/buf.h"
#include "lib/log.h"

static const char *log_prog = "tracegate";
static enum log_level log_level = LOG_LVL_INFO;
static bool log_json;

static const char *const level_names[] = { "error", "warning", "info", "debug" };

void log_init(const char *prog, enum log_level level)
{
	const char *slash = strrchr(prog, '/');

	log_prog = slash ? slash + 1 : prog;
	log_level = level;
}

void log_set_level(enum log_level level)
{
	log_level = level;
}

void log_set_json(bool json)
{
	log_json = json;
}

bool log_enabled(enum log_level level)
{
	return level <= log_level;
}

/* A text log line is one line: messages carry text others chose (program
 * lines in compile errors, peer addresses, request targets), and a raw
 * newline, carriage return or terminal escape in them would forge or hide
 * lines of the log.  Control bytes become \n, \r, \t or \xNN. */
static void add_escaped_line(struct buf *line, const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '\n')
			(void)buf_adds(line, "\\n");
		else if (c == '\r')
			(void)buf_adds(line, "\\r");
		else if (c == '\t')
			(void)buf_adds(line, "\\t");
		else if (c < 0x20 || c == 0x7f)
			(void)buf_printf(line, "\\x%02x", c);
		else
			(void)buf_addc(line, (char)c);
	}
}

void log_msg(enum log_level level, const char *fmt, ...)
{
	struct buf b = BUF_INIT(16384);
	struct buf line = BUF_INIT(32768);
	va_list ap;

	if (!log_enabled(level))
		return;
	va_start(ap, fmt);
	(void)buf_vprintf(&b, fmt, ap);
	va_end(ap);
	if (log_json) {
		struct timespec ts;
		struct tm tm;
		char when[40];

		clock_gettime(CLOCK_REALTIME, &ts);
		gmtime_r(&ts.tv_sec, &tm);
		strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S", &tm);
		(void)buf_printf(&line, "{\"ts\":\"%s.%06ldZ\",\"prog\":\"%s\",\"level\":\"%s\",\"msg\":\"",
				 when, ts.tv_nsec / 1000, log_prog, level_names[level]);
		(void)buf_add_json_escaped(&line, b.s, b.len);
		(void)buf_adds(&line, "\"}\n");
	} else {
		(void)buf_printf(&line, "%s: %s: ", log_prog, level_names[level]);
		add_escaped_line(&line, b.s, b.len);
		(void)buf_addc(&line, '\n');
	}
	fputs(line.s, stderr);
	buf_release(&b);
	buf_release(&line);
}
