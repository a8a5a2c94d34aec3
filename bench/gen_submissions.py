#!/usr/bin/env python3
"""Write N realistic Mercociudades submissions straight into Maildir folders.

Used by bench/ingest.  Writing files is much faster than APPENDing over IMAP
(10,000 mails in seconds); Dovecot indexes them on the next STATUS/SELECT.

    gen_submissions.py --count N --roster DIR [--seed S] MAILDIR_FOLDER...

Each MAILDIR_FOLDER is a Dovecot Maildir++ folder (".Name" with cur/ new/
tmp/).  The mails go into cur/ of the first one; the others get hard links,
so several folders hold byte-identical content for the price of one write.
Ownership is left to the caller (chown to the mail user).

The mix, chosen per mail from a seeded RNG so a given (N, seed) always gives
the same mailbox: six form kinds (informe, adhesion, buena-practica, odm,
convenio, agenda) filled in with the field names of templates/forms, from a
sender the form admits (per the sample roster), in Spanish or Portuguese, a
few with mistakes; many quote the mail they answer; UTF-8 or ISO-8859-1;
text/plain, HTML only or multipart/alternative; 8bit, quoted-printable or
base64; some with a small PDF-like attachment; total sizes log-uniform over
2-50 KB.
Prints one summary line (count, bytes, sizes, mix) on stdout.
"""

import argparse
import base64
import binascii
import csv
import email.utils
import html
import math
import os
import random
import sys
from collections import Counter

KINDS = ("informe", "adhesion", "buena-practica", "odm", "convenio", "agenda")
MIN_SIZE, MAX_SIZE = 2 * 1024, 50 * 1024

# --- words -----------------------------------------------------------------
# Latin-1 characters only, so every text can also go out as ISO-8859-1.

SENTENCES = {
    "es": [
        "Se realizó un taller regional sobre gestión de residuos con {n} ciudades participantes.",
        "La unidad temática coordinó tres reuniones virtuales y una presencial en {city}.",
        "Participaron funcionarios municipales, organizaciones de la sociedad civil y universidades.",
        "El intercambio de experiencias permitió identificar buenas prácticas replicables.",
        "Se publicó una guía con recomendaciones para los gobiernos locales de la red.",
        "La convocatoria recibió {n} propuestas de ciudades de Argentina, Brasil, Paraguay y Uruguay.",
        "Se acordó un cronograma de trabajo para el próximo semestre con metas verificables.",
        "Las actividades se difundieron en las redes sociales de la Secretaría Técnica.",
        "El seminario abordó la participación ciudadana y la planificación estratégica urbana.",
        "Se firmó una carta de intención entre las ciudades para compartir información técnica.",
        "La jornada de capacitación contó con {n} asistentes y material en español y portugués.",
        "Se presentó el informe de avance ante el Consejo en la reunión de diciembre.",
        "Quedan pendientes la evaluación final y la sistematización de los resultados obtenidos.",
        "La ciudad propone incluir el tema en la agenda de la próxima Cumbre de la red.",
        "Agradecemos el apoyo de la Secretaría Ejecutiva y de las ciudades coordinadoras.",
        "Los indicadores muestran una mejora sostenida en el acceso a servicios básicos.",
        "Se relevaron {n} experiencias de economía social y solidaria en la región.",
        "El proyecto fortalece la cooperación descentralizada entre ciudades de frontera.",
    ],
    "pt": [
        "Foi realizada uma oficina regional sobre gestão de resíduos com {n} cidades participantes.",
        "A unidade temática coordenou três reuniões virtuais e uma presencial em {city}.",
        "Participaram servidores municipais, organizações da sociedade civil e universidades.",
        "A troca de experiências permitiu identificar boas práticas replicáveis.",
        "Foi publicado um guia com recomendações para os governos locais da rede.",
        "A chamada recebeu {n} propostas de cidades da Argentina, Brasil, Paraguai e Uruguai.",
        "Foi acordado um cronograma de trabalho para o próximo semestre com metas verificáveis.",
        "As atividades foram divulgadas nas redes sociais da Secretaria Técnica.",
        "O seminário tratou da participação cidadã e do planejamento estratégico urbano.",
        "Foi assinada uma carta de intenção entre as cidades para compartilhar informação técnica.",
        "A jornada de capacitação contou com {n} participantes e material em português e espanhol.",
        "O relatório de andamento foi apresentado ao Conselho na reunião de dezembro.",
        "Ficam pendentes a avaliação final e a sistematização dos resultados obtidos.",
        "A cidade propõe incluir o tema na pauta da próxima Cúpula da rede.",
        "Agradecemos o apoio da Secretaria Executiva e das cidades coordenadoras.",
        "Os indicadores mostram uma melhora sustentada no acesso a serviços básicos.",
        "Foram levantadas {n} experiências de economia social e solidária na região.",
        "O projeto fortalece a cooperação descentralizada entre cidades de fronteira.",
    ],
}

# Labels as people write them: aliases of the fields in templates/forms/*.form.
# Each entry: (es label, pt label, filler); filler names a value of
# field_value(), "long" is the free text that makes up most of the size.
FORMS = {
    "informe": [("Unidad", "Unidade", "unit"), ("Período", "Período", "period"),
                ("Actividades", "Atividades", "long"), ("Resultados", "Resultados", "sentence"),
                ("Próximos pasos", "Próximos passos", "sentence")],
    "adhesion": [("Ciudad", "Cidade", "new_city"), ("País", "País", "country"),
                 ("Población", "População", "population"),
                 ("Jefe de gobierno", "Chefe de governo", "person"),
                 ("Cargo", "Cargo", "title"), ("Correo de contacto", "E-mail de contato", "email"),
                 ("Motivación", "Motivação", "long")],
    "buena-practica": [("Título", "Título", "sentence"), ("Ciudad", "Cidade", "city"),
                       ("Unidad", "Unidade", "unit"), ("Descripción", "Descrição", "long"),
                       ("Resultados", "Resultados", "sentence"), ("Contacto", "Contato", "email")],
    # no long field: the free text goes before the fields, as a cover note
    "odm": [("Objetivo", "Objetivo", "goal"), ("Indicador", "Indicador", "sentence"),
            ("Valor", "Valor", "value"), ("Unidad de medida", "Unidade de medida", "percent"),
            ("Año", "Ano", "year"), ("Ciudad", "Cidade", "city"), ("Fuente", "Fonte", "source")],
    "convenio": [("Contraparte", "Contraparte", "counterpart"),
                 ("Tipo de contraparte", "Tipo de contraparte", "counterpart_type"),
                 ("Alcance", "Escopo", "long"), ("Vigencia", "Vigência", "period"),
                 ("Ciudades participantes", "Cidades participantes", "cities")],
    "agenda": [("Órgano", "Órgão", "organ"), ("Título", "Título", "sentence"),
               ("Justificación", "Justificativa", "long"), ("Proponente", "Proponente", "city")],
}

# Subjects carry the kind's keyword, as the daemon recognises kinds by it.
SUBJECTS = {
    "informe": {"es": "[informe] {unit} - segundo semestre", "pt": "Relatório de atividades: {unit}"},
    "adhesion": {"es": "Solicitud de adhesión - {city}", "pt": "Pedido de adesão - {city}"},
    "buena-practica": {"es": "[buena práctica] {unit}", "pt": "[boa prática] {unit}"},
    "odm": {"es": "Indicador ODM {city}", "pt": "Indicador ODM {city}"},
    "convenio": {"es": "Convenio de cooperación {city}", "pt": "Convênio de cooperação {city}"},
    "agenda": {"es": "Re: [tema de agenda] Consejo de diciembre",
               "pt": "Re: [pauta] Conselho de dezembro"},
}

# Cities applying to join are not on the roster, and neither are their senders.
NEW_CITIES = [("Ciudad del Este", "PY"), ("Salto", "UY"), ("Rivera", "UY"), ("Pelotas", "BR"),
              ("Foz do Iguaçu", "BR"), ("Santa Cruz de la Sierra", "BO"), ("Cusco", "PE"),
              ("Resistencia", "AR"), ("Temuco", "CL"), ("Cuenca", "EC")]
PEOPLE = ["María Fernández", "João Silva", "Ana Gómez", "Carlos Pereira", "Lucía Rodríguez",
          "Paulo Souza", "Graciela Benítez", "Marcos Oliveira"]
# Share of mails with a mistake a person makes (a missing field, a bad date).
BROKEN_SHARE = 0.05


def load_roster(d):
    with open(os.path.join(d, "cities.csv"), encoding="utf-8") as f:
        cities = list(csv.DictReader(f))
    with open(os.path.join(d, "units.csv"), encoding="utf-8") as f:
        units = list(csv.DictReader(f))
    return cities, units


def wrap(text, width=72):
    """Greedy word wrap; textwrap is several times slower on this volume."""
    lines, line = [], ""
    for word in text.split(" "):
        if line and len(line) + 1 + len(word) > width:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}" if line else word
    lines.append(line)
    return "\n".join(lines)


class Paragraphs:
    """A pool of pre-wrapped paragraphs per language: filling a 50 KB body
    is then a few joins, not thousands of format() calls."""

    def __init__(self, rng, cities):
        self.pool = {}
        for lang, sents in SENTENCES.items():
            paras = []
            for _ in range(300):
                k = rng.randint(2, 6)
                text = " ".join(rng.choice(sents).format(
                    n=rng.randint(3, 120), city=rng.choice(cities)["city"]) for _ in range(k))
                paras.append(wrap(text))
            self.pool[lang] = paras

    def fill(self, rng, lang, budget):
        out, size = [], 0
        paras = self.pool[lang]
        while not out or size < budget - 300:   # near the budget, not past it
            p = rng.choice(paras)
            out.append(p)
            size += len(p) + 2
        return "\n\n".join(out)


# --- one mail ----------------------------------------------------------------

def field_value(rng, key, lang, ctx, long_text):
    city, unit = ctx["city"], ctx["unit"]
    es = lang == "es"
    if key == "long":
        return long_text
    if key == "unit":
        return unit["slug"] if rng.random() < 0.5 else unit["name_es" if es else "name_pt"]
    if key == "period":
        return rng.choice(["2026-01-01 a 2026-06-30", "2026-07-01 a 2026-12-31",
                           "01/07/2026 - 31/12/2026"])
    if key == "sentence":
        return rng.choice(SENTENCES[lang]).format(n=rng.randint(3, 90), city=city["city"])
    if key == "city":
        return city["city"]
    if key == "new_city":
        return ctx["new_city"][0]
    if key == "country":
        return ctx["new_city"][1]
    if key == "population":
        return f"{rng.randint(20, 3000) * 1000:,}".replace(",", ".")
    if key == "person":
        return rng.choice(PEOPLE)
    if key == "title":
        return rng.choice(["Intendente", "Alcalde"]) if es else "Prefeito"
    if key == "email":
        return ctx["sender"]
    if key == "goal":
        return str(rng.randint(1, 8))
    if key == "value":
        return f"{rng.uniform(1, 99):.1f}".replace(".", ",")
    if key == "percent":
        return "%"
    if key == "year":
        return str(rng.randint(2015, 2025))
    if key == "source":
        return "Instituto Nacional de Estadística" if es else "IBGE, Censo 2022"
    if key == "counterpart":
        return rng.choice(["Universidad de la República", "CGLU", "Fundación Avina",
                           "Banco de Desarrollo de America Latina"])
    if key == "counterpart_type":
        return rng.choice(["network", "civil-society", "private", "international-organisation"])
    if key == "cities":
        return ", ".join(ctx["others"][:-1]) + (" y " if es else " e ") + ctx["others"][-1]
    if key == "organ":
        return rng.choice(["Consejo", "Cumbre"] if es else ["Conselho", "Cúpula"])
    raise ValueError(key)


def form_text(rng, kind, lang, ctx, long_text, quoted):
    """The body people type: greeting, Formulario line, fields, signature,
    then the quoted mail they answer, if any.  BROKEN_SHARE of them drop a
    field or write a period no one can read."""
    es = lang == "es"
    fields = FORMS[kind]
    broken = rng.random() < BROKEN_SHARE
    drop = rng.randrange(len(fields)) if broken and rng.random() < 0.5 else -1
    lines = ["Estimados:" if es else "Prezados:", ""]
    if kind == "odm":
        lines += [long_text, ""]
    lines.append(f"{'Formulario' if es else 'Formulário'}: {kind}")
    for k, (label_es, label_pt, key) in enumerate(fields):
        if k == drop:
            continue
        label = label_es if es else label_pt
        value = field_value(rng, key, lang, ctx, long_text)
        if broken and drop < 0 and key == "period":
            value = "segundo semestre" if es else "segundo semestre de 2026"
        if key == "long":
            lines.append(f"{label}:\n{value}")
        else:
            lines.append(wrap(f"{label}: {value}"))
    sig = "Saludos cordiales," if es else "Atenciosamente,"
    lines.append(f"\n{sig}\n-- \n{ctx['person']}\n{ctx['city']['role_title']}"
                 f" - {ctx['city']['city']}")
    if quoted:
        lines.append("\nEl 24 nov 2026, a las 18:00, Secretaría <secretaria@red.test> escribió:"
                     if es else "\nEm 24/11/2026 18:00, Secretaria <secretaria@red.test> escreveu:")
        lines.append("\n".join("> " + line if line else ">" for line in quoted.split("\n")))
    return "\n".join(lines) + "\n"


def form_html(text):
    """The same text as HTML; the quoted mail in a blockquote, as mail clients do."""
    body, quote = text, ""
    if "\n> " in text:
        cut = text.index("\n> ")
        body = text[:cut]
        quote = "\n".join(line[2:] for line in text[cut + 1:].split("\n"))
    paras = "".join(f"<p>{html.escape(p).replace(chr(10), '<br>' + chr(10))}</p>\n"
                    for p in body.split("\n\n"))
    if quote:
        paras += ("<blockquote type=\"cite\">\n" + "".join(
            f"<p>{html.escape(p)}</p>\n" for p in quote.split("\n\n")) + "</blockquote>\n")
    return ("<html><head><meta http-equiv=\"Content-Type\" content=\"text/html\">"
            "</head>\n<body style=\"font-family: Arial, sans-serif\">\n"
            f"{paras}</body></html>\n")


def encode_part(rng, ctype, charset, text):
    """A MIME part with a random transfer encoding; body lines end in LF."""
    raw = text.encode(charset)
    cte = rng.choices(("8bit", "quoted-printable", "base64"), (35, 40, 25))[0]
    if cte == "8bit" and raw.isascii():
        cte = "7bit"
    if cte == "quoted-printable":
        body = binascii.b2a_qp(raw)
    elif cte == "base64":
        body = base64.encodebytes(raw)
    else:
        body = raw
    head = (f"Content-Type: {ctype}; charset={charset}\n"
            f"Content-Transfer-Encoding: {cte}\n\n").encode("ascii")
    return head + body, cte


# Expected growth of the text budget into bytes on the wire, per body form.
GROWTH = {"plain": 1.1, "html": 1.3, "alternative": 2.4}


def pdf_like(rng, size):
    """Bytes that look like a small PDF to a MIME parser (not a valid PDF)."""
    head = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n"
    tail = b"\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"
    return head + rng.randbytes(max(0, size - len(head) - len(tail))) + tail


def header_word(s, charset):
    """RFC 2047 B-words, folded, for a header value with non-ASCII text."""
    if s.isascii():
        return s
    chunks = [s[k:k + 30] for k in range(0, len(s), 30)]
    return "\n ".join("=?%s?B?%s?=" % (charset.upper(), base64.b64encode(
        c.encode(charset)).decode("ascii")) for c in chunks)


# Dates are spread over the half year before this fixed moment, so a given
# (count, seed) always gives byte-identical mail.
DATE_BASE = 1795000000


def sender_context(rng, kind, cities, units):
    """Who sends it, about what: a sender the form's roles admit (a report
    comes from a city coordinating that unit, an application from a city not
    in the network yet), so most mails go the whole way through the daemon."""
    by_name = {c["city"]: c for c in cities}
    unit = rng.choice(units)
    new_city = rng.choice(NEW_CITIES)
    if kind == "informe":
        city = by_name[unit[rng.choice(("coordinator_city", "subcoordinator_city"))]]
    elif kind == "convenio":
        city = by_name[unit["coordinator_city"]]
    elif kind == "adhesion":
        slug = "".join(ch for ch in new_city[0].lower() if ch.isascii() and ch.isalpha())
        br = new_city[1] == "BR"
        city = {"city": new_city[0], "lang": "pt" if br else "es",
                "role_title": "Prefeito" if br else "Intendente",
                "contact_email": f"gabinete@{slug}.example"}
    else:
        city = rng.choice(cities)
    others = [c["city"] for c in rng.sample(cities, rng.randint(2, 4))]
    return {"city": city, "unit": unit, "new_city": new_city, "others": others,
            "sender": city["contact_email"], "person": rng.choice(PEOPLE)}


def make_mail(rng, i, tag, to, cities, units, paras, stats):
    """One submission of a log-uniform 2-50 KB (give or take 10%; the very
    smallest forms cannot shrink below about 1.5 KB)."""
    kind = rng.choice(KINDS)
    ctx = sender_context(rng, kind, cities, units)
    city = ctx["city"]
    lang = city["lang"] if rng.random() < 0.85 else rng.choice(("es", "pt"))
    charset = "iso-8859-1" if rng.random() < 0.2 else "utf-8"
    form = rng.choices(("plain", "html", "alternative"), (55, 15, 30))[0]
    attach = rng.random() < 0.15
    target = math.exp(rng.uniform(math.log(MIN_SIZE), math.log(MAX_SIZE)))
    pdf_size = int(min(target * 0.5, rng.uniform(3000, 20000))) if attach else 0
    text_cap = math.exp(rng.uniform(math.log(1000), math.log(15000)))
    seed = rng.getrandbits(64)   # the same draws on both attempts
    fixed = 1000 + pdf_size * 4 / 3
    budget = max(100.0, (target - fixed) / GROWTH[form])

    def build(budget):
        # The filler has its own RNG: a longer text must not change the
        # draws that follow it (encodings), or the size would jump about.
        r, filler = random.Random(seed), random.Random(seed + 1)
        # What a person writes in the long field stays under the forms'
        # limits (20,000 characters); the rest of a big mail is the earlier
        # mail quoted below, as in a reply.
        own = min(budget, text_cap)
        quoted = paras.fill(filler, lang, budget - own) if budget > own + 300 else ""
        return compose(r, i, tag, to, kind, city, lang, charset, form, pdf_size, ctx,
                       paras.fill(filler, lang, own), quoted)

    # A few secant steps on the text budget: encodings and the HTML copy
    # make the size a near-linear function of it.
    mail, ctes = build(budget)
    slope = GROWTH[form]
    for _ in range(3):
        if 0.9 * target <= len(mail) <= 1.1 * target:
            break
        nbudget = max(0.0, budget + (target - len(mail)) / slope)
        if nbudget == budget:
            break
        nmail, nctes = build(nbudget)
        if len(nmail) != len(mail):
            slope = max(0.5, (len(nmail) - len(mail)) / (nbudget - budget))
        budget, mail, ctes = nbudget, nmail, nctes
    stats["kind"][kind] += 1
    stats["form"][form + ("+pdf" if attach else "")] += 1
    stats["charset"][charset] += 1
    for c in ctes:
        stats["cte"][c] += 1
    return mail


def compose(rng, i, tag, to, kind, city, lang, charset, form, pdf_size, ctx, long_text,
            quoted):
    text = form_text(rng, kind, lang, ctx, long_text, quoted)
    when = DATE_BASE - rng.uniform(0, 180 * 86400)
    domain = city["contact_email"].split("@")[1]
    subject = SUBJECTS[kind][lang].format(
        unit=ctx["unit"]["name_es" if lang == "es" else "name_pt"], city=city["city"])
    sender_name = f'{city["role_title"]} {city["city"]}'
    boundary = f"=_bench_{i}_{rng.getrandbits(48):012x}"
    head = [
        f"Return-Path: <{city['contact_email']}>",
        f"Received: from mail.{domain} ([192.0.2.{i % 250 + 1}])\n"
        f"\tby mx.red.test with ESMTPS id {rng.getrandbits(40):010X}\n"
        f"\tfor <{to}>; {email.utils.formatdate(when + 5)}",
        f"From: {header_word(sender_name, charset)} <{city['contact_email']}>",
        f"To: {to}",
        f"Subject: {header_word(subject, charset)}",
        f"Date: {email.utils.formatdate(when)}",
        f"Message-ID: <{tag}-{i}-{kind}@{domain}>",
        f"Content-Language: {'es-UY' if lang == 'es' else 'pt-BR'}",
        "X-Mailer: " + rng.choice(("Microsoft Outlook 16.0", "Thunderbird 115.4",
                                   "Roundcube Webmail/1.6.5", "Zimbra 9.0")),
        "MIME-Version: 1.0",
    ]
    ctes = []
    if form == "plain":
        body_part, cte = encode_part(rng, "text/plain", charset, text)
        ctes.append(cte)
    elif form == "html":
        body_part, cte = encode_part(rng, "text/html", charset, form_html(text))
        ctes.append(cte)
    else:
        alt = f"{boundary}_alt"
        p1, c1 = encode_part(rng, "text/plain", charset, text)
        p2, c2 = encode_part(rng, "text/html", charset, form_html(text))
        ctes += [c1, c2]
        body_part = (f"Content-Type: multipart/alternative; boundary=\"{alt}\"\n\n"
                     f"--{alt}\n").encode() + p1 + f"\n--{alt}\n".encode() + p2 + \
            f"\n--{alt}--\n".encode()

    if pdf_size:
        name = f"{kind}-{city['city'].lower().replace(' ', '-')}.pdf"
        pdf = base64.encodebytes(pdf_like(rng, pdf_size))
        mixed = (f"Content-Type: multipart/mixed; boundary=\"{boundary}\"\n\n"
                 "This is a multi-part message in MIME format.\n\n"
                 f"--{boundary}\n").encode()
        mixed += body_part + f"\n--{boundary}\n".encode()
        mixed += (f"Content-Type: application/pdf; name=\"{name}\"\n"
                  "Content-Transfer-Encoding: base64\n"
                  f"Content-Disposition: attachment; filename=\"{name}\"\n\n").encode()
        mixed += pdf + f"\n--{boundary}--\n".encode()
        body_part = mixed

    # body_part starts with its own Content-Type lines: they end the header.
    return "\n".join(head).encode("ascii") + b"\n" + body_part, ctes


# --- output ------------------------------------------------------------------

def write_folders(folders, mails_iter):
    """Write each mail to cur/ of the first folder, hard-link it into the rest.
    The name carries S= (size) and W= (size with CRLF) as Dovecot's own
    deliveries do, so Dovecot need not read a file to learn its IMAP size."""
    host = "bench"
    now = DATE_BASE
    pid = 1
    sizes = []
    for i, raw in mails_iter:
        vsize = len(raw) + raw.count(b"\n")
        name = f"{now}.M{i}P{pid}.{host},S={len(raw)},W={vsize}:2,"
        first = os.path.join(folders[0], "cur", name)
        with open(first, "wb") as f:
            f.write(raw)
        for other in folders[1:]:
            os.link(first, os.path.join(other, "cur", name))
        sizes.append(len(raw))
    return sizes


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--count", type=int, required=True)
    ap.add_argument("--seed", type=int, default=2026)
    ap.add_argument("--roster", required=True, help="dir with cities.csv and units.csv")
    ap.add_argument("--to", default="secretaria@red.test")
    ap.add_argument("--tag", default="bench", help="Message-ID prefix")
    ap.add_argument("folders", nargs="+", help="Maildir++ folder dirs (cur/ must exist)")
    args = ap.parse_args()

    for d in args.folders:
        if not os.path.isdir(os.path.join(d, "cur")):
            sys.exit(f"gen_submissions: {d}/cur is not a directory")
    rng = random.Random(args.seed)
    cities, units = load_roster(args.roster)
    paras = Paragraphs(rng, cities)
    stats = {k: Counter() for k in ("kind", "form", "charset", "cte")}
    mails = ((i, make_mail(rng, i, args.tag, args.to, cities, units, paras, stats))
             for i in range(1, args.count + 1))
    sizes = write_folders(args.folders, mails)

    sizes.sort()
    total = sum(sizes)
    mix = "; ".join(", ".join(f"{k} {v}" for k, v in sorted(c.items()))
                    for c in stats.values())
    print(f"{len(sizes)} mails, {total / 1048576:.1f} MiB, size min {sizes[0]} "
          f"median {sizes[len(sizes) // 2]} max {sizes[-1]} bytes; {mix}")


if __name__ == "__main__":
    main()
