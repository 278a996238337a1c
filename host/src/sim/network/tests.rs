use super::*;
use crate::sim::Topology;
use crate::sim::cost::{Plan, Resource, Stage};

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
    // A crosses links 0->1 and 1->2, B only 0->1, C only 1->2; 50 000 bytes each, 50 B/ns
    // links. Progressive filling: both links offer 25 to their two flows; 0->1 fixes A and
    // B at 25, then C gets what A leaves of 1->2: 25. All end at 2000.
    net.start(
        1,
        0,
        one_stage(0, &[(link(0, 1), 50_000), (link(1, 2), 50_000)]),
    );
    net.start(2, 0, one_stage(0, &[(link(0, 1), 50_000)]));
    net.start(3, 0, one_stage(0, &[(link(1, 2), 50_000)]));
    assert_eq!(run_all(&mut net, &model), [(1, 2000), (2, 2000), (3, 2000)]);
    // A (50 000 on each link) and B (150 000 on 0->1): 25 each on 0->1 until A ends at
    // 2000; B's last 100 000 then move alone at 50: 2000 more.
    let mut net = Network::new();
    net.start(
        1,
        0,
        one_stage(0, &[(link(0, 1), 50_000), (link(1, 2), 50_000)]),
    );
    net.start(2, 0, one_stage(0, &[(link(0, 1), 150_000)]));
    assert_eq!(run_all(&mut net, &model), [(1, 2000), (2, 4000)]);
}

#[test]
fn a_flow_loading_links_unequally_is_paced_by_its_most_loaded_one() {
    let model = model();
    let mut net = Network::new();
    // A puts 100 000 on 0->1 and 50 000 on 1->2 (weights 1 and 1/2); B puts 100 000 on
    // 1->2. 1->2 is tight: 50 / (1/2 + 1) = 33.3 B/ns on each flow's most loaded link, so A
    // uses 16.7 of 1->2 and B 33.3. Both move their 100 000 in 3000 ns.
    net.start(
        1,
        0,
        one_stage(0, &[(link(0, 1), 100_000), (link(1, 2), 50_000)]),
    );
    net.start(2, 0, one_stage(0, &[(link(1, 2), 100_000)]));
    assert_eq!(run_all(&mut net, &model), [(1, 3000), (2, 3000)]);
}

#[test]
fn stages_run_in_order_and_shares_change_only_while_flows_overlap() {
    let model = model();
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
    let mut net = Network::new();
    net.start(1, 0, plan(10_000));
    net.start(2, 0, plan(20_000));
    // From 500 both share 0->1 at 25: A's 10 000 end at 900; B's last 10 000 alone: 1100.
    // A: empty stage, 100 ns, then 1->0 alone: 1000 + 200 = 1200. B: 1100 + 100, then
    // 1->0 alone (A has just ended): 1200 + 400 = 1600.
    assert_eq!(run_all(&mut net, &model), [(1, 1200), (2, 1600)]);
}

#[test]
fn messages_into_one_sip_share_its_io_cpu() {
    // Three SIPs send 1 MiB each to SIP 0 at once (a gather): each has its own link, but all
    // cross SIP 0's IO_CPU (50 B/ns inbound), so they end together after 3 MiB at 50 B/ns.
    let model = model();
    let mut net = Network::new();
    for i in 1..4u32 {
        let plan = model
            .collective_plan(
                crate::sim::CollectiveKind::SendRecv,
                crate::sim::Algorithm::Ring,
                &[0, i],
                1,
                1 << 20,
                &[0],
                None,
            )
            .unwrap();
        assert_eq!(model.plan_ns(&plan), 3000 + 20_972, "alone");
        net.start(i, 0, plan);
    }
    let end = 3000 + (3u64 << 20).div_ceil(50);
    assert_eq!(run_all(&mut net, &model), [(1, end), (2, end), (3, end)]);
}
