"""Infrastructure settings every service reads from the same environment variables."""

from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from shared.signing import DEV_STAFF_EVENTS_PUBLIC_KEY


class InfraSettings(BaseSettings):
    """Where the broker, the database and the object store are.

    No prefix: the three services share these variables, so one `.env` or ConfigMap serves all.
    """

    model_config = SettingsConfigDict(extra="ignore")

    app_env: Literal["production", "development"] = Field(
        "production",
        description="development: the code's public development secrets are allowed (local machines and tests "
                    "only); production, the default: a service refuses to start with any of them",
    )

    amqp_url: str = Field("amqp://guest:guest@127.0.0.1:5672/", description="RabbitMQ URL")
    rabbitmq_management_url: str | None = Field(
        None, description="RabbitMQ's management API (http://user:password@host:15672): when set, each service puts "
                          "its queues' delivery-limit policies at start; unset, they come from the definitions "
                          "(deploy/broker_users.py)",
    )
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
    # Every call to a dependency is bounded, so an unresponsive one turns into a quick 503 (HTTP)
    # or a retry (handlers), never a hang.
    mongodb_timeout_ms: int = Field(
        5000, ge=0, description="PyMongo timeoutMS: the most one MongoDB operation may take, its retries and "
                                "server selection included (0: unbounded)"
    )
    mongodb_server_selection_timeout_ms: int = Field(
        3000, gt=0, description="How long an operation waits for a usable MongoDB server"
    )
    mongodb_connect_timeout_ms: int = Field(3000, gt=0, description="TCP connect and handshake to a MongoDB server")
    s3_connect_timeout_s: float = Field(2.0, gt=0, description="TCP connect to the object store")
    s3_read_timeout_s: float = Field(5.0, gt=0, description="Longest wait for the object store's next bytes")
    s3_max_attempts: int = Field(2, ge=1, description="Attempts of one S3 call, the first included")
    amqp_timeout_s: float = Field(
        5.0, gt=0, description="Connecting to RabbitMQ, declaring, and waiting for a publisher confirm"
    )
    http_head_timeout_s: float = Field(
        10.0, gt=0, description="A connection that has not sent a whole request head this long after it could is closed"
    )
    staff_sign_in_limit: str = Field(
        "10/minute", description="Wrong tokens (staff, kiosk, receipt, hand-over link) per client address before "
                                 "further wrong ones are answered 429; valid tokens keep working"
    )
    staff_events_public_key: str = Field(
        DEV_STAFF_EVENTS_PUBLIC_KEY,
        description="Intake's Ed25519 public key (base64, raw 32 bytes; several comma-separated, newest first): "
                    "staff-token events not signed by it are refused. The default is the development key.",
    )
    demo_campaign: bool = Field(False, description="Load the fictional demo campaign into an empty database")

    def db_name(self, name: str) -> str:
        return f"{self.namespace}-{name}" if self.namespace else name


class SweeperSettings(BaseSettings):
    """What every service's sweeper (services/<service>/sweeper.py) shares; each service adds its own
    deadlines and reads these under its own prefix (`SORTING_SWEEP_INTERVAL_S`, …)."""

    # The sweeper: letters in a non-final state past their deadlines are healed or reported.
    sweep_interval_s: float = Field(60.0, gt=0, description="How often the sweeper looks for overdue letters")
    sweep_unpublished_after_s: float = Field(
        600.0, gt=0, description="An event stored with its change and still unpublished this long is reported "
                                 "(the outbox relay keeps trying it)")
