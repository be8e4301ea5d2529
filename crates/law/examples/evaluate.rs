//! Evaluates a scenario file against the built-in catalogue and prints the
//! result as JSON: `cargo run -p bulwark-law --example evaluate -- scenario.json`.
//! (The real front end is `bulwark obligations --scenario`; this is for
//! catalogue editors checking a change.)

use std::process::ExitCode;

use bulwark_law::{evaluate, Catalogue, Scenario};

fn main() -> ExitCode {
    let Some(path) = std::env::args().nth(1) else {
        eprintln!("usage: evaluate SCENARIO.json");
        return ExitCode::from(2);
    };
    let run = || -> Result<String, Box<dyn std::error::Error>> {
        let text = std::fs::read_to_string(&path)?;
        let scenario: Scenario = serde_json::from_str(&text)?;
        let evaluation = evaluate(&Catalogue::builtin()?, &scenario)?;
        Ok(serde_json::to_string_pretty(&evaluation)?)
    };
    match run() {
        Ok(json) => {
            println!("{json}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("{path}: {e}");
            ExitCode::FAILURE
        }
    }
}
