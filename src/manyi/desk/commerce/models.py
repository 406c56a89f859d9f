"""The canonical shop tables (``manyi.data.schema``) as Django models, under their canonical names.

Single-key tables use their natural key as primary key, so foreign-key columns carry the
canonical names (``orders.customer_id``). Tables keyed by two columns have a surrogate ``id``
and a unique constraint on the natural key. Money is ``Decimal`` with two places, in the
order's ``currency``. Indexes serve the joins and time filters that analysis runs.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from manyi.data.schema import ID
from manyi.desk.commerce.fields import KeyField


class OrderStatus(models.TextChoices):
    CREATED = "created", _("Created")
    APPROVED = "approved", _("Approved")
    INVOICED = "invoiced", _("Invoiced")
    PROCESSING = "processing", _("Processing")
    SHIPPED = "shipped", _("Shipped")
    DELIVERED = "delivered", _("Delivered")
    CANCELED = "canceled", _("Canceled")
    UNAVAILABLE = "unavailable", _("Unavailable")


class Customer(models.Model):
    customer_id = KeyField(_("customer"), max_length=ID, primary_key=True)
    region = models.CharField(_("region"), max_length=64, null=True, blank=True)
    city = models.CharField(_("city"), max_length=128, null=True, blank=True)
    zip_code = models.CharField(_("postcode"), max_length=16, null=True, blank=True)
    created_at = models.DateTimeField(_("first seen"), null=True, blank=True)

    class Meta:
        db_table = "customers"
        verbose_name = _("customer")
        verbose_name_plural = _("customers")
        indexes = [models.Index(fields=["region"], name="customers_region")]

    def __str__(self) -> str:
        return str(self.customer_id)


class Product(models.Model):
    product_id = KeyField(_("product"), max_length=ID, primary_key=True)
    category = models.CharField(_("category"), max_length=128, null=True, blank=True)
    category_en = models.CharField(_("category (English)"), max_length=128, null=True, blank=True)
    weight_g = models.PositiveIntegerField(_("weight (g)"), null=True, blank=True)
    length_cm = models.PositiveIntegerField(_("length (cm)"), null=True, blank=True)
    height_cm = models.PositiveIntegerField(_("height (cm)"), null=True, blank=True)
    width_cm = models.PositiveIntegerField(_("width (cm)"), null=True, blank=True)
    photos_qty = models.PositiveIntegerField(_("photos"), null=True, blank=True)
    name_length = models.PositiveIntegerField(_("name length"), null=True, blank=True)
    description_length = models.PositiveIntegerField(_("description length"), null=True, blank=True)

    class Meta:
        db_table = "products"
        verbose_name = _("product")
        verbose_name_plural = _("products")
        indexes = [models.Index(fields=["category"], name="products_category")]

    def __str__(self) -> str:
        return str(self.product_id)


class Seller(models.Model):
    seller_id = KeyField(_("seller"), max_length=ID, primary_key=True)
    region = models.CharField(_("region"), max_length=64, null=True, blank=True)
    city = models.CharField(_("city"), max_length=128, null=True, blank=True)
    zip_code = models.CharField(_("postcode"), max_length=16, null=True, blank=True)

    class Meta:
        db_table = "sellers"
        verbose_name = _("seller")
        verbose_name_plural = _("sellers")

    def __str__(self) -> str:
        return str(self.seller_id)


class Order(models.Model):
    order_id = KeyField(_("order"), max_length=ID, primary_key=True)
    customer = models.ForeignKey(
        Customer,
        on_delete=models.PROTECT,
        db_column="customer_id",
        db_index=False,  # orders_customer_purchased covers it
        related_name="orders",
        verbose_name=_("customer"),
    )
    source_customer_id = models.CharField(
        _("customer id in the source"), max_length=ID, null=True, blank=True
    )
    status = models.CharField(_("status"), max_length=16, choices=OrderStatus.choices)
    purchased_at = models.DateTimeField(_("purchased"))
    approved_at = models.DateTimeField(_("approved"), null=True, blank=True)
    shipped_at = models.DateTimeField(_("shipped"), null=True, blank=True)
    delivered_at = models.DateTimeField(_("delivered"), null=True, blank=True)
    estimated_delivery_at = models.DateTimeField(_("estimated delivery"), null=True, blank=True)
    currency = models.CharField(_("currency"), max_length=3)
    item_total = models.DecimalField(
        _("items total"), max_digits=14, decimal_places=2, null=True, blank=True
    )
    freight_total = models.DecimalField(
        _("freight total"), max_digits=14, decimal_places=2, null=True, blank=True
    )

    class Meta:
        db_table = "orders"
        verbose_name = _("order")
        verbose_name_plural = _("orders")
        indexes = [
            models.Index(fields=["purchased_at"], name="orders_purchased_at"),
            models.Index(fields=["customer", "purchased_at"], name="orders_customer_purchased"),
            models.Index(fields=["delivered_at"], name="orders_delivered_at"),
            models.Index(fields=["status", "purchased_at"], name="orders_status_purchased"),
        ]

    def __str__(self) -> str:
        return str(self.order_id)


class OrderItem(models.Model):
    order = models.ForeignKey(
        Order,
        on_delete=models.CASCADE,
        db_column="order_id",
        db_index=False,  # order_items_key (order_id, line_no) covers it
        related_name="items",
    )
    line_no = models.PositiveIntegerField(_("line"))
    product = models.ForeignKey(
        Product,
        on_delete=models.PROTECT,
        db_column="product_id",
        db_index=False,  # indexed in Meta, without a LIKE copy
        related_name="order_items",
    )
    seller = models.ForeignKey(
        Seller,
        on_delete=models.PROTECT,
        db_column="seller_id",
        db_index=False,  # indexed in Meta, without a LIKE copy
        related_name="order_items",
    )
    price = models.DecimalField(_("price"), max_digits=14, decimal_places=2)
    freight = models.DecimalField(_("freight"), max_digits=14, decimal_places=2)
    shipping_limit_at = models.DateTimeField(_("ship by"), null=True, blank=True)

    class Meta:
        db_table = "order_items"
        verbose_name = _("order item")
        verbose_name_plural = _("order items")
        constraints = [
            models.UniqueConstraint(fields=["order", "line_no"], name="order_items_key"),
        ]
        indexes = [
            models.Index(fields=["product"], name="order_items_product"),
            models.Index(fields=["seller"], name="order_items_seller"),
        ]

    def __str__(self) -> str:
        return f"{self.order_id}#{self.line_no}"


class Payment(models.Model):
    order = models.ForeignKey(
        Order,
        on_delete=models.CASCADE,
        db_column="order_id",
        db_index=False,  # payments_key (order_id, seq) covers it
        related_name="payments",
    )
    seq = models.PositiveIntegerField(_("sequence"))
    method = models.CharField(_("method"), max_length=32)
    installments = models.PositiveIntegerField(_("installments"))
    amount = models.DecimalField(_("amount"), max_digits=14, decimal_places=2)

    class Meta:
        db_table = "payments"
        verbose_name = _("payment")
        verbose_name_plural = _("payments")
        constraints = [models.UniqueConstraint(fields=["order", "seq"], name="payments_key")]

    def __str__(self) -> str:
        return f"{self.order_id}/{self.seq}"


class Review(models.Model):
    """A buyer's rating of one order.

    Keyed by ``(review_id, order_id)``: Olist gives one review id to the orders a buyer rated
    at once, and each of those orders keeps its own row (docs/decisions/0002-review-ids.md).
    """

    review_id = KeyField(_("review"), max_length=ID)
    order = models.ForeignKey(
        Order,
        on_delete=models.CASCADE,
        db_column="order_id",
        db_index=False,  # indexed in Meta, without a LIKE copy
        related_name="reviews",
    )
    rating = models.PositiveSmallIntegerField(_("rating"))
    title = models.CharField(_("title"), max_length=255, null=True, blank=True)
    body = models.TextField(_("text"), null=True, blank=True)
    language = models.CharField(_("language"), max_length=8, null=True, blank=True)
    created_at = models.DateTimeField(_("written"))
    answered_at = models.DateTimeField(_("answered"), null=True, blank=True)
    source = models.CharField(_("source"), max_length=16)

    class Meta:
        db_table = "reviews"
        verbose_name = _("review")
        verbose_name_plural = _("reviews")
        constraints = [
            models.UniqueConstraint(fields=["review_id", "order"], name="reviews_key"),
            models.CheckConstraint(
                condition=models.Q(rating__gte=1, rating__lte=5), name="reviews_rating_1_to_5"
            ),
        ]
        indexes = [
            models.Index(fields=["created_at"], name="reviews_created_at"),
            models.Index(fields=["order"], name="reviews_order"),
            models.Index(fields=["rating", "created_at"], name="reviews_rating_created"),
        ]

    def __str__(self) -> str:
        return f"{self.review_id} ({self.rating}★)"


class ImportStatus(models.TextChoices):
    RUNNING = "running", _("Running")
    SUCCEEDED = "succeeded", _("Succeeded")
    FAILED = "failed", _("Failed")


class ImportRun(models.Model):
    """One run of ``manyi import``: what was read, what changed, and whether it committed.

    Written in its own transaction before and after the import, so a failed or killed import
    still leaves a trace while the shop tables stay exactly as they were.
    """

    kind = models.CharField(_("kind"), max_length=16)
    source = models.CharField(_("source"), max_length=1024)
    fingerprint = models.CharField(_("fingerprint"), max_length=64, blank=True)
    status = models.CharField(
        _("status"), max_length=16, choices=ImportStatus.choices, default=ImportStatus.RUNNING
    )
    started_at = models.DateTimeField(_("started"))
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    summary = models.JSONField(_("summary"), default=dict, blank=True)
    error = models.TextField(_("error"), blank=True)

    class Meta:
        db_table = "import_runs"
        verbose_name = _("import run")
        verbose_name_plural = _("import runs")
        ordering = ["-started_at"]

    def __str__(self) -> str:
        return f"{self.kind} {self.source} ({self.status})"
