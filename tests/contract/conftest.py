import pytest_asyncio

from shared.s3 import ObjectStore


@pytest_asyncio.fixture
async def store(infra):
    objects = ObjectStore(infra.s3_endpoint_url, infra.s3_access_key_id, infra.s3_secret_access_key, "us-east-1",
                          f"{infra.s3_bucket}-contract")
    await objects.ensure_bucket()
    return objects
