"""Knowledge: the sources a channel answers from (its owner's site, files, text snippets, Q&A pairs).

Owns: `Source`, `Page`, `Chunk`, `Answer` (knowledge/models.py) and their full-text
indexes (knowledge/migrations); ingestion as background work (jobs.py → ingestion.py:
crawler.py and fetching.py for sites, extraction.py for files and pages, chunking.py);
retrieval behind one interface chosen at start-up (retrieval/: FTS5 on SQLite,
tsvector on PostgreSQL); optional embeddings behind another (embeddings.py: off, or
the provider's /embeddings); what a chat is given (grounding.py, called by
conversations/engine/pipeline.py after the credit is held); the crawler's pinned outbound
connection (outbound.py) and `manage.py knowledge`. Its page is the dashboard's
(dashboard/knowledge_views.py).

May import: channels_app (Channel), gateway.infra (jobs, database phases, adb),
teams.policy (who may see and change it), gateway.infra.outbound (the address rule) through
outbound.py only. Reads are in selectors.py, writes in services.py. Nothing else
imports its internals: conversations uses grounding.py alone. docs/knowledge.md.
"""
