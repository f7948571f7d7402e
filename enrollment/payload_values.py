"""Payload values as JSON: the stored form of ``ProfilePayload.values``/``secret_values``.

Property lists have ``data`` and ``date`` values that JSON lacks; they are stored as
``{"$data": "<base64>"}`` and ``{"$date": "<ISO 8601, UTC>"}``. ``to_json`` and ``from_json``
are inverse for every value a payload may hold.
"""

import base64
import binascii
import datetime as dt

DATA = "$data"
DATE = "$date"


def to_json(value):
    if isinstance(value, bytes | bytearray):
        return {DATA: base64.b64encode(bytes(value)).decode()}
    if isinstance(value, dt.datetime):
        if value.tzinfo is not None:
            value = value.astimezone(dt.UTC).replace(tzinfo=None)
        return {DATE: value.isoformat(timespec="seconds")}
    if isinstance(value, dict):
        return {str(key): to_json(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [to_json(item) for item in value]
    return value


def from_json(value):
    if isinstance(value, dict):
        if set(value) == {DATA} and isinstance(value[DATA], str):
            try:
                return base64.b64decode(value[DATA], validate=True)
            except binascii.Error:
                return value
        if set(value) == {DATE} and isinstance(value[DATE], str):
            try:
                return dt.datetime.fromisoformat(value[DATE]).replace(tzinfo=None)
            except ValueError:
                return value
        return {key: from_json(item) for key, item in value.items()}
    if isinstance(value, list):
        return [from_json(item) for item in value]
    return value
