"""Count the SQL statements of one product page view and one basket add by a new visitor.

Runs in-process through Django's test client (with CSRF checks on), against the bench database:
the add creates a real basket row, like the benchmark does.
"""

from typing import Any

from django.core.management.base import BaseCommand
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from oscar.core.loading import get_model

Product = get_model("catalogue", "Product")


class Command(BaseCommand):
    help = "Print the SQL statement count of a product page and of a new visitor's basket add."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--sql", action="store_true", help="print the statements too")

    def handle(self, *_args: Any, **options: Any) -> None:
        product = Product.objects.filter(upc__startswith="BENCH-").order_by("id")[10]
        client = Client(enforce_csrf_checks=True, HTTP_HOST="127.0.0.1")
        client.get(product.get_absolute_url())  # warm caches (templates, thumbnails, site)
        client = Client(enforce_csrf_checks=True, HTTP_HOST="127.0.0.1")
        with CaptureQueriesContext(connection) as page:
            response = client.get(product.get_absolute_url())
        self._show("product page", response.status_code, page, options["sql"])
        token = client.cookies["csrftoken"].value
        with CaptureQueriesContext(connection) as add:
            response = client.post(
                f"/basket/add/{product.pk}/",
                {"csrfmiddlewaretoken": token, "quantity": 1, "next": "/basket/"},
            )
        self._show("basket add", response.status_code, add, options["sql"])

    def _show(self, what: str, status: int, queries: CaptureQueriesContext, sql: bool) -> None:
        self.stdout.write(f"{what}: HTTP {status}, {len(queries)} SQL statements")
        if sql:
            for q in queries.captured_queries:
                self.stdout.write(f"    {q['sql'][:160]}")
