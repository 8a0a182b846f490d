"""Micro-measurements of single steps of a chat, in process: CPU µs per call, best of 5 rounds.

    DJANGO_SETTINGS_MODULE=gateway.settings_test python -m bench.micro

Steady enough on a shared machine to compare two versions run back to back
(docs/performance.md, "the no-framework floor").
"""

import os
import time

import django

STEPS = ("ChatInput validation", "ChatInput.validated (fast path)", "page context")


def best_us(call, n: int, rounds: int = 5) -> float:
    best = float("inf")
    for _ in range(rounds):
        started = time.process_time()
        for _ in range(n):
            call()
        best = min(best, (time.process_time() - started) / n)
    return best * 1e6


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "gateway.settings_test")
    django.setup()
    from conversations.edge.serializers import ChatInput
    from conversations.engine.prompt import page_context

    data = {"message": "Which of your kettles is the quietest? (#123)", "session_id": "bench-12-3",
            "metadata": {"url": "https://shop.example/p/123", "title": "Product 123"}}

    def validate():
        serializer = ChatInput(data=data)
        assert serializer.is_valid(), serializer.errors

    print(f"ChatInput validation: {best_us(validate, 5000):.1f} µs")
    print(f"ChatInput.validated (fast path): {best_us(lambda: ChatInput.validated(data), 20000):.1f} µs")
    print(f"page context: {best_us(lambda: page_context(data['metadata']), 20000):.1f} µs")


if __name__ == "__main__":
    main()
