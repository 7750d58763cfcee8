"""Group robots (WeCom 企业微信, DingTalk 钉钉) and the SMS gateway: one JSON POST each.

* WeCom robot: POST {"msgtype": "markdown", "markdown": {"content": …}} to the robot's address
  (…/cgi-bin/webhook/send?key=…); the answer {"errcode": 0} means delivered.
* DingTalk robot: POST {"msgtype": "markdown", "markdown": {"title": …, "text": …}}; with the 加签
  security setting the address carries timestamp (ms) and sign = urlencode(base64(HMAC-SHA256(
  key=secret, message=timestamp + "\\n" + secret))), as DingTalk's robot documentation says;
  {"errcode": 0} means delivered.
* SMS gateway: POST the JSON body of the setting notify.sms_gateway_body with {mobile}, {text} and
  {key} (the message's idempotency key, for gateways that de-duplicate) filled in; any 2xx answer
  means accepted.

An answer that says no (5xx, 429, errcode ≠ 0) is retried with back-off; a 4xx from the SMS gateway
is a permanent refusal. No answer at all after the request went out: in doubt (models.outbox)."""
import base64
import hashlib
import hmac
import json
import socket
import time
import urllib.error
import urllib.parse
import urllib.request

from models.i18n import _l

from .channels import ClaimLost, DeliveryError

TIMEOUT = 10


def dingtalk_signed_url(url, secret, timestamp_ms=None):
    """The robot's address with DingTalk's timestamp and HMAC-SHA256 signature (no secret: as is)."""
    if not secret:
        return url
    timestamp = str(timestamp_ms if timestamp_ms is not None else int(time.time() * 1000))
    digest = hmac.new(secret.encode(), f"{timestamp}\n{secret}".encode(), hashlib.sha256).digest()
    sign = urllib.parse.quote_plus(base64.b64encode(digest))
    return f"{url}{'&' if '?' in url else '?'}timestamp={timestamp}&sign={sign}"


def fill(template, values):
    """The SMS body: every string in the template with {mobile} {text} {key} replaced."""
    def one(value):
        if not isinstance(value, str):
            return value
        for name, replacement in values.items():
            value = value.replace("{" + name + "}", replacement)
        return value
    return {key: one(value) for key, value in template.items()}


def post_json(url, payload, hand_over):
    """POST `payload`; returns (status, parsed JSON or None). `hand_over()` right before the request."""
    data = json.dumps(payload, ensure_ascii=False).encode("utf-8")
    request = urllib.request.Request(url, data=data, method="POST",
                                     headers={"Content-Type": "application/json; charset=utf-8"})
    if not hand_over():
        raise ClaimLost()
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT) as response:  # noqa: S310 - admin-set address
            status, body = response.status, response.read(65536)
    except urllib.error.HTTPError as exc:
        status, body = exc.code, exc.read(65536)
    except urllib.error.URLError as exc:
        reason = exc.reason
        if isinstance(reason, (ConnectionRefusedError, socket.gaierror)):
            raise DeliveryError(str(_l("cannot reach %(host)s: %(error)s", host=urllib.parse.urlsplit(url).netloc, error=reason))) from None
        if isinstance(reason, (TimeoutError, socket.timeout, ConnectionResetError)):
            raise DeliveryError(str(_l("no answer after the request was sent: %(error)s", error=reason)), "unknown") from None
        raise DeliveryError(str(_l("the request failed: %(error)s", error=reason))) from None
    except (TimeoutError, socket.timeout, ConnectionResetError) as exc:
        raise DeliveryError(str(_l("no answer after the request was sent: %(error)s", error=exc)), "unknown") from None
    try:
        parsed = json.loads(body.decode("utf-8")) if body else None
    except ValueError:
        parsed = None
    return status, parsed


def _robot_answer(status, parsed, name):
    if not 200 <= status < 300:
        raise DeliveryError(str(_l("%(name)s answered HTTP %(status)s", name=name, status=status)))
    if not isinstance(parsed, dict) or parsed.get("errcode") != 0:
        raise DeliveryError(str(_l("%(name)s refused the message: %(answer)s", name=name, answer=repr(parsed)[:400])))


def send_wecom(message, endpoint, hand_over):
    payload = {"msgtype": "markdown", "markdown": {"content": message.body_text[:4000]}}
    _robot_answer(*post_json(endpoint.webhook_url, payload, hand_over), str(_l("WeCom")))


def send_dingtalk(message, endpoint, hand_over):
    payload = {"msgtype": "markdown", "markdown": {"title": message.subject[:100] or "service desk",
                                                   "text": message.body_text[:5000]}}
    url = dingtalk_signed_url(endpoint.webhook_url, endpoint.secret)
    _robot_answer(*post_json(url, payload, hand_over), str(_l("DingTalk")))


def send_sms(message, rules, hand_over):
    url = rules["sms_gateway_url"]
    if not url:
        raise DeliveryError(str(_l("no SMS gateway is configured")))
    payload = fill(rules["sms_gateway_body"], {"mobile": message.recipient, "text": message.body_text,
                                               "key": message.key})
    status, parsed = post_json(url, payload, hand_over)
    if status == 429 or status >= 500:
        raise DeliveryError(str(_l("the SMS gateway answered HTTP %(status)s", status=status)))
    if not 200 <= status < 300:
        raise DeliveryError(str(_l("the SMS gateway refused the message: HTTP %(status)s %(answer)s", status=status, answer=repr(parsed)[:400])), "failed")
