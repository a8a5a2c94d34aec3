-- 0004: meetings, who is invited and what they answered, and the tokens of
-- private calendar feeds.

-- A unit or body whose feed needs a per-subscriber token.
ALTER TABLE units ADD COLUMN private INTEGER NOT NULL DEFAULT 0;

CREATE TABLE meetings (
	id		INTEGER PRIMARY KEY,
	uid		TEXT NOT NULL UNIQUE,		-- iCalendar UID, stable for life
	reference	TEXT UNIQUE,			-- RE-YYYY-NNNN, set after insert
	unit_id		INTEGER NOT NULL REFERENCES units(id),
	organizer_id	INTEGER REFERENCES contacts(id),	-- who asked; NULL: the CLI
	message_id	INTEGER REFERENCES messages(id),	-- the request mail, if any
	title		TEXT NOT NULL,
	start_at	INTEGER NOT NULL,		-- UTC seconds
	end_at		INTEGER NOT NULL,		-- UTC seconds, > start_at
	tzid		TEXT NOT NULL,			-- IANA zone the times are shown in
	location	TEXT,
	url		TEXT,				-- online link
	agenda		TEXT,
	sequence	INTEGER NOT NULL DEFAULT 0,	-- RFC 5546: + 1 on time/place change, cancel
	status		TEXT NOT NULL DEFAULT 'confirmed'
				CHECK (status IN ('confirmed', 'cancelled')),
	alarm_minutes	INTEGER NOT NULL DEFAULT 1440,	-- VALARM before start; 0: none
	created_at	INTEGER NOT NULL,
	changed_at	INTEGER NOT NULL,		-- last change: DTSTAMP, LAST-MODIFIED, feeds
	CHECK (end_at > start_at)
);
CREATE INDEX meetings_unit ON meetings(unit_id, start_at);
CREATE INDEX meetings_start ON meetings(start_at);

CREATE TABLE meeting_attendees (
	meeting_id	INTEGER NOT NULL REFERENCES meetings(id) ON DELETE CASCADE,
	address		TEXT NOT NULL COLLATE NOCASE,	-- normalised
	contact_id	INTEGER REFERENCES contacts(id),
	city_id		INTEGER REFERENCES cities(id),
	name		TEXT,
	lang		TEXT NOT NULL DEFAULT 'es' CHECK (lang IN ('es', 'pt')),
	role		TEXT NOT NULL DEFAULT 'REQ-PARTICIPANT'
				CHECK (role IN ('CHAIR', 'REQ-PARTICIPANT', 'OPT-PARTICIPANT')),
	partstat	TEXT NOT NULL DEFAULT 'NEEDS-ACTION' CHECK (partstat IN
				('NEEDS-ACTION', 'ACCEPTED', 'DECLINED', 'TENTATIVE', 'DELEGATED')),
	answered_at	INTEGER,			-- when the last RSVP was recorded
	answer_via	TEXT,				-- 'itip' or 'words' or 'cli'
	PRIMARY KEY (meeting_id, address)
);
CREATE INDEX meeting_attendees_city ON meeting_attendees(city_id);

-- Subscribers of private feeds: ?token=<32 hex> (128 random bits).
CREATE TABLE feed_tokens (
	id		INTEGER PRIMARY KEY,
	unit_id		INTEGER NOT NULL REFERENCES units(id) ON DELETE CASCADE,
	contact_id	INTEGER REFERENCES contacts(id) ON DELETE CASCADE,
	token		TEXT NOT NULL UNIQUE,
	created_at	INTEGER NOT NULL,
	revoked_at	INTEGER
);
CREATE INDEX feed_tokens_unit ON feed_tokens(unit_id);
