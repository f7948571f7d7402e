"""What apple tells the apps upstream of it (mdm), which it does not know."""

from django.dispatch import Signal

# An Apps and Books job (associate, disassociate, …) settled, wholly or in part. Arguments:
# ``event`` (VppEvent) and ``assignments``: the clientUserIds a notification reported on
# (Apple splits a big job over several notifications), or None when the whole job settled
# (``GET status``). Sent inside the transaction that stored it; receivers must be idempotent.
vpp_event_settled = Signal()
