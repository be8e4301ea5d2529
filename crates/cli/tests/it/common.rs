//! The CLI's test fixtures: the shared kit (`bulwark-testkit`) bound to the
//! `bulwark` binary this crate builds.

use std::net::SocketAddr;
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::Duration;

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

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A loopback SMTP sink (Python's aiosmtpd) writing each message it takes as a JSON line; stopped when dropped.
pub struct Smtp(std::process::Child);
impl Drop for Smtp {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

pub fn smtp_sink(port: u16, log: &Path) -> Smtp {
    // The one sink the browser tests use too; it runs until its stdin closes.
    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../tests/fixtures/smtp_sink.py"
    );
    let mut child = Command::new("python3")
        .args([script, &port.to_string(), log.to_str().unwrap()])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("python3");
    let line =
        bulwark_testkit::read_line_within(child.stdout.take().unwrap(), Duration::from_secs(30));
    assert_eq!(
        line.trim(),
        "ready",
        "the SMTP test server did not start; install it with `python3 -m pip install aiosmtpd`"
    );
    Smtp(child)
}
