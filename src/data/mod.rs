//! Data: deterministic datasets, copying a database (`migrate`), proving two
//! databases hold the same rows (`verify-data`) and replaying a schema on a
//! target to see what it refuses (`assess`).

pub mod canonical;
pub mod catalog;
pub mod conn;
pub mod dataset;
pub mod verify;
