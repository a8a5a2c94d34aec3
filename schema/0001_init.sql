-- 0001: the roster, the messages, IMAP sync state and the audit log.
-- Times are UTC seconds since the epoch.

CREATE TABLE countries (
	code	TEXT PRIMARY KEY CHECK (length(code) = 2 AND code = upper(code)),
	name	TEXT
);

CREATE TABLE cities (
	id		INTEGER PRIMARY KEY,
	name		TEXT NOT NULL,
	country		TEXT NOT NULL REFERENCES countries(code),
	lang		TEXT NOT NULL CHECK (lang IN ('es', 'pt')),
	timezone	TEXT NOT NULL,
	head_title	TEXT,			-- Intendente, Prefeito, Jefe de Gobierno, ...
	UNIQUE (name, country)
);

CREATE TABLE contacts (
	id		INTEGER PRIMARY KEY,
	address		TEXT NOT NULL UNIQUE COLLATE NOCASE,
	name		TEXT,			-- a person's name, or a title
	city_id		INTEGER REFERENCES cities(id) ON DELETE SET NULL,
	lang		TEXT NOT NULL CHECK (lang IN ('es', 'pt'))
);
CREATE INDEX contacts_city ON contacts(city_id);

-- Thematic units and the bodies of the network share one table: both have
-- members with roles, meetings and a mailing list.
CREATE TABLE units (
	id		INTEGER PRIMARY KEY,
	slug		TEXT NOT NULL UNIQUE,
	kind		TEXT NOT NULL CHECK (kind IN ('unit', 'council', 'board',
				'secretariat', 'technical-secretariat')),
	name_es		TEXT NOT NULL,
	name_pt		TEXT NOT NULL
);

CREATE TABLE unit_members (
	unit_id		INTEGER NOT NULL REFERENCES units(id) ON DELETE CASCADE,
	city_id		INTEGER NOT NULL REFERENCES cities(id) ON DELETE CASCADE,
	role		TEXT NOT NULL CHECK (role IN ('coordinator', 'subcoordinator', 'member')),
	PRIMARY KEY (unit_id, city_id)
);
CREATE INDEX unit_members_city ON unit_members(city_id);

INSERT INTO units (slug, kind, name_es, name_pt) VALUES
	('consejo', 'council', 'Consejo', 'Conselho'),
	('comision-directiva', 'board', 'Comisión Directiva', 'Comissão Diretiva'),
	('secretaria-ejecutiva', 'secretariat', 'Secretaría Ejecutiva', 'Secretaria Executiva'),
	('secretaria-tecnica', 'technical-secretariat',
		'Secretaría Técnica Permanente', 'Secretaria Técnica Permanente');

-- Every mail fetched, kept raw. message_id is the Message-ID, or
-- "sha256:<hex>" when the mail has none: the same mail is stored once.
CREATE TABLE messages (
	id		INTEGER PRIMARY KEY,
	message_id	TEXT NOT NULL UNIQUE,
	sha256		TEXT NOT NULL,
	folder		TEXT NOT NULL,
	uidvalidity	INTEGER NOT NULL,
	uid		INTEGER NOT NULL,
	received_at	INTEGER NOT NULL,
	size		INTEGER NOT NULL,
	truncated	INTEGER NOT NULL DEFAULT 0,	-- 1: raw holds the header only
	raw		BLOB NOT NULL,
	from_addr	TEXT,
	subject		TEXT,
	state		TEXT NOT NULL DEFAULT 'new' CHECK (state IN
				('new', 'recorded', 'rejected', 'held', 'ignored')),
	reason		TEXT
);
CREATE INDEX messages_uid ON messages(folder, uidvalidity, uid);
CREATE INDEX messages_state ON messages(state);

CREATE TABLE imap_folders (
	folder		TEXT PRIMARY KEY,
	uidvalidity	INTEGER NOT NULL,
	last_uid	INTEGER NOT NULL DEFAULT 0,
	synced_at	INTEGER
);

CREATE TABLE audit_log (
	id		INTEGER PRIMARY KEY,
	at		INTEGER NOT NULL,
	actor		TEXT NOT NULL,		-- "cli:root", "daemon", an address
	action		TEXT NOT NULL,		-- "roster.import", "message.store", ...
	object		TEXT,
	detail		TEXT
);
