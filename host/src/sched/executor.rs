//! Rank futures driven cooperatively by a pool of worker threads ("lanes").
//!
//! Rank `i` belongs to lane `i % lanes` for the whole run and is only ever polled there:
//! each lane polls its ready ranks in rank order, so a lane's interleaving depends only on
//! who is ready, and with one lane the whole run behaves as the single-threaded executor
//! did. A rank runs until it waits (a collective, an operation in flight) or yields at a time
//! slice; simulated results never depend on which lane ran first (ADR-0016). Each lane has
//! its own async runtime (timers of guests that sleep), so a sleeping lane is woken by the
//! rank that readies one of its ranks, from whichever lane that rank runs on. A rank that
//! finishes with an error ends the run as `torch.multiprocessing.spawn` does: the ranks still
//! running are dropped (cancelled).

use std::future::{Future, poll_fn};
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll, Wake, Waker};
use std::time::{Duration, Instant};

/// A rank's future: `Ok` when its `main` returned success.
pub type TaskFuture<E> = Pin<Box<dyn Future<Output = Result<(), E>> + Send>>;

/// Most worker threads a run may ask for: more than any machine this runs on has cores, few
/// enough that a typo (`--threads 100000`) is refused instead of spawning them.
pub const MAX_THREADS: usize = 256;

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
/// never finish (e.g. waiting in a barrier for a rank that exited). Lanes call it one at a
/// time (it sits behind a lock), so it needs no locking of its own.
pub trait Supervisor<E> {
    /// Task `index` returned `Ok`.
    fn exited(&mut self, index: usize);
    /// Tasks to fail now, with their errors.
    fn doomed(&mut self) -> Vec<(usize, E)>;
    /// How a task still unfinished when the run's deadline passed ends: failed (it was
    /// running or sleeping), or cancelled (it was only waiting for the others). Called once
    /// every lane has stopped, in task order.
    fn expired(&mut self, index: usize) -> TaskEnd<E>;
}

/// How often a lane hands control back to its async runtime (timers of guests that sleep)
/// while its ranks stay busy.
const YIELD_EVERY: Duration = Duration::from_millis(1);

/// The ready ranks of one lane, by their position in the lane.
struct ReadySet {
    flags: Vec<AtomicBool>,
    queue: Mutex<Vec<usize>>,
    parent: Mutex<Option<Waker>>,
    /// The lane is polling ranks and will look at the queue again before it sleeps, so a
    /// wake-up need not wake its runtime (saves a runtime wake per collective).
    polling: AtomicBool,
}

impl ReadySet {
    fn new(len: usize) -> Self {
        ReadySet {
            flags: (0..len).map(|_| AtomicBool::new(true)).collect(),
            queue: Mutex::new((0..len).collect()),
            parent: Mutex::new(None),
            polling: AtomicBool::new(false),
        }
    }

    /// Wake the lane's runtime (it may be asleep waiting for a ready rank).
    fn wake_lane(&self) {
        let parent = relock(&self.parent).clone();
        if let Some(parent) = parent {
            parent.wake();
        }
    }
}

fn relock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

struct TaskWaker {
    position: usize,
    set: Arc<ReadySet>,
}

impl Wake for TaskWaker {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        if !self.set.flags[self.position].swap(true, Ordering::AcqRel) {
            relock(&self.set.queue).push(self.position);
            if self.set.polling.load(Ordering::Acquire) {
                return;
            }
            self.set.wake_lane();
        }
    }
}

/// What the lanes share: the stop signals, the supervisor, and the ends recorded so far.
struct Run<'s, E> {
    lanes: Vec<Arc<ReadySet>>,
    /// A task failed (or was doomed): every lane stops and cancels what it still runs.
    failed: AtomicBool,
    /// The deadline passed: every lane stops; ends are decided once all have.
    expired: AtomicBool,
    control: Mutex<Control<'s, E>>,
}

struct Control<'s, E> {
    supervisor: &'s mut (dyn Supervisor<E> + Send),
    ends: Vec<Option<TaskEnd<E>>>,
}

impl<E> Run<'_, E> {
    fn stopped(&self) -> bool {
        self.failed.load(Ordering::Acquire) || self.expired.load(Ordering::Acquire)
    }

    fn stop(&self, flag: &AtomicBool) {
        if !flag.swap(true, Ordering::AcqRel) {
            for lane in &self.lanes {
                lane.wake_lane();
            }
        }
    }
}

/// Run every task to its end on `threads` worker threads (at most one per task); returns
/// each task's end, in order. Tasks still unfinished at `deadline` end as
/// [`Supervisor::expired`] says (the supervisor knows which were running and which only
/// waited for others). `Err` only when a lane's async runtime cannot start.
pub fn drive<E: Send>(
    tasks: Vec<TaskFuture<E>>,
    supervisor: &mut (dyn Supervisor<E> + Send),
    deadline: Option<Instant>,
    threads: usize,
) -> std::io::Result<Vec<TaskEnd<E>>> {
    let n = tasks.len();
    let lanes = threads.clamp(1, n.max(1));
    let mut members: Vec<Vec<(usize, TaskFuture<E>)>> = (0..lanes).map(|_| Vec::new()).collect();
    for (index, task) in tasks.into_iter().enumerate() {
        members[index % lanes].push((index, task));
    }
    let run = Run {
        lanes: members
            .iter()
            .map(|m| Arc::new(ReadySet::new(m.len())))
            .collect(),
        failed: AtomicBool::new(false),
        expired: AtomicBool::new(false),
        control: Mutex::new(Control {
            supervisor,
            ends: (0..n).map(|_| None).collect(),
        }),
    };
    let unfinished: Vec<(usize, TaskFuture<E>)> = if lanes == 1 {
        let tasks = members.pop().unwrap_or_default();
        lane_runtime()?.block_on(lane(&run, 0, tasks, deadline))
    } else {
        let run = &run;
        std::thread::scope(|scope| {
            let handles: Vec<_> = members
                .into_iter()
                .enumerate()
                .map(|(l, tasks)| {
                    std::thread::Builder::new()
                        .name(format!("kernbench-lane-{l}"))
                        .spawn_scoped(scope, move || {
                            lane_runtime().map(|rt| rt.block_on(lane(run, l, tasks, deadline)))
                        })
                })
                .collect();
            let mut unfinished = Vec::new();
            let mut error = None;
            for handle in handles {
                match handle {
                    Ok(h) => match h.join() {
                        Ok(Ok(rest)) => unfinished.extend(rest),
                        Ok(Err(e)) => error = Some(e),
                        Err(panic) => std::panic::resume_unwind(panic),
                    },
                    Err(e) => {
                        // A lane that never started leaves its ranks unpolled: stop the rest.
                        run.stop(&run.failed);
                        error = Some(e);
                    }
                }
            }
            match error {
                Some(e) => Err(e),
                None => Ok(unfinished),
            }
        })?
    };
    let expired = run.expired.load(Ordering::Acquire);
    let Control {
        supervisor,
        mut ends,
    } = run.control.into_inner().unwrap_or_else(|p| p.into_inner());
    // Cancel: drop what still runs (a wasm call dropped mid-flight is aborted cleanly), in
    // task order, then ask how it ended.
    let mut unfinished = unfinished;
    unfinished.sort_unstable_by_key(|(index, _)| *index);
    for (index, task) in unfinished {
        drop(task);
        if ends[index].is_none() {
            ends[index] = Some(if expired {
                supervisor.expired(index)
            } else {
                TaskEnd::Cancelled
            });
        }
    }
    Ok(ends
        .into_iter()
        .map(|e| e.unwrap_or(TaskEnd::Cancelled))
        .collect())
}

fn lane_runtime() -> std::io::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
}

/// One lane: poll its ready tasks, lowest rank first, until they have all ended or the run
/// stops; returns the tasks it did not finish.
async fn lane<E>(
    run: &Run<'_, E>,
    l: usize,
    tasks: Vec<(usize, TaskFuture<E>)>,
    deadline: Option<Instant>,
) -> Vec<(usize, TaskFuture<E>)> {
    let set = run.lanes[l].clone();
    let wakers: Vec<Waker> = (0..tasks.len())
        .map(|position| {
            Waker::from(Arc::new(TaskWaker {
                position,
                set: set.clone(),
            }))
        })
        .collect();
    let indices: Vec<usize> = tasks.iter().map(|(index, _)| *index).collect();
    let mut slots: Vec<Option<TaskFuture<E>>> = tasks.into_iter().map(|(_, t)| Some(t)).collect();
    let mut running = slots.len();
    let mut last_yield = Instant::now();
    let mut timer = deadline.map(|d| Box::pin(tokio::time::sleep_until(d.into())));

    while running > 0 && !run.stopped() {
        poll_fn(|cx| {
            {
                let mut parent = relock(&set.parent);
                if !parent.as_ref().is_some_and(|w| w.will_wake(cx.waker())) {
                    *parent = Some(cx.waker().clone());
                }
            }
            if let Some(t) = timer.as_mut()
                && t.as_mut().poll(cx).is_ready()
            {
                run.stop(&run.expired);
                return Poll::Ready(());
            }
            if run.stopped() {
                return Poll::Ready(());
            }
            set.polling.store(true, Ordering::Release);
            let mut batch = std::mem::take(&mut *relock(&set.queue));
            if batch.is_empty() {
                // Nothing ready: sleep. A wake-up that raced with this check re-queued its
                // task and, seeing `polling` cleared, woke the runtime; re-check to be sure.
                set.polling.store(false, Ordering::Release);
                if !relock(&set.queue).is_empty() || run.stopped() {
                    cx.waker().wake_by_ref();
                }
                return Poll::Pending;
            }
            batch.sort_unstable();
            for position in batch {
                set.flags[position].store(false, Ordering::Release);
                let Some(task) = slots[position].as_mut() else {
                    continue;
                };
                let index = indices[position];
                let mut task_cx = Context::from_waker(&wakers[position]);
                let polled = task.as_mut().poll(&mut task_cx);
                let mut control = relock(&run.control);
                if let Poll::Ready(result) = polled {
                    slots[position] = None;
                    running -= 1;
                    match result {
                        Ok(()) => {
                            control.ends[index].get_or_insert(TaskEnd::Ok);
                            control.supervisor.exited(index);
                        }
                        Err(e) => {
                            control.ends[index].get_or_insert(TaskEnd::Failed(e));
                            run.stop(&run.failed);
                        }
                    }
                }
                for (doomed, e) in control.supervisor.doomed() {
                    if doomed < control.ends.len() && control.ends[doomed].is_none() {
                        control.ends[doomed] = Some(TaskEnd::Failed(e));
                        run.stop(&run.failed);
                    }
                }
                drop(control);
                if run.stopped() {
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
    slots
        .into_iter()
        .zip(indices)
        .filter_map(|(slot, index)| slot.map(|task| (index, task)))
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
        fn expired(&mut self, index: usize) -> TaskEnd<String> {
            TaskEnd::Failed(format!("task {index} expired"))
        }
    }

    fn drive_on<E: Send>(
        threads: usize,
        tasks: Vec<TaskFuture<E>>,
        sup: &mut (dyn Supervisor<E> + Send),
        deadline: Option<Instant>,
    ) -> Vec<TaskEnd<E>> {
        drive(tasks, sup, deadline, threads).unwrap_or_else(|e| panic!("{e}"))
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
        let ends = drive_on(1, tasks, &mut sup, None);
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
        let ends = drive_on(1, tasks, &mut Quiet::default(), None);
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
        let ends = drive_on(1, tasks, &mut sup, None);
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
        let ends = drive_on(1, tasks, &mut Quiet::default(), Some(deadline));
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
        let ends = drive_on(1, tasks, &mut Quiet::default(), None);
        assert_eq!(ends, vec![TaskEnd::Ok, TaskEnd::Ok]);
        assert_eq!(got.load(Ordering::SeqCst), 42);
    }

    #[test]
    fn lanes_wake_each_other_across_threads() {
        // Task 0 (lane 0) waits for task 1 (lane 1), which waits for task 2 (lane 0): each
        // wake-up crosses a thread.
        let (a, b): (Arc<Mailbox<u32>>, Arc<Mailbox<u32>>) = Default::default();
        let got = Arc::new(AtomicUsize::new(0));
        let (a0, a1, b1, b2, g) = (a.clone(), a.clone(), b.clone(), b.clone(), got.clone());
        let tasks: Vec<TaskFuture<String>> = vec![
            Box::pin(async move {
                g.store(a0.recv().await as usize, Ordering::SeqCst);
                Ok(())
            }),
            Box::pin(async move {
                let v = b1.recv().await;
                a1.post(v + 1);
                Ok(())
            }),
            Box::pin(async move {
                b2.post(41);
                Ok(())
            }),
        ];
        let mut sup = Quiet::default();
        let ends = drive_on(2, tasks, &mut sup, None);
        assert_eq!(ends, vec![TaskEnd::Ok; 3]);
        assert_eq!(got.load(Ordering::SeqCst), 42);
        let mut exits = sup.exits.clone();
        exits.sort_unstable();
        assert_eq!(exits, [0, 1, 2]);
    }

    #[test]
    fn lanes_run_at_the_same_time() {
        // Two tasks that each wait until both have started: on one thread the first would
        // spin forever (it never yields), on two lanes both finish.
        let started = Arc::new(AtomicUsize::new(0));
        let tasks: Vec<TaskFuture<String>> = (0..2)
            .map(|_| {
                let started = started.clone();
                Box::pin(async move {
                    started.fetch_add(1, Ordering::SeqCst);
                    let t0 = Instant::now();
                    while started.load(Ordering::SeqCst) < 2 {
                        if t0.elapsed() > Duration::from_secs(20) {
                            return Err("the other lane never ran".to_owned());
                        }
                        std::hint::spin_loop();
                    }
                    Ok(())
                }) as TaskFuture<String>
            })
            .collect();
        let ends = drive_on(2, tasks, &mut Quiet::default(), None);
        assert_eq!(ends, vec![TaskEnd::Ok; 2]);
    }

    #[test]
    fn a_failure_on_one_lane_cancels_the_waiting_ranks_of_the_other() {
        let mailbox: Arc<Mailbox<()>> = Arc::default();
        let mut tasks: Vec<TaskFuture<String>> = Vec::new();
        for _ in 0..3 {
            let mailbox = mailbox.clone();
            tasks.push(Box::pin(async move {
                mailbox.recv().await;
                Ok(())
            }));
        }
        tasks.push(Box::pin(async {
            tokio::task::yield_now().await;
            Err("rank 3 trapped".to_owned())
        }));
        let ends = drive_on(2, tasks, &mut Quiet::default(), None);
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
    fn the_deadline_stops_every_lane() {
        let mailbox: Arc<Mailbox<()>> = Arc::default();
        let tasks: Vec<TaskFuture<String>> = (0..4)
            .map(|i| {
                let m = mailbox.clone();
                Box::pin(async move {
                    if i == 3 {
                        return Ok(());
                    }
                    m.recv().await;
                    Ok(())
                }) as TaskFuture<String>
            })
            .collect();
        let deadline = Instant::now() + Duration::from_millis(20);
        let ends = drive_on(3, tasks, &mut Quiet::default(), Some(deadline));
        assert_eq!(
            ends,
            [
                TaskEnd::Failed("task 0 expired".into()),
                TaskEnd::Failed("task 1 expired".into()),
                TaskEnd::Failed("task 2 expired".into()),
                TaskEnd::Ok
            ]
        );
    }

    #[test]
    fn a_doomed_rank_of_another_lane_fails_with_its_error() {
        let mailbox: Arc<Mailbox<()>> = Arc::default();
        let m = mailbox.clone();
        let tasks: Vec<TaskFuture<String>> = vec![
            Box::pin(async { Ok(()) }),
            Box::pin(async move {
                m.recv().await;
                Ok(())
            }),
        ];
        let mut sup = Quiet::default();
        sup.doom.push((1, "deadlock".into()));
        let ends = drive_on(2, tasks, &mut sup, None);
        assert_eq!(ends[1], TaskEnd::Failed("deadlock".into()));
    }
}
