"""bench/morning_floor.py: the floor of a journey is read from what the identity provider really sent.

Responses come from the real IdP (SP-initiated SSO through the test client) for pysaml2 service
providers that ask for encryption or not; the expected operations are known from the keys these tests
hold, so a derivation that miscounts, names the wrong key or size, or ignores the encryption fails.
"""

from __future__ import annotations

import base64
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import load_pem_private_key
from joserfc import jwt
from joserfc.jwk import RSAKey

from bench.morning_floor import (
    AES,
    ARGON2,
    IN_ASSERTION,
    RSA_OAEP,
    RSA_SIGN,
    RSA_VERIFY,
    Floor,
    FloorError,
    argon2_operation,
    fingerprint,
    id_token_operations,
    redirect_request_operations,
    saml_response_operations,
)
from tests.federation.saml.helpers import first_form, guardian, log_in
from tests.federation.saml.sp import PySamlSP
from trousseau.accounts.hashers import TrousseauArgon2Hasher
from trousseau.federation.saml import keys
from trousseau.federation.saml.services import sp_register

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _idp_at_testserver(settings):
    settings.PUBLIC_URL = "http://testserver"


@pytest.fixture(scope="module")
def sp_dir(tmp_path_factory) -> Path:
    directory: Path = tmp_path_factory.mktemp("floor-sp")
    PySamlSP(directory)  # generates the pair once (RSA-3072)
    return directory


def _private(path: Path) -> rsa.RSAPrivateKey:
    key = load_pem_private_key(path.read_bytes(), password=None)
    assert isinstance(key, rsa.RSAPrivateKey)
    return key


def _idp_public() -> rsa.RSAPublicKey:
    key = x509.load_pem_x509_certificate(keys.signing().cert_pem.encode()).public_key()
    assert isinstance(key, rsa.RSAPublicKey)
    return key


def _sso(client, sp_dir: Path, *, encrypt: bool, sign_requests: bool = True) -> tuple[PySamlSP, str, str]:
    """(the SP, the AuthnRequest URL it sent, the SAMLResponse the IdP answered) for a logged-in guardian."""
    sp = PySamlSP(sp_dir, sign_requests=sign_requests)
    sp_register(sp.metadata(), name="ENT", release_children=True, encrypt=encrypt, allow_idp_initiated=True)
    log_in(client, guardian())
    _, url = sp.redirect_request()
    return sp, url, first_form(client.get(url).content.decode())["fields"]["SAMLResponse"]


def test_an_encrypted_answer_is_two_signatures_a_key_transport_and_aes_gcm_of_the_assertion(client, sp_dir):
    _, _, saml = _sso(client, sp_dir, encrypt=True)
    sp_key, idp = _private(sp_dir / "key.pem"), _idp_public()

    operations = saml_response_operations(saml, "answer", idp_signer=idp, sp_key=sp_key)

    assert [op.kind for op in operations] == [RSA_SIGN, RSA_OAEP, AES, RSA_SIGN]
    response_sig, transport, aes, assertion_sig = operations
    assert (response_sig.where, assertion_sig.where) == ("answer", "answer" + IN_ASSERTION)
    assert assertion_sig.step == "answer"
    for signature in (response_sig, assertion_sig):
        assert (signature.key, signature.bits, signature.digest) == (fingerprint(idp), idp.key_size, "sha256")
    # The response's signature covers the whole response, so more than the encrypted assertion.
    assert response_sig.size > len(base64.b64decode(saml)) // 2
    assert (transport.key, transport.bits) == (fingerprint(sp_key.public_key()), sp_key.key_size)
    # The AES key carried and the assertion encrypted: sizes read by decrypting it.
    assert aes.bits in {128, 256}
    assert transport.size == aes.bits // 8
    assert 1000 < aes.size < len(base64.b64decode(saml))


def test_an_answer_in_the_clear_is_two_signatures_and_nothing_else(client, sp_dir):
    _, _, saml = _sso(client, sp_dir, encrypt=False)

    operations = saml_response_operations(saml, "answer", idp_signer=_idp_public(), sp_key=None)

    assert [op.kind for op in operations] == [RSA_SIGN, RSA_SIGN]


def test_an_answer_is_refused_for_another_signer_or_another_sps_key(client, sp_dir, tmp_path):
    _, _, saml = _sso(client, sp_dir, encrypt=True)
    other = rsa.generate_private_key(
        public_exponent=65537, key_size=3072
    )  # the SP's size: a wrong key, not a wrong size

    with pytest.raises(FloorError, match="not the identity provider's"):
        saml_response_operations(saml, "answer", idp_signer=other.public_key(), sp_key=_private(sp_dir / "key.pem"))
    with pytest.raises(FloorError, match="does not decrypt"):
        saml_response_operations(saml, "answer", idp_signer=_idp_public(), sp_key=other)
    with pytest.raises(FloorError, match="no service provider key"):
        saml_response_operations(saml, "answer", idp_signer=_idp_public(), sp_key=None)


def test_a_signed_redirect_request_is_one_verification_with_the_sps_key(client, sp_dir):
    _, url, _ = _sso(client, sp_dir, encrypt=False)
    sp_public = _private(sp_dir / "key.pem").public_key()

    [operation] = redirect_request_operations(url, "request", sp_signer=sp_public)

    assert (operation.kind, operation.key, operation.bits) == (RSA_VERIFY, fingerprint(sp_public), 3072)
    assert operation.size > len("SAMLRequest=&SigAlg=")


def test_an_unsigned_request_costs_no_verification(sp_dir):
    sp = PySamlSP(sp_dir, sign_requests=False)
    _, url = sp.redirect_request()

    assert redirect_request_operations(url, "request", sp_signer=_private(sp_dir / "key.pem").public_key()) == []


def test_the_id_token_signature_follows_the_key_named_by_its_kid():
    key = RSAKey.generate_key(2048, parameters={"kid": "k2048"})
    token = jwt.encode({"alg": "RS256", "kid": "k2048"}, {"sub": "x", "aud": "c"}, key)
    public = load_pem_private_key(key.as_pem(private=True), password=None).public_key()
    assert isinstance(public, rsa.RSAPublicKey)

    [operation] = id_token_operations(token, "token", jwks={"k2048": public})

    assert (operation.kind, operation.bits, operation.key) == (RSA_SIGN, 2048, fingerprint(public))
    assert operation.size == len(token.rsplit(".", 1)[0])
    with pytest.raises(FloorError, match="not in the JWKS"):
        id_token_operations(token, "token", jwks={"other": public})


def test_argon2_takes_the_stored_hashs_own_parameters():
    hasher = TrousseauArgon2Hasher()
    operation = argon2_operation(hasher.encode("Cartable#Violet42", hasher.salt()), "login")

    assert (operation.kind, operation.argon2) == (ARGON2, (hasher.time_cost, hasher.memory_cost, hasher.parallelism))
    cheaper = argon2_operation("argon2$argon2id$v=19$m=8192,t=3,p=2$c2FsdHNhbHQ$aGFzaA", "login")
    assert cheaper.argon2 == (3, 8192, 2)
    with pytest.raises(FloorError, match="not Django's argon2id"):
        argon2_operation("pbkdf2_sha256$100$salt$hash", "login")


def test_the_floor_is_done_with_the_keys_of_the_run_and_no_other(client, sp_dir):
    _, url, saml = _sso(client, sp_dir, encrypt=True)
    sp_key = _private(sp_dir / "key.pem")
    idp_key = keys.signing().key_path
    assert idp_key is not None
    operations = [
        *redirect_request_operations(url, "request", sp_signer=sp_key.public_key()),
        *saml_response_operations(saml, "answer", idp_signer=_idp_public(), sp_key=sp_key),
    ]
    keyring = {fingerprint(sp_key.public_key()): sp_key, fingerprint(_idp_public()): _private(idp_key)}

    floor = Floor(operations, keyring)
    assert floor.run(2) > 0
    assert floor.timing.times == 2
    assert all(spent > 0 for spent in floor.timing.spent)
    with pytest.raises(FloorError, match="holds no key"):
        Floor(operations, {fingerprint(sp_key.public_key()): sp_key})
