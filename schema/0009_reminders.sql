-- 0009: the reminders sent (activity reports due, meeting invitations not
-- answered), one row per kind, object, recipient, period and round, written
-- in the same transaction as the queued mail: a second pass, a crash or a
-- restart never sends one twice.

CREATE TABLE reminders (
	id		INTEGER PRIMARY KEY,
	kind		TEXT NOT NULL CHECK (kind IN ('report', 'rsvp')),
	object		INTEGER NOT NULL,		-- report: units.id; rsvp: meetings.id
	recipient	TEXT NOT NULL COLLATE NOCASE,	-- normalised address
	period		INTEGER NOT NULL,		-- report: start of the silent window;
							-- rsvp: the meeting's start_at
	round		INTEGER NOT NULL DEFAULT 1 CHECK (round IN (1, 2)),
	sent_at		INTEGER NOT NULL,		-- the (injectable) time it was queued
	outbox_id	INTEGER REFERENCES outbox(id),
	UNIQUE (kind, object, recipient, period, round)
);
CREATE INDEX reminders_sent ON reminders(sent_at);

-- When the reminder job first saw a unit: the start of its first window
-- when it has never sent an activity report (units keep no creation time).
CREATE TABLE reminder_units (
	unit_id		INTEGER PRIMARY KEY REFERENCES units(id) ON DELETE CASCADE,
	first_seen	INTEGER NOT NULL
);
