//! Where calls meet, and how a message names it: a process group, or a pair of ranks
//! within one for point-to-point.

/// Where calls meet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Scope {
    /// A process group (0 is the world); every member takes part in each call.
    Group(u32),
    /// Point-to-point between two global ranks (lower first) within a group.
    Pair {
        /// The group the peers were named in.
        group: u32,
        /// The lower global rank.
        low: u32,
        /// The higher global rank.
        high: u32,
    },
}

/// `the world group`, `group 3`, `point-to-point 0<->5 in the world group`.
pub fn describe_scope(scope: Scope) -> String {
    match scope {
        Scope::Group(0) => "the world group".to_owned(),
        Scope::Group(g) => format!("group {g}"),
        Scope::Pair { group, low, high } => {
            let within = if group == 0 {
                "the world group".to_owned()
            } else {
                format!("group {group}")
            };
            format!("point-to-point {low}<->{high} in {within}")
        }
    }
}
