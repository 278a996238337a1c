//! Hostile guest: moves byte buffers larger than the per-call limit across the WIT boundary.
//! argv[1]: `read` (asks for 1 TiB) or `write` (sends 32 MiB).

use kernbench::torch::{DType, Tensor, TensorOptions};

fn main() -> Result<(), kernbench::Error> {
    kernbench::torch::distributed::init_process_group("ccl")?;
    let mut t = Tensor::meta(&[8192, 8192], TensorOptions::new(DType::F32))?;
    match std::env::args().nth(1).as_deref() {
        Some("read") => {
            let bytes = t.read_bytes(0, 1 << 40)?;
            println!("read {} bytes", bytes.len());
        }
        _ => {
            let data = vec![7u8; 32 << 20];
            t.write_bytes(0, &data)?;
        }
    }
    Ok(())
}
