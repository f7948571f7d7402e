"""``python -m enrollment.simulator alice-123456@localhost --password … [--server URL]``"""

import argparse
import logging
import os
import sys
from pathlib import Path

import httpx

from .device import EnrollmentFailed, SimulatedDevice


def default_ca() -> str | bool:
    """The embedded default's local CA, trusted by the project's tools out of the box."""
    var = Path(os.environ.get("PORTAL_VAR_DIR", Path(__file__).resolve().parents[2] / "var"))
    ca = var / "tls" / "local-ca.pem"
    return str(ca) if ca.exists() else True


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description="Enroll a simulated iPhone (user enrollment).")
    parser.add_argument("address", help="local account address, e.g. alice-123456@localhost")
    parser.add_argument("--password", required=True)
    parser.add_argument("--server", help="portal origin for discovery, e.g. https://localhost:8443")
    parser.add_argument("--ca", help="CA bundle to trust (default: the local CA of the portal)")
    parser.add_argument("--accept-terms", action="store_true", help="accept the terms at sign-in")
    parser.add_argument("--code", default="", help="TOTP code, if the user has one")
    parser.add_argument("--product", default="iPhone17,2")
    return parser


def run(args, out=sys.stdout) -> int:
    logging.getLogger("httpx").setLevel(logging.WARNING)  # one line per request is noise here
    device = SimulatedDevice(
        args.address,
        args.password,
        server=args.server,
        verify=args.ca or default_ca(),
        accept_terms=args.accept_terms,
        totp_code=args.code,
        product=args.product,
    )
    try:
        device.enroll()
    except EnrollmentFailed as exc:
        out.write(f"Enrollment failed at {exc}\n")
        return 1
    except httpx.HTTPError as exc:
        out.write(f"Cannot talk to the portal: {exc}\n(Is it running? Is --ca its CA?)\n")
        return 1
    finally:
        device.close()
    out.write(f"Enrolled {device.product} as EnrollmentID {device.enrollment_id}\n")
    out.write(f"Managed Apple ID: {device.mdm_payload['AssignedManagedAppleID']}\n")
    out.write(f"Identity certificate: {device.identity.subject.rfc4514_string()}\n")
    return 0


if __name__ == "__main__":
    sys.exit(run(build_parser().parse_args()))
