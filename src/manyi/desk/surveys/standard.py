"""Version 1 of the standard instruments, in Chinese and English, as plain data.

Migration ``0002_standard_instruments`` publishes exactly this content. It is frozen: editing a
text here would make new installations disagree with old ones about what version 1 asked. To
change a standard instrument, publish a new version (in the admin, or in a new migration that
calls ``services.new_draft`` / ``services.publish_version`` on its own copy of the texts).

Item codes are the canonical ``survey_answers.item`` names of ``manyi.insight.survey_tables``.
The SERVQUAL items follow the 22 statements of Parasuraman, Zeithaml & Berry (1988, revised
1991) in their five dimensions, reworded for an online shop: "excellent online shops ..." for the
expectations (``E1``..``E22``) and "this shop ..." for the perceptions (``P1``..``P22``).

Examples
--------
>>> from manyi.desk.surveys.standard import STANDARD_INSTRUMENTS
>>> [i["code"] for i in STANDARD_INSTRUMENTS]
['csat', 'nps', 'ces_effort_5', 'ces_agree_7', 'dsr', 'servqual']
>>> sum(1 for q in STANDARD_INSTRUMENTS[-1]["questions"] if q["item"].startswith(("E", "P")))
44
"""

from __future__ import annotations

from typing import Any

Text = tuple[str, str]  # (Chinese, English)

AGREE_7_LOW: Text = ("非常不同意", "Strongly disagree")
AGREE_7_HIGH: Text = ("非常同意", "Strongly agree")


def _scale(
    item: str,
    text: Text,
    low: int,
    high: int,
    low_label: Text,
    high_label: Text,
    *,
    section: str = "",
    required: bool = True,
) -> dict[str, Any]:
    return {
        "item": item,
        "kind": "scale",
        "section": section,
        "required": required,
        "text_zh": text[0],
        "text_en": text[1],
        "scale_min": low,
        "scale_max": high,
        "low_label_zh": low_label[0],
        "low_label_en": low_label[1],
        "high_label_zh": high_label[0],
        "high_label_en": high_label[1],
    }


def _text(item: str, text: Text, *, section: str = "") -> dict[str, Any]:
    return {
        "item": item,
        "kind": "text",
        "section": section,
        "required": False,
        "text_zh": text[0],
        "text_en": text[1],
    }


CSAT: dict[str, Any] = {
    "code": "csat",
    "kind": "csat",
    "name": ("客户满意度（CSAT）", "Customer satisfaction (CSAT)"),
    "intro": ("关于您最近向我们提出的售后问题。", "About the request you recently made to us."),
    "sections": {},
    "questions": [
        _scale(
            "csat",
            (
                "总体来说，您对我们这次处理您的问题的服务满意吗？",
                "Overall, how satisfied are you with how we handled your request?",
            ),
            1,
            5,
            ("非常不满意", "Very dissatisfied"),
            ("非常满意", "Very satisfied"),
        ),
        {
            "item": "reason",
            "kind": "choice",
            "section": "",
            "required": False,
            "text_zh": "哪一点对您的评分影响最大？",
            "text_en": "What mattered most for your rating?",
            "choices": [
                {"code": "speed", "zh": "处理速度", "en": "How fast it was handled"},
                {"code": "attitude", "zh": "服务态度", "en": "How we treated you"},
                {"code": "solution", "zh": "解决方案", "en": "The solution we offered"},
                {"code": "communication", "zh": "沟通是否清楚", "en": "How clearly we explained"},
                {"code": "other", "zh": "其他", "en": "Something else"},
            ],
        },
        _text("comment", ("还有什么想告诉我们的吗？", "Anything else you would like to tell us?")),
    ],
}

NPS: dict[str, Any] = {
    "code": "nps",
    "kind": "nps",
    "name": ("净推荐值（NPS）", "Net Promoter Score (NPS)"),
    "intro": ("", ""),
    "sections": {},
    "questions": [
        _scale(
            "nps",
            (
                "您有多大可能向朋友或同事推荐本店？",
                "How likely are you to recommend this shop to a friend or colleague?",
            ),
            0,
            10,
            ("完全不可能", "Not at all likely"),
            ("非常可能", "Extremely likely"),
        ),
        _text(
            "why", ("您给出这个分数的主要原因是什么？", "What is the main reason for your score?")
        ),
    ],
}

CES_EFFORT_5: dict[str, Any] = {
    "code": "ces_effort_5",
    "kind": "ces",
    "name": ("客户费力度（CES，1–5 费力程度）", "Customer effort (CES, 1–5 effort)"),
    "intro": ("", ""),
    "sections": {},
    "questions": [
        _scale(
            "ces",
            (
                "为了处理这个问题，您个人花了多少力气？",
                "How much effort did you personally have to put forth to handle your request?",
            ),
            1,
            5,
            ("非常少", "Very low effort"),
            ("非常多", "Very high effort"),
        )
    ],
}

CES_AGREE_7: dict[str, Any] = {
    "code": "ces_agree_7",
    "kind": "ces",
    "name": ("客户费力度（CES，1–7 同意程度）", "Customer effort (CES, 1–7 agreement)"),
    "intro": ("", ""),
    "sections": {},
    "questions": [
        _scale(
            "ces",
            (
                "您在多大程度上同意：本店让我很容易地处理了我的问题。",
                "How much do you agree: the shop made it easy for me to handle my issue.",
            ),
            1,
            7,
            AGREE_7_LOW,
            AGREE_7_HIGH,
        )
    ],
}

DSR: dict[str, Any] = {
    "code": "dsr",
    "kind": "dsr",
    "name": ("店铺动态评分（DSR）", "Shop rating (DSR)"),
    "intro": ("请为这笔订单给店铺打分。", "Please rate the shop for this order."),
    "sections": {},
    "questions": [
        _scale(
            "as_described",
            ("宝贝与描述相符", "Item as described"),
            1,
            5,
            ("与描述严重不符", "Not at all as described"),
            ("与描述完全一致", "Exactly as described"),
        ),
        _scale(
            "service",
            ("卖家的服务态度", "The seller's service"),
            1,
            5,
            ("非常不满意", "Very poor"),
            ("非常满意", "Excellent"),
        ),
        _scale(
            "logistics",
            ("物流服务的质量", "The delivery service"),
            1,
            5,
            ("非常不满意", "Very poor"),
            ("非常满意", "Excellent"),
        ),
        _text("comment", ("还有什么想告诉我们的吗？", "Anything else you would like to tell us?")),
    ],
}

#: (expectation, perception) statement per SERVQUAL item, Chinese then English.
SERVQUAL_ITEMS: list[tuple[Text, Text]] = [
    # Tangibles 1-4
    (
        (
            "优秀的网店会有现代、好用的网站和 App。",
            "Excellent online shops have modern, easy-to-use websites and apps.",
        ),
        (
            "本店的网站和 App 现代、好用。",
            "This shop's website and app are modern and easy to use.",
        ),
    ),
    (
        (
            "优秀的网店的网站页面美观、吸引人。",
            "The websites of excellent online shops are visually appealing.",
        ),
        ("本店的网站页面美观、吸引人。", "This shop's website is visually appealing."),
    ),
    (
        (
            "优秀的网店的客服人员在聊天、邮件和电话中表现专业、得体。",
            "The staff of excellent online shops come across as professional in chat, e-mail "
            "and on the phone.",
        ),
        (
            "本店客服人员在聊天、邮件和电话中表现专业、得体。",
            "This shop's staff come across as professional in chat, e-mail and on the phone.",
        ),
    ),
    (
        (
            "优秀的网店的商品介绍、包装和票据清楚、美观。",
            "In excellent online shops, product pages, packaging and invoices are clear and "
            "appealing.",
        ),
        (
            "本店的商品介绍、包装和票据清楚、美观。",
            "This shop's product pages, packaging and invoices are clear and appealing.",
        ),
    ),
    # Reliability 5-9
    (
        (
            "优秀的网店承诺在某个时间前做到的事（发货、退款），就会按时做到。",
            "When excellent online shops promise to do something by a certain time (shipping, "
            "a refund), they do so.",
        ),
        (
            "本店承诺在某个时间前做到的事，都按时做到了。",
            "When this shop promises to do something by a certain time, it does so.",
        ),
    ),
    (
        (
            "顾客遇到问题时，优秀的网店会真心实意地帮助解决。",
            "When a customer has a problem, excellent online shops show a sincere interest in "
            "solving it.",
        ),
        (
            "我遇到问题时，本店真心实意地帮助解决。",
            "When I have a problem, this shop shows a sincere interest in solving it.",
        ),
    ),
    (
        (
            "优秀的网店第一次就能把订单处理好。",
            "Excellent online shops get the order right the first time.",
        ),
        ("本店第一次就把订单处理好了。", "This shop gets the order right the first time."),
    ),
    (
        (
            "优秀的网店会在承诺的时间送达商品、提供服务。",
            "Excellent online shops deliver at the time they promise.",
        ),
        ("本店在承诺的时间送达商品、提供服务。", "This shop delivers at the time it promises."),
    ),
    (
        (
            "优秀的网店的订单、账户和票据记录准确无误。",
            "Excellent online shops keep accurate records of orders, accounts and invoices.",
        ),
        (
            "本店的订单、账户和票据记录准确无误。",
            "This shop keeps accurate records of my orders, account and invoices.",
        ),
    ),
    # Responsiveness 10-13
    (
        (
            "优秀的网店会准确告诉顾客各项服务何时完成（何时发货、何时退款）。",
            "Excellent online shops tell customers exactly when things will happen (shipping, "
            "refunds).",
        ),
        ("本店准确告诉我各项服务何时完成。", "This shop tells me exactly when things will happen."),
    ),
    (
        (
            "优秀的网店的客服人员会迅速为顾客提供服务。",
            "The staff of excellent online shops give customers prompt service.",
        ),
        ("本店客服人员迅速为我提供服务。", "This shop's staff give me prompt service."),
    ),
    (
        (
            "优秀的网店的客服人员总是乐于帮助顾客。",
            "The staff of excellent online shops are always willing to help customers.",
        ),
        ("本店客服人员总是乐于帮助我。", "This shop's staff are always willing to help me."),
    ),
    (
        (
            "优秀的网店的客服人员再忙也会及时回应顾客的请求。",
            "The staff of excellent online shops are never too busy to respond to customers' "
            "requests.",
        ),
        (
            "本店客服人员再忙也会及时回应我的请求。",
            "This shop's staff are never too busy to respond to my requests.",
        ),
    ),
    # Assurance 14-17
    (
        (
            "优秀的网店的客服人员的言行让顾客信任。",
            "The behaviour of the staff of excellent online shops instils confidence in customers.",
        ),
        (
            "本店客服人员的言行让我信任。",
            "The behaviour of this shop's staff instils confidence in me.",
        ),
    ),
    (
        (
            "在优秀的网店付款、留下个人信息，顾客会感到安全。",
            "Customers of excellent online shops feel safe paying and sharing their personal data.",
        ),
        (
            "在本店付款、留下个人信息，我感到安全。",
            "I feel safe paying and sharing my personal data with this shop.",
        ),
    ),
    (
        (
            "优秀的网店的客服人员始终礼貌待人。",
            "The staff of excellent online shops are consistently courteous.",
        ),
        ("本店客服人员始终对我礼貌。", "This shop's staff are consistently courteous with me."),
    ),
    (
        (
            "优秀的网店的客服人员具备回答顾客问题的专业知识。",
            "The staff of excellent online shops have the knowledge to answer customers' "
            "questions.",
        ),
        (
            "本店客服人员具备回答我的问题的专业知识。",
            "This shop's staff have the knowledge to answer my questions.",
        ),
    ),
    # Empathy 18-22
    (
        (
            "优秀的网店会给予每位顾客个别的关注。",
            "Excellent online shops give each customer individual attention.",
        ),
        ("本店给予我个别的关注。", "This shop gives me individual attention."),
    ),
    (
        (
            "优秀的网店的客服时间方便所有顾客。",
            "Excellent online shops have service hours convenient to all their customers.",
        ),
        ("本店的客服时间对我来说很方便。", "This shop's service hours are convenient for me."),
    ),
    (
        (
            "优秀的网店有专人给予顾客个人化的关照。",
            "Excellent online shops have staff who give customers personal attention.",
        ),
        ("本店有专人给予我个人化的关照。", "This shop has staff who give me personal attention."),
    ),
    (
        (
            "优秀的网店把顾客的利益放在心上。",
            "Excellent online shops have their customers' best interests at heart.",
        ),
        ("本店把我的利益放在心上。", "This shop has my best interests at heart."),
    ),
    (
        (
            "优秀的网店的客服人员了解顾客的具体需求。",
            "The staff of excellent online shops understand the specific needs of their customers.",
        ),
        ("本店客服人员了解我的具体需求。", "This shop's staff understand my specific needs."),
    ),
]

#: The five dimensions in the order of the items, with the description the weights ask about.
SERVQUAL_DIMENSIONS: list[tuple[str, Text]] = [
    (
        "tangibles",
        (
            "网站、包装和沟通材料的外观",
            "The appearance of the shop's website, packaging and communication",
        ),
    ),
    (
        "reliability",
        (
            "可靠、准确地兑现所承诺的服务",
            "Performing the promised service dependably and accurately",
        ),
    ),
    (
        "responsiveness",
        ("乐于帮助顾客并及时提供服务", "Willingness to help customers and provide prompt service"),
    ),
    (
        "assurance",
        (
            "客服人员的知识和礼貌，以及让人信任的能力",
            "The staff's knowledge and courtesy and their ability to convey trust",
        ),
    ),
    (
        "empathy",
        ("对顾客的关心和个别关注", "The caring, individual attention given to customers"),
    ),
]


def _servqual() -> dict[str, Any]:
    questions: list[dict[str, Any]] = []
    for n, (expectation, _perception) in enumerate(SERVQUAL_ITEMS, start=1):
        questions.append(
            _scale(f"E{n}", expectation, 1, 7, AGREE_7_LOW, AGREE_7_HIGH, section="expectations")
        )
    for n, (_expectation, perception) in enumerate(SERVQUAL_ITEMS, start=1):
        questions.append(
            _scale(f"P{n}", perception, 1, 7, AGREE_7_LOW, AGREE_7_HIGH, section="perceptions")
        )
    for code, text in SERVQUAL_DIMENSIONS:
        questions.append(
            {
                "item": f"W_{code}",
                "kind": "points",
                "section": "importance",
                "required": False,
                "text_zh": text[0],
                "text_en": text[1],
                "scale_min": 0,
                "scale_max": 100,
            }
        )
    return {
        "code": "servqual",
        "kind": "servqual",
        "name": ("服务质量（SERVQUAL）", "Service quality (SERVQUAL)"),
        "intro": (
            "这份问卷先问您对一家优秀网店的期望，再问本店的实际表现。",
            "This survey first asks what you expect of an excellent online shop, then how this "
            "shop actually does.",
        ),
        "sections": {
            "expectations": {
                "title": {"zh": "您对优秀网店的期望", "en": "What you expect of an excellent shop"},
                "intro": {
                    "zh": "请根据您的经验，表示您在多大程度上同意下列说法。",
                    "en": "Based on your experience, how much do you agree with each statement?",
                },
            },
            "perceptions": {
                "title": {"zh": "本店的实际表现", "en": "How this shop does"},
                "intro": {
                    "zh": "现在请就本店表示您在多大程度上同意下列说法。",
                    "en": "Now, about this shop: how much do you agree with each statement?",
                },
            },
            "importance": {
                "title": {"zh": "各方面的重要性", "en": "What matters most to you"},
                "intro": {
                    "zh": "请把 100 分分配给下面五个方面，越重要的方面分数越高（可以跳过）。",
                    "en": "Please share 100 points among these five features, giving more to "
                    "what matters most to you (you may skip this).",
                },
            },
        },
        "questions": questions,
    }


SERVQUAL = _servqual()

STANDARD_INSTRUMENTS: list[dict[str, Any]] = [CSAT, NPS, CES_EFFORT_5, CES_AGREE_7, DSR, SERVQUAL]

#: The rules installed with the instruments: CSAT and CES a day after a case is resolved, DSR
#: and NPS a day after delivery (one page each, so fatigue never splits them).
STANDARD_RULES: list[dict[str, Any]] = [
    {
        "code": "after_case",
        "name": "CSAT and CES after a case is resolved",
        "trigger": "case_resolved",
        "instruments": ["csat", "ces_effort_5"],
        "delay_hours": 24,
    },
    {
        "code": "after_delivery",
        "name": "Shop rating (DSR) and NPS after delivery",
        "trigger": "order_delivered",
        "instruments": ["dsr", "nps"],
        "delay_hours": 24,
    },
]


def install_standard(apps: Any, now: Any) -> None:
    """Publish version 1 of every standard instrument, the settings row and the standard rules.

    Takes the migration's historical ``apps`` (so it works at any later state of the code) and
    skips what already exists.
    """
    instrument_model = apps.get_model("surveys", "Instrument")
    version_model = apps.get_model("surveys", "InstrumentVersion")
    question_model = apps.get_model("surveys", "Question")
    rule_model = apps.get_model("surveys", "SurveyRule")
    rule_instrument_model = apps.get_model("surveys", "RuleInstrument")
    settings_model = apps.get_model("surveys", "SurveySettings")
    settings_model.objects.get_or_create(pk=1)
    for spec in STANDARD_INSTRUMENTS:
        instrument, created = instrument_model.objects.get_or_create(
            code=spec["code"],
            defaults={"kind": spec["kind"], "name_zh": spec["name"][0], "name_en": spec["name"][1]},
        )
        if not created:
            continue
        version = version_model.objects.create(
            instrument=instrument,
            number=1,
            status="published",
            intro={"zh": spec["intro"][0], "en": spec["intro"][1]},
            sections=spec["sections"],
            note="Standard version 1",
            created_at=now,
            published_at=now,
        )
        question_model.objects.bulk_create(
            question_model(version=version, position=n, **q)
            for n, q in enumerate(spec["questions"], start=1)
        )
    for spec in STANDARD_RULES:
        rule, created = rule_model.objects.get_or_create(
            code=spec["code"],
            defaults={
                "name": spec["name"],
                "trigger": spec["trigger"],
                "delay_hours": spec["delay_hours"],
                # Only events from installation on: no surveys about years-old orders.
                "checkpoint_at": now,
            },
        )
        if created:
            rule_instrument_model.objects.bulk_create(
                rule_instrument_model(rule=rule, instrument_id=code, position=n)
                for n, code in enumerate(spec["instruments"], start=1)
            )
