"""The texts of one event for every channel: e-mail (plain text and HTML from templates; the HTML
is autoescaped, so a customer's words can never become markup), SMS (one line), group robot
(markdown, with the customer's brackets neutralised so they cannot forge a link) and the in-app
notification. Absolute links come from notify.links."""
import re
from dataclasses import dataclass

from flask import current_app

from .links import absolute

_SPACES = re.compile(r"\s+")
# characters that would start markdown markup in a robot message
_MARKDOWN = str.maketrans({"[": "［", "]": "］", "(": "（", ")": "）", "*": "＊", "_": "＿", "`": "'",
                           "#": "＃", ">": "＞", "<": "＜", "!": "！"})


def one_line(text, limit=255):
    """Whitespace (newlines included: a header cannot be split) folded to single spaces, cut to `limit`."""
    text = _SPACES.sub(" ", str(text or "")).strip()
    return text if len(text) <= limit else text[:limit - 1] + "…"


def markdown_text(text):
    return one_line(text, 500).translate(_MARKDOWN)


@dataclass
class Texts:
    subject: str
    text: str
    html: str
    sms: str
    markdown: str
    inapp: str


def _template(name):
    return current_app.jinja_env.get_template(name)


def render_event(event, sms_signature=""):
    """Texts of `event` (models.notifications.Event) in the language active now."""
    link = absolute(event.link)
    extra_links = [(label, absolute(url)) for label, url in event.extra_links]
    footer_links = [(label, absolute(url)) for label, url in event.footer_links]
    subject = one_line(event.subject, 200)
    context = {"event": event, "subject": subject, "link": link, "extra_links": extra_links,
               "footer_links": footer_links, "image_cid": event.image_cid}
    text = _template("notify/message.txt").render(context)
    html = _template("notify/message.html").render(context)
    sms = one_line(f"{sms_signature}{event.sms_text or subject} {link}".strip(), 480)
    lines = [f"#### {markdown_text(subject)}"]
    lines += [f"> {markdown_text(label)}: {markdown_text(value)}" for label, value in event.lines]
    if link:
        lines.append(f"[{markdown_text(event.link_label)}]({link})")
    inapp = "\n".join(f"{label}: {one_line(value, 300)}" for label, value in event.lines)
    return Texts(subject, text, html, sms, "\n\n".join(lines), inapp)


def render_digest(title, items):
    """One group-robot message summing up several events: [(subject, absolute link)]."""
    lines = [f"#### {markdown_text(title)}"]
    for subject, link in items:
        lines.append(f"- [{markdown_text(subject)}]({link})" if link else f"- {markdown_text(subject)}")
    return "\n".join(lines)
