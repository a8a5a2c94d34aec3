#include "buildconf.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "metrics.h"

void
metrics_count_sync(struct metrics *m, const struct sync_stats *s)
{
	m->fetched += s->stored;
	m->recorded += s->recorded;
	m->rejected += s->rejected;
	m->held += s->held;
	m->ignored += s->ignored;
}

void
metrics_count_outbox(struct metrics *m, const struct outbox_stats *o)
{
	m->answers_sent += o->sent;
	m->smtp_errors += o->deferred + o->failed;
}

void
metrics_cycle_ok(struct metrics *m, time_t now)
{
	m->last_cycle = now;
	m->last_success = now;
}

/*
 * Copy src into dst (size > 0) as one line of printable bytes, and write a
 * word that holds an '@' as "<address>": error texts may quote a server's
 * answer about a mailbox, and /healthz is read by monitoring, not by people
 * entitled to the roster.
 */
static void
one_line_no_address(char *dst, size_t size, const char *src)
{
	static const char mask[] = "<address>";
	size_t n = 0;

	while (*src != '\0' && n + 1 < size) {
		size_t w = strcspn(src, " \t\r\n");
		if (w > 0 && memchr(src, '@', w) != NULL) {
			size_t k = strlen(mask) < size - 1 - n ? strlen(mask) : size - 1 - n;
			memcpy(dst + n, mask, k);
			n += k;
			src += w;
			continue;
		}
		unsigned char c = (unsigned char)*src++;
		dst[n++] = c < 0x20 || c == 0x7F ? ' ' : (char)c;
	}
	dst[n] = '\0';
}

void
metrics_cycle_failed(struct metrics *m, time_t now, const char *why)
{
	m->last_cycle = now;
	m->imap_errors++;
	one_line_no_address(m->last_error, sizeof m->last_error, why ? why : "");
}

void
metrics_set_outbox(struct metrics *m, int64_t depth, int64_t oldest_age, time_t now)
{
	m->outbox_depth = depth;
	/* kept as a time, so the age served later is the age then */
	m->outbox_oldest = depth > 0 ? now - (time_t)oldest_age : 0;
}

int
metrics_healthy(const struct metrics *m, time_t now, char *why, size_t size)
{
	long long limit = (long long)METRICS_HEALTHY_POLLS * m->poll_interval + m->wait_allowance;
	long long age = (long long)(now - m->last_success);
	const char *sep = m->last_error[0] ? ": " : "";

	if (m->last_success != 0 && age <= limit)
		return 1;
	if (m->last_success == 0)
		snprintf(why, size, "no successful IMAP cycle yet%s%s", sep, m->last_error);
	else
		snprintf(why, size, "no successful IMAP cycle for %lld s%s%s", age, sep,
		    m->last_error);
	return 0;
}

/* Appends to a buffer; remembers overflow instead of failing at each call. */
struct out {
	char *buf;
	size_t size, len;
	int overflow;
};

static void out_printf(struct out *o, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void
out_printf(struct out *o, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (o->overflow)
		return;
	va_start(ap, fmt);
	n = vsnprintf(o->buf + o->len, o->size - o->len, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= o->size - o->len)
		o->overflow = 1;
	else
		o->len += (size_t)n;
}

static void
family(struct out *o, const char *name, const char *type, const char *help)
{
	out_printf(o, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void
counter(struct out *o, const char *name, const char *help, uint64_t v)
{
	family(o, name, "counter", help);
	out_printf(o, "%s %" PRIu64 "\n", name, v);
}

static void
gauge(struct out *o, const char *name, const char *help, long long v)
{
	family(o, name, "gauge", help);
	out_printf(o, "%s %lld\n", name, v);
}

static void
mails_by_state(struct out *o, const struct metrics *m)
{
	const struct { const char *state; uint64_t v; } rows[] = {
		{ "recorded", m->recorded }, { "rejected", m->rejected },
		{ "held", m->held }, { "ignored", m->ignored },
	};

	family(o, "mercomail_mails_total", "counter",
	    "New mails by the state they ended in.");
	for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++)
		out_printf(o, "mercomail_mails_total{state=\"%s\"} %" PRIu64 "\n",
		    rows[i].state, rows[i].v);
}

int
metrics_format(const struct metrics *m, time_t now, char *buf, size_t size)
{
	struct out o = { buf, size, 0, size == 0 };
	long long oldest = m->outbox_depth > 0 && m->outbox_oldest > 0 ?
	    (long long)(now - m->outbox_oldest) : 0;

	counter(&o, "mercomail_mails_fetched_total",
	    "New mails fetched from IMAP and stored (duplicates not counted).", m->fetched);
	mails_by_state(&o, m);
	counter(&o, "mercomail_answers_sent_total", "Answers accepted by the SMTP server.",
	    m->answers_sent);
	counter(&o, "mercomail_smtp_errors_total", "Answers deferred or failed by SMTP.",
	    m->smtp_errors);
	counter(&o, "mercomail_imap_errors_total", "Failed IMAP passes (connect or sync).",
	    m->imap_errors);
	gauge(&o, "mercomail_outbox_depth", "Answers queued, not sent yet.", m->outbox_depth);
	gauge(&o, "mercomail_outbox_oldest_seconds", "Age of the oldest queued answer.",
	    oldest < 0 ? 0 : oldest);
	gauge(&o, "mercomail_last_success_timestamp_seconds",
	    "When the last IMAP pass succeeded (UTC seconds; 0: not yet).",
	    (long long)m->last_success);
	gauge(&o, "mercomail_poll_interval_seconds", "imap.poll_interval of the config.",
	    m->poll_interval);
	return o.overflow ? -1 : (int)o.len;
}
