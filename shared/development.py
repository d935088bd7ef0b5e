"""No development secret in production: a service refuses to start on one unless APP_ENV=development.

The code's development defaults are public (they are in this repository): with them anyone can
forge receipt tokens, open writers' sealed addresses, sign staff-token events or read the object
store. So outside development mode (`APP_ENV=development`, which `./scripts/up`, the test
stacks and the local deployments set explicitly) a process exits at once, naming every variable
that still holds a development value or a template's placeholder such as CHANGE_ME.

What counts, found in the settings classes themselves so that a new secret is covered without a
list to keep: every `SecretStr` field whose value is its non-empty default or a placeholder;
the fields named in PUBLIC_DEVELOPMENT_DEFAULTS (not secret, but trusting the development key
pair is as bad); and passwords inside AMQP_URL and MONGODB_URL (RabbitMQ's guest user, placeholders).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from urllib.parse import urlsplit

from pydantic import SecretStr
from pydantic_settings import BaseSettings

log = logging.getLogger("startup")

DEVELOPMENT = "development"
# Public values that are as unsafe as a secret: a public key everyone holds the private half of.
PUBLIC_DEVELOPMENT_DEFAULTS = ("staff_events_public_key",)
# Connection strings whose password must not be a development one.
CREDENTIAL_URLS = ("amqp_url", "mongodb_url", "rabbitmq_management_url")
# What templates put where a secret belongs (deploy/k8s/overlays/production/*.env.example).
PLACEHOLDER = re.compile(r"change[-_ ]?(me|this|it)|replace[-_ ]?me|placeholder|your[-_ ]?(secret|password|key)",
                         re.IGNORECASE)


class DevelopmentSecret(SystemExit):
    """Raised instead of starting: exits the process with EX_CONFIG (78) and the explanation."""

    EXIT_CODE = 78

    def __init__(self, findings: dict[str, str]) -> None:
        super().__init__(self.EXIT_CODE)
        self.findings = findings

    def explanation(self) -> str:
        names = ", ".join(self.findings)
        return (f"refusing to start: {names} {'has' if len(self.findings) == 1 else 'have'} a development or "
                f"placeholder value ({'; '.join(f'{k}: {v}' for k, v in self.findings.items())}). Set "
                f"{names} to values of your own, or set APP_ENV=development on a machine that only you use.")


def development_values(settings: BaseSettings) -> dict[str, str]:
    """Environment variable → why its value must not run in production."""
    return dict(_findings(settings))


def refuse_development_secrets(settings: BaseSettings) -> None:
    """Call before connecting to anything; the refusal is a log line, then the exit. Nothing in development mode."""
    infra = getattr(settings, "infra", settings)
    if getattr(infra, "app_env", "production") == DEVELOPMENT:
        return
    findings = development_values(settings)
    if findings:
        refusal = DevelopmentSecret(findings)
        log.critical(refusal.explanation(), extra={"variables": list(findings), "app_env": infra.app_env})
        raise refusal


def _findings(settings: BaseSettings, prefix: str | None = None) -> Iterator[tuple[str, str]]:
    prefix = settings.model_config.get("env_prefix", "") if prefix is None else prefix
    for name, field in type(settings).model_fields.items():
        value = getattr(settings, name)
        if isinstance(value, BaseSettings):
            yield from _findings(value)
            continue
        variable = (field.validation_alias if isinstance(field.validation_alias, str) else prefix + name).upper()
        default = field.default.get_secret_value() if isinstance(field.default, SecretStr) else field.default
        if isinstance(value, SecretStr):
            text = value.get_secret_value()
            if text and text == default:
                yield variable, "the public development default"
            elif PLACEHOLDER.search(text):
                yield variable, "a placeholder"
        elif name in PUBLIC_DEVELOPMENT_DEFAULTS and isinstance(value, str):
            if default and default in [item.strip() for item in value.split(",")]:
                yield variable, "trusts the public development key"
            elif PLACEHOLDER.search(value):
                yield variable, "a placeholder"
        elif name in CREDENTIAL_URLS and isinstance(value, str) and (why := _weak_password(value)):
            yield variable, why


def _weak_password(urls: str) -> str | None:
    for url in filter(None, (u.strip() for u in urls.split(","))):
        try:
            parts = urlsplit(url)
            user, password = parts.username, parts.password
        except ValueError:
            continue
        if user == "guest" and password == "guest":
            return "RabbitMQ's guest user (local development only)"
        if password and PLACEHOLDER.search(password):
            return "a placeholder password"
    return None
