"""`manage.py providers list|add|set-key|enable|disable`: the upstream providers, for staff without the admin.

A key is read from standard input or an environment variable, never from the
command line (it would stay in the shell's history and in `ps`).
"""

import os
import sys

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from channels_app.providers import catalog_services
from channels_app.providers.catalog_models import Provider


def _key(opts) -> str:
    if opts.get("key_env"):
        value = os.environ.get(opts["key_env"], "")
        if not value:
            raise CommandError(f"${opts['key_env']} is empty")
        return value
    if opts.get("key_stdin"):
        return sys.stdin.readline().strip()
    return ""


class Command(BaseCommand):
    help = "List and configure upstream AI providers (OpenAI-compatible). Keys come from stdin or an env variable."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        sub.add_parser("list", help="every provider, its URL, key hint and models")
        add = sub.add_parser("add", help="a new provider")
        add.add_argument("name")
        add.add_argument("base_url", help="OpenAI-compatible, up to /v1")
        add.add_argument("--total-timeout", type=float, default=None)
        for parser_ in (add, sub.add_parser("set-key", help="rotate (or remove) a provider's key")):
            parser_.add_argument("--key-env", help="read the key from this environment variable")
            parser_.add_argument("--key-stdin", action="store_true", help="read the key from standard input")
        sub.choices["set-key"].add_argument("name")
        sub.choices["set-key"].add_argument("--remove", action="store_true")
        for action in ("enable", "disable"):
            sub.add_parser(action).add_argument("name")

    def handle(self, *args, **opts):
        action = opts["action"]
        if action == "list":
            for p in Provider.objects.prefetch_related("models"):
                key = "environment" if p.from_environment else (f"…{p.key_hint}" if p.key_ciphertext else "none")
                url = "LLM_BASE_URL" if p.from_environment else p.base_url
                state = "enabled" if p.enabled else "DISABLED"
                models = ", ".join(m.slug for m in p.models.all()) or "-"
                self.stdout.write(f"{p.name}\t{url}\tkey {key}\t{state}\tmodels: {models}")
            return
        if action == "add":
            try:
                provider = catalog_services.provider_create(
                    name=opts["name"], base_url=opts["base_url"], api_key=_key(opts),
                    total_timeout=opts["total_timeout"],
                )
            except ValidationError as exc:
                raise CommandError("; ".join(exc.messages)) from None
            self.stdout.write(f"Added provider {provider.name}.")
            return
        try:
            provider = Provider.objects.get(name=opts["name"])
        except Provider.DoesNotExist:
            raise CommandError(f"No provider named {opts['name']!r}") from None
        if action == "set-key":
            raw = "" if opts["remove"] else _key(opts)
            if not raw and not opts["remove"]:
                raise CommandError("Give the key with --key-stdin or --key-env (or --remove)")
            catalog_services.provider_set_key(provider=provider, api_key=raw)
            self.stdout.write(f"Key of {provider.name} {'removed' if opts['remove'] else 'replaced'}.")
        else:
            provider.enabled = action == "enable"
            provider.save(update_fields=["enabled", "updated_at"])
            self.stdout.write(f"{provider.name} {action}d.")
