//! The one reader and writer of gettext PO files in the workspace, for the
//! book's catalogues (`po/LANG.po`, `po/messages.pot`, written by
//! mdbook-xgettext and msgmerge) and the course's (`po/course/`) alike.
//!
//! Wiring: a leaf. [`crate::i18n`] reads a catalogue through it at run
//! time; xtask's `translations` module checks and writes catalogues
//! through it; the book's preprocessor (`crates/mdbook-nslab`) reads the
//! course's catalogue through [`crate::i18n::Catalogue`].
//!
//! Why not polib (mdbook-i18n-helpers' parser): polib 0.2 reads only from
//! a file path, drops the obsolete entries (`#~`) without a word, when the
//! checks must report them, and panics on a string line with no keyword
//! before it (a translator's slip would crash the check instead of naming
//! the line). What is needed here is a hundred lines: every entry with its
//! flags, notes (`#.`) and references (`#:`), and the line of the first
//! thing that is not PO.

use std::path::Path;

/// One entry of a PO file.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Entry {
    pub context: Option<String>,
    pub id: String,
    /// `msgstr` (the first form, for a plural entry).
    pub translation: String,
    pub plural: bool,
    pub fuzzy: bool,
    /// Kept by msgmerge as `#~` when the template lost it.
    pub obsolete: bool,
    /// The extracted comments (`#.`): where the English comes from.
    pub notes: Vec<String>,
    /// The references (`#:`): where the English is, one per reference.
    pub references: Vec<String>,
}

impl Entry {
    /// Whether its translation is shown: translated, not fuzzy, not obsolete.
    pub fn usable(&self) -> bool {
        !self.translation.is_empty() && !self.fuzzy && !self.obsolete && !self.id.is_empty()
    }
}

/// The entries of the PO file at `path`.
pub fn read(path: &Path) -> anyhow::Result<Vec<Entry>> {
    let text =
        std::fs::read_to_string(path).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
    parse(&text).map_err(|why| anyhow::anyhow!("{}: {why}", path.display()))
}

/// The entries of a PO file, its header (msgid "") included, or the first
/// line that is not PO.
pub fn parse(text: &str) -> std::result::Result<Vec<Entry>, String> {
    #[derive(PartialEq)]
    enum Field {
        None,
        Context,
        Id,
        Plural,
        Str,
        Other,
    }
    let mut entries = Vec::new();
    let mut entry = Entry::default();
    let mut field = Field::None;
    let mut flush = |entry: &mut Entry, field: &mut Field| {
        if *field != Field::None {
            entries.push(std::mem::take(entry));
        } else {
            // Comments with no msgid after them (a file's first lines).
            *entry = Entry::default();
        }
        *field = Field::None;
    };
    for (n, raw) in text.lines().enumerate() {
        let bad = |why: &str| format!("line {}: {why}", n + 1);
        let mut line = raw.trim();
        let obsolete = line.starts_with("#~");
        if obsolete {
            line = line[2..].trim_start();
            if line.starts_with('|') {
                continue;
            }
        }
        if line.is_empty() {
            if !obsolete {
                flush(&mut entry, &mut field);
            }
            continue;
        }
        if line.starts_with('#') {
            // A comment after a msgstr starts the next entry.
            if matches!(field, Field::Str | Field::Other) {
                flush(&mut entry, &mut field);
            }
            if let Some(flags) = line.strip_prefix("#,") {
                entry.fuzzy |= flags.split(',').any(|f| f.trim() == "fuzzy");
            } else if let Some(note) = line.strip_prefix("#.") {
                entry.notes.push(note.trim().to_string());
            } else if let Some(references) = line.strip_prefix("#:") {
                let references = references.split_whitespace().map(String::from);
                entry.references.extend(references);
            }
            continue;
        }
        let (keyword, quoted) = match line.starts_with('"') {
            true => (None, line),
            false => match line.split_once(char::is_whitespace) {
                Some((keyword, quoted)) => (Some(keyword), quoted.trim()),
                None => return Err(bad("a keyword without its string")),
            },
        };
        let value = unquote(quoted).map_err(|why| bad(&why))?;
        if obsolete {
            entry.obsolete = true;
        }
        match keyword {
            None => match field {
                Field::Context => entry.context.get_or_insert_default().push_str(&value),
                Field::Id => entry.id.push_str(&value),
                Field::Str => entry.translation.push_str(&value),
                Field::Plural | Field::Other => {}
                Field::None => return Err(bad("a string with no keyword before it")),
            },
            Some(keyword) => {
                let next = match keyword {
                    "msgctxt" => Field::Context,
                    "msgid" => Field::Id,
                    "msgid_plural" => Field::Plural,
                    "msgstr" | "msgstr[0]" => Field::Str,
                    k if k.starts_with("msgstr[") && k.ends_with(']') => Field::Other,
                    k => return Err(bad(&format!("unknown keyword {k}"))),
                };
                // A msgctxt or msgid after a msgstr starts the next entry.
                if matches!(next, Field::Context | Field::Id)
                    && matches!(field, Field::Str | Field::Other)
                {
                    flush(&mut entry, &mut field);
                    entry.obsolete = obsolete;
                }
                match next {
                    Field::Context => entry.context = Some(value),
                    Field::Id => entry.id = value,
                    Field::Plural => entry.plural = true,
                    Field::Str => entry.translation = value,
                    _ => {}
                }
                field = next;
            }
        }
    }
    flush(&mut entry, &mut field);
    Ok(entries)
}

/// The text of a PO string: `"..."` with C escapes.
pub fn unquote(quoted: &str) -> std::result::Result<String, String> {
    let inner = quoted
        .strip_prefix('"')
        .and_then(|s| s.strip_suffix('"'))
        .filter(|_| quoted.len() >= 2)
        .ok_or_else(|| format!("not a quoted string: {quoted}"))?;
    let mut out = String::with_capacity(inner.len());
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => out.push(match chars.next() {
                Some('n') => '\n',
                Some('t') => '\t',
                Some('r') => '\r',
                Some('"') => '"',
                Some('\\') => '\\',
                Some('a') => '\x07',
                Some('b') => '\x08',
                Some('f') => '\x0c',
                Some('v') => '\x0b',
                other => return Err(format!("unknown escape \\{}", other.unwrap_or(' '))),
            }),
            '"' => return Err(format!("an unescaped quote in {quoted}")),
            c => out.push(c),
        }
    }
    Ok(out)
}

/// `text` as a PO string.
pub fn quote(text: &str) -> String {
    let mut out = String::from("\"");
    for c in text.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn po_files_are_read_as_gettext_writes_them() {
        let po = r#"# translator's comment
msgid ""
msgstr ""
"Language: fr\n"

#. course.toml: step sem, hint 1 of 3
msgid "one \"two\"\tthree\\"
msgstr "un « deux »\tTrois\\"

#, fuzzy
#| msgid "old"
msgid ""
"long "
"text"
msgstr "texte long"

msgctxt "here"
msgid "x"
msgstr ""

#~ msgid "gone"
#~ msgstr "parti"
"#;
        let entries = parse(po).unwrap();
        assert_eq!(entries.len(), 5);
        assert_eq!(entries[0].id, "");
        assert_eq!(entries[0].translation, "Language: fr\n");
        assert_eq!(entries[1].id, "one \"two\"\tthree\\");
        assert_eq!(entries[1].translation, "un « deux »\tTrois\\");
        assert_eq!(entries[1].notes, ["course.toml: step sem, hint 1 of 3"]);
        assert!(entries[1].usable());
        assert_eq!(entries[2].id, "long text");
        assert!(entries[2].fuzzy && !entries[2].usable());
        assert_eq!(entries[3].context.as_deref(), Some("here"));
        assert!(!entries[3].usable());
        assert!(entries[4].obsolete && !entries[4].usable());
        assert_eq!(entries[4].id, "gone");
        for bad in [
            "\"orphan\"\n",
            "msgid\n",
            "msgid \"open\n",
            "msgid \"a\\q\"\n",
        ] {
            assert!(parse(bad).is_err(), "{bad}");
        }
        assert_eq!(quote("a\"b\\c\nd"), r#""a\"b\\c\nd""#);
        assert_eq!(unquote(&quote("a\"b\\c\nd\te")).unwrap(), "a\"b\\c\nd\te");
    }

    #[test]
    fn references_are_kept_one_by_one() {
        let entries =
            parse("#: src/a.md src/b.md\n#: src/c.md\nmsgid \"a\"\nmsgstr \"\"\n").unwrap();
        assert_eq!(entries[0].references, ["src/a.md", "src/b.md", "src/c.md"]);
    }
}
