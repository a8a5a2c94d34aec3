#!/bin/bash
# No SQL is built with printf-style formatting: every value reaches SQLite as
# a bound parameter (sqlite3_bind_*), never as text pasted into a statement.
#
# Scans daemon/*.c (or the files given as arguments) and fails on:
#   1. any sqlite3 printf function (sqlite3_mprintf, sqlite3_vmprintf,
#      sqlite3_snprintf, sqlite3_vsnprintf, sqlite3_str_appendf,
#      sqlite3_str_vappendf): they exist to build SQL text;
#   2. a call of a printf-style function (sprintf, snprintf, vsnprintf,
#      asprintf, vasprintf, anything named *_printf or *_appendf, fprintf
#      into a memory stream alike) whose format string, or the macro used as
#      the format, looks like SQL: an upper-case statement keyword (SELECT,
#      INSERT, UPDATE, DELETE, REPLACE, WHERE, VALUES, PRAGMA, CREATE, DROP,
#      ALTER, ATTACH, ORDER BY, GROUP BY, LIMIT, JOIN) or a lower-case
#      statement shape ("select ... from", "insert into", "delete from",
#      "update x set", "where x =");
#   3. such a call whose destination is named like SQL (*sql*, *query*).
# The call is read whole, across lines, up to its closing parenthesis;
# comments are dropped first.
#
# The allow-list below takes "file:text" entries (text: a part of the line the
# call starts on) for formatting that builds SQL from constants only, each
# with the reason; nothing from mail, the roster, the CLI or the config may
# reach such a format.
set -u
here=$(cd "$(dirname "$0")" && pwd)
src=${MERCOMAIL_SRCDIR:-$(cd "$here/.." && pwd)}
if [ $# -eq 0 ]; then
	set -- "$src"/daemon/*.c
fi
ALLOW=(
	# PRAGMA takes no bound parameters; the value is the version number of a
	# migration compiled into the binary (schema/NNNN_*.sql), an int.
	'daemon/store.c:snprintf(sql, sizeof sql, "PRAGMA user_version = %d", m->version);'
	# The %s is the WHERE condition, one of two string literals in sender.c
	# ("c.address = ?", "c.id = ?"); the looked-up value is bound to ?1.
	'daemon/sender.c:snprintf(sql, sizeof sql, "SELECT c.id, c.address, coalesce(c.name, '"''"'), c.lang,"'
)
SRCDIR=$src python3 - "${ALLOW[@]+"${ALLOW[@]}"}" -- "$@" <<'PY'
import os, re, sys

args = sys.argv[1:]
sep = args.index("--")
allow, files = args[:sep], args[sep + 1:]

SQLITE_PRINTF = re.compile(r"\bsqlite3_(v?mprintf|v?snprintf|str_v?appendf)\s*\(")
PRINTF = re.compile(r"\b([A-Za-z_][A-Za-z0-9_]*)\s*\(")
PRINTF_NAMES = re.compile(r"^(v?s(n)?printf|v?asprintf|v?fprintf|[A-Za-z0-9_]*_v?printf|[A-Za-z0-9_]*_v?appendf)$")
UPPER = re.compile(r"\b(SELECT|INSERT|UPDATE|DELETE|REPLACE\s+INTO|WHERE|VALUES|PRAGMA|CREATE|DROP|ALTER|ATTACH|ORDER\s+BY|GROUP\s+BY|LIMIT|JOIN)\b")
LOWER = re.compile(r"\bselect\b.*\bfrom\b|\binsert\s+into\b|\bdelete\s+from\b|\bupdate\s+\w+\s+set\b|\bwhere\s+\w+\s*(=|<|>|\blike\b|\bin\s*\()", re.S)
DEST = re.compile(r"sql|query", re.I)
STRING = re.compile(r'"(?:[^"\\\n]|\\.)*"')

def strip_comments(text):
    # keep string literals, drop /* */ and // comments, keep line numbers
    out, i, n = [], 0, len(text)
    while i < n:
        c = text[i]
        if c == '"' or c == "'":
            j = i + 1
            while j < n and text[j] != c:
                j += 2 if text[j] == "\\" else 1
            out.append(text[i:j + 1]); i = j + 1
        elif text.startswith("/*", i):
            j = text.find("*/", i + 2); j = n if j < 0 else j + 2
            out.append("\n" * text.count("\n", i, j)); i = j
        elif text.startswith("//", i):
            j = text.find("\n", i); j = n if j < 0 else j
            i = j
        else:
            out.append(c); i += 1
    return "".join(out)

def call_text(text, start):
    # from the opening parenthesis at start to its match
    depth, i, n = 0, start, len(text)
    while i < n:
        c = text[i]
        if c == '"' or c == "'":
            j = i + 1
            while j < n and text[j] != c:
                j += 2 if text[j] == "\\" else 1
            i = j + 1
            continue
        if c == "(":
            depth += 1
        elif c == ")":
            depth -= 1
            if depth == 0:
                return text[start:i + 1]
        i += 1
    return text[start:]

def looks_like_sql(s):
    return UPPER.search(s) or LOWER.search(s)

bad = 0
for path in files:
    rel = os.path.relpath(os.path.abspath(path), os.environ["SRCDIR"])
    text = strip_comments(open(path, encoding="utf-8", errors="replace").read())
    macros = {}
    for m in re.finditer(r"^[ \t]*#[ \t]*define[ \t]+([A-Za-z_]\w*)(?!\()[ \t]*((?:.*\\\n)*.*)$", text, re.M):
        macros[m.group(1)] = m.group(2)
    lines = text.split("\n")
    for m in PRINTF.finditer(text):
        name = m.group(1)
        sqlite = SQLITE_PRINTF.match(text, m.start())
        if not sqlite and not PRINTF_NAMES.match(name):
            continue
        if name in ("printf", "vprintf"):
            continue
        call = call_text(text, m.end() - 1)
        if name in ("fprintf", "vfprintf") and re.match(r"\(\s*(stderr|stdout)\s*,", call):
            continue    # a message to the terminal, not a statement
        lineno = text.count("\n", 0, m.start()) + 1
        src_line = lines[lineno - 1].strip()
        # the format may be a macro: look at its text too
        fmt = " ".join(STRING.findall(call))
        for ident in re.findall(r"\b[A-Z_][A-Z0-9_]*\b", call):
            if ident in macros:
                fmt += " " + " ".join(STRING.findall(macros[ident]))
        dest = call[1:].split(",", 1)[0]
        why = None
        if sqlite:
            why = "%s builds SQL text" % name
        elif looks_like_sql(fmt):
            why = "format string of %s looks like SQL" % name
        elif DEST.search(dest) and name not in ("fprintf", "vfprintf"):
            why = "%s writes into '%s'" % (name, dest.strip())
        if why is None:
            continue
        if any(rel.endswith(a.split(":", 1)[0]) and a.split(":", 1)[1] in src_line
               for a in allow if ":" in a):
            continue
        print("%s:%d: %s: %s" % (rel, lineno, why, src_line))
        bad += 1

if bad:
    print("lint-sql: %d place(s) build SQL with printf-style formatting;"
          " bind the values with sqlite3_bind_* instead" % bad)
    sys.exit(1)
print("lint-sql: %d files, no SQL built with printf-style formatting" % len(files))
PY
