"""Signals enrollment sends, so apps downstream (mdm) can react without enrollment knowing them."""

from django.dispatch import Signal

# sender=EnrollmentSession, session=...: the enrollment accepted the terms in force.
terms_accepted = Signal()
# sender=TermsOfUse, tenant=...: a new version is in force; every enrollment must accept it.
terms_published = Signal()
# sender=Profile, profile=...: what devices get of this configuration profile changed (a new
# revision); mdm marks the devices it reaches for reconciliation and pushes them.
configuration_profile_changed = Signal()
# sender=Tenant, tenant=...: a receiver returns the absolute address of the end users' self-service
# apps page (mdm/receivers.py); the invitation and terms mails link to it.
self_service_url = Signal()
