//! Typing test card data into the payment form (no submit), the way a
//! customer would: focus, keystrokes, Tab. Keystroke skimmers listen for
//! `input`, `keyup`, `change` or `blur` on the card fields and only then load
//! or send anything; a crawl that only looks never sees them fire. Done with
//! protocol input events, not page JavaScript.

use chromiumoxide::cdp::browser_protocol::dom::{
    FocusParams, GetAttributesParams, NodeId, QuerySelectorAllParams,
};
use chromiumoxide::cdp::browser_protocol::input::{DispatchKeyEventParams, DispatchKeyEventType};
use chromiumoxide::Page;

/// Most fields typed into.
const MAX_FIELDS: usize = 10;

/// The test value for a field, by its `autocomplete`, `name`, `id` and
/// `placeholder` (the Visa test number, a future expiry, a CVC, a name).
fn test_value(attrs: &[String]) -> Option<&'static str> {
    let mut hints = String::new();
    let mut kind = String::new();
    for kv in attrs.chunks(2) {
        let (Some(k), Some(v)) = (kv.first(), kv.get(1)) else {
            continue;
        };
        match k.to_ascii_lowercase().as_str() {
            "autocomplete" | "name" | "id" | "placeholder" | "aria-label" | "data-stripe" => {
                hints.push_str(&v.to_ascii_lowercase());
                hints.push(' ');
            }
            "type" => kind = v.to_ascii_lowercase(),
            _ => {}
        }
    }
    if !matches!(kind.as_str(), "" | "text" | "tel" | "number" | "password") {
        return None;
    }
    let has = |words: &[&str]| words.iter().any(|w| hints.contains(w));
    if has(&[
        "cc-number",
        "cardnumber",
        "card-number",
        "card_number",
        "cc_number",
        "ccnumber",
        "cc-num",
        "card number",
    ]) {
        Some("4111111111111111")
    } else if has(&["cc-csc", "cvv", "cvc", "csc", "security code"]) {
        Some("123")
    } else if has(&[
        "cc-exp",
        "expiry",
        "expiration",
        "exp-date",
        "exp_date",
        "card-exp",
    ]) {
        Some("12/30")
    } else if has(&[
        "cc-name",
        "cardholder",
        "card-holder",
        "name on card",
        "nameoncard",
    ]) {
        Some("Test Monitor")
    } else {
        None
    }
}

async fn key(
    page: &Page,
    t: DispatchKeyEventType,
    key: &str,
    text: Option<&str>,
    code: Option<i64>,
) {
    let mut k = DispatchKeyEventParams::new(t);
    k.key = Some(key.to_owned());
    k.text = text.map(str::to_owned);
    k.windows_virtual_key_code = code;
    let _ = page.execute(k).await;
}

/// Types into the card fields under `root`; returns how many it typed into.
pub(crate) async fn type_into_payment_fields(page: &Page, root: NodeId) -> usize {
    let Ok(found) = page
        .execute(QuerySelectorAllParams::new(root, "input"))
        .await
    else {
        return 0;
    };
    let mut typed = 0;
    for node in found.result.node_ids.iter().take(200) {
        if typed >= MAX_FIELDS {
            break;
        }
        let Ok(a) = page.execute(GetAttributesParams::new(*node)).await else {
            continue;
        };
        let Some(value) = test_value(&a.result.attributes) else {
            continue;
        };
        if page
            .execute(FocusParams::builder().node_id(*node).build())
            .await
            .is_err()
        {
            continue;
        }
        for ch in value.chars() {
            let s = ch.to_string();
            key(page, DispatchKeyEventType::KeyDown, &s, Some(&s), None).await;
            key(page, DispatchKeyEventType::KeyUp, &s, None, None).await;
        }
        // Leave the field: `change` and `blur` fire.
        key(page, DispatchKeyEventType::RawKeyDown, "Tab", None, Some(9)).await;
        key(page, DispatchKeyEventType::KeyUp, "Tab", None, Some(9)).await;
        typed += 1;
    }
    typed
}

#[cfg(test)]
mod tests {
    use super::test_value;

    fn attrs(pairs: &[(&str, &str)]) -> Vec<String> {
        pairs
            .iter()
            .flat_map(|(k, v)| [k.to_string(), v.to_string()])
            .collect()
    }

    #[test]
    fn card_fields_get_test_values_and_others_none() {
        assert_eq!(
            test_value(&attrs(&[("name", "cc_number")])),
            Some("4111111111111111")
        );
        assert_eq!(
            test_value(&attrs(&[("autocomplete", "cc-csc"), ("type", "tel")])),
            Some("123")
        );
        assert_eq!(test_value(&attrs(&[("id", "card-exp")])), Some("12/30"));
        assert_eq!(
            test_value(&attrs(&[("autocomplete", "cc-name")])),
            Some("Test Monitor")
        );
        assert_eq!(
            test_value(&attrs(&[("name", "email"), ("type", "email")])),
            None
        );
        assert_eq!(
            test_value(&attrs(&[("name", "cc_number"), ("type", "hidden")])),
            None
        );
        assert_eq!(test_value(&attrs(&[("name", "q")])), None);
        assert_eq!(test_value(&attrs(&[("name", "company")])), None);
    }
}
