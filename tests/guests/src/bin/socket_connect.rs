//! Hostile guest: tries to open network connections. Panics if any succeeded.

use std::net::{TcpListener, TcpStream, UdpSocket};

fn main() {
    let attempts: [(&str, std::io::Result<()>); 3] = [
        (
            "tcp connect 127.0.0.1:22",
            TcpStream::connect("127.0.0.1:22").map(drop),
        ),
        (
            "tcp listen 127.0.0.1:0",
            TcpListener::bind("127.0.0.1:0").map(drop),
        ),
        ("udp bind 0.0.0.0:0", UdpSocket::bind("0.0.0.0:0").map(drop)),
    ];
    for (what, result) in attempts {
        match result {
            Ok(()) => panic!("sandbox escape: {what} succeeded"),
            Err(e) => println!("{what}: denied ({e})"),
        }
    }
}
