"""The catalog an install starts with: the environment provider (LLM_BASE_URL / LLM_API_KEY) and the five models
the catalog had before it moved into the database, with Groq's published prices (US dollars per million tokens,
input / output, from https://groq.com/pricing as of their listing).

Used by the data migration (channels_app/migrations/0012_model_catalog.py) with its historical models, and by the
test suite to restore it after a test empties the tables. Groq has since retired four of these ids: staff mark them
deprecated or retired with a replacement in the admin; a provider answering "decommissioned" flags them meanwhile.
"""

from decimal import Decimal

K = 1024
ENVIRONMENT_PROVIDER = "Environment (LLM_BASE_URL)"

# slug, name, context window, max output, input price, output price, speed, best for
MODELS = (
    ("llama-3.3-70b-versatile", "Llama 3.3 70B", 128 * K, 8 * K, "0.59", "0.79", "~180 TPS", "general purpose, reasoning"),
    ("llama-3.1-70b-versatile", "Llama 3.1 70B", 128 * K, 8 * K, "0.59", "0.79", "~150 TPS", "complex tasks, code generation"),
    ("llama-3.2-90b-text-preview", "Llama 3.2 90B", 128 * K, 8 * K, "0.90", "0.90", "~100 TPS", "large context tasks"),
    ("mixtral-8x7b-32768", "Mixtral 8x7B", 32 * K, 32 * K, "0.24", "0.24", "~200 TPS", "fast responses, coding"),
    ("gemma2-9b-it", "Gemma 2 9B", 8 * K, 4 * K, "0.20", "0.20", "~250 TPS", "lightweight, fast tasks"),
)


def seed(apps) -> None:
    """Create the environment provider and the five models, where missing (safe to run again)."""
    Provider = apps.get_model("channels_app", "Provider")
    AiModel = apps.get_model("channels_app", "AiModel")
    provider, _ = Provider.objects.get_or_create(name=ENVIRONMENT_PROVIDER, defaults={"from_environment": True})
    for position, (slug, name, window, output, price_in, price_out, speed, best_for) in enumerate(MODELS, start=1):
        AiModel.objects.get_or_create(
            slug=slug,
            defaults={
                "name": name, "provider": provider, "context_window": window, "max_output": output,
                "input_price": Decimal(price_in), "output_price": Decimal(price_out), "speed": speed,
                "best_for": best_for, "position": position * 10,
            },
        )
