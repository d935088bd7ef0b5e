"""Writers' contact data: notices only with consent and only once, erasure after the retention period."""

from __future__ import annotations

import base64
from datetime import datetime, timedelta

from pymongo.errors import DuplicateKeyError

from services.intake.contact import ContactSealer
from services.intake.privacy import WriterNotices, erase_contacts_past_retention
from shared.events import utc_now

SEALER = ContactSealer(base64.b64encode(b"k" * 32).decode())


class MemoryLetters:
    def __init__(self, contacts: dict[str, str | None],
                 statuses: dict[str, tuple[str, datetime] | tuple[str, datetime, str]] | None = None):
        self.contacts, self.statuses = contacts, statuses or {}

    async def sealed_contact(self, letter_id):
        return self.contacts.get(letter_id)

    async def erase_contact(self, letter_id):
        had = self.contacts.get(letter_id) is not None
        self.contacts[letter_id] = None
        return had

    async def contacts_past_retention(self, statuses, hold_kinds, before):
        def final(status, *kind):
            return status in statuses or (status == "held" and kind and kind[0] in hold_kinds)
        return [i for i, (status, at, *kind) in self.statuses.items()
                if final(status, *kind) and at < before and self.contacts.get(i)]


class MemorySent:
    def __init__(self):
        self.ids = set()

    async def insert_one(self, doc):
        if doc["_id"] in self.ids:
            raise DuplicateKeyError("dup")
        self.ids.add(doc["_id"])

    async def delete_one(self, query):
        self.ids.discard(query["_id"])


class MemoryAudit:
    def __init__(self):
        self.entries = []

    async def record(self, actor, action, target, **details):
        self.entries.append((actor, action, target, details))


class MemoryMailer:
    def __init__(self):
        self.sent = []

    async def send(self, to, subject, text):
        self.sent.append((to, subject))


async def test_writer_who_consented_hears_once_that_the_letter_was_handed_over():
    letters = MemoryLetters({"l_1": SEALER.seal("writer@example.org", "l_1"), "l_2": None})
    mailer, audit = MemoryMailer(), MemoryAudit()
    notices = WriterNotices(letters, SEALER, mailer, MemorySent(), audit)
    for _ in range(3):
        await notices("l_1", "handed_over")
    await notices("l_2", "handed_over")  # no consent: no address kept, nothing sent
    await notices("l_1", "sent")  # not a status writers are told about
    assert [to for to, _ in mailer.sent] == ["writer@example.org"]
    assert audit.entries == [("intake.notices", "read contact for notice", "l_1", {"status": "handed_over"})]
    assert "writer@example.org" not in str(audit.entries)


async def test_contact_data_is_erased_once_the_retention_period_after_the_last_news_is_over():
    day, now = timedelta(days=1), utc_now()
    letters = MemoryLetters(
        {"old": "v1:x", "recent": "v1:y", "waiting": "v1:z", "archived": "v1:a", "for_release": "v1:r"},
        {"old": ("handed_over", now - 100 * day), "recent": ("answered", now - day),
         "waiting": ("queued", now - 100 * day),
         "archived": ("held", now - 100 * day, "archived"),
         "for_release": ("held", now - 100 * day, "released")},
    )
    audit = MemoryAudit()
    assert await erase_contacts_past_retention(letters, audit, retention_days=90) == 2
    # A letter kept for a release may still bring news to its writer; an archived one will not.
    assert letters.contacts == {"old": None, "recent": "v1:y", "waiting": "v1:z", "archived": None,
                                "for_release": "v1:r"}
    assert [target for _, _, target, _ in audit.entries] == ["old", "archived"]


def test_lookup_finds_an_address_whatever_its_case_without_storing_it():
    assert SEALER.lookup("Writer@Example.org ") == SEALER.lookup("writer@example.org")
    assert "writer" not in SEALER.lookup("writer@example.org")


async def test_after_a_key_rotation_old_addresses_still_open_and_are_resealed_with_the_new_key():
    old_key = base64.b64encode(b"o" * 32).decode()
    new_key = base64.b64encode(b"n" * 32).decode()
    before = ContactSealer(f"v1:{old_key}")
    stored = {"l_1": before.seal("a@example.org", "l_1")}
    rotated = ContactSealer(f"v2:{new_key},v1:{old_key}")
    assert rotated.open(stored["l_1"], "l_1") == "a@example.org"

    class Letters:
        async def sealed_contacts(self):
            return list(stored.items())

        async def reseal_contact(self, letter_id, old, new, lookup):
            stored[letter_id] = new
            return True

    from services.intake.privacy import reseal_contacts

    assert await reseal_contacts(Letters(), rotated, MemoryAudit()) == 1
    assert stored["l_1"].startswith("v2:")
    assert ContactSealer(f"v2:{new_key}").open(stored["l_1"], "l_1") == "a@example.org"
