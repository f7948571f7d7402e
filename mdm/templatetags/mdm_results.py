"""Filters that render a command's stored result (JSON) as nested lists a person can read."""

from django import template

register = template.Library()


@register.filter
def is_mapping(value) -> bool:
    return isinstance(value, dict)


@register.filter
def is_sequence(value) -> bool:
    return isinstance(value, list | tuple)
