//! SAML 2.0 for STS AssumeRoleWithSAML — with an honest, narrow scope.
//!
//! What rolestack does: it reads an IdP's SAML 2.0 metadata (CreateSAMLProvider's
//! `EncodedSAMLMetadataDocument`, Base64) and requires it to carry at least one X.509 signing
//! certificate; it decodes a presented `SAMLAssertion` (a Base64 `samlp:Response` or
//! `saml:Assertion`) and refuses it unless it is well-formed XML carrying an XML signature.
//!
//! What it does not do: verify XML-DSig signatures. Correct verification needs exclusive XML
//! canonicalization and defences against signature-wrapping, and no maintained pure-Rust crate
//! provides them (the maintained route binds the C library xmlsec). Trusting an assertion whose
//! signature was not checked would let anyone mint role credentials, so **every** assertion is
//! refused: unsigned ones as unsigned, signed ones as unverifiable. AssumeRoleWithSAML therefore
//! never issues credentials in rolestack; the API, its parameters and its errors are served.

use quick_xml::events::Event;
use quick_xml::Reader;

/// What is wrong with a metadata document or an assertion.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SamlError {
    #[error("it is not Base64")]
    NotBase64,
    #[error("it is not well-formed XML: {0}")]
    NotXml(String),
    #[error("its root element is {0}, not {1}")]
    WrongRoot(String, &'static str),
    #[error("it names no X.509 signing certificate (KeyDescriptor/KeyInfo/X509Data/X509Certificate)")]
    NoCertificate,
    #[error("it carries no XML signature; unsigned SAML assertions are never accepted")]
    Unsigned,
    #[error("rolestack cannot verify XML signatures (XML-DSig), so it accepts no SAML assertion rather than trust one unverified")]
    Unverifiable,
}

fn decode(b64: &str) -> Result<String, SamlError> {
    use base64::Engine;
    let compact: String = b64.chars().filter(|c| !c.is_whitespace()).collect();
    let bytes = base64::engine::general_purpose::STANDARD.decode(compact).map_err(|_| SamlError::NotBase64)?;
    String::from_utf8(bytes).map_err(|_| SamlError::NotXml("not UTF-8".into()))
}

/// The local names of every element, and the text of every `X509Certificate`, in document order.
fn scan(xml: &str) -> Result<(Vec<String>, Vec<String>), SamlError> {
    let mut reader = Reader::from_str(xml);
    let (mut elements, mut certs) = (Vec::new(), Vec::new());
    let mut in_cert = false;
    loop {
        match reader.read_event().map_err(|e| SamlError::NotXml(e.to_string()))? {
            Event::Start(e) => {
                let name = String::from_utf8_lossy(e.local_name().as_ref()).into_owned();
                in_cert = name == "X509Certificate";
                elements.push(name);
            }
            Event::Empty(e) => elements.push(String::from_utf8_lossy(e.local_name().as_ref()).into_owned()),
            Event::Text(t) if in_cert => {
                let text = t.unescape().map_err(|e| SamlError::NotXml(e.to_string()))?;
                let cert: String = text.chars().filter(|c| !c.is_whitespace()).collect();
                if !cert.is_empty() {
                    certs.push(cert);
                }
            }
            Event::End(_) => in_cert = false,
            Event::Eof => break,
            _ => {}
        }
    }
    Ok((elements, certs))
}

/// The signing certificates (Base64 DER) of an IdP's Base64 metadata document.
pub fn metadata_certificates(b64: &str) -> Result<Vec<String>, SamlError> {
    let (elements, certs) = scan(&decode(b64)?)?;
    match elements.first().map(String::as_str) {
        Some("EntityDescriptor" | "EntitiesDescriptor") => {}
        Some(other) => return Err(SamlError::WrongRoot(other.to_string(), "EntityDescriptor")),
        None => return Err(SamlError::NotXml("empty document".into())),
    }
    if certs.is_empty() {
        return Err(SamlError::NoCertificate);
    }
    Ok(certs)
}

/// Checks a presented assertion as far as rolestack can (see the module docs): always an error.
pub fn check_assertion(b64: &str) -> Result<(), SamlError> {
    let (elements, _) = scan(&decode(b64)?)?;
    match elements.first().map(String::as_str) {
        Some("Response" | "Assertion") => {}
        Some(other) => return Err(SamlError::WrongRoot(other.to_string(), "Response or Assertion")),
        None => return Err(SamlError::NotXml("empty document".into())),
    }
    if !elements.iter().any(|e| e == "Signature") {
        return Err(SamlError::Unsigned);
    }
    Err(SamlError::Unverifiable)
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine;

    fn b64(s: &str) -> String {
        base64::engine::general_purpose::STANDARD.encode(s)
    }

    #[test]
    fn metadata_needs_a_certificate() {
        let md = r#"<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" entityID="https://idp"><md:IDPSSODescriptor><md:KeyDescriptor use="signing"><ds:KeyInfo xmlns:ds="http://www.w3.org/2000/09/xmldsig#"><ds:X509Data><ds:X509Certificate>
            MIIBxz==
        </ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor></md:IDPSSODescriptor></md:EntityDescriptor>"#;
        assert_eq!(metadata_certificates(&b64(md)).unwrap(), vec!["MIIBxz==".to_string()]);
        assert_eq!(metadata_certificates(&b64("<md:EntityDescriptor xmlns:md=\"x\"/>")), Err(SamlError::NoCertificate));
        assert!(matches!(metadata_certificates(&b64("<Response/>")), Err(SamlError::WrongRoot(..))));
        assert_eq!(metadata_certificates("%%%"), Err(SamlError::NotBase64));
    }

    #[test]
    fn no_assertion_is_accepted() {
        assert_eq!(check_assertion(&b64("<samlp:Response xmlns:samlp=\"p\"><Assertion/></samlp:Response>")), Err(SamlError::Unsigned));
        assert_eq!(
            check_assertion(&b64("<samlp:Response xmlns:samlp=\"p\"><ds:Signature xmlns:ds=\"d\"/></samlp:Response>")),
            Err(SamlError::Unverifiable)
        );
        assert!(check_assertion(&b64("<a><b></a>")).is_err());
    }
}
