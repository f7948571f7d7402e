"""Tags by name: the one get-or-create every path uses (form, CSV import, API), and the one
check of a tag's name and colour (tag form, API).

Names are unique per tenant regardless of case (constraint ``tag_name_ci_unique_per_tenant``),
and lookups ignore case too, so "Sales" and "sales" are the same tag.
"""

import re

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from .models import Tag

MAX_LENGTH = 64
SPLIT = re.compile(r"[,;|]")
COLOUR = re.compile(r"#[0-9a-fA-F]{6}")


def split_names(text: str) -> list[str]:
    """Names of a comma- (or semicolon- or bar-) separated text, each once regardless of case."""
    return unique_names(SPLIT.split(text or ""))


def unique_names(names) -> list[str]:
    seen, result = set(), []
    for raw in names:
        name = (raw or "").strip()[:MAX_LENGTH]
        if name and name.lower() not in seen:
            seen.add(name.lower())
            result.append(name)
    return result


def get_or_create_tag(tenant, name: str) -> Tag:
    name = name.strip()[:MAX_LENGTH]
    tag = Tag.objects.filter(tenant=tenant, name__iexact=name).first()
    if tag is not None:
        return tag
    try:
        with transaction.atomic():
            return Tag.objects.create(tenant=tenant, name=name)
    except IntegrityError:  # created concurrently with another case
        return Tag.objects.get(tenant=tenant, name__iexact=name)


def tags_for_names(tenant, names) -> list[Tag]:
    return [get_or_create_tag(tenant, name) for name in unique_names(names)]


class TagError(ValueError):
    """A tag name or colour that cannot be saved; the message says why, for a person."""


def checked_name(tenant, name: str, *, exclude_pk=None) -> str:
    """The name to save for a tag (created or renamed): not empty, no separator of
    ``split_names``, and not another tag's in any case."""
    name = (name or "").strip()
    if not name:
        raise TagError(_("Enter a name."))
    if len(name) > MAX_LENGTH:
        raise TagError(_("A tag name has at most %(max)s characters.") % {"max": MAX_LENGTH})
    if SPLIT.search(name):
        raise TagError(_("A tag name cannot contain , ; or |."))
    clash = Tag.objects.filter(tenant=tenant, name__iexact=name)
    if exclude_pk is not None:
        clash = clash.exclude(pk=exclude_pk)
    if clash.exists():
        raise TagError(_("A tag with this name exists already (names ignore case)."))
    return name


def checked_color(color: str) -> str:
    color = (color or "").strip()
    if not COLOUR.fullmatch(color):
        raise TagError(_("Pick a colour, e.g. #3b6ea5."))
    return color.lower()
