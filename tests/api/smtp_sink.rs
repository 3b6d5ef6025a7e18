//! A real SMTP server for the tests, on a loopback port: it speaks enough of RFC 5321 for lettre
//! (EHLO, MAIL, RCPT, DATA, RSET, NOOP, QUIT), keeps what it receives, and can answer every
//! message with a temporary failure (451) to test the outbox's retries.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::Engine;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

#[derive(Clone, Debug)]
pub struct Mail {
    pub from: String,
    pub to: Vec<String>,
    pub headers: String,
    /// The body, transfer encoding undone.
    pub body: String,
}

impl Mail {
    pub fn header(&self, name: &str) -> Option<String> {
        let prefix = format!("{}:", name.to_ascii_lowercase());
        self.headers
            .lines()
            .find(|line| line.to_ascii_lowercase().starts_with(&prefix))
            .map(|line| line[prefix.len()..].trim().to_string())
    }

    /// The first link in the body that contains `part`.
    pub fn link_with(&self, part: &str) -> String {
        self.body
            .split_whitespace()
            .find(|word| word.starts_with("http") && word.contains(part))
            .unwrap_or_else(|| panic!("no link with {part:?} in {}", self.body))
            .to_string()
    }
}

#[derive(Clone)]
pub struct SmtpSink {
    pub port: u16,
    received: Arc<Mutex<Vec<Mail>>>,
    refusing: Arc<Mutex<bool>>,
    _stop: Arc<tokio::sync::oneshot::Sender<()>>,
}

impl SmtpSink {
    /// A sink on a free loopback port.
    pub async fn start() -> Self {
        Self::start_on(0).await
    }

    /// A sink on `port` (a port a test kept free while the sender was down).
    pub async fn start_on(port: u16) -> Self {
        let listener = TcpListener::bind(("127.0.0.1", port)).await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let received = Arc::new(Mutex::new(Vec::new()));
        let refusing = Arc::new(Mutex::new(false));
        let (stop, mut stopped) = tokio::sync::oneshot::channel::<()>();
        let (inbox, refuse) = (received.clone(), refusing.clone());
        tokio::spawn(async move {
            loop {
                tokio::select! {
                    _ = &mut stopped => return,
                    accepted = listener.accept() => {
                        let Ok((stream, _)) = accepted else { return };
                        tokio::spawn(session(stream, inbox.clone(), refuse.clone()));
                    }
                }
            }
        });
        Self { port, received, refusing, _stop: Arc::new(stop) }
    }

    /// The `smtp_url` setting that reaches this sink.
    pub fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port)
    }

    /// Answer every message with 451 (a temporary failure) until told otherwise.
    pub fn refuse(&self, refusing: bool) {
        *self.refusing.lock().unwrap() = refusing;
    }

    pub fn received(&self) -> Vec<Mail> {
        self.received.lock().unwrap().clone()
    }

    /// Waits (up to `seconds`) until `count` messages arrived; returns them.
    pub async fn wait_for(&self, count: usize, seconds: u64) -> Vec<Mail> {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(seconds);
        loop {
            let mails = self.received();
            if mails.len() >= count {
                return mails;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "expected {count} emails within {seconds} s, got {}: {mails:?}",
                mails.len()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// The messages sent to `to`.
    pub fn to(&self, to: &str) -> Vec<Mail> {
        self.received().into_iter().filter(|m| m.to.iter().any(|t| t.eq_ignore_ascii_case(to))).collect()
    }
}

/// A port that is free now and refuses connections until a sink takes it.
pub async fn unused_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    listener.local_addr().unwrap().port()
}

async fn session(stream: tokio::net::TcpStream, inbox: Arc<Mutex<Vec<Mail>>>, refusing: Arc<Mutex<bool>>) {
    let (read, mut write) = stream.into_split();
    let mut lines = BufReader::new(read);
    reply(&mut write, "220 sink.test ESMTP").await;
    let (mut from, mut to) = (String::new(), Vec::new());
    let mut line = String::new();
    loop {
        line.clear();
        if lines.read_line(&mut line).await.unwrap_or(0) == 0 {
            return;
        }
        let command = line.trim_end().to_string();
        let upper = command.to_ascii_uppercase();
        if upper.starts_with("EHLO") || upper.starts_with("HELO") {
            reply(&mut write, "250-sink.test\r\n250 8BITMIME").await;
        } else if upper.starts_with("MAIL FROM:") {
            if *refusing.lock().unwrap() {
                reply(&mut write, "451 4.3.0 try again later").await;
                continue;
            }
            from = address(&command[10..]);
            to.clear();
            reply(&mut write, "250 OK").await;
        } else if upper.starts_with("RCPT TO:") {
            to.push(address(&command[8..]));
            reply(&mut write, "250 OK").await;
        } else if upper == "DATA" {
            reply(&mut write, "354 go ahead").await;
            let mut data = String::new();
            loop {
                line.clear();
                if lines.read_line(&mut line).await.unwrap_or(0) == 0 {
                    return;
                }
                if line.trim_end() == "." {
                    break;
                }
                let unstuffed = line.strip_prefix('.').filter(|_| line.starts_with("..")).unwrap_or(&line);
                data.push_str(unstuffed);
            }
            inbox.lock().unwrap().push(parse(&from, &to, &data));
            reply(&mut write, "250 OK queued").await;
        } else if upper == "QUIT" {
            reply(&mut write, "221 bye").await;
            return;
        } else {
            // RSET, NOOP and anything else.
            reply(&mut write, "250 OK").await;
        }
    }
}

async fn reply(write: &mut tokio::net::tcp::OwnedWriteHalf, text: &str) {
    let _ = write.write_all(format!("{text}\r\n").as_bytes()).await;
}

fn address(argument: &str) -> String {
    argument.trim().trim_start_matches('<').split('>').next().unwrap_or("").to_string()
}

fn parse(from: &str, to: &[String], data: &str) -> Mail {
    let data = data.replace("\r\n", "\n");
    let (headers, body) = data.split_once("\n\n").unwrap_or((&data, ""));
    // Unfold continued header lines.
    let headers = headers.replace("\n ", " ").replace("\n\t", " ");
    let encoding = headers
        .lines()
        .find(|l| l.to_ascii_lowercase().starts_with("content-transfer-encoding:"))
        .map(|l| l.split(':').nth(1).unwrap_or("").trim().to_ascii_lowercase())
        .unwrap_or_default();
    let body = match encoding.as_str() {
        "quoted-printable" => quoted_printable(body),
        "base64" => {
            let compact: String = body.split_whitespace().collect();
            String::from_utf8(base64::engine::general_purpose::STANDARD.decode(compact).unwrap()).unwrap()
        }
        _ => body.to_string(),
    };
    Mail { from: from.to_string(), to: to.to_vec(), headers, body }
}

fn quoted_printable(body: &str) -> String {
    let joined = body.replace("=\n", "");
    let bytes = joined.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'='
            && i + 2 < bytes.len()
            && let Ok(byte) = u8::from_str_radix(&joined[i + 1..i + 3], 16)
        {
            out.push(byte);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8(out).unwrap()
}
