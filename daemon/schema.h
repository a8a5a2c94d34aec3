/* The SQL migrations compiled in from schema/ (see schema/embed.sh). */
#ifndef MERCOMAIL_SCHEMA_H
#define MERCOMAIL_SCHEMA_H

struct migration {
	int version;		/* NNNN of schema/NNNN_name.sql: PRAGMA user_version after it */
	const char *name;
	const char *sql;
};

extern const struct migration schema_migrations[];	/* ascending by version */
extern const unsigned schema_migration_count;

#endif
