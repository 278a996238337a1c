//! Rank futures driven cooperatively by a pool of worker threads ("lanes").
//!
//! Ready ranks wait in one queue, oldest first; a lane takes the next one, polls it until it
//! waits (a collective, an operation in flight) or yields at a time slice, and takes the
//! next. A rank is only ever polled by one lane at a time. Lanes join in lazily: one lane
//! starts, a lane with nothing to do sleeps, and a sleeping lane looks every
//! [`STEAL_AFTER`] and joins only while some lane has been inside one poll for that long (a
//! rank computing) with ranks waiting in the queue; a rank whose last poll lasted that long
//! wakes the sleeping lanes as its next poll starts. Ranks that compute between their
//! collectives therefore spread over every lane, while ranks whose polls are short (a
//! barrier in a loop, instantiating 16,384 ranks) stay on one lane instead of paying thread
//! wake-ups, cache misses and TLB shootdowns per round. With one lane this is the single-threaded executor. Simulated
//! results never depend on which lane ran what (ADR-0016). Each lane has its own async
//! runtime (timers of guests that sleep). A rank that finishes with an error ends the run as
//! `torch.multiprocessing.spawn` does: the ranks still running are dropped (cancelled).

use std::collections::VecDeque;
use std::future::{Future, poll_fn};
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU8, AtomicUsize, Ordering};
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
    /// Raised whenever [`doomed`](Self::doomed) may have tasks to name besides those an
    /// ended task makes (after an end, lanes always ask). A lane reads it after each poll
    /// that did not end its task, without the lock the supervisor sits behind, and asks only
    /// when it is up: a barrier round polls every rank once, and asking cost two lock
    /// round-trips per rank (this lock and the supervisor's own). So a task can be doomed
    /// only by a poll (which raises the flag before it returns) or by an end; a supervisor
    /// that learns of doomed tasks otherwise keeps the default, always up: always ask.
    fn doom_signal(&self) -> Arc<AtomicBool> {
        Arc::new(AtomicBool::new(true))
    }
    /// How a task still unfinished when the run's deadline passed ends: failed (it was
    /// running or sleeping), or cancelled (it was only waiting for the others). Called once
    /// every lane has stopped, in task order.
    fn expired(&mut self, index: usize) -> TaskEnd<E>;
}

/// How often a lane hands control back to its async runtime (timers of guests that sleep)
/// while it stays busy.
const YIELD_EVERY: Duration = Duration::from_millis(1);

/// How long a poll must have lasted before a sleeping lane joins in, and how often a sleeping
/// lane looks (tokio's timer resolution is 1 ms). Long next to a rank's poll that only meets
/// others (microseconds), short next to a time slice (10 ms).
pub const STEAL_AFTER: Duration = Duration::from_millis(1);

/// Where a task is: not ready, in the queue, being polled (and maybe woken meanwhile), or
/// ended.
const IDLE: u8 = 0;
const QUEUED: u8 = 1;
const POLLING: u8 = 2;
const POLLING_WOKEN: u8 = 3;
const DONE: u8 = 4;

/// Whether a poll from `began` to `ended` ([`Run::nanos`]) lasted [`STEAL_AFTER`]: a rank
/// computing.
fn computed(began: u64, ended: u64) -> bool {
    ended.saturating_sub(began) >= STEAL_AFTER.as_nanos() as u64
}

fn relock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// The ready queue and the lanes' wake-up handles.
struct Ready {
    states: Vec<AtomicU8>,
    /// Ready tasks, oldest first.
    queue: Mutex<VecDeque<usize>>,
    /// Lanes not asleep.
    active: AtomicUsize,
    /// Each lane's runtime waker (set when the lane first waits).
    lanes: Vec<Mutex<Option<Waker>>>,
}

impl Ready {
    /// Queue task `index` (whose state the caller moved to `QUEUED`); wake a lane if none is
    /// active to take it.
    fn push(&self, index: usize) {
        relock(&self.queue).push_back(index);
        if self.active.load(Ordering::SeqCst) == 0 {
            self.wake_one();
        }
    }

    fn wake_one(&self) {
        if let Some(lane) = self.lanes.first() {
            wake_lane(lane);
        }
    }

    fn wake_all(&self) {
        self.lanes.iter().for_each(wake_lane);
    }
}

/// Wake a lane's runtime (the waker is cloned out so the lock is not held while it runs).
fn wake_lane(lane: &Mutex<Option<Waker>>) {
    let waker = relock(lane).clone();
    if let Some(waker) = waker {
        waker.wake();
    }
}

struct TaskWaker {
    index: usize,
    ready: Arc<Ready>,
}

impl Wake for TaskWaker {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        let state = &self.ready.states[self.index];
        let mut current = state.load(Ordering::Acquire);
        loop {
            let next = match current {
                IDLE => QUEUED,
                POLLING => POLLING_WOKEN,
                _ => return,
            };
            match state.compare_exchange(current, next, Ordering::AcqRel, Ordering::Acquire) {
                Ok(_) => break,
                Err(actual) => current = actual,
            }
        }
        if current == IDLE {
            self.ready.push(self.index);
        }
    }
}

/// What the lanes share: the tasks, the ready queue, the stop signals, the supervisor and
/// the ends recorded so far.
struct Run<'s, E> {
    tasks: Vec<Mutex<Option<TaskFuture<E>>>>,
    wakers: Vec<Waker>,
    ready: Arc<Ready>,
    /// Tasks not ended yet.
    running: AtomicUsize,
    /// When each lane's current poll began ([`Run::nanos`]), 0 between polls.
    busy_since: Vec<std::sync::atomic::AtomicU64>,
    /// Whether each task's last poll lasted [`STEAL_AFTER`] or more: it computes between
    /// its waits, and its next poll likely will too.
    computes: Vec<AtomicBool>,
    /// Whether each lane's current poll is of a task that [`computes`](Self::computes).
    busy_computing: Vec<AtomicBool>,
    started: Instant,
    /// A task failed (or was doomed): every lane stops and cancels what it still runs.
    failed: AtomicBool,
    /// The deadline passed: every lane stops; ends are decided once all have.
    expired: AtomicBool,
    /// [`Supervisor::doom_signal`].
    doom_signal: Arc<AtomicBool>,
    control: Mutex<Control<'s, E>>,
}

struct Control<'s, E> {
    supervisor: &'s mut (dyn Supervisor<E> + Send),
    ends: Vec<Option<TaskEnd<E>>>,
}

impl<E> Run<'_, E> {
    fn stopped(&self) -> bool {
        self.failed.load(Ordering::Acquire)
            || self.expired.load(Ordering::Acquire)
            || self.running.load(Ordering::Acquire) == 0
    }

    fn stop(&self, flag: &AtomicBool) {
        if !flag.swap(true, Ordering::AcqRel) {
            self.ready.wake_all();
        }
    }

    /// Take the next ready task.
    fn next(&self) -> Option<usize> {
        relock(&self.ready.queue).pop_front()
    }

    /// Whether a sleeping lane should join: no lane is active, or one has been inside a
    /// single poll for [`STEAL_AFTER`] (while ranks wait in the queue).
    fn worth_joining(&self) -> bool {
        if relock(&self.ready.queue).is_empty() {
            return false;
        }
        self.ready.active.load(Ordering::SeqCst) == 0 || self.computing()
    }

    /// Whether some lane has been inside one poll for [`STEAL_AFTER`], or polls a task whose
    /// last poll lasted that long: a rank computing.
    fn computing(&self) -> bool {
        self.computing_at(self.nanos())
    }

    /// [`computing`](Self::computing) at `now` ([`Run::nanos`]), for a lane that has just
    /// read the clock.
    fn computing_at(&self, now: u64) -> bool {
        (self.busy_since.iter().zip(&self.busy_computing)).any(|(since, computes)| {
            let since = since.load(Ordering::Acquire);
            since != 0 && (computes.load(Ordering::Acquire) || computed(since, now))
        })
    }

    /// Record whether task `index`'s poll (from `began` to `ended`, [`Run::nanos`]) computed,
    /// and return it.
    fn note_poll(&self, index: usize, began: u64, ended: u64) -> bool {
        let long = computed(began, ended);
        self.computes[index].store(long, Ordering::Release);
        long
    }

    /// A lane has begun to poll a task whose last poll computed: if other ranks wait in
    /// the queue, wake the sleeping lanes now. They would otherwise see it compute only at
    /// their next look, a millisecond or two into every round of a bench whose ranks
    /// compute between collectives. Ranks whose polls are short never wake them.
    /// (The waking lane is woken too: it is inside a poll, and only looks again sooner.)
    fn wake_sleeping_lanes(&self) {
        if self.ready.active.load(Ordering::SeqCst) < self.ready.lanes.len()
            && !relock(&self.ready.queue).is_empty()
        {
            self.ready.wake_all();
        }
    }

    /// Nanoseconds since the run began, plus one (zero means "not polling").
    fn nanos(&self) -> u64 {
        u64::try_from(self.started.elapsed().as_nanos())
            .unwrap_or(u64::MAX - 1)
            .saturating_add(1)
    }

    /// Poll task `index` once on lane `l`, from `now` ([`Run::nanos`], read by the caller:
    /// one clock read per poll serves this and the lane's own checks), and record how it
    /// ended, if it did.
    fn poll_task(&self, l: usize, index: usize, now: u64) {
        let state = &self.ready.states[index];
        if state
            .compare_exchange(QUEUED, POLLING, Ordering::AcqRel, Ordering::Acquire)
            .is_err()
        {
            return; // ended meanwhile
        }
        let polled = {
            let mut slot = relock(&self.tasks[index]);
            match slot.as_mut() {
                Some(task) => {
                    let mut cx = Context::from_waker(&self.wakers[index]);
                    // Marked busy (and computing) before any wake: a woken lane must see it.
                    let computes = self.computes[index].load(Ordering::Acquire);
                    self.busy_computing[l].store(computes, Ordering::Release);
                    self.busy_since[l].store(now, Ordering::Release);
                    if computes {
                        self.wake_sleeping_lanes();
                    }
                    let polled = task.as_mut().poll(&mut cx);
                    self.busy_since[l].store(0, Ordering::Release);
                    if polled.is_ready() {
                        *slot = None;
                    }
                    polled
                }
                None => Poll::Pending,
            }
        };
        let ended = match polled {
            Poll::Ready(result) => Some(result),
            Poll::Pending => {
                if state
                    .compare_exchange(POLLING, IDLE, Ordering::AcqRel, Ordering::Acquire)
                    .is_err()
                {
                    // Woken while it ran: it is ready again.
                    state.store(QUEUED, Ordering::Release);
                    self.ready.push(index);
                }
                None
            }
        };
        if ended.is_some() || self.doom_signal.load(Ordering::Acquire) {
            let mut control = relock(&self.control);
            if let Some(result) = ended {
                state.store(DONE, Ordering::Release);
                self.running.fetch_sub(1, Ordering::AcqRel);
                match result {
                    Ok(()) => {
                        control.ends[index].get_or_insert(TaskEnd::Ok);
                        control.supervisor.exited(index);
                    }
                    Err(e) => {
                        control.ends[index].get_or_insert(TaskEnd::Failed(e));
                        self.stop(&self.failed);
                    }
                }
            }
            for (doomed, e) in control.supervisor.doomed() {
                if doomed < control.ends.len() && control.ends[doomed].is_none() {
                    control.ends[doomed] = Some(TaskEnd::Failed(e));
                    self.stop(&self.failed);
                }
            }
        }
        if self.running.load(Ordering::Acquire) == 0 {
            self.ready.wake_all();
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
    let now = Instant::now();
    let ready = Arc::new(Ready {
        states: (0..n).map(|_| AtomicU8::new(QUEUED)).collect(),
        queue: Mutex::new((0..n).collect()),
        active: AtomicUsize::new(1),
        lanes: (0..lanes).map(|_| Mutex::new(None)).collect(),
    });
    let run = Run {
        wakers: (0..n)
            .map(|index| {
                Waker::from(Arc::new(TaskWaker {
                    index,
                    ready: ready.clone(),
                }))
            })
            .collect(),
        tasks: tasks.into_iter().map(|t| Mutex::new(Some(t))).collect(),
        ready,
        running: AtomicUsize::new(n),
        busy_since: (0..lanes).map(|_| Default::default()).collect(),
        computes: (0..n).map(|_| AtomicBool::new(false)).collect(),
        busy_computing: (0..lanes).map(|_| AtomicBool::new(false)).collect(),
        started: now,
        failed: AtomicBool::new(false),
        expired: AtomicBool::new(false),
        doom_signal: supervisor.doom_signal(),
        control: Mutex::new(Control {
            supervisor,
            ends: (0..n).map(|_| None).collect(),
        }),
    };
    // Every lane's runtime lives until the tasks are dropped: a rank's timer (a guest's WASI
    // sleep) stays registered with the runtime of the lane that first polled it, and the rank
    // may be polled on another lane after that lane has stopped.
    let runtimes = (0..lanes)
        .map(|_| lane_runtime())
        .collect::<std::io::Result<Vec<_>>>()?;
    if let [only] = runtimes.as_slice() {
        only.block_on(lane(&run, 0, deadline));
    } else {
        let run = &run;
        std::thread::scope(|scope| {
            let handles: Vec<_> = runtimes
                .iter()
                .enumerate()
                .map(|(l, rt)| {
                    std::thread::Builder::new()
                        .name(format!("kernbench-lane-{l}"))
                        .spawn_scoped(scope, move || rt.block_on(lane(run, l, deadline)))
                })
                .collect();
            let mut error = None;
            for handle in handles {
                match handle {
                    Ok(h) => {
                        if let Err(panic) = h.join() {
                            std::panic::resume_unwind(panic);
                        }
                    }
                    Err(e) => {
                        // A lane that never started leaves the others to run every rank;
                        // the run is refused all the same (it asked for that many threads).
                        run.stop(&run.failed);
                        error = Some(e);
                    }
                }
            }
            error.map_or(Ok(()), Err)
        })?;
    }
    let expired = run.expired.load(Ordering::Acquire);
    let Control {
        supervisor,
        mut ends,
    } = run.control.into_inner().unwrap_or_else(|p| p.into_inner());
    // Cancel: drop what still runs (a wasm call dropped mid-flight is aborted cleanly), in
    // task order, then ask how it ended.
    for (index, slot) in run.tasks.into_iter().enumerate() {
        let task = slot.into_inner().unwrap_or_else(|p| p.into_inner());
        if task.is_none() {
            continue;
        }
        drop(task);
        if ends[index].is_none() {
            ends[index] = Some(if expired {
                supervisor.expired(index)
            } else {
                TaskEnd::Cancelled
            });
        }
    }
    drop(runtimes);
    Ok(ends
        .into_iter()
        .map(|e| e.unwrap_or(TaskEnd::Cancelled))
        .collect())
}

/// Stops the run when a lane unwinds (a panic inside a rank's poll): the other lanes must
/// not go on waiting for ranks that lane will never poll again.
struct StopOnPanic<'r, 's, E>(&'r Run<'s, E>);

impl<E> Drop for StopOnPanic<'_, '_, E> {
    fn drop(&mut self) {
        if std::thread::panicking() {
            self.0.stop(&self.0.failed);
        }
    }
}

fn lane_runtime() -> std::io::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
}

/// One lane: take ready tasks and poll them until every task has ended or the run stops.
async fn lane<E>(run: &Run<'_, E>, l: usize, deadline: Option<Instant>) {
    let _stop_on_panic = StopOnPanic(run);
    let ready = &run.ready;
    let mut last_yield = Instant::now();
    let mut timer = deadline.map(|d| Box::pin(tokio::time::sleep_until(d.into())));
    let mut steal_check: Option<Pin<Box<tokio::time::Sleep>>> = None;
    let mut active = l == 0;
    while !run.stopped() {
        poll_fn(|cx| {
            {
                let mut waker = relock(&ready.lanes[l]);
                if !waker.as_ref().is_some_and(|w| w.will_wake(cx.waker())) {
                    *waker = Some(cx.waker().clone());
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
            if !active {
                // Asleep: join in if no lane is active (we were woken for a push), or if a
                // lane is busy computing while ranks wait.
                match run.worth_joining().then(|| run.next()).flatten() {
                    Some(index) => {
                        ready.active.fetch_add(1, Ordering::SeqCst);
                        active = true;
                        steal_check = None;
                        let began = run.nanos();
                        run.poll_task(l, index, began);
                        run.note_poll(index, began, run.nanos());
                        return Poll::Ready(());
                    }
                    None => {
                        // Look again in a while: a lane that becomes active later does not
                        // wake the sleeping ones.
                        let check = steal_check
                            .get_or_insert_with(|| Box::pin(tokio::time::sleep(STEAL_AFTER)));
                        if check.as_mut().poll(cx).is_ready() {
                            steal_check = None;
                            cx.waker().wake_by_ref();
                        }
                        return Poll::Pending;
                    }
                }
            }
            // Active: run ready tasks for a while, then hand back to the runtime. The clock is
            // read once per poll (a barrier round polls every rank once; the reads were 6% of
            // it): the end of one poll is the start of the next.
            let started = run.nanos();
            let mut now = started;
            while let Some(index) = run.next() {
                let began = now;
                run.poll_task(l, index, began);
                if run.stopped() {
                    return Poll::Ready(());
                }
                now = run.nanos();
                let short = !run.note_poll(index, began, now);
                // A lane that joined to share computing ranks goes back to sleep once it
                // only gets short polls and no lane computes: short polls on several lanes
                // cost more (shared cache lines, TLB shootdowns) than they gain.
                if l != 0 && short && !run.computing_at(now) {
                    break;
                }
                if now.saturating_sub(started) >= YIELD_EVERY.as_nanos() as u64 {
                    return Poll::Ready(());
                }
            }
            // Nothing ready (or nothing worth a second lane): go to sleep. Come back once at
            // once, as a sleeping lane: that
            // looks at the queue again (a push that raced with this saw us still active and
            // woke no one) and sets the timer of the next look.
            ready.active.fetch_sub(1, Ordering::SeqCst);
            active = false;
            cx.waker().wake_by_ref();
            Poll::Pending
        })
        .await;
        if last_yield.elapsed() >= YIELD_EVERY {
            tokio::task::yield_now().await;
            last_yield = Instant::now();
        }
    }
    if active {
        ready.active.fetch_sub(1, Ordering::SeqCst);
    }
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
        for threads in [1, 2] {
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
            let ends = drive_on(threads, tasks, &mut Quiet::default(), None);
            assert_eq!(polled.load(Ordering::SeqCst), 3, "{threads} threads");
            assert_eq!(
                ends,
                [
                    TaskEnd::Cancelled,
                    TaskEnd::Cancelled,
                    TaskEnd::Cancelled,
                    TaskEnd::Failed("rank 3 trapped".into())
                ],
                "{threads} threads"
            );
        }
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

    #[test]
    fn an_idle_lane_takes_a_rank_the_busy_lane_readied() {
        // Task 0 readies task 1 and then computes (never yields) until task 1 has run: only
        // the sleeping lane, looking at the queue after STEAL_AFTER, can run it.
        let mailbox: Arc<Mailbox<()>> = Arc::default();
        let ran = Arc::new(AtomicBool::new(false));
        let (m0, m1, r0, r1) = (mailbox.clone(), mailbox, ran.clone(), ran);
        let tasks: Vec<TaskFuture<String>> = vec![
            Box::pin(async move {
                tokio::task::yield_now().await; // let task 1 start waiting
                m0.post(());
                let t0 = Instant::now();
                while !r0.load(Ordering::SeqCst) {
                    if t0.elapsed() > Duration::from_secs(20) {
                        return Err("the idle lane never took the readied rank".to_owned());
                    }
                    std::hint::spin_loop();
                }
                Ok(())
            }),
            Box::pin(async move {
                m1.recv().await;
                r1.store(true, Ordering::SeqCst);
                Ok(())
            }),
        ];
        let ends = drive_on(2, tasks, &mut Quiet::default(), None);
        assert_eq!(ends, vec![TaskEnd::Ok; 2]);
    }

    #[test]
    fn a_panicking_rank_stops_the_other_lanes_at_once() {
        // Task 1 panics inside its poll while task 0 waits for a message nobody sends: the
        // panic must reach the caller now, not at the deadline (30 s here).
        let mailbox: Arc<Mailbox<()>> = Arc::default();
        let tasks: Vec<TaskFuture<String>> = vec![
            Box::pin(async move {
                mailbox.recv().await;
                Ok(())
            }),
            Box::pin(async {
                // Past the join threshold, so a second lane is running when it panics.
                let t0 = Instant::now();
                while t0.elapsed() < 3 * STEAL_AFTER {
                    std::hint::spin_loop();
                }
                panic!("a host bug inside a rank's poll")
            }),
        ];
        let started = Instant::now();
        let deadline = Some(started + Duration::from_secs(30));
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            drive(tasks, &mut Quiet::default(), deadline, 2)
        }));
        assert!(outcome.is_err(), "the panic was swallowed");
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "the panic surfaced only after {:?}",
            started.elapsed()
        );
    }
}
