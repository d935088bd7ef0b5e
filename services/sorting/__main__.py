from services.sorting.config import SortingSettings
from services.sorting.main import create_app
from shared.logs import configure_logging
from shared.service import serve

settings = SortingSettings()
configure_logging("sorting", settings.infra.log_level)
serve(create_app(settings), settings.infra.host, settings.port, settings.infra.log_level)
