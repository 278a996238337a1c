//! Test guest: asynchronous communication (`isend`, `irecv`, `async_op` collectives, work
//! handles) and its wrong uses. argv[1] picks the case:
//! - `exchange`: ranks 0 and 1 swap a tensor with isend + irecv, then one blocking send;
//! - `overlap`: an all_reduce_async overlapped with a matmul, then waited;
//! - `compute-first`: an irecv posted, the peer computes before sending;
//! - `poll`: rank 0 polls an irecv until it completes while rank 1 computes, then sends;
//! - `unfinished`: rank 0 exits with an isend nobody receives;
//! - `dropped-tensor`: rank 0 drops its work and its tensor before rank 1 receives it;
//! - `deadlock`: both ranks wait on an irecv nobody sends;
//! - `sizes`: rank 0 sends 4 floats, rank 1 posts a receive of 8;
//! - `monitored`: rank 0 waits in monitored_barrier, rank 1 in a receive nobody sends;
//! - `flood`: irecvs issued until `ops_in_flight_per_rank` refuses one.
//!
//! Every rank prints its clock after each step, so tests can check the closed forms.

use kernbench::clock::now_ns;
use kernbench::torch::distributed::{self as dist, P2POp};
use kernbench::torch::{DType, DpPolicy, ReduceOp, Tensor, TensorOptions};

fn main() -> Result<(), kernbench::Error> {
    let case = std::env::args().nth(1).unwrap_or_default();
    dist::init_process_group("ccl")?;
    let rank = dist::get_rank()?;
    let peer = 1 - rank;
    let opts = TensorOptions::new(DType::F32).dp(DpPolicy::Single { cube: 0, pe: 0 });
    match case.as_str() {
        "exchange" => {
            let mine = Tensor::full(&[1 << 16], f64::from(rank + 1), opts)?;
            let mut theirs = Tensor::zeros(&[1 << 16], opts)?;
            let works = dist::batch_isend_irecv(vec![
                P2POp::Recv {
                    tensor: &mut theirs,
                    peer,
                },
                P2POp::Send {
                    tensor: &mine,
                    peer,
                },
            ])?;
            println!("issued at {}", now_ns());
            for w in works {
                w.wait()?;
            }
            println!("exchanged at {}", now_ns());
            let got = theirs.to_vec_f32()?;
            println!(
                "got {} everywhere: {}",
                peer + 1,
                got.iter().all(|&x| x == (peer + 1) as f32)
            );
            if rank == 0 {
                dist::send(&mine, peer)?;
            } else {
                dist::recv(&mut theirs, peer)?;
            }
            println!("one-way at {}", now_ns());
        }
        "overlap" => {
            let mut grad = Tensor::full(&[1 << 16], f64::from(rank + 1), opts)?;
            // Small enough that the matmul (its operands moved from one PE to the result's
            // split rows first) ends before the all_reduce does.
            let x = Tensor::ones(&[64, 64], opts)?;
            let work = dist::all_reduce_async(&mut grad, ReduceOp::Sum)?;
            println!("issued at {}", now_ns());
            let _y = x.matmul(&x)?;
            println!("computed at {}", now_ns());
            work.wait()?;
            println!("waited at {}", now_ns());
            println!("sum {}", grad.to_vec_f32()?[0]);
        }
        "compute-first" => {
            let mut t = Tensor::zeros(&[1 << 16], opts)?;
            if rank == 0 {
                let work = dist::irecv(&mut t, peer)?;
                work.wait()?;
            } else {
                let x = Tensor::ones(&[256, 256], opts)?;
                let _y = x.matmul(&x)?;
                println!("computed at {}", now_ns());
                dist::isend(&t, peer)?.wait()?;
            }
            println!("received at {}", now_ns());
        }
        "poll" => {
            let mut t = Tensor::zeros(&[1 << 16], opts)?;
            if rank == 0 {
                let work = dist::irecv(&mut t, peer)?;
                let mut polls = 0u64;
                while !work.is_completed() {
                    polls += 1;
                }
                println!("polled {polls} times, done at {}", now_ns());
                work.wait()?;
            } else {
                // 4 MiB filled on one PE: ceil(4194304 / 100) ns before the send.
                let _x = Tensor::ones(&[1 << 20], opts)?;
                println!("sent at {}", now_ns());
                dist::isend(&t, peer)?.wait()?;
            }
        }
        "unfinished" => {
            let t = Tensor::zeros(&[4], opts)?;
            if rank == 0 {
                drop(dist::isend(&t, peer)?);
                println!("leaving with a send in flight");
            }
        }
        "dropped-tensor" => {
            if rank == 0 {
                let t = Tensor::full(&[1 << 10], 7.0, opts)?;
                drop(dist::isend(&t, peer)?);
                drop(t);
                dist::barrier()?;
            } else {
                let mut t = Tensor::zeros(&[1 << 10], opts)?;
                dist::barrier()?;
                dist::irecv(&mut t, peer)?.wait()?;
                println!("received {}", t.to_vec_f32()?.iter().all(|&x| x == 7.0));
            }
        }
        "deadlock" => {
            let mut t = Tensor::zeros(&[4], opts)?;
            dist::irecv(&mut t, peer)?.wait()?;
        }
        "sizes" => {
            let mut t = Tensor::zeros(&[if rank == 0 { 4 } else { 8 }], opts)?;
            let work = if rank == 0 {
                dist::isend(&t, peer)?
            } else {
                dist::irecv(&mut t, peer)?
            };
            work.wait()?;
        }
        "monitored" => {
            if rank == 0 {
                dist::monitored_barrier()?;
            } else {
                let mut t = Tensor::zeros(&[4], opts)?;
                dist::irecv(&mut t, peer)?.wait()?;
            }
        }
        "flood" => {
            let mut n = 0u64;
            let mut tensors: Vec<Tensor> = Vec::new();
            for _ in 0..64 {
                tensors.push(Tensor::zeros(&[1], opts)?);
            }
            let mut keep = Vec::new();
            for t in &mut tensors {
                match dist::irecv(t, peer) {
                    Ok(w) => {
                        keep.push(w);
                        n += 1;
                    }
                    Err(e) => {
                        println!("issued {n}, then: {e}");
                        break;
                    }
                }
            }
            // Dropping a work does not cancel it: these receives stay in flight.
            drop(keep);
        }
        other => panic!("unknown case {other:?}"),
    }
    Ok(())
}
