"""Ready-made questionnaires an administrator instantiates in one click.

Each template exists in Chinese and in English; the texts become ordinary survey
rows that the author may then edit like any other survey. SERVQUAL items are scored
1–7 for expectation and perception (the classic scale); the gap is perception −
expectation per dimension (tangibles, reliability, responsiveness, assurance, empathy).
"""
from .base import db
from .clock import now
from .i18n import LANGUAGE_CODES, _l
from .surveys import Choice, Question, Survey

# kind → (label, {language: definition}); a question is (kind, text, required, dimension, [choices])
TEMPLATES = {
    "csat": {
        "label": _l("CSAT (5-point)"),
        "zh_CN": {
            "title": "客户满意度调查",
            "intro": "感谢您抽出宝贵时间。请按 1（非常不满意）到 5（非常满意）为我们的服务打分。",
            "questions": [
                ("rating", "您对我们产品质量的满意程度", True, "quality", []),
                ("rating", "您对服务人员服务态度的满意程度", True, "attitude", []),
                ("rating", "您对我们响应速度的满意程度", True, "speed", []),
                ("rating", "您对价格合理性的满意程度", True, "price", []),
                ("rating", "您对服务人员专业能力的满意程度", True, "professionalism", []),
                ("text", "您对我们还有什么意见或建议？", False, None, []),
            ],
        },
        "en": {
            "title": "Customer satisfaction survey",
            "intro": "Thank you for your time. Please rate our service from 1 (very dissatisfied) to 5 (very satisfied).",
            "questions": [
                ("rating", "How satisfied are you with the quality of our product?", True, "quality", []),
                ("rating", "How satisfied are you with the attitude of our staff?", True, "attitude", []),
                ("rating", "How satisfied are you with how fast we respond?", True, "speed", []),
                ("rating", "How satisfied are you with the fairness of our prices?", True, "price", []),
                ("rating", "How satisfied are you with the professionalism of our staff?", True, "professionalism", []),
                ("text", "Is there anything else you would like to tell us?", False, None, []),
            ],
        },
    },
    "nps": {
        "label": _l("NPS"),
        "zh_CN": {
            "title": "推荐意愿调查（NPS）",
            "intro": "一个问题，只需十秒。",
            "questions": [
                ("score", "您有多大可能把我们推荐给朋友或同事？（0 = 完全不可能，10 = 非常可能）", True, None, []),
                ("text", "您打这个分数的主要原因是？", False, None, []),
            ],
        },
        "en": {
            "title": "Would you recommend us? (NPS)",
            "intro": "One question, ten seconds.",
            "questions": [
                ("score", "How likely are you to recommend us to a friend or colleague? (0 = not at all, 10 = extremely)",
                 True, None, []),
                ("text", "What is the main reason for your score?", False, None, []),
            ],
        },
    },
    "callback": {
        "label": _l("Complaint callback"),
        "zh_CN": {
            "title": "投诉处理回访",
            "intro": "您好！关于您前不久反映的问题，我们想了解处理结果是否让您满意。",
            "questions": [
                ("single", "您反映的问题是否已经解决？", True, None, [("已完全解决", 2), ("部分解决", 1), ("尚未解决", 0)]),
                ("rating", "您对投诉处理结果的满意程度", True, "quality", []),
                ("rating", "您对处理速度的满意程度", True, "speed", []),
                ("rating", "您对处理人员服务态度的满意程度", True, "attitude", []),
                ("text", "您还有什么需要我们改进的地方？", False, None, []),
            ],
        },
        "en": {
            "title": "Complaint callback",
            "intro": "Hello! We would like to know whether you are satisfied with how we handled the problem you reported.",
            "questions": [
                ("single", "Has the problem you reported been solved?", True, None,
                 [("Completely solved", 2), ("Partly solved", 1), ("Not solved yet", 0)]),
                ("rating", "How satisfied are you with the result?", True, "quality", []),
                ("rating", "How satisfied are you with how fast it was handled?", True, "speed", []),
                ("rating", "How satisfied are you with the attitude of the person who handled it?", True, "attitude", []),
                ("text", "What else should we improve?", False, None, []),
            ],
        },
    },
    "servqual": {
        "label": _l("SERVQUAL"),
        "zh_CN": {
            "title": "服务质量差距调查（SERVQUAL）",
            "intro": "每一项请分别打两个分：您期望的服务水平，以及您实际感受到的服务水平（1 = 非常低，7 = 非常高）。",
            "questions": [
                ("servqual", "营业场所、设备和服务人员的仪表整洁、现代", True, "tangibles", []),
                ("servqual", "宣传资料和服务说明清楚易懂", True, "tangibles", []),
                ("servqual", "承诺的事情能按时做到", True, "reliability", []),
                ("servqual", "第一次就把服务做好", True, "reliability", []),
                ("servqual", "服务人员能及时为您提供服务", True, "responsiveness", []),
                ("servqual", "服务人员再忙也会及时回应您的要求", True, "responsiveness", []),
                ("servqual", "服务人员的行为让您感到放心", True, "assurance", []),
                ("servqual", "服务人员有足够的专业知识回答您的问题", True, "assurance", []),
                ("servqual", "服务人员给予您个别的关注", True, "empathy", []),
                ("servqual", "服务人员了解您的具体需要", True, "empathy", []),
                ("text", "您对提升服务质量有什么建议？", False, None, []),
            ],
        },
        "en": {
            "title": "Service quality gap survey (SERVQUAL)",
            "intro": "Please give each item two marks: the service you expect, and the service you actually got "
                     "(1 = very low, 7 = very high).",
            "questions": [
                ("servqual", "Offices, equipment and staff look neat and modern", True, "tangibles", []),
                ("servqual", "Leaflets and service information are clear", True, "tangibles", []),
                ("servqual", "What is promised is done on time", True, "reliability", []),
                ("servqual", "The service is done right the first time", True, "reliability", []),
                ("servqual", "Staff serve you promptly", True, "responsiveness", []),
                ("servqual", "Staff are never too busy to respond to your requests", True, "responsiveness", []),
                ("servqual", "Staff behaviour gives you confidence", True, "assurance", []),
                ("servqual", "Staff know enough to answer your questions", True, "assurance", []),
                ("servqual", "Staff give you individual attention", True, "empathy", []),
                ("servqual", "Staff understand your specific needs", True, "empathy", []),
                ("text", "How could we improve our service?", False, None, []),
            ],
        },
    },
    "star": {
        "label": _l("Service-star vote"),
        "zh_CN": {
            "title": "服务之星评选",
            "intro": "请选出本期为您提供最好服务的员工。",
            "questions": [
                ("staff", "您心目中的服务之星是谁？", True, "attitude", []),
                ("rating", "您对这位员工服务的满意程度", True, "attitude", []),
                ("text", "请说说推荐他/她的理由", False, None, []),
            ],
        },
        "en": {
            "title": "Service star vote",
            "intro": "Please choose the employee who served you best this period.",
            "questions": [
                ("staff", "Who is your service star?", True, "attitude", []),
                ("rating", "How satisfied are you with this employee's service?", True, "attitude", []),
                ("text", "Why do you recommend him or her?", False, None, []),
            ],
        },
    },
}


def template_choices():
    """[(kind, label)] for the template picker."""
    return [(kind, spec["label"]) for kind, spec in TEMPLATES.items()]


MONTHS_EN = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
             "November", "December"]


def _spec(kind, language):
    if kind not in TEMPLATES:
        raise ValueError(str(_l("Unknown survey template: %(kind)s", kind=kind)))
    if language not in LANGUAGE_CODES:
        raise ValueError(str(_l("Unknown survey language: %(language)s", language=language)))
    return TEMPLATES[kind][language]


def distinct_title(title, language, moment=None):
    """A new survey's title: the template's title with the month it starts in, in the survey's
    language ("客户满意度调查 · 2026年6月", "Customer satisfaction survey · June 2026"), and
    "（2）", "（3）" … when a survey of that title exists already. Surveys made from templates
    are then told apart in every list, dropdown and report."""
    moment = moment or now()
    month = (f"{moment.year}年{moment.month}月" if language == "zh_CN"
             else f"{MONTHS_EN[moment.month - 1]} {moment.year}")
    base = f"{title} · {month}"
    taken = {row.title for row in Survey.select(Survey.title).where(Survey.title.startswith(base))}
    candidate, number = base, 1
    while candidate in taken:
        number += 1
        candidate = f"{base}（{number}）" if language == "zh_CN" else f"{base} ({number})"
    return candidate


def _questions(spec):
    for position, (q_kind, text, required, dimension, choices) in enumerate(spec["questions"], start=1):
        yield position, Question(position=position, text=text, kind=q_kind, required=required, dimension=dimension,
                                 max_length=1000 if q_kind == "text" else 200), choices


def template_preview(kind, language):
    """(survey, questions) of a template as unsaved rows, each question with `.choice_list`,
    for showing it before anything is created (ids are made up: nothing is stored)."""
    spec = _spec(kind, language)
    survey = Survey(title=spec["title"], intro=spec["intro"], kind=kind, language=language)
    questions = []
    for position, question, choices in _questions(spec):
        question.id = position
        question.choice_list = [Choice(id=100 * position + c_position, position=c_position, text=c_text, score=score)
                                for c_position, (c_text, score) in enumerate(choices, start=1)]
        questions.append(question)
    return survey, questions


def create_from_template(kind, language="zh_CN"):
    """Create an active survey with the template's questions and choices, in one transaction,
    under a title no other survey has (distinct_title)."""
    spec = _spec(kind, language)
    with db.atomic():
        survey = Survey.create(title=distinct_title(spec["title"], language), intro=spec["intro"], kind=kind,
                               language=language, anonymous=False, active=True)
        for _position, question, choices in _questions(spec):
            question.survey = survey
            question.save()
            for c_position, (c_text, score) in enumerate(choices, start=1):
                Choice.create(question=question, position=c_position, text=c_text, score=score)
    return survey
