"""The token and API messages in Simplified Chinese: every entry of the accounts and api
catalogues translated and compiled, and the real code paths answering in the request's
language (English when asked, Chinese otherwise)."""

from __future__ import annotations

import gettext
import io
import re
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.test import Client
from django.utils import translation

import manyi.desk.accounts
import manyi.desk.api
from manyi.desk.accounts.roles import Role
from manyi.desk.accounts.tokens import (
    TokenError,
    authenticate_token,
    create_api_token,
    revoke_api_token,
)
from manyi.desk.api import signatures

CATALOGUES = [
    Path(package.__file__).parent / "locale/zh_Hans/LC_MESSAGES/django.po"
    for package in (manyi.desk.accounts, manyi.desk.api)
]
CJK = re.compile(r"[\u4e00-\u9fff]")
CHINESE = "zh-CN,zh;q=0.9"  # what a browser in mainland China sends


def po_entries(po: Path) -> list[dict[str, str]]:
    """The entries of ``po`` after its header: ``msgid`` (plural forms under ``msgid_plural``,
    ``msgstr[0]``...), ``msgstr``, and ``flags`` from the ``#,`` comment."""
    entries = []
    for block in po.read_text(encoding="utf-8").split("\n\n")[1:]:
        entry: dict[str, str] = {"flags": ""}
        key = ""
        for line in block.strip().splitlines():
            if line.startswith("#,"):
                entry["flags"] += line[2:]
            elif line.startswith("#"):
                continue
            elif line.startswith('"'):
                entry[key] += line[1:-1]
            else:
                key, _space, quoted = line.partition(" ")
                entry[key] = quoted[1:-1]
        entries.append(entry)
    return entries


def unescape(po_string: str) -> str:
    return po_string.replace('\\"', '"').replace("\\n", "\n").replace("\\\\", "\\")


def chinese(text: str) -> bool:
    return bool(CJK.search(text))


@pytest.mark.parametrize("po", CATALOGUES, ids=lambda po: po.parts[-5])
def test_every_entry_of_the_catalogue_is_translated_and_compiled(po: Path) -> None:
    entries = po_entries(po)
    with po.with_suffix(".mo").open("rb") as mo:
        compiled = gettext.GNUTranslations(mo)

    assert len(entries) > 20
    assert [e["msgid"] for e in entries if "fuzzy" in e["flags"]] == []
    for entry in entries:
        translated = entry.get("msgstr", entry.get("msgstr[0]", ""))
        msgid = unescape(entry["msgid"])
        assert translated, msgid
        # Placeholders survive translation, and the committed .mo is compiled from this .po.
        assert re.findall(r"%\(\w+\)[sd]", translated) == re.findall(r"%\(\w+\)[sd]", msgid)
        if "msgid_plural" in entry:
            assert compiled.ngettext(msgid, unescape(entry["msgid_plural"]), 2) == translated
        else:
            assert compiled.gettext(msgid) == unescape(translated)


def test_an_unknown_or_revoked_token_is_refused_in_the_active_language(staff: Any) -> None:
    token, row = create_api_token(staff["ana"], "shop sync")
    revoke_api_token(row.prefix)

    messages = {}
    for language in ("en", "zh-hans"):
        with translation.override(language):
            for name, value in (("unknown", "mny_unknown"), ("revoked", token)):
                with pytest.raises(TokenError) as refused:
                    authenticate_token(value)
                messages[language, name] = refused.value.message

    assert messages["en", "unknown"] == "Unknown API token."
    assert messages["zh-hans", "unknown"] == "未知的 API 令牌。"
    assert messages["en", "revoked"] == "This API token was revoked."
    assert messages["zh-hans", "revoked"] == "该 API 令牌已被撤销。"


def test_token_and_role_messages_have_chinese_translations() -> None:
    msgids = [
        "This API token has expired.",
        "The token's user is inactive.",
        "A token lasts at least one day.",
        "Your role may not do this.",
        "Use Authorization: Bearer <token>.",
        "The request has errors.",
        "The body is not valid JSON.",
    ]
    with translation.override("zh-hans"):
        translated = {msgid: translation.gettext(msgid) for msgid in msgids}
        inactive = translation.gettext("%(user)s is inactive.") % {"user": "ana"}
        administrator = str(Role.ADMIN.label)

    for msgid, text in translated.items():
        assert chinese(text), (msgid, text)
    assert inactive == "用户 ana 已停用。"
    assert administrator == "管理员"


def test_api_refusals_answer_in_chinese_to_a_chinese_browser(api: Any) -> None:
    api.client = Client(HTTP_ACCEPT_LANGUAGE=CHINESE)

    anonymous = api.get("/api/cases", as_=None)
    unknown = api.get("/api/cases", token="mny_unknown")
    invalid = api.post("/api/cases", {"subject": "a\u0000b"})

    assert anonymous.status_code == 401
    assert anonymous.json()["message"] == "请发送令牌（Authorization: Bearer <令牌>）或先登录。"
    assert unknown.status_code == 401
    assert unknown.json()["message"] == "未知的 API 令牌。"
    assert invalid.status_code == 422
    assert invalid.json()["message"] == "请求有误。"
    assert invalid.json()["fields"]["subject"] == "文本不能包含 NUL 字符。"


def test_webhook_signature_refusals_are_translated() -> None:
    with translation.override("zh-hans"), pytest.raises(signatures.SignatureError) as missing:
        signatures.verify(None, b"{}", "s3cret", now=0)
    with translation.override("en"), pytest.raises(signatures.SignatureError) as english:
        signatures.verify(None, b"{}", "s3cret", now=0)

    assert missing.value.message == "请发送 X-Manyi-Signature 请求头。"
    assert english.value.message == "Send the X-Manyi-Signature header."


def test_the_purge_command_reports_in_the_active_language(db: None) -> None:
    out = io.StringIO()
    with translation.override("zh-hans"):
        call_command("purge_idempotency_keys", stdout=out)

    assert out.getvalue().strip() == "已删除 0 个过期的幂等键。"
