//! Exact local search: moves that lower the bill, costed with the model's O(1) deltas.

use super::model::{Assignment, Model, NO_POOL};

/// Moves single SIMs to their best option while that lowers the bill, pass after pass, until a
/// pass changes nothing or `max_passes` is reached. Returns how many moves were made.
pub(crate) fn single_moves(model: &Model, a: &mut Assignment, max_passes: u32) -> u64 {
    let mut moves = 0;
    for _ in 0..max_passes {
        let mut moved = false;
        for i in 0..model.sims.len() {
            let options = model.options_of(i).len() as u32;
            let mut best = (0i64, a.choice[i]);
            for to in 0..options {
                let d = a.delta(model, i, to);
                if d < best.0 {
                    best = (d, to);
                }
            }
            if best.0 < 0 {
                a.apply(model, i, best.1);
                moves += 1;
                moved = true;
            }
        }
        if !moved {
            break;
        }
    }
    moves
}

/// Swaps the options of two SIMs of the same class in different pools when that lowers the bill
/// (a heavy SIM into a pool with room, a light one out). Tries each SIM against the `window`
/// SIMs nearest to it in usage within its class. Returns how many swaps were made.
pub(crate) fn swaps(model: &Model, a: &mut Assignment, window: usize) -> u64 {
    let mut by_class: Vec<Vec<u32>> = vec![Vec::new(); model.classes.len()];
    for (i, sim) in model.sims.iter().enumerate() {
        by_class[sim.class as usize].push(i as u32);
    }
    let mut swaps = 0;
    for members in &mut by_class {
        members.sort_unstable_by_key(|&i| (model.sims[i as usize].usage, i));
        for x in 0..members.len() {
            for y in (x + 1)..members.len().min(x + 1 + window) {
                let (i, j) = (members[x] as usize, members[y] as usize);
                let (oi, oj) = (a.choice[i], a.choice[j]);
                if oi == oj {
                    continue;
                }
                let options = model.options_of(i);
                if options[oi as usize].pool == NO_POOL && options[oj as usize].pool == NO_POOL {
                    continue; // separable: single moves already handle these
                }
                let before = a.cost(model);
                a.apply(model, i, oj);
                a.apply(model, j, oi);
                if a.cost(model) < before {
                    swaps += 1;
                } else {
                    a.apply(model, j, oj);
                    a.apply(model, i, oi);
                }
            }
        }
    }
    swaps
}
