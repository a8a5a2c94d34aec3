#!/usr/bin/env python3
"""List the mails in some harness mailboxes: one line per mail,

    ADDRESS <TAB> In-Reply-To <TAB> Message-ID

read over IMAP (one login and one FETCH per mailbox), so the reliability
tests can count the answers each sender got, and which submission each one
answers.  Connection settings come from the harness exports (IMAP_PORT,
HARNESS_HOST).

    answers.py --password PW [--folder INBOX] ADDRESS...
"""

import argparse
import email.parser
import email.policy
import imaplib
import os
import re
import sys


def one_line(v):
    return " ".join(str(v or "").split())


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--password", required=True)
    ap.add_argument("--folder", default="INBOX")
    ap.add_argument("addresses", nargs="+")
    a = ap.parse_args()
    host = os.environ.get("HARNESS_HOST", "127.0.0.1")
    port = int(os.environ["IMAP_PORT"])
    parser = email.parser.BytesHeaderParser(policy=email.policy.compat32)
    for addr in a.addresses:
        conn = imaplib.IMAP4(host, port, timeout=30)
        conn.login(addr, a.password)
        typ, _ = conn.select(a.folder, readonly=True)
        if typ != "OK":
            sys.exit(f"answers.py: cannot select {a.folder} of {addr}")
        typ, data = conn.uid("FETCH", "1:*",
                             "(BODY.PEEK[HEADER.FIELDS (MESSAGE-ID IN-REPLY-TO)])")
        if typ != "OK":
            sys.exit(f"answers.py: FETCH failed for {addr}")
        for item in data:
            if not isinstance(item, tuple) or not re.search(rb"BODY\[", item[0]):
                continue
            h = parser.parsebytes(item[1])
            print(f"{addr}\t{one_line(h['In-Reply-To'])}\t{one_line(h['Message-ID'])}")
        conn.logout()


if __name__ == "__main__":
    main()
