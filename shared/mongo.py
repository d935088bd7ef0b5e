"""MongoDB through PyMongo's async API (Motor's successor; Motor is end-of-life)."""

from pymongo import AsyncMongoClient


def make_client(url: str) -> AsyncMongoClient:
    # tz_aware: datetimes come back as UTC-aware, as they went in.
    # Short server selection so a down database turns into a fast 503, not a hung request.
    return AsyncMongoClient(url, tz_aware=True, serverSelectionTimeoutMS=3000, connectTimeoutMS=3000)


async def ping(client: AsyncMongoClient) -> None:
    await client.admin.command("ping")
