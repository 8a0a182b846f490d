"""A channel's knowledge: its sources (a website, a file, a text snippet, a Q&A pair), their pages and chunks."""

from django.db import models

from channels_app.models import Channel


class Source(models.Model):
    class Kind(models.TextChoices):
        SITE = "site", "Website"
        FILE = "file", "File"
        TEXT = "text", "Text snippet"
        QA = "qa", "Q&A pair"

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        PROCESSING = "processing", "Processing"
        READY = "ready", "Ready"
        FAILED = "failed", "Failed"

    channel = models.ForeignKey(Channel, on_delete=models.CASCADE, related_name="knowledge_sources")
    kind = models.CharField(max_length=8, choices=Kind.choices)
    title = models.CharField(max_length=300)
    # A website's start URL; empty for the other kinds.
    url = models.URLField(max_length=2000, blank=True)
    # A website's crawl: the most pages it reads, and the path its pages must start with ("" : the start URL's folder).
    max_pages = models.PositiveIntegerField(default=50)
    path_prefix = models.CharField(max_length=500, blank=True)
    # A text snippet's text, a Q&A pair's answer (its question is the title); empty for sites and files.
    text = models.TextField(blank=True)
    # An uploaded file, kept so a refresh can extract it again (bounded by KNOWLEDGE_MAX_FILE_BYTES).
    file_name = models.CharField(max_length=255, blank=True)
    file_data = models.BinaryField(null=True, blank=True, editable=False)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.PENDING)
    error = models.CharField(max_length=500, blank=True)
    pages = models.PositiveIntegerField(default=0)
    chunks = models.PositiveIntegerField(default=0)
    chars = models.PositiveBigIntegerField(default=0)  # stored extracted text, counted against the channel's cap
    embedding_tokens = models.PositiveBigIntegerField(default=0)  # what its last ingestion's embeddings took
    created_at = models.DateTimeField(auto_now_add=True)
    refreshed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["channel", "status"])]
        ordering = ["created_at", "id"]

    def __str__(self):
        return f"{self.get_kind_display()} {self.title}"

    @property
    def busy(self) -> bool:
        return self.status in (self.Status.PENDING, self.Status.PROCESSING)


class Page(models.Model):
    """One extracted document of a source: a web page, a file, a snippet. Its text is what the chunks came from."""

    source = models.ForeignKey(Source, on_delete=models.CASCADE, related_name="page_set")
    url = models.CharField(max_length=2000, blank=True)  # normalised (no fragment); empty when it has none
    title = models.CharField(max_length=300, blank=True)
    text = models.TextField()
    # The validators a refresh sends back (If-None-Match, If-Modified-Since): unchanged pages are not read again.
    etag = models.CharField(max_length=300, blank=True)
    last_modified = models.CharField(max_length=100, blank=True)

    class Meta:
        ordering = ["id"]


class Chunk(models.Model):
    """A passage of a page, cut at its headings: what retrieval finds and the model is given.

    Full-text search indexes it: an FTS5 table on SQLite, a generated tsvector column with a GIN
    index on PostgreSQL (both made by knowledge/migrations/0001, knowledge/retrieval reads them).
    """

    channel = models.ForeignKey(Channel, on_delete=models.CASCADE, related_name="+")
    source = models.ForeignKey(Source, on_delete=models.CASCADE, related_name="chunk_set")
    page = models.ForeignKey(Page, on_delete=models.CASCADE, related_name="chunk_set")
    url = models.CharField(max_length=2000, blank=True)
    title = models.CharField(max_length=300, blank=True)
    heading = models.CharField(max_length=300, blank=True)
    text = models.TextField()
    # Its embedding (knowledge/embeddings.py: unit-length float32, little-endian) when embeddings are on.
    embedding = models.BinaryField(null=True, blank=True, editable=False)

    class Meta:
        indexes = [models.Index(fields=["channel", "url"])]
        ordering = ["id"]


class CommonWord(models.Model):
    """A word (its lexeme) in so many of a channel's chunks that searching for it is skipped for a sample.

    Kept by the PostgreSQL retrieval after each change to the channel's chunks (knowledge/retrieval/postgresql.py);
    empty on SQLite, whose FTS5 ranks every match fast enough.
    """

    channel = models.ForeignKey(Channel, on_delete=models.CASCADE, related_name="+")
    lexeme = models.CharField(max_length=200)
    chunks = models.PositiveIntegerField()  # how many of the channel's chunks hold it

    class Meta:
        indexes = [models.Index(fields=["channel", "lexeme"])]


class Answer(models.Model):
    """Which sources one reply was given (none: an "unanswered" question the owner may add a Q&A pair for).

    Kept beside the conversation's messages, not in them: its channel, session and the time the question
    arrived name the reply (the transcript matches them).
    """

    channel = models.ForeignKey(Channel, on_delete=models.CASCADE, related_name="+")
    session_id = models.CharField(max_length=200)
    question = models.TextField()
    asked_at = models.DateTimeField()
    sources = models.JSONField(default=list)  # [{"title", "url"}] as the API answered them
    dismissed = models.BooleanField(default=False)  # an unanswered question the owner dealt with

    class Meta:
        indexes = [models.Index(fields=["channel", "asked_at"])]
        ordering = ["-asked_at", "-id"]
