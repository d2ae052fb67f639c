//! Test-only I/O: a tiny HTTP/1.1 client over `std::net::TcpStream` (keep-alive,
//! `Content-Length` bodies, plain http to 127.0.0.1 only), a real clock, and the carrier
//! simulator as a child process (started on 127.0.0.1 port 0, stopped by its process id).
//! The library does no I/O; this is what the tests drive it with.

#![allow(clippy::disallowed_methods)] // the tests read the clock; the library does not

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use simopt_carrier::{
    Clock, HttpRequest, HttpResponse, Transport, TransportError, TransportErrorKind,
};

/// A keep-alive HTTP/1.1 client for `http://127.0.0.1:<port>`.
pub struct TestTransport {
    port: u16,
    connection: Option<BufReader<TcpStream>>,
}

impl TestTransport {
    pub fn new(port: u16) -> TestTransport {
        TestTransport {
            port,
            connection: None,
        }
    }

    fn exchange(
        &mut self,
        request: &HttpRequest,
        timeout_ms: u64,
    ) -> Result<HttpResponse, std::io::Error> {
        if self.connection.is_none() {
            let stream = TcpStream::connect(("127.0.0.1", self.port))?;
            stream.set_nodelay(true)?;
            self.connection = Some(BufReader::new(stream));
        }
        let reader = self.connection.as_mut().expect("connected above");
        let timeout = Some(Duration::from_millis(timeout_ms.max(1)));
        reader.get_ref().set_read_timeout(timeout)?;
        reader.get_ref().set_write_timeout(timeout)?;
        let body = request.body.as_deref().unwrap_or("");
        let mut head = format!(
            "{} {} HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nContent-Length: {}\r\n",
            request.method.as_str(),
            request.path_and_query(),
            self.port,
            body.len()
        );
        for (k, v) in &request.headers {
            head.push_str(&format!("{k}: {v}\r\n"));
        }
        head.push_str("\r\n");
        head.push_str(body);
        reader.get_mut().write_all(head.as_bytes())?;

        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 {
            return Err(std::io::Error::new(
                std::io::ErrorKind::UnexpectedEof,
                "connection closed",
            ));
        }
        let status: u16 = line
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| std::io::Error::other(format!("bad status line {line:?}")))?;
        let mut headers = Vec::new();
        let mut length = 0usize;
        loop {
            line.clear();
            reader.read_line(&mut line)?;
            let l = line.trim_end();
            if l.is_empty() {
                break;
            }
            if let Some((k, v)) = l.split_once(':') {
                let (k, v) = (k.trim().to_owned(), v.trim().to_owned());
                if k.eq_ignore_ascii_case("content-length") {
                    length = v.parse().unwrap_or(0);
                }
                headers.push((k, v));
            }
        }
        let mut body = vec![0u8; length];
        reader.read_exact(&mut body)?;
        Ok(HttpResponse {
            status,
            headers,
            body,
        })
    }
}

impl Transport for TestTransport {
    fn send(
        &mut self,
        request: &HttpRequest,
        timeout_ms: u64,
    ) -> Result<HttpResponse, TransportError> {
        // No retry here: a failed exchange (even a stale keep-alive connection) is reported, and
        // the job decides (a change is re-read before anything is sent again). The next request
        // opens a new connection.
        match self.exchange(request, timeout_ms) {
            Ok(r) => Ok(r),
            Err(e) => {
                self.connection = None;
                let kind = match e.kind() {
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut => {
                        TransportErrorKind::Timeout
                    }
                    std::io::ErrorKind::ConnectionRefused => TransportErrorKind::Connect,
                    _ => TransportErrorKind::Other,
                };
                Err(TransportError::other(kind, e.to_string()))
            }
        }
    }
}

/// The real clock.
pub struct RealClock;

pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or_default()
}

impl Clock for RealClock {
    fn now_ms(&mut self) -> i64 {
        now_ms()
    }
    fn sleep_until(&mut self, until_ms: i64) {
        let wait = until_ms - now_ms();
        if wait > 0 {
            std::thread::sleep(Duration::from_millis(wait as u64));
        }
    }
}

/// The simulator, running; stopped (by process id) when dropped.
pub struct Sim {
    child: Child,
    pub port: u16,
}

pub const USER: &str = "sim-user";
pub const KEY: &str = "sim-key-123";

fn sim_script() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tools/carrier-sim/sim.mjs")
}

impl Sim {
    /// Starts `node tools/carrier-sim/sim.mjs --port 0 <args>` and waits for its port.
    pub fn start(args: &[&str]) -> Sim {
        let mut child = Command::new("node")
            .arg(sim_script())
            .args(["--port", "0", "--user", USER, "--key", KEY])
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("node runs tools/carrier-sim/sim.mjs (install Node.js 20+)");
        let stdout = child.stdout.take().expect("piped");
        let mut line = String::new();
        BufReader::new(stdout)
            .read_line(&mut line)
            .expect("the simulator prints its port");
        let port = line
            .trim()
            .rsplit(':')
            .next()
            .and_then(|p| p.parse().ok())
            .unwrap_or_else(|| panic!("no port in the simulator's first line {line:?}"));
        Sim { child, port }
    }

    pub fn base_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// A control call (`/_sim/...`: a GET, or a POST of `body`), answered as JSON.
    pub fn control(&self, method: &str, path: &str, body: &str) -> serde_json::Value {
        let response = match method {
            "GET" => {
                let request = HttpRequest {
                    method: simopt_carrier::Method::Get,
                    url: format!("{}{path}", self.base_url()),
                    headers: vec![("Content-Type".into(), "application/json".into())],
                    body: (!body.is_empty()).then(|| body.to_owned()),
                };
                TestTransport::new(self.port)
                    .send(&request, 30_000)
                    .expect("the simulator answers")
            }
            // The client speaks the API's GET and PUT only: a POST is sent raw.
            "POST" => post(self.port, path, body),
            _ => panic!("the control endpoints take GET or POST, not {method}"),
        };
        assert_eq!(
            response.status,
            200,
            "{path}: {}",
            String::from_utf8_lossy(&response.body)
        );
        serde_json::from_slice(&response.body).expect("JSON from the simulator")
    }
}

fn post(port: u16, path: &str, body: &str) -> HttpResponse {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    write!(
        stream,
        "POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .expect("write");
    let mut text = String::new();
    stream.read_to_string(&mut text).expect("read");
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    HttpResponse::new(status, body.as_bytes().to_vec())
}

impl Drop for Sim {
    fn drop(&mut self) {
        // Child::kill signals this child's process id only.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
