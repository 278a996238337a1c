//! The policy's contract: sizes and `--limit` values, policy files, the committed schema and
//! the README's example.

use super::*;

#[test]
fn sizes_take_binary_units() {
    assert_eq!(parse_size("64M"), Some(64 << 20));
    assert_eq!(parse_size("10_000"), Some(10_000));
    assert_eq!(parse_size("1T"), Some(1 << 40));
    assert_eq!(parse_size("12Q"), None);
    assert_eq!(parse_size("99999999999999T"), None);
}

#[test]
fn limit_flags_set_fields_and_refuse_unknown_names() {
    let mut l = Limits::strict();
    l.set("fuel_per_rank", "none").unwrap();
    l.set("memory_bytes_per_rank", "32M").unwrap();
    assert_eq!((l.fuel_per_rank, l.memory_bytes_per_rank), (None, 32 << 20));
    let err = l.set("memory_per_rank", "1").unwrap_err().to_string();
    assert!(
        err.starts_with("unknown limit \"memory_per_rank\"; limits are: memory_bytes_per_rank,"),
        "{err}"
    );
    let err = l
        .set("memory_bytes_per_rank", "none")
        .unwrap_err()
        .to_string();
    assert_eq!(
        err,
        "limit memory_bytes_per_rank=none: this limit cannot be lifted (only optional limits take none); give a number"
    );
    let err = l.set("deadline_ms", "soon").unwrap_err().to_string();
    assert_eq!(
        err,
        "limit deadline_ms=soon: expected a number, optionally with K, M, G or T"
    );
}

#[test]
fn policy_files_extend_a_profile_strictly() {
    let p = Policy::from_json(
        r#"{"name": "ci", "extends": "trusted", "limits": {"fuel_per_rank": 1000, "deadline_ms": null, "buffer_bytes": "1M"}}"#,
        "ci.json",
    )
    .unwrap();
    assert_eq!(p.name, "ci");
    assert_eq!(p.limits.fuel_per_rank, Some(1000));
    assert_eq!(p.limits.deadline_ms, None);
    assert_eq!(p.limits.buffer_bytes, 1 << 20);
    assert_eq!(
        p.limits.tensors_per_rank,
        Limits::trusted().tensors_per_rank
    );
    let err = Policy::from_json(r#"{"name": "x", "limits": {"fuel": 1}}"#, "x.json").unwrap_err();
    assert!(
        err.to_string().starts_with(
            "policy x.json: unknown limit \"fuel\"; limits are: memory_bytes_per_rank,"
        ),
        "{err}"
    );
    let err = Policy::from_json(r#"{"name": "x", "limit": {}}"#, "x.json").unwrap_err();
    assert!(err.to_string().contains("unknown field `limit`"), "{err}");
    let strict = Policy::from_json(r#"{"name": "y"}"#, "y.json").unwrap();
    assert_eq!(strict.limits, Limits::strict());
}

#[test]
fn policy_file_values_are_numbers_sizes_or_null() {
    let err = |limits: &str| {
        let text = format!(r#"{{"name": "x", "limits": {limits}}}"#);
        Policy::from_json(&text, "x.json").unwrap_err().to_string()
    };
    let e = err(r#"{"memory_bytes_per_rank": null}"#);
    assert!(
        e.starts_with(
            "policy x.json: limit memory_bytes_per_rank=null: this limit cannot be lifted"
        ),
        "{e}"
    );
    let e = err(r#"{"deadline_ms": "soon"}"#);
    assert!(
        e.starts_with(
            "policy x.json: limit deadline_ms=soon: expected a number, optionally with K, M, G or T"
        ),
        "{e}"
    );
    let e = err(r#"{"instances_per_rank": 4294967296}"#);
    assert!(
        e.contains("limit instances_per_rank=4294967296: too large"),
        "{e}"
    );
    let e = err(r#"{"deadline_ms": -1}"#);
    assert!(e.contains("limit deadline_ms=-1: expected a number"), "{e}");
    let e = err(r#"{"deadline_ms": 1.5}"#);
    assert!(e.contains("invalid type: floating point `1.5`"), "{e}");
    let e = err(r#"{"deadline_ms": 1, "deadline_ms": 2}"#);
    assert!(e.contains("limit deadline_ms is given twice"), "{e}");
    let e = Policy::from_json(r#"{"name": "x", "extends": "lax"}"#, "x.json").unwrap_err();
    assert!(e.to_string().contains("unknown variant `lax`"), "{e}");
    let p = Policy::from_json(
        r#"{"name": "x", "limits": {"fuel_per_rank": "none"}}"#,
        "x.json",
    );
    assert_eq!(p.unwrap().limits.fuel_per_rank, None);
}

/// The schema committed in `docs/` is the one the code generates. After changing a
/// limit, regenerate it: `KERNBENCH_WRITE_SCHEMA=1 cargo test -p kernbench-host policy`.
#[test]
fn the_committed_schema_is_current() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/policy.schema.json");
    let schema = schemars::schema_for!(PolicyFile);
    let generated = serde_json::to_string_pretty(&schema).unwrap() + "\n";
    if std::env::var_os("KERNBENCH_WRITE_SCHEMA").is_some() {
        std::fs::write(&path, &generated).unwrap();
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == generated,
        "{} is stale: run KERNBENCH_WRITE_SCHEMA=1 cargo test -p kernbench-host policy",
        path.display()
    );
    // Every limit is in the schema, and nothing else.
    let fields = schema.as_value()["$defs"]["LimitsPatch"]["properties"]
        .as_object()
        .map(|o| o.keys().cloned().collect::<Vec<_>>())
        .unwrap_or_default();
    let mut names: Vec<String> = LIMIT_NAMES.iter().map(|n| (*n).to_owned()).collect();
    names.sort();
    assert_eq!(fields, names);
}

/// The README's example policy file (the line starting with `{"name": "ci"`) parses.
#[test]
fn the_readme_example_policy_parses() {
    let readme = include_str!("../../../../README.md");
    let example = readme
        .split('`')
        .find(|s| s.starts_with(r#"{"name": "ci""#))
        .expect("README shows an example policy file");
    let p = Policy::from_json(example, "README.md").unwrap();
    assert_eq!(p.name, "ci");
    assert_eq!(p.limits.fuel_per_rank, Some(2 << 30));
    assert_eq!(p.limits.deadline_ms, Some(120_000));
}
