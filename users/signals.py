"""Signals of users, so apps that build on users react to its changes and add to its pages
without users importing them.

Saving or deleting one ``ManagedUser`` already sends Django's ``post_save``/``pre_delete``;
``QuerySet.update`` sends nothing, so bulk deactivation sends ``managed_users_deactivated``.
Query signals: receivers return a value; ``users`` sends the signal and uses what comes back.
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


def first_answer(signal: Signal, default, **kwargs):
    for _receiver, value in signal.send(**kwargs):
        if value is not None:
            return value
    return default
