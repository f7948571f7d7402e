"""The device side of account-driven user enrollment, step by step, over real HTTP.

Each step is a method so tests can stop in between, tamper, or repeat one. The device keeps
only what a real one keeps: its keys, certificates, the bearer token and the MDM payload.
"""

import base64
import html
import re
import secrets
import uuid
from dataclasses import dataclass, field
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from apple import cms, plist, x509util
from enrollment.scep import client as scep_client

CALLBACK_PREFIX = "apple-remotemanagement-user-login://authentication-results"


class EnrollmentFailed(Exception):
    def __init__(self, step: str, message: str, response: httpx.Response | None = None):
        super().__init__(f"{step}: {message}")
        self.step, self.response = step, response


def _device_identity():
    """The stand-in for the device's built-in Apple identity that signs its machine info."""
    key = ec.generate_private_key(ec.SECP256R1())
    return x509util.self_signed(
        key, x509util.name(cn=f"Simulated iPhone {uuid.uuid4()}"), days=365
    ), key


@dataclass
class SimulatedDevice:
    address: str
    password: str
    server: str | None = None  # discovery origin; default https://<address domain>
    verify: str | bool = True
    product: str = "iPhone17,2"
    os_version: str = "18.2.1"
    build: str = "22C161"
    language: str = "en-US"
    accept_terms: bool = False
    totp_code: str = ""
    timeout: float = 30.0
    # What the device learns and keeps.
    base_url: str | None = None
    login_url: str | None = None
    access_token: str | None = None
    profile: dict | None = None
    profile_signed_by: x509.Certificate | None = None
    identity: x509.Certificate | None = None
    identity_key: object | None = None
    enrollment_id: str = field(default_factory=lambda: str(uuid.uuid4()).upper())
    push_token: bytes = field(default_factory=lambda: secrets.token_bytes(32))
    push_magic: str = field(default_factory=lambda: str(uuid.uuid4()).upper())
    commands_answered: list = field(default_factory=list)
    # What the device has, as its answers report it.
    apps: dict = field(default_factory=dict)  # identifier -> {"Name", "Version", "ShortVersion"}
    # PayloadIdentifier -> the installed profile (its plist); the enrollment profile is ``profile``.
    installed_profiles: dict = field(default_factory=dict)
    # PayloadIdentifiers whose InstallProfile the device answers with Error (and an ErrorChain).
    refuse_profiles: set = field(default_factory=set)
    # Identity renewals done (an InstallProfile of the enrollment profile with a new SCEP payload).
    renewals: int = 0
    # The App Store as far as the device needs it: iTunesStoreID -> bundle id.
    store: dict = field(default_factory=dict)
    # Apps the user installed from the App Store themselves (bundle ids): InstallApplication is
    # refused for them (AppAlreadyInstalled), ManagedApplicationList says UserInstalledApp.
    private_apps: set = field(default_factory=set)
    app_configurations: dict = field(default_factory=dict)  # identifier -> Configuration
    # RequestType -> "NotNow" | "Error" | "CommandFormatError" | "ignore" (no answer sent),
    # to exercise the server's handling; one entry is used up per command.
    misbehave: dict = field(default_factory=dict)

    def __post_init__(self):
        self.http = httpx.Client(
            verify=scep_client.tls_verify(self.verify), timeout=self.timeout, follow_redirects=False
        )
        self.device_cert, self.device_key = _device_identity()

    def close(self):
        self.http.close()

    # --- the whole flow --------------------------------------------------------------------

    def enroll(self, *, connect: bool = True) -> "SimulatedDevice":
        """The whole enrollment; ``connect=False`` stops after TokenUpdate, before the first
        management session (the caller connects later)."""
        self.discover()
        self.post_machine_info(expect_challenge=True)
        self.web_login()
        self.fetch_profile()
        self.scep_enroll()
        self.authenticate()
        self.token_update()
        if connect:
            self.connect()
        return self

    # --- steps -----------------------------------------------------------------------------

    def discover(self) -> str:
        domain = self.address.rpartition("@")[2]
        origin = (self.server or f"https://{domain}").rstrip("/")
        response = self.http.get(
            f"{origin}/.well-known/com.apple.remotemanagement",
            params={"user-identifier": self.address, "model-family": "iPhone"},
        )
        if response.status_code != 200:
            raise EnrollmentFailed("discovery", f"HTTP {response.status_code}", response)
        servers = response.json().get("Servers") or []
        if not servers or servers[0].get("Version") != "mdm-byod":
            raise EnrollmentFailed("discovery", f"unexpected answer {response.text}", response)
        self.base_url = servers[0]["BaseURL"]
        return self.base_url

    def machine_info_body(self) -> bytes:
        info = {"LANGUAGE": self.language, "PRODUCT": self.product, "VERSION": self.build}
        return cms.sign(plist.dumps(info), self.device_cert, self.device_key)

    def post_machine_info(self, *, expect_challenge=False) -> httpx.Response:
        headers = {
            "Content-Type": "application/pkcs7-signature",
            "User-Agent": "DeviceManagementClient/1.0",
        }
        if self.access_token and not expect_challenge:
            headers["Authorization"] = f"Bearer {self.access_token}"
        response = self.http.post(self.base_url, content=self.machine_info_body(), headers=headers)
        if expect_challenge:
            if response.status_code != 401:
                raise EnrollmentFailed(
                    "enroll", f"expected 401, got {response.status_code}", response
                )
            challenge = response.headers.get("WWW-Authenticate", "")
            match = re.search(r'method="apple-as-web"\s*,?\s*url="([^"]+)"', challenge)
            if not challenge.startswith("Bearer") or not match:
                raise EnrollmentFailed("enroll", f"bad challenge {challenge!r}", response)
            self.login_url = match.group(1)
        return response

    def web_login(self) -> str:
        """What ASWebAuthenticationSession does: GET the page, submit the form, catch the 308."""
        url = f"{self.login_url}?{urlencode({'user-identifier': self.address})}"
        page = self.http.get(url, headers={"Accept-Language": self.language})
        if page.status_code != 200:
            raise EnrollmentFailed("login", f"login page HTTP {page.status_code}", page)
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)
        form = {
            "csrfmiddlewaretoken": html.unescape(token.group(1)) if token else "",
            "identifier": self.address,
            "password": self.password,
        }
        if self.totp_code:
            form["code"] = self.totp_code
        if self.accept_terms:
            form["accept_terms"] = "on"
        origin = "{0.scheme}://{0.netloc}".format(urlsplit(self.login_url))
        response = self.http.post(url, data=form, headers={"Referer": url, "Origin": origin})
        location = response.headers.get("Location", "")
        if response.status_code != 308 or not location.startswith(CALLBACK_PREFIX):
            raise EnrollmentFailed(
                "login", f"sign-in refused (HTTP {response.status_code})", response
            )
        tokens = parse_qs(urlsplit(location).query).get("access-token")
        if not tokens:
            raise EnrollmentFailed("login", "no access-token in the callback", response)
        self.access_token = tokens[0]
        return self.access_token

    def fetch_profile(self) -> dict:
        response = self.post_machine_info()
        if response.status_code != 200:
            raise EnrollmentFailed("profile", f"HTTP {response.status_code}", response)
        if (
            response.headers.get("Content-Type", "").split(";")[0]
            != "application/x-apple-aspen-config"
        ):
            raise EnrollmentFailed("profile", "not an enrollment profile", response)
        try:
            message = cms.verify(response.content)
        except cms.CMSError as exc:
            raise EnrollmentFailed("profile", f"bad profile signature: {exc}", response) from exc
        self.profile_signed_by = message.signer
        self.profile = plist.loads(message.content)
        mdm = self.mdm_payload
        if mdm.get("EnrollmentMode") != "BYOD" or not mdm.get("AssignedManagedAppleID"):
            raise EnrollmentFailed("profile", "not an account-driven user enrollment profile")
        if "AccessRights" in mdm:
            raise EnrollmentFailed("profile", "AccessRights present: a device cancels here")
        return self.profile

    def _payload(self, payload_type: str) -> dict:
        for payload in self.profile.get("PayloadContent", []):
            if payload.get("PayloadType") == payload_type:
                return payload
        raise EnrollmentFailed("profile", f"no {payload_type} payload")

    @property
    def mdm_payload(self) -> dict:
        return self._payload("com.apple.mdm")

    @property
    def scep_payload(self) -> dict:
        return self._payload("com.apple.security.scep")["PayloadContent"]

    def scep_enroll(self) -> x509.Certificate:
        content = self.scep_payload
        subject = {pair[0][0]: pair[0][1] for pair in content.get("Subject", [])}
        self.identity_key = rsa.generate_private_key(
            public_exponent=65537, key_size=int(content.get("Keysize", 2048))
        )
        try:
            self.identity = scep_client.enroll(
                content["URL"],
                content.get("Challenge", ""),
                subject.get("CN", ""),
                self.identity_key,
                verify=self.verify,
                organization=subject.get("O"),
            )
        except scep_client.ScepError as exc:
            raise EnrollmentFailed("scep", str(exc)) from exc
        return self.identity

    # --- MDM -------------------------------------------------------------------------------

    KEEP = object()  # "send the token the device holds"

    def put_raw(
        self, url: str, body: bytes, content_type: str, *, sign_with=None, token=KEEP
    ) -> httpx.Response:
        """PUT the exact bytes, signed like a device does (``Mdm-Signature``) with the bearer."""
        cert, key = sign_with or (self.identity, self.identity_key)
        headers = {"Content-Type": content_type, "User-Agent": "MDM/1.0"}
        if cert is not None:
            signature = cms.sign(body, cert, key, detached=True)
            headers["Mdm-Signature"] = base64.b64encode(signature).decode()
        bearer = self.access_token if token is self.KEEP else token
        if bearer:
            headers["Authorization"] = f"Bearer {bearer}"
        return self.http.put(url, content=body, headers=headers)

    def signed_put(self, url: str, message: dict, content_type: str, **kwargs) -> httpx.Response:
        return self.put_raw(url, plist.dumps(message), content_type, **kwargs)

    def checkin(self, message: dict, **kwargs) -> httpx.Response:
        url = self.mdm_payload.get("CheckInURL") or self.mdm_payload["ServerURL"]
        return self.signed_put(url, message, "application/x-apple-aspen-mdm-checkin", **kwargs)

    def _expect_ok(self, step, response):
        if response.status_code != 200:
            raise EnrollmentFailed(
                step, f"HTTP {response.status_code} {response.text[:200]}", response
            )
        return response

    def authenticate_message(self) -> dict:
        return {
            "MessageType": "Authenticate",
            "Topic": self.mdm_payload["Topic"],
            "EnrollmentID": self.enrollment_id,
            "OSVersion": self.os_version,
            "BuildVersion": self.build,
            "ProductName": self.product,
        }

    def authenticate(self) -> httpx.Response:
        return self._expect_ok("authenticate", self.checkin(self.authenticate_message()))

    def token_update(self) -> httpx.Response:
        message = {
            "MessageType": "TokenUpdate",
            "Topic": self.mdm_payload["Topic"],
            "EnrollmentID": self.enrollment_id,
            "Token": self.push_token,
            "PushMagic": self.push_magic,
            "AwaitingConfiguration": False,
        }
        return self._expect_ok("token_update", self.checkin(message))

    def check_out(self) -> httpx.Response:
        message = {
            "MessageType": "CheckOut",
            "Topic": self.mdm_payload["Topic"],
            "EnrollmentID": self.enrollment_id,
        }
        return self._expect_ok("check_out", self.checkin(message))

    def connect(self, *, max_commands: int = 50) -> list:
        """Report Idle, then answer each command the server hands out until the queue is empty.

        A command the device is told to ignore ends the session unanswered, as a device that
        lost the connection would."""
        url = self.mdm_payload["ServerURL"]
        report = {"Status": "Idle", "EnrollmentID": self.enrollment_id}
        for _ in range(max_commands + 1):
            response = self._expect_ok(
                "connect", self.signed_put(url, report, "application/x-apple-aspen-mdm")
            )
            if not response.content:
                return self.commands_answered
            envelope = plist.loads(response.content)
            report = self.answer(envelope)
            self.commands_answered.append(envelope)
            if report is None:
                return self.commands_answered
        raise EnrollmentFailed("connect", "the server keeps sending commands")

    def _inventory_values(self) -> dict:
        return {
            "DeviceName": "Simulated iPhone",
            "ProductName": self.product,
            "ModelName": "iPhone",
            "Model": "MYW33ZD/A",
            "OSVersion": self.os_version,
            "BuildVersion": self.build,
            "DeviceCapacity": 128.0,
            "AvailableDeviceCapacity": 71.5,
            "BatteryLevel": 0.82,
        }

    @staticmethod
    def _refused(report: dict) -> dict:
        return report | {
            "Status": "Error",
            "ErrorChain": [
                {
                    "ErrorCode": 4001,
                    "ErrorDomain": "MCProfileErrorDomain",
                    "LocalizedDescription": "The simulated device refused the command.",
                    "USEnglishDescription": "The simulated device refused the command.",
                }
            ],
        }

    @staticmethod
    def _read_profile(data: bytes) -> dict | None:
        """A profile as the device reads it: signed (CMS) or plain; None when it is neither."""
        if not isinstance(data, bytes):
            return None
        if not data.lstrip().startswith((b"<?xml", b"<plist", b"bplist")):
            try:
                data = cms.verify(data).content
            except cms.CMSError:
                return None
        try:
            profile = plist.loads(data)
        except plist.PlistError:
            return None
        return profile if isinstance(profile, dict) else None

    def renew(self, profile: dict) -> None:
        """The enrollment profile again (identity renewal): enroll the new SCEP payload's
        certificate, then check in with it (Authenticate, TokenUpdate) as a device does."""
        self.profile = profile
        self.scep_enroll()
        self.renewals += 1
        self.authenticate()
        self.token_update()

    def answer(self, envelope: dict) -> dict | None:
        command = envelope.get("Command", {})
        request_type = command.get("RequestType")
        report = {
            "CommandUUID": envelope.get("CommandUUID", ""),
            "EnrollmentID": self.enrollment_id,
            "Status": "Acknowledged",
        }
        behaviour = self.misbehave.pop(request_type, None)
        if behaviour == "ignore":
            return None
        if behaviour in ("NotNow", "CommandFormatError"):
            return report | {"Status": behaviour}
        if behaviour == "Error":
            return self._refused(report)
        if request_type == "DeviceInformation":
            values = self._inventory_values()
            queries = command.get("Queries") or list(values)
            report["QueryResponses"] = {q: values[q] for q in queries if q in values}
        elif request_type == "InstalledApplicationList":
            report["InstalledApplicationList"] = [
                {"Identifier": i, **a, "IsManaged": True} for i, a in self.apps.items()
            ]
        elif request_type == "ManagedApplicationList":
            wanted = command.get("Identifiers")
            listed = {i: {"Status": "Managed", "ManagementFlags": 1} for i in self.apps}
            listed |= {i: {"Status": "UserInstalledApp"} for i in self.private_apps}
            report["ManagedApplicationList"] = {
                i: v for i, v in listed.items() if not wanted or i in wanted
            }
        elif request_type == "ProfileList":
            enrollment = self.profile or {"PayloadIdentifier": "enrollment"}
            profiles = [enrollment, *self.installed_profiles.values()]
            report["ProfileList"] = [
                {
                    "PayloadIdentifier": p.get("PayloadIdentifier", ""),
                    "PayloadDisplayName": p.get("PayloadDisplayName", ""),
                    "PayloadUUID": p.get("PayloadUUID", ""),
                    "IsManaged": True,
                }
                for p in profiles
            ]
        elif request_type == "SecurityInfo":
            report["SecurityInfo"] = {
                "PasscodePresent": True,
                "PasscodeCompliant": True,
                "PasscodeCompliantWithProfiles": True,
                "HardwareEncryptionCaps": 3,
                "ManagementStatus": {"EnrolledViaDEP": False, "IsUserEnrollment": True},
            }
        elif request_type == "CertificateList":
            report["CertificateList"] = [
                {
                    "CommonName": self.identity.subject.rfc4514_string() if self.identity else "",
                    "IsIdentity": True,
                }
            ]
        elif request_type == "InstallProfile":
            profile = self._read_profile(command.get("Payload", b""))
            identifier = profile.get("PayloadIdentifier") if profile else None
            if not identifier:
                return report | {"Status": "CommandFormatError"}
            if identifier in self.refuse_profiles:
                return self._refused(report)
            if self.profile and identifier == self.profile.get("PayloadIdentifier"):
                self.renew(profile)
                report["EnrollmentID"] = self.enrollment_id
            else:  # the same identifier replaces what was installed
                self.installed_profiles[identifier] = profile
        elif request_type == "RemoveProfile":
            self.installed_profiles.pop(command.get("Identifier"), None)
        elif request_type == "InstallApplication":
            store_id = command.get("iTunesStoreID")
            identifier = command.get("Identifier") or self.store.get(
                store_id, self.store.get(str(store_id), f"app.{store_id}")
            )
            if identifier in self.private_apps:
                return report | {
                    "Status": "Error",
                    "RejectionReason": "AppAlreadyInstalled",
                    "ErrorChain": [
                        {
                            "ErrorCode": 12036,
                            "ErrorDomain": "MCMDMErrorDomain",
                            "LocalizedDescription": "The app is already installed.",
                            "USEnglishDescription": "The app is already installed.",
                        }
                    ],
                }
            state = "Managed" if identifier in self.apps else "Installing"
            self.apps[identifier] = {"Name": identifier, "Version": "1", "ShortVersion": "1.0"}
            if "Configuration" in command:
                self.app_configurations[identifier] = command["Configuration"]
            report |= {"Identifier": identifier, "State": state}
        elif request_type == "RemoveApplication":
            self.apps.pop(command.get("Identifier"), None)
            self.app_configurations.pop(command.get("Identifier"), None)
        elif request_type in ("Settings", "DeclarativeManagement"):
            pass
        else:
            report["Status"] = "CommandFormatError"
        return report
