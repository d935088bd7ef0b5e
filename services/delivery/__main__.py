from services.delivery.config import DeliverySettings
from shared.development import refuse_development_secrets
from shared.logs import configure_logging

settings = DeliverySettings()
# Logging first, so that even an import error of the service is a JSON line; then the refusal of
# development secrets, before anything connects.
configure_logging("delivery", settings.infra.log_level)
refuse_development_secrets(settings)

from services.delivery.main import create_app
from shared.service import serve

serve(create_app(settings), settings.infra.host, settings.port, settings.infra.log_level)
