//! Per-rank stdout/stderr capture with a hard byte limit.
//!
//! A guest may print without end; the host keeps the first `limit` bytes and the last
//! [`TAIL_BYTES`] (where a panic message lands), counts what it dropped, and tells the guest
//! every write succeeded so a flood never turns into a trap or a spin.

use crate::model::CapturedText;
use bytes::Bytes;
use std::collections::VecDeque;
use std::io;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use wasmtime_wasi::cli::{IsTerminal, StdoutStream};
use wasmtime_wasi::p2::{OutputStream, Pollable, StreamResult};

/// Bytes kept from the end of a stream once it overflows its limit.
pub const TAIL_BYTES: usize = 4096;

#[derive(Debug, Default)]
struct Capture {
    head: Vec<u8>,
    tail: VecDeque<u8>,
    dropped: u64,
}

/// A captured output stream; clones share one buffer.
#[derive(Debug, Clone)]
pub struct CapturedOutput {
    limit: usize,
    capture: Arc<Mutex<Capture>>,
}

impl CapturedOutput {
    /// A capture keeping at most `limit` bytes from the start (plus a short tail).
    pub fn new(limit: usize) -> Self {
        CapturedOutput {
            limit,
            capture: Arc::default(),
        }
    }

    fn append(&self, bytes: &[u8]) {
        let mut c = self.capture.lock().unwrap_or_else(|p| p.into_inner());
        let room = self.limit.saturating_sub(c.head.len());
        let (kept, rest) = bytes.split_at(room.min(bytes.len()));
        c.head.extend_from_slice(kept);
        if rest.is_empty() {
            return;
        }
        // Everything past the head goes through the tail ring; what falls out is dropped.
        let rest = if rest.len() > TAIL_BYTES {
            c.dropped += (rest.len() - TAIL_BYTES) as u64;
            &rest[rest.len() - TAIL_BYTES..]
        } else {
            rest
        };
        let overflow = (c.tail.len() + rest.len()).saturating_sub(TAIL_BYTES);
        c.tail.drain(..overflow);
        c.dropped += overflow as u64;
        c.tail.extend(rest);
    }

    /// The captured text so far.
    pub fn text(&self) -> CapturedText {
        let c = self.capture.lock().unwrap_or_else(|p| p.into_inner());
        let mut bytes = c.head.clone();
        if c.dropped > 0 {
            bytes.extend_from_slice(
                format!(
                    "\n[... {} bytes truncated: output limit reached ...]\n",
                    c.dropped
                )
                .as_bytes(),
            );
        }
        bytes.extend(c.tail.iter());
        CapturedText {
            text: String::from_utf8_lossy(&bytes).into_owned(),
            truncated_bytes: c.dropped,
        }
    }
}

impl IsTerminal for CapturedOutput {
    fn is_terminal(&self) -> bool {
        false
    }
}

impl StdoutStream for CapturedOutput {
    fn async_stream(&self) -> Box<dyn tokio::io::AsyncWrite + Send + Sync> {
        Box::new(self.clone())
    }

    fn p2_stream(&self) -> Box<dyn OutputStream> {
        Box::new(self.clone())
    }
}

#[wasmtime_wasi::async_trait]
impl Pollable for CapturedOutput {
    async fn ready(&mut self) {}
}

impl OutputStream for CapturedOutput {
    fn write(&mut self, bytes: Bytes) -> StreamResult<()> {
        self.append(&bytes);
        Ok(())
    }

    fn flush(&mut self) -> StreamResult<()> {
        Ok(())
    }

    fn check_write(&mut self) -> StreamResult<usize> {
        // Writes never block; a large permit keeps guests from looping on tiny writes.
        Ok(64 * 1024)
    }
}

impl tokio::io::AsyncWrite for CapturedOutput {
    fn poll_write(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.append(buf);
        Poll::Ready(Ok(buf.len()))
    }

    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_output_is_kept_whole() {
        let out = CapturedOutput::new(100);
        out.append(b"hello ");
        out.append(b"world");
        assert_eq!(
            out.text(),
            CapturedText {
                text: "hello world".into(),
                truncated_bytes: 0
            }
        );
    }

    #[test]
    fn flood_keeps_head_and_tail_and_counts_the_rest() {
        let out = CapturedOutput::new(4);
        out.append(b"abcdef");
        for _ in 0..3000 {
            out.append(b"xyz");
        }
        out.append(b"panicked at end");
        let got = out.text();
        assert!(got.text.starts_with("abcd\n[... "), "{}", got.text);
        assert!(got.text.ends_with("panicked at end"));
        let total = 6 + 3 * 3000 + 15;
        assert_eq!(got.truncated_bytes, (total - 4 - TAIL_BYTES) as u64);
    }
}
