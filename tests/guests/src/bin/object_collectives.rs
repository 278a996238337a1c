//! Test guest: collectives over objects (bytes) and the device mesh's groups.
//! `broadcast_object_list` from rank 1, `all_gather_object` of objects of different lengths
//! (one empty), then a `[2, n/2]` mesh: each rank prints its coordinates and its groups'
//! members, and a mesh that does not hold the world is refused.

use kernbench::torch::distributed::{self as dist, init_device_mesh};

fn main() -> Result<(), kernbench::Error> {
    dist::init_process_group("ccl")?;
    let rank = dist::get_rank()?;
    let world = dist::get_world_size()?;

    let mut objects = vec![
        format!("from {rank}").into_bytes(),
        vec![rank as u8; rank as usize],
    ];
    dist::broadcast_object_list(&mut objects, 1)?;
    let shown: Vec<String> = objects.iter().map(|o| format!("{o:?}")).collect();
    println!("broadcast: {}", shown.join(" "));

    let mine = "x".repeat(rank as usize * 3);
    let all = dist::all_gather_object(mine.as_bytes())?;
    let lens: Vec<usize> = all.iter().map(Vec::len).collect();
    let ok = all
        .iter()
        .enumerate()
        .all(|(r, o)| o == &"x".repeat(r * 3).into_bytes());
    println!("gathered lengths {lens:?}, contents right: {ok}");

    let mesh = init_device_mesh(&[2, world / 2])?;
    let members = |dim: usize| -> Result<Vec<u32>, kernbench::Error> {
        let g = mesh.get_group(dim)?;
        (0..g.size()?).map(|i| g.global_rank(i)).collect()
    };
    println!(
        "mesh {:?}: at ({}, {}), dp group {:?}, tp group {:?}",
        mesh.shape(),
        mesh.get_local_rank(0)?,
        mesh.get_local_rank(1)?,
        members(0)?,
        members(1)?
    );
    match init_device_mesh(&[3, world]) {
        Ok(_) => println!("a mesh bigger than the world was accepted"),
        Err(e) => println!("{e}"),
    }
    match mesh.get_group(2) {
        Ok(_) => println!("dimension 2 exists"),
        Err(e) => println!("{e}"),
    }
    Ok(())
}
