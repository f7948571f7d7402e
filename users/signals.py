"""Signals users sends, so apps that depend on users (mdm) can react to changes made in bulk.

Saving or deleting one ``ManagedUser`` already sends Django's ``post_save``/``pre_delete``;
``QuerySet.update`` sends nothing, so bulk deactivation sends this one.
"""

from django.dispatch import Signal

# sender=ManagedUser, user_ids=[...]: these users were deactivated in bulk.
managed_users_deactivated = Signal()
