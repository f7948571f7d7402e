"""The SCEP service URL is device-facing, authenticated by its one-time challenges."""

NOT_ADMIN_OBJECT_URLS = {"scep:service"}
