"""flask --app app init-db / create-user / seed-demo."""
from models import Complaint, Customer, Response, Survey, User


def test_init_db_is_safe_to_repeat(app):
    runner = app.test_cli_runner()
    for _ in range(2):
        result = runner.invoke(args=["init-db"])
        assert result.exit_code == 0 and "Database ready" in result.output


def test_create_user_hashes_the_password_and_refuses_duplicates(app):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["create-user", "lihua", "--role", "manager"], env={"SERVICE_DESK_PASSWORD": "s3cret-pass"})
    assert result.exit_code == 0, result.output
    with app.app_context():
        user = User.get(User.username == "lihua")
        assert user.role == "manager" and user.check_password("s3cret-pass")
    result = runner.invoke(args=["create-user", "lihua", "--password", "another-pass"])
    assert result.exit_code != 0 and "already exists" in result.output


def test_create_user_without_a_terminal_does_not_guess_a_password(app):
    result = app.test_cli_runner().invoke(args=["create-user", "nobody"], input="")
    assert result.exit_code != 0 and "--password" in result.output
    result = app.test_cli_runner().invoke(args=["create-user", "shorty", "--password", "short"])
    assert result.exit_code != 0
    with app.app_context():
        assert not User.select().where(User.username.in_(["nobody", "shorty"])).exists()


def test_seed_demo_fills_every_stage_and_prints_logins(app):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["seed-demo"])
    assert result.exit_code == 0, result.output
    assert "manager / manager-demo-2026 / manager" in result.output
    with app.app_context():
        assert Customer.select().count() == 200
        # 300 taken by staff, and the follow-ups the demo's low survey scores opened
        followups = Complaint.select().where(Complaint.channel == "survey")
        assert Complaint.select().count() == 300 + followups.count() and followups.count() > 10
        assert not followups.where(Complaint.assignee.is_null()).exists()  # each with its owner
        total = Complaint.select().count()
        stages = {c.stage for c in Complaint.select(Complaint.stage).distinct()}
        assert stages == {"received", "acknowledged", "resolved", "rectified", "called_back", "closed"}
        from models.clock import now
        assert Complaint.select().where(Complaint.stage != "closed", Complaint.due_at < now()).count() > 0
        assert {s.kind for s in Survey.select()} >= {"csat", "nps", "star", "servqual"}
        from models import Answer
        assert Answer.select().where(Answer.staff.is_null(False)).count() >= 50       # service-star votes
        assert Answer.select().where(Answer.expectation.is_null(False)).count() > 0  # SERVQUAL pairs
        assert Response.select().count() > 100
    again = runner.invoke(args=["seed-demo", "--if-empty"])
    assert again.exit_code == 0 and "not added" in again.output and "manager-demo-2026" in again.output
    with app.app_context():
        assert Complaint.select().count() == total


def test_init_db_and_upgrade_db_offer_every_setting_with_its_default(app):
    from models import Setting
    runner = app.test_cli_runner()
    assert runner.invoke(args=["init-db"]).exit_code == 0
    with app.app_context():
        assert Setting.get_value("survey.followup_rating_max") == 2
        assert Setting.get_value("ranking_weights")["sla"] == 0.4
        Setting.set_value("survey.followup_score_max", 5)
    assert runner.invoke(args=["upgrade-db"]).exit_code == 0
    with app.app_context():
        assert Setting.get_value("survey.followup_score_max") == 5  # an office's own value is kept
        from models.settings import default_settings
        assert Setting.select().count() == len(default_settings())
