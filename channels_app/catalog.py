"""The models a channel can use: the contract's table, with the numbers the gateway needs."""

from dataclasses import dataclass


@dataclass(frozen=True)
class CatalogModel:
    id: str
    name: str
    context_window: int  # tokens
    max_output: int  # tokens
    speed: str
    best_for: str

    @property
    def output_reserve(self) -> int:
        """Tokens asked for as `max_tokens` and kept free of prompt.

        Capped at a quarter of the context: Mixtral's max output equals its
        whole window, which would otherwise leave no room for the prompt.
        """
        return min(self.max_output, self.context_window // 4)

    @property
    def prompt_budget(self) -> int:
        return self.context_window - self.output_reserve


K = 1024
MODELS: tuple[CatalogModel, ...] = (
    CatalogModel("llama-3.3-70b-versatile", "Llama 3.3 70B", 128 * K, 8 * K, "~180 TPS", "general purpose, reasoning"),
    CatalogModel("llama-3.1-70b-versatile", "Llama 3.1 70B", 128 * K, 8 * K, "~150 TPS", "complex tasks, code generation"),
    CatalogModel("llama-3.2-90b-text-preview", "Llama 3.2 90B", 128 * K, 8 * K, "~100 TPS", "large context tasks"),
    CatalogModel("mixtral-8x7b-32768", "Mixtral 8x7B", 32 * K, 32 * K, "~200 TPS", "fast responses, coding"),
    CatalogModel("gemma2-9b-it", "Gemma 2 9B", 8 * K, 4 * K, "~250 TPS", "lightweight, fast tasks"),
)
BY_ID = {m.id: m for m in MODELS}
DEFAULT_MODEL_ID = MODELS[0].id
CHOICES = [(m.id, m.name) for m in MODELS]


def get_model(model_id: str) -> CatalogModel:
    """The catalog entry for `model_id`; KeyError when the id is not in the catalog."""
    return BY_ID[model_id]
