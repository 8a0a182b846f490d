"""The catalog an install starts with: the environment provider (LLM_BASE_URL / LLM_API_KEY), Groq's current
production text models, and the ids the catalog shipped before, kept as *retired* so a channel or an API client
still naming one is served by its replacement.

Sources (each checked with the search tool on 2026-12-06; the date is the source's own):
- [models]  https://console.groq.com/docs/models (production table; gpt-oss-120b $0.15 / $0.60, 131,072 context,
            65,536 max completion, quoted from it in braintrustdata/braintrust-proxy issue #925 and PR #576,
            2026-05-19); anomalyco/models.dev providers/groq/models/openai/gpt-oss-{120b,20b}.toml (last_updated
            2026-05-27): context 131,072, output 65,536, $0.15/$0.60 and $0.075/$0.30, reasoning effort
            low/medium/high, tool_call, structured_output, text-only input.
- [tools]   https://console.groq.com/docs/tool-use and models.dev PR #598 (2026-01-04): gpt-oss-20b/120b support
            JSON-schema structured outputs; RooCodeInc/Roo-Code PR #6732 (2025-08-05): tool use and JSON object mode.
- [reason]  https://console.groq.com/docs/reasoning (in https://console.groq.com/llms-full.txt): gpt-oss puts its
            reasoning in the `reasoning` field; DataTalksClub/llm-zoomcamp issue #183 (2026-08-15): effort low/medium/high only.
- [aug26]   Groq's notice of 2026-07-14 quoted in karthink/gptel issue #1478: llama-3.3-70b-versatile decommissioned
            2026-08-16 (free and developer tiers), replacement GPT OSS 120B; gptel PR #1481 (2026-07-15):
            llama-3.1-8b-instant -> openai/gpt-oss-20b; langchain-ai/langchain PR #38363 (2026-06-22) the same pair;
            the 404 `model_not_found` after that day: ITSpecialist111/ai_automation_suggester issue #187 (2026-08-18).
- [older]   llama-3.1-70b-versatile shut down, Groq's replacement llama-3.3-70b-versatile: langchain PR #29441
            (2025-01-27), rashadphz/farfalle issue #107 (2025-02-12); mixtral-8x7b-32768 decommissioned 2025-03-20:
            papi-ai/groq release v0.15.2; gemma2-9b-it decommissioned: RightNow-AI/openfang issue #834 (2026-03-24),
            Helicone PR #5139 (2025-10-27). llama-3.2-90b-text-preview: no public notice found; Groq's 3.2 previews
            were decommissioned (llama-3.2-90b-vision-preview on 2025-04-14, agno-docs-v1 PR #251), so it is
            treated as retired with the 70B's path.
A retired model's replacement must be live, so each old id points at the end of Groq's chain of replacements
(llama-3.1-70b -> llama-3.3-70b -> gpt-oss-120b becomes llama-3.1-70b -> gpt-oss-120b).

Used by the migrations (0012 with its historical models: LEGACY only; 0015: the current catalog) and by the test
suite to restore it after a test empties the tables.
"""

from decimal import Decimal

from django.db.models import Count, Q

K = 1024
ENVIRONMENT_PROVIDER = "Environment (LLM_BASE_URL)"
DEFAULT_MODEL = "openai/gpt-oss-120b"

# The five models the catalog shipped with (Groq's prices as they listed them then), for migration 0012.
# slug, name, context window, max output, input price, output price, speed, best for
LEGACY = (
    ("llama-3.3-70b-versatile", "Llama 3.3 70B", 128 * K, 8 * K, "0.59", "0.79", "~180 TPS", "general purpose, reasoning"),
    ("llama-3.1-70b-versatile", "Llama 3.1 70B", 128 * K, 8 * K, "0.59", "0.79", "~150 TPS", "complex tasks, code generation"),
    ("llama-3.2-90b-text-preview", "Llama 3.2 90B", 128 * K, 8 * K, "0.90", "0.90", "~100 TPS", "large context tasks"),
    ("mixtral-8x7b-32768", "Mixtral 8x7B", 32 * K, 32 * K, "0.24", "0.24", "~200 TPS", "fast responses, coding"),
    ("gemma2-9b-it", "Gemma 2 9B", 8 * K, 4 * K, "0.20", "0.20", "~250 TPS", "lightweight, fast tasks"),
)

GPT_OSS = {  # [models] [tools] [reason]
    "supports_streaming": True, "supports_tools": True, "supports_json_object": True, "supports_json_schema": True,
    "supports_reasoning": True, "supports_vision": False,
}

# Groq's production text models on 2026-12-06 [models] [aug26]: what owners pick.
# slug, name, context window, max output, input $, output $, speed, best for, capabilities
CURRENT = (
    ("openai/gpt-oss-120b", "GPT-OSS 120B", 131_072, 65_536, "0.15", "0.60", "~500 TPS", "general purpose, reasoning, tools", GPT_OSS),
    ("openai/gpt-oss-20b", "GPT-OSS 20B", 131_072, 65_536, "0.075", "0.30", "~1000 TPS", "fast, low cost, reasoning", GPT_OSS),
)

# Retired ids and the live model their channels move to [aug26] [older].
RETIRED = {
    "llama-3.3-70b-versatile": "openai/gpt-oss-120b",
    "llama-3.1-8b-instant": "openai/gpt-oss-20b",
    "llama-3.1-70b-versatile": "openai/gpt-oss-120b",
    "llama-3.2-90b-text-preview": "openai/gpt-oss-120b",
    "mixtral-8x7b-32768": "openai/gpt-oss-120b",
    "gemma2-9b-it": "openai/gpt-oss-20b",
}
# Not in LEGACY but named by clients of Groq until 2026-08-16 [aug26] (Groq's listed limits and prices then).
EXTRA_RETIRED = (
    ("llama-3.1-8b-instant", "Llama 3.1 8B", 131_072, 131_072, "0.05", "0.08", "~840 TPS", "lightweight, fast tasks"),
)


def _provider(apps):
    Provider = apps.get_model("channels_app", "Provider")
    provider, _ = Provider.objects.get_or_create(name=ENVIRONMENT_PROVIDER, defaults={"from_environment": True})
    return provider


def _model_row(slug, name, window, output, price_in, price_out, speed, best_for, position):
    return {
        "name": name, "context_window": window, "max_output": output, "input_price": Decimal(price_in),
        "output_price": Decimal(price_out), "speed": speed, "best_for": best_for, "position": position,
    }


def seed_legacy(apps) -> None:
    """The environment provider and the five models as the catalog first shipped them (migration 0012)."""
    AiModel = apps.get_model("channels_app", "AiModel")
    provider = _provider(apps)
    for position, row in enumerate(LEGACY, start=1):
        AiModel.objects.get_or_create(slug=row[0], defaults={"provider": provider, **_model_row(*row, position * 10)})


def seeded(apps) -> bool:
    """Whether the catalog holds what `seed` makes: every model it names, each old id retired (one query)."""
    AiModel = apps.get_model("channels_app", "AiModel")
    slugs = {row[0] for row in CURRENT + LEGACY + EXTRA_RETIRED}
    found = AiModel.objects.aggregate(
        present=Count("pk", filter=Q(slug__in=slugs)),
        retired=Count("pk", filter=Q(slug__in=list(RETIRED), status="retired", replacement__isnull=False)),
    )
    return found["present"] == len(slugs) and found["retired"] == len(RETIRED)


def seed(apps) -> None:
    """Today's catalog, where missing (safe to run again): the current models, and the old ids retired.

    An old id already in the table keeps its row but becomes retired with its
    replacement; moving the channels that name one is the migration's job
    (0015), since here there may be none. Missing rows are inserted in two
    statements (no save signals: a caller with caches forgets them itself).
    """
    AiModel = apps.get_model("channels_app", "AiModel")
    provider = _provider(apps)
    present = set(AiModel.objects.values_list("slug", flat=True))
    AiModel.objects.bulk_create([
        AiModel(slug=row[0], provider=provider, **_model_row(*row, position * 10), **capabilities)
        for position, (*row, capabilities) in enumerate(CURRENT, start=1) if row[0] not in present
    ])
    replacements = dict(AiModel.objects.filter(slug__in=set(RETIRED.values())).values_list("slug", "pk"))
    positions = {slug: position * 10 for position, slug in enumerate(RETIRED, start=len(CURRENT) + 1)}

    def retired(slug):
        return {"status": "retired", "replacement_id": replacements[RETIRED[slug]], "position": positions[slug]}

    def old_model(row):
        fields = _model_row(*row, 100)
        if row[0] in RETIRED:
            fields.update(retired(row[0]))
        return AiModel(slug=row[0], provider=provider, **fields)

    AiModel.objects.bulk_create([old_model(row) for row in LEGACY + EXTRA_RETIRED if row[0] not in present])
    for slug in AiModel.objects.filter(slug__in=RETIRED).exclude(status="retired").values_list("slug", flat=True):
        AiModel.objects.filter(slug=slug).update(**retired(slug))
