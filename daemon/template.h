/*
 * template — mail texts from templates/LANG/NAME.txt and .html (pure once
 * loaded).
 *
 * A template file starts with a "Subject: ..." line and a blank line, then
 * the body. {{name}} is replaced by a value: as is in .txt, HTML-escaped in
 * .html. {{#name}}...{{/name}} keeps its inside only when name is set and
 * not empty; when name is a list (template_render_lists), the inside is
 * repeated once per row, with the row's names first. {{^name}}...{{/name}}
 * is the inverse: its inside only when name is unset, empty or a list
 * without rows. Unknown names render as "" and are reported by template_check.
 * Look-up goes from specific to generic: the configured directory's LANG,
 * then its "es" (the network's default language).
 */
#ifndef MERCOMAIL_TEMPLATE_H
#define MERCOMAIL_TEMPLATE_H

#include <stddef.h>

#include "err.h"

struct tvar {
	const char *name;
	const char *value;	/* UTF-8; NULL counts as unset */
};

enum template_escape { TEMPLATE_TEXT, TEMPLATE_HTML };

/* A list for {{#name}}...{{/name}}: rows of named values; a row may hold
 * lists of its own (groups with their items). Nothing is owned. */
struct tlist;
struct trow {
	const struct tvar *vars;
	size_t n;
	const struct tlist *lists;
	size_t nlists;
};
struct tlist {
	const char *name;
	const struct trow *rows;
	size_t nrows;
};

struct template {
	char *subject;		/* rendered separately with template_render_string */
	char *body;
	char *path;		/* the file it came from, for messages */
};

/* Load dir/LANG/NAME.EXT (EXT "txt" or "html"), falling back to dir/es/.
 * Returns NULL with e set if neither exists or the file is malformed. */
struct template *template_load(const char *dir, const char *lang, const char *name,
    const char *ext, struct err *e);
void template_free(struct template *t);		/* accepts NULL */

/* Render a template string with vars. Caller frees. NULL with e on a
 * malformed template (unclosed section). */
char *template_render_string(const char *tmpl, const struct tvar *vars, size_t n,
    enum template_escape esc, struct err *e);

/* The same with lists (see struct tlist). A name inside a list section is
 * looked up in the row, then in the enclosing rows, then in vars. */
char *template_render_lists(const char *tmpl, const struct tvar *vars, size_t n,
    const struct tlist *lists, size_t nlists, enum template_escape esc, struct err *e);

/* HTML-escape a string (& < > " '). Caller frees. */
char *template_html_escape(const char *s);

/* Check a template's syntax and that it names only known vars (names given
 * in known, n of them). Returns 0, or -1 with e set to "path:line: ...". */
int template_check(const struct template *t, const char *const *known, size_t n,
    struct err *e);

#endif
