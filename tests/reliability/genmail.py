#!/usr/bin/env python3
"""Write N valid submissions from roster contacts straight into a Maildir.

Used by tests/reliability/*.sh to fill the harness INBOX in a second
(APPENDing 1,000 mails over IMAP takes far longer).  Every mail comes from a
contact of the sample roster (tests/data/roster/cities.csv), round robin, in
the contact's language, and carries a form any contact may send (ODM
indicator, best practice, agenda item), so every one is recorded and
acknowledged: the answer count per sender is known in advance.

    genmail.py --count N --roster DIR --tag TAG [--to ADDR] MAILDIR

MAILDIR is a Dovecot Maildir folder (cur/ new/ tmp/ are made if missing);
the caller chowns it to the mail user.  Message-IDs are <TAG-I@domain>, I
from 1 to N.  Prints "N mails, B bytes" on stdout.
"""

import argparse
import base64
import csv
import email.utils
import os
import sys

UNITS = ("ambiente", "cultura", "educacion", "turismo", "genero", "deportes")


def body_for(kind, lang, city, i):
    es = lang == "es"
    if kind == "odm":
        return (f"{'Objetivo' if es else 'Objetivo'}: {i % 8 + 1}\n"
                f"Indicador: {'Tasa de escolarización' if es else 'Taxa de escolarização'} {i}\n"
                f"Valor: {90 + i % 10}.{i % 7}\n"
                f"{'Unidad de medida' if es else 'Unidade de medida'}: %\n"
                f"{'Año' if es else 'Ano'}: {2000 + i % 26}\n"
                f"{'Ciudad' if es else 'Cidade'}: {city}\n"
                f"{'Fuente' if es else 'Fonte'}: {'Anuario estadístico' if es else 'Anuário estatístico'}\n")
    if kind == "buena-practica":
        return (f"Título: {'Práctica' if es else 'Prática'} número {i}\n"
                f"{'Ciudad' if es else 'Cidade'}: {city}\n"
                f"{'Unidad' if es else 'Unidade'}: {UNITS[i % len(UNITS)]}\n"
                f"{'Resumen' if es else 'Resumo'}: "
                f"{'Un programa municipal que funciona.' if es else 'Um programa municipal que funciona.'}\n"
                f"Resultados: {i} {'personas beneficiadas' if es else 'pessoas beneficiadas'}.\n"
                f"{'Contacto' if es else 'Contato'}: equipo{i}@example.org\n")
    return (f"{'Órgano' if es else 'Órgão'}: consejo\n"
            f"Título: {'Tema' if es else 'Tema'} {i}\n"
            f"{'Justificación' if es else 'Justificativa'}: "
            f"{'Pedido de varias ciudades.' if es else 'Pedido de várias cidades.'}\n"
            f"Proponente: {city}\n")


SUBJECTS = {
    "odm": {"es": "[ODM] Indicador {i}", "pt": "[ODM] Indicador {i}"},
    "buena-practica": {"es": "Buena práctica {i}", "pt": "Boa prática {i}"},
    "agenda": {"es": "[tema de agenda] Consejo {i}", "pt": "[tema de agenda] Conselho {i}"},
}
KINDS = ("odm", "buena-practica", "agenda")


def mail(i, tag, to, contact):
    kind = KINDS[i % len(KINDS)]
    lang, addr, city = contact["lang"], contact["contact_email"], contact["city"]
    domain = addr.split("@")[1]
    subject = SUBJECTS[kind][lang].format(i=i)
    head = (f"From: {contact['role_title']} <{addr}>\r\n"
            f"To: {to}\r\n"
            f"Subject: =?UTF-8?B?{base64.b64encode(subject.encode()).decode()}?=\r\n"
            f"Date: {email.utils.formatdate(1795000000 + i * 60)}\r\n"
            f"Message-ID: <{tag}-{i}@{domain}>\r\n"
            "MIME-Version: 1.0\r\n"
            "Content-Type: text/plain; charset=UTF-8\r\n"
            "Content-Transfer-Encoding: 8bit\r\n\r\n")
    return head.encode() + body_for(kind, lang, city, i).replace("\n", "\r\n").encode()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--count", type=int, required=True)
    ap.add_argument("--roster", required=True)
    ap.add_argument("--tag", required=True)
    ap.add_argument("--to", default="secretaria@red.test")
    ap.add_argument("maildir")
    a = ap.parse_args()
    with open(os.path.join(a.roster, "cities.csv"), encoding="utf-8") as f:
        contacts = list(csv.DictReader(f))
    if not contacts:
        sys.exit("genmail: no contacts in the roster")
    for d in ("cur", "new", "tmp"):
        os.makedirs(os.path.join(a.maildir, d), exist_ok=True)
    total = 0
    for i in range(1, a.count + 1):
        raw = mail(i, a.tag, a.to, contacts[(i - 1) % len(contacts)])
        # S= and W= as Dovecot writes them: it need not read a file for its size
        name = f"{1795000000 + i}.M{i}P1.rel,S={len(raw)},W={len(raw)}:2,"
        with open(os.path.join(a.maildir, "cur", name), "wb") as f:
            f.write(raw)
        total += len(raw)
    print(f"{a.count} mails, {total} bytes")


if __name__ == "__main__":
    main()
