-- 0003: what the daemon is doing, for `mercomail status`. mercomaild
-- rewrites the one row of daemon_status after each pass and each reload;
-- its counters are those of /metrics: since that process started.

CREATE TABLE daemon_status (
	id		INTEGER PRIMARY KEY CHECK (id = 1),
	pid		INTEGER,			-- NULL once it stopped cleanly
	started_at	INTEGER NOT NULL,
	updated_at	INTEGER NOT NULL,
	config_path	TEXT NOT NULL,
	poll_interval	INTEGER NOT NULL,
	http_listen	TEXT,				-- NULL: no HTTP server
	last_cycle_at	INTEGER,
	last_success_at	INTEGER,
	last_error	TEXT,				-- one line, no addresses
	mails_fetched	INTEGER NOT NULL DEFAULT 0,
	mails_recorded	INTEGER NOT NULL DEFAULT 0,
	mails_rejected	INTEGER NOT NULL DEFAULT 0,
	mails_held	INTEGER NOT NULL DEFAULT 0,
	mails_ignored	INTEGER NOT NULL DEFAULT 0,
	answers_sent	INTEGER NOT NULL DEFAULT 0,
	smtp_errors	INTEGER NOT NULL DEFAULT 0,
	imap_errors	INTEGER NOT NULL DEFAULT 0
);

-- The last errors of the daemon (it keeps 50), newest by id.
CREATE TABLE daemon_errors (
	id		INTEGER PRIMARY KEY,
	at		INTEGER NOT NULL,
	text		TEXT NOT NULL
);
