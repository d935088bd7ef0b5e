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
