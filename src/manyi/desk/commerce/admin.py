"""Read-mostly admin pages for the imported shop data (imports are the way to change it)."""

from __future__ import annotations

from django.contrib import admin

from manyi.desk.commerce.models import (
    Customer,
    ImportRun,
    Order,
    OrderItem,
    Payment,
    Product,
    Review,
    Seller,
)


@admin.register(Order)
class OrderAdmin(admin.ModelAdmin[Order]):
    list_display = ("order_id", "customer", "status", "purchased_at", "delivered_at", "item_total")
    list_filter = ("status",)
    search_fields = ("order_id", "customer__customer_id")
    date_hierarchy = "purchased_at"
    raw_id_fields = ("customer",)


@admin.register(Review)
class ReviewAdmin(admin.ModelAdmin[Review]):
    list_display = ("review_id", "order", "rating", "created_at", "source")
    list_filter = ("rating", "source", "language")
    search_fields = ("review_id", "order__order_id", "body")
    raw_id_fields = ("order",)


@admin.register(ImportRun)
class ImportRunAdmin(admin.ModelAdmin[ImportRun]):
    list_display = ("started_at", "kind", "source", "status", "finished_at")
    list_filter = ("status", "kind")


for model in (Customer, Product, Seller, OrderItem, Payment):
    admin.site.register(model)
