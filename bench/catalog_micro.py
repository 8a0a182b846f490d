"""Per-chat CPU of the model catalog's work (catalog lookup, pricing, usage metrics, tokenizer): `python -m bench.catalog_micro`."""
import os
import timeit

os.environ["DJANGO_SETTINGS_MODULE"]="gateway.settings_test"
import django; django.setup()
from django.conf import settings
from django.core.management import call_command

settings.DATABASES["default"]["NAME"]=":memory:"
call_command("migrate", verbosity=0)
from channels_app.providers import catalog
from channels_app.providers.provider import completion_with_usage
from gateway.infra.metrics import usage_record

snap = catalog.snapshot()
m = snap.serving("llama-3.3-70b-versatile")
msgs=[{"role":"system","content":"x"*200},{"role":"user","content":"Hello there, what do you sell?"}]
n=100000
t=timeit.timeit(lambda: (catalog.snapshot(), snap.serving("llama-3.3-70b-versatile"), snap.serving("gemma2-9b-it")), number=n)
print("snapshot lookup (model+fallback): %.2f us" % (t/n*1e6))
t=timeit.timeit(lambda: m.cost(211, 87), number=n); print("cost: %.2f us" % (t/n*1e6))
t=timeit.timeit(lambda: usage_record(m.id, 211, 87, m.cost(211,87)), number=n); print("metrics usage_record: %.2f us" % (t/n*1e6))
t=timeit.timeit(lambda: completion_with_usage("Echo: Hello there", m, msgs, {"prompt_tokens":11,"completion_tokens":7}, 3, "stop"), number=n); print("completion with usage: %.2f us" % (t/n*1e6))
n2=20000
t=timeit.timeit(lambda: completion_with_usage("Echo: Hello there, what do you sell? " * 5, m, msgs, None, 3, "stop"), number=n2); print("completion WITHOUT usage (tiktoken estimate): %.2f us" % (t/n2*1e6))
