from .api import EnrollmentAddressViewSet, InvitationViewSet, ProfileViewSet

routes = [
    ("profiles", ProfileViewSet, "profile"),
    ("invitations", InvitationViewSet, "invitation"),
    ("enrollment-addresses", EnrollmentAddressViewSet, "enrollment-address"),
]
