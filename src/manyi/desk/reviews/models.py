"""The desk's own state around the canonical ``reviews`` table.

``commerce.Review`` keeps exactly the canonical columns that the importer and ``manyi.insight``
share. Everything the desk adds lives here, one row per review where it exists:

- ``review_analyses`` and ``review_aspects``: what ``manyi.text`` found in the text, with the
  model version that found it (a retrained model re-analyses what an older one did);
- ``review_states``: the inbox status (a review without a row is *new*);
- ``review_replies`` and ``review_events``: the answers written in the desk and the audit log;
- ``review_follow_ups``: the link between a review and the case opened for it. Its unique
  constraints are what make "at most one follow-up case per review" hold under concurrency;
- ``review_follow_up_rule``: the one-row configuration of the bad-review rule.

Tables reference the review by its surrogate key in a column named ``review_pk``, because
``review_id`` is the shop's own (non-unique) review id in the canonical table.
"""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from manyi.desk.accounts.models import Team
from manyi.desk.cases.models import Case, CasePriority
from manyi.desk.commerce.models import Review


class Polarity(models.TextChoices):
    """A review's three-way sentiment, or an aspect's polarity."""

    NEGATIVE = "negative", _("Negative")
    NEUTRAL = "neutral", _("Neutral")
    POSITIVE = "positive", _("Positive")


class Aspect(models.TextChoices):
    """The six aspects of ``manyi.text.ASPECTS``, in report order."""

    LOGISTICS = "logistics", _("Logistics")
    QUALITY = "quality", _("Quality")
    AS_DESCRIBED = "as_described", _("As described")
    SERVICE = "service", _("Service")
    PRICE = "price", _("Price")
    PACKAGING = "packaging", _("Packaging")


class ReviewStatus(models.TextChoices):
    NEW = "new", _("New")
    REPLIED = "replied", _("Replied")
    NO_REPLY_NEEDED = "no_reply_needed", _("No reply needed")
    ESCALATED = "escalated", _("Escalated")


class FollowUpTrigger(models.TextChoices):
    RATING = "rating", _("Low rating")
    TEXT = "text", _("Negative text")
    MANUAL = "manual", _("Opened by hand")


class ReviewAnalysis(models.Model):
    """Sentiment and language of one review's title and text, as ``manyi.text.analyse`` said."""

    review = models.OneToOneField(
        Review,
        on_delete=models.CASCADE,
        primary_key=True,
        db_column="review_pk",
        related_name="analysis",
        verbose_name=_("review"),
    )
    language = models.CharField(_("detected language"), max_length=8)
    sentiment = models.CharField(_("sentiment"), max_length=8, choices=Polarity.choices)
    p_positive = models.FloatField(_("probability positive"))
    #: 1 positive, 0 negative; empty when there was no text to judge.
    label = models.PositiveSmallIntegerField(_("label"), null=True, blank=True)
    model_version = models.CharField(_("model version"), max_length=32)
    analysed_at = models.DateTimeField(_("analysed"))

    class Meta:
        db_table = "review_analyses"
        verbose_name = _("review analysis")
        verbose_name_plural = _("review analyses")
        indexes = [
            models.Index(fields=["sentiment", "p_positive"], name="review_analyses_sentiment"),
            models.Index(fields=["model_version"], name="review_analyses_version"),
            models.Index(fields=["language"], name="review_analyses_language"),
        ]

    def __str__(self) -> str:
        return f"{self.review_id}: {self.sentiment} ({self.p_positive:.2f})"

    @property
    def p_negative(self) -> float:
        return 1.0 - self.p_positive


class ReviewAspect(models.Model):
    """One aspect a review talks about, with its polarity and the clause that decides it."""

    review = models.ForeignKey(
        Review,
        on_delete=models.CASCADE,
        db_column="review_pk",
        db_index=False,  # review_aspects_key (review_pk, aspect) covers it
        related_name="aspects",
        verbose_name=_("review"),
    )
    aspect = models.CharField(_("aspect"), max_length=16, choices=Aspect.choices)
    polarity = models.CharField(_("polarity"), max_length=8, choices=Polarity.choices)
    score = models.FloatField(_("score"))
    phrase = models.CharField(_("phrase"), max_length=255)
    clause = models.TextField(_("clause"))

    class Meta:
        db_table = "review_aspects"
        verbose_name = _("review aspect")
        verbose_name_plural = _("review aspects")
        constraints = [
            models.UniqueConstraint(fields=["review", "aspect"], name="review_aspects_key")
        ]
        indexes = [
            models.Index(fields=["aspect", "polarity"], name="review_aspects_polarity"),
        ]

    def __str__(self) -> str:
        return f"{self.aspect}:{self.polarity}"


class ReviewState(models.Model):
    """The inbox status of a review; a review without a row is new."""

    review = models.OneToOneField(
        Review,
        on_delete=models.CASCADE,
        primary_key=True,
        db_column="review_pk",
        related_name="inbox",
        verbose_name=_("review"),
    )
    status = models.CharField(
        _("status"), max_length=16, choices=ReviewStatus.choices, default=ReviewStatus.NEW
    )
    #: The reviewer's display name on the shop platform (``张**``), when the source gives one.
    author_name = models.CharField(_("reviewer"), max_length=128, blank=True)
    updated_at = models.DateTimeField(_("updated"))
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("updated by"),
    )

    class Meta:
        db_table = "review_states"
        verbose_name = _("review status")
        verbose_name_plural = _("review statuses")
        indexes = [models.Index(fields=["status"], name="review_states_status")]

    def __str__(self) -> str:
        return f"{self.review_id}: {self.status}"


class ReplyTemplate(models.Model):
    """A canned answer to a review, with variables such as ``{customer_name}``, ``{order_id}``
    (see ``services.TEMPLATE_VARIABLES``)."""

    name = models.CharField(_("name"), max_length=64)
    language = models.CharField(_("language"), max_length=8, default="zh-hans")
    body = models.TextField(_("text"))
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        db_table = "review_reply_templates"
        verbose_name = _("reply template")
        verbose_name_plural = _("reply templates")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["name", "language"], name="review_reply_templates_name_language"
            )
        ]

    def __str__(self) -> str:
        return self.name


class ReviewReply(models.Model):
    """A public answer to a review, written in the desk."""

    review = models.ForeignKey(
        Review,
        on_delete=models.CASCADE,
        db_column="review_pk",
        db_index=False,  # review_replies_review covers it
        related_name="replies",
        verbose_name=_("review"),
    )
    body = models.TextField(_("text"))
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("author"),
    )
    #: The author's user name when the reply was written (kept if the account is deleted).
    author_name = models.CharField(_("author name"), max_length=150)
    template = models.ForeignKey(
        ReplyTemplate,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("template"),
    )
    created_at = models.DateTimeField(_("written"))

    class Meta:
        db_table = "review_replies"
        verbose_name = _("review reply")
        verbose_name_plural = _("review replies")
        indexes = [models.Index(fields=["review", "created_at"], name="review_replies_review")]

    def __str__(self) -> str:
        return f"{self.review_id} @ {self.created_at:%Y-%m-%d %H:%M}"


class ReviewEventKind(models.TextChoices):
    STATUS = "status", _("Status changed")
    REPLY = "reply", _("Replied")
    FOLLOW_UP = "follow_up", _("Follow-up case opened")


class ReviewEvent(models.Model):
    """The audit log of what people and the rule did with a review."""

    review = models.ForeignKey(
        Review,
        on_delete=models.CASCADE,
        db_column="review_pk",
        db_index=False,  # review_events_review covers it
        related_name="desk_events",
        verbose_name=_("review"),
    )
    at = models.DateTimeField(_("at"))
    kind = models.CharField(_("kind"), max_length=16, choices=ReviewEventKind.choices)
    actor = models.CharField(_("actor"), max_length=150)
    actor_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("user"),
    )
    from_status = models.CharField(
        _("from"), max_length=16, choices=ReviewStatus.choices, blank=True
    )
    to_status = models.CharField(_("to"), max_length=16, choices=ReviewStatus.choices, blank=True)
    data = models.JSONField(_("data"), default=dict, blank=True)

    class Meta:
        db_table = "review_events"
        verbose_name = _("review event")
        verbose_name_plural = _("review events")
        indexes = [models.Index(fields=["review", "at"], name="review_events_review")]

    def __str__(self) -> str:
        return f"{self.review_id} {self.kind} @ {self.at:%Y-%m-%d %H:%M}"


class ReviewFollowUp(models.Model):
    """The case opened for a review, linked both ways (``review.follow_up.case`` and
    ``case.review_follow_up.review``).

    Both sides are unique: the database, not a check before inserting, guarantees that two
    concurrent runs of the rule cannot give one review two cases.
    """

    review = models.OneToOneField(
        Review,
        on_delete=models.CASCADE,
        db_column="review_pk",
        related_name="follow_up",
        verbose_name=_("review"),
    )
    case = models.OneToOneField(
        Case,
        on_delete=models.CASCADE,
        db_column="case_id",
        related_name="review_follow_up",
        verbose_name=_("case"),
    )
    trigger = models.CharField(_("trigger"), max_length=8, choices=FollowUpTrigger.choices)
    opened_at = models.DateTimeField(_("opened"))
    opened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("opened by"),
    )

    class Meta:
        db_table = "review_follow_ups"
        verbose_name = _("review follow-up")
        verbose_name_plural = _("review follow-ups")

    def __str__(self) -> str:
        return f"{self.review_id} → #{self.case_id}"


class FollowUpRule(models.Model):
    """The bad-review rule's settings: one row (``FollowUpRule.load()``), edited in the admin.

    A review opens a follow-up case when the rule is on, the review is younger than
    ``max_age_days``, and it has 1-2 stars or its text is negative with a probability of at
    least ``negative_threshold``.
    """

    enabled = models.BooleanField(_("open follow-up cases automatically"), default=True)
    negative_threshold = models.FloatField(
        _("negative text from"),
        default=0.9,
        validators=[MinValueValidator(0.5), MaxValueValidator(1.0)],
        help_text=_(
            "A review with 3 stars or more opens a case when its text is negative with at "
            "least this probability (0.5-1)"
        ),
    )
    max_age_days = models.PositiveIntegerField(
        _("only reviews younger than (days)"),
        default=30,
        validators=[MinValueValidator(1)],
        help_text=_("Older reviews (for example an imported history) never open a case"),
    )
    team = models.ForeignKey(
        Team,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("team"),
        help_text=_("Empty: the shared triage queue"),
    )
    priority = models.CharField(
        _("priority"), max_length=8, choices=CasePriority.choices, default=CasePriority.HIGH
    )

    class Meta:
        db_table = "review_follow_up_rule"
        verbose_name = _("bad-review rule")
        verbose_name_plural = _("bad-review rule")

    def __str__(self) -> str:
        return str(_("Bad-review rule"))

    def save(self, *args: object, **kwargs: object) -> None:
        self.pk = 1  # one row: the admin edits it, load() reads it
        super().save(*args, **kwargs)  # type: ignore[arg-type]

    @classmethod
    def load(cls) -> FollowUpRule:
        """The rule's settings (the defaults until someone saves them)."""
        return cls.objects.filter(pk=1).first() or cls(pk=1)
