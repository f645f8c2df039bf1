from django.http import HttpRequest, HttpResponse

from inbox.views.inbox import inbox_page


def home(request: HttpRequest) -> HttpResponse:
    """The home page is the inbox, with no conversation open."""
    return inbox_page(request)
