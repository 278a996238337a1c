//! A one-slot mailbox a waiting rank parks on until the rendezvous posts its outcome.
//!
//! Kept instead of `tokio::sync::oneshot` (issue 9): one channel per wait made a barrier
//! about 45% slower per rank per round at N=512 (1849/1869 ns with this mailbox vs
//! 2671/2840 ns with oneshot, `kernbench-perf --only barrier`, two runs each on a 2-core
//! machine). A rank's blocking calls reuse one mailbox (`World::blocking_ticket`); a
//! oneshot allocates per wait.

use std::future::Future;
use std::pin::Pin;
use std::sync::Mutex;
use std::task::{Context, Poll, Waker};

/// One pending value and the waker of the rank waiting for it.
#[derive(Debug)]
pub struct Mailbox<T> {
    inner: Mutex<Inner<T>>,
}

#[derive(Debug)]
struct Inner<T> {
    value: Option<T>,
    waker: Option<Waker>,
}

impl<T> Default for Mailbox<T> {
    fn default() -> Self {
        Mailbox {
            inner: Mutex::new(Inner {
                value: None,
                waker: None,
            }),
        }
    }
}

impl<T> Mailbox<T> {
    /// Deliver `value` and wake the waiting rank. A value already there is replaced: the
    /// rendezvous posts at most one outcome per wait.
    pub fn post(&self, value: T) {
        let waker = {
            let mut inner = self.inner.lock().unwrap_or_else(|p| p.into_inner());
            inner.value = Some(value);
            inner.waker.take()
        };
        if let Some(waker) = waker {
            waker.wake();
        }
    }

    /// Empty the mailbox for its next use, through exclusive access: no lock taken.
    pub fn reset(&mut self) {
        let inner = self.inner.get_mut().unwrap_or_else(|p| p.into_inner());
        inner.value = None;
        inner.waker = None;
    }

    /// Whether a value has been posted and not yet received.
    pub fn is_ready(&self) -> bool {
        let inner = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        inner.value.is_some()
    }

    /// Look at the posted value, if any, without receiving it.
    pub fn peek<R>(&self, f: impl FnOnce(Option<&T>) -> R) -> R {
        let inner = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        f(inner.value.as_ref())
    }

    /// Wait for the next posted value.
    pub fn recv(&self) -> Recv<'_, T> {
        Recv { mailbox: self }
    }
}

/// Future of [`Mailbox::recv`].
#[derive(Debug)]
pub struct Recv<'a, T> {
    mailbox: &'a Mailbox<T>,
}

impl<T> Future for Recv<'_, T> {
    type Output = T;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<T> {
        let mut inner = self.mailbox.inner.lock().unwrap_or_else(|p| p.into_inner());
        match inner.value.take() {
            Some(value) => Poll::Ready(value),
            None => {
                match &mut inner.waker {
                    Some(w) if w.will_wake(cx.waker()) => {}
                    slot => *slot = Some(cx.waker().clone()),
                }
                Poll::Pending
            }
        }
    }
}
