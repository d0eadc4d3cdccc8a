//! The course's own messages in the student's language, at run time:
//! [`Lang`], [`tr!`](crate::tr), [`fill`], the table [`msg`]. They live in
//! the `nslab-course` crate (the book's preprocessor reads the same
//! catalogues) and are re-exported here; `main` chooses the language once.
//! The catalogues themselves, their template and checks and the `messages`
//! command are [`crate::translations`].

pub use nslab_course::i18n::*;
