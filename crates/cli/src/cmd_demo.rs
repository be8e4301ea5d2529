//! `bulwark demo`: a demo data directory with a few thousand synthetic
//! customers across jurisdictions, served, with the web-skimmer drill running
//! against it and a demo team acting on the drill's incident — so a newcomer
//! sees detection, the incident, scope, deadlines and letters in minutes.
//! Everything the drill does is a drill's (marked, unsent, erased at its
//! end); the demo customers are plain records of the demo directory.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;
use bulwark_incident::ContainmentAction;
use bulwark_store::Contain;
use bulwark_store::{NewCustomer, Store};
use clap::{Args, Parser};

use crate::cmd_drill::parse_speed;

#[derive(Args)]
pub struct DemoArgs {
    /// The demo's data directory (created on the first run).
    #[arg(long, default_value = "./bulwark-demo")]
    data_dir: PathBuf,
    /// How many synthetic customers the store holds.
    #[arg(long, default_value_t = 3000)]
    customers: u32,
    /// How much faster than real time the drill runs.
    #[arg(long, default_value = "60x", value_parser = parse_speed)]
    speed: u32,
    #[arg(long, default_value = "127.0.0.1:8080")]
    listen: SocketAddr,
    /// Leave the drill's incident to you: no demo team acts on it.
    #[arg(long)]
    no_team: bool,
}

/// Where the demo's customers live, in turn.
const WHERE: [(&str, Option<&str>); 14] = [
    ("US", Some("US-CA")),
    ("US", Some("US-NY")),
    ("US", Some("US-TX")),
    ("US", Some("US-FL")),
    ("US", Some("US-WA")),
    ("US", Some("US-IL")),
    ("US", Some("US-MA")),
    ("CA", Some("CA-ON")),
    ("GB", None),
    ("DE", None),
    ("FR", None),
    ("NL", None),
    ("IE", None),
    ("ES", None),
];

const FIRST: [&str; 10] = [
    "Ada", "Bruno", "Chloé", "Dev", "Elif", "Farah", "Goran", "Hana", "Ines", "Jonas",
];
const LAST: [&str; 10] = [
    "Lovelace", "Moreau", "Nakamura", "Okafor", "Petrov", "Quinn", "Rossi", "Schmidt", "Tanaka",
    "Varga",
];

fn demo_customer(n: u32) -> NewCustomer {
    let (country, sub) = WHERE[n as usize % WHERE.len()];
    let first = FIRST[n as usize % FIRST.len()];
    let last = LAST[(n as usize / FIRST.len()) % LAST.len()];
    let mut fields = std::collections::BTreeMap::new();
    fields.insert("name".into(), serde_json::json!(format!("{first} {last}")));
    // `.invalid` (RFC 2606): nothing sent to it can be delivered.
    fields.insert(
        "email".into(),
        serde_json::json!(format!("demo-{n}@example.invalid")),
    );
    fields.insert(
        "postal_address".into(),
        serde_json::json!(format!("{} Demo Street, {}", n + 1, sub.unwrap_or(country))),
    );
    NewCustomer {
        external_id: Some(format!("demo-{n}")),
        residency: bulwark_model::Residency {
            country: country.into(),
            subdivision: sub.map(str::to_owned),
        },
        language: None,
        fields,
    }
}

#[derive(Parser)]
struct Serve {
    #[command(flatten)]
    a: crate::cmd_misc::ServeArgs,
}

pub fn demo(a: DemoArgs) -> anyhow::Result<ExitCode> {
    let fresh = !a.data_dir.join("bulwark.db").exists();
    let secret = if fresh {
        crate::secrets::new_secret()?
    } else {
        crate::secrets::unlock()?
    };
    let dir = a.data_dir.display().to_string();
    let listen = a.listen.to_string();
    let mut args = vec!["serve", "--data-dir", &dir, "--listen", &listen];
    if fresh {
        args.push("--init");
    }
    let serve = Serve::try_parse_from(args).context("the demo's serve settings")?;
    let DemoArgs {
        customers,
        speed,
        no_team,
        listen,
        ..
    } = a;
    let prepare: crate::cmd_misc::Prepare = Box::new(move |state| {
        let store = state.store.clone();
        seed(&store, customers)?;
        let set = store.dir().scenarios()?;
        let scenario = set
            .get("web-skimmer")
            .context("the web-skimmer scenario is missing")?;
        let run = store
            .start_drill(
                &scenario.id,
                serde_json::to_string(scenario)?,
                speed,
                &crate::operator().id,
            )
            .wait_blocking()?;
        println!(
            "\nDemo: drill {run} ({}) runs at {speed}x against {customers} demo customers.",
            scenario.title
        );
        println!(
            "  Follow it:   http://{listen}/drills/{run}   (sign in with the enrolment link above)"
        );
        println!("  Or here:     bulwark drill status {run} --data-dir <this directory>");
        if !no_team {
            std::thread::Builder::new()
                .name("demo-team".into())
                .spawn(move || team(store, run, listen))
                .map(|_| ())
                .context("starting the demo team")?;
        }
        Ok(())
    });
    crate::cmd_misc::serve_with(serve.a, secret, Some(prepare))
}

/// Tops the store up to `n` demo customers, and gives it a checkout asset
/// (the system a skimmer reads) when it has no asset inventory.
fn seed(store: &Store, n: u32) -> anyhow::Result<()> {
    let have = store.list_customers(None, n as usize)?.len() as u32;
    if have < n {
        eprintln!("Creating {} demo customers…", n - have);
        let actor = crate::operator();
        for i in have..n {
            store
                .create_customer(&demo_customer(i), &actor)?
                .wait_blocking()?;
        }
    }
    if store.dir().assets()?.is_empty() {
        let elements = [
            "name",
            "email",
            "postal_address",
            "card_number",
            "card_expiry",
            "card_security_code",
        ]
        .iter()
        .filter_map(|e| e.parse().ok())
        .collect();
        store.dir().save_assets(&[bulwark_incident::Asset {
            name: "checkout".into(),
            elements,
            customers: u64::from(n),
            hosting: "demo".into(),
            owner: "ecommerce".into(),
            facts: None,
        }])?;
    }
    Ok(())
}

/// A demo team: once the drill's incident is open, it removes the script
/// (containment, rehearsed), notes what it did and computes the scope from
/// the checkout asset, saying each step and where to look.
fn team(store: Store, run: u64, listen: SocketAddr) {
    let actor = "demo:team";
    let incident = loop {
        std::thread::sleep(Duration::from_millis(500));
        match store.drill_run(run) {
            Ok(r) if r.state == bulwark_store::DrillState::Finished => return,
            Ok(_) => {}
            Err(_) => return,
        }
        let Ok(ids) = store.drill_incidents(run) else {
            return;
        };
        let Ok(alerts) = store.drill_alerts(run) else {
            return;
        };
        if let (Some(id), true) = (ids.first(), alerts.len() >= 2) {
            break *id;
        }
    };
    println!(
        "  Detected: drill incident {incident} is open — http://{listen}/incidents/{incident}"
    );
    let contained = store.contain_blocking(
        incident,
        Contain {
            action: ContainmentAction::Webhook {
                event: "checkout.script_removed".into(),
            },
            target: None,
            undo: false,
            reason: "remove the injected script from the tag manager".into(),
        },
        actor,
        &|_| Ok(String::new()),
    );
    if let Err(e) = contained {
        eprintln!("  demo team: containment not recorded: {e}");
        return;
    }
    let _ = store
        .note_incident(
            incident,
            "Demo team: the tag manager's new script is removed and its body kept as evidence."
                .into(),
            actor,
        )
        .wait_blocking();
    let scoped = store
        .dir()
        .asset("checkout")
        .map_err(|e| e.to_string())
        .and_then(|asset| {
            let mut result = store.scope_from_asset(&asset).map_err(|e| e.to_string())?;
            // A drill's scope holds only its own synthetic customers.
            let mine: std::collections::HashSet<String> = store
                .drill_customers(run)
                .map_err(|e| e.to_string())?
                .iter()
                .map(|u| u.to_string())
                .collect();
            result.retain(|c| mine.contains(&c.id));
            let basis = bulwark_store::ScopeBasis::Asset(asset);
            let summary = result.summary(&basis, false, false);
            store
                .save_scope(incident, &result, &summary, actor)
                .map_err(|e| e.to_string())?
                .wait_blocking()
                .map_err(|e| e.to_string())?;
            Ok(summary)
        });
    match scoped {
        Ok(s) => {
            println!(
                "  Scoped: {} customers in {} jurisdictions — deadlines at http://{listen}/incidents/{incident}/deadlines",
                s.customers,
                s.by_jurisdiction.len()
            );
            println!("  Letters: render and approve them at http://{listen}/incidents/{incident}/letters (a drill's letters are never sent)");
        }
        Err(e) => eprintln!("  demo team: scope not computed: {e}"),
    }
}
