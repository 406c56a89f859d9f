"""The survey work of one worker round: scan triggers, send what is due, remind."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from manyi.desk.surveys.sending import SendResult, issue_due_invitations, send_reminders
from manyi.desk.surveys.triggers import ScanResult, scan_triggers


@dataclass
class SurveyRound:
    scanned: ScanResult
    sent: SendResult
    reminded: int

    def summary(self) -> str:
        return f"{self.scanned.summary()}; {self.sent.summary()}; {self.reminded} reminded"


def run_survey_jobs(now: datetime) -> SurveyRound:
    """One round at ``now``; safe to run again at once (every step is idempotent)."""
    scanned = scan_triggers(now)
    sent = issue_due_invitations(now)
    reminded = send_reminders(now)
    return SurveyRound(scanned, sent, reminded)
