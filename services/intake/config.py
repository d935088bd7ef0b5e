from pydantic import Field, SecretStr
from pydantic_settings import SettingsConfigDict

from shared.settings import InfraSettings, SweeperSettings
from shared.signing import DEV_STAFF_EVENTS_PRIVATE_KEY, EventSigner, EventVerifier

# Development defaults only: a deployment sets its own (compose reads them from .env).
DEV_RECEIPT_SECRET = "dev-only-receipt-secret-change-me"
DEV_CONTACT_KEY = "ZGV2LW9ubHktY29udGFjdC1rZXktMzItYnl0ZXMhISE="  # base64 of 32 bytes


class IntakeSettings(SweeperSettings):
    model_config = SettingsConfigDict(env_prefix="INTAKE_", extra="ignore")

    infra: InfraSettings = Field(default_factory=InfraSettings)
    port: int = 8000
    db: str = "intake"
    receipt_secret: SecretStr = Field(
        SecretStr(DEV_RECEIPT_SECRET), description="HMAC key that derives each letter's receipt token"
    )
    contact_key: SecretStr = Field(
        SecretStr(DEV_CONTACT_KEY), description="base64 AES-256-GCM key for writers' contact data"
    )
    staff_events_private_key: SecretStr = Field(
        SecretStr(DEV_STAFF_EVENTS_PRIVATE_KEY),
        description="Ed25519 private key (base64, raw 32 bytes) that signs staff-token events; its public key "
                    "is STAFF_EVENTS_PUBLIC_KEY. `python -m shared.signing` makes a pair. Default: development key",
    )
    contact_retention_days: float = Field(
        90, description="Days a writer's contact data is kept after their letter's last news"
    )
    smtp_host: str = Field("", description="SMTP server for writers' notices; empty turns notices off")
    smtp_port: int = 25
    smtp_from: str = "letters@campaign.invalid"
    submit_rate_limit: str = Field("20/minute", description="Anonymous letters per client address")
    check_rate_limit: str = Field("120/minute", description="Anonymous /check calls per client address")
    summary_rate_limit: str = Field(
        "30/minute", description="Public summaries computed afresh per client address (cached ones are free)")
    facility_rules_max_age_days: int = Field(
        180, ge=0, description="A facility's rule nobody has checked for longer is listed for operators to verify")
    # The sweeper's own deadlines (sweeper.py); its interval and the outbox's are SweeperSettings'.
    sweep_unsorted_after_s: float = Field(
        1800.0, gt=0, description="A letter sorting has said nothing of this long after it was accepted is reported")
    sweep_unqueued_after_s: float = Field(
        1800.0, gt=0, description="A letter ready this long that delivery has not queued is reported")


def staff_events_signer(settings: IntakeSettings) -> EventSigner:
    """Intake's signer, refused at start if the other services could not verify what it signs."""
    signer = EventSigner(settings.staff_events_private_key.get_secret_value())
    if not EventVerifier(settings.infra.staff_events_public_key).trusts(signer):
        raise ValueError("INTAKE_STAFF_EVENTS_PRIVATE_KEY does not belong to any key in STAFF_EVENTS_PUBLIC_KEY: "
                         "the other services would refuse every staff token intake issues")
    return signer
