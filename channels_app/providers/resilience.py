"""Calling the provider through faults: bounded retries with capped, jittered backoff, and a
circuit breaker per upstream and model, so a dead provider fails fast and recovers by itself.

Retried: connection failures (nothing reached the provider) and 408, 429, 5xx answers.
Never retried: read timeouts and malformed bodies (the provider may have done the
work), and other 4xx (retrying cannot help). Every retry stays inside the call's
overall deadline; a Retry-After is honoured up to LLM_RETRY_AFTER_CAP seconds.

Only faults of the upstream itself count toward a breaker: connection errors, timeouts,
broken reads, 408, 429 and 5xx. Any other 4xx (400, 401, 403, 404, 413, 422, ...) is the
provider refusing this request (a context too long, a decommissioned model): counting it
would let one channel's bad requests fail every other channel's chats. The breaker is
keyed by (base URL, model) for the same reason: a model the provider is failing must
not stop chats on its other models.
"""

import asyncio
import email.utils
import random
import time
from dataclasses import dataclass

import aiohttp
from django.conf import settings

from channels_app.providers.catalog import scrub


class ProviderFailure(Exception):
    """The provider gave no usable reply. The message is for logs: never the upstream key.

    `model_gone`: the provider said the model does not exist (any more): Groq's 400
    `model_decommissioned`, OpenAI's 404 `model_not_found`, LiteLLM's "Invalid model
    name". Retrying cannot help; staff must look at the catalog (pipeline.complete).
    """

    def __init__(self, message: str, *, status: int | None = None, model_gone: bool = False):
        super().__init__(message)
        self.status, self.model_gone = status, model_gone

    def scrubbed(self, secret: str = "") -> "ProviderFailure":
        return ProviderFailure(scrub(str(self), secret), status=self.status, model_gone=self.model_gone)


# What providers answer for a model they do not serve (tests: the recorded traffic in gateway/testing/provider_traffic).
MODEL_GONE_CODES = ("model_decommissioned", "model_not_found")
MODEL_GONE_PHRASES = ("has been decommissioned", "does not exist", "invalid model name", "model not found")


def says_model_gone(status: int, body: bytes) -> bool:
    if status not in (400, 404):
        return False
    text = body.decode("utf-8", "replace").lower()
    return any(code in text for code in MODEL_GONE_CODES) or any(phrase in text for phrase in MODEL_GONE_PHRASES)


# No answer began: refused, unreachable, or no connection within LLM_CONNECT_TIMEOUT (aiohttp's
# ConnectionTimeoutError covers both connecting and waiting for a pooled connection); or the provider closed or reset
# the connection before a status line came back (ServerDisconnectedError; ClientOSError, which a failed write of the
# body raises) — a pooled keep-alive connection the provider was closing as it was reused, which the official OpenAI
# client retries too. Either way the request was not answered, so it is sent again; a read timeout is not retried
# (the provider may be working on it).
RETRYABLE_ERRORS = (
    aiohttp.ClientConnectorError, aiohttp.ConnectionTimeoutError, aiohttp.ServerDisconnectedError, aiohttp.ClientOSError
)


def describe(exc: BaseException) -> str:
    """A client error for a log line: its kind, named the same whatever the HTTP library, then its text."""
    if isinstance(exc, aiohttp.ClientConnectorError):
        kind = "ConnectError"
    elif isinstance(exc, aiohttp.ConnectionTimeoutError):
        kind = "ConnectTimeout"
    elif isinstance(exc, aiohttp.ServerTimeoutError):
        kind = "ReadTimeout"
    else:
        kind = type(exc).__name__
    return f"{kind}: {scrub(str(exc))}" if str(exc) else kind


def is_retryable_status(status: int) -> bool:
    """Also the statuses that count toward a breaker: the upstream's own faults."""
    return status in (408, 429) or 500 <= status <= 599


@dataclass
class Breaker:
    """Opens after LLM_BREAKER_THRESHOLD failed calls in a row; after LLM_BREAKER_COOLDOWN
    seconds lets one probe through, which closes it on success or reopens it on failure."""

    failures: int = 0
    opened_at: float | None = None
    probing: bool = False

    def allow(self) -> bool:
        if self.opened_at is None:
            return True
        if time.monotonic() - self.opened_at < settings.LLM_BREAKER_COOLDOWN or self.probing:
            return False
        self.probing = True
        return True

    def succeeded(self) -> None:
        self.failures, self.opened_at, self.probing = 0, None, False

    def failed(self) -> None:
        self.failures += 1
        self.probing = False
        if self.opened_at is not None or self.failures >= settings.LLM_BREAKER_THRESHOLD:
            self.opened_at = time.monotonic()

    def refused(self) -> None:
        """The upstream refused this request (a 4xx that is no upstream fault), or the call was cancelled.

        Neither a success nor a failure: the count of failures in a row stays as it
        was, and a probe that ended so frees the probe slot so the next call can
        probe (otherwise a half-open breaker would wait forever).
        """
        self.probing = False

    @property
    def state(self) -> str:
        if self.opened_at is None:
            return "closed"
        return "open" if time.monotonic() - self.opened_at < settings.LLM_BREAKER_COOLDOWN else "half-open"


_breakers: dict[tuple[str, str], Breaker] = {}


def breaker_for(base_url: str, model: str) -> Breaker:
    """One breaker per upstream, model and process."""
    return _breakers.setdefault((base_url, model), Breaker())


def reset_breakers() -> None:
    _breakers.clear()


def _retry_after(response) -> float | None:
    value = response.headers.get("Retry-After")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def backoff(attempt: int, response=None) -> float:
    """Full jitter over a capped exponential, or the provider's Retry-After (capped)."""
    ceiling = min(settings.LLM_RETRY_BACKOFF_CAP, settings.LLM_RETRY_BACKOFF_BASE * 2**attempt)
    delay = random.uniform(0, ceiling)
    asked = _retry_after(response) if response is not None else None
    if asked is not None:
        delay = min(asked, settings.LLM_RETRY_AFTER_CAP)
    return delay


async def send(
    session: aiohttp.ClientSession,
    url: str,
    *,
    body: bytes,
    headers: dict,
    timeout: aiohttp.ClientTimeout,
    deadline: float,
    breaker: "Breaker",
    secret: str = "",
) -> aiohttp.ClientResponse:
    """POST `body` to `url` with retries, behind `breaker`; the caller reads the response's body and releases it.

    Returns a 2xx response or raises ProviderFailure. `deadline` is on the
    event loop's clock; no retry is started that could not finish before it.
    `secret` (the upstream key) is scrubbed from whatever is logged.
    """
    if not breaker.allow():
        raise ProviderFailure(f"Circuit open for {url}: failing fast")
    try:
        return await _send_with_retries(
            session, url, body=body, headers=headers, timeout=timeout, deadline=deadline, breaker=breaker, secret=secret
        )
    except asyncio.CancelledError:
        # The client left (or the overall deadline struck: provider.py counts that): a cancelled
        # call proves nothing about the upstream, but a probe must free its slot, or the breaker
        # would refuse every later call on this model for good.
        breaker.refused()
        raise


async def _send_with_retries(
    session: aiohttp.ClientSession,
    url: str,
    *,
    body: bytes,
    headers: dict,
    timeout: aiohttp.ClientTimeout,
    deadline: float,
    breaker: Breaker,
    secret: str,
) -> aiohttp.ClientResponse:
    loop = asyncio.get_running_loop()
    attempt = 0
    while True:
        response = None
        try:
            response = await session.post(url, data=body, headers=headers, timeout=timeout)
        except RETRYABLE_ERRORS as exc:
            cause = describe(exc)
        except aiohttp.ClientError as exc:
            breaker.failed()
            raise ProviderFailure(f"{describe(exc)} (calling the provider)") from None
        else:
            if 200 <= response.status < 300:
                breaker.succeeded()
                return response
            # Scrubbed before it is cut: a key straddling the cut would leave its start in the log.
            try:
                body_start = await response.content.read(4096)
            except aiohttp.ClientError:
                body_start = b""
            finally:
                response.release()
            cause = f"HTTP {response.status}: {scrub(body_start.decode('utf-8', 'replace'), secret)[:300]}"
            if not is_retryable_status(response.status):
                # A refused request (see the module's docstring), never an upstream fault.
                breaker.refused()
                raise ProviderFailure(
                    cause, status=response.status, model_gone=says_model_gone(response.status, body_start)
                )
        delay = backoff(attempt, response)
        attempt += 1
        if attempt > settings.LLM_MAX_RETRIES or loop.time() + delay >= deadline:
            breaker.failed()
            raise ProviderFailure(
                f"{cause} (after {attempt} attempt{'s' if attempt > 1 else ''})",
                status=response.status if response is not None else None,
            )
        await asyncio.sleep(delay)
