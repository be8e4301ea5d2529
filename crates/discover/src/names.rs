//! What a column's name suggests. Names are split into lower-case words at
//! `_`, `-`, `.`, spaces and camelCase (`billingEmail` → `billing email`), and
//! matched against each element's words; a bare `name` or `address` is a
//! weaker hint than `first_name` or `street`.

use bulwark_model::DataElement;
use serde::Serialize;

/// How strongly a name points at an element.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Strength {
    Weak,
    Strong,
}

/// A name's hint: the element and how strongly.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct NameHint {
    pub element: DataElement,
    pub strength: Strength,
}

/// What a free-text column looks like by name (notes, comments): personal
/// data found there is a finding of its own.
pub fn is_free_text(name: &str) -> bool {
    let w = words(name);
    let has = |x: &str| w.iter().any(|t| t == x);
    [
        "note",
        "notes",
        "comment",
        "comments",
        "message",
        "remarks",
        "description",
        "memo",
        "instructions",
        "customer_note",
    ]
    .iter()
    .any(|x| has(x))
}

/// Lower-case words of a column name.
pub fn words(name: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut prev_lower = false;
    for c in name.chars().take(128) {
        if c == '_' || c == '-' || c == '.' || c == ' ' || c == '$' || c == '[' || c == ']' {
            if !cur.is_empty() {
                out.push(std::mem::take(&mut cur));
            }
            prev_lower = false;
            continue;
        }
        if c.is_uppercase() && prev_lower && !cur.is_empty() {
            out.push(std::mem::take(&mut cur));
        }
        prev_lower = c.is_lowercase() || c.is_ascii_digit();
        cur.extend(c.to_lowercase());
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

/// The hint of a column name, if it suggests personal data.
pub fn hint(name: &str) -> Option<NameHint> {
    use DataElement as E;
    use Strength::{Strong, Weak};
    let w = words(name);
    let joined = w.join("");
    let has = |x: &str| w.iter().any(|t| t == x);
    let any = |xs: &[&str]| xs.iter().any(|x| has(x));
    let glued = |xs: &[&str]| xs.iter().any(|x| joined.contains(x));
    let h = |element, strength| Some(NameHint { element, strength });
    // Order matters: the more specific names first.
    if glued(&[
        "ccnumber",
        "cardnumber",
        "ccnum",
        "creditcard",
        "cardno",
        "pan",
    ]) && !has("company")
        && !glued(&["panel", "span", "expand", "japan", "pane"])
    {
        return h(E::CardNumber, Strong);
    }
    if any(&["cvv", "cvv2", "cvc", "cvc2", "csc", "cid"])
        || glued(&["securitycode", "cardcode", "cardverification"])
    {
        return h(E::CardSecurityCode, Strong);
    }
    if glued(&[
        "ccexp",
        "cardexp",
        "expiry",
        "expiration",
        "expmonth",
        "expyear",
    ]) {
        return h(E::CardExpiry, Strong);
    }
    if any(&["password", "passwd", "pwd", "pass"])
        || glued(&["passwordhash", "userpass", "passhash"])
    {
        return h(E::Password, Strong);
    }
    if any(&["iban", "bic", "swift"])
        || glued(&["accountnumber", "bankaccount", "sortcode", "routingnumber"])
    {
        return h(E::BankAccount, Strong);
    }
    if any(&[
        "ssn", "nino", "dni", "nif", "nie", "pesel", "bsn", "cpf", "aadhaar",
    ]) || glued(&["nationalid", "socialsecurity", "idnumber", "personnummer"])
    {
        return h(E::NationalId, Strong);
    }
    if any(&["passport"]) {
        return h(E::Passport, Strong);
    }
    if glued(&[
        "driverslicense",
        "driverlicense",
        "drivinglicence",
        "driverslicence",
        "licensenumber",
        "licencenumber",
    ]) {
        return h(E::DriversLicense, Strong);
    }
    if any(&["vat", "tin", "ein"]) || glued(&["taxid", "taxnumber", "vatnumber", "taxvat"]) {
        return h(E::TaxId, Strong);
    }
    if any(&["dob", "birthday", "birthdate"]) || glued(&["dateofbirth", "birthdate", "birthday"]) {
        return h(E::DateOfBirth, Strong);
    }
    if any(&["email", "mail", "emailaddress"]) || glued(&["email"]) {
        return h(E::Email, Strong);
    }
    if any(&[
        "phone",
        "telephone",
        "tel",
        "mobile",
        "cell",
        "fax",
        "msisdn",
    ]) || glued(&["phonenumber", "telephone"])
    {
        return h(E::Phone, Strong);
    }
    if any(&[
        "street",
        "address1",
        "address2",
        "addr",
        "postcode",
        "zip",
        "zipcode",
        "postalcode",
        "city",
        "town",
    ]) || glued(&[
        "streetaddress",
        "addressline",
        "postalcode",
        "postcode",
        "zipcode",
    ]) {
        return h(E::PostalAddress, Strong);
    }
    if any(&["address", "region", "county", "state"]) {
        return h(E::PostalAddress, Weak);
    }
    if any(&["ip", "ipaddress", "remoteip"])
        || glued(&["ipaddress", "remoteaddr", "remoteip", "clientip", "lastip"])
    {
        return h(E::IpAddress, Strong);
    }
    if any(&[
        "lat",
        "lng",
        "lon",
        "latitude",
        "longitude",
        "geo",
        "geolocation",
    ]) {
        return h(E::Geolocation, Strong);
    }
    if any(&[
        "diagnosis",
        "medical",
        "allergy",
        "allergies",
        "prescription",
        "medication",
        "health",
        "disability",
        "condition",
        "symptoms",
    ]) {
        return h(E::Health, Strong);
    }
    if any(&[
        "fingerprint",
        "biometric",
        "faceprint",
        "retina",
        "voiceprint",
    ]) || glued(&["faceid", "facetemplate"])
    {
        return h(E::Biometric, Strong);
    }
    if glued(&[
        "firstname",
        "lastname",
        "fullname",
        "surname",
        "givenname",
        "familyname",
        "middlename",
        "displayname",
        "billingname",
        "shippingname",
    ]) || any(&["fname", "lname", "surname"])
    {
        return h(E::Name, Strong);
    }
    if has("name")
        && !any(&[
            "product",
            "sku",
            "file",
            "table",
            "item",
            "category",
            "attribute",
            "store",
            "website",
            "company",
            "group",
            "code",
            "option",
            "method",
            "type",
            "title",
        ])
    {
        return h(E::Name, Weak);
    }
    if any(&["username", "login", "nickname", "handle"])
        || glued(&["username", "userlogin", "screenname"])
    {
        return h(E::Username, Strong);
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use bulwark_model::DataElement as E;

    fn el(n: &str) -> Option<E> {
        hint(n).map(|h| h.element)
    }

    #[test]
    fn names_of_real_shop_schemas() {
        assert_eq!(words("billingEmail"), vec!["billing", "email"]);
        assert_eq!(el("customer_email"), Some(E::Email));
        assert_eq!(el("user_email"), Some(E::Email));
        assert_eq!(el("cc_number"), Some(E::CardNumber));
        assert_eq!(el("cc_cvv"), Some(E::CardSecurityCode));
        assert_eq!(el("user_pass"), Some(E::Password));
        assert_eq!(el("password_hash"), Some(E::Password));
        assert_eq!(el("dob"), Some(E::DateOfBirth));
        assert_eq!(el("firstname"), Some(E::Name));
        assert_eq!(el("billing_last_name"), Some(E::Name));
        assert_eq!(el("telephone"), Some(E::Phone));
        assert_eq!(el("postcode"), Some(E::PostalAddress));
        assert_eq!(el("remote_ip"), Some(E::IpAddress));
        assert_eq!(el("taxvat"), Some(E::TaxId));
        assert_eq!(el("product_name"), None);
        assert_eq!(el("company"), None);
        assert_eq!(el("created_at"), None);
        assert_eq!(el("sku"), None);
        assert!(
            is_free_text("customer_note") && is_free_text("comments") && !is_free_text("email")
        );
    }
}
