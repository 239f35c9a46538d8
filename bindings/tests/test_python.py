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
