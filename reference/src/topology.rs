//! NUMA topology: possible and online node ids, the distance table and
//! `NUMA_NO_NODE`. The caller's node (`numa_node_id()`) is always an
//! explicit argument of the operations that use it.

use serde::{Deserialize, Serialize};

pub const NUMA_NO_NODE: i32 = -1;
pub const LOCAL_DISTANCE: u32 = 10;
pub const REMOTE_DISTANCE: u32 = 20;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Topology {
    /// Possible node ids, ascending (may be sparse, e.g. `[0, 2]`).
    pub possible: Vec<i32>,
    /// Online node ids, a subset of `possible`.
    pub online: Vec<i32>,
    /// Remote distances `[a, b, d]`; unlisted pairs are `REMOTE_DISTANCE`,
    /// `node_distance(a, a)` is `LOCAL_DISTANCE`. Symmetric.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub distances: Vec<[i32; 3]>,
}

impl Default for Topology {
    fn default() -> Self {
        Topology::uniform(1)
    }
}

impl Topology {
    /// `n` nodes `0..n`, all online, all remote distances 20.
    pub fn uniform(n: usize) -> Self {
        let nodes: Vec<i32> = (0..n as i32).collect();
        Topology { possible: nodes.clone(), online: nodes, distances: Vec::new() }
    }

    pub fn num_possible_nodes(&self) -> usize {
        self.possible.len()
    }

    /// `nr_node_ids`: highest possible node id + 1.
    pub fn nr_node_ids(&self) -> usize {
        self.possible.iter().copied().max().map(|m| m as usize + 1).unwrap_or(1)
    }

    pub fn is_possible(&self, node: i32) -> bool {
        self.possible.contains(&node)
    }

    pub fn node_distance(&self, a: i32, b: i32) -> u32 {
        if a == b {
            return LOCAL_DISTANCE;
        }
        for d in &self.distances {
            if (d[0] == a && d[1] == b) || (d[0] == b && d[1] == a) {
                return d[2] as u32;
            }
        }
        REMOTE_DISTANCE
    }

    /// Checks the table; returns a reason on error.
    pub fn validate(&self) -> Result<(), String> {
        if self.possible.is_empty() {
            return Err("topology: no possible node".into());
        }
        if self.possible.len() > 64 {
            return Err("topology: more than 64 possible nodes".into());
        }
        let mut sorted = self.possible.clone();
        sorted.sort_unstable();
        sorted.dedup();
        if sorted != self.possible {
            return Err("topology: possible nodes must be ascending and unique".into());
        }
        if self.possible.iter().any(|&n| !(0..1024).contains(&n)) {
            return Err("topology: node ids must be in 0..1024".into());
        }
        if let Some(n) = self.online.iter().find(|n| !self.possible.contains(n)) {
            return Err(format!("topology: online node {n} is not possible"));
        }
        for d in &self.distances {
            if !self.is_possible(d[0]) || !self.is_possible(d[1]) {
                return Err(format!("topology: distance entry {:?} names an impossible node", d));
            }
            if d[0] == d[1] || d[2] <= LOCAL_DISTANCE as i32 || d[2] > 255 {
                return Err(format!("topology: distance entry {:?} must join two nodes with 10 < d <= 255", d));
            }
        }
        Ok(())
    }
}
