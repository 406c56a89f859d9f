"""Who may do what with reviews.

Every staff role reads reviews (``commerce.view_review`` is in every role's shop-reading
permissions). Replying, changing the status and opening follow-up cases is work on the
customer's voice, given to the roles that work on cases: analysts only read. Reviews are not
team-bound; the follow-up *case* of a review is shown only to those who may see that case
(``cases.selectors.can_view``).
"""

from __future__ import annotations

from typing import Any

from manyi.desk.accounts.roles import may_work_cases

READ_PERMISSION = "commerce.view_review"


def may_read_reviews(user: Any) -> bool:
    return bool(getattr(user, "is_authenticated", False) and user.has_perm(READ_PERMISSION))


def may_work_reviews(user: Any) -> bool:
    """Reply, change the status, open a follow-up case (admins, managers, agents)."""
    return may_read_reviews(user) and may_work_cases(user)
