//! The Explorer serves its page and a state on a loopback port.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::time::{Duration, Instant};

fn get(addr: &str, path: &str) -> Option<String> {
    let mut s = TcpStream::connect(addr).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(10))).ok()?;
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .ok()?;
    let mut out = String::new();
    s.read_to_string(&mut out).ok()?;
    Some(out)
}

#[test]
fn explorer_serves_page_and_state() {
    let port = TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port();
    let addr = format!("127.0.0.1:{port}");
    let a2 = addr.clone();
    std::thread::spawn(move || {
        let cfg = mimi_model::config::Config::load("small").expect("cfg");
        let _ = mimi_model::explorer::serve(cfg, &a2);
    });
    let start = Instant::now();
    let page = loop {
        if let Some(p) = get(&addr, "/") {
            break p;
        }
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "explorer did not start"
        );
        std::thread::sleep(Duration::from_millis(100));
    };
    assert!(page.starts_with("HTTP/1.1 200"), "{page}");
    let states = get(&addr, "/.states").expect("states");
    assert!(states.starts_with("HTTP/1.1 200"), "{states}");
    // the initial state offers exactly one action: create the room
    let one = get(&addr, "/.states/0").expect("state");
    assert!(one.starts_with("HTTP/1.1 200"), "{one}");
    assert!(one.contains("create room"), "{one}");
}

#[test]
fn explorer_rejects_non_loopback() {
    let cfg = mimi_model::config::Config::load("small").expect("cfg");
    assert!(mimi_model::explorer::serve(cfg, "8.8.8.8:3000").is_err());
    let cfg = mimi_model::config::Config::load("small").expect("cfg");
    assert!(mimi_model::explorer::serve(cfg, "not an address").is_err());
}
