//! How far a stackless rank goes (issue 11, ADR-0017): a barrier across N rank instances on
//! one OS thread, as a callback-lifted component-model-async export (a waiting rank returns
//! to the host) against the stackful design the runtime uses (a waiting rank's fiber is
//! suspended inside a sync-lowered host call).
//!
//! The barrier is a bare rendezvous, with none of the runtime's simulation behind it, so the
//! figures compare the two ways of waiting and nothing else. The perf harness runs this and
//! sets the figures beside the greenlet model in the same run.
//!
//! `kernbench-stackless --stackless A.wasm --stackful B.wasm [--ns 8,64,512] [--reps 5]
//! [--target-ms 400] [--variants stackful,stackless,...] [--json]`

use futures::future::try_join_all;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Poll, Waker};
use std::time::{Duration, Instant};
use wasmtime::component::{Accessor, Component, InstancePre, Linker, TypedFunc};
use wasmtime::error::Context;
use wasmtime::{Config, Engine, Result, Store, StoreContextMut, bail};

/// A reusable N-party barrier: the last arrival bumps the generation and wakes every waiter.
struct Rendezvous {
    n: usize,
    state: Mutex<Round>,
}

struct Round {
    arrived: usize,
    generation: u64,
    wakers: Vec<Waker>,
}

impl Rendezvous {
    fn new(n: usize) -> Arc<Self> {
        Arc::new(Rendezvous {
            n,
            state: Mutex::new(Round {
                arrived: 0,
                generation: 0,
                wakers: Vec::with_capacity(n),
            }),
        })
    }

    fn lock(&self) -> MutexGuard<'_, Round> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Arrive; the future is ready once all `n` parties of this generation have arrived.
    fn arrive(self: &Arc<Self>) -> Arrive {
        let mut round = self.lock();
        let generation = round.generation;
        round.arrived += 1;
        if round.arrived < self.n {
            return Arrive {
                rendezvous: Some(self.clone()),
                generation,
            };
        }
        round.arrived = 0;
        round.generation += 1;
        let wakers = std::mem::replace(&mut round.wakers, Vec::with_capacity(self.n));
        drop(round);
        wakers.into_iter().for_each(Waker::wake);
        Arrive {
            rendezvous: None,
            generation,
        }
    }
}

/// [`Rendezvous::arrive`]'s future; `None` once it is done.
struct Arrive {
    rendezvous: Option<Arc<Rendezvous>>,
    generation: u64,
}

impl Future for Arrive {
    type Output = ();
    fn poll(mut self: Pin<&mut Self>, cx: &mut std::task::Context<'_>) -> Poll<()> {
        let Some(rendezvous) = &self.rendezvous else {
            return Poll::Ready(());
        };
        let mut round = rendezvous.lock();
        if round.generation != self.generation {
            drop(round);
            self.rendezvous = None;
            return Poll::Ready(());
        }
        // wasmtime polls a concurrent host future once with a no-op waker before queueing
        // it: a second waker for the same rank is harmless (one extra wake).
        round.wakers.push(cx.waker().clone());
        Poll::Pending
    }
}

/// A rank's store data.
struct Rank {
    rendezvous: Arc<Rendezvous>,
}

/// The runtime's configuration: no component-model concurrency (every host call is faster).
fn stackful_engine() -> Result<Engine> {
    let mut config = Config::new();
    config.concurrency_support(false);
    Engine::new(&config)
}

/// Component-model async on.
fn concurrent_engine() -> Result<Engine> {
    let mut config = Config::new();
    config
        .concurrency_support(true)
        .wasm_component_model_async(true);
    Engine::new(&config)
}

/// The stackful guest: `barrier` is sync-lowered, so the host future suspends the rank's
/// fiber.
fn stackful_pre(engine: &Engine, wasm: &str) -> Result<InstancePre<Rank>> {
    let component =
        Component::from_file(engine, wasm).with_context(|| format!("loading {wasm}"))?;
    let mut linker = Linker::<Rank>::new(engine);
    linker
        .root()
        .func_wrap_async("barrier", |store: StoreContextMut<'_, Rank>, (): ()| {
            let arrive = store.data().rendezvous.arrive();
            Box::new(async move {
                arrive.await;
                Ok(())
            })
        })?;
    linker.instantiate_pre(&component)
}

/// The stackless guest: `barrier` is async-lowered; while it is pending the guest gets a
/// subtask back and its callback returns WAIT, keeping no stack.
fn stackless_pre(engine: &Engine, wasm: &str) -> Result<InstancePre<Rank>> {
    let component =
        Component::from_file(engine, wasm).with_context(|| format!("loading {wasm}"))?;
    let mut linker = Linker::<Rank>::new(engine);
    linker
        .root()
        .func_wrap_concurrent("barrier", |accessor: &Accessor<Rank>, (): ()| {
            let arrive = accessor.with(|mut a| a.get().rendezvous.arrive());
            Box::pin(async move {
                arrive.await;
                Ok(())
            })
        })?;
    linker.instantiate_pre(&component)
}

type RunFn = TypedFunc<(u32,), ()>;

/// N stores, one rank instance each, sharing one rendezvous (instantiation is not timed).
async fn rank_stores(
    engine: &Engine,
    pre: &InstancePre<Rank>,
    n: usize,
) -> Result<(Vec<Store<Rank>>, Vec<RunFn>)> {
    let rendezvous = Rendezvous::new(n);
    let (mut stores, mut funcs) = (Vec::with_capacity(n), Vec::with_capacity(n));
    for _ in 0..n {
        let mut store = Store::new(
            engine,
            Rank {
                rendezvous: rendezvous.clone(),
            },
        );
        let instance = pre.instantiate_async(&mut store).await?;
        funcs.push(instance.get_typed_func::<(u32,), ()>(&mut store, "run")?);
        stores.push(store);
    }
    Ok((stores, funcs))
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Variant {
    /// The runtime's design: a store and a fiber per rank, `call_async`.
    Stackful,
    /// A store per rank, each driven by its own `run_concurrent` event loop.
    Stackless,
    /// All N instances in one store, called concurrently inside one `run_concurrent`.
    StacklessOneStore,
    /// The stackful design on a concurrency-enabled engine: what enabling it alone costs.
    StackfulConcurrent,
}

const VARIANTS: [(&str, Variant); 4] = [
    ("stackful", Variant::Stackful),
    ("stackless", Variant::Stackless),
    ("stackless-one-store", Variant::StacklessOneStore),
    ("stackful-concurrent", Variant::StackfulConcurrent),
];

impl Variant {
    fn name(self) -> &'static str {
        VARIANTS
            .iter()
            .find(|(_, v)| *v == self)
            .map_or("?", |(name, _)| name)
    }
}

struct Prototype {
    stackful: Engine,
    stackful_pre: InstancePre<Rank>,
    concurrent: Engine,
    stackless_pre: InstancePre<Rank>,
    stackful_on_concurrent_pre: InstancePre<Rank>,
}

impl Prototype {
    /// One warm-up `run(warm)` on every rank, then one timed `run(rounds)`.
    async fn once(&self, v: Variant, n: usize, warm: u32, rounds: u32) -> Result<Duration> {
        match v {
            Variant::Stackful | Variant::StackfulConcurrent => {
                let (engine, pre) = if v == Variant::Stackful {
                    (&self.stackful, &self.stackful_pre)
                } else {
                    (&self.concurrent, &self.stackful_on_concurrent_pre)
                };
                let (mut stores, funcs) = rank_stores(engine, pre, n).await?;
                let mut go = async |r: u32| -> Result<Duration> {
                    let t = Instant::now();
                    let calls = stores
                        .iter_mut()
                        .zip(&funcs)
                        .map(|(s, f)| f.call_async(s, (r,)));
                    // The first failing rank ends the round: the others would wait for it.
                    try_join_all(calls).await?;
                    Ok(t.elapsed())
                };
                go(warm).await?;
                go(rounds).await
            }
            Variant::Stackless => {
                let (mut stores, funcs) =
                    rank_stores(&self.concurrent, &self.stackless_pre, n).await?;
                let mut go = async |r: u32| -> Result<Duration> {
                    let t = Instant::now();
                    let loops = stores.iter_mut().zip(&funcs).map(|(s, f)| {
                        let f = *f;
                        async move {
                            s.run_concurrent(async move |a| f.call_concurrent(a, (r,)).await)
                                .await?
                        }
                    });
                    try_join_all(loops).await?;
                    Ok(t.elapsed())
                };
                go(warm).await?;
                go(rounds).await
            }
            Variant::StacklessOneStore => {
                let mut store = Store::new(
                    &self.concurrent,
                    Rank {
                        rendezvous: Rendezvous::new(n),
                    },
                );
                let mut funcs = Vec::with_capacity(n);
                for _ in 0..n {
                    let instance = self.stackless_pre.instantiate_async(&mut store).await?;
                    funcs.push(instance.get_typed_func::<(u32,), ()>(&mut store, "run")?);
                }
                let mut go = async |r: u32| -> Result<Duration> {
                    let funcs = funcs.clone();
                    store
                        .run_concurrent(async move |a| -> Result<Duration> {
                            let t = Instant::now();
                            let calls = funcs.iter().map(|f| f.call_concurrent(a, (r,)));
                            try_join_all(calls).await?;
                            Ok(t.elapsed())
                        })
                        .await?
                };
                go(warm).await?;
                go(rounds).await
            }
        }
    }

    /// Rounds such that one timed run takes about `target`, then `reps` samples of ns per
    /// rank per round.
    async fn samples(
        &self,
        v: Variant,
        n: usize,
        reps: usize,
        target: Duration,
    ) -> Result<Vec<f64>> {
        let mut rounds = 16u32;
        loop {
            let d = self.once(v, n, 4, rounds).await?;
            if d >= target / 4 || rounds >= 1 << 24 {
                let per_round = d.as_secs_f64() / f64::from(rounds);
                rounds = ((target.as_secs_f64() / per_round) as u32).clamp(16, 1 << 24);
                break;
            }
            rounds *= 4;
        }
        let warm = (rounds / 10).max(4);
        let mut values = Vec::with_capacity(reps);
        for _ in 0..reps {
            let d = self.once(v, n, warm, rounds).await?;
            values.push(d.as_nanos() as f64 / (n as f64 * f64::from(rounds)));
        }
        Ok(values)
    }
}

struct Args {
    stackless: String,
    stackful: String,
    ns: Vec<usize>,
    reps: usize,
    target: Duration,
    variants: Vec<Variant>,
    json: bool,
}

fn parse_args() -> Result<Args> {
    let mut args = Args {
        stackless: String::new(),
        stackful: String::new(),
        ns: vec![8, 64, 512],
        reps: 5,
        target: Duration::from_millis(400),
        variants: vec![
            Variant::Stackful,
            Variant::Stackless,
            Variant::StacklessOneStore,
        ],
        json: false,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        if flag == "--json" {
            args.json = true;
            continue;
        }
        let Some(value) = it.next() else {
            bail!("{flag} needs a value");
        };
        let number = |what: &str, max: u64| -> Result<u64> {
            match value.parse::<u64>() {
                Ok(n) if (1..=max).contains(&n) => Ok(n),
                _ => bail!("{flag} expects {what} from 1 to {max}, got {value:?}"),
            }
        };
        match flag.as_str() {
            "--stackless" => args.stackless = value.clone(),
            "--stackful" => args.stackful = value.clone(),
            "--reps" => args.reps = number("a count", 1000)? as usize,
            "--target-ms" => args.target = Duration::from_millis(number("milliseconds", 60_000)?),
            "--ns" => {
                args.ns = value
                    .split(',')
                    .map(|s| match s.parse::<usize>() {
                        Ok(n) if (1..=4096).contains(&n) => Ok(n),
                        _ => bail!("--ns expects rank counts from 1 to 4096, got {s:?}"),
                    })
                    .collect::<Result<_>>()?;
            }
            "--variants" => {
                args.variants = value
                    .split(',')
                    .map(|s| match VARIANTS.iter().find(|(name, _)| *name == s) {
                        Some((_, v)) => Ok(*v),
                        None => bail!("unknown variant {s:?}"),
                    })
                    .collect::<Result<_>>()?;
            }
            _ => bail!("unknown flag {flag:?}"),
        }
    }
    if args.stackless.is_empty() || args.stackful.is_empty() {
        bail!("--stackless and --stackful name the two guest components");
    }
    Ok(args)
}

fn main() -> Result<()> {
    let args = parse_args()?;
    let stackful = stackful_engine()?;
    let concurrent = concurrent_engine()?;
    let prototype = Prototype {
        stackful_pre: stackful_pre(&stackful, &args.stackful)?,
        stackless_pre: stackless_pre(&concurrent, &args.stackless)?,
        stackful_on_concurrent_pre: stackful_pre(&concurrent, &args.stackful)?,
        stackful,
        concurrent,
    };
    let mut rows = Vec::new();
    for &n in &args.ns {
        for &v in &args.variants {
            let values =
                futures::executor::block_on(prototype.samples(v, n, args.reps, args.target))
                    .with_context(|| format!("variant {} at N={n}", v.name()))?;
            if !args.json {
                let mut sorted = values.clone();
                sorted.sort_by(f64::total_cmp);
                println!(
                    "N={n:<5} {:<20} {:>8.1} ns per rank per round (min {:.1}, max {:.1})",
                    v.name(),
                    sorted[sorted.len() / 2],
                    sorted[0],
                    sorted[sorted.len() - 1]
                );
            }
            rows.push(
                serde_json::json!({ "n": n, "variant": v.name(), "ns_per_rank_round": values }),
            );
        }
    }
    if args.json {
        println!("{}", serde_json::json!({ "rows": rows }));
    }
    Ok(())
}
