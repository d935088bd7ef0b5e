from pydantic import Field
from pydantic_settings import SettingsConfigDict

from shared.settings import InfraSettings, SweeperSettings


class SortingSettings(SweeperSettings):
    model_config = SettingsConfigDict(env_prefix="SORTING_", extra="ignore")

    infra: InfraSettings = Field(default_factory=InfraSettings)
    port: int = 8001
    db: str = "sorting"
    font_path: str = Field(
        "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
        description="A TrueType font covering Cyrillic and the Crimean Tatar Latin letters",
    )
    render_processes: int | None = Field(
        None,
        ge=1,
        description=(
            "Worker processes rendering scans, never more than the machine's cores. Unset: one per core but "
            "one, at least one (the service's event loop keeps a core)."
        ),
    )
    s3_public_url: str | None = Field(
        None,
        description=(
            "The S3 endpoint as moderators' browsers reach it (e.g. https://files.example.org); links to "
            "photographed pages point there and the page's CSP allows images only from it. "
            "Unset: S3_ENDPOINT_URL, right when the browser reaches the store at the same address."
        ),
    )
    # "Do no harm": by default a person reads every letter before it is printed and sent.
    auto_approve: bool = Field(
        False,
        description=(
            "Send clean typed letters to prisoners who can receive letters straight on, unread. Off: every "
            "letter waits for a moderator (clean typed letters in the fast lane)."
        ),
    )
    undo_window_s: float = Field(
        600.0,
        ge=0,
        description=(
            "How long a moderator's approval can be taken back before the scan goes to delivery; 0 sends it at "
            "once. Automatic approvals (auto_approve) never wait."
        ),
    )
    second_moderator_for_block: bool = Field(
        False,
        description="A letter with block-level findings needs approvals from two different moderators",
    )
    # The sweeper's own deadlines (sweeper.py); its interval and the outbox's are SweeperSettings'.
    sweep_unsorted_after_s: float = Field(
        900.0, gt=0, description="A letter received this long ago and neither screened into review nor scanned is "
                                 "sorted again (longer than a message's ten deliveries of retries), and reported "
                                 "if that fails")
    sweep_unreleased_after_s: float = Field(
        600.0, gt=0, description="An approved letter whose undo window closed this long ago without its scan going "
                                 "to delivery is reported (the release sweep keeps trying it)")
    sweep_undecided_after_days: float = Field(
        3.0, gt=0, description="A letter waiting this many days for a moderator's decision is reported")
    sweep_untranslated_after_days: float = Field(
        7.0, gt=0, description="A letter waiting this many days for a volunteer translator is reported")

    @property
    def page_links_url(self) -> str:
        return self.s3_public_url or self.infra.s3_endpoint_url

