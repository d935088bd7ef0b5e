"""Which settings values count as development secrets, found in the settings classes themselves."""

from __future__ import annotations

import pytest
from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from services.delivery.config import DeliverySettings
from shared.development import DevelopmentSecret, development_values, refuse_development_secrets
from shared.settings import InfraSettings


class GateSettings(BaseSettings):
    """A service that adds a secret of its own, with a development default, and one without."""

    model_config = SettingsConfigDict(env_prefix="GATE_", extra="ignore")

    infra: InfraSettings = Field(default_factory=lambda: InfraSettings(
        app_env="production", amqp_url="amqp://gate:s3cr3t-value@rabbit:5672/",
        s3_secret_access_key=SecretStr("a-real-one"), staff_events_public_key="a-real-public-key"))
    door_secret: SecretStr = SecretStr("dev-door-secret")
    smtp_password: SecretStr = SecretStr("")


def test_a_new_secret_with_a_development_default_is_found_without_a_list_to_keep():
    assert development_values(GateSettings()) == {"GATE_DOOR_SECRET": "the public development default"}


def test_its_own_value_passes_and_an_empty_password_is_no_secret():
    assert development_values(GateSettings(door_secret=SecretStr("mine"))) == {}


def test_in_production_a_development_secret_stops_the_start_and_in_development_it_does_not():
    with pytest.raises(DevelopmentSecret) as refusal:
        refuse_development_secrets(GateSettings())
    assert refusal.value.code == 78 and "GATE_DOOR_SECRET" in refusal.value.explanation()
    development = GateSettings(infra=InfraSettings(app_env="development"))
    refuse_development_secrets(development)


def test_the_delivery_defaults_name_the_broker_and_the_object_store():
    found = development_values(DeliverySettings(infra=InfraSettings(app_env="production")))
    assert {"AMQP_URL", "S3_SECRET_ACCESS_KEY", "STAFF_EVENTS_PUBLIC_KEY"} <= set(found)
    assert "DELIVERY_SMTP_PASSWORD" not in found
