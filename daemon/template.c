#include "buildconf.h"

/*
 * template — mail texts (see template.h).
 *
 * Syntax, the whole of it:
 *   {{name}}              the value of name ("" when unset or unknown)
 *   {{#name}}...{{/name}} the inside only when name is set and not empty;
 *                         for a list, once per row; sections nest (at
 *                         most TMPL_DEPTH deep)
 *   {{^name}}...{{/name}} the inside only when name is unset, empty or an
 *                         empty list
 * Blanks are allowed inside the braces ("{{ name }}"). A name is letters,
 * digits, '_', '-' and '.'. Any other "{{" is a malformed tag (an error,
 * so a typo is caught by template_check instead of reaching a person).
 * A section tag alone on its line takes the whole line with it, so
 *   {{#name}}
 *   Hola {{name}}
 *   {{/name}}
 * leaves no blank lines behind.
 *
 * Values are inserted once and never scanned again, so a value containing
 * "{{...}}" (a sender's name, a subject) is just text. Rendering is one pass
 * over the template: time and output are linear in the template size plus
 * the values inserted.
 */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "template.h"
#include "text.h"

#define TMPL_FILE_MAX	(64 * 1024)	/* bytes of a template file */
#define TMPL_DEPTH	16		/* nested sections */
#define TMPL_NAME_MAX	64		/* bytes of a variable name */
#define BODY_FIRST_LINE	3		/* Subject line, blank line, body */

/* Append s with & < > " ' escaped for HTML. */
static void
add_html(struct textbuf *b, const char *s)
{
	const char *run = s;

	for (; *s != '\0'; s++) {
		const char *rep;

		switch (*s) {
		case '&': rep = "&amp;"; break;
		case '<': rep = "&lt;"; break;
		case '>': rep = "&gt;"; break;
		case '"': rep = "&quot;"; break;
		case '\'': rep = "&#39;"; break;
		default: continue;
		}
		textbuf_add(b, run, (size_t)(s - run));
		textbuf_adds(b, rep);
		run = s + 1;
	}
	textbuf_add(b, run, (size_t)(s - run));
}

char *
template_html_escape(const char *s)
{
	struct textbuf b = { 0 };

	if (s == NULL)
		return NULL;
	add_html(&b, s);
	return textbuf_take(&b);
}

/* ---- the one walker behind rendering and checking -------------------------- */

/* Where names are looked up while rendering: a list row, then the rows
 * around it, then the top-level values. */
struct scope {
	const struct tvar *vars;
	size_t nvars;
	const struct tlist *lists;
	size_t nlists;
	const struct scope *up;
};

struct walk {
	/* rendering (out != NULL) */
	const struct scope *scope;
	enum template_escape esc;
	struct textbuf *out;
	/* checking (known != NULL): names outside the list are problems */
	const char *const *known;
	size_t nknown;
	/* messages */
	const char *where;	/* "path" or "" */
	int line0;		/* line number of the string's first line */
	struct err *e;
	int problems;		/* unknown names seen (checking) */
	int depth;		/* list sections entered (bounded like the others) */
};

static int
name_char(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	    (c >= '0' && c <= '9') || c == '_' || c == '-' || c == '.';
}

static int
name_is(const char *have, const char *name, size_t n)
{
	return have != NULL && strlen(have) == n && memcmp(have, name, n) == 0;
}

/* The value of a name, or NULL when unset or unknown. */
static const char *
lookup(const struct walk *w, const char *name, size_t n)
{
	for (const struct scope *sc = w->scope; sc != NULL; sc = sc->up)
		for (size_t i = 0; i < sc->nvars; i++)
			if (name_is(sc->vars[i].name, name, n))
				return sc->vars[i].value;
	return NULL;
}

/* The list of a name, or NULL. */
static const struct tlist *
lookup_list(const struct walk *w, const char *name, size_t n)
{
	for (const struct scope *sc = w->scope; sc != NULL; sc = sc->up)
		for (size_t i = 0; i < sc->nlists; i++)
			if (name_is(sc->lists[i].name, name, n))
				return &sc->lists[i];
	return NULL;
}

static int
is_known(const struct walk *w, const char *name, size_t n)
{
	for (size_t i = 0; i < w->nknown; i++)
		if (name_is(w->known[i], name, n))
			return 1;
	return 0;
}

/* "where:line: what {{<kind>name}}" (kind '#', '^', '/' or 0). */
static int
walk_error(struct walk *w, int line, const char *what, char kind, const char *name,
    size_t n)
{
	char tag[TMPL_NAME_MAX + 8] = "";

	if (name != NULL)
		snprintf(tag, sizeof tag, " {{%s%.*s}}", kind == '#' ? "#" : kind == '^' ? "^" :
		    kind == '/' ? "/" : "", (int)(n > TMPL_NAME_MAX ? TMPL_NAME_MAX : n), name);
	if (*w->where != '\0')
		return err_set(w->e, "%s:%d: %s%s", w->where, line, what, tag);
	return err_set(w->e, "line %d: %s%s", line, what, tag);
}

/* Is there a "{{" at p, before end? */
static int
tag_at(const char *p, const char *end)
{
	return end - p >= 2 && p[0] == '{' && p[1] == '{';
}

/*
 * Parse the tag at p ("{{"), not reading at or past end: *kind is 0, '#',
 * '^' or '/', the name in [*name, *name + *nlen), *tend just past "}}". -1
 * if malformed.
 */
static int
parse_tag(const char *p, const char *end, char *kind, const char **name, size_t *nlen,
    const char **tend)
{
	const char *q = p + 2;

	*kind = 0;
	while (q < end && (*q == ' ' || *q == '\t'))
		q++;
	if (q < end && (*q == '#' || *q == '/' || *q == '^'))
		*kind = *q++;
	while (q < end && (*q == ' ' || *q == '\t'))
		q++;
	*name = q;
	while (q < end && name_char(*q))
		q++;
	*nlen = (size_t)(q - *name);
	if (*nlen == 0 || *nlen > TMPL_NAME_MAX)
		return -1;
	while (q < end && (*q == ' ' || *q == '\t'))
		q++;
	if (end - q < 2 || q[0] != '}' || q[1] != '}')
		return -1;
	*tend = q + 2;
	return 0;
}

/* If only blanks follow the tag up to its line end: the position after
 * that line end (or end), else NULL. */
static const char *
rest_of_line_blank(const char *q, const char *end)
{
	while (q < end && (*q == ' ' || *q == '\t'))
		q++;
	if (q == end)
		return q;
	if (*q == '\n')
		return q + 1;
	if (end - q >= 2 && q[0] == '\r' && q[1] == '\n')
		return q + 2;
	return NULL;
}

/* Only blanks between the line start and p? Returns the line start or NULL. */
static const char *
line_start_blank(const char *s, const char *p)
{
	const char *q = p;

	while (q > s && (q[-1] == ' ' || q[-1] == '\t'))
		q--;
	return q == s || q[-1] == '\n' ? q : NULL;
}

/*
 * The end tag of the section whose start tag ends at from: *close at its
 * "{{", *after past it. Tags inside are only counted (errors in them are
 * reported when the inside is walked). -1 if there is none.
 */
static int
find_close(const char *from, const char *end, const char *name, size_t nlen,
    const char **close, const char **after)
{
	int depth = 0;

	for (const char *p = from; p < end; p++) {
		const char *n, *te;
		size_t nl;
		char kind;

		if (!tag_at(p, end) || parse_tag(p, end, &kind, &n, &nl, &te) < 0)
			continue;
		if (kind == '#' || kind == '^')
			depth++;
		else if (kind == '/' && depth > 0)
			depth--;
		else if (kind == '/') {
			if (nl != nlen || memcmp(n, name, nlen) != 0)
				return -1;
			*close = p;
			*after = te;
			return 0;
		}
		p = te - 1;
	}
	return -1;
}

static int walk(struct walk *w, const char *s, const char *end);

static int
count_lines(const char *s, const char *p)
{
	int n = 0;

	for (; s < p; s++)
		n += *s == '\n';
	return n;
}

/*
 * {{#name}} where name is a list: the inside once per row. tend is past
 * the start tag's "}}", alone says the tag is alone on its line (its line
 * is dropped; so is the end tag's when alone). *next: where to go on.
 */
static int
walk_list(struct walk *w, const struct tlist *l, int alone, const char *tend,
    const char *end, const char *name, size_t nlen, int line, const char **next)
{
	const char *inner, *inner_end, *close, *after, *t;
	const struct scope *saved = w->scope;
	int line0 = w->line0, r = 0;

	if (find_close(tend, end, name, nlen, &close, &after) < 0)
		return walk_error(w, line, "unclosed section", '#', name, nlen);
	if (w->depth == TMPL_DEPTH)
		return walk_error(w, line, "sections nested too deep at", '#', name, nlen);
	inner = alone ? rest_of_line_blank(tend, end) : tend;
	inner_end = close;
	if ((t = line_start_blank(inner, close)) != NULL &&
	    rest_of_line_blank(after, end) != NULL) {
		inner_end = t;
		after = rest_of_line_blank(after, end);
	}
	w->depth++;
	w->line0 = line + count_lines(tend, inner);
	for (size_t i = 0; i < l->nrows && r == 0; i++) {
		struct scope sc = { l->rows[i].vars, l->rows[i].n, l->rows[i].lists,
		    l->rows[i].nlists, saved };
		w->scope = &sc;
		r = walk(w, inner, inner_end);
	}
	w->scope = saved;
	w->line0 = line0;
	w->depth--;
	*next = after;
	return r;
}

static int
walk(struct walk *w, const char *s, const char *end)
{
	struct {
		const char *name;
		size_t nlen;
		int was_visible;
		int line;
	} st[TMPL_DEPTH];
	int depth = 0, visible = 1, line = w->line0, blank_so_far = 1;
	size_t mark = w->out ? w->out->len : 0;	/* output length at line start */
	const char *p = s;

	while (p < end) {
		if (tag_at(p, end)) {
			const char *name, *tend, *q;
			size_t nlen;
			char kind;

			if (parse_tag(p, end, &kind, &name, &nlen, &tend) < 0)
				return walk_error(w, line, "malformed tag", 0, NULL, 0);
			if (w->known != NULL && !is_known(w, name, nlen)) {
				if (w->problems++ == 0)
					walk_error(w, line, "unknown variable", 0, name, nlen);
			}
			if (kind == '#' && visible && w->out != NULL) {
				const struct tlist *l = lookup_list(w, name, nlen);
				if (l != NULL) {
					int alone = blank_so_far && rest_of_line_blank(tend, end) != NULL;
					const char *next = end;
					if (alone)
						textbuf_truncate(w->out, mark);
					if (walk_list(w, l, alone, tend, end, name, nlen, line, &next) < 0)
						return -1;
					line += count_lines(p, next);
					p = next;
					blank_so_far = next == s || next[-1] == '\n';
					mark = w->out->len;
					continue;
				}
			}
			if (kind == 0) {
				if (visible && w->out != NULL) {
					const char *v = lookup(w, name, nlen);
					if (v != NULL && w->esc == TEMPLATE_HTML)
						add_html(w->out, v);
					else if (v != NULL)
						textbuf_add(w->out, v, strlen(v));
				}
			} else if (kind == '#' || kind == '^') {
				const char *v = NULL;
				int set = 0;

				if (depth == TMPL_DEPTH)
					return walk_error(w, line, "sections nested too deep at", kind, name, nlen);
				st[depth].name = name;
				st[depth].nlen = nlen;
				st[depth].was_visible = visible;
				st[depth].line = line;
				depth++;
				if (w->out != NULL) {
					const struct tlist *l = lookup_list(w, name, nlen);
					v = lookup(w, name, nlen);
					set = (v != NULL && *v != '\0') || (l != NULL && l->nrows > 0);
				}
				visible = visible && w->out != NULL && (kind == '#' ? set : !set);
			} else {
				if (depth == 0)
					return walk_error(w, line, "section end without a start:", '/', name, nlen);
				depth--;
				if (st[depth].nlen != nlen || memcmp(st[depth].name, name, nlen) != 0) {
					char what[128];
					snprintf(what, sizeof what, "section {{#%.*s}} (line %d) closed by",
					    (int)(st[depth].nlen > 64 ? 64 : st[depth].nlen),
					    st[depth].name, st[depth].line);
					return walk_error(w, line, what, '/', name, nlen);
				}
				visible = st[depth].was_visible;
			}
			/* a section tag alone on its line: drop the line */
			q = rest_of_line_blank(tend, end);
			if (kind != 0 && blank_so_far && q != NULL) {
				if (w->out != NULL)
					textbuf_truncate(w->out, mark);
				if (q > tend && q[-1] == '\n')
					line++;
				p = q;
				continue;
			}
			blank_so_far = 0;
			p = tend;
			continue;
		}
		/* plain text up to the next line end or tag */
		const char *q = p;
		while (q < end && *q != '\n' && !tag_at(q, end)) {
			if (*q != ' ' && *q != '\t' && *q != '\r')
				blank_so_far = 0;
			q++;
		}
		if (q < end && *q == '\n')
			q++;
		if (visible && w->out != NULL)
			textbuf_add(w->out, p, (size_t)(q - p));
		if (q[-1] == '\n') {
			line++;
			blank_so_far = 1;
			mark = w->out ? w->out->len : 0;
		}
		p = q;
	}
	if (depth > 0)
		return walk_error(w, st[depth - 1].line, "unclosed section", '#',
		    st[depth - 1].name, st[depth - 1].nlen);
	return 0;
}

char *
template_render_lists(const char *tmpl, const struct tvar *vars, size_t n,
    const struct tlist *lists, size_t nlists, enum template_escape esc, struct err *e)
{
	struct textbuf out = { 0 };
	struct scope top = { vars, vars ? n : 0, lists, lists ? nlists : 0, NULL };
	struct walk w = { 0 };

	if (tmpl == NULL) {
		err_set(e, "template: no template");
		return NULL;
	}
	w.scope = &top;
	w.esc = esc;
	w.out = &out;
	w.where = "";
	w.line0 = 1;
	w.e = e;
	if (walk(&w, tmpl, tmpl + strlen(tmpl)) < 0) {
		textbuf_free(&out);
		return NULL;
	}
	if (out.oom) {
		textbuf_free(&out);
		err_set(e, "template: out of memory");
		return NULL;
	}
	return textbuf_take(&out);
}

char *
template_render_string(const char *tmpl, const struct tvar *vars, size_t n,
    enum template_escape esc, struct err *e)
{
	return template_render_lists(tmpl, vars, n, NULL, 0, esc, e);
}

int
template_check(const struct template *t, const char *const *known, size_t n,
    struct err *e)
{
	static const char *const none[] = { NULL };
	struct walk w = { 0 };

	if (t == NULL)
		return err_set(e, "template: no template");
	w.known = known ? known : none;
	w.nknown = known ? n : 0;
	w.where = t->path ? t->path : "template";
	w.e = e;
	w.line0 = 1;
	if (t->subject != NULL && walk(&w, t->subject, t->subject + strlen(t->subject)) < 0)
		return -1;
	if (w.problems == 0) {
		w.line0 = BODY_FIRST_LINE;
		if (t->body != NULL && walk(&w, t->body, t->body + strlen(t->body)) < 0)
			return -1;
	} else {
		/* keep the subject's message, but count the body's problems too */
		struct err tmp;
		w.e = &tmp;
		w.line0 = BODY_FIRST_LINE;
		if (t->body != NULL && walk(&w, t->body, t->body + strlen(t->body)) < 0)
			return err_set(e, "%s", tmp.msg);
		w.e = e;
	}
	if (w.problems > 1 && e != NULL) {
		size_t l = strlen(e->msg);
		snprintf(e->msg + l, sizeof e->msg - l, " (and %d more)", w.problems - 1);
	}
	return w.problems ? -1 : 0;
}

/* ---- loading ------------------------------------------------------------- */

void
template_free(struct template *t)
{
	if (t == NULL)
		return;
	free(t->subject);
	free(t->body);
	free(t->path);
	free(t);
}

static int
valid_part(const char *s, size_t max, int allow_dot)
{
	size_t n = 0;

	for (; s[n] != '\0'; n++) {
		char c = s[n];
		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		    (c >= '0' && c <= '9') || c == '_' || c == '-' ||
		    (allow_dot && c == '.')))
			return 0;
	}
	return n > 0 && n <= max;
}

static int
line_of(const char *s, size_t off)
{
	int line = 1;

	for (size_t i = 0; i < off; i++)
		if (s[i] == '\n')
			line++;
	return line;
}

/*
 * Read path (at most TMPL_FILE_MAX bytes) into *data. Returns 0, 1 if the
 * file does not exist, -1 on any other error (e set).
 */
static int
read_file(const char *path, char **data, size_t *len, struct err *e)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	size_t n;

	*data = NULL;
	if (f == NULL) {
		if (errno == ENOENT || errno == ENOTDIR)
			return 1;
		return err_set(e, "%s: %s", path, strerror(errno));
	}
	if ((buf = malloc(TMPL_FILE_MAX + 2)) == NULL) {
		fclose(f);
		return err_set(e, "%s: out of memory", path);
	}
	n = fread(buf, 1, TMPL_FILE_MAX + 1, f);
	if (ferror(f)) {
		err_set(e, "%s: read error", path);
		goto fail;
	}
	if (n > TMPL_FILE_MAX) {
		err_set(e, "%s: larger than %d bytes", path, TMPL_FILE_MAX);
		goto fail;
	}
	fclose(f);
	buf[n] = '\0';
	*data = buf;
	*len = n;
	return 0;
fail:
	fclose(f);
	free(buf);
	return -1;
}

/* Split a file into subject and body; normalises CRLF to LF, drops a BOM. */
static int
parse_file(struct template *t, char *data, size_t n, struct err *e)
{
	size_t w = 0;
	char *p, *nl, *s;

	if (memchr(data, '\0', n) != NULL)
		return err_set(e, "%s: contains a NUL byte", t->path);
	for (size_t i = 0, l; i < n; i += l)
		if ((l = text_utf8_len((const unsigned char *)data + i, n - i)) == 0)
			return err_set(e, "%s:%d: not valid UTF-8", t->path, line_of(data, i));
	if (n >= 3 && memcmp(data, "\xef\xbb\xbf", 3) == 0)
		memmove(data, data + 3, (n -= 3) + 1);
	for (size_t r = 0; r < n; r++)
		if (!(data[r] == '\r' && data[r + 1] == '\n'))
			data[w++] = data[r];
	data[w] = '\0';

	if (strncmp(data, "Subject:", 8) != 0)
		return err_set(e, "%s:1: the first line must be \"Subject: ...\"", t->path);
	s = data + 8;
	nl = strchr(s, '\n');
	if (nl != NULL)
		*nl = '\0';
	while (*s == ' ' || *s == '\t')
		s++;
	for (size_t l = strlen(s); l > 0 && (s[l - 1] == ' ' || s[l - 1] == '\t'); l--)
		s[l - 1] = '\0';
	if (*s == '\0')
		return err_set(e, "%s:1: empty Subject", t->path);
	if ((t->subject = strdup(s)) == NULL)
		return err_set(e, "%s: out of memory", t->path);
	p = nl ? nl + 1 : data + w;
	if (*p != '\0') {
		/* line 2 must be blank */
		while (*p == ' ' || *p == '\t')
			p++;
		if (*p != '\n' && *p != '\0')
			return err_set(e, "%s:2: a blank line must follow the Subject line",
			    t->path);
		if (*p == '\n')
			p++;
	}
	if ((t->body = strdup(p)) == NULL)
		return err_set(e, "%s: out of memory", t->path);
	return 0;
}

struct template *
template_load(const char *dir, const char *lang, const char *name,
    const char *ext, struct err *e)
{
	const char *langs[2];
	struct template *t = NULL;
	char *data = NULL, path[4096];
	size_t len = 0, nl;
	int r = 1;

	if (lang == NULL || *lang == '\0')
		lang = "es";
	if (dir == NULL || name == NULL || ext == NULL) {
		err_set(e, "template: missing directory, name or extension");
		return NULL;
	}
	if (!valid_part(lang, 15, 0) || !valid_part(name, 64, 0) ||
	    (strcmp(ext, "txt") != 0 && strcmp(ext, "html") != 0)) {
		err_set(e, "template: bad name %.20s/%.64s.%.8s", lang, name, ext);
		return NULL;
	}
	langs[0] = lang;
	langs[1] = "es";
	nl = strcmp(lang, "es") == 0 ? 1 : 2;
	for (size_t i = 0; i < nl && r == 1; i++) {
		int n = snprintf(path, sizeof path, "%s/%s/%s.%s", dir, langs[i], name, ext);
		if (n < 0 || (size_t)n >= sizeof path) {
			err_set(e, "template: path too long");
			return NULL;
		}
		if ((r = read_file(path, &data, &len, e)) < 0)
			return NULL;
	}
	if (r == 1) {
		if (nl == 2)
			err_set(e, "template: no %s.%s in %s/%s or %s/es", name, ext, dir,
			    lang, dir);
		else
			err_set(e, "template: no %s.%s in %s/es", name, ext, dir);
		return NULL;
	}
	if ((t = calloc(1, sizeof *t)) == NULL || (t->path = strdup(path)) == NULL) {
		err_set(e, "%s: out of memory", path);
		goto fail;
	}
	if (parse_file(t, data, len, e) < 0)
		goto fail;
	/* syntax (sections, tags), any names */
	{
		struct walk w = { 0 };

		w.where = t->path;
		w.e = e;
		w.line0 = 1;
		if (walk(&w, t->subject, t->subject + strlen(t->subject)) < 0)
			goto fail;
		w.line0 = BODY_FIRST_LINE;
		if (walk(&w, t->body, t->body + strlen(t->body)) < 0)
			goto fail;
	}
	free(data);
	return t;
fail:
	free(data);
	template_free(t);
	return NULL;
}
