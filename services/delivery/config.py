from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from shared.settings import InfraSettings


class DeliverySettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="DELIVERY_", extra="ignore")

    infra: InfraSettings = Field(default_factory=InfraSettings)
    port: int = 8002
    db: str = "delivery"
