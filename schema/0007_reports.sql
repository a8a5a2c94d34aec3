-- 0007: the activity report mailed to the Council once a month (report.h):
-- one row per calendar month, written in the same transaction as the mails
-- it queued, so that a crash or a restart never sends a month twice.

CREATE TABLE report_mails (
	month		TEXT PRIMARY KEY,		-- 'YYYY-MM' (UTC) it was sent in
	period_start	INTEGER NOT NULL,		-- UTC seconds, inclusive
	period_end	INTEGER NOT NULL,		-- UTC seconds, exclusive: the 1st of month
	sent_at		INTEGER NOT NULL,
	recipients	INTEGER NOT NULL		-- 0: the Council had no contact
);
