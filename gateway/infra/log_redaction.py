"""No API key reaches a log line: a logging filter that redacts keys from URLs and messages.

Browsers pass a publishable key as `?key=amgpk_…` (a CORS preflight carries no header values),
and clients sometimes put a secret key there too (it is refused, but the request is still
logged). uvicorn's access log (on in `make run`) writes every request's path and query
string, and Django's `django.request` logger writes the path of every 4xx/5xx. This filter
rewrites each record's message and arguments before any handler formats them:

- the value of every query parameter named `key` (matched after percent-decoding the name, as
  Django decodes it, case-insensitively) becomes `[redacted]`, as does any parameter whose
  decoded value holds a key;
- anything shaped like a key (`amgai_…`, `amgpk_…`) anywhere in the text, tracebacks included,
  becomes `amgai_[redacted]` / `amgpk_[redacted]`.

It is installed on the console handler of LOGGING (every record of ours and Django's) and on
uvicorn's own `uvicorn.access` and `uvicorn.error` loggers, which write through uvicorn's
handlers, not ours (`install_on_uvicorn`, called when gateway.asgi is imported, i.e. in every
uvicorn worker after uvicorn has configured its logging).
"""

import logging
import re
from urllib.parse import unquote_plus

REDACTED = "[redacted]"
KEY_SHAPE = re.compile(r"(amg(?:ai|pk)_)[A-Za-z0-9]+")
# name=value pairs of a query string, wherever one appears in a line.
QUERY_PARAMETER = re.compile(r"(?<=[?&;])([^=&;#\s\"'?]+)=([^&;#\s\"']*)")
QUERY_NAME = "key"


def _parameter(match: re.Match) -> str:
    name, value = match.group(1), match.group(2)
    decoded_value = unquote_plus(value)
    if unquote_plus(name).strip().lower() == QUERY_NAME or KEY_SHAPE.search(decoded_value):
        return f"{name}={REDACTED}" if value else match.group(0)
    return match.group(0)


def redact(text: str) -> str:
    text = QUERY_PARAMETER.sub(_parameter, text)
    return KEY_SHAPE.sub(lambda m: m.group(1) + REDACTED, text)


def _redact_value(value):
    return redact(value) if isinstance(value, str) else value


class RedactKeysFilter(logging.Filter):
    """Redact keys in a record's message and string arguments, keeping the arguments' shape
    (uvicorn's access formatter reads them by position)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = redact(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(_redact_value(arg) for arg in record.args)
        elif isinstance(record.args, dict):
            record.args = {name: _redact_value(arg) for name, arg in record.args.items()}
        if record.exc_info and not record.exc_text:
            # Formatters reuse a record's exc_text when set: a traceback's text is redacted too.
            record.exc_text = redact(logging.Formatter().formatException(record.exc_info))
        elif record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True


UVICORN_LOGGERS = ("uvicorn.access", "uvicorn.error")


def install_on_uvicorn() -> None:
    for name in UVICORN_LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(f, RedactKeysFilter) for f in logger.filters):
            logger.addFilter(RedactKeysFilter())
