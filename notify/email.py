"""E-mail over SMTP. Flask-Mailman (MAIL_SERVER, MAIL_PORT, MAIL_USE_TLS, MAIL_USE_SSL, MAIL_USERNAME,
MAIL_PASSWORD, MAIL_DEFAULT_SENDER) builds the message (plain text + HTML alternative, Chinese
headers encoded, attachments) and opens the connection; the SMTP transaction itself is driven here
so that the outbox's hand-over is recorded once the server has accepted sender and recipient and
asked for the content, right before the content and its final "." go out (models.outbox explains
why)."""
import hashlib
import io
import re
import smtplib
from email.header import Header
from email.mime.image import MIMEImage
from email.utils import parseaddr

from flask import current_app
from flask_mailman import EmailMultiAlternatives

from extensions import mail
from models.i18n import _l

from .channels import ClaimLost, DeliveryError, outcome_of_reply

CRLF = b"\r\n"
_LEADING_DOT = re.compile(rb"(?m)^\.")


def message_id(message, sender):
    """The same Message-ID on every attempt of a message (a person's resend included), so a mail
    system that sees it twice can tell."""
    domain = parseaddr(sender)[1].rpartition("@")[2] or "localhost"
    digest = hashlib.sha256(message.key.encode()).hexdigest()[:16]
    return f"<outbox.{message.id}.{digest}@{domain}>"


def report_attachment(spec):
    """(file name, xlsx bytes) of "report:<weekly|monthly>:<day>" (the whole office) or
    "report:<weekly|monthly>:<day>:b<id>-<id>" (those branches: a branch manager's workbook)."""
    from datetime import date

    from exports.reports import report_filename, report_sheets
    from models.reports import report_period
    from exports.writers import write_xlsx
    from models.notifications import report_scope_of
    _, kind, day, *scope = spec.split(":")
    period = report_period(kind, date.fromisoformat(day))
    buffer = io.BytesIO()
    write_xlsx(buffer, report_sheets(period, branches=report_scope_of(scope[0] if scope else "")))
    return report_filename(period), buffer.getvalue()


def qr_image(spec):
    """PNG bytes of the QR code of invitation "qr:<id>"."""
    from models import Invitation
    from surveys.links import qr_bytes

    from .links import survey_url
    invitation = Invitation.get_or_none(Invitation.id == int(spec.split(":")[1]))
    if invitation is None:
        raise DeliveryError(str(_l("the invitation no longer exists")), "failed")
    return qr_bytes(survey_url(invitation), "png", scale=6)


def _reply(code, reply):
    """The mail server's own answer (its code and text, as the server wrote it)."""
    return f"{code} {reply.decode(errors='replace')}"


class EmailSender:
    """One SMTP connection, reused for a batch of messages."""

    def __init__(self):
        self.backend = None
        self.attachments = {}  # a report built once per batch, whatever the number of managers

    def _connection(self):
        if self.backend is None or self.backend.connection is None:
            config = current_app.config
            backend = mail.get_connection(
                backend="smtp", host=config.get("MAIL_SERVER"), port=config.get("MAIL_PORT"),
                username=config.get("MAIL_USERNAME") or "", password=config.get("MAIL_PASSWORD") or "",
                use_tls=config.get("MAIL_USE_TLS"), use_ssl=config.get("MAIL_USE_SSL"),
                timeout=config.get("MAIL_TIMEOUT", 30))
            try:
                backend.open()
            except (OSError, smtplib.SMTPException) as exc:
                raise DeliveryError(str(_l("cannot reach the mail server: %(error)s", error=exc))) from None
            self.backend = backend
        return self.backend.connection

    def close(self):
        if self.backend is not None:
            try:
                self.backend.close()
            except (OSError, smtplib.SMTPException):
                pass
            self.backend = None

    def _abandon(self):
        """Drop the connection without QUIT: a server discards an unfinished transaction."""
        if self.backend is not None and self.backend.connection is not None:
            try:
                self.backend.connection.close()
            except OSError:
                pass
            self.backend.connection = None
        self.backend = None

    def build(self, message):
        """(envelope sender, the message as bytes with CRLF line ends)."""
        sender = current_app.config.get("MAIL_DEFAULT_SENDER") or "service-desk@localhost"
        headers = {"Message-ID": message_id(message, sender),
                   "X-Service-Desk-Key": hashlib.sha256(message.key.encode()).hexdigest()[:32]}
        if message.kind in ("invitation", "reminder") and message.invitation_id:
            from .public import unsubscribe_url_for_invitation
            url = unsubscribe_url_for_invitation(message.invitation_id)
            if url:
                headers["List-Unsubscribe"] = f"<{url}>"
                headers["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
        email = EmailMultiAlternatives(subject=message.subject, body=message.body_text, from_email=sender,
                                       to=[message.recipient], headers=headers)
        if message.body_html:
            email.attach_alternative(message.body_html, "text/html")
        spec = message.attachment
        if spec.startswith("report:"):
            if spec not in self.attachments:
                self.attachments[spec] = report_attachment(spec)
            name, data = self.attachments[spec]
            email.attach(name, data, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
        elif spec.startswith("qr:"):
            image = MIMEImage(qr_image(spec), "png")
            image.add_header("Content-ID", "<qr>")
            image.add_header("Content-Disposition", "inline", filename="survey-qr.png")
            email.mixed_subtype = "related"
            email.attach(image)
        mime = email.message()
        # folded with the header's name counted, so the first encoded word stays on the Subject line
        mime.replace_header("Subject", Header(message.subject, "utf-8", header_name="Subject"))
        return parseaddr(sender)[1] or sender, mime.as_bytes(linesep="\r\n")

    def send(self, message, hand_over):
        """Send one message; `hand_over()` is called right before the final "." and must return
        True (the claim is still ours). Raises DeliveryError or ClaimLost."""
        envelope_from, data = self.build(message)
        connection = self._connection()
        try:
            connection.ehlo_or_helo_if_needed()
            code, reply = connection.mail(envelope_from)
            if code != 250:
                connection.rset()
                raise DeliveryError(str(_l("sender refused by the mail server: %(reply)s", reply=_reply(code, reply))),
                                    outcome_of_reply(code))
            code, reply = connection.rcpt(message.recipient)
            if code not in (250, 251):
                connection.rset()
                raise DeliveryError(str(_l("recipient refused by the mail server: %(reply)s", reply=_reply(code, reply))),
                                    outcome_of_reply(code))
            code, reply = connection.docmd("data")
            if code != 354:
                connection.rset()
                raise DeliveryError(str(_l("message refused by the mail server: %(reply)s", reply=_reply(code, reply))),
                                    outcome_of_reply(code))
        except (OSError, smtplib.SMTPException) as exc:
            self._abandon()
            raise DeliveryError(str(_l("the connection to the mail server failed: %(error)s", error=exc))) from None
        if not hand_over():
            self._abandon()  # the server drops a transaction whose DATA never ended
            raise ClaimLost()
        body = _LEADING_DOT.sub(b"..", data)
        try:
            # the content and the final "." in one write, as smtplib sends them
            connection.send((body if body.endswith(CRLF) else body + CRLF) + b"." + CRLF)
            code, reply = connection.getreply()
        except (OSError, smtplib.SMTPException) as exc:
            self._abandon()
            raise DeliveryError(str(_l("no answer from the mail server after the message was handed over: %(error)s",
                                   error=exc)),
                                "unknown") from None
        if code != 250:
            raise DeliveryError(str(_l("message refused by the mail server: %(reply)s", reply=_reply(code, reply))),
                                outcome_of_reply(code))
