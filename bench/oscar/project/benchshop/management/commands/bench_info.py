"""Print facts the benchmark needs as JSON: product page paths, or row counts."""

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from oscar.core.loading import get_model

Basket = get_model("basket", "Basket")
Line = get_model("basket", "Line")
Product = get_model("catalogue", "Product")


class Command(BaseCommand):
    help = "Print product paths (--paths) or product, basket and line counts as JSON."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--paths", action="store_true")

    def handle(self, *_args: Any, **options: Any) -> None:
        if options["paths"]:
            products = Product.objects.filter(upc__startswith="BENCH-").order_by("id")
            out: Any = [{"id": p.id, "path": p.get_absolute_url()} for p in products]
        else:
            out = {
                "products": Product.objects.filter(upc__startswith="BENCH-").count(),
                "baskets": Basket.objects.count(),
                "lines": Line.objects.count(),
            }
        self.stdout.write(json.dumps(out))
