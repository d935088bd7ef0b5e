"""S3-compatible object store (MinIO, AWS S3, moto). boto3 is blocking, so every call runs in a thread."""

from __future__ import annotations

import asyncio
import hashlib
from dataclasses import dataclass

import boto3
from botocore.client import Config
from botocore.exceptions import ClientError


@dataclass(frozen=True)
class StoredObject:
    key: str
    sha256: str
    size: int


class ObjectStore:
    def __init__(self, endpoint_url: str, access_key: str, secret_key: str, region: str, bucket: str, *,
                 connect_timeout_s: float = 2.0, read_timeout_s: float = 5.0, max_attempts: int = 2) -> None:
        self.bucket = bucket
        self._client = boto3.client(
            "s3",
            endpoint_url=endpoint_url,
            aws_access_key_id=access_key,
            aws_secret_access_key=secret_key,
            region_name=region,
            # Bounded waits and few attempts: a store that does not answer is an error the caller
            # handles (a 503, a handler's retry with backoff), not a thread blocked for minutes.
            config=Config(
                s3={"addressing_style": "path"},
                connect_timeout=connect_timeout_s,
                read_timeout=read_timeout_s,
                retries={"total_max_attempts": max_attempts, "mode": "standard"},
            ),
        )

    @classmethod
    def from_settings(cls, infra) -> ObjectStore:
        return cls(
            infra.s3_endpoint_url,
            infra.s3_access_key_id,
            infra.s3_secret_access_key.get_secret_value(),
            infra.s3_region,
            infra.s3_bucket,
            connect_timeout_s=infra.s3_connect_timeout_s,
            read_timeout_s=infra.s3_read_timeout_s,
            max_attempts=infra.s3_max_attempts,
        )

    async def ensure_bucket(self) -> None:
        def create() -> None:
            try:
                self._client.head_bucket(Bucket=self.bucket)
            except ClientError:
                self._client.create_bucket(Bucket=self.bucket)

        await asyncio.to_thread(create)

    async def ping(self) -> None:
        await asyncio.to_thread(self._client.head_bucket, Bucket=self.bucket)

    async def put(self, key: str, data: bytes, content_type: str) -> StoredObject:
        digest = hashlib.sha256(data).hexdigest()
        await asyncio.to_thread(
            self._client.put_object,
            Bucket=self.bucket,
            Key=key,
            Body=data,
            ContentType=content_type,
            Metadata={"sha256": digest},
        )
        return StoredObject(key=key, sha256=digest, size=len(data))

    async def get(self, key: str) -> bytes:
        def read() -> bytes:
            return self._client.get_object(Bucket=self.bucket, Key=key)["Body"].read()

        return await asyncio.to_thread(read)

    async def exists(self, key: str) -> bool:
        try:
            await asyncio.to_thread(self._client.head_object, Bucket=self.bucket, Key=key)
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                return False
            raise
        return True

    async def list_keys(self, prefix: str = "") -> list[str]:
        def collect() -> list[str]:
            keys: list[str] = []
            for page in self._client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=prefix):
                keys.extend(item["Key"] for item in page.get("Contents", []))
            return keys

        return await asyncio.to_thread(collect)

    async def presign_get(self, key: str, expires_s: int) -> str:
        return await asyncio.to_thread(
            self._client.generate_presigned_url,
            "get_object",
            Params={"Bucket": self.bucket, "Key": key},
            ExpiresIn=expires_s,
        )

    async def delete(self, key: str) -> None:
        await asyncio.to_thread(self._client.delete_object, Bucket=self.bucket, Key=key)
