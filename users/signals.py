"""Signals of users, so apps that build on users react to its changes and add to its pages
without users importing them.

Saving or deleting one ``ManagedUser`` already sends Django's ``post_save``/``pre_delete``;
``QuerySet.update`` sends nothing, so bulk deactivation sends ``managed_users_deactivated``.
Query signals: receivers return a value; ``users`` sends the signal and uses what comes back.

Every path that changes a managed user's ``DETAIL_FIELDS`` (the form, the API, the CSV import,
the Entra ID sync) sends ``managed_user_details_changed`` through ``send_details_changed``, so
devices and Apple can follow (``post_save`` would miss the import's ``bulk_update``).
"""

from django.dispatch import Signal

# sender=ManagedUser, user_ids=[...]: these users were deactivated in bulk.
managed_users_deactivated = Signal()

# sender=ManagedUser, user_ids=[...]: these users' tags were rewritten in bulk (CSV import writes
# the through table directly, which sends no m2m_changed).
user_tags_changed = Signal()

# sender=ManagedUser, user=<ManagedUser>; a receiver returns the user's local account address
# (enrollment/receivers.py).
local_account_address = Signal()

# sender=ManagedUser, users=<ManagedUser queryset>; a receiver returns how many enrolled
# devices these users have (mdm/receivers.py).
count_enrolled_devices = Signal()


# What a managed user's devices and Apps and Books user show of them: the variables of
# configuration profiles (users.variables) and the Managed Apple ID Apple links to.
DETAIL_FIELDS = ("username", "email", "first_name", "last_name", "managed_apple_id")

# sender=ManagedUser, changes={user id: frozenset of DETAIL_FIELDS names}: these existing users'
# details changed (mdm/receivers.py re-delivers profiles, updates the Apps and Books user).
managed_user_details_changed = Signal()


def details_of(user) -> dict:
    """The user's ``DETAIL_FIELDS`` values, to compare after a change (``changed_details``)."""
    return {name: getattr(user, name) for name in DETAIL_FIELDS}


def changed_details(before: dict, user) -> frozenset:
    return frozenset(name for name in DETAIL_FIELDS if before.get(name) != getattr(user, name))


def send_details_changed(sender, changes: dict) -> None:
    """Send ``managed_user_details_changed`` for the users whose change set is not empty."""
    changes = {pk: frozenset(names) for pk, names in changes.items() if names}
    if changes:
        managed_user_details_changed.send(sender=sender, changes=changes)


def first_answer(signal: Signal, default, **kwargs):
    for _receiver, value in signal.send(**kwargs):
        if value is not None:
            return value
    return default
