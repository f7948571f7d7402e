"""Signals with which apps that build on users add to its pages, so users imports none of them.

Receivers return a value; ``users`` sends the signal and uses what comes back.
"""

from django.dispatch import Signal

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
