#include "buildconf.h"

#include <stdio.h>
#include <string.h>

#include "sender.h"
#include "text.h"

static void
copy_col(sqlite3_stmt *s, int i, char *dst, size_t size)
{
	const unsigned char *v = sqlite3_column_text(s, i);

	snprintf(dst, size, "%s", v ? (const char *)v : "");
}

/* Run a contact query with one bound value: 1 row, 0 none, -1 error. */
static int
fetch_contact(struct store *st, const char *where, const char *text, int64_t num,
    struct sender *out, struct err *e)
{
	char sql[512];
	sqlite3_stmt *s;
	int r;

	snprintf(sql, sizeof sql, "SELECT c.id, c.address, coalesce(c.name, ''), c.lang,"
	    " coalesce(c.city_id, 0), coalesce(ci.name, '') FROM contacts c"
	    " LEFT JOIN cities ci ON ci.id = c.city_id WHERE %s", where);
	if (sqlite3_prepare_v2(store_db(st), sql, -1, &s, NULL) != SQLITE_OK)
		return err_set(e, "roster: %s", sqlite3_errmsg(store_db(st)));
	if (text)
		sqlite3_bind_text(s, 1, text, -1, SQLITE_STATIC);
	else
		sqlite3_bind_int64(s, 1, num);
	r = sqlite3_step(s);
	if (r == SQLITE_ROW) {
		out->contact_id = sqlite3_column_int64(s, 0);
		copy_col(s, 1, out->address, sizeof out->address);
		copy_col(s, 2, out->name, sizeof out->name);
		copy_col(s, 3, out->lang, sizeof out->lang);
		out->city_id = sqlite3_column_int64(s, 4);
		copy_col(s, 5, out->city, sizeof out->city);
		r = 1;
	} else
		r = r == SQLITE_DONE ? 0 : err_set(e, "roster: %s", sqlite3_errmsg(store_db(st)));
	sqlite3_finalize(s);
	return r;
}

int
sender_lookup(struct store *st, const char *address, struct sender *s, struct err *e)
{
	char addr[sizeof s->address];

	snprintf(addr, sizeof addr, "%s", address);	/* address may point into *s */
	memset(s, 0, sizeof *s);
	memcpy(s->address, addr, sizeof addr);
	/* the address column is COLLATE NOCASE: case does not matter */
	return fetch_contact(st, "c.address = ?", addr, 0, s, e);
}

int
sender_by_contact(struct store *st, int64_t contact_id, struct sender *s, struct err *e)
{
	memset(s, 0, sizeof *s);
	return fetch_contact(st, "c.id = ?", NULL, contact_id, s, e);
}

int
sender_has_role(struct store *st, const struct sender *s, const char *role,
    const char *slug, const char *kind, struct err *e)
{
	sqlite3_stmt *q;
	int r;

	if (s->city_id == 0)
		return 0;
	if (sqlite3_prepare_v2(store_db(st), "SELECT 1 FROM unit_members m"
	    " JOIN units u ON u.id = m.unit_id WHERE m.city_id = ?1"
	    " AND (?2 IS NULL OR m.role = ?2) AND (?3 IS NULL OR u.slug = ?3)"
	    " AND (?4 IS NULL OR u.kind = ?4) LIMIT 1", -1, &q, NULL) != SQLITE_OK)
		return err_set(e, "roster: %s", sqlite3_errmsg(store_db(st)));
	sqlite3_bind_int64(q, 1, s->city_id);
	sqlite3_bind_text(q, 2, role, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 3, slug, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 4, kind, -1, SQLITE_STATIC);
	r = sqlite3_step(q);
	r = r == SQLITE_ROW ? 1 : r == SQLITE_DONE ? 0
	    : err_set(e, "roster: %s", sqlite3_errmsg(store_db(st)));
	sqlite3_finalize(q);
	return r;
}

/* Scan a short list (a few hundred names at most) comparing folded text:
 * SQLite's own case folding knows nothing of accents. */
static int
match_any(struct store *st, const char *sql, const char *name, char *canon, size_t size)
{
	sqlite3_stmt *q;
	int found = 0;

	if (sqlite3_prepare_v2(store_db(st), sql, -1, &q, NULL) != SQLITE_OK)
		return 0;
	while (!found && sqlite3_step(q) == SQLITE_ROW) {
		for (int i = 1; i < sqlite3_column_count(q) && !found; i++) {
			const char *v = (const char *)sqlite3_column_text(q, i);
			if (v && text_fold_eq(v, name)) {
				copy_col(q, 0, canon, size);
				found = 1;
			}
		}
	}
	sqlite3_finalize(q);
	return found;
}

static int
lookup_city(void *ctx, const char *name, char *canon, size_t size)
{
	return match_any(ctx, "SELECT name, name FROM cities", name, canon, size);
}

static int
lookup_unit(void *ctx, const char *name, char *canon, size_t size)
{
	return match_any(ctx, "SELECT slug, slug, name_es, name_pt FROM units", name, canon, size);
}

void
sender_form_lookup(struct store *st, struct form_lookup *lk)
{
	lk->city = lookup_city;
	lk->unit = lookup_unit;
	lk->zone = NULL;	/* the caller adds one that knows the zones */
	lk->ctx = st;
}
