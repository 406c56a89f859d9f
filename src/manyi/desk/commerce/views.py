"""Pages of the shop data."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required, permission_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from manyi.desk.commerce.selectors import get_shop_overview, list_import_runs


@login_required
@permission_required("commerce.view_order", raise_exception=True)
def overview(request: HttpRequest) -> HttpResponse:
    shop = get_shop_overview()
    peak = max(shop.ratings.values()) or 1
    bars = [(stars, n, round(100 * n / peak)) for stars, n in sorted(shop.ratings.items())]
    runs = list_import_runs() if request.user.has_perm("commerce.view_importrun") else []
    return render(request, "commerce/overview.html", {"shop": shop, "bars": bars, "runs": runs})
