-- 0006: the digests sent, one row per list, cadence and period, written in
-- the same transaction as the mails it queued: a period is never skipped
-- nor sent twice, whatever crashes or restarts in between.

CREATE TABLE digests (
	id		INTEGER PRIMARY KEY,
	unit_id		INTEGER NOT NULL REFERENCES units(id) ON DELETE CASCADE,
	cadence		TEXT NOT NULL CHECK (cadence IN ('daily', 'weekly', 'manual')),
	period_start	INTEGER NOT NULL,		-- UTC seconds, inclusive
	period_end	INTEGER NOT NULL,		-- UTC seconds, exclusive: the scheduled time
	sent_at		INTEGER NOT NULL,
	recipients	INTEGER NOT NULL,		-- 0: nobody to send to, or nothing new
	UNIQUE (unit_id, cadence, period_end)
);
