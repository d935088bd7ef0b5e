from services.intake.config import IntakeSettings
from services.intake.main import create_app
from shared.logs import configure_logging
from shared.service import serve

settings = IntakeSettings()
configure_logging("intake", settings.infra.log_level)
serve(create_app(settings), settings.infra.host, settings.port, settings.infra.log_level)
