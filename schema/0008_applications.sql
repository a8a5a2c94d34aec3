-- 0008: membership applications (a submission of kind 'adhesion') and the
-- votes of the deciding body (the Board, or the Council) on them.

CREATE TABLE applications (
	id		INTEGER PRIMARY KEY,
	submission_id	INTEGER NOT NULL UNIQUE REFERENCES submissions(id),
	city		TEXT NOT NULL,			-- as written in the form
	country		TEXT NOT NULL,			-- AR, BR, ... (the form's choices)
	contact		TEXT NOT NULL,			-- the form's contact address (normalised)
	head		TEXT,				-- head of government, and title
	head_title	TEXT,
	lang		TEXT NOT NULL CHECK (lang IN ('es', 'pt')),
	body		TEXT NOT NULL,			-- slug of the deciding body
	state		TEXT NOT NULL DEFAULT 'pending' CHECK (state IN
				('pending', 'approved', 'rejected', 'expired')),
	created_at	INTEGER NOT NULL,
	deadline	INTEGER NOT NULL,		-- pending past it: expired
	decided_at	INTEGER,
	decided_by	TEXT CHECK (decided_by IN ('votes', 'cli', 'expiry')),
	city_id		INTEGER REFERENCES cities(id),	-- created on approval
	contact_id	INTEGER REFERENCES contacts(id)
);
CREATE INDEX applications_state ON applications(state, deadline);

-- One row per voter: a new vote replaces the previous one.
CREATE TABLE votes (
	application_id	INTEGER NOT NULL REFERENCES applications(id) ON DELETE CASCADE,
	contact_id	INTEGER NOT NULL REFERENCES contacts(id),
	vote		TEXT NOT NULL CHECK (vote IN ('approve', 'reject')),
	at		INTEGER NOT NULL,
	message_id	INTEGER REFERENCES messages(id),	-- the mail that cast it
	PRIMARY KEY (application_id, contact_id)
);
