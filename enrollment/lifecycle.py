"""What follows a finished enrollment: invitations marked enrolled, the terms mail queued."""

from django.utils import timezone

from .models import EnrollmentSession, Invitation


def enrollment_completed(session_id: int) -> None:
    from . import tasks, terms

    session = EnrollmentSession.objects.select_related("tenant", "user").get(pk=session_id)
    Invitation.objects.filter(user=session.user, enrolled_at=None).update(
        enrolled_at=timezone.now()
    )
    if not terms.is_accepted(session):
        tasks.send_terms_mail.delay(session.pk)
