//! The critical-asset inventory as plan input, and the ranking the seeds ask
//! for: "what data do you hold that would be devastating if compromised?"
//!
//! Rank = sensitivity × volume, where sensitivity is the sum of the element
//! weights below (held elements compound: a name next to a national id is
//! worse than either alone) and volume is the number of customers.

use std::collections::BTreeSet;

use bulwark_model::DataElement;
use serde::{Deserialize, Serialize};

/// How much harm one element does when exposed, 1 (public-ish) to 10 (enables
/// fraud or identity theft directly, or cannot be changed). This is the one
/// place the weights live; the plan prints them so the ranking can be checked.
pub fn sensitivity_weight(e: DataElement) -> u32 {
    match e {
        // Cannot be changed, or directly enables fraud.
        DataElement::CardSecurityCode | DataElement::NationalId | DataElement::Biometric => 10,
        DataElement::CardNumber | DataElement::Password | DataElement::Health => 9,
        DataElement::BankAccount | DataElement::Passport | DataElement::TaxId => 8,
        DataElement::DriversLicense | DataElement::SecurityQa => 7,
        // Identity-theft helpers.
        DataElement::DateOfBirth => 5,
        DataElement::CardExpiry | DataElement::Geolocation => 4,
        DataElement::PostalAddress | DataElement::PurchaseHistory => 3,
        // Contact and account identifiers: phishing fuel.
        DataElement::Email | DataElement::Phone | DataElement::Username => 2,
        DataElement::Name | DataElement::IpAddress => 1,
    }
}

/// A system that holds customer data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Asset {
    pub name: String,
    pub elements: BTreeSet<DataElement>,
    /// How many customers' data it holds.
    pub customers: u64,
    /// Where it runs (`AWS eu-west-1`, `Shopify`, `office NAS`).
    pub hosting: String,
    pub owner: String,
}

/// An asset with its computed rank.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RankedAsset {
    pub rank: usize,
    pub asset: Asset,
    /// Sum of element weights.
    pub sensitivity: u32,
    /// `sensitivity × customers`.
    pub score: u64,
}

/// Sum of the element weights of `elements`.
pub fn sensitivity(elements: &BTreeSet<DataElement>) -> u32 {
    elements.iter().map(|e| sensitivity_weight(*e)).sum()
}

/// Ranks assets, highest score first; ties by name so the order (and the plan
/// hash) does not depend on input order.
pub fn rank_assets(assets: &[Asset]) -> Vec<RankedAsset> {
    let mut out: Vec<RankedAsset> = assets
        .iter()
        .map(|a| {
            let s = sensitivity(&a.elements);
            RankedAsset {
                rank: 0,
                asset: a.clone(),
                sensitivity: s,
                score: u64::from(s).saturating_mul(a.customers),
            }
        })
        .collect();
    out.sort_by(|a, b| {
        b.score
            .cmp(&a.score)
            .then_with(|| a.asset.name.cmp(&b.asset.name))
    });
    for (i, r) in out.iter_mut().enumerate() {
        r.rank = i + 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn asset(name: &str, elements: &[DataElement], customers: u64) -> Asset {
        Asset {
            name: name.into(),
            elements: elements.iter().copied().collect(),
            customers,
            hosting: "here".into(),
            owner: "ops".into(),
        }
    }

    #[test]
    fn ranks_by_sensitivity_times_volume() {
        use DataElement::*;
        let ranked = rank_assets(&[
            asset("newsletter", &[Email, Name], 100_000), // 3 × 100k = 300k
            asset("vault", &[Name, Email, CardNumber, NationalId], 20_000), // 22 × 20k = 440k
            asset("backup", &[Health], 10),               // 90
        ]);
        let names: Vec<&str> = ranked.iter().map(|r| r.asset.name.as_str()).collect();
        assert_eq!(names, ["vault", "newsletter", "backup"]);
        assert_eq!(ranked[0].score, 440_000);
        assert_eq!(ranked[0].rank, 1);
    }

    #[test]
    fn every_element_has_a_weight_in_range() {
        for e in DataElement::ALL {
            assert!((1..=10).contains(&sensitivity_weight(e)), "{e}");
        }
    }
}
