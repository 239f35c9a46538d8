"""The Python bindings (uniffi) of govcred-ffi, exercised for real.

Run by scripts/test-bindings: the generated module and the freshly built library are
copied into a temporary directory (GOVCRED_PY_DIR) before pytest imports them.
"""
import json
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.environ["GOVCRED_PY_DIR"])
import govcred_ffi as g  # noqa: E402

GOVCRED = os.environ["GOVCRED_BIN"]


def run(*args):
    return subprocess.run([GOVCRED, *args], check=True, capture_output=True, text=True).stdout


def issued_card(tmp):
    key = os.path.join(tmp, "issuer.jwk")
    run("keygen", "--alg", "ES256", "--out", key)
    run("did-web", "--domain", "issuer.example.gov.uk", "--key", key, "--out", os.path.join(tmp, "site"))
    claims = os.path.join(tmp, "claims.json")
    with open(claims, "w") as f:
        json.dump({"serviceNumber": "25057386"}, f)
    token = run("issue", "jwt-vc", "--key", key, "--issuer", "https://issuer.example.gov.uk",
                "--type", "DigitalVeteranCard", "--claims", claims,
                "--valid-until", "2099-01-01T00:00:00Z").strip()
    with open(os.path.join(tmp, "site", ".well-known", "did.json")) as f:
        did_doc = f.read()
    return token, did_doc


def test_verify_a_credential_offline():
    with tempfile.TemporaryDirectory() as tmp:
        token, did_doc = issued_card(tmp)
        verifier = g.Verifier(did_documents=[did_doc], jwks=[])
        report = verifier.verify(token)
        assert report.valid, report
        assert report.outcome == "valid"
        assert report.format == "jwt-vc"
        assert report.types == ["VerifiableCredential", "DigitalVeteranCard"]
        assert json.loads(report.claims_json)["serviceNumber"] == "25057386"
        assert all(c.outcome == "passed" for c in report.checks)


def test_rejections_carry_stable_codes():
    with tempfile.TemporaryDirectory() as tmp:
        token, did_doc = issued_card(tmp)
        verifier = g.Verifier(did_documents=[did_doc], jwks=[])
        late = verifier.verify_at(token, 4_102_444_800 + 86_400)  # after 2099-01-01
        assert not late.valid and late.errors[0].code == g.ErrorCode.EXPIRED
        head, payload, sig = token.split(".")
        tampered = verifier.verify(f"{head}.{payload}.{sig[:-4]}AAAA")
        assert not tampered.valid
        assert tampered.errors[0].code == g.ErrorCode.SIGNATURE_INVALID
        nokey = g.Verifier(did_documents=[], jwks=[]).verify(token)
        assert nokey.outcome == "could_not_check"
        assert nokey.errors[0].code == g.ErrorCode.UNKNOWN_KEY


def test_errors_are_typed_exceptions():
    try:
        g.Verifier(did_documents=["{not json"], jwks=[])
    except g.GovcredError.Failed as e:
        assert e.code == g.ErrorCode.MALFORMED_INPUT
    else:
        raise AssertionError("expected GovcredError.Failed")


def test_key_generation():
    jwk = json.loads(g.generate_p256_jwk())
    assert jwk["kty"] == "EC" and jwk["crv"] == "P-256" and "d" in jwk


# ---------------------------------------------------------------------------------------
# The whole wallet flow through the bindings, with the platform traits implemented in
# Python: a P-256 key store over `cryptography`, an AES-GCM key protector, HTTP over
# urllib — against a loopback `govcred serve`.

import asyncio  # noqa: E402
import base64  # noqa: E402
import socket  # noqa: E402
import time  # noqa: E402
import urllib.error  # noqa: E402
import urllib.request  # noqa: E402

import pytest  # noqa: E402
from cryptography.exceptions import InvalidTag  # noqa: E402
from cryptography.hazmat.primitives import hashes  # noqa: E402
from cryptography.hazmat.primitives.asymmetric import ec  # noqa: E402
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature  # noqa: E402
from cryptography.hazmat.primitives.ciphers.aead import AESGCM  # noqa: E402

PID = "ExamplePid"
PID_VCT = "urn:example:govcred:pid:1"
LICENCE = "FishingLicence"
LICENCE_DOCTYPE = "uk.gov.example-credential-issuer.fishingLicence.1"
AUDIENCE = "https://verifier.example.gov.uk"


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


class PyKeyStore(g.PlatformKeyStore):
    """Non-exportable-in-spirit P-256 keys held in memory by alias."""

    def __init__(self):
        self.keys = {}
        self.signatures = 0

    def create_key(self, alias):
        if alias in self.keys:
            raise g.GovcredError.Failed(g.ErrorCode.DUPLICATE_KEY, alias)
        self.keys[alias] = ec.generate_private_key(ec.SECP256R1())
        return self.public_key(alias)

    def public_key(self, alias):
        key = self.keys.get(alias)
        if key is None:
            raise g.GovcredError.Failed(g.ErrorCode.KEY_NOT_FOUND, alias)
        n = key.public_key().public_numbers()
        return json.dumps({"kty": "EC", "crv": "P-256",
                           "x": b64url(n.x.to_bytes(32, "big")), "y": b64url(n.y.to_bytes(32, "big"))})

    def sign(self, alias, data):
        key = self.keys.get(alias)
        if key is None:
            raise g.GovcredError.Failed(g.ErrorCode.KEY_NOT_FOUND, alias)
        r, s = decode_dss_signature(key.sign(bytes(data), ec.ECDSA(hashes.SHA256())))
        self.signatures += 1
        return r.to_bytes(32, "big") + s.to_bytes(32, "big")

    def delete_key(self, alias):
        self.keys.pop(alias, None)


class FailingSigner(PyKeyStore):
    """A key store whose secure element fails when asked to sign."""

    def sign(self, alias, data):
        raise RuntimeError("secure element unavailable")


class PyKeyProtector(g.PlatformKeyProtector):
    """Wraps the store's data key with AES-256-GCM under a key kept here."""

    def __init__(self):
        self.key = AESGCM.generate_key(bit_length=256)
        self.destroyed = False

    def wrap(self, key):
        nonce = os.urandom(12)
        return nonce + AESGCM(self.key).encrypt(nonce, bytes(key), b"govcred data key")

    def unwrap(self, wrapped):
        wrapped = bytes(wrapped)
        try:
            return AESGCM(self.key).decrypt(wrapped[:12], wrapped[12:], b"govcred data key")
        except InvalidTag:
            raise g.GovcredError.Failed(g.ErrorCode.WRONG_KEY, "not wrapped by this key")

    def destroy_key(self):
        self.key = AESGCM.generate_key(bit_length=256)
        self.destroyed = True


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


class PyHttp(g.PlatformHttp):
    """The core's HTTP requests sent with urllib (no redirects, size-limited)."""

    def __init__(self):
        self.opener = urllib.request.build_opener(_NoRedirect)
        self.requests = []

    def send(self, request):
        self.requests.append((request.method, request.url))
        req = urllib.request.Request(
            request.url, method=request.method,
            data=bytes(request.body) if request.method != "GET" else None,
            headers={h.name: h.value for h in request.headers})
        try:
            resp = self.opener.open(req, timeout=30)
        except urllib.error.HTTPError as e:
            resp = e
        body = resp.read(request.max_response_bytes + 1)
        headers = [g.HttpHeader(name=k, value=v) for k, v in resp.headers.items()]
        return g.HttpResponse(status=resp.status if hasattr(resp, "status") else resp.code,
                              headers=headers, body=body)


class BrokenHttp(g.PlatformHttp):
    def send(self, request):
        raise ConnectionError("network is unreachable")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def issuer():
    """A loopback OpenID4VCI issuer (`govcred serve`) and a way to make offers."""
    with tempfile.TemporaryDirectory() as tmp:
        url = f"http://127.0.0.1:{free_port()}"
        run("serve", "--init", os.path.join(tmp, "iss"), "--url", url)
        config = os.path.join(tmp, "iss", "issuer.toml")
        server = subprocess.Popen([GOVCRED, "serve", "--config", config],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            deadline = time.time() + 30
            while True:
                try:
                    urllib.request.urlopen(f"{url}/.well-known/openid-credential-issuer", timeout=2)
                    break
                except (urllib.error.URLError, ConnectionError):
                    assert time.time() < deadline, "govcred serve did not start"
                    time.sleep(0.1)

            def offer(config_id):
                out = run("offer", "create", "--config", config, "--config-id", config_id,
                          "--claims", os.path.join(tmp, "iss", "claims", f"{config_id}.json"),
                          "--qr-dir", os.path.join(tmp, "qr"), "--count", "1", "--no-qr")
                return out.strip().splitlines()[0]

            def fetch(path_or_url):
                full = path_or_url if path_or_url.startswith("http") else url + path_or_url
                return urllib.request.urlopen(full, timeout=10).read().decode()

            with open(os.path.join(tmp, "iss", "pki", "iaca.pem")) as f:
                iaca = f.read()
            yield {"url": url, "offer": offer, "fetch": fetch, "iaca": iaca, "tmp": tmp}
        finally:
            server.kill()
            server.wait()


def open_wallet(tmp, keys=None, http=None, protector=None):
    keys = keys or PyKeyStore()
    protector = protector or PyKeyProtector()
    wallet = g.Wallet.open(os.path.join(tmp, "wallet.db"), protector, keys, http or PyHttp())
    return wallet, keys, protector


def verifier_for(issuer, report):
    """A verifier trusting the issuer's did.json and IACA, holding the status list the
    received credential points to (fetched once, checked offline)."""
    lists = [issuer["fetch"](report.status.list_uri)] if report.status else []
    return g.Verifier.from_trust([issuer["fetch"]("/.well-known/did.json")], [], [issuer["iaca"]], lists)


def test_receive_list_present_verify_sd_jwt(issuer):
    with tempfile.TemporaryDirectory() as tmp:
        wallet, keys, _ = open_wallet(tmp)
        link = issuer["offer"](PID)
        received = asyncio.run(wallet.receive_offer(link))
        assert received.report.valid, received.report
        assert received.format == "dc+sd-jwt" and received.configuration_id == PID
        assert received.report.status.state == "valid"
        assert received.notified
        assert received.id is not None and len(keys.keys) == 1

        [card] = wallet.list()
        assert card.id == received.id
        assert card.format == "sd-jwt-vc" and card.types == [PID_VCT]
        assert card.state == g.CredentialState.VALID
        assert not card.show_as_invalid and not card.offer_refresh
        claims = json.loads(wallet.get(received.id).claims_json)
        assert claims["given_name"] == "Sam" and claims["family_name"] == "Smith"

        signed_before = keys.signatures
        vp = wallet.present_sd_jwt(received.id, ["given_name"], AUDIENCE, "nonce-4711")
        assert keys.signatures == signed_before + 1  # the KB-JWT, signed by the key store

        verifier = verifier_for(issuer, received.report)
        report = verifier.verify_presentation(vp, AUDIENCE, "nonce-4711")
        assert report.valid, report
        disclosed = json.loads(report.claims_json)
        assert disclosed["given_name"] == "Sam"
        assert "family_name" not in disclosed and "birthdate" not in disclosed

        replayed = verifier.verify_presentation(vp, AUDIENCE, "another-nonce")
        assert not replayed.valid
        assert not verifier.verify_presentation(vp, "https://other.example", "nonce-4711").valid

        # The offer is single use: a second receive is refused with the spec's code,
        # and its device key is not left behind.
        with pytest.raises(g.GovcredError.Failed) as e:
            asyncio.run(wallet.receive_offer(link))
        assert e.value.code == g.ErrorCode.INVALID_GRANT
        assert len(wallet.list()) == 1 and len(keys.keys) == 1


def test_refresh_status_marks_a_revoked_credential(issuer):
    with tempfile.TemporaryDirectory() as tmp:
        wallet, _, _ = open_wallet(tmp)
        received = asyncio.run(wallet.receive_offer(issuer["offer"](PID)))
        status = received.report.status
        assert status.state == "valid"
        # The department revokes it; the app syncs the list and refreshes.
        run("status", "revoke", "--store", os.path.join(issuer["tmp"], "iss", "status"),
            "--uri", status.list_uri, "--index", str(status.index))
        deadline = time.time() + 90
        while True:
            [card] = wallet.refresh_status(verifier_for(issuer, received.report))
            if card.state == g.CredentialState.REVOKED or time.time() > deadline:
                break
            time.sleep(1)  # the issuer re-signs a changed list on its next request
        assert card.state == g.CredentialState.REVOKED, card
        assert card.show_as_invalid


def test_mdoc_proximity_presentation(issuer):
    with tempfile.TemporaryDirectory() as tmp:
        wallet, _, _ = open_wallet(tmp)
        received = asyncio.run(wallet.receive_offer(issuer["offer"](LICENCE)))
        assert received.report.valid, received.report
        assert received.format == "mso_mdoc"
        [card] = wallet.list()
        assert card.format == "mdoc" and card.types == [LICENCE_DOCTYPE]

        # The stored IssuerSigned verifies offline as text and as CBOR bytes.
        stored = bytes(wallet.get(received.id).credential)
        verifier = verifier_for(issuer, received.report)
        assert verifier.verify(stored.decode()).valid
        cbor = base64.urlsafe_b64decode(stored + b"=" * (-len(stored) % 4))
        by_bytes = verifier.verify_bytes(cbor)
        assert by_bytes.valid and by_bytes.format == "mdoc", by_bytes
        assert json.loads(by_bytes.claims_json)[LICENCE_DOCTYPE]["licence_number"] == "009878863"

        session = wallet.start_proximity()
        reader = g.ProximityReader.from_qr(verifier_for(issuer, received.report), session.qr_uri())
        wanted = [g.RequestedElement(namespace=LICENCE_DOCTYPE, element="given_name", intent_to_retain=False),
                  g.RequestedElement(namespace=LICENCE_DOCTYPE, element="licence_number", intent_to_retain=True)]
        request = session.receive(reader.request(LICENCE_DOCTYPE, wanted))
        assert not request.terminated
        [doc] = request.documents
        assert doc.doctype == LICENCE_DOCTYPE and doc.elements == wanted
        assert doc.reader_name is None and doc.reader_problem is None  # unsigned request

        report = reader.receive(session.respond())
        assert report.valid, report
        assert report.format == "mdoc"
        claims = json.loads(report.claims_json)[LICENCE_DOCTYPE]
        assert claims == {"given_name": "Sam", "licence_number": "009878863"}

        # The reader ends the session; the holder sees it.
        assert session.receive(reader.terminate()).terminated

        # A new session where the holder switches licence_number off on the consent screen.
        session = wallet.start_proximity()
        reader = g.ProximityReader.from_qr(verifier_for(issuer, received.report), session.qr_uri())
        session.receive(reader.request(LICENCE_DOCTYPE, wanted))
        report = reader.receive(session.respond_with_consent([wanted[0]]))
        assert report.valid, report
        assert json.loads(report.claims_json)[LICENCE_DOCTYPE] == {"given_name": "Sam"}


def test_a_failing_key_store_is_a_typed_error(issuer):
    with tempfile.TemporaryDirectory() as tmp:
        keys = FailingSigner()
        wallet, _, _ = open_wallet(tmp, keys=keys)
        with pytest.raises(g.GovcredError.Failed) as e:
            asyncio.run(wallet.receive_offer(issuer["offer"](PID)))
        assert e.value.code == g.ErrorCode.SIGNER_FAILED
        assert "secure element unavailable" in e.value.detail
        assert keys.keys == {}  # the key made for the credential was deleted
        assert wallet.list() == []


def test_a_failing_http_stack_is_a_typed_error(issuer):
    with tempfile.TemporaryDirectory() as tmp:
        wallet, keys, _ = open_wallet(tmp, http=BrokenHttp())
        with pytest.raises(g.GovcredError.Failed) as e:
            asyncio.run(wallet.receive_offer(issuer["offer"](PID)))
        assert e.value.code == g.ErrorCode.HTTP_FAILED
        assert "network is unreachable" in e.value.detail
        assert keys.keys == {} and wallet.list() == []


def test_store_is_encrypted_reopens_and_wipes(issuer):
    with tempfile.TemporaryDirectory() as tmp:
        wallet, keys, protector = open_wallet(tmp)
        received = asyncio.run(wallet.receive_offer(issuer["offer"](PID)))
        with open(os.path.join(tmp, "wallet.db"), "rb") as f:
            assert b"Smith" not in f.read()
        # Another protector does not open it; the same one does, with the holder key.
        with pytest.raises(g.GovcredError.Failed) as e:
            g.Wallet.open(os.path.join(tmp, "wallet.db"), PyKeyProtector(), keys, PyHttp())
        assert e.value.code == g.ErrorCode.WRONG_KEY
        del wallet
        again = g.Wallet.open(os.path.join(tmp, "wallet.db"), protector, keys, PyHttp())
        assert [c.id for c in again.list()] == [received.id]
        vp = again.present_sd_jwt(received.id, [], AUDIENCE, "n")
        assert verifier_for(issuer, received.report).verify_presentation(vp, AUDIENCE, "n").valid

        again.wipe()
        assert again.list() == []
        assert keys.keys == {} and protector.destroyed
        assert not os.path.exists(os.path.join(tmp, "wallet.db"))
        with pytest.raises(g.GovcredError.Failed) as e:
            again.add(b"x")
        assert e.value.code == g.ErrorCode.STORAGE


def test_delete_removes_the_credential_and_its_key(issuer):
    with tempfile.TemporaryDirectory() as tmp:
        wallet, keys, _ = open_wallet(tmp)
        received = asyncio.run(wallet.receive_offer(issuer["offer"](PID)))
        wallet.delete(received.id)
        assert wallet.list() == [] and keys.keys == {}
        with pytest.raises(g.GovcredError.Failed) as e:
            wallet.get(received.id)
        assert e.value.code == g.ErrorCode.NOT_FOUND


def test_issuer_object_and_added_credentials():
    with tempfile.TemporaryDirectory() as tmp:
        holder = json.loads(g.generate_p256_jwk())
        holder.pop("d")
        issuer = g.Issuer(g.generate_p256_jwk(), "https://issuer.example.gov.uk")
        vc = issuer.issue_sd_jwt_vc(PID_VCT, json.dumps({"given_name": "Ada", "family_name": "L"}),
                                    ["given_name", "family_name"], json.dumps(holder))
        report = g.Verifier(did_documents=[], jwks=[issuer.public_jwk()]).verify(vc)
        assert report.format == "sd-jwt-vc"
        assert json.loads(report.claims_json)["given_name"] == "Ada"
        token = issuer.issue_jwt_vc("DigitalVeteranCard", json.dumps({"serviceNumber": "1"}),
                                    "did:example:holder", 4_102_444_800)
        assert token.count(".") == 2
        wallet, _, _ = open_wallet(tmp)
        vc_id = wallet.add(vc.encode())
        assert wallet.add(vc.encode()) == vc_id  # idempotent
        assert {c.types[0] for c in wallet.list()} == {PID_VCT}
        # Added without a holder key in this wallet: no key-bound presentation.
        with pytest.raises(g.GovcredError.Failed) as e:
            wallet.present_sd_jwt(vc_id, ["given_name"], AUDIENCE, "n")
        assert e.value.code == g.ErrorCode.KEY_NOT_FOUND


def test_verifier_from_a_signed_trust_bundle(issuer):
    with tempfile.TemporaryDirectory() as tmp:
        wallet, _, _ = open_wallet(tmp)
        received = asyncio.run(wallet.receive_offer(issuer["offer"](PID)))
        credential = bytes(wallet.get(received.id).credential).decode()
        did_doc = os.path.join(tmp, "did.json")
        with open(did_doc, "w") as f:
            f.write(issuer["fetch"]("/.well-known/did.json"))
        status = os.path.join(tmp, "status.jwt")
        with open(status, "w") as f:
            f.write(issuer["fetch"](received.report.status.list_uri))
        iaca = os.path.join(tmp, "iaca.pem")
        with open(iaca, "w") as f:
            f.write(issuer["iaca"])
        key = os.path.join(tmp, "bundle.jwk")
        run("keygen", "--alg", "ES256", "--out", key)
        bundle_path = os.path.join(tmp, "bundle.jws")
        run("trust", "build", "--key", key, "--did-doc", did_doc, "--iaca", iaca,
            "--status", f"{received.report.status.list_uri}={status}", "--out", bundle_path)
        with open(bundle_path) as f:
            bundle = f.read()
        with open(key) as f:
            pinned = {k: v for k, v in json.load(f).items() if k != "d"}

        report = g.Verifier.from_trust_bundle(bundle, [json.dumps(pinned)]).verify(credential)
        assert report.valid, report
        assert report.status.state == "valid"
        assert report.trust_bundle is not None and report.trust_bundle.age_secs >= 0

        other = {k: v for k, v in json.loads(g.generate_p256_jwk()).items() if k != "d"}
        with pytest.raises(g.GovcredError.Failed) as e:
            g.Verifier.from_trust_bundle(bundle, [json.dumps(other)])
        assert e.value.code == g.ErrorCode.UNKNOWN_KEY


def test_openid4vp_sd_jwt_presentation(issuer):
    with tempfile.TemporaryDirectory() as tmp:
        wallet, keys, _ = open_wallet(tmp)
        received = asyncio.run(wallet.receive_offer(issuer["offer"](PID)))
        cb = "https://rp.example.gov.uk/cb"
        query = {"credentials": [{"id": "pid", "format": "dc+sd-jwt",
                                  "meta": {"vct_values": [PID_VCT]},
                                  "claims": [{"path": ["family_name"]}]}]}
        session = g.Openid4vpSession(f"redirect_uri:{cb}", cb, json.dumps(query))
        request = session.request_json()

        match = wallet.openid4vp_match(request)
        assert match.client_id == f"redirect_uri:{cb}" and not match.verifier_authenticated
        assert match.response_uri == cb and match.missing == []
        [q] = match.queries
        assert q.query_id == "pid" and q.required
        assert q.candidates == [g.Openid4vpCandidate(credential_id=received.id, disclose=["family_name"])]

        response = wallet.openid4vp_respond(
            request, [g.Openid4vpChoice(query_id="pid", credential_id=received.id)])
        assert response.response_uri == cb
        [report] = session.check(verifier_for(issuer, received.report), response.form)
        assert report.valid, report
        disclosed = json.loads(report.claims_json)
        assert disclosed["family_name"] == "Smith" and "given_name" not in disclosed

        # A response made for another request (other nonce and state) is refused.
        other = g.Openid4vpSession(f"redirect_uri:{cb}", cb, json.dumps(query))
        with pytest.raises(g.GovcredError.Failed):
            other.check(verifier_for(issuer, received.report), response.form)
        # A credential that does not answer the query cannot be chosen.
        with pytest.raises(g.GovcredError.Failed) as e:
            wallet.openid4vp_respond(request, [g.Openid4vpChoice(query_id="pid", credential_id="nope")])
        assert e.value.code == g.ErrorCode.NO_MATCHING_CREDENTIAL
