#!/usr/bin/env python3
"""Check an activity report (mercomail report activity) against the database.

usage: reportcheck.py DB SINCE UNTIL NOW SILENT_DAYS FORMAT FILE

SINCE, UNTIL (exclusive) and NOW are UTC seconds. The expected figures are
computed here from the tables, with queries and loops of this script's own
(not the report's SQL), then every figure the report shows is compared. One
line per mismatch on stdout and exit 1; "ok N" (figures compared) and exit 0.
"""
import csv
import html.parser
import io
import sqlite3
import sys
import time

DAY = 86400


def ymd(t):
    return time.strftime("%Y-%m-%d", time.gmtime(t)) if t else ""


def pct(acc, inv):
    return "" if inv == 0 else str((acc * 100 + inv // 2) // inv)


def expected(db, since, until, now, silent_days):
    c = sqlite3.connect("file:%s?mode=ro" % db, uri=True)
    subs = c.execute("SELECT kind, city_id, unit_id, created_at FROM submissions").fetchall()
    held = {mid: uid for mid, uid in c.execute(
        "SELECT id, unit_id FROM meetings WHERE status = 'confirmed'"
        " AND start_at >= ? AND start_at < ? AND start_at < ?", (since, until, now))}
    att = [(mid, city, ps) for mid, city, ps in c.execute(
        "SELECT meeting_id, city_id, partstat FROM meeting_attendees") if mid in held]
    members = {}
    for uid, cid in c.execute("SELECT unit_id, city_id FROM unit_members"):
        members.setdefault(uid, set()).add(cid)
    inp = lambda t: since <= t < until
    limit = until - silent_days * DAY
    units, cities = {}, {}
    kinds = sorted({k for k, _, _, t in subs if inp(t)})
    for uid, slug, kind in c.execute("SELECT id, slug, kind FROM units"):
        mine = [s for s in subs if s[2] == uid]
        inf = [t for k, _, _, t in mine if k == "informe" and t < until]
        ours = lambda k: sum(1 for kk, city, u, t in subs if kk == k and inp(t) and
                             (u == uid or (u is None and city in members.get(uid, ()))))
        a = [ps for mid, _, ps in att if held[mid] == uid]
        last = max([t for *_, t in mine if t < until], default=0)
        units[slug] = {
            "scope": "body" if kind != "unit" else "unit",
            "reports": str(sum(1 for t in inf if inp(t))),
            "last_report": ymd(max(inf, default=0)),
            "meetings": str(sum(1 for u in held.values() if u == uid)),
            "invited": str(len(a)),
            "answered": str(sum(1 for p in a if p != "NEEDS-ACTION")),
            "accepted": str(sum(1 for p in a if p == "ACCEPTED")),
            "attendance_pct": pct(sum(1 for p in a if p == "ACCEPTED"), len(a)),
            "best_practices": str(ours("buena-practica")),
            "mdg_indicators": str(ours("odm")),
            "last_submission": ymd(last),
            "silent": "1" if kind == "unit" and (last == 0 or last <= limit) else "0",
        }
    for cid, name, cc in c.execute("SELECT id, name, country FROM cities"):
        mine = [s for s in subs if s[1] == cid]
        a = [ps for _, city, ps in att if city == cid]
        last = max([t for *_, t in mine if t < until], default=0)
        e = {
            "scope": "city",
            "submissions": str(sum(1 for *_, t in mine if inp(t))),
            "invited": str(len(a)),
            "answered": str(sum(1 for p in a if p != "NEEDS-ACTION")),
            "accepted": str(sum(1 for p in a if p == "ACCEPTED")),
            "attendance_pct": pct(sum(1 for p in a if p == "ACCEPTED"), len(a)),
            "last_submission": ymd(last),
            "silent": "1" if last == 0 or last <= limit else "0",
        }
        for k in kinds:
            e["kind:" + k] = str(sum(1 for kk, _, _, t in mine if kk == k and inp(t)))
        cities["%s/%s" % (name, cc)] = e
    return units, cities, kinds


class Problems:
    def __init__(self):
        self.n, self.bad = 0, []

    def eq(self, what, want, got):
        self.n += 1
        if want != got:
            self.bad.append("%s: expected %r, got %r" % (what, want, got))


def check_csv(text, units, cities, kinds, p):
    rows = list(csv.DictReader(io.StringIO(text, newline="")))
    p.eq("csv kind columns", ["kind:" + k for k in kinds],
         [h for h in rows[0].keys() if h.startswith("kind:")] if rows else [])
    seen_u, seen_c = set(), set()
    for r in rows:
        if r["scope"] in ("unit", "body"):
            key, want = r["slug"], units.get(r["slug"])
            seen_u.add(key)
        else:
            key = "%s/%s" % (r["name"], r["country"])
            want = cities.get(key)
            seen_c.add(key)
        if want is None:
            p.eq("csv row " + key, "a row of the database", "unknown")
            continue
        for col, v in want.items():
            p.eq("csv %s %s" % (key, col), v, r[col])
    p.eq("csv units", sorted(units), sorted(seen_u))
    p.eq("csv cities", sorted(cities), sorted(seen_c))


def check_text(text, units, cities, kinds, p):
    lines = text.split("\n")
    i = lines.index(next(l for l in lines if l.startswith("Unidad ")))
    seen = set()
    for l in lines[i + 1:]:
        if not l.strip():
            break
        f = l.split()
        slug, want = f[0], units.get(f[0])
        seen.add(slug)
        if want is None:
            p.eq("text unit " + slug, "known", "unknown")
            continue
        got = dict(zip(["reports", "last_report", "meetings", "invited", "answered",
                        "attendance_pct", "best_practices", "mdg_indicators"], f[1:]))
        got["last_report"] = "" if got["last_report"] == "-" else got["last_report"]
        got["attendance_pct"] = ("" if got["attendance_pct"] == "-"
                                 else got["attendance_pct"].rstrip("%"))
        for col, v in got.items():
            p.eq("text %s %s" % (slug, col), want[col], v)
    p.eq("text units", sorted(units), sorted(seen))
    i = lines.index(next(l for l in lines if l.startswith("Ciudad ")))
    seen = set()
    for l in lines[i + 1:]:
        if not l.strip():
            break
        # the name may hold blanks: the figures are the last fields
        f = l.split()
        n = 3 + len(kinds) + 2
        name, cc, nums = " ".join(f[:len(f) - n + 1]), f[-n + 1], f[-n + 2:]
        key = "%s/%s" % (name, cc)
        seen.add(key)
        want = cities.get(key)
        if want is None:
            p.eq("text city " + key, "known", "unknown")
            continue
        cols = ["submissions"] + ["kind:" + k for k in kinds] + ["invited", "answered"]
        for col, v in zip(cols, nums):
            p.eq("text %s %s" % (key, col), want[col], v)
    p.eq("text cities", sorted(cities), sorted(seen))
    # the silence lists: names only
    i = lines.index(next(l for l in lines if l.startswith("Sin envíos en ")))
    j = lines.index("Ciudades:", i)
    got_u = sorted(l.split()[0] for l in lines[i + 2:j] if "(" not in l.split()[0])
    p.eq("text silent units", sorted(k for k, v in units.items() if v["silent"] == "1"), got_u)
    got_c = sorted(l.strip().rsplit("  ", 1)[0].strip() for l in lines[j + 1:]
                   if l.strip() and not l.strip().startswith("("))
    want_c = sorted("%s (%s)" % tuple(k.rsplit("/", 1)) for k, v in cities.items()
                    if v["silent"] == "1")
    p.eq("text silent cities", want_c, got_c)


class Page(html.parser.HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.rows, self.row, self.col, self.svgs, self.scripts = {}, None, None, 0, 0
        self.silent = []
        self.li = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "tr" and "data-key" in a:
            self.row = self.rows.setdefault(a["data-key"], {"scope": a["data-scope"]})
            self.row["silent"] = "1" if a.get("class") == "silent" else "0"
        elif tag == "td" and self.row is not None:
            self.col = a.get("data-col")
            self.row[self.col] = ""
        elif tag == "svg":
            self.svgs += 1
        elif tag == "script":
            self.scripts += 1
        elif tag == "li" and "data-scope" in a:
            self.li = [a["data-scope"], ""]

    def handle_endtag(self, tag):
        if tag == "td":
            self.col = None
        elif tag == "tr":
            self.row = None
        elif tag == "li" and self.li:
            self.silent.append(tuple(self.li))
            self.li = None

    def handle_data(self, data):
        if self.row is not None and self.col is not None:
            self.row[self.col] += data
        if self.li is not None:
            self.li[1] += data


def check_html(text, units, cities, kinds, p):
    pg = Page()
    pg.feed(text)
    p.eq("html: charts", 3, pg.svgs)
    p.eq("html: no script", 0, pg.scripts)
    for slug, want in units.items():
        got = pg.rows.get(slug, {})
        for col in ("reports", "meetings", "invited", "answered", "best_practices",
                    "mdg_indicators", "silent"):
            p.eq("html %s %s" % (slug, col), want[col], got.get(col))
        p.eq("html %s last_report" % slug, want["last_report"] or "-", got.get("last_report"))
        p.eq("html %s attendance" % slug,
             want["attendance_pct"] + "%" if want["attendance_pct"] else "-",
             got.get("attendance"))
    for key, want in cities.items():
        got = pg.rows.get(key, {})
        for col in ["submissions", "invited", "answered", "silent"] + ["kind:" + k for k in kinds]:
            p.eq("html %s %s" % (key, col), want[col], got.get(col))
    n_silent = sum(v["silent"] == "1" for v in units.values()) + \
        sum(v["silent"] == "1" for v in cities.values())
    p.eq("html silent list items", n_silent, len(pg.silent))


def main():
    db, since, until, now, days, fmt, path = sys.argv[1:8]
    units, cities, kinds = expected(db, int(since), int(until), int(now), int(days))
    text = open(path, encoding="utf-8", newline="").read()
    p = Problems()
    {"csv": check_csv, "text": check_text, "html": check_html}[fmt](text, units, cities, kinds, p)
    for b in p.bad:
        print(b)
    if p.bad:
        return 1
    print("ok %d" % p.n)
    return 0


if __name__ == "__main__":
    sys.exit(main())
