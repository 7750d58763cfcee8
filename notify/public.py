"""The customer's unsubscribe page (no login): /n/unsubscribe/<token>, linked from every survey
invitation. The token is the customer id signed with the app's secret key (models.notifications):
it cannot be guessed, and it does not expire.

Opening the link changes nothing (mail scanners open links); the customer confirms with a button.
A mail program's one-click unsubscribe (RFC 8058: POST "List-Unsubscribe=One-Click") is accepted
without the form's CSRF token: the signed token is the proof."""
from flask import abort, render_template, request

from extensions import csrf
from models import Invitation
from models.notifications import customer_from_unsubscribe_token, opt_out, unsubscribe_token

from . import bp
from .links import absolute, path_for


def unsubscribe_url_for_invitation(invitation_id):
    customer_id = Invitation.select(Invitation.customer).where(Invitation.id == invitation_id).scalar()
    return absolute(path_for("notify.unsubscribe", token=unsubscribe_token(customer_id))) if customer_id else ""


@bp.route("/unsubscribe/<token>", methods=["GET", "POST"])
@csrf.exempt
def unsubscribe(token):
    if len(token) > 200:
        abort(404)
    customer = customer_from_unsubscribe_token(token)
    if customer is None:
        return render_template("notify/unsubscribe.html", state="unknown"), 404
    if request.method == "POST":
        one_click = request.form.get("List-Unsubscribe") == "One-Click"
        if not one_click and request.form.get("confirm") != "yes":
            abort(400)
        opt_out(customer)
        return render_template("notify/unsubscribe.html", state="done")
    return render_template("notify/unsubscribe.html", state="done" if customer.survey_opt_out else "ask",
                           action=request.path)
