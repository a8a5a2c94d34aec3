#!/usr/bin/env python3
"""Drive the harness's IMAP and SMTP servers from shell tests.

Standard library only, so it runs wherever the harness runs.  Connection
settings default to what harness.sh exports (IMAP_PORT, SMTP_PORT,
HARNESS_USER, HARNESS_PASSWORD_FILE, HARNESS_CA), so a test usually just says
`mailtool count INBOX`.

Exit status: 0 ok, 1 error (message on stderr), 2 usage, 3 the server's TLS
certificate failed verification (kept apart so TLS tests can tell a rejected
certificate from any other failure).
"""

import argparse
import email.header
import email.parser
import email.policy
import email.utils
import imaplib
import os
import re
import smtplib
import ssl
import sys
import time
import uuid

EXIT_ERROR = 1
EXIT_CERT = 3


class ToolError(Exception):
    """A failure worth a one-line message, not a traceback."""


# --- folder names ---------------------------------------------------------
# IMAP folder names travel in modified UTF-7 (RFC 3501 5.1.3); tests may use
# Spanish names such as "Confirmación", so encode rather than hope.

def _b64_utf7(chunk):
    import base64
    raw = chunk.encode("utf-16-be")
    return base64.b64encode(raw).decode("ascii").rstrip("=").replace("/", ",")


def encode_folder(name):
    out, pending = [], ""
    for ch in name:
        if 0x20 <= ord(ch) <= 0x7E:
            if pending:
                out.append("&" + _b64_utf7(pending) + "-")
                pending = ""
            out.append("&-" if ch == "&" else ch)
        else:
            pending += ch
    if pending:
        out.append("&" + _b64_utf7(pending) + "-")
    return "".join(out)


def decode_folder(name):
    import base64

    def repl(m):
        body = m.group(1)
        if not body:
            return "&"
        body = body.replace(",", "/")
        body += "=" * (-len(body) % 4)
        return base64.b64decode(body).decode("utf-16-be")

    return re.sub(r"&([^-]*)-", repl, name)


def quote(name):
    """Quote a folder name as an IMAP quoted string."""
    enc = encode_folder(name)
    return '"' + enc.replace("\\", "\\\\").replace('"', '\\"') + '"'


# --- connections -----------------------------------------------------------

def tls_context(args):
    ctx = ssl.create_default_context(cafile=args.cafile or None)
    if args.insecure:
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
    return ctx


def password(args):
    if args.password is not None:
        return args.password
    if os.environ.get("HARNESS_PASSWORD"):
        return os.environ["HARNESS_PASSWORD"]
    path = args.password_file or os.environ.get("HARNESS_PASSWORD_FILE")
    if not path:
        raise ToolError("no password: give --password or set HARNESS_PASSWORD_FILE")
    with open(path, encoding="utf-8") as f:
        return f.read().rstrip("\r\n")


def imap_connect(args):
    port = args.port or int(env_required("IMAP_PORT"))
    user = args.user or env_required("HARNESS_USER")
    if args.tls == "imaps":
        conn = imaplib.IMAP4_SSL(args.host, port, ssl_context=tls_context(args),
                                 timeout=args.io_timeout)
    else:
        conn = imaplib.IMAP4(args.host, port, timeout=args.io_timeout)
        if args.tls == "starttls":
            conn.starttls(ssl_context=tls_context(args))
    conn.login(user, password(args))
    return conn


def env_required(name):
    value = os.environ.get(name)
    if not value:
        raise ToolError(f"{name} is not set (source harness.sh or pass an option)")
    return value


def check(resp, what):
    typ, data = resp
    if typ != "OK":
        detail = b" ".join(d for d in data if isinstance(d, bytes)).decode(errors="replace")
        raise ToolError(f"{what}: {typ} {detail}")
    return data


def folder_exists(conn, folder):
    typ, data = conn.list('""', quote(folder))
    return typ == "OK" and any(d for d in data if d)


def ensure_folder(conn, folder):
    if folder.upper() == "INBOX" or folder_exists(conn, folder):
        return
    check(conn.create(quote(folder)), f"CREATE {folder}")


def message_count(conn, folder):
    if folder.upper() != "INBOX" and not folder_exists(conn, folder):
        return 0
    data = check(conn.status(quote(folder), "(MESSAGES)"), f"STATUS {folder}")
    m = re.search(rb"MESSAGES (\d+)", data[0])
    if not m:
        raise ToolError(f"STATUS {folder}: unexpected answer {data!r}")
    return int(m.group(1))


def to_crlf(raw):
    # APPEND wants CRLF line ends; files written by shell tests have bare LF.
    return re.sub(rb"\r?\n", b"\r\n", raw)


def read_input(path):
    if path == "-":
        return sys.stdin.buffer.read()
    with open(path, "rb") as f:
        return f.read()


def append(conn, folder, raw):
    data = check(conn.append(quote(folder), None, None, to_crlf(raw)),
                 f"APPEND {folder}")
    m = re.search(rb"APPENDUID \d+ (\d+)", data[0] or b"")
    return m.group(1).decode() if m else "?"


# --- subcommands -------------------------------------------------------------

def cmd_append(args):
    conn = imap_connect(args)
    ensure_folder(conn, args.folder)
    for path in args.files:
        print(append(conn, args.folder, read_input(path)))
    conn.logout()


def generated_mail(args, i, run):
    msgid = f"<{args.prefix}-{i}-{run}@mailtool.test>"
    head = (
        f"From: {args.sender}\r\n"
        f"To: {args.to}\r\n"
        f"Subject: {args.prefix} {i}\r\n"
        f"Date: {email.utils.formatdate(localtime=False)}\r\n"
        f"Message-ID: {msgid}\r\n"
        "MIME-Version: 1.0\r\n"
        "Content-Type: text/plain; charset=us-ascii\r\n"
        "\r\n"
    )
    body = f"Generated message {i} of run {run}.\r\n"
    if args.size and args.size > len(head) + len(body):
        # Fill with 76-column lines so the message stays valid RFC 5322.
        missing = args.size - len(head) - len(body)
        line = ("x" * 74) + "\r\n"
        body += line * (missing // len(line)) + "y" * (missing % len(line))
        body += "\r\n"
    return (head + body).encode("ascii")


def cmd_gen(args):
    conn = imap_connect(args)
    ensure_folder(conn, args.folder)
    run = uuid.uuid4().hex[:12]
    for i in range(1, args.n + 1):
        append(conn, args.folder, generated_mail(args, i, run))
    conn.logout()
    print(args.n)


def cmd_count(args):
    conn = imap_connect(args)
    print(message_count(conn, args.folder))
    conn.logout()


def header_text(value):
    if value is None:
        return ""
    text = str(email.header.make_header(email.header.decode_header(value)))
    return " ".join(text.split())


def cmd_list(args):
    conn = imap_connect(args)
    if args.folder.upper() != "INBOX" and not folder_exists(conn, args.folder):
        raise ToolError(f"no folder {args.folder}")
    check(conn.select(quote(args.folder), readonly=True), f"EXAMINE {args.folder}")
    typ, data = conn.uid("FETCH", "1:*",
                         "(UID BODY.PEEK[HEADER.FIELDS (MESSAGE-ID SUBJECT)])")
    check((typ, data), "FETCH")
    parser = email.parser.BytesHeaderParser(policy=email.policy.compat32)
    rows = []
    for item in data:
        if not isinstance(item, tuple):
            continue
        m = re.search(rb"UID (\d+)", item[0])
        hdr = parser.parsebytes(item[1])
        rows.append((int(m.group(1)), header_text(hdr["Message-ID"]),
                     header_text(hdr["Subject"])))
    for uid, msgid, subject in sorted(rows):
        print(f"{uid}\t{msgid}\t{subject}")
    conn.logout()


def cmd_fetch(args):
    conn = imap_connect(args)
    check(conn.select(quote(args.folder), readonly=True), f"EXAMINE {args.folder}")
    data = check(conn.uid("FETCH", str(args.uid), "(BODY.PEEK[])"), "FETCH")
    parts = [d for d in data if isinstance(d, tuple)]
    if not parts:
        raise ToolError(f"no message with UID {args.uid} in {args.folder}")
    sys.stdout.buffer.write(parts[0][1])
    sys.stdout.flush()
    conn.logout()


def cmd_fetch_all(args):
    conn = imap_connect(args)
    check(conn.select(quote(args.folder), readonly=True), f"EXAMINE {args.folder}")
    data = check(conn.uid("FETCH", "1:*", "(UID BODY.PEEK[])"), "FETCH")
    os.makedirs(args.dir, exist_ok=True)
    n = 0
    for item in data:
        if not isinstance(item, tuple):
            continue
        uid = re.search(rb"UID (\d+)", item[0]).group(1).decode()
        with open(os.path.join(args.dir, f"{int(uid):08d}.eml"), "wb") as f:
            f.write(item[1])
        n += 1
    print(n)
    conn.logout()


def cmd_create_folder(args):
    conn = imap_connect(args)
    ensure_folder(conn, args.folder)
    conn.logout()


def cmd_delete_folder(args):
    conn = imap_connect(args)
    check(conn.delete(quote(args.folder)), f"DELETE {args.folder}")
    conn.logout()


def cmd_folders(args):
    conn = imap_connect(args)
    data = check(conn.list(), "LIST")
    names = []
    for line in data:
        if not line:
            continue
        # (flags) "sep" name  -- the name may be quoted or an atom.
        m = re.match(rb'\([^)]*\) (?:"(?:[^"\\]|\\.)*"|NIL) (.*)$', line)
        if not m:
            raise ToolError(f"LIST: cannot parse {line!r}")
        name = m.group(1).decode()
        if name.startswith('"'):
            name = re.sub(r'\\(.)', r'\1', name[1:-1])
        names.append(decode_folder(name))
    for name in sorted(names):
        print(name)
    conn.logout()


def cmd_capability(args):
    conn = imap_connect(args)
    data = check(conn.capability(), "CAPABILITY")
    for cap in sorted(data[0].decode().split()):
        print(cap)
    conn.logout()


def cmd_send(args):
    port = args.port or int(env_required("SMTP_PORT"))
    with smtplib.SMTP(args.host, port, timeout=args.io_timeout) as smtp:
        if args.tls == "starttls":
            smtp.starttls(context=tls_context(args))
        for path in args.files:
            refused = smtp.sendmail(args.sender, args.to, to_crlf(read_input(path)))
            if refused:
                raise ToolError(f"recipients refused: {refused}")


def cmd_wait_count(args):
    # Mail through OpenSMTPD arrives asynchronously, and servers may be
    # restarting meanwhile: poll on fresh connections until the deadline.
    deadline = time.monotonic() + args.timeout
    last = "no answer yet"
    while True:
        try:
            conn = imap_connect(args)
            try:
                n = message_count(conn, args.folder)
            finally:
                conn.logout()
            if n == args.n:
                print(n)
                return
            last = f"{n} messages"
        except ssl.SSLCertVerificationError:
            raise
        except (OSError, imaplib.IMAP4.error, ToolError) as e:
            last = f"error: {e}"
        if time.monotonic() >= deadline:
            raise ToolError(f"{args.folder} did not reach {args.n} messages "
                            f"within {args.timeout}s (last: {last})")
        time.sleep(0.1)


# --- command line ---------------------------------------------------------------

def add_connection_options(parser, suppress):
    """The same options before or after the subcommand.

    argparse copies every subcommand default over what the main parser saw,
    so the subcommand copies default to SUPPRESS and only real values land.
    """
    def d(value):
        return argparse.SUPPRESS if suppress else value

    parser.add_argument("--host", default=d(os.environ.get("HARNESS_HOST", "127.0.0.1")))
    parser.add_argument("--port", type=int, default=d(None),
                        help="default $IMAP_PORT (IMAP) or $SMTP_PORT (send)")
    parser.add_argument("--user", default=d(None), help="default $HARNESS_USER")
    parser.add_argument("--password", default=d(None))
    parser.add_argument("--password-file", default=d(None),
                        help="default $HARNESS_PASSWORD_FILE")
    parser.add_argument("--tls", choices=("none", "starttls", "imaps"), default=d("none"),
                        help="imaps is implicit TLS (use with --port $IMAPS_PORT)")
    parser.add_argument("--cafile", default=d(os.environ.get("HARNESS_CA")),
                        help="CA to verify the server with (default $HARNESS_CA)")
    parser.add_argument("--insecure", action="store_true", default=d(False),
                        help="skip certificate verification")
    parser.add_argument("--io-timeout", type=float, default=d(30.0))


def build_parser():
    common = argparse.ArgumentParser(add_help=False)
    add_connection_options(common, suppress=True)

    p = argparse.ArgumentParser(prog="mailtool", description=__doc__.split("\n")[0])
    add_connection_options(p, suppress=False)
    sub = p.add_subparsers(dest="cmd", required=True)

    def add(name, func, help_text):
        sp = sub.add_parser(name, parents=[common], help=help_text)
        sp.set_defaults(func=func)
        return sp

    sp = add("append", cmd_append, "APPEND raw message files (- = stdin)")
    sp.add_argument("folder")
    sp.add_argument("files", nargs="+")

    sp = add("gen", cmd_gen, "append N generated messages")
    sp.add_argument("n", type=int)
    sp.add_argument("--folder", default="INBOX")
    sp.add_argument("--size", type=int, default=0, help="approximate size in bytes")
    sp.add_argument("--from", dest="sender", default="Remitente <remitente@example.test>")
    sp.add_argument("--to", default=os.environ.get("HARNESS_USER", "secretaria@red.test"))
    sp.add_argument("--prefix", default="gen")

    sp = add("count", cmd_count, "number of messages (0 if no such folder)")
    sp.add_argument("folder")

    sp = add("list", cmd_list, "UID<TAB>Message-ID<TAB>Subject per message")
    sp.add_argument("folder")

    sp = add("fetch", cmd_fetch, "print one raw message")
    sp.add_argument("folder")
    sp.add_argument("uid", type=int)

    sp = add("fetch-all", cmd_fetch_all, "write every message to DIR/UID.eml")
    sp.add_argument("folder")
    sp.add_argument("dir")

    sp = add("create-folder", cmd_create_folder, "create a folder (ok if it exists)")
    sp.add_argument("folder")
    sp = add("delete-folder", cmd_delete_folder, "delete a folder")
    sp.add_argument("folder")
    add("folders", cmd_folders, "list folder names")
    add("capability", cmd_capability, "the server's capabilities after login")

    sp = add("send", cmd_send, "send raw files over SMTP ($SMTP_PORT)")
    sp.add_argument("--from", dest="sender", required=True)
    sp.add_argument("--to", action="append", required=True, help="repeatable")
    sp.add_argument("files", nargs="+")

    sp = add("wait-count", cmd_wait_count, "wait until a folder holds N messages")
    sp.add_argument("folder")
    sp.add_argument("n", type=int)
    sp.add_argument("--timeout", type=float, default=30.0)
    return p


def main(argv=None):
    args = build_parser().parse_args(argv)
    try:
        args.func(args)
    except ssl.SSLCertVerificationError as e:
        print(f"mailtool {args.cmd}: certificate verification failed: "
              f"{e.verify_message}", file=sys.stderr)
        return EXIT_CERT
    except ToolError as e:
        print(f"mailtool {args.cmd}: {e}", file=sys.stderr)
        return EXIT_ERROR
    except (OSError, imaplib.IMAP4.error, smtplib.SMTPException) as e:
        detail = e.args[0] if len(e.args) == 1 else e
        if isinstance(detail, bytes):   # imaplib passes the server's text as bytes
            detail = detail.decode(errors="replace")
        print(f"mailtool {args.cmd}: {type(e).__name__}: {detail}", file=sys.stderr)
        return EXIT_ERROR
    return 0


if __name__ == "__main__":
    sys.exit(main())
