//! Generated shop customers across countries, deterministic from a seed, for
//! the discovery, scope and import tests: each knows where it lives, so a
//! test can count the ground truth per jurisdiction itself.

/// Where a generated customer lives, and how a shop would write it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Place {
    pub country: &'static str,
    /// ISO 3166-2 code, when the shop keeps the region.
    pub subdivision: Option<&'static str>,
    /// The region as a shop's address form writes it.
    pub region_name: Option<&'static str>,
    pub calling_code: &'static str,
    pub city: &'static str,
}

impl Place {
    /// The jurisdiction code the obligations engine uses.
    pub fn jurisdiction(&self) -> &'static str {
        self.subdivision.unwrap_or(self.country)
    }
}

pub const PLACES: &[Place] = &[
    Place {
        country: "US",
        subdivision: Some("US-CA"),
        region_name: Some("California"),
        calling_code: "1",
        city: "San Francisco",
    },
    Place {
        country: "US",
        subdivision: Some("US-NY"),
        region_name: Some("New York"),
        calling_code: "1",
        city: "New York",
    },
    Place {
        country: "US",
        subdivision: Some("US-TX"),
        region_name: Some("Texas"),
        calling_code: "1",
        city: "Austin",
    },
    Place {
        country: "CA",
        subdivision: Some("CA-QC"),
        region_name: Some("Quebec"),
        calling_code: "1",
        city: "Montréal",
    },
    Place {
        country: "CA",
        subdivision: Some("CA-ON"),
        region_name: Some("Ontario"),
        calling_code: "1",
        city: "Toronto",
    },
    Place {
        country: "DE",
        subdivision: Some("DE-BY"),
        region_name: Some("Bayern"),
        calling_code: "49",
        city: "München",
    },
    Place {
        country: "DE",
        subdivision: None,
        region_name: None,
        calling_code: "49",
        city: "Berlin",
    },
    Place {
        country: "GB",
        subdivision: None,
        region_name: None,
        calling_code: "44",
        city: "London",
    },
    Place {
        country: "FR",
        subdivision: None,
        region_name: None,
        calling_code: "33",
        city: "Lyon",
    },
    Place {
        country: "IE",
        subdivision: None,
        region_name: None,
        calling_code: "353",
        city: "Dublin",
    },
];

const FIRST: &[&str] = &[
    "Ada", "Grace", "Alan", "Edsger", "Barbara", "Donald", "Frances", "Ken", "Radia", "Niklaus",
    "Margaret", "Dennis",
];
const LAST: &[&str] = &[
    "Lovelace", "Hopper", "Turing", "Dijkstra", "Liskov", "Knuth", "Allen", "Thompson", "Perlman",
    "Wirth", "Hamilton", "Ritchie",
];
const STREETS: &[&str] = &[
    "High Street",
    "Main Street",
    "Hauptstraße",
    "Rue de la Paix",
    "Elm Road",
    "Station Road",
];

/// One generated customer. Every text value carries the customer's number,
/// so a test can grep output for any of them.
#[derive(Debug, Clone)]
pub struct Person {
    /// 1-based.
    pub n: u64,
    pub first: String,
    pub last: String,
    pub email: String,
    pub phone: String,
    pub home: Place,
    /// A second address in another country, for some.
    pub second: Option<Place>,
    pub street: String,
    pub postcode: String,
    pub dob: Option<String>,
    pub tax_id: Option<String>,
    /// Has placed an order.
    pub orders: u32,
    pub ip: String,
}

/// A small deterministic generator (SplitMix64): tests need the same
/// people on every run, not randomness.
pub struct Gen(u64);

impl Gen {
    pub fn new(seed: u64) -> Gen {
        Gen(seed)
    }
    pub fn draw(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    pub fn below(&mut self, n: u64) -> u64 {
        self.draw() % n.max(1)
    }
    pub fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
}

/// `count` customers from `seed`.
pub fn people(count: u64, seed: u64) -> Vec<Person> {
    let mut g = Gen::new(seed);
    (1..=count)
        .map(|n| {
            let home = PLACES[g.below(PLACES.len() as u64) as usize];
            let second = g
                .chance(5)
                .then(|| PLACES[g.below(PLACES.len() as u64) as usize])
                .filter(|p| p.jurisdiction() != home.jurisdiction());
            let first = FIRST[g.below(FIRST.len() as u64) as usize];
            let last = LAST[g.below(LAST.len() as u64) as usize];
            Person {
                n,
                first: format!("{first}{n}"),
                last: format!("{last}{n}"),
                email: format!(
                    "{}.{}{n}@example.org",
                    first.to_lowercase(),
                    last.to_lowercase()
                ),
                phone: format!("+{} {:03} {:07}", home.calling_code, 200 + g.below(700), n),
                street: format!(
                    "{} {}",
                    1 + n % 200,
                    STREETS[g.below(STREETS.len() as u64) as usize]
                ),
                postcode: format!("{:05}", 10_000 + n % 89_999),
                dob: g.chance(70).then(|| {
                    format!(
                        "{}-{:02}-{:02}",
                        1950 + g.below(50),
                        1 + g.below(12),
                        1 + g.below(28)
                    )
                }),
                tax_id: g.chance(20).then(|| format!("TX{n:09}")),
                orders: if g.chance(60) {
                    1 + g.below(3) as u32
                } else {
                    0
                },
                ip: format!("198.51.{}.{}", n / 250 % 250, 1 + n % 250),
                home,
                second,
            }
        })
        .collect()
}
