//! The course manifest, `course.toml`: its types and validation live in
//! the `nslab-course` crate (shared with the book's preprocessor), and are
//! re-exported here for the rest of xtask.

pub use nslab_course::manifest::*;
