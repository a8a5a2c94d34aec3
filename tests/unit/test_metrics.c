#include "buildconf.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "metrics.h"

#define T0 1767225600	/* 2026-01-01T00:00:00Z */

static void
test_counts_add_up(void **state)
{
	struct metrics m = { .poll_interval = 60 };
	struct sync_stats s = { .seen = 5, .stored = 4, .duplicates = 1, .rejected = 1,
	    .recorded = 2, .held = 1, .ignored = 0 };
	struct outbox_stats o = { .sent = 3, .deferred = 1, .failed = 1 };

	metrics_count_sync(&m, &s);
	metrics_count_sync(&m, &s);
	metrics_count_outbox(&m, &o);
	assert_int_equal(m.fetched, 8);
	assert_int_equal(m.recorded, 4);
	assert_int_equal(m.rejected, 2);
	assert_int_equal(m.held, 2);
	assert_int_equal(m.ignored, 0);
	assert_int_equal(m.answers_sent, 3);
	assert_int_equal(m.smtp_errors, 2);
}

static void
test_healthy_within_three_polls(void **state)
{
	struct metrics m = { .poll_interval = 60 };
	char why[300];

	assert_int_equal(metrics_healthy(&m, T0, why, sizeof why), 0);
	assert_string_equal(why, "no successful IMAP cycle yet");
	metrics_cycle_ok(&m, T0);
	assert_int_equal(metrics_healthy(&m, T0 + 180, why, sizeof why), 1);
	metrics_cycle_failed(&m, T0 + 150, "imaps://mail: connection refused");
	assert_int_equal(m.imap_errors, 1);
	assert_int_equal(m.last_cycle, T0 + 150);
	assert_int_equal(metrics_healthy(&m, T0 + 183, why, sizeof why), 0);
	assert_string_equal(why,
	    "no successful IMAP cycle for 183 s: imaps://mail: connection refused");
	/* in IDLE the loop is quiet on purpose: not a stall */
	m.wait_allowance = 1500;
	assert_int_equal(metrics_healthy(&m, T0 + 1600, why, sizeof why), 1);
	assert_int_equal(metrics_healthy(&m, T0 + 1681, why, sizeof why), 0);
}

/* The reason goes to monitoring: one line, and no mail address in it. */
static void
test_error_one_line_without_addresses(void **state)
{
	struct metrics m = { .poll_interval = 1 };
	char why[300];

	metrics_cycle_failed(&m, T0, "LOGIN failed for secretaria@red.test\r\nbye");
	assert_string_equal(m.last_error, "LOGIN failed for <address>  bye");
	metrics_cycle_failed(&m, T0, "<a@b> x\x01y");
	assert_string_equal(m.last_error, "<address> x y");
	assert_int_equal(metrics_healthy(&m, T0 + 5, why, sizeof why), 0);
	assert_null(strchr(why, '\n'));
	assert_null(strchr(why, '@'));
}

static void
test_prometheus_text(void **state)
{
	struct metrics m = { .poll_interval = 60, .fetched = 2, .recorded = 1, .held = 1,
	    .answers_sent = 2, .imap_errors = 3 };
	char buf[4096];
	int n;

	metrics_cycle_ok(&m, T0);
	metrics_set_outbox(&m, 2, 30, T0);
	n = metrics_format(&m, T0 + 10, buf, sizeof buf);
	assert_true(n > 0);
	assert_int_equal((size_t)n, strlen(buf));
	assert_non_null(strstr(buf, "# HELP mercomail_mails_fetched_total "));
	assert_non_null(strstr(buf, "# TYPE mercomail_mails_fetched_total counter\n"
	    "mercomail_mails_fetched_total 2\n"));
	assert_non_null(strstr(buf, "# TYPE mercomail_mails_total counter\n"));
	assert_non_null(strstr(buf, "mercomail_mails_total{state=\"recorded\"} 1\n"));
	assert_non_null(strstr(buf, "mercomail_mails_total{state=\"held\"} 1\n"));
	assert_non_null(strstr(buf, "mercomail_mails_total{state=\"ignored\"} 0\n"));
	assert_non_null(strstr(buf, "mercomail_answers_sent_total 2\n"));
	assert_non_null(strstr(buf, "mercomail_smtp_errors_total 0\n"));
	assert_non_null(strstr(buf, "mercomail_imap_errors_total 3\n"));
	assert_non_null(strstr(buf, "# TYPE mercomail_outbox_depth gauge\n"
	    "mercomail_outbox_depth 2\n"));
	/* the age when served, not when counted */
	assert_non_null(strstr(buf, "mercomail_outbox_oldest_seconds 40\n"));
	assert_non_null(strstr(buf, "mercomail_last_success_timestamp_seconds 1767225600\n"));
	assert_non_null(strstr(buf, "mercomail_poll_interval_seconds 60\n"));
	assert_int_equal(buf[n - 1], '\n');
	assert_int_equal(metrics_format(&m, T0, buf, 100), -1);
}

static void
test_empty_outbox_has_no_age(void **state)
{
	struct metrics m = { .poll_interval = 60 };
	char buf[4096];

	metrics_set_outbox(&m, 0, 0, T0);
	assert_true(metrics_format(&m, T0 + 100, buf, sizeof buf) > 0);
	assert_non_null(strstr(buf, "mercomail_outbox_oldest_seconds 0\n"));
	assert_non_null(strstr(buf, "mercomail_last_success_timestamp_seconds 0\n"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_counts_add_up),
		cmocka_unit_test(test_healthy_within_three_polls),
		cmocka_unit_test(test_error_one_line_without_addresses),
		cmocka_unit_test(test_prometheus_text),
		cmocka_unit_test(test_empty_outbox_has_no_age),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
