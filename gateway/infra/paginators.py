"""A paginator for admin lists of tables that grow without bound (messages, sessions, failed requests).

Django's admin counts the whole filtered list (`SELECT COUNT(*)`) to number its pages: at millions of rows that
count alone takes seconds. This one counts at most CAP rows (`SELECT COUNT(*) FROM (… LIMIT CAP)`), the same
bounded work on SQLite and PostgreSQL and true for any filter, unlike PostgreSQL's table statistics
(pg_class.reltuples), which only estimate the unfiltered table. Past CAP the admin offers CAP / per_page
pages; staff narrow the list with its filters and search instead of paging deeper.
"""

from django.core.paginator import Paginator
from django.utils.functional import cached_property


class CappedCountPaginator(Paginator):
    CAP = 10_000

    @cached_property
    def count(self) -> int:
        try:
            return self.object_list.order_by().values("pk")[: self.CAP].count()
        except AttributeError:  # not a QuerySet
            return min(len(self.object_list), self.CAP)
