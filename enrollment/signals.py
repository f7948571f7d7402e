"""Signals enrollment sends, so apps downstream (mdm) can react without enrollment knowing them."""

from django.dispatch import Signal

# sender=EnrollmentSession, session=...: the enrollment accepted the terms in force.
terms_accepted = Signal()
# sender=TermsOfUse, tenant=...: a new version is in force; every enrollment must accept it.
terms_published = Signal()
# sender=Profile, profile=..., tag_ids=set: a configuration profile changed what the devices of
# these tags should have (new revision, tags added or removed, profile deleted). ``tag_ids``
# holds the tags before and after the change; on deletion ``profile`` is about to be deleted.
configuration_profile_changed = Signal()
