use super::*;
use crate::sim::Topology;
use crate::sim::cost::{Plan, Resource, Stage};
use crate::sim::topology::TopologySpec;

fn link(from: u32, to: u32) -> Resource {
    Resource::SipLink { from, to }
}

fn one_stage(latency_ns: u64, loads: &[(Resource, u64)]) -> Plan {
    Plan {
        stages: vec![Stage {
            latency_ns,
            loads: loads.to_vec(),
        }],
    }
}

fn run_all(net: &mut Network<u32>, model: &CostModel) -> Vec<(u32, u64)> {
    let mut ends = Vec::new();
    while net.next_event().is_some() {
        ends.extend(net.advance(model));
    }
    ends.sort_unstable();
    ends
}

fn model() -> CostModel {
    CostModel::new(&Topology::embedded_default())
}

#[test]
fn a_flow_alone_ends_when_the_cost_model_says() {
    let model = model();
    let mut net = Network::new();
    // 3000 ns latency, then 1 MiB at 50 B/ns = ceil(20971.52) = 20972 ns.
    assert_eq!(
        net.start(7, 100, one_stage(3000, &[(link(0, 1), 1 << 20)])),
        None
    );
    assert_eq!(run_all(&mut net, &model), [(7, 100 + 3000 + 20_972)]);
    assert!(net.is_idle());
}

#[test]
fn two_flows_on_one_link_share_it_and_disjoint_links_do_not() {
    let model = model();
    let mut net = Network::new();
    // Both move 100 000 bytes over link 0->1 from t = 0: 50 B/ns shared is 25 each, 4000 ns.
    net.start(1, 0, one_stage(0, &[(link(0, 1), 100_000)]));
    net.start(2, 0, one_stage(0, &[(link(0, 1), 100_000)]));
    // A third on another link is not slowed: 2000 ns.
    net.start(3, 0, one_stage(0, &[(link(1, 0), 100_000)]));
    assert_eq!(run_all(&mut net, &model), [(1, 4000), (2, 4000), (3, 2000)]);
}

#[test]
fn a_late_flow_slows_the_first_only_while_both_move() {
    let model = model();
    let mut net = Network::new();
    // A: 100 000 bytes from 0. B: 50 000 bytes from 1000. A alone moves 50 000 by 1000; then
    // both at 25 B/ns: B's 50 000 take 2000 ns (ends 3000), A's 50 000 left drop to 0 at the
    // same time. Sum: 150 000 bytes at 50 B/ns = 3000 ns, the link never idle.
    net.start(1, 0, one_stage(0, &[(link(0, 1), 100_000)]));
    net.advance(&model); // A starts moving at 0
    net.start(2, 1000, one_stage(0, &[(link(0, 1), 50_000)]));
    assert_eq!(run_all(&mut net, &model), [(1, 3000), (2, 3000)]);
}

#[test]
fn max_min_gives_the_unbottlenecked_flow_the_rest_of_a_link() {
    let model = model();
    let mut net = Network::new();
    // A crosses links 0->1 and 1->2; B only 0->1; C only 1->2 but with 3x A's bytes per unit.
    // Each link 50 B/ns. Progressive filling: 0->1 has A, B (weights 1, 1): level 25;
    // 1->2 has A, C (weights 1, 1): level 25. A and B get 25 on 0->1, C gets the rest of
    // 1->2: 25. All move 50 000 bytes: 2000 ns.
    net.start(
        1,
        0,
        one_stage(0, &[(link(0, 1), 50_000), (link(1, 2), 50_000)]),
    );
    net.start(2, 0, one_stage(0, &[(link(0, 1), 50_000)]));
    net.start(3, 0, one_stage(0, &[(link(1, 2), 50_000)]));
    assert_eq!(run_all(&mut net, &model), [(1, 2000), (2, 2000), (3, 2000)]);
    // With C alone on 1->2 next to a flow D that uses only 2->3, C takes the whole link.
    let mut net = Network::new();
    net.start(
        1,
        0,
        one_stage(0, &[(link(0, 1), 50_000), (link(1, 2), 50_000)]),
    );
    net.start(2, 0, one_stage(0, &[(link(0, 1), 150_000)]));
    // 0->1: A and B at 25 until A ends at 2000 (A's 1->2 share is also 25, limited by 0->1);
    // B then has 100 000 left alone: 2000 more, ends at 4000.
    assert_eq!(run_all(&mut net, &model), [(1, 2000), (2, 4000)]);
}

#[test]
fn stages_run_in_order_and_the_order_of_starting_does_not_matter() {
    let spec = TopologySpec::embedded_default();
    let model = CostModel::new(&spec.validate("t").unwrap());
    let plan = |b: u64| Plan {
        stages: vec![
            Stage {
                latency_ns: 500,
                loads: vec![(link(0, 1), b)],
            },
            Stage {
                latency_ns: 0,
                loads: vec![],
            },
            Stage {
                latency_ns: 100,
                loads: vec![(link(1, 0), b)],
            },
        ],
    };
    let mut a = Network::new();
    a.start(1, 0, plan(10_000));
    a.start(2, 0, plan(20_000));
    let mut b = Network::new();
    b.start(2, 0, plan(20_000));
    b.start(1, 0, plan(10_000));
    let (ea, eb) = (run_all(&mut a, &model), run_all(&mut b, &model));
    assert_eq!(ea, eb);
    // Each stage: shared 10 000 + 10 000 at 25 each = 400 ns, then B's rest 10 000 alone =
    // 200: A ends its first stage at 900, B at 1100; second stage symmetric shifted.
    assert_eq!(ea[0].0, 1);
    assert!(ea[0].1 < ea[1].1);
}

#[test]
fn messages_into_one_sip_share_its_io_cpu() {
    // Three SIPs send 1 MiB each to SIP 0 at once (a gather): each has its own link, but all
    // cross SIP 0's IO_CPU (50 B/ns inbound), so they end together after 3 MiB at 50 B/ns.
    let model = model();
    let mut net = Network::new();
    for i in 1..4u32 {
        let plan = model.collective_plan(
            crate::sim::CollectiveKind::SendRecv,
            crate::sim::Algorithm::Ring,
            &[0, i],
            1,
            1 << 20,
            &[0],
            None,
        );
        assert_eq!(model.plan_ns(&plan), 3000 + 20_972, "alone");
        net.start(i, 0, plan);
    }
    let end = 3000 + (3u64 << 20).div_ceil(50);
    assert_eq!(run_all(&mut net, &model), [(1, end), (2, end), (3, end)]);
}
