"""Per-area isolation cases; ``tests/isolation_cases.py`` merges every module of this package.

Each module defines ``CASES`` (url name -> (factory(tenant) -> obj, kwargs_builder(obj))) and
may define ``NOT_ADMIN_OBJECT_URLS`` (a set of url names authenticated by their own protocol).
Areas own their module, so parallel work never edits the same file.
"""
