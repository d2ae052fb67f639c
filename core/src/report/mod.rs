//! What a run produces for people and programs: the JSON contract of DESIGN §8.

pub mod json;
