import logging
import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "gateway.settings")
django_application = get_asgi_application()

from gateway.infra import log_redaction  # noqa: E402
from gateway.infra.body_limit import BodySizeLimit  # noqa: E402  (after Django is set up)
from gateway.overrides import graceful_shutdown  # noqa: E402
from gateway.overrides.api_handler import ApiHandler  # noqa: E402
from gateway.routing import API_MIDDLEWARE, Router  # noqa: E402

# /api/ gets its own slim, all-async middleware stack (gateway/routing.py, gateway/overrides/api_handler.py).
django_application = Router(web=django_application, api=ApiHandler(API_MIDDLEWARE))

# A gateway told to stop answers what already reached it (gateway/overrides/graceful_shutdown.py).
graceful_shutdown.install()

# uvicorn's access and error logs are written through uvicorn's handlers, not LOGGING's: they
# get the key-redacting filter here, after uvicorn configured them (`make run` logs every request).
log_redaction.install_on_uvicorn()

# Oversized bodies are refused here, before Django reads them (chunked ones too).
application = BodySizeLimit(django_application)


def _announce_provider() -> None:
    from django.conf import settings

    from channels_app.providers.catalog import is_demo

    log = logging.getLogger("gateway")
    if is_demo():
        log.warning(
            "LLM_API_KEY is empty: models of the environment provider answer from the built-in OFFLINE DEMO, "
            "not a real model (providers configured in the admin are called as usual)."
        )
    else:
        log.info("AI provider from the environment: %s", settings.LLM_BASE_URL)


_announce_provider()

# The tokenizer for replies that come without usage (channels_app/providers/tokens.py): read now, not on the event loop
# of the first such chat (about 0.4 s).
from channels_app.providers import tokens  # noqa: E402

tokens.encoding()

# Periodic jobs (the retention purge, the alert thresholds): on the in-process job runner each server
# process runs them on its own thread; with JOBS=celery this does nothing and Celery beat schedules them.
from gateway.infra import jobs  # noqa: E402

jobs.backend().start_schedule()
