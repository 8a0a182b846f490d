"""Paginators for admin lists of tables that grow without bound (messages, sessions, failed requests).

Django's admin counts the whole filtered list (`SELECT COUNT(*)`) to number its pages: at millions of rows that
count alone takes seconds.

- CappedCountPaginator counts at most CAP rows (`SELECT COUNT(*) FROM (… LIMIT CAP)`), the same bounded work on
  SQLite and PostgreSQL and true for any filter, unlike PostgreSQL's table statistics (pg_class.reltuples), which
  only estimate the unfiltered table. Past CAP the admin offers CAP / per_page pages; staff narrow the list with
  its filters and search instead of paging deeper.
- NextPagePaginator does not count at all: it reads the asked page and one row more, so it knows only whether a
  next page exists. For filtered lists, where even a capped count walks up to CAP matching rows through the
  filter (a small channel's messages are found by walking the whole table's index until CAP of them turn up).
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


class NextPagePaginator(Paginator):
    """Pages `object_list` reading only page `number` and the row after it (one query, no count).

    `count` is the rows up to the end of that page plus one when another follows: exact on the last page, and
    enough for the admin to link up to the next page. `uncounted` tells the admin's templates
    (templates/admin/conversations/) to say "page N" rather than a count while more pages follow.
    """

    uncounted = True

    def __init__(self, object_list, per_page, orphans=0, allow_empty_first_page=True, *, number: int = 1):
        super().__init__(object_list, per_page, orphans, allow_empty_first_page)
        self.number = max(number, 1)

    @cached_property
    def _rows(self) -> list:
        start = (self.number - 1) * self.per_page
        return list(self.object_list[start : start + self.per_page + 1])

    @cached_property
    def count(self) -> int:
        return (self.number - 1) * self.per_page + len(self._rows)

    @property
    def has_more(self) -> bool:
        return len(self._rows) > self.per_page

    def page(self, number):
        number = self.validate_number(number)
        if number == self.number:
            return self._get_page(self._rows[: self.per_page], number, self)
        return super().page(number)
