//! The real `bulwark` binary, run as a command or as a server on an ephemeral
//! loopback port. Test crates pass the binary's path (`env!("CARGO_BIN_EXE_bulwark")`
//! is known only inside the CLI's own tests).

use std::io::{BufRead, BufReader, Read};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::dir::PASS;

/// The binary under test.
#[derive(Debug, Clone)]
pub struct Bulwark {
    pub path: PathBuf,
}

impl Bulwark {
    pub fn new(path: impl Into<PathBuf>) -> Bulwark {
        Bulwark { path: path.into() }
    }

    /// A command with the test passphrase and no inherited data directory or key file.
    pub fn cmd(&self) -> Command {
        let mut c = Command::new(&self.path);
        c.env("BULWARK_PASSPHRASE", PASS)
            .env_remove("BULWARK_KEY_FILE")
            .env_remove("BULWARK_DATA_DIR");
        c
    }

    /// Runs to completion (at most [`COMMAND_DEADLINE`]).
    pub fn run(&self, args: &[&str]) -> Output {
        output_within(self.cmd().args(args), COMMAND_DEADLINE)
    }

    /// `bulwark init` with the cheapest KDF; returns the bootstrap admin key.
    pub fn init(&self, dir: &Path) -> String {
        let o = self.run(&[
            "init",
            "--data-dir",
            dir.to_str().unwrap(),
            "--kdf-memory-mib",
            "8",
            "--kdf-iterations",
            "1",
            "--json",
        ]);
        assert!(o.status.success(), "init failed: {}", stderr(&o));
        let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
        v["admin_key"].as_str().unwrap().to_owned()
    }

    /// `bulwark serve` on `127.0.0.1:0` with `extra` arguments and environment.
    pub fn serve(&self, dir: &Path, extra: &[&str], env: &[(&str, &str)]) -> Server {
        let mut cmd = self.cmd();
        cmd.args([
            "serve",
            "--data-dir",
            dir.to_str().unwrap(),
            "--listen",
            "127.0.0.1:0",
        ])
        .args(extra)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
        for (k, v) in env {
            cmd.env(k, v);
        }
        Server::spawn(cmd)
    }
}

/// How long any one command of a test may take before the test fails.
pub const COMMAND_DEADLINE: Duration = Duration::from_secs(300);

/// Runs `cmd` with its output captured, like `Command::output`, but kills it
/// and fails the test if it has not finished within `within`.
pub fn output_within(cmd: &mut Command, within: Duration) -> Output {
    let child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(child.wait_with_output());
    });
    match rx.recv_timeout(within) {
        Ok(out) => out.unwrap(),
        Err(_) => {
            let _ = Command::new("kill")
                .arg("-KILL")
                .arg(pid.to_string())
                .status();
            panic!("{cmd:?} did not finish within {within:?}");
        }
    }
}

/// Reads one line of `stream` (a child's output, say), failing after `within`.
pub fn read_line_within(stream: impl Read + Send + 'static, within: Duration) -> String {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut line = String::new();
        let _ = BufReader::new(stream).read_line(&mut line);
        let _ = tx.send(line);
    });
    rx.recv_timeout(within)
        .unwrap_or_else(|_| panic!("no line within {within:?}"))
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// A running server; killed when dropped.
pub struct Server {
    pub child: Child,
    pub addr: SocketAddr,
    /// Everything the server printed, stdout and stderr.
    pub output: Arc<Mutex<String>>,
}

impl Server {
    /// Starts `cmd` (a `bulwark serve` with piped output) and waits, at most a
    /// minute, for it to say where it listens.
    pub fn spawn(mut cmd: Command) -> Server {
        let mut child = cmd.spawn().unwrap();
        let output = Arc::new(Mutex::new(String::new()));
        let (tx, rx) = std::sync::mpsc::channel::<SocketAddr>();
        for stream in [
            Box::new(child.stderr.take().unwrap()) as Box<dyn Read + Send>,
            Box::new(child.stdout.take().unwrap()),
        ] {
            let out = output.clone();
            let tx = tx.clone();
            std::thread::spawn(move || {
                for line in BufReader::new(stream).lines().map_while(Result::ok) {
                    if let Some(addr) = listening_on(&line) {
                        let _ = tx.send(addr);
                    }
                    let mut o = out.lock().unwrap();
                    o.push_str(&line);
                    o.push('\n');
                }
            });
        }
        let addr = match rx.recv_timeout(Duration::from_secs(60)) {
            Ok(a) => a,
            Err(_) => {
                let _ = child.kill();
                panic!("server did not start: {}", output.lock().unwrap());
            }
        };
        Server {
            child,
            addr,
            output,
        }
    }

    pub fn kill9(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// SIGTERM and wait (at most 20 s) for a clean exit, else SIGKILL.
    pub fn stop(&mut self) {
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(self.child.id().to_string())
            .status();
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        self.kill9();
    }

    pub fn output(&self) -> String {
        self.output.lock().unwrap().clone()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The address in the server's `listening on http(s)://ADDR` line.
fn listening_on(line: &str) -> Option<SocketAddr> {
    let i = line.find("listening on http")?;
    line[i..]
        .split("://")
        .nth(1)?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}
