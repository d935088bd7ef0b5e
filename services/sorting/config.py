from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from shared.settings import InfraSettings


class SortingSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SORTING_", extra="ignore")

    infra: InfraSettings = Field(default_factory=InfraSettings)
    port: int = 8001
    db: str = "sorting"
    font_path: str = Field(
        "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
        description="A TrueType font covering Cyrillic and the Crimean Tatar Latin letters",
    )
    s3_public_url: str | None = Field(
        None,
        description=(
            "The S3 endpoint as moderators' browsers reach it (e.g. https://files.example.org); links to "
            "photographed pages point there and the page's CSP allows images only from it. "
            "Unset: S3_ENDPOINT_URL, right when the browser reaches the store at the same address."
        ),
    )

    @property
    def page_links_url(self) -> str:
        return self.s3_public_url or self.infra.s3_endpoint_url
