"""Providers and the model catalog: which models a channel may use, what they cost, and how to call them.

The catalog (`catalog.py`: the process's snapshot, read without a query while fresh; its tables in
`catalog_models.py`, registered with channels_app so their migrations stay there; `catalog_seed.py`,
`catalog_sync.py` the providers' /models lists, `catalog_services.py` its writes, `catalog_notices.py`) and the
OpenAI-compatible client the chat engine calls (`provider.py` over aiohttp; retries and the circuit breaker in
`resilience.py`; `reasoning.py` a reply's reasoning fields; `tokens.py` local token counts with the tokenizer
shipped in `tokenizer/`; `page_context.py` the page-context message both the prompt and the client know).

May import: channels_app's keys (a provider key is sealed like a channel's), gateway.infra. Retiring a model moves
channels, so it is channels_app/model_retirement.py, above this folder; the catalog's staff admin is
channels_app/admin_catalog.py.
"""
