"""Staff commands for intake: `python -m services.intake.cli --help`.

They use the same settings (environment) as the service, write to its database and announce
changes through its outbox, so the other services learn of them as they would from the API.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import typer
from pymongo.asynchronous.database import AsyncDatabase
from tqdm import tqdm

from services.intake.adapters import MongoCampaignEvents, MongoLetters, MongoPrisoners, MongoTokens
from services.intake.config import IntakeSettings, staff_events_signer
from services.intake.contact import ContactSealer
from services.intake.privacy import erase_contact, reseal_contacts
from services.intake.staff import (
    NotFound,
    StaffDesk,
    grant_staff_token,
    read_directory_csv,
    save_prisoner,
    unpair_kiosk,
    withdraw_staff_token,
)
from shared.audit import AuditLog
from shared.auth import ROLES, Principal
from shared.broker import letters_exchange, make_broker
from shared.development import refuse_development_secrets
from shared.mongo import client_for, learn_server
from shared.outbox import Outbox

app = typer.Typer(help="Staff commands for the intake service.", no_args_is_help=True)


@dataclass
class Connected:
    """What a command works with: the settings (read once, from the environment the service reads),
    intake's database and its outbox."""

    settings: IntakeSettings
    db: AsyncDatabase
    outbox: Outbox

    @property
    def staff_desk(self) -> StaffDesk:
        return StaffDesk(prisoners=MongoPrisoners(self.db), events=MongoCampaignEvents(self.db),
                         tokens=MongoTokens(self.db), outbox=self.outbox, audit=AuditLog(self.db["audit"]),
                         signer=staff_events_signer(self.settings))


# Whoever runs a command acts as an admin of the campaign; the audit log records the name they give.
Actor = typer.Option(..., "--actor", help="Who runs this (recorded in the audit log), e.g. admin.anna")


def admin(actor: str) -> Principal:
    return Principal(actor, "admin")


@asynccontextmanager
async def connected() -> AsyncIterator[Connected]:
    settings = IntakeSettings()
    refuse_development_secrets(settings)
    infra = settings.infra
    broker = make_broker(infra.amqp_url)
    mongo = client_for(infra)
    db = mongo[infra.db_name(settings.db)]
    await learn_server(mongo)
    await broker.connect()
    try:
        yield Connected(settings, db, Outbox(db["outbox"], broker, letters_exchange(infra.namespace)))
    finally:
        await broker.stop()
        await mongo.close()


@app.command("import-prisoners")
def import_prisoners(csv_file: Path = typer.Argument(..., exists=True, readable=True), actor: str = Actor) -> None:
    """Load or update the prisoner directory from a CSV file (see the README for its columns)."""
    try:
        records = read_directory_csv(csv_file.read_text(encoding="utf-8-sig"))
    except ValueError as error:
        typer.echo(f"nothing imported: {error}", err=True)
        raise typer.Exit(2) from error

    async def run() -> None:
        async with connected() as intake:
            prisoners = MongoPrisoners(intake.db)
            for record in tqdm(records, desc="prisoners", unit="prisoner"):
                await save_prisoner(record, prisoners, intake.outbox)
            await AuditLog(intake.db["audit"]).record(actor, "imported prisoners", csv_file.name, role="admin",
                                                      prisoners=len(records))

    asyncio.run(run())
    typer.echo(f"imported {len(records)} prisoners")


@app.command("issue-staff-token")
def issue_token(
    subject: str = typer.Option(..., help="Who it is for, e.g. anna.moderator"),
    role: str = typer.Option(..., help="moderator, operator, admin or translator"),
    days: int = typer.Option(30, min=1, max=366),
    actor: str = Actor,
) -> None:
    """Issue a staff token; it is printed once and stored only as a hash."""
    if role not in ROLES:
        raise typer.BadParameter("role must be moderator, operator, admin or translator")

    async def run() -> str:
        async with connected() as intake:
            return await grant_staff_token(subject, role, days, admin(actor), intake.staff_desk)

    typer.echo(asyncio.run(run()))


@app.command("revoke-staff-token")
def revoke_token(token_hash: str = typer.Argument(..., help="SHA-256 of the token, as shown when issued"),
                 actor: str = Actor) -> None:
    """Revoke a staff token in every service."""

    async def run() -> None:
        async with connected() as intake:
            await withdraw_staff_token(token_hash, admin(actor), intake.staff_desk)

    asyncio.run(run())
    typer.echo("revoked")


@app.command("revoke-kiosk")
def revoke_kiosk_command(
    event_id: str = typer.Argument(..., help="The event the kiosk was issued for, e.g. e_lviv_fair"),
    kiosk_id: str = typer.Argument(..., help="The kiosk, e.g. k_lviv_1"),
    actor: str = Actor,
) -> None:
    """Unpair a kiosk: its tokens are refused from its next request on; it keeps its unsent letters."""

    async def run() -> bool:
        async with connected() as intake:
            try:
                await unpair_kiosk(event_id, kiosk_id, admin(actor), intake.staff_desk)
            except NotFound:
                return False
            return True

    if not asyncio.run(run()):
        typer.echo(f"no kiosk {kiosk_id} at {event_id}", err=True)
        raise typer.Exit(1)
    typer.echo("unpaired")


@app.command("erase-contact")
def erase_contact_command(
    email: str = typer.Option(None, help="Erase this address from every letter that has it"),
    letter_id: str = typer.Option(None, help="Erase the contact data of one letter"),
    actor: str = Actor,
) -> None:
    """Erase a writer's contact data on request; the erasure is logged without the data."""
    if not (email or letter_id):
        raise typer.BadParameter("give --email or --letter-id")

    async def run() -> int:
        async with connected() as intake:
            letters, audit = MongoLetters(intake.db), AuditLog(intake.db["audit"])
            ids = [letter_id] if letter_id else await letters.letters_of_contact(
                ContactSealer(intake.settings.contact_key.get_secret_value()).lookup(email))
            return sum([await erase_contact(i, actor, letters, audit) for i in ids])

    typer.echo(f"erased the contact data of {asyncio.run(run())} letters")


@app.command("reseal-contacts")
def reseal_contacts_command() -> None:
    """After putting a new key first in INTAKE_CONTACT_KEY: re-seal every stored address with it."""

    async def run() -> int:
        async with connected() as intake:
            sealer = ContactSealer(intake.settings.contact_key.get_secret_value())
            return await reseal_contacts(MongoLetters(intake.db), sealer, AuditLog(intake.db["audit"]))

    typer.echo(f"re-sealed {asyncio.run(run())} addresses")


if __name__ == "__main__":
    app()
