//! One thread, N rank futures, polled in rank order.
//!
//! Each rank gets a waker that marks it ready; a round polls every ready rank once, lowest
//! rank first, so the interleaving depends only on who is ready (deterministic for a given
//! sequence of wake-ups). A rank that finishes with an error ends the run as
//! `torch.multiprocessing.spawn` does: the ranks still running are dropped (cancelled).

use std::future::{Future, poll_fn};
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Wake, Waker};
use std::time::{Duration, Instant};

/// A rank's future: `Ok` when its `main` returned success.
pub type TaskFuture<E> = Pin<Box<dyn Future<Output = Result<(), E>> + Send>>;

/// How a task ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TaskEnd<E> {
    /// Returned `Ok`.
    Ok,
    /// Returned an error, or was failed by the supervisor.
    Failed(E),
    /// Dropped unfinished because another task failed.
    Cancelled,
}

/// The runtime's view on task ends: it learns who finished and names the tasks that can now
/// never finish (e.g. waiting in a barrier for a rank that exited).
pub trait Supervisor<E> {
    /// Task `index` returned `Ok`.
    fn exited(&mut self, index: usize);
    /// Tasks to fail now, with their errors.
    fn doomed(&mut self) -> Vec<(usize, E)>;
    /// The error of a task still unfinished when the run's deadline passed.
    fn expired(&mut self, index: usize) -> E;
}

/// How often the executor hands control back to the async runtime (timers of guests that
/// sleep) while ranks stay busy.
const YIELD_EVERY: Duration = Duration::from_millis(1);

struct ReadySet {
    flags: Vec<AtomicBool>,
    queue: Mutex<Vec<usize>>,
    parent: Mutex<Option<Waker>>,
    /// The executor is polling ranks and will look at the queue again before it sleeps, so
    /// a wake-up need not wake the async runtime (saves a runtime wake per collective).
    polling: AtomicBool,
}

struct TaskWaker {
    index: usize,
    set: Arc<ReadySet>,
}

impl Wake for TaskWaker {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        if !self.set.flags[self.index].swap(true, Ordering::AcqRel) {
            self.set
                .queue
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .push(self.index);
            if self.set.polling.load(Ordering::Acquire) {
                return;
            }
            let parent = self
                .set
                .parent
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .clone();
            if let Some(parent) = parent {
                parent.wake();
            }
        }
    }
}

/// Run every task to its end on the current thread; returns each task's end, in order.
/// Tasks still unfinished at `deadline` fail with [`Supervisor::expired`], whether they were
/// running wasm or waiting (in a collective, or in a WASI sleep).
pub async fn drive<E>(
    tasks: Vec<TaskFuture<E>>,
    supervisor: &mut dyn Supervisor<E>,
    deadline: Option<Instant>,
) -> Vec<TaskEnd<E>> {
    let n = tasks.len();
    let set = Arc::new(ReadySet {
        flags: (0..n).map(|_| AtomicBool::new(true)).collect(),
        queue: Mutex::new((0..n).collect()),
        parent: Mutex::new(None),
        polling: AtomicBool::new(false),
    });
    let wakers: Vec<Waker> = (0..n)
        .map(|index| {
            Waker::from(Arc::new(TaskWaker {
                index,
                set: set.clone(),
            }))
        })
        .collect();
    let mut slots: Vec<Option<TaskFuture<E>>> = tasks.into_iter().map(Some).collect();
    let mut ends: Vec<Option<TaskEnd<E>>> = (0..n).map(|_| None).collect();
    let mut running = n;
    let mut failed = false;
    let mut last_yield = Instant::now();
    let mut timer = deadline.map(|d| Box::pin(tokio::time::sleep_until(d.into())));
    let mut expired = false;

    while running > 0 && !failed && !expired {
        poll_fn(|cx| {
            {
                let mut parent = set.parent.lock().unwrap_or_else(|p| p.into_inner());
                if !parent.as_ref().is_some_and(|w| w.will_wake(cx.waker())) {
                    *parent = Some(cx.waker().clone());
                }
            }
            if let Some(t) = timer.as_mut()
                && t.as_mut().poll(cx).is_ready()
            {
                expired = true;
                return Poll::Ready(());
            }
            set.polling.store(true, Ordering::Release);
            let mut batch =
                std::mem::take(&mut *set.queue.lock().unwrap_or_else(|p| p.into_inner()));
            if batch.is_empty() {
                // Nothing ready: sleep. A wake-up that raced with this check re-queued its
                // task and, seeing `polling` cleared, woke the runtime; re-check to be sure.
                set.polling.store(false, Ordering::Release);
                if !set
                    .queue
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .is_empty()
                {
                    cx.waker().wake_by_ref();
                }
                return Poll::Pending;
            }
            batch.sort_unstable();
            for index in batch {
                set.flags[index].store(false, Ordering::Release);
                let Some(task) = slots[index].as_mut() else {
                    continue;
                };
                let mut task_cx = Context::from_waker(&wakers[index]);
                if let Poll::Ready(result) = task.as_mut().poll(&mut task_cx) {
                    slots[index] = None;
                    running -= 1;
                    match result {
                        Ok(()) => {
                            ends[index] = Some(TaskEnd::Ok);
                            supervisor.exited(index);
                        }
                        Err(e) => {
                            ends[index] = Some(TaskEnd::Failed(e));
                            failed = true;
                        }
                    }
                }
                for (doomed, e) in supervisor.doomed() {
                    if slots[doomed].take().is_some() {
                        running -= 1;
                        ends[doomed] = Some(TaskEnd::Failed(e));
                        failed = true;
                    }
                }
                if failed {
                    break;
                }
            }
            Poll::Ready(())
        })
        .await;
        if last_yield.elapsed() >= YIELD_EVERY {
            tokio::task::yield_now().await;
            last_yield = Instant::now();
        }
    }
    // Cancel: drop what still runs (a wasm call dropped mid-flight is aborted cleanly).
    for (index, (slot, end)) in slots.iter_mut().zip(ends.iter_mut()).enumerate() {
        if slot.take().is_some() {
            *end = Some(if expired {
                TaskEnd::Failed(supervisor.expired(index))
            } else {
                TaskEnd::Cancelled
            });
        }
    }
    ends.into_iter()
        .map(|e| e.unwrap_or(TaskEnd::Cancelled))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sched::Mailbox;
    use std::sync::atomic::AtomicUsize;

    #[derive(Default)]
    struct Quiet {
        exits: Vec<usize>,
        doom: Vec<(usize, String)>,
    }

    impl Supervisor<String> for Quiet {
        fn exited(&mut self, index: usize) {
            self.exits.push(index);
        }
        fn doomed(&mut self) -> Vec<(usize, String)> {
            std::mem::take(&mut self.doom)
        }
        fn expired(&mut self, index: usize) -> String {
            format!("task {index} expired")
        }
    }

    fn block_on<F: Future>(f: F) -> F::Output {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build();
        rt.unwrap_or_else(|e| panic!("{e}")).block_on(f)
    }

    #[test]
    fn tasks_run_in_rank_order_and_all_finish() {
        let order = Arc::new(Mutex::new(Vec::new()));
        let tasks: Vec<TaskFuture<String>> = (0..4)
            .map(|i| {
                let order = order.clone();
                Box::pin(async move {
                    order.lock().unwrap_or_else(|p| p.into_inner()).push(i);
                    Ok(())
                }) as TaskFuture<String>
            })
            .collect();
        let mut sup = Quiet::default();
        let ends = block_on(drive(tasks, &mut sup, None));
        assert_eq!(ends, vec![TaskEnd::Ok; 4]);
        assert_eq!(
            *order.lock().unwrap_or_else(|p| p.into_inner()),
            [0, 1, 2, 3]
        );
        assert_eq!(sup.exits, [0, 1, 2, 3]);
    }

    #[test]
    fn one_failure_cancels_the_waiting_rest() {
        let mailbox: Arc<Mailbox<()>> = Arc::default();
        let polled = Arc::new(AtomicUsize::new(0));
        let mut tasks: Vec<TaskFuture<String>> = Vec::new();
        for _ in 0..3 {
            let (mailbox, polled) = (mailbox.clone(), polled.clone());
            tasks.push(Box::pin(async move {
                polled.fetch_add(1, Ordering::SeqCst);
                mailbox.recv().await;
                Ok(())
            }));
        }
        tasks.push(Box::pin(async { Err("rank 3 trapped".to_owned()) }));
        let ends = block_on(drive(tasks, &mut Quiet::default(), None));
        assert_eq!(polled.load(Ordering::SeqCst), 3);
        assert_eq!(
            ends,
            [
                TaskEnd::Cancelled,
                TaskEnd::Cancelled,
                TaskEnd::Cancelled,
                TaskEnd::Failed("rank 3 trapped".into())
            ]
        );
    }

    #[test]
    fn supervisor_can_fail_waiting_tasks() {
        let mailbox: Arc<Mailbox<()>> = Arc::default();
        let m = mailbox.clone();
        let tasks: Vec<TaskFuture<String>> = vec![
            Box::pin(async move {
                m.recv().await;
                Ok(())
            }),
            Box::pin(async { Ok(()) }),
        ];
        let mut sup = Quiet {
            exits: vec![],
            doom: vec![],
        };
        // Doom task 0 as soon as anything is asked.
        sup.doom.push((0, "deadlock".into()));
        let ends = block_on(drive(tasks, &mut sup, None));
        assert_eq!(ends[0], TaskEnd::Failed("deadlock".into()));
    }

    #[test]
    fn tasks_still_waiting_at_the_deadline_fail() {
        let mailbox: Arc<Mailbox<()>> = Arc::default();
        let m = mailbox.clone();
        let tasks: Vec<TaskFuture<String>> = vec![
            Box::pin(async move {
                m.recv().await;
                Ok(())
            }),
            Box::pin(async { Ok(()) }),
        ];
        let deadline = Instant::now() + Duration::from_millis(20);
        let ends = block_on(drive(tasks, &mut Quiet::default(), Some(deadline)));
        assert_eq!(
            ends,
            [TaskEnd::Failed("task 0 expired".into()), TaskEnd::Ok]
        );
    }

    #[test]
    fn a_posted_mailbox_wakes_its_task() {
        let mailbox: Arc<Mailbox<u32>> = Arc::default();
        let got = Arc::new(AtomicUsize::new(0));
        let (m1, m2, g) = (mailbox.clone(), mailbox.clone(), got.clone());
        let tasks: Vec<TaskFuture<String>> = vec![
            Box::pin(async move {
                g.store(m1.recv().await as usize, Ordering::SeqCst);
                Ok(())
            }),
            Box::pin(async move {
                tokio::task::yield_now().await;
                m2.post(42);
                Ok(())
            }),
        ];
        let ends = block_on(drive(tasks, &mut Quiet::default(), None));
        assert_eq!(ends, vec![TaskEnd::Ok, TaskEnd::Ok]);
        assert_eq!(got.load(Ordering::SeqCst), 42);
    }
}
