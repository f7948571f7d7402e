from .api import PushCertificateViewSet, VppAssetViewSet, VppTokenViewSet

routes = [
    ("push-certificate", PushCertificateViewSet, "push-certificate"),
    ("vpp-token", VppTokenViewSet, "vpp-token"),
    ("vpp-assets", VppAssetViewSet, "vpp-asset"),
]
