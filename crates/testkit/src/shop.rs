//! A test store's web server on loopback, for the page monitor's tests: files
//! by path with their headers, changeable while it runs (a script injected,
//! one byte changed), and a log of the requests it answered. Plain HTTP/1.1
//! with `Connection: close`, one thread per connection.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};

/// One file the shop serves.
#[derive(Clone)]
pub struct Resource {
    pub content_type: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

#[derive(Default)]
struct State {
    files: HashMap<String, Resource>,
    /// `Host` header and path of each request, in order.
    log: Vec<(String, String)>,
}

/// The running shop. Every host name resolving to loopback reaches it
/// (`127.0.0.1`, `localhost`, `cdn.localhost`…), so "another host" is just
/// another name on the same port.
pub struct Shop {
    pub port: u16,
    state: Arc<Mutex<State>>,
}

impl Shop {
    pub fn start() -> Shop {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind loopback");
        let port = listener.local_addr().expect("local addr").port();
        let state = Arc::new(Mutex::new(State::default()));
        let s = state.clone();
        std::thread::spawn(move || {
            for conn in listener.incoming().flatten() {
                let s = s.clone();
                std::thread::spawn(move || serve(conn, &s));
            }
        });
        Shop { port, state }
    }

    /// `http://127.0.0.1:PORT{path}`.
    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    /// `http://{host}:PORT{path}` (a loopback name: `cdn.localhost`).
    pub fn url_on(&self, host: &str, path: &str) -> String {
        format!("http://{host}:{}{path}", self.port)
    }

    pub fn put(&self, path: &str, content_type: &str, headers: &[(&str, &str)], body: &[u8]) {
        let r = Resource {
            content_type: content_type.into(),
            headers: headers
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
            body: body.to_vec(),
        };
        self.state
            .lock()
            .expect("shop state")
            .files
            .insert(path.into(), r);
    }

    /// Serves `body` at `path` as JavaScript.
    pub fn put_js(&self, path: &str, body: &str) {
        self.put(path, "application/javascript", &[], body.as_bytes());
    }

    /// Serves `body` at `path` as HTML with `headers`.
    pub fn put_html(&self, path: &str, headers: &[(&str, &str)], body: &str) {
        self.put(path, "text/html; charset=utf-8", headers, body.as_bytes());
    }

    /// Stops serving `path` (it answers 404).
    pub fn remove(&self, path: &str) {
        self.state.lock().expect("shop state").files.remove(path);
    }

    /// `(host, path)` of every request answered so far.
    pub fn requests(&self) -> Vec<(String, String)> {
        self.state.lock().expect("shop state").log.clone()
    }
}

fn serve(conn: TcpStream, state: &Mutex<State>) {
    let Ok(read_half) = conn.try_clone() else {
        return;
    };
    let mut reader = BufReader::new(read_half);
    let mut line = String::new();
    if reader.read_line(&mut line).is_err() {
        return;
    }
    let path = line
        .split_whitespace()
        .nth(1)
        .unwrap_or("/")
        .split('?')
        .next()
        .unwrap_or("/")
        .to_owned();
    let mut host = String::new();
    loop {
        let mut h = String::new();
        match reader.read_line(&mut h) {
            Ok(0) | Err(_) => break,
            Ok(_) if h == "\r\n" || h == "\n" => break,
            Ok(_) => {
                if let Some((k, v)) = h.split_once(':') {
                    if k.eq_ignore_ascii_case("host") {
                        host = v.trim().to_owned();
                    }
                }
            }
        }
    }
    let found = {
        let mut s = state.lock().expect("shop state");
        s.log.push((host, path.clone()));
        s.files.get(&path).cloned()
    };
    let mut conn = conn;
    let (status, r) = match found {
        Some(r) => ("200 OK", r),
        None => (
            "404 Not Found",
            Resource {
                content_type: "text/plain".into(),
                headers: vec![],
                body: b"not found".to_vec(),
            },
        ),
    };
    let mut head = format!(
        "HTTP/1.1 {status}\r\nContent-Type: {}\r\nContent-Length: {}\r\nCache-Control: no-store\r\nConnection: close\r\n",
        r.content_type,
        r.body.len()
    );
    for (k, v) in &r.headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str("\r\n");
    let _ = conn.write_all(head.as_bytes());
    let _ = conn.write_all(&r.body);
    let _ = conn.flush();
}
