"""The organisation: branches (the unit everything is ranked by), staff, login accounts."""
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from peewee import BooleanField, CharField, DateField, DateTimeField, ForeignKeyField, IntegerField

from .base import BaseModel
from .clock import now
from .i18n import _l

# argon2id with the library's RFC 9106 "low memory" defaults.
_hasher = PasswordHasher()


def configure_password_hashing(**params):
    """Replace the argon2id parameters (config PASSWORD_HASH_PARAMS; tests use cheap ones)."""
    global _hasher, _unknown_user_hash
    _hasher = PasswordHasher(**params)
    _unknown_user_hash = None


# A hash checked when the username is unknown or the account inactive, so that a wrong
# username costs the same time as a wrong password (no timing oracle for usernames).
_unknown_user_hash = None


def _hash_for_unknown_users():
    global _unknown_user_hash
    if _unknown_user_hash is None:
        _unknown_user_hash = _hasher.hash("no such user: the hash is checked all the same")
    return _unknown_user_hash

ROLES = [
    ("staff", _l("Staff")),
    ("manager", _l("Manager")),
    ("director", _l("Service director")),
    ("admin", _l("Administrator")),
]
# staff < manager (分公司经理, a branch manager) < director (服务总监, supervises every branch)
# < admin (accounts and settings as well)
ROLE_RANK = {"staff": 1, "manager": 2, "director": 3, "admin": 4}


class Branch(BaseModel):
    """分公司: complaints, customers and staff belong to one; rankings are per branch."""

    name = CharField(unique=True, max_length=100, verbose_name=_l("Name"))
    region = CharField(max_length=50, verbose_name=_l("Region"),
                       help_text=_l("Platform / region, e.g. 甘宁, 江苏, 新疆"))
    city = CharField(max_length=50, default="", verbose_name=_l("City"))
    active = BooleanField(default=True, verbose_name=_l("Active"))

    def __str__(self):
        return self.name


class Staff(BaseModel):
    """员工: an employee. Not every employee has a login account."""

    name = CharField(max_length=50, verbose_name=_l("Name"))
    employee_no = CharField(unique=True, max_length=30, verbose_name=_l("Employee number"))
    branch = ForeignKeyField(Branch, backref="staff", on_delete="RESTRICT", verbose_name=_l("Branch"))
    position = CharField(max_length=50, default="", verbose_name=_l("Position"))
    phone = CharField(max_length=30, default="", verbose_name=_l("Phone"))
    hire_date = DateField(null=True, verbose_name=_l("Hire date"))
    active = BooleanField(default=True, index=True, verbose_name=_l("Active"))
    on_duty = BooleanField(default=False, verbose_name=_l("Branch duty person"),
                           help_text=_l("Owns the branch's survey follow-ups whose customer has no account manager; "
                                        "one per branch"))
    # where alerts reach the person (models.notifications); an account linked to this staff member
    # decides its own preferences, and its own addresses come first
    email = CharField(max_length=120, default="", verbose_name=_l("E-mail"),
                      help_text=_l("Alerts about complaints and reports are sent here"))
    mobile = CharField(max_length=30, default="", verbose_name=_l("Mobile"),
                       help_text=_l("Alerts by SMS are sent here"))
    notify_email = BooleanField(default=True, verbose_name=_l("Alerts by e-mail"))
    notify_sms = BooleanField(default=False, verbose_name=_l("Alerts by SMS"))

    class Meta:
        table_name = "staff"

    def __str__(self):
        return f"{self.name} ({self.employee_no})"

    def save(self, *args, **kwargs):
        """A branch has one duty person (值班负责人): marking one clears the others of the branch."""
        with self._meta.database.atomic():
            saved = super().save(*args, **kwargs)
            if self.on_duty:
                (Staff.update(on_duty=False)
                 .where(Staff.branch == self.branch_id, Staff.id != self.id, Staff.on_duty == True)  # noqa: E712
                 .execute())
        return saved


class User(BaseModel):
    """A login account. Role decides what the account may see and do; its branches
    (models.scope) decide which rows.

    Sessions (the signed session cookie) carry the account's `session_version`: logging
    out, a new password, a change of role and deactivation raise it, which ends every
    session of the account on every device (auth checks it on each request)."""

    username = CharField(unique=True, max_length=50, verbose_name=_l("Username"))
    password_hash = CharField(max_length=255, verbose_name=_l("Password hash"))
    role = CharField(max_length=10, choices=ROLES, default="staff", verbose_name=_l("Role"))
    staff = ForeignKeyField(Staff, null=True, backref="accounts", on_delete="RESTRICT",
                            verbose_name=_l("Staff member"))
    active = BooleanField(default=True, verbose_name=_l("Active"))
    created_at = DateTimeField(default=now, verbose_name=_l("Created at"))
    last_login_at = DateTimeField(null=True, verbose_name=_l("Last login"))
    session_version = IntegerField(default=0, verbose_name=_l("Session version"),
                                   help_text=_l("Raised to end every session of the account"))
    email = CharField(max_length=120, default="", verbose_name=_l("E-mail"),
                      help_text=_l("Empty: the linked staff member's e-mail"))
    mobile = CharField(max_length=30, default="", verbose_name=_l("Mobile"),
                       help_text=_l("Empty: the linked staff member's mobile"))
    notify_email = BooleanField(default=True, verbose_name=_l("Alerts by e-mail"))
    notify_sms = BooleanField(default=False, verbose_name=_l("Alerts by SMS"))

    def __str__(self):
        return self.username

    # a change of any of these ends the account's sessions (end_sessions)
    SESSION_FIELDS = ("password_hash", "role", "active")

    def save(self, *args, **kwargs):
        """Saving a new password, another role or a deactivation ends the account's sessions."""
        if self.id is not None:
            stored = (User.select(*[getattr(User, name) for name in self.SESSION_FIELDS])
                      .where(User.id == self.id).tuples().first())
            if stored is not None and tuple(getattr(self, name) for name in self.SESSION_FIELDS) != stored:
                self.session_version = (self.session_version or 0) + 1
        return super().save(*args, **kwargs)

    def end_sessions(self):
        """End every session of this account (logout on all devices)."""
        User.update(session_version=User.session_version + 1).where(User.id == self.id).execute()
        self.session_version = User.select(User.session_version).where(User.id == self.id).scalar()

    # Flask-Login protocol
    is_anonymous = False

    @property
    def is_authenticated(self):
        return True

    @property
    def is_active(self):
        return self.active

    def get_session_id(self):
        """What the session cookie keeps (Flask-Login's id_attribute): the id and the session
        version ("12:3"), so a cookie from before the last logout, new password, role change
        or deactivation no longer loads."""
        return f"{self.id}:{self.session_version or 0}"

    def set_password(self, password):
        if not password or len(password) < 8:
            raise ValueError(str(_l("The password must have at least 8 characters.")))
        self.password_hash = _hasher.hash(password)

    def check_password(self, password):
        try:
            return _hasher.verify(self.password_hash, password)
        except (VerificationError, InvalidHashError):
            return False

    @classmethod
    def authenticate(cls, username, password):
        """The active account with this username and password, else None. One password hash
        is checked whatever the outcome, so an unknown username takes as long to refuse
        as a wrong password."""
        user = cls.get_or_none(cls.username == username)
        if user is None or not user.active:
            try:
                _hasher.verify(_hash_for_unknown_users(), password)
            except (VerificationError, InvalidHashError):
                pass
            return None
        return user if user.check_password(password) else None

    def has_role(self, role):
        """True if this account's role is at least `role` (staff < manager < admin)."""
        return self.active and ROLE_RANK.get(self.role, 0) >= ROLE_RANK[role]


class UserBranch(BaseModel):
    """A branch an account belongs to besides its staff record's branch: a manager in charge
    of several branches (models.scope)."""

    user = ForeignKeyField(User, backref="branch_links", on_delete="CASCADE", verbose_name=_l("Account"))
    branch = ForeignKeyField(Branch, backref="user_links", on_delete="CASCADE", verbose_name=_l("Branch"))

    class Meta:
        table_name = "user_branch"
        indexes = ((("user", "branch"), True),)

    def __str__(self):
        return f"{self.user.username} → {self.branch.name}"
