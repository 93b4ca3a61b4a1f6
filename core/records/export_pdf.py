"""« Mon dossier Parcours »: the export document (``core.records.export``) as a readable PDF.

reportlab with its standard Helvetica, whose WinAnsi encoding covers French text: accents, « »,
œ, €. Sections with headings, in the order of the portal; consents and the access log as tables;
every page carries the generation date and « page n sur N ». The content comes only from the
document, so the PDF never shows more than the JSON copy.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Callable, Iterable
from functools import partial
from typing import Any
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.enums import TA_RIGHT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import Flowable, KeepTogether, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from core import locale

TITLE = "Mon dossier Parcours"
MARGIN = 18 * mm
WIDTH = A4[0] - 2 * MARGIN

_SHEET = getSampleStyleSheet()
STYLES = {
    "title": ParagraphStyle("title", parent=_SHEET["Title"], fontName="Helvetica-Bold", fontSize=20),
    "subtitle": ParagraphStyle("subtitle", parent=_SHEET["Normal"], fontSize=11, leading=15, spaceAfter=2),
    "heading": ParagraphStyle(
        "heading",
        parent=_SHEET["Heading2"],
        fontName="Helvetica-Bold",
        fontSize=13,
        spaceBefore=12,
        spaceAfter=4,
        textColor=colors.HexColor("#000091"),
    ),
    "body": ParagraphStyle("body", parent=_SHEET["Normal"], fontSize=9.5, leading=12.5),
    "muted": ParagraphStyle(
        "muted", parent=_SHEET["Normal"], fontSize=8.5, leading=11, textColor=colors.HexColor("#3a3a3a")
    ),
    "cell": ParagraphStyle("cell", parent=_SHEET["Normal"], fontSize=7.5, leading=9.5),
    "head": ParagraphStyle(
        "head", parent=_SHEET["Normal"], fontName="Helvetica-Bold", fontSize=7.5, leading=9.5
    ),
    "footer": ParagraphStyle("footer", parent=_SHEET["Normal"], fontSize=7.5, alignment=TA_RIGHT),
}
_TABLE_STYLE = TableStyle(
    [
        ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e3e3fd")),
        ("GRID", (0, 0), (-1, -1), 0.4, colors.HexColor("#929292")),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("LEFTPADDING", (0, 0), (-1, -1), 3),
        ("RIGHTPADDING", (0, 0), (-1, -1), 3),
        ("ROWBACKGROUNDS", (0, 1), (-1, -1), [colors.white, colors.HexColor("#f6f6f6")]),
    ]
)


def render_pdf(document: dict[str, Any], *, compress: bool = True) -> bytes:
    """The PDF summary of an export document. ``compress=False`` leaves the page content readable
    in the bytes (tests look for text in them); output is then also reproducible (``invariant``)."""
    buffer = io.BytesIO()
    generated = _when(document["generated_at"])
    pdf = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=MARGIN,
        rightMargin=MARGIN,
        topMargin=MARGIN,
        bottomMargin=MARGIN + 6 * mm,
        title=TITLE,
        author="Parcours",
        subject=f"Copie du dossier, générée le {generated}",
        pageCompression=1 if compress else 0,
        invariant=0 if compress else 1,
    )
    pdf.build(list(_story(document)), canvasmaker=partial(_NumberedCanvas, footer=f"{TITLE} — {generated}"))
    return buffer.getvalue()


class _NumberedCanvas(Canvas):
    """Draws « page n sur N » once the number of pages is known (pages are kept until ``save``)."""

    def __init__(self, *args: Any, footer: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._footer = footer
        self._pages: list[dict[str, Any]] = []

    def showPage(self) -> None:
        self._pages.append(dict(self.__dict__))
        self._startPage()

    def save(self) -> None:
        total = len(self._pages)
        for number, state in enumerate(self._pages, start=1):
            self.__dict__.update(state)
            self.setFont("Helvetica", 7.5)
            self.setFillColor(colors.HexColor("#3a3a3a"))
            self.drawString(MARGIN, MARGIN, self._footer)
            self.drawRightString(A4[0] - MARGIN, MARGIN, f"page {number} sur {total}")
            super().showPage()
        super().save()


# ---------------------------------------------------------------- the story


def _story(document: dict[str, Any]) -> Iterable[Flowable]:
    identity = document.get("identity")
    yield Paragraph(escape(TITLE), STYLES["title"])
    if identity:
        yield Paragraph(f"<b>{_text(_full_name(identity))}</b>", STYLES["subtitle"])
    yield Paragraph(
        _text(
            f"Copie générée le {_when(document['generated_at'])}, à la demande de "
            f"{_REQUESTERS.get(document['requested_by'], document['requested_by'])}."
        ),
        STYLES["muted"],
    )
    yield Paragraph(
        _text(
            "Ce document résume votre dossier (RGPD, articles 15 et 20). La copie complète, lisible par "
            "une machine, se télécharge au format JSON depuis votre espace. Les documents joints n'y "
            "figurent que par leur titre."
        ),
        STYLES["muted"],
    )
    for heading, key, render in _SECTIONS:
        if key in document:
            yield from _section(heading, render(document[key]))
    if document["refused"]:
        yield from _section("Données non communiquées", _refused(document["refused"]))
    yield from _section("Consentements", _consents(document["consents"]))
    yield from _section("Journal des accès", _access_log(document["access_log"]))


_REQUESTERS = {
    "person": "la personne",
    "carer_with_delegation": "un aidant reconnu par la personne",
    "operator": "la personne, auprès du responsable du traitement",
}


def _section(heading: str, content: list[Flowable]) -> Iterable[Flowable]:
    """A heading kept with the start of its content."""
    if not content:
        content = [Paragraph("Aucune information.", STYLES["muted"])]
    yield KeepTogether([Paragraph(escape(heading), STYLES["heading"]), content[0]])
    yield from content[1:]


def _identity(identity: dict[str, Any]) -> list[Flowable]:
    rows = [
        ("Nom", identity["family_name"]),
        ("Prénoms", identity["given_names"]),
        ("Date de naissance", _day(identity["birth_date"])),
        ("Commune (code INSEE)", identity["commune_insee"]),
        ("INS", f"{identity['ins']} (statut : {identity['ins_status']})"),
        ("Téléphone", identity["phone"]),
        ("Courriel", identity["email"]),
        ("Adresse", identity["address"]),
    ]
    return [_pairs(rows)]


def _care_team(entries: list[dict[str, Any]]) -> list[Flowable]:
    if not entries:
        return []
    return [
        _table(
            ["Qui", "Fonction", "Rôle", "Depuis le"],
            [[e["name"], e["function"], e["role"], _when(e["since"])] for e in entries],
            [0.35, 0.3, 0.15, 0.2],
        )
    ]


def _situation(situation: dict[str, Any]) -> list[Flowable]:
    lives_alone = situation.get("lives_alone")
    text = {True: "vit seule ou seul", False: "ne vit pas seule ou seul", None: "non renseigné"}[lives_alone]
    return [_pairs([("Situation à domicile", text)])]


def _carers(entries: list[dict[str, Any]]) -> list[Flowable]:
    if not entries:
        return []
    return [
        _table(
            ["Aidant", "Lien", "Reconnu depuis le"],
            [[e["name"], e["relationship"], _when(e["since"])] for e in entries],
            [0.45, 0.3, 0.25],
        )
    ]


def _events(entries: list[dict[str, Any]]) -> list[Flowable]:
    content: list[Flowable] = []
    for event in entries:
        content.append(
            Paragraph(
                f"<b>{_text(event['label'])}</b> — {_text(_when(event['occurred_at']))}", STYLES["body"]
            )
        )
        if event["proposals"]:
            content.append(
                _table(
                    ["Action proposée", "Confiée à", "Échéance", "Statut"],
                    [
                        [p["title"], p["assignee"], _when(p["due_at"]), p["status"]]
                        for p in event["proposals"]
                    ],
                    [0.42, 0.25, 0.2, 0.13],
                )
            )
        content.append(Spacer(1, 4))
    return content


def _notes(entries: list[dict[str, Any]]) -> list[Flowable]:
    content: list[Flowable] = []
    for note in entries:
        author = note["author"] + (
            f" ({note['organisation']})"
            if note.get("organisation") and note["organisation"] not in note["author"]
            else ""
        )
        content.append(Paragraph(_text(f"{_when(note['created_at'])} — {author}"), STYLES["muted"]))
        content.append(Paragraph(_text(note["body"]), STYLES["body"]))
        content.append(Spacer(1, 5))
    return content


def _documents(entries: list[dict[str, Any]]) -> list[Flowable]:
    if not entries:
        return []
    return [
        _table(
            ["Titre", "Type", "Taille", "Déposé par", "Le"],
            [
                [
                    d["title"],
                    d["media_type"],
                    locale.size(d["size_bytes"]),
                    d["uploaded_by"],
                    _when(d["created_at"]),
                ]
                for d in entries
            ],
            [0.34, 0.14, 0.1, 0.24, 0.18],
        )
    ]


def _funding(entries: list[dict[str, Any]]) -> list[Flowable]:
    return []


def _refused(entries: list[dict[str, Any]]) -> list[Flowable]:
    intro = Paragraph(
        _text("Ces catégories ne figurent pas dans cette copie ; la raison est celle du contrôle des accès."),
        STYLES["muted"],
    )
    table = _table(
        ["Catégorie", "Raison"],
        [[e["label"], e["reason"]] for e in entries],
        [0.25, 0.75],
    )
    return [intro, table]


def _consents(entries: list[dict[str, Any]]) -> list[Flowable]:
    if not entries:
        return []
    rows = []
    for c in entries:
        recorded = f"{c['recorded_by_label']}" + (
            f" ({c['recorded_by_name']})" if c.get("recorded_by_name") else ""
        )
        if c.get("proof_reference"):
            recorded += f", preuve : {c['proof_reference']}"
        validity = f"du {_when(c['valid_from'])}" + (
            f" au {_when(c['valid_until'])}" if c["valid_until"] else ""
        )
        state = "en vigueur" if c["in_force"] else "retiré" if c["revoked_at"] else "hors période"
        if c["revoked_at"]:
            state += f" le {_when(c['revoked_at'])}"
        rows.append(
            [
                f"{c['kind_label']} — {c['recipient']}",
                c["scope"],
                f"{recorded}, le {_when(c['recorded_at'])}",
                validity,
                state,
            ]
        )
    return [
        _table(
            ["Consentement", "Portée", "Enregistré par", "Validité", "État"],
            rows,
            [0.2, 0.26, 0.22, 0.17, 0.15],
        )
    ]


def _access_log(entries: list[dict[str, Any]]) -> list[Flowable]:
    if not entries:
        return []
    rows = []
    for line in entries:
        what = line["what"]
        if line.get("break_glass"):
            what += " — accès en urgence (bris de glace)"
            if line.get("justification"):
                what += f" : « {line['justification']} »"
        rows.append(
            [
                _when(line["at"]),
                line["who"] + (f" ({line['acting_for']})" if line.get("acting_for") else ""),
                what,
                "oui" if line["allowed"] else "refusé",
            ]
        )
    return [_table(["Date", "Qui", "Action", "Autorisé"], rows, [0.16, 0.26, 0.48, 0.1])]


_SECTIONS: list[tuple[str, str, Callable[[Any], list[Flowable]]]] = [
    ("Identité", "identity", _identity),
    ("Équipe de soins", "care_team", _care_team),
    ("Situation", "situation", _situation),
    ("Aidants", "carers", _carers),
    ("Événements et actions proposées", "events", _events),
    ("Notes sociales", "social_notes", _notes),
    ("Notes médicales", "medical_notes", _notes),
    ("Demandes de financement", "funding_requests", _funding),
    ("Documents (titres seulement)", "documents", _documents),
]


# ---------------------------------------------------------------- helpers


def _text(value: object) -> str:
    """Paragraph markup for plain text: escaped, line breaks kept."""
    return escape("" if value is None else str(value)).replace("\n", "<br/>")


def _full_name(identity: dict[str, Any]) -> str:
    return f"{identity['given_names']} {identity['family_name']}".strip()


def _when(value: str | None) -> str:
    return locale.when(dt.datetime.fromisoformat(value)) if value else "—"


def _day(value: str | None) -> str:
    return locale.day(dt.date.fromisoformat(value)) if value else "—"


def _pairs(rows: list[tuple[str, Any]]) -> Table:
    data = [
        [
            Paragraph(_text(label), STYLES["head"]),
            Paragraph(_text(value if value not in (None, "") else "—"), STYLES["cell"]),
        ]
        for label, value in rows
    ]
    table = Table(data, colWidths=[WIDTH * 0.3, WIDTH * 0.7])
    table.setStyle(
        TableStyle(
            [
                ("GRID", (0, 0), (-1, -1), 0.4, colors.HexColor("#929292")),
                ("BACKGROUND", (0, 0), (0, -1), colors.HexColor("#f6f6f6")),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ]
        )
    )
    return table


def _table(headers: list[str], rows: list[list[Any]], widths: list[float]) -> Table:
    data = [[Paragraph(_text(h), STYLES["head"]) for h in headers]]
    data += [[Paragraph(_text(cell), STYLES["cell"]) for cell in row] for row in rows]
    table = Table(data, colWidths=[WIDTH * w for w in widths], repeatRows=1)
    table.setStyle(_TABLE_STYLE)
    return table
