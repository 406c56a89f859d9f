"""``manyi manage campaign_review CAMPAIGN_ID``: build a post-campaign review now and keep it on
the campaign (what the button asks the worker to do), printing where the files are."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from manyi.desk.dashboards.campaigns import request_review, run_review
from manyi.desk.dashboards.models import Campaign, ReviewStatus


class Command(BaseCommand):
    help = "Build the post-campaign review of a campaign. Example: manyi manage campaign_review 1"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("campaign", type=int, help="The campaign's id (see /desk/campaigns/).")

    def handle(self, *args: Any, **options: Any) -> None:
        campaign = Campaign.objects.filter(pk=options["campaign"]).first()
        if campaign is None:
            raise CommandError(f"No campaign {options['campaign']}.")
        review = run_review(request_review(campaign).pk)
        if review.status != ReviewStatus.DONE:
            raise CommandError(f"The review failed: {review.error}")
        self.stdout.write(f"Review {review.pk} of {campaign.name}:")
        for stored in (review.document, review.page_zh, review.page_en):
            self.stdout.write(f"  {stored.path}")
