#include "buildconf.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "template.h"

#define NV(a) (sizeof(a) / sizeof *(a))

/* ---- a scratch templates directory ----------------------------------------- */

struct fixture {
	char dir[256];
	char files[16][512];
	size_t nfiles;
};

static int
setup(void **state)
{
	struct fixture *fx = calloc(1, sizeof *fx);
	const char *tmp = getenv("TMPDIR");
	char sub[300];

	if (fx == NULL)
		return -1;
	snprintf(fx->dir, sizeof fx->dir, "%s/test_template.XXXXXX",
	    tmp && *tmp && strlen(tmp) < 200 ? tmp : "/tmp");
	if (mkdtemp(fx->dir) == NULL) {
		free(fx);
		return -1;
	}
	snprintf(sub, sizeof sub, "%s/es", fx->dir);
	mkdir(sub, 0700);
	snprintf(sub, sizeof sub, "%s/pt", fx->dir);
	mkdir(sub, 0700);
	*state = fx;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *fx = *state;
	char sub[300];

	for (size_t i = 0; i < fx->nfiles; i++)
		unlink(fx->files[i]);
	snprintf(sub, sizeof sub, "%s/es", fx->dir);
	rmdir(sub);
	snprintf(sub, sizeof sub, "%s/pt", fx->dir);
	rmdir(sub);
	rmdir(fx->dir);
	free(fx);
	return 0;
}

/* Write dir/lang/name with len bytes of data; returns the path. */
static const char *
put_file_n(struct fixture *fx, const char *lang, const char *name, const char *data,
    size_t len)
{
	char tmp[sizeof fx->files[0]], *path;
	FILE *f;

	assert_true(fx->nfiles < NV(fx->files));
	snprintf(tmp, sizeof tmp, "%s/%s/%s", fx->dir, lang, name);
	path = fx->files[fx->nfiles++];
	memcpy(path, tmp, sizeof tmp);
	f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, len, f), len);
	fclose(f);
	return path;
}

static const char *
put_file(struct fixture *fx, const char *lang, const char *name, const char *data)
{
	return put_file_n(fx, lang, name, data, strlen(data));
}

static char *
render(const char *tmpl, const struct tvar *v, size_t n, enum template_escape esc)
{
	struct err e = { "" };
	char *out = template_render_string(tmpl, v, n, esc, &e);

	if (out == NULL)
		fail_msg("render \"%s\": %s", tmpl, e.msg);
	return out;
}

/* ---- rendering ------------------------------------------------------------ */

static void
test_substitution(void **state)
{
	const struct tvar v[] = {
		{ "name", "María" }, { "reference", "MC-2026-000123" }, { "empty", "" },
		{ "unset", NULL },
	};
	char *s;

	(void)state;
	s = render("Hola {{name}}, ref {{ reference }}.{{empty}}{{unset}}{{nope}}!", v,
	    NV(v), TEMPLATE_TEXT);
	assert_string_equal(s, "Hola María, ref MC-2026-000123.!");
	free(s);
	/* text mode: no escaping */
	s = render("{{x}}", (const struct tvar[]){ { "x", "<a & 'b'>" } }, 1, TEMPLATE_TEXT);
	assert_string_equal(s, "<a & 'b'>");
	free(s);
	/* values are not scanned again */
	s = render("[{{x}}]", (const struct tvar[]){ { "x", "{{y}} {{#y}}" } }, 1,
	    TEMPLATE_TEXT);
	assert_string_equal(s, "[{{y}} {{#y}}]");
	free(s);
	/* braces that are no tag: a single one is text */
	s = render("a { b } c }} d", NULL, 0, TEMPLATE_TEXT);
	assert_string_equal(s, "a { b } c }} d");
	free(s);
	s = render("", NULL, 0, TEMPLATE_TEXT);
	assert_string_equal(s, "");
	free(s);
	/* multi-line values go in as they are */
	s = render("Datos:\n{{fields}}\nFin", (const struct tvar[]){
	    { "fields", "Unidad: ambiente\nPeríodo: 2026-07-01" } }, 1, TEMPLATE_TEXT);
	assert_string_equal(s, "Datos:\nUnidad: ambiente\nPeríodo: 2026-07-01\nFin");
	free(s);
}

static void
test_html_escape(void **state)
{
	char *s = template_html_escape("<a href=\"x\">Tom & Jerry's</a>");
	const struct tvar v[] = { { "name", "<script>alert('x')</script> & \"co\"" } };

	(void)state;
	assert_string_equal(s, "&lt;a href=&quot;x&quot;&gt;Tom &amp; Jerry&#39;s&lt;/a&gt;");
	free(s);
	s = template_html_escape("");
	assert_string_equal(s, "");
	free(s);
	s = template_html_escape("ação");
	assert_string_equal(s, "ação");
	free(s);
	assert_null(template_html_escape(NULL));
	/* values escaped, the template's own markup not */
	s = render("<p>Hola <b>{{name}}</b></p>", v, NV(v), TEMPLATE_HTML);
	assert_string_equal(s, "<p>Hola <b>&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; "
	    "&amp; &quot;co&quot;</b></p>");
	free(s);
}

static void
test_sections(void **state)
{
	const struct tvar v[] = {
		{ "name", "Ana" }, { "empty", "" }, { "unset", NULL }, { "kind", "informe" },
	};
	char *s;

	(void)state;
	s = render("Estimado/a{{#name}} {{name}}{{/name}}:", v, NV(v), TEMPLATE_TEXT);
	assert_string_equal(s, "Estimado/a Ana:");
	free(s);
	s = render("Estimado/a{{#empty}} {{name}}{{/empty}}:", v, NV(v), TEMPLATE_TEXT);
	assert_string_equal(s, "Estimado/a:");
	free(s);
	s = render("a{{#unset}}X{{/unset}}b{{#nope}}Y{{/nope}}c", v, NV(v), TEMPLATE_TEXT);
	assert_string_equal(s, "abc");
	free(s);
	/* nested */
	s = render("{{#name}}1{{#kind}}2{{#empty}}3{{/empty}}4{{/kind}}5{{/name}}", v,
	    NV(v), TEMPLATE_TEXT);
	assert_string_equal(s, "1245");
	free(s);
	s = render("{{#empty}}1{{#kind}}2{{/kind}}3{{/empty}}4", v, NV(v), TEMPLATE_TEXT);
	assert_string_equal(s, "4");
	free(s);
	/* a section tag alone on its line takes the line with it */
	s = render("Hola\n{{#name}}\nNombre: {{name}}\n{{/name}}\nChau\n", v, NV(v),
	    TEMPLATE_TEXT);
	assert_string_equal(s, "Hola\nNombre: Ana\nChau\n");
	free(s);
	s = render("Hola\n  {{#empty}}  \nNombre: {{name}}\n  {{/empty}}\nChau", v, NV(v),
	    TEMPLATE_TEXT);
	assert_string_equal(s, "Hola\nChau");
	free(s);
	s = render("Hola\r\n{{#name}}\r\nX\r\n{{/name}}\r\nChau", v, NV(v), TEMPLATE_TEXT);
	assert_string_equal(s, "Hola\r\nX\r\nChau");
	free(s);
	/* not alone: the line stays */
	s = render("x {{#name}}\ny{{/name}} z\n", v, NV(v), TEMPLATE_TEXT);
	assert_string_equal(s, "x \ny z\n");
	free(s);
}

static void
test_inverted(void **state)
{
	const struct tvar v[] = { { "name", "Ana" }, { "empty", "" } };
	const struct tlist none = { "items", NULL, 0 };
	char *s;

	(void)state;
	s = render("{{^name}}sin nombre{{/name}}|{{^empty}}vacío{{/empty}}|{{^nope}}no{{/nope}}",
	    v, NV(v), TEMPLATE_TEXT);
	assert_string_equal(s, "|vacío|no");
	free(s);
	/* an empty list is "unset" for both kinds of section */
	s = template_render_lists("{{#items}}x{{/items}}{{^items}}Nada nuevo.{{/items}}", v,
	    NV(v), &none, 1, TEMPLATE_TEXT, NULL);
	assert_string_equal(s, "Nada nuevo.");
	free(s);
	/* alone on their lines */
	s = render("a\n{{^name}}\nX\n{{/name}}\n{{^empty}}\nY\n{{/empty}}\nb\n", v, NV(v),
	    TEMPLATE_TEXT);
	assert_string_equal(s, "a\nY\nb\n");
	free(s);
}

/* Sections over lists: once per row, row names first, then the enclosing
 * rows, then the top-level values; nested lists; escaping per output. */
static void
test_lists(void **state)
{
	const struct tvar top[] = { { "unit", "Cultura" }, { "title", "top-level title" } };
	const struct tvar r1[] = { { "title", "Festival <de> cine" }, { "city", "Rosario" } };
	const struct tvar r2[] = { { "title", "Bienal" }, { "city", "" } };
	const struct tvar r3[] = { { "title", "Feria & libro" }, { "city", "Montevideo" } };
	const struct trow items1[] = { { r1, 2, NULL, 0 }, { r2, 2, NULL, 0 } };
	const struct trow items2[] = { { r3, 2, NULL, 0 } };
	const struct tlist l1[] = { { "items", items1, 2 } };
	const struct tlist l2[] = { { "items", items2, 1 } };
	const struct tvar k1[] = { { "kind", "Informes" }, { "count", "2" } };
	const struct tvar k2[] = { { "kind", "Buenas prácticas" }, { "count", "1" } };
	const struct trow kinds[] = { { k1, 2, l1, 1 }, { k2, 2, l2, 1 } };
	const struct tlist groups[] = { { "kinds", kinds, 2 } };
	const char *tmpl =
	    "Unidad {{unit}}\n"
	    "{{#kinds}}\n"
	    "{{kind}} ({{count}}):\n"
	    "  {{#items}}\n"
	    "  - {{title}}{{#city}}, {{city}}{{/city}} [{{unit}}]\n"
	    "  {{/items}}\n"
	    "{{/kinds}}\n"
	    "Fin\n";
	char *s;

	(void)state;
	s = template_render_lists(tmpl, top, NV(top), groups, 1, TEMPLATE_TEXT, NULL);
	assert_non_null(s);
	assert_string_equal(s,
	    "Unidad Cultura\n"
	    "Informes (2):\n"
	    "  - Festival <de> cine, Rosario [Cultura]\n"
	    "  - Bienal [Cultura]\n"
	    "Buenas prácticas (1):\n"
	    "  - Feria & libro, Montevideo [Cultura]\n"
	    "Fin\n");
	free(s);
	/* HTML: row values escaped too; inline sections repeat inline */
	s = template_render_lists("<ul>{{#kinds}}{{#items}}<li>{{title}}</li>{{/items}}{{/kinds}}</ul>",
	    top, NV(top), groups, 1, TEMPLATE_HTML, NULL);
	assert_string_equal(s, "<ul><li>Festival &lt;de&gt; cine</li><li>Bienal</li>"
	    "<li>Feria &amp; libro</li></ul>");
	free(s);
	/* outside the list, a row's name is the top-level one */
	s = template_render_lists("{{title}}/{{#items}}{{title}};{{/items}}/{{title}}", top,
	    NV(top), l1, 1, TEMPLATE_TEXT, NULL);
	assert_string_equal(s, "top-level title/Festival <de> cine;Bienal;/top-level title");
	free(s);
	/* a list inside a hidden section is not rendered */
	s = template_render_lists("{{#nope}}{{#items}}x{{/items}}{{/nope}}.", top, NV(top), l1, 1,
	    TEMPLATE_TEXT, NULL);
	assert_string_equal(s, ".");
	free(s);
	/* errors inside a list are reported; an unclosed list section too */
	assert_null(template_render_lists("{{#items}}{{bad tag}}{{/items}}", top, NV(top), l1, 1,
	    TEMPLATE_TEXT, NULL));
	assert_null(template_render_lists("{{#items}}x", top, NV(top), l1, 1, TEMPLATE_TEXT, NULL));
	assert_null(template_render_lists("{{#items}}x{{/other}}", top, NV(top), l1, 1,
	    TEMPLATE_TEXT, NULL));
}

/* Lists nested deeper than TMPL_DEPTH stop with an error, not a crash. */
static void
test_lists_deep(void **state)
{
	struct trow row[40];
	struct tlist lst[40];
	char tmpl[1024] = "";

	(void)state;
	for (int i = 39; i >= 0; i--) {
		row[i] = (struct trow){ NULL, 0, i < 39 ? &lst[i + 1] : NULL, i < 39 };
		lst[i] = (struct tlist){ "a", &row[i], 1 };
	}
	for (int i = 0; i < 30; i++)
		strcat(tmpl, "{{#a}}");
	for (int i = 0; i < 30; i++)
		strcat(tmpl, "{{/a}}");
	assert_null(template_render_lists(tmpl, NULL, 0, lst, 1, TEMPLATE_TEXT, NULL));
}

static void
test_malformed(void **state)
{
	static const struct {
		const char *tmpl, *msg;
	} bad[] = {
		{ "a {{#x}} b", "line 1: unclosed section {{#x}}" },
		{ "a\n{{#x}}\n{{#y}}\n{{/x}}", "line 4: section {{#y}} (line 3) closed by {{/x}}" },
		{ "a\nb {{/x}}", "line 2: section end without a start: {{/x}}" },
		{ "{{}}", "line 1: malformed tag" },
		{ "x\n\n{{na me}}", "line 3: malformed tag" },
		{ "{{name", "line 1: malformed tag" },
		{ "{{na\nme}}", "line 1: malformed tag" },
		{ "{{!name}}x", "line 1: malformed tag" },
		{ "{{^x}}a{{/y}}", "line 1: section {{#x}} (line 1) closed by {{/y}}" },
	};
	char deep[512] = "";

	(void)state;
	for (size_t i = 0; i < NV(bad); i++) {
		struct err e = { "" };
		char *s = template_render_string(bad[i].tmpl, NULL, 0, TEMPLATE_TEXT, &e);
		if (s != NULL)
			fail_msg("rendered \"%s\"", bad[i].tmpl);
		assert_string_equal(e.msg, bad[i].msg);
	}
	for (int i = 0; i < 20; i++)
		strcat(deep, "{{#a}}");
	for (int i = 0; i < 20; i++)
		strcat(deep, "{{/a}}");
	assert_null(template_render_string(deep, NULL, 0, TEMPLATE_TEXT, NULL));
	assert_null(template_render_string(NULL, NULL, 0, TEMPLATE_TEXT, NULL));
}

static void
test_linear(void **state)
{
	/* many tags and sections on one long line, and a big value used often */
	size_t n = 20000;
	char *t = malloc(n * 24 + 1), *p = t, *s, *big = malloc(100001);
	const struct tvar v[] = { { "a", "x" }, { "big", big } };

	(void)state;
	assert_non_null(t);
	assert_non_null(big);
	memset(big, 'b', 100000);
	big[100000] = '\0';
	for (size_t i = 0; i < n; i++)
		p += sprintf(p, "{{#a}}{{a}}{{/a}} ");
	s = render(t, v, NV(v), TEMPLATE_TEXT);
	assert_int_equal(strlen(s), 2 * n);
	free(s);
	strcpy(t, "{{big}}{{big}}{{big}}{{big}}{{big}}");
	s = render(t, v, NV(v), TEMPLATE_HTML);
	assert_int_equal(strlen(s), 500000);
	free(s);
	free(big);
	free(t);
}

/* ---- loading and checking ------------------------------------------------- */

static void
test_load_and_check(void **state)
{
	struct fixture *fx = *state;
	static const char *const known[] = { "name", "subject", "reference" };
	struct template *t;
	struct err e = { "" };
	const char *path;
	char want[700];

	path = put_file(fx, "es", "ack.txt",
	    "Subject: Recibido: {{subject}}\n\nHola{{#name}} {{name}}{{/name}}:\n\n"
	    "Referencia: {{reference}}\nFecha: {{date}}\n");
	t = template_load(fx->dir, "es", "ack", "txt", &e);
	if (t == NULL)
		fail_msg("%s", e.msg);
	assert_string_equal(t->subject, "Recibido: {{subject}}");
	assert_string_equal(t->body, "Hola{{#name}} {{name}}{{/name}}:\n\n"
	    "Referencia: {{reference}}\nFecha: {{date}}\n");
	assert_string_equal(t->path, path);
	/* {{date}} is on line 6 of the file */
	assert_int_equal(template_check(t, known, NV(known), &e), -1);
	snprintf(want, sizeof want, "%s:6: unknown variable {{date}}", path);
	assert_string_equal(e.msg, want);
	/* and with it known, all is well */
	{
		static const char *const all[] = { "name", "subject", "reference", "date" };
		assert_int_equal(template_check(t, all, NV(all), &e), 0);
	}
	/* an unknown name in the subject is on line 1; the count of the rest */
	{
		static const char *const few[] = { "name" };
		assert_int_equal(template_check(t, few, NV(few), &e), -1);
		snprintf(want, sizeof want, "%s:1: unknown variable {{subject}} (and 2 more)",
		    path);
		assert_string_equal(e.msg, want);
	}
	template_free(t);
	template_free(NULL);
}

static void
test_check_hand_made(void **state)
{
	static const char *const known[] = { "a" };
	struct template t = { (char *)"S {{a}}", (char *)"x\n{{#a}}\n{{b}}\n{{/a}}\n", NULL };
	struct err e = { "" };

	(void)state;
	assert_int_equal(template_check(&t, known, NV(known), &e), -1);
	assert_string_equal(e.msg, "template:5: unknown variable {{b}}");
	t.body = (char *)"{{#a}}";
	assert_int_equal(template_check(&t, known, NV(known), &e), -1);
	assert_string_equal(e.msg, "template:3: unclosed section {{#a}}");
	t.body = (char *)"{{a}}";
	assert_int_equal(template_check(&t, known, NV(known), &e), 0);
	assert_int_equal(template_check(&t, NULL, 0, &e), -1);	/* nothing is known */
	assert_int_equal(template_check(NULL, known, 1, &e), -1);
}

static void
test_fallback(void **state)
{
	struct fixture *fx = *state;
	struct template *t;
	struct err e = { "" };
	const char *es, *pt;

	es = put_file(fx, "es", "only-es.txt", "Subject: Hola\n\nCuerpo\n");
	t = template_load(fx->dir, "pt", "only-es", "txt", &e);
	if (t == NULL)
		fail_msg("%s", e.msg);
	assert_string_equal(t->path, es);
	assert_string_equal(t->subject, "Hola");
	template_free(t);
	/* an unknown language falls back too; an empty one means es */
	t = template_load(fx->dir, "en", "only-es", "txt", &e);
	assert_non_null(t);
	assert_string_equal(t->path, es);
	template_free(t);
	t = template_load(fx->dir, "", "only-es", "txt", &e);
	assert_non_null(t);
	template_free(t);
	/* the specific one wins when it exists */
	put_file(fx, "es", "both.txt", "Subject: Hola\n\nCuerpo\n");
	pt = put_file(fx, "pt", "both.txt", "Subject: Olá\n\nCorpo\n");
	t = template_load(fx->dir, "pt", "both", "txt", &e);
	assert_non_null(t);
	assert_string_equal(t->path, pt);
	assert_string_equal(t->subject, "Olá");
	assert_string_equal(t->body, "Corpo\n");
	template_free(t);
	/* html is its own file */
	assert_null(template_load(fx->dir, "pt", "both", "html", &e));
}

static void
test_missing_and_bad_names(void **state)
{
	struct fixture *fx = *state;
	struct err e = { "" };

	assert_null(template_load(fx->dir, "pt", "nowhere", "txt", &e));
	assert_non_null(strstr(e.msg, "nowhere.txt"));
	assert_non_null(strstr(e.msg, "/pt"));
	assert_non_null(strstr(e.msg, "/es"));
	assert_null(template_load(fx->dir, "es", "nowhere", "txt", &e));
	assert_non_null(strstr(e.msg, "nowhere.txt"));
	assert_null(template_load("/nonexistent/dir", "es", "ack", "txt", &e));
	/* no way out of the directory */
	assert_null(template_load(fx->dir, "es", "../es/x", "txt", &e));
	assert_null(template_load(fx->dir, "..", "x", "txt", &e));
	assert_null(template_load(fx->dir, "es/../pt", "x", "txt", &e));
	assert_null(template_load(fx->dir, "es", "x", "sh", &e));
	assert_null(template_load(fx->dir, "es", "", "txt", &e));
	assert_null(template_load(NULL, "es", "x", "txt", &e));
	assert_null(template_load(fx->dir, "es", NULL, "txt", NULL));
}

static void
test_malformed_files(void **state)
{
	struct fixture *fx = *state;
	struct template *t;
	struct err e = { "" };
	const char *path;
	char want[700], *big;

	path = put_file(fx, "es", "nosubject.txt", "Hola\n\nCuerpo\n");
	assert_null(template_load(fx->dir, "es", "nosubject", "txt", &e));
	snprintf(want, sizeof want, "%s:1:", path);
	assert_memory_equal(e.msg, want, strlen(want));

	path = put_file(fx, "es", "noblank.txt", "Subject: Hola\nCuerpo\n");
	assert_null(template_load(fx->dir, "es", "noblank", "txt", &e));
	snprintf(want, sizeof want, "%s:2:", path);
	assert_memory_equal(e.msg, want, strlen(want));

	path = put_file(fx, "es", "unclosed.txt", "Subject: Hola\n\nuno\n{{#name}}\ntres\n");
	assert_null(template_load(fx->dir, "es", "unclosed", "txt", &e));
	snprintf(want, sizeof want, "%s:4: unclosed section {{#name}}", path);
	assert_string_equal(e.msg, want);

	path = put_file(fx, "es", "subjtag.txt", "Subject: Hola {{x\n\nuno\n");
	assert_null(template_load(fx->dir, "es", "subjtag", "txt", &e));
	snprintf(want, sizeof want, "%s:1: malformed tag", path);
	assert_string_equal(e.msg, want);

	path = put_file(fx, "es", "latin1.txt", "Subject: Hola\n\nRegi\xf3n\n");
	assert_null(template_load(fx->dir, "es", "latin1", "txt", &e));
	snprintf(want, sizeof want, "%s:3: not valid UTF-8", path);
	assert_string_equal(e.msg, want);

	put_file_n(fx, "es", "nul.txt", "Subject: Hola\n\na\0b\n", 18);
	assert_null(template_load(fx->dir, "es", "nul", "txt", &e));

	/* bounded: 64 KiB is the most */
	big = malloc(70000);
	assert_non_null(big);
	memset(big, 'x', 70000);
	memcpy(big, "Subject: Big\n\n", 14);
	put_file_n(fx, "es", "big.txt", big, 70000);
	assert_null(template_load(fx->dir, "es", "big", "txt", &e));
	assert_non_null(strstr(e.msg, "larger"));
	put_file_n(fx, "es", "max.txt", big, 64 * 1024);
	t = template_load(fx->dir, "es", "max", "txt", &e);
	assert_non_null(t);
	template_free(t);
	free(big);

	/* CRLF files and a BOM are fine; a file with only a Subject has an empty body */
	put_file(fx, "es", "crlf.txt", "\xef\xbb\xbfSubject:  Hola \r\n\r\nuno\r\ndos\r\n");
	t = template_load(fx->dir, "es", "crlf", "txt", &e);
	if (t == NULL)
		fail_msg("%s", e.msg);
	assert_string_equal(t->subject, "Hola");
	assert_string_equal(t->body, "uno\ndos\n");
	template_free(t);
	put_file(fx, "es", "subjonly.txt", "Subject: Solo");
	t = template_load(fx->dir, "es", "subjonly", "txt", &e);
	assert_non_null(t);
	assert_string_equal(t->body, "");
	template_free(t);
}

/* ---- the shipped templates -------------------------------------------------- */

static void
templates_dir(char *dir, size_t size)
{
	const char *src = getenv("MERCOMAIL_SRCDIR");

	if (src != NULL && *src != '\0') {
		snprintf(dir, size, "%s/templates", src);
	} else {
		/* tests/unit/test_template.c -> templates */
		const char *slash = strrchr(__FILE__, '/');
		int n = slash ? (int)(slash - __FILE__) : 0;
		snprintf(dir, size, "%.*s%s../../templates", n, __FILE__, n ? "/" : "");
	}
}

struct shipped {
	const char *name;
	const char *vars[8];
};

static const struct shipped shipped[] = {
	{ "ack", { "name", "kind_title", "reference", "fields", "subject", "date" } },
	{ "invalid", { "name", "kind_title", "subject", "errors", "example" } },
	{ "unknown-sender", { "address", "subject", "example", "network_address" } },
	{ "not-authorised", { "name", "kind_title", "subject", "reason" } },
	{ "no-form", { "name", "subject", "kinds" } },
	{ "bad-token", { "name", "subject", "reason" } },
	{ "rejected-dkim", { "subject", "address" } },
};

/* Sample values: each distinct, so the test can see each one arrive. */
static const struct tvar samples[] = {
	{ "name", "María Pérez" },
	{ "kind_title", "Informe de actividades" },
	{ "reference", "MC-2026-000123" },
	{ "fields", "Unidad: Ambiente y Desarrollo Sostenible\nPeríodo: 2026-07-01 a 2026-12-31" },
	{ "subject", "[informe] Ambiente - segundo semestre" },
	{ "date", "2026-11-23" },
	{ "errors", "- Falta el campo «Período».\n- «Unidá» no es un campo; ¿quiso decir «Unidad»?" },
	{ "example", "Formulario: informe\nUnidad: ambiente\nPeríodo: 2026-07-01 a 2026-12-31" },
	{ "address", "alguien@ciudad.example" },
	{ "network_address", "secretaria@mercociudades.example" },
	{ "reason", "Su función (contacto) no puede enviar este formulario." },
	{ "kinds", "- informe: Informe de actividades\n- pauta: Pauta de reunión" },
};

static const char *
sample(const char *name)
{
	for (size_t i = 0; i < NV(samples); i++)
		if (strcmp(samples[i].name, name) == 0)
			return samples[i].value;
	return NULL;
}

static size_t
nvars(const struct shipped *s)
{
	size_t n = 0;

	while (n < NV(s->vars) && s->vars[n] != NULL)
		n++;
	return n;
}

static int
uses(const struct template *t, const char *var)
{
	char tag[80], sec[80];

	snprintf(tag, sizeof tag, "{{%s}}", var);
	snprintf(sec, sizeof sec, "{{#%s}}", var);
	return strstr(t->subject, tag) || strstr(t->body, tag) || strstr(t->body, sec);
}

static size_t
longest_line(const char *s)
{
	size_t max = 0, cols = 0;

	for (; *s != '\0'; s++) {
		if (*s == '\n') {
			cols = 0;
		} else if (((unsigned char)*s & 0xc0) != 0x80 && ++cols > max) {
			max = cols;
		}
	}
	return max;
}

static void
test_shipped_templates(void **state)
{
	static const char *const langs[] = { "es", "pt" };
	static const char *const signature[] = {
		"Secretaría Ejecutiva de Mercociudades", "Secretaria Executiva de Mercocidades"
	};
	char dir[600];

	(void)state;
	templates_dir(dir, sizeof dir);
	for (size_t l = 0; l < NV(langs); l++) {
		for (size_t i = 0; i < NV(shipped); i++) {
			const struct shipped *sh = &shipped[i];
			size_t n = nvars(sh);
			struct tvar v[8];
			struct err e = { "" };
			struct template *t;
			char *subj, *body, mine[40];

			t = template_load(dir, langs[l], sh->name, "txt", &e);
			if (t == NULL)
				fail_msg("%s/%s: %s", langs[l], sh->name, e.msg);
			/* each language has its own file, no fallback */
			snprintf(mine, sizeof mine, "/%s/%s.txt", langs[l], sh->name);
			assert_non_null(strstr(t->path, mine));
			if (template_check(t, sh->vars, n, &e) < 0)
				fail_msg("%s", e.msg);
			for (size_t k = 0; k < n; k++) {
				if (!uses(t, sh->vars[k]))
					fail_msg("%s does not use {{%s}}", t->path, sh->vars[k]);
				v[k].name = sh->vars[k];
				v[k].value = sample(sh->vars[k]);
				assert_non_null(v[k].value);
			}
			assert_true(longest_line(t->body) <= 76);

			subj = template_render_string(t->subject, v, n, TEMPLATE_TEXT, &e);
			body = template_render_string(t->body, v, n, TEMPLATE_TEXT, &e);
			assert_non_null(subj);
			assert_non_null(body);
			assert_null(strstr(subj, "{{"));
			assert_null(strstr(body, "{{"));
			assert_non_null(strstr(subj, sample("subject")));
			assert_non_null(strstr(body, signature[l]));
			for (size_t k = 0; k < n; k++)
				if (!strstr(subj, v[k].value) && !strstr(body, v[k].value))
					fail_msg("%s: {{%s}} not rendered", t->path, sh->vars[k]);
			assert_null(strstr(body, "\n\n\n"));	/* sections leave no gaps */
			free(subj);
			free(body);

			/* without a name the greeting still reads well */
			for (size_t k = 0; k < n; k++)
				if (strcmp(v[k].name, "name") == 0)
					v[k].value = "";
			body = template_render_string(t->body, v, n, TEMPLATE_TEXT, &e);
			assert_non_null(body);
			if (uses(t, "name"))
				assert_true(strncmp(body, l == 0 ? "Estimado/a:\n" :
				    "Prezado(a):\n", 12) == 0);
			free(body);
			template_free(t);
		}
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_substitution),
		cmocka_unit_test(test_html_escape),
		cmocka_unit_test(test_sections),
		cmocka_unit_test(test_inverted),
		cmocka_unit_test(test_lists),
		cmocka_unit_test(test_lists_deep),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_linear),
		cmocka_unit_test_setup_teardown(test_load_and_check, setup, teardown),
		cmocka_unit_test(test_check_hand_made),
		cmocka_unit_test_setup_teardown(test_fallback, setup, teardown),
		cmocka_unit_test_setup_teardown(test_missing_and_bad_names, setup, teardown),
		cmocka_unit_test_setup_teardown(test_malformed_files, setup, teardown),
		cmocka_unit_test(test_shipped_templates),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
