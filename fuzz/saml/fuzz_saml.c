/* fuzz_saml.c: libFuzzer target for STS's SAML response check (svc/sts/saml.c): libxml2
 * parsing, the tree walk, exclusive C14N of the signed element and SignedInfo, the digest and
 * RSA verification, the conditions and attributes. Input: the SAML Response XML (the target
 * base64-encodes it as AssumeRoleWithSAML receives it); the IdP metadata is fixed, with the
 * certificate whose key signed the seeds (so the seeds pass every check at the fixed time). */
#include <stdlib.h>
#include <string.h>

#include "core/nb.h"
#include "svc/sts/saml.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char CERT[] =
    "MIICwDCCAaigAwIBAgIURKyh36nFcKr0s8StFjn55ZSBrv8wDQYJKoZIhvcNAQELBQAwGjEYMBYG"
    "A1UEAwwPaWRwLmV4YW1wbGUuY29tMB4XDTI2MTEyNjE0NDk1N1oXDTI2MTIyNzE0NDk1N1owGjEY"
    "MBYGA1UEAwwPaWRwLmV4YW1wbGUuY29tMIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA"
    "3c6j/Kr2Q4sBO0X/9PN1O8BndRDFtovNroBwR5VR+dHN1ezFHlsHONLkV5PqTdiDX/AOB0LyBPL9"
    "EBeM8wS8nJaxghB9AUD08FxKzDyWIp/vwcUmRxFQzChrOwPy4b2GNfsPgw4LxTfY8oN1RGOErt5u"
    "zri6ZJnDGdksCDaKj3umuDPDWhoJSbDOwVfWhHiTHjrrzpeMum0MlI1RWaFgz7QnvdEA/ik4PK8F"
    "JMB1HV4o1b7AGSMCsfhGf8pKvynNWpDiAROx/jG63caTenGBhk1PjbYbLix421G8OFDy0dUjc0hu"
    "+G3P/6Cc0Ow4Z5R0AiB2XVgG6XJXNipQ8fVIvQIDAQABMA0GCSqGSIb3DQEBCwUAA4IBAQCVAVb0"
    "DxzdYjc4/nxRt5CQGneirCNHr0zAwBQgUNvYEBwNBGFQLRMJr1U11YakEjnp5Y2C+onLBcUJnBVS"
    "7a/1SCnfViO+RjQcy40h1YdBjugh+RwAcP3/7LToG+bfDrLLNXp4ls/91X0MQQCJKkd7ObEPxNaV"
    "zJo3CJc9RPEz6FolXbH+6BqA+RD5a08u2FAcht3AlP28ZVA2gscM0dagacAC+4rIYNfxjzZqWzQT"
    "nZp/HjZg049oSep5/J8C82Om8MzQPb+ijDVpJSmUfp/FdBpwlW1HgGmnyUMEaJhTU0HBXGlsrBBh"
    "wEB0t1Oj7/IfoHcpvOGh1DIRVhq+RE//";

static const char *metadata(void)
{
    static char md[4096];
    if (!md[0])
        snprintf(
            md, sizeof(md),
            "<md:EntityDescriptor xmlns:md=\"urn:oasis:names:tc:SAML:2.0:metadata\" "
            "entityID=\"https://idp.example.com/saml\"><md:IDPSSODescriptor "
            "protocolSupportEnumeration=\"urn:oasis:names:tc:SAML:2.0:protocol\"><md:KeyDescriptor "
            "use=\"signing\"><ds:KeyInfo "
            "xmlns:ds=\"http://www.w3.org/2000/09/xmldsig#\"><ds:X509Data>"
            "<ds:X509Certificate>%s</ds:X509Certificate></ds:X509Data></ds:KeyInfo></"
            "md:KeyDescriptor>"
            "</md:IDPSSODescriptor></md:EntityDescriptor>",
            CERT);
    return md;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 200000) return 0;
    char *b64 = malloc(nb_base64_encoded_len(size) + 1);
    if (!b64) return 0;
    nb_base64_encode(data, size, b64);
    nb_saml s;
    const char *code = NULL;
    char msg[300];
    /* 2030-03-17: inside the seeds' validity window */
    if (nb_saml_check(b64, metadata(), 1900000100.0, &s, &code, msg, sizeof(msg)) != 0 &&
        (!code || !msg[0]))
        abort(); /* a refusal always says why */
    nb_saml_free(&s);
    free(b64);
    return 0;
}
