//! Hostile guest: uses work handles the SDK's types rule out, through the raw 0.2.0 bindings.
//! Ranks 0 and 1 exchange a tensor; then argv[1] picks: `wait-twice` waits for a
//! finished work again; `destroy-busy` has rank 0 call destroy_process_group with a receive in
//! flight that only a send after a barrier could complete (leaving waits for it: a deadlock).

wit_bindgen::generate!({ path: "../../wit/since_v0.2.0", world: "bench" });

use self::kernbench::bench::distributed as dist;
use self::kernbench::bench::tensors::{Tensor, TensorOptions};
use self::kernbench::bench::types::{DpPolicy, Dtype};

fn main() {
    let case = std::env::args().nth(1).unwrap_or_default();
    let me = dist::init_process_group("gloo").expect("init");
    let peer = 1 - me.rank;
    let opts = TensorOptions {
        dp: DpPolicy::Replicate,
        device: None,
    };
    let t = Tensor::zeros(&[4], Dtype::F32, opts).expect("a small tensor");
    let u = Tensor::zeros(&[4], Dtype::F32, opts).expect("a small tensor");
    let sent = dist::isend(&t, peer, None).expect("isend");
    let received = dist::irecv(&u, peer, None).expect("irecv");
    sent.wait().expect("first wait");
    received.wait().expect("first wait");
    println!("backend {}", dist::get_backend().expect("backend"));
    match case.as_str() {
        "wait-twice" => {
            println!("completed: {}", sent.is_completed());
            match sent.wait() {
                Ok(()) => println!("second wait: ok"),
                Err(e) => println!("second wait: {e:?}"),
            }
        }
        "destroy-busy" => {
            // Rank 1 sends only after the barrier, so rank 0's receive is still in flight
            // when it tries to leave the group.
            if me.rank == 0 {
                let pending = dist::irecv(&u, peer, None).expect("irecv");
                match dist::destroy_process_group() {
                    Ok(()) => println!("destroyed"),
                    Err(e) => println!("destroy: {e:?}"),
                }
                dist::barrier(None).expect("barrier");
                pending.wait().expect("the receive completes");
            } else {
                dist::barrier(None).expect("barrier");
                dist::isend(&t, peer, None)
                    .expect("isend")
                    .wait()
                    .expect("the send completes");
            }
            dist::destroy_process_group().expect("destroy once idle");
            println!("initialized after destroy: {}", dist::is_initialized());
        }
        other => panic!("unknown case {other:?}"),
    }
}
