"""Isolation cases of the apple app; its callbacks are authenticated by their own token."""


def _asset(tenant):
    import uuid

    from django.utils import timezone

    from apple.models import VppAsset, VppToken

    token = VppToken.objects.create(
        tenant=tenant,
        token="x",
        token_sha256=uuid.uuid4().hex,
        org_name="Iso",
        expires_at=timezone.now(),
    )
    return VppAsset.objects.create(tenant=tenant, token=token, adam_id="1", pricing_param="STDQ")


CASES = {"vpp-asset-detail": (_asset, lambda obj: {"pk": obj.pk})}

NOT_ADMIN_OBJECT_URLS = {"apple-vpp-notifications"}
