"""Every S3 operation the services rely on, against whichever server is active."""

from __future__ import annotations

import hashlib
import urllib.request

import pytest

pytestmark = pytest.mark.contract


async def test_object_reads_back_byte_for_byte_with_its_checksum(store):
    data = "Письмо: ёй çğıñöşü".encode() * 1000
    stored = await store.put("scans/contract-a.pdf", data, "application/pdf")
    assert stored.sha256 == hashlib.sha256(data).hexdigest() and stored.size == len(data)
    assert await store.get("scans/contract-a.pdf") == data


async def test_overwriting_a_key_keeps_one_object(store):
    await store.put("scans/contract-b.pdf", b"first", "application/pdf")
    await store.put("scans/contract-b.pdf", b"second", "application/pdf")
    assert [k for k in await store.list_keys("scans/contract-b")] == ["scans/contract-b.pdf"]
    assert await store.get("scans/contract-b.pdf") == b"second"


async def test_missing_object_is_reported_missing_and_deleted_objects_are_gone(store):
    assert not await store.exists("scans/never-written.pdf")
    await store.put("pages/contract-c.jpg", b"x", "image/jpeg")
    assert await store.exists("pages/contract-c.jpg")
    await store.delete("pages/contract-c.jpg")
    assert not await store.exists("pages/contract-c.jpg")


async def test_listing_by_prefix(store):
    for name in ("p1", "p2"):
        await store.put(f"list-test/{name}", b"x", "text/plain")
    await store.put("other/p3", b"x", "text/plain")
    assert sorted(await store.list_keys("list-test/")) == ["list-test/p1", "list-test/p2"]


async def test_presigned_link_downloads_the_object(store):
    await store.put("scans/contract-d.pdf", b"%PDF-1.4 scan", "application/pdf")
    url = await store.presign_get("scans/contract-d.pdf", 900)
    assert "Expires=" in url or "X-Amz-Expires=900" in url
    with urllib.request.urlopen(url, timeout=5) as response:
        assert response.read() == b"%PDF-1.4 scan"


async def test_ensure_bucket_is_idempotent(store):
    await store.ensure_bucket()
    await store.ping()
