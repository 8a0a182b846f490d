"""Write a git-ignored .env with fresh secrets, once, so `make run` needs no configuration."""

import base64
import secrets
import sys
from pathlib import Path

path = Path(sys.argv[1] if len(sys.argv) > 1 else ".env")
if path.exists():
    sys.exit(0)
path.write_text(
    "# Written by `make run` on first run. Local, plain-HTTP settings; see the README for production.\n"
    f"SECRET_KEY={secrets.token_urlsafe(50)}\n"
    f"KEY_ENCRYPTION_KEY={base64.b64encode(secrets.token_bytes(32)).decode()}\n"
    f"KEY_DIGEST_SECRET={base64.b64encode(secrets.token_bytes(32)).decode()}\n"
    "DEBUG=False\n"
    "SECURE_SSL_REDIRECT=False\n"
    "SESSION_COOKIE_SECURE=False\n"
    "CSRF_COOKIE_SECURE=False\n"
    "LLM_API_KEY=\n"
)
path.chmod(0o600)
print(f"Wrote {path} with fresh secrets.")
