#include "buildconf.h"

#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L	/* fstat, fileno */
#endif

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>

#include "log.h"

static struct {
	char ident[64];		/* openlog() keeps the pointer: must outlive it */
	enum log_level level;
	int use_syslog;
	int journal;		/* stderr is the systemd journal: "<N>" prefixes */
} lg = { "mercomail", LOG_LVL_INFO, 0, 0 };

static const char *const level_names[] = { "error", "warn", "info", "debug" };
static const int syslog_prio[] = { LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG };

/*
 * JOURNAL_STREAM is "device:inode" of the journal's stream. As sd-daemon(3)
 * and systemd.exec(5) advise, the prefixes are used only when stderr still
 * is that stream: a child whose stderr was redirected inherits the variable.
 */
static int
stderr_is_journal(void)
{
	const char *js = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	struct stat st;

	if (js == NULL || sscanf(js, "%llu:%llu", &dev, &ino) != 2)
		return 0;
	if (fstat(STDERR_FILENO, &st) < 0)
		return 0;
	return (unsigned long long)st.st_dev == dev &&
	    (unsigned long long)st.st_ino == ino;
}

void
log_init(const char *ident, enum log_level level, int use_syslog)
{
	if (lg.use_syslog)
		closelog();
	if (ident != NULL)
		snprintf(lg.ident, sizeof lg.ident, "%s", ident);
	log_set_level(level);
	lg.use_syslog = use_syslog;
	lg.journal = stderr_is_journal();
	if (use_syslog)
		openlog(lg.ident, LOG_PID | LOG_NDELAY, LOG_DAEMON);
}

void
log_set_level(enum log_level level)
{
	if (level >= LOG_LVL_ERROR && level <= LOG_LVL_DEBUG)
		lg.level = level;
}

enum log_level
log_get_level(void)
{
	return lg.level;
}

/* One event, one line: a CR or LF in a value must not start a new one. */
static void
flatten(char *s)
{
	for (; *s != '\0'; s++)
		if (*s == '\r' || *s == '\n')
			*s = ' ';
}

/* One write per line, so that lines of several processes do not mix. */
static void
print_stderr(enum log_level level, const char *line)
{
	char out[2048 + 128], prefix[8] = "";

	if (lg.journal)
		snprintf(prefix, sizeof prefix, "<%d>", syslog_prio[level]);
	snprintf(out, sizeof out, "%s%s: level=%s %s\n", prefix, lg.ident,
	    level_names[level], line);
	fputs(out, stderr);
}

void
log_msg(enum log_level level, const char *fmt, ...)
{
	char line[2048];
	va_list ap;

	if (level < LOG_LVL_ERROR || level > LOG_LVL_DEBUG || level > lg.level)
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	flatten(line);
	if (lg.use_syslog) {
		syslog(syslog_prio[level], "level=%s %s", level_names[level], line);
		return;
	}
	print_stderr(level, line);
}
