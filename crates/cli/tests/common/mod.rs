#![allow(dead_code)]
//! Drives the real `bulwark` binary: init, serve on an ephemeral port, and a
//! minimal HTTP/1.1 client over loopback (no client library needed).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

pub const PASS: &str = "correct horse battery staple";

pub fn bulwark() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_bulwark"));
    c.env("BULWARK_PASSPHRASE", PASS)
        .env_remove("BULWARK_KEY_FILE")
        .env_remove("BULWARK_DATA_DIR");
    c
}

pub fn run(args: &[&str]) -> Output {
    bulwark().args(args).output().unwrap()
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// `bulwark init` with a cheap KDF; returns the admin key.
pub fn init(dir: &Path) -> String {
    let o = run(&[
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

pub struct Server {
    pub child: Child,
    pub addr: SocketAddr,
    /// Everything the server printed, stdout and stderr.
    pub output: Arc<Mutex<String>>,
}

impl Server {
    pub fn start(dir: &Path, extra: &[&str], env: &[(&str, &str)]) -> Server {
        let mut cmd = bulwark();
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
                    if let Some(i) = line.find("listening on http") {
                        let rest = &line[i..];
                        if let Some(addr) = rest
                            .split("://")
                            .nth(1)
                            .and_then(|a| a.split_whitespace().next())
                        {
                            if let Ok(a) = addr.parse() {
                                let _ = tx.send(a);
                            }
                        }
                    }
                    out.lock().unwrap().push_str(&line);
                    out.lock().unwrap().push('\n');
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

    /// SIGTERM and wait for a clean exit.
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

/// One HTTP/1.1 request over a fresh connection. Returns status and JSON body.
pub fn http(
    addr: SocketAddr,
    method: &str,
    path: &str,
    key: Option<&str>,
    headers: &[(&str, &str)],
    body: Option<&serde_json::Value>,
) -> std::io::Result<(u16, serde_json::Value)> {
    let mut s = TcpStream::connect(addr)?;
    s.set_read_timeout(Some(Duration::from_secs(30)))?;
    let body = body.map(|b| b.to_string()).unwrap_or_default();
    let mut req = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    if !body.is_empty() {
        req.push_str("Content-Type: application/json\r\n");
    }
    if let Some(k) = key {
        req.push_str(&format!("Authorization: Bearer {k}\r\n"));
    }
    for (h, v) in headers {
        req.push_str(&format!("{h}: {v}\r\n"));
    }
    req.push_str("\r\n");
    req.push_str(&body);
    s.write_all(req.as_bytes())?;
    let mut raw = Vec::new();
    s.read_to_end(&mut raw)?;
    parse_response(&raw)
}

pub fn parse_response(raw: &[u8]) -> std::io::Result<(u16, serde_json::Value)> {
    let text = String::from_utf8_lossy(raw);
    let (head, body) = text.split_once("\r\n\r\n").ok_or_else(|| {
        std::io::Error::new(std::io::ErrorKind::UnexpectedEof, "incomplete response")
    })?;
    let status: u16 = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| std::io::Error::new(std::io::ErrorKind::InvalidData, "no status"))?;
    let json = if body.trim().is_empty() {
        serde_json::Value::Null
    } else {
        serde_json::from_str(body).unwrap_or(serde_json::Value::Null)
    };
    Ok((status, json))
}

pub fn tempdir() -> (tempfile::TempDir, PathBuf) {
    let t = tempfile::tempdir().unwrap();
    let d = t.path().join("data");
    (t, d)
}

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
