//! Hostile guest: unbounded recursion.

#[allow(unconditional_recursion)] // The point of this guest.
fn dive(depth: u64) -> u64 {
    let frame = std::hint::black_box([depth; 16]);
    dive(depth + 1) + frame[3]
}

fn main() {
    println!("{}", dive(0));
}
