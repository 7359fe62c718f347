"""Form input, validated by WTForms with a CSRF token on every form."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    EmailField,
    Field,
    HiddenField,
    IntegerField,
    PasswordField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Email, EqualTo, InputRequired, Length, Optional, StopValidation
from wtforms.widgets import CheckboxInput, ListWidget

from elearn.domain.text import TextRefused, clean_text

PASSWORD_MIN = 10
NAME_MAX = 200
TEXT_MAX = 10_000


class SmallIntegerField(IntegerField):
    """A whole number of at most nine digits. WTForms' IntegerField takes any length, and its
    NumberRange then fails on a number too large for a float (400 nines: a 500)."""

    def process_formdata(self, valuelist: list[str]) -> None:
        if valuelist and len(valuelist[0].strip()) > 9:
            self.data = None
            raise ValueError(self.gettext("Not a valid integer value."))
        super().process_formdata(valuelist)


def text_refused_message(label: str, refused: TextRefused) -> str:
    """ "Full name contains a control character, which is not allowed (U+0000)", translated."""
    from flask_babel import gettext as _

    if refused.char:
        return _(
            "%(field)s: %(problem)s (%(char)s).",
            field=label,
            problem=_(refused.message),
            char=refused.char,
        )
    return _("%(field)s: %(problem)s.", field=label, problem=_(refused.message))


class PlainText:
    """Every name and free text of a form: stored in NFC, without control or bidi-override
    characters, with something visible when it is required (``elearn.domain.text``). Tabs and
    line breaks only where ``multiline``. Put it after InputRequired and before Optional and
    Length: they see the clean text."""

    def __init__(self, *, multiline: bool = False) -> None:
        self.multiline = multiline

    def __call__(self, form: FlaskForm, field: Field) -> None:
        if not isinstance(field.data, str):
            return
        try:
            field.data = clean_text(
                field.data, multiline=self.multiline, required=bool(field.flags.required)
            )
        except TextRefused as refused:
            # Stop here: a later Optional() would clear the error of a text that str.strip()
            # empties (U+001C..U+001F, U+0085 are whitespace to Python).
            raise StopValidation(text_refused_message(str(field.label.text), refused)) from None


def language_choices() -> list[SelectChoice]:
    from flask import current_app

    from elearn.i18n import LANGUAGE_NAMES

    return [SelectChoice(code, LANGUAGE_NAMES[code]) for code in current_app.config["LANGUAGES"]]


def new_password_fields() -> tuple[PasswordField, PasswordField]:
    return (
        PasswordField(
            _l("New password"),
            validators=[InputRequired(), Length(min=PASSWORD_MIN, max=128)],
            description=_l("At least %(n)s characters.", n=PASSWORD_MIN),
            render_kw={"autocomplete": "new-password"},
        ),
        PasswordField(
            _l("Repeat the new password"),
            validators=[InputRequired(), EqualTo("password", message=_l("The passwords differ."))],
            render_kw={"autocomplete": "new-password"},
        ),
    )


class LoginForm(FlaskForm):
    email = EmailField(
        _l("E-mail"),
        validators=[InputRequired(), Length(max=254)],
        render_kw={"autocomplete": "username"},
    )
    password = PasswordField(
        _l("Password"),
        validators=[InputRequired(), Length(max=128)],
        render_kw={"autocomplete": "current-password"},
    )
    remember = BooleanField(_l("Keep me signed in on this device"))
    next = HiddenField()
    submit = SubmitField(_l("Sign in"))


class ForgotPasswordForm(FlaskForm):
    email = EmailField(
        _l("E-mail"),
        validators=[InputRequired(), Email(), Length(max=254)],
        render_kw={"autocomplete": "email"},
    )
    submit = SubmitField(_l("Send me a link"))


class SignupForm(FlaskForm):
    name = StringField(
        _l("Full name"),
        validators=[InputRequired(), PlainText(), Length(max=NAME_MAX)],
        render_kw={"autocomplete": "name"},
    )
    email = EmailField(
        _l("E-mail"),
        validators=[InputRequired(), Email(), Length(max=254)],
        render_kw={"autocomplete": "email"},
    )
    password, confirm = new_password_fields()
    submit = SubmitField(_l("Create account"))


class ProfileForm(FlaskForm):
    name = StringField(
        _l("Full name"),
        validators=[InputRequired(), PlainText(), Length(max=NAME_MAX)],
        render_kw={"autocomplete": "name"},
    )
    locale = SelectField(_l("Language"), choices=[])
    submit = SubmitField(_l("Save"))


class ChangePasswordForm(FlaskForm):
    current = PasswordField(
        _l("Current password"),
        validators=[InputRequired(), Length(max=128)],
        render_kw={"autocomplete": "current-password"},
    )
    password, confirm = new_password_fields()
    submit = SubmitField(_l("Change password"))


class ResetPasswordForm(FlaskForm):
    password, confirm = new_password_fields()
    submit = SubmitField(_l("Set password"))


class LanguageForm(FlaskForm):
    lang = SelectField(_l("Language"), choices=[])
    next = HiddenField()
    submit = SubmitField(_l("Change language"))


class ModuleForm(FlaskForm):
    """Reflection answers come as fields named ``reflection-<n>``, read by the view."""

    save = SubmitField(_l("Save my reflections"))
    complete = SubmitField(_l("Mark as done and continue"))


class EvaluationForm(FlaskForm):
    _scale = [SelectChoice(str(i), str(i)) for i in range(1, 6)]
    relevance = RadioField(
        _l("How relevant was the course to your work?"),
        choices=_scale,
        validators=[InputRequired()],
    )
    clarity = RadioField(
        _l("How clear was the content?"), choices=_scale, validators=[InputRequired()]
    )
    usefulness = RadioField(
        _l("How useful will it be in your next purchase?"),
        choices=_scale,
        validators=[InputRequired()],
    )
    gained = TextAreaField(
        _l("What did the course give you?"),
        validators=[PlainText(multiline=True), Optional(), Length(max=TEXT_MAX)],
    )
    improve = TextAreaField(
        _l("What should we improve?"),
        validators=[PlainText(multiline=True), Optional(), Length(max=TEXT_MAX)],
    )
    submit = SubmitField(_l("Send evaluation"))


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class UserForm(FlaskForm):
    name = StringField(
        _l("Full name"), validators=[InputRequired(), PlainText(), Length(max=NAME_MAX)]
    )
    email = EmailField(_l("E-mail"), validators=[InputRequired(), Email(), Length(max=254)])
    roles = MultiCheckboxField(_l("Roles"), choices=[])
    unit = SelectField(_l("Organisation unit"), choices=[], validators=[Optional()])
    manages = MultiCheckboxField(_l("Manages these units (and every unit below them)"), choices=[])
    active = BooleanField(_l("Active (may sign in)"), default=True)
    submit = SubmitField(_l("Save"))


class ConfirmForm(FlaskForm):
    """A bare form for buttons that change something: it carries the CSRF token."""

    submit = SubmitField(_l("Confirm"))


class SettingsForm(FlaskForm):
    self_signup = BooleanField(_l("Anyone may create a learner account (self sign-up)"))
    submit = SubmitField(_l("Save settings"))
