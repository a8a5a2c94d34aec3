-- 0005: per-recipient delivery state of the outbox, bounces, and the
-- mailing lists of the units and bodies (subscriptions, confirmations).

-- One outbox row is one message to ONE recipient, and that stays the model:
-- list mail is personal anyway (its List-Unsubscribe URL is signed for that
-- recipient), so the row's state is the recipient's state, a DSN names the
-- row by its Message-ID, and a retry resends to nobody else.
ALTER TABLE outbox ADD COLUMN last_code INTEGER;	-- last SMTP reply code, 0: no answer
ALTER TABLE outbox ADD COLUMN bounced_at INTEGER;	-- a DSN came back for it (state 'failed')
ALTER TABLE outbox ADD COLUMN unit_id INTEGER REFERENCES units(id);	-- list mail: which list

-- Delivery reports and bounce mails that came back for mail we sent.
CREATE TABLE bounces (
	id		INTEGER PRIMARY KEY,
	at		INTEGER NOT NULL,
	message_id	INTEGER REFERENCES messages(id),	-- the report as fetched
	outbox_id	INTEGER REFERENCES outbox(id),		-- what it reports on
	address		TEXT NOT NULL COLLATE NOCASE,		-- the recipient that failed
	action		TEXT NOT NULL,				-- failed, delayed, ...
	status		TEXT,					-- 5.1.1, ...
	hard		INTEGER NOT NULL,			-- 1: permanent failure
	diagnostic	TEXT
);
CREATE INDEX bounces_address ON bounces(address, at);

-- List settings of a unit or body; no row: open, digest only when there is news.
CREATE TABLE lists (
	unit_id		INTEGER PRIMARY KEY REFERENCES units(id) ON DELETE CASCADE,
	closed		INTEGER NOT NULL DEFAULT 0,	-- 1: outside the roster, subscribing needs a confirmation
	digest_always	INTEGER NOT NULL DEFAULT 0	-- 1: a digest even for an empty period
);

-- Addresses that subscribed, and roster members that changed their
-- membership (unsubscribed, digest mode). Roster members without a row are
-- members with the default digest mode.
CREATE TABLE list_subscriptions (
	unit_id		INTEGER NOT NULL REFERENCES units(id) ON DELETE CASCADE,
	address		TEXT NOT NULL COLLATE NOCASE,		-- normalised
	lang		TEXT NOT NULL DEFAULT 'es' CHECK (lang IN ('es', 'pt')),
	digest		TEXT NOT NULL DEFAULT 'daily' CHECK (digest IN ('daily', 'weekly', 'none')),
	unsubscribed	INTEGER NOT NULL DEFAULT 0,
	source		TEXT NOT NULL,				-- mail, confirm, cli, http
	created_at	INTEGER NOT NULL,
	changed_at	INTEGER NOT NULL,
	PRIMARY KEY (unit_id, address)
);

-- Subscriptions waiting for the reply to a signed confirmation address
-- (token purpose "confirm", object = id). used_at makes each single-use.
CREATE TABLE list_confirmations (
	id		INTEGER PRIMARY KEY,
	unit_id		INTEGER NOT NULL REFERENCES units(id) ON DELETE CASCADE,
	address		TEXT NOT NULL COLLATE NOCASE,		-- who is to be subscribed
	requested_by	TEXT NOT NULL,				-- who asked
	lang		TEXT NOT NULL DEFAULT 'es',
	created_at	INTEGER NOT NULL,
	expires_at	INTEGER NOT NULL,
	used_at		INTEGER
);
