"""Account forms."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, HiddenField, PasswordField, SelectField, StringField
from wtforms.validators import DataRequired, EqualTo, Length, ValidationError

from app.accounts.passwords import password_problems
from app.core.forms import country_choices


class RegisterForm(FlaskForm):  # type: ignore[misc]
    name = StringField("Full name", validators=[DataRequired(), Length(max=120)])
    email = EmailField("Email", validators=[DataRequired(), Length(max=320)])
    password = PasswordField(
        "Password",
        validators=[DataRequired(), Length(max=128)],
        description="At least 8 characters, mixing letters with digits or symbols.",
    )
    confirm = PasswordField(
        "Repeat password",
        validators=[DataRequired(), EqualTo("password", message="The passwords don't match.")],
    )
    next = HiddenField()

    # Every field is checked on one submit, so all its problems show at once (the service
    # checks the same rules again).
    def validate_email(self, field: EmailField) -> None:
        import email_validator  # on first use, as in accounts.services.clean_email

        try:
            email_validator.validate_email(field.data or "", check_deliverability=False)
        except email_validator.EmailNotValidError as exc:
            raise ValidationError(str(exc)) from exc

    def validate_password(self, field: PasswordField) -> None:
        problems = password_problems(field.data or "", self.email.data or "", self.name.data or "")
        if problems:
            raise ValidationError(" ".join(problems))


class LoginForm(FlaskForm):  # type: ignore[misc]
    email = EmailField("Email", validators=[DataRequired(), Length(max=320)])
    password = PasswordField("Password", validators=[DataRequired(), Length(max=128)])
    remember = BooleanField("Keep me signed in")
    next = HiddenField()


class LogoutForm(FlaskForm):  # type: ignore[misc]
    pass


class ProfileForm(FlaskForm):  # type: ignore[misc]
    name = StringField("Full name", validators=[DataRequired(), Length(max=120)])
    email = EmailField("Email", validators=[DataRequired(), Length(max=320)])
    country = SelectField(
        "Country",
        choices=[],
        description="Used to work out sales tax on your purchases.",
    )

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.country.choices = country_choices()


class PasswordForm(FlaskForm):  # type: ignore[misc]
    current_password = PasswordField("Current password", validators=[DataRequired()])
    new_password = PasswordField(
        "New password",
        validators=[DataRequired(), Length(max=128)],
        description="At least 8 characters, mixing letters with digits or symbols.",
    )
    confirm = PasswordField(
        "Repeat new password",
        validators=[DataRequired(), EqualTo("new_password", message="The passwords don't match.")],
    )


class ForgotPasswordForm(FlaskForm):  # type: ignore[misc]
    email = EmailField(
        "Email",
        validators=[DataRequired(), Length(max=320)],
        description="The address you signed up with.",
    )


class ResetPasswordForm(FlaskForm):  # type: ignore[misc]
    password = PasswordField(
        "New password",
        validators=[DataRequired(), Length(max=128)],
        description="At least 8 characters, mixing letters with digits or symbols.",
    )
    confirm = PasswordField(
        "Repeat new password",
        validators=[DataRequired(), EqualTo("password", message="The passwords don't match.")],
    )
