#!/usr/bin/python3
"""Check what mercomail sent with an iCalendar parser nobody here wrote.

    icalcheck.py FILE.ics|MAIL.eml [--expect KEY=VALUE ...] [--expect KEY~=TEXT]
                 [--part N] [--quiet]

Reads an .ics file, or a mail (anything that does not start with
BEGIN:VCALENDAR) in which it finds the text/calendar part (the first, or the
Nth with --part), parses it with python3-icalendar (Debian's package) and
prints a flat, stable summary, one KEY=VALUE a line, for example:

    PART.METHOD=REQUEST              (the method= of the Content-Type, mails only)
    PART.LAST_IN_ALTERNATIVE=yes     (the part is the last of its multipart/alternative)
    LINES.CRLF=yes  LINES.MAX_OCTETS=75
    METHOD=REQUEST  PRODID=...  X-WR-CALNAME=...
    VTIMEZONE.COUNT=1
    VTIMEZONE[America/Montevideo].STANDARD=1 .DAYLIGHT=0 .RDATE=0 .RRULE=0
    VEVENT.COUNT=1
    VEVENT[1].UID=...  .SEQUENCE=0  .STATUS=CONFIRMED  .SUMMARY=...
    VEVENT[1].DTSTART=2026-12-01T10:00:00  .DTSTART.TZID=America/Montevideo
    VEVENT[1].DTSTART.UTC=2026-12-01T13:00:00Z   (from the zone database, by name)
    VEVENT[1].ORGANIZER=secretaria@red.test  .ORGANIZER.SENT-BY=coord@red.test
    VEVENT[1].ATTENDEE.COUNT=3
    VEVENT[1].ATTENDEE[ana@montevideo.test].PARTSTAT=NEEDS-ACTION (.RSVP .ROLE .CN .CUTYPE)
    VEVENT[1].VALARM.COUNT=1  .VALARM[1].TRIGGER.MINUTES=-1440

Addresses are printed without "mailto:", in lower case; newlines inside
values as \\n. In --expect, a key without "VEVENT[" is looked up as is and
then as VEVENT[1].KEY, so `--expect UID=x` checks the first event; KEY=VALUE
must match exactly, KEY~=TEXT must contain TEXT.

Exit status: 0 all expectations hold, 1 one does not or the calendar does
not parse (message on stderr), 2 usage.
"""

import argparse
import datetime
import email
import email.policy
import os
import sys

try:
    import icalendar
except ImportError:
    # Another python3 earlier in PATH (pyenv, a venv) lacks Debian's package.
    if os.path.exists("/usr/bin/python3") and sys.executable != "/usr/bin/python3" \
            and not os.environ.get("ICALCHECK_REEXEC"):
        os.environ["ICALCHECK_REEXEC"] = "1"
        os.execv("/usr/bin/python3", ["/usr/bin/python3"] + sys.argv)
    sys.stderr.write("icalcheck: python3-icalendar is missing (apt-get install python3-icalendar)\n")
    sys.exit(1)


class CheckError(Exception):
    pass


def flat(v):
    """A value on one line."""
    s = str(v)
    return s.replace("\r", "\\r").replace("\n", "\\n")


def addr(v):
    s = str(v).strip()
    if s.lower().startswith("mailto:"):
        s = s[7:]
    return s.lower()


def dt_text(d):
    if isinstance(d, datetime.datetime):
        return d.replace(tzinfo=None).isoformat()
    return d.isoformat()


def dt_utc(d):
    if isinstance(d, datetime.datetime) and d.tzinfo is not None:
        u = d.astimezone(datetime.timezone.utc)
        return u.replace(tzinfo=None).isoformat() + "Z"
    return None


def minutes(td):
    if isinstance(td, datetime.timedelta):
        return str(int(td.total_seconds() // 60))
    return None


# --- finding the calendar --------------------------------------------------

def calendar_from_mail(raw, want):
    msg = email.message_from_bytes(raw, policy=email.policy.compat32)
    parts = []

    def walk(m, parent):
        if m.is_multipart():
            for sub in m.get_payload():
                walk(sub, m)
        elif m.get_content_type() == "text/calendar":
            parts.append((m, parent))

    walk(msg, None)
    if not parts:
        raise CheckError("no text/calendar part in the mail")
    if want < 1 or want > len(parts):
        raise CheckError("no text/calendar part number %d (%d found)" % (want, len(parts)))
    part, parent = parts[want - 1]
    data = part.get_payload(decode=True)
    if data is None:
        raise CheckError("the text/calendar part has no body")
    info = [
        ("PART.COUNT", str(len(parts))),
        ("PART.METHOD", (part.get_param("method") or "").upper()),
        ("PART.CHARSET", (part.get_param("charset") or "").lower()),
        ("PART.TRANSFER-ENCODING", (part.get("Content-Transfer-Encoding") or "7bit").lower()),
        ("PART.DISPOSITION", (part.get_content_disposition() or "")),
    ]
    if parent is not None and parent.get_content_type() == "multipart/alternative":
        last = parent.get_payload()[-1] is part
        info.append(("PART.LAST_IN_ALTERNATIVE", "yes" if last else "no"))
    return data, info


def line_info(data):
    lines = data.split(b"\r\n")
    crlf = b"\n" not in data.replace(b"\r\n", b"") and b"\r" not in data.replace(b"\r\n", b"")
    if lines and lines[-1] == b"":
        lines = lines[:-1]
    else:
        crlf = False
    return [("LINES.CRLF", "yes" if crlf else "no"),
            ("LINES.MAX_OCTETS", str(max((len(l) for l in lines), default=0)))]


# --- the summary -----------------------------------------------------------

def params(prop, prefix, out, names):
    for n in names:
        if hasattr(prop, "params") and n in prop.params:
            v = prop.params[n]
            out.append((prefix + "." + n, addr(v) if n in ("SENT-BY", "DELEGATED-TO") else flat(v)))


def summarize(cal):
    out = []
    for key in ("METHOD", "PRODID", "VERSION", "CALSCALE", "X-WR-CALNAME", "NAME",
                "REFRESH-INTERVAL", "X-PUBLISHED-TTL"):
        if key in cal:
            v = cal[key]
            if key == "REFRESH-INTERVAL":
                out.append(("REFRESH-INTERVAL.VALUE", flat(v.params.get("VALUE", ""))))
                v = v.to_ical().decode() if hasattr(v, "to_ical") else v
            out.append((key, flat(v)))

    zones = [c for c in cal.subcomponents if c.name == "VTIMEZONE"]
    out.append(("VTIMEZONE.COUNT", str(len(zones))))
    for z in zones:
        tzid = flat(z.get("TZID", "?"))
        subs = z.subcomponents
        p = "VTIMEZONE[%s]" % tzid
        out.append((p + ".STANDARD", str(sum(1 for s in subs if s.name == "STANDARD"))))
        out.append((p + ".DAYLIGHT", str(sum(1 for s in subs if s.name == "DAYLIGHT"))))
        out.append((p + ".RRULE", str(sum(1 for s in subs if "RRULE" in s))))
        rdates = 0
        for s in subs:
            v = s.get("RDATE")
            if v is not None:
                rdates += len(v) if isinstance(v, list) else 1
        out.append((p + ".RDATE", str(rdates)))

    events = [c for c in cal.subcomponents if c.name == "VEVENT"]
    out.append(("VEVENT.COUNT", str(len(events))))
    for i, ev in enumerate(events, 1):
        p = "VEVENT[%d]" % i
        for key in ("UID", "SEQUENCE", "STATUS", "TRANSP", "SUMMARY", "LOCATION",
                    "DESCRIPTION", "URL"):
            if key in ev:
                out.append((p + "." + key, flat(ev[key])))
        for key in ("DTSTART", "DTEND", "DTSTAMP"):
            if key in ev:
                prop = ev[key]
                out.append((p + "." + key, dt_text(prop.dt)))
                tzid = prop.params.get("TZID") if hasattr(prop, "params") else None
                if tzid:
                    out.append((p + "." + key + ".TZID", flat(tzid)))
                u = dt_utc(prop.dt)
                if u:
                    out.append((p + "." + key + ".UTC", u))
        if "ORGANIZER" in ev:
            org = ev["ORGANIZER"]
            out.append((p + ".ORGANIZER", addr(org)))
            params(org, p + ".ORGANIZER", out, ("CN", "SENT-BY"))
        atts = ev.get("ATTENDEE", [])
        if not isinstance(atts, list):
            atts = [atts]
        out.append((p + ".ATTENDEE.COUNT", str(len(atts))))
        for a in atts:
            params(a, "%s.ATTENDEE[%s]" % (p, addr(a)), out,
                   ("PARTSTAT", "RSVP", "ROLE", "CUTYPE", "CN", "DELEGATED-TO"))
        alarms = [c for c in ev.subcomponents if c.name == "VALARM"]
        out.append((p + ".VALARM.COUNT", str(len(alarms))))
        for j, al in enumerate(alarms, 1):
            q = "%s.VALARM[%d]" % (p, j)
            if "ACTION" in al:
                out.append((q + ".ACTION", flat(al["ACTION"])))
            if "TRIGGER" in al:
                m = minutes(al["TRIGGER"].dt)
                if m is not None:
                    out.append((q + ".TRIGGER.MINUTES", m))
                out.append((q + ".TRIGGER", al["TRIGGER"].to_ical().decode()))
    return out


def check(summary, expects):
    have = {}
    for k, v in summary:
        have.setdefault(k, v)
    bad = 0
    for e in expects:
        contains = False
        if "~=" in e and ("=" not in e or e.index("~=") < e.index("=")):
            key, want = e.split("~=", 1)
            contains = True
        elif "=" in e:
            key, want = e.split("=", 1)
        else:
            sys.stderr.write("icalcheck: --expect %r is not KEY=VALUE\n" % e)
            sys.exit(2)
        got = have.get(key)
        if got is None and not key.startswith("VEVENT["):
            got = have.get("VEVENT[1]." + key)
        ok = got is not None and ((want in got) if contains else (got == want))
        if not ok:
            sys.stderr.write("icalcheck: expected %s %s %r, got %r\n"
                             % (key, "to contain" if contains else "=", want, got))
            bad += 1
    return bad


def main():
    ap = argparse.ArgumentParser(description="Summarize and check an iCalendar object or a mail carrying one.")
    ap.add_argument("file")
    ap.add_argument("--expect", action="append", default=[], metavar="KEY=VALUE")
    ap.add_argument("--part", type=int, default=1, help="the Nth text/calendar part of a mail")
    ap.add_argument("--quiet", action="store_true", help="print nothing but failures")
    args = ap.parse_args()

    try:
        with open(args.file, "rb") as f:
            raw = f.read()
        info = []
        data = raw
        if not raw.lstrip().upper().startswith(b"BEGIN:VCALENDAR"):
            data, info = calendar_from_mail(raw, args.part)
        info += line_info(data)
        try:
            cal = icalendar.Calendar.from_ical(data)
        except Exception as exc:  # any parse failure is a failed check
            raise CheckError("python3-icalendar cannot parse it: %s" % exc)
        if cal.name != "VCALENDAR":
            raise CheckError("not a VCALENDAR but %s" % cal.name)
        summary = info + summarize(cal)
    except (OSError, CheckError) as exc:
        sys.stderr.write("icalcheck: %s: %s\n" % (args.file, exc))
        return 1

    if not args.quiet:
        for k, v in summary:
            print("%s=%s" % (k, v))
    return 1 if check(summary, args.expect) else 0


if __name__ == "__main__":
    sys.exit(main())
