//! A server killed with SIGKILL mid-burst loses nothing it acknowledged.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::common::*;
use serde_json::json;

#[test]
fn acknowledged_writes_survive_sigkill() {
    let (_t, dir) = tempdir();
    let admin = init(&dir);
    let mut server = Server::start(&dir, &[], &[]);
    let writer = create_key(server.addr, &admin, &["vault:write"]);
    let acked: Arc<Mutex<HashMap<String, String>>> = Arc::default();
    let stop = Arc::new(AtomicBool::new(false));
    let mut threads = Vec::new();
    for t in 0..8 {
        let (acked, stop, writer, addr) =
            (acked.clone(), stop.clone(), writer.clone(), server.addr);
        threads.push(std::thread::spawn(move || {
            let mut i = 0;
            while !stop.load(Ordering::Relaxed) && i < 5000 {
                let email = format!("crash-{t}-{i}@example.com");
                let body = json!({"residency": {"country": "US", "subdivision": "US-NY"}, "fields": {"email": email, "name": format!("Customer {t} {i}")}});
                match http(addr, "POST", "/v1/customers", Some(&writer), &[], Some(&body)) {
                    Ok((201, v)) => {
                        acked.lock().unwrap().insert(v["id"].as_str().unwrap().to_owned(), email);
                    }
                    _ => break, // the server died under us: this write was never acknowledged
                }
                i += 1;
            }
        }));
    }
    wait_until(Duration::from_secs(120), "300 acknowledged writes", || {
        acked.lock().unwrap().len() >= 300
    });
    server.kill9();
    stop.store(true, Ordering::Relaxed);
    for t in threads {
        t.join().unwrap();
    }
    let acked = acked.lock().unwrap().clone();
    assert!(acked.len() >= 300);

    let server = Server::start(&dir, &[], &[]);
    let reader = create_key(server.addr, &admin, &["vault:reveal:email"]);
    for (id, email) in &acked {
        let (s, v) = http(
            server.addr,
            "GET",
            &format!("/v1/customers/{id}?fields=email"),
            Some(&reader),
            &[("X-Bulwark-Purpose", "crash test")],
            None,
        )
        .unwrap();
        assert_eq!(
            s, 200,
            "acknowledged customer {id} is missing after the crash: {v}"
        );
        assert_eq!(v["fields"]["email"], email.as_str());
    }
    drop(server);
    let o = run(&["ledger", "verify", "--data-dir", dir.to_str().unwrap()]);
    assert!(
        o.status.success(),
        "ledger must verify after a crash: {}",
        stderr(&o)
    );
}
