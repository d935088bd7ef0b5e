from services.intake.config import IntakeSettings
from shared.development import refuse_development_secrets
from shared.logs import configure_logging

settings = IntakeSettings()
# Logging first, so that even an import error of the service is a JSON line; then the refusal of
# development secrets, before anything connects.
configure_logging("intake", settings.infra.log_level)
refuse_development_secrets(settings)

from services.intake.main import create_app
from shared.service import serve

serve(create_app(settings), settings.infra.host, settings.port, settings.infra.log_level)
