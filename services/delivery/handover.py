"""After a bundle has left: the intermediary's confirmation link, operators' records, prisoners' replies.

Through their link the intermediary answers letter by letter or for the whole bundle. An answer is
kept as theirs to undo for a few minutes (`undo_window_s`) and only then moves the letter, so the
writer's receipt and the results hear each outcome once and never one that was taken back.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from services.delivery.context import Delivery
from services.delivery.domain import OUTCOMES, LinkAnswer, answer_problem, letter_pages
from services.delivery.errors import Conflict, Invalid, NotFound
from services.delivery.model import Actor, Bundle, OutgoingLetter
from services.delivery.ports import Confirmation
from services.delivery.service import move_letter
from shared.auth import hash_token
from shared.events import LetterAnswered, event_id_for

MAX_REPLY_BYTES = 20 * 1024 * 1024
REPLY_TYPES = {b"%PDF-": ("application/pdf", "pdf"), b"\xff\xd8\xff": ("image/jpeg", "jpg")}


@dataclass(frozen=True)
class LetterLine:
    """One letter of the bundle as the intermediary sees it: its number in the bundle, never its writer."""

    number: int
    letter_id: str
    pages: tuple[int, int] | None  # where it lies in the bundle's PDF, when known
    status: Literal["open", "pending", "final", "closed"]  # closed: not out with the intermediary (any more)
    outcome: str | None = None
    reason: str | None = None  # only the reason the intermediary gave themselves
    undoable_until: datetime | None = None


@dataclass(frozen=True)
class LinkView:
    """What the intermediary's page shows: the prisoner's name, the letters by number, what was answered."""

    prisoner_name_ru: str
    sent_at: datetime | None
    letters: tuple[LetterLine, ...]
    accepting: bool  # the link still takes answers (it has not expired)
    undo_window_s: float

    def of_status(self, status: str) -> list[LetterLine]:
        return [line for line in self.letters if line.status == status]

    @property
    def answered(self) -> bool:
        """Nothing is left for the intermediary to say."""
        return not self.of_status("open")


class AnswersRefused(Invalid):
    """Some answers cannot be taken as given: `problems` maps a letter's number (0: the whole
    bundle) to a key of the page's catalogue. Nothing of the submission was kept."""

    def __init__(self, problems: dict[int, str]) -> None:
        super().__init__(", ".join(f"{number}: {problem}" for number, problem in sorted(problems.items())))
        self.problems = problems


async def _link(delivery: Delivery, token: str) -> tuple[Confirmation, Bundle]:
    link = await delivery.confirmations.find(hash_token(token))
    # A link answered once keeps opening after it expires, so the intermediary can see what they said.
    if link is None or (link.used_at is None and link.expires_at <= delivery.clock()):
        raise NotFound("this link is not valid or has expired")
    bundle = await delivery.bundles.get(link.bundle_id)
    if bundle is None:
        raise NotFound("this link is not valid or has expired")
    return link, bundle


async def open_link(delivery: Delivery, token: str) -> tuple[LinkView, Bundle]:
    """The page behind a link: answers whose undo window closed are made final first."""
    link, bundle = await _link(delivery, token)
    now = delivery.clock()
    answers = {a.letter_id: a for a in await delivery.confirmations.answers(bundle.id)}
    for answer in answers.values():
        if answer.due(now):
            await _finalise(delivery, answer, bundle)
    answers = {a.letter_id: a for a in await delivery.confirmations.answers(bundle.id)}
    letters = {letter.id: letter for letter in await delivery.letters.in_bundle(bundle.id)}
    pages = letter_pages([letters[i].pages if i in letters else 0 for i in bundle.letter_ids], bundle.pages)
    lines = tuple(_line(number, letter_id, letters.get(letter_id), answers.get(letter_id), now,
                        pages[number - 1] if pages else None)
                  for number, letter_id in enumerate(bundle.letter_ids, start=1))
    prisoner = await delivery.prisoners.get(bundle.prisoner_id)
    view = LinkView(prisoner.name_ru if prisoner else "", bundle.sent_at, lines, link.expires_at > now,
                    delivery.policy.undo_window_s)
    return view, bundle


def _line(number: int, letter_id: str, letter: OutgoingLetter | None, answer: LinkAnswer | None, now: datetime,
          pages: tuple[int, int] | None) -> LetterLine:
    if answer is not None and answer.undoable(now):
        return LetterLine(number, letter_id, pages, "pending", answer.outcome, answer.reason, answer.undoable_until)
    if letter is not None and letter.state in OUTCOMES:
        # An operator may have recorded it meanwhile: the letter's own state is what stands.
        mine = answer is not None and answer.outcome == letter.state
        return LetterLine(number, letter_id, pages, "final", letter.state, answer.reason if mine and answer else None)
    if answer is not None:  # final, its move under way
        return LetterLine(number, letter_id, pages, "final", answer.outcome, answer.reason)
    if letter is not None and letter.state == "sent":
        return LetterLine(number, letter_id, pages, "open")
    return LetterLine(number, letter_id, pages, "closed")


async def answer_by_link(delivery: Delivery, token: str, answers: Mapping[int, tuple[str, str | None]]) -> LinkView:
    """The intermediary says what happened to some letters, by their numbers in the bundle.

    Letters already answered are left as they are (a double submit counts once); the others stay
    open for later. Each answer can be undone for `undo_window_s`; only then is it announced.
    """
    view, bundle = await open_link(delivery, token)
    open_letters = {line.number: line.letter_id for line in view.of_status("open")}
    if not answers:
        raise AnswersRefused({0: "nothing_chosen"})
    chosen = {number: answer for number, answer in answers.items() if number in open_letters}
    problems = {number: problem for number, (outcome, reason) in chosen.items()
                if (problem := answer_problem(outcome, reason))}
    if problems:
        raise AnswersRefused(problems)
    if chosen and not view.accepting:
        raise Conflict("this link has expired: it takes no new answers")
    now = delivery.clock()
    actor = _intermediary(bundle)
    for number, (outcome, reason) in sorted(chosen.items()):
        reason = reason if outcome != "handed_over" else None
        answer = LinkAnswer(open_letters[number], bundle.id, outcome, reason, now,
                            now + timedelta(seconds=view.undo_window_s))
        if await delivery.confirmations.answer(answer):
            await delivery.audit.record(actor.who, "link.answer", answer.letter_id, role=actor.role, outcome=outcome,
                                        reason=reason, number=number, undoable_until=answer.undoable_until)
    if chosen:
        # Marks the link used: it keeps opening after it expires, to show what was said.
        await delivery.confirmations.use(hash_token(token), next(iter(chosen.values()))[0], now)
    view, _ = await open_link(delivery, token)  # with no undo window, the answers are final at once
    return view


async def confirm_by_link(delivery: Delivery, token: str, outcome: str, reason: str | None) -> LinkView:
    """The intermediary says what happened to every letter of the bundle not answered yet."""
    view, _ = await open_link(delivery, token)
    if view.answered:
        return view
    problem = answer_problem(outcome, reason)
    if problem:
        raise AnswersRefused({0: problem})
    return await answer_by_link(delivery, token, {line.number: (outcome, reason) for line in view.of_status("open")})


async def undo_by_link(delivery: Delivery, token: str, number: int | None) -> LinkView:
    """Take back an answer (`number`), or every answer still in its window (None).

    Nothing had been announced yet, so the letter is simply open again. After the window: Conflict.
    """
    view, bundle = await open_link(delivery, token)
    lines = [line for line in view.letters if number is None or line.number == number]
    if number is not None and not lines:
        raise NotFound(f"the bundle has no letter {number}")
    actor = _intermediary(bundle)
    for line in lines:
        if line.status == "final" and number is not None:
            raise Conflict("this answer is final: the window to undo it has closed")
        if line.status != "pending":
            continue  # already undone (a double submit), or nothing to undo
        if not await delivery.confirmations.undo(line.letter_id, delivery.clock()):
            raise Conflict("this answer is final: the window to undo it has closed")
        await delivery.audit.record(actor.who, "link.undo", line.letter_id, role=actor.role, outcome=line.outcome,
                                    number=line.number)
    view, _ = await open_link(delivery, token)
    return view


async def finalise_answers(delivery: Delivery, limit: int = 200) -> int:
    """The background pass: answers whose undo window closed move their letters and are announced."""
    moved = 0
    for answer in await delivery.confirmations.due_answers(delivery.clock(), limit):
        bundle = await delivery.bundles.get(answer.bundle_id)
        if bundle is not None:
            moved += await _finalise(delivery, answer, bundle)
    return moved


async def _finalise(delivery: Delivery, answer: LinkAnswer, bundle: Bundle) -> bool:
    """Move the letter as answered, then mark the answer final: a pass that stops between the two
    repeats the move as a no-op. A letter an operator has recorded meanwhile keeps their outcome."""
    moved = False
    letter = await delivery.letters.get(answer.letter_id)
    if letter is not None and letter.state == "sent":
        moved = await move_letter(delivery, letter, answer.outcome, sources=("sent",), reason=answer.reason)
        if moved:
            actor = _intermediary(bundle)
            await delivery.audit.record(actor.who, f"letter.{answer.outcome}", letter.id, role=actor.role,
                                        reason=answer.reason, bundle_id=bundle.id)
    await delivery.confirmations.finalise(answer.letter_id)
    return moved


def _intermediary(bundle: Bundle) -> Actor:
    return Actor(f"intermediary:{bundle.intermediary_id}", "intermediary")


async def bundle_outcome(delivery: Delivery, bundle: Bundle, outcome: str, reason: str | None, actor: Actor) -> int:
    """Record one outcome for every letter of a bundle that is still out (sent)."""
    if outcome != "handed_over" and not reason:
        raise Invalid("say why the letters were returned or blocked")
    moved = 0
    for letter in await delivery.letters.in_bundle(bundle.id):
        moved += await move_letter(delivery, letter, outcome, sources=("sent",), reason=reason)
    if moved:
        await delivery.audit.record(actor.who, f"bundle.{outcome}", bundle.id, role=actor.role, letters=moved, reason=reason)
    return moved


@dataclass(frozen=True)
class Reply:
    reply_id: str
    prisoner_id: str
    letter_ids: list[str]
    sha256: str
    content_type: str


async def record_reply(delivery: Delivery, prisoner_id: str, letter_ids: list[str], data: bytes,
                       actor: Actor) -> tuple[Reply, bool]:
    """Store a prisoner's scanned reply and tell each letter's writer (`letter.answered`).

    Keyed by the file's checksum: uploading the same scan again returns the same reply.
    """
    kind = next((kind for magic, kind in REPLY_TYPES.items() if data.startswith(magic)), None)
    if kind is None:
        raise Invalid("a reply is a PDF or a JPEG scan")
    if not letter_ids:
        raise Invalid("name the letters this reply answers")
    for letter_id in letter_ids:
        letter = await delivery.letters.get(letter_id)
        if letter is None or letter.prisoner_id != prisoner_id:
            raise Invalid(f"letter {letter_id!r} is not a letter to prisoner {prisoner_id!r}")
    digest = hashlib.sha256(data).hexdigest()
    reply_id = f"r_{digest[:24]}"
    existing = await delivery.replies.get(reply_id)
    created = existing is None
    if created:
        content_type, extension = kind
        key = f"replies/{digest}.{extension}"  # the checksum: unguessable without the scan itself
        await delivery.store.put(key, data, content_type)
        answered = sorted(set(letter_ids))
        # One event per letter and reply, stored with the reply: a re-upload finds it and says nothing
        # again (the relay publishes whatever the first upload could not); a second reply is news.
        events = [LetterAnswered(event_id=event_id_for(letter_id, f"{LetterAnswered.routing_key}:{reply_id}"),
                                 letter_id=letter_id, prisoner_id=prisoner_id, reply_id=reply_id)
                  for letter_id in answered]
        created = await delivery.replies.insert({
            "_id": reply_id, "prisoner_id": prisoner_id, "letter_ids": answered, "key": key,
            "sha256": digest, "content_type": content_type, "bytes": len(data), "uploaded_by": actor.who,
            "uploaded_at": delivery.clock()}, announcing=events)
        if created:
            for event in events:
                await delivery.outbox.publish(event)
        existing = await delivery.replies.get(reply_id)
    reply = Reply(reply_id, existing["prisoner_id"], list(existing["letter_ids"]), digest, existing["content_type"])
    if created:
        await delivery.audit.record(actor.who, "reply.upload", reply_id, role=actor.role, letters=reply.letter_ids)
    return reply, created
