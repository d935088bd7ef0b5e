"""Infrastructure settings every service reads from the same environment variables."""

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class InfraSettings(BaseSettings):
    """Where the broker, the database and the object store are.

    No prefix: the three services share these variables, so one `.env` or ConfigMap serves all.
    """

    model_config = SettingsConfigDict(extra="ignore")

    amqp_url: str = Field("amqp://guest:guest@127.0.0.1:5672/", description="RabbitMQ URL")
    mongodb_url: str = Field("mongodb://127.0.0.1:27017", description="MongoDB connection string")
    s3_endpoint_url: str = Field("http://127.0.0.1:9000", description="S3-compatible endpoint")
    s3_access_key_id: str = "letters"
    s3_secret_access_key: SecretStr = SecretStr("letters-secret")
    s3_region: str = "us-east-1"
    s3_bucket: str = "letters"
    namespace: str = Field(
        "",
        description="Prefix for exchanges, queues and databases, so test runs and campaigns never share them",
    )
    log_level: str = "INFO"
    host: str = "127.0.0.1"
    staff_sign_in_limit: str = Field(
        "10/minute", description="Failed staff-token attempts per client address before a lock-out"
    )
    demo_campaign: bool = Field(False, description="Load the fictional demo campaign into an empty database")

    def db_name(self, name: str) -> str:
        return f"{self.namespace}-{name}" if self.namespace else name
