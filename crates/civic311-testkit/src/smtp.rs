//! A real SMTP server for tests: `aiosmtpd` (installed by `scripts/test`) writing every
//! message it accepts into a Maildir that the test reads back.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A running SMTP server on a loopback port; stopped when dropped.
pub struct SmtpServer {
    pub port: u16,
    maildir: PathBuf,
    child: Child,
}

/// A message as the server received it.
#[derive(Debug, Clone)]
pub struct ReceivedMail {
    /// The envelope recipients (`X-RcptTo`, added by the server).
    pub to: String,
    pub subject: String,
    pub body: String,
    pub raw: String,
}

impl SmtpServer {
    /// Starts `python3 -m aiosmtpd` on a free port and waits until it accepts
    /// connections. Panics with a hint when aiosmtpd is not installed.
    pub fn start() -> Self {
        let port = free_port();
        // aiosmtpd makes the Maildir (new/, cur/, tmp/) only when the folder is missing.
        let maildir = std::env::temp_dir().join(format!("civic311-smtp-{}-{port}", std::process::id()));
        let child = Command::new("python3")
            .args(["-m", "aiosmtpd", "-n", "-l", &format!("127.0.0.1:{port}"), "-c", "aiosmtpd.handlers.Mailbox"])
            .arg(&maildir)
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start python3 -m aiosmtpd ({e}): run the suite with scripts/test"));
        let mut server = Self { port, maildir, child };
        let deadline = Instant::now() + Duration::from_secs(20);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            if let Ok(Some(status)) = server.child.try_wait() {
                panic!(
                    "aiosmtpd exited with {status}: is it installed? `python3 -m pip install aiosmtpd` (scripts/test does this)"
                );
            }
            assert!(Instant::now() < deadline, "aiosmtpd did not listen on port {port} within 20 s");
            std::thread::sleep(Duration::from_millis(50));
        }
        server
    }

    /// Every message received so far, oldest first.
    pub fn received(&self) -> Vec<ReceivedMail> {
        let mut files: Vec<_> = ["new", "cur"]
            .iter()
            .filter_map(|d| std::fs::read_dir(self.maildir.join(d)).ok())
            .flatten()
            .filter_map(Result::ok)
            .map(|e| e.path())
            .collect();
        files.sort_by_key(|p| std::fs::metadata(p).and_then(|m| m.modified()).ok());
        files.iter().filter_map(|p| std::fs::read_to_string(p).ok()).map(|raw| parse(&raw)).collect()
    }
}

impl Drop for SmtpServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.maildir);
    }
}

pub(crate) fn free_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind a free port");
    l.local_addr().expect("local address").port()
}

/// Headers and body of a plain-text message; quoted-printable soft breaks and `=XX`
/// escapes in the body are decoded.
fn parse(raw: &str) -> ReceivedMail {
    let raw = raw.replace("\r\n", "\n");
    let (head, body) = raw.split_once("\n\n").unwrap_or((&raw, ""));
    // Unfold continued header lines.
    let head = head.replace("\n ", " ").replace("\n\t", " ");
    let header = |name: &str| {
        head.lines()
            .find_map(|l| l.split_once(':').filter(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.trim()))
            .unwrap_or_default()
            .to_owned()
    };
    let qp = header("Content-Transfer-Encoding").eq_ignore_ascii_case("quoted-printable");
    let body = if qp { decode_qp(body) } else { body.to_owned() };
    ReceivedMail { to: header("X-RcptTo"), subject: header("Subject"), body, raw: raw.clone() }
}

fn decode_qp(s: &str) -> String {
    let joined = s.replace("=\n", "");
    let bytes = joined.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = match bytes[i] {
            b'=' => bytes
                .get(i + 1..i + 3)
                .and_then(|h| std::str::from_utf8(h).ok())
                .and_then(|h| u8::from_str_radix(h, 16).ok()),
            _ => None,
        };
        match hex {
            Some(b) => {
                out.push(b);
                i += 3;
            }
            None => {
                out.push(bytes[i]);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}
