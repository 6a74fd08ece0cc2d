//! Data: deterministic datasets, copying a database (`migrate`), proving two
//! databases hold the same rows (`verify-data`) and replaying a schema on a
//! target to see what it refuses (`assess`).

pub mod assess;
pub mod canonical;
pub mod catalog;
pub mod conn;
pub mod dataset;
pub mod migrate;
pub mod verify;

use indicatif::{ProgressBar, ProgressStyle};

/// A progress bar on stderr with rows/s (hidden when stderr is not a terminal).
pub fn progress_bar(len: u64) -> ProgressBar {
    let pb = ProgressBar::new(len);
    if let Ok(style) =
        ProgressStyle::with_template("{msg:>16} [{bar:30}] {pos}/{len} rows  {per_sec}  eta {eta}")
    {
        pb.set_style(style.progress_chars("=> "));
    }
    pb
}

/// A row counter on stderr for work of unknown length.
pub fn row_counter() -> ProgressBar {
    let pb = ProgressBar::new_spinner();
    if let Ok(style) = ProgressStyle::with_template("{spinner} {msg:>16} {pos} rows  {per_sec}") {
        pb.set_style(style);
    }
    pb
}
