"""IMAP polling (against a fake imaplib client: there is no IMAP server here) and the
``manyi mail`` commands."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from manyi.cli import app
from manyi.desk.cases.models import Case, Message
from manyi.desk.channels.imap_poll import parse_imap_url, poll_once
from manyi.desk.channels.inbound import InboundResult


class FakeImap:
    """The ``uid`` commands polling uses, over an in-memory mailbox ``{uid: (bytes, seen)}``."""

    def __init__(self, messages: dict[str, bytes]) -> None:
        self.messages = dict(messages)
        self.seen: set[str] = set()
        self.commands: list[tuple[str, ...]] = []

    def select(self, mailbox: str = "INBOX", readonly: bool = False) -> tuple[str, list[Any]]:
        return "OK", [str(len(self.messages)).encode()]

    def uid(self, command: str, *args: str) -> tuple[str, list[Any]]:
        self.commands.append((command, *args))
        if command == "SEARCH":
            assert args == ("UNSEEN",)
            unseen = [u for u in self.messages if u not in self.seen]
            return "OK", [" ".join(unseen).encode()]
        if command == "FETCH":
            uid, what = args
            raw = self.messages[uid]
            if what == "(RFC822.SIZE)":
                return "OK", [f"1 (UID {uid} RFC822.SIZE {len(raw)})".encode()]
            assert what == "(BODY.PEEK[])"  # reading must not mark it seen
            return "OK", [(f"1 (UID {uid} BODY[] {{{len(raw)}}}".encode(), raw), b")"]
        if command == "STORE":
            uid, op, flags = args
            assert (op, flags) == ("+FLAGS", "(\\Seen)")
            self.seen.add(uid)
            return "OK", [b"1 (FLAGS (\\Seen))"]
        raise AssertionError(command)


def test_imap_urls_are_parsed_with_encoded_user_and_default_port() -> None:
    url = parse_imap_url("imaps://service%40shop.example:p%40ss@imap.exmail.qq.com/INBOX")
    assert (url.host, url.port, url.user, url.password, url.mailbox, url.tls) == (
        "imap.exmail.qq.com",
        993,
        "service@shop.example",
        "p@ss",
        "INBOX",
        "ssl",
    )
    assert parse_imap_url("imap+starttls://u:p@mail.example.com:1143/").port == 1143
    assert "p@ss" not in repr(url)
    with pytest.raises(ValueError, match="not an IMAP URL"):
        parse_imap_url("https://example.com/")


@pytest.mark.django_db
def test_polling_processes_unseen_mail_then_marks_it_seen(mail: Callable[..., bytes]) -> None:
    imap = FakeImap(
        {
            "7": mail(subject="Where is my parcel?", message_id="<p1@example.com>"),
            "8": mail(subject="Second", message_id="<p2@example.com>", sender="b@example.com"),
        }
    )

    report = poll_once(imap)
    again = poll_once(imap)

    assert imap.seen == {"7", "8"}
    assert [r.outcome for r in report.results] == ["opened", "opened"]
    assert (report.seen, report.failed) == (2, [])
    assert (again.seen, again.results) == (0, [])
    assert Case.objects.count() == 2
    assert set(Message.objects.values_list("email_message_id", flat=True)) == {
        "<p1@example.com>",
        "<p2@example.com>",
    }


def test_a_message_that_fails_stays_unseen_for_the_next_round(mail: Callable[..., bytes]) -> None:
    imap = FakeImap({"1": mail(body="ok"), "2": mail(body="boom")})

    def process(raw: bytes) -> InboundResult:
        if b"boom" in raw:
            raise RuntimeError("database is down")
        return InboundResult("opened")  # type: ignore[arg-type]

    report = poll_once(imap, process=process)

    assert imap.seen == {"1"}
    assert report.failed == ["2"]


def test_too_large_mail_is_logged_marked_seen_and_not_downloaded(
    mail: Callable[..., bytes], settings: Any, caplog: pytest.LogCaptureFixture
) -> None:
    settings.MANYI_INBOUND_MAX_BYTES = 1000
    imap = FakeImap({"3": mail(body="x" * 2000)})

    report = poll_once(imap, process=lambda raw: pytest.fail("must not be processed"))

    assert (report.too_large, imap.seen) == (["3"], {"3"})
    assert ("FETCH", "3", "(BODY.PEEK[])") not in imap.commands
    assert "is more than the 1000-byte limit" in caplog.text


@pytest.mark.django_db
def test_mail_import_records_each_file_once(
    eml: Callable[[str], bytes], tmp_path: Path, mail: Callable[..., bytes]
) -> None:
    new = tmp_path / "new.eml"
    new.write_bytes(mail(subject="Broken lamp", message_id="<imp@example.com>"))
    auto = tmp_path / "auto.eml"
    auto.write_bytes(eml("autoreply_163_zh.eml"))
    runner = CliRunner()

    first = runner.invoke(app, ["mail", "import", str(new), str(auto)])
    again = runner.invoke(app, ["mail", "import", str(new)])

    assert first.exit_code == 0, first.output
    case_id = Case.objects.get().case_id
    lines = [re.sub(r"\s+", " ", line) for line in first.output.splitlines()]
    assert f"{new}: opened case #{case_id} (new)" in lines
    assert f"{auto}: ignored (Auto-Submitted: auto-replied)" in lines
    assert again.exit_code == 0
    assert "duplicate" in again.output
    assert Message.objects.count() == 1


def test_mail_import_of_a_missing_file_fails(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["mail", "import", str(tmp_path / "nope.eml")])

    assert result.exit_code == 1
