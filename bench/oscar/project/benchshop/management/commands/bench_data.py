"""Load the benchmark catalogue: N products in 20 categories, one USD stock record each.

Idempotent: does nothing when exactly N bench products exist; otherwise replaces them (and every
basket, since basket lines point at products). Bulk inserts keep a 1,000-product load to seconds.
--reset-baskets empties the basket tables so every run starts alike (benchmark adds pile up).
"""

from decimal import Decimal
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.db import connection, transaction
from oscar.core.loading import get_model

Basket = get_model("basket", "Basket")
Category = get_model("catalogue", "Category")
Partner = get_model("partner", "Partner")
Product = get_model("catalogue", "Product")
ProductCategory = get_model("catalogue", "ProductCategory")
ProductClass = get_model("catalogue", "ProductClass")
StockRecord = get_model("partner", "StockRecord")

CATEGORIES = 20
UPC_PREFIX = "BENCH-"
DESCRIPTION = (
    "<p>A hands-on course with video lectures, exercises and a final project. "
    "You will learn the fundamentals step by step and build something real.</p>" * 4
)


class Command(BaseCommand):
    help = "Create the benchmark products, categories and stock records."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--products", type=int, default=1000)
        parser.add_argument("--reset-baskets", action="store_true")

    def handle(self, *_args: Any, **options: Any) -> None:
        wanted = options["products"]
        if options["reset_baskets"]:
            with connection.cursor() as cursor:
                # CASCADE reaches lines, line attributes and the (empty) order tables.
                cursor.execute("TRUNCATE basket_basket RESTART IDENTITY CASCADE")
        have = Product.objects.filter(upc__startswith=UPC_PREFIX).count()
        if have == wanted:
            self.stdout.write(f"{have} bench products present; nothing to do")
            return
        with transaction.atomic():
            Basket.objects.all().delete()
            Product.objects.filter(upc__startswith=UPC_PREFIX).delete()
            categories = _categories()
            _products(wanted, categories)
        self.stdout.write(f"created {wanted} products in {len(categories)} categories")


def _categories() -> list[Any]:
    existing = list(Category.objects.filter(code__startswith="bench-").order_by("code"))
    if len(existing) == CATEGORIES:
        return existing
    # Treebeard computes each node's path: add_root one by one (20 inserts).
    return [
        Category.add_root(name=f"Category {i:02d}", code=f"bench-{i:02d}", is_public=True)
        for i in range(CATEGORIES)
    ]


def _products(count: int, categories: list[Any]) -> None:
    product_class, _ = ProductClass.objects.get_or_create(
        name="Course", defaults={"requires_shipping": False, "track_stock": True}
    )
    partner, _ = Partner.objects.get_or_create(name="Bench partner")
    products = Product.objects.bulk_create(
        Product(
            structure=Product.STANDALONE,
            upc=f"{UPC_PREFIX}{i:06d}",
            title=f"Course {i:04d}: practical topic number {i}",
            slug=f"course-{i:04d}",
            description=DESCRIPTION,
            product_class=product_class,
            is_public=True,
            is_discountable=True,
        )
        for i in range(count)
    )
    ProductCategory.objects.bulk_create(
        ProductCategory(product=p, category=categories[i % len(categories)])
        for i, p in enumerate(products)
    )
    StockRecord.objects.bulk_create(
        StockRecord(
            product=p,
            partner=partner,
            partner_sku=p.upc,
            price_currency="USD",
            price=Decimal(19 + i % 80) + Decimal("0.99"),
            num_in_stock=1_000_000_000,
        )
        for i, p in enumerate(products)
    )
