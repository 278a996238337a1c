//! A memory cgroup per run, where the machine lets the worker make one (ADR-0013): it bounds
//! what `RLIMIT_DATA` cannot see (shared and file-backed mappings, page cache the run
//! dirties) and counts resident memory, the thing that actually runs out. cgroup v2
//! (`memory.max`) when the worker's own group delegates the memory controller, else cgroup v1
//! (`memory.limit_in_bytes`) when its memory hierarchy is mounted and writable. The child
//! joins its group itself, before it reads anything, so nothing of the run escapes it.

use std::path::{Path, PathBuf};

/// Whether runs get a memory cgroup.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum CgroupMode {
    /// When the machine allows it; `RLIMIT_DATA` alone otherwise (logged at start).
    #[default]
    Auto,
    /// Always: a worker that cannot make one refuses to start.
    Required,
    /// Never.
    Off,
}

impl std::str::FromStr for CgroupMode {
    type Err = String;
    fn from_str(text: &str) -> Result<Self, String> {
        match text {
            "auto" => Ok(CgroupMode::Auto),
            "required" => Ok(CgroupMode::Required),
            "off" => Ok(CgroupMode::Off),
            other => Err(format!("{other:?}: use auto, required or off")),
        }
    }
}

/// Which cgroup interface the groups use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CgroupVersion {
    /// The unified hierarchy: `memory.max`, `memory.events`.
    V2,
    /// The legacy memory hierarchy: `memory.limit_in_bytes`, `memory.failcnt`.
    V1,
}

/// Where a worker makes its runs' groups.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemoryCgroups {
    parent: PathBuf,
    version: CgroupVersion,
}

/// One run's group, removed when dropped (after its process has exited).
#[derive(Debug)]
pub struct RunCgroup {
    dir: PathBuf,
    version: CgroupVersion,
    limit: u64,
}

impl MemoryCgroups {
    /// The groups this process may make, if any: tried by making (and removing) one.
    pub fn detect() -> Option<MemoryCgroups> {
        let own = std::fs::read_to_string("/proc/self/cgroup").ok()?;
        let candidates = [
            v2_parent(&own, Path::new("/sys/fs/cgroup")).map(|p| (p, CgroupVersion::V2)),
            v2_parent(&own, Path::new("/sys/fs/cgroup/unified")).map(|p| (p, CgroupVersion::V2)),
            v1_parent(&own, Path::new("/sys/fs/cgroup/memory")).map(|p| (p, CgroupVersion::V1)),
        ];
        candidates
            .into_iter()
            .flatten()
            .find_map(|(parent, version)| {
                let groups = MemoryCgroups { parent, version };
                groups.sweep();
                let probe = groups
                    .create(&format!("probe-{}", std::process::id()), 1 << 30)
                    .ok()?;
                drop(probe);
                Some(groups)
            })
    }

    /// Remove the empty groups a worker that died left behind. A group with a process in it
    /// cannot be removed; one younger than an hour is left alone too, since another worker
    /// may have just made it for a child that has not joined yet.
    fn sweep(&self) {
        let Ok(entries) = std::fs::read_dir(&self.parent) else {
            return;
        };
        let stale = |entry: &std::fs::DirEntry| {
            entry
                .metadata()
                .and_then(|m| m.modified())
                .ok()
                .and_then(|t| t.elapsed().ok())
                .is_some_and(|age| age > std::time::Duration::from_secs(3600))
        };
        for entry in entries.flatten() {
            if entry
                .file_name()
                .to_string_lossy()
                .starts_with("kernbench-")
                && stale(&entry)
            {
                let _ = std::fs::remove_dir(entry.path());
            }
        }
    }

    /// Which interface the groups use.
    pub fn version(&self) -> CgroupVersion {
        self.version
    }

    /// Make the group of one run, limited to `limit` bytes.
    pub fn create(&self, name: &str, limit: u64) -> std::io::Result<RunCgroup> {
        let dir = self.parent.join(format!("kernbench-{name}"));
        std::fs::create_dir(&dir)?;
        let group = RunCgroup {
            dir,
            version: self.version,
            limit,
        };
        match self.version {
            CgroupVersion::V2 => {
                std::fs::write(group.dir.join("memory.max"), limit.to_string())?;
                // Swap would turn the limit into slowness instead of an end.
                let _ = std::fs::write(group.dir.join("memory.swap.max"), "0");
            }
            CgroupVersion::V1 => {
                std::fs::write(group.dir.join("memory.limit_in_bytes"), limit.to_string())?;
                let _ = std::fs::write(
                    group.dir.join("memory.memsw.limit_in_bytes"),
                    limit.to_string(),
                );
            }
        }
        Ok(group)
    }
}

impl RunCgroup {
    /// The file a process writes its pid to, to join the group.
    pub fn procs_file(&self) -> PathBuf {
        self.dir.join("cgroup.procs")
    }

    /// The limit, in bytes.
    pub fn limit(&self) -> u64 {
        self.limit
    }

    /// Whether the group ran into its limit (then a SIGKILL is the kernel's OOM killer).
    pub fn hit_limit(&self) -> bool {
        let read = |name: &str| std::fs::read_to_string(self.dir.join(name)).unwrap_or_default();
        match self.version {
            CgroupVersion::V2 => read("memory.events").lines().any(|line| {
                line.strip_prefix("oom_kill ")
                    .and_then(|n| n.trim().parse::<u64>().ok())
                    .is_some_and(|n| n > 0)
            }),
            // `oom_kill` of `memory.oom_control` (Linux 4.13+). Not `memory.failcnt`: it also
            // counts reclaim that succeeded, so it would blame the cgroup for any SIGKILL.
            CgroupVersion::V1 => read("memory.oom_control").lines().any(|line| {
                line.strip_prefix("oom_kill ")
                    .and_then(|n| n.trim().parse::<u64>().ok())
                    .is_some_and(|n| n > 0)
            }),
        }
    }
}

impl Drop for RunCgroup {
    fn drop(&mut self) {
        // Fails only if a process is still inside (the directory then stays until the next
        // worker start sweeps it).
        if let Err(e) = std::fs::remove_dir(&self.dir) {
            tracing::warn!(dir = %self.dir.display(), error = %e, "removing a run's cgroup");
        }
    }
}

/// Join a group: write this process's pid to its `cgroup.procs`.
pub fn join(procs_file: &Path) -> std::io::Result<()> {
    std::fs::write(procs_file, std::process::id().to_string())
}

/// The v2 group of this process under `mount`, if the memory controller is enabled for its
/// children (a group with processes cannot enable it itself: "no internal processes").
fn v2_parent(own: &str, mount: &Path) -> Option<PathBuf> {
    let path = own.lines().find_map(|line| line.strip_prefix("0::"))?;
    let dir = mount.join(path.trim_start_matches('/'));
    let enabled = std::fs::read_to_string(dir.join("cgroup.subtree_control")).ok()?;
    enabled
        .split_whitespace()
        .any(|c| c == "memory")
        .then_some(dir)
}

/// The v1 memory group of this process under `mount`.
fn v1_parent(own: &str, mount: &Path) -> Option<PathBuf> {
    let path = own.lines().find_map(|line| {
        let mut parts = line.splitn(3, ':');
        let (_, controllers, path) = (parts.next()?, parts.next()?, parts.next()?);
        controllers
            .split(',')
            .any(|c| c == "memory")
            .then_some(path)
    })?;
    let dir = mount.join(path.trim_start_matches('/'));
    dir.join("memory.limit_in_bytes").is_file().then_some(dir)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn the_own_group_is_read_from_proc_self_cgroup() {
        let dir = tempfile::tempdir().unwrap();
        let v1 = dir.path().join("memory/a/b");
        std::fs::create_dir_all(&v1).unwrap();
        std::fs::write(v1.join("memory.limit_in_bytes"), "max").unwrap();
        let own = "5:cpu:/\n4:memory:/a/b\n0::/c\n";
        assert_eq!(v1_parent(own, &dir.path().join("memory")), Some(v1));
        let v2 = dir.path().join("unified/c");
        std::fs::create_dir_all(&v2).unwrap();
        std::fs::write(v2.join("cgroup.subtree_control"), "cpu io\n").unwrap();
        assert_eq!(v2_parent(own, &dir.path().join("unified")), None);
        std::fs::write(v2.join("cgroup.subtree_control"), "cpu memory\n").unwrap();
        assert_eq!(v2_parent(own, &dir.path().join("unified")), Some(v2));
    }

    #[test]
    fn modes_parse_by_name() {
        assert_eq!("required".parse(), Ok(CgroupMode::Required));
        assert!("sometimes".parse::<CgroupMode>().is_err());
    }
}
