//! Components: items (SIMs, or groups of alike SIMs) joined by the pools they may be in. Two
//! items are in one component when a chain of shared pools links them; no choice of plans
//! couples items of different components. Classic runs its strategies per component, branch
//! and bound searches per component, and work units are packed from them.

/// Union-find over pools, fed one item at a time with the pools it may be in.
#[derive(Debug)]
pub(crate) struct Components {
    parent: Vec<u32>,
    /// Each item's first pool, or [`NONE`] for an item in no pool.
    first: Vec<u32>,
}

const NONE: u32 = u32::MAX;

impl Components {
    /// Over the pools `0..pools`, with no item yet.
    pub(crate) fn new(pools: usize) -> Components {
        Components {
            parent: (0..pools as u32).collect(),
            first: Vec::new(),
        }
    }

    fn root(&mut self, mut p: u32) -> u32 {
        while self.parent[p as usize] != p {
            let up = self.parent[self.parent[p as usize] as usize];
            self.parent[p as usize] = up;
            p = up;
        }
        p
    }

    /// Adds the next item, which may be in `pools` (repeats allowed).
    pub(crate) fn add(&mut self, pools: impl IntoIterator<Item = u32>) {
        let mut pools = pools.into_iter();
        let Some(first) = pools.next() else {
            self.first.push(NONE);
            return;
        };
        for other in pools {
            let (a, b) = (self.root(first), self.root(other));
            if a != b {
                self.parent[a.max(b) as usize] = a.min(b);
            }
        }
        self.first.push(first);
    }

    /// The component of each item, numbered in the order of their first item (an item in no
    /// pool is a component of its own), and the component of each pool (`None`: no item's).
    pub(crate) fn finish(mut self) -> Labels {
        let mut of_root: Vec<u32> = vec![NONE; self.parent.len()];
        let mut count = 0u32;
        let mut of_item = Vec::with_capacity(self.first.len());
        let first = std::mem::take(&mut self.first);
        for &pool in &first {
            let label = if pool == NONE {
                count += 1;
                count - 1
            } else {
                let r = self.root(pool) as usize;
                if of_root[r] == NONE {
                    of_root[r] = count;
                    count += 1;
                }
                of_root[r]
            };
            of_item.push(label);
        }
        let of_pool = (0..self.parent.len() as u32)
            .map(|p| {
                let label = of_root[self.root(p) as usize];
                (label != NONE).then_some(label)
            })
            .collect();
        Labels {
            of_item,
            of_pool,
            count: count as usize,
        }
    }
}

/// What [`Components::finish`] answers.
#[derive(Debug)]
pub(crate) struct Labels {
    /// The component of each item, in the order added.
    pub of_item: Vec<u32>,
    /// The component of each pool, `None` for a pool no item may be in.
    pub of_pool: Vec<Option<u32>>,
    /// How many components.
    pub count: usize,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn items_sharing_a_pool_chain_are_one_component_numbered_by_first_item() {
        // Items: {3}, {}, {0, 1}, {1}, {2}, {3, 0}.
        let mut c = Components::new(5);
        for pools in [&[3][..], &[], &[0, 1], &[1], &[2], &[3, 0]] {
            c.add(pools.iter().copied());
        }
        let labels = c.finish();
        assert_eq!(labels.of_item, [0, 1, 0, 0, 2, 0]);
        assert_eq!(labels.of_pool, [Some(0), Some(0), Some(2), Some(0), None]);
        assert_eq!(labels.count, 3);
    }
}
