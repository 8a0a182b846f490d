from openai import OpenAI  # pip install openai

client = OpenAI(base_url="__HOST__/v1", api_key="__KEY__")
answer = client.chat.completions.create(
    model=client.models.list().data[0].id,  # the channel's model
    messages=[{"role": "user", "content": "Hello! What can you help me with?"}],
    user="user-session-abc123",  # the session it is stored in (GET /api/history)
)
print(answer.choices[0].message.content)
