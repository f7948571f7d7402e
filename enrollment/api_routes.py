from .api import (
    ConfigurationProfileViewSet,
    EnrollmentAddressViewSet,
    InvitationViewSet,
    ProfileViewSet,
)

routes = [
    ("profiles", ProfileViewSet, "profile"),
    ("configuration-profiles", ConfigurationProfileViewSet, "configuration-profile"),
    ("invitations", InvitationViewSet, "invitation"),
    ("enrollment-addresses", EnrollmentAddressViewSet, "enrollment-address"),
]
