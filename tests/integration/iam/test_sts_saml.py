"""AssumeRoleWithSAML: a SAML 2.0 response built and signed here (RSA-SHA256, exclusive C14N,
enveloped signature on the Assertion) with the key of the certificate in the SAML provider's
metadata; Nimbus verifies it, checks audience, validity, the Role attribute and the role's trust
policy (Federated principal, SAML:aud condition), and issues role credentials."""
import base64
import datetime
import hashlib
import json
import time
import uuid

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import NameOID

from iam_helpers import advance_clock, allow, as_user, doc, refused

ACCOUNT = "000000000000"
NS_P = "urn:oasis:names:tc:SAML:2.0:protocol"
NS_A = "urn:oasis:names:tc:SAML:2.0:assertion"
NS_DS = "http://www.w3.org/2000/09/xmldsig#"
ISSUER = "https://idp.example.com/saml"
AWS_AUD = "https://signin.aws.amazon.com/saml"
ATTR = "https://aws.amazon.com/SAML/Attributes/"


def make_key_and_cert():
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "idp.example.com")])
    now = datetime.datetime.utcnow()
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=30)).sign(key, hashes.SHA256()))
    return key, base64.b64encode(cert.public_bytes(serialization.Encoding.DER)).decode()


@pytest.fixture(scope="module")
def idp():
    return make_key_and_cert()


def metadata(cert_b64):
    return (f'<?xml version="1.0"?>\n<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" '
            f'entityID="{ISSUER}"><md:IDPSSODescriptor protocolSupportEnumeration="{NS_P}">'
            f'<md:KeyDescriptor use="signing"><ds:KeyInfo xmlns:ds="{NS_DS}"><ds:X509Data><ds:X509Certificate>\n'
            f'{cert_b64}\n</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>'
            f'<md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" '
            f'Location="https://idp.example.com/sso"/></md:IDPSSODescriptor></md:EntityDescriptor>')


def ts(t):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))


def saml_response(key, role_arn, provider_arn, session="alice@example.com", audience=AWS_AUD, now=None,
                  lifetime=300, extra_attrs="", tamper=None, session_not_on_or_after=None, inclusive=False):
    """The base64 SAML response. The assertion is written in its exclusive-C14N form (sorted
    attributes, explicit end tags, its own xmlns:saml), digested and signed as such; the wire
    form then differs (namespace declared on the Response, self-closing empty elements, other
    attribute order), so the server must canonicalize to verify."""
    now = time.time() if now is None else now
    aid = "_" + uuid.uuid4().hex
    authn = f'AuthnInstant="{ts(now)}"'
    if session_not_on_or_after is not None:
        authn += f' SessionIndex="_s1" SessionNotOnOrAfter="{ts(session_not_on_or_after)}"'
    else:
        authn += ' SessionIndex="_s1"'
    attrs = (f'<saml:Attribute Name="{ATTR}Role"><saml:AttributeValue>{role_arn},{provider_arn}'
             f'</saml:AttributeValue></saml:Attribute>'
             f'<saml:Attribute Name="{ATTR}RoleSessionName"><saml:AttributeValue>{session}</saml:AttributeValue>'
             f'</saml:Attribute>' + extra_attrs)
    canon = (f'<saml:Assertion xmlns:saml="{NS_A}" ID="{aid}" IssueInstant="{ts(now)}" Version="2.0">'
             f'<saml:Issuer>{ISSUER}</saml:Issuer>'
             '@SIG@'
             f'<saml:Subject><saml:NameID Format="urn:oasis:names:tc:SAML:2.0:nameid-format:persistent">'
             f'alice</saml:NameID><saml:SubjectConfirmation Method="urn:oasis:names:tc:SAML:2.0:cm:bearer">'
             f'<saml:SubjectConfirmationData NotOnOrAfter="{ts(now + lifetime)}" Recipient="{AWS_AUD}">'
             f'</saml:SubjectConfirmationData></saml:SubjectConfirmation></saml:Subject>'
             f'<saml:Conditions NotBefore="{ts(now - 60)}" NotOnOrAfter="{ts(now + lifetime)}">'
             f'<saml:AudienceRestriction><saml:Audience>{audience}</saml:Audience></saml:AudienceRestriction>'
             f'</saml:Conditions>'
             f'<saml:AuthnStatement {authn}><saml:AuthnContext><saml:AuthnContextClassRef>'
             f'urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport</saml:AuthnContextClassRef>'
             f'</saml:AuthnContext></saml:AuthnStatement>'
             f'<saml:AttributeStatement>{attrs}</saml:AttributeStatement></saml:Assertion>')
    digested = canon.replace("@SIG@", "")
    exc_transform = '<ds:Transform Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"></ds:Transform>'
    if inclusive:
        # No C14N transform: XMLDSig's default, inclusive C14N, renders every namespace in
        # scope on the apex (the Response's samlp too).
        digested = digested.replace(f'xmlns:saml="{NS_A}"', f'xmlns:saml="{NS_A}" xmlns:samlp="{NS_P}"', 1)
        exc_transform = ""
    digest = base64.b64encode(hashlib.sha256(digested.encode()).digest()).decode()
    signed_info = (f'<ds:SignedInfo xmlns:ds="{NS_DS}">'
                   '<ds:CanonicalizationMethod Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#">'
                   '</ds:CanonicalizationMethod>'
                   '<ds:SignatureMethod Algorithm="http://www.w3.org/2001/04/xmldsig-more#rsa-sha256">'
                   '</ds:SignatureMethod>'
                   f'<ds:Reference URI="#{aid}"><ds:Transforms>'
                   f'<ds:Transform Algorithm="{NS_DS}enveloped-signature"></ds:Transform>'
                   f'{exc_transform}'
                   '</ds:Transforms><ds:DigestMethod Algorithm="http://www.w3.org/2001/04/xmlenc#sha256">'
                   f'</ds:DigestMethod><ds:DigestValue>{digest}</ds:DigestValue></ds:Reference></ds:SignedInfo>')
    sig = base64.b64encode(key.sign(signed_info.encode(), padding.PKCS1v15(), hashes.SHA256())).decode()
    # The wire form: SignedInfo inherits ds from Signature, self-closing empty elements.
    si_wire = signed_info.replace(f' xmlns:ds="{NS_DS}"', "")
    for tag in ("CanonicalizationMethod", "SignatureMethod", "Transform", "DigestMethod"):
        si_wire = si_wire.replace(f"></ds:{tag}>", "/>")
    signature = (f'<ds:Signature xmlns:ds="{NS_DS}">{si_wire}<ds:SignatureValue>\n{sig}\n</ds:SignatureValue>'
                 f'</ds:Signature>')
    wire = canon.replace(f'<saml:Assertion xmlns:saml="{NS_A}" ID="{aid}" IssueInstant="{ts(now)}" Version="2.0">',
                         f"<saml:Assertion Version='2.0' IssueInstant=\"{ts(now)}\"   ID=\"{aid}\">")
    wire = wire.replace("></saml:SubjectConfirmationData>", "/>").replace("@SIG@", signature)
    if tamper:
        wire = tamper(wire)
    resp = (f'<?xml version="1.0" encoding="UTF-8"?>\n<samlp:Response xmlns:samlp="{NS_P}" xmlns:saml="{NS_A}" '
            f'ID="_{uuid.uuid4().hex}" Version="2.0" IssueInstant="{ts(now)}" Destination="{AWS_AUD}">\n'
            f'  <saml:Issuer>{ISSUER}</saml:Issuer>\n'
            f'  <samlp:Status><samlp:StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:Success"/></samlp:Status>\n'
            f'  {wire}\n</samlp:Response>\n')
    return base64.b64encode(resp.encode()).decode()


def saml_response_signed_whole(key, role_arn, provider_arn, session="bob", now=None, tamper=None):
    """A response whose signature is on the Response (covering the unsigned Assertion), as some
    IdPs send. Written in canonical form except for xmlns:saml, declared once on the Response:
    exclusive C14N leaves it off the Response (not used by it) and renders it on saml:Issuer and
    saml:Assertion instead."""
    now = time.time() if now is None else now
    rid, aid = "_" + uuid.uuid4().hex, "_" + uuid.uuid4().hex
    assertion = (f'<saml:Assertion ID="{aid}" IssueInstant="{ts(now)}" Version="2.0">'
                 f'<saml:Issuer>{ISSUER}</saml:Issuer><saml:Subject><saml:NameID '
                 f'Format="urn:oasis:names:tc:SAML:2.0:nameid-format:transient">t-123</saml:NameID>'
                 f'<saml:SubjectConfirmation Method="urn:oasis:names:tc:SAML:2.0:cm:bearer">'
                 f'<saml:SubjectConfirmationData NotOnOrAfter="{ts(now + 300)}" Recipient="{AWS_AUD}">'
                 f'</saml:SubjectConfirmationData></saml:SubjectConfirmation></saml:Subject>'
                 f'<saml:Conditions NotOnOrAfter="{ts(now + 300)}"><saml:AudienceRestriction>'
                 f'<saml:Audience>{AWS_AUD}</saml:Audience></saml:AudienceRestriction></saml:Conditions>'
                 f'<saml:AttributeStatement><saml:Attribute Name="{ATTR}Role"><saml:AttributeValue>'
                 f'{provider_arn}, {role_arn}</saml:AttributeValue></saml:Attribute>'
                 f'<saml:Attribute Name="{ATTR}RoleSessionName"><saml:AttributeValue>{session}'
                 f'</saml:AttributeValue></saml:Attribute></saml:AttributeStatement></saml:Assertion>')
    body = (f'\n  <saml:Issuer>{ISSUER}</saml:Issuer>@SIG@\n  <samlp:Status><samlp:StatusCode '
            f'Value="urn:oasis:names:tc:SAML:2.0:status:Success"></samlp:StatusCode></samlp:Status>\n  '
            f'{assertion}\n')
    head = f'Destination="{AWS_AUD}" ID="{rid}" IssueInstant="{ts(now)}" Version="2.0"'
    canon = (f'<samlp:Response xmlns:samlp="{NS_P}" {head}>' + body.replace("@SIG@", "")
             .replace("<saml:Issuer>", f'<saml:Issuer xmlns:saml="{NS_A}">', 1)
             .replace("<saml:Assertion ", f'<saml:Assertion xmlns:saml="{NS_A}" ') + "</samlp:Response>")
    digest = base64.b64encode(hashlib.sha256(canon.encode()).digest()).decode()
    signed_info = (f'<ds:SignedInfo xmlns:ds="{NS_DS}">'
                   '<ds:CanonicalizationMethod Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#">'
                   '</ds:CanonicalizationMethod>'
                   '<ds:SignatureMethod Algorithm="http://www.w3.org/2001/04/xmldsig-more#rsa-sha256">'
                   '</ds:SignatureMethod>'
                   f'<ds:Reference URI="#{rid}"><ds:Transforms>'
                   f'<ds:Transform Algorithm="{NS_DS}enveloped-signature"></ds:Transform>'
                   '<ds:Transform Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"></ds:Transform>'
                   '</ds:Transforms><ds:DigestMethod Algorithm="http://www.w3.org/2001/04/xmlenc#sha256">'
                   f'</ds:DigestMethod><ds:DigestValue>{digest}</ds:DigestValue></ds:Reference></ds:SignedInfo>')
    sig = base64.b64encode(key.sign(signed_info.encode(), padding.PKCS1v15(), hashes.SHA256())).decode()
    signature = f'<ds:Signature xmlns:ds="{NS_DS}">{signed_info}<ds:SignatureValue>{sig}</ds:SignatureValue></ds:Signature>'
    wire = (f'<?xml version="1.0" encoding="UTF-8"?>\n<samlp:Response xmlns:samlp="{NS_P}" xmlns:saml="{NS_A}" '
            f'{head}>' + body.replace("@SIG@", signature) + "</samlp:Response>")
    if tamper:
        wire = tamper(wire)
    return base64.b64encode(wire.encode()).decode()


def trust_saml(provider_arn, aud=AWS_AUD):
    return doc({"Effect": "Allow", "Principal": {"Federated": provider_arn}, "Action": "sts:AssumeRoleWithSAML",
                "Condition": {"StringEquals": {"SAML:aud": aud}}})


@pytest.fixture
def setup(boto, idp):
    iam = boto("iam")
    key, cert = idp
    prov = iam.create_saml_provider(Name="ExampleIdP", SAMLMetadataDocument=metadata(cert))["SAMLProviderArn"]
    iam.create_role(RoleName="SamlRole", Path="/fed/", AssumeRolePolicyDocument=trust_saml(prov))
    iam.put_role_policy(RoleName="SamlRole", PolicyName="p", PolicyDocument=doc(allow("s3:ListAllMyBuckets")))
    role = f"arn:aws:iam::{ACCOUNT}:role/fed/SamlRole"
    return iam, boto("sts"), key, prov, role


def test_assume_role_with_saml_issues_role_credentials(nimbus, setup):
    iam, sts, key, prov, role = setup
    out = sts.assume_role_with_saml(RoleArn=role, PrincipalArn=prov,
                                    SAMLAssertion=saml_response(key, role, prov), DurationSeconds=900)
    assert out["AssumedRoleUser"]["Arn"] == f"arn:aws:sts::{ACCOUNT}:assumed-role/SamlRole/alice@example.com"
    assert out["AssumedRoleUser"]["AssumedRoleId"].startswith("AROA")
    assert out["AssumedRoleUser"]["AssumedRoleId"].endswith(":alice@example.com")
    assert out["Subject"] == "alice" and out["SubjectType"] == "persistent"
    assert out["Issuer"] == ISSUER and out["Audience"] == AWS_AUD
    nq = base64.b64encode(hashlib.sha1(f"{ISSUER}{ACCOUNT}/ExampleIdP".encode()).digest()).decode()
    assert out["NameQualifier"] == nq
    c = out["Credentials"]
    assert c["AccessKeyId"].startswith("ASIA")
    left = (c["Expiration"] - datetime.datetime.now(datetime.timezone.utc)).total_seconds()
    assert 800 < left <= 901
    keys = (c["AccessKeyId"], c["SecretAccessKey"])
    who = as_user(nimbus, "sts", keys, token=c["SessionToken"]).get_caller_identity()
    assert who["Arn"] == out["AssumedRoleUser"]["Arn"]
    # The role's permissions, no more.
    as_user(nimbus, "s3", keys, token=c["SessionToken"]).list_buckets()
    refused(as_user(nimbus, "iam", keys, token=c["SessionToken"]).list_users, code="AccessDenied")


def test_saml_session_ends_at_session_not_on_or_after(setup):
    iam, sts, key, prov, role = setup
    now = time.time()
    out = sts.assume_role_with_saml(RoleArn=role, PrincipalArn=prov, SAMLAssertion=saml_response(
        key, role, prov, now=now, session_not_on_or_after=now + 1200))
    left = (out["Credentials"]["Expiration"] - datetime.datetime.now(datetime.timezone.utc)).total_seconds()
    assert 1100 < left <= 1201


def test_saml_signature_must_hold(setup):
    iam, sts, key, prov, role = setup
    # Changing signed content after signing (the session name) breaks the digest.
    bad = saml_response(key, role, prov, tamper=lambda w: w.replace("alice@example.com", "mallory"))
    err = refused(sts.assume_role_with_saml, RoleArn=role, PrincipalArn=prov, SAMLAssertion=bad,
                  code="InvalidIdentityToken", status=400)
    assert err["Message"] == "Response signature invalid"
    # Signed by another key than the metadata's certificate.
    other, _ = make_key_and_cert()
    refused(sts.assume_role_with_saml, RoleArn=role, PrincipalArn=prov,
            SAMLAssertion=saml_response(other, role, prov), code="InvalidIdentityToken",
            contains="Response signature invalid")
    # No signature at all.
    unsigned = saml_response(key, role, prov, tamper=lambda w: w[:w.index("<ds:Signature")] +
                             w[w.index("</ds:Signature>") + len("</ds:Signature>"):])
    refused(sts.assume_role_with_saml, RoleArn=role, PrincipalArn=prov, SAMLAssertion=unsigned,
            code="InvalidIdentityToken", contains="Response signature invalid")
    # A second (unsigned) assertion next to the signed one: refused, whatever it says.
    def wrap(w):
        evil = w[:w.index("<ds:Signature")] + w[w.index("</ds:Signature>") + len("</ds:Signature>"):]
        return evil.replace('ID="_', 'ID="_evil') + w
    refused(sts.assume_role_with_saml, RoleArn=role, PrincipalArn=prov,
            SAMLAssertion=saml_response(key, role, prov, tamper=wrap), code="InvalidIdentityToken")
    refused(sts.assume_role_with_saml, RoleArn=role, PrincipalArn=prov,
            SAMLAssertion=base64.b64encode(b"<notsaml/>").decode(), code="InvalidIdentityToken")
    refused(sts.assume_role_with_saml, RoleArn=role, PrincipalArn=prov,
            SAMLAssertion=base64.b64encode(b'<!DOCTYPE x [<!ENTITY a "b">]><x>&a;</x>').decode(),
            code="InvalidIdentityToken", contains="DOCTYPE")
    # Also when the bytes do not show it (UTF-16): the parsed document's DTD is refused.
    valid = base64.b64decode(saml_response(key, role, prov)).decode()
    dtd = valid.replace('<?xml version="1.0" encoding="UTF-8"?>',
                        '<?xml version="1.0" encoding="UTF-16"?><!DOCTYPE samlp:Response [<!ENTITY a "b">]>')
    refused(sts.assume_role_with_saml, RoleArn=role, PrincipalArn=prov,
            SAMLAssertion=base64.b64encode(dtd.encode("utf-16")).decode(),
            code="InvalidIdentityToken", contains="DOCTYPE")


def test_saml_audience_and_expiry(nimbus, setup):
    iam, sts, key, prov, role = setup
    refused(sts.assume_role_with_saml, RoleArn=role, PrincipalArn=prov,
            SAMLAssertion=saml_response(key, role, prov, audience="https://other.example.com/sp"),
            code="InvalidIdentityToken", status=400, contains="audience")
    assertion = saml_response(key, role, prov, lifetime=300)
    advance_clock(nimbus, "10m")
    refused(sts.assume_role_with_saml, RoleArn=role, PrincipalArn=prov, SAMLAssertion=assertion,
            code="ExpiredTokenException", status=400)


def test_saml_role_attribute_and_trust_policy(setup):
    iam, sts, key, prov, role = setup
    # The assertion names another role: not for this one.
    other_role = f"arn:aws:iam::{ACCOUNT}:role/Other"
    iam.create_role(RoleName="Other", AssumeRolePolicyDocument=trust_saml(prov))
    refused(sts.assume_role_with_saml, RoleArn=role, PrincipalArn=prov,
            SAMLAssertion=saml_response(key, other_role, prov), code="AccessDenied", status=403,
            contains="Not authorized to perform sts:AssumeRoleWithSAML")
    # It works for the role it names.
    out = sts.assume_role_with_saml(RoleArn=other_role, PrincipalArn=prov,
                                    SAMLAssertion=saml_response(key, other_role, prov))
    assert out["AssumedRoleUser"]["Arn"].endswith(":assumed-role/Other/alice@example.com")
    # A trust policy whose SAML:aud condition does not hold.
    iam.create_role(RoleName="Strict", AssumeRolePolicyDocument=trust_saml(prov, aud="https://example.org/x"))
    strict = f"arn:aws:iam::{ACCOUNT}:role/Strict"
    refused(sts.assume_role_with_saml, RoleArn=strict, PrincipalArn=prov,
            SAMLAssertion=saml_response(key, strict, prov), code="AccessDenied")
    # A trust policy that does not name this provider at all.
    iam.create_role(RoleName="NoFed", AssumeRolePolicyDocument=doc(
        {"Effect": "Allow", "Principal": {"AWS": ACCOUNT}, "Action": "sts:AssumeRole"}))
    nofed = f"arn:aws:iam::{ACCOUNT}:role/NoFed"
    refused(sts.assume_role_with_saml, RoleArn=nofed, PrincipalArn=prov,
            SAMLAssertion=saml_response(key, nofed, prov), code="AccessDenied")
    # An unknown provider.
    ghost = f"arn:aws:iam::{ACCOUNT}:saml-provider/Ghost"
    err = refused(sts.assume_role_with_saml, RoleArn=role, PrincipalArn=ghost,
                  SAMLAssertion=saml_response(key, role, ghost), code="InvalidIdentityToken")
    assert err["Message"] == "Specified provider doesn't exist"
    # RoleSessionName: required, and of AWS's pattern (AWS's troubleshooting messages).
    err = refused(sts.assume_role_with_saml, RoleArn=role, PrincipalArn=prov,
                  SAMLAssertion=saml_response(key, role, prov, session=""), code="InvalidIdentityToken")
    assert err["Message"] == "RoleSessionName is required in AuthnResponse"
    err = refused(sts.assume_role_with_saml, RoleArn=role, PrincipalArn=prov,
                  SAMLAssertion=saml_response(key, role, prov, session="a b"), code="InvalidIdentityToken")
    assert err["Message"] == "RoleSessionName in AuthnResponse must match [a-zA-Z_0-9+=,.@-]{2,64}"


def test_saml_issuer_must_be_the_providers_entity_id(boto, idp):
    iam, sts = boto("iam"), boto("sts")
    key, cert = idp
    prov = iam.create_saml_provider(Name="OtherIdP", SAMLMetadataDocument=metadata(cert).replace(
        f'entityID="{ISSUER}"', 'entityID="https://other-idp.example.com"'))["SAMLProviderArn"]
    iam.create_role(RoleName="R2", AssumeRolePolicyDocument=trust_saml(prov))
    role = f"arn:aws:iam::{ACCOUNT}:role/R2"
    err = refused(sts.assume_role_with_saml, RoleArn=role, PrincipalArn=prov,
                  SAMLAssertion=saml_response(key, role, prov), code="InvalidIdentityToken", status=400)
    assert err["Message"] == "Issuer not present in specified provider"


def test_saml_session_tags_from_assertion(nimbus, setup):
    iam, sts, key, prov, role = setup
    iam.create_role(RoleName="Tagged", AssumeRolePolicyDocument=doc(
        {"Effect": "Allow", "Principal": {"Federated": prov}, "Action": ["sts:AssumeRoleWithSAML", "sts:TagSession"]}))
    iam.put_role_policy(RoleName="Tagged", PolicyName="p", PolicyDocument=doc(
        allow("sqs:ListQueues", Condition={"StringEquals": {"aws:PrincipalTag/team": "blue"}})))
    tagged = f"arn:aws:iam::{ACCOUNT}:role/Tagged"
    tag = (f'<saml:Attribute Name="{ATTR}PrincipalTag:team"><saml:AttributeValue>blue</saml:AttributeValue>'
           '</saml:Attribute>')
    c = sts.assume_role_with_saml(RoleArn=tagged, PrincipalArn=prov,
                                  SAMLAssertion=saml_response(key, tagged, prov, extra_attrs=tag))["Credentials"]
    as_user(nimbus, "sqs", (c["AccessKeyId"], c["SecretAccessKey"]), token=c["SessionToken"]).list_queues()
    # Without sts:TagSession in the trust policy, tags refuse the call.
    refused(sts.assume_role_with_saml, RoleArn=role, PrincipalArn=prov,
            SAMLAssertion=saml_response(key, role, prov, extra_attrs=tag), code="AccessDenied")


def test_aws_cli_assume_role_with_saml(aws, setup):
    iam, sts, key, prov, role = setup
    out = aws("sts", "assume-role-with-saml", "--role-arn", role, "--principal-arn", prov,
              "--saml-assertion", saml_response(key, role, prov))
    assert out["AssumedRoleUser"]["Arn"].endswith(":assumed-role/SamlRole/alice@example.com")
    assert json.dumps(out["Credentials"]["AccessKeyId"]).startswith('"ASIA')


def test_saml_signature_on_the_response(setup):
    iam, sts, key, prov, role = setup
    out = sts.assume_role_with_saml(RoleArn=role, PrincipalArn=prov,
                                    SAMLAssertion=saml_response_signed_whole(key, role, prov))
    assert out["AssumedRoleUser"]["Arn"].endswith(":assumed-role/SamlRole/bob")
    assert out["Subject"] == "t-123" and out["SubjectType"] == "transient"
    # The signature covers the assertion inside: changing it breaks the digest.
    bad = saml_response_signed_whole(key, role, prov, tamper=lambda w: w.replace(">bob<", ">eve<"))
    refused(sts.assume_role_with_saml, RoleArn=role, PrincipalArn=prov, SAMLAssertion=bad,
            code="InvalidIdentityToken", contains="Response signature invalid")


def test_saml_keys_reach_the_sessions_permissions_policies(nimbus, setup):
    """AWS's per-user folders: permissions policies of the role use ${saml:sub} (and the other
    saml:* keys) for requests made with the session's credentials."""
    iam, sts, key, prov, role = setup
    iam.put_role_policy(RoleName="SamlRole", PolicyName="home", PolicyDocument=doc(
        allow("s3:CreateBucket", "arn:aws:s3:::home-${saml:sub}"),
        allow("sqs:ListQueues", Condition={"StringEquals": {"saml:iss": ISSUER}})))
    c = sts.assume_role_with_saml(RoleArn=role, PrincipalArn=prov,
                                  SAMLAssertion=saml_response(key, role, prov))["Credentials"]
    keys, token = (c["AccessKeyId"], c["SecretAccessKey"]), c["SessionToken"]
    s3 = as_user(nimbus, "s3", keys, token=token)
    s3.create_bucket(Bucket="home-alice")
    refused(s3.create_bucket, Bucket="home-bob", code="AccessDenied", status=403)
    as_user(nimbus, "sqs", keys, token=token).list_queues()


def test_saml_reference_without_c14n_transform_uses_inclusive_c14n(setup):
    iam, sts, key, prov, role = setup
    out = sts.assume_role_with_saml(RoleArn=role, PrincipalArn=prov,
                                    SAMLAssertion=saml_response(key, role, prov, inclusive=True))
    assert out["AssumedRoleUser"]["Arn"].endswith("/alice@example.com")
