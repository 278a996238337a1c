//! What the host and the guest SDK must agree on, in one place: the WIT package, the versions
//! of it the host links and the one the SDK speaks, the custom section the SDK stamps into
//! every component, and the imports a bench component may have. The host's validator, its
//! bindings and the SDK's stamp all read these, so they cannot drift; tests check them
//! against `wit/since_v*/kernbench.wit` and the frozen versions against `wit/RELEASED.sha256`.
//!
//! It is also the one home of the vocabulary the simulator, the SDK and the benches share:
//! element types, reduction operators, DP policies, the collectives and their nccl-tests
//! bus-bandwidth factors.
//!
//! No dependencies (serde only with the `serde` feature, which the host turns on), so it
//! builds for the host and for `wasm32-wasip2` alike.

mod collective;
mod dtype;
mod placement;
mod reduce;

pub use collective::CollectiveKind;
pub use dtype::DType;
pub use placement::DpPolicy;
pub use reduce::ReduceOp;

/// The version of the `kernbench:bench` WIT package the SDK speaks (the newest), as a macro
/// so `concat!` can build the SDK's stamp from it at compile time.
#[macro_export]
macro_rules! wit_version {
    () => {
        "0.2.0"
    };
}

/// The WIT package name.
pub const WIT_PACKAGE: &str = "kernbench:bench";

/// The version the SDK speaks, the newest the host links.
pub const WIT_VERSION: &str = wit_version!();

/// Every version the host links, oldest first: a component built for any of them runs. Each
/// lives in `wit/since_v<version>/kernbench.wit`.
pub const HOST_WIT_VERSIONS: &[&str] = &["0.1.0", "0.2.0"];

/// The versions that have shipped: their WIT never changes again (`wit/RELEASED.sha256`
/// holds each file's SHA-256 and a test compares). A new version joins this list when it is
/// released; until then it may still grow.
pub const RELEASED_WIT_VERSIONS: &[&str] = &["0.1.0", "0.2.0"];

/// `kernbench:bench@<version>`, as components name it in their imports.
pub const WIT_PACKAGE_VERSION: &str = concat!("kernbench:bench@", wit_version!());

/// The custom section where the SDK stamps its version and WIT package. (The SDK's
/// `link_section` attribute needs a literal; a host test reads the section under this name
/// from every component built here, so the two cannot differ.)
pub const SDK_SECTION: &str = "kernbench-sdk";

/// Interfaces of the bench world, under [`WIT_PACKAGE`].
pub const BENCH_INTERFACES: &[&str] = &[
    "types",
    "tensors",
    "distributed",
    "ahbm",
    "accelerator",
    "clock",
    "metrics",
];

/// WASI 0.2 interfaces the host links (the capabilities inside them are still denied at run
/// time: no preopens, no sockets, virtual clocks, seeded random).
pub const WASI_INTERFACES: &[&str] = &[
    "wasi:cli/environment",
    "wasi:cli/exit",
    "wasi:cli/stdin",
    "wasi:cli/stdout",
    "wasi:cli/stderr",
    "wasi:cli/terminal-input",
    "wasi:cli/terminal-output",
    "wasi:cli/terminal-stdin",
    "wasi:cli/terminal-stdout",
    "wasi:cli/terminal-stderr",
    "wasi:clocks/monotonic-clock",
    "wasi:clocks/wall-clock",
    "wasi:filesystem/preopens",
    "wasi:filesystem/types",
    "wasi:io/error",
    "wasi:io/poll",
    "wasi:io/streams",
    "wasi:random/random",
    "wasi:random/insecure",
    "wasi:random/insecure-seed",
    "wasi:sockets/instance-network",
    "wasi:sockets/ip-name-lookup",
    "wasi:sockets/network",
    "wasi:sockets/tcp",
    "wasi:sockets/tcp-create-socket",
    "wasi:sockets/udp",
    "wasi:sockets/udp-create-socket",
];

#[cfg(test)]
mod tests {
    use super::*;

    /// The cases of a WIT `enum` or `variant`, in order.
    fn wit_cases(wit: &str, head: &str) -> Vec<String> {
        let start = wit.find(head).map_or(wit.len(), |i| i + head.len());
        let body = &wit[start..];
        let end = body.find('}').unwrap_or(body.len());
        body[..end]
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with("//"))
            .map(|l| {
                let name = l.trim_end_matches(',').trim_start_matches('%');
                name.split('(').next().unwrap_or(name).to_owned()
            })
            .collect()
    }

    /// The shared vocabulary has exactly the WIT's cases, in its order.
    #[test]
    fn the_vocabulary_matches_the_wit_enums() {
        let wit = include_str!("../../wit/since_v0.2.0/kernbench.wit");
        let dtypes: Vec<String> = DType::ALL.iter().map(|d| d.name().to_owned()).collect();
        assert_eq!(wit_cases(wit, "enum dtype {"), dtypes);
        let ops: Vec<String> = ReduceOp::ALL
            .iter()
            .map(|op| format!("{op:?}").to_lowercase())
            .collect();
        assert_eq!(wit_cases(wit, "enum reduce-op {"), ops);
        let policies = [
            DpPolicy::Replicate,
            DpPolicy::SplitRows,
            DpPolicy::SplitCols,
            DpPolicy::Blocks,
            DpPolicy::Single { cube: 0, pe: 0 },
        ];
        let names: Vec<String> = policies
            .iter()
            .map(|p| p.to_string().split('(').next().unwrap_or("").to_owned())
            .collect();
        assert_eq!(wit_cases(wit, "variant dp-policy {"), names);
    }

    #[test]
    fn busbw_factors_are_nccl_tests() {
        assert_eq!(CollectiveKind::AllReduce.busbw_factor(8), 1.75);
        assert_eq!(CollectiveKind::AllGather.busbw_factor(4), 0.75);
        assert_eq!(CollectiveKind::Broadcast.busbw_factor(4), 1.0);
        assert_eq!(CollectiveKind::AllToAll.busbw_factor(0), 0.0);
    }

    fn wit_root() -> std::path::PathBuf {
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../wit")
    }

    fn wit_file(version: &str) -> String {
        let path = wit_root().join(format!("since_v{version}/kernbench.wit"));
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
    }

    /// A released WIT version is frozen: its file hashes to what `wit/RELEASED.sha256` says,
    /// and that list names exactly the released versions.
    #[test]
    fn released_wit_versions_never_change() {
        use sha2::{Digest, Sha256};
        let list = std::fs::read_to_string(wit_root().join("RELEASED.sha256"))
            .unwrap_or_else(|e| panic!("wit/RELEASED.sha256: {e}"));
        let mut listed = Vec::new();
        for line in list.lines().filter(|l| !l.trim().is_empty()) {
            let (hash, file) = line
                .split_once("  ")
                .unwrap_or_else(|| panic!("not `<sha256>  <path>`: {line}"));
            let bytes =
                std::fs::read(wit_root().join(file)).unwrap_or_else(|e| panic!("wit/{file}: {e}"));
            let actual: String = Sha256::digest(&bytes)
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect();
            assert_eq!(
                actual, hash,
                "wit/{file} changed after its release: a released WIT version is frozen; put the change in a new version"
            );
            listed.push(file.to_owned());
        }
        let expected: Vec<String> = RELEASED_WIT_VERSIONS
            .iter()
            .map(|v| format!("since_v{v}/kernbench.wit"))
            .collect();
        assert_eq!(
            listed, expected,
            "wit/RELEASED.sha256 lists the released versions"
        );
        for v in RELEASED_WIT_VERSIONS {
            assert!(HOST_WIT_VERSIONS.contains(v), "the host links released {v}");
        }
    }

    /// The WIT files are the source of the interface; these constants must say what they say.
    #[test]
    fn the_constants_match_the_wit_files() {
        assert_eq!(HOST_WIT_VERSIONS.last(), Some(&WIT_VERSION));
        assert_eq!(WIT_PACKAGE_VERSION, format!("{WIT_PACKAGE}@{WIT_VERSION}"));
        for version in HOST_WIT_VERSIONS {
            check_wit_file(version, &wit_file(version));
        }
    }

    fn check_wit_file(version: &str, wit: &str) {
        let package = format!("package {WIT_PACKAGE}@{version};");
        assert!(
            wit.lines().any(|l| l.trim() == package),
            "wit/since_v{version}/kernbench.wit does not declare `{package}`"
        );
        for iface in BENCH_INTERFACES {
            assert!(
                wit.contains(&format!("interface {iface} {{")),
                "wit/since_v{version}/kernbench.wit has no interface {iface}"
            );
        }
        let world = &wit[wit.find("world bench").unwrap_or(0)..];
        let imported: Vec<&str> = world
            .lines()
            .filter_map(|l| l.trim().strip_prefix("import "))
            .map(|l| l.trim_end_matches(';'))
            .filter(|l| !l.contains(':'))
            .collect();
        let mut expected: Vec<&str> = BENCH_INTERFACES.to_vec();
        let mut got = imported.clone();
        expected.sort_unstable();
        got.sort_unstable();
        assert_eq!(got, expected, "the bench world's own imports");
    }
}
