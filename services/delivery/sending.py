"""Sending bundles: through the intermediary's channel, retried with growing waits, failed after the
last attempt (with the reason), re-queued by an operator; a manual bundle is handed off by one.

A sender first takes the bundle's lease (see bundling.py), so two senders never send it twice; a
sender that dies lets the lease lapse and the bundle is sent by the next one (at least once).
"""

from __future__ import annotations

import logging
import secrets
from datetime import timedelta

from services.delivery import metrics
from services.delivery.bundling import LEASE_S, cancel_bundle, get_bundle
from services.delivery.context import Delivery
from services.delivery.domain import retry_delay_s, stops_bundle
from services.delivery.errors import Conflict
from services.delivery.model import LONG_AGO, SCHEDULER, Actor, Bundle
from services.delivery.ports import ChannelError, Parcel
from services.delivery.service import move_letter
from services.delivery.transfers import off_route
from shared.auth import hash_token

log = logging.getLogger("delivery.sending")


async def send_due(delivery: Delivery, limit: int = 20) -> int:
    """Send the bundles of automatic channels whose (next) attempt is due."""
    now = delivery.clock()
    automatic = [name for name, channel in delivery.channels.items() if channel.automatic]
    sent = 0
    for candidate in await delivery.bundles.due(now, automatic, limit):
        if not await delivery.bundles.claim(candidate.id, ["ready"], now, LEASE_S):
            continue
        # Read it again under the lease: another sender may have tried it since it was listed.
        bundle = await get_bundle(delivery, candidate.id)
        if bundle.state != "ready" or bundle.next_attempt_at is None or bundle.next_attempt_at > now:
            await delivery.bundles.update(bundle.id, ["ready"], leased_until=LONG_AGO)
            continue
        sent += await send_bundle(delivery, bundle, SCHEDULER) is not None
    return sent


async def send_now(delivery: Delivery, bundle_id: str, actor: Actor) -> tuple[Bundle, str | None]:
    """An operator sends a bundle now: an e-mail bundle without waiting, a manual one as handed off."""
    bundle = await get_bundle(delivery, bundle_id)
    if bundle.state == "sent":
        return bundle, None
    if bundle.state != "ready":
        hint = ": re-queue it first" if bundle.state == "failed" else ""
        raise Conflict(f"a {bundle.state} bundle cannot be sent{hint}")
    if not await delivery.bundles.claim(bundle_id, ["ready"], delivery.clock(), LEASE_S):
        raise Conflict("this bundle is being built or sent right now")
    confirm_url = await send_bundle(delivery, await get_bundle(delivery, bundle_id), actor)
    await delivery.audit.record(actor.who, "bundle.send", bundle_id, role=actor.role, channel=bundle.channel,
                                sent=confirm_url is not None)
    return await get_bundle(delivery, bundle_id), confirm_url


async def send_bundle(delivery: Delivery, bundle: Bundle, actor: Actor) -> str | None:
    """Send a claimed bundle; returns the intermediary's confirmation link when it went out."""
    prisoner = await delivery.prisoners.get(bundle.prisoner_id)
    if (hold := stops_bundle(prisoner, bundle.created_at)) is not None:
        await cancel_bundle(delivery, bundle, hold)
        return None
    if await off_route(delivery, bundle):  # the prisoner was moved where this intermediary does not reach
        return None
    person = await delivery.intermediaries.get(bundle.intermediary_id)
    token = secrets.token_urlsafe(32)
    token_hash = hash_token(token)
    expires = delivery.clock() + timedelta(days=delivery.policy.confirm_ttl_days)
    await delivery.confirmations.create(token_hash, bundle.id, bundle.intermediary_id, expires)
    confirm_url = f"{delivery.policy.public_url.rstrip('/')}/confirm/{token}"
    try:
        parcel = await _parcel(delivery, bundle, person.name if person else "", person.address if person else "",
                               prisoner.name_ru if prisoner else bundle.prisoner_id, confirm_url)
        await delivery.channels[bundle.channel].send(parcel)
    except Exception as error:
        await delivery.confirmations.delete(token_hash)  # never reached anyone
        if not isinstance(error, ChannelError):
            log.exception("bundle not sent", extra={"bundle_id": bundle.id})
        # The monitor shows the reason to operators: plain words, details stay in the log.
        problem = error if isinstance(error, ChannelError) else ChannelError("unexpected failure; see the delivery log")
        await _attempt_failed(delivery, bundle, problem)
        return None
    metrics.SEND_ATTEMPTS.labels(bundle.channel, "sent").inc()
    await delivery.bundles.update(bundle.id, ["ready"], state="sent", sent_at=delivery.clock(), sent_by=actor.who,
                                  attempts=bundle.attempts + 1, last_error=None, leased_until=LONG_AGO)
    for letter in await delivery.letters.in_bundle(bundle.id):
        await move_letter(delivery, letter, "sent", sources=("bundled",))
    log.info("bundle sent", extra={"bundle_id": bundle.id, "channel": bundle.channel})
    return confirm_url


async def _parcel(delivery: Delivery, bundle: Bundle, name: str, address: str, prisoner_name_ru: str,
                  confirm_url: str) -> Parcel:
    policy = delivery.policy
    # A bundle too large for a mailbox travels as a link that expires, never as a public file.
    attach = bundle.pdf_bytes <= policy.attachment_max_bytes
    return Parcel(
        bundle_id=bundle.id, recipient_name=name, address=address, prisoner_name_ru=prisoner_name_ru,
        letters=len(bundle.letter_ids), pages=bundle.pages,
        pdf=await delivery.store.get(bundle.pdf_key) if attach else None,
        download_url=None if attach else await delivery.store.presign_get(bundle.pdf_key, policy.email_link_ttl_s),
        manifest=await delivery.store.get(bundle.manifest_key), confirm_url=confirm_url,
    )


async def _attempt_failed(delivery: Delivery, bundle: Bundle, error: ChannelError) -> None:
    attempts = bundle.attempts + 1
    now = delivery.clock()
    metrics.SEND_ATTEMPTS.labels(bundle.channel, "failed").inc()
    if error.permanent or attempts >= delivery.policy.send_max_attempts:
        await delivery.bundles.update(bundle.id, ["ready"], state="failed", attempts=attempts, last_error=error.reason,
                                      failed_at=now, leased_until=LONG_AGO)
        metrics.BUNDLES_FAILED.labels(bundle.channel).inc()
        for letter in await delivery.letters.in_bundle(bundle.id):
            await move_letter(delivery, letter, "failed", sources=("bundled",), reason=error.reason)
        log.warning("bundle failed", extra={"bundle_id": bundle.id, "attempts": attempts, "error": error.reason})
        return
    delay = retry_delay_s(attempts, delivery.policy.retry_base_s, delivery.policy.retry_max_s)
    await delivery.bundles.update(bundle.id, ["ready"], attempts=attempts, last_error=error.reason,
                                  next_attempt_at=now + timedelta(seconds=delay), leased_until=LONG_AGO)
    log.info("bundle send will be retried", extra={"bundle_id": bundle.id, "attempts": attempts, "in_s": delay,
                                                    "error": error.reason})


async def requeue(delivery: Delivery, bundle_id: str, actor: Actor) -> Bundle:
    """An operator gives a failed bundle another full set of attempts."""
    bundle = await get_bundle(delivery, bundle_id)
    if bundle.state == "ready":
        return bundle
    if bundle.state != "failed":
        raise Conflict(f"only a failed bundle can be re-queued; this one is {bundle.state}")
    if await delivery.bundles.update(bundle_id, ["failed"], state="ready", attempts=0,
                                     next_attempt_at=delivery.clock(), leased_until=LONG_AGO):
        for letter in await delivery.letters.in_bundle(bundle_id):
            await move_letter(delivery, letter, "bundled", sources=("failed",))
        await delivery.audit.record(actor.who, "bundle.requeue", bundle_id, role=actor.role, last_error=bundle.last_error)
    return await get_bundle(delivery, bundle_id)


async def download_link(delivery: Delivery, bundle_id: str, actor: Actor) -> tuple[str, int]:
    """A short-lived link to the bundle's PDF for the operator who hands it on; every one is logged."""
    bundle = await get_bundle(delivery, bundle_id)
    if bundle.state not in ("ready", "sent", "failed"):
        raise Conflict(f"a {bundle.state} bundle has no file to download")
    ttl = delivery.policy.manual_link_ttl_s
    url = await delivery.store.presign_get(bundle.pdf_key, ttl)
    await delivery.audit.record(actor.who, "bundle.download", bundle_id, role=actor.role, expires_in_s=ttl)
    return url, ttl
