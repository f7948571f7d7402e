"""The schema-driven payload editor: one form class per payload type, built from the facts table.

Every key user enrollment allows becomes a field (``payload_catalogue.key_specs``); keys it
forbids or ignores are never offered. Simple values get matching fields (text, number, yes/no,
choice, date, file); lists of strings or numbers are one item per line; nested dictionaries and
lists of dictionaries are JSON checked against the schema's sub-keys. Secrets and stored files
are never rendered back: left empty they keep the stored value, unless "remove" is ticked.
Whole-payload rules (required keys, formats, forbidden sub-keys, unknown variables) are
``configuration_profiles.check_payload``, the same check the API and the import use.
"""

import functools
import json

from django import forms
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from apple import schema

from . import configuration_profiles, payload_catalogue, payload_values
from .models import ProfilePayload

MAX_FILE = 1024 * 1024
_SIMPLE_ITEMS = {"string": str, "integer": int}
_BOOL_CHOICES = [("true", _("Yes")), ("false", _("No"))]


class LinesField(forms.CharField):
    """A list of strings or integers, one per line."""

    widget = forms.Textarea(attrs={"rows": 3})

    def __init__(self, *, item_type=str, **kwargs):
        self.item_type = item_type
        super().__init__(**kwargs)

    def prepare_value(self, value):
        if isinstance(value, list):
            return "\n".join(str(item) for item in value)
        return value

    def to_python(self, value):
        lines = [line.strip() for line in (value or "").splitlines() if line.strip()]
        try:
            return [self.item_type(line) for line in lines]
        except ValueError as exc:
            raise forms.ValidationError(_("Write one whole number per line.")) from exc


class JSONValueField(forms.CharField):
    """A nested value as JSON (files as {"$data": base64}, dates as {"$date": ISO})."""

    widget = forms.Textarea(attrs={"rows": 4, "class": "code"})

    def __init__(self, *, type_name="any", **kwargs):
        self.type_name = type_name
        super().__init__(**kwargs)

    def prepare_value(self, value):
        if isinstance(value, dict | list):
            return json.dumps(payload_values.to_json(value), indent=2, ensure_ascii=False)
        return value

    def to_python(self, value):
        if not (value or "").strip():
            return None
        try:
            parsed = json.loads(value)
        except ValueError as exc:
            raise forms.ValidationError(
                _("Not valid JSON: %(error)s") % {"error": str(exc)}
            ) from exc
        if self.type_name == "dictionary" and not isinstance(parsed, dict):
            raise forms.ValidationError(_("Write a JSON object: {…}."))
        if self.type_name == "array" and not isinstance(parsed, list):
            raise forms.ValidationError(_("Write a JSON list: […]."))
        return payload_values.from_json(parsed)


class UploadField(forms.FileField):
    def to_python(self, data):
        upload = super().to_python(data)
        if upload is None:
            return None
        if upload.size > MAX_FILE:
            raise forms.ValidationError(_("The file is larger than 1 MB."))
        return upload.read()


def _field_for(spec: dict, *, secret: bool) -> forms.Field:
    type_name = spec.get("type", "any")
    common = {"required": False, "label": spec.get("title") or spec["key"]}
    choices = spec.get("rangelist")
    if type_name == "boolean":
        return forms.TypedChoiceField(
            choices=[("", _("Not set"))] + _BOOL_CHOICES,
            coerce=lambda value: value == "true",
            empty_value=None,
            **common,
        )
    if choices is not None and type_name in ("string", "integer"):
        coerce = int if type_name == "integer" else str
        return forms.TypedChoiceField(
            choices=[("", _("Not set"))] + [(str(c), str(c)) for c in choices],
            coerce=coerce,
            empty_value=None,
            **common,
        )
    if type_name == "string":
        if secret:
            return forms.CharField(
                widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "off"}),
                strip=False,
                **common,
            )
        return forms.CharField(max_length=10000, **common)
    if type_name == "integer":
        bounds = spec.get("range") or {}
        return forms.IntegerField(
            min_value=bounds.get("min"), max_value=bounds.get("max"), **common
        )
    if type_name == "real":
        bounds = spec.get("range") or {}
        return forms.FloatField(min_value=bounds.get("min"), max_value=bounds.get("max"), **common)
    if type_name == "date":
        return forms.DateTimeField(**common)
    if type_name == "data":
        return UploadField(**common)
    item = (spec.get("subkeys") or [{}])[0]
    if type_name == "array" and item.get("type") in _SIMPLE_ITEMS and not secret:
        return LinesField(item_type=_SIMPLE_ITEMS[item["type"]], **common)
    return JSONValueField(type_name=type_name, **common)


def _help(spec: dict, *, keepable: bool) -> str:
    parts = [format_html("<code>{}</code>", spec["key"])]
    if spec.get("default") is not None and spec.get("type") != "boolean":
        parts.append(format_html("{} {}", _("Apple's default:"), spec["default"]))
    if spec.get("type") == "boolean" and spec.get("default") is not None:
        default = _("Yes") if spec["default"] else _("No")
        parts.append(format_html("{} {}", _("Apple's default:"), default))
    if isinstance(_field_for(spec, secret=False), LinesField):
        parts.append(str(_("One per line.")))
    if isinstance(_field_for(spec, secret=False), JSONValueField):
        parts.append(str(_('JSON; files as {"$data": base64}.')))
    if keepable:
        parts.append(str(_("Stored and not shown; leave empty to keep it.")))
    return format_html(" · ".join(["{}"] * len(parts)), *parts)


class PayloadForm(forms.Form):
    """Subclassed per payload type by ``payload_form_class``."""

    payload_type = ""
    specs: dict = {}
    secret_keys: frozenset = frozenset()

    def __init__(self, *args, payload: ProfilePayload | None = None, **kwargs):
        self.payload = payload
        stored = configuration_profiles.payload_values_of(payload) if payload else {}
        secrets = configuration_profiles.payload_secrets(payload) if payload else {}
        self.stored = stored
        initial = {}
        for key, spec in self.specs.items():
            if key in self.secret_keys or spec.get("type") == "data":
                continue  # never rendered back
            if payload is not None:
                value = payload.values.get(key)
                value = payload_values.from_json(value) if value is not None else None
            else:
                value = spec.get("default")
            if spec.get("type") == "boolean" and value is not None:
                value = "true" if value else "false"
            if value is not None:
                initial[key] = value
        kwargs.setdefault("initial", initial)
        super().__init__(*args, **kwargs)
        # A stored secret or file: empty keeps it, "remove" drops it.
        self.keepable = {
            key
            for key, spec in self.specs.items()
            if (key in secrets or (spec.get("type") == "data" and key in stored))
        }
        for key, spec in self.specs.items():
            self.fields[key].help_text = _help(spec, keepable=key in self.keepable)
        order = []
        for key in self.specs:
            order.append(key)
            if key in self.keepable:
                order.append(f"{key}__remove")
                self.fields[f"{key}__remove"] = forms.BooleanField(
                    required=False,
                    label=_("Remove the stored %(name)s") % {"name": self.fields[key].label},
                )
        self.order_fields(order)

    def clean(self):
        cleaned = super().clean()
        values = {}
        for key in self.specs:
            value = cleaned.get(key)
            empty_lines = value == [] and isinstance(self.fields[key], LinesField)
            if value is None or value == "" or empty_lines:
                if key in self.keepable and not cleaned.get(f"{key}__remove"):
                    values[key] = self.stored[key]
                continue
            values[key] = value
        # Nested secrets (e.g. EAPClientConfiguration.UserPassword) stay while their parent does.
        for path in payload_catalogue.secret_paths(self.payload_type):
            parent = path.split(".")[0]
            if "." in path and isinstance(values.get(parent), dict) and self.payload:
                secrets = configuration_profiles.payload_secrets(self.payload)
                leaf = path.split(".", 1)[1]
                if path in secrets and leaf not in values[parent]:
                    values[parent] = {
                        **values[parent],
                        leaf: payload_values.from_json(secrets[path]),
                    }
        if self.errors:
            return cleaned
        for message in configuration_profiles.check_payload(self.payload_type, values):
            field = self._field_of(message)
            if field and message == f"{self.payload_type}.{field}: {schema.REQUIRED_KEY_MISSING}":
                self.add_error(field, forms.Field.default_error_messages["required"])
            else:
                self.add_error(field, message.removeprefix(self.payload_type + "."))
        self.values = values
        return cleaned

    def _field_of(self, message: str):
        rest = message.removeprefix(self.payload_type + ".")
        if rest == message:
            return None
        key = rest.split(":")[0].split("[")[0]
        while key and key not in self.fields:
            if "." not in key:
                return None
            key = key.rsplit(".", 1)[0]
        return key or None

    def save(self, profile) -> ProfilePayload:
        """Add the payload to ``profile`` or update it; the caller calls ``record_change``."""
        if self.payload is None:
            return configuration_profiles.add_payload(profile, self.payload_type, self.values)
        configuration_profiles.set_payload_values(self.payload, self.values)
        self.payload.save()
        return self.payload


@functools.cache
def payload_form_class(payload_type: str) -> type[PayloadForm]:
    if payload_type not in payload_catalogue.payload_types():
        raise KeyError(payload_type)
    specs = {spec["key"]: spec for spec in payload_catalogue.key_specs(payload_type)}
    secret_keys = frozenset(p for p in payload_catalogue.secret_paths(payload_type) if "." not in p)
    fields = {key: _field_for(spec, secret=key in secret_keys) for key, spec in specs.items()}
    name = "PayloadForm_" + "".join(c if c.isalnum() else "_" for c in payload_type)
    return type(
        name,
        (PayloadForm,),
        {**fields, "payload_type": payload_type, "specs": specs, "secret_keys": secret_keys},
    )
