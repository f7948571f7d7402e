"""Apps and Books for Organizations (VPP v2): the client, token files, asset sync, webhook."""
