import pytest_asyncio

from shared.mongo import make_client
from shared.s3 import ObjectStore


@pytest_asyncio.fixture
async def db(infra, request):
    client = make_client(infra.mongodb_url)
    # One database per test: contract tests never see each other's documents.
    database = client[f"{infra.namespace}-contract-{request.node.name[:40]}"]
    yield database
    await client.drop_database(database.name)
    await client.close()


@pytest_asyncio.fixture
async def store(infra):
    objects = ObjectStore(infra.s3_endpoint_url, infra.s3_access_key_id, infra.s3_secret_access_key, "us-east-1",
                          f"{infra.s3_bucket}-contract")
    await objects.ensure_bucket()
    return objects
