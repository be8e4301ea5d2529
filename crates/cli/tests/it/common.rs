//! The CLI's test fixtures: the shared kit (`bulwark-testkit`) bound to the
//! `bulwark` binary this crate builds.

use std::net::SocketAddr;
use std::path::Path;
use std::process::{Command, Output};

pub use bulwark_testkit::{
    http, http_raw, parse_response, stderr, stdout, tempdir, wait_until, Server,
};

fn binary() -> bulwark_testkit::Bulwark {
    bulwark_testkit::Bulwark::new(env!("CARGO_BIN_EXE_bulwark"))
}

/// A `bulwark` command with the test passphrase.
pub fn bulwark() -> Command {
    binary().cmd()
}

pub fn run(args: &[&str]) -> Output {
    binary().run(args)
}

/// `bulwark init` with a cheap KDF; returns the admin key.
pub fn init(dir: &Path) -> String {
    binary().init(dir)
}

/// `Server::start(dir, extra, env)`: `bulwark serve` on an ephemeral port.
pub trait Start {
    fn start(dir: &Path, extra: &[&str], env: &[(&str, &str)]) -> Server;
}

impl Start for Server {
    fn start(dir: &Path, extra: &[&str], env: &[(&str, &str)]) -> Server {
        binary().serve(dir, extra, env)
    }
}

/// `cmd.deadline()`: the command's output, failing the test if it takes
/// longer than the kit's command deadline.
pub trait Deadline {
    fn deadline(&mut self) -> Output;
}

impl Deadline for Command {
    fn deadline(&mut self) -> Output {
        bulwark_testkit::output_within(self, bulwark_testkit::COMMAND_DEADLINE)
    }
}

/// A key with `scopes`, issued over the API by `admin`.
pub fn create_key(addr: SocketAddr, admin: &str, scopes: &[&str]) -> String {
    let (s, v) = http(
        addr,
        "POST",
        "/v1/keys",
        Some(admin),
        &[],
        Some(&serde_json::json!({"name": "test", "scopes": scopes})),
    )
    .unwrap();
    assert_eq!(s, 201, "{v}");
    v["key"].as_str().unwrap().to_owned()
}

/// Enrols operator `id` with `roles` in data directory `d` and signs them in
/// with `bulwark login`; returns the CLI session token (for `BULWARK_SESSION`).
/// Once per operator and test: each sign-in spends a TOTP step.
pub fn operator_session(d: &Path, id: &str, roles: &[bulwark_access::OperatorRole]) -> String {
    let store = bulwark_testkit::reopen(d);
    let secret = bulwark_testkit::enrolled_operator(&store, id, roles);
    drop(store);
    let code = secret
        .code_at(bulwark_testkit::operators::now_secs() + 30)
        .unwrap();
    let o = bulwark()
        .env(
            "BULWARK_OPERATOR_PASSWORD",
            bulwark_testkit::OPERATOR_PASSWORD,
        )
        .args([
            "login",
            "--data-dir",
            d.to_str().unwrap(),
            "--operator",
            id,
            "--code",
            &code,
            "--print-token",
        ])
        .deadline();
    assert!(o.status.success(), "login failed: {}", stderr(&o));
    stdout(&o).trim().to_owned()
}

/// A mapping file `shop-json` in the data directory: the store's own JSON log
/// (`ts`, `client`, `uri`, `agent`), read through `formats/`.
pub fn write_shop_json_mapping(data_dir: &Path) {
    std::fs::create_dir_all(data_dir.join("formats")).unwrap();
    std::fs::write(
        data_dir.join("formats/shop-json.yml"),
        "name: shop-json\ntitle: The shop's own JSON log\ndetect: [client, uri]\nfields:\n  \
         \"@timestamp\": {from: ts, as: time}\n  source.ip: {from: client, as: address}\n  \
         url.original: {from: uri, as: target}\n  user_agent.original: agent\n",
    )
    .unwrap();
}
