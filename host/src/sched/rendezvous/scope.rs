//! Where calls meet, and how a message names it: a process group, or one direction between
//! two ranks of a group for point-to-point.

/// Where calls meet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Scope {
    /// A process group (0 is the world); every member takes part in each call.
    Group(u32),
    /// Point-to-point from `src` to `dst` (global ranks) within a group: the k-th send from
    /// `src` to `dst` meets the k-th receive at `dst` from `src`, as MPI orders messages.
    /// Each direction is its own channel, so a two-way exchange never waits on itself.
    Channel {
        /// The group the peers were named in.
        group: u32,
        /// The sending global rank.
        src: u32,
        /// The receiving global rank.
        dst: u32,
    },
}

/// `the world group`, `group 3`, `point-to-point 0->5 in the world group`.
pub fn describe_scope(scope: Scope) -> String {
    match scope {
        Scope::Group(0) => "the world group".to_owned(),
        Scope::Group(g) => format!("group {g}"),
        Scope::Channel { group, src, dst } => {
            let within = if group == 0 {
                "the world group".to_owned()
            } else {
                format!("group {group}")
            };
            format!("point-to-point {src}->{dst} in {within}")
        }
    }
}
