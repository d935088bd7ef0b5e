from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import SettingsConfigDict

from shared.settings import InfraSettings, SweeperSettings

# S3 (SigV4) refuses presigned links valid for longer than seven days.
MAX_PRESIGN_S = 7 * 24 * 3600


class DeliverySettings(SweeperSettings):
    model_config = SettingsConfigDict(env_prefix="DELIVERY_", extra="ignore")

    infra: InfraSettings = Field(default_factory=InfraSettings)
    port: int = 8002
    db: str = "delivery"
    public_url: str = Field(
        "http://127.0.0.1:8002",
        description="Where intermediaries reach delivery: the base of their personal confirmation links",
    )
    font_path: str = Field(
        "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
        description="A TrueType font with Cyrillic, for the bundle's cover page",
    )
    bundle_interval_s: float = Field(3600.0, gt=0, description="How often bundles are built on schedule")
    send_poll_s: float = Field(5.0, gt=0, description="How often bundles due to be sent are looked for")
    send_max_attempts: int = Field(8, ge=1, description="Attempts to send a bundle before it is failed")
    retry_base_s: float = Field(60.0, gt=0, description="Wait before the first retry; doubles each time")
    retry_max_s: float = Field(3600.0, gt=0, description="Longest wait between two attempts")
    smtp_host: str = "127.0.0.1"
    smtp_port: int = 25
    smtp_security: Literal["none", "starttls", "tls"] = Field(
        "none", description="none (local relay), starttls, or tls (implicit, usually port 465)"
    )
    smtp_username: str = ""
    smtp_password: SecretStr = SecretStr("")
    smtp_from: str = "Letters to Free Crimea <letters@localhost>"
    smtp_timeout_s: float = Field(20.0, gt=0)
    attachment_max_bytes: int = Field(
        10 * 1024 * 1024, ge=0, description="Larger bundles go by a time-limited download link instead"
    )
    email_link_ttl_s: int = Field(MAX_PRESIGN_S, ge=60, le=MAX_PRESIGN_S, description="Life of an e-mailed link")
    # An operator downloads a manual bundle right before handing it on: a short link leaks little.
    manual_link_ttl_s: int = Field(900, ge=30, le=900, description="Life of an operator's download link")
    confirm_ttl_days: int = Field(60, ge=1, le=365, description="How long a hand-over confirmation link works")
    # Long enough to notice a mistaken tap and take it back; short enough that the writer's receipt
    # and the results learn the outcome the same hour. Outcomes are announced only when it closes.
    undo_window_s: float = Field(
        600.0, ge=0, le=24 * 3600,
        description="How long an intermediary can undo an answer on their confirmation page (0: no undo)")
    metrics_refresh_s: float = Field(15.0, gt=0, description="How often queue gauges are recomputed")
    # The sweeper's own deadlines (sweeper.py); its interval and the outbox's are SweeperSettings'.
    sweep_bundle_margin_s: float = Field(
        1800.0, ge=0, description="A letter queued for longer than the bundle schedule (bundle_interval_s) plus this "
                                  "margin, and still in no bundle, is reported")
    sweep_unsent_after_s: float = Field(
        6 * 3600.0, gt=0, description="A bundled letter not sent this long after it was bundled is reported (its "
                                      "e-mail attempts take about three hours before they give up)")
    sweep_unconfirmed_after_days: float = Field(
        14.0, gt=0, description="A sent letter whose hand-over nobody confirmed for this many days is reported: "
                                "an operator asks the intermediary")
