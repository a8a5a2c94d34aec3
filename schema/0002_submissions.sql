-- 0002: what a mail turned out to be (kind, sender, parsed fields), the
-- submissions recorded from it, and the outbox of answers.

ALTER TABLE messages ADD COLUMN kind TEXT;		-- form kind detected, if any
ALTER TABLE messages ADD COLUMN contact_id INTEGER REFERENCES contacts(id);
ALTER TABLE messages ADD COLUMN sender TEXT;		-- normalised From address
ALTER TABLE messages ADD COLUMN lang TEXT;		-- language of the answer
ALTER TABLE messages ADD COLUMN body TEXT;		-- the text the sender wrote (trimmed)
ALTER TABLE messages ADD COLUMN processed_at INTEGER;
CREATE INDEX messages_sender ON messages(sender);

-- Fields as parsed from the body, valid or not; problems one per line.
CREATE TABLE message_fields (
	message_id	INTEGER NOT NULL REFERENCES messages(id) ON DELETE CASCADE,
	field		TEXT NOT NULL,
	value		TEXT NOT NULL,
	line		INTEGER,
	PRIMARY KEY (message_id, field)
);

CREATE TABLE message_problems (
	message_id	INTEGER NOT NULL REFERENCES messages(id) ON DELETE CASCADE,
	seq		INTEGER NOT NULL,
	text		TEXT NOT NULL,
	PRIMARY KEY (message_id, seq)
);

-- A valid submission: one per recorded message.
CREATE TABLE submissions (
	id		INTEGER PRIMARY KEY,
	message_id	INTEGER NOT NULL UNIQUE REFERENCES messages(id),
	reference	TEXT UNIQUE,			-- MC-YYYY-NNNNNN, set after insert
	kind		TEXT NOT NULL,
	contact_id	INTEGER REFERENCES contacts(id),
	city_id		INTEGER REFERENCES cities(id),
	unit_id		INTEGER REFERENCES units(id),
	title		TEXT,
	created_at	INTEGER NOT NULL
);
CREATE INDEX submissions_kind ON submissions(kind, created_at);
CREATE INDEX submissions_unit ON submissions(unit_id, created_at);

-- Mail mercomail has promised to send. Queued in the same transaction as
-- the record that caused it; sent after the commit.
CREATE TABLE outbox (
	id		INTEGER PRIMARY KEY,
	created_at	INTEGER NOT NULL,
	purpose		TEXT NOT NULL,			-- ack, invalid, unknown-sender, ...
	message_id	INTEGER REFERENCES messages(id),	-- the mail it answers
	mail_from	TEXT NOT NULL,			-- envelope sender
	rcpt		TEXT NOT NULL,			-- envelope recipient (normalised)
	msgid		TEXT NOT NULL UNIQUE,		-- Message-ID of the mail
	data		BLOB NOT NULL,			-- the RFC 5322 bytes, CRLF
	state		TEXT NOT NULL DEFAULT 'queued' CHECK (state IN ('queued', 'sent', 'failed')),
	attempts	INTEGER NOT NULL DEFAULT 0,
	next_attempt	INTEGER NOT NULL,
	last_error	TEXT,
	sent_at		INTEGER
);
CREATE INDEX outbox_due ON outbox(state, next_attempt);
CREATE INDEX outbox_rcpt ON outbox(rcpt, created_at);
