//! Renders a sample post-incident review and response plan to stdout:
//! `cargo run -p bulwark-incident --example render -- report|plan [md|html]`.

use bulwark_incident::*;
use bulwark_model::DataElement;
use time::macros::datetime;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let what = args.first().map(String::as_str).unwrap_or("report");
    let format: Format = args.get(1).map(String::as_str).unwrap_or("md").parse()?;
    let set = PlaybookSet::builtin()?;

    let mut n = NewIncident::new(
        "Skimmer on checkout",
        Severity::Sev1,
        Classification::WebSkimmer,
        datetime!(2026-11-20 08:00 UTC),
        datetime!(2026-11-20 09:00 UTC),
    );
    n.elements = [DataElement::CardNumber, DataElement::Name].into();
    n.jurisdictions = ["US-CA".to_string(), "DE".to_string()].into();
    let opened = datetime!(2026-11-20 09:10 UTC);
    let (mut inc, e) = Incident::open(7, n, "alice", opened)?;
    let mut timeline = vec![e];
    let applied = apply_playbook(&mut inc, set.get("web_skimmer")?, &[], "alice", opened)?;
    timeline.push(applied.entry);
    let mut tasks = applied.tasks;
    let contained = datetime!(2026-11-20 10:15 UTC);
    timeline.push(inc.advance(Phase::Contained, None, "bob", contained)?);
    timeline.extend(schedule(&inc, &mut tasks, "bob", contained)?);
    timeline.push(complete_task(
        &mut tasks[0],
        None,
        "alice",
        datetime!(2026-11-20 09:25 UTC),
    )?);

    match what {
        "plan" => {
            let team = Team {
                people: vec![Person {
                    id: "alice".into(),
                    name: "Alice Ng".into(),
                    email: Some("alice@shop.example".into()),
                    phone: None,
                    other: None,
                    operator: None,
                }],
                roles: [(
                    Role::IncidentCommander,
                    Staffing {
                        primary: "alice".into(),
                        deputies: vec![],
                    },
                )]
                .into(),
                escalation: vec!["alice".into()],
            };
            let plan = render_plan(
                &team,
                set.all(),
                &[],
                &[],
                &PlanUpkeep::default(),
                opened,
                format,
            )?;
            print!("{}", plan.text);
        }
        _ => print!(
            "{}",
            render_report(&inc, &timeline, &tasks, None, None, format)?
        ),
    }
    Ok(())
}
