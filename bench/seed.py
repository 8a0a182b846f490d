"""Seed the bench database: channels with keys, and sessions with 0–20 prior messages.

Run with the bench environment (DJANGO_SETTINGS_MODULE and the rest set by bench.run):

    python -m bench.seed --channels 200 --sessions 10 --out /tmp/.../targets.json

Writes the plaintext keys and session ids to --out (a temp file outside git):
keys are shown only when they are issued.
"""

import argparse
import json
import random
from datetime import timedelta

import django

SYSTEM_PROMPT = (
    "You are the helpful assistant of an online shop that sells kitchen equipment. Answer in the "
    "customer's language, keep answers short, and link to the relevant product page when you can. "
    "Never invent prices or delivery dates; if you do not know, say so and offer to connect a human."
)
QUESTIONS = [
    "Do you ship to Austria, and how long does delivery usually take?",
    "Is the blue enamel pot dishwasher safe?",
    "What is the difference between the 24 cm and the 28 cm frying pan?",
    "Can I return a knife set I bought three weeks ago if the box is opened?",
    "Which of your kettles is the quietest?",
]
ANSWER = (
    "Good question! Here is what I found in our catalogue: the item you asked about is in stock, ships within "
    "two working days, and comes with a two-year warranty. You can find all details on the product page. "
    "Is there anything else I can help you with?"
)
HUGE = 1_000_000_000  # credits and limits high enough that no bench request is refused


def seed(*, channels: int, sessions: int, max_history: int, rng: random.Random) -> dict:
    from django.utils import timezone

    from channels_app.providers import catalog
    from channels_app.services import channel_create, owner_get_or_create
    from conversations.models import Message, Session

    owner = owner_get_or_create(email="bench@example.com")
    now = timezone.now()
    models = [m.id for m in catalog.pickable()]
    targets = []
    for i in range(channels):
        channel, issued = channel_create(
            owner=owner,
            name=f"Bench site {i}",
            model=models[i % len(models)],
            system_prompt=SYSTEM_PROMPT,
            credits=HUGE,
            rate_limit_per_minute=HUGE,
            daily_limit=HUGE,
            ignore_cap=True,  # an operator's tool: the bench owner has as many channels as asked
        )
        rows = [
            Session(
                channel=channel,
                session_id=f"bench-{i}-{s}",
                started_at=now - timedelta(minutes=30),
                expires_at=now + timedelta(hours=23),
            )
            for s in range(sessions)
        ]
        Session.objects.bulk_create(rows)
        messages = []
        for session in rows:
            for m in range(rng.randint(0, max_history // 2) * 2):  # whole exchanges: 0, 2, ... max_history
                user = m % 2 == 0
                messages.append(
                    Message(
                        session=session,
                        role=Message.Role.USER if user else Message.Role.ASSISTANT,
                        content=rng.choice(QUESTIONS) if user else ANSWER,
                        created_at=now - timedelta(minutes=30 - m),
                        model="" if user else channel.model,
                    )
                )
            targets.append({"key": issued.plaintext, "session_id": session.session_id})
        Message.objects.bulk_create(messages, batch_size=2000)
    rng.shuffle(targets)
    return {"targets": targets, "messages": Message.objects.count(), "sessions": Session.objects.count()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--channels", type=int, default=200)
    parser.add_argument("--sessions", type=int, default=10, help="sessions per channel")
    parser.add_argument("--max-history", type=int, default=20)
    parser.add_argument("--seed", type=int, default=4)
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    django.setup()
    result = seed(
        channels=args.channels, sessions=args.sessions, max_history=args.max_history, rng=random.Random(args.seed)
    )
    with open(args.out, "w") as f:
        json.dump(result, f)


if __name__ == "__main__":
    main()
