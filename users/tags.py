"""Tags by name: the one get-or-create every path uses (form, CSV import, API).

Names are unique per tenant regardless of case (constraint ``tag_name_ci_unique_per_tenant``),
and lookups ignore case too, so "Sales" and "sales" are the same tag.
"""

import re

from django.db import IntegrityError, transaction

from .models import Tag

MAX_LENGTH = 64
SPLIT = re.compile(r"[,;|]")


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
