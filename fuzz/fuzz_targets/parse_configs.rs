//! Fuzz the host's config parsers: topology specs, CCL configs, sandbox policies and
//! `--limit key=value` flags. The invariant is that none of them ever panics: every input is
//! either accepted or refused with an error (whose message is rendered too).
//!
//! The whole input is offered to every parser. Because the topology and CCL parsers refuse
//! each other's fields, the input may also carry a topology and a CCL config separated by a
//! line `---`, so that `resolve_world_size` sees a fuzzed topology and a fuzzed config
//! together. A parsed CCL config is also resolved against the embedded default topology
//! resized to each world size it names, so the `Ok` path is reached as well as the errors.

#![no_main]

use kernbench_host::runtime::{Limits, Policy};
use kernbench_host::sim::ccl::resolve_world_size;
use kernbench_host::sim::{CclConfig, Topology, TopologySpec};
use libfuzzer_sys::fuzz_target;
use std::hint::black_box;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let (topology_text, ccl_text) = text.split_once("\n---\n").unwrap_or((text, text));

    let fuzzed_topology = topology(text);
    let split_topology = if topology_text == text {
        None
    } else {
        topology(topology_text)
    };
    let ccl_sources = if ccl_text == text {
        &[text][..]
    } else {
        &[text, ccl_text][..]
    };
    for &ccl_source in ccl_sources {
        match CclConfig::from_json(ccl_source, "fuzz") {
            Ok(ccl) => world_size(&ccl, [&fuzzed_topology, &split_topology]),
            Err(err) => {
                black_box(err.to_string());
            }
        }
    }

    match Policy::from_json(text, "fuzz") {
        Ok(policy) => {
            black_box(format!("{policy:?}"));
        }
        Err(err) => {
            black_box(err.to_string());
        }
    }

    let mut strict = Limits::strict();
    let mut trusted = Limits::trusted();
    for line in text.lines() {
        let (key, value) = line.split_once('=').unwrap_or((line, ""));
        for limits in [&mut strict, &mut trusted] {
            if let Err(err) = limits.set(key, value) {
                black_box(err.to_string());
            }
        }
    }
    black_box((strict, trusted));
});

/// Parse and validate a topology; render its summary or the error.
fn topology(text: &str) -> Option<Topology> {
    let validated = TopologySpec::from_json(text, "fuzz").and_then(|spec| spec.validate("fuzz"));
    match validated {
        Ok(topology) => {
            black_box(topology.summary());
            Some(topology)
        }
        Err(err) => {
            black_box(err.to_string());
            None
        }
    }
}

/// Resolve the world size of `ccl` against the fuzzed topologies, the embedded default, and
/// the default resized to every world size the config names.
fn world_size(ccl: &CclConfig, fuzzed: [&Option<Topology>; 2]) {
    let mut topologies: Vec<Topology> = fuzzed.into_iter().flatten().cloned().collect();
    topologies.push(Topology::embedded_default());
    let named = std::iter::once(ccl.defaults.world_size)
        .chain(ccl.overrides.values().map(|s| s.world_size))
        .flatten();
    for sips in named {
        let mut spec = TopologySpec::embedded_default();
        spec.system.sips.count = sips;
        if let Ok(topology) = spec.validate("fuzz") {
            topologies.push(topology);
        }
    }
    for topology in &topologies {
        match resolve_world_size(topology, ccl) {
            Ok(resolved) => {
                assert_eq!(
                    resolved.world_size,
                    topology.sips(),
                    "resolve_world_size accepted a world size that is not the SIP count"
                );
                black_box(resolved.source.to_string());
            }
            Err(err) => {
                black_box(err.to_string());
            }
        }
    }
}
