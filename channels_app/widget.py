"""What the embeddable widget's CORS preflight asks: may this origin use this publishable key?"""

from channels_app import credentials, keys
from channels_app.credentials import PresentedKey
from gateway.infra.errors import ApiError


async def origin_allowed(*, raw: str, origin: str) -> bool:
    """Whether `raw` is a usable publishable key whose channel allows `origin`.

    An inactive channel's is allowed too, so the widget can read the request's "Site is inactive".
    """
    if not keys.is_well_formed_publishable(raw):
        return False
    try:
        await credentials.resolve(PresentedKey(raw, publishable=True, origin=origin))
    except credentials.ChannelInactive:
        return True
    except ApiError:
        return False
    return True
