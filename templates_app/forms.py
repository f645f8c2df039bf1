"""The template editor's form: what the page posts (plain fields plus the parts of the template as JSON in
WhatsApp's create shape, kept by static/js/template_editor.js) turned into a `services.Draft`, and a stored
revision turned back into the editor's fields.

Posted JSON is untrusted: anything unreadable is refused with a sentence (`EditorProblem`), never a 500.
Content rules are lint's business (`templates_app.lint`), shape rules the service's."""

import json
from dataclasses import asdict, dataclass, field

from django.http import QueryDict
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from templates_app import lint, services
from templates_app.models import ParameterFormat, TemplateCategory, TemplateRevision

# The JSON of one template is a few kilobytes (a 1024-character body, 10 buttons); anything far bigger is
# not from the editor.
JSON_MAX_LENGTH = 64 * 1024

# WhatsApp's language codes (Meta's "Supported languages" list). The common ones first in the select.
COMMON_LANGUAGES = (
    ("en_US", gettext_lazy("English (US)")),
    ("en_GB", gettext_lazy("English (UK)")),
    ("en", gettext_lazy("English")),
    ("es", gettext_lazy("Spanish")),
    ("es_MX", gettext_lazy("Spanish (Mexico)")),
    ("es_ES", gettext_lazy("Spanish (Spain)")),
    ("es_AR", gettext_lazy("Spanish (Argentina)")),
    ("pt_BR", gettext_lazy("Portuguese (Brazil)")),
    ("pt_PT", gettext_lazy("Portuguese (Portugal)")),
    ("fr", gettext_lazy("French")),
    ("de", gettext_lazy("German")),
    ("it", gettext_lazy("Italian")),
    ("ru", gettext_lazy("Russian")),
    ("nl", gettext_lazy("Dutch")),
    ("ar", gettext_lazy("Arabic")),
    ("hi", gettext_lazy("Hindi")),
    ("id", gettext_lazy("Indonesian")),
    ("tr", gettext_lazy("Turkish")),
)
OTHER_LANGUAGES = (
    ("af", gettext_lazy("Afrikaans")),
    ("sq", gettext_lazy("Albanian")),
    ("az", gettext_lazy("Azerbaijani")),
    ("bn", gettext_lazy("Bengali")),
    ("bg", gettext_lazy("Bulgarian")),
    ("ca", gettext_lazy("Catalan")),
    ("zh_CN", gettext_lazy("Chinese (China)")),
    ("zh_HK", gettext_lazy("Chinese (Hong Kong)")),
    ("zh_TW", gettext_lazy("Chinese (Taiwan)")),
    ("hr", gettext_lazy("Croatian")),
    ("cs", gettext_lazy("Czech")),
    ("da", gettext_lazy("Danish")),
    ("et", gettext_lazy("Estonian")),
    ("fil", gettext_lazy("Filipino")),
    ("fi", gettext_lazy("Finnish")),
    ("ka", gettext_lazy("Georgian")),
    ("el", gettext_lazy("Greek")),
    ("gu", gettext_lazy("Gujarati")),
    ("ha", gettext_lazy("Hausa")),
    ("he", gettext_lazy("Hebrew")),
    ("hu", gettext_lazy("Hungarian")),
    ("ga", gettext_lazy("Irish")),
    ("ja", gettext_lazy("Japanese")),
    ("kn", gettext_lazy("Kannada")),
    ("kk", gettext_lazy("Kazakh")),
    ("rw_RW", gettext_lazy("Kinyarwanda")),
    ("ko", gettext_lazy("Korean")),
    ("ky_KG", gettext_lazy("Kyrgyz")),
    ("lo", gettext_lazy("Lao")),
    ("lv", gettext_lazy("Latvian")),
    ("lt", gettext_lazy("Lithuanian")),
    ("mk", gettext_lazy("Macedonian")),
    ("ms", gettext_lazy("Malay")),
    ("ml", gettext_lazy("Malayalam")),
    ("mr", gettext_lazy("Marathi")),
    ("nb", gettext_lazy("Norwegian")),
    ("fa", gettext_lazy("Persian")),
    ("pl", gettext_lazy("Polish")),
    ("pa", gettext_lazy("Punjabi")),
    ("ro", gettext_lazy("Romanian")),
    ("sr", gettext_lazy("Serbian")),
    ("sk", gettext_lazy("Slovak")),
    ("sl", gettext_lazy("Slovenian")),
    ("sw", gettext_lazy("Swahili")),
    ("sv", gettext_lazy("Swedish")),
    ("ta", gettext_lazy("Tamil")),
    ("te", gettext_lazy("Telugu")),
    ("th", gettext_lazy("Thai")),
    ("uk", gettext_lazy("Ukrainian")),
    ("ur", gettext_lazy("Urdu")),
    ("uz", gettext_lazy("Uzbek")),
    ("vi", gettext_lazy("Vietnamese")),
    ("zu", gettext_lazy("Zulu")),
)
LANGUAGE_NAMES = dict(COMMON_LANGUAGES + OTHER_LANGUAGES)

CATEGORY_HELP = {
    TemplateCategory.MARKETING: gettext_lazy("Offers, news, invitations: anything that promotes. Customers opt out."),
    TemplateCategory.UTILITY: gettext_lazy("About something the customer did or asked: an order, a booking, a bill."),
    TemplateCategory.AUTHENTICATION: gettext_lazy(
        "One-time codes to log in or confirm. WhatsApp writes the text; you choose the options."
    ),
}


def _garbled() -> str:
    return _("The parts of the template could not be read (the page sent them garbled): reload the page and try again.")


class EditorProblem(Exception):
    """The posted form could not be read; `detail` says so in one sentence."""

    def __init__(self, detail: str):
        super().__init__(detail)
        self.detail = detail


def _json(data: QueryDict, key: str, expected: type, empty):
    raw = data.get(key, "")
    if not raw.strip():
        return empty
    if len(raw) > JSON_MAX_LENGTH:
        raise EditorProblem(_("The template is too large to be read: shorten it and try again."))
    try:
        value = json.loads(raw)
    except ValueError:
        value = None
    if not isinstance(value, expected):
        raise EditorProblem(_garbled())
    return value


def draft_from_post(data: QueryDict, *, fixed_name: str = "", fixed_language: str = "") -> services.Draft:
    """The draft the editor posted. `fixed_name`/`fixed_language` replace the posted ones for a template
    WhatsApp already knows (they can no longer change)."""
    components = _json(data, "components_json", list, [])
    if not all(isinstance(part, dict) for part in components):
        raise EditorProblem(_garbled())
    variable_fields = _json(data, "variable_fields_json", dict, {})
    if not all(isinstance(key, str) and isinstance(value, str) for key, value in variable_fields.items()):
        raise EditorProblem(_("The prefilled variables could not be read: reload the page and try again."))
    parameter_format = data.get("parameter_format", ParameterFormat.POSITIONAL)
    return services.Draft(
        name=fixed_name or data.get("name", "").strip(),
        language=fixed_language or data.get("language", "").strip(),
        category=data.get("category", ""),
        components=components,
        parameter_format=parameter_format,
        allow_category_change=data.get("allow_category_change") == "1",
        variable_fields=variable_fields,
    )


# --- A stored revision back into the editor's fields -----------------------------------------------------------


@dataclass
class EditorState:
    """What the editor's fields show. `components` stays the source the page's script rebuilds from."""

    name: str = ""
    language: str = "en_US"
    category: str = TemplateCategory.UTILITY
    parameter_format: str = ParameterFormat.POSITIONAL
    allow_category_change: bool = True
    components: list = field(default_factory=list)
    variable_fields: dict = field(default_factory=dict)
    header_format: str = "NONE"
    header_text: str = ""
    header_media: str = ""
    body_text: str = ""
    footer_text: str = ""
    security_recommendation: bool = True
    code_expiration_minutes: str = "10"
    otp_type: str = "COPY_CODE"
    package_name: str = ""
    signature_hash: str = ""

    @property
    def components_json(self) -> str:
        return json.dumps(self.components, ensure_ascii=False)

    @property
    def variable_fields_json(self) -> str:
        return json.dumps(self.variable_fields, ensure_ascii=False)

    def as_draft_dict(self) -> dict:
        return {
            "name": self.name,
            "language": self.language,
            "category": self.category,
            "parameter_format": self.parameter_format,
            "components": self.components,
        }


def _by_type(components: list) -> dict[str, dict]:
    found: dict[str, dict] = {}
    for component in components:
        if isinstance(component, dict) and isinstance(component.get("type"), str):
            found.setdefault(component["type"].upper(), component)
    return found


def editor_state(
    *,
    name: str,
    language: str,
    category: str,
    parameter_format: str,
    allow_category_change: bool,
    components: list,
    variable_fields: dict,
) -> EditorState:
    """The fields of the editor for a draft (a stored revision, or what was just posted)."""
    state = EditorState(
        name=name,
        language=language,
        category=category or TemplateCategory.UTILITY,
        parameter_format=parameter_format or ParameterFormat.POSITIONAL,
        allow_category_change=allow_category_change,
        components=components if isinstance(components, list) else [],
        variable_fields=variable_fields if isinstance(variable_fields, dict) else {},
    )
    parts = _by_type(state.components)
    header = parts.get("HEADER") or {}
    header_format = str(header.get("format") or "").upper()
    if header_format in ("TEXT", *lint.MEDIA_HEADER_FORMATS):
        state.header_format = header_format
        state.header_text = str(header.get("text") or "") if header_format == "TEXT" else ""
        example = header.get("example") if isinstance(header.get("example"), dict) else {}
        handles = example.get("header_handle")
        if isinstance(handles, list) and handles and isinstance(handles[0], str):
            state.header_media = handles[0]
    body = parts.get("BODY") or {}
    state.body_text = str(body.get("text") or "")
    footer = parts.get("FOOTER") or {}
    state.footer_text = str(footer.get("text") or "")
    if state.category == TemplateCategory.AUTHENTICATION:
        state.security_recommendation = body.get("add_security_recommendation") is True
        minutes = footer.get("code_expiration_minutes")
        state.code_expiration_minutes = str(minutes) if isinstance(minutes, int) else ""
        buttons = (parts.get("BUTTONS") or {}).get("buttons") or []
        otp = next((b for b in buttons if isinstance(b, dict) and str(b.get("type")).upper() == "OTP"), {})
        state.otp_type = str(otp.get("otp_type") or "COPY_CODE").upper()
        apps = otp.get("supported_apps") if isinstance(otp.get("supported_apps"), list) else []
        app = apps[0] if apps and isinstance(apps[0], dict) else otp
        state.package_name = str(app.get("package_name") or "")
        state.signature_hash = str(app.get("signature_hash") or "")
    return state


def state_of_revision(revision: TemplateRevision) -> EditorState:
    return editor_state(**asdict(services.draft_of(revision)))


def state_of_post(data: QueryDict, *, fixed_name: str = "", fixed_language: str = "") -> EditorState:
    """What the person posted, to show it again with the reason it was refused. Unreadable JSON leaves the
    parts empty (the typed name, language and category stay)."""
    try:
        draft = draft_from_post(data, fixed_name=fixed_name, fixed_language=fixed_language)
    except EditorProblem:
        draft = services.Draft(
            name=fixed_name or data.get("name", "").strip(),
            language=fixed_language or data.get("language", "").strip(),
            category=data.get("category", ""),
            components=[],
            parameter_format=data.get("parameter_format", ParameterFormat.POSITIONAL),
            allow_category_change=data.get("allow_category_change") == "1",
        )
    return editor_state(
        name=draft.name,
        language=draft.language,
        category=draft.category if draft.category in TemplateCategory.values else TemplateCategory.UTILITY,
        parameter_format=draft.parameter_format
        if draft.parameter_format in ParameterFormat.values
        else ParameterFormat.POSITIONAL,
        allow_category_change=draft.allow_category_change,
        components=draft.components,
        variable_fields=draft.variable_fields,
    )


def language_choices(current: str = "") -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """(common, others) for the language select; a stored code WhatsApp spells otherwise stays choosable."""
    common = [(code, str(label)) for code, label in COMMON_LANGUAGES]
    others = sorted(((code, str(label)) for code, label in OTHER_LANGUAGES), key=lambda item: item[1])
    if current and current not in LANGUAGE_NAMES:
        others.insert(0, (current, current))
    return common, others
