//! Hostile guest: built against a future version of the bench API; refused at load with
//! both versions named.

wit_bindgen::generate!({
    inline: "
        package kernbench:bench@0.3.0;
        interface distributed {
            get-rank: func() -> u32;
        }
        world bench {
            import distributed;
        }
    ",
});

fn main() {
    println!("rank {}", kernbench::bench::distributed::get_rank());
}
