from __future__ import annotations

from rest_framework.pagination import PageNumberPagination
from rest_framework.request import Request

from media_library import conf


class Pages(PageNumberPagination):
    """`?page=N`, as many per page as the library's pages show (MEDIA_PAGE_SIZE)."""

    def get_page_size(self, request: Request) -> int:
        return conf.page_size()
