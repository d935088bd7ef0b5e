from services.delivery.config import DeliverySettings
from services.delivery.main import create_app
from shared.logs import configure_logging
from shared.service import serve

settings = DeliverySettings()
configure_logging("delivery", settings.infra.log_level)
serve(create_app(settings), settings.infra.host, settings.port, settings.infra.log_level)
